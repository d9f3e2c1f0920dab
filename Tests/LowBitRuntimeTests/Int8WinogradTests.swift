import CLowBitRuntimeKernels
import LowBitTensor
import Synchronization
import Testing
@testable import LowBitRuntime

/// Winograd F(2x2, 3x3) and F(4x4, 3x3) in integers must equal the direct int32 convolution bit for
/// bit: against the plain reference GEMM over im2col rows, for odd sizes (partly empty last tiles),
/// both paddings, channel counts around the 16-channel vectors, output counts on both panel shapes
/// of F(4x4) (multiples of 32 and not), uint8 and int8 codes, and operands at the int8 extremes.
@Suite("Int8 Winograd")
struct Int8WinogradTests {
    static func reference<Code: QuantizedByte>(_ codes: [Code], weights: [Int8], shape: Conv2DShape, batch: Int) -> [Int32] {
        let rows = batch * shape.outputHeight * shape.outputWidth, k = shape.weightsPerOutput, n = shape.outputChannels
        let columns = Int8GEMMTests.im2colRows(codes.map { UInt8(truncatingIfNeeded: $0) }, shape: shape, batch: batch)
        var expected = [Int32](repeating: 0, count: rows * n)
        lbr_i8gemm_ref(columns, Code.isSigned ? 1 : 0, k, rows, weights, k, n, k, &expected, n)
        return expected
    }

    /// A 3x3 stride-1 convolution of 1-10 pixels a side (3-12 for 'valid'), one of `channels` inputs, 1-40 outputs.
    static func randomShape(_ rng: inout SeededGenerator, channels: [Int], valid: Bool) throws -> Conv2DShape {
        let smallest = valid ? 3 : 1
        return try Conv2DShape(inputHeight: smallest + rng.nextInt(below: 10), inputWidth: smallest + rng.nextInt(below: 10),
                               inputChannels: channels[rng.nextInt(below: channels.count)], outputChannels: 1 + rng.nextInt(below: 40),
                               kernelSize: 3, stride: 1, padding: valid ? .valid : .same)
    }

    @Test("equals the direct convolution over random shapes, uint8 and int8, both paddings, both tile sizes",
          arguments: KernelPath.supported, [false, true])
    func matchesDirect(path: KernelPath, largeTiles: Bool) throws {
        var rng = SeededGenerator(seed: largeTiles ? 94 : 91)
        var outputs = 0
        for trial in 0..<600 {
            var shape = try Self.randomShape(&rng, channels: [8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65], valid: trial % 4 == 3)
            if trial % 3 == 0 {   // outputs a multiple of 32 (F(4x4)'s 2-tile x 32-output panels)
                shape = try Conv2DShape(inputHeight: shape.inputHeight, inputWidth: shape.inputWidth, inputChannels: shape.inputChannels,
                                        outputChannels: 32 * (1 + rng.nextInt(below: 2)), kernelSize: 3, stride: 1, padding: shape.padding)
            }
            let channels = shape.inputChannels
            let batch = 1 + trial % 3, signed = trial % 2 == 1, extremes = trial % 5 == 0
            let n = shape.outputChannels, count = batch * shape.inputHeight * shape.inputWidth * channels
            // A fifth of the trials at the extremes only: codes 255 (or -128) against weights -128 and 127.
            let weights = (0..<(n * shape.weightsPerOutput)).map { _ in
                extremes ? (rng.nextInt(below: 2) == 0 ? Int8.min : Int8.max) : Int8(truncatingIfNeeded: rng.nextInt(below: 256))
            }
            let bytes = (0..<count).map { _ in extremes ? (signed ? 0x80 : 0xFF) : UInt8(truncatingIfNeeded: rng.nextInt(below: 256)) }
            let winograd = try #require(try Int8Winograd(weights: weights, shape: shape, largeTiles: largeTiles))
            #expect(winograd.tileSize == (largeTiles ? 4 : 2))   // 65 channels at |w| = 128: 9 * 65 * 128 * 255 < 2^25
            if signed {
                let codes = bytes.map { Int8(bitPattern: $0) }
                let fast = try winograd.accumulate(codes, batch: batch, path: path)
                #expect(fast == Self.reference(codes, weights: weights, shape: shape, batch: batch), "\(shape) batch \(batch) signed")
                outputs += fast.count
            } else {
                let fast = try winograd.accumulate(bytes, batch: batch, path: path)
                #expect(fast == Self.reference(bytes, weights: weights, shape: shape, batch: batch), "\(shape) batch \(batch)")
                outputs += fast.count
            }
        }
        #expect(outputs >= 100_000)
    }

