import Foundation
import CLowBitKernels
import CLowBitRuntimeKernels
import LowBitTensor

/// A float32 NHWC convolution by im2col and BLAS sgemm: the layers a hybrid network keeps in full
/// precision, and the baseline the binary kernels are measured against. Layers with a short patch
/// (`kernelHeight * kernelWidth * inputChannels <= 64`) and at most 64 outputs, such as a first layer
/// on grey images or a 1x1 shortcut, run a direct kernel instead (`lbr_conv_direct_f32`): there
/// im2col and sgemm's packing cost more than the products. The two agree up to float rounding.
///
/// ```swift
/// let conv = try FloatConv2D(shape: shape, weights: w, bias: b)   // w: OHWI floats
/// let y = try conv.forward(x, batch: 1)                          // [1 * outH * outW * outC]
/// ```
public struct FloatConv2D: Sendable {
    public let shape: Conv2DShape
    /// OHWI weights, `[outputChannels][weightsPerOutput]`.
    public let weights: [Float]
    public let bias: [Float]?
    /// Weights as [k][outputs rounded up to 8] for the direct kernel; empty when im2col + sgemm runs.
    private let directWeights: [Float]
    /// Winograd-transformed weights (`lbr_wino_f32_pack_weights`) for 3x3 stride-1 layers of at least
    /// ``winogradMinimumChannels`` inputs; empty otherwise.
    private let winogradWeights: [Float]

    /// Fewer input channels leave a tile's transforms costlier than the products they save (a grey
    /// image's first layer has 1).
    public static let winogradMinimumChannels = 8
    /// Whether 3x3 stride-1 layers take Winograd F(2x2, 3x3) (`LOWBIT_FLOAT_WINOGRAD=0` turns it off,
    /// for comparisons).
    static let winogradEnabled = ProcessInfo.processInfo.environment["LOWBIT_FLOAT_WINOGRAD"] != "0"

    /// `winograd`: false keeps 3x3 stride-1 layers on the direct or im2col kernels (the baseline
    /// `lowbit bench kernels` compares Winograd with).
    public init(shape: Conv2DShape, weights: [Float], bias: [Float]? = nil, winograd: Bool = true) throws {
        guard weights.count == shape.outputChannels * shape.weightsPerOutput else {
            throw LowBitError.shapeMismatch("\(weights.count) weights for \(shape.outputChannels) x \(shape.weightsPerOutput)")
        }
        guard bias == nil || bias!.count == shape.outputChannels else {
            throw LowBitError.shapeMismatch("\(bias!.count) biases for \(shape.outputChannels) channels")
        }
        self.shape = shape
        self.weights = weights
        self.bias = bias
        let k = shape.weightsPerOutput, n = shape.outputChannels
        if winograd && Self.winogradEnabled && Self.runsWinograd(shape) {
            winogradWeights = [Float](unsafeUninitializedCapacity: lbr_wino_f32_packed_count(n, shape.inputChannels)) { buffer, count in
                lbr_wino_f32_pack_weights(weights, n, shape.inputChannels, buffer.baseAddress)
                count = buffer.count
            }
        } else {
            winogradWeights = []
        }
        if winogradWeights.isEmpty && Self.runsDirectly(shape) {
            directWeights = [Float](unsafeUninitializedCapacity: lbr_conv_direct_packed_count(n, k)) { buffer, count in
                lbr_conv_direct_pack(weights, n, k, buffer.baseAddress)
                count = lbr_conv_direct_packed_count(n, k)
            }
        } else {
            directWeights = []
        }
    }

    /// Whether Winograd F(2x2, 3x3) runs this shape: 3x3, stride 1, at least
    /// ``winogradMinimumChannels`` inputs (docs/RUNTIME.md, "Winograd float convolution").
    static func runsWinograd(_ shape: Conv2DShape) -> Bool {
        shape.kernelHeight == 3 && shape.kernelWidth == 3 && shape.strideHeight == 1 && shape.strideWidth == 1
            && shape.inputChannels >= winogradMinimumChannels
    }

    /// Whether the direct kernel runs this shape: a patch of at most 1,024 values, at most 64 outputs.
    /// At batch 1 it beat im2col + sgemm on the Fashion-MNIST ResNet-20's 3x3 layers (patches of 144-576,
    /// 16-64 outputs): the float model ~1200 -> ~895 us on one thread, ~1030 -> ~560 on two
    /// (docs/RUNTIME.md, "Direct float convolution").
    static func runsDirectly(_ shape: Conv2DShape) -> Bool {
        shape.weightsPerOutput <= 1_024 && (1...64).contains(shape.outputChannels)
    }

    /// `input` is NHWC `[batch][H][W][C]`; returns `[batch][outH][outW][outputChannels]`, with
    /// `activation` applied to every output (in the direct kernel's store, or after sgemm).
    public func forward(_ input: [Float], batch: Int, activation: FusedActivation = .none, path: KernelPath = .best) throws -> [Float] {
        try forward(input, batch: batch, activation: activation, signs: false, path: path).floats
    }

