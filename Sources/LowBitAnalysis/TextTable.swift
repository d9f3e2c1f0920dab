/// A table of strings that renders as aligned terminal columns, a Markdown table or an HTML table:
/// the report builds its rows once and every output agrees.
///
/// ```swift
/// var table = TextTable(columns: [("layer", .left), ("bytes", .right)])
/// table.append(["fc1", "3.16 KiB"])
/// print(table.terminal())
/// // layer     bytes
/// // -----  --------
/// // fc1    3.16 KiB
/// ```
public struct TextTable: Sendable, Equatable {
    public enum Alignment: Sendable, Equatable {
        case left, right
    }

    public var headers: [String]
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    public init(columns: [(header: String, alignment: Alignment)]) {
        headers = columns.map(\.header)
        alignments = columns.map(\.alignment)
    }

    /// Adds a row; missing cells are empty, extra cells are an error of the caller.
    public mutating func append(_ row: [String]) {
        precondition(row.count <= headers.count, "row has \(row.count) cells for \(headers.count) columns")
        rows.append(row + Array(repeating: "", count: headers.count - row.count))
    }

    /// Columns padded to their widest cell, two spaces apart, a dashed rule under the header.
    /// Widths count characters, so `µ` is one column wide.
    public func terminal() -> String {
        let widths = headers.indices.map { column in
            ([headers] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - cells[column].count)
                return alignments[column] == .left ? cells[column] + padding : padding + cells[column]
            }
            .joined(separator: "  ")
            .trimmingTrailingSpaces()
        }
        let rule = widths.map { String(repeating: "-", count: $0) }
        return ([line(headers), line(rule)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table; `|` inside cells is escaped.
    public func markdown() -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingAll("|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        let rule = "|" + alignments.map { $0 == .left ? "---|" : "---:|" }.joined()
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

extension TextTable {
    /// An HTML `<table>` inside a horizontally scrolling box (wide tables stay readable on a
    /// phone); every cell is escaped, and `className` lets the page style particular tables.
    public func html(className: String) -> String {
        func cells(_ values: [String], tag: String) -> String {
            zip(values, alignments).map { value, alignment in
                "<\(tag)\(alignment == .left ? " class=\"l\"" : "")>\(htmlEscaped(value))</\(tag)>"
            }.joined()
        }
        var html = "<div class=\"scroll\"><table class=\"\(htmlEscaped(className))\"><thead><tr>"
        html += cells(headers, tag: "th") + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + cells(row, tag: "td") + "</tr>" }
        return html + "</tbody></table></div>\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }

    /// Every occurrence of `target` replaced; used by the renderers, which avoid Foundation's overloads.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
