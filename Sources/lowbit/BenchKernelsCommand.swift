import ArgumentParser
import Foundation
import LowBitIO
import LowBitRuntime
import LowBitTensor

/// The kernel table of docs/BENCHMARKS.md: each LowBit kernel and its float baseline (OpenBLAS
/// sgemm, or im2col + sgemm for convolutions) timed in the same run, interleaved, best of
/// `--repeat`, at every thread count of `--threads`.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Runtime kernels against float baselines: binary GEMM and conv, int8, int4 and ternary GEMM."
    )

    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(name: .customLong("repeat"), help: "Timed runs per kernel (the best is kept).") var repetitions = 5
    @Option(help: "Run only the kernels whose name or shape contains this text (case-insensitive), e.g. \"binary conv\" or \"@16x16\".")
    var filter: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let threadCounts = try parseIntList(threads, option: "--threads")
        guard repetitions >= 1 else { throw ValidationError("--repeat must be >= 1") }
        var rng = SeededGenerator(seed: 5)
        let cases = try KernelBenchmarks.cases(rng: &rng).filter { benchmark in
            guard let filter, !filter.isEmpty else { return true }
            return benchmark.name.localizedCaseInsensitiveContains(filter) || benchmark.shape.localizedCaseInsensitiveContains(filter)
        }
        guard !cases.isEmpty else { throw ValidationError("no kernel matches --filter \(filter ?? "")") }
        var rows = [KernelBenchmarkRow]()
        for threadCount in threadCounts {
            Parallel.threadCount = threadCount
            for benchmark in cases {
                let timing = KernelBenchmarks.timeInterleaved(benchmark.kernel, benchmark.baseline, repetitions: repetitions)
                rows.append(KernelBenchmarkRow(name: benchmark.name, shape: benchmark.shape, baselineName: benchmark.baselineName,
                                               threads: threadCount, operations: benchmark.operations,
                                               seconds: timing.kernel, baselineSeconds: timing.baseline,
                                               coresUsed: timing.kernelCoresUsed))
            }
        }
        if json {
            let object = ["path": KernelPath.best.rawValue, "repeat": "\(repetitions)"]
            print(try KernelBenchmarks.json(rows: rows, header: object))
        } else {
            print("kernel path: \(KernelPath.best.rawValue); best of \(repetitions); Gop/s counts a multiply-add as 2 ops")
            print(KernelBenchmarkRow.tableHeader)
            for row in rows { print(row.tableLine) }
        }
    }
}

/// One kernel against its baseline at one thread count.
struct KernelBenchmarkRow: Encodable {
    let name: String
    let shape: String
    let baselineName: String
    let threads: Int
    /// Logical multiply-adds times 2.
    let operations: Double
    let seconds: Double
    let baselineSeconds: Double
    /// Process CPU time over wall time while the LowBit kernel ran: below `threads` when other
    /// processes held the cores.
    let coresUsed: Double
    let gops: Double
    let baselineGops: Double
    /// Baseline time over kernel time.
    let ratio: Double

    init(name: String, shape: String, baselineName: String, threads: Int, operations: Double, seconds: Double,
         baselineSeconds: Double, coresUsed: Double) {
        (self.name, self.shape, self.baselineName, self.threads) = (name, shape, baselineName, threads)
        (self.operations, self.seconds, self.baselineSeconds, self.coresUsed) = (operations, seconds, baselineSeconds, coresUsed)
        gops = operations / seconds / 1e9
        baselineGops = operations / baselineSeconds / 1e9
        ratio = baselineSeconds / seconds
    }

    static let tableHeader = "| kernel | shape | threads | cores used | time (ms) | Gop/s | baseline | baseline (ms) | baseline Gop/s | speed-up |\n|---|---|---|---|---|---|---|---|---|---|"

    var tableLine: String {
        String(format: "| %@ | %@ | %d | %.2f | %.3f | %.1f | %@ | %.3f | %.1f | %.2fx |", name, shape, threads, coresUsed,
               seconds * 1e3, gops, baselineName, baselineSeconds * 1e3, baselineGops, ratio)
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, baselineName = "baseline", threads, operations, seconds, baselineSeconds = "baseline_seconds"
        case coresUsed = "cores_used", gops, baselineGops = "baseline_gops", ratio
    }
}

/// The benchmark cases and the timing loop.
enum KernelBenchmarks {
    struct Case {
        let name: String
        let shape: String
        let baselineName: String
        let operations: Double
        let kernel: () -> Void
        let baseline: () -> Void
    }

