import Foundation
import LowBitTensor

extension JSONValue {
    /// The JSON form of any `Encodable` value (how typed records enter `.lowbit` metadata).
    ///
    /// ```swift
    /// let value = try JSONValue(encoding: ["accuracy": 0.98])
    /// ```
    public init<T: Encodable>(encoding value: T) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Decodes a typed record from this JSON value; `what` names it in the error.
    public func decode<T: Decodable>(_ type: T.Type, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(self))
        } catch {
            throw LowBitError.unsupported("\(what) in the model metadata is not a valid \(T.self): \(error)")
        }
    }
}
