import LowBitNN
import LowBitTensor

/// Post-training quantization steps that need only forward passes: activation-range calibration and
/// BatchNorm re-estimation.
extension Model {
    /// Feeds `batches` through the model with every input quantizer observing (and passing through)
    /// the values it will quantize; weights are already quantized. Afterwards the input quantizers
    /// hold calibrated ranges.
    public func calibrate<S: Sequence>(batches: S) throws where S.Element == (x: Tensor, y: [Int32]) {
        let layers = quantizableLayers.filter { $0.inputQuantizer != nil }
        layers.forEach { $0.calibrating = true }
        defer { layers.forEach { $0.calibrating = false } }
        for (x, _) in batches { _ = try forward(x, training: false) }
    }

    /// Re-estimates every BatchNorm's running mean and variance as the equal-weight average over
    /// `batches` of the statistics seen with the quantized weights (forward passes in training mode,
    /// no gradient step). Quantizing weights shifts each layer's output distribution; statistics
    /// measured on the float model no longer match it (issue 4: 76% -> 92.1% on a ResNet-20).
    public func reestimateBatchNormStatistics<S: Sequence>(batches: S) throws where S.Element == (x: Tensor, y: [Int32]) {
        let norms = allLayers.compactMap { $0 as? BatchNorm }
        guard !norms.isEmpty else { return }
        for norm in norms {
            norm.resetRunningStatistics()
            norm.cumulativeStatistics = true
        }
        defer { norms.forEach { $0.cumulativeStatistics = false } }
        for (x, _) in batches { _ = try forward(x, training: true) }
    }
}
