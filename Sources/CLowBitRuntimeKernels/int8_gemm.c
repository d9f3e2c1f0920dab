// Int8 GEMM: acc[m][j] = sum_k a[m][k] * w[j][k], uint8 or int8 activations, int8 weights,
// exact int32 accumulation.
//
// Exactness. vpmaddubsw (u8 x s8, pairs added into int16) saturates: 255 * 127 * 2 = 64770 > 32767,
// and the sign trick that avoids it (|a| x sign(w, a)) needs an extra vpsignb/vpabsb per multiply,
// which shares the multiply ports here and measured slower. So both operands are multiplied as int16
// by vpmaddwd, which multiplies 16 pairs and adds adjacent products into int32: a pair sum is at
// most 2 * 255 * 128 = 65280, far inside int32, and the sum over k stays exact for
// k <= 2^31 / (255 * 128) = 65793 (Int8GEMM.swift checks).
//
// Layouts. Weights: column tiles of 16 outputs, [n / 16][k / 2][16][2] int8, so one 128-bit load
// sign-extended to int16 (vpmovsxbw) holds 2 consecutive k for 8 outputs. Stored as int16 they were
// twice the bytes: the same speed at 1024^3 (the extension issues beside the multiplies), but a
// batch-1 dense layer streams its weights once, and at half the bytes they stay in L2.
// Activations: panels of 6 rows, [k / 2][6][2] int16, widened once per call; a 32-bit broadcast
// gives one row's k pair. The 6 x 16 register tile keeps 12 accumulators: each pair of weight loads
// (and their sign extensions) serves 6 rows, 10% faster than 4 x 16 at 1024^3 (156 against 142 Gop/s
// in a C harness, the same as the instruction ceiling's 6 x 16 against 4 x 16). A single row (batch 1)
// has its own 1 x 16 tile over two k pairs at a time instead of computing five rows of zeros.
// Measured at 1024^3 (docs/BENCHMARKS.md): widening all panels first and sweeping
// them past each weight tile over the full k beat k/n cache blocking with per-block repacking by
// about 10%, and pre-broadcasting the panel (loads instead of vpbroadcastd) was 5% slower.
//
// Zero points are not handled here: with symmetric weights, sum (a - z_a) w = sum a w - z_a sum w,
// and Int8GEMM.swift folds -z_a * sum_k w[j][k] into the int32 bias once.
#include "internal.h"
#include <stdlib.h>

enum { PANEL_ROWS = 6, TILE_COLUMNS = 16 };

size_t lbr_i8gemm_packed_weight_count(size_t n, size_t k) {
    return lbr_round_up(n, TILE_COLUMNS) * lbr_round_up(k, 2);
}

void lbr_i8gemm_pack_weights(const int8_t *w, size_t n, size_t k, size_t ldw, int8_t *packed) {
    const size_t n16 = lbr_round_up(n, TILE_COLUMNS), k2 = lbr_round_up(k, 2);
    for (size_t j = 0; j < n16; j++) {
        for (size_t kk = 0; kk < k2; kk++) {
            int8_t value = (j < n && kk < k) ? w[j * ldw + kk] : 0;
            packed[(j / TILE_COLUMNS) * k2 * TILE_COLUMNS + (kk / 2) * 2 * TILE_COLUMNS + (j % TILE_COLUMNS) * 2 + kk % 2] = value;
        }
    }
}

LBR_INLINE int32_t activation(const void *a, int a_is_signed, size_t index) {
    return a_is_signed ? ((const int8_t *)a)[index] : ((const uint8_t *)a)[index];
}

void lbr_i8gemm_ref(const void *a, int a_is_signed, size_t lda, size_t m, const int8_t *w, size_t ldw,
                    size_t n, size_t k, int32_t *acc, size_t ldc) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; kk++) sum += activation(a, a_is_signed, i * lda + kk) * w[j * ldw + kk];
            acc[i * ldc + j] = sum;
        }
    }
}

static void i8gemm_portable(const void *a, int a_is_signed, size_t lda, size_t row_begin, size_t row_end,
                            const int8_t *packed_w, size_t n, size_t k, int32_t *acc, size_t ldc) {
    const size_t k2 = lbr_round_up(k, 2);
    for (size_t i = row_begin; i < row_end; i++) {
        for (size_t j = 0; j < n; j++) {
            const int8_t *column = packed_w + (j / TILE_COLUMNS) * k2 * TILE_COLUMNS + (j % TILE_COLUMNS) * 2;
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; kk++) {
                sum += activation(a, a_is_signed, i * lda + kk) * column[(kk / 2) * 2 * TILE_COLUMNS + kk % 2];
            }
            acc[i * ldc + j] = sum;
        }
    }
}

