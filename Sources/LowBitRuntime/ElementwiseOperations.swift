import CLowBitKernels

/// Per-element and per-channel float steps: ReLU, hard tanh, an unfolded BatchNorm.
struct ElementwiseOperation: PackedOperation {
    enum Function: Sendable {
        case relu
        case hardTanh
        /// `y = x * scale[c] + shift[c]` over the last axis (a BatchNorm that had nothing to fold into).
        case affine(scale: [Float], shift: [Float])
    }

    let name: String
    let function: Function

    var kind: String {
        switch function {
        case .relu: "relu"
        case .hardTanh: "hardTanh"
        case .affine: "affine"
        }
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        var x = value.floats
        switch function {
        case .relu:
            let input = x
            lb_relu_forward(input, &x, x.count)
        case .hardTanh:
            let input = x
            lb_hardtanh_forward(input, &x, x.count)
        case let .affine(scale, shift):
            let channels = scale.count
            for i in x.indices { x[i] = x[i] * scale[i % channels] + shift[i % channels] }
        }
        return .float(x)
    }
}
