import LowBitData
import LowBitTensor
import Testing

struct CIFAR10Tests {
    /// The pixel that the test writes for record `record`, channel `c`, row `y`, column `x`:
    /// distinct enough across (c, y, x) that a swapped axis shows.
    static func pixel(_ record: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 {
        UInt8((record * 37 + c * 85 + y * 7 + x * 3) % 256)
    }

    /// Records in the published layout: label byte, then the R, G and B planes, row-major.
    static func batch(firstRecord: Int, count: Int, label: (Int) -> UInt8) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in firstRecord..<(firstRecord + count) {
            bytes.append(label(record))
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { bytes.append(pixel(record, c, y, x)) } } }
        }
        return bytes
    }

    /// Five training batches of 2 records (one gzip-compressed) and a test batch of 3.
    static func writeDataset(_ directory: TemporaryDirectory, subdirectory: String = "") {
        for file in 1...5 {
            let bytes = batch(firstRecord: (file - 1) * 2, count: 2) { UInt8($0 % 10) }
            directory.write(bytes, to: subdirectory + "data_batch_\(file).bin" + (file == 3 ? ".gz" : ""), gzip: file == 3)
        }
        directory.write(batch(firstRecord: 100, count: 3) { UInt8(9 - $0 % 10) }, to: subdirectory + "test_batch.bin")
    }

    @Test func trainBatchesBecomeNHWCWithEveryPixelInPlace() throws {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory)
        let train = try CIFAR10.load(directory: directory.path, split: .train)
        #expect(train.features.shape == [10, 32, 32, 3])
        #expect(train.labels == (0..<10).map { Int32($0 % 10) })
        var mismatches = 0
        for n in 0..<10 { for y in 0..<32 { for x in 0..<32 { for c in 0..<3
            where train.features[n, y, x, c] != Float(Self.pixel(n, c, y, x)) / 255 { mismatches += 1 } } } }
        #expect(mismatches == 0)
        #expect(train.classNames == CIFAR10.classNames)
    }

    @Test func testBatchLoadsAlone() throws {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory)
        let test = try CIFAR10.load(directory: directory.path, split: .test)
        #expect(test.features.shape == [3, 32, 32, 3])
        #expect(test.labels == [9, 8, 7])
        #expect(test.features[2, 31, 0, 1] == Float(Self.pixel(102, 1, 31, 0)) / 255)
        #expect(test.name == "cifar10/test")
    }

    @Test func theArchiveFolderInsideTheGivenDirectoryIsFound() throws {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory, subdirectory: "cifar-10-batches-bin/")
        #expect(try CIFAR10.load(directory: directory.path, split: .test).count == 3)
    }

    @Test func missingBatchFilesAreListed() {
        let directory = TemporaryDirectory()
        directory.write(Self.batch(firstRecord: 0, count: 1) { _ in 0 }, to: "data_batch_1.bin")
        let message = errorDescription { try CIFAR10.load(directory: directory.path, split: .train) }
        #expect(message.contains("data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin"))
    }

    @Test func sizeThatIsNotAWholeNumberOfRecordsIsCorrupt() {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory)
        let path = directory.write(Array(Self.batch(firstRecord: 0, count: 2) { _ in 1 }.dropLast(5)), to: "test_batch.bin")
        let error = corruptFileError { try CIFAR10.load(directory: directory.path, split: .test) }
        #expect(error?.path == path)
        #expect(error?.reason.contains("3073") == true)
    }

    @Test func labelAboveNineIsCorrupt() {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory)
        directory.write(Self.batch(firstRecord: 0, count: 2) { $0 == 1 ? 10 : 0 }, to: "test_batch.bin")
        #expect(corruptFileError { try CIFAR10.load(directory: directory.path, split: .test) }?.reason
            == "record 1 has label 10; CIFAR-10 labels are 0...9")
    }

    @Test func classNamesComeFromTheMetaFile() throws {
        let directory = TemporaryDirectory()
        Self.writeDataset(directory)
        let names = (0..<10).map { "class\($0)" }
        directory.write(names.joined(separator: "\n") + "\n\n", to: "batches.meta.txt")
        #expect(try CIFAR10.load(directory: directory.path, split: .test).classNames == names)
    }
}
