import CLowBitRuntimeKernels
import LowBitTensor

/// Int8 matrix product with exact int32 accumulation: `acc[m][j] = sum_k a[m][k] * w[j][k]` for
/// uint8 or int8 activations and int8 weights (symmetric, per output channel scales applied later
/// by a ``Requantizer``).
///
/// Zero points: with symmetric weights, `sum_k (a - z) * w = acc - z * weightSums[j]`, so
/// ``foldedBias(_:inputZeroPoint:)`` moves the correction into the int32 bias once and the kernel
/// never sees z. Both operands are widened to int16 and multiplied with vpmaddwd, which never
/// saturates (docs/RUNTIME.md, "Int8 GEMM"); the sum is exact while `inputCount <= 65793`. uint8
/// inputs whose products with the weights cannot saturate a vpmaddubsw pair (`2 * inputMax * max|w|
/// <= 32767`: 4-bit codes, 7-bit weights, or 7-bit inputs) take `lbr_i8gemm_small` instead, 1.2-1.9x
/// faster (docs/RUNTIME.md, "Small weights"). Full-range uint8 inputs of which at most one in
/// ``highBitSparsity`` is 128 or more take it too, on their low 7 bits, plus a sparse correction for
/// the high bits (docs/RUNTIME.md, "Full-range uint8 inputs on vpmaddubsw"); exact either way.
///
/// ```swift
/// let gemm = try Int8GEMM(weights: w, outputCount: 256, inputCount: 784)
/// let acc = try gemm.accumulate(uint8: x, rows: 1)
/// let bias = gemm.foldedBias(b, inputZeroPoint: 128)
/// let q: [UInt8] = try requantizer.requantize(acc, rows: 1, bias: bias)
/// ```
public struct Int8GEMM: Sendable {
    /// The largest `inputCount` whose int32 sums cannot overflow: 2^31 / (255 * 128).
    public static let maximumInputCount = 65_793

    public let outputCount: Int
    public let inputCount: Int

    /// max over rows j of sum_k |w[j][k]| for row-major weights with rows of `rowLength`: times the
    /// largest |input code|, a bound on every accumulator (the requantization shift, F(4x4) Winograd).
    static func largestRowMagnitude(_ weights: [Int8], rowLength: Int) -> Int {
        guard rowLength > 0 else { return 0 }
        return stride(from: 0, to: weights.count, by: rowLength).map { start in
            weights[start..<min(start + rowLength, weights.count)].reduce(0) { $0 + abs(Int($1)) }
        }.max() ?? 0
    }

    /// sum_k w[j][k] per output, for the zero-point correction.
    public let weightSums: [Int32]
    /// max |w|.
    public let largestWeight: Int
    private let packedWeights: [Int8]
    /// The byte layout of the vpmaddubsw kernel (`lbr_pack_byte_tiles`), empty unless it applies to
    /// uint8 inputs up to the `inputMax` given at creation, directly or with the high bit apart.
    private let packedBytes: [Int8]
    /// The weights by input, `[inputCount][outputCount]`, for the high-bit share of full-range uint8
    /// inputs (`lbr_i8gemm_high_bits`); empty when those take the int16 kernel.
    private let weightsByInput: [Int8]
    /// At most one input in this many may be 128 or more for the high-bit split; denser inputs take
    /// the int16 kernel, which is faster then (docs/RUNTIME.md, "Full-range uint8 inputs on vpmaddubsw").
    static let highBitSparsity = 16
    /// Dense products of fewer rows than this take the int16 kernel with threads splitting the columns.
    static let fewRows = 4

