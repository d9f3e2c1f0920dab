import LowBitIO
import LowBitNN
import LowBitTensor

/// The quantizers one layer runs with, as stored in a model file's `"quantizers"` metadata
/// (calibrated ranges included), keyed by layer path.
public struct LayerQuantizers: Codable, Sendable, Equatable {
    public var weight: QuantizerSpec?
    public var input: QuantizerSpec?

    public init(weight: QuantizerSpec?, input: QuantizerSpec?) {
        self.weight = weight
        self.input = input
    }
}

extension Model {
    /// Layers that carry weights (dense and conv2d), depth first, with their paths.
    public var quantizableLayers: [QuantizableLayer] { allLayers.compactMap { $0 as? QuantizableLayer } }

    /// Gives every weighted layer the quantizers its first matching rule names (no rule: float).
    /// Binary weights get their latent values clipped to [-1, 1] after each optimizer step.
    ///
    /// ```swift
    /// try model.apply(policy: PolicyPresets.make("binary", for: model.spec))
    /// ```
    public func apply(policy: PrecisionPolicy) throws {
        for layer in quantizableLayers {
            let rule = policy.rule(forLayer: layer.name)
            try setQuantizers(layer, LayerQuantizers(weight: rule?.weight, input: rule?.input))
        }
    }

    /// Restores exact per-layer quantizers (with calibrated ranges) saved by ``quantizerRecord``.
    public func apply(quantizers: [String: LayerQuantizers]) throws {
        for layer in quantizableLayers {
            try setQuantizers(layer, quantizers[layer.name] ?? LayerQuantizers(weight: nil, input: nil))
        }
    }

    /// The current quantizers of every weighted layer (only layers that have one).
    public var quantizerRecord: [String: LayerQuantizers] {
        var record: [String: LayerQuantizers] = [:]
        for layer in quantizableLayers where layer.weightQuantizer != nil || layer.inputQuantizer != nil {
            record[layer.name] = LayerQuantizers(weight: layer.weightQuantizer?.spec, input: layer.inputQuantizer?.spec)
        }
        return record
    }

    private func setQuantizers(_ layer: QuantizableLayer, _ quantizers: LayerQuantizers) throws {
        layer.weightQuantizer = try quantizers.weight.map(makeQuantizer)
        layer.inputQuantizer = try quantizers.input.map(makeQuantizer)
        layer.weight.clip = quantizers.weight?.scheme == "binary" ? -1...1 : nil
        if layer.weight.clip != nil {
            layer.weight.value.data = layer.weight.value.data.map { min(max($0, -1), 1) }
        }
    }

    /// Metadata entries that make a saved model reload with the same precision.
    public func precisionMetadata(policy: PrecisionPolicy) throws -> [String: JSONValue] {
        ["policy": try JSONValue(encoding: policy), "quantizers": try JSONValue(encoding: quantizerRecord)]
    }

    /// Reapplies the quantizers stored in a model file's metadata (a no-op for float models).
    public func restorePrecision(from metadata: [String: JSONValue]) throws {
        if let stored = metadata["quantizers"] {
            try apply(quantizers: try stored.decode([String: LayerQuantizers].self, what: "quantizers"))
        } else if let policy = metadata["policy"] {
            try apply(policy: try policy.decode(PrecisionPolicy.self, what: "policy"))
        }
    }
}
