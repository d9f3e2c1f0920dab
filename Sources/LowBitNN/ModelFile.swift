import LowBitIO
import LowBitTensor

extension Model {
    /// The `.lowbit` archive of this model: its spec, every parameter and buffer as float32, and
    /// `metadata` (training config, metrics, normalization, precision policy).
    public func archive(metadata: [String: JSONValue] = [:]) throws -> LowBitArchive {
        var archive = LowBitArchive(spec: spec, metadata: metadata)
        for (name, tensor) in namedTensors {
            try tensor.checkFinite(name)
            try archive.add(StoredTensor(name: name, tensor: tensor))
        }
        return archive
    }

    /// Writes the model atomically (temporary file + rename) to `path`.
    ///
    /// ```swift
    /// try model.save(to: "mlp.lowbit", metadata: ["dataset": "mnist"])
    /// let (loaded, metadata) = try Model.load(from: "mlp.lowbit")
    /// ```
    public func save(to path: String, metadata: [String: JSONValue] = [:]) throws {
        try archive(metadata: metadata).write(to: path)
    }

    /// Builds the model an archive describes and loads its tensors.
    public convenience init(archive: LowBitArchive, source: String) throws {
        guard let spec = archive.spec else {
            throw LowBitError.corruptFile(path: source, reason: "the file holds no model architecture (spec)")
        }
        var rng = SeededGenerator(seed: 0)
        try self.init(spec: spec, rng: &rng)
        var tensors: [String: Tensor] = [:]
        for (name, _) in namedTensors {
            tensors[name] = try archive.tensor(named: name).floatTensor()
        }
        try load(tensors)
    }

    /// Reads a `.lowbit` model and its metadata.
    public static func load(from path: String) throws -> (model: Model, metadata: [String: JSONValue]) {
        let archive = try LowBitArchive.read(from: path)
        return (try Model(archive: archive, source: path), archive.metadata)
    }
}
