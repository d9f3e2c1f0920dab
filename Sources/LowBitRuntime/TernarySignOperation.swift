import CLowBitRuntimeKernels
import LowBitTensor

/// A ternary dense or convolution step on sign-bit inputs (binary activations): weights
/// `alpha[j][g] * t[j][k]` with their FGQ group scales encoded as 7-bit codes times one unit per output
/// (``TernarySignGEMM``), `y_j = unit_j * sum_g code[j][g] * sum_{k in g} t[j][k] * sign(x[k]) + b_j`.
///
/// Convolutions run bit-level im2col (`lbr_bconv_im2col`, `ceil(C / 64)` words per tap) and the
/// GEMM over those rows, whose weights are laid out at the same bit positions with one code per 4
/// bits; a padded tap reads as +1 and its contribution is subtracted per border pattern, as binary
/// convolutions do (docs/RUNTIME.md, "Zero padding").
struct TernarySignOperation: PackedOperation {
    let name: String
    let patches: IntegerPatches
    let gemm: TernarySignGEMM
    let bias: [Float]
    /// Convolutions: words per input pixel, and the padding correction (``BinaryConv2D/paddingCorrections(shape:tapSums:)``).
    let wordsPerPixel: Int
    let borderPixels: [Int32], borderPatterns: [Int32], paddingCorrection: [Int32]

    var kind: String {
        if case .dense = patches { return "ternaryDense" }
        return "ternaryConv2d"
    }

    /// `values` `[out][rowLength]` in {-1, 0, 1} (OHWI rows for a convolution), float group `scales`
    /// `[out][ceil(rowLength / groupSize)]`, encoded to 7-bit codes here.
    init(name: String, patches: IntegerPatches, values: [Int8], scales: [Float], groupSize: Int, bias: [Float]) throws {
        self.name = name
        self.patches = patches
        self.bias = bias
        let out = bias.count, rowLength = values.count / max(out, 1), groups = (rowLength + groupSize - 1) / groupSize
        let (codes, units) = try TernarySignGEMM.encode(scales: scales, groupCount: groups)
        guard case let .convolution(shape) = patches else {
            gemm = try TernarySignGEMM(values: values, scaleCodes: codes, units: units, outputCount: out, inputCount: rowLength,
                                       groupSize: groupSize)
            (wordsPerPixel, borderPixels, borderPatterns, paddingCorrection) = (0, [], [], [])
            return
        }
        // Weights at the im2col rows' bit positions: tap t, channel c at bit (t * wordsPerPixel * 64 + c).
        let c = shape.inputChannels, taps = shape.taps, words = PackedBits.wordCount(bits: c), width = taps * words * 64
        // The kernel takes one code per 4 bits: every nibble of the row must lie in one group.
        guard let nibbleGroup = Self.nibbleGroups(channels: c, taps: taps, groupSize: groupSize) else {
            throw LowBitError.unsupported("ternary step '\(name)': \(Self.alignmentProblem(channels: c, groupSize: groupSize))")
        }
        var expanded = [Int8](repeating: 0, count: out * width), nibbleCodes = [UInt8](repeating: 0, count: out * width / 4)
        for j in 0..<out {
            for k in 0..<rowLength { expanded[j * width + (k / c) * words * 64 + k % c] = values[j * rowLength + k] }
            for (nibble, group) in nibbleGroup.enumerated() where group >= 0 { nibbleCodes[j * width / 4 + nibble] = codes[j * groups + group] }
        }
        gemm = try TernarySignGEMM(values: expanded, scaleCodes: nibbleCodes, units: units, outputCount: out, inputCount: width,
                                   groupSize: 4)
        wordsPerPixel = words
        // A padded tap adds sum_c code * t (its bits read as +1).
        let tapSums = (0..<(out * taps)).map { row -> Int32 in
            let (j, t) = (row / taps, row % taps)
            return (0..<c).reduce(Int32(0)) { sum, channel in
                let k = t * c + channel
                return sum + Int32(codes[j * groups + k / groupSize]) * Int32(values[j * rowLength + k])
            }
        }
        (borderPixels, borderPatterns, paddingCorrection) = BinaryConv2D.paddingCorrections(shape: shape, tapSums: tapSums)
    }

    /// For a convolution's im2col row (tap t, channel c at bit t * ceil(C / 64) * 64 + c), the group of
    /// each 4-bit nibble (-1: no weight), or nil when some nibble would hold weights of two groups.
    static func nibbleGroups(channels c: Int, taps: Int, groupSize: Int) -> [Int]? {
        let words = PackedBits.wordCount(bits: c)
        var groups = [Int](repeating: -1, count: taps * words * 16)
        for k in 0..<(taps * c) {
            let nibble = ((k / c) * words * 64 + k % c) / 4
            guard groups[nibble] == -1 || groups[nibble] == k / groupSize else { return nil }
            groups[nibble] = k / groupSize
        }
        return groups
    }

    static func alignmentProblem(channels: Int, groupSize: Int) -> String {
        "groups of \(groupSize) weights do not align with \(channels) input channels; sign-bit inputs need groups that never share 4 consecutive bits (channels a multiple of 4, or one group per row)"
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        guard case let .convolution(shape) = patches else {
            return .float(try gemm.multiply(signs: value.signBits(rows: batch, columns: gemm.inputCount), bias: bias))
        }
        let input = value.signBits(rows: batch * shape.inputHeight * shape.inputWidth, columns: shape.inputChannels)
        let pixels = shape.outputHeight * shape.outputWidth, rows = batch * pixels, n = gemm.outputCount
        var geometry = shape.kernelGeometry(batch: batch)
        var columns = PackedBits(uninitializedRows: rows, columns: gemm.inputCount)   // im2col writes every word
        columns.words.withUnsafeMutableBufferPointer { c in
            lbr_bconv_im2col(input.words, wordsPerPixel, &geometry, 0, rows, c.baseAddress)
        }
        var dots = try gemm.dotProducts(signs: columns)
        dots.withUnsafeMutableBufferPointer { d in
            lbr_subtract_row_corrections(d.baseAddress, n, 0, rows, n, borderPixels, borderPatterns, borderPixels.count, pixels,
                                         paddingCorrection)
        }
        return .float([Float](unsafeUninitializedCapacity: rows * n) { out, initialized in
            lbr_output_float(KernelPath.best.isa, dots, rows, n, n, gemm.units, bias, out.baseAddress, n)
            initialized = rows * n
        })
    }
}
