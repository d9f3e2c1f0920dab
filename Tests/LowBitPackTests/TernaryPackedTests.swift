import LowBitData
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitQuant
import LowBitRuntime
import LowBitTensor
import Testing

/// FGQ ternary layers in packed models: stored as two bit-planes with group scales, run through the
/// ternary GEMM on 8-bit codes, predicting what the fake-quantized training-side model predicts.
struct TernaryPackedTests {
    @Test("a packed ternary-fgq MLP predicts what the fake-quantized model predicts on >= 99% of MNIST images")
    func predictionsMatchFakeQuantization() throws {
        let data = try PackFixtures.mnistSlice(200)
        let spec = try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 32], classCount: 10)
        let model = try PackFixtures.model(spec, policy: "ternary-fgq", seed: 31)
        try model.calibrate(batches: [(x: try PackFixtures.normalization.apply(to: data.features), y: data.labels)])
        let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
        let plan = try archive.metadata["packed"]!.decode(PackedPlan.self, what: "plan")
        #expect(plan.steps.filter { $0.kind != .relu && $0.kind != .flatten }.map(\.kind) == [.int8Dense, .ternaryDense, .int8Dense])
        #expect(try archive.tensor(named: "fc2.plus").dtype == .u64 && archive.tensor(named: "fc2.scales").shape == [32, 16])
        let expected = PackFixtures.argmax(try PackFixtures.reference(model, data.features))
        let actual = try PackedModel(archive: archive).classify(data.features)
        let agree = zip(actual, expected).filter { $0 == $1 }.count
        #expect(Double(agree) >= 0.99 * Double(data.count), "\(agree) of \(data.count) agree")
        // 7-bit scale codes run the layer as an int8 one, named as the ternary step, its ReLU fused;
        // float group scales keep TernaryGEMM and the ReLU apart. Both predict what the model does.
        let floats = try PackedModel(archive: archive, ternaryScaleCodes: false)
        #expect(try PackedModel(archive: archive).layers.map(\.kind) == ["int8Dense", "ternaryDense", "int8Dense"])
        #expect(floats.layers.map(\.kind) == ["int8Dense", "ternaryDense", "relu", "int8Dense"])
        let floatAgree = zip(try floats.classify(data.features), expected).filter { $0 == $1 }.count
        #expect(Double(floatAgree) >= 0.99 * Double(data.count), "float scales: \(floatAgree) of \(data.count) agree")
    }

    /// The ternary-fgq preset with the ternary rule's weight spec replaced by `weight`.
    static func ternaryModel(_ spec: ModelSpec, weight: QuantizerSpec, seed: UInt64) throws -> Model {
        var rng = SeededGenerator(seed: seed)
        let model = try Model(spec: spec, rng: &rng)
        var policy = try PolicyPresets.make("ternary-fgq", for: spec)
        policy.rules = policy.rules.map { $0.pattern == "*" ? PrecisionRule(pattern: "*", weight: weight, input: $0.input) : $0 }
        try model.apply(policy: policy)
        return model
    }

    @Test("TWN and per-channel ternary layers pack as one group per row and predict what the fake-quantized model predicts",
          arguments: [QuantizerSpec(scheme: "twn"), QuantizerSpec(scheme: "fgq", granularity: "channel"),
                      QuantizerSpec(scheme: "fgq", granularity: "tensor", delta: "heuristic")])
    func perRowAndPerTensorScales(weight: QuantizerSpec) throws {
        let data = try PackFixtures.mnistSlice(200)
        for spec in [try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 30], classCount: 10),
                     try Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [6, 10, 30])] {
            let model = try Self.ternaryModel(spec, weight: weight, seed: 37)
            try model.calibrate(batches: [(x: try PackFixtures.normalization.apply(to: data.features), y: data.labels)])
            let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
            let plan = try archive.metadata["packed"]!.decode(PackedPlan.self, what: "plan")
            let ternary = plan.steps.filter { $0.kind == .ternaryDense || $0.kind == .ternaryConv2d }
            #expect(!ternary.isEmpty)
            for step in ternary {
                let scales = try archive.tensor(named: "\(step.name).scales")
                let values = try scales.floatTensor().data
                let rowLength = (step.inFeatures ?? 0) + (step.kernelSize ?? 0) * (step.kernelSize ?? 0) * (step.inChannels ?? 0)
                #expect(scales.shape[1] == 1 && step.groupSize == (rowLength + 3) / 4 * 4, "\(step.name): \(scales.shape), group \(String(describing: step.groupSize))")
                if weight.granularity != "channel" { #expect(Set(values).count == 1, "\(step.name): one scale for the tensor") }
            }
            let expected = PackFixtures.argmax(try PackFixtures.reference(model, data.features))
            let actual = try PackedModel(archive: archive).classify(data.features)
            let agree = zip(actual, expected).filter { $0 == $1 }.count
            #expect(Double(agree) >= 0.99 * Double(data.count), "\(spec.name) \(weight.scheme): \(agree) of \(data.count) agree")
        }
    }

    @Test("ternary groups the runtime cannot split (not a multiple of 4) are refused by name")
    func oddGroupsRefused() throws {
        let spec = try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 30], classCount: 10)
        let model = try Self.ternaryModel(spec, weight: QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 6), seed: 41)
        let data = try PackFixtures.mnistSlice(20)
        try model.calibrate(batches: [(x: try PackFixtures.normalization.apply(to: data.features), y: data.labels)])
        #expect { try ModelPacker.pack(model, metadata: [:]) } throws: { "\($0)".contains("fc2") && "\($0)".contains("multiple of 4") }
    }

    @Test("ternary weights with binary activations pack as sign-bit steps and predict what the fake-quantized model predicts",
          arguments: [QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 4), QuantizerSpec(scheme: "twn")])
    func binaryActivations(weight: QuantizerSpec) throws {
        let data = try PackFixtures.mnistSlice(200)
        for spec in [try Models.mlp(inputShape: [28, 28, 1], hidden: [64, 32], classCount: 10, batchNorm: true, activation: .hardTanh),
                     try Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [8, 16, 32])] {
            var rng = SeededGenerator(seed: 43)
            let model = try Model(spec: spec, rng: &rng)
            let weighted = spec.flattenedLayers.filter { $0.kind == .dense || $0.kind == .conv2d }.map(\.name)
            // First and last layer float; the others ternary on binary inputs.
            let policy = PrecisionPolicy(name: "ternary-binary", rules: [PrecisionRule(pattern: weighted.first!), PrecisionRule(pattern: weighted.last!),
                                                                         PrecisionRule(pattern: "*", weight: weight, input: QuantizerSpec(scheme: "binary-activation"))])
            try model.apply(policy: policy)
            let archive = try ModelPacker.pack(model, metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
            let plan = try archive.metadata["packed"]!.decode(PackedPlan.self, what: "plan")
            let ternary = plan.steps.filter { $0.kind == .ternaryDense || $0.kind == .ternaryConv2d }
            #expect(ternary.count == weighted.count - 2 && ternary.allSatisfy { $0.inputEncoding == .sign && $0.inputScale == nil })
            let reference = try PackFixtures.reference(model, data.features)
            let logits = try PackedModel(archive: archive).predict(data.features)
            let agree = zip(PackFixtures.argmax(logits), PackFixtures.argmax(reference)).filter { $0 == $1 }.count
            // Scales become 7-bit codes (each moves by at most 1/254 of its row's largest), so logits
            // differ slightly; a sign flips only for pre-activations that close to zero.
            #expect(Double(agree) >= 0.97 * Double(data.count), "\(spec.name) \(weight.scheme): \(agree) of \(data.count) agree")
        }
    }

    @Test("a ternary convolution on sign bits whose groups split 4 consecutive channels is refused when packing, by name")
    func misalignedGroupsRefusedAtPack() throws {
        let spec = try Models.lenet(inputShape: [28, 28, 1], classCount: 10, channels: [6, 16, 32])   // conv2 reads 6 channels
        var rng = SeededGenerator(seed: 47)
        for (weight, refused) in [(QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 4), true), (QuantizerSpec(scheme: "twn"), false)] {
            let model = try Model(spec: spec, rng: &rng)
            try model.apply(policy: PrecisionPolicy(name: "tbn", rules: [PrecisionRule(pattern: "conv1"), PrecisionRule(pattern: "fc2"),
                                                                        PrecisionRule(pattern: "*", weight: weight, input: QuantizerSpec(scheme: "binary-activation"))]))
            if refused {
                #expect { try ModelPacker.pack(model, metadata: [:]) } throws: { "\($0)".contains("conv2") && "\($0)".contains("6 input channels") }
            } else {
                _ = try PackedModel(archive: ModelPacker.pack(model, metadata: [:]))   // one group per row: any channel count
            }
        }
    }
}
