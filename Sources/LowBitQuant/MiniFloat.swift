import LowBitTensor

/// An 8-bit floating point format: 1 sign bit, `exponentBits`, `mantissaBits`, exponent `bias`,
/// subnormals when the exponent field is 0.
///
/// - E4M3 (OCP FP8): bias 7, no infinities, the only NaN codes are S.1111.111, so the largest
///   finite value is S.1111.110 = 1.75 * 2^8 = 448; the smallest subnormal 2^-9 = 0.001953125.
/// - E5M2 (OCP FP8): bias 15, IEEE-like: exponent field 11111 holds +-inf (mantissa 0) and NaN;
///   largest finite 1.75 * 2^15 = 57344; smallest subnormal 2^-16.
///
/// ``rounded(_:)`` rounds to nearest, ties to even, and saturates finite overflow to
/// +-``maxFinite`` (for both formats: a quantizer should not turn a large weight into inf/NaN).
///
/// ```swift
/// MiniFloatFormat.e4m3.rounded(250)      // 256: 250 lies between 240 and 256, nearer 256
/// MiniFloatFormat.e4m3.encode(448)       // 0x7E
/// MiniFloatFormat.e5m2.decode(0x7C)      // +inf
/// ```
public struct MiniFloatFormat: Sendable, Equatable {
    public let name: String
    public let exponentBits: Int
    public let mantissaBits: Int
    public let bias: Int
    /// IEEE-like top exponent field (inf and NaN); false for E4M3, whose top field holds numbers.
    public let hasInfinity: Bool

    public static let e4m3 = MiniFloatFormat(name: "fp8-e4m3", exponentBits: 4, mantissaBits: 3, bias: 7, hasInfinity: false)
    public static let e5m2 = MiniFloatFormat(name: "fp8-e5m2", exponentBits: 5, mantissaBits: 2, bias: 15, hasInfinity: true)

    private var topField: Int { (1 << exponentBits) - 1 }
    private var mantissaMask: Int { (1 << mantissaBits) - 1 }

    /// Largest finite magnitude: with infinities, field top-1 and all-ones mantissa; without, the
    /// top field with all-ones-minus-one mantissa (all ones is NaN).
    public var maxFinite: Float {
        let field = hasInfinity ? topField - 1 : topField
        let mantissa = hasInfinity ? mantissaMask : mantissaMask - 1
        return value(field: field, mantissa: mantissa)
    }

    /// 2^(1 - bias).
    public var minNormal: Float { Float(sign: .plus, exponent: 1 - bias, significand: 1) }

    /// 2^(1 - bias - mantissaBits), the spacing of the subnormals.
    public var minSubnormal: Float { Float(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1) }

    /// Nearest representable value, ties to even, saturating at +-maxFinite. Exact in float32:
    /// the quantum q is the value spacing at |x| (2^(exponent - mantissaBits), never below the
    /// subnormal spacing), and |x| / q, its rounding and the product by q are all exact.
    public func rounded(_ x: Float) -> Float {
        precondition(x.isFinite, "MiniFloatFormat.rounded needs a finite value")
        let magnitude = abs(x)
        guard magnitude > 0 else { return x }
        let exponent = max(Int(magnitude.exponent), 1 - bias)
        let quantum = Float(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
        let result = min((magnitude / quantum).rounded(.toNearestOrEven) * quantum, maxFinite)
        return x < 0 ? -result : result
    }

    /// The 8-bit code of `x` after ``rounded(_:)``. NaN encodes as S.1111.111 (0x7F); +-inf
    /// encodes as inf in E5M2 and saturates to +-maxFinite in E4M3.
    public func encode(_ x: Float) -> UInt8 {
        let signBit: UInt8 = x.sign == .minus ? 0x80 : 0
        if x.isNaN { return 0x7F }
        if x.isInfinite && hasInfinity { return signBit | UInt8(topField << mantissaBits) }
        let magnitude = x.isInfinite ? maxFinite : abs(rounded(x))
        if magnitude < minNormal {
            return signBit | UInt8(Int(magnitude / minSubnormal))
        }
        let field = Int(magnitude.exponent) + bias
        let mantissa = Int((magnitude.significand - 1) * Float(1 << mantissaBits))
        return signBit | UInt8(field << mantissaBits | mantissa)
    }

    /// The value of an 8-bit code (NaN codes give `.nan`).
    public func decode(_ code: UInt8) -> Float {
        let field = Int(code >> mantissaBits) & topField
        let mantissa = Int(code) & mantissaMask
        let isNegative = code & 0x80 != 0
        if field == topField && (hasInfinity || mantissa == mantissaMask) {
            if hasInfinity && mantissa == 0 { return isNegative ? -.infinity : .infinity }
            return .nan
        }
        let magnitude = value(field: field, mantissa: mantissa)
        return isNegative ? -magnitude : magnitude
    }

    /// Subnormal (field 0): mantissa * 2^(1 - bias - M); normal: (1 + mantissa / 2^M) * 2^(field - bias).
    private func value(field: Int, mantissa: Int) -> Float {
        if field == 0 { return Float(mantissa) * minSubnormal }
        return Float(sign: .plus, exponent: field - bias,
                     significand: 1 + Float(mantissa) / Float(1 << mantissaBits))
    }
}

/// Low-bit float fake quantization: y = format.rounded(w) (nearest, ties to even, saturating).
///
/// Straight-through gradient: dL/dw = dL/dy where |w| <= maxFinite, 0 where it saturated.
/// Idempotent: representable values round to themselves.
///
/// ```swift
/// let q = MiniFloatQuantizer(format: .e4m3)
/// let y = try q.quantize(Tensor(shape: [3], data: [0.3, 500, -0.0009765625]))
/// // [0.3125, 448, -0.0]: -2^-10 is a tie between -0 and -2^-9 and goes to the even code, -0
/// ```
public final class MiniFloatQuantizer: Quantizer {
    public let format: MiniFloatFormat

    public init(format: MiniFloatFormat) {
        self.format = format
    }

    public var spec: QuantizerSpec { QuantizerSpec(scheme: format.name) }

    public var bitWidth: Int { 1 + format.exponentBits + format.mantissaBits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("\(format.name) quantizer input")
        return Tensor(shape: x.shape, data: x.data.map(format.rounded))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        maskedGradient(gradOutput, shape: x.shape) { abs(x.data[$0]) <= format.maxFinite }
    }
}
