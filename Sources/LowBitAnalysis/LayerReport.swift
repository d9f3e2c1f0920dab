import LowBitIO

/// One layer's sizes and costs for one sample: a row of `lowbit report`.
///
/// Residual layers get a row of their own (the sum of the two branches) followed by the rows of
/// their body and shortcut layers (`depth` one deeper); a model's total adds every row once.
///
/// ```swift
/// let report = try ModelReport(analyzing: archive, source: "mlp.lowbit")
/// for layer in report.layers where layer.bitOperations > 0 {
///     print(layer.name, layer.weightPrecision?.label ?? "-", layer.packedBytes, layer.bitOperations)
/// }
/// ```
@dynamicMemberLookup
public struct LayerReport: Sendable, Equatable {
    /// The dotted path (`stage1.block0.conv1`) that precision policies match.
    public var name: String
    public var kind: LayerSpec.Kind
    /// How many residual layers enclose this one.
    public var depth: Int
    /// Per-sample shapes, batch axis left out.
    public var inputShape: [Int]
    public var outputShape: [Int]
    /// Precision of the stored parameters: the policy's weight quantizer for dense and conv2d,
    /// float32 for BatchNorm's folded scale and shift, nil for layers without parameters.
    public var weightPrecision: Precision?
    /// Precision of the values the layer reads: the policy's input quantizer for dense and
    /// conv2d; float32 for the others, which receive the float32 outputs of the layer before.
    public var inputPrecision: Precision
    /// `1 - nonzero / count` of the weight tensor alone (biases are never pruned); nil without one.
    public var prunedFraction: Double?
    /// Parameters, bytes, operations, BOPs, energy; read them directly (`layer.packedBytes`).
    public var costs: Costs

    public init(name: String, kind: LayerSpec.Kind, depth: Int, inputShape: [Int], outputShape: [Int],
                weightPrecision: Precision?, inputPrecision: Precision, prunedFraction: Double?, costs: Costs) {
        self.name = name
        self.kind = kind
        self.depth = depth
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.weightPrecision = weightPrecision
        self.inputPrecision = inputPrecision
        self.prunedFraction = prunedFraction
        self.costs = costs
    }

    public subscript<Value>(dynamicMember path: KeyPath<Costs, Value>) -> Value {
        costs[keyPath: path]
    }
}
