#ifndef LOWBIT_KERNELS_H
#define LOWBIT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU runs AVX2+FMA code and LOWBIT_FORCE_PORTABLE is not set in the environment.
int lb_cpu_has_avx2_fma(void);

/// Runs body(context, chunk) for chunk in [0, chunks) on up to `threads` threads (the caller and
/// threads - 1 persistent pool workers that spin ~200 us between jobs, then sleep), returning when all
/// are done. Each chunk runs exactly once. Runs inline when chunks or threads is 1, inside a chunk
/// (nested), or while another thread's job holds the pool (thread_pool.c).
void lb_parallel_for(long chunks, int threads, void (*body)(void *context, long chunk), void *context);

/// Adds `value` to `*counter` atomically (acquire-release) and returns the new value: chunks that
/// share a piece of output count their parts, and the one that completes it sees every other's
/// writes to it (thread_pool.c).
long lb_atomic_add(long *counter, long value);

/// NHWC im2col: input [batch, height, width, channels] -> columns
/// [batch * outH * outW, kernelH * kernelW * channels], taps in (kh, kw, c) order; padded taps are 0.
void lb_im2col_nhwc(const float *input, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *columns);

/// Adjoint of lb_im2col_nhwc: accumulates columns into a zero-initialised input gradient.
void lb_col2im_nhwc(const float *columns, int batch, int height, int width, int channels,
                    int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                    int outH, int outW, float *inputGrad);

// Training-engine elementwise kernels (elementwise.c). Channel-last: (row, c) at row * channels + c.
void lb_relu_forward(const float *x, float *y, size_t n);
void lb_relu_backward(const float *x, const float *dy, float *dx, size_t n);
void lb_hardtanh_forward(const float *x, float *y, size_t n);
void lb_hardtanh_backward(const float *x, const float *dy, float *dx, size_t n);
void lb_add(const float *a, const float *b, float *out, size_t n);
/// Adds per-channel sums of a and a * b into sumA and sumAB.
void lb_channel_sums(const float *a, const float *b, size_t rows, size_t channels, double *sumA, double *sumAB);
void lb_batchnorm_apply(const float *x, size_t rows, size_t channels, const float *mean, const float *inverseStd,
                        const float *gamma, const float *beta, float *xhat, float *y);
void lb_batchnorm_backward_apply(const float *dy, const float *xhat, size_t rows, size_t channels, float n,
                                 const float *scale, const float *sumGrad, const float *sumGradXhat, float *dx);

/// Index of the first NaN or infinity in x, or n when all are finite.
size_t lb_first_nonfinite(const float *x, size_t n);
/// Sum of |x| accumulated in double precision.
double lb_sum_abs(const float *x, size_t n);
/// One SGD step (PyTorch's formulation) over n parameters.
void lb_sgd_step(float *w, const float *grad, float *velocity, size_t n, float lr, float momentum, float decay, int nesterov);
/// One Adam step over n parameters; c1, c2 are the bias corrections 1 - beta^t.
void lb_adam_step(float *w, const float *grad, float *m, float *v, size_t n, float lr, float beta1, float beta2,
                  float epsilon, float c1, float c2, float l2, float decoupled);

/// glibc: keep freed activation buffers in the process (see LowBitTensor Memory.swift). No-op elsewhere.
void lb_tune_allocator(void);

#endif
