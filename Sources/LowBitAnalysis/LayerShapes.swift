import LowBitIO
import LowBitTensor

/// Per-sample output shapes from a ``LowBitIO/LayerSpec`` alone, so analysis needs no `LowBitNN`.
///
/// The rules are `LowBitNN`'s (ConvGeometry.swift and the layers' `outputShape(for:)`), with the
/// same defaults for attributes a spec leaves out: convolution stride 1 and padding `same`, pooling
/// stride = window, biases present. Residual layers are walked by ``ModelReport``; this type
/// handles the layers without children.
///
/// ```swift
/// let conv = LayerSpec(kind: .conv2d, name: "c", inChannels: 1, outChannels: 8, kernelSize: 3, stride: 2)
/// try LayerShapes.outputShape(of: conv, input: [28, 28, 1])   // [14, 14, 8]
/// ```
public enum LayerShapes {
    /// The output shape of `layer` for a per-sample `input` shape; throws
    /// ``LowBitTensor/LowBitError/shapeMismatch(_:)`` when the spec and the shape disagree.
    public static func outputShape(of layer: LayerSpec, input: [Int]) throws -> [Int] {
        switch layer.kind {
        case .dense:
            let features = try attribute(layer.inFeatures, "inFeatures", of: layer)
            guard input == [features] else {
                throw LowBitError.shapeMismatch("\(layer.name) expects [\(features)] features per sample, got \(input)")
            }
            return [try attribute(layer.outFeatures, "outFeatures", of: layer)]
        case .conv2d:
            try requireImage(input, layer)
            let channels = try attribute(layer.inChannels, "inChannels", of: layer)
            guard input[2] == channels else {
                throw LowBitError.shapeMismatch("\(layer.name) expects \(channels) input channels, got \(input)")
            }
            let kernel = try attribute(layer.kernelSize, "kernelSize", of: layer)
            let stride = layer.stride ?? 1
            let padding = layer.padding ?? .same
            return [try windowOutputSize(input[0], kernel, stride, padding, layer),
                    try windowOutputSize(input[1], kernel, stride, padding, layer),
                    try attribute(layer.outChannels, "outChannels", of: layer)]
        case .batchNorm:
            let channels = try attribute(layer.channels, "channels", of: layer)
            guard input.last == channels else {
                throw LowBitError.shapeMismatch("\(layer.name) normalises \(channels) channels, got input \(input)")
            }
            return input
        case .relu, .hardTanh, .dropout:
            return input
        case .maxPool, .avgPool:
            try requireImage(input, layer)
            let window = try attribute(layer.poolSize, "poolSize", of: layer)
            let stride = layer.stride ?? window
            return [try windowOutputSize(input[0], window, stride, .valid, layer),
                    try windowOutputSize(input[1], window, stride, .valid, layer), input[2]]
        case .globalAvgPool:
            try requireImage(input, layer)
            return [input[2]]
        case .flatten:
            return [input.reduce(1, *)]
        case .residual:
            throw LowBitError.invalidArgument("\(layer.name): a residual layer's shape comes from its body; walk it")
        }
    }

    /// One spatial axis of a window op. `same`: `ceil(input / stride)`; `valid`:
    /// `(input - kernel) / stride + 1`, which needs `input >= kernel`.
    static func windowOutputSize(_ input: Int, _ kernel: Int, _ stride: Int, _ padding: LayerSpec.Padding,
                                 _ layer: LayerSpec) throws -> Int {
        guard kernel >= 1, stride >= 1 else {
            throw LowBitError.invalidArgument("\(layer.name): window \(kernel) and stride \(stride) must be >= 1")
        }
        switch padding {
        case .same:
            return (input + stride - 1) / stride
        case .valid:
            guard input >= kernel else {
                throw LowBitError.shapeMismatch("\(layer.name): input size \(input) is smaller than the window \(kernel) (padding valid)")
            }
            return (input - kernel) / stride + 1
        }
    }

    /// A spec attribute the layer kind needs; its absence means the file is incomplete.
    static func attribute(_ value: Int?, _ field: String, of layer: LayerSpec) throws -> Int {
        guard let value else {
            throw LowBitError.invalidArgument("layer \(layer.name) (\(layer.kind.rawValue)) has no \(field) in its spec")
        }
        return value
    }

    private static func requireImage(_ input: [Int], _ layer: LayerSpec) throws {
        guard input.count == 3 else {
            throw LowBitError.shapeMismatch("\(layer.name) (\(layer.kind.rawValue)) expects [height, width, channels], got \(input)")
        }
    }
}
