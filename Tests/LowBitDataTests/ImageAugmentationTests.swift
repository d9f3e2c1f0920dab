import LowBitData
import LowBitTensor
import Testing

struct ImageAugmentationTests {
    /// 1 2 3 / 4 5 6 / 7 8 9, one channel.
    static let image = Tensor(shape: [3, 3, 1], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])

    /// Expected outputs written out by hand from out(i, j) = in(i + dy - 1, j' + dx - 1).
    @Test(arguments: [
        (1, 1, false, [Float(1), 2, 3, 4, 5, 6, 7, 8, 9]),   // centre crop: identity
        (0, 0, false, [0, 0, 0, 0, 1, 2, 0, 4, 5]),         // content moves down-right
        (2, 2, false, [5, 6, 0, 8, 9, 0, 0, 0, 0]),         // content moves up-left
        (0, 2, false, [0, 0, 0, 2, 3, 0, 5, 6, 0]),
        (1, 1, true, [3, 2, 1, 6, 5, 4, 9, 8, 7]),          // mirror only
        (0, 2, true, [0, 0, 0, 0, 3, 2, 0, 6, 5]),          // crop, then mirror
    ])
    func cropWithPaddingOneAndFlipOnA3x3Image(offsetY: Int, offsetX: Int, flip: Bool, expected: [Float]) {
        let output = ImageAugmentation(padding: 1, horizontalFlip: true)
            .transformed(Self.image, offsetY: offsetY, offsetX: offsetX, flip: flip)
        #expect(output.data == expected)
    }

    @Test func flipMovesWholePixelsAndKeepsChannelOrder() {
        let image = Tensor(shape: [1, 2, 2], data: [1, 2, 3, 4])
        #expect(ImageAugmentation(horizontalFlip: true).transformed(image, offsetY: 0, offsetX: 0, flip: true).data == [3, 4, 1, 2])
    }

    @Test func paddingAsLargeAsTheImageCanCropToAllZeros() {
        let output = ImageAugmentation(padding: 3).transformed(Self.image, offsetY: 0, offsetX: 6, flip: false)
        #expect(output.data == [Float](repeating: 0, count: 9))
    }
}
