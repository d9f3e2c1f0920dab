/// Bit-level conversions between `Float` and the 16-bit float formats (IEEE binary16 and bfloat16).
///
/// Written out instead of using Swift's `Float16` because that type is unavailable on Intel Macs,
/// and the file formats must read the same bytes on every platform. Tests compare these functions
/// with `Float16` where it exists, over every half bit pattern.
///
/// ```swift
/// HalfPrecision.float(fromHalfBits: 0x3C00)   // 1.0
/// HalfPrecision.halfBits(from: 1.0)           // 0x3C00
/// HalfPrecision.float(fromBFloat16Bits: 0xC020) // -2.5
/// ```
public enum HalfPrecision {
    /// The largest finite binary16 value, 65504.
    public static let largestFiniteHalf: Float = 65504

    /// The value of the binary16 number with bit pattern `bits` (exact: every half is a float).
    public static func float(fromHalfBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity or NaN; the payload moves to the top of the float mantissa.
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            // Rebias the exponent: 127 - 15 = 112.
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// The binary16 bit pattern nearest to `value` (round to nearest, ties to even). Values beyond
    /// ±65520 become infinity; NaN stays NaN.
    public static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            // Keep a NaN a NaN even when its payload lives only in the low 13 bits.
            let payload = UInt16(mantissa >> 13)
            return sign | 0x7C00 | (mantissa == 0 ? 0 : (payload == 0 ? 0x200 : payload))
        }
        let halfExponent = exponent - 112
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent >= 1 {
            // Normal half: drop 13 mantissa bits with rounding; a carry correctly bumps the
            // exponent, up to infinity for values in [65520, 65536).
            let truncated = UInt32(halfExponent << 10) | (mantissa >> 13)
            return sign | UInt16(roundShifted(truncated, dropped: mantissa & 0x1FFF, shift: 13))
        }
        // Subnormal half (or zero): the value is significand * 2^(exponent - 150), and a half
        // subnormal is h * 2^-24, so h = significand >> (126 - exponent), rounded. A result of
        // 1024 is the smallest normal half, which the bit layout encodes correctly by itself.
        // Below 2^-25 (shift > 24) everything rounds to zero, float subnormals included.
        let shift = 126 - exponent
        if shift > 24 { return sign }
        let significand = UInt64(mantissa | 0x80_0000)
        let truncated = UInt32(significand >> UInt64(shift))
        let dropped = UInt32(significand & ((1 << UInt64(shift)) - 1))
        return sign | UInt16(roundShifted(truncated, dropped: dropped, shift: shift))
    }

    /// Rounds `truncated` (a value whose low `shift` bits `dropped` were shifted out) to nearest,
    /// ties to even.
    private static func roundShifted(_ truncated: UInt32, dropped: UInt32, shift: Int) -> UInt32 {
        let half = UInt32(1) << UInt32(shift - 1)
        if dropped > half || (dropped == half && truncated & 1 == 1) { return truncated + 1 }
        return truncated
    }

    /// The value of the bfloat16 number with bit pattern `bits`: the top half of a float.
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
