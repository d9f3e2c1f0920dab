import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Ternary GEMM with group scales")
struct TernaryGEMMTests {
    static func randomTernary(_ rng: inout SeededGenerator, n: Int, k: Int, group: Int) -> ([Int8], [Float]) {
        let values = rng.ternaryValues(n * k)
        let scales = (0..<(n * ((k + group - 1) / group))).map { _ in rng.nextUniform() + 0.01 }
        return (values, scales)
    }

    /// Float tolerance: each path sums the same exact integer group sums times the scales, in a
    /// different order (and with or without FMA), so the error is a few float ulps of the sum of
    /// the terms' magnitudes.
    static func tolerance(_ magnitude: Double) -> Double { magnitude * 1e-5 + 1e-5 }

    @Test("8-bit activations: the fast path equals the reference twin within float rounding", arguments: KernelPath.supported)
    func bytesMatchReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 71)
        for trial in 0..<3_000 {
            let group = [4, 4, 8, 12, 16, 64][trial % 6]
            let m = 1 + rng.nextInt(below: 5), n = 1 + rng.nextInt(below: 30), k = 1 + rng.nextInt(below: trial % 20 == 0 ? 700 : 90)
            let (values, scales) = Self.randomTernary(&rng, n: n, k: k, group: group)
            let input = rng.bytes(m * k), correction = (0..<n).map { _ in rng.nextNormal() * 50 }, bias = (0..<n).map { _ in rng.nextNormal() }
            var fast = [Float](repeating: 0, count: m * n), reference = [Float](repeating: 0, count: m * n)
            let packedValues = ternaryLayout(values, n: n, k: k, group: group, scales: scales)
            lbr_tgemm_u8(path.isa, input, k, 0, m, packedValues.values, packedValues.scales, n, k, group, 0.5, correction, bias, &fast, n)
            lbr_tgemm_u8_ref(input, k, m, values, k, scales, (k + group - 1) / group, n, k, group, 0.5, correction, bias, &reference, n)
            let magnitude = Double(255 * k) * Double(scales.max()!) + 100
            #expect(fast.indices.allSatisfy { abs(Double(fast[$0] - reference[$0])) <= Self.tolerance(magnitude) })
        }
    }

    private func ternaryLayout(_ values: [Int8], n: Int, k: Int, group: Int, scales: [Float]) -> (values: [Int8], scales: [Float]) {
        var packed = [Int8](repeating: 0, count: lbr_tgemm_packed_weight_bytes(n, k))
        var packedScales = [Float](repeating: 0, count: lbr_tgemm_packed_scale_count(n, k, group))
        lbr_tgemm_pack_weights(values, k, scales, (k + group - 1) / group, n, k, group, &packed, &packedScales)
        return (packed, packedScales)
    }

    @Test("binary activations: the 0/1 byte expansion equals the reference twin on odd shapes and groups",
          arguments: KernelPath.supported)
    func signsMatchReference(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 72)
        for trial in 0..<1_500 {
            let group = [4, 4, 4, 8, 12, 16, 64, 128][trial % 8]
            let m = 1 + rng.nextInt(below: 4), n = 1 + rng.nextInt(below: 20)
            let k = 1 + rng.nextInt(below: trial % 10 == 0 ? 1_500 : 260)
            let (values, scales) = Self.randomTernary(&rng, n: n, k: k, group: group)
            let gemm = try TernaryGEMM(values: values, scales: scales, outputCount: n, inputCount: k, groupSize: group)
            let input = rng.packedBits(rows: m, columns: k)
            let fast = try gemm.multiply(signs: input, path: path)
            var bytes = [UInt8](repeating: 0, count: m * k), reference = [Float](repeating: 0, count: m * n)
            lbr_unpack_bits_u8_ref(input.words, m, k, input.wordsPerRow, &bytes, k)
            lbr_tgemm_u8_ref(bytes, k, m, values, k, scales, gemm.groupCount, n, k, group, -2,
                             [Float](repeating: 0, count: n), gemm.scaledValueSums, &reference, n)
            let magnitude = 2 * Double(k) * Double(scales.max()!)
            #expect(fast.indices.allSatisfy { abs(Double(fast[$0] - reference[$0])) <= Self.tolerance(magnitude) })
        }
    }

    /// Convolution patches read in place (zero frame + lbr_tgemm_u8_patches) go through the same kernel as
    /// the im2col rows, so the floats are identical, for every geometry and group size.
    @Test("convolution patches read in place give the im2col rows' floats exactly", arguments: KernelPath.supported)
    func patchesMatchIm2col(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 75)
        for trial in 0..<300 {
            let shape = try BinaryConvTests.randomShape(&rng), batch = 1 + trial % 3, group = [4, 8, 12, 16][trial % 4]
            let k = shape.weightsPerOutput, n = shape.outputChannels
            let (values, scales) = Self.randomTernary(&rng, n: n, k: k, group: group)
            let gemm = try TernaryGEMM(values: values, scales: scales, outputCount: n, inputCount: k, groupSize: group)
            let codes = rng.bytes(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)
            let bias = (0..<n).map { _ in rng.nextNormal() }
            let rows = batch * shape.outputHeight * shape.outputWidth
            let columns = IntegerPatches.convolution(shape).expand(codes, batch: batch)
            let expected = try gemm.multiply(uint8: columns, rows: rows, inputScale: 0.03, inputZeroPoint: 0, bias: bias, path: path)
            let inPlace = try gemm.multiplyPatches(uint8: codes, shape: shape, batch: batch, inputScale: 0.03, bias: bias, path: path)
            #expect(inPlace.map(\.bitPattern) == expected.map(\.bitPattern), "\(shape) batch \(batch) group \(group)")
        }
    }

    @Test("unpacking sign bits to bytes equals the reference", arguments: KernelPath.supported)
    func unpackMatchesReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 74)
        for _ in 0..<1_500 {
            let rows = 1 + rng.nextInt(below: 4), columns = 1 + rng.nextInt(below: 300)
            let bits = rng.packedBits(rows: rows, columns: columns)
            var fast = [UInt8](repeating: 9, count: rows * columns), reference = [UInt8](repeating: 7, count: rows * columns)
            lbr_unpack_bits_u8(path.isa, bits.words, rows, columns, bits.wordsPerRow, &fast, columns)
            lbr_unpack_bits_u8_ref(bits.words, rows, columns, bits.wordsPerRow, &reference, columns)
            #expect(fast == reference)
        }
    }

    @Test("weights from the two bit-planes equal weights from values")
    func fromBitPlanes() throws {
        var rng = SeededGenerator(seed: 75)
        let (values, scales) = Self.randomTernary(&rng, n: 6, k: 70, group: 8)
        let plus = PackedBits(packing: values.map { $0 > 0 ? -1 : 1 }, rows: 6, columns: 70)
        let minus = PackedBits(packing: values.map { $0 < 0 ? -1 : 1 }, rows: 6, columns: 70)
        let fromPlanes = try TernaryGEMM(plus: plus, minus: minus, scales: scales, groupSize: 8)
        let fromValues = try TernaryGEMM(values: values, scales: scales, outputCount: 6, inputCount: 70, groupSize: 8)
        let x = rng.bytes(2 * 70)
        #expect(try fromPlanes.multiply(uint8: x, rows: 2, inputScale: 1, inputZeroPoint: 0)
                == fromValues.multiply(uint8: x, rows: 2, inputScale: 1, inputZeroPoint: 0))
        #expect(throws: LowBitError.self) { try TernaryGEMM(plus: plus, minus: plus, scales: scales, groupSize: 8) }
    }

    @Test("the public API equals sum_g alpha * sum t * x for uint8 and int8 (scale, zero point) and signs, computed in double")
    func matchesDoubleFormula() throws {
        var rng = SeededGenerator(seed: 73)
        for path in KernelPath.supported {
            for (n, k, group) in [(5, 7, 4), (17, 130, 4), (9, 64, 8), (3, 201, 64), (8, 96, 12)] {
                let m = 3
                let (values, scales) = Self.randomTernary(&rng, n: n, k: k, group: group)
                let gemm = try TernaryGEMM(values: values, scales: scales, outputCount: n, inputCount: k, groupSize: group)
                let unsigned = rng.bytes(m * k), signed = rng.bytes(m * k).map { Int8(bitPattern: $0) }
                let bias = (0..<n).map { Float($0) / 4 }
                let fromUnsigned = try gemm.multiply(uint8: unsigned, rows: m, inputScale: 0.1, inputZeroPoint: 120, bias: bias, path: path)
                let fromSigned = try gemm.multiply(int8: signed, rows: m, inputScale: 0.25, inputZeroPoint: -3, path: path)
                let signs = rng.signedFloats(m * k)
                let fromSigns = try gemm.multiply(signs: PackedBits(packing: signs, rows: m, columns: k), path: path)
                func expected(_ x: (Int) -> Double, row: Int, column j: Int) -> (value: Double, magnitude: Double) {
                    var sum = 0.0, magnitude = 0.0
                    for kk in 0..<k {
                        let term = Double(scales[j * gemm.groupCount + kk / group]) * Double(values[j * k + kk]) * x(row * k + kk)
                        sum += term
                        magnitude += abs(term)
                    }
                    return (sum, magnitude)
                }
                for i in 0..<m {
                    for j in 0..<n {
                        let u = expected({ 0.1 * (Double(unsigned[$0]) - 120) }, row: i, column: j)
                        #expect(abs(Double(fromUnsigned[i * n + j]) - u.value - Double(bias[j])) <= Self.tolerance(u.magnitude * 40))
                        let s = expected({ 0.25 * (Double(signed[$0]) + 3) }, row: i, column: j)
                        #expect(abs(Double(fromSigned[i * n + j]) - s.value) <= Self.tolerance(s.magnitude * 40))
                        let b = expected({ signs[$0] < 0 ? -1 : 1 }, row: i, column: j)
                        #expect(abs(Double(fromSigns[i * n + j]) - b.value) <= Self.tolerance(b.magnitude * 4))
                    }
                }
            }
        }
    }

    @Test("invalid ternary weights are rejected with a message")
    func validation() {
        #expect(throws: LowBitError.self) { try TernaryGEMM(values: [2, 0, 0, 0], scales: [1], outputCount: 1, inputCount: 4, groupSize: 4) }
        #expect(throws: LowBitError.self) { try TernaryGEMM(values: [1, 0, 0, 0], scales: [1], outputCount: 1, inputCount: 4, groupSize: 6) }
        #expect(throws: LowBitError.self) { try TernaryGEMM(values: [1, 0, 0, 0], scales: [1, 1], outputCount: 1, inputCount: 4, groupSize: 4) }
        let gemm = try? TernaryGEMM(values: [Int8](repeating: 1, count: 24), scales: [1, 1], outputCount: 1, inputCount: 24, groupSize: 12)
        #expect(throws: LowBitError.self) { try gemm?.multiply(signs: PackedBits(rows: 1, columns: 23)) }
    }
}
