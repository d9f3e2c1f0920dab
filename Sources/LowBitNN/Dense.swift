import LowBitIO
import LowBitTensor

/// Fully connected layer: `y = x W^T + b`, weight `[out, in]` (PyTorch's layout).
///
/// Backward: `dW = dy^T x`, `db = sum_batch dy`, `dx = dy W`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let fc = Dense(inFeatures: 784, outFeatures: 10, name: "fc", rng: &rng)
/// let logits = try fc(x)          // x: [batch, 784]
/// ```
public final class Dense: QuantizableLayer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var weightQuantizer: (any Quantizer)?
    public var inputQuantizer: (any Quantizer)?
    public var calibrating = false
    public var outputObserver: ((Tensor) -> Void)?
    public var inputColumnsObserver: ((Tensor) -> Void)?

    private var cachedInput: Tensor?
    private var cachedQuantizedInput: Tensor?
    private var cachedQuantizedWeight: Tensor?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, name: String,
                initializer: Initializer = .heNormal, rng: inout SeededGenerator) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: "\(name).weight",
                           value: initializer.make(shape: [outFeatures, inFeatures], fanIn: inFeatures,
                                                   fanOut: outFeatures, rng: &rng))
        self.bias = bias ? Parameter(name: "\(name).bias", value: .zeros([outFeatures]), decays: false) : nil
    }

    public var spec: LayerSpec {
        LayerSpec(kind: .dense, name: name, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias != nil)
    }

    public var parameters: [Parameter] {
        [weight] + (bias.map { [$0] } ?? []) + (weightQuantizer?.parameters ?? []) + (inputQuantizer?.parameters ?? [])
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == [inFeatures] else {
            throw LowBitError.shapeMismatch("\(name) expects [\(inFeatures)] features per sample, got \(inputShape)")
        }
        return [outFeatures]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else {
            throw LowBitError.shapeMismatch("\(name) expects [batch, \(inFeatures)], got \(x.shape)")
        }
        let (w, input) = try quantizedOperands(x, training: training)
        inputColumnsObserver?(input)
        let y = affineForward(input, weight: w, bias: bias, outputShape: [x.shape[0], outFeatures])
        if training {
            cachedInput = x
            cachedQuantizedInput = input
            cachedQuantizedWeight = w
        }
        outputObserver?(y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput, let input = cachedQuantizedInput, let w = cachedQuantizedWeight else {
            preconditionFailure("\(name).backward called without a training-mode forward")
        }
        var noSpare: Tensor?
        let (weightGrad, inputGrad) = affineBackward(gradOutput, input: input, weight: w, bias: bias, spare: &noSpare)
        return routeGradients(weightGrad: weightGrad, inputGrad: inputGrad, input: x)
    }
}
