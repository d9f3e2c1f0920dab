import Foundation
import LowBitTensor

/// Reads the CIFAR-10 "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html).
///
/// A directory (the unpacked `cifar-10-batches-bin/`, or its parent) holds
/// `data_batch_1.bin` ... `data_batch_5.bin` (train, 50 000 images) and `test_batch.bin`
/// (10 000), each optionally gzip-compressed as `NAME.bin.gz`. Every record is 3073 bytes:
/// ```
/// byte 0          label 0...9
/// bytes 1...1024  red   plane, 32 x 32, row-major
/// bytes 1025...   green plane
/// bytes 2049...   blue  plane
/// ```
/// The planes (CHW) are interleaved into NHWC `[N, 32, 32, 3]` and divided by 255. Class names
/// come from `batches.meta.txt` when present, otherwise from the published list.
///
/// ```swift
/// let train = try CIFAR10.load(directory: "/data/cifar-10-batches-bin", split: .train)
/// train.features.shape   // [50000, 32, 32, 3]
/// ```
public enum CIFAR10 {
    public static let side = 32
    public static let channels = 3
    /// One label byte plus three 32 x 32 planes.
    public static let recordByteCount = 1 + side * side * channels

    /// The classes in label order, as in `batches.meta.txt` of the official archive.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// The batch files of a split, without the optional `.gz`.
    public static func fileNames(_ split: DatasetSplit) -> [String] {
        switch split {
        case .train: return (1...5).map { "data_batch_\($0).bin" }
        case .test: return ["test_batch.bin"]
        }
    }

    /// Loads every batch of `split` from `directory`.
    ///
    /// - Throws: ``LowBitError/io(path:reason:)`` listing the missing batch files;
    ///   ``LowBitError/corruptFile(path:reason:)`` when a file's size is not a whole number of
    ///   records or a label is above 9.
    public static func load(directory: String, split: DatasetSplit) throws -> LabeledDataset {
        let directory = resolveDirectory(directory)
        let wanted = fileNames(split).map { (directory as NSString).appendingPathComponent($0) }
        let missing = wanted.filter { GzipReader.existingPath($0) == nil }
        guard missing.isEmpty else {
            throw LowBitError.io(
                path: directory,
                reason: "missing CIFAR-10 file(s) \(missing.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) (each may also be .bin.gz); expected the unpacked cifar-10-binary.tar.gz: data_batch_1.bin ... data_batch_5.bin and test_batch.bin")
        }
        // Read every batch before allocating the float tensor, so the peak is the 154 MB of bytes
        // plus the tensor, not two tensors.
        let batches = try wanted.map { path -> (path: String, bytes: [UInt8]) in
            let resolved = GzipReader.existingPath(path)!
            let bytes = try GzipReader.readAll(resolved)
            try validate(bytes, path: resolved)
            return (resolved, bytes)
        }
        let total = batches.reduce(0) { $0 + $1.bytes.count / recordByteCount }
        var labels: [Int32] = []
        labels.reserveCapacity(total)
        let features = Tensor(shape: [total, side, side, channels], unsafeUninitialized: { output in
            var first = 0
            for batch in batches {
                let records = batch.bytes.count / recordByteCount
                batch.bytes.withUnsafeBufferPointer { input in
                    interleave(input.baseAddress!, records: records, into: output.baseAddress! + first * (recordByteCount - 1))
                }
                for record in 0..<records { labels.append(Int32(batch.bytes[record * recordByteCount])) }
                first += records
            }
        })
        return try LabeledDataset(
            name: "cifar10/\(split)", features: features, labels: labels, classCount: 10,
            classNames: try readClassNames(directory: directory))
    }

    /// Accepts the archive's parent folder as well as `cifar-10-batches-bin/` itself.
    static func resolveDirectory(_ directory: String) -> String {
        let nested = (directory as NSString).appendingPathComponent("cifar-10-batches-bin")
        let firstBatch = fileNames(.test)[0]
        if GzipReader.existingPath((directory as NSString).appendingPathComponent(firstBatch)) == nil,
           GzipReader.existingPath((nested as NSString).appendingPathComponent(firstBatch)) != nil {
            return nested
        }
        return directory
    }

    private static func validate(_ bytes: [UInt8], path: String) throws {
        guard !bytes.isEmpty, bytes.count % recordByteCount == 0 else {
            // CIFAR-100's binary records carry two label bytes (coarse, fine): 3074 bytes.
            let hint = !bytes.isEmpty && bytes.count % (recordByteCount + 1) == 0
                ? " (it is a multiple of 3074: is this CIFAR-100?)" : " (the file is truncated or not a CIFAR-10 batch)"
            throw LowBitError.corruptFile(
                path: path,
                reason: "size \(bytes.count) bytes is not a positive multiple of the 3073-byte CIFAR-10 record\(hint)")
        }
        for record in 0..<(bytes.count / recordByteCount) where bytes[record * recordByteCount] > 9 {
            throw LowBitError.corruptFile(
                path: path, reason: "record \(record) has label \(bytes[record * recordByteCount]); CIFAR-10 labels are 0...9")
        }
    }

    /// `output[((n * 32 + y) * 32 + x) * 3 + c] = record_n[1 + c * 1024 + y * 32 + x] / 255`.
    private static func interleave(_ input: UnsafePointer<UInt8>, records: Int, into output: UnsafeMutablePointer<Float>) {
        let plane = side * side
        let table = (0..<256).map { Float($0) / 255 }
        let source = UnsafeSendablePointer(input), destination = UnsafeSendableMutablePointer(output)
        Parallel.forChunks(records, work: records * plane * channels) { range in
            table.withUnsafeBufferPointer { table in
                for record in range {
                    let pixels = source.pointer + record * recordByteCount + 1
                    let out = destination.pointer + record * plane * channels
                    for position in 0..<plane {
                        for c in 0..<channels { out[position * channels + c] = table[Int(pixels[c * plane + position])] }
                    }
                }
            }
        }
    }

    /// Names from `batches.meta.txt` (one per line, blank lines ignored), or the published list.
    private static func readClassNames(directory: String) throws -> [String] {
        let path = (directory as NSString).appendingPathComponent("batches.meta.txt")
        guard FileManager.default.fileExists(atPath: path) else { return classNames }
        let text = String(decoding: try GzipReader.readAll(path), as: UTF8.self)
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count == 10 else {
            throw LowBitError.corruptFile(path: path, reason: "lists \(names.count) class names, CIFAR-10 has 10 (one per line)")
        }
        return names
    }
}
