import Foundation
import LowBitTensor

extension LowBitArchive {
    /// The complete file as bytes (see ``LowBitFileLayout``). Deterministic: the same archive gives
    /// the same bytes, since JSON keys are sorted and padding is zero.
    ///
    /// ```swift
    /// let bytes = try archive.encoded()        // embed in an app, send over a socket, ...
    /// let same = try LowBitArchive(decoding: bytes, source: "in-memory model")
    /// ```
    public func encoded() throws -> [UInt8] {
        // Tensors go in order, each at the next multiple of the alignment.
        var entries: [LowBitHeader.Entry] = []
        var dataByteCount = 0
        for tensor in tensors {
            let offset = LowBitFileLayout.alignUp(dataByteCount)
            entries.append(LowBitHeader.Entry(
                name: tensor.name, dtype: tensor.dtype.rawValue, shape: tensor.shape,
                offset: offset, byteCount: tensor.bytes.count, crc32: CRC32.checksum(tensor.bytes)))
            dataByteCount = offset + tensor.bytes.count
        }
        let json = try Self.encodeHeader(LowBitHeader(spec: spec, metadata: metadata, tensors: entries))

        var file: [UInt8] = []
        let dataStart = LowBitFileLayout.alignUp(LowBitFileLayout.fixedHeaderByteCount + json.count)
        file.reserveCapacity(dataStart + dataByteCount)
        file += LowBitFileLayout.magic
        LittleEndian.append(LowBitFileLayout.majorVersion, to: &file)
        LittleEndian.append(LowBitFileLayout.minorVersion, to: &file)
        LittleEndian.append(UInt32(0), to: &file)  // flags: none defined in v1
        LittleEndian.append(UInt64(json.count), to: &file)
        var headerChecksum = CRC32()
        headerChecksum.update(file[0..<LowBitFileLayout.checksummedPrefixByteCount])
        headerChecksum.update(json)
        LittleEndian.append(headerChecksum.value, to: &file)
        LittleEndian.append(UInt32(0), to: &file)  // reserved
        file += json
        for (tensor, entry) in zip(tensors, entries) {
            file += repeatElement(0, count: dataStart + entry.offset - file.count)
            file += tensor.bytes
        }
        // An archive without tensors still ends at the data start, so D <= file size always holds.
        file += repeatElement(0, count: max(0, dataStart - file.count))
        return file
    }

    private static func encodeHeader(_ header: LowBitHeader) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(header))
        } catch {
            throw LowBitError.invalidArgument(
                "cannot write the .lowbit header: \(CodingErrorMessages.describe(error))")
        }
    }
}
