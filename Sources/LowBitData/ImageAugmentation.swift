import LowBitTensor

/// Training-time augmentation of NHWC images: a random crop after zero padding, and a random
/// horizontal flip (the standard CIFAR recipe of He et al. 2016: pad 4, crop 32 x 32, flip).
///
/// For an `H x W` image, padding `P`, crop offsets `dy, dx` drawn uniformly from `0...2P` and a
/// flip bit `f`, the output pixel is
/// ```
/// out(i, j) = in(i + dy - P, j' + dx - P),  j' = f ? W - 1 - j : j
/// ```
/// and zero where that source lies outside the image. `dy = dx = P` with `f = false` is the
/// identity. ``DataLoader`` draws `dy, dx, f` from a seeded generator per sample.
///
/// ```swift
/// let loader = try DataLoader(train, batchSize: 128, seed: 1, augmentation: .cifar)
/// let image = Tensor(shape: [3, 3, 1], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
/// ImageAugmentation(padding: 1).transformed(image, offsetY: 0, offsetX: 2, flip: false).data
/// // [0, 0, 0,  2, 3, 0,  5, 6, 0]: shifted down one row and left one column
/// ```
public struct ImageAugmentation: Codable, Sendable, Equatable {
    /// Zero padding on every side before cropping back to `H x W`; 0 disables the crop.
    public var padding: Int
    /// Flip left-right with probability 1/2.
    public var horizontalFlip: Bool

    public init(padding: Int = 0, horizontalFlip: Bool = false) {
        precondition(padding >= 0, "padding must not be negative")
        self.padding = padding
        self.horizontalFlip = horizontalFlip
    }

    /// Pad 4, random crop, random flip: the usual CIFAR-10 training augmentation.
    public static let cifar = ImageAugmentation(padding: 4, horizontalFlip: true)

    /// One sample's random choices.
    struct Draw: Equatable {
        var offsetY: Int
        var offsetX: Int
        var flip: Bool
    }

    func draw(_ generator: inout SeededGenerator) -> Draw {
        let span = 2 * padding + 1
        let offsetY = padding > 0 ? generator.nextInt(below: span) : 0
        let offsetX = padding > 0 ? generator.nextInt(below: span) : 0
        let flip = horizontalFlip && generator.next() & 1 == 1
        return Draw(offsetY: offsetY, offsetX: offsetX, flip: flip)
    }

    /// `image` (`[H, W, C]`) cropped at `(offsetY, offsetX)` of its zero-padded version, then
    /// flipped if asked: the deterministic core of the augmentation, for tests and for
    /// test-time augmentation. Offsets lie in `0...2 * padding`.
    public func transformed(_ image: Tensor, offsetY: Int, offsetX: Int, flip: Bool) -> Tensor {
        precondition(image.rank == 3, "transformed expects one [H, W, C] image, got \(image.shape)")
        precondition((0...2 * padding).contains(offsetY) && (0...2 * padding).contains(offsetX),
                     "offsets must lie in 0...\(2 * padding)")
        let (height, width, channels) = (image.shape[0], image.shape[1], image.shape[2])
        let draw = Draw(offsetY: offsetY, offsetX: offsetX, flip: flip)
        return Tensor(shape: image.shape, unsafeUninitialized: { output in
            image.data.withUnsafeBufferPointer { input in
                apply(draw, from: input.baseAddress!, to: output.baseAddress!, height: height, width: width, channels: channels)
            }
        })
    }

    /// Writes one transformed `H x W x C` image: whole rows with one copy each when not flipped,
    /// pixel by pixel (C floats) when flipped.
    func apply(
        _ draw: Draw, from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>,
        height: Int, width: Int, channels: Int
    ) {
        let shiftY = draw.offsetY - padding, shiftX = draw.offsetX - padding
        let rowSize = width * channels
        // Output columns j whose source column j + shiftX (before the flip) lies inside the image.
        let firstColumn = max(0, -shiftX), endColumn = min(width, width - shiftX)
        for i in 0..<height {
            let out = destination + i * rowSize
            let sourceRow = i + shiftY
            guard sourceRow >= 0, sourceRow < height, firstColumn < endColumn else {
                out.initialize(repeating: 0, count: rowSize)
                continue
            }
            let input = source + sourceRow * rowSize
            if draw.flip {
                for j in 0..<width {
                    let column = width - 1 - j + shiftX
                    if column >= 0 && column < width {
                        (out + j * channels).initialize(from: input + column * channels, count: channels)
                    } else {
                        (out + j * channels).initialize(repeating: 0, count: channels)
                    }
                }
            } else {
                out.initialize(repeating: 0, count: firstColumn * channels)
                (out + firstColumn * channels).initialize(from: input + (firstColumn + shiftX) * channels,
                                                          count: (endColumn - firstColumn) * channels)
                (out + endColumn * channels).initialize(repeating: 0, count: (width - endColumn) * channels)
            }
        }
    }
}
