import LowBitQuant
import LowBitTensor
import Testing

@Suite("Fixed point and dynamic fixed point")
struct FixedPointTests {
    @Test("Q1.2: 1.5 -> 2 and 2.5 -> 2 (half to even), clamp to [-8, 7] codes")
    func q12() throws {
        let y = try FixedPointQuantizer(intBits: 1, fracBits: 2).quantize(tensor([0.375, 0.625, -3, 1.8, -0.125]))
        #expect(y.data == [0.5, 0.5, -2, 1.75, 0])
    }

    @Test("Q3.4 codes: two's complement range of 8 bits")
    func q34Codes() throws {
        let codes = try fixedPointQuantize(weights: [1.03125, -8, -9, 7.97, 0.09375], totalBits: 8, fracBits: 4)
        #expect(codes == [16, -128, -128, 127, 2])
        #expect(fixedPointDequantize(codes: codes, fracBits: 4) == [1, -8, -8, 7.9375, 0.125])
    }

    @Test("Q0.0 is one bit: values -1 and 0")
    func oneBit() throws {
        let y = try FixedPointQuantizer(intBits: 0, fracBits: 0).quantize(tensor([0.4, -0.6, 5, -0.5]))
        #expect(y.data == [0, -1, 0, 0])
    }

    @Test("32 bits (Q15.16) keeps integers up to 2^15 exactly")
    func thirtyTwoBits() throws {
        let codes = try fixedPointQuantize(weights: [1.5, -32768, 40000], totalBits: 32, fracBits: 16)
        #expect(codes == [98304, Int32.min, Int32.max])
    }

    @Test("Straight-through gradient passes where the clamp did not bind")
    func gradient() throws {
        // Q1.2 codes -8...7: 1.8 -> 7.2 in, 1.9 -> 7.6 -> 8 out, -2.1 -> -8.4 in, -2.2 -> -8.8 out.
        let g = try FixedPointQuantizer(intBits: 1, fracBits: 2).backward(input: tensor([1.8, 1.9, -2.1, -2.2, 0]),
                                                                          gradOutput: tensor([1, 2, 3, 4, 5]))
        #expect(g.data == [1, 0, 3, 0, 5])
    }

    @Test("Invalid formats are rejected", arguments: [(0, 32), (32, 0), (-1, 3), (3, -1), (20, 12)])
    func badFormats(intBits: Int, fracBits: Int) {
        #expect(isInvalidArgument(lowBitError { try FixedPointQuantizer(intBits: intBits, fracBits: fracBits) }))
    }

    @Test("Total bits 0 or 33 are rejected by the pure function", arguments: [0, 33])
    func badTotalBits(bits: Int) {
        #expect(isInvalidArgument(lowBitError { try fixedPointQuantize(weights: [1], totalBits: bits, fracBits: 0) }))
    }

    @Test("Dynamic fraction bits: the largest F with max * 2^F <= 2^(k-1) - 1",
          arguments: [
              (Float(3), 8, 5), (127, 8, 0), (128, 8, -1), (0.001, 8, 16), (1000, 4, -8), (0, 8, 0), (1, 2, 0), (0.5, 2, 1),
          ])
    func dynamicFractionBits(maxMagnitude: Float, bits: Int, expected: Int) {
        #expect(dynamicFixedPointFractionBits(maxMagnitude: maxMagnitude, bits: bits) == expected)
    }

    @Test("Dynamic fixed point: hand values, including a negative fraction length")
    func dynamicHandValues() throws {
        #expect(try DynamicFixedPointQuantizer(bits: 8).quantize(tensor([3, 0.1])).data == [3, 0.09375])
        // 4 bits, max 1000: F = -8, step 256: 1000 / 256 = 3.9 -> 4.
        #expect(try DynamicFixedPointQuantizer(bits: 4).quantize(tensor([1000, 1, -200])).data == [1024, 0, -256])
        #expect(try DynamicFixedPointQuantizer(bits: 8).quantize(.zeros([4])).data == [0, 0, 0, 0])
    }

    @Test("Dynamic fixed point STE is the identity: F is chosen so that nothing saturates")
    func dynamicGradient() throws {
        let x = randomTensor([3, 5], seed: 2, scale: 40)
        let g = randomTensor([3, 5], seed: 3)
        #expect(try DynamicFixedPointQuantizer(bits: 6).backward(input: x, gradOutput: g) == g)
    }

    @Test("Dynamic fixed point bits outside 2...32 are rejected", arguments: [0, 1, 33])
    func dynamicBadBits(bits: Int) {
        #expect(isInvalidArgument(lowBitError { try DynamicFixedPointQuantizer(bits: bits) }))
    }
}
