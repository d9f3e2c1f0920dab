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
// Binary activations (lbr_tgemm_bits). With x = 1 for -1 and planes plus/minus (t = +1 / -1):
//     s_g = sum t_k * (1 - 2 x_k) = T_g - 2 * (popcount(plus_g & x_g) - popcount(minus_g & x_g)),
// T_g = sum of t over the group, so y = baseline - 2 * sum_g alpha_g * e_g with
// baseline = sum_g alpha_g * T_g precomputed. At group = 4 a group is a nibble: the AVX2 path takes
// 64 groups per 256 bits with lbr_popcount_nibbles, then converts the counts to float for the
// scale multiply-add, which dominates the cost.
#include "internal.h"

size_t lbr_tgemm_packed_weight_bytes(size_t n, size_t k) { return lbr_round_up(n, 8) * lbr_round_up(k, 4); }

size_t lbr_tgemm_packed_scale_count(size_t n, size_t k, size_t group) {
    return lbr_round_up(n, 8) * ((k + group - 1) / group);
}

void lbr_tgemm_pack_weights(const int8_t *t, size_t ldt, const float *alpha, size_t lda,
                            size_t n, size_t k, size_t group, int8_t *packed_t, float *packed_alpha) {
    const size_t k4 = lbr_round_up(k, 4), groups = (k + group - 1) / group, tiles = lbr_round_up(n, 8) / 8;
    for (size_t tile = 0; tile < tiles; tile++) {
        for (size_t r = 0; r < 8; r++) {
            size_t j = 8 * tile + r;
            for (size_t kk = 0; kk < k4; kk++) {
                packed_t[tile * k4 * 8 + (kk / 4) * 32 + r * 4 + kk % 4] = (j < n && kk < k) ? t[j * ldt + kk] : 0;
            }
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

/// Four activation bytes starting at k, zero past `k_end` (the row may end inside the quad).
LBR_INLINE uint32_t activation_quad(const uint8_t *row, size_t k, size_t k_end) {
    uint32_t quad = 0;
    if (k + 4 <= k_end) {
        memcpy(&quad, row + k, 4);
    } else {
        memcpy(&quad, row + k, k_end - k);
    }
    return quad;
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

/// e_g = popcount(plus_g & x_g) - popcount(minus_g & x_g) for group index g (scalar popcounts).
/// The row has `words` words; a short last group of 64 or more bits stops there.
LBR_INLINE int32_t group_excess(const uint64_t *x, const uint64_t *plus, const uint64_t *minus, size_t g,
                                size_t group, size_t words) {
    if (group >= 64) {
        int32_t e = 0;
        for (size_t w = g * group / 64; w < lbr_min(words, (g + 1) * group / 64); w++) {
            e += __builtin_popcountll(plus[w] & x[w]) - __builtin_popcountll(minus[w] & x[w]);
        }
        return e;
    }
    size_t bit = g * group, w = bit / 64, shift = bit % 64;
    uint64_t mask = (((uint64_t)1 << group) - 1) << shift;
    return __builtin_popcountll(plus[w] & x[w] & mask) - __builtin_popcountll(minus[w] & x[w] & mask);
}

/// partial + sum over groups [g_begin, g_end) of alpha_g * e_g.
LBR_INLINE float excess_sum(const uint64_t *x, const uint64_t *plus, const uint64_t *minus, const float *alpha,
                            size_t g_begin, size_t g_end, size_t group, size_t words, float partial) {
    for (size_t g = g_begin; g < g_end; g++) partial += alpha[g] * (float)group_excess(x, plus, minus, g, group, words);
    return partial;
}

void lbr_tgemm_bits_ref(const uint64_t *a, size_t lda, size_t m, const uint64_t *plus, const uint64_t *minus,
                        size_t ldw, const float *alpha, size_t ld_alpha, size_t n, size_t k, size_t group,
                        float *out, size_t ldo) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float sum = 0;
            for (size_t g = 0; g * group < k; g++) {
                int32_t s = 0;
                for (size_t kk = g * group; kk < lbr_min(k, (g + 1) * group); kk++) {
                    int32_t activation = ((a[i * lda + kk / 64] >> (kk % 64)) & 1) ? -1 : 1;
                    int32_t weight = (int32_t)((plus[j * ldw + kk / 64] >> (kk % 64)) & 1) -
                                     (int32_t)((minus[j * ldw + kk / 64] >> (kk % 64)) & 1);
                    s += weight * activation;
                }
                sum += alpha[j * ld_alpha + g] * (float)s;
            }
            out[i * ldo + j] = sum;
        }
    }
}

static void tgemm_bits_portable(const uint64_t *a, size_t lda, size_t row_begin, size_t row_end,
                                const uint64_t *plus, const uint64_t *minus, size_t ldw, const float *alpha,
                                size_t ld_alpha, size_t n, size_t k, size_t group, const float *baseline,
                                float *out, size_t ldo) {
    const size_t groups = (k + group - 1) / group, words = (k + 63) / 64;
    for (size_t i = row_begin; i < row_end; i++) {
        for (size_t j = 0; j < n; j++) {
            float e = excess_sum(a + i * lda, plus + j * ldw, minus + j * ldw, alpha + j * ld_alpha, 0, groups, group, words, 0);
            out[i * ldo + j] = baseline[j] - 2 * e;
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Converts 32 signed bytes to float and accumulates them times 32 consecutive scales.
LBR_INLINE __m256 scale_bytes(__m256i bytes, const float *alpha, __m256 sum) {
    __m128i halves[2] = {_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1)};
    for (int h = 0; h < 2; h++) {
        __m256 low = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(halves[h]));
        __m256 high = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(halves[h], 8)));
        sum = _mm256_fmadd_ps(low, _mm256_loadu_ps(alpha + 16 * h), sum);
        sum = _mm256_fmadd_ps(high, _mm256_loadu_ps(alpha + 16 * h + 8), sum);
    }
    return sum;
}

