import LowBitTensor

/// PACT (Choi et al. 2018): activations clipped at a learned alpha, then quantized to k bits.
///
/// Forward, with alpha the value of the ``alpha`` parameter: the levels of ``ActivationQuantizer``
/// with c = alpha; unsigned y = round(clamp(x, 0, alpha) / s) * s, s = alpha / (2^k - 1).
///
/// Backward (rounding straight through):
/// - unsigned: dL/dx = dL/dy for 0 <= x < alpha, 0 elsewhere;
///   dL/dalpha += sum of dL/dy over x >= alpha (there y = alpha);
/// - signed (range [-alpha, alpha]): dL/dx = dL/dy for -alpha < x < alpha;
///   dL/dalpha += sum of dL/dy over x >= alpha minus the sum over x <= -alpha (y = -alpha there).
/// The boundary x = alpha counts for alpha, not for x: the two derivatives of clamp(x, 0, alpha)
/// split the unit between them. alpha is not weight-decayed (`decays: false`) and is kept >= 0 by
/// its `clip`; the paper initializes it at 10, and so do we by default.
///
/// ```swift
/// let q = try PACTQuantizer(bits: 4, initialAlpha: 6)
/// let x = Tensor(shape: [3], data: [-1, 2, 7])
/// let y = try q.quantize(x)                        // [0, 2, 6]
/// let dx = q.backward(input: x, gradOutput: Tensor(shape: [3], data: [1, 1, 1]))
/// // dx == [0, 1, 0], q.alpha.grad == [1]; q.parameters go to the optimizer with the layer's
/// ```
public final class PACTQuantizer: Quantizer {
    public let bits: Int
    public let signed: Bool
    public let alpha: Parameter

    public init(bits: Int, signed: Bool = false, initialAlpha: Float = 10, name: String = "pact.alpha") throws {
        try requireBits(bits, in: 1...16, scheme: "PACT")
        guard initialAlpha.isFinite && initialAlpha > 0 else {
            throw LowBitError.invalidArgument("PACT alpha must be finite and > 0, got \(initialAlpha)")
        }
        self.bits = bits
        self.signed = signed
        self.alpha = Parameter(name: name, value: Tensor(shape: [1], data: [initialAlpha]), decays: false,
                               clip: 0...Float.greatestFiniteMagnitude)
    }

    private var alphaValue: Float { alpha.value.data[0] }

    public var parameters: [Parameter] { [alpha] }

    public var spec: QuantizerSpec {
        QuantizerSpec(scheme: "activation", bits: bits, rangeMin: signed ? -alphaValue : 0, rangeMax: alphaValue,
                      calibration: "pact", signed: signed)
    }

    public var bitWidth: Int { bits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("PACT quantizer input")
        return ActivationLevels(bits: bits, signed: signed, clip: alphaValue).quantize(x)
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        let a = alphaValue
        let lower: Float = signed ? -a : 0
        var alphaGradient: Float = 0
        for (value, gradient) in zip(x.data, gradOutput.data) {
            if value >= a {
                alphaGradient += gradient
            } else if signed && value <= lower {
                alphaGradient -= gradient
            }
        }
        alpha.grad.data[0] += alphaGradient
        return maskedGradient(gradOutput, shape: x.shape) { i in
            let value = x.data[i]
            return value < a && (signed ? value > lower : value >= 0)
        }
    }
}
