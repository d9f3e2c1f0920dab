import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Float x sign GEMM (3-input lookup tables)")
struct FloatSignGEMMTests {
    /// sum_k x[k] * s[k] in Double, and sum_k |x[k]|: the exact value and the scale of its rounding.
    static func exact(_ x: [Float], rows: Int, _ w: PackedBits) -> (values: [Double], magnitudes: [Double]) {
        var values = [Double](repeating: 0, count: rows * w.rows), magnitudes = values
        for i in 0..<rows {
            for j in 0..<w.rows {
                for k in 0..<w.columns {
                    let v = Double(x[i * w.columns + k])
                    values[i * w.rows + j] += w.bit(row: j, column: k) ? -v : v
                    magnitudes[i * w.rows + j] += abs(v)
                }
            }
        }
        return (values, magnitudes)
    }

    /// Random shapes (k not a multiple of 3 or 64, outputs not a multiple of 8 or 32, 1 to 6 rows):
    /// every path equals the exact sum within float rounding of sum |x|, the AVX2 and portable paths
    /// give the same bits, and so does the plain-loop twin within rounding.
    @Test("equals sum_k x * sign(w) within float rounding; the AVX2 and portable paths agree bit for bit")
    func matchesExactSums() throws {
        var rng = SeededGenerator(seed: 91)
        var outputs = 0
        for trial in 0..<1_200 {
            let k = trial % 40 == 0 ? 300 + rng.nextInt(below: 900) : 1 + rng.nextInt(below: 100)
            let n = 1 + rng.nextInt(below: trial % 3 == 0 ? 80 : 40), rows = 1 + rng.nextInt(below: 6)
            let w = rng.packedBits(rows: n, columns: k)
            let x = (0..<(rows * k)).map { _ in rng.nextNormal() * (rng.nextInt(below: 8) == 0 ? 100 : 1) }
            let gemm = FloatSignGEMM(weights: w)
            let results = try KernelPath.supported.map { try gemm.multiply(x, rows: rows, path: $0) }
            for result in results.dropFirst() { #expect(result == results[0], "n \(n) k \(k) rows \(rows): the paths differ") }
            var twin = [Float](repeating: 0, count: rows * n)
            lbr_slgemm_ref(x, k, rows, w.words, w.wordsPerRow, n, k, &twin, n)
            let (values, magnitudes) = Self.exact(x, rows: rows, w)
            for index in values.indices {
                let tolerance = 4 * Double(k) * Double(Float.ulpOfOne) * magnitudes[index] + 1e-30
                #expect(abs(Double(results[0][index]) - values[index]) <= tolerance, "n \(n) k \(k) rows \(rows) at \(index)")
                #expect(abs(Double(twin[index]) - values[index]) <= tolerance, "twin, n \(n) k \(k) at \(index)")
            }
            outputs += rows * n
        }
        #expect(outputs >= 100_000)
    }

    /// Hand-computed: inputs (1, 2, 4, 8, 16) against weights (+, -, +, -, -) and (-, -, -, -, +):
    /// 1 - 2 + 4 - 8 - 16 = -21 and -1 - 2 - 4 - 8 + 16 = 1 (a pattern per triple, a short last triple).
    @Test("a hand-computed product, on every path")
    func handComputed() throws {
        let w = PackedBits(packing: [1, -1, 1, -1, -1, -1, -1, -1, -1, 1], rows: 2, columns: 5)
        for path in KernelPath.supported {
            #expect(try FloatSignGEMM(weights: w).multiply([1, 2, 4, 8, 16], rows: 1, path: path) == [-21, 1])
        }
    }

    /// Threads split the outputs below 4 rows and the rows from 4 on: the same bits as one thread, in
    /// chunks of whole 8-output tiles with a partial last one.
    @Test("threads splitting outputs (fewer than 4 rows) or rows give the one-thread bits")
    func threadsGiveTheSameBits() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var rng = SeededGenerator(seed: 92)
        for (rows, n, k) in [(1, 1003, 1201), (3, 517, 2000), (9, 300, 777), (64, 77, 500)] {
            let w = rng.packedBits(rows: n, columns: k)
            let x = (0..<(rows * k)).map { _ in rng.nextNormal() }
            let gemm = FloatSignGEMM(weights: w)
            Parallel.threadCount = 1
            let single = try gemm.multiply(x, rows: rows)
            for threads in [2, 3] {
                Parallel.threadCount = threads
                #expect(try gemm.multiply(x, rows: rows) == single, "rows \(rows) n \(n) k \(k) threads \(threads)")
            }
        }
    }

    @Test("an input of the wrong size is an error")
    func wrongSize() {
        let gemm = FloatSignGEMM(weights: PackedBits(rows: 4, columns: 10))
        #expect(throws: LowBitError.self) { try gemm.multiply([Float](repeating: 1, count: 19), rows: 2) }
    }
}
