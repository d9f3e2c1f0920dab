// Exact int8 3x3 convolution (stride 1) by Winograd F(4x4, 3x3) in integers.
//
// Y = A^T [U (.) V] A with V = B^T d B (a 6x6 input tile d), U = G g G^T: a 4x4 output tile from 36
// products per channel, against 64 for four F(2x2, 3x3) tiles (winograd_int8.c) and 144 direct
// (Lavin & Gray 2016). G holds quarters, sixths, twelfths and twenty-fourths; in integers:
//   - G' = diag(s) G with s = (4, 6, 6, 24, 24, 1) has integer rows (1,0,0), (-1,-1,-1), (-1,1,-1),
//     (1,2,4), (1,-2,4), (0,0,1), so U' = G' g G'^T = (s s^T) (.) U with |U'| <= 7 * 7 * 128 = 6272: int16.
//   - V: |V| <= 10 * 10 * 255 = 25500 for uint8 inputs (12800 for int8): int16. Each step wraps
//     modulo 2^16 at worst and the final value fits, so int16 arithmetic gives it exactly.
//   - M' = sum_c U' V = (s s^T) (.) M: vpmaddwd pairs (2 * 6272 * 25500 < 2^31), int32 sums modulo 2^32.
//   - The output transform with A' = diag(24 / s) A, integer columns: A'^T M' A' = 576 A^T M A = 576 acc,
//     modulo 2^32. 576 = 64 * 9, so (576 acc mod 2^32) >> 6 = 9 acc mod 2^26, and multiplying by
//     9^-1 mod 2^32 (954437177) gives acc mod 2^26, sign-extended from 26 bits: exact while |acc| < 2^25.
// The caller (Int8Winograd.swift) takes this kernel only when max_j sum |w_j| times the largest
// |code| is below 2^25, which the int8 ResNet-20's layers pass by 5.5x or more.
//
// Layouts (per block of LBR_WINO4_BLOCK tiles, in the caller's scratch): V [tile][36][cpad] int16,
// U' [36][cpad / 2][n8][2] int16, M' [tile][36][n8] int32, as winograd_int8.c with 36 positions.
#include "winograd.h"

enum { W4_POSITIONS = 36, W4_INVERSE_OF_9 = 954437177 };

/// One dimension of the input transform: v[0..5] = B^T (d0..d5), with
/// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
#define W4_INPUT_1D(T, d0, d1, d2, d3, d4, d5, v, ADD, SUB, SHL)                                        \
    do {                                                                                              \
        const T a_ = SUB(d4, d2), b_ = SUB(d3, d1);                                                   \
        v[0] = ADD(SHL(SUB(d0, d2), 2), a_);                                                          \
        v[1] = SUB(ADD(d3, d4), SHL(ADD(d1, d2), 2));                                                 \
        v[2] = ADD(SUB(d4, d3), SHL(SUB(d1, d2), 2));                                                 \
        v[3] = ADD(a_, SHL(b_, 1));                                                                   \
        v[4] = SUB(a_, SHL(b_, 1));                                                                   \
        v[5] = ADD(SHL(SUB(d1, d3), 2), SUB(d5, d3));                                                 \
    } while (0)

/// One dimension of the output transform: y[0..3] = A'^T (m0..m5), with A'^T = A^T diag(6, 4, 4, 1, 1, 24)
/// = [6 4 4 1 1 0; 0 4 -4 2 -2 0; 0 4 4 4 4 0; 0 4 -4 8 -8 24].
#define W4_OUTPUT_1D(T, m0, m1, m2, m3, m4, m5, y, ADD, SUB, SHL)                                       \
    do {                                                                                              \
        const T p_ = ADD(m1, m2), q_ = SUB(m1, m2), r_ = ADD(m3, m4), s_ = SUB(m3, m4);               \
        y[0] = ADD(ADD(ADD(SHL(m0, 2), SHL(m0, 1)), SHL(p_, 2)), r_);                                 \
        y[1] = ADD(SHL(q_, 2), SHL(s_, 1));                                                           \
        y[2] = SHL(ADD(p_, r_), 2);                                                                   \
        y[3] = ADD(ADD(SHL(q_, 2), SHL(s_, 3)), ADD(SHL(m5, 4), SHL(m5, 3)));                         \
    } while (0)

// Portable arithmetic: exact int32 for the input transform (|values| <= 25500), uint32 (wrapping)
// for the output transform.
#define W4_ADD(a, b) ((a) + (b))
#define W4_SUB(a, b) ((a) - (b))
#define W4_MUL_POW2(a, k) ((a) * (1 << (k)))
#define W4_SHL_U(a, k) ((a) << (k))

