// Ternary weights x binary (sign-bit) activations with integer group-scale codes.
//
// Weights are unit[j] * q[j][g] * t[j][k]: t in {-1, 0, +1}, q a 7-bit code (0..127) per group of
// `group` consecutive k (a multiple of 4), unit one float per output. Activations are sign bits,
// 64 per word along k (bit 1 = -1), as every binary layer of the runtime writes them. The kernel
// computes the exact integer
//     D[m][j] = sum_g q[j][g] * sum_{k in g} t[j][k] * a[m][k] = CZ[j] - 2 * E[m][j],
//     E[m][j] = sum_g q[j][g] * popcount over g of (z & (s ^ x)),
// where z marks nonzero weights, s negative ones, x the activation's sign bit (so z & (s ^ x) marks
// the products that are -1) and CZ[j] = sum_g q[j][g] * (nonzero count of g), fixed at packing.
//
// Why this is fast: no per-group float work. Per 256 weights of one output and one row, AVX2 does
// xor + and, splits the bytes into nibbles (a nibble is 4 consecutive k, always inside one group),
// counts each nibble with vpshufb, and multiplies the counts by their groups' codes with vpmaddubsw
// (count <= 4 unsigned x code <= 127 signed: pair sums <= 1016, never saturated). 11 vector
// operations per 256 multiply-adds; the int16 sums take 16 blocks (<= 16 * 2032 = 32512) before
// they are widened into int32 with vpmaddwd. With float scales, as lbr_tgemm_u8 keeps them, every
// group costs a conversion and an FMA instead.
//
// Packed weights, per output j and per block of 256 k (k padded to a multiple of 256):
//     { uint64 z[4]; uint64 s[4]; int8 code_lo[32]; int8 code_hi[32]; }   (128 bytes)
// code_lo[b] is the code of the group holding k = 8b..8b+3 (byte b's low nibble), code_hi[b] of
// k = 8b+4..8b+7; both 0 past k.
#include "internal.h"
#include <stdlib.h>

enum { TS_BLOCK_BITS = 256, TS_BLOCK_BYTES = 128, TS_FLUSH_BLOCKS = 16 };

size_t lbr_tsgemm_packed_bytes(size_t n, size_t k) { return n * lbr_round_up(k, TS_BLOCK_BITS) / TS_BLOCK_BITS * TS_BLOCK_BYTES; }

void lbr_tsgemm_pack(const int8_t *t, size_t ldt, const uint8_t *codes, size_t ldc, size_t n, size_t k, size_t group,
                     uint8_t *packed, int32_t *nonzero_sums) {
    const size_t blocks = lbr_round_up(k, TS_BLOCK_BITS) / TS_BLOCK_BITS;
    memset(packed, 0, lbr_tsgemm_packed_bytes(n, k));
    for (size_t j = 0; j < n; j++) {
        int32_t sum = 0;
        for (size_t kk = 0; kk < k; kk++) {
            uint8_t *block = packed + (j * blocks + kk / TS_BLOCK_BITS) * TS_BLOCK_BYTES;
            const size_t bit = kk % TS_BLOCK_BITS, byte = bit / 8;
            const int8_t value = t[j * ldt + kk];
            const uint8_t code = codes[j * ldc + kk / group];
            uint64_t *z = (uint64_t *)block, *s = z + 4;
            if (value != 0) {
                z[bit / 64] |= 1ull << (bit % 64);
                sum += code;
            }
            if (value < 0) s[bit / 64] |= 1ull << (bit % 64);
            block[64 + (bit % 8 < 4 ? 0 : 32) + byte] = code;
        }
        nonzero_sums[j] = sum;
    }
}

void lbr_tsgemm_ref(const uint64_t *a, size_t lda, size_t m, const int8_t *t, size_t ldt, const uint8_t *codes, size_t ldc,
                    size_t n, size_t k, size_t group, int32_t *out, size_t ldo) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            int64_t total = 0;
            for (size_t g = 0; g * group < k; g++) {
                int64_t s = 0;
                for (size_t kk = g * group; kk < lbr_min(k, (g + 1) * group); kk++) {
                    const int x = (a[i * lda + kk / 64] >> (kk % 64)) & 1 ? -1 : 1;
                    s += t[j * ldt + kk] * x;
                }
                total += (int64_t)codes[j * ldc + g] * s;
            }
            out[i * ldo + j] = (int32_t)total;
        }
    }
}

/// The float epilogue: unit * D + bias, or D itself when `out` is the int32 buffer.
LBR_INLINE void ts_store(int32_t d, size_t i, size_t j, int32_t *dots, size_t ldd, const float *unit, const float *bias,
                         float *out, size_t ldo) {
    if (dots) dots[i * ldd + j] = d;
    else out[i * ldo + j] = unit[j] * (float)d + (bias ? bias[j] : 0.0f);
}

