import LowBitIO
import LowBitTensor

/// The model families LowBit trains, as ``ModelSpec`` builders. Every builder takes the per-sample
/// input shape (`[features]` or NHWC `[height, width, channels]`, 1 or 3 channels, any size the
/// layers allow) and the class count.
///
/// ```swift
/// let spec = try Models.resnet20(inputShape: [28, 28, 1], classCount: 10)
/// var rng = SeededGenerator(seed: 0)
/// let model = try Model(spec: spec, rng: &rng)
/// ```
public enum Models {
    /// The CLI names of the families.
    public static let names = ["mlp", "lenet", "vgg-small", "resnet20"]

    /// Architecture choices shared by the families.
    public struct Options: Sendable {
        /// The nonlinearity after each hidden layer: `.relu`, or `.hardTanh` for binary networks
        /// (sign of a ReLU output is always +1, so binarized inputs need a signed activation).
        public var activation: LayerSpec.Kind
        /// BatchNorm after each hidden dense layer of an MLP (the CNNs always have it).
        public var batchNorm: Bool
        /// ResNet-20 only: a shortcut around every convolution (Bi-Real style) instead of one per block.
        public var shortcutPerConvolution: Bool

        public init(activation: LayerSpec.Kind = .relu, batchNorm: Bool = false, shortcutPerConvolution: Bool = false) {
            self.activation = activation
            self.batchNorm = batchNorm
            self.shortcutPerConvolution = shortcutPerConvolution
        }
    }

    /// Builds a family by its CLI name. `widths` overrides the family's default widths (hidden sizes
    /// for `mlp`, channels per stage for the CNNs).
    public static func spec(named name: String, inputShape: [Int], classCount: Int, widths: [Int]? = nil,
                            options: Options = Options()) throws -> ModelSpec {
        guard [.relu, .hardTanh].contains(options.activation) else {
            throw LowBitError.unsupported("activation \(options.activation.rawValue); choose relu or hardTanh")
        }
        switch name {
        case "mlp":
            return try mlp(inputShape: inputShape, hidden: widths ?? [256, 256], classCount: classCount,
                           batchNorm: options.batchNorm, activation: options.activation)
        case "lenet":
            return try lenet(inputShape: inputShape, classCount: classCount, channels: widths ?? [32, 64, 256],
                             activation: options.activation)
        case "vgg-small":
            return try vggSmall(inputShape: inputShape, classCount: classCount, widths: widths ?? [32, 64, 128],
                                activation: options.activation)
        case "resnet20":
            return try resnet20(inputShape: inputShape, classCount: classCount, widths: widths ?? [16, 32, 64],
                                activation: options.activation, shortcutPerConvolution: options.shortcutPerConvolution)
        default:
            throw LowBitError.unsupported("model '\(name)'; choose one of \(names.joined(separator: ", "))")
        }
    }

    /// Dense -> ReLU for each hidden width, then a dense classifier. Image inputs are flattened first.
    public static func mlp(inputShape: [Int], hidden: [Int], classCount: Int, batchNorm: Bool = false,
                           activation: LayerSpec.Kind = .relu) throws -> ModelSpec {
        try requirePositive(hidden + [classCount], "mlp widths")
        var layers: [LayerSpec] = []
        if inputShape.count > 1 { layers.append(LayerSpec(kind: .flatten, name: "flatten")) }
        var features = inputShape.reduce(1, *)
        for (index, width) in hidden.enumerated() {
            layers.append(LayerSpec(kind: .dense, name: "fc\(index + 1)", inFeatures: features, outFeatures: width, bias: !batchNorm))
            if batchNorm { layers.append(LayerSpec(kind: .batchNorm, name: "bn\(index + 1)", channels: width)) }
            layers.append(LayerSpec(kind: activation, name: "act\(index + 1)"))
            features = width
        }
        layers.append(LayerSpec(kind: .dense, name: "fc\(hidden.count + 1)", inFeatures: features, outFeatures: classCount))
        return ModelSpec(name: "mlp", inputShape: inputShape, classCount: classCount, layers: layers)
    }

