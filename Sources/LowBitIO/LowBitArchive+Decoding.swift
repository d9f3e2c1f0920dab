import Foundation
import LowBitTensor

extension LowBitArchive {
    /// Parses and validates a complete `.lowbit` file held in memory; `source` (a path, or a
    /// description such as "app bundle model") names it in error messages.
    ///
    /// Every size the file claims is checked against `bytes.count` before it is used, so a damaged
    /// or hostile file produces a ``LowBitTensor/LowBitError`` and never a crash or a huge
    /// allocation. A file from a newer major version is refused with
    /// ``LowBitTensor/LowBitError/unsupported(_:)`` asking the user to upgrade.
    ///
    /// ```swift
    /// let archive = try LowBitArchive(decoding: bytes, source: "model.lowbit")
    /// ```
    public init(decoding bytes: [UInt8], source: String) throws {
        let header = try Self.decodeHeader(bytes, source: source)
        let dataStart = LowBitFileLayout.alignUp(LowBitFileLayout.fixedHeaderByteCount + header.json.count)
        let placed = try Self.placeTensors(header.value.tensors, dataStart: dataStart, fileByteCount: bytes.count,
                                           source: source)
        var tensors: [StoredTensor] = []
        tensors.reserveCapacity(placed.count)
        for tensor in placed {
            let data = bytes[tensor.range]
            let computed = CRC32.checksum(data)
            guard computed == tensor.entry.crc32 else {
                throw LowBitError.corruptFile(path: source, reason:
                    "tensor '\(tensor.entry.name)' fails its checksum (stored \(hex(tensor.entry.crc32)), "
                        + "computed \(hex(computed))): its data is corrupt; re-export or re-download the file")
            }
            tensors.append(StoredTensor(validatedName: tensor.entry.name, dtype: tensor.dtype,
                                        shape: tensor.entry.shape, bytes: Array(data)))
        }
        try self.init(spec: header.value.spec, metadata: header.value.metadata ?? [:], tensors: tensors)
    }

    /// Checks the fixed header (magic, version, flags, header length, checksum) and decodes the
    /// JSON header. The order matters: version before checksum, because a newer format may
    /// checksum differently and its users deserve "upgrade", not "corrupt".
    private static func decodeHeader(_ bytes: [UInt8], source: String) throws
        -> (value: LowBitHeader, json: ArraySlice<UInt8>) {
        let fixedSize = LowBitFileLayout.fixedHeaderByteCount
        guard bytes.count >= LowBitFileLayout.magic.count,
              bytes[0..<LowBitFileLayout.magic.count].elementsEqual(LowBitFileLayout.magic) else {
            throw LowBitError.corruptFile(path: source, reason:
                "not a .lowbit file (its first bytes are not the .lowbit magic \"\\x89LOWBIT\\n\")")
        }
        guard bytes.count >= fixedSize else {
            throw LowBitError.corruptFile(path: source, reason:
                "truncated: \(bytes.count) bytes, shorter than the \(fixedSize)-byte fixed header")
        }
        let major = LittleEndian.read(UInt16.self, from: bytes, at: 8)
        guard major <= LowBitFileLayout.majorVersion else {
            throw LowBitError.unsupported(
                "\(source) was written by a newer LowBit (format v\(major)); this build reads "
                    + "v\(LowBitFileLayout.majorVersion) — upgrade LowBit")
        }
        guard major >= 1 else {
            throw LowBitError.corruptFile(path: source, reason: "format version 0 does not exist: the header is corrupt")
        }
        let flags = LittleEndian.read(UInt32.self, from: bytes, at: 12)
        let unknownRequired = flags & LowBitFileLayout.requiredFlagsMask
        guard unknownRequired == 0 else {
            throw LowBitError.unsupported(
                "\(source) uses features this build does not know (required flags \(hex(unknownRequired))) — upgrade LowBit")
        }
        let declaredLength = LittleEndian.read(UInt64.self, from: bytes, at: 16)
        guard declaredLength <= UInt64(bytes.count - fixedSize) else {
            throw LowBitError.corruptFile(path: source, reason:
                "truncated or corrupt: the header claims \(declaredLength) bytes but only "
                    + "\(bytes.count - fixedSize) follow the fixed header")
        }
        let json = bytes[fixedSize..<(fixedSize + Int(declaredLength))]
        var checksum = CRC32()
        checksum.update(bytes[0..<LowBitFileLayout.checksummedPrefixByteCount])
        checksum.update(json)
        let stored = LittleEndian.read(UInt32.self, from: bytes, at: LowBitFileLayout.checksummedPrefixByteCount)
        guard checksum.value == stored else {
            throw LowBitError.corruptFile(path: source, reason:
                "the header fails its checksum (stored \(hex(stored)), computed \(hex(checksum.value))): "
                    + "the file is corrupt; re-export or re-download it")
        }
        do {
            return (try JSONDecoder().decode(LowBitHeader.self, from: Data(json)), json)
        } catch {
            throw LowBitError.corruptFile(path: source, reason:
                "the JSON header is not a valid format v1 header: \(CodingErrorMessages.describe(error))")
        }
    }

