import LowBitTensor

/// How a ternary block chooses its threshold Delta.
public enum TernaryThresholdRule: String, Sendable, CaseIterable {
    /// Exact minimizer of ||w - alpha t||^2 over t in {-1, 0, +1}^N and alpha: with the block's
    /// magnitudes sorted s_1 >= s_2 >= ... >= s_N and S_k = s_1 + ... + s_k, keep the k largest,
    /// k maximizing S_k^2 / k (ties to the smallest k), alpha = S_k / k. For a fixed support the best
    /// alpha is the mean of the kept |w|, and the error is ||w||^2 - S_k^2 / k, so maximizing
    /// S_k^2 / k is the whole search; O(N log N) by sorting.
    case optimal
    /// Delta = 0.7 * mean|w| of the block (TWN, Li & Liu 2016), alpha = mean of |w| over |w| > Delta.
    case heuristic
}

/// Ternary Weight Networks: one Delta and alpha for the whole tensor.
///
/// Delta = 0.7 * mean|w|, alpha = mean of |w| over |w| > Delta, y = alpha * t with
/// t = sign(w) where |w| > Delta, else 0 (means in double precision, alpha rounded to float once).
/// An all-zero tensor stays zero. Straight-through gradient: identity, dL/dw = dL/dy.
///
/// Idempotent: on y, mean|y| = alpha * k/N, so the new Delta = 0.7 alpha k/N < alpha keeps every
/// non-zero and the new alpha is alpha again.
///
/// ```swift
/// let q = TWNQuantizer()
/// let y = try q.quantize(Tensor(shape: [4], data: [1, -0.5, 0.1, 0.3]))
/// // Delta = 0.7 * 0.475 = 0.3325, kept {1, -0.5}, alpha = 0.75: y == [0.75, -0.75, 0, 0]
/// ```
public final class TWNQuantizer: Quantizer {
    public init() {}

    public var spec: QuantizerSpec { QuantizerSpec(scheme: "twn") }

    public var bitWidth: Int { 2 }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("TWN quantizer input")
        return ternaryFakeQuantize(x, layout: QuantizationGranularity.tensor.layout(forShape: x.shape), rule: .heuristic)
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { _ in true }
    }
}

/// Fine-grained ternary quantization (FGQ, Mellempudi et al. 2017): groups of N consecutive
/// weights within an output channel, each with its own Delta and alpha (see
/// ``TernaryThresholdRule`` for the exact-optimal and the 0.7 mean|w| rules); y = alpha * t.
/// A short last group per row is allowed; an all-zero group stays zero. Meant for ternarizing a
/// pretrained float model without retraining. Straight-through gradient: identity.
///
/// Idempotent for both rules: a group {alpha (k times), 0} keeps exactly its k non-zeros
/// (S_j^2 / j = j alpha^2 grows up to j = k and adding zeros shrinks it).
///
/// ```swift
/// let q = try FGQQuantizer(granularity: .group(4), threshold: .optimal)
/// let y = try q.quantize(Tensor(shape: [1, 4], data: [3, -2, 2, 1]))
/// // S_k^2/k = 9, 12.5, 16.33, 16: keep 3, alpha = 7/3: y == [7/3, -7/3, 7/3, 0]
/// ```
public final class FGQQuantizer: Quantizer {
    public let granularity: QuantizationGranularity
    public let threshold: TernaryThresholdRule

    public init(granularity: QuantizationGranularity = .group(4), threshold: TernaryThresholdRule = .optimal) throws {
        try granularity.validate()
        self.granularity = granularity
        self.threshold = threshold
    }

    public var spec: QuantizerSpec {
        let fields = granularity.specFields
        return QuantizerSpec(scheme: "fgq", granularity: fields.granularity, groupSize: fields.groupSize,
                             delta: threshold.rawValue)
    }

    public var bitWidth: Int { 2 }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("FGQ quantizer input")
        return ternaryFakeQuantize(x, layout: granularity.layout(forShape: x.shape), rule: threshold)
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { _ in true }
    }
}

