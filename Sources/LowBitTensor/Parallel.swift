import Foundation
import Dispatch

/// The one threading runtime LowBit uses: `DispatchQueue.concurrentPerform` over contiguous chunks.
///
/// OpenBLAS is pinned to one thread (see ``BLAS``) so that its spinning workers never compete with
/// these. A fork/join costs about 10 us here (shared/DESIGN.md section 4), so callers pass the
/// amount of work and small jobs run inline.
public enum Parallel {
    /// Threads used for parallel loops; defaults to the number of active processors.
    /// Override with the environment variable `LOWBIT_THREADS`.
    nonisolated(unsafe) public static var threadCount: Int = {
        if let text = getenv("LOWBIT_THREADS"), let value = Int(String(cString: text)), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Splits `0..<count` into at most `threadCount` contiguous chunks and runs `body(range)` for each,
    /// in parallel when `work` (an estimate of scalar operations) is large enough to pay for a fork.
    /// Bodies must only write memory that belongs to their own range.
    public static func forChunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let minimumWorkPerChunk = 200_000
        let chunks = min(threadCount, count, max(1, work / minimumWorkPerChunk))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = ChunkBody(body: body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                if start < end { box.body(start..<end) }
            }
        }
    }
}

/// Carries a chunk body into `concurrentPerform`. Safe because every chunk gets a disjoint range and
/// `forChunks` documents that bodies may only write state owned by their range.
private struct ChunkBody: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}
