import CLowBitKernels
import LowBitIO
import LowBitTensor

/// `y = max(x, 0)`; backward passes the gradient where `x > 0`.
public final class ReLU: Layer {
    public let name: String
    private var cachedInput: Tensor?

    public init(name: String) { self.name = name }

    public var spec: LayerSpec { LayerSpec(kind: .relu, name: name) }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { cachedInput = x }
        return Elementwise.map(x) { lb_relu_forward($0, $1, $2) }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return Elementwise.map(x, gradOutput) { lb_relu_backward($0, $1, $2, $3) }
    }
}

/// `y = clamp(x, -1, 1)`; backward passes the gradient where `|x| <= 1` (the hard-tanh
/// straight-through window of binary networks).
public final class HardTanh: Layer {
    public let name: String
    private var cachedInput: Tensor?

    public init(name: String) { self.name = name }

    public var spec: LayerSpec { LayerSpec(kind: .hardTanh, name: name) }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { cachedInput = x }
        return Elementwise.map(x) { lb_hardtanh_forward($0, $1, $2) }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return Elementwise.map(x, gradOutput) { lb_hardtanh_backward($0, $1, $2, $3) }
    }
}