void lbr_pad_nhwc_bytes(const void *input, size_t batch, size_t height, size_t width, size_t channels, size_t pad_top,
                        size_t pad_bottom, size_t pad_left, size_t pad_right, void *out) {
    const size_t line = (width + pad_left + pad_right) * channels;
    const uint8_t *src = input;
    uint8_t *dst = out;
    for (size_t b = 0; b < batch; b++) {
        memset(dst, 0, pad_top * line);
        dst += pad_top * line;
        for (size_t y = 0; y < height; y++, dst += line, src += width * channels) {
            memset(dst, 0, pad_left * channels);
            memcpy(dst + pad_left * channels, src, width * channels);
            memset(dst + (pad_left + width) * channels, 0, pad_right * channels);
        }
        memset(dst, 0, pad_bottom * line);
        dst += pad_bottom * line;
    }
}

static void i8gemm_patches_portable(const void *a, int a_is_signed, const lbr_patch_geometry *g, size_t row_begin,
                                    size_t row_end, const int8_t *packed_w, size_t n, int32_t *acc, size_t ldc) {
    const size_t k = g->segments * g->segment_length, k2 = lbr_round_up(k, 2);
    for (size_t i = row_begin; i < row_end; i++) {
        const size_t base = lbr_patch_base(g, i);
        for (size_t j = 0; j < n; j++) {
            const int8_t *column = packed_w + (j / TILE_COLUMNS) * k2 * TILE_COLUMNS + (j % TILE_COLUMNS) * 2;
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; kk++) {
                size_t index = base + (kk / g->segment_length) * g->segment_stride + kk % g->segment_length;
                sum += activation(a, a_is_signed, index) * column[(kk / 2) * 2 * TILE_COLUMNS + kk % 2];
            }
            acc[i * ldc + j] = sum;
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Widens 16 activations of one row to int16 (zero for a missing row).
LBR_INLINE __m256i widen16(const void *a, int a_is_signed, size_t index, int present) {
    if (!present) return _mm256_setzero_si256();
    __m128i bytes = _mm_loadu_si128((const __m128i *)((const uint8_t *)a + index));
    return a_is_signed ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
}

/// Sixteen k of six rows (widened) -> the panel's [k pair][6][2] order: the rows' k pairs (32-bit
/// units) transposed with unpack instructions, pair p of rows 0..5 becoming 24 contiguous bytes (rows
/// 0-3 from a 4 x 4 transpose of 32-bit units, rows 4-5 from one unpack).
LBR_INLINE void store_transposed(const __m256i r[PANEL_ROWS], int16_t *dst16) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    // u0..u3: rows 0-3 of pairs (0, 4), (1, 5), (2, 6), (3, 7), one pair per 128-bit lane.
    const __m256i u[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3),
                          _mm256_unpackhi_epi64(t1, t3)};
    // v0: rows 4-5 of pairs (0, 1 | 4, 5); v1: of pairs (2, 3 | 6, 7).
    const __m256i v[2] = {_mm256_unpacklo_epi32(r[4], r[5]), _mm256_unpackhi_epi32(r[4], r[5])};
    uint8_t *dst = (uint8_t *)dst16;
    for (int p = 0; p < 8; p++) {
        const int lane = p / 4, q = p % 4;
        const __m128i rows03 = lane ? _mm256_extracti128_si256(u[q], 1) : _mm256_castsi256_si128(u[q]);
        const __m128i rows45 = lane ? _mm256_extracti128_si256(v[q / 2], 1) : _mm256_castsi256_si128(v[q / 2]);
        _mm_storeu_si128((__m128i *)(dst + p * 24), rows03);
        _mm_storel_epi64((__m128i *)(dst + p * 24 + 16), q % 2 ? _mm_unpackhi_epi64(rows45, rows45) : rows45);
    }
}

/// Widens rows [row, row + rows) of `a` into a [k pair][6][2] int16 panel; missing rows and the
/// odd k past the end are 0. Sixteen k at a time through store_transposed, the tail element by element.
static void pack_panel(const void *a, int a_is_signed, size_t lda, size_t row, size_t rows, size_t k, int16_t *panel) {
    const size_t pairs = (k + 1) / 2;
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
        __m256i r[PANEL_ROWS];
        for (size_t i = 0; i < PANEL_ROWS; i++) r[i] = widen16(a, a_is_signed, (row + i) * lda + kk, i < rows);
        store_transposed(r, panel + (kk / 2) * PANEL_ROWS * 2);
    }
    memset(panel + (kk / 2) * PANEL_ROWS * 2, 0, (pairs - kk / 2) * PANEL_ROWS * 2 * sizeof(int16_t));
    for (size_t r = 0; r < rows; r++) {
        for (size_t t = kk; t < k; t++) {
            panel[(t / 2) * PANEL_ROWS * 2 + r * 2 + t % 2] = (int16_t)activation(a, a_is_signed, (row + r) * lda + t);
        }
    }
}

