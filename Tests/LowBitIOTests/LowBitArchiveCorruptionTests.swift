import LowBitIO
import LowBitTensor
import Testing

/// Every damage a `.lowbit` reader must catch, each with the error it must report (and no crash).
@Suite(".lowbit corruption")
struct LowBitArchiveCorruptionTests {
    /// Two tensors: "first" (64 bytes) and "second" (16 bytes), so data offsets are 0 and 64.
    static func validFile() throws -> (bytes: [UInt8], dataStart: Int) {
        let archive = try LowBitArchive(metadata: ["note": "corruption fixture"], tensors: [
            StoredTensor(name: "first", dtype: .f32, shape: [4, 4], bytes: pseudoRandomBytes(64, seed: 1)),
            StoredTensor(name: "second", dtype: .u64, shape: [2], bytes: pseudoRandomBytes(16, seed: 2)),
        ])
        let bytes = try archive.encoded()
        let headerLength = Int(bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        return (bytes, (32 + headerLength + 63) / 64 * 64)
    }

    @Test(arguments: [("first", 0), ("first", 63), ("second", 64), ("second", 79)] as [(String, Int)])
    func aFlippedDataByteFailsTheChecksumOfThatTensor(tensor: String, dataOffset: Int) throws {
        var (bytes, dataStart) = try Self.validFile()
        bytes[dataStart + dataOffset] ^= 0x01
        let reason = corruptReason { _ = try LowBitArchive(decoding: bytes, source: "m.lowbit") }
        #expect(reason.hasPrefix("tensor '\(tensor)' fails its checksum"))
    }

    /// Minor version (10, 11), optional flag bits (14, 15), the checksum itself (24, 27) and JSON
    /// bytes: none changes the structure, all must fail the header checksum.
    @Test(arguments: [10, 11, 14, 15, 24, 27, 40, 60])
    func aFlippedHeaderByteFailsTheHeaderChecksum(offset: Int) throws {
        var (bytes, _) = try Self.validFile()
        bytes[offset] ^= 0x01
        let reason = corruptReason { _ = try LowBitArchive(decoding: bytes, source: "m.lowbit") }
        #expect(reason.hasPrefix("the header fails its checksum"), "\(reason)")
    }

    enum Cut: CaseIterable {
        case empty, insideMagic, insideFixedHeader, insideJSONHeader, insideFirstTensor, lastByte
    }

    @Test(arguments: Cut.allCases)
    func aTruncatedFileIsReportedAsTruncated(cut: Cut) throws {
        let (bytes, dataStart) = try Self.validFile()
        let (length, expected): (Int, String) = switch cut {
        case .empty: (0, "not a .lowbit file")
        case .insideMagic: (5, "not a .lowbit file")
        case .insideFixedHeader: (20, "truncated: 20 bytes, shorter than the 32-byte fixed header")
        case .insideJSONHeader: (50, "truncated or corrupt: the header claims")
        case .insideFirstTensor: (dataStart + 10, "tensor 'first' (64 bytes at data offset 0) extends past the end")
        case .lastByte: (bytes.count - 1, "tensor 'second' (16 bytes at data offset 64) extends past the end")
        }
        let reason = corruptReason { _ = try LowBitArchive(decoding: Array(bytes.prefix(length)), source: "m.lowbit") }
        #expect(reason.hasPrefix(expected), "\(reason)")
    }

    @Test func aNewerMajorVersionAsksTheUserToUpgrade() throws {
        let file = handBuiltLowBitFile(json: #"{"tensors":[]}"#, major: 2)
        let error = lowBitError { _ = try LowBitArchive(decoding: file, source: "new.lowbit") }
        #expect(error == .unsupported(
            "new.lowbit was written by a newer LowBit (format v2); this build reads v1 — upgrade LowBit"))
    }

