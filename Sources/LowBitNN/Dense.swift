import LowBitIO
import LowBitTensor

/// Fully connected layer: `y = x W^T + b`, weight `[out, in]` (PyTorch's layout).
///
/// Backward: `dW = dy^T x`, `db = sum_batch dy`, `dx = dy W`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let fc = Dense(inFeatures: 784, outFeatures: 10, name: "fc", rng: &rng)
/// let logits = try fc(x)          // x: [batch, 784]
/// ```
public final class Dense: QuantizableLayer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var weightQuantizer: (any Quantizer)?
    public var inputQuantizer: (any Quantizer)?
    public var calibrating = false
    public var outputObserver: ((Tensor) -> Void)?

    private var cachedInput: Tensor?
    private var cachedQuantizedInput: Tensor?
    private var cachedQuantizedWeight: Tensor?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, name: String,
                initializer: Initializer = .heNormal, rng: inout SeededGenerator) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: "\(name).weight",
                           value: initializer.make(shape: [outFeatures, inFeatures], fanIn: inFeatures,
                                                   fanOut: outFeatures, rng: &rng))
        self.bias = bias ? Parameter(name: "\(name).bias", value: .zeros([outFeatures]), decays: false) : nil
    }

    public var spec: LayerSpec {
        LayerSpec(kind: .dense, name: name, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias != nil)
    }

    public var parameters: [Parameter] {
        [weight] + (bias.map { [$0] } ?? []) + (weightQuantizer?.parameters ?? []) + (inputQuantizer?.parameters ?? [])
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == [inFeatures] else {
            throw LowBitError.shapeMismatch("\(name) expects [\(inFeatures)] features per sample, got \(inputShape)")
        }
        return [outFeatures]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else {
            throw LowBitError.shapeMismatch("\(name) expects [batch, \(inFeatures)], got \(x.shape)")
        }
        let (w, input) = try quantizedOperands(x, training: training)
        let batch = x.shape[0]
        var y = Tensor(shape: [batch, outFeatures]) { _ in }   // bias rows or the beta = 0 GEMM fill it
        if let bias {
            y.data.withUnsafeMutableBufferPointer { out in
                for row in 0..<batch {
                    for column in 0..<outFeatures { out[row * outFeatures + column] = bias.value.data[column] }
                }
            }
        }
        input.data.withUnsafeBufferPointer { a in
            w.data.withUnsafeBufferPointer { b in
                y.data.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(transposeB: true, m: batch, n: outFeatures, k: inFeatures,
                               a: a.baseAddress!, lda: inFeatures, b: b.baseAddress!, ldb: inFeatures,
                               beta: bias == nil ? 0 : 1, c: c.baseAddress!, ldc: outFeatures)
                }
            }
        }
        if training {
            cachedInput = x
            cachedQuantizedInput = input
            cachedQuantizedWeight = w
        }
        outputObserver?(y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let x = cachedInput, let input = cachedQuantizedInput, let w = cachedQuantizedWeight else {
            preconditionFailure("\(name).backward called without a training-mode forward")
        }
        let batch = x.shape[0]
        var weightGrad = Tensor.zeros(weight.value.shape)
        var inputGrad = Tensor(shape: x.shape) { _ in }   // fully written by the beta = 0 GEMM
        gradOutput.data.withUnsafeBufferPointer { dy in
            input.data.withUnsafeBufferPointer { xs in
                weightGrad.data.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(transposeA: true, m: outFeatures, n: inFeatures, k: batch,
                               a: dy.baseAddress!, lda: outFeatures, b: xs.baseAddress!, ldb: inFeatures,
                               c: dw.baseAddress!, ldc: inFeatures)
                }
            }
            w.data.withUnsafeBufferPointer { ws in
                inputGrad.data.withUnsafeMutableBufferPointer { dx in
                    BLAS.sgemm(m: batch, n: inFeatures, k: outFeatures,
                               a: dy.baseAddress!, lda: outFeatures, b: ws.baseAddress!, ldb: inFeatures,
                               c: dx.baseAddress!, ldc: inFeatures)
                }
            }
        }
        if let bias {
            addRowSums(of: gradOutput, columns: outFeatures, into: bias)
        }
        return routeGradients(weightGrad: weightGrad, inputGrad: inputGrad, input: x)
    }
}

/// `parameter.grad[c] += sum over rows of g[row, c]`, for a gradient viewed as `[rows, columns]`
/// (bias gradients, BatchNorm beta).
func addRowSums(of g: Tensor, columns: Int, into parameter: Parameter) {
    let rows = g.count / columns
    g.data.withUnsafeBufferPointer { source in
        parameter.grad.data.withUnsafeMutableBufferPointer { target in
            for row in 0..<rows {
                let base = row * columns
                for column in 0..<columns { target[column] += source[base + column] }
            }
        }
    }
}
