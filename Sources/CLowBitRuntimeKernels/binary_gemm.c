// Binary GEMM: out[m][j] = K - 2 * popcount(a[m] XOR w[j]).
//
// Math. With -1 encoded as bit 1 and +1 as bit 0, the product of two binary values is +1 when
// their bits agree and -1 when they differ, i.e. a_k * w_k = 1 - 2 * (a_k XOR w_k). Summed over the
// K logical positions: dot = K - 2 * popcount(a XOR w). Pad bits are 0 in both operands, so their
// XOR is 0 and K counts only the logical bits (K is passed in; for a convolution it is
// taps * channels while each tap is padded to whole words).
//
// Weight layout. Groups of 4 output rows are interleaved by word: packed[(g * words + k) * 4 + r]
// holds word k of row 4g + r. One 256-bit load then gives word k of 4 outputs, and the activation
// word is broadcast to all four lanes, so each 64-bit lane accumulates one output and no horizontal
// reduction is needed at the end. Measured here (docs/RUNTIME.md) this beat tiles that vectorize
// along K by about 5% at K = 4096 and by 45% at K = 576, where K-vectorized tiles pay for their
// tails and their horizontal sums.
//
// Popcount: three AVX2 tiles (docs/RUNTIME.md, "Binary GEMM", has the measurements).
// - AND lookup on nibble planes, for rows of up to LBR_BGEMM_PLANE_WORDS = 31 words against 32 or more
//   outputs, one row x 32 outputs (then 16, 8, 4). popcount(a XOR w) = popcount(a) + popcount(w) -
//   2 * popcount(a AND w), and popcount(a AND w) is a nibble lookup of (a & 0x0F..) & w_lo plus one
//   of ((a >> 4) & 0x0F..) & w_hi, where w_lo = w & 0x0F.. and w_hi = (w >> 4) & 0x0F.. are stored
//   beside the interleaved weights (two "nibble planes" in the same 4-row interleave) with
//   -2 * popcount(w) per row. The activation word is split once per row and word, so a (row, 4
//   outputs, word) step is 2 ANDs, 2 vpshufb and 2 adds instead of the XOR lookup's XOR, shift,
//   2 ANDs, 2 vpshufb and 2 adds; popcount(a) is a scalar popcnt per word. Byte counters need no
//   fold below 32 words (8 * 31 < 256). ~1.15-1.3x the XOR lookup at 5-13 words.
// - XOR nibble lookup (lbr_popcount_bytes), 2 rows x 16 outputs, byte counters folded into 64-bit
//   lanes with vpsadbw every 31 words: rows of up to 24 words against fewer than 32 outputs (the
//   AND tile's per-row costs made it 20% slower at 16 outputs x 3 words); whole 2 x 16 tiles are
//   written out (short_tile_2x16).
// - one carry-save level of Harley-Seal, 1 row x 16 outputs, for longer rows: for two consecutive
//   words v0, v1 and a running `ones`, carry = majority(ones, v0, v1) and ones = ones ^ v0 ^ v1,
//   which keeps popcount(all words so far) = popcount(ones) + 2 * sum popcount(carries), so one
//   popcount covers two words.
// The portable path runs the interleaved layout with scalar popcounts.
#include "internal.h"

enum { LBR_BGEMM_PLANE_WORDS = 31 };
#define LBR_LOW_NIBBLES 0x0F0F0F0F0F0F0F0FULL

/// Whether the packed weights hold nibble planes and the AVX2 kernel runs the AND tiles on them: rows
/// of up to 31 words against 32 or more outputs (the file comment).
static int uses_planes(size_t n, size_t words) { return words <= LBR_BGEMM_PLANE_WORDS && n >= 32; }

size_t lbr_bgemm_packed_weight_words(size_t n, size_t words) {
    const size_t rows = lbr_round_up(n, 4);
    // The interleaved words, then for short rows the two nibble planes and -2 * popcount(row) as
    // int32, two to a word.
    return rows * words + (uses_planes(n, words) ? rows * words * 2 + rows / 2 : 0);
}

