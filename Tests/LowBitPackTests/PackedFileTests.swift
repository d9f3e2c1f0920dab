import Foundation
import LowBitIO
import LowBitNN
import LowBitPack
import LowBitRuntime
import LowBitTensor
import Testing

/// The packed file: its size is its tensors plus a small header, and a file the runtime cannot run
/// fails to load with a message that says why.
struct PackedFileTests {
    static let spec = try! Models.mlp(inputShape: [28, 28, 1], hidden: [256, 256], classCount: 10, batchNorm: true, activation: .hardTanh)

    func packedArchive(policy: String = "binary-all") throws -> LowBitArchive {
        try ModelPacker.pack(PackFixtures.model(Self.spec, policy: policy, seed: 5),
                             metadata: ["normalization": try JSONValue(encoding: PackFixtures.normalization)])
    }

    @Test("the file is the packed tensors plus a header of a few KB, within 5%", arguments: ["float", "binary-all", "hybrid-fp-first-last"])
    func fileSize(policy: String) throws {
        let archive = try packedArchive(policy: policy)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("packed-\(UUID().uuidString).lowbit").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try archive.write(to: path)
        let fileBytes = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let tensorBytes = archive.tensors.reduce(0) { $0 + $1.bytes.count }
        #expect(fileBytes >= tensorBytes)
        #expect(Double(fileBytes) <= 1.05 * Double(tensorBytes + 4096), "\(fileBytes) bytes on disk for \(tensorBytes) bytes of tensors")
        #expect(try PackedModel(contentsOf: path).plan == PackedModel(archive: archive).plan)
    }

    @Test("binary weights are stored as sign bits, 64 to a u64")
    func binaryWeightsArePacked() throws {
        let archive = try packedArchive()
        let signs = try archive.tensor(named: "fc2.signs")
        #expect(signs.dtype == .u64 && signs.shape == [256, 4])
        #expect(!archive.tensors.contains { $0.name.hasSuffix(".weight") })
        #expect(!archive.tensors.contains { $0.name.hasPrefix("bn") })
    }

    @Test("a model file that is not packed is refused with the command that packs it")
    func notPacked() throws {
        let model = try PackFixtures.model(Self.spec, policy: "float", seed: 1)
        #expect {
            try PackedModel(archive: model.archive(), source: "mlp.lowbit")
        } throws: { "\($0)".contains("not a packed model") && "\($0)".contains("lowbit pack") }
    }

    @Test("an unknown step kind, a newer version and a wrong tensor shape are named")
    func damagedPlans() throws {
        let archive = try packedArchive()
        func edited(_ edit: (inout [String: JSONValue]) -> Void) throws -> LowBitArchive {
            var plan = archive.metadata["packed"]!.object!
            edit(&plan)
            var copy = archive
            copy.metadata["packed"] = .object(plan)
            return copy
        }
        let unknown = try edited { plan in
            var steps = plan["steps"]!.array!
            steps[0] = .object(["kind": "attention", "name": "mystery"])
            plan["steps"] = .array(steps)
        }
        #expect { try PackedModel(archive: unknown) } throws: { "\($0)".contains("'attention'") }
        let newer = try edited { $0["version"] = 99 }
        #expect { try PackedModel(archive: newer) } throws: { "\($0)".contains("version 99") }
        #expect { try PackedModel(archive: edited { $0["version"] = 0 }) } throws: { "\($0)".contains("version 0") }
        // Version 1 files (no k-bit fields) and version 2 ones both run.
        _ = try PackedModel(archive: edited { $0["version"] = 1 })
        _ = try PackedModel(archive: edited { $0["version"] = 2 })
        var wrong = try LowBitArchive(metadata: archive.metadata, tensors: archive.tensors.filter { $0.name != "fc2.bias" })
        try wrong.add(StoredTensor(name: "fc2.bias", tensor: Tensor.zeros([255])))
        #expect { try PackedModel(archive: wrong) } throws: { "\($0)".contains("fc2.bias") && "\($0)".contains("[255]") }
    }

    @Test("inputs of the wrong shape are refused")
    func wrongInput() throws {
        let packed = try PackedModel(archive: packedArchive())
        #expect(throws: LowBitError.self) { try packed.predict(Tensor.zeros([1, 784])) }
    }
}
