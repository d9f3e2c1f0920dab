import LowBitTensor

/// Which precision each layer gets, as data: an ordered list of rules, first match wins. A rule
/// names a layer-path pattern and the quantizers for the layer's weight and its input activation
/// (`nil` = full precision float32). Only layers with weights (dense, conv2d) take a rule; other
/// layers run at the precision of the values they receive.
///
/// Stored in a model file's metadata under `"policy"` and written as JSON:
/// ```json
/// {"name": "binary", "rules": [
///   {"pattern": "stem.conv"},
///   {"pattern": "fc"},
///   {"pattern": "*", "weight": {"scheme": "binary", "granularity": "channel"},
///                    "input": {"scheme": "binary-activation"}}]}
/// ```
///
/// ```swift
/// let policy = PrecisionPolicy(name: "int8", rules: [PrecisionRule(pattern: "*", weight: int8Spec)])
/// let rule = policy.rule(forLayer: "stage1.block0.conv1")
/// ```
public struct PrecisionPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var rules: [PrecisionRule]

    public init(name: String, rules: [PrecisionRule]) {
        self.name = name
        self.rules = rules
    }

    /// The first rule whose pattern matches `path`, or nil (full precision).
    public func rule(forLayer path: String) -> PrecisionRule? {
        rules.first { globMatch($0.pattern, path) }
    }

    /// Full precision everywhere.
    public static let float = PrecisionPolicy(name: "float", rules: [])
}

/// One rule of a ``PrecisionPolicy``.
public struct PrecisionRule: Codable, Sendable, Equatable {
    /// A glob over dotted layer paths: `*` matches any run of characters (dots included), `?` one
    /// character; everything else literally. `stage*.block*.conv?` matches `stage2.block0.conv1`.
    public var pattern: String
    /// Weight quantizer; nil keeps float32 weights.
    public var weight: QuantizerSpec?
    /// Quantizer for the layer's input activations; nil keeps float32 inputs.
    public var input: QuantizerSpec?

    public init(pattern: String, weight: QuantizerSpec? = nil, input: QuantizerSpec? = nil) {
        self.pattern = pattern
        self.weight = weight
        self.input = input
    }
}

/// Glob match with `*` and `?` (iterative, linear backtracking on the last `*`).
public func globMatch(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.utf8), t = Array(text.utf8)
    var (pi, ti) = (0, 0)
    var star = -1, mark = 0
    while ti < t.count {
        if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
            pi += 1
            ti += 1
        } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
            star = pi
            mark = ti
            pi += 1
        } else if star >= 0 {
            pi = star + 1
            mark += 1
            ti = mark
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}

extension QuantizerSpec {
    /// Bits per stored value of this scheme: 1 for binary, 2 for ternary, `bits` for k-bit schemes,
    /// 1 + intBits + fracBits for fixed point, 8 for FP8. Used by reports, BOPs and packing.
    public var storageBits: Int {
        switch scheme {
        case "binary", "binary-activation": return 1
        case "twn", "fgq": return 2
        case "fixed": return 1 + (intBits ?? 0) + (fracBits ?? 0)
        case "fp8-e4m3", "fp8-e5m2": return 8
        default: return bits ?? 32
        }
    }
}
