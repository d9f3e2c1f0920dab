import LowBitQuant
import LowBitTensor
import Testing

@Suite("Activation quantizers, calibration and PACT")
struct ActivationTests {
    @Test("Unsigned 2 bits, clip 3: step 1, levels 0...3; 0.5 -> 0 and 1.5 -> 2 (half to even)")
    func unsignedHandValues() throws {
        let q = try ActivationQuantizer(bits: 2, clip: 3)
        let x = tensor([-1, 0.5, 1.5, 2.4, 5, 3.4, 3.6])
        #expect(try q.quantize(x).data == [0, 0, 2, 2, 3, 3, 3])
        // STE: inside where round(x / s) is within 0...3.
        #expect(q.backward(input: x, gradOutput: tensor([1, 2, 3, 4, 5, 6, 7])).data == [0, 2, 3, 4, 0, 6, 0])
    }

    @Test("Signed 2 bits, clip 2: levels {-2, 0, 2}; 1 is a tie and goes to 0")
    func signedHandValues() throws {
        let q = try ActivationQuantizer(bits: 2, signed: true, clip: 2)
        let x = tensor([-3, -1.5, 0.9, 1, 1.1, 2.9, 3.1, -3.1])
        #expect(try q.quantize(x).data == [-2, -2, 0, 0, 2, 2, 2, -2])
        // STE: inside where round(x / 2) is within -1...1, i.e. |x| < 3 (+-3 / 2 = +-1.5 round to +-2: out).
        #expect(q.backward(input: x, gradOutput: tensor([1, 2, 3, 4, 5, 6, 7, 8])).data == [0, 2, 3, 4, 5, 6, 0, 0])
    }

    @Test("Inside the clipping range the error is at most half a step", arguments: [(8, false), (4, true), (2, false)])
    func errorBound(bits: Int, signed: Bool) throws {
        let clip: Float = 2.5
        let q = try ActivationQuantizer(bits: bits, signed: signed, clip: clip)
        let steps = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
        var rng = SeededGenerator(seed: UInt64(bits))
        let x = tensor((0..<500).map { _ in (signed ? rng.nextUniform() * 2 - 1 : rng.nextUniform()) * clip })
        let y = try q.quantize(x)
        let halfStep = clip / Float(steps) / 2
        #expect(zip(x.data, y.data).allSatisfy { abs($0 - $1) <= halfStep * (1 + 1e-5) })
    }

    @Test("Signed 1 bit: c * sign(x), sign(0) = +1, STE where |x| <= c")
    func signedOneBit() throws {
        let q = try ActivationQuantizer(bits: 1, signed: true, clip: 0.5)
        let x = tensor([-3, 0, 0.2, 0.5, 0.6])
        #expect(try q.quantize(x).data == [-0.5, 0.5, 0.5, 0.5, 0.5])
        #expect(q.backward(input: x, gradOutput: tensor([1, 1, 1, 1, 1])).data == [0, 1, 1, 1, 0])
    }

    @Test("Unsigned 1 bit: levels {0, c}")
    func unsignedOneBit() throws {
        let q = try ActivationQuantizer(bits: 1, clip: 2)
        #expect(try q.quantize(tensor([-1, 0.9, 1, 1.1, 7])).data == [0, 0, 0, 2, 2])
    }

    @Test("Min-max calibration: the largest magnitude over all observed batches", arguments: [false, true])
    func minMax(signed: Bool) throws {
        let q = try ActivationQuantizer(bits: 8, signed: signed)
        try q.observe(tensor([0.5, -4, 2]))
        try q.observe(tensor([1, 3]))
        #expect(q.clip == (signed ? 4 : 3))
        #expect(q.spec.rangeMax == (signed ? 4 : 3))
        #expect(q.spec.rangeMin == (signed ? -4 : 0))
    }

