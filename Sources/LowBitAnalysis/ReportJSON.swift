import Foundation

/// The JSON form of reports, the one scripts read (schema: docs/REPORTS.md).
///
/// One model gives one object `{"model", ..., "layers": [...], "total": {...}}`; several give
/// `{"report_version": 1, "models": [<one such object per model>]}`, so every element of `models` is
/// itself a valid single-model report. Keys that scripts rely on — `layers[].name, kind,
/// weight_bits, act_bits, params, nonzero, bytes, macs, bops, energy_pj, latency_us` and `total` —
/// keep their names; new keys may be added. Unknown values are `null`, never left out.
///
/// ```swift
/// let text = try ReportJSON.render([report])        // {"accuracy":0.98,"act_bits"...
/// ```
public enum ReportJSON {
    /// The version of the schema; bumped only when a key is renamed or its meaning changes.
    public static let version = 1

    /// Pretty-printed JSON with sorted keys (stable for diffs and golden files).
    public static func render(_ reports: [ModelReport]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = reports.count == 1
            ? try encoder.encode(ModelJSON(reports[0]))
            : try encoder.encode(ReportSetJSON(reportVersion: version, models: reports.map(ModelJSON.init)))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

private struct ReportSetJSON: Encodable {
    var reportVersion: Int
    var models: [ModelJSON]

    enum CodingKeys: String, CodingKey {
        case reportVersion = "report_version", models
    }
}

private struct ModelJSON: Encodable {
    let report: ModelReport

    init(_ report: ModelReport) { self.report = report }

    enum CodingKeys: String, CodingKey {
        case reportVersion = "report_version", model, network, inputShape = "input_shape", policy, dataset, accuracy
        case accuracySource = "accuracy_source", energyNote = "energy_note", energyTable = "energy_table", layers, total
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ReportJSON.version, forKey: .reportVersion)
        try container.encode(report.source, forKey: .model)
        try container.encode(report.architecture, forKey: .network)
        try container.encode(report.inputShape, forKey: .inputShape)
        try container.encode(report.policyName, forKey: .policy)
        try container.encode(report.dataset, forKey: .dataset)
        try container.encode(report.accuracy, forKey: .accuracy)
        try container.encode(report.accuracySource?.rawValue, forKey: .accuracySource)
        try container.encode("energy_pj values are estimates: operation counts x energy_table (docs/REPORTS.md)",
                             forKey: .energyNote)
        // The table in its file format, so a report can be re-estimated with `--energy-table`.
        var table = container.nestedContainer(keyedBy: DynamicKey.self, forKey: .energyTable)
        try table.encode(report.energyTable.description, forKey: DynamicKey("description"))
        for (name, path) in EnergyTable.keys { try table.encode(report.energyTable[keyPath: path], forKey: DynamicKey(name)) }
        try container.encode(report.layers.map(LayerJSON.init), forKey: .layers)
        try container.encode(TotalJSON(report.total), forKey: .total)
    }
}

/// The keys of a layer row; a total uses the cost keys alone.
private enum RowKey: String, CodingKey {
    case params, nonzero, bytes, float32Bytes = "float32_bytes", compression, macs, otherOps = "other_ops", bops
    case energyPicojoules = "energy_pj", computePicojoules = "energy_compute_pj", memoryPicojoules = "energy_memory_pj"
    case latency = "latency_us"
    case name, kind, depth, inputShape = "input_shape", outputShape = "output_shape", weightBits = "weight_bits"
    case activationBits = "act_bits", weightPrecision = "weight_precision", activationPrecision = "act_precision"
    case prunedFraction = "pruned_fraction"
}

private struct LayerJSON: Encodable {
    let layer: LayerReport

    init(_ layer: LayerReport) { self.layer = layer }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: RowKey.self)
        try container.encode(layer.name, forKey: .name)
        try container.encode(layer.kind.rawValue, forKey: .kind)
        try container.encode(layer.depth, forKey: .depth)
        try container.encode(layer.inputShape, forKey: .inputShape)
        try container.encode(layer.outputShape, forKey: .outputShape)
        try container.encode(layer.weightPrecision?.bits, forKey: .weightBits)
        try container.encode(layer.inputPrecision.bits, forKey: .activationBits)
        try container.encode(layer.weightPrecision?.label, forKey: .weightPrecision)
        try container.encode(layer.inputPrecision.label, forKey: .activationPrecision)
        try container.encode(layer.prunedFraction, forKey: .prunedFraction)
        try encodeCosts(layer.costs, into: &container)
    }
}

private struct TotalJSON: Encodable {
    let total: Costs

    init(_ total: Costs) { self.total = total }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: RowKey.self)
        try encodeCosts(total, into: &container)
    }
}

private func encodeCosts(_ costs: Costs, into container: inout KeyedEncodingContainer<RowKey>) throws {
    try container.encode(costs.parameterCount, forKey: .params)
    try container.encode(costs.nonzeroCount, forKey: .nonzero)
    try container.encode(costs.packedBytes, forKey: .bytes)
    try container.encode(costs.float32Bytes, forKey: .float32Bytes)
    try container.encode(costs.compression, forKey: .compression)
    try container.encode(costs.operations.multiplyAccumulates, forKey: .macs)
    try container.encode(costs.operations.otherOperations, forKey: .otherOps)
    try container.encode(costs.bitOperations, forKey: .bops)
    try container.encode(costs.energy.totalPicojoules, forKey: .energyPicojoules)
    try container.encode(costs.energy.computePicojoules, forKey: .computePicojoules)
    try container.encode(costs.energy.memoryPicojoules, forKey: .memoryPicojoules)
    try container.encode(costs.latencyMicroseconds, forKey: .latency)
}

private struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
