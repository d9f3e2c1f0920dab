import LowBitTensor

/// A step that can take a residual block's sum into its output transform: a binary or int8
/// convolution with a float output.
protocol ResidualFusing: PackedOperation {
    var takesResidual: Bool { get }
    /// `activation(self(x) + addend)` and, with `signs`, the sign bits of the result.
    func runResidual(_ value: RuntimeValue, batch: Int, adding addend: [Float], activation: FusedActivation,
                     signs: Bool) throws -> (floats: [Float], bits: PackedBits?)
}

/// `activation(body(x) + shortcut(x))` in float; an empty shortcut is the identity, and the
/// activation (none, ReLU or hard tanh) is the step after the block when the compiler folded it in.
///
/// When the body ends in a binary or int8 convolution with a float output (``ResidualFusing``), the
/// sum, the activation and, with `emitsSigns`, the sign bits for the next binary layer are computed in
/// that convolution's output transform (`lbr_output_residual`): one pass over the block's output
/// instead of four (transform, add, activation, sign packing), with the same floats bit for bit.
struct ResidualOperation: PackedOperation {
    let name: String
    let body: [PackedOperation]
    let shortcut: [PackedOperation]
    var activation: FusedActivation = .none
    /// Also return the sign bits of the output (the next step reads signs).
    var emitsSigns = false
    /// Fuse into the body's last binary convolution when it can take the sum (false: run the steps one by one).
    var fuses = true

    var kind: String { "residual" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let skip = try runSequence(shortcut, value, batch: batch).floats
        if fuses, let last = body.last as? ResidualFusing, last.takesResidual {
            let inner = try runSequence(body.dropLast(), value, batch: batch)
            let (floats, bits) = try last.runResidual(inner, batch: batch, adding: skip, activation: activation, signs: emitsSigns)
            if let bits { return .floatWithSigns(floats, bits) }
            return .float(floats)
        }
        var sum = try runSequence(body, value, batch: batch).floats
        guard sum.count == skip.count else {
            throw LowBitError.shapeMismatch("\(name): body gives \(sum.count) values and shortcut \(skip.count)")
        }
        for i in sum.indices { sum[i] += skip[i] }
        activation.apply(&sum)
        return .float(sum)
    }
}

/// Runs `operations` in order.
func runSequence<Operations: Sequence>(_ operations: Operations, _ value: RuntimeValue, batch: Int) throws -> RuntimeValue
    where Operations.Element == PackedOperation {
    try operations.reduce(value) { try $1.run($0, batch: batch) }
}
