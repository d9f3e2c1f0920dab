import Foundation
import LowBitData
import LowBitTensor
import Testing

struct IDXTests {
    static let pixels: [UInt8] = (0..<12).map { UInt8($0 * 20) }

    @Test(arguments: [false, true])
    func uint8ArrayRoundTripsFromRawAndGzipFiles(gzip: Bool) throws {
        let directory = TemporaryDirectory()
        let path = directory.write(idxFile(type: 0x08, shape: [3, 2, 2], payload: Self.pixels), to: "x-idx3-ubyte", gzip: gzip)
        let array = try IDXArray(contentsOf: path)
        #expect(array.elementType == .uint8)
        #expect(array.shape == [3, 2, 2])
        #expect(array.integerValues() == Self.pixels.map(Int.init))
        #expect(array.floatValues() == Self.pixels.map(Float.init))
    }

    @Test func uint8DividedBy255MapsTheExtremesExactly() throws {
        let array = try IDXArray(bytes: idxFile(type: 0x08, shape: [3], payload: [0, 51, 255]), path: "t")
        #expect(array.floatValues(dividedBy: 255) == [0, 0.2, 1])
    }

    /// Each element type with a value whose big-endian bytes are written out by hand.
    @Test(arguments: [
        (UInt8(0x09), [UInt8(0xFF)], -1.0),
        (UInt8(0x0B), [0xFE, 0xD4], -300.0),
        (UInt8(0x0C), [0xFF, 0xFE, 0xEE, 0x90], -70_000.0),
        (UInt8(0x0D), [0x3F, 0xC0, 0x00, 0x00], 1.5),
        (UInt8(0x0E), [0xC0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], -2.25),
    ])
    func everyElementTypeDecodesBigEndian(type: UInt8, element: [UInt8], expected: Double) throws {
        let array = try IDXArray(bytes: idxFile(type: type, shape: [2], payload: element + element), path: "t")
        #expect(array.floatValues() == [Float(expected), Float(expected)])
        if array.elementType.isInteger {
            #expect(array.integerValues() == [Int(expected), Int(expected)])
        } else {
            #expect(array.integerValues() == nil)
        }
    }

    @Test func fileShorterThanTheMagicNumberIsCorrupt() {
        #expect(corruptFileError { try IDXArray(bytes: [0, 0, 8], path: "short") }?.reason.contains("too short") == true)
    }

    @Test func wrongMagicIsCorrupt() {
        // A PNG signature where the IDX magic should be.
        let error = corruptFileError { try IDXArray(bytes: [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 1, 7], path: "image.png") }
        #expect(error?.path == "image.png")
        #expect(error?.reason.contains("not an IDX file") == true)
    }

    @Test func unsupportedElementTypeIsNamed() {
        let reason = corruptFileError { try IDXArray(bytes: idxFile(type: 0x07, shape: [1], payload: [1]), path: "t") }?.reason
        #expect(reason?.contains("0x07") == true)
        #expect(reason?.contains("0x08 (uint8)") == true)
    }

    @Test func headerCutShortIsCorrupt() {
        #expect(corruptFileError { try IDXArray(bytes: [0, 0, 8, 3, 0, 0, 0, 1], path: "t") }?.reason.contains("3 dimensions") == true)
    }

    @Test func countLargerThanTheDataIsCorrupt() {
        let bytes = idxFile(type: 0x08, shape: [4, 2, 2], payload: Self.pixels)   // 16 promised, 12 present
        let reason = corruptFileError { try IDXArray(bytes: bytes, path: "t") }?.reason
        #expect(reason?.contains("4 x 2 x 2") == true)
        #expect(reason?.contains("only 12 bytes") == true)
    }

    @Test func trailingGarbageIsCorrupt() {
        let bytes = idxFile(type: 0x08, shape: [3, 2, 2], payload: Self.pixels + [9, 9])
        #expect(corruptFileError { try IDXArray(bytes: bytes, path: "t") }?.reason.contains("2 bytes of trailing data") == true)
    }

    @Test func zeroDimensionsIsCorrupt() {
        #expect(corruptFileError { try IDXArray(bytes: [0, 0, 8, 0], path: "t") }?.reason.contains("0 dimensions") == true)
    }

    /// A 100-byte file whose header claims 2^31 images of 28 x 28, or sizes whose product
    /// overflows an Int: both fail at once, without allocating what the header promises.
    @Test(arguments: [[UInt32(1) << 31, 28, 28], [UInt32.max, UInt32.max, UInt32.max]])
    func hugeHeaderOnATinyFileFailsFast(shape: [UInt32]) throws {
        let directory = TemporaryDirectory()
        let path = directory.write(idxFile(type: 0x08, shape: shape, payload: [UInt8](repeating: 0, count: 84)), to: "liar", gzip: true)
        let start = Date()
        let reason = corruptFileError { try IDXArray(contentsOf: path) }?.reason
        #expect(reason?.contains("truncated or its header is wrong") == true)
        #expect(Date().timeIntervalSince(start) < 0.5)
    }
}
