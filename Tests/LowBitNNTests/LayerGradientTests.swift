import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitNN

@Suite("finite-difference gradients")
struct LayerGradientTests {
    @Test func dense() throws {
        var rng = SeededGenerator(seed: 1)
        try checkGradients(Dense(inFeatures: 7, outFeatures: 5, name: "fc", rng: &rng), inputShape: [3, 7])
    }

    @Test func denseWithoutBias() throws {
        var rng = SeededGenerator(seed: 2)
        try checkGradients(Dense(inFeatures: 4, outFeatures: 3, bias: false, name: "fc", rng: &rng), inputShape: [2, 4])
    }

    struct ConvCase: Sendable, CustomTestStringConvertible {
        var kernel: Int, stride: Int, padding: LayerSpec.Padding, size: Int
        var testDescription: String { "k\(kernel) s\(stride) \(padding.rawValue) \(size)x\(size)" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(kernel: 1, stride: 1, padding: .same, size: 5),
        ConvCase(kernel: 1, stride: 2, padding: .same, size: 5),
        ConvCase(kernel: 3, stride: 1, padding: .same, size: 5),
        ConvCase(kernel: 3, stride: 2, padding: .same, size: 6),
        ConvCase(kernel: 3, stride: 2, padding: .valid, size: 7),
        ConvCase(kernel: 5, stride: 1, padding: .same, size: 6),
        ConvCase(kernel: 5, stride: 2, padding: .valid, size: 9),
        ConvCase(kernel: 7, stride: 1, padding: .same, size: 7),
        ConvCase(kernel: 7, stride: 2, padding: .same, size: 8),
    ]

    @Test(arguments: convCases)
    func conv2d(_ c: ConvCase) throws {
        var rng = SeededGenerator(seed: 3)
        let conv = Conv2D(inChannels: 2, outChannels: 3, kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                          name: "conv", rng: &rng)
        try checkGradients(conv, inputShape: [2, c.size, c.size, 2])
    }

    @Test func batchNormDense() throws {
        try checkGradients(BatchNorm(channels: 4, name: "bn"), inputShape: [6, 4])
    }

    @Test func batchNormImage() throws {
        let bn = BatchNorm(channels: 3, name: "bn")
        bn.gamma.value = Tensor(shape: [3], data: [0.5, 1.5, -1])
        bn.beta.value = Tensor(shape: [3], data: [0.1, -0.2, 0.3])
        try checkGradients(bn, inputShape: [2, 3, 3, 3])
    }

    @Test func relu() throws { try checkGradients(ReLU(name: "r"), inputShape: [4, 9]) }
    @Test func hardTanh() throws { try checkGradients(HardTanh(name: "h"), inputShape: [4, 9]) }
    @Test func maxPool() throws { try checkGradients(MaxPool(poolSize: 2, name: "p"), inputShape: [2, 4, 6, 3]) }
    @Test func maxPoolOverlapping() throws { try checkGradients(MaxPool(poolSize: 3, stride: 2, name: "p"), inputShape: [1, 7, 7, 2]) }
    @Test func avgPool() throws { try checkGradients(AvgPool(poolSize: 2, name: "p"), inputShape: [2, 4, 4, 3]) }
    @Test func globalAvgPool() throws { try checkGradients(GlobalAvgPool(name: "g"), inputShape: [2, 3, 4, 5]) }
    @Test func flatten() throws { try checkGradients(Flatten(name: "f"), inputShape: [2, 3, 2, 2]) }

    @Test func dropoutUsesItsMask() throws {
        let dropout = Dropout(rate: 0.5, name: "d", seed: 9)
        let x = Tensor(shape: [1, 1000], repeating: 1)
        let y = try dropout.forward(x, training: true)
        let dx = dropout.backward(Tensor(shape: [1, 1000], repeating: 1))
        #expect(y == dx)
        #expect(Set(y.data) == [0, 2])
        let kept = y.data.filter { $0 > 0 }.count
        #expect(kept > 400 && kept < 600)
        #expect(try dropout.forward(x, training: false) == x)
    }

    @Test func residualWithProjectionShortcut() throws {
        var rng = SeededGenerator(seed: 4)
        let block = Residual(
            name: "block",
            body: [Conv2D(inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, name: "c1", rng: &rng),
                   BatchNorm(channels: 4, name: "bn1"), ReLU(name: "r"),
                   Conv2D(inChannels: 4, outChannels: 4, kernelSize: 3, name: "c2", rng: &rng)],
            shortcut: [Conv2D(inChannels: 2, outChannels: 4, kernelSize: 1, stride: 2, name: "sc", rng: &rng),
                       BatchNorm(channels: 4, name: "scbn")])
        try checkGradients(block, inputShape: [3, 6, 6, 2])
    }

    @Test func residualIdentity() throws {
        var rng = SeededGenerator(seed: 5)
        let block = Residual(name: "block", body: [Conv2D(inChannels: 3, outChannels: 3, kernelSize: 3, name: "c", rng: &rng)])
        try checkGradients(block, inputShape: [2, 4, 4, 3])
    }

    @Test func softmaxCrossEntropyGradient() throws {
        var rng = SeededGenerator(seed: 6)
        var logits = Tensor(shape: [3, 5], data: (0..<15).map { _ in rng.nextNormal() * 2 })
        let labels: [Int32] = [4, 0, 2]
        for smoothing: Float in [0, 0.1] {
            let (_, grad) = try softmaxCrossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing)
            for i in 0..<15 {
                let original = logits.data[i]
                logits.data[i] = original + 1e-2
                let plus = try softmaxCrossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing).loss
                logits.data[i] = original - 1e-2
                let minus = try softmaxCrossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing).loss
                logits.data[i] = original
                #expect(abs(grad.data[i] - (plus - minus) / 2e-2) < 2e-3)
            }
        }
    }
}
