import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Int8 GEMM")
struct Int8GEMMTests {
    /// The im2col rows (`lbr_im2col_bytes`, zero bytes at padded taps) of NHWC codes: the reference
    /// GEMM input the in-place patch kernels must match.
    static func im2colRows(_ codes: [UInt8], shape: Conv2DShape, batch: Int) -> [UInt8] {
        let rows = batch * shape.outputHeight * shape.outputWidth
        var geometry = shape.kernelGeometry(batch: batch)
        var columns = [UInt8](repeating: 0, count: rows * shape.weightsPerOutput)
        lbr_im2col_bytes(codes, shape.inputChannels, &geometry, 0, rows, &columns)
        return columns
    }

    @Test("accumulators equal the reference for uint8 and int8 activations over odd shapes", arguments: KernelPath.supported)
    func matchesReference(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 61)
        for trial in 0..<3_000 {
            let m = 1 + rng.nextInt(below: 7), n = 1 + rng.nextInt(below: 40)
            let k = trial % 50 == 0 ? 250 + rng.nextInt(below: 600) : 1 + rng.nextInt(below: 70)
            let weights = rng.bytes(n * k).map { Int8(bitPattern: $0) }
            let input = rng.bytes(m * k), signed = trial % 2 == 0
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
            let fast = signed ? try gemm.accumulate(int8: input.map { Int8(bitPattern: $0) }, rows: m, path: path)
                              : try gemm.accumulate(uint8: input, rows: m, path: path)
            var reference = [Int32](repeating: 0, count: m * n)
            lbr_i8gemm_ref(input, signed ? 1 : 0, k, m, weights, k, n, k, &reference, n)
            #expect(fast == reference, "m \(m) n \(n) k \(k)")
        }
    }

    /// Batch 1 to 3 dense products take the int16 kernel (the one-row tile at batch 1) with threads
    /// splitting the 16-column weight tiles: large enough to split, a partial last tile, odd k, and
    /// inputs that would otherwise take the vpmaddubsw kernel (7-bit codes, sparse high bits).
    @Test("batch 1-3 dense products split by columns across threads equal the reference", arguments: KernelPath.supported)
    func fewRowsSplitColumns(path: KernelPath) throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var rng = SeededGenerator(seed: 63)
        for (trial, (n, k)) in [(200, 1499), (1000, 700), (17, 3), (64, 2048)].enumerated() {
            let weights = rng.bytes(n * k).map { Int8(bitPattern: $0) }
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
            for m in 1...3 {
                Parallel.threadCount = 2 + (trial + m) % 2
                let full = rng.bytes(m * k), sevenBit = full.map { $0 & 127 }
                let sparseHigh = sevenBit.map { rng.nextInt(below: 50) == 0 ? $0 | 128 : $0 }
                for (input, signed) in [(full, false), (full, true), (sevenBit, false), (sparseHigh, false)] {
                    let fast = signed ? try gemm.accumulate(int8: input.map { Int8(bitPattern: $0) }, rows: m, path: path)
                                      : try gemm.accumulate(uint8: input, rows: m, path: path)
                    var reference = [Int32](repeating: 0, count: m * n)
                    lbr_i8gemm_ref(input, signed ? 1 : 0, k, m, weights, k, n, k, &reference, n)
                    #expect(fast == reference, "m \(m) n \(n) k \(k) signed \(signed) threads \(Parallel.threadCount)")
                }
            }
        }
    }

    /// The convolution path reads patches in place from a zero frame; it must equal the GEMM over
    /// lbr_im2col_bytes' rows (zero bytes at padded taps) for every geometry.
    @Test("convolution patches read in place equal the GEMM over im2col rows", arguments: KernelPath.supported)
    func patchesMatchIm2col(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 62)
        for trial in 0..<400 {
            let shape = try BinaryConvTests.randomShape(&rng), batch = 1 + trial % 3, signed = trial % 2 == 1
            let k = shape.weightsPerOutput, n = shape.outputChannels
            let weights = rng.bytes(n * k).map { Int8(bitPattern: $0) }
            let codes = rng.bytes(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
            let rows = batch * shape.outputHeight * shape.outputWidth
            let columns = Self.im2colRows(codes, shape: shape, batch: batch)
            var reference = [Int32](repeating: 0, count: rows * n)
            lbr_i8gemm_ref(columns, signed ? 1 : 0, k, rows, weights, k, n, k, &reference, n)
            let fast = signed ? try gemm.accumulatePatches(codes.map { Int8(bitPattern: $0) }, shape: shape, batch: batch, path: path)
                              : try gemm.accumulatePatches(codes, shape: shape, batch: batch, path: path)
            #expect(fast == reference, "\(shape) batch \(batch) signed \(signed)")
        }
    }

    /// Weights of at most 64 in magnitude take lbr_i8gemm_small (vpmaddubsw, int16 sums over several
    /// steps): dense rows and convolution patches, for 8-bit inputs and for k-bit inputs with their
    /// bound (which lets more steps sum in int16), against the plain int32 definition.
    @Test("small weights (|w| <= 64) take the vpmaddubsw kernel and stay exact, dense and convolution", arguments: KernelPath.supported)
    func smallWeights(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 63)
        var outputs = 0
        for trial in 0..<1_500 {
            // Weights up to 64 with 8-bit or 4-bit inputs; full-range weights (128) with 7-bit inputs.
            let largest = [7, 7, 1, 15, 64, 128][trial % 6]
            let inputMax: Int32 = largest == 128 ? 127 : trial % 3 == 0 ? 15 : 255
            let dense = trial % 4 != 3
            let shape = try BinaryConvTests.randomShape(&rng)
            let m = dense ? 1 + rng.nextInt(below: 9) : 0, n = dense ? 1 + rng.nextInt(below: 40) : shape.outputChannels
            let k = dense ? (trial % 50 == 0 ? 500 + rng.nextInt(below: 3_000) : 1 + rng.nextInt(below: 90)) : shape.weightsPerOutput
            // Codes at the extremes a quarter of the time, so the int16 sums reach their bound.
            let weights = (0..<(n * k)).map { _ in
                Int8(clamping: rng.nextInt(below: 4) == 0 ? (rng.nextInt(below: 2) == 0 ? largest : -largest) : rng.nextInt(below: 2 * largest + 1) - largest)
            }
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k, inputMax: UInt8(inputMax))
            #expect(gemm.largestWeight <= largest && gemm.smallKernelSteps(inputMax: inputMax) != nil)
            func code() -> UInt8 { rng.nextInt(below: 4) == 0 ? UInt8(inputMax) : UInt8(rng.nextInt(below: Int(inputMax) + 1)) }
            let fast: [Int32], rows: [UInt8], rowCount: Int
            if dense {
                rows = (0..<(m * k)).map { _ in code() }
                rowCount = m
                fast = try gemm.accumulate(uint8: rows, rows: m, inputMax: UInt8(inputMax), path: path)
            } else {
                let batch = 1 + trial % 2
                let codes = (0..<(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)).map { _ in code() }
                rowCount = batch * shape.outputHeight * shape.outputWidth
                rows = Self.im2colRows(codes, shape: shape, batch: batch)
                fast = try gemm.accumulatePatches(codes, shape: shape, batch: batch, inputMax: inputMax, path: path)
            }
            var expected = [Int32](repeating: 0, count: rowCount * n)
            for i in 0..<rowCount {
                for j in 0..<n {
                    var sum: Int32 = 0
                    for kk in 0..<k { sum += Int32(rows[i * k + kk]) * Int32(weights[j * k + kk]) }
                    expected[i * n + j] = sum
                }
            }
            #expect(fast == expected, "dense \(dense) n \(n) k \(k) largest \(largest) inputMax \(inputMax)")
            outputs += fast.count
        }
        #expect(outputs >= 100_000)
        let gemm = try Int8GEMM(weights: [7, -7], outputCount: 1, inputCount: 2)
        #expect(try gemm.accumulate(uint8: [15, 1], rows: 1, inputMax: 15) == [98])
        #expect(throws: LowBitError.self) { try gemm.accumulate(uint8: [16, 1], rows: 1, inputMax: 15) }
        // Weights past 64 keep the int16 path for 8-bit inputs; 7-bit inputs take any int8 weight.
        #expect(try Int8GEMM(weights: [65, 0], outputCount: 1, inputCount: 2).smallKernelSteps(inputMax: 255) == nil)
        let fullRange = try Int8GEMM(weights: [-128, 127, 127, -128, 5], outputCount: 1, inputCount: 5, inputMax: 127)
        #expect(fullRange.smallKernelSteps(inputMax: 127) == 1 && fullRange.smallKernelSteps(inputMax: 128) == nil)
        for path in KernelPath.supported {
            #expect(try fullRange.accumulate(uint8: [127, 127, 127, 127, 127], rows: 1, inputMax: 127, path: path) == [127 * (-128 + 127 + 127 - 128 + 5)])
            #expect(try fullRange.accumulate(uint8: [127, 0, 0, 127, 3], rows: 1, inputMax: 127, path: path) == [127 * -256 + 15])
        }
    }

    /// Full-range uint8 inputs with few codes of 128 or more run on the vpmaddubsw kernel as 7-bit
    /// codes plus the high bits' columns (lbr_split_high_bits, lbr_i8gemm_high_bits); denser ones keep
    /// the int16 kernel. Both against the plain int32 definition, weights at the int8 extremes.
    @Test("full-range uint8 inputs with the high bit apart stay exact, dense and convolution", arguments: KernelPath.supported)
    func highBitsApart(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 64)
        var outputs = 0, splitTrials = 0, fusedTrials = 0
        // ResNet-20 layer shapes after the random ones: large enough that threads split the rows, so each
        // chunk corrects only its own rows (the positions found by binary search, rows filtered).
        let fixed = [try Conv2DShape(inputHeight: 28, inputWidth: 28, inputChannels: 16, outputChannels: 16, kernelSize: 3, stride: 1, padding: .same),
                     try Conv2DShape(inputHeight: 28, inputWidth: 28, inputChannels: 16, outputChannels: 32, kernelSize: 3, stride: 2, padding: .same),
                     try Conv2DShape(inputHeight: 7, inputWidth: 7, inputChannels: 64, outputChannels: 64, kernelSize: 3, stride: 1, padding: .same)]
        for trial in 0..<(1_200 + fixed.count) {
            let dense = trial % 4 == 3 && trial < 1_200
            // One code in 1000, 100, 20 (all below the 1/16 limit) or 3 (above it) is 128 or more.
            let highOneIn = trial >= 1_200 ? 50 : [1_000, 100, 20, 3][trial % 4 == 3 ? rng.nextInt(below: 4) : trial % 4]
            let shape = trial < 1_200 ? try BinaryConvTests.randomShape(&rng) : fixed[trial - 1_200]
            let m = dense ? 1 + rng.nextInt(below: 9) : 0, n = dense ? 1 + rng.nextInt(below: 40) : shape.outputChannels
            let k = dense ? 1 + rng.nextInt(below: 300) : shape.weightsPerOutput
            let weights = (0..<(n * k)).map { _ in
                rng.nextInt(below: 4) == 0 ? (rng.nextInt(below: 2) == 0 ? Int8.min : Int8.max) : Int8(truncatingIfNeeded: rng.nextInt(below: 256))
            }
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
            func code() -> UInt8 {
                rng.nextInt(below: highOneIn) == 0 ? UInt8(128 + rng.nextInt(below: 128)) : UInt8(rng.nextInt(below: 2) == 0 ? 127 : rng.nextInt(below: 128))
            }
            let fast: [Int32], rows: [UInt8], rowCount: Int
            if dense {
                rows = (0..<(m * k)).map { _ in code() }
                rowCount = m
                fast = try gemm.accumulate(uint8: rows, rows: m, path: path)
                if rows.withUnsafeBytes({ gemm.splitHighBits($0, path: path) }) != nil { splitTrials += 1 }
            } else {
                let batch = trial >= 1_200 ? 2 : 1 + trial % 2
                let codes = (0..<(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)).map { _ in code() }
                rowCount = batch * shape.outputHeight * shape.outputWidth
                rows = Self.im2colRows(codes, shape: shape, batch: batch)
                fast = try gemm.accumulatePatches(codes, shape: shape, batch: batch, path: path)
                if codes.withUnsafeBytes({ gemm.splitHighBits($0, path: path) }) != nil { splitTrials += 1 }
                // The one-pass padding + split (a layer's path): the same sums, or nil (nothing run) when too dense.
                var epilogueRows = 0
                let fused = try gemm.accumulatePatchesSplit(.codes(codes), shape: shape, batch: batch, inputMax: 255, path: path) { _, rows in
                    epilogueRows += rows.count
                }
                if let fused {
                    #expect(fused == fast && epilogueRows == rowCount, "\(shape) batch \(batch)")
                    fusedTrials += 1
                } else {
                    // Nil only when the plain small-weight kernel applies, or with a code of 128 or more.
                    #expect(epilogueRows == 0 && (gemm.smallKernelSteps(inputMax: 255) != nil || codes.contains { $0 >= 128 }))
                }
                if trial >= 1_200 {   // the split must have run, in several chunks
                    #expect(codes.withUnsafeBytes({ gemm.splitHighBits($0, path: path) }) != nil)
                    #expect(Parallel.threadCount == 1 || rowCount * n * k / 16 >= 2 * 16_000)
                }
            }
            var expected = [Int32](repeating: 0, count: rowCount * n)
            lbr_i8gemm_ref(rows, 0, k, rowCount, weights, k, n, k, &expected, n)
            #expect(fast == expected, "dense \(dense) \(shape) n \(n) k \(k) one in \(highOneIn)")
            outputs += fast.count
        }
        #expect(outputs >= 100_000 && splitTrials >= 600 && fusedTrials >= 400, "\(outputs) outputs, \(splitTrials) trials split, \(fusedTrials) fused")
    }

    /// Float inputs quantized inside the one-pass padding + split give the sums of the codes that
    /// `RuntimeValue.uint8Codes` makes (round half to even of x / scale, clamped; ties and NaN included).
    @Test("float inputs quantized in the one-pass split equal the product of their codes", arguments: KernelPath.supported)
    func fusedQuantization(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 66)
        let scale: Float = 0.05
        var fused = 0
        for trial in 0..<60 {
            let shape = trial < 3 ? try Conv2DShape(inputHeight: 14, inputWidth: 14, inputChannels: 16, outputChannels: 16, kernelSize: 3,
                                                    stride: 1 + trial % 2, padding: .same)
                                  : try BinaryConvTests.randomShape(&rng)
            let batch = 1 + trial % 2, k = shape.weightsPerOutput, n = shape.outputChannels
            let weights = (0..<(n * k)).map { _ in Int8(truncatingIfNeeded: rng.nextInt(below: 256)) }
            let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
            // Mostly below code 128; some above, some exact ties (k + 0.5 codes), negatives, NaN and past 255.
            let floats: [Float] = (0..<(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)).map { i in
                switch rng.nextInt(below: 100) {
                case 0: return Float(128 + rng.nextInt(below: 200)) * scale
                case 1: return (Float(rng.nextInt(below: 127)) + 0.5) * scale
                case 2: return -Float(rng.nextInt(below: 10))
                case 3: return i % 7 == 0 ? .nan : 20
                default: return Float(rng.nextInt(below: 1_270)) / 10 * scale
                }
            }
            let codes: [UInt8] = RuntimeValue.codes(floats, scale: scale, range: 0...255, path: path)
            let expected = try gemm.accumulatePatches(codes, shape: shape, batch: batch, path: path)
            if let got = try gemm.accumulatePatchesSplit(.floats(floats, scale: scale), shape: shape, batch: batch, inputMax: 255,
                                                          path: path, epilogue: { _, _ in }) {
                #expect(got == expected, "\(shape) batch \(batch)")
                fused += 1
            }
        }
        #expect(fused >= 40, "\(fused) of 60 trials took the one-pass split")
        // Kernels past LBR_HIGH_BITS_MAX_TAPS taps (17 x 17 = 289) keep the int16 kernel, still exact.
        let big = try Conv2DShape(inputHeight: 17, inputWidth: 17, inputChannels: 1, outputChannels: 4, kernelSize: 17, stride: 1, padding: .same)
        let weights = (0..<(4 * big.weightsPerOutput)).map { i in Int8(truncatingIfNeeded: i * 37) }
        let gemm = try Int8GEMM(weights: weights, outputCount: 4, inputCount: big.weightsPerOutput)
        let codes: [UInt8] = (0..<(17 * 17)).map { (i: Int) -> UInt8 in i % 97 == 0 ? 200 : UInt8(i % 100) }
        #expect(try gemm.accumulatePatchesSplit(.codes(codes), shape: big, batch: 1, inputMax: 255, path: path, epilogue: { _, _ in }) == nil)
        var expected = [Int32](repeating: 0, count: 17 * 17 * 4)
        lbr_i8gemm_ref(Self.im2colRows(codes, shape: big, batch: 1), 0, big.weightsPerOutput, 17 * 17, weights, big.weightsPerOutput, 4,
                       big.weightsPerOutput, &expected, 4)
        #expect(try gemm.accumulatePatches(codes, shape: big, batch: 1, path: path) == expected)
    }

    @Test("lbr_split_high_bits: low 7 bits, the positions of codes >= 128, and SIZE_MAX past the limit", arguments: KernelPath.supported)
    func splitHighBitsKernel(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 65)
        for trial in 0..<500 {
            let count = 1 + rng.nextInt(below: trial % 10 == 0 ? 5_000 : 200)
            let bytes = (0..<count).map { _ in UInt8(rng.nextInt(below: 8) == 0 ? 128 + rng.nextInt(below: 128) : rng.nextInt(below: 128)) }
            let high = bytes.indices.filter { bytes[$0] >= 128 }.map(UInt32.init)
            let limit = trial % 3 == 0 ? max(0, high.count - 1) : high.count + rng.nextInt(below: 3)
            var low = [UInt8](repeating: 0xAA, count: count), positions = [UInt32](repeating: 0, count: max(limit, 1))
            let found = lbr_split_high_bits(path.isa, bytes, count, &low, &positions, limit)
            if high.count > limit {
                #expect(found == -1, "count \(count): \(high.count) high codes, limit \(limit), got \(found)")   // SIZE_MAX
            } else {
                #expect(found == high.count && Array(positions.prefix(found)) == high, "count \(count)")
                #expect(low == bytes.map { $0 & 0x7F })
            }
        }
    }

    @Test("extreme operands at the exactness bound do not saturate")
    func extremes() throws {
        let k = 3_001, n = 3
        let weights = [Int8](repeating: -128, count: k) + [Int8](repeating: 127, count: k) + (0..<k).map { $0 % 2 == 0 ? 127 : -128 }
        let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
        let alternating: Int32 = 127 * 1501 - 128 * 1500
        let fromUnsigned: [Int32] = [-255 * 128 * 3001, 255 * 127 * 3001, 255 * alternating]
        let fromSigned: [Int32] = [128 * 128 * 3001, -128 * 127 * 3001, -128 * alternating]
        for path in KernelPath.supported {
            #expect(try gemm.accumulate(uint8: [UInt8](repeating: 255, count: k), rows: 1, path: path) == fromUnsigned)
            #expect(try gemm.accumulate(int8: [Int8](repeating: -128, count: k), rows: 1, path: path) == fromSigned)
        }
        #expect(throws: LowBitError.self) { try Int8GEMM(weights: [Int8](repeating: 0, count: 65_794), outputCount: 1, inputCount: 65_794) }
    }

    @available(macOS 15.0, iOS 18.0, *)
    @Test("integer-only layer: accumulate, folded zero-point bias, requantize equals the Int128 formula")
    func integerOnlyPipeline() throws {
        var rng = SeededGenerator(seed: 62)
        let (m, n, k) = (5, 19, 77)
        let weights = rng.bytes(n * k).map { Int8(bitPattern: $0) }, input = rng.bytes(m * k)
        let zeroPoint: Int32 = 131, bias = rng.int32s(n, in: -20_000...20_000)
        let reals = (0..<n).map { _ in Double(rng.nextUniform()) * 0.002 + 1e-5 }
        let requantizer = try Requantizer(realMultipliers: reals, outputScale: 0.1, zeroPoint: -5, outputType: Int8.self, activation: .relu6)
        let gemm = try Int8GEMM(weights: weights, outputCount: n, inputCount: k)
        let q: [Int8] = try requantizer.requantize(gemm.accumulate(uint8: input, rows: m), rows: m,
                                                   bias: gemm.foldedBias(bias, inputZeroPoint: zeroPoint))
        for i in 0..<m {
            for j in 0..<n {
                let exact = (0..<k).reduce(Int32(bias[j])) { $0 + (Int32(input[i * k + $1]) - zeroPoint) * Int32(weights[j * k + $1]) }
                let multiplier = requantizer.multipliers[j]
                let scaled = Gemmlowp.multiply(exact, multiplier: multiplier.multiplier, shift: multiplier.shift)
                let expected = min(max(scaled + -5, requantizer.clampRange.lowerBound), requantizer.clampRange.upperBound)
                #expect(Int32(q[i * n + j]) == expected)
            }
        }
    }
}
