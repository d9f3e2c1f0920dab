import CLowBitRuntimeKernels
import Foundation
import LowBitTensor

/// An exact int8 3x3 convolution of stride 1 by Winograd F(2x2, 3x3) in integers (`lbr_wino_conv`):
/// each 2x2 tile of outputs takes 16 products per input channel instead of 36. The kernel is
/// transformed with `2G` so that every value stays an integer (`4 * acc`, shifted back at the end),
/// which makes the result equal the direct int32 sum bit for bit, for full-range uint8 or int8 codes:
/// no high-bit split, no saturation (docs/RUNTIME.md, "Winograd int8 convolution").
///
/// ```swift
/// let winograd = try Int8Winograd(weights: ohwi, shape: shape)   // nil unless 3x3, stride 1
/// let acc = try winograd?.accumulate(codes, batch: 1)              // == gemm.accumulate(codes, convolution: shape, batch: 1)
/// ```
public struct Int8Winograd: Sendable {
    /// The most input channels whose `4 * acc` cannot overflow int32: 2^31 / (36 * 255 * 128).
    public static let maximumChannels = 1_827
    /// Fewer input channels leave too few products per tile to pay for its transforms: the
    /// grey-image stem of the int8 ResNet-20 (1 channel) took 23 us by Winograd, 15 us direct.
    public static let minimumChannels = 8
    /// Tile rows per thread from which chunks of whole tile rows (epilogue fused) balance; fewer are
    /// split by tiles, the epilogue after. On the int8 ResNet-20 at 2 threads this took the 14x14
    /// blocks from ~55 to ~42 us and the 7x7 ones from ~52 to ~47 (4 and 7 tile rows; 28x28 has 14).
    static let fusedTileRowsPerThread = 4

    /// Whether layers take Winograd where it applies: `LOWBIT_INT8_WINOGRAD=0` turns it off (for
    /// comparisons; the results are the same).
    static let isEnabled = ProcessInfo.processInfo.environment["LOWBIT_INT8_WINOGRAD"] != "0"

    public let shape: Conv2DShape
    /// U' = G' g G'^T per tile position, channel pair and output (`lbr_wino_pack_weights`).
    private let packed: [Int16]

    /// Nil unless `shape` is a 3x3 convolution of stride 1 with ``minimumChannels`` to
    /// ``maximumChannels`` inputs.
    /// `weights`: OHWI `[outputChannels][3][3][inputChannels]`.
    public init?(weights: [Int8], shape: Conv2DShape) throws {
        guard shape.kernelHeight == 3, shape.kernelWidth == 3, shape.strideHeight == 1, shape.strideWidth == 1,
              (Self.minimumChannels...Self.maximumChannels).contains(shape.inputChannels) else { return nil }
        guard weights.count == shape.outputChannels * shape.weightsPerOutput else {
            throw LowBitError.shapeMismatch("\(weights.count) int8 weights for a 3x3 convolution of \(shape.inputChannels) -> \(shape.outputChannels)")
        }
        self.shape = shape
        packed = [Int16](unsafeUninitializedCapacity: lbr_wino_packed_weight_count(shape.outputChannels, shape.inputChannels)) { out, count in
            lbr_wino_pack_weights(weights, shape.outputChannels, shape.inputChannels, out.baseAddress)
            count = out.count
        }
    }

    /// The accumulators `[batch * outH * outW][outputChannels]` of NHWC `codes`, equal to
    /// ``Int8GEMM/accumulate(_:convolution:batch:path:)`` bit for bit.
    public func accumulate<Code: QuantizedByte>(_ codes: [Code], batch: Int, path: KernelPath = .best) throws -> [Int32] {
        try accumulate(codes, batch: batch, path: path) { _, _ in }
    }

    /// ``accumulate(_:batch:path:)`` with `epilogue` for each chunk's finished rows (the whole call's
    /// rows, after its chunks, when the image has few tile rows), on the thread that computed them,
    /// each row once.
    func accumulate<Code: QuantizedByte>(_ codes: [Code], batch: Int, path: KernelPath = .best,
                                         epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) throws -> [Int32] {
        let (h, w, c, n) = (shape.inputHeight, shape.inputWidth, shape.inputChannels, shape.outputChannels)
        guard codes.count == batch * h * w * c else {
            throw LowBitError.shapeMismatch("\(codes.count) codes for \(batch) x \(h) x \(w) x \(c)")
        }
        let (outH, outW) = (shape.outputHeight, shape.outputWidth)
        let rows = batch * outH * outW, tileRows = batch * ((outH + 1) / 2), tilesWide = (outW + 1) / 2
        var geometry = lbr_wino_geometry(batch: batch, height: h, width: w, channels: c, pad_top: shape.rows.padBefore,
                                         pad_left: shape.columns.padBefore, out_h: outH, out_w: outW)
        /// The first output row of tile row u (b * ceil(outH / 2) + ty).
        func firstRow(_ u: Int) -> Int { u / ((outH + 1) / 2) * outH * outW + min(2 * (u % ((outH + 1) / 2)), outH) * outW }
        let scratchBytes = lbr_wino_scratch_bytes(n, c)
        // ~4 multiply-adds per output and input channel, plus the transforms.
        let work = rows * n * (4 * c + 32) / 16
        var acc = [Int32](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }   // every row written
        if acc.isEmpty { return acc }
        acc.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            codes.withUnsafeBytes { input in
                packed.withUnsafeBufferPointer { weights in
                    withUnsafePointer(to: &geometry) { g in
                        func tiles(_ range: Range<Int>) {
                            withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 32) { scratch in
                                lbr_wino_conv(path.isa, input.baseAddress, Code.isSigned ? 1 : 0, g, range.lowerBound, range.upperBound,
                                              weights.baseAddress, n, out, n, scratch.baseAddress)
                            }
                        }
                        if tileRows >= Self.fusedTileRowsPerThread * Parallel.threadCount {
                            // Chunks of whole tile rows, each transforming its own output rows while they are in cache.
                            Parallel.forChunks(tileRows, work: work, grain: .fine) { range in
                                tiles((range.lowerBound * tilesWide)..<(range.upperBound * tilesWide))
                                epilogue(out, firstRow(range.lowerBound)..<firstRow(range.upperBound))
                            }
                        } else {
                            // Few tile rows (a 7x7 or 14x14 image): chunks of whole 4-tile panels (a chunk of 5
                            // tiles would compute 8), then the epilogue over rows.
                            let count = tileRows * tilesWide, panel = LBR_WINO_PANEL_TILES
                            Parallel.forChunks((count + panel - 1) / panel, work: work, grain: .fine) { range in
                                tiles((range.lowerBound * panel)..<min(count, range.upperBound * panel))
                            }
                            Parallel.forChunks(rows, work: rows * n, grain: .fine) { epilogue(out, $0) }
                        }
                    }
                }
            }
        }
        return acc
    }
}
