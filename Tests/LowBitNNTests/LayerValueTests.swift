import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitNN

/// Forward values against independent oracles: hand-computed numbers and a direct (loop) convolution.
struct LayerValueTests {
    @Test func denseHandComputed() throws {
        var rng = SeededGenerator(seed: 0)
        let fc = Dense(inFeatures: 2, outFeatures: 2, name: "fc", rng: &rng)
        fc.weight.value = Tensor(shape: [2, 2], data: [1, 2, 3, 4])   // rows are output units
        fc.bias!.value = Tensor(shape: [2], data: [0.5, -1])
        let y = try fc(Tensor(shape: [1, 2], data: [1, -1]), training: false)
        let expected: [Float] = [1 - 2 + 0.5, 3 - 4 - 1]
        #expect(y.data == expected)
    }

    /// out[n, oy, ox, o] = b[o] + sum_{ky,kx,c} w[o,ky,kx,c] * x[n, oy*s - pad + ky, ox*s - pad + kx, c]
    func directConvolution(_ x: Tensor, _ conv: Conv2D) throws -> Tensor {
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let rows = try ConvGeometry(inputSize: height, kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding)
        let cols = try ConvGeometry(inputSize: width, kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding)
        var out = Tensor.zeros([batch, rows.outputSize, cols.outputSize, conv.outChannels])
        for n in 0..<batch {
            for oy in 0..<rows.outputSize {
                for ox in 0..<cols.outputSize {
                    for o in 0..<conv.outChannels {
                        var sum = Double(conv.bias?.value.data[o] ?? 0)
                        for ky in 0..<conv.kernelSize {
                            for kx in 0..<conv.kernelSize {
                                let iy = oy * conv.stride - rows.padBefore + ky
                                let ix = ox * conv.stride - cols.padBefore + kx
                                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                                for c in 0..<channels {
                                    sum += Double(conv.weight.value[o, ky, kx, c]) * Double(x[n, iy, ix, c])
                                }
                            }
                        }
                        out[n, oy, ox, o] = Float(sum)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: [(3, 1, LayerSpec.Padding.same), (3, 2, .same), (5, 2, .valid), (1, 2, .same), (7, 1, .same)])
    func convolutionMatchesDirectLoops(kernel: Int, stride: Int, padding: LayerSpec.Padding) throws {
        var rng = SeededGenerator(seed: 11)
        let conv = Conv2D(inChannels: 3, outChannels: 4, kernelSize: kernel, stride: stride, padding: padding, name: "c", rng: &rng)
        conv.bias!.value = Tensor(shape: [4], data: [0.1, 0.2, -0.3, 0.4])
        let x = Tensor(shape: [2, 9, 8, 3], data: (0..<(2 * 9 * 8 * 3)).map { _ in rng.nextNormal() })
        let fast = try conv(x, training: false)
        let oracle = try directConvolution(x, conv)
        #expect(fast.shape == oracle.shape)
        #expect(fast.maxAbsDifference(oracle) < 1e-4)
    }

    @Test func samePaddingPutsTheExtraZeroAtTheEnd() throws {
        let geometry = try ConvGeometry(inputSize: 28, kernel: 3, stride: 2, padding: .same)
        #expect(geometry.outputSize == 14)
        #expect(geometry.padBefore == 0 && geometry.padAfter == 1)
        let valid = try ConvGeometry(inputSize: 28, kernel: 5, stride: 1, padding: .valid)
        #expect(valid.outputSize == 24)
        #expect(throws: LowBitError.self) { try ConvGeometry(inputSize: 2, kernel: 3, stride: 1, padding: .valid) }
    }

    @Test func batchNormNormalisesAndTracksRunningStatistics() throws {
        let bn = BatchNorm(channels: 1, momentum: 0.1, name: "bn")
        let x = Tensor(shape: [4, 1], data: [1, 2, 3, 4])
        let y = try bn(x, training: true)
        // mean 2.5, biased variance 1.25
        let inverseStd: Float = 1 / (1.25 + 1e-5 as Float).squareRoot()
        let centred: [Float] = [-1.5, -0.5, 0.5, 1.5]
        let expected = Tensor(shape: [4, 1], data: centred.map { $0 * inverseStd })
        #expect(y.maxAbsDifference(expected) < 1e-6)
        #expect(abs(bn.runningMean.value.data[0] - 0.25) < 1e-6)
        // running variance: 0.9 * 1 + 0.1 * unbiased (5/3)
        let expectedVariance: Float = 0.9 + 0.1 * 5 / 3
        #expect(abs(bn.runningVariance.value.data[0] - expectedVariance) < 1e-6)
        let evalOut = try bn(Tensor(shape: [1, 1], data: [0.25]), training: false)
        #expect(abs(evalOut.data[0]) < 1e-6)
    }

    @Test func maxPoolPicksWindowMaxima() throws {
        let pool = MaxPool(poolSize: 2, name: "p")
        let x = Tensor(shape: [1, 2, 4, 1], data: [1, 5, 2, 0, 3, 4, 7, 8])
        #expect(try pool(x).data == [5, 8])
    }

    @Test func shapeErrorsAreThrownNotCrashes() throws {
        var rng = SeededGenerator(seed: 0)
        let fc = Dense(inFeatures: 3, outFeatures: 2, name: "fc", rng: &rng)
        #expect(throws: LowBitError.self) { try fc(Tensor.zeros([2, 4])) }
        let conv = Conv2D(inChannels: 3, outChannels: 2, kernelSize: 3, name: "c", rng: &rng)
        #expect(throws: LowBitError.self) { try conv(Tensor.zeros([1, 5, 5, 1])) }
        #expect(throws: LowBitError.self) { try softmaxCrossEntropy(logits: .zeros([1, 3]), labels: [3]) }
    }
}
