#ifndef LOWBIT_RUNTIME_WINOGRAD_H
#define LOWBIT_RUNTIME_WINOGRAD_H
// What the int8 and float Winograd F(2x2, 3x3) kernels share (winograd_int8.c, winograd_f32.c): the
// transforms as macros over the element type, and the tile geometry.
#include "internal.h"

enum { WINO_POSITIONS = 16 };

/// The offset (in elements) of input (b, y, x) of tile (b, ty, tx)'s window position (i, j) in NHWC
/// input, or -1 outside the image (the zero padding).
LBR_INLINE ptrdiff_t wino_pixel_offset(const lbr_wino_geometry *g, size_t b, size_t ty, size_t tx, int i, int j) {
    const ptrdiff_t y = (ptrdiff_t)(2 * ty) + i - (ptrdiff_t)g->pad_top, x = (ptrdiff_t)(2 * tx) + j - (ptrdiff_t)g->pad_left;
    if (y < 0 || x < 0 || y >= (ptrdiff_t)g->height || x >= (ptrdiff_t)g->width) return -1;
    return (ptrdiff_t)(((b * g->height + (size_t)y) * g->width + (size_t)x) * g->channels);
}

/// V = B^T d B of 16 inputs d[i * 4 + j] (one channel), into v[position * stride].
#define WINO_INPUT_TRANSFORM(T, d, store, ADD, SUB)                                                       \
    do {                                                                                                  \
        T t_[16];                                                                                         \
        for (int j_ = 0; j_ < 4; j_++) {                                                                  \
            t_[0 + j_] = SUB(d[0 + j_], d[8 + j_]);                                                       \
            t_[4 + j_] = ADD(d[4 + j_], d[8 + j_]);                                                       \
            t_[8 + j_] = SUB(d[8 + j_], d[4 + j_]);                                                       \
            t_[12 + j_] = SUB(d[4 + j_], d[12 + j_]);                                                     \
        }                                                                                                 \
        for (int a_ = 0; a_ < 4; a_++) {                                                                  \
            store(a_ * 4 + 0, SUB(t_[a_ * 4 + 0], t_[a_ * 4 + 2]));                                       \
            store(a_ * 4 + 1, ADD(t_[a_ * 4 + 1], t_[a_ * 4 + 2]));                                       \
            store(a_ * 4 + 2, SUB(t_[a_ * 4 + 2], t_[a_ * 4 + 1]));                                       \
            store(a_ * 4 + 3, SUB(t_[a_ * 4 + 1], t_[a_ * 4 + 3]));                                       \
        }                                                                                                 \
    } while (0)

/// Y' = A^T M A of 16 tile-position values m[position] into y[r * 2 + s].
#define WINO_OUTPUT_TRANSFORM(T, m, y, ADD, SUB)                                                          \
    do {                                                                                                  \
        T r_[8];                                                                                          \
        for (int b_ = 0; b_ < 4; b_++) {                                                                  \
            r_[b_] = ADD(ADD(m[0 + b_], m[4 + b_]), m[8 + b_]);                                           \
            r_[4 + b_] = SUB(SUB(m[4 + b_], m[8 + b_]), m[12 + b_]);                                      \
        }                                                                                                 \
        for (int r2_ = 0; r2_ < 2; r2_++) {                                                               \
            y[r2_ * 2 + 0] = ADD(ADD(r_[r2_ * 4 + 0], r_[r2_ * 4 + 1]), r_[r2_ * 4 + 2]);                 \
            y[r2_ * 2 + 1] = SUB(SUB(r_[r2_ * 4 + 1], r_[r2_ * 4 + 2]), r_[r2_ * 4 + 3]);                 \
        }                                                                                                 \
    } while (0)

#define WINO_ADD_INT(a, b) ((a) + (b))
#define WINO_SUB_INT(a, b) ((a) - (b))
// int32 sums that may wrap before the exact final value: unsigned arithmetic, no undefined overflow.
#define WINO_ADD_WRAP(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define WINO_SUB_WRAP(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)))

/// The output pixel (row of the output matrix) of tile (b, ty, tx)'s output (r, s), or -1 past the
/// image's last row or column (a half-empty tile of an odd-sized output).
LBR_INLINE ptrdiff_t wino_output_pixel(const lbr_wino_geometry *g, size_t b, size_t ty, size_t tx, int r, int s) {
    const size_t oy = 2 * ty + (size_t)r, ox = 2 * tx + (size_t)s;
    if (oy >= g->out_h || ox >= g->out_w) return -1;
    return (ptrdiff_t)((b * g->out_h + oy) * g->out_w + ox);
}

/// Tile coordinates stepped through a block in order, without divisions.
typedef struct {
    size_t b, ty, tx, tiles_h, tiles_w;
} wino_cursor;

