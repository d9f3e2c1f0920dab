import LowBitData
import LowBitTensor
import Testing

struct LabeledDatasetTests {
    /// `count` samples of 2 features `[i, -i]`, label `i % 3`.
    static func numbered(_ count: Int) throws -> LabeledDataset {
        try LabeledDataset(
            name: "numbered", features: Tensor(shape: [count, 2], data: (0..<count).flatMap { [Float($0), -Float($0)] }),
            labels: (0..<count).map { Int32($0 % 3) }, classCount: 3)
    }

    /// Sample indices recovered from the first feature.
    static func ids(_ dataset: LabeledDataset) -> [Int] {
        (0..<dataset.count).map { Int(dataset.features[$0, 0]) }
    }

    @Test func subsetGathersRowsAndLabelsInTheGivenOrder() throws {
        let subset = try Self.numbered(6).subset([5, 0, 5])
        #expect(subset.features.data == [5, -5, 0, 0, 5, -5])
        #expect(subset.labels == [2, 0, 2])
        #expect(subset.classCount == 3)
    }

    @Test func prefixStopsAtTheDatasetSize() throws {
        let dataset = try Self.numbered(4)
        #expect(Self.ids(dataset.prefix(2)) == [0, 1])
        #expect(dataset.prefix(10).count == 4)
        #expect(dataset.prefix(0).features.shape == [0, 2])
    }

    @Test func splitIsAPartitionRepeatableBySeed() throws {
        let dataset = try Self.numbered(50)
        let (train, validation) = try dataset.split(validationFraction: 0.2, seed: 11)
        #expect(train.count == 40 && validation.count == 10)
        #expect(Set(Self.ids(train)).isDisjoint(with: Self.ids(validation)))
        #expect(Set(Self.ids(train) + Self.ids(validation)) == Set(0..<50))
        #expect(Self.ids(train) == Self.ids(train).sorted())
        let again = try dataset.split(validationFraction: 0.2, seed: 11)
        #expect(Self.ids(again.validation) == Self.ids(validation))
        let other = try dataset.split(validationFraction: 0.2, seed: 12)
        #expect(Self.ids(other.validation) != Self.ids(validation))
    }

    @Test func stratifiedSplitTakesTheFractionOfEveryClass() throws {
        // 30 samples of class 0, 10 of class 1.
        let dataset = try LabeledDataset(
            name: "skewed", features: Tensor(shape: [40, 1], data: (0..<40).map(Float.init)),
            labels: (0..<40).map { $0 < 30 ? 0 : 1 }, classCount: 2)
        let (train, validation) = try dataset.split(validationFraction: 0.3, seed: 5, stratified: true)
        #expect(validation.classHistogram == [9, 3])
        #expect(train.classHistogram == [21, 7])
    }

    @Test(arguments: [-0.1, 1.0])
    func splitRejectsAFractionOutsideZeroToOne(fraction: Double) throws {
        let dataset = try Self.numbered(4)
        #expect(throws: LowBitError.self) { try dataset.split(validationFraction: fraction, seed: 1) }
    }

    @Test func initRejectsLabelsOutsideTheClasses() {
        #expect(throws: LowBitError.invalidArgument("dataset d: label 3 of sample 1 is outside 0..<3")) {
            try LabeledDataset(name: "d", features: .zeros([2, 1]), labels: [0, 3], classCount: 3)
        }
    }

    @Test func initRejectsCountMismatch() {
        #expect(throws: LowBitError.shapeMismatch("dataset d: 2 samples but 1 labels")) {
            try LabeledDataset(name: "d", features: .zeros([2, 1]), labels: [0], classCount: 3)
        }
    }
}
