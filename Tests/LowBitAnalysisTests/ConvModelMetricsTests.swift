import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitAnalysis

/// Hand-computed sizes and costs of TestModels.convSpec: input 4x4x1 -> conv 3x3 1->2 (same, no
/// bias) -> 4x4x2 -> bn -> relu -> maxpool 2 -> 2x2x2 -> flatten -> fc 8->3.
/// For the conv: n = 3*3*1 = 9 inputs per output, m = 2 channels * 16 positions = 32 outputs,
/// MACs = 4*4*2*3*3*1 = 288, log2 9 = 3.169925001442312.
struct ConvModelMetricsTests {
    static let log2of9 = 3.169925001442312

    /// conv float: 18 weights, 72 bytes. BOPs 288 * (1024 + 64 + log2 9).
    /// Energy: 288 * 4.6 = 1324.8; memory 18 words * 640 + 16 * 32 bits = 8 reads * 20 = 11520 + 160.
    /// bn: 2 channels -> gamma, beta = 4 params, folded scale + shift = 16 bytes; 32 elements:
    /// 32 * 3.7 + 32 * 0.9 = 147.2; memory 4 words * 640 + 1024 bits = 16 reads * 20 = 2560 + 320.
    /// relu: 32 * 0.9 = 28.8 + 320. pool: 8 outputs * 3 compares * 0.9 = 21.6 + 320. flatten: 0.
    /// fc float 8->3: 17473.1 (as DenseModelMetricsTests.floatModel's fc1).
    @Test func floatModel() throws {
        let report = try TestModels.report(TestModels.convSpec, "cnn.lowbit")
        #expect(report.layers.map(\.name) == ["conv", "bn", "relu", "pool", "flatten", "fc"])
        #expect(report.layers.map(\.outputShape) == [[4, 4, 2], [4, 4, 2], [4, 4, 2], [2, 2, 2], [8], [3]])

        let conv = try TestModels.row(report, "conv")
        #expect(conv.parameterCount == 18 && conv.packedBytes == 72)
        #expect(conv.operations == OperationCounts(multiplyAccumulates: 288, activationBitsRead: 512))
        #expect(close(conv.bitOperations, 288 * (1088 + Self.log2of9)))
        #expect(close(conv.energy.computePicojoules, 1324.8) && close(conv.energy.memoryPicojoules, 11680))

        let bn = try TestModels.row(report, "bn")
        #expect(bn.weightPrecision == .float32 && bn.parameterCount == 4 && bn.packedBytes == 16 && bn.bitOperations == 0)
        #expect(bn.operations == OperationCounts(otherAdditions: 32, otherMultiplications: 32, activationBitsRead: 1024))
        #expect(close(bn.energy.totalPicojoules, 147.2 + 2880))

        #expect(close(try TestModels.row(report, "relu").energy.totalPicojoules, 28.8 + 320))
        let pool = try TestModels.row(report, "pool")
        #expect(pool.operations.otherAdditions == 24 && close(pool.energy.totalPicojoules, 21.6 + 320))
        #expect(try TestModels.row(report, "flatten").energy == .zero)

        let total = report.total
        #expect(total.parameterCount == 18 + 4 + 27 && total.packedBytes == 72 + 16 + 108)
        #expect(total.operations.multiplyAccumulates == 288 + 24)
        #expect(total.operations.otherOperations == 64 + 32 + 24 + 3)
        #expect(close(total.bitOperations, 288 * (1088 + Self.log2of9) + 26184))
        #expect(close(total.energy.totalPicojoules, 13004.8 + 3027.2 + 348.8 + 341.6 + 17473.1))
    }

    /// conv binary (per-channel alpha, binary inputs): 18 bits = 3 bytes + 2 alphas * 4 = 11 bytes.
    /// BOPs 288 * (1 + 1 + 1 + log2 9). Energy: 288 * 0.0075 = 2.16 + 32 outputs * 1 alpha * 3.7 =
    /// 118.4 -> 120.56; memory 3 words * 640 + input 16 bits = 1 read * 20 = 1940.
    @Test func binaryConv() throws {
        let policy = TestModels.firstLayer("conv", "binary", weight: TestModels.binaryWeight, input: TestModels.binaryInput)
        let conv = try TestModels.row(try TestModels.report(TestModels.convSpec, "b.lowbit", policy: policy), "conv")
        #expect(conv.packedBytes == 11 && close(conv.compression!, 72.0 / 11))
        #expect(close(conv.bitOperations, 288 * (3 + Self.log2of9)))
        #expect(close(conv.energy.computePicojoules, 120.56) && close(conv.energy.memoryPicojoules, 1940))
    }

