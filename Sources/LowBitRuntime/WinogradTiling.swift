import CLowBitKernels
import CLowBitRuntimeKernels
import LowBitTensor

/// How the Winograd kernels (``Int8Winograd``, ``FloatConv2D``) cut an output into square tiles (2x2
/// for F(2x2, 3x3), 4x4 for F(4x4, 3x3)) and the tiles into chunks for threads. Tile t = (b *
/// tilesHigh + ty) * tilesWide + tx covers output rows tile * ty ..< tile * (ty + 1) and the same
/// columns of tx, of image b.
struct WinogradTiling {
    let outputHeight: Int, outputWidth: Int
    /// Outputs per tile side (2 or 4), and tiles per register panel of the kernel's products.
    let tile: Int, panel: Int
    let tilesHigh: Int, tilesWide: Int
    /// Tile rows over the batch, and tiles.
    let tileRows: Int, tileCount: Int

    /// Tile rows per thread from which chunks of whole tile rows balance; fewer are split by 4-tile
    /// panels. On the int8 ResNet-20 at 2 threads this took the 14x14 blocks from ~55 to ~42 us and
    /// the 7x7 ones from ~52 to ~47 (7 and 4 tile rows; 28x28 has 14).
    static let wholeTileRowsPerThread = 4

    init(shape: Conv2DShape, batch: Int, tile: Int = 2, panel: Int = Int(LBR_WINO_PANEL_TILES)) {
        (outputHeight, outputWidth) = (shape.outputHeight, shape.outputWidth)
        (self.tile, self.panel) = (tile, panel)
        (tilesHigh, tilesWide) = ((outputHeight + tile - 1) / tile, (outputWidth + tile - 1) / tile)
        tileRows = batch * tilesHigh
        tileCount = tileRows * tilesWide
    }

    /// The first output row (pixel) of tile row u; u = tileRows gives the number of rows.
    func firstRow(_ u: Int) -> Int { u / tilesHigh * outputHeight * outputWidth + min(tile * (u % tilesHigh), outputHeight) * outputWidth }

    /// Runs `tiles` over every tile once, in parallel chunks (`work` as ``Parallel/forChunks(_:work:grain:_:)``
    /// takes it), and `rows` once for every output row, after the tiles that write it, on the thread
    /// that wrote the last of them (while the rows are in its cache):
    /// - with at least ``wholeTileRowsPerThread`` tile rows per thread, chunks of whole tile rows, each
    ///   calling `rows` for its own rows;
    /// - otherwise chunks of whole panels (with 4-tile panels, a chunk of 5 tiles would compute 8). A tile row split
    ///   between chunks is counted (`lb_atomic_add`): the chunk that adds its last tiles calls `rows` for it,
    ///   so no row waits for the end of the job (3 of a 14x14 layer's 7 tile rows did, on one thread).
    func forChunks(work: Int, tiles: (Range<Int>) -> Void, rows: (Range<Int>) -> Void) {
        if tileRows >= Self.wholeTileRowsPerThread * Parallel.threadCount {
            Parallel.forChunks(tileRows, work: work, grain: .fine) { range in
                tiles((range.lowerBound * tilesWide)..<(range.upperBound * tilesWide))
                rows(firstRow(range.lowerBound)..<firstRow(range.upperBound))
            }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: tileRows) { written in
            written.initialize(repeating: 0)
            let counts = written.baseAddress!
            Parallel.forChunks((tileCount + panel - 1) / panel, work: work, grain: .fine) { range in
                let first = range.lowerBound * panel, end = min(tileCount, range.upperBound * panel)
                tiles(first..<end)
                // The tile rows this chunk completes, passed on in runs of consecutive ones.
                let (top, bottom) = (first / tilesWide, (end - 1) / tilesWide)
                var start: Int?
                for u in top...bottom {
                    let mine = min(end, (u + 1) * tilesWide) - max(first, u * tilesWide)
                    if mine == tilesWide || lb_atomic_add(counts + u, mine) == tilesWide {
                        start = start ?? u
                    } else if let open = start {
                        rows(firstRow(open)..<firstRow(u))
                        start = nil
                    }
                }
                if let open = start { rows(firstRow(open)..<firstRow(bottom + 1)) }
            }
        }
    }

    /// The input rows (b * inputHeight + y) that tiles `range` read, for a 'same' or 'valid' 3x3
    /// window with `padTop` rows of padding above (a tile reads tile + 2 rows).
    func inputRows(_ range: Range<Int>, inputHeight h: Int, padTop: Int) -> Range<Int> {
        let (u0, u1) = (range.lowerBound / tilesWide, (range.upperBound - 1) / tilesWide)
        return (u0 / tilesHigh * h + max(0, tile * (u0 % tilesHigh) - padTop))..<(u1 / tilesHigh * h + min(h, tile * (u1 % tilesHigh) + tile + 2 - padTop))
    }
}
