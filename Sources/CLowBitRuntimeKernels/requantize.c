// Requantization: int32 accumulators -> int8/uint8 with an int32 fixed-point multiplier.
//
// A real multiplier M = S_in * S_w / S_out is written as M = M0 * 2^-31 * 2^-shift with M0 in
// [2^30, 2^31) (Requantizer.swift). The product is evaluated exactly as gemmlowp and TFLite do, so
// integer models match them bit for bit:
//
// 1. shift < 0 (M >= 1): x <<= -shift, saturating to int32.
// 2. SaturatingRoundingDoublingHighMul(x, M0) = round(x * M0 / 2^31) with ties toward +infinity.
//    gemmlowp writes it with a nudge of 2^30 or 1 - 2^30 (by the sign of x * M0) and a division
//    that truncates toward zero; for an integer y = x * M0 + 2^30 and negative products,
//    ceil((y + 1 - 2^31) / 2^31) = floor(y / 2^31), so both signs reduce to
//    floor((x * M0 + 2^30) / 2^31), computed here with one 64-bit add and an arithmetic shift. It
//    saturates only for x = M0 = INT32_MIN, which M0 >= 2^30 rules out.
// 3. RoundingDivideByPOT(y, shift) for shift > 0: y / 2^shift rounded to nearest, ties away from
//    zero: add 1 to the floor when the remainder exceeds half, or half minus one for negative y.
//
// The test compares lbr_requantize_one with gemmlowp's own formulas evaluated in Int128, over every
// shift and the edge accumulators, multipliers and ties. Then out = clamp(y + zero_point, qmin,
// qmax), where ReLU and ReLU6 are just tighter qmin/qmax.
#include "internal.h"
#include <math.h>

LBR_INLINE int32_t saturating_left_shift(int32_t x, int32_t shift) {
    int64_t v = (int64_t)x * ((int64_t)1 << shift);
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

int32_t lbr_requantize_one(int32_t x, int32_t multiplier, int32_t shift) {
    int32_t left = shift < 0 ? -shift : 0, right = shift > 0 ? shift : 0;
    int64_t product = (int64_t)saturating_left_shift(x, left) * multiplier;
    int32_t high = (int32_t)((product + ((int64_t)1 << 30)) >> 31);
    int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    int32_t remainder = high & mask;
    int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    return (high >> right) + (remainder > threshold ? 1 : 0);
}

/// y + zero_point clamped to [qmin, qmax]; clamping first to [qmin - zp, qmax - zp] cannot overflow.
LBR_INLINE int32_t clamp_add(int32_t y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    int32_t lo = qmin - zero_point, hi = qmax - zero_point;
    return (y < lo ? lo : y > hi ? hi : y) + zero_point;
}

LBR_INLINE int32_t wrapping_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
/// a << s in two's complement (as vpslld), defined for negative a.
LBR_INLINE int32_t shift_left(int32_t a, int32_t s) { return (int32_t)((uint32_t)a << s); }

LBR_INLINE void store_quantized(void *out, int out_is_signed, size_t index, int32_t value) {
    if (out_is_signed) {
        ((int8_t *)out)[index] = (int8_t)value;
    } else {
        ((uint8_t *)out)[index] = (uint8_t)value;
    }
}

void lbr_requantize_ref(const int32_t *acc, size_t rows, size_t n, size_t ldacc, int32_t acc_shift,
                        const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                        int32_t zero_point, int32_t qmin, int32_t qmax, void *out, int out_is_signed, size_t ldo) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < n; j++) {
            int32_t y = lbr_requantize_one(wrapping_add(shift_left(acc[r * ldacc + j], acc_shift), bias[j]), multiplier[j], shift[j]);
            store_quantized(out, out_is_signed, r * ldo + j, clamp_add(y, zero_point, qmin, qmax));
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// Steps 1-3 for 8 lanes with per-lane multiplier and shift.
LBR_INLINE __m256i requantize8(__m256i x, __m256i multiplier, __m256i shift) {
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    __m256i left = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    __m256i right = _mm256_max_epi32(shift, zero);
    // 1. Saturating left shift: lanes beyond INT32_MAX >> left (or below INT32_MIN >> left) saturate.
    __m256i shifted = _mm256_sllv_epi32(x, left);
    __m256i too_high = _mm256_cmpgt_epi32(x, _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), left));
    __m256i too_low = _mm256_cmpgt_epi32(_mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), left), x);
    shifted = _mm256_blendv_epi8(shifted, _mm256_set1_epi32(INT32_MAX), too_high);
    shifted = _mm256_blendv_epi8(shifted, _mm256_set1_epi32(INT32_MIN), too_low);
    // 2. floor((x * M0 + 2^30) / 2^31): vpmuldq multiplies the even lanes (sign-extended low
    // dwords of each qword); shifting both operands right by 32 bits brings the odd lanes there.
    const __m256i half = _mm256_set1_epi64x((long long)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(shifted, multiplier), half);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(shifted, 32), _mm256_srli_epi64(multiplier, 32)), half);
    // Bits 31..62 of each product are the result: for even lanes in the low dword after >> 31, for
    // odd lanes in the high dword after << 1.
    __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    // 3. Rounding divide by 2^right, ties away from zero.
    __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    __m256i remainder = _mm256_and_si256(high, mask);
    __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_and_si256(_mm256_cmpgt_epi32(zero, high), one));
    __m256i round_up = _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one);
    return _mm256_add_epi32(_mm256_srav_epi32(high, right), round_up);
}

