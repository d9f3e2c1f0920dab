#ifndef LOWBIT_RUNTIME_KERNELS_H
#define LOWBIT_RUNTIME_KERNELS_H
// Low-bit inference kernels of LowBitRuntime (docs/RUNTIME.md has the layouts and the math).
//
// Every fast kernel takes an `lbr_isa` and has a `_ref` twin written as plain loops; tests compare
// the two bit for bit (integer outputs and the float transforms, which use no FMA contraction).
// AVX2 code is compiled per function (see internal.h), so a plain `swift build` produces it and the
// package needs no unsafeFlags. Kernels that take `row_begin`/`row_end` compute those output rows
// only, so the Swift caller can split rows across threads.
#include <stddef.h>
#include <stdint.h>

/// Which code path a kernel runs. AVX2 silently degrades to PORTABLE where it was not compiled
/// (non-x86 targets); pass `lbr_best_isa()` unless a test wants one path in particular.
typedef enum { LBR_ISA_PORTABLE = 0, LBR_ISA_AVX2 = 1 } lbr_isa;

/// AVX2 when the CPU has AVX2, FMA, POPCNT and BMI2 and the environment variable
/// LOWBIT_FORCE_PORTABLE is unset (or "0"); otherwise PORTABLE. Computed once.
lbr_isa lbr_best_isa(void);
/// 1 when `isa` can run on this CPU (PORTABLE always can), ignoring LOWBIT_FORCE_PORTABLE.
int lbr_isa_supported(lbr_isa isa);

// ---- Sign-bit packing (bitpack.c) ------------------------------------------------------------
/// Packs `rows` x `cols` floats (row stride `ldx`) into sign bits: element c of a row is bit c % 64
/// of word c / 64, set when x < 0 (so -0.0, +0.0 and NaN give 0, i.e. +1; sign(0) = +1). Bits past
/// `cols` up to `words_per_row * 64` are 0.
void lbr_pack_signs(lbr_isa isa, const float *x, size_t rows, size_t cols, size_t ldx,
                    uint64_t *out, size_t words_per_row);
void lbr_pack_signs_ref(const float *x, size_t rows, size_t cols, size_t ldx,
                        uint64_t *out, size_t words_per_row);
/// Regroups `rows` rows of `cols` sign bits (`words_per_row` words each, pad bits 0) into `out_rows`
/// rows of the consecutive rows' bits, `cols * rows / out_rows` bits each in `out_words` words: a flatten
/// of NHWC sign bits into one row per sample. `out` must be zeroed (bits are ORed in); pad bits stay 0.
void lbr_bits_regroup(const uint64_t *in, size_t rows, size_t cols, size_t words_per_row, size_t out_rows, uint64_t *out,
                      size_t out_words);
/// The inverse as bytes: out[r][c] = bit c of row r (1 for -1, 0 for +1), `cols` bytes per row
/// (stride ldo) from rows of `words_per_row` words.
void lbr_unpack_bits_u8(lbr_isa isa, const uint64_t *bits, size_t rows, size_t cols, size_t words_per_row,
                        uint8_t *out, size_t ldo);
void lbr_unpack_bits_u8_ref(const uint64_t *bits, size_t rows, size_t cols, size_t words_per_row,
                            uint8_t *out, size_t ldo);

// ---- Max pooling on sign bits and uint8 codes (pooling.c) -----------------------------------
/// Max pooling on sign bits (bit 1 is -1, so an output is -1 only when its whole window is): NHWC
/// rows of `words` words per pixel, [batch][height][width] -> [batch][out_h][out_w], each output word
/// the AND of the `pool` x `pool` window's words at `stride` (valid padding). Pad bits stay 0.
void lbr_sign_max_pool(const uint64_t *in, size_t batch, size_t height, size_t width, size_t words, size_t pool,
                       size_t stride, size_t out_h, size_t out_w, uint64_t *out);
/// Max pooling on NHWC uint8 codes [batch][height][width][channels] -> [batch][out_h][out_w][channels],
/// `pool` x `pool` windows at `stride` (valid padding).
void lbr_max_pool_u8(const uint8_t *in, size_t batch, size_t height, size_t width, size_t channels, size_t pool,
                     size_t stride, size_t out_h, size_t out_w, uint8_t *out);

