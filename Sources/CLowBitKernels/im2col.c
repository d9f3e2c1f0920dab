#include "lowbit_kernels.h"
#include <string.h>

// NHWC keeps each tap's channels contiguous, so a column row is kernelH*kernelW memcpy's of
// `channels` floats; padded taps are zero-filled (a padded input is 0, not anything else).
/// Copies `count` floats; short runs (a 3-tap kernel row of 1-4 channels) inline, longer ones by memcpy:
/// a libc call per few bytes cost more than the copy (the 28x28x1 stem convolution spent most of its time there).
static inline void copy_floats(float *dst, const float *src, size_t count) {
    if (count <= 16) {
        for (size_t i = 0; i < count; i++) dst[i] = src[i];
    } else {
        memcpy(dst, src, count * sizeof(float));
    }
}

void lb_im2col_nhwc(const float *input, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *columns) {
    const size_t rowLength = (size_t)kernelH * kernelW * channels;
    const size_t lineLength = (size_t)kernelW * channels;
    for (int n = 0; n < batch; n++) {
        const float *image = input + (size_t)n * height * width * channels;
        for (int oy = 0; oy < outH; oy++) {
            const int y0 = oy * strideH - padTop;
            for (int ox = 0; ox < outW; ox++) {
                const int x0 = ox * strideW - padLeft;
                float *row = columns + (((size_t)n * outH + oy) * outW + ox) * rowLength;
                if (y0 >= 0 && y0 + kernelH <= height && x0 >= 0 && x0 + kernelW <= width) {
                    // Inside the image: each kernel row is one contiguous run of kernelW * channels floats.
                    for (int ky = 0; ky < kernelH; ky++) {
                        copy_floats(row + (size_t)ky * lineLength, image + ((size_t)(y0 + ky) * width + x0) * channels, lineLength);
                    }
                    continue;
                }
                for (int ky = 0; ky < kernelH; ky++) {
                    int iy = y0 + ky;
                    for (int kx = 0; kx < kernelW; kx++) {
                        int ix = x0 + kx;
                        float *dst = row + ((size_t)ky * kernelW + kx) * channels;
                        if (iy < 0 || iy >= height || ix < 0 || ix >= width) {
                            for (int c = 0; c < channels; c++) dst[c] = 0;
                        } else {
                            copy_floats(dst, image + ((size_t)iy * width + ix) * channels, (size_t)channels);
                        }
                    }
                }
            }
        }
    }
}

void lb_col2im_nhwc(const float *columns, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *inputGrad) {
    const size_t rowLength = (size_t)kernelH * kernelW * channels;
    for (int n = 0; n < batch; n++) {
        float *image = inputGrad + (size_t)n * height * width * channels;
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                const float *row = columns + (((size_t)n * outH + oy) * outW + ox) * rowLength;
                for (int ky = 0; ky < kernelH; ky++) {
                    int iy = oy * strideH - padTop + ky;
                    if (iy < 0 || iy >= height) continue;
                    for (int kx = 0; kx < kernelW; kx++) {
                        int ix = ox * strideW - padLeft + kx;
                        if (ix < 0 || ix >= width) continue;
                        const float *src = row + ((size_t)ky * kernelW + kx) * channels;
                        float *dst = image + ((size_t)iy * width + ix) * channels;
                        for (int c = 0; c < channels; c++) dst[c] += src[c];
                    }
                }
            }
        }
    }
}