    /// `weights` row-major `[outputCount][inputCount]`. `inputMax`: the largest uint8 input the caller
    /// will pass (255; 15 for 4-bit codes, 127 for 7-bit ones): when `2 * inputMax * max|w| <= 32767`
    /// (weights up to 64 for 8-bit inputs, any int8 weight for inputs up to 127) uint8 products take
    /// the vpmaddubsw kernel (`lbr_i8gemm_small`), whose byte layout is kept too.
    public init(weights: [Int8], outputCount: Int, inputCount: Int, inputMax: UInt8 = 255) throws {
        guard outputCount >= 1, inputCount >= 1, weights.count == outputCount * inputCount else {
            throw LowBitError.shapeMismatch("\(weights.count) int8 weights for \(outputCount) x \(inputCount)")
        }
        guard inputCount <= Self.maximumInputCount else {
            throw LowBitError.unsupported("int8 GEMM over \(inputCount) inputs could overflow int32; split the reduction (at most \(Self.maximumInputCount))")
        }
        self.outputCount = outputCount
        self.inputCount = inputCount
        weightSums = (0..<outputCount).map { j in weights[(j * inputCount)..<((j + 1) * inputCount)].reduce(Int32(0)) { $0 + Int32($1) } }
        var packed = [Int8](repeating: 0, count: lbr_i8gemm_packed_weight_count(outputCount, inputCount))
        lbr_i8gemm_pack_weights(weights, outputCount, inputCount, inputCount, &packed)
        packedWeights = packed
        largestWeight = weights.map { abs(Int($0)) }.max() ?? 0
        var bytes: [Int8] = [], byInput: [Int8] = []
        let direct = 2 * Int(max(inputMax, 1)) * largestWeight <= 32_767
        if direct || 2 * 127 * largestWeight <= 32_767 {
            bytes = [Int8](repeating: 0, count: lbr_tgemm_packed_weight_bytes(outputCount, inputCount))
            lbr_pack_byte_tiles(weights, inputCount, outputCount, inputCount, &bytes)
        }
        if !direct && !bytes.isEmpty {
            byInput = [Int8](unsafeUninitializedCapacity: weights.count) { out, count in
                for j in 0..<outputCount {
                    for k in 0..<inputCount { out[k * outputCount + j] = weights[j * inputCount + k] }
                }
                count = weights.count
            }
        }
        packedBytes = bytes
        weightsByInput = byInput
    }

    /// Steps of 4 inputs the vpmaddubsw kernel may sum in int16 before widening, for uint8 inputs of at
    /// most `inputMax`: `32767 / (2 * inputMax * largestWeight)`; nil when that kernel does not apply
    /// (no byte layout, or a pair of products could saturate).
    func smallKernelSteps(inputMax: Int32) -> Int? {
        let steps = 32_767 / max(1, 2 * Int(max(inputMax, 1)) * max(largestWeight, 1))
        guard !packedBytes.isEmpty, steps >= 1 else { return nil }
        return min(4_096, steps)
    }

    /// Accumulators for uint8 activations `[rows][inputCount]`.
    public func accumulate(uint8 input: [UInt8], rows: Int, path: KernelPath = .best) throws -> [Int32] {
        try input.withUnsafeBytes { try accumulate($0, signed: false, rows: rows, inputMax: 255, path: path) }
    }

    /// ``accumulate(uint8:rows:path:)`` for k-bit codes, every input at most `inputMax` (checked; a larger
    /// one throws): with small weights, the kernel sums more steps in int16 before widening.
    public func accumulate(uint8 input: [UInt8], rows: Int, inputMax: UInt8, path: KernelPath = .best) throws -> [Int32] {
        if let largest = input.max(), largest > inputMax {
            throw LowBitError.invalidArgument("input code \(largest) exceeds the stated maximum \(inputMax)")
        }
        return try accumulate(codes: input, rows: rows, inputMax: Int32(inputMax), path: path)
    }

    /// The same without the check, for codes a quantizer or requantizer clamped to `inputMax`, with
    /// `epilogue` per finished chunk of rows (as ``accumulatePatches(_:shape:batch:inputMax:path:epilogue:)``).
    func accumulate(codes input: [UInt8], rows: Int, inputMax: Int32, path: KernelPath = .best,
                    epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void = { _, _ in }) throws -> [Int32] {
        try input.withUnsafeBytes { try accumulate($0, signed: false, rows: rows, inputMax: inputMax, path: path, epilogue: epilogue) }
    }

    /// Accumulators for int8 activations `[rows][inputCount]`.
    public func accumulate(int8 input: [Int8], rows: Int, path: KernelPath = .best) throws -> [Int32] {
        try accumulate(int8: input, rows: rows, path: path) { _, _ in }
    }

    /// ``accumulate(int8:rows:path:)`` with `epilogue` per finished chunk of rows.
    func accumulate(int8 input: [Int8], rows: Int, path: KernelPath = .best,
                    epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) throws -> [Int32] {
        try input.withUnsafeBytes { try accumulate($0, signed: true, rows: rows, inputMax: 127, path: path, epilogue: epilogue) }
    }

