// lbr_bgemm (the binary GEMM kernel as the runtime builds it) on the shapes of binary convolutions and
// dense layers, checked against lbr_bgemm_ref, best of many runs on one thread. docs/RUNTIME.md
// ("Binary GEMM") quotes it. Build against the kernel sources and give rows, outputs and words per row:
//   K=Sources/CLowBitRuntimeKernels; clang -O3 -I$K/include -I$K Benchmarks/bgemm_shapes.c $K/binary_gemm.c \
//       $K/dispatch.c -o /tmp/bgemm_shapes
//   for s in "784 16 3" "196 32 5" "256 64 9" "49 64 9" "64 128 18" "1024 256 13" "1024 1024 64"; do /tmp/bgemm_shapes $s; done
#include "lowbit_runtime_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t random_word(void) { return ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ (uint64_t)rand(); }

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ROWS OUTPUTS WORDS\n", argv[0]);
        return 2;
    }
    const size_t m = (size_t)atoi(argv[1]), n = (size_t)atoi(argv[2]), words = (size_t)atoi(argv[3]);
    if (m == 0 || n == 0 || words == 0) {
        fprintf(stderr, "ROWS, OUTPUTS and WORDS must be positive\n");
        return 2;
    }
    uint64_t *a = malloc(m * words * 8), *w = malloc(n * words * 8), *packed = malloc(lbr_bgemm_packed_weight_words(n, words) * 8);
    int32_t *out = malloc(m * n * 4), *expected = malloc(m * n * 4);
    srand(2);
    for (size_t i = 0; i < m * words; i++) a[i] = random_word();
    for (size_t i = 0; i < n * words; i++) w[i] = random_word();
    lbr_bgemm_pack_weights(w, n, words, words, packed);
    const int32_t depth = (int32_t)(words * 64);
    lbr_bgemm(lbr_best_isa(), a, words, 0, m, packed, n, words, depth, out, n);
    lbr_bgemm_ref(a, words, m, w, words, n, words, depth, expected, n);
    const int exact = memcmp(out, expected, m * n * 4) == 0;
    double best = 1e9;
    const int runs = (int)(2e8 / (double)(m * n * words)) + 5;
    for (int r = 0; r < runs; r++) {
        double t = now();
        lbr_bgemm(lbr_best_isa(), a, words, 0, m, packed, n, words, depth, out, n);
        t = now() - t;
        if (t < best) best = t;
    }
    printf("%zu x %zu x %zu words: %s, %.2f us, %.0f Gop/s\n", m, n, words, exact ? "exact" : "WRONG", best * 1e6,
           2.0 * (double)(m * n * words * 64) / best * 1e-9);
    free(a); free(w); free(packed); free(out); free(expected);
    return exact ? 0 : 1;
}
