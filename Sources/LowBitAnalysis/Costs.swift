/// What a layer, or a whole model, costs for one sample: the numbers every report row and every
/// total carries. A model's total is the sum of its rows (``+``), with the model's latency.
///
/// ```swift
/// let total = report.layers.map(\.costs).reduce(.zero, +)
/// print(total.parameterCount, total.packedBytes, total.compression ?? 1, total.energy.totalPicojoules)
/// ```
public struct Costs: Sendable, Equatable {
    /// Weights, biases, BatchNorm gamma and beta (running statistics fold into them).
    public var parameterCount: Int
    /// Parameters that are not exactly zero in the stored float tensors.
    public var nonzeroCount: Int
    /// Bytes as packed for deployment (``PackedSize``).
    public var packedBytes: Int
    /// Bytes of the same parameters as float32.
    public var float32Bytes: Int
    public var operations: OperationCounts
    /// ``bitOperations(outputs:fanIn:prunedFraction:activationBits:weightBits:)``; 0 without weights.
    public var bitOperations: Double
    /// An estimate (``EnergyModel``).
    public var energy: EnergyEstimate
    /// Measured latency, when a benchmark or profiler supplies one.
    public var latencyMicroseconds: Double?

    public init(parameterCount: Int = 0, nonzeroCount: Int = 0, packedBytes: Int = 0, float32Bytes: Int = 0,
                operations: OperationCounts = OperationCounts(), bitOperations: Double = 0, energy: EnergyEstimate = .zero,
                latencyMicroseconds: Double? = nil) {
        self.parameterCount = parameterCount
        self.nonzeroCount = nonzeroCount
        self.packedBytes = packedBytes
        self.float32Bytes = float32Bytes
        self.operations = operations
        self.bitOperations = bitOperations
        self.energy = energy
        self.latencyMicroseconds = latencyMicroseconds
    }

    public static let zero = Costs()

    /// float32 bytes / packed bytes; nil for something that stores nothing.
    public var compression: Double? {
        packedBytes > 0 ? Double(float32Bytes) / Double(packedBytes) : nil
    }

    /// Sums every count; latencies add when both are known (one unknown part makes the sum unknown).
    public static func + (a: Costs, b: Costs) -> Costs {
        Costs(parameterCount: a.parameterCount + b.parameterCount, nonzeroCount: a.nonzeroCount + b.nonzeroCount,
              packedBytes: a.packedBytes + b.packedBytes, float32Bytes: a.float32Bytes + b.float32Bytes,
              operations: a.operations + b.operations, bitOperations: a.bitOperations + b.bitOperations,
              energy: a.energy + b.energy,
              latencyMicroseconds: a.latencyMicroseconds.flatMap { x in b.latencyMicroseconds.map { x + $0 } })
    }
}
