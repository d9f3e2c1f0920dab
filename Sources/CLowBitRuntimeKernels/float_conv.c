// Direct float convolution for layers with few outputs (<= 64; FloatConv2D uses it for patches of up
// to 1,024 values): a network's first layer on a grey image (1 -> 16 channels, 3x3: 9 products per
// output), a 1x1 projection shortcut, or a batch-1 3x3 layer of 16-64 channels. im2col + sgemm spends
// much of its time there copying patches and packing panels for skinny products; this kernel keeps one pixel's outputs in
// registers (8 per vector), broadcasts each input of the patch and multiply-adds it with the packed
// weight row [k][n rounded up to 8]. Padded taps are skipped (zero padding). A ReLU or hard tanh
// after the layer is applied before the store (lbr_activate).
//
// Summation order: the bias first, then the patch in (ky, kx, c) order, one multiply-add per
// product (fused on the AVX2 path, a multiply then an add on the portable path), so the result
// differs from sgemm's by float rounding only.
#include "internal.h"

size_t lbr_conv_direct_packed_count(size_t n, size_t k) { return lbr_round_up(n, 8) * k; }

void lbr_conv_direct_pack(const float *w, size_t n, size_t k, float *packed) {
    const size_t np = lbr_round_up(n, 8);
    for (size_t kk = 0; kk < k; kk++) {
        for (size_t j = 0; j < np; j++) packed[kk * np + j] = j < n ? w[j * k + kk] : 0.0f;
    }
}

/// The first input row and the [begin, end) range of kernel positions inside the image, per axis.
LBR_INLINE void tap_range(int o, int stride, int pad, int kernel, int size, int *first, int *begin, int *end) {
    *first = o * stride - pad;
    *begin = *first < 0 ? -*first : 0;
    *end = *first + kernel > size ? size - *first : kernel;
}

/// Output row `row` = b * out_h + oy of a direct convolution: the image it reads and the vertical tap
/// range (tap_range) of that row.
LBR_INLINE const float *output_row(const float *input, const lbr_conv_geometry *g, size_t channels, size_t row, int *y0,
                                   int *ky0, int *ky1) {
    const int b = (int)(row / (size_t)g->out_h), oy = (int)(row % (size_t)g->out_h);
    tap_range(oy, g->stride_h, g->pad_top, g->kernel_h, g->height, y0, ky0, ky1);
    return input + (size_t)b * (size_t)g->height * (size_t)g->width * channels;
}

