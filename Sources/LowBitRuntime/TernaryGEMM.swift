import CLowBitRuntimeKernels
import LowBitTensor

/// Ternary matrix product with fine-grained group scales (FGQ): weights `alpha[j][g] * t[j][k]`,
/// `t` in {-1, 0, +1}, one float scale per group of `groupSize` consecutive inputs (the last group
/// may be short).
///
/// Group sums are exact int32 (vpmaddubsw of activation bytes and t bytes) and each group costs
/// one float multiply-add. Activations: `uint8`/`int8` with scale and zero point, or binary sign
/// bits, which run through the same kernel as 0/1 bytes (`x = 1 - 2 * bit`), measured faster than
/// bit-plane popcounts (docs/RUNTIME.md, "Ternary GEMM"). `groupSize` is a multiple of 4. Weights
/// can come as values in {-1, 0, 1} or as the two bit-planes of the deployed format.
///
/// ```swift
/// let gemm = try TernaryGEMM(values: t, scales: alpha, outputCount: 64, inputCount: 256, groupSize: 4)
/// let y = try gemm.multiply(uint8: x, rows: 8, inputScale: 0.02, inputZeroPoint: 128)
/// // y[m * 64 + j] = sum_g alpha[j][g] * sum_{k in g} t[j][k] * 0.02 * (x[m][k] - 128)
/// ```
public struct TernaryGEMM: Sendable {
    public let outputCount: Int
    public let inputCount: Int
    public let groupSize: Int
    /// Scales, `[outputCount][groupCount]`.
    public let scales: [Float]
    /// Per output, sum_g alpha[j][g] * (sum of t over group g), in double precision rounded once.
    public let scaledValueSums: [Float]
    private let packedValues: [Int8]
    private let packedScales: [Float]

    public var groupCount: Int { (inputCount + groupSize - 1) / groupSize }

    /// Checks ternary `values` `[outputCount][inputCount]` and a group size (a positive multiple of 4);
    /// returns the number of groups per output. Shared by ``TernarySignGEMM``.
    static func checkedGroupCount(values: [Int8], outputCount: Int, inputCount: Int, groupSize: Int) throws -> Int {
        guard groupSize >= 4, groupSize % 4 == 0 else {
            throw LowBitError.invalidArgument("ternary group size \(groupSize) must be a positive multiple of 4")
        }
        guard outputCount >= 1, inputCount >= 1, values.count == outputCount * inputCount else {
            throw LowBitError.shapeMismatch("\(values.count) ternary values for \(outputCount) x \(inputCount)")
        }
        guard values.allSatisfy({ (-1...1).contains($0) }) else {
            throw LowBitError.invalidArgument("ternary values must be -1, 0 or 1")
        }
        return (inputCount + groupSize - 1) / groupSize
    }

    /// `values` row-major `[outputCount][inputCount]` in {-1, 0, 1}; `scales` `[outputCount][groupCount]`.
    public init(values: [Int8], scales: [Float], outputCount: Int, inputCount: Int, groupSize: Int) throws {
        let groups = try Self.checkedGroupCount(values: values, outputCount: outputCount, inputCount: inputCount, groupSize: groupSize)
        guard scales.count == outputCount * groups else {
            throw LowBitError.shapeMismatch("\(scales.count) scales for \(outputCount) outputs x \(groups) groups of \(groupSize)")
        }
        try Tensor(shape: [scales.count], data: scales).checkFinite("ternary group scales")
        self.outputCount = outputCount
        self.inputCount = inputCount
        self.groupSize = groupSize
        self.scales = scales
        var sums = [Double](repeating: 0, count: outputCount)
        for j in 0..<outputCount {
            for k in 0..<inputCount { sums[j] += Double(scales[j * groups + k / groupSize]) * Double(values[j * inputCount + k]) }
        }
        scaledValueSums = sums.map(Float.init)
        var packedValues = [Int8](repeating: 0, count: lbr_tgemm_packed_weight_bytes(outputCount, inputCount))
        var packedScales = [Float](repeating: 0, count: lbr_tgemm_packed_scale_count(outputCount, inputCount, groupSize))
        lbr_tgemm_pack_weights(values, inputCount, scales, groups, outputCount, inputCount, groupSize, &packedValues, &packedScales)
        self.packedValues = packedValues
        self.packedScales = packedScales
    }

    /// From the deployed bit-planes: `plus` has bit 1 where t = +1, `minus` where t = -1 (rows are
    /// outputs, columns inputs; the planes must not overlap).
    public init(plus: PackedBits, minus: PackedBits, scales: [Float], groupSize: Int) throws {
        try self.init(values: Self.values(plus: plus, minus: minus), scales: scales, outputCount: plus.rows, inputCount: plus.columns,
                      groupSize: groupSize)
    }

    /// The values in {-1, 0, 1} of the two bit-planes, row-major `[rows][columns]`.
    static func values(plus: PackedBits, minus: PackedBits) throws -> [Int8] {
        guard plus.rows == minus.rows, plus.columns == minus.columns else {
            throw LowBitError.shapeMismatch("bit-planes of \(plus.rows) x \(plus.columns) and \(minus.rows) x \(minus.columns)")
        }
        var values = [Int8](repeating: 0, count: plus.rows * plus.columns)
        for j in 0..<plus.rows {
            for k in 0..<plus.columns {
                let (positive, negative) = (plus.bit(row: j, column: k), minus.bit(row: j, column: k))
                guard !(positive && negative) else {
                    throw LowBitError.invalidArgument("weight (\(j), \(k)) is set in both the plus and the minus plane")
                }
                values[j * plus.columns + k] = positive ? 1 : negative ? -1 : 0
            }
        }
        return values
    }

