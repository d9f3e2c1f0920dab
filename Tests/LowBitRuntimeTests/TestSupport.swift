import LowBitTensor
@testable import LowBitRuntime

/// Random inputs for the kernel tests: every test seeds its own generator, so failures reproduce.
extension SeededGenerator {
    /// Floats that hit the packing edge cases: +0, -0, NaN, tiny and ordinary values of both signs.
    mutating func signedFloats(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            switch nextInt(below: 12) {
            case 0: return 0
            case 1: return -0.0
            case 2: return .nan
            case 3: return nextInt(below: 2) == 0 ? .leastNonzeroMagnitude : -.leastNonzeroMagnitude
            default: return nextNormal()
            }
        }
    }

    /// A random ±1 matrix packed, pad bits 0.
    mutating func packedBits(rows: Int, columns: Int) -> PackedBits {
        var bits = PackedBits(rows: rows, columns: columns)
        for r in 0..<rows {
            for w in 0..<bits.wordsPerRow {
                let valid = min(64, columns - 64 * w)
                bits.words[r * bits.wordsPerRow + w] = next() & (valid == 64 ? ~0 : (UInt64(1) << UInt64(valid)) - 1)
            }
        }
        return bits
    }

    mutating func int32s(_ count: Int, in range: ClosedRange<Int32>) -> [Int32] {
        (0..<count).map { _ in Int32(Int(range.lowerBound) + nextInt(below: Int(range.upperBound) - Int(range.lowerBound) + 1)) }
    }

    /// Eight bytes per draw (plain loops: generic helpers are slow in debug builds).
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            var word: UInt64 = 0
            for index in 0..<count {
                if index % 8 == 0 { word = next() }
                buffer[index] = UInt8(truncatingIfNeeded: word >> UInt64(8 * (index % 8)))
            }
        }
        return out
    }

    /// Ternary values, 1/4 each of -1 and +1 and 1/2 zeros, 32 per draw.
    mutating func ternaryValues(_ count: Int) -> [Int8] {
        var out = [Int8](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            var word: UInt64 = 0
            for index in 0..<count {
                if index % 32 == 0 { word = next() }
                let code = (word >> UInt64(2 * (index % 32))) & 3
                buffer[index] = code == 0 ? -1 : code == 2 ? 1 : 0
            }
        }
        return out
    }
}

/// Row counts, column counts and depths that straddle the tile sizes (2 rows, 4 or 16 outputs,
/// 64-bit words, 4 x 64-bit vectors, 16- and 62-word blocks).
enum OddSizes {
    static let depths = [1, 2, 5, 63, 64, 65, 127, 128, 129, 200, 255, 256, 257, 576, 1000, 1023, 1024, 1025, 1152, 2000, 4100]
}
