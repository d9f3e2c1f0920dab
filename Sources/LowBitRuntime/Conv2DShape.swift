import CLowBitRuntimeKernels
import LowBitIO
import LowBitTensor

/// The geometry of an NHWC 2-D convolution: input size, kernel, stride, padding and the output size
/// they give (``ConvGeometry`` rules: `same` pads to `ceil(input / stride)`, smaller half first).
///
/// ```swift
/// let shape = try Conv2DShape(inputHeight: 16, inputWidth: 16, inputChannels: 64, outputChannels: 64,
///                             kernelSize: 3, stride: 1, padding: .same)
/// shape.outputHeight   // 16
/// ```
public struct Conv2DShape: Sendable, Equatable {
    public let inputHeight: Int
    public let inputWidth: Int
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let padding: LayerSpec.Padding
    /// Vertical geometry (output size, padding before and after).
    public let rows: ConvGeometry
    /// Horizontal geometry.
    public let columns: ConvGeometry

    public init(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                padding: LayerSpec.Padding) throws {
        guard inputHeight >= 1, inputWidth >= 1, inputChannels >= 1, outputChannels >= 1 else {
            throw LowBitError.invalidArgument("convolution sizes must be >= 1: input \(inputHeight)x\(inputWidth)x\(inputChannels), \(outputChannels) outputs")
        }
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padding = padding
        rows = try ConvGeometry(inputSize: inputHeight, kernel: kernelHeight, stride: strideHeight, padding: padding)
        columns = try ConvGeometry(inputSize: inputWidth, kernel: kernelWidth, stride: strideWidth, padding: padding)
    }

    /// A square kernel with the same stride on both axes.
    public init(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                kernelSize: Int, stride: Int, padding: LayerSpec.Padding) throws {
        try self.init(inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: inputChannels,
                      outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
                      strideHeight: stride, strideWidth: stride, padding: padding)
    }

    public var outputHeight: Int { rows.outputSize }
    public var outputWidth: Int { columns.outputSize }
    /// Kernel taps per output (kernelHeight * kernelWidth).
    public var taps: Int { kernelHeight * kernelWidth }
    /// Weights per output channel, in (ky, kx, c) order.
    public var weightsPerOutput: Int { taps * inputChannels }

    /// Whether tap (ky, kx) of output pixel (oy, ox) falls outside the input.
    public func isPadded(outputY oy: Int, outputX ox: Int, ky: Int, kx: Int) -> Bool {
        let iy = oy * strideHeight - rows.padBefore + ky, ix = ox * strideWidth - columns.padBefore + kx
        return iy < 0 || iy >= inputHeight || ix < 0 || ix >= inputWidth
    }

    /// The C kernels' description of this geometry for `batch` images.
    func kernelGeometry(batch: Int) -> lbr_conv_geometry {
        lbr_conv_geometry(batch: Int32(batch), height: Int32(inputHeight), width: Int32(inputWidth),
                          kernel_h: Int32(kernelHeight), kernel_w: Int32(kernelWidth),
                          stride_h: Int32(strideHeight), stride_w: Int32(strideWidth),
                          pad_top: Int32(rows.padBefore), pad_left: Int32(columns.padBefore),
                          out_h: Int32(outputHeight), out_w: Int32(outputWidth))
    }
}