// ---- Binary GEMM (binary_gemm.c) -------------------------------------------------------------
/// Words of the interleaved weight layout for `n` rows of `words` words: n rounded up to 4.
size_t lbr_bgemm_packed_weight_words(size_t n, size_t words);
/// Row-major sign bits w[n][words] (row stride `ldw` words) -> groups of 4 rows interleaved by
/// word: packed[(g * words + k) * 4 + r] = w[4g + r][k]; missing rows of the last group are 0.
void lbr_bgemm_pack_weights(const uint64_t *w, size_t n, size_t words, size_t ldw, uint64_t *packed);
/// out[m][j] = depth_bits - 2 * popcount(a[m] XOR w[j]) for rows m in [row_begin, row_end) and
/// j < n. `a` holds rows of `words` sign-bit words (stride `lda`); `packed_w` comes from
/// lbr_bgemm_pack_weights. Pad bits must be 0 in both operands so they never count.
void lbr_bgemm(lbr_isa isa, const uint64_t *a, size_t lda, size_t row_begin, size_t row_end,
               const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits,
               int32_t *out, size_t ldo);
/// lbr_bgemm with gathered rows: word k of input row m is a[m * lda + koff[k]] instead of
/// a[m * lda + k], so a convolution reads its patches in place (lbr_bconv_row_taps) without im2col.
void lbr_bgemm_gathered(lbr_isa isa, const uint64_t *a, size_t lda, const size_t *koff, size_t row_begin, size_t row_end,
                        const uint64_t *packed_w, size_t n, size_t words, int32_t depth_bits, int32_t *out, size_t ldo);
/// Reference: the same product from row-major w[n][words] (stride ldw), one bit at a time.
void lbr_bgemm_ref(const uint64_t *a, size_t lda, size_t m, const uint64_t *w, size_t ldw, size_t n,
                   size_t words, int32_t depth_bits, int32_t *out, size_t ldo);

// ---- Output transforms of binary dot products (output_transform.c) ---------------------------
/// out[r][j] = (float)dot[r][j] * multiplier[j] + bias[j]: the folded scale/BatchNorm. The product
/// is rounded before the sum (no FMA), so every path gives the same floats.
void lbr_output_float(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                      const float *multiplier, const float *bias, float *out, size_t ldo);
void lbr_output_float_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                          const float *multiplier, const float *bias, float *out, size_t ldo);
/// Sign bits for the next binary layer: bit j of row r = (dot[r][j] < threshold[j]) XOR flip bit j,
/// with `flip` packed like the output (words_per_row words, bit j = channel j). Pad bits are 0.
void lbr_output_bits(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                     const int32_t *threshold, const uint64_t *flip, uint64_t *out, size_t words_per_row);
void lbr_output_bits_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                         const int32_t *threshold, const uint64_t *flip, uint64_t *out, size_t words_per_row);

/// The last binary or int8 convolution of a residual block with everything after it fused: for r < rows, j < n,
///     y = ((float)dot[r][j] * multiplier[j] + bias[j]) + addend[r][j]     (the shortcut, stride lda)
/// (`addend` NULL: no sum, for a layer with only its activation fused), then the activation
/// (LBR_ACT_NONE; LBR_ACT_RELU: y > 0 ? y : 0; LBR_ACT_HARDTANH: y < -1 ? -1 : y,
/// then y > 1 ? 1 : y, so NaN passes as in the float steps), written to out[r][j]; when `bits` is not
/// NULL, also the sign bits of y (bit j of row r = y < 0, as lbr_pack_signs) for the next binary layer.
/// Each rounding happens in the order of the unfused steps, so the floats are bit for bit theirs.
typedef enum { LBR_ACT_NONE = 0, LBR_ACT_RELU = 1, LBR_ACT_HARDTANH = 2 } lbr_activation;
void lbr_output_residual(lbr_isa isa, const int32_t *dot, size_t rows, size_t n, size_t ldd,
                         const float *multiplier, const float *bias, const float *addend, size_t lda,
                         lbr_activation activation, float *out, size_t ldo, uint64_t *bits, size_t words_per_row);
void lbr_output_residual_ref(const int32_t *dot, size_t rows, size_t n, size_t ldd,
                             const float *multiplier, const float *bias, const float *addend, size_t lda,
                             lbr_activation activation, float *out, size_t ldo, uint64_t *bits, size_t words_per_row);

