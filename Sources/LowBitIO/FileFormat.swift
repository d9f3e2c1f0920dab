/// A value that is the whole content of one file: it decodes from the file's bytes and encodes
/// back to them. The protocol adds ``read(from:)`` and ``write(to:)``, so every format gets the
/// same file handling: whole-file reads and atomic writes through ``FileAccess``.
///
/// ``LowBitArchive``, ``SafetensorsFile`` and ``NumPyArray`` conform.
///
/// ```swift
/// let archive = try LowBitArchive.read(from: "model.lowbit")
/// try NumPyArray(output).write(to: "y.npy")
/// ```
public protocol FileFormat {
    /// Parses and validates a complete file held in memory; `source` (a path, or a description
    /// such as "app bundle model") names it in error messages.
    init(decoding bytes: [UInt8], source: String) throws

    /// The complete file as bytes.
    func encoded() throws -> [UInt8]
}

extension FileFormat {
    /// Reads and validates the file at `path`.
    public static func read(from path: String) throws -> Self {
        try Self(decoding: FileAccess.readAll(path), source: path)
    }

    /// Writes the file atomically: `path` ends up holding either its old content or the complete
    /// new file. Encoding errors (NaN in JSON metadata, for one) are thrown before the disk is touched.
    public func write(to path: String) throws {
        try FileAccess.writeAtomically(encoded(), to: path)
    }
}
