import ArgumentParser
import Foundation
import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitRuntime
import LowBitTensor

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on inputs from a .npy file and write its logits.",
        discussion: """
            The input is float32 in the model's own input layout, batch first ([N, features] or NHWC \
            [N, height, width, channels]), raw: the model applies the normalization it was trained \
            with (MNIST pixels scaled to [0, 1], for example). The output is float32 logits [N, classes].
            A packed model (lowbit pack) runs on the runtime; a trained model file runs on the training-side \
            layers with its quantizers, the reference the runtime is checked against.
            Example: lowbit run mlp.packed.lowbit --input x.npy -o logits.npy --json
            """
    )

    @Argument(help: "Packed model file (from lowbit pack), or a trained model file.") var modelPath: String
    @Option(help: "Input samples (.npy, float32).") var input: String
    @Option(name: [.short, .customLong("output")], help: "Logits to write (.npy, float32).") var output: String
    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Samples per forward pass of a packed model.",
            discussion: "Bounds the memory of the activations: the whole Fashion-MNIST test set as one batch peaked at 1.8 GB."))
    var batchSize = 256
    @Flag(help: "Print one JSON object: output, shape, latency_us, model_bytes, peak_resident_bytes.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        _ = try common.apply(label: "run")
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
        let archive = try LowBitArchive.read(from: modelPath)
        let x = try NumPyArray.read(from: input).floatTensor()
        // A NaN or infinity would run silently: int8 layers quantize NaN to code 0, float layers carry it.
        try x.checkFinite(input)
        let start = DispatchTime.now().uptimeNanoseconds
        let logits: Tensor
        if archive.metadata["packed"] != nil {
            let model = try PackedModel(archive: archive, source: modelPath), count = x.shape.first ?? 0
            // A bar (or, off a terminal, a line every 10 s) once the input takes more than one slice.
            let progress = count > batchSize ? ProgressReporter(enabled: !common.noProgress) : nil
            logits = try model.predict(x, batchSize: batchSize) { done, total in
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                progress?.update("run", done: done, total: total, rate: seconds > 0 ? Double(done) / seconds : 0, unit: "samples")
            }
            progress?.finish()
        } else {
            logits = try referenceLogits(archive, x)
        }
        let latency = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
        try NumPyArray(logits).write(to: output)
        let report = RunReport(output: output, shape: logits.shape, latencyMicroseconds: latency,
                               modelBytes: try fileSize(modelPath), peakResidentBytes: peakResidentBytes())
        if json {
            try printJSON(report)
        } else {
            print(String(format: "%@: logits %@ in %.0f us; model %d bytes, peak resident memory %@ bytes", output,
                         "\(logits.shape)", latency, report.modelBytes, report.peakResidentBytes.map(String.init) ?? "unknown"))
        }
    }
}

/// Logits of the training-side model (quantizers and normalization restored), in batches of 256.
private func referenceLogits(_ archive: LowBitArchive, _ x: Tensor) throws -> Tensor {
    let model = try Model(archive: archive, source: "the model")
    try model.restorePrecision(from: archive.metadata)
    let normalized = try storedNormalization(archive.metadata)?.apply(to: x) ?? x
    var data: [Float] = []
    for start in stride(from: 0, to: x.shape[0], by: 256) {
        data += try model(normalized.slice(rows: start..<min(start + 256, x.shape[0]))).data
    }
    return Tensor(shape: [x.shape[0], model.spec.classCount], data: data)
}

private struct RunReport: Encodable {
    let output: String
    let shape: [Int]
    let latencyMicroseconds: Double
    let modelBytes: Int
    let peakResidentBytes: Int?

    enum CodingKeys: String, CodingKey {
        case output, shape
        case latencyMicroseconds = "latency_us", modelBytes = "model_bytes", peakResidentBytes = "peak_resident_bytes"
    }
}

/// The process's peak resident set size (`VmHWM` in /proc/self/status), or nil where there is none.
func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}
