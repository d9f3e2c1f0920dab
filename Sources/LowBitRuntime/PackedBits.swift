import CLowBitRuntimeKernels
import LowBitTensor

/// A matrix of ±1 values packed as sign bits, 64 to a `UInt64`.
///
/// Row `r` holds `columns` values in `wordsPerRow` words: value `c` is bit `c % 64` of word `c / 64`
/// (least significant bit first). Bit 1 means -1 and bit 0 means +1, and packing maps x < 0 to 1 and
/// everything else (0, -0, NaN) to 0, so sign(0) = +1. Bits past `columns` are always 0, which keeps
/// padding out of binary dot products (docs/RUNTIME.md, "Bit layout").
///
/// ```swift
/// let bits = PackedBits(packing: [0.5, -2, 0, -0.1], rows: 2, columns: 2)
/// bits[0, 1]   // -1
/// bits[1, 0]   // +1 (sign(0) = +1)
/// ```
public struct PackedBits: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Logical values per row.
    public let columns: Int
    /// Words per row: at least `ceil(columns / 64)`.
    public let wordsPerRow: Int
    /// `rows * wordsPerRow` words, row after row.
    public internal(set) var words: [UInt64]

    /// Words needed for `bits` values.
    public static func wordCount(bits: Int) -> Int { (bits + 63) / 64 }

    /// All +1 (every bit 0).
    public init(rows: Int, columns: Int, wordsPerRow: Int? = nil) {
        precondition(rows >= 0 && columns >= 0, "negative size \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        self.wordsPerRow = wordsPerRow ?? Self.wordCount(bits: columns)
        precondition(self.wordsPerRow >= Self.wordCount(bits: columns), "\(self.wordsPerRow) words cannot hold \(columns) bits")
        words = [UInt64](repeating: 0, count: rows * self.wordsPerRow)
    }

    /// Words left uninitialized, for kernels that write every word of every row (lbr_pack_signs,
    /// lbr_output_bits, lbr_output_residual): no zeroing pass before they run.
    init(uninitializedRows rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        wordsPerRow = Self.wordCount(bits: columns)
        let count = rows * wordsPerRow
        words = [UInt64](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Packs the signs of a row-major `rows` x `columns` matrix (rows split across threads when large).
    public init(packing values: [Float], rows: Int, columns: Int, path: KernelPath = .best) {
        precondition(values.count == rows * columns, "\(values.count) values for \(rows) x \(columns)")
        if rows == 0 || columns == 0 {
            self.init(rows: rows, columns: columns)
            return
        }
        self.init(uninitializedRows: rows, columns: columns)   // lbr_pack_signs writes every word, pad bits as 0
        let wordsPerRow = self.wordsPerRow
        values.withUnsafeBufferPointer { x in
            words.withUnsafeMutableBufferPointer { out in
                let x = UnsafeSendablePointer(x.baseAddress!), out = UnsafeSendableMutablePointer(out.baseAddress!)
                Parallel.forChunks(rows, work: rows * columns / 2, grain: .fine) { range in
                    lbr_pack_signs(path.isa, x.pointer + range.lowerBound * columns, range.count, columns, columns,
                                   out.pointer + range.lowerBound * wordsPerRow, wordsPerRow)
                }
            }
        }
    }

    /// Wraps existing words; throws when a pad bit (past `columns`) is set.
    public init(rows: Int, columns: Int, wordsPerRow: Int, words: [UInt64]) throws {
        guard rows >= 0, columns >= 0, wordsPerRow >= Self.wordCount(bits: columns), words.count == rows * wordsPerRow else {
            throw LowBitError.shapeMismatch("\(words.count) words do not make \(rows) rows of \(columns) bits in \(wordsPerRow) words")
        }
        self.rows = rows
        self.columns = columns
        self.wordsPerRow = wordsPerRow
        self.words = words
        for row in 0..<rows where padBits(row: row) != 0 {
            throw LowBitError.invalidArgument("row \(row) has pad bits set past column \(columns); pad bits must be 0")
        }
    }

    /// The value at (row, column): -1 or +1.
    public subscript(row: Int, column: Int) -> Float {
        get { bit(row: row, column: column) ? -1 : 1 }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "(\(row), \(column)) outside \(rows) x \(columns)")
            let index = row * wordsPerRow + column / 64, mask = UInt64(1) << UInt64(column % 64)
            if newValue < 0 { words[index] |= mask } else { words[index] &= ~mask }
        }
    }

    /// The same bits as `rows` rows of `self.rows / rows` consecutive rows each (a flatten of NHWC sign
    /// bits into one row per sample): `lbr_bits_regroup`, no unpacking.
    func regrouped(rows newRows: Int) -> PackedBits {
        precondition(newRows > 0 && rows % newRows == 0, "\(rows) rows do not regroup into \(newRows)")
        var out = PackedBits(rows: newRows, columns: columns * (rows / newRows))   // zeroed: the kernel ORs bits in
        let outWords = out.wordsPerRow
        words.withUnsafeBufferPointer { input in
            out.words.withUnsafeMutableBufferPointer { output in
                lbr_bits_regroup(input.baseAddress, rows, columns, wordsPerRow, newRows, output.baseAddress, outWords)
            }
        }
        return out
    }

    /// The raw bit at (row, column): true for -1.
    public func bit(row: Int, column: Int) -> Bool {
        precondition(row >= 0 && row < rows && column >= 0 && column < columns, "(\(row), \(column)) outside \(rows) x \(columns)")
        return (words[row * wordsPerRow + column / 64] >> UInt64(column % 64)) & 1 == 1
    }

    /// The values as floats (±1), row-major.
    public func unpacked() -> [Float] {
        (0..<rows).flatMap { r in (0..<columns).map { c in self[r, c] } }
    }

    private func padBits(row: Int) -> UInt64 {
        var pad: UInt64 = 0
        for w in 0..<wordsPerRow {
            let first = w * 64
            let mask: UInt64 = first >= columns ? ~0 : (columns - first >= 64 ? 0 : ~0 << UInt64(columns - first))
            pad |= words[row * wordsPerRow + w] & mask
        }
        return pad
    }
}

extension Optional where Wrapped == PackedBits {
    /// Calls `body` with the words of the bits (nil when there are none), for kernels that write them.
    mutating func withOptionalWords<Result>(_ body: (UnsafeMutablePointer<UInt64>?) throws -> Result) rethrows -> Result {
        guard self != nil else { return try body(nil) }
        return try self!.words.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the floats' base address (nil when there are none), for kernels that read them.
    func withOptionalBase<Result>(_ body: (UnsafePointer<Float>?) throws -> Result) rethrows -> Result {
        guard let values = self else { return try body(nil) }
        return try values.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
