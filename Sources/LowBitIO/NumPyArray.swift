import LowBitTensor

/// A NumPy `.npy` array: how `lowbit run --input x.npy -o y.npy` exchanges data with Python.
///
/// Reads format versions 1.0, 2.0 and 3.0 with dtypes `<f4`, `<f8`, `<i4`, `<i8`, `|u1`, `|i1` in
/// C (row-major) order, 0-d arrays included; writes version 1.0, which every NumPy reads.
/// Fortran-order arrays of rank 2 or more are refused with the fix to apply in Python
/// (`np.ascontiguousarray`); big-endian and other dtypes likewise. `.npz` archives are not read.
///
/// ```swift
/// let input = try NumPyArray.read(from: "x.npy").floatTensor()   // any dtype -> Float
/// try NumPyArray(output).write(to: "y.npy")                      // Tensor -> <f4
/// let labels = try NumPyArray(shape: [3], elements: .int64([2, 0, 1]))
/// ```
public struct NumPyArray: FileFormat, Sendable, Equatable {
    /// The elements with their NumPy dtype, in C order.
    public enum Elements: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int8([Int8])
        case uint8([UInt8])
        case int32([Int32])
        case int64([Int64])

        /// NumPy's dtype string (`<f4`, `|u1`, ...).
        public var descr: String { kind.traits.descr }

        fileprivate var kind: ElementKind {
            switch self {
            case .float32: return .float32
            case .float64: return .float64
            case .int8: return .int8
            case .uint8: return .uint8
            case .int32: return .int32
            case .int64: return .int64
            }
        }

