#ifndef LOWBIT_RUNTIME_INTERNAL_H
#define LOWBIT_RUNTIME_INTERNAL_H
// Shared helpers of the runtime kernels.
//
// Why per-function targets: without a target CPU, `swift build -c release` compiles C for baseline
// x86-64 (SSE2), and passing -mavx2 would need unsafeFlags, which make a package unusable as a
// dependency (shared/DESIGN.md section 4). So the AVX2 kernels sit between LBR_AVX2_BEGIN and
// LBR_AVX2_END, which give every function in between target("avx2,popcnt,fma,bmi2"), and
// lbr_best_isa() picks them at run time only on CPUs that have those features. Everything outside
// those regions is portable C.
#include "lowbit_runtime_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define LBR_HAVE_AVX2 1
#include <immintrin.h>
#define LBR_AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,popcnt,fma,bmi2\"))), apply_to = function)")
#define LBR_AVX2_END _Pragma("clang attribute pop")
#else
#define LBR_HAVE_AVX2 0
#endif

#define LBR_INLINE static inline __attribute__((always_inline))

LBR_INLINE size_t lbr_round_up(size_t x, size_t multiple) { return (x + multiple - 1) / multiple * multiple; }
LBR_INLINE size_t lbr_min(size_t a, size_t b) { return a < b ? a : b; }

/// ReLU (y > 0 ? y : 0) or hard tanh (y < -1 ? -1 : y, then y > 1 ? 1 : y) as the float steps do:
/// NaN gives 0 under ReLU and stays NaN under hard tanh.
LBR_INLINE float lbr_activate(float y, lbr_activation activation) {
    if (activation == LBR_ACT_RELU) return y > 0.0f ? y : 0.0f;
    if (activation == LBR_ACT_HARDTANH) {
        y = y < -1.0f ? -1.0f : y;
        return y > 1.0f ? 1.0f : y;
    }
    return y;
}

/// Byte offset of output pixel r's patch in a padded input (lbr_patch_geometry).
LBR_INLINE size_t lbr_patch_base(const lbr_patch_geometry *g, size_t r) {
    const size_t pixels = g->out_h * g->out_w, b = r / pixels, p = r % pixels;
    return b * g->image_stride + (p / g->out_w) * g->row_step + (p % g->out_w) * g->column_step;
}

/// Rows per activation panel of the vpmaddubsw kernels (byte_quads.c).
enum { LBR_QUAD_ROWS = 4 };
/// Rows [row, row + rows) of `a` (stride lda, k bytes each) as zero-padded 4-byte quads interleaved by
/// row: quads[q * LBR_QUAD_ROWS + r] = bytes 4q..4q+3 of row r (missing rows and bytes past k are 0).
void lbr_pack_quads(const uint8_t *a, size_t lda, size_t row, size_t rows, size_t k, uint32_t *quads);
/// lbr_pack_quads for convolution patches read in place (lbr_patch_geometry).
void lbr_pack_quads_patches(const uint8_t *a, const lbr_patch_geometry *g, size_t row, size_t rows, uint32_t *quads);

/// 1 when the AVX2 path was both requested and compiled in.
LBR_INLINE int lbr_use_avx2(lbr_isa isa) { return LBR_HAVE_AVX2 && isa == LBR_ISA_AVX2; }

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// The 16-entry table of nibble popcounts in both 128-bit lanes, for vpshufb lookups.
LBR_INLINE __m256i lbr_nibble_popcounts(void) {
    return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/// Per-byte popcount of a 256-bit vector with the nibble lookup table (Mula's method): each byte
/// is split into its low and high nibble, vpshufb looks both up in a 16-entry table of nibble
/// popcounts, and the two counts are added. A byte's count is at most 8.
LBR_INLINE __m256i lbr_popcount_bytes(__m256i v) {
    const __m256i table = lbr_nibble_popcounts();
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_and_si256(v, low_nibbles);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

/// lbr_activate on 8 lanes: max/min with the bound as the first operand return the second (y) for
/// NaN, as the scalar compares do; ReLU masks with y > 0 (NaN and -0 give +0).
LBR_INLINE __m256 lbr_activate8(__m256 y, lbr_activation activation) {
    if (activation == LBR_ACT_RELU) return _mm256_and_ps(y, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ));
    if (activation == LBR_ACT_HARDTANH) return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(_mm256_set1_ps(-1.0f), y));
    return y;
}

/// The low 32 bits of each 64-bit lane, as 4 int32 (lanes 0..3).
LBR_INLINE __m128i lbr_low_dwords(__m256i v) {
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}
LBR_AVX2_END
#endif

#endif
