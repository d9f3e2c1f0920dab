import CLowBitKernels
import Foundation
import Synchronization
import Testing
@testable import LowBitTensor

/// `Parallel.forChunks` on the `lb_parallel_for` pool: every index exactly once, in contiguous ranges,
/// whatever the thread count, and safe when nested or called from several threads at once.
@Suite("Parallel", .serialized)
struct ParallelTests {
    /// How often each index of `0..<count` was visited by forChunks (ranges recorded under a lock,
    /// counted afterwards on this thread).
    static func visits(count: Int, work: Int, grain: Parallel.Grain, threads: Int) -> [Int] {
        let saved = Parallel.threadCount
        Parallel.threadCount = threads
        defer { Parallel.threadCount = saved }
        return visits(count: count) { body in Parallel.forChunks(count, work: work, grain: grain, body) }
    }

    /// Runs `run` with a body that records its ranges; returns the visit count per index.
    static func visits(count: Int, _ run: ((Range<Int>) -> Void) -> Void) -> [Int] {
        var counts = [Int](repeating: 0, count: count)
        for range in visitsRanges(count: count, run) { for i in range { counts[i] += 1 } }
        return counts
    }

    /// The ranges `run`'s body was called with (recorded under a lock).
    static func visitsRanges(count: Int, _ run: ((Range<Int>) -> Void) -> Void) -> [Range<Int>] {
        let ranges = Mutex<[Range<Int>]>([])
        run { range in ranges.withLock { $0.append(range) } }
        return ranges.withLock { $0 }
    }

    @Test("every index runs exactly once for any count, work, grain and thread count")
    func coversEveryIndexOnce() {
        for threads in [1, 2, 3, 8] {
            for count in [0, 1, 2, 3, 7, 64, 1000, 4097] {
                for work in [0, 10_000, 100_000, 10_000_000] {
                    for grain in [Parallel.Grain.coarse, .fine] {
                        #expect(Self.visits(count: count, work: work, grain: grain, threads: threads) == [Int](repeating: 1, count: count),
                                "threads \(threads) count \(count) work \(work) \(grain)")
                    }
                }
            }
        }
    }

    @Test("coarse grain splits once per thread; fine grain into up to two chunks per thread, whole rounds of threads")
    func grainSetsTheSplit() {
        let saved = Parallel.threadCount
        Parallel.threadCount = 2
        defer { Parallel.threadCount = saved }
        let chunks = { (work: Int, grain: Parallel.Grain) in
            Self.visitsRanges(count: 1000) { body in Parallel.forChunks(1000, work: work, grain: grain, body) }.count
        }
        #expect(chunks(10_000_000, .coarse) == 2 && chunks(10_000_000, .fine) == 4)
        #expect(chunks(100_000, .coarse) == 1 && chunks(100_000, .fine) == 4)
        #expect(chunks(40_000, .fine) == 2)   // 40,000 / 16,000 = 2
        #expect(chunks(50_000, .fine) == 2)   // 3 by the work, rounded down to whole rounds of 2 threads
        Parallel.threadCount = 3
        #expect(chunks(80_000, .fine) == 3 && chunks(10_000_000, .fine) == 6 && chunks(40_000, .fine) == 2)   // 5 -> 3; 2 < 3 stays
    }

    @Test("ranges are contiguous, non-empty and together cover 0..<count")
    func rangesPartition() {
        let saved = Parallel.threadCount
        Parallel.threadCount = 2
        defer { Parallel.threadCount = saved }
        let ranges = Mutex<[Range<Int>]>([])
        Parallel.forChunks(1000, work: 10_000_000, grain: .fine) { range in ranges.withLock { $0.append(range) } }
        let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(sorted.count > 1 && sorted.allSatisfy { !$0.isEmpty })
        #expect(sorted.first?.lowerBound == 0 && sorted.last?.upperBound == 1000)
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    }

    @Test("a chunk body that calls forChunks again runs the inner job inline, completely")
    func nestedCalls() {
        let saved = Parallel.threadCount
        Parallel.threadCount = 2
        defer { Parallel.threadCount = saved }
        let counts = Self.visits(count: 64 * 50) { record in
            Parallel.forChunks(64, work: 10_000_000, grain: .fine) { outer in
                for i in outer {
                    Parallel.forChunks(50, work: 10_000_000, grain: .fine) { inner in record((i * 50 + inner.lowerBound)..<(i * 50 + inner.upperBound)) }
                }
            }
        }
        #expect(counts == [Int](repeating: 1, count: 64 * 50))
    }

    /// Callers on several threads at once: one gets the pool, the others run inline; all finish with
    /// every index once (many rounds, so the workers' spin, sleep and wake-up paths all run).
    @Test("concurrent callers each get all their chunks run exactly once")
    func concurrentCallers() {
        let saved = Parallel.threadCount
        Parallel.threadCount = 2
        defer { Parallel.threadCount = saved }
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<300 {
                let count = 16 + (caller * 7 + round) % 40
                let counts = Self.visits(count: count) { body in Parallel.forChunks(count, work: 1_000_000, grain: .fine, body) }
                if counts != [Int](repeating: 1, count: count) { failures.add(1, ordering: .relaxed) }
                if round % 100 == 99 { usleep(300) }   // let the workers fall asleep now and then
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