    /// The accumulators `[batch * outH * outW][outputCount]` of a convolution of NHWC codes
    /// `[batch][H][W][C]` with these weights (OHWI, `inputCount` = kh * kw * C), zero padding, patches
    /// read in place; full-range uint8 codes with few of 128 or more take the high-bit split.
    public func accumulate<Code: QuantizedByte>(_ codes: [Code], convolution shape: Conv2DShape, batch: Int,
                                                path: KernelPath = .best) throws -> [Int32] {
        try accumulatePatches(codes, shape: shape, batch: batch, path: path)
    }

    /// Accumulators of a convolution whose patches are read in place from 8-bit NHWC codes
    /// `[batch][H][W][C]` (`lbr_pad_nhwc_bytes` + `lbr_i8gemm_patches`): the product with
    /// `lbr_im2col_bytes`' rows, bit for bit, without writing them. `Code` is `UInt8` or `Int8`;
    /// `inputMax` bounds unsigned codes (callers guarantee it; see ``smallKernelSteps(inputMax:)``).
    /// `epilogue` gets each chunk's finished accumulator rows (all of them, at their row offsets) on the
    /// thread that computed them, so a layer requantizes them while they are in cache, in parallel.
    /// `splittingHighBits` false: the caller already found the high bits too dense
    /// (``accumulatePatchesSplit(_:shape:batch:inputMax:path:epilogue:)`` gave nil), so they are not tried again.
    func accumulatePatches<Code: QuantizedByte>(_ codes: [Code], shape: Conv2DShape, batch: Int, inputMax: Int32 = 255,
                                                path: KernelPath = .best, splittingHighBits: Bool = true,
                                                epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void = { _, _ in }) throws -> [Int32] {
        guard codes.count == batch * shape.inputHeight * shape.inputWidth * shape.inputChannels, shape.weightsPerOutput == inputCount else {
            throw LowBitError.shapeMismatch("\(codes.count) codes for \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels) into a GEMM of \(inputCount) inputs")
        }
        let (padded, geometry) = IntegerPatches.padded(codes, shape: shape, batch: batch)
        let rows = batch * shape.outputHeight * shape.outputWidth
        let splits = splittingHighBits && shape.kernelHeight * shape.kernelWidth <= LBR_HIGH_BITS_MAX_TAPS
        return withUnsafePointer(to: geometry) { g in   // one shared read-only pointer for every chunk
            padded.withUnsafeBytes { a in
                product(a, signed: Code.isSigned, patches: g, channels: shape.inputChannels, rows: rows, inputMax: inputMax,
                        splits: splits, path: path, epilogue: epilogue)
            }
        }
    }

    /// The input of a uint8 convolution for ``accumulatePatchesSplit(_:shape:batch:inputMax:path:epilogue:)``:
    /// codes, or floats the pass quantizes (`clamp(round(x / scale), 0, inputMax)`, as
    /// `RuntimeValue.uint8Codes` does).
    enum PatchSource {
        case codes([UInt8])
        case floats([Float], scale: Float)
    }

