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
        return Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { input in
                for i in 0..<input.count { out[i] = max(input[i], 0) }
            }
        }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { input in
                gradOutput.data.withUnsafeBufferPointer { dy in
                    for i in 0..<input.count { out[i] = input[i] > 0 ? dy[i] : 0 }
                }
            }
        }
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
        return Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { input in
                for i in 0..<input.count { out[i] = min(max(input[i], -1), 1) }
            }
        }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { input in
                gradOutput.data.withUnsafeBufferPointer { dy in
                    for i in 0..<input.count { out[i] = abs(input[i]) <= 1 ? dy[i] : 0 }
                }
            }
        }
    }
}
