import ArgumentParser
import Foundation
import LowBitIO
import LowBitQuant
import LowBitTensor

/// Quantizes every floating-point tensor of a safetensors file with one scheme and writes the
/// dequantized float32 values under the same names: how users check LowBit's quantizers against
/// their own implementation of the same formulas (docs/QUANTIZATION.md).
struct QuantizeTensorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize-tensors",
        abstract: "Fake-quantize every tensor of a safetensors file (dequantized float32 out).",
        discussion: """
            Example: lowbit quantize-tensors weights.safetensors --scheme fgq --granularity group --group 4 --delta optimal -o q.safetensors
            The channel axis is axis 0 (PyTorch's [out, in, kh, kw]); groups run over the remaining axes flattened.
            Integer tensors are copied unchanged. Rounding is half to even.
            """
    )

    enum Scheme: String, ExpressibleByArgument, CaseIterable {
        case binary, twn, fgq, uniform, fixed, pow2, fp8
    }

    @Argument(help: "Input .safetensors file.") var input: String
    @Option(help: "Scheme: \(Scheme.allCases.map(\.rawValue).joined(separator: ", ")).") var scheme: Scheme
    @Option(help: "tensor, channel or group (binary also takes none).") var granularity: String?
    @Option(help: "Group size for --granularity group.") var group: Int?
    @Option(help: "FGQ threshold: optimal or heuristic.") var delta: String?
    @Option(help: "Bits (uniform, pow2).") var bits: Int?
    @Flag(help: "Symmetric (narrow range) uniform quantization (the default).") var symmetric = false
    @Flag(help: "Affine uniform quantization with a zero point.") var affine = false
    @Option(name: .customLong("int-bits"), help: "Fixed point: integer bits I (plus a sign bit).") var intBits: Int?
    @Option(name: .customLong("frac-bits"), help: "Fixed point: fraction bits F.") var fracBits: Int?
    @Option(name: .customLong("fp8-format"), help: "fp8: e4m3 (default) or e5m2.") var fp8Format = "e4m3"
    @Option(name: [.short, .customLong("output")], help: "Output .safetensors file.") var output: String

    func run() throws {
        guard !(symmetric && affine) else { throw ValidationError("choose one of --symmetric and --affine") }
        let spec = try quantizerSpec()
        let file = try SafetensorsFile.read(from: input)
        var tensors: [StoredTensor] = []
        for stored in file.tensors {
            guard stored.dtype == .f32 || stored.dtype == .f16 else {
                tensors.append(stored)
                continue
            }
            let quantizer = try makeQuantizer(spec)
            let values = try stored.floatTensor()
            let quantized: Tensor
            do {
                quantized = try quantizer.quantize(values)
            } catch let error as LowBitError {
                throw LowBitError.invalidArgument("tensor \(stored.name): \(error)")
            }
            tensors.append(try StoredTensor(name: stored.name, tensor: quantized))
        }
        var metadata = file.metadata
        metadata["lowbit.quantizer"] = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: output)
        print("quantized \(tensors.count) tensors with \(spec.scheme) -> \(output)")
    }

    func quantizerSpec() throws -> QuantizerSpec {
        switch scheme {
        case .binary: return QuantizerSpec(scheme: "binary", granularity: granularity ?? "channel")
        case .twn: return QuantizerSpec(scheme: "twn")
        case .fgq:
            return QuantizerSpec(scheme: "fgq", granularity: granularity ?? "group", groupSize: group ?? 4, delta: delta ?? "optimal")
        case .uniform:
            guard let bits else { throw ValidationError("--scheme uniform needs --bits") }
            return QuantizerSpec(scheme: "uniform", bits: bits, granularity: granularity ?? "tensor", groupSize: group,
                                 symmetric: !affine)
        case .pow2:
            guard let bits else { throw ValidationError("--scheme pow2 needs --bits") }
            return QuantizerSpec(scheme: "pow2", bits: bits, granularity: granularity ?? "tensor", groupSize: group)
        case .fixed:
            guard let intBits, let fracBits else { throw ValidationError("--scheme fixed needs --int-bits and --frac-bits") }
            return QuantizerSpec(scheme: "fixed", intBits: intBits, fracBits: fracBits)
        case .fp8:
            guard ["e4m3", "e5m2"].contains(fp8Format) else { throw ValidationError("--fp8-format must be e4m3 or e5m2") }
            return QuantizerSpec(scheme: "fp8-\(fp8Format)")
        }
    }
}