    /// LeNet-style CNN: two (5x5 conv -> BatchNorm -> ReLU -> 2x2 max-pool) stages with
    /// `channels[0]`, `channels[1]` filters, then a dense layer of `channels[2]` units with dropout,
    /// then the classifier.
    public static func lenet(inputShape: [Int], classCount: Int, channels: [Int] = [32, 64, 256],
                             activation: LayerSpec.Kind = .relu) throws -> ModelSpec {
        let (height, width, inChannels) = try imageShape(inputShape, "lenet")
        guard channels.count == 3 else { throw LowBitError.invalidArgument("lenet takes 3 widths (conv1, conv2, dense), got \(channels)") }
        try requirePositive(channels + [classCount], "lenet widths")
        var layers: [LayerSpec] = []
        var c = inChannels
        for stage in 0..<2 {
            layers += [
                LayerSpec(kind: .conv2d, name: "conv\(stage + 1)", inChannels: c, outChannels: channels[stage],
                          kernelSize: 5, stride: 1, padding: .same, bias: false),
                LayerSpec(kind: .batchNorm, name: "bn\(stage + 1)", channels: channels[stage]),
                LayerSpec(kind: activation, name: "act\(stage + 1)"),
                LayerSpec(kind: .maxPool, name: "pool\(stage + 1)", stride: 2, poolSize: 2),
            ]
            c = channels[stage]
        }
        let features = (height / 2 / 2) * (width / 2 / 2) * c
        layers += [
            LayerSpec(kind: .flatten, name: "flatten"),
            LayerSpec(kind: .dense, name: "fc1", inFeatures: features, outFeatures: channels[2]),
            LayerSpec(kind: activation, name: "act3"),
            LayerSpec(kind: .dropout, name: "dropout", rate: 0.3),
            LayerSpec(kind: .dense, name: "fc2", inFeatures: channels[2], outFeatures: classCount),
        ]
        return ModelSpec(name: "lenet", inputShape: inputShape, classCount: classCount, layers: layers)
    }

    /// CIFAR-style VGG: for each width, two 3x3 conv -> BatchNorm -> ReLU, then 2x2 max-pool; then
    /// global average pooling and a dense classifier.
    public static func vggSmall(inputShape: [Int], classCount: Int, widths: [Int] = [32, 64, 128],
                                activation: LayerSpec.Kind = .relu) throws -> ModelSpec {
        var (_, _, c) = try imageShape(inputShape, "vgg-small")
        try requirePositive(widths + [classCount], "vgg-small widths")
        var layers: [LayerSpec] = []
        for (stage, width) in widths.enumerated() {
            for conv in 0..<2 {
                let tag = "stage\(stage + 1).conv\(conv + 1)"
                layers += [
                    LayerSpec(kind: .conv2d, name: tag, inChannels: c, outChannels: width, kernelSize: 3, stride: 1,
                              padding: .same, bias: false),
                    LayerSpec(kind: .batchNorm, name: "\(tag).bn", channels: width),
                    LayerSpec(kind: activation, name: "\(tag).act"),
                ]
                c = width
            }
            layers.append(LayerSpec(kind: .maxPool, name: "stage\(stage + 1).pool", stride: 2, poolSize: 2))
        }
        layers += [
            LayerSpec(kind: .globalAvgPool, name: "pool"),
            LayerSpec(kind: .dense, name: "fc", inFeatures: c, outFeatures: classCount),
        ]
        return ModelSpec(name: "vgg-small", inputShape: inputShape, classCount: classCount, layers: layers)
    }

