import Foundation
import LowBitIO
import LowBitNN
import LowBitTensor
import Testing
@testable import LowBitQuant

/// Precision policies: presets resolve against architectures, apply to layers, survive a save/load,
/// and post-training steps (calibration, BatchNorm re-estimation) do what they claim.
struct PolicyTests {
    func resnet() throws -> Model {
        var rng = SeededGenerator(seed: 1)
        return try Model(spec: try Models.resnet20(inputShape: [8, 8, 1], classCount: 3, widths: [4, 8, 8]), rng: &rng)
    }

    @Test func globMatching() {
        #expect(globMatch("*", "anything.at.all"))
        #expect(globMatch("stage*.block*.conv?", "stage2.block0.conv1"))
        #expect(!globMatch("stage*.block*.conv?", "stage2.block0.shortcut.conv"))
        #expect(globMatch("fc", "fc"))
        #expect(!globMatch("fc", "fc2"))
        #expect(globMatch("*.shortcut.*", "stage3.block0.shortcut.conv"))
        #expect(globMatch("a*b*c", "aXXbYYc") && !globMatch("a*b*c", "aXXbYY"))
    }

    @Test func binaryPresetKeepsFirstAndLastLayerFloat() throws {
        let model = try resnet()
        let policy = try PolicyPresets.make("binary", for: model.spec)
        try model.apply(policy: policy)
        let byName = Dictionary(uniqueKeysWithValues: model.quantizableLayers.map { ($0.name, $0) })
        #expect(byName["stem.conv"]!.weightQuantizer == nil && byName["stem.conv"]!.inputQuantizer == nil)
        #expect(byName["fc"]!.weightQuantizer == nil)
        #expect(byName["fc"]!.inputQuantizer?.spec.scheme == "binary-activation")
        #expect(byName["stage2.block0.conv1"]!.weightQuantizer?.spec.scheme == "binary")
        #expect(byName["stage2.block0.shortcut.conv"]!.weightQuantizer?.spec.scheme == "binary")
        #expect(byName["stage2.block0.conv1"]!.weight.clip == -1...1)
        #expect(byName["stage2.block0.conv1"]!.weight.value.data.allSatisfy { abs($0) <= 1 })
    }

    @Test func hybridShortcutsPresetBinarizesOnlyBodyConvolutions() throws {
        let model = try resnet()
        try model.apply(policy: try PolicyPresets.make("hybrid-fp-shortcuts", for: model.spec))
        let binary = model.quantizableLayers.filter { $0.weightQuantizer != nil }.map(\.name)
        #expect(binary.count == 18)   // 9 blocks x 2 body convolutions
        #expect(binary.allSatisfy { $0.hasSuffix(".conv1") || $0.hasSuffix(".conv2") })
        #expect(!binary.contains { $0.contains("shortcut") })
        var rng = SeededGenerator(seed: 0)
        let mlp = try Model(spec: try Models.mlp(inputShape: [4], hidden: [4], classCount: 2), rng: &rng)
        #expect(throws: LowBitError.self) { try PolicyPresets.make("hybrid-fp-shortcuts", for: mlp.spec) }
        #expect(throws: LowBitError.self) { try PolicyPresets.make("binary-ish", for: mlp.spec) }
    }

    @Test func ternaryPresetUsesGroupsAndActivationBits() throws {
        let model = try resnet()
        let policy = try PolicyPresets.make("ternary-fgq", for: model.spec, options: .init(groupSize: 16, activationBits: 4))
        let rule = try #require(policy.rule(forLayer: "stage1.block1.conv2"))
        #expect(rule.weight?.scheme == "fgq" && rule.weight?.groupSize == 16)
        #expect(rule.input?.bits == 4 && rule.input?.signed == false)
        #expect(policy.rule(forLayer: "stem.conv")?.input?.signed == true)
        // The first layer reads the data at 8 bits whatever the activation bits; the last at 4.
        #expect(policy.rule(forLayer: "stem.conv")?.input?.bits == 8)
        #expect(policy.rule(forLayer: "fc")?.input?.bits == 4 && policy.rule(forLayer: "fc")?.weight?.bits == 8)
    }

