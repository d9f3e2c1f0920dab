/// What one layer does for one sample, counted so that ``EnergyModel`` can price it.
///
/// - `multiplyAccumulates`: dense `in * out`; convolution `outH * outW * out * k * k * in`.
/// - Other operations, all float32 because LowBit passes float32 values between layers (quantizers
///   sit at the inputs of weight layers): bias adds (one per output), scale multiplies (one per
///   output per scale block: FGQ's "one multiply per group"), folded BatchNorm (a multiply and an
///   add per element), ReLU (one compare per element, priced as an add), hard tanh (two compares),
///   max pooling (`window^2 - 1` compares per output), average pooling (`window^2 - 1` adds and a
///   multiply per output), global average pooling (`H * W - 1` adds and a multiply per channel),
///   the residual sum (one add per element). Flatten and dropout are free at inference.
/// - `activationBitsRead`: the layer reads its input once (ideal reuse): elements times the input
///   bits; a residual sum reads both branches' float32 outputs.
///
/// ```swift
/// let counts = OperationCounts(multiplyAccumulates: 12, otherAdditions: 3)   // dense 4 -> 3 with bias
/// ```
public struct OperationCounts: Sendable, Equatable {
    public var multiplyAccumulates: Int
    public var otherAdditions: Int
    public var otherMultiplications: Int
    public var activationBitsRead: Int

    public init(multiplyAccumulates: Int = 0, otherAdditions: Int = 0, otherMultiplications: Int = 0,
                activationBitsRead: Int = 0) {
        self.multiplyAccumulates = multiplyAccumulates
        self.otherAdditions = otherAdditions
        self.otherMultiplications = otherMultiplications
        self.activationBitsRead = activationBitsRead
    }

    /// Additions plus multiplications outside the multiply-accumulates (reports' "other ops").
    public var otherOperations: Int { otherAdditions + otherMultiplications }

    public static func + (a: OperationCounts, b: OperationCounts) -> OperationCounts {
        OperationCounts(multiplyAccumulates: a.multiplyAccumulates + b.multiplyAccumulates,
                        otherAdditions: a.otherAdditions + b.otherAdditions,
                        otherMultiplications: a.otherMultiplications + b.otherMultiplications,
                        activationBitsRead: a.activationBitsRead + b.activationBitsRead)
    }
}