void lbr_bgemm_pack_weights(const uint64_t *w, size_t n, size_t words, size_t ldw, uint64_t *packed) {
    const size_t groups = lbr_round_up(n, 4) / 4;
    const int planed = uses_planes(n, words);
    uint64_t *planes = packed + groups * 4 * words;
    for (size_t g = 0; g < groups; g++) {
        for (size_t k = 0; k < words; k++) {
            for (size_t r = 0; r < 4; r++) {
                const size_t row = 4 * g + r;
                const uint64_t word = row < n ? w[row * ldw + k] : 0;
                packed[(g * words + k) * 4 + r] = word;
                if (!planed) continue;
                planes[(g * words + k) * 8 + r] = word & LBR_LOW_NIBBLES;
                planes[(g * words + k) * 8 + 4 + r] = (word >> 4) & LBR_LOW_NIBBLES;
            }
        }
    }
    if (!planed) return;
    int32_t *counts = (int32_t *)(planes + groups * 8 * words);
    for (size_t row = 0; row < groups * 4; row++) {
        int32_t ones = 0;
        for (size_t k = 0; row < n && k < words; k++) ones += __builtin_popcountll(w[row * ldw + k]);
        counts[row] = -2 * ones;
    }
}

void lbr_bgemm_ref(const uint64_t *a, size_t lda, size_t m, const uint64_t *w, size_t ldw, size_t n,
                   size_t words, int32_t depth_bits, int32_t *out, size_t ldo) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            int32_t differing = 0;
            for (size_t k = 0; k < words; k++) {
                uint64_t x = a[i * lda + k] ^ w[j * ldw + k];
                for (int bit = 0; bit < 64; bit++) differing += (int32_t)((x >> bit) & 1);
            }
            out[i * ldo + j] = depth_bits - 2 * differing;
        }
    }
}

/// Where word k of a row starts: k itself, or koff[k] for a gathered row (lbr_bgemm_gathered).
LBR_INLINE size_t word_offset(const size_t *koff, size_t k) { return koff ? koff[k] : k; }

/// Writes depth - 2 * count for the `valid` (<= 4) outputs of one group.
static void store_group_scalar(const int64_t count[4], int32_t depth_bits, int32_t *dst, size_t valid) {
    for (size_t r = 0; r < valid; r++) dst[r] = depth_bits - 2 * (int32_t)count[r];
}

