import LowBitIO
import LowBitTensor
import Testing
@testable import LowBitRuntime

@Suite("Binary convolution")
struct BinaryConvTests {
    /// Independent oracle: the float convolution of sign(x) and sign(w), padded positions are 0.
    static func signConvolution(_ x: [Float], _ w: [Float], shape: Conv2DShape, batch: Int) -> [Int32] {
        let (h, wd, c, n) = (shape.inputHeight, shape.inputWidth, shape.inputChannels, shape.outputChannels)
        func sign(_ v: Float) -> Int { v < 0 ? -1 : 1 }
        var out = [Int32]()
        for b in 0..<batch {
            for oy in 0..<shape.outputHeight {
                for ox in 0..<shape.outputWidth {
                    for j in 0..<n {
                        var sum = 0
                        for ky in 0..<shape.kernelHeight {
                            for kx in 0..<shape.kernelWidth {
                                let iy = oy * shape.strideHeight - shape.rows.padBefore + ky
                                let ix = ox * shape.strideWidth - shape.columns.padBefore + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                for ci in 0..<c {
                                    sum += sign(x[((b * h + iy) * wd + ix) * c + ci]) *
                                        sign(w[((j * shape.kernelHeight + ky) * shape.kernelWidth + kx) * c + ci])
                                }
                            }
                        }
                        out.append(Int32(sum))
                    }
                }
            }
        }
        return out
    }

    static func randomShape(_ rng: inout SeededGenerator) throws -> Conv2DShape {
        let channels = [1, 2, 3, 8, 16, 17, 32, 63, 64, 65, 130]   // 1-32 dividing 64: taps packed densely
        let kernel = [(1, 1), (3, 3), (3, 3), (2, 3), (5, 5)][rng.nextInt(below: 5)]
        let padding: LayerSpec.Padding = rng.nextInt(below: 3) == 0 ? .valid : .same
        return try Conv2DShape(inputHeight: max(kernel.0, 1 + rng.nextInt(below: 7)), inputWidth: max(kernel.1, 1 + rng.nextInt(below: 7)),
                               inputChannels: channels[rng.nextInt(below: channels.count)], outputChannels: 1 + rng.nextInt(below: 21),
                               kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: 1 + rng.nextInt(below: 2),
                               strideWidth: 1 + rng.nextInt(below: 2), padding: padding)
    }