    /// 4 * acc must fit in int32: at 1,827 channels of 255 against weights of -128 the sum is
    /// -1827 * 9 * 255 * 128 = -536,726,016, and 4 times that is -2,146,904,064 >= -2^31.
    @Test("exact at the channel bound with extreme operands; nil past it and for other kernels", arguments: KernelPath.supported)
    func channelBound(path: KernelPath) throws {
        let c = Int8Winograd.maximumChannels
        let shape = try Conv2DShape(inputHeight: 3, inputWidth: 3, inputChannels: c, outputChannels: 2, kernelSize: 3, stride: 1, padding: .same)
        // Output 0: every weight -128; output 1: +127 on even channels, -128 on odd ones.
        let weights = (0..<(2 * 9 * c)).map { i in i < 9 * c ? Int8.min : (i % c % 2 == 0 ? Int8.max : Int8.min) }
        let codes = [UInt8](repeating: 255, count: 9 * c)
        let winograd = try #require(try Int8Winograd(weights: weights, shape: shape))
        let acc = try winograd.accumulate(codes, batch: 1, path: path)
        #expect(acc == Self.reference(codes, weights: weights, shape: shape, batch: 1))
        #expect(acc[4 * 2] == -9 * Int32(c) * 255 * 128)   // the centre pixel sees all 9 taps
        let wider = try Conv2DShape(inputHeight: 3, inputWidth: 3, inputChannels: c + 1, outputChannels: 1, kernelSize: 3, stride: 1, padding: .same)
        #expect(try Int8Winograd(weights: [Int8](repeating: 1, count: 9 * (c + 1)), shape: wider) == nil)
        let strided = try Conv2DShape(inputHeight: 6, inputWidth: 6, inputChannels: 16, outputChannels: 4, kernelSize: 3, stride: 2, padding: .same)
        #expect(try Int8Winograd(weights: [Int8](repeating: 1, count: 4 * 9 * 16), shape: strided) == nil)
        let fewChannels = try Conv2DShape(inputHeight: 6, inputWidth: 6, inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 1, padding: .same)
        #expect(try Int8Winograd(weights: [Int8](repeating: 1, count: 4 * 9), shape: fewChannels) == nil)
        #expect(throws: LowBitError.self) { try Int8Winograd(weights: [1, 2, 3], shape: shape) }
        #expect(throws: LowBitError.self) { try winograd.accumulate([UInt8](repeating: 1, count: 5), batch: 1) }
    }

    /// F(4x4, 3x3) recovers acc from 576 acc modulo 2^32, exact while |acc| < 2^25: at 114 channels of
    /// 255 against weights of -128 the centre sum is -9 * 114 * 255 * 128 = -33,488,640, 65,792 from
    /// -2^25, and a 6x6 image's 4x4 tiles see every padding pattern. One more channel passes the bound:
    /// the layer keeps F(2x2, 3x3), still exact.
    @Test("F(4x4) exact at its accumulator bound; F(2x2) past it", arguments: KernelPath.supported)
    func largeTileBound(path: KernelPath) throws {
        for (c, tile) in [(114, 4), (115, 2)] {
            let shape = try Conv2DShape(inputHeight: 6, inputWidth: 7, inputChannels: c, outputChannels: 3, kernelSize: 3, stride: 1,
                                        padding: .same)
            // Output 0: every weight -128; output 1: +127 on even channels, -128 on odd ones; output 2: +127.
            let weights = (0..<(3 * 9 * c)).map { i -> Int8 in
                switch i / (9 * c) {
                case 0: return .min
                case 1: return i % c % 2 == 0 ? .max : .min
                default: return .max
                }
            }
            let winograd = try #require(try Int8Winograd(weights: weights, shape: shape))
            #expect(winograd.tileSize == tile)
            for (codes, centre) in [([UInt8](repeating: 255, count: 42 * c), -9 * Int32(c) * 255 * 128),
                                    ((0..<(42 * c)).map { UInt8($0 / c % 7 == 3 ? 255 : 0) }, -3 * Int32(c) * 255 * 128)] {
                let acc = try winograd.accumulate(codes, batch: 1, path: path)
                #expect(acc == Self.reference(codes, weights: weights, shape: shape, batch: 1), "\(c) channels")
                #expect(acc[(2 * 7 + 3) * 3] == centre)   // pixel (2, 3): 9 taps inside, at x = 2...4 (x = 3 the set column)
            }
        }
    }

