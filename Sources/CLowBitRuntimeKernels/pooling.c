// Max pooling on the compact forms activations take between layers: sign bits (a binary layer's
// output read by the next binary layer) and uint8 codes (an int8 layer's output read by the next int8
// layer). Both commute with the pool: a maximum is negative only when its whole window is, so the
// pooled sign words are ANDs (bit 1 is -1); quantization is monotone, so the pooled codes are the
// codes of the pooled values. NHWC, valid padding; plain loops over contiguous channel rows, which
// the compiler vectorizes on any target.
#include "internal.h"

void lbr_sign_max_pool(const uint64_t *restrict in, size_t batch, size_t height, size_t width, size_t words, size_t pool,
                       size_t stride, size_t out_h, size_t out_w, uint64_t *restrict out) {
    for (size_t n = 0; n < batch; n++) {
        for (size_t oy = 0; oy < out_h; oy++) {
            for (size_t ox = 0; ox < out_w; ox++) {
                uint64_t *restrict o = out + ((n * out_h + oy) * out_w + ox) * words;
                for (size_t w = 0; w < words; w++) o[w] = ~(uint64_t)0;
                for (size_t ky = 0; ky < pool; ky++) {
                    const uint64_t *row = in + ((n * height + oy * stride + ky) * width + ox * stride) * words;
                    for (size_t kx = 0; kx < pool; kx++) {
                        for (size_t w = 0; w < words; w++) o[w] &= row[kx * words + w];
                    }
                }
            }
        }
    }
}

void lbr_max_pool_u8(const uint8_t *restrict in, size_t batch, size_t height, size_t width, size_t channels, size_t pool,
                     size_t stride, size_t out_h, size_t out_w, uint8_t *restrict out) {
    for (size_t n = 0; n < batch; n++) {
        for (size_t oy = 0; oy < out_h; oy++) {
            for (size_t ox = 0; ox < out_w; ox++) {
                uint8_t *restrict o = out + ((n * out_h + oy) * out_w + ox) * channels;
                memset(o, 0, channels);
                for (size_t ky = 0; ky < pool; ky++) {
                    const uint8_t *row = in + ((n * height + oy * stride + ky) * width + ox * stride) * channels;
                    for (size_t kx = 0; kx < pool; kx++) {
                        for (size_t c = 0; c < channels; c++) o[c] = row[kx * channels + c] > o[c] ? row[kx * channels + c] : o[c];
                    }
                }
            }
        }
    }
}
