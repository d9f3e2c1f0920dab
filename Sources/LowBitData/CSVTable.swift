import Foundation
import LowBitTensor

/// A CSV file split into numeric feature columns and one label column, before the labels are
/// turned into class indices (``CSVDataset`` does that).
///
/// Accepted text: comma-separated cells, `\n` or `\r\n` line ends, blank lines skipped, spaces
/// around a cell ignored, a cell may be wrapped in double quotes (`""` inside is one quote; a
/// quoted cell cannot span lines). The first non-blank row is a header when any of its feature
/// cells is not a number. Every row must have as many cells as the first.
struct CSVTable {
    let path: String
    /// Column names when the file has a header row.
    let header: [String]?
    let columnCount: Int
    /// The label column's index in `0..<columnCount` (negative indices already resolved).
    let labelColumn: Int
    /// Row-major `[rowCount, columnCount - 1]`; empty when parsed with `parseFeatures: false`.
    let features: [Float]
    let labelCells: [String]
    /// The 1-based line of each data row, for error messages about its label.
    let labelLines: [Int]

    var rowCount: Int { labelCells.count }
    var featureCount: Int { columnCount - 1 }

    /// Parses `path` (gzip or raw). With `parseFeatures: false` only the label column is kept, which
    /// is what finding the classes of a training file needs.
    init(path: String, labelColumn requestedLabelColumn: Int, parseFeatures: Bool = true) throws {
        let bytes = try GzipReader.readAll(path)
        var header: [String]?
        var columnCount = 0
        var firstRowLine = 0
        var labelColumn = 0
        var features: [Float] = []
        var labelCells: [String] = []
        var labelLines: [Int] = []
        var cells: [CSVCell] = []

        func fail(_ line: Int, _ column: Int?, _ reason: String) -> LowBitError {
            .corruptFile(path: path, reason: "line \(line)\(column.map { ", column \($0 + 1)" } ?? ""): \(reason)")
        }

        try bytes.withUnsafeBufferPointer { text in
            var scanner = CSVScanner(text: text)
            while let (lineNumber, line) = scanner.nextLine() {
                try splitCells(line, lineNumber: lineNumber, into: &cells, fail: fail)
                if cells.count == 1 && cells[0].range.isEmpty && !cells[0].quoted { continue }   // blank line
                if columnCount == 0 {
                    columnCount = cells.count
                    firstRowLine = lineNumber
                    labelColumn = try resolveLabelColumn(requestedLabelColumn, columnCount: columnCount, path: path)
                    let isHeader = cells.indices.contains { column in
                        column != labelColumn && cells[column].number(in: line) == nil && !cells[column].isNonFiniteNumber(in: line)
                    }
                    if isHeader {
                        header = cells.map { $0.string(in: line) }
                        continue
                    }
                }
                guard cells.count == columnCount else {
                    throw fail(lineNumber, nil, "has \(cells.count) cells, expected \(columnCount) like line \(firstRowLine)")
                }
                for column in 0..<columnCount where column != labelColumn && parseFeatures {
                    let cell = cells[column]
                    guard let value = cell.number(in: line) else {
                        let shown = cell.string(in: line)
                        if shown.isEmpty { throw fail(lineNumber, column, "empty cell (missing values are not supported)") }
                        let kind = cell.isNonFiniteNumber(in: line) ? "a finite number" : "a number"
                        throw fail(lineNumber, column, "'\(shown.prefix(40))' is not \(kind)")
                    }
                    features.append(Float(value))
                }
                labelCells.append(cells[labelColumn].string(in: line))
                labelLines.append(lineNumber)
            }
        }
        guard !labelCells.isEmpty else {
            throw LowBitError.corruptFile(path: path, reason: header == nil ? "the file is empty" : "the file has a header row but no data rows")
        }
        guard columnCount >= 2 else {
            throw LowBitError.corruptFile(path: path, reason: "has 1 column; a dataset CSV needs at least one feature column and a label column")
        }
        self.path = path
        self.header = header
        self.columnCount = columnCount
        self.labelColumn = labelColumn
        self.features = features
        self.labelCells = labelCells
        self.labelLines = labelLines
    }
}