    /// conv FGQ groups of 4 over rows of 9 -> 3 groups per row, 6 alphas; 8-bit inputs.
    /// Bytes: 18 * 2 bits = 36 bits -> 5 bytes + 6 * 4 = 29. BOPs 288 * (16 + 8 + 2 + log2 9).
    /// Energy: 288 * 0.03 = 8.64 + 32 outputs * 3 groups * 3.7 = 355.2 -> 363.84;
    /// memory 8 words * 640 + 16 * 8 bits = 2 reads * 20 = 5160.
    @Test func fgqConv() throws {
        let policy = TestModels.firstLayer("conv", "fgq4", weight: TestModels.fgq4, input: TestModels.int8Input)
        let conv = try TestModels.row(try TestModels.report(TestModels.convSpec, "t.lowbit", policy: policy), "conv")
        #expect(conv.packedBytes == 29 && conv.operations.otherMultiplications == 96)
        #expect(close(conv.bitOperations, 288 * (26 + Self.log2of9)))
        #expect(close(conv.energy.computePicojoules, 363.84) && close(conv.energy.memoryPicojoules, 5160))
    }

    /// int8 everywhere: conv 18 bytes + 2 scales * 4 = 26; BOPs 288 * (64 + 16 + log2 9);
    /// 288 * 0.23 = 66.24 + 32 scale multiplies * 3.7 = 118.4 -> 184.64.
    @Test func int8Conv() throws {
        let conv = try TestModels.row(try TestModels.report(TestModels.convSpec, "i.lowbit", policy: TestModels.int8Everywhere), "conv")
        #expect(conv.packedBytes == 26 && close(conv.bitOperations, 288 * (80 + Self.log2of9)))
        #expect(close(conv.energy.computePicojoules, 184.64))
        #expect(try TestModels.row(try TestModels.report(TestModels.convSpec, "i.lowbit", policy: TestModels.int8Everywhere), "bn")
            .inputPrecision == .float32)
    }

    /// Half of the conv weights pruned: f_p = 0.5, BOPs 288 * (512 + 64 + log2 9), MAC energy halved.
    @Test func prunedConv() throws {
        let conv = try TestModels.row(try TestModels.report(TestModels.convSpec, "p.lowbit", zeros: ["conv.weight": 9]), "conv")
        #expect(conv.nonzeroCount == 9 && conv.prunedFraction == 0.5)
        #expect(close(conv.bitOperations, 288 * (576 + Self.log2of9)))
        #expect(close(conv.energy.computePicojoules, 662.4))
    }

    /// Rows in spec order with the residual first; the sum is its own row: 8 adds, both branches read.
    /// block.conv and block.shortcut: 1x1 2->2 on 2x2: 4 params, 4 positions * 2 * 2 = 16 MACs each.
    @Test func residualBlocksAreWalkedBodyThenShortcut() throws {
        let report = try TestModels.report(TestModels.residualSpec, "res.lowbit")
        #expect(report.layers.map(\.name) == ["block", "block.conv", "block.bn", "block.shortcut", "relu"])
        #expect(report.layers.map(\.depth) == [0, 1, 1, 1, 0])
        let block = try TestModels.row(report, "block")
        #expect(block.outputShape == [2, 2, 2] && block.parameterCount == 0)
        #expect(block.operations == OperationCounts(otherAdditions: 8, activationBitsRead: 2 * 8 * 32))
        #expect(report.total.operations.multiplyAccumulates == 32 && report.total.parameterCount == 4 + 4 + 4)
    }

    /// 5x5 input, 3x3 kernel: same -> ceil(5 / 2) = 3 at stride 2; valid -> (5 - 3) / 2 + 1 = 2.
    @Test(arguments: [(LayerSpec.Padding.same, 2, 3), (.valid, 2, 2), (.same, 1, 5), (.valid, 1, 3)])
    func convolutionOutputSizes(padding: LayerSpec.Padding, stride: Int, expected: Int) throws {
        let conv = LayerSpec(kind: .conv2d, name: "c", inChannels: 1, outChannels: 4, kernelSize: 3, stride: stride, padding: padding)
        #expect(try LayerShapes.outputShape(of: conv, input: [5, 5, 1]) == [expected, expected, 4])
    }

    @Test func inconsistentSpecsAndTensorsAreErrorsNamingTheFile() throws {
        var wrongInput = try TestModels.archive(TestModels.denseSpec)
        wrongInput.spec?.inputShape = [7]
        let error = lowBitError { _ = try ModelReport(analyzing: wrongInput, source: "bad.lowbit") }
        #expect(error?.description == "bad.lowbit: shape mismatch: fc1 expects [8] features per sample, got [7]")

        var shortWeight = LowBitArchive(spec: TestModels.denseSpec)
        try shortWeight.add(StoredTensor(name: "fc1.weight", tensor: Tensor(shape: [2, 2], data: [1, 2, 3, 4])))
        let tensorError = lowBitError { _ = try ModelReport(analyzing: shortWeight, source: "short.lowbit") }
        #expect(tensorError?.description.contains("'fc1.weight' has 4 values; the layer spec needs 24") == true)

        let noSpec = lowBitError { _ = try ModelReport(analyzing: LowBitArchive(), source: "bag.lowbit") }
        #expect(noSpec?.description.hasPrefix("bag.lowbit: the file holds no model architecture") == true)
    }
}
