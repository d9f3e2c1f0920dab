import LowBitTensor

/// A float NHWC convolution step (im2col + sgemm), optionally reading the signs of its input.
struct FloatConvOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let conv: FloatConv2D

    var kind: String { "conv2d" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        .float(try conv.forward(value.floats(encoded: input), batch: batch))
    }
}

/// A convolution step with ±1 weights: ``BinaryConv2D`` (bit im2col, binary GEMM, exact zero
/// padding, fused output transform) for sign inputs; float im2col + sgemm over the ±1 weights,
/// then `dot * multiplier + bias`, for float inputs (a binary first layer).
struct BinaryConvOperation: PackedOperation {
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

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        switch engine {
        case let .binary(conv):
            let bits = value.signBits(rows: batch * shape.inputHeight * shape.inputWidth, columns: shape.inputChannels)
            return RuntimeValue(try conv.forward(bits, batch: batch))
        case let .float(conv):
            return .float(output.applyToFloatDots(try conv.forward(value.floats, batch: batch)))
        }
    }
}
