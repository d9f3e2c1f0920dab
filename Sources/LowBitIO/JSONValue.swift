/// Any JSON value: the free-form metadata a `.lowbit` file carries next to its tensors (training
/// configuration, metrics, normalization constants, precision policy).
///
/// Numbers are `Double`, as in JavaScript: integers are exact up to 2^53, so store larger ones
/// (seeds, hashes) as strings. NaN and infinity have no JSON spelling; encoding them fails.
/// Literals build values directly, and the accessors return `nil` when the value is of another
/// kind, so reading nested metadata is one optional chain.
///
/// ```swift
/// let metadata: [String: JSONValue] = [
///     "epochs": 30,
///     "metrics": ["accuracy": 0.912, "loss": 0.27],
///     "normalization": ["mean": [0.286], "std": [0.353]],
///     "dataset": "fashion-mnist",
/// ]
/// metadata["metrics"]?["accuracy"]?.double        // 0.912
/// metadata["epochs"]?.int                         // 30
/// metadata["normalization"]?["mean"]?[0]?.double  // 0.286
/// ```
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var isNull: Bool { self == .null }

    public var bool: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var double: Double? {
        if case let .number(value) = self { return value }
        return nil
    }

    /// The number as an `Int` when it is integral and in range (`3.0` yes, `3.5` no).
    public var int: Int? {
        guard case let .number(value) = self else { return nil }
        return Int(exactly: value)
    }

    public var string: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case let .object(value) = self { return value }
        return nil
    }

    /// The member `key` of an object; `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        object?[key]
    }

    /// The element at `index` of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard let elements = array, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Bool before Double: some decoders would read `true` as 1.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
