import LowBitTensor

/// A float dense step: `y = x W^T + b` through BLAS sgemm, W `[out, in]`, optionally reading the
/// signs of its input (a float layer after a binary block).
struct FloatDenseOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let inFeatures: Int
    let outFeatures: Int
    let weight: [Float]
    let bias: [Float]

    var kind: String { "dense" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        let x = value.floats(encoded: input)
        return .float(affine(x, batch: batch, inFeatures: inFeatures, weight: weight, bias: bias))
    }
}

/// `[batch, out] = x [batch, in] * W^T + bias` with the bias broadcast over rows. A few rows go
/// through sgemv, one row at a time: at batch 1 sgemm spends most of its time packing W.
func affine(_ x: [Float], batch: Int, inFeatures: Int, weight: [Float], bias: [Float]) -> [Float] {
    let n = bias.count
    var out = [Float](repeating: 0, count: batch * n)
    for row in 0..<batch { for j in 0..<n { out[row * n + j] = bias[j] } }
    if batch <= sgemvBatchLimit {
        out.withUnsafeMutableBufferPointer { y in
            x.withUnsafeBufferPointer { x in
                for row in 0..<batch {
                    BLAS.sgemv(m: n, n: inFeatures, a: weight, lda: inFeatures, x: x.baseAddress! + row * inFeatures,
                               beta: 1, y: y.baseAddress! + row * n)
                }
            }
        }
        return out
    }
    BLAS.sgemm(transposeB: true, m: batch, n: n, k: inFeatures, a: x, lda: inFeatures, b: weight, ldb: inFeatures,
               beta: 1, c: &out, ldc: n)
    return out
}

/// The largest batch that runs as repeated sgemv (measured: docs/BENCHMARKS.md, "End to end").
let sgemvBatchLimit = 4

/// A dense step with ±1 weights. With sign inputs it is the binary GEMM
/// `dot = K - 2 * popcount(a XOR w)` followed by the fused output transform (floats, or sign bits
/// when the next step reads signs); with float inputs (a binary first layer) it multiplies the
/// floats by the ±1 weights through 3-input lookup tables (``FloatSignGEMM``) and applies
/// `dot * multiplier + bias`.
struct BinaryDenseOperation: PackedOperation {
    let name: String
    let input: PackedStep.InputEncoding
    let inFeatures: Int
    let gemm: BinaryGEMM
    let output: BinaryOutputTransform
    /// The weights' sign patterns for float inputs; nil for sign inputs.
    let floatInputs: FloatSignGEMM?

    var kind: String { "binaryDense" }

    init(name: String, input: PackedStep.InputEncoding, signs: PackedBits, output: BinaryOutputTransform) {
        self.name = name
        self.input = input
        inFeatures = signs.columns
        gemm = BinaryGEMM(weights: signs)
        self.output = output
        floatInputs = input == .sign ? nil : FloatSignGEMM(weights: signs)
    }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        switch input {
        case .sign:
            let dots = try gemm.multiply(value.signBits(rows: batch, columns: inFeatures))
            return RuntimeValue(output.apply(dots, rows: batch))
        default:
            guard let floatInputs else { preconditionFailure("a float-input binary step without its sign patterns") }
            return .float(output.applyToFloatDots(try floatInputs.multiply(value.floats, rows: batch)))
        }
    }
}

extension RuntimeValue {
    init(_ output: BinaryLayerOutput) {
        switch output {
        case let .float(values): self = .float(values)
        case let .signBits(bits): self = .bits(bits)
        }
    }
}

extension BinaryOutputTransform {
    /// `y = dot * multiplier + bias` per channel for dot products computed in float (a binary
    /// layer reading float inputs). Only the float transform takes float dots.
    func applyToFloatDots(_ dots: [Float]) -> [Float] {
        guard case let .float(multiplier, bias) = self else { preconditionFailure("float dots need the float transform") }
        let n = multiplier.count
        var out = dots
        for index in out.indices {
            let j = index % n
            out[index] = dots[index] * multiplier[j] + bias[j]
        }
        return out
    }
}
