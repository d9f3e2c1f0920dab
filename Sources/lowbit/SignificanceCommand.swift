import ArgumentParser
import Foundation
import LowBitAnalysis
import LowBitData
import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitTensor

/// Hybrid-Net style automatic precision: rank layers by PCA significance and give the most
/// significant ones more bits while the packed model fits a byte budget.
struct SignificanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "significance",
        abstract: "PCA significance of each layer's activations, and a policy that spends a byte budget on the most significant.",
        discussion: """
            Example: lowbit significance r20.lowbit --dataset fashion-mnist:DIR --variance 0.999 --budget-bytes 60000 -o pca-policy.json
            Starts from the `binary` preset (first and last layer float) and upgrades layers in order of significance growth
            to --upgrade precision while the packed size (as `lowbit report` counts it) stays within the budget
            (default: 1.5x the binary policy's bytes).
            """
    )

    @Argument(help: "Trained float model (.lowbit).") var modelPath: String
    @Option(help: "Data set (default: the one the model was trained on).") var dataset: String?
    @Option(help: "Variance fraction the principal components must explain.") var variance = 0.999
    @Option(help: "Calibration samples from the training split.") var calib = 512
    @Option(name: .customLong("budget-bytes"), help: "Packed-size budget in bytes for the policy.") var budgetBytes: Int?
    @Option(help: "Precision given to upgraded layers: int8 or float.") var upgrade = "int8"
    @Flag(name: .customLong("signed-inputs"),
          help: "Upgraded int8 layers read signed 8-bit inputs: for training the policy with hard-tanh activations (two-stage QAT from a ReLU model). Default: signed when the model itself uses hard tanh.")
    var signedInputs = false
    @Option(name: [.short, .customLong("output")], help: "Write the chosen policy as JSON here.") var output: String?
    @Flag(help: "Print one JSON object: layers[{name, width, components, fraction, growth, upgraded}], bytes, budget_bytes, policy.")
    var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        _ = try common.apply(label: "significance")
        guard ["int8", "float"].contains(upgrade) else { throw ValidationError("--upgrade must be int8 or float") }
        let archive = try LowBitArchive.read(from: modelPath)
        let model = try Model(archive: archive, source: modelPath)
        let spec = try DatasetSpec(parsing: dataset ?? archive.metadata["dataset"]?.string ?? "mnist")
        let trainSet = try spec.load(.train)
        var rng = SeededGenerator(seed: 0)
        let sample = trainSet.subset(Array(rng.permutation(trainSet.count).prefix(max(calib, 1))))
        let loader = try DataLoader(sample, batchSize: 64, shuffle: false, normalization: try storedNormalization(archive.metadata))
        let layers = try model.significance(batches: loader.epoch(0), varianceFraction: variance)

        let base = try PolicyPresets.make("binary", for: model.spec)
        let baseBytes = try packedBytes(archive, base)
        let budget = budgetBytes ?? Int(Double(baseBytes) * 1.5)
        // Inputs after a hard tanh are signed; after a ReLU, unsigned.
        let signed = signedInputs || model.spec.flattenedLayers.contains { $0.kind == .hardTanh }
        var upgraded: [String] = []
        var policy = base
        let candidates = layers.filter { base.rule(forLayer: $0.name)?.weight != nil }.sorted { $0.growth > $1.growth }
        for layer in candidates {
            let trial = withUpgrades(base, upgraded + [layer.name], signed: signed)
            if try packedBytes(archive, trial) <= budget {
                upgraded.append(layer.name)
                policy = trial
            }
        }
        let bytes = try packedBytes(archive, policy)
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileAccess.writeAtomically(Array(try encoder.encode(policy)), to: output)
        }
        if json {
            try printJSON(SignificanceReport(
                layers: layers.map { .init(significance: $0, upgraded: upgraded.contains($0.name)) },
                bytes: bytes, binaryBytes: baseBytes, budgetBytes: budget, policy: policy))
            return
        }
        print("layer".padding(toLength: 34, withPad: " ", startingAt: 0) + " width  components  fraction   growth  precision")
        for layer in layers {
            let precision = upgraded.contains(layer.name) ? upgrade : (base.rule(forLayer: layer.name)?.weight == nil ? "float" : "binary")
            print(layer.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                  + String(format: "%6d %11d %9.3f %8.3f  ", layer.width, layer.components, layer.fraction, layer.growth) + precision)
        }
        print("policy \(policy.name): \(bytes) bytes packed (binary: \(baseBytes), budget: \(budget))"
              + (output.map { "; written to \($0)" } ?? ""))
    }

    private func withUpgrades(_ base: PrecisionPolicy, _ names: [String], signed: Bool) -> PrecisionPolicy {
        let rule: (String) -> PrecisionRule = { name in
            self.upgrade == "float" ? PrecisionRule(pattern: name)
                : PrecisionRule(pattern: name, weight: PolicyPresets.uniformWeight(bits: 8),
                                input: PolicyPresets.activation(bits: 8, signed: signed, calibration: "percentile"))
        }
        return PrecisionPolicy(name: "pca-significance", rules: names.map(rule) + base.rules)
    }

    private func packedBytes(_ archive: LowBitArchive, _ policy: PrecisionPolicy) throws -> Int {
        var candidate = archive
        candidate.metadata["policy"] = try JSONValue(encoding: policy)
        candidate.metadata["quantizers"] = nil
        return try ModelReport(analyzing: candidate, source: modelPath).total.packedBytes
    }
}

struct SignificanceReport: Codable {
    struct Row: Codable {
        var name: String
        var width: Int
        var components: Int
        var fraction: Double
        var growth: Double
        var upgraded: Bool

        init(significance s: LayerSignificance, upgraded: Bool) {
            (name, width, components, fraction, growth, self.upgraded) = (s.name, s.width, s.components, s.fraction, s.growth, upgraded)
        }
    }

    var layers: [Row]
    var bytes: Int
    var binaryBytes: Int
    var budgetBytes: Int
    var policy: PrecisionPolicy

    enum CodingKeys: String, CodingKey {
        case layers, bytes, policy
        case binaryBytes = "binary_bytes"
        case budgetBytes = "budget_bytes"
    }
}
