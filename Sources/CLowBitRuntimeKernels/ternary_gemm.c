// Ternary GEMM with fine-grained (FGQ) group scales.
//
// Weights are alpha[j][g] * t[j][k] with t in {-1, 0, +1} and one float scale per group of `group`
// consecutive k (the last group may be short). Per output:
//     y[m][j] = sum_g alpha[j][g] * s_g,  s_g = sum_{k in g} t[j][k] * a[m][k],
// where each s_g is an exact integer and only the sum over groups is float: one multiply-add per
// group replaces `group` multiplications (75% fewer at group = 4).
//
// 8-bit activations (lbr_tgemm_u8). vpmaddubsw multiplies unsigned activation bytes by signed t
// bytes and adds adjacent pairs into int16: |2 * 255 * 1| never saturates, so the pair sums are
// exact; vpmaddwd with ones adds pairs again, giving the sum over 4 consecutive k per int32 lane.
// Weights are stored as bytes in tiles of 8 outputs x 4 k, [tile][k / 4][8][4], so one 256-bit
// load covers 8 outputs and the 4 activation bytes are broadcast. int8 activations are passed
// XOR 0x80 (a + 128 as unsigned); the caller folds the offset into `correction`.
//
// Binary activations. With x = 1 for -1, sum_k t_k * (1 - 2 x_k) = T - 2 * sum_k t_k x_k, so the
// same kernel runs on the 0/1 bytes of the sign bits (lbr_unpack_bits_u8) with input_scale = -2
// and bias = sum_g alpha_g * T_g. Measured at 1024^3 and group 4 (docs/RUNTIME.md), this beat
// bit-plane popcounts (popcount(plus & x) - popcount(minus & x) per nibble) 1.7 to 1: both pay one
// int-to-float conversion and one multiply-add per group, and the bit-plane path adds the nibble
// counting and widening on top.
#include "internal.h"
#include <stdlib.h>

size_t lbr_tgemm_packed_weight_bytes(size_t n, size_t k) { return lbr_round_up(n, 8) * lbr_round_up(k, 4); }

size_t lbr_tgemm_packed_scale_count(size_t n, size_t k, size_t group) {
    return lbr_round_up(n, 8) * ((k + group - 1) / group);
}

void lbr_pack_byte_tiles(const int8_t *t, size_t ldt, size_t n, size_t k, int8_t *packed) {
    const size_t k4 = lbr_round_up(k, 4), tiles = lbr_round_up(n, 8) / 8;
    for (size_t tile = 0; tile < tiles; tile++) {
        for (size_t r = 0; r < 8; r++) {
            size_t j = 8 * tile + r;
            for (size_t kk = 0; kk < k4; kk++) {
                packed[tile * k4 * 8 + (kk / 4) * 32 + r * 4 + kk % 4] = (j < n && kk < k) ? t[j * ldt + kk] : 0;
            }
        }
    }
}

void lbr_tgemm_pack_weights(const int8_t *t, size_t ldt, const float *alpha, size_t lda,
                            size_t n, size_t k, size_t group, int8_t *packed_t, float *packed_alpha) {
    const size_t groups = (k + group - 1) / group, tiles = lbr_round_up(n, 8) / 8;
    lbr_pack_byte_tiles(t, ldt, n, k, packed_t);
    for (size_t tile = 0; tile < tiles; tile++) {
        for (size_t r = 0; r < 8; r++) {
            size_t j = 8 * tile + r;
            for (size_t g = 0; g < groups; g++) {
                packed_alpha[(tile * groups + g) * 8 + r] = j < n ? alpha[j * lda + g] : 0.0f;
            }
        }
    }
}

/// The shared epilogue: input_scale * (sum - correction) + bias.
static inline float finish(float sum, float input_scale, float correction, float bias) {
    return input_scale * (sum - correction) + bias;
}

void lbr_tgemm_u8_ref(const uint8_t *a, size_t lda, size_t m, const int8_t *t, size_t ldt,
                      const float *alpha, size_t ld_alpha, size_t n, size_t k, size_t group,
                      float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float sum = 0;
            for (size_t g = 0; g * group < k; g++) {
                int32_t s = 0;
                for (size_t kk = g * group; kk < lbr_min(k, (g + 1) * group); kk++) s += t[j * ldt + kk] * a[i * lda + kk];
                sum += alpha[j * ld_alpha + g] * (float)s;
            }
            out[i * ldo + j] = finish(sum, input_scale, correction[j], bias[j]);
        }
    }
}

