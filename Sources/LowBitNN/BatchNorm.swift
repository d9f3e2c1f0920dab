import CLowBitKernels
import LowBitIO
import LowBitTensor

/// Batch normalisation over the last axis (channels of NHWC, or features of `[batch, features]`).
///
/// Training: `xhat = (x - mean_B) / sqrt(var_B + eps)`, `y = gamma * xhat + beta`, with the batch's
/// biased variance; running statistics follow PyTorch: `running = (1 - momentum) * running +
/// momentum * batch` with the unbiased variance. Evaluation uses the running statistics.
///
/// Backward (N = rows per channel): `dx = gamma / (N * std) * (N * dy - sum(dy) - xhat * sum(dy * xhat))`,
/// `dgamma = sum(dy * xhat)`, `dbeta = sum(dy)`.
///
/// ```swift
/// let bn = BatchNorm(channels: 16, name: "bn1")
/// let y = try bn(x)                           // training statistics
/// let z = try bn.forward(x, training: false)  // running statistics
/// ```
public final class BatchNorm: Layer {
    public let name: String
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVariance: Parameter
    /// When true, training-mode forwards update the running statistics with equal weights
    /// (a cumulative average) instead of the momentum rule: used to re-estimate statistics after
    /// quantizing weights (forward passes only).
    public var cumulativeStatistics = false
    private var statisticsBatches = 0

    private var cache: (xhat: Tensor, inverseStd: [Float])?

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, name: String) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        gamma = Parameter(name: "\(name).gamma", value: Tensor(shape: [channels], repeating: 1), decays: false)
        beta = Parameter(name: "\(name).beta", value: .zeros([channels]), decays: false)
        runningMean = Parameter(name: "\(name).runningMean", value: .zeros([channels]), decays: false)
        runningVariance = Parameter(name: "\(name).runningVariance", value: Tensor(shape: [channels], repeating: 1),
                                    decays: false)
    }

    public var spec: LayerSpec {
        LayerSpec(kind: .batchNorm, name: name, channels: channels, epsilon: epsilon, momentum: momentum)
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var buffers: [Parameter] { [runningMean, runningVariance] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == channels else {
            throw LowBitError.shapeMismatch("\(name) normalises \(channels) channels, got input \(inputShape)")
        }
        return inputShape
    }

    /// Starts a cumulative re-estimation of the running statistics (see ``cumulativeStatistics``).
    public func resetRunningStatistics() {
        statisticsBatches = 0
        runningMean.value = .zeros([channels])
        runningVariance.value = Tensor(shape: [channels], repeating: 1)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.shape.last == channels else {
            throw LowBitError.shapeMismatch("\(name) normalises \(channels) channels, got \(x.shape)")
        }
        let rows = x.count / channels
        let mean: [Float]
        let variance: [Float]
        if training {
            (mean, variance) = channelMeanAndVariance(x, rows: rows)
            updateRunningStatistics(mean: mean, variance: variance, rows: rows)
        } else {
            (mean, variance) = (runningMean.value.data, runningVariance.value.data)
        }
        let inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var xhat = Tensor(shape: x.shape) { _ in }
        var y = Tensor(shape: x.shape) { _ in }
        let channels = self.channels
        x.data.withUnsafeBufferPointer { input in
            xhat.data.withUnsafeMutableBufferPointer { normalized in
                y.data.withUnsafeMutableBufferPointer { out in
                    let input = UnsafeSendablePointer(input.baseAddress!)
                    let normalized = UnsafeSendableMutablePointer(normalized.baseAddress!)
                    let out = UnsafeSendableMutablePointer(out.baseAddress!)
                    let g = gamma.value.data, b = beta.value.data
                    Elementwise.forRows(rows, channels: channels) { range in
                        let offset = range.lowerBound * channels
                        lb_batchnorm_apply(input.pointer + offset, range.count, channels, mean, inverseStd, g, b,
                                           normalized.pointer + offset, out.pointer + offset)
                    }
                }
            }
        }
        if training { cache = (xhat, inverseStd) }
        return y
    }

    private func updateRunningStatistics(mean: [Float], variance: [Float], rows: Int) {
        let unbiased = Float(rows) / Float(max(rows - 1, 1))
        let weight = cumulativeStatistics ? 1 / Float(statisticsBatches + 1) : momentum
        statisticsBatches += 1
        for c in 0..<channels {
            runningMean.value.data[c] = (1 - weight) * runningMean.value.data[c] + weight * mean[c]
            runningVariance.value.data[c] = (1 - weight) * runningVariance.value.data[c] + weight * variance[c] * unbiased
        }
    }

    private func channelMeanAndVariance(_ x: Tensor, rows: Int) -> ([Float], [Float]) {
        let (sum, sumSquares) = Elementwise.reduceChannels(x, x, channels: channels) { lb_channel_sums($0, $1, $2, $3, $4, $5) }
        let n = Double(rows)
        let mean = sum.map { Float($0 / n) }
        let variance = (0..<channels).map { c in Float(max(sumSquares[c] / n - (sum[c] / n) * (sum[c] / n), 0)) }
        return (mean, variance)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name).backward called without a training-mode forward") }
        let rows = gradOutput.count / channels
        let (sums, sumsXhat) = Elementwise.reduceChannels(gradOutput, cache.xhat, channels: channels) {
            lb_channel_sums($0, $1, $2, $3, $4, $5)
        }
        let sumGrad = sums.map { Float($0) }
        let sumGradXhat = sumsXhat.map { Float($0) }
        for c in 0..<channels {
            beta.grad.data[c] += sumGrad[c]
            gamma.grad.data[c] += sumGradXhat[c]
        }
        let n = Float(rows)
        let scale = (0..<channels).map { gamma.value.data[$0] * cache.inverseStd[$0] / n }
        let channels = self.channels
        var inputGrad = Tensor(shape: gradOutput.shape) { _ in }
        gradOutput.data.withUnsafeBufferPointer { dy in
            cache.xhat.data.withUnsafeBufferPointer { xhat in
                inputGrad.data.withUnsafeMutableBufferPointer { dx in
                    let dy = UnsafeSendablePointer(dy.baseAddress!), xhat = UnsafeSendablePointer(xhat.baseAddress!)
                    let dx = UnsafeSendableMutablePointer(dx.baseAddress!)
                    Elementwise.forRows(rows, channels: channels) { range in
                        let offset = range.lowerBound * channels
                        lb_batchnorm_backward_apply(dy.pointer + offset, xhat.pointer + offset, range.count, channels, n,
                                                    scale, sumGrad, sumGradXhat, dx.pointer + offset)
                    }
                }
            }
        }
        return inputGrad
    }
}
