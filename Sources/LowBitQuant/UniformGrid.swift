import LowBitTensor

/// How `x / scale` becomes an integer code.
///
/// ```swift
/// let q = try UniformQuantizer(bits: 4, rounding: .stochastic, seed: 7)
/// q.isTraining = true   // stochastic rounding applies only in training
/// ```
public enum RoundingRule: String, Sendable, CaseIterable {
    /// Round to nearest, ties to even (`x.rounded(.toNearestOrEven)`: 2.5 -> 2, 3.5 -> 4). Swift's
    /// plain `.rounded()` rounds ties away from zero and is never used for quantization here.
    case nearestEven = "nearest"
    /// floor(v + u) with u uniform in [0, 1): rounds up with probability frac(v), so the expected
    /// code is v (unbiased). Used in training only; inference always rounds to nearest even.
    case stochastic
}

/// An integer grid: value = (code - zeroPoint) * scale with code clamped to qmin...qmax.
///
/// Uniform k-bit, fixed point (scale 2^-F) and the activation quantizers all reduce to one of
/// these per block, so the rounding, clamping and straight-through mask live in one place.
struct UniformGrid {
    var scale: Float
    var zeroPoint: Int64
    var qmin: Int64
    var qmax: Int64

    /// round(x / scale) + zeroPoint before clamping. A zero scale maps everything to the zero
    /// point (so it dequantizes to 0). The float result is bounded first so that the conversion
    /// to an integer cannot trap on huge quotients.
    func unclampedCode(_ x: Float, round: (Float) -> Float) -> Int64 {
        guard scale > 0 else { return zeroPoint }
        let rounded = round(x / scale)
        let bounded = min(max(rounded, Float(qmin - zeroPoint) - 1), Float(qmax - zeroPoint) + 1)
        return Int64(bounded) + zeroPoint
    }

    func code(_ x: Float, round: (Float) -> Float) -> Int64 {
        min(max(unclampedCode(x, round: round), qmin), qmax)
    }

    func value(ofCode code: Int64) -> Float {
        Float(code - zeroPoint) * scale
    }

    /// Straight-through mask: the gradient passes where the clamp did not bind, i.e. where x lies
    /// within half a step of the representable range [(qmin - Z) s, (qmax - Z) s]. Deciding on the
    /// code (not on x against the dequantized ends) keeps the largest weight, which defines the
    /// scale, inside even when (qmax * scale) rounds a little below it. With a zero scale only
    /// x == 0 is inside.
    func passesGradient(_ x: Float) -> Bool {
        guard scale > 0 else { return x == 0 }
        let code = unclampedCode(x, round: nearestEven)
        return code >= qmin && code <= qmax
    }
}

/// Round half to even, the rounding of every deterministic quantizer in this module.
@inline(__always)
func nearestEven(_ v: Float) -> Float { v.rounded(.toNearestOrEven) }

/// Codes of `values`, block by block, each block with its own grid.
func gridCodes(_ values: [Float], layout: BlockLayout, grids: [UniformGrid],
               round: (Float) -> Float = nearestEven) -> [Int64] {
    var codes = [Int64](repeating: 0, count: values.count)
    for (index, range) in layout.blocks.enumerated() {
        let grid = grids[index]
        for i in range { codes[i] = grid.code(values[i], round: round) }
    }
    return codes
}

/// Dequantized values of `codes`, block by block.
func gridValues(_ codes: [Int64], layout: BlockLayout, grids: [UniformGrid]) -> [Float] {
    var values = [Float](repeating: 0, count: codes.count)
    for (index, range) in layout.blocks.enumerated() {
        let grid = grids[index]
        for i in range { values[i] = grid.value(ofCode: codes[i]) }
    }
    return values
}

/// dL/dx = dL/dy where the per-block grid's clamp did not bind, 0 elsewhere.
func gridGradient(input x: Tensor, gradOutput: Tensor, layout: BlockLayout, grids: [UniformGrid]) -> Tensor {
    var pass = [Bool](repeating: false, count: x.count)
    for (index, range) in layout.blocks.enumerated() {
        for i in range { pass[i] = grids[index].passesGradient(x.data[i]) }
    }
    return maskedGradient(gradOutput, shape: x.shape) { pass[$0] }
}

/// Straight-through gradient: dL/dy where `passes(i)`, 0 elsewhere.
func maskedGradient(_ gradOutput: Tensor, shape: [Int], passes: (Int) -> Bool) -> Tensor {
    precondition(gradOutput.shape == shape,
                 "gradient shape \(gradOutput.shape) differs from the input shape \(shape)")
    var result = gradOutput
    for i in result.data.indices where !passes(i) { result.data[i] = 0 }
    return result
}
