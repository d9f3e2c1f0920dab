import LowBitIO
import LowBitTensor

/// Max pooling over square windows of NHWC input (padding `valid`; stride defaults to the window).
/// Backward routes each output gradient to the input that won its window (first one on ties).
public final class MaxPool: Layer {
    public let name: String
    public let poolSize: Int
    public let stride: Int
    private var cache: (inputShape: [Int], winners: [Int32])?

    public init(poolSize: Int = 2, stride: Int? = nil, name: String) {
        self.name = name
        self.poolSize = poolSize
        self.stride = stride ?? poolSize
    }

    public var spec: LayerSpec { LayerSpec(kind: .maxPool, name: name, stride: stride, poolSize: poolSize) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try poolOutputShape(inputShape, poolSize, stride, name)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let outShape = try outputShape(for: Array(x.shape.dropFirst()))
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outH, outW) = (outShape[0], outShape[1])
        var winners = [Int32](repeating: 0, count: batch * outH * outW * channels)
        let y = Tensor(shape: [batch] + outShape) { out in
            x.data.withUnsafeBufferPointer { input in
                for n in 0..<batch {
                    for oy in 0..<outH {
                        for ox in 0..<outW {
                            let o = ((n * outH + oy) * outW + ox) * channels
                            for c in 0..<channels {
                                var best = -Float.infinity
                                var bestIndex = 0
                                for ky in 0..<poolSize {
                                    for kx in 0..<poolSize {
                                        let i = ((n * height + oy * stride + ky) * width + ox * stride + kx) * channels + c
                                        if input[i] > best { best = input[i]; bestIndex = i }
                                    }
                                }
                                out[o + c] = best
                                winners[o + c] = Int32(bestIndex)
                            }
                        }
                    }
                }
            }
        }
        if training { cache = (x.shape, winners) }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name).backward called without a training-mode forward") }
        var dx = Tensor.zeros(cache.inputShape)
        dx.data.withUnsafeMutableBufferPointer { out in
            gradOutput.data.withUnsafeBufferPointer { dy in
                for i in 0..<dy.count { out[Int(cache.winners[i])] += dy[i] }
            }
        }
        return dx
    }
}

/// Average pooling over square windows of NHWC input (padding `valid`; stride defaults to the window).
public final class AvgPool: Layer {
    public let name: String
    public let poolSize: Int
    public let stride: Int
    private var inputShape: [Int]?

    public init(poolSize: Int = 2, stride: Int? = nil, name: String) {
        self.name = name
        self.poolSize = poolSize
        self.stride = stride ?? poolSize
    }

    public var spec: LayerSpec { LayerSpec(kind: .avgPool, name: name, stride: stride, poolSize: poolSize) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try poolOutputShape(inputShape, poolSize, stride, name)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let outShape = try outputShape(for: Array(x.shape.dropFirst()))
        if training { inputShape = x.shape }
        let channels = x.shape[3]
        let scale = 1 / Float(poolSize * poolSize)
        var y = Tensor.zeros([x.shape[0]] + outShape)
        y.data.withUnsafeMutableBufferPointer { out in
            x.data.withUnsafeBufferPointer { input in
                forEachWindowTap(inputShape: x.shape, outputShape: outShape) { o, i in
                    for c in 0..<channels { out[o + c] += input[i + c] * scale }
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let inputShape else { preconditionFailure("\(name).backward called without a training-mode forward") }
        let channels = inputShape[3]
        let scale = 1 / Float(poolSize * poolSize)
        var dx = Tensor.zeros(inputShape)
        dx.data.withUnsafeMutableBufferPointer { out in
            gradOutput.data.withUnsafeBufferPointer { dy in
                forEachWindowTap(inputShape: inputShape, outputShape: Array(gradOutput.shape.dropFirst())) { o, i in
                    for c in 0..<channels { out[i + c] += dy[o + c] * scale }
                }
            }
        }
        return dx
    }

    /// Calls `body(outputOffset, inputOffset)` (channel-0 offsets into NHWC buffers) for every output
    /// position and every tap of its window: the one loop nest of both passes.
    private func forEachWindowTap(inputShape: [Int], outputShape: [Int], _ body: (Int, Int) -> Void) {
        let (batch, height, width, channels) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (outH, outW) = (outputShape[0], outputShape[1])
        for n in 0..<batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    let o = ((n * outH + oy) * outW + ox) * channels
                    for ky in 0..<poolSize {
                        for kx in 0..<poolSize {
                            body(o, ((n * height + oy * stride + ky) * width + ox * stride + kx) * channels)
                        }
                    }
                }
            }
        }
    }
}

/// Mean over all spatial positions: NHWC `[batch, h, w, c]` -> `[batch, c]`.
public final class GlobalAvgPool: Layer {
    public let name: String
    private var inputShape: [Int]?

    public init(name: String) { self.name = name }

    public var spec: LayerSpec { LayerSpec(kind: .globalAvgPool, name: name) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try requireRank(inputShape, 3, name)
        return [inputShape[2]]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 4 else { throw LowBitError.shapeMismatch("\(name) expects NHWC input, got \(x.shape)") }
        let (batch, positions, channels) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        if training { inputShape = x.shape }
        var y = Tensor.zeros([batch, channels])
        let scale = 1 / Float(positions)
        y.data.withUnsafeMutableBufferPointer { out in
            x.data.withUnsafeBufferPointer { input in
                for n in 0..<batch {
                    for p in 0..<positions {
                        let i = (n * positions + p) * channels
                        for c in 0..<channels { out[n * channels + c] += input[i + c] }
                    }
                    for c in 0..<channels { out[n * channels + c] *= scale }
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let inputShape else { preconditionFailure("\(name).backward called without a training-mode forward") }
        let (positions, channels) = (inputShape[1] * inputShape[2], inputShape[3])
        let scale = 1 / Float(positions)
        return Tensor(shape: inputShape) { out in
            gradOutput.data.withUnsafeBufferPointer { dy in
                for n in 0..<inputShape[0] {
                    for p in 0..<positions {
                        let i = (n * positions + p) * channels
                        for c in 0..<channels { out[i + c] = dy[n * channels + c] * scale }
                    }
                }
            }
        }
    }
}

private func poolOutputShape(_ inputShape: [Int], _ poolSize: Int, _ stride: Int, _ name: String) throws -> [Int] {
    try requireRank(inputShape, 3, name)
    let rows = try ConvGeometry(inputSize: inputShape[0], kernel: poolSize, stride: stride, padding: .valid)
    let cols = try ConvGeometry(inputSize: inputShape[1], kernel: poolSize, stride: stride, padding: .valid)
    return [rows.outputSize, cols.outputSize, inputShape[2]]
}
