import LowBitIO
import LowBitTensor

/// Turns the steps of a ``PackedPlan`` into ``PackedOperation``s: reads and checks each step's
/// tensors, follows the per-sample shape through the plan, and fuses a binary step's output into
/// sign bits when the next weighted step reads signs (`binary -> [hardTanh] -> sign input`: the
/// sign of hardtanh(y) is the sign of y, so the hardtanh disappears and one threshold compare per
/// channel writes the next layer's packed input), and an int8 step's output into uint8 codes when
/// the next step is an int8 layer reading uint8 (`int8 -> [relu] -> uint8 input`: the requantizer's
/// clamp at zero point 0 is the ReLU), so a chain of int8 layers stays integer.
struct PackedCompiler {
    let archive: LowBitArchive
    let source: String
    /// Fuse a residual block's sum, the activation after it and the next layer's sign packing into the
    /// block's last binary convolution (``ResidualOperation``), and a ReLU or hard tanh into the float
    /// convolution before it; false runs them as separate steps.
    var fusesResiduals = true
    /// Run ternary layers on 8-bit codes with 7-bit group scale codes, as int8 layers (see
    /// ``PackedModel/init(archive:source:fusingResiduals:ternaryScaleCodes:compactPools:)``); false keeps their float group scales.
    var ternaryScaleCodes = true
    /// Run a max pool between a binary convolution and a sign reader on sign bits (``SignMaxPoolOperation``),
    /// and one between an int8 step and a uint8 reader on codes (``CodeMaxPoolOperation``).
    var compactPools = true
    /// The largest activation of one sample the compiled steps exchange, in values (residual bodies included).
    let extent = Extent()

    final class Extent {
        var largestActivation = 0
    }