/// Steps 2-3 for 8 lanes whose shifts are all >= 0 (M < 1, every requantization of a layer whose
/// output scale exceeds its accumulator scale): no left shift, so no saturation; the per-channel
/// operands (odd-lane multipliers, rounding masks) come precomputed from the caller's loop.
LBR_INLINE __m256i requantize8_right(__m256i x, __m256i multiplier, __m256i multiplier_odd, __m256i right, __m256i mask,
                                     __m256i half_mask) {
    const __m256i half = _mm256_set1_epi64x((long long)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, multiplier), half);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), multiplier_odd), half);
    __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    // Ties away from zero: threshold = mask / 2 + (high < 0); the arithmetic shift gives -1 for negative.
    __m256i threshold = _mm256_sub_epi32(half_mask, _mm256_srai_epi32(high, 31));
    __m256i round_up = _mm256_cmpgt_epi32(_mm256_and_si256(high, mask), threshold);   // -1 where rounding up
    return _mm256_sub_epi32(_mm256_srav_epi32(high, right), round_up);
}

/// Stores the 8 lanes of y (already clamped) as bytes at dst.
LBR_INLINE void store8_bytes(__m256i y, int out_is_signed, uint8_t *dst) {
    // Values are already in range, so the saturating packs only narrow; dword 4 holds lanes 4..7.
    __m256i words = _mm256_packs_epi32(y, y);
    __m256i bytes = out_is_signed ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
    _mm_storel_epi64((__m128i *)dst, _mm256_castsi256_si128(bytes));
}

static void requantize_avx2(const int32_t *acc, size_t rows, size_t n, size_t ldacc, int32_t acc_shift,
                            const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                            int32_t zero_point, int32_t qmin, int32_t qmax, void *out, int out_is_signed, size_t ldo) {
    const __m256i lo = _mm256_set1_epi32(qmin - zero_point), hi = _mm256_set1_epi32(qmax - zero_point);
    const __m256i zp = _mm256_set1_epi32(zero_point), one = _mm256_set1_epi32(1);
    const __m128i acc_count = _mm_cvtsi32_si128(acc_shift);
    // Groups of 8 channels whose shifts are all >= 0, column by column: their per-channel operands stay
    // in registers down the rows, and the saturating left shift drops out.
    size_t fast_end = 0;
    for (; fast_end + 8 <= n; fast_end += 8) {
        const __m256i s = _mm256_loadu_si256((const __m256i *)(shift + fast_end));
        if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_setzero_si256(), s)))) break;
    }
    for (size_t j = 0; j < fast_end; j += 8) {
        const __m256i m = _mm256_loadu_si256((const __m256i *)(multiplier + j)), m_odd = _mm256_srli_epi64(m, 32);
        const __m256i right = _mm256_loadu_si256((const __m256i *)(shift + j));
        const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one), half_mask = _mm256_srli_epi32(mask, 1);
        const __m256i b = _mm256_loadu_si256((const __m256i *)(bias + j));
        for (size_t r = 0; r < rows; r++) {
            __m256i x = _mm256_add_epi32(_mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)(acc + r * ldacc + j)), acc_count), b);
            __m256i y = requantize8_right(x, m, m_odd, right, mask, half_mask);
            y = _mm256_add_epi32(_mm256_max_epi32(_mm256_min_epi32(y, hi), lo), zp);
            store8_bytes(y, out_is_signed, (uint8_t *)out + r * ldo + j);
        }
    }
    for (size_t r = 0; r < rows; r++) {
        size_t j = fast_end;
        for (; j + 8 <= n; j += 8) {
            __m256i x = _mm256_add_epi32(_mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)(acc + r * ldacc + j)), acc_count),
                                         _mm256_loadu_si256((const __m256i *)(bias + j)));
            __m256i y = requantize8(x, _mm256_loadu_si256((const __m256i *)(multiplier + j)),
                                    _mm256_loadu_si256((const __m256i *)(shift + j)));
            y = _mm256_add_epi32(_mm256_max_epi32(_mm256_min_epi32(y, hi), lo), zp);
            store8_bytes(y, out_is_signed, (uint8_t *)out + r * ldo + j);
        }
        for (; j < n; j++) {
            int32_t y = lbr_requantize_one(wrapping_add(shift_left(acc[r * ldacc + j], acc_shift), bias[j]), multiplier[j], shift[j]);
            store_quantized(out, out_is_signed, r * ldo + j, clamp_add(y, zero_point, qmin, qmax));
        }
    }
}
LBR_AVX2_END
#endif

