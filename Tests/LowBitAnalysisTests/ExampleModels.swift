import Foundation
import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitAnalysis

/// Four hand-made variants of one small MNIST-sized CNN — float, int8 with half the weights pruned,
/// FGQ ternary, binary with float first and last layers — for the example report in docs/ and the
/// browser test. Weights are deterministic pseudo-random values; the accuracies are made up
/// (metadata says so): these files exist to exercise the report, not to claim results.
enum ExampleModels {
    /// 28x28x1 -> conv1 3x3x16 -> bn -> relu -> pool -> conv2 3x3x32 -> bn -> relu -> pool ->
    /// residual block (3x3x32 conv + bn, identity shortcut) -> relu -> global pool -> fc 32->10.
    static let spec = ModelSpec(name: "small-cnn", inputShape: [28, 28, 1], classCount: 10, layers: [
        LayerSpec(kind: .conv2d, name: "conv1", inChannels: 1, outChannels: 16, kernelSize: 3, padding: .same, bias: false),
        LayerSpec(kind: .batchNorm, name: "bn1", channels: 16),
        LayerSpec(kind: .relu, name: "relu1"),
        LayerSpec(kind: .maxPool, name: "pool1", poolSize: 2),
        LayerSpec(kind: .conv2d, name: "conv2", inChannels: 16, outChannels: 32, kernelSize: 3, padding: .same, bias: false),
        LayerSpec(kind: .batchNorm, name: "bn2", channels: 32),
        LayerSpec(kind: .relu, name: "relu2"),
        LayerSpec(kind: .maxPool, name: "pool2", poolSize: 2),
        LayerSpec(kind: .residual, name: "block", body: [
            LayerSpec(kind: .conv2d, name: "block.conv", inChannels: 32, outChannels: 32, kernelSize: 3, padding: .same,
                      bias: false),
            LayerSpec(kind: .batchNorm, name: "block.bn", channels: 32),
        ], shortcut: []),
        LayerSpec(kind: .relu, name: "block.relu"),
        LayerSpec(kind: .globalAvgPool, name: "pool"),
        LayerSpec(kind: .dense, name: "fc", inFeatures: 32, outFeatures: 10),
    ])

    struct Variant {
        var file: String
        var policy: PrecisionPolicy?
        var accuracy: Double
        var prunedFraction: Double = 0
    }

    static let variants = [
        Variant(file: "float.lowbit", policy: nil, accuracy: 0.9912),
        Variant(file: "int8-pruned50.lowbit", policy: PrecisionPolicy(name: "int8", rules: [
            PrecisionRule(pattern: "*", weight: TestModels.int8Weight, input: TestModels.int8Input),
        ]), accuracy: 0.9897, prunedFraction: 0.5),
        Variant(file: "fgq-ternary.lowbit", policy: PrecisionPolicy(name: "fgq-ternary", rules: [
            PrecisionRule(pattern: "conv1", weight: TestModels.int8Weight, input: TestModels.int8Input),
            PrecisionRule(pattern: "*", weight: TestModels.fgq4, input: TestModels.int8Input),
        ]), accuracy: 0.9861),
        Variant(file: "binary.lowbit", policy: PrecisionPolicy(name: "binary-fp-first-last", rules: [
            PrecisionRule(pattern: "conv1"), PrecisionRule(pattern: "fc"),
            PrecisionRule(pattern: "*", weight: TestModels.binaryWeight, input: TestModels.binaryInput),
        ]), accuracy: 0.9724),
    ]

    static func archive(_ variant: Variant) throws -> LowBitArchive {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let metadata: JSONValue = "hand-made example for docs/REPORTS.md; the accuracy is made up"
        return try TestModels.archive(spec, policy: variant.policy, metadata: ["dataset": "mnist", "note": metadata],
                                      accuracy: variant.accuracy) { name, _ in
            // xorshift64: reproducible uniform values in [-0.5, 0.5) without LowBitTensor's generators.
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let value = Float(state >> 40) / Float(1 << 24) - 0.5
            // Pruning zeroes the weights of smallest magnitude; BatchNorm scales stay near 1.
            if name.hasSuffix(".weight") { return abs(value) < Float(variant.prunedFraction) / 2 ? 0 : value }
            return name.hasSuffix(".bias") || name.hasSuffix(".beta") || name.hasSuffix(".runningMean") ? value : 1 + value
        }
    }

    static func reports() throws -> [ModelReport] {
        try variants.map { try ModelReport(analyzing: archive($0), source: $0.file) }
    }

    /// Writes the four model files into `directory` (for `lowbit report` and the screenshot).
    static func write(to directory: String) throws -> [String] {
        try variants.map { variant in
            let path = directory + "/" + variant.file
            try archive(variant).write(to: path)
            return path
        }
    }
}

/// `LOWBIT_REPORT_EXAMPLE_DIR=DIR swift test --filter writeExampleModels` writes the example model
/// files that docs/REPORTS.md renders; without the variable it only checks they can be written.
struct ExampleModelTests {
    @Test func writeExampleModels() throws {
        let requested = ProcessInfo.processInfo.environment["LOWBIT_REPORT_EXAMPLE_DIR"]
        let temporary = requested == nil ? try TemporaryDirectory() : nil
        defer { temporary?.remove() }
        let directory = requested ?? temporary!.path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let paths = try ExampleModels.write(to: directory)
        let reread = try paths.map { try ModelReport(analyzing: LowBitArchive.read(from: $0), source: ($0 as NSString).lastPathComponent) }
        #expect(reread == (try ExampleModels.reports()))
        // Half the int8 model's weights are zero (|w| < 0.25 of a uniform [-0.5, 0.5)).
        let pruned = try #require(reread[1].layers.first { $0.name == "conv2" }?.prunedFraction)
        #expect(abs(pruned - 0.5) < 0.05)
    }
}
