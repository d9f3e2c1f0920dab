import LowBitQuant
import LowBitTensor
import Testing

/// A 1-D or shaped tensor from literal values.
func tensor(_ data: [Float], shape: [Int]? = nil) -> Tensor {
    Tensor(shape: shape ?? [data.count], data: data)
}

/// A seeded normal tensor (mean 0, standard deviation `scale`).
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() * scale })
}

/// The error a throwing call raised, if it was a `LowBitError`.
func lowBitError(_ body: () throws -> Any) -> LowBitError? {
    do {
        _ = try body()
        return nil
    } catch let error as LowBitError {
        return error
    } catch {
        return nil
    }
}

func isInvalidArgument(_ error: LowBitError?) -> Bool {
    if case .invalidArgument = error { return true }
    return false
}

func isNonFinite(_ error: LowBitError?) -> Bool {
    if case .nonFinite = error { return true }
    return false
}

/// One spec per weight scheme and configuration, for parameterized tests.
let weightSchemeSpecs: [QuantizerSpec] = [
    QuantizerSpec(scheme: "binary", granularity: "none"),
    QuantizerSpec(scheme: "binary", granularity: "tensor"),
    QuantizerSpec(scheme: "binary", granularity: "channel"),
    QuantizerSpec(scheme: "twn"),
    QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 4, delta: "optimal"),
    QuantizerSpec(scheme: "fgq", granularity: "group", groupSize: 3, delta: "heuristic"),
    QuantizerSpec(scheme: "fgq", granularity: "channel", delta: "optimal"),
    QuantizerSpec(scheme: "uniform", bits: 4, granularity: "tensor", symmetric: true),
    QuantizerSpec(scheme: "uniform", bits: 8, granularity: "channel", symmetric: true),
    QuantizerSpec(scheme: "uniform", bits: 3, granularity: "group", groupSize: 5, symmetric: true),
    QuantizerSpec(scheme: "uniform", bits: 8, granularity: "tensor", symmetric: false),
    QuantizerSpec(scheme: "uniform", bits: 2, granularity: "group", groupSize: 4, symmetric: false),
    QuantizerSpec(scheme: "pow2", bits: 4, granularity: "tensor"),
    QuantizerSpec(scheme: "pow2", bits: 3, granularity: "channel"),
    QuantizerSpec(scheme: "fixed", intBits: 2, fracBits: 5),
    QuantizerSpec(scheme: "dynamic-fixed", bits: 8),
    QuantizerSpec(scheme: "fp8-e4m3"),
    QuantizerSpec(scheme: "fp8-e5m2"),
]

/// Activation specs with a fixed range, usable without calibration.
let activationSchemeSpecs: [QuantizerSpec] = [
    QuantizerSpec(scheme: "binary-activation"),
    QuantizerSpec(scheme: "activation", bits: 8, rangeMax: 2, calibration: "minmax", signed: false),
    QuantizerSpec(scheme: "activation", bits: 4, rangeMax: 1.5, calibration: "mse", signed: true),
    QuantizerSpec(scheme: "activation", bits: 1, rangeMax: 0.5, calibration: "percentile", signed: true, percentile: 99),
    QuantizerSpec(scheme: "activation", bits: 2, rangeMax: 3, calibration: "pact", signed: false),
]

let allSchemeSpecs = weightSchemeSpecs + activationSchemeSpecs
