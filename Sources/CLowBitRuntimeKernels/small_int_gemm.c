// Integer GEMM for small weights: acc[m][j] = sum_k a[m][k] * w[j][k], uint8 activations, int8
// weights, exact int32, when products are small enough for vpmaddubsw.
//
// vpmaddubsw multiplies 32 unsigned activation bytes by 32 signed weight bytes and adds adjacent
// pairs into int16, saturating: exact only while 2 * a_max * w_max <= 32767. Full-range int8 weights
// (127) with uint8 activations (255) break that, which is why lbr_i8gemm widens both operands to
// int16 and uses vpmaddwd (4 operations per 32 products). Weights of 4 bits (|w| <= 7) or any
// |w| <= 64 fit: one vpmaddubsw and one vpaddw per 32 products, the int16 sums widened into int32
// (vpmaddwd with ones) only every `quads_per_widen` steps of 4 k, which the caller sizes so that
// quads_per_widen * 2 * a_max * w_max <= 32767 (156 steps for 4-bit inputs and weights, 9 for
// 8-bit inputs and 4-bit weights, 1 for 8-bit inputs and |w| <= 64).
//
// Layout: weights as lbr_pack_byte_tiles lays them out (the ternary kernel's byte tiles), bytes [n / 8][k / 4][8][4] (one
// 256-bit load = 8 outputs x 4 k); activations as 4-byte quads of 4 rows (lbr_pack_quads), each
// broadcast against the 8 outputs.
#include "internal.h"
#include <stdlib.h>

void lbr_i8gemm_small_ref(const uint8_t *a, size_t lda, size_t m, const int8_t *w, size_t ldw, size_t n, size_t k,
                          int32_t *out, size_t ldo) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; kk++) sum += (int32_t)a[i * lda + kk] * (int32_t)w[j * ldw + kk];
            out[i * ldo + j] = sum;
        }
    }
}

/// One row of the packed layout: output j's byte for k at packed[(j / 8) * k4 * 8 + (k / 4) * 32 + (j % 8) * 4 + k % 4].
static void small_portable_row(const uint8_t *row, size_t i, const int8_t *packed, size_t n, size_t k, int32_t *out, size_t ldo) {
    const size_t k4 = lbr_round_up(k, 4);
    for (size_t j = 0; j < n; j++) {
        const int8_t *wj = packed + (j / 8) * k4 * 8 + (j % 8) * 4;
        int32_t sum = 0;
        for (size_t kk = 0; kk < k; kk++) sum += (int32_t)row[kk] * (int32_t)wj[(kk / 4) * 32 + kk % 4];
        out[i * ldo + j] = sum;
    }
}

static void small_portable(const uint8_t *a, size_t lda, const lbr_patch_geometry *patches, size_t row_begin, size_t row_end,
                           const int8_t *packed, size_t n, size_t k, int32_t *out, size_t ldo) {
    uint8_t *patch = patches ? malloc(k ? k : 1) : NULL;
    if (patches && patch == NULL) return;
    for (size_t i = row_begin; i < row_end; i++) {
        const uint8_t *row = a + i * lda;
        if (patches) {
            const size_t base = lbr_patch_base(patches, i), length = patches->segment_length;
            for (size_t s = 0; s < patches->segments; s++) memcpy(patch + s * length, a + base + s * patches->segment_stride, length);
            row = patch;
        }
        small_portable_row(row, i, packed, n, k, out, ldo);
    }
    free(patch);
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// LBR_QUAD_ROWS rows x `tiles` (1 or 2) tiles of 8 outputs over all quads: int16 sums widened every
/// `per_widen` quads.
LBR_INLINE void small_tile(int tiles, const uint32_t *quads, size_t quad_count, const int8_t *wt, size_t tile_stride,
                           size_t per_widen, __m256i *sums) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[LBR_QUAD_ROWS * 2], total[LBR_QUAD_ROWS * 2];   // local: see small_tile_direct
    for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) total[t] = acc[t] = _mm256_setzero_si256();
    for (size_t q0 = 0; q0 < quad_count; q0 += per_widen) {
        const size_t q1 = lbr_min(quad_count, q0 + per_widen);
        for (size_t q = q0; q < q1; q++) {
            __m256i w[2];
            for (int v = 0; v < tiles; v++) w[v] = _mm256_loadu_si256((const __m256i *)(wt + (size_t)v * tile_stride + q * 32));
            for (int r = 0; r < LBR_QUAD_ROWS; r++) {
                const __m256i x = _mm256_set1_epi32((int)quads[q * LBR_QUAD_ROWS + (size_t)r]);
                for (int v = 0; v < tiles; v++) acc[r * tiles + v] = _mm256_add_epi16(acc[r * tiles + v], _mm256_maddubs_epi16(x, w[v]));
            }
        }
        for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) {
            total[t] = _mm256_add_epi32(total[t], _mm256_madd_epi16(acc[t], ones));
            acc[t] = _mm256_setzero_si256();
        }
    }
    for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) sums[t] = total[t];
}

