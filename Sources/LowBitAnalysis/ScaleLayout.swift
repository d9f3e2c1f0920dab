import LowBitTensor

/// The per-block parameters a weight quantizer stores next to its codes, and the multiplies that
/// apply them, for a weight of `[outputChannels, rowLength]` (a convolution's row is `k * k * in`).
///
/// Blocks follow the granularity (default in brackets): `tensor` is one block, `channel` one per
/// output channel, `group` of N one per N consecutive weights of a row (the last may be short).
///
/// | scheme | blocks | words per block | multiplies per output |
/// |---|---|---|---|
/// | `binary` | granularity (`channel`); `none` has no scale | 1 (alpha) | blocks per row |
/// | `twn` | one per tensor | 1 (alpha) | 1 |
/// | `fgq` | granularity (`group` of 4) | 1 (alpha) | blocks per row: FGQ's one multiply per group |
/// | `uniform` | granularity (`tensor`) | 1 scale, 2 when affine (+ zero point) | blocks per row |
/// | `pow2` | granularity (`tensor`) | 1 (maximum exponent) | 0: a power-of-two scale is a shift |
/// | `dynamic-fixed` | one per tensor | 1 (fraction length) | 0: a shift |
/// | `fixed`, `fp8-*`, float32 | none | 0 | 0 |
///
/// ```swift
/// let fgq = ScaleLayout(for: QuantizerSpec(scheme: "fgq", groupSize: 4), outputChannels: 3, rowLength: 10)
/// fgq.storedWords            // 3 channels * ceil(10 / 4) groups = 9
/// fgq.multipliesPerOutput    // 3
/// ```
public struct ScaleLayout: Sendable, Equatable {
    /// 32-bit words stored for the whole tensor (float32 scales, int32 zero points or exponents).
    public var storedWords: Int
    /// float32 multiplies that rescale one output (one per block its row spans).
    public var multipliesPerOutput: Int

    public init(for spec: QuantizerSpec?, outputChannels: Int, rowLength: Int) {
        guard let spec else {
            self.init(storedWords: 0, multipliesPerOutput: 0)
            return
        }
        // (blocks in the tensor, blocks in one row) for the spec's granularity.
        let blocks = { (defaultGranularity: String, defaultGroup: Int?) -> (tensor: Int, row: Int) in
            // As in QuantizationGranularity: a group size without a granularity means "group".
            switch spec.granularity ?? (spec.groupSize != nil ? "group" : defaultGranularity) {
            case "none": return (0, 0)
            case "channel": return (outputChannels, 1)
            case "group":
                let group = max(spec.groupSize ?? defaultGroup ?? rowLength, 1)
                let perRow = (rowLength + group - 1) / group
                return (outputChannels * perRow, perRow)
            default: return (1, 1)
            }
        }
        switch spec.scheme {
        case "binary":
            let (tensor, row) = blocks("channel", nil)
            self.init(storedWords: tensor, multipliesPerOutput: row)
        case "twn":
            self.init(storedWords: 1, multipliesPerOutput: 1)
        case "fgq":
            let (tensor, row) = blocks("group", 4)
            self.init(storedWords: tensor, multipliesPerOutput: row)
        case "uniform":
            let (tensor, row) = blocks("tensor", nil)
            self.init(storedWords: tensor * (spec.symmetric == false ? 2 : 1), multipliesPerOutput: row)
        case "pow2":
            self.init(storedWords: blocks("tensor", nil).tensor, multipliesPerOutput: 0)
        case "dynamic-fixed":
            self.init(storedWords: 1, multipliesPerOutput: 0)
        default:
            self.init(storedWords: 0, multipliesPerOutput: 0)
        }
    }

    init(storedWords: Int, multipliesPerOutput: Int) {
        self.storedWords = storedWords
        self.multipliesPerOutput = multipliesPerOutput
    }
}
