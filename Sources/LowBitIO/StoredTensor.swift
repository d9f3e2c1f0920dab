import LowBitTensor

/// One named tensor as files store it: a dtype, a row-major shape and its raw little-endian bytes.
///
/// This is the unit every format in this module reads and writes. The initializers check that the
/// bytes match the shape, so a `StoredTensor` is always consistent. Float tensors convert to and
/// from ``LowBitTensor/Tensor``; integer tensors (quantized codes, bit-packed signs in `u64` words)
/// go through ``init(name:shape:values:)`` and ``values(as:)``.
///
/// ```swift
/// let weight = try StoredTensor(name: "fc1.weight", tensor: Tensor.zeros([10, 784]), dtype: .f16)
/// let back = try weight.floatTensor()            // Tensor, shape [10, 784]
///
/// let signs = try StoredTensor(name: "fc1.weight.signs", shape: [10, 13], values: [UInt64](repeating: 0, count: 130))
/// let words: [UInt64] = try signs.values()
/// ```
public struct StoredTensor: Sendable, Equatable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// `elementCount * dtype.elementByteCount` bytes, little-endian, row-major.
    public let bytes: [UInt8]

    /// Wraps raw bytes; throws ``LowBitTensor/LowBitError/shapeMismatch(_:)`` when their count is
    /// not what `shape` and `dtype` need.
    public init(name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) throws {
        guard let expected = Self.byteCount(shape: shape, elementByteCount: dtype.elementByteCount) else {
            throw LowBitError.invalidArgument("tensor '\(name)' has an invalid shape \(shape) (negative or too large)")
        }
        guard expected == bytes.count else {
            throw LowBitError.shapeMismatch(
                "tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(expected) bytes, got \(bytes.count)")
        }
        self.init(validatedName: name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// For readers that have already checked `bytes.count` against `shape` (and report a
    /// mismatch with the file's path instead).
    init(validatedName name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Stores a float tensor as `f32` (bit-exact) or `f16` (rounded to nearest even). Throws
    /// ``LowBitTensor/LowBitError/invalidArgument(_:)`` for an integer dtype or when a finite value
    /// overflows `f16` (|x| >= 65520) and would silently become infinity.
    public init(name: String, tensor: Tensor, dtype: TensorDType = .f32) throws {
        switch dtype {
        case .f32:
            self.init(validatedName: name, dtype: dtype, shape: tensor.shape,
                      bytes: LittleEndian.bytes(of: tensor.data.map(\.bitPattern)))
        case .f16:
            var halves = [UInt16]()
            halves.reserveCapacity(tensor.count)
            for (index, value) in tensor.data.enumerated() {
                let half = HalfPrecision.halfBits(from: value)
                if value.isFinite && half & 0x7C00 == 0x7C00 {
                    throw LowBitError.invalidArgument(
                        "tensor '\(name)' has \(value) at flat index \(index), beyond the f16 range "
                            + "(±\(HalfPrecision.largestFiniteHalf)); store it as f32")
                }
                halves.append(half)
            }
            self.init(validatedName: name, dtype: dtype, shape: tensor.shape, bytes: LittleEndian.bytes(of: halves))
        default:
            throw LowBitError.invalidArgument(
                "tensor '\(name)': a float Tensor is stored as f32 or f16, not \(dtype.rawValue)")
        }
    }

    /// Stores integers as the dtype of `T` (`[UInt64]` becomes `u64`, `[Int8]` becomes `i8`, ...).
    public init<T: IntegerTensorElement>(name: String, shape: [Int], values: [T]) throws {
        try self.init(name: name, dtype: T.tensorDType, shape: shape, bytes: LittleEndian.bytes(of: values))
    }

    /// The number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The tensor's values as `Float`: exact for `f32` and `f16`. Throws
    /// ``LowBitTensor/LowBitError/invalidArgument(_:)`` for integer dtypes, whose meaning (codes,
    /// packed bits) only their producer knows: read those with ``values(as:)``.
    public func floatTensor() throws -> Tensor {
        switch dtype {
        case .f32:
            let words = LittleEndian.values(UInt32.self, from: bytes[...])
            return Tensor(shape: shape, data: words.map(Float.init(bitPattern:)))
        case .f16:
            let halves = LittleEndian.values(UInt16.self, from: bytes[...])
            return Tensor(shape: shape, data: halves.map(HalfPrecision.float(fromHalfBits:)))
        default:
            throw LowBitError.invalidArgument(
                "tensor '\(name)' is \(dtype.rawValue), not a float type; read it with values(as:)")
        }
    }

    /// The elements as `T`, whose dtype must be this tensor's dtype (no silent conversion).
    public func values<T: IntegerTensorElement>(as type: T.Type = T.self) throws -> [T] {
        guard T.tensorDType == dtype else {
            throw LowBitError.invalidArgument(
                "tensor '\(name)' is \(dtype.rawValue); it cannot be read as \(T.self) (\(T.tensorDType.rawValue))")
        }
        return LittleEndian.values(T.self, from: bytes[...])
    }

    /// `product(shape) * elementByteCount`, or `nil` for a negative dimension or an overflow.
    /// Readers call this before trusting any size a file claims.
    static func byteCount(shape: [Int], elementByteCount: Int) -> Int? {
        var total = elementByteCount
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }
}

/// An integer type that has a ``TensorDType``, for typed access to integer tensors.
///
/// ```swift
/// let codes = try StoredTensor(name: "fc1.codes", shape: [4], values: [Int8(-1), 0, 1, 1])
/// let back: [Int8] = try codes.values()
/// ```
public protocol IntegerTensorElement: FixedWidthInteger, Sendable {
    static var tensorDType: TensorDType { get }
}

extension Int8: IntegerTensorElement { public static var tensorDType: TensorDType { .i8 } }
extension UInt8: IntegerTensorElement { public static var tensorDType: TensorDType { .u8 } }
extension Int16: IntegerTensorElement { public static var tensorDType: TensorDType { .i16 } }
extension Int32: IntegerTensorElement { public static var tensorDType: TensorDType { .i32 } }
extension UInt32: IntegerTensorElement { public static var tensorDType: TensorDType { .u32 } }
extension UInt64: IntegerTensorElement { public static var tensorDType: TensorDType { .u64 } }

/// Name lookup shared by ``LowBitArchive`` and ``SafetensorsFile``: linear, because models hold
/// tens to hundreds of tensors and a file's order is worth more than a dictionary's speed.
extension Array where Element == StoredTensor {
    /// The tensor called `name`; the error lists the names that do exist so a typo or a model
    /// mismatch is obvious.
    func tensor(named name: String, in container: String) throws -> StoredTensor {
        if let match = first(where: { $0.name == name }) { return match }
        let shown = prefix(12).map { "'\($0.name)'" }.joined(separator: ", ")
        let rest = count > 12 ? ", … (\(count) in all)" : ""
        throw LowBitError.invalidArgument(
            "no tensor named '\(name)' in \(container); it has \(isEmpty ? "no tensors" : shown + rest)")
    }

    /// The first name that two tensors share, if any.
    var firstDuplicateName: String? {
        var seen = Set<String>()
        return first(where: { !seen.insert($0.name).inserted })?.name
    }
}
