/// One-line, user-facing descriptions of `Codable` errors, for the messages of
/// `LowBitError.corruptFile` and `.invalidArgument`. The default descriptions of `DecodingError`
/// are multi-line dumps of coding paths; these name the field (`tensors[2].shape`) and the problem.
enum CodingErrorMessages {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context):
            return context.codingPath.isEmpty
                ? "it is not valid JSON (\(context.debugDescription))"
                : "\(field(context.codingPath)): \(context.debugDescription)"
        case let DecodingError.keyNotFound(key, context):
            return "\(field(context.codingPath + [key])) is missing"
        case let DecodingError.typeMismatch(type, context):
            return "\(field(context.codingPath)) is not \(typeName(type))"
        case let DecodingError.valueNotFound(type, context):
            return "\(field(context.codingPath)) is null, expected \(typeName(type))"
        case let EncodingError.invalidValue(value, context):
            return "\(field(context.codingPath)) = \(value) cannot be written as JSON "
                + "(JSON has no NaN or infinity)"
        default:
            return String(describing: error)
        }
    }

    /// `tensors[2].shape` from a coding path.
    private static func field(_ path: [any CodingKey]) -> String {
        if path.isEmpty { return "the top level" }
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return "'\(text)'"
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is UInt32.Type, is UInt64.Type, is Double.Type, is Float.Type: return "a number of the right kind"
        case is Bool.Type: return "a boolean"
        default: return "of type \(type)"
        }
    }
}
