import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitTensor

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a data set and save it as a .lowbit file.",
        discussion: """
            Example: lowbit train --model mlp --hidden 256,256 --dataset mnist --epochs 10 --batch-size 128 --lr 0.05 --seed 1 -o mlp.lowbit
            Inputs are normalized per channel with statistics of the training split (stored in the model).
            """
    )

    @Option(help: "Model family: \(Models.names.joined(separator: ", ")).") var model = "mlp"
    @Option(help: "Comma-separated widths: hidden sizes for mlp, stage channels for the CNNs.") var hidden: String?
    @Option(help: "Hidden nonlinearity: relu (default), or hardtanh for binary networks. With --init, rebuilds the loaded architecture with this activation.")
    var activation: String?
    @Flag(name: .customLong("batch-norm"), help: "BatchNorm after each hidden layer of an MLP.") var batchNorm = false
    @Flag(name: .customLong("shortcut-per-conv"), help: "ResNet-20: a shortcut around every convolution (Bi-Real style); with --init, the loaded weights move into that architecture.")
    var shortcutPerConvolution = false
    @OptionGroup var data: DatasetOptions
    @Option(help: "Epochs.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 128
    @Option(help: "Peak learning rate.") var lr: Float = 0.05
    @Option(help: "Optimizer: sgd (Nesterov momentum) or adam.") var optimizer = "sgd"
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (not on biases or BatchNorm).") var weightDecay: Float = 5e-4
    @Option(help: "Learning-rate schedule: cosine, step or constant.") var schedule = "cosine"
    @Option(help: "Linear warm-up epochs.") var warmup: Double = 0
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing.") var labelSmoothing: Float = 0
    @Option(help: "Random-crop padding for image augmentation (0 = off).") var crop = 0
    @Flag(help: "Random horizontal flips (natural images; not for digits).") var flip = false
    @Option(help: "Fraction of the training split held out for validation (0 = report the test split).")
    var validation: Double = 0
    @Option(help: "Random seed (weights, shuffling, augmentation).") var seed: UInt64 = 0
    @Option(name: [.short, .customLong("output")], help: "Output model file.") var output: String
    @OptionGroup var precision: PolicyOptions
    @Option(name: .customLong("init"), help: "Start from this model's weights (and normalization) instead of a fresh initialisation.")
    var initialModel: String?
    @Flag(help: "Print one JSON object with the training history and test metrics on stdout.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        let logger = try common.apply(label: "train")
        let config = TrainingConfig(epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: lr,
                                    momentum: momentum, weightDecay: weightDecay, schedule: schedule,
                                    warmupEpochs: warmup, labelSmoothing: labelSmoothing, seed: seed)
        try config.validate()
        guard (0..<1).contains(validation) else { throw ValidationError("--validation must be in [0, 1), got \(validation)") }
        let progress = ProgressReporter(enabled: !common.noProgress)

        var trainSet = try data.load(.train)
        let testSet: LabeledDataset
        if validation > 0 {
            (trainSet, testSet) = try trainSet.split(validationFraction: validation, seed: seed)
        } else {
            testSet = try data.load(.test)
        }
        logger.info("loaded \(trainSet.count) training and \(testSet.count) evaluation samples of shape \(trainSet.sampleShape)")
        let network: Model
        let normalization: Normalization
        if let initialModel {
            let (loaded, metadata) = try loadModel(initialModel)
            network = try rebuiltIfAsked(loaded)
            normalization = try storedNormalization(metadata) ?? Normalization.fit(trainSet)
        } else {
            let spec = try Models.spec(named: model, inputShape: trainSet.sampleShape, classCount: trainSet.classCount,
                                       widths: try hidden.map { try parseIntList($0, option: "--hidden") },
                                       options: try architectureOptions())
            var rng = SeededGenerator(seed: seed)
            network = try Model(spec: spec, rng: &rng)
            normalization = try Normalization.fit(trainSet)
        }
        guard network.spec.inputShape == trainSet.sampleShape else {
            throw LowBitError.shapeMismatch("the model takes samples of shape \(network.spec.inputShape); \(data.dataset) has \(trainSet.sampleShape)")
        }
        let policy = try precision.resolve(for: network.spec)
        if let policy { try network.apply(policy: policy) }
        let augmentation = (crop > 0 || flip) ? ImageAugmentation(padding: crop, horizontalFlip: flip) : nil
        let loader = try DataLoader(trainSet, batchSize: batchSize, shuffle: true, seed: seed,
                                    augmentation: augmentation, normalization: normalization)
        let testLoader = try DataLoader(testSet, batchSize: batchSize, shuffle: false, normalization: normalization)
        let trainer = Trainer(model: network, config: config)

        var history: [EpochRecord] = []
        let evaluationName = validation > 0 ? "validation" : "test"
        for epoch in 0..<epochs {
            let start = Date()
            let (loss, accuracy) = try progress.trainEpoch(trainer, epoch: epoch, of: epochs, loader: loader, task: "")
            let seconds = Date().timeIntervalSince(start)
            let result = try evaluate(network, batches: testLoader.epoch(0))
            let record = EpochRecord(epoch: epoch + 1, loss: loss, accuracy: accuracy, evaluationAccuracy: result.accuracy,
                                     evaluationLoss: result.loss, seconds: seconds,
                                     samplesPerSecond: Double(trainSet.count) / seconds)
            history.append(record)
            progress.finish(String(format: "epoch %d/%d  loss %.4f  train acc %.4f  %@ acc %.4f  %.1fs (%.0f samples/s)",
                                   epoch + 1, epochs, loss, accuracy, evaluationName, result.accuracy, seconds,
                                   record.samplesPerSecond))
        }
        let final = try evaluate(network, batches: testLoader.epoch(0))
        var metadata: [String: JSONValue] = [
            "training": try JSONValue(encoding: config),
            "dataset": .string(data.dataset),
            "normalization": try JSONValue(encoding: normalization),
            "metrics": try metricsMetadata(final),
            "evaluationSplit": .string(evaluationName),
            "history": try JSONValue(encoding: history),
        ]
        if let policy { metadata.merge(try network.precisionMetadata(policy: policy)) { $1 } }
        try network.save(to: output, metadata: metadata)
        if json {
            try printJSON(TrainReport(model: network.spec.name, dataset: data.dataset, output: output, parameters: network.parameterCount,
                                      epochs: history, accuracy: final.accuracy, loss: final.loss, samples: final.samples,
                                      split: evaluationName))
        } else {
            print(String(format: "%@ accuracy %.4f (loss %.4f, %d samples); saved %@ (%d parameters)",
                         evaluationName, final.accuracy, final.loss, final.samples, output, network.parameterCount))
        }
    }
}

