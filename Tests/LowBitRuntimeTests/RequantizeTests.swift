import CLowBitRuntimeKernels
import Foundation
import LowBitTensor
import Testing
@testable import LowBitRuntime

/// gemmlowp's definitions, written as gemmlowp writes them (nudge and truncating division), in
/// Int128 so that nothing can overflow: the independent oracle for requantize.c.
@available(macOS 15.0, iOS 18.0, *)
enum Gemmlowp {
    static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
        if a == .min && b == .min { return .max }
        let ab = Int128(a) * Int128(b)
        let nudge: Int128 = ab >= 0 ? 1 << 30 : 1 - (1 << 30)
        return Int32((ab + nudge) / (1 << 31))
    }

    static func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
        let mask = (Int128(1) << Int128(exponent)) - 1
        let remainder = Int128(x) & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return Int32((Int128(x) >> Int128(exponent)) + (remainder > threshold ? 1 : 0))
    }

    static func multiply(_ x: Int32, multiplier: Int32, shift: Int32) -> Int32 {
        let left = Int128(x) << Int128(max(0, -shift))
        let saturated = Int32(clamping: left)
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(saturated, multiplier), max(0, shift))
    }
}

@Suite("Requantization")
struct RequantizeTests {
    static let multipliers: [Int32] = [1 << 30, (1 << 30) + 1, 1_518_500_250, 1_879_048_192, Int32.max - 1, Int32.max]

    /// Accumulators at the edges: extremes, small values, powers of two and their neighbours, and
    /// values that make ties in both rounding steps.
    static let accumulators: [Int32] = {
        var values: [Int32] = [.min, .min + 1, .min + 2, -3, -2, -1, 0, 1, 2, 3, .max - 2, .max - 1, .max]
        for p in 1...30 {
            let power = Int32(1) << Int32(p)
            values += [power - 1, power, power + 1, -power - 1, -power, -power + 1, power + power / 2, -power - power / 2]
        }
        return values
    }()