/// small_tile reading each row's quads in place: row r's quad q of segment s is the 4 bytes at
/// rows[r] + s * segment_stride + 4 * q (dense rows: one segment; convolution patches: one per kernel
/// row, segment lengths a multiple of 4), then the optional `tail` quad per row (a dense row's last
/// partial quad, zero-padded). Packing the quads first took a quarter of an int4 ResNet-20's time.
LBR_INLINE void small_tile_direct(int tiles, int single, const uint8_t *const rows[LBR_QUAD_ROWS], size_t segments, size_t segment_stride,
                                  size_t segment_quads, const uint32_t *tail, const int8_t *wt, size_t tile_stride,
                                  size_t per_widen, __m256i *sums) {
    const __m256i ones = _mm256_set1_epi16(1);
    // Local sums, stored to `sums` once at the end: updated through the pointer, they were written back
    // to memory after every step (the byte loads of the activations may alias them), ~8 stores a step.
    __m256i acc[LBR_QUAD_ROWS * 2], total[LBR_QUAD_ROWS * 2];
    for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) total[t] = acc[t] = _mm256_setzero_si256();
    size_t q = 0, pending = 0;
#define LBR_SMALL_STEP(QUAD_OF_ROW)                                                                                         \
    do {                                                                                                                    \
        __m256i w[2];                                                                                                       \
        for (int v = 0; v < tiles; v++) w[v] = _mm256_loadu_si256((const __m256i *)(wt + (size_t)v * tile_stride + q * 32)); \
        for (int r = 0; r < LBR_QUAD_ROWS; r++) {                                                                           \
            const __m256i x = QUAD_OF_ROW;                                                                                  \
            for (int v = 0; v < tiles; v++) {                                                                               \
                const __m256i pairs = _mm256_maddubs_epi16(x, w[v]);                                                        \
                /* One step per widening (8-bit inputs, |w| > 32): straight into int32, no int16 add. */                    \
                if (single) total[r * tiles + v] = _mm256_add_epi32(total[r * tiles + v], _mm256_madd_epi16(pairs, ones)); \
                else acc[r * tiles + v] = _mm256_add_epi16(acc[r * tiles + v], pairs);                                      \
            }                                                                                                               \
        }                                                                                                                   \
        q++;                                                                                                                \
        if (!single && ++pending == per_widen) {                                                                      \
            for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) {                                                               \
                total[t] = _mm256_add_epi32(total[t], _mm256_madd_epi16(acc[t], ones));                                     \
                acc[t] = _mm256_setzero_si256();                                                                            \
            }                                                                                                               \
            pending = 0;                                                                                                    \
        }                                                                                                                   \
    } while (0)
    for (size_t s = 0; s < segments; s++) {
        const uint8_t *base[LBR_QUAD_ROWS];
        for (int r = 0; r < LBR_QUAD_ROWS; r++) base[r] = rows[r] + s * segment_stride;
        for (size_t qi = 0; qi < segment_quads; qi++) {
            // vbroadcastss straight from memory: one load, where a 4-byte copy and set1 take three operations.
            LBR_SMALL_STEP(_mm256_castps_si256(_mm256_broadcast_ss((const float *)(const void *)(base[r] + 4 * qi))));
        }
    }
    if (tail) LBR_SMALL_STEP(_mm256_set1_epi32((int)tail[r]));
#undef LBR_SMALL_STEP
    for (int t = 0; t < LBR_QUAD_ROWS * tiles; t++) sums[t] = _mm256_add_epi32(total[t], _mm256_madd_epi16(acc[t], ones));
}

