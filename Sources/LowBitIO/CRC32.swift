/// CRC-32 (IEEE 802.3, the checksum of zlib, PNG and gzip): reflected polynomial `0xEDB88320`,
/// initial value and final XOR `0xFFFFFFFF`.
///
/// `.lowbit` files store one for their header and one for every tensor, so a flipped bit is reported
/// with the name of what it damaged instead of surfacing later as a wrong prediction. It is
/// implemented here (one 256-entry table, one byte per step) so the runtime needs no zlib.
///
/// ```swift
/// CRC32.checksum(Array("123456789".utf8))   // 0xCBF43926
///
/// var crc = CRC32()                         // the same, fed in pieces
/// crc.update(Array("1234".utf8))
/// crc.update(Array("56789".utf8))
/// crc.value                                 // 0xCBF43926
/// ```
public struct CRC32: Sendable, Equatable {
    /// `table[b]` is the CRC register after shifting byte `b` through eight reflected steps, so
    /// each input byte costs one lookup instead of eight conditional XORs.
    private static let table: [UInt32] = (0..<256).map { byte in
        var register = UInt32(byte)
        for _ in 0..<8 {
            register = (register & 1 == 1) ? (register >> 1) ^ 0xEDB8_8320 : register >> 1
        }
        return register
    }

    /// The register before the final XOR; starts at all ones.
    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Feeds `bytes` into the checksum.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let table = Self.table
        var crc = register
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        register = crc
    }

    /// The checksum of everything fed so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// The checksum of `bytes` in one call.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
