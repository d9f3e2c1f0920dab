/// Every error LowBit throws. Messages say what went wrong and what to do about it; the CLI prints
/// `description` on one line and exits non-zero.
public enum LowBitError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be read or written (missing, permission, I/O).
    case io(path: String, reason: String)
    /// A file exists but its contents are not what its format promises (magic, sizes, checksum).
    case corruptFile(path: String, reason: String)
    /// Two shapes that must agree do not.
    case shapeMismatch(String)
    /// An argument is outside what the operation accepts (bit width 0, negative rate, ...).
    case invalidArgument(String)
    /// A value that must be finite is NaN or infinite.
    case nonFinite(String)
    /// A layer, scheme, preset or format version this build does not know.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .corruptFile(path, reason): return "\(path): \(reason)"
        case let .shapeMismatch(message): return "shape mismatch: \(message)"
        case let .invalidArgument(message): return "invalid argument: \(message)"
        case let .nonFinite(message): return "non-finite value: \(message)"
        case let .unsupported(message): return "unsupported: \(message)"
        }
    }
}