LBR_INLINE float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Group size 4: 64 nibble groups per 256 bits. The low- and high-nibble excesses are interleaved
/// back into group order (vpunpck{l,h}bw) so the scales are read in their natural order.
static float nibble_groups_avx2(const uint64_t *x, const uint64_t *plus, const uint64_t *minus,
                                const float *alpha, size_t chunks) {
    __m256 sum = _mm256_setzero_ps();
    for (size_t c = 0; c < chunks; c++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x + 4 * c));
        __m256i p_low, p_high, m_low, m_high;
        lbr_popcount_nibbles(_mm256_and_si256(xv, _mm256_loadu_si256((const __m256i *)(plus + 4 * c))), &p_low, &p_high);
        lbr_popcount_nibbles(_mm256_and_si256(xv, _mm256_loadu_si256((const __m256i *)(minus + 4 * c))), &m_low, &m_high);
        __m256i low = _mm256_sub_epi8(p_low, m_low), high = _mm256_sub_epi8(p_high, m_high);
        // Per 128-bit lane: unpacklo gives groups 0..15 (and 32..47), unpackhi 16..31 (48..63).
        __m256i first = _mm256_unpacklo_epi8(low, high), second = _mm256_unpackhi_epi8(low, high);
        __m256i ordered_low = _mm256_permute2x128_si256(first, second, 0x20);
        __m256i ordered_high = _mm256_permute2x128_si256(first, second, 0x31);
        sum = scale_bytes(ordered_low, alpha + 64 * c, sum);
        sum = scale_bytes(ordered_high, alpha + 64 * c + 32, sum);
    }
    return horizontal_sum(sum);
}

static void tgemm_bits_avx2(const uint64_t *a, size_t lda, size_t row_begin, size_t row_end,
                            const uint64_t *plus, const uint64_t *minus, size_t ldw, const float *alpha,
                            size_t ld_alpha, size_t n, size_t k, size_t group, const float *baseline,
                            float *out, size_t ldo) {
    const size_t groups = (k + group - 1) / group, words = (k + 63) / 64;
    const size_t chunks = group == 4 ? groups / 64 : 0;
    for (size_t i = row_begin; i < row_end; i++) {
        const uint64_t *x = a + i * lda;
        for (size_t j = 0; j < n; j++) {
            const uint64_t *p = plus + j * ldw, *q = minus + j * ldw;
            const float *scales = alpha + j * ld_alpha;
            float e = chunks ? nibble_groups_avx2(x, p, q, scales, chunks) : 0;
            e = excess_sum(x, p, q, scales, 64 * chunks, groups, group, words, e);
            out[i * ldo + j] = baseline[j] - 2 * e;
        }
    }
}

