import CZlib
import Foundation
import LowBitTensor
import Testing

/// A fresh directory under the system temporary directory, deleted when the test releases it.
final class TemporaryDirectory {
    let path: String

    init() {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("lowbit-data-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `bytes` to `name` (gzip-compressed through zlib when `gzip`) and returns the path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String, gzip: Bool = false) -> String {
        let path = file(name)
        try! FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if gzip {
            let handle = gzopen(path, "wb")!
            let written = bytes.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) }
            precondition(Int(written) == bytes.count && gzclose(handle) == Z_OK, "gzip write failed")
        } else {
            precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
        }
        return path
    }

    @discardableResult
    func write(_ text: String, to name: String, gzip: Bool = false) -> String {
        write(Array(text.utf8), to: name, gzip: gzip)
    }
}

/// An IDX file built by hand from the format description: 0, 0, type, rank, big-endian sizes, payload.
func idxFile(type: UInt8, shape: [UInt32], payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for size in shape { bytes += bigEndianBytes(size) }
    return bytes + payload
}

func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// The `corruptFile` error that `body` throws; records an issue when it throws anything else or nothing.
func corruptFileError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any
) -> (path: String, reason: String)? {
    do {
        _ = try body()
        Issue.record("expected a corruptFile error, nothing was thrown", sourceLocation: sourceLocation)
    } catch let LowBitError.corruptFile(path, reason) {
        return (path, reason)
    } catch {
        Issue.record("expected a corruptFile error, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The description of the error `body` throws; records an issue when nothing is thrown.
func errorDescription(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) -> String {
    do {
        _ = try body()
        Issue.record("expected an error, nothing was thrown", sourceLocation: sourceLocation)
        return ""
    } catch {
        return "\(error)"
    }
}
