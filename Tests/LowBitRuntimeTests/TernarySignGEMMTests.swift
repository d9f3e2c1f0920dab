import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Ternary weights x sign bits with 7-bit scale codes")
struct TernarySignGEMMTests {
    /// sum_g code[j][g] * sum_{k in g} t[j][k] * x[i][k], x = -1 where bit k of row i is set: plain
    /// Swift integer loops over the unpacked values, independent of the C kernels and their layout.
    static func expectedDots(_ input: PackedBits, values: [Int8], codes: [UInt8], n: Int, k: Int, group: Int) -> [Int] {
        let groups = (k + group - 1) / group
        var out = [Int](repeating: 0, count: input.rows * n)
        for i in 0..<input.rows {
            let signs = (0..<k).map { input.bit(row: i, column: $0) ? -1 : 1 }
            for j in 0..<n {
                var total = 0
                for g in 0..<groups {
                    var sum = 0
                    for kk in (g * group)..<min(k, (g + 1) * group) { sum += Int(values[j * k + kk]) * signs[kk] }
                    total += Int(codes[j * groups + g]) * sum
                }
                out[i * n + j] = total
            }
        }
        return out
    }

    static func randomCodes(_ rng: inout SeededGenerator, _ count: Int) -> [UInt8] {
        (0..<count).map { _ in rng.nextInt(below: 8) == 0 ? 127 : UInt8(rng.nextInt(below: 128)) }
    }

