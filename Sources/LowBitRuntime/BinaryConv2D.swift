import CLowBitRuntimeKernels
import LowBitTensor

/// A binary 2-D convolution (NHWC, ±1 weights and activations) with exact zero padding and a fused
/// output transform.
///
/// Pipeline per block of output pixels: bit-level im2col (each tap is `ceil(C / 64)` words of the
/// packed input pixel), binary GEMM, the zero-padding correction, then the
/// ``BinaryOutputTransform`` (floats, or sign bits for the next binary layer). A padded input is 0,
/// not -1 or +1; the correction makes the result equal the convolution of the ±1 input with the
/// ±1 weights where padded positions contribute 0 (docs/RUNTIME.md, "Zero padding").
///
/// ```swift
/// let shape = try Conv2DShape(inputHeight: 16, inputWidth: 16, inputChannels: 64, outputChannels: 64,
///                             kernelSize: 3, stride: 1, padding: .same)
/// let conv = try BinaryConv2D(shape: shape, weights: w,     // [64][3][3][64], OHWI; signs are used
///                             output: .signBits(matching: shape.weightsPerOutput, multiplier: m, bias: b))
/// let next = try conv.forward(x, batch: 1).bits!            // x: [1 * 16 * 16 * 64] floats
/// ```
public struct BinaryConv2D: Sendable {
    public let shape: Conv2DShape
    public let output: BinaryOutputTransform
    /// Words per packed input pixel, `ceil(inputChannels / 64)`.
    public let wordsPerPixel: Int
    private let gemm: BinaryGEMM
    private let flips: [UInt64]
    /// The output pixels (oy * outW + ox, ascending) with padded taps, and each one's pattern index.
    private let borderPixels: [Int32], borderPatterns: [Int32]
    /// Per pattern, per output channel: the sum over its padded taps of the channel's weight sum.
    private let paddingCorrection: [Int32]
    /// Stride-1 layers read patches in place: GEMM word k of an output pixel's row sits at this offset
    /// from the pixel's horizontal taps (empty: im2col).
    private var rowTapOffsets: [Int] = []
    /// The 32-channel 3x3 layout of `rowTapOffsets` (three planes per image, lbr_bconv_row_taps_split32).
    private var splitRows = false

