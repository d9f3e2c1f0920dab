import Foundation
import LowBitIO
import LowBitTensor
import Testing

/// `lowbit quantize-tensors` against values worked out by hand from the formulas of issue 4.
@Suite(.serialized)
struct QuantizeTensorsTests {
    func roundTrip(_ values: [Float], shape: [Int], _ arguments: [String]) throws -> [Float] {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.safetensors").path
        let output = directory.appendingPathComponent("out.safetensors").path
        try SafetensorsFile(tensors: [StoredTensor(name: "w", tensor: Tensor(shape: shape, data: values)),
                                      StoredTensor(name: "steps", shape: [2], values: [Int32(7), 9])]).write(to: input)
        let result = try CLI.run(["quantize-tensors", input] + arguments + ["-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try SafetensorsFile.read(from: output)
        #expect(try file.tensor(named: "steps").values(as: Int32.self) == [7, 9])
        return try file.tensor(named: "w").floatTensor().data
    }

    @Test func uniformRoundsHalfToEven() throws {
        // 3-bit symmetric, per tensor: scale = max|w| / 3 = 1, so codes are round_half_even(w).
        let out = try roundTrip([3, 2.5, -1.5, 0.5, -0.5, 1.2], shape: [6], ["--scheme", "uniform", "--bits", "3"])
        #expect(out == [3, 2, -2, 0, 0, 1])
    }

    @Test func fgqOptimalDeltaPerGroup() throws {
        // Group [4,1,1,1]: (sum of top-k)^2/k = 16, 12.5, 12.33, 12.25 -> k = 1, alpha = 4.
        // Group [2,2,1,-3]: sorted 3,2,2,1 -> 9, 12.5, 16.33, 16 -> k = 3, alpha = 7/3.
        let out = try roundTrip([4, 1, 1, 1, 2, 2, 1, -3], shape: [1, 8],
                                ["--scheme", "fgq", "--granularity", "group", "--group", "4", "--delta", "optimal"])
        let a: Float = 7.0 / 3.0
        let expected: [Float] = [4, 0, 0, 0, a, a, 0, -a]
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func fixedPointSaturatesToTheTwosComplementRange() throws {
        // Q1.2 with a sign bit: 4 bits, codes -8...7, step 0.25 -> range [-2, 1.75].
        let out = try roundTrip([0.3, 1.9, -2.6, -0.125], shape: [4], ["--scheme", "fixed", "--int-bits", "1", "--frac-bits", "2"])
        #expect(out == [0.25, 1.75, -2, 0])
    }

    @Test func badArgumentsAreClearErrors() throws {
        let missing = try CLI.run(["quantize-tensors", "/nonexistent.safetensors", "--scheme", "twn", "-o", "/tmp/x.safetensors"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent.safetensors"))
        let noBits = try CLI.run(["quantize-tensors", "/nonexistent.safetensors", "--scheme", "uniform", "-o", "/tmp/x.safetensors"])
        #expect(noBits.status != 0 && noBits.stderr.contains("--bits"))
    }
}
