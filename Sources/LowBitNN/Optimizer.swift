import CLowBitKernels
import Foundation
import LowBitTensor

/// Updates parameters from their gradients. `learningRate` is set by the trainer from its schedule
/// before each step.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    func step(_ parameters: [Parameter])
}

/// SGD with momentum and L2 weight decay (PyTorch's formulation):
/// `g = grad + wd * w` (only for parameters that decay), `v = mu * v + g`,
/// `w -= lr * (nesterov ? g + mu * v : v)`.
///
/// ```swift
/// let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
/// sgd.step(model.parameters)
/// ```
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var velocity: [ObjectIdentifier: OptimizerState] = [:]

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ parameters: [Parameter]) {
        for p in parameters {
            let count = p.value.count
            let state = velocity[ObjectIdentifier(p)] ?? OptimizerState(count: count, slots: 1)
            velocity[ObjectIdentifier(p)] = state
            let decay = p.decays ? weightDecay : 0
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { grad in
                    state.first.withUnsafeMutableBufferPointer { v in
                        let (w, grad, v) = (UnsafeSendableMutablePointer(w.baseAddress!), UnsafeSendablePointer(grad.baseAddress!),
                                            UnsafeSendableMutablePointer(v.baseAddress!))
                        Parallel.forChunks(count, work: count * 4) { r in
                            lb_sgd_step(w.pointer + r.lowerBound, grad.pointer + r.lowerBound, v.pointer + r.lowerBound, r.count,
                                        learningRate, momentum, decay, nesterov ? 1 : 0)
                        }
                    }
                }
            }
            clip(p)
        }
    }
}

/// Adam (Kingma & Ba) with bias correction; `decoupledWeightDecay` gives AdamW
/// (`w -= lr * wd * w`), otherwise weight decay is added to the gradient.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    private var moments: [ObjectIdentifier: OptimizerState] = [:]
    private var steps = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = true) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public func step(_ parameters: [Parameter]) {
        steps += 1
        let correction1 = 1 - powf(beta1, Float(steps))
        let correction2 = 1 - powf(beta2, Float(steps))
        for p in parameters {
            let count = p.value.count
            let state = moments[ObjectIdentifier(p)] ?? OptimizerState(count: count, slots: 2)
            moments[ObjectIdentifier(p)] = state
            let decay = p.decays ? weightDecay : 0
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { grad in
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            let (w, grad) = (UnsafeSendableMutablePointer(w.baseAddress!), UnsafeSendablePointer(grad.baseAddress!))
                            let (m, v) = (UnsafeSendableMutablePointer(m.baseAddress!), UnsafeSendableMutablePointer(v.baseAddress!))
                            let (l2, decoupled) = decoupledWeightDecay ? (Float(0), decay) : (decay, Float(0))
                            Parallel.forChunks(count, work: count * 8) { r in
                                lb_adam_step(w.pointer + r.lowerBound, grad.pointer + r.lowerBound, m.pointer + r.lowerBound,
                                             v.pointer + r.lowerBound, r.count, learningRate, beta1, beta2, epsilon,
                                             correction1, correction2, l2, decoupled)
                            }
                        }
                    }
                }
            }
            clip(p)
        }
    }
}

/// Per-parameter optimizer buffers, held by reference so updates happen in place (a value stored in
/// a dictionary would be copied on every write).
private final class OptimizerState {
    var first: [Float]
    var second: [Float]

    init(count: Int, slots: Int) {
        first = [Float](repeating: 0, count: count)
        second = slots > 1 ? [Float](repeating: 0, count: count) : []
    }
}

private func clip(_ p: Parameter) {
    guard let range = p.clip else { return }
    p.value.data.withUnsafeMutableBufferPointer { w in
        for i in 0..<w.count { w[i] = min(max(w[i], range.lowerBound), range.upperBound) }
    }
}
