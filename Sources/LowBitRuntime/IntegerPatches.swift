import CLowBitRuntimeKernels

/// How an integer (int8 or ternary) step turns its 8-bit input codes into GEMM rows: a dense layer's
/// rows as they are, or a convolution's patches in (ky, kx, c) order, the OHWI weight order — expanded
/// by im2col for ternary steps (`expand`), read in place by int8 steps (`Int8GEMM.accumulatePatches`).
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

    /// The GEMM input: `codes` themselves, or NHWC codes `[batch][H][W][C]` expanded to patches
    /// (`lbr_im2col_bytes`).
    func expand<Code: FixedWidthInteger>(_ codes: [Code], batch: Int) -> [Code] {
        guard case let .convolution(shape) = self else { return codes }
        precondition(Code.bitWidth == 8 && codes.count == batch * shape.inputHeight * shape.inputWidth * shape.inputChannels,
                     "8-bit codes of \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels)")
        let rows = rowCount(batch: batch)
        var geometry = shape.kernelGeometry(batch: batch)
        return [Code](unsafeUninitializedCapacity: rows * shape.weightsPerOutput) { out, initialized in
            codes.withUnsafeBytes { input in
                lbr_im2col_bytes(input.baseAddress, shape.inputChannels, &geometry, 0, rows, out.baseAddress)
            }
            initialized = rows * shape.weightsPerOutput
        }
    }
}