/// acc from 576 acc modulo 2^32 (see the file comment).
LBR_INLINE int32_t w4_recover(uint32_t z) {
    const uint32_t t = (z >> 6) * (uint32_t)W4_INVERSE_OF_9;
    return (int32_t)(t << 6) >> 6;
}

size_t lbr_wino4_panel_tiles(size_t n) { return lbr_round_up(n, 8) % 32 == 0 ? 2 : 4; }

size_t lbr_wino4_packed_weight_count(size_t n, size_t channels) {
    return W4_POSITIONS * lbr_round_up(channels, 2) * lbr_round_up(n, 8);
}

size_t lbr_wino4_scratch_bytes(size_t n, size_t channels) {
    return LBR_WINO4_BLOCK * W4_POSITIONS * (lbr_round_up(channels, 2) * sizeof(int16_t) + lbr_round_up(n, 8) * sizeof(int32_t));
}

void lbr_wino4_pack_weights(const int8_t *w, size_t n, size_t channels, int16_t *packed) {
    static const int g4[6][3] = {{1, 0, 0}, {-1, -1, -1}, {-1, 1, -1}, {1, 2, 4}, {1, -2, 4}, {0, 0, 1}};   // diag(s) G
    wino_pack_int16(w, n, channels, g4, 6, packed);
}

// ---- Tile geometry: 4x4 output tiles, 6x6 input windows ------------------------------------------

/// Pointers to the tile's 6x6 input window (position i * 6 + j), NULL in the padding; a window inside
/// the image takes them from its corner without per-position bounds checks.
static void w4_window(const lbr_wino_geometry *g, const wino_cursor *at, const uint8_t *input, const uint8_t *pixels[W4_POSITIONS]) {
    const ptrdiff_t y0 = (ptrdiff_t)(4 * at->ty) - (ptrdiff_t)g->pad_top, x0 = (ptrdiff_t)(4 * at->tx) - (ptrdiff_t)g->pad_left;
    if (y0 >= 0 && x0 >= 0 && (size_t)y0 + 6 <= g->height && (size_t)x0 + 6 <= g->width) {
        const uint8_t *corner = input + ((at->b * g->height + (size_t)y0) * g->width + (size_t)x0) * g->channels;
        const size_t line = g->width * g->channels;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) pixels[i * 6 + j] = corner + (size_t)i * line + (size_t)j * g->channels;
        return;
    }
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 6; j++) {
            const ptrdiff_t y = y0 + i, x = x0 + j;
            const int inside = y >= 0 && x >= 0 && y < (ptrdiff_t)g->height && x < (ptrdiff_t)g->width;
            pixels[i * 6 + j] = inside ? input + ((at->b * g->height + (size_t)y) * g->width + (size_t)x) * g->channels : NULL;
        }
    }
}

/// Rows of acc for the tile's 16 outputs (r * 4 + s), NULL past the image's last row or column.
static void w4_output_rows(const lbr_wino_geometry *g, const wino_cursor *at, int32_t *acc, size_t ldc, int32_t *rows[16]) {
    if (4 * at->ty + 4 <= g->out_h && 4 * at->tx + 4 <= g->out_w) {
        int32_t *corner = acc + ((at->b * g->out_h + 4 * at->ty) * g->out_w + 4 * at->tx) * ldc;
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) rows[r * 4 + s] = corner + ((size_t)r * g->out_w + (size_t)s) * ldc;
        return;
    }
    for (int r = 0; r < 4; r++) {
        for (int s = 0; s < 4; s++) {
            const size_t oy = 4 * at->ty + (size_t)r, ox = 4 * at->tx + (size_t)s;
            rows[r * 4 + s] = oy < g->out_h && ox < g->out_w ? acc + ((at->b * g->out_h + oy) * g->out_w + ox) * ldc : NULL;
        }
    }
}

/// V of channel c of one tile (zero for the pad channel c >= channels) into vt[position * cpad + c].
static void w4_input_channel(const uint8_t *const pixels[W4_POSITIONS], size_t c, size_t channels, int input_is_signed,
                             int16_t *vt, size_t cpad) {
    int32_t d[W4_POSITIONS], t[W4_POSITIONS];
    for (int p = 0; p < W4_POSITIONS; p++) {
        d[p] = pixels[p] == NULL || c >= channels ? 0 : input_is_signed ? (int32_t)(int8_t)pixels[p][c] : (int32_t)pixels[p][c];
    }
    for (int j = 0; j < 6; j++) {
        int32_t v[6];
        W4_INPUT_1D(int32_t, d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j], v, W4_ADD, W4_SUB, W4_MUL_POW2);
        for (int a = 0; a < 6; a++) t[a * 6 + j] = v[a];
    }
    for (int a = 0; a < 6; a++) {
        int32_t v[6];
        W4_INPUT_1D(int32_t, t[a * 6], t[a * 6 + 1], t[a * 6 + 2], t[a * 6 + 3], t[a * 6 + 4], t[a * 6 + 5], v, W4_ADD, W4_SUB,
                    W4_MUL_POW2);
        for (int b = 0; b < 6; b++) vt[(size_t)(a * 6 + b) * cpad + c] = (int16_t)v[b];
    }
}

