import ArgumentParser
import Foundation
import LowBitData
import LowBitIO
import LowBitNN
import LowBitQuant
import LowBitTensor

/// Post-training quantization of a trained float model: apply a precision policy, calibrate
/// activation ranges on a few training batches, re-estimate BatchNorm statistics with the quantized
/// weights (forward passes only), optionally fine-tune, and save.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a trained model without retraining (post-training quantization).",
        discussion: """
            Example: lowbit quantize r20.lowbit --policy ternary-fgq --group 4 --act-bits 8 --calib 512 -o r20-fgq4.lowbit
            Reports test accuracy of the float model, of the quantized model with the trained BatchNorm statistics,
            and with re-estimated ones (the default; --no-bn-reestimation keeps the trained statistics).
            FGQ group scales are refitted to the calibration inputs (forward passes only; --no-refit-scales keeps them).
            """
    )

    @Argument(help: "Trained model (.lowbit).") var modelPath: String
    @OptionGroup var precision: PolicyOptions
    @Option(help: "Calibration samples taken from the training split.") var calib = 512
    @Flag(name: .customLong("no-bn-reestimation"), help: "Keep the BatchNorm statistics measured on the float model.")
    var noBatchNormReestimation = false
    @Flag(name: .customLong("no-refit-scales"),
          help: "Keep FGQ's weight-optimal group scales instead of refitting them to the calibration inputs (least squares on each channel's output).")
    var noScaleRefit = false
    @Option(name: .customLong("finetune-epochs"), help: "Epochs of quantization-aware fine-tuning after calibration.")
    var finetuneEpochs = 0
    @Option(name: .customLong("finetune-lr"), help: "Learning rate of the fine-tune (cosine to 0).") var finetuneLearningRate: Float = 0.005
    @Option(help: "Data set (default: the one the model was trained on).") var dataset: String?
    @Option(help: "Seed for choosing calibration samples and fine-tuning.") var seed: UInt64 = 0
    @Option(name: [.short, .customLong("output")], help: "Output model file.") var output: String
    @Flag(help: "Print one JSON object with every accuracy on stdout.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        let logger = try common.apply(label: "quantize")
        let progress = ProgressReporter(enabled: !common.noProgress)
        guard calib >= 1 else { throw ValidationError("--calib must be >= 1, got \(calib)") }
        let (model, metadata) = try loadModel(modelPath)
        guard let policy = try precision.resolve(for: model.spec) else { throw ValidationError("quantize needs --policy") }
        let datasetText = dataset ?? metadata["dataset"]?.string ?? "mnist"
        let spec = try DatasetSpec(parsing: datasetText)
        let trainSet = try spec.load(.train)
        let testSet = try spec.load(.test)
        let normalization = try storedNormalization(metadata) ?? Normalization.fit(trainSet)
        var rng = SeededGenerator(seed: seed)
        let calibrationSet = trainSet.subset(Array(rng.permutation(trainSet.count).prefix(calib)))
        let calibrationLoader = try DataLoader(calibrationSet, batchSize: 64, shuffle: false, normalization: normalization)
        let testLoader = try DataLoader(testSet, batchSize: 128, shuffle: false, normalization: normalization)

        progress.finish("evaluating the float model on \(testSet.count) test samples")
        let floatResult = try evaluate(model, batches: testLoader.epoch(0))
        try model.apply(policy: policy)
        progress.finish("calibrating activation ranges on \(calibrationSet.count) samples")
        try model.calibrate(batches: calibrationLoader.epoch(0))
        progress.finish("evaluating with the trained BatchNorm statistics")
        let trainedStatistics = try evaluate(model, batches: testLoader.epoch(0))
        var final = trainedStatistics
        var reestimated: Evaluation?
        var refits: [ScaleRefitResult] = []
        if !noScaleRefit && !model.scaleRefitLayers.isEmpty {
            // Refit on the inputs the quantized model produces, with statistics that match it.
            if !noBatchNormReestimation { try model.reestimateBatchNormStatistics(batches: calibrationLoader.epoch(0)) }
            progress.finish("refitting FGQ group scales on \(calibrationSet.count) samples")
            refits = try model.refitGroupScales(batches: calibrationLoader.epoch(0))
            for refit in refits {
                logger.info("\(refit.layer): \(refit.groups) group scales refitted, relative output error \(refit.relativeErrorBefore) -> \(refit.relativeErrorAfter)")
            }
        }
        if !noBatchNormReestimation {
            try model.reestimateBatchNormStatistics(batches: calibrationLoader.epoch(0))
            progress.finish("evaluating with re-estimated BatchNorm statistics")
            reestimated = try evaluate(model, batches: testLoader.epoch(0))
            final = reestimated!
        }
        if finetuneEpochs > 0 {
            let config = TrainingConfig(epochs: finetuneEpochs, batchSize: 64, learningRate: finetuneLearningRate, seed: seed)
            let trainer = Trainer(model: model, config: config)
            let loader = try DataLoader(trainSet, batchSize: 64, seed: seed, normalization: normalization)
            for epoch in 0..<finetuneEpochs {
                try progress.trainEpoch(trainer, epoch: epoch, of: finetuneEpochs, loader: loader, task: "fine-tune ")
            }
            progress.finish()
            final = try evaluate(model, batches: testLoader.epoch(0))
        }

        let report = QuantizeReport(model: modelPath, output: output, policy: policy.name, calibrationSamples: calibrationSet.count,
                                    floatAccuracy: floatResult.accuracy, trainedStatisticsAccuracy: trainedStatistics.accuracy,
                                    reestimatedStatisticsAccuracy: reestimated?.accuracy, scalesRefit: !refits.isEmpty,
                                    finetuneEpochs: finetuneEpochs,
                                    accuracy: final.accuracy)
        var out = metadata
        out.merge(try model.precisionMetadata(policy: policy)) { $1 }
        out["metrics"] = try metricsMetadata(final)
        out["quantization"] = try JSONValue(encoding: report)
        try model.save(to: output, metadata: out)
        if json {
            try printJSON(report)
        } else {
            print(String(format: "float %.4f | %@ with trained BN statistics %.4f", floatResult.accuracy, policy.name,
                         trainedStatistics.accuracy)
                  + (reestimated.map { String(format: " | re-estimated %.4f", $0.accuracy) } ?? "")
                  + (finetuneEpochs > 0 ? String(format: " | after %d fine-tune epoch(s) %.4f", finetuneEpochs, final.accuracy) : "")
                  + " -> \(output)")
        }
    }
}

struct QuantizeReport: Codable {
    var model: String
    var output: String
    var policy: String
    var calibrationSamples: Int
    var floatAccuracy: Double
    var trainedStatisticsAccuracy: Double
    var reestimatedStatisticsAccuracy: Double?
    /// FGQ group scales refitted to the calibration inputs (``Model/refitGroupScales(batches:ridge:)``).
    var scalesRefit: Bool
    var finetuneEpochs: Int
    var accuracy: Double

    enum CodingKeys: String, CodingKey {
        case model, output, policy, accuracy
        case calibrationSamples = "calibration_samples"
        case floatAccuracy = "float_accuracy"
        case trainedStatisticsAccuracy = "accuracy_trained_bn"
        case reestimatedStatisticsAccuracy = "accuracy_reestimated_bn"
        case finetuneEpochs = "finetune_epochs"
        case scalesRefit = "scales_refit"
    }
}
