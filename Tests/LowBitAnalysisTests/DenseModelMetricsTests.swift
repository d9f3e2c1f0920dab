import LowBitIO
import Testing
@testable import LowBitAnalysis

/// Hand-computed sizes and costs of TestModels.denseSpec (8 -> 3 -> relu -> 2) under each policy.
/// Energy uses the default 45 nm table: fp32 mult 3.7 / add 0.9, int8 mult 0.2 / add 0.03 pJ,
/// SRAM 20 pJ per 64-bit read, DRAM 640 pJ per 32-bit word.
struct DenseModelMetricsTests {
    /// fc1 float: weights 3x8 = 24, bias 3 -> 27 params, 27 * 4 = 108 bytes.
    /// MACs 8 * 3 = 24. BOPs: m = 3, n = 8: 24 * (32*32 + 32 + 32 + log2 8) = 24 * 1091 = 26184.
    /// Energy: compute 24 MACs * (3.7 + 0.9) + 3 bias adds * 0.9 = 110.4 + 2.7 = 113.1;
    /// memory 27 words * 640 + input 8 * 32 bits = 4 SRAM reads * 20 = 17280 + 80; total 17473.1.
    /// relu1: 3 compares * 0.9 = 2.7, input 96 bits = 2 reads = 40; total 42.7.
    /// fc2 float: 6 + 2 = 8 params, 32 bytes, 6 MACs; BOPs 2 * 3 * (1024 + 64 + log2 3);
    /// compute 6 * 4.6 + 2 * 0.9 = 29.4; memory 8 * 640 + 2 * 20 = 5160; total 5189.4.
    @Test func floatModel() throws {
        let report = try TestModels.report(TestModels.denseSpec, "float.lowbit")
        let fc1 = try TestModels.row(report, "fc1")
        #expect(fc1.weightPrecision == .float32 && fc1.inputPrecision == .float32)
        #expect(fc1.parameterCount == 27 && fc1.nonzeroCount == 27 && fc1.prunedFraction == 0)
        #expect(fc1.packedBytes == 108 && fc1.float32Bytes == 108 && fc1.compression == 1)
        #expect(fc1.operations == OperationCounts(multiplyAccumulates: 24, otherAdditions: 3, activationBitsRead: 256))
        #expect(fc1.bitOperations == 26184)
        #expect(close(fc1.energy.computePicojoules, 113.1) && close(fc1.energy.memoryPicojoules, 17360))

        let relu = try TestModels.row(report, "relu1")
        #expect(relu.weightPrecision == nil && relu.parameterCount == 0 && relu.packedBytes == 0 && relu.compression == nil)
        #expect(relu.bitOperations == 0 && close(relu.energy.totalPicojoules, 42.7))

        let fc2 = try TestModels.row(report, "fc2")
        #expect(fc2.parameterCount == 8 && fc2.packedBytes == 32 && fc2.operations.multiplyAccumulates == 6)
        #expect(close(fc2.bitOperations, 6 * (1088 + 1.584962500721156)))
        #expect(close(fc2.energy.totalPicojoules, 5189.4))

        let total = report.total
        #expect(total.parameterCount == 35 && total.packedBytes == 140 && total.compression == 1)
        #expect(total.operations.multiplyAccumulates == 30 && total.operations.otherOperations == 3 + 3 + 2)
        #expect(close(total.bitOperations, 26184 + 6 * 1089.584962500721156))
        #expect(close(total.energy.totalPicojoules, 17473.1 + 42.7 + 5189.4))
    }

