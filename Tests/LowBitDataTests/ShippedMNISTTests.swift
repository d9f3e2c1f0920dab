import Foundation
import LowBitData
import LowBitTensor
import Testing

/// The MNIST copy in data/mnist, checked against published facts about MNIST.
struct ShippedMNISTTests {
    static let directory = try! DatasetSpec.shippedMNISTDirectory()

    @Test func testSetHas10000ImagesWithThePublishedLabels() throws {
        let test = try DatasetSpec(parsing: "mnist").load(.test)
        #expect(test.features.shape == [10_000, 28, 28, 1])
        #expect(test.labels.prefix(10) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(test.classHistogram == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        #expect(test.features.data.min() == 0 && test.features.data.max() == 1)
        #expect(test.classNames == (0..<10).map(String.init))
    }

    /// Only the labels file, to keep the suite fast: the 47 MB training images are exercised by
    /// the `lowbit` tool and by the checksum below.
    @Test func trainLabelsMatchThePublishedClassCounts() throws {
        let labels = try IDXArray(contentsOf: Self.directory + "/train-labels-idx1-ubyte.gz").integerValues() ?? []
        var histogram = [Int](repeating: 0, count: 10)
        for label in labels { histogram[label] += 1 }
        #expect(histogram == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    }

    /// The sha256 column of data/mnist/README.md against `sha256sum` of the files.
    @Test func checksumsMatchTheREADME() throws {
        let readme = try String(contentsOfFile: Self.directory + "/README.md", encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains(".gz |") }
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.count == 4)
        for row in rows {
            let (file, bytes, sha256) = (row[0], Int(row[1]), row[2])
            let path = Self.directory + "/" + file
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == bytes, "\(file) size")
            #expect(try Self.sha256sum(path) == sha256, "\(file) sha256")
        }
    }

    static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
