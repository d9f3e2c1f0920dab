import LowBitTensor

/// How an ``ActivationQuantizer`` turns observed activations into its clipping value c.
///
/// ```swift
/// let q = try ActivationQuantizer(bits: 4, calibration: .percentile(99.99))
/// ```
public enum CalibrationMethod: Equatable, Sendable {
    /// c = the largest magnitude seen.
    case minMax
    /// c = this percentile (0...100) of the magnitudes seen, e.g. 99.99.
    case percentile(Double)
    /// c minimizing the expected squared quantization error over what was seen.
    case mse

    /// The `calibration` spec field: "minmax", "percentile" or "mse".
    public var specName: String {
        switch self {
        case .minMax: return "minmax"
        case .percentile: return "percentile"
        case .mse: return "mse"
        }
    }
}

/// A bounded-memory histogram of activation magnitudes (|x| for signed quantizers, max(x, 0) for
/// unsigned ones), for percentile and MSE calibration over any number of batches.
///
/// Positive values fall into `binCount` equal bins over [0, upperEdge); exact zeros are counted
/// apart (they cost nothing to quantize and would otherwise smear over the first bin). The first
/// positive batch sets upperEdge to its maximum; a later, larger value doubles upperEdge (merging
/// bins pairwise, which is exact) until it fits, so memory stays `binCount` doubles while the
/// resolution is at worst 2 * max / binCount. The exact maximum is tracked separately.
///
/// ```swift
/// var histogram = ActivationHistogram()
/// histogram.add([0, 0.5, 1, 2])
/// histogram.percentile(50)   // ~0.5
/// histogram.mseOptimalClip(stepsPerClip: 255)
/// ```
public struct ActivationHistogram: Sendable, Equatable {
    public private(set) var bins: [Double]
    /// Bins cover [0, upperEdge); 0 until a positive value arrives.
    public private(set) var upperEdge: Float = 0
    public private(set) var zeroCount: Double = 0
    /// The largest value added (exact).
    public private(set) var maxValue: Float = 0

    /// `binCount` must be even (bins merge pairwise); 2048 by default.
    public init(binCount: Int = 2048) {
        precondition(binCount >= 2 && binCount % 2 == 0, "binCount must be even and at least 2")
        bins = [Double](repeating: 0, count: binCount)
    }

    public var totalCount: Double { zeroCount + bins.reduce(0, +) }
    public var isEmpty: Bool { totalCount == 0 }
    private var binWidth: Float { upperEdge / Float(bins.count) }

    /// Adds non-negative magnitudes.
    public mutating func add(_ magnitudes: [Float]) {
        guard let batchMax = magnitudes.max() else { return }
        precondition(batchMax.isFinite && magnitudes.allSatisfy { $0 >= 0 }, "histogram takes finite magnitudes >= 0")
        if upperEdge == 0 && batchMax > 0 { upperEdge = batchMax }
        while batchMax > upperEdge { doubleRange() }
        maxValue = max(maxValue, batchMax)
        for value in magnitudes {
            if value == 0 {
                zeroCount += 1
            } else {
                bins[min(Int(value / binWidth), bins.count - 1)] += 1
            }
        }
    }

    private mutating func doubleRange() {
        let half = bins.count / 2
        for i in 0..<half { bins[i] = bins[2 * i] + bins[2 * i + 1] }
        for i in half..<bins.count { bins[i] = 0 }
        upperEdge *= 2
    }

    /// The p-th percentile (0...100): the value below which p% of the samples lie, interpolating
    /// linearly inside the bin where the cumulative count crosses p% (values uniform within a
    /// bin), never above ``maxValue``. 0 when empty.
    public func percentile(_ p: Double) -> Float {
        let target = min(max(p, 0), 100) / 100 * totalCount
        guard target > zeroCount else { return 0 }
        var cumulative = zeroCount
        for (index, count) in bins.enumerated() where count > 0 {
            if cumulative + count >= target {
                let fraction = (target - cumulative) / count
                return min(Float((Double(index) + fraction) * Double(binWidth)), maxValue)
            }
            cumulative += count
        }
        return maxValue
    }

    /// The clipping value c in {maxValue * j / candidateCount : j = 1...candidateCount} with the
    /// smallest expected squared error, the density being uniform within each bin.
    ///
    /// `stepsPerClip` L describes the grid on magnitudes: levels 0, c/L, ..., c (unsigned k bits:
    /// L = 2^k - 1; signed k >= 2 bits: L = 2^(k-1) - 1), or L = 0 for the single level c (signed
    /// 1 bit, y = c * sign(x)). The error integrals are closed forms (see ``expectedError``).
    /// Returns 0 when nothing positive was seen; ties go to the smaller c.
    public func mseOptimalClip(stepsPerClip: Int, candidateCount: Int = 256) -> Float {
        guard maxValue > 0 else { return 0 }
        var bestClip = maxValue
        var bestError = Double.infinity
        for j in 1...candidateCount {
            let clip = maxValue * Float(j) / Float(candidateCount)
            let error = expectedError(clip: Double(clip), stepsPerClip: stepsPerClip)
            if error < bestError {
                bestError = error
                bestClip = clip
            }
        }
        return bestClip
    }

    /// Sum over bins of count * (mean squared error of a uniform density on the bin).
    ///
    /// With step s = c / L, inside [0, c] the error is the sawtooth e(u) = u - s round(u / s), and
    /// S(v) = integral_0^v e(u)^2 du = m s^3 / 12 + r^3 / 3 with m = round(v / s), r = v - m s
    /// (each full step contributes s^3 / 12). Above c every value goes to c, so the integral of
    /// (u - c)^2 over [p, q] is ((q - c)^3 - (p - c)^3) / 3. For L = 0 the second form holds
    /// everywhere, and the zeros cost c^2 each.
    func expectedError(clip c: Double, stepsPerClip: Int) -> Double {
        let width = Double(binWidth)
        let sawtoothEnd = stepsPerClip > 0 ? c : 0
        let step = stepsPerClip > 0 ? c / Double(stepsPerClip) : 0
        func sawtoothIntegral(_ v: Double) -> Double {
            guard step > 0 else { return 0 }
            let m = (v / step).rounded(.toNearestOrEven)
            let r = v - m * step
            return m * step * step * step / 12 + r * r * r / 3
        }
        func clippedIntegral(_ p: Double, _ q: Double) -> Double {
            ((q - c) * (q - c) * (q - c) - (p - c) * (p - c) * (p - c)) / 3
        }
        var total = stepsPerClip > 0 ? 0 : zeroCount * c * c
        for (index, count) in bins.enumerated() where count > 0 {
            let a = Double(index) * width
            let b = a + width
            let integral = sawtoothIntegral(min(b, sawtoothEnd)) - sawtoothIntegral(min(a, sawtoothEnd))
                + clippedIntegral(max(a, sawtoothEnd), max(b, sawtoothEnd))
            total += count * integral / width
        }
        return total
    }
}
