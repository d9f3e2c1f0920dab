import Foundation
import LowBitIO
import LowBitTensor

/// Energy per operation, in picojoules: what turns a report's operation counts into an energy
/// *estimate*. ``EnergyModel`` says which entry each operation is charged.
///
/// The default, ``default45nm``, is the 45 nm table most quantization papers use (Horowitz,
/// "Computing's energy problem", ISSCC 2014; shared/DESIGN.md section 2). The SRAM figure is the
/// 32 KB array's (10 pJ at 8 KB, 20 pJ at 32 KB per 64-bit read).
///
/// `lowbit report --energy-table FILE` replaces it with a JSON object holding exactly these keys,
/// every value a finite number >= 0 in pJ, plus an optional `"description"` string:
/// ```json
/// {"description": "45 nm (Horowitz 2014)",
///  "fp32_mult_pj": 3.7, "fp32_add_pj": 0.9, "int32_mult_pj": 3.1, "int32_add_pj": 0.1,
///  "int8_mult_pj": 0.2, "int8_add_pj": 0.03, "sram_read_64bit_pj": 20, "dram_read_32bit_pj": 640}
/// ```
///
/// ```swift
/// let table = try EnergyTable.read(from: "my-7nm-table.json")
/// let report = try ModelReport(analyzing: archive, source: "mlp.lowbit", energyTable: table)
/// ```
public struct EnergyTable: Sendable, Equatable {
    /// Where the figures come from; shown next to every energy estimate.
    public var description: String
    public var fp32MultiplyPicojoules: Double
    public var fp32AddPicojoules: Double
    public var int32MultiplyPicojoules: Double
    public var int32AddPicojoules: Double
    public var int8MultiplyPicojoules: Double
    public var int8AddPicojoules: Double
    /// One 64-bit read from on-chip SRAM (where activations are assumed to live).
    public var sramRead64BitPicojoules: Double
    /// One 32-bit word read from DRAM (where weights are assumed to be fetched from).
    public var dramRead32BitPicojoules: Double

    public init(description: String, fp32MultiplyPicojoules: Double, fp32AddPicojoules: Double,
                int32MultiplyPicojoules: Double, int32AddPicojoules: Double, int8MultiplyPicojoules: Double,
                int8AddPicojoules: Double, sramRead64BitPicojoules: Double, dramRead32BitPicojoules: Double) {
        self.description = description
        self.fp32MultiplyPicojoules = fp32MultiplyPicojoules
        self.fp32AddPicojoules = fp32AddPicojoules
        self.int32MultiplyPicojoules = int32MultiplyPicojoules
        self.int32AddPicojoules = int32AddPicojoules
        self.int8MultiplyPicojoules = int8MultiplyPicojoules
        self.int8AddPicojoules = int8AddPicojoules
        self.sramRead64BitPicojoules = sramRead64BitPicojoules
        self.dramRead32BitPicojoules = dramRead32BitPicojoules
    }

    /// The 45 nm figures of shared/DESIGN.md section 2.
    public static let default45nm = EnergyTable(
        description: "45 nm (Horowitz, ISSCC 2014)",
        fp32MultiplyPicojoules: 3.7, fp32AddPicojoules: 0.9,
        int32MultiplyPicojoules: 3.1, int32AddPicojoules: 0.1,
        int8MultiplyPicojoules: 0.2, int8AddPicojoules: 0.03,
        sramRead64BitPicojoules: 20, dramRead32BitPicojoules: 640)

    /// The JSON keys of the file format, in the order files and reports list them. One list serves
    /// the reader, the writer and the error messages, so they cannot disagree.
    static var keys: [(name: String, path: WritableKeyPath<EnergyTable, Double>)] {
        [("fp32_mult_pj", \.fp32MultiplyPicojoules), ("fp32_add_pj", \.fp32AddPicojoules),
         ("int32_mult_pj", \.int32MultiplyPicojoules), ("int32_add_pj", \.int32AddPicojoules),
         ("int8_mult_pj", \.int8MultiplyPicojoules), ("int8_add_pj", \.int8AddPicojoules),
         ("sram_read_64bit_pj", \.sramRead64BitPicojoules), ("dram_read_32bit_pj", \.dramRead32BitPicojoules)]
    }

    /// Reads a table file; a missing file, bad JSON, a missing or unknown key, or a value that is
    /// not a finite number >= 0 throws a one-line ``LowBitTensor/LowBitError``.
    public static func read(from path: String) throws -> EnergyTable {
        try EnergyTable(json: FileAccess.readAll(path), source: path)
    }

    /// Parses the JSON of a table file; `source` names it in errors.
    public init(json bytes: [UInt8], source: String) throws {
        func failure(_ reason: String) -> LowBitError {
            .invalidArgument("energy table \(source): \(reason)")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw failure("not valid JSON")
        }
        guard let object = value.object else { throw failure("expected one JSON object of energies in pJ") }
        let known = Set(Self.keys.map(\.name) + ["description"])
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw failure("unknown key \"\(unknown)\"; the keys are \(Self.keys.map(\.name).joined(separator: ", ")) and description")
        }
        var table = EnergyTable.default45nm
        table.description = "energy table \(source)"
        if let description = object["description"] {
            guard let text = description.string else { throw failure("\"description\" must be a string") }
            table.description = text
        }
        for (name, path) in Self.keys {
            guard let entry = object[name] else { throw failure("key \"\(name)\" is missing (pJ per operation)") }
            guard let number = entry.double else { throw failure("\"\(name)\" must be a number of pJ") }
            guard number.isFinite, number >= 0 else {
                throw failure("\"\(name)\" is \(number); energies must be finite and >= 0 pJ")
            }
            table[keyPath: path] = number
        }
        self = table
    }
}
