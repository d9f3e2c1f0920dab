import CLowBitKernels
import LowBitTensor

/// Which scale multiplies binary weights.
public enum BinaryScaling: String, Sendable, CaseIterable {
    /// y = sign(w) (BinaryConnect / BinaryNet).
    case none
    /// y = alpha * sign(w), alpha = mean|w| over the tensor.
    case tensor
    /// y = alpha_c * sign(w), alpha_c = mean|w| over output channel c (XNOR-Net).
    case channel
}

/// Binary weights: y = alpha * sign(w) with sign(0) = +1 and alpha = 1 or mean|w| per tensor or
/// per output channel (mean accumulated in double precision, rounded to float once).
///
/// Straight-through gradient: dL/dw = dL/dy where |w| <= 1, 0 elsewhere. The latent weights are
/// meant to stay in [-1, 1]: give their ``Parameter`` `clip: -1...1` (``latentWeightClip``) and the
/// optimizer clips after each step. The gradient through alpha itself is ignored, as in XNOR-Net
/// practice.
///
/// Idempotent: q(q(w)) == q(w), since mean|alpha * sign(w)| == alpha.
///
/// ```swift
/// let q = BinaryWeightQuantizer(scaling: .channel)
/// let y = try q.quantize(Tensor(shape: [2, 2], data: [0.5, -0.25, 0, -2]))
/// // y == [0.375, -0.375, 1, -1]
/// ```
public final class BinaryWeightQuantizer: Quantizer {
    /// The clip range the optimizer applies to binary latent weights.
    public static let latentWeightClip: ClosedRange<Float> = -1...1

    public let scaling: BinaryScaling

    public init(scaling: BinaryScaling = .channel) {
        self.scaling = scaling
    }

    public var spec: QuantizerSpec { QuantizerSpec(scheme: "binary", granularity: scaling.rawValue) }

    public var bitWidth: Int { 1 }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("binary weight quantizer input")
        let layout = layout(forShape: x.shape)
        let (signs, scales) = binarySignsAndScales(x.data, layout: layout, scaled: scaling != .none)
        return Tensor(shape: x.shape, data: scaledCodeValues(signs, scales: scales, layout: layout))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { abs(x.data[$0]) <= 1 }
    }

    private func layout(forShape shape: [Int]) -> BlockLayout {
        (scaling == .channel ? QuantizationGranularity.channel : .tensor).layout(forShape: shape)
    }
}

/// Binary activations: y = sign(x) with sign(0) = +1.
///
/// Straight-through gradient of hard tanh: dL/dx = dL/dy where |x| <= 1, 0 elsewhere.
///
/// ```swift
/// let q = BinaryActivationQuantizer()
/// let y = try q.quantize(Tensor(shape: [3], data: [-0.2, 0, 3]))   // [-1, 1, 1]
/// let g = q.backward(input: Tensor(shape: [3], data: [-0.2, 0, 3]),
///                    gradOutput: Tensor(shape: [3], data: [1, 1, 1]))   // [1, 1, 0]
/// ```
public final class BinaryActivationQuantizer: Quantizer {
    public init() {}

    public var spec: QuantizerSpec { QuantizerSpec(scheme: "binary-activation") }

    public var bitWidth: Int { 1 }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("binary activation input")
        return Tensor(shape: x.shape, data: x.data.map { $0 >= 0 ? 1 : -1 })
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { abs(x.data[$0]) <= 1 }
    }
}

/// Binarizes a weight array into what a packed format stores: one sign (+1 or -1, sign(0) = +1)
/// per weight and one scale per block — a single 1 for `.none`, mean|w| of the tensor for
/// `.tensor`, mean|w| of each row of `rowLength` weights for `.channel`. Dequantizing
/// (sign * scale of the weight's block) equals ``BinaryWeightQuantizer/quantize(_:)``.
///
/// ```swift
/// let r = try binarize(weights: [0.5, -0.25, 0, -2], rowLength: 2, scaling: .channel)
/// // r.signs == [1, -1, 1, -1], r.scales == [0.375, 1]
/// ```
public func binarize(weights: [Float], rowLength: Int, scaling: BinaryScaling) throws -> (signs: [Int8], scales: [Float]) {
    try requireFinite(weights, "weights")
    let layout = scaling == .channel
        ? try BlockLayout(count: weights.count, rowLength: rowLength, groupSize: rowLength)
        : try BlockLayout(count: weights.count, rowLength: max(weights.count, 1), groupSize: max(weights.count, 1))
    return binarySignsAndScales(weights, layout: layout, scaled: scaling != .none)
}

private func binarySignsAndScales(_ weights: [Float], layout: BlockLayout, scaled: Bool) -> (signs: [Int8], scales: [Float]) {
    let signs = [Int8](unsafeUninitializedCapacity: weights.count) { buffer, initialized in
        for i in 0..<weights.count { buffer[i] = weights[i] >= 0 ? 1 : -1 }
        initialized = weights.count
    }
    let scales = layout.blocks.map { range in scaled ? Float(meanMagnitude(weights[range])) : 1 }
    return (signs, scales)
}

/// mean|w| accumulated in double precision (0 for an empty slice).
func meanMagnitude(_ values: ArraySlice<Float>) -> Double {
    guard !values.isEmpty else { return 0 }
    return values.withUnsafeBufferPointer { lb_sum_abs($0.baseAddress!, $0.count) } / Double(values.count)
}
