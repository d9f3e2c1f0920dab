import LowBitTensor

/// 4-bit two's-complement codes stored two to a byte, the packed form of weights of 4 bits or fewer:
/// row `r` of `columns` codes takes `(columns + 1) / 2` bytes, code `2i` in the low nibble of byte
/// `i`, code `2i + 1` in the high nibble (a short row's last high nibble is 0).
///
/// ```swift
/// let bytes = NibbleCodes.pack([-7, 3, 7], rows: 1, columns: 3)   // [0x39, 0x07]
/// let codes = try NibbleCodes.unpack(bytes, rows: 1, columns: 3)    // [-7, 3, 7]
/// ```
public enum NibbleCodes {
    /// Bytes per row of `columns` codes.
    public static func bytesPerRow(_ columns: Int) -> Int { (columns + 1) / 2 }

    /// Packs codes in `-8...7`, row-major `[rows][columns]` (a precondition: callers quantized them).
    public static func pack(_ codes: [Int8], rows: Int, columns: Int) -> [UInt8] {
        precondition(codes.count == rows * columns && codes.allSatisfy { (-8...7).contains($0) }, "4-bit codes must lie in -8...7")
        let stride = bytesPerRow(columns)
        var bytes = [UInt8](repeating: 0, count: rows * stride)
        for r in 0..<rows {
            for c in 0..<columns {
                let nibble = UInt8(bitPattern: codes[r * columns + c]) & 0x0F
                bytes[r * stride + c / 2] |= c % 2 == 0 ? nibble : nibble << 4
            }
        }
        return bytes
    }

    /// The codes of `pack`, sign-extended; `bytes` must hold `rows * bytesPerRow(columns)`.
    public static func unpack(_ bytes: [UInt8], rows: Int, columns: Int) throws -> [Int8] {
        let stride = bytesPerRow(columns)
        guard bytes.count == rows * stride else {
            throw LowBitError.shapeMismatch("\(bytes.count) bytes of 4-bit codes for \(rows) rows of \(columns)")
        }
        var codes = [Int8](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                let byte = bytes[r * stride + c / 2]
                codes[r * columns + c] = Int8(bitPattern: (c % 2 == 0 ? byte << 4 : byte & 0xF0)) >> 4
            }
        }
        return codes
    }
}