static void tgemm_u8_portable(const uint8_t *a, size_t lda, size_t row_begin, size_t row_end,
                              const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                              float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
    const size_t k4 = lbr_round_up(k, 4), groups = (k + group - 1) / group;
    for (size_t i = row_begin; i < row_end; i++) {
        const uint8_t *row = a + i * lda;
        for (size_t j = 0; j < n; j++) {
            const int8_t *tj = packed_t + (j / 8) * k4 * 8 + (j % 8) * 4;
            const float *alpha = packed_alpha + (j / 8) * groups * 8 + j % 8;
            float sum = 0;
            for (size_t g = 0; g < groups; g++) {
                int32_t s = 0;
                for (size_t kk = g * group; kk < lbr_min(k, (g + 1) * group); kk++) s += tj[(kk / 4) * 32 + kk % 4] * row[kk];
                sum += alpha[g * 8] * (float)s;
            }
            out[i * ldo + j] = finish(sum, input_scale, correction[j], bias[j]);
        }
    }
}

/// The portable kernel on one patch at a time, gathered into a row first (lda 0 reads it for row i).
static void tgemm_u8_patches_portable(const uint8_t *a, const lbr_patch_geometry *g, size_t row_begin, size_t row_end,
                                      const int8_t *packed_t, const float *packed_alpha, size_t n, size_t group,
                                      float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
    const size_t length = g->segment_length, k = g->segments * length;
    uint8_t *patch = malloc(k ? k : 1);
    if (patch == NULL) return;
    for (size_t i = row_begin; i < row_end; i++) {
        const size_t base = lbr_patch_base(g, i);
        for (size_t s = 0; s < g->segments; s++) memcpy(patch + s * length, a + base + s * g->segment_stride, length);
        tgemm_u8_portable(patch, 0, i, i + 1, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
    }
    free(patch);
}

/// e_g = popcount(plus_g & x_g) - popcount(minus_g & x_g) for group index g (scalar popcounts).
#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
enum { QUAD_ROWS = LBR_QUAD_ROWS, TILES_PER_BLOCK = 32 };

/// QUAD_ROWS rows x `tiles` tiles of 8 outputs. Per group, the int32 sums of its quads (vpmaddubsw
/// then vpmaddwd with ones: 4 products per lane) are converted to float and multiply-added with the
/// group's 8 scales. `quads_per_group` is a literal 1 for group 4 (no int32 accumulation at all).
/// Activations: `direct` (a literal) reads row r's quad q in place at rows[r] + offsets[q] with one
/// vbroadcastss; otherwise from the packed `quads`.
LBR_INLINE void u8_tile(int tiles, size_t quads_per_group, int direct, const uint32_t *quads, const uint8_t *const *rows,
                        const uint32_t *offsets, size_t quad_count, const int8_t *wt, size_t tile_stride, const float *alpha,
                        size_t alpha_stride, __m256 *sums) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int t = 0; t < QUAD_ROWS * tiles; t++) sums[t] = _mm256_setzero_ps();
    for (size_t q0 = 0, g = 0; q0 < quad_count; q0 += quads_per_group, g++) {
        size_t q1 = lbr_min(quad_count, q0 + quads_per_group);
        __m256i group_sums[QUAD_ROWS * 2];
        for (int t = 0; t < QUAD_ROWS * tiles; t++) group_sums[t] = _mm256_setzero_si256();
        for (size_t q = q0; q < q1; q++) {
            __m256i w[2];
            for (int v = 0; v < tiles; v++) w[v] = _mm256_loadu_si256((const __m256i *)(wt + v * tile_stride + q * 32));
            for (int r = 0; r < QUAD_ROWS; r++) {
                __m256i x = direct ? _mm256_castps_si256(_mm256_broadcast_ss((const float *)(const void *)(rows[r] + offsets[q])))
                                   : _mm256_set1_epi32((int)quads[q * QUAD_ROWS + (size_t)r]);
                for (int v = 0; v < tiles; v++) {
                    __m256i products = _mm256_madd_epi16(_mm256_maddubs_epi16(x, w[v]), ones);
                    group_sums[r * tiles + v] = _mm256_add_epi32(group_sums[r * tiles + v], products);
                }
            }
        }
        for (int v = 0; v < tiles; v++) {
            __m256 scale = _mm256_loadu_ps(alpha + v * alpha_stride + g * 8);
            for (int r = 0; r < QUAD_ROWS; r++) {
                sums[r * tiles + v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(group_sums[r * tiles + v]), scale, sums[r * tiles + v]);
            }
        }
    }
}

