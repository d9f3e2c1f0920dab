// Float activations times ±1 weights: out[m][j] = sum_k x[m][k] * s[j][k], the product a binary
// layer computes when it reads floats (a binary first layer). Stored as floats, the ±1 weights took
// 32x their bits in memory (800 KB for the 784 x 256 first layer of a 41 KB binary MNIST MLP), and a
// batch-1 sgemv streamed all of them.
//
// Lookup tables instead (the idea of LUT-based low-bit GEMV): the inputs are taken three at a time,
// and for each triple g of a row the 8 signed sums T_g[p] = (±x0 ± x1) ± x2 (bit i of p set: input i
// has weight -1) are built once, in one 256-bit register. An output's dot product is then
// sum_g T_g[p_jg], where p_jg is the 3-bit sign pattern of output j's weights on triple g: one
// vpermps looks up 8 outputs' patterns at once. Per triple and 8 outputs: a byte load widened to
// indices, a vpermps and a vaddps for 24 multiply-adds; the table costs ~6 operations per triple and
// row, shared by all outputs.
//
// Layout: patterns as bytes [n / 8][ceil(k / 3)][8] (3 bits used; 0 past n and k, where the padded
// inputs are 0 too), 1 byte per 3 weights: 8/3 bits per weight against 32 for floats.
//
// Rounding: T_g[p] is ((±x0) + (±x1)) + (±x2) and every output sums its T_g in ascending g from 0, on
// both paths, so the AVX2 and portable paths agree bit for bit (an FMA by ±1 rounds as the add
// does). The order differs from sum_k x[k] * s[k], so against that (lbr_slgemm_ref) they agree
// within float rounding.
#include "internal.h"
#include <stdlib.h>

enum { SL_TILE = 8, SL_GROUP = 3 };

static size_t groups_of(size_t k) { return (k + SL_GROUP - 1) / SL_GROUP; }

size_t lbr_slgemm_packed_bytes(size_t n, size_t k) { return lbr_round_up(n, SL_TILE) * groups_of(k); }

void lbr_slgemm_pack(const uint64_t *signs, size_t words_per_row, size_t n, size_t k, uint8_t *packed) {
    const size_t groups = groups_of(k);
    memset(packed, 0, lbr_slgemm_packed_bytes(n, k));
    for (size_t j = 0; j < n; j++) {
        for (size_t kk = 0; kk < k; kk++) {
            if ((signs[j * words_per_row + kk / 64] >> (kk % 64)) & 1) {
                packed[(j / SL_TILE) * groups * SL_TILE + (kk / SL_GROUP) * SL_TILE + j % SL_TILE] |= (uint8_t)(1u << (kk % SL_GROUP));
            }
        }
    }
}

void lbr_slgemm_ref(const float *x, size_t ldx, size_t rows, const uint64_t *signs, size_t words_per_row, size_t n, size_t k,
                    float *out, size_t ldo) {
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < n; j++) {
            float sum = 0;
            for (size_t kk = 0; kk < k; kk++) {
                const int negative = (signs[j * words_per_row + kk / 64] >> (kk % 64)) & 1;
                sum += negative ? -x[i * ldx + kk] : x[i * ldx + kk];
            }
            out[i * ldo + j] = sum;
        }
    }
}

/// Input kk of a row, 0 past k (the padded inputs of the last triple).
LBR_INLINE float input_at(const float *row, size_t kk, size_t k) { return kk < k ? row[kk] : 0.0f; }

/// The 8 entries of triple g's table: entry p = ((±x0) + (±x1)) + (±x2), input i negated where bit i of p is set.
static void table_portable(const float *row, size_t g, size_t k, float *table) {
    const float x0 = input_at(row, g * 3, k), x1 = input_at(row, g * 3 + 1, k), x2 = input_at(row, g * 3 + 2, k);
    for (int p = 0; p < SL_TILE; p++) table[p] = ((p & 1 ? -x0 : x0) + (p & 2 ? -x1 : x1)) + (p & 4 ? -x2 : x2);
}

static void slgemm_portable(const float *x, size_t ldx, size_t rows, const uint8_t *packed, size_t n, size_t k, float *out,
                            size_t ldo) {
    const size_t groups = groups_of(k);
    float table[SL_TILE];
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < n; j++) out[i * ldo + j] = 0;
        for (size_t g = 0; g < groups; g++) {
            table_portable(x + i * ldx, g, k, table);
            for (size_t j = 0; j < n; j++) out[i * ldo + j] += table[packed[(j / SL_TILE) * groups * SL_TILE + g * SL_TILE + j % SL_TILE]];
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Triple g's patterns for 8 outputs (8 bytes) as vpermps indices.
LBR_INLINE __m256i patterns8(const uint8_t *tile, size_t g) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(tile + g * SL_TILE)));
}

