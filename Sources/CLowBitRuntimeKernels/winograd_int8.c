// Exact int8 3x3 convolution (stride 1) by Winograd F(2x2, 3x3) in integers.
//
// Y = A^T [U (.) V] A with V = B^T d B (a 4x4 input tile d) and U = G g G^T (the 3x3 kernel g) gives a
// 2x2 output tile from 16 products per channel instead of 36 (Lavin & Gray 2016). G holds halves, so
// the kernel takes U' = G' g G'^T with G' = 2G, all integers: U' = 4U, and the output Y' = 4Y is
// shifted right by 2 at the end — exact, since every step is an integer sum or product:
//   - V: sums of 4 inputs with signs, |V| <= 510 (uint8) or 512 (int8): int16.
//   - U': |U'| <= 9 * 128 = 1152 (row sums of |G'| are 2, 3, 3, 2): int16.
//   - M = sum_c U' V per tile position: vpmaddwd pairs (2 * 1152 * 512 < 2^31), int32 sums.
//   - Y' = A^T M A, sums of 9 M with signs. Every step wraps modulo 2^32 at worst, and the final Y'
//     = 4 * acc fits in int32 while 36 * 255 * 128 * channels < 2^31 (channels <= 1827, checked by
//     the caller), so Y' is exact and Y' >> 2 is acc.
// On the AVX2 path the products are vpmaddwd (16 multiply-adds per instruction, the rate of the
// vpmaddubsw + vpmaddwd pair of lbr_i8gemm_small on 8-bit inputs), 2.25x fewer of them, on full-range
// inputs without a high-bit correction (docs/RUNTIME.md, "Winograd int8 convolution").
//
// Layouts (per block of LBR_WINO_BLOCK tiles, in the caller's scratch):
//   V [tile][16][cpad] int16, cpad = channels rounded up to 2 (the extra channel is 0);
//   U' [16][cpad / 2][n8][2] int16 (lbr_wino_pack_weights), n8 = n rounded up to 8: one 256-bit load is
//      8 outputs x 2 channels, against a broadcast pair of V's channels;
//   M [tile][16][n8] int32.
#include "winograd.h"

size_t lbr_wino_packed_weight_count(size_t n, size_t channels) {
    return WINO_POSITIONS * lbr_round_up(channels, 2) * lbr_round_up(n, 8);
}

size_t lbr_wino_scratch_bytes(size_t n, size_t channels) {
    return LBR_WINO_BLOCK * WINO_POSITIONS * (lbr_round_up(channels, 2) * sizeof(int16_t) + lbr_round_up(n, 8) * sizeof(int32_t));
}

void lbr_wino_pack_weights(const int8_t *w, size_t n, size_t channels, int16_t *packed) {
    static const int g2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};   // G' = 2G
    wino_pack_int16(w, n, channels, g2, 4, packed);
}

/// V of channel c of one tile (zero for the pad channel c >= channels) into vt[position * cpad + c].
static void wino_input_channel(const uint8_t *const pixels[16], size_t c, size_t channels, int input_is_signed, int16_t *vt,
                               size_t cpad) {
    int32_t d[16];
    for (int p = 0; p < 16; p++) {
        d[p] = pixels[p] == NULL || c >= channels ? 0 : input_is_signed ? (int32_t)(int8_t)pixels[p][c] : (int32_t)pixels[p][c];
    }
#define WINO_STORE_SCALAR(position, value) (vt[(size_t)(position) * cpad + c] = (int16_t)(value))
    WINO_INPUT_TRANSFORM(int32_t, d, WINO_STORE_SCALAR, WINO_ADD_INT, WINO_SUB_INT);
#undef WINO_STORE_SCALAR
}

static void wino_block_portable(const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t first, size_t count,
                                const int16_t *packed, size_t n, int16_t *v, int32_t *m, int32_t *acc, size_t ldc) {
    const size_t channels = g->channels, cpad = lbr_round_up(channels, 2), n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        int16_t *vt = v + t * WINO_POSITIONS * cpad;
        const uint8_t *pixels[16];
        wino_window(g, &at, input, 1, (const void **)pixels);
        for (size_t c = 0; c < cpad; c++) wino_input_channel(pixels, c, channels, input_is_signed, vt, cpad);
    }
    wino_int16_products_portable(v, count, WINO_POSITIONS, cpad, packed, n8, m);
    at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        for (size_t j = 0; j < n; j++) {
            int32_t mv[16], y[4];
            for (int position = 0; position < 16; position++) mv[position] = m[(t * WINO_POSITIONS + (size_t)position) * n8 + j];
            WINO_OUTPUT_TRANSFORM(int32_t, mv, y, WINO_ADD_WRAP, WINO_SUB_WRAP);
            for (int o = 0; o < 4; o++) {
                const ptrdiff_t pixel = wino_output_pixel(g, at.b, at.ty, at.tx, o / 2, o % 2);
                if (pixel >= 0) acc[(size_t)pixel * ldc + j] = y[o] >> 2;   // exact: y is 4 * acc (arithmetic shift of a multiple of 4)
            }
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
static void wino_input_avx2(const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t first, size_t count,
                            int16_t *v) {
    const size_t channels = g->channels, cpad = lbr_round_up(channels, 2), vector_channels = channels / 16 * 16;
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        const uint8_t *pixels[16];
        wino_window(g, &at, input, 1, (const void **)pixels);
        int16_t *vt = v + t * WINO_POSITIONS * cpad;
        for (size_t c = 0; c < vector_channels; c += 16) {
            __m256i d[16];
            for (int p = 0; p < 16; p++) d[p] = wino_load16(pixels[p], c, input_is_signed);
#define WINO_STORE_VECTOR(position, value) _mm256_storeu_si256((__m256i *)(vt + (size_t)(position) * cpad + c), value)
            WINO_INPUT_TRANSFORM(__m256i, d, WINO_STORE_VECTOR, _mm256_add_epi16, _mm256_sub_epi16);
#undef WINO_STORE_VECTOR
        }
        // The last channels % 16, and the pad channel.
        for (size_t c = vector_channels; c < cpad; c++) wino_input_channel(pixels, c, channels, input_is_signed, vt, cpad);
    }
}

