import LowBitTensor

/// One compiled step of a ``PackedModel``: weights in kernel form, shapes fixed at load time.
protocol PackedOperation: Sendable {
    /// The step's name in the plan (a layer path such as `stage1.block0`).
    var name: String { get }
    /// The deployed kind, as reports and `lowbit bench` print it (`binaryConv2d`, `relu`, ...).
    var kind: String { get }
    /// Runs the step on `batch` samples.
    func run(_ input: RuntimeValue, batch: Int) throws -> RuntimeValue
}