    /// A full-range uint8 convolution with the high bit apart, its input padded (and quantized, for
    /// floats) and split in one pass (`lbr_pad_split_high_bits`) instead of three. Nil, before any
    /// product, when the split does not apply (weights, `inputMax`) or more than one input in
    /// ``highBitSparsity`` is 128 or more: the caller runs
    /// ``accumulatePatches(_:shape:batch:inputMax:path:epilogue:)`` on the codes instead.
    func accumulatePatchesSplit(_ source: PatchSource, shape: Conv2DShape, batch: Int, inputMax: Int32, path: KernelPath = .best,
                                epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) throws -> [Int32]? {
        let count = batch * shape.inputHeight * shape.inputWidth * shape.inputChannels
        let given: Int
        switch source {
        case let .codes(codes): given = codes.count
        case let .floats(values, _): given = values.count
        }
        guard given == count, shape.weightsPerOutput == inputCount else {
            throw LowBitError.shapeMismatch("\(given) inputs for \(batch) x \(shape.inputHeight) x \(shape.inputWidth) x \(shape.inputChannels) into a GEMM of \(inputCount) inputs")
        }
        let frame = IntegerPatches.Frame(shape: shape, batch: batch)
        guard !weightsByInput.isEmpty, inputMax > 127, smallKernelSteps(inputMax: inputMax) == nil, frame.count < Int(UInt32.max),
              frame.count > 0, shape.kernelHeight * shape.kernelWidth <= LBR_HIGH_BITS_MAX_TAPS else { return nil }
        let limit = frame.count / Self.highBitSparsity
        var found = 0
        var positions = [UInt32](unsafeUninitializedCapacity: limit) { _, count in count = limit }
        let low = [UInt8](unsafeUninitializedCapacity: frame.count) { low, initialized in
            let (out, top) = (low.baseAddress, frame.top)
            found = positions.withUnsafeMutableBufferPointer { p in
                let listed = p.baseAddress
                func split(_ input: UnsafeRawPointer?, _ isFloat: Int32, _ scale: Float) -> Int {
                    lbr_pad_split_high_bits(path.isa, input, isFloat, scale, inputMax, batch, shape.inputHeight, shape.inputWidth,
                                            shape.inputChannels, top, frame.bottom, frame.left, frame.right, out, listed, limit)
                }
                switch source {
                case let .codes(codes): return codes.withUnsafeBytes { split($0.baseAddress, 0, 1) }
                case let .floats(values, scale): return values.withUnsafeBytes { split($0.baseAddress, 1, scale) }
                }
            }
            initialized = frame.count
        }
        guard (0...limit).contains(found) else { return nil }   // SIZE_MAX (-1 here): too many
        positions.removeLast(limit - found)
        let rows = batch * shape.outputHeight * shape.outputWidth
        return withUnsafePointer(to: frame.geometry) { g in
            low.withUnsafeBytes { a in
                product(a, signed: false, patches: g, channels: shape.inputChannels, rows: rows, inputMax: inputMax, splits: true,
                        split: HighBits(low: low, positions: positions), path: path, epilogue: epilogue)
            }
        }
    }

