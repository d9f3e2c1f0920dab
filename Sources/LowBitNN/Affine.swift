import LowBitTensor

/// `y[m, n] = x[m, k] W[n, k]^T + b[n]`: the forward pass of `Dense`, and of `Conv2D` on its column
/// matrix (rows = output positions). The result has `outputShape` (m * n elements).
func affineForward(_ x: Tensor, weight: Tensor, bias: Parameter?, outputShape: [Int]) -> Tensor {
    let (n, k) = (weight.shape[0], weight.count / weight.shape[0])
    let m = x.count / k
    var y = Tensor(shape: outputShape) { _ in }   // bias rows or the beta = 0 GEMM fill it
    if let bias {
        y.data.withUnsafeMutableBufferPointer { out in
            bias.value.data.withUnsafeBufferPointer { b in
                for row in 0..<m { _ = UnsafeMutableBufferPointer(rebasing: out[(row * n)..<(row * n + n)]).update(fromContentsOf: b) }
            }
        }
    }
    x.data.withUnsafeBufferPointer { a in
        weight.data.withUnsafeBufferPointer { w in
            y.data.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(transposeB: true, m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: w.baseAddress!, ldb: k,
                           beta: bias == nil ? 0 : 1, c: c.baseAddress!, ldc: n)
            }
        }
    }
    return y
}

/// Backward of ``affineForward``: `dW = dy^T x` (`[n, k]`), `dx = dy W` (`[m, k]`), and
/// `db += sum_rows dy`. `spare` is reused for `dx` when it has the right shape (conv column
/// gradients are tens of MB).
func affineBackward(_ dy: Tensor, input x: Tensor, weight: Tensor, bias: Parameter?,
                    spare: inout Tensor?) -> (weightGrad: Tensor, inputGrad: Tensor) {
    let (n, k) = (weight.shape[0], weight.count / weight.shape[0])
    let m = dy.count / n
    var weightGrad = Tensor(shape: weight.shape) { _ in }   // fully written by the beta = 0 GEMMs
    var inputGrad = reusable(&spare, shape: [m, k])
    dy.data.withUnsafeBufferPointer { g in
        x.data.withUnsafeBufferPointer { xs in
            weightGrad.data.withUnsafeMutableBufferPointer { dw in
                BLAS.sgemm(transposeA: true, m: n, n: k, k: m, a: g.baseAddress!, lda: n, b: xs.baseAddress!, ldb: k,
                           c: dw.baseAddress!, ldc: k)
            }
        }
        weight.data.withUnsafeBufferPointer { w in
            inputGrad.data.withUnsafeMutableBufferPointer { dx in
                BLAS.sgemm(m: m, n: k, k: n, a: g.baseAddress!, lda: n, b: w.baseAddress!, ldb: k, c: dx.baseAddress!, ldc: k)
            }
        }
    }
    if let bias { addRowSums(of: dy, columns: n, into: bias) }
    return (weightGrad, inputGrad)
}

/// `parameter.grad[c] += sum over rows of g[row, c]`, for a gradient viewed as `[rows, columns]`.
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

/// Takes the spare tensor if it has `shape` (leaving nil behind so its storage stays uniquely
/// referenced), else allocates. The contents are stale: callers overwrite every element.
func reusable(_ spare: inout Tensor?, shape: [Int]) -> Tensor {
    defer { spare = nil }
    if let tensor = spare, tensor.shape == shape { return tensor }
    return Tensor(shape: shape) { _ in }
}
