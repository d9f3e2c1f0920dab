import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitQuant
import LowBitRuntime
import LowBitTensor

/// Models and data shared by the packed-model tests.
enum PackFixtures {
    static let normalization = try! Normalization(mean: [0.1307], std: [0.3081])

    /// The first `count` MNIST test images, raw pixels in [0, 1], NHWC `[count, 28, 28, 1]`.
    static func mnistSlice(_ count: Int) throws -> LabeledDataset {
        try DatasetSpec(parsing: "mnist").load(.test).prefix(count)
    }

    /// A model of `spec` with random weights and random BatchNorm statistics (so folding matters),
    /// under the preset `policy`.
    static func model(_ spec: ModelSpec, policy: String, seed: UInt64) throws -> Model {
        var rng = SeededGenerator(seed: seed)
        let model = try Model(spec: spec, rng: &rng)
        for buffer in model.buffers + model.parameters {
            if buffer.name.hasSuffix(".runningMean") || buffer.name.hasSuffix(".beta") || buffer.name.hasSuffix(".bias") {
                buffer.value.data = buffer.value.data.map { _ in 0.3 * rng.nextNormal() }
            } else if buffer.name.hasSuffix(".runningVariance") || buffer.name.hasSuffix(".gamma") {
                buffer.value.data = buffer.value.data.map { _ in 0.5 + abs(rng.nextNormal()) }
            }
        }
        try model.apply(policy: PolicyPresets.make(policy, for: spec))
        return model
    }

    /// The compiled packed form of `model` (through the archive, as a file would give it).
    static func packed(_ model: Model) throws -> PackedModel {
        let metadata: [String: JSONValue] = ["normalization": try JSONValue(encoding: normalization)]
        return try PackedModel(archive: ModelPacker.pack(model, metadata: metadata))
    }

    /// The training-side logits for raw inputs (normalized as the data loader does).
    static func reference(_ model: Model, _ raw: Tensor) throws -> Tensor {
        try model(normalization.apply(to: raw), training: false)
    }

    static func argmax(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            var best = 0
            for c in 1..<classes where logits.data[row * classes + c] > logits.data[row * classes + best] { best = c }
            return best
        }
    }
}
