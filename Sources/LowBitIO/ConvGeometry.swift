import LowBitTensor

/// Output size and padding of a 2-D window op (convolution or pooling) on one spatial axis.
///
/// `same`: output `ceil(input / stride)`; total padding `max((output - 1) * stride + kernel - input, 0)`,
/// split with the smaller half first (top/left), as TensorFlow and TFLite do.
/// `valid`: output `(input - kernel) / stride + 1`, no padding.
public struct ConvGeometry: Equatable, Sendable {
    public let inputSize: Int
    public let outputSize: Int
    public let padBefore: Int
    public let padAfter: Int

    public init(inputSize: Int, kernel: Int, stride: Int, padding: LayerSpec.Padding) throws {
        guard kernel >= 1, stride >= 1 else {
            throw LowBitError.invalidArgument("kernel \(kernel) and stride \(stride) must be >= 1")
        }
        self.inputSize = inputSize
        switch padding {
        case .same:
            outputSize = (inputSize + stride - 1) / stride
            let total = max((outputSize - 1) * stride + kernel - inputSize, 0)
            padBefore = total / 2
            padAfter = total - total / 2
        case .valid:
            guard inputSize >= kernel else {
                throw LowBitError.shapeMismatch("input size \(inputSize) is smaller than the window \(kernel) (padding valid)")
            }
            outputSize = (inputSize - kernel) / stride + 1
            padBefore = 0
            padAfter = 0
        }
    }
}
