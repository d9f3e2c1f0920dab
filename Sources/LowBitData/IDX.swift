import LowBitTensor

/// The element types an IDX file declares in the third byte of its magic number.
///
/// ```swift
/// IDXElementType(rawValue: 0x08)     // .uint8, what MNIST uses
/// IDXElementType.float32.byteCount   // 4
/// ```
public enum IDXElementType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    public var byteCount: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16: return 2
        case .int32, .float32: return 4
        case .float64: return 8
        }
    }

    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// `0x08 (uint8)`: the byte as it appears in the file and the name of the type.
    public var description: String {
        let name: String
        switch self {
        case .uint8: name = "uint8"
        case .int8: name = "int8"
        case .int16: name = "int16"
        case .int32: name = "int32"
        case .float32: name = "float32"
        case .float64: name = "float64"
        }
        return "0x\(hex(rawValue)) (\(name))"
    }
}

/// One array read from an IDX file (the format of MNIST and Fashion-MNIST).
///
/// Layout, all integers big-endian:
/// ```
/// byte 0-1   0x00 0x00
/// byte 2     element type (IDXElementType)
/// byte 3     number of dimensions d
/// 4 * d      the sizes of the dimensions, UInt32 each, slowest first
/// then       the elements, row-major, big-endian, nothing after them
/// ```
/// Every size the header claims is checked against the bytes that are really there, so a
/// truncated, padded or lying file fails with ``LowBitError/corruptFile(path:reason:)`` before any
/// large allocation.
///
/// ```swift
/// let labels = try IDXArray(contentsOf: "data/mnist/t10k-labels-idx1-ubyte.gz")
/// labels.shape                  // [10000]
/// labels.integerValues()?[0]    // 7
/// ```
public struct IDXArray: Sendable, Equatable {
    public let elementType: IDXElementType
    /// Dimension sizes, slowest first (`[count, rows, columns]` for MNIST images).
    public let shape: [Int]
    /// The whole file; elements start at `payloadOffset`. Kept whole so reading costs one buffer.
    private let bytes: [UInt8]
    private let payloadOffset: Int

    /// Number of elements (the product of `shape`).
    public var count: Int { shape.reduce(1, *) }

    /// Reads and validates an IDX file, gzip-compressed or raw.
    public init(contentsOf path: String) throws {
        try self.init(bytes: GzipReader.readAll(path), path: path)
    }

    /// Validates IDX `bytes`; `path` only names the source in error messages.
    public init(bytes: [UInt8], path: String) throws {
        func corrupt(_ reason: String) -> LowBitError { .corruptFile(path: path, reason: reason) }
        guard bytes.count >= 4 else {
            throw corrupt("only \(bytes.count) bytes, too short for an IDX header (4-byte magic number)")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw corrupt("not an IDX file: the magic number starts with 0x\(hex(bytes[0])) 0x\(hex(bytes[1])), expected 0x00 0x00")
        }
        guard let type = IDXElementType(rawValue: bytes[2]) else {
            let known = IDXElementType.allCases.map(\.description).joined(separator: ", ")
            throw corrupt("unsupported IDX element type 0x\(hex(bytes[2])); readable types are \(known)")
        }
        let rank = Int(bytes[3])
        guard rank > 0 else { throw corrupt("the IDX header declares 0 dimensions") }
        let headerByteCount = 4 + 4 * rank
        guard bytes.count >= headerByteCount else {
            throw corrupt("the IDX header declares \(rank) dimensions (\(headerByteCount) header bytes) but the file has only \(bytes.count) bytes")
        }
        var shape: [Int] = []
        // Multiplying with overflow checks: 3 dimensions of 2^32 - 1 would wrap an Int and make a
        // lying header look consistent.
        var payloadByteCount = type.byteCount
        for axis in 0..<rank {
            let base = 4 + 4 * axis
            let size = Int(bytes[base]) << 24 | Int(bytes[base + 1]) << 16 | Int(bytes[base + 2]) << 8 | Int(bytes[base + 3])
            shape.append(size)
            let (product, overflow) = payloadByteCount.multipliedReportingOverflow(by: size)
            payloadByteCount = overflow ? Int.max : product
        }
        let available = bytes.count - headerByteCount
        let claim = "the header declares \(shape.map(String.init).joined(separator: " x ")) elements of \(type.description)"
        if payloadByteCount > available {
            throw corrupt("\(claim) (\(payloadByteCount == Int.max ? "more than Int.max" : String(payloadByteCount)) bytes) but only \(available) bytes follow the header; the file is truncated or its header is wrong")
        }
        if payloadByteCount < available {
            throw corrupt("\(claim) (\(payloadByteCount) bytes) but \(available - payloadByteCount) bytes of trailing data follow them")
        }
        self.elementType = type
        self.shape = shape
        self.bytes = bytes
        self.payloadOffset = headerByteCount
    }

    /// Every element as a `Float`, divided by `divisor` (pass 255 to map uint8 pixels to [0, 1],
    /// with 255 becoming exactly 1). Float64 elements are rounded to the nearest `Float`.
    public func floatValues(dividedBy divisor: Float = 1) -> [Float] {
        let count = self.count
        let type = elementType
        // uint8 goes through a 256-entry table: exact quotients at the cost of a load per pixel.
        let byteTable = (0..<256).map { Float($0) / divisor }
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            bytes.withUnsafeBufferPointer { buffer in
                let input = buffer.baseAddress! + payloadOffset
                // One tight loop per type: MNIST train images are 47 M elements.
                switch type {
                case .uint8: for i in 0..<count { output[i] = byteTable[Int(input[i])] }
                case .int8: for i in 0..<count { output[i] = Float(Int8(bitPattern: input[i])) / divisor }
                case .int16: for i in 0..<count { output[i] = Float(Int16(bitPattern: UInt16(bigEndianAt: input + 2 * i))) / divisor }
                case .int32: for i in 0..<count { output[i] = Float(Int32(bitPattern: UInt32(bigEndianAt: input + 4 * i))) / divisor }
                case .float32: for i in 0..<count { output[i] = Float(bitPattern: UInt32(bigEndianAt: input + 4 * i)) / divisor }
                case .float64: for i in 0..<count { output[i] = Float(Double(bitPattern: UInt64(bigEndianAt: input + 8 * i))) / divisor }
                }
            }
            initialized = count
        }
    }

    /// Every element as an `Int`, or `nil` for the float element types (labels must be integers).
    public func integerValues() -> [Int]? {
        guard elementType.isInteger else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            let input = buffer.baseAddress! + payloadOffset
            switch elementType {
            case .uint8: return (0..<count).map { Int(input[$0]) }
            case .int8: return (0..<count).map { Int(Int8(bitPattern: input[$0])) }
            case .int16: return (0..<count).map { Int(Int16(bitPattern: UInt16(bigEndianAt: input + 2 * $0))) }
            default: return (0..<count).map { Int(Int32(bitPattern: UInt32(bigEndianAt: input + 4 * $0))) }
            }
        }
    }
}

private func hex(_ byte: UInt8) -> String { String(byte, radix: 16, uppercase: true).leftPadded(to: 2) }

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

extension FixedWidthInteger {
    /// Assembles `Self.bitWidth / 8` bytes at `pointer`, most significant first. Byte-wise, so
    /// unaligned elements (IDX payloads start at offset 4 + 4 * rank) are fine.
    fileprivate init(bigEndianAt pointer: UnsafePointer<UInt8>) {
        var value: Self = 0
        for i in 0..<(Self.bitWidth / 8) { value = value << 8 | Self(pointer[i]) }
        self = value
    }
}
