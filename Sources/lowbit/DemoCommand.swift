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

/// The project's main job on the MNIST copy shipped in the repo: train a float model, derive the
/// int8, int4, FGQ-ternary, binary and hybrid versions, pack each and run it through the runtime, and
/// print one comparison table (accuracy, bytes, compression, BOPs, energy estimate, latency) plus
/// an HTML report.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "End-to-end demo on the shipped MNIST: train, quantize, evaluate, compare.",
        discussion: "Example: lowbit demo --quick"
    )

    @Flag(help: "A short run (a slice of the data, one epoch) that finishes in seconds; used by tests.") var quick = false
    @Option(name: .customLong("output-dir"), help: "Where models are written.") var outputDirectory = "demo-out"
    @Option(help: "Data set spec (default: the MNIST copy in the repo).") var dataset = "mnist"
    @Option(help: "Where the HTML report is written.") var html = "demo-report.html"
    @Flag(help: "Print the table as JSON on stdout.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        _ = try common.apply(label: "demo")
        let progress = ProgressReporter(enabled: !common.noProgress)
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let spec = try DatasetSpec(parsing: dataset)
        var trainSet = try spec.load(.train)
        var testSet = try spec.load(.test)
        if quick {
            trainSet = trainSet.prefix(min(6000, trainSet.count))
            testSet = testSet.prefix(min(2000, testSet.count))
        }
        let context = try DemoContext(trainSet: trainSet, testSet: testSet, dataset: dataset, outputDirectory: outputDirectory,
                                      epochs: quick ? 1 : 5, progress: progress)
        progress.finish("demo: \(trainSet.count) training and \(testSet.count) test samples from \(spec)")

        var rows: [DemoRow] = []
        let float = try context.train(name: "float", architecture: try Models.mlp(inputShape: trainSet.sampleShape, hidden: [256, 256],
                                                                                   classCount: trainSet.classCount))
        rows.append(try context.row("float32 MLP 784-256-256-10", float))
        for (preset, label) in [("int8", "int8 (post-training)"), ("int4", "int4 (post-training)"),
                                ("ternary-fgq", "FGQ ternary N=4 (post-training)")] {
            let model = try Model(archive: try float.model.archive(), source: "demo")
            let policy = try PolicyPresets.make(preset, for: model.spec)
            try model.apply(policy: policy)
            try model.calibrate(batches: context.calibrationLoader.epoch(0))
            rows.append(try context.row(label, try context.save(name: preset, model: model, policy: policy)))
        }
        let binaryArchitecture = try Models.mlp(inputShape: trainSet.sampleShape, hidden: [512, 512, 512], classCount: trainSet.classCount,
                                                batchNorm: true, activation: .hardTanh)
        for (preset, label) in [("binary-all", "binary MLP 784-3x512-10 (QAT)"),
                                ("hybrid-fp-first-last", "hybrid: float first/last layer (QAT)")] {
            let policy = try PolicyPresets.make(preset, for: binaryArchitecture)
            let model = try context.train(name: preset, architecture: binaryArchitecture, policy: policy, optimizer: "adam",
                                          learningRate: 0.003)
            rows.append(try context.row(label, model))
        }

        progress.finish("packing each variant and running it through the runtime")
        let deployed = try rows.map { try context.deploy($0) }
        let reports = try deployed.map {
            try ModelReport(analyzing: LowBitArchive.read(from: $0.file), source: $0.file, evaluatedAccuracy: $0.runtimeAccuracy,
                            latencyMicroseconds: $0.latencyMicroseconds)
        }
        try FileAccess.writeAtomically(Array(HTMLReport.render(reports).utf8), to: html)
        let table = zip(deployed, reports).map { row, report in
            var row = row
            row.bytes = report.total.packedBytes
            row.compression = report.total.compression ?? 1
            row.bitOperations = report.total.bitOperations
            row.energyPicojoules = report.total.energy.totalPicojoules
            return row
        }
        if json {
            try printJSON(table)
        } else {
            print(DemoRow.table(table))
        }
        progress.finish("wrote the HTML report to \(html); models are in \(outputDirectory)/ (energy is an estimate)")
    }
}

/// Data, loaders and bookkeeping shared by the demo's variants.
struct DemoContext {
    let trainSet: LabeledDataset
    let testSet: LabeledDataset
    let dataset: String
    let outputDirectory: String
    let epochs: Int
    let progress: ProgressReporter
    let normalization: Normalization
    let calibrationLoader: DataLoader
    let testLoader: DataLoader

    init(trainSet: LabeledDataset, testSet: LabeledDataset, dataset: String, outputDirectory: String, epochs: Int,
         progress: ProgressReporter) throws {
        self.trainSet = trainSet
        self.testSet = testSet
        self.dataset = dataset
        self.outputDirectory = outputDirectory
        self.epochs = epochs
        self.progress = progress
        normalization = try Normalization.fit(trainSet)
        calibrationLoader = try DataLoader(trainSet.prefix(min(512, trainSet.count)), batchSize: 128, shuffle: false,
                                           normalization: normalization)
        testLoader = try DataLoader(testSet, batchSize: 500, shuffle: false, normalization: normalization)
    }

