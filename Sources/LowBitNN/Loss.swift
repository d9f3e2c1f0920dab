import Foundation
import LowBitTensor

/// Softmax cross-entropy averaged over the batch, with optional label smoothing.
///
/// `loss = -1/B sum_b sum_c t_bc log softmax(z_b)_c`, `t = (1 - s) onehot + s / C`;
/// gradient `dL/dz = (softmax(z) - t) / B`. Softmax is computed with the row max subtracted.
///
/// ```swift
/// let (loss, grad) = try softmaxCrossEntropy(logits: logits, labels: [3, 1])
/// ```
public func softmaxCrossEntropy(logits: Tensor, labels: [Int32], labelSmoothing: Float = 0) throws -> (loss: Float, grad: Tensor) {
    guard logits.rank == 2, logits.shape[0] == labels.count else {
        throw LowBitError.shapeMismatch("logits \(logits.shape) vs \(labels.count) labels")
    }
    let (batch, classes) = (logits.shape[0], logits.shape[1])
    if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
        throw LowBitError.invalidArgument("label \(bad) outside 0..<\(classes)")
    }
    var total: Double = 0
    var grad = Tensor.zeros(logits.shape)
    let off = labelSmoothing / Float(classes)
    let on = 1 - labelSmoothing + off
    logits.data.withUnsafeBufferPointer { z in
        grad.data.withUnsafeMutableBufferPointer { g in
            for b in 0..<batch {
                let row = b * classes
                var maxLogit = -Float.infinity
                for c in 0..<classes { maxLogit = max(maxLogit, z[row + c]) }
                var sum: Float = 0
                for c in 0..<classes {
                    let e = expf(z[row + c] - maxLogit)
                    g[row + c] = e
                    sum += e
                }
                let logSum = logf(sum) + maxLogit
                for c in 0..<classes {
                    let target = c == Int(labels[b]) ? on : off
                    total -= Double(target * (z[row + c] - logSum))
                    g[row + c] = (g[row + c] / sum - target) / Float(batch)
                }
            }
        }
    }
    let loss = Float(total / Double(batch))
    guard loss.isFinite else { throw LowBitError.nonFinite("cross-entropy loss is \(loss); lower the learning rate") }
    return (loss, grad)
}
