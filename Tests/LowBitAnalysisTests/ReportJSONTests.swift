import Foundation
import LowBitIO
import Testing
@testable import LowBitAnalysis

struct ReportJSONTests {
    /// The names scripts rely on (issue 6); renaming any of them breaks users.
    static let layerKeys = ["name", "kind", "weight_bits", "act_bits", "params", "nonzero", "bytes", "macs", "bops",
                            "energy_pj", "latency_us"]
    static let totalKeys = ["params", "nonzero", "bytes", "macs", "bops", "energy_pj", "latency_us"]

    private func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func oneModelIsOneObjectWithLayersAndTotal() throws {
        let report = try TestModels.report(TestModels.convSpec, "cnn.lowbit", accuracy: 0.75)
        let json = try parse(try ReportJSON.render([report]))
        #expect(json["model"]?.string == "cnn.lowbit" && json["accuracy"]?.double == 0.75)
        #expect(json["energy_note"]?.string?.contains("estimate") == true)
        let layers = try #require(json["layers"]?.array)
        #expect(layers.count == report.layers.count)
        for layer in layers {
            for key in Self.layerKeys { #expect(layer[key] != nil, "layer key \(key) missing") }
        }
        for key in Self.totalKeys { #expect(json["total"]?[key] != nil, "total key \(key) missing") }
    }

    /// Values are the report's exact numbers; unknown ones are null, not left out.
    @Test func valuesAreExactAndUnknownsAreNull() throws {
        let policy = TestModels.firstLayer("fc1", "binary", weight: TestModels.binaryWeight, input: TestModels.binaryInput)
        let json = try parse(try ReportJSON.render([try TestModels.report(TestModels.denseSpec, "b.lowbit", policy: policy)]))
        let fc1 = try #require(json["layers"]?[0]), relu = try #require(json["layers"]?[1])
        #expect(fc1["name"]?.string == "fc1" && fc1["kind"]?.string == "dense")
        #expect(fc1["weight_bits"]?.int == 1 && fc1["act_bits"]?.int == 1 && fc1["weight_precision"]?.string == "binary")
        #expect(fc1["params"]?.int == 27 && fc1["bytes"]?.int == 27 && fc1["macs"]?.int == 24 && fc1["bops"]?.double == 144)
        #expect(fc1["energy_pj"]?.double.map { close($0, 4513.98) } == true)
        #expect(fc1["latency_us"] == .null)
        #expect(relu["weight_bits"] == .null && relu["act_bits"]?.int == 32 && relu["compression"] == .null)
        #expect(json["accuracy"] == .null && json["total"]?["latency_us"] == .null)
        #expect(json["total"]?["bytes"]?.int == 27 + 32)
    }

    /// Several models: {"models": [...]}, each element a complete single-model report.
    @Test func severalModelsNestTheSingleModelObjects() throws {
        let a = try TestModels.report(TestModels.denseSpec, "a.lowbit", latency: 3.5)
        let b = try TestModels.report(TestModels.denseSpec, "b.lowbit", policy: TestModels.int8Everywhere)
        let json = try parse(try ReportJSON.render([a, b]))
        let models = try #require(json["models"]?.array)
        #expect(models.count == 2 && json["report_version"]?.int == ReportJSON.version)
        #expect(models[0] == (try parse(try ReportJSON.render([a]))))
        #expect(models[1] == (try parse(try ReportJSON.render([b]))))
        #expect(models[0]["total"]?["latency_us"]?.double == 3.5)
    }
}