    struct Saved {
        var model: Model
        var path: String
        var accuracy: Double
    }

    func train(name: String, architecture: ModelSpec, policy: PrecisionPolicy? = nil, optimizer: String = "sgd",
               learningRate: Float = 0.05) throws -> Saved {
        var rng = SeededGenerator(seed: 1)
        let model = try Model(spec: architecture, rng: &rng)
        if let policy { try model.apply(policy: policy) }
        let config = TrainingConfig(epochs: epochs, batchSize: 128, optimizer: optimizer, learningRate: learningRate,
                                    weightDecay: optimizer == "adam" ? 0 : 5e-4, seed: 1)
        let trainer = Trainer(model: model, config: config)
        let loader = try DataLoader(trainSet, batchSize: 128, seed: 1, normalization: normalization)
        let start = Date()
        for epoch in 0..<epochs {
            try progress.trainEpoch(trainer, epoch: epoch, of: epochs, loader: loader, task: "train \(name), ")
        }
        progress.finish(String(format: "trained %@ in %.1fs", name, Date().timeIntervalSince(start)))
        return try save(name: name, model: model, policy: policy, training: config)
    }

    func save(name: String, model: Model, policy: PrecisionPolicy?, training: TrainingConfig? = nil) throws -> Saved {
        let result = try evaluate(model, batches: testLoader.epoch(0))
        let path = (outputDirectory as NSString).appendingPathComponent("\(name).lowbit")
        var metadata: [String: JSONValue] = [
            "dataset": .string(dataset),
            "normalization": try JSONValue(encoding: normalization),
            "metrics": try metricsMetadata(result),
        ]
        if let training { metadata["training"] = try JSONValue(encoding: training) }
        if let policy { metadata.merge(try model.precisionMetadata(policy: policy)) { $1 } }
        try model.save(to: path, metadata: metadata)
        return Saved(model: model, path: path, accuracy: result.accuracy)
    }

    func row(_ variant: String, _ saved: Saved) throws -> DemoRow {
        DemoRow(variant: variant, accuracy: saved.accuracy, parameters: saved.model.parameterCount, file: saved.path)
    }

    /// Packs a row's model, runs the test set through the runtime (its accuracy must match the
    /// training-side one) and measures the runtime's batch-1 latency.
    func deploy(_ row: DemoRow) throws -> DemoRow {
        let (model, metadata) = try loadModel(row.file)
        let packedPath = row.file.replacingOccurrences(of: ".lowbit", with: ".packed.lowbit")
        try ModelPacker.pack(model, metadata: metadata).write(to: packedPath)
        let runtime = try PackedModel(contentsOf: packedPath)
        var correct = 0
        let batchSize = 500
        for start in stride(from: 0, to: testSet.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, testSet.count))
            let batch = testSet.subset(indices)
            correct += zip(try runtime.classify(batch.features), batch.labels).filter { $0 == Int($1) }.count
        }
        var deployed = row
        deployed.runtimeAccuracy = Double(correct) / Double(max(testSet.count, 1))
        deployed.latencyMicroseconds = try medianLatency(runtime, batch: 1, repetitions: 200)
        deployed.packedFile = packedPath
        deployed.packedFileBytes = (try FileManager.default.attributesOfItem(atPath: packedPath)[.size] as? Int) ?? 0
        return deployed
    }
}

/// One line of the demo's comparison table; the costs come from `lowbit report`'s analysis.
struct DemoRow: Codable {
    var variant: String
    var accuracy: Double
    var parameters: Int
    var bytes = 0
    var compression = 1.0
    var bitOperations = 0.0
    var energyPicojoules = 0.0
    var file: String
    var runtimeAccuracy: Double?
    var latencyMicroseconds: Double?
    var packedFile: String?
    var packedFileBytes: Int?

    enum CodingKeys: String, CodingKey {
        case variant, accuracy, parameters, bytes, compression, file
        case bitOperations = "bops"
        case energyPicojoules = "energy_pj"
        case runtimeAccuracy = "runtime_accuracy"
        case latencyMicroseconds = "latency_us"
        case packedFile = "packed_file"
        case packedFileBytes = "packed_file_bytes"
    }

    static func table(_ rows: [DemoRow]) -> String {
        let header = ["variant", "accuracy", "runtime acc.", "params", "packed bytes", "vs float32", "BOPs", "energy (estimate)",
                      "latency b=1"]
        let body = rows.map { row in
            [row.variant, String(format: "%.2f%%", row.accuracy * 100),
             row.runtimeAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "-", String(row.parameters), String(row.bytes),
             String(format: "%.1fx", row.compression), String(format: "%.3g", row.bitOperations),
             String(format: "%.1f uJ", row.energyPicojoules / 1e6),
             row.latencyMicroseconds.map { String(format: "%.1f us", $0) } ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + body).map { $0[column].count }.max() ?? 0 }
        let line: ([String]) -> String = { cells in
            cells.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) : cell.leftPadded(to: widths[column])
            }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + body.map(line)).joined(separator: "\n")
    }
}
