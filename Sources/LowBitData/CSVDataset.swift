import Foundation
import LowBitTensor

/// How the text of a CSV label column becomes class indices.
///
/// Inferred from a file (``CSVDataset/labelEncoding(path:labelColumn:)``): when every label is a
/// whole number (`3`, `3.0`) the labels are those integers and `classCount` is the largest plus
/// one; otherwise every distinct label text is a class name and the names are **sorted**
/// (Unicode order of `String`), so class `i` is the `i`-th name in sorted order whatever order the
/// rows come in. That makes a train file and a test file with the same names agree.
///
/// ```swift
/// let encoding = try CSVDataset.labelEncoding(path: "jets/train.csv")   // .names(["g", "q", "t", "w", "z"])
/// let test = try CSVDataset.load(path: "jets/test.csv", labelEncoding: encoding)
/// ```
public enum CSVLabelEncoding: Sendable, Equatable {
    /// Labels are integers in `0..<classCount`.
    case integers(classCount: Int)
    /// Label `i` is the text `names[i]`.
    case names([String])

    public var classCount: Int {
        switch self {
        case .integers(let count): return count
        case .names(let names): return names.count
        }
    }

    /// Integers when every cell is a non-negative whole number, else the sorted distinct texts.
    static func infer(from cells: [String]) -> CSVLabelEncoding {
        let integers = cells.compactMap(wholeNumber)
        if integers.count == cells.count, integers.allSatisfy({ $0 >= 0 }) {
            return .integers(classCount: (integers.max() ?? 0) + 1)
        }
        return .names(Set(cells).sorted())
    }

    /// The class index of every label cell.
    func encode(_ table: CSVTable) throws -> [Int32] {
        func fail(_ row: Int, _ reason: String) -> LowBitError {
            .corruptFile(path: table.path, reason: "line \(table.labelLines[row]), column \(table.labelColumn + 1): \(reason)")
        }
        switch self {
        case .integers(let classCount):
            return try table.labelCells.indices.map { row in
                let cell = table.labelCells[row]
                guard let value = wholeNumber(cell) else {
                    throw fail(row, "label '\(cell.prefix(40))' is not a whole number, but the labels are integer class indices 0..<\(classCount)")
                }
                guard value >= 0, value < classCount else {
                    throw fail(row, "label \(value) is outside 0..<\(classCount)")
                }
                return Int32(value)
            }
        case .names(let names):
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
            return try table.labelCells.indices.map { row in
                guard let label = index[table.labelCells[row]] else {
                    throw fail(row, "label '\(table.labelCells[row].prefix(40))' is not one of the classes \(names.prefix(20).joined(separator: ", ")) (from the training file)")
                }
                return label
            }
        }
    }
}

/// `3`, `3.0`, `+3` -> 3; anything else -> nil.
private func wholeNumber(_ text: String) -> Int? {
    if let value = Int(text) { return value }
    guard let value = Double(text), value.isFinite, value == value.rounded(), abs(value) < 1e9 else { return nil }
    return Int(value)
}

/// Loads a tabular dataset from a CSV file, gzip-compressed or raw (see ``CSVTable`` for the
/// accepted text): every column but the label column is a numeric feature, features become
/// `[N, F]` in column order.
///
/// Errors name the file, the line and the column: a feature cell that is not a finite number,
/// a row with a different number of cells, an empty file, a label outside the classes.
///
/// ```swift
/// // label in the last column (default), or say which: 0 = first, -2 = second from the end
/// let jets = try CSVDataset.load(path: "jets.csv.gz", labelColumn: -1)
/// jets.features.shape   // [N, 16]
/// jets.classNames       // ["g", "q", "t", "w", "z"] when the labels are names
/// ```
public enum CSVDataset {
    /// - Parameters:
    ///   - labelColumn: index of the label column; negative counts from the end (-1 = last).
    ///   - name: the dataset name; defaults to the file name without `.csv` / `.csv.gz`.
    ///   - labelEncoding: how labels map to classes; `nil` infers it from this file. Pass the
    ///     training file's encoding when loading a test file.
    public static func load(
        path: String, labelColumn: Int = -1, name: String? = nil, labelEncoding: CSVLabelEncoding? = nil
    ) throws -> LabeledDataset {
        let table = try CSVTable(path: path, labelColumn: labelColumn)
        let encoding = labelEncoding ?? CSVLabelEncoding.infer(from: table.labelCells)
        let labels = try encoding.encode(table)
        let classNames: [String]?
        if case .names(let names) = encoding { classNames = names } else { classNames = nil }
        return try LabeledDataset(
            name: name ?? defaultName(path),
            features: Tensor(shape: [table.rowCount, table.featureCount], data: table.features),
            labels: labels, classCount: encoding.classCount, classNames: classNames)
    }

    /// The encoding ``load(path:labelColumn:name:labelEncoding:)`` would infer for `path`,
    /// reading only its label column.
    public static func labelEncoding(path: String, labelColumn: Int = -1) throws -> CSVLabelEncoding {
        CSVLabelEncoding.infer(from: try CSVTable(path: path, labelColumn: labelColumn, parseFeatures: false).labelCells)
    }

    static func defaultName(_ path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for suffix in [".gz", ".csv"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }
}