/// The output transform of one tile and output j from its 36 values mv, stored through rows.
static void w4_output_one(const uint32_t mv[W4_POSITIONS], int32_t *const rows[16], size_t j) {
    uint32_t r[24];
    for (int b = 0; b < 6; b++) {
        uint32_t y[4];
        W4_OUTPUT_1D(uint32_t, mv[b], mv[6 + b], mv[12 + b], mv[18 + b], mv[24 + b], mv[30 + b], y, W4_ADD, W4_SUB, W4_SHL_U);
        for (int i = 0; i < 4; i++) r[i * 6 + b] = y[i];
    }
    for (int i = 0; i < 4; i++) {
        uint32_t y[4];
        W4_OUTPUT_1D(uint32_t, r[i * 6], r[i * 6 + 1], r[i * 6 + 2], r[i * 6 + 3], r[i * 6 + 4], r[i * 6 + 5], y, W4_ADD, W4_SUB,
                     W4_SHL_U);
        for (int s = 0; s < 4; s++) {
            if (rows[i * 4 + s] != NULL) rows[i * 4 + s][j] = w4_recover(y[s]);
        }
    }
}

static void w4_block_portable(const uint8_t *input, int input_is_signed, const lbr_wino_geometry *g, size_t first, size_t count,
                              const int16_t *packed, size_t n, int16_t *v, int32_t *m, int32_t *acc, size_t ldc) {
    const size_t channels = g->channels, cpad = lbr_round_up(channels, 2), n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_tiles(g, first, 4);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        const uint8_t *pixels[W4_POSITIONS];
        w4_window(g, &at, input, pixels);
        for (size_t c = 0; c < cpad; c++) w4_input_channel(pixels, c, channels, input_is_signed, v + t * W4_POSITIONS * cpad, cpad);
    }
    wino_int16_products_portable(v, count, W4_POSITIONS, cpad, packed, n8, m);
    at = wino_cursor_tiles(g, first, 4);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        int32_t *rows[16];
        w4_output_rows(g, &at, acc, ldc, rows);
        for (size_t j = 0; j < n; j++) {
            uint32_t mv[W4_POSITIONS];
            for (int position = 0; position < W4_POSITIONS; position++) mv[position] = (uint32_t)m[(t * W4_POSITIONS + (size_t)position) * n8 + j];
            w4_output_one(mv, rows, j);
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
#define W4_SHL16(a, k) _mm256_slli_epi16(a, k)
#define W4_SHL32(a, k) _mm256_slli_epi32(a, k)

static void w4_input_avx2(const uint8_t *input, int input_is_signed, const lbr_wino_geometry *g, size_t first, size_t count,
                          int16_t *v) {
    const size_t channels = g->channels, cpad = lbr_round_up(channels, 2), vector_channels = channels / 16 * 16;
    wino_cursor at = wino_cursor_tiles(g, first, 4);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        const uint8_t *pixels[W4_POSITIONS];
        w4_window(g, &at, input, pixels);
        int16_t *vt = v + t * W4_POSITIONS * cpad;
        for (size_t c = 0; c < vector_channels; c += 16) {
            __m256i columns[W4_POSITIONS];
            for (int j = 0; j < 6; j++) {
                __m256i d[6], out[6];
                for (int i = 0; i < 6; i++) d[i] = wino_load16(pixels[i * 6 + j], c, input_is_signed);
                W4_INPUT_1D(__m256i, d[0], d[1], d[2], d[3], d[4], d[5], out, _mm256_add_epi16, _mm256_sub_epi16, W4_SHL16);
                for (int a = 0; a < 6; a++) columns[a * 6 + j] = out[a];
            }
            for (int a = 0; a < 6; a++) {
                __m256i out[6];
                const __m256i *row = columns + a * 6;
                W4_INPUT_1D(__m256i, row[0], row[1], row[2], row[3], row[4], row[5], out, _mm256_add_epi16, _mm256_sub_epi16, W4_SHL16);
                for (int b = 0; b < 6; b++) _mm256_storeu_si256((__m256i *)(vt + (size_t)(a * 6 + b) * cpad + c), out[b]);
            }
        }
        // The last channels % 16, and the pad channel.
        for (size_t c = vector_channels; c < cpad; c++) w4_input_channel(pixels, c, channels, input_is_signed, vt, cpad);
    }
}