    func compile(_ steps: [PackedStep], shape: inout [Int]) throws -> [PackedOperation] {
        var operations: [PackedOperation] = []
        var index = 0
        defer { extent.largestActivation = max(extent.largestActivation, shape.reduce(1, *)) }
        while index < steps.count {
            extent.largestActivation = max(extent.largestActivation, shape.reduce(1, *))
            let step = steps[index]
            let next = steps.dropFirst(index + 1).first
            var consumer: PackedStep?
            var consumed = 1
            if [.binaryDense, .binaryConv2d].contains(step.kind) && step.inputEncoding == .sign {
                if let reader = Self.reader(at: index + 1, in: steps, Self.readsSigns) {
                    consumer = reader
                } else if next?.kind == .hardTanh, let reader = Self.reader(at: index + 2, in: steps, Self.readsSigns) {
                    consumer = reader
                    consumed = 2
                } else if compactPools, step.kind == .binaryConv2d,
                          let poolIndex = Self.pool(at: index + 1, after: .hardTanh, in: steps, Self.readsSigns),
                          let binary = try compile(step, shape: &shape,
                                                   consumer: Self.reader(at: poolIndex + 1, in: steps, Self.readsSigns)),
                          let maxPool = try compile(steps[poolIndex], shape: &shape, consumer: nil) as? PoolingOperation {
                    // binary conv -> [hardTanh] -> maxPool -> a sign reader: a maximum is negative only
                    // when every value in its window is, so the pool runs on the sign bits the
                    // convolution writes (an AND of the words: bit 1 is -1) and no float is made.
                    operations += [binary, SignMaxPoolOperation(pool: maxPool)]
                    index = poolIndex + 1
                    continue
                }
            } else if Self.integerKinds.contains(step.kind) {
                // An unfolded BatchNorm (`affine`) right after an integer step folds into its per-channel
                // output scale and bias; then a uint8 reader (after an optional ReLU) takes requantized codes.
                var look = index + 1
                var affine: (scale: [Float], shift: [Float])?
                if look < steps.count, steps[look].kind == .affine, let folded = try foldableAffine(steps[look]) {
                    affine = folded
                    look += 1
                }
                let isInt8 = [.int8Dense, .int8Conv2d].contains(step.kind)
                var codePool: Int?   // a max pool between this step and its uint8 reader
                if isInt8, let reader = Self.reader(at: look, in: steps, Self.readsCodes) {
                    consumer = reader
                } else if isInt8, look < steps.count, steps[look].kind == .relu,
                          let reader = Self.reader(at: look + 1, in: steps, Self.readsCodes) {
                    consumer = reader
                    look += 1   // the ReLU is the requantizer's clamp; the consumer compiles next
                } else if isInt8, compactPools, let pool = Self.pool(at: look, after: .relu, in: steps, Self.readsCodes) {
                    // int8 -> [ReLU] -> maxPool -> a uint8 reader: quantization is monotone, so the pool of
                    // the reader's codes is the code of the pool; the step requantizes to those codes and
                    // the pool runs on bytes (the integer-only pipeline of a LeNet or an int8 VGG).
                    (consumer, codePool) = (Self.reader(at: pool + 1, in: steps, Self.readsCodes), pool)
                }
                var operation = try compileInteger(step, shape: &shape, affine: affine, consumer: consumer)
                if let codePool, let consumer, let pool = try compile(steps[codePool], shape: &shape, consumer: nil) as? PoolingOperation {
                    operations += [operation, CodeMaxPoolOperation(pool: pool, scale: consumer.inputScale!, codeMax: consumer.inputCodeMax)]
                    index = codePool + 1
                    continue
                }
                if fusesResiduals, var int8 = operation as? Int8LayerOperation, int8.takesResidual, look < steps.count,
                   let activation = Self.residualActivation(steps[look]) {
                    int8.activation = activation   // a ReLU or hard tanh after a float output joins its transform
                    operation = int8
                    look += 1
                }
                operations.append(operation)
                index = look
                continue
            }
            if step.kind == .residual, fusesResiduals, var residual = try compile(step, shape: &shape, consumer: nil) as? ResidualOperation {
                // A ReLU or hard tanh right after the block joins it; sign bits are made for a next step that reads them.
                if let next, let activation = Self.residualActivation(next) {
                    residual.activation = activation
                    consumed = 2
                }
                residual.emitsSigns = steps.dropFirst(index + consumed).first.map(Self.readsSignsFirst) ?? false
                operations.append(residual)
                index += consumed
                continue
            }
            if step.kind == .binaryConv2d, step.inputEncoding == .sign, consumer == nil, fusesResiduals, let next,
               let activation = Self.residualActivation(next),
               var conv = try compile(step, shape: &shape, consumer: nil) as? BinaryConvOperation {
                // A ReLU or hard tanh after a binary convolution's float output (no sign reader after it:
                // a binary VGG's last convolution before its float head) joins its output transform.
                let fuses = conv.takesResidual
                if fuses { conv.activation = activation }
                operations.append(conv)
                index += fuses ? 2 : 1
                continue
            }
            if step.kind == .conv2d, fusesResiduals, let next, let activation = Self.residualActivation(next),
               var conv = try compile(step, shape: &shape, consumer: nil) as? FloatConvOperation {
                conv.activation = activation   // the ReLU or hard tanh after a float convolution joins it
                conv.emitsSigns = steps.dropFirst(index + 2).first.map(Self.readsSignsFirst) ?? false
                operations.append(conv)
                index += 2
                continue
            }
            if let operation = try compile(step, shape: &shape, consumer: consumer) { operations.append(operation) }
            index += consumed
        }
        return operations
    }

    /// An affine step's scale and shift when it folds into the integer step before it: every channel
    /// scale finite and nonzero (a zero scale would need a zero multiplier; then the step stays separate).
    private func foldableAffine(_ affine: PackedStep) throws -> (scale: [Float], shift: [Float])? {
        let scale = try stored("\(affine.name).scale", .f32, nil).floatTensor().data
        guard scale.allSatisfy({ $0 != 0 && $0.isFinite }) else { return nil }
        return (scale, try floats("\(affine.name).shift", [scale.count]))
    }

    /// The activation a residual or float convolution step takes over from the step after it.
    private static func residualActivation(_ step: PackedStep) -> FusedActivation? {
        switch step.kind {
        case .relu: .relu
        case .hardTanh: .hardTanh
        default: nil
        }
    }

    /// Whether the first thing `step` does with its input is to read its signs (itself, or a residual
    /// block's body).
    private static func readsSignsFirst(_ step: PackedStep) -> Bool {
        readsSigns(step) || (step.kind == .residual && step.body?.first.map(readsSignsFirst) == true)
    }