    @available(macOS 15.0, iOS 18.0, *)
    @Test("one value: every shift -31...31, edge multipliers, edge accumulators and ties, against gemmlowp in Int128")
    func exhaustiveEdges() {
        var mismatches = 0
        for shift in Int32(-31)...31 {
            for multiplier in Self.multipliers {
                for x in Self.accumulators where lbr_requantize_one(x, multiplier, shift) != Gemmlowp.multiply(x, multiplier: multiplier, shift: shift) {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
    }

    @available(macOS 15.0, iOS 18.0, *)
    @Test("random accumulators, multipliers and shifts against gemmlowp in Int128")
    func randomValues() {
        var rng = SeededGenerator(seed: 51)
        var mismatches = 0
        for _ in 0..<30_000 {
            let x = Int32(truncatingIfNeeded: rng.next() >> UInt64(rng.nextInt(below: 33)))
            let multiplier = Int32(1 << 30) + Int32(rng.nextInt(below: 1 << 30))
            let shift = Int32(rng.nextInt(below: 63)) - 31
            if lbr_requantize_one(x, multiplier, shift) != Gemmlowp.multiply(x, multiplier: multiplier, shift: shift) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("named roundings: the high multiply sends ties up, the divide sends ties away from zero")
    func tieDirections() {
        // x * 2^30 / 2^31 = x / 2: odd x is a tie; with shift 0 only the first rounding acts.
        #expect(lbr_requantize_one(1, 1 << 30, 0) == 1)
        #expect(lbr_requantize_one(-1, 1 << 30, 0) == 0)
        #expect(lbr_requantize_one(-3, 1 << 30, 0) == -1)
        // 2 * 2^30 / 2^31 = 1 exactly, then 1 / 2 = 0.5 and -1 / 2 = -0.5 round away from zero.
        #expect(lbr_requantize_one(2, 1 << 30, 1) == 1)
        #expect(lbr_requantize_one(-2, 1 << 30, 1) == -1)
        #expect(lbr_requantize_one(-6, 1 << 30, 2) == -1)   // -3 / 4 = -0.75
        #expect(lbr_requantize_one(Int32.min, 1 << 30, -1) == -(1 << 30))   // saturated left shift, then * 0.5
        #expect(lbr_requantize_one(Int32.max, Int32.max, -31) == Int32.max - 1)   // (2^31 - 1)^2 / 2^31
    }

    @Test("the vector path equals the scalar reference with per-channel multipliers, accumulator shift, bias, zero point and clamps",
          arguments: KernelPath.supported)
    func vectorMatchesReference(path: KernelPath) {
        var rng = SeededGenerator(seed: 52)
        for trial in 0..<3_000 {
            let rows = 1 + rng.nextInt(below: 3), n = 1 + rng.nextInt(below: 40)
            let acc = (0..<(rows * n)).map { _ in Self.accumulators[rng.nextInt(below: Self.accumulators.count)] &+ (Int32(rng.nextInt(below: 3)) - 1) }
            let bias = (0..<n).map { _ in trial % 2 == 0 ? 0 : Int32(truncatingIfNeeded: rng.next() >> 40) }
            let multiplier = (0..<n).map { _ in Self.multipliers[rng.nextInt(below: Self.multipliers.count)] }
            let shift = (0..<n).map { _ in Int32(rng.nextInt(below: 63)) - 31 }
            let signed = trial % 3 != 0
            let range: ClosedRange<Int32> = signed ? -128...127 : 0...255
            let zeroPoint = range.lowerBound + Int32(rng.nextInt(below: 256))
            let low = range.lowerBound + Int32(rng.nextInt(below: 50)), high = range.upperBound - Int32(rng.nextInt(below: 50))
            let accShift = Int32(trial % 9)
            var fast = [UInt8](repeating: 0, count: rows * n), reference = [UInt8](repeating: 1, count: rows * n)
            lbr_requantize(path.isa, acc, rows, n, n, accShift, bias, multiplier, shift, zeroPoint, low, high, &fast, signed ? 1 : 0, n)
            lbr_requantize_ref(acc, rows, n, n, accShift, bias, multiplier, shift, zeroPoint, low, high, &reference, signed ? 1 : 0, n)
            #expect(fast == reference)
            // The definition, from the scalar step alone: clamp(one((acc << s) &+ bias) + zero point).
            let expected = acc.indices.map { i -> UInt8 in
                let y = lbr_requantize_one((acc[i] << accShift) &+ bias[i % n], multiplier[i % n], shift[i % n])
                let q = min(max(Int64(y) + Int64(zeroPoint), Int64(low)), Int64(high))
                return UInt8(truncatingIfNeeded: q)
            }
            #expect(reference == expected)
        }
    }

    @Test("a real multiplier becomes M0 in [2^30, 2^31) and a shift within half an M0 step")
    func fixedPointFromReal() throws {
        var rng = SeededGenerator(seed: 53)
        for _ in 0..<2_000 {
            let real = Double(rng.nextUniform() + 0.001) * pow(2, Double(rng.nextInt(below: 30) - 20))
            let m = try FixedPointMultiplier(real: real)
            #expect(m.multiplier >= 1 << 30)
            #expect(abs(m.realValue - real) <= real * 0x1p-31)
        }
        let example = try FixedPointMultiplier(real: 0.0123)
        #expect(example.multiplier == 1_690_499_128 && example.shift == 6 && example.apply(1000) == 12)
        #expect(try FixedPointMultiplier(real: 1).multiplier == 1 << 30)
        #expect(try FixedPointMultiplier(real: 1).shift == -1)
        #expect(throws: LowBitError.self) { try FixedPointMultiplier(real: 0) }
        #expect(throws: LowBitError.self) { try FixedPointMultiplier(real: 0x1p-40) }
        #expect(throws: LowBitError.self) { try FixedPointMultiplier(multiplier: 5, shift: 0) }
    }

    @Test("ReLU and ReLU6 are clamps of the quantized output")
    func activationClamps() throws {
        let relu6 = try Requantizer(realMultipliers: [1, 1], outputScale: 0.05, zeroPoint: -10, outputType: Int8.self, activation: .relu6)
        #expect(relu6.clampRange == -10...110)   // 6 / 0.05 = 120 steps, capped at 127
        let q: [Int8] = try relu6.requantize([-100, 50, 200, -1], rows: 2)
        #expect(q == [-10, 40, 110, -10])
        let relu = try Requantizer(realMultipliers: [0.5], outputScale: 1, zeroPoint: 3, outputType: UInt8.self, activation: .relu)
        let u: [UInt8] = try relu.requantize([-7, 7, 1000], rows: 3, bias: [1])
        #expect(u == [3, 7, 255])   // (7 + 1) / 2 + 3 = 7; 500 + 3 clamps to 255
        #expect(throws: LowBitError.self) { let _: [UInt8] = try relu6.requantize([0, 0], rows: 1) }
    }
}
