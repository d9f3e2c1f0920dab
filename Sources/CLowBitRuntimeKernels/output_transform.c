// Output transforms: from int32 binary dot products to what the next layer reads.
//
// Float output. A binary layer followed by a per-channel scale alpha_j and an affine BatchNorm
// (gamma, beta, mean, var) computes y = gamma_j * (alpha_j * dot - mean_j) / sqrt(var_j + eps) + beta_j,
// which is one multiply and one add per element: y = dot * multiplier_j + bias_j with
// multiplier_j = gamma_j * alpha_j / sqrt(var_j + eps) and bias_j = beta_j - gamma_j * mean_j / sqrt(...)
// (folded once, in BinaryOutputTransform.swift). The product is rounded before the add on every
// path (no FMA), so the paths agree bit for bit.
//
// Sign-bit output. When the next layer binarizes y, only y < 0 matters. For multiplier_j > 0,
// y < 0 <=> dot < -bias_j / multiplier_j, and since dot is an integer that is dot < threshold_j with
// threshold_j = ceil(-bias_j / multiplier_j). For multiplier_j < 0 (a negative gamma or alpha) the
// inequality turns over: y < 0 <=> dot > -bias_j / multiplier_j <=> NOT(dot < floor(...) + 1), so the
// channel keeps the same compare and sets its flip bit. One compare and one XOR per channel, and
// the result is written directly as packed bits (bit = 1 for -1, as lbr_pack_signs does).
#include "internal.h"

#pragma STDC FP_CONTRACT OFF

/// The float transform of one element; a separate statement for the product keeps it unfused.
static inline float scaled(int32_t dot, float multiplier, float bias) {
    float product = (float)dot * multiplier;
    return product + bias;
}

void lbr_output_float_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                          const float *multiplier, const float *bias, float *out, size_t ldo) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < n; j++) out[r * ldo + j] = scaled(dot[r * ldd + j], multiplier[j], bias[j]);
    }
}

/// One element of lbr_output_residual: transform, add the shortcut, activate (the unfused order).
static inline float residual_element(int32_t dot, float multiplier, float bias, float addend, lbr_activation activation) {
    return lbr_activate(scaled(dot, multiplier, bias) + addend, activation);
}

void lbr_output_residual_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                             const float *multiplier, const float *bias, const float *addend, size_t lda,
                             lbr_activation activation, float *out, size_t ldo, uint64_t *bits, size_t words_per_row) {
    for (size_t r = 0; r < rows; r++) {
        if (bits) for (size_t w = 0; w < words_per_row; w++) bits[r * words_per_row + w] = 0;
        for (size_t j = 0; j < n; j++) {
            float y = addend ? residual_element(dot[r * ldd + j], multiplier[j], bias[j], addend[r * lda + j], activation)
                             : lbr_activate(scaled(dot[r * ldd + j], multiplier[j], bias[j]), activation);
            out[r * ldo + j] = y;
            if (bits && y < 0.0f) bits[r * words_per_row + j / 64] |= (uint64_t)1 << (j % 64);
        }
    }
}

LBR_INLINE uint64_t flip_bit(const uint64_t *flip, size_t j) { return (flip[j / 64] >> (j % 64)) & 1; }

void lbr_output_bits_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                         const int32_t *threshold, const uint64_t *flip, uint64_t *out, size_t words_per_row) {
    for (size_t r = 0; r < rows; r++) {
        uint64_t *row = out + r * words_per_row;
        for (size_t w = 0; w < words_per_row; w++) row[w] = 0;
        for (size_t j = 0; j < n; j++) {
            uint64_t bit = (uint64_t)(dot[r * ldd + j] < threshold[j]) ^ flip_bit(flip, j);
            row[j / 64] |= bit << (j % 64);
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
static void output_float_avx2(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                              const float *multiplier, const float *bias, float *out, size_t ldo) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *src = dot + r * ldd;
        float *dst = out + r * ldo;
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 product = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(src + j))),
                                           _mm256_loadu_ps(multiplier + j));
            _mm256_storeu_ps(dst + j, _mm256_add_ps(product, _mm256_loadu_ps(bias + j)));
        }
        for (; j < n; j++) dst[j] = scaled(src[j], multiplier[j], bias[j]);
    }
}

