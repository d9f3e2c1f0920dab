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
    }
}