// ---- Binary convolution pieces (binary_conv.c) -----------------------------------------------
/// Geometry of an NHWC convolution; padded taps lie outside [0, height) x [0, width).
typedef struct {
    int32_t batch, height, width;
    int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    int32_t out_h, out_w;
} lbr_conv_geometry;
/// Byte im2col for NHWC pixels of `bytes_per_pixel` bytes (8-bit activation codes: one byte per
/// channel): column row r (output pixel (b, oy, ox)), for r in [row_begin, row_end), gets the
/// kernel_h * kernel_w taps in (ky, kx) order; padded taps are zero bytes. `columns` points at row_begin.
void lbr_im2col_bytes(const void *input, size_t bytes_per_pixel, const lbr_conv_geometry *g,
                      size_t row_begin, size_t row_end, void *columns);
/// Bit-level im2col (lbr_im2col_bytes on whole words): `input` holds one row of `words_per_pixel` sign-bit words per pixel (NHWC);
/// column row r (output pixel (b, oy, ox) in NHWC order), for r in [row_begin, row_end), gets the
/// kernel_h * kernel_w taps in (ky, kx) order, each `words_per_pixel` words; padded taps are all-0
/// words (+1 values, corrected by lbr_subtract_row_corrections). `columns` points at row_begin.
void lbr_bconv_im2col(const uint64_t *input, size_t words_per_pixel, const lbr_conv_geometry *g,
                      size_t row_begin, size_t row_end, uint64_t *columns);
/// Dense bit-level im2col for C = `channels` dividing 64 (1, 2, 4, 8, 16, 32): `input` holds one word per
/// pixel with its C sign bits at the bottom; tap t of a column row occupies bits [t*C, (t+1)*C) of a row of
/// `row_words` = ceil(kernel_h * kernel_w * C / 64) words, so no bits are wasted between taps (16 channels:
/// 3 words per 3x3 patch instead of 9). Taps outside the image are 0 bits (+1 values), as lbr_bconv_im2col.
void lbr_bconv_im2col_dense(const uint64_t *input, size_t channels, const lbr_conv_geometry *g,
                            size_t row_begin, size_t row_end, size_t row_words, uint64_t *columns);
/// Horizontal taps for a stride-1 convolution read without im2col (lbr_bgemm_gathered). For image
/// `image`, padded rows yy in [row_begin, row_end) (of out_h + kernel_h - 1) and every output column x,
/// the `q` words at
///     out[(yy * out_w + x) * q]                       (`out`: that image's block of taps)
/// hold the kernel_w taps (yy - pad_top, x + kx - pad_left), kx = 0..kernel_w-1, of the NHWC input
/// (`words_per_pixel` words per pixel): with q = 1 < kernel_w * words_per_pixel (channels <= 64 / kernel_w) tap
/// kx sits at bits [kx * channels, (kx + 1) * channels) of one word; with whole words per pixel
/// (q = kernel_w * words_per_pixel) the taps' words follow each other. Taps outside the image are 0
/// (+1 values, corrected by lbr_subtract_row_corrections). Output pixel (oy, ox) of the image is then
/// the gathered row at row index oy * out_w + ox of its block, word ky * q + i at offset
/// ky * out_w * q + i: the kernel rows below each other. A row range lets each thread build the rows
/// its own output rows read (rows oy .. oy + kernel_h - 1).
void lbr_bconv_row_taps(const uint64_t *input, size_t channels, size_t words_per_pixel, const lbr_conv_geometry *g,
                        size_t q, size_t image, size_t row_begin, size_t row_end, uint64_t *out);
/// The 32-channel 3x3 stride-1 case of lbr_bconv_row_taps, read by lbr_bgemm_gathered with 5 words per
/// patch (dense im2col's count; one-word kernel rows would take 6): per image, three planes of
/// (out_h + 2) x out_w words over the padded rows yy: taps 0 and 1 of row yy merged (t0 | t1 << 32),
/// tap 2 of rows yy and yy + 1 (t2 | t2' << 32), and tap 2 of row yy alone. Patch words: the first plane
/// at rows y, y + 1, y + 2, the second at row y, the third at row y + 2. Taps outside the image are 0.
/// Rows [row_begin, row_end) of image `image`, into that image's three planes at `out`.
void lbr_bconv_row_taps_split32(const uint64_t *input, const lbr_conv_geometry *g, size_t image, size_t row_begin,
                                size_t row_end, uint64_t *out);
