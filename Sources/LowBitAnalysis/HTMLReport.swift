/// The report as one self-contained HTML page: inline CSS and inline SVG only — no script, no
/// font, no image fetched from anywhere — so it works offline, from a mail attachment or a CI
/// artifact. Responsive: plots scale to the width, tables scroll sideways on a phone.
///
/// Sections: a summary table of the models (and their differences from the first), accuracy
/// against bytes, BOPs, energy and latency with the Pareto front (``ScatterPlot``), then per model
/// the bytes and BOPs of each layer colored by precision (``BarChart``) and the per-layer table
/// (folded in a `<details>` element).
/// Every text that comes from a model file is escaped (``htmlEscaped(_:)``).
///
/// ```swift
/// let page = HTMLReport.render([floatReport, binaryReport])
/// try FileAccess.writeAtomically(Array(page.utf8), to: "report.html")
/// ```
public enum HTMLReport {
    public static func render(_ reports: [ModelReport]) -> String {
        var body = "<h1>LowBit report</h1>\n"
        body += "<p class=\"note\">\(htmlEscaped(introduction(reports)))</p>\n"
        body += "<h2>Models</h2>\n" + numbered(ReportTables.summary(reports)).html(className: "summary")
        if reports.count > 1 {
            body += "<h3>Differences from \(htmlEscaped(reports[0].source))</h3>\n"
                + ReportTables.differences(reports).html(className: "summary")
        }
        body += "<h2>Accuracy against cost</h2>\n" + modelLegend(reports)
        body += "<div class=\"plots wide\">" + scatterPlots(reports).map { "<figure>\($0.svg())</figure>" }.joined() + "</div>\n"
        body += "<p class=\"note\">One dot per model, numbered as in the table. Dashed line and outlined dots: the "
            + "Pareto front, the models that no other model beats on both accuracy and cost. Costs are per sample; "
            + "an axis is logarithmic where its values span a decade or more.</p>\n"
        body += "<h2>Layers</h2>\n"
        for report in reports { body += layerSection(report) }
        body += "<footer>\(methods(reports))</footer>\n"
        return page(body)
    }

    private static func introduction(_ reports: [ModelReport]) -> String {
        let tables = Set(reports.map(\.energyTable.description)).sorted().joined(separator: "; ")
        return "\(reports.count) model\(reports.count == 1 ? "" : "s"), costs per sample. Energy figures are estimates: "
            + "operation counts times the per-operation energies of \(tables), not measurements."
    }

    /// The summary with the number each model carries on the plots.
    private static func numbered(_ table: TextTable) -> TextTable {
        var result = TextTable(columns: [("#", .right)] + zip(table.headers, table.alignments).map { ($0, $1) })
        for (index, row) in table.rows.enumerated() { result.append([String(index + 1)] + row) }
        return result
    }

    private static func modelLegend(_ reports: [ModelReport]) -> String {
        let items = reports.enumerated().map { index, report in
            "<li><span class=\"swatch round\" style=\"background:\(ReportPalette.color(forModel: index))\"></span>"
                + "\(index + 1) \(htmlEscaped(report.source))</li>"
        }
        return "<ul class=\"legend\">" + items.joined() + "</ul>\n"
    }

    static func scatterPlots(_ reports: [ModelReport]) -> [ScatterPlot] {
        func points(_ cost: (ModelReport) -> Double?) -> [ScatterPlot.Point] {
            reports.enumerated().compactMap { index, report in
                guard let accuracy = report.accuracy, let value = cost(report), value > 0 else { return nil }
                return ScatterPlot.Point(model: index, name: report.source, cost: value, accuracy: accuracy)
            }
        }
        let noAccuracy = "no model stores an accuracy (lowbit train and eval record one)"
        let anyAccuracy = reports.contains { $0.accuracy != nil }
        return [
            ScatterPlot(title: "Accuracy vs packed size", costAxisTitle: "packed size (bytes)",
                        formatCost: { ReportFormat.count($0) + "B" }, points: points { Double($0.total.packedBytes) },
                        emptyMessage: noAccuracy),
            ScatterPlot(title: "Accuracy vs bit operations", costAxisTitle: "BOPs per sample",
                        formatCost: { ReportFormat.count($0) }, points: points { $0.total.bitOperations },
                        emptyMessage: noAccuracy),
            ScatterPlot(title: "Accuracy vs energy (estimate)", costAxisTitle: "energy per sample, estimate",
                        formatCost: { ReportFormat.energy(picojoules: $0) },
                        points: points { $0.total.energy.totalPicojoules }, emptyMessage: noAccuracy),
            ScatterPlot(title: "Accuracy vs latency (measured)", costAxisTitle: "latency per sample",
                        formatCost: { ReportFormat.latency(microseconds: $0) }, points: points { $0.latencyMicroseconds },
                        emptyMessage: anyAccuracy ? "no latency measured yet (the runtime's benchmark supplies it)" : noAccuracy),
        ]
    }

