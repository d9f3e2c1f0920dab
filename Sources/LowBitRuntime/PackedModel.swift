import Foundation
import LowBitIO
import LowBitTensor

/// A packed model ready to run: the embeddable inference engine of LowBit.
///
/// Loads an archive written by `lowbit pack` (metadata `"packed"`: a ``PackedPlan``; tensors in
/// deployed form), checks every tensor against the plan, and compiles the plan into kernels once.
/// ``predict(_:)`` takes **raw** samples in the model's input layout (`[batch, features]` or NHWC
/// `[batch, height, width, channels]`, e.g. pixels scaled to [0, 1]): the model applies the input
/// normalization it was trained with, then runs float layers through BLAS, binary layers through
/// the packed binary kernels with fused output transforms, and returns `[batch, classCount]` logits.
///
/// ```swift
/// let model = try PackedModel(contentsOf: "mnist.packed.lowbit")
/// let logits = try model.predict(Tensor(shape: [1, 28, 28, 1], data: pixels))   // [1, 10]
/// for layer in try model.profile(batch: 1) { print(layer.name, layer.kind, layer.latencyMicroseconds) }
/// ```
public struct PackedModel: Sendable {
    public let plan: PackedPlan
    let operations: [PackedOperation]
    /// The largest activation one sample passes between steps, in values (28 x 28 x 16 for ResNet-20).
    public let largestActivation: Int
    /// The most samples ``predict(_:)`` runs through the network at once: a larger batch goes through
    /// in slices of this many, so that each slice's activations stay in the caches (``sliceBytes``).
    public let sliceSamples: Int
    /// Float bytes of the largest activation over a slice: ~1 MB, the L2 cache of two cores here.
    /// Measured on the Fashion-MNIST ResNet-20s (docs/BENCHMARKS.md, "Batches in slices"): whole
    /// batches of 256 ran 1.06-1.24x slower per sample than slices of 20 (64: 1.02-1.04x), since a
    /// layer's input, output and Winograd or im2col buffers for 256 samples are megabytes; slices of 5
    /// to 40 measured alike.
    public static let sliceBytes = 1 << 20

    /// Whether ternary layers on 8-bit codes take 7-bit scale codes unless told: `LOWBIT_TERNARY_SCALE_CODES=0`
    /// turns it off (for comparisons).
    public static let ternaryScaleCodesByDefault = ProcessInfo.processInfo.environment["LOWBIT_TERNARY_SCALE_CODES"] != "0"

    /// Reads and compiles the packed model at `path`.
    public init(contentsOf path: String) throws {
        try self.init(archive: try LowBitArchive.read(from: path), source: path)
    }

