/// A fake-quantizer: maps float tensors to the values a low-precision representation can hold
/// (returned as float32, "dequantized"), with a straight-through-estimator backward pass.
///
/// Layers in `LowBitNN` take an optional `weightQuantizer` and `inputQuantizer` (nil = full
/// precision). In training the layer keeps latent float weights, runs `quantize` in the forward pass
/// and routes the gradient of the quantized tensor through `backward` to the latent one.
///
/// Quantizers are reference types because some carry state: calibrated activation ranges and
/// learned clipping values (PACT), which are exposed as ``parameters`` to the optimizer.
public protocol Quantizer: AnyObject {
    /// The serializable description (scheme name plus parameters) that recreates this quantizer.
    var spec: QuantizerSpec { get }

    /// Forward map. Throws ``LowBitError/nonFinite(_:)`` for NaN/Inf input.
    func quantize(_ x: Tensor) throws -> Tensor

    /// Straight-through estimator: dL/dx from dL/d(quantize(x)). Also accumulates the gradient of
    /// any learned ``parameters``.
    func backward(input x: Tensor, gradOutput: Tensor) -> Tensor

    /// Learned parameters (PACT clipping value, ...). Empty for fixed quantizers.
    var parameters: [Parameter] { get }

    /// Called with each calibration batch before `quantize` is used for real; range quantizers
    /// record statistics here. Default: nothing.
    func observe(_ x: Tensor) throws

    /// Bits per stored value (1 for binary, 2 for ternary, k for k-bit), for reports and BOPs.
    var bitWidth: Int { get }

    /// Training mode. Quantizers that behave differently while training read it: stochastic
    /// rounding is only applied in training, and an activation quantizer that has not been
    /// calibrated tracks the running range of what it sees while training. Layers set it from their
    /// own mode. Default: always false, setting it does nothing.
    var isTraining: Bool { get set }
}

extension Quantizer {
    public var parameters: [Parameter] { [] }
    public func observe(_ x: Tensor) throws {}
    public var isTraining: Bool {
        get { false }
        set {}
    }
}

/// How a quantizer is written to a model file or a precision policy: a scheme name plus the
/// parameters that scheme uses (unused ones are nil and omitted from JSON).
public struct QuantizerSpec: Codable, Sendable, Equatable {
    public var scheme: String
    public var bits: Int?
    /// "tensor", "channel" or "group" (binary weights also take "none": no scale).
    public var granularity: String?
    public var groupSize: Int?
    public var symmetric: Bool?
    /// FGQ threshold rule: "optimal" or "heuristic".
    public var delta: String?
    public var intBits: Int?
    public var fracBits: Int?
    /// Activation range and its source ("minmax", "percentile", "mse", "pact").
    public var rangeMin: Float?
    public var rangeMax: Float?
    public var calibration: String?
    public var signed: Bool?
    /// "nearest" (half to even, the default) or "stochastic" (training only).
    public var rounding: String?
    /// Seed of the stochastic-rounding generator.
    public var seed: UInt64?
    /// Percentile (0...100, e.g. 99.99) of the "percentile" activation calibration.
    public var percentile: Double?

    public init(scheme: String, bits: Int? = nil, granularity: String? = nil, groupSize: Int? = nil,
                symmetric: Bool? = nil, delta: String? = nil, intBits: Int? = nil, fracBits: Int? = nil,
                rangeMin: Float? = nil, rangeMax: Float? = nil, calibration: String? = nil, signed: Bool? = nil,
                rounding: String? = nil, seed: UInt64? = nil, percentile: Double? = nil) {
        self.scheme = scheme
        self.bits = bits
        self.granularity = granularity
        self.groupSize = groupSize
        self.symmetric = symmetric
        self.delta = delta
        self.intBits = intBits
        self.fracBits = fracBits
        self.rangeMin = rangeMin
        self.rangeMax = rangeMax
        self.calibration = calibration
        self.signed = signed
        self.rounding = rounding
        self.seed = seed
        self.percentile = percentile
    }
}
