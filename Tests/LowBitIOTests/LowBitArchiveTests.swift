import Foundation
import LowBitIO
import LowBitTensor
import Testing

@Suite(".lowbit archive round trips")
struct LowBitArchiveTests {
    static let spec = ModelSpec(name: "resnet-tiny", inputShape: [28, 28, 1], classCount: 10, layers: [
        LayerSpec(kind: .conv2d, name: "stem", inChannels: 1, outChannels: 8, kernelSize: 3, stride: 1,
                  padding: .same, bias: false),
        LayerSpec(kind: .batchNorm, name: "stem.bn", channels: 8, epsilon: 1e-5, momentum: 0.9),
        LayerSpec(kind: .residual, name: "block0", body: [
            LayerSpec(kind: .hardTanh, name: "block0.act"),
            LayerSpec(kind: .conv2d, name: "block0.conv", inChannels: 8, outChannels: 8, kernelSize: 3, padding: .same),
        ], shortcut: []),
        LayerSpec(kind: .globalAvgPool, name: "pool"),
        LayerSpec(kind: .dropout, name: "drop", rate: 0.1),
        LayerSpec(kind: .dense, name: "fc", inFeatures: 8, outFeatures: 10, bias: true),
    ])

    @Test(arguments: TensorDType.allCases)
    func everyDtypeRoundTripsBitExact(dtype: TensorDType) throws {
        let shape = [3, 5]
        let bytes = pseudoRandomBytes(15 * dtype.elementByteCount, seed: UInt64(dtype.elementByteCount))
        let archive = try LowBitArchive(tensors: [
            StoredTensor(name: "a", dtype: dtype, shape: shape, bytes: bytes),
            StoredTensor(name: "b", dtype: dtype, shape: [], bytes: Array(bytes.prefix(dtype.elementByteCount))),
        ])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try archive.write(to: directory.file("m.lowbit"))
        let loaded = try LowBitArchive.read(from: directory.file("m.lowbit"))
        #expect(loaded == archive)
        #expect(try loaded.tensor(named: "a").bytes == bytes)
    }

    @Test func modelSpecAndMetadataRoundTrip() throws {
        let metadata: [String: JSONValue] = [
            "training": ["epochs": 30, "optimizer": "adam", "learningRate": 0.001],
            "metrics": ["accuracy": 0.9123],
            "normalization": ["mean": [0.2860], "std": [0.3530]],
            "policy": [["pattern": "*.shortcut", "weights": "float"], ["pattern": "*", "weights": "binary"]],
        ]
        var archive = LowBitArchive(spec: Self.spec, metadata: metadata)
        try archive.add(StoredTensor(name: "fc.weight", tensor: Tensor(shape: [10, 8], repeating: 0.5)))
        let loaded = try LowBitArchive(decoding: archive.encoded(), source: "memory")
        #expect(loaded.spec == Self.spec)
        #expect(loaded.metadata == metadata)
        #expect(try loaded.tensor(named: "fc.weight").floatTensor() == Tensor(shape: [10, 8], repeating: 0.5))
    }

    @Test func anEmptyArchiveRoundTrips() throws {
        let archive = LowBitArchive()
        let bytes = try archive.encoded()
        #expect(bytes.count % 64 == 0)
        #expect(try LowBitArchive(decoding: bytes, source: "memory") == archive)
    }

    /// Pins the byte layout of docs/FORMAT.md: the writer's output equals a file assembled by hand.
    @Test func writerOutputMatchesTheDocumentedLayoutByteForByte() throws {
        let first: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]  // f32 1.0, -2.0
        let second: [UInt8] = [0xFF, 0x00, 0x01]
        let archive = try LowBitArchive(tensors: [
            StoredTensor(name: "w", dtype: .f32, shape: [2], bytes: first),
            StoredTensor(name: "codes", dtype: .u8, shape: [3], bytes: second),
        ])
        let json = #"{"metadata":{},"tensors":["#
            + #"{"byteCount":8,"crc32":\#(CRC32.checksum(first)),"dtype":"f32","name":"w","offset":0,"shape":[2]},"#
            + #"{"byteCount":3,"crc32":\#(CRC32.checksum(second)),"dtype":"u8","name":"codes","offset":64,"shape":[3]}]}"#
        let expected = handBuiltLowBitFile(json: json, data: first + [UInt8](repeating: 0, count: 56) + second)
        #expect(try archive.encoded() == expected)
    }

    @Test func tensorsKeepTheirOrderAndEachStartsOn64Bytes() throws {
        let names = ["z", "a", "m"]
        let archive = try LowBitArchive(tensors: names.enumerated().map { index, name in
            try StoredTensor(name: name, dtype: .u8, shape: [index * 37 + 1], bytes: pseudoRandomBytes(index * 37 + 1, seed: 1))
        })
        let bytes = try archive.encoded()
        #expect(try LowBitArchive(decoding: bytes, source: "memory").tensors.map(\.name) == names)
        // Read the offsets straight from the JSON header, as another implementation would.
        let headerLength = Int(bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try JSONSerialization.jsonObject(with: Data(bytes[32..<(32 + headerLength)])) as! [String: Any]
        let dataStart = (32 + headerLength + 63) / 64 * 64
        for entry in header["tensors"] as! [[String: Any]] {
            #expect((dataStart + (entry["offset"] as! Int)) % 64 == 0)
        }
    }

    @Test func aHandBuiltFileFollowingTheSpecReads() throws {
        let data: [UInt8] = [0x00, 0x3C, 0x00, 0xC1]  // f16 1.0, -2.5
        let json = "{\"tensors\":[\(entryJSON("h", dtype: "f16", shape: [2], offset: 0, byteCount: 4, crc32: CRC32.checksum(data)))]}"
        let archive = try LowBitArchive(decoding: handBuiltLowBitFile(json: json, data: data), source: "hand")
        #expect(archive.spec == nil && archive.metadata.isEmpty)
        #expect(try archive.tensor(named: "h").floatTensor().data == [1.0, -2.5])
    }

    /// Forward compatibility within major version 1: newer minor versions, unknown JSON keys and
    /// optional flags (bits 16-31) are accepted.
    @Test func newerMinorVersionsUnknownKeysAndOptionalFlagsAreAccepted() throws {
        let json = #"{"tensors":[],"quantizationTable":{"future":true}}"#
        let file = handBuiltLowBitFile(json: json, minor: 7, flags: 0x0001_0000)
        #expect(try LowBitArchive(decoding: file, source: "future").tensors.isEmpty)
    }

    @Test func lookingUpAMissingTensorNamesItAndListsTheOthers() throws {
        let archive = try LowBitArchive(tensors: [StoredTensor(name: "fc1.weight", tensor: .zeros([1]))])
        let error = lowBitError { _ = try archive.tensor(named: "fc2.weight") }
        #expect(error == .invalidArgument("no tensor named 'fc2.weight' in the archive; it has 'fc1.weight'"))
    }

    @Test func duplicateNamesAreRefused() throws {
        var archive = LowBitArchive()
        try archive.add(StoredTensor(name: "w", tensor: .zeros([1])))
        #expect(lowBitError { try archive.add(StoredTensor(name: "w", tensor: .zeros([2]))) } != nil)
        #expect(lowBitError {
            _ = try LowBitArchive(tensors: [StoredTensor(name: "w", tensor: .zeros([1])),
                                            StoredTensor(name: "w", tensor: .zeros([1]))])
        } != nil)
    }
}
