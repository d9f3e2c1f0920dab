// Float 3x3 convolution (stride 1) by Winograd F(2x2, 3x3): the layers a hybrid or float network
// keeps in full precision.
//
// The same transforms as winograd_int8.c, in float: V = B^T d B (4x4 input tile), U = G g G^T (the
// kernel, with its halves), M = sum_c U V per tile position, Y = A^T M A + bias, then the activation.
// 16 products per 2x2 outputs and input channel instead of 36. B and A hold 0 and ±1, G halves, so
// the transforms add no rounding beyond the sums' own; the result differs from the direct
// convolution by float rounding (FloatConv2D's tests bound it relative to the largest |output|).
//
// Layouts (per block of LBR_WINO_BLOCK tiles, in the caller's scratch):
//   V [tile][16][channels] float; U [16][channels][n8] float (lbr_wino_f32_pack_weights),
//   n8 = n rounded up to 8: one 256-bit load is 8 outputs of one channel, against a broadcast input;
//   M [tile][16][n8] float.
#include "winograd.h"

size_t lbr_wino_f32_packed_count(size_t n, size_t channels) { return WINO_POSITIONS * channels * lbr_round_up(n, 8); }

size_t lbr_wino_f32_scratch_bytes(size_t n, size_t channels) {
    return LBR_WINO_BLOCK * WINO_POSITIONS * (channels + lbr_round_up(n, 8)) * sizeof(float);
}

void lbr_wino_f32_pack_weights(const float *w, size_t n, size_t channels, float *packed) {
    static const float g[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    const size_t n8 = lbr_round_up(n, 8);
    memset(packed, 0, lbr_wino_f32_packed_count(n, channels) * sizeof(float));
    for (size_t j = 0; j < n; j++) {
        for (size_t c = 0; c < channels; c++) {
            float k[3][3], gk[4][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) k[ky][kx] = w[((j * 3 + (size_t)ky) * 3 + (size_t)kx) * channels + c];
            for (int a = 0; a < 4; a++)
                for (int kx = 0; kx < 3; kx++) gk[a][kx] = g[a][0] * k[0][kx] + g[a][1] * k[1][kx] + g[a][2] * k[2][kx];
            for (int a = 0; a < 4; a++) {
                for (int b = 0; b < 4; b++) {
                    const size_t position = (size_t)(a * 4 + b);
                    packed[(position * channels + c) * n8 + j] = gk[a][0] * g[b][0] + gk[a][1] * g[b][1] + gk[a][2] * g[b][2];
                }
            }
        }
    }
}

#define WINO_ADD_F(a, b) ((a) + (b))
#define WINO_SUB_F(a, b) ((a) - (b))

/// V of channel c of one tile into vt[position * channels + c].
static void wino_f32_input_channel(const float *const pixels[16], size_t c, float *vt, size_t channels) {
    float d[16];
    for (int p = 0; p < 16; p++) d[p] = pixels[p] ? pixels[p][c] : 0.0f;
#define WINO_STORE_SCALAR(position, value) (vt[(size_t)(position) * channels + c] = (value))
    WINO_INPUT_TRANSFORM(float, d, WINO_STORE_SCALAR, WINO_ADD_F, WINO_SUB_F);
#undef WINO_STORE_SCALAR
}

static void wino_f32_block_portable(const float *input, const lbr_wino_geometry *g, size_t first, size_t count, const float *packed,
                                    const float *bias, size_t n, lbr_activation activation, float *v, float *m, float *out) {
    const size_t channels = g->channels, n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        float *vt = v + t * WINO_POSITIONS * channels;
        const float *pixels[16];
        wino_window(g, &at, input, sizeof(float), (const void **)pixels);
        for (size_t c = 0; c < channels; c++) wino_f32_input_channel(pixels, c, vt, channels);
    }
    for (size_t t = 0; t < count; t++) {
        for (size_t position = 0; position < WINO_POSITIONS; position++) {
            const float *vp = v + (t * WINO_POSITIONS + position) * channels, *u = packed + position * channels * n8;
            float *mp = m + (t * WINO_POSITIONS + position) * n8;
            for (size_t j = 0; j < n8; j++) mp[j] = 0.0f;
            for (size_t c = 0; c < channels; c++)
                for (size_t j = 0; j < n8; j++) mp[j] += vp[c] * u[c * n8 + j];
        }
    }
    at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        for (size_t j = 0; j < n; j++) {
            float mv[16], y[4];
            for (int position = 0; position < 16; position++) mv[position] = m[(t * WINO_POSITIONS + (size_t)position) * n8 + j];
            WINO_OUTPUT_TRANSFORM(float, mv, y, WINO_ADD_F, WINO_SUB_F);
            for (int o = 0; o < 4; o++) {
                const ptrdiff_t pixel = wino_output_pixel(g, at.b, at.ty, at.tx, o / 2, o % 2);
                if (pixel >= 0) out[(size_t)pixel * n + j] = lbr_activate(y[o] + (bias ? bias[j] : 0.0f), activation);
            }
        }
    }
}