/// pack_panel for patch rows (lbr_i8gemm_patches): 16 k at a time inside each run of a patch while the
/// run has 16 bytes left at an even k, the run's tail (and any pair straddling two runs) element by element.
static void pack_panel_patches(const uint8_t *a, int a_is_signed, const lbr_patch_geometry *g, size_t row, size_t rows,
                               int16_t *panel) {
    const size_t length = g->segment_length, k = g->segments * length;
    size_t base[PANEL_ROWS];
    for (size_t r = 0; r < PANEL_ROWS; r++) base[r] = r < rows ? lbr_patch_base(g, row + r) : 0;
    for (size_t s = 0; s < g->segments; s++) {
        size_t offset = 0;
        const size_t run = s * g->segment_stride;
        for (; offset + 16 <= length && (s * length + offset) % 2 == 0; offset += 16) {
            __m256i r[PANEL_ROWS];
            for (size_t i = 0; i < PANEL_ROWS; i++) r[i] = widen16(a, a_is_signed, base[i] + run + offset, i < rows);
            store_transposed(r, panel + ((s * length + offset) / 2) * PANEL_ROWS * 2);
        }
        for (; offset < length; offset++) {
            const size_t t = s * length + offset;
            for (size_t r = 0; r < PANEL_ROWS; r++) {
                panel[(t / 2) * PANEL_ROWS * 2 + r * 2 + t % 2] =
                    r < rows ? (int16_t)activation(a, a_is_signed, base[r] + run + offset) : 0;
            }
        }
    }
    if (k % 2) for (size_t r = 0; r < PANEL_ROWS; r++) panel[(k / 2) * PANEL_ROWS * 2 + r * 2 + 1] = 0;
}

/// Sixteen packed int8 weights (one k pair of 8 outputs), sign-extended to int16.
LBR_INLINE __m256i weights16(const int8_t *wt) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wt)); }

/// Stores the 16 accumulators of one row (lanes 0-7 in c0, 8-15 in c1), the first `columns` of them.
LBR_INLINE void store_row16(int32_t *dst, __m256i c0, __m256i c1, size_t columns) {
    if (columns == TILE_COLUMNS) {
        _mm256_storeu_si256((__m256i *)dst, c0);
        _mm256_storeu_si256((__m256i *)(dst + 8), c1);
        return;
    }
    int32_t lanes[TILE_COLUMNS];
    _mm256_storeu_si256((__m256i *)lanes, c0);
    _mm256_storeu_si256((__m256i *)(lanes + 8), c1);
    memcpy(dst, lanes, columns * sizeof(int32_t));
}

/// One row x 16 columns over `pairs` k pairs (a batch-1 dense layer): the panel's row 0, two k pairs
/// per step into two accumulator sets.
static void tile_1x16(const int16_t *panel, const int8_t *wt, size_t pairs, int32_t *acc, size_t columns) {
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
    size_t p = 0;
    for (; p + 2 <= pairs; p += 2) {
        int32_t pair0, pair1;
        memcpy(&pair0, panel + p * PANEL_ROWS * 2, sizeof pair0);
        memcpy(&pair1, panel + (p + 1) * PANEL_ROWS * 2, sizeof pair1);
        __m256i x = _mm256_set1_epi32(pair0), y = _mm256_set1_epi32(pair1);
        const int8_t *w = wt + p * 2 * TILE_COLUMNS;
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(x, weights16(w)));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(x, weights16(w + 16)));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(y, weights16(w + 32)));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(y, weights16(w + 48)));
    }
    if (p < pairs) {
        int32_t pair;
        memcpy(&pair, panel + p * PANEL_ROWS * 2, sizeof pair);
        __m256i x = _mm256_set1_epi32(pair);
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(x, weights16(wt + p * 2 * TILE_COLUMNS)));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(x, weights16(wt + p * 2 * TILE_COLUMNS + 16)));
    }
    store_row16(acc, _mm256_add_epi32(c0, c2), _mm256_add_epi32(c1, c3), columns);
}

