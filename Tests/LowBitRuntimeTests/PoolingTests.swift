import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Max pooling on sign bits and uint8 codes")
struct PoolingTests {
    /// A random pool: windows 2 and 3 at strides 1 to 3, odd sizes, batches of 1 and 2.
    struct Shape: CustomStringConvertible {
        let channels, pool, stride, height, width, batch: Int
        var outH: Int { (height - pool) / stride + 1 }
        var outW: Int { (width - pool) / stride + 1 }
        var inputs: Int { batch * height * width * channels }
        var outputs: Int { batch * outH * outW * channels }
        var description: String { "channels \(channels) pool \(pool) stride \(stride) \(height)x\(width) batch \(batch)" }

        init(trial: Int, channels: Int, rng: inout SeededGenerator) {
            (self.channels, pool, stride, batch) = (channels, 2 + trial % 2, 1 + (trial / 2) % 3, 1 + trial % 2)
            (height, width) = (pool + rng.nextInt(below: 9), pool + rng.nextInt(below: 9))
        }

        /// The max pool by plain loops over NHWC `x`, each window's values in order from `lowest`.
        func maxPool<T: Comparable>(_ x: [T], lowest: T) -> [T] {
            var out = [T](repeating: lowest, count: outputs)
            for n in 0..<batch {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        for c in 0..<channels {
                            let o = ((n * outH + oy) * outW + ox) * channels + c
                            for ky in 0..<pool {
                                for kx in 0..<pool { out[o] = max(out[o], x[((n * height + oy * stride + ky) * width + ox * stride + kx) * channels + c]) }
                            }
                        }
                    }
                }
            }
            return out
        }
    }

    /// The float max pool of ±1 values, then packed: what the bit pool must give, with channels across
    /// 1 to 3 words (pad bits must stay 0).
    @Test("the AND of a window's sign words equals the signs of the float max pool")
    func matchesFloatMaxPool() {
        var rng = SeededGenerator(seed: 71)
        var outputs = 0
        for trial in 0..<300 {
            let shape = Shape(trial: trial, channels: [1, 16, 63, 64, 70, 130, 192][trial % 7], rng: &rng)
            // Mostly +1 so that windows of all -1 happen as often as mixed ones.
            let x: [Float] = (0..<shape.inputs).map { _ in rng.nextInt(below: 3) == 0 ? 1 : -1 }
            let bits = PackedBits(packing: x, rows: shape.batch * shape.height * shape.width, columns: shape.channels)
            var out = [UInt64](repeating: 0x5555, count: shape.batch * shape.outH * shape.outW * bits.wordsPerRow)
            lbr_sign_max_pool(bits.words, shape.batch, shape.height, shape.width, bits.wordsPerRow, shape.pool, shape.stride,
                              shape.outH, shape.outW, &out)
            let expected = PackedBits(packing: shape.maxPool(x, lowest: -.infinity), rows: shape.batch * shape.outH * shape.outW,
                                      columns: shape.channels)
            #expect(out == expected.words, "\(shape)")
            outputs += shape.outputs
        }
        #expect(outputs >= 100_000)
    }

    /// The byte pool against plain loops: channel counts off the vector widths, codes up to 255.
    @Test("the max pool of uint8 codes equals plain loops")
    func codesMatchPlainLoops() {
        var rng = SeededGenerator(seed: 72)
        var outputs = 0
        for trial in 0..<300 {
            let shape = Shape(trial: trial, channels: [1, 3, 16, 17, 32, 64, 100][trial % 7], rng: &rng)
            let x = rng.bytes(shape.inputs)
            var out = [UInt8](repeating: 7, count: shape.outputs)
            lbr_max_pool_u8(x, shape.batch, shape.height, shape.width, shape.channels, shape.pool, shape.stride, shape.outH,
                            shape.outW, &out)
            #expect(out == shape.maxPool(x, lowest: 0), "\(shape)")
            outputs += out.count
        }
        #expect(outputs >= 100_000)
    }

    /// A flatten of NHWC sign bits: `lbr_bits_regroup` equals packing the same floats as one row per
    /// sample, for channel counts that leave pad bits inside every pixel's words.
    @Test("regrouping pixel rows of sign bits into sample rows equals packing the flattened floats")
    func regroupMatchesPacking() {
        var rng = SeededGenerator(seed: 73)
        for trial in 0..<200 {
            let channels = [1, 7, 16, 63, 64, 65, 100, 128][trial % 8], pixels = 1 + rng.nextInt(below: 30), samples = 1 + trial % 3
            let x = rng.signedFloats(samples * pixels * channels)
            let bits = PackedBits(packing: x, rows: samples * pixels, columns: channels)
            let expected = PackedBits(packing: x, rows: samples, columns: pixels * channels)
            #expect(bits.regrouped(rows: samples) == expected, "channels \(channels) pixels \(pixels) samples \(samples)")
            #expect(RuntimeValue.bits(bits).signBits(rows: samples, columns: pixels * channels) == expected)
        }
    }

    /// Each pool names its step and the shapes when its input has the wrong number of values.
    @Test("pools refuse an input of the wrong size with a message")
    func wrongInputSize() throws {
        let pool = PoolingOperation(name: "pool1", function: .max, height: 4, width: 4, channels: 3, poolSize: 2, stride: 2,
                                    outputHeight: 2, outputWidth: 2)
        let expected = LowBitError.shapeMismatch("pool1: 47 values for 1 x 4 x 4 x 3")
        #expect(throws: expected) { try pool.run(.float([Float](repeating: 1, count: 47)), batch: 1) }
        #expect(throws: expected) { try SignMaxPoolOperation(pool: pool).run(.float([Float](repeating: 1, count: 47)), batch: 1) }
        #expect(throws: expected) {
            try CodeMaxPoolOperation(pool: pool, scale: 0.1, codeMax: 255).run(.uint8([UInt8](repeating: 1, count: 47), scale: 0.1), batch: 1)
        }
        #expect(try CodeMaxPoolOperation(pool: pool, scale: 0.1, codeMax: 255).run(.uint8([UInt8](repeating: 9, count: 48), scale: 0.1), batch: 1)
            .count == 12)
    }
}