    /// The step at `index`, or after flattens there, when `reads` holds for it. A flatten between a
    /// layer and its reader only reshapes: NHWC codes stay as they are, and sign bits of `[H, W, C]`
    /// regroup into one row per sample (`RuntimeValue.signBits`).
    private static func reader(at index: Int, in steps: [PackedStep], _ reads: (PackedStep) -> Bool) -> PackedStep? {
        var reader = index
        while reader < steps.count, steps[reader].kind == .flatten { reader += 1 }
        return reader < steps.count && reads(steps[reader]) ? steps[reader] : nil
    }

    /// The index of a max pool at `index` (or after an `activation` step there) whose reader satisfies
    /// `reads`: a pool that runs on sign bits (`.hardTanh`, ``readsSigns(_:)``) or on uint8 codes
    /// (`.relu`, ``readsCodes(_:)``).
    private static func pool(at index: Int, after activation: PackedStep.Kind, in steps: [PackedStep],
                             _ reads: (PackedStep) -> Bool) -> Int? {
        var pool = index
        if pool < steps.count, steps[pool].kind == activation { pool += 1 }
        guard pool < steps.count, steps[pool].kind == .maxPool, reader(at: pool + 1, in: steps, reads) != nil else { return nil }
        return pool
    }

    private static func readsSigns(_ step: PackedStep) -> Bool {
        [.dense, .conv2d, .binaryDense, .binaryConv2d, .ternaryDense, .ternaryConv2d].contains(step.kind) && step.inputEncoding == .sign
    }

    private static let integerKinds: [PackedStep.Kind] = [.int8Dense, .ternaryDense, .int8Conv2d, .ternaryConv2d]

    private static func readsCodes(_ step: PackedStep) -> Bool {
        integerKinds.contains(step.kind) && step.inputEncoding == .uint8 && step.inputScale != nil
    }

