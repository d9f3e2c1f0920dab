import Foundation

/// The terminal and Markdown forms of a report: a summary row per model, the differences from the
/// first model when there are several, then each model's per-layer table with its total.
/// Pure functions of the reports, so golden files pin them down.
///
/// ```swift
/// print(ReportTables.terminal([floatReport, binaryReport]), terminator: "")
/// try FileAccess.writeAtomically(Array(ReportTables.markdown(reports).utf8), to: "report.md")
/// ```
public enum ReportTables {
    /// Aligned plain-text columns for a terminal.
    public static func terminal(_ reports: [ModelReport]) -> String {
        render(reports, heading: { $0 + "\n" }, table: { $0.terminal() })
    }

    /// GitHub-flavoured Markdown: headings and pipe tables.
    public static func markdown(_ reports: [ModelReport]) -> String {
        render(reports, heading: { "## " + $0 + "\n" }, table: { $0.markdown() })
    }

    private static func render(_ reports: [ModelReport], heading: (String) -> String, table: (TextTable) -> String) -> String {
        var sections = [introduction(reports), heading("Models") + "\n" + table(summary(reports))]
        if reports.count > 1 {
            sections.append(heading("Differences from \(reports[0].source)") + "\n" + table(differences(reports)))
        }
        for report in reports {
            sections.append(heading(title(report)) + "\n" + table(layerTable(report)))
        }
        sections.append(legend)
        return sections.joined(separator: "\n")
    }

    private static func introduction(_ reports: [ModelReport]) -> String {
        let tables = Set(reports.map(\.energyTable.description)).sorted().joined(separator: "; ")
        return "LowBit report: \(reports.count) model\(reports.count == 1 ? "" : "s"), costs per sample. "
            + "Energy is an estimate: operation counts x \(tables).\n"
    }

    static func title(_ report: ModelReport) -> String {
        var parts = ["\(report.source): \(report.architecture), input \(report.inputShape), policy \(report.policyName)"]
        if let accuracy = report.accuracy {
            let origin = report.accuracySource == .evaluation ? "evaluated" : "stored in the model file"
            parts.append("accuracy \(ReportFormat.percent(accuracy)) (\(origin)\(report.dataset.map { ", " + $0 } ?? ""))")
        }
        return parts.joined(separator: ", ")
    }

    static func summary(_ reports: [ModelReport]) -> TextTable {
        var table = TextTable(columns: [
            ("model", .left), ("network", .left), ("policy", .left), ("accuracy", .right), ("params", .right),
            ("bytes", .right), ("compression", .right), ("MACs", .right), ("BOPs", .right),
            ("energy (estimate)", .right), ("latency", .right),
        ])
        for report in reports {
            let total = report.total
            table.append([
                report.source, report.architecture, report.policyName, report.accuracy.map(ReportFormat.percent) ?? "-",
                ReportFormat.count(total.parameterCount), ReportFormat.bytes(total.packedBytes),
                total.compression.map(ReportFormat.ratio) ?? "-", ReportFormat.count(total.operations.multiplyAccumulates),
                ReportFormat.count(total.bitOperations), ReportFormat.energy(picojoules: total.energy.totalPicojoules),
                total.latencyMicroseconds.map { ReportFormat.latency(microseconds: $0) } ?? "-",
            ])
        }
        return table
    }

    /// Each later model against the first: accuracy in percentage points, costs as relative change.
    static func differences(_ reports: [ModelReport]) -> TextTable {
        var table = TextTable(columns: [
            ("model", .left), ("accuracy", .right), ("bytes", .right), ("MACs", .right), ("BOPs", .right),
            ("energy (estimate)", .right), ("latency", .right),
        ])
        let base = reports[0].total, baseAccuracy = reports[0].accuracy
        for report in reports.dropFirst() {
            let total = report.total
            var accuracy = "-"
            if let a = report.accuracy, let b = baseAccuracy { accuracy = String(format: "%+.2f pp", (a - b) * 100) }
            var latency = "-"
            if let a = total.latencyMicroseconds, let b = base.latencyMicroseconds { latency = change(a, b) }
            table.append([
                report.source, accuracy, change(Double(total.packedBytes), Double(base.packedBytes)),
                change(Double(total.operations.multiplyAccumulates), Double(base.operations.multiplyAccumulates)),
                change(total.bitOperations, base.bitOperations),
                change(total.energy.totalPicojoules, base.energy.totalPicojoules), latency,
            ])
        }
        return table
    }

    private static func change(_ value: Double, _ base: Double) -> String {
        base > 0 ? String(format: "%+.1f%%", (value / base - 1) * 100) : "-"
    }

    static func layerTable(_ report: ModelReport) -> TextTable {
        var table = TextTable(columns: [
            ("layer", .left), ("kind", .left), ("output", .left), ("weights", .left), ("inputs", .left),
            ("params", .right), ("nonzero", .right), ("bytes", .right), ("compression", .right), ("MACs", .right),
            ("other ops", .right), ("BOPs", .right), ("energy (estimate)", .right),
        ])
        // The cost columns of a row or of the total.
        func cells(_ costs: Costs) -> [String] {
            [ReportFormat.count(costs.parameterCount), ReportFormat.count(costs.nonzeroCount),
             ReportFormat.bytes(costs.packedBytes), costs.compression.map(ReportFormat.ratio) ?? "-",
             ReportFormat.count(costs.operations.multiplyAccumulates), ReportFormat.count(costs.operations.otherOperations),
             ReportFormat.count(costs.bitOperations), ReportFormat.energy(picojoules: costs.energy.totalPicojoules)]
        }
        for layer in report.layers {
            table.append([String(repeating: "  ", count: layer.depth) + layer.name, layer.kind.rawValue,
                          shape(layer.outputShape), layer.weightPrecision?.label ?? "-", layer.inputPrecision.label]
                         + cells(layer.costs))
        }
        table.append(["total", "", "", "", ""] + cells(report.total))
        return table
    }

    static func shape(_ shape: [Int]) -> String {
        shape.map(String.init).joined(separator: "x")
    }

    static let legend = """
        weights, inputs: precision of the stored parameters and of the values a layer reads.
        bytes: as packed for deployment (weights at their bits, scales, float32 bias and folded BatchNorm);
        compression: float32 bytes / packed bytes. BOPs = m*n*((1-f_p)*b_a*b_w + b_a + b_w + log2 n).
        Energy is an estimate from per-operation costs and memory reads; see docs/REPORTS.md.

        """
}