    @Test("Percentile calibration matches the nearest-rank percentile within one histogram bin")
    func percentile() throws {
        let values = (1...10_000).map { Float($0) / 1000 }   // 0.001 ... 10
        var rng = SeededGenerator(seed: 9)
        let shuffled = rng.permutation(values.count).map { values[$0] }
        let q = try ActivationQuantizer(bits: 8, calibration: .percentile(99))
        for start in stride(from: 0, to: shuffled.count, by: 1000) {
            try q.observe(tensor(Array(shuffled[start..<(start + 1000)])))
        }
        let oracle = values.sorted()[Int((0.99 * Double(values.count)).rounded(.up)) - 1]   // 9.9
        let binWidth = 2 * values.max()! / 2048
        #expect(abs(q.clip! - oracle) <= binWidth)
    }

    @Test("Percentile counts zeros (unsigned: everything <= 0) as mass at 0")
    func percentileWithZeros() {
        var histogram = ActivationHistogram()
        histogram.add([Float](repeating: 0, count: 90) + (1...10).map { Float($0) })
        #expect(histogram.percentile(50) == 0)
        #expect(histogram.percentile(100) == 10)
        #expect(abs(histogram.percentile(95) - 5) <= 10.0 / 2048 * 2)
    }

    @Test("Histogram memory is bounded: larger values double the range and merge bins exactly")
    func histogramGrowth() {
        var histogram = ActivationHistogram(binCount: 8)
        histogram.add([1, 0.5, 0.1])
        #expect(histogram.upperEdge == 1)
        histogram.add([100])
        #expect(histogram.upperEdge == 128)
        #expect(histogram.bins.count == 8)
        #expect(histogram.totalCount == 4)
        #expect(histogram.maxValue == 100)
        // All three first values fell into the first bin of width 16 after merging.
        #expect(histogram.bins[0] == 3)
        for _ in 0..<100 { histogram.add((0..<100).map { Float($0) }) }
        #expect(histogram.bins.count == 8)
    }

