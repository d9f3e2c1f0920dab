import CLowBitRuntimeKernels
import Foundation
import LowBitTensor

/// An exact int8 3x3 convolution of stride 1 by Winograd in integers: F(4x4, 3x3) (`lbr_wino4_conv`,
/// 36 products per 4x4 tile of outputs and input channel instead of 144) where the layer's
/// accumulators stay below 2^25 in magnitude, else F(2x2, 3x3) (`lbr_wino_conv`, 16 per 2x2 tile
/// instead of 36). The kernels are transformed with integer matrices (F(2x2): `2G`, giving `4 * acc`;
/// F(4x4): rows of G scaled by 4, 6 and 24, giving `576 * acc` modulo 2^32, from which a shift and a
/// multiply by 9^-1 modulo 2^32 recover acc), so the result equals the direct int32 sum bit for bit,
/// for full-range uint8 or int8 codes: no high-bit split, no saturation (docs/RUNTIME.md, "Winograd
/// int8 convolution").
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

    /// Whether layers take Winograd where it applies: `LOWBIT_INT8_WINOGRAD=0` turns it off, and
    /// `LOWBIT_INT8_WINOGRAD=2` keeps F(2x2, 3x3) everywhere (for comparisons; the results are the same).
    static let isEnabled = ProcessInfo.processInfo.environment["LOWBIT_INT8_WINOGRAD"] != "0"
    public static let allowsLargeTiles = ProcessInfo.processInfo.environment["LOWBIT_INT8_WINOGRAD"] != "2"

    /// The bound on |acc| under which F(4x4, 3x3) recovers acc from `576 * acc` modulo 2^32.
    public static let largeTileAccumulatorLimit = 1 << 25

    public let shape: Conv2DShape
    /// Outputs per tile side: 4 (F(4x4, 3x3)) or 2 (F(2x2, 3x3)).
    public let tileSize: Int
    /// U' per tile position, channel pair and output (`lbr_wino4_pack_weights` or `lbr_wino_pack_weights`).
    private let packed: [Int16]

    /// Nil unless `shape` is a 3x3 convolution of stride 1 with ``minimumChannels`` to
    /// ``maximumChannels`` inputs. F(4x4, 3x3) when `largeTiles` and every output's sum of |w| times
    /// 255 (the largest |code|, uint8 or int8) is below ``largeTileAccumulatorLimit``.
    /// `weights`: OHWI `[outputChannels][3][3][inputChannels]`.
    public init?(weights: [Int8], shape: Conv2DShape, largeTiles: Bool = Int8Winograd.allowsLargeTiles) throws {
        guard shape.kernelHeight == 3, shape.kernelWidth == 3, shape.strideHeight == 1, shape.strideWidth == 1,
              (Self.minimumChannels...Self.maximumChannels).contains(shape.inputChannels) else { return nil }
        guard weights.count == shape.outputChannels * shape.weightsPerOutput else {
            throw LowBitError.shapeMismatch("\(weights.count) int8 weights for a 3x3 convolution of \(shape.inputChannels) -> \(shape.outputChannels)")
        }
        self.shape = shape
        let (n, c, k) = (shape.outputChannels, shape.inputChannels, shape.weightsPerOutput)
        tileSize = largeTiles && Int8GEMM.largestRowMagnitude(weights, rowLength: k) * 255 < Self.largeTileAccumulatorLimit ? 4 : 2
        if tileSize == 4 {
            packed = [Int16](unsafeUninitializedCapacity: lbr_wino4_packed_weight_count(n, c)) { out, count in
                lbr_wino4_pack_weights(weights, n, c, out.baseAddress)
                count = out.count
            }
        } else {
            packed = [Int16](unsafeUninitializedCapacity: lbr_wino_packed_weight_count(n, c)) { out, count in
                lbr_wino_pack_weights(weights, n, c, out.baseAddress)
                count = out.count
            }
        }
    }

    /// The accumulators `[batch * outH * outW][outputChannels]` of NHWC `codes`, equal to
    /// ``Int8GEMM/accumulate(_:convolution:batch:path:)`` bit for bit.
    public func accumulate(_ codes: [UInt8], batch: Int, path: KernelPath = .best) throws -> [Int32] {
        try accumulate(.uint8(codes), batch: batch, path: path) { _, _ in }
    }

    /// The same for int8 codes.
    public func accumulate(_ codes: [Int8], batch: Int, path: KernelPath = .best) throws -> [Int32] {
        try accumulate(.int8(codes), batch: batch, path: path) { _, _ in }
    }

    /// A layer's input: codes, or floats that each chunk quantizes (`lbr_quantize_codes`, as
    /// `RuntimeValue.uint8Codes` / `int8Codes` do) for the input rows its tiles read, so the
    /// quantization runs on every thread instead of before the layer on one.
    enum Input {
        case uint8([UInt8])
        case int8([Int8])
        case floats([Float], scale: Float, range: ClosedRange<Int32>, signed: Bool)

        var count: Int {
            switch self {
            case let .uint8(codes): return codes.count
            case let .int8(codes): return codes.count
            case let .floats(values, _, _, _): return values.count
            }
        }
        var isSigned: Bool {
            switch self {
            case .uint8: return false
            case .int8: return true
            case let .floats(_, _, _, signed): return signed
            }
        }
    }

    /// ``accumulate(_:batch:path:)`` with `epilogue` for finished rows, each row once, on the thread
    /// that computed the last of its tiles (``WinogradTiling/forChunks(work:tiles:rows:)``).
    func accumulate(_ input: Input, batch: Int, path: KernelPath = .best,
                    epilogue: (UnsafeMutablePointer<Int32>, Range<Int>) -> Void) throws -> [Int32] {
        let (h, w, c, n) = (shape.inputHeight, shape.inputWidth, shape.inputChannels, shape.outputChannels)
        guard input.count == batch * h * w * c else {
            throw LowBitError.shapeMismatch("\(input.count) inputs for \(batch) x \(h) x \(w) x \(c)")
        }
        let (outH, outW) = (shape.outputHeight, shape.outputWidth)
        let large = tileSize == 4
        let tiling = WinogradTiling(shape: shape, batch: batch, tile: tileSize,
                                    panel: large ? lbr_wino4_panel_tiles(n) : Int(LBR_WINO_PANEL_TILES))
        let rows = batch * outH * outW
        var geometry = lbr_wino_geometry(batch: batch, height: h, width: w, channels: c, pad_top: shape.rows.padBefore,
                                         pad_left: shape.columns.padBefore, out_h: outH, out_w: outW)
        let scratchBytes = large ? lbr_wino4_scratch_bytes(n, c) : lbr_wino_scratch_bytes(n, c), signed: Int32 = input.isSigned ? 1 : 0
        var acc = [Int32](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }   // every row written
        if acc.isEmpty { return acc }
        acc.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            packed.withUnsafeBufferPointer { weights in
                withUnsafePointer(to: &geometry) { g in
                    func run(_ tiles: Range<Int>, _ codes: UnsafeRawPointer) {
                        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 32) { scratch in
                            if large {
                                lbr_wino4_conv(path.isa, codes, signed, g, tiles.lowerBound, tiles.upperBound, weights.baseAddress, n, out, n,
                                               scratch.baseAddress)
                            } else {
                                lbr_wino_conv(path.isa, codes, signed, g, tiles.lowerBound, tiles.upperBound, weights.baseAddress, n, out, n,
                                              scratch.baseAddress)
                            }
                        }
                    }
                    // ~4 (F(2x2)) or 2.25 (F(4x4)) multiply-adds per output and input channel, plus the transforms; each chunk's
                    // finished rows go to the epilogue (requantization) while they are in cache.
                    tiling.forChunks(work: rows * n * (large ? 9 * c / 4 + 40 : 4 * c + 32) / 16, tiles: { range in
                        guard !range.isEmpty else { return }
                        switch input {
                        case let .uint8(codes): codes.withUnsafeBytes { run(range, $0.baseAddress!) }
                        case let .int8(codes): codes.withUnsafeBytes { run(range, $0.baseAddress!) }
                        case let .floats(values, scale, bounds, isSigned):
                            // This chunk's input rows, quantized into a frame of its own.
                            let line = w * c, needed = tiling.inputRows(range, inputHeight: h, padTop: shape.rows.padBefore)
                            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: values.count) { frame in
                                values.withUnsafeBufferPointer { x in
                                    lbr_quantize_codes(path.isa, x.baseAddress! + needed.lowerBound * line, needed.count * line, scale,
                                                       bounds.lowerBound, bounds.upperBound, frame.baseAddress! + needed.lowerBound * line,
                                                       isSigned ? 1 : 0)
                                }
                                run(range, UnsafeRawPointer(frame.baseAddress!))
                            }
                        }
                    }, rows: { epilogue(out, $0) })
                }
            }
        }
        return acc
    }
}
