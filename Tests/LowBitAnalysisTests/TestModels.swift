import Foundation
import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitAnalysis

/// Small hand-made models: specs, policies and archives written directly (no trainer), so every
/// number a test expects can be worked out on paper.
enum TestModels {
    /// input [8] -> fc1 dense 8->3 (bias) -> relu1 -> fc2 dense 3->2 (bias).
    static let denseSpec = ModelSpec(name: "tiny-mlp", inputShape: [8], classCount: 2, layers: [
        LayerSpec(kind: .dense, name: "fc1", inFeatures: 8, outFeatures: 3, bias: true),
        LayerSpec(kind: .relu, name: "relu1"),
        LayerSpec(kind: .dense, name: "fc2", inFeatures: 3, outFeatures: 2, bias: true),
    ])

    /// input [4, 4, 1] -> conv 3x3 1->2 same, no bias -> bn -> relu -> pool 2x2 -> flatten -> fc 8->3.
    static let convSpec = ModelSpec(name: "tiny-cnn", inputShape: [4, 4, 1], classCount: 3, layers: [
        LayerSpec(kind: .conv2d, name: "conv", inChannels: 1, outChannels: 2, kernelSize: 3, stride: 1,
                  padding: .same, bias: false),
        LayerSpec(kind: .batchNorm, name: "bn", channels: 2),
        LayerSpec(kind: .relu, name: "relu"),
        LayerSpec(kind: .maxPool, name: "pool", stride: 2, poolSize: 2),
        LayerSpec(kind: .flatten, name: "flatten"),
        LayerSpec(kind: .dense, name: "fc", inFeatures: 8, outFeatures: 3, bias: true),
    ])

    /// input [2, 2, 2] -> block (body: 1x1 conv + bn; shortcut: 1x1 conv) -> relu.
    static let residualSpec = ModelSpec(name: "tiny-resnet", inputShape: [2, 2, 2], classCount: 8, layers: [
        LayerSpec(kind: .residual, name: "block", body: [
            LayerSpec(kind: .conv2d, name: "block.conv", inChannels: 2, outChannels: 2, kernelSize: 1, bias: false),
            LayerSpec(kind: .batchNorm, name: "block.bn", channels: 2),
        ], shortcut: [
            LayerSpec(kind: .conv2d, name: "block.shortcut", inChannels: 2, outChannels: 2, kernelSize: 1, bias: false),
        ]),
        LayerSpec(kind: .relu, name: "relu"),
    ])

    static let binaryWeight = QuantizerSpec(scheme: "binary", granularity: "channel")
    static let binaryInput = QuantizerSpec(scheme: "binary-activation")
    static let fgq4 = QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 4, delta: "optimal")
    static let int8Weight = QuantizerSpec(scheme: "uniform", bits: 8, granularity: "channel", symmetric: true)
    static let int8Input = QuantizerSpec(scheme: "activation", bits: 8, signed: false)

    /// The first layer quantized, the classifier kept in float (first match wins).
    static func firstLayer(_ name: String, _ policyName: String, weight: QuantizerSpec, input: QuantizerSpec) -> PrecisionPolicy {
        PrecisionPolicy(name: policyName, rules: [
            PrecisionRule(pattern: "fc2"), PrecisionRule(pattern: "fc"),
            PrecisionRule(pattern: name, weight: weight, input: input),
        ])
    }

    static let int8Everywhere = PrecisionPolicy(name: "int8", rules: [
        PrecisionRule(pattern: "*", weight: int8Weight, input: int8Input),
    ])

    /// An archive of `spec` whose float tensors are all nonzero except the first `zeros[name]`
    /// values of the tensor `name`; `policy` and `accuracy` go to the metadata.
    static func archive(_ spec: ModelSpec, policy: PrecisionPolicy? = nil, zeros: [String: Int] = [:],
                        accuracy: Double? = nil) throws -> LowBitArchive {
        try archive(spec, policy: policy, metadata: ["dataset": "test-set"], accuracy: accuracy) { name, index in
            index < zeros[name, default: 0] ? 0 : Float(index + 1) * 0.125
        }
    }

    /// An archive of `spec` holding every tensor LowBitNN saves for it, `value(name, index)` at
    /// each position, with `policy` and `accuracy` added to `metadata`.
    static func archive(_ spec: ModelSpec, policy: PrecisionPolicy?, metadata: [String: JSONValue], accuracy: Double?,
                        value: (String, Int) -> Float) throws -> LowBitArchive {
        var metadata = metadata
        if let policy { metadata["policy"] = try JSONValue(encoding: policy) }
        if let accuracy { metadata["metrics"] = ["accuracy": .number(accuracy), "loss": 0.5, "samples": 100] }
        var archive = LowBitArchive(spec: spec, metadata: metadata)
        for (name, shape) in tensorShapes(spec.flattenedLayers) {
            let values = (0..<shape.reduce(1, *)).map { value(name, $0) }
            try archive.add(StoredTensor(name: name, tensor: Tensor(shape: shape, data: values)))
        }
        return archive
    }

    /// The tensors LowBitNN saves for these layers (names and OHWI / [out, in] layouts).
    private static func tensorShapes(_ layers: [LayerSpec]) -> [(String, [Int])] {
        layers.flatMap { layer -> [(String, [Int])] in
            switch layer.kind {
            case .dense:
                let (i, o) = (layer.inFeatures!, layer.outFeatures!)
                return [("\(layer.name).weight", [o, i])] + (layer.bias ?? true ? [("\(layer.name).bias", [o])] : [])
            case .conv2d:
                let (i, o, k) = (layer.inChannels!, layer.outChannels!, layer.kernelSize!)
                return [("\(layer.name).weight", [o, k, k, i])] + (layer.bias ?? true ? [("\(layer.name).bias", [o])] : [])
            case .batchNorm:
                return ["gamma", "beta", "runningMean", "runningVariance"].map { ("\(layer.name).\($0)", [layer.channels!]) }
            default:
                return []
            }
        }
    }

    static func report(_ spec: ModelSpec, _ source: String, policy: PrecisionPolicy? = nil, zeros: [String: Int] = [:],
                       accuracy: Double? = nil, latency: Double? = nil, table: EnergyTable = .default45nm) throws -> ModelReport {
        try ModelReport(analyzing: archive(spec, policy: policy, zeros: zeros, accuracy: accuracy), source: source,
                        energyTable: table, latencyMicroseconds: latency)
    }

    /// The row called `name`; records an issue when there is none.
    static func row(_ report: ModelReport, _ name: String) throws -> LayerReport {
        try #require(report.layers.first { $0.name == name }, "no layer \(name) in \(report.layers.map(\.name))")
    }
}

/// `a` and `b` agree to 1e-9 relative (energies and BOPs are sums of decimal fractions).
func close(_ a: Double, _ b: Double) -> Bool {
    abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1)
}

/// The `LowBitError` that `body` throws, or nil (recorded as an issue) if it throws something else
/// or nothing.
func lowBitError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> LowBitError? {
    do {
        try body()
        Issue.record("expected a LowBitError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as LowBitError {
        return error
    } catch {
        Issue.record("expected a LowBitError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lowbit-analysis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
