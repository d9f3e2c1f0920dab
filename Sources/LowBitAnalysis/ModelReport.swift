import LowBitIO
import LowBitTensor

/// Sizes and costs of one model, per layer and in total, for one sample: what `lowbit report`
/// prints. It reads a `.lowbit` archive and never changes it.
///
/// The precision of each layer comes from the metadata's `"policy"` (a ``LowBitIO/PrecisionPolicy``;
/// absent means float32 everywhere), the accuracy from `"metrics"` unless an evaluation supplies
/// one, and energy is an estimate (``EnergyModel``).
///
/// ```swift
/// let archive = try LowBitArchive.read(from: "binary.lowbit")
/// let report = try ModelReport(analyzing: archive, source: "binary.lowbit")
/// print(report.total.packedBytes, report.total.compression ?? 1, report.total.bitOperations)
/// print(ReportTables.terminal([report]))
/// ```
public struct ModelReport: Sendable, Equatable {
    /// Where the model came from, as the user named it (a path).
    public var source: String
    /// The spec's family name (`mlp`, `resnet20`, ...).
    public var architecture: String
    public var inputShape: [Int]
    public var policyName: String
    /// The metadata's `"dataset"`, when it names one.
    public var dataset: String?
    /// Top-1 accuracy in 0...1, when known.
    public var accuracy: Double?
    /// Where ``accuracy`` came from.
    public var accuracySource: AccuracySource?
    /// Every layer, depth first, a residual layer before its body and then its shortcut.
    public var layers: [LayerReport]
    /// Measured latency of one inference, when a benchmark supplies one.
    public var latencyMicroseconds: Double?
    /// The figures the energy estimates were computed with.
    public var energyTable: EnergyTable

    /// Whether an accuracy was stored in the model file or measured for this report.
    public enum AccuracySource: String, Sendable {
        case metadata, evaluation
    }

    public init(source: String, architecture: String, inputShape: [Int], policyName: String, dataset: String?,
                accuracy: Double?, accuracySource: AccuracySource?, layers: [LayerReport],
                latencyMicroseconds: Double?, energyTable: EnergyTable) {
        self.source = source
        self.architecture = architecture
        self.inputShape = inputShape
        self.policyName = policyName
        self.dataset = dataset
        self.accuracy = accuracy
        self.accuracySource = accuracySource
        self.layers = layers
        self.latencyMicroseconds = latencyMicroseconds
        self.energyTable = energyTable
    }

    /// Analyzes `archive`. `evaluatedAccuracy` (0...1) replaces the stored one; `latencyMicroseconds`
    /// is a measurement to show beside the estimates. Errors name `source`.
    public init(analyzing archive: LowBitArchive, source: String, energyTable: EnergyTable = .default45nm,
                evaluatedAccuracy: Double? = nil, latencyMicroseconds: Double? = nil) throws {
        guard let spec = archive.spec else {
            throw LowBitError.corruptFile(path: source, reason: "the file holds no model architecture (spec) to report on")
        }
        do {
            let policy = try archive.metadata["policy"].map { try $0.decode(PrecisionPolicy.self, what: "policy") } ?? .float
            var walker = ReportWalker(analyzer: LayerAnalyzer(policy: policy, tensors: archive.tensors,
                                                              energy: EnergyModel(table: energyTable)))
            _ = try walker.walk(spec.layers, input: spec.inputShape, depth: 0)
            let stored = archive.metadata["metrics"]?["accuracy"]?.double
            self.init(source: source, architecture: spec.name, inputShape: spec.inputShape, policyName: policy.name,
                      dataset: archive.metadata["dataset"]?.string, accuracy: evaluatedAccuracy ?? stored,
                      accuracySource: evaluatedAccuracy != nil ? .evaluation : (stored != nil ? .metadata : nil),
                      layers: walker.rows, latencyMicroseconds: latencyMicroseconds, energyTable: energyTable)
        } catch let error as LowBitError {
            throw LowBitError.corruptFile(path: source, reason: error.description)
        }
    }

    /// Sums over every row (a residual row holds only its own sum, so nothing is counted twice),
    /// with the model's measured latency.
    public var total: Costs {
        var total = layers.map(\.costs).reduce(.zero, +)
        total.latencyMicroseconds = latencyMicroseconds
        return total
    }
}

/// Walks a layer list in order, threading the per-sample shape and collecting rows.
private struct ReportWalker {
    let analyzer: LayerAnalyzer
    var rows: [LayerReport] = []

    /// Appends the rows of `layers` and returns their output shape.
    mutating func walk(_ layers: [LayerSpec], input: [Int], depth: Int) throws -> [Int] {
        var shape = input
        for layer in layers {
            guard layer.kind == .residual else {
                let output = try LayerShapes.outputShape(of: layer, input: shape)
                rows.append(try analyzer.report(for: layer, depth: depth, input: shape, output: output))
                shape = output
                continue
            }
            // The residual's row goes before its children's; its output shape is known after them.
            let index = rows.count
            let body = try walk(layer.body ?? [], input: shape, depth: depth + 1)
            let shortcut = try walk(layer.shortcut ?? [], input: shape, depth: depth + 1)
            guard body == shortcut else {
                throw LowBitError.shapeMismatch("\(layer.name): body gives \(body) but shortcut gives \(shortcut)")
            }
            rows.insert(try analyzer.report(for: layer, depth: depth, input: shape, output: body), at: index)
            shape = body
        }
        return shape
    }
}
