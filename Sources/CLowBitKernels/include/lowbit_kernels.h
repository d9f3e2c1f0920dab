#ifndef LOWBIT_KERNELS_H
#define LOWBIT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU runs AVX2+FMA code and LOWBIT_FORCE_PORTABLE is not set in the environment.
int lb_cpu_has_avx2_fma(void);

/// NHWC im2col: input [batch, height, width, channels] -> columns
/// [batch * outH * outW, kernelH * kernelW * channels], taps in (kh, kw, c) order; padded taps are 0.
void lb_im2col_nhwc(const float *input, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *columns);

/// Adjoint of lb_im2col_nhwc: accumulates columns into a zero-initialised input gradient.
void lb_col2im_nhwc(const float *columns, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *inputGrad);

#endif
