import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitTensor
import Logging

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Threads for parallel kernels (default: all cores; also LOWBIT_THREADS).") var threads: Int?
    @Flag(name: .customLong("no-progress"), help: "Plain progress lines instead of a redrawn bar.") var noProgress = false
    @Option(name: .customLong("log-level"), help: "Diagnostics level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "warning"

    /// Applies threads and logging; returns the command's logger.
    func apply(label: String) throws -> Logger {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be >= 1, got \(threads)") }
            Parallel.threadCount = threads
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error; got '\(logLevel)'")
        }
        Memory.tuneAllocatorForTraining()
        var logger = Logger(label: "lowbit.\(label)") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }
}

/// Where a data set comes from on the command line.
struct DatasetOptions: ParsableArguments {
    @Option(help: "Data set: mnist (the copy in the repo), mnist:DIR, fashion-mnist:DIR, cifar10:DIR or csv:PATH.")
    var dataset: String = "mnist"
    @Option(name: .customLong("label-column"), help: "CSV label column (negative counts from the end).")
    var labelColumn: Int = -1
    @Option(help: "Use only the first N samples of each split (quick runs).") var limit: Int?

    func load(_ split: DatasetSplit) throws -> LabeledDataset {
        let spec = try DatasetSpec(parsing: dataset, labelColumn: labelColumn)
        let data = try spec.load(split)
        if let limit {
            guard limit >= 1 else { throw ValidationError("--limit must be >= 1, got \(limit)") }
            return data.prefix(min(limit, data.count))
        }
        return data
    }
}

/// Prints `value` as one line of JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The normalization a model was trained with, from its metadata.
func storedNormalization(_ metadata: [String: JSONValue]) throws -> Normalization? {
    try metadata["normalization"].map { try $0.decode(Normalization.self, what: "normalization") }
}

/// Loads a model file with its precision (quantizers and calibrated ranges) restored.
func loadModel(_ path: String) throws -> (model: Model, metadata: [String: JSONValue]) {
    let archive = try LowBitArchive.read(from: path)
    if archive.metadata["packed"] != nil {
        throw LowBitError.unsupported("\(path) is a packed model (deployed form): run it with `lowbit run` or `lowbit bench`; this command needs the trained model file it was packed from")
    }
    let (model, metadata) = (try Model(archive: archive, source: path), archive.metadata)
    try model.restorePrecision(from: metadata)
    return (model, metadata)
}

/// Options that choose a precision policy (train --policy, quantize --policy).
struct PolicyOptions: ParsableArguments {
    @Option(help: "Precision policy: a preset (\(PolicyPresets.names.joined(separator: ", "))) or a JSON file.")
    var policy: String?
    @Option(help: "FGQ group size (ternary-fgq).") var group = 4
    @Option(name: .customLong("act-bits"), help: "Activation bits for k-bit presets (default: 8, 4 for int4).") var actBits: Int?
    @Option(help: "Activation range calibration: minmax, percentile (99.99) or mse.") var calibration = "percentile"
    @Option(help: "FGQ threshold: optimal (exact search) or heuristic (0.7 mean|w|).") var delta = "optimal"

    /// The resolved policy for `spec`, or nil when no --policy was given.
    func resolve(for spec: ModelSpec) throws -> PrecisionPolicy? {
        guard let policy else { return nil }
        if policy.hasSuffix(".json") || FileManager.default.fileExists(atPath: policy) {
            let data = try FileAccess.readAll(policy)
            do {
                return try JSONDecoder().decode(PrecisionPolicy.self, from: Data(data))
            } catch {
                throw LowBitError.corruptFile(path: policy, reason: "not a precision policy JSON file: \(error)")
            }
        }
        return try PolicyPresets.make(policy, for: spec, options: .init(groupSize: group, activationBits: actBits,
                                                                        calibration: calibration, delta: delta))
    }
}

/// The `"metrics"` metadata entry of a saved model.
func metricsMetadata(_ evaluation: Evaluation) throws -> JSONValue {
    try JSONValue(encoding: ["accuracy": evaluation.accuracy, "loss": evaluation.loss, "samples": Double(evaluation.samples)])
}
