import Foundation
import LowBitQuant
import LowBitTensor
import Testing

/// (input, rounded value, 8-bit code), derived by hand from the OCP FP8 definitions.
private let e4m3Table: [(Float, Float, UInt8)] = [
    (448, 448, 0x7E),                 // S.1111.110 = 1.75 * 2^8, the largest finite value
    (464, 448, 0x7E),                 // tie between 448 (mantissa 6) and 480 (would be 1111.111 = NaN): even -> 448
    (500, 448, 0x7E),                 // saturates
    (-1000, -448, 0xFE),
    (240, 240, 0x77),                 // 1.875 * 2^7: field 14, mantissa 7
    (232, 224, 0x76),                 // tie between 224 (mantissa 6) and 240 (7): even -> 224
    (248, 256, 0x78),                 // tie between 240 (mantissa 7) and 256 (field 15, mantissa 0): even -> 256
    (250, 256, 0x78),
    (1, 1, 0x38),
    (-1, -1, 0xB8),
    (0.3, 0.3125, 0x2A),              // 1.25 * 2^-2: field 5, mantissa 2
    (0.015625, 0.015625, 0x08),       // 2^-6, the smallest normal
    (0.013671875, 0.013671875, 0x07), // 7 * 2^-9, the largest subnormal
    (0.001953125, 0.001953125, 0x01), // 2^-9, the smallest subnormal
    (0.0009765625, 0, 0x00),          // 2^-10: tie between 0 and 2^-9, even -> 0
    (0.0029296875, 0.00390625, 0x02), // 1.5 * 2^-9: tie between codes 1 and 2, even -> 2
    (0, 0, 0x00),
]

private let e5m2Table: [(Float, Float, UInt8)] = [
    (57344, 57344, 0x7B),             // 1.75 * 2^15: field 30, mantissa 3, the largest finite value
    (61440, 57344, 0x7B),             // tie with 65536 (= inf code): saturates
    (1e6, 57344, 0x7B),
    (-1e6, -57344, 0xFB),
    (1, 1, 0x3C),
    (1.125, 1, 0x3C),                 // tie between 1.0 (mantissa 0) and 1.25 (1): even -> 1.0
    (1.375, 1.5, 0x3E),               // tie between 1.25 (1) and 1.5 (2): even -> 1.5
    (0.00006103515625, 0.00006103515625, 0x04),   // 2^-14, the smallest normal
    (0.0000152587890625, 0.0000152587890625, 0x01), // 2^-16, the smallest subnormal
    (0.00000762939453125, 0, 0x00),   // 2^-17: tie, even -> 0
]

@Suite("Low-bit floats (FP8)")
struct MiniFloatTests {
    @Test("E4M3 hand-derived roundings and encodings", arguments: e4m3Table)
    func e4m3(input: Float, value: Float, code: UInt8) {
        #expect(MiniFloatFormat.e4m3.rounded(input) == value)
        #expect(MiniFloatFormat.e4m3.encode(input) == code)
        #expect(MiniFloatFormat.e4m3.decode(code) == value)
    }

    @Test("E5M2 hand-derived roundings and encodings", arguments: e5m2Table)
    func e5m2(input: Float, value: Float, code: UInt8) {
        #expect(MiniFloatFormat.e5m2.rounded(input) == value)
        #expect(MiniFloatFormat.e5m2.encode(input) == code)
        #expect(MiniFloatFormat.e5m2.decode(code) == value)
    }

    @Test("Format constants")
    func constants() {
        #expect(MiniFloatFormat.e4m3.maxFinite == 448)
        #expect(MiniFloatFormat.e4m3.minSubnormal == 0.001953125)
        #expect(MiniFloatFormat.e4m3.minNormal == 0.015625)
        #expect(MiniFloatFormat.e5m2.maxFinite == 57344)
        #expect(MiniFloatFormat.e5m2.minSubnormal == 0.0000152587890625)
    }

