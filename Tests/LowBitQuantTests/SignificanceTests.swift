import LowBitNN
import LowBitTensor
import Testing
@testable import LowBitQuant

struct SignificanceTests {
    @Test func jacobiEigenvaluesMatchClosedForms() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1.
        let two = symmetricEigenvalues([2, 1, 1, 2], size: 2)
        #expect(abs(two[0] - 3) < 1e-12 && abs(two[1] - 1) < 1e-12)
        // The n x n matrix of ones has eigenvalues n, 0, ..., 0; adding 0.5 I shifts them by 0.5.
        let n = 6
        let ones = (0..<(n * n)).map { i in 1.0 + (i / n == i % n ? 0.5 : 0) }
        let values = symmetricEigenvalues(ones, size: n)
        #expect(abs(values[0] - 6.5) < 1e-10)
        #expect(values.dropFirst().allSatisfy { abs($0 - 0.5) < 1e-10 })
        // Trace is preserved for a random symmetric matrix.
        var rng = SeededGenerator(seed: 5)
        var m = [Double](repeating: 0, count: 25)
        for i in 0..<5 { for j in i..<5 { let v = Double(rng.nextNormal()); m[i * 5 + j] = v; m[j * 5 + i] = v } }
        let trace = (0..<5).map { m[$0 * 5 + $0] }.reduce(0, +)
        #expect(abs(symmetricEigenvalues(m, size: 5).reduce(0, +) - trace) < 1e-10)
    }

    @Test func componentsCountTheLeadingVariance() {
        #expect(componentsForVariance([5, 3, 1, 1], fraction: 0.5) == 1)
        #expect(componentsForVariance([5, 3, 1, 1], fraction: 0.8) == 2)
        #expect(componentsForVariance([5, 3, 1, 1], fraction: 0.95) == 4)
        #expect(componentsForVariance([0, 0], fraction: 0.9) == 1)
    }

    /// A dense layer whose 4 outputs are 2 independent signals and 2 exact copies has rank 2.
    @Test func significanceFindsTheRankOfALayersOutputs() throws {
        var rng = SeededGenerator(seed: 6)
        let model = try Model(spec: try Models.mlp(inputShape: [3], hidden: [4], classCount: 2), rng: &rng)
        let fc1 = try #require(model.quantizableLayers.first as? Dense)
        fc1.weight.value = Tensor(shape: [4, 3], data: [1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 2, 0])
        fc1.bias!.value = .zeros([4])
        let batches = (0..<4).map { _ in
            (x: Tensor(shape: [64, 3], data: (0..<192).map { _ in rng.nextNormal() }), y: [Int32](repeating: 0, count: 64))
        }
        let result = try model.significance(batches: batches, varianceFraction: 0.999)
        #expect(result[0].name == "fc1" && result[0].width == 4 && result[0].components == 2)
        #expect(result[0].growth == 0.5)
        #expect(result[1].growth == result[1].fraction - 0.5)
    }
}
