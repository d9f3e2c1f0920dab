import LowBitIO
import LowBitTensor

/// Inverted dropout: in training each element is zeroed with probability `rate` and the survivors
/// are scaled by `1 / (1 - rate)`; evaluation is the identity. The mask comes from the layer's own
/// seeded generator, so runs repeat.
public final class Dropout: Layer {
    public let name: String
    public let rate: Float
    private var rng: SeededGenerator
    private var mask: [Float]?

    public init(rate: Float, name: String, seed: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1)")
        self.name = name
        self.rate = rate
        self.rng = SeededGenerator(seed: seed)
    }

    public var spec: LayerSpec { LayerSpec(kind: .dropout, name: name, rate: rate) }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return x }
        let keep = 1 / (1 - rate)
        let mask = (0..<x.count).map { _ in rng.nextUniform() < rate ? 0 : keep }
        self.mask = mask
        return Tensor(shape: x.shape, data: zip(x.data, mask).map { $0 * $1 })
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard rate > 0 else { return gradOutput }
        guard let mask else { preconditionFailure("\(name).backward called without a training-mode forward") }
        return Tensor(shape: gradOutput.shape, data: zip(gradOutput.data, mask).map { $0 * $1 })
    }
}
