import Foundation
import LowBitData
import LowBitTensor
import Testing

struct GzipReaderTests {
    /// Bytes that compress poorly, so that cutting the .gz in half cuts the deflate stream.
    static let sample: [UInt8] = {
        var generator = SeededGenerator(seed: 3)
        return (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }()

    @Test(arguments: [false, true])
    func rawAndGzipFilesReadTheSameBytes(gzip: Bool) throws {
        let directory = TemporaryDirectory()
        let path = directory.write(Self.sample, to: "sample.bin", gzip: gzip)
        #expect(try GzipReader.readAll(path) == Self.sample)
    }

    @Test func emptyFileReadsAsNoBytes() throws {
        let directory = TemporaryDirectory()
        #expect(try GzipReader.readAll(directory.write([UInt8](), to: "empty")) == [])
    }

    @Test func truncatedGzipIsReportedAsTruncated() throws {
        let directory = TemporaryDirectory()
        let full = try Data(contentsOf: URL(fileURLWithPath: directory.write(Self.sample, to: "full.gz", gzip: true)))
        let path = directory.write(Array(full.prefix(full.count / 2)), to: "half.gz")
        let error = corruptFileError { try GzipReader.readAll(path) }
        #expect(error?.path == path)
        #expect(error?.reason.contains("truncated") == true)
    }

    @Test func damagedGzipStreamIsCorruptFile() throws {
        let directory = TemporaryDirectory()
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory.write(Self.sample, to: "full.gz", gzip: true))))
        for i in stride(from: 1000, to: 1100, by: 1) { bytes[i] ^= 0x5A }
        let path = directory.write(bytes, to: "damaged.gz")
        #expect(corruptFileError { try GzipReader.readAll(path) }?.path == path)
    }

    @Test func missingFileIsAnIOErrorNamingThePath() {
        let path = "/nonexistent/lowbit/file.gz"
        #expect(throws: LowBitError.io(path: path, reason: "cannot open: No such file or directory")) {
            try GzipReader.readAll(path)
        }
    }

    @Test func directoryIsAnIOError() {
        let directory = TemporaryDirectory()
        #expect(throws: LowBitError.io(path: directory.path, reason: "is a directory, expected a file")) {
            try GzipReader.readAll(directory.path)
        }
    }

    @Test func outputLargerThanTheCeilingIsRejected() {
        let directory = TemporaryDirectory()
        let path = directory.write([UInt8](repeating: 0, count: 5000), to: "zeros.gz", gzip: true)
        #expect(corruptFileError { try GzipReader.readAll(path, maximumByteCount: 4096) }?.reason.contains("more than 4096 bytes") == true)
    }

    @Test func existingPathFallsBackToTheGzName() {
        let directory = TemporaryDirectory()
        directory.write([1], to: "a.gz")
        directory.write([1], to: "b")
        directory.write([1], to: "b.gz")
        #expect(GzipReader.existingPath(directory.file("a")) == directory.file("a.gz"))
        #expect(GzipReader.existingPath(directory.file("b")) == directory.file("b"))
        #expect(GzipReader.existingPath(directory.file("c")) == nil)
    }
}