/// Tile `t` (linear over batch, tile rows, tile columns) of square tiles of `tile` outputs a side, as
/// (image, tile row, tile column).
LBR_INLINE wino_cursor wino_cursor_tiles(const lbr_wino_geometry *g, size_t t, size_t tile) {
    wino_cursor cursor = {0, 0, 0, (g->out_h + tile - 1) / tile, (g->out_w + tile - 1) / tile};
    cursor.tx = t % cursor.tiles_w;
    cursor.ty = t / cursor.tiles_w % cursor.tiles_h;
    cursor.b = t / cursor.tiles_w / cursor.tiles_h;
    return cursor;
}

/// Tile `t` of F(2x2, 3x3)'s 2x2 tiles.
LBR_INLINE wino_cursor wino_cursor_at(const lbr_wino_geometry *g, size_t t) { return wino_cursor_tiles(g, t, 2); }

LBR_INLINE void wino_cursor_next(wino_cursor *cursor) {
    if (++cursor->tx < cursor->tiles_w) return;
    cursor->tx = 0;
    if (++cursor->ty < cursor->tiles_h) return;
    cursor->ty = 0;
    cursor->b++;
}

/// Pointers to tile `at`'s 4x4 input window (position i * 4 + j) in NHWC `input` of `element`-byte
/// values, NULL in the padding: a tile inside the image takes them from its corner without
/// per-position bounds checks.
LBR_INLINE void wino_window(const lbr_wino_geometry *g, const wino_cursor *at, const void *input, size_t element,
                            const void *pixels[16]) {
    const ptrdiff_t y0 = (ptrdiff_t)(2 * at->ty) - (ptrdiff_t)g->pad_top, x0 = (ptrdiff_t)(2 * at->tx) - (ptrdiff_t)g->pad_left;
    if (y0 >= 0 && x0 >= 0 && (size_t)y0 + 4 <= g->height && (size_t)x0 + 4 <= g->width) {
        const char *corner = (const char *)input + ((at->b * g->height + (size_t)y0) * g->width + (size_t)x0) * g->channels * element;
        const size_t line = g->width * g->channels * element, pixel = g->channels * element;
        for (int p = 0; p < 16; p++) pixels[p] = corner + (size_t)(p / 4) * line + (size_t)(p % 4) * pixel;
        return;
    }
    for (int p = 0; p < 16; p++) {
        const ptrdiff_t offset = wino_pixel_offset(g, at->b, at->ty, at->tx, p / 4, p % 4);
        pixels[p] = offset < 0 ? NULL : (const char *)input + (size_t)offset * element;
    }
}