    @Test("dot products equal the zero-padded convolution of the signs", arguments: KernelPath.supported)
    func matchesSignConvolution(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 41)
        // Every in-place layout by name (16 channels: merged kernel rows; 32: split rows; 64 and 65:
        // whole-word taps), then random shapes.
        let named = try [(16, 3, LayerSpec.Padding.same), (32, 3, .same), (32, 3, .valid), (64, 3, .same), (65, 3, .same), (16, 5, .same)]
            .map { c, k, padding in try Conv2DShape(inputHeight: 7, inputWidth: 6, inputChannels: c, outputChannels: 9, kernelSize: k, stride: 1,
                                                    padding: padding) }
        for trial in 0..<(150 + named.count) {
            let shape = trial < named.count ? named[trial] : try Self.randomShape(&rng), batch = 1 + rng.nextInt(below: 2)
            let x = rng.signedFloats(batch * shape.inputHeight * shape.inputWidth * shape.inputChannels)
            let w = rng.signedFloats(shape.outputChannels * shape.weightsPerOutput)
            let n = shape.outputChannels
            let conv = try BinaryConv2D(shape: shape, weights: w,
                                        output: .float(multiplier: [Float](repeating: 1, count: n), bias: [Float](repeating: 0, count: n)))
            let input = PackedBits(packing: x, rows: batch * shape.inputHeight * shape.inputWidth, columns: shape.inputChannels)
            let expected = Self.signConvolution(x, w, shape: shape, batch: batch)
            #expect(try conv.dotProducts(input, batch: batch, path: path) == expected, "\(shape)")
            #expect(try conv.forward(x, batch: batch, path: path).floats == expected.map(Float.init))
        }
    }

    @Test("sign-bit output equals the signs of the float output, across threads and blocks")
    func bitsMatchFloats() throws {
        var rng = SeededGenerator(seed: 42)
        let shape = try Conv2DShape(inputHeight: 12, inputWidth: 12, inputChannels: 70, outputChannels: 37,
                                    kernelSize: 3, stride: 1, padding: .same)
        let x = rng.signedFloats(3 * 12 * 12 * 70), w = rng.signedFloats(37 * shape.weightsPerOutput)
        let m = (0..<37).map { _ in rng.nextNormal() }, b = (0..<37).map { _ in rng.nextNormal() * 20 }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let floats = try BinaryConv2D(shape: shape, weights: w, output: .float(multiplier: m, bias: b)).forward(x, batch: 3).floats!
        let bits = try BinaryConv2D(shape: shape, weights: w,
                                    output: .signBits(matching: shape.weightsPerOutput, multiplier: m, bias: b)).forward(x, batch: 3).bits!
        #expect(bits.rows == 3 * 144 && bits.columns == 37)
        #expect(bits.unpacked() == floats.map { $0 < 0 ? -1 : 1 })
    }

    @Test("the float convolution (direct kernel for short patches, im2col + sgemm otherwise) equals direct loops",
          arguments: KernelPath.supported)
    func floatConvolution(path: KernelPath) throws {
        var rng = SeededGenerator(seed: 43)
        var direct = 0, winograd = 0
        // After the random shapes, the ResNet-20 stem and a 1x1 stride-2 shortcut at batch 2: large
        // enough that threads split the direct kernel's output rows.
        let fixed = [try Conv2DShape(inputHeight: 28, inputWidth: 28, inputChannels: 1, outputChannels: 16, kernelSize: 3, stride: 1, padding: .same),
                     try Conv2DShape(inputHeight: 14, inputWidth: 14, inputChannels: 16, outputChannels: 32, kernelSize: 1, stride: 2, padding: .same)]
        for trial in 0..<(150 + fixed.count) {
            var shape = trial < 150 ? try Self.randomShape(&rng) : fixed[trial - 150]
            let batch = trial < 150 ? 1 + trial % 3 : 2
            if trial % 3 == 0 && trial < 150 {   // wider layers: up to 64 outputs in registers, and past it (sgemm)
                shape = try Conv2DShape(inputHeight: shape.inputHeight, inputWidth: shape.inputWidth, inputChannels: shape.inputChannels,
                                        outputChannels: 22 + rng.nextInt(below: 50), kernelHeight: shape.kernelHeight,
                                        kernelWidth: shape.kernelWidth, strideHeight: shape.strideHeight, strideWidth: shape.strideWidth,
                                        padding: shape.padding)
            }
            if FloatConv2D.runsWinograd(shape) {
                winograd += 1
            } else if FloatConv2D.runsDirectly(shape) {
                direct += 1
            }
            let perImage = shape.inputHeight * shape.inputWidth * shape.inputChannels
            let x = (0..<(batch * perImage)).map { _ in Float(rng.nextInt(below: 5)) - 2 }
            let w = (0..<(shape.outputChannels * shape.weightsPerOutput)).map { _ in Float(rng.nextInt(below: 5)) - 2 }
            let bias = (0..<shape.outputChannels).map { Float($0) }
            let conv = try FloatConv2D(shape: shape, weights: w, bias: trial % 5 == 4 ? nil : bias)
            let y = try conv.forward(x, batch: batch, path: path)
            // With sign bits: the same floats, and bits equal to packing them (each thread packs its rows).
            let (floats, bits) = try conv.forward(x, batch: batch, activation: trial % 2 == 0 ? .hardTanh : .none, signs: true, path: path)
            let expectedFloats = trial % 2 == 0 ? y.map { min(max($0, -1), 1) } : y
            #expect(floats == expectedFloats)
            #expect(bits == PackedBits(packing: expectedFloats, rows: batch * shape.outputHeight * shape.outputWidth,
                                       columns: shape.outputChannels), "\(shape) batch \(batch)")
            // Small integers: the products and sums are exact in float, whatever the summation order (and
            // Winograd's transforms: sums, and kernel halves).
            let n = shape.outputChannels, pixels = shape.outputHeight * shape.outputWidth
            for (index, value) in y.enumerated() {
                let b = index / (pixels * n), pixel = (index / n) % pixels, j = index % n
                let oy = pixel / shape.outputWidth, ox = pixel % shape.outputWidth
                var sum = trial % 5 == 4 ? 0 : bias[j]
                for ky in 0..<shape.kernelHeight {
                    for kx in 0..<shape.kernelWidth where !shape.isPadded(outputY: oy, outputX: ox, ky: ky, kx: kx) {
                        let iy = oy * shape.strideHeight - shape.rows.padBefore + ky, ix = ox * shape.strideWidth - shape.columns.padBefore + kx
                        for c in 0..<shape.inputChannels {
                            sum += x[b * perImage + (iy * shape.inputWidth + ix) * shape.inputChannels + c]
                                * w[((j * shape.kernelHeight + ky) * shape.kernelWidth + kx) * shape.inputChannels + c]
                        }
                    }
                }
                #expect(value == sum)
            }
        }
        #expect(direct >= 20 && winograd >= 3 && direct + winograd <= 150 + fixed.count - 10,
                "\(direct) direct and \(winograd) Winograd of \(150 + fixed.count) shapes; every path needs cases")
    }

    @Test("a padded tap contributes 0: a 1x1 image under a 3x3 same kernel sees only its centre")
    func paddedTapsCountZero() throws {
        let shape = try Conv2DShape(inputHeight: 1, inputWidth: 1, inputChannels: 2, outputChannels: 1,
                                    kernelSize: 3, stride: 1, padding: .same)
        let w: [Float] = [-1, -1, -1, -1, -1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1]
        let conv = try BinaryConv2D(shape: shape, weights: w, output: .float(multiplier: [1], bias: [0]))
        // Centre tap (1, -1) against input (1, 1): 0; the 8 padded taps would add -16 as +1 inputs.
        #expect(try conv.dotProducts(PackedBits(packing: [1, 1], rows: 1, columns: 2), batch: 1) == [0])
    }
}
