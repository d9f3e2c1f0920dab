import LowBitTensor

/// Power-of-two (logarithmic) weights: y = sign(w) * 2^e, so a multiplication becomes a shift.
///
/// With b bits (b = 2...8): one sign bit and b - 1 bits of exponent code, code 0 meaning zero, so
/// E = 2^(b-1) - 1 exponents. Per block (tensor, channel or group):
/// - e(a) = round(log2 a), computed exactly: a = m * 2^x with m in [1, 2), e = x + (m^2 >= 2 ? 1 : 0)
///   (log2 a is never exactly x + 1/2 for a float a, so there are no ties);
/// - eMax = e(max|w|), eMin = eMax - E + 1: the window of exponents;
/// - y = sign(w) * 2^e(|w|) if e(|w|) >= eMin, else 0 (w = 0 gives 0).
/// eMax is capped at 127 so that 2^eMax is a finite float.
///
/// Straight-through gradient: identity (nothing is clipped at the top, since the window is
/// placed at the block's largest magnitude). Idempotent: every output is already in the window.
///
/// ```swift
/// let q = try PowerOfTwoQuantizer(bits: 3)   // E = 3 exponents: {2^-2, 2^-1, 2^0} for max|w| = 1
/// let y = try q.quantize(Tensor(shape: [4], data: [1, -0.3, 0.05, 0.7]))
/// // y == [1, -0.25, 0, 0.5]
/// ```
public final class PowerOfTwoQuantizer: Quantizer {
    public let bits: Int
    public let granularity: QuantizationGranularity

    public init(bits: Int, granularity: QuantizationGranularity = .tensor) throws {
        try requireBits(bits, in: 2...8, scheme: "pow2")
        try granularity.validate()
        self.bits = bits
        self.granularity = granularity
    }

    public var spec: QuantizerSpec {
        let fields = granularity.specFields
        return QuantizerSpec(scheme: "pow2", bits: bits, granularity: fields.granularity, groupSize: fields.groupSize)
    }

    public var bitWidth: Int { bits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("power-of-two quantizer input")
        let layout = granularity.layout(forShape: x.shape)
        let (codes, maxExponents) = powerOfTwoCodes(x.data, layout: layout, bits: bits)
        return Tensor(shape: x.shape, data: powerOfTwoValues(codes, maxExponents: maxExponents, bits: bits, layout: layout))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { _ in true }
    }
}

/// Power-of-two quantization of a weight array into what a packed format stores: per weight a
/// code c = sign(w) * (e - eMin + 1) in -E...E (0 = zero), per block its eMax. Dequantize with
/// ``powerOfTwoDequantize(codes:maxExponents:bits:rowLength:groupSize:)``.
///
/// ```swift
/// let r = try powerOfTwoQuantize(weights: [1, -0.3, 0.05, 0.7], rowLength: 4, groupSize: 4, bits: 3)
/// // r.codes == [3, -1, 0, 2], r.maxExponents == [0]
/// ```
public func powerOfTwoQuantize(weights: [Float], rowLength: Int, groupSize: Int, bits: Int)
    throws -> (codes: [Int8], maxExponents: [Int]) {
    try requireBits(bits, in: 2...8, scheme: "pow2")
    try requireFinite(weights, "weights")
    let layout = try BlockLayout(count: weights.count, rowLength: rowLength, groupSize: groupSize)
    return powerOfTwoCodes(weights, layout: layout, bits: bits)
}

/// y = sign(c) * 2^(eMax - E + |c|) for c != 0, 0 for c == 0, with the eMax of each code's block.
public func powerOfTwoDequantize(codes: [Int8], maxExponents: [Int], bits: Int, rowLength: Int, groupSize: Int)
    throws -> [Float] {
    try requireBits(bits, in: 2...8, scheme: "pow2")
    let layout = try BlockLayout(count: codes.count, rowLength: rowLength, groupSize: groupSize)
    guard maxExponents.count == layout.blockCount else {
        throw LowBitError.shapeMismatch("\(layout.blockCount) blocks need as many exponents, got \(maxExponents.count)")
    }
    return powerOfTwoValues(codes, maxExponents: maxExponents, bits: bits, layout: layout)
}

/// round(log2 a) for a finite a > 0, without calling log2: compare the significand with sqrt(2)
/// through m^2 >= 2, exact in double precision.
func roundedLog2(_ a: Float) -> Int {
    let m = Double(a.significand)
    return Int(a.exponent) + (m * m >= 2 ? 1 : 0)
}

private func exponentCount(bits: Int) -> Int { (1 << (bits - 1)) - 1 }

private func powerOfTwoCodes(_ weights: [Float], layout: BlockLayout, bits: Int) -> (codes: [Int8], maxExponents: [Int]) {
    let count = exponentCount(bits: bits)
    var codes = [Int8](repeating: 0, count: weights.count)
    var maxExponents = [Int]()
    maxExponents.reserveCapacity(layout.blockCount)
    for range in layout.blocks {
        let maxAbs = weights[range].reduce(Float(0)) { max($0, abs($1)) }
        // An all-zero block has no exponent; its codes stay 0 whatever eMax says.
        let eMax = maxAbs > 0 ? min(roundedLog2(maxAbs), 127) : 0
        let eMin = eMax - count + 1
        for i in range where weights[i] != 0 {
            let e = min(roundedLog2(abs(weights[i])), eMax)
            if e >= eMin { codes[i] = Int8(weights[i] > 0 ? e - eMin + 1 : -(e - eMin + 1)) }
        }
        maxExponents.append(eMax)
    }
    return (codes, maxExponents)
}

private func powerOfTwoValues(_ codes: [Int8], maxExponents: [Int], bits: Int, layout: BlockLayout) -> [Float] {
    let count = exponentCount(bits: bits)
    return codes.indices.map { i in
        let code = Int(codes[i])
        guard code != 0 else { return 0 }
        let e = maxExponents[layout.blockIndex(ofElement: i)] - count + abs(code)
        return Float(sign: code < 0 ? .minus : .plus, exponent: e, significand: 1)
    }
}
