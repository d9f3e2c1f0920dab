import Foundation
import LowBitData
import LowBitTensor
import Testing

struct DataLoaderTests {
    /// Sample i has the single feature i and label i % 4.
    static func numbered(_ count: Int) throws -> LabeledDataset {
        try LabeledDataset(name: "numbered", features: Tensor(shape: [count, 1], data: (0..<count).map(Float.init)),
                           labels: (0..<count).map { Int32($0 % 4) }, classCount: 4)
    }

    static func visited(_ loader: DataLoader, epoch: Int) -> [[Int]] {
        loader.epoch(epoch).map { batch in batch.x.data.map { Int($0) } }
    }

    @Test func everySampleAppearsOncePerEpochWithItsLabel() throws {
        let loader = try DataLoader(Self.numbered(10), batchSize: 3, seed: 1)
        var seen: [Int] = []
        for (x, y) in loader.epoch(0) {
            #expect(x.shape[1] == 1)
            let ids = x.data.map { Int($0) }
            #expect(y == ids.map { Int32($0 % 4) })
            seen += ids
        }
        #expect(seen.sorted() == Array(0..<10))
        #expect(Self.visited(loader, epoch: 0).map(\.count) == [3, 3, 3, 1])
        #expect(loader.batchCount == 4)
    }

    @Test func dropLastLeavesOutTheShortBatch() throws {
        let loader = try DataLoader(Self.numbered(10), batchSize: 3, dropLast: true, seed: 1)
        #expect(Self.visited(loader, epoch: 0).map(\.count) == [3, 3, 3])
        #expect(loader.batchCount == 3)
    }

    @Test func sameSeedSameOrderDifferentEpochsDifferentOrder() throws {
        let dataset = try Self.numbered(100)
        let loader = try DataLoader(dataset, batchSize: 16, seed: 7)
        let rerun = try DataLoader(dataset, batchSize: 16, seed: 7)
        #expect(Self.visited(loader, epoch: 3) == Self.visited(rerun, epoch: 3))
        #expect(Self.visited(loader, epoch: 0) != Self.visited(loader, epoch: 1))
        #expect(Self.visited(try DataLoader(dataset, batchSize: 16, seed: 8), epoch: 0) != Self.visited(loader, epoch: 0))
    }

    @Test func withoutShuffleBatchesFollowTheDataset() throws {
        let loader = try DataLoader(Self.numbered(5), batchSize: 2, shuffle: false)
        #expect(Self.visited(loader, epoch: 4) == [[0, 1], [2, 3], [4]])
    }

    @Test func normalizationIsAppliedToEachBatch() throws {
        let normalization = try Normalization(mean: [2], std: [4])
        let loader = try DataLoader(Self.numbered(4), batchSize: 4, shuffle: false, normalization: normalization)
        #expect(Array(loader.epoch(0))[0].x.data == [-0.5, -0.25, 0, 0.25])
    }

    @Test func invalidSettingsAreRejected() throws {
        let table = try Self.numbered(4)
        #expect(throws: LowBitError.self) { try DataLoader(table, batchSize: 0) }
        #expect(throws: LowBitError.self) { try DataLoader(table, batchSize: 2, augmentation: .cifar) }
        #expect(throws: LowBitError.self) { try DataLoader(table, batchSize: 2, normalization: Normalization(mean: [0, 0], std: [1, 1])) }
    }

    /// Independent of ``ImageAugmentation``: out(i, j) = in(i + dy - P, j' + dx - P), zero outside.
    static func reference(_ image: [Float], side: Int, padding: Int, dy: Int, dx: Int, flip: Bool) -> [Float] {
        (0..<side).flatMap { i in
            (0..<side).map { j -> Float in
                let row = i + dy - padding, column = (flip ? side - 1 - j : j) + dx - padding
                return (0..<side).contains(row) && (0..<side).contains(column) ? image[row * side + column] : 0
            }
        }
    }

    /// 3 x 3 images with distinct pixels, padding 1 and flips: each augmented image must be one
    /// of the 18 crops/flips of its source, the choices must vary, and the sample order must be
    /// the one the loader has without augmentation.
    @Test func augmentedBatchesHoldCropsAndFlipsOfTheirSamples() throws {
        let count = 64
        let images = (0..<count).map { n in (0..<9).map { Float(n * 10 + $0 + 1) } }
        let dataset = try LabeledDataset(name: "tiles", features: Tensor(shape: [count, 3, 3, 1], data: images.flatMap { $0 }),
                                         labels: [Int32](repeating: 0, count: count), classCount: 1)
        let augmented = try DataLoader(dataset, batchSize: 10, seed: 3, augmentation: ImageAugmentation(padding: 1, horizontalFlip: true))
        let plain = try DataLoader(dataset, batchSize: 10, seed: 3)
        let batches = Array(augmented.epoch(2))
        var draws = Set<[Int]>()
        for (position, index) in plain.order(epoch: 2).enumerated() {
            let batch = batches[position / 10]
            let output = Array(batch.x.data[(position % 10) * 9..<(position % 10 + 1) * 9])
            let matches = (0..<3).flatMap { dy in (0..<3).flatMap { dx in [false, true].map { [dy, dx, $0 ? 1 : 0] } } }
                .filter { Self.reference(images[index], side: 3, padding: 1, dy: $0[0], dx: $0[1], flip: $0[2] == 1) == output }
            #expect(!matches.isEmpty, "sample \(index) at position \(position) is no crop/flip of its image")
            if let first = matches.first { draws.insert(first) }
        }
        #expect(draws.count > 9)
        #expect(Self.visited(augmented, epoch: 2) == batches.map { $0.x.data.map { Int($0) } })
    }

    /// The budget from the module brief: one MNIST-sized epoch (60 000 x 28 x 28, batch 128)
    /// assembles in well under a second, even in a debug build.
    @Test func anMNISTSizedEpochAssemblesInUnderASecond() throws {
        let dataset = try LabeledDataset(name: "mnist-sized", features: .zeros([60_000, 28, 28, 1]),
                                         labels: [Int32](repeating: 0, count: 60_000), classCount: 10)
        let loader = try DataLoader(dataset, batchSize: 128, seed: 1)
        let start = Date()
        var samples = 0
        for (x, _) in loader.epoch(0) { samples += x.shape[0] }
        let seconds = Date().timeIntervalSince(start)
        #expect(samples == 60_000)
        #expect(seconds < 1, "epoch took \(seconds) s")
        print("DataLoader: 60 000 x 784 epoch in \(String(format: "%.3f", seconds)) s")
    }
}
