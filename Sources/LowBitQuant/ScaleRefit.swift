import LowBitNN
import LowBitTensor

/// What ``Model/refitGroupScales(batches:ridge:)`` did to one layer.
public struct ScaleRefitResult: Sendable, Equatable {
    public var layer: String
    /// Groups whose scale was refitted (groups quantized to all zeros keep alpha = 0).
    public var groups: Int
    /// Output error `E||x (w - q(w))||^2` summed over channels, over the calibration inputs, before
    /// and after, relative to `E||x w||^2`.
    public var relativeErrorBefore: Double
    public var relativeErrorAfter: Double
}

/// Accumulates `X^T X` over the `[rows, k]` matrices a layer multiplies by its weight.
final class GramAccumulator {
    let size: Int
    private(set) var matrix: [Float]

    init(size: Int) {
        self.size = size
        matrix = [Float](repeating: 0, count: size * size)
    }

    func add(_ columns: Tensor) {
        guard columns.rank == 2, columns.shape[1] == size, columns.shape[0] > 0 else { return }
        let rows = columns.shape[0]
        columns.data.withUnsafeBufferPointer { x in
            matrix.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(transposeA: true, m: size, n: size, k: rows, a: x.baseAddress!, lda: size,
                           b: x.baseAddress!, ldb: size, beta: 1, c: c.baseAddress!, ldc: size)
            }
        }
    }
}

extension Model {
    /// Layers ``refitGroupScales(batches:ridge:)`` works on: FGQ weights with per-group or per-channel scales.
    public var scaleRefitLayers: [QuantizableLayer] {
        quantizableLayers.filter { layer in
            guard let fgq = layer.weightQuantizer as? FGQQuantizer else { return false }
            return fgq.granularity != .tensor
        }
    }

    /// Data-aware refit of FGQ group scales, a post-training step with forward passes only (no
    /// gradient, no change to which weights are kept or their signs).
    ///
    /// FGQ picks each group's ternary pattern `t` and scale `alpha` to minimise the *weight* error
    /// `||w - alpha t||^2`. What matters is the error of the layer's *output* on real inputs: with
    /// `C = E[x x^T]` over the calibration inputs `x` (the im2col rows the layer multiplies, after its
    /// input quantizer) and `A` the matrix whose column `g` is `t` restricted to group `g`, each
    /// output channel solves
    ///
    ///     minimise_alpha (w - A alpha)^T C (w - A alpha)
    ///     (A^T C A + lambda D) alpha = A^T C w + lambda D alpha_0,   D = diag(A^T C A)
    ///
    /// a small ridge toward the FGQ scales `alpha_0`. The new scales are written back by multiplying
    /// each group's latent weights by `alpha / alpha_0`: the optimal-Delta support (k maximising
    /// S_k^2 / k) and the heuristic threshold are scale invariant, so the quantizer then yields the
    /// same pattern with the refitted alpha, and the model file, packer and runtime need nothing new.
    /// A scale that comes out non-positive or non-finite keeps its FGQ value. Layers with per-tensor
    /// scales (TWN) are left alone. Re-estimate BatchNorm statistics afterwards.
    @discardableResult
    public func refitGroupScales<S: Sequence>(batches: S, ridge: Double = 1e-3) throws -> [ScaleRefitResult]
    where S.Element == (x: Tensor, y: [Int32]) {
        guard ridge >= 0, ridge.isFinite else { throw LowBitError.invalidArgument("ridge must be >= 0, got \(ridge)") }
        let layers = scaleRefitLayers
        guard !layers.isEmpty else { return [] }
        let grams = layers.map { GramAccumulator(size: $0.weight.value.count / max($0.weight.value.shape[0], 1)) }
        for (layer, gram) in zip(layers, grams) { layer.inputColumnsObserver = { gram.add($0) } }
        defer { layers.forEach { $0.inputColumnsObserver = nil } }
        var sawBatch = false
        for (x, _) in batches {
            _ = try forward(x, training: false)
            sawBatch = true
        }
        guard sawBatch else { throw LowBitError.invalidArgument("scale refitting needs at least one calibration batch") }
        return try zip(layers, grams).map { layer, gram in
            try refitLayer(layer, quantizer: layer.weightQuantizer as! FGQQuantizer, gram: gram.matrix, ridge: ridge)
        }
    }
}