    /// The product of `rows` rows of `input` (dense, `[rows][inputCount]`, when `patches` is nil) or of
    /// convolution patches read from the padded frame `input`, with `epilogue` per finished chunk.
    /// Chooses the kernel: vpmaddubsw for small products, the same on 7-bit codes with the high bit
    /// apart for sparse full-range uint8 (`splits`), the int16 kernel otherwise.
    /// `split`: the high bits already apart (`input` is then their low codes).
    /// Dense products of fewer than 4 rows (batch 1 to 3) always take the int16 kernel, its one-row
    /// tile at batch 1, with threads splitting the columns: such a product streams the weights once
    /// and every kernel reads them as bytes, but the vpmaddubsw kernel and the split compute 4 rows
    /// (2x slower at batch 1 with the high bit apart, `lowbit bench kernels` "int8 dense, batch 1").
    private func product(_ input: UnsafeRawBufferPointer, signed: Bool, patches: UnsafePointer<lbr_patch_geometry>?, channels: Int,
                         rows: Int, inputMax: Int32, splits: Bool, split given: HighBits? = nil, path: KernelPath,
                         epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) -> [Int32] {
        let (n, k) = (outputCount, inputCount)
        var acc = [Int32](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }   // every row written
        if acc.isEmpty { return acc }
        if patches == nil, given == nil, rows < Self.fewRows {
            let tileBytes = 16 * ((k + 1) / 2 * 2)   // one 16-column weight tile, [k pairs][16][2] bytes
            acc.withUnsafeMutableBufferPointer { out in
                let out = out.baseAddress!
                packedWeights.withUnsafeBufferPointer { weights in
                    Parallel.forChunks((n + 15) / 16, work: rows * n * (k + 32) / 16, grain: .fine) { tiles in
                        let first = tiles.lowerBound * 16, last = min(n, tiles.upperBound * 16)
                        lbr_i8gemm(path.isa, input.baseAddress, signed ? 1 : 0, k, 0, rows, weights.baseAddress! + tiles.lowerBound * tileBytes,
                                   last - first, k, out + first, n)
                    }
                }
                epilogue(out, 0..<rows)
            }
            return acc
        }
        var small = signed ? nil : smallKernelSteps(inputMax: inputMax)
        var split = given
        if split == nil, !signed, small == nil, inputMax > 127, splits, let parts = splitHighBits(input, path: path) {
            split = parts
        }
        if split != nil { small = smallKernelSteps(inputMax: 127) }
        acc.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            packedWeights.withUnsafeBufferPointer { weights in
                func run(_ a: UnsafeRawBufferPointer, _ positions: UnsafeBufferPointer<UInt32>?) {
                    // Work in vector multiply-adds, plus a row's fixed cost (panel packing, stores) of ~2 steps:
                    // counted as k alone, the 9-input stem of a grey-image network stayed on one thread.
                    Parallel.forChunks(rows, work: rows * n * (k + 32) / 16, grain: .fine) { range in
                        let (first, last) = (range.lowerBound, range.upperBound)
                        switch (small, patches) {
                        case let (steps?, _):
                            lbr_i8gemm_small(path.isa, a.baseAddress!.assumingMemoryBound(to: UInt8.self), patches == nil ? k : 0, patches,
                                             first, last, packedBytes, n, k, steps, out, n)
                        case let (nil, g?):
                            lbr_i8gemm_patches(path.isa, a.baseAddress, signed ? 1 : 0, g, first, last, weights.baseAddress, n, out, n)
                        case (nil, nil):
                            lbr_i8gemm(path.isa, a.baseAddress, signed ? 1 : 0, k, first, last, weights.baseAddress, n, k, out, n)
                        }
                        if let positions {
                            lbr_i8gemm_high_bits(path.isa, positions.baseAddress, positions.count, patches, channels, k, weightsByInput, n,
                                                 first, last, out, n)
                        }
                        epilogue(out, range)
                    }
                }
                guard let split else { return run(input, nil) }
                split.low.withUnsafeBytes { low in split.positions.withUnsafeBufferPointer { run(low, $0) } }
            }
        }
        return acc
    }

    /// Full-range uint8 inputs apart: their low 7 bits, and where the inputs of 128 or more are.
    struct HighBits {
        let low: [UInt8]
        let positions: [UInt32]
    }

    /// `lbr_split_high_bits` of uint8 `codes` when the high-bit split applies (weights by input kept)
    /// and at most one code in ``highBitSparsity`` is 128 or more; nil otherwise.
    func splitHighBits(_ codes: UnsafeRawBufferPointer, path: KernelPath) -> HighBits? {
        guard !weightsByInput.isEmpty, !codes.isEmpty, codes.count < Int(UInt32.max) else { return nil }
        let limit = codes.count / Self.highBitSparsity
        var found = 0
        var positions = [UInt32](unsafeUninitializedCapacity: limit) { _, count in count = limit }
        let low = [UInt8](unsafeUninitializedCapacity: codes.count) { low, count in
            found = positions.withUnsafeMutableBufferPointer { p in
                lbr_split_high_bits(path.isa, codes.baseAddress!.assumingMemoryBound(to: UInt8.self), codes.count, low.baseAddress,
                                    p.baseAddress, limit)
            }
            count = codes.count
        }
        guard (0...limit).contains(found) else { return nil }   // SIZE_MAX (-1 here): too many
        positions.removeLast(limit - found)
        return HighBits(low: low, positions: positions)
    }

    /// `bias[j] - inputZeroPoint * weightSums[j]` (wrapping): added to ``accumulate(uint8:rows:path:)``
    /// it gives `sum_k (a - z) * w + bias`.
    public func foldedBias(_ bias: [Int32]?, inputZeroPoint: Int32) -> [Int32] {
        (0..<outputCount).map { j in (bias?[j] ?? 0) &- inputZeroPoint &* weightSums[j] }
    }

    private func accumulate(_ input: UnsafeRawBufferPointer, signed: Bool, rows: Int, inputMax: Int32, path: KernelPath,
                            epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void = { _, _ in }) throws -> [Int32] {
        guard rows >= 0, input.count == rows * inputCount else {
            throw LowBitError.shapeMismatch("\(input.count) activations for \(rows) rows of \(inputCount)")
        }
        return product(input, signed: signed, patches: nil, channels: 0, rows: rows, inputMax: inputMax, splits: true, path: path,
                       epilogue: epilogue)
    }
}