/// dot[r - row_begin][j] -= table[pattern * n + j] for the rows r in [row_begin, row_end) that are
/// border pixels: r = image * pixels + border_pixel[i] (ascending, each with its padded-tap pattern
/// border_pattern[i]); `dot` points at row_begin. Applies the zero-padding correction (binary_conv.c);
/// interior rows are not visited.
void lbr_subtract_row_corrections(int32_t *dot, size_t ldd, size_t row_begin, size_t row_end, size_t n,
                                  const int32_t *border_pixel, const int32_t *border_pattern, size_t border_count,
                                  size_t pixels, const int32_t *table);

// ---- Direct float convolution for few outputs (float_conv.c) ---------------------------------
/// Floats of the packed weights: n rounded up to 8, times k = kernel_h * kernel_w * C.
size_t lbr_conv_direct_packed_count(size_t n, size_t k);
/// OHWI weights w[n][k] -> [k][n rounded up to 8], zero columns past n.
void lbr_conv_direct_pack(const float *w, size_t n, size_t k, float *packed);
/// out[b][oy][ox][j] = bias[j] (0 when NULL) + sum over taps inside the image, (ky, kx, c) order, of
/// input * weight: an NHWC convolution with zero padding, one pixel's n <= 64 outputs in registers.
/// For layers with few outputs (the grey-image first layer, 1x1 shortcuts, batch-1 3x3 layers of up
/// to 64 channels), where im2col + sgemm costs more in copies and packing than in products. `activation` (lbr_activation, as lbr_output_residual) is
/// applied to each output. Computes the output rows (b, oy) with b * out_h + oy in [row_begin, row_end)
/// (so threads can split them); `out` points at the whole output. Does nothing for n = 0 or n > 64.
void lbr_conv_direct_f32(lbr_isa isa, const float *input, const lbr_conv_geometry *g, size_t channels,
                         const float *packed, const float *bias, size_t n, lbr_activation activation,
                         size_t row_begin, size_t row_end, float *out);

/// Where a convolution's patches lie in a zero-padded NHWC input of 8-bit codes (lbr_pad_nhwc_bytes):
/// the patch of output pixel r = (b, oy, ox) is `segments` (kernel_h) runs of `segment_length`
/// (kernel_w * channels) bytes, run s starting at
///     b * image_stride + oy * row_step + ox * column_step + s * segment_stride.
typedef struct {
    size_t segments, segment_length, segment_stride, image_stride, row_step, column_step, out_h, out_w;
} lbr_patch_geometry;

// ---- Ternary GEMM with group scales (ternary_gemm.c) -----------------------------------------
/// Bytes of the int8-path weight layout: n rounded up to 8 times k rounded up to 4.
size_t lbr_tgemm_packed_weight_bytes(size_t n, size_t k);
/// Floats of the int8-path scale layout: n rounded up to 8 times the group count.
size_t lbr_tgemm_packed_scale_count(size_t n, size_t k, size_t group);
/// Ternary values t[n][k] in {-1, 0, 1} (stride ldt) and scales alpha[n][ceil(k / group)]
/// (stride lda) -> tiles of 8 rows: bytes [tile][k / 4][8][4], scales [tile][group index][8].
/// `group` must be a multiple of 4.
/// The byte half of lbr_tgemm_pack_weights: int8 values t[n][k] (stride ldt) as tiles of 8 rows,
/// [tile][k / 4][8][4], zero past n and k (lbr_tgemm_packed_weight_bytes bytes). The small-weight
/// integer GEMM (lbr_i8gemm_small) reads this layout.
void lbr_pack_byte_tiles(const int8_t *t, size_t ldt, size_t n, size_t k, int8_t *packed);
void lbr_tgemm_pack_weights(const int8_t *t, size_t ldt, const float *alpha, size_t lda,
                            size_t n, size_t k, size_t group, int8_t *packed_t, float *packed_alpha);
/// out[m][j] = input_scale * (sum_g alpha[j][g] * sum_{k in g} t[j][k] * a[m][k] - correction[j])
/// + bias[j], with `a` unsigned bytes (stride lda). int8 inputs are passed XOR 0x80 with their
/// offset folded into `correction`, sign bits as 0/1 bytes with input_scale -2 (TernaryGEMM.swift).
/// Group sums are exact int32; the scaled sum is float (FMA on the AVX2 path), so the paths agree
/// within float rounding, not bit for bit.
void lbr_tgemm_u8(lbr_isa isa, const uint8_t *a, size_t lda, size_t row_begin, size_t row_end,
                  const int8_t *packed_t, const float *packed_alpha, size_t n, size_t k, size_t group,
                  float input_scale, const float *correction, const float *bias, float *out, size_t ldo);
