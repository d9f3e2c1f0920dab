import LowBitTensor

/// Fixed point Q(I).(F) with a sign bit: two's complement numbers of 1 + I + F bits (1...32),
/// F of them fractional.
///
/// q = clamp(round(w * 2^F), -2^(I+F), 2^(I+F) - 1), y = q / 2^F, round half to even. The
/// representable range is [-2^I, 2^I - 2^-F] in steps of 2^-F. Multiplying by 2^F is exact, so
/// the only rounding is the one to an integer (and, above 24 significant bits, the final float32).
///
/// Straight-through gradient: dL/dw = dL/dy where the clamp did not bind (round(w * 2^F) within
/// the code range), 0 outside.
///
/// ```swift
/// let q = try FixedPointQuantizer(intBits: 1, fracBits: 2)   // 4 bits: -2, -1.75, ..., 1.75
/// let y = try q.quantize(Tensor(shape: [4], data: [0.375, 0.625, -3, 1.8]))
/// // 1.5 -> 2, 2.5 -> 2 (half to even), clamp -8 and 7: y == [0.5, 0.5, -2, 1.75]
/// ```
public final class FixedPointQuantizer: Quantizer {
    public let intBits: Int
    public let fracBits: Int

    public init(intBits: Int, fracBits: Int) throws {
        guard intBits >= 0, fracBits >= 0, 1 + intBits + fracBits <= 32 else {
            throw LowBitError.invalidArgument(
                "fixed point Q\(intBits).\(fracBits) needs intBits >= 0, fracBits >= 0 and 1 + intBits + fracBits <= 32")
        }
        self.intBits = intBits
        self.fracBits = fracBits
    }

    public var spec: QuantizerSpec { QuantizerSpec(scheme: "fixed", intBits: intBits, fracBits: fracBits) }

    public var bitWidth: Int { 1 + intBits + fracBits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("fixed point quantizer input")
        return fixedPointFakeQuantize(x, grid: fixedPointGrid(totalBits: bitWidth, fracBits: fracBits))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        fixedPointGradient(x, gradOutput: gradOutput, grid: fixedPointGrid(totalBits: bitWidth, fracBits: fracBits))
    }
}

/// Dynamic fixed point (Ristretto-style): k-bit two's complement codes with one fraction length F
/// shared by the whole tensor, chosen as the largest F with max|w| * 2^F <= 2^(k-1) - 1, so that
/// the largest magnitude fits without saturating; then y = fixed point with k bits and F fraction
/// bits (the integer bit count k - 1 - F may be negative). F is kept in -127...149 so that 2^-F
/// is a finite non-zero float; an all-zero tensor uses F = 0 and stays zero.
///
/// Straight-through gradient: as ``FixedPointQuantizer`` (nothing binds with F from the data).
/// Idempotent: outputs lie on the 2^-F grid and their maximum still fits.
///
/// ```swift
/// let q = try DynamicFixedPointQuantizer(bits: 8)
/// let y = try q.quantize(Tensor(shape: [2], data: [3, 0.1]))
/// // 3 * 2^5 = 96 <= 127 < 3 * 2^6: F = 5, y == [3, 0.09375]
/// ```
public final class DynamicFixedPointQuantizer: Quantizer {
    public let bits: Int

    public init(bits: Int) throws {
        try requireBits(bits, in: 2...32, scheme: "dynamic-fixed")
        self.bits = bits
    }

    public var spec: QuantizerSpec { QuantizerSpec(scheme: "dynamic-fixed", bits: bits) }

    public var bitWidth: Int { bits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("dynamic fixed point quantizer input")
        return fixedPointFakeQuantize(x, grid: grid(for: x))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        fixedPointGradient(x, gradOutput: gradOutput, grid: grid(for: x))
    }

    private func grid(for x: Tensor) -> UniformGrid {
        let maxAbs = x.data.reduce(Float(0)) { max($0, abs($1)) }
        return fixedPointGrid(totalBits: bits, fracBits: dynamicFixedPointFractionBits(maxMagnitude: maxAbs, bits: bits))
    }
}

/// Fixed point codes of `values`: q = clamp(round_half_even(w * 2^fracBits), -2^(n-1), 2^(n-1) - 1)
/// with n = `totalBits` (1...32); `fracBits` may be any value in -127...149 (negative for dynamic
/// fixed point of large tensors). Dequantize as q / 2^fracBits (``fixedPointDequantize(codes:fracBits:)``).
///
/// ```swift
/// try fixedPointQuantize(weights: [0.375, -3], totalBits: 4, fracBits: 2)   // [2, -8]
/// ```
public func fixedPointQuantize(weights: [Float], totalBits: Int, fracBits: Int) throws -> [Int32] {
    try requireBits(totalBits, in: 1...32, scheme: "fixed point")
    guard (-127...149).contains(fracBits) else {
        throw LowBitError.invalidArgument("fixed point fracBits must be in -127...149, got \(fracBits)")
    }
    try requireFinite(weights, "weights")
    let grid = fixedPointGrid(totalBits: totalBits, fracBits: fracBits)
    return weights.map { Int32(grid.code($0, round: nearestEven)) }
}

/// q / 2^fracBits as float32.
public func fixedPointDequantize(codes: [Int32], fracBits: Int) -> [Float] {
    let scale = Float(sign: .plus, exponent: -fracBits, significand: 1)
    return codes.map { Float($0) * scale }
}

/// The fraction length F of dynamic fixed point: the largest F in -127...149 with
/// maxMagnitude * 2^F <= 2^(bits-1) - 1 (0 for a zero magnitude). Exact: the products are
/// powers-of-two scalings in double precision.
///
/// ```swift
/// dynamicFixedPointFractionBits(maxMagnitude: 3, bits: 8)   // 5: 96 <= 127 < 192
/// ```
public func dynamicFixedPointFractionBits(maxMagnitude: Float, bits: Int) -> Int {
    guard maxMagnitude > 0, bits >= 2 else { return 0 }
    let qmax = Double((Int64(1) << (bits - 1)) - 1)
    let magnitude = Double(maxMagnitude)
    // Start from the exponents, then step to the exact answer (at most a step or two).
    var fracBits = Int(qmax.exponent) - Int(magnitude.exponent)
    while fracBits > -127, magnitude * pow2(fracBits) > qmax { fracBits -= 1 }
    while fracBits < 149, magnitude * pow2(fracBits + 1) <= qmax { fracBits += 1 }
    return min(max(fracBits, -127), 149)
}

private func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

/// The grid of n-bit two's complement codes with step 2^-F.
func fixedPointGrid(totalBits: Int, fracBits: Int) -> UniformGrid {
    let half = Int64(1) << (totalBits - 1)
    return UniformGrid(scale: Float(sign: .plus, exponent: -fracBits, significand: 1),
                       zeroPoint: 0, qmin: -half, qmax: half - 1)
}

private func fixedPointFakeQuantize(_ x: Tensor, grid: UniformGrid) -> Tensor {
    Tensor(shape: x.shape, data: x.data.map { grid.value(ofCode: grid.code($0, round: nearestEven)) })
}

private func fixedPointGradient(_ x: Tensor, gradOutput: Tensor, grid: UniformGrid) -> Tensor {
    maskedGradient(gradOutput, shape: x.shape) { grid.passesGradient(x.data[$0]) }
}