    @Test func quantizedForwardUsesQuantizedWeightsAndSTEReachesLatentWeights() throws {
        var rng = SeededGenerator(seed: 2)
        let dense = Dense(inFeatures: 3, outFeatures: 2, bias: false, name: "fc", rng: &rng)
        dense.weight.value = Tensor(shape: [2, 3], data: [0.5, -0.25, 2, -1, 0.1, 0])
        dense.weightQuantizer = try makeQuantizer(QuantizerSpec(scheme: "binary", granularity: "none"))
        let x = Tensor(shape: [1, 3], data: [1, 2, 3])
        let y = try dense.forward(x, training: true)
        // sign weights: row0 = [+1, -1, +1] -> 1 - 2 + 3 = 2; row1 = [-1, +1, +1] (sign(0) = +1) -> -1 + 2 + 3 = 4
        #expect(y.data == [2, 4])
        dense.weight.zeroGrad()
        _ = dense.backward(Tensor(shape: [1, 2], data: [1, 1]))
        // dL/dWq = x for each row; the STE passes it where |w| <= 1, so w = 2 gets no gradient.
        #expect(dense.weight.grad.data == [1, 2, 0, 1, 2, 3])
    }

    @Test func calibrationSetsRangesAndTheyRoundTripThroughAFile() throws {
        let model = try resnet()
        try model.apply(policy: try PolicyPresets.make("int8", for: model.spec, options: .init(calibration: "minmax")))
        var rng = SeededGenerator(seed: 3)
        let batches = (0..<3).map { _ in
            (x: Tensor(shape: [4, 8, 8, 1], data: (0..<256).map { _ in rng.nextNormal() }), y: [Int32](repeating: 0, count: 4))
        }
        try model.calibrate(batches: batches)
        let stem = try #require(model.quantizableLayers.first)
        let calibrated = try #require(stem.inputQuantizer?.spec.rangeMax)
        let largest = batches.flatMap { $0.x.data }.map(abs).max()!
        #expect(abs(calibrated - largest) <= largest * 0.01)
        let before = try model(batches[0].x)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).lowbit").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path, metadata: try model.precisionMetadata(policy: PolicyPresets.make("int8", for: model.spec)))
        let (loaded, metadata) = try Model.load(from: path)
        try loaded.restorePrecision(from: metadata)
        #expect(loaded.quantizerRecord == model.quantizerRecord)
        #expect(try loaded(batches[0].x) == before)
    }

    @Test func batchNormReestimationAveragesBatchStatistics() throws {
        var rng = SeededGenerator(seed: 4)
        let model = try Model(spec: try Models.mlp(inputShape: [2], hidden: [3], classCount: 2, batchNorm: true), rng: &rng)
        let batches = (0..<4).map { b in
            (x: Tensor(shape: [5, 2], data: (0..<10).map { _ in rng.nextNormal() + Float(b) }), y: [Int32](repeating: 0, count: 5))
        }
        try model.reestimateBatchNormStatistics(batches: batches)
        let norm = try #require(model.allLayers.compactMap { $0 as? BatchNorm }.first)
        let fc = try #require(model.layers.compactMap { $0 as? Dense }.first)
        // Oracle: the mean over batches of each batch's mean of fc1's outputs.
        var expected = [Float](repeating: 0, count: 3)
        for batch in batches {
            let out = try fc.forward(batch.x, training: false)
            for c in 0..<3 { expected[c] += (0..<5).map { out[$0, c] }.reduce(0, +) / 5 / 4 }
        }
        for c in 0..<3 { #expect(abs(norm.runningMean.value.data[c] - expected[c]) < 1e-5) }
        #expect(!norm.cumulativeStatistics)
    }
}