        public var count: Int {
            switch self {
            case let .float32(values): return values.count
            case let .float64(values): return values.count
            case let .int8(values): return values.count
            case let .uint8(values): return values.count
            case let .int32(values): return values.count
            case let .int64(values): return values.count
            }
        }
    }

    /// `[]` for a 0-d array (one element).
    public let shape: [Int]
    public let elements: Elements

    /// Throws ``LowBitTensor/LowBitError/shapeMismatch(_:)`` when the element count is not the
    /// product of `shape`.
    public init(shape: [Int], elements: Elements) throws {
        guard StoredTensor.byteCount(shape: shape, elementByteCount: 1) == elements.count else {
            throw LowBitError.shapeMismatch("a NumPy array of shape \(shape) cannot hold \(elements.count) elements")
        }
        self.shape = shape
        self.elements = elements
    }

    /// A `<f4` array holding the tensor's values.
    public init(_ tensor: Tensor) {
        self.shape = tensor.shape
        self.elements = .float32(tensor.data)
    }

    /// The values as a float tensor. Conversions round like NumPy's `astype(np.float32)`:
    /// `<f8` and integers beyond 2^24 lose precision.
    public func floatTensor() -> Tensor {
        let data: [Float]
        switch elements {
        case let .float32(values): data = values
        case let .float64(values): data = values.map { Float($0) }
        case let .int8(values): data = values.map { Float($0) }
        case let .uint8(values): data = values.map { Float($0) }
        case let .int32(values): data = values.map { Float($0) }
        case let .int64(values): data = values.map { Float($0) }
        }
        return Tensor(shape: shape, data: data)
    }

    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Parses a complete `.npy` file held in memory; `source` names it in errors.
    public init(decoding bytes: [UInt8], source: String) throws {
        func corrupt(_ reason: String) -> LowBitError { .corruptFile(path: source, reason: reason) }
        guard bytes.count >= 6, bytes[0..<6].elementsEqual(Self.magic) else {
            throw corrupt("not a .npy file (it does not start with \"\\x93NUMPY\")")
        }
        guard bytes.count >= 10 else { throw corrupt("truncated inside the .npy preamble") }
        // Version 1.0 has a u16 header length; 2.0 widens it to u32; 3.0 only changes the header
        // text encoding from latin-1 to UTF-8 (read as UTF-8 here; LowBit's keys are ASCII).
        let (major, minor) = (bytes[6], bytes[7])
        let preamble: Int
        let headerLength: Int
        switch major {
        case 1:
            preamble = 10
            headerLength = Int(LittleEndian.read(UInt16.self, from: bytes, at: 8))
        case 2, 3:
            preamble = 12
            guard bytes.count >= preamble else { throw corrupt("truncated inside the .npy preamble") }
            headerLength = Int(LittleEndian.read(UInt32.self, from: bytes, at: 8))
        default:
            throw LowBitError.unsupported("\(source) is .npy format \(major).\(minor); LowBit reads 1.0, 2.0 and 3.0")
        }
        guard headerLength <= bytes.count - preamble else {
            throw corrupt("truncated: the .npy header claims \(headerLength) bytes, \(bytes.count - preamble) follow")
        }
        let dataStart = preamble + headerLength
        let header = try NumPyHeader.parse(String(decoding: bytes[preamble..<dataStart], as: UTF8.self),
                                           source: source)
        // For rank <= 1 (and a single non-trivial axis) Fortran and C order are the same bytes.
        if header.fortranOrder && header.shape.filter({ $0 > 1 }).count > 1 {
            throw LowBitError.unsupported(
                "\(source) holds a Fortran-order (column-major) array; LowBit reads C order only — save it with "
                    + "np.save(path, np.ascontiguousarray(array))")
        }
        guard let kind = ElementKind(descr: header.descr) else {
            throw LowBitError.unsupported(
                "\(source) has dtype '\(header.descr)'; LowBit reads <f4, <f8, <i4, <i8, |u1 and |i1 "
                    + "(little-endian) — convert with array.astype('<f4')")
        }
        let available = bytes.count - dataStart
        let what = "shape \(header.shape) of \(header.descr)"
        guard let needed = StoredTensor.byteCount(shape: header.shape, elementByteCount: kind.traits.byteCount) else {
            throw corrupt("\(what) is impossibly large")
        }
        guard needed <= available else {
            throw corrupt("truncated: \(what) needs \(needed) data bytes, the file has \(available)")
        }
        guard needed == available else {
            throw corrupt("\(what) needs \(needed) data bytes but the file has \(available): trailing bytes")
        }
        self.shape = header.shape
        self.elements = kind.decode(bytes[dataStart...])
    }

    /// The complete version 1.0 file as bytes.
    public func encoded() throws -> [UInt8] {
        let literal = NumPyHeader(descr: elements.descr, fortranOrder: false, shape: shape).pythonLiteral
        // NumPy pads the header with spaces and a final newline so the data starts at a multiple
        // of 64 bytes (10 bytes of magic, version and length come first).
        let unpadded = 10 + literal.utf8.count + 1
        let headerText = literal + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        guard headerText.utf8.count <= Int(UInt16.max) else {
            throw LowBitError.invalidArgument("a .npy v1.0 header for shape \(shape) would exceed 65535 bytes")
        }
        var file = Self.magic + [1, 0]
        LittleEndian.append(UInt16(headerText.utf8.count), to: &file)
        file += Array(headerText.utf8)
        switch elements {
        case let .float32(values): file += LittleEndian.bytes(of: values.map(\.bitPattern))
        case let .float64(values): file += LittleEndian.bytes(of: values.map(\.bitPattern))
        case let .int8(values): file += LittleEndian.bytes(of: values)
        case let .uint8(values): file += values
        case let .int32(values): file += LittleEndian.bytes(of: values)
        case let .int64(values): file += LittleEndian.bytes(of: values)
        }
        return file
    }

    /// The dtypes this reader understands: one row per type with the `descr` NumPy writes and the
    /// item size.
    fileprivate enum ElementKind: CaseIterable {
        case float32, float64, int8, uint8, int32, int64

        var traits: (descr: String, byteCount: Int) {
            switch self {
            case .float32: return ("<f4", 4)
            case .float64: return ("<f8", 8)
            case .int8: return ("|i1", 1)
            case .uint8: return ("|u1", 1)
            case .int32: return ("<i4", 4)
            case .int64: return ("<i8", 8)
            }
        }

        /// NumPy writes `|` ("byte order not applicable") for one-byte types; `<` means the same.
        init?(descr: String) {
            let canonical = descr.count == 3 && descr.hasSuffix("1") ? "|" + descr.dropFirst() : descr
            guard let match = Self.allCases.first(where: { $0.traits.descr == canonical }) else { return nil }
            self = match
        }

        func decode(_ bytes: ArraySlice<UInt8>) -> Elements {
            switch self {
            case .float32: return .float32(LittleEndian.values(UInt32.self, from: bytes).map(Float.init(bitPattern:)))
            case .float64: return .float64(LittleEndian.values(UInt64.self, from: bytes).map(Double.init(bitPattern:)))
            case .int8: return .int8(LittleEndian.values(Int8.self, from: bytes))
            case .uint8: return .uint8(Array(bytes))
            case .int32: return .int32(LittleEndian.values(Int32.self, from: bytes))
            case .int64: return .int64(LittleEndian.values(Int64.self, from: bytes))
            }
        }
    }
}
