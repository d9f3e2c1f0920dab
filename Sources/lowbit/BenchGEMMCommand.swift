import ArgumentParser
import Foundation
import LowBitTensor
#if canImport(CLowBitBLAS)
import CLowBitBLAS
#endif

/// Float GEMM path (`BLAS.sgemm`: OpenBLAS pinned to one thread per call, rows split across
/// LowBit's own threads) against OpenBLAS running the whole product with its own threads.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "LowBit's float GEMM path vs OpenBLAS sgemm at 1024^3 and the ResNet-20 im2col shapes."
    )

    @Option(help: "Threads for both sides.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Minimum seconds per measurement.") var seconds = 0.5
    @Flag(help: "Print one JSON object.") var json = false

    struct Shape: Codable {
        var label: String
        var m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
    }

    struct Row: Codable {
        var label: String
        var m: Int, n: Int, k: Int
        var lowbitGflops: Double
        var openblasGflops: Double
        var ratio: Double
    }

    /// ResNet-20 on 28x28, batch 64: forward `cols[M, 9C] x W^T`, weight gradient `dy^T cols`,
    /// input gradient `dy W` for the three stage widths.
    static let shapes: [Shape] = [Shape(label: "square 1024^3", m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false)]
        + [(28, 16), (14, 32), (7, 64)].flatMap { size, c -> [Shape] in
            let m = 64 * size * size
            return [
                Shape(label: "resnet20 fwd \(size)x\(size)x\(c)", m: m, n: c, k: 9 * c, transposeA: false, transposeB: true),
                Shape(label: "resnet20 dW \(size)x\(size)x\(c)", m: c, n: 9 * c, k: m, transposeA: true, transposeB: false),
                Shape(label: "resnet20 dX \(size)x\(size)x\(c)", m: m, n: 9 * c, k: c, transposeA: false, transposeB: false),
            ]
        }

    func run() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
        Parallel.threadCount = threads
        var rows: [Row] = []
        for shape in Self.shapes {
            let a = [Float](repeating: 0.5, count: shape.m * shape.k)
            let b = [Float](repeating: 0.25, count: shape.k * shape.n)
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            let lda = shape.transposeA ? shape.m : shape.k
            let ldb = shape.transposeB ? shape.k : shape.n
            let flops = 2.0 * Double(shape.m * shape.n * shape.k)
            let ours = measure(flops: flops) {
                BLAS.sgemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k,
                           a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: shape.n)
            }
            let reference = measure(flops: flops) {
                openBLASSgemm(shape, a, lda, b, ldb, &c)
            }
            rows.append(Row(label: shape.label, m: shape.m, n: shape.n, k: shape.k, lowbitGflops: ours,
                            openblasGflops: reference, ratio: ours / reference))
        }
        if json {
            try printJSON(rows)
            return
        }
        print("GEMM, \(threads) thread(s): LowBit float path vs OpenBLAS sgemm (GFLOP/s)")
        print("shape".padding(toLength: 28, withPad: " ", startingAt: 0) + "      M      N      K   LowBit  OpenBLAS  ratio")
        for row in rows {
            print(row.label.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + String(format: "%7d%7d%7d%9.1f%10.1f%7.2f", row.m, row.n, row.k, row.lowbitGflops, row.openblasGflops, row.ratio))
        }
    }

    private func measure(flops: Double, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        } while Date() < deadline
        return flops / best / 1e9
    }

    /// One OpenBLAS call using OpenBLAS's own threads (the reference), then OpenBLAS is pinned back
    /// to one thread for LowBit's path.
    private func openBLASSgemm(_ s: Shape, _ a: [Float], _ lda: Int, _ b: [Float], _ ldb: Int, _ c: inout [Float]) {
        #if canImport(CLowBitBLAS)
        openblas_set_num_threads(Int32(threads))
        cblas_sgemm(CblasRowMajor, s.transposeA ? CblasTrans : CblasNoTrans, s.transposeB ? CblasTrans : CblasNoTrans,
                    Int32(s.m), Int32(s.n), Int32(s.k), 1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(s.n))
        openblas_set_num_threads(1)
        #else
        BLAS.sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                   a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: s.n)
        #endif
    }
}