    /// Each chunk's epilogue gets whole output rows, every row exactly once: images of odd height (a
    /// last tile row of one output row) in a batch (chunks of tile rows), and small images (chunks
    /// of 4-tile panels: a 14x14 image's 7-tile rows split between chunks, each finished by the
    /// chunk that completes it).
    @Test("epilogue ranges cover every output row once",
          arguments: [(13, 9, 3, 16), (7, 7, 1, 64), (14, 14, 1, 32), (1, 30, 1, 16), (28, 28, 1, 16), (11, 6, 2, 32)], [false, true])
    func epilogueRanges(size: (Int, Int, Int, Int), largeTiles: Bool) throws {
        let (height, width, batch, channels) = size
        let shape = try Conv2DShape(inputHeight: height, inputWidth: width, inputChannels: channels, outputChannels: channels, kernelSize: 3,
                                    stride: 1, padding: .same)
        var rng = SeededGenerator(seed: 92)
        let weights = (0..<(channels * 9 * channels)).map { _ in Int8(truncatingIfNeeded: rng.nextInt(below: 256)) }
        let codes = (0..<(batch * height * width * channels)).map { _ in UInt8(truncatingIfNeeded: rng.nextInt(below: 256)) }
        let winograd = try #require(try Int8Winograd(weights: weights, shape: shape, largeTiles: largeTiles))
        let seen = Mutex<[Range<Int>]>([])
        let acc = try winograd.accumulate(.uint8(codes), batch: batch) { _, rows in seen.withLock { $0.append(rows) } }
        let ranges = seen.withLock { $0 }.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == batch * height * width)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(acc == Self.reference(codes, weights: weights, shape: shape, batch: batch))
    }

    /// Float inputs are quantized by each chunk for the input rows its tiles read: the result must
    /// equal the accumulators of the codes quantized up front, unsigned and signed, large and small
    /// images (both chunkings), 'same' and 'valid'.
    @Test("float inputs quantized per chunk equal the product of their codes", arguments: KernelPath.supported, [false, true])
    func floatInputs(path: KernelPath, largeTiles: Bool) throws {
        var rng = SeededGenerator(seed: 93)
        for (trial, (size, channels, batch)) in [(28, 16, 1), (14, 32, 1), (7, 64, 1), (9, 8, 3), (5, 17, 2), (14, 32, 2)].enumerated() {
            for signed in [false, true] {
                let shape = try Conv2DShape(inputHeight: size, inputWidth: size, inputChannels: channels, outputChannels: 24, kernelSize: 3,
                                            stride: 1, padding: trial % 3 == 2 ? .valid : .same)
                let weights = (0..<(24 * shape.weightsPerOutput)).map { _ in Int8(truncatingIfNeeded: rng.nextInt(below: 256)) }
                let x = (0..<(batch * size * size * channels)).map { _ in rng.nextNormal() * 3 }
                let range: ClosedRange<Int32> = signed ? -127...127 : 0...255, scale: Float = 0.02
                let winograd = try #require(try Int8Winograd(weights: weights, shape: shape, largeTiles: largeTiles))
                let fused = try winograd.accumulate(.floats(x, scale: scale, range: range, signed: signed), batch: batch, path: path) { _, _ in }
                let expected: [Int32]
                if signed {
                    let codes: [Int8] = RuntimeValue.codes(x, scale: scale, range: range, path: path)
                    expected = Self.reference(codes, weights: weights, shape: shape, batch: batch)
                } else {
                    let codes: [UInt8] = RuntimeValue.codes(x, scale: scale, range: range, path: path)
                    expected = Self.reference(codes, weights: weights, shape: shape, batch: batch)
                }
                #expect(fused == expected, "\(shape) batch \(batch) signed \(signed)")
            }
        }
    }
}
