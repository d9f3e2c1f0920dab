import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
@testable import LowBitRuntime
import LowBitTensor
import Synchronization
import Testing

/// A packed model computes what the training-side model computes: the same logits for float models
/// (BatchNorm folded, up to float rounding), the same predictions for binary and hybrid ones.
struct PackedEquivalenceTests {
    static let floatModels: [(String, ModelSpec)] = [
        ("mlp", try! Models.mlp(inputShape: [28, 28, 1], hidden: [64, 32], classCount: 10, batchNorm: true)),
        ("resnet", try! Models.resnet20(inputShape: [28, 28, 1], classCount: 10, widths: [4, 8, 8], blocksPerStage: 1)),
        ("lenet", try! Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [4, 8, 16])),
        ("vgg-small", try! Models.vggSmall(inputShape: [28, 28, 1], classCount: 10, widths: [4, 8, 8])),
    ]

    @Test("float models give the training-side logits within 1e-4 relative", arguments: floatModels.indices)
    func floatLogits(index: Int) throws {
        let (name, spec) = Self.floatModels[index]
        let model = try PackFixtures.model(spec, policy: "float", seed: 7)
        let data = try PackFixtures.mnistSlice(16)
        let expected = try PackFixtures.reference(model, data.features)
        let actual = try PackFixtures.packed(model).predict(data.features)
        #expect(actual.shape == expected.shape)
        let scale = expected.data.map(abs).max()!
        let worst = zip(actual.data, expected.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "\(name): largest difference \(worst), logits up to \(scale)")
    }

    static let binaryModels: [(String, ModelSpec, String)] = [
        ("mlp binary-all", try! Models.mlp(inputShape: [28, 28, 1], hidden: [128, 128], classCount: 10, batchNorm: true,
                                           activation: .hardTanh), "binary-all"),
        ("mlp hybrid-fp-first-last", try! Models.mlp(inputShape: [28, 28, 1], hidden: [128, 128], classCount: 10, batchNorm: true,
                                                     activation: .hardTanh), "hybrid-fp-first-last"),
        ("mlp binary", try! Models.mlp(inputShape: [28, 28, 1], hidden: [128, 128], classCount: 10, batchNorm: true,
                                       activation: .hardTanh), "binary"),
        ("resnet hybrid-fp-shortcuts", try! Models.resnet20(inputShape: [28, 28, 1], classCount: 10, widths: [8, 8, 16],
                                                            blocksPerStage: 1, activation: .hardTanh), "hybrid-fp-shortcuts"),
        ("resnet hybrid-fp-shortcuts, a shortcut per conv", try! Models.resnet20(inputShape: [28, 28, 1], classCount: 10,
                                                                              widths: [8, 8, 16], blocksPerStage: 1, activation: .hardTanh,
                                                                              shortcutPerConvolution: true), "hybrid-fp-shortcuts"),
        ("resnet binary-all", try! Models.resnet20(inputShape: [28, 28, 1], classCount: 10, widths: [8, 8, 16],
                                                   blocksPerStage: 1, activation: .hardTanh), "binary-all"),
        // Binary conv -> hard tanh -> max pool -> binary conv: the pool runs on sign bits.
        ("vgg-small hybrid-fp-first-last", try! Models.vggSmall(inputShape: [28, 28, 1], classCount: 10, widths: [8, 16, 16],
                                                                activation: .hardTanh), "hybrid-fp-first-last"),
        // Binary conv -> hard tanh -> max pool -> flatten -> binary dense: the pool on bits, then one row per sample.
        ("lenet binary", try! Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [8, 16, 64], activation: .hardTanh),
         "binary"),
    ]

    @Test("binary and hybrid models predict what the training-side model predicts on MNIST", arguments: binaryModels.indices)
    func binaryPredictions(index: Int) throws {
        let (name, spec, policy) = Self.binaryModels[index]
        let model = try PackFixtures.model(spec, policy: policy, seed: 11)
        let data = try PackFixtures.mnistSlice(64)
        let expected = try PackFixtures.reference(model, data.features)
        let packed = try PackFixtures.packed(model)
        let actual = try packed.predict(data.features)
        let agree = zip(PackFixtures.argmax(actual), PackFixtures.argmax(expected)).filter { $0 == $1 }.count
        #expect(agree == data.count, "\(name): \(agree) of \(data.count) predictions agree")
        #expect(try packed.classify(data.features) == PackFixtures.argmax(actual))
    }

    /// The fused residual epilogue (sum, activation and next-layer sign bits inside the last binary
    /// convolution's output transform) changes no float: the same rounding order as the separate steps.
    @Test("fused residual blocks give the unfused logits bit for bit", arguments: [3, 4, 5])
    func fusedResidualsMatchUnfused(index: Int) throws {
        let (name, spec, policy) = Self.binaryModels[index]
        let model = try PackFixtures.model(spec, policy: policy, seed: 5)
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let data = try PackFixtures.mnistSlice(16)
        let fused = try PackedModel(archive: archive).predict(data.features)
        let unfused = try PackedModel(archive: archive, fusingResiduals: false).predict(data.features)
        #expect(fused.data.map(\.bitPattern) == unfused.data.map(\.bitPattern), "\(name)")
    }

    /// The packed hybrid-fp-shortcuts ResNet of `binaryModels` (sign bits, fused residuals, float layers).
    static func hybridResNet(seed: UInt64) throws -> PackedModel {
        let (_, spec, policy) = binaryModels[3]
        return try PackFixtures.packed(try PackFixtures.model(spec, policy: policy, seed: seed))
    }

    /// BLAS blocks a batch differently from a single row, so the float sums may round differently.
    @Test("a batch gives the logits of its samples run one at a time")
    func batchMatchesSingles() throws {
        let packed = try Self.hybridResNet(seed: 3)
        let data = try PackFixtures.mnistSlice(4)
        let batch = try packed.predict(data.features)
        for row in 0..<4 {
            let single = try packed.predict(data.features.slice(rows: row..<(row + 1)))
            let rowLogits = batch.data[(row * 10)..<(row * 10 + 10)]
            #expect(zip(single.data, rowLogits).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
    }
    /// The packed model applies the stored per-channel normalization itself: with three channels of
    /// different means and deviations (a CIFAR-shaped input), its logits are the training-side
    /// model's on the data loader's normalized input.
    @Test("per-channel input normalization of a three-channel model equals the data loader's")
    func threeChannelNormalization() throws {
        let spec = try Models.lenet(inputShape: [8, 8, 3], classCount: 5, channels: [4, 8, 16])
        let model = try PackFixtures.model(spec, policy: "float", seed: 5)
        let normalization = try Normalization(mean: [0.1, 0.5, -0.3], std: [0.5, 0.25, 2])
        let packed = try PackedModel(archive: ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: normalization)]))
        var rng = SeededGenerator(seed: 6)
        let raw = Tensor(shape: [3, 8, 8, 3], data: (0..<(3 * 8 * 8 * 3)).map { _ in rng.nextUniform() })
        let expected = try model(normalization.apply(to: raw), training: false)
        let actual = try packed.predict(raw)
        let scale = expected.data.map(abs).max()!
        let worst = zip(actual.data, expected.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "largest difference \(worst), logits up to \(scale)")
    }

    /// An app may call one model from several threads at once: the model holds no mutable state, and
    /// a caller that finds LowBit's pool busy runs its chunks itself. Four threads predicting at once
    /// get, each, the logits of a call made alone (binary sign bits, fused residuals and float layers).
    @Test("concurrent predictions from four threads equal the logits of one call alone")
    func concurrentCallers() throws {
        let packed = try Self.hybridResNet(seed: 4)
        let data = try PackFixtures.mnistSlice(8)
        let alone = try packed.predict(data.features)
        let results = Mutex<[Tensor?]>([Tensor?](repeating: nil, count: 4))
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            var last: Tensor?
            for _ in 0..<20 { last = try? packed.predict(data.features) }
            results.withLock { $0[caller] = last }
        }
        for (caller, result) in results.withLock({ $0 }).enumerated() {
            #expect(result?.data == alone.data, "caller \(caller)")
        }
    }
    /// A batch larger than `sliceSamples` (1 MB of float activations: 41 samples of this ResNet's
    /// 28 x 28 x 8) runs in slices of that many, so it gives the logits of those slices run apart;
    /// a wrong shape is still reported as given.
    @Test("a batch past sliceSamples runs in slices: the logits of the slices run apart")
    func largeBatchesRunInSlices() throws {
        let packed = try Self.hybridResNet(seed: 8)
        #expect(packed.largestActivation == 28 * 28 * 8)
        #expect(packed.sliceSamples == PackedModel.sliceBytes / (4 * 28 * 28 * 8))
        let slice = packed.sliceSamples, data = try PackFixtures.mnistSlice(2 * slice + 3)
        let whole = try packed.predict(data.features)
        var parts: [Float] = []
        for start in stride(from: 0, to: data.count, by: slice) {
            parts += try packed.predict(data.features.slice(rows: start..<min(data.count, start + slice))).data
        }
        #expect(whole.shape == [data.count, 10] && whole.data == parts)
        let wrong = Tensor(shape: [2 * slice, 28, 27, 1], data: [Float](repeating: 0, count: 2 * slice * 28 * 27))
        #expect(throws: LowBitError.shapeMismatch("the model takes inputs [batch] + [28, 28, 1] with batch >= 1, got [\(2 * slice), 28, 27, 1]")) {
            try packed.predict(wrong)
        }
    }
    /// Pools between a binary convolution and a sign reader run on the sign bits the convolution
    /// writes: a binary VGG's first two (the last feeds the float head), and a binary LeNet's second
    /// (its reader behind a flatten, which regroups the bits into one row per sample). The logits are
    /// bit for bit those of float pools.
    @Test("max pools between binary convolutions and sign readers run on sign bits: the float pools' logits, bit for bit",
          arguments: [(binaryModels.count - 2, 2), (binaryModels.count - 1, 1)])
    func signBitPools(index: Int, signPools: Int) throws {
        let (name, spec, policy) = Self.binaryModels[index]
        let model = try PackFixtures.model(spec, policy: policy, seed: 12)
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let data = try PackFixtures.mnistSlice(16)
        let packed = try PackedModel(archive: archive), floatPools = try PackedModel(archive: archive, compactPools: false)
        #expect(packed.operations.filter { $0 is SignMaxPoolOperation }.count == signPools, "\(name): \(packed.layers)")
        #expect(!floatPools.operations.contains { $0 is SignMaxPoolOperation })
        #expect(try packed.predict(data.features).data.map(\.bitPattern) == floatPools.predict(data.features).data.map(\.bitPattern))
        // The VGG's last binary convolution feeds the float head: its hard tanh joins its output
        // transform, the same floats as the separate step.
        let unfused = try PackedModel(archive: archive, fusingResiduals: false)
        if name.hasPrefix("vgg") {
            #expect(!packed.layers.contains { $0.name == "stage3.conv2.act" }, "\(packed.layers)")
            #expect(unfused.layers.contains { $0.name == "stage3.conv2.act" })
        }
        #expect(try packed.predict(data.features).data.map(\.bitPattern) == unfused.predict(data.features).data.map(\.bitPattern))
    }
}
