import Foundation
import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitAnalysis

struct EnergyTableTests {
    static let complete = """
        {"description": "test node", "fp32_mult_pj": 4, "fp32_add_pj": 1, "int32_mult_pj": 3, "int32_add_pj": 0.5,
         "int8_mult_pj": 0.25, "int8_add_pj": 0.0625, "sram_read_64bit_pj": 10, "dram_read_32bit_pj": 100}
        """

    @Test func aCompleteTableReplacesTheDefault() throws {
        let table = try EnergyTable(json: Array(Self.complete.utf8), source: "t.json")
        #expect(table == EnergyTable(description: "test node", fp32MultiplyPicojoules: 4, fp32AddPicojoules: 1,
                                     int32MultiplyPicojoules: 3, int32AddPicojoules: 0.5, int8MultiplyPicojoules: 0.25,
                                     int8AddPicojoules: 0.0625, sramRead64BitPicojoules: 10, dramRead32BitPicojoules: 100))
        // fc1 of the dense model, float: 24 MACs * (4 + 1) + 3 bias adds * 1 = 123;
        // memory 27 words * 100 + 4 SRAM reads * 10 = 2740.
        let fc1 = try TestModels.row(try TestModels.report(TestModels.denseSpec, "m.lowbit", table: table), "fc1")
        #expect(fc1.energy.computePicojoules == 123 && fc1.energy.memoryPicojoules == 2740)
    }

    @Test func theDefaultIsTheDesignTable() {
        let t = EnergyTable.default45nm
        #expect([t.fp32MultiplyPicojoules, t.fp32AddPicojoules, t.int32MultiplyPicojoules, t.int32AddPicojoules,
                  t.int8MultiplyPicojoules, t.int8AddPicojoules, t.dramRead32BitPicojoules] == [3.7, 0.9, 3.1, 0.1, 0.2, 0.03, 640])
    }

    @Test(arguments: [
        ("\"fp32_add_pj\": 1", "\"fp32_add_pj\": -1", "\"fp32_add_pj\" is -1.0; energies must be finite and >= 0 pJ"),
        ("\"fp32_add_pj\": 1,", "", "key \"fp32_add_pj\" is missing"),
        ("\"fp32_add_pj\": 1", "\"fp32_add_pj\": 1, \"fp16_add_pj\": 0.4", "unknown key \"fp16_add_pj\""),
        ("\"fp32_add_pj\": 1", "\"fp32_add_pj\": \"one\"", "\"fp32_add_pj\" must be a number of pJ"),
        ("\"fp32_add_pj\": 1", "\"fp32_add_pj\": 1e999", "not valid JSON"),
        ("\"description\": \"test node\"", "\"description\": 7", "\"description\" must be a string"),
        ("{", "[", "not valid JSON"),
    ])
    func badTablesAreRejectedWithTheReason(original: String, replacement: String, reason: String) throws {
        let text = Self.complete.replacingOccurrences(of: original, with: replacement)
        let error = lowBitError { _ = try EnergyTable(json: Array(text.utf8), source: "bad.json") }
        #expect(error?.description.hasPrefix("invalid argument: energy table bad.json: ") == true)
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func aJSONArrayIsNotATable() {
        let error = lowBitError { _ = try EnergyTable(json: Array("[1, 2]".utf8), source: "a.json") }
        #expect(error?.description.contains("expected one JSON object") == true)
    }

    @Test func aMissingFileIsAnIOError() {
        let error = lowBitError { _ = try EnergyTable.read(from: "/nonexistent/table.json") }
        guard case .io(let path, _)? = error else {
            Issue.record("expected an io error, got \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/table.json")
    }

    /// The table a report prints is a valid table file: JSON output can be fed back with --energy-table.
    @Test func theReportsTableRoundTripsThroughTheFileFormat() throws {
        let json = try ReportJSON.render([try TestModels.report(TestModels.denseSpec, "m.lowbit")])
        let object = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        let table = try #require(object["energy_table"])
        let bytes = try JSONEncoder().encode(table)
        #expect(try EnergyTable(json: Array(bytes), source: "echo.json") == .default45nm)
    }
}
