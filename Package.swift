// swift-tools-version: 6.1
import PackageDescription

// Module layout follows shared/DESIGN.md section 3. Data flows one way:
// Data -> NN (+Quant, +Prune) -> IO (.lowbit) -> Runtime. The runtime never imports training code.
// No product uses unsafeFlags: SIMD hot loops live in the C target CLowBitKernels, compiled for
// AVX2/FMA per function with runtime dispatch (docs/BUILD.md).

#if os(Linux)
let blasDependency: [Target.Dependency] = [.target(name: "CLowBitBLAS")]
#else
let blasDependency: [Target.Dependency] = []
#endif

let package = Package(
    name: "LowBit",
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .library(name: "LowBitTensor", targets: ["LowBitTensor"]),
        .library(name: "LowBitIO", targets: ["LowBitIO"]),
        .library(name: "LowBitData", targets: ["LowBitData"]),
        .library(name: "LowBitNN", targets: ["LowBitNN"]),
        .library(name: "LowBitQuant", targets: ["LowBitQuant"]),
        .library(name: "LowBitAnalysis", targets: ["LowBitAnalysis"]),
        .library(name: "LowBitRuntime", targets: ["LowBitRuntime"]),
        .library(name: "LowBitPack", targets: ["LowBitPack"]),
        .executable(name: "lowbit", targets: ["lowbit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLowBitBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(name: "CLowBitKernels"),
        .target(name: "LowBitTensor", dependencies: ["CLowBitKernels"] + blasDependency),
        .target(name: "LowBitIO", dependencies: ["LowBitTensor"]),
        .target(name: "LowBitData", dependencies: ["LowBitTensor", "CZlib"]),
        .target(name: "LowBitNN", dependencies: ["LowBitTensor", "LowBitIO", "CLowBitKernels"]),
        .target(name: "LowBitQuant", dependencies: ["LowBitTensor", "LowBitIO", "LowBitNN", "CLowBitKernels"]),
        .target(name: "LowBitAnalysis", dependencies: ["LowBitTensor", "LowBitIO"]),
        .target(name: "CLowBitRuntimeKernels"),
        .target(name: "LowBitRuntime", dependencies: ["LowBitTensor", "LowBitIO", "CLowBitKernels", "CLowBitRuntimeKernels"]),
        // The packer may use training code (it reads trained models); the runtime it feeds may not.
        .target(name: "LowBitPack", dependencies: ["LowBitTensor", "LowBitIO", "LowBitNN", "LowBitQuant", "LowBitRuntime"]),
        .executableTarget(
            name: "lowbit",
            dependencies: blasDependency + [
                "LowBitTensor", "LowBitIO", "LowBitData", "LowBitNN", "LowBitQuant", "LowBitAnalysis", "LowBitRuntime", "LowBitPack",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LowBitTensorTests", dependencies: ["LowBitTensor"]),
        .testTarget(name: "LowBitIOTests", dependencies: ["LowBitIO"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LowBitDataTests", dependencies: ["LowBitData"]),
        .testTarget(name: "LowBitNNTests", dependencies: ["LowBitNN", "LowBitIO"]),
        // Runs the built `lowbit` executable as a user would; depends on it so it is built first.
        .testTarget(name: "LowBitCLITests", dependencies: ["lowbit", "LowBitIO", "LowBitTensor"]),
        .testTarget(name: "LowBitQuantTests", dependencies: ["LowBitQuant"]),
        .testTarget(name: "LowBitAnalysisTests", dependencies: ["LowBitAnalysis", "LowBitIO"], resources: [.copy("Golden")]),
        .testTarget(name: "LowBitPackTests", dependencies: ["LowBitPack", "LowBitRuntime", "LowBitNN", "LowBitQuant", "LowBitData", "LowBitIO", "LowBitTensor"]),
        .testTarget(name: "LowBitRuntimeTests", dependencies: ["LowBitRuntime", "CLowBitRuntimeKernels", "LowBitTensor"]),
    ],
    swiftLanguageModes: [.v6]
)
