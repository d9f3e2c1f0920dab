import LowBitIO
import LowBitNN
import LowBitTensor

/// Layer significance by PCA of activations (Hybrid-Net): for each weighted layer, the number of
/// principal components of its output needed to explain a fraction of the variance. A convolution's
/// output channels are the features and every (sample, position) an observation; a dense layer's
/// outputs are the features. Layers whose significant dimensions grow most relative to the layer
/// before deserve more bits.
public struct LayerSignificance: Codable, Sendable, Equatable {
    public var name: String
    /// Output features (channels).
    public var width: Int
    /// Principal components needed to reach the variance fraction.
    public var components: Int
    /// components / width.
    public var fraction: Double
    /// Growth of `fraction` over the previous weighted layer (the first layer's own fraction).
    public var growth: Double
}

/// Accumulates the covariance of one layer's outputs over calibration batches.
final class CovarianceAccumulator {
    let width: Int
    private(set) var count = 0
    private var sum: [Double]
    private var products: [Double]

    init(width: Int) {
        self.width = width
        sum = [Double](repeating: 0, count: width)
        products = [Double](repeating: 0, count: width * width)
    }

    /// Adds every row of `output` viewed as `[rows, width]`; the Gram matrix goes through BLAS.
    func add(_ output: Tensor) {
        let rows = output.count / width
        var gram = [Float](repeating: 0, count: width * width)
        output.data.withUnsafeBufferPointer { x in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.sgemm(transposeA: true, m: width, n: width, k: rows, a: x.baseAddress!, lda: width,
                           b: x.baseAddress!, ldb: width, c: g.baseAddress!, ldc: width)
            }
            for row in 0..<rows {
                for c in 0..<width { sum[c] += Double(x[row * width + c]) }
            }
        }
        for i in 0..<(width * width) { products[i] += Double(gram[i]) }
        count += rows
    }

    /// The sample covariance matrix (row-major, width x width).
    var covariance: [Double] {
        let n = Double(max(count, 1))
        var result = [Double](repeating: 0, count: width * width)
        for i in 0..<width {
            for j in 0..<width { result[i * width + j] = products[i * width + j] / n - (sum[i] / n) * (sum[j] / n) }
        }
        return result
    }
}

/// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (accurate for the few hundred
/// dimensions of a layer's outputs), sorted from largest to smallest.
public func symmetricEigenvalues(_ matrix: [Double], size n: Int, sweeps: Int = 60) -> [Double] {
    var a = matrix
    for _ in 0..<sweeps {
        var offDiagonal = 0.0
        for p in 0..<n { for q in (p + 1)..<max(n, p + 1) { offDiagonal += a[p * n + q] * a[p * n + q] } }
        if offDiagonal < 1e-22 { break }
        for p in 0..<n {
            for q in (p + 1)..<max(n, p + 1) where abs(a[p * n + q]) > 1e-300 {
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k * n + p], akq = a[k * n + q]
                    a[k * n + p] = c * akp - s * akq
                    a[k * n + q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p * n + k], aqk = a[q * n + k]
                    a[p * n + k] = c * apk - s * aqk
                    a[q * n + k] = s * apk + c * aqk
                }
            }
        }
    }
    return (0..<n).map { a[$0 * n + $0] }.sorted(by: >)
}

/// The number of leading eigenvalues whose sum reaches `fraction` of the total (at least 1).
public func componentsForVariance(_ eigenvalues: [Double], fraction: Double) -> Int {
    let positive = eigenvalues.map { max($0, 0) }
    let total = positive.reduce(0, +)
    guard total > 0 else { return 1 }
    var running = 0.0
    for (index, value) in positive.enumerated() {
        running += value
        if running >= fraction * total - 1e-12 * total { return index + 1 }
    }
    return positive.count
}

extension Model {
    /// PCA significance of every weighted layer over `batches` (float forward passes).
    public func significance<S: Sequence>(batches: S, varianceFraction: Double = 0.999) throws -> [LayerSignificance]
    where S.Element == (x: Tensor, y: [Int32]) {
        guard varianceFraction > 0 && varianceFraction <= 1 else {
            throw LowBitError.invalidArgument("variance fraction must be in (0, 1], got \(varianceFraction)")
        }
        let layers = quantizableLayers
        let accumulators = layers.map { layer -> CovarianceAccumulator in
            let width = (layer as? Conv2D)?.outChannels ?? (layer as? Dense)?.outFeatures ?? 0
            return CovarianceAccumulator(width: width)
        }
        for (layer, accumulator) in zip(layers, accumulators) {
            layer.outputObserver = { accumulator.add($0) }
        }
        defer { layers.forEach { $0.outputObserver = nil } }
        for (x, _) in batches { _ = try forward(x, training: false) }
        var previous = 0.0
        return zip(layers, accumulators).map { layer, accumulator in
            let eigenvalues = symmetricEigenvalues(accumulator.covariance, size: accumulator.width)
            let components = componentsForVariance(eigenvalues, fraction: varianceFraction)
            let fraction = Double(components) / Double(accumulator.width)
            defer { previous = fraction }
            return LayerSignificance(name: layer.name, width: accumulator.width, components: components,
                                     fraction: fraction, growth: fraction - previous)
        }
    }
}
