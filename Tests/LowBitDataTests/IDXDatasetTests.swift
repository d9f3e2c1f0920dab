import LowBitData
import LowBitTensor
import Testing

struct IDXDatasetTests {
    /// Two 2 x 3 images with pixels 0, 51, ..., and labels 4, 9; returns the two paths.
    static func writePair(_ directory: TemporaryDirectory, labels: [UInt8] = [4, 9], imageCount: UInt32 = 2) -> (String, String) {
        let pixels: [UInt8] = [0, 51, 102, 153, 204, 255, 255, 204, 153, 102, 51, 0]
        let images = directory.write(idxFile(type: 0x08, shape: [imageCount, 2, 3], payload: Array(pixels.prefix(Int(imageCount) * 6))), to: "images")
        let labelsPath = directory.write(idxFile(type: 0x08, shape: [UInt32(labels.count)], payload: labels), to: "labels")
        return (images, labelsPath)
    }

    @Test func imagesBecomeNHWCInTheUnitInterval() throws {
        let directory = TemporaryDirectory()
        let (images, labels) = Self.writePair(directory)
        let dataset = try IDXDataset.load(images: images, labels: labels, name: "tiny")
        #expect(dataset.features.shape == [2, 2, 3, 1])
        #expect(dataset.features.data == [0, 0.2, 0.4, 0.6, 0.8, 1, 1, 0.8, 0.6, 0.4, 0.2, 0])
        #expect(dataset.labels == [4, 9])
        #expect(dataset.classCount == 10)
        #expect(dataset.name == "tiny")
    }

    @Test func imageAndLabelCountsMustAgree() {
        let directory = TemporaryDirectory()
        let (images, labels) = Self.writePair(directory, labels: [4, 9, 1])
        let error = corruptFileError { try IDXDataset.load(images: images, labels: labels, name: "tiny") }
        #expect(error?.path == images)
        #expect(error?.reason.contains("holds 2 images but \(labels) holds 3 labels") == true)
    }

    @Test func labelOutsideTheClassesNamesTheLabelsFile() {
        let directory = TemporaryDirectory()
        let (images, labels) = Self.writePair(directory, labels: [4, 10])
        let error = corruptFileError { try IDXDataset.load(images: images, labels: labels, name: "tiny") }
        #expect(error?.path == labels)
        #expect(error?.reason == "label 10 at index 1 is outside 0..<10")
    }

    @Test func labelsMustBeOneDimensional() {
        let directory = TemporaryDirectory()
        let (images, _) = Self.writePair(directory)
        let labels = directory.write(idxFile(type: 0x08, shape: [1, 2], payload: [4, 9]), to: "labels2d")
        #expect(corruptFileError { try IDXDataset.load(images: images, labels: labels, name: "tiny") }?.path == labels)
    }

    @Test func imagesMustHaveThreeOrFourDimensions() {
        let directory = TemporaryDirectory()
        let (_, labels) = Self.writePair(directory)
        let images = directory.write(idxFile(type: 0x08, shape: [2, 6], payload: [UInt8](repeating: 1, count: 12)), to: "flat")
        #expect(corruptFileError { try IDXDataset.load(images: images, labels: labels, name: "tiny") }?.reason.contains("has 2") == true)
    }
}
