import ArgumentParser
import Foundation
import LowBitIO
import LowBitRuntime
import LowBitTensor

/// `lowbit bench MODEL`: end-to-end latency of a packed model per batch size, and per layer at
/// batch 1. The default subcommand of `lowbit bench`, so `lowbit bench model.packed.lowbit` works.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Latency of a packed model per batch size and per layer, in microseconds.",
        discussion: "Example: lowbit bench mlp.packed.lowbit --threads 1 --json"
    )

    @Argument(help: "Packed model file (from lowbit pack).") var modelPath: String
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(name: .customLong("batch-sizes"), help: "Comma-separated batch sizes.") var batchSizes = "1,8,64"
    @Option(name: .customLong("repeat"), help: "Timed runs per batch size (the median is kept).") var repetitions = 50
    @Option(help: ArgumentHelp("Time these samples (.npy, float32, the model's input layout) instead of uniform noise; each batch takes the first samples, repeated if there are fewer.",
                               discussion: "int8 layers with full-range inputs run faster when few activations reach 128, so real samples time them as deployed."))
    var input: String?
    @Flag(help: "Print one JSON object: model, threads, model_bytes, latency_us{batch: us}, latency_min_us{batch: us}, layers[{name, kind, latency_us}], input.")
    var json = false
    @Option(help: ArgumentHelp("Also write every timed run's latency, in the order they ran, as CSV (batch,run,us).",
                               discussion: "On a shared or virtual machine the runs come in phases (stretches of fast and slow runs); the median and the fastest run alone hide them."))
    var times: String?

    func run() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be >= 1, got \(threads)") }
            Parallel.threadCount = threads
        }
        guard repetitions >= 1 else { throw ValidationError("--repeat must be >= 1") }
        let model = try PackedModel(contentsOf: modelPath)
        let samples = try input.map { try NumPyArray.read(from: $0).floatTensor() }
        if let samples, let input { try samples.checkFinite(input) }
        if let samples, samples.rank != model.plan.inputShape.count + 1 || Array(samples.shape.dropFirst()) != model.plan.inputShape
            || samples.shape[0] < 1 {
            throw ValidationError("--input holds \(samples.shape); the model takes [N] + \(model.plan.inputShape)")
        }
        var latency: [String: Double] = [:], fastest: [String: Double] = [:], csv = "batch,run,us\n"
        for batch in try parseIntList(batchSizes, option: "--batch-sizes") {
            let runs = try latencySamples(model, batch: batch, repetitions: repetitions, samples: samples, sorted: false)
            if times != nil { csv += runs.enumerated().map { "\(batch),\($0.offset),\(String(format: "%.3f", $0.element))\n" }.joined() }
            let sorted = runs.sorted()
            latency[String(batch)] = sorted[sorted.count / 2]
            fastest[String(batch)] = sorted[0]
        }
        if let times { try FileAccess.writeAtomically(Array(csv.utf8), to: times) }
        let layers = try model.profile(batch: 1, repeats: repetitions, input: samples.map { Self.batch(of: $0, 1) })
        let report = ModelBenchReport(model: modelPath, threads: Parallel.threadCount, modelBytes: try fileSize(modelPath),
                                      latencyMicroseconds: latency, fastestMicroseconds: fastest,
                                      layers: layers.map { .init(name: $0.name, kind: $0.kind, latencyMicroseconds: $0.latencyMicroseconds) },
                                      input: input ?? "uniform")
        if json {
            try printJSON(report)
            return
        }
        print("\(modelPath): \(report.modelBytes) bytes, \(report.threads) threads, median of \(repetitions), input \(report.input)")
        for (batch, us) in latency.sorted(by: { Int($0.key)! < Int($1.key)! }) {
            print(String(format: "  batch %4@: %10.1f us  (%.1f us/sample; fastest run %.1f us)", batch, us, us / Double(Int(batch)!),
                         fastest[batch] ?? us))
        }
        print("layers at batch 1:")
        for layer in layers {
            print("  " + layer.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + layer.kind.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%10.1f us", layer.latencyMicroseconds))
        }
    }
}

extension BenchModelCommand {
    /// The first `batch` samples of `samples`, repeated from the start when there are fewer.
    static func batch(of samples: Tensor, _ batch: Int) -> Tensor {
        let size = samples.shape.dropFirst().reduce(1, *), available = samples.shape[0]
        let data = (0..<batch).flatMap { b in samples.data[((b % available) * size)..<((b % available + 1) * size)] }
        return Tensor(shape: [batch] + Array(samples.shape.dropFirst()), data: data)
    }
}

/// Median wall time in microseconds of `predict` on random inputs of `batch` samples, after the
/// warm-up runs of ``latencySamples(_:batch:repetitions:samples:sorted:)`` (`lowbit bench MODEL`, `lowbit demo`).
func medianLatency(_ model: PackedModel, batch: Int, repetitions: Int) throws -> Double {
    let times = try latencySamples(model, batch: batch, repetitions: repetitions)
    return times[times.count / 2]
}

/// The wall times in microseconds of `repetitions` timed `predict` calls on `batch` samples (from
/// `samples`, else uniform noise), sorted (or in the order they ran). Untimed warm-up runs come first:
/// at least 3 and at least 0.1 s of them. With 3 alone, a 20 us model's first timed runs were still
/// warming the caches and the clock: the int8 MNIST MLP's median over 50 runs read 30.6 us, over
/// 20,000 runs 20.6.
func latencySamples(_ model: PackedModel, batch: Int, repetitions: Int, samples: Tensor? = nil, sorted: Bool = true) throws -> [Double] {
    let x = samples.map { BenchModelCommand.batch(of: $0, batch) } ?? PackedModel.uniformSamples(batch: batch, shape: model.plan.inputShape)
    let warmUpEnd = DispatchTime.now().uptimeNanoseconds + 100_000_000
    var warmUps = 0
    while warmUps < 3 || DispatchTime.now().uptimeNanoseconds < warmUpEnd {
        _ = try model.predict(x)
        warmUps += 1
    }
    var times: [Double] = []
    for _ in 0..<max(repetitions, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try model.predict(x)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
    }
    return sorted ? times.sorted() : times
}

private struct ModelBenchReport: Encodable {
    struct Layer: Encodable {
        let name: String
        let kind: String
        let latencyMicroseconds: Double
        enum CodingKeys: String, CodingKey { case name, kind, latencyMicroseconds = "latency_us" }
    }

    let model: String
    let threads: Int
    let modelBytes: Int
    let latencyMicroseconds: [String: Double]
    /// The fastest timed run per batch size: on a shared or virtual machine, the run least disturbed.
    let fastestMicroseconds: [String: Double]
    let layers: [Layer]
    /// The timed samples: the --input file, or "uniform".
    let input: String

    enum CodingKeys: String, CodingKey {
        case model, threads, layers, input
        case modelBytes = "model_bytes", latencyMicroseconds = "latency_us", fastestMicroseconds = "latency_min_us"
    }
}