    /// Runs each closure once to warm up, then alternates them `repetitions` times: best wall
    /// times, and the kernel's CPU time over wall time summed over its runs.
    static func timeInterleaved(_ kernel: () -> Void, _ baseline: () -> Void,
                                repetitions: Int) -> (kernel: Double, baseline: Double, kernelCoresUsed: Double) {
        kernel()
        baseline()
        var best = (kernel: Double.infinity, baseline: Double.infinity)
        var wall = 0.0, cpu = 0.0
        for _ in 0..<repetitions {
            let (kernelWall, kernelCPU) = seconds(kernel)
            best.kernel = min(best.kernel, kernelWall)
            wall += kernelWall
            cpu += kernelCPU
            best.baseline = min(best.baseline, seconds(baseline).wall)
        }
        return (best.kernel, best.baseline, cpu / wall)
    }

    /// Wall seconds and process CPU seconds (all threads) of one call.
    private static func seconds(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        func processCPU() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let startCPU = processCPU(), start = DispatchTime.now().uptimeNanoseconds
        body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, processCPU() - startCPU)
    }

    static func json(rows: [KernelBenchmarkRow], header: [String: String]) throws -> String {
        struct Report: Encodable {
            let header: [String: String]
            let rows: [KernelBenchmarkRow]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Report(header: header, rows: rows)), as: UTF8.self)
    }

    static func cases(rng: inout SeededGenerator) throws -> [Case] {
        var cases = [try binaryGEMM(rng: &rng)]
        for (channels, size) in [(64, 16), (128, 8)] {
            for batch in [1, 16] { cases += try binaryConvolutions(channels: channels, size: size, batch: batch, rng: &rng) }
        }
        cases += try quantizedGEMMs(rng: &rng)
        cases += try batchOneDense(rng: &rng)
        cases += floatSignGEMMs(rng: &rng)
        for (channels, size) in [(16, 28), (32, 14), (64, 7)] { cases += try int8Convolutions(channels: channels, size: size, rng: &rng) }
        return cases
    }

    /// sgemm of row-major [m, k] x [n, k]^T, the layout every baseline here uses.
    private static func sgemm(m: Int, n: Int, k: Int, rng: inout SeededGenerator) -> () -> Void {
        let a = (0..<(m * k)).map { _ in rng.nextNormal() }, b = (0..<(n * k)).map { _ in rng.nextNormal() }
        var c = [Float](repeating: 0, count: m * n)
        return { BLAS.sgemm(transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: n) }
    }

    /// sgemv of a row-major [outputs, inputs] matrix by one vector: a float dense layer at batch 1.
    private static func sgemv(outputs: Int, inputs: Int, rng: inout SeededGenerator) -> () -> Void {
        let w = (0..<(inputs * outputs)).map { _ in rng.nextNormal() }, x = (0..<inputs).map { _ in rng.nextNormal() }
        var y = [Float](repeating: 0, count: outputs)
        return { BLAS.sgemv(m: outputs, n: inputs, a: w, lda: inputs, x: x, y: &y) }
    }

    private static func binaryGEMM(rng: inout SeededGenerator) throws -> Case {
        let (m, n, k) = (1024, 1024, 4096)
        let input = PackedBits(packing: (0..<(m * k)).map { _ in rng.nextNormal() }, rows: m, columns: k)
        let gemm = BinaryGEMM(weights: PackedBits(packing: (0..<(n * k)).map { _ in rng.nextNormal() }, rows: n, columns: k))
        return Case(name: "binary GEMM (packed operands)", shape: "\(m)x\(n)x\(k)", baselineName: "sgemm",
                    operations: 2.0 * Double(m * n * k), kernel: { _ = try? gemm.multiply(input) },
                    baseline: sgemm(m: m, n: n, k: k, rng: &rng))
    }

    /// A ResNet-style 3x3 'same' layer: float in to float out (sign packing, im2col, GEMM, padding
    /// correction, scale/BatchNorm), and packed bits in to packed bits out (threshold compare),
    /// against our float convolution with and without Winograd (FloatConv2D.runsDirectly's rule
    /// names the second: patches up to 1,024 values and up to 64 outputs run direct).
    private static func binaryConvolutions(channels: Int, size: Int, batch: Int, rng: inout SeededGenerator) throws -> [Case] {
        let shape = try Conv2DShape(inputHeight: size, inputWidth: size, inputChannels: channels, outputChannels: channels,
                                    kernelSize: 3, stride: 1, padding: .same)
        let weights = (0..<(channels * shape.weightsPerOutput)).map { _ in rng.nextNormal() }
        let x = (0..<(batch * size * size * channels)).map { _ in rng.nextNormal() }
        let multiplier = (0..<channels).map { _ in rng.nextUniform() + 0.5 }, bias = (0..<channels).map { _ in rng.nextNormal() }
        let toFloat = try BinaryConv2D(shape: shape, weights: weights, output: .float(multiplier: multiplier, bias: bias))
        let toBits = try BinaryConv2D(shape: shape, weights: weights,
                                      output: .signBits(matching: shape.weightsPerOutput, multiplier: multiplier, bias: bias))
        let packed = PackedBits(packing: x, rows: batch * size * size, columns: channels)
        // Our float convolution as layers run it (Winograd F(2x2, 3x3) here), and without Winograd
        // (im2col + sgemm, or the direct kernel for short patches at batch 1).
        let float = try FloatConv2D(shape: shape, weights: weights, bias: bias)
        let plain = try FloatConv2D(shape: shape, weights: weights, bias: bias, winograd: false)
        let baseline = { _ = try? float.forward(x, batch: batch) }, plainBaseline = { _ = try? plain.forward(x, batch: batch) }
        let label = "\(channels)->\(channels) 3x3 @\(size)x\(size) batch \(batch)"
        let operations = 2.0 * Double(batch * size * size * channels * shape.weightsPerOutput)
        let plainName = shape.weightsPerOutput <= 1_024 && channels <= 64 ? "float conv (direct)" : "float conv (im2col+sgemm)"
        return [
            Case(name: "binary conv, float in/out", shape: label, baselineName: "float conv (Winograd)",
                 operations: operations, kernel: { _ = try? toFloat.forward(x, batch: batch) }, baseline: baseline),
            Case(name: "binary conv, bits in/out", shape: label, baselineName: "float conv (Winograd)",
                 operations: operations, kernel: { _ = try? toBits.forward(packed, batch: batch) }, baseline: baseline),
            Case(name: "binary conv, bits in/out", shape: label, baselineName: plainName,
                 operations: operations, kernel: { _ = try? toBits.forward(packed, batch: batch) }, baseline: plainBaseline),
            Case(name: "float conv, Winograd F(2x2,3x3)", shape: label, baselineName: plainName,
                 operations: operations, kernel: baseline, baseline: plainBaseline),
        ]
    }

    /// The int8 ResNet-20's 3x3 stride-1 layers at batch 1, exact int32 accumulators by Winograd
    /// F(4x4, 3x3) and F(2x2, 3x3) and by the direct patch GEMM, on ReLU-like uint8 codes (half zeros, the rest
    /// exponential with mean 30: ~0.7% of them 128 or more, as the model's activations), against the
    /// float convolution of the same shape (Winograd).
    private static func int8Convolutions(channels: Int, size: Int, rng: inout SeededGenerator) throws -> [Case] {
        let shape = try Conv2DShape(inputHeight: size, inputWidth: size, inputChannels: channels, outputChannels: channels,
                                    kernelSize: 3, stride: 1, padding: .same)
        let weights = (0..<(channels * shape.weightsPerOutput)).map { _ in Int8(rng.nextInt(below: 255) - 127) }
        let codes = (0..<(size * size * channels)).map { _ in
            rng.nextInt(below: 2) == 0 ? UInt8(0) : UInt8(min(255, Int(-30 * log(1 - Double(rng.nextUniform())))))
        }
        let gemm = try Int8GEMM(weights: weights, outputCount: channels, inputCount: shape.weightsPerOutput)
        guard let winograd = try Int8Winograd(weights: weights, shape: shape, largeTiles: true), winograd.tileSize == 4,
              let small = try Int8Winograd(weights: weights, shape: shape, largeTiles: false) else { return [] }
        let x = (0..<(size * size * channels)).map { _ in rng.nextNormal() }
        let float = try FloatConv2D(shape: shape, weights: (0..<(channels * shape.weightsPerOutput)).map { _ in rng.nextNormal() },
                                    bias: [Float](repeating: 0, count: channels))
        let baseline = { _ = try? float.forward(x, batch: 1) }   // Winograd too
        let label = "\(channels)->\(channels) 3x3 @\(size)x\(size) batch 1"
        let operations = 2.0 * Double(size * size * channels * shape.weightsPerOutput)
        return [
            Case(name: "int8 conv, Winograd F(4x4,3x3)", shape: label, baselineName: "float conv (Winograd)", operations: operations,
                 kernel: { _ = try? winograd.accumulate(codes, batch: 1) }, baseline: baseline),
            Case(name: "int8 conv, Winograd F(2x2,3x3)", shape: label, baselineName: "float conv (Winograd)", operations: operations,
                 kernel: { _ = try? small.accumulate(codes, batch: 1) }, baseline: baseline),
            Case(name: "int8 conv, direct (high bit apart)", shape: label, baselineName: "float conv (Winograd)", operations: operations,
                 kernel: { _ = try? gemm.accumulate(codes, convolution: shape, batch: 1) }, baseline: baseline),
        ]
    }

    /// A dense layer at batch 1 (one row: a matrix-vector product, bound by reading the weights), int8
    /// against OpenBLAS sgemv as float dense layers run it at batch 1 (``BLAS/sgemv(m:n:a:lda:x:beta:y:)``,
    /// rows split across threads from ~128 KB; sgemm with m = 1 is 3-10x slower), at the int8 MNIST
    /// MLP's first layer and at 1024 x 1024:
    /// full-range uint8 inputs (the int16 kernel's one-row tile), and ReLU-like codes (half zeros, the
    /// rest exponential with mean 30, as in int8Convolutions: the high bit apart).
    private static func batchOneDense(rng: inout SeededGenerator) throws -> [Case] {
        try [(784, 256), (1024, 1024)].flatMap { inputs, outputs -> [Case] in
            let gemm = try Int8GEMM(weights: (0..<(inputs * outputs)).map { _ in Int8(Int(rng.next() % 255) - 127) },
                                    outputCount: outputs, inputCount: inputs)
            let uniform = (0..<inputs).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let reluLike = (0..<inputs).map { _ in
                rng.nextInt(below: 2) == 0 ? UInt8(0) : UInt8(min(255, Int(-30 * log(1 - Double(rng.nextUniform())))))
            }
            let baseline = sgemv(outputs: outputs, inputs: inputs, rng: &rng)
            let operations = 2.0 * Double(inputs * outputs)
            let shape = "1x\(outputs)x\(inputs)"
            return [
                Case(name: "int8 dense, batch 1, full-range inputs", shape: shape, baselineName: "sgemv", operations: operations,
                     kernel: { _ = try? gemm.accumulate(uint8: uniform, rows: 1) }, baseline: baseline),
                Case(name: "int8 dense, batch 1, ReLU-like inputs", shape: shape, baselineName: "sgemv", operations: operations,
                     kernel: { _ = try? gemm.accumulate(uint8: reluLike, rows: 1) }, baseline: baseline),
            ]
        }
    }

    /// A binary layer reading floats (a binary first layer, ``FloatSignGEMM``'s lookup tables) at the
    /// binary MNIST MLP's first layer, batch 1 and 64, against the float layer the same weights
    /// would be (sgemv at batch 1, as float dense layers run it; sgemm at 64).
    private static func floatSignGEMMs(rng: inout SeededGenerator) -> [Case] {
        let (inputs, outputs) = (784, 256)
        let w = (0..<(inputs * outputs)).map { _ in rng.nextNormal() }
        let gemm = FloatSignGEMM(weights: PackedBits(packing: w, rows: outputs, columns: inputs))
        return [1, 64].map { rows in
            let x = (0..<(rows * inputs)).map { _ in rng.nextUniform() }
            let baseline = rows == 1 ? sgemv(outputs: outputs, inputs: inputs, rng: &rng)
                                     : sgemm(m: rows, n: outputs, k: inputs, rng: &rng)
            return Case(name: "float x sign GEMM (lookup tables)", shape: "\(rows)x\(outputs)x\(inputs)",
                        baselineName: rows == 1 ? "sgemv" : "sgemm", operations: 2.0 * Double(rows * inputs * outputs),
                        kernel: { _ = try? gemm.multiply(x, rows: rows) }, baseline: baseline)
        }
    }

    /// int8 (uint8 activations, exact int32, then requantized to uint8), int4 (4-bit codes) and ternary with group
    /// scales of 4 (uint8 and binary activations with float scales; binary activations with 7-bit
    /// scale codes), all at 1024^3 against sgemm.
    private static func quantizedGEMMs(rng: inout SeededGenerator) throws -> [Case] {
        let size = 1024, operations = 2.0 * Double(size * size * size)
        let baseline = sgemm(m: size, n: size, k: size, rng: &rng)
        let activations = (0..<(size * size)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let int8 = try Int8GEMM(weights: (0..<(size * size)).map { _ in Int8(Int(rng.next() % 255) - 127) },
                                outputCount: size, inputCount: size)
        let requantizer = try Requantizer(realMultipliers: [Double](repeating: 1e-4, count: size), outputScale: 0.05,
                                          zeroPoint: 0, outputType: UInt8.self, activation: .relu6)
        let bias = int8.foldedBias(nil, inputZeroPoint: 128)
        // Full-range codes of which 1 in 100 is 128 or more (ReLU activations measured 0.1-1.6%): the
        // high bit apart, the 7-bit codes on the vpmaddubsw kernel (docs/RUNTIME.md).
        let sparseHigh = (0..<(size * size)).map { _ in UInt8(rng.nextInt(below: 100) == 0 ? 128 + rng.nextInt(below: 128) : rng.nextInt(below: 128)) }
        // 4-bit weights and inputs (the int4 preset's codes): the vpmaddubsw kernel for small weights.
        let int4 = try Int8GEMM(weights: (0..<(size * size)).map { _ in Int8(rng.nextInt(below: 15)) - 7 }, outputCount: size, inputCount: size)
        let codes4 = (0..<(size * size)).map { _ in UInt8(rng.nextInt(below: 16)) }
        // 7-bit weights (|w| <= 63) with full-range uint8 inputs: the small-weight kernel, one step per widening.
        let int7 = try Int8GEMM(weights: (0..<(size * size)).map { _ in Int8(rng.nextInt(below: 127)) - 63 }, outputCount: size, inputCount: size)
        let group = 4, groups = size / group
        let ternary = try TernaryGEMM(values: (0..<(size * size)).map { _ in Int8(rng.nextInt(below: 3)) - 1 },
                                      scales: (0..<(size * groups)).map { _ in rng.nextUniform() }, outputCount: size,
                                      inputCount: size, groupSize: group)
        let signs = PackedBits(packing: (0..<(size * size)).map { _ in rng.nextNormal() }, rows: size, columns: size)
        let ternaryCodes = try TernarySignGEMM(values: (0..<(size * size)).map { _ in Int8(rng.nextInt(below: 3)) - 1 },
                                               scales: (0..<(size * groups)).map { _ in rng.nextUniform() }, outputCount: size,
                                               inputCount: size, groupSize: group)
        let shape = "\(size)x\(size)x\(size)"
        return [
            Case(name: "int8 GEMM (u8 x s8 -> s32)", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? int8.accumulate(uint8: activations, rows: size) }, baseline: baseline),
            Case(name: "int8 GEMM, 1% of inputs >= 128 (high bit apart)", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? int8.accumulate(uint8: sparseHigh, rows: size) }, baseline: baseline),
            Case(name: "int8 GEMM, 7-bit weights (u8 x s7 -> s32)", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? int7.accumulate(uint8: activations, rows: size) }, baseline: baseline),
            Case(name: "int4 GEMM (4-bit codes in bytes -> s32)", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? int4.accumulate(uint8: codes4, rows: size, inputMax: 15) }, baseline: baseline),
            Case(name: "int8 GEMM + requantize to u8", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: {
                     let acc = (try? int8.accumulate(uint8: activations, rows: size)) ?? []
                     let _: [UInt8]? = try? requantizer.requantize(acc, rows: size, bias: bias)
                 }, baseline: baseline),
            Case(name: "ternary GEMM, group 4, u8 activations", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? ternary.multiply(uint8: activations, rows: size, inputScale: 0.02, inputZeroPoint: 128) },
                 baseline: baseline),
            Case(name: "ternary GEMM, group 4, binary activations", shape: shape, baselineName: "sgemm", operations: operations,
                 kernel: { _ = try? ternary.multiply(signs: signs) }, baseline: baseline),
            Case(name: "ternary GEMM, group 4, binary activations, 7-bit scale codes", shape: shape, baselineName: "sgemm",
                 operations: operations, kernel: { _ = try? ternaryCodes.multiply(signs: signs) }, baseline: baseline),
        ]
    }
}
