import LowBitTensor

/// Per-channel standardization `x' = (x - mean[c]) / std[c]`, where the channel `c` of an element
/// is its index along the last axis: the colour channel of an NHWC image, the feature of a
/// tabular `[N, F]` row.
///
/// Fit it on the training set only and store it with the model (it is `Codable`), so evaluation
/// and deployment apply exactly the statistics training saw.
///
/// `std` is the population standard deviation (divide by the element count, as torchvision's
/// published CIFAR statistics and scikit-learn's `StandardScaler` do). A channel that is constant
/// in the training set gets `std = 1`, so it is only centred instead of divided by zero.
///
/// ```swift
/// let train = try DatasetSpec(parsing: "mnist").load(.train)
/// let normalization = try Normalization.fit(train)      // mean ≈ [0.1307], std ≈ [0.3081]
/// let normalizedTrain = try normalization.apply(to: train)
/// let json = try JSONEncoder().encode(normalization)
/// ```
public struct Normalization: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    /// - Throws: ``LowBitError/invalidArgument(_:)`` when the lengths differ or a `std` is not
    ///   positive and finite.
    public init(mean: [Float], std: [Float]) throws {
        guard mean.count == std.count, !mean.isEmpty else {
            throw LowBitError.invalidArgument("normalization needs one mean and one std per channel, got \(mean.count) and \(std.count)")
        }
        if let bad = std.first(where: { !($0 > 0 && $0.isFinite) }) {
            throw LowBitError.invalidArgument("normalization std must be positive and finite, got \(bad)")
        }
        if let bad = mean.first(where: { !$0.isFinite }) {
            throw LowBitError.nonFinite("normalization mean \(bad)")
        }
        self.mean = mean
        self.std = std
    }

    /// Number of channels: the size of the last axis it applies to.
    public var channelCount: Int { mean.count }

    /// Statistics of a training set's features.
    public static func fit(_ dataset: LabeledDataset) throws -> Normalization {
        try fit(dataset.features)
    }

    /// Statistics of `features` per last-axis channel, accumulated in `Double` in two passes
    /// (mean, then mean squared deviation) so 47 M MNIST pixels lose no precision.
    public static func fit(_ features: Tensor) throws -> Normalization {
        guard let channels = features.shape.last, channels > 0, features.count > 0 else {
            throw LowBitError.invalidArgument("cannot fit a normalization to an empty tensor of shape \(features.shape)")
        }
        try features.checkFinite("features given to Normalization.fit")
        let perChannel = Double(features.count / channels)
        var sums = [Double](repeating: 0, count: channels)
        forEachRow(of: features) { row in for c in 0..<channels { sums[c] += Double(row[c]) } }
        let means = sums.map { $0 / perChannel }
        var squares = [Double](repeating: 0, count: channels)
        forEachRow(of: features) { row in
            for c in 0..<channels {
                let deviation = Double(row[c]) - means[c]
                squares[c] += deviation * deviation
            }
        }
        let stds = squares.map { squareSum -> Float in
            let std = Float((squareSum / perChannel).squareRoot())
            return std > 0 ? std : 1
        }
        return try Normalization(mean: means.map { Float($0) }, std: stds)
    }

    /// `features` standardized per channel.
    /// - Throws: ``LowBitError/shapeMismatch(_:)`` when the last axis is not `channelCount` long.
    public func apply(to features: Tensor) throws -> Tensor {
        guard features.shape.last == channelCount else {
            throw LowBitError.shapeMismatch("normalization has \(channelCount) channels, features have shape \(features.shape) (channels are the last axis)")
        }
        var result = features
        result.data.withUnsafeMutableBufferPointer { applyInPlace($0) }
        return result
    }

    /// Standardizes `buffer` in place; its length is a multiple of `channelCount`, channels
    /// innermost. ``DataLoader`` calls this on each assembled batch.
    func applyInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) {
        // Multiplying by 1/std instead of dividing: at most one rounding step away from
        // (x - mean) / std, and several times faster.
        let scale = std.map { 1 / $0 }
        let channels = channelCount
        for start in stride(from: 0, to: buffer.count, by: channels) {
            for c in 0..<channels { buffer[start + c] = (buffer[start + c] - mean[c]) * scale[c] }
        }
    }

    /// A dataset whose features are standardized; labels and names unchanged.
    public func apply(to dataset: LabeledDataset) throws -> LabeledDataset {
        dataset.withFeatures(try apply(to: dataset.features))
    }

    private static func forEachRow(of features: Tensor, _ body: (UnsafeBufferPointer<Float>) -> Void) {
        let channels = features.shape.last!
        features.data.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: buffer.count, by: channels) {
                body(UnsafeBufferPointer(rebasing: buffer[start..<(start + channels)]))
            }
        }
    }
}
