/// NHWC pooling steps: max or average over square windows (padding `valid`), or the global average
/// over all positions.
struct PoolingOperation: PackedOperation {
    enum Function: Sendable { case max, average, globalAverage }

    let name: String
    let function: Function
    /// Input `[height, width, channels]` per sample.
    let height: Int
    let width: Int
    let channels: Int
    let poolSize: Int
    let stride: Int
    let outputHeight: Int
    let outputWidth: Int

    var kind: String {
        switch function {
        case .max: "maxPool"
        case .average: "avgPool"
        case .globalAverage: "globalAvgPool"
        }
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let x = value.floats
        if function == .globalAverage { return .float(globalAverage(x, batch: batch)) }
        var out = [Float](repeating: 0, count: batch * outputHeight * outputWidth * channels)
        let scale = 1 / Float(poolSize * poolSize)
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let o = ((n * outputHeight + oy) * outputWidth + ox) * channels
                    for c in 0..<channels {
                        var best = -Float.infinity, sum: Float = 0
                        for ky in 0..<poolSize {
                            for kx in 0..<poolSize {
                                let v = x[((n * height + oy * stride + ky) * width + ox * stride + kx) * channels + c]
                                best = Swift.max(best, v)
                                sum += v * scale
                            }
                        }
                        out[o + c] = function == .max ? best : sum
                    }
                }
            }
        }
        return .float(out)
    }

    /// Mean over the `height * width` positions, summed in position order as training does.
    private func globalAverage(_ x: [Float], batch: Int) -> [Float] {
        let positions = height * width, scale = 1 / Float(positions)
        var out = [Float](repeating: 0, count: batch * channels)
        for n in 0..<batch {
            for p in 0..<positions {
                let i = (n * positions + p) * channels
                for c in 0..<channels { out[n * channels + c] += x[i + c] }
            }
            for c in 0..<channels { out[n * channels + c] *= scale }
        }
        return out
    }
}
