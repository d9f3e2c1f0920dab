// Binary convolution = bit-level im2col + binary GEMM + zero-padding correction.
//
// im2col. The packed NHWC input has one row of P = ceil(C / 64) words per pixel, so a tap is P
// whole words and a column row is kernel_h * kernel_w * P words, copied word by word. Taps
// outside the image are written as all-0 words, i.e. as +1 values.
//
// Zero-padding correction (as in Larq Compute Engine). The reference convolution treats a padded
// input as 0, which has no binary code. The GEMM over the column row instead sees +1 at every
// channel of a padded tap t, so for output channel j it adds
//     S[j][t] = sum_c w[j][t][c] * (+1) = C - 2 * popcount(w_bits[j][t])
// for each padded tap. Hence
//     dot_reference = dot_gemm - sum over padded taps t of S[j][t].
// The set of padded taps depends only on the output position (oy, ox), and there are few distinct
// sets (8 border cases for a 3x3 'same' convolution), so BinaryConv2D.swift computes one table row
// per distinct set and one pattern index per output pixel (-1 when nothing is padded), and
// lbr_subtract_row_corrections applies them after the GEMM: exact integer arithmetic.
#include "internal.h"

void lbr_im2col_bytes(const void *input, size_t bytes_per_pixel, const lbr_conv_geometry *g,
                      size_t row_begin, size_t row_end, void *columns) {
    if (row_begin >= row_end) return;
    const size_t taps = (size_t)g->kernel_h * (size_t)g->kernel_w;
    const size_t row_bytes = taps * bytes_per_pixel, line_bytes = (size_t)g->kernel_w * bytes_per_pixel;
    const size_t pixels = (size_t)g->out_h * (size_t)g->out_w;
    // Output coordinates advance incrementally (no divisions per row); a patch inside the image copies
    // one kernel row of taps at a time.
    size_t b = row_begin / pixels, pixel = row_begin % pixels;
    int oy = (int)(pixel / (size_t)g->out_w), ox = (int)(pixel % (size_t)g->out_w);
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *image = (const uint8_t *)input + b * (size_t)g->height * (size_t)g->width * bytes_per_pixel;
        uint8_t *dst = (uint8_t *)columns + (r - row_begin) * row_bytes;
        const int y0 = oy * g->stride_h - g->pad_top, x0 = ox * g->stride_w - g->pad_left;
        if (y0 >= 0 && y0 + g->kernel_h <= g->height && x0 >= 0 && x0 + g->kernel_w <= g->width) {
            for (int ky = 0; ky < g->kernel_h; ky++, dst += line_bytes) {
                const uint8_t *src = image + ((size_t)(y0 + ky) * (size_t)g->width + (size_t)x0) * bytes_per_pixel;
                if (line_bytes <= 32) {
                    for (size_t i = 0; i < line_bytes; i++) dst[i] = src[i];   // a libc call costs more
                } else {
                    memcpy(dst, src, line_bytes);
                }
            }
        } else {
            for (int ky = 0; ky < g->kernel_h; ky++) {
                int iy = y0 + ky;
                for (int kx = 0; kx < g->kernel_w; kx++) {
                    int ix = x0 + kx;
                    if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) {
                        memset(dst, 0, bytes_per_pixel);
                    } else {
                        memcpy(dst, image + ((size_t)iy * (size_t)g->width + (size_t)ix) * bytes_per_pixel, bytes_per_pixel);
                    }
                    dst += bytes_per_pixel;
                }
            }
        }
        if (++ox == g->out_w) {
            ox = 0;
            if (++oy == g->out_h) { oy = 0; b++; }
        }
    }
}

void lbr_bconv_im2col(const uint64_t *input, size_t words_per_pixel, const lbr_conv_geometry *g,
                      size_t row_begin, size_t row_end, uint64_t *columns) {
    lbr_im2col_bytes(input, words_per_pixel * sizeof(uint64_t), g, row_begin, row_end, columns);
}

/// One column row of a patch that lies inside the image, taps of `channels` bits appended to a
/// 128-bit buffer that spills whole words. With `channels` and the kernel size as literals (the
/// 3x3 cases below) the shifts are constants and the row is built in registers: 9 loads and 3
/// stores for 16 channels, against a read-modify-write of memory per tap in the general loop.
LBR_INLINE void dense_interior_row(const uint64_t *image, size_t width, int y0, int x0, int kernel_h, int kernel_w,
                                   size_t channels, uint64_t *dst) {
    unsigned __int128 buffer = 0;
    size_t fill = 0, w = 0;
    for (int ky = 0; ky < kernel_h; ky++) {
        const uint64_t *line = image + (size_t)(y0 + ky) * width + (size_t)x0;
        for (int kx = 0; kx < kernel_w; kx++) {
            buffer |= (unsigned __int128)line[kx] << fill;
            fill += channels;
            if (fill >= 64) {
                dst[w++] = (uint64_t)buffer;
                buffer >>= 64;
                fill -= 64;
            }
        }
    }
    if (fill > 0) dst[w] = (uint64_t)buffer;
}

