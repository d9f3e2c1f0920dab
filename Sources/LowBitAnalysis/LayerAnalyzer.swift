import LowBitIO
import LowBitTensor

/// The per-kind rules that turn one layer spec, its shapes, the precision policy and the stored
/// tensors into a ``LayerReport``. ``ModelReport`` walks the layers and calls it once per row.
///
/// Zeros are counted in the stored float tensors (`NAME.weight`, `NAME.bias`, `NAME.gamma`,
/// `NAME.beta`); a tensor that is absent or stored as integers (packed codes) counts as dense.
struct LayerAnalyzer {
    let policy: PrecisionPolicy
    let tensors: [String: StoredTensor]
    let energy: EnergyModel

    init(policy: PrecisionPolicy, tensors: [StoredTensor], energy: EnergyModel) {
        self.policy = policy
        self.tensors = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.energy = energy
    }

    /// The row of a layer without children.
    func report(for layer: LayerSpec, depth: Int, input: [Int], output: [Int]) throws -> LayerReport {
        let inputCount = input.reduce(1, *), outputCount = output.reduce(1, *)
        var row = LayerReport(name: layer.name, kind: layer.kind, depth: depth, inputShape: input, outputShape: output,
                              weightPrecision: nil, inputPrecision: .float32, prunedFraction: nil, costs: .zero)
        var counts = OperationCounts(activationBitsRead: inputCount * 32)
        switch layer.kind {
        case .dense, .conv2d:
            return try weightLayerReport(layer, depth: depth, input: input, output: output)
        case .batchNorm:
            let channels = output.last ?? 0
            row.weightPrecision = .float32
            row.costs.parameterCount = 2 * channels
            row.costs.nonzeroCount = try nonzeroCount("\(layer.name).gamma", channels) + nonzeroCount("\(layer.name).beta", channels)
            row.costs.packedBytes = 8 * channels
            row.costs.float32Bytes = 8 * channels
            counts.otherMultiplications = outputCount
            counts.otherAdditions = outputCount
        case .relu:
            counts.otherAdditions = outputCount
        case .hardTanh:
            counts.otherAdditions = 2 * outputCount
        case .maxPool, .avgPool:
            let window = try LayerShapes.attribute(layer.poolSize, "poolSize", of: layer)
            counts.otherAdditions = outputCount * (window * window - 1)
            counts.otherMultiplications = layer.kind == .avgPool ? outputCount : 0
        case .globalAvgPool:
            counts.otherAdditions = outputCount * (inputCount / max(outputCount, 1) - 1)
            counts.otherMultiplications = outputCount
        case .flatten, .dropout:
            counts.activationBitsRead = 0
        case .residual:
            counts = OperationCounts(otherAdditions: outputCount, activationBitsRead: 2 * outputCount * 32)
        }
        row.costs.operations = counts
        row.costs.energy = energy.estimate(counts, weight: row.weightPrecision, input: .float32, prunedFraction: 0,
                                           packedBytes: row.packedBytes)
        return row
    }

    /// Dense and conv2d: `n` inputs per output (`in`, or `k * k * in`) and `m` outputs (`out`, or
    /// `out * outH * outW`), weights and input at the policy's precision.
    private func weightLayerReport(_ layer: LayerSpec, depth: Int, input: [Int], output: [Int]) throws -> LayerReport {
        let isDense = layer.kind == .dense
        let outputChannels = try LayerShapes.attribute(isDense ? layer.outFeatures : layer.outChannels,
                                                       isDense ? "outFeatures" : "outChannels", of: layer)
        let fanIn: Int
        if isDense {
            fanIn = try LayerShapes.attribute(layer.inFeatures, "inFeatures", of: layer)
        } else {
            let kernel = try LayerShapes.attribute(layer.kernelSize, "kernelSize", of: layer)
            fanIn = try kernel * kernel * LayerShapes.attribute(layer.inChannels, "inChannels", of: layer)
        }
        let outputs = output.reduce(1, *)
        let weightCount = outputChannels * fanIn
        let biasCount = (layer.bias ?? true) ? outputChannels : 0

        let rule = policy.rule(forLayer: layer.name)
        let weight = Precision(rule?.weight), inputPrecision = Precision(rule?.input)
        let scales = ScaleLayout(for: rule?.weight, outputChannels: outputChannels, rowLength: fanIn)
        let weightNonzero = try nonzeroCount("\(layer.name).weight", weightCount)
        let prunedFraction = weightCount > 0 ? 1 - Double(weightNonzero) / Double(weightCount) : 0
        let packedBytes = PackedSize.packedBytes(count: weightCount, bits: weight.bits) + 4 * scales.storedWords + 4 * biasCount
        let operations = OperationCounts(
            multiplyAccumulates: outputs * fanIn,
            otherAdditions: biasCount > 0 ? outputs : 0,
            otherMultiplications: outputs * scales.multipliesPerOutput,
            activationBitsRead: input.reduce(1, *) * inputPrecision.bits)
        let costs = Costs(
            parameterCount: weightCount + biasCount,
            nonzeroCount: try weightNonzero + (biasCount > 0 ? nonzeroCount("\(layer.name).bias", biasCount) : 0),
            packedBytes: packedBytes, float32Bytes: 4 * (weightCount + biasCount), operations: operations,
            bitOperations: bitOperations(outputs: outputs, fanIn: fanIn, prunedFraction: prunedFraction,
                                         activationBits: inputPrecision.bits, weightBits: weight.bits),
            energy: energy.estimate(operations, weight: weight, input: inputPrecision, prunedFraction: prunedFraction,
                                    packedBytes: packedBytes))
        return LayerReport(name: layer.name, kind: layer.kind, depth: depth, inputShape: input, outputShape: output,
                           weightPrecision: weight, inputPrecision: inputPrecision, prunedFraction: prunedFraction,
                           costs: costs)
    }

    /// Parameters of `name` that are not exactly zero; `expected` is what the spec says it holds.
    private func nonzeroCount(_ name: String, _ expected: Int) throws -> Int {
        guard let stored = tensors[name], stored.dtype == .f32 || stored.dtype == .f16 else { return expected }
        guard stored.elementCount == expected else {
            throw LowBitError.shapeMismatch("tensor '\(name)' has \(stored.elementCount) values; the layer spec needs \(expected)")
        }
        return try stored.floatTensor().data.reduce(0) { $1 != 0 ? $0 + 1 : $0 }
    }
}
