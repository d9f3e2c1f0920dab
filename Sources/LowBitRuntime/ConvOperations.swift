import LowBitTensor

/// A float NHWC convolution step (``FloatConv2D``), optionally reading the signs of its input, with the
/// ReLU or hard tanh step after it folded in when there is one.
struct FloatConvOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let conv: FloatConv2D
    var activation: FusedActivation = .none
    /// Also return the sign bits of the output (the next step reads signs first).
    var emitsSigns = false

    var kind: String { "conv2d" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let (floats, bits) = try conv.forward(value.floats(encoded: input), batch: batch, activation: activation, signs: emitsSigns)
        if let bits { return .floatWithSigns(floats, bits) }
        return .float(floats)
    }
}

/// A convolution step with ±1 weights: ``BinaryConv2D`` (bit im2col, binary GEMM, exact zero
/// padding, fused output transform) for sign inputs; float im2col + sgemm over the ±1 weights,
/// then `dot * multiplier + bias`, for float inputs (a binary first layer).
struct BinaryConvOperation: ResidualFusing {
    let name: String
    let input: PackedStep.InputEncoding
    let shape: Conv2DShape
    let output: BinaryOutputTransform
    private let engine: Engine

    private enum Engine: Sendable {
        case binary(BinaryConv2D)
        case float(FloatConv2D)
    }

    var kind: String { "binaryConv2d" }
    /// A ReLU or hard tanh after a float output that no sign reader takes, run in the output transform
    /// (`lbr_output_residual` without an addend); needs ``takesResidual``.
    var activation = FusedActivation.none

    /// `signs` are the ±1 OHWI weights as floats.
    init(name: String, input: PackedStep.InputEncoding, shape: Conv2DShape, signs: [Float], output: BinaryOutputTransform) throws {
        self.name = name
        self.input = input
        self.shape = shape
        self.output = output
        switch input {
        case .sign: engine = .binary(try BinaryConv2D(shape: shape, weights: signs, output: output))
        default: engine = .float(try FloatConv2D(shape: shape, weights: signs))
        }
    }

    /// Whether ``runResidual(_:batch:adding:activation:signs:)`` applies: sign inputs through the
    /// binary kernels and a float output transform.
    var takesResidual: Bool {
        if case let .binary(conv) = engine, case .float = conv.output { return true }
        return false
    }

    /// The convolution with a residual sum and activation fused into its output transform.
    func runResidual(_ value: RuntimeValue, batch: Int, adding addend: [Float], activation: FusedActivation,
                     signs: Bool) throws -> (floats: [Float], bits: PackedBits?) {
        guard case let .binary(conv) = engine else { preconditionFailure("runResidual needs sign inputs (takesResidual)") }
        let bits = value.signBits(rows: batch * shape.inputHeight * shape.inputWidth, columns: shape.inputChannels)
        return try conv.forwardResidual(bits, batch: batch, adding: addend, activation: activation, signs: signs)
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        switch engine {
        case let .binary(conv):
            let bits = value.signBits(rows: batch * shape.inputHeight * shape.inputWidth, columns: shape.inputChannels)
            if activation != .none {
                return .float(try conv.forwardResidual(bits, batch: batch, adding: nil, activation: activation, signs: false).floats)
            }
            return RuntimeValue(try conv.forward(bits, batch: batch))
        case let .float(conv):
            return .float(output.applyToFloatDots(try conv.forward(value.floats, batch: batch)))
        }
    }
}
