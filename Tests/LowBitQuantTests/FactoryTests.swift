import Foundation
import LowBitQuant
import LowBitTensor
import Testing

@Suite("makeQuantizer, specs and the block layout")
struct FactoryTests {
    @Test("Every spec recreates an equal quantizer: same spec, same output", arguments: allSchemeSpecs)
    func roundTrip(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        let copy = try makeQuantizer(q.spec)
        #expect(copy.spec == q.spec)
        let x = randomTensor([4, 6], seed: 21)
        #expect(try copy.quantize(x) == (try q.quantize(x)))
    }

    @Test("Specs survive JSON, which omits unused fields", arguments: allSchemeSpecs)
    func json(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        let data = try JSONEncoder().encode(q.spec)
        #expect(try JSONDecoder().decode(QuantizerSpec.self, from: data) == q.spec)
        #expect(!String(decoding: data, as: UTF8.self).contains("null"))
    }

    @Test("The factory builds the documented types")
    func types() throws {
        #expect(try makeQuantizer(QuantizerSpec(scheme: "fgq", groupSize: 8)) is FGQQuantizer)
        #expect(try makeQuantizer(QuantizerSpec(scheme: "activation", bits: 4, calibration: "pact")) is PACTQuantizer)
        #expect(try makeQuantizer(QuantizerSpec(scheme: "activation", bits: 4)) is ActivationQuantizer)
        let fgq = try makeQuantizer(QuantizerSpec(scheme: "fgq")) as? FGQQuantizer
        #expect(fgq?.granularity == .group(4))
        #expect(fgq?.threshold == .optimal)
        #expect(try makeQuantizer(QuantizerSpec(scheme: "binary")).bitWidth == 1)
        #expect(try makeQuantizer(QuantizerSpec(scheme: "fixed", intBits: 3, fracBits: 4)).bitWidth == 8)
    }

    @Test("An unknown scheme names the known ones")
    func unknownScheme() {
        let error = lowBitError { try makeQuantizer(QuantizerSpec(scheme: "int3")) }
        guard case let .unsupported(message) = error else {
            Issue.record("expected unsupported, got \(String(describing: error))")
            return
        }
        for name in QuantizerScheme.allCases.map(\.rawValue) {
            #expect(message.contains(name))
        }
    }

    @Test("Missing or invalid fields are clear errors", arguments: [
        QuantizerSpec(scheme: "uniform"),
        QuantizerSpec(scheme: "uniform", bits: 0),
        QuantizerSpec(scheme: "uniform", bits: 33),
        QuantizerSpec(scheme: "uniform", bits: 4, rounding: "up"),
        QuantizerSpec(scheme: "uniform", bits: 4, granularity: "group"),
        QuantizerSpec(scheme: "uniform", bits: 4, granularity: "group", groupSize: 0),
        QuantizerSpec(scheme: "uniform", bits: 4, granularity: "row"),
        QuantizerSpec(scheme: "pow2", bits: 0),
        QuantizerSpec(scheme: "pow2", bits: 33),
        QuantizerSpec(scheme: "dynamic-fixed", bits: 0),
        QuantizerSpec(scheme: "dynamic-fixed", bits: 33),
        QuantizerSpec(scheme: "fixed", intBits: 3),
        QuantizerSpec(scheme: "fixed", intBits: 32, fracBits: 0),
        QuantizerSpec(scheme: "activation", bits: 0),
        QuantizerSpec(scheme: "activation", bits: 33),
        QuantizerSpec(scheme: "activation", bits: 8, calibration: "kl"),
        QuantizerSpec(scheme: "binary", granularity: "group"),
        QuantizerSpec(scheme: "fgq", delta: "0.7"),
        QuantizerSpec(scheme: "fgq", groupSize: -2),
    ])
    func invalidSpecs(spec: QuantizerSpec) {
        #expect(isInvalidArgument(lowBitError { try makeQuantizer(spec) }))
    }

    @Test("NaN and infinities are rejected by every scheme", arguments: allSchemeSpecs)
    func nonFinite(spec: QuantizerSpec) throws {
        let q = try makeQuantizer(spec)
        for bad in [Float.nan, .infinity, -.infinity] {
            #expect(isNonFinite(lowBitError { try q.quantize(tensor([1, bad, 0], shape: [1, 3])) }))
            if q is ActivationQuantizer {
                #expect(isNonFinite(lowBitError { try q.observe(tensor([bad])) }))
            }
        }
    }

    @Test("Pure functions reject NaN and infinities")
    func pureNonFinite() {
        let w: [Float] = [1, .nan]
        #expect(isNonFinite(lowBitError { try fgqTernarize(weights: w, rowLength: 2, groupSize: 2, delta: .optimal) }))
        #expect(isNonFinite(lowBitError { try uniformQuantize(weights: w, rowLength: 2, groupSize: 2, bits: 4, symmetric: true) }))
        #expect(isNonFinite(lowBitError { try binarize(weights: w, rowLength: 2, scaling: .channel) }))
        #expect(isNonFinite(lowBitError { try powerOfTwoQuantize(weights: w, rowLength: 2, groupSize: 2, bits: 4) }))
        #expect(isNonFinite(lowBitError { try fixedPointQuantize(weights: [.infinity], totalBits: 8, fracBits: 4) }))
    }

    @Test("Block layout: rows of 5 in groups of 2, short last group per row")
    func blocks() throws {
        let layout = try BlockLayout(count: 10, rowLength: 5, groupSize: 2)
        #expect(layout.blocks == [0..<2, 2..<4, 4..<5, 5..<7, 7..<9, 9..<10])
        #expect((0..<10).map(layout.blockIndex(ofElement:)) == [0, 0, 1, 1, 2, 3, 3, 4, 4, 5])
        #expect(try BlockLayout(count: 6, rowLength: 3, groupSize: 10).blocks == [0..<3, 3..<6])
        #expect(isInvalidArgument(lowBitError { try BlockLayout(count: 10, rowLength: 3, groupSize: 1) }))
        #expect(isInvalidArgument(lowBitError { try BlockLayout(count: 10, rowLength: 5, groupSize: 0) }))
    }

    @Test("Granularity layouts follow the channel axis 0 (OHWI), 1-D tensors are per element")
    func granularityLayouts() {
        let conv = QuantizationGranularity.group(4).layout(forShape: [8, 3, 3, 16])
        #expect(conv.rowLength == 144 && conv.groupSize == 4 && conv.blockCount == 8 * 36)
        #expect(QuantizationGranularity.channel.layout(forShape: [8, 3, 3, 16]).blockCount == 8)
        #expect(QuantizationGranularity.tensor.layout(forShape: [8, 3, 3, 16]).blockCount == 1)
        #expect(QuantizationGranularity.channel.layout(forShape: [5]).blockCount == 5)
        #expect(QuantizationGranularity.group(3).layout(forShape: [5]).blockCount == 5)
        #expect(QuantizationGranularity.channel.layout(forShape: [0, 4]).blockCount == 0)
    }

    @Test("Empty tensors quantize to empty tensors", arguments: weightSchemeSpecs)
    func emptyTensors(spec: QuantizerSpec) throws {
        let y = try makeQuantizer(spec).quantize(.zeros([0, 3]))
        #expect(y.shape == [0, 3])
    }
}
