import CLowBitKernels

/// Runs C elementwise kernels over tensors in parallel chunks (see ``Parallel``).
public enum Elementwise {
    public typealias Unary = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    public typealias Binary = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    /// `(first, second, rows, channels, accumulator1, accumulator2)`: adds per-channel reductions.
    public typealias ChannelReduction = (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int,
                                         UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void

    /// `kernel(x, out, n)` over `x`, split across threads.
    public static func map(_ x: Tensor, _ kernel: Unary) -> Tensor {
        Tensor(shape: x.shape) { out in
            let out = UnsafeSendableMutablePointer(out.baseAddress!)
            x.data.withUnsafeBufferPointer { input in
                let input = UnsafeSendablePointer(input.baseAddress!)
                Parallel.forChunks(x.count, work: x.count) { range in
                    kernel(input.pointer + range.lowerBound, out.pointer + range.lowerBound, range.count)
                }
            }
        }
    }

    /// `kernel(a, b, out, n)` over equal-shaped `a` and `b`, split across threads.
    public static func map(_ a: Tensor, _ b: Tensor, _ kernel: Binary) -> Tensor {
        precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape) { out in
            let out = UnsafeSendableMutablePointer(out.baseAddress!)
            a.data.withUnsafeBufferPointer { first in
                b.data.withUnsafeBufferPointer { second in
                    let first = UnsafeSendablePointer(first.baseAddress!), second = UnsafeSendablePointer(second.baseAddress!)
                    Parallel.forChunks(a.count, work: a.count) { range in
                        kernel(first.pointer + range.lowerBound, second.pointer + range.lowerBound,
                               out.pointer + range.lowerBound, range.count)
                    }
                }
            }
        }
    }

    /// Per-channel reductions of `[rows, channels]` data (two results per channel), computed in
    /// parallel row chunks with one partial accumulator per chunk, then summed.
    public static func reduceChannels(_ a: Tensor, _ b: Tensor, channels: Int, _ kernel: ChannelReduction) -> ([Double], [Double]) {
        let rows = a.count / channels
        let chunks = max(1, min(Parallel.threadCount, rows))
        var partials = [Double](repeating: 0, count: chunks * 2 * channels)
        partials.withUnsafeMutableBufferPointer { partials in
            let partials = UnsafeSendableMutablePointer(partials.baseAddress!)
            a.data.withUnsafeBufferPointer { first in
                b.data.withUnsafeBufferPointer { second in
                    let first = UnsafeSendablePointer(first.baseAddress!), second = UnsafeSendablePointer(second.baseAddress!)
                    Parallel.forChunks(chunks, work: a.count) { chunkRange in
                        for chunk in chunkRange {
                            let start = rows * chunk / chunks, end = rows * (chunk + 1) / chunks
                            let base = partials.pointer + chunk * 2 * channels
                            kernel(first.pointer + start * channels, second.pointer + start * channels, end - start,
                                   channels, base, base + channels)
                        }
                    }
                }
            }
        }
        var first = [Double](repeating: 0, count: channels), second = first
        for chunk in 0..<chunks {
            for c in 0..<channels {
                first[c] += partials[chunk * 2 * channels + c]
                second[c] += partials[chunk * 2 * channels + channels + c]
            }
        }
        return (first, second)
    }

    /// Rows of `[rows, channels]` inputs split across threads: `kernel(rowRange)`.
    public static func forRows(_ rows: Int, channels: Int, _ kernel: (Range<Int>) -> Void) {
        Parallel.forChunks(rows, work: rows * channels, kernel)
    }
}

extension Tensor {
    /// Elementwise `self + other` for equal shapes.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        Elementwise.map(lhs, rhs) { lb_add($0, $1, $2, $3) }
    }
}