    /// uint8 activations `[rows][inputCount]` meaning `inputScale * (x - inputZeroPoint)`; returns
    /// `[rows][outputCount]` floats, plus `bias` when given.
    public func multiply(uint8 input: [UInt8], rows: Int, inputScale: Float, inputZeroPoint: Int32,
                         bias: [Float]? = nil, path: KernelPath = .best) throws -> [Float] {
        try multiplyBytes(input, rows: rows, offset: Double(inputZeroPoint), inputScale: inputScale, bias: bias, path: path)
    }

    /// A convolution over uint8 NHWC codes `[batch][H][W][C]` (zero point 0) whose patches are read in
    /// place (`IntegerPatches.padded` + `lbr_tgemm_u8_patches`): ``multiply(uint8:rows:inputScale:inputZeroPoint:bias:path:)``
    /// on the im2col rows, bit for bit, without writing them.
    func multiplyPatches(uint8 codes: [UInt8], shape: Conv2DShape, batch: Int, inputScale: Float, bias: [Float]? = nil,
                         path: KernelPath = .best) throws -> [Float] {
        guard codes.count == batch * shape.inputHeight * shape.inputWidth * shape.inputChannels, shape.weightsPerOutput == inputCount else {
            throw LowBitError.shapeMismatch("\(codes.count) codes for \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels) into a GEMM of \(inputCount) inputs")
        }
        guard bias == nil || bias!.count == outputCount else {
            throw LowBitError.shapeMismatch("\(bias!.count) biases for \(outputCount) outputs")
        }
        let (padded, geometry) = IntegerPatches.padded(codes, shape: shape, batch: batch)
        let rows = batch * shape.outputHeight * shape.outputWidth, (n, k, group) = (outputCount, inputCount, groupSize)
        let correction = [Float](repeating: 0, count: n), bias = bias ?? [Float](repeating: 0, count: n)
        var out = [Float](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }
        if out.isEmpty { return out }
        out.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            withUnsafePointer(to: geometry) { g in   // one shared read-only pointer for every chunk
                Parallel.forChunks(rows, work: rows * n * k / 16, grain: .fine) { range in
                    lbr_tgemm_u8_patches(path.isa, padded, g, range.lowerBound, range.upperBound, packedValues, packedScales, n, group,
                                         inputScale, correction, bias, o, n)
                }
            }
        }
        return out
    }

    /// int8 activations meaning `inputScale * (x - inputZeroPoint)`. They run as `x + 128` through the
    /// unsigned kernel, with the offset `128 + inputZeroPoint` folded into the correction.
    public func multiply(int8 input: [Int8], rows: Int, inputScale: Float, inputZeroPoint: Int32,
                         bias: [Float]? = nil, path: KernelPath = .best) throws -> [Float] {
        try multiplyBytes(input.map { UInt8(bitPattern: $0) ^ 0x80 }, rows: rows, offset: 128 + Double(inputZeroPoint),
                          inputScale: inputScale, bias: bias, path: path)
    }

    /// Binary activations (`input.columns == inputCount`): `y[m][j] = sum_g alpha[j][g] * sum_{k in g} t[j][k] * x[m][k]`
    /// with `x = ±1`, computed as `scaledValueSums[j] - 2 * sum_g alpha * sum t * bit` on the 0/1 bytes.
    public func multiply(signs input: PackedBits, path: KernelPath = .best) throws -> [Float] {
        guard input.columns == inputCount else {
            throw LowBitError.shapeMismatch("input rows of \(input.columns) bits; the weights take \(inputCount)")
        }
        var bytes = [UInt8](repeating: 0, count: input.rows * inputCount)
        if bytes.isEmpty { return [] }
        lbr_unpack_bits_u8(path.isa, input.words, input.rows, inputCount, input.wordsPerRow, &bytes, inputCount)
        return run(bytes, rows: input.rows, inputScale: -2, correction: [Float](repeating: 0, count: outputCount),
                       bias: scaledValueSums, path: path)
    }

    private func multiplyBytes(_ input: [UInt8], rows: Int, offset: Double, inputScale: Float, bias: [Float]?,
                               path: KernelPath) throws -> [Float] {
        guard rows >= 0, input.count == rows * inputCount else {
            throw LowBitError.shapeMismatch("\(input.count) activations for \(rows) rows of \(inputCount)")
        }
        guard bias == nil || bias!.count == outputCount else {
            throw LowBitError.shapeMismatch("\(bias!.count) biases for \(outputCount) outputs")
        }
        return run(input, rows: rows, inputScale: inputScale, correction: scaledValueSums.map { Float(offset * Double($0)) },
                       bias: bias ?? [Float](repeating: 0, count: outputCount), path: path)
    }

    /// The kernel over unsigned bytes, rows split across threads.
    private func run(_ input: [UInt8], rows: Int, inputScale: Float, correction: [Float], bias: [Float],
                     path: KernelPath) -> [Float] {
        var out = [Float](repeating: 0, count: rows * outputCount)
        if out.isEmpty { return out }
        let (n, k, group) = (outputCount, inputCount, groupSize)
        out.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            Parallel.forChunks(rows, work: rows * n * k / 16, grain: .fine) { range in
                lbr_tgemm_u8(path.isa, input, k, range.lowerBound, range.upperBound, packedValues, packedScales, n, k, group,
                             inputScale, correction, bias, o, n)
            }
        }
        return out
    }
}
