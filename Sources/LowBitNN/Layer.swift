import LowBitIO
import LowBitTensor

/// A layer with a hand-written backward pass, in the micrograd habit: `forward` caches what
/// `backward` needs, `backward` takes dL/d(output), accumulates into the parameters' `grad` and
/// returns dL/d(input).
///
/// Shapes carry the batch as axis 0: `[batch, features]` or NHWC `[batch, height, width, channels]`.
///
/// ```swift
/// let dense = Dense(inFeatures: 4, outFeatures: 2, name: "fc", rng: &rng)
/// let y = try dense(x)                   // forward, training mode
/// let dx = dense.backward(.zeros(y.shape))
/// ```
public protocol Layer: AnyObject {
    var name: String { get }
    /// The architecture record this layer was built from and is saved as.
    var spec: LayerSpec { get }
    func forward(_ x: Tensor, training: Bool) throws -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Trainable tensors (with gradients).
    var parameters: [Parameter] { get }
    /// Tensors saved with the model that are not trained by gradient (BatchNorm running statistics).
    var buffers: [Parameter] { get }
    /// The per-sample output shape for a per-sample input shape, or an error naming the mismatch.
    func outputShape(for inputShape: [Int]) throws -> [Int]
    /// Child layers (residual bodies and shortcuts), for walking a model by path.
    var children: [Layer] { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Parameter] { [] }
    public var children: [Layer] { [] }

    public func callAsFunction(_ x: Tensor, training: Bool = true) throws -> Tensor {
        try forward(x, training: training)
    }
}

/// Layers that multiply by a weight matrix and may run it through quantizers: `Dense`, `Conv2D`.
/// `nil` quantizers mean full precision (the Larq convention).
public protocol QuantizableLayer: Layer {
    var weight: Parameter { get }
    var weightQuantizer: (any Quantizer)? { get set }
    var inputQuantizer: (any Quantizer)? { get set }
    /// While true, forward passes feed each input to `inputQuantizer.observe` (post-training
    /// calibration) and pass it on unquantized; weights are still quantized.
    var calibrating: Bool { get set }
    /// Called with the layer's output after every forward pass (analysis hooks such as PCA
    /// significance); nil in normal use.
    var outputObserver: ((Tensor) -> Void)? { get set }
    /// Called with the matrix the layer multiplies by its (quantized) weight in every forward pass:
    /// `[rows, fan-in]`, the quantized input of a dense layer, the im2col columns of a convolution.
    /// Data-aware post-training steps (scale refitting) read it; nil in normal use.
    var inputColumnsObserver: ((Tensor) -> Void)? { get set }
}

extension QuantizableLayer {
    /// Runs the weight and input through their quantizers (identity when nil), telling them
    /// whether this is a training pass.
    func quantizedOperands(_ x: Tensor, training: Bool) throws -> (weight: Tensor, input: Tensor) {
        weightQuantizer?.isTraining = training
        inputQuantizer?.isTraining = training
        let w = try weightQuantizer?.quantize(weight.value) ?? weight.value
        if calibrating, let inputQuantizer {
            try inputQuantizer.observe(x)
            return (w, x)
        }
        let input = try inputQuantizer?.quantize(x) ?? x
        return (w, input)
    }

    /// Adds dL/dW_quantized to the latent weight's gradient through the quantizer's STE, and returns
    /// dL/dx from dL/dx_quantized likewise.
    func routeGradients(weightGrad: Tensor, inputGrad: Tensor, input: Tensor) -> Tensor {
        let latentGrad = weightQuantizer?.backward(input: weight.value, gradOutput: weightGrad) ?? weightGrad
        accumulate(latentGrad, into: weight)
        return inputQuantizer?.backward(input: input, gradOutput: inputGrad) ?? inputGrad
    }
}

/// `parameter.grad += delta`.
func accumulate(_ delta: Tensor, into parameter: Parameter) {
    precondition(delta.shape == parameter.grad.shape, "gradient \(delta.shape) for \(parameter.name) \(parameter.grad.shape)")
    delta.data.withUnsafeBufferPointer { source in
        parameter.grad.data.withUnsafeMutableBufferPointer { target in
            for i in 0..<target.count { target[i] += source[i] }
        }
    }
}

func requireRank(_ shape: [Int], _ rank: Int, _ layer: String) throws {
    if shape.count != rank {
        throw LowBitError.shapeMismatch("\(layer) expects a rank-\(rank) per-sample input, got \(shape)")
    }
}
