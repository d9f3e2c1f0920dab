import Foundation
import Testing
@testable import LowBitAnalysis

/// The terminal and Markdown tables, character for character. The golden files were checked by
/// hand against DenseModelMetricsTests and ConvModelMetricsTests (e.g. float.lowbit: 35 params,
/// 140 B, 30 MACs, 32.7k BOPs, 22.7 nJ). After an intended change, regenerate them with
/// `LOWBIT_UPDATE_GOLDEN=1 swift test --filter GoldenTableTests` and review the diff.
struct GoldenTableTests {
    /// Three models of two architectures: a float MLP with a latency, its binary first layer, and the
    /// CNN with an FGQ conv. The first is the baseline of the differences table.
    static func reports() throws -> [ModelReport] {
        let binary = TestModels.firstLayer("fc1", "binary", weight: TestModels.binaryWeight, input: TestModels.binaryInput)
        let fgq = TestModels.firstLayer("conv", "fgq4", weight: TestModels.fgq4, input: TestModels.int8Input)
        return [
            try TestModels.report(TestModels.denseSpec, "float.lowbit", accuracy: 0.9, latency: 12.5),
            try TestModels.report(TestModels.denseSpec, "binary.lowbit", policy: binary, zeros: ["fc1.weight": 6], accuracy: 0.8125),
            try TestModels.report(TestModels.convSpec, "cnn-fgq.lowbit", policy: fgq),
        ]
    }

    @Test func terminalTables() throws {
        try expectGolden(ReportTables.terminal(Self.reports()), named: "report-terminal.txt")
    }

    @Test func markdownTables() throws {
        try expectGolden(ReportTables.markdown(Self.reports()), named: "report-markdown.md")
    }

    /// One model: no differences table, nothing about a baseline.
    @Test func singleModelTerminalTable() throws {
        try expectGolden(ReportTables.terminal([TestModels.report(TestModels.residualSpec, "res.lowbit")]),
                         named: "report-single.txt")
    }
}

/// Compares `text` with Tests/LowBitAnalysisTests/Golden/`name`, naming the first line that
/// differs; with LOWBIT_UPDATE_GOLDEN=1 it rewrites the file in the source tree instead.
func expectGolden(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    if ProcessInfo.processInfo.environment["LOWBIT_UPDATE_GOLDEN"] == "1" {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        try text.write(to: source, atomically: true, encoding: .utf8)
        return
    }
    let url = try #require(Bundle.module.url(forResource: "Golden", withExtension: nil)?.appendingPathComponent(name))
    let golden = try String(contentsOf: url, encoding: .utf8)
    guard text != golden else { return }
    let (actual, expected) = (text.split(separator: "\n", omittingEmptySubsequences: false),
                              golden.split(separator: "\n", omittingEmptySubsequences: false))
    let line = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actual.count, expected.count)
    Issue.record("""
        \(name) differs at line \(line + 1):
          expected: \(line < expected.count ? String(expected[line]) : "<end of file>")
          actual:   \(line < actual.count ? String(actual[line]) : "<end of file>")
        """, sourceLocation: sourceLocation)
}
