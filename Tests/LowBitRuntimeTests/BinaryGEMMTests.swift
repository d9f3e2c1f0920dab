import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Binary GEMM")
struct BinaryGEMMTests {
    /// The C reference twin on row-major weights.
    static func reference(_ a: PackedBits, _ w: PackedBits) -> [Int32] {
        var out = [Int32](repeating: 0, count: a.rows * w.rows)
        lbr_bgemm_ref(a.words, a.wordsPerRow, a.rows, w.words, w.wordsPerRow, w.rows, w.wordsPerRow, Int32(w.columns), &out, w.rows)
        return out
    }

    /// The weights as the kernels take them (lbr_bgemm_pack_weights), `words` words per row.
    static func packed(_ w: PackedBits, words: Int) -> [UInt64] {
        var packed = [UInt64](repeating: 0, count: lbr_bgemm_packed_weight_words(w.rows, words))
        lbr_bgemm_pack_weights(w.words, w.rows, words, words, &packed)
        return packed
    }

    @Test("equals the reference on odd shapes; K not a multiple of 64", arguments: KernelPath.supported)
    func matchesReference(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 21)
        for trial in 0..<20_000 {
            let depth = trial % 3 == 0 ? OddSizes.depths[rng.nextInt(below: OddSizes.depths.count)] : 1 + rng.nextInt(below: 150)
            let m = 1 + rng.nextInt(below: 7), n = 1 + rng.nextInt(below: depth > 500 ? 20 : 37)
            let a = rng.packedBits(rows: m, columns: depth), w = rng.packedBits(rows: n, columns: depth)
            #expect(try BinaryGEMM(weights: w).multiply(a, path: path) == Self.reference(a, w), "m \(m) n \(n) K \(depth)")
        }
    }

    @Test("equals sum_k sign(x) * sign(w) computed on floats")
    func matchesFloatDotProducts() throws {
        var rng = SeededGenerator(seed: 22)
        for depth in OddSizes.depths.prefix(14) {
            let (m, n) = (3, 5)
            let x = rng.signedFloats(m * depth), w = rng.signedFloats(n * depth)
            let dots = try BinaryGEMM(weights: PackedBits(packing: w, rows: n, columns: depth))
                .multiply(PackedBits(packing: x, rows: m, columns: depth))
            for i in 0..<m {
                for j in 0..<n {
                    let expected = (0..<depth).reduce(0) { $0 + (x[i * depth + $1] < 0 ? -1 : 1) * (w[j * depth + $1] < 0 ? -1 : 1) }
                    #expect(dots[i * n + j] == Int32(expected))
                }
            }
        }
    }

    @Test("gathered rows (word k of row m at a[m * stride + offsets[k]]) give the product of the materialized rows",
          arguments: KernelPath.supported)
    func gatheredRows(path: KernelPath) {
        var rng = SeededGenerator(seed: 24)
        for trial in 0..<3_000 {
            // Fewer than 32 outputs: rows of up to 24 words take the XOR lookup tiles (the written-out 2 x 16
            // one where whole), longer rows the carry-save tile; 32 or more, the AND tiles up to 31 words.
            let words = trial % 4 == 0 ? 16 + rng.nextInt(below: 16) : 1 + rng.nextInt(below: 10)
            let m = 1 + rng.nextInt(below: 9), n = 1 + rng.nextInt(below: 37), stride = 1 + rng.nextInt(below: 4)
            let offsets = (0..<words).map { _ in rng.nextInt(below: 40) }
            let source = (0..<(m - 1) * stride + 40).map { _ in rng.next() }
            var rows = PackedBits(rows: m, columns: 64 * words)
            for r in 0..<m { for k in 0..<words { rows.words[r * words + k] = source[r * stride + offsets[k]] } }
            let w = rng.packedBits(rows: n, columns: 64 * words), packed = Self.packed(w, words: words)
            let rowBegin = rng.nextInt(below: m)
            var out = [Int32](repeating: 7, count: m * n)
            lbr_bgemm_gathered(path.isa, source, stride, offsets, rowBegin, m, packed, n, words, Int32(64 * words), &out, n)
            let expected = Self.reference(rows, w)
            #expect(Array(out[(rowBegin * n)...]) == Array(expected[(rowBegin * n)...]), "m \(m) n \(n) words \(words)")
            #expect(out[..<(rowBegin * n)].allSatisfy { $0 == 7 })
        }
    }

    @Test("rows of up to 31 words against 32 or more outputs (the AND-lookup tiles on nibble planes): every tile shape and remainder",
          arguments: KernelPath.supported)
    func nibblePlaneTiles(path: KernelPath) {
        var rng = SeededGenerator(seed: 25)
        for trial in 0..<1_500 {
            // 32-90 outputs: tiles of 32, 16, 8 and 4 outputs and a partial last group; 17-31 words make
            // column blocks of 32 outputs, so a block of its own holds the remainder.
            let words = trial % 3 == 0 ? 17 + rng.nextInt(below: 15) : 1 + rng.nextInt(below: 16)
            let m = 1 + rng.nextInt(below: 7), n = 32 + rng.nextInt(below: 59), depth = 64 * words - rng.nextInt(below: 64)
            let a = rng.packedBits(rows: m, columns: depth), w = rng.packedBits(rows: n, columns: depth)
            let packed = Self.packed(w, words: words)
            // Output rows with 3 spare columns, which must stay untouched (a partial group stores only its outputs).
            let begin = rng.nextInt(below: m), ldo = n + 3
            var out = [Int32](repeating: 7, count: m * ldo)
            if trial % 2 == 0 {
                lbr_bgemm(path.isa, a.words, words, begin, m, packed, n, words, Int32(depth), &out, ldo)
            } else {
                let offsets = (0..<words).map { $0 }   // gathered in place: the same rows
                lbr_bgemm_gathered(path.isa, a.words, words, offsets, begin, m, packed, n, words, Int32(depth), &out, ldo)
            }
            let expected = Self.reference(a, w)
            for i in 0..<m {
                let row = Array(out[(i * ldo)..<(i * ldo + n)]), spare = out[(i * ldo + n)..<((i + 1) * ldo)]
                #expect(row == (i >= begin ? Array(expected[(i * n)..<((i + 1) * n)]) : [Int32](repeating: 7, count: n)),
                        "m \(m) n \(n) words \(words) row \(i)")
                #expect(spare.allSatisfy { $0 == 7 }, "m \(m) n \(n) words \(words) row \(i)")
            }
        }
    }

    @Test("a row range computes those rows only", arguments: KernelPath.supported)
    func rowRanges(path: KernelPath) {
        var rng = SeededGenerator(seed: 23)
        for _ in 0..<500 {
            let m = 2 + rng.nextInt(below: 9), n = 1 + rng.nextInt(below: 20), depth = 1 + rng.nextInt(below: 1100)
            let a = rng.packedBits(rows: m, columns: depth), w = rng.packedBits(rows: n, columns: depth)
            let packed = Self.packed(w, words: w.wordsPerRow)
            let begin = rng.nextInt(below: m), end = begin + 1 + rng.nextInt(below: m - begin)
            var out = [Int32](repeating: 7, count: m * n)
            lbr_bgemm(path.isa, a.words, a.wordsPerRow, begin, end, packed, n, w.wordsPerRow, Int32(depth), &out, n)
            let expected = Self.reference(a, w)
            for i in 0..<m {
                let row = Array(out[(i * n)..<((i + 1) * n)])
                #expect(row == ((begin..<end).contains(i) ? Array(expected[(i * n)..<((i + 1) * n)]) : [Int32](repeating: 7, count: n)))
            }
        }
    }

    @Test("rows split across threads give the same products")
    func parallelRows() throws {
        var rng = SeededGenerator(seed: 24)
        let a = rng.packedBits(rows: 300, columns: 1000), w = rng.packedBits(rows: 70, columns: 1000)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        #expect(try BinaryGEMM(weights: w).multiply(a) == Self.reference(a, w))
    }

    @Test("mismatched input width is an error")
    func rejectsWrongDepth() {
        let gemm = BinaryGEMM(weights: PackedBits(rows: 4, columns: 100))
        #expect(throws: LowBitError.self) { try gemm.multiply(PackedBits(rows: 1, columns: 99)) }
    }
}
