import Foundation
import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitAnalysis

struct HTMLReportTests {
    /// Anything that would make the page fetch something or run code.
    static let forbidden = ["http:", "https:", "//", "<script", "@import", "url(", "src=", "<link", "<iframe", "<img"]

    @Test func thePageIsSelfContained() throws {
        let page = HTMLReport.render(try ExampleModels.reports())
        for needle in Self.forbidden {
            #expect(!page.lowercased().contains(needle), "the page contains \(needle)")
        }
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<meta name=\"viewport\""))
        #expect(page.contains("<style>") && page.contains("overflow-x: auto"))
    }

    /// Four scatter plots, two bar charts per model, tables, and energy called an estimate.
    @Test func thePageHasThePlotsAndTables() throws {
        let reports = try ExampleModels.reports()
        let page = HTMLReport.render(reports)
        #expect(page.components(separatedBy: "<svg").count - 1 == 4 + 2 * reports.count)
        #expect(page.components(separatedBy: "<table").count - 1 == 2 + reports.count)
        for title in ["Accuracy vs packed size", "Accuracy vs bit operations", "Accuracy vs energy (estimate)",
                      "Accuracy vs latency (measured)", "Packed bytes per layer", "BOPs per layer"] {
            #expect(page.contains(title), "missing \(title)")
        }
        #expect(page.contains("class=\"pareto\"") && page.contains("estimate"))
        for label in ["float32", "int8", "ternary", "binary"] {
            #expect(page.contains(ReportPalette.color(forPrecision: label)), "no \(label) bars")
        }
    }

    /// Model paths, policy and layer names come from files: markup in them must show as text.
    @Test func textFromModelFilesIsEscaped() throws {
        var spec = TestModels.denseSpec
        spec.layers[0].name = "fc<1>"
        let policy = PrecisionPolicy(name: "<b>bold</b>", rules: [])
        let archive = try TestModels.archive(spec, policy: policy, accuracy: 0.5)
        let report = try ModelReport(analyzing: archive, source: "<script>alert(1)</script>&.lowbit")
        let page = HTMLReport.render([report])
        #expect(!page.contains("<script>") && !page.contains("<b>") && !page.contains("fc<1>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;.lowbit"))
        #expect(page.contains("fc&lt;1&gt;") && page.contains("&lt;b&gt;bold&lt;/b&gt;"))
    }

    @Test func escapingCoversMarkupAndQuotes() {
        #expect(htmlEscaped("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(htmlEscaped("µJ · plain") == "µJ · plain")
    }

    /// Without accuracies or latencies the plots say what is missing instead of drawing nothing.
    @Test func emptyPlotsExplainWhatIsMissing() throws {
        let page = HTMLReport.render([try TestModels.report(TestModels.denseSpec, "a.lowbit")])
        #expect(page.contains("no model stores an accuracy"))
        let plots = HTMLReport.scatterPlots([try TestModels.report(TestModels.denseSpec, "a.lowbit", accuracy: 0.5)])
        #expect(plots.map(\.points.count) == [1, 1, 1, 0])
        #expect(plots[3].svg().contains("no latency measured yet"))
    }
}

struct PlotPartsTests {
    @Test func paretoFrontKeepsTheUndominatedModelsByCost() {
        // (cost, accuracy): #1 is beaten by #3 (cheaper, better); #4 ties #0's cost with less accuracy.
        let points = [(cost: 10.0, accuracy: 0.9), (cost: 20, accuracy: 0.8), (cost: 1, accuracy: 0.5),
                      (cost: 5, accuracy: 0.95), (cost: 10, accuracy: 0.7)]
        #expect(paretoFront(points) == [2, 3])
        #expect(paretoFront([]) == [])
        #expect(paretoFront([(cost: 1, accuracy: 0.5), (cost: 1, accuracy: 0.5)]) == [0])
    }

    @Test func costsSpanningADecadeGetALogAxis() {
        let axis = PlotAxis(values: [2_000, 60_000, 900_000])
        #expect(axis.isLogarithmic && axis.ticks == [1_000, 10_000, 100_000, 1_000_000])
        #expect(abs(axis.position(of: 10_000) - 1.0 / 3) < 1e-12)
        let linear = PlotAxis(values: [2, 7])
        #expect(!linear.isLogarithmic && linear.lowerBound == 0 && linear.upperBound == 8 && linear.ticks == [0, 2, 4, 6, 8])
    }

