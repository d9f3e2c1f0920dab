/// Turns a layer's operation counts into an energy *estimate* in pJ with an ``EnergyTable``.
///
/// **Compute.** A multiply-accumulate (MAC) is charged by its operands (``Precision``):
///
/// | weight | input | one MAC costs |
/// |---|---|---|
/// | binary | binary | 2 one-bit ops (XNOR, popcount); a one-bit op = `int8_add / 8` |
/// | binary or ternary | any other | one add at the input's width (sign-select, no multiplier) |
/// | float32 | any | `fp32_mult + fp32_add` |
/// | integer | float32 | `fp32_mult + fp32_add` (the integer operand is dequantized) |
/// | k-bit integer | j-bit integer, ternary or binary | `mult(k, j) + add(max(k, j))` |
///
/// Integer widths below 8 bits are scaled from the 8-bit figures, an assumption the 45 nm table
/// cannot confirm: an adder's energy grows with its width, `add(b) = int8_add * b / 8`, an array
/// multiplier's with the product of its operand widths, `mult(k, j) = int8_mult * k * j / 64`.
/// Widths from 9 to 32 bits pay the int32 figures. FP8 is charged as an 8-bit integer.
/// The accumulator add is charged at the operand width, as the papers quoting this table do
/// (an "8-bit MAC" = 8-bit multiply + 8-bit add).
///
/// Pruned (zero) weights are assumed skipped: MAC energy is scaled by `1 - f_p`, the ideal a
/// sparse kernel approaches (index overhead not counted). Other operations (bias, scales,
/// BatchNorm, pooling, ReLU, residual sums) are float32: `fp32_mult` and `fp32_add` each.
///
/// **Memory.** Every packed byte of a layer (weights, scales, bias, folded BatchNorm) is fetched
/// once per inference from DRAM: `ceil(bytes / 4) * dram_read_32bit`. Activations live in SRAM and
/// each layer reads its input once: `ceil(bits / 64) * sram_read_64bit`. Writes are not counted.
///
/// ```swift
/// let model = EnergyModel(table: .default45nm)
/// model.multiplyAccumulate(weight: .float32, input: .float32)   // 3.7 + 0.9 = 4.6 pJ
/// ```
public struct EnergyModel: Sendable, Equatable {
    public var table: EnergyTable

    public init(table: EnergyTable) {
        self.table = table
    }

    /// Energy of one MAC with these operands, in pJ.
    public func multiplyAccumulate(weight: Precision, input: Precision) -> Double {
        switch (weight.arithmetic, input.arithmetic) {
        case (.binary, .binary):
            return 2 * add(bits: 1)
        case (.binary, _), (.ternary, _):
            return add(input)
        case (.float32, _), (_, .float32):
            return table.fp32MultiplyPicojoules + table.fp32AddPicojoules
        default:
            return multiply(bits: weight.bits, by: input.bits) + add(bits: max(weight.bits, input.bits))
        }
    }

    /// Compute and memory energy of a layer, in pJ.
    public func estimate(_ counts: OperationCounts, weight: Precision?, input: Precision, prunedFraction: Double,
                         packedBytes: Int) -> EnergyEstimate {
        var compute = Double(counts.otherAdditions) * table.fp32AddPicojoules
            + Double(counts.otherMultiplications) * table.fp32MultiplyPicojoules
        if let weight, counts.multiplyAccumulates > 0 {
            compute += (1 - prunedFraction) * Double(counts.multiplyAccumulates) * multiplyAccumulate(weight: weight, input: input)
        }
        let dramWords = (packedBytes + 3) / 4
        let sramReads = (counts.activationBitsRead + 63) / 64
        let memory = Double(dramWords) * table.dramRead32BitPicojoules + Double(sramReads) * table.sramRead64BitPicojoules
        return EnergyEstimate(computePicojoules: compute, memoryPicojoules: memory)
    }

    private func add(_ precision: Precision) -> Double {
        precision.arithmetic == .float32 ? table.fp32AddPicojoules : add(bits: precision.bits)
    }

    private func add(bits: Int) -> Double {
        bits <= 8 ? table.int8AddPicojoules * Double(bits) / 8 : table.int32AddPicojoules
    }

    private func multiply(bits k: Int, by j: Int) -> Double {
        max(k, j) <= 8 ? table.int8MultiplyPicojoules * Double(k * j) / 64 : table.int32MultiplyPicojoules
    }
}

/// An energy estimate in pJ, split into arithmetic and memory traffic.
///
/// ```swift
/// let e = EnergyEstimate(computePicojoules: 55.2, memoryPicojoules: 9620)
/// e.totalPicojoules   // 9675.2
/// ```
public struct EnergyEstimate: Sendable, Equatable {
    public var computePicojoules: Double
    public var memoryPicojoules: Double

    public init(computePicojoules: Double, memoryPicojoules: Double) {
        self.computePicojoules = computePicojoules
        self.memoryPicojoules = memoryPicojoules
    }

    public var totalPicojoules: Double { computePicojoules + memoryPicojoules }

    public static let zero = EnergyEstimate(computePicojoules: 0, memoryPicojoules: 0)

    public static func + (a: EnergyEstimate, b: EnergyEstimate) -> EnergyEstimate {
        EnergyEstimate(computePicojoules: a.computePicojoules + b.computePicojoules,
                       memoryPicojoules: a.memoryPicojoules + b.memoryPicojoules)
    }
}
