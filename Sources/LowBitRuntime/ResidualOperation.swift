/// `body(x) + shortcut(x)` in float; an empty shortcut is the identity.
struct ResidualOperation: PackedOperation {
    let name: String
    let body: [PackedOperation]
    let shortcut: [PackedOperation]

    var kind: String { "residual" }

    func run(_ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
        var sum = try runSequence(body, value, batch: batch).floats
        let skip = try runSequence(shortcut, value, batch: batch).floats
        for i in sum.indices { sum[i] += skip[i] }
        return .float(sum)
    }
}

/// Runs `operations` in order.
func runSequence(_ operations: [PackedOperation], _ value: RuntimeValue, batch: Int) throws -> RuntimeValue {
    try operations.reduce(value) { try $1.run($0, batch: batch) }
}
