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
    /// Weights, biases, BatchNorm gamma and beta (running statistics fold into them).
    public var parameterCount: Int
    /// Parameters that are not exactly zero in the stored float tensors.
    public var nonzeroCount: Int
    /// `1 - nonzero / count` of the weight tensor alone (biases are never pruned); nil without one.
    public var prunedFraction: Double?
    /// Bytes as packed for deployment (``PackedSize``).
    public var packedBytes: Int
    /// Bytes of the same parameters as float32.
    public var float32Bytes: Int
    public var operations: OperationCounts
    /// ``bitOperations(outputs:fanIn:prunedFraction:activationBits:weightBits:)``; 0 without weights.
    public var bitOperations: Double
    /// An estimate (``EnergyModel``).
    public var energy: EnergyEstimate
    /// Measured per-layer latency, when a profiler supplies one.
    public var latencyMicroseconds: Double?

    public init(name: String, kind: LayerSpec.Kind, depth: Int, inputShape: [Int], outputShape: [Int],
                weightPrecision: Precision?, inputPrecision: Precision, parameterCount: Int, nonzeroCount: Int,
                prunedFraction: Double?, packedBytes: Int, float32Bytes: Int, operations: OperationCounts,
                bitOperations: Double, energy: EnergyEstimate, latencyMicroseconds: Double? = nil) {
        self.name = name
        self.kind = kind
        self.depth = depth
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.weightPrecision = weightPrecision
        self.inputPrecision = inputPrecision
        self.parameterCount = parameterCount
        self.nonzeroCount = nonzeroCount
        self.prunedFraction = prunedFraction
        self.packedBytes = packedBytes
        self.float32Bytes = float32Bytes
        self.operations = operations
        self.bitOperations = bitOperations
        self.energy = energy
        self.latencyMicroseconds = latencyMicroseconds
    }

    /// float32 bytes / packed bytes; nil for a layer that stores nothing.
    public var compression: Double? {
        packedBytes > 0 ? Double(float32Bytes) / Double(packedBytes) : nil
    }
}