    @Test("Special codes: E4M3 NaN only at S.1111.111; E5M2 inf at S.11111.00, NaN above")
    func specials() {
        #expect(MiniFloatFormat.e4m3.decode(0x7F).isNaN)
        #expect(MiniFloatFormat.e4m3.decode(0xFF).isNaN)
        #expect(MiniFloatFormat.e4m3.decode(0x78) == 256)
        #expect(MiniFloatFormat.e4m3.decode(0x80) == 0)
        #expect(MiniFloatFormat.e4m3.encode(.nan) == 0x7F)
        #expect(MiniFloatFormat.e4m3.encode(.infinity) == 0x7E)
        #expect(MiniFloatFormat.e5m2.decode(0x7C) == .infinity)
        #expect(MiniFloatFormat.e5m2.decode(0xFC) == -.infinity)
        #expect([0x7D, 0x7E, 0x7F, 0xFD].allSatisfy { MiniFloatFormat.e5m2.decode(UInt8($0)).isNaN })
        #expect(MiniFloatFormat.e5m2.encode(-.infinity) == 0xFC)
        #expect(MiniFloatFormat.e4m3.encode(-0.0) == 0x80)
    }

    @Test("Every finite code decodes and re-encodes to itself", arguments: [MiniFloatFormat.e4m3, .e5m2])
    func roundTrip(format: MiniFloatFormat) {
        for code in UInt8.min...UInt8.max {
            let value = format.decode(code)
            guard value.isFinite else { continue }
            #expect(format.encode(value) == code, "\(format.name) code \(code)")
            #expect(format.rounded(value) == value)
        }
    }

    @Test("Rounding equals the nearest value of an independently built table, ties to the even mantissa",
          arguments: [(MiniFloatFormat.e4m3, 4, 3, 7, false), (.e5m2, 5, 2, 15, true)])
    func nearestInTable(format: MiniFloatFormat, exponentBits: Int, mantissaBits: Int, bias: Int, hasInfinity: Bool) {
        // Non-negative finite values with their mantissa parity, from the format definition alone.
        var table: [(value: Double, even: Bool)] = []
        for field in 0..<(1 << exponentBits) {
            for mantissa in 0..<(1 << mantissaBits) {
                let top = field == (1 << exponentBits) - 1
                if top && (hasInfinity || mantissa == (1 << mantissaBits) - 1) { continue }
                let fraction = Double(mantissa) / Double(1 << mantissaBits)
                let value = field == 0
                    ? fraction * pow(2, Double(1 - bias))
                    : (1 + fraction) * pow(2, Double(field - bias))
                table.append((value, mantissa % 2 == 0))
            }
        }
        var rng = SeededGenerator(seed: 5)
        let largest = table.map(\.value).max()!
        for _ in 0..<3000 {
            // Log-uniform magnitudes from far below the subnormals to beyond the largest value.
            let exponent = Float(rng.nextUniform() * Float(bias * 2 + 8)) - Float(bias + mantissaBits + 3)
            let x = Float(pow(2, Double(exponent))) * (rng.nextUniform() < 0.5 ? -1 : 1)
            let magnitude = Double(abs(x))
            var best = table[0]
            for entry in table {
                let d = abs(entry.value - magnitude), bestD = abs(best.value - magnitude)
                if d < bestD || (d == bestD && entry.even && !best.even) { best = entry }
            }
            let expected = Float(min(best.value, largest)) * (x < 0 ? -1 : 1)
            #expect(format.rounded(x) == expected, "\(format.name) x = \(x)")
        }
    }

    @Test("Quantizer: saturation, STE zero where |x| > max finite")
    func quantizer() throws {
        let q = MiniFloatQuantizer(format: .e4m3)
        let x = tensor([0.3, 500, -0.0009765625, -448])
        #expect(try q.quantize(x).data == [0.3125, 448, 0, -448])
        #expect(q.backward(input: x, gradOutput: tensor([1, 2, 3, 4])).data == [1, 0, 3, 4])
        #expect(q.bitWidth == 8)
    }
}
