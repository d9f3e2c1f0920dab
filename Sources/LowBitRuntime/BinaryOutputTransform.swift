import CLowBitRuntimeKernels
import Foundation
import LowBitTensor

/// What a binary layer writes from its int32 dot products: floats, or sign bits for the next
/// binary layer.
///
/// - ``float(multiplier:bias:)``: `y[j] = Float(dot[j]) * multiplier[j] + bias[j]`, the folded
///   per-channel scale and BatchNorm (``foldScaleAndBatchNorm(alpha:gamma:beta:mean:variance:epsilon:)``).
/// - ``signBits(threshold:flip:)``: bit j = `(dot[j] < threshold[j]) != flip[j]`, one compare per
///   channel (bit 1 = -1). ``signBits(matching:multiplier:bias:)`` derives the thresholds so that
///   the bits equal the signs of the float transform exactly.
///
/// ```swift
/// let (m, b) = BinaryOutputTransform.foldScaleAndBatchNorm(alpha: alpha, gamma: g, beta: be,
///                                                          mean: mu, variance: v, epsilon: 1e-5)
/// let toFloat = BinaryOutputTransform.float(multiplier: m, bias: b)
/// let toBits = BinaryOutputTransform.signBits(matching: 576, multiplier: m, bias: b)
/// ```
public enum BinaryOutputTransform: Sendable, Equatable {
    /// `y = dot * multiplier + bias` per channel, the product rounded before the add.
    case float(multiplier: [Float], bias: [Float])
    /// Sign bits: bit j = (dot < threshold[j]) XOR flip[j].
    case signBits(threshold: [Int32], flip: [Bool])

    /// Number of channels the transform is for.
    public var channelCount: Int {
        switch self {
        case let .float(multiplier, _): return multiplier.count
        case let .signBits(threshold, _): return threshold.count
        }
    }

    /// Folds y = gamma * (alpha * dot - mean) / sqrt(variance + epsilon) + beta into one multiplier and
    /// one bias per channel (computed in double precision, rounded to float once).
    public static func foldScaleAndBatchNorm(alpha: [Float], gamma: [Float], beta: [Float], mean: [Float],
                                             variance: [Float], epsilon: Float) -> (multiplier: [Float], bias: [Float]) {
        precondition(Set([alpha.count, gamma.count, beta.count, mean.count, variance.count]).count == 1, "channel counts differ")
        var multiplier = [Float](), bias = [Float]()
        for j in alpha.indices {
            let inverseStd = 1 / (Double(variance[j]) + Double(epsilon)).squareRoot()
            multiplier.append(Float(Double(gamma[j]) * Double(alpha[j]) * inverseStd))
            bias.append(Float(Double(beta[j]) - Double(gamma[j]) * Double(mean[j]) * inverseStd))
        }
        return (multiplier, bias)
    }

    /// Thresholds and flips whose bits equal `sign(Float(dot) * multiplier + bias)` (with the float
    /// transform's rounding) for every dot product in `-depth...depth`.
    ///
    /// f(d) = fl(fl(d * m) + b) is monotone in d (non-decreasing for m >= 0, non-increasing for
    /// m < 0), because rounding is monotone; so the d with f(d) < 0 are a prefix or a suffix of
    /// `-depth...depth`, found by binary search. A NaN multiplier or bias gives bit 0 (NaN < 0 is false).
    public static func signBits(matching depth: Int, multiplier: [Float], bias: [Float]) -> BinaryOutputTransform {
        precondition(multiplier.count == bias.count, "channel counts differ")
        var threshold = [Int32](), flip = [Bool]()
        for (m, b) in zip(multiplier, bias) {
            let negative = { (d: Int) -> Bool in
                let product = Float(d) * m
                return product + b < 0
            }
            if m.isNaN || b.isNaN {
                threshold.append(Int32.min)
                flip.append(false)
            } else if m >= 0 {
                // Bit set for d < first d with f(d) >= 0.
                threshold.append(Int32(firstIndex(in: -depth...(depth + 1)) { d in d > depth || !negative(d) }))
                flip.append(false)
            } else {
                // Bit set for d >= first d with f(d) < 0: the complement of d < that first d.
                threshold.append(Int32(firstIndex(in: -depth...(depth + 1)) { d in d > depth || negative(d) }))
                flip.append(true)
            }
        }
        return .signBits(threshold: threshold, flip: flip)
    }

    /// The smallest d in `range` with `predicate(d)`, for a predicate that is false then true.
    private static func firstIndex(in range: ClosedRange<Int>, where predicate: (Int) -> Bool) -> Int {
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if predicate(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The flip flags packed like an output row: bit j = flip[j].
    var packedFlips: [UInt64] {
        guard case let .signBits(_, flip) = self else { return [] }
        var words = [UInt64](repeating: 0, count: PackedBits.wordCount(bits: flip.count))
        for (j, set) in flip.enumerated() where set { words[j / 64] |= UInt64(1) << UInt64(j % 64) }
        return words
    }

    /// Applies the float transform to `rows` rows of dot products (row stride `dotStride`).
    func applyFloat(_ dot: UnsafePointer<Int32>, rows: Int, dotStride: Int, into out: UnsafeMutablePointer<Float>,
                    outStride: Int, path: KernelPath) {
        guard case let .float(multiplier, bias) = self else { preconditionFailure("not a float transform") }
        lbr_output_float(path.isa, dot, rows, multiplier.count, dotStride, multiplier, bias, out, outStride)
    }

    /// Applies the sign-bit transform, writing `wordsPerRow` words per row.
    func applyBits(_ dot: UnsafePointer<Int32>, rows: Int, dotStride: Int, flips: [UInt64],
                   into out: UnsafeMutablePointer<UInt64>, wordsPerRow: Int, path: KernelPath) {
        guard case let .signBits(threshold, _) = self else { preconditionFailure("not a sign-bit transform") }
        lbr_output_bits(path.isa, dot, rows, threshold.count, dotStride, threshold, flips, out, wordsPerRow)
    }

    /// Applies the transform to `rows x channelCount` dot products: floats (row-major) or packed bits.
    public func apply(_ dots: [Int32], rows: Int, path: KernelPath = .best) -> BinaryLayerOutput {
        let n = channelCount
        precondition(dots.count == rows * n, "\(dots.count) dot products for \(rows) x \(n)")
        switch self {
        case .float:
            var out = [Float](repeating: 0, count: dots.count)
            if rows > 0 && n > 0 { applyFloat(dots, rows: rows, dotStride: n, into: &out, outStride: n, path: path) }
            return .float(out)
        case .signBits:
            var bits = PackedBits(rows: rows, columns: n)
            if rows > 0 && n > 0 {
                let flips = packedFlips, wordsPerRow = bits.wordsPerRow
                applyBits(dots, rows: rows, dotStride: n, flips: flips, into: &bits.words, wordsPerRow: wordsPerRow, path: path)
            }
            return .signBits(bits)
        }
    }
}

/// The result of a binary layer: floats or packed sign bits, per its ``BinaryOutputTransform``.
///
/// ```swift
/// let out = try conv.forward(x, batch: 1)
/// if let bits = out.bits { _ = try next.forward(bits, batch: 1) } else { use(out.floats!) }
/// ```
public enum BinaryLayerOutput: Sendable, Equatable {
    case float([Float])
    case signBits(PackedBits)

    /// The floats, or nil for sign bits.
    public var floats: [Float]? { if case let .float(values) = self { values } else { nil } }
    /// The sign bits, or nil for floats.
    public var bits: PackedBits? { if case let .signBits(bits) = self { bits } else { nil } }
}
