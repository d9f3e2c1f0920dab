import LowBitIO
import LowBitTensor

/// A BatchNorm in inference form: `y = gamma * (x - mean) / sqrt(variance + epsilon) + beta`.
///
/// Folding it into the float layer before it (Jacob et al. 2018, section 3.2): with
/// `s = gamma / sqrt(variance + epsilon)`, `W'[j] = s[j] * W[j]` and `b'[j] = s[j] * (b[j] - mean[j]) + beta[j]`
/// (computed in double precision, rounded once). A binary layer folds it into its output transform
/// instead (`BinaryOutputTransform.foldScaleAndBatchNorm`), since its weights stay ±1.
///
/// ```swift
/// let bn = try BatchNormStatistics(layer: spec, tensors: model.namedTensorsByName)
/// let (w, b) = bn.fold(weight: w, bias: b, rowLength: 784)
/// ```
struct BatchNormStatistics {
    let gamma: [Float]
    let beta: [Float]
    let mean: [Float]
    let variance: [Float]
    let epsilon: Float

    init(layer: LayerSpec, tensors: [String: Tensor]) throws {
        func read(_ role: String) throws -> [Float] {
            guard let tensor = tensors["\(layer.name).\(role)"] else {
                throw LowBitError.shapeMismatch("BatchNorm \(layer.name) has no tensor \(layer.name).\(role)")
            }
            return tensor.data
        }
        gamma = try read("gamma")
        beta = try read("beta")
        mean = try read("runningMean")
        variance = try read("runningVariance")
        epsilon = layer.epsilon ?? 1e-5
    }

    /// Per channel `s = gamma / sqrt(variance + epsilon)`, in double precision.
    var inverseScale: [Double] {
        gamma.indices.map { Double(gamma[$0]) / (Double(variance[$0]) + Double(epsilon)).squareRoot() }
    }

    /// `y = x * scale + shift`: the BatchNorm alone, for one that follows no weighted layer.
    var affine: (scale: [Float], shift: [Float]) {
        let s = inverseScale
        return (s.map(Float.init), s.indices.map { Float(Double(beta[$0]) - s[$0] * Double(mean[$0])) })
    }

    /// Folds into a float layer with weight rows of `rowLength` (one row per output channel).
    func fold(weight: [Float], bias: [Float], rowLength: Int) -> (weight: [Float], bias: [Float]) {
        let s = inverseScale
        var folded = weight
        for index in folded.indices { folded[index] = Float(Double(weight[index]) * s[index / rowLength]) }
        let shifted = bias.indices.map { Float(s[$0] * (Double(bias[$0]) - Double(mean[$0])) + Double(beta[$0])) }
        return (folded, shifted)
    }
}
