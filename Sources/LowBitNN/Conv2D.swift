import CLowBitKernels
import LowBitIO
import LowBitTensor

/// 2-D convolution on NHWC input, weight `[out, k, k, in]` (OHWI), by im2col + GEMM.
///
/// Forward: `cols = im2col(x)` is `[batch*outH*outW, k*k*in]`, `y = cols W^T + b` is already NHWC.
/// Backward: `dW = dy^T cols`, `dcols = dy W`, `dx = col2im(dcols)` (the adjoint of im2col).
/// A 1x1 stride-1 convolution skips im2col: the input already is its column matrix.
///
/// ```swift
/// let conv = Conv2D(inChannels: 1, outChannels: 16, kernelSize: 3, name: "conv1", rng: &rng)
/// let y = try conv(x)        // x: [batch, 28, 28, 1] -> [batch, 28, 28, 16]
/// ```
public final class Conv2D: QuantizableLayer {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: LayerSpec.Padding
    public let weight: Parameter
    public let bias: Parameter?
    public var weightQuantizer: (any Quantizer)?
    public var inputQuantizer: (any Quantizer)?
    public var calibrating = false
    public var outputObserver: ((Tensor) -> Void)?
    public var inputColumnsObserver: ((Tensor) -> Void)?

    private var cache: (input: Tensor, columns: Tensor, weight: Tensor, rows: ConvGeometry, cols: ConvGeometry)?
    /// Column matrices are tens of MB per step; reusing their storage across steps avoids a fresh
    /// zero-filled mapping from the kernel every time (measured as a large share of system time).
    private var spareColumns: Tensor?
    private var spareColumnGrad: Tensor?

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: LayerSpec.Padding = .same, bias: Bool = true, name: String,
                initializer: Initializer = .heNormal, rng: inout SeededGenerator) {
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let taps = kernelSize * kernelSize
        weight = Parameter(name: "\(name).weight",
                           value: initializer.make(shape: [outChannels, kernelSize, kernelSize, inChannels],
                                                   fanIn: taps * inChannels, fanOut: taps * outChannels, rng: &rng))
        self.bias = bias ? Parameter(name: "\(name).bias", value: .zeros([outChannels]), decays: false) : nil
    }

    public var spec: LayerSpec {
        LayerSpec(kind: .conv2d, name: name, inChannels: inChannels, outChannels: outChannels,
                  kernelSize: kernelSize, stride: stride, padding: padding, bias: bias != nil)
    }

    public var parameters: [Parameter] {
        [weight] + (bias.map { [$0] } ?? []) + (weightQuantizer?.parameters ?? []) + (inputQuantizer?.parameters ?? [])
    }

    private var taps: Int { kernelSize * kernelSize * inChannels }

    private func geometry(_ height: Int, _ width: Int) throws -> (ConvGeometry, ConvGeometry) {
        (try ConvGeometry(inputSize: height, kernel: kernelSize, stride: stride, padding: padding),
         try ConvGeometry(inputSize: width, kernel: kernelSize, stride: stride, padding: padding))
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try requireRank(inputShape, 3, name)
        guard inputShape[2] == inChannels else {
            throw LowBitError.shapeMismatch("\(name) expects \(inChannels) input channels, got \(inputShape)")
        }
        let (rows, cols) = try geometry(inputShape[0], inputShape[1])
        return [rows.outputSize, cols.outputSize, outChannels]
    }

    private var isPointwise: Bool { kernelSize == 1 && stride == 1 }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 4 else { throw LowBitError.shapeMismatch("\(name) expects NHWC input, got \(x.shape)") }
        _ = try outputShape(for: Array(x.shape.dropFirst()))
        let (w, input) = try quantizedOperands(x, training: training)
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (rows, cols) = try geometry(height, width)
        let m = batch * rows.outputSize * cols.outputSize
        if let old = cache, !isPointwise { spareColumns = old.columns }
        cache = nil
        let columns: Tensor = isPointwise ? input.reshaped([m, taps]) : im2col(input, rows, cols)
        inputColumnsObserver?(columns)
        let y = affineForward(columns, weight: w, bias: bias, outputShape: [batch, rows.outputSize, cols.outputSize, outChannels])
        if training { cache = (x, columns, w, rows, cols) } else if !isPointwise { spareColumns = columns }
        outputObserver?(y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name).backward called without a training-mode forward") }
        let (weightGrad, columnGrad) = affineBackward(gradOutput, input: cache.columns, weight: cache.weight, bias: bias,
                                                      spare: &spareColumnGrad)
        let inputGrad: Tensor
        if isPointwise {
            inputGrad = columnGrad.reshaped(cache.input.shape)
        } else {
            inputGrad = col2im(columnGrad, inputShape: cache.input.shape, cache.rows, cache.cols)
            spareColumnGrad = columnGrad
        }
        return routeGradients(weightGrad: weightGrad, inputGrad: inputGrad, input: cache.input)
    }

    private func im2col(_ x: Tensor, _ rows: ConvGeometry, _ cols: ConvGeometry) -> Tensor {
        // im2col writes every element, padding included, so stale storage can be reused.
        var columns = reusable(&spareColumns, shape: [x.shape[0] * rows.outputSize * cols.outputSize, taps])
        runColumnKernel(lb_im2col_nhwc, from: x, into: &columns, batch: x.shape[0], fromImages: true, rows, cols)
        return columns
    }

    private func col2im(_ g: Tensor, inputShape: [Int], _ rows: ConvGeometry, _ cols: ConvGeometry) -> Tensor {
        var result = Tensor.zeros(inputShape)   // col2im accumulates
        runColumnKernel(lb_col2im_nhwc, from: g, into: &result, batch: inputShape[0], fromImages: false, rows, cols)
        return result
    }

    /// The C kernel signature im2col and col2im share: source, geometry, target.
    private typealias ColumnKernel = (UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
                                      Int32, Int32, Int32, Int32, UnsafeMutablePointer<Float>?) -> Void

    /// Runs im2col (images -> columns) or col2im (columns -> images) over the batch in parallel
    /// chunks of samples; `fromImages` says which side of the kernel holds the images.
    private func runColumnKernel(_ kernel: ColumnKernel, from source: Tensor, into target: inout Tensor, batch: Int,
                                 fromImages: Bool, _ rows: ConvGeometry, _ cols: ConvGeometry) {
        let columnsPerSample = rows.outputSize * cols.outputSize * taps
        let imageSize = rows.inputSize * cols.inputSize * inChannels
        let (sourceStride, targetStride) = fromImages ? (imageSize, columnsPerSample) : (columnsPerSample, imageSize)
        target.data.withUnsafeMutableBufferPointer { out in
            let out = UnsafeSendableMutablePointer(out.baseAddress!)
            source.data.withUnsafeBufferPointer { input in
                let input = UnsafeSendablePointer(input.baseAddress!)
                Parallel.forChunks(batch, work: batch * columnsPerSample) { samples in
                    kernel(input.pointer + samples.lowerBound * sourceStride, Int32(samples.count),
                           Int32(rows.inputSize), Int32(cols.inputSize), Int32(inChannels),
                           Int32(kernelSize), Int32(kernelSize), Int32(stride), Int32(stride),
                           Int32(rows.padBefore), Int32(cols.padBefore), Int32(rows.outputSize), Int32(cols.outputSize),
                           out.pointer + samples.lowerBound * targetStride)
                }
            }
        }
    }
}
