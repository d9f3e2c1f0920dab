import LowBitQuant
import LowBitTensor
import Testing

/// (weights, dequantized at 2 bits, zero point).
private let affineZeroCases: [([Float], [Float], Int32)] = [
    ([2, 4, 6], [2, 4, 6], 0),        // [0, 6], scale 2
    ([-3, -1], [-3, -1], 3),          // [-3, 0], scale 1, zero point 3
    ([-0.5, 2.5], [0, 2], 0),         // scale 1, zero point round(0.5) = 0 (even)
]

@Suite("Uniform k-bit")
struct UniformTests {
    @Test("Symmetric 3-bit: scale = 3 / 3 = 1, ties to even: 1.5 -> 2, 0.5 -> 0, 2.5 -> 2")
    func symmetricTies() throws {
        let r = try uniformQuantize(weights: [1.5, -3, 0.5, 2.5, -1.5, -0.5], rowLength: 6, groupSize: 6, bits: 3, symmetric: true)
        #expect(r.codes == [2, -3, 0, 2, -2, 0])
        #expect(r.scales == [1])
        #expect(r.zeroPoints == [0])
    }

    @Test("Symmetric narrow range uses -(2^(k-1)-1)...2^(k-1)-1", arguments: [2, 4, 8, 16])
    func narrowRange(bits: Int) throws {
        let qmax = Float((1 << (bits - 1)) - 1)
        let r = try uniformQuantize(weights: [qmax, -qmax, 0], rowLength: 3, groupSize: 3, bits: bits, symmetric: true)
        #expect(r.codes == [Int32(qmax), -Int32(qmax), 0])
        #expect(r.scales == [1])
    }

    @Test("Per channel 4-bit: row scales 1 and 0.5; 1.25 / 0.5 = 2.5 rounds to 2")
    func perChannel() throws {
        let y = try UniformQuantizer(bits: 4, granularity: .channel).quantize(tensor([7, -1, 3.5, 1.25], shape: [2, 2]))
        #expect(y.data == [7, -1, 3.5, 1])
    }

    @Test("Per group with a short last group, never across rows; all-zero group -> zeros")
    func perGroup() throws {
        // 2-bit symmetric: levels {-s, 0, s} with s = max|w| of the group; |w| = s/2 ties to 0.
        let w: [Float] = [4, 1, -2, 2, 3,
                          0, 0, 1, -0.5, 0]
        let y = try UniformQuantizer(bits: 2, granularity: .group(2)).quantize(tensor(w, shape: [2, 5]))
        #expect(y.data == [4, 0, -2, 2, 3, 0, 0, 1, 0, 0])
        let r = try uniformQuantize(weights: w, rowLength: 5, groupSize: 2, bits: 2, symmetric: true)
        #expect(r.scales == [4, 2, 3, 0, 1, 0])
    }

    @Test("Affine 2-bit over [-1, 2]: scale 1, zero point 1")
    func affine() throws {
        let r = try uniformQuantize(weights: [-1, 0, 0.5, 2, 1.5], rowLength: 5, groupSize: 5, bits: 2, symmetric: false)
        #expect(r.scales == [1])
        #expect(r.zeroPoints == [1])
        #expect(r.codes == [0, 1, 1, 3, 3])
        let y = try UniformQuantizer(bits: 2, symmetric: false).quantize(tensor([-1, 0, 0.5, 2, 1.5]))
        #expect(y.data == [-1, 0, 0, 2, 2])
    }

    @Test("Affine range is widened to include 0", arguments: affineZeroCases)
    func affineIncludesZero(weights: [Float], expected: [Float], zeroPoint: Int32) throws {
        let r = try uniformQuantize(weights: weights, rowLength: weights.count, groupSize: weights.count, bits: 2, symmetric: false)
        #expect(r.zeroPoints == [zeroPoint])
        let y = try uniformDequantize(codes: r.codes, scales: r.scales, zeroPoints: r.zeroPoints,
                                      rowLength: weights.count, groupSize: weights.count)
        #expect(y == expected)
    }

