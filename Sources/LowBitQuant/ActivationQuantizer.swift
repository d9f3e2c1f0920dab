import LowBitTensor

/// The values a k-bit activation can take for a clipping value c > 0:
/// - unsigned (after ReLU): L = 2^k - 1, s = c / L, y = s * clamp(round(x / s), 0, L), range [0, c];
/// - signed, k >= 2: L = 2^(k-1) - 1 (narrow, symmetric), y = s * clamp(round(x / s), -L, L),
///   range [-c, c];
/// - signed, k = 1: y = c * sign(x), sign(0) = +1.
/// Round half to even; c = 0 gives zeros. Straight-through mask: where the clamp did not bind
/// (for k = 1 signed: |x| <= c, the scaled hard tanh).
struct ActivationLevels {
    let bits: Int
    let signed: Bool
    let clip: Float

    /// L, the number of steps between 0 and c (0 for signed 1-bit).
    static func stepsPerClip(bits: Int, signed: Bool) -> Int {
        signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
    }

    private var grid: UniformGrid? {
        let steps = Int64(Self.stepsPerClip(bits: bits, signed: signed))
        guard steps > 0 else { return nil }
        return UniformGrid(scale: clip / Float(steps), zeroPoint: 0, qmin: signed ? -steps : 0, qmax: steps)
    }

    func quantize(_ x: Tensor) -> Tensor {
        guard let grid else { return Tensor(shape: x.shape, data: x.data.map { $0 >= 0 ? clip : -clip }) }
        return Tensor(shape: x.shape, data: x.data.map { grid.value(ofCode: grid.code($0, round: nearestEven)) })
    }

    func passesGradient(_ x: Float) -> Bool {
        guard let grid else { return abs(x) <= clip }
        return grid.passesGradient(x)
    }
}

/// Activation fake quantization at k = 1...16 bits (typically 8, 4, 2, 1), unsigned (after ReLU)
/// or signed, with a clipping value c calibrated from observed batches. Levels and formulas:
/// unsigned y = s * clamp(round(x / s), 0, 2^k - 1) with s = c / (2^k - 1); signed (k >= 2)
/// y = s * clamp(round(x / s), -(2^(k-1) - 1), 2^(k-1) - 1) with s = c / (2^(k-1) - 1); signed
/// k = 1: y = c * sign(x). Round half to even.
///
/// Where c comes from, first match wins:
/// 1. batches given to ``observe(_:)`` (a bounded ``ActivationHistogram`` of |x|, or max(x, 0)
///    when unsigned), reduced by the ``CalibrationMethod``: largest value, a percentile, or the
///    MSE-optimal clip; recomputed after new observations;
/// 2. a fixed `clip` given at creation (a calibrated spec's `rangeMax`);
/// 3. in training mode (``isTraining``), the running maximum of the magnitudes of every batch
///    quantized so far, this one included; it stays in use after training;
/// 4. otherwise ``quantize(_:)`` throws: calibrate first.
///
/// Straight-through gradient: dL/dx = dL/dy where the clamp did not bind (x within half a step of
/// [0, c] or [-c, c]; for signed 1-bit |x| <= c), 0 elsewhere. Idempotent for a fixed c.
///
/// ```swift
/// let q = try ActivationQuantizer(bits: 8, calibration: .percentile(99.99))
/// for batch in calibrationBatches { try q.observe(batch) }
/// let y = try q.quantize(batch)
/// let spec = q.spec   // records the calibrated range
/// ```
public final class ActivationQuantizer: Quantizer {
    public let bits: Int
    public let signed: Bool
    public let calibration: CalibrationMethod
    public var isTraining = false
    private let fixedClip: Float?
    private var histogram = ActivationHistogram()
    private var calibratedClip: Float?
    private var runningMax: Float?

    /// `clip`: a known clipping value (used until batches are observed).
    public init(bits: Int, signed: Bool = false, calibration: CalibrationMethod = .minMax, clip: Float? = nil) throws {
        try requireBits(bits, in: 1...16, scheme: "activation")
        if case let .percentile(p) = calibration, !(0...100).contains(p) {
            throw LowBitError.invalidArgument("percentile must be in 0...100, got \(p)")
        }
        if let clip, !(clip.isFinite && clip >= 0) {
            throw LowBitError.invalidArgument("activation clip must be finite and >= 0, got \(clip)")
        }
        self.bits = bits
        self.signed = signed
        self.calibration = calibration
        self.fixedClip = clip
    }

    /// The clipping value in use now (nil before any calibration or training batch).
    public var clip: Float? {
        if !histogram.isEmpty {
            if calibratedClip == nil { calibratedClip = clipFromHistogram() }
            return calibratedClip
        }
        return fixedClip ?? runningMax
    }

    public var spec: QuantizerSpec {
        var spec = QuantizerSpec(scheme: "activation", bits: bits, calibration: calibration.specName, signed: signed)
        if case let .percentile(p) = calibration { spec.percentile = p }
        if let clip {
            spec.rangeMin = signed ? -clip : 0
            spec.rangeMax = clip
        }
        return spec
    }

    public var bitWidth: Int { bits }

    public func observe(_ x: Tensor) throws {
        try x.checkFinite("activation calibration batch")
        histogram.add(magnitudes(x))
        calibratedClip = nil
    }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("activation quantizer input")
        if isTraining && histogram.isEmpty && fixedClip == nil {
            runningMax = max(runningMax ?? 0, magnitudes(x).max() ?? 0)
        }
        guard let clip else {
            throw LowBitError.invalidArgument(
                "activation quantizer has no range yet: call observe(_:) on calibration batches, "
                    + "give a clip, or run it in training mode first")
        }
        return ActivationLevels(bits: bits, signed: signed, clip: clip).quantize(x)
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        guard let clip else { preconditionFailure("ActivationQuantizer.backward before any successful quantize") }
        let levels = ActivationLevels(bits: bits, signed: signed, clip: clip)
        return maskedGradient(gradOutput, shape: x.shape) { levels.passesGradient(x.data[$0]) }
    }

    private func magnitudes(_ x: Tensor) -> [Float] {
        signed ? x.data.map(abs) : x.data.map { max($0, 0) }
    }

    private func clipFromHistogram() -> Float {
        switch calibration {
        case .minMax: return histogram.maxValue
        case let .percentile(p): return histogram.percentile(p)
        case .mse: return histogram.mseOptimalClip(stepsPerClip: ActivationLevels.stepsPerClip(bits: bits, signed: signed))
        }
    }
}
