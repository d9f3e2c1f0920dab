import Foundation
import LowBitIO
import LowBitTensor
import Testing

/// `lowbit pack`, `lowbit run` and `lowbit bench MODEL` as scripts call them.
@Suite(.serialized)
struct PackRunBenchTests {
    /// A binary MLP trained for one epoch on 300 MNIST images, packed: the paths of both files.
    func trainedAndPacked(_ directory: URL) throws -> (model: String, packed: String) {
        let model = directory.appendingPathComponent("binary.lowbit").path
        let packed = directory.appendingPathComponent("binary.packed.lowbit").path
        let train = try CLI.run(["train", "--model", "mlp", "--hidden", "64,64", "--activation", "hardtanh", "--batch-norm",
                                 "--policy", "hybrid-fp-first-last", "--dataset", "mnist", "--limit", "300", "--epochs", "1",
                                 "--batch-size", "50", "-o", model, "--no-progress"])
        #expect(train.status == 0, "\(train.stderr)")
        let pack = try CLI.run(["pack", model, "-o", packed, "--json"])
        #expect(pack.status == 0, "\(pack.stderr)")
        let report = try CLI.json(pack.stdout)
        #expect((report["layers"] as? [Any])?.isEmpty == false)
        #expect((report["file_bytes"] as? Int ?? .max) < (report["source_bytes"] as? Int ?? 0))
        return (model, packed)
    }

    @Test("lowbit run writes the logits of the packed model, predicting what the trained model predicts")
    func runMatchesTrainedModel() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, packed) = try trainedAndPacked(directory)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor(shape: [20, 28, 28, 1], data: (0..<(20 * 784)).map { _ in rng.nextUniform() })
        let input = directory.appendingPathComponent("x.npy").path
        try NumPyArray(x).write(to: input)
        var logits: [Tensor] = []
        for file in [model, packed] {
            let output = directory.appendingPathComponent(UUID().uuidString + ".npy").path
            let run = try CLI.run(["run", file, "--input", input, "-o", output, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect((try CLI.json(run.stdout)["peak_resident_bytes"] as? Int ?? 0) > 0)
            logits.append(try NumPyArray.read(from: output).floatTensor())
        }
        #expect(logits[1].shape == [20, 10])
        func argmax(_ t: Tensor, _ row: Int) -> Int { (0..<10).max { t.data[row * 10 + $0] < t.data[row * 10 + $1] }! }
        #expect((0..<20).allSatisfy { argmax(logits[0], $0) == argmax(logits[1], $0) })
        // --batch-size: slices of 7 (7 + 7 + 6) give the logits of one pass of 20, up to float
        // summation order in the float layers (sgemm blocks differ with the row count).
        let sliced = directory.appendingPathComponent("sliced.npy").path
        let slicedRun = try CLI.run(["run", packed, "--input", input, "-o", sliced, "--batch-size", "7"])
        #expect(slicedRun.status == 0 && slicedRun.stderr.contains("run 20/20"), "progress: \(slicedRun.stderr)")
        let slices = try NumPyArray.read(from: sliced).floatTensor()
        #expect(slices.shape == [20, 10] && zip(slices.data, logits[1].data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        let refused = try CLI.run(["run", packed, "--input", input, "-o", sliced, "--batch-size", "0"])
        #expect(refused.status != 0 && refused.stderr.contains("--batch-size"))
        // A NaN input is refused by name, not run (int8 layers would quantize it to 0), and nothing is written.
        var bad = x.data
        bad[5 * 784 + 100] = .nan
        let nanInput = directory.appendingPathComponent("nan.npy").path, nanOutput = directory.appendingPathComponent("nan-out.npy").path
        try NumPyArray(Tensor(shape: x.shape, data: bad)).write(to: nanInput)
        for command in [["run", packed, "--input", nanInput, "-o", nanOutput], ["bench", packed, "--input", nanInput, "--repeat", "1"]] {
            let nan = try CLI.run(command)
            #expect(nan.status != 0 && nan.stderr.contains("nan at flat index \(5 * 784 + 100)"), "\(command[0]): \(nan.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: nanOutput))
    }

    @Test("lowbit bench MODEL reports latency per batch size and per layer beside the bench subcommands")
    func benchModel() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, packed) = try trainedAndPacked(directory)
        let times = directory.appendingPathComponent("times.csv").path
        let bench = try CLI.run(["bench", packed, "--threads", "1", "--batch-sizes", "1,8", "--repeat", "3", "--json", "--times", times])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try CLI.json(bench.stdout)
        let latency = report["latency_us"] as? [String: Double] ?? [:]
        #expect(Set(latency.keys) == ["1", "8"] && latency.values.allSatisfy { $0 > 0 })
        let fastest = report["latency_min_us"] as? [String: Double] ?? [:]
        #expect(Set(fastest.keys) == ["1", "8"] && fastest.allSatisfy { $0.value > 0 && $0.value <= latency[$0.key]! })
        // --times: every timed run in order; per batch size their median and minimum are the report's.
        let lines = try String(contentsOfFile: times, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",") }
        #expect(lines.first == ["batch", "run", "us"] && lines.count == 7)
        for batch in ["1", "8"] {
            let runs = lines.dropFirst().filter { $0[0] == batch }
            #expect(runs.map { $0[1] } == ["0", "1", "2"])
            let us = runs.compactMap { Double($0[2]) }.sorted()
            #expect(us.count == 3 && abs(us[1] - latency[batch]!) < 0.001 && abs(us[0] - fastest[batch]!) < 0.001)
        }
        let layers = report["layers"] as? [[String: Any]] ?? []
        #expect(layers.map { $0["kind"] as? String } == ["dense", "hardTanh", "binaryDense", "hardTanh", "dense"])
        #expect(try CLI.run(["bench", "train", "--steps", "1", "--batch-size", "8", "--json"]).status == 0)
        #expect(try CLI.run(["bench", "kernels", "--help"]).status == 0)
        let info = try CLI.run(["info", packed])
        #expect(info.status != 0 && info.stderr.contains("packed model") && info.stderr.contains("lowbit run"))
    }

    @Test("running a file that is neither packed nor a model fails on one line")
    func runRefusesTensorBags() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bag.lowbit").path
        try LowBitArchive(metadata: [:], tensors: []).write(to: path)
        let bench = try CLI.run(["bench", path])
        #expect(bench.status != 0 && bench.stderr.contains("not a packed model"))
    }
}