/// Blocks of 32 tiles (256 outputs), 4-row panels, pairs of tiles. Rows are read in place
/// (small_tile_direct) unless a convolution's kernel rows are not whole quads (the grey-image first
/// layer: 3 bytes a row), whose quads are packed first (lbr_pack_quads_patches).
static void small_avx2(const uint8_t *a, size_t lda, const lbr_patch_geometry *patches, size_t row_begin, size_t row_end,
                       const int8_t *packed, size_t n, size_t k, size_t per_widen, int32_t *out, size_t ldo) {
    const size_t k4 = lbr_round_up(k, 4), quad_count = k4 / 4, tiles = lbr_round_up(n, 8) / 8;
    const int direct = patches == NULL || patches->segment_length % 4 == 0;
    uint32_t *quads = direct ? NULL : malloc(quad_count * LBR_QUAD_ROWS * sizeof(uint32_t));
    if (!direct && quads == NULL) {
        small_portable(a, lda, patches, row_begin, row_end, packed, n, k, out, ldo);
        return;
    }
    const size_t segments = patches ? patches->segments : 1, segment_stride = patches ? patches->segment_stride : 0;
    const size_t segment_quads = patches ? patches->segment_length / 4 : k / 4;
    uint32_t tail[LBR_QUAD_ROWS] = {0, 0, 0, 0};
    const uint8_t *row_start[LBR_QUAD_ROWS];
    for (size_t tb = 0; tb < tiles; tb += 32) {
        const size_t te = lbr_min(tiles, tb + 32);
        for (size_t i = row_begin; i < row_end; i += LBR_QUAD_ROWS) {
            const size_t rows = lbr_min(LBR_QUAD_ROWS, row_end - i);
            if (!direct) {
                lbr_pack_quads_patches(a, patches, i, rows, quads);
            } else {
                // Missing rows of a short panel repeat the first (their sums are not stored).
                for (size_t r = 0; r < LBR_QUAD_ROWS; r++) {
                    const size_t row = i + (r < rows ? r : 0);
                    row_start[r] = patches ? a + lbr_patch_base(patches, row) : a + row * lda;
                    if (!patches && k % 4) {
                        uint32_t last = 0;
                        for (size_t b = 0; b < k % 4; b++) last |= (uint32_t)row_start[r][k / 4 * 4 + b] << (8 * b);
                        tail[r] = last;
                    }
                }
            }
            for (size_t tile = tb; tile < te; tile += 2) {
                const int count = (int)lbr_min(2, te - tile);
                __m256i sums[LBR_QUAD_ROWS * 2];
                const int8_t *wt = packed + tile * k4 * 8;
                const uint32_t *tail_quads = !patches && k % 4 ? tail : NULL;
                if (direct && per_widen == 1 && count == 2) small_tile_direct(2, 1, row_start, segments, segment_stride, segment_quads, tail_quads, wt, k4 * 8, 1, sums);
                else if (direct && per_widen == 1) small_tile_direct(1, 1, row_start, segments, segment_stride, segment_quads, tail_quads, wt, k4 * 8, 1, sums);
                else if (direct && count == 2) small_tile_direct(2, 0, row_start, segments, segment_stride, segment_quads, tail_quads, wt, k4 * 8, per_widen, sums);
                else if (direct) small_tile_direct(1, 0, row_start, segments, segment_stride, segment_quads, tail_quads, wt, k4 * 8, per_widen, sums);
                else if (count == 2) small_tile(2, quads, quad_count, wt, k4 * 8, per_widen, sums);
                else small_tile(1, quads, quad_count, wt, k4 * 8, per_widen, sums);
                for (size_t r = 0; r < rows; r++) {
                    for (int v = 0; v < count; v++) {
                        const size_t first = (tile + (size_t)v) * 8;
                        int32_t *dst = out + (i + r) * ldo + first;
                        if (first + 8 <= n) {
                            _mm256_storeu_si256((__m256i *)dst, sums[r * (size_t)count + (size_t)v]);
                        } else {
                            int32_t lanes[8];
                            _mm256_storeu_si256((__m256i *)lanes, sums[r * (size_t)count + (size_t)v]);
                            memcpy(dst, lanes, (n - first) * sizeof(int32_t));
                        }
                    }
                }
            }
        }
    }
    free(quads);
}
/// lbr_split_high_bits, 32 bytes at a time: vpmovmskb gives the high bits, each set one is recorded.
/// Returns the positions found (SIZE_MAX past `limit`); *done: the bytes handled (a multiple of 32).
static size_t split_high_bits_avx2(const uint8_t *bytes, size_t count, uint8_t *low, uint32_t *positions, size_t limit,
                                   size_t *done) {
    const __m256i mask7 = _mm256_set1_epi8(0x7f);
    size_t found = 0, i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(bytes + i));
        _mm256_storeu_si256((__m256i *)(low + i), _mm256_and_si256(v, mask7));
        uint32_t high = (uint32_t)_mm256_movemask_epi8(v);
        if (found + (size_t)__builtin_popcount(high) > limit) return SIZE_MAX;
        for (; high; high &= high - 1) positions[found++] = (uint32_t)(i + (size_t)__builtin_ctz(high));
    }
    *done = i;
    return found;
}
LBR_AVX2_END
#endif