#if LBR_HAVE_AVX2
LBR_AVX2_BEGIN
static void wino_f32_input_avx2(const float *input, const lbr_wino_geometry *g, size_t first, size_t count, float *v) {
    const size_t channels = g->channels, vector_channels = channels / 8 * 8;
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        const float *pixels[16];
        wino_window(g, &at, input, sizeof(float), (const void **)pixels);
        float *vt = v + t * WINO_POSITIONS * channels;
        for (size_t c = 0; c < vector_channels; c += 8) {
            __m256 d[16];
            for (int p = 0; p < 16; p++) d[p] = pixels[p] ? _mm256_loadu_ps(pixels[p] + c) : _mm256_setzero_ps();
#define WINO_STORE_VECTOR(position, value) _mm256_storeu_ps(vt + (size_t)(position) * channels + c, value)
            WINO_INPUT_TRANSFORM(__m256, d, WINO_STORE_VECTOR, _mm256_add_ps, _mm256_sub_ps);
#undef WINO_STORE_VECTOR
        }
        for (size_t c = vector_channels; c < channels; c++) wino_f32_input_channel(pixels, c, vt, channels);   // the last channels % 8
    }
}

/// M for LBR_WINO_PANEL_TILES tiles x `vectors` (1 or 2) groups of 8 outputs over all channels.
LBR_INLINE void wino_f32_panel(int vectors, const float *const rows[LBR_WINO_PANEL_TILES], size_t channels, const float *u, size_t n8,
                               float *const out[LBR_WINO_PANEL_TILES], size_t valid) {
    __m256 acc[LBR_WINO_PANEL_TILES * 2];
    for (int t = 0; t < LBR_WINO_PANEL_TILES * vectors; t++) acc[t] = _mm256_setzero_ps();
    for (size_t c = 0; c < channels; c++) {
        __m256 w[2];
        for (int e = 0; e < vectors; e++) w[e] = _mm256_loadu_ps(u + c * n8 + (size_t)e * 8);
        for (int r = 0; r < LBR_WINO_PANEL_TILES; r++) {
            const __m256 x = _mm256_broadcast_ss(rows[r] + c);
            for (int e = 0; e < vectors; e++) acc[r * vectors + e] = _mm256_fmadd_ps(x, w[e], acc[r * vectors + e]);
        }
    }
    for (size_t r = 0; r < valid; r++)
        for (int e = 0; e < vectors; e++) _mm256_storeu_ps(out[r] + e * 8, acc[r * (size_t)vectors + (size_t)e]);
}

static void wino_f32_products_avx2(const float *v, size_t count, size_t channels, const float *packed, size_t n8, float *m) {
#define WINO_F32_PANEL(vectors, rows, position, j, at, valid) wino_f32_panel(vectors, rows, channels, packed + (position) * channels * n8 + (j), n8, at, valid)
    WINO_PRODUCTS(float, float, v, count, channels, m, n8, WINO_F32_PANEL)
#undef WINO_F32_PANEL
}

static void wino_f32_output_avx2(const lbr_wino_geometry *g, size_t first, size_t count, const float *m, const float *bias, size_t n,
                                 lbr_activation activation, float *out) {
    const size_t n8 = lbr_round_up(n, 8);
    wino_cursor at = wino_cursor_at(g, first);
    for (size_t t = 0; t < count; t++, wino_cursor_next(&at)) {
        float *rows[4];
        for (int o = 0; o < 4; o++) {
            const ptrdiff_t pixel = wino_output_pixel(g, at.b, at.ty, at.tx, o / 2, o % 2);
            rows[o] = pixel < 0 ? NULL : out + (size_t)pixel * n;
        }
        for (size_t j = 0; j < n8; j += 8) {
            __m256 mv[16], y[4];
            for (size_t position = 0; position < WINO_POSITIONS; position++) mv[position] = _mm256_loadu_ps(m + (t * WINO_POSITIONS + position) * n8 + j);
            WINO_OUTPUT_TRANSFORM(__m256, mv, y, _mm256_add_ps, _mm256_sub_ps);
            const size_t lanes = lbr_min(8, n - j);
            float padded_bias[8] = {0};
            if (bias) memcpy(padded_bias, bias + j, lanes * sizeof(float));
            const __m256 b = _mm256_loadu_ps(padded_bias);
            for (int o = 0; o < 4; o++) {
                if (rows[o] == NULL) continue;
                const __m256 value = lbr_activate8(_mm256_add_ps(y[o], b), activation);
                if (lanes == 8) {
                    _mm256_storeu_ps(rows[o] + j, value);
                } else {
                    float tail[8];
                    _mm256_storeu_ps(tail, value);
                    memcpy(rows[o] + j, tail, lanes * sizeof(float));
                }
            }
        }
    }
}
LBR_AVX2_END
#endif

void lbr_wino_f32_conv(lbr_isa isa, const float *input, const lbr_wino_geometry *g, size_t tile_begin, size_t tile_end,
                       const float *packed, const float *bias, size_t n, lbr_activation activation, float *out, void *scratch) {
    float *v = scratch, *m = v + LBR_WINO_BLOCK * WINO_POSITIONS * g->channels;
    const size_t n8 = lbr_round_up(n, 8);
    for (size_t first = tile_begin; first < tile_end; first += LBR_WINO_BLOCK) {
        const size_t count = lbr_min(LBR_WINO_BLOCK, tile_end - first);
#if LBR_HAVE_AVX2
        if (lbr_use_avx2(isa)) {
            wino_f32_input_avx2(input, g, first, count, v);
            wino_f32_products_avx2(v, count, g->channels, packed, n8, m);
            wino_f32_output_avx2(g, first, count, m, bias, n, activation, out);
            continue;
        }
#endif
        (void)isa;
        wino_f32_block_portable(input, g, first, count, packed, bias, n, activation, v, m, out);
    }
}
