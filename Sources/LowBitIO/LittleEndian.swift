/// Little-endian conversions between integers and bytes, shared by every format in this module.
///
/// All of `.lowbit`, safetensors and `.npy` (as LowBit writes it) are little-endian. Going through
/// `T(littleEndian:)` / `.littleEndian` keeps the code correct on a big-endian host and compiles to
/// plain copies on the little-endian ones we run on. Loads are unaligned because nothing guarantees
/// that an element inside a `[UInt8]` sits at an aligned address.
enum LittleEndian {
    /// Appends the `MemoryLayout<T>.size` little-endian bytes of `value`.
    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// The integer stored little-endian at `bytes[offset...]`. The caller checks that
    /// `offset + MemoryLayout<T>.size <= bytes.count`.
    static func read<T: FixedWidthInteger>(_ type: T.Type, from bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// The little-endian bytes of `values`, element after element.
    static func bytes<T: FixedWidthInteger>(of values: [T]) -> [UInt8] {
        values.map(\.littleEndian).withUnsafeBytes { Array($0) }
    }

    /// Decodes `bytes` as consecutive little-endian `T`s; `bytes.count` must be a multiple of the
    /// element size (callers have validated shape against byte count).
    static func values<T: FixedWidthInteger>(_ type: T.Type, from bytes: ArraySlice<UInt8>) -> [T] {
        let size = MemoryLayout<T>.size
        precondition(bytes.count % size == 0, "\(bytes.count) bytes is not a whole number of \(size)-byte elements")
        let count = bytes.count / size
        return bytes.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for index in 0..<count {
                    buffer[index] = T(littleEndian: raw.loadUnaligned(fromByteOffset: index * size, as: T.self))
                }
                initialized = count
            }
        }
    }
}
