/// Bytes a layer takes when packed for deployment, as opposed to the float32 bytes training keeps.
///
/// - Weights at their storage bits, packed densely: `ceil(count * bits / 8)` per tensor (pruned
///   weights still take their slot; a sparse format is not modelled). Row padding a kernel may add
///   (64 binary channels to a `UInt64`) is left out.
/// - The quantizer's stored block parameters as 32-bit words (``ScaleLayout``).
/// - Biases as float32 (an int32 bias in integer-only inference takes the same 4 bytes).
/// - BatchNorm folded at deploy time into a per-channel scale and shift: 2 float32 per channel.
///
/// An input quantizer's clip (one float per layer, kept in the policy) is not counted.
///
/// ```swift
/// PackedSize.packedBytes(count: 12, bits: 1)   // 2
/// ```
public enum PackedSize {
    /// Bytes of `count` values stored at `bits` each, packed with no gaps.
    public static func packedBytes(count: Int, bits: Int) -> Int {
        (count * bits + 7) / 8
    }
}
