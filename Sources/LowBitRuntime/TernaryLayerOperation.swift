import LowBitTensor

/// A ternary dense or convolution step with FGQ group scales (groups along a row of the weights,
/// the `k * k * C` patch of a convolution): `y_j = sum_g alpha[j][g] * S_in * sum_{k in g} t[j][k] * q[k] + b_j`,
/// `t` in {-1, 0, +1} loaded from the two stored bit-planes, `q` the 8-bit input codes (zero point 0)
/// — taken as they come when the int8 step before requantized them to this step's scale, quantized
/// from floats otherwise. Group sums are exact integers (``TernaryGEMM``); the output is float.
struct TernaryLayerOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let inputScale: Float
    /// The largest input code (255 or 127 at 8 bits; `PackedStep.inputCodeMax`).
    let inputCodeMax: Int32
    let patches: IntegerPatches
    let gemm: TernaryGEMM
    let bias: [Float]

    var kind: String {
        if case .dense = patches { return "ternaryDense" }
        return "ternaryConv2d"
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let rows = patches.rowCount(batch: batch)
        if input == .uint8, case let .convolution(shape) = patches {   // patches read in place, no im2col copy
            return .float(try gemm.multiplyPatches(uint8: value.uint8Codes(scale: inputScale, max: inputCodeMax), shape: shape, batch: batch,
                                                   inputScale: inputScale, bias: bias))
        }
        if input == .uint8 {
            return .float(try gemm.multiply(uint8: patches.expand(value.uint8Codes(scale: inputScale, max: inputCodeMax), batch: batch), rows: rows,
                                            inputScale: inputScale, inputZeroPoint: 0, bias: bias))
        }
        return .float(try gemm.multiply(int8: patches.expand(value.int8Codes(scale: inputScale, max: inputCodeMax), batch: batch), rows: rows,
                                        inputScale: inputScale, inputZeroPoint: 0, bias: bias))
    }
}
