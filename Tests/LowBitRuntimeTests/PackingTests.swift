import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Sign-bit packing")
struct PackingTests {
    @Test("bit c of row r is set exactly when x < 0 (sign(0) = +1), pad bits 0", arguments: KernelPath.supported)
    func matchesDefinition(path: KernelPath) {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<1_000 {
            let rows = 1 + rng.nextInt(below: 4), columns = 1 + rng.nextInt(below: 300)
            let values = rng.signedFloats(rows * columns)
            var expected = [UInt64](repeating: 0, count: rows * PackedBits.wordCount(bits: columns))
            for r in 0..<rows {
                for c in 0..<columns where values[r * columns + c] < 0 {
                    expected[r * PackedBits.wordCount(bits: columns) + c / 64] |= UInt64(1) << UInt64(c % 64)
                }
            }
            #expect(PackedBits(packing: values, rows: rows, columns: columns, path: path).words == expected)
        }
    }

    @Test("the fast packing equals the reference twin with strides and extra pad words", arguments: KernelPath.supported)
    func matchesReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 12)
        for _ in 0..<1_500 {
            let rows = 1 + rng.nextInt(below: 5), columns = 1 + rng.nextInt(below: 260)
            let stride = columns + rng.nextInt(below: 3), words = PackedBits.wordCount(bits: columns) + rng.nextInt(below: 2)
            let values = rng.signedFloats(rows * stride)
            var fast = [UInt64](repeating: 0xDEAD, count: rows * words), reference = [UInt64](repeating: 0xBEEF, count: rows * words)
            lbr_pack_signs(path.isa, values, rows, columns, stride, &fast, words)
            lbr_pack_signs_ref(values, rows, columns, stride, &reference, words)
            #expect(fast == reference)
        }
    }

    @Test("-0.0, NaN and +0 pack to +1; the smallest negative number packs to -1")
    func signEdgeCases() {
        let bits = PackedBits(packing: [0, -0.0, .nan, -.leastNonzeroMagnitude, .infinity, -.infinity], rows: 1, columns: 6)
        #expect(bits.unpacked() == [1, 1, 1, -1, 1, -1])
    }

    @Test("wrapping words rejects set pad bits")
    func rejectsPadBits() throws {
        #expect(throws: LowBitError.self) { try PackedBits(rows: 1, columns: 3, wordsPerRow: 1, words: [0b1000]) }
        #expect(throws: LowBitError.self) { try PackedBits(rows: 1, columns: 64, wordsPerRow: 2, words: [0, 1]) }
        #expect(try PackedBits(rows: 1, columns: 3, wordsPerRow: 1, words: [0b101]).unpacked() == [-1, 1, -1])
    }
}

@Suite("4-bit weight codes, two to a byte")
struct NibbleCodesTests {
    @Test("pack then unpack gives the codes back; the bytes are the hand-computed ones")
    func roundTrip() throws {
        #expect(NibbleCodes.pack([-7, 3, 7], rows: 1, columns: 3) == [0x39, 0x07])
        #expect(NibbleCodes.pack([-8, -1, 0, 1], rows: 2, columns: 2) == [0xF8, 0x10])
        var rng = SeededGenerator(seed: 97)
        for _ in 0..<200 {
            let rows = 1 + rng.nextInt(below: 5), columns = 1 + rng.nextInt(below: 40)
            let codes = (0..<(rows * columns)).map { _ in Int8(rng.nextInt(below: 16)) - 8 }
            let bytes = NibbleCodes.pack(codes, rows: rows, columns: columns)
            #expect(bytes.count == rows * ((columns + 1) / 2))
            #expect(try NibbleCodes.unpack(bytes, rows: rows, columns: columns) == codes)
        }
        #expect(throws: LowBitError.self) { try NibbleCodes.unpack([0, 0], rows: 1, columns: 5) }
    }
}
