/// The element types a stored tensor can have, with their sizes and names in one table.
///
/// Every format in this module reads this table: `.lowbit` headers store ``rawValue`` (`"f32"`),
/// safetensors headers store ``safetensorsName`` (`"F32"`). All types are little-endian on disk.
/// `u64` holds bit-packed binary weights: 64 signs per word, packed by the runtime.
///
/// ```swift
/// TensorDType.f16.elementByteCount     // 2
/// TensorDType(rawValue: "u64")         // .u64
/// TensorDType(safetensorsName: "I8")   // .i8
/// ```
public enum TensorDType: String, Codable, Sendable, CaseIterable {
    case f32, f16, i8, u8, i16, i32, u32, u64

    /// One row per type: the single place sizes and foreign names are written down.
    private var traits: (elementByteCount: Int, safetensorsName: String) {
        switch self {
        case .f32: return (4, "F32")
        case .f16: return (2, "F16")
        case .i8: return (1, "I8")
        case .u8: return (1, "U8")
        case .i16: return (2, "I16")
        case .i32: return (4, "I32")
        case .u32: return (4, "U32")
        case .u64: return (8, "U64")
        }
    }

    /// Bytes per element on disk.
    public var elementByteCount: Int { traits.elementByteCount }

    /// The dtype string safetensors uses for this type (`"F32"`, `"U64"`, ...).
    public var safetensorsName: String { traits.safetensorsName }

    /// The type whose safetensors name is `safetensorsName`, or `nil` for types LowBit does not
    /// store (`BF16` is converted to ``f32`` by the safetensors reader instead).
    public init?(safetensorsName: String) {
        guard let match = Self.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }
}
