import LowBitTensor

/// Which weights share one scale (or threshold, or exponent).
///
/// The channel axis is axis 0 of the weight: `[out, in]` for dense layers, `[out, kh, kw, in]`
/// (OHWI) for convolutions; in a 1-D tensor each element is its own channel. Groups run over the
/// remaining axes flattened (contiguous within one output channel's row) and never cross a
/// channel; the last group of a row may be short.
///
/// ```swift
/// let layout = QuantizationGranularity.group(4).layout(forShape: [8, 3, 3, 16])
/// // layout.rowLength == 144, layout.groupSize == 4: 36 groups per output channel
/// ```
public enum QuantizationGranularity: Equatable, Sendable {
    /// One block for the whole tensor.
    case tensor
    /// One block per output channel (row of axis 0).
    case channel
    /// Blocks of this many consecutive weights within a row.
    case group(Int)

    /// Reads the `granularity` / `groupSize` fields of a ``QuantizerSpec`` ("tensor", "channel",
    /// "group"); no granularity means `.group(groupSize)` if a group size is given, else
    /// `defaultValue`.
    public init(specGranularity name: String?, groupSize: Int?, default defaultValue: QuantizationGranularity) throws {
        switch name {
        case nil:
            self = groupSize.map { .group($0) } ?? defaultValue
            try validate()
        case "tensor": self = .tensor
        case "channel": self = .channel
        case "group":
            guard let groupSize else {
                throw LowBitError.invalidArgument("granularity \"group\" needs groupSize (e.g. \"groupSize\": 4)")
            }
            self = .group(groupSize)
            try validate()
        case let other?:
            throw LowBitError.invalidArgument("unknown granularity \"\(other)\": use tensor, channel or group")
        }
    }

    /// The `granularity` and `groupSize` spec fields that recreate this value.
    public var specFields: (granularity: String, groupSize: Int?) {
        switch self {
        case .tensor: return ("tensor", nil)
        case .channel: return ("channel", nil)
        case let .group(size): return ("group", size)
        }
    }

    /// Throws ``LowBitError/invalidArgument(_:)`` for a group size below 1.
    public func validate() throws {
        if case let .group(size) = self, size < 1 {
            throw LowBitError.invalidArgument("group size must be at least 1, got \(size)")
        }
    }

    /// The block layout of a tensor of this shape (the granularity must be valid, see
    /// ``validate()``).
    public func layout(forShape shape: [Int]) -> BlockLayout {
        let count = shape.reduce(1, *)
        // A scalar or 1-D tensor: every element is its own channel.
        let rowLength = shape.count <= 1 ? 1 : max(1, shape.dropFirst().reduce(1, *))
        switch self {
        case .tensor: return BlockLayout(checkedCount: count, rowLength: max(count, 1), groupSize: max(count, 1))
        case .channel: return BlockLayout(checkedCount: count, rowLength: rowLength, groupSize: rowLength)
        case let .group(size):
            precondition(size >= 1, "group size must be at least 1, got \(size)")
            return BlockLayout(checkedCount: count, rowLength: rowLength, groupSize: size)
        }
    }
}

/// A flat tensor cut into rows of `rowLength` (one per output channel) and each row into groups of
/// `groupSize` consecutive values (the last one short when `groupSize` does not divide the row).
///
/// Per tensor is `rowLength == groupSize == count`; per channel is `groupSize == rowLength`.
///
/// ```swift
/// let layout = try BlockLayout(count: 10, rowLength: 5, groupSize: 2)
/// layout.blocks   // [0..<2, 2..<4, 4..<5, 5..<7, 7..<9, 9..<10]
/// ```
public struct BlockLayout: Equatable, Sendable {
    public let count: Int
    public let rowLength: Int
    public let groupSize: Int

    /// Throws ``LowBitError/invalidArgument(_:)`` unless `rowLength` divides `count` and
    /// `groupSize >= 1`. A `groupSize` above `rowLength` is one group per row.
    public init(count: Int, rowLength: Int, groupSize: Int) throws {
        guard groupSize >= 1 else {
            throw LowBitError.invalidArgument("group size must be at least 1, got \(groupSize)")
        }
        guard rowLength >= 1, count >= 0, count % rowLength == 0 else {
            throw LowBitError.invalidArgument(
                "row length \(rowLength) must be positive and divide the element count \(count)")
        }
        self.init(checkedCount: count, rowLength: rowLength, groupSize: groupSize)
    }

    /// For arguments already known to be valid.
    init(checkedCount count: Int, rowLength: Int, groupSize: Int) {
        self.count = count
        self.rowLength = rowLength
        self.groupSize = min(groupSize, rowLength)
    }

    /// Groups per row: ceil(rowLength / groupSize).
    public var groupsPerRow: Int { (rowLength + groupSize - 1) / groupSize }

    /// Number of blocks (one scale each).
    public var blockCount: Int { count / rowLength * groupsPerRow }

    /// The flat index range of block `index` (row-major: all groups of row 0, then row 1, ...).
    public func block(_ index: Int) -> Range<Int> {
        let row = index / groupsPerRow
        let start = row * rowLength + (index % groupsPerRow) * groupSize
        return start..<min(start + groupSize, (row + 1) * rowLength)
    }

    /// Every block's flat index range, in order.
    public var blocks: [Range<Int>] { (0..<blockCount).map(block) }

    /// The block that holds each element, so a per-block array can be read per element.
    public func blockIndex(ofElement element: Int) -> Int {
        (element / rowLength) * groupsPerRow + (element % rowLength) / groupSize
    }
}

/// Throws ``LowBitError/nonFinite(_:)`` if any value is NaN or infinite.
func requireFinite(_ values: [Float], _ what: String) throws {
    if let index = values.firstIndex(where: { !$0.isFinite }) {
        throw LowBitError.nonFinite("\(what) has \(values[index]) at flat index \(index); quantizers need finite input")
    }
}

/// Throws ``LowBitError/invalidArgument(_:)`` unless `bits` lies in `range`.
func requireBits(_ bits: Int, in range: ClosedRange<Int>, scheme: String) throws {
    guard range.contains(bits) else {
        throw LowBitError.invalidArgument(
            "\(scheme) supports \(range.lowerBound)...\(range.upperBound) bits, got \(bits)")
    }
}