/// Per-nibble popcounts of a word, one count (0..4) per nibble (SWAR).
LBR_INLINE uint64_t ts_nibble_counts(uint64_t e) {
    e = e - ((e >> 1) & 0x5555555555555555ull);
    return (e & 0x3333333333333333ull) + ((e >> 2) & 0x3333333333333333ull);
}

static void tsgemm_portable(const uint64_t *a, size_t lda, size_t row_begin, size_t row_end, const uint8_t *packed,
                            const int32_t *nonzero_sums, size_t n, size_t k, int32_t *dots, size_t ldd, const float *unit,
                            const float *bias, float *out, size_t ldo) {
    const size_t blocks = lbr_round_up(k, TS_BLOCK_BITS) / TS_BLOCK_BITS, words = (k + 63) / 64;
    for (size_t i = row_begin; i < row_end; i++) {
        const uint64_t *x = a + i * lda;
        for (size_t j = 0; j < n; j++) {
            int64_t e_sum = 0;
            for (size_t w = 0; w < words; w++) {
                const uint8_t *block = packed + (j * blocks + w / 4) * TS_BLOCK_BYTES;
                uint64_t z, s;
                memcpy(&z, block + (w % 4) * 8, 8);
                memcpy(&s, block + 32 + (w % 4) * 8, 8);
                const uint64_t counts = ts_nibble_counts(z & (s ^ x[w]));
                const int8_t *lo = (const int8_t *)block + 64 + (w % 4) * 8, *hi = lo + 32;
                for (int b = 0; b < 8; b++) {
                    e_sum += (int64_t)((counts >> (8 * b)) & 0xF) * lo[b] + (int64_t)((counts >> (8 * b + 4)) & 0xF) * hi[b];
                }
            }
            ts_store(nonzero_sums[j] - 2 * (int32_t)e_sum, i, j, dots, ldd, unit, bias, out, ldo);
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Sums of the 8 int32 lanes of 4 vectors, as the 4 lanes of the result.
LBR_INLINE __m128i ts_sum4(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/// Activation words 4b..4b+3 of a row; words past `words` read as 0 (masked, never touched).
LBR_INLINE __m256i ts_load_x(const uint64_t *row, size_t b, size_t words) {
    if (4 * b + 4 <= words) return _mm256_loadu_si256((const __m256i *)(row + 4 * b));
    const long long have = (long long)(words - 4 * b);
    const __m256i mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(have), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_maskload_epi64((const long long *)(row + 4 * b), mask);
}

/// Rows [i, i + R) x outputs [j, j + C): E sums, stored through ts_store as CZ - 2E.
LBR_INLINE void ts_tile(int R, int C, const uint64_t *a, size_t lda, size_t i, size_t j, const uint8_t *packed, size_t blocks,
                        size_t words, const int32_t *nonzero_sums, int32_t *dots, size_t ldd, const float *unit,
                        const float *bias, float *out, size_t ldo) {
    const __m256i table = lbr_nibble_popcounts();
    const __m256i nibbles = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256i wide[4 * 2], acc[4 * 2];
    for (int t = 0; t < R * C; t++) wide[t] = acc[t] = _mm256_setzero_si256();
    for (size_t b = 0; b < blocks; b++) {
        __m256i x[4];
        for (int r = 0; r < R; r++) x[r] = ts_load_x(a + (i + (size_t)r) * lda, b, words);
        for (int c = 0; c < C; c++) {
            const uint8_t *block = packed + ((j + (size_t)c) * blocks + b) * TS_BLOCK_BYTES;
            const __m256i z = _mm256_loadu_si256((const __m256i *)block), s = _mm256_loadu_si256((const __m256i *)(block + 32));
            const __m256i lo_codes = _mm256_loadu_si256((const __m256i *)(block + 64));
            const __m256i hi_codes = _mm256_loadu_si256((const __m256i *)(block + 96));
            for (int r = 0; r < R; r++) {
                const __m256i e = _mm256_and_si256(z, _mm256_xor_si256(s, x[r]));
                const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(e, nibbles));
                const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(e, 4), nibbles));
                acc[r * C + c] = _mm256_add_epi16(acc[r * C + c], _mm256_add_epi16(_mm256_maddubs_epi16(lo, lo_codes),
                                                                                   _mm256_maddubs_epi16(hi, hi_codes)));
            }
        }
        if ((b + 1) % TS_FLUSH_BLOCKS == 0 || b + 1 == blocks) {
            for (int t = 0; t < R * C; t++) {
                wide[t] = _mm256_add_epi32(wide[t], _mm256_madd_epi16(acc[t], ones));
                acc[t] = _mm256_setzero_si256();
            }
        }
    }
    const __m256i zero = _mm256_setzero_si256();
    if (C == 2 && R % 2 == 0) {
        // Two rows x two outputs per horizontal sum, finished 4 lanes at a time: lanes are
        // (row r, j), (r, j + 1), (r + 1, j), (r + 1, j + 1).
        const __m128i cz = _mm_set_epi32(nonzero_sums[j + 1], nonzero_sums[j], nonzero_sums[j + 1], nonzero_sums[j]);
        for (int r = 0; r < R; r += 2) {
            const __m128i d = _mm_sub_epi32(cz, _mm_slli_epi32(ts_sum4(wide[r * 2], wide[r * 2 + 1], wide[r * 2 + 2], wide[r * 2 + 3]), 1));
            const size_t row = i + (size_t)r;
            if (dots) {
                _mm_storel_epi64((__m128i *)(dots + row * ldd + j), d);
                _mm_storel_epi64((__m128i *)(dots + (row + 1) * ldd + j), _mm_unpackhi_epi64(d, d));
            } else {
                const __m128 u = _mm_set_ps(unit[j + 1], unit[j], unit[j + 1], unit[j]);
                const __m128 b = bias ? _mm_set_ps(bias[j + 1], bias[j], bias[j + 1], bias[j]) : _mm_setzero_ps();
                const __m128 y = _mm_add_ps(_mm_mul_ps(u, _mm_cvtepi32_ps(d)), b);
                _mm_storel_pi((__m64 *)(out + row * ldo + j), y);
                _mm_storeh_pi((__m64 *)(out + (row + 1) * ldo + j), y);
            }
        }
        return;
    }
    int32_t sums[4 * 2];
    for (int t = 0; t < R * C; t += 4) {
        _mm_storeu_si128((__m128i *)(sums + t), ts_sum4(wide[t], t + 1 < R * C ? wide[t + 1] : zero,
                                                        t + 2 < R * C ? wide[t + 2] : zero, t + 3 < R * C ? wide[t + 3] : zero));
    }
    for (int r = 0; r < R; r++) {
        for (int c = 0; c < C; c++) {
            const size_t jj = j + (size_t)c;
            ts_store(nonzero_sums[jj] - 2 * sums[r * C + c], i + (size_t)r, jj, dots, ldd, unit, bias, out, ldo);
        }
    }
}

/// Blocks of 64 outputs (8 KB of weights per 256 k), then 4-row tiles across the block's outputs.
static void tsgemm_avx2(const uint64_t *a, size_t lda, size_t row_begin, size_t row_end, const uint8_t *packed,
                        const int32_t *nonzero_sums, size_t n, size_t k, int32_t *dots, size_t ldd, const float *unit,
                        const float *bias, float *out, size_t ldo) {
    const size_t blocks = lbr_round_up(k, TS_BLOCK_BITS) / TS_BLOCK_BITS, words = (k + 63) / 64;
    for (size_t jb = 0; jb < n; jb += 64) {
        const size_t je = lbr_min(n, jb + 64);
        size_t i = row_begin;
        for (; i + 4 <= row_end; i += 4) {
            size_t j = jb;
            for (; j + 2 <= je; j += 2) ts_tile(4, 2, a, lda, i, j, packed, blocks, words, nonzero_sums, dots, ldd, unit, bias, out, ldo);
            if (j < je) ts_tile(4, 1, a, lda, i, j, packed, blocks, words, nonzero_sums, dots, ldd, unit, bias, out, ldo);
        }
        for (; i < row_end; i++) {
            size_t j = jb;
            for (; j + 2 <= je; j += 2) ts_tile(1, 2, a, lda, i, j, packed, blocks, words, nonzero_sums, dots, ldd, unit, bias, out, ldo);
            if (j < je) ts_tile(1, 1, a, lda, i, j, packed, blocks, words, nonzero_sums, dots, ldd, unit, bias, out, ldo);
        }
    }
}
LBR_AVX2_END
#endif

void lbr_tsgemm(lbr_isa isa, const uint64_t *a, size_t lda, size_t row_begin, size_t row_end, const uint8_t *packed,
                const int32_t *nonzero_sums, size_t n, size_t k, int32_t *dots, size_t ldd, const float *unit,
                const float *bias, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        tsgemm_avx2(a, lda, row_begin, row_end, packed, nonzero_sums, n, k, dots, ldd, unit, bias, out, ldo);
        return;
    }
#endif
    tsgemm_portable(a, lda, row_begin, row_end, packed, nonzero_sums, n, k, dots, ldd, unit, bias, out, ldo);
}
