import CLowBitRuntimeKernels
import LowBitTensor

/// An integer-only dense or convolution step (Jacob et al. 2018): int8 weights `w` with per-channel scales `S_w`,
/// 8-bit activations `q` with scale `S_in` and zero point 0, int32 accumulation:
///
///     q_in  = clamp(round(x / S_in), qmin, qmax)       (skipped when the input already is codes)
///     acc_j = sum_k q_in[k] * w[j][k]                  (Int8GEMM, exact; k over a patch for a convolution)
///
/// then either, when the next step is an int8 layer reading uint8 codes of scale `S_out`,
///
///     q_out_j = clamp(round((acc_j + round(b_j / (S_in * S_w_j))) * M_j), 0, 255),  M_j = S_in * S_w_j / S_out
///
/// with `M_j` a fixed-point multiplier and gemmlowp rounding (``Requantizer``; the clamp at 0 is the
/// ReLU between the layers), or the float output `y_j = Float(acc_j) * (S_in * S_w_j) + b_j`.
struct Int8LayerOperation: ResidualFusing {
    enum Output: Sendable {
        case float
        /// Requantized uint8 codes for the next layer.
        case uint8(requantizer: Requantizer, bias: [Int32], scale: Float)
    }

    let name: String
    let input: PackedStep.InputEncoding
    let inputScale: Float
    /// The largest input code (255 or 127 at 8 bits; `PackedStep.inputCodeMax`).
    let inputCodeMax: Int32
    let patches: IntegerPatches
    let gemm: Int8GEMM
    /// The 3x3 stride-1 convolutions whose GEMM would run at one vpmaddwd per 16 products (full-range
    /// or int8 inputs, weights past 64 with 8-bit inputs): Winograd F(2x2, 3x3), 2.25x fewer.
    let winograd: Int8Winograd?
    /// `S_in * S_w_j`, the scale of the accumulators.
    let accumulatorScales: [Float]
    let bias: [Float]
    let output: Output
    /// A ReLU or hard tanh after a float output, fused into its output transform.
    var activation: FusedActivation = .none
    /// A ternary layer run with 7-bit group scale codes (weights `code * t`): named as the ternary step.
    var isTernary = false

    var kind: String {
        let prefix = isTernary ? "ternary" : "int8"
        if case .dense = patches { return prefix + "Dense" }
        return prefix + "Conv2d"
    }

    /// `weights` `[out][in]` (dense) or OHWI (convolution), one scale per output. `output`: the next
    /// integer step's input scale and largest code (requantized uint8 codes in `0...codeMax`), or nil
    /// for float outputs.
    init(name: String, input: PackedStep.InputEncoding, inputScale: Float, inputCodeMax: Int32 = 255, patches: IntegerPatches,
         weights: [Int8], weightScales: [Float], bias: [Float], output next: (scale: Float, codeMax: Int32)?) throws {
        guard input == .int8 || input == .uint8, inputScale > 0, inputScale.isFinite else {
            throw LowBitError.invalidArgument("int8 step \(name) needs int8 or uint8 inputs with a positive input scale")
        }
        self.name = name
        self.input = input
        self.inputScale = inputScale
        self.inputCodeMax = inputCodeMax
        self.patches = patches
        gemm = try Int8GEMM(weights: weights, outputCount: weightScales.count, inputCount: weights.count / max(weightScales.count, 1),
                            inputMax: input == .uint8 ? UInt8(clamping: inputCodeMax) : 255)
        // Winograd unless the vpmaddubsw kernel sums 4 or more steps in int16 (4-bit weights or
        // inputs), where it does fewer multiply instructions than the transforms save.
        if Int8Winograd.isEnabled, case let .convolution(shape) = patches,
           input == .int8 || (gemm.smallKernelSteps(inputMax: inputCodeMax) ?? 1) < 4 {
            winograd = try Int8Winograd(weights: weights, shape: shape)
        } else {
            winograd = nil
        }
        accumulatorScales = weightScales.map { inputScale * $0 }
        self.bias = bias
        guard let (outputScale, codeMax) = next else {
            output = .float
            return
        }
        let realScales = weightScales.map { Double(inputScale) * Double($0) }
        let k = gemm.inputCount
        let largest = Int8GEMM.largestRowMagnitude(weights, rowLength: k)
        let shift = Self.accumulatorShift(largestAccumulator: largest * Int(inputCodeMax), bias: bias, realScales: realScales,
                                          outputScale: Double(outputScale))
        let requantizer = try Requantizer(multipliers: realScales.map { try FixedPointMultiplier(real: $0 / Double(outputScale) / Double(1 << shift)) },
                                          zeroPoint: 0, clampRange: 0...min(255, codeMax), outputType: UInt8.self,
                                          accumulatorShift: Int32(shift))
        let integerBias = zip(bias, realScales).map { b, s in
            Int32(clamping: Int64((Double(b) / s * Double(1 << shift)).rounded(.toNearestOrAwayFromZero)))
        }
        output = .uint8(requantizer: requantizer, bias: integerBias, scale: outputScale)
    }

