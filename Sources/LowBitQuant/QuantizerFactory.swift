import LowBitTensor

/// Every scheme name a ``QuantizerSpec`` can carry, with the fields each one reads.
///
/// | scheme | type | fields (default) |
/// |---|---|---|
/// | `binary` | ``BinaryWeightQuantizer`` | granularity: none, tensor, channel (channel) |
/// | `binary-activation` | ``BinaryActivationQuantizer`` | — |
/// | `twn` | ``TWNQuantizer`` | — |
/// | `fgq` | ``FGQQuantizer`` | granularity / groupSize (group of 4), delta: optimal, heuristic (optimal) |
/// | `uniform` | ``UniformQuantizer`` | bits, symmetric (true), granularity / groupSize (tensor), rounding: nearest, stochastic (nearest), seed (0) |
/// | `pow2` | ``PowerOfTwoQuantizer`` | bits, granularity / groupSize (tensor) |
/// | `fixed` | ``FixedPointQuantizer`` | intBits, fracBits |
/// | `dynamic-fixed` | ``DynamicFixedPointQuantizer`` | bits |
/// | `fp8-e4m3`, `fp8-e5m2` | ``MiniFloatQuantizer`` | — |
/// | `activation` | ``ActivationQuantizer``, or ``PACTQuantizer`` when calibration is pact | bits, signed (false), calibration: minmax, percentile, mse, pact (minmax), percentile (99.99), rangeMax (calibrated clip; PACT's initial alpha, 10) |
///
/// ```swift
/// let scheme = QuantizerScheme(rawValue: "fgq")   // .fgq
/// ```
public enum QuantizerScheme: String, CaseIterable, Sendable {
    case binary
    case binaryActivation = "binary-activation"
    case twn
    case fgq
    case uniform
    case pow2
    case fixed
    case dynamicFixed = "dynamic-fixed"
    case fp8E4M3 = "fp8-e4m3"
    case fp8E5M2 = "fp8-e5m2"
    case activation
}

/// Creates the quantizer a spec describes: the one place that maps scheme names to types, so a
/// model file or a precision policy can name any scheme. `makeQuantizer(q.spec)` recreates `q`
/// (with its calibrated range, for activation quantizers).
///
/// Throws ``LowBitError/unsupported(_:)`` for an unknown scheme (the message lists the known
/// ones) and ``LowBitError/invalidArgument(_:)`` for a missing or out-of-range field.
///
/// ```swift
/// let spec = QuantizerSpec(scheme: "fgq", groupSize: 4, delta: "optimal")
/// let q = try makeQuantizer(spec)
/// let y = try q.quantize(weights)
/// ```
public func makeQuantizer(_ spec: QuantizerSpec) throws -> any Quantizer {
    guard let scheme = QuantizerScheme(rawValue: spec.scheme) else {
        let known = QuantizerScheme.allCases.map(\.rawValue).joined(separator: ", ")
        throw LowBitError.unsupported("unknown quantizer scheme \"\(spec.scheme)\"; known schemes: \(known)")
    }
    switch scheme {
    case .binary:
        let name = spec.granularity ?? BinaryScaling.channel.rawValue
        guard let scaling = BinaryScaling(rawValue: name) else {
            throw LowBitError.invalidArgument("binary granularity \"\(name)\" is not one of none, tensor, channel")
        }
        return BinaryWeightQuantizer(scaling: scaling)
    case .binaryActivation:
        return BinaryActivationQuantizer()
    case .twn:
        return TWNQuantizer()
    case .fgq:
        let name = spec.delta ?? TernaryThresholdRule.optimal.rawValue
        guard let rule = TernaryThresholdRule(rawValue: name) else {
            throw LowBitError.invalidArgument("fgq delta \"\(name)\" is not one of optimal, heuristic")
        }
        return try FGQQuantizer(granularity: granularity(spec, default: .group(4)), threshold: rule)
    case .uniform:
        let name = spec.rounding ?? RoundingRule.nearestEven.rawValue
        guard let rounding = RoundingRule(rawValue: name) else {
            throw LowBitError.invalidArgument("rounding \"\(name)\" is not one of nearest, stochastic")
        }
        return try UniformQuantizer(bits: required(spec.bits, "bits", spec), symmetric: spec.symmetric ?? true,
                                    granularity: granularity(spec, default: .tensor), rounding: rounding,
                                    seed: spec.seed ?? 0)
    case .pow2:
        return try PowerOfTwoQuantizer(bits: required(spec.bits, "bits", spec), granularity: granularity(spec, default: .tensor))
    case .fixed:
        return try FixedPointQuantizer(intBits: required(spec.intBits, "intBits", spec),
                                       fracBits: required(spec.fracBits, "fracBits", spec))
    case .dynamicFixed:
        return try DynamicFixedPointQuantizer(bits: required(spec.bits, "bits", spec))
    case .fp8E4M3:
        return MiniFloatQuantizer(format: .e4m3)
    case .fp8E5M2:
        return MiniFloatQuantizer(format: .e5m2)
    case .activation:
        return try makeActivationQuantizer(spec)
    }
}

private func makeActivationQuantizer(_ spec: QuantizerSpec) throws -> any Quantizer {
    let bits = try required(spec.bits, "bits", spec)
    let signed = spec.signed ?? false
    // Signed ranges are symmetric: the clip is the larger end.
    let clip = [spec.rangeMax, signed ? spec.rangeMin.map { -$0 } : nil].compactMap { $0 }.max()
    let calibration: CalibrationMethod
    switch spec.calibration ?? "minmax" {
    case "minmax": calibration = .minMax
    case "percentile": calibration = .percentile(spec.percentile ?? 99.99)
    case "mse": calibration = .mse
    case "pact": return try PACTQuantizer(bits: bits, signed: signed, initialAlpha: clip ?? 10)
    case let other:
        throw LowBitError.invalidArgument("activation calibration \"\(other)\" is not one of minmax, percentile, mse, pact")
    }
    return try ActivationQuantizer(bits: bits, signed: signed, calibration: calibration, clip: clip)
}

private func granularity(_ spec: QuantizerSpec, default defaultValue: QuantizationGranularity) throws -> QuantizationGranularity {
    try QuantizationGranularity(specGranularity: spec.granularity, groupSize: spec.groupSize, default: defaultValue)
}

private func required(_ value: Int?, _ field: String, _ spec: QuantizerSpec) throws -> Int {
    guard let value else {
        throw LowBitError.invalidArgument("scheme \(spec.scheme) needs the field \"\(field)\"")
    }
    return value
}
