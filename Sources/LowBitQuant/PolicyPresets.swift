import LowBitIO
import LowBitTensor

/// The named precision policies of `lowbit train/quantize --policy`, resolved against a model's
/// architecture into explicit per-layer rules (a ``PrecisionPolicy`` is data; presets only build it).
///
/// | preset | weights | layer inputs |
/// |---|---|---|
/// | `float` | float32 | float32 |
/// | `binary` | binary (per-channel mean\|w\|) except first and last layer | binary, except the first layer's |
/// | `binary-all` | binary everywhere | binary everywhere except the first layer's (raw data) |
/// | `hybrid-fp-first-last` | binary except first and last layer | binary for binary layers; first and last fully float |
/// | `hybrid-fp-shortcuts` | binary 3x3 convolutions in residual bodies; projection shortcuts, first, last float | binary for binary layers |
/// | `ternary-fgq` | FGQ ternary, groups of `groupSize`; first and last layer int8 | `activationBits` (default 8); the first layer's input (the data) at 8 bits |
/// | `ternary-twn` | TWN ternary (one threshold and scale per tensor); first and last layer int8 | `activationBits` (default 8); the first layer's input at 8 bits |
/// | `int8` | 8-bit symmetric per channel | 8-bit (default) |
/// | `int4` | 4-bit symmetric per channel | 4-bit (default) |
///
/// In `binary`, the last layer keeps float weights but reads binary activations; in
/// `hybrid-fp-first-last` it reads float ones. Residual additions are always float (the sum of a
/// binary block and its shortcut is kept at full precision), which is what `hybrid-fp-shortcuts`
/// relies on; its per-convolution float shortcut (Bi-Real style) is an architecture option of
/// `Models.resnet20(shortcutPerConvolution:)`.
///
/// ```swift
/// let policy = try PolicyPresets.make("ternary-fgq", for: spec, options: .init(groupSize: 4))
/// ```
public enum PolicyPresets {
    public static let names = ["float", "binary", "binary-all", "hybrid-fp-first-last", "hybrid-fp-shortcuts",
                               "ternary-fgq", "ternary-twn", "int8", "int4"]

    public struct Options: Sendable {
        public var groupSize: Int
        public var activationBits: Int?
        /// Activation range calibration for k-bit inputs: minmax, percentile or mse.
        public var calibration: String
        public var delta: String

        public init(groupSize: Int = 4, activationBits: Int? = nil, calibration: String = "percentile", delta: String = "optimal") {
            self.groupSize = groupSize
            self.activationBits = activationBits
            self.calibration = calibration
            self.delta = delta
        }
    }

    public static let binaryWeight = QuantizerSpec(scheme: "binary", granularity: "channel")
    public static let binaryInput = QuantizerSpec(scheme: "binary-activation")

    public static func uniformWeight(bits: Int) -> QuantizerSpec {
        QuantizerSpec(scheme: "uniform", bits: bits, granularity: "channel", symmetric: true)
    }

    public static func activation(bits: Int, signed: Bool, calibration: String) -> QuantizerSpec {
        QuantizerSpec(scheme: "activation", bits: bits, calibration: calibration, signed: signed)
    }

    public static func make(_ name: String, for spec: ModelSpec, options: Options = Options()) throws -> PrecisionPolicy {
        let weighted = spec.flattenedLayers.filter { $0.kind == .dense || $0.kind == .conv2d }
        guard let first = weighted.first?.name, let last = weighted.last?.name else {
            throw LowBitError.invalidArgument("model \(spec.name) has no dense or conv2d layer to quantize")
        }
        if let bits = options.activationBits, !(1...16).contains(bits) {
            throw LowBitError.invalidArgument("activation bits must be in 1...16, got \(bits)")
        }
        guard options.groupSize >= 1 else { throw LowBitError.invalidArgument("group size must be >= 1, got \(options.groupSize)") }
        let binaryBoth = PrecisionRule(pattern: "*", weight: binaryWeight, input: binaryInput)
        func kBit(_ weightBits: Int, defaultActivationBits: Int) -> [PrecisionRule] {
            let bits = options.activationBits ?? defaultActivationBits
            return [
                PrecisionRule(pattern: first, weight: uniformWeight(bits: weightBits),
                              input: activation(bits: bits, signed: true, calibration: options.calibration)),
                PrecisionRule(pattern: "*", weight: uniformWeight(bits: weightBits),
                              input: activation(bits: bits, signed: false, calibration: options.calibration)),
            ]
        }
        let rules: [PrecisionRule]
        switch name {
        case "float":
            rules = []
        case "binary":
            rules = [PrecisionRule(pattern: first), PrecisionRule(pattern: last, input: binaryInput), binaryBoth]
        case "binary-all":
            rules = [PrecisionRule(pattern: first, weight: binaryWeight), binaryBoth]
        case "hybrid-fp-first-last":
            rules = [PrecisionRule(pattern: first), PrecisionRule(pattern: last), binaryBoth]
        case "hybrid-fp-shortcuts":
            let bodyConvolutions = residualBodyConvolutions(spec.layers).filter { $0 != first && $0 != last }
            guard !bodyConvolutions.isEmpty else {
                throw LowBitError.invalidArgument("hybrid-fp-shortcuts needs a model with residual blocks (e.g. resnet20); \(spec.name) has none")
            }
            rules = bodyConvolutions.map { PrecisionRule(pattern: $0, weight: binaryWeight, input: binaryInput) }
        case "ternary-fgq", "ternary-twn":
            let ternary = name == "ternary-twn" ? QuantizerSpec(scheme: "twn")
                : QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: options.groupSize, delta: options.delta)
            let bits = options.activationBits ?? 8
            rules = [
                // The first layer is int8 through and through: it reads the image, 8-bit data, at 8 bits
                // whatever --act-bits says (4-bit image inputs cost FGQ N=4 on ResNet-20 1.3 points).
                PrecisionRule(pattern: first, weight: uniformWeight(bits: 8),
                              input: activation(bits: max(bits, 8), signed: true, calibration: options.calibration)),
                PrecisionRule(pattern: last, weight: uniformWeight(bits: 8),
                              input: activation(bits: bits, signed: false, calibration: options.calibration)),
                PrecisionRule(pattern: "*", weight: ternary, input: activation(bits: bits, signed: false, calibration: options.calibration)),
            ]
        case "int8":
            rules = kBit(8, defaultActivationBits: 8)
        case "int4":
            rules = kBit(4, defaultActivationBits: 4)
        default:
            throw LowBitError.unsupported("policy preset '\(name)'; choose one of \(names.joined(separator: ", ")) or give a JSON file")
        }
        return PrecisionPolicy(name: name, rules: rules)
    }

    /// Convolutions with a 3x3 (or larger) kernel inside residual bodies, in order.
    private static func residualBodyConvolutions(_ layers: [LayerSpec]) -> [String] {
        layers.flatMap { layer -> [String] in
            guard layer.kind == .residual else { return [] }
            let own = (layer.body ?? []).filter { $0.kind == .conv2d && ($0.kernelSize ?? 1) > 1 }.map(\.name)
            return own + residualBodyConvolutions(layer.body ?? [])
        }
    }
}
