import CLowBitRuntimeKernels
import LowBitTensor

/// Ternary weights times binary (sign-bit) activations, with group scales stored as 7-bit integer
/// codes: weights `units[j] * scaleCodes[j][g] * t[j][k]`, `t` in {-1, 0, +1}, one code in 0...127
/// per group of `groupSize` consecutive inputs (a multiple of 4), one float unit per output.
///
/// Integer codes are what make this path fast: the whole sum over groups is one exact int32
/// (popcounts of the -1 products per 4 inputs, multiplied by their codes with `vpmaddubsw`), with
/// no float conversion or multiply per group as ``TernaryGEMM`` needs for float scales
/// (docs/RUNTIME.md, "Ternary weights x sign bits"). Float FGQ scales encode with
/// ``encode(scales:groupCount:)``: each scale moves by at most half a unit, 1/254 of its row's
/// largest scale.
///
/// ```swift
/// let gemm = try TernarySignGEMM(values: t, scales: alpha, outputCount: 64, inputCount: 256, groupSize: 4)
/// let y = try gemm.multiply(signs: PackedBits(packing: x, rows: 8, columns: 256))
/// // y[m * 64 + j] = sum_g gemm.scales[j * 64 + g] * sum_{k in g} t[j][k] * sign(x[m][k])
/// ```
public struct TernarySignGEMM: Sendable {
    public let outputCount: Int
    public let inputCount: Int
    public let groupSize: Int
    /// Codes in 0...127, `[outputCount][groupCount]`.
    public let scaleCodes: [UInt8]
    /// One float per output; a group's scale is `unit * code`.
    public let units: [Float]
    private let packed: [UInt8]
    private let nonzeroSums: [Int32]

    public var groupCount: Int { (inputCount + groupSize - 1) / groupSize }

    /// The scales the codes stand for, `units[j] * scaleCodes[j][g]`.
    public var scales: [Float] {
        let groups = groupCount
        return scaleCodes.indices.map { units[$0 / groups] * Float(scaleCodes[$0]) }
    }

    /// `values` row-major `[outputCount][inputCount]` in {-1, 0, 1}; `scaleCodes` `[outputCount][groupCount]`
    /// in 0...127; `units` one per output.
    public init(values: [Int8], scaleCodes: [UInt8], units: [Float], outputCount: Int, inputCount: Int, groupSize: Int) throws {
        let groups = try TernaryGEMM.checkedGroupCount(values: values, outputCount: outputCount, inputCount: inputCount,
                                                       groupSize: groupSize)
        guard scaleCodes.count == outputCount * groups, units.count == outputCount else {
            throw LowBitError.shapeMismatch("\(scaleCodes.count) scale codes and \(units.count) units for \(outputCount) outputs x \(groups) groups of \(groupSize)")
        }
        if let code = scaleCodes.first(where: { $0 > 127 }) {
            throw LowBitError.invalidArgument("ternary scale code \(code) is outside 0...127")
        }
        try Tensor(shape: [units.count], data: units).checkFinite("ternary scale units")
        self.outputCount = outputCount
        self.inputCount = inputCount
        self.groupSize = groupSize
        self.scaleCodes = scaleCodes
        self.units = units
        var packed = [UInt8](repeating: 0, count: lbr_tsgemm_packed_bytes(outputCount, inputCount))
        var sums = [Int32](repeating: 0, count: outputCount)
        lbr_tsgemm_pack(values, inputCount, scaleCodes, groups, outputCount, inputCount, groupSize, &packed, &sums)
        self.packed = packed
        self.nonzeroSums = sums
    }

    /// Float group scales `[outputCount][groupCount]`, encoded by ``encode(scales:groupCount:)``.
    public init(values: [Int8], scales: [Float], outputCount: Int, inputCount: Int, groupSize: Int) throws {
        guard groupSize >= 4, groupSize % 4 == 0 else {
            throw LowBitError.invalidArgument("ternary group size \(groupSize) must be a positive multiple of 4")
        }
        let groups = (inputCount + groupSize - 1) / groupSize
        guard outputCount >= 1, inputCount >= 1, scales.count == outputCount * groups else {
            throw LowBitError.shapeMismatch("\(scales.count) scales for \(outputCount) outputs x \(groups) groups of \(groupSize)")
        }
        let (codes, units) = try Self.encode(scales: scales, groupCount: groups)
        try self.init(values: values, scaleCodes: codes, units: units, outputCount: outputCount, inputCount: inputCount,
                      groupSize: groupSize)
    }

