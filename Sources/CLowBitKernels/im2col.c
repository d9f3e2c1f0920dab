#include "lowbit_kernels.h"
#include <string.h>

// NHWC keeps each tap's channels contiguous, so a column row is kernelH*kernelW memcpy's of
// `channels` floats; padded taps are zero-filled (a padded input is 0, not anything else).
void lb_im2col_nhwc(const float *input, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *columns) {
    const size_t tapBytes = (size_t)channels * sizeof(float);
    const size_t rowLength = (size_t)kernelH * kernelW * channels;
    for (int n = 0; n < batch; n++) {
        const float *image = input + (size_t)n * height * width * channels;
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                float *row = columns + (((size_t)n * outH + oy) * outW + ox) * rowLength;
                for (int ky = 0; ky < kernelH; ky++) {
                    int iy = oy * strideH - padTop + ky;
                    for (int kx = 0; kx < kernelW; kx++) {
                        int ix = ox * strideW - padLeft + kx;
                        float *dst = row + ((size_t)ky * kernelW + kx) * channels;
                        if (iy < 0 || iy >= height || ix < 0 || ix >= width) {
                            memset(dst, 0, tapBytes);
                        } else {
                            memcpy(dst, image + ((size_t)iy * width + ix) * channels, tapBytes);
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
