import CLowBitRuntimeKernels
import LowBitTensor

/// Float inputs times ±1 weights, `out[m][j] = sum_k x[m][k] * s[j][k]`: what a binary layer computes
/// when it reads floats (a binary first layer), from the weights' sign bits.
///
/// The inputs are taken three at a time: each triple's 8 signed sums form a table, and each output
/// looks its 3-bit weight pattern up in it (`lbr_slgemm`, docs/RUNTIME.md "Float inputs x ±1
/// weights"). The weights take 8/3 bits each in memory, against 32 as floats. Threads split the
/// rows, or the outputs when there are fewer than 4 rows.
///
/// ```swift
/// let gemm = FloatSignGEMM(weights: PackedBits(packing: w, rows: 256, columns: 784))
/// let dots = try gemm.multiply(pixels, rows: 1)   // [256]: sum_k pixels[k] * sign(w[j][k])
/// ```
public struct FloatSignGEMM: Sendable {
    /// Output columns (weight rows).
    public let outputCount: Int
    /// Inputs per row.
    public let inputCount: Int
    private let patterns: [UInt8]

    public init(weights: PackedBits) {
        outputCount = weights.rows
        inputCount = weights.columns
        var packed = [UInt8](repeating: 0, count: lbr_slgemm_packed_bytes(weights.rows, weights.columns))
        lbr_slgemm_pack(weights.words, weights.wordsPerRow, weights.rows, weights.columns, &packed)
        patterns = packed
    }

    /// The products of `rows` rows of `input` (`[rows][inputCount]`), `[rows][outputCount]`.
    public func multiply(_ input: [Float], rows: Int, path: KernelPath = .best) throws -> [Float] {
        guard rows >= 0, input.count == rows * inputCount else {
            throw LowBitError.shapeMismatch("\(input.count) inputs for \(rows) rows of \(inputCount)")
        }
        let (n, k) = (outputCount, inputCount)
        var out = [Float](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }   // every element written
        if out.isEmpty { return out }
        if k == 0 {
            for index in out.indices { out[index] = 0 }
            return out
        }
        let groups = (k + 2) / 3, work = rows * n * (groups + 8) / 8   // vector lookups, plus each row's table
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                patterns.withUnsafeBufferPointer { p in
                    let (x, o, p) = (x.baseAddress!, o.baseAddress!, p.baseAddress!)
                    if rows < 4 {
                        // Chunks of whole 8-output tiles ([groups][8] bytes each); every chunk builds the tables.
                        Parallel.forChunks((n + 7) / 8, work: work, grain: .fine) { tiles in
                            let first = tiles.lowerBound * 8, last = min(n, tiles.upperBound * 8)
                            lbr_slgemm(path.isa, x, k, rows, p + tiles.lowerBound * groups * 8, last - first, k, o + first, n)
                        }
                    } else {
                        Parallel.forChunks(rows, work: work, grain: .fine) { range in
                            lbr_slgemm(path.isa, x + range.lowerBound * k, k, range.count, p, n, k, o + range.lowerBound * n, n)
                        }
                    }
                }
            }
        }
        return out
    }
}
