import CLowBitRuntimeKernels
import LowBitTensor

/// The 8-bit integer types a requantized output can have: `Int8` and `UInt8`.
///
/// ```swift
/// let q: [UInt8] = try requantizer.requantize(acc, rows: 1)   // Q inferred as UInt8
/// ```
public protocol QuantizedByte: FixedWidthInteger, Sendable {}
extension Int8: QuantizedByte {}
extension UInt8: QuantizedByte {}

/// An activation that integer-only inference applies as a clamp of the quantized output.
///
/// ```swift
/// let r = try Requantizer(realMultipliers: [0.01], outputScale: 0.05, zeroPoint: 0,
///                         outputType: UInt8.self, activation: .relu6)
/// r.clampRange   // 0...120 (6 / 0.05)
/// ```
public enum ClampActivation: Sendable, Equatable {
    case none
    /// max(0, y): q >= zeroPoint.
    case relu
    /// min(max(0, y), 6): zeroPoint <= q <= zeroPoint + round(6 / outputScale).
    case relu6
}

/// Int32 accumulators to int8/uint8: `q = clamp(zeroPoint + (acc + bias) * M_j, range)` with one
/// ``FixedPointMultiplier`` per output channel (Jacob et al. 2018; gemmlowp rounding), integer only.
///
/// `M_j = inputScale * weightScale_j / outputScale`; the int32 bias is `round(bias / (inputScale *
/// weightScale_j))` plus the zero-point term of ``Int8GEMM/foldedBias(_:inputZeroPoint:)``.
///
/// ```swift
/// let r = try Requantizer(realMultipliers: m, outputScale: 0.05, zeroPoint: -128,
///                         outputType: Int8.self, activation: .relu6)
/// let q: [Int8] = try r.requantize(acc, rows: 8, bias: bias)
/// ```
public struct Requantizer: Sendable {
    public let multipliers: [FixedPointMultiplier]
    public let zeroPoint: Int32
    /// The clamp, within the output type's range (tightened by the activation).
    public let clampRange: ClosedRange<Int32>
    /// Whether the output is int8 (else uint8).
    public let signedOutput: Bool
    /// Accumulators are shifted left by this many bits before the bias is added (0...30), so the bias
    /// can carry that many fractional bits of the accumulator unit; the multipliers include `2^-shift`.
    public let accumulatorShift: Int32
    /// `multipliers` as the kernel reads them: M0 and shift per channel.
    private let fixedMultipliers: [Int32], shifts: [Int32]

    /// Multipliers per channel, the output's zero point and type, and the fused activation.
    public init<Q: QuantizedByte>(realMultipliers: [Double], outputScale: Double, zeroPoint: Int32, outputType: Q.Type,
                                  activation: ClampActivation = .none) throws {
        let typeRange = Int32(Q.min)...Int32(Q.max)
        guard typeRange.contains(zeroPoint) else {
            throw LowBitError.invalidArgument("zero point \(zeroPoint) is outside \(typeRange)")
        }
        guard outputScale > 0, outputScale.isFinite else {
            throw LowBitError.invalidArgument("output scale \(outputScale) must be positive and finite")
        }
        var range = typeRange
        switch activation {
        case .none: break
        case .relu: range = zeroPoint...typeRange.upperBound
        case .relu6:
            let six = zeroPoint + Int32(min(Double(typeRange.upperBound), (6 / outputScale).rounded()))
            range = zeroPoint...min(typeRange.upperBound, six)
        }
        try self.init(multipliers: realMultipliers.map(FixedPointMultiplier.init(real:)), zeroPoint: zeroPoint,
                      clampRange: range, outputType: outputType)
    }

    /// Explicit multipliers and clamp range (must lie within the output type and contain the zero point's
    /// type), and the ``accumulatorShift`` (callers keep `acc << shift + bias` within int32).
    public init<Q: QuantizedByte>(multipliers: [FixedPointMultiplier], zeroPoint: Int32, clampRange: ClosedRange<Int32>,
                                  outputType: Q.Type, accumulatorShift: Int32 = 0) throws {
        guard (0...30).contains(accumulatorShift) else {
            throw LowBitError.invalidArgument("accumulator shift \(accumulatorShift) is outside 0...30")
        }
        let typeRange = Int32(Q.min)...Int32(Q.max)
        guard typeRange.contains(zeroPoint), typeRange.contains(clampRange.lowerBound), typeRange.contains(clampRange.upperBound) else {
            throw LowBitError.invalidArgument("zero point \(zeroPoint) and clamp \(clampRange) must lie in \(typeRange)")
        }
        self.multipliers = multipliers
        fixedMultipliers = multipliers.map(\.multiplier)
        shifts = multipliers.map(\.shift)
        self.zeroPoint = zeroPoint
        self.clampRange = clampRange
        signedOutput = Q.isSigned
        self.accumulatorShift = accumulatorShift
    }

    /// Requantizes `[rows][multipliers.count]` accumulators, shifted left by ``accumulatorShift``, after
    /// adding the per-channel int32 `bias` (two's complement wrap-around, as the kernels do).
    public func requantize<Q: QuantizedByte>(_ acc: [Int32], rows: Int, bias: [Int32]? = nil,
                                             path: KernelPath = .best) throws -> [Q] {
        let n = multipliers.count
        guard Q.isSigned == signedOutput else {
            throw LowBitError.invalidArgument("this requantizer writes \(signedOutput ? "Int8" : "UInt8"), not \(Q.self)")
        }
        guard acc.count == rows * n, bias == nil || bias!.count == n else {
            throw LowBitError.shapeMismatch("\(acc.count) accumulators and \(bias?.count ?? n) biases for \(rows) x \(n)")
        }
        let bias = bias ?? [Int32](repeating: 0, count: n)
        // Uninitialized storage the kernel fills: a generic element-wise fill costs more than the kernel.
        let out = [Q](unsafeUninitializedCapacity: acc.count) { buffer, initialized in
            initialized = acc.count
            guard let o = UnsafeMutableRawPointer(buffer.baseAddress) else { return }
            acc.withUnsafeBufferPointer { a in
                bias.withUnsafeBufferPointer { b in
                    Parallel.forChunks(rows, work: rows * n * 2, grain: .fine) { range in
                        requantize(rows: range, acc: a.baseAddress!, bias: b.baseAddress!, out: o, path: path)
                    }
                }
            }
        }
        return out
    }

    /// Rows `rows` of `[*][multipliers.count]` accumulators into the same rows of `out` (int8 or uint8 as
    /// ``signedOutput``), with an int32 `bias` per channel: for callers that requantize each chunk of a
    /// GEMM as it finishes (`Int8LayerOperation`), no checks.
    func requantize(rows: Range<Int>, acc: UnsafePointer<Int32>, bias: UnsafePointer<Int32>, out: UnsafeMutableRawPointer,
                    path: KernelPath = .best) {
        let n = multipliers.count
        lbr_requantize(path.isa, acc + rows.lowerBound * n, rows.count, n, n, accumulatorShift, bias, fixedMultipliers, shifts,
                       zeroPoint, clampRange.lowerBound, clampRange.upperBound, out + rows.lowerBound * n, signedOutput ? 1 : 0, n)
    }
}
