import LowBitTensor
import Testing
@testable import LowBitNN

/// Finite-difference oracle: for L = sum(r * layer(x)) with fixed random r, compares the layer's
/// backward pass (dL/dx and every parameter gradient) with central differences of L.
func checkGradients(_ layer: Layer, inputShape: [Int], seed: UInt64 = 7, step: Float = 1e-2,
                    tolerance: Float = 2e-2, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var rng = SeededGenerator(seed: seed)
    var x = Tensor(shape: inputShape, data: (0..<inputShape.reduce(1, *)).map { _ in rng.nextNormal() })
    let y = try layer.forward(x, training: true)
    let r = Tensor(shape: y.shape, data: (0..<y.count).map { _ in rng.nextNormal() })
    layer.parameters.forEach { $0.zeroGrad() }
    _ = try layer.forward(x, training: true)
    let dx = layer.backward(r)

    func loss() throws -> Double {
        let out = try layer.forward(x, training: true)
        return zip(out.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
        let error = abs(Double(analytic) - numeric)
        let scale = max(1, abs(numeric))
        #expect(error / scale < Double(tolerance), "\(what): analytic \(analytic) vs numeric \(numeric)",
                sourceLocation: sourceLocation)
    }
    // Spot-check up to 40 input coordinates and 40 per parameter (all when small).
    for i in sampleIndices(x.count, &rng) {
        let original = x.data[i]
        x.data[i] = original + step
        let plus = try loss()
        x.data[i] = original - step
        let minus = try loss()
        x.data[i] = original
        compare(dx.data[i], (plus - minus) / Double(2 * step), "dx[\(i)]")
    }
    for parameter in layer.parameters {
        for i in sampleIndices(parameter.value.count, &rng) {
            let original = parameter.value.data[i]
            parameter.value.data[i] = original + step
            let plus = try loss()
            parameter.value.data[i] = original - step
            let minus = try loss()
            parameter.value.data[i] = original
            compare(parameter.grad.data[i], (plus - minus) / Double(2 * step), "\(parameter.name)[\(i)]")
        }
    }
}

private func sampleIndices(_ count: Int, _ rng: inout SeededGenerator) -> [Int] {
    count <= 40 ? Array(0..<count) : (0..<40).map { _ in rng.nextInt(below: count) }
}
