/// Which part of a dataset to load.
///
/// ```swift
/// let test = try DatasetSpec(parsing: "mnist").load(.test)
/// ```
public enum DatasetSplit: String, Sendable, CaseIterable, CustomStringConvertible {
    case train
    case test

    public var description: String { rawValue }
}