void lbr_i8gemm_small(lbr_isa isa, const uint8_t *a, size_t lda, const lbr_patch_geometry *patches, size_t row_begin,
                      size_t row_end, const int8_t *packed, size_t n, size_t k, size_t quads_per_widen, int32_t *out, size_t ldo) {
    if (patches) k = patches->segments * patches->segment_length;
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa) && quads_per_widen >= 1) {
        small_avx2(a, lda, patches, row_begin, row_end, packed, n, k, quads_per_widen, out, ldo);
        return;
    }
#endif
    small_portable(a, lda, patches, row_begin, row_end, packed, n, k, out, ldo);
}

// ---- Full-range uint8 inputs on the vpmaddubsw kernel: the high bit apart ----------------------
// a = (a & 127) + 128 * (a >> 7), so sum_k a w = sum_k (a & 127) w + 128 * sum_{k: a >= 128} w. The
// first sum is exact on the vpmaddubsw kernel (2 * 127 * 128 = 32512 <= 32767, one step per
// widening); the second runs over the inputs of 128 or more only, a few percent of a ReLU network's
// 8-bit activations (docs/RUNTIME.md, "Full-range int8 on vpmaddubsw"), each adding one column of
// 128 * w to the accumulators of the rows (patches) that read it.

size_t lbr_split_high_bits(lbr_isa isa, const uint8_t *bytes, size_t count, uint8_t *low, uint32_t *positions, size_t limit) {
    size_t found = 0, i = 0;
    (void)isa;
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) found = split_high_bits_avx2(bytes, count, low, positions, limit, &i);
    if (found == SIZE_MAX) return SIZE_MAX;
#endif
    for (; i < count; i++) {
        const uint8_t v = bytes[i];   // read first: `low` may be `bytes`
        low[i] = v & 0x7f;
        if (v & 0x80) {
            if (found == limit) return SIZE_MAX;
            positions[found++] = (uint32_t)i;
        }
    }
    return found;
}

size_t lbr_pad_split_high_bits(lbr_isa isa, const void *input, int input_is_float, float scale, int32_t qmax, size_t batch,
                               size_t height, size_t width, size_t channels, size_t pad_top, size_t pad_bottom, size_t pad_left,
                               size_t pad_right, uint8_t *low, uint32_t *positions, size_t limit) {
    const size_t run = width * channels, line = (width + pad_left + pad_right) * channels;
    const size_t rows = height + pad_top + pad_bottom;
    size_t found = 0;
    for (size_t b = 0; b < batch; b++) {
        for (size_t yy = 0; yy < rows; yy++) {
            uint8_t *dst = low + (b * rows + yy) * line;
            if (yy < pad_top || yy >= pad_top + height) {
                memset(dst, 0, line);
                continue;
            }
            const size_t source = (b * height + (yy - pad_top)) * run;
            uint8_t *codes = dst + pad_left * channels;
            memset(dst, 0, pad_left * channels);
            memset(codes + run, 0, pad_right * channels);
            if (input_is_float) {
                lbr_quantize_codes(isa, (const float *)input + source, run, scale, 0, qmax, codes, 0);
            } else {
                memcpy(codes, (const uint8_t *)input + source, run);
            }
            // The row's codes are in L1: split them in place, positions offset to the frame.
            const size_t here = lbr_split_high_bits(isa, codes, run, codes, positions + found, limit - found);
            if (here == SIZE_MAX) return SIZE_MAX;
            const uint32_t offset = (uint32_t)(codes - low);
            for (size_t e = found; e < found + here; e++) positions[e] += offset;
            found += here;
        }
    }
    return found;
}

