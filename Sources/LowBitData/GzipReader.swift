import CZlib
import Foundation
import LowBitTensor

/// Reads a whole file that may be gzip-compressed or raw, and tells the two apart by content,
/// not by name (zlib's `gzread` passes non-gzip bytes through unchanged).
///
/// The buffer grows as bytes actually arrive; nothing is sized from what a file *claims* to hold.
/// A header in a 100-byte file that promises 2^31 images therefore costs 100 bytes of memory, and
/// the format reader that looks at the bytes afterwards reports the lie.
///
/// ```swift
/// let bytes = try GzipReader.readAll("data/mnist/t10k-labels-idx1-ubyte.gz")
/// print(bytes.count)   // 10008: the decompressed IDX file
/// ```
public enum GzipReader {
    /// The default ceiling on decompressed bytes. A deflate stream can expand about 1000x, so a small
    /// hostile file could otherwise fill memory; real datasets here are far below this (CIFAR-10
    /// train is 154 MB, MNIST train images 47 MB).
    public static let defaultMaximumByteCount = 8 << 30

    /// The decompressed (or raw) contents of `path`.
    ///
    /// - Throws: ``LowBitError/io(path:reason:)`` when the file cannot be opened or read;
    ///   ``LowBitError/corruptFile(path:reason:)`` when a gzip stream is truncated or damaged, or
    ///   when the contents exceed `maximumByteCount`.
    public static func readAll(_ path: String, maximumByteCount: Int = defaultMaximumByteCount) throws -> [UInt8] {
        let onDiskByteCount = try regularFileSize(path)
        guard let file = gzopen(path, "rb") else {
            throw LowBitError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose_r(file) }
        // A larger zlib input buffer than the 8 KiB default cuts the read() calls on big files.
        gzbuffer(file, 256 << 10)

        var bytes: [UInt8] = []
        // The on-disk size is exact for raw files and a safe first guess for gzip ones; `append`
        // doubles the capacity from there as decompressed bytes arrive.
        bytes.reserveCapacity(min(onDiskByteCount, maximumByteCount))
        let chunkByteCount = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkByteCount)
        while true {
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunkByteCount)) }
            if got < 0 { throw streamError(file, path: path) }
            if got == 0 { break }
            if bytes.count + Int(got) > maximumByteCount {
                throw LowBitError.corruptFile(
                    path: path,
                    reason: "decompresses to more than \(maximumByteCount) bytes; not a dataset file this reader accepts")
            }
            chunk.withUnsafeBufferPointer { bytes.append(contentsOf: $0.prefix(Int(got))) }
        }
        // gzread returns the bytes it managed to inflate and reports a stream that stops early only
        // through gzerror (Z_BUF_ERROR): without this check a truncated .gz reads as a short file.
        var code: Int32 = Z_OK
        _ = gzerror(file, &code)
        if code == Z_BUF_ERROR {
            throw LowBitError.corruptFile(
                path: path,
                reason: "gzip stream ends early after \(bytes.count) decompressed bytes (the file is truncated; download it again)")
        }
        if code != Z_OK { throw streamError(file, path: path) }
        return bytes
    }

    /// `path` if it exists, else `path.gz` if that exists, else `nil`. Dataset directories hold
    /// either form (MNIST mirrors ship `.gz`, many tutorials unpack them).
    public static func existingPath(_ path: String) -> String? {
        [path, path + ".gz"].first { FileManager.default.fileExists(atPath: $0) }
    }

    private static func regularFileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw LowBitError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw LowBitError.io(path: path, reason: "is a directory, expected a file")
        }
        return Int(info.st_size)
    }

    private static func streamError(_ file: gzFile, path: String) -> LowBitError {
        var code: Int32 = Z_OK
        let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown zlib error"
        if code == Z_ERRNO {
            return LowBitError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
        }
        return LowBitError.corruptFile(path: path, reason: "damaged gzip stream (\(message)); download the file again")
    }
}
