import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitRuntime
import LowBitTensor

/// Converts a trained model into its deployed form: the archive `lowbit pack` writes and
/// `PackedModel` runs (docs/FORMAT.md, "Packed models").
///
/// Walks the architecture once: dropout disappears; a BatchNorm right after a dense or conv layer is
/// folded into the float weights and bias, or into a binary layer's output transform; binary
/// weights become sign bits, 64 to a `u64`, with the per-channel scale in the transform; layers
/// whose input quantizer is `binary-activation` read signs. Schemes the runtime does not run yet
/// are refused by name instead of being stored as floats.
///
/// ```swift
/// let (model, metadata) = try Model.load(from: "mlp.lowbit")
/// try model.restorePrecision(from: metadata)
/// try ModelPacker.pack(model, metadata: metadata).write(to: "mlp.packed.lowbit")
/// ```
public enum ModelPacker {
    /// The packed archive of `model` (its quantizers applied) with the `normalization`, `policy`
    /// and `metrics` entries of `metadata` carried over.
    public static func pack(_ model: Model, metadata: [String: JSONValue]) throws -> LowBitArchive {
        var walker = Walker(tensors: Dictionary(model.namedTensors.map { ($0.name, $0.tensor) }) { first, _ in first },
                            quantizers: model.quantizerRecord)
        let steps = try walker.pack(model.spec.layers)
        let normalization = try metadata["normalization"].map { try $0.decode(PackedNormalization.self, what: "normalization") }
        let plan = PackedPlan(version: PackedPlan.version(needing: steps), inputShape: model.spec.inputShape,
                              classCount: model.spec.classCount, normalization: normalization, steps: steps)
        var packedMetadata: [String: JSONValue] = ["packed": try JSONValue(encoding: plan)]
        for key in ["policy", "metrics", "dataset"] { packedMetadata[key] = metadata[key] }
        return try LowBitArchive(metadata: packedMetadata, tensors: walker.output)
    }
}

/// The state of one packing pass: the model's tensors in, the deployed tensors out.
private struct Walker {
    let tensors: [String: Tensor]
    let quantizers: [String: LayerQuantizers]
    var output: [StoredTensor] = []

    init(tensors: [String: Tensor], quantizers: [String: LayerQuantizers]) {
        self.tensors = tensors
        self.quantizers = quantizers
    }

    mutating func pack(_ layers: [LayerSpec]) throws -> [PackedStep] {
        var steps: [PackedStep] = []
        var index = 0
        while index < layers.count {
            let layer = layers[index]
            switch layer.kind {
            case .dense where quantizers[layer.name]?.weight?.scheme == "uniform",
                 .conv2d where quantizers[layer.name]?.weight?.scheme == "uniform":
                steps.append(try int8Layer(layer))
            case .dense where ["fgq", "twn"].contains(quantizers[layer.name]?.weight?.scheme),
                 .conv2d where ["fgq", "twn"].contains(quantizers[layer.name]?.weight?.scheme):
                steps.append(try ternaryLayer(layer))
            case .dense, .conv2d:
                let next = layers.dropFirst(index + 1).first
                let batchNorm = try next.flatMap { $0.kind == .batchNorm ? try BatchNormStatistics(layer: $0, tensors: tensors) : nil }
                steps.append(try weighted(layer, batchNorm: batchNorm))
                index += batchNorm == nil ? 1 : 2
                continue
            case .batchNorm:
                let (scale, shift) = try BatchNormStatistics(layer: layer, tensors: tensors).affine
                try add("\(layer.name).scale", scale)
                try add("\(layer.name).shift", shift)
                steps.append(PackedStep(kind: .affine, name: layer.name))
            case .dropout:
                break
            case .residual:
                steps.append(PackedStep(kind: .residual, name: layer.name, body: try pack(layer.body ?? []),
                                        shortcut: try pack(layer.shortcut ?? [])))
            case .relu, .hardTanh, .maxPool, .avgPool, .globalAvgPool, .flatten:
                steps.append(PackedStep(kind: PackedStep.Kind(rawValue: layer.kind.rawValue)!, name: layer.name,
                                        stride: layer.stride, poolSize: layer.poolSize))
            }
            index += 1
        }
        return steps
    }

