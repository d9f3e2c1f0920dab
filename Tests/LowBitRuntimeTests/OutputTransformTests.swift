import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Output transforms")
struct OutputTransformTests {
    @Test("float and sign-bit transforms equal their reference twins bit for bit", arguments: KernelPath.supported)
    func matchReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 31)
        for _ in 0..<2_500 {
            let rows = 1 + rng.nextInt(below: 4), n = 1 + rng.nextInt(below: 150), stride = n + rng.nextInt(below: 3)
            let words = PackedBits.wordCount(bits: n)
            let dots = rng.int32s(rows * stride, in: -5000...5000)
            let multiplier = (0..<n).map { _ in rng.nextNormal() * 3 }, bias = (0..<n).map { _ in rng.nextNormal() * 100 }
            var fast = [Float](repeating: 0, count: rows * n), reference = [Float](repeating: 1, count: rows * n)
            lbr_output_float(path.isa, dots, rows, n, stride, multiplier, bias, &fast, n)
            lbr_output_float_ref(dots, rows, n, stride, multiplier, bias, &reference, n)
            #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern))

            let threshold = rng.int32s(n, in: -5000...5000)
            let flips = rng.packedBits(rows: 1, columns: n).words
            var fastBits = [UInt64](repeating: 5, count: rows * words), referenceBits = [UInt64](repeating: 9, count: rows * words)
            lbr_output_bits(path.isa, dots, rows, n, stride, threshold, flips, &fastBits, words)
            lbr_output_bits_ref(dots, rows, n, stride, threshold, flips, &referenceBits, words)
            #expect(fastBits == referenceBits)
        }
    }

    @Test("the fused residual transform equals its reference twin bit for bit, with and without sign bits", arguments: KernelPath.supported)
    func residualMatchesReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 33)
        for trial in 0..<1_500 {
            let rows = 1 + rng.nextInt(below: 4), n = 1 + rng.nextInt(below: 150), stride = n + rng.nextInt(below: 3)
            let words = PackedBits.wordCount(bits: n), activation = lbr_activation(UInt32(trial % 3))
            let dots = rng.int32s(rows * stride, in: -300...300)
            let multiplier = (0..<n).map { _ in rng.nextNormal() * 0.01 }, bias = (0..<n).map { _ in rng.nextNormal() }
            let addend = rng.signedFloats(rows * n)   // NaN, -0 and tiny values reach the activation and the signs
            var fast = [Float](repeating: 0, count: rows * n), reference = [Float](repeating: 1, count: rows * n)
            var fastBits = [UInt64](repeating: 5, count: rows * words), referenceBits = [UInt64](repeating: 9, count: rows * words)
            lbr_output_residual(path.isa, dots, rows, n, stride, multiplier, bias, addend, n, activation, &fast, n, &fastBits, words)
            lbr_output_residual_ref(dots, rows, n, stride, multiplier, bias, addend, n, activation, &reference, n, &referenceBits, words)
            #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern))
            #expect(fastBits == referenceBits)
            var floatsOnly = [Float](repeating: 2, count: rows * n)
            lbr_output_residual(path.isa, dots, rows, n, stride, multiplier, bias, addend, n, activation, &floatsOnly, n, nil, words)
            #expect(floatsOnly.map(\.bitPattern) == reference.map(\.bitPattern))
        }
    }

    @Test("residual transform by hand: the sum, then the activation, then bit j = y < 0")
    func residualByHand() {
        let dots: [Int32] = [4, -4, 10, 0, 3]
        let multiplier: [Float] = [0.5, 0.5, 1, 1, -1], bias: [Float] = [0, 0, -10, 0, 1]
        let addend: [Float] = [-3, 1.5, -0.0, .nan, 0.5]   // sums: -1, -0.5, -0 (0 + -0 = +0), NaN, -1.5
        func run(_ activation: lbr_activation) -> ([Float], UInt64) {
            var out = [Float](repeating: 7, count: 5), bits: [UInt64] = [0xFF]
            lbr_output_residual_ref(dots, 1, 5, 5, multiplier, bias, addend, 5, activation, &out, 5, &bits, 1)
            return (out, bits[0])
        }
        let (none, noneBits) = run(LBR_ACT_NONE)
        #expect(Array(none[0..<3]) == [-1, -0.5, 0] && none[3].isNaN && none[4] == -1.5)
        #expect(noneBits == 0b10011)
        let (relu, reluBits) = run(LBR_ACT_RELU)
        #expect(relu == [0, 0, 0, 0, 0] && reluBits == 0)
        let (hard, hardBits) = run(LBR_ACT_HARDTANH)
        #expect(Array(hard[0..<3]) == [-1, -0.5, 0] && hard[3].isNaN && hard[4] == -1)
        #expect(hardBits == 0b10011)
    }

    @Test("bit j is (dot < threshold) XOR flip, pad bits 0")
    func bitDefinition() {
        let transform = BinaryOutputTransform.signBits(threshold: [0, 0, 5, 5, -3], flip: [false, true, false, true, false])
        let bits = transform.apply([-1, -1, 5, 5, -4], rows: 1).bits!
        #expect(bits.unpacked() == [-1, 1, 1, -1, -1])
        #expect(bits.words == [0b11001])   // bits 0, 3, 4
    }

    @Test("thresholds derived from a float transform give exactly its signs for every dot in -K...K")
    func thresholdsMatchFloatSigns() {
        var rng = SeededGenerator(seed: 32)
        let depth = 300
        var multiplier: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, .nan, 1e-30, -1e30, 3, -3]
        var bias: [Float] = [-1, 1, 0, 0, -0.25, 0.25, 1, -1e-30, 1, 0.5, 0.5]
        for _ in 0..<300 {
            multiplier.append(rng.nextNormal() * (rng.nextInt(below: 2) == 0 ? 1e-3 : 10))
            bias.append(rng.nextNormal() * 200)
        }
        let transform = BinaryOutputTransform.signBits(matching: depth, multiplier: multiplier, bias: bias)
        let floats = BinaryOutputTransform.float(multiplier: multiplier, bias: bias)
        let dots = (-depth...depth).flatMap { d in [Int32](repeating: Int32(d), count: multiplier.count) }
        let rows = 2 * depth + 1
        let bits = transform.apply(dots, rows: rows).bits!, values = floats.apply(dots, rows: rows).floats!
        #expect(bits.unpacked() == values.map { $0 < 0 ? -1 : 1 })
    }

    @Test("scale and BatchNorm fold into multiplier and bias")
    func batchNormFold() {
        let (m, b) = BinaryOutputTransform.foldScaleAndBatchNorm(alpha: [0.5, 2], gamma: [2, -1], beta: [1, 0.5],
                                                                 mean: [3, -2], variance: [3, 0], epsilon: 1)
        // channel 0: 2 * (0.5 d - 3) / 2 + 1 = 0.5 d - 2; channel 1: -(2 d + 2) / 1 + 0.5 = -2 d - 1.5
        #expect(m == [0.5, -2])
        #expect(b == [-2, -1.5])
    }
}