/// Stores the first `count` of 8 lanes.
LBR_INLINE void store_lanes(float *dst, __m256 v, size_t count) {
    if (count == SL_TILE) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    float lanes[SL_TILE];
    _mm256_storeu_ps(lanes, v);
    memcpy(dst, lanes, count * sizeof(float));
}

/// Every triple's table of one row, 8 floats each: built with FMAs by ±1, which round as the portable adds.
static void tables_avx2(const float *row, size_t k, float *tables) {
    const __m256 c0 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1), c1 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const __m256 c2 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    const size_t groups = groups_of(k), whole = k / SL_GROUP;
    for (size_t g = 0; g < groups; g++) {
        const float x0 = g < whole ? row[g * 3] : input_at(row, g * 3, k);
        const float x1 = g < whole ? row[g * 3 + 1] : input_at(row, g * 3 + 1, k);
        const float x2 = g < whole ? row[g * 3 + 2] : input_at(row, g * 3 + 2, k);
        __m256 t = _mm256_mul_ps(_mm256_set1_ps(x0), c0);
        t = _mm256_fmadd_ps(_mm256_set1_ps(x1), c1, t);
        _mm256_store_ps(tables + g * SL_TILE, _mm256_fmadd_ps(_mm256_set1_ps(x2), c2, t));
    }
}

static void slgemm_avx2(const float *x, size_t ldx, size_t rows, const uint8_t *packed, size_t n, size_t k, float *out, size_t ldo) {
    const size_t groups = groups_of(k), tiles = (n + SL_TILE - 1) / SL_TILE;
    float *tables = aligned_alloc(32, lbr_round_up(groups * SL_TILE * sizeof(float), 32));
    if (tables == NULL) {
        slgemm_portable(x, ldx, rows, packed, n, k, out, ldo);
        return;
    }
    for (size_t i = 0; i < rows; i++) {
        tables_avx2(x + i * ldx, k, tables);
        float *dst = out + i * ldo;
        size_t t = 0;
        // Four tiles (32 outputs) per pass: four independent add chains share each table load.
        for (; t + 4 <= tiles; t += 4) {
            const uint8_t *p0 = packed + t * groups * SL_TILE, *p1 = p0 + groups * SL_TILE;
            const uint8_t *p2 = p1 + groups * SL_TILE, *p3 = p2 + groups * SL_TILE;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t g = 0; g < groups; g++) {
                const __m256 table = _mm256_load_ps(tables + g * SL_TILE);
                a0 = _mm256_add_ps(a0, _mm256_permutevar8x32_ps(table, patterns8(p0, g)));
                a1 = _mm256_add_ps(a1, _mm256_permutevar8x32_ps(table, patterns8(p1, g)));
                a2 = _mm256_add_ps(a2, _mm256_permutevar8x32_ps(table, patterns8(p2, g)));
                a3 = _mm256_add_ps(a3, _mm256_permutevar8x32_ps(table, patterns8(p3, g)));
            }
            store_lanes(dst + t * SL_TILE, a0, SL_TILE);
            store_lanes(dst + (t + 1) * SL_TILE, a1, SL_TILE);
            store_lanes(dst + (t + 2) * SL_TILE, a2, SL_TILE);
            store_lanes(dst + (t + 3) * SL_TILE, a3, lbr_min(SL_TILE, n - (t + 3) * SL_TILE));
        }
        for (; t < tiles; t++) {
            const uint8_t *p0 = packed + t * groups * SL_TILE;
            __m256 a0 = _mm256_setzero_ps();
            for (size_t g = 0; g < groups; g++) {
                a0 = _mm256_add_ps(a0, _mm256_permutevar8x32_ps(_mm256_load_ps(tables + g * SL_TILE), patterns8(p0, g)));
            }
            store_lanes(dst + t * SL_TILE, a0, lbr_min(SL_TILE, n - t * SL_TILE));
        }
    }
    free(tables);
}
LBR_AVX2_END
#endif

void lbr_slgemm(lbr_isa isa, const float *x, size_t ldx, size_t rows, const uint8_t *packed, size_t n, size_t k, float *out,
                size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { slgemm_avx2(x, ldx, rows, packed, n, k, out, ldo); return; }
#endif
    slgemm_portable(x, ldx, rows, packed, n, k, out, ldo);
}