/// Loops: blocks of 32 tiles (256 outputs, a 256 KB weight block at k = 1024 stays in L2), then
/// 4-row panels, then pairs of tiles. `patches` NULL: rows of `a` at stride lda; otherwise convolution
/// patches. Rows are read in place (a table of quad offsets; the quads were packed first until that
/// took 17% of an FGQ ResNet-20) unless a row has a partial quad (k or a kernel row's bytes not a
/// multiple of 4), whose panels are packed with zero padding (lbr_pack_quads*).
static void tgemm_u8_avx2(const uint8_t *a, size_t lda, const lbr_patch_geometry *patches, size_t row_begin, size_t row_end,
                          const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                          float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
    const size_t k4 = lbr_round_up(k, 4), quad_count = k4 / 4, groups = (k + group - 1) / group;
    const size_t tiles = lbr_round_up(n, 8) / 8, quads_per_group = group / 4;
    const int direct = patches ? patches->segment_length % 4 == 0 : k % 4 == 0;
    // Direct: byte offsets of each quad within a row (or patch); else the packed quads.
    uint32_t *quads = malloc(quad_count * (direct ? 1 : QUAD_ROWS) * sizeof(uint32_t));
    const uint8_t *row_start[QUAD_ROWS];
    if (quads != NULL && direct) {
        for (size_t q = 0; q < quad_count; q++) {
            quads[q] = patches ? (uint32_t)((4 * q) / patches->segment_length * patches->segment_stride + (4 * q) % patches->segment_length)
                               : (uint32_t)(4 * q);
        }
    }
    if (quads == NULL) {
        if (patches) tgemm_u8_patches_portable(a, patches, row_begin, row_end, packed_t, packed_alpha, n, group, input_scale, correction, bias, out, ldo);
        else tgemm_u8_portable(a, lda, row_begin, row_end, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
        return;
    }
    for (size_t tb = 0; tb < tiles; tb += TILES_PER_BLOCK) {
        size_t te = lbr_min(tiles, tb + TILES_PER_BLOCK);
        for (size_t i = row_begin; i < row_end; i += QUAD_ROWS) {
            size_t rows = lbr_min(QUAD_ROWS, row_end - i);
            if (direct) {
                for (size_t r = 0; r < QUAD_ROWS; r++) {   // a short panel repeats its first row (not stored)
                    const size_t row = i + (r < rows ? r : 0);
                    row_start[r] = patches ? a + lbr_patch_base(patches, row) : a + row * lda;
                }
            } else if (patches) {
                lbr_pack_quads_patches(a, patches, i, rows, quads);
            } else {
                lbr_pack_quads(a, lda, i, rows, k, quads);
            }
            for (size_t tile = tb; tile < te; tile += 2) {
                int tile_count = (int)lbr_min(2, te - tile);
                __m256 sums[QUAD_ROWS * 2];
                const int8_t *wt = packed_t + tile * k4 * 8;
                const float *alpha = packed_alpha + tile * groups * 8;
#define LBR_U8_TILE(TILES, PER_GROUP, DIRECT) \
    u8_tile(TILES, PER_GROUP, DIRECT, quads, row_start, quads, quad_count, wt, k4 * 8, alpha, groups * 8, sums)
                if (direct) {
                    if (quads_per_group == 1) { if (tile_count == 2) LBR_U8_TILE(2, 1, 1); else LBR_U8_TILE(1, 1, 1); }
                    else if (tile_count == 2) LBR_U8_TILE(2, quads_per_group, 1);
                    else LBR_U8_TILE(1, quads_per_group, 1);
                } else {
                    if (quads_per_group == 1) { if (tile_count == 2) LBR_U8_TILE(2, 1, 0); else LBR_U8_TILE(1, 1, 0); }
                    else if (tile_count == 2) LBR_U8_TILE(2, quads_per_group, 0);
                    else LBR_U8_TILE(1, quads_per_group, 0);
                }
#undef LBR_U8_TILE
                for (size_t r = 0; r < rows; r++) {
                    for (int v = 0; v < tile_count; v++) {
                        float lanes[8];
                        _mm256_storeu_ps(lanes, sums[r * (size_t)tile_count + (size_t)v]);
                        size_t first = (tile + (size_t)v) * 8;
                        for (size_t c = 0; c < lbr_min(8, n - first); c++) {
                            size_t j = first + c;
                            out[(i + r) * ldo + j] = finish(lanes[c], input_scale, correction[j], bias[j]);
                        }
                    }
                }
            }
        }
    }
    free(quads);
}
LBR_AVX2_END
#endif

void lbr_tgemm_u8(lbr_isa isa, const uint8_t *a, size_t lda, size_t row_begin, size_t row_end,
                  const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                  float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        tgemm_u8_avx2(a, lda, NULL, row_begin, row_end, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
        return;
    }
#endif
    tgemm_u8_portable(a, lda, row_begin, row_end, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
}

void lbr_tgemm_u8_patches(lbr_isa isa, const uint8_t *a, const lbr_patch_geometry *g, size_t row_begin, size_t row_end,
                          const int8_t *packed_t, const float *packed_alpha, size_t n, size_t group,
                          float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        tgemm_u8_avx2(a, 0, g, row_begin, row_end, packed_t, packed_alpha, n, g->segments * g->segment_length, group, input_scale,
                      correction, bias, out, ldo);
        return;
    }
#endif
    tgemm_u8_patches_portable(a, g, row_begin, row_end, packed_t, packed_alpha, n, group, input_scale, correction, bias, out, ldo);
}
