import LowBitQuant
import LowBitTensor
import Testing

@Suite("Power-of-two weights")
struct PowerOfTwoTests {
    @Test("3 bits: window {2^-2, 2^-1, 2^0} below max|w| = 1; smaller exponents flush to 0")
    func handValues() throws {
        let y = try PowerOfTwoQuantizer(bits: 3).quantize(tensor([1, -0.3, 0.05, 0.7]))
        #expect(y.data == [1, -0.25, 0, 0.5])
        let r = try powerOfTwoQuantize(weights: [1, -0.3, 0.05, 0.7], rowLength: 4, groupSize: 4, bits: 3)
        #expect(r.codes == [3, -1, 0, 2])
        #expect(r.maxExponents == [0])
        let values = try powerOfTwoDequantize(codes: r.codes, maxExponents: r.maxExponents, bits: 3, rowLength: 4, groupSize: 4)
        #expect(values == y.data)
    }

    @Test("Rounding is in the log domain: the boundary between 2^e and 2^(e+1) is sqrt(2) * 2^e",
          arguments: [
              (Float(1.41), Float(1)), (1.42, 2), (0.75, 1), (0.7, 0.5), (2.83, 4), (2.82, 2), (-1.42, -2),
          ])
    func logDomainRounding(value: Float, expected: Float) throws {
        // max|w| = 4 and 8 bits: the window reaches far below every value here.
        let y = try PowerOfTwoQuantizer(bits: 8).quantize(tensor([4, value]))
        #expect(y.data[1] == expected)
    }

    @Test("Per channel: each row has its own window")
    func perChannel() throws {
        // 2 bits: a single exponent per row. Row 0: 2^0 (0.3 -> 2^-2 < window -> 0); row 1: 2^3 (3 -> 2^2 -> 0).
        let y = try PowerOfTwoQuantizer(bits: 2, granularity: .channel).quantize(tensor([1, 0.3, 8, -3], shape: [2, 2]))
        #expect(y.data == [1, 0, 8, 0])
    }

    @Test("Single element and all zeros")
    func edges() throws {
        #expect(try PowerOfTwoQuantizer(bits: 4).quantize(tensor([-0.3])).data == [-0.25])
        #expect(try PowerOfTwoQuantizer(bits: 4).quantize(.zeros([2, 3])).data == [Float](repeating: 0, count: 6))
    }

    @Test("The largest float does not overflow: eMax is capped at 127")
    func hugeValues() throws {
        let y = try PowerOfTwoQuantizer(bits: 4).quantize(tensor([Float.greatestFiniteMagnitude, -1e38]))
        #expect(y.data == [Float(sign: .plus, exponent: 127, significand: 1), Float(sign: .minus, exponent: 126, significand: 1)])
    }

    @Test("Bits outside 2...8 are rejected", arguments: [0, 1, 9, 33])
    func badBits(bits: Int) {
        #expect(isInvalidArgument(lowBitError { try PowerOfTwoQuantizer(bits: bits) }))
    }

    @Test("Straight-through gradient is the identity")
    func gradient() throws {
        let g = tensor([1, 2, 3])
        #expect(try PowerOfTwoQuantizer(bits: 3).backward(input: tensor([5, -0.01, 0]), gradOutput: g) == g)
    }
}
