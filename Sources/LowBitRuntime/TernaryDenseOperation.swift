import LowBitTensor

/// A ternary dense step with FGQ group scales: `y_j = sum_g alpha[j][g] * S_in * sum_{k in g} t[j][k] * q[k] + b_j`,
/// `t` in {-1, 0, +1} loaded from the two stored bit-planes, `q` the 8-bit input codes (zero point 0)
/// — taken as they come when the int8 step before requantized them to this step's scale, quantized
/// from floats otherwise. Group sums are exact integers (``TernaryGEMM``); the output is float.
struct TernaryDenseOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let inputScale: Float
    let gemm: TernaryGEMM
    let bias: [Float]

    var kind: String { "ternaryDense" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        if input == .uint8 {
            return .float(try gemm.multiply(uint8: value.uint8Codes(scale: inputScale), rows: batch, inputScale: inputScale,
                                            inputZeroPoint: 0, bias: bias))
        }
        return .float(try gemm.multiply(int8: value.int8Codes(scale: inputScale), rows: batch, inputScale: inputScale,
                                        inputZeroPoint: 0, bias: bias))
    }
}
