import LowBitQuant
import LowBitTensor
import Testing

@Suite("Ternary: TWN and FGQ")
struct TernaryTests {
    @Test("TWN: Delta = 0.7 mean|w| = 0.3325, alpha = mean of the kept |w| = 0.75")
    func twnHandValues() throws {
        let y = try TWNQuantizer().quantize(tensor([1, -0.5, 0.1, 0.3]))
        #expect(y.data == [0.75, -0.75, 0, 0])
    }

    @Test("TWN is per tensor: channels share one alpha")
    func twnPerTensor() throws {
        // mean|w| = 2.5, Delta = 1.75: kept {4, -3, 2}, alpha = 3.
        let y = try TWNQuantizer().quantize(tensor([4, 1, -3, 2], shape: [2, 2]))
        #expect(y.data == [3, 0, -3, 3])
    }

    @Test("TWN: a single element is kept as is; an all-zero tensor stays zero")
    func twnEdges() throws {
        #expect(try TWNQuantizer().quantize(tensor([-2])).data == [-2])
        #expect(try TWNQuantizer().quantize(.zeros([3, 4])).data == [Float](repeating: 0, count: 12))
    }

    @Test("FGQ optimal: S_k^2/k = 9, 12.5, 16.33, 16 keeps 3 weights, alpha = 7/3")
    func fgqOptimalHandValues() throws {
        let r = try fgqTernarize(weights: [3, -2, 2, 1], rowLength: 4, groupSize: 4, delta: .optimal)
        #expect(r.codes == [1, -1, 1, 0])
        #expect(r.scales == [Float(7.0 / 3.0)])
    }

    @Test("FGQ optimal vs heuristic differ on [10, 4, 4]: 108 > 100 keeps all (alpha 6); 0.7 * 6 keeps 10")
    func fgqRulesDiffer() throws {
        let optimal = try FGQQuantizer(granularity: .group(3), threshold: .optimal).quantize(tensor([10, 4, -4], shape: [1, 3]))
        let heuristic = try FGQQuantizer(granularity: .group(3), threshold: .heuristic).quantize(tensor([10, 4, -4], shape: [1, 3]))
        #expect(optimal.data == [6, 6, -6])
        #expect(heuristic.data == [10, 0, 0])
    }

    @Test("FGQ optimal ties go to the smallest k: [3, 1, 1, 1] has S^2/k = 9 at k = 1 and k = 4")
    func fgqTieToSmallestK() throws {
        let r = try fgqTernarize(weights: [3, 1, -1, 1], rowLength: 4, groupSize: 4, delta: .optimal)
        #expect(r.codes == [1, 0, 0, 0])
        #expect(r.scales == [3])
    }

    @Test("FGQ: short last group, groups never cross channels, all-zero group stays zero")
    func fgqGroups() throws {
        // Rows of 6 with groups of 4: [0..<4], [4..<6]. Row 1's first group is all zero.
        let w: [Float] = [3, -2, 2, 1, 0.5, -0.5,
                          0, 0, 0, 0, 1, 0]
        let r = try fgqTernarize(weights: w, rowLength: 6, groupSize: 4, delta: .optimal)
        #expect(r.codes == [1, -1, 1, 0, 1, -1, 0, 0, 0, 0, 1, 0])
        #expect(r.scales == [Float(7.0 / 3.0), 0.5, 0, 1])
        let y = try FGQQuantizer(granularity: .group(4), threshold: .optimal).quantize(tensor(w, shape: [2, 6]))
        #expect(y.data == (try dequantizeInt8Codes(r.codes, scales: r.scales, rowLength: 6, groupSize: 4)))
    }

    @Test("FGQ heuristic per group: Delta = 0.7 mean|w| of each group")
    func fgqHeuristicGroups() throws {
        // Group [4, 1] -> mean 2.5, Delta 1.75, keep 4; group [-1, 2] -> mean 1.5, Delta 1.05, keep 2.
        let r = try fgqTernarize(weights: [4, 1, -1, 2], rowLength: 4, groupSize: 2, delta: .heuristic)
        #expect(r.codes == [1, 0, 0, 1])
        #expect(r.scales == [4, 2])
    }

    @Test("TWN equals per-tensor FGQ with the heuristic rule")
    func twnIsPerTensorHeuristic() throws {
        let w = randomTensor([6, 10], seed: 3)
        let twn = try TWNQuantizer().quantize(w)
        let fgq = try FGQQuantizer(granularity: .tensor, threshold: .heuristic).quantize(w)
        #expect(twn == fgq)
    }

    @Test("FGQ optimal equals a brute-force search over all 3^N assignments", arguments: 1...6)
    func fgqMatchesBruteForce(groupSize: Int) throws {
        var rng = SeededGenerator(seed: UInt64(100 + groupSize))
        for _ in 0..<60 {
            // Mix in repeated magnitudes and zeros now and then.
            let w: [Float] = (0..<groupSize).map { _ in
                switch rng.nextInt(below: 6) {
                case 0: return 0
                case 1: return 0.5
                default: return rng.nextNormal()
                }
            }
            let r = try fgqTernarize(weights: w, rowLength: groupSize, groupSize: groupSize, delta: .optimal)
            let alpha = Double(r.scales[0])
            let ours = zip(w, r.codes).reduce(0.0) { $0 + pow2(Double($1.0) - alpha * Double($1.1)) }
            let best = bruteForceTernaryError(w)
            let energy = w.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(ours <= best.error + 1e-6 * energy + 1e-12, "w = \(w)")
            if best.margin > 1e-4 * energy {
                #expect(r.codes == best.codes, "w = \(w)")
            }
        }
    }

    @Test("Straight-through gradient of TWN and FGQ is the identity")
    func identityGradient() throws {
        let x = tensor([-3, -0.1, 0, 0.2, 5], shape: [1, 5])
        let g = tensor([1, 2, 3, 4, 5], shape: [1, 5])
        #expect(TWNQuantizer().backward(input: x, gradOutput: g) == g)
        #expect(try FGQQuantizer(granularity: .group(2)).backward(input: x, gradOutput: g) == g)
    }
}

private func pow2(_ v: Double) -> Double { v * v }

/// Minimum of ||w - alpha t||^2 over every t in {-1, 0, +1}^N, each with its best alpha
/// <w, t> / <t, t> (error ||w||^2 - <w, t>^2 / <t, t>); `margin` is how much worse the best
/// assignment with a different support-and-sign pattern is.
private func bruteForceTernaryError(_ w: [Float]) -> (error: Double, codes: [Int8], margin: Double) {
    let n = w.count
    let energy = w.reduce(0.0) { $0 + Double($1) * Double($1) }
    var results: [(error: Double, codes: [Int8])] = []
    var total = 1
    for _ in 0..<n { total *= 3 }
    for index in 0..<total {
        var rest = index
        var t = [Int8](repeating: 0, count: n)
        for i in 0..<n {
            t[i] = Int8(rest % 3) - 1
            rest /= 3
        }
        let dot = zip(w, t).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let norm = t.reduce(0.0) { $0 + Double($1) * Double($1) }
        // Only assignments with alpha >= 0 describe alpha * t with t the codes; -t covers the rest.
        guard norm == 0 || dot >= 0 else { continue }
        results.append((norm == 0 ? energy : energy - dot * dot / norm, t))
    }
    results.sort { $0.error < $1.error }
    let best = results[0]
    let runnerUp = results.dropFirst().first { $0.codes != best.codes }
    return (best.error, best.codes, (runnerUp?.error ?? .infinity) - best.error)
}
