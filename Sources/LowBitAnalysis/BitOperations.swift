import Foundation

/// Bit operations of one dense or convolution layer, the cost metric of quantization-aware
/// pruning (Hawks et al., "Ps and Qs", 2021; shared/DESIGN.md section 2):
///
/// `BOPs = m * n * ((1 - f_p) * b_a * b_w + b_a + b_w + log2(n))`
///
/// - `n` inputs per output: `in` for a dense layer, `k * k * in` for a convolution;
/// - `m` outputs: `out` for a dense layer, `out * outH * outW` for a convolution;
/// - `f_p` the pruned fraction of the weight; `b_a`, `b_w` the activation and weight bits.
///
/// The first term counts the multiplier's bit products (skipped for pruned weights), the rest the
/// accumulator's additions. Layers without weights have no BOPs.
///
/// ```swift
/// bitOperations(outputs: 3, fanIn: 4, prunedFraction: 0, activationBits: 32, weightBits: 32)
/// // 3 * 4 * (1024 + 32 + 32 + 2) = 13080
/// ```
public func bitOperations(outputs m: Int, fanIn n: Int, prunedFraction: Double, activationBits: Int, weightBits: Int) -> Double {
    guard m > 0, n > 0 else { return 0 }
    let (ba, bw) = (Double(activationBits), Double(weightBits))
    return Double(m) * Double(n) * ((1 - prunedFraction) * ba * bw + ba + bw + log2(Double(n)))
}