/// lbr_tgemm_u8 whose row r is the patch of output pixel r, read in place from a zero-padded uint8
/// input (lbr_patch_geometry, lbr_pad_nhwc_bytes; k = segments * segment_length): no im2col copy.
void lbr_tgemm_u8_patches(lbr_isa isa, const uint8_t *a, const lbr_patch_geometry *g, size_t row_begin, size_t row_end,
                          const int8_t *packed_t, const float *packed_alpha, size_t n, size_t group,
                          float input_scale, const float *correction, const float *bias, float *out, size_t ldo);
void lbr_tgemm_u8_ref(const uint8_t *a, size_t lda, size_t m, const int8_t *t, size_t ldt,
                      const float *alpha, size_t ld_alpha, size_t n, size_t k, size_t group,
                      float input_scale, const float *correction, const float *bias, float *out, size_t ldo);

// ---- Integer GEMM for small weights (small_int_gemm.c) ----------------------------------------
/// acc[m][j] = sum_k a[m][k] * w[j][k] for uint8 activations and int8 weights packed by
/// lbr_pack_byte_tiles, exact when quads_per_widen * 2 * a_max * |w|_max <=
/// 32767 (the caller's bound: vpmaddubsw pair sums and int16 sums over quads_per_widen steps of 4 k
/// never saturate). `patches` NULL: rows of `a` at stride lda, k bytes; otherwise convolution patches
/// read in place (lbr_patch_geometry; k is taken from it). Rows [row_begin, row_end); `out` indexed
/// from row 0.
void lbr_i8gemm_small(lbr_isa isa, const uint8_t *a, size_t lda, const lbr_patch_geometry *patches, size_t row_begin,
                      size_t row_end, const int8_t *packed, size_t n, size_t k, size_t quads_per_widen, int32_t *out, size_t ldo);
/// low[i] = bytes[i] & 127 for i < count, and the index of each byte of 128 or more to `positions`
/// (indices below 2^32); returns how many, or SIZE_MAX when more than `limit` (positions' room; low
/// is then partly written). With lbr_i8gemm_high_bits, full-range uint8 inputs run on
/// lbr_i8gemm_small as 7-bit codes (docs/RUNTIME.md, "Full-range uint8 inputs on vpmaddubsw").
size_t lbr_split_high_bits(lbr_isa isa, const uint8_t *bytes, size_t count, uint8_t *low, uint32_t *positions, size_t limit);
/// lbr_pad_nhwc_bytes and lbr_split_high_bits in one pass, row by row: NHWC `input` (uint8 codes, or
/// floats quantized on the way as lbr_quantize_codes does to [0, qmax] at `scale` when
/// `input_is_float`) into the zero frame `low` (7-bit codes), and the frame offsets of the codes of
/// 128 or more into `positions`. Returns their number, or SIZE_MAX past `limit` (`low` partly written).
size_t lbr_pad_split_high_bits(lbr_isa isa, const void *input, int input_is_float, float scale, int32_t qmax, size_t batch,
                               size_t height, size_t width, size_t channels, size_t pad_top, size_t pad_bottom, size_t pad_left,
                               size_t pad_right, uint8_t *low, uint32_t *positions, size_t limit);
/// The high bits' share of the product: for each position (an input index from lbr_split_high_bits),
/// acc[row][j] += 128 * columns[kk][j] for every GEMM row in [row_begin, row_end) that reads it at
/// input kk (each thread corrects the rows it computed). `g` NULL: a
/// position is m * k + kk of rows [m][k]; otherwise an offset into the padded NHWC frame of
/// lbr_pad_nhwc_bytes with `channels` channels, read by every patch (lbr_patch_geometry) that covers
/// it (kernel_h * kernel_w at most LBR_HIGH_BITS_MAX_TAPS). `columns`: the weights by input, [k][n]
/// int8 (w[j][kk] at columns[kk * n + j]).
enum { LBR_HIGH_BITS_MAX_TAPS = 256 };
void lbr_i8gemm_high_bits(lbr_isa isa, const uint32_t *positions, size_t count, const lbr_patch_geometry *g, size_t channels, size_t k,
                          const int8_t *columns, size_t n, size_t row_begin, size_t row_end, int32_t *acc, size_t ldc);
