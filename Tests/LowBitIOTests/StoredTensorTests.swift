import LowBitIO
import LowBitTensor
import Testing

@Suite("StoredTensor")
struct StoredTensorTests {
    /// Element sizes written down independently of the module's table.
    @Test(arguments: [(.f32, 4), (.f16, 2), (.i8, 1), (.u8, 1), (.i16, 2), (.i32, 4), (.u32, 4), (.u64, 8)]
          as [(TensorDType, Int)])
    func elementSizesAreTheDocumentedOnes(dtype: TensorDType, size: Int) {
        #expect(dtype.elementByteCount == size)
        #expect(TensorDType(safetensorsName: dtype.safetensorsName) == dtype)
    }

    @Test func floatsAreStoredLittleEndian() throws {
        let stored = try StoredTensor(name: "x", tensor: Tensor(shape: [2], data: [1.0, -2.0]))
        #expect(stored.bytes == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    @Test func integersAreStoredLittleEndian() throws {
        let stored = try StoredTensor(name: "x", shape: [], values: [UInt32(0x0102_0304)])
        #expect(stored.bytes == [0x04, 0x03, 0x02, 0x01])
        #expect(stored.dtype == .u32)
        #expect(stored.elementCount == 1)
    }

    @Test func f32RoundTripIsBitExactForSpecialValues() throws {
        let values: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1]
        let back = try StoredTensor(name: "x", tensor: Tensor(shape: [7], data: values)).floatTensor()
        #expect(back.data.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(back.shape == [7])
    }

    @Test func f16StoresTheNearestHalf() throws {
        let stored = try StoredTensor(name: "x", tensor: Tensor(shape: [2], data: [1.0 / 3.0, -2.5]), dtype: .f16)
        #expect(stored.bytes == [0x55, 0x35, 0x00, 0xC1])
        #expect(try stored.floatTensor().data == [0.333251953125, -2.5])
    }

    @Test func f16RefusesAFiniteValueThatWouldBecomeInfinity() {
        let error = lowBitError {
            _ = try StoredTensor(name: "big", tensor: Tensor(shape: [2], data: [1, 70000]), dtype: .f16)
        }
        guard case let .invalidArgument(message)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(message.contains("'big'") && message.contains("flat index 1"))
    }

    @Test func integerTypesRoundTrip() throws {
        #expect(try StoredTensor(name: "a", shape: [2], values: [Int8.min, .max]).values(as: Int8.self) == [.min, .max])
        #expect(try StoredTensor(name: "b", shape: [2], values: [UInt8.min, .max]).values(as: UInt8.self) == [.min, .max])
        #expect(try StoredTensor(name: "c", shape: [2], values: [Int16.min, .max]).values(as: Int16.self) == [.min, .max])
        #expect(try StoredTensor(name: "d", shape: [2], values: [Int32.min, .max]).values(as: Int32.self) == [.min, .max])
        #expect(try StoredTensor(name: "e", shape: [2], values: [UInt32.min, .max]).values(as: UInt32.self) == [.min, .max])
        #expect(try StoredTensor(name: "f", shape: [1, 2], values: [UInt64(0x8000_0000_0000_0001), .max])
            .values(as: UInt64.self) == [0x8000_0000_0000_0001, .max])
    }

    @Test func readingAsTheWrongIntegerTypeFails() throws {
        let codes = try StoredTensor(name: "codes", shape: [2], values: [Int8(1), -1])
        #expect(lowBitError { _ = try codes.values(as: UInt8.self) } != nil)
        #expect(lowBitError { _ = try codes.floatTensor() } != nil)
    }

    @Test func floatTensorRefusesAnIntegerDtype() {
        #expect(lowBitError { _ = try StoredTensor(name: "x", tensor: .zeros([1]), dtype: .i8) } != nil)
    }

    @Test func bytesThatDoNotMatchTheShapeAreRejected() {
        let error = lowBitError { _ = try StoredTensor(name: "x", dtype: .f32, shape: [2, 3], bytes: [UInt8](repeating: 0, count: 20)) }
        #expect(error == .shapeMismatch("tensor 'x': shape [2, 3] of f32 needs 24 bytes, got 20"))
        #expect(lowBitError { _ = try StoredTensor(name: "x", dtype: .u8, shape: [-1], bytes: []) } != nil)
        #expect(lowBitError { _ = try StoredTensor(name: "x", dtype: .u8, shape: [1 << 40, 1 << 40], bytes: []) } != nil)
    }
}
