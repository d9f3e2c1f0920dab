import CLowBitRuntimeKernels
import LowBitTensor

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
        try checkInput(value, batch: batch)
        let x = value.floats
        if function == .globalAverage { return .float(globalAverage(x, batch: batch)) }
        let c = channels, scale = 1 / Float(poolSize * poolSize), isMax = function == .max
        var out = [Float](repeating: isMax ? -.infinity : 0, count: batch * outputHeight * outputWidth * c)
        // A window position at a time over a whole channel row (NHWC: contiguous), with unsafe pointers
        // so the channel loop vectorizes: 25 -> ~2 us for a 28 x 28 x 16 max pool. The same values in
        // the same order per channel as one element at a time: Swift.max's `v >= best ? v : best`
        // (a NaN never wins), and sums of `v * scale` in window order, as training.
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch {
                    for oy in 0..<outputHeight {
                        for ox in 0..<outputWidth {
                            let o = out.baseAddress! + ((n * outputHeight + oy) * outputWidth + ox) * c
                            for ky in 0..<poolSize {
                                for kx in 0..<poolSize {
                                    let row = x.baseAddress! + ((n * height + oy * stride + ky) * width + ox * stride + kx) * c
                                    if isMax {
                                        for i in 0..<c { o[i] = row[i] >= o[i] ? row[i] : o[i] }
                                    } else {
                                        for i in 0..<c { o[i] += row[i] * scale }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return .float(out)
    }

    /// Throws unless `value` holds `batch` inputs of `[height, width, channels]`.
    func checkInput(_ value: RuntimeValue, batch: Int) throws {
        guard value.count == batch * height * width * channels else {
            throw LowBitError.shapeMismatch("\(name): \(value.count) values for \(batch) x \(height) x \(width) x \(channels)")
        }
    }

    /// Mean over the `height * width` positions, summed in position order as training does.
    private func globalAverage(_ x: [Float], batch: Int) -> [Float] {
        let positions = height * width, scale = 1 / Float(positions)
        var out = [Float](repeating: 0, count: batch * channels)
        // Unsafe pointers: the same sums in the same order, without a bounds check per element, so the
        // channel loop vectorizes (3.5 -> ~1 us for the ResNet-20's 7 x 7 x 64 at batch 1).
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch {
                    let sums = out.baseAddress! + n * channels
                    for p in 0..<positions {
                        let row = x.baseAddress! + (n * positions + p) * channels
                        for c in 0..<channels { sums[c] += row[c] }
                    }
                    for c in 0..<channels { sums[c] *= scale }
                }
            }
        }
        return out
    }
}

/// A max pool on sign bits (bit 1 is -1): an output is -1 only when every input in its window is,
/// so each output word is the AND of its window's words. It replaces `maxPool` between a binary
/// convolution that writes sign bits and a step that reads signs (`binary conv -> [hardTanh] ->
/// maxPool -> binary layer`, as in a binary VGG), where the float pool would have read floats the
/// convolution then had to write: sign(max(hardtanh(y))) = sign(max(y)), and sign(0) = +1 on both sides.
struct SignMaxPoolOperation: PackedOperation {
    let pool: PoolingOperation

    var name: String { pool.name }
    var kind: String { "maxPool" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let p = pool
        try p.checkInput(value, batch: batch)
        let bits = value.signBits(rows: batch * p.height * p.width, columns: p.channels)
        let words = bits.wordsPerRow, rows = batch * p.outputHeight * p.outputWidth
        var out = PackedBits(uninitializedRows: rows, columns: p.channels)   // lbr_sign_max_pool writes every word
        bits.words.withUnsafeBufferPointer { input in
            out.words.withUnsafeMutableBufferPointer { output in
                lbr_sign_max_pool(input.baseAddress, batch, p.height, p.width, words, p.poolSize, p.stride, p.outputHeight, p.outputWidth,
                                  output.baseAddress)
            }
        }
        return .bits(out)
    }
}

/// A max pool on uint8 codes: the pool between an int8 layer and the int8 layer that reads its codes
/// (`int8 -> [ReLU] -> maxPool -> int8`). Quantization `clamp(round(x / s), 0, max)` is monotone, so
/// the maximum of codes is the code of the maximum, and the int8 layer requantizes straight to the
/// reader's codes instead of writing floats for a float pool to read and the reader to quantize.
struct CodeMaxPoolOperation: PackedOperation {
    let pool: PoolingOperation
    /// The reader's input scale and largest code: what a float input (none, as compiled) is quantized to.
    let scale: Float
    let codeMax: Int32

    var name: String { pool.name }
    var kind: String { "maxPool" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let p = pool
        try p.checkInput(value, batch: batch)
        let codes = value.uint8Codes(scale: scale, max: codeMax)
        let count = batch * p.outputHeight * p.outputWidth * p.channels
        let out = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            codes.withUnsafeBufferPointer { input in
                lbr_max_pool_u8(input.baseAddress, batch, p.height, p.width, p.channels, p.poolSize, p.stride, p.outputHeight,
                                p.outputWidth, out.baseAddress)
            }
            initialized = count
        }
        return .uint8(out, scale: scale)
    }
}
