/// The architecture of a model as data: what `.lowbit` files store, what `LowBitNN` builds layers
/// from and what the runtime plans its kernels from.
///
/// Layers form a sequence; a `residual` layer holds a `body` and a `shortcut` sequence (an empty
/// shortcut is the identity) whose outputs are added. Names are dotted paths
/// (`stage1.block0.conv1`) that precision policies and reports refer to.
///
/// ```swift
/// let spec = ModelSpec(name: "mlp", inputShape: [784], classCount: 10, layers: [
///     LayerSpec(kind: .dense, name: "fc1", inFeatures: 784, outFeatures: 10),
/// ])
/// ```
public struct ModelSpec: Codable, Sendable, Equatable {
    /// The family the model was built as (`mlp`, `lenet`, `vgg-small`, `resnet20`) or a user name.
    public var name: String
    /// The shape of one sample: `[features]` or `[height, width, channels]` (NHWC without batch).
    public var inputShape: [Int]
    public var classCount: Int
    public var layers: [LayerSpec]

    public init(name: String, inputShape: [Int], classCount: Int, layers: [LayerSpec]) {
        self.name = name
        self.inputShape = inputShape
        self.classCount = classCount
        self.layers = layers
    }

    /// Every layer, depth first, residual bodies before their shortcuts.
    public var flattenedLayers: [LayerSpec] {
        func walk(_ layers: [LayerSpec]) -> [LayerSpec] {
            layers.flatMap { layer -> [LayerSpec] in
                [layer] + walk(layer.body ?? []) + walk(layer.shortcut ?? [])
            }
        }
        return walk(layers)
    }
}

/// One layer's kind and attributes. Attributes that a kind does not use are `nil` and are left out
/// of the JSON.
///
/// Weight layouts (row-major): dense `[outFeatures, inFeatures]`; conv2d
/// `[outChannels, kernelSize, kernelSize, inChannels]` (OHWI). The output-channel axis is axis 0
/// for both, so per-channel and per-group quantization read contiguous rows.
public struct LayerSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case dense, conv2d, batchNorm, relu, hardTanh, maxPool, avgPool, globalAvgPool, flatten, dropout, residual
    }

    public enum Padding: String, Codable, Sendable {
        /// Output size `ceil(input / stride)`, zeros split evenly with the extra one at the bottom/right.
        case same
        /// No padding: output size `(input - kernel) / stride + 1`.
        case valid
    }

    public var kind: Kind
    public var name: String
    public var inFeatures: Int?
    public var outFeatures: Int?
    public var inChannels: Int?
    public var outChannels: Int?
    public var kernelSize: Int?
    public var stride: Int?
    public var padding: Padding?
    public var bias: Bool?
    /// BatchNorm: channels normalised (the last axis).
    public var channels: Int?
    public var epsilon: Float?
    public var momentum: Float?
    /// Pooling window (square); stride defaults to the window.
    public var poolSize: Int?
    /// Dropout probability.
    public var rate: Float?
    public var body: [LayerSpec]?
    public var shortcut: [LayerSpec]?

    public init(
        kind: Kind, name: String, inFeatures: Int? = nil, outFeatures: Int? = nil,
        inChannels: Int? = nil, outChannels: Int? = nil, kernelSize: Int? = nil, stride: Int? = nil,
        padding: Padding? = nil, bias: Bool? = nil, channels: Int? = nil, epsilon: Float? = nil,
        momentum: Float? = nil, poolSize: Int? = nil, rate: Float? = nil,
        body: [LayerSpec]? = nil, shortcut: [LayerSpec]? = nil
    ) {
        self.kind = kind
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.poolSize = poolSize
        self.rate = rate
        self.body = body
        self.shortcut = shortcut
    }
}