/// The border rows of lbr_bconv_im2col_dense (and every row of shapes without a fast interior):
/// taps ORed into a zeroed row one at a time, padded taps skipped.
static void dense_general_row(const uint64_t *image, const lbr_conv_geometry *g, int y0, int x0, size_t channels,
                              size_t row_words, uint64_t *dst) {
    for (size_t w = 0; w < row_words; w++) dst[w] = 0;
    size_t offset = 0;
    for (int ky = 0; ky < g->kernel_h; ky++) {
        const int iy = y0 + ky;
        for (int kx = 0; kx < g->kernel_w; kx++, offset += channels) {
            const int ix = x0 + kx;
            if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) continue;
            dst[offset >> 6] |= image[(size_t)iy * (size_t)g->width + (size_t)ix] << (offset & 63);
        }
    }
}

void lbr_bconv_im2col_dense(const uint64_t *input, size_t channels, const lbr_conv_geometry *g,
                            size_t row_begin, size_t row_end, size_t row_words, uint64_t *columns) {
    if (row_begin >= row_end) return;
    const size_t pixels = (size_t)g->out_h * (size_t)g->out_w, width = (size_t)g->width;
    const int three = g->kernel_h == 3 && g->kernel_w == 3;
    // Output coordinates advance incrementally (no divisions per row).
    size_t b = row_begin / pixels, pixel = row_begin % pixels;
    int oy = (int)(pixel / (size_t)g->out_w), ox = (int)(pixel % (size_t)g->out_w);
    for (size_t r = row_begin; r < row_end; r++) {
        const uint64_t *image = input + b * (size_t)g->height * width;
        uint64_t *dst = columns + (r - row_begin) * row_words;
        const int y0 = oy * g->stride_h - g->pad_top, x0 = ox * g->stride_w - g->pad_left;
        const int inside = y0 >= 0 && y0 + g->kernel_h <= g->height && x0 >= 0 && x0 + g->kernel_w <= g->width;
        if (!inside) {
            dense_general_row(image, g, y0, x0, channels, row_words, dst);
        } else if (three && channels == 16) {
            dense_interior_row(image, width, y0, x0, 3, 3, 16, dst);
        } else if (three && channels == 32) {
            dense_interior_row(image, width, y0, x0, 3, 3, 32, dst);
        } else if (three && channels == 8) {
            dense_interior_row(image, width, y0, x0, 3, 3, 8, dst);
        } else {
            for (size_t w = 0; w < row_words; w++) dst[w] = 0;
            dense_interior_row(image, width, y0, x0, g->kernel_h, g->kernel_w, channels, dst);
        }
        if (++ox == g->out_w) {
            ox = 0;
            if (++oy == g->out_h) { oy = 0; b++; }
        }
    }
}

/// One padded row of lbr_bconv_row_taps for merged kernel rows (q = 1): positions whose taps all lie
/// inside the row need no bounds checks; with `channels` and `kernel_w` literals the shifts are constants.
LBR_INLINE void merged_taps_row(const uint64_t *line, int width, int out_w, int pad_left, int kernel_w, size_t channels,
                                uint64_t *dst) {
    for (int x = 0; x < out_w; x++) {
        const int x0 = x - pad_left;
        uint64_t word = 0;
        if (x0 >= 0 && x0 + kernel_w <= width) {
            for (int kx = 0; kx < kernel_w; kx++) word |= line[x0 + kx] << ((size_t)kx * channels);
        } else {
            for (int kx = 0; kx < kernel_w; kx++) {
                if (x0 + kx >= 0 && x0 + kx < width) word |= line[x0 + kx] << ((size_t)kx * channels);
            }
        }
        dst[x] = word;
    }
}

/// One padded row for whole-word taps: a pixel inside the image is a copy of its words.
LBR_INLINE void word_taps_row(const uint64_t *line, int width, int out_w, int pad_left, int kernel_w, size_t words_per_pixel,
                              uint64_t *dst) {
    const size_t q = (size_t)kernel_w * words_per_pixel;
    for (int x = 0; x < out_w; x++, dst += q) {
        const int x0 = x - pad_left;
        if (x0 >= 0 && x0 + kernel_w <= width) {
            const uint64_t *src = line + (size_t)x0 * words_per_pixel;
            for (size_t i = 0; i < q; i++) dst[i] = src[i];
            continue;
        }
        for (int kx = 0; kx < kernel_w; kx++) {
            const int ix = x0 + kx;
            uint64_t *tap = dst + (size_t)kx * words_per_pixel;
            for (size_t i = 0; i < words_per_pixel; i++) tap[i] = (ix < 0 || ix >= width) ? 0 : line[(size_t)ix * words_per_pixel + i];
        }
    }
}

