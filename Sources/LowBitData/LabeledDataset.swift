import Foundation
import LowBitTensor

/// Samples and their class labels, in memory: what every loader in this module returns and what
/// training, evaluation and calibration read.
///
/// `features` is `[N, H, W, C]` (NHWC) for images, scaled to [0, 1] at load, and `[N, F]` for
/// tabular data. `labels[i]` is the class of sample `i`, in `0..<classCount`.
///
/// ```swift
/// let test = try DatasetSpec(parsing: "mnist").load(.test)
/// test.features.shape           // [10000, 28, 28, 1]
/// let (train, validation) = try test.split(validationFraction: 0.1, seed: 7)
/// let first100 = test.prefix(100)
/// ```
public struct LabeledDataset: Sendable, Equatable {
    /// A short name for reports, such as `mnist/test`.
    public var name: String
    public private(set) var features: Tensor
    public private(set) var labels: [Int32]
    public let classCount: Int
    /// One name per class when the source provides them (`"7"`, `"airplane"`, a CSV's label text).
    public let classNames: [String]?

    /// - Throws: ``LowBitError/shapeMismatch(_:)`` when the counts disagree,
    ///   ``LowBitError/invalidArgument(_:)`` when a label is outside `0..<classCount` or
    ///   `classNames` has the wrong length.
    public init(name: String, features: Tensor, labels: [Int32], classCount: Int, classNames: [String]? = nil) throws {
        guard features.rank >= 2 else {
            throw LowBitError.shapeMismatch("dataset \(name): features must be [N, ...] with at least 2 axes, got \(features.shape)")
        }
        guard features.shape[0] == labels.count else {
            throw LowBitError.shapeMismatch("dataset \(name): \(features.shape[0]) samples but \(labels.count) labels")
        }
        guard classCount > 0 else {
            throw LowBitError.invalidArgument("dataset \(name): classCount must be positive, got \(classCount)")
        }
        if let classNames, classNames.count != classCount {
            throw LowBitError.invalidArgument("dataset \(name): \(classNames.count) class names for \(classCount) classes")
        }
        if let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw LowBitError.invalidArgument("dataset \(name): label \(labels[index]) of sample \(index) is outside 0..<\(classCount)")
        }
        self.name = name
        self.features = features
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// The shape of one sample: `[H, W, C]` or `[F]`.
    public var sampleShape: [Int] { Array(features.shape.dropFirst()) }

    /// Floats per sample.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// How many samples each class has, indexed by class.
    public var classHistogram: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The samples at `indices`, in that order (repeats allowed). Indices must be in `0..<count`.
    public func subset(_ indices: [Int]) -> LabeledDataset {
        let sampleSize = self.sampleSize
        var shape = features.shape
        shape[0] = indices.count
        let gathered = Tensor(shape: shape, unsafeUninitialized: { output in
            gatherRows(features, indices: indices, rowSize: sampleSize, into: output.baseAddress!)
        })
        var result = self
        result.features = gathered
        result.labels = indices.map { labels[$0] }
        return result
    }

    /// The first `min(n, count)` samples.
    public func prefix(_ n: Int) -> LabeledDataset {
        let kept = max(0, min(n, count))
        var result = self
        result.features = features.slice(rows: 0..<kept)
        result.labels = Array(labels.prefix(kept))
        return result
    }

    /// Splits off a validation set of `round(count * validationFraction)` samples chosen by a
    /// shuffle seeded with `seed` (same seed, same split). With `stratified`, each class gives the
    /// same fraction (rounded per class), so rare classes are not left out of validation by chance.
    /// Both parts keep the original sample order.
    public func split(validationFraction: Double, seed: UInt64, stratified: Bool = false) throws
        -> (train: LabeledDataset, validation: LabeledDataset)
    {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw LowBitError.invalidArgument("validationFraction must be in [0, 1), got \(validationFraction)")
        }
        var generator = SeededGenerator(seed: seed)
        var isValidation = [Bool](repeating: false, count: count)
        let groups: [[Int]] = stratified
            ? (0..<classCount).map { label in labels.indices.filter { labels[$0] == Int32(label) } }
            : [Array(labels.indices)]
        for group in groups {
            let chosen = Int((Double(group.count) * validationFraction).rounded())
            for position in generator.permutation(group.count).prefix(chosen) { isValidation[group[position]] = true }
        }
        let trainIndices = labels.indices.filter { !isValidation[$0] }
        let validationIndices = labels.indices.filter { isValidation[$0] }
        var train = subset(trainIndices)
        var validation = subset(validationIndices)
        train.name = name + "/train-part"
        validation.name = name + "/validation-part"
        return (train, validation)
    }

    /// Replaces the features with `newFeatures` of the same shape (normalization uses this).
    func withFeatures(_ newFeatures: Tensor) -> LabeledDataset {
        precondition(newFeatures.shape == features.shape, "features \(newFeatures.shape) != \(features.shape)")
        var result = self
        result.features = newFeatures
        return result
    }
}

/// Copies rows `indices` of `source` (each `rowSize` floats) one after another into `output`:
/// one `memcpy` per row. Subsets and batches both assemble their data this way.
func gatherRows(_ source: Tensor, indices: [Int], rowSize: Int, into output: UnsafeMutablePointer<Float>) {
    let rowCount = source.shape[0]
    source.data.withUnsafeBufferPointer { input in
        guard let base = input.baseAddress else { return }
        for (row, index) in indices.enumerated() {
            precondition(index >= 0 && index < rowCount, "sample index \(index) outside 0..<\(rowCount)")
            (output + row * rowSize).initialize(from: base + index * rowSize, count: rowSize)
        }
    }
}
