import Foundation
import LowBitTensor

/// A dataset named the way the command line names it, and how to load its splits.
///
/// | spec | meaning |
/// |---|---|
/// | `mnist` | the MNIST copy shipped in the repository (`data/mnist`, see ``shippedMNISTDirectory()``) |
/// | `mnist:DIR` | MNIST IDX files in `DIR` |
/// | `fashion-mnist:DIR` | Fashion-MNIST IDX files in `DIR` |
/// | `cifar10:DIR` | CIFAR-10 binary batches in `DIR` (or `DIR/cifar-10-batches-bin`) |
/// | `csv:FILE` | one CSV file: **both splits are the whole file** |
/// | `csv:DIR` | `DIR/train.csv` and `DIR/test.csv` (each optionally `.gz`) |
///
/// IDX directories hold `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally `.gz`.
///
/// ```swift
/// let spec = try DatasetSpec(parsing: "cifar10:/data/cifar-10-batches-bin")
/// let train = try spec.load(.train)
/// let jets = try DatasetSpec(parsing: "csv:jets.csv.gz", labelColumn: -1).load(.train)
/// ```
public enum DatasetSpec: Sendable, Equatable, CustomStringConvertible {
    /// MNIST from `directory`, or the shipped copy when `nil`.
    case mnist(directory: String?)
    case fashionMNIST(directory: String)
    case cifar10(directory: String)
    /// A CSV file or a directory with `train.csv` / `test.csv`; `labelColumn` as in
    /// ``CSVDataset/load(path:labelColumn:name:labelEncoding:)``.
    case csv(path: String, labelColumn: Int)

    /// The forms ``init(parsing:labelColumn:)`` accepts, for help texts and error messages.
    public static let acceptedForms = ["mnist", "mnist:DIR", "fashion-mnist:DIR", "cifar10:DIR", "csv:FILE", "csv:DIR"]