    /// One step; nil for steps that only reshape (flatten). `consumer`: the step that reads this
    /// one's output directly in its own encoding (sign bits or uint8 codes), if any.
    private func compile(_ step: PackedStep, shape: inout [Int], consumer: PackedStep?) throws -> PackedOperation? {
        let name = step.name, signOutput = consumer != nil
        let codesInput = [.int8, .uint8].contains(step.inputEncoding)
        let ternarySigns = [.ternaryDense, .ternaryConv2d].contains(step.kind) && step.inputEncoding == .sign
        guard codesInput == Self.integerKinds.contains(step.kind) || ternarySigns else {
            throw LowBitError.corruptFile(path: source, reason: "packed step '\(name)' (\(step.kind.rawValue)) cannot read \(step.inputEncoding.rawValue) inputs")
        }
        switch step.kind {
        case .int8Dense, .ternaryDense, .int8Conv2d, .ternaryConv2d:
            return try compileInteger(step, shape: &shape, affine: nil, consumer: consumer)
        case .dense, .binaryDense:
            let inFeatures = try need(step.inFeatures, "inFeatures", step), out = try need(step.outFeatures, "outFeatures", step)
            guard shape == [inFeatures] else { throw mismatch(step, "takes [\(inFeatures)] features, the previous step gives \(shape)") }
            shape = [out]
            if step.kind == .dense {
                return FloatDenseOperation(name: name, input: step.inputEncoding, inFeatures: inFeatures, outFeatures: out,
                                           weight: try floats("\(name).weight", [out, inFeatures]), bias: try floats("\(name).bias", [out]))
            }
            let signs = try PackedBits(rows: out, columns: inFeatures, wordsPerRow: PackedBits.wordCount(bits: inFeatures),
                                       words: try words("\(name).signs", [out, PackedBits.wordCount(bits: inFeatures)]))
            return BinaryDenseOperation(name: name, input: step.inputEncoding, signs: signs,
                                        output: try transform(step, channels: out, depth: inFeatures, signOutput: signOutput))
        case .conv2d, .binaryConv2d:
            let conv = try convolution(step, shape: &shape)
            let (inC, outC, k) = (conv.inputChannels, conv.outputChannels, conv.kernelHeight)
            if step.kind == .conv2d {
                let floatConv = try FloatConv2D(shape: conv, weights: try floats("\(name).weight", [outC, k, k, inC]),
                                                bias: try floats("\(name).bias", [outC]))
                return FloatConvOperation(name: name, input: step.inputEncoding, conv: floatConv)
            }
            let perOutput = conv.weightsPerOutput, wordsPerRow = PackedBits.wordCount(bits: perOutput)
            let signs = try PackedBits(rows: outC, columns: perOutput, wordsPerRow: wordsPerRow,
                                       words: try words("\(name).signs", [outC, wordsPerRow]))
            return try BinaryConvOperation(name: name, input: step.inputEncoding, shape: conv, signs: signs.unpacked(),
                                           output: try transform(step, channels: outC, depth: perOutput, signOutput: signOutput))
        case .affine:
            let channels = shape.last ?? 0
            return ElementwiseOperation(name: name, function: .affine(scale: try floats("\(name).scale", [channels]),
                                                                      shift: try floats("\(name).shift", [channels])))
        case .relu: return ElementwiseOperation(name: name, function: .relu)
        case .hardTanh: return ElementwiseOperation(name: name, function: .hardTanh)
        case .maxPool, .avgPool, .globalAvgPool:
            guard shape.count == 3 else { throw mismatch(step, "pools NHWC inputs, the previous step gives \(shape)") }
            let global = step.kind == .globalAvgPool
            let size = global ? 1 : try need(step.poolSize, "poolSize", step), stride = step.stride ?? size
            let rows = try ConvGeometry(inputSize: shape[0], kernel: size, stride: stride, padding: .valid)
            let columns = try ConvGeometry(inputSize: shape[1], kernel: size, stride: stride, padding: .valid)
            let function: PoolingOperation.Function = global ? .globalAverage : (step.kind == .maxPool ? .max : .average)
            let operation = PoolingOperation(name: name, function: function, height: shape[0], width: shape[1], channels: shape[2],
                                             poolSize: size, stride: stride, outputHeight: rows.outputSize, outputWidth: columns.outputSize)
            shape = global ? [shape[2]] : [rows.outputSize, columns.outputSize, shape[2]]
            return operation
        case .flatten:
            shape = [shape.reduce(1, *)]
            return nil
        case .residual:
            var bodyShape = shape, shortcutShape = shape
            let body = try compile(step.body ?? [], shape: &bodyShape)
            let shortcut = try compile(step.shortcut ?? [], shape: &shortcutShape)
            guard bodyShape == shortcutShape else {
                throw mismatch(step, "body gives \(bodyShape) and shortcut \(shortcutShape); they must match to be added")
            }
            shape = bodyShape
            return ResidualOperation(name: name, body: body, shortcut: shortcut, fuses: fusesResiduals)
        }
    }

