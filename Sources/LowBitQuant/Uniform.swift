import LowBitTensor

/// Uniform k-bit quantization (k = 2...16), symmetric or affine, per tensor / channel / group.
///
/// Per block (see ``QuantizationGranularity``), in float32 arithmetic:
/// - symmetric, narrow range: qmax = 2^(k-1) - 1, s = max|w| / qmax,
///   q = clamp(round(w / s), -qmax, qmax), y = q * s;
/// - affine: [lo, hi] = [min(min w, 0), max(max w, 0)] (widened so that 0 is exact),
///   s = (hi - lo) / (2^k - 1), Z = clamp(round(-lo / s), 0, 2^k - 1),
///   q = clamp(round(w / s) + Z, 0, 2^k - 1), y = (q - Z) * s.
///
/// `round` is half to even (or stochastic in training, see ``RoundingRule``). A block whose scale
/// is 0 (all zeros) quantizes to zeros. With scales taken from the data nothing is clipped, so
/// |y - w| <= s / 2 for every weight.
///
/// Straight-through gradient: dL/dw = dL/dy where the clamp did not bind (round(w/s) + Z within
/// the code range), 0 outside.
///
/// ```swift
/// let q = try UniformQuantizer(bits: 4, symmetric: true, granularity: .channel)
/// let y = try q.quantize(Tensor(shape: [2, 2], data: [7, -1, 3.5, 1.25]))
/// // row 0: s = 1, y = [7, -1]; row 1: s = 0.5, 1.25 / 0.5 = 2.5 rounds to 2: y = [3.5, 1]
/// ```
public final class UniformQuantizer: Quantizer {
    public let bits: Int
    public let symmetric: Bool
    public let granularity: QuantizationGranularity
    public let rounding: RoundingRule
    public let seed: UInt64
    public var isTraining = false
    private var generator: SeededGenerator

    public init(bits: Int, symmetric: Bool = true, granularity: QuantizationGranularity = .tensor,
                rounding: RoundingRule = .nearestEven, seed: UInt64 = 0) throws {
        try requireBits(bits, in: 2...16, scheme: "uniform")
        try granularity.validate()
        self.bits = bits
        self.symmetric = symmetric
        self.granularity = granularity
        self.rounding = rounding
        self.seed = seed
        self.generator = SeededGenerator(seed: seed)
    }

    public var spec: QuantizerSpec {
        let fields = granularity.specFields
        return QuantizerSpec(scheme: "uniform", bits: bits, granularity: fields.granularity,
                             groupSize: fields.groupSize, symmetric: symmetric,
                             rounding: rounding.rawValue, seed: rounding == .stochastic ? seed : nil)
    }

    public var bitWidth: Int { bits }

    public func quantize(_ x: Tensor) throws -> Tensor {
        try x.checkFinite("uniform quantizer input")
        let layout = granularity.layout(forShape: x.shape)
        let grids = uniformGrids(x.data, layout: layout, bits: bits, symmetric: symmetric)
        let codes: [Int64]
        if isTraining && rounding == .stochastic {
            codes = gridCodes(x.data, layout: layout, grids: grids) { v in
                (v + generator.nextUniform()).rounded(.down)
            }
        } else {
            codes = gridCodes(x.data, layout: layout, grids: grids)
        }
        return Tensor(shape: x.shape, data: gridValues(codes, layout: layout, grids: grids))
    }

    public func backward(input x: Tensor, gradOutput: Tensor) -> Tensor {
        let layout = granularity.layout(forShape: x.shape)
        let grids = uniformGrids(x.data, layout: layout, bits: bits, symmetric: symmetric)
        return gridGradient(input: x, gradOutput: gradOutput, layout: layout, grids: grids)
    }
}

/// The grid of each block: symmetric narrow range or affine with a zero point (formulas on
/// ``UniformQuantizer``).
func uniformGrids(_ values: [Float], layout: BlockLayout, bits: Int, symmetric: Bool) -> [UniformGrid] {
    layout.blocks.map { range in
        let block = values[range]
        if symmetric {
            let qmax = Int64(1) << (bits - 1) - 1
            let maxAbs = block.reduce(Float(0)) { max($0, abs($1)) }
            return UniformGrid(scale: maxAbs / Float(qmax), zeroPoint: 0, qmin: -qmax, qmax: qmax)
        }
        let qmax = Int64(1) << bits - 1
        let lo = min(block.min() ?? 0, 0)
        let hi = max(block.max() ?? 0, 0)
        let scale = (hi - lo) / Float(qmax)
        let zeroPoint = scale > 0 ? min(max(Int64(nearestEven(-lo / scale)), 0), qmax) : 0
        return UniformGrid(scale: scale, zeroPoint: zeroPoint, qmin: 0, qmax: qmax)
    }
}

/// Uniform k-bit quantization of a weight array, returning what a packed format stores.
///
/// `rowLength` is the length of one output channel's row (`weights.count` for per tensor);
/// `groupSize` splits each row (`rowLength` for per channel). Codes are in -qmax...qmax
/// (symmetric) or 0...2^k-1 (affine); there is one scale and one zero point per block (zero
/// points are 0 when symmetric). ``uniformDequantize(codes:scales:zeroPoints:rowLength:groupSize:)``
/// of the result equals ``UniformQuantizer/quantize(_:)`` exactly.
///
/// ```swift
/// let r = try uniformQuantize(weights: [1.5, -3, 0.5, 2.5], rowLength: 4, groupSize: 4,
///                             bits: 3, symmetric: true)
/// // r.scales == [1], r.codes == [2, -3, 0, 2]   (ties go to the even code)
/// ```
public func uniformQuantize(weights: [Float], rowLength: Int, groupSize: Int, bits: Int, symmetric: Bool)
    throws -> (codes: [Int32], scales: [Float], zeroPoints: [Int32]) {
    try requireBits(bits, in: 2...16, scheme: "uniform")
    try requireFinite(weights, "weights")
    let layout = try BlockLayout(count: weights.count, rowLength: rowLength, groupSize: groupSize)
    let grids = uniformGrids(weights, layout: layout, bits: bits, symmetric: symmetric)
    return (gridCodes(weights, layout: layout, grids: grids).map { Int32($0) },
            grids.map(\.scale), grids.map { Int32($0.zeroPoint) })
}

/// Dequantizes the output of ``uniformQuantize(weights:rowLength:groupSize:bits:symmetric:)``:
/// y = (q - Z) * s with the scale and zero point of each code's block.
public func uniformDequantize(codes: [Int32], scales: [Float], zeroPoints: [Int32], rowLength: Int,
                              groupSize: Int) throws -> [Float] {
    let layout = try BlockLayout(count: codes.count, rowLength: rowLength, groupSize: groupSize)
    guard scales.count == layout.blockCount, zeroPoints.count == layout.blockCount else {
        throw LowBitError.shapeMismatch(
            "\(layout.blockCount) blocks need as many scales and zero points, got \(scales.count) and \(zeroPoints.count)")
    }
    return codes.indices.map { i in
        let block = layout.blockIndex(ofElement: i)
        return Float(Int64(codes[i]) - Int64(zeroPoints[block])) * scales[block]
    }
}