/// M' for every tile position: panels of 2 tiles x 32 outputs when n8 is a multiple of 32, else 4
/// tiles x 16 (and 8); a short panel repeats its first tile and stores only the valid ones.
static void w4_products_avx2(const int16_t *v, size_t count, size_t cpad, const int16_t *packed, size_t n8, int32_t *m) {
    const size_t pairs = cpad / 2, panel = n8 % 32 == 0 ? 2 : 4;
    for (size_t position = 0; position < W4_POSITIONS; position++) {
        const int16_t *u = packed + position * pairs * n8 * 2;
        for (size_t t = 0; t < count; t += panel) {
            const size_t valid = lbr_min(panel, count - t);
            const int16_t *rows[4];
            int32_t *out[4];
            for (size_t r = 0; r < panel; r++) {
                const size_t tile = t + (r < valid ? r : 0);
                rows[r] = v + (tile * W4_POSITIONS + position) * cpad;
                out[r] = m + (tile * W4_POSITIONS + position) * n8;
            }
            for (size_t j = 0; j < n8; j += panel == 2 ? 32 : 16) {
                int32_t *at[4];
                for (size_t r = 0; r < panel; r++) at[r] = out[r] + j;
                if (panel == 2) wino_int16_panel(2, 4, rows, pairs, u + j * 2, n8, at, valid);
                else if (j + 16 <= n8) wino_int16_panel(4, 2, rows, pairs, u + j * 2, n8, at, valid);
                else wino_int16_panel(4, 1, rows, pairs, u + j * 2, n8, at, valid);
            }
        }
    }
}

LBR_INLINE __m256i w4_recover8(__m256i z) {
    const __m256i t = _mm256_mullo_epi32(_mm256_srli_epi32(z, 6), _mm256_set1_epi32(W4_INVERSE_OF_9));
    return _mm256_srai_epi32(_mm256_slli_epi32(t, 6), 6);
}

static void w4_output_avx2(const lbr_wino_geometry *g, size_t first, size_t count, const int32_t *m, size_t n, int32_t *acc,
                           size_t ldc) {
    const size_t n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_tiles(g, first, 4);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        int32_t *rows[16];
        w4_output_rows(g, &at, acc, ldc, rows);
        const int32_t *mt = m + t * W4_POSITIONS * n8;
        for (size_t j = 0; j < n8; j += 8) {
            __m256i partial[24];
            for (int b = 0; b < 6; b++) {
                __m256i col[6], y[4];
                for (int a = 0; a < 6; a++) col[a] = _mm256_loadu_si256((const __m256i *)(mt + (size_t)(a * 6 + b) * n8 + j));
                W4_OUTPUT_1D(__m256i, col[0], col[1], col[2], col[3], col[4], col[5], y, _mm256_add_epi32, _mm256_sub_epi32, W4_SHL32);
                for (int i = 0; i < 4; i++) partial[i * 6 + b] = y[i];
            }
            for (int i = 0; i < 4; i++) {
                __m256i y[4];
                const __m256i *row = partial + i * 6;
                W4_OUTPUT_1D(__m256i, row[0], row[1], row[2], row[3], row[4], row[5], y, _mm256_add_epi32, _mm256_sub_epi32, W4_SHL32);
                for (int s = 0; s < 4; s++) {
                    int32_t *dst = rows[i * 4 + s];
                    if (dst == NULL) continue;
                    const __m256i value = w4_recover8(y[s]);
                    if (j + 8 <= n) {
                        _mm256_storeu_si256((__m256i *)(dst + j), value);
                    } else {
                        int32_t lanes[8];
                        _mm256_storeu_si256((__m256i *)lanes, value);
                        memcpy(dst + j, lanes, (n - j) * sizeof(int32_t));
                    }
                }
            }
        }
    }
}
LBR_AVX2_END
#endif

void lbr_wino4_conv(lbr_isa isa, const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t tile_begin,
                    size_t tile_end, const int16_t *packed, size_t n, int32_t *acc, size_t ldc, void *scratch) {
    const size_t cpad = lbr_round_up(g->channels, 2), n8 = lbr_round_up(n, 8);
    int16_t *v = scratch;
    int32_t *m = (int32_t *)(void *)(v + LBR_WINO4_BLOCK * W4_POSITIONS * cpad);
    for (size_t first = tile_begin; first < tile_end; first += LBR_WINO4_BLOCK) {
        const size_t count = lbr_min(LBR_WINO4_BLOCK, tile_end - first);
#if LBR_HAVE_AVX2
        if (lbr_use_avx2(isa)) {
            w4_input_avx2(input, input_is_signed, g, first, count, v);
            w4_products_avx2(v, count, cpad, packed, n8, m);
            w4_output_avx2(g, first, count, m, n, acc, ldc);
            continue;
        }
#endif
        (void)isa;
        w4_block_portable(input, input_is_signed, g, first, count, packed, n, v, m, acc, ldc);
    }
}
