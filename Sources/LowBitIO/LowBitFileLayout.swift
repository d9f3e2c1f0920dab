/// The byte layout of a `.lowbit` file, format v1 (docs/FORMAT.md is the specification):
///
/// ```text
/// offset  size  field
///      0     8  magic 89 4C 4F 57 42 49 54 0A ("\x89LOWBIT\n")
///      8     2  major version, u16 LE (1)
///     10     2  minor version, u16 LE (0)
///     12     4  flags, u32 LE: bits 0-15 must be understood, bits 16-31 may be ignored
///     16     8  header byte count H, u64 LE
///     24     4  header CRC-32 of bytes 0..<24 followed by the H header bytes, u32 LE
///     28     4  reserved, written as zero, ignored by v1 readers
///     32     H  JSON header (UTF-8), see `LowBitHeader`
///      …        zero padding up to the data start D = alignUp(32 + H, 64)
///      D        tensor data; tensor offsets are relative to D and multiples of 64
/// ```
///
/// The magic's first byte has the high bit set and the last is a newline, so a transfer that
/// strips the 8th bit or rewrites line endings is caught at once (the PNG trick). Data offsets are
/// relative to `D` so the writer can lay out tensors before it knows the header's length.
enum LowBitFileLayout {
    static let magic: [UInt8] = [0x89, 0x4C, 0x4F, 0x57, 0x42, 0x49, 0x54, 0x0A]
    /// Files this build writes; it reads any minor version of this major version.
    static let majorVersion: UInt16 = 1
    static let minorVersion: UInt16 = 0
    static let fixedHeaderByteCount = 32
    /// Bytes 0..<24 are covered by the header checksum (everything before the checksum field).
    static let checksummedPrefixByteCount = 24
    /// Tensor data alignment, so the runtime can map a file and use tensors in place with
    /// 64-byte (cache line, AVX-512) aligned loads.
    static let alignment = 64
    /// Flags in these bits change how the file must be read: a reader that does not know one must
    /// refuse the file. v1 defines no flags.
    static let requiredFlagsMask: UInt32 = 0x0000_FFFF

    static func alignUp(_ value: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }
}

/// The JSON header of a `.lowbit` v1 file. Unknown keys are ignored, so later minor versions can
/// add optional fields without breaking v1 readers.
///
/// ```json
/// {"metadata": {"epochs": 30}, "spec": {...},
///  "tensors": [{"name": "fc1.weight", "dtype": "f32", "shape": [10, 784],
///               "offset": 0, "byteCount": 31360, "crc32": 2868471236}]}
/// ```
struct LowBitHeader: Codable {
    var spec: ModelSpec?
    var metadata: [String: JSONValue]?
    var tensors: [Entry]

    struct Entry: Codable {
        var name: String
        /// A ``TensorDType`` raw value; kept as a string so an unknown dtype is reported by name.
        var dtype: String
        var shape: [Int]
        /// Byte offset from the data start `D`.
        var offset: Int
        var byteCount: Int
        /// CRC-32 (IEEE) of the tensor's bytes.
        var crc32: UInt32
    }
}
