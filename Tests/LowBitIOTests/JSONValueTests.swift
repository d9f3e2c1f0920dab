import Foundation
import LowBitIO
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    let metadata: JSONValue = [
        "epochs": 30,
        "metrics": ["accuracy": 0.912, "classes": [0.9, 0.8]],
        "dataset": "fashion-mnist",
        "augment": false,
        "checkpoint": nil,
    ]

    @Test func literalsAndAccessorsReadNestedValues() {
        #expect(metadata["epochs"]?.int == 30)
        #expect(metadata["metrics"]?["accuracy"]?.double == 0.912)
        #expect(metadata["metrics"]?["classes"]?[1]?.double == 0.8)
        #expect(metadata["dataset"]?.string == "fashion-mnist")
        #expect(metadata["augment"]?.bool == false)
        #expect(metadata["checkpoint"]?.isNull == true)
    }

    @Test func accessorsReturnNilForOtherKindsAndMissingMembers() {
        #expect(metadata["dataset"]?.int == nil)
        #expect(metadata["missing"] == nil)
        #expect(metadata["metrics"]?["classes"]?[2] == nil)
        #expect(metadata["epochs"]?["x"] == nil)
    }

    @Test(arguments: [(3.0, 3), (-2.0, -2)] as [(Double, Int?)] + [(3.5, nil), (1e300, nil)])
    func intAccessorIsExactOrNil(number: Double, expected: Int?) {
        #expect(JSONValue.number(number).int == expected)
    }

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(metadata)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == metadata)
    }

    @Test func decodesEachKindFromText() throws {
        let text = #"[true, 1, 1.5, null, "s", {"k": []}]"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value == [true, 1, 1.5, nil, "s", ["k": []]])
    }

    @Test func encodingNaNFailsBecauseJSONHasNoSpellingForIt() {
        #expect(throws: EncodingError.self) { try JSONEncoder().encode(JSONValue.number(.nan)) }
    }
}