    /// An int8 or ternary step, dense or convolution; `affine` (`y * scale + shift` per channel, an
    /// unfolded BatchNorm) folds into its output; `consumer` reads its requantized uint8 codes.
    ///
    /// Folding: `a_j (s_j acc_j + b_j) + c_j = (a_j s_j) acc_j + (a_j b_j + c_j)`. Requantization needs a
    /// positive multiplier, so a channel with `a_j < 0` negates its int8 weights (exact: the weights are
    /// in [-127, 127]) and uses `|a_j| s_j`; ternary group scales absorb `a_j` as they are (float output).
    private func compileInteger(_ step: PackedStep, shape: inout [Int], affine: (scale: [Float], shift: [Float])?,
                                consumer: PackedStep?) throws -> PackedOperation {
        let name = step.name, signs = step.inputEncoding == .sign
        guard signs || (step.inputScale ?? 0) > 0 else {
            throw LowBitError.corruptFile(path: source, reason: "packed step '\(name)' has no positive inputScale")
        }
        let inputScale = step.inputScale ?? 1
        try checkBits(step.inputBits, "inputBits", step, lowest: step.inputEncoding == .int8 ? 2 : 1)
        try checkBits(step.weightBits, "weightBits", step, lowest: 2)
        if let consumer { try checkBits(consumer.inputBits, "inputBits", consumer, lowest: 1) }
        let patches: IntegerPatches, out: Int, rowLength: Int, weightShape: [Int]
        if step.kind == .int8Dense || step.kind == .ternaryDense {
            let inFeatures = try need(step.inFeatures, "inFeatures", step)
            out = try need(step.outFeatures, "outFeatures", step)
            guard shape == [inFeatures] else { throw mismatch(step, "takes [\(inFeatures)] features, the previous step gives \(shape)") }
            (patches, rowLength, weightShape) = (.dense, inFeatures, [out, inFeatures])
            shape = [out]
        } else {
            let conv = try convolution(step, shape: &shape)
            out = conv.outputChannels
            (patches, rowLength) = (.convolution(conv), conv.weightsPerOutput)
            weightShape = [out, conv.kernelHeight, conv.kernelWidth, conv.inputChannels]
        }
        var bias = try floats("\(name).bias", [out])
        var scale = [Float](repeating: 1, count: out)
        if let affine {
            guard affine.scale.count == out else {
                throw mismatch(step, "is followed by a BatchNorm of \(affine.scale.count) channels; it has \(out)")
            }
            scale = affine.scale
            for j in 0..<out { bias[j] = scale[j] * bias[j] + affine.shift[j] }
        }
        if step.kind == .int8Dense || step.kind == .int8Conv2d {
            let weightBits = step.weightBits ?? 8, weightMax = Int8((1 << (weightBits - 1)) - 1)
            var weights: [Int8] = weightBits <= 4
                ? try NibbleCodes.unpack(try stored("\(name).weight", .u8, [out, NibbleCodes.bytesPerRow(rowLength)]).values(),
                                         rows: out, columns: rowLength)
                : try stored("\(name).weight", .i8, weightShape).values()
            guard weights.allSatisfy({ (-weightMax...weightMax).contains($0) }) else {
                throw LowBitError.corruptFile(path: source, reason: "int8 step '\(name)' has weight codes outside -\(weightMax)...\(weightMax) (\(weightBits) bits)")
            }
            var weightScales = try floats("\(name).weightScale", [out])
            let perOutput = weights.count / out
            for j in 0..<out where scale[j] != 1 {
                if scale[j] < 0 {
                    guard !weights[(j * perOutput)..<((j + 1) * perOutput)].contains(Int8.min) else {
                        throw LowBitError.corruptFile(path: source, reason: "int8 step '\(name)' has a weight of -128 (the packer writes [-127, 127])")
                    }
                    for k in (j * perOutput)..<((j + 1) * perOutput) { weights[k] = -weights[k] }
                }
                weightScales[j] *= abs(scale[j])
            }
            return try Int8LayerOperation(name: name, input: step.inputEncoding, inputScale: inputScale, inputCodeMax: step.inputCodeMax,
                                          patches: patches, weights: weights, weightScales: weightScales, bias: bias,
                                          output: consumer.map { ($0.inputScale!, $0.inputCodeMax) })
        }
        guard step.weightBits == nil else {
            throw LowBitError.corruptFile(path: source, reason: "ternary step '\(name)' has weightBits; ternary weights are bit-planes")
        }
        let groupSize = try need(step.groupSize, "groupSize", step), words = PackedBits.wordCount(bits: rowLength)
        let planes = try ["plus", "minus"].map {
            try PackedBits(rows: out, columns: rowLength, wordsPerRow: words, words: try self.words("\(name).\($0)", [out, words]))
        }
        let groups = (rowLength + groupSize - 1) / groupSize
        var scales = try floats("\(name).scales", [out, groups])
        for j in 0..<out where scale[j] != 1 {
            for g in 0..<groups { scales[j * groups + g] *= scale[j] }
        }
        if signs {
            return try TernarySignOperation(name: name, patches: patches, values: TernaryGEMM.values(plus: planes[0], minus: planes[1]),
                                            scales: scales, groupSize: groupSize, bias: bias)
        }
        if ternaryScaleCodes, let (codes, units) = try? TernarySignGEMM.encode(scales: scales, groupCount: groups) {
            // 7-bit group scale codes, as the sign-input layers above: the weights become int8 `code * t`
            // (|w| <= 127) with one float scale per output, and the layer an int8 one (Winograd included).
            let values = try TernaryGEMM.values(plus: planes[0], minus: planes[1])
            var weights = [Int8](repeating: 0, count: out * rowLength)
            for j in 0..<out {
                let sign = units[j] < 0 ? -1 : 1   // a requantizer's multiplier is positive: a negative row negates its weights
                for k in 0..<rowLength {
                    weights[j * rowLength + k] = Int8(sign * Int(codes[j * groups + k / groupSize]) * Int(values[j * rowLength + k]))
                }
            }
            var operation = try Int8LayerOperation(name: name, input: step.inputEncoding, inputScale: inputScale,
                                                   inputCodeMax: step.inputCodeMax, patches: patches, weights: weights,
                                                   weightScales: units.map(abs), bias: bias, output: nil)
            operation.isTernary = true
            return operation
        }
        let gemm = try TernaryGEMM(plus: planes[0], minus: planes[1], scales: scales, groupSize: groupSize)
        return TernaryLayerOperation(name: name, input: step.inputEncoding, inputScale: inputScale, inputCodeMax: step.inputCodeMax,
                                     patches: patches, gemm: gemm, bias: bias)
    }