    /// `weights` are OHWI floats `[outputChannels][kernelHeight][kernelWidth][inputChannels]`; only
    /// their signs are kept (sign(0) = +1).
    public init(shape: Conv2DShape, weights: [Float], output: BinaryOutputTransform) throws {
        guard weights.count == shape.outputChannels * shape.weightsPerOutput else {
            throw LowBitError.shapeMismatch("\(weights.count) weights for \(shape.outputChannels) x \(shape.kernelHeight) x \(shape.kernelWidth) x \(shape.inputChannels)")
        }
        guard output.channelCount == shape.outputChannels else {
            throw LowBitError.shapeMismatch("output transform has \(output.channelCount) channels, the convolution \(shape.outputChannels)")
        }
        self.shape = shape
        self.output = output
        flips = output.packedFlips
        // One packed row per (output channel, tap): consecutive rows form an output's GEMM row.
        let tapBits = PackedBits(packing: weights, rows: shape.outputChannels * shape.taps, columns: shape.inputChannels)
        wordsPerPixel = tapBits.wordsPerRow
        if Self.splitsKernelRows(shape) {
            // 32 channels, 3x3, stride 1: patches read in place in 5 words (lbr_bconv_row_taps_split32).
            let t = tapBits.words, taps = shape.taps
            let words = (0..<shape.outputChannels).flatMap { j -> [UInt64] in
                let tap = { (ky: Int, kx: Int) in t[j * taps + ky * 3 + kx] }
                return [tap(0, 0) | tap(0, 1) << 32, tap(1, 0) | tap(1, 1) << 32, tap(2, 0) | tap(2, 1) << 32,
                        tap(0, 2) | tap(1, 2) << 32, tap(2, 2)]
            }
            gemm = BinaryGEMM(weightWords: words, outputCount: shape.outputChannels, wordsPerRow: 5, depth: shape.weightsPerOutput)
            let (w, plane) = (shape.outputWidth, (shape.outputHeight + 2) * shape.outputWidth)
            rowTapOffsets = [0, w, 2 * w, plane, 2 * plane + 2 * w]
            splitRows = true
        } else if let words = Self.rowTapWords(shape) {
            // Stride 1: patches are read in place from horizontal taps (lbr_bconv_row_taps), one GEMM word
            // group per kernel row; `words` words per kernel row.
            let rowBits = words == 1 && shape.inputChannels < 64
                ? PackedBits(packing: weights, rows: shape.outputChannels * shape.kernelHeight,
                             columns: shape.kernelWidth * shape.inputChannels)
                : tapBits
            gemm = BinaryGEMM(weightWords: rowBits.words, outputCount: shape.outputChannels,
                              wordsPerRow: shape.kernelHeight * words, depth: shape.weightsPerOutput)
            rowTapOffsets = (0..<shape.kernelHeight).flatMap { ky in (0..<words).map { ky * shape.outputWidth * words + $0 } }
        } else if Self.packsTapsDensely(shape) {
            // Fewer than 64 channels dividing 64: taps share words (lbr_bconv_im2col_dense), the OHWI row as is.
            let rowBits = PackedBits(packing: weights, rows: shape.outputChannels, columns: shape.weightsPerOutput)
            gemm = BinaryGEMM(weightWords: rowBits.words, outputCount: shape.outputChannels,
                              wordsPerRow: rowBits.wordsPerRow, depth: shape.weightsPerOutput)
        } else {
            gemm = BinaryGEMM(weightWords: tapBits.words, outputCount: shape.outputChannels,
                              wordsPerRow: shape.taps * wordsPerPixel, depth: shape.weightsPerOutput)
        }
        (borderPixels, borderPatterns, paddingCorrection) = Self.paddingCorrections(shape: shape, tapSums: (0..<(shape.outputChannels * shape.taps)).map { row in
            let ones = (0..<tapBits.wordsPerRow).reduce(0) { $0 + tapBits.words[row * tapBits.wordsPerRow + $1].nonzeroBitCount }
            return Int32(shape.inputChannels - 2 * ones)
        })
    }

    /// Words per kernel row when a stride-1 layer reads its patches in place (lbr_bconv_row_taps), nil
    /// for im2col: one word holding the kernel row's taps when they fit in 64 bits and that costs the GEMM
    /// no more words than dense im2col (16 channels, 3x3: 3 words either way); otherwise
    /// kernel_w * ceil(C / 64) words, as im2col's whole-word taps, for channel counts not packed densely.
    static func rowTapWords(_ shape: Conv2DShape) -> Int? {
        guard shape.strideHeight == 1, shape.strideWidth == 1 else { return nil }
        let c = shape.inputChannels
        if packsTapsDensely(shape) {
            let denseWords = PackedBits.wordCount(bits: shape.weightsPerOutput)
            return shape.kernelWidth * c <= 64 && shape.kernelHeight <= denseWords ? 1 : nil
        }
        return shape.kernelWidth * PackedBits.wordCount(bits: c)
    }

    /// 32 channels, 3x3, stride 1: a kernel row is 96 bits, so one-word-per-kernel-row reading would take
    /// 6 words against dense im2col's 5; lbr_bconv_row_taps_split32 reads the 5 in place instead.
    static func splitsKernelRows(_ shape: Conv2DShape) -> Bool {
        shape.inputChannels == 32 && shape.kernelHeight == 3 && shape.kernelWidth == 3 && shape.strideHeight == 1 && shape.strideWidth == 1
    }

    /// Whether taps are packed back to back (channels < 64 dividing 64) rather than one word per tap.
    static func packsTapsDensely(_ shape: Conv2DShape) -> Bool {
        shape.inputChannels < 64 && 64 % shape.inputChannels == 0
    }

