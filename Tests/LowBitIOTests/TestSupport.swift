import Foundation
import LowBitIO
import LowBitTensor
import Testing

/// A fresh directory under the system temporary directory; tests remove it with `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("lowbit-io-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Everything in the directory, hidden files included (temporary files start with a dot).
    func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The path of a fixture written by NumPy / safetensors (see Fixtures/make_fixtures.py).
func fixturePath(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// The `LowBitError` that `body` throws, or `nil` (recorded as an issue) if it throws something
/// else or nothing.
func lowBitError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> LowBitError? {
    do {
        try body()
        Issue.record("expected a LowBitError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as LowBitError {
        return error
    } catch {
        Issue.record("expected a LowBitError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The reason of the `corruptFile` error `body` throws; "" (and a recorded issue) otherwise.
func corruptReason(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    let error = lowBitError(sourceLocation: sourceLocation, body)
    guard case let .corruptFile(_, reason)? = error else {
        if let error { Issue.record("expected corruptFile, got \(error)", sourceLocation: sourceLocation) }
        return ""
    }
    return reason
}

/// Little-endian bytes of an integer, written independently of the module's own helpers.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}

/// A `.lowbit` file built byte by byte from the layout in docs/FORMAT.md, independently of the
/// writer, so tests can express headers the writer would never produce.
func handBuiltLowBitFile(json: String, data: [UInt8] = [], major: UInt16 = 1, minor: UInt16 = 0,
                         flags: UInt32 = 0) -> [UInt8] {
    let header = Array(json.utf8)
    var file: [UInt8] = [0x89, 0x4C, 0x4F, 0x57, 0x42, 0x49, 0x54, 0x0A]
    file += littleEndianBytes(major) + littleEndianBytes(minor) + littleEndianBytes(flags)
    file += littleEndianBytes(UInt64(header.count))
    file += littleEndianBytes(CRC32.checksum(file + header)) + [0, 0, 0, 0] + header
    file += [UInt8](repeating: 0, count: (64 - file.count % 64) % 64)
    return file + data
}

/// A JSON tensor entry for ``handBuiltLowBitFile(json:data:major:minor:flags:)``.
func entryJSON(_ name: String, dtype: String = "f32", shape: [Int], offset: Int, byteCount: Int,
               crc32: UInt32) -> String {
    "{\"name\":\"\(name)\",\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"offset\":\(offset),"
        + "\"byteCount\":\(byteCount),\"crc32\":\(crc32)}"
}
