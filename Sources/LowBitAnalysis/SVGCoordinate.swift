import Foundation

/// A coordinate or length written into SVG: one decimal (a tenth of a view-box unit is finer than
/// any screen shows) and always a `.` separator, so the output is the same in every locale.
///
/// ```swift
/// svgCoordinate(64)          // "64.0"
/// svgCoordinate(1.0 / 3)     // "0.3"
/// ```
func svgCoordinate(_ value: Double) -> String {
    String(format: "%.1f", value)
}