    /// Parses a CLI dataset string. `labelColumn` only matters for `csv:`.
    /// - Throws: ``LowBitError/invalidArgument(_:)`` listing the accepted forms.
    public init(parsing text: String, labelColumn: Int = -1) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let scheme = parts[0].lowercased()
        let location = parts.count == 2 ? (String(parts[1]) as NSString).expandingTildeInPath : nil
        func needsLocation(_ what: String) throws -> String {
            guard let location, !location.isEmpty else {
                throw LowBitError.invalidArgument("dataset '\(text)' needs \(what): write \(scheme):\(what == "a directory" ? "DIR" : "PATH")")
            }
            return location
        }
        switch scheme {
        case "mnist":
            self = .mnist(directory: parts.count == 2 ? try needsLocation("a directory") : nil)
        case "fashion-mnist":
            self = .fashionMNIST(directory: try needsLocation("a directory"))
        case "cifar10":
            self = .cifar10(directory: try needsLocation("a directory"))
        case "csv":
            self = .csv(path: try needsLocation("a file or directory"), labelColumn: labelColumn)
        default:
            throw LowBitError.invalidArgument(
                "unknown dataset '\(text)'; accepted forms: \(Self.acceptedForms.joined(separator: ", "))")
        }
    }

    /// The spec string this value parses from.
    public var description: String {
        switch self {
        case .mnist(let directory): return directory.map { "mnist:\($0)" } ?? "mnist"
        case .fashionMNIST(let directory): return "fashion-mnist:\(directory)"
        case .cifar10(let directory): return "cifar10:\(directory)"
        case .csv(let path, _): return "csv:\(path)"
        }
    }

    /// Loads one split. Images come back as `[N, H, W, C]` in [0, 1], tables as `[N, F]`.
    public func load(_ split: DatasetSplit) throws -> LabeledDataset {
        switch self {
        case .mnist(let directory):
            return try Self.loadIDX(directory: directory ?? Self.shippedMNISTDirectory(), split: split,
                                    name: "mnist", classNames: IDXDataset.mnistClassNames)
        case .fashionMNIST(let directory):
            return try Self.loadIDX(directory: directory, split: split,
                                    name: "fashion-mnist", classNames: IDXDataset.fashionMNISTClassNames)
        case .cifar10(let directory):
            return try CIFAR10.load(directory: directory, split: split)
        case .csv(let path, let labelColumn):
            return try Self.loadCSV(path: path, labelColumn: labelColumn, split: split)
        }
    }

    /// The standard IDX file names of a split, without the optional `.gz`.
    public static func idxFileNames(_ split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
    }

    private static func loadIDX(directory: String, split: DatasetSplit, name: String, classNames: [String]) throws -> LabeledDataset {
        let names = idxFileNames(split)
        let wanted = [names.images, names.labels].map { (directory as NSString).appendingPathComponent($0) }
        let found = wanted.compactMap(GzipReader.existingPath)
        guard found.count == wanted.count else {
            let missing = wanted.filter { GzipReader.existingPath($0) == nil }.map { ($0 as NSString).lastPathComponent }
            let all = [idxFileNames(.train), idxFileNames(.test)].flatMap { [$0.images, $0.labels] }
            throw LowBitError.io(
                path: directory,
                reason: "missing \(missing.joined(separator: ", ")) (each may also be .gz); an IDX dataset directory holds \(all.joined(separator: ", "))")
        }
        return try IDXDataset.load(images: found[0], labels: found[1], name: "\(name)/\(split)", classNames: classNames)
    }

    /// A file: both splits are the whole file. A directory: `train.csv` and `test.csv`, and the
    /// test labels use the classes found in the training file.
    private static func loadCSV(path: String, labelColumn: Int, split: DatasetSplit) throws -> LabeledDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LowBitError.io(path: path, reason: "not found; csv: takes a CSV file (both splits are the whole file) or a directory with train.csv and test.csv")
        }
        guard isDirectory.boolValue else {
            return try CSVDataset.load(path: path, labelColumn: labelColumn, name: CSVDataset.defaultName(path) + "/\(split)")
        }
        func find(_ split: DatasetSplit) throws -> String {
            let file = (path as NSString).appendingPathComponent("\(split).csv")
            guard let existing = GzipReader.existingPath(file) else {
                throw LowBitError.io(path: file, reason: "not found (nor \(split).csv.gz); a csv: directory holds train.csv and test.csv")
            }
            return existing
        }
        let trainPath = try find(.train)
        let name = (path as NSString).lastPathComponent + "/\(split)"
        if split == .train { return try CSVDataset.load(path: trainPath, labelColumn: labelColumn, name: name) }
        let encoding = try CSVDataset.labelEncoding(path: trainPath, labelColumn: labelColumn)
        return try CSVDataset.load(path: find(.test), labelColumn: labelColumn, name: name, labelEncoding: encoding)
    }

    /// The shipped MNIST directory: `$LOWBIT_DATA_DIR/mnist`, then `<repo>/data/mnist` of the
    /// checkout this module was compiled from, then `./data/mnist`; the first that exists.
    /// - Throws: ``LowBitError/io(path:reason:)`` listing every place it looked.
    public static func shippedMNISTDirectory() throws -> String {
        try shippedMNISTDirectory(
            environment: ProcessInfo.processInfo.environment, sourceFile: #filePath,
            currentDirectory: FileManager.default.currentDirectoryPath)
    }

    static func shippedMNISTDirectory(environment: [String: String], sourceFile: String, currentDirectory: String) throws -> String {
        var candidates: [String] = []
        if let root = environment["LOWBIT_DATA_DIR"], !root.isEmpty {
            candidates.append((root as NSString).appendingPathComponent("mnist"))
        }
        // sourceFile is <repo>/Sources/LowBitData/DatasetSpec.swift.
        let repository = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(repository.appendingPathComponent("data/mnist").path)
        candidates.append((currentDirectory as NSString).appendingPathComponent("data/mnist"))
        var isDirectory: ObjCBool = false
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue }) {
            return found
        }
        throw LowBitError.io(
            path: "mnist",
            reason: "shipped MNIST not found; looked in \(candidates.joined(separator: ", ")). Set LOWBIT_DATA_DIR to a directory containing mnist/, or use mnist:DIR")
    }
}
