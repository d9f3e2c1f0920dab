// Activation rows as 4-byte quads, interleaved by row: the operand layout of the vpmaddubsw kernels
// (ternary_gemm.c, small_int_gemm.c), which broadcast one quad of a row against 8 outputs x 4 k.
#include "internal.h"

/// Rows [row, row + rows) of `a`, as zero-padded 4-byte quads interleaved by row:
/// quads[q * LBR_QUAD_ROWS + r] = bytes 4q..4q+3 of row r (missing rows and bytes past k are 0).
/// Whole quads are fixed 4-byte copies (inlined; a variable-length memcpy per quad was a libc call
/// that took longer than the GEMM itself), the partial last quad byte by byte.
void lbr_pack_quads(const uint8_t *a, size_t lda, size_t row, size_t rows, size_t k, uint32_t *quads) {
    const size_t count = lbr_round_up(k, 4) / 4, whole = k / 4;
    for (size_t r = 0; r < LBR_QUAD_ROWS; r++) {
        if (r >= rows) {
            for (size_t q = 0; q < count; q++) quads[q * LBR_QUAD_ROWS + r] = 0;
            continue;
        }
        const uint8_t *src = a + (row + r) * lda;
        for (size_t q = 0; q < whole; q++) memcpy(&quads[q * LBR_QUAD_ROWS + r], src + 4 * q, 4);
        if (whole < count) {
            uint32_t last = 0;
            for (size_t i = 0; i < k - 4 * whole; i++) last |= (uint32_t)src[4 * whole + i] << (8 * i);
            quads[whole * LBR_QUAD_ROWS + r] = last;
        }
    }
}

/// lbr_pack_quads for convolution patches read in place (lbr_tgemm_u8_patches, lbr_i8gemm_small): runs that start on a quad
/// boundary and span whole quads are copied 4 bytes at a time, anything else byte by byte.
void lbr_pack_quads_patches(const uint8_t *a, const lbr_patch_geometry *g, size_t row, size_t rows, uint32_t *quads) {
    const size_t length = g->segment_length, k = g->segments * length, count = lbr_round_up(k, 4) / 4;
    for (size_t q = 0; q < count; q++) {
        for (size_t r = rows; r < LBR_QUAD_ROWS; r++) quads[q * LBR_QUAD_ROWS + r] = 0;
    }
    if (k % 4) for (size_t r = 0; r < rows; r++) quads[(count - 1) * LBR_QUAD_ROWS + r] = 0;
    for (size_t r = 0; r < rows; r++) {
        const size_t base = lbr_patch_base(g, row + r);
        for (size_t s = 0; s < g->segments; s++) {
            const uint8_t *src = a + base + s * g->segment_stride;
            const size_t first = s * length;
            if (first % 4 == 0 && length % 4 == 0) {
                for (size_t q = 0; q < length / 4; q++) memcpy(&quads[(first / 4 + q) * LBR_QUAD_ROWS + r], src + 4 * q, 4);
                continue;
            }
            for (size_t i = 0; i < length; i++) {
                const size_t t = first + i;
                uint8_t *quad = (uint8_t *)&quads[(t / 4) * LBR_QUAD_ROWS + r];
                quad[t % 4] = src[i];   // little-endian: byte t % 4 of the quad (x86)
            }
        }
    }
}

