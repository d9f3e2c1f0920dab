import Foundation

/// A per-layer horizontal bar chart as inline SVG: one bar per layer, colored by the layer's
/// precision (``ReportPalette``), its value written at the end of the bar. Lengths are linear from
/// zero, so the bars show where the bytes or the bit operations of a model actually go.
///
/// ```swift
/// let chart = BarChart(title: "Bytes per layer", formatValue: { ReportFormat.bytes(Int($0)) }, bars: [
///     .init(label: "fc1", value: 108, precision: "float32"),
///     .init(label: "fc2", value: 32, precision: "binary"),
/// ])
/// let svg = chart.svg()
/// ```
public struct BarChart {
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var value: Double
        /// A ``Precision/label``: picks the color.
        public var precision: String

        public init(label: String, value: Double, precision: String) {
            self.label = label
            self.value = value
            self.precision = precision
        }
    }

    public var title: String
    public var formatValue: (Double) -> String
    public var bars: [Bar]

    public init(title: String, formatValue: @escaping (Double) -> String, bars: [Bar]) {
        self.title = title
        self.formatValue = formatValue
        self.bars = bars
    }

    // Geometry in view-box units (the SVG scales to its container's width, 480 units).
    private let width = 480.0, rowHeight = 18.0, barHeight = 12.0, top = 28.0, valueSpace = 66.0
    /// Names longer than this are cut with an ellipsis; the full name is the bar's tooltip.
    private let maximumLabelCharacters = 28

    public func svg() -> String {
        let height = top + Double(max(bars.count, 1)) * rowHeight + 6
        var svg = "<svg viewBox=\"0 0 \(svgCoordinate(width)) \(svgCoordinate(height))\" role=\"img\" aria-label=\"\(htmlEscaped(title))\">"
        svg += "<title>\(htmlEscaped(title))</title>"
        svg += "<text x=\"4\" y=\"16\" class=\"plot-title\">\(htmlEscaped(title))</text>"
        guard let largest = bars.map(\.value).max(), largest > 0 else {
            return svg + "<text x=\"4\" y=\"\(svgCoordinate(top + 12))\" class=\"plot-empty\">none</text></svg>"
        }
        let longest = bars.map { min($0.label.count, maximumLabelCharacters) }.max() ?? 0
        // About 6.6 units per character at the 11.5-unit label size.
        let labelWidth = Double(longest) * 6.6 + 10
        let barSpace = width - labelWidth - valueSpace
        for (row, bar) in bars.enumerated() {
            let y = top + Double(row) * rowHeight
            let length = max(bar.value / largest * barSpace, bar.value > 0 ? 1 : 0)
            let label = bar.label.count > maximumLabelCharacters
                ? String(bar.label.prefix(maximumLabelCharacters - 1)) + "…" : bar.label
            svg += "<g><title>\(htmlEscaped(bar.label)) (\(htmlEscaped(bar.precision))): \(htmlEscaped(formatValue(bar.value)))</title>"
            svg += "<text x=\"\(svgCoordinate(labelWidth - 6))\" y=\"\(svgCoordinate(y + barHeight - 2))\" text-anchor=\"end\" class=\"bar-label\">"
                + "\(htmlEscaped(label))</text>"
            svg += "<rect x=\"\(svgCoordinate(labelWidth))\" y=\"\(svgCoordinate(y))\" width=\"\(svgCoordinate(length))\" height=\"\(svgCoordinate(barHeight))\" "
                + "fill=\"\(ReportPalette.color(forPrecision: bar.precision))\"/>"
            svg += "<text x=\"\(svgCoordinate(labelWidth + length + 4))\" y=\"\(svgCoordinate(y + barHeight - 2))\" class=\"bar-value\">"
                + "\(htmlEscaped(formatValue(bar.value)))</text></g>"
        }
        return svg + "</svg>"
    }
}