private func refitLayer(_ layer: QuantizableLayer, quantizer: FGQQuantizer, gram c: [Float], ridge: Double) throws -> ScaleRefitResult {
    let weight = layer.weight.value
    let quantized = try quantizer.quantize(weight)
    let layout = quantizer.granularity.layout(forShape: weight.shape)
    let k = layout.rowLength, rows = weight.count / k
    let groupSize = layout.groupSize, groupsPerRow = layout.groupsPerRow
    var w = weight.data
    let q = quantized.data
    var refitted = 0
    var (signal, before, after) = (0.0, 0.0, 0.0)
    var cw = [Double](repeating: 0, count: k)
    for row in 0..<rows {
        let base = row * k
        // u = C w for this channel, and the quadratic form w^T C w.
        for i in 0..<k {
            var sum = 0.0
            for j in 0..<k { sum += Double(c[i * k + j]) * Double(w[base + j]) }
            cw[i] = sum
        }
        let wcw = (0..<k).reduce(0.0) { $0 + Double(w[base + $1]) * cw[$1] }
        signal += wcw
        // Active groups: those with a kept weight; t in {-1, 0, +1}, alpha_0 = |q| of a kept weight.
        var groups: [(range: Range<Int>, alpha: Double)] = []
        for g in 0..<groupsPerRow {
            let range = (g * groupSize)..<min((g + 1) * groupSize, k)
            if let kept = range.first(where: { q[base + $0] != 0 }) { groups.append((range, Double(abs(q[base + kept])))) }
        }
        let n = groups.count
        guard n > 0 else {
            before += wcw
            after += wcw
            continue
        }
        func t(_ i: Int) -> Double { q[base + i] > 0 ? 1 : (q[base + i] < 0 ? -1 : 0) }
        // m[i][h] = sum over l in group h of C[i][l] t_l; G = A^T C A, b = A^T C w.
        var m = [Double](repeating: 0, count: k * n)
        for i in 0..<k {
            for (h, group) in groups.enumerated() {
                var sum = 0.0
                for l in group.range { sum += Double(c[i * k + l]) * t(l) }
                m[i * n + h] = sum
            }
        }
        var gram = [Double](repeating: 0, count: n * n), b = [Double](repeating: 0, count: n)
        for (g, group) in groups.enumerated() {
            for i in group.range {
                let ti = t(i)
                if ti == 0 { continue }
                b[g] += ti * cw[i]
                for h in 0..<n { gram[g * n + h] += ti * m[i * n + h] }
            }
        }
        let alpha0 = groups.map(\.alpha)
        func error(_ alpha: [Double]) -> Double {
            var e = wcw
            for g in 0..<n {
                e -= 2 * alpha[g] * b[g]
                for h in 0..<n { e += alpha[g] * gram[g * n + h] * alpha[h] }
            }
            return e
        }
        before += error(alpha0)
        let meanDiagonal = (0..<n).reduce(0.0) { $0 + gram[$1 * n + $1] } / Double(n)
        var system = gram, rhs = b
        for g in 0..<n {
            let penalty = ridge * gram[g * n + g] + 1e-9 * meanDiagonal
            system[g * n + g] += penalty
            rhs[g] += penalty * alpha0[g]
        }
        guard meanDiagonal > 0, var alpha = choleskySolve(system, rhs, size: n) else {
            after += error(alpha0)
            continue
        }
        for g in 0..<n where !(alpha[g] > 0 && alpha[g].isFinite) { alpha[g] = alpha0[g] }
        // Keep the refit only if it lowers this channel's output error (it should; rounding guard).
        if error(alpha) > error(alpha0) { alpha = alpha0 }
        after += error(alpha)
        for (g, group) in groups.enumerated() where alpha[g] != alpha0[g] {
            let factor = Float(alpha[g] / alpha0[g])
            for i in group.range { w[base + i] *= factor }
            refitted += 1
        }
    }
    layer.weight.value = Tensor(shape: weight.shape, data: w)
    let scale = signal > 0 ? signal : 1
    return ScaleRefitResult(layer: layer.name, groups: refitted, relativeErrorBefore: max(before, 0) / scale,
                            relativeErrorAfter: max(after, 0) / scale)
}

/// Solves `A x = b` for a symmetric positive definite `A` (`size x size`, row-major) by Cholesky;
/// nil when `A` is not positive definite.
func choleskySolve(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0...i {
            var sum = a[i * n + j]
            for p in 0..<j { sum -= l[i * n + p] * l[j * n + p] }
            if i == j {
                guard sum > 0, sum.isFinite else { return nil }
                l[i * n + i] = sum.squareRoot()
            } else {
                l[i * n + j] = sum / l[j * n + j]
            }
        }
    }
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var sum = b[i]
        for p in 0..<i { sum -= l[i * n + p] * y[p] }
        y[i] = sum / l[i * n + i]
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var sum = y[i]
        for p in (i + 1)..<n { sum -= l[p * n + i] * x[p] }
        x[i] = sum / l[i * n + i]
    }
    return x
}