    /// Whether a ternary convolution with `groupSize`-weight groups along its OHWI rows can run on
    /// sign-bit inputs (``TernarySignGEMM`` on im2col rows takes one scale code per 4 bits, so 4
    /// consecutive channels of a tap must share a group); nil when it can, else why not.
    public static func signInputProblem(inputChannels: Int, kernelTaps: Int, groupSize: Int) -> String? {
        TernarySignOperation.nibbleGroups(channels: inputChannels, taps: kernelTaps, groupSize: groupSize) == nil
            ? TernarySignOperation.alignmentProblem(channels: inputChannels, groupSize: groupSize) : nil
    }

    /// Encodes each row of float group scales `[rows][groupCount]` as `unit * code`, code in 0...127:
    /// `unit` is the row's largest magnitude / 127, signed like the row (all of a row's scales must
    /// share one sign, as FGQ scales times a BatchNorm factor do), and `code = round(scale / unit)`,
    /// so every scale moves by at most `|unit| / 2`. A row of zeros gets unit 0.
    public static func encode(scales: [Float], groupCount: Int) throws -> (codes: [UInt8], units: [Float]) {
        guard groupCount >= 1, scales.count % groupCount == 0 else {
            throw LowBitError.shapeMismatch("\(scales.count) scales are not rows of \(groupCount) groups")
        }
        try Tensor(shape: [scales.count], data: scales).checkFinite("ternary group scales")
        var codes = [UInt8](repeating: 0, count: scales.count), units = [Float](repeating: 0, count: scales.count / groupCount)
        for j in units.indices {
            let row = scales[(j * groupCount)..<((j + 1) * groupCount)]
            guard row.allSatisfy({ $0 >= 0 }) || row.allSatisfy({ $0 <= 0 }) else {
                throw LowBitError.invalidArgument("ternary scales of output \(j) mix signs; 7-bit codes take one sign per output")
            }
            let largest = row.map(abs).max()!
            guard largest > 0 else { continue }
            let unit = (row.contains { $0 < 0 } ? -largest : largest) / 127
            units[j] = unit
            for g in row.indices { codes[g] = UInt8(min(127, max(0, (scales[g] / unit).rounded()))) }
        }
        return (codes, units)
    }

    /// The exact integers `sum_g scaleCodes[j][g] * sum_{k in g} t[j][k] * x[m][k]`, `x = -1` where the
    /// sign bit is set: `[input.rows][outputCount]`.
    public func dotProducts(signs input: PackedBits, path: KernelPath = .best) throws -> [Int32] {
        try check(input)
        var dots = [Int32](repeating: 0, count: input.rows * outputCount)
        dots.withUnsafeMutableBufferPointer { run(input, dots: $0.baseAddress, path: path) }
        return dots
    }

    /// `units[j] * dots + bias[j]`: `[input.rows][outputCount]` floats.
    public func multiply(signs input: PackedBits, bias: [Float]? = nil, path: KernelPath = .best) throws -> [Float] {
        try check(input)
        guard bias == nil || bias!.count == outputCount else {
            throw LowBitError.shapeMismatch("\(bias!.count) biases for \(outputCount) outputs")
        }
        var out = [Float](repeating: 0, count: input.rows * outputCount)
        out.withUnsafeMutableBufferPointer { run(input, floats: $0.baseAddress, bias: bias, path: path) }
        return out
    }

    private func check(_ input: PackedBits) throws {
        guard input.columns == inputCount else {
            throw LowBitError.shapeMismatch("input rows of \(input.columns) bits; the weights take \(inputCount)")
        }
    }

    /// `lbr_tsgemm` into `dots` (exact) or `floats` (`unit * D + bias`), rows split across threads
    /// (about 11 vector operations per 256 multiply-adds).
    private func run(_ input: PackedBits, dots: UnsafeMutablePointer<Int32>? = nil, floats: UnsafeMutablePointer<Float>? = nil,
                     bias: [Float]? = nil, path: KernelPath) {
        guard input.rows > 0 else { return }
        Parallel.forChunks(input.rows, work: input.rows * outputCount * inputCount / 64, grain: .fine) { range in
            lbr_tsgemm(path.isa, input.words, input.wordsPerRow, range.lowerBound, range.upperBound, packed, nonzeroSums, outputCount,
                       inputCount, dots, outputCount, units, bias, floats, outputCount)
        }
    }
}
