import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitTensor

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Accuracy, loss, per-class accuracy and confusion matrix of a model on a data set's test split.",
        discussion: "Example: lowbit eval mlp.lowbit --dataset mnist --json"
    )

    @Argument(help: "Model file (.lowbit).") var modelPath: String
    @OptionGroup var data: DatasetOptions
    @Option(name: .customLong("batch-size"), help: "Evaluation batch size.") var batchSize = 128
    @Flag(help: "Print one JSON object: accuracy (0...1), loss, samples, per_class_accuracy, confusion.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        _ = try common.apply(label: "eval")
        let (model, metadata) = try loadModel(modelPath)
        let testSet = try data.load(.test)
        guard testSet.sampleShape == model.spec.inputShape else {
            throw LowBitError.shapeMismatch("\(modelPath) takes samples of shape \(model.spec.inputShape); \(data.dataset) has \(testSet.sampleShape)")
        }
        guard testSet.classCount <= model.spec.classCount else {
            throw LowBitError.shapeMismatch("\(modelPath) predicts \(model.spec.classCount) classes; \(data.dataset) has \(testSet.classCount)")
        }
        let loader = try DataLoader(testSet, batchSize: batchSize, shuffle: false, normalization: try storedNormalization(metadata))
        let result = try evaluate(model, batches: loader.epoch(0))
        if json {
            try printJSON(EvalReport(model: modelPath, dataset: data.dataset, accuracy: result.accuracy, loss: result.loss,
                                     samples: result.samples, perClassAccuracy: result.perClassAccuracy,
                                     confusion: result.confusion))
            return
        }
        print(String(format: "accuracy %.4f  loss %.4f  samples %d", result.accuracy, result.loss, result.samples))
        print("class  accuracy  samples")
        for (index, row) in result.confusion.enumerated() {
            let name = testSet.classNames?[safe: index] ?? String(index)
            let accuracy = result.perClassAccuracy[index].map { String(format: "%.4f", $0) } ?? "-"
            print("\(name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(accuracy.padding(toLength: 9, withPad: " ", startingAt: 0)) \(row.reduce(0, +))")
        }
        print("confusion (rows: true class, columns: predicted)")
        for row in result.confusion {
            print(row.map { String($0).leftPadded(to: 5) }.joined(separator: " "))
        }
    }
}

struct EvalReport: Codable {
    var model: String
    var dataset: String
    var accuracy: Double
    var loss: Double
    var samples: Int
    var perClassAccuracy: [Double?]
    var confusion: [[Int]]

    enum CodingKeys: String, CodingKey {
        case model, dataset, accuracy, loss, samples, confusion
        case perClassAccuracy = "per_class_accuracy"
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
