import CLowBitRuntimeKernels
import LowBitTensor
import Testing
@testable import LowBitRuntime

/// `lbr_quantize_codes`, the input quantization of integer-only layers, against the activation
/// quantizer's formula written independently in Swift: clamp(round half to even(x / scale)).
struct QuantizeCodesTests {
    static func expected(_ x: Float, scale: Float, range: ClosedRange<Int32>) -> Int32 {
        let q = (x / scale).rounded(.toNearestOrEven)
        guard q >= Float(range.lowerBound) else { return range.lowerBound }   // NaN too
        return q > Float(range.upperBound) ? range.upperBound : Int32(q)
    }

    @Test("ties to even, clamps, NaN and random values match the formula, uint8 and int8, every path",
          arguments: KernelPath.supported)
    func matchesFormula(path: KernelPath) {
        var rng = SeededGenerator(seed: 17)
        let scale: Float = 0.05
        // Exact ties (k + 0.5) * scale are not representable in general; use scale 0.5 for them.
        let ties: [Float] = [0.25, 0.75, 1.25, -0.25, -0.75, 63.25, 63.75, 127.25]
        var x: [Float] = [0, -0, 12.74, 12.76, 1e9, -1e9, .infinity, -.infinity, .nan, 6.375, -6.375, 12.75]
        x += (0..<1003).map { _ in Float.random(in: -16...16, using: &rng) }
        for count in [0, 1, 7, 8, 9, x.count] {
            let slice = Array(x.prefix(count))
            let u8: [UInt8] = RuntimeValue.codes(slice, scale: scale, range: 0...255, path: path)
            let i8: [Int8] = RuntimeValue.codes(slice, scale: scale, range: -127...127, path: path)
            #expect(u8.map(Int32.init) == slice.map { Self.expected($0, scale: scale, range: 0...255) })
            #expect(i8.map(Int32.init) == slice.map { Self.expected($0, scale: scale, range: -127...127) })
        }
        let tieCodes: [Int8] = RuntimeValue.codes(ties, scale: 0.5, range: -127...127, path: path)
        #expect(tieCodes == [0, 2, 2, 0, -2, 126, 127, 127])   // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 126.5 -> 126 ...
    }
}
