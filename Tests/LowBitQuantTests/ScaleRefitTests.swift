import LowBitIO
import LowBitNN
import LowBitTensor
import Testing
@testable import LowBitQuant

/// Data-aware FGQ scale refitting: least squares on each channel's output, checked against
/// hand-solved cases and against normal equations built independently from the raw inputs.
struct ScaleRefitTests {
    func dense(inputs: Int, outputs: Int, weights: [Float], group: Int) throws -> (Model, QuantizableLayer) {
        let spec = ModelSpec(name: "refit", inputShape: [inputs], classCount: outputs,
                             layers: [LayerSpec(kind: .dense, name: "fc", inFeatures: inputs, outFeatures: outputs)])
        var rng = SeededGenerator(seed: 3)
        let model = try Model(spec: spec, rng: &rng)
        let layer = model.quantizableLayers[0]
        layer.weight.value = Tensor(shape: [outputs, inputs], data: weights)
        layer.weightQuantizer = try FGQQuantizer(granularity: .group(group), threshold: .optimal)
        return (model, layer)
    }

    @Test("hand-solved: the scales that reproduce the float outputs exactly; an all-zero channel stays zero")
    func handSolved() throws {
        // Row 0 = [3, 1 | 2, 2]: FGQ keeps [3] (alpha 3; 9 > 16/2) and [2, 2] (alpha 2).
        // Inputs [1, 1, 0, 0] and [0, 0, 1, 1]: float outputs 4 and 4; the refit makes alpha_1 = 4, alpha_2 = 2.
        let (model, layer) = try dense(inputs: 4, outputs: 2, weights: [3, 1, 2, 2, 0, 0, 0, 0], group: 2)
        #expect(try layer.weightQuantizer!.quantize(layer.weight.value).data == [3, 0, 2, 2, 0, 0, 0, 0])
        let x = Tensor(shape: [2, 4], data: [1, 1, 0, 0, 0, 0, 1, 1])
        let results = try model.refitGroupScales(batches: [(x: x, y: [0, 0])], ridge: 0)
        let q = try layer.weightQuantizer!.quantize(layer.weight.value).data
        #expect(abs(q[0] - 4) < 1e-5 && q[1] == 0 && abs(q[2] - 2) < 1e-5 && abs(q[3] - 2) < 1e-5)
        #expect(q[4...].allSatisfy { $0 == 0 })
        // Group 1 scaled by 4/3, its zero-coded weight with it; group 2 untouched.
        #expect(abs(layer.weight.value.data[1] - 4.0 / 3.0) < 1e-5)
        #expect(results.count == 1 && results[0].groups == 1)
        #expect(results[0].relativeErrorBefore > 0.01 && results[0].relativeErrorAfter < 1e-9)
    }

    @Test("random inputs: the refitted scales solve the normal equations built from the raw inputs")
    func matchesIndependentLeastSquares() throws {
        var rng = SeededGenerator(seed: 11)
        let (k, groupSize, samples) = (12, 4, 64)
        let weights = (0..<k).map { _ in Float.random(in: -1...1, using: &rng) }
        let (model, layer) = try dense(inputs: k, outputs: 1, weights: weights, group: groupSize)
        let x = (0..<(samples * k)).map { _ in Float.random(in: -1...1, using: &rng) + 0.3 }
        let codes = try layer.weightQuantizer!.quantize(layer.weight.value).data.map { $0 > 0 ? 1.0 : ($0 < 0 ? -1.0 : 0.0) }
        // Independent least squares: columns a_g = sum over group g of t_k x_k, target y = w . x.
        let groups = k / groupSize
        var gram = [Double](repeating: 0, count: groups * groups), rhs = [Double](repeating: 0, count: groups)
        for s in 0..<samples {
            let row = (0..<k).map { Double(x[s * k + $0]) }
            let a = (0..<groups).map { g in (g * groupSize..<(g + 1) * groupSize).reduce(0.0) { $0 + codes[$1] * row[$1] } }
            let y = (0..<k).reduce(0.0) { $0 + Double(weights[$1]) * row[$1] }
            for g in 0..<groups {
                rhs[g] += a[g] * y
                for h in 0..<groups { gram[g * groups + h] += a[g] * a[h] }
            }
        }
        let expected = try #require(choleskySolve(gram, rhs, size: groups))
        try model.refitGroupScales(batches: [(x: Tensor(shape: [samples, k], data: x), y: [Int32](repeating: 0, count: samples))],
                                   ridge: 0)
        let q = try layer.weightQuantizer!.quantize(layer.weight.value).data
        for g in 0..<groups where expected[g] > 0 {
            let kept = try #require((g * groupSize..<(g + 1) * groupSize).first { codes[$0] != 0 })
            #expect(abs(Double(abs(q[kept])) - expected[g]) < 1e-3 * expected[g], "group \(g)")
        }
        // Same pattern as before.
        #expect(q.map { $0 > 0 ? 1.0 : ($0 < 0 ? -1.0 : 0.0) } == codes)
    }

    @Test("per-tensor TWN layers are left alone; no batch is a clear error")
    func twnUntouchedAndEmptyInput() throws {
        let (model, layer) = try dense(inputs: 4, outputs: 1, weights: [3, 1, 2, 2], group: 2)
        layer.weightQuantizer = TWNQuantizer()
        #expect(try model.refitGroupScales(batches: [(x: Tensor(shape: [1, 4], data: [1, 1, 0, 0]), y: [0])]).isEmpty)
        #expect(layer.weight.value.data == [3, 1, 2, 2])
        layer.weightQuantizer = try FGQQuantizer(granularity: .group(2))
        #expect(throws: LowBitError.self) { try model.refitGroupScales(batches: [(x: Tensor, y: [Int32])]()) }
    }

    @Test func choleskyRejectsIndefiniteAndSolvesSPD() {
        #expect(choleskySolve([1, 2, 2, 1], [1, 1], size: 2) == nil)
        let x = choleskySolve([4, 2, 2, 3], [2, 1], size: 2)!   // [4 2; 2 3] x = [2, 1] -> x = [0.5, 0]
        #expect(abs(x[0] - 0.5) < 1e-12 && abs(x[1]) < 1e-12)
    }
}
