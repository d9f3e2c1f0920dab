import CLowBitKernels
import CLowBitRuntimeKernels

/// An activation applied inside the step before it: after a residual block's sum
/// (``BinaryConv2D/forwardResidual(_:batch:adding:activation:signs:path:)``) or after a float
/// convolution (``FloatConv2D/forward(_:batch:activation:path:)``). ReLU is `y > 0 ? y : 0` and hard
/// tanh `y < -1 ? -1 : y` then `y > 1 ? 1 : y`, as the separate steps (NaN: ReLU gives 0, hard tanh keeps it).
public enum FusedActivation: Sendable, Equatable {
    case none, relu, hardTanh

    var kernelValue: lbr_activation {
        switch self {
        case .none: LBR_ACT_NONE
        case .relu: LBR_ACT_RELU
        case .hardTanh: LBR_ACT_HARDTANH
        }
    }

    /// Applies the activation to `values` in place, with the float steps' kernels.
    func apply(_ values: inout [Float]) {
        switch self {
        case .none: break
        case .relu: values.withUnsafeMutableBufferPointer { lb_relu_forward($0.baseAddress, $0.baseAddress, $0.count) }
        case .hardTanh: values.withUnsafeMutableBufferPointer { lb_hardtanh_forward($0.baseAddress, $0.baseAddress, $0.count) }
        }
    }
}

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
        case .relu: FusedActivation.relu.apply(&x)   // in place, no copy of the input
        case .hardTanh: FusedActivation.hardTanh.apply(&x)
        case let .affine(scale, shift):
            x = perChannel(x, scale: scale, shift: shift)
        }
        return .float(x)
    }
}

/// `x[r][c] * scale[c] + shift[c]` over rows of `scale.count` channels: an unfolded BatchNorm (int8
/// accumulators dequantize through `lbr_output_float` instead).
func perChannel(_ x: [Float], scale: [Float], shift: [Float]) -> [Float] {
    let channels = scale.count
    var out = x
    out.withUnsafeMutableBufferPointer { y in
        for start in stride(from: 0, to: y.count, by: channels) {
            for c in 0..<channels { y[start + c] = y[start + c] * scale[c] + shift[c] }
        }
    }
    return out
}