extension TrainCommand {
    func architectureOptions() throws -> Models.Options {
        let activation = self.activation ?? "relu"
        guard let kind = LayerSpec.Kind(rawValue: activation.lowercased() == "hardtanh" ? "hardTanh" : activation),
              [.relu, .hardTanh].contains(kind) else {
            throw ValidationError("--activation must be relu or hardtanh, got '\(activation)'")
        }
        return Models.Options(activation: kind, batchNorm: batchNorm, shortcutPerConvolution: shortcutPerConvolution)
    }

    /// Two-stage training: `--init` with `--activation` or `--shortcut-per-conv` builds the loaded model's family
    /// with those options (widths from `--hidden`, else the family default) and moves every weight, BatchNorm
    /// statistic and bias into it by name; a name or shape the new architecture lacks is an error.
    func rebuiltIfAsked(_ loaded: Model) throws -> Model {
        guard activation != nil || shortcutPerConvolution else { return loaded }
        let spec = try Models.spec(named: loaded.spec.name, inputShape: loaded.spec.inputShape, classCount: loaded.spec.classCount,
                                   widths: try hidden.map { try parseIntList($0, option: "--hidden") },
                                   options: try architectureOptions())
        var rng = SeededGenerator(seed: seed)
        let rebuilt = try Model(spec: spec, rng: &rng)
        do {
            try rebuilt.load(Dictionary(loaded.namedTensors, uniquingKeysWith: { first, _ in first }))
        } catch let error as LowBitError {
            throw LowBitError.shapeMismatch("--init \(initialModel ?? ""): its weights do not fit the rebuilt \(spec.name) (\(error)); pass the --hidden widths it was trained with")
        }
        // Every loaded tensor must land somewhere: a layer the rebuilt model lacks (say, an MLP's BatchNorm
        // without --batch-norm) would otherwise be dropped silently.
        let unused = Set(loaded.namedTensors.map(\.name)).subtracting(rebuilt.namedTensors.map(\.name))
        guard unused.isEmpty else {
            throw LowBitError.shapeMismatch("--init \(initialModel ?? ""): the rebuilt \(spec.name) has no place for \(unused.sorted().joined(separator: ", ")); pass the architecture options it was trained with (--hidden, --batch-norm)")
        }
        return rebuilt
    }
}

struct EpochRecord: Codable {
    var epoch: Int
    var loss: Double
    var accuracy: Double
    var evaluationAccuracy: Double
    var evaluationLoss: Double
    var seconds: Double
    var samplesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case epoch, loss, accuracy, seconds
        case evaluationAccuracy = "eval_accuracy"
        case evaluationLoss = "eval_loss"
        case samplesPerSecond = "samples_per_second"
    }
}

struct TrainReport: Codable {
    var model: String
    var dataset: String
    var output: String
    var parameters: Int
    var epochs: [EpochRecord]
    var accuracy: Double
    var loss: Double
    var samples: Int
    var split: String
}
