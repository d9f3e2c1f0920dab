import Foundation
import Testing

/// The CLI forms that scripts rely on (issue 3), run as a user would.
@Suite(.serialized)
struct CLITests {
    /// A separable 3-class CSV: the label is the index of the largest of three features.
    func writeCSV(_ directory: URL, rows: Int = 300) throws -> String {
        var rng = SystemRandomNumberGenerator()
        var text = "a,b,c,label\n"
        for _ in 0..<rows {
            let values = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            text += values.map { String(format: "%.4f", $0) }.joined(separator: ",")
            text += ",\(values.indices.max { values[$0] < values[$1] }!)\n"
        }
        let path = directory.appendingPathComponent("toy.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [[], ["train"], ["eval"], ["info"], ["demo"], ["quantize"], ["quantize-tensors"], ["significance"],
                      ["report"], ["bench"], ["bench", "train"], ["bench", "gemm"]])
    func everyCommandHasHelp(_ command: [String]) throws {
        let result = try CLI.run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    @Test func trainEvalInfoRoundTripOnCSV() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = try writeCSV(directory)
        let model = directory.appendingPathComponent("toy.lowbit").path
        let train = try CLI.run(["train", "--model", "mlp", "--hidden", "32,16", "--dataset", "csv:\(csv)", "--epochs", "20",
                                 "--batch-size", "16", "--lr", "0.1", "--seed", "3", "-o", model, "--json", "--no-progress"])
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try CLI.json(train.stdout)
        #expect((trained["epochs"] as? [Any])?.count == 20)

        let eval = try CLI.run(["eval", model, "--dataset", "csv:\(csv)", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let metrics = try CLI.json(eval.stdout)
        let accuracy = try #require(metrics["accuracy"] as? Double)
        #expect(accuracy > 0.8 && accuracy <= 1)
        #expect(metrics["samples"] as? Int == 300)
        #expect(metrics["loss"] is Double)
        #expect(abs(accuracy - (trained["accuracy"] as? Double ?? -1)) < 1e-9)

        let info = try CLI.run(["info", model, "--json"])
        #expect(info.status == 0)
        let description = try CLI.json(info.stdout)
        // 3*32+32 + 32*16+16 + 16*3+3
        #expect(description["parameters"] as? Int == 128 + 528 + 51)
        #expect((description["layers"] as? [Any])?.count == 5)

        // Two-stage QAT: --init with --activation rebuilds the MLP with hard tanh and keeps the weights.
        let binary = directory.appendingPathComponent("toy-binary.lowbit").path
        let second = try CLI.run(["train", "--init", model, "--activation", "hardtanh", "--hidden", "32,16", "--policy", "binary",
                                  "--dataset", "csv:\(csv)", "--epochs", "1", "--batch-size", "16", "--lr", "0.001",
                                  "--optimizer", "adam", "-o", binary, "--no-progress"])
        #expect(second.status == 0, "\(second.stderr)")
        let kinds = ((try CLI.json(try CLI.run(["info", binary, "--json"]).stdout)["layers"] as? [[String: Any]]) ?? [])
            .compactMap { $0["kind"] as? String }
        #expect(kinds.contains("hardTanh") && !kinds.contains("relu"), "\(kinds)")
        // Widths that do not match the loaded weights are a clear error, not a crash.
        let wrong = try CLI.run(["train", "--init", model, "--activation", "hardtanh", "--hidden", "8,8", "--dataset", "csv:\(csv)",
                                 "--epochs", "1", "-o", binary, "--no-progress"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--hidden"), "\(wrong.stderr)")
    }

    /// quantize, report and significance on a small model: the JSON names scripts rely on.
    @Test func quantizeReportAndSignificanceOnCSV() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = try writeCSV(directory)
        let model = directory.appendingPathComponent("toy.lowbit").path
        let int8 = directory.appendingPathComponent("toy-int8.lowbit").path
        let train = try CLI.run(["train", "--hidden", "32,32", "--dataset", "csv:\(csv)", "--epochs", "15", "--batch-size", "16",
                                 "--lr", "0.1", "--seed", "3", "-o", model, "--no-progress"])
        #expect(train.status == 0, "\(train.stderr)")
        let quantize = try CLI.run(["quantize", model, "--policy", "int8", "--calib", "64", "-o", int8, "--json", "--no-progress"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let q = try CLI.json(quantize.stdout)
        let floatAccuracy = try #require(q["float_accuracy"] as? Double)
        let accuracy = try #require(q["accuracy"] as? Double)
        #expect(abs(floatAccuracy - accuracy) < 0.05)

        let report = try CLI.run(["report", int8, "--dataset", "csv:\(csv)", "--measure-latency", "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let r = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        let layers = try #require(r?["layers"] as? [[String: Any]])
        for key in ["name", "kind", "weight_bits", "act_bits", "params", "nonzero", "bytes", "macs", "bops", "energy_pj", "latency_us"] {
            #expect(layers.allSatisfy { $0.keys.contains(key) }, "missing \(key)")
        }
        #expect(layers.first { $0["name"] as? String == "fc2" }?["weight_bits"] as? Int == 8)
        #expect(abs((r?["accuracy"] as? Double ?? -1) - accuracy) < 1e-9)
        let total = try #require(r?["total"] as? [String: Any])
        #expect((total["latency_us"] as? Double ?? 0) > 0)
        #expect((layers.first { $0["name"] as? String == "fc2" }?["latency_us"] as? Double ?? 0) > 0)

        let significance = try CLI.run(["significance", model, "--calib", "100", "--json", "--no-progress"])
        #expect(significance.status == 0, "\(significance.stderr)")
        let s = try CLI.json(significance.stdout)
        #expect((s["layers"] as? [Any])?.count == 3)
        #expect((s["bytes"] as? Int ?? .max) <= (s["budget_bytes"] as? Int ?? 0))
        // Upgraded int8 layers read unsigned inputs in this ReLU model, signed ones with --signed-inputs.
        for (flags, signed) in [([String](), false), (["--signed-inputs"], true)] {
            let run = try CLI.run(["significance", model, "--calib", "100", "--budget-bytes", "100000", "--json", "--no-progress"] + flags)
            #expect(run.status == 0, "\(run.stderr)")
            let rules = try #require((try CLI.json(run.stdout)["policy"] as? [String: Any])?["rules"] as? [[String: Any]])
            let inputs = rules.compactMap { $0["input"] as? [String: Any] }.filter { $0["scheme"] as? String == "activation" }
            #expect(!inputs.isEmpty && inputs.allSatisfy { $0["signed"] as? Bool == signed }, "\(flags): \(inputs)")
        }
    }

    @Test func demoQuickFinishesWithATable() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = directory.appendingPathComponent("demo-report.html").path
        let result = try CLI.run(["demo", "--quick", "--output-dir", directory.path, "--html", html, "--no-progress"])
        #expect(result.status == 0, "\(result.stderr)")
        for variant in ["float32 MLP", "int8", "int4", "FGQ ternary", "binary MLP", "hybrid"] { #expect(result.stdout.contains(variant)) }
        #expect(result.stderr.contains(html))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("float.lowbit").path))
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg") && !page.contains("https:"))
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        BadInput(arguments: ["eval", "/nonexistent/model.lowbit"], message: "/nonexistent/model.lowbit"),
        BadInput(arguments: ["info", "/nonexistent/model.lowbit"], message: "/nonexistent/model.lowbit"),
        BadInput(arguments: ["train", "--model", "alexnet", "--dataset", "mnist", "--limit", "10", "-o", "/tmp/x.lowbit"], message: "alexnet"),
        BadInput(arguments: ["train", "--dataset", "imagenet:/x", "-o", "/tmp/x.lowbit"], message: "imagenet"),
        BadInput(arguments: ["train", "--dataset", "mnist", "--limit", "10", "--batch-size", "0", "-o", "/tmp/x.lowbit"], message: "batch size"),
    ]

    @Test(arguments: badInputs)
    func badInputIsOneClearLineAndNonZeroExit(_ input: BadInput) throws {
        let result = try CLI.run(input.arguments + ["--no-progress"].filter { _ in input.arguments.first == "train" })
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count >= 1 && lines.count <= 3, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(input.message), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func truncatedModelFileIsAClearError() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = try writeCSV(directory, rows: 40)
        let model = directory.appendingPathComponent("m.lowbit").path
        let train = try CLI.run(["train", "--hidden", "4", "--dataset", "csv:\(csv)", "--epochs", "1", "-o", model, "--no-progress"])
        #expect(train.status == 0, "\(train.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: model))
        let result = try CLI.run(["eval", model, "--dataset", "csv:\(csv)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains(model))
        #expect(!result.stderr.contains("Fatal error"))
    }
}