    /// ``forward(_:batch:activation:path:)`` plus, with `signs`, the sign bits of the output (one row per
    /// output pixel, as `PackedBits(packing:rows:columns:)` gives them) for a next layer that reads signs:
    /// the direct kernel packs each chunk's rows right after computing them, on the thread that did.
    public func forward(_ input: [Float], batch: Int, activation: FusedActivation = .none, signs: Bool,
                        path: KernelPath = .best) throws -> (floats: [Float], bits: PackedBits?) {
        guard batch >= 1, input.count == batch * shape.inputHeight * shape.inputWidth * shape.inputChannels else {
            throw LowBitError.shapeMismatch("\(input.count) inputs for \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels)")
        }
        let rows = batch * shape.outputHeight * shape.outputWidth, k = shape.weightsPerOutput, n = shape.outputChannels
        if !winogradWeights.isEmpty { return winograd(input, batch: batch, activation: activation, signs: signs, path: path) }
        if !directWeights.isEmpty {
            let geometry = shape.kernelGeometry(batch: batch), outputRows = batch * shape.outputHeight
            let pixelsPerRow = shape.outputWidth, wordsPerRow = PackedBits.wordCount(bits: n)
            var bits = signs ? PackedBits(uninitializedRows: rows, columns: n) : nil   // every word written
            let floats = [Float](unsafeUninitializedCapacity: rows * n) { buffer, initialized in
                let out = buffer.baseAddress!
                withUnsafePointer(to: geometry) { g in
                    bits.withOptionalWords { words in
                        Parallel.forChunks(outputRows, work: rows * n * k, grain: .fine) { range in
                            lbr_conv_direct_f32(path.isa, input, g, shape.inputChannels, directWeights, bias, n, activation.kernelValue,
                                                range.lowerBound, range.upperBound, out)
                            if let words {
                                let first = range.lowerBound * pixelsPerRow, count = range.count * pixelsPerRow
                                lbr_pack_signs(path.isa, out + first * n, count, n, n, words + first * wordsPerRow, wordsPerRow)
                            }
                        }
                    }
                }
                initialized = rows * n
            }
            return (floats, bits)
        }
        // im2col writes every element; the output starts as the bias rows (or zeros), no Swift loops.
        let columns = [Float](unsafeUninitializedCapacity: rows * k) { buffer, initialized in
            lb_im2col_nhwc(input, Int32(batch), Int32(shape.inputHeight), Int32(shape.inputWidth), Int32(shape.inputChannels),
                           Int32(shape.kernelHeight), Int32(shape.kernelWidth), Int32(shape.strideHeight), Int32(shape.strideWidth),
                           Int32(shape.rows.padBefore), Int32(shape.columns.padBefore),
                           Int32(shape.outputHeight), Int32(shape.outputWidth), buffer.baseAddress)
            initialized = rows * k
        }
        var out = [Float](unsafeUninitializedCapacity: rows * n) { buffer, initialized in
            if let bias {
                for r in 0..<rows { (buffer.baseAddress! + r * n).initialize(from: bias, count: n) }
            } else {
                buffer.initialize(repeating: 0)
            }
            initialized = rows * n
        }
        // Rows split at the runtime's fine grain: BLAS.sgemm's own split is sized for training batches and
        // left a batch-1 ResNet layer (784 x 16 x 144) on one core. The nested sgemm runs its chunk inline.
        columns.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { c in
                let (a, c) = (UnsafeSendablePointer(a.baseAddress!), UnsafeSendableMutablePointer(c.baseAddress!))
                Parallel.forChunks(rows, work: rows * n * k, grain: .fine) { range in
                    BLAS.sgemm(transposeB: true, m: range.count, n: n, k: k, a: a.pointer + range.lowerBound * k, lda: k, b: weights,
                               ldb: k, beta: bias == nil ? 0 : 1, c: c.pointer + range.lowerBound * n, ldc: n)
                }
            }
        }
        activation.apply(&out)
        return (out, signs ? PackedBits(packing: out, rows: rows, columns: n, path: path) : nil)
    }

    /// Winograd F(2x2, 3x3) (`lbr_wino_f32_conv`), chunked by ``WinogradTiling``: each chunk packs the
    /// sign bits of the rows it finished.
    private func winograd(_ input: [Float], batch: Int, activation: FusedActivation, signs: Bool,
                          path: KernelPath) -> (floats: [Float], bits: PackedBits?) {
        let (outH, outW, n, c) = (shape.outputHeight, shape.outputWidth, shape.outputChannels, shape.inputChannels)
        let tiling = WinogradTiling(shape: shape, batch: batch), rows = batch * outH * outW, wordsPerRow = PackedBits.wordCount(bits: n)
        let geometry = lbr_wino_geometry(batch: batch, height: shape.inputHeight, width: shape.inputWidth, channels: c,
                                         pad_top: shape.rows.padBefore, pad_left: shape.columns.padBefore, out_h: outH, out_w: outW)
        let scratchBytes = lbr_wino_f32_scratch_bytes(n, c)
        var bits = signs ? PackedBits(uninitializedRows: rows, columns: n) : nil   // every word written
        let floats = [Float](unsafeUninitializedCapacity: rows * n) { buffer, initialized in
            let out = buffer.baseAddress!
            withUnsafePointer(to: geometry) { g in
                bits.withOptionalWords { words in
                    tiling.forChunks(work: rows * n * (4 * c + 32) / 4, tiles: { range in
                        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 32) { scratch in
                            lbr_wino_f32_conv(path.isa, input, g, range.lowerBound, range.upperBound, winogradWeights, bias, n,
                                              activation.kernelValue, out, scratch.baseAddress)
                        }
                    }, rows: { rows in
                        guard let words, !rows.isEmpty else { return }
                        lbr_pack_signs(path.isa, out + rows.lowerBound * n, rows.count, n, n, words + rows.lowerBound * wordsPerRow, wordsPerRow)
                    })
                }
            }
            initialized = rows * n
        }
        return (floats, bits)
    }
}