/// The products' driver, the same for int16 and float: for each tile position, register panels of
/// LBR_WINO_PANEL_TILES tiles (a short panel repeats its first tile and stores only the valid ones)
/// against 16 outputs at a time, the last 8 alone. V has `row_length` elements per tile and position,
/// M has n8; PANEL(vectors, rows, position, j, out, valid) runs one panel over outputs
/// [j, j + 8 * vectors), `vectors` a literal 1 or 2 (so the inlined panel is specialized).
#define WINO_PRODUCTS(VT, MT, v, count, row_length, m, n8, PANEL)                                              \
    for (size_t position_ = 0; position_ < WINO_POSITIONS; position_++) {                                      \
        for (size_t t_ = 0; t_ < (count); t_ += LBR_WINO_PANEL_TILES) {                                       \
            const VT *rows_[LBR_WINO_PANEL_TILES];                                                             \
            MT *out_[LBR_WINO_PANEL_TILES];                                                                    \
            const size_t valid_ = lbr_min(LBR_WINO_PANEL_TILES, (count) - t_);                                 \
            for (size_t r_ = 0; r_ < LBR_WINO_PANEL_TILES; r_++) {                                             \
                const size_t tile_ = t_ + (r_ < valid_ ? r_ : 0);                                              \
                rows_[r_] = (v) + (tile_ * WINO_POSITIONS + position_) * (row_length);                         \
                out_[r_] = (m) + (tile_ * WINO_POSITIONS + position_) * (n8);                                  \
            }                                                                                                  \
            for (size_t j_ = 0; j_ < (n8); j_ += 16) {                                                         \
                MT *at_[LBR_WINO_PANEL_TILES];                                                                 \
                for (int r_ = 0; r_ < LBR_WINO_PANEL_TILES; r_++) at_[r_] = out_[r_] + j_;                      \
                if (j_ + 16 <= (n8)) PANEL(2, rows_, position_, j_, at_, valid_);                              \
                else PANEL(1, rows_, position_, j_, at_, valid_);                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

/// The int8 kernels' transformed weights: U' = G' g G'^T of every output j and channel c of OHWI int8
/// weights `w` [n][3][3][channels], G' an integer `size` x 3 matrix (4 rows for F(2x2), 6 for F(4x4)),
/// at packed[((position * cpad / 2 + c / 2) * n8 + j) * 2 + c % 2] with position = a * size + b; the
/// pad channel and outputs are 0.
LBR_INLINE void wino_pack_int16(const int8_t *w, size_t n, size_t channels, const int (*gp)[3], int size, int16_t *packed) {
    const size_t cpad = lbr_round_up(channels, 2), n8 = lbr_round_up(n, 8);
    memset(packed, 0, (size_t)(size * size) * cpad * n8 * sizeof(int16_t));
    for (size_t j = 0; j < n; j++) {
        for (size_t c = 0; c < channels; c++) {
            int32_t g[3][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) g[ky][kx] = w[((j * 3 + (size_t)ky) * 3 + (size_t)kx) * channels + c];
            for (int a = 0; a < size; a++) {
                for (int b = 0; b < size; b++) {
                    int32_t u = 0;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) u += gp[a][ky] * gp[b][kx] * g[ky][kx];
                    packed[(((size_t)(a * size + b) * (cpad / 2) + c / 2) * n8 + j) * 2 + c % 2] = (int16_t)u;
                }
            }
        }
    }
}

/// The int8 kernels' products without SIMD (the portable twin of wino_int16_panel):
/// M[tile][position][j] = sum_c V[tile][position][c] * U'[position][c / 2][j][c % 2], int32 sums
/// wrapping modulo 2^32 (unsigned arithmetic), for `positions` tile positions.
LBR_INLINE void wino_int16_products_portable(const int16_t *v, size_t count, size_t positions, size_t cpad, const int16_t *packed,
                                             size_t n8, int32_t *m) {
    for (size_t t = 0; t < count; t++) {
        for (size_t position = 0; position < positions; position++) {
            const int16_t *vp = v + (t * positions + position) * cpad;
            const int16_t *u = packed + position * (cpad / 2) * n8 * 2;
            for (size_t j = 0; j < n8; j++) {
                int32_t sum = 0;
                for (size_t c = 0; c < cpad; c++) sum = WINO_ADD_WRAP(sum, (int32_t)vp[c] * u[((c / 2) * n8 + j) * 2 + c % 2]);
                m[(t * positions + position) * n8 + j] = sum;
            }
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// The int8 kernels' products (winograd_int8.c, winograd_int8_f4.c): M for `tiles` tiles (rows[r]:
/// the channel pairs of one tile position, int16) x `vectors` groups of 8 outputs (`u`: the weights
/// of the panel's first output, pairs x n8 x 2 int16), stored to out[r] + 8e for the first `valid`
/// rows; `tiles * vectors` <= 8 accumulators, both literals at the call so the inlined loop is
/// specialized. 4 x 2 and 2 x 4 issue the same loads per vpmaddwd; 6 x 2 (12 accumulators) ran 5-10%
/// slower on ResNet-20 shapes, as did unrolling the pairs by 4.
LBR_INLINE void wino_int16_panel(int tiles, int vectors, const int16_t *const *rows, size_t pairs, const int16_t *u, size_t n8,
                                 int32_t *const *out, size_t valid) {
    __m256i acc[8];
    for (int t = 0; t < tiles * vectors; t++) acc[t] = _mm256_setzero_si256();
    for (size_t q = 0; q < pairs; q++) {
        __m256i w[4];
        for (int e = 0; e < vectors; e++) w[e] = _mm256_loadu_si256((const __m256i *)(u + (q * n8 + (size_t)e * 8) * 2));
        for (int r = 0; r < tiles; r++) {
            // A broadcast load: the pair of channels (2 x int16) as one 32-bit lane.
            const __m256i x = _mm256_castps_si256(_mm256_broadcast_ss((const float *)(const void *)(rows[r] + 2 * q)));
            for (int e = 0; e < vectors; e++) acc[r * vectors + e] = _mm256_add_epi32(acc[r * vectors + e], _mm256_madd_epi16(x, w[e]));
        }
    }
    for (size_t r = 0; r < valid; r++)
        for (int e = 0; e < vectors; e++) _mm256_storeu_si256((__m256i *)(out[r] + e * 8), acc[r * (size_t)vectors + (size_t)e]);
}

/// 16 channels of one input pixel widened to int16, or zeros in the padding (pixel NULL).
LBR_INLINE __m256i wino_load16(const uint8_t *pixel, size_t c, int input_is_signed) {
    if (pixel == NULL) return _mm256_setzero_si256();
    const __m128i bytes = _mm_loadu_si128((const __m128i *)(pixel + c));
    return input_is_signed ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
}
LBR_AVX2_END
#endif

#endif