    @Test("MSE calibration: its clip's empirical MSE is within 2% of the best clip on a fine grid",
          arguments: [(4, false), (8, false), (2, true), (1, true)])
    func mseCalibration(bits: Int, signed: Bool) throws {
        var rng = SeededGenerator(seed: UInt64(bits) + (signed ? 100 : 0))
        // Gaussian body with a few large outliers: clipping them should pay off at low bits.
        var samples = (0..<3000).map { _ in rng.nextNormal() }
        samples += (0..<3).map { _ in 12 + rng.nextUniform() * 4 }
        if !signed { samples = samples.map { max($0, 0) } }
        let q = try ActivationQuantizer(bits: bits, signed: signed, calibration: .mse)
        try q.observe(tensor(samples))
        let chosen = q.clip!
        let largest = samples.map(abs).max()!
        let best = (1...500).map { empiricalMSE(samples, clip: largest * Float($0) / 500, bits: bits, signed: signed) }.min()!
        #expect(empiricalMSE(samples, clip: chosen, bits: bits, signed: signed) <= best * 1.02)
        if bits <= 2 { #expect(chosen < largest / 2) }   // the outliers are clipped
    }

    @Test("Uncalibrated: eval throws; training tracks the running max, which stays in use")
    func trainingRunningRange() throws {
        let q = try ActivationQuantizer(bits: 2)
        #expect(isInvalidArgument(lowBitError { try q.quantize(tensor([1])) }))
        q.isTraining = true
        #expect(try q.quantize(tensor([1, 3])).data == [1, 3])      // clip 3, step 1
        #expect(try q.quantize(tensor([0.5, 6])).data == [0, 6])    // clip 6, step 2: 0.5 -> 0
        q.isTraining = false
        #expect(q.clip == 6)
        #expect(try q.quantize(tensor([3, 100])).data == [4, 6])   // 1.5 -> 2 (even)
    }

    @Test("Observed statistics take precedence over a given clip, and the spec records the calibration")
    func calibrationOverridesClip() throws {
        let q = try ActivationQuantizer(bits: 8, calibration: .minMax, clip: 10)
        #expect(q.clip == 10)
        try q.observe(tensor([0.25, 2]))
        #expect(q.clip == 2)
        let copy = try makeQuantizer(q.spec)
        let x = randomTensor([50], seed: 1)
        #expect(try copy.quantize(x) == (try q.quantize(x)))
    }

    @Test("Bits 0, 17, 33 and bad percentiles are rejected")
    func badArguments() {
        for bits in [0, 17, 33] {
            #expect(isInvalidArgument(lowBitError { try ActivationQuantizer(bits: bits) }))
            #expect(isInvalidArgument(lowBitError { try PACTQuantizer(bits: bits) }))
        }
        #expect(isInvalidArgument(lowBitError { try ActivationQuantizer(bits: 8, calibration: .percentile(101)) }))
        #expect(isInvalidArgument(lowBitError { try ActivationQuantizer(bits: 8, clip: -1) }))
        #expect(isInvalidArgument(lowBitError { try PACTQuantizer(bits: 4, initialAlpha: 0) }))
    }

    @Test("PACT unsigned: forward, dL/dx inside [0, alpha), dL/dalpha = sum of dL/dy over x >= alpha")
    func pactUnsigned() throws {
        let q = try PACTQuantizer(bits: 4, initialAlpha: 6)
        let x = tensor([-1, 2, 7, 6])
        #expect(try q.quantize(x).data == [0, 2, 6, 6])
        let dx = q.backward(input: x, gradOutput: tensor([1, 2, 3, 4]))
        #expect(dx.data == [0, 2, 0, 0])
        #expect(q.alpha.grad.data == [7])
        #expect(q.parameters.count == 1)
        #expect(q.alpha.decays == false)
    }

    @Test("PACT signed: range [-alpha, alpha], dL/dalpha = sum over x >= alpha minus sum over x <= -alpha")
    func pactSigned() throws {
        let q = try PACTQuantizer(bits: 2, signed: true, initialAlpha: 1)
        let x = tensor([-2, -0.4, 0.6, 1, 3])
        #expect(try q.quantize(x).data == [-1, 0, 1, 1, 1])
        let dx = q.backward(input: x, gradOutput: tensor([1, 10, 100, 1000, 10000]))
        #expect(dx.data == [0, 10, 100, 0, 0])
        #expect(q.alpha.grad.data == [11000 - 1])
    }

    @Test("PACT alpha gradient matches central differences of sum(g * y) at 16 bits")
    func pactFiniteDifferences() throws {
        let x = randomTensor([200], seed: 4, scale: 2)
        let g = randomTensor([200], seed: 5)
        let alpha: Float = 1.3
        func loss(_ a: Float) throws -> Double {
            let y = try PACTQuantizer(bits: 16, initialAlpha: a).quantize(x)
            return zip(y.data, g.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 1e-3
        let numeric = (try loss(alpha + h) - loss(alpha - h)) / Double(2 * h)
        let q = try PACTQuantizer(bits: 16, initialAlpha: alpha)
        _ = q.backward(input: x, gradOutput: g)
        #expect(abs(Double(q.alpha.grad.data[0]) - numeric) < 0.05 * max(1, abs(numeric)))
    }
}

/// Mean squared error of quantizing `samples` with clip c, computed directly from the formulas.
private func empiricalMSE(_ samples: [Float], clip: Float, bits: Int, signed: Bool) -> Double {
    let steps = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
    let total = samples.reduce(0.0) { sum, x in
        let y: Float
        if steps == 0 {
            y = x >= 0 ? clip : -clip
        } else {
            let s = clip / Float(steps)
            let lower: Float = signed ? -Float(steps) : 0
            y = min(max((x / s).rounded(.toNearestOrEven), lower), Float(steps)) * s
        }
        return sum + Double(x - y) * Double(x - y)
    }
    return total / Double(samples.count)
}