    /// Compiles a packed archive; `source` names it in error messages. `fusingResiduals: false` runs
    /// a residual block's sum, the activation after it and the next layer's sign packing as separate
    /// steps instead of inside the block's last binary convolution (the same results; for tests and
    /// for timing the steps apart).
    ///
    /// `ternaryScaleCodes` (default: on, unless the environment sets `LOWBIT_TERNARY_SCALE_CODES=0`):
    /// ternary layers on 8-bit codes store each FGQ group scale as a 7-bit code times one float per
    /// output, as the sign-input ternary layers do, and run as int8 layers with weights `code * t`
    /// (Winograd included): the int8 ResNet-20's speed, with every scale moved by at most 1/254 of
    /// its output's largest (docs/RUNTIME.md, "Ternary layers on 8-bit codes"). Off, they keep float
    /// group scales (``TernaryGEMM``), the training-side model's numbers. A row whose scales mix
    /// signs keeps them either way.
    ///
    /// `compactPools` (default: on): a max pool between a binary convolution and a step that reads
    /// signs (`binary conv -> [hardTanh] -> maxPool -> binary layer`, a binary VGG) runs on the sign
    /// bits the convolution writes (the same logits as float pools), and one between an int8 layer and
    /// an int8 layer that reads codes (`int8 -> [ReLU] -> maxPool -> int8`) on the codes the first
    /// requantizes to (integer-only, as between int8 layers without a pool). Off, those layers write
    /// floats and the pools are float ones (for tests and timing).
    ///
    /// - Throws: ``LowBitTensor/LowBitError/unsupported(_:)`` for an archive that is not packed, a
    ///   newer format version or an unknown step kind; ``LowBitTensor/LowBitError/shapeMismatch(_:)``
    ///   when a tensor or a step does not fit the plan.
    public init(archive: LowBitArchive, source: String = "the archive", fusingResiduals: Bool = true,
                ternaryScaleCodes: Bool = PackedModel.ternaryScaleCodesByDefault, compactPools: Bool = true) throws {
        guard let stored = archive.metadata["packed"] else {
            throw LowBitError.unsupported("\(source) is not a packed model (no \"packed\" metadata); run `lowbit pack \(source) -o MODEL.packed.lowbit` first")
        }
        if let version = stored["version"]?.int, !(PackedPlan.oldestReadableVersion...PackedPlan.currentVersion).contains(version) {
            throw LowBitError.unsupported("\(source) is packed format version \(version); this build runs versions \(PackedPlan.oldestReadableVersion) to \(PackedPlan.currentVersion)")
        }
        if let unknown = Self.unknownKinds(in: stored["steps"]).first {
            throw LowBitError.unsupported("\(source): packed step kind '\(unknown)' is not one this build runs (\(PackedStep.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        plan = try stored.decode(PackedPlan.self, what: "\(source): packed plan")
        if let normalization = plan.normalization {
            guard normalization.mean.count == normalization.std.count, normalization.mean.count == plan.inputShape.last else {
                throw LowBitError.shapeMismatch("\(source): normalization has \(normalization.mean.count) means and \(normalization.std.count) stds for inputs \(plan.inputShape)")
            }
        }
        var shape = plan.inputShape
        let compiler = PackedCompiler(archive: archive, source: source, fusesResiduals: fusingResiduals,
                                      ternaryScaleCodes: ternaryScaleCodes, compactPools: compactPools)
        operations = try compiler.compile(plan.steps, shape: &shape)
        largestActivation = compiler.extent.largestActivation
        sliceSamples = max(1, Self.sliceBytes / (4 * max(1, largestActivation)))
        guard shape == [plan.classCount] else {
            throw LowBitError.shapeMismatch("\(source): the plan outputs \(shape) per sample, not [\(plan.classCount)] logits")
        }
    }

    /// The step kinds in a stored plan that ``PackedStep/Kind`` does not know, depth first.
    private static func unknownKinds(in steps: JSONValue?) -> [String] {
        (steps?.array ?? []).flatMap { step -> [String] in
            let own = step["kind"]?.string.flatMap { PackedStep.Kind(rawValue: $0) == nil ? [$0] : [] } ?? []
            return own + unknownKinds(in: step["body"]) + unknownKinds(in: step["shortcut"])
        }
    }

    /// Logits `[batch, classCount]` for raw samples `[batch] + plan.inputShape`, batch >= 1. A batch
    /// of more than ``sliceSamples`` runs in slices of that many (integer and binary layers give the
    /// same bits whatever the slice; float layers may differ in the last bits, see
    /// ``predict(_:batchSize:progress:)``).
    public func predict(_ input: Tensor) throws -> Tensor {
        try checkShape(input)
        if input.shape[0] > sliceSamples {
            return try predict(input, batchSize: sliceSamples)
        }
        let (value, batch) = try normalized(input)
        return Tensor(shape: [batch, plan.classCount], data: try runSequence(operations, value, batch: batch).floats)
    }

    /// ``predict(_:)`` in slices of at most `batchSize` samples, as Keras's `predict(x, batch_size=)`:
    /// the activations in memory are those of one slice, however many samples there are.
    ///
    /// ```swift
    /// let logits = try model.predict(testImages, batchSize: 256)   // [10000, 10], one slice at a time
    /// ```
    /// `progress` gets the samples done and the total after each slice.
    public func predict(_ input: Tensor, batchSize: Int, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Tensor {
        guard batchSize >= 1 else { throw LowBitError.invalidArgument("batch size \(batchSize): it must be at least 1") }
        let count = input.shape.first ?? 0
        if count <= batchSize {
            let logits = try predict(input)
            progress?(count, count)
            return logits
        }
        var data: [Float] = []
        data.reserveCapacity(count * plan.classCount)
        for start in stride(from: 0, to: count, by: batchSize) {
            let end = min(start + batchSize, count)
            data += try predict(input.slice(rows: start..<end)).data
            progress?(end, count)
        }
        return Tensor(shape: [count, plan.classCount], data: data)
    }

    /// The predicted class of each sample (argmax of the logits, first maximum on ties).
    public func classify(_ input: Tensor) throws -> [Int] {
        let logits = try predict(input)
        let classes = plan.classCount
        return (0..<logits.shape[0]).map { row in
            let scores = logits.data[(row * classes)..<((row + 1) * classes)]
            return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }! - row * classes
        }
    }

    /// The top-level steps with their kinds, in order (a residual block is one step).
    public var layers: [(name: String, kind: String)] { operations.map { ($0.name, $0.kind) } }

    /// Time per top-level step on random inputs of `batch` samples: the median of `repeats` runs.
    /// `input`: the samples to time (their count is the batch); nil: `batch` samples uniform in [0, 1).
    /// Layers whose speed depends on the data (full-range uint8 inputs of an int8 layer: see
    /// docs/RUNTIME.md) are timed most faithfully on real samples.
    public func profile(batch: Int, repeats: Int = 20, input: Tensor? = nil) throws -> [LayerLatency] {
        let input = input ?? Self.uniformSamples(batch: batch, shape: plan.inputShape)
        let batch = input.shape.first ?? batch
        var samples = [[Double]](repeating: [], count: operations.count)
        for _ in 0..<max(repeats, 1) {
            var (value, _) = try normalized(input)
            for (index, operation) in operations.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                value = try operation.run(value, batch: batch)
                samples[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            }
        }
        return zip(operations, samples).map { operation, times in
            LayerLatency(name: operation.name, kind: operation.kind, latencyMicroseconds: times.sorted()[times.count / 2])
        }
    }

    /// `batch` samples of `shape` uniform in [0, 1) (seed 1): the default timing input.
    public static func uniformSamples(batch: Int, shape: [Int]) -> Tensor {
        var rng = SeededGenerator(seed: 1)
        let count = batch * shape.reduce(1, *)
        return Tensor(shape: [batch] + shape, data: (0..<count).map { _ in rng.nextUniform() })
    }

    /// Throws unless `input` is `[batch] + plan.inputShape` with batch >= 1.
    private func checkShape(_ input: Tensor) throws {
        guard input.rank == plan.inputShape.count + 1, Array(input.shape.dropFirst()) == plan.inputShape, input.shape[0] >= 1 else {
            throw LowBitError.shapeMismatch("the model takes inputs [batch] + \(plan.inputShape) with batch >= 1, got \(input.shape)")
        }
    }

    /// Checks the input shape and applies the stored normalization `(x - mean[c]) / std[c]`.
    private func normalized(_ input: Tensor) throws -> (RuntimeValue, batch: Int) {
        try checkShape(input)
        guard let normalization = plan.normalization else { return (.float(input.data), input.shape[0]) }
        let (mean, std) = (normalization.mean, normalization.std), channels = mean.count
        var x = input.data
        // Channel by channel over a strided run: no modulo per element, and one channel (MNIST)
        // is a contiguous loop the compiler vectorizes (the division stays a division, as in training).
        x.withUnsafeMutableBufferPointer { x in
            for c in 0..<channels {
                let (m, s) = (mean[c], std[c])
                for i in stride(from: c, to: x.count, by: channels) { x[i] = (x[i] - m) / s }
            }
        }
        return (.float(x), input.shape[0])
    }
}

/// The measured latency of one step of a ``PackedModel``.
///
/// ```swift
/// let slowest = try model.profile(batch: 1).max { $0.latencyMicroseconds < $1.latencyMicroseconds }
/// ```
public struct LayerLatency: Sendable, Equatable, Codable {
    public let name: String
    public let kind: String
    public let latencyMicroseconds: Double
}