/// 8-bit tile: `rows` activation rows x `tiles` weight tiles of 8 outputs (16 outputs at most).
LBR_INLINE void u8_tile(int rows, int tiles, const uint8_t *a, size_t lda, const int8_t *wt, size_t tile_stride,
                        const float *alpha, size_t alpha_stride, size_t k, size_t group, __m256 *sums) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int t = 0; t < rows * tiles; t++) sums[t] = _mm256_setzero_ps();
    for (size_t g0 = 0, gi = 0; g0 < k; g0 += group, gi++) {
        size_t g1 = lbr_min(k, g0 + group);
        __m256i group_sums[4];
        for (int t = 0; t < rows * tiles; t++) group_sums[t] = _mm256_setzero_si256();
        for (size_t kk = g0; kk < g1; kk += 4) {
            __m256i w[2];
            for (int v = 0; v < tiles; v++) w[v] = _mm256_loadu_si256((const __m256i *)(wt + v * tile_stride + kk * 8));
            for (int r = 0; r < rows; r++) {
                __m256i x = _mm256_set1_epi32((int)activation_quad(a + r * lda, kk, g1));
                for (int v = 0; v < tiles; v++) {
                    __m256i quads = _mm256_madd_epi16(_mm256_maddubs_epi16(x, w[v]), ones);
                    group_sums[r * tiles + v] = _mm256_add_epi32(group_sums[r * tiles + v], quads);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int v = 0; v < tiles; v++) {
                __m256 scale = _mm256_loadu_ps(alpha + v * alpha_stride + gi * 8);
                sums[r * tiles + v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(group_sums[r * tiles + v]), scale, sums[r * tiles + v]);
            }
        }
    }
}

static void tgemm_u8_avx2(const uint8_t *a, size_t lda, size_t row_begin, size_t row_end,
                          const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                          float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
    const size_t k4 = lbr_round_up(k, 4), groups = (k + group - 1) / group, tiles = lbr_round_up(n, 8) / 8;
    for (size_t tile = 0; tile < tiles; tile += 2) {
        int tile_count = (int)lbr_min(2, tiles - tile);
        for (size_t i = row_begin; i < row_end; i += 2) {
            int rows = (int)lbr_min(2, row_end - i);
            __m256 sums[4];
            const int8_t *wt = packed_t + tile * k4 * 8;
            const float *alpha = packed_alpha + tile * groups * 8;
            switch (rows * 10 + tile_count) {
#define LBR_U8_CASE(R, V) case R * 10 + V: u8_tile(R, V, a + i * lda, lda, wt, k4 * 8, alpha, groups * 8, k, group, sums); break;
                LBR_U8_CASE(2, 2) LBR_U8_CASE(2, 1) LBR_U8_CASE(1, 2) LBR_U8_CASE(1, 1)
#undef LBR_U8_CASE
            }
            for (int r = 0; r < rows; r++) {
                for (int v = 0; v < tile_count; v++) {
                    float lanes[8];
                    _mm256_storeu_ps(lanes, sums[r * tile_count + v]);
                    size_t first = (tile + (size_t)v) * 8;
                    for (size_t c = 0; c < lbr_min(8, n - first); c++) {
                        size_t j = first + c;
                        out[(i + (size_t)r) * ldo + j] = finish(lanes[c], input_scale, correction[j], bias[j]);
                    }
                }
            }
        }
    }
}
LBR_AVX2_END
#endif

void lbr_tgemm_u8(lbr_isa isa, const uint8_t *a, size_t lda, size_t row_begin, size_t row_end,
                  const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                  float input_scale, const float *correction, const float *bias, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        tgemm_u8_avx2(a, lda, row_begin, row_end, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
        return;
    }
#endif
    tgemm_u8_portable(a, lda, row_begin, row_end, packed_t, packed_alpha, n, k, group, input_scale, correction, bias, out, ldo);
}

void lbr_tgemm_bits(lbr_isa isa, const uint64_t *a, size_t lda, size_t row_begin, size_t row_end,
                    const uint64_t *plus, const uint64_t *minus, size_t ldw, const float *alpha, size_t ld_alpha,
                    size_t n, size_t k, size_t group, const float *baseline, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        tgemm_bits_avx2(a, lda, row_begin, row_end, plus, minus, ldw, alpha, ld_alpha, n, k, group, baseline, out, ldo);
        return;
    }
#endif
    tgemm_bits_portable(a, lda, row_begin, row_end, plus, minus, ldw, alpha, ld_alpha, n, k, group, baseline, out, ldo);
}
