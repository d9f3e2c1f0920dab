import Foundation
import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitNN

struct ModelTests {
    /// ResNet-20 parameter count by hand for 1-channel input, widths 16/32/64, projection shortcuts:
    /// conv weights 3x3 (no bias), BatchNorm gamma+beta, fc with bias.
    @Test func resnet20ParameterCountMatchesHandCount() throws {
        var rng = SeededGenerator(seed: 0)
        let model = try Model(spec: try Models.resnet20(inputShape: [28, 28, 1], classCount: 10), rng: &rng)
        let stem = 9 * 1 * 16 + 2 * 16
        let stage1 = 6 * (9 * 16 * 16 + 2 * 16)
        let stage2 = (9 * 16 * 32 + 2 * 32) + 5 * (9 * 32 * 32 + 2 * 32) + (16 * 32 + 2 * 32)
        let stage3 = (9 * 32 * 64 + 2 * 64) + 5 * (9 * 64 * 64 + 2 * 64) + (32 * 64 + 2 * 64)
        let fc = 64 * 10 + 10
        #expect(model.parameterCount == stem + stage1 + stage2 + stage3 + fc)
        #expect(try model(Tensor.zeros([2, 28, 28, 1])).shape == [2, 10])
    }

    @Test(arguments: ["mlp", "lenet", "vgg-small", "resnet20"], [[28, 28, 1], [32, 32, 3]])
    func everyFamilyBuildsForOneAndThreeChannels(name: String, shape: [Int]) throws {
        var rng = SeededGenerator(seed: 1)
        let model = try Model(spec: try Models.spec(named: name, inputShape: shape, classCount: 7), rng: &rng)
        #expect(try model(Tensor.zeros([1] + shape)).shape == [1, 7])
    }

    @Test func unknownFamilyAndBadShapesAreClearErrors() throws {
        #expect(throws: LowBitError.self) { try Models.spec(named: "alexnet", inputShape: [28, 28, 1], classCount: 10) }
        #expect(throws: LowBitError.self) { try Models.resnet20(inputShape: [784], classCount: 10) }
        var rng = SeededGenerator(seed: 0)
        let model = try Model(spec: try Models.mlp(inputShape: [4], hidden: [3], classCount: 2), rng: &rng)
        #expect(throws: LowBitError.self) { try model(Tensor.zeros([1, 5])) }
    }

    @Test func saveAndLoadRoundTripsWeightsStatisticsAndPredictions() throws {
        var rng = SeededGenerator(seed: 2)
        let model = try Model(spec: try Models.resnet20(inputShape: [8, 8, 1], classCount: 3, widths: [4, 8, 8]), rng: &rng)
        let x = Tensor(shape: [4, 8, 8, 1], data: (0..<256).map { _ in rng.nextNormal() })
        _ = try model(x, training: true)   // moves BatchNorm running statistics off their defaults
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID()).lowbit").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path, metadata: ["note": "test"])
        let (loaded, metadata) = try Model.load(from: path)
        #expect(metadata["note"]?.string == "test")
        #expect(loaded.spec == model.spec)
        for ((name, a), (_, b)) in zip(model.namedTensors, loaded.namedTensors) {
            #expect(a == b, "tensor \(name) differs after the round trip")
        }
        #expect(try loaded(x) == (try model(x)))
    }

    @Test func loadRejectsNaNWeights() throws {
        var rng = SeededGenerator(seed: 3)
        let model = try Model(spec: try Models.mlp(inputShape: [2], hidden: [2], classCount: 2), rng: &rng)
        var tensors = Dictionary(uniqueKeysWithValues: model.namedTensors.map { ($0.name, $0.tensor) })
        tensors["fc1.weight"]!.data[1] = .nan
        #expect(throws: LowBitError.self) { try model.load(tensors) }
        tensors["fc1.weight"] = .zeros([3, 3])
        #expect(throws: LowBitError.self) { try model.load(tensors) }
    }

    /// End to end on a separable toy problem: the trainer must drive the loss down and fit it.
    @Test func trainerFitsASeparableProblem() throws {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor(shape: [256, 2], data: (0..<512).map { _ in rng.nextNormal() })
        let y: [Int32] = (0..<256).map { x.data[2 * $0] + x.data[2 * $0 + 1] > 0 ? 1 : 0 }
        let model = try Model(spec: try Models.mlp(inputShape: [2], hidden: [16], classCount: 2), rng: &rng)
        let trainer = Trainer(model: model, config: TrainingConfig(epochs: 30, batchSize: 32, learningRate: 0.1, weightDecay: 0))
        let batches = (0..<8).map { b in (x: x.slice(rows: (b * 32)..<(b * 32 + 32)), y: Array(y[(b * 32)..<(b * 32 + 32)])) }
        let first = try trainer.trainEpoch(0, batches: batches, batchesPerEpoch: 8)
        for epoch in 1..<30 { try trainer.trainEpoch(epoch, batches: batches, batchesPerEpoch: 8) }
        let result = try evaluate(model, batches: batches)
        #expect(result.loss < first.loss / 3)
        #expect(result.accuracy > 0.95)
        #expect(result.confusion.joined().reduce(0, +) == 256)
    }
}