/// `requested` as an index into `0..<columnCount`; negative counts from the end (-1 = last).
private func resolveLabelColumn(_ requested: Int, columnCount: Int, path: String) throws -> Int {
    let resolved = requested < 0 ? columnCount + requested : requested
    guard resolved >= 0, resolved < columnCount else {
        throw LowBitError.invalidArgument(
            "label column \(requested) does not exist in \(path), which has \(columnCount) columns (use 0..<\(columnCount), or -\(columnCount)...-1 counting from the end)")
    }
    return resolved
}

/// Splits one line (without its line end) into cells, reusing `cells`.
private func splitCells(
    _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, into cells: inout [CSVCell],
    fail: (Int, Int?, String) -> LowBitError
) throws {
    let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\"")
    cells.removeAll(keepingCapacity: true)
    var position = 0
    while true {
        while position < line.count, isBlank(line[position]) { position += 1 }
        var cell: CSVCell
        if position < line.count, line[position] == quote {
            let start = position + 1
            var end = start
            var escaped = false
            while true {
                guard end < line.count else { throw fail(lineNumber, cells.count, "quoted cell has no closing quote") }
                if line[end] == quote {
                    if end + 1 < line.count, line[end + 1] == quote { escaped = true; end += 2; continue }
                    break
                }
                end += 1
            }
            cell = CSVCell(range: start..<end, quoted: true, hasEscapedQuotes: escaped)
            position = end + 1
            while position < line.count, isBlank(line[position]) { position += 1 }
            guard position == line.count || line[position] == comma else {
                throw fail(lineNumber, cells.count, "text after the closing quote of a quoted cell")
            }
        } else {
            let start = position
            while position < line.count, line[position] != comma { position += 1 }
            var end = position
            while end > start, isBlank(line[end - 1]) { end -= 1 }
            cell = CSVCell(range: start..<end, quoted: false, hasEscapedQuotes: false)
        }
        cells.append(cell)
        if position >= line.count { return }
        position += 1   // the comma
    }
}

private func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

/// Where one cell's text lies inside its line.
private struct CSVCell {
    var range: Range<Int>
    var quoted: Bool
    var hasEscapedQuotes: Bool

    func string(in line: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
        return hasEscapedQuotes ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
    }

    /// The cell as a finite number, or `nil`. `strtod` on a NUL-terminated copy: it accepts the
    /// forms numeric CSV writers produce (`1`, `-2.5e-3`, `.5`) without building a `String`.
    func number(in line: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let value = parsed(in: line), value.isFinite else { return nil }
        return value
    }

    /// Whether the cell is `nan`, `inf` or a literal too large for a `Double`: numeric, so not a
    /// header name, but unusable as a feature.
    func isNonFiniteNumber(in line: UnsafeBufferPointer<UInt8>) -> Bool {
        parsed(in: line).map { !$0.isFinite } ?? false
    }

    private func parsed(in line: UnsafeBufferPointer<UInt8>) -> Double? {
        let length = range.count
        guard length > 0, length < 64, !hasEscapedQuotes else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { scratch in
            for i in 0..<length { scratch[i] = CChar(bitPattern: line[range.lowerBound + i]) }
            scratch[length] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(scratch.baseAddress!, &end)
            return end == scratch.baseAddress! + length ? value : nil
        }
    }
}

/// Walks lines of a byte buffer, numbering them from 1 and dropping `\n` / `\r\n`.
private struct CSVScanner {
    let text: UnsafeBufferPointer<UInt8>
    var position = 0
    var lineNumber = 0

    init(text: UnsafeBufferPointer<UInt8>) { self.text = text }

    mutating func nextLine() -> (number: Int, line: UnsafeBufferPointer<UInt8>)? {
        guard position < text.count else { return nil }
        let start = position
        while position < text.count, text[position] != UInt8(ascii: "\n") { position += 1 }
        var end = position
        if end > start, text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        position += 1
        lineNumber += 1
        return (lineNumber, UnsafeBufferPointer(rebasing: text[start..<end]))
    }
}
