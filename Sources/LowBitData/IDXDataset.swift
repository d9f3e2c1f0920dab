import LowBitTensor

/// Builds a ``LabeledDataset`` from an IDX images file and an IDX labels file: MNIST,
/// Fashion-MNIST, KMNIST and anything else published in that layout.
///
/// Images are `[N, rows, columns]` (one channel) or `[N, rows, columns, channels]`; they become
/// NHWC `[N, H, W, C]`. uint8 pixels are divided by 255 so they lie in [0, 1]; other element
/// types are kept as stored. Labels are a one-dimensional integer array.
///
/// ```swift
/// let test = try IDXDataset.load(
///     images: "data/mnist/t10k-images-idx3-ubyte.gz",
///     labels: "data/mnist/t10k-labels-idx1-ubyte.gz",
///     name: "mnist/test", classNames: IDXDataset.mnistClassNames)
/// test.features.shape   // [10000, 28, 28, 1]
/// ```
public enum IDXDataset {
    /// `"0"` ... `"9"`.
    public static let mnistClassNames = (0..<10).map(String.init)

    /// The Fashion-MNIST classes, in label order (zalandoresearch/fashion-mnist README).
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Reads both files and checks that they describe the same samples.
    ///
    /// - Parameters:
    ///   - classCount: labels must lie in `0..<classCount`; defaults to `classNames.count`, or 10.
    /// - Throws: ``LowBitError/corruptFile(path:reason:)`` naming the file at fault when a file is
    ///   not valid IDX, has the wrong rank or element type, the counts differ, or a label is out of
    ///   range; ``LowBitError/io(path:reason:)`` when a file cannot be read.
    public static func load(
        images imagesPath: String, labels labelsPath: String, name: String,
        classNames: [String]? = nil, classCount: Int? = nil
    ) throws -> LabeledDataset {
        let classCount = classCount ?? classNames?.count ?? 10
        // Labels first: the small file catches a mismatched pair before the big one is decoded.
        let labelArray = try IDXArray(contentsOf: labelsPath)
        guard labelArray.shape.count == 1, let labelValues = labelArray.integerValues() else {
            throw LowBitError.corruptFile(
                path: labelsPath,
                reason: "a labels file must be a 1-D integer IDX array, this one is \(labelArray.shape) of \(labelArray.elementType)")
        }
        if let index = labelValues.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw LowBitError.corruptFile(
                path: labelsPath, reason: "label \(labelValues[index]) at index \(index) is outside 0..<\(classCount)")
        }

        let imageArray = try IDXArray(contentsOf: imagesPath)
        let shape = imageArray.shape
        guard shape.count == 3 || shape.count == 4 else {
            throw LowBitError.corruptFile(
                path: imagesPath,
                reason: "an images file must have 3 dimensions (count, rows, columns) or 4 (count, rows, columns, channels), this one has \(shape.count): \(shape)")
        }
        guard shape[0] == labelValues.count else {
            throw LowBitError.corruptFile(
                path: imagesPath, reason: "holds \(shape[0]) images but \(labelsPath) holds \(labelValues.count) labels; the files do not belong together")
        }
        let divisor: Float = imageArray.elementType == .uint8 ? 255 : 1
        let features = Tensor(shape: shape.count == 3 ? shape + [1] : shape, data: imageArray.floatValues(dividedBy: divisor))
        return try LabeledDataset(
            name: name, features: features, labels: labelValues.map { Int32($0) },
            classCount: classCount, classNames: classNames)
    }
}
