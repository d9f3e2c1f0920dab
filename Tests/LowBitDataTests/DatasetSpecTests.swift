import Foundation
@testable import LowBitData
import LowBitTensor
import Testing

struct DatasetSpecTests {
    @Test(arguments: [
        ("mnist", DatasetSpec.mnist(directory: nil)),
        ("mnist:/d/mnist", .mnist(directory: "/d/mnist")),
        ("fashion-mnist:/d/fm", .fashionMNIST(directory: "/d/fm")),
        ("cifar10:/d/c", .cifar10(directory: "/d/c")),
        ("csv:/d/jets.csv.gz", .csv(path: "/d/jets.csv.gz", labelColumn: -1)),
    ])
    func specStringsParseAndPrintBack(text: String, expected: DatasetSpec) throws {
        let spec = try DatasetSpec(parsing: text)
        #expect(spec == expected)
        #expect(spec.description == text)
    }

    @Test func csvTakesTheLabelColumnFromTheAPI() throws {
        #expect(try DatasetSpec(parsing: "csv:a.csv", labelColumn: 0) == .csv(path: "a.csv", labelColumn: 0))
    }

    @Test func unknownSchemeListsTheAcceptedForms() {
        let message = errorDescription { try DatasetSpec(parsing: "imagenet:/data") }
        #expect(message.contains("unknown dataset 'imagenet:/data'"))
        #expect(message.contains("mnist, mnist:DIR, fashion-mnist:DIR, cifar10:DIR, csv:FILE, csv:DIR"))
    }

    @Test(arguments: ["cifar10", "fashion-mnist:", "csv"])
    func schemesThatNeedALocationSaySo(text: String) {
        #expect(errorDescription { try DatasetSpec(parsing: text) }.contains("needs a"))
    }

    @Test func idxDirectoryWithUncompressedStandardNamesLoads() throws {
        let directory = TemporaryDirectory()
        for (prefix, count) in [("train", 3), ("t10k", 2)] {
            directory.write(idxFile(type: 0x08, shape: [UInt32(count), 2, 2], payload: [UInt8](repeating: 255, count: count * 4)),
                            to: "\(prefix)-images-idx3-ubyte")
            directory.write(idxFile(type: 0x08, shape: [UInt32(count)], payload: (0..<count).map { UInt8($0) }),
                            to: "\(prefix)-labels-idx1-ubyte", gzip: true)
        }
        let spec = try DatasetSpec(parsing: "fashion-mnist:" + directory.path)
        let train = try spec.load(.train), test = try spec.load(.test)
        #expect(train.features.shape == [3, 2, 2, 1] && test.features.shape == [2, 2, 2, 1])
        #expect(test.name == "fashion-mnist/test")
        #expect(test.classNames?[9] == "Ankle boot")
    }

    @Test func missingIDXFileSaysWhichAndWhatIsExpected() {
        let directory = TemporaryDirectory()
        let message = errorDescription { try DatasetSpec(parsing: "mnist:" + directory.path).load(.test) }
        #expect(message.contains("missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may also be .gz)"))
    }

    @Test func singleCSVFileGivesTheWholeFileForBothSplits() throws {
        let directory = TemporaryDirectory()
        let spec = try DatasetSpec(parsing: "csv:" + directory.write("1,a\n2,b\n", to: "all.csv"))
        #expect(try spec.load(.train).features == spec.load(.test).features)
        #expect(try spec.load(.test).name == "all/test")
    }

    @Test func csvDirectoryGivesRealSplitsWithTheTrainingClasses() throws {
        let directory = TemporaryDirectory()
        directory.write("x,label\n1,q\n2,g\n3,z\n", to: "jets/train.csv.gz", gzip: true)
        directory.write("x,label\n4,z\n", to: "jets/test.csv")
        let spec = try DatasetSpec(parsing: "csv:" + directory.file("jets"))
        #expect(try spec.load(.train).count == 3)
        let test = try spec.load(.test)
        #expect(test.labels == [2])
        #expect(test.classNames == ["g", "q", "z"])
    }

    @Test func shippedMNISTSearchOrderIsEnvironmentThenRepositoryThenCurrentDirectory() throws {
        let root = TemporaryDirectory()
        for folder in ["env/mnist", "repo/Sources/LowBitData", "repo/data/mnist", "cwd/data/mnist"] {
            try FileManager.default.createDirectory(atPath: root.file(folder), withIntermediateDirectories: true)
        }
        let source = root.file("repo/Sources/LowBitData/DatasetSpec.swift")
        func locate(_ environment: [String: String], _ source: String) throws -> String {
            try DatasetSpec.shippedMNISTDirectory(environment: environment, sourceFile: source, currentDirectory: root.file("cwd"))
        }
        #expect(try locate(["LOWBIT_DATA_DIR": root.file("env")], source) == root.file("env/mnist"))
        #expect(try locate(["LOWBIT_DATA_DIR": root.file("nothing-here")], source) == root.file("repo/data/mnist"))
        #expect(try locate([:], "/moved/away/Sources/LowBitData/DatasetSpec.swift") == root.file("cwd/data/mnist"))
    }

    @Test func shippedMNISTErrorListsWhereItLooked() {
        let message = errorDescription {
            try DatasetSpec.shippedMNISTDirectory(environment: ["LOWBIT_DATA_DIR": "/no/env"],
                                                  sourceFile: "/no/repo/Sources/LowBitData/X.swift", currentDirectory: "/no/cwd")
        }
        #expect(message.contains("/no/env/mnist, /no/repo/data/mnist, /no/cwd/data/mnist"))
    }
}
