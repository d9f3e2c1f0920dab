/// How an integer (int8 or ternary) step turns its 8-bit input codes into GEMM rows: a dense layer's
/// rows as they are, or a convolution's im2col patches in (ky, kx, c) order, the OHWI weight order.
/// Zero padding is code 0, which is real 0 because the activations have zero point 0 — the value
/// the training-side convolution pads its quantized input with.
///
/// ```swift
/// let patches = IntegerPatches.convolution(shape)
/// let rows = patches.expand(codes, batch: 1)     // [outH * outW][k * k * C]
/// ```
enum IntegerPatches: Sendable {
    case dense
    case convolution(Conv2DShape)

    /// GEMM rows for `batch` samples.
    func rowCount(batch: Int) -> Int {
        switch self {
        case .dense: return batch
        case let .convolution(shape): return batch * shape.outputHeight * shape.outputWidth
        }
    }

    /// The GEMM input: `codes` themselves, or NHWC codes `[batch][H][W][C]` expanded to patches.
    func expand<Code: FixedWidthInteger>(_ codes: [Code], batch: Int) -> [Code] {
        guard case let .convolution(shape) = self else { return codes }
        let (h, w, c) = (shape.inputHeight, shape.inputWidth, shape.inputChannels)
        let patch = shape.weightsPerOutput
        var out = [Code](repeating: 0, count: rowCount(batch: batch) * patch)
        var row = 0
        for n in 0..<batch {
            for oy in 0..<shape.outputHeight {
                for ox in 0..<shape.outputWidth {
                    for ky in 0..<shape.kernelHeight {
                        let iy = oy * shape.strideHeight - shape.rows.padBefore + ky
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<shape.kernelWidth {
                            let ix = ox * shape.strideWidth - shape.columns.padBefore + kx
                            guard ix >= 0 && ix < w else { continue }
                            let source = ((n * h + iy) * w + ix) * c, target = row * patch + (ky * shape.kernelWidth + kx) * c
                            for channel in 0..<c { out[target + channel] = codes[source + channel] }
                        }
                    }
                    row += 1
                }
            }
        }
        return out
    }
}