/// Adds 128 * column[j] (a row of the weights by input, [k][n] int8) to the n accumulators of one GEMM row.
LBR_INLINE void add_high_column(const int8_t *column, size_t n, int32_t *acc) {
    for (size_t j = 0; j < n; j++) acc[j] += (int32_t)column[j] * 128;
}

/// The outputs o in [first, last] whose window (o * stride + tap, tap < kernel) covers input coordinate p
/// of a padded frame with `outputs` outputs; first > last when there are none.
LBR_INLINE void covering_outputs(uint32_t p, uint32_t kernel, uint32_t stride, uint32_t outputs, uint32_t *first, uint32_t *last) {
    *first = p + 1 >= kernel ? (p + 1 - kernel + stride - 1) / stride : 0;
    *last = p / stride;
    if (*last >= outputs) *last = outputs - 1;
}

/// The (GEMM row, weight column offset) pairs position `position` of the padded frame adds to: at most
/// kernel_h * kernel_w of them (32-bit arithmetic: positions are below 2^32, and 32-bit divisions are
/// the cheap ones). Returns how many.
LBR_INLINE size_t covering_pairs(uint32_t position, const lbr_patch_geometry *g, uint32_t channels, size_t n,
                                 size_t *rows, size_t *columns) {
    const uint32_t line = (uint32_t)g->segment_stride, stride_h = (uint32_t)(g->row_step / line);
    const uint32_t stride_w = (uint32_t)(g->column_step / channels), kernel_w = (uint32_t)(g->segment_length / channels);
    const uint32_t image = (uint32_t)g->image_stride, b = position / image, within = position - b * image;
    const uint32_t y = within / line, in_line = within - y * line, x = in_line / channels, c = in_line - x * channels;
    uint32_t oy0, oy1, ox0, ox1;
    covering_outputs(y, (uint32_t)g->segments, stride_h, (uint32_t)g->out_h, &oy0, &oy1);
    covering_outputs(x, kernel_w, stride_w, (uint32_t)g->out_w, &ox0, &ox1);
    size_t count = 0;
    for (uint32_t oy = oy0; oy <= oy1; oy++) {
        for (uint32_t ox = ox0; ox <= ox1; ox++, count++) {
            const uint32_t ky = y - oy * stride_h, kx = x - ox * stride_w;
            rows[count] = (size_t)b * g->out_h * g->out_w + (size_t)oy * g->out_w + ox;
            columns[count] = ((size_t)(ky * kernel_w + kx) * channels + c) * n;
        }
    }
    return count;
}


static void high_bits_portable(const uint32_t *positions, size_t count, const lbr_patch_geometry *g, size_t channels, size_t k,
                               const int8_t *columns, size_t n, size_t row_begin, size_t row_end, int32_t *acc, size_t ldc) {
    size_t rows[LBR_HIGH_BITS_MAX_TAPS], offsets[LBR_HIGH_BITS_MAX_TAPS];
    for (size_t e = 0; e < count; e++) {
        if (!g) {
            const size_t m = positions[e] / k;
            if (m >= row_begin && m < row_end) add_high_column(columns + (positions[e] % k) * n, n, acc + m * ldc);
            continue;
        }
        const size_t pairs = covering_pairs(positions[e], g, (uint32_t)channels, n, rows, offsets);
        for (size_t t = 0; t < pairs; t++) {
            if (rows[t] >= row_begin && rows[t] < row_end) add_high_column(columns + offsets[t], n, acc + rows[t] * ldc);
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
LBR_INLINE void add_high_column_avx2(const int8_t *column, size_t n, int32_t *acc) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i w = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(column + j)));
        _mm256_storeu_si256((__m256i *)(acc + j), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)),
                                                                   _mm256_slli_epi32(w, 7)));
    }
    add_high_column(column + j, n - j, acc + j);   // the last n % 8 outputs
}