    /// A dense or conv layer, with the BatchNorm that follows it folded in.
    private mutating func weighted(_ layer: LayerSpec, batchNorm: BatchNormStatistics?) throws -> PackedStep {
        let name = layer.name
        guard let weight = tensors["\(name).weight"] else { throw LowBitError.shapeMismatch("layer \(name) has no weight tensor") }
        let outputs = weight.shape[0], rowLength = weight.count / max(outputs, 1)
        let bias = tensors["\(name).bias"]?.data ?? [Float](repeating: 0, count: outputs)
        let quantizers = self.quantizers[name]
        let input: PackedStep.InputEncoding
        switch quantizers?.input?.scheme {
        case nil: input = .float
        case "binary-activation": input = .sign
        case let scheme?: throw LowBitError.unsupported("layer \(name): packing \(scheme) input activations is not implemented yet; the runtime runs float and binary activations")
        }
        let isConv = layer.kind == .conv2d
        var step = layerStep(layer, kind: isConv ? .conv2d : .dense, input: input == .float ? nil : input)
        switch quantizers?.weight?.scheme {
        case nil:
            let (w, b) = batchNorm?.fold(weight: weight.data, bias: bias, rowLength: rowLength) ?? (weight.data, bias)
            try add("\(name).weight", w, shape: weight.shape)
            try add("\(name).bias", b)
        case "binary":
            step.kind = isConv ? .binaryConv2d : .binaryDense
            let granularity = quantizers?.weight?.granularity ?? BinaryScaling.channel.rawValue
            guard let scaling = BinaryScaling(rawValue: granularity) else {
                throw LowBitError.unsupported("layer \(name): binary weight scaling '\(granularity)'")
            }
            let (signs, scales) = try binarize(weights: weight.data, rowLength: rowLength, scaling: scaling)
            let alpha = scales.count == outputs ? scales : [Float](repeating: scales[0], count: outputs)
            let bits = PackedBits(packing: signs.map(Float.init), rows: outputs, columns: rowLength)
            try output.append(StoredTensor(name: "\(name).signs", shape: [outputs, bits.wordsPerRow], values: bits.words))
            let (multiplier, shift) = batchNorm.map {
                BinaryOutputTransform.foldScaleAndBatchNorm(alpha: alpha, gamma: $0.gamma, beta: $0.beta,
                                                            mean: zip($0.mean, bias).map { $0 - $1 }, variance: $0.variance,
                                                            epsilon: $0.epsilon)
            } ?? (alpha, bias)
            try add("\(name).multiplier", multiplier)
            try add("\(name).bias", shift)
        case let scheme?:
            throw LowBitError.unsupported("layer \(name): packing \(scheme) weights is not implemented yet; the runtime runs float and binary weights")
        }
        return step
    }

    /// A ternary dense or conv layer (FGQ, or TWN): the two bit-planes of its codes, its group scales,
    /// the input scale from the calibrated activation range, or sign-bit inputs for binary activations.
    ///
    /// The runtime's groups run along a weight row in multiples of 4. FGQ groups of such a size pack
    /// as they are; one scale per row (FGQ `channel`) or per tensor (FGQ `tensor`, TWN) packs as one
    /// group per row, `groupSize` the row length rounded up to 4, the tensor's scale repeated per row.
    private mutating func ternaryLayer(_ layer: LayerSpec) throws -> PackedStep {
        let name = layer.name, spec = quantizers[name]?.weight
        // Binary activations read sign bits (TernarySignGEMM); k-bit ones integer codes.
        let (inputEncoding, inputScale, inputBits): (PackedStep.InputEncoding, Float?, Int) =
            quantizers[name]?.input?.scheme == "binary-activation" ? (.sign, nil, 8) : try integerInput(name)
        guard let weight = tensors["\(name).weight"] else { throw LowBitError.shapeMismatch("layer \(name) has no weight tensor") }
        let outputs = weight.shape[0], rowLength = weight.count / max(outputs, 1)
        let twn = spec?.scheme == "twn", granularity = twn ? "tensor" : spec?.granularity ?? "group"
        guard let rule = twn ? .heuristic : TernaryThresholdRule(rawValue: spec?.delta ?? "optimal") else {
            throw LowBitError.unsupported("layer \(name): ternary threshold rule '\(spec?.delta ?? "")' is not one of optimal, heuristic")
        }
        var codes: [Int8], scales: [Float], groupSize: Int
        switch granularity {
        case "group" where (spec?.groupSize ?? 4) % 4 == 0:
            groupSize = spec?.groupSize ?? 4
            (codes, scales) = try fgqTernarize(weights: weight.data, rowLength: rowLength, groupSize: groupSize, delta: rule)
        case "channel":
            (codes, scales) = try fgqTernarize(weights: weight.data, rowLength: rowLength, groupSize: rowLength, delta: rule)
            groupSize = (rowLength + 3) / 4 * 4
        case "tensor":
            (codes, scales) = try fgqTernarize(weights: weight.data, rowLength: weight.count, groupSize: weight.count, delta: rule)
            scales = [Float](repeating: scales[0], count: outputs)
            groupSize = (rowLength + 3) / 4 * 4
        default:
            throw LowBitError.unsupported("layer \(name): ternary weights pack with groups of a multiple of 4 weights, one scale per channel or one per tensor (have \(String(describing: spec)))")
        }
        if inputEncoding == .sign, layer.kind == .conv2d, let c = layer.inChannels, let k = layer.kernelSize,
           let problem = TernarySignGEMM.signInputProblem(inputChannels: c, kernelTaps: k * k, groupSize: groupSize) {
            throw LowBitError.unsupported("layer \(name): \(problem)")
        }
        for (plane, value) in [("plus", Int8(1)), ("minus", Int8(-1))] {
            let bits = PackedBits(packing: codes.map { $0 == value ? -1 : 1 }, rows: outputs, columns: rowLength)
            output.append(try StoredTensor(name: "\(name).\(plane)", shape: [outputs, bits.wordsPerRow], values: bits.words))
        }
        output.append(try StoredTensor(name: "\(name).scales", tensor: Tensor(shape: [outputs, scales.count / max(outputs, 1)], data: scales)))
        try add("\(name).bias", tensors["\(name).bias"]?.data ?? [Float](repeating: 0, count: outputs))
        var step = layerStep(layer, kind: layer.kind == .conv2d ? .ternaryConv2d : .ternaryDense, input: inputEncoding, inputScale: inputScale)
        step.groupSize = groupSize
        step.inputBits = inputBits == 8 ? nil : inputBits
        return step
    }

