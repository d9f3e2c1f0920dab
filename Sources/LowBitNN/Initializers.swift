import Foundation
import LowBitTensor

/// Weight initialisation schemes. `fanIn`/`fanOut` are per output/input unit: for a conv weight
/// `[out, k, k, in]`, fanIn = k*k*in and fanOut = k*k*out.
public enum Initializer: String, Codable, Sendable {
    /// He et al. 2015: N(0, 2 / fanIn), for layers followed by ReLU.
    case heNormal
    /// Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fanIn + fanOut)).
    case glorotUniform

    public func make(shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> Tensor {
        let count = shape.reduce(1, *)
        switch self {
        case .heNormal:
            let std = (2 / Float(fanIn)).squareRoot()
            return Tensor(shape: shape, data: (0..<count).map { _ in rng.nextNormal() * std })
        case .glorotUniform:
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            return Tensor(shape: shape, data: (0..<count).map { _ in (rng.nextUniform() * 2 - 1) * limit })
        }
    }
}
