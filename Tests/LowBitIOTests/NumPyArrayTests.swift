import LowBitIO
import LowBitTensor
import Testing

@Suite(".npy")
struct NumPyArrayTests {
    /// Files written by `np.save` / `np.lib.format.write_array` (Fixtures/make_fixtures.py).
    @Test(arguments: [
        ("f4_2x3.npy", [2, 3], .float32([1, -2, 3.5, 0.25, -0.0, 1e-3])),
        ("i8_4.npy", [4], .int64([-(1 << 40), -1, 0, (1 << 40) + 1])),
        ("u1_3.npy", [3], .uint8([0, 128, 255])),
        ("f8_scalar.npy", [], .float64([3.25])),
        ("i4_v2.npy", [2], .int32([-7, 7])),
        ("i1_v3.npy", [1, 2], .int8([-1, 1])),
    ] as [(String, [Int], NumPyArray.Elements)])
    func readsFilesWrittenByNumPy(name: String, shape: [Int], elements: NumPyArray.Elements) throws {
        let array = try NumPyArray.read(from: fixturePath(name))
        #expect(array.shape == shape)
        #expect(array.elements == elements)
    }

    /// NumPy's own output is the oracle for the header text, its padding and the data layout.
    @Test(arguments: [
        ("f4_2x3.npy", [2, 3], .float32([1, -2, 3.5, 0.25, -0.0, 1e-3])),
        ("i8_4.npy", [4], .int64([-(1 << 40), -1, 0, (1 << 40) + 1])),
        ("u1_3.npy", [3], .uint8([0, 128, 255])),
        ("f8_scalar.npy", [], .float64([3.25])),
    ] as [(String, [Int], NumPyArray.Elements)])
    func writesTheSameBytesAsNumPy(name: String, shape: [Int], elements: NumPyArray.Elements) throws {
        let ours = try NumPyArray(shape: shape, elements: elements).encoded()
        #expect(ours == (try FileAccess.readAll(fixturePath(name))))
    }

    @Test(arguments: [
        .float32([1.5, -0.0]), .float64([1e300, -2]), .int8([-128, 127]), .uint8([0, 255]),
        .int32([.min, .max]), .int64([.min, .max]),
    ] as [NumPyArray.Elements])
    func everyDtypeRoundTripsThroughAFile(elements: NumPyArray.Elements) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let array = try NumPyArray(shape: [1, 2], elements: elements)
        try array.write(to: directory.file("a.npy"))
        #expect(try NumPyArray.read(from: directory.file("a.npy")) == array)
    }

    @Test func aTensorRoundTripsAsFloat32() throws {
        let tensor = Tensor(shape: [2, 1, 2], data: [1, 2, 3, 4])
        let back = try NumPyArray(decoding: NumPyArray(tensor).encoded(), source: "memory")
        #expect(back.elements.descr == "<f4")
        #expect(back.floatTensor() == tensor)
    }

    @Test func integersAndDoublesConvertToFloatTensors() throws {
        #expect(try NumPyArray.read(from: fixturePath("u1_3.npy")).floatTensor() == Tensor(shape: [3], data: [0, 128, 255]))
        #expect(try NumPyArray.read(from: fixturePath("f8_scalar.npy")).floatTensor() == Tensor(shape: [], data: [3.25]))
    }

    @Test func aFortranOrderArrayIsRefusedWithTheFix() {
        let error = lowBitError { _ = try NumPyArray.read(from: fixturePath("f4_fortran_2x3.npy")) }
        guard case let .unsupported(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.contains("Fortran-order") && message.contains("np.ascontiguousarray"))
    }

    /// A `.npy` file with the given header text (padded the NumPy way) and data.
    static func handBuilt(header: String, data: [UInt8]) -> [UInt8] {
        let padding = (64 - (10 + header.utf8.count + 1) % 64) % 64
        let text = header + String(repeating: " ", count: padding) + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0] + littleEndianBytes(UInt16(text.utf8.count)) + Array(text.utf8) + data
    }

    /// Spellings other writers (and Python 2) produce: any key order, double quotes, `L` suffixes,
    /// no trailing comma, a 1-d array marked Fortran order (same bytes as C order).
    @Test(arguments: [
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", [], 1),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", [3], 3),
        ("{'shape': (1, 3), 'fortran_order': False, 'descr': '<i4'}", [1, 3], 3),
        ("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3L,)}", [3], 3),
        ("{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }", [3], 3),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (0, 5), }", [0, 5], 0),
    ] as [(String, [Int], Int)])
    func parsesHeaderSpellings(header: String, shape: [Int], count: Int) throws {
        let data = [UInt8](repeating: 1, count: 4 * count)
        let array = try NumPyArray(decoding: Self.handBuilt(header: header, data: data), source: "h")
        #expect(array.shape == shape)
        #expect(array.elements.count == count)
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 7, "truncated: shape [2] of <f4 needs 8 data bytes, the file has 7"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 9, "shape [2] of <f4 needs 8 data bytes but the file has 9"),
        ("{'descr': '<f4', 'shape': (2,), }", 8, "the .npy header has no boolean 'fortran_order'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, "the .npy header has a shape entry that is not a non-negative"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ", 8, "the .npy header is not a Python dict literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 8, "shape [4611686018427387904, 4] of <f4 is impossibly large"),
    ] as [(String, Int, String)])
    func aMalformedFileIsRejected(header: String, dataByteCount: Int, expected: String) {
        let bytes = Self.handBuilt(header: header, data: [UInt8](repeating: 0, count: dataByteCount))
        let reason = corruptReason { _ = try NumPyArray(decoding: bytes, source: "h") }
        #expect(reason.hasPrefix(expected), "\(reason)")
    }

    @Test(arguments: ["'>f4'", "'<c8'", "[('x', '<f4')]", "'<f2'"])
    func anUnsupportedDtypeIsRefusedWithTheFix(descr: String) {
        let bytes = Self.handBuilt(header: "{'descr': \(descr), 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])
        let error = lowBitError { _ = try NumPyArray(decoding: bytes, source: "h") }
        guard case let .unsupported(message)? = error else {
            // A list descr (structured dtype) is not a string: reported as a malformed header.
            if case let .corruptFile(_, reason)? = error, descr.hasPrefix("[") { #expect(reason.contains("'descr'")); return }
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(message.contains("astype('<f4')"))
    }

    @Test func aFileWithoutTheMagicIsNotNpy() throws {
        let bytes = try FileAccess.readAll(fixturePath("mixed.safetensors"))
        #expect(corruptReason { _ = try NumPyArray(decoding: bytes, source: "x") }.hasPrefix("not a .npy file"))
        #expect(corruptReason { _ = try NumPyArray(decoding: [0x93], source: "x") }.hasPrefix("not a .npy file"))
        #expect(corruptReason { _ = try NumPyArray(decoding: [0x93] + Array("NUMPY".utf8) + [1, 0], source: "x") }
            == "truncated inside the .npy preamble")
    }

    @Test func elementsThatDoNotFillTheShapeAreRefused() {
        #expect(lowBitError { _ = try NumPyArray(shape: [2, 2], elements: .uint8([1, 2, 3])) }
            == .shapeMismatch("a NumPy array of shape [2, 2] cannot hold 3 elements"))
    }
}
