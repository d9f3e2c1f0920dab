import LowBitTensor

/// The header of a `.npy` file: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, padded with spaces and ended by
/// a newline (NumPy's `numpy.lib.format` documents it).
///
/// Parsed with a small recursive-descent reader for the Python literals that can occur (strings,
/// integers with an optional Python 2 `L`, `True`/`False`/`None`, tuples, lists, dicts) rather
/// than by pattern matching, so that key order, spacing and trailing commas never matter.
struct NumPyHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// The header text NumPy itself writes, without padding.
    var pythonLiteral: String {
        let dimensions = shape.map(String.init)
        let tuple = dimensions.count == 1 ? "(\(dimensions[0]),)" : "(\(dimensions.joined(separator: ", ")))"
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(tuple), }"
    }

    /// Parses the header text; errors are ``LowBitTensor/LowBitError/corruptFile(path:reason:)``
    /// naming `source`.
    static func parse(_ text: String, source: String) throws -> NumPyHeader {
        var parser = LiteralParser(scalars: Array(text.unicodeScalars))
        func corrupt(_ reason: String) -> LowBitError {
            .corruptFile(path: source, reason: "the .npy header \(reason): \(text.trimmingSuffixWhitespace)")
        }
        guard let value = parser.parseValue(), parser.isAtEndIgnoringWhitespace,
              case let .dict(members) = value else {
            throw corrupt("is not a Python dict literal")
        }
        guard case let .string(descr)? = members["descr"] else { throw corrupt("has no string 'descr'") }
        guard case let .bool(fortranOrder)? = members["fortran_order"] else {
            throw corrupt("has no boolean 'fortran_order'")
        }
        guard case let .sequence(dimensions)? = members["shape"] else { throw corrupt("has no tuple 'shape'") }
        var shape: [Int] = []
        for dimension in dimensions {
            guard case let .integer(size) = dimension, size >= 0 else {
                throw corrupt("has a shape entry that is not a non-negative integer")
            }
            shape.append(size)
        }
        return NumPyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }
}

/// The Python literal values a `.npy` header can hold. `descr` may be a list for structured
/// dtypes; parsing it lets the reader say "unsupported dtype" rather than "unreadable header".
private enum PythonLiteral {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case none
    case sequence([PythonLiteral])
    case dict([String: PythonLiteral])
}

/// Recursive descent over unicode scalars; every method returns `nil` on a syntax error.
private struct LiteralParser {
    let scalars: [Unicode.Scalar]
    var index = 0

    var isAtEndIgnoringWhitespace: Bool {
        mutating get {
            skipWhitespace()
            return index == scalars.count
        }
    }

    mutating func parseValue() -> PythonLiteral? {
        skipWhitespace()
        guard index < scalars.count else { return nil }
        switch scalars[index] {
        case "{": return parseDict()
        case "(": return parseSequence(closing: ")")
        case "[": return parseSequence(closing: "]")
        case "'", "\"": return parseString().map(PythonLiteral.string)
        case "-", "0"..."9": return parseInteger()
        default: return parseKeyword()
        }
    }

    private mutating func parseDict() -> PythonLiteral? {
        index += 1
        var members: [String: PythonLiteral] = [:]
        while true {
            if consume("}") { return .dict(members) }
            guard case let .string(key)? = parseValue(), consume(":"), let value = parseValue() else { return nil }
            members[key] = value
            if consume(",") { continue }
            return consume("}") ? .dict(members) : nil
        }
    }

    private mutating func parseSequence(closing: Unicode.Scalar) -> PythonLiteral? {
        index += 1
        var elements: [PythonLiteral] = []
        while true {
            if consume(closing) { return .sequence(elements) }
            guard let element = parseValue() else { return nil }
            elements.append(element)
            if consume(",") { continue }
            return consume(closing) ? .sequence(elements) : nil
        }
    }

    private mutating func parseString() -> String? {
        let quote = scalars[index]
        index += 1
        var text = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == quote { return String(text) }
            if scalar == "\\" {
                guard index < scalars.count else { return nil }
                text.append(scalars[index])
                index += 1
            } else {
                text.append(scalar)
            }
        }
        return nil
    }

    private mutating func parseInteger() -> PythonLiteral? {
        let negative = consume("-")
        var value = 0
        var digits = 0
        while index < scalars.count, ("0"..."9").contains(scalars[index]) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int(scalars[index].value) - 48)
            if overflow1 || overflow2 { return nil }
            value = sum
            digits += 1
            index += 1
        }
        if index < scalars.count && scalars[index] == "L" { index += 1 }  // Python 2 long: 3L
        return digits == 0 ? nil : .integer(negative ? -value : value)
    }

    private mutating func parseKeyword() -> PythonLiteral? {
        for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)] {
            let end = index + word.unicodeScalars.count
            if end <= scalars.count && scalars[index..<end].elementsEqual(word.unicodeScalars) {
                index = end
                return value
            }
        }
        return nil
    }

    /// Skips whitespace, then consumes `scalar` if it is next.
    private mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
        skipWhitespace()
        guard index < scalars.count, scalars[index] == scalar else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
    }
}

private extension String {
    var trimmingSuffixWhitespace: Substring {
        guard let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return self[...last]
    }
}
