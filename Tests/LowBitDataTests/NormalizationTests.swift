import Foundation
import LowBitData
import LowBitTensor
import Testing

struct NormalizationTests {
    /// Column 0 is 1, 2, 3, 4: mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
    /// Column 1 is constant 10: its std is replaced by 1.
    static let table = Tensor(shape: [4, 2], data: [1, 10, 2, 10, 3, 10, 4, 10])

    @Test func fitComputesPopulationStatisticsPerColumn() throws {
        let normalization = try Normalization.fit(Self.table)
        #expect(normalization.mean == [2.5, 10])
        #expect(abs(normalization.std[0] - Float(1.25).squareRoot()) < 1e-6)
        #expect(normalization.std[1] == 1)
    }

    @Test func applySubtractsTheMeanAndDividesByTheStd() throws {
        let normalized = try Normalization.fit(Self.table).apply(to: Self.table)
        let expected: [Float] = [-1.3416408, 0, -0.4472136, 0, 0.4472136, 0, 1.3416408, 0]
        #expect(normalized.maxAbsDifference(Tensor(shape: [4, 2], data: expected)) < 1e-6)
    }

    /// NHWC: the channel is the last axis, whatever the pixel position.
    @Test func imageChannelsAreTheLastAxis() throws {
        // 2 images of 1 x 2 pixels with 3 channels; channel c holds values c*10 + {0, 2, 4, 6}.
        let images = Tensor(shape: [2, 1, 2, 3], data: [0, 10, 20, 2, 12, 22, 4, 14, 24, 6, 16, 26])
        let normalization = try Normalization.fit(images)
        #expect(normalization.mean == [3, 13, 23])
        // deviations -3, -1, 1, 3: variance (9 + 1 + 1 + 9) / 4 = 5.
        for std in normalization.std { #expect(abs(std - Float(5).squareRoot()) < 1e-6) }
    }

    @Test func fitOnADatasetMatchesFitOnItsFeatures() throws {
        let dataset = try LabeledDataset(name: "t", features: Self.table, labels: [0, 1, 0, 1], classCount: 2)
        #expect(try Normalization.fit(dataset) == Normalization.fit(Self.table))
        #expect(try Normalization.fit(dataset).apply(to: dataset).labels == [0, 1, 0, 1])
    }

    @Test func roundTripsThroughJSON() throws {
        let normalization = try Normalization(mean: [0.1307], std: [0.3081])
        let decoded = try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(normalization))
        #expect(decoded == normalization)
    }

    @Test func applyRejectsTheWrongChannelCount() throws {
        let normalization = try Normalization(mean: [0, 0, 0], std: [1, 1, 1])
        #expect(throws: LowBitError.self) { try normalization.apply(to: Self.table) }
    }

    @Test(arguments: [Float(0), -1, .nan])
    func stdMustBePositive(std: Float) {
        #expect(throws: LowBitError.self) { try Normalization(mean: [0], std: [std]) }
    }
}