/// Positions of one pixel (consecutive, as lbr_split_high_bits lists them) share their taps: their
/// columns are summed in registers and each covered accumulator row is updated once, so updates of
/// the same row do not wait on each other's stores.
static void high_bits_avx2(const uint32_t *positions, size_t count, const lbr_patch_geometry *g, size_t channels, size_t k,
                           const int8_t *columns, size_t n, size_t row_begin, size_t row_end, int32_t *acc, size_t ldc) {
    size_t rows[LBR_HIGH_BITS_MAX_TAPS], offsets[LBR_HIGH_BITS_MAX_TAPS];
    if (!g) {
        for (size_t e = 0; e < count; e++) {
            const size_t m = positions[e] / k;
            if (m >= row_begin && m < row_end) add_high_column_avx2(columns + (positions[e] % k) * n, n, acc + m * ldc);
        }
        return;
    }
    size_t channel_offsets[64];
    for (size_t e = 0; e < count;) {
        // At most 64 channels of one pixel at a time; their column offsets (c * n) computed once.
        const uint32_t pixel = positions[e] / (uint32_t)channels;
        size_t end = e, group = 0;
        while (end < count && group < 64 && positions[end] / (uint32_t)channels == pixel) {
            channel_offsets[group++] = (positions[end] - pixel * (uint32_t)channels) * n;
            end++;
        }
        // Taps of channel 0 of this pixel; channel c's column is c * n further.
        const size_t pairs = covering_pairs(pixel * (uint32_t)channels, g, (uint32_t)channels, n, rows, offsets);
        for (size_t t = 0; t < pairs; t++) {
            if (rows[t] < row_begin || rows[t] >= row_end) continue;
            const int8_t *tap = columns + offsets[t];
            int32_t *row = acc + rows[t] * ldc;
            size_t j = 0;
            for (; j + 8 <= n; j += 8) {
                __m256i sum = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(tap + channel_offsets[0] + j)));
                for (size_t f = 1; f < group; f++) {
                    sum = _mm256_add_epi32(sum, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(tap + channel_offsets[f] + j))));
                }
                _mm256_storeu_si256((__m256i *)(row + j),
                                    _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(row + j)), _mm256_slli_epi32(sum, 7)));
            }
            for (; j < n; j++) {
                for (size_t f = 0; f < group; f++) row[j] += (int32_t)tap[channel_offsets[f] + j] * 128;
            }
        }
        e = end;
    }
}
LBR_AVX2_END
#endif

/// The first of the sorted `positions` at or after `bound` (binary search).
static size_t first_position(const uint32_t *positions, size_t count, size_t bound) {
    size_t low = 0, high = count;
    while (low < high) {
        const size_t middle = (low + high) / 2;
        if (positions[middle] < bound) low = middle + 1; else high = middle;
    }
    return low;
}

void lbr_i8gemm_high_bits(lbr_isa isa, const uint32_t *positions, size_t count, const lbr_patch_geometry *g, size_t channels,
                          size_t k, const int8_t *columns, size_t n, size_t row_begin, size_t row_end, int32_t *acc, size_t ldc) {
    if (row_begin >= row_end || count == 0) return;
    // Only the positions rows [row_begin, row_end) can read: dense rows' own inputs, or the padded-frame
    // lines from the first row's window top to the last row's window bottom.
    size_t low, high;
    if (!g) {
        low = row_begin * k;
        high = row_end * k;
    } else {
        const size_t pixels = g->out_h * g->out_w, line = g->segment_stride, stride_h = g->row_step / line;
        const size_t first = row_begin % pixels / g->out_w, last = (row_end - 1) % pixels / g->out_w;
        low = row_begin / pixels * g->image_stride + first * stride_h * line;
        high = (row_end - 1) / pixels * g->image_stride + (last * stride_h + g->segments) * line;
    }
    const size_t begin = first_position(positions, count, low), end = begin + first_position(positions + begin, count - begin, high);
    positions += begin;
    count = end - begin;
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { high_bits_avx2(positions, count, g, channels, k, columns, n, row_begin, row_end, acc, ldc); return; }
#endif
    (void)isa;
    high_bits_portable(positions, count, g, channels, k, columns, n, row_begin, row_end, acc, ldc);
}
