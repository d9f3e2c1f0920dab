import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
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
