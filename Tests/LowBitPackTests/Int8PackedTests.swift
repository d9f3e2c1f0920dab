import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitQuant
@testable import LowBitRuntime
import LowBitTensor
import Testing

/// Integer-only int8 layers: the runtime equals an integer simulation written here from the
/// formulas, bit for bit, and predicts what the fake-quantized training-side model predicts.
struct Int8PackedTests {
    /// An int8 (or int4: 4-bit weights and activations) MLP 784-64-32-10 (ReLU) with random weights
    /// and biases, calibrated on `data`.
    func calibratedModel(_ data: LabeledDataset, policy: String = "int8") throws -> Model {
        let spec = try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 32], classCount: 10)
        let model = try PackFixtures.model(spec, policy: policy, seed: 21)
        let x = try PackFixtures.normalization.apply(to: data.features)
        try model.calibrate(batches: [(x: x, y: data.labels)])
        return model
    }

    @Test("int8 and int4 layers compute the integer simulation bit for bit", arguments: [8, 4])
    func integerSimulation(bits: Int) throws {
        let data = try PackFixtures.mnistSlice(32)
        let model = try calibratedModel(data, policy: "int\(bits)")
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let plan = try archive.metadata["packed"]!.decode(PackedPlan.self, what: "plan")
        let layers = plan.steps.filter { $0.kind == .int8Dense }
        #expect(layers.map(\.inputEncoding) == [.int8, .uint8, .uint8])
        #expect(plan.version == (bits == 8 ? 1 : 2))
        #expect(layers.allSatisfy { $0.inputBits == (bits == 8 ? nil : bits) && $0.weightBits == (bits == 8 ? nil : bits) })
        let actual = try PackedModel(archive: archive).predict(data.features)

        // The simulation: q = clamp(round(x / S)), int32 accumulators, gemmlowp requantization
        // between layers (the ReLU is the clamp at zero point 0), float dequantization at the end.
        // Codes: signed in +-(2^(bits-1) - 1) for the image, unsigned in 0...2^bits - 1 after.
        let signedMax = Float((1 << (bits - 1)) - 1), unsignedMax = Int64((1 << bits) - 1)
        let normalized = try PackFixtures.normalization.apply(to: data.features).data
        var codes = normalized.map { Int64(min(max(($0 / layers[0].inputScale!).rounded(.toNearestOrEven), -signedMax), signedMax)) }
        #expect(layers[0].inputScale! == model.quantizerRecord[layers[0].name]!.input!.rangeMax! / signedMax)
        var logits: [Float] = []
        for (index, layer) in layers.enumerated() {
            let stored = try archive.tensor(named: "\(layer.name).weight")
            // 4-bit weights two to a byte, low nibble first, sign-extended here by hand.
            let w: [Int8] = bits == 8 ? try stored.values() : try (stored.values() as [UInt8]).flatMap { byte -> [Int8] in
                [Int8(byte & 0x0F) - (byte & 0x08 != 0 ? 16 : 0), Int8(byte >> 4) - (byte & 0x80 != 0 ? 16 : 0)]
            }
            #expect(stored.shape == (bits == 8 ? [layer.outFeatures!, layer.inFeatures!] : [layer.outFeatures!, (layer.inFeatures! + 1) / 2]))
            let sw = try archive.tensor(named: "\(layer.name).weightScale").floatTensor().data
            let b = try archive.tensor(named: "\(layer.name).bias").floatTensor().data
            let (k, n, sIn) = (layer.inFeatures!, layer.outFeatures!, layer.inputScale!)
            let acc = (0..<(data.count * n)).map { i in
                (0..<k).reduce(Int64(0)) { $0 + codes[(i / n) * k + $1] * Int64(w[(i % n) * k + $1]) }
            }
            if index == layers.count - 1 {
                logits = acc.indices.map { Float(acc[$0]) * (sIn * sw[$0 % n]) + b[$0 % n] }
            } else {
                // The bias carries `shift` fractional bits: the largest shift in 0...16 keeping the
                // largest possible accumulator and every bias, times 2^shift, within 2^29.
                let sOut = Double(layers[index + 1].inputScale!)
                let codeMax = layer.inputEncoding == .int8 ? Int(signedMax) : Int(unsignedMax)
                let largest = (0..<n).map { j in (0..<k).reduce(0) { $0 + abs(Int(w[j * k + $1])) } }.max()! * codeMax
                let real = (0..<n).map { Double(sIn) * Double(sw[$0]) }
                let largestBias = (0..<n).map { abs(Double(b[$0]) / real[$0]) }.max()!
                let smallest = real.min()! / sOut
                let shift = (0...16).last { (s: Int) -> Bool in
                    let scale = Double(1 << s)
                    return Double(largest) * scale <= 0x1p29 && largestBias * scale <= 0x1p29 && smallest / scale >= 0x1p-31
                } ?? 0
                #expect(shift > 0)
                codes = acc.indices.map { i in
                    let bias = Int64((Double(b[i % n]) / real[i % n] * Double(1 << shift)).rounded(.toNearestOrAwayFromZero))
                    return min(max(Self.requantize((acc[i] << shift) + bias, real[i % n] / sOut / Double(1 << shift)), 0), unsignedMax)
                }
            }
        }
        #expect(actual.data == logits)
    }

    @Test("k-bit fields out of range, or nibble weights read as bytes, are refused by name")
    func damagedBits() throws {
        let data = try PackFixtures.mnistSlice(16)
        let archive = try ModelPacker.pack(try calibratedModel(data, policy: "int4"), metadata: [:])
        func edited(_ field: String, _ value: JSONValue?) throws -> LowBitArchive {
            var plan = archive.metadata["packed"]!.object!, steps = plan["steps"]!.array!
            let index = steps.firstIndex { $0.object?["name"] == "fc1" }!
            var first = steps[index].object!
            first[field] = value
            steps[index] = .object(first)
            plan["steps"] = .array(steps)
            var copy = archive
            copy.metadata["packed"] = .object(plan)
            return copy
        }
        #expect { try PackedModel(archive: edited("weightBits", 9)) } throws: { "\($0)".contains("weightBits 9") }
        #expect { try PackedModel(archive: edited("inputBits", 1)) } throws: { "\($0)".contains("inputBits 1") }   // signed input
        #expect { try PackedModel(archive: edited("weightBits", nil)) } throws: { "\($0)".contains("fc1.weight") }
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

    @Test("a packed int8 or int4 MLP predicts what the fake-quantized model predicts on >= 99% of MNIST images",
          arguments: ["int8", "int4"])
    func predictionsMatchFakeQuantization(policy: String) throws {
        let data = try PackFixtures.mnistSlice(200)
        let model = try calibratedModel(data, policy: policy)
        let reference = try PackFixtures.reference(model, data.features)
        let logits = try PackFixtures.packed(model).predict(data.features)
        let agree = zip(PackFixtures.argmax(logits), PackFixtures.argmax(reference)).filter { $0 == $1 }.count
        #expect(Double(agree) >= 0.99 * Double(data.count), "\(agree) of \(data.count) agree")
        // With the bias carrying the accumulator shift's fractional bits, no activation code differs
        // from the float simulation's here (one code step would move logits by ~1e-2).
        let largest = zip(logits.data, reference.data).map { abs($0 - $1) }.max()!
        #expect(largest <= 1e-3, "logits differ by up to \(largest)")
    }
}

