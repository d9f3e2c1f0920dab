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

    /// The codes copied into a zero frame wide enough for every patch of the convolution `shape` (its
    /// 'same' padding plus what the last stride step reaches), and where each patch lies in it: what
    /// `lbr_i8gemm_patches` and `lbr_tgemm_u8_patches` read in place instead of im2col rows.
    static func padded<Code: FixedWidthInteger>(_ codes: [Code], shape: Conv2DShape, batch: Int) -> ([Code], lbr_patch_geometry) {
        let (h, w, c) = (shape.inputHeight, shape.inputWidth, shape.inputChannels)
        precondition(Code.bitWidth == 8 && codes.count == batch * h * w * c, "8-bit codes of \(batch) x \(h) x \(w) x \(c)")
        let frame = Frame(shape: shape, batch: batch)
        let padded = [Code](unsafeUninitializedCapacity: frame.count) { buffer, count in
            lbr_pad_nhwc_bytes(codes, batch, h, w, c, frame.top, frame.bottom, frame.left, frame.right, buffer.baseAddress)
            count = frame.count
        }
        return (padded, frame.geometry)
    }

    /// The zero frame of ``padded(_:shape:batch:)``: its padding on each side, its size in bytes
    /// (one per channel), and where each patch lies in it.
    struct Frame {
        let top: Int, bottom: Int, left: Int, right: Int
        let count: Int
        let geometry: lbr_patch_geometry

        init(shape: Conv2DShape, batch: Int) {
            let (h, w, c) = (shape.inputHeight, shape.inputWidth, shape.inputChannels)
            (top, left) = (shape.rows.padBefore, shape.columns.padBefore)
            bottom = max(0, (shape.outputHeight - 1) * shape.strideHeight + shape.kernelHeight - h - top)
            right = max(0, (shape.outputWidth - 1) * shape.strideWidth + shape.kernelWidth - w - left)
            let (hp, wp) = (h + top + bottom, w + left + right)
            count = batch * hp * wp * c
            geometry = lbr_patch_geometry(segments: shape.kernelHeight, segment_length: shape.kernelWidth * c,
                                          segment_stride: wp * c, image_stride: hp * wp * c, row_step: shape.strideHeight * wp * c,
                                          column_step: shape.strideWidth * c, out_h: shape.outputHeight, out_w: shape.outputWidth)
        }
    }
}
