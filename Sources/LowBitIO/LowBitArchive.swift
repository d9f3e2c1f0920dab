import LowBitTensor

/// A `.lowbit` file in memory: the model architecture, free-form metadata, and named tensors.
///
/// This is what `lowbit train` writes and the runtime loads. ``write(to:)`` replaces the file
/// atomically; ``read(from:)`` validates everything (magic, version, checksums, bounds, overlaps)
/// before handing out a single tensor, so a damaged file fails with a message naming the damage.
/// docs/FORMAT.md specifies the bytes.
///
/// ```swift
/// var archive = LowBitArchive(spec: spec, metadata: ["metrics": ["accuracy": 0.91]])
/// try archive.add(StoredTensor(name: "fc1.weight", tensor: weight))
/// try archive.write(to: "model.lowbit")
///
/// let loaded = try LowBitArchive.read(from: "model.lowbit")
/// let weight = try loaded.tensor(named: "fc1.weight").floatTensor()
/// ```
public struct LowBitArchive: FileFormat, Sendable, Equatable {
    /// The format major version this build writes and reads.
    public static let formatVersion = Int(LowBitFileLayout.majorVersion)

    /// The architecture, or `nil` for a bag of tensors (calibration data, exported activations).
    public var spec: ModelSpec?
    /// Training configuration, metrics, normalization, precision policy: anything JSON.
    public var metadata: [String: JSONValue]
    /// The tensors in file order; names are unique.
    public private(set) var tensors: [StoredTensor]

    /// An archive without tensors; add them with ``add(_:)``.
    public init(spec: ModelSpec? = nil, metadata: [String: JSONValue] = [:]) {
        self.spec = spec
        self.metadata = metadata
        self.tensors = []
    }

    /// An archive holding `tensors` in this order; throws when two share a name.
    public init(spec: ModelSpec? = nil, metadata: [String: JSONValue] = [:], tensors: [StoredTensor]) throws {
        if let duplicate = tensors.firstDuplicateName {
            throw LowBitError.invalidArgument("two tensors are named '\(duplicate)'; tensor names must be unique")
        }
        self.spec = spec
        self.metadata = metadata
        self.tensors = tensors
    }

    /// Appends `tensor`; throws ``LowBitTensor/LowBitError/invalidArgument(_:)`` if its name is taken.
    public mutating func add(_ tensor: StoredTensor) throws {
        if tensors.contains(where: { $0.name == tensor.name }) {
            throw LowBitError.invalidArgument("the archive already has a tensor named '\(tensor.name)'")
        }
        tensors.append(tensor)
    }

    /// The tensor called `name`; the error lists the names the archive does have.
    public func tensor(named name: String) throws -> StoredTensor {
        try tensors.tensor(named: name, in: "the archive")
    }
}
