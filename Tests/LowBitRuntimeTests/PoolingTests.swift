import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Max pooling on sign bits and uint8 codes")
struct PoolingTests {
    /// The float max pool of ±1 values, then packed: what the bit pool must give. Channels across 1 to 3
    /// words (pad bits must stay 0), windows 2 and 3 at strides 1 to 3, odd sizes, batches of 1 and 2.
    @Test("the AND of a window's sign words equals the signs of the float max pool")
    func matchesFloatMaxPool() {
        var rng = SeededGenerator(seed: 71)
        var outputs = 0
        for trial in 0..<300 {
            let channels = [1, 16, 63, 64, 70, 130, 192][trial % 7], pool = 2 + trial % 2, stride = 1 + (trial / 2) % 3
            let height = pool + rng.nextInt(below: 9), width = pool + rng.nextInt(below: 9), batch = 1 + trial % 2
            let outH = (height - pool) / stride + 1, outW = (width - pool) / stride + 1
            // Mostly +1 so that windows of all -1 happen as often as mixed ones.
            let x: [Float] = (0..<(batch * height * width * channels)).map { _ in rng.nextInt(below: 3) == 0 ? 1 : -1 }
            var pooled = [Float](repeating: -.infinity, count: batch * outH * outW * channels)
            for n in 0..<batch {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        for c in 0..<channels {
                            for ky in 0..<pool {
                                for kx in 0..<pool {
                                    let v = x[((n * height + oy * stride + ky) * width + ox * stride + kx) * channels + c]
                                    pooled[((n * outH + oy) * outW + ox) * channels + c] = max(pooled[((n * outH + oy) * outW + ox) * channels + c], v)
                                }
                            }
                        }
                    }
                }
            }
            let bits = PackedBits(packing: x, rows: batch * height * width, columns: channels)
            var out = [UInt64](repeating: 0x5555, count: batch * outH * outW * bits.wordsPerRow)
            lbr_sign_max_pool(bits.words, batch, height, width, bits.wordsPerRow, pool, stride, outH, outW, &out)
            let expected = PackedBits(packing: pooled, rows: batch * outH * outW, columns: channels)
            #expect(out == expected.words, "channels \(channels) pool \(pool) stride \(stride) \(height)x\(width) batch \(batch)")
            outputs += pooled.count
        }
        #expect(outputs >= 100_000)
    }

    /// The byte pool against plain loops: channel counts off the vector widths, windows 2 and 3 at
    /// strides 1 to 3, odd sizes, batches of 1 and 2, codes up to 255.
    @Test("the max pool of uint8 codes equals plain loops")
    func codesMatchPlainLoops() {
        var rng = SeededGenerator(seed: 72)
        var outputs = 0
        for trial in 0..<300 {
            let channels = [1, 3, 16, 17, 32, 64, 100][trial % 7], pool = 2 + trial % 2, stride = 1 + (trial / 2) % 3
            let height = pool + rng.nextInt(below: 9), width = pool + rng.nextInt(below: 9), batch = 1 + trial % 2
            let outH = (height - pool) / stride + 1, outW = (width - pool) / stride + 1
            let x = rng.bytes(batch * height * width * channels)
            var expected = [UInt8](repeating: 0, count: batch * outH * outW * channels)
            for n in 0..<batch {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        for c in 0..<channels {
                            var best: UInt8 = 0
                            for ky in 0..<pool {
                                for kx in 0..<pool { best = max(best, x[((n * height + oy * stride + ky) * width + ox * stride + kx) * channels + c]) }
                            }
                            expected[((n * outH + oy) * outW + ox) * channels + c] = best
                        }
                    }
                }
            }
            var out = [UInt8](repeating: 7, count: expected.count)
            lbr_max_pool_u8(x, batch, height, width, channels, pool, stride, outH, outW, &out)
            #expect(out == expected, "channels \(channels) pool \(pool) stride \(stride) \(height)x\(width) batch \(batch)")
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
}
