import ArgumentParser
import Foundation
import LowBitAnalysis
import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitQuant
import LowBitRuntime
import LowBitTensor

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Size, MACs, BOPs, energy estimate and accuracy of models, per layer and side by side.",
        discussion: """
            Prints aligned tables (or --markdown, or --json) and can write a self-contained HTML page with plots.
            Energy is an estimate: operation counts times a per-operation table (45 nm by default; docs/REPORTS.md).
            Accuracy is the one stored in each model file, or measured on --dataset's test split.
            Example: lowbit report fp.lowbit binary.lowbit --html report.html
            """
    )

    @Argument(help: "Model files (.lowbit); the first is the baseline the others are compared with.")
    var modelPaths: [String]
    @Option(help: "Data set whose test split each model is evaluated on (default: the accuracy stored in the file).")
    var dataset: String?
    @Option(name: .customLong("energy-table"), help: "JSON file of pJ per operation replacing the 45 nm default (docs/REPORTS.md).")
    var energyTable: String?
    @Flag(help: "Print JSON: one model's {layers, total, ...}, or {models: [...]} for several (docs/REPORTS.md).")
    var json = false
    @Option(help: "Also write a self-contained HTML page (tables and plots) to this path.")
    var html: String?
    @Flag(help: "Print Markdown tables instead of aligned columns.")
    var markdown = false
    @Flag(name: .customLong("measure-latency"), help: "Pack each model in memory and measure its batch-1 latency in the runtime.")
    var measureLatency = false

    func validate() throws {
        guard !(json && markdown) else { throw ValidationError("choose one of --json and --markdown") }
    }

    func run() throws {
        let table = try energyTable.map(EnergyTable.read(from:)) ?? .default45nm
        let reports = try modelPaths.map { path in
            let archive = try LowBitArchive.read(from: path)
            let accuracy = try dataset.flatMap { try reevaluatedAccuracy(of: archive, path: path, dataset: $0) }
            let latency = measureLatency ? try runtimeLatency(of: archive, path: path) : nil
            var report = try ModelReport(analyzing: archive, source: path, energyTable: table, evaluatedAccuracy: accuracy,
                                         latencyMicroseconds: latency?.model)
            for index in report.layers.indices {
                report.layers[index].costs.latencyMicroseconds = latency?.layers[report.layers[index].name]
            }
            return report
        }
        if let html { try FileAccess.writeAtomically(Array(HTMLReport.render(reports).utf8), to: html) }
        if json {
            print(try ReportJSON.render(reports), terminator: "")
        } else {
            print(markdown ? ReportTables.markdown(reports) : ReportTables.terminal(reports), terminator: "")
        }
        if let html { printError("wrote the HTML report to \(html)") }
    }
}

/// The accuracy of `archive` (with its stored precision and normalization) on `dataset`'s test split.
func reevaluatedAccuracy(of archive: LowBitArchive, path: String, dataset: String) throws -> Double? {
    let model = try Model(archive: archive, source: path)
    try model.restorePrecision(from: archive.metadata)
    let testSet = try DatasetSpec(parsing: dataset).load(.test)
    guard testSet.sampleShape == model.spec.inputShape else {
        throw LowBitError.shapeMismatch("\(path) takes samples of shape \(model.spec.inputShape); \(dataset) has \(testSet.sampleShape)")
    }
    let loader = try DataLoader(testSet, batchSize: 128, shuffle: false, normalization: try storedNormalization(archive.metadata))
    return try evaluate(model, batches: loader.epoch(0)).accuracy
}

/// Median batch-1 latency in microseconds of `archive` packed for the runtime (or as it is, when it
/// already is a packed model), and per runtime layer by name (layers folded away at packing, such
/// as BatchNorm after a convolution, have none).
func runtimeLatency(of archive: LowBitArchive, path: String) throws -> (model: Double, layers: [String: Double]) {
    let packed: LowBitArchive
    if archive.metadata["packed"] != nil {
        packed = archive
    } else {
        let model = try Model(archive: archive, source: path)
        try model.restorePrecision(from: archive.metadata)
        packed = try ModelPacker.pack(model, metadata: archive.metadata)
    }
    let runtime = try PackedModel(archive: packed, source: path)
    let layers = try runtime.profile(batch: 1).reduce(into: [String: Double]()) { $0[$1.name] = $1.latencyMicroseconds }
    return (try medianLatency(runtime, batch: 1, repetitions: 200), layers)
}

/// One line on standard error, so JSON and Markdown on standard output stay clean.
private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
