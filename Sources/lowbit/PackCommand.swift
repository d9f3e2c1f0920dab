import ArgumentParser
import Foundation
import LowBitIO
import LowBitPack
import LowBitRuntime
import LowBitTensor

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Write a model in deployed form for the runtime (lowbit run, lowbit bench MODEL).",
        discussion: """
            BatchNorm is folded into the layer before it, binary weights become sign bits (64 to a u64) \
            with their scales in a fused output transform, dropout is dropped. The packed file keeps the \
            input normalization, so it takes raw inputs. docs/FORMAT.md ("Packed models") has the layout.
            Example: lowbit pack mlp.lowbit -o mlp.packed.lowbit
            """
    )

    @Argument(help: "Trained model file (.lowbit).") var modelPath: String
    @Option(name: [.short, .customLong("output")], help: "Packed model file to write.") var output: String
    @Flag(help: "Print one JSON object: output, file_bytes, tensor_bytes, source_bytes, layers[{name, kind}].") var json = false

    func run() throws {
        let (model, metadata) = try loadModel(modelPath)
        let archive = try ModelPacker.pack(model, metadata: metadata)
        let runtime = try PackedModel(archive: archive, source: output)
        try archive.write(to: output)
        let report = PackReport(output: output, fileBytes: try fileSize(output), tensorBytes: archive.tensors.reduce(0) { $0 + $1.bytes.count },
                                sourceBytes: try fileSize(modelPath),
                                layers: runtime.layers.map { PackReport.Layer(name: $0.name, kind: $0.kind) })
        if json {
            try printJSON(report)
        } else {
            print("\(output): \(report.fileBytes) bytes (\(report.tensorBytes) in tensors), from \(report.sourceBytes) bytes "
                  + String(format: "(%.1fx smaller); %d steps: ", Double(report.sourceBytes) / Double(report.fileBytes), report.layers.count)
                  + report.layers.map { "\($0.name) \($0.kind)" }.joined(separator: ", "))
        }
    }
}

private struct PackReport: Encodable {
    struct Layer: Encodable {
        let name: String
        let kind: String
    }

    let output: String
    let fileBytes: Int
    let tensorBytes: Int
    let sourceBytes: Int
    let layers: [Layer]

    enum CodingKeys: String, CodingKey {
        case output, layers
        case fileBytes = "file_bytes", tensorBytes = "tensor_bytes", sourceBytes = "source_bytes"
    }
}

/// The size of the file at `path` in bytes.
func fileSize(_ path: String) throws -> Int {
    do {
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    } catch {
        throw LowBitError.io(path: path, reason: "cannot read its size: \(error.localizedDescription)")
    }
}
