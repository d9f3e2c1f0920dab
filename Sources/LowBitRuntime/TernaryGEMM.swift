import CLowBitRuntimeKernels
import LowBitTensor

/// Ternary matrix product with fine-grained group scales (FGQ): weights `alpha[j][g] * t[j][k]`,
/// `t` in {-1, 0, +1}, one float scale per group of `groupSize` consecutive inputs (the last group
/// may be short).
///
/// Two activation kinds, each with its own weight layout built at construction:
/// - 8-bit (`uint8`/`int8` with scale and zero point): exact int32 group sums by vpmaddubsw, one
///   float multiply-add per group (`groupSize` a multiple of 4);
/// - binary sign bits: bit-plane popcounts `popcount(plus & x) - popcount(minus & x)` per group
///   (`groupSize` a power of two in 4...64 or a multiple of 64).
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
    /// The +1 positions, one row per output.
    public let plus: PackedBits
    /// The -1 positions.
    public let minus: PackedBits
    private let packedValues: [Int8]
    private let packedScales: [Float]

    public var groupCount: Int { (inputCount + groupSize - 1) / groupSize }

    /// Whether ``multiply(signs:path:)`` accepts this group size.
    public var supportsBinaryActivations: Bool {
        groupSize % 64 == 0 || (groupSize <= 64 && groupSize.nonzeroBitCount == 1)
    }

    /// `values` row-major `[outputCount][inputCount]` in {-1, 0, 1}; `scales` `[outputCount][groupCount]`.
    public init(values: [Int8], scales: [Float], outputCount: Int, inputCount: Int, groupSize: Int) throws {
        guard groupSize >= 4, groupSize % 4 == 0 else {
            throw LowBitError.invalidArgument("ternary group size \(groupSize) must be a positive multiple of 4")
        }
        guard outputCount >= 1, inputCount >= 1, values.count == outputCount * inputCount else {
            throw LowBitError.shapeMismatch("\(values.count) ternary values for \(outputCount) x \(inputCount)")
        }
        guard values.allSatisfy({ (-1...1).contains($0) }) else {
            throw LowBitError.invalidArgument("ternary values must be -1, 0 or 1")
        }
        let groups = (inputCount + groupSize - 1) / groupSize
        guard scales.count == outputCount * groups else {
            throw LowBitError.shapeMismatch("\(scales.count) scales for \(outputCount) outputs x \(groups) groups of \(groupSize)")
        }
        try Tensor(shape: [scales.count], data: scales).checkFinite("ternary group scales")
        self.outputCount = outputCount
        self.inputCount = inputCount
        self.groupSize = groupSize
        self.scales = scales
        plus = PackedBits(packing: values.map { $0 > 0 ? -1 : 1 }, rows: outputCount, columns: inputCount)
        minus = PackedBits(packing: values.map { $0 < 0 ? -1 : 1 }, rows: outputCount, columns: inputCount)
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

    /// uint8 activations `[rows][inputCount]` meaning `inputScale * (x - inputZeroPoint)`; returns
    /// `[rows][outputCount]` floats, plus `bias` when given.
    public func multiply(uint8 input: [UInt8], rows: Int, inputScale: Float, inputZeroPoint: Int32,
                         bias: [Float]? = nil, path: KernelPath = .best) throws -> [Float] {
        try multiplyBytes(input, rows: rows, offset: Double(inputZeroPoint), inputScale: inputScale, bias: bias, path: path)
    }

    /// int8 activations meaning `inputScale * (x - inputZeroPoint)`. They run as `x + 128` through the
    /// unsigned kernel, with the offset `128 + inputZeroPoint` folded into the correction.
    public func multiply(int8 input: [Int8], rows: Int, inputScale: Float, inputZeroPoint: Int32,
                         bias: [Float]? = nil, path: KernelPath = .best) throws -> [Float] {
        try multiplyBytes(input.map { UInt8(bitPattern: $0) ^ 0x80 }, rows: rows, offset: 128 + Double(inputZeroPoint),
                          inputScale: inputScale, bias: bias, path: path)
    }

    /// Binary activations (`input.columns == inputCount`): `y[m][j] = sum_g alpha[j][g] * sum_{k in g} t[j][k] * x[m][k]`
    /// with `x = ±1`.
    public func multiply(signs input: PackedBits, path: KernelPath = .best) throws -> [Float] {
        guard supportsBinaryActivations else {
            throw LowBitError.unsupported("binary activations with ternary group size \(groupSize): use a power of two up to 64 or a multiple of 64")
        }
        guard input.columns == inputCount, input.wordsPerRow == plus.wordsPerRow else {
            throw LowBitError.shapeMismatch("input rows of \(input.columns) bits; the weights take \(inputCount)")
        }
        var out = [Float](repeating: 0, count: input.rows * outputCount)
        let (n, k, group, groups, words) = (outputCount, inputCount, groupSize, groupCount, plus.wordsPerRow)
        out.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            Parallel.forChunks(input.rows, work: input.rows * n * k / 16) { range in
                lbr_tgemm_bits(path.isa, input.words, words, range.lowerBound, range.upperBound, plus.words, minus.words, words,
                               scales, groups, n, k, group, scaledValueSums, o, n)
            }
        }
        return out
    }

    private func multiplyBytes(_ input: [UInt8], rows: Int, offset: Double, inputScale: Float, bias: [Float]?,
                               path: KernelPath) throws -> [Float] {
        guard rows >= 0, input.count == rows * inputCount else {
            throw LowBitError.shapeMismatch("\(input.count) activations for \(rows) rows of \(inputCount)")
        }
        guard bias == nil || bias!.count == outputCount else {
            throw LowBitError.shapeMismatch("\(bias!.count) biases for \(outputCount) outputs")
        }
        let correction = scaledValueSums.map { Float(offset * Double($0)) }
        let bias = bias ?? [Float](repeating: 0, count: outputCount)
        var out = [Float](repeating: 0, count: rows * outputCount)
        let (n, k, group) = (outputCount, inputCount, groupSize)
        out.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            Parallel.forChunks(rows, work: rows * n * k / 16) { range in
                lbr_tgemm_u8(path.isa, input, k, range.lowerBound, range.upperBound, packedValues, packedScales, n, k, group,
                             inputScale, correction, bias, o, n)
            }
        }
        return out
    }
}