void lbr_i8gemm_small_ref(const uint8_t *a, size_t lda, size_t m, const int8_t *w, size_t ldw, size_t n, size_t k,
                          int32_t *out, size_t ldo);

// ---- Ternary weights x sign-bit activations, 7-bit group-scale codes (ternary_sign_gemm.c) ----
/// Bytes of the packed layout: n times 128 bytes per 256 k (k rounded up to 256).
size_t lbr_tsgemm_packed_bytes(size_t n, size_t k);
/// Ternary values t[n][k] in {-1, 0, 1} (stride ldt) and codes q[n][ceil(k / group)] in 0...127
/// (stride ldc; `group` a multiple of 4) -> the packed layout, and nonzero_sums[j] =
/// sum_k q[j][k / group] * |t[j][k]|.
void lbr_tsgemm_pack(const int8_t *t, size_t ldt, const uint8_t *codes, size_t ldc, size_t n, size_t k, size_t group,
                     uint8_t *packed, int32_t *nonzero_sums);
/// D[m][j] = sum_g q[j][g] * sum_{k in g} t[j][k] * x[m][k], x = -1 where the sign bit of a is set
/// and +1 elsewhere (a: rows of lda words, bit k of a row in word k / 64, bit k % 64), rows
/// [row_begin, row_end). With `dots` non-NULL it receives the exact int32 D (stride ldd); otherwise
/// out[m][j] = unit[j] * (float)D + bias[j] (bias may be NULL).
void lbr_tsgemm(lbr_isa isa, const uint64_t *a, size_t lda, size_t row_begin, size_t row_end, const uint8_t *packed,
                const int32_t *nonzero_sums, size_t n, size_t k, int32_t *dots, size_t ldd, const float *unit,
                const float *bias, float *out, size_t ldo);
/// The plain definition of lbr_tsgemm's D, rows [0, m).
void lbr_tsgemm_ref(const uint64_t *a, size_t lda, size_t m, const int8_t *t, size_t ldt, const uint8_t *codes, size_t ldc,
                    size_t n, size_t k, size_t group, int32_t *out, size_t ldo);

// ---- Float activations x ±1 weights by 3-input lookup tables (sign_lookup_gemm.c) ------------
/// Bytes of the packed layout: n rounded up to 8 times ceil(k / 3).
size_t lbr_slgemm_packed_bytes(size_t n, size_t k);
/// Sign bits s[n][k] (row j in words [j * words_per_row, ...), bit k % 64 of word k / 64, set = -1, as
/// PackedBits) -> 3-bit patterns, bytes [n / 8][ceil(k / 3)][8]: bit i of output j's byte g is the
/// sign bit of input 3g + i (0 past n and k).
void lbr_slgemm_pack(const uint64_t *signs, size_t words_per_row, size_t n, size_t k, uint8_t *packed);
/// out[m][j] = sum_k x[m][k] * s[j][k] (s = ±1) for `rows` rows of float `x` (stride ldx), summed as
/// per-triple table lookups: the AVX2 and portable paths agree bit for bit, and with
/// lbr_slgemm_ref within float rounding (the order of the sum differs).
void lbr_slgemm(lbr_isa isa, const float *x, size_t ldx, size_t rows, const uint8_t *packed, size_t n, size_t k, float *out,
                size_t ldo);
/// The plain sum over k of ±x, from the sign bits.
void lbr_slgemm_ref(const float *x, size_t ldx, size_t rows, const uint64_t *signs, size_t words_per_row, size_t n, size_t k,
                    float *out, size_t ldo);

// ---- Int8 GEMM (int8_gemm.c) -----------------------------------------------------------------
/// Bytes of the packed weight layout: n rounded up to 16 times k rounded up to 2.
size_t lbr_i8gemm_packed_weight_count(size_t n, size_t k);
/// int8 weights w[n][k] (stride ldw) -> int8 column tiles [n / 16][k / 2][16][2] (zeros pad).
void lbr_i8gemm_pack_weights(const int8_t *w, size_t n, size_t k, size_t ldw, int8_t *packed);
/// acc[m][j] = sum_k a[m][k] * w[j][k] exactly in int32, for rows in [row_begin, row_end); `a` is
/// uint8 (a_is_signed = 0) or int8 (1), stride lda. Zero points are not subtracted here: fold
/// -z_a * sum_k w[j][k] into the bias (Int8GEMM.swift).
void lbr_i8gemm(lbr_isa isa, const void *a, int a_is_signed, size_t lda, size_t row_begin, size_t row_end,
                const int8_t *packed_w, size_t n, size_t k, int32_t *acc, size_t ldc);
