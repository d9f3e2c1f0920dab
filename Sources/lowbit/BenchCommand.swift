import ArgumentParser
import Foundation
import LowBitIO
import LowBitNN
import LowBitTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed: training throughput, kernels, model latency.",
        subcommands: [BenchModelCommand.self, BenchTrainCommand.self, BenchGEMMCommand.self, BenchKernelsCommand.self],
        defaultSubcommand: BenchModelCommand.self
    )
}

/// Training throughput on synthetic data of the real shapes (what docs/BENCHMARKS.md compares with PyTorch).
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training samples/s for a model family on synthetic data of a data set's shape."
    )

    @Option(help: "Model family: \(Models.names.joined(separator: ", ")).") var model = "mlp"
    @Option(help: "Comma-separated widths (hidden sizes for mlp).") var hidden: String?
    @Option(help: "Per-sample input shape, e.g. 28,28,1 or 784.") var inputShape = "28,28,1"
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Timed steps (after 3 warm-up steps).") var steps = 20
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        Memory.tuneAllocatorForTraining()
        let shape = try parseIntList(inputShape, option: "--input-shape")
        let spec = try Models.spec(named: model, inputShape: shape, classCount: 10,
                                   widths: try hidden.map { try parseIntList($0, option: "--hidden") })
        var rng = SeededGenerator(seed: 0)
        let network = try Model(spec: spec, rng: &rng)
        let trainer = Trainer(model: network, config: TrainingConfig(batchSize: batchSize, learningRate: 0.01))
        let x = Tensor(shape: [batchSize] + shape, data: (0..<(batchSize * shape.reduce(1, *))).map { _ in rng.nextNormal() })
        let y = (0..<batchSize).map { _ in Int32(rng.nextInt(below: 10)) }
        for _ in 0..<3 { _ = try trainer.step(x: x, y: y, learningRate: 0.01) }
        let start = Date()
        for _ in 0..<steps { _ = try trainer.step(x: x, y: y, learningRate: 0.01) }
        let seconds = Date().timeIntervalSince(start)
        let rate = Double(steps * batchSize) / seconds
        if json {
            print("{\"model\": \"\(model)\", \"batch_size\": \(batchSize), \"threads\": \(Parallel.threadCount), \"samples_per_second\": \(rate)}")
        } else {
            print(String(format: "%@ batch %d, %d threads: %.0f samples/s (%.2f ms/step)", model, batchSize,
                         Parallel.threadCount, rate, seconds * 1000 / Double(steps)))
        }
    }
}

func parseIntList(_ text: String, option: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 }) else {
        throw ValidationError("\(option) takes comma-separated positive integers, got '\(text)'")
    }
    return values.map { $0! }
}
