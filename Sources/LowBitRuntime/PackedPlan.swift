import LowBitIO
import LowBitTensor

/// The execution plan of a packed model, as stored under `"packed"` in a `.lowbit` archive's
/// metadata: what `lowbit pack` writes and ``PackedModel`` runs. docs/FORMAT.md ("Packed models")
/// specifies it together with the tensors each step reads.
///
/// Steps run in order; a `residual` step runs `body` and `shortcut` (empty = identity) on the same
/// input and adds them. BatchNorm is already folded into the weighted step before it where possible
/// and dropout is gone, so every step is deployed work.
///
/// ```swift
/// let plan = PackedPlan(inputShape: [784], classCount: 10, normalization: nil, steps: [
///     PackedStep(kind: .dense, name: "fc1", inFeatures: 784, outFeatures: 10),
/// ])
/// var archive = LowBitArchive(metadata: ["packed": try JSONValue(encoding: plan)])
/// ```
public struct PackedPlan: Codable, Sendable, Equatable {
    /// The newest packed format version this build reads. Version 2 adds `inputBits` and
    /// `weightBits` (integer widths below 8); the packer writes 1 for plans that do not use them, so
    /// builds that read only version 1 still run those files.
    public static let currentVersion = 2
    /// The oldest version this build reads.
    public static let oldestReadableVersion = 1

    /// The version a plan with these steps needs: 2 when a step sets `inputBits` or `weightBits`, else 1.
    public static func version(needing steps: [PackedStep]) -> Int {
        func usesBits(_ step: PackedStep) -> Bool {
            step.inputBits != nil || step.weightBits != nil || (step.body ?? []).contains(where: usesBits)
                || (step.shortcut ?? []).contains(where: usesBits)
        }
        return steps.contains(where: usesBits) ? 2 : 1
    }

    public var version: Int
    /// The shape of one raw sample: `[features]` or NHWC `[height, width, channels]`.
    public var inputShape: [Int]
    public var classCount: Int
    /// Applied to raw inputs first, `x' = (x - mean[c]) / std[c]` over the last axis; nil: none.
    public var normalization: PackedNormalization?
    public var steps: [PackedStep]

    public init(version: Int = PackedPlan.currentVersion, inputShape: [Int], classCount: Int,
                normalization: PackedNormalization?, steps: [PackedStep]) {
        self.version = version
        self.inputShape = inputShape
        self.classCount = classCount
        self.normalization = normalization
        self.steps = steps
    }
}

/// Per-channel input standardization carried by a packed model (the statistics training used).
///
/// ```swift
/// let normalization = PackedNormalization(mean: [0.1307], std: [0.3081])
/// ```
public struct PackedNormalization: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
}

