import LowBitData
import LowBitTensor
import Testing

struct CSVTests {
    @Test(arguments: [false, true])
    func headerRowIsDetectedAndSkipped(gzip: Bool) throws {
        let directory = TemporaryDirectory()
        let path = directory.write("pt,eta,label\n1.5,-2,0\n3,4e-1,2\n", to: "jets.csv" + (gzip ? ".gz" : ""), gzip: gzip)
        let dataset = try CSVDataset.load(path: path)
        #expect(dataset.features.shape == [2, 2])
        #expect(dataset.features.data == [1.5, -2, 3, 0.4])
        #expect(dataset.labels == [0, 2])
        #expect(dataset.classCount == 3)
        #expect(dataset.classNames == nil)
        #expect(dataset.name == "jets")
    }

    @Test func fileWithoutHeaderKeepsItsFirstRow() throws {
        let directory = TemporaryDirectory()
        let dataset = try CSVDataset.load(path: directory.write("1,2,1\n3,4,0", to: "plain.csv"))
        #expect(dataset.features.data == [1, 2, 3, 4])
        #expect(dataset.labels == [1, 0])
    }

    /// A non-numeric label in the first row is a class name, not a header.
    @Test func classNamesAreSortedWhateverTheRowOrder() throws {
        let directory = TemporaryDirectory()
        let dataset = try CSVDataset.load(path: directory.write("1,w\n2,g\n3,q\n4,g\n", to: "names.csv"))
        #expect(dataset.classNames == ["g", "q", "w"])
        #expect(dataset.labels == [2, 0, 1, 0])
        #expect(dataset.features.shape == [4, 1])
    }

    @Test(arguments: [0, -3])
    func labelColumnCanBeChosenFromEitherEnd(labelColumn: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.write("y,a,b\n1,10,20\n0,30,40\n", to: "first.csv")
        let dataset = try CSVDataset.load(path: path, labelColumn: labelColumn)
        #expect(dataset.labels == [1, 0])
        #expect(dataset.features.data == [10, 20, 30, 40])
    }

    @Test func labelColumnOutsideTheRowIsAnInvalidArgument() {
        let directory = TemporaryDirectory()
        let path = directory.write("1,2,0\n", to: "x.csv")
        #expect(errorDescription { try CSVDataset.load(path: path, labelColumn: 3) }.contains("has 3 columns"))
    }

    @Test func nonNumericFeatureNamesLineAndColumn() {
        let directory = TemporaryDirectory()
        let path = directory.write("a,b,label\n1,2,0\n3,oops,1\n", to: "bad.csv")
        let error = corruptFileError { try CSVDataset.load(path: path) }
        #expect(error?.path == path)
        #expect(error?.reason == "line 3, column 2: 'oops' is not a number")
    }

    @Test(arguments: ["1,,0\n", "1,nan,0\n"])
    func emptyOrNonFiniteFeatureIsAnError(row: String) {
        let directory = TemporaryDirectory()
        let path = directory.write("1,2,0\n" + row, to: "missing.csv")
        #expect(corruptFileError { try CSVDataset.load(path: path) }?.reason.hasPrefix("line 2, column 2:") == true)
    }

    @Test func raggedRowIsAnError() {
        let directory = TemporaryDirectory()
        let path = directory.write("a,b,label\n1,2,0\n3,1\n", to: "ragged.csv")
        #expect(corruptFileError { try CSVDataset.load(path: path) }?.reason == "line 3: has 2 cells, expected 3 like line 1")
    }

    @Test(arguments: ["", "\n\n", "a,b,label\n"])
    func fileWithoutDataRowsIsAnError(text: String) {
        let directory = TemporaryDirectory()
        let path = directory.write(text, to: "empty.csv")
        #expect(corruptFileError { try CSVDataset.load(path: path) }?.path == path)
    }

    @Test func crlfBlankLinesSpacesAndQuotesAreAccepted() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("\"x\", \"y\" ,class\r\n\r\n 1 ,\"2\",\"a \"\"b\"\"\"\r\n3,4,c\r\n", to: "quoted.csv")
        let dataset = try CSVDataset.load(path: path)
        #expect(dataset.features.data == [1, 2, 3, 4])
        #expect(dataset.classNames == ["a \"b\"", "c"])
    }

    @Test func unterminatedQuoteIsAnError() {
        let directory = TemporaryDirectory()
        let path = directory.write("1,\"2,0\n", to: "quote.csv")
        #expect(corruptFileError { try CSVDataset.load(path: path) }?.reason == "line 1, column 2: quoted cell has no closing quote")
    }

    @Test func wholeNumberLabelsWrittenAsFloatsAreIntegers() throws {
        let directory = TemporaryDirectory()
        #expect(try CSVDataset.load(path: directory.write("1,1.0\n2,0.0\n", to: "f.csv")).labels == [1, 0])
    }

    @Test func testFileUsesTheTrainingFilesClasses() throws {
        let directory = TemporaryDirectory()
        let train = directory.write("1,t\n2,g\n3,w\n", to: "train.csv")
        let encoding = try CSVDataset.labelEncoding(path: train)
        #expect(encoding == .names(["g", "t", "w"]))
        let test = try CSVDataset.load(path: directory.write("5,w\n", to: "test.csv"), labelEncoding: encoding)
        #expect(test.labels == [2])
        #expect(test.classCount == 3)
        let unknown = directory.write("5,z\n", to: "unknown.csv")
        #expect(corruptFileError { try CSVDataset.load(path: unknown, labelEncoding: encoding) }?.reason.hasPrefix("line 1, column 2: label 'z' is not one of the classes") == true)
    }

    @Test func integerLabelOutsideTheTrainingClassesIsAnError() {
        let directory = TemporaryDirectory()
        let path = directory.write("1,0\n2,5\n", to: "test.csv")
        #expect(corruptFileError { try CSVDataset.load(path: path, labelEncoding: .integers(classCount: 3)) }?.reason
            == "line 2, column 2: label 5 is outside 0..<3")
    }
}