    @Test func versionZeroIsCorrupt() {
        let file = handBuiltLowBitFile(json: #"{"tensors":[]}"#, major: 0)
        #expect(corruptReason { _ = try LowBitArchive(decoding: file, source: "m") }.hasPrefix("format version 0"))
    }

    @Test func anUnknownRequiredFlagAsksTheUserToUpgrade() {
        let file = handBuiltLowBitFile(json: #"{"tensors":[]}"#, flags: 0x0000_0004)
        let error = lowBitError { _ = try LowBitArchive(decoding: file, source: "m") }
        guard case let .unsupported(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.contains("required flags 0x00000004") && message.contains("upgrade LowBit"))
    }

    @Test func wrongMagicIsNotALowBitFile() throws {
        var (bytes, _) = try Self.validFile()
        bytes[0] = 0x50  // "PK": someone passed a zip
        #expect(corruptReason { _ = try LowBitArchive(decoding: bytes, source: "m") }.hasPrefix("not a .lowbit file"))
    }

    @Test func aHugeHeaderLengthIsRejectedBeforeAnyAllocation() {
        var file = handBuiltLowBitFile(json: #"{"tensors":[]}"#)
        file.replaceSubrange(16..<24, with: littleEndianBytes(UInt64.max))
        let reason = corruptReason { _ = try LowBitArchive(decoding: file, source: "m") }
        #expect(reason.hasPrefix("truncated or corrupt: the header claims 18446744073709551615 bytes"))
    }

    /// Headers with a valid checksum that lie about the data: each must be caught by a bounds or
    /// consistency check, not by luck.
    @Test(arguments: [
        ("[\(entryJSON("a", shape: [4], offset: 64, byteCount: 16, crc32: 0))]",
         "tensor 'a' (16 bytes at data offset 64) extends past the end of the"),
        ("[\(entryJSON("a", shape: [8], offset: 0, byteCount: 32, crc32: 0)),\(entryJSON("b", shape: [4], offset: 0, byteCount: 16, crc32: 0))]",
         "tensors 'a' (data bytes 0..<32) and 'b' (data bytes 0..<16) overlap"),
        ("[\(entryJSON("a", shape: [2, 3], offset: 0, byteCount: 20, crc32: 0))]",
         "tensor 'a': shape [2, 3] of f32 needs 24 bytes but the header says 20"),
        ("[\(entryJSON("a", shape: [1], offset: 0, byteCount: 4, crc32: 0)),\(entryJSON("a", shape: [1], offset: 64, byteCount: 4, crc32: 0))]",
         "two tensors are named 'a'"),
        ("[\(entryJSON("a", shape: [1], offset: 4, byteCount: 4, crc32: 0))]",
         "tensor 'a' has data offset 4, which is not a non-negative multiple of 64"),
        ("[\(entryJSON("a", shape: [1], offset: -64, byteCount: 4, crc32: 0))]",
         "tensor 'a' has data offset -64"),
        ("[\(entryJSON("a", shape: [1 << 62, 4], offset: 0, byteCount: 16, crc32: 0))]",
         "tensor 'a' has an impossible shape"),
        ("[\(entryJSON("a", shape: [-1], offset: 0, byteCount: 4, crc32: 0))]",
         "tensor 'a' has an impossible shape [-1]"),
        ("[\(entryJSON("", shape: [1], offset: 0, byteCount: 4, crc32: 0))]",
         "a tensor has an empty name"),
        (#"[{"name":"a","dtype":"f32","shape":[1],"offset":0,"byteCount":4}]"#,
         "the JSON header is not a valid format v1 header: 'tensors[0].crc32' is missing"),
    ])
    func aHeaderThatLiesAboutTheDataIsRejected(tensors: String, expected: String) {
        let file = handBuiltLowBitFile(json: "{\"tensors\":\(tensors)}", data: [UInt8](repeating: 0, count: 64))
        let reason = corruptReason { _ = try LowBitArchive(decoding: file, source: "m") }
        #expect(reason.hasPrefix(expected), "\(reason)")
    }

    @Test func aHeaderThatIsNotJSONIsRejected() {
        let reason = corruptReason { _ = try LowBitArchive(decoding: handBuiltLowBitFile(json: "{tensors: oops"), source: "m") }
        #expect(reason.hasPrefix("the JSON header is not a valid format v1 header: it is not valid JSON"))
    }

    @Test func anUnknownDtypeAsksTheUserToUpgrade() {
        let file = handBuiltLowBitFile(json: "{\"tensors\":[\(entryJSON("a", dtype: "q4", shape: [2], offset: 0, byteCount: 1, crc32: 0))]}",
                                       data: [0])
        let error = lowBitError { _ = try LowBitArchive(decoding: file, source: "m") }
        guard case let .unsupported(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.hasPrefix("m: tensor 'a' has dtype 'q4', which this build does not know"))
    }
}
