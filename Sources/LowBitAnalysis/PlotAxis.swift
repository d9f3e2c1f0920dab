import Foundation

/// One axis of a plot: the data range rounded out to "nice" values, the ticks, and the map from a
/// value to a fraction of the axis length (0 = start, 1 = end).
///
/// A positive range that spans a decade or more (max / min >= 10) gets a logarithmic axis with a
/// tick at every power of ten: costs of quantized models differ by factors, and on a linear axis
/// every low-bit model would sit on top of the others near zero.
///
/// ```swift
/// let axis = PlotAxis(values: [2_000, 60_000, 900_000])   // log, ticks 1k ... 1M
/// axis.isLogarithmic        // true
/// axis.position(of: 10_000) // 1/3
/// ```
public struct PlotAxis: Sendable, Equatable {
    public let lowerBound: Double
    public let upperBound: Double
    public let isLogarithmic: Bool
    public let ticks: [Double]

    /// An axis covering `values`; `includeZero` starts a linear axis at 0 (costs), otherwise the
    /// range is padded around the data (accuracies). A linear axis never leaves `limits`
    /// (accuracy stops at 100%).
    public init(values: [Double], includeZero: Bool = true, limits: ClosedRange<Double>? = nil) {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        if low > 0 && high / low >= 10 {
            let first = floor(log10(low)), last = ceil(log10(high))
            lowerBound = pow(10, first)
            upperBound = pow(10, last)
            isLogarithmic = true
            ticks = stride(from: first, through: last, by: 1).map { pow(10, $0) }
            return
        }
        var (start, end) = (includeZero ? min(low, 0) : low, high)
        if start == end {
            // One value (or none): show a window around it rather than a zero-width axis.
            let pad = start == 0 ? 1 : abs(start) * 0.1
            (start, end) = (includeZero && start >= 0 ? 0 : start - pad, end + pad)
        }
        let step = Self.niceStep((end - start) / 4)
        var (lower, upper) = (floor(start / step) * step, ceil(end / step) * step)
        if let limits {
            (lower, upper) = (max(lower, limits.lowerBound), min(upper, limits.upperBound))
        }
        (lowerBound, upperBound) = (lower, upper)
        isLogarithmic = false
        ticks = stride(from: lower, through: upper + step / 2, by: step).map { $0 }
    }

    /// Where `value` falls along the axis, 0...1 for values inside the range.
    public func position(of value: Double) -> Double {
        if isLogarithmic {
            return (log10(value) - log10(lowerBound)) / (log10(upperBound) - log10(lowerBound))
        }
        return (value - lowerBound) / (upperBound - lowerBound)
    }

    /// 1, 2 or 5 times a power of ten, the smallest not below `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, floor(log10(rough)))
        for multiple in [1.0, 2, 5, 10] where multiple * power >= rough * (1 - 1e-9) {
            return multiple * power
        }
        return 10 * power
    }

    /// A tick label without the zeros a three-digit format leaves: "1.00k" -> "1k", "2.50 nJ" -> "2.5 nJ".
    static func trimmedLabel(_ formatted: String) -> String {
        // A zero needs no unit (and "0 pJ" next to "5 µJ" reads as a different scale).
        if let number = Double(formatted.prefix { $0.isNumber || $0 == "." || $0 == "-" }), number == 0 { return "0" }
        var digits = Substring(formatted.prefix { $0.isNumber || $0 == "." || $0 == "-" })
        let unit = formatted.dropFirst(digits.count)
        if digits.contains(".") {
            while digits.last == "0" { digits = digits.dropLast() }
            if digits.last == "." { digits = digits.dropLast() }
        }
        return String(digits) + unit
    }
}
