import LowBitIO
import LowBitTensor

/// A network: a sequence of layers built from (and saved as) a ``ModelSpec``.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let model = try Model(spec: Models.mlp(inputFeatures: 784, hidden: [256, 256], classCount: 10), rng: &rng)
/// let logits = try model(x, training: false)     // [batch, 10]
/// ```
public final class Model {
    public let spec: ModelSpec
    public let layers: [Layer]

    /// Builds fresh layers (initialised from `rng`) for `spec` and checks that shapes chain.
    public init(spec: ModelSpec, rng: inout SeededGenerator) throws {
        self.spec = spec
        var layers: [Layer] = []
        for layer in spec.layers { layers.append(try makeLayer(layer, rng: &rng)) }
        self.layers = layers
        let output = try layers.reduce(spec.inputShape) { try $1.outputShape(for: $0) }
        guard output == [spec.classCount] else {
            throw LowBitError.shapeMismatch("model \(spec.name) outputs \(output) per sample, expected [\(spec.classCount)]")
        }
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard Array(x.shape.dropFirst()) == spec.inputShape else {
            throw LowBitError.shapeMismatch("model \(spec.name) expects samples of shape \(spec.inputShape), got \(Array(x.shape.dropFirst()))")
        }
        return try layers.reduce(x) { try $1.forward($0, training: training) }
    }

    public func callAsFunction(_ x: Tensor, training: Bool = false) throws -> Tensor {
        try forward(x, training: training)
    }

    /// Back-propagates dL/d(logits) through every layer, accumulating parameter gradients.
    @discardableResult
    public func backward(_ gradOutput: Tensor) -> Tensor {
        layers.reversed().reduce(gradOutput) { $1.backward($0) }
    }

    /// Every layer, depth first (residual bodies before shortcuts), with its dotted path name.
    public var allLayers: [Layer] {
        func walk(_ layers: [Layer]) -> [Layer] { layers.flatMap { [$0] + walk($0.children) } }
        return walk(layers)
    }

    public var parameters: [Parameter] { allLayers.flatMap(\.parameters) }
    public var buffers: [Parameter] { allLayers.flatMap(\.buffers) }

    /// Parameters and buffers by name: what a model file stores.
    public var namedTensors: [(name: String, tensor: Tensor)] {
        allLayers.flatMap { namedParameters(of: $0) + $0.buffers }.map { ($0.name, $0.value) }
    }

    /// Trainable weights of the layers (quantizer ranges and BatchNorm running statistics excluded).
    public var parameterCount: Int { allLayers.flatMap { namedParameters(of: $0) }.reduce(0) { $0 + $1.value.count } }

    /// Loads tensors by name; every tensor the model needs must be present with its exact shape.
    public func load(_ tensors: [String: Tensor]) throws {
        for layer in allLayers {
            for parameter in namedParameters(of: layer) + layer.buffers {
                guard let tensor = tensors[parameter.name] else {
                    throw LowBitError.shapeMismatch("model file has no tensor \(parameter.name)")
                }
                guard tensor.shape == parameter.value.shape else {
                    throw LowBitError.shapeMismatch("\(parameter.name) is \(tensor.shape) in the file, the layer needs \(parameter.value.shape)")
                }
                try tensor.checkFinite(parameter.name)
                parameter.value = tensor
            }
        }
    }

    public func zeroGradients() { parameters.forEach { $0.zeroGrad() } }

    /// Layer parameters without quantizer-owned ones (those are saved in the policy).
    private func namedParameters(of layer: Layer) -> [Parameter] {
        switch layer {
        case let dense as Dense: return [dense.weight] + (dense.bias.map { [$0] } ?? [])
        case let conv as Conv2D: return [conv.weight] + (conv.bias.map { [$0] } ?? [])
        default: return layer.parameters
        }
    }
}

/// Builds the layer a spec describes (fresh weights from `rng`).
func makeLayer(_ spec: LayerSpec, rng: inout SeededGenerator) throws -> Layer {
    func need(_ value: Int?, _ field: String) throws -> Int {
        guard let value, value > 0 else {
            throw LowBitError.invalidArgument("layer \(spec.name) (\(spec.kind.rawValue)) needs a positive \(field)")
        }
        return value
    }
    switch spec.kind {
    case .dense:
        return Dense(inFeatures: try need(spec.inFeatures, "inFeatures"), outFeatures: try need(spec.outFeatures, "outFeatures"),
                     bias: spec.bias ?? true, name: spec.name, rng: &rng)
    case .conv2d:
        return Conv2D(inChannels: try need(spec.inChannels, "inChannels"), outChannels: try need(spec.outChannels, "outChannels"),
                      kernelSize: try need(spec.kernelSize, "kernelSize"), stride: spec.stride ?? 1,
                      padding: spec.padding ?? .same, bias: spec.bias ?? true, name: spec.name, rng: &rng)
    case .batchNorm:
        return BatchNorm(channels: try need(spec.channels, "channels"), epsilon: spec.epsilon ?? 1e-5,
                         momentum: spec.momentum ?? 0.1, name: spec.name)
    case .relu: return ReLU(name: spec.name)
    case .hardTanh: return HardTanh(name: spec.name)
    case .maxPool: return MaxPool(poolSize: try need(spec.poolSize, "poolSize"), stride: spec.stride, name: spec.name)
    case .avgPool: return AvgPool(poolSize: try need(spec.poolSize, "poolSize"), stride: spec.stride, name: spec.name)
    case .globalAvgPool: return GlobalAvgPool(name: spec.name)
    case .flatten: return Flatten(name: spec.name)
    case .dropout:
        let rate = spec.rate ?? 0.5
        guard rate >= 0, rate < 1 else { throw LowBitError.invalidArgument("dropout \(spec.name) rate \(rate) must be in [0, 1)") }
        return Dropout(rate: rate, name: spec.name, seed: rng.next())
    case .residual:
        var body: [Layer] = []
        for layer in spec.body ?? [] { body.append(try makeLayer(layer, rng: &rng)) }
        var shortcut: [Layer] = []
        for layer in spec.shortcut ?? [] { shortcut.append(try makeLayer(layer, rng: &rng)) }
        return Residual(name: spec.name, body: body, shortcut: shortcut)
    }
}
