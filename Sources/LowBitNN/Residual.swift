import LowBitIO
import LowBitTensor

/// `y = body(x) + shortcut(x)`, with an empty shortcut meaning the identity. A projection shortcut
/// (1x1 strided convolution + BatchNorm) matches shapes when the body changes them.
///
/// Backward sends dL/dy down both branches and adds the two input gradients.
///
/// ```swift
/// let block = Residual(name: "block0", body: [conv1, bn1, relu1, conv2, bn2], shortcut: [])
/// ```
public final class Residual: Layer {
    public let name: String
    public let body: [Layer]
    public let shortcut: [Layer]

    public init(name: String, body: [Layer], shortcut: [Layer] = []) {
        self.name = name
        self.body = body
        self.shortcut = shortcut
    }

    public var spec: LayerSpec {
        LayerSpec(kind: .residual, name: name, body: body.map(\.spec), shortcut: shortcut.map(\.spec))
    }

    public var children: [Layer] { body + shortcut }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let bodyShape = try body.reduce(inputShape) { try $1.outputShape(for: $0) }
        let shortcutShape = try shortcut.reduce(inputShape) { try $1.outputShape(for: $0) }
        guard bodyShape == shortcutShape else {
            throw LowBitError.shapeMismatch(
                "\(name): body gives \(bodyShape) but shortcut gives \(shortcutShape); add a projection shortcut")
        }
        return bodyShape
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let main = try body.reduce(x) { try $1.forward($0, training: training) }
        let skip = try shortcut.reduce(x) { try $1.forward($0, training: training) }
        guard main.shape == skip.shape else {
            throw LowBitError.shapeMismatch("\(name): body gives \(main.shape) but shortcut gives \(skip.shape)")
        }
        return main + skip
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let mainGrad = body.reversed().reduce(gradOutput) { $1.backward($0) }
        let skipGrad = shortcut.reversed().reduce(gradOutput) { $1.backward($0) }
        return mainGrad + skipGrad
    }
}