static void bgemm_portable(const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                           const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits,
                           int32_t *out, size_t ldo) {
    size_t groups = lbr_round_up(n, 4) / 4;
    for (size_t m = row_begin; m < row_end; m++) {
        const uint64_t *x = a + m * lda;
        for (size_t g = 0; g < groups; g++) {
            const uint64_t *wg = packed_w + g * words * 4;
            int64_t count[4] = {0, 0, 0, 0};
            for (size_t k = 0; k < words; k++) {
                for (int r = 0; r < 4; r++) count[r] += __builtin_popcountll(x[word_offset(koff, k)] ^ wg[4 * k + r]);
            }
            store_group_scalar(count, depth_bits, out + m * ldo + 4 * g, lbr_min(4, n - 4 * g));
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Stores the `valid` (<= 4) first lanes of `result`.
LBR_INLINE void store_dwords(__m128i result, int32_t *dst, size_t valid) {
    if (valid == 4) {
        _mm_storeu_si128((__m128i *)dst, result);
    } else {
        int32_t lanes[4];
        _mm_storeu_si128((__m128i *)lanes, result);
        memcpy(dst, lanes, valid * sizeof(int32_t));
    }
}

/// Four 64-bit popcount sums -> depth - 2 * sum for the `valid` outputs of a group.
LBR_INLINE void store_group(__m256i sums, int32_t depth_bits, int32_t *dst, size_t valid) {
    __m128i counts = lbr_low_dwords(sums);
    store_dwords(_mm_sub_epi32(_mm_set1_epi32(depth_bits), _mm_add_epi32(counts, counts)), dst, valid);
}

/// The low dwords of two groups' 64-bit lanes in output order: interleaved by a blend, put in order by
/// one permute.
LBR_INLINE __m256i low_dwords_pair(__m256i first, __m256i second) {
    __m256i counts = _mm256_blend_epi32(first, _mm256_slli_epi64(second, 32), 0xAA);   // f0 s0 f1 s1 f2 s2 f3 s3
    return _mm256_permutevar8x32_epi32(counts, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
}

/// store_group for two groups (8 outputs): one subtract and one 256-bit store.
LBR_INLINE void store_group_pair(__m256i first, __m256i second, int32_t depth_bits, int32_t *dst) {
    const __m256i counts = low_dwords_pair(first, second);
    _mm256_storeu_si256((__m256i *)dst, _mm256_sub_epi32(_mm256_set1_epi32(depth_bits), _mm256_add_epi32(counts, counts)));
}

LBR_INLINE __m256i load_group_word(const uint64_t *wg, size_t k) {
    return _mm256_loadu_si256((const __m256i *)(wg + 4 * k));
}

/// Nibble-lookup tile: `rows` activation rows x `groups` weight groups; sums[r * groups + g] gets
/// per-lane popcounts of a XOR w.
LBR_INLINE void lookup_tile(int rows, int groups, const uint64_t *a, size_t lda, const size_t *koff, const uint64_t *wg,
                            size_t group_stride, size_t words, __m256i *sums) {
    const __m256i zero = _mm256_setzero_si256();
    for (int t = 0; t < rows * groups; t++) sums[t] = zero;
    for (size_t k0 = 0; k0 < words; k0 += 31) {
        size_t k1 = lbr_min(words, k0 + 31);
        __m256i bytes[8];
        for (int t = 0; t < rows * groups; t++) bytes[t] = zero;
        for (size_t k = k0; k < k1; k++) {
            __m256i y[4];
            for (int g = 0; g < groups; g++) y[g] = load_group_word(wg + g * group_stride, k);
            for (int r = 0; r < rows; r++) {
                __m256i x = _mm256_set1_epi64x((long long)a[r * lda + word_offset(koff, k)]);
                for (int g = 0; g < groups; g++) {
                    bytes[r * groups + g] = _mm256_add_epi8(bytes[r * groups + g],
                                                            lbr_popcount_bytes(_mm256_xor_si256(x, y[g])));
                }
            }
        }
        for (int t = 0; t < rows * groups; t++) sums[t] = _mm256_add_epi64(sums[t], _mm256_sad_epu8(bytes[t], zero));
    }
}

/// Carry-save tile: one activation row x `groups` weight groups (see the file comment).
LBR_INLINE void carry_save_tile(int groups, const uint64_t *a, const size_t *koff, const uint64_t *wg, size_t group_stride,
                                size_t words, __m256i *sums) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i ones[4], carries[4];
    for (int g = 0; g < groups; g++) { ones[g] = zero; carries[g] = zero; }
    size_t k = 0;
    while (k + 2 <= words) {
        size_t end = lbr_min(words, k + 62);
        __m256i bytes[4];
        for (int g = 0; g < groups; g++) bytes[g] = zero;
        for (; k + 2 <= end; k += 2) {
            __m256i x0 = _mm256_set1_epi64x((long long)a[word_offset(koff, k)]);
            __m256i x1 = _mm256_set1_epi64x((long long)a[word_offset(koff, k + 1)]);
            for (int g = 0; g < groups; g++) {
                __m256i v0 = _mm256_xor_si256(x0, load_group_word(wg + g * group_stride, k));
                __m256i v1 = _mm256_xor_si256(x1, load_group_word(wg + g * group_stride, k + 1));
                __m256i partial = _mm256_xor_si256(ones[g], v0);
                __m256i carry = _mm256_or_si256(_mm256_and_si256(ones[g], v0), _mm256_and_si256(partial, v1));
                ones[g] = _mm256_xor_si256(partial, v1);
                bytes[g] = _mm256_add_epi8(bytes[g], lbr_popcount_bytes(carry));
            }
        }
        for (int g = 0; g < groups; g++) carries[g] = _mm256_add_epi64(carries[g], _mm256_sad_epu8(bytes[g], zero));
    }
    if (k < words) {
        // An odd last word is a half adder: carry = ones & v, ones ^= v.
        __m256i x = _mm256_set1_epi64x((long long)a[word_offset(koff, k)]);
        for (int g = 0; g < groups; g++) {
            __m256i v = _mm256_xor_si256(x, load_group_word(wg + g * group_stride, k));
            __m256i carry = _mm256_and_si256(ones[g], v);
            ones[g] = _mm256_xor_si256(ones[g], v);
            carries[g] = _mm256_add_epi64(carries[g], _mm256_sad_epu8(lbr_popcount_bytes(carry), zero));
        }
    }
    for (int g = 0; g < groups; g++) {
        sums[g] = _mm256_add_epi64(_mm256_add_epi64(carries[g], carries[g]),
                                   _mm256_sad_epu8(lbr_popcount_bytes(ones[g]), zero));
    }
}

/// One tile of `rows` x `groups`, specialised at compile time through the literal arguments.
LBR_INLINE void run_tile(int carry_save, int rows, int groups, const uint64_t *a, size_t lda, const size_t *koff,
                         const uint64_t *wg, size_t words, int32_t depth_bits, int32_t *out, size_t ldo,
                         size_t first_column, size_t n) {
    __m256i sums[8];
    if (carry_save) {
        carry_save_tile(groups, a, koff, wg, words * 4, words, sums);
    } else {
        lookup_tile(rows, groups, a, lda, koff, wg, words * 4, words, sums);
    }
    for (int r = 0; r < rows; r++) {
        int g = 0;
        // Two groups at once when all 8 outputs exist: one subtract and one 256-bit store.
        for (; g + 2 <= groups && first_column + 4 * (size_t)g + 8 <= n; g += 2) {
            store_group_pair(sums[r * groups + g], sums[r * groups + g + 1], depth_bits, out + r * ldo + first_column + 4 * (size_t)g);
        }
        for (; g < groups; g++) {
            size_t column = first_column + 4 * (size_t)g;
            store_group(sums[r * groups + g], depth_bits, out + r * ldo + column, lbr_min(4, n - column));
        }
    }
}

/// The common tile of short rows: two rows x 16 outputs by nibble lookup, every output present and
/// the byte counters folded once (words <= 31). Written out rather than through run_tile, whose
/// blocks of 31 words and per-group stores cost ~15% at 9 words and ~50% at 3 and 5 words
/// (docs/RUNTIME.md, "Binary GEMM").
LBR_INLINE void short_tile_2x16(const uint64_t *x0, const uint64_t *x1, const size_t *koff, const uint64_t *wg,
                                size_t words, int32_t depth_bits, int32_t *dst, size_t ldo) {
    const __m256i zero = _mm256_setzero_si256();
    const size_t group_stride = words * 4;
    __m256i bytes[8];
    for (int t = 0; t < 8; t++) bytes[t] = zero;
    for (size_t k = 0; k < words; k++) {
        __m256i y[4];
        for (int g = 0; g < 4; g++) y[g] = load_group_word(wg + g * group_stride, k);
        const __m256i u = _mm256_set1_epi64x((long long)x0[word_offset(koff, k)]);
        const __m256i v = _mm256_set1_epi64x((long long)x1[word_offset(koff, k)]);
        for (int g = 0; g < 4; g++) {
            bytes[g] = _mm256_add_epi8(bytes[g], lbr_popcount_bytes(_mm256_xor_si256(u, y[g])));
            bytes[4 + g] = _mm256_add_epi8(bytes[4 + g], lbr_popcount_bytes(_mm256_xor_si256(v, y[g])));
        }
    }
    for (int r = 0; r < 2; r++) {
        for (int g = 0; g < 4; g += 2) {
            store_group_pair(_mm256_sad_epu8(bytes[4 * r + g], zero), _mm256_sad_epu8(bytes[4 * r + g + 1], zero), depth_bits,
                             dst + (size_t)r * ldo + 4 * (size_t)g);
        }
    }
}

/// `carry_save` is a literal at both call sites, so each loop holds only its own tiles.
LBR_INLINE void bgemm_avx2_tile_loop(int carry_save, const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin,
                                     size_t row_end, const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits,
                                     int32_t *out, size_t ldo) {
    const size_t groups = lbr_round_up(n, 4) / 4;
    const size_t tile_rows = carry_save ? 1 : 2;
    // Column blocks of about 16 KB of weights stay in L1 while every row of the range passes.
    size_t block = 16384 / (words * 32);
    block = block < 4 ? 4 : block / 4 * 4;
    for (size_t gb = 0; gb < groups; gb += block) {
        size_t ge = lbr_min(groups, gb + block);
        for (size_t m = row_begin; m < row_end; m += tile_rows) {
            int rows = (int)lbr_min(tile_rows, row_end - m);
            size_t g = gb;
            if (!carry_save && rows == 2) {
                for (; g + 4 <= ge && 4 * (g + 4) <= n; g += 4) {
                    short_tile_2x16(a + m * lda, a + (m + 1) * lda, koff, packed_w + g * words * 4, words, depth_bits,
                                    out + m * ldo + 4 * g, ldo);
                }
            }
            for (; g < ge; g += 4) {
                int count = (int)lbr_min(4, ge - g);
                const uint64_t *wg = packed_w + g * words * 4;
                const uint64_t *x = a + m * lda;
                int32_t *dst = out + m * ldo;
                switch (carry_save * 100 + rows * 10 + count) {
#define LBR_TILE_CASE(CS, R, G) \
    case CS * 100 + R * 10 + G: run_tile(CS, R, G, x, lda, koff, wg, words, depth_bits, dst, ldo, 4 * g, n); break;
                    LBR_TILE_CASE(1, 1, 4) LBR_TILE_CASE(1, 1, 3) LBR_TILE_CASE(1, 1, 2) LBR_TILE_CASE(1, 1, 1)
                    LBR_TILE_CASE(0, 2, 4) LBR_TILE_CASE(0, 2, 3) LBR_TILE_CASE(0, 2, 2) LBR_TILE_CASE(0, 2, 1)
                    LBR_TILE_CASE(0, 1, 4) LBR_TILE_CASE(0, 1, 3) LBR_TILE_CASE(0, 1, 2) LBR_TILE_CASE(0, 1, 1)
#undef LBR_TILE_CASE
                }
            }
        }
    }
}

/// The AND tile (see the file comment): one row x `groups` (a literal, <= 8) groups of 4 outputs on the
/// nibble planes `planes` (this tile's first group), then depth - 2 * popcount(a XOR w) from
/// popcount(a) (`ones_a`) and the weight rows' -2 * popcount(w) (`minus_two_ones_w`). The last group
/// has `valid` outputs.
LBR_INLINE void plane_tile(int groups, const uint64_t *x, const size_t *koff, const uint64_t *planes,
                           const int32_t *minus_two_ones_w, size_t words, uint64_t ones_a, int32_t depth_bits, int32_t *dst,
                           size_t valid) {
    const __m256i zero = _mm256_setzero_si256(), nibbles = _mm256_set1_epi8(0x0F), table = lbr_nibble_popcounts();
    const size_t group_stride = words * 8;
    __m256i bytes[8];
    for (int g = 0; g < groups; g++) bytes[g] = zero;
    for (size_t k = 0; k < words; k++) {
        const __m256i word = _mm256_set1_epi64x((long long)x[word_offset(koff, k)]);
        const __m256i low = _mm256_and_si256(word, nibbles), high = _mm256_and_si256(_mm256_srli_epi16(word, 4), nibbles);
        for (int g = 0; g < groups; g++) {
            const __m256i *w = (const __m256i *)(planes + (size_t)g * group_stride + 8 * k);
            const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(low, _mm256_loadu_si256(w)));
            const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(high, _mm256_loadu_si256(w + 1)));
            bytes[g] = _mm256_add_epi8(bytes[g], _mm256_add_epi8(lo, hi));
        }
    }
    // depth - 2 * popcount(a XOR w) = (depth - 2 * popcount(a)) - 2 * popcount(w) + 4 * popcount(a AND w).
    const __m256i base = _mm256_set1_epi32(depth_bits - 2 * (int32_t)ones_a);
    int g = 0;
    for (; g + 2 < groups || (g + 2 == groups && valid == 4); g += 2) {
        const __m256i both = low_dwords_pair(_mm256_sad_epu8(bytes[g], zero), _mm256_sad_epu8(bytes[g + 1], zero));
        const __m256i w = _mm256_loadu_si256((const __m256i *)(minus_two_ones_w + 4 * g));
        _mm256_storeu_si256((__m256i *)(dst + 4 * g), _mm256_add_epi32(_mm256_add_epi32(base, w), _mm256_slli_epi32(both, 2)));
    }
    for (; g < groups; g++) {
        const __m128i both = lbr_low_dwords(_mm256_sad_epu8(bytes[g], zero));
        const __m128i w = _mm_loadu_si128((const __m128i *)(minus_two_ones_w + 4 * g));
        store_dwords(_mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(base), w), _mm_slli_epi32(both, 2)), dst + 4 * g,
                     g == groups - 1 ? valid : 4);
    }
}

