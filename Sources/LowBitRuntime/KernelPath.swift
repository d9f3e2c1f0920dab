import CLowBitRuntimeKernels

/// Which implementation of the runtime kernels runs.
///
/// ``best`` is chosen once per process: ``avx2`` on x86-64 CPUs with AVX2, FMA, POPCNT and BMI2,
/// ``portable`` elsewhere or when the environment variable `LOWBIT_FORCE_PORTABLE=1` is set. The
/// AVX2 kernels are compiled per function in the C target, so a plain `swift build -c release`
/// produces them without compiler flags (docs/RUNTIME.md, "Dispatch"). Every kernel call takes a
/// `path:` argument that defaults to ``best``; tests pass each of ``supported`` in turn.
///
/// ```swift
/// for path in KernelPath.supported {
///     let dots = try gemm.multiply(input, path: path)
/// }
/// ```
public enum KernelPath: String, Sendable, CaseIterable {
    /// Plain C, for every CPU.
    case portable
    /// AVX2 + POPCNT + FMA + BMI2 kernels (x86-64).
    case avx2

    /// The path kernels take by default.
    public static var best: KernelPath { lbr_best_isa() == LBR_ISA_AVX2 ? .avx2 : .portable }

    /// The paths this CPU can run, whatever `LOWBIT_FORCE_PORTABLE` says.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    /// Whether this CPU can run the path.
    public var isSupported: Bool { lbr_isa_supported(isa) != 0 }

    var isa: lbr_isa { self == .avx2 ? LBR_ISA_AVX2 : LBR_ISA_PORTABLE }
}
