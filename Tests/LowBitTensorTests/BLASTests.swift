import Testing
@testable import LowBitTensor

/// `BLAS.sgemv`, which float dense layers run at batch 1: rows split across threads must give what
/// one call gives, for `beta` 0 and 1 and a row stride past `n`.
@Suite("BLAS.sgemv", .serialized)
struct BLASTests {
    @Test("sgemv equals the sums in double, split across 1 to 3 threads", arguments: [1, 2, 3])
    func sgemvMatchesDoubleSums(threads: Int) {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = threads
        var rng = SeededGenerator(seed: 81)
        // The last shapes pass the fine grain's split threshold (16,000 multiply-adds a chunk).
        for (m, n, lda, beta) in [(1, 1, 1, Float(0)), (7, 5, 9, 1), (256, 784, 784, 1), (1000, 300, 301, 0), (513, 130, 130, 1)] {
            let a = (0..<(m * lda)).map { _ in rng.nextNormal() }, x = (0..<n).map { _ in rng.nextNormal() }
            let start = (0..<m).map { _ in rng.nextNormal() }
            var y = start
            BLAS.sgemv(m: m, n: n, a: a, lda: lda, x: x, beta: beta, y: &y)
            for i in 0..<m {
                var exact = Double(beta) * Double(start[i]), magnitude = abs(exact)
                for k in 0..<n {
                    exact += Double(a[i * lda + k]) * Double(x[k])
                    magnitude += abs(Double(a[i * lda + k]) * Double(x[k]))
                }
                #expect(abs(Double(y[i]) - exact) <= 1e-5 * magnitude + 1e-6, "m \(m) n \(n) row \(i), \(threads) threads")
            }
        }
    }
}
