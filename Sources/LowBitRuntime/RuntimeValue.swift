import CLowBitRuntimeKernels
import LowBitTensor

/// The activations flowing between the steps of a ``PackedModel``: floats, or the packed sign bits
/// a binary layer writes for the next binary layer (one row per sample, or per pixel for NHWC).
enum RuntimeValue: Sendable {
    case float([Float])
    case bits(PackedBits)
    /// Unsigned 8-bit codes of an integer-only layer's output, `x = scale * q` (zero point 0): the
    /// input of the next int8 layer, already at its input scale.
    case uint8([UInt8], scale: Float)
    /// Floats together with their sign bits (one row per pixel or sample, `columns` = channels): a
    /// fused residual block's output, read as floats by the next shortcut and as bits by the next
    /// binary layer, so neither packs nor unpacks.
    case floatWithSigns([Float], PackedBits)

    /// How many values it holds.
    var count: Int {
        switch self {
        case let .float(values), let .floatWithSigns(values, _): return values.count
        case let .bits(bits): return bits.rows * bits.columns
        case let .uint8(codes, _): return codes.count
        }
    }

    /// The values as floats; sign bits become ±1.
    var floats: [Float] {
        switch self {
        case let .float(values), let .floatWithSigns(values, _): return values
        case let .bits(bits): return bits.unpacked()
        case let .uint8(codes, scale): return codes.map { Float($0) * scale }
        }
    }

    /// The values as sign bits in rows of `columns` (bits already in that layout pass through).
    func signBits(rows: Int, columns: Int) -> PackedBits {
        switch self {
        case let .float(values): return PackedBits(packing: values, rows: rows, columns: columns)
        case let .bits(bits) where bits.rows == rows && bits.columns == columns: return bits
        case let .floatWithSigns(_, bits) where bits.rows == rows && bits.columns == columns: return bits
        case let .bits(bits) where bits.rows * bits.columns == rows * columns && rows > 0 && bits.rows % rows == 0:
            return bits.regrouped(rows: rows)   // a flatten: each sample's pixel rows as one row
        case let .floatWithSigns(values, _): return PackedBits(packing: values, rows: rows, columns: columns)
        case .bits, .uint8: return PackedBits(packing: floats, rows: rows, columns: columns)
        }
    }

    /// The values a weighted step reads with `encoding`, as floats (sign: ±1 with sign(0) = +1).
    func floats(encoded encoding: PackedStep.InputEncoding) -> [Float] {
        switch (encoding, self) {
        case (.sign, .bits): return floats
        case (.sign, _): return floats.map { $0 < 0 ? -1 : 1 }
        default: return floats
        }
    }

    /// Unsigned codes at `scale`: `clamp(round(x / scale), 0, max)` (255 at 8 bits), round half to even,
    /// as the training-side activation quantizer; codes an int8 layer already wrote pass through.
    func uint8Codes(scale: Float, max: Int32 = 255, path: KernelPath = .best) -> [UInt8] {
        if case let .uint8(codes, _) = self { return codes }
        return Self.codes(floats, scale: scale, range: 0...max, path: path)
    }

    /// Signed codes at `scale`: `clamp(round(x / scale), -max, max)` (narrow, symmetric; 127 at 8 bits).
    func int8Codes(scale: Float, max: Int32 = 127, path: KernelPath = .best) -> [Int8] {
        Self.codes(floats, scale: scale, range: -max...max, path: path)
    }

    /// `lbr_quantize_codes`: round half to even of `x / scale`, clamped (NaN gives the lower bound).
    static func codes<Code: QuantizedByte>(_ x: [Float], scale: Float, range: ClosedRange<Int32>, path: KernelPath) -> [Code] {
        [Code](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { input in
                if let base = input.baseAddress, let o = out.baseAddress {
                    lbr_quantize_codes(path.isa, base, x.count, scale, range.lowerBound, range.upperBound, o, Code.isSigned ? 1 : 0)
                }
            }
            initialized = x.count
        }
    }
}