static void conv_direct_portable(const float *input, const lbr_conv_geometry *g, size_t channels, const float *packed,
                                 const float *bias, size_t n, lbr_activation activation, size_t row_begin, size_t row_end,
                                 float *out) {
    const size_t np = lbr_round_up(n, 8);
    float acc[64];
    out += row_begin * (size_t)g->out_w * n;
    for (size_t row = row_begin; row < row_end; row++) {
        int y0, ky0, ky1;
        const float *image = output_row(input, g, channels, row, &y0, &ky0, &ky1);
        for (int ox = 0; ox < g->out_w; ox++, out += n) {
            int x0, kx0, kx1;
            tap_range(ox, g->stride_w, g->pad_left, g->kernel_w, g->width, &x0, &kx0, &kx1);
            for (size_t j = 0; j < n; j++) acc[j] = bias ? bias[j] : 0.0f;
            for (int ky = ky0; ky < ky1; ky++) {
                for (int kx = kx0; kx < kx1; kx++) {
                    const float *x = image + ((size_t)(y0 + ky) * (size_t)g->width + (size_t)(x0 + kx)) * channels;
                    const float *w = packed + ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) * channels * np;
                    for (size_t c = 0; c < channels; c++) {
                        for (size_t j = 0; j < n; j++) {
                            float product = x[c] * w[c * np + j];
                            acc[j] = acc[j] + product;
                        }
                    }
                }
            }
            for (size_t j = 0; j < n; j++) out[j] = lbr_activate(acc[j], activation);
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
/// `pixels` consecutive output pixels of one row (x0 is the first one's input column, the columns
/// `stride_w` apart) whose taps kx in [kx0, kx1) all lie inside the image, `vectors` (1..8) vectors
/// of 8 outputs each; literals in the calls below. Several pixels at once keep independent
/// multiply-add chains in flight (one pixel alone waits on the FMA latency at every product).
LBR_INLINE void direct_pixels(int pixels, int vectors, const float *image, const lbr_conv_geometry *g, size_t channels,
                              const float *packed, const float *padded_bias, int y0, int ky0, int ky1, int x0, int kx0,
                              int kx1, size_t n, lbr_activation activation, float *out) {
    const size_t np = (size_t)vectors * 8, pixel_step = (size_t)g->stride_w * channels;
    __m256 acc[4][8];
    for (int p = 0; p < pixels; p++) {
        for (int v = 0; v < vectors; v++) acc[p][v] = _mm256_loadu_ps(padded_bias + 8 * v);
    }
    for (int ky = ky0; ky < ky1; ky++) {
        for (int kx = kx0; kx < kx1; kx++) {
            const float *x = image + ((size_t)(y0 + ky) * (size_t)g->width + (size_t)(x0 + kx)) * channels;
            const float *w = packed + ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) * channels * np;
            for (size_t c = 0; c < channels; c++) {
                __m256 wv[8];
                for (int v = 0; v < vectors; v++) wv[v] = _mm256_loadu_ps(w + c * np + 8 * (size_t)v);
                for (int p = 0; p < pixels; p++) {
                    __m256 xc = _mm256_broadcast_ss(x + (size_t)p * pixel_step + c);
                    for (int v = 0; v < vectors; v++) acc[p][v] = _mm256_fmadd_ps(xc, wv[v], acc[p][v]);
                }
            }
        }
    }
    for (int p = 0; p < pixels; p++) {
        for (int v = 0; v < vectors; v++) acc[p][v] = lbr_activate8(acc[p][v], activation);
        float *dst = out + (size_t)p * n;
        if (n == np) {
            for (int v = 0; v < vectors; v++) _mm256_storeu_ps(dst + 8 * v, acc[p][v]);
        } else {
            float lanes[64];
            for (int v = 0; v < vectors; v++) _mm256_storeu_ps(lanes + 8 * v, acc[p][v]);
            memcpy(dst, lanes, n * sizeof(float));
        }
    }
}

/// Runs of 4 (2 for more than 2 vectors, to stay in 16 registers) interior pixels, then single pixels.
LBR_INLINE void conv_direct_pixels(int vectors, const float *input, const lbr_conv_geometry *g, size_t channels,
                                   const float *packed, const float *bias, size_t n, lbr_activation activation,
                                   size_t row_begin, size_t row_end, float *out) {
    float padded_bias[64] = {0};
    if (bias) memcpy(padded_bias, bias, n * sizeof(float));
    const int run = vectors <= 2 ? 4 : (vectors <= 4 ? 2 : 1);
    out += row_begin * (size_t)g->out_w * n;
    for (size_t row = row_begin; row < row_end; row++) {
        int y0, ky0, ky1;
        const float *image = output_row(input, g, channels, row, &y0, &ky0, &ky1);
        for (int ox = 0; ox < g->out_w;) {
            int x0, kx0, kx1;
            tap_range(ox, g->stride_w, g->pad_left, g->kernel_w, g->width, &x0, &kx0, &kx1);
            // The last pixel of a run must still have every tap inside the image.
            int last_x0 = (ox + run - 1) * g->stride_w - g->pad_left;
            if (run > 1 && ox + run <= g->out_w && kx0 == 0 && kx1 == g->kernel_w && last_x0 + g->kernel_w <= g->width) {
                if (run == 4) direct_pixels(4, vectors, image, g, channels, packed, padded_bias, y0, ky0, ky1, x0, 0, g->kernel_w, n, activation, out);
                else direct_pixels(2, vectors, image, g, channels, packed, padded_bias, y0, ky0, ky1, x0, 0, g->kernel_w, n, activation, out);
                ox += run;
                out += (size_t)run * n;
            } else {
                direct_pixels(1, vectors, image, g, channels, packed, padded_bias, y0, ky0, ky1, x0, kx0, kx1, n, activation, out);
                ox++;
                out += n;
            }
        }
    }
}

static void conv_direct_avx2(const float *input, const lbr_conv_geometry *g, size_t channels, const float *packed,
                             const float *bias, size_t n, lbr_activation activation, size_t row_begin, size_t row_end,
                             float *out) {
    switch (lbr_round_up(n, 8) / 8) {
    case 1: conv_direct_pixels(1, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 2: conv_direct_pixels(2, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 3: conv_direct_pixels(3, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 4: conv_direct_pixels(4, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 5: conv_direct_pixels(5, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 6: conv_direct_pixels(6, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    case 7: conv_direct_pixels(7, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    default: conv_direct_pixels(8, input, g, channels, packed, bias, n, activation, row_begin, row_end, out); break;
    }
}
LBR_AVX2_END
#endif

void lbr_conv_direct_f32(lbr_isa isa, const float *input, const lbr_conv_geometry *g, size_t channels,
                         const float *packed, const float *bias, size_t n, lbr_activation activation,
                         size_t row_begin, size_t row_end, float *out) {
    if (n == 0 || n > 64) return;
#if LBR_HAVE_AVX2
    if (lbr_use_avx2(isa)) { conv_direct_avx2(input, g, channels, packed, bias, n, activation, row_begin, row_end, out); return; }
#endif
    conv_direct_portable(input, g, channels, packed, bias, n, activation, row_begin, row_end, out);
}