static void wino_products_avx2(const int16_t *v, size_t count, size_t cpad, const int16_t *packed, size_t n8, int32_t *m) {
    const size_t pairs = cpad / 2;
#define WINO_INT16_PANEL(vectors, rows, position, j, at, valid) \
    wino_int16_panel(LBR_WINO_PANEL_TILES, vectors, rows, pairs, packed + ((position) * pairs * n8 + (j)) * 2, n8, at, valid)
    WINO_PRODUCTS(int16_t, int32_t, v, count, cpad, m, n8, WINO_INT16_PANEL)
#undef WINO_INT16_PANEL
}

static void wino_output_avx2(const lbr_wino_geometry *g, size_t first, size_t count, const int32_t *m, size_t n, int32_t *acc,
                             size_t ldc) {
    const size_t n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        int32_t *rows[4];
        const size_t oy = 2 * at.ty, ox = 2 * at.tx;
        if (oy + 2 <= g->out_h && ox + 2 <= g->out_w) {
            rows[0] = acc + ((at.b * g->out_h + oy) * g->out_w + ox) * ldc;
            rows[1] = rows[0] + ldc;
            rows[2] = rows[0] + g->out_w * ldc;
            rows[3] = rows[2] + ldc;
        } else {
            for (int r = 0; r < 2; r++) {
                for (int s = 0; s < 2; s++) {
                    const ptrdiff_t pixel = wino_output_pixel(g, at.b, at.ty, at.tx, r, s);
                    rows[r * 2 + s] = pixel < 0 ? NULL : acc + (size_t)pixel * ldc;
                }
            }
        }
        for (size_t j = 0; j < n8; j += 8) {
            __m256i mv[16], y[4];
            for (size_t position = 0; position < WINO_POSITIONS; position++) {
                mv[position] = _mm256_loadu_si256((const __m256i *)(m + (t * WINO_POSITIONS + position) * n8 + j));
            }
            WINO_OUTPUT_TRANSFORM(__m256i, mv, y, _mm256_add_epi32, _mm256_sub_epi32);   // wrapping, as intended
            for (int o = 0; o < 4; o++) {
                if (rows[o] == NULL) continue;
                const __m256i value = _mm256_srai_epi32(y[o], 2);
                if (j + 8 <= n) {
                    _mm256_storeu_si256((__m256i *)(rows[o] + j), value);
                } else {
                    int32_t lanes[8];
                    _mm256_storeu_si256((__m256i *)lanes, value);
                    memcpy(rows[o] + j, lanes, (n - j) * sizeof(int32_t));
                }
            }
        }
    }
}

static void wino_block_avx2(const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t first, size_t count,
                            const int16_t *packed, size_t n, int16_t *v, int32_t *m, int32_t *acc, size_t ldc) {
    const size_t cpad = lbr_round_up(g->channels, 2), n8 = lbr_round_up(n, 8);
    wino_input_avx2(input, input_is_signed, g, first, count, v);
    wino_products_avx2(v, count, cpad, packed, n8, m);
    wino_output_avx2(g, first, count, m, n, acc, ldc);
}
LBR_AVX2_END
#endif

void lbr_wino_conv(lbr_isa isa, const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t tile_begin,
                   size_t tile_end, const int16_t *packed, size_t n, int32_t *acc, size_t ldc, void *scratch) {
    const size_t cpad = lbr_round_up(g->channels, 2);
    int16_t *v = scratch;
    int32_t *m = (int32_t *)(void *)(v + LBR_WINO_BLOCK * WINO_POSITIONS * cpad);
    for (size_t first = tile_begin; first < tile_end; first += LBR_WINO_BLOCK) {
        const size_t count = lbr_min(LBR_WINO_BLOCK, tile_end - first);
#if LBR_HAVE_AVX2
        if (lbr_use_avx2(isa)) {
            wino_block_avx2(input, input_is_signed, g, first, count, packed, n, v, m, acc, ldc);
            continue;
        }
#endif
        (void)isa;
        wino_block_portable(input, input_is_signed, g, first, count, packed, n, v, m, acc, ldc);
    }
}
