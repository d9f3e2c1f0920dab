import LowBitIO
import LowBitTensor
import Testing

@Suite("Atomic writes")
struct AtomicWriteTests {
    @Test func aWriteLeavesOnlyTheDestinationBehind() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try LowBitArchive(tensors: [StoredTensor(name: "w", tensor: .zeros([3]))])
        try archive.write(to: directory.file("m.lowbit"))
        try archive.write(to: directory.file("m.lowbit"))  // overwrite
        #expect(try directory.fileNames() == ["m.lowbit"])
    }

    @Test func overwritingReplacesTheWholeContent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("x.bin")
        try FileAccess.writeAtomically([UInt8](repeating: 7, count: 1000), to: path)
        try FileAccess.writeAtomically([1, 2, 3], to: path)
        #expect(try FileAccess.readAll(path) == [1, 2, 3])
    }

    @Test func anEncodingFailureLeavesTheOldFileUntouched() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("m.lowbit")
        try LowBitArchive(metadata: ["loss": 0.5]).write(to: path)
        let before = try FileAccess.readAll(path)

        let error = lowBitError { try LowBitArchive(metadata: ["loss": .number(.nan)]).write(to: path) }
        guard case let .invalidArgument(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.contains("'metadata.loss'") && message.contains("NaN"))
        #expect(try FileAccess.readAll(path) == before)
        #expect(try directory.fileNames() == ["m.lowbit"])
    }

    @Test func writingIntoAMissingDirectoryFailsWithAnIOError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = lowBitError { try FileAccess.writeAtomically([1], to: directory.file("missing/m.lowbit")) }
        guard case let .io(path, reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path.hasSuffix("missing/m.lowbit") && reason.contains("No such file or directory"))
        #expect(try directory.fileNames().isEmpty)
    }

    @Test func readingAMissingFileNamesIt() {
        let error = lowBitError { _ = try LowBitArchive.read(from: "/nonexistent/model.lowbit") }
        #expect(error == .io(path: "/nonexistent/model.lowbit", reason: "cannot open for reading: No such file or directory"))
    }
}