/// One step of a ``PackedPlan``: its deployed kind, the attributes the kind needs, and how it reads
/// its input. Tensors are named `<name>.<role>` (table in docs/FORMAT.md).
///
/// ```swift
/// let step = PackedStep(kind: .binaryDense, name: "fc2", input: .sign, inFeatures: 256, outFeatures: 256)
/// // reads fc2.signs (u64 [256, 4]), fc2.multiplier and fc2.bias (f32 [256])
/// ```
public struct PackedStep: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Float weights: `y = x W^T + b`; tensors `weight` f32 [out, in], `bias` f32 [out].
        case dense
        /// Float NHWC convolution; `weight` f32 OHWI, `bias` f32 [out].
        case conv2d
        /// ±1 weights, `y = dot * multiplier + bias`; `signs` u64 [out, ceil(in / 64)], `multiplier`, `bias` f32 [out].
        case binaryDense
        /// ±1 NHWC convolution, exact zero padding; `signs` u64 [out, ceil(k * k * in / 64)] (OHWI bit order).
        case binaryConv2d
        /// Integer-only dense: int8 codes `weight` i8 [out, in] with per-channel `weightScale` f32 [out]
        /// and a float `bias` f32 [out]; reads `int8` or `uint8` inputs of scale `inputScale`. With
        /// `weightBits` of 4 or less, `weight` is u8 [out, ceil(in / 2)], two codes per byte (low nibble
        /// first, 4-bit two's complement).
        case int8Dense
        /// Integer-only NHWC convolution: `weight` i8 OHWI, `weightScale`, `bias` as for `int8Dense`.
        case int8Conv2d
        /// FGQ ternary dense: bit-planes `plus`, `minus` u64 [out, ceil(in / 64)] (bit set where t = +1 / -1),
        /// `scales` f32 [out, ceil(in / groupSize)], `bias` f32 [out]; reads int8 or uint8 inputs.
        case ternaryDense
        /// FGQ ternary NHWC convolution: bit-planes `[out, ceil(k * k * in / 64)]` (OHWI bit order), groups along that row.
        case ternaryConv2d
        /// An unfolded BatchNorm as `y = x * scale + shift` per channel; `scale`, `shift` f32 [channels].
        case affine
        case relu, hardTanh, maxPool, avgPool, globalAvgPool, flatten, residual
    }

    /// How a weighted step reads its input.
    public enum InputEncoding: String, Codable, Sendable {
        /// The float values as they are.
        case float
        /// sign(x) in {-1, +1}, sign(0) = +1 (binary activations).
        case sign
        /// q = clamp(round(x / inputScale), -127, 127), round half to even (signed 8-bit activations).
        case int8
        /// q = clamp(round(x / inputScale), 0, 255) (unsigned 8-bit activations, after a ReLU).
        case uint8
    }

    public var kind: Kind
    public var name: String
    /// Weighted steps only; nil means ``InputEncoding/float``.
    public var input: InputEncoding?
    /// The activation scale of `int8` and `uint8` inputs (zero point 0).
    public var inputScale: Float?
    public var inFeatures: Int?
    public var outFeatures: Int?
    public var inChannels: Int?
    public var outChannels: Int?
    public var kernelSize: Int?
    public var stride: Int?
    public var padding: LayerSpec.Padding?
    public var poolSize: Int?
    /// Ternary steps: weights per scale group (a multiple of 4).
    public var groupSize: Int?
    /// `int8` and `uint8` inputs: the code width, 2...8 (nil: 8). Codes lie in `0...2^bits - 1`
    /// (unsigned) or `-(2^(bits-1) - 1)...2^(bits-1) - 1` (signed) at scale `inputScale`.
    public var inputBits: Int?
    /// Integer steps: the weight code width, 2...8 (nil: 8); codes in `-(2^(bits-1) - 1)...2^(bits-1) - 1`.
    public var weightBits: Int?
    public var body: [PackedStep]?
    public var shortcut: [PackedStep]?

    public init(kind: Kind, name: String, input: InputEncoding? = nil, inputScale: Float? = nil, inFeatures: Int? = nil, outFeatures: Int? = nil,
                inChannels: Int? = nil, outChannels: Int? = nil, kernelSize: Int? = nil, stride: Int? = nil,
                padding: LayerSpec.Padding? = nil, poolSize: Int? = nil, groupSize: Int? = nil, inputBits: Int? = nil,
                weightBits: Int? = nil, body: [PackedStep]? = nil, shortcut: [PackedStep]? = nil) {
        self.kind = kind
        self.name = name
        self.input = input
        self.inputScale = inputScale
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.poolSize = poolSize
        self.groupSize = groupSize
        self.inputBits = inputBits
        self.weightBits = weightBits
        self.body = body
        self.shortcut = shortcut
    }

    /// The input encoding, float when unset.
    public var inputEncoding: InputEncoding { input ?? .float }

    /// The largest input code: `2^bits - 1` for `uint8`, `2^(bits-1) - 1` for `int8` (`inputBits`, 8 when unset).
    public var inputCodeMax: Int32 {
        let bits = inputBits ?? 8
        return inputEncoding == .int8 ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
    }
}
