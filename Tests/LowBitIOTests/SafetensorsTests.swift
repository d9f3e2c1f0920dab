import Foundation
import LowBitIO
import LowBitTensor
import Testing

@Suite("safetensors")
struct SafetensorsTests {
    /// Written by the Python `safetensors` package from NumPy arrays (Fixtures/make_fixtures.py).
    @Test func readsAFileWrittenByThePythonPackage() throws {
        let file = try SafetensorsFile.read(from: fixturePath("mixed.safetensors"))
        #expect(file.metadata == ["format": "np", "note": "fixture"])
        #expect(Set(file.tensors.map(\.name)) == ["weight", "codes", "pixels", "counts", "half"])
        let weight = try file.tensor(named: "weight").floatTensor()
        #expect(weight.shape == [2, 3])
        #expect(weight.data.map(\.bitPattern) == ([1, -2, 3.5, 0.25, -0.0, 1e-3] as [Float]).map(\.bitPattern))
        #expect(try file.tensor(named: "codes").values(as: Int8.self) == [-128, -1, 0, 127])
        #expect(try file.tensor(named: "pixels").values(as: UInt8.self) == [0, 1, 254, 255])
        #expect(try file.tensor(named: "pixels").shape == [2, 2])
        #expect(try file.tensor(named: "counts").values(as: Int32.self) == [.min, 0, .max])
        #expect(try file.tensor(named: "half").floatTensor().data == [1, -2.5, 65504])
    }

    @Test func readsScalarAndEmptyTensors() throws {
        let file = try SafetensorsFile.read(from: fixturePath("scalar_empty.safetensors"))
        #expect(try file.tensor(named: "scalar").floatTensor() == Tensor(shape: [], data: [42]))
        #expect(try file.tensor(named: "empty").floatTensor() == Tensor(shape: [0], data: []))
        #expect(try file.tensor(named: "bias").floatTensor().data == [0.5, -0.5])
        #expect(file.metadata.isEmpty)
    }

    @Test func readsBFloat16AsFloat() throws {
        let tensor = try SafetensorsFile.read(from: fixturePath("bf16.safetensors")).tensor(named: "x")
        #expect(tensor.dtype == .f32)
        #expect(try tensor.floatTensor() == Tensor(shape: [2, 2], data: [1, -2.5, 0.15625, .infinity]))
    }

    @Test func everyDtypeRoundTripsBitExact() throws {
        let tensors = try TensorDType.allCases.enumerated().map { index, dtype in
            try StoredTensor(name: "t\(index)", dtype: dtype, shape: [2, 3],
                             bytes: pseudoRandomBytes(6 * dtype.elementByteCount, seed: UInt64(index)))
        }
        let original = try SafetensorsFile(tensors: tensors, metadata: ["k": "v"])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try original.write(to: directory.file("t.safetensors"))
        let loaded = try SafetensorsFile.read(from: directory.file("t.safetensors"))
        #expect(loaded.metadata == ["k": "v"])
        for tensor in tensors { #expect(try loaded.tensor(named: tensor.name) == tensor) }
        #expect(try directory.fileNames() == ["t.safetensors"])
    }

    /// The writer's order (element size descending, then name) and padding, read back with a
    /// generic JSON parser rather than our reader.
    @Test func writerOrdersBySizeThenNameAndPadsTheHeaderTo8Bytes() throws {
        let file = try SafetensorsFile(tensors: [
            StoredTensor(name: "b8", dtype: .u8, shape: [3], bytes: [1, 2, 3]),
            StoredTensor(name: "a8", dtype: .i8, shape: [1], bytes: [4]),
            StoredTensor(name: "z32", dtype: .f32, shape: [1], bytes: [0, 0, 128, 63]),
        ])
        let bytes = try file.encoded()
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect((8 + headerLength) % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        func offsets(_ name: String) -> [Int] { (header[name] as! [String: Any])["data_offsets"] as! [Int] }
        #expect(offsets("z32") == [0, 4] && offsets("a8") == [4, 5] && offsets("b8") == [5, 8])
        #expect(header["__metadata__"] == nil)
        #expect(Array(bytes[(8 + headerLength)...]) == [0, 0, 128, 63, 4, 1, 2, 3])
    }

    /// A header with a valid length and the given JSON, followed by `dataByteCount` zero bytes.
    static func handBuilt(_ json: String, dataByteCount: Int) -> [UInt8] {
        littleEndianBytes(UInt64(json.utf8.count)) + Array(json.utf8) + [UInt8](repeating: 0, count: dataByteCount)
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 7, "tensor 'a' has data_offsets [0, 8] outside"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
         8, "tensors 'a' (data bytes 0..<8) and 'b' (data bytes 4..<8) overlap"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "data bytes 0..<4 belong to no tensor"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "the last 4 bytes belong to no tensor"),
        (#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, 20,
         "tensor 'a': shape [2, 3] of F32 needs 24 bytes but data_offsets span 20"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4, "tensor 'a' has data_offsets [4, 0]"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, 4, "tensor 'a' has 1 data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[1]}}"#, 4, "the safetensors header is invalid: 'a.data_offsets' is missing"),
        (#"{"a": oops"#, 4, "the safetensors header is invalid: it is not valid JSON"),
    ] as [(String, Int, String)])
    func aHeaderThatDisagreesWithTheDataIsRejected(json: String, dataByteCount: Int, expected: String) {
        let reason = corruptReason { _ = try SafetensorsFile(decoding: Self.handBuilt(json, dataByteCount: dataByteCount), source: "s") }
        #expect(reason.hasPrefix(expected), "\(reason)")
    }

    @Test func truncatedFilesAreRejected() throws {
        let bytes = try FileAccess.readAll(fixturePath("mixed.safetensors"))
        for length in [0, 7, 8, 100, bytes.count - 1] {
            #expect(!corruptReason { _ = try SafetensorsFile(decoding: Array(bytes.prefix(length)), source: "s") }.isEmpty,
                    "cut at \(length)")
        }
    }

    @Test func anUnsupportedDtypeIsNamed() {
        let bytes = Self.handBuilt(#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, dataByteCount: 8)
        let error = lowBitError { _ = try SafetensorsFile(decoding: bytes, source: "s") }
        guard case let .unsupported(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.hasPrefix("s: tensor 'a' has safetensors dtype F64; LowBit reads F32, F16"))
    }

    @Test func theMetadataKeyCannotNameATensor() throws {
        #expect(lowBitError {
            _ = try SafetensorsFile(tensors: [StoredTensor(name: "__metadata__", tensor: .zeros([1]))])
        } != nil)
    }
}
