import Foundation

/// Accuracy against one cost (bytes, BOPs, energy, latency) for several models, as inline SVG: one
/// numbered dot per model in its ``ReportPalette`` color, the Pareto front (``paretoFront(_:)``)
/// as a dashed line with its dots outlined, a logarithmic cost axis when the costs span decades.
/// The SVG scales to its container (`viewBox`, no fixed size) and needs no script or font.
///
/// ```swift
/// let plot = ScatterPlot(title: "Accuracy vs size", costAxisTitle: "packed size (bytes)",
///                        formatCost: { ReportFormat.count($0) },
///                        points: [.init(model: 0, name: "fp.lowbit", cost: 140, accuracy: 0.98)])
/// let svg = plot.svg()
/// ```
public struct ScatterPlot {
    public struct Point: Sendable, Equatable {
        /// The model's position in the report: its color and its number on the plot.
        public var model: Int
        public var name: String
        public var cost: Double
        public var accuracy: Double

        public init(model: Int, name: String, cost: Double, accuracy: Double) {
            self.model = model
            self.name = name
            self.cost = cost
            self.accuracy = accuracy
        }
    }

    public var title: String
    public var costAxisTitle: String
    public var formatCost: (Double) -> String
    public var points: [Point]
    /// Shown in place of the dots when there are none (what to run to get the numbers).
    public var emptyMessage: String

    public init(title: String, costAxisTitle: String, formatCost: @escaping (Double) -> String, points: [Point],
                emptyMessage: String = "no data") {
        self.title = title
        self.costAxisTitle = costAxisTitle
        self.formatCost = formatCost
        self.points = points
        self.emptyMessage = emptyMessage
    }

    // The drawing area inside the 480 x 300 view box; room around it for the tick labels.
    private let left = 64.0, right = 450.0, top = 30.0, bottom = 244.0

    public func svg() -> String {
        // Without points the plot shrinks to its title and a line saying what is missing.
        let height = points.isEmpty ? 64 : 300
        var svg = "<svg viewBox=\"0 0 480 \(height)\" role=\"img\" aria-label=\"\(htmlEscaped(title))\">"
        svg += "<title>\(htmlEscaped(title))</title>"
        svg += "<text x=\"4\" y=\"16\" class=\"plot-title\">\(htmlEscaped(title))</text>"
        guard !points.isEmpty else {
            return svg + "<rect x=\"4\" y=\"26\" width=\"472\" height=\"34\" class=\"plot-area\"/>"
                + "<text x=\"240\" y=\"47\" text-anchor=\"middle\" class=\"plot-empty\">\(htmlEscaped(emptyMessage))</text></svg>"
        }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" class=\"plot-area\"/>"
        let xAxis = PlotAxis(values: points.map(\.cost))
        let yAxis = PlotAxis(values: points.map { $0.accuracy * 100 }, includeZero: false, limits: 0...100)
        let x = { left + xAxis.position(of: $0) * (right - left) }
        let y = { bottom - yAxis.position(of: $0 * 100) * (bottom - top) }

        for tick in xAxis.ticks {
            svg += "<line x1=\"\(svgCoordinate(x(tick)))\" y1=\"\(top)\" x2=\"\(svgCoordinate(x(tick)))\" y2=\"\(bottom)\" class=\"gridline\"/>"
            svg += "<text x=\"\(svgCoordinate(x(tick)))\" y=\"\(bottom + 15)\" text-anchor=\"middle\" class=\"tick\">"
                + "\(htmlEscaped(PlotAxis.trimmedLabel(formatCost(tick))))</text>"
        }
        let step = yAxis.ticks.count > 1 ? yAxis.ticks[1] - yAxis.ticks[0] : 1
        let decimals = max(0, Int(-floor(log10(step))))
        for tick in yAxis.ticks {
            let position = bottom - yAxis.position(of: tick) * (bottom - top)
            svg += "<line x1=\"\(left)\" y1=\"\(svgCoordinate(position))\" x2=\"\(right)\" y2=\"\(svgCoordinate(position))\" class=\"gridline\"/>"
            svg += "<text x=\"\(left - 5)\" y=\"\(svgCoordinate(position + 4))\" text-anchor=\"end\" class=\"tick\">"
                + String(format: "%.\(decimals)f%%", tick) + "</text>"
        }
        let scale = xAxis.isLogarithmic ? ", log scale" : ""
        svg += "<text x=\"\(svgCoordinate((left + right) / 2))\" y=\"\(bottom + 36)\" text-anchor=\"middle\" class=\"axis-title\">"
            + "\(htmlEscaped(costAxisTitle))\(scale)</text>"
        svg += "<text transform=\"translate(14 \(svgCoordinate((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" "
            + "class=\"axis-title\">accuracy (%)</text>"

        let front = paretoFront(points.map { (cost: $0.cost, accuracy: $0.accuracy) })
        if front.count > 1 {
            let path = front.map { "\(svgCoordinate(x(points[$0].cost))),\(svgCoordinate(y(points[$0].accuracy)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" class=\"pareto\"/>"
        }
        for (index, point) in points.enumerated() {
            let (cx, cy) = (x(point.cost), y(point.accuracy))
            let onFront = front.contains(index) ? " front" : ""
            svg += "<g class=\"dot\(onFront)\"><title>\(htmlEscaped(point.name)): accuracy "
                + "\(ReportFormat.percent(point.accuracy)), \(htmlEscaped(formatCost(point.cost)))</title>"
            svg += "<circle cx=\"\(svgCoordinate(cx))\" cy=\"\(svgCoordinate(cy))\" r=\"6\" fill=\"\(ReportPalette.color(forModel: point.model))\"/>"
            svg += "<text x=\"\(svgCoordinate(cx + 8))\" y=\"\(svgCoordinate(cy - 7))\" class=\"dot-label\">\(point.model + 1)</text></g>"
        }
        return svg + "</svg>"
    }
}