/// 6 rows x 16 columns over `pairs` k pairs, stored into acc (`rows` x `columns` of them): 12
/// accumulators, two weight vectors and a broadcast, 15 of the 16 registers.
static void tile_6x16(const int16_t *panel, const int8_t *wt, size_t pairs, int32_t *acc, size_t ldc,
                      size_t rows, size_t columns) {
    __m256i c[2 * PANEL_ROWS];
    for (int t = 0; t < 2 * PANEL_ROWS; t++) c[t] = _mm256_setzero_si256();
    for (size_t p = 0; p < pairs; p++) {
        __m256i w0 = weights16(wt + p * 2 * TILE_COLUMNS), w1 = weights16(wt + p * 2 * TILE_COLUMNS + 16);
        for (int r = 0; r < PANEL_ROWS; r++) {
            int32_t pair;
            memcpy(&pair, panel + (p * PANEL_ROWS + (size_t)r) * 2, sizeof pair);
            __m256i x = _mm256_set1_epi32(pair);
            c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(x, w0));
            c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(x, w1));
        }
    }
    for (size_t r = 0; r < rows; r++) store_row16(acc + r * ldc, c[2 * r], c[2 * r + 1], columns);
}

/// The whole row range is widened into panels once; then, for each 16-column weight tile (16 * k
/// bytes, in L1 or L2), every panel streams past it, each tile covering the full k, so the
/// accumulators are written once.
/// `patches` NULL: rows of `a` at stride lda; otherwise convolution patches read in place.
static void i8gemm_avx2(const void *a, int a_is_signed, size_t lda, const lbr_patch_geometry *patches, size_t row_begin,
                        size_t row_end, const int8_t *packed_w, size_t n, size_t k, int32_t *acc, size_t ldc) {
    const size_t k2 = lbr_round_up(k, 2), pairs = k2 / 2, panels = (row_end - row_begin + PANEL_ROWS - 1) / PANEL_ROWS;
    int16_t *packed_a = malloc(panels * k2 * PANEL_ROWS * sizeof(int16_t));
    if (packed_a == NULL) {
        if (patches) i8gemm_patches_portable(a, a_is_signed, patches, row_begin, row_end, packed_w, n, acc, ldc);
        else i8gemm_portable(a, a_is_signed, lda, row_begin, row_end, packed_w, n, k, acc, ldc);
        return;
    }
    for (size_t p = 0; p < panels; p++) {
        size_t row = row_begin + p * PANEL_ROWS, rows = lbr_min(PANEL_ROWS, row_end - row);
        if (patches) pack_panel_patches(a, a_is_signed, patches, row, rows, packed_a + p * k2 * PANEL_ROWS);
        else pack_panel(a, a_is_signed, lda, row, rows, k, packed_a + p * k2 * PANEL_ROWS);
    }
    for (size_t j = 0; j < n; j += TILE_COLUMNS) {
        const int8_t *wt = packed_w + (j / TILE_COLUMNS) * k2 * TILE_COLUMNS;
        for (size_t p = 0; p < panels; p++) {
            size_t row = row_begin + p * PANEL_ROWS;
            const size_t rows = lbr_min(PANEL_ROWS, row_end - row), columns = lbr_min(TILE_COLUMNS, n - j);
            if (rows == 1) tile_1x16(packed_a + p * k2 * PANEL_ROWS, wt, pairs, acc + row * ldc + j, columns);
            else tile_6x16(packed_a + p * k2 * PANEL_ROWS, wt, pairs, acc + row * ldc + j, ldc, rows, columns);
        }
    }
    free(packed_a);
}
LBR_AVX2_END
#endif

void lbr_i8gemm(lbr_isa isa, const void *a, int a_is_signed, size_t lda, size_t row_begin, size_t row_end,
                const int8_t *packed_w, size_t n, size_t k, int32_t *acc, size_t ldc) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { i8gemm_avx2(a, a_is_signed, lda, NULL, row_begin, row_end, packed_w, n, k, acc, ldc); return; }
#endif
    i8gemm_portable(a, a_is_signed, lda, row_begin, row_end, packed_w, n, k, acc, ldc);
}

void lbr_i8gemm_patches(lbr_isa isa, const void *a, int a_is_signed, const lbr_patch_geometry *g, size_t row_begin,
                        size_t row_end, const int8_t *packed_w, size_t n, int32_t *acc, size_t ldc) {
    const size_t k = g->segments * g->segment_length;
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { i8gemm_avx2(a, a_is_signed, 0, g, row_begin, row_end, packed_w, n, k, acc, ldc); return; }
#endif
    (void)k;
    i8gemm_patches_portable(a, a_is_signed, g, row_begin, row_end, packed_w, n, acc, ldc);
}
