import Foundation
import LowBitTensor

/// A safetensors file (Hugging Face's tensor format) in memory: named tensors and an optional
/// string-to-string `__metadata__` map.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}`), then the
/// data, where offsets are relative to the end of the header and tensors cover the data exactly,
/// without gaps or overlaps. Reading checks all of that.
///
/// Dtypes: F32, F16, I8, U8, I16, I32, U32 and U64 are read and written as the matching
/// ``TensorDType``; BF16 is read and converted to `f32` (exactly: a bfloat16 is the top half of a
/// float). Reading returns tensors in data order. Writing orders tensors by element size, largest
/// first, then by name (the order of the reference implementation, which keeps every tensor
/// naturally aligned), and pads the header with spaces to a multiple of 8 bytes.
///
/// ```swift
/// let file = try SafetensorsFile.read(from: "model.safetensors")
/// let embedding = try file.tensor(named: "embed.weight").floatTensor()
///
/// let out = try SafetensorsFile(tensors: [StoredTensor(name: "w", tensor: w)], metadata: ["format": "pt"])
/// try out.write(to: "w.safetensors")
/// ```
public struct SafetensorsFile: FileFormat, Sendable, Equatable {
    /// The `__metadata__` map (empty when the file has none).
    public var metadata: [String: String]
    /// The tensors, in data order after reading, in the order given before writing.
    public private(set) var tensors: [StoredTensor]