    @Test func accuracyAxesStayWithinZeroAndHundredPercent() {
        let axis = PlotAxis(values: [99.9], includeZero: false, limits: 0...100)
        #expect(axis.upperBound == 100 && axis.lowerBound < 99.9 && axis.ticks.allSatisfy { $0 <= 100 })
    }

    @Test func tickLabelsDropTrailingZeros() {
        #expect(PlotAxis.trimmedLabel("1.00k") == "1k")
        #expect(PlotAxis.trimmedLabel("2.50 nJ") == "2.5 nJ")
        #expect(PlotAxis.trimmedLabel("0 pJ") == "0")
        #expect(PlotAxis.trimmedLabel("100") == "100")
    }

    @Test func numbersKeepThreeSignificantDigits() {
        #expect(ReportFormat.count(35) == "35" && ReportFormat.count(32_721.5) == "32.7k" && ReportFormat.count(999_999) == "1.00M")
        #expect(ReportFormat.bytes(140) == "140 B" && ReportFormat.bytes(57_856) == "56.5 KiB")
        #expect(ReportFormat.energy(picojoules: 42.7) == "42.7 pJ" && ReportFormat.energy(picojoules: 16_800_000) == "16.8 µJ")
        #expect(ReportFormat.latency(microseconds: 12.5) == "12.5 µs" && ReportFormat.percent(0.9912) == "99.12%")
        #expect(ReportFormat.ratio(2.25) == "2.2x" && ReportFormat.ratio(128) == "128x")
    }

    @Test func precisionLabelsAndColorsFollowTheScheme() {
        #expect(Precision(nil) == .float32)
        #expect(Precision(TestModels.binaryWeight).label == "binary" && Precision(TestModels.binaryInput).bits == 1)
        #expect(Precision(TestModels.fgq4) == Precision(arithmetic: .ternary, bits: 2, label: "ternary"))
        #expect(Precision(QuantizerSpec(scheme: "uniform", bits: 4)) == Precision(arithmetic: .integer, bits: 4, label: "int4"))
        #expect(Precision(QuantizerSpec(scheme: "fp8-e4m3")).label == "fp8")
        #expect(ReportPalette.legendOrder(["binary", "int8", "float32", "ternary", "int4"])
            == ["float32", "int8", "int4", "ternary", "binary"])
        #expect(Set(["float32", "int8", "int4", "ternary", "binary"].map(ReportPalette.color(forPrecision:))).count == 5)
    }

    /// One row per scheme of ScaleLayout's table, for a [3, 10] weight.
    @Test(arguments: [
        (QuantizerSpec(scheme: "binary"), 3, 1),
        (QuantizerSpec(scheme: "binary", granularity: "none"), 0, 0),
        (QuantizerSpec(scheme: "twn"), 1, 1),
        (QuantizerSpec(scheme: "fgq", groupSize: 4), 9, 3),
        (QuantizerSpec(scheme: "fgq", granularity: "channel"), 3, 1),
        (QuantizerSpec(scheme: "uniform", bits: 4), 1, 1),
        (QuantizerSpec(scheme: "uniform", bits: 4, granularity: "group", groupSize: 5, symmetric: false), 12, 2),
        (QuantizerSpec(scheme: "pow2", bits: 4, granularity: "channel"), 3, 0),
        (QuantizerSpec(scheme: "dynamic-fixed", bits: 8), 1, 0),
        (QuantizerSpec(scheme: "fixed", intBits: 3, fracBits: 4), 0, 0),
    ])
    func scaleWordsPerScheme(spec: QuantizerSpec, words: Int, multiplies: Int) {
        let layout = ScaleLayout(for: spec, outputChannels: 3, rowLength: 10)
        #expect(layout.storedWords == words && layout.multipliesPerOutput == multiplies)
    }

    @Test func tablesAlignAndEscape() {
        var table = TextTable(columns: [("name", .left), ("bytes", .right)])
        table.append(["a|b", "5 B"])
        table.append(["long name"])
        #expect(table.terminal() == "name       bytes\n---------  -----\na|b          5 B\nlong name\n")
        #expect(table.markdown() == "| name | bytes |\n|---|---:|\n| a\\|b | 5 B |\n| long name |  |\n")
        #expect(table.html(className: "t").contains("<td class=\"l\">a|b</td><td>5 B</td>"))
    }
}