/// Rows of up to LBR_BGEMM_PLANE_WORDS words against 32 or more outputs: AND tiles of 32 outputs,
/// then 16, 8 and 4 (the last group possibly partial), one row at a time over column blocks that keep
/// ~16 KB of planes in L1.
LBR_INLINE void plane_rows(const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                           const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits, int32_t *out, size_t ldo) {
    const size_t groups = lbr_round_up(n, 4) / 4;
    const uint64_t *planes = packed_w + groups * 4 * words;
    const int32_t *minus_two_ones_w = (const int32_t *)(planes + groups * 8 * words);
    size_t block = 16384 / (words * 64);
    block = block < 8 ? 8 : block / 8 * 8;
    for (size_t gb = 0; gb < groups; gb += block) {
        const size_t ge = lbr_min(groups, gb + block);
        for (size_t m = row_begin; m < row_end; m++) {
            const uint64_t *x = a + m * lda;
            uint64_t ones_a = 0;
            for (size_t k = 0; k < words; k++) ones_a += (uint64_t)__builtin_popcountll(x[word_offset(koff, k)]);
            int32_t *dst = out + m * ldo;
            size_t g = gb;
#define LBR_PLANE_TILE(G) \
            plane_tile(G, x, koff, planes + g * words * 8, minus_two_ones_w + 4 * g, words, ones_a, depth_bits, dst + 4 * g, \
                       lbr_min(4, n - 4 * (g + G - 1)))
            for (; g + 8 <= ge; g += 8) LBR_PLANE_TILE(8);
            if (g + 4 <= ge) { LBR_PLANE_TILE(4); g += 4; }
            if (g + 2 <= ge) { LBR_PLANE_TILE(2); g += 2; }
            if (g < ge) LBR_PLANE_TILE(1);
#undef LBR_PLANE_TILE
        }
    }
}