    /// The geometry of a convolution step on NHWC inputs of per-sample `shape`, which becomes its output shape.
    private func convolution(_ step: PackedStep, shape: inout [Int]) throws -> Conv2DShape {
        let inC = try need(step.inChannels, "inChannels", step), outC = try need(step.outChannels, "outChannels", step)
        let k = try need(step.kernelSize, "kernelSize", step)
        guard shape.count == 3, shape[2] == inC else { throw mismatch(step, "takes [H, W, \(inC)] inputs, the previous step gives \(shape)") }
        let conv = try Conv2DShape(inputHeight: shape[0], inputWidth: shape[1], inputChannels: inC, outputChannels: outC,
                                   kernelSize: k, stride: step.stride ?? 1, padding: step.padding ?? .same)
        shape = [conv.outputHeight, conv.outputWidth, outC]
        return conv
    }

    /// The fused output transform of a binary step from its stored `multiplier` and `bias`.
    private func transform(_ step: PackedStep, channels: Int, depth: Int, signOutput: Bool) throws -> BinaryOutputTransform {
        let multiplier = try floats("\(step.name).multiplier", [channels]), bias = try floats("\(step.name).bias", [channels])
        return signOutput ? .signBits(matching: depth, multiplier: multiplier, bias: bias) : .float(multiplier: multiplier, bias: bias)
    }

    /// The tensor `name`, checked to be `dtype` and (unless nil) `shape`.
    private func stored(_ name: String, _ dtype: TensorDType, _ shape: [Int]?) throws -> StoredTensor {
        let tensor: StoredTensor
        do {
            tensor = try archive.tensor(named: name)
        } catch {
            throw LowBitError.corruptFile(path: source, reason: "the packed plan needs tensor '\(name)', which the file lacks")
        }
        guard tensor.dtype == dtype, shape == nil || tensor.shape == shape else {
            throw LowBitError.shapeMismatch("\(source): tensor '\(name)' is \(tensor.dtype.rawValue) \(tensor.shape); the plan needs \(dtype.rawValue) \(shape ?? tensor.shape)")
        }
        return tensor
    }

    private func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        try stored(name, .f32, shape).floatTensor().data
    }

    private func words(_ name: String, _ shape: [Int]) throws -> [UInt64] {
        try stored(name, .u64, shape).values()
    }

    /// An integer width of a step: nil (8) or `lowest...8`.
    private func checkBits(_ bits: Int?, _ field: String, _ step: PackedStep, lowest: Int) throws {
        guard let bits else { return }
        guard (lowest...8).contains(bits) else {
            throw LowBitError.corruptFile(path: source, reason: "packed step '\(step.name)' (\(step.kind.rawValue)) has \(field) \(bits); the runtime runs \(lowest) to 8")
        }
    }

    private func need(_ value: Int?, _ field: String, _ step: PackedStep) throws -> Int {
        guard let value, value > 0 else {
            throw LowBitError.corruptFile(path: source, reason: "packed step '\(step.name)' (\(step.kind.rawValue)) needs a positive \(field)")
        }
        return value
    }

    private func mismatch(_ step: PackedStep, _ message: String) -> LowBitError {
        LowBitError.shapeMismatch("\(source): packed step '\(step.name)' (\(step.kind.rawValue)) \(message)")
    }
}