void lbr_i8gemm_ref(const void *a, int a_is_signed, size_t lda, size_t m, const int8_t *w, size_t ldw,
                    size_t n, size_t k, int32_t *acc, size_t ldc);

/// Copies NHWC bytes [batch][height][width][channels] into a zero frame of pad_top/pad_bottom rows and
/// pad_left/pad_right columns: [batch][height + pads][width + pads][channels].
void lbr_pad_nhwc_bytes(const void *input, size_t batch, size_t height, size_t width, size_t channels, size_t pad_top,
                        size_t pad_bottom, size_t pad_left, size_t pad_right, void *out);
/// lbr_i8gemm whose row r is the patch of output pixel r, read in place from the padded input `a`
/// (k = segments * segment_length): no im2col copy; the kernel's A panels are filled straight from the
/// patches. Bit for bit lbr_i8gemm on lbr_im2col_bytes' rows.
void lbr_i8gemm_patches(lbr_isa isa, const void *a, int a_is_signed, const lbr_patch_geometry *g, size_t row_begin,
                        size_t row_end, const int8_t *packed_w, size_t n, int32_t *acc, size_t ldc);

// ---- Winograd F(2x2, 3x3) int8 convolution (winograd_int8.c) --------------------------------
/// A stride-1 3x3 convolution of NHWC 8-bit codes [batch][height][width][channels] with zero padding
/// pad_top / pad_left before (and whatever the output size reaches after).
typedef struct {
    size_t batch, height, width, channels, pad_top, pad_left, out_h, out_w;
} lbr_wino_geometry;
/// Tiles per block of lbr_wino_conv's scratch.
enum { LBR_WINO_BLOCK = 16 };
/// Tiles per register panel of the products: a tile range of a multiple of this wastes none.
enum { LBR_WINO_PANEL_TILES = 4 };
/// int16 elements of the transformed weights: 16 x channels rounded up to 2 x n rounded up to 8.
size_t lbr_wino_packed_weight_count(size_t n, size_t channels);
/// Bytes of scratch one lbr_wino_conv call needs.
size_t lbr_wino_scratch_bytes(size_t n, size_t channels);
/// int8 weights OHWI [n][3][3][channels] -> U' = G' g G'^T (G' = 2G, integers), [16][channels / 2][n8][2].
void lbr_wino_pack_weights(const int8_t *w, size_t n, size_t channels, int16_t *packed);
/// acc[r][j] = sum over the 3x3 window of output pixel r (zero padding) of code * w[j], exactly, for
/// uint8 (input_is_signed = 0) or int8 codes, channels <= 1827 (4 * acc then fits in int32). Computes
/// the outputs of tiles [tile_begin, tile_end): tile t = (b * ceil(out_h / 2) + ty) * ceil(out_w / 2) + tx
/// is output rows 2ty, 2ty + 1 and columns 2tx, 2tx + 1 of image b (those inside the image). `acc`
/// indexed from row 0, stride ldc; `scratch`: lbr_wino_scratch_bytes, 4-byte aligned.
void lbr_wino_conv(lbr_isa isa, const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t tile_begin,
                   size_t tile_end, const int16_t *packed, size_t n, int32_t *acc, size_t ldc, void *scratch);

