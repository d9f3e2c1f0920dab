import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitQuant
import LowBitRuntime
import LowBitTensor
import Testing

/// Integer-only int8 layers: the runtime equals an integer simulation written here from the
/// formulas, bit for bit, and predicts what the fake-quantized training-side model predicts.
struct Int8PackedTests {
    /// An int8 MLP 784-64-32-10 (ReLU) with random weights and biases, calibrated on `data`.
    func calibratedModel(_ data: LabeledDataset) throws -> Model {
        let spec = try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 32], classCount: 10)
        let model = try PackFixtures.model(spec, policy: "int8", seed: 21)
        let x = try PackFixtures.normalization.apply(to: data.features)
        try model.calibrate(batches: [(x: x, y: data.labels)])
        return model
    }

    @Test("int8 layers compute the integer simulation bit for bit")
    func integerSimulation() throws {
        let data = try PackFixtures.mnistSlice(32)
        let model = try calibratedModel(data)
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let plan = try archive.metadata["packed"]!.decode(PackedPlan.self, what: "plan")
        let layers = plan.steps.filter { $0.kind == .int8Dense }
        #expect(layers.map(\.inputEncoding) == [.int8, .uint8, .uint8])
        let actual = try PackedModel(archive: archive).predict(data.features)

        // The simulation: q = clamp(round(x / S)), int32 accumulators, gemmlowp requantization
        // between layers (the ReLU is the clamp at zero point 0), float dequantization at the end.
        let normalized = try PackFixtures.normalization.apply(to: data.features).data
        var codes = normalized.map { Int64(min(max(($0 / layers[0].inputScale!).rounded(.toNearestOrEven), -127), 127)) }
        var logits: [Float] = []
        for (index, layer) in layers.enumerated() {
            let w: [Int8] = try archive.tensor(named: "\(layer.name).weight").values()
            let sw = try archive.tensor(named: "\(layer.name).weightScale").floatTensor().data
            let b = try archive.tensor(named: "\(layer.name).bias").floatTensor().data
            let (k, n, sIn) = (layer.inFeatures!, layer.outFeatures!, layer.inputScale!)
            let acc = (0..<(data.count * n)).map { i in
                (0..<k).reduce(Int64(0)) { $0 + codes[(i / n) * k + $1] * Int64(w[(i % n) * k + $1]) }
            }
            if index == layers.count - 1 {
                logits = acc.indices.map { Float(acc[$0]) * (sIn * sw[$0 % n]) + b[$0 % n] }
            } else {
                let sOut = Double(layers[index + 1].inputScale!)
                codes = acc.indices.map { i in
                    let real = Double(sIn) * Double(sw[i % n])
                    let bias = Int64((Double(b[i % n]) / real).rounded(.toNearestOrAwayFromZero))
                    return min(max(Self.requantize(acc[i] + bias, real / sOut), 0), 255)
                }
            }
        }
        #expect(actual.data == logits)
    }

    /// gemmlowp / TFLite `MultiplyByQuantizedMultiplier(x, QuantizeMultiplier(m))`.
    static func requantize(_ x: Int64, _ m: Double) -> Int64 {
        var exponent: Int32 = 0
        let fraction = frexp(m, &exponent)            // m = fraction * 2^exponent, fraction in [0.5, 1)
        var m0 = Int64((fraction * 0x1p31).rounded(.toNearestOrAwayFromZero))
        if m0 == 1 << 31 { m0 /= 2; exponent += 1 }
        let left = Int64(max(exponent, 0)), right = Int64(max(-exponent, 0))
        let product = (x << left) * m0                // fits: |x| < 2^31 here, left small
        let nudge: Int64 = product >= 0 ? 1 << 30 : 1 - (1 << 30)
        let high = (product + nudge) / (1 << 31)      // Swift division truncates toward zero, as C
        let mask = (Int64(1) << right) - 1
        let threshold = (mask >> 1) + (high < 0 ? 1 : 0)
        return (high >> right) + ((high & mask) > threshold ? 1 : 0)
    }

    @Test("a packed int8 MLP predicts what the fake-quantized model predicts on >= 99% of MNIST images")
    func predictionsMatchFakeQuantization() throws {
        let data = try PackFixtures.mnistSlice(200)
        let model = try calibratedModel(data)
        let expected = PackFixtures.argmax(try PackFixtures.reference(model, data.features))
        let actual = try PackFixtures.packed(model).classify(data.features)
        let agree = zip(actual, expected).filter { $0 == $1 }.count
        #expect(Double(agree) >= 0.99 * Double(data.count), "\(agree) of \(data.count) agree")
    }
}

/// int8 and ternary convolutions: a small ResNet quantized post-training runs integer convolutions
/// (unfolded BatchNorm between them) and predicts what the fake-quantized model predicts.
struct IntegerConvolutionTests {
    @Test("int8 and ternary-fgq ResNets predict what the fake-quantized model predicts on >= 97% of MNIST images",
          arguments: ["int8", "ternary-fgq"])
    func resnet(policy: String) throws {
        let data = try PackFixtures.mnistSlice(100)
        let spec = try Models.resnet20(inputShape: [28, 28, 1], classCount: 10, widths: [8, 8, 16], blocksPerStage: 1)
        let model = try PackFixtures.model(spec, policy: policy, seed: 41)
        // BatchNorms with negative, small and large scales: the runtime folds them into the integer
        // steps (negating int8 weight rows where the scale is negative) and requantizes conv1 -> conv2.
        var rng = SeededGenerator(seed: 5)
        for norm in model.allLayers.compactMap({ $0 as? BatchNorm }) {
            let n = norm.gamma.value.count
            norm.gamma.value = Tensor(shape: [n], data: (0..<n).map { i in (i % 3 == 0 ? -1 : 1) * Float.random(in: 0.3...2, using: &rng) })
            norm.beta.value = Tensor(shape: [n], data: (0..<n).map { _ in Float.random(in: -0.3...0.3, using: &rng) })
        }
        try model.calibrate(batches: [(x: try PackFixtures.normalization.apply(to: data.features), y: data.labels)])
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let packed = try PackedModel(archive: archive)
        #expect(packed.layers.first?.kind == "int8Conv2d")
        #expect(!packed.layers.contains { $0.kind == "affine" }, "stem BatchNorm folded: \(packed.layers.map(\.kind))")
        let expected = PackFixtures.argmax(try PackFixtures.reference(model, data.features))
        let actual = try packed.classify(data.features)
        let agree = zip(actual, expected).filter { $0 == $1 }.count
        #expect(Double(agree) >= 0.97 * Double(data.count), "\(policy): \(agree) of \(data.count) agree")
    }
}
