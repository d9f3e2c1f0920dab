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
        let tiling = WinogradTiling(shape: shape, batch: batch), rows = batch * outH * outW
        var geometry = lbr_wino_geometry(batch: batch, height: h, width: w, channels: c, pad_top: shape.rows.padBefore,
                                         pad_left: shape.columns.padBefore, out_h: outH, out_w: outW)
        let scratchBytes = lbr_wino_scratch_bytes(n, c), signed: Int32 = input.isSigned ? 1 : 0
        var acc = [Int32](unsafeUninitializedCapacity: rows * n) { _, count in count = rows * n }   // every row written
        if acc.isEmpty { return acc }
        acc.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            packed.withUnsafeBufferPointer { weights in
                withUnsafePointer(to: &geometry) { g in
                    func run(_ tiles: Range<Int>, _ codes: UnsafeRawPointer) {
                        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 32) { scratch in
                            lbr_wino_conv(path.isa, codes, signed, g, tiles.lowerBound, tiles.upperBound, weights.baseAddress, n, out, n,
                                          scratch.baseAddress)
                        }
                    }
                    // ~4 multiply-adds per output and input channel, plus the transforms; each chunk's
                    // finished rows go to the epilogue (requantization) while they are in cache.
                    tiling.forChunks(work: rows * n * (4 * c + 32) / 16, tiles: { range in
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