    /// The accumulator shift of the requantization: the largest `s` in 0...16 with
    /// `largestAccumulator * 2^s` and every `|bias / realScale| * 2^s` at most 2^29 (so the shifted sum
    /// stays in int32) and every multiplier `realScale / outputScale / 2^s` at least 2^-31 (what a
    /// ``FixedPointMultiplier`` holds). The bias then carries `s` fractional bits of the accumulator
    /// unit: at 4-bit inputs and weights that unit is coarse (`S_in * S_w` with 15 and 7 levels), and a
    /// bias rounded to it moved one output code in about 1% of the activations of a test MLP.
    static func accumulatorShift(largestAccumulator: Int, bias: [Float], realScales: [Double], outputScale: Double) -> Int {
        let limit = Double(1 << 29)
        let largestBias = zip(bias, realScales).map { abs(Double($0) / $1) }.max() ?? 0
        let smallestMultiplier = (realScales.filter { $0 > 0 }.min() ?? 1) / outputScale
        for shift in stride(from: 16, to: 0, by: -1) {
            let scale = Double(1 << shift)
            if Double(largestAccumulator) * scale <= limit && largestBias * scale <= limit && smallestMultiplier / scale >= 0x1p-31 {
                return shift
            }
        }
        return 0
    }

    /// A float output can take a residual block's sum (``ResidualOperation``).
    var takesResidual: Bool {
        if case .float = output { return true }
        return false
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        switch output {
        case .float:
            return .float(try floatOutput(value, batch: batch, adding: nil, activation: activation, signs: false).floats)
        case let .uint8(requantizer, integerBias, scale):
            // Each chunk of the GEMM requantizes its rows as it finishes them (Int8GEMM's epilogue).
            let count = patches.rowCount(batch: batch) * accumulatorScales.count
            let codes = try [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                let base = UnsafeMutableRawPointer(out.baseAddress)
                try integerBias.withUnsafeBufferPointer { bias in
                    _ = try accumulate(value, batch: batch) { acc, rows in
                        requantizer.requantize(rows: rows, acc: acc, bias: bias.baseAddress!, out: base!)
                    }
                }
                initialized = count
            }
            return .uint8(codes, scale: scale)
        }
    }

    func runResidual(_ value: RuntimeValue, batch: Int, adding addend: [Float], activation: FusedActivation,
                     signs: Bool) throws -> (floats: [Float], bits: PackedBits?) {
        precondition(takesResidual, "runResidual needs a float output (takesResidual)")
        return try floatOutput(value, batch: batch, adding: addend, activation: activation, signs: signs)
    }

    /// The int32 accumulators of the layer's patches or rows; `epilogue` gets each finished chunk.
    private func accumulate(_ value: RuntimeValue, batch: Int,
                            epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) throws -> [Int32] {
        let rows = patches.rowCount(batch: batch)
        switch (patches, input) {
        case let (.convolution, encoding) where winograd != nil:
            // Float inputs are quantized by the chunks, each for the input rows it reads.
            let signed = encoding != .uint8
            let source: Int8Winograd.Input
            switch value {
            case let .uint8(codes, _) where !signed: source = .uint8(codes)
            default: source = .floats(value.floats, scale: inputScale, range: signed ? -inputCodeMax...inputCodeMax : 0...inputCodeMax,
                                      signed: signed)
            }
            return try winograd!.accumulate(source, batch: batch, epilogue: epilogue)
        case let (.convolution(shape), .uint8):   // patches read in place, no im2col copy
            // Full-range codes with few of 128 or more: padding, quantization and the high-bit split in one pass.
            let source: Int8GEMM.PatchSource
            if case let .uint8(codes, _) = value { source = .codes(codes) } else { source = .floats(value.floats, scale: inputScale) }
            if let acc = try gemm.accumulatePatchesSplit(source, shape: shape, batch: batch, inputMax: inputCodeMax, epilogue: epilogue) {
                return acc
            }
            return try gemm.accumulatePatches(value.uint8Codes(scale: inputScale, max: inputCodeMax), shape: shape, batch: batch,
                                              inputMax: inputCodeMax, splittingHighBits: false, epilogue: epilogue)
        case let (.convolution(shape), _):
            return try gemm.accumulatePatches(value.int8Codes(scale: inputScale, max: inputCodeMax), shape: shape, batch: batch,
                                              epilogue: epilogue)
        case (.dense, .uint8):
            return try gemm.accumulate(codes: value.uint8Codes(scale: inputScale, max: inputCodeMax), rows: rows, inputMax: inputCodeMax,
                                       epilogue: epilogue)
        case (.dense, _):
            return try gemm.accumulate(int8: value.int8Codes(scale: inputScale, max: inputCodeMax), rows: rows, epilogue: epilogue)
        }
    }

    /// `activation(Float(acc) * scale_j + b_j [+ addend])` (`lbr_output_residual`, the unfused steps'
    /// roundings), with the sign bits of the result when `signs`; each GEMM chunk transforms its rows.
    private func floatOutput(_ value: RuntimeValue, batch: Int, adding addend: [Float]?, activation: FusedActivation,
                             signs: Bool) throws -> (floats: [Float], bits: PackedBits?) {
        let rows = patches.rowCount(batch: batch), n = accumulatorScales.count
        if let addend, addend.count != rows * n {
            throw LowBitError.shapeMismatch("\(name): shortcut of \(addend.count) values for an output of \(rows) x \(n)")
        }
        var bits = signs ? PackedBits(uninitializedRows: rows, columns: n) : nil   // every word written
        let wordsPerRow = PackedBits.wordCount(bits: n)
        let out = try [Float](unsafeUninitializedCapacity: rows * n) { out, initialized in
            let base = out.baseAddress
            try addend.withOptionalBase { skip in
                try bits.withOptionalWords { words in
                    _ = try accumulate(value, batch: batch) { acc, range in
                        let first = range.lowerBound
                        lbr_output_residual(KernelPath.best.isa, acc + first * n, range.count, n, n, accumulatorScales, bias,
                                            skip.map { $0 + first * n }, n, activation.kernelValue, base! + first * n, n,
                                            words.map { $0 + first * wordsPerRow }, wordsPerRow)
                    }
                }
            }
            initialized = rows * n
        }
        return (out, bits)
    }
}