void lbr_bconv_row_taps(const uint64_t *input, size_t channels, size_t words_per_pixel, const lbr_conv_geometry *g,
                        size_t q, size_t image, size_t row_begin, size_t row_end, uint64_t *out) {
    const int width = g->width, kw = g->kernel_w;
    // q = 1 for kernel rows merged into one word; otherwise whole-word taps (the same when kernel_w = 1).
    const int merged = q != (size_t)kw * words_per_pixel;
    const uint64_t *pixels = input + image * (size_t)g->height * (size_t)width * words_per_pixel;
    for (size_t yy = row_begin; yy < row_end; yy++) {
        const int iy = (int)yy - g->pad_top;
        uint64_t *dst = out + yy * (size_t)g->out_w * q;
        if (iy < 0 || iy >= g->height) {
            memset(dst, 0, (size_t)g->out_w * q * sizeof(uint64_t));
            continue;
        }
        const uint64_t *line = pixels + (size_t)iy * (size_t)width * words_per_pixel;
        if (merged && kw == 3 && channels == 16) {
            merged_taps_row(line, width, g->out_w, g->pad_left, 3, 16, dst);
        } else if (merged) {
            merged_taps_row(line, width, g->out_w, g->pad_left, kw, channels, dst);
        } else if (kw == 3 && words_per_pixel == 1) {
            word_taps_row(line, width, g->out_w, g->pad_left, 3, 1, dst);
        } else {
            word_taps_row(line, width, g->out_w, g->pad_left, kw, words_per_pixel, dst);
        }
    }
}

void lbr_bconv_row_taps_split32(const uint64_t *input, const lbr_conv_geometry *g, size_t image, size_t row_begin,
                                size_t row_end, uint64_t *out) {
    const int width = g->width, height = g->height;
    const size_t plane = (size_t)(g->out_h + 2) * (size_t)g->out_w;
    const uint64_t *pixels = input + image * (size_t)height * (size_t)width;
    uint64_t *pairs = out, *vertical = pairs + plane, *third = vertical + plane;
    for (size_t yy = row_begin; yy < row_end; yy++) {
        const int iy = (int)yy - g->pad_top;
        const uint64_t *line = iy >= 0 && iy < height ? pixels + (size_t)iy * (size_t)width : NULL;
        const uint64_t *below = iy + 1 >= 0 && iy + 1 < height ? pixels + (size_t)(iy + 1) * (size_t)width : NULL;
        for (int x = 0; x < g->out_w; x++) {
            const int x0 = x - g->pad_left;
            // A pixel of this row or the next, 0 outside the image.
            #define LBR_PIXEL(row, ix) ((row) != NULL && (ix) >= 0 && (ix) < width ? (row)[ix] : 0)
            const uint64_t t0 = LBR_PIXEL(line, x0), t1 = LBR_PIXEL(line, x0 + 1), t2 = LBR_PIXEL(line, x0 + 2);
            const uint64_t next2 = LBR_PIXEL(below, x0 + 2);
            #undef LBR_PIXEL
            const size_t at = yy * (size_t)g->out_w + (size_t)x;
            pairs[at] = t0 | t1 << 32;
            vertical[at] = t2 | next2 << 32;
            third[at] = t2;
        }
    }
}

void lbr_subtract_row_corrections(int32_t *dot, size_t ldd, size_t row_begin, size_t row_end, size_t n,
                                  const int32_t *border_pixel, const int32_t *border_pattern, size_t border_count,
                                  size_t pixels, const int32_t *table) {
    if (row_begin >= row_end || border_count == 0) return;
    // Only the listed border pixels have padded taps: visit those of each image the range touches,
    // starting from the first one at or after the range's start (binary search), no per-row test.
    for (size_t image = row_begin / pixels; image * pixels < row_end; image++) {
        const size_t base = image * pixels, first = row_begin > base ? row_begin - base : 0;
        size_t low = 0, high = border_count;
        while (low < high) {
            size_t middle = (low + high) / 2;
            if ((size_t)border_pixel[middle] < first) low = middle + 1; else high = middle;
        }
        for (size_t i = low; i < border_count && base + (size_t)border_pixel[i] < row_end; i++) {
            const int32_t *correction = table + (size_t)border_pattern[i] * n;
            int32_t *row = dot + (base + (size_t)border_pixel[i] - row_begin) * ldd;
            for (size_t j = 0; j < n; j++) row[j] -= correction[j];
        }
    }
}
