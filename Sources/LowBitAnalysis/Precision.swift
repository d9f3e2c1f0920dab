import LowBitIO
import LowBitTensor

/// How values are represented, as far as sizes and costs are concerned: bits per value, the
/// arithmetic an operation on them is charged as, and the label reports color by.
///
/// Made from the ``LowBitTensor/QuantizerSpec`` a precision policy gives a layer (nil = float32):
///
/// | scheme | arithmetic | bits | label |
/// |---|---|---|---|
/// | none (float) | float32 | 32 | float32 |
/// | any scheme with 1 stored bit (`binary`, `binary-activation`, 1-bit `activation`) | binary | 1 | binary |
/// | `twn`, `fgq` | ternary | 2 | ternary |
/// | `fp8-e4m3`, `fp8-e5m2` | integer (costed as 8-bit: the 45 nm table has no 8-bit float) | 8 | fp8 |
/// | `uniform`, `pow2`, `fixed`, `dynamic-fixed`, `activation` | integer | `storageBits` | int*k* |
///
/// ```swift
/// let p = Precision(QuantizerSpec(scheme: "uniform", bits: 4))   // int4, 4 bits, integer
/// ```
public struct Precision: Sendable, Hashable {
    /// The arithmetic an operation on these values is charged as (see ``EnergyModel``).
    public enum Arithmetic: String, Sendable, Hashable {
        case float32, integer, ternary, binary
    }

    public var arithmetic: Arithmetic
    public var bits: Int
    /// `float32`, `int8`, `int4`, `ternary`, `binary`, `fp8`, ...: the legend of the report's bars.
    public var label: String

    public init(arithmetic: Arithmetic, bits: Int, label: String) {
        self.arithmetic = arithmetic
        self.bits = bits
        self.label = label
    }

    public static let float32 = Precision(arithmetic: .float32, bits: 32, label: "float32")

    /// The precision of values quantized by `spec`; nil means float32.
    public init(_ spec: QuantizerSpec?) {
        guard let spec else {
            self = .float32
            return
        }
        let bits = spec.storageBits
        switch spec.scheme {
        case _ where bits == 1: self.init(arithmetic: .binary, bits: 1, label: "binary")
        case "twn", "fgq": self.init(arithmetic: .ternary, bits: bits, label: "ternary")
        case "fp8-e4m3", "fp8-e5m2": self.init(arithmetic: .integer, bits: bits, label: "fp8")
        default: self.init(arithmetic: .integer, bits: bits, label: "int\(bits)")
        }
    }
}
