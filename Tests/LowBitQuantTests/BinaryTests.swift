import LowBitQuant
import LowBitTensor
import Testing

@Suite("Binary weights and activations")
struct BinaryTests {
    @Test("sign(0) = +1; scale none, per tensor (mean|w| = 0.6875), per channel (0.375 and 1)",
          arguments: [
              (BinaryScaling.none, [Float(1), -1, 1, -1]),
              (.tensor, [0.6875, -0.6875, 0.6875, -0.6875]),
              (.channel, [0.375, -0.375, 1, -1]),
          ])
    func handValues(scaling: BinaryScaling, expected: [Float]) throws {
        let y = try BinaryWeightQuantizer(scaling: scaling).quantize(tensor([0.5, -0.25, 0, -2], shape: [2, 2]))
        #expect(y.data == expected)
        #expect(y.shape == [2, 2])
    }

    @Test("Channels are rows of axis 0 in OHWI conv weights")
    func convChannels() throws {
        // [2, 1, 1, 3]: channel 0 = [1, -2, 3] (mean 2), channel 1 = [0.5, 0.5, -0.5] (mean 0.5).
        let w = tensor([1, -2, 3, 0.5, 0.5, -0.5], shape: [2, 1, 1, 3])
        let y = try BinaryWeightQuantizer(scaling: .channel).quantize(w)
        #expect(y.data == [2, -2, 2, 0.5, 0.5, -0.5])
    }

    @Test("In a 1-D tensor each element is its own channel (a zero weight has scale 0)")
    func oneDimensional() throws {
        let y = try BinaryWeightQuantizer(scaling: .channel).quantize(tensor([0.5, -3, 0]))
        #expect(y.data == [0.5, -3, 0])
    }

    @Test("binarize returns signs and one scale per block")
    func pureFunction() throws {
        let r = try binarize(weights: [0.5, -0.25, 0, -2], rowLength: 2, scaling: .channel)
        #expect(r.signs == [1, -1, 1, -1])
        #expect(r.scales == [0.375, 1])
        let t = try binarize(weights: [0.5, -0.25, 0, -2], rowLength: 2, scaling: .tensor)
        #expect(t.scales == [0.6875])
        let n = try binarize(weights: [0.5, -0.25], rowLength: 2, scaling: .none)
        #expect(n.scales == [1])
        let values = try dequantizeInt8Codes(r.signs, scales: r.scales, rowLength: 2, groupSize: 2)
        #expect(values == [0.375, -0.375, 1, -1])
    }

    @Test("Weight STE passes the gradient where |w| <= 1", arguments: BinaryScaling.allCases)
    func weightGradient(scaling: BinaryScaling) {
        let x = tensor([-1.5, -1, 0, 0.5, 1, 1.01])
        let g = BinaryWeightQuantizer(scaling: scaling).backward(input: x, gradOutput: tensor([1, 2, 3, 4, 5, 6]))
        #expect(g.data == [0, 2, 3, 4, 5, 0])
    }

    @Test("Latent weight clip is [-1, 1]")
    func latentClip() {
        #expect(BinaryWeightQuantizer.latentWeightClip == -1...1)
    }

    @Test("Binary activation: sign with sign(0) = +1 and the hard-tanh STE")
    func activation() throws {
        let q = BinaryActivationQuantizer()
        let x = tensor([-2, -1, -0.2, 0, 0.7, 1, 3])
        #expect(try q.quantize(x).data == [-1, -1, -1, 1, 1, 1, 1])
        let g = q.backward(input: x, gradOutput: tensor([1, 2, 3, 4, 5, 6, 7]))
        #expect(g.data == [0, 2, 3, 4, 5, 6, 0])
        #expect(q.bitWidth == 1)
    }
}