    /// `tapSums[j * taps + t]` is what a padded tap t adds to channel j's integer result (the +1s it sees
    /// instead of 0s: `C - 2 * popcount(w[j][t])` for ±1 weights); returns, per output pixel (oy * outW +
    /// ox), the border pixels (those with padded taps, ascending) with the index of each one's set of
    /// padded taps, and per distinct set the per-channel sums: what lbr_subtract_row_corrections reads.
    static func paddingCorrections(shape: Conv2DShape, tapSums tapSum: [Int32])
        -> (borderPixels: [Int32], borderPatterns: [Int32], table: [Int32]) {
        let taps = shape.taps, n = shape.outputChannels
        var patternIndex: [[Bool]: Int32] = [:]
        var pattern = [Int32](), table = [Int32]()
        for oy in 0..<shape.outputHeight {
            for ox in 0..<shape.outputWidth {
                let padded = (0..<taps).map { shape.isPadded(outputY: oy, outputX: ox, ky: $0 / shape.kernelWidth, kx: $0 % shape.kernelWidth) }
                guard padded.contains(true) else { pattern.append(-1); continue }
                if let index = patternIndex[padded] { pattern.append(index); continue }
                let index = Int32(patternIndex.count)
                patternIndex[padded] = index
                pattern.append(index)
                for j in 0..<n {
                    table.append((0..<taps).reduce(Int32(0)) { padded[$1] ? $0 + tapSum[j * taps + $1] : $0 })
                }
            }
        }
        return (pattern.indices.filter { pattern[$0] >= 0 }.map { Int32($0) }, pattern.filter { $0 >= 0 }, table)
    }

    /// Runs the layer on `batch` images of packed input pixels (`input.rows == batch * H * W`,
    /// `input.columns == inputChannels`).
    public func forward(_ input: PackedBits, batch: Int, path: KernelPath = .best) throws -> BinaryLayerOutput {
        try checkInput(input, batch: batch)
        let rows = batch * shape.outputHeight * shape.outputWidth, n = shape.outputChannels
        switch output {
        case .float:
            // Uninitialized: the blocks' output transforms write every element (a zeroing pass was ~5% of
            // a 64 -> 64 @16x16 layer with float output).
            var out = [Float](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }
            out.withUnsafeMutableBufferPointer { o in
                let o = o.baseAddress!
                run(input, batch: batch, path: path) { dots, range in
                    output.applyFloat(dots, rows: range.count, dotStride: n, into: o + range.lowerBound * n, outStride: n, path: path)
                }
            }
            return .float(out)
        case .signBits:
            var bits = PackedBits(uninitializedRows: rows, columns: n)   // lbr_output_bits writes every word
            let wordsPerRow = bits.wordsPerRow
            bits.words.withUnsafeMutableBufferPointer { o in
                let o = o.baseAddress!
                run(input, batch: batch, path: path) { dots, range in
                    output.applyBits(dots, rows: range.count, dotStride: n, flips: flips,
                                     into: o + range.lowerBound * wordsPerRow, wordsPerRow: wordsPerRow, path: path)
                }
            }
            return .signBits(bits)
        }
    }

    /// The last convolution of a residual block with the rest of the block fused into its output
    /// transform: `activation(transform(dot) + addend)` per element (the unfused steps' rounding, bit
    /// for bit), plus, with `signs`, the sign bits of the result for the next binary layer. Needs a
    /// ``BinaryOutputTransform/float(multiplier:bias:)`` transform; `addend` has the output's shape, or
    /// is nil for the activation alone (a convolution whose float output goes to a float step).
    public func forwardResidual(_ input: PackedBits, batch: Int, adding addend: [Float]?, activation: FusedActivation,
                                signs: Bool, path: KernelPath = .best) throws -> (floats: [Float], bits: PackedBits?) {
        try checkInput(input, batch: batch)
        guard case let .float(multiplier, bias) = output else {
            throw LowBitError.unsupported("a residual sum is fused only into a float output transform")
        }
        let rows = batch * shape.outputHeight * shape.outputWidth, n = shape.outputChannels
        guard addend.map({ $0.count == rows * n }) ?? true else {
            throw LowBitError.shapeMismatch("shortcut of \(addend?.count ?? 0) values for a convolution output of \(rows) x \(n)")
        }
        var out = [Float](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }
        var bits = signs ? PackedBits(uninitializedRows: rows, columns: n) : nil   // every word written
        let wordsPerRow = PackedBits.wordCount(bits: n)
        out.withUnsafeMutableBufferPointer { o in
            (addend ?? []).withUnsafeBufferPointer { skip in
                bits.withOptionalWords { words in
                    run(input, batch: batch, path: path) { dots, range in
                        lbr_output_residual(path.isa, dots, range.count, n, n, multiplier, bias, addend == nil ? nil : skip.baseAddress! + range.lowerBound * n, n,
                                            activation.kernelValue, o.baseAddress! + range.lowerBound * n, n,
                                            words.map { $0 + range.lowerBound * wordsPerRow }, wordsPerRow)
                    }
                }
            }
        }
        return (out, bits)
    }