/// `koff` NULL (a literal in bgemm_avx2, so the lookups fold away): word k of row m is a[m * lda + k];
/// otherwise a[m * lda + koff[k]] (lbr_bgemm_gathered).
LBR_INLINE void bgemm_avx2_tiles(const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                                 const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits,
                                 int32_t *out, size_t ldo) {
    if (uses_planes(n, words)) {
        plane_rows(a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
    } else if (words >= 25) {
        bgemm_avx2_tile_loop(1, a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
    } else {
        bgemm_avx2_tile_loop(0, a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
    }
}

static void bgemm_avx2(const uint64_t *a, size_t lda, size_t row_begin, size_t row_end, const uint64_t *packed_w,
                       size_t n, size_t words, int32_t depth_bits, int32_t *out, size_t ldo) {
    bgemm_avx2_tiles(a, lda, NULL, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
}

static void bgemm_avx2_gathered(const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                                const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits, int32_t *out, size_t ldo) {
    bgemm_avx2_tiles(a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
}
LBR_AVX2_END
#endif

void lbr_bgemm(lbr_isa isa, const uint64_t *a, size_t lda, size_t row_begin, size_t row_end,
               const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits,
               int32_t *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa) && words > 0) {
        bgemm_avx2(a, lda, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
        return;
    }
#endif
    bgemm_portable(a, lda, NULL, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
}

void lbr_bgemm_gathered(lbr_isa isa, const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                        const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits, int32_t *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa) && words > 0) {
        bgemm_avx2_gathered(a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
        return;
    }
#endif
    bgemm_portable(a, lda, koff, row_begin, row_end, packed_w, n, words, depth_bits, out, ldo);
}