    /// Throws when two tensors share a name or one is named `__metadata__`.
    public init(tensors: [StoredTensor], metadata: [String: String] = [:]) throws {
        if let duplicate = tensors.firstDuplicateName {
            throw LowBitError.invalidArgument("two tensors are named '\(duplicate)'; tensor names must be unique")
        }
        if tensors.contains(where: { $0.name == SafetensorsHeader.metadataKey }) {
            throw LowBitError.invalidArgument("'\(SafetensorsHeader.metadataKey)' is reserved and cannot name a tensor")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`; the error lists the names the file does have.
    public func tensor(named name: String) throws -> StoredTensor {
        try tensors.tensor(named: name, in: "the safetensors file")
    }

    /// Parses and validates a complete safetensors file held in memory; `source` names it in errors.
    public init(decoding bytes: [UInt8], source: String) throws {
        func corrupt(_ reason: String) -> LowBitError { .corruptFile(path: source, reason: reason) }
        guard bytes.count >= 8 else {
            throw corrupt("not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let declaredLength = LittleEndian.read(UInt64.self, from: bytes, at: 0)
        guard declaredLength <= UInt64(bytes.count - 8) else {
            throw corrupt("not a safetensors file, or truncated: the header claims \(declaredLength) bytes but only "
                + "\(bytes.count - 8) follow")
        }
        let dataStart = 8 + Int(declaredLength)
        let header: SafetensorsHeader
        do {
            header = try JSONDecoder().decode(SafetensorsHeader.self, from: Data(bytes[8..<dataStart]))
        } catch {
            throw corrupt("the safetensors header is invalid: \(CodingErrorMessages.describe(error))")
        }
        let placed = try header.entries.map { name, entry in
            try Self.place(name: name, entry: entry, dataByteCount: bytes.count - dataStart, source: source)
        }.sorted { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        try Self.checkCoverage(placed, dataByteCount: bytes.count - dataStart, corrupt: corrupt)
        let tensors = placed.map { tensor in
            let data = bytes[(dataStart + tensor.range.lowerBound)..<(dataStart + tensor.range.upperBound)]
            guard let dtype = tensor.dtype else {
                let floats = LittleEndian.values(UInt16.self, from: data).map(HalfPrecision.float(fromBFloat16Bits:))
                return StoredTensor(validatedName: tensor.name, dtype: .f32, shape: tensor.shape,
                                    bytes: LittleEndian.bytes(of: floats.map(\.bitPattern)))
            }
            return StoredTensor(validatedName: tensor.name, dtype: dtype, shape: tensor.shape, bytes: Array(data))
        }
        try self.init(tensors: tensors, metadata: header.metadata ?? [:])
    }

    /// A header entry after validation; `dtype == nil` means BF16 (converted on read).
    private struct PlacedTensor {
        var name: String
        var dtype: TensorDType?
        var shape: [Int]
        /// Relative to the data start.
        var range: Range<Int>
    }

    private static func place(name: String, entry: SafetensorsHeader.Entry, dataByteCount: Int,
                              source: String) throws -> PlacedTensor {
        func corrupt(_ reason: String) -> LowBitError { .corruptFile(path: source, reason: reason) }
        let dtype = TensorDType(safetensorsName: entry.dtype)
        guard dtype != nil || entry.dtype == "BF16" else {
            let known = TensorDType.allCases.map(\.safetensorsName) + ["BF16"]
            throw LowBitError.unsupported(
                "\(source): tensor '\(name)' has safetensors dtype \(entry.dtype); LowBit reads \(known.joined(separator: ", "))")
        }
        let elementByteCount = dtype?.elementByteCount ?? 2  // BF16
        guard entry.dataOffsets.count == 2 else {
            throw corrupt("tensor '\(name)' has \(entry.dataOffsets.count) data_offsets, expected [begin, end]")
        }
        let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
        guard begin >= 0, begin <= end, end <= dataByteCount else {
            throw corrupt("tensor '\(name)' has data_offsets [\(begin), \(end)] outside the \(dataByteCount) data "
                + "bytes: the file is truncated or corrupt")
        }
        guard let expected = StoredTensor.byteCount(shape: entry.shape, elementByteCount: elementByteCount) else {
            throw corrupt("tensor '\(name)' has an impossible shape \(entry.shape)")
        }
        guard expected == end - begin else {
            throw corrupt("tensor '\(name)': shape \(entry.shape) of \(entry.dtype) needs \(expected) bytes but "
                + "data_offsets span \(end - begin)")
        }
        return PlacedTensor(name: name, dtype: dtype, shape: entry.shape, range: begin..<end)
    }

    /// Safetensors requires the tensors to cover the data exactly: sorted by offset, each starts
    /// where the previous one ended, and the last ends at the end of the file.
    private static func checkCoverage(_ placed: [PlacedTensor], dataByteCount: Int,
                                      corrupt: (String) -> LowBitError) throws {
        var cursor = 0
        var previous: PlacedTensor?
        for tensor in placed {
            if tensor.range.lowerBound < cursor, let previous {
                throw corrupt("tensors '\(previous.name)' (data bytes \(previous.range)) and '\(tensor.name)' "
                    + "(data bytes \(tensor.range)) overlap")
            }
            if tensor.range.lowerBound > cursor {
                throw corrupt("data bytes \(cursor)..<\(tensor.range.lowerBound) belong to no tensor "
                    + "(tensors must be contiguous)")
            }
            cursor = tensor.range.upperBound
            previous = tensor
        }
        guard cursor == dataByteCount else {
            throw corrupt("the last \(dataByteCount - cursor) bytes belong to no tensor")
        }
    }

    /// The complete file as bytes; tensors in (element size descending, name) order.
    public func encoded() throws -> [UInt8] {
        let ordered = tensors.sorted {
            ($1.dtype.elementByteCount, $0.name) < ($0.dtype.elementByteCount, $1.name)
        }
        var entries: [String: SafetensorsHeader.Entry] = [:]
        var offset = 0
        for tensor in ordered {
            entries[tensor.name] = SafetensorsHeader.Entry(
                dtype: tensor.dtype.safetensorsName, shape: tensor.shape,
                dataOffsets: [offset, offset + tensor.bytes.count])
            offset += tensor.bytes.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json: [UInt8]
        do {
            json = Array(try encoder.encode(SafetensorsHeader(metadata: metadata.isEmpty ? nil : metadata,
                                                              entries: entries)))
        } catch {
            throw LowBitError.invalidArgument("cannot write the safetensors header: \(CodingErrorMessages.describe(error))")
        }
        // Spaces are valid trailing JSON whitespace; they make the data start 8-byte aligned.
        json += repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        var file: [UInt8] = []
        file.reserveCapacity(8 + json.count + offset)
        LittleEndian.append(UInt64(json.count), to: &file)
        file += json
        for tensor in ordered { file += tensor.bytes }
        return file
    }
}

/// The JSON header: one member per tensor plus the optional `__metadata__`, so it needs dynamic
/// keys instead of a synthesized `Codable`.
struct SafetensorsHeader: Codable {
    static let metadataKey = "__metadata__"

    var metadata: [String: String]?
    var entries: [String: Entry]

    struct Entry: Codable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(metadata: [String: String]?, entries: [String: Entry]) {
        self.metadata = metadata
        self.entries = entries
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var entries: [String: Entry] = [:]
        for key in container.allKeys where key.stringValue != Self.metadataKey {
            entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
        }
        self.entries = entries
        self.metadata = try container.decodeIfPresent([String: String].self, forKey: Key(stringValue: Self.metadataKey))
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(metadata, forKey: Key(stringValue: Self.metadataKey))
        for (name, entry) in entries {
            try container.encode(entry, forKey: Key(stringValue: name))
        }
    }
}