// ---- Winograd F(4x4, 3x3) int8 convolution (winograd_int8_f4.c) ----------------------------
/// Tiles per block of lbr_wino4_conv's scratch.
enum { LBR_WINO4_BLOCK = 8 };
/// Tiles per register panel of lbr_wino4_conv's products for n outputs: 2 (x 32 outputs) when n
/// rounded up to 8 is a multiple of 32, else 4 (x 16 outputs). A tile range of a multiple of it wastes none.
size_t lbr_wino4_panel_tiles(size_t n);
/// int16 elements of the transformed weights: 36 x channels rounded up to 2 x n rounded up to 8.
size_t lbr_wino4_packed_weight_count(size_t n, size_t channels);
/// Bytes of scratch one lbr_wino4_conv call needs.
size_t lbr_wino4_scratch_bytes(size_t n, size_t channels);
/// int8 weights OHWI [n][3][3][channels] -> U = G' g G'^T with G' = diag(4, 6, 6, 24, 24, 1) G (integers,
/// |U| <= 6272), [36][channels / 2][n8][2].
void lbr_wino4_pack_weights(const int8_t *w, size_t n, size_t channels, int16_t *packed);
/// lbr_wino_conv by F(4x4, 3x3): 36 products per 4x4 tile of outputs and input channel instead of 64.
/// Exact when every |acc| < 2^25 (the caller checks max_j sum |w_j| x the largest |code|): the
/// output transform yields 576 acc modulo 2^32, and acc is recovered from it by a shift and a
/// multiply by the inverse of 9 modulo 2^32. Tile t = (b * ceil(out_h / 4) + ty) * ceil(out_w / 4) + tx
/// is output rows 4ty..4ty+3 and columns 4tx..4tx+3 of image b (those inside the image); `scratch`:
/// lbr_wino4_scratch_bytes, 4-byte aligned.
void lbr_wino4_conv(lbr_isa isa, const void *input, int input_is_signed, const lbr_wino_geometry *g, size_t tile_begin,
                    size_t tile_end, const int16_t *packed, size_t n, int32_t *acc, size_t ldc, void *scratch);

/// Floats of the transformed float weights (winograd_f32.c): 16 x channels x n rounded up to 8.
size_t lbr_wino_f32_packed_count(size_t n, size_t channels);
/// Bytes of scratch one lbr_wino_f32_conv call needs.
size_t lbr_wino_f32_scratch_bytes(size_t n, size_t channels);
/// Float weights OHWI [n][3][3][channels] -> U = G g G^T, [16][channels][n8].
void lbr_wino_f32_pack_weights(const float *w, size_t n, size_t channels, float *packed);
/// out[r][j] = activation(bias[j] + the 3x3 stride-1 convolution of NHWC float `input` (zero padding)
/// at output pixel r) by Winograd F(2x2, 3x3), for the tiles [tile_begin, tile_end) (numbered as in
/// lbr_wino_conv); `bias` may be NULL; `out` [pixels][n]; `scratch`: lbr_wino_f32_scratch_bytes,
/// 4-byte aligned. Differs from the direct convolution by float rounding.
void lbr_wino_f32_conv(lbr_isa isa, const float *input, const lbr_wino_geometry *g, size_t tile_begin, size_t tile_end,
                       const float *packed, const float *bias, size_t n, lbr_activation activation, float *out, void *scratch);

// ---- Requantization (requantize.c) -----------------------------------------------------------
/// gemmlowp/TFLite rounding, see requantize.c: x saturated by a left shift (shift < 0), then
/// SaturatingRoundingDoublingHighMul(x, multiplier) (ties toward +infinity), then
/// RoundingDivideByPOT by shift (shift > 0; ties away from zero). multiplier in [2^30, 2^31),
/// shift in [-31, 31].
int32_t lbr_requantize_one(int32_t x, int32_t multiplier, int32_t shift);
/// out[r][j] = clamp(lbr_requantize_one((acc[r][j] << acc_shift) + bias[j], multiplier[j], shift[j]) + zero_point,
/// qmin, qmax) as int8 (out_is_signed = 1) or uint8 (0). The shift (0...30) lets the bias carry
/// acc_shift more fractional bits; callers choose it so the shifted sums fit. The bias add wraps in
/// two's complement.
/// Input quantization of an integer-only layer: out[i] = clamp(round_half_even(x[i] / scale), qmin, qmax)
/// as uint8 (out_is_signed 0) or int8; NaN gives qmin. Bit-exact with the training-side activation quantizer.
void lbr_quantize_codes(lbr_isa isa, const float *x, size_t count, float scale, int32_t qmin, int32_t qmax, void *out,
                        int out_is_signed);
void lbr_quantize_codes_ref(const float *x, size_t count, float scale, int32_t qmin, int32_t qmax, void *out,
                            int out_is_signed);
void lbr_requantize(lbr_isa isa, const int32_t *acc, size_t rows, size_t n, size_t ldacc, int32_t acc_shift,
                    const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                    int32_t zero_point, int32_t qmin, int32_t qmax, void *out, int out_is_signed, size_t ldo);
void lbr_requantize_ref(const int32_t *acc, size_t rows, size_t n, size_t ldacc, int32_t acc_shift,
                        const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                        int32_t zero_point, int32_t qmin, int32_t qmax, void *out, int out_is_signed, size_t ldo);

#endif
