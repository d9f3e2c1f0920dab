import CLowBitRuntimeKernels
import Foundation
import LowBitTensor

/// A positive real multiplier as an int32 fixed-point value and a shift:
/// `M = multiplier * 2^-31 * 2^-shift` with `multiplier` in `[2^30, 2^31)` and `shift` in
/// `-31...31` (negative shifts left, for M >= 1).
///
/// ``apply(_:)`` multiplies an int32 by M with gemmlowp's rounding, as TFLite does:
/// SaturatingRoundingDoublingHighMul (round to nearest, ties toward +infinity) followed by
/// RoundingDivideByPOT (ties away from zero); a left shift saturates first. See requantize.c for
/// the derivation and docs/RUNTIME.md for the rounding names.
///
/// ```swift
/// let m = try FixedPointMultiplier(real: 0.0123)
/// m.multiplier   // 1690499128 (0.7872 * 2^31)
/// m.shift        // 6
/// m.apply(1000)  // 12 (1000 * 0.0123 = 12.3)
/// ```
public struct FixedPointMultiplier: Sendable, Equatable {
    /// M0 in [2^30, 2^31).
    public let multiplier: Int32
    /// Right shift (negative: left shift).
    public let shift: Int32

    /// The smallest and largest real multipliers representable.
    public static let representableRange: ClosedRange<Double> = 0x1p-32...(Double(Int32.max) * 0x1p-31 * 0x1p31)

    public init(multiplier: Int32, shift: Int32) throws {
        guard multiplier >= 1 << 30, (-31...31).contains(shift) else {
            throw LowBitError.invalidArgument("fixed-point multiplier \(multiplier) must be in [2^30, 2^31) and shift \(shift) in -31...31")
        }
        self.multiplier = multiplier
        self.shift = shift
    }

    /// The nearest representation of `real` (M0 rounded half away from zero, as TFLite's
    /// QuantizeMultiplier); throws outside ``representableRange``.
    public init(real: Double) throws {
        guard real.isFinite, real >= Self.representableRange.lowerBound, real < Self.representableRange.upperBound else {
            throw LowBitError.invalidArgument("real multiplier \(real) is outside \(Self.representableRange); check the input, weight and output scales")
        }
        // real = fraction * 2^exponent with fraction in [0.5, 1).
        var exponent = real.exponent + 1
        var fixed = (real.significand / 2 * 0x1p31).rounded(.toNearestOrAwayFromZero)
        if fixed == 0x1p31 {
            fixed = 0x1p30
            exponent += 1
        }
        try self.init(multiplier: Int32(fixed), shift: Int32(-exponent))
    }

    /// The real value represented.
    public var realValue: Double { Double(multiplier) * 0x1p-31 * pow(2, Double(-shift)) }

    /// `x * M`, rounded as gemmlowp does.
    public func apply(_ x: Int32) -> Int32 { lbr_requantize_one(x, multiplier, shift) }
}