/// int8 and ternary convolutions: a small ResNet quantized post-training runs integer convolutions
/// (unfolded BatchNorm between them) and predicts what the fake-quantized model predicts.
struct IntegerConvolutionTests {
    @Test("int8 and ternary-fgq ResNets predict what the fake-quantized model predicts on >= 97% of MNIST images",
          arguments: ["int8", "ternary-fgq", "int4"])
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
        // The block sums and ReLUs join the integer convolutions' float outputs (lbr_output_residual),
        // changing no float; the stem's ReLU joins the stem.
        let unfused = try PackedModel(archive: archive, fusingResiduals: false)
        #expect(try packed.predict(data.features).data.map(\.bitPattern) == unfused.predict(data.features).data.map(\.bitPattern))
        #expect(!packed.layers.contains { $0.kind == "relu" }, "\(packed.layers.map(\.kind))")
        #expect(unfused.layers.contains { $0.kind == "relu" })
        if policy == "ternary-fgq" { try compareScaleCodes(archive, data.features) }
    }

    static let pooledModels: [(name: String, spec: ModelSpec, codePools: Int)] = [
        ("vgg-small", try! Models.vggSmall(inputShape: [28, 28, 1], classCount: 10, widths: [8, 8, 16]), 2),
        ("lenet", try! Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [4, 8, 16]), 2),
    ]

    /// `int8 conv -> [BatchNorm] -> ReLU -> maxPool -> int8 layer` requantizes straight to the reader's
    /// codes and pools the codes (quantization is monotone, so the pool of the codes is the code of the
    /// pool): an int8 VGG's first two pools (the last feeds the float global average), and both of an
    /// int8 LeNet's (the second through a flatten, which only reshapes). Either predicts what the
    /// fake-quantized model predicts, and what the same model with float pools predicts.
    @Test("int8 VGG and LeNet: pools between int8 layers run on uint8 codes", arguments: pooledModels.indices)
    func codePools(index: Int) throws {
        let (name, spec, codePools) = Self.pooledModels[index]
        let data = try PackFixtures.mnistSlice(100)
        let model = try PackFixtures.model(spec, policy: "int8", seed: 42)
        try model.calibrate(batches: [(x: try PackFixtures.normalization.apply(to: data.features), y: data.labels)])
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let packed = try PackedModel(archive: archive), floatPools = try PackedModel(archive: archive, compactPools: false)
        #expect(packed.operations.filter { $0 is CodeMaxPoolOperation }.count == codePools, "\(name)")
        #expect(!floatPools.operations.contains { $0 is CodeMaxPoolOperation })
        #expect(!packed.layers.contains { $0.kind == "relu" }, "\(name): \(packed.layers.map(\.kind))")
        let expected = PackFixtures.argmax(try PackFixtures.reference(model, data.features))
        let actual = try packed.classify(data.features), withFloatPools = try floatPools.classify(data.features)
        #expect(zip(actual, expected).filter { $0 == $1 }.count >= 97, "\(name): \(actual) against \(expected)")
        #expect(zip(actual, withFloatPools).filter { $0 == $1 }.count >= 98, "\(name)")
    }

    /// Ternary layers on 8-bit codes run as int8 layers with 7-bit group scale codes (weights
    /// `code * t`, the rows of negative BatchNorm scales negated), or with their float group scales:
    /// the two agree to the codes' rounding (each scale within 1/254 of its row's largest).
    func compareScaleCodes(_ archive: LowBitArchive, _ x: Tensor) throws {
        let codes = try PackedModel(archive: archive), floats = try PackedModel(archive: archive, ternaryScaleCodes: false)
        let (a, b) = (try codes.predict(x), try floats.predict(x))
        let largest = b.data.map(abs).max() ?? 0, worst = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst > 0 && worst <= 0.03 * largest, "largest logit \(largest), largest difference \(worst)")
        let agree = zip(PackFixtures.argmax(a), PackFixtures.argmax(b)).filter { $0 == $1 }.count
        #expect(agree >= 98, "\(agree) of 100 predictions agree")
    }
}