    /// fc1 binary weights (per-channel alpha) and binary inputs; fc2 stays float.
    /// Bytes: 24 weights * 1 bit = 3 bytes + 3 alphas * 4 + 3 biases * 4 = 27; 108 / 27 = 4x.
    /// BOPs: 24 * (1*1 + 1 + 1 + 3) = 144.
    /// Energy: a binary MAC = XNOR + popcount = 2 * 0.03 / 8 = 0.0075 pJ; 24 MACs = 0.18;
    /// 3 bias adds * 0.9 = 2.7; 3 alpha multiplies * 3.7 = 11.1; compute 13.98.
    /// Memory: 27 bytes = 7 words * 640 = 4480; input 8 * 1 bit = 1 SRAM read = 20; 4500.
    @Test func binaryFirstLayer() throws {
        let policy = TestModels.firstLayer("fc1", "binary", weight: TestModels.binaryWeight, input: TestModels.binaryInput)
        let report = try TestModels.report(TestModels.denseSpec, "binary.lowbit", policy: policy)
        let fc1 = try TestModels.row(report, "fc1")
        #expect(fc1.weightPrecision?.label == "binary" && fc1.weightPrecision?.bits == 1 && fc1.inputPrecision.bits == 1)
        #expect(fc1.packedBytes == 27 && fc1.compression == 4)
        #expect(fc1.operations == OperationCounts(multiplyAccumulates: 24, otherAdditions: 3, otherMultiplications: 3,
                                                  activationBitsRead: 8))
        #expect(fc1.bitOperations == 144)
        #expect(close(fc1.energy.computePicojoules, 13.98) && close(fc1.energy.memoryPicojoules, 4500))
        #expect(try TestModels.row(report, "fc2").weightPrecision == .float32)
        #expect(report.policyName == "binary" && report.total.packedBytes == 27 + 32)
    }

    /// fc1 FGQ ternary in groups of 4 with 8-bit inputs. Rows of 8 -> 2 groups per row, 6 alphas.
    /// Bytes: 24 * 2 bits = 6 + 6 alphas * 4 + 3 biases * 4 = 42. BOPs: 24 * (8*2 + 8 + 2 + 3) = 696.
    /// Energy: a ternary x int8 MAC is one 8-bit add (0.03): 24 * 0.03 = 0.72; bias 2.7;
    /// alpha multiplies: 3 outputs * 2 groups * 3.7 = 22.2; compute 25.62.
    /// Memory: 42 bytes = 11 words * 640 = 7040; input 8 * 8 bits = 1 read = 20; 7060.
    @Test func fgqGroupOfFourFirstLayer() throws {
        let policy = TestModels.firstLayer("fc1", "fgq4", weight: TestModels.fgq4, input: TestModels.int8Input)
        let fc1 = try TestModels.row(try TestModels.report(TestModels.denseSpec, "fgq.lowbit", policy: policy), "fc1")
        #expect(fc1.weightPrecision?.label == "ternary" && fc1.inputPrecision.label == "int8")
        #expect(fc1.packedBytes == 42 && close(fc1.compression!, 108.0 / 42))
        #expect(fc1.operations.otherMultiplications == 6)
        #expect(fc1.bitOperations == 696)
        #expect(close(fc1.energy.computePicojoules, 25.62) && close(fc1.energy.memoryPicojoules, 7060))
    }

    /// int8 weights (symmetric, per channel) and 8-bit inputs everywhere.
    /// fc1: 24 + 3 scales * 4 + 12 = 48 bytes (2.25x); BOPs 24 * (64 + 16 + 3) = 1992;
    /// an int8 MAC = 0.2 + 0.03 = 0.23: 24 * 0.23 = 5.52 + bias 2.7 + scales 3 * 3.7 = 11.1 -> 19.32;
    /// memory 12 words * 640 + 1 read * 20 = 7700.
    /// fc2: 6 + 2 * 4 + 2 * 4 = 22 bytes; BOPs 6 * (80 + log2 3); compute 6 * 0.23 + 2 * 0.9 + 2 * 3.7
    /// = 10.58; memory 6 words * 640 + input 3 * 8 bits = 1 read * 20 = 3860.
    @Test func int8Everywhere() throws {
        let report = try TestModels.report(TestModels.denseSpec, "int8.lowbit", policy: TestModels.int8Everywhere)
        let fc1 = try TestModels.row(report, "fc1"), fc2 = try TestModels.row(report, "fc2")
        #expect(fc1.packedBytes == 48 && fc1.compression == 2.25 && fc1.bitOperations == 1992)
        #expect(close(fc1.energy.computePicojoules, 19.32) && close(fc1.energy.memoryPicojoules, 7700))
        #expect(fc2.packedBytes == 22 && close(fc2.bitOperations, 6 * (80 + 1.584962500721156)))
        #expect(close(fc2.energy.computePicojoules, 10.58) && close(fc2.energy.memoryPicojoules, 3860))
        #expect(try TestModels.row(report, "relu1").inputPrecision == .float32)
    }

    /// 6 of fc1's 24 weights are exactly zero: f_p = 0.25, nonzero = 18 + 3 biases = 21.
    /// Float: BOPs 24 * (0.75 * 1024 + 64 + 3) = 20040; MAC energy 0.75 * 24 * 4.6 = 82.8, + 2.7 bias.
    /// Binary: BOPs 24 * (0.75 * 1 + 1 + 1 + 3) = 138; bytes unchanged (dense packing).
    @Test func prunedWeights() throws {
        let zeros = ["fc1.weight": 6]
        let float = try TestModels.row(try TestModels.report(TestModels.denseSpec, "p.lowbit", zeros: zeros), "fc1")
        #expect(float.nonzeroCount == 21 && float.parameterCount == 27 && float.prunedFraction == 0.25)
        #expect(float.bitOperations == 20040 && float.packedBytes == 108)
        #expect(close(float.energy.computePicojoules, 85.5))

        let policy = TestModels.firstLayer("fc1", "binary", weight: TestModels.binaryWeight, input: TestModels.binaryInput)
        let binary = try TestModels.row(try TestModels.report(TestModels.denseSpec, "pb.lowbit", policy: policy, zeros: zeros), "fc1")
        #expect(binary.bitOperations == 138 && binary.packedBytes == 27)
    }

    /// Zeros in a bias count against `nonzero` but not against the pruned fraction of the weight.
    @Test func zeroBiasesAreNotPruning() throws {
        let fc1 = try TestModels.row(try TestModels.report(TestModels.denseSpec, "b.lowbit", zeros: ["fc1.bias": 2]), "fc1")
        #expect(fc1.nonzeroCount == 25 && fc1.prunedFraction == 0 && fc1.bitOperations == 26184)
    }

    @Test func accuracyComesFromTheMetadataUnlessEvaluated() throws {
        let archive = try TestModels.archive(TestModels.denseSpec, accuracy: 0.875)
        let stored = try ModelReport(analyzing: archive, source: "m.lowbit")
        #expect(stored.accuracy == 0.875 && stored.accuracySource == .metadata && stored.dataset == "test-set")
        let evaluated = try ModelReport(analyzing: archive, source: "m.lowbit", evaluatedAccuracy: 0.5, latencyMicroseconds: 12)
        #expect(evaluated.accuracy == 0.5 && evaluated.accuracySource == .evaluation && evaluated.total.latencyMicroseconds == 12)
        let none = try ModelReport(analyzing: try TestModels.archive(TestModels.denseSpec), source: "m.lowbit")
        #expect(none.accuracy == nil && none.accuracySource == nil && none.total.latencyMicroseconds == nil)
    }
}