    @Test("Affine codes of 16 bits span 0...65535")
    func affineSixteenBits() throws {
        let r = try uniformQuantize(weights: [0, 65535], rowLength: 2, groupSize: 2, bits: 16, symmetric: false)
        #expect(r.codes == [0, 65535])
        #expect(r.scales == [1])
    }

    @Test("Bits outside 2...16 are rejected", arguments: [0, 1, 17, 33])
    func badBits(bits: Int) {
        #expect(isInvalidArgument(lowBitError { try UniformQuantizer(bits: bits) }))
        #expect(isInvalidArgument(lowBitError { try uniformQuantize(weights: [1], rowLength: 1, groupSize: 1, bits: bits, symmetric: true) }))
    }

    @Test("Bad layouts are rejected")
    func badLayouts() {
        #expect(isInvalidArgument(lowBitError { try UniformQuantizer(bits: 4, granularity: .group(0)) }))
        #expect(isInvalidArgument(lowBitError { try uniformQuantize(weights: [1, 2, 3], rowLength: 2, groupSize: 1, bits: 4, symmetric: true) }))
        #expect(isInvalidArgument(lowBitError { try uniformQuantize(weights: [1, 2], rowLength: 2, groupSize: 0, bits: 4, symmetric: true) }))
    }

    @Test("Error is at most scale / 2 for every weight", arguments: [false, true])
    func errorBound(symmetric: Bool) throws {
        for seed in UInt64(0)..<40 {
            let w = randomTensor([4, 9], seed: seed, scale: 3)
            let bits = 2 + Int(seed % 7)
            let q = try UniformQuantizer(bits: bits, symmetric: symmetric, granularity: .group(4))
            let y = try q.quantize(w)
            // Independent scale per group of 4 (and the short group of 1) within each row of 9.
            for row in 0..<4 {
                for start in stride(from: 0, to: 9, by: 4) {
                    let indices = (row * 9 + start)..<(row * 9 + min(start + 4, 9))
                    let group = indices.map { w.data[$0] }
                    let scale: Float
                    if symmetric {
                        scale = group.map(abs).max()! / Float((1 << (bits - 1)) - 1)
                    } else {
                        scale = (max(group.max()!, 0) - min(group.min()!, 0)) / Float((1 << bits) - 1)
                    }
                    for i in indices {
                        #expect(abs(y.data[i] - w.data[i]) <= scale / 2 * (1 + 1e-5), "seed \(seed) index \(i)")
                    }
                }
            }
        }
    }

    @Test("Straight-through gradient is the identity when the scale comes from the data (largest weight included)")
    func gradientInsideRange() throws {
        for seed in UInt64(0)..<10 {
            let w = randomTensor([3, 7], seed: seed)
            let g = randomTensor([3, 7], seed: seed + 50)
            for symmetric in [true, false] {
                let q = try UniformQuantizer(bits: 3 + Int(seed % 5), symmetric: symmetric, granularity: .channel)
                #expect(q.backward(input: w, gradOutput: g) == g)
            }
        }
    }

    @Test("Stochastic rounding: seeded, unbiased, onto the two neighbouring levels, training only")
    func stochasticRounding() throws {
        // 3-bit symmetric with max 3: scale 1. 0.25 lies between levels 0 and 1.
        let x = tensor([3] + [Float](repeating: 0.25, count: 4000))
        let q = try UniformQuantizer(bits: 3, rounding: .stochastic, seed: 11)
        #expect(try q.quantize(x).data.dropFirst().allSatisfy { $0 == 0 })   // inference: nearest
        q.isTraining = true
        let y = try q.quantize(x).data.dropFirst()
        #expect(y.allSatisfy { $0 == 0 || $0 == 1 })
        let mean = y.reduce(0, +) / Float(y.count)
        #expect(abs(mean - 0.25) < 0.03)
        let again = try UniformQuantizer(bits: 3, rounding: .stochastic, seed: 11)
        again.isTraining = true
        #expect(try again.quantize(x).data.dropFirst() == y)
    }
}