    private static func layerSection(_ report: ModelReport) -> String {
        func bars(_ value: (LayerReport) -> Double) -> [BarChart.Bar] {
            report.layers.compactMap { layer in
                value(layer) > 0
                    ? BarChart.Bar(label: layer.name, value: value(layer), precision: layer.weightPrecision?.label ?? "float32")
                    : nil
            }
        }
        let labels = Set(report.layers.compactMap { $0.packedBytes > 0 ? $0.weightPrecision?.label : nil })
        let legend = ReportPalette.legendOrder(labels).map {
            "<li><span class=\"swatch\" style=\"background:\(ReportPalette.color(forPrecision: $0))\"></span>\(htmlEscaped($0))</li>"
        }
        var html = "<section>\n<h3>\(htmlEscaped(ReportTables.title(report)))</h3>\n"
        html += "<ul class=\"legend\" aria-label=\"weight precision\">" + legend.joined() + "</ul>\n"
        html += "<div class=\"plots\">"
        html += "<figure>" + BarChart(title: "Packed bytes per layer", formatValue: { ReportFormat.bytes(Int($0)) },
                                      bars: bars { Double($0.packedBytes) }).svg() + "</figure>"
        html += "<figure>" + BarChart(title: "BOPs per layer", formatValue: { ReportFormat.count($0) },
                                      bars: bars(\.bitOperations)).svg() + "</figure>"
        // The table folds away (no script needed) so that the bars of several models can be compared
        // without scrolling past every row.
        html += "</div>\n<details><summary>Per-layer table (\(report.layers.count) layers)</summary>\n"
        html += ReportTables.layerTable(report).html(className: "layers") + "</details>\n</section>\n"
        return html
    }

    private static func methods(_ reports: [ModelReport]) -> String {
        var text = "<p><strong>How the numbers are made.</strong> Bytes: weights at their storage bits, quantizer "
            + "scales as 32-bit words, float32 biases, BatchNorm folded to a float32 scale and shift per channel. "
            + "Compression: float32 bytes / packed bytes. BOPs = m·n·((1 − f<sub>p</sub>)·b<sub>a</sub>·b<sub>w</sub> "
            + "+ b<sub>a</sub> + b<sub>w</sub> + log<sub>2</sub> n). Energy (an estimate): multiply-accumulates and other "
            + "operations priced by operand precision, weights read once from DRAM, activations from SRAM; "
            + "docs/REPORTS.md gives every rule.</p>"
        var seen = Set<String>()
        for table in reports.map(\.energyTable) where seen.insert(table.description).inserted {
            let entries = EnergyTable.keys.map { "\($0.name) \(table[keyPath: $0.path])" }.joined(separator: ", ")
            text += "<p>Energy table “\(htmlEscaped(table.description))” (pJ): \(htmlEscaped(entries)).</p>"
        }
        return text
    }

    private static func page(_ body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>LowBit report</title>
        <style>
        \(stylesheet)
        </style>
        </head>
        <body>
        <main>
        \(body)</main>
        </body>
        </html>

        """
    }

    /// System fonts only (nothing to download); sizes in rem so a phone's text settings apply.
    static let stylesheet = """
        :root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #e2e2e2; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #fff; color: var(--fg);
          font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 32px; }
        h1 { font-size: 1.6rem; margin: 0.2em 0 0.3em; }
        h2 { font-size: 1.25rem; margin: 1.6em 0 0.5em; padding-bottom: 0.2em; border-bottom: 1px solid var(--line); }
        h3 { font-size: 1.02rem; margin: 1.3em 0 0.4em; overflow-wrap: anywhere; }
        .note, footer { color: var(--muted); font-size: 0.9rem; }
        .scroll { overflow-x: auto; margin: 0.4em 0 1em; border: 1px solid var(--line); border-radius: 6px; }
        table { border-collapse: collapse; font-size: 0.84rem; font-variant-numeric: tabular-nums; min-width: 100%; }
        th, td { padding: 0.28em 0.5em; text-align: right; white-space: pre; border-bottom: 1px solid var(--line); }
        th { background: #f5f5f7; font-weight: 600; }
        th.l, td.l { text-align: left; }
        tbody tr:nth-child(even) { background: #fafafa; }
        table.layers tbody tr:last-child td { font-weight: 600; border-top: 2px solid #c8c8c8; }
        .plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 12px 24px; }
        .plots.wide { grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); }
        figure { margin: 0; }
        svg { display: block; width: 100%; height: auto; font-family: inherit; }
        .plot-title { font-size: 14px; font-weight: 600; fill: var(--fg); }
        .plot-area { fill: #fcfcfd; stroke: #d0d0d0; }
        .gridline { stroke: #e8e8e8; }
        .tick { font-size: 11.5px; fill: var(--muted); }
        .axis-title { font-size: 12.5px; fill: #3c4043; }
        .plot-empty { font-size: 13px; fill: #80868b; }
        .pareto { fill: none; stroke: #444; stroke-width: 1.5; stroke-dasharray: 5 4; }
        .dot circle { stroke: #fff; stroke-width: 1.5; }
        .dot.front circle { stroke: #222; stroke-width: 2; }
        .dot-label { font-size: 12px; font-weight: 700; fill: #222; }
        .bar-label { font-size: 11.5px; fill: #3c4043; }
        .bar-value { font-size: 11px; fill: var(--muted); }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; margin: 0.3em 0 0.6em; padding: 0;
          font-size: 0.86rem; }
        .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.35em; border-radius: 2px;
          vertical-align: -0.05em; }
        .swatch.round { border-radius: 50%; }
        details { margin: 0.4em 0 1em; }
        summary { cursor: pointer; color: #1a5fb4; font-size: 0.9rem; }
        footer { margin-top: 2.5em; border-top: 1px solid var(--line); }
        @media (max-width: 600px) {
          body { font-size: 14px; } main { padding: 10px 10px 24px; }
          .plot-title { font-size: 16px; } .tick { font-size: 13.5px; } .axis-title { font-size: 14px; }
          .dot-label { font-size: 14px; }
        }
        """
}
