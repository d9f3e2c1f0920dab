/// A trainable tensor and its gradient. Layers own their parameters; optimizers update `value`
/// from `grad` and keep their own state keyed by the parameter's identity.
///
/// ```swift
/// let w = Parameter(name: "fc1.weight", value: .zeros([10, 784]))
/// w.grad.data[0] += 1
/// w.zeroGrad()
/// ```
public final class Parameter {
    public let name: String
    public var value: Tensor
    public var grad: Tensor
    /// Whether weight decay applies (weights yes; biases, BatchNorm and quantizer ranges no).
    public var decays: Bool
    /// Optional bounds applied after each optimizer step (binary latent weights are clipped to [-1, 1]).
    public var clip: ClosedRange<Float>?

    public init(name: String, value: Tensor, decays: Bool = true, clip: ClosedRange<Float>? = nil) {
        self.name = name
        self.value = value
        self.grad = .zeros(value.shape)
        self.decays = decays
        self.clip = clip
    }

    public func zeroGrad() {
        grad.data.withUnsafeMutableBufferPointer { buffer in
            buffer.update(repeating: 0)
        }
    }
}