/// Eight channels at a time (lbr_activate8); vmovmskps of (y < 0) gives the sign bits of those channels.
/// Channels in multiples of 8 (every ResNet block; other counts take the reference loop): each 8
/// channels' sign bits (vmovmskps) are ORed into a word held in a register, stored once when complete.
static void output_residual_avx2(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                                 const float *multiplier, const float *bias, const float *addend, size_t lda,
                                 lbr_activation activation, float *out, size_t ldo, uint64_t *bits, size_t words_per_row) {
    const __m256 zero = _mm256_setzero_ps();
    for (size_t r = 0; r < rows; r++) {
        const int32_t *src = dot + r * ldd;
        const float *skip = addend ? addend + r * lda : NULL;
        float *dst = out + r * ldo;
        uint64_t word = 0;
        for (size_t j = 0; j < n; j += 8) {
            __m256 product = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(src + j))),
                                           _mm256_loadu_ps(multiplier + j));
            __m256 y = _mm256_add_ps(product, _mm256_loadu_ps(bias + j));
            if (skip) y = _mm256_add_ps(y, _mm256_loadu_ps(skip + j));
            y = lbr_activate8(y, activation);
            _mm256_storeu_ps(dst + j, y);
            word |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(y, zero, _CMP_LT_OQ)) << (j % 64);
            if (bits && (j % 64 == 56 || j + 8 == n)) {   // a word is complete: one 8-byte store
                bits[r * words_per_row + j / 64] = word;
                word = 0;
            }
        }
        if (bits) for (size_t w = (n + 63) / 64; w < words_per_row; w++) bits[r * words_per_row + w] = 0;
    }
}

/// 8 channels at a time (channels in multiples of 8; other counts take the reference loop): vpcmpgtd
/// gives threshold > dot, vmovmskps packs the 8 lane results into a byte of a word held in a register;
/// a complete word gets its flip bits XORed in and is stored once (flip's pad bits are 0).
static void output_bits_avx2(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                             const int32_t *threshold, const uint64_t *flip, uint64_t *out, size_t words_per_row) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *src = dot + r * ldd;
        uint64_t *row = out + r * words_per_row, word = 0;
        for (size_t j = 0; j < n; j += 8) {
            __m256i below = _mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i *)(threshold + j)),
                                               _mm256_loadu_si256((const __m256i *)(src + j)));
            word |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(below)) << (j % 64);
            if (j % 64 == 56 || j + 8 == n) {   // a word is complete: flip bits, one 8-byte store
                row[j / 64] = word ^ flip[j / 64];
                word = 0;
            }
        }
        for (size_t w = (n + 63) / 64; w < words_per_row; w++) row[w] = 0;
    }
}
LBR_AVX2_END
#endif

void lbr_output_float(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                      const float *multiplier, const float *bias, float *out, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { output_float_avx2(dot, rows, n, ldd, multiplier, bias, out, ldo); return; }
#endif
    lbr_output_float_ref(dot, rows, n, ldd, multiplier, bias, out, ldo);
}

void lbr_output_residual(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                         const float *multiplier, const float *bias, const float *addend, size_t lda,
                         lbr_activation activation, float *out, size_t ldo, uint64_t *bits, size_t words_per_row) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa) && n % 8 == 0) {
        output_residual_avx2(dot, rows, n, ldd, multiplier, bias, addend, lda, activation, out, ldo, bits, words_per_row);
        return;
    }
#endif
    lbr_output_residual_ref(dot, rows, n, ldd, multiplier, bias, addend, lda, activation, out, ldo, bits, words_per_row);
}

void lbr_output_bits(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                     const int32_t *threshold, const uint64_t *flip, uint64_t *out, size_t words_per_row) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa) && n % 8 == 0) { output_bits_avx2(dot, rows, n, ldd, threshold, flip, out, words_per_row); return; }
#endif
    lbr_output_bits_ref(dot, rows, n, ldd, threshold, flip, out, words_per_row);
}
