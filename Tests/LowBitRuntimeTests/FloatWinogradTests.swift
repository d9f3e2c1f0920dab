import LowBitTensor
import Testing
@testable import LowBitRuntime

/// Float Winograd F(2x2, 3x3) (`lbr_wino_f32_conv`, FloatConv2D's 3x3 stride-1 path from 8 input
/// channels) against plain loops: exactly on small integers (the transforms add sums and kernel
/// halves only, all exact there), and within float rounding on normal values.
@Suite("Float Winograd")
struct FloatWinogradTests {
    /// The convolution in Double: NHWC input, OHWI weights, zero padding.
    static func reference(_ x: [Float], _ w: [Float], bias: [Float]?, shape: Conv2DShape, batch: Int) -> [Double] {
        let n = shape.outputChannels, c = shape.inputChannels, perImage = shape.inputHeight * shape.inputWidth * c
        var y = [Double]()
        for b in 0..<batch {
            for oy in 0..<shape.outputHeight {
                for ox in 0..<shape.outputWidth {
                    for j in 0..<n {
                        var sum = Double(bias?[j] ?? 0)
                        for ky in 0..<3 {
                            for kx in 0..<3 where !shape.isPadded(outputY: oy, outputX: ox, ky: ky, kx: kx) {
                                let iy = oy - shape.rows.padBefore + ky, ix = ox - shape.columns.padBefore + kx
                                for ch in 0..<c {
                                    sum += Double(x[b * perImage + (iy * shape.inputWidth + ix) * c + ch]) * Double(w[((j * 3 + ky) * 3 + kx) * c + ch])
                                }
                            }
                        }
                        y.append(sum)
                    }
                }
            }
        }
        return y
    }

    @Test("equals plain loops: exactly on small integers, within rounding on normal floats", arguments: KernelPath.supported)
    func matchesLoops(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 94)
        var outputs = 0
        for trial in 0..<240 {
            let shape = try Int8WinogradTests.randomShape(&rng, channels: [8, 9, 15, 16, 17, 24, 32, 33, 64], valid: trial % 4 == 3)
            let channels = shape.inputChannels
            #expect(FloatConv2D.runsWinograd(shape))
            let batch = 1 + trial % 3, integers = trial % 2 == 0
            let perImage = shape.inputHeight * shape.inputWidth * channels
            func value() -> Float { integers ? Float(rng.nextInt(below: 7)) - 3 : rng.nextNormal() }
            let x = (0..<(batch * perImage)).map { _ in value() }
            let w = (0..<(shape.outputChannels * shape.weightsPerOutput)).map { _ in value() }
            let bias = trial % 5 == 4 ? nil : (0..<shape.outputChannels).map { _ in value() }
            let conv = try FloatConv2D(shape: shape, weights: w, bias: bias)
            let activation: FusedActivation = [.none, .relu, .hardTanh][trial % 3]
            let (y, bits) = try conv.forward(x, batch: batch, activation: activation, signs: true, path: path)
            let expected = Self.reference(x, w, bias: bias, shape: shape, batch: batch).map { value -> Double in
                switch activation {
                case .relu: return max(value, 0)
                case .hardTanh: return min(max(value, -1), 1)
                default: return value
                }
            }
            if integers {
                #expect(y.map(Double.init) == expected, "\(shape) batch \(batch)")
            } else {
                // Each output sums 9 * channels products of normal values: float rounding of such sums
                // stays below 1e-5 of the sum of their magnitudes, ~9 * channels here.
                let tolerance = 1e-5 * Double(9 * channels)
                let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(worst <= tolerance, "\(shape) batch \(batch): off by \(worst)")
            }
            #expect(bits == PackedBits(packing: y, rows: batch * shape.outputHeight * shape.outputWidth, columns: shape.outputChannels))
            outputs += y.count
        }
        #expect(outputs >= 100_000)
    }
}