void lbr_requantize(lbr_isa isa, const int32_t *acc, size_t rows, size_t n, size_t ldacc, int32_t acc_shift,
                    const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                    int32_t zero_point, int32_t qmin, int32_t qmax, void *out, int out_is_signed, size_t ldo) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        requantize_avx2(acc, rows, n, ldacc, acc_shift, bias, multiplier, shift, zero_point, qmin, qmax, out, out_is_signed, ldo);
        return;
    }
#endif
    lbr_requantize_ref(acc, rows, n, ldacc, acc_shift, bias, multiplier, shift, zero_point, qmin, qmax, out, out_is_signed, ldo);
}

// ---- Float -> 8-bit codes (the input quantization of an integer-only layer) ---------------------
// code = clamp(round_half_even(x / scale), qmin, qmax). x / scale is an IEEE division on every path
// and rint / vcvtps2dq round half to even in the default rounding mode, so both paths give the
// training-side activation quantizer's codes exactly. A NaN input becomes qmin on both paths (the
// comparisons below are false for NaN; the vector max keeps its second operand).
LBR_INLINE int32_t quantize_one(float x, float scale, int32_t qmin, int32_t qmax) {
    float q = rintf(x / scale);
    if (!(q >= (float)qmin)) return qmin;
    if (q > (float)qmax) return qmax;
    return (int32_t)q;
}

void lbr_quantize_codes_ref(const float *x, size_t count, float scale, int32_t qmin, int32_t qmax, void *out,
                            int out_is_signed) {
    for (size_t i = 0; i < count; i++) store_quantized(out, out_is_signed, i, quantize_one(x[i], scale, qmin, qmax));
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
static void quantize_codes_avx2(const float *x, size_t count, float scale, int32_t qmin, int32_t qmax, void *out,
                                int out_is_signed) {
    const __m256 s = _mm256_set1_ps(scale), lo_f = _mm256_set1_ps((float)qmin), hi_f = _mm256_set1_ps((float)qmax);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        // max(q, lo) with q first maps NaN to lo, as the portable twin.
        q = _mm256_min_ps(_mm256_max_ps(q, lo_f), hi_f);
        __m256i y = _mm256_cvtps_epi32(q);
        __m256i words = _mm256_packs_epi32(y, y);
        __m256i bytes = out_is_signed ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
        bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
        _mm_storel_epi64((__m128i *)((uint8_t *)out + i), _mm256_castsi256_si128(bytes));
    }
    for (; i < count; i++) store_quantized(out, out_is_signed, i, quantize_one(x[i], scale, qmin, qmax));
}
LBR_AVX2_END
#endif

void lbr_quantize_codes(lbr_isa isa, const float *x, size_t count, float scale, int32_t qmin, int32_t qmax, void *out,
                        int out_is_signed) {
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) {
        quantize_codes_avx2(x, count, scale, qmin, qmax, out, out_is_signed);
        return;
    }
#endif
    lbr_quantize_codes_ref(x, count, scale, qmin, qmax, out, out_is_signed);
}
