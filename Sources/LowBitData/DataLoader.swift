import LowBitTensor

/// Cuts a dataset into mini-batches for training and evaluation: a seeded shuffle per epoch,
/// optional image augmentation and normalization, and fast batch assembly.
///
/// Reproducibility: epoch `e` shuffles with a generator seeded from `(seed, e)` and augments with
/// a second, independent one, so epochs differ from each other, a rerun with the same seed
/// gives the same batches, and turning augmentation on does not change the sample order.
///
/// Each batch is one `memcpy` per sample (per row with augmentation) into a fresh tensor, split
/// across threads for large batches; the random draws happen before the copy, so the result does
/// not depend on the thread count.
///
/// ```swift
/// let train = try DatasetSpec(parsing: "mnist").load(.train)
/// let loader = try DataLoader(train, batchSize: 128, seed: 42)
/// for epoch in 0..<10 {
///     for (x, y) in loader.epoch(epoch) {   // x: [128, 28, 28, 1], y: [Int32] of 128
///         _ = (x, y)
///     }
/// }
/// ```
public struct DataLoader: Sendable {
    /// Inputs `[B, ...]` and their labels.
    public typealias Batch = (x: Tensor, y: [Int32])

    public let dataset: LabeledDataset
    public let batchSize: Int
    /// Visit samples in a new random order each epoch (`false`: dataset order, for evaluation).
    public let shuffle: Bool
    /// Leave out the last batch when it would be smaller than `batchSize`.
    public let dropLast: Bool
    public let seed: UInt64
    /// Applied to every sample of every batch; needs `[N, H, W, C]` features.
    public let augmentation: ImageAugmentation?
    /// Applied to every batch after augmentation (so padding is black, as in torchvision).
    public let normalization: Normalization?

    /// - Throws: ``LowBitError/invalidArgument(_:)`` for a batch size below 1, augmentation of
    ///   non-image features, or a normalization with the wrong channel count.
    public init(
        _ dataset: LabeledDataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0,
        augmentation: ImageAugmentation? = nil, normalization: Normalization? = nil
    ) throws {
        guard batchSize >= 1 else { throw LowBitError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        if augmentation != nil, dataset.features.rank != 4 {
            throw LowBitError.invalidArgument("image augmentation needs [N, H, W, C] features, \(dataset.name) has \(dataset.features.shape)")
        }
        if let normalization, normalization.channelCount != dataset.features.shape.last {
            throw LowBitError.invalidArgument("normalization has \(normalization.channelCount) channels, \(dataset.name) has features \(dataset.features.shape)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.augmentation = augmentation
        self.normalization = normalization
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The sample indices of epoch `epoch`, in visiting order (all of them, before `dropLast`).
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var generator = SeededGenerator(seed: Self.streamSeed(seed, epoch: epoch, stream: 0))
        return generator.permutation(dataset.count)
    }

    /// The batches of epoch `epoch` (0-based), as a sequence that assembles each batch on demand.
    public func epoch(_ epoch: Int) -> Epoch {
        Epoch(loader: self, order: order(epoch: epoch),
              augmentationGenerator: SeededGenerator(seed: Self.streamSeed(seed, epoch: epoch, stream: 1)))
    }

    /// One epoch's batches. Iterating it twice gives the same batches only when made afresh by
    /// ``DataLoader/epoch(_:)``: the augmentation draws advance as batches are taken.
    public struct Epoch: Sequence, IteratorProtocol, Sendable {
        let loader: DataLoader
        let order: [Int]
        var augmentationGenerator: SeededGenerator
        var nextStart = 0

        public mutating func next() -> Batch? {
            let remaining = order.count - nextStart
            let size = Swift.min(loader.batchSize, remaining)
            if size <= 0 || (loader.dropLast && size < loader.batchSize) { return nil }
            let indices = Array(order[nextStart..<(nextStart + size)])
            nextStart += size
            let draws = loader.augmentation.map { augmentation in
                indices.map { _ in augmentation.draw(&augmentationGenerator) }
            }
            return loader.assemble(indices, draws: draws)
        }
    }

    private func assemble(_ indices: [Int], draws: [ImageAugmentation.Draw]?) -> Batch {
        let sampleSize = dataset.sampleSize
        var shape = dataset.features.shape
        shape[0] = indices.count
        let x = Tensor(shape: shape, unsafeUninitialized: { output in
            let destination = UnsafeSendableMutablePointer(output.baseAddress!)
            Parallel.forChunks(indices.count, work: indices.count * sampleSize) { rows in
                let slice = Array(indices[rows])
                let out = destination.pointer + rows.lowerBound * sampleSize
                if let augmentation, let draws {
                    let (height, width, channels) = (shape[1], shape[2], shape[3])
                    dataset.features.data.withUnsafeBufferPointer { input in
                        for (offset, index) in slice.enumerated() {
                            augmentation.apply(draws[rows.lowerBound + offset], from: input.baseAddress! + index * sampleSize,
                                               to: out + offset * sampleSize, height: height, width: width, channels: channels)
                        }
                    }
                } else {
                    gatherRows(dataset.features, indices: slice, rowSize: sampleSize, into: out)
                }
                normalization?.applyInPlace(UnsafeMutableBufferPointer(start: out, count: slice.count * sampleSize))
            }
        })
        return (x, indices.map { dataset.labels[$0] })
    }

    /// A SplitMix64 finalizer over `(seed, epoch, stream)`. Needed because ``SeededGenerator``
    /// seeds its state from `seed, seed + g, seed + 2g, ...`: seeds one golden-ratio step apart
    /// would give overlapping states.
    static func streamSeed(_ seed: UInt64, epoch: Int, stream: UInt64) -> UInt64 {
        var z = seed &+ UInt64(bitPattern: Int64(epoch)) &* 0x9E37_79B9_7F4A_7C15 &+ stream &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
