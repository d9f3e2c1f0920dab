import LowBitQuant
import LowBitTensor
import Testing

/// Shapes for property tests: 1-D (per-element channels), dense [out, in] and OHWI conv.
private let propertyShapes: [[Int]] = [[7], [3, 10], [4, 2, 2, 3], [1, 1]]

@Suite("Properties over seeded random tensors")
struct PropertyTests {
    @Test("Idempotent: q(q(x)) == q(x) exactly", arguments: allSchemeSpecs.filter { !isAffine($0) })
    func idempotent(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        for seed in UInt64(0)..<30 {
            for shape in propertyShapes {
                let x = randomTensor(shape, seed: seed, scale: 0.5 + Float(seed % 4))
                let y = try q.quantize(x)
                #expect(try q.quantize(y) == y, "seed \(seed) shape \(shape)")
            }
        }
    }

    @Test("Affine uniform is idempotent up to rounding of the recomputed scale",
          arguments: allSchemeSpecs.filter(isAffine))
    func affineNearlyIdempotent(spec: QuantizerSpec) throws {
        // The range of q(x) is [(0 - Z) s, (2^k - 1 - Z) s]; its recomputed scale can differ from s
        // in the last bit, so q(q(x)) moves by a few float ulps at most: not bit-exact.
        let q = try makeQuantizer(spec)
        for seed in UInt64(0)..<30 {
            for shape in propertyShapes {
                let y = try q.quantize(randomTensor(shape, seed: seed))
                let yy = try q.quantize(y)
                let largest = y.data.map(abs).max() ?? 0
                #expect(yy.maxAbsDifference(y) <= largest * 4e-7, "seed \(seed) shape \(shape)")
            }
        }
    }

    @Test("All-zero tensors quantize to zeros (not unscaled binary: sign(0) = +1)",
          arguments: weightSchemeSpecs.filter { $0.granularity != "none" })
    func zeros(spec: QuantizerSpec) throws {
        for shape in propertyShapes {
            #expect(try makeQuantizer(spec).quantize(.zeros(shape)) == .zeros(shape))
        }
    }

    @Test("Quantize keeps the shape and backward returns the gradient's shape", arguments: allSchemeSpecs)
    func shapes(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        for shape in propertyShapes {
            let x = randomTensor(shape, seed: 8)
            #expect(try q.quantize(x).shape == shape)
            #expect(q.backward(input: x, gradOutput: randomTensor(shape, seed: 9)).shape == shape)
        }
    }

    @Test("Straight-through gradients only pass or block: dL/dx is dL/dy or 0 elementwise",
          arguments: allSchemeSpecs.filter { $0.calibration != "pact" })
    func gradientIsMasked(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        let x = randomTensor([5, 8], seed: 12, scale: 2)
        let g = randomTensor([5, 8], seed: 13)
        _ = try q.quantize(x)
        let dx = q.backward(input: x, gradOutput: g)
        #expect(zip(dx.data, g.data).allSatisfy { $0 == $1 || $0 == 0 })
    }
}

private func isAffine(_ spec: QuantizerSpec) -> Bool {
    spec.scheme == "uniform" && spec.symmetric == false
}
