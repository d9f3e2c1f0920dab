import LowBitIO
import LowBitTensor

/// `[batch, d1, d2, ...]` -> `[batch, d1 * d2 * ...]` in row-major (for NHWC: h, w, c) order.
public final class Flatten: Layer {
    public let name: String
    private var inputShape: [Int]?

    public init(name: String) { self.name = name }

    public var spec: LayerSpec { LayerSpec(kind: .flatten, name: name) }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { [inputShape.reduce(1, *)] }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { inputShape = x.shape }
        return x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let inputShape else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return gradOutput.reshaped(inputShape)
    }
}
