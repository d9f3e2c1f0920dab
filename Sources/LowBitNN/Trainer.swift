import Foundation
import LowBitTensor

/// How a model is trained; stored in the model file's metadata so a run can be repeated.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    /// "sgd" or "adam".
    public var optimizer: String
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// "cosine", "step" (x0.1 at 50% and 75% of training) or "constant".
    public var schedule: String
    public var warmupEpochs: Double
    public var labelSmoothing: Float
    public var seed: UInt64

    public init(epochs: Int = 10, batchSize: Int = 128, optimizer: String = "sgd", learningRate: Float = 0.1,
                momentum: Float = 0.9, weightDecay: Float = 5e-4, schedule: String = "cosine",
                warmupEpochs: Double = 0, labelSmoothing: Float = 0, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.warmupEpochs = warmupEpochs
        self.labelSmoothing = labelSmoothing
        self.seed = seed
    }

    /// Checks values a typo could make absurd, with messages naming the option.
    public func validate() throws {
        if epochs < 0 { throw LowBitError.invalidArgument("epochs must be >= 0, got \(epochs)") }
        if batchSize < 1 { throw LowBitError.invalidArgument("batch size must be >= 1, got \(batchSize)") }
        if !(learningRate > 0 && learningRate.isFinite) { throw LowBitError.invalidArgument("learning rate must be > 0, got \(learningRate)") }
        if weightDecay < 0 { throw LowBitError.invalidArgument("weight decay must be >= 0, got \(weightDecay)") }
        if !["sgd", "adam"].contains(optimizer) { throw LowBitError.unsupported("optimizer '\(optimizer)'; choose sgd or adam") }
        if !["cosine", "step", "constant"].contains(schedule) {
            throw LowBitError.unsupported("schedule '\(schedule)'; choose cosine, step or constant")
        }
    }

    public func makeOptimizer() -> Optimizer {
        optimizer == "adam"
            ? Adam(learningRate: learningRate, weightDecay: weightDecay)
            : SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: true)
    }

    public var learningRateSchedule: LearningRateSchedule {
        let total = Double(max(epochs, 1))
        let inner: LearningRateSchedule
        switch schedule {
        case "step": inner = .stepAt(base: learningRate, milestones: [total * 0.5, total * 0.75], gamma: 0.1)
        case "constant": inner = .constant(learningRate)
        default: inner = .cosine(base: learningRate, totalEpochs: total, minimum: 0)
        }
        return warmupEpochs > 0 ? .warmup(epochs: warmupEpochs, then: inner) : inner
    }
}

/// What the trainer reports after each batch (for progress bars) and each epoch.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var batch: Int
    public var batchesPerEpoch: Int
    public var samplesSeen: Int
    public var loss: Float
    public var accuracy: Float
    public var learningRate: Float
    public var samplesPerSecond: Double
}

/// Accuracy, mean loss and confusion matrix of a model on a data set.
public struct Evaluation: Codable, Sendable, Equatable {
    public var accuracy: Double
    public var loss: Double
    public var samples: Int
    /// `confusion[true][predicted]` counts.
    public var confusion: [[Int]]

    /// Per-class recall (correct / true count), nil for a class with no samples.
    public var perClassAccuracy: [Double?] {
        confusion.enumerated().map { index, row in
            let total = row.reduce(0, +)
            return total == 0 ? nil : Double(row[index]) / Double(total)
        }
    }
}

/// A minimal training loop: forward, softmax cross-entropy, backward, optimizer step, with the
/// learning rate taken from the schedule at every batch.
///
/// ```swift
/// let trainer = Trainer(model: model, config: TrainingConfig(epochs: 5, batchSize: 128))
/// for epoch in 0..<5 {
///     try trainer.trainEpoch(epoch, batches: loader.batches(epoch: epoch), batchesPerEpoch: loader.batchCount)
/// }
/// let result = try evaluate(model, batches: testLoader.batches(epoch: 0))
/// ```
public final class Trainer {
    public let model: Model
    public let config: TrainingConfig
    public let optimizer: Optimizer
    public let schedule: LearningRateSchedule

    public init(model: Model, config: TrainingConfig) {
        self.model = model
        self.config = config
        optimizer = config.makeOptimizer()
        schedule = config.learningRateSchedule
    }

    /// One training step on a batch; returns the loss and the number of correct predictions.
    public func step(x: Tensor, y: [Int32], learningRate: Float) throws -> (loss: Float, correct: Int) {
        model.zeroGradients()
        let logits = try model.forward(x, training: true)
        let (loss, grad) = try softmaxCrossEntropy(logits: logits, labels: y, labelSmoothing: config.labelSmoothing)
        model.backward(grad)
        optimizer.learningRate = learningRate
        optimizer.step(model.parameters)
        let correct = zip(logits.argmaxRows(), y).filter { $0 == Int($1) }.count
        return (loss, correct)
    }

    /// Trains one epoch over `batches`, calling `onBatch` after every step. Returns the epoch's
    /// mean loss and training accuracy.
    @discardableResult
    public func trainEpoch<S: Sequence>(
        _ epoch: Int, batches: S, batchesPerEpoch: Int,
        onBatch: (TrainingProgress) -> Void = { _ in }
    ) throws -> (loss: Double, accuracy: Double) where S.Element == (x: Tensor, y: [Int32]) {
        let start = Date()
        var (lossSum, correct, seen, index) = (0.0, 0, 0, 0)
        for (x, y) in batches {
            let progress = Double(epoch) + Double(index) / Double(max(batchesPerEpoch, 1))
            let rate = schedule.rate(epoch: progress)
            let (loss, right) = try step(x: x, y: y, learningRate: rate)
            lossSum += Double(loss) * Double(y.count)
            correct += right
            seen += y.count
            index += 1
            let elapsed = max(Date().timeIntervalSince(start), 1e-9)
            onBatch(TrainingProgress(epoch: epoch, batch: index, batchesPerEpoch: batchesPerEpoch, samplesSeen: seen,
                                     loss: Float(lossSum / Double(seen)), accuracy: Float(correct) / Float(seen),
                                     learningRate: rate, samplesPerSecond: Double(seen) / elapsed))
        }
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)))
    }
}

/// Evaluates `model` in inference mode over `batches`.
public func evaluate<S: Sequence>(_ model: Model, batches: S) throws -> Evaluation where S.Element == (x: Tensor, y: [Int32]) {
    let classes = model.spec.classCount
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    var (lossSum, samples, correct) = (0.0, 0, 0)
    for (x, y) in batches {
        let logits = try model.forward(x, training: false)
        let (loss, _) = try softmaxCrossEntropy(logits: logits, labels: y)
        lossSum += Double(loss) * Double(y.count)
        for (predicted, truth) in zip(logits.argmaxRows(), y) {
            confusion[Int(truth)][predicted] += 1
            if predicted == Int(truth) { correct += 1 }
        }
        samples += y.count
    }
    return Evaluation(accuracy: Double(correct) / Double(max(samples, 1)), loss: lossSum / Double(max(samples, 1)),
                      samples: samples, confusion: confusion)
}
