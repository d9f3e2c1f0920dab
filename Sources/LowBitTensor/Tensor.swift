import CLowBitKernels
import Foundation

/// A dense float32 tensor in row-major order. Images are NHWC: `[batch, height, width, channels]`.
///
/// `Tensor` is a value type with copy-on-write storage (a Swift `Array`), so passing it around is
/// cheap and mutation never aliases. Hot loops reach the storage through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
///
/// ```swift
/// var x = Tensor.zeros([2, 3])
/// x[0, 1] = 4
/// let y = x.reshaped([3, 2])
/// ```
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, data has \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// A tensor whose storage is filled by `body` (no zero-initialisation pass).
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Row-major strides for `shape`.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            result[axis] = running
            running *= shape[axis]
        }
        return result
    }

    public subscript(indices: Int...) -> Float {
        get { data[flatIndex(indices)] }
        set { data[flatIndex(indices)] = newValue }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "index rank \(indices.count) != tensor rank \(shape.count)")
        var offset = 0
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "index \(index) out of range for axis \(axis) of \(shape)")
            offset = offset * shape[axis] + index
        }
        return offset
    }

    /// The same data seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `range` of the leading axis (e.g. a slice of a batch).
    public func slice(rows range: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, data: Array(data[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }

    /// Throws ``LowBitError/nonFinite(_:)`` naming `what` if any element is NaN or infinite.
    public func checkFinite(_ what: String) throws {
        let index = data.withUnsafeBufferPointer { lb_first_nonfinite($0.baseAddress!, $0.count) }
        if index < data.count {
            throw LowBitError.nonFinite("\(what) has \(data[index]) at flat index \(index)")
        }
    }

    public var description: String {
        let preview = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(preview)\(data.count > 8 ? ", ..." : "")])"
    }
}

extension Tensor {
    /// Largest absolute elementwise difference, for tests and checks.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        var worst: Float = 0
        for (a, b) in zip(data, other.data) { worst = max(worst, abs(a - b)) }
        return worst
    }

    /// Index of the largest element in each row of a `[rows, columns]` tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs a 2-D tensor, got \(shape)")
        let columns = shape[1]
        return (0..<shape[0]).map { row in
            var best = 0
            var bestValue = -Float.infinity
            for column in 0..<columns where data[row * columns + column] > bestValue {
                bestValue = data[row * columns + column]
                best = column
            }
            return best
        }
    }
}
