import CLowBitRuntimeKernels
import LowBitTensor

/// Binary matrix product against packed weights: `out[m][j] = K - 2 * popcount(a[m] XOR w[j])`,
/// the dot product of two ±1 vectors of length K.
///
/// The weights are re-laid out once at construction (groups of 4 output rows interleaved by word,
/// docs/RUNTIME.md); rows of the input are split across ``Parallel`` threads when the product is
/// large (about 50 us of work per thread or more). K need not be a multiple of 64: pad bits are 0 in
/// both operands and never count.
///
/// ```swift
/// let w = PackedBits(packing: weights, rows: 64, columns: 200)    // 64 outputs, K = 200
/// let gemm = BinaryGEMM(weights: w)
/// let dots = try gemm.multiply(PackedBits(packing: x, rows: 8, columns: 200))
/// // dots[m * 64 + j] = sum_k sign(x[m][k]) * sign(w[j][k])
/// ```
public struct BinaryGEMM: Sendable {
    /// Output columns (weight rows).
    public let outputCount: Int
    /// K, the number of logical ±1 products per output.
    public let depth: Int
    /// Words per input row.
    public let wordsPerRow: Int

    /// ``Parallel/forChunks(_:work:grain:_:)`` operations per (row, output, word): one word is 64
    /// XNOR-popcount products, about 0.28 ns here (AVX2), so a stage-3 ResNet-20 layer at batch 1
    /// (49 rows x 64 outputs x 9 words, ~8 us) counted only 28k operations and ran on one thread
    /// under the fine grain's 16k-per-chunk minimum. At 4, a chunk is at least ~1.1 us of work.
    static let workPerWord = 4
    private let packedWeights: [UInt64]

    /// Weights of `outputCount = weights.rows` outputs over `depth = weights.columns` inputs.
    public init(weights: PackedBits) {
        self.init(weightWords: weights.words, outputCount: weights.rows, wordsPerRow: weights.wordsPerRow, depth: weights.columns)
    }

    /// Weights whose rows have padding inside them (a convolution's per-tap words): `depth` counts
    /// only the logical bits; every other bit must be 0 in weights and inputs alike.
    init(weightWords: [UInt64], outputCount: Int, wordsPerRow: Int, depth: Int) {
        precondition(weightWords.count == outputCount * wordsPerRow && depth <= wordsPerRow * 64, "inconsistent weight words")
        self.outputCount = outputCount
        self.depth = depth
        self.wordsPerRow = wordsPerRow
        var packed = [UInt64](repeating: 0, count: lbr_bgemm_packed_weight_words(outputCount, wordsPerRow))
        weightWords.withUnsafeBufferPointer { w in
            lbr_bgemm_pack_weights(w.baseAddress, outputCount, wordsPerRow, wordsPerRow, &packed)
        }
        packedWeights = packed
    }

    /// Dot products of every input row with every weight row, `[input.rows * outputCount]` row-major.
    public func multiply(_ input: PackedBits, path: KernelPath = .best) throws -> [Int32] {
        guard input.columns == depth, input.wordsPerRow == wordsPerRow else {
            throw LowBitError.shapeMismatch("input rows of \(input.columns) bits in \(input.wordsPerRow) words; the weights take \(depth) bits in \(wordsPerRow) words")
        }
        var out = [Int32](repeating: 0, count: input.rows * outputCount)
        if out.isEmpty || wordsPerRow == 0 { return out }
        input.words.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                multiply(rows: input.rows, input: a.baseAddress!, output: o.baseAddress!, outputStride: outputCount, path: path)
            }
        }
        return out
    }

    /// The kernel over `rows` input rows of `wordsPerRow` words, split across threads.
    func multiply(rows: Int, input: UnsafePointer<UInt64>, output: UnsafeMutablePointer<Int32>, outputStride: Int,
                  path: KernelPath) {
        Parallel.forChunks(rows, work: rows * outputCount * wordsPerRow * Self.workPerWord, grain: .fine) { range in
            multiply(rowRange: range, input: input, output: output, outputStride: outputStride, path: path)
        }
    }

    /// The kernel on one thread, for input rows `rowRange` (input and output indexed from row 0).
    func multiply(rowRange: Range<Int>, input: UnsafePointer<UInt64>, output: UnsafeMutablePointer<Int32>,
                  outputStride: Int, path: KernelPath) {
        packedWeights.withUnsafeBufferPointer { w in
            lbr_bgemm(path.isa, input, wordsPerRow, rowRange.lowerBound, rowRange.upperBound, w.baseAddress, outputCount,
                      wordsPerRow, Int32(depth), output, outputStride)
        }
    }

    /// ``multiply(rowRange:input:output:outputStride:path:)`` with gathered rows: word k of input row m
    /// is `input[m * stride + offsets[k]]` (`offsets.count == wordsPerRow`), as `lbr_bgemm_gathered`.
    func multiplyGathered(rowRange: Range<Int>, input: UnsafePointer<UInt64>, stride: Int, offsets: UnsafePointer<Int>,
                          output: UnsafeMutablePointer<Int32>, outputStride: Int, path: KernelPath) {
        packedWeights.withUnsafeBufferPointer { w in
            lbr_bgemm_gathered(path.isa, input, stride, offsets, rowRange.lowerBound, rowRange.upperBound, w.baseAddress,
                               outputCount, wordsPerRow, Int32(depth), output, outputStride)
        }
    }
}
