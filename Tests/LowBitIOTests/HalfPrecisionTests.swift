import LowBitIO
import Testing

@Suite("Half precision conversions")
struct HalfPrecisionTests {
    /// Hand-checked against the binary16 definition (and NumPy's float16).
    @Test(arguments: [
        (1.0, 0x3C00), (-2.5, 0xC100), (65504, 0x7BFF), (0x1p-24, 0x0001), (0x1p-14, 0x0400),
        (-0.0, 0x8000), (1.0 / 3.0, 0x3555),
        (65519, 0x7BFF),   // below the rounding midpoint to infinity
        (65520, 0x7C00),   // midpoint: ties to even rounds up to infinity
        (0x1p-25, 0x0000), // tie between 0 and the smallest subnormal: even is 0
        (0x1.8p-25, 0x0001),
        (0x1p-26, 0x0000),
        (Float.infinity, 0x7C00),
    ] as [(Float, UInt16)])
    func floatToHalfRoundsToNearestEven(value: Float, bits: UInt16) {
        #expect(HalfPrecision.halfBits(from: value) == bits)
    }

    @Test func everyHalfBitPatternSurvivesARoundTripThroughFloat() {
        for bits in UInt16.min...UInt16.max {
            let back = HalfPrecision.halfBits(from: HalfPrecision.float(fromHalfBits: bits))
            #expect(back == bits, "0x\(String(bits, radix: 16))")
            if back != bits { return }
        }
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Swift's own `Float16` is the oracle where the platform has it.
    @Test func halfToFloatMatchesSwiftFloat16ForEveryPattern() {
        for bits in UInt16.min...UInt16.max {
            let ours = HalfPrecision.float(fromHalfBits: bits)
            let oracle = Float(Float16(bitPattern: bits))
            #expect(ours.bitPattern == oracle.bitPattern || (ours.isNaN && oracle.isNaN))
        }
    }

    @Test func floatToHalfMatchesSwiftFloat16OnPseudoRandomFloats() {
        let bytes = pseudoRandomBytes(4 * 200_000, seed: 7)
        for index in 0..<200_000 {
            let pattern = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[index * 4 + $1]) << ($1 * 8) }
            let value = Float(bitPattern: pattern)
            if value.isNaN { continue }
            #expect(HalfPrecision.halfBits(from: value) == Float16(value).bitPattern, "\(value)")
        }
    }
    #endif

    @Test func nanStaysNaN() {
        #expect(HalfPrecision.float(fromHalfBits: HalfPrecision.halfBits(from: .nan)).isNaN)
        // A float NaN whose payload sits only in the low 13 bits must not become infinity.
        #expect(HalfPrecision.float(fromHalfBits: HalfPrecision.halfBits(from: Float(bitPattern: 0x7F80_0001))).isNaN)
    }

    @Test(arguments: [(0x3F80, 1.0), (0xC020, -2.5), (0x3E20, 0.15625), (0x7F80, Float.infinity)] as [(UInt16, Float)])
    func bfloat16IsTheTopHalfOfAFloat(bits: UInt16, value: Float) {
        #expect(HalfPrecision.float(fromBFloat16Bits: bits) == value)
    }
}
