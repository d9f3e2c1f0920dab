#if canImport(Accelerate)
import Accelerate
#else
import CLowBitBLAS
import Foundation   // dlopen / dlsym
#endif

/// Float GEMM through the platform BLAS (OpenBLAS on Linux, Accelerate on Apple platforms).
///
/// docs/BENCHMARKS.md compares this path with OpenBLAS's own threading: OpenBLAS is pinned to one
/// thread and LowBit splits the larger output dimension across ``Parallel`` chunks itself, so the
/// whole toolkit runs on one threading runtime (shared/DESIGN.md section 4).
public enum BLAS {
    /// Pins OpenBLAS to one thread and stops the workers it started when it was loaded. OpenBLAS
    /// creates them in its library constructor, before `main`, and each one spins on `sched_yield`
    /// for about 2^28 cycles (~0.1 s) before it sleeps: on this 2-core machine that took one core for
    /// the first ~110 ms of every process (perf, `lowbit bench MODEL --threads 2`), and with it half
    /// of each of LowBit's two threads during `lowbit bench`'s timed runs. Lowering the thread count
    /// alone does not stop spinning workers; `blas_thread_shutdown_` joins them (looked up at run
    /// time: serial OpenBLAS builds have no workers and no such function). Runs once, on the first
    /// BLAS call or the first parallel loop (``Parallel``), whichever comes first.
    static let pinOpenBLAS: Void = {
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        if let program = dlopen(nil, RTLD_NOW) {
            if let symbol = dlsym(program, "blas_thread_shutdown_") {
                _ = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)()
            }
            dlclose(program)
        }
        #endif
    }()

    /// Row-major `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C`.
    ///
    /// `A` is `[m, k]` (or `[k, m]` when `transposeA`), `B` is `[k, n]` (or `[n, k]` when
    /// `transposeB`); leading dimensions are the row lengths of the stored matrices.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = pinOpenBLAS
        if m == 0 || n == 0 { return }
        let work = m * n * k
        let a = UnsafeSendablePointer(a), b = UnsafeSendablePointer(b), c = UnsafeSendableMutablePointer(c)
        if m >= n {
            Parallel.forChunks(m, work: work / 8) { rows in
                let aBlock = transposeA ? a.pointer + rows.lowerBound : a.pointer + rows.lowerBound * lda
                call(transposeA, transposeB, rows.count, n, k, alpha, aBlock, lda, b.pointer, ldb, beta,
                     c.pointer + rows.lowerBound * ldc, ldc)
            }
        } else {
            Parallel.forChunks(n, work: work / 8) { columns in
                let bBlock = transposeB ? b.pointer + columns.lowerBound * ldb : b.pointer + columns.lowerBound
                call(transposeA, transposeB, m, columns.count, k, alpha, a.pointer, lda, bBlock, ldb, beta,
                     c.pointer + columns.lowerBound, ldc)
            }
        }
    }

    private static func call(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if k == 0 {
            // BLAS leaves C untouched when k == 0; the math says C = beta * C.
            for row in 0..<m { for column in 0..<n { c[row * ldc + column] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Row-major `y[m] = A[m, n] x[n] + beta * y`: batch-1 inference, where sgemm's packing of the
    /// weights on every call costs more than the product. Rows are split across ``Parallel``
    /// threads at the fine grain (from about 128 KB of `A`), so each core streams its part into its
    /// own L2 cache: with the coarse grain the MNIST MLP's 784 x 256 float layer (800 KB) stayed on
    /// one thread, and the float MLP at batch 1 on 2 threads went from 17.3 to 11.8 us when it split.
    ///
    /// ```swift
    /// BLAS.sgemv(m: 256, n: 784, a: w, lda: 784, x: input, beta: 1, y: &out)   // out starts as the bias
    /// ```
    public static func sgemv(m: Int, n: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                             beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        _ = pinOpenBLAS
        if m == 0 { return }
        let a = UnsafeSendablePointer(a), x = UnsafeSendablePointer(x), y = UnsafeSendableMutablePointer(y)
        Parallel.forChunks(m, work: m * n, grain: .fine) { rows in
            if n == 0 {
                for row in rows { y.pointer[row] *= beta }
                return
            }
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows.count), Int32(n), 1, a.pointer + rows.lowerBound * lda,
                        Int32(lda), x.pointer, 1, beta, y.pointer + rows.lowerBound, 1)
        }
    }

    /// Plain-loop GEMM with the same contract as ``sgemm``: the independent oracle for tests.
    public static func referenceSgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: inout [Float], ldc: Int
    ) {
        for row in 0..<m {
            for column in 0..<n {
                var sum: Double = 0
                for inner in 0..<k {
                    let av = transposeA ? a[inner * lda + row] : a[row * lda + inner]
                    let bv = transposeB ? b[column * ldb + inner] : b[inner * ldb + column]
                    sum += Double(av) * Double(bv)
                }
                c[row * ldc + column] = alpha * Float(sum) + beta * c[row * ldc + column]
            }
        }
    }
}

/// Raw pointers handed to ``Parallel`` chunks that write disjoint ranges. The caller guarantees the
/// memory outlives the parallel loop and that chunks never overlap.
public struct UnsafeSendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafePointer<T>
    public init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}

/// See ``UnsafeSendablePointer``.
public struct UnsafeSendableMutablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
