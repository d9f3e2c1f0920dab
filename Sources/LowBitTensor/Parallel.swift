import CLowBitKernels
import Foundation

/// The one threading runtime LowBit uses: contiguous chunks on a small persistent pool (`lb_parallel_for`).
///
/// OpenBLAS is pinned to one thread and its workers stopped before the first parallel loop (see
/// ``BLAS``) so that they never compete with these. Callers pass the amount of work and small jobs run inline.
public enum Parallel {
    /// Threads used for parallel loops; defaults to the number of active processors.
    /// Override with the environment variable `LOWBIT_THREADS`.
    nonisolated(unsafe) public static var threadCount: Int = {
        if let text = getenv("LOWBIT_THREADS"), let value = Int(String(cString: text)), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// How finely ``forChunks(_:work:grain:_:)`` splits work.
    public enum Grain: Sendable {
        /// At least ~200,000 operations per chunk, one chunk per thread: callers whose chunks carry a
        /// setup cost of their own (a BLAS call per chunk packs its panels again), such as training.
        case coarse
        /// At least ~16,000 operations per chunk, up to two chunks per thread, claimed one at a time:
        /// kernels without per-call setup, such as the runtime's, where batch-1 layers of a few
        /// microseconds are worth splitting and a slower core should take fewer chunks. Two per
        /// thread measured best here: four cost more claims (hybrid ResNet-20 at batch 1 on 2 threads
        /// ~180 us against ~168), one left a slow virtual CPU's half for the other to wait on
        /// (156-238 us over 5 runs).
        case fine

        var minimumWorkPerChunk: Int { self == .coarse ? 200_000 : 16_000 }
        var chunksPerThread: Int { self == .coarse ? 1 : 2 }
    }

    /// Splits `0..<count` into contiguous chunks and runs `body(range)` for each, in parallel on up to
    /// `threadCount` threads when `work` (an estimate of scalar operations) is large enough to pay for a
    /// fork (see ``Grain``). Bodies must only write memory that belongs to their own range.
    ///
    /// The chunks run on LowBit's own pool (`lb_parallel_for`): persistent workers that spin for about
    /// 200 us after a job, so a fork/join between consecutive layers costs about a microsecond instead of
    /// `DispatchQueue.concurrentPerform`'s ~10 us. Chunks are claimed one at a time: when one core runs
    /// slower (a busy sibling hyperthread, a little core on a phone, a shared virtual CPU here), the
    /// other takes more of the fine-grained chunks instead of waiting for it.
    public static func forChunks(_ count: Int, work: Int, grain: Grain = .coarse, _ body: (Range<Int>) -> Void) {
        var chunks = min(grain.chunksPerThread * threadCount, count, max(1, work / grain.minimumWorkPerChunk))
        // Whole rounds of chunks: 3 equal chunks on 2 threads leave one thread a chunk to do alone at
        // the end (2/3 of the time of 1 thread, against 1/2 for 2 chunks). The int8 ResNet-20's 7x7 and
        // 14x14 convolutions got 3 chunks at batch 1, and the pool's other thread sat idle for a third.
        if chunks > threadCount { chunks -= chunks % threadCount }
        if chunks <= 1 || threadCount <= 1 {
            body(0..<count)
            return
        }
        _ = BLAS.pinOpenBLAS   // OpenBLAS's own workers stopped before ours start
        withoutActuallyEscaping(body) { body in
            var job = ChunkJob(body: body, count: count, chunks: chunks)
            withUnsafeMutablePointer(to: &job) { pointer in
                lb_parallel_for(chunks, Int32(min(threadCount, chunks)), { context, chunk in
                    let job = context!.assumingMemoryBound(to: ChunkJob.self).pointee
                    let start = job.count * chunk / job.chunks, end = job.count * (chunk + 1) / job.chunks
                    if start < end { job.body(start..<end) }
                }, pointer)
            }
        }
    }
}

/// What `lb_parallel_for` hands each chunk: the body and the split. Safe to share because every chunk
/// gets a disjoint range and `forChunks` documents that bodies may only write state owned by their range.
private struct ChunkJob {
    let body: (Range<Int>) -> Void
    let count: Int
    let chunks: Int
}
