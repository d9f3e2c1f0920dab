import LowBitIO
import Testing

@Suite("CRC-32 (IEEE)")
struct CRC32Tests {
    /// Published check values (the "123456789" check value of the CRC catalogue, zlib's results).
    @Test(arguments: [
        ("", 0x0000_0000),
        ("a", 0xE8B7_BE43),
        ("abc", 0x3524_41C2),
        ("123456789", 0xCBF4_3926),
        ("The quick brown fox jumps over the lazy dog", 0x414F_A339),
    ] as [(String, UInt32)])
    func matchesKnownCheckValues(text: String, expected: UInt32) {
        #expect(CRC32.checksum(Array(text.utf8)) == expected)
    }

    @Test func thirtyTwoZeroBytesGiveTheZlibValue() {
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }

    @Test func feedingInPiecesEqualsOneCallAtEverySplitPoint() {
        let bytes = Array("123456789".utf8)
        for split in 0...bytes.count {
            var crc = CRC32()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == 0xCBF4_3926, "split at \(split)")
        }
    }
}
