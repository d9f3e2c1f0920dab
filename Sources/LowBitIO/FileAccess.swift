#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LowBitTensor

/// Whole-file reads and atomic whole-file writes, with `errno` turned into messages.
///
/// Writers build the complete file in memory first, so any encoding error happens before the
/// disk is touched. ``writeAtomically(_:to:)`` then writes a temporary file in the destination's
/// directory, flushes it to disk, and renames it over the destination: a reader (or a crash) sees
/// either the old file or the new one, never a half-written one.
///
/// ```swift
/// try FileAccess.writeAtomically(Array("hello".utf8), to: "/tmp/greeting.txt")
/// let bytes = try FileAccess.readAll("/tmp/greeting.txt")   // 5 bytes
/// ```
public enum FileAccess {
    /// Reads the whole file. Reads (rather than maps) so that a file truncated by someone else while
    /// we use it cannot crash the process with SIGBUS; the buffer size comes from `fstat`, never
    /// from anything the file claims about itself.
    public static func readAll(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError(path, "cannot open for reading") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ioError(path, "cannot stat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw LowBitError.io(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        var failure: LowBitError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            while initialized < size {
                let result = read(descriptor, buffer.baseAddress! + initialized, size - initialized)
                if result < 0 && errno == EINTR { continue }
                if result < 0 {
                    failure = ioError(path, "read failed")
                    return
                }
                if result == 0 {
                    failure = LowBitError.io(path: path, reason: "file shrank while being read; try again")
                    return
                }
                initialized += result
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Replaces (or creates) `path` with exactly `bytes`, atomically. On any failure the
    /// temporary file is removed and an existing file at `path` is left untouched.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let directory = directoryOf(path)
        let fileName = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        // Same directory as the destination so the rename stays on one file system (and is atomic);
        // a dot name so that tools listing models skip it.
        let temporaryPath = directory + "/." + fileName + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        // 0o666 filtered by the umask, like any other file the user creates.
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw ioError(path, "cannot create a temporary file in \(directory)") }
        do {
            try writeFully(bytes, to: descriptor, path: path)
            guard fsync(descriptor) == 0 else { throw ioError(path, "fsync failed") }
            guard close(descriptor) == 0 else { throw ioError(path, "close failed") }
        } catch {
            close(descriptor)
            unlink(temporaryPath)
            throw error
        }
        guard rename(temporaryPath, path) == 0 else {
            let failure = ioError(path, "cannot rename the temporary file over it")
            unlink(temporaryPath)
            throw failure
        }
        syncDirectory(directory)
    }

    private static func writeFully(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { throw ioError(path, "write failed") }
                written += result
            }
        }
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse to fsync a
    /// directory, and the data is already safe in the file either way.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func ioError(_ path: String, _ what: String) -> LowBitError {
        LowBitError.io(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