    /// ResNet-20 (He et al. 2016, CIFAR variant): a 3x3 stem, three stages of three basic blocks
    /// (`widths`, stride 2 entering stages 2 and 3), global average pooling, a dense classifier.
    /// A block whose shape changes uses a projection shortcut (1x1 strided conv + BatchNorm),
    /// otherwise the identity. Layer paths: `stem.conv`, `stage2.block0.conv1`,
    /// `stage2.block0.shortcut.conv`, `fc`.
    ///
    /// With `shortcutPerConvolution` (Bi-Real style) each convolution gets its own shortcut:
    /// `x1 = act(bn1(conv1(x)) + shortcut(x))`, `out = act(bn2(conv2(x1)) + x1)`, paths
    /// `stage1.block0.part1` / `.part2`; the full-precision path then bypasses every binary conv.
    public static func resnet20(inputShape: [Int], classCount: Int, widths: [Int] = [16, 32, 64], blocksPerStage: Int = 3,
                                activation: LayerSpec.Kind = .relu, shortcutPerConvolution: Bool = false) throws -> ModelSpec {
        var (_, _, c) = try imageShape(inputShape, "resnet20")
        guard widths.count == 3 else { throw LowBitError.invalidArgument("resnet20 takes 3 stage widths, got \(widths)") }
        try requirePositive(widths + [classCount, blocksPerStage], "resnet20 widths")
        var layers: [LayerSpec] = [
            LayerSpec(kind: .conv2d, name: "stem.conv", inChannels: c, outChannels: widths[0], kernelSize: 3, stride: 1,
                      padding: .same, bias: false),
            LayerSpec(kind: .batchNorm, name: "stem.bn", channels: widths[0]),
            LayerSpec(kind: activation, name: "stem.act"),
        ]
        c = widths[0]
        /// A convolution `prefix.convSuffix` and its BatchNorm `prefix.bnSuffix`.
        func conv(_ prefix: String, _ suffix: String, _ input: Int, _ output: Int, _ kernel: Int, _ stride: Int) -> [LayerSpec] {
            [LayerSpec(kind: .conv2d, name: "\(prefix).conv\(suffix)", inChannels: input, outChannels: output, kernelSize: kernel,
                       stride: stride, padding: .same, bias: false),
             LayerSpec(kind: .batchNorm, name: "\(prefix).bn\(suffix)", channels: output)]
        }
        for (stage, width) in widths.enumerated() {
            for block in 0..<blocksPerStage {
                let stride = (stage > 0 && block == 0) ? 2 : 1
                let tag = "stage\(stage + 1).block\(block)"
                let projection = (stride != 1 || c != width) ? conv("\(tag).shortcut", "", c, width, 1, stride) : []
                if shortcutPerConvolution {
                    layers += [
                        LayerSpec(kind: .residual, name: "\(tag).part1", body: conv(tag, "1", c, width, 3, stride),
                                  shortcut: projection),
                        LayerSpec(kind: activation, name: "\(tag).act1"),
                        LayerSpec(kind: .residual, name: "\(tag).part2", body: conv(tag, "2", width, width, 3, 1), shortcut: []),
                        LayerSpec(kind: activation, name: "\(tag).act2"),
                    ]
                } else {
                    let body = conv(tag, "1", c, width, 3, stride) + [LayerSpec(kind: activation, name: "\(tag).act1")]
                        + conv(tag, "2", width, width, 3, 1)
                    layers += [
                        LayerSpec(kind: .residual, name: tag, body: body, shortcut: projection),
                        LayerSpec(kind: activation, name: "\(tag).act2"),
                    ]
                }
                c = width
            }
        }
        layers += [
            LayerSpec(kind: .globalAvgPool, name: "pool"),
            LayerSpec(kind: .dense, name: "fc", inFeatures: c, outFeatures: classCount),
        ]
        return ModelSpec(name: "resnet20", inputShape: inputShape, classCount: classCount, layers: layers)
    }

    private static func imageShape(_ shape: [Int], _ family: String) throws -> (Int, Int, Int) {
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw LowBitError.shapeMismatch("\(family) needs image samples [height, width, channels], got \(shape)")
        }
        return (shape[0], shape[1], shape[2])
    }

    private static func requirePositive(_ values: [Int], _ what: String) throws {
        if values.contains(where: { $0 <= 0 }) { throw LowBitError.invalidArgument("\(what) must be positive, got \(values)") }
    }
}
