// Instruction-throughput ceiling of the int8 inner loops on this CPU, against the FMA loop sgemm uses.
// Each loop keeps its accumulators in registers and reads a 4 KB working set, so it measures the
// core's issue rate, not memory. docs/BENCHMARKS.md ("Why the int8 and ternary bars are out of reach on this CPU") quotes it.
//   clang -O2 -mavx2 -mfma Benchmarks/int8_ceiling.c -o /tmp/int8_ceiling && /tmp/int8_ceiling
// Rows (multiply-adds per second, one thread):
//   fma 6x16            vfmadd231ps, 12 accumulators: the float peak (sgemm runs at ~93% of it)
//   madd+add 4x16       vpmaddwd + vpaddd on int16 operands: exact for any int8 x uint8 (LowBit's int8 kernel)
//   madd+add 6x16       the same with 12 accumulators
//   ubs+madd+add 4x16   vpmaddubsw + vpmaddwd(1) + vpaddd: ONNX Runtime's AVX2 u8s8 sequence, exact only when
//                       2 * a_max * w_max <= 32767 (LowBit's lbr_i8gemm_small, one step per widening)
//   ubs+addw 4x16       vpmaddubsw + vpaddw, int16 sums (4-bit codes, widened every few steps)
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define LOOP(ROWS, BODY)                                                                   \
    for (long p = 0; p < n; p++) {                                                         \
        __m256i w0 = _mm256_loadu_si256(w + (p & 63) * 2), w1 = _mm256_loadu_si256(w + (p & 63) * 2 + 1); \
        for (int r = 0; r < ROWS; r++) {                                                   \
            __m256i b = _mm256_set1_epi32(x[(p & 63) * ROWS + r]);                         \
            BODY                                                                           \
        }                                                                                  \
    }

__attribute__((noinline)) static void madd_add(const int32_t *x, const __m256i *w, long n, __m256i *out, int rows) {
    __m256i c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm256_setzero_si256();
    if (rows == 4) {
        LOOP(4, c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(b, w0));
                c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(b, w1));)
    } else {
        LOOP(6, c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(b, w0));
                c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(b, w1));)
    }
    for (int i = 0; i < 12; i++) out[i] = c[i];
}

__attribute__((noinline)) static void ubs_madd_add(const int32_t *x, const __m256i *w, long n, __m256i *out) {
    __m256i c[8], one = _mm256_set1_epi16(1);
    for (int i = 0; i < 8; i++) c[i] = _mm256_setzero_si256();
    LOOP(4, c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(_mm256_maddubs_epi16(b, w0), one));
            c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(_mm256_maddubs_epi16(b, w1), one));)
    for (int i = 0; i < 8; i++) out[i] = c[i];
}

__attribute__((noinline)) static void ubs_addw(const int32_t *x, const __m256i *w, long n, __m256i *out) {
    __m256i c[8];
    for (int i = 0; i < 8; i++) c[i] = _mm256_setzero_si256();
    LOOP(4, c[2 * r] = _mm256_add_epi16(c[2 * r], _mm256_maddubs_epi16(b, w0));
            c[2 * r + 1] = _mm256_add_epi16(c[2 * r + 1], _mm256_maddubs_epi16(b, w1));)
    for (int i = 0; i < 8; i++) out[i] = c[i];
}

__attribute__((noinline)) static void fma_6x16(const float *x, const __m256 *w, long n, __m256 *out) {
    __m256 c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm256_setzero_ps();
    for (long p = 0; p < n; p++) {
        __m256 w0 = _mm256_loadu_ps((const float *)(w + (p & 63) * 2)), w1 = _mm256_loadu_ps((const float *)(w + (p & 63) * 2 + 1));
        for (int r = 0; r < 6; r++) {
            __m256 b = _mm256_broadcast_ss(x + (p & 63) * 6 + r);
            c[2 * r] = _mm256_fmadd_ps(b, w0, c[2 * r]);
            c[2 * r + 1] = _mm256_fmadd_ps(b, w1, c[2 * r + 1]);
        }
    }
    for (int i = 0; i < 12; i++) out[i] = c[i];
}

int main(void) {
    static int32_t x[64 * 6];
    static __m256i w[128], out[5][12];
    const long n = 40000000;
    for (int i = 0; i < 64 * 6; i++) x[i] = i * 7;
    for (int i = 0; i < 128; i++) w[i] = _mm256_set1_epi32(i);
    for (int round = 0; round < 3; round++) {
        double t = now(), fma, exact;
        fma_6x16((const float *)x, (const __m256 *)w, n, (__m256 *)out[0]);
        fma = n * 12.0 * 8 / (now() - t) / 1e9;
        t = now(); madd_add(x, w, n, out[1], 4);
        exact = n * 8.0 * 16 / (now() - t) / 1e9;
        printf("round %d: fma 6x16 %.1f GMAC/s | madd+add 4x16 %.1f (%.2fx fma)", round, fma, exact, exact / fma);
        t = now(); madd_add(x, w, n, out[2], 6);
        exact = n * 12.0 * 16 / (now() - t) / 1e9;
        printf(" | madd+add 6x16 %.1f (%.2fx)", exact, exact / fma);
        t = now(); ubs_madd_add(x, w, n, out[3]);
        double ubs = n * 8.0 * 32 / (now() - t) / 1e9;
        printf(" | ubs+madd+add 4x16 %.1f (%.2fx)", ubs, ubs / fma);
        t = now(); ubs_addw(x, w, n, out[4]);
        ubs = n * 8.0 * 32 / (now() - t) / 1e9;
        printf(" | ubs+addw 4x16 %.1f (%.2fx)\n", ubs, ubs / fma);
    }
    int32_t checksum = 0; // every result is used, so no loop is optimized away
    for (int f = 0; f < 5; f++) {
        for (int i = 0; i < 12; i++) checksum ^= _mm256_extract_epi32(out[f][i], 0) ^ _mm256_extract_epi32(out[f][i], 7);
    }
    printf("(checksum %d)\n", checksum);
    return 0;
}
