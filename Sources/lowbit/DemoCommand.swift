import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitTensor

/// The project's main job on the MNIST copy shipped in the repo: train a float model, evaluate it,
/// save it, print the comparison table. Quantized, hybrid and packed variants join the table as
/// those parts of LowBit land (issues 4-6).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "End-to-end demo on the shipped MNIST: train, evaluate, save, compare.",
        discussion: "Example: lowbit demo --quick"
    )

    @Flag(help: "A short run (a slice of the data, one epoch) that finishes in seconds; used by tests.") var quick = false
    @Option(name: .customLong("output-dir"), help: "Where models are written.") var outputDirectory = "demo-out"
    @Option(help: "Data set spec (default: the MNIST copy in the repo).") var dataset = "mnist"
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
        let normalization = try Normalization.fit(trainSet)
        let epochs = quick ? 1 : 5
        progress.finish("demo: \(trainSet.count) training and \(testSet.count) test samples from \(spec)")

        var rng = SeededGenerator(seed: 1)
        let model = try Model(spec: try Models.mlp(inputShape: trainSet.sampleShape, hidden: [256, 256],
                                                   classCount: trainSet.classCount), rng: &rng)
        let config = TrainingConfig(epochs: epochs, batchSize: 128, learningRate: 0.05, seed: 1)
        let trainer = Trainer(model: model, config: config)
        let loader = try DataLoader(trainSet, batchSize: 128, seed: 1, normalization: normalization)
        let testLoader = try DataLoader(testSet, batchSize: 500, shuffle: false, normalization: normalization)
        let start = Date()
        for epoch in 0..<epochs {
            try trainer.trainEpoch(epoch, batches: loader.epoch(epoch), batchesPerEpoch: loader.batchCount) { p in
                progress.update("train float MLP, epoch \(epoch + 1)/\(epochs)", done: p.samplesSeen, total: trainSet.count,
                                rate: p.samplesPerSecond, unit: "samples", detail: String(format: "loss %.4f", p.loss))
            }
        }
        progress.finish(String(format: "trained in %.1fs", Date().timeIntervalSince(start)))
        let result = try evaluate(model, batches: testLoader.epoch(0))
        let path = (outputDirectory as NSString).appendingPathComponent("float.lowbit")
        try model.save(to: path, metadata: [
            "training": try JSONValue(encoding: config),
            "dataset": .string(dataset),
            "normalization": try JSONValue(encoding: normalization),
            "metrics": try JSONValue(encoding: ["accuracy": result.accuracy, "loss": result.loss, "samples": Double(result.samples)]),
        ])
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let rows = [DemoRow(variant: "float32 MLP 784-256-256-10", accuracy: result.accuracy, bytes: bytes,
                            parameters: model.parameterCount, file: path)]
        if json {
            try printJSON(rows)
            return
        }
        print("variant                       accuracy   file bytes   parameters   file")
        for row in rows {
            print(row.variant.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: "%.4f", row.accuracy).padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(row.bytes).padding(toLength: 13, withPad: " ", startingAt: 0)
                  + String(row.parameters).padding(toLength: 13, withPad: " ", startingAt: 0) + row.file)
        }
    }
}

struct DemoRow: Codable {
    var variant: String
    var accuracy: Double
    var bytes: Int
    var parameters: Int
    var file: String
}
