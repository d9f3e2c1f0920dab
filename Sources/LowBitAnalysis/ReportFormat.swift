import Foundation

/// How report tables and plots write numbers: three significant digits with an SI or binary
/// prefix, so a column of very different magnitudes stays short and comparable. JSON keeps the
/// exact values; these strings are for people.
///
/// ```swift
/// ReportFormat.count(200_960)              // "201k"
/// ReportFormat.bytes(3_236)                // "3.16 KiB"
/// ReportFormat.energy(picojoules: 12_345)  // "12.3 nJ"
/// ```
public enum ReportFormat {
    /// `1234` -> `"1.23k"`; integers below 1000 exactly.
    public static func count(_ value: Double) -> String {
        scaled(value, base: 1000, prefixes: ["", "k", "M", "G", "T", "P", "E"], separator: "")
    }

    public static func count(_ value: Int) -> String { count(Double(value)) }

    /// `3236` -> `"3.16 KiB"` (powers of 1024; exact below 1 KiB).
    public static func bytes(_ value: Int) -> String {
        scaled(Double(value), base: 1024, prefixes: ["B", "KiB", "MiB", "GiB", "TiB"], separator: " ")
    }

    /// pJ, nJ, µJ, mJ, J.
    public static func energy(picojoules: Double) -> String {
        scaled(picojoules, base: 1000, prefixes: ["pJ", "nJ", "µJ", "mJ", "J"], separator: " ")
    }

    /// µs below 1 ms, then ms and s.
    public static func latency(microseconds: Double) -> String {
        scaled(microseconds, base: 1000, prefixes: ["µs", "ms", "s"], separator: " ")
    }

    /// `0.9812` -> `"98.12%"`.
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.2f%%", fraction * 100)
    }

    /// `31.99` -> `"32.0x"`.
    public static func ratio(_ value: Double) -> String {
        String(format: value >= 100 ? "%.0fx" : "%.1fx", value)
    }

    /// Three significant digits (exact for whole numbers below `base`), then the prefix.
    private static func scaled(_ value: Double, base: Double, prefixes: [String], separator: String) -> String {
        guard value.isFinite else { return "-" }
        var magnitude = abs(value), index = 0
        while magnitude >= base && index < prefixes.count - 1 {
            magnitude /= base
            index += 1
        }
        var digits = significant(magnitude, exactIntegers: index == 0)
        // 999.6 rounds to "1000": move to the next prefix instead.
        if digits == "1000" && index < prefixes.count - 1 && base == 1000 {
            index += 1
            digits = significant(magnitude / base, exactIntegers: false)
        }
        return (value < 0 ? "-" : "") + digits + separator + prefixes[index]
    }

    private static func significant(_ magnitude: Double, exactIntegers: Bool) -> String {
        if exactIntegers && magnitude == magnitude.rounded() { return String(Int(magnitude)) }
        switch magnitude {
        case ..<9.995: return String(format: "%.2f", magnitude)
        case ..<99.95: return String(format: "%.1f", magnitude)
        default: return String(format: "%.0f", magnitude)
        }
    }
}