    /// Packs the signs of float NHWC input `[batch][H][W][C]`, then runs ``forward(_:batch:path:)``.
    public func forward(_ input: [Float], batch: Int, path: KernelPath = .best) throws -> BinaryLayerOutput {
        try forward(PackedBits(packing: input, rows: batch * shape.inputHeight * shape.inputWidth,
                               columns: shape.inputChannels, path: path), batch: batch, path: path)
    }

    /// The exact integer convolution (zero padding) before the output transform:
    /// `[batch * outH * outW][outputChannels]`.
    public func dotProducts(_ input: PackedBits, batch: Int, path: KernelPath = .best) throws -> [Int32] {
        try checkInput(input, batch: batch)
        let n = shape.outputChannels
        var out = [Int32](repeating: 0, count: batch * shape.outputHeight * shape.outputWidth * n)
        out.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            run(input, batch: batch, path: path) { dots, range in
                (o + range.lowerBound * n).update(from: dots, count: range.count * n)
            }
        }
        return out
    }

    private func checkInput(_ input: PackedBits, batch: Int) throws {
        guard batch >= 1, input.rows == batch * shape.inputHeight * shape.inputWidth, input.columns == shape.inputChannels else {
            throw LowBitError.shapeMismatch("input of \(input.rows) pixels x \(input.columns) channels; the convolution takes \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels)")
        }
    }

    /// im2col, GEMM and padding correction over blocks of output rows, threads splitting the rows;
    /// `emit` receives each block's corrected dot products and its output row range.
    private func run(_ input: PackedBits, batch: Int, path: KernelPath,
                     emit: (UnsafePointer<Int32>, Range<Int>) -> Void) {
        if !rowTapOffsets.isEmpty {
            return runInPlace(input, batch: batch, path: path, emit: emit)
        }
        let pixels = shape.outputHeight * shape.outputWidth, rows = batch * pixels, n = shape.outputChannels
        let rowWords = gemm.wordsPerRow, blockRows = 128, dense = Self.packsTapsDensely(shape)
        let geometry = shape.kernelGeometry(batch: batch)
        input.words.withUnsafeBufferPointer { packedInput in
            Parallel.forChunks(rows, work: rows * n * rowWords * BinaryGEMM.workPerWord, grain: .fine) { chunk in
                var geometry = geometry
                // Raw buffers, not arrays: an array per chunk cost a generic metadata lookup and a memset of
                // the dots, which every GEMM overwrites (~5% of a 2-thread hybrid ResNet-20).
                let columns = UnsafeMutablePointer<UInt64>.allocate(capacity: blockRows * rowWords)
                columns.initialize(repeating: 0, count: blockRows * rowWords)
                let dots = UnsafeMutablePointer<Int32>.allocate(capacity: blockRows * n)
                defer {
                    columns.deallocate()
                    dots.deallocate()
                }
                for start in stride(from: chunk.lowerBound, to: chunk.upperBound, by: blockRows) {
                    let block = start..<min(chunk.upperBound, start + blockRows)
                    if dense {
                        lbr_bconv_im2col_dense(packedInput.baseAddress, shape.inputChannels, &geometry, block.lowerBound,
                                               block.upperBound, rowWords, columns)
                    } else {
                        lbr_bconv_im2col(packedInput.baseAddress, wordsPerPixel, &geometry, block.lowerBound, block.upperBound, columns)
                    }
                    gemm.multiply(rowRange: 0..<block.count, input: columns, output: dots, outputStride: n, path: path)
                    lbr_subtract_row_corrections(dots, n, block.lowerBound, block.upperBound, n, borderPixels,
                                                 borderPatterns, borderPixels.count, pixels, paddingCorrection)
                    emit(dots, block)
                }
            }
        }
    }

    /// ``run(_:batch:path:emit:)`` for stride-1 layers: horizontal taps (`lbr_bconv_row_taps`, about
    /// kernel_w words per input pixel instead of im2col's kernel_h * kernel_w), then the GEMM reads each
    /// output pixel's kernel rows in place through `rowTapOffsets` (`lbr_bgemm_gathered`). Each chunk
    /// builds the tap rows its own output rows read (plus the kernel_h - 1 rows below them, which the
    /// next chunk builds too) in its own image-sized buffer, so the taps are made by both threads
    /// instead of one before the split.
    private func runInPlace(_ input: PackedBits, batch: Int, path: KernelPath, emit: (UnsafePointer<Int32>, Range<Int>) -> Void) {
        let pixels = shape.outputHeight * shape.outputWidth, rows = batch * pixels, n = shape.outputChannels
        let (outW, kernelH) = (shape.outputWidth, shape.kernelHeight)
        // Words per position (the row stride of the gathered rows) and per image of horizontal taps.
        let words = splitRows ? 1 : rowTapOffsets.count / kernelH, blockRows = 128
        let perImage = (shape.outputHeight + kernelH - 1) * outW * (splitRows ? 3 : words)
        let geometry = shape.kernelGeometry(batch: batch)
        input.words.withUnsafeBufferPointer { packedInput in
            rowTapOffsets.withUnsafeBufferPointer { offsets in
                Parallel.forChunks(rows, work: rows * n * gemm.wordsPerRow * BinaryGEMM.workPerWord, grain: .fine) { chunk in
                    var geometry = geometry
                    // Raw buffers: arrays per chunk cost a generic metadata lookup each; every block
                    // overwrites its dots, and only the tap rows built below are read.
                    let taps = UnsafeMutablePointer<UInt64>.allocate(capacity: perImage)
                    let dots = UnsafeMutablePointer<Int32>.allocate(capacity: blockRows * n)
                    defer {
                        taps.deallocate()
                        dots.deallocate()
                    }
                    var builtImage = -1, builtEnd = 0   // tap rows [.., builtEnd) of builtImage are in `taps`
                    var start = chunk.lowerBound
                    while start < chunk.upperBound {
                        // A block stays inside one image: the next image's taps start after its padded rows.
                        let image = start / pixels, end = min(chunk.upperBound, start + blockRows, (image + 1) * pixels)
                        let firstRow = (start - image * pixels) / outW, lastRow = (end - 1 - image * pixels) / outW
                        let from = image == builtImage ? max(builtEnd, firstRow) : firstRow, to = lastRow + kernelH
                        if from < to {
                            if splitRows {
                                lbr_bconv_row_taps_split32(packedInput.baseAddress, &geometry, image, from, to, taps)
                            } else {
                                lbr_bconv_row_taps(packedInput.baseAddress, shape.inputChannels, wordsPerPixel, &geometry, words, image,
                                                   from, to, taps)
                            }
                        }
                        (builtImage, builtEnd) = (image, max(to, image == builtImage ? builtEnd : 0))
                        gemm.multiplyGathered(rowRange: 0..<(end - start), input: taps + (start - image * pixels) * words, stride: words,
                                              offsets: offsets.baseAddress!, output: dots, outputStride: n, path: path)
                        lbr_subtract_row_corrections(dots, n, start, end, n, borderPixels, borderPatterns,
                                                     borderPixels.count, pixels, paddingCorrection)
                        emit(dots, start..<end)
                        start = end
                    }
                }
            }
        }
    }
}