/// FGQ ternarization of a weight array into what a packed format stores: codes in {-1, 0, +1}
/// and one alpha per group (groups of `groupSize` within rows of `rowLength`; the last group of a
/// row may be short). ``dequantizeInt8Codes(_:scales:rowLength:groupSize:)`` of the result equals
/// ``FGQQuantizer/quantize(_:)``. Per-tensor TWN is `rowLength == groupSize == weights.count`
/// with `.heuristic`.
///
/// ```swift
/// let r = try fgqTernarize(weights: [3, -2, 2, 1, 0, 0], rowLength: 6, groupSize: 4, delta: .optimal)
/// // r.codes == [1, -1, 1, 0, 0, 0], r.scales == [7/3, 0]
/// ```
public func fgqTernarize(weights: [Float], rowLength: Int, groupSize: Int, delta: TernaryThresholdRule)
    throws -> (codes: [Int8], scales: [Float]) {
    try requireFinite(weights, "weights")
    let layout = try BlockLayout(count: weights.count, rowLength: rowLength, groupSize: groupSize)
    return ternaryCodesAndScales(weights, layout: layout, rule: delta)
}

/// Dequantizes codes (binary signs or ternary {-1, 0, +1}) with one scale per block:
/// y_i = codes_i * scales[block(i)].
public func dequantizeInt8Codes(_ codes: [Int8], scales: [Float], rowLength: Int, groupSize: Int) throws -> [Float] {
    let layout = try BlockLayout(count: codes.count, rowLength: rowLength, groupSize: groupSize)
    guard scales.count == layout.blockCount else {
        throw LowBitError.shapeMismatch("\(layout.blockCount) blocks need as many scales, got \(scales.count)")
    }
    return scaledCodeValues(codes, scales: scales, layout: layout)
}

/// codes_i * scales[block(i)].
func scaledCodeValues(_ codes: [Int8], scales: [Float], layout: BlockLayout) -> [Float] {
    var values = [Float](repeating: 0, count: codes.count)
    for (block, range) in layout.blocks.enumerated() {
        let scale = scales[block]
        for i in range { values[i] = Float(codes[i]) * scale }
    }
    return values
}

/// The alpha and the kept support of one group. The support is a magnitude threshold: every
/// |w| >= `smallestKept` is kept (nil keeps nothing).
struct TernaryGroup {
    var alpha: Float
    var smallestKept: Float?

    init(_ group: ArraySlice<Float>, rule: TernaryThresholdRule) {
        switch rule {
        case .heuristic: self.init(heuristic: group)
        case .optimal: self.init(optimal: group)
        }
    }

    private init(heuristic group: ArraySlice<Float>) {
        let delta = 0.7 * meanMagnitude(group)
        let kept = group.map(abs).filter { Double($0) > delta }
        alpha = kept.isEmpty ? 0 : Float(meanMagnitude(kept[...]))
        smallestKept = kept.min()
    }

    /// Only run ends (s_k > s_{k+1}) are candidates, so equal magnitudes are kept or dropped
    /// together and the support is a threshold. This loses nothing: on a run of equal values s
    /// after a prefix sum T of m values, S^2/k = c^2/k + 2cs + k s^2 with c = T - m s >= 0 is
    /// convex in k, so its maximum over the run is at one of the run's ends.
    private init(optimal group: ArraySlice<Float>) {
        let sorted = group.map(abs).sorted(by: >)
        var best = 0.0
        var bestCount = 0
        var sum = 0.0
        for (index, magnitude) in sorted.enumerated() {
            sum += Double(magnitude)
            let k = index + 1
            let isRunEnd = k == sorted.count || sorted[k] < magnitude
            let objective = sum * sum / Double(k)
            if isRunEnd && objective > best {
                best = objective
                bestCount = k
            }
        }
        // best stays 0 for an all-zero group: nothing kept, alpha 0.
        if bestCount == 0 {
            alpha = 0
            smallestKept = nil
        } else {
            alpha = Float(meanMagnitude(sorted[0..<bestCount]))
            smallestKept = sorted[bestCount - 1]
        }
    }

    func code(_ w: Float) -> Int8 {
        guard let smallestKept, abs(w) >= smallestKept else { return 0 }
        return w > 0 ? 1 : -1
    }
}

func ternaryCodesAndScales(_ weights: [Float], layout: BlockLayout, rule: TernaryThresholdRule)
    -> (codes: [Int8], scales: [Float]) {
    var codes = [Int8](repeating: 0, count: weights.count)
    var scales = [Float]()
    scales.reserveCapacity(layout.blockCount)
    for range in layout.blocks {
        let group = TernaryGroup(weights[range], rule: rule)
        for i in range { codes[i] = group.code(weights[i]) }
        scales.append(group.alpha)
    }
    return (codes, scales)
}

private func ternaryFakeQuantize(_ x: Tensor, layout: BlockLayout, rule: TernaryThresholdRule) -> Tensor {
    let (codes, scales) = ternaryCodesAndScales(x.data, layout: layout, rule: rule)
    return Tensor(shape: x.shape, data: scaledCodeValues(codes, scales: scales, layout: layout))
}
