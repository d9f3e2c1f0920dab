// Sign-bit packing of float activations and weights, and unpacking to 0/1 bytes.
//
// Layout: a row of `cols` values becomes `words_per_row` uint64 words; value c is bit (c % 64) of
// word (c / 64), least significant bit first. The bit is 1 when x < 0, i.e. it encodes -1, and 0
// encodes +1, so sign(0) = +1 (and -0.0 and NaN also give 0). Bits past `cols` are always 0: with
// zero pad bits in both operands, a XOR w is 0 there and padding never reaches a popcount.
#include "internal.h"

/// Packs one row of up to 64 values into a word, one compare per value.
static uint64_t pack_word_scalar(const float *x, size_t count) {
    uint64_t word = 0;
    for (size_t i = 0; i < count; i++) word |= (uint64_t)(x[i] < 0.0f) << i;
    return word;
}

void lbr_pack_signs_ref(const float *x, size_t rows, size_t cols, size_t ldx,
                        uint64_t *out, size_t words_per_row) {
    for (size_t r = 0; r < rows; r++) {
        uint64_t *row = out + r * words_per_row;
        for (size_t w = 0; w < words_per_row; w++) row[w] = 0;
        for (size_t c = 0; c < cols; c++) {
            if (x[r * ldx + c] < 0.0f) row[c / 64] |= (uint64_t)1 << (c % 64);
        }
    }
}

void lbr_unpack_bits_u8_ref(const uint64_t *bits, size_t rows, size_t cols, size_t words_per_row,
                            uint8_t *out, size_t ldo) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) out[r * ldo + c] = (uint8_t)((bits[r * words_per_row + c / 64] >> (c % 64)) & 1);
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// 32 bits -> 32 bytes of 0/1: byte i of the broadcast word is routed to lanes 8i..8i+7 (vpshufb
/// within each 128-bit half, which both hold the word), each lane keeps its own bit with a
/// one-bit mask, and the compare turns "bit set" into 0xFF, masked down to 1.
static void unpack_bits_u8_avx2(const uint64_t *bits, size_t rows, size_t cols, size_t words_per_row,
                                uint8_t *out, size_t ldo) {
    const __m256i route = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                           2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL), one = _mm256_set1_epi8(1);
    for (size_t r = 0; r < rows; r++) {
        const uint64_t *row = bits + r * words_per_row;
        uint8_t *dst = out + r * ldo;
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            uint32_t half = (uint32_t)(row[c / 64] >> (c % 64));
            __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)half), route);
            __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
            _mm256_storeu_si256((__m256i *)(dst + c), _mm256_and_si256(set, one));
        }
        for (; c < cols; c++) dst[c] = (uint8_t)((row[c / 64] >> (c % 64)) & 1);
    }
}

/// 64 floats -> one word: vcmpps(x < 0) turns each float into an all-ones or all-zero lane and
/// vmovmskps collects the 8 lane signs; 8 such bytes make the word. The ordered-quiet compare is
/// false for NaN, as the scalar x < 0 is.
static uint64_t pack_word_avx2(const float *x) {
    const __m256 zero = _mm256_setzero_ps();
    uint64_t word = 0;
    for (int i = 0; i < 8; i++) {
        __m256 negative = _mm256_cmp_ps(_mm256_loadu_ps(x + 8 * i), zero, _CMP_LT_OQ);
        word |= (uint64_t)(uint32_t)_mm256_movemask_ps(negative) << (8 * i);
    }
    return word;
}

static void pack_signs_avx2(const float *x, size_t rows, size_t cols, size_t ldx,
                            uint64_t *out, size_t words_per_row) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint64_t *dst = out + r * words_per_row;
        size_t w = 0;
        for (; (w + 1) * 64 <= cols; w++) dst[w] = pack_word_avx2(row + 64 * w);
        if (w * 64 < cols) { dst[w] = pack_word_scalar(row + 64 * w, cols - 64 * w); w++; }
        for (; w < words_per_row; w++) dst[w] = 0;
    }
}
LBR_AVX2_END
#endif

void lbr_pack_signs(lbr_isa isa, const float *x, size_t rows, size_t cols, size_t ldx,
                    uint64_t *out, size_t words_per_row) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { pack_signs_avx2(x, rows, cols, ldx, out, words_per_row); return; }
#endif
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint64_t *dst = out + r * words_per_row;
        for (size_t w = 0; w < words_per_row; w++) {
            size_t start = 64 * w;
            dst[w] = start < cols ? pack_word_scalar(row + start, lbr_min(64, cols - start)) : 0;
        }
    }
}

void lbr_unpack_bits_u8(lbr_isa isa, const uint64_t *bits, size_t rows, size_t cols, size_t words_per_row,
                        uint8_t *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { unpack_bits_u8_avx2(bits, rows, cols, words_per_row, out, ldo); return; }
#endif
    lbr_unpack_bits_u8_ref(bits, rows, cols, words_per_row, out, ldo);
}

void lbr_bits_regroup(const uint64_t *in, size_t rows, size_t cols, size_t words_per_row, size_t out_rows, uint64_t *out,
                      size_t out_words) {
    const size_t group = rows / out_rows;
    for (size_t r = 0; r < out_rows; r++) {
        uint64_t *dst = out + r * out_words;
        size_t offset = 0;   // bits of this output row written so far
        for (size_t g = 0; g < group; g++, offset += cols) {
            const uint64_t *src = in + (r * group + g) * words_per_row;
            for (size_t w = 0; w * 64 < cols; w++) {
                const size_t bit = offset + w * 64, shift = bit % 64;
                dst[bit / 64] |= src[w] << shift;
                // The word's high bits spill into the next output word (pad bits past cols are 0).
                if (shift != 0 && bit / 64 + 1 < out_words) dst[bit / 64 + 1] |= src[w] >> (64 - shift);
            }
        }
    }
}