    /// A header entry whose dtype, shape, size and byte range have been validated.
    private struct PlacedTensor {
        var entry: LowBitHeader.Entry
        var dtype: TensorDType
        /// Absolute byte range in the file.
        var range: Range<Int>
    }

    /// Validates every entry against the file before any tensor bytes are copied: unique names,
    /// known dtypes, shape * element size == byteCount, aligned offsets, ranges inside the file
    /// and no two ranges overlapping.
    private static func placeTensors(_ entries: [LowBitHeader.Entry], dataStart: Int, fileByteCount: Int,
                                     source: String) throws -> [PlacedTensor] {
        func corrupt(_ reason: String) -> LowBitError { .corruptFile(path: source, reason: reason) }
        var names = Set<String>()
        var placed: [PlacedTensor] = []
        for entry in entries {
            let name = entry.name
            guard !name.isEmpty else { throw corrupt("a tensor has an empty name") }
            guard names.insert(name).inserted else { throw corrupt("two tensors are named '\(name)'") }
            guard let dtype = TensorDType(rawValue: entry.dtype) else {
                throw LowBitError.unsupported(
                    "\(source): tensor '\(name)' has dtype '\(entry.dtype)', which this build does not know "
                        + "(it knows \(TensorDType.allCases.map(\.rawValue).joined(separator: ", "))) — upgrade LowBit")
            }
            guard let expected = StoredTensor.byteCount(shape: entry.shape, elementByteCount: dtype.elementByteCount) else {
                throw corrupt("tensor '\(name)' has an impossible shape \(entry.shape)")
            }
            guard expected == entry.byteCount else {
                throw corrupt("tensor '\(name)': shape \(entry.shape) of \(dtype.rawValue) needs \(expected) "
                    + "bytes but the header says \(entry.byteCount)")
            }
            guard entry.offset >= 0, entry.offset % LowBitFileLayout.alignment == 0 else {
                throw corrupt("tensor '\(name)' has data offset \(entry.offset), which is not a non-negative "
                    + "multiple of \(LowBitFileLayout.alignment)")
            }
            // No overflow: offset and byteCount are now known to be small enough (byteCount was
            // computed from the shape without overflow, offset is compared before adding).
            guard entry.offset <= fileByteCount - dataStart,
                  entry.byteCount <= fileByteCount - dataStart - entry.offset else {
                throw corrupt("tensor '\(name)' (\(entry.byteCount) bytes at data offset \(entry.offset)) extends "
                    + "past the end of the \(fileByteCount)-byte file: the file is truncated")
            }
            let start = dataStart + entry.offset
            placed.append(PlacedTensor(entry: entry, dtype: dtype, range: start..<(start + entry.byteCount)))
        }
        try checkNoOverlap(placed, dataStart: dataStart, corrupt: corrupt)
        return placed
    }

    private static func checkNoOverlap(_ placed: [PlacedTensor], dataStart: Int,
                                       corrupt: (String) -> LowBitError) throws {
        let byStart = placed.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (previous, next) in zip(byStart, byStart.dropFirst()) where previous.range.overlaps(next.range) {
            func describe(_ tensor: PlacedTensor) -> String {
                "'\(tensor.entry.name)' (data bytes \(tensor.range.lowerBound - dataStart)..<\(tensor.range.upperBound - dataStart))"
            }
            throw corrupt("tensors \(describe(previous)) and \(describe(next)) overlap")
        }
    }
}

/// `0xCBF43926`: how checksums and flags appear in messages and docs.
func hex<T: FixedWidthInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, MemoryLayout<T>.size * 2 - digits.count)) + digits
}