    /// The input encoding, scale and code width of an integer layer, from its calibrated input
    /// quantizer: k-bit activations (k = 2...8, 1 unsigned) are codes `0...2^k - 1` of scale
    /// `clip / (2^k - 1)`, or `-(2^(k-1) - 1)...2^(k-1) - 1` of scale `clip / (2^(k-1) - 1)` when signed,
    /// held in bytes.
    private func integerInput(_ name: String) throws -> (PackedStep.InputEncoding, Float, Int) {
        guard let inputSpec = quantizers[name]?.input, inputSpec.scheme == "activation", let bits = inputSpec.bits else {
            throw LowBitError.unsupported("layer \(name): integer weights pack only with k-bit input activations (the integer-only path)")
        }
        let signed = inputSpec.signed ?? false
        guard (signed ? 2 : 1)...8 ~= bits else {
            throw LowBitError.unsupported("layer \(name): \(bits)-bit \(signed ? "signed" : "unsigned") input activations; integer layers pack with \(signed ? 2 : 1) to 8 bits")
        }
        guard let clip = inputSpec.rangeMax, clip > 0 else {
            throw LowBitError.invalidArgument("layer \(name): its input activation range is not calibrated; run `lowbit quantize` (or train with the policy) first")
        }
        let steps = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
        return (signed ? .int8 : .uint8, clip / Float(steps), bits)
    }

    /// An int8 dense or conv layer: weights as int8 codes with per-channel scales, the input scale from the
    /// calibrated activation range. A BatchNorm after it stays a separate `affine` step in the file:
    /// folding it into the weights would change the int8 codes the model was calibrated with. The runtime
    /// folds it into the step's per-channel output scale and bias when it loads the plan (`PackedCompiler`).
    private mutating func int8Layer(_ layer: LayerSpec) throws -> PackedStep {
        let name = layer.name
        guard let weightSpec = quantizers[name]?.weight, let bits = weightSpec.bits, (2...8).contains(bits), weightSpec.symmetric ?? true,
              (weightSpec.granularity ?? "channel") == "channel" else {
            throw LowBitError.unsupported("layer \(name): only 2- to 8-bit symmetric per-channel weights pack as integers (have \(String(describing: quantizers[name]?.weight)))")
        }
        let (inputEncoding, inputScale, inputBits) = try integerInput(name)
        guard let weight = tensors["\(name).weight"] else { throw LowBitError.shapeMismatch("layer \(name) has no weight tensor") }
        let outputs = weight.shape[0], rowLength = weight.count / max(outputs, 1)
        let (codes, scales, _) = try uniformQuantize(weights: weight.data, rowLength: rowLength, groupSize: rowLength, bits: bits, symmetric: true)
        if bits <= 4 {   // two codes per byte
            let bytes = NibbleCodes.pack(codes.map { Int8($0) }, rows: outputs, columns: rowLength)
            output.append(try StoredTensor(name: "\(name).weight", shape: [outputs, NibbleCodes.bytesPerRow(rowLength)], values: bytes))
        } else {
            output.append(try StoredTensor(name: "\(name).weight", shape: weight.shape, values: codes.map { Int8($0) }))
        }
        try add("\(name).weightScale", scales)
        try add("\(name).bias", tensors["\(name).bias"]?.data ?? [Float](repeating: 0, count: outputs))
        var step = layerStep(layer, kind: layer.kind == .conv2d ? .int8Conv2d : .int8Dense, input: inputEncoding, inputScale: inputScale)
        step.inputBits = inputBits == 8 ? nil : inputBits
        step.weightBits = bits == 8 ? nil : bits
        return step
    }

    /// The plan step of a weighted layer with the dense or conv attributes of `layer`.
    private func layerStep(_ layer: LayerSpec, kind: PackedStep.Kind, input: PackedStep.InputEncoding?, inputScale: Float? = nil) -> PackedStep {
        var step = PackedStep(kind: kind, name: layer.name, input: input, inputScale: inputScale)
        if layer.kind == .conv2d {
            (step.inChannels, step.outChannels, step.kernelSize) = (layer.inChannels, layer.outChannels, layer.kernelSize)
            (step.stride, step.padding) = (layer.stride ?? 1, layer.padding ?? .same)
        } else {
            (step.inFeatures, step.outFeatures) = (layer.inFeatures, layer.outFeatures)
        }
        return step
    }

    private mutating func add(_ name: String, _ values: [Float], shape: [Int]? = nil) throws {
        output.append(try StoredTensor(name: name, tensor: Tensor(shape: shape ?? [values.count], data: values)))
    }
}