    @Test("dot products equal the integer definition exactly on over 100,000 outputs of odd shapes and groups",
          arguments: KernelPath.supported)
    func dotsMatchDefinition(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 83)
        var outputs = 0
        for trial in 0..<1_600 {
            let group = [4, 4, 8, 12, 16, 64][trial % 6]
            let m = 1 + rng.nextInt(below: 9), n = 1 + rng.nextInt(below: 24)
            let k = 1 + rng.nextInt(below: trial % 10 == 0 ? 1_100 : 300)
            let values = rng.ternaryValues(n * k), groups = (k + group - 1) / group
            let codes = Self.randomCodes(&rng, n * groups)
            let gemm = try TernarySignGEMM(values: values, scaleCodes: codes, units: [Float](repeating: 1, count: n),
                                           outputCount: n, inputCount: k, groupSize: group)
            // Rows wider than needed sometimes, with junk in the spare words: only k bits are read.
            let extra = rng.nextInt(below: 2), words = PackedBits.wordCount(bits: k) + extra
            var input = PackedBits(rows: m, columns: k, wordsPerRow: words)
            let random = rng.packedBits(rows: m, columns: k)
            for r in 0..<m {
                for w in 0..<words { input.words[r * words + w] = w < random.wordsPerRow ? random.words[r * random.wordsPerRow + w] : rng.next() }
            }
            let dots = try gemm.dotProducts(signs: input, path: path)
            let expected = Self.expectedDots(input, values: values, codes: codes, n: n, k: k, group: group)
            #expect(dots.map(Int.init) == expected, "m \(m) n \(n) k \(k) group \(group)")
            if trial % 50 == 0 {   // the C reference twin agrees too
                var reference = [Int32](repeating: 0, count: m * n)
                lbr_tsgemm_ref(input.words, words, m, values, k, codes, groups, n, k, group, &reference, n)
                #expect(reference.map(Int.init) == expected)
            }
            outputs += m * n
        }
        #expect(outputs >= 100_000)
    }

    @Test("the largest sums (k = 8192, every code 127) widen from int16 before they overflow", arguments: KernelPath.supported)
    func extremes(path: KernelPath) throws {
        let k = 8_192
        for (value, sign) in [(Int8(1), Float(-1)), (Int8(-1), Float(-1)), (Int8(1), Float(1))] {
            let gemm = try TernarySignGEMM(values: [Int8](repeating: value, count: 2 * k), scaleCodes: [UInt8](repeating: 127, count: 2 * k / 4),
                                           units: [1, 1], outputCount: 2, inputCount: k, groupSize: 4)
            let dots = try gemm.dotProducts(signs: PackedBits(packing: [Float](repeating: sign, count: 5 * k), rows: 5, columns: k), path: path)
            #expect(dots == [Int32](repeating: Int32(value) * Int32(sign) * 127 * Int32(k), count: 10))
        }
    }

    @Test("multiply is unit * dots + bias; the decoded scales are unit * code")
    func floats() throws {
        var rng = SeededGenerator(seed: 89)
        let (n, k, group, m) = (13, 200, 8, 6)
        let values = rng.ternaryValues(n * k), scales = (0..<(n * 25)).map { _ in rng.nextUniform() * 3 }
        let gemm = try TernarySignGEMM(values: values, scales: scales, outputCount: n, inputCount: k, groupSize: group)
        let input = rng.packedBits(rows: m, columns: k), bias = (0..<n).map { _ in rng.nextNormal() }
        for path in KernelPath.supported {
            let dots = try gemm.dotProducts(signs: input, path: path)
            let y = try gemm.multiply(signs: input, bias: bias, path: path)
            for index in y.indices {
                let expected = Double(gemm.units[index % n]) * Double(dots[index]) + Double(bias[index % n])
                #expect(abs(Double(y[index]) - expected) <= 1e-6 * abs(expected) + 1e-5)
            }
            // Against the float-scale kernel run on the decoded scales.
            let floatScales = try TernaryGEMM(values: values, scales: gemm.scales, outputCount: n, inputCount: k, groupSize: group)
            let reference = try floatScales.multiply(signs: input, path: path)
            for index in y.indices { #expect(abs(y[index] - bias[index % n] - reference[index]) <= 1e-3) }
        }
        let decoded = gemm.scales
        for j in 0..<n {
            #expect(gemm.scaleCodes[(j * 25)..<((j + 1) * 25)].max() == 127)
            for g in 0..<25 { #expect(abs(decoded[j * 25 + g] - scales[j * 25 + g]) <= abs(gemm.units[j]) / 2 * 1.0001) }
        }
    }

    @Test("encoding: one sign per row, zero rows, rounding to the nearest code")
    func encoding() throws {
        let (codes, units) = try TernarySignGEMM.encode(scales: [127, 63.5, 0, 0.4, 0, 0, 0, 0, -127, -63, -1.5, 0], groupCount: 4)
        #expect(units == [1, 0, -1])
        #expect(codes == [127, 64, 0, 0, 0, 0, 0, 0, 127, 63, 2, 0])   // halves round away from zero
        #expect(throws: LowBitError.self) { try TernarySignGEMM.encode(scales: [1, -1], groupCount: 2) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM.encode(scales: [1, .nan], groupCount: 2) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM.encode(scales: [1, 2, 3], groupCount: 2) }
    }

    @Test("bad weights, codes, units and inputs are rejected with a message")
    func validation() throws {
        let ones = [Int8](repeating: 1, count: 8)
        #expect(throws: LowBitError.self) { try TernarySignGEMM(values: ones, scaleCodes: [1, 1], units: [1], outputCount: 1, inputCount: 8, groupSize: 6) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM(values: [2] + ones.dropFirst(), scaleCodes: [1, 1], units: [1], outputCount: 1, inputCount: 8, groupSize: 4) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM(values: ones, scaleCodes: [1, 128], units: [1], outputCount: 1, inputCount: 8, groupSize: 4) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM(values: ones, scaleCodes: [1], units: [1], outputCount: 1, inputCount: 8, groupSize: 4) }
        #expect(throws: LowBitError.self) { try TernarySignGEMM(values: ones, scaleCodes: [1, 1], units: [.infinity], outputCount: 1, inputCount: 8, groupSize: 4) }
        let gemm = try TernarySignGEMM(values: ones, scaleCodes: [1, 1], units: [1], outputCount: 1, inputCount: 8, groupSize: 4)
        #expect(throws: LowBitError.self) { try gemm.dotProducts(signs: PackedBits(rows: 1, columns: 7)) }
        #expect(throws: LowBitError.self) { try gemm.multiply(signs: PackedBits(rows: 1, columns: 8), bias: [1, 2]) }
    }
}

/// Ternary convolutions and dense steps on sign-bit inputs in packed models (`TernarySignOperation`).
@Suite("Ternary steps on sign bits")
struct TernarySignOperationTests {
    @Test("a convolution equals the zero-padded sum of decoded scale * t * sign(x), on random shapes and groups")
    func convolution() throws {
        var rng = SeededGenerator(seed: 91)
        var checked = 0
        for trial in 0..<120 {
            var shape = try BinaryConvTests.randomShape(&rng)
            // Channels that are multiples of 4 (any group of 4k) or any channels with one group per row.
            let perRow = trial % 4 == 3
            if !perRow && shape.inputChannels % 4 != 0 {
                shape = try Conv2DShape(inputHeight: shape.inputHeight, inputWidth: shape.inputWidth, inputChannels: [4, 8, 16, 64, 68][trial % 5],
                                        outputChannels: shape.outputChannels, kernelHeight: shape.kernelHeight, kernelWidth: shape.kernelWidth,
                                        strideHeight: shape.strideHeight, strideWidth: shape.strideWidth, padding: shape.padding)
            }
            let k = shape.weightsPerOutput, n = shape.outputChannels, batch = 1 + trial % 2
            let group = perRow ? (k + 3) / 4 * 4 : [4, 8, 12][trial % 3]
            let groups = (k + group - 1) / group
            let values = rng.ternaryValues(n * k)
            // Per output one sign for all its scales (BatchNorm-folded FGQ scales can be negative).
            let scales = (0..<(n * groups)).map { i in (i / groups % 3 == 2 ? -1 : 1) * (rng.nextUniform() + 0.05) }
            let bias = (0..<n).map { _ in rng.nextNormal() }
            let operation = try TernarySignOperation(name: "conv", patches: .convolution(shape), values: values, scales: scales,
                                                     groupSize: group, bias: bias)
            let decoded = try TernarySignGEMM.encode(scales: scales, groupCount: groups)
            let x = rng.signedFloats(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)
            let y = try operation.run(.float(x), batch: batch).floats
            let pixels = shape.outputHeight * shape.outputWidth, perImage = shape.inputHeight * shape.inputWidth * shape.inputChannels
            for index in y.indices {
                let b = index / (pixels * n), pixel = (index / n) % pixels, j = index % n
                let (oy, ox) = (pixel / shape.outputWidth, pixel % shape.outputWidth)
                var integer = 0, magnitude = 0.0
                for ky in 0..<shape.kernelHeight {
                    for kx in 0..<shape.kernelWidth where !shape.isPadded(outputY: oy, outputX: ox, ky: ky, kx: kx) {
                        let iy = oy * shape.strideHeight - shape.rows.padBefore + ky, ix = ox * shape.strideWidth - shape.columns.padBefore + kx
                        for c in 0..<shape.inputChannels {
                            let kk = (ky * shape.kernelWidth + kx) * shape.inputChannels + c
                            let sign = x[b * perImage + (iy * shape.inputWidth + ix) * shape.inputChannels + c] < 0 ? -1 : 1
                            integer += Int(decoded.codes[j * groups + kk / group]) * Int(values[j * k + kk]) * sign
                            magnitude += Double(decoded.codes[j * groups + kk / group])
                        }
                    }
                }
                let expected = Double(decoded.units[j]) * Double(integer) + Double(bias[j])
                #expect(abs(Double(y[index]) - expected) <= 1e-6 * abs(Double(decoded.units[j])) * magnitude + 1e-5,
                        "\(shape) group \(group): \(y[index]) vs \(expected)")
                checked += 1
            }
        }
        #expect(checked >= 20_000)
    }

    @Test("groups that would share 4 consecutive bits (6 channels, groups of 4) are refused by name")
    func misalignedGroups() throws {
        let shape = try Conv2DShape(inputHeight: 4, inputWidth: 4, inputChannels: 6, outputChannels: 2, kernelSize: 3, stride: 1, padding: .same)
        #expect {
            try TernarySignOperation(name: "conv2", patches: .convolution(shape), values: [Int8](repeating: 1, count: 2 * 54),
                                     scales: [Float](repeating: 1, count: 2 * 14), groupSize: 4, bias: [0, 0])
        } throws: { "\($0)".contains("conv2") && "\($0)".contains("6 input channels") }
    }
}
