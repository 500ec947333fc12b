// dcgan.h - train deep convolutional GANs in plain C, one header, no autograd.
//
// What it is
//   Tensors, layers with hand-written forward and backward passes, Adam, the
//   GAN loss, a sequential model container, the three DCGAN architectures of
//   the chest X-ray study (Kermany et al. 2018 data), training on little data
//   (DiffAugment, ADA's adaptive strength, an averaged generator), image-folder
//   loading, safetensors checkpoints, and procedural phantom X-rays.
//   Written to be read by students: every formula names its source. Paths
//   named in comments (tests/, bench/RESULTS.md, examples/, docs/) are files of
//   the repository this header comes from; "session N" there is a dated
//   section of bench/RESULTS.md, where the measurement behind a choice lies.
//
// Creating the implementation
//   In exactly ONE C or C++ file:
//       #define DCGAN_IMPLEMENTATION
//       #define STB_IMAGE_IMPLEMENTATION          // or link -lstb instead
//       #define STB_IMAGE_RESIZE_IMPLEMENTATION
//       #define STB_IMAGE_WRITE_IMPLEMENTATION
//       #include "dcgan.h"
//   Every other file just includes "dcgan.h". Compile with
//   `cc -std=c99 -O2 -fopenmp $(pkg-config --cflags stb) prog.c -lm` (stb from
//   Debian's libstb-dev; -fopenmp is optional). DCGAN_NO_IMAGES drops stb.
//   (GCC's GNU modes, -std=gnu*, the default, fuse a * b + c into one rounding
//   where the target has FMA, e.g. with -march=native: the numbers then differ
//   in their last bits from those promised here; -std=c99 or -ffp-contract=off
//   keeps them. With clang the loops concerned switch fusing off themselves.)
//
// Quick start: train the study's GAN on a folder, save a checkpoint (the
//   study's full size, 128x128x3 at batch 128, 6.4 TFLOP an iteration: about
//   20 s an iteration on 2 recent CPU cores, over a day for these 5,000 - a
//   GPU's work; examples/minimal_gan.c trains a small GAN in half a minute)
//       dcgan_gan_config cfg;  dcgan_gan gan;  dcgan_dataset ds;  dcgan_image_options io;
//       dcgan_gan_stats st;
//       dcgan_gan_config_default(&cfg);              // seed arch, 128x128x3, batch 128
//       dcgan_image_options_default(&io);            // 128x128, RGB, antialiased resize
//                                                    // (the study's Keras code: DCGAN_RESIZE_NEAREST)
//       if (dcgan_dataset_load(&ds, "chest_xray/train/NORMAL", &io) != DCGAN_OK ||
//           dcgan_gan_init(&gan, &cfg) != DCGAN_OK) {
//           fprintf(stderr, "%s\n", dcgan_last_error());
//           dcgan_dataset_free(&ds);                    // (zeroed when the load failed)
//           return 1;
//       }
//       dcgan_status rc = DCGAN_OK;                     // every call says how it went
//       for (int it = 0; it < 5000 && rc == DCGAN_OK; it++)
//           rc = dcgan_gan_train_step(&gan, ds.data, ds.count, &st);   // NaN: stops
//       if (rc == DCGAN_OK) rc = dcgan_gan_save(&gan, "gan.safetensors", NULL, NULL, 0);
//       if (rc != DCGAN_OK) fprintf(stderr, "%s\n", dcgan_last_error());
//       dcgan_gan_free(&gan);  dcgan_dataset_free(&ds);
//   Lower level: dcgan_model_init from a list of dcgan_layer_spec, then
//   dcgan_model_forward / dcgan_bce_with_logits / dcgan_model_backward /
//   dcgan_model_adam_step; or call the layer functions on your own buffers.
//
// Configuration macros (define before including the implementation)
//   DCGAN_STATIC            make every public function static to this file
//   DCGAN_MALLOC(sz) DCGAN_REALLOC(p,sz) DCGAN_FREE(p)   all three or none; called
//                           from several threads at once (dcgan_dataset_load)
//   DCGAN_ASSERT(x)         internal invariants only, default ((void)0)
//   DCGAN_NO_IMAGES         compile out the image-folder loader (no stb needed)
//   DCGAN_CUDA              declare the _cuda twins in dcgan_cuda.cu
//   DCGAN_INCEPTION_BATCH   images per pass through Inception's mixed blocks (8)
//   DCGAN_NO_SIMD           leave out the AVX2 and AVX-512 intrinsics (portable loops only)
//   DCGAN_NO_AVX512         leave out the AVX-512 kernels only
//   DCGAN_NO_CLONES         no GCC target_clones (AVX2 copies of the vectorised loops)
//   DCGAN_NO_FORK           decode images in the process, not in a helper process
//   DCGAN_TEST_INTERNALS    the internals the tests check are not static (the
//                           test programs link one tests/dcgan_impl.c)
//   (compile with -fopenmp to run the matrix products on every core)
//
// Conventions
//   Dimension letters: N batch, C channels in, OC channels out, H W input
//   height and width, OH OW output height and width, K kernel size, S stride,
//   P padding, Z latent size. Tensors are float32, NCHW, row-major, contiguous.
//   dcgan_tensor is a view: it owns nothing. The caller owns top-level structs;
//   _init fills one in, _free releases it and zeroes it (free on a zeroed
//   struct does nothing). Functions that can fail return dcgan_status and
//   dcgan_last_error() says why; on failure their outputs are unchanged,
//   except where the prototype says otherwise: the _init functions and the
//   readers that fill an empty struct (dcgan_dataset_load and _cache_load,
//   dcgan_state_dict_load, dcgan_safetensors_read, dcgan_fid_stats_compute and
//   _load_npz, dcgan_features_load_npy) leave it zeroed, so free what it held
//   first; dcgan_gan_train_step keeps the parts of its step before the failure.
//   (dcgan_gan_load and dcgan_model_load leave their model as it was.)
//   Backward functions ADD (+=) into every gradient buffer, dinp included.
//   Nothing in the library prints, exits or aborts.
//
// Contents (the declarations and the implementation follow this order)
//  Part I, the GAN: to be read top to bottom, each layer's plain loops first
//    1. Status and errors
//    2. Memory
//    3. Random numbers (PCG32)
//    4. Tensors
//    5. Matrix multiply (GEMM): the reference loop
//    6. Layers: linear, conv2d, conv_transpose2d, upsample, batchnorm2d,
//       activations, dropout, Gaussian noise
//    7. Loss: binary cross-entropy on logits
//    8. Optimizer: Adam
//    9. Models: sequential container
//   10. GAN: DiffAugment and ADA's p, generator, discriminator, training
//       step, the averaged generator (EMA)
//   11. Checkpoints: safetensors files (GAN and single models)
//   12. Pictures: phantom X-rays, grids, line plots, bar charts
//   13. Image folders (stb)
//  Part II, evaluation
//   14. Inception-V3 features and FID
//       14a. the network
//       14b. FID statistics, Gram products, eigenvalues, Frechet distance, KID
//       14c. torch.save: a restricted unpickler
//       14d. zip archives and the two .pth layouts
//       14e. finding and loading the weights
//       14f. .npz statistics files (CRC-32, .npy, zip)
//       14g. what an FID means: feature files, intervals, floor, precision/recall
//  Part III, speed (the implementation only: nothing new to call)
//   15. The blocked GEMM, implicit GEMM, direct convolution, AVX2/AVX-512
//       kernels, each tested against the reference it stands in for
//   16. GPU twins (dcgan_cuda.cu)
//   (between the declarations and the implementation: the internals that the
//    tests check against their references)
//  The classifier tools of the example programs (augmentation, patient split,
//  metrics, rating statistics) are in examples/classify_tools.h, not here.
//
// Limitations
//   float32 on the CPU with OpenMP; the GPU twins (dcgan_cuda.cu) are written
//   and compiled but not yet verified on a GPU (tested on a host emulation of
//   the GPU code only, tests/cuda_emu). The built-in GAN models make
//   square images of 64, 128 or 256 pixels. FID needs pytorch-fid's weights file (not
//   bundled). stb_image cannot decode 12-bit or arithmetic-coded JPEGs; its
//   crashes on hostile files are contained in a helper process only where
//   fork() exists (POSIX).
//
// License: see end of file.

#ifndef DCGAN_H_INCLUDED
#define DCGAN_H_INCLUDED

#define DCGAN_VERSION "0.10.0"  // major.minor.patch of this file (0.10.0: dcgan_vec_ema, and
                                // DiffAugment, ADA and the averaged G on the GPU; 0.9.0: BatchNorm's plain
                                // loops, dcgan_batchnorm2d_*_ref; 0.8.0: dcgan_dataset counts
                                // images enlarged to the size; 0.7.0: nearly black ones, and the
                                // averaged G's ramp-up as StyleGAN2-ADA's)

#include <stddef.h>
#include <stdint.h>

#ifdef DCGAN_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define DCGAN_API static __attribute__((unused))
#else
#define DCGAN_API static
#endif
#else
#define DCGAN_API extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

// -----------------------------------------------------------------------------
// 1. Status and errors

typedef enum {
    DCGAN_OK            =  0,
    DCGAN_ERR_NOMEM     = -1,  // allocation failed or size overflowed
    DCGAN_ERR_SHAPE     = -2,  // tensor shapes do not fit the layer
    DCGAN_ERR_IO        = -3,  // open/read/write/rename failed
    DCGAN_ERR_FORMAT    = -4,  // bad magic, version or truncated file
    DCGAN_ERR_NONFINITE = -5,  // NaN or Inf in loss or gradients
    DCGAN_ERR_CUDA      = -6,  // a CUDA call or kernel launch failed
    DCGAN_ERR_UNSUPPORTED = -7 // this build or this CPU cannot do what was asked
} dcgan_status;

// The enum name of a status, e.g. "DCGAN_ERR_SHAPE"; "DCGAN_UNKNOWN" otherwise.
DCGAN_API const char *dcgan_status_name(dcgan_status s);

// The message of the last failure in this thread, e.g.
// "conv2d_forward: inp has N=2 C=3, weight expects C=1". "" if nothing failed yet.
DCGAN_API const char *dcgan_last_error(void);
// Records a failure message (printf-style) and returns status. For companion
// files such as dcgan_cuda.cu; the library itself reports through it too.
DCGAN_API dcgan_status dcgan_error_set(dcgan_status status, const char *fmt, ...);
// Adds context in front of the current message: "<fmt...>: <old message>".
// The old message is copied first, so it may safely be wrapped more than once
// (passing dcgan_last_error() as an argument to dcgan_error_set would garble it).
DCGAN_API dcgan_status dcgan_error_wrap(dcgan_status status, const char *fmt, ...);

// -----------------------------------------------------------------------------
// 2. Memory

// Frees memory that the library allocated and handed to the caller.
DCGAN_API void dcgan_free(void *p);

// -----------------------------------------------------------------------------
// 3. Random numbers
//
// PCG32 (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient
// Statistically Good Algorithms", pcg32 = XSH-RR output on a 64-bit LCG).
// The stream is fully specified below, so the same seed gives the same numbers
// on every platform:
//   seed:    state = 0; inc = (seq << 1) | 1; next(); state += init; next()
//            (the reference pcg32_srandom_r(init, seq)); dcgan_rng_seed(s) is
//            init = seq = s
//   next:    old = state; state = old * 6364136223846793005 + inc;
//            x = ((old >> 18) ^ old) >> 27; r = old >> 59; out = rotr32(x, r)
//   uniform: (next() >> 8) * 2^-24, a float in [0, 1)
//   normal:  Box-Muller in double on two uniforms u1 = (next()>>8 + 1) * 2^-24
//            (in (0,1]) and u2 = (next()>>8) * 2^-24; r = sqrt(-2 ln u1);
//            returns r cos(2 pi u2), then r sin(2 pi u2) on the next call.

typedef struct {
    uint64_t state, inc;
    int has_spare;     // a second Box-Muller value is waiting
    double spare;
} dcgan_rng;

// Seeds the generator; any 64-bit value is a valid seed.
DCGAN_API void dcgan_rng_seed(dcgan_rng *rng, uint64_t seed);
// Seeds with a separate initial state and stream selector, exactly as the
// reference pcg32_srandom_r(initstate, initseq); (42, 54) starts 0xa15c02b7.
DCGAN_API void dcgan_rng_seed_stream(dcgan_rng *rng, uint64_t initstate, uint64_t initseq);
// Skips delta raw outputs in O(log delta) steps: afterwards the generator is
// where delta calls of dcgan_rng_u32 would have left it (the Box-Muller spare
// is kept). The GPU uses it to give element i of a dropout mask the i-th draw.
DCGAN_API void dcgan_rng_advance(dcgan_rng *rng, uint64_t delta);
// Next raw 32-bit output.
DCGAN_API uint32_t dcgan_rng_u32(dcgan_rng *rng);
// Uniform float in [0, 1).
DCGAN_API float dcgan_rng_uniform(dcgan_rng *rng);
// Standard normal float (mean 0, standard deviation 1).
DCGAN_API float dcgan_rng_normal(dcgan_rng *rng);
// Fills out[0..n) with U(lo, hi) or N(mean, std).
DCGAN_API void dcgan_rng_fill_uniform(dcgan_rng *rng, float *out, size_t n, float lo, float hi);
DCGAN_API void dcgan_rng_fill_normal(dcgan_rng *rng, float *out, size_t n, float mean, float std);

// -----------------------------------------------------------------------------
// 4. Tensors

typedef struct {
    float *data;       // not owned
    int n, c, h, w;    // NCHW; a vector of length L is (1, L, 1, 1) or (L, 1, 1, 1)
} dcgan_tensor;

// A view over data with shape (n, c, h, w).
DCGAN_API dcgan_tensor dcgan_tensor_make(float *data, int n, int c, int h, int w);
// n * c * h * w.
DCGAN_API size_t dcgan_tensor_numel(dcgan_tensor t);

// x[0..n) = 0; dst[0..n) = src (dst == src: nothing to do); dst[0..n) += src.
// dst and src are the same array or do not overlap (the loops are vectorised).
// They cannot fail and return DCGAN_OK, as their GPU twins (section 16) do;
// the model's passes (section 9) call one or the other.
DCGAN_API dcgan_status dcgan_vec_zero(float *x, size_t n);
DCGAN_API dcgan_status dcgan_vec_copy(float *dst, const float *src, size_t n);
DCGAN_API dcgan_status dcgan_vec_add(float *dst, const float *src, size_t n);
// x[0..n) = value.
DCGAN_API dcgan_status dcgan_vec_fill(float *x, size_t n, float value);
// avg[i] = x[i] + (avg[i] - x[i]) * beta: a moving average pulled toward x
// (the averaged G's update, section 10).
DCGAN_API dcgan_status dcgan_vec_ema(float *avg, const float *x, size_t n, float beta);
// The rows index[0..count) of src (rows of `row` floats) one after the other
// into dst (the real half of a GAN's batch). The GPU twin takes dst and src in
// device memory and index on the host.
DCGAN_API dcgan_status dcgan_gather_rows(float *dst, const float *src, const int *index, int count, size_t row);

// -----------------------------------------------------------------------------
// 5. Matrix multiply (GEMM)
//
// C = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or X^T.
// op(A) is M x K, op(B) is K x N, C is M x N. lda, ldb, ldc are row strides.
// Every matrix product in the library (linear, conv2d, conv_transpose2d, both
// backward products) runs on dcgan_sgemm's loops (convolutions through a
// variant that reads the im2col matrix from the images while packing), so
// making it faster speeds up everything. beta = 0 overwrites C without
// reading it (NaN in C does not leak through), as BLAS does.

DCGAN_API void dcgan_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc);
#define DCGAN_MAX_THREADS 4096   // dcgan_set_threads' bound (the programs' --threads too)

// Threads for the parallel loops (OpenMP builds only; otherwise a no-op that
// reports 1). n <= 0 means $DCGAN_THREADS when it holds a positive number, else
// $OMP_NUM_THREADS (OpenMP's own variable, its first number) when it does, else
// all cores. At most DCGAN_MAX_THREADS (4096; more is taken as 4096: 100000
// threads crashed inside OpenMP). Returns the number of threads now in use.
DCGAN_API int dcgan_set_threads(int n);

// dcgan_sgemm packs its operands into a buffer that it keeps between calls
// (one per calling thread), so that a training loop stops allocating after its
// first step. This frees the calling thread's buffer; dcgan_model_free and
// dcgan_inception_free call it. Harmless at any time: the next product makes a new one.
DCGAN_API void dcgan_sgemm_release(void);

// The precision of the CPU products (process-wide; set it before training, not
// while products run). DCGAN_MATMUL_FLOAT32, the default, is what every
// exactness promise of this file is about. DCGAN_MATMUL_BFLOAT16 rounds both
// operands of every blocked product (dcgan_sgemm and every layer's products;
// not the direct convolution of section 15c, not the GPU) to bfloat16 and sums
// their products in float32 with the AVX512_BF16 instruction VDPBF16PS, or
// on AMX tiles (TDPBF16PS) where the CPU has AMX-BF16 and Linux lends the
// tiles (asked here): about 3 significant digits per operand, for up to twice
// the speed of the product with VDPBF16PS on AMD's EPYCs (slower on Intel
// Xeons) and several times with AMX (measured in bench/RESULTS.md; as
// PyTorch's set_float32_matmul_precision).
// Refused (DCGAN_ERR_UNSUPPORTED) where the CPU lacks AVX512_BF16 or the build
// its kernel (DCGAN_NO_SIMD, DCGAN_NO_AVX512, GCC < 10, clang < 9).
typedef enum { DCGAN_MATMUL_FLOAT32 = 0, DCGAN_MATMUL_BFLOAT16 = 1 } dcgan_matmul_precision;
DCGAN_API dcgan_status dcgan_set_matmul_precision(dcgan_matmul_precision precision);
DCGAN_API dcgan_matmul_precision dcgan_get_matmul_precision(void);
// 1 where the products are bfloat16 and run on AMX tiles, else 0.
DCGAN_API int dcgan_matmul_on_amx(void);

// The plain triple loop that dcgan_sgemm is tested against.
DCGAN_API void dcgan_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, float alpha,
                               const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc);

// -----------------------------------------------------------------------------
// 6. Layers
//
// Each layer is a pair _forward / _backward. Weights are plain float pointers
// (views into a model's params); their gradients are the pointers at the same
// offset in the model's grads. A NULL bias means "no bias"; a NULL dbias or
// dweight skips that gradient; dinp.data == NULL skips the input gradient.

// Linear: out[n][o] = sum_i inp[n][i] * weight[o][i] + bias[o]   (torch.nn.Linear)
// inp is read as (N, IN) with IN = c*h*w of the tensor; out is (N, OUT, 1, 1)
// or any tensor with N rows of OUT values.
// Shape checks, one per layer with weights (dcgan_linear_check, dcgan_conv2d_check,
// dcgan_conv_transpose2d_check below each struct), shared by the CPU functions and
// their GPU twins (dcgan_cuda.cu) so that both accept exactly the same shapes.
// Forward (backward = 0): inp against the layer, then out. Backward
// (backward = 1): inp, then out = dout, then dinp (skipped when dinp.data is
// NULL). DCGAN_OK, or DCGAN_ERR_SHAPE with the message the layer gives, naming
// func (e.g. __func__; a "dcgan_" prefix is dropped).

typedef struct {
    float *weight;     // (OUT, IN)
    float *bias;       // (OUT) or NULL
    int in_features, out_features;
} dcgan_linear;

// The shared shape check (see the top of this section).
DCGAN_API dcgan_status dcgan_linear_check(const char *func, dcgan_tensor out, dcgan_tensor inp,
                                          dcgan_tensor dinp, int backward,
                                          const dcgan_linear *lin);

DCGAN_API dcgan_status dcgan_linear_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_linear *lin);
DCGAN_API dcgan_status dcgan_linear_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_linear *lin);

// Conv2d: (N,C,H,W) -> (N,OC,OH,OW)                 (torch.nn.Conv2d + F.pad)
// out[n][oc][oh][ow] = bias[oc] + sum_{c,kh,kw} weight[oc][c][kh][kw] *
//                      inp[n][c][oh*S - pad_top + kh][ow*S - pad_left + kw]
// with zeros outside the image. Padding may differ per side, so TensorFlow's
// padding='same' (for K=5, S=2 on an even size: 1 before, 2 after) is exact:
// OH = (H + pad_top + pad_bottom - K) / S + 1.
// (The same struct, with the same geometry, serves the transposed convolution.)
typedef struct {
    float *weight;     // (OC, C, K, K); transposed: (C, OC, K, K)
    float *bias;       // (OC) or NULL
    int in_channels, out_channels, kernel, stride;
    int pad_top, pad_left, pad_bottom, pad_right;
} dcgan_conv2d;

// The shared shape check (see the top of this section).
DCGAN_API dcgan_status dcgan_conv2d_check(const char *func, dcgan_tensor out, dcgan_tensor inp,
                                          dcgan_tensor dinp, int backward,
                                          const dcgan_conv2d *conv);

// Output size of a convolution along one axis; 0 when the kernel does not fit,
// S <= 0, or the size would pass INT_MAX.
DCGAN_API int dcgan_conv_out_size(int in, int kernel, int stride, int pad_before, int pad_after);
// TensorFlow/Keras padding='same' for a convolution: out = ceil(in / S),
// total = max((out - 1) * S + K - in, 0), before = total / 2, after = the rest
// (no padding when S <= 0 or in < 0, which the shape checks refuse).
DCGAN_API void dcgan_same_padding(int in, int kernel, int stride, int *pad_before,
                                  int *pad_after);
// Scratch floats that dcgan_conv2d_forward/backward need per image of HxW
// (its im2col matrix and its product). Given work_floats of scratch, they put
// work_floats / work_size images into each matrix product (at least one, so
// work_floats >= work_size: a shorter work is DCGAN_ERR_SHAPE, nothing done);
// work = NULL lets them allocate up to 64 MiB. Inputs with H or W below 1 are
// DCGAN_ERR_SHAPE.
DCGAN_API size_t dcgan_conv2d_work_size(const dcgan_conv2d *conv, int H, int W);

DCGAN_API dcgan_status dcgan_conv2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_conv2d *conv, float *work,
                                            size_t work_floats);
DCGAN_API dcgan_status dcgan_conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_conv2d *conv, float *work,
                                             size_t work_floats);
// Direct seven-loop versions: the reference the im2col + GEMM path is tested against.
DCGAN_API dcgan_status dcgan_conv2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                const dcgan_conv2d *conv);
DCGAN_API dcgan_status dcgan_conv2d_backward_ref(dcgan_tensor dinp, float *dweight,
                                                 float *dbias, dcgan_tensor dout,
                                                 dcgan_tensor inp, const dcgan_conv2d *conv);

// ConvTranspose2d: (N,C,H,W) -> (N,OC,OH,OW)          (torch.nn.ConvTranspose2d)
// The gradient of a convolution with respect to its input: every inp pixel
// scatters weight[c][oc] (a KxK patch) into out at (h*S - pad_top, w*S - pad_left).
// OH = (H - 1) * S - pad_top - pad_bottom + K. PyTorch's padding=p is
// pad_top = pad_bottom = p; Keras Conv2DTranspose(K=4, S=2, 'same') is p = 1.
// The fields of dcgan_conv2d; weight (C, OC, K, K), PyTorch's layout.
typedef dcgan_conv2d dcgan_conv_transpose2d;

// The shared shape check (see the top of this section).
DCGAN_API dcgan_status dcgan_conv_transpose2d_check(const char *func, dcgan_tensor out,
                                                    dcgan_tensor inp, dcgan_tensor dinp,
                                                    int backward,
                                                    const dcgan_conv_transpose2d *conv);

// (0 when the size is not positive or would pass INT_MAX)
DCGAN_API int dcgan_conv_transpose_out_size(int in, int kernel, int stride, int pad_before,
                                            int pad_after);
// Scratch floats per image, as dcgan_conv2d_work_size (the same rule: a work
// shorter than this is DCGAN_ERR_SHAPE, NULL lets the functions allocate).
DCGAN_API size_t dcgan_conv_transpose2d_work_size(const dcgan_conv_transpose2d *conv,
                                                  int H, int W);
DCGAN_API dcgan_status dcgan_conv_transpose2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                      const dcgan_conv_transpose2d *conv,
                                                      float *work, size_t work_floats);
DCGAN_API dcgan_status dcgan_conv_transpose2d_backward(dcgan_tensor dinp, float *dweight,
                                                       float *dbias, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_conv_transpose2d *conv,
                                                       float *work, size_t work_floats);
DCGAN_API dcgan_status dcgan_conv_transpose2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                          const dcgan_conv_transpose2d *conv);
DCGAN_API dcgan_status dcgan_conv_transpose2d_backward_ref(dcgan_tensor dinp, float *dweight,
                                                           float *dbias, dcgan_tensor dout,
                                                           dcgan_tensor inp,
                                                           const dcgan_conv_transpose2d *conv);

// Upsample / resize: (N,C,H,W) -> (N,C,OH,OW), any output size   (torch.nn.Upsample,
// F.interpolate). The output tensor's size sets the scale.
//   NEAREST:  src = min(floor(dst * (in / out)), in - 1)
//   BILINEAR: align_corners=False, no antialias: src = (dst + 0.5) * in / out - 0.5,
//             clamped below at 0; i0 = floor(src), i1 = min(i0 + 1, in - 1),
//             lambda = src - i0. The scale in / out is a float, as in PyTorch.
typedef enum { DCGAN_UPSAMPLE_NEAREST = 0, DCGAN_UPSAMPLE_BILINEAR = 1 } dcgan_upsample_mode;

DCGAN_API dcgan_status dcgan_upsample_forward(dcgan_tensor out, dcgan_tensor inp,
                                              dcgan_upsample_mode mode);
DCGAN_API dcgan_status dcgan_upsample_backward(dcgan_tensor dinp, dcgan_tensor dout,
                                               dcgan_upsample_mode mode);

// BatchNorm2d: per channel, y = gamma * (x - mean) / sqrt(var + eps) + beta
// (Ioffe & Szegedy 2015, "Batch Normalization", ICML, algorithm 1; the
// semantics of torch.nn.BatchNorm2d). Training: mean and biased variance over (N,H,W);
// running = (1 - momentum) * running + momentum * batch, with the unbiased
// variance for running_var. Eval: the running statistics.
typedef struct {
    float *gamma, *beta;                 // (C) weight and bias, views into params
    float *running_mean, *running_var;   // (C) views into the model's buffers
    float *save_mean, *save_invstd;      // (C) saved for backward (caller's memory)
    int channels;
    float eps, momentum;
    int saved_training;                  // saved for backward: forward's mode
} dcgan_batchnorm2d;

DCGAN_API dcgan_status dcgan_batchnorm2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                 dcgan_batchnorm2d *bn, int training);
DCGAN_API dcgan_status dcgan_batchnorm2d_backward(dcgan_tensor dinp, float *dgamma,
                                                  float *dbeta, dcgan_tensor dout,
                                                  dcgan_tensor inp,
                                                  const dcgan_batchnorm2d *bn);
// The same two as plain loops, for reading and for tests (the library's own
// sum in a fixed order of partial sums; the results agree to float rounding).
DCGAN_API dcgan_status dcgan_batchnorm2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                     dcgan_batchnorm2d *bn, int training);
DCGAN_API dcgan_status dcgan_batchnorm2d_backward_ref(dcgan_tensor dinp, float *dgamma,
                                                      float *dbeta, dcgan_tensor dout,
                                                      dcgan_tensor inp,
                                                      const dcgan_batchnorm2d *bn);

// Elementwise activations over n floats. Backward takes what it needs:
// LeakyReLU and ReLU the input, Tanh and Sigmoid the output. They cannot fail
// and return DCGAN_OK, as their GPU twins return a status (section 9 calls
// either through one dispatch).
DCGAN_API dcgan_status dcgan_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
DCGAN_API dcgan_status dcgan_leaky_relu_backward(float *dinp, const float *dout, const float *inp,
                                                 size_t n, float slope);
DCGAN_API dcgan_status dcgan_relu_forward(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_relu_backward(float *dinp, const float *dout, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_tanh_forward(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
DCGAN_API dcgan_status dcgan_sigmoid_forward(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_sigmoid_backward(float *dinp, const float *dout, const float *out,
                                              size_t n);

// Dropout(p), inverted (torch.nn.Dropout): in training each value is kept with
// probability 1 - p and scaled by 1 / (1 - p); mask[i] records that factor
// (0 or 1/(1-p)) for backward. In eval, out = inp and mask = 1.
DCGAN_API dcgan_status dcgan_dropout_forward(float *out, float *mask, const float *inp, size_t n,
                                             float p, int training, dcgan_rng *rng);
DCGAN_API dcgan_status dcgan_dropout_backward(float *dinp, const float *dout, const float *mask,
                                              size_t n);

// Gaussian noise (Keras' GaussianNoise layer; "instance noise", Sonderby et
// al. 2017, "Amortised MAP Inference for Image Super-resolution", ICLR,
// and Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs",
// ICLR: noise on D's inputs makes the real and generated distributions
// overlap, so D cannot separate a few real images perfectly). Training:
// out[i] = inp[i] + stddev * z_i, z_i ~ N(0, 1) by Box-Muller from the
// uniforms 2i and 2i+1 after rng's state (the cosine branch only, so that the
// GPU twin can give value i its own draws); eval or stddev 0: out = inp.
// Backward: dinp += dout (the noise does not depend on inp). out may be inp.
DCGAN_API dcgan_status dcgan_gaussian_noise_forward(float *out, const float *inp, size_t n, float stddev,
                                                    int training, dcgan_rng *rng);
DCGAN_API dcgan_status dcgan_gaussian_noise_backward(float *dinp, const float *dout, size_t n);

// -----------------------------------------------------------------------------
// 7. Loss: binary cross-entropy on logits
//
// loss = mean_i [ max(x_i, 0) - x_i * y_i + log(1 + exp(-|x_i|)) ]
// (torch.nn.BCEWithLogitsLoss(reduction='mean')), stable for any x; targets y
// may be any value in [0, 1] (label smoothing). dlogits (may be NULL) is
// OVERWRITTEN with d loss / d x_i = (sigmoid(x_i) - y_i) / n.
// Returns DCGAN_ERR_NONFINITE (and writes nothing) if the loss is not finite.

DCGAN_API dcgan_status dcgan_bce_with_logits(float *loss, float *dlogits, const float *logits,
                                             const float *targets, size_t n);
// Fraction of logits on the side of their target: (x > 0) == (y >= 0.5).
DCGAN_API float dcgan_binary_accuracy(const float *logits, const float *targets, size_t n);

// -----------------------------------------------------------------------------
// 8. Optimizer: Adam
//
// Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", ICLR,
// algorithm 1; the two frameworks place eps differently:
// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t = t + 1
// PYTORCH (torch.optim.Adam): w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),
//          eps 1e-8.
// KERAS (tf.keras.optimizers.Adam): lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);
//          w -= lr_t * m / (sqrt(v) + eps), eps 1e-7 (on the uncorrected sqrt(v)).

typedef enum { DCGAN_ADAM_PYTORCH = 0, DCGAN_ADAM_KERAS = 1 } dcgan_adam_mode;

// Hyper-parameters are doubles, as Python floats are: PyTorch computes
// 1 - beta2 in double and only then rounds it to float (0.001f, where
// 1 - 0.999f would be 0.00099998713f, a 1e-5 relative difference in v).
typedef struct {
    dcgan_adam_mode mode;
    double lr, beta1, beta2, eps;
    int64_t step;      // steps taken so far
} dcgan_adam;

// Sets the hyper-parameters, eps by mode, step = 0.
DCGAN_API void dcgan_adam_init(dcgan_adam *opt, dcgan_adam_mode mode, double lr,
                               double beta1, double beta2);
// One step over n parameters. Scans grads first: on NaN or Inf, or a gradient
// above DCGAN_ADAM_MAX_GRAD in size (its square would overflow v, which then
// made the next checkpoint unsavable), returns DCGAN_ERR_NONFINITE and leaves
// params, m, v and opt->step unchanged.
#define DCGAN_ADAM_MAX_GRAD 1e19f
DCGAN_API dcgan_status dcgan_adam_step(dcgan_adam *opt, float *params, const float *grads,
                                       float *m, float *v, size_t n);

// -----------------------------------------------------------------------------
// 9. Models: sequential container
//
// A model is a list of layers built from specs, like torch.nn.Sequential. It
// owns four float buffers of the same length (params, grads, adam_m, adam_v),
// one buffer for BatchNorm running statistics, and activation memory for up to
// max_batch samples. Parameter names follow PyTorch state_dict naming:
// "<prefix>.<layer index>.weight", ".bias", ".running_mean", ".running_var".
// The forward and backward passes are written once: on the host buffers they
// call the section 6 functions (the convolutions' backward in their internal
// form that sets the input gradient instead of adding it to zeros), on the GPU
// twins (dcgan_model_to_cuda) the same functions' _cuda twins, which take the
// same arguments.
//
// Adding a layer kind, every place it touches:
//   1. section 6: its _forward and _backward functions (reference loops;
//      a struct when it has several settings), declared there;
//   2. here: a DCGAN_LAYER_ value before DCGAN_LAYER_KIND_COUNT, the spec
//      fields it needs (if any) and a dcgan_spec_ constructor;
//   3. implementation of section 9: its row in dcgan__layer_table - plan
//      (output shape, weight, bias, running statistics, saved values,
//      scratch), forward, backward, and where it applies a weight shape, its
//      own initialisation, an in-place rule (and whether its backward sets
//      dx rather than adding into it: 0 for a new kind). The build fails while a kind has
//      no row; checkpoint names, initialisation and memory follow from it;
//   4. section 16 and dcgan_cuda.cu: the _cuda twins of its forward and
//      backward, with the same arguments (a GPU build fails without them);
//   5. tests: a finite-difference check in tests/test_layers.c, and a model
//      with it against its PyTorch twin (tests/make_reference.py, test_model.c)
//      where PyTorch has the layer.

typedef enum {
    DCGAN_LAYER_LINEAR,
    DCGAN_LAYER_CONV2D,
    DCGAN_LAYER_CONV_TRANSPOSE2D,
    DCGAN_LAYER_UPSAMPLE,
    DCGAN_LAYER_BATCHNORM2D,
    DCGAN_LAYER_LEAKY_RELU,
    DCGAN_LAYER_RELU,
    DCGAN_LAYER_TANH,
    DCGAN_LAYER_SIGMOID,
    DCGAN_LAYER_DROPOUT,
    DCGAN_LAYER_RESHAPE,     // (N, C*H*W) viewed as (N, C, H, W); Flatten is c = -1
    DCGAN_LAYER_GAUSSIAN_NOISE,   // + N(0, stddev^2) in training (Keras GaussianNoise)
    DCGAN_LAYER_KIND_COUNT   // the number of kinds (not a kind)
} dcgan_layer_kind;

typedef struct {
    dcgan_layer_kind kind;
    int out_channels;        // linear: out features; conv, conv_transpose: OC
    int kernel, stride;      // conv, conv_transpose
    int pad_top, pad_left, pad_bottom, pad_right;
    int same;                // conv, conv_transpose: Keras padding='same', pads derived
    int bias;                // linear, conv: has a bias
    int reshape_c, reshape_h, reshape_w;   // reshape: the per-sample shape (reshape_c -1:
                                           // flatten to (C*H*W, 1, 1))
    int scale;               // upsample: output side = input side * scale
    dcgan_upsample_mode upsample_mode;
    float slope;             // leaky_relu: out = slope * x for x <= 0
    float p;                 // dropout: probability of zeroing a value
    float stddev;            // gaussian_noise: standard deviation of the added noise
    float eps, momentum;     // batchnorm
} dcgan_layer_spec;

// Spec constructors (bias on where PyTorch's default has it).
DCGAN_API dcgan_layer_spec dcgan_spec_linear(int out_features);
DCGAN_API dcgan_layer_spec dcgan_spec_conv2d(int out_channels, int kernel, int stride,
                                             int padding);
DCGAN_API dcgan_layer_spec dcgan_spec_conv2d_same(int out_channels, int kernel, int stride);
DCGAN_API dcgan_layer_spec dcgan_spec_conv_transpose2d(int out_channels, int kernel,
                                                       int stride, int padding);
DCGAN_API dcgan_layer_spec dcgan_spec_conv_transpose2d_same(int out_channels, int kernel,
                                                            int stride);
DCGAN_API dcgan_layer_spec dcgan_spec_upsample(int scale, dcgan_upsample_mode mode);
DCGAN_API dcgan_layer_spec dcgan_spec_batchnorm2d(float eps, float momentum);
DCGAN_API dcgan_layer_spec dcgan_spec_leaky_relu(float slope);
DCGAN_API dcgan_layer_spec dcgan_spec_relu(void);
DCGAN_API dcgan_layer_spec dcgan_spec_tanh(void);
DCGAN_API dcgan_layer_spec dcgan_spec_sigmoid(void);
DCGAN_API dcgan_layer_spec dcgan_spec_dropout(float p);
DCGAN_API dcgan_layer_spec dcgan_spec_gaussian_noise(float stddev);
DCGAN_API dcgan_layer_spec dcgan_spec_reshape(int c, int h, int w);
DCGAN_API dcgan_layer_spec dcgan_spec_flatten(void);

// A planned layer: the spec as given (the plan never writes into it) and what
// the plan worked out from it and the input shape.
typedef struct {
    dcgan_layer_spec spec;
    int in_c, in_h, in_w;        // per-sample input shape
    int out_c, out_h, out_w;     // per-sample output shape
    int pad_top, pad_left, pad_bottom, pad_right;   // conv, conv_transpose: the padding used
                                                    // (the spec's, or Keras 'same' for this input)
    size_t weight_offset, weight_count;   // into params/grads (count 0: none)
    size_t bias_offset, bias_count;
    size_t stats_offset, stats_count;     // running statistics in buffers (batchnorm: mean, var)
    size_t saved_offset;         // into saved: values forward keeps for backward
    size_t saved_fixed, saved_per_sample; // their floats: fixed (batchnorm mean, 1/std) or per
                                          // sample of the batch (dropout mask)
    int saved_training;          // batchnorm: mode of the last forward
} dcgan_layer;

typedef struct {
    char prefix[32];             // state_dict prefix, e.g. "main"
    int n_layers;
    dcgan_layer *layers;
    int in_c, in_h, in_w;        // per-sample input shape
    int max_batch, batch;        // allocated batch, batch of the last forward
    size_t n_params;
    float *params, *grads, *adam_m, *adam_v;   // n_params each
    size_t n_buffers;
    float *buffers;              // BatchNorm running statistics
    float *acts;                 // slot 0: input; slot i+1: output of layer i (in place:
                                 // the same memory as slot i, see dcgan__in_place)
    float *dacts;                // gradients of two slots: backward alternates halves
    size_t dslot;                // floats per half of dacts (the largest slot)
    size_t n_dacts;              // floats in dacts (2 * dslot, or more when shared)
    int dacts_borrowed;          // 1: dacts is another model's (dcgan_model_share_dacts)
    size_t *slot_offset;         // n_layers + 2 offsets into acts
    float *saved;                // dropout masks, batchnorm statistics
    size_t n_saved;
    float *work;                 // im2col scratch
    size_t n_work;
    // GPU twins of the buffers above (dcgan_cuda.cu; all NULL in CPU builds),
    // one device allocation per kind; on_device = 1 while the device copy is
    // the current one (the host copy is refreshed by dcgan_model_from_cuda).
    struct {
        float *params, *grads, *adam_m, *adam_v, *buffers, *acts, *dacts, *saved, *work;
        size_t n_work;
    } dev;
    int on_device;
} dcgan_model;

// Builds the model for inputs of shape (in_c, in_h, in_w) and batches up to
// max_batch: checks every layer's shape, allocates all memory (zeroed). On
// failure frees everything and leaves *m zeroed.
DCGAN_API dcgan_status dcgan_model_init(dcgan_model *m, const char *prefix,
                                        const dcgan_layer_spec *specs, int n_layers,
                                        int in_c, int in_h, int in_w, int max_batch);
DCGAN_API void dcgan_model_free(dcgan_model *m);
// Makes borrower use owner's activation-gradient scratch (dacts) instead of
// its own, which it frees; owner's grows to fit both. Only for models whose
// backward passes never run at the same time, such as a GAN's G and D
// (dcgan_gan_init shares them: 1 GiB less in the study's setting). owner
// must be freed after borrower's last backward. DCGAN_ERR_SHAPE if either
// already shares; DCGAN_ERR_NOMEM (nothing changed) without memory.
DCGAN_API dcgan_status dcgan_model_share_dacts(dcgan_model *owner, dcgan_model *borrower);
// The bytes dcgan_model_init would allocate for these specs and max_batch,
// without allocating them (so a program can check them against the memory it
// has before it starts). DCGAN_ERR_SHAPE as dcgan_model_init would give it.
DCGAN_API dcgan_status dcgan_model_bytes(size_t *bytes, const dcgan_layer_spec *specs, int n_layers,
                                         int in_c, int in_h, int in_w, int max_batch);

typedef enum {
    DCGAN_INIT_PYTORCH = 0,  // PyTorch defaults: weight, bias U(-1/sqrt(fan_in), +) ; BN 1, 0
    DCGAN_INIT_KERAS   = 1,  // glorot_uniform kernels, zero biases; BN 1, 0
    DCGAN_INIT_DCGAN   = 2   // Radford et al.: weights N(0, 0.02), biases 0; BN gamma N(1, 0.02)
                             // (the gamma rule is the PyTorch DCGAN example's weights_init)
} dcgan_init_mode;

// Fills params (in layer order, weight then bias) from rng; resets running
// statistics (mean 0, var 1), grads and Adam moments to zero.
DCGAN_API void dcgan_model_init_weights(dcgan_model *m, dcgan_init_mode mode, dcgan_rng *rng);

// Forward pass on inp (N <= max_batch samples of the model's input shape),
// copied into the model. training: batch statistics in BatchNorm and active
// dropout (which draws from rng; rng may be NULL in eval).
DCGAN_API dcgan_status dcgan_model_forward(dcgan_model *m, dcgan_tensor inp, int training,
                                           dcgan_rng *rng);
// The output of the last forward (a view into the model's memory).
DCGAN_API dcgan_tensor dcgan_model_output(const dcgan_model *m);
// Backward pass from dout (the gradient of the loss with respect to the output
// of the last forward, same shape). Adds into grads. If dinp is not NULL, the
// gradient with respect to the input is ADDED into it (N * in_c*in_h*in_w floats).
DCGAN_API dcgan_status dcgan_model_backward(dcgan_model *m, const float *dout, float *dinp);
// As dcgan_model_backward, but for a frozen model: no parameter gradient is
// computed (grads stay as they are), only the one with respect to the input,
// added into dinp. The discriminator inside the generator's step is such a
// model (Keras: trainable = False in the study's combined model), and its
// weight-gradient products are a third of its backward pass.
DCGAN_API dcgan_status dcgan_model_backward_input(dcgan_model *m, const float *dout, float *dinp);
// Sets every gradient to zero (cannot fail: DCGAN_OK, as its GPU twin returns).
DCGAN_API dcgan_status dcgan_model_zero_grad(dcgan_model *m);
// One Adam step over all parameters (refused on non-finite gradients).
DCGAN_API dcgan_status dcgan_model_adam_step(dcgan_model *m, dcgan_adam *opt);

// The model's named tensors in state_dict order: for each layer, weight, bias,
// then (BatchNorm) running_mean, running_var.
typedef struct {
    char name[64];           // "main.0.weight"
    float *data;             // into params or buffers
    size_t offset;           // offset into params (is_buffer = 0) or buffers (1)
    size_t count;
    int is_buffer;
    int ndim;
    int shape[4];            // PyTorch shape
} dcgan_param_info;

// Number of named tensors.
DCGAN_API int dcgan_model_tensor_count(const dcgan_model *m);
// Fills *info for named tensor i (0 <= i < count); DCGAN_ERR_SHAPE otherwise.
DCGAN_API dcgan_status dcgan_model_tensor_info(const dcgan_model *m, int i,
                                               dcgan_param_info *info);

// -----------------------------------------------------------------------------
// 10. GAN: little-data augmentation, generator, discriminator, the training step
//
// Three architectures, chosen with dcgan_gan_config.arch (F(n) = n * width,
// rounded, at least 1; b = size / 16; C = channels; Z = latent):
//   SEED  the study's published Keras code. G: Linear(Z, b*b*F(1024)) +
//         LeakyReLU(0.2), reshape to (F(1024), b, b), four
//         ConvTranspose2d(K=4, S=2, 'same') with F(512), F(256), F(128), F(64)
//         filters + LeakyReLU(0.2), Conv2d(C, K=5, 'same') + Tanh.
//         D: Conv2d(F(64), K=5, S=1, 'same') + LeakyReLU(0.2), then F(128),
//         F(256), F(512), F(1024) with S=2 each + LeakyReLU(0.2), Flatten,
//         Dropout(0.4), Linear(1) (the sigmoid lives in the BCE-with-logits loss).
//         glorot_uniform weights, zero biases. Keras reshapes and flattens in
//         NHWC order, we in NCHW: a fixed permutation of the same units.
//   PAPER the paper's text: each transposed convolution becomes Upsample(x2,
//         nearest) + Conv2d(K=5, 'same'). D as SEED.
//   DCGAN Radford et al. 2016 as in the PyTorch DCGAN example: G from (Z,1,1):
//         ConvTranspose2d(K=4, S=1, P=0) to 4x4, then K=4, S=2, P=1 stages, each
//         + BatchNorm + ReLU, the last to C channels + Tanh; D: Conv2d(K=4, S=2,
//         P=1) stages + BatchNorm (not the first) + LeakyReLU(0.2), then
//         Conv2d(1, K=4, S=1, P=0). No biases; N(0, 0.02) init.
// The objective (Goodfellow et al. 2014, "Generative Adversarial Nets", NIPS):
// D maximises log D(x) + log(1 - D(G(z))); G, instead of minimising
// log(1 - D(G(z))), whose gradient vanishes while D wins easily, maximises
// log D(G(z)) (the paper's "non-saturating" loss, section 3): in BCE terms G
// trains towards label 1 on its own images.
// Training step (the study's loop, for every architecture): D takes one Adam
// step on batch/2 real images drawn with replacement (label real_label), then a
// second, separate step on batch/2 generated images (label fake_label); then G
// takes one step through D on `batch` noise vectors with label 1 (D's weights
// are not stepped; its dropout is active, as in Keras' combined model).
// With cfg.augment every image D sees goes through DiffAugment first (G's
// gradient through its backward pass); with cfg.ada_target p is adjusted every
// DCGAN_ADA_INTERVAL iterations (see dcgan_gan_train_step); with cfg.ema_kimg
// an average of G's weights is kept and dcgan_gan_generate uses it.

// --- Training on little data: DiffAugment, ADA's adaptive strength, an averaged G
//
// DiffAugment (Zhao, Liu, Lin, Zhu, Han 2020, "Differentiable Augmentation for
// Data-Efficient GAN Training", NeurIPS; their DiffAugment_pytorch.py): the
// same kind of random transform T is applied to every image D sees, real or
// generated, in D's steps and in G's step, and G's gradient flows back through
// T, so D cannot memorise the few real images and G is not taught to draw the
// transforms. Per image, in this order:
//   color        brightness  x + (u - 0.5)
//                saturation  (x - m_p) * 2u + m_p, m_p the mean over channels of
//                            that pixel (the identity for one channel)
//                contrast    (x - m) * (u + 0.5) + m, m the mean over C, H, W
//   translation  out[y][x] = in[y + ty][x + tx], 0 outside the image; tx, ty
//                integers in [-s, s], s = int(side / 8 + 0.5)
//   cutout       a square of int(side / 2 + 0.5) pixels set to 0, clipped to the
//                image; its centre an integer uniform in [0, side - 1], or
//                [0, side] for an even square (DiffAugment_pytorch.py's draw)
// (u uniform in [0, 1), one draw per image and transform.) ADA (Karras et al.
// 2020, "Training Generative Adversarial Networks with Limited Data", NeurIPS)
// applies each of the five transforms to an image with probability p; p = 1 is
// DiffAugment as published. For fixed draws every transform is affine in the
// image, so the backward pass needs the draws only.
#define DCGAN_AUG_COLOR       1
#define DCGAN_AUG_TRANSLATION 2
#define DCGAN_AUG_CUTOUT      4

// One image's draws: what dcgan_diffaug_forward does to it.
typedef struct {
    float brightness;                      // added: u - 0.5 (0: not applied)
    float saturation;                      // factor 2u (1: not applied)
    float contrast;                        // factor u + 0.5 (1: not applied)
    int tx, ty;                            // shift (0, 0: not applied)
    int cut_x0, cut_y0, cut_x1, cut_y1;    // zeroed pixels [x0, x1) x [y0, y1); empty: none
} dcgan_aug_draw;

// "translation,cutout,color" (any order, any subset; "none" or "" = 0) into
// DCGAN_AUG_ bits; DCGAN_ERR_SHAPE naming an unknown word (flags unchanged).
DCGAN_API dcgan_status dcgan_diffaug_parse(const char *policy, int *flags);
// The bits as a policy string, "color,translation,cutout" order, "none" for 0.
DCGAN_API void dcgan_diffaug_name(int flags, char *buf, size_t size);
// Draws the transforms of n images of side h x w for the policy, each applied
// with probability p (the rng is advanced the same way whatever p is: a gate
// and the values for every transform of the policy, in the order above). With
// h or w below 1 every draw is the identity and the rng is not advanced.
DCGAN_API void dcgan_diffaug_sample(dcgan_aug_draw *draws, int n, int h, int w, int policy,
                                    float p, dcgan_rng *rng);
// out = T(inp) for n images (n, C, H, W) with their draws; out must not overlap inp.
DCGAN_API void dcgan_diffaug_forward(float *out, const float *inp, const dcgan_aug_draw *draws,
                                     int n, int c, int h, int w);
// dinp += (dT/dinp)^T dout for the same draws (the images are not needed).
DCGAN_API void dcgan_diffaug_backward(float *dinp, const float *dout, const dcgan_aug_draw *draws,
                                      int n, int c, int h, int w);

typedef enum { DCGAN_ARCH_SEED = 0, DCGAN_ARCH_PAPER = 1, DCGAN_ARCH_DCGAN = 2 } dcgan_arch;

typedef struct {
    dcgan_arch arch;
    int size;             // image side: 64, 128 or 256
    int channels;         // 1 (gray) or 3 (RGB)
    float width;          // multiplier on every filter count; 1 = the study's
    int latent;           // Z, the noise length (100)
    int batch;            // D sees batch/2 real + batch/2 fake, G sees batch
    double lr_d, lr_g, beta1, beta2;
    dcgan_adam_mode adam_mode;
    float real_label;     // target for real images (1; 0.9 = one-sided smoothing)
    float fake_label;     // target for generated images (0)
    uint64_t seed;
    // Little data (all off by default: the study's loop as published)
    int augment;          // DCGAN_AUG_ bits: DiffAugment in every D input (0)
    float augment_p;      // probability of each transform when ada_target is 0 (1)
    float ada_target;     // > 0: p adapts so that E[sign(D(real))] stays near it (0; ADA: 0.6)
    float ada_kimg;       // p can move from 0 to 1 in this many thousand real images (5)
    float ema_kimg;       // > 0: averaged G with this half-life in thousand G images (0)
    float ema_rampup;     // half-life at most this fraction of the images so far (0.05;
                          // 0: no ramp-up, as StyleGAN2-ADA's ema_rampup=None)
} dcgan_gan_config;

// The study's settings: SEED, 128x128x3, width 1, Z 100, batch 128, D lr 2e-5,
// G lr 1e-4, beta1 0.5, beta2 0.999, Keras Adam, labels 1 and 0, seed 1; no
// augmentation, no averaged G (augment_p 1, ada_kimg 5, ema_rampup 0.05 for
// when they are turned on). Every architecture's D ends in a logit and the
// loss is BCE on logits (section 7): the study's Dense(1, sigmoid) with
// binary_crossentropy, without Keras' clipping of probabilities to
// [1e-7, 1 - 1e-7] (tf.keras 2 in graph mode takes the logit itself when the
// probability comes from a sigmoid op, as it does here).
DCGAN_API void dcgan_gan_config_default(dcgan_gan_config *cfg);
// "seed", "paper", "dcgan"; and back (DCGAN_ERR_SHAPE for an unknown name).
DCGAN_API const char *dcgan_arch_name(dcgan_arch arch);
DCGAN_API dcgan_status dcgan_arch_parse(const char *name, dcgan_arch *arch);

// What differs between the architectures, one table row each (dcgan.h
// section 10): the name, the weight init, whether G makes D's fake half in
// training mode (DCGAN: BatchNorm uses batch statistics there, as in the
// PyTorch example; Keras' g.predict runs in inference mode), and the
// functions that write the two layer lists (specs must hold DCGAN_MAX_SPECS
// entries; they return how many they wrote and set the input shape).
#define DCGAN_MAX_SPECS 48
typedef struct {
    dcgan_arch arch;
    const char *name;                // "seed", "paper", "dcgan"
    dcgan_init_mode init;
    int fakes_in_training;
    int (*generator)(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c, int *in_h,
                     int *in_w);
    int (*discriminator)(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                         int *in_h, int *in_w);
} dcgan_arch_info;
// The row of arch; NULL for a value that is not an architecture.
DCGAN_API const dcgan_arch_info *dcgan_arch_get(dcgan_arch arch);

typedef enum { DCGAN_GENERATOR = 0, DCGAN_DISCRIMINATOR = 1 } dcgan_net;
// The layer list of the generator or the discriminator, with the input shape
// it takes, after checking cfg's size, channels, width, latent and batch.
// specs must hold DCGAN_MAX_SPECS entries.
DCGAN_API dcgan_status dcgan_gan_specs(const dcgan_gan_config *cfg, dcgan_net net,
                                       dcgan_layer_spec *specs, int *n_specs, int *in_c,
                                       int *in_h, int *in_w);

typedef struct {
    float d_real_loss, d_fake_loss, g_loss;   // BCE of the three steps
    float real_acc, fake_acc;                 // D's accuracy on real and fake
    float augment_p;                          // p after this step (0 without augmentation)
    float ada_rt;                             // the last r_t = E[sign(D(real))] (ADA; else 0)
} dcgan_gan_stats;

// ADA adjusts p every this many iterations (Karras et al. 2020: N = 4).
#define DCGAN_ADA_INTERVAL 4

typedef struct {
    dcgan_gan_config cfg;
    dcgan_model g, d;              // prefixes "G.main" and "D.main"
    dcgan_adam opt_g, opt_d;
    dcgan_rng rng;                 // data sampling, noise, dropout, DiffAugment's draws
    int64_t iteration;             // training steps completed
    float *noise;                  // (batch, Z) scratch
    float *images;                 // (batch, C, size, size) scratch
    float *labels, *dlogits;       // (batch)
    int *real_index;               // (batch; the first batch / 2 used): the real images drawn this step
    float *dimages;                // (batch, C, size, size): dLoss/dG(z)
    // cfg.augment: the augmented images D sees, their gradient, the draws
    float *aug_images, *daug_images;   // (batch, C, size, size)
    dcgan_aug_draw *aug_draws;         // (batch)
    float augment_p;               // p now (ADA starts it at 0)
    int ada_signs, ada_count;      // with ADA: sum of sign(D(real)) and real images since p
                                   // last moved (0 without ADA)
    float ada_rt;                  // r_t of the last adjustment
    // cfg.ema_kimg: the averaged G (same layout as g.params and g.buffers);
    // BatchNorm running statistics are copied, not averaged (StyleGAN2-ADA)
    float *ema_params, *ema_buffers;
    // BatchNorm running statistics of G, then of D, and the random stream as
    // they were before the current part of dcgan_gan_train_step (at least one
    // float): put back when that part fails NONFINITE
    float *step_buffers;
    dcgan_rng step_rng;
    // GPU build (dcgan_gan_to_cuda): the dataset uploaded once and device
    // twins of the scratch buffers; NULL and 0 on the CPU.
    struct {
        const float *host_dataset;     // the dataset that dev.dataset holds
        float *dataset, *images, *noise, *labels, *dlogits, *dimages;
        float *aug_images, *daug_images;   // cfg.augment
        float *ema_params, *ema_buffers;   // cfg.ema_kimg (the averaged G's twins)
        int count;
    } dev;
    int on_device;
} dcgan_gan;

// Builds G and D for cfg, initialises the weights (SEED, PAPER: Keras
// glorot_uniform; DCGAN: N(0, 0.02)) from cfg->seed and the optimizers.
// On failure everything is freed and *gan zeroed.
DCGAN_API dcgan_status dcgan_gan_init(dcgan_gan *gan, const dcgan_gan_config *cfg);
// The bytes dcgan_gan_init would allocate (both models and the batch buffers).
DCGAN_API dcgan_status dcgan_gan_bytes(size_t *bytes, const dcgan_gan_config *cfg);
DCGAN_API void dcgan_gan_free(dcgan_gan *gan);

// One training iteration on a dataset of n_images images (n_images, C, size,
// size) in [-1, 1]: D on real images, D on generated ones, then G. On
// DCGAN_ERR_NONFINITE (a NaN or Inf loss or gradient) the part that saw it
// changed nothing - weights, Adam moments, BatchNorm running statistics and the
// random stream are as before it (the statistics and the stream on the CPU;
// the GPU twins keep their statistics moved) - and the parts before it stand.
DCGAN_API dcgan_status dcgan_gan_train_step(dcgan_gan *gan, const float *dataset,
                                            int n_images, dcgan_gan_stats *stats);

// Runs G in eval mode on n noise vectors (n, Z) into out (n, C, size, size),
// in batches of up to cfg.batch. With cfg.ema_kimg > 0 it is the averaged G.
DCGAN_API dcgan_status dcgan_gan_generate(dcgan_gan *gan, float *out, const float *noise, int n);

// -----------------------------------------------------------------------------
// 11. Checkpoints: safetensors files
//
// The format of the Hugging Face safetensors library: u64 little-endian header
// length N, N bytes of JSON {"name": {"dtype": "F32", "shape": [..],
// "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}}, then the
// raw little-endian tensor bytes; offsets count from the first byte after the
// header, tensors are contiguous, without gaps or overlaps. We write the
// header padded with spaces to a multiple of 8 bytes.

typedef struct {
    char name[128];
    char dtype[8];         // "F32", "F64", "I64", ...
    int ndim;
    int64_t shape[8];
    uint64_t begin, end;   // byte offsets into data
} dcgan_st_tensor;

typedef struct {
    int n_tensors;
    dcgan_st_tensor *tensors;
    int n_meta;
    char (*meta_keys)[64];
    char (*meta_values)[256];
    unsigned char *data;   // all tensor bytes
    uint64_t data_size;
} dcgan_safetensors;

// Reads and validates a whole file: header length, JSON syntax, dtypes, shapes
// against byte sizes, offsets inside the file, no gaps or overlaps. On failure
// DCGAN_ERR_IO / DCGAN_ERR_FORMAT / DCGAN_ERR_NOMEM with the path and the
// problem, and *st zeroed.
DCGAN_API dcgan_status dcgan_safetensors_read(dcgan_safetensors *st, const char *path);
DCGAN_API void dcgan_safetensors_free(dcgan_safetensors *st);
// The tensor or metadata value called name, or NULL.
DCGAN_API const dcgan_st_tensor *dcgan_safetensors_find(const dcgan_safetensors *st,
                                                        const char *name);
DCGAN_API const char *dcgan_safetensors_meta(const dcgan_safetensors *st, const char *key);

// One float32 tensor to write.
typedef struct {
    const char *name;
    const float *data;
    int ndim;
    int64_t shape[8];
} dcgan_st_write_tensor;

// Writes tensors and metadata to path + ".tmp", checks every write and the
// close, then renames it over path: an existing file is replaced whole or not
// at all. Refuses (DCGAN_ERR_FORMAT, nothing written) what the reader could not
// take back: a metadata key or a tensor name given twice, a tensor named
// "__metadata__", more than 256 entries, keys of 64 bytes or more, values of
// 256, tensor names of 128.
DCGAN_API dcgan_status dcgan_safetensors_write(const char *path,
                                               const dcgan_st_write_tensor *tensors,
                                               int n_tensors, const char *const *meta_keys,
                                               const char *const *meta_values, int n_meta);

// Saves G, D (parameters and BatchNorm statistics, PyTorch state_dict names
// prefixed "G." and "D."), both Adam states, the iteration, the RNG state and
// the configuration. extra_keys/extra_values (n_extra, 0 to 16) add metadata
// (keys below 64 bytes, values below 256: what a reader takes back).
// DCGAN_ERR_NONFINITE (nothing written) if any parameter or moment is NaN/Inf.
DCGAN_API dcgan_status dcgan_gan_save(const dcgan_gan *gan, const char *path,
                                      const char *const *extra_keys,
                                      const char *const *extra_values, int n_extra);
// Reads the configuration stored in a checkpoint (to build a matching gan).
DCGAN_API dcgan_status dcgan_gan_config_load(dcgan_gan_config *cfg, const char *path);
// Loads a checkpoint into a gan built with the same configuration. Every
// tensor's presence, dtype and shape is checked before anything is copied: on
// failure the gan is unchanged.
DCGAN_API dcgan_status dcgan_gan_load(dcgan_gan *gan, const char *path);

// One model on its own (a classifier, say): its named tensors (parameters and
// BatchNorm statistics, PyTorch state_dict names), no optimiser state, plus
// caller metadata (keys/values, may be 0; at most 24) and an FNV-1a checksum.
// Written to path.tmp, then renamed. DCGAN_ERR_NONFINITE (nothing written) on
// a NaN or Inf parameter.
DCGAN_API dcgan_status dcgan_model_save(const dcgan_model *m, const char *path,
                                        const char *const *keys, const char *const *values,
                                        int n_meta);
// Loads a file written by dcgan_model_save into a model built with the same
// specs. A GAN checkpoint, a missing or misshapen tensor, or a damaged file is
// DCGAN_ERR_FORMAT naming the file; the model is unchanged on failure. The
// caller reads its own metadata with dcgan_safetensors_read/_meta.
DCGAN_API dcgan_status dcgan_model_load(dcgan_model *m, const char *path);

// -----------------------------------------------------------------------------
// 12. Pictures: phantom chest X-rays, sample grids and line plots
//
// None of this needs stb: the functions fill 8-bit pixel buffers that the
// image section (or the caller) writes out.

// Renders one procedural frontal chest radiograph, size x size, gray values in
// [0, 255], into out: body outline and soft tissue, dark lung fields, heart
// and mediastinum, spine with vertebrae, ribs, clavicles, diaphragm domes,
// film noise. Anatomy varies with rng (sizes, positions, tilt, exposure).
// pneumonia = 1 adds patchy opacities (consolidation) inside the lungs.
DCGAN_API void dcgan_phantom_render(unsigned char *out, int size, int pneumonia, dcgan_rng *rng);

// Tiles n images (n, C, H, W) in [-1, 1] into an 8-bit grid of `cols`
// columns with a `pad`-pixel gray border: *out (owned by the caller, free with
// dcgan_free) is (*out_h, *out_w) with C channels, interleaved (HWC).
// Values map as (x + 1) * 127.5, clamped, as dcgan_image_to_u8 does.
DCGAN_API dcgan_status dcgan_grid_make(unsigned char **out, int *out_w, int *out_h,
                                       const float *images, int n, int C, int H, int W,
                                       int cols, int pad);

// One image (C, H, W) in [-1, 1] to interleaved 8-bit (H, W, C):
// round((x + 1) * 127.5) clamped to [0, 255] (NaN: 0); never a per-image stretch.
DCGAN_API void dcgan_image_to_u8(unsigned char *out, const float *image, int C, int H, int W);

typedef struct {
    const char *label;         // legend text
    const float *y;            // n values (NaN values are skipped)
    unsigned char rgb[3];
} dcgan_plot_series;

// Draws series against x = 0..n-1 (scaled by x_scale > 0, e.g. 1/iterations per
// epoch; with any other x_scale the axis reads 0..1 and the points fall where
// i * x_scale puts them) into an RGB image w x h (w*h*3 bytes): axes with ticks and numbers,
// title, x label and a legend (series with an empty label get no entry; in the
// corner of the plot that covers the fewest drawn points), in a built-in 5x7
// pixel font.
DCGAN_API void dcgan_plot_draw(unsigned char *rgb, int w, int h, const char *title,
                               const char *x_label, const dcgan_plot_series *series,
                               int n_series, size_t n, float x_scale);
// The same for n categories on the x axis (e.g. sizes of a learning curve):
// point i sits at tick i, named x_ticks[i], in the middle of its 1/n of the
// width, and every point gets a 5x5 mark.
DCGAN_API void dcgan_plot_draw_categories(unsigned char *rgb, int w, int h, const char *title,
                                          const char *x_label, const char *const *x_ticks,
                                          const dcgan_plot_series *series, int n_series, size_t n);

// A grouped bar chart into an RGB image w x h: n_groups groups (group_labels
// under the axis) of n_series bars (series[s].label and .rgb; series[s].y[g]
// is the bar of group g), each with an error bar of +- err[s * n_groups + g]
// when err is not NULL. The y axis spans [y_min, y_max]. Bars that are NaN are
// left out; a NULL label gets a legend swatch without text.
DCGAN_API void dcgan_plot_bars(unsigned char *rgb, int w, int h, const char *title,
                               const char *const *group_labels, int n_groups,
                               const dcgan_plot_series *series, int n_series, const float *err,
                               float y_min, float y_max);

#ifndef DCGAN_NO_IMAGES
// -----------------------------------------------------------------------------
// 13. Image folders (stb_image, stb_image_resize, stb_image_write)
//
// Needs Debian's libstb-dev: the implementation includes <stb_image.h>,
// <stb_image_resize.h> and <stb_image_write.h> (compile with
// `pkg-config --cflags stb`); link -lstb, or define STB_IMAGE_IMPLEMENTATION,
// STB_IMAGE_RESIZE_IMPLEMENTATION and STB_IMAGE_WRITE_IMPLEMENTATION in the
// file that defines DCGAN_IMPLEMENTATION.

typedef enum {
    DCGAN_RESIZE_AREA = 0,     // antialiased: stb_image_resize's default filters (Mitchell
                               // when shrinking, Catmull-Rom when enlarging), not a box filter
    DCGAN_RESIZE_NEAREST = 1   // PIL/Keras load_img nearest: src = floor((dst + 0.5) * in / out)
} dcgan_resize_mode;

typedef struct {
    int size;                  // output side (square), default 128
    int channels;              // 1 (gray) or 3 (gray replicated / RGB), default 3
    dcgan_resize_mode resize;
    size_t max_pixels;         // refuse larger images (width * height), default 64 Mpixel
    int max_images;            // stop after this many (0: all)
    // Called once for each file that is skipped, with the reason; may be NULL.
    void (*on_skip)(void *user, const char *path, const char *reason);
    // Called after each file (done of total) for progress; may be NULL.
    // (dcgan_dataset_load decodes on every thread: both are called one call at
    // a time, in the files' order, but from whichever thread decoded the file,
    // inside an OpenMP region: in C++ they must not throw.)
    void (*on_progress)(void *user, int done, int total);
    void *user;
} dcgan_image_options;

DCGAN_API void dcgan_image_options_default(dcgan_image_options *opt);

// Decodes one image file to (channels, size, size) floats in [-1, 1]:
// gray replicated or RGB (alpha dropped; gray from RGB with ITU-R 601 weights
// 0.299, 0.587, 0.114 in Pillow's fixed point, as its convert('L')), 16-bit
// scaled to 8 bits,
// resized, then (x - 127.5) / 127.5. Unreadable or too large: DCGAN_ERR_FORMAT
// / DCGAN_ERR_IO naming the file, out unchanged.
DCGAN_API dcgan_status dcgan_image_load(float *out, const char *path,
                                        const dcgan_image_options *opt);

// Where fork() exists (POSIX, unless DCGAN_NO_FORK), every image file is
// decoded in a helper process (started on the first image, kept for the next
// ones; dcgan_dataset_load starts one per thread and decodes on all of them),
// so that a decoder crash on a hostile file (Debian's stb_image has such
// crashes, tests/stb_crashes/) skips that file with a message instead of
// ending the program. 0 turns this off (decode in the process); 1 (the
// default) turns it on. Not while images are being loaded (it stops the
// helpers that the loading uses).
DCGAN_API void dcgan_set_isolated_decoding(int on);

// The sorted list of image files under dir, recursively (extensions jpg, jpeg,
// png, bmp, pgm, ppm, tga in any case), each file once: one reached under two
// names (a linked folder, a symlink or hard link) keeps its first name in sorted
// order. *paths is an array of *count strings; free with dcgan_paths_free.
DCGAN_API dcgan_status dcgan_list_images(char ***paths, int *count, const char *dir);
// The regular files under dir (recursively, hidden ones not, each once) that
// dcgan_list_images passes over as not of its types (a .dcm, .tif, .webp,
// .txt; not a second name of a listed image): how many in *count, and the
// first in sorted order in first (cap bytes, cut to fit; "" when there is
// none; first may be NULL when cap is 0). For a warning where a dataset's images sit beside files that are not
// read. It fails where the listing does (DCGAN_ERR_IO: a folder or sub-folder
// that cannot be opened, folders nested deeper than 32), and DCGAN_ERR_NOMEM
// where memory is short, leaving *count and first as they were; names whose
// path passes 4095 bytes are passed over by both.
DCGAN_API dcgan_status dcgan_count_other_files(int *count, char *first, size_t cap, const char *dir);
// The sorted image files directly in dir (not recursive), with pytorch-fid's
// extensions in any case: bmp jpg jpeg pgm png ppm tif tiff webp (stb cannot
// decode tif and webp: those fail to load, with a message).
DCGAN_API dcgan_status dcgan_list_fid_images(char ***paths, int *count, const char *dir);
DCGAN_API void dcgan_paths_free(char **paths, int count);

// Decodes a file at its own size to planar RGB floats in [0, 1], as
// pytorch-fid reads images (PIL convert('RGB'), then / 255): gray replicated,
// alpha dropped. *out (3, *h, *w) is the caller's (dcgan_free).
DCGAN_API dcgan_status dcgan_image_load_rgb01(float **out, int *w, int *h, const char *path,
                                              size_t max_pixels);

typedef struct {
    float *data;               // (count, channels, size, size) in [-1, 1]
    int count, channels, size;
    int skipped;               // files that could not be used
    char **paths;              // the count source files used, sorted
    int listed;                // the image files considered: used + skipped (after max_images)
    int unread;                // other files under dir, not of an image type read here (a .dcm,
                               // .tif, .webp, .txt): not in listed
    uint64_t listing;          // a hash of their names, sizes, times and inodes (what the cache checks)
    int dark;                  // images with no pixel above 31 of 255: nearly black, as a 16-bit
                               // PNG of 12-bit values (a DICOM export, 0..4095) loads, since a
                               // 16-bit value v becomes v * 255 / 65535 (rounded) in 8 bits
    int first_dark;            // the index of the first of them, -1 when there is none
    int enlarged;              // images with a side shorter than size, enlarged to it (28x28
                               // MedMNIST images at size 64, say): no more detail than their own
    int first_enlarged;        // the index of the first of them, -1 when there is none, and its
    int first_enlarged_w, first_enlarged_h;   // own width and height (0 when there is none)
} dcgan_dataset;

// Loads every image under dir (and sub-folders) as described above. Files that
// cannot be decoded are skipped (opt->on_skip hears of each) and counted; none
// usable is DCGAN_ERR_FORMAT, and where dir holds no image file at all the
// message counts its other files and names the first (DICOM, TIFF and WebP
// files must be converted to PNG first). On failure *ds is zeroed.
DCGAN_API dcgan_status dcgan_dataset_load(dcgan_dataset *ds, const char *dir,
                                          const dcgan_image_options *opt);
DCGAN_API void dcgan_dataset_free(dcgan_dataset *ds);

// The decoded dataset cached in one file: "DCGC" magic, version, size,
// channels, resize mode, count, listed and listing (above), then each source
// path used with its byte size and modification time, then the pixels as bytes
// ((x * 127.5 + 127.5), exact for nearest resizing and within 1/255
// otherwise). cache_load succeeds only if the file matches dir's current
// listing (every image file, skipped ones too, by name, size, modification and
// status-change times in seconds and inode: a file added, fixed or rewritten
// makes it stale; a rewrite that keeps size, inode and second is not seen) and
// the options exactly; otherwise it
// returns DCGAN_ERR_FORMAT (stale or damaged) or DCGAN_ERR_IO (absent) and the
// caller decodes again; on any failure *ds is zeroed (pass an empty one: a
// loaded dataset in it would be lost, not freed). cache_save writes path.tmp,
// then renames.
DCGAN_API dcgan_status dcgan_dataset_cache_save(const dcgan_dataset *ds, const char *path,
                                                const dcgan_image_options *opt);
DCGAN_API dcgan_status dcgan_dataset_cache_load(dcgan_dataset *ds, const char *path,
                                                const char *dir,
                                                const dcgan_image_options *opt);

// Writes an 8-bit PNG (interleaved, channels 1 to 4: gray, gray + alpha, RGB,
// RGBA) via path.tmp + rename; other shapes, and images whose (w * channels + 1)
// * h passes 2^31 - 1 (stb_image_write counts them in an int), are
// DCGAN_ERR_SHAPE, nothing written.
DCGAN_API dcgan_status dcgan_png_write(const char *path, const unsigned char *pixels, int w,
                                       int h, int channels);
#endif

// -----------------------------------------------------------------------------
// 14. Inception-V3 features and FID
//
// The network pytorch-fid uses (its FIDInceptionA/C/E patches of torchvision's
// Inception3, 1008 classes, no aux head), forward only. The stem (up to the
// second max-pool, where images are 147x147 to 35x35) runs one image at a time;
// the mixed blocks (35x35 and smaller) run DCGAN_INCEPTION_BATCH images at once,
// so their matrix products are wide enough to keep every core busy.
// BasicConv2d = conv (no bias) + BatchNorm(eps 0.001, running statistics) +
// ReLU; the BatchNorm is folded into the convolution when weights are loaded:
// w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps).
// Feature blocks (pytorch-fid --dims): 64 after the first max-pool, 192 after
// the second, 768 after Mixed_6e, 2048 after Mixed_7c, each averaged over space.
// Input: images in [0, 1], any size; resized to 299x299 bilinearly
// (align_corners=False, no antialias) and mapped to 2x - 1, as pytorch-fid does.

typedef struct {
    char name[40];             // state_dict prefix, e.g. "Mixed_6b.branch7x7_2"
    int in_c, out_c, kh, kw, stride, ph, pw;
    size_t weight_offset;      // folded weight (OC, C, KH, KW) in params
    size_t bias_offset;        // folded bias (OC) in params
} dcgan_inception_conv;

typedef struct {
    int n_convs;
    dcgan_inception_conv *convs;
    size_t n_params;
    float *params;             // folded weights and biases of every conv
    int batch;                 // images per mixed-block pass (may be lowered after init)
    float *scratch;            // activations: one image in the stem, `batch` in the mixed blocks
    size_t n_scratch;
    int loaded;                // weights were loaded (or filled)
} dcgan_inception;

// Images per pass through the mixed blocks (each costs about 5.6 MB).
#ifndef DCGAN_INCEPTION_BATCH
#define DCGAN_INCEPTION_BATCH 8
#endif

// Allocates the network (weights zero, loaded = 0). On failure *net is zeroed.
DCGAN_API dcgan_status dcgan_inception_init(dcgan_inception *net);
DCGAN_API void dcgan_inception_free(dcgan_inception *net);

// One named float32 tensor of a state_dict, as read from a file.
typedef struct {
    char name[128];
    int ndim;
    int64_t shape[4];
    const float *data;         // not owned
} dcgan_named_tensor;

// Loads weights from a state_dict given as a list of tensors: every expected
// key (conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var of each
// BasicConv2d, fc.weight, fc.bias) must be there with its shape;
// bn.num_batches_tracked may be. Missing and unexpected keys are listed in
// the error; on failure the network is unchanged.
DCGAN_API dcgan_status dcgan_inception_load_tensors(dcgan_inception *net,
                                                    const dcgan_named_tensor *tensors, int n);

// Fills every weight deterministically, for tests without the real file: the
// tensor called NAME gets PCG32 uniforms u from dcgan_rng_seed(FNV-1a-64(NAME)),
// conv weights (2u - 1) sqrt(6 / fan_in), bn.weight and bn.running_var 0.5 + u,
// bn.bias and bn.running_mean 0.2 (u - 0.5), fc 0.02 (u - 0.5).
// tests/make_fid_reference.py does the same in Python.
DCGAN_API dcgan_status dcgan_inception_fill_deterministic(dcgan_inception *net);

// Features of n images (n, 3, H, W) with values in [0, 1] into out (n, dims)
// as doubles; dims is 64, 192, 768 or 2048. The forward pass stops at the
// block it needs.
DCGAN_API dcgan_status dcgan_inception_features(dcgan_inception *net, double *out,
                                                const float *images, int n, int H, int W,
                                                int dims);
// The same for n images of different sizes: image i is (3, heights[i], widths[i]).
DCGAN_API dcgan_status dcgan_inception_features_list(dcgan_inception *net, double *out,
                                                     const float *const *images,
                                                     const int *heights, const int *widths,
                                                     int n, int dims);


// Feature statistics: mean and covariance with N - 1, like np.cov(rowvar=False).
typedef struct {
    int dims;
    int64_t count;            // feature vectors seen
    double *mu;               // (dims)
    double *sigma;            // (dims, dims)
} dcgan_fid_stats;

// From n feature vectors (n, dims); needs n >= 2. *st owns mu and sigma
// (dcgan_fid_stats_free). On failure *st is zeroed.
DCGAN_API dcgan_status dcgan_fid_stats_compute(dcgan_fid_stats *st, const double *features,
                                               int64_t n, int dims);
DCGAN_API void dcgan_fid_stats_free(dcgan_fid_stats *st);

// Eigen-decomposition of a symmetric matrix in double: A (n x n, row-major,
// overwritten) = V diag(w) V^T, eigenvalues w ascending; V (may be NULL: values
// only) gets the eigenvectors as columns. Householder reduction to tridiagonal
// form, then implicit QL with shifts (Golub & Van Loan, "Matrix Computations",
// 4th ed., 8.3; EISPACK tred2/tql2). DCGAN_ERR_NONFINITE if it does not converge
// (a NaN or Inf in A, say); w and V, like A, then hold no meaningful values.
DCGAN_API dcgan_status dcgan_symmetric_eigen(double *A, int n, double *w, double *V);

// Eigenvalues only (ascending) of a symmetric matrix: reads and destroys the
// lower triangle of A (the upper one is never touched). The Householder
// reduction of dcgan_symmetric_eigen done in one pass over the lower triangle
// per column (each step's update fused with the next step's product), then the
// same QL iteration without vectors: O(n^3 / 3) memory traffic instead of
// O(2 n^3), for FID's bootstrap where only the values are needed. On failure
// (as above) w holds no meaningful values.
DCGAN_API dcgan_status dcgan_symmetric_eigenvalues(double *A, int n, double *w);

// Frechet distance between two Gaussians (Dowson & Landau 1982; Heusel et al.
// 2017): ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2), with
// tr sqrt(S1 S2) = sum of sqrt(eigenvalues of sqrt(S1) S2 sqrt(S1)), a symmetric
// positive semi-definite matrix, so the result is real even when S1, S2 are
// singular (tiny negative eigenvalues from rounding count as 0).
// rank1, rank2 (may be NULL) get the numerical ranks of S1 and S2.
DCGAN_API dcgan_status dcgan_frechet_distance(double *fid, const dcgan_fid_stats *a,
                                              const dcgan_fid_stats *b, int *rank1, int *rank2);

// Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 with
// kernel k(x, y) = (x.y / d + 1)^3 over `subsets` random subsets of size
// min(n1, n2, subset_size) drawn without replacement from rng; mean and
// standard deviation over the subsets.
DCGAN_API dcgan_status dcgan_kid(double *mean, double *std, const double *f1, int64_t n1,
                                 const double *f2, int64_t n2, int dims, int subsets,
                                 int subset_size, dcgan_rng *rng);


// A state_dict read from a file: its float32 tensors (others, such as
// BatchNorm's int64 num_batches_tracked, are counted and skipped).
typedef struct {
    int n;
    dcgan_named_tensor *tensors;
    float *store;              // the data of every tensor
    int skipped;               // tensors of other dtypes
} dcgan_state_dict;

// Reads a state_dict from a file written by torch.save (the legacy pickle
// stream, protocol 2, or the zip format of torch >= 1.6) or a safetensors file.
// The pickle reader is restricted: only the opcodes and globals a state_dict
// needs (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// _rebuild_parameter, torch.*Storage); every length and offset is checked;
// anything else fails with DCGAN_ERR_FORMAT naming the byte offset and opcode.
// On any failure *sd is zeroed (pass an empty one).
DCGAN_API dcgan_status dcgan_state_dict_load(dcgan_state_dict *sd, const char *path);
DCGAN_API void dcgan_state_dict_free(dcgan_state_dict *sd);
// Writes the tensors as a safetensors file (path.tmp, then rename).
DCGAN_API dcgan_status dcgan_state_dict_save(const dcgan_state_dict *sd, const char *path);

#define DCGAN_INCEPTION_FILE "pt_inception-2015-12-05-6726825d.pth"
// Where the weights are looked for: $DCGAN_INCEPTION_WEIGHTS if set, else
// $TORCH_HOME/hub/checkpoints/DCGAN_INCEPTION_FILE, else
// $XDG_CACHE_HOME/torch/hub/checkpoints/DCGAN_INCEPTION_FILE, else
// $HOME/.cache/torch/hub/checkpoints/DCGAN_INCEPTION_FILE (where torch.hub, and
// so pytorch-fid, caches it: the first of these three whose variable is set).
// Writes the first that exists into out; DCGAN_ERR_IO listing all of them if none
// (a path of 1024 bytes or more is not tried), DCGAN_ERR_SHAPE if the one found
// does not fit in cap bytes.
DCGAN_API dcgan_status dcgan_inception_find_weights(char *out, size_t cap);
// Loads the weights from path (.pth in either torch format, or .safetensors);
// path NULL: dcgan_inception_find_weights.
DCGAN_API dcgan_status dcgan_inception_load(dcgan_inception *net, const char *path);


// pytorch-fid's statistics files: a .npz (zip) holding mu.npy (dims) and
// sigma.npy (dims, dims) as float64 ('<f8'; '<f4' is read too). save writes
// them stored (uncompressed) via path.tmp + rename; load reads stored and, with
// the image code compiled in, deflated members (np.savez_compressed).
// count is unknown after load (0). load refuses arrays of 3 or more dimensions and
// NaN or Inf, naming the file. On a failed load *st is zeroed (pass an empty one).
DCGAN_API dcgan_status dcgan_fid_stats_save_npz(const dcgan_fid_stats *st, const char *path);
DCGAN_API dcgan_status dcgan_fid_stats_load_npz(dcgan_fid_stats *st, const char *path);

// --- 14g. What an FID means: feature files, intervals, a floor, precision and
// recall, nearest neighbours
//
// One FID number cannot say whether two runs differ, how far a generator is
// from "indistinguishable", or whether it copied its training images. These
// work on feature vectors (n, dims) in double, computed once per image set.

// Feature files: one .npy array (n, dims) of '<f8', C order, as numpy.save
// writes it (n and dims up to 65536); load also reads '<f4'. save writes
// path.tmp, then renames. load refuses NaN/Inf, naming the row, and arrays of
// 3 or more dimensions (an (n, dims, 1) array too); on any failure it sets
// *f = NULL, *n = 0 and *dims = 0 (free an earlier array first).
DCGAN_API dcgan_status dcgan_features_save_npy(const char *path, const double *f, int64_t n, int dims);
DCGAN_API dcgan_status dcgan_features_load_npy(double **f, int64_t *n, int *dims, const char *path);

// FID straight from two feature sets, equal to dcgan_fid_stats_compute +
// dcgan_frechet_distance. When min(n1, n2) <= dims it never forms a dims x dims
// matrix: with centred rows X1 (n1, dims), X2 (n2, dims),
//   S1 S2 = X1^T X1 X2^T X2 / ((n1-1)(n2-1)) has the nonzero eigenvalues of
//   C C^T, C = X1 X2^T / sqrt((n1-1)(n2-1)), so tr sqrt(S1 S2) = sum of the
//   singular values of C (the eigenvalues of an n x n matrix, not dims x dims),
//   and tr S1 = ||X1||_F^2 / (n1 - 1).
DCGAN_API dcgan_status dcgan_fid_features(double *fid, const double *f1, int64_t n1, const double *f2,
                                          int64_t n2, int dims);

// Bootstrap (Efron 1979): B times, each set is resampled with replacement
// (index = dcgan_rng_u32(rng) % n, n draws for set 1, then n draws for set 2)
// and the statistic recomputed into values[0..B). fid: the FID as above, with
// the resample's multiplicities as weights (no copy of the data is made).
// kid: the unbiased MMD^2 of Binkowski et al. 2018 on the whole resampled sets,
// kernel (x.y/dims + 1)^3: within each set the mean of k over the pairs of
// draws that are different vectors (sum_ij c_i c_j K_ij - sum_i c_i^2 K_ii, over
// n^2 - sum_i c_i^2 pairs: a vector drawn twice is not paired with itself; with
// every c_i = 1 this is the whole-set KID), minus 2 * mean of k across the sets.
// (Pairing the copies, as the positions p != q of the resample do, let k(x, x),
// about 20 times a typical k(x, y) on Inception-like features, into the sum: on
// 300 vs 30 vectors the 95% interval was [0.42, 1.06] around a KID of 0.037.)
// NaN for a resample whose draws of one set are all one vector.
// Each needs n1^2 + n2^2 + n1 n2 doubles for the Gram matrices. progress (may
// be NULL) is called after each resample with (user, done, B). Out of memory
// midway (DCGAN_ERR_NOMEM), the resamples done so far are in values and *rng
// has moved past them.
typedef void (*dcgan_progress_fn)(void *user, int done, int total);
DCGAN_API dcgan_status dcgan_fid_bootstrap(double *values, int B, const double *f1, int64_t n1,
                                           const double *f2, int64_t n2, int dims, dcgan_rng *rng,
                                           dcgan_progress_fn progress, void *user);
DCGAN_API dcgan_status dcgan_kid_bootstrap(double *values, int B, const double *f1, int64_t n1,
                                           const double *f2, int64_t n2, int dims, dcgan_rng *rng,
                                           dcgan_progress_fn progress, void *user);
// The q-quantile (0 <= q <= 1) of values[0..n) by linear interpolation between
// order statistics (numpy.percentile's default, "linear"); sorts values. q
// outside [0, 1] is clamped; NaN when n < 1 or q is NaN.
DCGAN_API double dcgan_quantile(double *values, int n, double q);

// Real-vs-real floor: `repeats` times, a random permutation of the n vectors
// (Fisher-Yates, j = dcgan_rng_u32(rng) % (i + 1) for i = n-1 .. 1) gives two
// disjoint halves of m vectors each (the first m, the next m); values[r] is
// their FID. The FID two samples of the same distribution show at this size.
// DCGAN_ERR_SHAPE, saying how many are needed, when 2m > n or m < 2. progress
// and running out of memory midway as for the bootstrap.
DCGAN_API dcgan_status dcgan_fid_floor(double *values, int repeats, const double *f, int64_t n,
                                       int64_t m, int dims, dcgan_rng *rng, dcgan_progress_fn progress,
                                       void *user);

// Improved precision and recall (Kynkaanniemi et al. 2019) and density and
// coverage (Naeem et al. 2020), as the authors' `prdc` code computes them:
// r_i = distance from real i to its k-th nearest other real vector (the (k+1)-th
// smallest distance, itself included), likewise f_j among the fakes; then
//   precision = share of fakes j with d(real_i, fake_j) < r_i for some i
//   recall    = share of reals i with d(real_i, fake_j) < f_j for some j
//   density   = (1 / k) mean over fakes j of #{i : d(real_i, fake_j) < r_i}
//   coverage  = share of reals i whose nearest fake lies within r_i (<)
// Euclidean distances from the differences (not the |a|^2 + |b|^2 - 2ab
// expansion), so ties are exact. Needs k < n_real and k < n_fake.
typedef struct {
    double precision, recall, density, coverage;
} dcgan_prdc;
DCGAN_API dcgan_status dcgan_prdc_compute(dcgan_prdc *out, const double *real, int64_t n_real,
                                          const double *fake, int64_t n_fake, int dims, int k);

// For each query row, the nearest reference row (Euclidean, brute force; ties
// go to the lower index): index[i] and its distance dist[i].
DCGAN_API dcgan_status dcgan_nearest(int64_t *index, double *dist, const double *query, int64_t nq,
                                     const double *ref, int64_t nr, int dims);

// Mann-Whitney U test of a against b (Mann & Whitney 1947): U = sum of the
// ranks of a in the pooled sample (ties: average ranks) - na (na + 1) / 2, and
// its normal approximation z = (U - na nb / 2) / sigma, with the tie-corrected
// sigma^2 = na nb / 12 * ((N + 1) - sum (t^3 - t) / (N (N - 1))), N = na + nb,
// no continuity correction. z < 0: a tends to be smaller than b. Applied to
// nearest-neighbour distances to the training set (a: generated, b: held-out
// real) this is the data-copying statistic Z_U of Meehan, Chaudhuri & Dasgupta
// 2020 ("A Non-Parametric Test to Detect Data-Copying in Generative Models"),
// in its global form (one cell).
DCGAN_API dcgan_status dcgan_mann_whitney(double *u, double *z, const double *a, int64_t na,
                                          const double *b, int64_t nb);

// -----------------------------------------------------------------------------
// 16. GPU twins (dcgan_cuda.cu, compiled with -DDCGAN_CUDA)
//
// Each _cuda function does what its CPU namesake does, with the same
// arguments, checks and formulas, on pointers into GPU memory
// (dcgan_cuda_malloc). dcgan_cuda.cu holds the kernels, cuBLAS/cuSOLVER calls
// and device memory; the model's passes that call them are dcgan.h's. They
// return DCGAN_ERR_CUDA with the failing CUDA call named when the GPU, the
// driver or the memory lets them down; nothing aborts. Products go through
// cuBLAS (TF32 tensor cores off unless dcgan_cuda_set_tf32(1)), the Frechet
// distance's eigen-solves through cuSOLVER, in double.
// Status: written and compiled; see README.md for what has run on a GPU.
#ifdef DCGAN_CUDA
// Picks GPU `device`, creates the cuBLAS/cuSOLVER handles. Idempotent.
DCGAN_API dcgan_status dcgan_cuda_init(int device);
// "NVIDIA H100 80GB HBM3, 79.1 GiB, sm_90" after init; "" before.
DCGAN_API const char *dcgan_cuda_device_name(void);
DCGAN_API void dcgan_cuda_set_tf32(int on);
DCGAN_API dcgan_status dcgan_cuda_malloc(void **ptr, size_t bytes);
DCGAN_API void dcgan_cuda_free(void *ptr);
DCGAN_API dcgan_status dcgan_cuda_upload(void *dev_dst, const void *host_src, size_t bytes);
DCGAN_API dcgan_status dcgan_cuda_download(void *host_dst, const void *dev_src, size_t bytes);
// Waits for the GPU and reports any error a kernel left behind.
DCGAN_API dcgan_status dcgan_cuda_sync(void);

DCGAN_API dcgan_status dcgan_vec_zero_cuda(float *x, size_t n);
DCGAN_API dcgan_status dcgan_vec_copy_cuda(float *dst, const float *src, size_t n);
DCGAN_API dcgan_status dcgan_vec_add_cuda(float *dst, const float *src, size_t n);
DCGAN_API dcgan_status dcgan_vec_fill_cuda(float *x, size_t n, float value);
DCGAN_API dcgan_status dcgan_vec_ema_cuda(float *avg, const float *x, size_t n, float beta);
DCGAN_API dcgan_status dcgan_gather_rows_cuda(float *dst, const float *src, const int *index, int count,
                                              size_t row);
DCGAN_API dcgan_status dcgan_sgemm_cuda(int trans_a, int trans_b, int M, int N, int K,
                                        float alpha, const float *A, int lda, const float *B,
                                        int ldb, float beta, float *C, int ldc);
DCGAN_API dcgan_status dcgan_linear_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                 const dcgan_linear *lin);
DCGAN_API dcgan_status dcgan_linear_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                  float *dbias, dcgan_tensor dout,
                                                  dcgan_tensor inp, const dcgan_linear *lin);
DCGAN_API dcgan_status dcgan_conv2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                 const dcgan_conv2d *conv, float *work,
                                                 size_t work_floats);
DCGAN_API dcgan_status dcgan_conv2d_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                  float *dbias, dcgan_tensor dout,
                                                  dcgan_tensor inp, const dcgan_conv2d *conv,
                                                  float *work, size_t work_floats);
DCGAN_API dcgan_status dcgan_conv_transpose2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                           const dcgan_conv_transpose2d *conv,
                                                           float *work, size_t work_floats);
DCGAN_API dcgan_status dcgan_conv_transpose2d_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                            float *dbias, dcgan_tensor dout,
                                                            dcgan_tensor inp,
                                                            const dcgan_conv_transpose2d *conv,
                                                            float *work, size_t work_floats);
DCGAN_API dcgan_status dcgan_upsample_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                   dcgan_upsample_mode mode);
DCGAN_API dcgan_status dcgan_upsample_backward_cuda(dcgan_tensor dinp, dcgan_tensor dout,
                                                    dcgan_upsample_mode mode);
// bn's gamma, beta, running and save pointers are device pointers.
DCGAN_API dcgan_status dcgan_batchnorm2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                      dcgan_batchnorm2d *bn, int training);
DCGAN_API dcgan_status dcgan_batchnorm2d_backward_cuda(dcgan_tensor dinp, float *dgamma,
                                                       float *dbeta, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_batchnorm2d *bn);
DCGAN_API dcgan_status dcgan_leaky_relu_forward_cuda(float *out, const float *inp, size_t n,
                                                     float slope);
DCGAN_API dcgan_status dcgan_leaky_relu_backward_cuda(float *dinp, const float *dout,
                                                      const float *inp, size_t n, float slope);
DCGAN_API dcgan_status dcgan_relu_forward_cuda(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_relu_backward_cuda(float *dinp, const float *dout,
                                                const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_tanh_forward_cuda(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_tanh_backward_cuda(float *dinp, const float *dout,
                                                const float *out, size_t n);
DCGAN_API dcgan_status dcgan_sigmoid_forward_cuda(float *out, const float *inp, size_t n);
DCGAN_API dcgan_status dcgan_sigmoid_backward_cuda(float *dinp, const float *dout,
                                                   const float *out, size_t n);
// The noise is the one the CPU draws from the same rng state: element i uses
// the uniforms 2i and 2i+1 of the stream (dcgan_rng_advance); rng moves on by 2n.
DCGAN_API dcgan_status dcgan_gaussian_noise_forward_cuda(float *out, const float *inp, size_t n,
                                                         float stddev, int training, dcgan_rng *rng);
DCGAN_API dcgan_status dcgan_gaussian_noise_backward_cuda(float *dinp, const float *dout, size_t n);
// The mask is the one the CPU draws from the same rng state: element i uses
// the i-th uniform of the stream (dcgan_rng_advance); rng moves on by n.
DCGAN_API dcgan_status dcgan_dropout_forward_cuda(float *out, float *mask, const float *inp,
                                                  size_t n, float p, int training,
                                                  dcgan_rng *rng);
DCGAN_API dcgan_status dcgan_dropout_backward_cuda(float *dinp, const float *dout,
                                                   const float *mask, size_t n);
// DiffAugment (section 10): images on the GPU, draws on the host (they go up
// in the GPU's scratch, in runs of images); the formulas of the CPU's per-pixel loops.
DCGAN_API dcgan_status dcgan_diffaug_forward_cuda(float *out, const float *inp, const dcgan_aug_draw *draws,
                                                  int n, int c, int h, int w);
DCGAN_API dcgan_status dcgan_diffaug_backward_cuda(float *dinp, const float *dout,
                                                   const dcgan_aug_draw *draws, int n, int c, int h, int w);
// loss and accuracy come back to the host; logits, targets, dlogits on the GPU.
DCGAN_API dcgan_status dcgan_bce_with_logits_cuda(float *loss, float *accuracy, float *dlogits,
                                                  const float *logits, const float *targets,
                                                  size_t n);
DCGAN_API dcgan_status dcgan_adam_step_cuda(dcgan_adam *opt, float *params, const float *grads,
                                            float *m, float *v, size_t n);

// Models: to_cuda allocates the device twins and uploads the host state;
// from_cuda downloads parameters, statistics and moments into the host
// buffers (the device copy stays current). inp, dout, dinp are device pointers.
// forward, backward, backward_input, zero_grad and adam_step are defined in
// dcgan.h (section 9), one pass for both: it calls the layer twins above.
DCGAN_API dcgan_status dcgan_model_to_cuda(dcgan_model *m);
DCGAN_API dcgan_status dcgan_model_from_cuda(dcgan_model *m);
DCGAN_API void dcgan_model_free_cuda(dcgan_model *m);
DCGAN_API dcgan_status dcgan_model_forward_cuda(dcgan_model *m, dcgan_tensor inp, int training,
                                                dcgan_rng *rng);
DCGAN_API dcgan_status dcgan_model_backward_cuda(dcgan_model *m, const float *dout, float *dinp);
DCGAN_API dcgan_status dcgan_model_backward_input_cuda(dcgan_model *m, const float *dout,
                                                      float *dinp);
DCGAN_API dcgan_status dcgan_model_zero_grad_cuda(dcgan_model *m);
DCGAN_API dcgan_status dcgan_model_adam_step_cuda(dcgan_model *m, dcgan_adam *opt);

// GAN: after dcgan_gan_to_cuda, dcgan_gan_train_step / _generate / _save /
// _load / _free work on the GPU copy (they dispatch by gan->on_device); the
// dataset is uploaded on the first step and reused while the pointer and count
// stay the same: after refilling the same buffer in place, call
// dcgan_gan_upload_dataset_cuda (uploads now) or dcgan_gan_invalidate_dataset_cuda
// (the next step uploads). Noise is drawn on the host (the same stream as the
// CPU) and uploaded (batch x Z floats a step).
DCGAN_API dcgan_status dcgan_gan_to_cuda(dcgan_gan *gan);
DCGAN_API dcgan_status dcgan_gan_from_cuda(dcgan_gan *gan);
DCGAN_API void dcgan_gan_free_cuda(dcgan_gan *gan);
DCGAN_API dcgan_status dcgan_gan_upload_dataset_cuda(dcgan_gan *gan, const float *dataset,
                                                     int n_images);
DCGAN_API void dcgan_gan_invalidate_dataset_cuda(dcgan_gan *gan);
DCGAN_API dcgan_status dcgan_gan_train_step_cuda(dcgan_gan *gan, const float *dataset,
                                                 int n_images, dcgan_gan_stats *stats);
DCGAN_API dcgan_status dcgan_gan_generate_cuda(dcgan_gan *gan, float *out, const float *noise,
                                               int n);

// dcgan_frechet_distance with the matrix work on the GPU (cuSOLVER dsyevd,
// cuBLAS dgemm, all in double); statistics in host memory.
DCGAN_API dcgan_status dcgan_frechet_distance_cuda(double *fid, const dcgan_fid_stats *a,
                                                   const dcgan_fid_stats *b);
#endif // DCGAN_CUDA

#ifdef __cplusplus
}
#endif

#endif // DCGAN_H_INCLUDED

// =============================================================================
// Internals that the tests check against their reference loops
// =============================================================================
// Not API: two underscores, free to change. The implementation defines them
// static. Built with DCGAN_TEST_INTERNALS (tests/dcgan_impl.c and the test
// programs linked to it) they are ordinary functions, so that the test
// programs can share one compiled implementation per build flavour.
#if (defined(DCGAN_IMPLEMENTATION) || defined(DCGAN_TEST_INTERNALS)) && \
    !defined(DCGAN__INTERNALS_DECLARED)
#define DCGAN__INTERNALS_DECLARED
#ifdef DCGAN_TEST_INTERNALS
#define DCGAN__INTERNAL
#else
#define DCGAN__INTERNAL static
#endif
#ifdef __cplusplus
extern "C" {
#endif
// section 6: the direct convolution's tiles (output, weight gradient), and the kernels this CPU gets
// the taps (c, kh, kw), c < C, kh, kw < K <= 16, of a direct convolution's tile:
// tap (c, kh, kw) reads at c*chan + kh_off[kh] + kw_off[kw] (section 15c)
typedef struct {
    int C, K;
    size_t chan, kh_off[16], kw_off[16];
} dcgan__taps;
DCGAN__INTERNAL dcgan__taps dcgan__taps_make(int C, int K, int S, size_t plane, size_t ld);
typedef void (*dcgan__direct_fn)(const float *src, const dcgan__taps *tp, const float *w, float *acc);
typedef void (*dcgan__dw_fn)(const float *src, const size_t *off, size_t ld, const float *const *d, int rows,
                             int cols, float *g);
DCGAN__INTERNAL void dcgan__direct_tile_portable(const float *src, const dcgan__taps *tp, const float *w,
                                                 float *acc);
DCGAN__INTERNAL dcgan__direct_fn dcgan__pick_direct(void);
DCGAN__INTERNAL void dcgan__dw_tile_portable(const float *src, const size_t *off, size_t ld, const float *const *d,
                                             int rows, int cols, float *g);
DCGAN__INTERNAL dcgan__dw_fn dcgan__pick_dw(void);
DCGAN__INTERNAL int dcgan__use_direct(const dcgan_conv2d *conv);   // 1: the layer takes the direct path
// section 8: Adam's update of entries [lo, hi) (the loop), and that of this CPU
typedef struct {
    int keras;                                // 1: the Keras formula, 0: torch.optim.Adam's
    float b1, b2, one_minus_b1, one_minus_b2;
    float lr_t;                               // Keras: lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    float step_size, sqrt_bc2;                // PyTorch: lr / (1 - beta1^t), sqrt(1 - beta2^t)
    float eps;
} dcgan__adam_consts;
typedef void (*dcgan__adam_fn)(const dcgan__adam_consts *k, float *params, const float *grads, float *m,
                               float *v, size_t lo, size_t hi);
DCGAN__INTERNAL void dcgan__adam_range(const dcgan__adam_consts *k, float *params, const float *grads,
                                       float *m, float *v, size_t lo, size_t hi);
DCGAN__INTERNAL dcgan__adam_fn dcgan__pick_adam(void);
// section 6: BatchNorm's sums of one channel (DCGAN__BN_PARTS partial sums and
// the rest), the loops that add a run of values into them, and those of this CPU
#define DCGAN__BN_PARTS 16
typedef struct {
    double part[DCGAN__BN_PARTS], rest;
} dcgan__bn_sum;
typedef struct {
    void (*values)(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n);
    void (*squares)(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n, double mean);
    void (*grads)(dcgan__bn_sum *d, dcgan__bn_sum *e, const float *g, const float *x, size_t n, float mean,
                  float invstd);
} dcgan__bn_fns;
DCGAN__INTERNAL double dcgan__bn_total(const dcgan__bn_sum *s);
// section 2: a convolution's bias gradient, dbias[oc] += each image's sum of dout[n][oc][...]
// (summed along the image in order), the images in order: the one-image loop's bits
DCGAN__INTERNAL void dcgan__bias_grad(float *dbias, const float *dout, int N, int OC, size_t OHW);
DCGAN__INTERNAL void dcgan__bn_add_values(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n);
DCGAN__INTERNAL void dcgan__bn_add_squares(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n,
                                           double mean);
DCGAN__INTERNAL void dcgan__bn_add_grads(dcgan__bn_sum *d, dcgan__bn_sum *e, const float *g, const float *x,
                                         size_t n, float mean, float invstd);
DCGAN__INTERNAL dcgan__bn_fns dcgan__pick_bn(void);
// section 15e: BatchNorm's sums, 2 (the default) with AVX-512F or AVX2 as the CPU has,
// 1 with AVX2 at most, 0 the loops (tests compare them: the bits are the same)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__bn_simd;   // (defined in section 15e)
#endif
// section 5: the GEMM micro-kernels (C tile = beta C + alpha a b, then bias/ReLU)
typedef void (*dcgan__kernel_fn)(int kc, const float *a, const float *b, float alpha, float beta,
                                 float *c, int ldc, int mr, int nr, const float *bias, int relu);
DCGAN__INTERNAL dcgan__kernel_fn dcgan__kernel_get(const char *name);
// section 15b: two tiles side by side, b holding two packed panels (the first full) and
// the second nr1 columns wide at c1; NULL where this build or CPU has no such kernel
typedef void (*dcgan__kernel2_fn)(int kc, const float *a, const float *b, float alpha, float beta, float *c0,
                                  float *c1, int ldc, int mr, int nr1, const float *bias, int relu);
DCGAN__INTERNAL dcgan__kernel2_fn dcgan__wide_kernel_get(void);
// section 15b: whether a 512-bit FMA issues as fast as a 256-bit one here (measured once
// per process; 0 without AVX-512F); the measurement (ticks of ymm and zmm loops; 0: no
// AVX-512F kernel here), and the verdict on two such timings
DCGAN__INTERNAL int dcgan__zmm_full_width(void);
DCGAN__INTERNAL int dcgan__zmm_probe(unsigned long long ticks[2]);
// ... the timings kept from up to 3 probes (a probe between 1.25x and 1.75x is taken again;
// returns the number of probes, 0 where the first returned 0)
DCGAN__INTERNAL int dcgan__zmm_measure(int (*probe)(unsigned long long ticks[2]), unsigned long long ticks[2]);
DCGAN__INTERNAL int dcgan__zmm_verdict(unsigned long long ymm_ticks, unsigned long long zmm_ticks);
// ... 1 where the CPU's maker and family (CPUID) say 512-bit FMAs run as two halves, which the
// answer then is without the probe's verdict: from the four registers, and for this CPU
DCGAN__INTERNAL int dcgan__zmm_halves_known(unsigned vendor_ebx, unsigned vendor_edx, unsigned vendor_ecx,
                                            unsigned leaf1_eax);
DCGAN__INTERNAL int dcgan__zmm_halves_here(void);
// ... the answer kept (2 full, 1 not, 0 not yet measured: set 0 to measure again) and its ticks
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__zmm_answer;                  // (defined in section 15b)
extern unsigned long long dcgan__zmm_ticks[2];
#endif
// section 15b: products take the two-tile kernel 2 (the default) where a 512-bit FMA runs
// at full width (dcgan__zmm_full_width), 1 wherever the CPU has AVX-512F, 0 never (tests compare)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__wide_kernels;   // (defined in section 15b)
#endif
// section 15b: ... in products with at least this long a K (0: every product)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__wide_min_k;   // (defined in section 15b)
#endif
// section 15b: products of at most this many multiply-adds take the small-product loop
// (where the CPU has AVX2 and FMA; 0 sends every product through the blocked loops)
#ifdef DCGAN_TEST_INTERNALS
extern long dcgan__small_product_macs;   // (defined in section 15b)
#endif
// section 15b: panels of patches gathered, 2 (the default) with AVX-512 or AVX2 as the
// CPU has, 1 with AVX2 at most, 0 never: the loops (tests compare them)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__gather_patches;   // (defined in section 15b)
#endif
// section 15b: full panels of rows of A packed with AVX-512F where the CPU has it (1,
// the default) or by the loop (0; tests compare them)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__pack_simd;   // (defined in section 15b)
#endif
// section 6: products whose columns go through col2im run over runs of images with at
// most this many floats of columns, but at least 512 columns (0: the whole group of
// images at once; tests compare the two); dcgan__col_run: images per run
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__col_chunk;   // (defined in section 6)
DCGAN__INTERNAL int dcgan__col_run(size_t col_per_image, size_t pixels, int g);
#endif
// section 6: col2im at stride 2 keeps its phase rows in registers: 2 (the default)
// AVX-512 or AVX2 as the CPU has, 1 AVX2 at most, 0 the loops (tests compare them)
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__col2im_simd;   // (defined in section 6)
#endif
// section 15b: bfloat16 rounding, packed panels in bfloat16 pairs, their kernel (NULL: none here)
DCGAN__INTERNAL uint16_t dcgan__bf16_round(float x);
DCGAN__INTERNAL void dcgan__panel_to_bf16(float *panel, int rows, int kc);
DCGAN__INTERNAL void dcgan__panels_to_bf16(float *base, int count, int rows, int kc);
DCGAN__INTERNAL dcgan__kernel_fn dcgan__bf16_kernel(void);
DCGAN__INTERNAL dcgan__kernel2_fn dcgan__bf16_wide_kernel(void);   // (two panels at once; NULL: none)
// section 15b: bfloat16 products on AMX tiles where the CPU has them and Linux lent
// them: 1 (the default), 0 never (the VDPBF16PS kernels; tests compare both);
// dcgan__amx_granted: whether dcgan_set_matmul_precision got the tiles
#ifdef DCGAN_TEST_INTERNALS
extern int dcgan__amx_tiles;   // (defined in section 15b)
DCGAN__INTERNAL int dcgan__amx_granted(void);
#endif
// section 5: a product with bias and ReLU applied as each tile is finished
DCGAN__INTERNAL void dcgan__sgemm_fused(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                        const float *A, int lda, const float *B, int ldb, float beta,
                                        float *C, int ldc, const float *bias, int relu);
// sections 5 and 6: the im2col matrix of the g images at img, as its entries are found
// (dcgan__im2col stores it; dcgan__sgemm_patches multiplies by it without storing it)
typedef struct {
    const float *img;
    size_t istride, cstride;   // floats from one image to the next, one channel plane to the next
    int g, C, H, W;            // images, their channels and size
    int KH, KW, S, pt, pl;     // kernel, stride, padding at the top and left
    int OH, OW;                // the output size: the matrix is (C*KH*KW) x (g*OH*OW)
} dcgan__patches;
DCGAN__INTERNAL void dcgan__im2col(float *col, size_t ld, const dcgan__patches *P);
DCGAN__INTERNAL void dcgan__col2im(float *img, const float *col, size_t ld, int g, int C, int H, int W, int KH,
                                   int KW, int S, int pt, int pl, int OH, int OW, int fresh, const float *bias);
DCGAN__INTERNAL void dcgan__sgemm_patches(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                          const float *A, int lda, const dcgan__patches *B, float beta,
                                          float *C, int ldc, const float *bias, int relu);
DCGAN__INTERNAL int dcgan__sgemm_patches_nchw(int M, int K, const float *A, int lda, const dcgan__patches *B,
                                              float *C, const float *bias);
// section 15b: 1 where every offset a gathered panel of P forms fits in 32 bits
DCGAN__INTERNAL int dcgan__gather_fits(const dcgan__patches *P);
// section 6: the convolutions' backward passes with dinp set (set_dinp 1) rather than added to
DCGAN__INTERNAL dcgan_status dcgan__conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                                    dcgan_tensor dout, dcgan_tensor inp, const dcgan_conv2d *conv,
                                                    float *work, size_t work_floats, int set_dinp);
DCGAN__INTERNAL dcgan_status dcgan__conv_transpose2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                                              dcgan_tensor dout, dcgan_tensor inp,
                                                              const dcgan_conv_transpose2d *conv, float *work,
                                                              size_t work_floats, int set_dinp);
// section 14a: Inception's 3x3 pools; the per-tensor seed of deterministic weights
typedef enum { DCGAN__POOL_MAX_S2, DCGAN__POOL_MAX_S1, DCGAN__POOL_AVG_S1 } dcgan__pool_kind;
DCGAN__INTERNAL void dcgan__inc_pool_ref(float *y, const float *x, int P, int H, int W,
                                         dcgan__pool_kind kind, int *OH, int *OW);
DCGAN__INTERNAL void dcgan__inc_pool(float *y, const float *x, int P, int H, int W,
                                     dcgan__pool_kind kind, int *OH, int *OW);
DCGAN__INTERNAL uint64_t dcgan__fnv1a64_str(const char *s);
// section 14b: Gram and distance matrices, eigenvalues
DCGAN__INTERNAL void dcgan__pairs_ref(double *out, const double *a, int64_t na, const double *b,
                                      int64_t nb, int dims, int dist);
DCGAN__INTERNAL void dcgan__gram_fast(double *out, const double *a, int64_t na, const double *b,
                                      int64_t nb, int dims, int lower_only, int dist, int use_simd);
DCGAN__INTERNAL dcgan_status dcgan__symmetric_eigenvalues(double *A, int n, double *w, int use_simd);
// section 13: the first two fields of a dataset cache file
#define DCGAN__CACHE_MAGIC 0x43474344u   // "DCGC"
#define DCGAN__CACHE_VERSION 2u   // 2: + listed and listing (session 25)
// sections 14c-f: little-endian numbers and CRC-32
DCGAN__INTERNAL uint64_t dcgan__le(const unsigned char *p, int bytes);
DCGAN__INTERNAL void dcgan__put_le(unsigned char *p, uint64_t v, int bytes);
DCGAN__INTERNAL uint32_t dcgan__crc32(uint32_t crc, const unsigned char *p, size_t n);
#ifdef __cplusplus
}
#endif
#endif // DCGAN__INTERNALS_DECLARED

// =============================================================================
// Implementation
// =============================================================================

#ifdef DCGAN_IMPLEMENTATION
#ifndef DCGAN__IMPLEMENTED
#define DCGAN__IMPLEMENTED

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <limits.h>
#include <errno.h>
#ifndef DCGAN_NO_IMAGES
#include <dirent.h>
#include <sys/stat.h>
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#endif

#if defined(DCGAN_MALLOC) && defined(DCGAN_REALLOC) && defined(DCGAN_FREE)
#elif !defined(DCGAN_MALLOC) && !defined(DCGAN_REALLOC) && !defined(DCGAN_FREE)
#define DCGAN_MALLOC(sz) malloc(sz)
#define DCGAN_REALLOC(p, sz) realloc(p, sz)
#define DCGAN_FREE(p) free(p)
#else
#error "dcgan.h: define all of DCGAN_MALLOC, DCGAN_REALLOC and DCGAN_FREE, or none"
#endif

#ifndef DCGAN_ASSERT
#define DCGAN_ASSERT(x) ((void)0)
#endif

// OpenMP is optional: built with -fopenmp the loops marked DCGAN__OMP run on
// several threads; without it the pragmas vanish and everything runs on one.
#ifdef _OPENMP
#include <omp.h>
#define DCGAN__OMP(x) _Pragma(#x)
#else
#define DCGAN__OMP(x)
#endif
// Elementwise loops run on every thread once they are long enough to pay for
// it, and vectorised (omp simd: the entries are independent, so the compiler
// need not prove that the arrays do not overlap). Without simd, GCC -O2
// vectorises no loop whose arrays might overlap (it does not add the run-time
// check at -O2): dst[i] += src[i] ran one float at a time. Vector operations
// give the same bits: each entry's formula is unchanged.
// The if names "parallel": since OpenMP 5.0 an if without a directive name
// applies to every part of a combined construct, simd included, and loops of
// up to 65,536 values ran scalar (a LeakyReLU on 128x4x4 x 32 values took
// 4.5x as long as one on 65,537, and 9x with random signs in a classifier).
#define DCGAN__OMP_ELEMENTWISE(n) DCGAN__OMP(omp parallel for simd schedule(static) if (parallel: (n) > 65536))
// At the start of a function whose bits are promised equal to a vector
// version's (or the same everywhere): clang fuses a * b + c into one rounding
// where the CPU can, even in -std=c99; this switches that off for the function.
// (GCC fuses only in its GNU modes; see the top of the file.)
#ifdef __clang__
#define DCGAN__NO_FUSE _Pragma("STDC FP_CONTRACT OFF")
#else
#define DCGAN__NO_FUSE
#endif
// The same for GCC in its GNU modes (-std=gnu*, its default), which fuse wherever
// the target has FMA (-march=native; and inside a function for AVX-512F, which has
// it): an attribute before a definition. On BatchNorm's sums, whose every vector
// version must give the loops' bits in any build (tests/test_bn_gnu.c).
#if defined(__GNUC__) && !defined(__clang__)
#define DCGAN__NO_FUSE_FN __attribute__((optimize("fp-contract=off")))
#else
#define DCGAN__NO_FUSE_FN
#endif
// Threads only, for the loops that call libm (expf in sigmoid): no compiler here
// has vector versions of them without -ffast-math, and clang warns that it
// could not do what simd asks.
#define DCGAN__OMP_ELEMENTWISE_CALLS(n) DCGAN__OMP(omp parallel for schedule(static) if ((n) > 65536))

// Part `part` of the 16 that the loops below cut [0, n) into: [*lo, *hi).
static void dcgan__part16(size_t n, int part, size_t *lo, size_t *hi) {
    *lo = n / 16 * (size_t)part;
    *hi = part == 15 ? n : n / 16 * (size_t)(part + 1);
}

// Sets n floats to zero, in one chunk per thread when n is large (a single
// core cannot use all of the memory bandwidth). Above 64Ki floats: the
// gradients zeroed before each layer's backward in a classifier step (1/4 to
// 2 MiB) were otherwise 10% of one thread's time while the other waited.
static void dcgan__zero(float *x, size_t n) {
    DCGAN__OMP(omp parallel for schedule(static) if (n > ((size_t)1 << 16)))
    for (int part = 0; part < 16; part++) {
        size_t lo, hi;
        dcgan__part16(n, part, &lo, &hi);
        memset(x + lo, 0, (hi - lo) * sizeof(float));
    }
}

// Internal reference loops that only the tests call carry this, so that other
// files including the implementation compile without unused-function warnings.
#if defined(__GNUC__) || defined(__clang__)
#define DCGAN__REFERENCE __attribute__((unused))
#else
#define DCGAN__REFERENCE
#endif

// A hint to fetch the cache line holding p (never faults; nothing without GCC/clang).
#if defined(__GNUC__) || defined(__clang__)
#define DCGAN__PREFETCH(p) __builtin_prefetch(p)
#else
#define DCGAN__PREFETCH(p) ((void)(p))
#endif

#ifdef __cplusplus
extern "C" {
#endif

// Part III (section 15) is the speed: the blocked and vectorised versions of
// Part I's products and layers. Parts I and II call into it through these.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(DCGAN_NO_SIMD)
#define DCGAN__HAVE_AVX2_KERNEL 1   // DCGAN_NO_SIMD: only the portable loops
static int dcgan__have_avx2_fma(void);
static void dcgan__gram_tile_avx2(int kc, const double *a, const double *b, double *out, int64_t ldo, int mr,
                                  int nr, int add, int dist);
static double dcgan__tridiag_row_avx2(double *row, int i, const double *v, const double *wv, const double *u,
                                      double *pc, double vi, double wi, double ui);
#endif
#if defined(DCGAN__HAVE_AVX2_KERNEL) && !defined(DCGAN_NO_AVX512)
#define DCGAN__HAVE_AVX512_KERNEL 1
#endif
#if defined(DCGAN__HAVE_AVX512_KERNEL) && \
    ((defined(__clang__) && __clang_major__ >= 9) || (!defined(__clang__) && __GNUC__ >= 10))
#define DCGAN__HAVE_BF16_KERNEL 1   // the compiler knows AVX512_BF16
#endif
#if defined(DCGAN__HAVE_BF16_KERNEL) && defined(__linux__) && defined(__x86_64__) && \
    ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11))
#define DCGAN__HAVE_AMX_KERNEL 1   // the compiler knows AMX-TILE and AMX-BF16, and Linux lends the tiles
#endif
// DCGAN__CLONED before a function: the compiler builds it twice, for the
// baseline x86-64 (SSE2) and for AVX2, and the program loader picks the copy
// the CPU can run (GCC's target_clones, GCC 6 or later, on glibc x86-64 systems).
// For the loops that are left to the compiler's vectoriser (BatchNorm, the
// activations, col2im): a plain `cc -O2` build otherwise vectorises them 4
// floats wide, and the classifier step was 1.3x slower than built with
// -march=native (bench/RESULTS.md). GCC also clones the OpenMP bodies of such
// a function, where the loops are. Not with clang: clang 14 does not clone
// those bodies, names a cloned public function's symbol "name.ifunc" (another
// file calling it does not link), and refuses the clones beside DCGAN_STATIC's
// "unused". No "fma" in the target: the bits stay those of the baseline.
#if defined(DCGAN__HAVE_AVX2_KERNEL) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && \
    !defined(DCGAN_NO_CLONES) && !defined(__clang__) && __GNUC__ >= 6
#define DCGAN__CLONED __attribute__((target_clones("avx2", "default")))
#else
#define DCGAN__CLONED
#endif
static int dcgan__conv2d_forward_direct_path(dcgan_tensor out, dcgan_tensor inp, const dcgan_conv2d *conv,
                                             float *work, size_t work_floats, int add);
// one channel plane of col2im at stride 2 with the phase rows in registers (section 15b)
typedef void (*dcgan__col2im_plane_fn)(float *plane, const float *srcc, size_t ld, int H, int W, int KH, int KW,
                                       int pt, int pl, int OH, int OW, int fresh, float init);
static dcgan__col2im_plane_fn dcgan__pick_col2im_s2(int level, int W);
static int dcgan__conv2d_backward_direct_path(dcgan_tensor dinp, float *dweight, float *dbias,
                                              dcgan_tensor dout, dcgan_tensor inp, const dcgan_conv2d *conv,
                                              float *work, size_t work_floats);

// =============================================================================
// Part I: the GAN
// =============================================================================
// Everything a GAN needs, read top to bottom: status and errors, memory,
// random numbers, tensors, the plain GEMM, each layer's forward and backward,
// the loss, Adam, the model container, the GAN step, checkpoints, pictures and
// image folders. Each layer's plain loops come first (the _ref functions, or
// the loops the faster code is tested against), then the version the library
// runs. Most faster routes live in Part III (the blocked GEMM, the direct
// convolution, the SIMD kernels); a few stay here, each saying what it changes
// and tested against its plain form: BatchNorm's sums in a fixed order of 16
// partials, col2im's rows split by phase, tanh from its series (the plain form:
// (float)tanh((double)x)), DiffAugment's one-channel loop.

// -----------------------------------------------------------------------------
// 1. Status and errors

#if defined(__cplusplus) && __cplusplus >= 201103L
#define DCGAN__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define DCGAN__THREAD_LOCAL _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define DCGAN__THREAD_LOCAL __thread
#elif defined(_MSC_VER)
#define DCGAN__THREAD_LOCAL __declspec(thread)
#else
#define DCGAN__THREAD_LOCAL
#define DCGAN__NO_THREAD_LOCAL 1
#endif

static DCGAN__THREAD_LOCAL char dcgan__err_buf[512];

DCGAN_API const char *dcgan_status_name(dcgan_status s) {
    switch (s) {
    case DCGAN_OK: return "DCGAN_OK";
    case DCGAN_ERR_NOMEM: return "DCGAN_ERR_NOMEM";
    case DCGAN_ERR_SHAPE: return "DCGAN_ERR_SHAPE";
    case DCGAN_ERR_IO: return "DCGAN_ERR_IO";
    case DCGAN_ERR_FORMAT: return "DCGAN_ERR_FORMAT";
    case DCGAN_ERR_NONFINITE: return "DCGAN_ERR_NONFINITE";
    case DCGAN_ERR_CUDA: return "DCGAN_ERR_CUDA";
    case DCGAN_ERR_UNSUPPORTED: return "DCGAN_ERR_UNSUPPORTED";
    }
    return "DCGAN_UNKNOWN";
}

DCGAN_API const char *dcgan_last_error(void) { return dcgan__err_buf; }

// A function's name as messages show it: without its dcgan_ or dcgan__ prefix.
static const char *dcgan__short_name(const char *func) {
    if (strncmp(func, "dcgan__", 7) == 0) return func + 7;
    if (strncmp(func, "dcgan_", 6) == 0) return func + 6;
    return func;
}

// Records "<func without dcgan_ prefix>: <message>" and returns status.
static dcgan_status dcgan__fail(dcgan_status status, const char *func, const char *fmt, ...) {
    va_list ap;
    size_t len;
    snprintf(dcgan__err_buf, sizeof dcgan__err_buf, "%s: ", dcgan__short_name(func));
    len = strlen(dcgan__err_buf);
    va_start(ap, fmt);
    vsnprintf(dcgan__err_buf + len, sizeof dcgan__err_buf - len, fmt, ap);
    va_end(ap);
    return status;
}

#define DCGAN__FAIL(status, ...) dcgan__fail((status), __func__, __VA_ARGS__)

// A helper's refusal ("npy_parse: <message>") in the name of the public
// function the caller called ("features_load_npy: <message>"); status passes
// through (DCGAN_OK leaves the message alone).
static dcgan_status dcgan__as(dcgan_status status, const char *func) {
    char *colon = strstr(dcgan__err_buf, ": ");
    if (status == DCGAN_OK || !colon) return status;
    const char *name = dcgan__short_name(func);
    const size_t name_len = strlen(name);   // (a function's name: far shorter than the buffer)
    size_t rest_len = strlen(colon);        // ": <message>", moved to just after the name
    if (name_len + rest_len + 1 > sizeof dcgan__err_buf) rest_len = sizeof dcgan__err_buf - 1 - name_len;
    memmove(dcgan__err_buf + name_len, colon, rest_len);
    memcpy(dcgan__err_buf, name, name_len);
    dcgan__err_buf[name_len + rest_len] = '\0';
    return status;
}

// "<prefix>: <context>: <old message>" with prefix (a function name without
// dcgan_, or none when NULL): the old message is copied before anything is
// written, because formatting into the buffer that holds it garbles it.
static dcgan_status dcgan__wrap(dcgan_status status, const char *func, const char *fmt, va_list ap) {
    char old[sizeof dcgan__err_buf];
    size_t len = 0;
    memcpy(old, dcgan__err_buf, sizeof old);
    old[sizeof old - 1] = '\0';
    if (func) {
        snprintf(dcgan__err_buf, sizeof dcgan__err_buf, "%s: ", dcgan__short_name(func));
        len = strlen(dcgan__err_buf);
    }
    vsnprintf(dcgan__err_buf + len, sizeof dcgan__err_buf - len, fmt, ap);
    // then ": <old>", cut at the end of the buffer
    len = strlen(dcgan__err_buf);
    const char *tail = old;
    if (len + 2 < sizeof dcgan__err_buf) {
        dcgan__err_buf[len++] = ':';
        dcgan__err_buf[len++] = ' ';
    }
    while (*tail && len + 1 < sizeof dcgan__err_buf) dcgan__err_buf[len++] = *tail++;
    dcgan__err_buf[len] = '\0';
    return status;
}

static dcgan_status dcgan__fail_wrap(dcgan_status status, const char *func, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dcgan__wrap(status, func, fmt, ap);
    va_end(ap);
    return status;
}

// Like DCGAN__FAIL, keeping the earlier message after the new context.
#define DCGAN__WRAP(status, ...) dcgan__fail_wrap((status), __func__, __VA_ARGS__)

DCGAN_API dcgan_status dcgan_error_wrap(dcgan_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dcgan__wrap(status, NULL, fmt, ap);
    va_end(ap);
    return status;
}

DCGAN_API dcgan_status dcgan_error_set(dcgan_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dcgan__err_buf, sizeof dcgan__err_buf, fmt, ap);
    va_end(ap);
    return status;
}

// -----------------------------------------------------------------------------
// 2. Memory

// Allocates count * elem_size bytes, refusing sizes that overflow size_t.
static void *dcgan__alloc(size_t count, size_t elem_size) {
    if (elem_size != 0 && count > (size_t)-1 / elem_size) return NULL;
    if (count == 0 || elem_size == 0) return DCGAN_MALLOC(1);
    return DCGAN_MALLOC(count * elem_size);
}

// As dcgan__alloc, then zero-filled.
static void *dcgan__calloc(size_t count, size_t elem_size) {
    void *p = dcgan__alloc(count, elem_size);
    if (p) memset(p, 0, count * elem_size);
    return p;
}

// Counts that cannot wrap: a product or sum past SIZE_MAX is SIZE_MAX. A model
// plan adds a few such counts of floats and multiplies by sizeof(float), so it
// refuses any count above DCGAN__FLOATS_MAX (2^58 on 64-bit machines, far past
// any memory) before that sum could wrap.
#define DCGAN__FLOATS_MAX (SIZE_MAX / 64)
static size_t dcgan__mul_sat(size_t a, size_t b) {
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}
static size_t dcgan__add_sat(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

DCGAN_API void dcgan_free(void *p) {
    if (p) DCGAN_FREE(p);
}

// Files are never written in place. dcgan__tmp_open creates "<path>.tmp";
// dcgan__tmp_commit flushes it to the disk and renames it over path only when
// every write succeeded, so a kill, a crash or a full disk at any moment leaves
// the old file or the new one, never a mix (rename is atomic within a folder:
// POSIX rename(2)). fileno and fsync are POSIX; declared here so that strict
// -std=c99 builds see them.
#if defined(__unix__) || defined(__APPLE__)
extern int fileno(FILE *stream);
extern int fsync(int fd);
#define DCGAN__FSYNC(f) fsync(fileno(f))
#else
#define DCGAN__FSYNC(f) 0
#endif

static FILE *dcgan__tmp_open(const char *func, const char *path, char *tmp, size_t tmp_size,
                             dcgan_status *st) {
    FILE *f;
    if (snprintf(tmp, tmp_size, "%s.tmp", path) >= (int)tmp_size) {
        *st = dcgan__fail(DCGAN_ERR_IO, func, "path '%s' is too long", path);
        return NULL;
    }
    f = fopen(tmp, "wb");
    if (!f) *st = dcgan__fail(DCGAN_ERR_IO, func, "cannot create '%s' (folder missing or not "
                              "writable?); '%s' was left as it was", tmp, path);
    return f;
}

// Closes f; ok says whether every write so far succeeded. func names the
// caller in the error message.
static dcgan_status dcgan__tmp_commit(const char *func, FILE *f, int ok, const char *tmp,
                                      const char *path) {
    ok = ok && fflush(f) == 0 && DCGAN__FSYNC(f) == 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        remove(tmp);
        return dcgan__fail(DCGAN_ERR_IO, func, "writing '%s' failed (disk full or not writable?); "
                           "'%s' was left as it was", tmp, path);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return dcgan__fail(DCGAN_ERR_IO, func, "cannot rename '%s' to '%s'; '%s' was left as it was",
                           tmp, path, path);
    }
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 3. Random numbers

DCGAN_API uint32_t dcgan_rng_u32(dcgan_rng *rng) {
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

DCGAN_API void dcgan_rng_seed_stream(dcgan_rng *rng, uint64_t initstate, uint64_t initseq) {
    rng->state = 0;
    rng->inc = (initseq << 1) | 1u;
    (void)dcgan_rng_u32(rng);
    rng->state += initstate;
    (void)dcgan_rng_u32(rng);
    rng->has_spare = 0;
    rng->spare = 0.0;
}

DCGAN_API void dcgan_rng_seed(dcgan_rng *rng, uint64_t seed) {
    dcgan_rng_seed_stream(rng, seed, seed);
}

// Jump-ahead for an LCG (F. Brown, "Random number generation with arbitrary
// strides", Trans. Am. Nucl. Soc. 71, 1994): delta steps of x -> a x + c are
// x -> A x + C, and (A, C) for delta = sum of powers of two is built from the
// squares (a, c) -> (a^2, (a + 1) c), all mod 2^64.
DCGAN_API void dcgan_rng_advance(dcgan_rng *rng, uint64_t delta) {
    uint64_t mult = 6364136223846793005ULL, plus = rng->inc;
    uint64_t acc_mult = 1, acc_plus = 0;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= mult;
            acc_plus = acc_plus * mult + plus;
        }
        plus = (mult + 1) * plus;
        mult *= mult;
        delta >>= 1;
    }
    rng->state = acc_mult * rng->state + acc_plus;
}

DCGAN_API float dcgan_rng_uniform(dcgan_rng *rng) {
    return (float)(dcgan_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

// Box-Muller on the next two draws of rng: r cos(2 pi u2), and r sin(2 pi u2)
// into *other (other may be NULL), with r = sqrt(-2 ln u1).
static double dcgan__box_muller(dcgan_rng *rng, double *other) {
    const double two_pi = 6.283185307179586476925;
    const double u1 = ((double)(dcgan_rng_u32(rng) >> 8) + 1.0) / 16777216.0;  // (0, 1]: log is finite
    const double u2 = (double)(dcgan_rng_u32(rng) >> 8) / 16777216.0;
    const double r = sqrt(-2.0 * log(u1));
    if (other) *other = r * sin(two_pi * u2);
    return r * cos(two_pi * u2);
}

DCGAN_API float dcgan_rng_normal(dcgan_rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return (float)rng->spare;
    }
    const double z = dcgan__box_muller(rng, &rng->spare);
    rng->has_spare = 1;
    return (float)z;
}

DCGAN_API void dcgan_rng_fill_uniform(dcgan_rng *rng, float *out, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) out[i] = lo + (hi - lo) * dcgan_rng_uniform(rng);
}

DCGAN_API void dcgan_rng_fill_normal(dcgan_rng *rng, float *out, size_t n, float mean,
                                     float std) {
    for (size_t i = 0; i < n; i++) out[i] = mean + std * dcgan_rng_normal(rng);
}

// -----------------------------------------------------------------------------
// 4. Tensors

DCGAN_API dcgan_tensor dcgan_tensor_make(float *data, int n, int c, int h, int w) {
    dcgan_tensor t;
    t.data = data;
    t.n = n;
    t.c = c;
    t.h = h;
    t.w = w;
    return t;
}

// A tensor that is not there (no dinp in a forward shape check).
static const dcgan_tensor dcgan__no_tensor = {NULL, 0, 0, 0, 0};

DCGAN_API size_t dcgan_tensor_numel(dcgan_tensor t) {
    if (t.n <= 0 || t.c <= 0 || t.h <= 0 || t.w <= 0) return 0;
    return (size_t)t.n * (size_t)t.c * (size_t)t.h * (size_t)t.w;
}

DCGAN_API dcgan_status dcgan_vec_zero(float *x, size_t n) {
    dcgan__zero(x, n);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_vec_copy(float *dst, const float *src, size_t n) {
    if (dst == src || n == 0) return DCGAN_OK;
    // in one chunk per thread above 64Ki floats, as dcgan__zero
    DCGAN__OMP(omp parallel for schedule(static) if (n > ((size_t)1 << 16)))
    for (int part = 0; part < 16; part++) {
        size_t lo, hi;
        dcgan__part16(n, part, &lo, &hi);
        memcpy(dst + lo, src + lo, (hi - lo) * sizeof(float));
    }
    return DCGAN_OK;
}

DCGAN__CLONED
DCGAN_API dcgan_status dcgan_vec_add(float *dst, const float *src, size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_vec_fill(float *x, size_t n, float value) {
    for (size_t i = 0; i < n; i++) x[i] = value;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_vec_ema(float *avg, const float *x, size_t n, float beta) {
    for (size_t i = 0; i < n; i++) avg[i] = x[i] + (avg[i] - x[i]) * beta;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_gather_rows(float *dst, const float *src, const int *index, int count, size_t row) {
    for (int i = 0; i < count; i++) memcpy(dst + (size_t)i * row, src + (size_t)index[i] * row, row * sizeof(float));
    return DCGAN_OK;
}

// 1 if t has exactly shape (n, c, h, w).
static int dcgan__shape_is(dcgan_tensor t, int n, int c, int h, int w) {
    return t.n == n && t.c == c && t.h == h && t.w == w;
}

// -----------------------------------------------------------------------------
// 5. Matrix multiply (GEMM)

#ifdef _OPENMP
// The leading number of the variable name, at most DCGAN_MAX_THREADS (a larger one, even
// one past what a long holds, is that bound; atoi wrapped 4294967297 to 1); 0 when the
// variable is unset or does not start with a positive number.
static int dcgan__threads_from_env(const char *name) {
    const char *text = getenv(name);
    if (!text) return 0;
    char *end;
    errno = 0;
    const long v = strtol(text, &end, 10);
    if (end == text || (v <= 0 && errno != ERANGE)) return 0;
    if (errno == ERANGE) return v > 0 ? DCGAN_MAX_THREADS : 0;
    return v > DCGAN_MAX_THREADS ? DCGAN_MAX_THREADS : (int)v;
}
#endif

DCGAN_API int dcgan_set_threads(int n) {
#ifdef _OPENMP
    if (n <= 0) {   // (a value that is not a positive number is passed over)
        n = dcgan__threads_from_env("DCGAN_THREADS");
        if (n <= 0) n = dcgan__threads_from_env("OMP_NUM_THREADS");   // ("4,2", nested levels: 4)
        if (n <= 0) n = omp_get_num_procs();
    }
    if (n > DCGAN_MAX_THREADS) n = DCGAN_MAX_THREADS;
    omp_set_num_threads(n);
    return n;
#else
    (void)n;
    return 1;
#endif
}

// The reference: C = alpha * op(A) * op(B) + beta * C, straight from the
// definition (BLAS sgemm), each entry of C summed in double. beta = 0 does not
// read C, so NaN there does not leak (as BLAS). op(X) = X, or X^T with trans.
DCGAN_API void dcgan_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, float alpha,
                               const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                float a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += (double)a * (double)b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc) + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

// The products the layers use - dcgan_sgemm and the internal
// dcgan__sgemm_patches (B is the im2col matrix of images, section 6, read
// while packing), and Inception's dcgan__sgemm_fused (Part II: bias and ReLU
// applied to each finished tile) - compute these same products with the
// blocked, vectorised kernels of Part III (section 15), which the tests check
// against this loop.

// -----------------------------------------------------------------------------
// 6. Layers

// Linear: (N, IN) -> (N, OUT), out[n][o] = sum_i inp[n][i] * weight[o][i] + bias[o]
// (torch.nn.Linear); backward: dinp += dout * weight, dweight += dout^T * inp,
// dbias += the sum of dout over n.

DCGAN_API dcgan_status dcgan_linear_check(const char *func, dcgan_tensor out, dcgan_tensor inp,
                                          dcgan_tensor dinp, int backward,
                                          const dcgan_linear *lin) {
    size_t in_size = dcgan_tensor_numel(inp) / (size_t)(inp.n > 0 ? inp.n : 1);
    size_t out_size = dcgan_tensor_numel(out) / (size_t)(out.n > 0 ? out.n : 1);
    if (backward) {
        if (inp.n <= 0 || in_size != (size_t)lin->in_features || out.n != inp.n ||
            out_size != (size_t)lin->out_features)
            return dcgan__fail(DCGAN_ERR_SHAPE, func,
                               "inp (%d, %zu) and dout (%d, %zu) do not fit linear %d -> %d",
                               inp.n, in_size, out.n, out_size, lin->in_features,
                               lin->out_features);
        if (dinp.data && dcgan_tensor_numel(dinp) != dcgan_tensor_numel(inp))
            return dcgan__fail(DCGAN_ERR_SHAPE, func, "dinp has %zu values, inp has %zu",
                               dcgan_tensor_numel(dinp), dcgan_tensor_numel(inp));
        return DCGAN_OK;
    }
    if (inp.n <= 0 || in_size != (size_t)lin->in_features)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp has %zu features per sample, layer expects %d",
                           in_size, lin->in_features);
    if (out.n != inp.n || out_size != (size_t)lin->out_features)
        return dcgan__fail(DCGAN_ERR_SHAPE, func,
                           "out is (%d, %zu), expected (%d, %d) for linear %d -> %d",
                           out.n, out_size, inp.n, lin->out_features, lin->in_features,
                           lin->out_features);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_linear_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_linear *lin) {
    // inp: (N, IN)   weight: (OUT, IN)   out: (N, OUT)
    dcgan_status st = dcgan_linear_check(__func__, out, inp, dcgan__no_tensor, 0, lin);
    if (st != DCGAN_OK) return st;
    // out = inp * weight^T
    dcgan_sgemm(0, 1, inp.n, lin->out_features, lin->in_features, 1.0f, inp.data,
                lin->in_features, lin->weight, lin->in_features, 0.0f, out.data,
                lin->out_features);
    if (lin->bias) {
        for (int n = 0; n < inp.n; n++) {
            float *o = &out.data[(size_t)n * lin->out_features];
            for (int j = 0; j < lin->out_features; j++) o[j] += lin->bias[j];
        }
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_linear_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_linear *lin) {
    // dout: (N, OUT)   inp, dinp: (N, IN)   dweight: (OUT, IN)   dbias: (OUT)
    dcgan_status st = dcgan_linear_check(__func__, dout, inp, dinp, 1, lin);
    if (st != DCGAN_OK) return st;
    const int N = inp.n;
    // dinp += dout * weight
    if (dinp.data)
        dcgan_sgemm(0, 0, N, lin->in_features, lin->out_features, 1.0f, dout.data,
                    lin->out_features, lin->weight, lin->in_features, 1.0f, dinp.data,
                    lin->in_features);
    // dweight += dout^T * inp
    if (dweight)
        dcgan_sgemm(1, 0, lin->out_features, lin->in_features, N, 1.0f, dout.data,
                    lin->out_features, inp.data, lin->in_features, 1.0f, dweight,
                    lin->in_features);
    if (dbias) {
        for (int n = 0; n < N; n++) {
            const float *d = &dout.data[(size_t)n * lin->out_features];
            for (int j = 0; j < lin->out_features; j++) dbias[j] += d[j];
        }
    }
    return DCGAN_OK;
}

// Conv2d: (N,C,H,W) -> (N,OC,OH,OW)                 (torch.nn.Conv2d + F.pad)
// out[n][oc][oh][ow] = bias[oc] + sum_{c,kh,kw} weight[oc][c][kh][kw] *
//                      inp[n][c][oh*S - pad_top + kh][ow*S - pad_left + kw]

// The sizes in 64 bits (in + pads, or (in - 1) * S, can pass INT_MAX); the
// model's plan refuses a side above INT_MAX by these.
static long long dcgan__conv_out_ll(int in, int kernel, int stride, int pad_before, int pad_after) {
    const long long span = (long long)in + pad_before + pad_after - kernel;
    if (stride <= 0 || span < 0) return 0;
    return span / stride + 1;
}
static long long dcgan__conv_transpose_out_ll(int in, int kernel, int stride, int pad_before, int pad_after) {
    const long long out = ((long long)in - 1) * stride - pad_before - pad_after + kernel;
    return out > 0 ? out : 0;
}

DCGAN_API int dcgan_conv_out_size(int in, int kernel, int stride, int pad_before,
                                  int pad_after) {
    const long long out = dcgan__conv_out_ll(in, kernel, stride, pad_before, pad_after);
    return out <= INT_MAX ? (int)out : 0;
}

DCGAN_API void dcgan_same_padding(int in, int kernel, int stride, int *pad_before,
                                  int *pad_after) {
    long long total = 0;   // (no stride, no padding: the shape check refuses S <= 0)
    if (stride > 0 && in >= 0) {
        const long long out = ((long long)in + stride - 1) / stride;
        total = (out - 1) * stride + kernel - in;
    }
    if (total < 0) total = 0;
    if (total > INT_MAX) total = INT_MAX;
    *pad_before = (int)(total / 2);
    *pad_after = (int)(total - total / 2);
}

// The geometry of a convolution (transposed = 0) or a transposed one (1)
// against inp: the output size into OH, OW.
static dcgan_status dcgan__conv_check(const char *func, dcgan_tensor inp, const dcgan_conv2d *conv,
                                      int transposed, int *OH, int *OW) {
    const int kernel = conv->kernel, stride = conv->stride;
    const int pt = conv->pad_top, pl = conv->pad_left, pb = conv->pad_bottom, pr = conv->pad_right;
    if (kernel <= 0 || stride <= 0 || pt < 0 || pl < 0 || pb < 0 || pr < 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "bad geometry: K=%d S=%d pads %d,%d,%d,%d",
                           kernel, stride, pt, pl, pb, pr);
    if (inp.n <= 0 || inp.c != conv->in_channels)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp has N=%d C=%d, weight expects C=%d",
                           inp.n, inp.c, conv->in_channels);
    if (inp.h <= 0 || inp.w <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp is %dx%d, an image needs H, W > 0", inp.h, inp.w);
    if (transposed) {
        *OH = dcgan_conv_transpose_out_size(inp.h, kernel, stride, pt, pb);
        *OW = dcgan_conv_transpose_out_size(inp.w, kernel, stride, pl, pr);
    } else {
        *OH = dcgan_conv_out_size(inp.h, kernel, stride, pt, pb);
        *OW = dcgan_conv_out_size(inp.w, kernel, stride, pl, pr);
    }
    if (*OH <= 0 || *OW <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp %dx%d gives an empty output (K=%d, pads %d,%d,%d,%d)",
                           inp.h, inp.w, kernel, pt, pl, pb, pr);
    return DCGAN_OK;
}

// A forward output must be (N, OC, OH, OW).
static dcgan_status dcgan__out_check(const char *func, dcgan_tensor out, int N, int OC, int OH,
                                     int OW) {
    if (dcgan__shape_is(out, N, OC, OH, OW)) return DCGAN_OK;
    return dcgan__fail(DCGAN_ERR_SHAPE, func, "out is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                       out.n, out.c, out.h, out.w, N, OC, OH, OW);
}

// Backward: dout must be (N, OC, OH, OW) and dinp (if wanted) the shape of inp.
static dcgan_status dcgan__grad_check(const char *func, dcgan_tensor dinp, dcgan_tensor dout,
                                      dcgan_tensor inp, int OC, int OH, int OW) {
    if (!dcgan__shape_is(dout, inp.n, OC, OH, OW))
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "dout is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           dout.n, dout.c, dout.h, dout.w, inp.n, OC, OH, OW);
    if (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w))
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "dinp is (%d,%d,%d,%d), inp is (%d,%d,%d,%d)",
                           dinp.n, dinp.c, dinp.h, dinp.w, inp.n, inp.c, inp.h, inp.w);
    return DCGAN_OK;
}

// The shared shape check of both convolutions (the public _check functions).
static dcgan_status dcgan__conv_shapes(const char *func, dcgan_tensor out, dcgan_tensor inp, dcgan_tensor dinp,
                                       int backward, const dcgan_conv2d *conv, int transposed) {
    int OH = 0, OW = 0;
    dcgan_status st = dcgan__conv_check(func, inp, conv, transposed, &OH, &OW);
    if (st != DCGAN_OK) return st;
    return backward ? dcgan__grad_check(func, dinp, out, inp, conv->out_channels, OH, OW)
                    : dcgan__out_check(func, out, inp.n, conv->out_channels, OH, OW);
}

DCGAN_API dcgan_status dcgan_conv2d_check(const char *func, dcgan_tensor out, dcgan_tensor inp,
                                          dcgan_tensor dinp, int backward,
                                          const dcgan_conv2d *conv) {
    return dcgan__conv_shapes(func, out, inp, dinp, backward, conv, 0);
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_check(const char *func, dcgan_tensor out,
                                                    dcgan_tensor inp, dcgan_tensor dinp,
                                                    int backward,
                                                    const dcgan_conv_transpose2d *conv) {
    return dcgan__conv_shapes(func, out, inp, dinp, backward, conv, 1);
}


// Reference loops: the definition, straight from the formula; the fast path
// below is tested against them (tests/test_layers.c).

DCGAN_API dcgan_status dcgan_conv2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                const dcgan_conv2d *conv) {
    dcgan_status st = dcgan_conv2d_check(__func__, out, inp, dcgan__no_tensor, 0, conv);
    if (st != DCGAN_OK) return st;
    const int OH = out.h, OW = out.w;
    const int C = inp.c, H = inp.h, W = inp.w, K = conv->kernel, S = conv->stride;
    for (int n = 0; n < inp.n; n++)
        for (int oc = 0; oc < conv->out_channels; oc++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double acc = conv->bias ? conv->bias[oc] : 0.0;
                    for (int c = 0; c < C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int ih = oh * S - conv->pad_top + kh;
                                int iw = ow * S - conv->pad_left + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)conv->weight[((size_t)(oc * C + c) * K + kh) * K + kw] *
                                       inp.data[(((size_t)n * C + c) * H + ih) * W + iw];
                            }
                    out.data[(((size_t)n * conv->out_channels + oc) * OH + oh) * OW + ow] =
                        (float)acc;
                }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv2d_backward_ref(dcgan_tensor dinp, float *dweight,
                                                 float *dbias, dcgan_tensor dout,
                                                 dcgan_tensor inp, const dcgan_conv2d *conv) {
    dcgan_status st = dcgan_conv2d_check(__func__, dout, inp, dinp, 1, conv);
    if (st != DCGAN_OK) return st;
    const int OH = dout.h, OW = dout.w;
    const int C = inp.c, H = inp.h, W = inp.w, K = conv->kernel, S = conv->stride;
    for (int n = 0; n < inp.n; n++)
        for (int oc = 0; oc < conv->out_channels; oc++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    float d = dout.data[(((size_t)n * conv->out_channels + oc) * OH + oh) * OW + ow];
                    if (dbias) dbias[oc] += d;
                    for (int c = 0; c < C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int ih = oh * S - conv->pad_top + kh;
                                int iw = ow * S - conv->pad_left + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                size_t wi = ((size_t)(oc * C + c) * K + kh) * K + kw;
                                size_t ii = (((size_t)n * C + c) * H + ih) * W + iw;
                                if (dweight) dweight[wi] += d * inp.data[ii];
                                if (dinp.data) dinp.data[ii] += d * conv->weight[wi];
                            }
                }
    return DCGAN_OK;
}

// --- conv2d as a product: the weights times the im2col matrix of a group of images

// The im2col matrix of the g images P describes: col[(c*KH + kh)*KW + kw]
// [i*OH*OW + oh*OW + ow] = image i's img[c][oh*S - pt + kh][ow*S - pl + kw],
// zero outside (Chellapilla et al. 2006). Image i starts at img + i * istride
// and its channel c at + c * cstride (NCHW: istride C*H*W, cstride H*W;
// Inception's (C, NB, H, W) layout: H*W and NB*H*W); kernels may be
// rectangular (Inception's 1x7 and 7x1). The layers never store it: they
// multiply by it with dcgan__sgemm_patches, whose packing reads the images
// (section 15a). Written out here, col's rows ld floats apart, it is what the
// tests compare those products with.
static dcgan__patches dcgan__patches_of(const float *img, int g, size_t istride, size_t cstride, int C,
                                        int H, int W, int KH, int KW, int S, int pt, int pl, int OH,
                                        int OW) {
    dcgan__patches P;
    P.img = img, P.istride = istride, P.cstride = cstride;
    P.g = g, P.C = C, P.H = H, P.W = W;
    P.KH = KH, P.KW = KW, P.S = S, P.pt = pt, P.pl = pl, P.OH = OH, P.OW = OW;
    return P;
}

DCGAN__REFERENCE DCGAN__INTERNAL void dcgan__im2col(float *col, size_t ld, const dcgan__patches *P) {
    const float *img = P->img;
    const size_t istride = P->istride, cstride = P->cstride;
    const int g = P->g, H = P->H, W = P->W, KH = P->KH, KW = P->KW, S = P->S, pt = P->pt, pl = P->pl;
    const int OH = P->OH, OW = P->OW;
    const int rows = P->C * KH * KW;
    const size_t OHW = (size_t)OH * OW;
    DCGAN__OMP(omp parallel for schedule(static) if ((double)g * rows * OHW > 1e5))
    for (int t = 0; t < g * rows; t++) {   // one row of one image per (i, c, kh, kw)
        const int i = t / rows, r = t % rows;
        const int c = r / (KH * KW), kh = r / KW % KH, kw = r % KW;
        float *dst = &col[(size_t)r * ld + (size_t)i * OHW];
        const float *image = img + (size_t)i * istride;
        // the outputs whose input column iw = ow*S - pl + kw lies inside [0, W):
        // ow in [lo, hi); the rest read the zero padding
        int lo = pl - kw > 0 ? (pl - kw + S - 1) / S : 0;
        int hi = W - 1 + pl - kw >= 0 ? (W - 1 + pl - kw) / S + 1 : 0;
        if (hi > OW) hi = OW;
        if (lo > hi) lo = hi;
        for (int oh = 0; oh < OH; oh++) {
            int ih = oh * S - pt + kh;
            float *row = &dst[(size_t)oh * OW];
            if (ih < 0 || ih >= H) {
                memset(row, 0, (size_t)OW * sizeof(float));
                continue;
            }
            const float *src = &image[(size_t)c * cstride + (size_t)ih * W];
            const int off = kw - pl;   // iw = ow * S + off, >= 0 from lo on
            for (int ow = 0; ow < lo; ow++) row[ow] = 0.0f;
            if (S == 1) {
                if (hi > lo) memcpy(row + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int ow = lo; ow < hi; ow++) row[ow] = src[ow * S + off];
            }
            for (int ow = hi; ow < OW; ow++) row[ow] = 0.0f;
        }
    }
}

// The widest row, and the widest kernel, the stride-S loop below takes
#define DCGAN__COL2IM_ROW 1024
#define DCGAN__COL2IM_TAPS 16

// Where the column entries of tap kw land in a row of W at stride S: entry ow
// goes to iw = ow*S + kw - pl, which is entry m = ow + q of phase row r (iw =
// m*S + r). Phase rows are Wq = ceil(W/S) long, with `margin` spare entries on
// either side where a tap's entries outside the image (padding) land, so that
// every tap adds all OW entries of its column row in one loop with no
// remainder to cut off; phase row r starts at r*pitch + margin, pitch = Wq +
// 2*margin, and tap kw's entry ow lands at base[kw] + ow. 0 if the phase rows
// would not fit in DCGAN__COL2IM_ROW floats or the kernel is too wide.
typedef struct {
    int pitch, margin, base[DCGAN__COL2IM_TAPS];
} dcgan__col2im_taps;

static int dcgan__col2im_taps_make(dcgan__col2im_taps *T, int W, int KW, int S, int pl, int OW) {
    if (S < 2 || KW > DCGAN__COL2IM_TAPS) return 0;
    const int Wq = (W + S - 1) / S;
    int r[DCGAN__COL2IM_TAPS], q[DCGAN__COL2IM_TAPS], margin = 0;
    for (int kw = 0; kw < KW; kw++) {
        const int off = kw - pl;
        r[kw] = ((off % S) + S) % S;
        q[kw] = (off - r[kw]) / S;   // exact
        // m runs over [q, q + OW - 1]; it must stay in [-margin, Wq - 1 + margin]
        if (-q[kw] > margin) margin = -q[kw];
        if (q[kw] + OW - Wq > margin) margin = q[kw] + OW - Wq;
    }
    T->margin = margin;
    T->pitch = Wq + 2 * margin;
    if ((double)S * T->pitch > DCGAN__COL2IM_ROW) return 0;
    for (int kw = 0; kw < KW; kw++) T->base[kw] = r[kw] * T->pitch + margin + q[kw];
    return 1;
}

// One channel plane (H x W) of col2im at stride S > 1. Tap (kh, kw) adds its
// column entries S apart in a row of the plane: a strided loop that stays
// scalar. Here each row is first split into its S phase rows (tmp, laid out as
// dcgan__col2im_taps says), where one tap's entries are contiguous, so that
// every tap is a vector addition; then the row is put back together. Each
// entry still receives the taps in their order (kh, then kw): the bits of the
// strided loop. srcc: the plane's column row of tap 0 (its image's columns
// included), the rows of the other taps ld apart.
DCGAN__CLONED
static void dcgan__col2im_plane_strided(float *plane, float *tmp, const float *srcc, size_t ld, int H, int W,
                                        int KH, int KW, int S, int pt, int OH, int OW,
                                        const dcgan__col2im_taps *T, int fresh, float init) {
    const int P = T->pitch, M = T->margin;
    for (int ih = 0; ih < H; ih++) {
        float *dst = plane + (size_t)ih * W;
        if (fresh) {
            for (int m = 0; m < S * P; m++) tmp[m] = init;
        } else if (S == 2) {   // the common stride: constant steps, which the compiler vectorises
            float *t0 = tmp + M, *t1 = tmp + P + M;
            DCGAN__OMP(omp simd)
            for (int m = 0; m < W / 2; m++) {
                t0[m] = dst[2 * m];
                t1[m] = dst[2 * m + 1];
            }
            if (W % 2) t0[W / 2] = dst[W - 1];
        } else {
            for (int r = 0; r < S; r++)
                for (int m = 0; m * S + r < W; m++) tmp[r * P + M + m] = dst[m * S + r];
        }
        // the taps kh with ih = oh*S - pt + kh for some 0 <= oh < OH, in order
        for (int kh = (ih + pt) % S; kh < KH && kh <= ih + pt; kh += S) {
            const int oh = (ih + pt - kh) / S;
            if (oh >= OH) continue;
            for (int kw = 0; kw < KW; kw++) {
                const float *row = srcc + (size_t)(kh * KW + kw) * ld + (size_t)oh * OW;
                float *t = tmp + T->base[kw];
                DCGAN__OMP(omp simd)
                for (int ow = 0; ow < OW; ow++) t[ow] += row[ow];
            }
        }
        if (S == 2) {
            const float *t0 = tmp + M, *t1 = tmp + P + M;
            DCGAN__OMP(omp simd)
            for (int m = 0; m < W / 2; m++) {
                dst[2 * m] = t0[m];
                dst[2 * m + 1] = t1[m];
            }
            if (W % 2) dst[W - 1] = t0[W / 2];
        } else {
            for (int r = 0; r < S; r++)
                for (int m = 0; m * S + r < W; m++) dst[m * S + r] = tmp[r * P + M + m];
        }
    }
}

// At stride 2 on a CPU with AVX2 or AVX-512F, dcgan__col2im_plane_s2_avx2 and
// _avx512 (section 15b) do the same with the phase rows in registers.
// dcgan__col2im_simd: 2 (the default) the widest registers the CPU has, 1 AVX2
// at most, 0 the loops above (tests compare the three).
DCGAN__INTERNAL int dcgan__col2im_simd = 2;

// col2im: the adjoint of im2col for g images (NCHW, image i at img + i*C*H*W,
// its columns at col + i*OH*OW); ADDS every column entry back into img. With
// fresh = 1 each channel plane is first set to bias[c] (0 if bias is NULL): a
// new output (conv_transpose2d's forward); with 0 the sums go on top of img.
// Every entry of img receives its column entries in the order of the taps
// (kh, then kw), on top of its first value, whichever of its loops runs.
DCGAN__CLONED
DCGAN__INTERNAL void dcgan__col2im(float *img, const float *col, size_t ld, int g, int C, int H, int W,
                                   int KH, int KW, int S, int pt, int pl, int OH, int OW, int fresh,
                                   const float *bias) {
    const size_t OHW = (size_t)OH * OW;
    dcgan__col2im_taps taps = {0, 0, {0}};   // (zeroed: GCC 12 without OpenMP could not see it set)
    const int strided = dcgan__col2im_taps_make(&taps, W, KW, S, pl, OW);
    const dcgan__col2im_plane_fn in_registers =
        S == 2 && KW <= DCGAN__COL2IM_TAPS ? dcgan__pick_col2im_s2(dcgan__col2im_simd, W) : NULL;
    // each thread owns whole (image, channel) planes of img, so the += never collide
    DCGAN__OMP(omp parallel for schedule(static) if ((double)g * C * KH * KW * OHW > 1e5))
    for (int t = 0; t < g * C; t++) {
        const int i = t / C, c = t % C;
        float *plane = img + ((size_t)i * C + c) * H * W;
        if (in_registers) {
            in_registers(plane, &col[(size_t)c * KH * KW * ld + (size_t)i * OHW], ld, H, W, KH, KW, pt, pl, OH,
                         OW, fresh, bias ? bias[c] : 0.0f);
            continue;
        }
        if (strided) {
            float tmp[DCGAN__COL2IM_ROW];
            dcgan__col2im_plane_strided(plane, tmp, &col[(size_t)c * KH * KW * ld + (size_t)i * OHW], ld, H, W,
                                        KH, KW, S, pt, OH, OW, &taps, fresh, bias ? bias[c] : 0.0f);
            continue;
        }
        if (fresh)
            for (size_t p = 0; p < (size_t)H * W; p++) plane[p] = bias ? bias[c] : 0.0f;
        for (int kh = 0; kh < KH; kh++) {
            for (int kw = 0; kw < KW; kw++) {
                const float *srcc = &col[((size_t)(c * KH + kh) * KW + kw) * ld + (size_t)i * OHW];
                // as in im2col: only ow in [lo, hi) lands inside the image
                int lo = pl - kw > 0 ? (pl - kw + S - 1) / S : 0;
                int hi = W - 1 + pl - kw >= 0 ? (W - 1 + pl - kw) / S + 1 : 0;
                if (hi > OW) hi = OW;
                const int off = kw - pl;   // iw = ow * S + off
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * S - pt + kh;
                    if (ih < 0 || ih >= H) continue;
                    const float *row = &srcc[(size_t)oh * OW];
                    float *dst = &plane[(size_t)ih * W];
                    // the same row two taps on (rows of col are ld apart): col is read
                    // back from memory in 16 short streams per plane, which the hardware
                    // prefetcher starts late (DCGAN iteration 1%, small-data 5% faster)
                    if ((c * KH + kh) * KW + kw + 2 < C * KH * KW)   // (no address past col's rows)
                        for (int q = 0; q < OW; q += 16) DCGAN__PREFETCH(row + 2 * ld + q);
                    if (S == 1) {
                        DCGAN__OMP(omp simd)
                        for (int ow = lo; ow < hi; ow++) dst[ow + off] += row[ow];
                    } else {   // phase rows wider than DCGAN__COL2IM_ROW, or a kernel wider than 16
                        for (int ow = lo; ow < hi; ow++) dst[ow * S + off] += row[ow];
                    }
                }
            }
        }
    }
}

// The batched layout: g images of `rows` x `cols` (NCHW, one after the other)
// as one matrix of `rows` x (g * cols), image i in columns [i*cols, (i+1)*cols).
// One GEMM over g images is much faster than g small ones.
static void dcgan__gather(float *dst, const float *src, int g, int rows, size_t cols) {
    DCGAN__OMP(omp parallel for schedule(static) if ((double)g * rows * cols > 65536))
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < g; i++)
            memcpy(dst + (size_t)r * g * cols + (size_t)i * cols,
                   src + ((size_t)i * rows + r) * cols, cols * sizeof(float));
}

// The inverse of dcgan__gather; add = 1 adds into dst instead of copying.
// bias (rows values, or NULL) is added to every value of row r on the way.
DCGAN__CLONED
static void dcgan__scatter(float *dst, const float *src, int g, int rows, size_t cols, int add,
                           const float *bias) {
    DCGAN__OMP(omp parallel for schedule(static) if ((double)g * rows * cols > 65536))
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < g; i++) {
            float *d = dst + ((size_t)i * rows + r) * cols;
            const float *q = src + (size_t)r * g * cols + (size_t)i * cols;
            const float b = bias ? bias[r] : 0.0f;
            if (add) {
                DCGAN__OMP(omp simd)
                for (size_t p = 0; p < cols; p++) d[p] += q[p] + b;
            } else if (bias) {
                DCGAN__OMP(omp simd)
                for (size_t p = 0; p < cols; p++) d[p] = q[p] + b;
            } else {
                memcpy(d, q, cols * sizeof(float));
            }
        }
}

// dbias[oc] += sum of dout[n][oc][...] over the batch and the image.
DCGAN__INTERNAL void dcgan__bias_grad(float *dbias, const float *dout, int N, int OC, size_t OHW) {
    // each thread owns whole channels; images are added in order, as in a serial loop.
    // Eight images are summed side by side in eight named sums (eight independent
    // chains of additions instead of one that waits for each sum: a core that adds
    // two floats per cycle, 3-4 cycles each, needs six to eight to stay busy; each
    // image's sum and the order of the += are those of the one-image loop: the same bits)
    DCGAN__OMP(omp parallel for schedule(static) if ((double)N * OC * OHW > 65536))
    for (int oc = 0; oc < OC; oc++) {
        const size_t step = (size_t)OC * OHW;   // from one image's channel oc to the next's
        int n = 0;
        for (; n + 8 <= N; n += 8) {
            const float *d = dout + ((size_t)n * OC + oc) * OHW;
            float sum0 = 0.0f, sum1 = 0.0f, sum2 = 0.0f, sum3 = 0.0f;
            float sum4 = 0.0f, sum5 = 0.0f, sum6 = 0.0f, sum7 = 0.0f;
            for (size_t p = 0; p < OHW; p++) {
                sum0 += d[p];
                sum1 += d[step + p];
                sum2 += d[2 * step + p];
                sum3 += d[3 * step + p];
                sum4 += d[4 * step + p];
                sum5 += d[5 * step + p];
                sum6 += d[6 * step + p];
                sum7 += d[7 * step + p];
            }
            dbias[oc] += sum0;
            dbias[oc] += sum1;
            dbias[oc] += sum2;
            dbias[oc] += sum3;
            dbias[oc] += sum4;
            dbias[oc] += sum5;
            dbias[oc] += sum6;
            dbias[oc] += sum7;
        }
        for (; n < N; n++) {
            const float *d = dout + ((size_t)n * OC + oc) * OHW;
            float sum = 0.0f;
            for (size_t p = 0; p < OHW; p++) sum += d[p];
            dbias[oc] += sum;
        }
    }
}

// Scratch that the conv functions allocate for themselves when given none.
#define DCGAN__WORK_CAP ((size_t)16 << 20)   // floats (64 MiB)

// How many images share one GEMM: as many as fit in work (at least 1, at most N).
static int dcgan__group(size_t per_image, int N, size_t work_floats) {
    size_t g = per_image ? work_floats / per_image : (size_t)N;
    if (g < 1) g = 1;
    if (g > (size_t)N) g = (size_t)N;
    return (int)g;
}

// A transposed convolution's forward and a convolution's input gradient are
// a product into columns, (OC*K*K) x (images*pixels), and col2im, which adds
// the columns back into images. Over a whole group of images the columns
// were up to 64 MiB, written by the product and read back by col2im from
// memory. Cut into runs of images whose columns hold at most dcgan__col_chunk
// floats (4 MiB), col2im reads what the product has just written, from the
// cache: each such layer of the study's models 3-15% faster (bench/RESULTS.md,
// session 23). A run keeps at least DCGAN__COL_MIN_N columns, as each run's
// product packs the weight again (cut to one image of 64 pixels, the seed
// generator's first 8x8 layer, whose weight is 32 MiB, took 1.2-1.5x as long).
// The cut changes no bit. An entry of the product does not depend on how many
// columns share the product: its K is cut into the same slabs of DCGAN__KC
// from k = 0 (the cut along K among threads, dcgan__sgemm_ksplit, needs beta
// 1 and these have beta 0), the 6 x 32 and 6 x 16 kernels make the same sums,
// and the small-product loop the blocked loops' (tests: gemm, col_runs).
DCGAN__INTERNAL int dcgan__col_chunk = 1 << 20;
#define DCGAN__COL_MIN_N 512

// Images per run, of g, for columns of col_per_image floats and pixels columns
// per image.
DCGAN__INTERNAL int dcgan__col_run(size_t col_per_image, size_t pixels, int g) {
    if (dcgan__col_chunk <= 0 || col_per_image == 0 || pixels == 0) return g;
    size_t run = (size_t)dcgan__col_chunk / col_per_image;
    const size_t least = (DCGAN__COL_MIN_N + pixels - 1) / pixels;   // (at least 1)
    if (run < least) run = least;
    return run < (size_t)g ? (int)run : g;
}

// A caller's work must hold one image's scratch (the doc's work_floats >=
// work_size); NULL work is always fine (the functions allocate).
static dcgan_status dcgan__work_check(const char *func, const float *work, size_t work_floats, size_t per_image,
                                      const char *size_func) {
    if (!work || work_floats >= per_image) return DCGAN_OK;
    return dcgan__fail(DCGAN_ERR_SHAPE, func, "work has %zu floats, this input needs at least %zu (%s)",
                       work_floats, per_image, size_func);
}

// Uses the caller's work if given, else allocates room for a group of images.
static float *dcgan__work(float *work, size_t *work_floats, size_t per_image, int N) {
    if (work) return work;
    *work_floats = per_image * (size_t)dcgan__group(per_image, N, DCGAN__WORK_CAP);
    return (float *)dcgan__alloc(*work_floats, sizeof(float));
}

DCGAN_API size_t dcgan_conv2d_work_size(const dcgan_conv2d *conv, int H, int W) {
    int OH = dcgan_conv_out_size(H, conv->kernel, conv->stride, conv->pad_top,
                                 conv->pad_bottom);
    int OW = dcgan_conv_out_size(W, conv->kernel, conv->stride, conv->pad_left,
                                 conv->pad_right);
    // the im2col matrix plus the (OC, OH*OW) product, per image
    return ((size_t)conv->in_channels * conv->kernel * conv->kernel + (size_t)conv->out_channels) *
           (size_t)OH * OW;
}

// A kernel that covers the whole image with no padding at the top or left
// (out is 1x1, so padding at the bottom or right is never reached: the DCGAN
// discriminator's last layer, 4x4 on 4x4) reads every pixel once, in the
// order of the image: im2col's column for image i is the image itself, col =
// X^T, where X (N x C*K*K) is the batch of images as rows. The convolution is
// then a Linear layer on the flattened images, and its products take X as a
// stored matrix, where the patch route packs such columns one float at a time
// (that one layer was 2% of a DCGAN iteration). out and dinp get the sums of
// the patch route in its order; dweight is summed over the whole batch in one
// product (the patch route added one group of images at a time where work
// held fewer than N), and the direct path, which took 1x1 outputs at stride 1,
// summed out in one chain rather than in slabs of 256.
static int dcgan__conv_is_linear(const dcgan_conv2d *conv, dcgan_tensor inp, int OH, int OW) {
    return OH == 1 && OW == 1 && conv->pad_top == 0 && conv->pad_left == 0 && conv->kernel == inp.h &&
           conv->kernel == inp.w;
}

DCGAN_API dcgan_status dcgan_conv2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_conv2d *conv, float *work,
                                            size_t work_floats) {
    // per group of g images: prod (OC, g*OH*OW) = weight (OC, C*K*K) * col, where
    // col (C*K*K, g*OH*OW) is their im2col matrix, read from inp while the product
    // packs it (implicit GEMM, section 15a); out[n] = prod columns of n + bias
    dcgan_status st = dcgan_conv2d_check(__func__, out, inp, dcgan__no_tensor, 0, conv);
    if (st == DCGAN_OK)
        st = dcgan__work_check(__func__, work, work_floats, dcgan_conv2d_work_size(conv, inp.h, inp.w),
                               "dcgan_conv2d_work_size");
    if (st != DCGAN_OK) return st;
    const int OH = out.h, OW = out.w;
    if (dcgan__conv_is_linear(conv, inp, OH, OW)) {   // out (N x OC) = X * weight^T, + bias
        const int CKK = conv->in_channels * conv->kernel * conv->kernel, OC = conv->out_channels;
        dcgan_sgemm(0, 1, inp.n, OC, CKK, 1.0f, inp.data, CKK, conv->weight, CKK, 0.0f, out.data, OC);
        if (conv->bias)
            for (size_t i = 0; i < (size_t)inp.n; i++)
                for (int oc = 0; oc < OC; oc++) out.data[i * OC + oc] += conv->bias[oc];
        return DCGAN_OK;
    }
    // few channels: the direct convolution of Part III (section 15)
    if (dcgan__conv2d_forward_direct_path(out, inp, conv, work, work_floats, 0)) return DCGAN_OK;
    const size_t per_image = dcgan_conv2d_work_size(conv, inp.h, inp.w);
    float *buf = dcgan__work(work, &work_floats, per_image, inp.n);
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the im2col buffer");
    const int CKK = conv->in_channels * conv->kernel * conv->kernel, OC = conv->out_channels;
    const size_t OHW = (size_t)OH * OW, in_size = (size_t)inp.c * inp.h * inp.w;
    const int group = dcgan__group(per_image, inp.n, work_floats);
    for (int n0 = 0; n0 < inp.n; n0 += group) {
        const int g = inp.n - n0 < group ? inp.n - n0 : group;
        const size_t ld = (size_t)g * OHW;
        float *prod = buf + (size_t)CKK * ld;
        const dcgan__patches col = dcgan__patches_of(inp.data + (size_t)n0 * in_size, g, in_size,
                                                     (size_t)inp.h * inp.w, inp.c, inp.h, inp.w, conv->kernel,
                                                     conv->kernel, conv->stride, conv->pad_top, conv->pad_left,
                                                     OH, OW);
        float *o = out.data + (size_t)n0 * OC * OHW;
        // the product written into the images in place where its panels allow (section 15b)
        if (dcgan__sgemm_patches_nchw(OC, CKK, conv->weight, CKK, &col, o, conv->bias)) continue;
        dcgan__sgemm_patches(0, 0, OC, (int)ld, CKK, 1.0f, conv->weight, CKK, &col, 0.0f, prod, (int)ld,
                             NULL, 0);
        dcgan__scatter(o, prod, g, OC, OHW, 0, conv->bias);
    }
    if (!work) DCGAN_FREE(buf);
    return DCGAN_OK;
}

// dcgan_conv2d_backward, and for a model (set_dinp 1) the same with dinp set
// rather than added to: its old values are never read, so the model need not
// zero it first (that pass and col2im's reads of the zeros were 3-4% of a
// classifier step). Paths that add (the direct convolution at stride 1, the
// Linear-shaped layer) zero dinp first; col2im sets each plane to 0 and adds
// its entries on top in the same order, so the bits are the adding pass's.
DCGAN__INTERNAL dcgan_status dcgan__conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                                    dcgan_tensor dout, dcgan_tensor inp, const dcgan_conv2d *conv,
                                                    float *work, size_t work_floats, int set_dinp) {
    // per group: dprod (OC, g*OH*OW) = gathered dout; dweight += dprod * col^T
    // (col read from inp while packing); dcol = weight^T * dprod, scattered back
    // into dinp by col2im
    dcgan_status st = dcgan_conv2d_check("dcgan_conv2d_backward", dout, inp, dinp, 1, conv);
    if (st == DCGAN_OK)
        st = dcgan__work_check("dcgan_conv2d_backward", work, work_floats, dcgan_conv2d_work_size(conv, inp.h, inp.w),
                               "dcgan_conv2d_work_size");
    if (st != DCGAN_OK) return st;
    const int OH = dout.h, OW = dout.w, linear = dcgan__conv_is_linear(conv, inp, OH, OW);
    const size_t per_image = dcgan_conv2d_work_size(conv, inp.h, inp.w);
    float *buf = NULL;
    if (set_dinp && dinp.data && (linear || (dcgan__use_direct(conv) && conv->stride == 1))) {
        dcgan__zero(dinp.data, dcgan_tensor_numel(dinp));   // these paths add
        set_dinp = 0;
    }
    // few channels: the direct convolution of Part III (section 15). At a stride
    // above 1 it leaves the input gradient to the products below, whose scratch
    // is taken first: a failure then returns with nothing added.
    if (!linear && dcgan__use_direct(conv)) {
        if (conv->stride != 1 && dinp.data && dweight) {
            buf = dcgan__work(work, &work_floats, per_image, inp.n);
            if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the im2col buffer");
        }
        const int direct = dcgan__conv2d_backward_direct_path(dinp, dweight, dbias, dout, inp, conv, work,
                                                              work ? work_floats : 0);
        if (direct == 1) return DCGAN_OK;
        if (direct == 2) dweight = NULL, dbias = NULL;
    }
    if (!buf) buf = dcgan__work(work, &work_floats, per_image, inp.n);
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the im2col buffer");
    const int CKK = conv->in_channels * conv->kernel * conv->kernel, OC = conv->out_channels;
    const size_t OHW = (size_t)OH * OW, in_size = (size_t)inp.c * inp.h * inp.w;
    const int group = dcgan__group(per_image, inp.n, work_floats);
    if (dbias) dcgan__bias_grad(dbias, dout.data, inp.n, OC, OHW);
    if (linear) {
        // dweight += dout^T * X; dcol^T = dout * weight (g x C*K*K per group, in
        // buf), added into dinp as col2im adds dcol (dout is the N x OC matrix)
        if (dweight)
            dcgan_sgemm(1, 0, OC, CKK, inp.n, 1.0f, dout.data, OC, inp.data, CKK, 1.0f, dweight, CKK);
        for (int n0 = 0; n0 < inp.n && dinp.data; n0 += group) {
            const int g = inp.n - n0 < group ? inp.n - n0 : group;
            dcgan_sgemm(0, 0, g, CKK, OC, 1.0f, dout.data + (size_t)n0 * OC, OC, conv->weight, CKK, 0.0f, buf, CKK);
            dcgan_vec_add(dinp.data + (size_t)n0 * CKK, buf, (size_t)g * CKK);
        }
        if (!work) DCGAN_FREE(buf);
        return DCGAN_OK;
    }
    for (int n0 = 0; n0 < inp.n && (dweight || dinp.data); n0 += group) {
        const int g = inp.n - n0 < group ? inp.n - n0 : group;
        const size_t ld = (size_t)g * OHW;
        float *col = buf, *dprod = buf + (size_t)CKK * ld;
        dcgan__gather(dprod, dout.data + (size_t)n0 * OC * OHW, g, OC, OHW);
        if (dweight) {
            const dcgan__patches patches = dcgan__patches_of(
                inp.data + (size_t)n0 * in_size, g, in_size, (size_t)inp.h * inp.w, inp.c, inp.h, inp.w,
                conv->kernel, conv->kernel, conv->stride, conv->pad_top, conv->pad_left, OH, OW);
            dcgan__sgemm_patches(0, 1, OC, CKK, (int)ld, 1.0f, dprod, (int)ld, &patches, 1.0f, dweight, CKK,
                                 NULL, 0);
        }
        if (!dinp.data) continue;
        // dinp in runs of the group's images (dcgan__col_run), each run's columns
        // in the first floats of col
        const int run = dcgan__col_run((size_t)CKK * OHW, OHW, g);
        for (int s0 = 0; s0 < g; s0 += run) {
            const int gs = g - s0 < run ? g - s0 : run;
            const size_t lds = (size_t)gs * OHW;
            dcgan_sgemm(1, 0, CKK, (int)lds, OC, 1.0f, conv->weight, CKK, dprod + (size_t)s0 * OHW,
                        (int)ld, 0.0f, col, (int)lds);
            dcgan__col2im(dinp.data + (size_t)(n0 + s0) * in_size, col, lds, gs, inp.c, inp.h, inp.w,
                          conv->kernel, conv->kernel, conv->stride, conv->pad_top, conv->pad_left, OH, OW,
                          set_dinp, NULL);
        }
    }
    if (!work) DCGAN_FREE(buf);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_conv2d *conv, float *work,
                                             size_t work_floats) {
    return dcgan__conv2d_backward(dinp, dweight, dbias, dout, inp, conv, work, work_floats, 0);
}

// ConvTranspose2d: (N,C,H,W) -> (N,OC,OH,OW)         (torch.nn.ConvTranspose2d)
// the adjoint of a convolution: each inp[n][c][ih][iw] adds weight[c][oc][kh][kw]
// times itself into out[n][oc][ih*S - pad_top + kh][iw*S - pad_left + kw]

DCGAN_API int dcgan_conv_transpose_out_size(int in, int kernel, int stride, int pad_before,
                                            int pad_after) {
    const long long out = dcgan__conv_transpose_out_ll(in, kernel, stride, pad_before, pad_after);
    return out <= INT_MAX ? (int)out : 0;
}

// Reference loops (the fast path below is tested against them).

DCGAN_API dcgan_status dcgan_conv_transpose2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                          const dcgan_conv_transpose2d *conv) {
    dcgan_status st = dcgan_conv_transpose2d_check(__func__, out, inp, dcgan__no_tensor, 0, conv);
    if (st != DCGAN_OK) return st;
    const int OH = out.h, OW = out.w;
    const int C = inp.c, H = inp.h, W = inp.w, K = conv->kernel, S = conv->stride;
    const int OC = conv->out_channels;
    for (int n = 0; n < inp.n; n++)
        for (int oc = 0; oc < OC; oc++)
            for (int p = 0; p < OH * OW; p++)
                out.data[((size_t)n * OC + oc) * OH * OW + p] = conv->bias ? conv->bias[oc] : 0.0f;
    for (int n = 0; n < inp.n; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    float x = inp.data[(((size_t)n * C + c) * H + h) * W + w];
                    for (int oc = 0; oc < OC; oc++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int oh = h * S - conv->pad_top + kh;
                                int ow = w * S - conv->pad_left + kw;
                                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                                out.data[(((size_t)n * OC + oc) * OH + oh) * OW + ow] +=
                                    x * conv->weight[((size_t)(c * OC + oc) * K + kh) * K + kw];
                            }
                }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_backward_ref(dcgan_tensor dinp, float *dweight,
                                                           float *dbias, dcgan_tensor dout,
                                                           dcgan_tensor inp,
                                                           const dcgan_conv_transpose2d *conv) {
    dcgan_status st = dcgan_conv_transpose2d_check(__func__, dout, inp, dinp, 1, conv);
    if (st != DCGAN_OK) return st;
    const int OH = dout.h, OW = dout.w;
    const int C = inp.c, H = inp.h, W = inp.w, K = conv->kernel, S = conv->stride;
    const int OC = conv->out_channels;
    if (dbias)
        for (int n = 0; n < inp.n; n++)
            for (int oc = 0; oc < OC; oc++)
                for (int p = 0; p < OH * OW; p++)
                    dbias[oc] += dout.data[((size_t)n * OC + oc) * OH * OW + p];
    for (int n = 0; n < inp.n; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    size_t ii = (((size_t)n * C + c) * H + h) * W + w;
                    for (int oc = 0; oc < OC; oc++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int oh = h * S - conv->pad_top + kh;
                                int ow = w * S - conv->pad_left + kw;
                                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                                size_t wi = ((size_t)(c * OC + oc) * K + kh) * K + kw;
                                float d = dout.data[(((size_t)n * OC + oc) * OH + oh) * OW + ow];
                                if (dinp.data) dinp.data[ii] += d * conv->weight[wi];
                                if (dweight) dweight[wi] += d * inp.data[ii];
                            }
                }
    return DCGAN_OK;
}

// --- conv_transpose2d fast path: GEMM into columns, then col2im onto the output

DCGAN_API size_t dcgan_conv_transpose2d_work_size(const dcgan_conv_transpose2d *conv,
                                                  int H, int W) {
    // the col matrix (OC*K*K, H*W) plus the gathered input (C, H*W), per image
    return ((size_t)conv->out_channels * conv->kernel * conv->kernel + (size_t)conv->in_channels) *
           (size_t)H * W;
}

// A 1x1 input with no padding (a generator's first layer, from the noise
// vector to 4x4): image n's output is OC*K*K numbers in the weight's column
// order, out[n][oc][kh][kw] = bias[oc] + sum over c of inp[n][c] * weight[c][oc][kh][kw],
// so the layer is a Linear one, out (N x OC*K*K) = X (N x C) * weight, stored
// in place, with no columns and no col2im (which, for one pixel per image,
// moved one float at a time).
static int dcgan__conv_transpose_is_linear(const dcgan_conv_transpose2d *conv, dcgan_tensor inp) {
    return inp.h == 1 && inp.w == 1 && conv->pad_top == 0 && conv->pad_left == 0 && conv->pad_bottom == 0 &&
           conv->pad_right == 0;
}

// The convolution a transposed convolution is the adjoint of: the same
// weight read as (OC_of_this = C, C_of_this = OC, K, K), the same stride and
// pads, no bias. Its forward is the transposed one's input gradient, and its
// weight gradient (with inp and dout swapped) is the transposed one's.
static dcgan_conv2d dcgan__adjoint_conv(const dcgan_conv_transpose2d *conv) {
    dcgan_conv2d a = *conv;
    a.bias = NULL;
    a.in_channels = conv->out_channels;
    a.out_channels = conv->in_channels;
    return a;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                      const dcgan_conv_transpose2d *conv,
                                                      float *work, size_t work_floats) {
    // per group of g images: x (C, g*H*W) = gathered inp; col (OC*K*K, g*H*W) =
    // weight^T (OC*K*K, C) * x; out[n] = bias + col2im of image n's columns.
    // The output plays the role of a conv2d input and inp that of its output.
    dcgan_status st = dcgan_conv_transpose2d_check(__func__, out, inp, dcgan__no_tensor, 0, conv);
    if (st == DCGAN_OK)
        st = dcgan__work_check(__func__, work, work_floats, dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w),
                               "dcgan_conv_transpose2d_work_size");
    if (st != DCGAN_OK) return st;
    const int OH = out.h, OW = out.w;
    if (dcgan__conv_transpose_is_linear(conv, inp)) {
        const int OCKK = conv->out_channels * conv->kernel * conv->kernel, KK = conv->kernel * conv->kernel;
        dcgan_sgemm(0, 0, inp.n, OCKK, conv->in_channels, 1.0f, inp.data, conv->in_channels, conv->weight, OCKK,
                    0.0f, out.data, OCKK);
        // + bias, or + 0 without one: the col2im route (and the reference) set
        // each output to the bias or to 0 and add the sum to it, so a sum that
        // underflowed to -0 is +0 there, and here too (-0 + 0 = +0)
        for (size_t i = 0; i < (size_t)inp.n * conv->out_channels; i++) {
            float *o = out.data + i * KK;
            const float b = conv->bias ? conv->bias[i % (size_t)conv->out_channels] : 0.0f;
            for (int p = 0; p < KK; p++) o[p] += b;
        }
        return DCGAN_OK;
    }
    const size_t per_image = dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w);
    float *buf = dcgan__work(work, &work_floats, per_image, inp.n);
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the col buffer");
    const int OCKK = conv->out_channels * conv->kernel * conv->kernel, C = conv->in_channels;
    const size_t HW = (size_t)inp.h * inp.w, OHW = (size_t)OH * OW;
    // runs of images (dcgan__col_run), within what the work holds
    const int group = dcgan__col_run((size_t)OCKK * HW, HW, dcgan__group(per_image, inp.n, work_floats));
    for (int n0 = 0; n0 < inp.n; n0 += group) {
        const int g = inp.n - n0 < group ? inp.n - n0 : group;
        const size_t ld = (size_t)g * HW;
        float *col = buf, *x = buf + (size_t)OCKK * ld;
        dcgan__gather(x, inp.data + (size_t)n0 * C * HW, g, C, HW);
        dcgan_sgemm(1, 0, OCKK, (int)ld, C, 1.0f, conv->weight, OCKK, x, (int)ld, 0.0f, col, (int)ld);
        // out = bias, then every column added back (col2im over the g images)
        dcgan__col2im(out.data + (size_t)n0 * conv->out_channels * OHW, col, ld, g, conv->out_channels,
                      OH, OW, conv->kernel, conv->kernel, conv->stride, conv->pad_top, conv->pad_left,
                      inp.h, inp.w, 1, conv->bias);
    }
    if (!work) DCGAN_FREE(buf);
    return DCGAN_OK;
}

// dcgan_conv_transpose2d_backward, and for a model (set_dinp 1) the same with
// dinp set rather than added to (see dcgan__conv2d_backward): the product is
// then written into the images in place where its panels allow, as the
// forward convolution's is, with no pass to add it. (A sum of -0 then stays
// -0 where adding it to the zeros gave +0; no other bit changes.)
DCGAN__INTERNAL dcgan_status dcgan__conv_transpose2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                                              dcgan_tensor dout, dcgan_tensor inp,
                                                              const dcgan_conv_transpose2d *conv, float *work,
                                                              size_t work_floats, int set_dinp) {
    // per group: col (OC*K*K, g*H*W) = im2col of dout (read from dout while
    // packing); dx (C, g*H*W) = weight * col, scattered into dinp; dweight
    // (C, OC*K*K) += x * col^T with x the gathered inp
    dcgan_status st = dcgan_conv_transpose2d_check("dcgan_conv_transpose2d_backward", dout, inp, dinp, 1, conv);
    if (st == DCGAN_OK)
        st = dcgan__work_check("dcgan_conv_transpose2d_backward", work, work_floats,
                               dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w), "dcgan_conv_transpose2d_work_size");
    if (st != DCGAN_OK) return st;
    const int OH = dout.h, OW = dout.w;
    if (dcgan__conv_transpose_is_linear(conv, inp)) {
        // out = X * weight (see dcgan_conv_transpose2d_forward): dX += dout * weight^T,
        // dweight += X^T * dout, dout the N x OC*K*K matrix
        const int C = conv->in_channels, OCKK = conv->out_channels * conv->kernel * conv->kernel;
        if (dbias) dcgan__bias_grad(dbias, dout.data, inp.n, conv->out_channels, (size_t)OH * OW);
        if (dweight)
            dcgan_sgemm(1, 0, C, OCKK, inp.n, 1.0f, inp.data, C, dout.data, OCKK, 1.0f, dweight, OCKK);
        if (dinp.data)
            dcgan_sgemm(0, 1, inp.n, C, OCKK, 1.0f, dout.data, OCKK, conv->weight, OCKK, set_dinp ? 0.0f : 1.0f,
                        dinp.data, C);   // (beta 0 does not read dinp)
        return DCGAN_OK;
    }
    const size_t per_image = dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w);
    float *buf = dcgan__work(work, &work_floats, per_image, inp.n);
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the col buffer");
    const int OCKK = conv->out_channels * conv->kernel * conv->kernel, C = conv->in_channels;
    const int OC = conv->out_channels;
    const size_t HW = (size_t)inp.h * inp.w, OHW = (size_t)OH * OW;
    const int group = dcgan__group(per_image, inp.n, work_floats);
    if (dbias) dcgan__bias_grad(dbias, dout.data, inp.n, OC, OHW);
    // few output channels: the adjoint convolution's direct path (section 15c),
    // its weight gradient first; what it cannot do (no scratch) the GEMM does
    const dcgan_conv2d adj = dcgan__adjoint_conv(conv);
    if (dcgan__use_direct(&adj)) {
        if (dweight && dcgan__conv2d_backward_direct_path(dcgan__no_tensor, dweight, NULL, inp, dout, &adj, buf,
                                                          work_floats) == 1)
            dweight = NULL;
        if (dinp.data && dcgan__conv2d_forward_direct_path(dinp, dout, &adj, buf, work_floats, !set_dinp))
            dinp.data = NULL;
    }
    for (int n0 = 0; n0 < inp.n && (dweight || dinp.data); n0 += group) {
        const int g = inp.n - n0 < group ? inp.n - n0 : group;
        const size_t ld = (size_t)g * HW;
        float *x = buf + (size_t)OCKK * ld;
        const dcgan__patches col = dcgan__patches_of(dout.data + (size_t)n0 * OC * OHW, g, (size_t)OC * OHW,
                                                     OHW, OC, OH, OW, conv->kernel, conv->kernel, conv->stride,
                                                     conv->pad_top, conv->pad_left, inp.h, inp.w);
        if (dweight) {
            dcgan__gather(x, inp.data + (size_t)n0 * C * HW, g, C, HW);
            dcgan__sgemm_patches(0, 1, C, OCKK, (int)ld, 1.0f, x, (int)ld, &col, 1.0f, dweight, OCKK, NULL, 0);
        }
        if (dinp.data) {
            float *d = dinp.data + (size_t)n0 * C * HW;
            if (set_dinp && dcgan__sgemm_patches_nchw(C, OCKK, conv->weight, OCKK, &col, d, NULL)) continue;
            dcgan__sgemm_patches(0, 0, C, (int)ld, OCKK, 1.0f, conv->weight, OCKK, &col, 0.0f, x, (int)ld,
                                 NULL, 0);
            dcgan__scatter(d, x, g, C, HW, !set_dinp, NULL);
        }
    }
    if (!work) DCGAN_FREE(buf);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_backward(dcgan_tensor dinp, float *dweight,
                                                       float *dbias, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_conv_transpose2d *conv,
                                                       float *work, size_t work_floats) {
    return dcgan__conv_transpose2d_backward(dinp, dweight, dbias, dout, inp, conv, work, work_floats, 0);
}

// Upsample: (N,C,H,W) -> (N,C,OH,OW) (torch.nn.Upsample, F.interpolate with
// align_corners=False): out = the weighted source pixels of dcgan__resize_coord,
// (1 - lh)(1 - lw) x[i0][j0] + (1 - lh) lw x[i0][j1] + lh (1 - lw) x[i1][j0] + lh lw x[i1][j1],
// or, nearest, x[i0][j0]; backward hands each dout back with the same weights.

// Source coordinates for one output axis, as PyTorch computes them.
// nearest: i0 = i1 = floor(dst * scale); bilinear: the formula of the
// declarations (dcgan_upsample_forward, section 6).
static void dcgan__resize_coord(int dst, int in, int out, dcgan_upsample_mode mode, int *i0,
                                int *i1, float *lambda1) {
    float scale = (float)in / (float)out;
    if (mode == DCGAN_UPSAMPLE_NEAREST) {
        int s = (int)floorf((float)dst * scale);
        *i0 = *i1 = s < in - 1 ? s : in - 1;
        *lambda1 = 0.0f;
        return;
    }
    // PyTorch keeps the scale in float but forms the source coordinate in double
    // (its 0.5 literals are doubles), and only the weight is rounded to float;
    // doing the same matches F.interpolate to rounding (1e-7, not 1e-5).
    double src = (double)scale * ((double)dst + 0.5) - 0.5;
    if (src < 0.0) src = 0.0;
    int s = (int)src;                       // floor, since src >= 0
    if (s > in - 1) s = in - 1;
    *i0 = s;
    *i1 = s + 1 < in ? s + 1 : in - 1;
    *lambda1 = (float)(src - (double)s);
}

// Both sides of a resize: non-empty, the same N and C.
static dcgan_status dcgan__resize_check(const char *func, dcgan_tensor src, dcgan_tensor dst) {
    if (src.n > 0 && src.c > 0 && src.h > 0 && src.w > 0 && dst.n == src.n && dst.c == src.c &&
        dst.h > 0 && dst.w > 0)
        return DCGAN_OK;
    return dcgan__fail(DCGAN_ERR_SHAPE, func, "(%d,%d,%d,%d) and (%d,%d,%d,%d): %s", src.n, src.c, src.h, src.w,
                       dst.n, dst.c, dst.h, dst.w,
                       dst.n != src.n || dst.c != src.c ? "they differ in N or C" : "every size must be positive");
}

DCGAN_API dcgan_status dcgan_upsample_forward(dcgan_tensor out, dcgan_tensor inp,
                                              dcgan_upsample_mode mode) {
    // inp: (N,C,H,W)   out: (N,C,OH,OW)
    dcgan_status st = dcgan__resize_check(__func__, inp, out);
    if (st != DCGAN_OK) return st;
    DCGAN__OMP(omp parallel for schedule(static) if ((double)out.h * out.w * inp.n * inp.c > 65536))
    for (int oh = 0; oh < out.h; oh++) {
        int h0, h1;
        float lh1;
        dcgan__resize_coord(oh, inp.h, out.h, mode, &h0, &h1, &lh1);
        for (int ow = 0; ow < out.w; ow++) {
            int w0, w1;
            float lw1;
            dcgan__resize_coord(ow, inp.w, out.w, mode, &w0, &w1, &lw1);
            float lh0 = 1.0f - lh1, lw0 = 1.0f - lw1;
            for (size_t nc = 0; nc < (size_t)inp.n * inp.c; nc++) {
                const float *src = &inp.data[nc * inp.h * inp.w];
                // nearest copies its pixel (the bilinear form, with weights of 0 on the
                // same pixel, made an Inf NaN: 0 * Inf; F.interpolate copies it)
                float v = mode == DCGAN_UPSAMPLE_NEAREST
                              ? src[h0 * inp.w + w0]
                              : lh0 * (lw0 * src[h0 * inp.w + w0] + lw1 * src[h0 * inp.w + w1]) +
                                    lh1 * (lw0 * src[h1 * inp.w + w0] + lw1 * src[h1 * inp.w + w1]);
                out.data[(nc * out.h + oh) * out.w + ow] = v;
            }
        }
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_upsample_backward(dcgan_tensor dinp, dcgan_tensor dout,
                                               dcgan_upsample_mode mode) {
    // dout: (N,C,OH,OW) is distributed back with the forward weights into dinp
    dcgan_status st = dcgan__resize_check(__func__, dinp, dout);
    if (st != DCGAN_OK) return st;
    for (int oh = 0; oh < dout.h; oh++) {
        int h0, h1;
        float lh1;
        dcgan__resize_coord(oh, dinp.h, dout.h, mode, &h0, &h1, &lh1);
        for (int ow = 0; ow < dout.w; ow++) {
            int w0, w1;
            float lw1;
            dcgan__resize_coord(ow, dinp.w, dout.w, mode, &w0, &w1, &lw1);
            float lh0 = 1.0f - lh1, lw0 = 1.0f - lw1;
            for (size_t nc = 0; nc < (size_t)dinp.n * dinp.c; nc++) {
                float d = dout.data[(nc * dout.h + oh) * dout.w + ow];
                float *dst = &dinp.data[nc * dinp.h * dinp.w];
                if (mode == DCGAN_UPSAMPLE_NEAREST) {
                    dst[h0 * dinp.w + w0] += d;
                    continue;
                }
                dst[h0 * dinp.w + w0] += lh0 * lw0 * d;
                dst[h0 * dinp.w + w1] += lh0 * lw1 * d;
                dst[h1 * dinp.w + w0] += lh1 * lw0 * d;
                dst[h1 * dinp.w + w1] += lh1 * lw1 * d;
            }
        }
    }
    return DCGAN_OK;
}

// a where c is true, else b: the bits of one or the other, chosen by a mask.
// The loops of the activations use it where `x > 0 ? x : slope * x` would name an
// operation on one side only: GCC may not compute such a side for every entry
// (a multiplication or an addition may raise a floating-point exception), and
// without AVX-512's masked operations the loop then stays scalar and branchy
// (LeakyReLU after BatchNorm was 18% of a classifier step on an AVX2 build,
// bench/RESULTS.md). Here both sides are computed, and the choice vectorises on
// every x86 level. The numbers are those of the ternary operator.
static float dcgan__select(int c, float a, float b) {
    uint32_t ua, ub;
    const uint32_t mask = c ? 0xffffffffu : 0u;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & mask) | (ub & ~mask);
    memcpy(&a, &ua, sizeof a);
    return a;
}

// BatchNorm2d: (N,C,H,W) -> (N,C,H,W), per channel y = gamma * (x - mean) /
// sqrt(var + eps) + beta (Ioffe & Szegedy 2015, algorithm 1; torch.nn.BatchNorm2d;
// the declarations in section 6 give the running statistics and eval mode).

// The plain loops first: the formulas as they read, one channel at a time,
// each sum in double in the order of the values. The library runs the
// versions after them (dcgan_batchnorm2d_forward and _backward), which compute
// the same formulas with their sums in a fixed order of partial sums and with
// the activation that follows fused in; tests/test_layers.c checks both
// against PyTorch's numbers and each other, the library's also against finite
// differences.
DCGAN_API dcgan_status dcgan_batchnorm2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                     dcgan_batchnorm2d *bn, int training) {
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(out, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), out (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, out.n, out.c, out.h, out.w, bn->channels);
    const int N = inp.n, C = inp.c;
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)N * HW;   // M values per channel
    if (training && M < 2)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "training needs more than 1 value per channel, got %zu", M);
    for (int c = 0; c < C; c++) {
        double mean, var;
        if (training) {   // the batch's statistics over (N, H, W)
            double sum = 0.0, sq = 0.0;
            for (int n = 0; n < N; n++)
                for (size_t p = 0; p < HW; p++) sum += inp.data[((size_t)n * C + c) * HW + p];
            mean = sum / (double)M;
            for (int n = 0; n < N; n++)
                for (size_t p = 0; p < HW; p++) {
                    const double v = inp.data[((size_t)n * C + c) * HW + p] - mean;
                    sq += v * v;
                }
            var = sq / (double)M;                        // biased: the one that normalises
            const double unbiased = sq / (double)(M - 1);   // unbiased: the one kept
            bn->running_mean[c] = (float)((1.0 - bn->momentum) * bn->running_mean[c] + bn->momentum * mean);
            bn->running_var[c] = (float)((1.0 - bn->momentum) * bn->running_var[c] + bn->momentum * unbiased);
        } else {   // eval: the running statistics
            mean = bn->running_mean[c];
            var = bn->running_var[c];
        }
        const double invstd = 1.0 / sqrt(var + bn->eps);
        bn->save_mean[c] = (float)mean;   // for backward
        bn->save_invstd[c] = (float)invstd;
        for (int n = 0; n < N; n++)
            for (size_t p = 0; p < HW; p++) {
                const size_t i = ((size_t)n * C + c) * HW + p;
                const double xhat = (inp.data[i] - mean) * invstd;
                out.data[i] = (float)(bn->gamma[c] * xhat + bn->beta[c]);
            }
    }
    bn->saved_training = training;
    return DCGAN_OK;
}

// Backward, with xhat = (x - mean) * invstd from forward's saved statistics:
//   dgamma += sum dout * xhat,   dbeta += sum dout   (sums over N, H, W);
//   training: dx += gamma * invstd * (dout - mean(dout) - xhat * mean(dout * xhat)),
//     the chain rule through the batch's mean and variance (Ioffe & Szegedy
//     2015, section 3, written with means over the M values);
//   eval: dx += gamma * invstd * dout (mean and variance are constants then).
// dinp.data may be NULL (the first layer needs no input gradient).
DCGAN_API dcgan_status dcgan_batchnorm2d_backward_ref(dcgan_tensor dinp, float *dgamma, float *dbeta,
                                                      dcgan_tensor dout, dcgan_tensor inp,
                                                      const dcgan_batchnorm2d *bn) {
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(dout, inp.n, inp.c, inp.h, inp.w) ||
        (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w)))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), dout (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, dout.n, dout.c, dout.h, dout.w,
                           bn->channels);
    const int N = inp.n, C = inp.c;
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)N * HW;
    for (int c = 0; c < C; c++) {
        const double mean = bn->save_mean[c], invstd = bn->save_invstd[c];
        double sum_d = 0.0, sum_dx = 0.0;   // sum of dout, sum of dout * xhat
        for (int n = 0; n < N; n++)
            for (size_t p = 0; p < HW; p++) {
                const size_t i = ((size_t)n * C + c) * HW + p;
                sum_d += dout.data[i];
                sum_dx += dout.data[i] * ((inp.data[i] - mean) * invstd);
            }
        if (dgamma) dgamma[c] += (float)sum_dx;
        if (dbeta) dbeta[c] += (float)sum_d;
        if (!dinp.data) continue;
        const double g = bn->gamma[c] * invstd;
        for (int n = 0; n < N; n++)
            for (size_t p = 0; p < HW; p++) {
                const size_t i = ((size_t)n * C + c) * HW + p;
                const double xhat = (inp.data[i] - mean) * invstd;
                const double d = bn->saved_training ? dout.data[i] - sum_d / (double)M - xhat * (sum_dx / (double)M)
                                                    : dout.data[i];
                dinp.data[i] += (float)(g * d);
            }
    }
    return DCGAN_OK;
}

// What the library runs: the same formulas, fast.

// The sums of BatchNorm run in double, in an order that the shape alone
// fixes, so that the bits are the same on every machine, vector width and
// thread count. A channel's values are added image after image into
// DCGAN__BN_PARTS partial sums (dcgan__bn_sum): value p of a run (an image's
// plane, or a piece of it that starts at a multiple of DCGAN__BN_PARTS) goes
// to partial p mod DCGAN__BN_PARTS, and the values after the run's last whole
// group of DCGAN__BN_PARTS to one more sum, `rest`; at the end the partials
// are added in order, rest last. One chain of dependent double additions waits
// 4 cycles per value: with four chains (four channels side by side, each in
// its own order) BatchNorm was a tenth of a classifier step. The 16 chains
// here are independent, and the AVX2 versions (section 15e) run them as four
// vectors of four: BatchNorm 1.6-1.7x faster (bench/RESULTS.md, session 18); the
// AVX-512F ones as two vectors of eight.
DCGAN__NO_FUSE_FN DCGAN__INTERNAL double dcgan__bn_total(const dcgan__bn_sum *s) {
    double t = 0.0;
    for (int j = 0; j < DCGAN__BN_PARTS; j++) t += s->part[j];
    return t + s->rest;
}

// s += x[p] for the n values of each of `runs` runs, stride floats apart
// (a channel's planes in the images, one after another).
DCGAN__NO_FUSE_FN DCGAN__INTERNAL void dcgan__bn_add_values(dcgan__bn_sum *s, const float *x, int runs, size_t stride,
                                                         size_t n) {
    const size_t whole = n - n % DCGAN__BN_PARTS;
    for (int r = 0; r < runs; r++, x += stride) {
        for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS)
            for (int j = 0; j < DCGAN__BN_PARTS; j++) s->part[j] += x[p + j];
        for (size_t p = whole; p < n; p++) s->rest += x[p];
    }
}

// s += (x[p] - mean)^2, in double, over the runs.
DCGAN__NO_FUSE_FN DCGAN__INTERNAL void dcgan__bn_add_squares(dcgan__bn_sum *s, const float *x, int runs,
                                                          size_t stride, size_t n, double mean) {
    DCGAN__NO_FUSE
    const size_t whole = n - n % DCGAN__BN_PARTS;
    for (int r = 0; r < runs; r++, x += stride) {
        for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS)
            for (int j = 0; j < DCGAN__BN_PARTS; j++) {
                const double v = x[p + j] - mean;
                s->part[j] += v * v;
            }
        for (size_t p = whole; p < n; p++) {
            const double v = x[p] - mean;
            s->rest += v * v;
        }
    }
}

// The backward's two sums over one run: d += g[p] and e += g[p] * xhat, where
// xhat = (x[p] - mean) * invstd (the difference in float, the products in double).
DCGAN__NO_FUSE_FN DCGAN__INTERNAL void dcgan__bn_add_grads(dcgan__bn_sum *d, dcgan__bn_sum *e, const float *g,
                                                        const float *x, size_t n, float mean, float invstd) {
    DCGAN__NO_FUSE
    const size_t whole = n - n % DCGAN__BN_PARTS;
    for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS)
        for (int j = 0; j < DCGAN__BN_PARTS; j++) {
            d->part[j] += g[p + j];
            e->part[j] += (double)g[p + j] * (x[p + j] - mean) * invstd;
        }
    for (size_t p = whole; p < n; p++) {
        d->rest += g[p];
        e->rest += (double)g[p] * (x[p] - mean) * invstd;
    }
}

// BatchNorm's loops run on every thread from this many values on (a parallel
// region costs a few microseconds; 128 channels of 4x4 in 32 images, 65,536
// values, took 80 us on one thread).
#define DCGAN__BN_THREADS_MIN 16384

// BatchNorm and the activation after it in one pass over the images. The
// model (section 9) fuses a ReLU or LeakyReLU that overwrites BatchNorm's
// output in place: act DCGAN_LAYER_RELU or DCGAN_LAYER_LEAKY_RELU (slope),
// applied to each channel plane right after it is normalised, while the plane
// is in the cache; act DCGAN_LAYER_BATCHNORM2D is BatchNorm alone (the public
// functions). The numbers are those of the two layers one after the other.
DCGAN__CLONED
static dcgan_status dcgan__batchnorm2d_act_forward(dcgan_tensor out, dcgan_tensor inp, dcgan_batchnorm2d *bn,
                                                   int training, dcgan_layer_kind act, float slope) {
    // per channel c: statistics over the M = N*H*W values inp[:, c, :, :]
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(out, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), out (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, out.n, out.c, out.h, out.w, bn->channels);
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)inp.n * HW;
    const int C = inp.c;
    if (training && M < 2)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "training needs more than 1 value per channel, got %zu", M);
    const dcgan__bn_fns sums = dcgan__pick_bn();
    // channels are independent: each thread takes whole channels
    DCGAN__OMP(omp parallel for schedule(static) if ((double)M * C >= DCGAN__BN_THREADS_MIN))
    for (int c = 0; c < C; c++) {
        double mean, var;
        if (training) {
            dcgan__bn_sum s = {{0.0}, 0.0}, q = {{0.0}, 0.0};
            const float *x = &inp.data[(size_t)c * HW];   // channel c of image 0; C*HW floats to the next
            sums.values(&s, x, inp.n, (size_t)C * HW, HW);
            mean = dcgan__bn_total(&s) / (double)M;
            sums.squares(&q, x, inp.n, (size_t)C * HW, HW, mean);
            const double sq = dcgan__bn_total(&q);
            var = sq / (double)M;   // biased, used to normalise
            bn->running_mean[c] = (float)((1.0 - bn->momentum) * bn->running_mean[c] + bn->momentum * mean);
            bn->running_var[c] = (float)((1.0 - bn->momentum) * bn->running_var[c] +
                                         bn->momentum * sq / (double)(M - 1));
        } else {
            mean = bn->running_mean[c];
            var = bn->running_var[c];
        }
        float invstd = (float)(1.0 / sqrt(var + bn->eps));
        bn->save_mean[c] = (float)mean;
        bn->save_invstd[c] = invstd;
        float scale = bn->gamma[c] * invstd;
        float shift = bn->beta[c] - (float)mean * scale;
        for (int n = 0; n < inp.n; n++) {
            const float *xc = &inp.data[((size_t)n * C + c) * HW];
            float *y = &out.data[((size_t)n * C + c) * HW];
            // the fused activation: dcgan_relu_forward's and dcgan_leaky_relu_forward's
            // formulas on the normalised value v, stored once
            if (act == DCGAN_LAYER_RELU) {
                DCGAN__OMP(omp simd)
                for (size_t p = 0; p < HW; p++) {
                    const float v = xc[p] * scale + shift;
                    y[p] = v > 0.0f ? v : 0.0f;
                }
            } else if (act == DCGAN_LAYER_LEAKY_RELU) {
                DCGAN__OMP(omp simd)
                for (size_t p = 0; p < HW; p++) {
                    const float v = xc[p] * scale + shift;
                    y[p] = dcgan__select(v > 0.0f, v, slope * v);
                }
            } else {
                DCGAN__OMP(omp simd)
                for (size_t p = 0; p < HW; p++) y[p] = xc[p] * scale + shift;
            }
        }
    }
    bn->saved_training = training;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_batchnorm2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                 dcgan_batchnorm2d *bn, int training) {
    return dcgan__batchnorm2d_act_forward(out, inp, bn, training, DCGAN_LAYER_BATCHNORM2D, 0.0f);
}

// n entries of the gradient at BatchNorm's output, in g: with a fused
// activation, what that activation's backward adds into a zeroed buffer from
// d, the gradient at its output, and y, its output (the formulas of
// dcgan_relu_backward and dcgan_leaky_relu_backward). Without one it is d
// itself, returned as it is. Backward goes through the planes in chunks of
// DCGAN__BN_CHUNK entries, so that g stays in the cache.
#define DCGAN__BN_CHUNK 256
// (a chunk starts at a multiple of DCGAN__BN_PARTS: its partial sums are its plane's)
typedef char dcgan__bn_chunk_whole_parts[DCGAN__BN_CHUNK % DCGAN__BN_PARTS == 0 ? 1 : -1];
DCGAN__CLONED
static const float *dcgan__bn_dout(float *g, const float *d, const float *y, size_t n, dcgan_layer_kind act,
                                   float slope) {
    if (act == DCGAN_LAYER_RELU) {
        DCGAN__OMP(omp simd)
        for (size_t p = 0; p < n; p++) g[p] = 0.0f + dcgan__select(y[p] > 0.0f, d[p], 0.0f);
    } else if (act == DCGAN_LAYER_LEAKY_RELU) {
        DCGAN__OMP(omp simd)
        for (size_t p = 0; p < n; p++) g[p] = 0.0f + (y[p] > 0.0f ? 1.0f : slope) * d[p];
    } else {
        return d;
    }
    return g;
}

// The backward of dcgan__batchnorm2d_act_forward: dout is the gradient at the
// activation's output y (act none: at BatchNorm's output; y unused). add 1:
// adds into dinp; add 0: writes into dinp what adding into a zeroed dinp
// gives (0 + v, the same bits), and then dinp may be dout's memory (each entry
// of dout is read before the same entry of dinp is written).
DCGAN__CLONED
static dcgan_status dcgan__batchnorm2d_act_backward(dcgan_tensor dinp, float *dgamma, float *dbeta,
                                                    dcgan_tensor dout, dcgan_tensor y, dcgan_tensor inp,
                                                    const dcgan_batchnorm2d *bn, dcgan_layer_kind act,
                                                    float slope, int add) {
    // xhat = (x - mean) * invstd;  dgamma += sum dout * xhat;  dbeta += sum dout
    // training: dx = gamma * invstd / M * (M * dout - sum dout - xhat * sum dout * xhat)
    // eval:     dx = gamma * invstd * dout
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(dout, inp.n, inp.c, inp.h, inp.w) ||
        (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w)) ||
        (act != DCGAN_LAYER_BATCHNORM2D && !dcgan__shape_is(y, inp.n, inp.c, inp.h, inp.w)))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), dout (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, dout.n, dout.c, dout.h, dout.w,
                           bn->channels);
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)inp.n * HW;
    const int C = inp.c;
    const float *ydata = act == DCGAN_LAYER_BATCHNORM2D ? dout.data : y.data;   // not read without act
    const dcgan__bn_fns sums = dcgan__pick_bn();
    DCGAN__OMP(omp parallel for schedule(static) if ((double)M * C >= DCGAN__BN_THREADS_MIN))
    for (int c = 0; c < C; c++) {
        const float mk = bn->save_mean[c], ik = bn->save_invstd[c];
        dcgan__bn_sum sd = {{0.0}, 0.0}, se = {{0.0}, 0.0};   // sum of dout, sum of dout * xhat
        float gbuf[DCGAN__BN_CHUNK];
        for (int n = 0; n < inp.n; n++) {
            const size_t at = ((size_t)n * C + c) * HW;
            for (size_t p0 = 0; p0 < HW; p0 += DCGAN__BN_CHUNK) {
                const size_t len = HW - p0 < DCGAN__BN_CHUNK ? HW - p0 : DCGAN__BN_CHUNK;
                const float *g = dcgan__bn_dout(gbuf, &dout.data[at + p0], &ydata[at + p0], len, act, slope);
                sums.grads(&sd, &se, g, &inp.data[at + p0], len, mk, ik);
            }
        }
        const double sum_d = dcgan__bn_total(&sd), sum_dx = dcgan__bn_total(&se);
        if (dgamma) dgamma[c] += (float)sum_dx;
        if (dbeta) dbeta[c] += (float)sum_d;
        if (!dinp.data) continue;
        const float gk = bn->gamma[c] * ik;
        const float mean_d = (float)(sum_d / (double)M), mean_dx = (float)(sum_dx / (double)M);
        for (int n = 0; n < inp.n; n++) {
            const size_t at = ((size_t)n * C + c) * HW;
            for (size_t p0 = 0; p0 < HW; p0 += DCGAN__BN_CHUNK) {
                const size_t len = HW - p0 < DCGAN__BN_CHUNK ? HW - p0 : DCGAN__BN_CHUNK;
                const float *xc = &inp.data[at + p0];
                const float *dc = dcgan__bn_dout(gbuf, &dout.data[at + p0], &ydata[at + p0], len, act, slope);
                float *dx = &dinp.data[at + p0];
                if (bn->saved_training) {
                    DCGAN__OMP(omp simd)
                    for (size_t p = 0; p < len; p++) {
                        float xhat = (xc[p] - mk) * ik;
                        dx[p] = (add ? dx[p] : 0.0f) + gk * (dc[p] - mean_d - xhat * mean_dx);
                    }
                } else {
                    DCGAN__OMP(omp simd)
                    for (size_t p = 0; p < len; p++) dx[p] = (add ? dx[p] : 0.0f) + gk * dc[p];
                }
            }
        }
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_batchnorm2d_backward(dcgan_tensor dinp, float *dgamma,
                                                  float *dbeta, dcgan_tensor dout,
                                                  dcgan_tensor inp,
                                                  const dcgan_batchnorm2d *bn) {
    return dcgan__batchnorm2d_act_backward(dinp, dgamma, dbeta, dout, dout, inp, bn, DCGAN_LAYER_BATCHNORM2D,
                                           0.0f, 1);
}

// Activations

// LeakyReLU: out = x > 0 ? x : slope * x                     (torch.nn.LeakyReLU)
DCGAN__CLONED
DCGAN_API dcgan_status dcgan_leaky_relu_forward(float *out, const float *inp, size_t n, float slope) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) out[i] = dcgan__select(inp[i] > 0.0f, inp[i], slope * inp[i]);
    return DCGAN_OK;
}

DCGAN__CLONED
DCGAN_API dcgan_status dcgan_leaky_relu_backward(float *dinp, const float *dout, const float *inp,
                                                 size_t n, float slope) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) {
        float local_grad = inp[i] > 0.0f ? 1.0f : slope;
        dinp[i] += local_grad * dout[i];
    }
    return DCGAN_OK;
}

// ReLU: out = max(x, 0)                                      (torch.nn.ReLU)
DCGAN__CLONED
DCGAN_API dcgan_status dcgan_relu_forward(float *out, const float *inp, size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    return DCGAN_OK;
}

DCGAN__CLONED
DCGAN_API dcgan_status dcgan_relu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
    // dinp += dout where inp > 0, written as a select of the sum or the old value
    // (not "+ 0", which would turn a -0 into +0): vectorised, the same bits
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dinp[i] = dcgan__select(inp[i] > 0.0f, dinp[i] + dout[i], dinp[i]);
    return DCGAN_OK;
}

// Tanh: out = tanh(x); d/dx = 1 - out^2                      (torch.nn.Tanh)
//
// libm's tanhf is replaced here, for bits that are the same everywhere and
// for speed. tanh in double arithmetic, rounded once to float. With y = 2|x| and
// expm1(y) = e^y - 1, tanh|x| = expm1(y) / (expm1(y) + 2) (no cancellation
// near 0). expm1 of u = y/32 is its Taylor series to u^20 (|u| <= 1.25: the
// next term is below 2e-18 of the sum), and expm1(2u) = expm1(u) * (expm1(u)
// + 2) doubles it back five times. y stops at 40 (tanh 20 is 1 in float and
// in double): no overflow. The double result is within about 1e-14 of tanh,
// so rounding it to float gives the correctly rounded tanh, except where
// tanh(x) lies within 1e-14 of a point halfway between two floats. Checked on
// every 97th float of either sign (44 million values): each came out equal to
// (float)tanh((double)x) (tests/test_layers.c checks 1 ulp and counts).
// The same bits with every compiler, libm and vector width, where libm's tanhf
// is off by up to 2 ulp and differs between libm versions. It was also a call
// per value, 3% of a small-data GAN iteration; this vectorises: 4.2x faster
// on 2 AVX2 threads (bench/RESULTS.md, session 18).
static const double dcgan__inv_factorial[21] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
    1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0, 1.0 / 87178291200.0,
    1.0 / 1307674368000.0, 1.0 / 20922789888000.0, 1.0 / 355687428096000.0, 1.0 / 6402373705728000.0,
    1.0 / 121645100408832000.0, 1.0 / 2432902008176640000.0};   // 1 / k!

static inline float dcgan__tanh(float x) {
    DCGAN__NO_FUSE
    const float a = dcgan__select(fabsf(x) < 20.0f, fabsf(x), 20.0f);   // min(|x|, 20); NaN: 20
    const double u = (double)a / 16.0;                                 // y / 32, y = 2 a
    // Horner, m = sum of u^(k-1) / k! for k = 1 .. 20, written out (a loop
    // inside would keep the compiler from vectorising the loop over values)
#define DCGAN__H(k) m = m * u + dcgan__inv_factorial[k]
    double m = dcgan__inv_factorial[20];
    DCGAN__H(19), DCGAN__H(18), DCGAN__H(17), DCGAN__H(16), DCGAN__H(15), DCGAN__H(14), DCGAN__H(13);
    DCGAN__H(12), DCGAN__H(11), DCGAN__H(10), DCGAN__H(9), DCGAN__H(8), DCGAN__H(7), DCGAN__H(6);
    DCGAN__H(5), DCGAN__H(4), DCGAN__H(3), DCGAN__H(2), DCGAN__H(1);
#undef DCGAN__H
    m *= u;                                                                 // expm1(u)
    m *= m + 2.0, m *= m + 2.0, m *= m + 2.0, m *= m + 2.0, m *= m + 2.0;   // expm1(2u), 5 times
    const float r = (float)(m / (m + 2.0));
    return dcgan__select(x == x, copysignf(r, x), x);   // NaN stays NaN; tanh(-0) = -0
}

DCGAN__CLONED
DCGAN_API dcgan_status dcgan_tanh_forward(float *out, const float *inp, size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) out[i] = dcgan__tanh(inp[i]);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dinp[i] += (1.0f - out[i] * out[i]) * dout[i];
    return DCGAN_OK;
}

// Sigmoid: out = 1 / (1 + exp(-x)); d/dx = out (1 - out)     (torch.nn.Sigmoid)
// Written in two branches so exp never overflows.
DCGAN_API dcgan_status dcgan_sigmoid_forward(float *out, const float *inp, size_t n) {
    DCGAN__OMP_ELEMENTWISE_CALLS(n)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_sigmoid_backward(float *dinp, const float *dout, const float *out,
                                              size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] * (1.0f - out[i]) * dout[i];
    return DCGAN_OK;
}

// Dropout (torch.nn.Dropout, inverted): out = inp * mask, mask 1 / (1 - p) with
// probability 1 - p and 0 otherwise in training, 1 in eval; dinp = dout * mask.

DCGAN_API dcgan_status dcgan_dropout_forward(float *out, float *mask, const float *inp, size_t n,
                                             float p, int training, dcgan_rng *rng) {
    if (!training || p <= 0.0f) {
        for (size_t i = 0; i < n; i++) {
            out[i] = inp[i];
            mask[i] = 1.0f;
        }
        return DCGAN_OK;
    }
    const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    // value i takes draw i after rng's state: each of 16 parts starts from a
    // copy moved ahead to its first draw (dcgan_rng_advance), so the threads
    // give the numbers of one pass; then rng is moved past all n draws
    DCGAN__OMP(omp parallel for schedule(static) if (n >= 16384))
    for (int part = 0; part < 16; part++) {
        size_t lo, hi;
        dcgan__part16(n, part, &lo, &hi);
        dcgan_rng r = *rng;
        dcgan_rng_advance(&r, lo);
        for (size_t i = lo; i < hi; i++) {
            mask[i] = dcgan_rng_uniform(&r) < p ? 0.0f : keep_scale;
            out[i] = inp[i] * mask[i];
        }
    }
    dcgan_rng_advance(rng, n);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_dropout_backward(float *dinp, const float *dout, const float *mask,
                                              size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * mask[i];
    return DCGAN_OK;
}

// Gaussian noise (Keras' GaussianNoise; instance noise, Sonderby et al. 2017):
// out = inp + stddev * z, z ~ N(0, 1), in training; dinp += dout.

DCGAN_API dcgan_status dcgan_gaussian_noise_forward(float *out, const float *inp, size_t n, float stddev,
                                                    int training, dcgan_rng *rng) {
    if (!training || stddev == 0.0f) {
        if (out != inp) memmove(out, inp, n * sizeof(float));
        return DCGAN_OK;
    }
    // value i takes draws 2i and 2i+1: 16 parts on the threads, as dropout's
    DCGAN__OMP(omp parallel for schedule(static) if (n >= 4096))
    for (int part = 0; part < 16; part++) {
        size_t lo, hi;
        dcgan__part16(n, part, &lo, &hi);
        dcgan_rng r = *rng;
        dcgan_rng_advance(&r, 2 * (uint64_t)lo);
        for (size_t i = lo; i < hi; i++) out[i] = inp[i] + stddev * (float)dcgan__box_muller(&r, NULL);
    }
    dcgan_rng_advance(rng, 2 * (uint64_t)n);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_gaussian_noise_backward(float *dinp, const float *dout, size_t n) {
    DCGAN__OMP_ELEMENTWISE(n)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 7. Loss: binary cross-entropy on logits
//
// loss = mean_i [ max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|)) ], d loss / d x_i =
// (sigmoid(x_i) - y_i) / n (torch.nn.BCEWithLogitsLoss(reduction='mean')).

DCGAN_API dcgan_status dcgan_bce_with_logits(float *loss, float *dlogits, const float *logits,
                                             const float *targets, size_t n) {
    double total = 0.0;
    if (n == 0) return DCGAN__FAIL(DCGAN_ERR_SHAPE, "no logits (n = 0)");
    for (size_t i = 0; i < n; i++) {
        double x = logits[i], y = targets[i];
        // max(x, 0) - x y + log(1 + exp(-|x|)), the form BCEWithLogitsLoss uses
        total += (x > 0.0 ? x : 0.0) - x * y + log1p(exp(-fabs(x)));
    }
    total /= (double)n;
    if (!isfinite(total))
        return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "loss is %f (not finite) over %zu logits", total, n);
    *loss = (float)total;
    if (dlogits) {
        for (size_t i = 0; i < n; i++) {
            double x = logits[i];
            double s = x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
            dlogits[i] = (float)((s - targets[i]) / (double)n);
        }
    }
    return DCGAN_OK;
}

DCGAN_API float dcgan_binary_accuracy(const float *logits, const float *targets, size_t n) {
    size_t right = 0;
    if (n == 0) return 0.0f;
    for (size_t i = 0; i < n; i++)
        if ((logits[i] > 0.0f) == (targets[i] >= 0.5f)) right++;
    return (float)right / (float)n;
}

// -----------------------------------------------------------------------------
// 8. Optimizer: Adam

DCGAN_API void dcgan_adam_init(dcgan_adam *opt, dcgan_adam_mode mode, double lr,
                               double beta1, double beta2) {
    opt->mode = mode;
    opt->lr = lr;
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = mode == DCGAN_ADAM_KERAS ? 1e-7 : 1e-8;
    opt->step = 0;
}

// One step on entries [lo, hi). Keras: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// params -= lr_t m / (sqrt(v) + eps) (Kingma & Ba 2015, algorithm 1, with eps where
// keras.optimizers.Adam puts it: the declarations, section 8);
// torch.optim.Adam: the same moments, params -= step_size m / (sqrt(v) / sqrt(bc2) + eps).
// dcgan__adam_range_avx2 (section 15) does the same operations 8 entries at a time.
DCGAN__INTERNAL void dcgan__adam_range(const dcgan__adam_consts *k, float *params, const float *grads,
                                       float *m, float *v, size_t lo, size_t hi) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF   // clang fuses a * b + c where the CPU can; the vector version does not
#endif
    const float b1 = k->b1, b2 = k->b2, c1 = k->one_minus_b1, c2 = k->one_minus_b2, eps = k->eps;
    const float lr_t = k->lr_t, step_size = k->step_size, sqrt_bc2 = k->sqrt_bc2;
    for (size_t i = lo; i < hi; i++) {
        float g = grads[i];
        m[i] = b1 * m[i] + c1 * g;
        v[i] = b2 * v[i] + c2 * g * g;
        if (k->keras)
            params[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
        else
            params[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + eps);
    }
}

DCGAN_API dcgan_status dcgan_adam_step(dcgan_adam *opt, float *params, const float *grads,
                                       float *m, float *v, size_t n) {
    // |g| <= 1e19 keeps v = b2 v + (1 - b2) g^2 below 1e38 at every step (b2 + (1 - b2) = 1),
    // under float's 3.4e38; the comparison is false for NaN too
    size_t bad = 0;
    DCGAN__OMP(omp parallel for schedule(static) reduction(+ : bad) if (n > 65536))
    for (size_t i = 0; i < n; i++) bad += !(fabsf(grads[i]) <= DCGAN_ADAM_MAX_GRAD);
    for (size_t i = 0; bad && i < n; i++) {
        if (!(fabsf(grads[i]) <= DCGAN_ADAM_MAX_GRAD))
            return DCGAN__FAIL(DCGAN_ERR_NONFINITE,
                               "gradient %zu of %zu is %g (%zu are not finite or above 1e19, where Adam's "
                               "v overflows); step %lld refused, nothing changed", i, n, (double)grads[i], bad,
                               (long long)opt->step + 1);
    }
    const int64_t t = opt->step + 1;
    const double bc1 = 1.0 - pow(opt->beta1, (double)t);
    const double bc2 = 1.0 - pow(opt->beta2, (double)t);
    dcgan__adam_consts k;
    k.keras = opt->mode == DCGAN_ADAM_KERAS;
    k.b1 = (float)opt->beta1, k.b2 = (float)opt->beta2, k.eps = (float)opt->eps;
    k.one_minus_b1 = (float)(1.0 - opt->beta1), k.one_minus_b2 = (float)(1.0 - opt->beta2);
    k.lr_t = (float)(opt->lr * sqrt(bc2) / bc1);
    k.step_size = (float)(opt->lr / bc1);
    k.sqrt_bc2 = (float)sqrt(bc2);
    const dcgan__adam_fn update = dcgan__pick_adam();
    DCGAN__OMP(omp parallel for schedule(static) if (n > ((size_t)1 << 16)))
    for (int part = 0; part < 16; part++) {
        size_t lo, hi;
        dcgan__part16(n, part, &lo, &hi);
        update(&k, params, grads, m, v, lo, hi);
    }
    opt->step = t;
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 9. Models: sequential container

static dcgan_layer_spec dcgan__spec(dcgan_layer_kind kind) {
    dcgan_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_linear(int out_features) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_LINEAR);
    s.out_channels = out_features;
    s.bias = 1;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_conv2d(int out_channels, int kernel, int stride,
                                             int padding) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_CONV2D);
    s.out_channels = out_channels;
    s.kernel = kernel;
    s.stride = stride;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = padding;
    s.bias = 1;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_conv2d_same(int out_channels, int kernel, int stride) {
    dcgan_layer_spec s = dcgan_spec_conv2d(out_channels, kernel, stride, 0);
    s.same = 1;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_conv_transpose2d(int out_channels, int kernel,
                                                       int stride, int padding) {
    dcgan_layer_spec s = dcgan_spec_conv2d(out_channels, kernel, stride, padding);
    s.kind = DCGAN_LAYER_CONV_TRANSPOSE2D;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_conv_transpose2d_same(int out_channels, int kernel,
                                                            int stride) {
    dcgan_layer_spec s = dcgan_spec_conv_transpose2d(out_channels, kernel, stride, 0);
    s.same = 1;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_upsample(int scale, dcgan_upsample_mode mode) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_UPSAMPLE);
    s.scale = scale;
    s.upsample_mode = mode;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_batchnorm2d(float eps, float momentum) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_BATCHNORM2D);
    s.eps = eps;
    s.momentum = momentum;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_leaky_relu(float slope) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_LEAKY_RELU);
    s.slope = slope;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_relu(void) { return dcgan__spec(DCGAN_LAYER_RELU); }
DCGAN_API dcgan_layer_spec dcgan_spec_tanh(void) { return dcgan__spec(DCGAN_LAYER_TANH); }
DCGAN_API dcgan_layer_spec dcgan_spec_sigmoid(void) { return dcgan__spec(DCGAN_LAYER_SIGMOID); }

DCGAN_API dcgan_layer_spec dcgan_spec_dropout(float p) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_DROPOUT);
    s.p = p;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_gaussian_noise(float stddev) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_GAUSSIAN_NOISE);
    s.stddev = stddev;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_reshape(int c, int h, int w) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_RESHAPE);
    s.reshape_c = c;
    s.reshape_h = h;
    s.reshape_w = w;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_flatten(void) { return dcgan_spec_reshape(-1, 1, 1); }

// Views of a layer's weights inside a parameter buffer (params or grads).
static dcgan_conv2d dcgan__layer_conv2d(const dcgan_layer *L, float *base) {
    dcgan_conv2d c;
    c.weight = base + L->weight_offset;
    c.bias = L->bias_count ? base + L->bias_offset : NULL;
    c.in_channels = L->in_c;
    c.out_channels = L->out_c;
    c.kernel = L->spec.kernel;
    c.stride = L->spec.stride;
    c.pad_top = L->pad_top;
    c.pad_left = L->pad_left;
    c.pad_bottom = L->pad_bottom;
    c.pad_right = L->pad_right;
    return c;
}

static dcgan_linear dcgan__layer_linear(const dcgan_layer *L, float *base) {
    dcgan_linear lin;
    lin.weight = base + L->weight_offset;
    lin.bias = L->bias_count ? base + L->bias_offset : NULL;
    lin.in_features = L->in_c * L->in_h * L->in_w;
    lin.out_features = L->out_c;
    return lin;
}

// Where a model's layers run: its host buffers, or (DCGAN_CUDA, after
// dcgan_model_to_cuda) their GPU twins in m->dev. The forward and backward
// passes and the Adam step below are written once over this struct, and
// DCGAN__RUN calls each layer function or its _cuda twin (section 16), which
// take the same arguments.
typedef struct {
    float *params, *grads, *adam_m, *adam_v, *buffers, *acts, *dacts, *saved, *work;
    size_t n_work;
    int gpu;
} dcgan__model_mem;

static dcgan__model_mem dcgan__host_mem(dcgan_model *m) {
    dcgan__model_mem mem = {m->params, m->grads, m->adam_m, m->adam_v, m->buffers,
                            m->acts, m->dacts, m->saved, m->work, m->n_work, 0};
    return mem;
}

#ifdef DCGAN_CUDA
static dcgan__model_mem dcgan__device_mem(dcgan_model *m) {
    dcgan__model_mem mem = {m->dev.params, m->dev.grads, m->dev.adam_m, m->dev.adam_v,
                            m->dev.buffers, m->dev.acts, m->dev.dacts, m->dev.saved,
                            m->dev.work, m->dev.n_work, 1};
    return mem;
}
#define DCGAN__RUN(mem, fn, args) ((mem)->gpu ? fn##_cuda args : fn args)
#else
#define DCGAN__RUN(mem, fn, args) ((void)(mem), fn args)
#endif

static dcgan_batchnorm2d dcgan__layer_batchnorm2d(const dcgan_layer *L, const dcgan__model_mem *mem) {
    dcgan_batchnorm2d bn;
    bn.gamma = mem->params + L->weight_offset;
    bn.beta = mem->params + L->bias_offset;
    bn.running_mean = mem->buffers + L->stats_offset;
    bn.running_var = mem->buffers + L->stats_offset + (size_t)L->in_c;
    bn.save_mean = mem->saved + L->saved_offset;
    bn.save_invstd = mem->saved + L->saved_offset + (size_t)L->in_c;
    bn.channels = L->in_c;
    bn.eps = L->spec.eps;
    bn.momentum = L->spec.momentum;
    bn.saved_training = L->saved_training;
    return bn;
}

// -----------------------------------------------------------------------------
// The layer table: one row per kind, in dcgan_layer_kind's order. Everything
// the container does differently for a kind is in its row: how it plans
// (output shape, weights, running statistics, values saved for backward,
// scratch), runs forward and backward (on the CPU or, through DCGAN__RUN, on
// the GPU twins), the PyTorch shape of its weight, its own weight
// initialisation if the framework's fan rule does not apply, and whether it may
// write its output over its input. The model functions below only read rows.

// In-place rules (dcgan__in_place): never; always (the output is the input,
// relabelled); or when the layer before reads only its own input in backward.
enum { DCGAN__IN_PLACE_NEVER, DCGAN__IN_PLACE_ALWAYS, DCGAN__IN_PLACE_AFTER_INPUT_READER };

typedef struct {
    const char *name;   // in messages
    // Output shape from L->in_*, weight/bias/stats counts, saved counts, and
    // *work raised to the scratch it needs; index names it in messages.
    dcgan_status (*plan)(dcgan_layer *L, int index, int max_batch, size_t *work);
    // slot x -> slot y; func and index name the caller in messages.
    dcgan_status (*forward)(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                            int training, dcgan_rng *rng, int index, const char *func);
    // Adds into dx (or sets it: backward_sets_dx below; dx.data NULL: not
    // wanted, only called then when the layer has parameters), dw and db
    // (NULL: not wanted); x is the input, y the output.
    dcgan_status (*backward)(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx, float *dw,
                             float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y);
    // The PyTorch shape of the weight, its number of dimensions (NULL: none).
    int (*weight_shape)(const dcgan_layer *L, int shape[4]);
    // Its own initialisation of weight, bias and running statistics (NULL:
    // the fan-based rules of dcgan_model_init_weights); weight NULL = at
    // dcgan_model_init, where only the running statistics are set.
    void (*init)(const dcgan_layer *L, float *weight, float *bias, float *stats, dcgan_init_mode mode,
                 dcgan_rng *rng);
    // DCGAN__IN_PLACE_* for this layer's spec
    int (*in_place)(const dcgan_layer_spec *s);
    // 1: its backward reads its input only, never its output (so a next
    // activation may overwrite the output in place)
    int backward_reads_input_only;
    // names of its running statistics in checkpoints (stats_count / 2 floats each)
    const char *stats_names[2];
    // 1: on the host its backward sets dx instead of adding into it (so the
    // model does not zero dx first; its _cuda twin adds, and gets zeros)
    int backward_sets_dx;
} dcgan__layer_ops;

static int dcgan__in_place_always(const dcgan_layer_spec *s) {
    (void)s;
    return DCGAN__IN_PLACE_ALWAYS;
}
static int dcgan__in_place_activation(const dcgan_layer_spec *s) {
    (void)s;
    return DCGAN__IN_PLACE_AFTER_INPUT_READER;
}
// LeakyReLU's backward tests x > 0; on its output y that is the same test only
// when the slope is not negative.
static int dcgan__in_place_leaky(const dcgan_layer_spec *s) {
    return s->slope >= 0.0f ? DCGAN__IN_PLACE_AFTER_INPUT_READER : DCGAN__IN_PLACE_NEVER;
}

// A plan's refusal: every kind's plan speaks as dcgan__layer_plan.
#define DCGAN__PLAN_FAIL(...) dcgan__fail(DCGAN_ERR_SHAPE, "layer_plan", __VA_ARGS__)

// --- linear
static dcgan_status dcgan__linear_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    const dcgan_layer_spec *s = &L->spec;
    (void)max_batch, (void)work;
    if (s->out_channels <= 0)
        return DCGAN__PLAN_FAIL("layer %d: linear needs out_features > 0", index);
    L->out_c = s->out_channels;
    L->out_h = L->out_w = 1;
    L->weight_count = dcgan__mul_sat((size_t)s->out_channels, (size_t)L->in_c * L->in_h * L->in_w);
    L->bias_count = s->bias ? (size_t)s->out_channels : 0;
    return DCGAN_OK;
}
static dcgan_status dcgan__linear_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                      int training, dcgan_rng *rng, int index, const char *func) {
    (void)training, (void)rng, (void)index, (void)func;
    dcgan_linear lin = dcgan__layer_linear(L, mem->params);
    return DCGAN__RUN(mem, dcgan_linear_forward, (y, x, &lin));
}
static dcgan_status dcgan__linear_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                      float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)y;
    dcgan_linear lin = dcgan__layer_linear(L, mem->params);
    return DCGAN__RUN(mem, dcgan_linear_backward, (dx, dw, db, dy, x, &lin));
}
static int dcgan__linear_shape(const dcgan_layer *L, int shape[4]) {   // (OUT, IN)
    shape[0] = L->out_c;
    shape[1] = L->in_c * L->in_h * L->in_w;
    return 2;
}

// --- conv2d and conv_transpose2d: one geometry
static dcgan_status dcgan__conv_plan(dcgan_layer *L, int index, int max_batch, size_t *work, int transposed) {
    const dcgan_layer_spec *s = &L->spec;
    const int C = L->in_c, H = L->in_h, W = L->in_w;
    if (s->out_channels <= 0 || s->kernel <= 0 || s->stride <= 0)
        return DCGAN__PLAN_FAIL("layer %d: conv needs OC, K, S > 0 (got %d, %d, %d)",
                           index, s->out_channels, s->kernel, s->stride);
    L->pad_top = s->pad_top, L->pad_bottom = s->pad_bottom;
    L->pad_left = s->pad_left, L->pad_right = s->pad_right;
    if (s->same && !transposed) {
        dcgan_same_padding(H, s->kernel, s->stride, &L->pad_top, &L->pad_bottom);
        dcgan_same_padding(W, s->kernel, s->stride, &L->pad_left, &L->pad_right);
    } else if (s->same) {
        // Keras makes H*S even when K < S, by filling the gaps between the
        // kernel's footprints with zeros; this library has no output padding
        if (s->kernel < s->stride)
            return DCGAN__PLAN_FAIL("layer %d: a 'same' transposed convolution needs kernel >= "
                               "stride (got kernel %d, stride %d)", index, s->kernel, s->stride);
        // the adjoint of a 'same' conv from (H*S) to H: crop what that conv padded
        if (H > INT_MAX / s->stride || W > INT_MAX / s->stride)
            return DCGAN__PLAN_FAIL("layer %d: input %dx%d times stride %d passes INT_MAX", index, H, W, s->stride);
        dcgan_same_padding(H * s->stride, s->kernel, s->stride, &L->pad_top, &L->pad_bottom);
        dcgan_same_padding(W * s->stride, s->kernel, s->stride, &L->pad_left, &L->pad_right);
    }
    L->out_c = s->out_channels;
    const long long oh = transposed
        ? dcgan__conv_transpose_out_ll(H, s->kernel, s->stride, L->pad_top, L->pad_bottom)
        : dcgan__conv_out_ll(H, s->kernel, s->stride, L->pad_top, L->pad_bottom);
    const long long ow = transposed
        ? dcgan__conv_transpose_out_ll(W, s->kernel, s->stride, L->pad_left, L->pad_right)
        : dcgan__conv_out_ll(W, s->kernel, s->stride, L->pad_left, L->pad_right);
    if (oh <= 0 || ow <= 0)
        return DCGAN__PLAN_FAIL("layer %d: input %dx%d gives an empty output", index, H, W);
    if (oh > INT_MAX || ow > INT_MAX)
        return DCGAN__PLAN_FAIL("layer %d: input %dx%d gives an output of %lldx%lld, a side above INT_MAX",
                                index, H, W, oh, ow);
    L->out_h = (int)oh;
    L->out_w = (int)ow;
    // (counts that pass SIZE_MAX saturate; dcgan__model_plan refuses them)
    const size_t KK = dcgan__mul_sat((size_t)s->kernel, (size_t)s->kernel);
    L->weight_count = dcgan__mul_sat(dcgan__mul_sat((size_t)s->out_channels, (size_t)C), KK);
    L->bias_count = s->bias ? (size_t)s->out_channels : 0;
    // scratch for as many images per matrix product as fit in DCGAN__WORK_CAP
    size_t per_image = transposed
        ? dcgan__mul_sat(dcgan__add_sat(dcgan__mul_sat((size_t)s->out_channels, KK), (size_t)C),
                         (size_t)H * W)
        : dcgan__mul_sat(dcgan__add_sat(dcgan__mul_sat((size_t)C, KK), (size_t)s->out_channels),
                         (size_t)L->out_h * L->out_w);
    size_t need = per_image * (size_t)dcgan__group(per_image, max_batch, DCGAN__WORK_CAP);
    if (need > *work) *work = need;
    return DCGAN_OK;
}
static dcgan_status dcgan__conv2d_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    return dcgan__conv_plan(L, index, max_batch, work, 0);
}
static dcgan_status dcgan__conv2d_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                      int training, dcgan_rng *rng, int index, const char *func) {
    (void)training, (void)rng, (void)index, (void)func;
    dcgan_conv2d conv = dcgan__layer_conv2d(L, mem->params);
    return DCGAN__RUN(mem, dcgan_conv2d_forward, (y, x, &conv, mem->work, mem->n_work));
}
static dcgan_status dcgan__conv2d_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                      float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)y;
    dcgan_conv2d conv = dcgan__layer_conv2d(L, mem->params);
#ifdef DCGAN_CUDA
    if (mem->gpu) return dcgan_conv2d_backward_cuda(dx, dw, db, dy, x, &conv, mem->work, mem->n_work);
#endif
    return dcgan__conv2d_backward(dx, dw, db, dy, x, &conv, mem->work, mem->n_work, 1);
}
static int dcgan__conv2d_shape(const dcgan_layer *L, int shape[4]) {   // (OC, C, K, K)
    shape[0] = L->out_c;
    shape[1] = L->in_c;
    shape[2] = shape[3] = L->spec.kernel;
    return 4;
}
static dcgan_status dcgan__conv_transpose2d_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    return dcgan__conv_plan(L, index, max_batch, work, 1);
}
static dcgan_status dcgan__conv_transpose2d_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y,
                                                dcgan_tensor x, int training, dcgan_rng *rng, int index,
                                                const char *func) {
    (void)training, (void)rng, (void)index, (void)func;
    dcgan_conv_transpose2d conv = dcgan__layer_conv2d(L, mem->params);
    return DCGAN__RUN(mem, dcgan_conv_transpose2d_forward, (y, x, &conv, mem->work, mem->n_work));
}
static dcgan_status dcgan__conv_transpose2d_bwd(const dcgan_layer *L, const dcgan__model_mem *mem,
                                                dcgan_tensor dx, float *dw, float *db, dcgan_tensor dy,
                                                dcgan_tensor x, dcgan_tensor y) {
    (void)y;
    dcgan_conv_transpose2d conv = dcgan__layer_conv2d(L, mem->params);
#ifdef DCGAN_CUDA
    if (mem->gpu) return dcgan_conv_transpose2d_backward_cuda(dx, dw, db, dy, x, &conv, mem->work, mem->n_work);
#endif
    return dcgan__conv_transpose2d_backward(dx, dw, db, dy, x, &conv, mem->work, mem->n_work, 1);
}
static int dcgan__conv_transpose2d_shape(const dcgan_layer *L, int shape[4]) {   // (C, OC, K, K)
    shape[0] = L->in_c;
    shape[1] = L->out_c;
    shape[2] = shape[3] = L->spec.kernel;
    return 4;
}

// --- upsample
static dcgan_status dcgan__upsample_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    (void)max_batch, (void)work;
    if (L->spec.scale <= 0) return DCGAN__PLAN_FAIL("layer %d: upsample scale must be > 0", index);
    if (L->in_h > INT_MAX / L->spec.scale || L->in_w > INT_MAX / L->spec.scale)
        return DCGAN__PLAN_FAIL("layer %d: upsample by %d makes %dx%d a side above INT_MAX", index,
                                L->spec.scale, L->in_h, L->in_w);
    L->out_h = L->in_h * L->spec.scale;
    L->out_w = L->in_w * L->spec.scale;
    return DCGAN_OK;
}
static dcgan_status dcgan__upsample_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                        int training, dcgan_rng *rng, int index, const char *func) {
    (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_upsample_forward, (y, x, L->spec.upsample_mode));
}
static dcgan_status dcgan__upsample_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                        float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)dw, (void)db, (void)x, (void)y;
    return DCGAN__RUN(mem, dcgan_upsample_backward, (dx, dy, L->spec.upsample_mode));
}

// --- batchnorm2d: gamma and beta as weight and bias, running mean and
// variance (2C floats of buffers), the batch's mean and 1/std saved (2C)
static dcgan_status dcgan__batchnorm2d_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    (void)index, (void)max_batch, (void)work;
    L->weight_count = L->bias_count = (size_t)L->in_c;
    L->stats_count = 2 * (size_t)L->in_c;
    L->saved_fixed = 2 * (size_t)L->in_c;
    return DCGAN_OK;
}
static dcgan_status dcgan__batchnorm2d_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y,
                                           dcgan_tensor x, int training, dcgan_rng *rng, int index,
                                           const char *func) {
    (void)rng, (void)index, (void)func;
    dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(L, mem);
    dcgan_status st = DCGAN__RUN(mem, dcgan_batchnorm2d_forward, (y, x, &bn, training));
    L->saved_training = bn.saved_training;
    return st;
}
static dcgan_status dcgan__batchnorm2d_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                           float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)y;
    dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(L, mem);
    return DCGAN__RUN(mem, dcgan_batchnorm2d_backward, (dx, dw, db, dy, x, &bn));
}
static int dcgan__batchnorm2d_shape(const dcgan_layer *L, int shape[4]) {   // (C)
    shape[0] = L->in_c;
    return 1;
}
// torch.nn.BatchNorm2d.reset_parameters (weight 1, bias 0) and
// reset_running_stats (mean 0, var 1); DCGAN: weight N(1, 0.02), the PyTorch
// DCGAN example's weights_init (Radford et al. say only "all weights N(0, 0.02)")
static void dcgan__batchnorm2d_init(const dcgan_layer *L, float *weight, float *bias, float *stats,
                                    dcgan_init_mode mode, dcgan_rng *rng) {
    for (int k = 0; k < L->in_c; k++) {
        if (weight) {
            weight[k] = mode == DCGAN_INIT_DCGAN ? 1.0f + 0.02f * dcgan_rng_normal(rng) : 1.0f;
            bias[k] = 0.0f;
        }
        stats[k] = 0.0f;
        stats[L->in_c + k] = 1.0f;
    }
}

// --- activations: elementwise, no parameters
static dcgan_status dcgan__no_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    (void)L, (void)index, (void)max_batch, (void)work;
    return DCGAN_OK;
}
static dcgan_status dcgan__leaky_relu_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y,
                                          dcgan_tensor x, int training, dcgan_rng *rng, int index,
                                          const char *func) {
    (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_leaky_relu_forward, (y.data, x.data, dcgan_tensor_numel(x), L->spec.slope));
}
static dcgan_status dcgan__leaky_relu_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                          float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)dw, (void)db, (void)y;
    return DCGAN__RUN(mem, dcgan_leaky_relu_backward,
                      (dx.data, dy.data, x.data, dcgan_tensor_numel(x), L->spec.slope));
}
static dcgan_status dcgan__relu_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                    int training, dcgan_rng *rng, int index, const char *func) {
    (void)L, (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_relu_forward, (y.data, x.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__relu_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx, float *dw,
                                    float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)L, (void)dw, (void)db, (void)y;
    return DCGAN__RUN(mem, dcgan_relu_backward, (dx.data, dy.data, x.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__tanh_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                    int training, dcgan_rng *rng, int index, const char *func) {
    (void)L, (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_tanh_forward, (y.data, x.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__tanh_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx, float *dw,
                                    float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)L, (void)dw, (void)db;
    return DCGAN__RUN(mem, dcgan_tanh_backward, (dx.data, dy.data, y.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__sigmoid_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                       int training, dcgan_rng *rng, int index, const char *func) {
    (void)L, (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_sigmoid_forward, (y.data, x.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__sigmoid_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                       float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)L, (void)dw, (void)db;
    return DCGAN__RUN(mem, dcgan_sigmoid_backward, (dx.data, dy.data, y.data, dcgan_tensor_numel(x)));
}

// --- dropout: its mask saved per sample
static dcgan_status dcgan__dropout_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    (void)max_batch, (void)work;
    if (L->spec.p < 0.0f || L->spec.p >= 1.0f)
        return DCGAN__PLAN_FAIL("layer %d: dropout p=%g is not in [0, 1)", index, (double)L->spec.p);
    L->saved_per_sample = (size_t)L->in_c * L->in_h * L->in_w;
    return DCGAN_OK;
}
static dcgan_status dcgan__dropout_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                       int training, dcgan_rng *rng, int index, const char *func) {
    (void)index, (void)func;   // (dcgan__model_forward checked the rng before any layer ran)
    DCGAN_ASSERT(!training || L->spec.p <= 0.0f || rng);
    return DCGAN__RUN(mem, dcgan_dropout_forward, (y.data, mem->saved + L->saved_offset, x.data,
                                                   dcgan_tensor_numel(x), L->spec.p, training, rng));
}
static dcgan_status dcgan__dropout_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                       float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)dw, (void)db, (void)y;
    return DCGAN__RUN(mem, dcgan_dropout_backward,
                      (dx.data, dy.data, mem->saved + L->saved_offset, dcgan_tensor_numel(x)));
}

// --- reshape (and flatten): the same floats, relabelled
static dcgan_status dcgan__reshape_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    const dcgan_layer_spec *s = &L->spec;
    const size_t in_size = (size_t)L->in_c * L->in_h * L->in_w;
    (void)max_batch, (void)work;
    if (s->reshape_c == -1) {   // flatten
        if (in_size > INT_MAX)
            return DCGAN__PLAN_FAIL("layer %d: flatten makes %zu features of %dx%dx%d, more than INT_MAX", index,
                                    in_size, L->in_c, L->in_h, L->in_w);
        L->out_c = (int)in_size;
        L->out_h = L->out_w = 1;
    } else {
        L->out_c = s->reshape_c;
        L->out_h = s->reshape_h;
        L->out_w = s->reshape_w;
    }
    if (L->out_c <= 0 || L->out_h <= 0 || L->out_w <= 0 || (size_t)L->out_c * L->out_h * L->out_w != in_size)
        return DCGAN__PLAN_FAIL("layer %d: cannot reshape %dx%dx%d to %dx%dx%d", index, L->in_c,
                           L->in_h, L->in_w, L->out_c, L->out_h, L->out_w);
    return DCGAN_OK;
}
static dcgan_status dcgan__reshape_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y, dcgan_tensor x,
                                       int training, dcgan_rng *rng, int index, const char *func) {
    (void)L, (void)training, (void)rng, (void)index, (void)func;
    return DCGAN__RUN(mem, dcgan_vec_copy, (y.data, x.data, dcgan_tensor_numel(x)));
}
static dcgan_status dcgan__reshape_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                       float *dw, float *db, dcgan_tensor dy, dcgan_tensor x, dcgan_tensor y) {
    (void)L, (void)dw, (void)db, (void)y;
    return DCGAN__RUN(mem, dcgan_vec_add, (dx.data, dy.data, dcgan_tensor_numel(x)));
}

// --- gaussian noise: draws in training; its backward reads neither x nor y
static dcgan_status dcgan__gaussian_noise_plan(dcgan_layer *L, int index, int max_batch, size_t *work) {
    (void)max_batch, (void)work;
    if (!(L->spec.stddev >= 0.0f) || isinf(L->spec.stddev))
        return DCGAN__PLAN_FAIL("layer %d: gaussian_noise stddev=%g is not finite and >= 0", index,
                                (double)L->spec.stddev);
    return DCGAN_OK;
}
static dcgan_status dcgan__gaussian_noise_fwd(dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor y,
                                              dcgan_tensor x, int training, dcgan_rng *rng, int index,
                                              const char *func) {
    (void)index, (void)func;   // (dcgan__model_forward checked the rng before any layer ran)
    DCGAN_ASSERT(!training || L->spec.stddev <= 0.0f || rng);
    return DCGAN__RUN(mem, dcgan_gaussian_noise_forward,
                      (y.data, x.data, dcgan_tensor_numel(x), L->spec.stddev, training, rng));
}
static dcgan_status dcgan__gaussian_noise_bwd(const dcgan_layer *L, const dcgan__model_mem *mem, dcgan_tensor dx,
                                              float *dw, float *db, dcgan_tensor dy, dcgan_tensor x,
                                              dcgan_tensor y) {
    (void)L, (void)dw, (void)db, (void)y;
    return DCGAN__RUN(mem, dcgan_gaussian_noise_backward, (dx.data, dy.data, dcgan_tensor_numel(x)));
}

// The table. Columns: name, plan, forward, backward, weight shape, own init,
// in-place rule, backward reads only its input, running statistics' names,
// backward sets dx.
static const dcgan__layer_ops dcgan__layer_table[] = {
    {"linear", dcgan__linear_plan, dcgan__linear_fwd, dcgan__linear_bwd, dcgan__linear_shape, NULL, NULL, 1,
     {NULL, NULL}, 0},
    {"conv2d", dcgan__conv2d_plan, dcgan__conv2d_fwd, dcgan__conv2d_bwd, dcgan__conv2d_shape, NULL, NULL, 1,
     {NULL, NULL}, 1},
    {"conv_transpose2d", dcgan__conv_transpose2d_plan, dcgan__conv_transpose2d_fwd, dcgan__conv_transpose2d_bwd,
     dcgan__conv_transpose2d_shape, NULL, NULL, 1, {NULL, NULL}, 1},
    {"upsample", dcgan__upsample_plan, dcgan__upsample_fwd, dcgan__upsample_bwd, NULL, NULL, NULL, 1,
     {NULL, NULL}, 0},
    {"batchnorm2d", dcgan__batchnorm2d_plan, dcgan__batchnorm2d_fwd, dcgan__batchnorm2d_bwd,
     dcgan__batchnorm2d_shape, dcgan__batchnorm2d_init, NULL, 1, {"running_mean", "running_var"}, 0},
    {"leaky_relu", dcgan__no_plan, dcgan__leaky_relu_fwd, dcgan__leaky_relu_bwd, NULL, NULL, dcgan__in_place_leaky,
     0, {NULL, NULL}, 0},
    {"relu", dcgan__no_plan, dcgan__relu_fwd, dcgan__relu_bwd, NULL, NULL, dcgan__in_place_activation, 0,
     {NULL, NULL}, 0},
    {"tanh", dcgan__no_plan, dcgan__tanh_fwd, dcgan__tanh_bwd, NULL, NULL, dcgan__in_place_activation, 0,
     {NULL, NULL}, 0},
    {"sigmoid", dcgan__no_plan, dcgan__sigmoid_fwd, dcgan__sigmoid_bwd, NULL, NULL, dcgan__in_place_activation, 0,
     {NULL, NULL}, 0},
    {"dropout", dcgan__dropout_plan, dcgan__dropout_fwd, dcgan__dropout_bwd, NULL, NULL, NULL, 0, {NULL, NULL}, 0},
    {"reshape", dcgan__reshape_plan, dcgan__reshape_fwd, dcgan__reshape_bwd, NULL, NULL, dcgan__in_place_always, 0,
     {NULL, NULL}, 0},
    {"gaussian_noise", dcgan__gaussian_noise_plan, dcgan__gaussian_noise_fwd, dcgan__gaussian_noise_bwd, NULL, NULL,
     dcgan__in_place_activation, 1, {NULL, NULL}, 0},
};
#define DCGAN__LAYER_KINDS ((int)(sizeof dcgan__layer_table / sizeof dcgan__layer_table[0]))
// one row per kind: the build fails here when a kind has no row
typedef char dcgan__one_row_per_kind[DCGAN__LAYER_KINDS == DCGAN_LAYER_KIND_COUNT ? 1 : -1];

// The row of layer L (its kind was checked by dcgan__layer_plan).
static const dcgan__layer_ops *dcgan__ops(const dcgan_layer *L) {
    return &dcgan__layer_table[L->spec.kind];
}

// Works out one layer's output shape and sizes from its input shape (its
// row's plan), then places its parameters and running statistics after
// those of the layers before it. Saved values are placed by dcgan__model_plan.
static dcgan_status dcgan__layer_plan(dcgan_layer *L, int index, int max_batch, size_t *n_params,
                                      size_t *n_buffers, size_t *n_work) {
    if ((int)L->spec.kind < 0 || (int)L->spec.kind >= DCGAN__LAYER_KINDS)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: unknown layer kind %d", index, (int)L->spec.kind);
    L->out_c = L->in_c;
    L->out_h = L->in_h;
    L->out_w = L->in_w;
    dcgan_status st = dcgan__ops(L)->plan(L, index, max_batch, n_work);
    if (st != DCGAN_OK) return st;
    // what the container can place: saved values fixed or per sample (not both),
    // running statistics as two named tensors of equal length
    DCGAN_ASSERT(!(L->saved_fixed && L->saved_per_sample));
    DCGAN_ASSERT(L->stats_count % 2 == 0 && (!L->stats_count || dcgan__ops(L)->stats_names[1]));
    L->weight_offset = *n_params;
    *n_params = dcgan__add_sat(*n_params, L->weight_count);
    L->bias_offset = *n_params;
    *n_params = dcgan__add_sat(*n_params, L->bias_count);
    L->stats_offset = *n_buffers;
    *n_buffers = dcgan__add_sat(*n_buffers, L->stats_count);
    return DCGAN_OK;
}

DCGAN_API void dcgan_model_free(dcgan_model *m) {
#ifdef DCGAN_CUDA
    dcgan_model_free_cuda(m);   // the device twins too (NULL-safe)
#endif
    dcgan_sgemm_release();
    dcgan_free(m->layers);
    dcgan_free(m->params);
    dcgan_free(m->grads);
    dcgan_free(m->adam_m);
    dcgan_free(m->adam_v);
    dcgan_free(m->buffers);
    dcgan_free(m->acts);
    if (!m->dacts_borrowed) dcgan_free(m->dacts);
    dcgan_free(m->slot_offset);
    dcgan_free(m->saved);
    dcgan_free(m->work);
    memset(m, 0, sizeof *m);
}

// Whether layer i writes its output over its input (slots i and i+1 share
// memory), which saves a whole activation of the batch. Safe when nothing
// reads the input afterwards: a reshape only relabels the floats; an
// activation whose backward can read its output instead of its input (tanh
// and sigmoid use the output; ReLU and LeakyReLU with slope >= 0 test
// x > 0, the same as y > 0) may overwrite the output of a layer whose own
// backward reads only its input (linear, convolutions, BatchNorm, upsample,
// Gaussian noise: the rows whose backward_reads_input_only is 1 in the table).
// PyTorch does the same with inplace=True activations.
static int dcgan__in_place(const dcgan_layer *layers, int i) {
    if (i < 1) return 0;   // slot 0 is the caller's input
    const dcgan__layer_ops *ops = dcgan__ops(&layers[i]);
    const int rule = ops->in_place ? ops->in_place(&layers[i].spec) : DCGAN__IN_PLACE_NEVER;
    return rule == DCGAN__IN_PLACE_ALWAYS ||
           (rule == DCGAN__IN_PLACE_AFTER_INPUT_READER && dcgan__ops(&layers[i - 1])->backward_reads_input_only);
}

// The plan of a model: layers, shapes, offsets and every buffer's length, in
// *tmp (only its small layers and slot_offset arrays are allocated), with the
// activation floats in *act_total. dcgan_model_init allocates from it;
// dcgan_model_bytes only adds it up.
static dcgan_status dcgan__model_plan(dcgan_model *tmp, size_t *act_total, const char *prefix,
                                      const dcgan_layer_spec *specs, int n_layers, int in_c,
                                      int in_h, int in_w, int max_batch, const char *func) {
    size_t n_saved_per_sample = 0, n_saved_fixed = 0;
    memset(tmp, 0, sizeof *tmp);
    if (n_layers <= 0 || in_c <= 0 || in_h <= 0 || in_w <= 0 || max_batch <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "need layers and a positive input shape and batch, "
                           "got %d layers, input %dx%dx%d, batch %d",
                           n_layers, in_c, in_h, in_w, max_batch);
    snprintf(tmp->prefix, sizeof tmp->prefix, "%s", prefix ? prefix : "main");
    tmp->n_layers = n_layers;
    tmp->in_c = in_c;
    tmp->in_h = in_h;
    tmp->in_w = in_w;
    tmp->max_batch = max_batch;
    tmp->layers = (dcgan_layer *)dcgan__calloc((size_t)n_layers, sizeof(dcgan_layer));
    tmp->slot_offset = (size_t *)dcgan__calloc((size_t)n_layers + 2, sizeof(size_t));
    if (!tmp->layers || !tmp->slot_offset) {
        dcgan_model_free(tmp);
        return dcgan__fail(DCGAN_ERR_NOMEM, func, "no memory for %d layers", n_layers);
    }
    int c = in_c, h = in_h, w = in_w;
    tmp->slot_offset[0] = 0;
    *act_total = dcgan__mul_sat((size_t)max_batch, dcgan__mul_sat((size_t)c * h, (size_t)w));
    tmp->dslot = *act_total;
    if (*act_total > DCGAN__FLOATS_MAX) {   // (the plans below multiply the input's sides)
        dcgan_model_free(tmp);
        return dcgan__fail(DCGAN_ERR_NOMEM, func, "the input (%dx%dx%d, batch %d) needs more than %.3g floats", c, h,
                           w, max_batch, (double)DCGAN__FLOATS_MAX);
    }
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp->layers[i];
        L->spec = specs[i];
        L->in_c = c;
        L->in_h = h;
        L->in_w = w;
        dcgan_status st = dcgan__as(dcgan__layer_plan(L, i, max_batch, &tmp->n_params, &tmp->n_buffers, &tmp->n_work),
                                    func);
        if (st != DCGAN_OK) {
            dcgan_model_free(tmp);
            return st;
        }
        c = L->out_c;
        h = L->out_h;
        w = L->out_w;
        const size_t slot = dcgan__mul_sat((size_t)max_batch, dcgan__mul_sat((size_t)c * h, (size_t)w));
        if (dcgan__in_place(tmp->layers, i)) {
            tmp->slot_offset[i + 1] = tmp->slot_offset[i];
        } else {
            tmp->slot_offset[i + 1] = *act_total;
            *act_total = dcgan__add_sat(*act_total, slot);
        }
        if (slot > tmp->dslot) tmp->dslot = slot;
        // every count a buffer is allocated from, before their sum in bytes could wrap
        if (*act_total > DCGAN__FLOATS_MAX || tmp->n_params > DCGAN__FLOATS_MAX ||
            tmp->n_buffers > DCGAN__FLOATS_MAX || tmp->n_work > DCGAN__FLOATS_MAX ||
            dcgan__mul_sat(L->saved_per_sample, (size_t)max_batch) > DCGAN__FLOATS_MAX) {
            dcgan_model_free(tmp);
            return dcgan__fail(DCGAN_ERR_NOMEM, func, "layer %d (output %dx%dx%d, batch %d): the model's buffers up to "
                               "here need more than %.3g floats", i, c, h, w, max_batch, (double)DCGAN__FLOATS_MAX);
        }
    }
    tmp->slot_offset[n_layers + 1] = *act_total;
    // Values kept from forward for backward: the fixed ones (BatchNorm's
    // statistics) first, then those that scale with the batch (dropout masks).
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp->layers[i];
        if (L->saved_fixed) L->saved_offset = n_saved_fixed;
        n_saved_fixed += L->saved_fixed;
    }
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp->layers[i];
        if (L->saved_per_sample) L->saved_offset = n_saved_fixed + n_saved_per_sample * (size_t)max_batch;
        n_saved_per_sample += L->saved_per_sample;
    }
    tmp->n_saved = n_saved_fixed + n_saved_per_sample * (size_t)max_batch;
    return DCGAN_OK;
}

// Floats of every buffer of a planned model.
static size_t dcgan__model_floats(const dcgan_model *tmp, size_t act_total) {
    return 4 * tmp->n_params + tmp->n_buffers + act_total + 2 * tmp->dslot + tmp->n_saved + tmp->n_work;
}

// dcgan_model_bytes, the floats of one half of the model's dacts, and the
// model's parameter and running-statistic counts (params, buffers may be NULL).
static dcgan_status dcgan__model_bytes(const char *func, size_t *bytes, size_t *dslot, size_t *params, size_t *buffers,
                                       const dcgan_layer_spec *specs, int n_layers, int in_c,
                                       int in_h, int in_w, int max_batch) {
    dcgan_model tmp;
    size_t act_total = 0;
    dcgan_status st = dcgan__model_plan(&tmp, &act_total, NULL, specs, n_layers, in_c, in_h, in_w, max_batch, func);
    if (st != DCGAN_OK) return st;
    *bytes = dcgan__model_floats(&tmp, act_total) * sizeof(float) +
             (size_t)n_layers * sizeof(dcgan_layer) + ((size_t)n_layers + 2) * sizeof(size_t);
    *dslot = tmp.dslot;
    if (params) *params = tmp.n_params;
    if (buffers) *buffers = tmp.n_buffers;
    dcgan_model_free(&tmp);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_model_bytes(size_t *bytes, const dcgan_layer_spec *specs, int n_layers,
                                         int in_c, int in_h, int in_w, int max_batch) {
    size_t dslot;
    return dcgan__model_bytes(__func__, bytes, &dslot, NULL, NULL, specs, n_layers, in_c, in_h, in_w, max_batch);
}

DCGAN_API dcgan_status dcgan_model_share_dacts(dcgan_model *owner, dcgan_model *borrower) {
    if (owner == borrower || owner->dacts_borrowed || borrower->dacts_borrowed)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "models '%s' and '%s': one of them already shares its dacts "
                           "(or they are the same model)", owner->prefix, borrower->prefix);
    const size_t need = 2 * (owner->dslot > borrower->dslot ? owner->dslot : borrower->dslot);
    if (owner->n_dacts < need) {
        float *bigger = (float *)dcgan__calloc(need, sizeof(float));
        if (!bigger)
            return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %zu MiB of shared dacts",
                               need * sizeof(float) >> 20);
        dcgan_free(owner->dacts);
        owner->dacts = bigger;
        owner->n_dacts = need;
    }
    dcgan_free(borrower->dacts);
    borrower->dacts = owner->dacts;
    borrower->n_dacts = owner->n_dacts;
    borrower->dacts_borrowed = 1;
    return DCGAN_OK;
}

// dcgan_model_init; with_dacts 0 leaves dacts NULL for a model that will
// borrow another's (dcgan_gan_init): memset touches every page, so
// allocating it and freeing it at once would still raise the peak.
static dcgan_status dcgan__model_init(dcgan_model *m, const char *prefix, const dcgan_layer_spec *specs,
                                      int n_layers, int in_c, int in_h, int in_w, int max_batch,
                                      int with_dacts) {
    dcgan_model tmp;
    size_t act_total = 0;
    memset(m, 0, sizeof *m);
    dcgan_status st = dcgan__model_plan(&tmp, &act_total, prefix, specs, n_layers, in_c, in_h, in_w,
                                        max_batch, "dcgan_model_init");
    if (st != DCGAN_OK) return st;
    const size_t n_saved = tmp.n_saved;
    tmp.params = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.grads = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.adam_m = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.adam_v = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.buffers = (float *)dcgan__calloc(tmp.n_buffers, sizeof(float));
    tmp.acts = (float *)dcgan__calloc(act_total, sizeof(float));
    tmp.dacts = with_dacts ? (float *)dcgan__calloc(2 * tmp.dslot, sizeof(float)) : NULL;
    tmp.n_dacts = with_dacts ? 2 * tmp.dslot : 0;
    tmp.saved = (float *)dcgan__calloc(n_saved, sizeof(float));
    tmp.n_saved = n_saved;
    tmp.work = (float *)dcgan__calloc(tmp.n_work, sizeof(float));
    if (!tmp.params || !tmp.grads || !tmp.adam_m || !tmp.adam_v || !tmp.buffers || !tmp.acts ||
        (with_dacts && !tmp.dacts) || !tmp.saved || !tmp.work) {
        size_t total = dcgan__model_floats(&tmp, act_total);
        dcgan_model_free(&tmp);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the model (%zu MiB)",
                           total * sizeof(float) >> 20);
    }
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp.layers[i];
        if (dcgan__ops(L)->init)   // running statistics only (no weight)
            dcgan__ops(L)->init(L, NULL, NULL, tmp.buffers + L->stats_offset, DCGAN_INIT_PYTORCH, NULL);
    }
    *m = tmp;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_model_init(dcgan_model *m, const char *prefix,
                                        const dcgan_layer_spec *specs, int n_layers,
                                        int in_c, int in_h, int in_w, int max_batch) {
    return dcgan__model_init(m, prefix, specs, n_layers, in_c, in_h, in_w, max_batch, 1);
}

// Fills n values from U(-bound, bound).
static void dcgan__fill_uniform(dcgan_rng *rng, float *p, size_t n, float bound) {
    dcgan_rng_fill_uniform(rng, p, n, -bound, bound);
}

// The PyTorch shape of layer L's weight (BatchNorm: gamma), from its row;
// returns its number of dimensions, 0 for a layer without weights.
// dcgan_model_tensor_info reports it, dcgan_model_init_weights takes the fans from it.
static int dcgan__weight_shape(const dcgan_layer *L, int shape[4]) {
    const dcgan__layer_ops *ops = dcgan__ops(L);
    return ops->weight_shape ? ops->weight_shape(L, shape) : 0;
}

DCGAN_API void dcgan_model_init_weights(dcgan_model *m, dcgan_init_mode mode, dcgan_rng *rng) {
    memset(m->grads, 0, m->n_params * sizeof(float));
    memset(m->adam_m, 0, m->n_params * sizeof(float));
    memset(m->adam_v, 0, m->n_params * sizeof(float));
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        float *wgt = m->params + L->weight_offset;
        float *bias = m->params + L->bias_offset;
        int shape[4];
        const int ndim = dcgan__weight_shape(L, shape);
        if (dcgan__ops(L)->init) {   // the layer's own rule (BatchNorm)
            dcgan__ops(L)->init(L, wgt, bias, m->buffers + L->stats_offset, mode, rng);
            continue;
        }
        if (ndim < 2) continue;
        // torch.nn.init._calculate_fan_in_and_fan_out: fan_in = shape[1] * receptive
        // field, fan_out = shape[0] * receptive field (a transposed convolution's
        // weight is (C, OC, K, K), so its fan_in counts OC)
        float receptive = 1.0f;
        for (int d = 2; d < ndim; d++) receptive *= (float)shape[d];
        const float fan_in = (float)shape[1] * receptive, fan_out = (float)shape[0] * receptive;
        if (mode == DCGAN_INIT_PYTORCH) {
            // kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fan_in); the bias uses the same
            float bound = 1.0f / sqrtf(fan_in);
            dcgan__fill_uniform(rng, wgt, L->weight_count, bound);
            dcgan__fill_uniform(rng, bias, L->bias_count, bound);
        } else if (mode == DCGAN_INIT_KERAS) {
            // glorot_uniform: limit = sqrt(6 / (fan_in + fan_out)); biases zero
            dcgan__fill_uniform(rng, wgt, L->weight_count, sqrtf(6.0f / (fan_in + fan_out)));
            memset(bias, 0, L->bias_count * sizeof(float));
        } else {
            dcgan_rng_fill_normal(rng, wgt, L->weight_count, 0.0f, 0.02f);
            memset(bias, 0, L->bias_count * sizeof(float));
        }
    }
}

// Slot i of the activation memory (0: input, i+1: output of layer i) as an
// (N, C, H, W) view for the current batch.
static dcgan_tensor dcgan__slot(const dcgan_model *m, float *base, int slot) {
    int c = m->in_c, h = m->in_h, w = m->in_w;
    if (slot > 0) {
        const dcgan_layer *L = &m->layers[slot - 1];
        c = L->out_c;
        h = L->out_h;
        w = L->out_w;
    }
    return dcgan_tensor_make(base + m->slot_offset[slot], m->batch, c, h, w);
}

// Layer i's forward, slot i -> slot i + 1, on the CPU or the GPU (mem).
static dcgan_status dcgan__layer_forward(dcgan_model *m, int i, const dcgan__model_mem *mem,
                                         int training, dcgan_rng *rng, const char *func) {
    dcgan_layer *L = &m->layers[i];
    dcgan_tensor x = dcgan__slot(m, mem->acts, i), y = dcgan__slot(m, mem->acts, i + 1);
    return dcgan__ops(L)->forward(L, mem, y, x, training, rng, i, func);
}

// Whether layers i and i + 1 run as one (dcgan__batchnorm2d_act_forward and
// _backward): a BatchNorm and a ReLU or LeakyReLU that overwrites its output
// in place. One pass instead of two over the activation forward, and in
// backward no pass of the activation, no zeroed gradient between the two
// layers, and BatchNorm's input gradient written over the activation's output
// gradient (the same half of dacts). The GPU runs the layers one by one.
static int dcgan__bn_act_fused(const dcgan_model *m, const dcgan__model_mem *mem, int i) {
    if (mem->gpu || i < 0 || i + 1 >= m->n_layers || m->layers[i].spec.kind != DCGAN_LAYER_BATCHNORM2D)
        return 0;
    const dcgan_layer_kind act = m->layers[i + 1].spec.kind;
    return (act == DCGAN_LAYER_RELU || act == DCGAN_LAYER_LEAKY_RELU) && dcgan__in_place(m->layers, i + 1);
}

// The forward pass of dcgan_model_forward and dcgan_model_forward_cuda; func
// names the caller in messages.
static dcgan_status dcgan__model_forward(dcgan_model *m, const dcgan__model_mem *mem, dcgan_tensor inp,
                                         int training, dcgan_rng *rng, const char *func) {
    dcgan_status st;
    // (any (C, H, W) with the model's number of values per image; counted in
    // size_t, as a product of ints could wrap onto the right number)
    if (inp.n <= 0 || inp.n > m->max_batch || inp.c <= 0 || inp.h <= 0 || inp.w <= 0 ||
        dcgan__mul_sat(dcgan__mul_sat((size_t)inp.c, (size_t)inp.h), (size_t)inp.w) !=
            (size_t)m->in_c * m->in_h * m->in_w)
        return dcgan__fail(DCGAN_ERR_SHAPE, func,
                           "inp is (%d,%d,%d,%d), model '%s' takes up to %d x (%d,%d,%d)", inp.n,
                           inp.c, inp.h, inp.w, m->prefix, m->max_batch, m->in_c, m->in_h, m->in_w);
    // What a layer would refuse only when the pass reaches it is refused here,
    // before any layer runs: in training BatchNorm's running statistics move, so
    // a refusal midway would leave the model changed. Dropout and noise need an
    // rng; BatchNorm needs more than one value per channel.
    for (int i = 0; training && i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        const dcgan_layer_kind kind = L->spec.kind;
        if (!rng && ((kind == DCGAN_LAYER_DROPOUT && L->spec.p > 0.0f) ||
                     (kind == DCGAN_LAYER_GAUSSIAN_NOISE && L->spec.stddev > 0.0f)))
            return dcgan__fail(DCGAN_ERR_SHAPE, func, "layer %d: %s in training needs an rng", i,
                               kind == DCGAN_LAYER_DROPOUT ? "dropout" : "gaussian_noise");
        if (kind == DCGAN_LAYER_BATCHNORM2D && (size_t)inp.n * L->in_h * L->in_w < 2)
            return dcgan__fail(DCGAN_ERR_SHAPE, func,
                               "layer %d: batchnorm2d in training needs more than 1 value per channel, got %zu", i,
                               (size_t)inp.n * L->in_h * L->in_w);
    }
    m->batch = inp.n;
    if (inp.data != mem->acts &&
        (st = DCGAN__RUN(mem, dcgan_vec_copy, (mem->acts, inp.data, dcgan_tensor_numel(inp)))) != DCGAN_OK)
        return st;
    for (int i = 0; i < m->n_layers; i++) {
        if (dcgan__bn_act_fused(m, mem, i)) {   // BatchNorm i, its activation i + 1 in place
            dcgan_layer *L = &m->layers[i];
            dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(L, mem);
            st = dcgan__batchnorm2d_act_forward(dcgan__slot(m, mem->acts, i + 1), dcgan__slot(m, mem->acts, i),
                                                &bn, training, m->layers[i + 1].spec.kind,
                                                m->layers[i + 1].spec.slope);
            L->saved_training = bn.saved_training;
            if (st != DCGAN_OK) return st;
            i++;
            continue;
        }
        if ((st = dcgan__layer_forward(m, i, mem, training, rng, func)) != DCGAN_OK) return st;
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_model_forward(dcgan_model *m, dcgan_tensor inp, int training,
                                           dcgan_rng *rng) {
    dcgan__model_mem mem = dcgan__host_mem(m);
    return dcgan__model_forward(m, &mem, inp, training, rng, __func__);
}

DCGAN_API dcgan_tensor dcgan_model_output(const dcgan_model *m) {
    return dcgan__slot(m, m->acts, m->n_layers);
}

// The gradient of slot `slot` during backward: half slot % 2 of dacts.
static dcgan_tensor dcgan__dslot(const dcgan_model *m, const dcgan__model_mem *mem, int slot) {
    dcgan_tensor t = dcgan__slot(m, mem->dacts, slot);
    t.data = mem->dacts + (size_t)(slot % 2) * m->dslot;
    return t;
}

// Layer i's backward: adds into dx (slot i's gradient; sets it where the kind's
// backward_sets_dx says so; dx.data NULL: not wanted) and, with params, into
// the layer's weight and bias gradients.
static dcgan_status dcgan__layer_backward(dcgan_model *m, int i, const dcgan__model_mem *mem,
                                          dcgan_tensor dx, int params) {
    const dcgan_layer *L = &m->layers[i];
    dcgan_tensor x = dcgan__slot(m, mem->acts, i), y = dcgan__slot(m, mem->acts, i + 1);
    dcgan_tensor dy = dcgan__dslot(m, mem, i + 1);
    // where this layer's gradients go (NULL: skipped, see section 6)
    float *dw = params && L->weight_count ? mem->grads + L->weight_offset : NULL;
    float *db = params && L->bias_count ? mem->grads + L->bias_offset : NULL;
    if (!dx.data && !L->weight_count && !L->bias_count) return DCGAN_OK;   // nothing wanted of it
    return dcgan__ops(L)->backward(L, mem, dx, dw, db, dy, x, y);
}

// The backward pass of dcgan_model_backward (params 1) and
// dcgan_model_backward_input (params 0: no parameter gradients), and of their
// _cuda twins; func names the caller in messages.
static dcgan_status dcgan__model_backward(dcgan_model *m, const dcgan__model_mem *mem, const float *dout,
                                          float *dinp, int params, const char *func) {
    dcgan_status st;
    if (m->batch <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "model '%s': backward before any forward", m->prefix);
    // Only two slot gradients are alive at a time: layer i reads dy (slot i+1)
    // and adds into (or sets) dx (slot i). They alternate between the halves of dacts,
    // slot s in half s % 2, so dacts needs two slots, not all of them.
    const dcgan_tensor last = dcgan__dslot(m, mem, m->n_layers);
    if ((st = DCGAN__RUN(mem, dcgan_vec_copy, (last.data, dout, dcgan_tensor_numel(last)))) != DCGAN_OK)
        return st;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        if (dcgan__bn_act_fused(m, mem, i - 1)) {   // activation i over BatchNorm i - 1's output
            i--;
            const dcgan_layer *L = &m->layers[i];
            const dcgan_layer *A = &m->layers[i + 1];
            // dx (slot i) and dy (slot i + 2) are the same half of dacts: written, not added
            dcgan_tensor dx = dcgan__dslot(m, mem, i), dy = dcgan__dslot(m, mem, i + 2);
            if (i == 0 && !dinp) dx.data = NULL;
            if (!dx.data && !params) continue;
            dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(L, mem);
            st = dcgan__batchnorm2d_act_backward(dx, params ? mem->grads + L->weight_offset : NULL,
                                                 params ? mem->grads + L->bias_offset : NULL, dy,
                                                 dcgan__slot(m, mem->acts, i + 2), dcgan__slot(m, mem->acts, i),
                                                 &bn, A->spec.kind, A->spec.slope, 0);
            if (st != DCGAN_OK) return st;
            continue;
        }
        dcgan_tensor dx = dcgan__dslot(m, mem, i);
        if (i == 0 && !dinp) dx.data = NULL;   // nobody wants the input gradient
        else if ((mem->gpu || !dcgan__ops(&m->layers[i])->backward_sets_dx) &&
                 (st = DCGAN__RUN(mem, dcgan_vec_zero, (dx.data, dcgan_tensor_numel(dx)))) != DCGAN_OK)
            return st;                         // the other layers add into dx
        if ((st = dcgan__layer_backward(m, i, mem, dx, params)) != DCGAN_OK) return st;
    }
    if (!dinp) return DCGAN_OK;
    // slot 0 is in half 0
    const size_t n_inp = (size_t)m->batch * m->in_c * m->in_h * m->in_w;
    return DCGAN__RUN(mem, dcgan_vec_add, (dinp, mem->dacts, n_inp));
}

DCGAN_API dcgan_status dcgan_model_backward(dcgan_model *m, const float *dout, float *dinp) {
    dcgan__model_mem mem = dcgan__host_mem(m);
    return dcgan__model_backward(m, &mem, dout, dinp, 1, __func__);
}

DCGAN_API dcgan_status dcgan_model_backward_input(dcgan_model *m, const float *dout, float *dinp) {
    dcgan__model_mem mem = dcgan__host_mem(m);
    if (!dinp)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "model '%s': dinp is NULL (nothing to compute)", m->prefix);
    return dcgan__model_backward(m, &mem, dout, dinp, 0, __func__);
}

DCGAN_API dcgan_status dcgan_model_zero_grad(dcgan_model *m) {
    dcgan__zero(m->grads, m->n_params);
    return DCGAN_OK;
}

static dcgan_status dcgan__model_adam_step(dcgan_model *m, const dcgan__model_mem *mem, dcgan_adam *opt,
                                           const char *func) {
    dcgan_status st = DCGAN__RUN(mem, dcgan_adam_step, (opt, mem->params, mem->grads, mem->adam_m,
                                                        mem->adam_v, m->n_params));
    if (st != DCGAN_OK) return dcgan__fail_wrap(st, func, "model '%s'", m->prefix);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_model_adam_step(dcgan_model *m, dcgan_adam *opt) {
    dcgan__model_mem mem = dcgan__host_mem(m);
    return dcgan__model_adam_step(m, &mem, opt, __func__);
}

#ifdef DCGAN_CUDA
// The same passes on the GPU twins (dcgan_model_to_cuda made them); inp,
// dout and dinp are device pointers.
static dcgan_status dcgan__on_device(const dcgan_model *m, const char *func) {
    if (m->on_device) return DCGAN_OK;
    return dcgan__fail(DCGAN_ERR_CUDA, func, "model '%s' is not on the GPU", m->prefix);
}

DCGAN_API dcgan_status dcgan_model_forward_cuda(dcgan_model *m, dcgan_tensor inp, int training,
                                                dcgan_rng *rng) {
    dcgan__model_mem mem = dcgan__device_mem(m);
    dcgan_status st = dcgan__on_device(m, __func__);
    return st != DCGAN_OK ? st : dcgan__model_forward(m, &mem, inp, training, rng, __func__);
}

DCGAN_API dcgan_status dcgan_model_backward_cuda(dcgan_model *m, const float *dout, float *dinp) {
    dcgan__model_mem mem = dcgan__device_mem(m);
    dcgan_status st = dcgan__on_device(m, __func__);
    return st != DCGAN_OK ? st : dcgan__model_backward(m, &mem, dout, dinp, 1, __func__);
}

DCGAN_API dcgan_status dcgan_model_backward_input_cuda(dcgan_model *m, const float *dout, float *dinp) {
    dcgan__model_mem mem = dcgan__device_mem(m);
    dcgan_status st = dcgan__on_device(m, __func__);
    if (st == DCGAN_OK && !dinp)
        st = DCGAN__FAIL(DCGAN_ERR_SHAPE, "model '%s': dinp is NULL (nothing to compute)", m->prefix);
    return st != DCGAN_OK ? st : dcgan__model_backward(m, &mem, dout, dinp, 0, __func__);
}

DCGAN_API dcgan_status dcgan_model_zero_grad_cuda(dcgan_model *m) {
    dcgan_status st = dcgan__on_device(m, __func__);
    return st != DCGAN_OK ? st : dcgan_vec_zero_cuda(m->dev.grads, m->n_params);
}

DCGAN_API dcgan_status dcgan_model_adam_step_cuda(dcgan_model *m, dcgan_adam *opt) {
    dcgan__model_mem mem = dcgan__device_mem(m);
    dcgan_status st = dcgan__on_device(m, __func__);
    return st != DCGAN_OK ? st : dcgan__model_adam_step(m, &mem, opt, __func__);
}
#endif

DCGAN_API int dcgan_model_tensor_count(const dcgan_model *m) {
    int count = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        count += (L->weight_count > 0) + (L->bias_count > 0);
        if (L->stats_count) count += 2;   // two running statistics (BatchNorm's mean, var)
    }
    return count;
}

DCGAN_API dcgan_status dcgan_model_tensor_info(const dcgan_model *m, int index,
                                               dcgan_param_info *out) {
    int k = 0;
    dcgan_param_info one, *info = &one;   // (*out is written only when the tensor is found)
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        // up to four named tensors per layer, in state_dict order
        for (int part = 0; part < 4; part++) {
            const char *suffix = NULL;
            memset(info, 0, sizeof *info);
            if (part == 0 && L->weight_count) {
                suffix = "weight";
                info->offset = L->weight_offset;
                info->count = L->weight_count;
            } else if (part == 1 && L->bias_count) {
                suffix = "bias";
                info->offset = L->bias_offset;
                info->count = L->bias_count;
            } else if (part >= 2 && L->stats_count) {
                suffix = dcgan__ops(L)->stats_names[part - 2];
                info->is_buffer = 1;
                info->count = L->stats_count / 2;
                info->offset = L->stats_offset + (part == 3 ? info->count : 0);
            }
            if (!suffix) continue;
            if (k++ != index) continue;
            snprintf(info->name, sizeof info->name, "%s.%d.%s", m->prefix, i, suffix);
            info->data = (info->is_buffer ? m->buffers : m->params) + info->offset;
            info->ndim = 1;   // biases and statistics: (count)
            info->shape[0] = (int)info->count;
            if (part == 0) info->ndim = dcgan__weight_shape(L, info->shape);
            DCGAN_ASSERT(info->ndim > 0);
            *out = one;
            return DCGAN_OK;
        }
    }
    return DCGAN__FAIL(DCGAN_ERR_SHAPE, "tensor %d does not exist, model '%s' has %d", index,
                       m->prefix, k);
}

// -----------------------------------------------------------------------------
// 10. GAN: little-data augmentation, generator, discriminator, the training step

// --- DiffAugment: policy names, draws, forward and backward

static const struct { const char *name; int flag; } dcgan__aug_words[] = {
    {"color", DCGAN_AUG_COLOR}, {"translation", DCGAN_AUG_TRANSLATION}, {"cutout", DCGAN_AUG_CUTOUT},
};

DCGAN_API dcgan_status dcgan_diffaug_parse(const char *policy, int *flags) {
    int bits = 0;
    const char *p = policy;
    if (strcmp(policy, "none") == 0) p = "";
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (int k = 0; k < 3; k++) {
            if (strlen(dcgan__aug_words[k].name) == len && strncmp(p, dcgan__aug_words[k].name, len) == 0) {
                bits |= dcgan__aug_words[k].flag;
                found = 1;
            }
        }
        if (!found)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "unknown augmentation '%.*s' in '%s' (color, "
                               "translation, cutout, comma-separated; or none)", (int)len, p, policy);
        p += len;
        if (*p == ',') p++;
    }
    *flags = bits;
    return DCGAN_OK;
}

DCGAN_API void dcgan_diffaug_name(int flags, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0) return;
    buf[0] = '\0';
    for (int k = 0; k < 3; k++) {
        if (!(flags & dcgan__aug_words[k].flag)) continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "", dcgan__aug_words[k].name);
        if (w < 0 || (size_t)w >= size - used) return;
        used += (size_t)w;
    }
    if (used == 0) snprintf(buf, size, "none");
}

// An integer uniform in [lo, hi] (the modulo's bias is below 2^-20 for these ranges).
static int dcgan__rng_int(dcgan_rng *rng, int lo, int hi) {
    return lo + (int)(dcgan_rng_u32(rng) % (uint32_t)(hi - lo + 1));
}

// One side of the cutout square: DiffAugment_pytorch.py draws the centre from
// [0, side + (1 - size % 2)) and covers centre - size/2 ... + size - 1, clipped.
static void dcgan__cutout_range(int side, int centre, int *lo, int *hi) {
    const int size = (int)(side * 0.5 + 0.5);
    int a = centre - size / 2, b = a + size;
    *lo = a < 0 ? 0 : a;
    *hi = b > side ? side : b;
}

DCGAN_API void dcgan_diffaug_sample(dcgan_aug_draw *draws, int n, int h, int w, int policy,
                                    float p, dcgan_rng *rng) {
    const int sy = (int)(h * 0.125 + 0.5), sx = (int)(w * 0.125 + 0.5);
    const int cut_h = (int)(h * 0.5 + 0.5), cut_w = (int)(w * 0.5 + 0.5);
    if (h < 1 || w < 1) policy = 0;   // no image to move or cut (a cutout centre in [0, w) would divide by 0)
    for (int i = 0; i < n; i++) {
        dcgan_aug_draw *d = &draws[i];
        memset(d, 0, sizeof *d);
        d->saturation = d->contrast = 1.0f;
        if (policy & DCGAN_AUG_COLOR) {
            int on = dcgan_rng_uniform(rng) < p;
            float u = dcgan_rng_uniform(rng);
            if (on) d->brightness = u - 0.5f;
            on = dcgan_rng_uniform(rng) < p;
            u = dcgan_rng_uniform(rng);
            if (on) d->saturation = 2.0f * u;
            on = dcgan_rng_uniform(rng) < p;
            u = dcgan_rng_uniform(rng);
            if (on) d->contrast = u + 0.5f;
        }
        if (policy & DCGAN_AUG_TRANSLATION) {
            int on = dcgan_rng_uniform(rng) < p;
            int tx = dcgan__rng_int(rng, -sx, sx), ty = dcgan__rng_int(rng, -sy, sy);
            if (on) {
                d->tx = tx;
                d->ty = ty;
            }
        }
        if (policy & DCGAN_AUG_CUTOUT) {
            int on = dcgan_rng_uniform(rng) < p;
            int cx = dcgan__rng_int(rng, 0, w - (cut_w % 2 == 0 ? 0 : 1));
            int cy = dcgan__rng_int(rng, 0, h - (cut_h % 2 == 0 ? 0 : 1));
            if (on) {
                dcgan__cutout_range(w, cx, &d->cut_x0, &d->cut_x1);
                dcgan__cutout_range(h, cy, &d->cut_y0, &d->cut_y1);
            }
        }
    }
}

// Whether output pixel (y, x) of an image reads a pixel of the input: inside
// after the shift, and not cut out. The pixel it reads is (y + ty, x + tx).
static int dcgan__aug_reads(const dcgan_aug_draw *d, int y, int x, int h, int w) {
    const int sy = y + d->ty, sx = x + d->tx;
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) return 0;
    return !(y >= d->cut_y0 && y < d->cut_y1 && x >= d->cut_x0 && x < d->cut_x1);
}

// The output columns of row y that read a pixel (dcgan__aug_reads), as two
// ranges [r[0], r[1]) and [r[2], r[3]) (either may be empty): the columns whose
// shifted pixel lies inside, less the cutout's columns on its rows.
static void dcgan__aug_row_reads(const dcgan_aug_draw *d, int y, int h, int w, int r[4]) {
    int x0 = d->tx < 0 ? -d->tx : 0, x1 = d->tx > 0 ? w - d->tx : w;
    if (y + d->ty < 0 || y + d->ty >= h || x1 < x0) x0 = x1 = 0;
    int c0 = x1, c1 = x1;   // no cut: the second range is empty
    if (y >= d->cut_y0 && y < d->cut_y1 && d->cut_x1 > d->cut_x0) c0 = d->cut_x0, c1 = d->cut_x1;
    r[0] = x0, r[1] = c0 < x0 ? x0 : c0 > x1 ? x1 : c0;
    r[2] = c1 < x0 ? x0 : c1 > x1 ? x1 : c1, r[3] = x1;
}

// The forward pass of one image is written per output pixel: the three color
// transforms only mix the channels of one pixel, plus the image mean m of the
// contrast. Saturation keeps every pixel's channel mean, so m, the mean of
// the image after brightness and saturation, is mean(x) + brightness. The
// image's sum is BatchNorm's (section 6: 16 partial sums in double). One
// channel (gray, the study's X-rays): each output row as its ranges of columns
// that read a pixel, a loop without branches that the compiler vectorises,
// with the formulas of the per-pixel loop below (which other channel counts take).
DCGAN__CLONED
DCGAN_API void dcgan_diffaug_forward(float *out, const float *inp, const dcgan_aug_draw *draws,
                                     int n, int c, int h, int w) {
    DCGAN__NO_FUSE
    const size_t plane = (size_t)h * w, image = (size_t)c * plane;
    const dcgan__bn_fns sums = dcgan__pick_bn();
    // images are independent: each thread takes whole images
    DCGAN__OMP(omp parallel for schedule(static) if ((double)n * image > 65536))
    for (int i = 0; i < n; i++) {
        const dcgan_aug_draw *d = &draws[i];
        const float *x = inp + (size_t)i * image;
        float *y_out = out + (size_t)i * image;
        dcgan__bn_sum total = {{0.0}, 0.0};
        sums.values(&total, x, 1, 0, image);
        const float b = d->brightness, s = d->saturation, k_c = d->contrast;
        const float m = (float)(dcgan__bn_total(&total) / (double)image) + b;
        if (c == 1) {
            for (int y = 0; y < h; y++) {
                float *o = y_out + (size_t)y * w;
                const int sy = y + d->ty, tx = d->tx;
                const float *row = sy >= 0 && sy < h ? x + (size_t)sy * w : x;   // (no columns read otherwise)
                int r[4];
                dcgan__aug_row_reads(d, y, h, w, r);
                memset(o, 0, (size_t)w * sizeof(float));
                for (int part = 0; part < 4; part += 2) {
                    DCGAN__OMP(omp simd)
                    for (int xx = r[part]; xx < r[part + 1]; xx++) {
                        const float v0 = row[xx + tx] + b, pixel_mean = (0.0f + v0) / 1.0f;
                        const float v = (v0 - pixel_mean) * s + pixel_mean;
                        o[xx] = (v - m) * k_c + m;
                    }
                }
            }
            continue;
        }
        for (int y = 0; y < h; y++) {
            for (int xx = 0; xx < w; xx++) {
                const size_t o = (size_t)y * w + xx;
                if (!dcgan__aug_reads(d, y, xx, h, w)) {
                    for (int ch = 0; ch < c; ch++) y_out[ch * plane + o] = 0.0f;
                    continue;
                }
                const size_t src = (size_t)(y + d->ty) * w + (xx + d->tx);
                float pixel_mean = 0.0f;
                for (int ch = 0; ch < c; ch++) pixel_mean += x[ch * plane + src] + b;
                pixel_mean /= (float)c;
                for (int ch = 0; ch < c; ch++) {
                    float v = x[ch * plane + src] + b;               // brightness
                    v = (v - pixel_mean) * s + pixel_mean;           // saturation
                    y_out[ch * plane + o] = (v - m) * k_c + m;       // contrast
                }
            }
        }
    }
}

// Backward, the transforms in reverse order. With g the incoming gradient:
//   cutout, translation: g1 at input pixel (y + ty, x + tx) = g at output (y, x)
//     when that output pixel reads it (0 elsewhere);
//   contrast  y = k v + (1 - k) mean(v):   g2 = k g1 + (1 - k) sum(g1) / (C H W);
//   saturation y_c = s v_c + (1 - s) mean_c(v): g3_c = s g2_c + (1 - s) sum_c(g2) / C;
//   brightness: g3 passes unchanged.
// One channel, images up to 1024 wide (gray, the study's X-rays): the sum of
// g1 in BatchNorm's 16 partial sums over each output row's ranges of columns
// that read a pixel; then each input row's g1 laid out in a row of zeros, and
// one loop without branches with the per-pixel loop's formulas. The per-pixel
// loop (other channel counts, wider images) sums g1 one value after another,
// so its last bits may differ from this one's.
DCGAN__CLONED
DCGAN_API void dcgan_diffaug_backward(float *dinp, const float *dout, const dcgan_aug_draw *draws,
                                      int n, int c, int h, int w) {
    DCGAN__NO_FUSE
    const size_t plane = (size_t)h * w, image = (size_t)c * plane;
    const dcgan__bn_fns sums = dcgan__pick_bn();
    // image i's gradient goes to image i only: each thread takes whole images
    DCGAN__OMP(omp parallel for schedule(static) if ((double)n * image > 65536))
    for (int i = 0; i < n; i++) {
        const dcgan_aug_draw *d = &draws[i];
        const float *g = dout + (size_t)i * image;
        float *dx = dinp + (size_t)i * image;
        const float s = d->saturation, k_c = d->contrast;
        if (c == 1 && w <= 1024) {
            dcgan__bn_sum total = {{0.0}, 0.0};
            for (int y = 0; y < h; y++) {
                int r[4];
                dcgan__aug_row_reads(d, y, h, w, r);
                for (int part = 0; part < 4; part += 2)
                    sums.values(&total, g + (size_t)y * w + r[part], 1, 0, (size_t)(r[part + 1] - r[part]));
            }
            const float spread = (1.0f - k_c) * (float)(dcgan__bn_total(&total) / (double)image);
            float g1[1024];
            for (int sy = 0; sy < h; sy++) {
                const int y = sy - d->ty, tx = d->tx;   // output row y reads input row sy
                memset(g1, 0, (size_t)w * sizeof(float));
                if (y >= 0 && y < h) {
                    int r[4];
                    dcgan__aug_row_reads(d, y, h, w, r);
                    for (int part = 0; part < 4; part += 2)
                        for (int xx = r[part]; xx < r[part + 1]; xx++) g1[xx + tx] = g[(size_t)y * w + xx];
                }
                float *dxr = dx + (size_t)sy * w;
                DCGAN__OMP(omp simd)
                for (int sx = 0; sx < w; sx++) {
                    const float g1_sum = 0.0f + g1[sx], g2_sum = k_c * g1_sum + 1.0f * spread;
                    const float g2 = k_c * g1[sx] + spread;
                    dxr[sx] += s * g2 + (1.0f - s) * g2_sum / 1.0f;
                }
            }
            continue;
        }
        double sum = 0.0;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                if (dcgan__aug_reads(d, y, xx, h, w))
                    for (int ch = 0; ch < c; ch++) sum += g[ch * plane + (size_t)y * w + xx];
        const float spread = (1.0f - k_c) * (float)(sum / (double)image);   // (1 - k) sum(g1) / (CHW)
        for (int sy = 0; sy < h; sy++) {
            for (int sx = 0; sx < w; sx++) {
                const int y = sy - d->ty, xx = sx - d->tx;   // the output pixel that reads (sy, sx)
                const int read = y >= 0 && y < h && xx >= 0 && xx < w &&
                                 dcgan__aug_reads(d, y, xx, h, w);
                const size_t src = (size_t)sy * w + sx;
                float g1_sum = 0.0f;   // over the pixel's channels
                for (int ch = 0; ch < c; ch++) g1_sum += read ? g[ch * plane + (size_t)y * w + xx] : 0.0f;
                const float g2_sum = k_c * g1_sum + (float)c * spread;
                for (int ch = 0; ch < c; ch++) {
                    float g1 = read ? g[ch * plane + (size_t)y * w + xx] : 0.0f;
                    float g2 = k_c * g1 + spread;
                    dx[ch * plane + src] += s * g2 + (1.0f - s) * g2_sum / (float)c;
                }
            }
        }
    }
}

DCGAN_API void dcgan_gan_config_default(dcgan_gan_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = DCGAN_ARCH_SEED;
    cfg->size = 128;
    cfg->channels = 3;
    cfg->width = 1.0f;
    cfg->latent = 100;
    cfg->batch = 128;
    cfg->lr_d = 2e-5;
    cfg->lr_g = 1e-4;
    cfg->beta1 = 0.5;
    cfg->beta2 = 0.999;
    cfg->adam_mode = DCGAN_ADAM_KERAS;
    cfg->real_label = 1.0f;
    cfg->fake_label = 0.0f;
    cfg->seed = 1;
    cfg->augment = 0;
    cfg->augment_p = 1.0f;
    cfg->ada_target = 0.0f;
    cfg->ada_kimg = 5.0f;
    cfg->ema_kimg = 0.0f;
    cfg->ema_rampup = 0.05f;
}

// A filter count scaled by the width multiplier, at least 1.
static int dcgan__filters(const dcgan_gan_config *cfg, int base) {
    int f = (int)((float)base * cfg->width + 0.5f);
    return f > 0 ? f : 1;
}

static dcgan_layer_spec dcgan__no_bias(dcgan_layer_spec s) {
    s.bias = 0;
    return s;
}

// The study's Keras generator (SEED; PAPER with upsample = 1): Linear +
// LeakyReLU, reshape to b x b, four x2 stages, Conv2d(C, 5) + Tanh.
static int dcgan__keras_generator(const dcgan_gan_config *cfg, int upsample, dcgan_layer_spec *specs,
                                  int *in_c, int *in_h, int *in_w) {
    const int b = cfg->size / 16;
    const int filters[4] = {512, 256, 128, 64};
    int n = 0;
    *in_c = cfg->latent;
    *in_h = *in_w = 1;
    specs[n++] = dcgan_spec_linear(b * b * dcgan__filters(cfg, 1024));
    specs[n++] = dcgan_spec_leaky_relu(0.2f);
    specs[n++] = dcgan_spec_reshape(dcgan__filters(cfg, 1024), b, b);
    for (int k = 0; k < 4; k++) {
        if (upsample) {
            specs[n++] = dcgan_spec_upsample(2, DCGAN_UPSAMPLE_NEAREST);
            specs[n++] = dcgan_spec_conv2d_same(dcgan__filters(cfg, filters[k]), 5, 1);
        } else {
            specs[n++] = dcgan_spec_conv_transpose2d_same(dcgan__filters(cfg, filters[k]), 4, 2);
        }
        specs[n++] = dcgan_spec_leaky_relu(0.2f);
    }
    specs[n++] = dcgan_spec_conv2d_same(cfg->channels, 5, 1);
    specs[n++] = dcgan_spec_tanh();
    return n;
}

static int dcgan__seed_generator(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                                 int *in_h, int *in_w) {
    return dcgan__keras_generator(cfg, 0, specs, in_c, in_h, in_w);
}

static int dcgan__paper_generator(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                                  int *in_h, int *in_w) {
    return dcgan__keras_generator(cfg, 1, specs, in_c, in_h, in_w);
}

// The study's Keras discriminator (SEED and PAPER): five Conv2d(K=5, 'same')
// + LeakyReLU, Flatten, Dropout(0.4), Linear(1).
static int dcgan__keras_discriminator(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                                      int *in_h, int *in_w) {
    const int filters[5] = {64, 128, 256, 512, 1024};
    int n = 0;
    *in_c = cfg->channels;
    *in_h = *in_w = cfg->size;
    for (int k = 0; k < 5; k++) {
        specs[n++] = dcgan_spec_conv2d_same(dcgan__filters(cfg, filters[k]), 5, k == 0 ? 1 : 2);
        specs[n++] = dcgan_spec_leaky_relu(0.2f);
    }
    specs[n++] = dcgan_spec_flatten();
    specs[n++] = dcgan_spec_dropout(0.4f);
    specs[n++] = dcgan_spec_linear(1);
    return n;
}

// How many x2 stages take 4x4 to the image side (4 for 64x64).
static int dcgan__doublings(const dcgan_gan_config *cfg) {
    return cfg->size == 64 ? 4 : cfg->size == 128 ? 5 : 6;
}

// Radford et al.'s generator (the PyTorch DCGAN example), from (Z, 1, 1).
static int dcgan__radford_generator(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                                    int *in_h, int *in_w) {
    const int doublings = dcgan__doublings(cfg);
    int n = 0, mult = 1 << (doublings - 1);   // ngf * 8 for 64x64
    *in_c = cfg->latent;
    *in_h = *in_w = 1;
    specs[n++] = dcgan__no_bias(dcgan_spec_conv_transpose2d(dcgan__filters(cfg, 64 * mult), 4, 1, 0));
    specs[n++] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
    specs[n++] = dcgan_spec_relu();
    for (int k = 1; k < doublings; k++) {
        mult /= 2;
        specs[n++] = dcgan__no_bias(dcgan_spec_conv_transpose2d(dcgan__filters(cfg, 64 * mult), 4, 2, 1));
        specs[n++] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
        specs[n++] = dcgan_spec_relu();
    }
    specs[n++] = dcgan__no_bias(dcgan_spec_conv_transpose2d(cfg->channels, 4, 2, 1));
    specs[n++] = dcgan_spec_tanh();
    return n;
}

static int dcgan__radford_discriminator(const dcgan_gan_config *cfg, dcgan_layer_spec *specs, int *in_c,
                                        int *in_h, int *in_w) {
    const int doublings = dcgan__doublings(cfg);
    int n = 0, mult = 1;
    *in_c = cfg->channels;
    *in_h = *in_w = cfg->size;
    for (int k = 0; k < doublings; k++) {
        specs[n++] = dcgan__no_bias(dcgan_spec_conv2d(dcgan__filters(cfg, 64 * mult), 4, 2, 1));
        if (k > 0) specs[n++] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
        specs[n++] = dcgan_spec_leaky_relu(0.2f);
        mult *= 2;
    }
    specs[n++] = dcgan__no_bias(dcgan_spec_conv2d(1, 4, 1, 0));
    specs[n++] = dcgan_spec_flatten();
    return n;
}

// The architectures: one row each, in dcgan_arch order. A new one is a new
// enum value, its two layer-list functions and a row here.
static const dcgan_arch_info dcgan__archs[] = {
    // arch            name     init              fakes in training  G, D
    {DCGAN_ARCH_SEED,  "seed",  DCGAN_INIT_KERAS, 0, dcgan__seed_generator, dcgan__keras_discriminator},
    {DCGAN_ARCH_PAPER, "paper", DCGAN_INIT_KERAS, 0, dcgan__paper_generator, dcgan__keras_discriminator},
    {DCGAN_ARCH_DCGAN, "dcgan", DCGAN_INIT_DCGAN, 1, dcgan__radford_generator,
     dcgan__radford_discriminator},
};
#define DCGAN__N_ARCHS ((int)(sizeof dcgan__archs / sizeof dcgan__archs[0]))

DCGAN_API const dcgan_arch_info *dcgan_arch_get(dcgan_arch arch) {
    if ((int)arch < 0 || (int)arch >= DCGAN__N_ARCHS) return NULL;
    DCGAN_ASSERT(dcgan__archs[arch].arch == arch);
    return &dcgan__archs[arch];
}

DCGAN_API const char *dcgan_arch_name(dcgan_arch arch) {
    const dcgan_arch_info *info = dcgan_arch_get(arch);
    return info ? info->name : "unknown";
}

DCGAN_API dcgan_status dcgan_arch_parse(const char *name, dcgan_arch *arch) {
    for (int a = 0; a < DCGAN__N_ARCHS; a++) {
        if (strcmp(name, dcgan__archs[a].name) == 0) {
            *arch = dcgan__archs[a].arch;
            return DCGAN_OK;
        }
    }
    return DCGAN__FAIL(DCGAN_ERR_SHAPE, "unknown architecture '%s' (seed, paper or dcgan)", name);
}

DCGAN_API dcgan_status dcgan_gan_specs(const dcgan_gan_config *cfg, dcgan_net net,
                                       dcgan_layer_spec *specs, int *n_specs, int *in_c,
                                       int *in_h, int *in_w) {
    const dcgan_arch_info *info = dcgan_arch_get(cfg->arch);
    const int C = cfg->channels, S = cfg->size;
    if (!info)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "unknown architecture %d", (int)cfg->arch);
    if (S != 64 && S != 128 && S != 256)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "size %d is not 64, 128 or 256", S);
    if (C != 1 && C != 3)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "channels %d is not 1 or 3", C);
    if (!(cfg->width > 0.0f) || cfg->latent <= 0 || cfg->batch < 2)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "width %g, latent %d, batch %d must be positive "
                           "(batch at least 2)", (double)cfg->width, cfg->latent, cfg->batch);
    if (cfg->width > 64.0f)   // (1024 x width filters must stay an int; 64 is 65,536 already)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "width %g is more than 64", (double)cfg->width);
    if (net != DCGAN_GENERATOR && net != DCGAN_DISCRIMINATOR)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "net %d is neither DCGAN_GENERATOR nor DCGAN_DISCRIMINATOR",
                           (int)net);
    if (net == DCGAN_GENERATOR) *n_specs = info->generator(cfg, specs, in_c, in_h, in_w);
    else *n_specs = info->discriminator(cfg, specs, in_c, in_h, in_w);
    DCGAN_ASSERT(*n_specs <= DCGAN_MAX_SPECS);
    return DCGAN_OK;
}

// The little-data settings of cfg: in range, or DCGAN_ERR_SHAPE saying which.
static dcgan_status dcgan__check_small_data(const dcgan_gan_config *cfg) {
    if (cfg->augment & ~(DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT))
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "augment 0x%x has bits other than DCGAN_AUG_COLOR, "
                           "_TRANSLATION and _CUTOUT", (unsigned)cfg->augment);
    if (!(cfg->augment_p >= 0.0f && cfg->augment_p <= 1.0f) ||
        !(cfg->ada_target >= 0.0f && cfg->ada_target < 1.0f) || !(cfg->ada_kimg > 0.0f) ||
        !(cfg->ema_kimg >= 0.0f) || !(cfg->ema_rampup >= 0.0f) || !isfinite(cfg->ada_kimg) ||
        !isfinite(cfg->ema_kimg) || !isfinite(cfg->ema_rampup))
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "augment_p %g must be in [0, 1], ada_target %g in [0, 1), "
                           "ada_kimg %g > 0, ema_kimg %g and ema_rampup %g >= 0 (all finite)", (double)cfg->augment_p,
                           (double)cfg->ada_target, (double)cfg->ada_kimg, (double)cfg->ema_kimg,
                           (double)cfg->ema_rampup);
    if (cfg->ada_target > 0.0f && !cfg->augment)
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "ada_target %g adapts the augmentation's p, but augment "
                           "is 0 (no policy)", (double)cfg->ada_target);
    return DCGAN_OK;
}

// The optimiser's and the targets' settings of cfg: what a checkpoint may hold
// (dcgan__config_from_meta refuses the rest), or DCGAN_ERR_SHAPE saying which.
// A run that took them would save checkpoints it could not load again.
static dcgan_status dcgan__check_training(const dcgan_gan_config *cfg) {
    if (!(cfg->lr_d >= 0.0 && cfg->lr_g >= 0.0) || !isfinite(cfg->lr_d) || !isfinite(cfg->lr_g))
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "lr_d %g and lr_g %g must be finite and >= 0", cfg->lr_d,
                           cfg->lr_g);
    if (!(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0 && cfg->beta2 >= 0.0 && cfg->beta2 < 1.0))
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "beta1 %g and beta2 %g must be in [0, 1)", cfg->beta1,
                           cfg->beta2);
    if (!(cfg->real_label >= 0.0f && cfg->real_label <= 1.0f && cfg->fake_label >= 0.0f &&
          cfg->fake_label <= 1.0f))
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "real_label %g and fake_label %g must be in [0, 1]",
                           (double)cfg->real_label, (double)cfg->fake_label);
    if (cfg->latent > 1000000 || cfg->batch > 1000000)
        return dcgan__fail(DCGAN_ERR_SHAPE, "gan_init", "latent %d and batch %d must be at most 1,000,000",
                           cfg->latent, cfg->batch);
    return DCGAN_OK;
}

DCGAN_API void dcgan_gan_free(dcgan_gan *gan) {
#ifdef DCGAN_CUDA
    dcgan_gan_free_cuda(gan);
#endif
    dcgan_model_free(&gan->g);
    dcgan_model_free(&gan->d);
    dcgan_free(gan->noise);
    dcgan_free(gan->images);
    dcgan_free(gan->labels);
    dcgan_free(gan->real_index);
    dcgan_free(gan->dlogits);
    dcgan_free(gan->dimages);
    dcgan_free(gan->aug_images);
    dcgan_free(gan->daug_images);
    dcgan_free(gan->aug_draws);
    dcgan_free(gan->ema_params);
    dcgan_free(gan->ema_buffers);
    dcgan_free(gan->step_buffers);
    memset(gan, 0, sizeof *gan);
}

DCGAN_API dcgan_status dcgan_gan_init(dcgan_gan *gan, const dcgan_gan_config *cfg) {
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n, c, h, w;
    size_t image;
    dcgan_status st;
    memset(gan, 0, sizeof *gan);
    gan->cfg = *cfg;
    if ((st = dcgan__check_small_data(cfg)) != DCGAN_OK || (st = dcgan__check_training(cfg)) != DCGAN_OK)
        goto fail;
    if ((st = dcgan_gan_specs(cfg, DCGAN_GENERATOR, specs, &n, &c, &h, &w)) != DCGAN_OK) goto fail;
    if ((st = dcgan_model_init(&gan->g, "G.main", specs, n, c, h, w, cfg->batch)) != DCGAN_OK)
        goto fail;
    if ((st = dcgan_gan_specs(cfg, DCGAN_DISCRIMINATOR, specs, &n, &c, &h, &w)) != DCGAN_OK) goto fail;
    // the step runs D's backward and G's one after the other: one gradient scratch
    if ((st = dcgan__model_init(&gan->d, "D.main", specs, n, c, h, w, cfg->batch, 0)) != DCGAN_OK ||
        (st = dcgan_model_share_dacts(&gan->g, &gan->d)) != DCGAN_OK)
        goto fail;
    {
        dcgan_tensor go = dcgan__slot(&gan->g, gan->g.acts, gan->g.n_layers);
        if (go.c != cfg->channels || go.h != cfg->size || go.w != cfg->size) {
            st = DCGAN__FAIL(DCGAN_ERR_SHAPE, "generator makes %dx%dx%d, expected %dx%dx%d", go.c,
                             go.h, go.w, cfg->channels, cfg->size, cfg->size);
            goto fail;
        }
    }
    image = (size_t)cfg->channels * cfg->size * cfg->size;
    gan->noise = (float *)dcgan__calloc((size_t)cfg->batch * cfg->latent, sizeof(float));
    gan->images = (float *)dcgan__calloc((size_t)cfg->batch * image, sizeof(float));
    gan->dimages = (float *)dcgan__calloc((size_t)cfg->batch * image, sizeof(float));
    gan->labels = (float *)dcgan__calloc((size_t)cfg->batch, sizeof(float));
    gan->dlogits = (float *)dcgan__calloc((size_t)cfg->batch, sizeof(float));
    gan->real_index = (int *)dcgan__calloc((size_t)cfg->batch, sizeof(int));
    gan->step_buffers = (float *)dcgan__calloc(gan->g.n_buffers + gan->d.n_buffers + 1, sizeof(float));
    if (!gan->noise || !gan->images || !gan->dimages || !gan->labels || !gan->dlogits || !gan->real_index ||
        !gan->step_buffers) {
        st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the batch buffers (batch %d)", cfg->batch);
        goto fail;
    }
    if (cfg->augment) {
        gan->aug_images = (float *)dcgan__calloc((size_t)cfg->batch * image, sizeof(float));
        gan->daug_images = (float *)dcgan__calloc((size_t)cfg->batch * image, sizeof(float));
        gan->aug_draws = (dcgan_aug_draw *)dcgan__calloc((size_t)cfg->batch, sizeof(dcgan_aug_draw));
        if (!gan->aug_images || !gan->daug_images || !gan->aug_draws) {
            st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the augmented batch (batch %d)", cfg->batch);
            goto fail;
        }
        gan->augment_p = cfg->ada_target > 0.0f ? 0.0f : cfg->augment_p;
    }
    if (cfg->ema_kimg > 0.0f) {
        gan->ema_params = (float *)dcgan__calloc(gan->g.n_params, sizeof(float));
        gan->ema_buffers = (float *)dcgan__calloc(gan->g.n_buffers ? gan->g.n_buffers : 1, sizeof(float));
        if (!gan->ema_params || !gan->ema_buffers) {
            st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the averaged generator (%zu parameters)",
                             gan->g.n_params);
            goto fail;
        }
    }
    dcgan_rng_seed(&gan->rng, cfg->seed);
    {
        dcgan_init_mode mode = dcgan_arch_get(cfg->arch)->init;
        dcgan_model_init_weights(&gan->g, mode, &gan->rng);
        dcgan_model_init_weights(&gan->d, mode, &gan->rng);
    }
    if (gan->ema_params) {   // the average starts at G's first weights (StyleGAN2-ADA's copy of G)
        memcpy(gan->ema_params, gan->g.params, gan->g.n_params * sizeof(float));
        if (gan->g.n_buffers) memcpy(gan->ema_buffers, gan->g.buffers, gan->g.n_buffers * sizeof(float));
    }
    dcgan_adam_init(&gan->opt_d, cfg->adam_mode, cfg->lr_d, cfg->beta1, cfg->beta2);
    dcgan_adam_init(&gan->opt_g, cfg->adam_mode, cfg->lr_g, cfg->beta1, cfg->beta2);
    return DCGAN_OK;
fail:
    {
        // keep the message of the failure, free everything, leave *gan zeroed
        dcgan_gan_free(gan);
        return st;
    }
}

DCGAN_API dcgan_status dcgan_gan_bytes(size_t *bytes, const dcgan_gan_config *cfg) {
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n = 0, c = 0, h = 0, w = 0;   // (set by dcgan_gan_specs; 0 only to quiet GCC 12 at -O3)
    size_t g = 0, d = 0, g_dslot = 0, d_dslot = 0, g_params = 0, g_buffers = 0, d_buffers = 0;
    dcgan_status st;
    if ((st = dcgan_gan_specs(cfg, DCGAN_GENERATOR, specs, &n, &c, &h, &w)) != DCGAN_OK ||
        (st = dcgan__model_bytes("dcgan_gan_bytes", &g, &g_dslot, &g_params, &g_buffers, specs, n, c, h, w, cfg->batch)) != DCGAN_OK ||
        (st = dcgan_gan_specs(cfg, DCGAN_DISCRIMINATOR, specs, &n, &c, &h, &w)) != DCGAN_OK ||
        (st = dcgan__model_bytes("dcgan_gan_bytes", &d, &d_dslot, NULL, &d_buffers, specs, n, c, h, w, cfg->batch)) != DCGAN_OK)
        return st;
    // gan_init's batch buffers: noise, images, dimages, labels, dlogits, real_index,
    // and the step's copy of the running statistics (step_buffers)
    const size_t image = (size_t)cfg->channels * cfg->size * cfg->size;
    // G and D share one dacts of the larger size: the smaller pair of halves is not allocated
    const size_t shared = 2 * (g_dslot < d_dslot ? g_dslot : d_dslot) * sizeof(float);
    const size_t batch_buffers = (size_t)cfg->batch * ((size_t)cfg->latent + 2 * image + 2);
    *bytes = g + d - shared + batch_buffers * sizeof(float) + (size_t)cfg->batch * sizeof(int) +
             (g_buffers + d_buffers + 1) * sizeof(float);
    if (cfg->augment)   // aug_images, daug_images, aug_draws
        *bytes += (size_t)cfg->batch * (2 * image * sizeof(float) + sizeof(dcgan_aug_draw));
    if (cfg->ema_kimg > 0.0f)   // ema_params, ema_buffers (G's running statistics, at least one float)
        *bytes += (g_params + (g_buffers ? g_buffers : 1)) * sizeof(float);
    return DCGAN_OK;
}

// Where a GAN step runs: the gan's host scratch, or (DCGAN_CUDA, after
// dcgan_gan_to_cuda) its twins in gan->dev. dcgan__gan_step below is written
// once over it: DCGAN__RUN calls each function or its _cuda twin (the same
// arguments), and the few things that differ are the helpers right here.
typedef struct {
    float *images, *labels, *dlogits, *noise, *dimages;
    float *aug_images, *daug_images;   // DiffAugment's (cfg.augment)
    float *ema_params, *ema_buffers;   // the averaged G (cfg.ema_kimg)
    float *g_params, *g_buffers;       // G's own weights and statistics, where they are
    int gpu;
} dcgan__gan_mem;

static dcgan__gan_mem dcgan__gan_host_mem(dcgan_gan *gan) {
    dcgan__gan_mem mem = {gan->images, gan->labels, gan->dlogits, gan->noise, gan->dimages, gan->aug_images,
                          gan->daug_images, gan->ema_params, gan->ema_buffers, gan->g.params, gan->g.buffers, 0};
    return mem;
}

// The output of model m's last forward (the logits of D, the images of G).
static float *dcgan__gan_out(const dcgan_model *m, const dcgan__gan_mem *mem) {
#ifdef DCGAN_CUDA
    if (mem->gpu) return m->dev.acts + m->slot_offset[m->n_layers];
#endif
    (void)mem;
    return m->acts + m->slot_offset[m->n_layers];
}

// n noise vectors from the gan's generator into mem->noise (for the GPU drawn
// on the host and uploaded, so that both builds draw the same numbers).
static dcgan_status dcgan__gan_noise(dcgan_gan *gan, const dcgan__gan_mem *mem, int n) {
    const size_t count = (size_t)n * gan->cfg.latent;
    dcgan_rng_fill_normal(&gan->rng, gan->noise, count, 0.0f, 1.0f);
#ifdef DCGAN_CUDA
    if (mem->gpu) return dcgan_cuda_upload(mem->noise, gan->noise, count * sizeof(float));
#endif
    (void)mem;
    return DCGAN_OK;
}

// BCE with logits against mem->labels into loss and mem->dlogits, and the
// accuracy (acc may be NULL).
static dcgan_status dcgan__gan_bce(const dcgan__gan_mem *mem, float *loss, float *acc, const float *logits,
                                   int n) {
#ifdef DCGAN_CUDA
    if (mem->gpu) return dcgan_bce_with_logits_cuda(loss, acc, mem->dlogits, logits, mem->labels, (size_t)n);
#endif
    dcgan_status st = dcgan_bce_with_logits(loss, mem->dlogits, logits, mem->labels, (size_t)n);
    if (st == DCGAN_OK && acc) *acc = dcgan_binary_accuracy(logits, mem->labels, (size_t)n);
    return st;
}

// DiffAugment's forward (backward 0: out = T(inp)) or backward (1: out += the
// gradient inp brought back through T). The CPU's cannot fail; the GPU twins can.
static dcgan_status dcgan__gan_augment(const dcgan__gan_mem *mem, int backward, float *out, const float *inp,
                                       const dcgan_aug_draw *draws, int n, int c, int side) {
#ifdef DCGAN_CUDA
    if (mem->gpu)
        return backward ? dcgan_diffaug_backward_cuda(out, inp, draws, n, c, side, side)
                        : dcgan_diffaug_forward_cuda(out, inp, draws, n, c, side, side);
#endif
    (void)mem;
    if (backward) dcgan_diffaug_backward(out, inp, draws, n, c, side, side);
    else dcgan_diffaug_forward(out, inp, draws, n, c, side, side);
    return DCGAN_OK;
}

// sum of sign(logit) over n logits (ADA's r_t counts them), read on the host.
static dcgan_status dcgan__gan_signs(dcgan_gan *gan, const dcgan__gan_mem *mem, const float *logits, int n,
                                     int *signs) {
#ifdef DCGAN_CUDA
    if (mem->gpu) {   // the host's labels are free while the GPU trains
        dcgan_status st = dcgan_cuda_download(gan->labels, logits, (size_t)n * sizeof(float));
        if (st != DCGAN_OK) return st;
        logits = gan->labels;
    }
#endif
    (void)gan, (void)mem;
    *signs = 0;
    for (int i = 0; i < n; i++) *signs += (logits[i] > 0.0f) - (logits[i] < 0.0f);
    return DCGAN_OK;
}

// One D step on the n images in mem->images, all labelled `label`: D's
// gradient of the BCE, one Adam step. With cfg.augment D sees T(images) (the
// draws are made on the host for both builds). signs (may be NULL): sum of
// sign(D(x)) for ADA.
static dcgan_status dcgan__d_step(dcgan_gan *gan, const dcgan__gan_mem *mem, int n, float label, float *loss,
                                  float *acc, int *signs) {
    const dcgan_gan_config *cfg = &gan->cfg;
    float *d_input = mem->images;
    dcgan_status st;
    if (cfg->augment) {
        dcgan_diffaug_sample(gan->aug_draws, n, cfg->size, cfg->size, cfg->augment, gan->augment_p,
                             &gan->rng);
        if ((st = dcgan__gan_augment(mem, 0, mem->aug_images, mem->images, gan->aug_draws, n, cfg->channels,
                                     cfg->size)) != DCGAN_OK)
            return st;
        d_input = mem->aug_images;
    }
    if ((st = DCGAN__RUN(mem, dcgan_vec_fill, (mem->labels, (size_t)n, label))) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_zero_grad, (&gan->d))) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_forward, (&gan->d, dcgan_tensor_make(d_input, n, cfg->channels, cfg->size,
                                                                               cfg->size), 1, &gan->rng))) != DCGAN_OK)
        return st;
    const float *logits = dcgan__gan_out(&gan->d, mem);
    if ((st = dcgan__gan_bce(mem, loss, acc, logits, n)) != DCGAN_OK) return st;
    if (signs && (st = dcgan__gan_signs(gan, mem, logits, n, signs)) != DCGAN_OK) return st;
    if ((st = DCGAN__RUN(mem, dcgan_model_backward, (&gan->d, mem->dlogits, NULL))) != DCGAN_OK) return st;
    return DCGAN__RUN(mem, dcgan_model_adam_step, (&gan->d, &gan->opt_d));
}

// half real images drawn with replacement (numpy.random.randint in the
// study) into mem->images; the GPU gathers them from its copy of the dataset.
static dcgan_status dcgan__gan_reals(dcgan_gan *gan, const dcgan__gan_mem *mem, const float *dataset,
                                     int n_images, int half) {
    const size_t image = (size_t)gan->cfg.channels * gan->cfg.size * gan->cfg.size;
    int *index = gan->real_index;
    for (int i = 0; i < half; i++) index[i] = (int)(dcgan_rng_u32(&gan->rng) % (uint32_t)n_images);
#ifdef DCGAN_CUDA
    if (mem->gpu) dataset = gan->dev.dataset;
#endif
    return DCGAN__RUN(mem, dcgan_gather_rows, (mem->images, dataset, index, half, image));
}

// ADA's adjustment (Karras et al. 2020, section 3 and their training loop):
// r_t = E[sign(D(real))] over the real images since the last adjustment; p
// moves by sign(r_t - target) * images / (ada_kimg * 1000), clamped to [0, 1],
// so it can cross [0, 1] in ada_kimg thousand real images.
static void dcgan__ada_adjust(dcgan_gan *gan) {
    const dcgan_gan_config *cfg = &gan->cfg;
    if (gan->ada_count == 0) return;
    const float rt = (float)gan->ada_signs / (float)gan->ada_count;
    const float direction = (float)((rt > cfg->ada_target) - (rt < cfg->ada_target));
    float p = gan->augment_p + direction * (float)gan->ada_count / (cfg->ada_kimg * 1000.0f);
    gan->augment_p = p < 0.0f ? 0.0f : p > 1.0f ? 1.0f : p;
    gan->ada_rt = rt;
    gan->ada_signs = gan->ada_count = 0;
}

// The averaged generator (Yazici et al. 2019, "The Unusual Effectiveness of
// Averaging in GAN Training", ICLR; the form of StyleGAN2-ADA's training loop):
// after each G step, G_ema = G + (G_ema - G) * beta with beta = 0.5 ^ (batch /
// half_life), half_life = ema_kimg * 1000 images, at most ema_rampup times the
// images of the steps before this one (early on the average forgets faster;
// after the first step, with none before it, the average is G: beta = 0, as
// training_loop.py's cur_nimg counts the batch only after the update). BatchNorm
// running statistics are copied. Called after gan->iteration counted this step.
static dcgan_status dcgan__ema_update(dcgan_gan *gan, const dcgan__gan_mem *mem) {
    const dcgan_gan_config *cfg = &gan->cfg;
    double half_life = (double)cfg->ema_kimg * 1000.0;
    const double seen = (double)(gan->iteration - 1) * cfg->batch;
    if (cfg->ema_rampup > 0.0f && seen * cfg->ema_rampup < half_life) half_life = seen * cfg->ema_rampup;
    const float beta = (float)pow(0.5, (double)cfg->batch / (half_life > 1e-8 ? half_life : 1e-8));
    dcgan_status st = DCGAN__RUN(mem, dcgan_vec_ema, (mem->ema_params, mem->g_params, gan->g.n_params, beta));
    if (st == DCGAN_OK && gan->g.n_buffers)
        st = DCGAN__RUN(mem, dcgan_vec_copy, (mem->ema_buffers, mem->g_buffers, gan->g.n_buffers));
    return st;
}

// G's weights and running statistics trade places with the averaged ones (the
// layers find their weights through g.params and g.buffers).
static void dcgan__swap_ema(dcgan_gan *gan) {
    float *p = gan->g.params, *b = gan->g.buffers;
    gan->g.params = gan->ema_params;
    gan->ema_params = p;
    if (gan->g.n_buffers) {
        gan->g.buffers = gan->ema_buffers;
        gan->ema_buffers = b;
    }
}

// One iteration of the GAN game (Goodfellow et al. 2014, "Generative
// Adversarial Nets", NIPS, algorithm 1, one D step per G step):
//   D:  maximise  E_x log D(x) + E_z log(1 - D(G(z)))
//       = minimise BCE(D(x), 1) + BCE(D(G(z)), 0)        (steps 1 and 2)
//   G:  maximise  E_z log D(G(z))  - the "non-saturating" form of the paper's
//       section 3: log(1 - D(G(z))) has almost no gradient while D easily
//       rejects G's early images, log D(G(z)) has a strong one
//       = minimise BCE(D(G(z)), 1), through D, D's weights held  (step 3)
// with D(x) = sigmoid(logit) inside the BCE (section 7). The study's loop
// splits D's step into a real and a fake half with separate Adam steps, as its
// published Keras code does (d.train_on_batch on the real images, then on the
// generated ones, then G through the frozen D).
// Before each part of an iteration: what a forward pass changes besides the
// activations (BatchNorm's running statistics, in training mode, and the random
// stream: indices, noise, dropout, DiffAugment), kept so that a part that
// fails NONFINITE can put it back (dcgan__gan_undo). Weights and Adam moments
// need no copy: Adam refuses a NaN or Inf gradient before it writes. On the
// GPU the statistics live on the device and are not kept.
static void dcgan__gan_mark(dcgan_gan *gan, const dcgan__gan_mem *mem) {
    gan->step_rng = gan->rng;
    if (mem->gpu) return;
    if (gan->g.n_buffers) memcpy(gan->step_buffers, gan->g.buffers, gan->g.n_buffers * sizeof(float));
    if (gan->d.n_buffers)
        memcpy(gan->step_buffers + gan->g.n_buffers, gan->d.buffers, gan->d.n_buffers * sizeof(float));
}

// A part's failure st, after putting back what dcgan__gan_mark kept if st is NONFINITE.
static dcgan_status dcgan__gan_undo(dcgan_gan *gan, const dcgan__gan_mem *mem, dcgan_status st) {
    if (st != DCGAN_ERR_NONFINITE) return st;
    gan->rng = gan->step_rng;
    if (mem->gpu) return st;
    if (gan->g.n_buffers) memcpy(gan->g.buffers, gan->step_buffers, gan->g.n_buffers * sizeof(float));
    if (gan->d.n_buffers)
        memcpy(gan->d.buffers, gan->step_buffers + gan->g.n_buffers, gan->d.n_buffers * sizeof(float));
    return st;
}

static dcgan_status dcgan__gan_step(dcgan_gan *gan, const dcgan__gan_mem *mem, const float *dataset,
                                   int n_images, dcgan_gan_stats *stats) {
    const dcgan_gan_config *cfg = &gan->cfg;
    const size_t image = (size_t)cfg->channels * cfg->size * cfg->size;
    const int half = cfg->batch / 2, nb = cfg->batch;
    int signs = 0;
    dcgan_status st;
    // 1. D on real images, label real_label; with ADA, the signs of D(real)
    //    (counted only then: nothing else resets the counters)
    const int ada = cfg->ada_target > 0.0f;
    dcgan__gan_mark(gan, mem);
    if ((st = dcgan__gan_reals(gan, mem, dataset, n_images, half)) != DCGAN_OK ||
        (st = dcgan__d_step(gan, mem, half, cfg->real_label, &stats->d_real_loss, &stats->real_acc,
                            ada ? &signs : NULL)) != DCGAN_OK)
        return dcgan__gan_undo(gan, mem, st);
    if (ada) {
        gan->ada_signs += signs;
        gan->ada_count += half;
    }
    // 2. D on generated images, label fake_label. G runs in the mode its
    //    architecture's row says (fakes_in_training): eval mode for SEED and
    //    PAPER, like Keras' g.predict; training mode (batch statistics) for
    //    DCGAN, like the PyTorch example.
    dcgan__gan_mark(gan, mem);
    if ((st = dcgan__gan_noise(gan, mem, half)) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_forward, (&gan->g, dcgan_tensor_make(mem->noise, half, cfg->latent, 1, 1),
                                                    dcgan_arch_get(cfg->arch)->fakes_in_training, &gan->rng))) !=
            DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_vec_copy, (mem->images, dcgan__gan_out(&gan->g, mem), (size_t)half * image))) !=
            DCGAN_OK ||
        (st = dcgan__d_step(gan, mem, half, cfg->fake_label, &stats->d_fake_loss, &stats->fake_acc, NULL)) != DCGAN_OK)
        return dcgan__gan_undo(gan, mem, st);
    // 3. G through D with label 1 (the non-saturating loss); only G's weights move
    dcgan__gan_mark(gan, mem);
    if ((st = dcgan__gan_noise(gan, mem, nb)) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_zero_grad, (&gan->g))) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_forward, (&gan->g, dcgan_tensor_make(mem->noise, nb, cfg->latent, 1, 1), 1,
                                                    &gan->rng))) != DCGAN_OK)
        return dcgan__gan_undo(gan, mem, st);
    float *d_input = dcgan__gan_out(&gan->g, mem);
    if (cfg->augment) {   // D judges T(G(z)); the gradient comes back through T
        dcgan_diffaug_sample(gan->aug_draws, nb, cfg->size, cfg->size, cfg->augment, gan->augment_p,
                             &gan->rng);
        if ((st = dcgan__gan_augment(mem, 0, mem->aug_images, d_input, gan->aug_draws, nb, cfg->channels,
                                     cfg->size)) != DCGAN_OK)
            return dcgan__gan_undo(gan, mem, st);
        d_input = mem->aug_images;
    }
    if ((st = DCGAN__RUN(mem, dcgan_model_forward, (&gan->d, dcgan_tensor_make(d_input, nb, cfg->channels, cfg->size,
                                                                               cfg->size), 1, &gan->rng))) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_vec_fill, (mem->labels, (size_t)nb, 1.0f))) != DCGAN_OK ||
        (st = dcgan__gan_bce(mem, &stats->g_loss, NULL, dcgan__gan_out(&gan->d, mem), nb)) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_vec_zero, (mem->dimages, (size_t)nb * image))) != DCGAN_OK)
        return dcgan__gan_undo(gan, mem, st);
    // D is frozen here: only the gradient with respect to its input images
    if (cfg->augment) {
        if ((st = DCGAN__RUN(mem, dcgan_vec_zero, (mem->daug_images, (size_t)nb * image))) != DCGAN_OK ||
            (st = DCGAN__RUN(mem, dcgan_model_backward_input, (&gan->d, mem->dlogits, mem->daug_images))) !=
                DCGAN_OK ||
            (st = dcgan__gan_augment(mem, 1, mem->dimages, mem->daug_images, gan->aug_draws, nb, cfg->channels,
                                     cfg->size)) != DCGAN_OK)
            return dcgan__gan_undo(gan, mem, st);
    } else if ((st = DCGAN__RUN(mem, dcgan_model_backward_input, (&gan->d, mem->dlogits, mem->dimages))) !=
               DCGAN_OK) {
        return dcgan__gan_undo(gan, mem, st);
    }
    if ((st = DCGAN__RUN(mem, dcgan_model_backward, (&gan->g, mem->dimages, NULL))) != DCGAN_OK ||
        (st = DCGAN__RUN(mem, dcgan_model_adam_step, (&gan->g, &gan->opt_g))) != DCGAN_OK)
        return dcgan__gan_undo(gan, mem, st);
    gan->iteration++;
    if (gan->ema_params && (st = dcgan__ema_update(gan, mem)) != DCGAN_OK) return st;
    if (cfg->ada_target > 0.0f && gan->iteration % DCGAN_ADA_INTERVAL == 0) dcgan__ada_adjust(gan);
    stats->augment_p = cfg->augment ? gan->augment_p : 0.0f;
    stats->ada_rt = gan->ada_rt;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_gan_train_step(dcgan_gan *gan, const float *dataset,
                                            int n_images, dcgan_gan_stats *stats) {
    if (n_images <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "the dataset is empty");
#ifdef DCGAN_CUDA
    if (gan->on_device) return dcgan_gan_train_step_cuda(gan, dataset, n_images, stats);
#endif
    const dcgan__gan_mem mem = dcgan__gan_host_mem(gan);
    return dcgan__gan_step(gan, &mem, dataset, n_images, stats);
}

#ifdef DCGAN_CUDA
// The same step on the GPU twins: the models and the scratch live on the GPU,
// the dataset goes up once (again only when the caller passes another one).
DCGAN_API dcgan_status dcgan_gan_train_step_cuda(dcgan_gan *gan, const float *dataset, int n_images,
                                                 dcgan_gan_stats *stats) {
    const dcgan_gan_config *cfg = &gan->cfg;
    dcgan_status st;
    if (n_images <= 0) return DCGAN__FAIL(DCGAN_ERR_SHAPE, "the dataset is empty");
    if (cfg->batch / 2 > 4096)   // the real half's indices go up in the GPU's scratch (4096 ints)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "batch %d is above 8192", cfg->batch);
    if (!gan->on_device && (st = dcgan_gan_to_cuda(gan)) != DCGAN_OK) return st;
    if ((!gan->dev.dataset || gan->dev.host_dataset != dataset || gan->dev.count != n_images) &&
        (st = dcgan_gan_upload_dataset_cuda(gan, dataset, n_images)) != DCGAN_OK)
        return st;
    const dcgan__gan_mem mem = {gan->dev.images,      gan->dev.labels,      gan->dev.dlogits,
                                gan->dev.noise,       gan->dev.dimages,     gan->dev.aug_images,
                                gan->dev.daug_images, gan->dev.ema_params,  gan->dev.ema_buffers,
                                gan->g.dev.params,    gan->g.dev.buffers,   1};
    return dcgan__gan_step(gan, &mem, dataset, n_images, stats);
}
#endif

DCGAN_API dcgan_status dcgan_gan_generate(dcgan_gan *gan, float *out, const float *noise, int n) {
    const dcgan_gan_config *cfg = &gan->cfg;
    const size_t image = (size_t)cfg->channels * cfg->size * cfg->size;
    if (n < 0) return DCGAN__FAIL(DCGAN_ERR_SHAPE, "n = %d images", n);
#ifdef DCGAN_CUDA
    if (gan->on_device) return dcgan_gan_generate_cuda(gan, out, noise, n);   // (the averaged G there too)
#endif
    if (gan->ema_params) dcgan__swap_ema(gan);
    dcgan_status st = DCGAN_OK;
    for (int i = 0; i < n && st == DCGAN_OK; i += cfg->batch) {
        int nb = n - i < cfg->batch ? n - i : cfg->batch;
        dcgan_tensor z = dcgan_tensor_make((float *)noise + (size_t)i * cfg->latent, nb,
                                           cfg->latent, 1, 1);
        st = dcgan_model_forward(&gan->g, z, 0, NULL);
        if (st == DCGAN_OK)
            memcpy(out + (size_t)i * image, dcgan_model_output(&gan->g).data,
                   (size_t)nb * image * sizeof(float));
    }
    if (gan->ema_params) dcgan__swap_ema(gan);   // G's own weights back for training
    return st;
}

// -----------------------------------------------------------------------------
// 11. Checkpoints: safetensors files

// Bytes per element of a safetensors dtype, 0 if unknown.
static size_t dcgan__dtype_size(const char *dtype) {
    static const struct { const char *name; size_t size; } table[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
        {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(dtype, table[i].name) == 0) return table[i].size;
    return 0;
}

// A tiny JSON reader for the safetensors header: objects, arrays, strings and
// non-negative integers, which is all the format uses. Every read is bounds-
// checked against end; on error it records the byte offset.
typedef struct {
    const char *p, *begin, *end;
    const char *path;
    char problem[128];
} dcgan__json;

static int dcgan__json_error(dcgan__json *js, const char *what) {
    if (!js->problem[0])
        snprintf(js->problem, sizeof js->problem, "%s at header byte %ld", what,
                 (long)(js->p - js->begin));
    return 0;
}

static void dcgan__json_space(dcgan__json *js) {
    while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
        js->p++;
}

static int dcgan__json_expect(dcgan__json *js, char c) {
    dcgan__json_space(js);
    if (js->p >= js->end || *js->p != c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return dcgan__json_error(js, what);
    }
    js->p++;
    return 1;
}

// Reads a string into out (cap bytes with the NUL); \uXXXX becomes UTF-8.
static int dcgan__json_string(dcgan__json *js, char *out, size_t cap) {
    size_t n = 0;
    if (!dcgan__json_expect(js, '"')) return 0;
    while (js->p < js->end && *js->p != '"') {
        unsigned c = (unsigned char)*js->p++;
        if (c < 0x20) return dcgan__json_error(js, "control character in string");
        if (c == '\\') {
            if (js->p >= js->end) break;
            char e = *js->p++;
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned v = 0;
                if (js->end - js->p < 4) return dcgan__json_error(js, "short \\u escape");
                for (int k = 0; k < 4; k++) {
                    char h = *js->p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else return dcgan__json_error(js, "bad \\u escape");
                }
                // UTF-8 of a code point below 0x10000 (surrogates are kept as they are)
                unsigned char buf[3];
                size_t len;
                if (v < 0x80) { buf[0] = (unsigned char)v; len = 1; }
                else if (v < 0x800) { buf[0] = (unsigned char)(0xC0 | v >> 6); buf[1] = (unsigned char)(0x80 | (v & 0x3F)); len = 2; }
                else { buf[0] = (unsigned char)(0xE0 | v >> 12); buf[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F)); buf[2] = (unsigned char)(0x80 | (v & 0x3F)); len = 3; }
                if (n + len >= cap) return dcgan__json_error(js, "string too long");
                memcpy(out + n, buf, len);
                n += len;
                continue;
            }
            default: return dcgan__json_error(js, "bad escape in string");
            }
        }
        if (n + 1 >= cap) return dcgan__json_error(js, "string too long");
        out[n++] = (char)c;
    }
    if (js->p >= js->end) return dcgan__json_error(js, "unterminated string");
    js->p++;
    out[n] = '\0';
    return 1;
}

// Reads a non-negative integer below 2^63.
static int dcgan__json_uint(dcgan__json *js, uint64_t *out) {
    uint64_t v = 0;
    int digits = 0;
    dcgan__json_space(js);
    while (js->p < js->end && *js->p >= '0' && *js->p <= '9') {
        if (v > (((uint64_t)1 << 63) - 1 - 9) / 10) return dcgan__json_error(js, "integer too large");
        v = v * 10 + (uint64_t)(*js->p++ - '0');
        digits++;
    }
    if (!digits) return dcgan__json_error(js, "expected a non-negative integer");
    *out = v;
    return 1;
}

// Reads [u, u, ...] into out (at most cap values).
static int dcgan__json_uint_array(dcgan__json *js, uint64_t *out, int cap, int *count) {
    int n = 0;
    if (!dcgan__json_expect(js, '[')) return 0;
    dcgan__json_space(js);
    if (js->p < js->end && *js->p == ']') {
        js->p++;
        *count = 0;
        return 1;
    }
    for (;;) {
        if (n >= cap) return dcgan__json_error(js, "array too long");
        if (!dcgan__json_uint(js, &out[n++])) return 0;
        dcgan__json_space(js);
        if (js->p < js->end && *js->p == ',') { js->p++; continue; }
        if (!dcgan__json_expect(js, ']')) return 0;
        break;
    }
    *count = n;
    return 1;
}

// Reads {"dtype": .., "shape": [..], "data_offsets": [b, e]} into t.
static int dcgan__json_tensor(dcgan__json *js, dcgan_st_tensor *t) {
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (!dcgan__json_expect(js, '{')) return 0;
    for (;;) {
        char key[32];
        if (!dcgan__json_string(js, key, sizeof key) || !dcgan__json_expect(js, ':')) return 0;
        if (strcmp(key, "dtype") == 0) {
            if (!dcgan__json_string(js, t->dtype, sizeof t->dtype)) return 0;
            have_dtype = 1;
        } else if (strcmp(key, "shape") == 0) {
            uint64_t dims[8];
            if (!dcgan__json_uint_array(js, dims, 8, &t->ndim)) return 0;
            for (int k = 0; k < t->ndim; k++) t->shape[k] = (int64_t)dims[k];
            have_shape = 1;
        } else if (strcmp(key, "data_offsets") == 0) {
            uint64_t off[2];
            int n;
            if (!dcgan__json_uint_array(js, off, 2, &n)) return 0;
            if (n != 2) return dcgan__json_error(js, "data_offsets needs 2 values");
            t->begin = off[0];
            t->end = off[1];
            have_offsets = 1;
        } else {
            return dcgan__json_error(js, "unknown tensor field");
        }
        dcgan__json_space(js);
        if (js->p < js->end && *js->p == ',') { js->p++; continue; }
        if (!dcgan__json_expect(js, '}')) return 0;
        break;
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return dcgan__json_error(js, "tensor lacks dtype, shape or data_offsets");
    return 1;
}

// Reads the "__metadata__" object of string values into st.
static int dcgan__json_metadata(dcgan__json *js, dcgan_safetensors *st, int cap) {
    if (!dcgan__json_expect(js, '{')) return 0;
    dcgan__json_space(js);
    if (js->p < js->end && *js->p == '}') { js->p++; return 1; }
    for (;;) {
        if (st->n_meta >= cap) return dcgan__json_error(js, "too many metadata entries");
        if (!dcgan__json_string(js, st->meta_keys[st->n_meta], 64) || !dcgan__json_expect(js, ':') ||
            !dcgan__json_string(js, st->meta_values[st->n_meta], 256))
            return 0;
        st->n_meta++;
        dcgan__json_space(js);
        if (js->p < js->end && *js->p == ',') { js->p++; continue; }
        return dcgan__json_expect(js, '}');
    }
}

static int dcgan__cmp_tensor_begin(const void *a, const void *b) {
    const dcgan_st_tensor *x = *(const dcgan_st_tensor *const *)a;
    const dcgan_st_tensor *y = *(const dcgan_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

DCGAN_API void dcgan_safetensors_free(dcgan_safetensors *st) {
    dcgan_free(st->tensors);
    dcgan_free(st->meta_keys);
    dcgan_free(st->meta_values);
    dcgan_free(st->data);
    memset(st, 0, sizeof *st);
}

// Reads a whole file into memory (at most max_size bytes).
static dcgan_status dcgan__read_file(const char *func, const char *path, unsigned char **out,
                                     size_t *size, size_t max_size) {
    FILE *f = fopen(path, "rb");
    long len;
    if (!f) return dcgan__fail(DCGAN_ERR_IO, func, "cannot open '%s': %s", path, strerror(errno));
    // a folder opens on Linux, and then its "size" (ftell: LONG_MAX) asked for
    // that much memory: a first read finds it ("Is a directory")
    errno = 0;
    if (getc(f) == EOF && ferror(f)) {
        const int why = errno;
        fclose(f);
        return dcgan__fail(DCGAN_ERR_IO, func, "cannot read '%s': %s", path,
                           why ? strerror(why) : "read error");
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return dcgan__fail(DCGAN_ERR_IO, func, "cannot seek in '%s'", path);
    }
    if ((size_t)len > max_size) {
        fclose(f);
        return dcgan__fail(DCGAN_ERR_FORMAT, func, "'%s' is %ld bytes, more than the %zu allowed",
                           path, len, max_size);
    }
    *out = (unsigned char *)dcgan__alloc((size_t)len + 1, 1);
    if (!*out) {
        fclose(f);
        return dcgan__fail(DCGAN_ERR_NOMEM, func, "no memory to read '%s' (%ld bytes)", path, len);
    }
    if (fread(*out, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        DCGAN_FREE(*out);
        *out = NULL;
        return dcgan__fail(DCGAN_ERR_IO, func, "cannot read '%s'", path);
    }
    fclose(f);
    *size = (size_t)len;
    return DCGAN_OK;
}

// The largest header we accept; the real ones are a few kilobytes.
#define DCGAN__ST_MAX_HEADER (100u << 20)
#define DCGAN__ST_MAX_TENSORS 100000
#define DCGAN__ST_MAX_META 256

DCGAN_API dcgan_status dcgan_safetensors_read(dcgan_safetensors *st, const char *path) {
    unsigned char *file = NULL;
    size_t size = 0;
    dcgan_safetensors tmp;
    dcgan__json js;
    const dcgan_st_tensor **order = NULL;
    dcgan_status status;
    memset(st, 0, sizeof *st);
    memset(&tmp, 0, sizeof tmp);
    memset(&js, 0, sizeof js);
    status = dcgan__read_file(__func__, path, &file, &size, (size_t)-1 / 2);
    if (status != DCGAN_OK) return status;
    if (size < 8) {
        DCGAN_FREE(file);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is %zu bytes, too short for a safetensors header",
                           path, size);
    }
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | file[k];
    if (hlen > DCGAN__ST_MAX_HEADER) {   // (a text file, an image, ...: no length of a header)
        DCGAN_FREE(file);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT,
                           "'%s' is not a safetensors file (its first 8 bytes, read as the header length, "
                           "say %llu)", path, (unsigned long long)hlen);
    }
    if (hlen > size - 8) {
        DCGAN_FREE(file);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT,
                           "'%s': header length %llu does not fit the %zu-byte file: it is truncated, or "
                           "not a safetensors file", path, (unsigned long long)hlen, size);
    }
    // Count the tensors roughly (one per "data_offsets") to size the table.
    int cap = 1;
    for (size_t i = 8; i + 12 <= 8 + hlen; i++)
        if (memcmp(file + i, "data_offsets", 12) == 0) cap++;
    if (cap > DCGAN__ST_MAX_TENSORS) cap = DCGAN__ST_MAX_TENSORS;
    tmp.tensors = (dcgan_st_tensor *)dcgan__calloc((size_t)cap, sizeof(dcgan_st_tensor));
    tmp.meta_keys = (char(*)[64])dcgan__calloc(DCGAN__ST_MAX_META, 64);
    tmp.meta_values = (char(*)[256])dcgan__calloc(DCGAN__ST_MAX_META, 256);
    if (!tmp.tensors || !tmp.meta_keys || !tmp.meta_values) {
        status = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the header of '%s'", path);
        goto fail;
    }
    js.begin = js.p = (const char *)file + 8;
    js.end = js.begin + hlen;
    js.path = path;
    if (!dcgan__json_expect(&js, '{')) goto bad;
    dcgan__json_space(&js);
    if (js.p < js.end && *js.p == '}') {
        js.p++;
    } else {
        for (;;) {
            char name[128];
            if (!dcgan__json_string(&js, name, sizeof name) || !dcgan__json_expect(&js, ':')) goto bad;
            if (strcmp(name, "__metadata__") == 0) {
                if (!dcgan__json_metadata(&js, &tmp, DCGAN__ST_MAX_META)) goto bad;
            } else {
                if (tmp.n_tensors >= cap) {
                    dcgan__json_error(&js, "more tensors than the header can hold");
                    goto bad;
                }
                dcgan_st_tensor *t = &tmp.tensors[tmp.n_tensors];
                for (int k = 0; k < tmp.n_tensors; k++) {
                    if (strcmp(tmp.tensors[k].name, name) == 0) {
                        dcgan__json_error(&js, "duplicate tensor name");
                        goto bad;
                    }
                }
                snprintf(t->name, sizeof t->name, "%s", name);
                if (!dcgan__json_tensor(&js, t)) goto bad;
                tmp.n_tensors++;
            }
            dcgan__json_space(&js);
            if (js.p < js.end && *js.p == ',') { js.p++; continue; }
            if (!dcgan__json_expect(&js, '}')) goto bad;
            break;
        }
    }
    dcgan__json_space(&js);
    if (js.p != js.end) {
        dcgan__json_error(&js, "trailing bytes after the JSON object");
        goto bad;
    }
    // Each tensor: a known dtype, a byte range that matches its shape and lies
    // inside the data; together the ranges tile the data without gaps.
    tmp.data_size = (uint64_t)(size - 8 - hlen);
    for (int i = 0; i < tmp.n_tensors; i++) {
        dcgan_st_tensor *t = &tmp.tensors[i];
        size_t esize = dcgan__dtype_size(t->dtype);
        uint64_t bytes = esize;
        if (!esize) {
            status = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor '%s' has unknown dtype '%s'", path,
                                 t->name, t->dtype);
            goto fail;
        }
        for (int k = 0; k < t->ndim; k++) {
            uint64_t d = (uint64_t)t->shape[k];
            if (d != 0 && bytes > ((uint64_t)1 << 62) / d) {
                status = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor '%s' shape is too large", path, t->name);
                goto fail;
            }
            bytes *= d;
        }
        if (t->end >= t->begin && t->end - t->begin == bytes && t->end > tmp.data_size) {
            status = DCGAN__FAIL(DCGAN_ERR_FORMAT,
                                 "'%s': tensor '%s' ends at byte %llu of the data, which holds %llu "
                                 "bytes: the file is truncated", path, t->name, (unsigned long long)t->end,
                                 (unsigned long long)tmp.data_size);
            goto fail;
        }
        if (t->end < t->begin || t->end - t->begin != bytes) {
            status = DCGAN__FAIL(DCGAN_ERR_FORMAT,
                                 "'%s': tensor '%s' has offsets [%llu, %llu] but needs %llu bytes "
                                 "inside %llu bytes of data", path, t->name,
                                 (unsigned long long)t->begin, (unsigned long long)t->end,
                                 (unsigned long long)bytes, (unsigned long long)tmp.data_size);
            goto fail;
        }
    }
    order = (const dcgan_st_tensor **)dcgan__alloc((size_t)tmp.n_tensors + 1, sizeof(*order));
    if (!order) {
        status = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to check '%s'", path);
        goto fail;
    }
    for (int i = 0; i < tmp.n_tensors; i++) order[i] = &tmp.tensors[i];
    qsort(order, (size_t)tmp.n_tensors, sizeof(*order), dcgan__cmp_tensor_begin);
    {
        uint64_t next = 0;
        for (int i = 0; i < tmp.n_tensors; i++) {
            if (order[i]->begin != next) {
                status = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor '%s' starts at byte %llu, "
                                     "expected %llu (a gap or an overlap)", path, order[i]->name,
                                     (unsigned long long)order[i]->begin, (unsigned long long)next);
                goto fail;
            }
            next = order[i]->end;
        }
        if (next != tmp.data_size) {
            status = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensors cover %llu of %llu data bytes", path,
                                 (unsigned long long)next, (unsigned long long)tmp.data_size);
            goto fail;
        }
    }
    DCGAN_FREE(order);
    // Keep only the data part of the file.
    tmp.data = (unsigned char *)dcgan__alloc((size_t)tmp.data_size + 1, 1);
    if (!tmp.data) {
        status = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the data of '%s'", path);
        goto fail_free;
    }
    memcpy(tmp.data, file + 8 + hlen, (size_t)tmp.data_size);
    DCGAN_FREE(file);
    *st = tmp;
    return DCGAN_OK;
bad:
    status = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s", path, js.problem[0] ? js.problem : "bad header");
fail:
    dcgan_free((void *)order);
fail_free:
    DCGAN_FREE(file);
    dcgan_safetensors_free(&tmp);
    return status;
}

DCGAN_API const dcgan_st_tensor *dcgan_safetensors_find(const dcgan_safetensors *st,
                                                        const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

DCGAN_API const char *dcgan_safetensors_meta(const dcgan_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

// Writes s as a JSON string (with quotes) into the growing buffer.
static int dcgan__json_put_string(FILE *f, const char *s) {
    if (fputc('"', f) == EOF) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            if (fputc('\\', f) == EOF || fputc(c, f) == EOF) return 0;
        } else if (c < 0x20) {
            if (fprintf(f, "\\u%04x", c) < 0) return 0;
        } else if (fputc(c, f) == EOF) {
            return 0;
        }
    }
    return fputc('"', f) != EOF;
}

// Writes the header JSON to f; returns its length in bytes, or -1 on error.
static long dcgan__st_header(FILE *f, const dcgan_st_write_tensor *tensors, int n_tensors,
                             const char *const *meta_keys, const char *const *meta_values,
                             int n_meta) {
    uint64_t offset = 0;
    long start = ftell(f);
    if (fputc('{', f) == EOF) return -1;
    if (n_meta > 0) {
        if (!dcgan__json_put_string(f, "__metadata__") || fputs(":{", f) == EOF) return -1;
        for (int i = 0; i < n_meta; i++) {
            if (i && fputc(',', f) == EOF) return -1;
            if (!dcgan__json_put_string(f, meta_keys[i]) || fputc(':', f) == EOF ||
                !dcgan__json_put_string(f, meta_values[i]))
                return -1;
        }
        if (fputc('}', f) == EOF) return -1;
    }
    for (int i = 0; i < n_tensors; i++) {
        const dcgan_st_write_tensor *t = &tensors[i];
        uint64_t count = 1;
        if ((i || n_meta > 0) && fputc(',', f) == EOF) return -1;
        if (!dcgan__json_put_string(f, t->name) || fputs(":{\"dtype\":\"F32\",\"shape\":[", f) == EOF)
            return -1;
        for (int k = 0; k < t->ndim; k++) {
            if (fprintf(f, k ? ",%lld" : "%lld", (long long)t->shape[k]) < 0) return -1;
            count *= (uint64_t)t->shape[k];
        }
        if (fprintf(f, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                    (unsigned long long)(offset + 4 * count)) < 0)
            return -1;
        offset += 4 * count;
    }
    if (fputc('}', f) == EOF) return -1;
    return ftell(f) - start;
}

// Writes n floats as little-endian bytes.
static int dcgan__write_f32(FILE *f, const float *data, size_t n) {
    unsigned char buf[4096];
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe == 1) return fwrite(data, sizeof(float), n, f) == n;
    for (size_t i = 0; i < n; i += sizeof buf / 4) {
        size_t m = n - i < sizeof buf / 4 ? n - i : sizeof buf / 4;
        for (size_t k = 0; k < m; k++) {
            uint32_t u;
            memcpy(&u, &data[i + k], 4);
            for (int b = 0; b < 4; b++) buf[4 * k + (size_t)b] = (unsigned char)(u >> (8 * b));
        }
        if (fwrite(buf, 4, m, f) != m) return 0;
    }
    return 1;
}

DCGAN_API dcgan_status dcgan_safetensors_write(const char *path,
                                               const dcgan_st_write_tensor *tensors,
                                               int n_tensors, const char *const *meta_keys,
                                               const char *const *meta_values, int n_meta) {
    char tmp_path[4096];
    FILE *f;
    unsigned char len_bytes[8];
    int ok;
    dcgan_status st;
    // only what dcgan_safetensors_read reads back (a longer value made a file it refused)
    if (n_meta < 0 || n_meta > DCGAN__ST_MAX_META)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %d metadata entries (0 to %d can be read back)", path, n_meta,
                           DCGAN__ST_MAX_META);
    for (int i = 0; i < n_meta; i++)
        if (strlen(meta_keys[i]) >= 64 || strlen(meta_values[i]) >= 256)
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': metadata '%.40s%s' is %zu bytes long with a value of %zu "
                               "(keys below 64 and values below 256 can be read back)", path, meta_keys[i],
                               strlen(meta_keys[i]) > 40 ? "..." : "", strlen(meta_keys[i]), strlen(meta_values[i]));
    for (int i = 0; i < n_tensors; i++)
        if (strlen(tensors[i].name) >= 128)
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor name '%.40s...' is %zu bytes (below 128 can be "
                               "read back)", path, tensors[i].name, strlen(tensors[i].name));
    // a JSON object with a key twice: a reader finds one of the two (a caller's
    // metadata "format" beside the library's own could never be read back)
    for (int i = 0; i < n_meta; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(meta_keys[i], meta_keys[j]) == 0)
                return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': metadata key '%s' is given twice (entries %d and %d); "
                                   "nothing was written", path, meta_keys[i], j, i);
    for (int i = 0; i < n_tensors; i++)
        if (strcmp(tensors[i].name, "__metadata__") == 0)   // the header's own key
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor %d is named '__metadata__', the name the header's "
                               "metadata takes; nothing was written", path, i);
    for (int i = 0; i < n_tensors; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(tensors[i].name, tensors[j].name) == 0)
                return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor name '%s' is given twice (tensors %d and %d); "
                                   "nothing was written", path, tensors[i].name, j, i);
    if ((f = dcgan__tmp_open(__func__, path, tmp_path, sizeof tmp_path, &st)) == NULL) return st;
    // First pass: the header after an 8-byte placeholder, to learn its length.
    ok = fwrite("\0\0\0\0\0\0\0\0", 1, 8, f) == 8;
    long hlen = ok ? dcgan__st_header(f, tensors, n_tensors, meta_keys, meta_values, n_meta) : -1;
    ok = hlen >= 0;
    // pad with spaces so the data starts at a multiple of 8 bytes
    while (ok && (8 + hlen) % 8 != 0) {
        ok = fputc(' ', f) != EOF;
        hlen++;
    }
    for (int i = 0; ok && i < n_tensors; i++) {
        size_t count = 1;
        for (int k = 0; k < tensors[i].ndim; k++) count *= (size_t)tensors[i].shape[k];
        ok = dcgan__write_f32(f, tensors[i].data, count);
    }
    for (int b = 0; b < 8; b++) len_bytes[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
    ok = ok && fseek(f, 0, SEEK_SET) == 0 && fwrite(len_bytes, 1, 8, f) == 8;
    return dcgan__tmp_commit(__func__, f, ok, tmp_path, path);
}

// GAN checkpoints. Metadata holds every number as text: floats with %.17g so
// that they read back bit for bit. "data_fnv1a64" is the FNV-1a 64-bit hash
// (Fowler, Noll, Vo) of all tensor bytes, so a flipped bit in the weights is
// caught on load.

#define DCGAN__FNV_OFFSET 14695981039346656037ULL
#define DCGAN__FNV_PRIME 1099511628211ULL

// FNV-1a over n little-endian bytes.
static uint64_t dcgan__fnv1a64(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= DCGAN__FNV_PRIME;
    }
    return h;
}

// FNV-1a over the little-endian bytes of n floats.
static uint64_t dcgan__fnv1a64_f32(uint64_t h, const float *data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &data[i], 4);
        for (int k = 0; k < 4; k++) b[k] = (unsigned char)(u >> (8 * k));
        h = dcgan__fnv1a64(h, b, 4);
    }
    return h;
}

#define DCGAN__CKPT_FORMAT "dcgan.h checkpoint"
#define DCGAN__MODEL_FORMAT "dcgan.h model"   // dcgan_model_save's files
#define DCGAN__CKPT_MAX_META 48

// Version 2 (since session 25) extends data_fnv1a64 past the tensor bytes over
// the metadata gan_save writes before it, in this order, each key and value
// with its terminating 0: a changed digit of the iteration, a learning rate or
// the random state is caught as damage. Version 1 hashed the tensors alone (a
// flipped bit of "iteration" went unseen, and --resume rewrote the log from
// the wrong row); its files still load, with that weaker check.
#define DCGAN__CKPT_VERSION 2
static const char *const dcgan__ckpt_keys[] = {
    "format",     "version",     "arch",        "size",        "channels",       "width",      "latent",
    "batch",      "lr_d",        "lr_g",        "beta1",       "beta2",          "adam_mode",  "real_label",
    "fake_label", "seed",        "iteration",   "G.adam.step", "D.adam.step",    "G.adam.lr",  "D.adam.lr",
    "rng.state",  "rng.inc",     "rng.has_spare", "rng.spare_bits", "augment",   "augment_p",  "ada_target",
    "ada_kimg",   "ema_kimg",    "ema_rampup",  "ada.p",       "ada.signs",      "ada.count",  "ada.rt"};
#define DCGAN__CKPT_KEYS ((int)(sizeof dcgan__ckpt_keys / sizeof dcgan__ckpt_keys[0]))
// Iterations and Adam steps a checkpoint may claim: far beyond any run, and
// far enough below INT64_MAX that step + 1 never overflows.
#define DCGAN__MAX_STEP ((uint64_t)1 << 62)

// The hash continued over one metadata entry.
static uint64_t dcgan__fnv1a64_meta(uint64_t h, const char *key, const char *value) {
    h = dcgan__fnv1a64(h, (const unsigned char *)key, strlen(key) + 1);
    return dcgan__fnv1a64(h, (const unsigned char *)value, strlen(value) + 1);
}

typedef struct {
    int n;
    const char *keys[DCGAN__CKPT_MAX_META];
    const char *values[DCGAN__CKPT_MAX_META];
    char store[DCGAN__CKPT_MAX_META][64];
} dcgan__meta_list;

static void dcgan__meta_add(dcgan__meta_list *ml, const char *key, const char *fmt, ...) {
    va_list ap;
    DCGAN_ASSERT(ml->n < DCGAN__CKPT_MAX_META);
    if (ml->n >= DCGAN__CKPT_MAX_META) return;
    va_start(ap, fmt);
    vsnprintf(ml->store[ml->n], sizeof ml->store[0], fmt, ap);
    va_end(ap);
    ml->keys[ml->n] = key;
    ml->values[ml->n] = ml->store[ml->n];
    ml->n++;
}

// The model's named tensors (parameters and BatchNorm statistics) as a write list.
static int dcgan__model_tensor_list(const dcgan_model *m, dcgan_st_write_tensor *out,
                                    char (*names)[80]) {
    int n = dcgan_model_tensor_count(m);
    for (int i = 0; i < n; i++) {
        dcgan_param_info info;
        dcgan_model_tensor_info(m, i, &info);
        snprintf(names[i], 80, "%s", info.name);
        out[i].name = names[i];
        out[i].data = info.data;
        out[i].ndim = info.ndim;
        for (int k = 0; k < info.ndim; k++) out[i].shape[k] = info.shape[k];
    }
    return n;
}

// The named tensors of one model plus its two Adam moment buffers.
static int dcgan__model_write_list(const dcgan_model *m, const char *tag,
                                   dcgan_st_write_tensor *out, char (*names)[80]) {
    int n = dcgan__model_tensor_list(m, out, names);
    snprintf(names[n], 80, "%s.adam.exp_avg", tag);
    out[n].name = names[n];
    out[n].data = m->adam_m;
    out[n].ndim = 1;
    out[n].shape[0] = (int64_t)m->n_params;
    n++;
    snprintf(names[n], 80, "%s.adam.exp_avg_sq", tag);
    out[n].name = names[n];
    out[n].data = m->adam_v;
    out[n].ndim = 1;
    out[n].shape[0] = (int64_t)m->n_params;
    n++;
    return n;
}

// The averaged generator seen as a model: G's layers over the averaged
// buffers, prefix "G_ema.main", so its tensors are named like G's
// ("G_ema.main.0.weight": PyTorch loads them as G's after the prefix).
static dcgan_model dcgan__ema_view(const dcgan_gan *gan) {
    dcgan_model ema = gan->g;
    ema.params = gan->ema_params;
    if (gan->g.n_buffers) ema.buffers = gan->ema_buffers;
    snprintf(ema.prefix, sizeof ema.prefix, "G_ema.main");
    return ema;
}

// Every tensor of a GAN checkpoint in file order: G with its Adam moments, D
// with its Adam moments, then the averaged G's tensors if there is one.
static int dcgan__gan_write_list(const dcgan_gan *gan, dcgan_st_write_tensor *list, char (*names)[80]) {
    int n = dcgan__model_write_list(&gan->g, "G", list, names);
    n += dcgan__model_write_list(&gan->d, "D", list + n, names + n);
    if (gan->ema_params) {
        dcgan_model ema = dcgan__ema_view(gan);
        n += dcgan__model_tensor_list(&ema, list + n, names + n);
    }
    return n;
}

// How many tensors dcgan__gan_write_list lists.
static int dcgan__gan_tensor_count(const dcgan_gan *gan) {
    int g = dcgan_model_tensor_count(&gan->g);
    return g + dcgan_model_tensor_count(&gan->d) + 4 + (gan->ema_params ? g : 0);
}

// The index of the first NaN or Inf in v[0..n), or n.
static size_t dcgan__first_nonfinite(const float *v, size_t n) {
    size_t i = 0;
    while (i < n && isfinite(v[i])) i++;
    return i;
}

DCGAN_API dcgan_status dcgan_gan_save(const dcgan_gan *gan, const char *path,
                                      const char *const *extra_keys,
                                      const char *const *extra_values, int n_extra) {
    const dcgan_gan_config *c = &gan->cfg;
    dcgan__meta_list ml;
    if (n_extra < 0 || n_extra > 16)   // (they were cut to 16 without a word)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "%d extra metadata entries; '%s' was not written (0 to 16 can be added)",
                           n_extra, path);
#ifdef DCGAN_CUDA
    // the host buffers are a cache of the GPU state: refresh them first
    if (gan->on_device) {
        dcgan_status sync = dcgan_gan_from_cuda((dcgan_gan *)gan);
        if (sync != DCGAN_OK) return sync;
    }
#endif
    // A checkpoint never holds NaN or Inf: a diverged model is not saved (checked before
    // anything is allocated).
    for (int k = 0; k < 2; k++) {
        const dcgan_model *m = k ? &gan->d : &gan->g;
        size_t i = dcgan__first_nonfinite(m->params, m->n_params), j = dcgan__first_nonfinite(m->adam_m, m->n_params);
        if (j < i) i = j;
        if ((j = dcgan__first_nonfinite(m->adam_v, m->n_params)) < i) i = j;
        if (i < m->n_params)
            return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "model '%s' has a NaN or Inf at parameter %zu; "
                               "'%s' was not written", m->prefix, i, path);
        if ((i = dcgan__first_nonfinite(m->buffers, m->n_buffers)) < m->n_buffers)   // BatchNorm running statistics
            return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "model '%s' has a NaN or Inf in its running statistics at "
                               "%zu; '%s' was not written", m->prefix, i, path);
    }
    size_t bad;
    if (gan->ema_params && (bad = dcgan__first_nonfinite(gan->ema_params, gan->g.n_params)) < gan->g.n_params)
        return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "the averaged G has a NaN or Inf at parameter %zu; "
                           "'%s' was not written", bad, path);
    if (gan->ema_buffers && (bad = dcgan__first_nonfinite(gan->ema_buffers, gan->g.n_buffers)) < gan->g.n_buffers)
        return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "the averaged G has a NaN or Inf in its running statistics at %zu; "
                           "'%s' was not written", bad, path);
    int nt = dcgan__gan_tensor_count(gan);
    dcgan_st_write_tensor *list = (dcgan_st_write_tensor *)dcgan__calloc((size_t)nt, sizeof(*list));
    char(*names)[80] = (char(*)[80])dcgan__calloc((size_t)nt, 80);
    char policy[64];
    const char *keys[DCGAN__CKPT_MAX_META + 16], *values[DCGAN__CKPT_MAX_META + 16];
    uint64_t spare_bits;
    dcgan_status st;
    if (!list || !names) {
        dcgan_free(list);
        dcgan_free(names);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to list %d tensors", nt);
    }
    dcgan_diffaug_name(c->augment, policy, sizeof policy);

    memset(&ml, 0, sizeof ml);
    memcpy(&spare_bits, &gan->rng.spare, sizeof spare_bits);
    dcgan__meta_add(&ml, "format", "%s", DCGAN__CKPT_FORMAT);
    dcgan__meta_add(&ml, "version", "%d", DCGAN__CKPT_VERSION);
    dcgan__meta_add(&ml, "arch", "%s", dcgan_arch_name(c->arch));
    dcgan__meta_add(&ml, "size", "%d", c->size);
    dcgan__meta_add(&ml, "channels", "%d", c->channels);
    dcgan__meta_add(&ml, "width", "%.9g", (double)c->width);
    dcgan__meta_add(&ml, "latent", "%d", c->latent);
    dcgan__meta_add(&ml, "batch", "%d", c->batch);
    dcgan__meta_add(&ml, "lr_d", "%.17g", c->lr_d);
    dcgan__meta_add(&ml, "lr_g", "%.17g", c->lr_g);
    dcgan__meta_add(&ml, "beta1", "%.17g", c->beta1);
    dcgan__meta_add(&ml, "beta2", "%.17g", c->beta2);
    dcgan__meta_add(&ml, "adam_mode", "%s", c->adam_mode == DCGAN_ADAM_KERAS ? "keras" : "pytorch");
    dcgan__meta_add(&ml, "real_label", "%.9g", (double)c->real_label);
    dcgan__meta_add(&ml, "fake_label", "%.9g", (double)c->fake_label);
    dcgan__meta_add(&ml, "seed", "%llu", (unsigned long long)c->seed);
    dcgan__meta_add(&ml, "iteration", "%lld", (long long)gan->iteration);
    dcgan__meta_add(&ml, "G.adam.step", "%lld", (long long)gan->opt_g.step);
    dcgan__meta_add(&ml, "D.adam.step", "%lld", (long long)gan->opt_d.step);
    dcgan__meta_add(&ml, "G.adam.lr", "%.17g", gan->opt_g.lr);
    dcgan__meta_add(&ml, "D.adam.lr", "%.17g", gan->opt_d.lr);
    dcgan__meta_add(&ml, "rng.state", "%llu", (unsigned long long)gan->rng.state);
    dcgan__meta_add(&ml, "rng.inc", "%llu", (unsigned long long)gan->rng.inc);
    dcgan__meta_add(&ml, "rng.has_spare", "%d", gan->rng.has_spare);
    dcgan__meta_add(&ml, "rng.spare_bits", "%llu", (unsigned long long)spare_bits);
    dcgan__meta_add(&ml, "augment", "%s", policy);
    dcgan__meta_add(&ml, "augment_p", "%.9g", (double)c->augment_p);
    dcgan__meta_add(&ml, "ada_target", "%.9g", (double)c->ada_target);
    dcgan__meta_add(&ml, "ada_kimg", "%.9g", (double)c->ada_kimg);
    dcgan__meta_add(&ml, "ema_kimg", "%.9g", (double)c->ema_kimg);
    dcgan__meta_add(&ml, "ema_rampup", "%.9g", (double)c->ema_rampup);
    dcgan__meta_add(&ml, "ada.p", "%.9g", (double)gan->augment_p);
    dcgan__meta_add(&ml, "ada.signs", "%d", gan->ada_signs);
    dcgan__meta_add(&ml, "ada.count", "%d", gan->ada_count);
    dcgan__meta_add(&ml, "ada.rt", "%.9g", (double)gan->ada_rt);
    for (int i = 0; i < ml.n; i++) {
        keys[i] = ml.keys[i];
        values[i] = ml.values[i];
    }
    int n = dcgan__gan_write_list(gan, list, names);
    uint64_t hash = DCGAN__FNV_OFFSET;
    for (int i = 0; i < n; i++) {
        size_t count = 1;
        for (int k = 0; k < list[i].ndim; k++) count *= (size_t)list[i].shape[k];
        hash = dcgan__fnv1a64_f32(hash, list[i].data, count);
    }
    DCGAN_ASSERT(ml.n == DCGAN__CKPT_KEYS);   // the entries above are dcgan__ckpt_keys, in order
    for (int i = 0; i < ml.n; i++) {
        DCGAN_ASSERT(strcmp(ml.keys[i], dcgan__ckpt_keys[i]) == 0);
        hash = dcgan__fnv1a64_meta(hash, ml.keys[i], ml.values[i]);
    }
    dcgan__meta_add(&ml, "data_fnv1a64", "%llu", (unsigned long long)hash);
    keys[ml.n - 1] = ml.keys[ml.n - 1];
    values[ml.n - 1] = ml.values[ml.n - 1];
    for (int i = 0; i < n_extra; i++) {
        keys[ml.n + i] = extra_keys[i];
        values[ml.n + i] = extra_values[i];
    }
    st = dcgan_safetensors_write(path, list, n, keys, values, ml.n + n_extra);
    dcgan_free(list);
    dcgan_free(names);
    return st;
}

// Parses a decimal metadata value; 0 if missing or malformed.
static int dcgan__meta_u64(const dcgan_safetensors *st, const char *key, uint64_t *out) {
    const char *v = dcgan_safetensors_meta(st, key);
    char *end;
    if (!v || !*v || *v == '-') return 0;
    *out = (uint64_t)strtoull(v, &end, 10);
    return *end == '\0';
}

static int dcgan__meta_double(const dcgan_safetensors *st, const char *key, double *out) {
    const char *v = dcgan_safetensors_meta(st, key);
    char *end;
    if (!v || !*v) return 0;
    *out = strtod(v, &end);
    return *end == '\0' && isfinite(*out);
}

// A signed decimal metadata value; 0 if missing or malformed.
static int dcgan__meta_int(const dcgan_safetensors *st, const char *key, long *out) {
    const char *v = dcgan_safetensors_meta(st, key);
    char *end;
    if (!v || !*v) return 0;
    *out = strtol(v, &end, 10);
    return *end == '\0';
}

// The little-data settings of a checkpoint's metadata. Files written before
// they existed have none of the keys: the settings stay off.
static dcgan_status dcgan__small_data_from_meta(dcgan_gan_config *cfg, const dcgan_safetensors *st,
                                                const char *path) {
    const char *policy = dcgan_safetensors_meta(st, "augment");
    double p, target, kimg, ema, rampup;
    if (!policy) return DCGAN_OK;
    if (dcgan_diffaug_parse(policy, &cfg->augment) != DCGAN_OK ||
        !dcgan__meta_double(st, "augment_p", &p) || !dcgan__meta_double(st, "ada_target", &target) ||
        !dcgan__meta_double(st, "ada_kimg", &kimg) || !dcgan__meta_double(st, "ema_kimg", &ema) ||
        !dcgan__meta_double(st, "ema_rampup", &rampup))
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the augmentation and averaging settings in the "
                           "metadata are malformed", path);
    cfg->augment_p = (float)p;
    cfg->ada_target = (float)target;
    cfg->ada_kimg = (float)kimg;
    cfg->ema_kimg = (float)ema;
    cfg->ema_rampup = (float)rampup;
    return DCGAN_OK;
}

// Fills cfg from the metadata of an open checkpoint.
static dcgan_status dcgan__config_from_meta(dcgan_gan_config *cfg, const dcgan_safetensors *st,
                                            const char *path) {
    uint64_t version, size, channels, latent, batch, seed;
    double width, lr_d, lr_g, b1, b2, real_label, fake_label;
    const char *format = dcgan_safetensors_meta(st, "format");
    const char *arch = dcgan_safetensors_meta(st, "arch");
    const char *mode = dcgan_safetensors_meta(st, "adam_mode");
    if (format && strcmp(format, DCGAN__MODEL_FORMAT) == 0)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' holds one model (model_save, as classify train writes), "
                           "not a GAN checkpoint (gan_save, as train writes)", path);
    if (!format || strcmp(format, DCGAN__CKPT_FORMAT) != 0)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is a safetensors file but not a dcgan.h checkpoint "
                           "(metadata 'format' is %s)", path, format ? format : "missing");
    if (!dcgan__meta_u64(st, "version", &version) || version < 1 || version > DCGAN__CKPT_VERSION)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is version %s, this build reads 1 to %d", path,
                           dcgan_safetensors_meta(st, "version") ? dcgan_safetensors_meta(st, "version") : "?",
                           DCGAN__CKPT_VERSION);
    dcgan_gan_config_default(cfg);
    if (!arch || dcgan_arch_parse(arch, &cfg->arch) != DCGAN_OK || !mode ||
        !dcgan__meta_u64(st, "size", &size) || !dcgan__meta_u64(st, "channels", &channels) ||
        !dcgan__meta_u64(st, "latent", &latent) || !dcgan__meta_u64(st, "batch", &batch) ||
        !dcgan__meta_u64(st, "seed", &seed) || !dcgan__meta_double(st, "width", &width) ||
        !dcgan__meta_double(st, "lr_d", &lr_d) || !dcgan__meta_double(st, "lr_g", &lr_g) ||
        !dcgan__meta_double(st, "beta1", &b1) || !dcgan__meta_double(st, "beta2", &b2) ||
        !dcgan__meta_double(st, "real_label", &real_label) ||
        !dcgan__meta_double(st, "fake_label", &fake_label) || size > 4096 || channels > 4 ||
        latent > 1000000 || batch > 1000000 || !(lr_d >= 0.0) || !(lr_g >= 0.0) || !(b1 >= 0.0 && b1 < 1.0) ||
        !(b2 >= 0.0 && b2 < 1.0))
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the configuration in the metadata is missing "
                           "or malformed", path);
    cfg->size = (int)size;
    cfg->channels = (int)channels;
    cfg->latent = (int)latent;
    cfg->batch = (int)batch;
    cfg->seed = seed;
    cfg->width = (float)width;
    cfg->lr_d = lr_d;
    cfg->lr_g = lr_g;
    cfg->beta1 = b1;
    cfg->beta2 = b2;
    cfg->adam_mode = strcmp(mode, "keras") == 0 ? DCGAN_ADAM_KERAS : DCGAN_ADAM_PYTORCH;
    cfg->real_label = (float)real_label;
    cfg->fake_label = (float)fake_label;
    return dcgan__small_data_from_meta(cfg, st, path);
}

DCGAN_API dcgan_status dcgan_gan_config_load(dcgan_gan_config *cfg, const char *path) {
    dcgan_safetensors st;
    dcgan_gan_config tmp;
    dcgan_status s = dcgan_safetensors_read(&st, path);
    if (s != DCGAN_OK) return s;
    s = dcgan__as(dcgan__config_from_meta(&tmp, &st, path), __func__);
    dcgan_safetensors_free(&st);
    if (s == DCGAN_OK) *cfg = tmp;
    return s;
}

// A shape as text, "[8, 4, 4, 4]" ("[]" for none), cut short to fit cap.
static void dcgan__shape_text(char *out, size_t cap, const int64_t *shape, int ndim) {
    size_t at = (size_t)snprintf(out, cap, "[");
    for (int k = 0; k < ndim && at < cap; k++)
        at += (size_t)snprintf(out + at, cap - at, k ? ", %lld" : "%lld", (long long)shape[k]);
    if (at < cap) snprintf(out + at, cap - at, "]");
}

// Checks that the file holds every tensor of the list with dtype F32 and the
// same shape; the message names func (the public function that loads).
static dcgan_status dcgan__check_tensors(const char *func, const dcgan_safetensors *st,
                                         const char *path,
                                         const dcgan_st_write_tensor *list, int n) {
    for (int i = 0; i < n; i++) {
        const dcgan_st_tensor *t = dcgan_safetensors_find(st, list[i].name);
        int same = t && t->ndim == list[i].ndim && strcmp(t->dtype, "F32") == 0;
        for (int k = 0; same && k < t->ndim; k++) same = t->shape[k] == list[i].shape[k];
        if (!t)
            return dcgan__fail(DCGAN_ERR_FORMAT, func, "'%s' has no tensor '%s'", path, list[i].name);
        if (!same) {   // both shapes whole: "[8, 4, 4, 4]" (the first sizes alone can agree)
            char has[160], needs[160];
            dcgan__shape_text(has, sizeof has, t->shape, t->ndim);
            dcgan__shape_text(needs, sizeof needs, list[i].shape, list[i].ndim);
            return dcgan__fail(DCGAN_ERR_FORMAT, func, "'%s': tensor '%s' is %s %s, the model needs F32 %s", path,
                               list[i].name, t->dtype, has, needs);
        }
    }
    return DCGAN_OK;
}

// Copies little-endian float bytes into dst.
static void dcgan__read_f32(float *dst, const unsigned char *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(&dst[i], &u, 4);
    }
}

DCGAN_API dcgan_status dcgan_gan_load(dcgan_gan *gan, const char *path) {
    dcgan_safetensors st;
    dcgan_gan_config cfg;
    dcgan_status s;
    uint64_t iteration, g_step, d_step, rng_state, rng_inc, has_spare, spare_bits, hash;
    double g_lr, d_lr, ada_p = gan->augment_p, ada_rt = 0.0;
    long ada_signs = 0, ada_count = 0;
    int nt = dcgan__gan_tensor_count(gan);
    dcgan_st_write_tensor *list = NULL;
    char(*names)[80] = NULL;
    if ((s = dcgan_safetensors_read(&st, path)) != DCGAN_OK) return s;
    if ((s = dcgan__as(dcgan__config_from_meta(&cfg, &st, path), __func__)) != DCGAN_OK) goto done;
    if (cfg.arch != gan->cfg.arch || cfg.size != gan->cfg.size || cfg.channels != gan->cfg.channels ||
        cfg.width != gan->cfg.width || cfg.latent != gan->cfg.latent) {
        s = DCGAN__FAIL(DCGAN_ERR_SHAPE, "'%s' holds a %s model %dx%dx%d width %g Z %d; this one is "
                        "%s %dx%dx%d width %g Z %d", path, dcgan_arch_name(cfg.arch), cfg.channels,
                        cfg.size, cfg.size, (double)cfg.width, cfg.latent,
                        dcgan_arch_name(gan->cfg.arch), gan->cfg.channels, gan->cfg.size,
                        gan->cfg.size, (double)gan->cfg.width, gan->cfg.latent);
        goto done;
    }
    if (!dcgan__meta_u64(&st, "iteration", &iteration) || !dcgan__meta_u64(&st, "G.adam.step", &g_step) ||
        !dcgan__meta_u64(&st, "D.adam.step", &d_step) || !dcgan__meta_u64(&st, "rng.state", &rng_state) ||
        !dcgan__meta_u64(&st, "rng.inc", &rng_inc) || !dcgan__meta_u64(&st, "rng.has_spare", &has_spare) ||
        !dcgan__meta_u64(&st, "rng.spare_bits", &spare_bits) ||
        !dcgan__meta_double(&st, "G.adam.lr", &g_lr) || !dcgan__meta_double(&st, "D.adam.lr", &d_lr) ||
        !dcgan__meta_u64(&st, "data_fnv1a64", &hash) || iteration > DCGAN__MAX_STEP || g_step > DCGAN__MAX_STEP ||
        d_step > DCGAN__MAX_STEP || !(g_lr >= 0.0) || !(d_lr >= 0.0)) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': training state in the metadata is missing or malformed", path);
        goto done;
    }
    // ADA's state (files from before ADA have none: p stays where init put it)
    if (dcgan_safetensors_meta(&st, "ada.p") &&
        (!dcgan__meta_double(&st, "ada.p", &ada_p) || !dcgan__meta_double(&st, "ada.rt", &ada_rt) ||
         !dcgan__meta_int(&st, "ada.signs", &ada_signs) || !dcgan__meta_int(&st, "ada.count", &ada_count) ||
         ada_p < 0.0 || ada_p > 1.0 || ada_count < 0 || ada_count > 1000000000L ||
         ada_signs < -ada_count || ada_signs > ada_count)) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': ADA's state in the metadata is malformed", path);
        goto done;
    }
    {
        uint64_t version = 1, h = dcgan__fnv1a64(DCGAN__FNV_OFFSET, st.data, (size_t)st.data_size);
        dcgan__meta_u64(&st, "version", &version);   // (1 or 2: dcgan__config_from_meta checked)
        for (int i = 0; version >= 2 && i < DCGAN__CKPT_KEYS; i++) {
            const char *v = dcgan_safetensors_meta(&st, dcgan__ckpt_keys[i]);
            if (!v) {
                s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': metadata '%s' is missing", path, dcgan__ckpt_keys[i]);
                goto done;
            }
            h = dcgan__fnv1a64_meta(h, dcgan__ckpt_keys[i], v);
        }
        if (h != hash) {
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, version >= 2 ? "'%s': the tensor data and training state do not "
                            "match their checksum (the file is damaged)" : "'%s': the tensor data does not "
                            "match its checksum (the file is damaged)", path);
            goto done;
        }
    }
    list = (dcgan_st_write_tensor *)dcgan__calloc((size_t)nt, sizeof(*list));
    names = (char(*)[80])dcgan__calloc((size_t)nt, 80);
    if (!list || !names) {
        s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to list %d tensors", nt);
        goto done;
    }
    {
        int n = dcgan__gan_write_list(gan, list, names);
        if ((s = dcgan__check_tensors("gan_load", &st, path, list, n)) != DCGAN_OK) goto done;
        // Every check passed: only now does the gan change.
        for (int i = 0; i < n; i++) {
            const dcgan_st_tensor *t = dcgan_safetensors_find(&st, list[i].name);
            dcgan__read_f32((float *)list[i].data, st.data + t->begin, (size_t)(t->end - t->begin) / 4);
        }
    }
    gan->iteration = (int64_t)iteration;
    gan->opt_g.step = (int64_t)g_step;
    gan->opt_d.step = (int64_t)d_step;
    gan->opt_g.lr = g_lr;
    gan->opt_d.lr = d_lr;
    gan->rng.state = rng_state;
    gan->rng.inc = rng_inc;
    gan->rng.has_spare = (int)has_spare;
    memcpy(&gan->rng.spare, &spare_bits, sizeof spare_bits);
    gan->augment_p = (float)ada_p;
    gan->ada_rt = (float)ada_rt;
    gan->ada_signs = (int)ada_signs;
    gan->ada_count = (int)ada_count;
    s = DCGAN_OK;
#ifdef DCGAN_CUDA
    if (gan->on_device) {   // the new host state goes up to the GPU copy
        gan->on_device = 0;
        s = dcgan_gan_to_cuda(gan);
    }
#endif
done:
    dcgan_free(list);
    dcgan_free(names);
    dcgan_safetensors_free(&st);
    return s;
}

// --- one model on its own (dcgan_model_save / dcgan_model_load)



DCGAN_API dcgan_status dcgan_model_save(const dcgan_model *m, const char *path,
                                        const char *const *keys, const char *const *values,
                                        int n_meta) {
    int nt = dcgan_model_tensor_count(m);
    dcgan_st_write_tensor *list = (dcgan_st_write_tensor *)dcgan__calloc((size_t)nt + 1, sizeof(*list));
    char(*names)[80] = (char(*)[80])dcgan__calloc((size_t)nt + 1, 80);
    const char *all_keys[32], *all_values[32];
    char hash_text[32];
    dcgan_status st;
    if (!list || !names) {
        dcgan_free(list);
        dcgan_free(names);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to list %d tensors", nt);
    }
    if (n_meta < 0 || n_meta > 24) {
        dcgan_free(list);
        dcgan_free(names);
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "%d metadata entries; at most 24", n_meta);
    }
    for (size_t i = 0; i < m->n_params; i++) {
        if (isfinite(m->params[i])) continue;
        dcgan_free(list);
        dcgan_free(names);
        return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "model '%s' has a NaN or Inf at parameter %zu; "
                           "'%s' was not written", m->prefix, i, path);
    }
    int n = dcgan__model_tensor_list(m, list, names);
    uint64_t hash = DCGAN__FNV_OFFSET;
    for (int i = 0; i < n; i++) {
        size_t count = 1;
        for (int k = 0; k < list[i].ndim; k++) count *= (size_t)list[i].shape[k];
        hash = dcgan__fnv1a64_f32(hash, list[i].data, count);
    }
    snprintf(hash_text, sizeof hash_text, "%llu", (unsigned long long)hash);
    all_keys[0] = "format";
    all_values[0] = DCGAN__MODEL_FORMAT;
    all_keys[1] = "data_fnv1a64";
    all_values[1] = hash_text;
    for (int i = 0; i < n_meta; i++) {
        all_keys[2 + i] = keys[i];
        all_values[2 + i] = values[i];
    }
    st = dcgan_safetensors_write(path, list, n, all_keys, all_values, n_meta + 2);
    dcgan_free(list);
    dcgan_free(names);
    return st;
}

DCGAN_API dcgan_status dcgan_model_load(dcgan_model *m, const char *path) {
    dcgan_safetensors st;
    dcgan_status s;
    uint64_t hash;
    int nt = dcgan_model_tensor_count(m);
    dcgan_st_write_tensor *list = NULL;
    char(*names)[80] = NULL;
    if ((s = dcgan_safetensors_read(&st, path)) != DCGAN_OK) return s;
    const char *format = dcgan_safetensors_meta(&st, "format");
    if (format && strcmp(format, DCGAN__CKPT_FORMAT) == 0) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is a GAN checkpoint (generator and discriminator), "
                        "not a single model", path);
        goto done;
    }
    if (!format || strcmp(format, DCGAN__MODEL_FORMAT) != 0) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is a safetensors file but not a dcgan.h model "
                        "(metadata 'format' is %s)", path, format ? format : "missing");
        goto done;
    }
    if (!dcgan__meta_u64(&st, "data_fnv1a64", &hash) ||
        dcgan__fnv1a64(DCGAN__FNV_OFFSET, st.data, (size_t)st.data_size) != hash) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the tensor data does not match its checksum "
                        "(the file is damaged)", path);
        goto done;
    }
    list = (dcgan_st_write_tensor *)dcgan__calloc((size_t)nt + 1, sizeof(*list));
    names = (char(*)[80])dcgan__calloc((size_t)nt + 1, 80);
    if (!list || !names) {
        s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to list %d tensors", nt);
        goto done;
    }
    {
        int n = dcgan__model_tensor_list(m, list, names);
        if ((s = dcgan__check_tensors("model_load", &st, path, list, n)) != DCGAN_OK) goto done;
        if (st.n_tensors != n) {
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' holds %d tensors, the model has %d", path,
                            st.n_tensors, n);
            goto done;
        }
        // Every check passed: only now does the model change.
        for (int i = 0; i < n; i++) {
            const dcgan_st_tensor *t = dcgan_safetensors_find(&st, list[i].name);
            dcgan__read_f32((float *)list[i].data, st.data + t->begin, (size_t)(t->end - t->begin) / 4);
        }
    }
    s = DCGAN_OK;
done:
    dcgan_free(list);
    dcgan_free(names);
    dcgan_safetensors_free(&st);
    return s;
}

// -----------------------------------------------------------------------------
// 12. Pictures: phantom chest X-rays, sample grids and line plots

// smoothstep from 1 (d <= -w) to 0 (d >= w): a soft inside/outside edge.
static float dcgan__soft(float d, float w) {
    float t = 0.5f - d / (2.0f * w);
    if (t <= 0.0f) return 0.0f;
    if (t >= 1.0f) return 1.0f;
    return t * t * (3.0f - 2.0f * t);
}

// Signed distance-like value of an axis-aligned ellipse: < 0 inside.
static float dcgan__ellipse(float x, float y, float cx, float cy, float ax, float ay) {
    float dx = (x - cx) / ax, dy = (y - cy) / ay;
    return (sqrtf(dx * dx + dy * dy) - 1.0f) * (ax < ay ? ax : ay);
}

static float dcgan__uniform_in(dcgan_rng *rng, float lo, float hi) {
    return lo + (hi - lo) * dcgan_rng_uniform(rng);
}

// Anatomy of one phantom, drawn from rng. Coordinates: x to the image right
// (the patient's left), y downwards, both in [-1, 1].
typedef struct {
    float tilt, shift_x, shift_y, scale;    // pose
    float body_w, lung_w, lung_h, lung_y;   // sizes
    float heart_x, heart_y, heart_w, heart_h;
    float dome_right, dome_left;            // diaphragm heights (image left, right)
    float rib_start, rib_gap;
    float gain, offset, gamma;              // exposure
    int n_blobs;
    float blob_x[6], blob_y[6], blob_r[6], blob_a[6];
    float phase[4];                         // of the opacity texture
} dcgan__phantom;

static void dcgan__phantom_draw_params(dcgan__phantom *p, int pneumonia, dcgan_rng *rng) {
    p->tilt = dcgan__uniform_in(rng, -0.05f, 0.05f);
    p->shift_x = dcgan__uniform_in(rng, -0.04f, 0.04f);
    p->shift_y = dcgan__uniform_in(rng, -0.04f, 0.04f);
    p->scale = dcgan__uniform_in(rng, 0.93f, 1.05f);
    p->body_w = dcgan__uniform_in(rng, 0.82f, 0.95f);
    p->lung_w = dcgan__uniform_in(rng, 0.9f, 1.08f);
    p->lung_h = dcgan__uniform_in(rng, 0.9f, 1.08f);
    p->lung_y = dcgan__uniform_in(rng, -0.14f, -0.06f);
    p->heart_x = dcgan__uniform_in(rng, 0.08f, 0.15f);
    p->heart_y = dcgan__uniform_in(rng, 0.22f, 0.3f);
    p->heart_w = dcgan__uniform_in(rng, 0.28f, 0.36f);
    p->heart_h = dcgan__uniform_in(rng, 0.2f, 0.26f);
    p->dome_right = dcgan__uniform_in(rng, 0.36f, 0.46f);
    p->dome_left = p->dome_right + dcgan__uniform_in(rng, 0.02f, 0.08f);
    p->rib_start = dcgan__uniform_in(rng, -0.76f, -0.68f);
    p->rib_gap = dcgan__uniform_in(rng, 0.12f, 0.14f);
    p->gain = dcgan__uniform_in(rng, 0.88f, 1.08f);
    p->offset = dcgan__uniform_in(rng, -0.03f, 0.03f);
    p->gamma = dcgan__uniform_in(rng, 0.85f, 1.15f);
    p->n_blobs = 0;
    for (int k = 0; k < 4; k++) p->phase[k] = dcgan__uniform_in(rng, 0.0f, 6.2831853f);
    if (pneumonia) {
        p->n_blobs = 2 + (int)(dcgan_rng_u32(rng) % 4u);
        for (int b = 0; b < p->n_blobs; b++) {
            float side = dcgan_rng_uniform(rng) < 0.5f ? -1.0f : 1.0f;
            p->blob_x[b] = side * dcgan__uniform_in(rng, 0.22f, 0.5f);
            p->blob_y[b] = dcgan__uniform_in(rng, -0.3f, 0.35f);
            p->blob_r[b] = dcgan__uniform_in(rng, 0.07f, 0.18f);
            p->blob_a[b] = dcgan__uniform_in(rng, 0.18f, 0.35f);
        }
    }
}

// Attenuation (0 = air, about 1 = dense bone) at anatomy point (x, y).
static float dcgan__phantom_value(const dcgan__phantom *p, float x, float y) {
    const float ax = fabsf(x);
    const float edge = 0.015f;
    // torso: a superellipse, narrower towards the shoulders, and the neck
    float bx = x / p->body_w, by = (y - 0.15f) / 1.12f;
    float body_d = powf(powf(fabsf(bx), 2.6f) + powf(fabsf(by), 2.6f), 1.0f / 2.6f) - 1.0f;
    float body = dcgan__soft(body_d * 0.8f, edge);
    float neck = dcgan__soft(ax - 0.2f, edge) * dcgan__soft(y + 0.75f, 0.05f) * (y < -0.6f);
    if (neck > body) body = neck;
    float v = 0.04f + 0.46f * body;
    // lungs: two ellipses cut off below by the diaphragm domes and medially by
    // the mediastinum, which widens towards the heart
    float lung = 0.0f;
    for (int s = -1; s <= 1; s += 2) {
        float cx = (float)s * 0.38f * p->lung_w, cy = p->lung_y;
        float l = dcgan__soft(dcgan__ellipse(x, y, cx, cy, 0.29f * p->lung_w, 0.6f * p->lung_h), edge);
        float dome_top = s < 0 ? p->dome_right : p->dome_left;
        float dx = (x - cx) / 0.32f;
        float dome = dome_top + 0.35f * dx * dx;
        l *= dcgan__soft(y - dome, edge);
        if (l > lung) lung = l;
    }
    float mediastinum = 0.09f + 0.06f * (y + 1.0f) * 0.5f;
    lung *= 1.0f - dcgan__soft(ax - mediastinum, edge);
    float heart = dcgan__soft(dcgan__ellipse(x, y, p->heart_x, p->heart_y, p->heart_w, p->heart_h), edge);
    lung *= 1.0f - 0.9f * heart;
    // air in the lungs: darker towards the bases, where the chest is thickest in air
    float lung_dark = 0.28f + 0.07f * (y + 0.6f);
    v -= lung * lung_dark;
    // spine: a bright column with vertebral end plates every ~0.13
    float spine = dcgan__soft(ax - 0.06f, 0.01f) * body;
    float plates = 0.5f + 0.5f * cosf(6.2831853f * (y / 0.13f));
    v += spine * (0.1f + 0.04f * plates * plates * plates * plates);
    // ribs: ten curved bands a side, from the spine out to the chest wall
    float ribs = 0.0f;
    if (ax > 0.07f) {
        float xr = ax - 0.07f;
        for (int i = 0; i < 10; i++) {
            float yc = p->rib_start + (float)i * p->rib_gap - 0.12f * xr + 0.55f * xr * xr;
            float r = dcgan__soft(fabsf(y - yc) - 0.024f, 0.008f);
            if (r > ribs) ribs = r;
        }
        ribs *= dcgan__soft(body_d * 0.8f + 0.06f, 0.02f);
    }
    v += 0.1f * ribs * (0.35f + 0.65f * lung);
    // clavicles: from the sternal notch out and slightly up
    for (int s = -1; s <= 1; s += 2) {
        float t = ((float)s * x - 0.08f) / 0.5f;
        if (t < 0.0f || t > 1.0f) continue;
        float yc = -0.7f - 0.09f * t + 0.04f * sinf(3.14159f * t);
        v += 0.17f * dcgan__soft(fabsf(y - yc) - 0.03f * (1.0f - 0.3f * t), 0.01f);
    }
    // pneumonia: patchy consolidation inside the lungs, mottled by a few waves
    float texture = 0.25f * (sinf(31.0f * x + p->phase[0]) * sinf(27.0f * y + p->phase[1]) +
                             sinf(17.0f * (x + y) + p->phase[2]) + sinf(23.0f * (x - y) + p->phase[3])) + 0.5f;
    for (int b = 0; b < p->n_blobs; b++) {
        float dx = (x - p->blob_x[b]) / p->blob_r[b], dy = (y - p->blob_y[b]) / p->blob_r[b];
        float g = expf(-0.5f * (dx * dx + dy * dy) * 2.0f);
        v += lung * p->blob_a[b] * g * (0.6f + 0.8f * texture);
    }
    return v;
}

DCGAN_API void dcgan_phantom_render(unsigned char *out, int size, int pneumonia, dcgan_rng *rng) {
    dcgan__phantom p;
    dcgan__phantom_draw_params(&p, pneumonia, rng);
    const float c = cosf(p.tilt), s = sinf(p.tilt);
    for (int i = 0; i < size; i++) {
        for (int j = 0; j < size; j++) {
            // image point -> anatomy point (undo shift, scale and tilt)
            float u = ((float)j + 0.5f) / (float)size * 2.0f - 1.0f - p.shift_x;
            float w = ((float)i + 0.5f) / (float)size * 2.0f - 1.0f - p.shift_y;
            float x = (c * u + s * w) / p.scale, y = (-s * u + c * w) / p.scale;
            float v = dcgan__phantom_value(&p, x, y);
            v = v > 0.0f ? powf(v, p.gamma) : 0.0f;
            v = p.gain * v + p.offset + 0.012f * dcgan_rng_normal(rng);
            float px = v * 255.0f + 0.5f;
            out[(size_t)i * size + j] = (unsigned char)(px < 0.0f ? 0.0f : px > 255.0f ? 255.0f : px);
        }
    }
}

DCGAN_API void dcgan_image_to_u8(unsigned char *out, const float *image, int C, int H, int W) {
    for (int c = 0; c < C; c++)
        for (int p = 0; p < H * W; p++) {
            float v = (image[(size_t)c * H * W + p] + 1.0f) * 127.5f + 0.5f;
            // (NaN fails v > 0 and is 0: a NaN cast to unsigned char is undefined)
            out[(size_t)p * C + c] = (unsigned char)(!(v > 0.0f) ? 0.0f : v > 255.0f ? 255.0f : v);
        }
}

DCGAN_API dcgan_status dcgan_grid_make(unsigned char **out, int *out_w, int *out_h,
                                       const float *images, int n, int C, int H, int W,
                                       int cols, int pad) {
    if (n <= 0 || cols <= 0 || pad < 0 || (C != 1 && C != 3) || H <= 0 || W <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "bad grid: %d images of %dx%dx%d in %d columns", n, C, H,
                           W, cols);
    if (cols > n) cols = n;
    const int rows = (n + cols - 1) / cols;
    // the grid's sides in 64 bits first: an int product could wrap to a small buffer
    const long long gw64 = (long long)cols * ((long long)W + pad) + pad, gh64 = (long long)rows * ((long long)H + pad) + pad;
    if (gw64 > INT_MAX || gh64 > INT_MAX)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "a grid of %lldx%lld pixels (%d images of %dx%d in %d columns, pad %d) "
                           "has a side above INT_MAX", gw64, gh64, n, H, W, cols, pad);
    const int gw = (int)gw64, gh = (int)gh64;
    unsigned char *grid = (unsigned char *)dcgan__alloc((size_t)gw * gh * C, 1);
    unsigned char *tile = (unsigned char *)dcgan__alloc((size_t)W * H * C, 1);
    if (!grid || !tile) {
        dcgan_free(grid);
        dcgan_free(tile);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for a %dx%d grid", gw, gh);
    }
    memset(grid, 128, (size_t)gw * gh * C);
    for (int k = 0; k < n; k++) {
        int r = k / cols, q = k % cols;
        dcgan_image_to_u8(tile, images + (size_t)k * C * H * W, C, H, W);
        for (int y = 0; y < H; y++)
            memcpy(grid + (((size_t)(pad + r * (H + pad) + y) * gw) + pad + q * (W + pad)) * C,
                   tile + (size_t)y * W * C, (size_t)W * C);
    }
    DCGAN_FREE(tile);
    *out = grid;
    *out_w = gw;
    *out_h = gh;
    return DCGAN_OK;
}

// The plot font: 5x7 pixel glyphs, drawn here row by row ('#' = ink).
// Lower-case letters are drawn with the capitals.
static const struct { char ch; const char *rows; } dcgan__font[] = {
    {'0', ".###.#...##..###.#.###..##...#.###."}, {'1', "..#...##....#....#....#....#...###."},
    {'2', ".###.#...#....#...#...#...#...#####"}, {'3', "####.....#....#.###.....#....#####."},
    {'4', "...#...##..#.#.#..#.#####...#....#."}, {'5', "######....####.....#....##...#.###."},
    {'6', "..##..#...#....####.#...##...#.###."}, {'7', "#####....#...#...#...#....#....#..."},
    {'8', ".###.#...##...#.###.#...##...#.###."}, {'9', ".###.#...##...#.####....#...#..##.."},
    {'A', ".###.#...##...#######...##...##...#"}, {'B', "####.#...##...#####.#...##...#####."},
    {'C', ".###.#...##....#....#....#...#.###."}, {'D', "###..#..#.#...##...##...##..#.###.."},
    {'E', "######....#....####.#....#....#####"}, {'F', "######....#....####.#....#....#...."},
    {'G', ".###.#...##....#.####...##...#.####"}, {'H', "#...##...##...#######...##...##...#"},
    {'I', ".###...#....#....#....#....#...###."}, {'J', "..###...#....#....#....##..#..##..."},
    {'K', "#...##..#.#.#..##...#.#..#..#.#...#"}, {'L', "#....#....#....#....#....#....#####"},
    {'M', "#...###.###.#.##.#.##...##...##...#"}, {'N', "#...##...###..##.#.##..###...##...#"},
    {'O', ".###.#...##...##...##...##...#.###."}, {'P', "####.#...##...#####.#....#....#...."},
    {'Q', ".###.#...##...##...##.#.##..#..##.#"}, {'R', "####.#...##...#####.#.#..#..#.#...#"},
    {'S', ".#####....#.....###.....#....#####."}, {'T', "#####..#....#....#....#....#....#.."},
    {'U', "#...##...##...##...##...##...#.###."}, {'V', "#...##...##...##...##...#.#.#...#.."},
    {'W', "#...##...##...##.#.##.#.##.#.#.#.#."}, {'X', "#...##...#.#.#...#...#.#.#...##...#"},
    {'Y', "#...##...#.#.#...#....#....#....#.."}, {'Z', "#####....#...#...#...#...#....#####"},
    {'.', "..............................##..."}, {'-', "...............###................."},
    {',', ".........................##...#..#."}, {':', ".....##...##........##...##........"},
    {'_', "..............................#####"}, {'(', "...#...#...#....#....#.....#.....#."},
    {')', ".#.....#.....#....#....#...#...#..."}, {'/', "....#....#...#...#...#...#....#...."},
    {'%', "##...##..#...#...#...#...#..##...##"}, {'+', ".......#....#..#####..#....#......."},
    {'=', "..........#####.....#####.........."}, {'|', "..#....#....#....#....#....#....#.."},
};

static const char *dcgan__glyph(char ch) {
    if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
    for (size_t i = 0; i < sizeof dcgan__font / sizeof dcgan__font[0]; i++)
        if (dcgan__font[i].ch == ch) return dcgan__font[i].rows;
    return NULL;  // space and anything unknown: blank
}

static void dcgan__put_pixel(unsigned char *rgb, int w, int h, int x, int y, const unsigned char *c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    memcpy(rgb + ((size_t)y * w + x) * 3, c, 3);
}

// Text with its top-left corner at (x, y), each font pixel scale x scale.
static void dcgan__draw_text(unsigned char *rgb, int w, int h, int x, int y, const char *text,
                             int scale, const unsigned char *color) {
    for (; *text; text++, x += 6 * scale) {
        const char *g = dcgan__glyph(*text);
        if (!g) continue;
        for (int r = 0; r < 7; r++)
            for (int q = 0; q < 5; q++)
                if (g[r * 5 + q] == '#')
                    for (int a = 0; a < scale; a++)
                        for (int b = 0; b < scale; b++)
                            dcgan__put_pixel(rgb, w, h, x + q * scale + b, y + r * scale + a, color);
    }
}

// A straight line (Bresenham).
static void dcgan__draw_line(unsigned char *rgb, int w, int h, int x0, int y0, int x1, int y1,
                             const unsigned char *c) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        dcgan__put_pixel(rgb, w, h, x0, y0, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about 5 ticks.
static double dcgan__nice_step(double range) {
    double raw = range / 5.0, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * p;
}

// A tick label without trailing zeros.
static void dcgan__tick_label(char *buf, size_t cap, double v, double step) {
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6) decimals = 6;
    if (fabs(v) < step * 1e-6) v = 0.0;
    snprintf(buf, cap, "%.*f", decimals, v);
}

// x_ticks NULL: numeric ticks on x = i * x_scale; else one named tick per point
// and a mark on every point (dcgan_plot_draw_categories).
static void dcgan__plot(unsigned char *rgb, int w, int h, const char *title, const char *x_label,
                        const char *const *x_ticks, const dcgan_plot_series *series, int n_series,
                        size_t n, float x_scale) {
    static const unsigned char black[3] = {0, 0, 0}, grey[3] = {225, 225, 225};
    const int left = 62, right = 16, top = 34, bottom = 40;
    const int pw = w - left - right, ph = h - top - bottom;
    double ymin = INFINITY, ymax = -INFINITY;
    memset(rgb, 255, (size_t)w * h * 3);
    if (pw < 20 || ph < 20) return;
    for (int s = 0; s < n_series; s++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(series[s].y[i])) {
                if (series[s].y[i] < ymin) ymin = series[s].y[i];
                if (series[s].y[i] > ymax) ymax = series[s].y[i];
            }
    if (!(ymin <= ymax)) { ymin = 0.0; ymax = 1.0; }
    if (ymax - ymin < 1e-6) { ymin -= 0.5; ymax += 0.5; }
    double xmax = n > 1 ? (double)(n - 1) * x_scale : 1.0;
    if (!(xmax > 0.0) || !isfinite(xmax)) xmax = 1.0;   // x_scale 0, negative or NaN: ticks would never advance
    double ystep = dcgan__nice_step(ymax - ymin), xstep = dcgan__nice_step(xmax);
    ymin = floor(ymin / ystep) * ystep;
    ymax = ceil(ymax / ystep) * ystep;
    char buf[32];
    // grid lines and tick labels
    for (double t = ymin; t <= ymax + ystep * 1e-6; t += ystep) {
        int y = top + ph - (int)lround((t - ymin) / (ymax - ymin) * ph);
        dcgan__draw_line(rgb, w, h, left, y, left + pw, y, grey);
        dcgan__tick_label(buf, sizeof buf, t, ystep);
        dcgan__draw_text(rgb, w, h, left - 6 - 6 * (int)strlen(buf), y - 3, buf, 1, black);
    }
    for (double t = 0.0; !x_ticks && t <= xmax + xstep * 1e-6; t += xstep) {
        int x = left + (int)lround(t / xmax * pw);
        dcgan__draw_line(rgb, w, h, x, top, x, top + ph, grey);
        dcgan__draw_line(rgb, w, h, x, top + ph, x, top + ph + 4, black);
        dcgan__tick_label(buf, sizeof buf, t, xstep);
        dcgan__draw_text(rgb, w, h, x - 3 * (int)strlen(buf), top + ph + 8, buf, 1, black);
    }
    for (size_t i = 0; x_ticks && i < n; i++) {   // named categories, each centred in its 1/n of the width
        int x = left + (int)lround((2.0 * (double)i + 1.0) / (2.0 * (double)n) * pw);
        const char *name = x_ticks[i] ? x_ticks[i] : "";
        dcgan__draw_line(rgb, w, h, x, top, x, top + ph, grey);
        dcgan__draw_line(rgb, w, h, x, top + ph, x, top + ph + 4, black);
        dcgan__draw_text(rgb, w, h, x - 3 * (int)strlen(name), top + ph + 8, name, 1, black);
    }
    // axes
    dcgan__draw_line(rgb, w, h, left, top, left, top + ph, black);
    dcgan__draw_line(rgb, w, h, left, top + ph, left + pw, top + ph, black);
    // the series, as connected segments
    for (int s = 0; s < n_series; s++) {
        int have = 0, px = 0, py = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(series[s].y[i])) { have = 0; continue; }
            int x = x_ticks ? left + (int)lround((2.0 * (double)i + 1.0) / (2.0 * (double)n) * pw)
                            : left + (int)lround((double)i * x_scale / xmax * pw);
            int y = top + ph - (int)lround((series[s].y[i] - ymin) / (ymax - ymin) * ph);
            if (have) dcgan__draw_line(rgb, w, h, px, py, x, y, series[s].rgb);
            else dcgan__put_pixel(rgb, w, h, x, y, series[s].rgb);
            for (int a = -2; x_ticks && a <= 2; a++)   // categories: a 5x5 mark on the point
                for (int b = -2; b <= 2; b++) dcgan__put_pixel(rgb, w, h, x + b, y + a, series[s].rgb);
            px = x;
            py = y;
            have = 1;
        }
    }
    // title and x label
    if (title) dcgan__draw_text(rgb, w, h, (w - 12 * (int)strlen(title)) / 2, 8, title, 2, black);
    if (x_label) dcgan__draw_text(rgb, w, h, left + (pw - 6 * (int)strlen(x_label)) / 2, h - 14, x_label, 1, black);
    // the legend: one row of 12 pixels per labelled series (a 14-pixel swatch,
    // then the label), in the corner of the plot whose box, and the margin of
    // 6 pixels around it, covers the fewest pixels of the series drawn above
    // (ties: top right, top left, bottom right, bottom left; the axes do not
    // count). Right corners align the rows' right ends.
    int rows = 0, widest = 0;
    for (int s = 0; s < n_series; s++)
        if (series[s].label && series[s].label[0]) {
            rows++;
            if ((int)strlen(series[s].label) > widest) widest = (int)strlen(series[s].label);
        }
    if (rows == 0) return;
    const int box_w = 20 + 6 * widest, box_h = 12 * rows - 5, margin = 6;
    int best = 0;
    long best_ink = -1;
    for (int corner = 0; corner < 4; corner++) {   // 0 top right, 1 top left, 2 bottom right, 3 bottom left
        int x0 = corner % 2 == 0 ? left + pw - margin - box_w : left + margin + 2;
        int y0 = corner < 2 ? top + margin : top + ph - margin - box_h;
        long ink = 0;   // pixels that are neither background (white) nor grid (grey)
        // the box and its margin, inside the axes: rows top .. top+ph-1, columns left+1 .. left+pw
        int ya = y0 - margin, yb = y0 + box_h + margin, xa = x0 - margin, xb = x0 + box_w + margin;
        if (ya < top) ya = top;
        if (yb > top + ph) yb = top + ph;
        if (xa < left + 1) xa = left + 1;
        if (xb > left + pw + 1) xb = left + pw + 1;
        for (int y = ya < 0 ? 0 : ya; y < yb && y < h; y++)
            for (int x = xa < 0 ? 0 : xa; x < xb && x < w; x++) {
                const unsigned char *px = rgb + ((size_t)y * w + x) * 3;
                int white = px[0] == 255 && px[1] == 255 && px[2] == 255;
                int grid = px[0] == grey[0] && px[1] == grey[1] && px[2] == grey[2];
                ink += !white && !grid;
            }
        if (best_ink < 0 || ink < best_ink) {
            best_ink = ink;
            best = corner;
        }
    }
    int y = best < 2 ? top + margin : top + ph - margin - box_h;
    for (int s = 0; s < n_series; s++) {
        if (!series[s].label || !series[s].label[0]) continue;   // unlabelled: no legend entry
        int len = (int)strlen(series[s].label);
        int x = best % 2 == 0 ? left + pw - margin - 20 - 6 * len : left + margin + 2;
        for (int a = 0; a < 3; a++)
            dcgan__draw_line(rgb, w, h, x, y + 2 + a, x + 14, y + 2 + a, series[s].rgb);
        dcgan__draw_text(rgb, w, h, x + 20, y, series[s].label, 1, black);
        y += 12;
    }
}

DCGAN_API void dcgan_plot_draw(unsigned char *rgb, int w, int h, const char *title,
                               const char *x_label, const dcgan_plot_series *series,
                               int n_series, size_t n, float x_scale) {
    dcgan__plot(rgb, w, h, title, x_label, NULL, series, n_series, n, x_scale);
}

DCGAN_API void dcgan_plot_draw_categories(unsigned char *rgb, int w, int h, const char *title,
                                          const char *x_label, const char *const *x_ticks,
                                          const dcgan_plot_series *series, int n_series, size_t n) {
    dcgan__plot(rgb, w, h, title, x_label, x_ticks, series, n_series, n, 1.0f);
}

DCGAN_API void dcgan_plot_bars(unsigned char *rgb, int w, int h, const char *title,
                               const char *const *group_labels, int n_groups,
                               const dcgan_plot_series *series, int n_series, const float *err,
                               float y_min, float y_max) {
    static const unsigned char black[3] = {0, 0, 0}, grey[3] = {225, 225, 225};
    const int left = 62, right = 16, top = 34, bottom = 40 + 12 * (n_series > 0 ? n_series : 1);
    const int pw = w - left - right, ph = h - top - bottom;
    memset(rgb, 255, (size_t)w * h * 3);
    if (pw < 20 || ph < 20 || n_groups < 1 || n_series < 1 || !(y_max > y_min)) return;
    double ystep = dcgan__nice_step((double)y_max - y_min);
    char buf[32];
    // ticks at whole multiples of the step inside [y_min, y_max]
    for (double t = ceil(y_min / ystep - 1e-9) * ystep; t <= y_max + ystep * 1e-6; t += ystep) {
        int y = top + ph - (int)lround((t - y_min) / (y_max - y_min) * ph);
        dcgan__draw_line(rgb, w, h, left, y, left + pw, y, grey);
        dcgan__tick_label(buf, sizeof buf, t, ystep);
        dcgan__draw_text(rgb, w, h, left - 6 - 6 * (int)strlen(buf), y - 3, buf, 1, black);
    }
    dcgan__draw_line(rgb, w, h, left, top, left, top + ph, black);
    dcgan__draw_line(rgb, w, h, left, top + ph, left + pw, top + ph, black);
    // Each group gets an equal slot; its bars fill 80% of the slot.
    double slot = (double)pw / n_groups, bar = 0.8 * slot / n_series;
    for (int g = 0; g < n_groups; g++) {
        double x0 = left + g * slot + 0.1 * slot;
        for (int s = 0; s < n_series; s++) {
            double v = series[s].y[g];
            if (!isfinite(v)) continue;
            if (v < y_min) v = y_min;
            if (v > y_max) v = y_max;
            int xa = (int)lround(x0 + s * bar), xb = (int)lround(x0 + (s + 1) * bar) - 2;
            int ytop = top + ph - (int)lround((v - y_min) / (y_max - y_min) * ph);
            for (int x = xa; x <= xb; x++) dcgan__draw_line(rgb, w, h, x, ytop, x, top + ph - 1, series[s].rgb);
            if (err && isfinite(err[s * n_groups + g])) {
                double e = err[s * n_groups + g];
                int xm = (xa + xb) / 2;
                int y1 = top + ph - (int)lround((v + e - y_min) / (y_max - y_min) * ph);
                int y2 = top + ph - (int)lround((v - e - y_min) / (y_max - y_min) * ph);
                if (y1 < top) y1 = top;
                if (y2 > top + ph) y2 = top + ph;
                dcgan__draw_line(rgb, w, h, xm, y1, xm, y2, black);
                dcgan__draw_line(rgb, w, h, xm - 3, y1, xm + 3, y1, black);
                dcgan__draw_line(rgb, w, h, xm - 3, y2, xm + 3, y2, black);
            }
        }
        if (group_labels && group_labels[g]) {
            int len = (int)strlen(group_labels[g]);
            dcgan__draw_text(rgb, w, h, (int)lround(left + (g + 0.5) * slot) - 3 * len, top + ph + 8,
                             group_labels[g], 1, black);
        }
    }
    if (title) dcgan__draw_text(rgb, w, h, (w - 12 * (int)strlen(title)) / 2, 8, title, 2, black);
    // legend under the group labels
    for (int s = 0; s < n_series; s++) {
        int x = left, y = top + ph + 26 + 12 * s;
        for (int a = 0; a < 7; a++) dcgan__draw_line(rgb, w, h, x, y + a, x + 14, y + a, series[s].rgb);
        if (series[s].label) dcgan__draw_text(rgb, w, h, x + 20, y, series[s].label, 1, black);
    }
}

#ifndef DCGAN_NO_IMAGES
// -----------------------------------------------------------------------------
// 13. Image folders (stb_image, stb_image_resize, stb_image_write)

DCGAN_API void dcgan_image_options_default(dcgan_image_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->size = 128;
    opt->channels = 3;
    opt->resize = DCGAN_RESIZE_AREA;
    opt->max_pixels = (size_t)64 << 20;
}

// The extensions of training folders, and pytorch-fid's (IMAGE_EXTENSIONS).
static const char *const dcgan__train_exts[] = {"jpg", "jpeg", "png", "bmp", "pgm", "ppm", "tga", NULL};
static const char *const dcgan__fid_exts[] = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff",
                                              "webp", NULL};

// 1 if name ends in one of exts (any case).
static int dcgan__is_image_name(const char *name, const char *const *exts) {
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    for (size_t i = 0; exts[i]; i++) {
        const char *a = dot + 1, *b = exts[i];
        while (*a && *b && (*a | 0x20) == *b) { a++; b++; }
        if (!*a && !*b) return 1;
    }
    return 0;
}

typedef struct {
    char **items;
    int count, cap;
} dcgan__path_list;

static int dcgan__path_push(dcgan__path_list *list, const char *path) {
    if (list->count == list->cap) {
        int cap = list->cap ? list->cap * 2 : 64;
        char **items = (char **)DCGAN_REALLOC(list->items, (size_t)cap * sizeof(char *));
        if (!items) return 0;
        list->items = items;
        list->cap = cap;
    }
    size_t len = strlen(path) + 1;
    char *copy = (char *)dcgan__alloc(len, 1);
    if (!copy) return 0;
    memcpy(copy, path, len);
    list->items[list->count++] = copy;
    return 1;
}

DCGAN_API void dcgan_paths_free(char **paths, int count) {
    for (int i = 0; i < count; i++) dcgan_free(paths[i]);
    dcgan_free(paths);
}

// Depth-first scan of dir (only dir itself when !recursive). up[0..depth] are
// the folders on the way down, dir last (device and inode): a sub-folder that is
// one of them (a symlink back up, `ln -s . loop`) is skipped, not followed 32
// levels deep into a failure. A folder reached by two different links is
// scanned twice; dcgan__drop_same_files then keeps each file once.
typedef struct {
    uint64_t dev, ino;
} dcgan__dir_id;

// (others, when not NULL, gets the regular files the scan passes over: not
// hidden, not of the wanted types)
static dcgan_status dcgan__scan(dcgan__path_list *list, const char *dir, int depth, int recursive,
                                const char *const *exts, dcgan__dir_id *up, dcgan__path_list *others) {
    DIR *d;
    struct dirent *e;
    if (depth > 32) return DCGAN__FAIL(DCGAN_ERR_IO, "'%s': folders nested deeper than 32", dir);
    d = opendir(dir);
    if (!d) return DCGAN__FAIL(DCGAN_ERR_IO, "cannot open folder '%s': %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat sb;
        if (e->d_name[0] == '.') continue;   // ".", "..", hidden files
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (!recursive) continue;
            int loop = 0;   // (up has room for depth + 1 <= 33: depth > 32 returned above)
            for (int k = 0; k <= depth && !loop; k++)
                loop = up[k].dev == (uint64_t)sb.st_dev && up[k].ino == (uint64_t)sb.st_ino;
            if (loop) continue;
            up[depth + 1].dev = (uint64_t)sb.st_dev, up[depth + 1].ino = (uint64_t)sb.st_ino;
            dcgan_status st = dcgan__scan(list, path, depth + 1, recursive, exts, up, others);
            if (st != DCGAN_OK) {
                closedir(d);
                return st;
            }
        } else if (S_ISREG(sb.st_mode) && dcgan__is_image_name(e->d_name, exts)) {
            if (!dcgan__path_push(list, path)) {
                closedir(d);
                return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the file list of '%s'", dir);
            }
        } else if (S_ISREG(sb.st_mode) && others && !dcgan__path_push(others, path)) {
            closedir(d);
            return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the file list of '%s'", dir);
        }
    }
    closedir(d);
    return DCGAN_OK;
}

static int dcgan__cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// One listed file's identity (device, inode, and its size and modification
// time, so that a file system whose inode numbers are not unique cannot make
// two different images one) and its place in the sorted list.
typedef struct {
    uint64_t key[4];   // device, inode, size, modification time (seconds)
    int index;
} dcgan__file_id;

static int dcgan__cmp_file_id(const void *a, const void *b) {
    const dcgan__file_id *x = (const dcgan__file_id *)a, *y = (const dcgan__file_id *)b;
    for (int k = 0; k < 4; k++)
        if (x->key[k] != y->key[k]) return x->key[k] < y->key[k] ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

// Keeps each file once in the sorted list items[0..n): a folder linked under
// two names, or a link to a file listed already, would put the same image in a
// dataset twice. The first name in sorted order stays; a file that cannot be
// stat'ed stays. Only items[from..n) may be dropped (from 0: any; the other
// files against the images: only the others). Returns the new count, or -1
// (the list untouched) when there is no memory for the identities.
static int dcgan__drop_same_files(char **items, int n, int from) {
    dcgan__file_id *ids = (dcgan__file_id *)dcgan__alloc((size_t)n, sizeof *ids);
    if (!ids) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (stat(items[i], &sb) != 0 || sb.st_ino == 0) continue;   // (no inode number: nothing to compare)
        ids[m].key[0] = (uint64_t)sb.st_dev, ids[m].key[1] = (uint64_t)sb.st_ino;
        ids[m].key[2] = (uint64_t)sb.st_size, ids[m].key[3] = (uint64_t)sb.st_mtime;
        ids[m].index = i;
        m++;
    }
    qsort(ids, (size_t)m, sizeof *ids, dcgan__cmp_file_id);
    for (int k = 1; k < m; k++)   // a later name of the same file: dropped (index order within one file)
        if (ids[k].index >= from && memcmp(ids[k].key, ids[k - 1].key, sizeof ids[k].key) == 0) {
            dcgan_free(items[ids[k].index]);
            items[ids[k].index] = NULL;
        }
    dcgan_free(ids);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (items[i]) items[kept++] = items[i];
    return kept;
}

// A scan's list sorted, each file once where the scan was recursive (it may
// reach a folder by two links); 0, or -1 when there was no memory to find the
// files listed twice (then they stay).
static int dcgan__sort_list(dcgan__path_list *list, int recursive) {
    if (list->count > 1) qsort(list->items, (size_t)list->count, sizeof(char *), dcgan__cmp_str);
    if (!recursive || list->count < 2) return 0;
    const int kept = dcgan__drop_same_files(list->items, list->count, 0);
    if (kept >= 0) list->count = kept;
    return kept >= 0 ? 0 : -1;
}

// The sorted listing behind dcgan_list_images and dcgan_list_fid_images;
// others (an empty list, or NULL) gets the other files, sorted and each once.
static dcgan_status dcgan__list(char ***paths, int *count, const char *dir, int recursive,
                                const char *const *exts, dcgan__path_list *others) {
    dcgan__path_list list = {NULL, 0, 0};
    dcgan__dir_id up[34];
    struct stat sb;
    memset(up, 0, sizeof up);   // (a folder that cannot be stat'ed cannot be opened: scan says so)
    if (stat(dir, &sb) == 0) up[0].dev = (uint64_t)sb.st_dev, up[0].ino = (uint64_t)sb.st_ino;
    dcgan_status st = dcgan__as(dcgan__scan(&list, dir, 0, recursive, exts, up, others),
                                recursive ? "dcgan_list_images" : "dcgan_list_fid_images");
    if (st != DCGAN_OK) {
        dcgan_paths_free(list.items, list.count);
        if (others) dcgan_paths_free(others->items, others->count), memset(others, 0, sizeof *others);
        return st;
    }
    // (the images as before: duplicates stay when memory is short; the other
    // files are counted exactly or not at all)
    (void)dcgan__sort_list(&list, recursive);
    int short_of_memory = others && dcgan__sort_list(others, recursive) != 0;
    if (!short_of_memory && others && recursive && others->count > 0 && list.count > 0) {
        // an image under another name (y.png.orig -> y.png, a hard link
        // backup.bak) is read: not an other file. The images first; only the
        // others may be dropped.
        char **all = (char **)dcgan__alloc((size_t)list.count + (size_t)others->count, sizeof(char *));
        int kept = -1;
        if (all) {
            memcpy(all, list.items, (size_t)list.count * sizeof(char *));
            memcpy(all + list.count, others->items, (size_t)others->count * sizeof(char *));
            kept = dcgan__drop_same_files(all, list.count + others->count, list.count);
        }
        if (kept >= 0) {
            others->count = kept - list.count;   // (every image kept: they come first, none dropped)
            memcpy(others->items, all + list.count, (size_t)others->count * sizeof(char *));
        }
        dcgan_free(all);
        short_of_memory = kept < 0;
    }
    if (short_of_memory) {
        dcgan_paths_free(list.items, list.count);
        dcgan_paths_free(others->items, others->count), memset(others, 0, sizeof *others);
        return dcgan__fail(DCGAN_ERR_NOMEM, "dcgan_list_images", "no memory to compare the files under '%s'", dir);
    }
    *paths = list.items;
    *count = list.count;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_list_images(char ***paths, int *count, const char *dir) {
    return dcgan__list(paths, count, dir, 1, dcgan__train_exts, NULL);
}

DCGAN_API dcgan_status dcgan_list_fid_images(char ***paths, int *count, const char *dir) {
    return dcgan__list(paths, count, dir, 0, dcgan__fid_exts, NULL);
}

// The listing of dcgan_list_images with the count of the other files and the
// first of them (cap bytes of it; "" when there is none; cap 0: not wanted).
static dcgan_status dcgan__list_counting(char ***paths, int *count, int *others, char *first, size_t cap,
                                         const char *dir) {
    dcgan__path_list other = {NULL, 0, 0};
    dcgan_status st = dcgan__list(paths, count, dir, 1, dcgan__train_exts, &other);
    *others = st == DCGAN_OK ? other.count : 0;
    if (cap > 0) snprintf(first, cap, "%s", st == DCGAN_OK && other.count > 0 ? other.items[0] : "");
    dcgan_paths_free(other.items, other.count);
    return st;
}

DCGAN_API dcgan_status dcgan_count_other_files(int *count, char *first, size_t cap, const char *dir) {
    char **paths = NULL, name[4096];   // (the scan keeps paths below 4096 bytes)
    int n = 0, others = 0;
    dcgan_status st = dcgan__as(dcgan__list_counting(&paths, &n, &others, name, sizeof name, dir), __func__);
    dcgan_paths_free(paths, n);
    if (st == DCGAN_OK) {   // (on failure the outputs stay as they were)
        *count = others;
        if (cap > 0) snprintf(first, cap, "%s", name);
    }
    return st;
}


// Nearest-neighbour resize as PIL does it: src = floor((dst + 0.5) * in / out).
static void dcgan__resize_nearest_u8(unsigned char *out, int ow, int oh, const unsigned char *in,
                                     int iw, int ih, int C) {
    for (int y = 0; y < oh; y++) {
        int sy = (int)(((double)y + 0.5) * ih / oh);
        if (sy > ih - 1) sy = ih - 1;
        for (int x = 0; x < ow; x++) {
            int sx = (int)(((double)x + 0.5) * iw / ow);
            if (sx > iw - 1) sx = iw - 1;
            memcpy(out + ((size_t)y * ow + x) * C, in + ((size_t)sy * iw + sx) * C, (size_t)C);
        }
    }
}

// Why stb_image could not read path, in words a user can act on: a file that
// cannot be opened says why (stb says only "can't fopen"), an empty one says so
// (stb: "unknown image type"); else stb's own reason ("expected marker", ...).
static const char *dcgan__decode_reason(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(buf, cap, "cannot open it: %s", strerror(errno));
        return buf;
    }
    const int c = fgetc(f);
    fclose(f);
    return c == EOF ? "an empty file (0 bytes)" : stbi_failure_reason();
}

// Decodes a whole file with stb_image, in this process, to (h, w, comp) 8-bit
// interleaved pixels (16-bit PNG rounded to 8 bits): into `into` when it is not
// NULL and holds into_cap bytes (*raw = into), else into a new buffer that the
// caller owns (*raw). Too large for `into`: DCGAN_ERR_FORMAT.
static dcgan_status dcgan__decode_file_into(unsigned char **raw, int *w, int *h, int *comp,
                                            const char *path, unsigned char *into, size_t into_cap) {
    *raw = NULL;
    int wide_pixels = stbi_is_16_bit(path);
    stbi_us *wide = wide_pixels ? stbi_load_16(path, w, h, comp, 0) : NULL;
    unsigned char *dec = wide_pixels ? NULL : stbi_load(path, w, h, comp, 0);
    char why[160];
    if (!wide && !dec)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s", path, dcgan__decode_reason(path, why, sizeof why));
    const size_t bytes = (size_t)*w * *h * *comp;
    if (into && bytes > into_cap) {
        stbi_image_free(wide ? (void *)wide : (void *)dec);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' decodes to %dx%dx%d, more than its header said",
                           path, *w, *h, *comp);
    }
    *raw = into ? into : (unsigned char *)dcgan__alloc(bytes, 1);
    if (*raw && wide)   // 16-bit PNG: keep the high byte rounded, v * 255 / 65535
        for (size_t i = 0; i < bytes; i++) (*raw)[i] = (unsigned char)((wide[i] * 255u + 32767u) / 65535u);
    else if (*raw)
        memcpy(*raw, dec, bytes);
    stbi_image_free(wide ? (void *)wide : (void *)dec);
    if (!*raw) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for '%s' (%dx%d)", path, *w, *h);
    return DCGAN_OK;
}

static dcgan_status dcgan__decode_file(unsigned char **raw, int *w, int *h, int *comp,
                                       const char *path) {
    return dcgan__decode_file_into(raw, w, h, comp, path, NULL, 0);
}

// Decoding untrusted files in a helper process. Debian's stb_image can crash
// (SIGSEGV) inside its progressive-JPEG decoder on hostile input
// (tests/stb_crashes/), and a crash would end the whole run. Where fork()
// exists, files are decoded by a helper process, started on the first image
// and kept for the next ones: the parent sends it a path over a socket, the
// helper decodes, copies the pixels into memory both processes share and
// answers. A crash costs that one file (reported like any unreadable file) and
// the next file starts a new helper. Helpers sit in slots: slot 0 serves the
// whole program, one file at a time (an OpenMP critical section), and a
// dcgan_dataset_load on several threads claims a free slot for each of them
// (dcgan__claim_slots), so that files are decoded on every core; a claimed
// slot is used by its thread alone until the load gives it back. Each helper
// maps only its own slot's memory: a decoder that scribbles before it crashes
// cannot reach another file's pixels. DCGAN_NO_FORK, or
// dcgan_set_isolated_decoding(0), decodes in the process itself.
static int dcgan__isolated_decoding = 1;
#define DCGAN__HELPER_SLOTS 64
#define DCGAN__HELPER_MIN_CAP ((size_t)16 << 20)   // a helper's shared memory: 16 MB, or the image
static unsigned char dcgan__slot_claimed[DCGAN__HELPER_SLOTS];   // 1: a load's (slot 0: never)

// Claims up to want free slots above 0 for a load (their numbers into slot);
// returns how many it got (0 when all are claimed, by loads running at once
// or nested in a callback).
static int dcgan__claim_slots(int *slot, int want) {
    int got = 0;
    DCGAN__OMP(omp critical(dcgan__slots))
    for (int k = 1; k < DCGAN__HELPER_SLOTS && got < want; k++)
        if (!dcgan__slot_claimed[k]) {
            dcgan__slot_claimed[k] = 1;
            slot[got++] = k;
        }
    return got;
}

static void dcgan__release_slots(const int *slot, int n) {
    DCGAN__OMP(omp critical(dcgan__slots))
    for (int k = 0; k < n; k++) dcgan__slot_claimed[slot[k]] = 0;
}

// A load's fork gate. A fork while another thread of the program holds a lock
// of the allocator gives a child that waits on that lock for ever (seen under
// AddressSanitizer, whose allocator, unlike glibc's malloc, is not made ready
// for a fork: a test hung, session 39). So a load's helpers are forked before
// its threads start (dcgan__start_slots), and one that a thread must start
// again in the loop (after a crash, or for an image larger than its shared
// memory) is forked through the gate: each thread of the load counts itself
// busy while it works on a file (decoding it, or the ordered part that follows)
// and passes the gate to do so; the thread that forks closes the gate, waits
// until no other thread is busy, forks, and opens it. A thread waiting for its
// turn in the files' order is not busy, so the fork never waits on it; a busy
// thread waits on nothing the forking thread holds. The counter's updates and
// reads are sequentially consistent: a thread's "not busy" must not be seen
// before its last unlock of the allocator (on x86 any atomic update is; on ARM
// a relaxed one is not). Not covered: a load started inside a callback forks
// its helpers beside the outer load's busy threads (a referee's 30 ASan runs of
// such nesting did not hang; with glibc's malloc a fork is always safe).
#ifdef _OPENMP
typedef struct {
    omp_lock_t gate;   // held by a thread that forks, and briefly by each that enters
    int busy;          // threads working on a file (atomic)
} dcgan__fork_gate;
static dcgan__fork_gate *dcgan__slot_gate[DCGAN__HELPER_SLOTS];   // a slot's load's gate (NULL: none)

static void dcgan__gate_enter(dcgan__fork_gate *g) {
    if (!g) return;
    omp_set_lock(&g->gate);
    DCGAN__OMP(omp atomic update seq_cst)
    g->busy++;
    omp_unset_lock(&g->gate);
}

static void dcgan__gate_leave(dcgan__fork_gate *g) {
    if (!g) return;
    DCGAN__OMP(omp atomic update seq_cst)
    g->busy--;
}

// A load's gate, in g, for its team's slots; NULL (no gate) where one thread decodes.
static dcgan__fork_gate *dcgan__gate_open(dcgan__fork_gate *g, const int *slot, int team) {
    if (team < 2) return NULL;
    omp_init_lock(&g->gate);
    g->busy = 0;
    for (int k = 0; k < team; k++) dcgan__slot_gate[slot[k]] = g;
    return g;
}

static void dcgan__gate_close(dcgan__fork_gate *g, const int *slot, int team) {
    if (!g) return;
    for (int k = 0; k < team; k++) dcgan__slot_gate[slot[k]] = NULL;
    omp_destroy_lock(&g->gate);
}
#else
typedef struct {
    int unused;   // (without OpenMP one thread decodes: no gate)
} dcgan__fork_gate;
static dcgan__fork_gate *dcgan__gate_open(dcgan__fork_gate *g, const int *slot, int team) {
    (void)g, (void)slot, (void)team;
    return NULL;
}
static void dcgan__gate_close(dcgan__fork_gate *g, const int *slot, int team) { (void)g, (void)slot, (void)team; }
static void dcgan__gate_enter(dcgan__fork_gate *g) { (void)g; }
static void dcgan__gate_leave(dcgan__fork_gate *g) { (void)g; }
#endif
// Tests look at each file a thread of dcgan_dataset_load decodes through this
// hook (busy: 1 before, 0 after), and at a thread that waits at the gate to
// start its helper again (waiting: 1 from when it is no longer busy, 0 when it
// is again); by default they do nothing.
#ifndef DCGAN__LOAD_DECODE_HOOK
#define DCGAN__LOAD_DECODE_HOOK(path, busy) ((void)(path), (void)(busy))
#endif
#ifndef DCGAN__GATE_WAIT_HOOK
#define DCGAN__GATE_WAIT_HOOK(waiting) ((void)(waiting))
#endif

#if (defined(__unix__) || defined(__APPLE__)) && !defined(DCGAN_NO_FORK)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// Tests make the helper crash on purpose through this hook (called in the
// helper before it decodes a file); by default it does nothing.
#ifndef DCGAN__CHILD_DECODE_HOOK
#define DCGAN__CHILD_DECODE_HOOK(path) ((void)(path))
#endif
// and look at the program right before each helper is forked (by default nothing)
#ifndef DCGAN__BEFORE_FORK_HOOK
#define DCGAN__BEFORE_FORK_HOOK() ((void)0)
#endif

typedef struct {
    int32_t status, w, h, comp;
    char message[512];        // dcgan_last_error() of the helper when status != DCGAN_OK
} dcgan__decode_reply;

typedef struct {
    int pid;                  // 0: no helper running
    int sock;                 // the parent's end of the socket pair
    unsigned char *shared;    // cap bytes mapped in both processes
    size_t cap;
} dcgan__helper_slot;
static dcgan__helper_slot dcgan__helpers[DCGAN__HELPER_SLOTS];

// Reads exactly n bytes (retrying after signals); 1 on success, 0 at an early end.
static int dcgan__read_full(int fd, void *buf, size_t n) {
    unsigned char *p = (unsigned char *)buf;
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return 0;
        p += got;
        n -= (size_t)got;
    }
    return 1;
}

// Sends exactly n bytes; 0 if the other end is gone (MSG_NOSIGNAL: no SIGPIPE).
static int dcgan__send_full(int fd, const void *buf, size_t n) {
    const unsigned char *p = (const unsigned char *)buf;
    while (n > 0) {
        ssize_t put = send(fd, p, n, MSG_NOSIGNAL);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return 0;
        p += put;
        n -= (size_t)put;
    }
    return 1;
}

// Ends slot's helper (it leaves when its socket closes) and waits for it;
// returns its wait status (0 if there was none).
// (Starts and stops take turns, dcgan__helper_start says why.)
static int dcgan__helper_stop(int slot) {
    dcgan__helper_slot *hp = &dcgan__helpers[slot];
    int ws = 0;
    DCGAN__OMP(omp critical(dcgan__helper_table))
    {
        if (hp->pid > 0) {
            // (shutdown: the helper sees the end even where a child of the
            // program, started before the descriptor was closed on exec, holds a copy)
            shutdown(hp->sock, SHUT_RDWR);
            close(hp->sock);
            while (waitpid(hp->pid, &ws, 0) < 0 && errno == EINTR) {
            }
        }
        if (hp->shared) munmap(hp->shared, hp->cap);
        memset(hp, 0, sizeof *hp);
    }
    return ws;
}

// The helper: answers requests (a u32 length, then the path) until the socket
// closes, then leaves with _exit (no atexit handlers, no stdio flushing of the
// parent's buffers). Ctrl-C is the parent's to handle.
static void dcgan__helper_main(int sock, unsigned char *shared, size_t cap) {
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    for (;;) {
        uint32_t len = 0;
        char path[4096];
        dcgan__decode_reply reply;
        unsigned char *raw = NULL;
        int w = 0, h = 0, comp = 0;
        if (!dcgan__read_full(sock, &len, sizeof len) || len == 0 || len >= sizeof path ||
            !dcgan__read_full(sock, path, len))
            _exit(0);
        path[len] = '\0';
        DCGAN__CHILD_DECODE_HOOK(path);
        memset(&reply, 0, sizeof reply);
        // straight into the shared memory: no copy of the pixels in the helper
        reply.status = dcgan__decode_file_into(&raw, &w, &h, &comp, path, shared, cap);
        if (reply.status != DCGAN_OK) snprintf(reply.message, sizeof reply.message, "%s", dcgan_last_error());
        reply.w = w;
        reply.h = h;
        reply.comp = comp;
        if (!dcgan__send_full(sock, &reply, sizeof reply)) _exit(0);
    }
}

// Starts slot's helper, whose shared memory holds cap bytes (see below).
static dcgan_status dcgan__helper_start_locked(int slot, size_t cap) {
    int sv[2], zero = open("/dev/zero", O_RDWR);
    void *shared = zero >= 0 ? mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0) : MAP_FAILED;
    if (zero >= 0) close(zero);
    if (shared == MAP_FAILED) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "cannot map %zu bytes for the decoder", cap);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        munmap(shared, cap);
        return DCGAN__FAIL(DCGAN_ERR_IO, "socketpair failed: %s", strerror(errno));
    }
    fcntl(sv[0], F_SETFD, FD_CLOEXEC);   // a program the program runs does not inherit it
    DCGAN__BEFORE_FORK_HOOK();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        munmap(shared, cap);
        return DCGAN__FAIL(DCGAN_ERR_IO, "fork failed: %s", strerror(errno));
    }
    if (pid == 0) {
        // The helper keeps only its socket (and stdin/out/err): every other
        // descriptor of the program stays the program's. A lock on a file
        // (train's OUT/.lock) would otherwise outlive a killed program for as
        // long as the helper takes to notice, and block the next run; and
        // another slot's helper would never see its socket close.
        long max_fd = sysconf(_SC_OPEN_MAX);
        if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
        for (int fd = 3; fd < (int)max_fd; fd++)
            if (fd != sv[1]) close(fd);
        // and only its own slot's memory: a decoder that scribbles before it
        // crashes must not reach the pixels another helper hands over
        for (int k = 0; k < DCGAN__HELPER_SLOTS; k++)
            if (k != slot && dcgan__helpers[k].shared) munmap(dcgan__helpers[k].shared, dcgan__helpers[k].cap);
        dcgan__helper_main(sv[1], (unsigned char *)shared, cap);
    }
    close(sv[1]);
    dcgan__helpers[slot].pid = (int)pid;
    dcgan__helpers[slot].sock = sv[0];
    dcgan__helpers[slot].shared = (unsigned char *)shared;
    dcgan__helpers[slot].cap = cap;
    return DCGAN_OK;
}

// Starts and stops take turns (threads of a load start their helpers at
// once): a helper is forked while the table of slots is whole, so it finds
// every other slot's memory to unmap, and no other start's socket pair is
// half made in it.
static dcgan_status dcgan__helper_start(int slot, size_t cap) {
    dcgan_status st;
    DCGAN__OMP(omp critical(dcgan__helper_table))
    st = dcgan__helper_start_locked(slot, cap);
    return st;
}

// dcgan__helper_start from a thread of a load (its slot has a gate, see
// dcgan__fork_gate): the fork happens while no other thread of the load is busy.
static dcgan_status dcgan__helper_restart(int slot, size_t cap) {
#ifdef _OPENMP
    dcgan__fork_gate *g = dcgan__slot_gate[slot];
    if (g) {
        dcgan_status st;
        DCGAN__OMP(omp atomic update seq_cst)
        g->busy--;   // (this thread: busy since it took its file)
        DCGAN__GATE_WAIT_HOOK(1);
        omp_set_lock(&g->gate);
        for (;;) {
            int busy;
            DCGAN__OMP(omp atomic read seq_cst)
            busy = g->busy;
            if (busy == 0) break;
            // (a millisecond's sleep, not a spin: the busy threads may need this core,
            // and a callback may run for minutes: one that loads a folder, say)
            poll(NULL, 0, 1);
        }
        st = dcgan__helper_start(slot, cap);
        DCGAN__GATE_WAIT_HOOK(0);
        DCGAN__OMP(omp atomic update seq_cst)
        g->busy++;
        omp_unset_lock(&g->gate);
        return st;
    }
#endif
    return dcgan__helper_start(slot, cap);
}

// One file through slot's helper; need = w * h * comp from the file's header.
static dcgan_status dcgan__decode_by_helper(int slot, unsigned char **raw, int *w, int *h, int *comp,
                                            const char *path, size_t need) {
    dcgan__helper_slot *hp = &dcgan__helpers[slot];
    dcgan__decode_reply reply;
    uint32_t len = (uint32_t)strlen(path);
    *raw = NULL;
    if (len == 0 || len >= 4096) return dcgan__decode_file(raw, w, h, comp, path);
    if (hp->pid > 0 && hp->cap < need) dcgan__helper_stop(slot);   // room for this one
    if (hp->pid <= 0) {
        size_t cap = need > DCGAN__HELPER_MIN_CAP ? need : DCGAN__HELPER_MIN_CAP;
        if (dcgan__helper_restart(slot, cap) != DCGAN_OK) return dcgan__decode_file(raw, w, h, comp, path);
    }
    // the request in one message: the length, then the path
    unsigned char request[sizeof len + 4096];
    memcpy(request, &len, sizeof len);
    memcpy(request + sizeof len, path, len);
    memset(&reply, 0, sizeof reply);
    int answered = dcgan__send_full(hp->sock, request, sizeof len + len) &&
                   dcgan__read_full(hp->sock, &reply, sizeof reply);
    if (!answered) {   // the helper died on this file: say how, and start a new one next time
        int ws = dcgan__helper_stop(slot);
        if (WIFSIGNALED(ws))
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the image decoder crashed on it (signal %d); "
                               "the file is skipped", path, WTERMSIG(ws));
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the decoder process ended without an answer", path);
    }
    if (reply.status != DCGAN_OK) {
        reply.message[sizeof reply.message - 1] = '\0';
        return dcgan_error_set((dcgan_status)reply.status, "%s", reply.message);
    }
    size_t bytes = (size_t)reply.w * (size_t)reply.h * (size_t)reply.comp;
    if (reply.w <= 0 || reply.h <= 0 || reply.comp < 1 || reply.comp > 4 || bytes > hp->cap)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the decoder answered %dx%dx%d", path, (int)reply.w,
                           (int)reply.h, (int)reply.comp);
    *raw = (unsigned char *)dcgan__alloc(bytes, 1);
    if (!*raw) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for '%s' (%dx%d)", path, (int)reply.w, (int)reply.h);
    memcpy(*raw, hp->shared, bytes);
    *w = reply.w;
    *h = reply.h;
    *comp = reply.comp;
    return DCGAN_OK;
}

// The helpers of a load's n slots, stopped when it ends: a load of big images
// leaves no processes and no shared memory behind (a fork per thread and
// load; the program's helper, slot 0, stays).
static void dcgan__stop_slots(const int *slot, int n) {
    for (int k = 0; k < n; k++) dcgan__helper_stop(slot[k]);
}

// A load's helpers are forked before its threads start, not each by its thread
// in the loop (see dcgan__fork_gate); one the loop must start again (a larger
// image, a helper that crashed) is forked there through the gate, and so is a
// start that fails here.
static void dcgan__start_slots(const int *slot, int n) {
    if (!dcgan__isolated_decoding) return;
    for (int k = 0; k < n; k++)
        if (dcgan__helpers[slot[k]].pid <= 0) (void)dcgan__helper_start(slot[k], DCGAN__HELPER_MIN_CAP);
}

// slot 0: the program's helper, one caller at a time; a slot above 0: the
// caller's alone (dcgan_dataset_load's threads).
static dcgan_status dcgan__decode_isolated(unsigned char **raw, int *w, int *h, int *comp,
                                           const char *path, int slot) {
    dcgan_status st;
    const size_t need = (size_t)*w * (size_t)*h * (size_t)*comp;
    if (!dcgan__isolated_decoding) return dcgan__decode_file(raw, w, h, comp, path);
    if (slot > 0) return dcgan__decode_by_helper(slot, raw, w, h, comp, path, need);
    DCGAN__OMP(omp critical(dcgan__decoder))
    st = dcgan__decode_by_helper(0, raw, w, h, comp, path, need);
    return st;
}

DCGAN_API void dcgan_set_isolated_decoding(int on) {
    dcgan__isolated_decoding = on;
    if (!on)
        for (int slot = 0; slot < DCGAN__HELPER_SLOTS; slot++) dcgan__helper_stop(slot);
}
#else
static dcgan_status dcgan__decode_isolated(unsigned char **raw, int *w, int *h, int *comp,
                                           const char *path, int slot) {
    (void)slot;
    return dcgan__decode_file(raw, w, h, comp, path);
}

DCGAN_API void dcgan_set_isolated_decoding(int on) { dcgan__isolated_decoding = on; }

static void dcgan__stop_slots(const int *slot, int n) {
    (void)slot;
    (void)n;
}

static void dcgan__start_slots(const int *slot, int n) {
    (void)slot;
    (void)n;
}
#endif

// Decodes path to interleaved 8-bit pixels with C = opt->channels, resized to
// OW x OH; *pixels is (OH, OW, C), owned by the caller. slot: the decoder
// helper's (dcgan__decode_isolated).
static dcgan_status dcgan__decode_rect(unsigned char **pixels, const char *path,
                                       const dcgan_image_options *opt, int OW, int OH, int slot) {
    int w, h, comp;
    const int C = opt->channels;
    unsigned char *raw = NULL, *conv = NULL, *sized = NULL;
    char why[160];
    if (!stbi_info(path, &w, &h, &comp))
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s", path, dcgan__decode_reason(path, why, sizeof why));
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > opt->max_pixels)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is %dx%d = %.1f Mpixel, above the limit of %.1f "
                           "Mpixel", path, w, h, (double)w * h / 1048576.0,
                           (double)opt->max_pixels / 1048576.0);
    dcgan_status st = dcgan__decode_isolated(&raw, &w, &h, &comp, path, slot);
    if (st != DCGAN_OK) return st;
    if ((size_t)w * (size_t)h > opt->max_pixels) {   // the header lied about the size
        dcgan_free(raw);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' decodes to %dx%d, above the limit", path, w, h);
    }
    conv = (unsigned char *)dcgan__alloc((size_t)w * h * C, 1);
    sized = (unsigned char *)dcgan__alloc((size_t)OW * OH * C, 1);
    if (!raw || !conv || !sized) {
        dcgan_free(raw);
        dcgan_free(conv);
        dcgan_free(sized);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for '%s' (%dx%d)", path, w, h);
    }
    // channel conversion: comp is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const unsigned char *p = raw + i * comp;
        unsigned char r = p[0], g = comp >= 3 ? p[1] : p[0], b = comp >= 3 ? p[2] : p[0];
        if (C == 3) {
            conv[i * 3] = r;
            conv[i * 3 + 1] = g;
            conv[i * 3 + 2] = b;
        } else {
            // Pillow's convert('L') (libImaging/Convert.c, rgb2l): the ITU-R 601 weights
            // 0.299, 0.587, 0.114 in 16-bit fixed point, rounded: (19595 R + 38470 G +
            // 7471 B + 2^15) >> 16. (R 299 + G 587 + B 114) / 1000, rounded, differs from it
            // by one level for 9,040 of the 2^24 colours, e.g. (0, 0, 250): 29 against 28.
            conv[i] = (unsigned char)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
        }
    }
    DCGAN_FREE(raw);
    if (opt->resize == DCGAN_RESIZE_NEAREST) {
        dcgan__resize_nearest_u8(sized, OW, OH, conv, w, h, C);
    } else if (!stbir_resize_uint8(conv, w, h, 0, sized, OW, OH, 0, C)) {
        DCGAN_FREE(conv);
        DCGAN_FREE(sized);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "resizing '%s' to %dx%d failed", path, OW, OH);
    }
    DCGAN_FREE(conv);
    *pixels = sized;
    return DCGAN_OK;
}

// dcgan__decode_rect to the square opt->size x opt->size.
static dcgan_status dcgan__decode(unsigned char **pixels, const char *path,
                                  const dcgan_image_options *opt, int slot) {
    return dcgan__decode_rect(pixels, path, opt, opt->size, opt->size, slot);
}

// Interleaved bytes (S, S, C) to planar floats (C, S, S) in [-1, 1].
static void dcgan__u8_to_image(float *out, const unsigned char *pixels, int C, int S) {
    for (int c = 0; c < C; c++)
        for (size_t p = 0; p < (size_t)S * S; p++)
            out[(size_t)c * S * S + p] = ((float)pixels[p * C + c] - 127.5f) / 127.5f;
}

static dcgan_status dcgan__check_options(const char *func, const dcgan_image_options *opt) {
    if ((opt->channels != 1 && opt->channels != 3) || opt->size <= 0 || opt->size > 8192)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "channels must be 1 or 3 and size in 1..8192, got %d and %d",
                           opt->channels, opt->size);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_image_load(float *out, const char *path,
                                        const dcgan_image_options *opt) {
    unsigned char *pixels;
    dcgan_status st = dcgan__check_options(__func__, opt);
    if (st != DCGAN_OK) return st;
    if ((st = dcgan__as(dcgan__decode(&pixels, path, opt, 0), __func__)) != DCGAN_OK) return st;
    dcgan__u8_to_image(out, pixels, opt->channels, opt->size);
    DCGAN_FREE(pixels);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_image_load_rgb01(float **out, int *w, int *h, const char *path,
                                              size_t max_pixels) {
    dcgan_image_options opt;
    unsigned char *pixels;
    int iw, ih, comp;
    dcgan_image_options_default(&opt);
    opt.channels = 3;
    opt.resize = DCGAN_RESIZE_NEAREST;
    opt.max_pixels = max_pixels;
    char why[160];
    if (!stbi_info(path, &iw, &ih, &comp))
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s", path, dcgan__decode_reason(path, why, sizeof why));
    // decode at the image's own size: nearest "resizing" to the same size is a copy
    if (iw <= 0 || ih <= 0 || (size_t)iw * ih > max_pixels)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is %dx%d, above the limit of %zu pixels", path, iw, ih, max_pixels);
    dcgan_status st = dcgan__as(dcgan__decode_rect(&pixels, path, &opt, iw, ih, 0), __func__);
    if (st != DCGAN_OK) return st;
    float *img = (float *)dcgan__alloc((size_t)3 * iw * ih, sizeof(float));
    if (!img) {
        DCGAN_FREE(pixels);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for '%s'", path);
    }
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < (size_t)iw * ih; p++) img[(size_t)c * iw * ih + p] = (float)pixels[p * 3 + c] / 255.0f;
    DCGAN_FREE(pixels);
    *out = img;
    *w = iw;
    *h = ih;
    return DCGAN_OK;
}

DCGAN_API void dcgan_dataset_free(dcgan_dataset *ds) {
    dcgan_free(ds->data);
    dcgan_paths_free(ds->paths, ds->count);
    memset(ds, 0, sizeof *ds);
}

// FNV-1a over the n listed image files: each name (with its 0), byte size,
// modification and status-change times (seconds) and inode; 0 when one cannot
// be stat'ed (no cache then matches).
static uint64_t dcgan__listing_hash(char *const *paths, int n) {
    uint64_t h = DCGAN__FNV_OFFSET;
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) return 0;
        const uint64_t v[4] = {(uint64_t)sb.st_size, (uint64_t)sb.st_mtime, (uint64_t)sb.st_ctime, (uint64_t)sb.st_ino};
        unsigned char b[32];
        for (int k = 0; k < 32; k++) b[k] = (unsigned char)(v[k / 8] >> (8 * (k % 8)));
        h = dcgan__fnv1a64(h, (const unsigned char *)paths[i], strlen(paths[i]) + 1);
        h = dcgan__fnv1a64(h, b, sizeof b);
    }
    return h;
}

// ds->dark and ds->first_dark (dcgan_dataset): an image is nearly black when
// none of its values is above 31 of 255 (in [-1, 1], none above the value of
// 31.5: rounding on either side of 31 cannot move an image across). A 16-bit
// image of 12-bit values is 0..16 in 8 bits, a little more where a resize
// filter overshoots.
static void dcgan__count_dark(dcgan_dataset *ds) {
    const size_t image = (size_t)ds->channels * ds->size * ds->size;
    const float limit = (31.5f - 127.5f) / 127.5f;
    ds->dark = 0;
    ds->first_dark = -1;
    for (int n = 0; n < ds->count; n++) {
        const float *x = ds->data + (size_t)n * image;
        size_t i = 0;
        while (i < image && x[i] <= limit) i++;
        if (i < image) continue;
        if (ds->dark++ == 0) ds->first_dark = n;
    }
}

// ds->enlarged, first_enlarged and its size (dcgan_dataset): images with a side
// shorter than ds->size. Their sizes are read again from each file's header
// (stbi_info, as dcgan__decode_rect reads it first), so a dataset from the cache
// counts them as a decoded one does; a file that cannot be read now is not counted.
static void dcgan__count_enlarged(dcgan_dataset *ds) {
    ds->enlarged = 0;
    ds->first_enlarged = -1;
    ds->first_enlarged_w = ds->first_enlarged_h = 0;
    for (int n = 0; ds->paths && n < ds->count; n++) {
        int w, h, comp;
        if (!ds->paths[n] || !stbi_info(ds->paths[n], &w, &h, &comp) || (w >= ds->size && h >= ds->size))
            continue;
        if (ds->enlarged++ == 0) {
            ds->first_enlarged = n;
            ds->first_enlarged_w = w;
            ds->first_enlarged_h = h;
        }
    }
}

DCGAN_API dcgan_status dcgan_dataset_load(dcgan_dataset *ds, const char *dir,
                                          const dcgan_image_options *opt) {
    char **paths = NULL;
    int total = 0, used = 0, skipped = 0;
    const size_t image = (size_t)opt->channels * opt->size * opt->size;
    dcgan_status st = dcgan__check_options(__func__, opt);
    memset(ds, 0, sizeof *ds);
    if (st != DCGAN_OK) return st;
    int unread = 0;
    char first[4096];
    st = dcgan__list_counting(&paths, &total, &unread, first, sizeof first, dir);
    if (st == DCGAN_OK && total == 0 && unread > 0)
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "no image files (jpg, jpeg, png, bmp, pgm, ppm, tga) under '%s', "
                         "only %d other file%s, the first '%s' (convert DICOM, TIFF or WebP images to PNG)",
                         dir, unread, unread == 1 ? "" : "s", first);
    if (st != DCGAN_OK) {
        dcgan_paths_free(paths, total);   // (NULL and 0 where the listing failed)
        return st;
    }
    if (opt->max_images > 0 && total > opt->max_images) {
        for (int i = opt->max_images; i < total; i++) dcgan_free(paths[i]);
        total = opt->max_images;
    }
    if (total == 0) {
        dcgan_paths_free(paths, 0);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "no image files (jpg, jpeg, png, bmp, pgm, ppm, tga) "
                           "under '%s'", dir);
    }
    float *data = (float *)dcgan__alloc((size_t)total * image, sizeof(float));
    if (!data) {
        dcgan_paths_free(paths, total);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %d images of %zu values", total, image);
    }
    const uint64_t listing = dcgan__listing_hash(paths, total);   // (before decoding drops the skipped)
    // The files are decoded on every thread, each with a decoder helper of its
    // own (a slot claimed for this load and stopped at its end; on one thread,
    // or with fewer than two slots free, the program's, slot 0); what follows a
    // decode runs file by file in the files' order (omp ordered), so the
    // images, the callbacks and their order are those of one thread. Decoding
    // was most of a classifier's start: 3,650 X-rays of 224x224 took 5 s on one
    // core (bench/RESULTS.md, session 33). No lock is held while the callbacks
    // run (one may load another folder).
    int team = 1, slot[DCGAN__HELPER_SLOTS];
#ifdef _OPENMP
    // (inside a parallel region that may not nest another, one thread)
    team = omp_get_active_level() < omp_get_max_active_levels() ? omp_get_max_threads() : 1;
#endif
    if (team > total) team = total;
    team = team > 1 ? dcgan__claim_slots(slot, team) : 0;
    if (team < 2) {   // one thread: the program's helper
        dcgan__release_slots(slot, team);
        team = 1;
        slot[0] = 0;
    } else {
        dcgan__start_slots(slot, team);   // (before the threads start: see there)
    }
    dcgan__fork_gate gate, *g = dcgan__gate_open(&gate, slot, team);   // (see dcgan__fork_gate)
    DCGAN__OMP(omp parallel for ordered schedule(dynamic, 1) num_threads(team) if (team > 1))
    for (int i = 0; i < total; i++) {
        unsigned char *pixels = NULL;
        int me = 0;   // (below team: a runtime may give fewer threads, never more)
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        dcgan__gate_enter(g);
        DCGAN__LOAD_DECODE_HOOK(paths[i], 1);
        const dcgan_status got = dcgan__as(dcgan__decode(&pixels, paths[i], opt, slot[me]), __func__);
        DCGAN__LOAD_DECODE_HOOK(paths[i], 0);
        dcgan__gate_leave(g);   // (not busy while it waits for its turn below)
        DCGAN__OMP(omp ordered)
        {
            dcgan__gate_enter(g);
            if (got != DCGAN_OK) {
                // the file is skipped; its message (this thread's) goes to the callback, the path is dropped
                if (opt->on_skip) opt->on_skip(opt->user, paths[i], dcgan_last_error());
                dcgan_free(paths[i]);
                paths[i] = NULL;
                skipped++;
            } else {
                dcgan__u8_to_image(data + (size_t)used * image, pixels, opt->channels, opt->size);
                DCGAN_FREE(pixels);
                paths[used++] = paths[i];
                if (used - 1 != i) paths[i] = NULL;
            }
            if (opt->on_progress) opt->on_progress(opt->user, i + 1, total);
            dcgan__gate_leave(g);
        }
    }
    dcgan__gate_close(g, slot, team);
    if (slot[0] != 0) {
        dcgan__stop_slots(slot, team);
        dcgan__release_slots(slot, team);
    }
    if (used == 0) {
        DCGAN_FREE(data);
        dcgan_paths_free(paths, total);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "none of the %d image files under '%s' could be read",
                           total, dir);
    }
    ds->data = data;
    ds->count = used;
    ds->channels = opt->channels;
    ds->size = opt->size;
    ds->skipped = skipped;
    ds->paths = paths;
    ds->listed = total;
    ds->unread = unread;
    ds->listing = listing;
    dcgan__count_dark(ds);
    dcgan__count_enlarged(ds);
    return DCGAN_OK;
}

// Dataset cache. All integers little-endian; the header starts with
// DCGAN__CACHE_MAGIC and DCGAN__CACHE_VERSION (see "Internals" above).

static int dcgan__put_u64(FILE *f, uint64_t v) {
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
    return fwrite(b, 1, 8, f) == 8;
}

static int dcgan__get_u64(FILE *f, uint64_t *v) {
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8) return 0;
    *v = 0;
    for (int k = 7; k >= 0; k--) *v = *v << 8 | b[k];
    return 1;
}

DCGAN_API dcgan_status dcgan_dataset_cache_save(const dcgan_dataset *ds, const char *path,
                                                const dcgan_image_options *opt) {
    char tmp[4096];
    const size_t image = (size_t)ds->channels * ds->size * ds->size;
    unsigned char *bytes = (unsigned char *)dcgan__alloc(image, 1);
    FILE *f;
    int ok;
    dcgan_status st;
    if (!bytes) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for one image");
    if ((f = dcgan__tmp_open(__func__, path, tmp, sizeof tmp, &st)) == NULL) {
        DCGAN_FREE(bytes);
        return st;
    }
    ok = dcgan__put_u64(f, DCGAN__CACHE_MAGIC) && dcgan__put_u64(f, DCGAN__CACHE_VERSION) &&
         dcgan__put_u64(f, (uint64_t)ds->size) && dcgan__put_u64(f, (uint64_t)ds->channels) &&
         dcgan__put_u64(f, (uint64_t)opt->resize) && dcgan__put_u64(f, (uint64_t)ds->count) &&
         dcgan__put_u64(f, (uint64_t)ds->listed) && dcgan__put_u64(f, ds->listing);
    for (int i = 0; ok && i < ds->count; i++) {
        struct stat sb;
        size_t len = strlen(ds->paths[i]);
        if (stat(ds->paths[i], &sb) != 0) { ok = 0; break; }
        ok = dcgan__put_u64(f, (uint64_t)len) && fwrite(ds->paths[i], 1, len, f) == len &&
             dcgan__put_u64(f, (uint64_t)sb.st_size) && dcgan__put_u64(f, (uint64_t)sb.st_mtime);
    }
    for (int i = 0; ok && i < ds->count; i++) {
        // stored as bytes: planar float x -> round(x * 127.5 + 127.5), exact for 8-bit sources
        const float *src = ds->data + (size_t)i * image;
        for (size_t k = 0; k < image; k++) {
            float v = src[k] * 127.5f + 127.5f + 0.5f;
            bytes[k] = (unsigned char)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
        }
        ok = fwrite(bytes, 1, image, f) == image;
    }
    DCGAN_FREE(bytes);
    return dcgan__tmp_commit(__func__, f, ok, tmp, path);
}

DCGAN_API dcgan_status dcgan_dataset_cache_load(dcgan_dataset *ds, const char *path,
                                                const char *dir,
                                                const dcgan_image_options *opt) {
    uint64_t magic, version, size, channels, resize, count, n_listed = 0, listing = 0;
    char **paths = NULL;
    int total = 0, listed = 0;   // the listing's files used, and all of them (to free)
    FILE *f;
    dcgan_status st;
    float *data = NULL;
    unsigned char *bytes = NULL;
    memset(ds, 0, sizeof *ds);
    f = fopen(path, "rb");
    if (!f) return DCGAN__FAIL(DCGAN_ERR_IO, "no cache at '%s'", path);
    if (!dcgan__get_u64(f, &magic) || !dcgan__get_u64(f, &version) || !dcgan__get_u64(f, &size) ||
        !dcgan__get_u64(f, &channels) || !dcgan__get_u64(f, &resize) || !dcgan__get_u64(f, &count) ||
        magic != DCGAN__CACHE_MAGIC) {
        fclose(f);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is not a dataset cache", path);
    }
    if (version != DCGAN__CACHE_VERSION) {
        fclose(f);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is cache version %llu, this build reads %u", path,
                           (unsigned long long)version, DCGAN__CACHE_VERSION);
    }
    if (!dcgan__get_u64(f, &n_listed) || !dcgan__get_u64(f, &listing)) {
        fclose(f);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is not a dataset cache", path);
    }
    if (size != (uint64_t)opt->size || channels != (uint64_t)opt->channels ||
        resize != (uint64_t)opt->resize) {
        fclose(f);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' holds %llux%llu x%llu images (resize %llu), "
                           "wanted %dx%d x%d (resize %d)", path, (unsigned long long)size,
                           (unsigned long long)size, (unsigned long long)channels,
                           (unsigned long long)resize, opt->size, opt->size, opt->channels,
                           (int)opt->resize);
    }
    // The current listing must be the cached one, file for file (the other
    // files are counted as dataset_load counts them).
    int unread = 0;
    if ((st = dcgan__list_counting(&paths, &total, &unread, NULL, 0, dir)) != DCGAN_OK) {
        fclose(f);
        return st;
    }
    listed = total;
    if (opt->max_images > 0 && total > opt->max_images) total = opt->max_images;
    if (count == 0) {   // dcgan_dataset_cache_save never writes an empty cache
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' lists no images: damaged", path);
        goto fail;
    }
    if (count > (uint64_t)total) {
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' lists %llu images, '%s' has %d: stale", path,
                         (unsigned long long)count, dir, total);
        goto fail;
    }
    {
        // Cached paths are a subset of the listing (skipped files are absent), in order.
        int next = 0;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t len, fsize, mtime;
            char name[4096];
            struct stat sb;
            if (!dcgan__get_u64(f, &len) || len >= sizeof name || fread(name, 1, (size_t)len, f) != len ||
                !dcgan__get_u64(f, &fsize) || !dcgan__get_u64(f, &mtime)) {
                st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is truncated in its file list", path);
                goto fail;
            }
            name[len] = '\0';
            while (next < total && strcmp(paths[next], name) != 0) next++;
            if (next == total || stat(name, &sb) != 0 || (uint64_t)sb.st_size != fsize ||
                (uint64_t)sb.st_mtime != mtime) {
                st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is stale: '%s' was removed or changed", path, name);
                goto fail;
            }
            next++;
        }
    }
    // ... and nothing else changed: no file added (a skipped one fixed, more --max-images)
    if (n_listed != (uint64_t)total || listing != dcgan__listing_hash(paths, total) || listing == 0) {
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is stale: the image files under '%s' are not those it was made "
                         "from (%llu then, %d now, or one added, removed or rewritten)", path, dir,
                         (unsigned long long)n_listed, total);
        goto fail;
    }
    {
        const size_t image = (size_t)opt->channels * opt->size * opt->size;
        data = (float *)dcgan__alloc((size_t)count * image, sizeof(float));
        bytes = (unsigned char *)dcgan__alloc(image, 1);
        if (!data || !bytes) {
            st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %llu cached images", (unsigned long long)count);
            goto fail;
        }
        for (uint64_t i = 0; i < count; i++) {
            if (fread(bytes, 1, image, f) != image) {
                st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is truncated at image %llu", path,
                                 (unsigned long long)i);
                goto fail;
            }
            for (size_t k = 0; k < image; k++)
                data[(size_t)i * image + k] = ((float)bytes[k] - 127.5f) / 127.5f;
        }
        if (fgetc(f) != EOF) {
            st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' has bytes after the last image", path);
            goto fail;
        }
    }
    // Rebuild the path list in cache order (rewind and read the names again).
    {
        char **used = (char **)dcgan__calloc((size_t)count, sizeof(char *));
        if (!used) {
            st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the path list");
            goto fail;
        }
        fseek(f, 8 * 8, SEEK_SET);   // (past the header's 8 numbers)
        for (uint64_t i = 0; i < count; i++) {
            uint64_t len, skip;
            char name[4096];
            if (!dcgan__get_u64(f, &len) || len >= sizeof name || fread(name, 1, (size_t)len, f) != len ||
                !dcgan__get_u64(f, &skip) || !dcgan__get_u64(f, &skip)) {
                dcgan_paths_free(used, (int)count);
                st = DCGAN__FAIL(DCGAN_ERR_IO, "cannot re-read '%s'", path);
                goto fail;
            }
            used[i] = (char *)dcgan__alloc((size_t)len + 1, 1);
            if (!used[i]) {
                dcgan_paths_free(used, (int)count);
                st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the path list");
                goto fail;
            }
            memcpy(used[i], name, (size_t)len);
            used[i][len] = '\0';
        }
        ds->paths = used;
    }
    fclose(f);
    dcgan_free(bytes);
    dcgan_paths_free(paths, listed);
    ds->data = data;
    ds->count = (int)count;
    ds->channels = opt->channels;
    ds->size = opt->size;
    ds->skipped = total - (int)count;
    ds->listed = total;
    ds->unread = unread;
    ds->listing = listing;
    dcgan__count_dark(ds);
    dcgan__count_enlarged(ds);
    return DCGAN_OK;
fail:
    fclose(f);
    dcgan_free(data);
    dcgan_free(bytes);
    dcgan_paths_free(paths, listed);
    memset(ds, 0, sizeof *ds);
    return st;
}

// stb_image_write hands the encoded PNG to this callback piece by piece;
// every short write is remembered, so a full disk is noticed.
typedef struct {
    FILE *f;
    int ok;
} dcgan__png_sink;

static void dcgan__png_put(void *context, void *data, int size) {
    dcgan__png_sink *sink = (dcgan__png_sink *)context;
    if (sink->ok && size > 0 && fwrite(data, 1, (size_t)size, sink->f) != (size_t)size) sink->ok = 0;
}

DCGAN_API dcgan_status dcgan_png_write(const char *path, const unsigned char *pixels, int w,
                                       int h, int channels) {
    char tmp[4096];
    dcgan_status st;
    dcgan__png_sink sink;
    // stb takes a row's bytes and its filtered image, (w * channels + 1) * h, as
    // ints and trusts the rest (w 0 read out of bounds; a product past INT_MAX wrapped)
    if (w <= 0 || h <= 0 || channels < 1 || channels > 4 || w > INT_MAX / channels ||
        ((size_t)w * channels + 1) * (size_t)h > INT_MAX)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "'%s': a PNG of %dx%d with %d channels (need sides > 0, 1-4 channels, "
                           "(w * channels + 1) * h below 2^31)",
                           path, w, h, channels);
    if ((sink.f = dcgan__tmp_open(__func__, path, tmp, sizeof tmp, &st)) == NULL) return st;
    sink.ok = 1;
    if (!stbi_write_png_to_func(dcgan__png_put, &sink, w, h, channels, pixels, w * channels))
        sink.ok = 0;
    return dcgan__tmp_commit(__func__, sink.f, sink.ok, tmp, path);
}
#endif // DCGAN_NO_IMAGES

// =============================================================================
// Part II: evaluation
// =============================================================================
// How good are the generated images? Inception-V3 features (pytorch-fid's
// network), FID, KID, their intervals and floor, precision/recall, and the
// file readers the weights and statistics come in (pickle, zip, npz).

// -----------------------------------------------------------------------------
// 14. Inception-V3 features and FID

// --- 14a. The network: BasicConv2d list, deterministic fill, forward pass

#define DCGAN__INC_BN_EPS 0.001
#define DCGAN__INC_MAX_ACT ((size_t)64 * 147 * 147)   // the largest activation (after Conv2d_2b)
#define DCGAN__INC_MAX_MIXED ((size_t)288 * 35 * 35) // the largest activation of one image in the mixed blocks

// Declares one BasicConv2d; with net->convs == NULL it only counts.
static void dcgan__inc_add(dcgan_inception *net, const char *prefix, const char *name, int in,
                           int out, int kh, int kw, int stride, int ph, int pw) {
    if (net->convs) {
        dcgan_inception_conv *c = &net->convs[net->n_convs];
        if (prefix[0]) snprintf(c->name, sizeof c->name, "%s.%s", prefix, name);
        else snprintf(c->name, sizeof c->name, "%s", name);
        c->in_c = in;
        c->out_c = out;
        c->kh = kh;
        c->kw = kw;
        c->stride = stride;
        c->ph = ph;
        c->pw = pw;
        c->weight_offset = net->n_params;
        c->bias_offset = net->n_params + (size_t)out * in * kh * kw;
    }
    net->n_convs++;
    net->n_params += (size_t)out * in * kh * kw + (size_t)out;
}

// The n 1x1 convolutions of a block that read its input (in channels): their
// weights are laid out one after another, then their biases, so that the n
// are one product (dcgan__inc_group) with the stacked weights (sum of outs,
// in) and biases: the input is packed once, and the product has more rows.
static void dcgan__inc_add_group(dcgan_inception *net, const char *prefix, int n, const char *const *names,
                                 const int *outs, int in) {
    size_t weights = 0;
    for (int k = 0; k < n; k++) weights += (size_t)outs[k] * in;
    size_t w = net->n_params, b = net->n_params + weights;
    for (int k = 0; k < n; k++) {
        dcgan__inc_add(net, prefix, names[k], in, outs[k], 1, 1, 1, 0, 0);
        if (net->convs) {
            net->convs[net->n_convs - 1].weight_offset = w;
            net->convs[net->n_convs - 1].bias_offset = b;
        }
        w += (size_t)outs[k] * in;
        b += (size_t)outs[k];
    }
    net->n_params = b;   // (the same count as n separate convolutions)
}

// The blocks' 1x1 convolutions on the block's input, grouped (dcgan__inc_add_group).
static const char *const dcgan__inc_group_a[3] = {"branch1x1", "branch5x5_1", "branch3x3dbl_1"};
static const char *const dcgan__inc_group_c[3] = {"branch1x1", "branch7x7_1", "branch7x7dbl_1"};
static const char *const dcgan__inc_group_d[2] = {"branch3x3_1", "branch7x7x3_1"};
static const char *const dcgan__inc_group_e[3] = {"branch1x1", "branch3x3_1", "branch3x3dbl_1"};

static void dcgan__inc_block_a(dcgan_inception *net, const char *p, int in, int pool_features) {
    const int outs[3] = {64, 48, 64};
    dcgan__inc_add_group(net, p, 3, dcgan__inc_group_a, outs, in);
    dcgan__inc_add(net, p, "branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
    dcgan__inc_add(net, p, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    dcgan__inc_add(net, p, "branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
    dcgan__inc_add(net, p, "branch_pool", in, pool_features, 1, 1, 1, 0, 0);
}

static void dcgan__inc_block_c(dcgan_inception *net, const char *p, int c7) {
    const int outs[3] = {192, c7, c7};
    dcgan__inc_add_group(net, p, 3, dcgan__inc_group_c, outs, 768);
    dcgan__inc_add(net, p, "branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
    dcgan__inc_add(net, p, "branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
    dcgan__inc_add(net, p, "branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
    dcgan__inc_add(net, p, "branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
    dcgan__inc_add(net, p, "branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
    dcgan__inc_add(net, p, "branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
    dcgan__inc_add(net, p, "branch_pool", 768, 192, 1, 1, 1, 0, 0);
}

static void dcgan__inc_block_e(dcgan_inception *net, const char *p, int in) {
    const int outs[3] = {320, 384, 448};
    dcgan__inc_add_group(net, p, 3, dcgan__inc_group_e, outs, in);
    dcgan__inc_add(net, p, "branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
    dcgan__inc_add(net, p, "branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
    dcgan__inc_add(net, p, "branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
    dcgan__inc_add(net, p, "branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
    dcgan__inc_add(net, p, "branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
    dcgan__inc_add(net, p, "branch_pool", in, 192, 1, 1, 1, 0, 0);
}

// Every BasicConv2d of the network, in torchvision's module order except that
// each block's grouped 1x1 convolutions come first.
static void dcgan__inc_layout(dcgan_inception *net) {
    static const int outs_d[2] = {192, 192};
    net->n_convs = 0;
    net->n_params = 0;
    dcgan__inc_add(net, "", "Conv2d_1a_3x3", 3, 32, 3, 3, 2, 0, 0);
    dcgan__inc_add(net, "", "Conv2d_2a_3x3", 32, 32, 3, 3, 1, 0, 0);
    dcgan__inc_add(net, "", "Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1);
    dcgan__inc_add(net, "", "Conv2d_3b_1x1", 64, 80, 1, 1, 1, 0, 0);
    dcgan__inc_add(net, "", "Conv2d_4a_3x3", 80, 192, 3, 3, 1, 0, 0);
    dcgan__inc_block_a(net, "Mixed_5b", 192, 32);
    dcgan__inc_block_a(net, "Mixed_5c", 256, 64);
    dcgan__inc_block_a(net, "Mixed_5d", 288, 64);
    dcgan__inc_add(net, "Mixed_6a", "branch3x3", 288, 384, 3, 3, 2, 0, 0);
    dcgan__inc_add(net, "Mixed_6a", "branch3x3dbl_1", 288, 64, 1, 1, 1, 0, 0);
    dcgan__inc_add(net, "Mixed_6a", "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    dcgan__inc_add(net, "Mixed_6a", "branch3x3dbl_3", 96, 96, 3, 3, 2, 0, 0);
    dcgan__inc_block_c(net, "Mixed_6b", 128);
    dcgan__inc_block_c(net, "Mixed_6c", 160);
    dcgan__inc_block_c(net, "Mixed_6d", 160);
    dcgan__inc_block_c(net, "Mixed_6e", 192);
    dcgan__inc_add_group(net, "Mixed_7a", 2, dcgan__inc_group_d, outs_d, 768);
    dcgan__inc_add(net, "Mixed_7a", "branch3x3_2", 192, 320, 3, 3, 2, 0, 0);
    dcgan__inc_add(net, "Mixed_7a", "branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
    dcgan__inc_add(net, "Mixed_7a", "branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
    dcgan__inc_add(net, "Mixed_7a", "branch7x7x3_4", 192, 192, 3, 3, 2, 0, 0);
    dcgan__inc_block_e(net, "Mixed_7b", 1280);
    dcgan__inc_block_e(net, "Mixed_7c", 2048);
}

DCGAN_API void dcgan_inception_free(dcgan_inception *net) {
    dcgan_sgemm_release();
    dcgan_free(net->convs);
    dcgan_free(net->params);
    dcgan_free(net->scratch);
    memset(net, 0, sizeof *net);
}

DCGAN_API dcgan_status dcgan_inception_init(dcgan_inception *net) {
    dcgan_inception tmp;
    memset(&tmp, 0, sizeof tmp);
    memset(net, 0, sizeof *net);
    dcgan__inc_layout(&tmp);   // count
    tmp.convs = (dcgan_inception_conv *)dcgan__calloc((size_t)tmp.n_convs, sizeof(dcgan_inception_conv));
    if (tmp.convs) dcgan__inc_layout(&tmp);   // fill
    tmp.params = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.batch = DCGAN_INCEPTION_BATCH > 0 ? DCGAN_INCEPTION_BATCH : 1;
    // stem: the resized input and two activations of one image; mixed blocks:
    // four activations of `batch` images (see dcgan_inception_features_list)
    tmp.n_scratch = (size_t)3 * 299 * 299 + 2 * DCGAN__INC_MAX_ACT +
                    4 * (size_t)tmp.batch * DCGAN__INC_MAX_MIXED;
    tmp.scratch = (float *)dcgan__alloc(tmp.n_scratch, sizeof(float));
    if (!tmp.convs || !tmp.params || !tmp.scratch) {
        dcgan_inception_free(&tmp);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for Inception-V3 (about 155 MB)");
    }
    *net = tmp;
    return DCGAN_OK;
}

// The index of the conv called name, or -1.
static int dcgan__inc_find(const dcgan_inception *net, const char *name) {
    for (int i = 0; i < net->n_convs; i++)
        if (strcmp(net->convs[i].name, name) == 0) return i;
    return -1;
}

// The five state_dict suffixes of a BasicConv2d, in order.
static const char *const dcgan__inc_suffix[5] = {"conv.weight", "bn.weight", "bn.bias",
                                                 "bn.running_mean", "bn.running_var"};

// Splits "Mixed_5b.branch1x1.bn.weight" into conv index and suffix index;
// -1 for "fc.weight" / "fc.bias", -2 for num_batches_tracked, -3 if unknown.
static int dcgan__inc_classify(const dcgan_inception *net, const char *key, int *conv, int *part) {
    char prefix[96];
    if (strcmp(key, "fc.weight") == 0 || strcmp(key, "fc.bias") == 0) return -1;
    for (int k = 0; k < 6; k++) {
        const char *suffix = k < 5 ? dcgan__inc_suffix[k] : "bn.num_batches_tracked";
        size_t kl = strlen(key), sl = strlen(suffix);
        if (kl <= sl + 1 || strcmp(key + kl - sl, suffix) != 0 || key[kl - sl - 1] != '.') continue;
        if (kl - sl - 1 >= sizeof prefix) return -3;
        memcpy(prefix, key, kl - sl - 1);
        prefix[kl - sl - 1] = '\0';
        *conv = dcgan__inc_find(net, prefix);
        *part = k;
        if (*conv < 0) return -3;
        return k < 5 ? 0 : -2;
    }
    return -3;
}

DCGAN_API dcgan_status dcgan_inception_load_tensors(dcgan_inception *net,
                                                    const dcgan_named_tensor *tensors, int n) {
    // which tensor holds each of the 5 parts of each conv
    int *found = (int *)dcgan__alloc((size_t)net->n_convs * 5, sizeof(int));
    char listing[400] = "";
    int n_unexpected = 0, n_missing = 0, have_fc = 0;
    if (!found) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory");
    for (int i = 0; i < net->n_convs * 5; i++) found[i] = -1;
    for (int t = 0; t < n; t++) {
        int conv = -1, part = -1;
        int kind = dcgan__inc_classify(net, tensors[t].name, &conv, &part);
        if (kind == -1) { have_fc++; continue; }
        if (kind == -2) continue;
        if (kind == -3) {
            if (n_unexpected++ < 4) {
                size_t len = strlen(listing);
                snprintf(listing + len, sizeof listing - len, "%sunexpected '%s'", len ? ", " : "",
                         tensors[t].name);
            }
            continue;
        }
        // shape check: conv.weight (OC, C, KH, KW), the rest (OC)
        const dcgan_inception_conv *c = &net->convs[conv];
        const dcgan_named_tensor *x = &tensors[t];
        int ok = part == 0 ? x->ndim == 4 && x->shape[0] == c->out_c && x->shape[1] == c->in_c &&
                                 x->shape[2] == c->kh && x->shape[3] == c->kw
                           : x->ndim == 1 && x->shape[0] == c->out_c;
        if (!ok) {
            dcgan_free(found);
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' has shape [%lld, %lld, ...] (%d dims), expected "
                               "(%d, %d, %d, %d) or (%d)", x->name, (long long)x->shape[0],
                               x->ndim > 1 ? (long long)x->shape[1] : 0LL, x->ndim, c->out_c,
                               c->in_c, c->kh, c->kw, c->out_c);
        }
        found[conv * 5 + part] = t;
    }
    for (int i = 0; i < net->n_convs * 5; i++) {
        if (found[i] >= 0) continue;
        if (n_missing++ < 4) {
            size_t len = strlen(listing);
            snprintf(listing + len, sizeof listing - len, "%smissing '%s.%s'", len ? ", " : "",
                     net->convs[i / 5].name, dcgan__inc_suffix[i % 5]);
        }
    }
    if (n_missing || n_unexpected || have_fc != 2) {
        dcgan_free(found);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "not pytorch-fid's Inception-V3 state_dict: %d missing, "
                           "%d unexpected keys%s (%s)", n_missing, n_unexpected,
                           have_fc != 2 ? ", no fc.weight/fc.bias" : "", listing);
    }
    // Every key is there: fold each BatchNorm into its convolution.
    for (int i = 0; i < net->n_convs; i++) {
        const dcgan_inception_conv *c = &net->convs[i];
        const float *w = tensors[found[i * 5]].data, *gamma = tensors[found[i * 5 + 1]].data;
        const float *beta = tensors[found[i * 5 + 2]].data, *mean = tensors[found[i * 5 + 3]].data;
        const float *var = tensors[found[i * 5 + 4]].data;
        const size_t per_oc = (size_t)c->in_c * c->kh * c->kw;
        float *wf = net->params + c->weight_offset, *bf = net->params + c->bias_offset;
        for (int oc = 0; oc < c->out_c; oc++) {
            double scale = gamma[oc] / sqrt((double)var[oc] + DCGAN__INC_BN_EPS);
            for (size_t k = 0; k < per_oc; k++) wf[oc * per_oc + k] = (float)(w[oc * per_oc + k] * scale);
            bf[oc] = (float)(beta[oc] - mean[oc] * scale);
        }
    }
    dcgan_free(found);
    net->loaded = 1;
    return DCGAN_OK;
}

// FNV-1a 64 of a string: the per-tensor seed of the deterministic fill.
DCGAN__INTERNAL uint64_t dcgan__fnv1a64_str(const char *s) {
    return dcgan__fnv1a64(DCGAN__FNV_OFFSET, (const unsigned char *)s, strlen(s));
}

DCGAN_API dcgan_status dcgan_inception_fill_deterministic(dcgan_inception *net) {
    const int n = net->n_convs * 5 + 2;
    dcgan_named_tensor *list = (dcgan_named_tensor *)dcgan__calloc((size_t)n, sizeof(*list));
    float *store = (float *)dcgan__alloc(net->n_params + (size_t)net->n_convs * 4 * 2048 + 1008 * 2049,
                                         sizeof(float));
    dcgan_status st;
    if (!list || !store) {
        dcgan_free(list);
        dcgan_free(store);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the fill");
    }
    float *p = store;
    int t = 0;
    for (int i = 0; i <= net->n_convs; i++) {
        for (int part = 0; part < (i < net->n_convs ? 5 : 2); part++) {
            dcgan_named_tensor *x = &list[t++];
            dcgan_rng rng;
            size_t count;
            if (i == net->n_convs) {   // the classifier, unused for FID but part of the file
                snprintf(x->name, sizeof x->name, "fc.%s", part ? "bias" : "weight");
                x->ndim = part ? 1 : 2;
                x->shape[0] = 1008;
                x->shape[1] = 2048;
                count = part ? 1008 : 1008 * 2048;
            } else {
                const dcgan_inception_conv *c = &net->convs[i];
                snprintf(x->name, sizeof x->name, "%s.%s", c->name, dcgan__inc_suffix[part]);
                x->ndim = part ? 1 : 4;
                x->shape[0] = c->out_c;
                x->shape[1] = c->in_c;
                x->shape[2] = c->kh;
                x->shape[3] = c->kw;
                count = part ? (size_t)c->out_c : (size_t)c->out_c * c->in_c * c->kh * c->kw;
            }
            dcgan_rng_seed(&rng, dcgan__fnv1a64_str(x->name));
            for (size_t k = 0; k < count; k++) {
                float u = dcgan_rng_uniform(&rng);
                if (i == net->n_convs) p[k] = 0.02f * (u - 0.5f);
                else if (part == 0) p[k] = (2.0f * u - 1.0f) * sqrtf(6.0f / (float)(x->shape[1] * x->shape[2] * x->shape[3]));
                else if (part == 1 || part == 4) p[k] = 0.5f + u;
                else p[k] = 0.2f * (u - 0.5f);
            }
            x->data = p;
            p += count;
        }
    }
    st = dcgan_inception_load_tensors(net, list, t);
    dcgan_free(list);
    dcgan_free(store);
    return st;
}

// Activations inside the network are laid out (C, NB, H, W): channel c of
// image b is the plane at (c * NB + b) * H * W. With NB = 1 that is the usual
// (C, H, W). In this layout a 1x1 convolution of all NB images is one matrix
// product with NB * H * W columns, concatenating branches is writing at a
// channel offset, and pooling treats the C * NB planes as channels.

// One BasicConv2d (folded) + ReLU: x (C, NB, H, W) -> y (OC, NB, OH, OW).
static void dcgan__inc_conv(dcgan_inception *net, const char *name, const float *x, int NB,
                            int H, int W, float *y, int *OH, int *OW) {
    int i = dcgan__inc_find(net, name);
    DCGAN_ASSERT(i >= 0);
    const dcgan_inception_conv *c = &net->convs[i];
    const int oh = (H + 2 * c->ph - c->kh) / c->stride + 1, ow = (W + 2 * c->pw - c->kw) / c->stride + 1;
    const int CKK = c->in_c * c->kh * c->kw;
    const size_t HW = (size_t)H * W, OHW = (size_t)oh * ow, ldy = (size_t)NB * OHW;
    const float *w = net->params + c->weight_offset, *bias = net->params + c->bias_offset;
    if (c->kh == 1 && c->kw == 1 && c->stride == 1) {
        // a 1x1, stride-1 convolution needs no im2col: x is already (C, NB * HW)
        dcgan__sgemm_fused(0, 0, c->out_c, (int)ldy, CKK, 1.0f, w, CKK, x, (int)ldy, 0.0f, y, (int)ldy,
                           bias, 1);
    } else {
        // all NB images in one product with their im2col matrix (CKK, NB * OHW),
        // read from x while packing (implicit GEMM, section 15a)
        const dcgan__patches col = dcgan__patches_of(x, NB, HW, (size_t)NB * HW, c->in_c, H, W, c->kh, c->kw,
                                                     c->stride, c->ph, c->pw, oh, ow);
        dcgan__sgemm_patches(0, 0, c->out_c, (int)ldy, CKK, 1.0f, w, CKK, &col, 0.0f, y, (int)ldy, bias, 1);
    }
    // y = max(0, conv + bias): the GEMM applied bias and ReLU to each finished tile
    *OH = oh;
    *OW = ow;
}

// 3x3 pooling of P planes of H x W. stride 2 without padding (max), or stride 1
// with padding 1: max, or average over the pixels inside the image only
// (avg_pool2d(count_include_pad=False), pytorch-fid's patch).

// One output pixel (i, j) of plane x: the taps inside the image (rows r0..r1,
// columns q0..q1 of the 3x3 window) in row-major order.
static float dcgan__pool_at(const float *x, int H, int W, int i, int j, int s, int p,
                            dcgan__pool_kind kind) {
    const int r0 = i * s - p < 0 ? 0 : i * s - p, r1 = i * s - p + 2 < H ? i * s - p + 2 : H - 1;
    const int q0 = j * s - p < 0 ? 0 : j * s - p, q1 = j * s - p + 2 < W ? j * s - p + 2 : W - 1;
    float best = -INFINITY, sum = 0.0f;
    for (int r = r0; r <= r1; r++)
        for (int q = q0; q <= q1; q++) {
            const float v = x[(size_t)r * W + q];
            if (v > best) best = v;
            sum += v;
        }
    return kind == DCGAN__POOL_AVG_S1 ? sum / (float)((r1 - r0 + 1) * (q1 - q0 + 1)) : best;
}

// How many i >= 0 have i * s <= a: floor(a / s) + 1, and 0 for a < 0 (C's
// division truncates toward zero: (-1) / 2 + 1 would be 1). A 3x3 pool over n
// pixels has dcgan__count_upto(n + 2p - 3, s) outputs, as PyTorch's pooling
// computes them (none where the window does not fit at all).
static int dcgan__count_upto(int a, int s) {
    return a >= 0 ? a / s + 1 : 0;
}

// The reference (tests/test_fid.c): every pixel through dcgan__pool_at.
DCGAN__REFERENCE DCGAN__INTERNAL void dcgan__inc_pool_ref(float *y, const float *x, int P, int H, int W,
                                                          dcgan__pool_kind kind, int *OH, int *OW) {
    const int s = kind == DCGAN__POOL_MAX_S2 ? 2 : 1, p = kind == DCGAN__POOL_MAX_S2 ? 0 : 1;
    const int oh = dcgan__count_upto(H + 2 * p - 3, s), ow = dcgan__count_upto(W + 2 * p - 3, s);
    for (int c = 0; c < P; c++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                y[((size_t)c * oh + i) * ow + j] =
                    dcgan__pool_at(x + (size_t)c * H * W, H, W, i, j, s, p, kind);
    *OH = oh;
    *OW = ow;
}

// The same result, bit for bit: pixels whose 3x3 window lies inside the image
// (all but a one-pixel border) take the nine taps in the same order without
// bounds checks; the border goes through dcgan__pool_at. Planes are shared
// among the threads. The average's row is vectorised (omp simd: each lane
// adds its nine taps in the same order), which GCC at -O2 had left scalar:
// one thread of an Intel Xeon, 288 planes of 35x35 931 -> 489 us, 768 of 17x17
// 733 -> 639 us, 1280 of 8x8 unchanged (bench/RESULTS.md, session 24). The
// maximum's rows stay as they are: vectorised, its stride-2 taps were gathered
// lane by lane and it ran 1.1-1.5x slower.
DCGAN__INTERNAL void dcgan__inc_pool(float *y, const float *x, int P, int H, int W, dcgan__pool_kind kind,
                                     int *OH, int *OW) {
    const int s = kind == DCGAN__POOL_MAX_S2 ? 2 : 1, p = kind == DCGAN__POOL_MAX_S2 ? 0 : 1;
    const int oh = dcgan__count_upto(H + 2 * p - 3, s), ow = dcgan__count_upto(W + 2 * p - 3, s);
    // window of (i, j) inside the image: i*s - p >= 0 and i*s - p + 2 <= H - 1
    const int lo = (p + s - 1) / s;
    int hi_i = dcgan__count_upto(H - 3 + p, s), hi_j = dcgan__count_upto(W - 3 + p, s);
    if (hi_i > oh) hi_i = oh;
    if (hi_j > ow) hi_j = ow;
    DCGAN__OMP(omp parallel for schedule(static) if ((double)P * oh * ow > 65536))
    for (int c = 0; c < P; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int i = 0; i < oh; i++) {
            float *yr = y + ((size_t)c * oh + i) * ow;
            if (i < lo || i >= hi_i || hi_j <= lo) {
                for (int j = 0; j < ow; j++) yr[j] = dcgan__pool_at(xc, H, W, i, j, s, p, kind);
                continue;
            }
            const float *r0 = xc + (size_t)(i * s - p) * W, *r1 = r0 + W, *r2 = r1 + W;
            for (int j = 0; j < lo; j++) yr[j] = dcgan__pool_at(xc, H, W, i, j, s, p, kind);
            if (kind == DCGAN__POOL_AVG_S1) {
                DCGAN__OMP(omp simd)
                for (int j = lo; j < hi_j; j++) {
                    const int q = j - 1;   // stride 1, padding 1
                    // from 0.0f, as dcgan__pool_at sums: nine -0 taps make +0 there
                    // (and in PyTorch's avg_pool2d), while -0 + -0 is -0
                    yr[j] = (0.0f + r0[q] + r0[q + 1] + r0[q + 2] + r1[q] + r1[q + 1] + r1[q + 2] + r2[q] +
                             r2[q + 1] + r2[q + 2]) / 9.0f;
                }
            } else {
                for (int j = lo; j < hi_j; j++) {
                    const int q = j * s - p;
                    float m = -INFINITY;   // the same comparisons as dcgan__pool_at
                    m = r0[q] > m ? r0[q] : m;
                    m = r0[q + 1] > m ? r0[q + 1] : m;
                    m = r0[q + 2] > m ? r0[q + 2] : m;
                    m = r1[q] > m ? r1[q] : m;
                    m = r1[q + 1] > m ? r1[q + 1] : m;
                    m = r1[q + 2] > m ? r1[q + 2] : m;
                    m = r2[q] > m ? r2[q] : m;
                    m = r2[q + 1] > m ? r2[q + 1] : m;
                    m = r2[q + 2] > m ? r2[q + 2] : m;
                    yr[j] = m;
                }
            }
            for (int j = hi_j; j < ow; j++) yr[j] = dcgan__pool_at(xc, H, W, i, j, s, p, kind);
        }
    }
    *OH = oh;
    *OW = ow;
}

// Runs the conv `blk.conv` into channel c0 of y (OC', NB, OH, OW).
static void dcgan__inc_branch(dcgan_inception *net, const char *blk, const char *conv,
                              const float *x, int NB, int H, int W, float *y, int c0, int *OH,
                              int *OW) {
    char name[48];
    int oh, ow;
    snprintf(name, sizeof name, "%s.%s", blk, conv);
    // the output size of this conv, to find channel c0's offset
    const dcgan_inception_conv *c = &net->convs[dcgan__inc_find(net, name)];
    oh = (H + 2 * c->ph - c->kh) / c->stride + 1;
    ow = (W + 2 * c->pw - c->kw) / c->stride + 1;
    dcgan__inc_conv(net, name, x, NB, H, W, y + (size_t)c0 * NB * oh * ow, OH, OW);
}

// The block's grouped 1x1 convolutions (dcgan__inc_add_group) + ReLU on x
// (C, NB, H, W) as one product: y gets their outputs one after another, as
// channels (the first conv's out_c, then the second's, ...). Each output is
// what dcgan__inc_conv gives, bit for bit: a row of the product does not
// depend on the rows beside it.
static void dcgan__inc_group(dcgan_inception *net, const char *blk, int n, const char *const *names,
                             const float *x, int NB, int H, int W, float *y) {
    char name[48];
    int first = -1, M = 0;
    for (int k = 0; k < n; k++) {
        snprintf(name, sizeof name, "%s.%s", blk, names[k]);
        const int i = dcgan__inc_find(net, name);
        DCGAN_ASSERT(i >= 0 && (k == 0 || i == first + k));
        const dcgan_inception_conv *c = &net->convs[i];
        if (k == 0) first = i;
        // stacked: each one's weights and bias follow the previous one's
        DCGAN_ASSERT(c->weight_offset == net->convs[first].weight_offset + (size_t)M * c->in_c &&
                     c->bias_offset == net->convs[first].bias_offset + (size_t)M);
        M += c->out_c;
    }
    const dcgan_inception_conv *c0 = &net->convs[first];
    const int ld = NB * H * W;
    dcgan__sgemm_fused(0, 0, M, ld, c0->in_c, 1.0f, net->params + c0->weight_offset, c0->in_c, x, ld,
                       0.0f, y, ld, net->params + c0->bias_offset, 1);
}

// The blocks; x is (C, NB, H, W), y gets the concatenated branches, t1 t2 are scratch.
static int dcgan__inc_a(dcgan_inception *net, const char *blk, const float *x, int C, int NB,
                        int *H, int *W, float *y, float *t1, float *t2) {
    int h = *H, w = *W, oh, ow;
    char name[48];
    const size_t plane = (size_t)NB * h * w;
    // t1: branch1x1 (64 channels), branch5x5_1 (48), branch3x3dbl_1 (64)
    dcgan__inc_group(net, blk, 3, dcgan__inc_group_a, x, NB, h, w, t1);
    memcpy(y, t1, 64 * plane * sizeof(float));
    dcgan__inc_branch(net, blk, "branch5x5_2", t1 + 64 * plane, NB, h, w, y, 64, &oh, &ow);
    snprintf(name, sizeof name, "%s.branch3x3dbl_2", blk);
    dcgan__inc_conv(net, name, t1 + 112 * plane, NB, h, w, t2, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch3x3dbl_3", t2, NB, h, w, y, 128, &oh, &ow);
    dcgan__inc_pool(t1, x, C * NB, h, w, DCGAN__POOL_AVG_S1, &oh, &ow);
    snprintf(name, sizeof name, "%s.branch_pool", blk);
    dcgan__inc_branch(net, blk, "branch_pool", t1, NB, h, w, y, 224, &oh, &ow);
    return 224 + net->convs[dcgan__inc_find(net, name)].out_c;
}

static int dcgan__inc_b(dcgan_inception *net, const float *x, int C, int NB, int *H, int *W,
                        float *y, float *t1, float *t2) {
    int h = *H, w = *W, oh, ow;
    dcgan__inc_branch(net, "Mixed_6a", "branch3x3", x, NB, h, w, y, 0, &oh, &ow);
    dcgan__inc_conv(net, "Mixed_6a.branch3x3dbl_1", x, NB, h, w, t1, &oh, &ow);
    dcgan__inc_conv(net, "Mixed_6a.branch3x3dbl_2", t1, NB, h, w, t2, &oh, &ow);
    dcgan__inc_branch(net, "Mixed_6a", "branch3x3dbl_3", t2, NB, h, w, y, 384, &oh, &ow);
    dcgan__inc_pool(y + (size_t)480 * NB * oh * ow, x, C * NB, h, w, DCGAN__POOL_MAX_S2, &oh, &ow);
    *H = oh;
    *W = ow;
    return 480 + C;
}

static int dcgan__inc_c(dcgan_inception *net, const char *blk, const float *x, int C, int NB,
                        int h, int w, float *y, float *t1, float *t2) {
    static const char *const dbl[5] = {"branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3",
                                       "branch7x7dbl_4", "branch7x7dbl_5"};
    char name[48];
    int oh, ow;
    const size_t plane = (size_t)NB * h * w;
    snprintf(name, sizeof name, "%s.branch7x7_1", blk);
    const int c7 = net->convs[dcgan__inc_find(net, name)].out_c;
    // t1: branch1x1 (192 channels), branch7x7_1 (c7), branch7x7dbl_1 (c7)
    dcgan__inc_group(net, blk, 3, dcgan__inc_group_c, x, NB, h, w, t1);
    memcpy(y, t1, 192 * plane * sizeof(float));
    snprintf(name, sizeof name, "%s.branch7x7_2", blk);
    dcgan__inc_conv(net, name, t1 + 192 * plane, NB, h, w, t2, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch7x7_3", t2, NB, h, w, y, 192, &oh, &ow);
    const float *src = t1 + (size_t)(192 + c7) * plane;   // branch7x7dbl_1's output
    for (int k = 1; k < 4; k++) {   // dbl_2 .. dbl_4 alternate between t2 and t1
        float *dst = k % 2 == 1 ? t2 : t1;
        snprintf(name, sizeof name, "%s.%s", blk, dbl[k]);
        dcgan__inc_conv(net, name, src, NB, h, w, dst, &oh, &ow);
        src = dst;
    }
    dcgan__inc_branch(net, blk, dbl[4], src, NB, h, w, y, 384, &oh, &ow);
    dcgan__inc_pool(t1, x, C * NB, h, w, DCGAN__POOL_AVG_S1, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch_pool", t1, NB, h, w, y, 576, &oh, &ow);
    return 768;
}

static int dcgan__inc_d(dcgan_inception *net, const float *x, int C, int NB, int *H, int *W,
                        float *y, float *t1, float *t2) {
    int h = *H, w = *W, oh, ow;
    // t1: branch3x3_1 (192 channels), branch7x7x3_1 (192)
    dcgan__inc_group(net, "Mixed_7a", 2, dcgan__inc_group_d, x, NB, h, w, t1);
    dcgan__inc_branch(net, "Mixed_7a", "branch3x3_2", t1, NB, h, w, y, 0, &oh, &ow);
    dcgan__inc_conv(net, "Mixed_7a.branch7x7x3_2", t1 + (size_t)192 * NB * h * w, NB, h, w, t2, &oh, &ow);
    dcgan__inc_conv(net, "Mixed_7a.branch7x7x3_3", t2, NB, h, w, t1, &oh, &ow);
    dcgan__inc_branch(net, "Mixed_7a", "branch7x7x3_4", t1, NB, h, w, y, 320, &oh, &ow);
    dcgan__inc_pool(y + (size_t)512 * NB * oh * ow, x, C * NB, h, w, DCGAN__POOL_MAX_S2, &oh, &ow);
    *H = oh;
    *W = ow;
    return 512 + C;
}

static int dcgan__inc_e(dcgan_inception *net, const char *blk, const float *x, int C, int NB,
                        int h, int w, float *y, float *t1, float *t2, dcgan__pool_kind pool) {
    char name[48];
    int oh, ow;
    const size_t plane = (size_t)NB * h * w;
    // t1: branch1x1 (320 channels), branch3x3_1 (384), branch3x3dbl_1 (448)
    dcgan__inc_group(net, blk, 3, dcgan__inc_group_e, x, NB, h, w, t1);
    memcpy(y, t1, 320 * plane * sizeof(float));
    dcgan__inc_branch(net, blk, "branch3x3_2a", t1 + 320 * plane, NB, h, w, y, 320, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch3x3_2b", t1 + 320 * plane, NB, h, w, y, 704, &oh, &ow);
    snprintf(name, sizeof name, "%s.branch3x3dbl_2", blk);
    dcgan__inc_conv(net, name, t1 + 704 * plane, NB, h, w, t2, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch3x3dbl_3a", t2, NB, h, w, y, 1088, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch3x3dbl_3b", t2, NB, h, w, y, 1472, &oh, &ow);
    dcgan__inc_pool(t1, x, C * NB, h, w, pool, &oh, &ow);
    dcgan__inc_branch(net, blk, "branch_pool", t1, NB, h, w, y, 1856, &oh, &ow);
    return 2048;
}

// Spatial mean of each channel of image b of x (C, NB, H, W) into out (C) as doubles.
static void dcgan__inc_mean(double *out, const float *x, int C, int NB, int b, int H, int W) {
    const size_t HW = (size_t)H * W;
    for (int c = 0; c < C; c++) {
        const float *plane = x + ((size_t)c * NB + b) * HW;
        double s = 0.0;
        for (size_t k = 0; k < HW; k++) s += plane[k];
        out[c] = s / (double)HW;
    }
}

// The stem of one image (3, H, W) in [0, 1]: resize to 299x299, 2x - 1,
// Conv2d_1a .. Conv2d_2b, max-pool (-> 64 x 73 x 73), and for dims > 64
// Conv2d_3b, Conv2d_4a, max-pool (-> 192 x 35 x 35). The result is left in
// `x` (one image, (C, H, W)); *C, *H, *W get its shape.
static float *dcgan__inc_stem(dcgan_inception *net, const float *image, int H, int W, int dims,
                              int *C, int *OH, int *OW) {
    float *in = net->scratch, *x = in + (size_t)3 * 299 * 299, *y = x + DCGAN__INC_MAX_ACT;
    int h = 299, w = 299;
    // pytorch-fid: F.interpolate(size=(299, 299), bilinear, align_corners=False), then 2x - 1
    dcgan_upsample_forward(dcgan_tensor_make(in, 1, 3, 299, 299),
                           dcgan_tensor_make((float *)image, 1, 3, H, W), DCGAN_UPSAMPLE_BILINEAR);
    for (size_t k = 0; k < (size_t)3 * 299 * 299; k++) in[k] = 2.0f * in[k] - 1.0f;
    dcgan__inc_conv(net, "Conv2d_1a_3x3", in, 1, h, w, x, &h, &w);
    dcgan__inc_conv(net, "Conv2d_2a_3x3", x, 1, h, w, y, &h, &w);
    dcgan__inc_conv(net, "Conv2d_2b_3x3", y, 1, h, w, x, &h, &w);
    dcgan__inc_pool(y, x, 64, h, w, DCGAN__POOL_MAX_S2, &h, &w);
    *C = 64;
    if (dims > 64) {
        dcgan__inc_conv(net, "Conv2d_3b_1x1", y, 1, h, w, x, &h, &w);
        dcgan__inc_conv(net, "Conv2d_4a_3x3", x, 1, h, w, y, &h, &w);
        dcgan__inc_pool(x, y, 192, h, w, DCGAN__POOL_MAX_S2, &h, &w);
        *C = 192;
        y = x;
    }
    *OH = h;
    *OW = w;
    return y;
}

DCGAN_API dcgan_status dcgan_inception_features_list(dcgan_inception *net, double *out,
                                                     const float *const *images,
                                                     const int *heights, const int *widths,
                                                     int n, int dims) {
    if (dims != 64 && dims != 192 && dims != 768 && dims != 2048)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dims %d is not 64, 192, 768 or 2048", dims);
    if (n < 0) return DCGAN__FAIL(DCGAN_ERR_SHAPE, "n = %d images", n);
    for (int i = 0; i < n; i++)
        if (heights[i] <= 0 || widths[i] <= 0 || !images[i])
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "image %d: bad shape 3 x %d x %d", i, heights[i],
                               widths[i]);
    if (!net->loaded)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "no weights loaded (see dcgan_inception_load)");
    // batch may be lowered after init, never to 0 (no pass would advance) nor
    // above what the scratch was sized for
    const size_t fits = (net->n_scratch - ((size_t)3 * 299 * 299 + 2 * DCGAN__INC_MAX_ACT)) /
                        (4 * (size_t)DCGAN__INC_MAX_MIXED);
    if (net->batch < 1 || (size_t)net->batch > fits)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "net->batch is %d; it may be lowered after init to 1 at least, "
                           "and its scratch holds %zu", net->batch, fits);
    // the mixed blocks' four (C, NB, H, W) buffers follow the stem's
    float *mixed = net->scratch + (size_t)3 * 299 * 299 + 2 * DCGAN__INC_MAX_ACT;
    const size_t part = (size_t)net->batch * DCGAN__INC_MAX_MIXED;
    for (int i0 = 0; i0 < n; i0 += net->batch) {
        const int NB = n - i0 < net->batch ? n - i0 : net->batch;
        float *x = mixed, *y = x + part, *t1 = y + part, *t2 = t1 + part, *tmp;
        int C = 0, h = 0, w = 0;
        for (int b = 0; b < NB; b++) {
            const float *s = dcgan__inc_stem(net, images[i0 + b], heights[i0 + b], widths[i0 + b],
                                             dims, &C, &h, &w);
            if (dims <= 192) {
                dcgan__inc_mean(out + (size_t)(i0 + b) * dims, s, C, 1, 0, h, w);
                continue;
            }
            for (int c = 0; c < C; c++)   // channel c of image b into (C, NB, h, w)
                memcpy(x + ((size_t)c * NB + b) * h * w, s + (size_t)c * h * w,
                       (size_t)h * w * sizeof(float));
        }
        if (dims <= 192) continue;
        // block 2: x holds the current activation, y receives the next
        C = dcgan__inc_a(net, "Mixed_5b", x, C, NB, &h, &w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_a(net, "Mixed_5c", x, C, NB, &h, &w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_a(net, "Mixed_5d", x, C, NB, &h, &w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_b(net, x, C, NB, &h, &w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_c(net, "Mixed_6b", x, C, NB, h, w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_c(net, "Mixed_6c", x, C, NB, h, w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_c(net, "Mixed_6d", x, C, NB, h, w, y, t1, t2); tmp = x; x = y; y = tmp;
        C = dcgan__inc_c(net, "Mixed_6e", x, C, NB, h, w, y, t1, t2); tmp = x; x = y; y = tmp;
        if (dims == 2048) {   // block 3
            C = dcgan__inc_d(net, x, C, NB, &h, &w, y, t1, t2); tmp = x; x = y; y = tmp;
            C = dcgan__inc_e(net, "Mixed_7b", x, C, NB, h, w, y, t1, t2, DCGAN__POOL_AVG_S1); tmp = x; x = y; y = tmp;
            C = dcgan__inc_e(net, "Mixed_7c", x, C, NB, h, w, y, t1, t2, DCGAN__POOL_MAX_S1); tmp = x; x = y; y = tmp;
        }
        for (int b = 0; b < NB; b++) dcgan__inc_mean(out + (size_t)(i0 + b) * dims, x, C, NB, b, h, w);
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_inception_features(dcgan_inception *net, double *out,
                                                const float *images, int n, int H, int W,
                                                int dims) {
    if (n < 0 || H <= 0 || W <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "bad image shape %d x 3 x %d x %d", n, H, W);
    // one batch of pointers at a time, so any n needs no allocation
    enum { CHUNK = 64 };
    const float *ptrs[CHUNK];
    int hs[CHUNK], ws[CHUNK];
    for (int i0 = 0; i0 < n || i0 == 0; i0 += CHUNK) {
        const int m = n - i0 < CHUNK ? n - i0 : CHUNK;
        for (int i = 0; i < m; i++) {
            ptrs[i] = images + (size_t)(i0 + i) * 3 * H * W;
            hs[i] = H;
            ws[i] = W;
        }
        dcgan_status st = dcgan_inception_features_list(net, out + (size_t)i0 * dims, ptrs, hs, ws,
                                                        m, dims);
        if (st != DCGAN_OK || n == 0) return st;
    }
    return DCGAN_OK;
}

// --- 14b. FID statistics, Gram products, eigenvalues, Frechet distance, KID

DCGAN_API void dcgan_fid_stats_free(dcgan_fid_stats *st) {
    dcgan_free(st->mu);
    dcgan_free(st->sigma);
    memset(st, 0, sizeof *st);
}

DCGAN_API dcgan_status dcgan_fid_stats_compute(dcgan_fid_stats *st, const double *features,
                                               int64_t n, int dims) {
    memset(st, 0, sizeof *st);
    if (n < 2 || dims <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "need at least 2 feature vectors of dims > 0, got %lld of %d",
                           (long long)n, dims);
    st->mu = (double *)dcgan__calloc((size_t)dims, sizeof(double));
    st->sigma = (double *)dcgan__calloc((size_t)dims * dims, sizeof(double));
    double *centered = (double *)dcgan__alloc((size_t)dims, sizeof(double));
    if (!st->mu || !st->sigma || !centered) {
        dcgan_free(centered);
        dcgan_fid_stats_free(st);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %d x %d covariance", dims, dims);
    }
    st->dims = dims;
    st->count = n;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < dims; k++) st->mu[k] += features[(size_t)i * dims + k];
    for (int k = 0; k < dims; k++) st->mu[k] /= (double)n;
    // sigma = sum (x - mu)(x - mu)^T / (n - 1), upper triangle, then mirrored
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < dims; k++) centered[k] = features[(size_t)i * dims + k] - st->mu[k];
        DCGAN__OMP(omp parallel for schedule(dynamic, 16))
        for (int r = 0; r < dims; r++) {
            double *row = st->sigma + (size_t)r * dims;
            const double cr = centered[r];
            for (int c = r; c < dims; c++) row[c] += cr * centered[c];
        }
    }
    for (int r = 0; r < dims; r++)
        for (int c = r; c < dims; c++) {
            double v = st->sigma[(size_t)r * dims + c] / (double)(n - 1);
            st->sigma[(size_t)r * dims + c] = st->sigma[(size_t)c * dims + r] = v;
        }
    DCGAN_FREE(centered);
    return DCGAN_OK;
}

// The reference loops for a matrix of pairs of rows of a (na, dims) and
// b (nb, dims): out[i * nb + j] = a_i . b_j (dist 0), or the squared Euclidean
// distance |a_i - b_j|^2 from the differences (dist 1; exact for small
// integers, so ties stay ties).
DCGAN__INTERNAL void dcgan__pairs_ref(double *out, const double *a, int64_t na, const double *b, int64_t nb, int dims,
                                      int dist) {
    DCGAN__OMP(omp parallel for schedule(dynamic, 4))
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = 0; j < nb; j++) {
            const double *x = a + (size_t)i * dims, *y = b + (size_t)j * dims;
            double s = 0.0;
            for (int k = 0; k < dims; k++) s += dist ? (x[k] - y[k]) * (x[k] - y[k]) : x[k] * y[k];
            out[(size_t)i * nb + j] = s;
        }
}

// The fast route to the same, dcgan__gram_fast (Part III, section 15d): the
// rows in panels, a tile of out at a time, as dcgan_sgemm does but in double.
// Its sums run in another order than the loop above: equal to rounding (tested).

static void dcgan__gram(double *out, const double *a, int64_t na, const double *b, int64_t nb, int dims) {
    dcgan__gram_fast(out, a, na, b, nb, dims, 0, 0, 1);
}

static void dcgan__sqdist(double *out, const double *a, int64_t na, const double *b, int64_t nb, int dims) {
    dcgan__gram_fast(out, a, na, b, nb, dims, 0, 1, 1);
}

// out = a a^T (n x n): the lower triangle, then mirrored.
static void dcgan__gram_sym(double *out, const double *a, int64_t n, int dims) {
    dcgan__gram_fast(out, a, n, a, n, dims, 1, 0, 1);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) out[(size_t)i * n + j] = out[(size_t)j * n + i];
}

// Steps 2 and 3 of the eigen-decomposition: the eigenvalues of the symmetric
// tridiagonal matrix with diagonal w and off-diagonal e (e[i] couples w[i] and
// w[i+1]; e[n-1] is scratch) replace w, ascending; where V is not NULL, the
// rotations are applied to its columns too (V holds the Householder product).
// Turns the n x n matrix V over in place (V = V^T).
static void dcgan__transpose_square(double *V, int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const double t = V[(size_t)i * n + j];
            V[(size_t)i * n + j] = V[(size_t)j * n + i];
            V[(size_t)j * n + i] = t;
        }
}

static dcgan_status dcgan__tridiagonal_ql(double *w, double *e, int n, double *V) {
    // 2. Implicit QL with a Wilkinson-type shift on the tridiagonal (w, e): each
    //    sweep chases rotations from the bottom of the unreduced block to its top.
    //    An off-diagonal counts as zero below eps times its neighbours or below
    //    eps times the matrix norm (so blocks of zero eigenvalues converge too).
    // V is turned over while the rotations run, so that each rotation mixes
    // two contiguous rows instead of two columns n apart.
    if (V) dcgan__transpose_square(V, n);
    double norm = 0.0;
    for (int i = 0; i < n; i++)
        if (fabs(w[i]) + fabs(e[i]) > norm) norm = fabs(w[i]) + fabs(e[i]);
    for (int l = 0; l < n; l++) {
        int iterations = 0, m;
        for (;;) {
            for (m = l; m < n - 1; m++) {
                double dd = fabs(w[m]) + fabs(w[m + 1]);
                if (fabs(e[m]) <= 2.220446049250313e-16 * dd || fabs(e[m]) <= 2.220446049250313e-16 * norm) break;
            }
            if (m == l) break;
            if (++iterations > 60) {
                if (V) dcgan__transpose_square(V, n);
                return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "eigen-decomposition of %d x %d did not converge "
                                   "(NaN or Inf in the matrix?)", n, n);
            }
            double g = (w[l + 1] - w[l]) / (2.0 * e[l]);
            double r = hypot(g, 1.0);
            g = w[m] - w[l] + e[l] / (g + (g >= 0.0 ? r : -r));   // the shifted start
            double s = 1.0, c = 1.0, shift = 0.0;
            int i;
            for (i = m - 1; i >= l; i--) {
                double f = s * e[i], b = c * e[i];
                r = hypot(f, g);
                e[i + 1] = r;
                if (r == 0.0) {   // underflow: split the block here and start again
                    w[i + 1] -= shift;
                    e[m] = 0.0;
                    break;
                }
                s = f / r;
                c = g / r;
                g = w[i + 1] - shift;
                r = (w[i] - g) * s + 2.0 * c * b;
                shift = s * r;
                w[i + 1] = g + shift;
                g = c * r - b;
                if (V) {
                    // the same rotation on columns i and i+1 of V (rows of V^T)
                    double *vi = V + (size_t)i * n, *vj = vi + n;
                    for (int k = 0; k < n; k++) {
                        const double t = vj[k];
                        vj[k] = s * vi[k] + c * t;
                        vi[k] = c * vi[k] - s * t;
                    }
                }
            }
            if (r == 0.0 && i >= l) continue;
            w[l] -= shift;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    // 3. Sort ascending (selection sort keeps the eigenvectors with their values).
    for (int i = 0; i < n - 1; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] < w[best]) best = j;
        if (best == i) continue;
        double t = w[i];
        w[i] = w[best];
        w[best] = t;
        if (V)
            for (int k = 0; k < n; k++) {
                t = V[(size_t)i * n + k];
                V[(size_t)i * n + k] = V[(size_t)best * n + k];
                V[(size_t)best * n + k] = t;
            }
    }
    if (V) dcgan__transpose_square(V, n);
    for (int i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "eigenvalue %d is not finite", i);
    return DCGAN_OK;
}


DCGAN_API dcgan_status dcgan_symmetric_eigen(double *A, int n, double *w, double *V) {
    double *e = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *v = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *p = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    if (!e || !v || !p) {
        dcgan_free(e); dcgan_free(v); dcgan_free(p);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for a %d x %d eigen-decomposition", n, n);
    }
    if (V)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) V[(size_t)i * n + j] = i == j ? 1.0 : 0.0;
    // 1. Householder: for each column k, a reflection H = I - beta v v^T on rows and
    //    columns k+1.. zeroes A[k+2.., k]; A becomes tridiagonal, V accumulates the H.
    for (int k = 0; k < n - 2; k++) {
        const int m = n - k - 1;            // length of x = A[k+1.., k]
        double norm = 0.0;
        for (int i = 0; i < m; i++) norm += A[(size_t)(k + 1 + i) * n + k] * A[(size_t)(k + 1 + i) * n + k];
        norm = sqrt(norm);
        if (norm == 0.0) continue;
        const double x0 = A[(size_t)(k + 1) * n + k];
        const double alpha = x0 > 0.0 ? -norm : norm;   // v = x - alpha e1 avoids cancellation
        double vv = 0.0;
        for (int i = 0; i < m; i++) {
            v[i] = A[(size_t)(k + 1 + i) * n + k] - (i == 0 ? alpha : 0.0);
            vv += v[i] * v[i];
        }
        if (vv == 0.0) continue;
        const double beta = 2.0 / vv;
        // p = beta A22 v; w = p - (beta p.v / 2) v; A22 -= v w^T + w v^T
        DCGAN__OMP(omp parallel for schedule(static) if (m > 256))
        for (int i = 0; i < m; i++) {
            const double *row = A + (size_t)(k + 1 + i) * n + (k + 1);
            double s = 0.0;
            for (int j = 0; j < m; j++) s += row[j] * v[j];
            p[i] = beta * s;
        }
        double pv = 0.0;
        for (int i = 0; i < m; i++) pv += p[i] * v[i];
        const double K = 0.5 * beta * pv;
        for (int i = 0; i < m; i++) p[i] -= K * v[i];   // p is now w
        DCGAN__OMP(omp parallel for schedule(static) if (m > 256))
        for (int i = 0; i < m; i++) {
            double *row = A + (size_t)(k + 1 + i) * n + (k + 1);
            for (int j = 0; j < m; j++) row[j] -= v[i] * p[j] + p[i] * v[j];
        }
        A[(size_t)(k + 1) * n + k] = A[(size_t)k * n + k + 1] = alpha;
        for (int i = 1; i < m; i++) A[(size_t)(k + 1 + i) * n + k] = A[(size_t)k * n + k + 1 + i] = 0.0;
        if (V) {
            // V[:, k+1..] = V[:, k+1..] (I - beta v v^T)
            DCGAN__OMP(omp parallel for schedule(static) if (n > 256))
            for (int r = 0; r < n; r++) {
                double *row = V + (size_t)r * n + (k + 1);
                double s = 0.0;
                for (int j = 0; j < m; j++) s += row[j] * v[j];
                s *= beta;
                for (int j = 0; j < m; j++) row[j] -= s * v[j];
            }
        }
    }
    for (int i = 0; i < n; i++) {
        w[i] = A[(size_t)i * n + i];
        e[i] = i + 1 < n ? A[(size_t)(i + 1) * n + i] : 0.0;   // e[i] couples w[i] and w[i+1]
    }
    dcgan_free(v);
    dcgan_free(p);
    dcgan_status st = dcgan__as(dcgan__tridiagonal_ql(w, e, n, V), __func__);
    dcgan_free(e);
    return st;
}

// The Householder vector of x (m values, `stride` apart) as in step 1 of
// dcgan_symmetric_eigen: v = x - alpha e1 with alpha = -sign(x0) |x|, so that
// (I - beta v v^T) x = alpha e1, beta = 2 / v.v (beta = 0: x is zero, nothing
// to reflect). Returns alpha.
static double dcgan__householder(const double *x, size_t stride, int m, double *v, double *beta) {
    double norm = 0.0, vv = 0.0;
    for (int i = 0; i < m; i++) norm += x[i * stride] * x[i * stride];
    norm = sqrt(norm);
    *beta = 0.0;
    if (norm == 0.0) return 0.0;
    const double alpha = x[0] > 0.0 ? -norm : norm;
    for (int i = 0; i < m; i++) {
        v[i] = x[i * stride] - (i == 0 ? alpha : 0.0);
        vv += v[i] * v[i];
    }
    if (vv > 0.0) *beta = 2.0 / vv;
    return alpha;
}

// One row of dcgan_symmetric_eigenvalues' fused pass: row[j] -= vi wv[j] +
// wi v[j] for j = 1..i-1, each new value adding row[j] ui to pc[j - 1];
// returns sum row[j] u[j - 1]. The plain loop, and an AVX2 twin.
static double dcgan__tridiag_row(double *row, int i, const double *v, const double *wv, const double *u,
                                 double *pc, double vi, double wi, double ui) {
    double s0 = 0.0, s1 = 0.0;   // two sums: the adds do not wait on each other
    int j = 1;
    for (; j + 1 < i; j += 2) {
        const double a0 = row[j] - vi * wv[j] - wi * v[j];
        const double a1 = row[j + 1] - vi * wv[j + 1] - wi * v[j + 1];
        row[j] = a0;
        row[j + 1] = a1;
        s0 += a0 * u[j - 1];
        s1 += a1 * u[j];
        pc[j - 1] += a0 * ui;
        pc[j] += a1 * ui;
    }
    for (; j < i; j++) {
        const double a0 = row[j] - vi * wv[j] - wi * v[j];
        row[j] = a0;
        s0 += a0 * u[j - 1];
        pc[j - 1] += a0 * ui;
    }
    return s0 + s1;
}


DCGAN_API dcgan_status dcgan_symmetric_eigenvalues(double *A, int n, double *w) {
    return dcgan__symmetric_eigenvalues(A, n, w, 1);
}

// dcgan_symmetric_eigenvalues with the plain row loop (use_simd 0) or the
// AVX2 one where the CPU has it (1).
DCGAN__INTERNAL dcgan_status dcgan__symmetric_eigenvalues(double *A, int n, double *w, int use_simd) {
    // The same reflections as dcgan_symmetric_eigen step 1, on the lower
    // triangle only. Step k needs p = beta A22 v (A22: rows and columns k+1..)
    // and then updates A22 -= v w^T + w v^T. The update of step k and the
    // product of step k+1 read the same entries, so they share one pass: first
    // the column k+1 is updated alone (it gives step k+1's vector u), then each
    // row of the rest is updated and at once multiplied by u. A stored a_ij
    // (j < i) stands for a_ij and a_ji: it adds a_ij u_j to row i's product and
    // a_ij u_i to row j's, which each thread sums in its own copy of p.
    double (*row_fn)(double *, int, const double *, const double *, const double *, double *, double, double,
                     double) = dcgan__tridiag_row;
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (use_simd && dcgan__have_avx2_fma()) row_fn = dcgan__tridiag_row_avx2;
#endif
    (void)use_simd;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double *e = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *v = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *u = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *p = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *wv = (double *)dcgan__calloc((size_t)n + 1, sizeof(double));
    double *part = (double *)dcgan__calloc((size_t)threads * ((size_t)n + 1), sizeof(double));
    dcgan_status st = DCGAN_OK;
    double beta = 0.0, alpha = 0.0;   // step k's reflection
    if (!e || !v || !u || !p || !wv || !part) {
        st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the eigenvalues of a %d x %d matrix", n, n);
        goto done;
    }
    if (n <= 2) {
        for (int i = 0; i < n; i++) w[i] = A[(size_t)i * n + i];
        if (n == 2) e[0] = A[n];
        st = dcgan__as(dcgan__tridiagonal_ql(w, e, n, NULL), "dcgan_symmetric_eigenvalues");
        goto done;
    }
    alpha = dcgan__householder(A + n, (size_t)n, n - 1, v, &beta);
    // p = beta A22 v for step 0, a plain pass over the lower triangle
    for (int i = 0; i < n - 1; i++) {
        const double *row = A + (size_t)(1 + i) * n + 1;
        double s = 0.0;
        for (int j = 0; j < i; j++) {
            s += row[j] * v[j];
            p[j] += row[j] * v[i];
        }
        p[i] += s + row[i] * v[i];
    }
    for (int i = 0; i < n - 1; i++) p[i] *= beta;
    for (int k = 0; k + 2 < n; k++) {
        const int m = n - k - 1, o = k + 1;   // A22 is rows/columns o.. (m of them)
        w[k] = A[(size_t)k * n + k];
        e[k] = alpha;
        // wv = p - (beta p.v / 2) v (Golub & Van Loan 8.3.1)
        double K = 0.0;
        for (int i = 0; i < m; i++) K += p[i] * v[i];
        K *= 0.5 * beta;
        for (int i = 0; i < m; i++) wv[i] = p[i] - K * v[i];
        // column o of A22 first: it holds the next step's x
        for (int i = 0; i < m; i++) A[(size_t)(o + i) * n + o] -= v[i] * wv[0] + wv[i] * v[0];
        if (m == 2) {   // the last 2 x 2 block is tridiagonal already
            A[(size_t)(o + 1) * n + o + 1] -= 2.0 * v[1] * wv[1];
            w[o] = A[(size_t)o * n + o];
            w[o + 1] = A[(size_t)(o + 1) * n + o + 1];
            e[o] = A[(size_t)(o + 1) * n + o];
            break;
        }
        double beta2;
        const double alpha2 = dcgan__householder(A + (size_t)(o + 1) * n + o, (size_t)n, m - 1, u, &beta2);
        memset(part, 0, (size_t)threads * ((size_t)n + 1) * sizeof(double));
        // rows i = 1..m-1 of A22, columns 1..i: update, and p2 = A33 u (u's index is one less)
        DCGAN__OMP(omp parallel for schedule(static, 8) if (m > 128))
        for (int i = 1; i < m; i++) {
            int me = 0;
#ifdef _OPENMP
            me = omp_get_thread_num();
#endif
            double *pc = part + (size_t)me * ((size_t)n + 1);
            double *row = A + (size_t)(o + i) * n + o;
            const double vi = v[i], wi = wv[i], ui = u[i - 1];
            const double sum = row_fn(row, i, v, wv, u, pc, vi, wi, ui);
            const double diag = row[i] - 2.0 * vi * wi;
            row[i] = diag;
            pc[i - 1] += sum + diag * ui;
        }
        for (int i = 0; i < m - 1; i++) {
            double sum = 0.0;
            for (int t = 0; t < threads; t++) sum += part[(size_t)t * ((size_t)n + 1) + i];
            p[i] = beta2 * sum;
        }
        memcpy(v, u, (size_t)(m - 1) * sizeof(double));
        beta = beta2;
        alpha = alpha2;
    }
    e[n - 1] = 0.0;
    st = dcgan__as(dcgan__tridiagonal_ql(w, e, n, NULL), "dcgan_symmetric_eigenvalues");
done:
    dcgan_free(e);
    dcgan_free(v);
    dcgan_free(u);
    dcgan_free(p);
    dcgan_free(wv);
    dcgan_free(part);
    return st;
}

// Eigenvalues above max |eigenvalue| * n * 2.2e-16 count towards the rank (numpy's matrix_rank rule).
static int dcgan__rank(const double *w, int n) {
    double big = 0.0;
    int rank = 0;
    for (int i = 0; i < n; i++)
        if (fabs(w[i]) > big) big = fabs(w[i]);
    for (int i = 0; i < n; i++)
        if (w[i] > big * n * 2.220446049250313e-16) rank++;
    return rank;
}

DCGAN_API dcgan_status dcgan_frechet_distance(double *fid, const dcgan_fid_stats *a,
                                              const dcgan_fid_stats *b, int *rank1, int *rank2) {
    const int n = a->dims;
    if (a->dims != b->dims || n <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "statistics of %d and %d dims cannot be compared", a->dims, b->dims);
    const size_t nn = (size_t)n * n;
    double *buf = (double *)dcgan__alloc(4 * nn + 2 * (size_t)n, sizeof(double));
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %d x %d matrices", n, n);
    double *V = buf, *S = V + nn, *T = S + nn, *M = T + nn, *w1 = M + nn, *w2 = w1 + n;
    double value = 0.0;
    int r1 = 0, r2 = 0;   // (the outputs are written only when everything has worked)
    dcgan_status st;
    // sqrt(S1) = V diag(sqrt(max(w1, 0))) V^T
    memcpy(S, a->sigma, nn * sizeof(double));
    if ((st = dcgan_symmetric_eigen(S, n, w1, V)) != DCGAN_OK) goto done;
    r1 = dcgan__rank(w1, n);
    for (int j = 0; j < n; j++) {
        double r = w1[j] > 0.0 ? sqrt(w1[j]) : 0.0;
        for (int i = 0; i < n; i++) T[(size_t)i * n + j] = V[(size_t)i * n + j] * r;   // V sqrt(W)
    }
    // S = sqrt(S1) = T V^T; M = S S2 S in two products. Every product is one of
    // rows with rows (dcgan__gram): S_ij = T_i . V_j, and as S and S2 are
    // symmetric, (S S2)_ij = S_i . S2_j and ((S S2) S)_ij = (S S2)_i . S_j.
    dcgan__gram(S, T, n, V, n, n);
    dcgan__gram(T, S, n, b->sigma, n, n);
    dcgan__gram(M, T, n, S, n, n);
    // symmetrise against rounding, then the eigenvalues alone
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double avg = 0.5 * (M[(size_t)i * n + j] + M[(size_t)j * n + i]);
            M[(size_t)i * n + j] = M[(size_t)j * n + i] = avg;
        }
    if ((st = dcgan_symmetric_eigenvalues(M, n, w2)) != DCGAN_OK) goto done;
    {
        double diff = 0.0, tr1 = 0.0, tr2 = 0.0, tr_sqrt = 0.0;
        for (int i = 0; i < n; i++) {
            double d = a->mu[i] - b->mu[i];
            diff += d * d;
            tr1 += a->sigma[(size_t)i * n + i];
            tr2 += b->sigma[(size_t)i * n + i];
            tr_sqrt += w2[i] > 0.0 ? sqrt(w2[i]) : 0.0;
        }
        value = diff + tr1 + tr2 - 2.0 * tr_sqrt;
    }
    if (rank2) {
        memcpy(S, b->sigma, nn * sizeof(double));
        if ((st = dcgan_symmetric_eigenvalues(S, n, w2)) != DCGAN_OK) goto done;
        r2 = dcgan__rank(w2, n);
    }
    *fid = value;
    if (rank1) *rank1 = r1;
    if (rank2) *rank2 = r2;
    st = DCGAN_OK;
done:
    DCGAN_FREE(buf);
    return st;
}

// k(x, y) = (x.y / d + 1)^3, the polynomial kernel of KID.
static double dcgan__kid_kernel(const double *x, const double *y, int d) {
    double dot = 0.0;
    for (int k = 0; k < d; k++) dot += x[k] * y[k];
    double t = dot / d + 1.0;
    return t * t * t;
}

DCGAN_API dcgan_status dcgan_kid(double *mean, double *std, const double *f1, int64_t n1,
                                 const double *f2, int64_t n2, int dims, int subsets,
                                 int subset_size, dcgan_rng *rng) {
    int64_t m = n1 < n2 ? n1 : n2;
    if (subset_size > 0 && m > subset_size) m = subset_size;
    if (m < 2 || subsets < 1 || dims <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "KID needs 2+ samples per set and 1+ subsets (got %lld, %lld, %d)",
                           (long long)n1, (long long)n2, subsets);
    int64_t *p1 = (int64_t *)dcgan__alloc((size_t)n1, sizeof(int64_t));
    int64_t *p2 = (int64_t *)dcgan__alloc((size_t)n2, sizeof(int64_t));
    double *values = (double *)dcgan__alloc((size_t)subsets, sizeof(double));
    if (!p1 || !p2 || !values) {
        dcgan_free(p1); dcgan_free(p2); dcgan_free(values);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for KID subsets");
    }
    for (int s = 0; s < subsets; s++) {
        // m indices of each set without replacement: a partial Fisher-Yates shuffle
        int64_t *perm[2] = {p1, p2}, counts[2] = {n1, n2};
        for (int q = 0; q < 2; q++) {
            for (int64_t i = 0; i < counts[q]; i++) perm[q][i] = i;
            for (int64_t i = 0; i < m; i++) {
                int64_t j = i + (int64_t)(dcgan_rng_u32(rng) % (uint32_t)(counts[q] - i));
                int64_t t = perm[q][i];
                perm[q][i] = perm[q][j];
                perm[q][j] = t;
            }
        }
        // unbiased MMD^2 = (sum_{i!=j} k(x_i,x_j) + k(y_i,y_j)) / (m(m-1)) - 2 sum k(x_i,y_j) / m^2
        double kxx = 0.0, kyy = 0.0, kxy = 0.0;
        DCGAN__OMP(omp parallel for schedule(dynamic, 8) reduction(+ : kxx, kyy, kxy))
        for (int64_t i = 0; i < m; i++) {
            const double *xi = f1 + (size_t)p1[i] * dims, *yi = f2 + (size_t)p2[i] * dims;
            for (int64_t j = 0; j < m; j++) {
                const double *xj = f1 + (size_t)p1[j] * dims, *yj = f2 + (size_t)p2[j] * dims;
                if (j != i) {
                    kxx += dcgan__kid_kernel(xi, xj, dims);
                    kyy += dcgan__kid_kernel(yi, yj, dims);
                }
                kxy += dcgan__kid_kernel(xi, yj, dims);
            }
        }
        values[s] = (kxx + kyy) / ((double)m * (m - 1)) - 2.0 * kxy / ((double)m * m);
    }
    double sum = 0.0, sq = 0.0;
    for (int s = 0; s < subsets; s++) sum += values[s];
    *mean = sum / subsets;
    for (int s = 0; s < subsets; s++) sq += (values[s] - *mean) * (values[s] - *mean);
    *std = sqrt(sq / subsets);   // numpy's std (ddof 0), as the KID reference code reports
    dcgan_free(p1);
    dcgan_free(p2);
    dcgan_free(values);
    return DCGAN_OK;
}

// --- 14c. torch.save files: a restricted unpickler

// Reading torch.save files. A restricted unpickler: a stack machine over the
// protocol-2 opcodes that a state_dict uses (Python's pickletools documents
// each opcode), building a small tree of values.

typedef enum {
    DCGAN__PK_NONE, DCGAN__PK_BOOL, DCGAN__PK_INT, DCGAN__PK_FLOAT, DCGAN__PK_STR, DCGAN__PK_TUPLE,
    DCGAN__PK_LIST, DCGAN__PK_DICT, DCGAN__PK_GLOBAL, DCGAN__PK_MARK, DCGAN__PK_STORAGE,
    DCGAN__PK_TENSOR
} dcgan__pk_kind;

typedef struct dcgan__pk_val {
    dcgan__pk_kind kind;
    int64_t i;                     // int, bool; storage: numel; tensor: storage offset
    char *s;                       // str; global "module.name"; storage: key
    int n, cap;                    // items in tuple / list / dict (dict: key, value, key, ...)
    struct dcgan__pk_val **items;
    int dtype_size;                // storage: bytes per element; 0 = not float32-compatible
    int is_float;                  // storage: FloatStorage
    struct dcgan__pk_val *storage; // tensor
    int ndim;
    int64_t shape[8], stride[8];
} dcgan__pk_val;

typedef struct {
    const unsigned char *p, *begin, *end;
    dcgan__pk_val **all;           // every value made, to free them at the end
    int n_all, cap_all;
    dcgan__pk_val **stack;
    int sp, cap_stack;
    dcgan__pk_val **memo;
    int cap_memo;
    const char *path;
} dcgan__pk;

#define DCGAN__PK_MAX_VALUES 4000000
#define DCGAN__PK_MAX_MEMO 4000000

static dcgan__pk_val *dcgan__pk_new(dcgan__pk *pk, dcgan__pk_kind kind) {
    if (pk->n_all == pk->cap_all) {
        int cap = pk->cap_all ? pk->cap_all * 2 : 256;
        if (cap > DCGAN__PK_MAX_VALUES) return NULL;
        dcgan__pk_val **all = (dcgan__pk_val **)DCGAN_REALLOC(pk->all, (size_t)cap * sizeof(*all));
        if (!all) return NULL;
        pk->all = all;
        pk->cap_all = cap;
    }
    dcgan__pk_val *v = (dcgan__pk_val *)dcgan__calloc(1, sizeof(dcgan__pk_val));
    if (!v) return NULL;
    v->kind = kind;
    pk->all[pk->n_all++] = v;
    return v;
}

static void dcgan__pk_free(dcgan__pk *pk) {
    for (int i = 0; i < pk->n_all; i++) {
        dcgan_free(pk->all[i]->s);
        dcgan_free(pk->all[i]->items);
        dcgan_free(pk->all[i]);
    }
    dcgan_free(pk->all);
    dcgan_free(pk->stack);
    dcgan_free(pk->memo);
    memset(pk, 0, sizeof *pk);
}

static int dcgan__pk_push(dcgan__pk *pk, dcgan__pk_val *v) {
    if (!v) return 0;
    if (pk->sp == pk->cap_stack) {
        int cap = pk->cap_stack ? pk->cap_stack * 2 : 64;
        if (cap > DCGAN__PK_MAX_VALUES) return 0;
        dcgan__pk_val **s = (dcgan__pk_val **)DCGAN_REALLOC(pk->stack, (size_t)cap * sizeof(*s));
        if (!s) return 0;
        pk->stack = s;
        pk->cap_stack = cap;
    }
    pk->stack[pk->sp++] = v;
    return 1;
}

static int dcgan__pk_append(dcgan__pk_val *c, dcgan__pk_val *item) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        dcgan__pk_val **it = (dcgan__pk_val **)DCGAN_REALLOC(c->items, (size_t)cap * sizeof(*it));
        if (!it) return 0;
        c->items = it;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return 1;
}

// Index of the topmost MARK, or -1.
static int dcgan__pk_mark(const dcgan__pk *pk) {
    for (int i = pk->sp - 1; i >= 0; i--)
        if (pk->stack[i]->kind == DCGAN__PK_MARK) return i;
    return -1;
}

static char *dcgan__pk_strdup(const unsigned char *s, size_t n) {
    char *c = (char *)dcgan__alloc(n + 1, 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

DCGAN__INTERNAL uint64_t dcgan__le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

// Bytes per element of a torch storage type, or 0 if not a known one.
static int dcgan__storage_size(const char *global, int *is_float) {
    static const struct { const char *name; int size; } types[] = {
        {"torch.FloatStorage", 4}, {"torch.DoubleStorage", 8}, {"torch.HalfStorage", 2},
        {"torch.BFloat16Storage", 2}, {"torch.LongStorage", 8}, {"torch.IntStorage", 4},
        {"torch.ShortStorage", 2}, {"torch.CharStorage", 1}, {"torch.ByteStorage", 1},
        {"torch.BoolStorage", 1},
    };
    *is_float = strcmp(global, "torch.FloatStorage") == 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(global, types[i].name) == 0) return types[i].size;
    return 0;
}

// REDUCE: calls an allowed global on an argument tuple.
static dcgan__pk_val *dcgan__pk_reduce(dcgan__pk *pk, dcgan__pk_val *fn, dcgan__pk_val *args,
                                       char *why, size_t cap) {
    if (fn->kind != DCGAN__PK_GLOBAL || args->kind != DCGAN__PK_TUPLE) {
        snprintf(why, cap, "REDUCE on something that is not a global and a tuple");
        return NULL;
    }
    if (strcmp(fn->s, "collections.OrderedDict") == 0) return dcgan__pk_new(pk, DCGAN__PK_DICT);
    if (strcmp(fn->s, "torch._utils._rebuild_parameter") == 0) {
        if (args->n < 1 || args->items[0]->kind != DCGAN__PK_TENSOR) {
            snprintf(why, cap, "_rebuild_parameter without a tensor");
            return NULL;
        }
        return args->items[0];
    }
    if (strcmp(fn->s, "torch._utils._rebuild_tensor_v2") == 0) {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        dcgan__pk_val *t;
        if (args->n < 4 || args->items[0]->kind != DCGAN__PK_STORAGE || args->items[1]->kind != DCGAN__PK_INT ||
            args->items[2]->kind != DCGAN__PK_TUPLE || args->items[3]->kind != DCGAN__PK_TUPLE ||
            args->items[2]->n != args->items[3]->n || args->items[2]->n > 8) {
            snprintf(why, cap, "_rebuild_tensor_v2 with unexpected arguments");
            return NULL;
        }
        t = dcgan__pk_new(pk, DCGAN__PK_TENSOR);
        if (!t) return NULL;
        t->storage = args->items[0];
        t->i = args->items[1]->i;
        t->ndim = args->items[2]->n;
        for (int k = 0; k < t->ndim; k++) {
            if (args->items[2]->items[k]->kind != DCGAN__PK_INT || args->items[3]->items[k]->kind != DCGAN__PK_INT) {
                snprintf(why, cap, "tensor size or stride is not a tuple of ints");
                return NULL;
            }
            t->shape[k] = args->items[2]->items[k]->i;
            t->stride[k] = args->items[3]->items[k]->i;
        }
        return t;
    }
    snprintf(why, cap, "REDUCE of '%s', which a state_dict does not need", fn->s);
    return NULL;
}

// Runs one pickle from pk->p to its STOP; *result is the value left on the stack.
static dcgan_status dcgan__pk_run(dcgan__pk *pk, dcgan__pk_val **result) {
    char why[160] = "";
    pk->sp = 0;
    while (pk->p < pk->end) {
        const long offset = (long)(pk->p - pk->begin);
        const unsigned char op = *pk->p++;
        const size_t left = (size_t)(pk->end - pk->p);
        dcgan__pk_val *v = NULL, *a, *b;
        switch (op) {
        case 0x80:   // PROTO
            if (left < 1 || pk->p[0] > 2) { snprintf(why, sizeof why, "pickle protocol %d (this reader takes 2)", left ? pk->p[0] : -1); goto bad; }
            pk->p++;
            continue;
        case '.':    // STOP
            if (pk->sp != 1) { snprintf(why, sizeof why, "STOP with %d values on the stack", pk->sp); goto bad; }
            *result = pk->stack[0];
            return DCGAN_OK;
        case '}': v = dcgan__pk_new(pk, DCGAN__PK_DICT); break;
        case ')': v = dcgan__pk_new(pk, DCGAN__PK_TUPLE); break;
        case ']': v = dcgan__pk_new(pk, DCGAN__PK_LIST); break;
        case '(': v = dcgan__pk_new(pk, DCGAN__PK_MARK); break;
        case 'N': v = dcgan__pk_new(pk, DCGAN__PK_NONE); break;
        case 0x88: case 0x89:   // NEWTRUE, NEWFALSE
            v = dcgan__pk_new(pk, DCGAN__PK_BOOL);
            if (v) v->i = op == 0x88;
            break;
        case 'K': case 'M': case 'J': {   // BININT1, BININT2, BININT
            int bytes = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (left < (size_t)bytes) goto truncated;
            v = dcgan__pk_new(pk, DCGAN__PK_INT);
            if (v) v->i = op == 'J' ? (int64_t)(int32_t)(uint32_t)dcgan__le(pk->p, 4) : (int64_t)dcgan__le(pk->p, bytes);
            pk->p += bytes;
            break;
        }
        case 0x8a: {   // LONG1: n bytes of little-endian two's complement
            if (left < 1 || left < 1u + pk->p[0]) goto truncated;
            int n = pk->p[0];
            if (n > 8) { pk->p += 1 + n; v = dcgan__pk_new(pk, DCGAN__PK_INT); break; }   // the magic number
            uint64_t u = n ? dcgan__le(pk->p + 1, n) : 0;
            if (n && n < 8 && (pk->p[n] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
            v = dcgan__pk_new(pk, DCGAN__PK_INT);
            if (v) v->i = (int64_t)u;
            pk->p += 1 + n;
            break;
        }
        case 'G': {   // BINFLOAT, big-endian double
            if (left < 8) goto truncated;
            uint64_t u = 0;
            for (int k = 0; k < 8; k++) u = u << 8 | pk->p[k];
            v = dcgan__pk_new(pk, DCGAN__PK_FLOAT);
            pk->p += 8;
            if (v) {
                // kept as an integer (state_dicts hold no float the reader
                // needs); out-of-range values become 0 rather than undefined
                double d;
                memcpy(&d, &u, 8);
                v->i = d > -9.2e18 && d < 9.2e18 ? (int64_t)d : 0;
            }
            break;
        }
        case 'X': {   // BINUNICODE: u32 length, UTF-8
            if (left < 4) goto truncated;
            uint64_t n = dcgan__le(pk->p, 4);
            if (left - 4 < n) goto truncated;
            v = dcgan__pk_new(pk, DCGAN__PK_STR);
            if (v && !(v->s = dcgan__pk_strdup(pk->p + 4, (size_t)n))) v = NULL;
            pk->p += 4 + n;
            break;
        }
        case 'c': {   // GLOBAL: "module\nname\n"
            const unsigned char *nl1 = (const unsigned char *)memchr(pk->p, '\n', left);
            const unsigned char *nl2 = nl1 ? (const unsigned char *)memchr(nl1 + 1, '\n', (size_t)(pk->end - nl1 - 1)) : NULL;
            if (!nl2 || nl2 - pk->p > 200) goto truncated;
            v = dcgan__pk_new(pk, DCGAN__PK_GLOBAL);
            if (v && (v->s = dcgan__pk_strdup(pk->p, (size_t)(nl2 - pk->p)))) v->s[nl1 - pk->p] = '.';
            else v = NULL;
            pk->p = nl2 + 1;
            if (v) {
                static const char *const allowed[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                                      "torch._utils._rebuild_parameter"};
                int ok = 0, is_float;
                for (size_t k = 0; k < 3; k++) ok |= strcmp(v->s, allowed[k]) == 0;
                ok |= dcgan__storage_size(v->s, &is_float) > 0;
                if (!ok) { snprintf(why, sizeof why, "GLOBAL '%.100s' is not allowed", v->s); goto bad; }
            }
            break;
        }
        case 'q': case 'r': {   // BINPUT, LONG_BINPUT
            int bytes = op == 'q' ? 1 : 4;
            if (left < (size_t)bytes) goto truncated;
            uint64_t idx = dcgan__le(pk->p, bytes);
            pk->p += bytes;
            if (pk->sp < 1 || idx >= DCGAN__PK_MAX_MEMO) { snprintf(why, sizeof why, "bad memo put %llu", (unsigned long long)idx); goto bad; }
            if ((int)idx >= pk->cap_memo) {
                int cap = pk->cap_memo ? pk->cap_memo : 64;
                while (cap <= (int)idx) cap *= 2;
                dcgan__pk_val **memo = (dcgan__pk_val **)DCGAN_REALLOC(pk->memo, (size_t)cap * sizeof(*memo));
                if (!memo) goto nomem;
                for (int k = pk->cap_memo; k < cap; k++) memo[k] = NULL;
                pk->memo = memo;
                pk->cap_memo = cap;
            }
            pk->memo[idx] = pk->stack[pk->sp - 1];
            continue;
        }
        case 'h': case 'j': {   // BINGET, LONG_BINGET
            int bytes = op == 'h' ? 1 : 4;
            if (left < (size_t)bytes) goto truncated;
            uint64_t idx = dcgan__le(pk->p, bytes);
            pk->p += bytes;
            if (idx >= (uint64_t)pk->cap_memo || !pk->memo[idx]) { snprintf(why, sizeof why, "memo get of unset %llu", (unsigned long long)idx); goto bad; }
            v = pk->memo[idx];
            break;
        }
        case 't': case 0x85: case 0x86: case 0x87: {   // TUPLE, TUPLE1, TUPLE2, TUPLE3
            int from = op == 't' ? dcgan__pk_mark(pk) : pk->sp - (op - 0x84);
            if (from < 0) { snprintf(why, sizeof why, "tuple without enough values"); goto bad; }
            v = dcgan__pk_new(pk, DCGAN__PK_TUPLE);
            if (!v) goto nomem;
            for (int k = from + (op == 't'); k < pk->sp; k++)
                if (!dcgan__pk_append(v, pk->stack[k])) goto nomem;
            pk->sp = from;
            break;
        }
        case 'a': case 'e': {   // APPEND, APPENDS
            int from = op == 'e' ? dcgan__pk_mark(pk) : pk->sp - 2;
            if (from < (op == 'e' ? 1 : 0) || pk->stack[op == 'e' ? from - 1 : from]->kind != DCGAN__PK_LIST) {
                snprintf(why, sizeof why, "append to something that is not a list");
                goto bad;
            }
            a = pk->stack[op == 'e' ? from - 1 : from];
            for (int k = from + 1; k < pk->sp; k++)
                if (!dcgan__pk_append(a, pk->stack[k])) goto nomem;
            pk->sp = op == 'e' ? from : from + 1;
            continue;
        }
        case 's': case 'u': {   // SETITEM, SETITEMS
            int from = op == 'u' ? dcgan__pk_mark(pk) : pk->sp - 3;
            int dict_at = op == 'u' ? from - 1 : from;
            // the key/value pairs sit above the dict (SETITEM) or above the MARK (SETITEMS)
            if (dict_at < 0 || pk->stack[dict_at]->kind != DCGAN__PK_DICT || (pk->sp - from - 1) % 2) {
                snprintf(why, sizeof why, "setitem on something that is not a dict");
                goto bad;
            }
            a = pk->stack[dict_at];
            for (int k = from + 1; k < pk->sp; k++)
                if (!dcgan__pk_append(a, pk->stack[k])) goto nomem;
            pk->sp = dict_at + 1;
            continue;
        }
        case 'R':   // REDUCE
            if (pk->sp < 2) goto underflow;
            v = dcgan__pk_reduce(pk, pk->stack[pk->sp - 2], pk->stack[pk->sp - 1], why, sizeof why);
            if (!v) { if (!why[0]) goto nomem; goto bad; }
            pk->sp -= 2;
            break;
        case 'b':   // BUILD: a state dict's _metadata; the state is dropped
            if (pk->sp < 2) goto underflow;
            pk->sp--;
            continue;
        case 'Q': {   // BINPERSID: ('storage', type, key, location, numel)
            if (pk->sp < 1) goto underflow;
            a = pk->stack[--pk->sp];
            if (a->kind != DCGAN__PK_TUPLE || a->n < 5 || a->items[0]->kind != DCGAN__PK_STR ||
                strcmp(a->items[0]->s, "storage") != 0 || a->items[1]->kind != DCGAN__PK_GLOBAL ||
                a->items[2]->kind != DCGAN__PK_STR || a->items[4]->kind != DCGAN__PK_INT || a->items[4]->i < 0) {
                snprintf(why, sizeof why, "persistent id is not ('storage', type, key, location, numel)");
                goto bad;
            }
            b = dcgan__pk_new(pk, DCGAN__PK_STORAGE);
            if (!b || !(b->s = dcgan__pk_strdup((const unsigned char *)a->items[2]->s, strlen(a->items[2]->s)))) goto nomem;
            b->dtype_size = dcgan__storage_size(a->items[1]->s, &b->is_float);
            b->i = a->items[4]->i;
            v = b;
            break;
        }
        default:
            snprintf(why, sizeof why, "opcode 0x%02x is not allowed", op);
            pk->p = pk->begin + offset;
            goto bad;
        }
        if (!dcgan__pk_push(pk, v)) goto nomem;
        continue;
    underflow:
        snprintf(why, sizeof why, "opcode 0x%02x with too few values on the stack", op);
        pk->p = pk->begin + offset;
        goto bad;
    truncated:
        snprintf(why, sizeof why, "opcode 0x%02x runs past the end", op);
        pk->p = pk->begin + offset;
        goto bad;
    }
    return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the pickle ends without STOP", pk->path);
bad:
    return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': pickle byte %ld: %s", pk->path,
                       (long)(pk->p - pk->begin), why);
nomem:
    return DCGAN__FAIL(DCGAN_ERR_NOMEM, "'%s': no memory (or too many values) while unpickling", pk->path);
}

// --- 14d. Zip archives and the two torch.save layouts

// Zip archives (PKWARE APPNOTE.TXT): the central directory at the end lists
// each member; we read members that are stored (method 0) or deflated (8).
typedef struct {
    char name[256];
    int method;
    uint64_t size, packed;
    const unsigned char *data;   // packed bytes inside the file
} dcgan__zip_entry;

static dcgan_status dcgan__zip_list(const char *path, const unsigned char *f, size_t n,
                                    dcgan__zip_entry **out, int *count) {
    size_t eocd = 0;
    int found = 0;
    for (size_t back = 22; back <= n && back <= 22 + 65535; back++)
        if (dcgan__le(f + n - back, 4) == 0x06054b50u) { eocd = n - back; found = 1; break; }
    if (!found) return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': no zip end-of-directory record", path);
    uint64_t entries = dcgan__le(f + eocd + 10, 2), cd_size = dcgan__le(f + eocd + 12, 4);
    uint64_t cd = dcgan__le(f + eocd + 16, 4);
    if (cd > n || cd_size > n - cd || entries > 1000000)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': zip directory outside the file (zip64 is not supported)", path);
    dcgan__zip_entry *list = (dcgan__zip_entry *)dcgan__calloc((size_t)entries + 1, sizeof(*list));
    if (!list) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for a zip directory");
    size_t p = (size_t)cd;
    for (uint64_t e = 0; e < entries; e++) {
        if (p + 46 > n || dcgan__le(f + p, 4) != 0x02014b50u) goto bad;
        uint64_t method = dcgan__le(f + p + 10, 2), packed = dcgan__le(f + p + 20, 4);
        uint64_t size = dcgan__le(f + p + 24, 4), name_len = dcgan__le(f + p + 28, 2);
        uint64_t extra = dcgan__le(f + p + 30, 2), comment = dcgan__le(f + p + 32, 2);
        uint64_t local = dcgan__le(f + p + 42, 4);
        if (p + 46 + name_len > n || name_len >= sizeof list[e].name || local + 30 > n) goto bad;
        memcpy(list[e].name, f + p + 46, (size_t)name_len);
        list[e].name[name_len] = '\0';
        if (dcgan__le(f + local, 4) != 0x04034b50u) goto bad;
        uint64_t start = local + 30 + dcgan__le(f + local + 26, 2) + dcgan__le(f + local + 28, 2);
        if (start > n || packed > n - start || packed == 0xFFFFFFFFu) goto bad;
        list[e].method = (int)method;
        list[e].size = size;
        list[e].packed = packed;
        list[e].data = f + start;
        p += 46 + name_len + extra + comment;
    }
    *out = list;
    *count = (int)entries;
    return DCGAN_OK;
bad:
    dcgan_free(list);
    return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': damaged zip directory", path);
}

// The tensors of an unpickled state_dict, with storages found by `locate`.
typedef struct {
    const unsigned char *data;
    uint64_t bytes;
} dcgan__blob;

static dcgan_status dcgan__state_dict_build(dcgan_state_dict *sd, const char *path,
                                            const dcgan__pk_val *dict, const char *const *keys,
                                            const dcgan__blob *blobs, int n_blobs) {
    size_t total = 0;
    int n = 0;
    if (!dict || dict->kind != DCGAN__PK_DICT)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' does not hold a state_dict (a dict of tensors)", path);
    for (int i = 0; i + 1 < dict->n; i += 2) {
        const dcgan__pk_val *k = dict->items[i], *t = dict->items[i + 1];
        if (k->kind != DCGAN__PK_STR || t->kind != DCGAN__PK_TENSOR)
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': entry %d is not a named tensor", path, i / 2);
        int64_t count = 1, expect_stride = 1;
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (t->shape[d] < 0 || (t->shape[d] > 1 && t->stride[d] != expect_stride) ||
                (t->shape[d] && count > ((int64_t)1 << 40) / (t->shape[d] ? t->shape[d] : 1)))
                return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor '%.60s' is not contiguous or too large", path, k->s);
            expect_stride *= t->shape[d];
            count *= t->shape[d];
        }
        if (t->ndim > 4 || t->i < 0 || t->i + count > t->storage->i)
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': tensor '%.60s' (%d dims) reaches past its storage", path, k->s, t->ndim);
        if (t->storage->is_float) {
            total += (size_t)count;
            n++;
        }
    }
    sd->tensors = (dcgan_named_tensor *)dcgan__calloc((size_t)n + 1, sizeof(dcgan_named_tensor));
    sd->store = (float *)dcgan__alloc(total + 1, sizeof(float));
    if (!sd->tensors || !sd->store) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %zu floats", total);
    float *p = sd->store;
    for (int i = 0; i + 1 < dict->n; i += 2) {
        const dcgan__pk_val *k = dict->items[i], *t = dict->items[i + 1];
        if (!t->storage->is_float) { sd->skipped++; continue; }
        int b = -1;
        for (int j = 0; j < n_blobs; j++)
            if (strcmp(keys[j], t->storage->s) == 0) { b = j; break; }
        if (b < 0 || blobs[b].bytes < (uint64_t)t->storage->i * 4)
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': storage '%.40s' of '%.60s' is missing or short", path, t->storage->s, k->s);
        dcgan_named_tensor *x = &sd->tensors[sd->n++];
        size_t count = 1;
        snprintf(x->name, sizeof x->name, "%s", k->s);
        x->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) {
            x->shape[d] = t->shape[d];
            count *= (size_t)t->shape[d];
        }
        dcgan__read_f32(p, blobs[b].data + (size_t)t->i * 4, count);
        x->data = p;
        p += count;
    }
    return DCGAN_OK;
}

DCGAN_API void dcgan_state_dict_free(dcgan_state_dict *sd) {
    dcgan_free(sd->tensors);
    dcgan_free(sd->store);
    memset(sd, 0, sizeof *sd);
}

// The legacy torch.save stream: magic, protocol, sys info, state_dict, storage
// keys, then per key an int64 element count and the raw elements.
static dcgan_status dcgan__load_legacy(dcgan_state_dict *sd, const char *path, const unsigned char *f,
                                       size_t n) {
    dcgan__pk pk;
    dcgan__pk_val *magic, *proto, *info, *dict, *keys;
    dcgan_status st;
    const char **names = NULL;
    dcgan__blob *blobs = NULL;
    memset(&pk, 0, sizeof pk);
    pk.begin = pk.p = f;
    pk.end = f + n;
    pk.path = path;
    if ((st = dcgan__pk_run(&pk, &magic)) != DCGAN_OK || (st = dcgan__pk_run(&pk, &proto)) != DCGAN_OK)
        goto done;
    if (proto->kind != DCGAN__PK_INT || proto->i != 1001) {
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': torch protocol version is not 1001", path);
        goto done;
    }
    if ((st = dcgan__pk_run(&pk, &info)) != DCGAN_OK || (st = dcgan__pk_run(&pk, &dict)) != DCGAN_OK ||
        (st = dcgan__pk_run(&pk, &keys)) != DCGAN_OK)
        goto done;
    if (keys->kind != DCGAN__PK_LIST) {
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': the storage key list is missing", path);
        goto done;
    }
    names = (const char **)dcgan__calloc((size_t)keys->n + 1, sizeof(char *));
    blobs = (dcgan__blob *)dcgan__calloc((size_t)keys->n + 1, sizeof(dcgan__blob));
    if (!names || !blobs) { st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory"); goto done; }
    {
        size_t pos = (size_t)(pk.p - f);
        for (int i = 0; i < keys->n; i++) {
            if (keys->items[i]->kind != DCGAN__PK_STR) { st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': bad storage key", path); goto done; }
            // the element size comes from the storage that uses this key
            int esize = 0;
            for (int v = 0; v < pk.n_all; v++)
                if (pk.all[v]->kind == DCGAN__PK_STORAGE && strcmp(pk.all[v]->s, keys->items[i]->s) == 0)
                    esize = pk.all[v]->dtype_size;
            if (pos + 8 > n || esize == 0) { st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': storage %d is truncated or of unknown type", path, i); goto done; }
            uint64_t count = dcgan__le(f + pos, 8);
            pos += 8;
            if (count > (n - pos) / (uint64_t)esize) {
                st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': storage '%s' claims %llu elements, the file is shorter",
                                 path, keys->items[i]->s, (unsigned long long)count);
                goto done;
            }
            names[i] = keys->items[i]->s;
            blobs[i].data = f + pos;
            blobs[i].bytes = count * (uint64_t)esize;
            pos += (size_t)blobs[i].bytes;
        }
    }
    st = dcgan__state_dict_build(sd, path, dict, names, blobs, keys->n);
done:
    dcgan_free((void *)names);
    dcgan_free(blobs);
    dcgan__pk_free(&pk);
    return st;
}

// The zip format: <top>/data.pkl (the state_dict) and <top>/data/<key> (storages).
static dcgan_status dcgan__load_zip(dcgan_state_dict *sd, const char *path, const unsigned char *f,
                                    size_t n) {
    dcgan__zip_entry *list = NULL;
    int count = 0, pkl = -1;
    dcgan_status st = dcgan__zip_list(path, f, n, &list, &count);
    const char **names = NULL;
    dcgan__blob *blobs = NULL;
    dcgan__pk pk;
    dcgan__pk_val *dict;
    memset(&pk, 0, sizeof pk);
    if (st != DCGAN_OK) return st;
    for (int i = 0; i < count; i++) {
        const char *slash = strchr(list[i].name, '/');
        if (slash && strcmp(slash, "/data.pkl") == 0) pkl = i;
    }
    if (pkl < 0 || list[pkl].method != 0) {
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' is a zip without a stored */data.pkl", path);
        goto done;
    }
    names = (const char **)dcgan__calloc((size_t)count + 1, sizeof(char *));
    blobs = (dcgan__blob *)dcgan__calloc((size_t)count + 1, sizeof(dcgan__blob));
    if (!names || !blobs) { st = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory"); goto done; }
    for (int i = 0; i < count; i++) {
        // "<top>/data/<key>", stored uncompressed
        const char *slash = strchr(list[i].name, '/');
        names[i] = "";
        if (!slash || strncmp(slash, "/data/", 6) != 0) continue;
        if (list[i].method != 0 || list[i].packed != list[i].size) {
            st = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': member '%s' is compressed", path, list[i].name);
            goto done;
        }
        names[i] = slash + 6;
        blobs[i].data = list[i].data;
        blobs[i].bytes = list[i].size;
    }
    pk.begin = pk.p = list[pkl].data;
    pk.end = list[pkl].data + list[pkl].size;
    pk.path = path;
    if ((st = dcgan__pk_run(&pk, &dict)) == DCGAN_OK)
        st = dcgan__state_dict_build(sd, path, dict, names, blobs, count);
done:
    dcgan_free((void *)names);
    dcgan_free(blobs);
    dcgan_free(list);
    dcgan__pk_free(&pk);
    return st;
}

// --- 14e. Inception weights: finding, loading, converting

// A safetensors file's F32 tensors as a state_dict.
static dcgan_status dcgan__load_st(dcgan_state_dict *sd, const char *path) {
    dcgan_safetensors st;
    dcgan_status s = dcgan_safetensors_read(&st, path);
    size_t total = 0;
    if (s != DCGAN_OK) return s;
    for (int i = 0; i < st.n_tensors; i++)
        if (strcmp(st.tensors[i].dtype, "F32") == 0 && st.tensors[i].ndim <= 4) total += (size_t)(st.tensors[i].end - st.tensors[i].begin) / 4;
    sd->tensors = (dcgan_named_tensor *)dcgan__calloc((size_t)st.n_tensors + 1, sizeof(dcgan_named_tensor));
    sd->store = (float *)dcgan__alloc(total + 1, sizeof(float));
    if (!sd->tensors || !sd->store) {
        dcgan_safetensors_free(&st);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for '%s'", path);
    }
    float *p = sd->store;
    for (int i = 0; i < st.n_tensors; i++) {
        const dcgan_st_tensor *t = &st.tensors[i];
        if (strcmp(t->dtype, "F32") != 0 || t->ndim > 4) { sd->skipped++; continue; }
        dcgan_named_tensor *x = &sd->tensors[sd->n++];
        snprintf(x->name, sizeof x->name, "%s", t->name);
        x->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) x->shape[d] = t->shape[d];
        dcgan__read_f32(p, st.data + t->begin, (size_t)(t->end - t->begin) / 4);
        x->data = p;
        p += (t->end - t->begin) / 4;
    }
    dcgan_safetensors_free(&st);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_state_dict_load(dcgan_state_dict *sd, const char *path) {
    unsigned char *f = NULL;
    size_t n = 0;
    dcgan_status st;
    dcgan_state_dict tmp;
    memset(sd, 0, sizeof *sd);
    memset(&tmp, 0, sizeof tmp);
    if ((st = dcgan__read_file(__func__, path, &f, &n, (size_t)4 << 30)) != DCGAN_OK) return st;
    // (the zip and pickle readers' refusals in this function's name)
    if (n >= 4 && dcgan__le(f, 4) == 0x04034b50u) {
        st = dcgan__as(dcgan__load_zip(&tmp, path, f, n), __func__);
    } else if (n >= 2 && f[0] == 0x80 && f[1] == 0x02) {
        st = dcgan__as(dcgan__load_legacy(&tmp, path, f, n), __func__);
    } else if (n >= 9 && f[8] == '{') {   // (a safetensors header is JSON, after its 8-byte length)
        DCGAN_FREE(f);
        f = NULL;
        st = dcgan__load_st(&tmp, path);
    } else {   // (said as a safetensors file's bad header length, it puzzled a user with a .pth)
        st = DCGAN__FAIL(DCGAN_ERR_FORMAT,
                         "'%s' is neither a PyTorch file (a zip, or the legacy pickle) nor a safetensors file",
                         path);
    }
    dcgan_free(f);
    if (st != DCGAN_OK) {
        dcgan_state_dict_free(&tmp);
        return st;
    }
    *sd = tmp;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_state_dict_save(const dcgan_state_dict *sd, const char *path) {
    dcgan_st_write_tensor *list = (dcgan_st_write_tensor *)dcgan__calloc((size_t)sd->n + 1, sizeof(*list));
    dcgan_status st;
    if (!list) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory");
    for (int i = 0; i < sd->n; i++) {
        list[i].name = sd->tensors[i].name;
        list[i].data = sd->tensors[i].data;
        list[i].ndim = sd->tensors[i].ndim;
        for (int d = 0; d < list[i].ndim; d++) list[i].shape[d] = sd->tensors[i].shape[d];
    }
    st = dcgan_safetensors_write(path, list, sd->n, NULL, NULL, 0);
    dcgan_free(list);
    return st;
}

DCGAN_API dcgan_status dcgan_inception_find_weights(char *out, size_t cap) {
    char tried[4][1024];
    int n = 0, cut[4] = {0, 0, 0, 0};   // cut: the path did not fit in tried (never opened: it names another file)
    const char *env = getenv("DCGAN_INCEPTION_WEIGHTS"), *torch_home = getenv("TORCH_HOME");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env) cut[n] = snprintf(tried[n], sizeof tried[0], "%s", env) >= (int)sizeof tried[0], n++;
    if (torch_home && *torch_home)
        cut[n] = snprintf(tried[n], sizeof tried[0], "%s/hub/checkpoints/%s", torch_home, DCGAN_INCEPTION_FILE) >=
                 (int)sizeof tried[0], n++;
    if (xdg && *xdg)
        cut[n] = snprintf(tried[n], sizeof tried[0], "%s/torch/hub/checkpoints/%s", xdg, DCGAN_INCEPTION_FILE) >=
                 (int)sizeof tried[0], n++;
    if (home && *home)
        cut[n] = snprintf(tried[n], sizeof tried[0], "%s/.cache/torch/hub/checkpoints/%s", home,
                          DCGAN_INCEPTION_FILE) >= (int)sizeof tried[0], n++;
    for (int i = 0; i < n; i++) {
        if (cut[i]) continue;
        FILE *f = fopen(tried[i], "rb");
        if (f) {
            fclose(f);
            if (strlen(tried[i]) >= cap)
                return DCGAN__FAIL(DCGAN_ERR_SHAPE, "the weights' path '%s' is %zu bytes, out holds %zu", tried[i],
                                   strlen(tried[i]) + 1, cap);
            snprintf(out, cap, "%s", tried[i]);
            return DCGAN_OK;
        }
    }
    return DCGAN__FAIL(DCGAN_ERR_IO, "no Inception weights at %s%s%s%s%s%s%s (set DCGAN_INCEPTION_WEIGHTS or "
                       "download %s, see README 'Real Inception weights')", n > 0 ? tried[0] : "(no HOME)",
                       n > 1 ? ", " : "", n > 1 ? tried[1] : "", n > 2 ? ", " : "", n > 2 ? tried[2] : "",
                       n > 3 ? ", " : "", n > 3 ? tried[3] : "", DCGAN_INCEPTION_FILE);
}

DCGAN_API dcgan_status dcgan_inception_load(dcgan_inception *net, const char *path) {
    char found[1024];
    dcgan_state_dict sd;
    dcgan_status st;
    if (!path) {
        if ((st = dcgan_inception_find_weights(found, sizeof found)) != DCGAN_OK) return st;
        path = found;
    }
    if ((st = dcgan_state_dict_load(&sd, path)) != DCGAN_OK) return st;
    st = dcgan_inception_load_tensors(net, sd.tensors, sd.n);
    dcgan_state_dict_free(&sd);
    if (st != DCGAN_OK) return DCGAN__WRAP(st, "'%s'", path);
    return DCGAN_OK;
}

// --- 14f. .npz statistics files: CRC-32, .npy, zip writer and reader

// CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), as zip uses it.
DCGAN__INTERNAL uint32_t dcgan__crc32(uint32_t crc, const unsigned char *p, size_t n) {
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

DCGAN__INTERNAL void dcgan__put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int k = 0; k < bytes; k++) p[k] = (unsigned char)(v >> (8 * k));
}

// An .npy v1.0 file of doubles in memory: header padded so the data starts at a multiple of 64.
static unsigned char *dcgan__npy(const double *data, int ndim, const int *shape, size_t *size) {
    char dict[128];
    size_t count = 1;
    if (ndim == 1) snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", shape[0]);
    else snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", shape[0], shape[1]);
    for (int d = 0; d < ndim; d++) count *= (size_t)shape[d];
    size_t hlen = strlen(dict) + 1;                   // + '\n'
    while ((10 + hlen) % 64 != 0) hlen++;
    *size = 10 + hlen + count * 8;
    unsigned char *buf = (unsigned char *)dcgan__alloc(*size, 1);
    if (!buf) return NULL;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    dcgan__put_le(buf + 8, hlen, 2);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, strlen(dict));
    buf[10 + hlen - 1] = '\n';
    for (size_t i = 0; i < count; i++) {
        uint64_t u;
        memcpy(&u, &data[i], 8);
        dcgan__put_le(buf + 10 + hlen + 8 * i, u, 8);
    }
    return buf;
}

DCGAN_API dcgan_status dcgan_fid_stats_save_npz(const dcgan_fid_stats *st, const char *path) {
    const char *names[2] = {"mu.npy", "sigma.npy"};
    unsigned char *member[2];
    size_t sizes[2];
    int shape[2] = {st->dims, st->dims};
    char tmp[4096];
    if (st->dims < 1 || !st->mu || !st->sigma)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "'%s': statistics of %d dims%s; nothing was written", path, st->dims,
                           !st->mu || !st->sigma ? " without mu or sigma" : "");
    member[0] = dcgan__npy(st->mu, 1, shape, &sizes[0]);
    member[1] = dcgan__npy(st->sigma, 2, shape, &sizes[1]);
    if (!member[0] || !member[1]) {
        dcgan_free(member[0]);
        dcgan_free(member[1]);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the .npz members");
    }
    dcgan_status status;
    FILE *f = dcgan__tmp_open(__func__, path, tmp, sizeof tmp, &status);
    int ok = f != NULL;
    uint64_t offsets[2] = {0, 0};
    uint32_t crcs[2];
    unsigned char h[64];
    long pos = 0;
    // local file headers + data (method 0, stored)
    for (int m = 0; ok && m < 2; m++) {
        crcs[m] = dcgan__crc32(0, member[m], sizes[m]);
        offsets[m] = (uint64_t)pos;
        memset(h, 0, sizeof h);
        dcgan__put_le(h, 0x04034b50u, 4);
        dcgan__put_le(h + 4, 20, 2);              // version needed
        dcgan__put_le(h + 14, crcs[m], 4);
        dcgan__put_le(h + 18, sizes[m], 4);
        dcgan__put_le(h + 22, sizes[m], 4);
        dcgan__put_le(h + 26, strlen(names[m]), 2);
        ok = fwrite(h, 1, 30, f) == 30 && fwrite(names[m], 1, strlen(names[m]), f) == strlen(names[m]) &&
             fwrite(member[m], 1, sizes[m], f) == sizes[m];
        pos += (long)(30 + strlen(names[m]) + sizes[m]);
    }
    // central directory and its end record
    long cd = pos;
    for (int m = 0; ok && m < 2; m++) {
        memset(h, 0, sizeof h);
        dcgan__put_le(h, 0x02014b50u, 4);
        dcgan__put_le(h + 4, 20, 2);
        dcgan__put_le(h + 6, 20, 2);
        dcgan__put_le(h + 16, crcs[m], 4);
        dcgan__put_le(h + 20, sizes[m], 4);
        dcgan__put_le(h + 24, sizes[m], 4);
        dcgan__put_le(h + 28, strlen(names[m]), 2);
        dcgan__put_le(h + 42, offsets[m], 4);
        ok = fwrite(h, 1, 46, f) == 46 && fwrite(names[m], 1, strlen(names[m]), f) == strlen(names[m]);
        pos += (long)(46 + strlen(names[m]));
    }
    if (ok) {
        memset(h, 0, sizeof h);
        dcgan__put_le(h, 0x06054b50u, 4);
        dcgan__put_le(h + 8, 2, 2);
        dcgan__put_le(h + 10, 2, 2);
        dcgan__put_le(h + 12, (uint64_t)(pos - cd), 4);
        dcgan__put_le(h + 16, (uint64_t)cd, 4);
        ok = fwrite(h, 1, 22, f) == 22;
    }
    dcgan_free(member[0]);
    dcgan_free(member[1]);
    return f ? dcgan__tmp_commit(__func__, f, ok, tmp, path) : status;
}

// Parses an .npy held in memory: '<f8' or '<f4', C order, 1 or 2 dims -> doubles.
static dcgan_status dcgan__npy_parse(const char *path, const char *member, const unsigned char *p,
                                     size_t n, double **out, int *ndim, int *shape) {
    if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0 || p[6] < 1 || p[6] > 3)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s is not an .npy array", path, member);
    const size_t prefix = p[6] == 1 ? 10 : 12;   // magic, version, header length (2 or 4 bytes)
    if (n < prefix) return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s is truncated", path, member);
    size_t hl = p[6] == 1 ? (size_t)dcgan__le(p + 8, 2) : (size_t)dcgan__le(p + 8, 4);
    size_t start = prefix + hl;
    if (start > n || hl > 4096)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s has a bad header length", path, member);
    char header[4097];
    memcpy(header, p + prefix, hl);
    header[hl] = '\0';
    int esize = strstr(header, "'<f8'") ? 8 : strstr(header, "'<f4'") ? 4 : 0;
    const char *sh = strstr(header, "'shape': (");
    if (!esize || !strstr(header, "'fortran_order': False") || !sh)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s is not little-endian float64/32 in C order", path, member);
    // numpy writes (a,) for 1-D and (a, b) for 2-D: a second comma means three or more
    // sides, refused rather than read as its first two (a (5, 3, 2) array is not (5, 3))
    const char *paren = strchr(sh, ')');
    int commas = 0;
    for (const char *q = sh + 10; paren && q < paren; q++) commas += *q == ',';
    if (commas > 1)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s is a %d-D array; 1-D or 2-D expected", path, member,
                           commas + 1);
    long a = -1, b = -1;
    int got = sscanf(sh + 10, "%ld, %ld", &a, &b);
    *ndim = got == 2 && b >= 0 ? 2 : 1;
    if (a < 0 || a > 65536 || (*ndim == 2 && (b < 0 || b > 65536)))
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s has a bad shape (sides of 0 to 65536 expected)",
                           path, member);
    shape[0] = (int)a;
    shape[1] = *ndim == 2 ? (int)b : 1;
    size_t count = (size_t)shape[0] * shape[1];
    if ((n - start) / (size_t)esize < count)
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s is truncated", path, member);
    *out = (double *)dcgan__alloc(count + 1, sizeof(double));
    if (!*out) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %s", member);
    for (size_t i = 0; i < count; i++) {
        uint64_t u = dcgan__le(p + start + i * (size_t)esize, esize);
        if (esize == 8) {
            memcpy(&(*out)[i], &u, 8);
        } else {
            uint32_t u32 = (uint32_t)u;
            float fv;
            memcpy(&fv, &u32, 4);
            (*out)[i] = fv;
        }
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_fid_stats_load_npz(dcgan_fid_stats *st, const char *path) {
    unsigned char *f = NULL;
    size_t n = 0;
    dcgan__zip_entry *list = NULL;
    int count = 0, ndim[2] = {0, 0}, shape[2][2] = {{0, 0}, {0, 0}};
    double *arrays[2] = {NULL, NULL};
    dcgan_status s;
    memset(st, 0, sizeof *st);
    if ((s = dcgan__read_file(__func__, path, &f, &n, (size_t)1 << 31)) != DCGAN_OK) return s;
    if ((s = dcgan__as(dcgan__zip_list(path, f, n, &list, &count), __func__)) != DCGAN_OK) goto done;
    for (int m = 0; m < 2; m++) {
        const char *want = m ? "sigma.npy" : "mu.npy";
        int at = -1;
        for (int i = 0; i < count; i++)
            if (strcmp(list[i].name, want) == 0) at = i;
        if (at < 0) {
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' has no %s (not FID statistics)", path, want);
            goto done;
        }
        const unsigned char *data = list[at].data;
        size_t size = (size_t)list[at].packed;
        char *inflated = NULL;
        if (list[at].method == 8) {
#ifndef DCGAN_NO_IMAGES
            // np.savez_compressed: raw deflate, which stb_image's zlib decoder reads.
            // Debian's stb reads a little past the end of the stream ("bad huffman
            // code" on valid data), so the input gets 16 zero bytes of padding; the
            // stream's final block marks its real end.
            int len = 0;
            char *padded = size < ((size_t)1 << 30) ? (char *)dcgan__calloc(size + 16, 1) : NULL;
            if (padded) memcpy(padded, data, size);
            if (!padded || list[at].size > ((size_t)1 << 31) ||
                !(inflated = stbi_zlib_decode_noheader_malloc(padded, (int)size + 16, &len)) ||
                (uint64_t)len != list[at].size) {
                dcgan_free(padded);
                free(inflated);
                s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': cannot inflate %s", path, want);
                goto done;
            }
            dcgan_free(padded);
            data = (const unsigned char *)inflated;
            size = (size_t)len;
#else
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': compressed .npz needs the image code (built with DCGAN_NO_IMAGES)", path);
            goto done;
#endif
        } else if (list[at].method != 0) {
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s uses zip method %d", path, want, list[at].method);
            goto done;
        }
        s = dcgan__as(dcgan__npy_parse(path, want, data, size, &arrays[m], &ndim[m], shape[m]),
                      "dcgan_fid_stats_load_npz");
        free(inflated);   // stb allocates with malloc
        if (s != DCGAN_OK) goto done;
    }
    if (ndim[0] != 1 || ndim[1] != 2 || shape[1][0] != shape[0][0] || shape[1][1] != shape[0][0] || shape[0][0] < 1) {
        s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': mu is (%d) and sigma (%d, %d); they do not fit", path,
                        shape[0][0], shape[1][0], shape[1][1]);
        goto done;
    }
    // NaN or Inf in the statistics would come out as "FID:  nan", or as an eigen-solver
    // failure that names no file: refused here, naming the file
    for (int m = 0; m < 2; m++) {
        const size_t len = (size_t)shape[m][0] * (m ? (size_t)shape[m][1] : 1);
        for (size_t i = 0; i < len; i++)
            if (!isfinite(arrays[m][i])) {
                s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': %s has a NaN or Inf (element %zu)", path,
                                m ? "sigma" : "mu", i);
                goto done;
            }
    }
    // sigma is a covariance: symmetric, variances >= 0. dcgan_frechet_distance
    // reads its lower triangle only, where pytorch-fid (scipy's sqrtm) takes the
    // whole matrix, so a sigma that is not symmetric would give another FID
    // without a word. Rounding is allowed: a pair may differ by 1e-9 of the
    // largest entry (np.cov's are exactly symmetric).
    {
        const int d = shape[0][0];
        const double *S = arrays[1];
        double big = 0.0, worst = 0.0;
        int wi = 0, wj = 0;
        for (size_t k = 0; k < (size_t)d * d; k++) big = fabs(S[k]) > big ? fabs(S[k]) : big;
        for (int i = 0; i < d; i++) {
            if (S[(size_t)i * d + i] < 0.0) {
                s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': sigma is not a covariance: its diagonal element %d is "
                                "%g (a variance, >= 0)", path, i, S[(size_t)i * d + i]);
                goto done;
            }
            for (int j = 0; j < i; j++) {
                const double diff = fabs(S[(size_t)i * d + j] - S[(size_t)j * d + i]);
                if (diff > worst) worst = diff, wi = i, wj = j;
            }
        }
        if (worst > 1e-9 * big) {
            s = DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': sigma is not symmetric: sigma[%d][%d] = %.17g but sigma[%d][%d] "
                            "= %.17g (a covariance is symmetric)", path, wi, wj, S[(size_t)wi * d + wj], wj, wi,
                            S[(size_t)wj * d + wi]);
            goto done;
        }
    }
    st->dims = shape[0][0];
    st->mu = arrays[0];
    st->sigma = arrays[1];
    arrays[0] = arrays[1] = NULL;
    s = DCGAN_OK;
done:
    dcgan_free(arrays[0]);
    dcgan_free(arrays[1]);
    dcgan_free(list);
    dcgan_free(f);
    return s;
}

// --- 14g. What an FID means: feature files, intervals, a floor, precision and
// recall, nearest neighbours

DCGAN_API dcgan_status dcgan_features_save_npy(const char *path, const double *f, int64_t n, int dims) {
    if (n < 1 || n > 65536 || dims < 1 || dims > 65536)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "%lld x %d features; n and dims must be 1 to 65536",
                           (long long)n, dims);
    int shape[2] = {(int)n, dims};
    size_t size = 0;
    unsigned char *buf = dcgan__npy(f, 2, shape, &size);
    if (!buf) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld x %d features", (long long)n, dims);
    char tmp[4096];
    dcgan_status status;
    FILE *fp = dcgan__tmp_open(__func__, path, tmp, sizeof tmp, &status);
    if (!fp) {
        dcgan_free(buf);
        return status;
    }
    int ok = fwrite(buf, 1, size, fp) == size;
    dcgan_free(buf);
    return dcgan__tmp_commit(__func__, fp, ok, tmp, path);
}

DCGAN_API dcgan_status dcgan_features_load_npy(double **f, int64_t *n, int *dims, const char *path) {
    unsigned char *file = NULL;
    size_t size = 0;
    double *data = NULL;
    int ndim = 0, shape[2] = {0, 0};
    dcgan_status s;
    *f = NULL;
    *n = 0;
    *dims = 0;
    if ((s = dcgan__read_file(__func__, path, &file, &size, (size_t)-1 / 2)) != DCGAN_OK) return s;
    s = dcgan__as(dcgan__npy_parse(path, "the file", file, size, &data, &ndim, shape), __func__);
    dcgan_free(file);
    if (s != DCGAN_OK) return s;
    if (ndim != 2 || shape[0] < 1 || shape[1] < 1) {
        dcgan_free(data);
        return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s' holds %s array; features are (n, dims), both >= 1", path,
                           ndim != 2 ? "a 1-D" : "an empty");
    }
    for (size_t i = 0; i < (size_t)shape[0] * shape[1]; i++)
        if (!isfinite(data[i])) {
            dcgan_free(data);
            return DCGAN__FAIL(DCGAN_ERR_FORMAT, "'%s': row %zu has a NaN or Inf", path, i / (size_t)shape[1]);
        }
    *f = data;
    *n = shape[0];
    *dims = shape[1];
    return DCGAN_OK;
}

// The FID of two sets given by the Gram matrices of their rows, centred on a
// common point (K11 = X1 X1^T, K22 = X2 X2^T, P = X1 X2^T), each row counted
// c1[i] / c2[j] times (a bootstrap resample; all ones for the sets as they
// are). With N = sum c, mu = X^T c / N:
//   |mu1 - mu2|^2 = c1^T K11 c1 / N1^2 + c2^T K22 c2 / N2^2 - 2 c1^T P c2 / (N1 N2)
//   tr S1 = (sum_i c1_i K11_ii - c1^T K11 c1 / N1) / (N1 - 1)
//   tr sqrt(S1 S2) = sum sqrt(eig(C C^T)), C_ab = sqrt(c1_a c2_b / ((N1-1)(N2-1)))
//                    * (P_ab - (P c2)_a / N2 - (c1^T P)_b / N1 + c1^T P c2 / (N1 N2))
// over the rows a, b that occur (see dcgan_fid_features for why).
static dcgan_status dcgan__fid_gram(double *fid, const double *K11, const double *K22, const double *P,
                                    const int *c1, int64_t n1, const int *c2, int64_t n2, int dims) {
    double N1 = 0.0, N2 = 0.0, q1 = 0.0, q2 = 0.0, sum1 = 0.0, sum2 = 0.0, cpc = 0.0;
    int64_t m1 = 0, m2 = 0;
    int64_t *r1 = (int64_t *)dcgan__alloc((size_t)n1, sizeof(int64_t));
    int64_t *r2 = (int64_t *)dcgan__alloc((size_t)n2, sizeof(int64_t));
    double *pc2 = (double *)dcgan__calloc((size_t)n1, sizeof(double));
    double *c1p = (double *)dcgan__calloc((size_t)n2, sizeof(double));
    double *C = NULL, *G = NULL, *w = NULL;
    dcgan_status s = DCGAN_OK;
    if (!r1 || !r2 || !pc2 || !c1p) {
        s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld + %lld rows", (long long)n1, (long long)n2);
        goto done;
    }
    for (int64_t i = 0; i < n1; i++)
        if (c1[i]) r1[m1++] = i;
    for (int64_t j = 0; j < n2; j++)
        if (c2[j]) r2[m2++] = j;
    for (int64_t a = 0; a < m1; a++) {
        const int64_t i = r1[a];
        N1 += c1[i];
        sum1 += c1[i] * K11[(size_t)i * n1 + i];
        for (int64_t b = 0; b < m1; b++) q1 += (double)c1[i] * c1[r1[b]] * K11[(size_t)i * n1 + r1[b]];
        for (int64_t b = 0; b < m2; b++) pc2[i] += P[(size_t)i * n2 + r2[b]] * c2[r2[b]];
        cpc += c1[i] * pc2[i];
    }
    for (int64_t b = 0; b < m2; b++) {
        const int64_t j = r2[b];
        N2 += c2[j];
        sum2 += c2[j] * K22[(size_t)j * n2 + j];
        for (int64_t a = 0; a < m2; a++) q2 += (double)c2[j] * c2[r2[a]] * K22[(size_t)j * n2 + r2[a]];
        for (int64_t a = 0; a < m1; a++) c1p[j] += c1[r1[a]] * P[(size_t)r1[a] * n2 + j];
    }
    if (N1 < 2 || N2 < 2) {
        s = DCGAN__FAIL(DCGAN_ERR_SHAPE, "need at least 2 vectors in each set, got %g and %g", N1, N2);
        goto done;
    }
    {
        const double diff2 = q1 / (N1 * N1) + q2 / (N2 * N2) - 2.0 * cpc / (N1 * N2);
        const double t1 = (sum1 - q1 / N1) / (N1 - 1.0), t2 = (sum2 - q2 / N2) / (N2 - 1.0);
        const double scale = 1.0 / sqrt((N1 - 1.0) * (N2 - 1.0));
        const int64_t m = m1 <= m2 ? m1 : m2;
        C = (double *)dcgan__alloc((size_t)m1 * (size_t)m2, sizeof(double));
        G = (double *)dcgan__alloc((size_t)m * (size_t)m, sizeof(double));
        w = (double *)dcgan__alloc((size_t)m, sizeof(double));
        if (!C || !G || !w) {
            s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for a %lld x %lld matrix", (long long)m1, (long long)m2);
            goto done;
        }
        DCGAN__OMP(omp parallel for schedule(static))
        for (int64_t a = 0; a < m1; a++) {
            const int64_t i = r1[a];
            for (int64_t b = 0; b < m2; b++) {
                const int64_t j = r2[b];
                C[(size_t)a * m2 + b] = sqrt((double)c1[i] * c2[j]) * scale *
                                        (P[(size_t)i * n2 + j] - pc2[i] / N2 - c1p[j] / N1 + cpc / (N1 * N2));
            }
        }
        // G = C C^T (m1 <= m2), or C^T C: the Gram matrix of the rows of C or of C^T
        // (its lower triangle is all the eigenvalues read)
        if (m1 <= m2) {
            dcgan__gram_fast(G, C, m1, C, m1, (int)m2, 1, 0, 1);
        } else {
            double *Ct = (double *)dcgan__alloc((size_t)m1 * (size_t)m2, sizeof(double));
            if (!Ct) {
                s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for a %lld x %lld matrix", (long long)m2, (long long)m1);
                goto done;
            }
            for (int64_t a = 0; a < m1; a++)
                for (int64_t b = 0; b < m2; b++) Ct[(size_t)b * m1 + a] = C[(size_t)a * m2 + b];
            dcgan__gram_fast(G, Ct, m2, Ct, m2, (int)m1, 1, 0, 1);
            dcgan_free(Ct);
        }
        if ((s = dcgan_symmetric_eigenvalues(G, (int)m, w)) != DCGAN_OK) goto done;
        // Centred rows sum to zero (with their weights), so C has rank at most
        // min(m1, m2) - 1 (and dims): its last eigenvalue is 0 up to rounding,
        // and the square root of that rounding (~1e-8 of the scale) would
        // count. Only the largest `rank` eigenvalues (ascending order) enter.
        int64_t rank = m - 1 < dims ? m - 1 : dims;
        double tr_sqrt = 0.0;
        for (int64_t k = m - rank; k < m; k++) tr_sqrt += w[k] > 0.0 ? sqrt(w[k]) : 0.0;
        *fid = diff2 + t1 + t2 - 2.0 * tr_sqrt;
    }
done:
    dcgan_free(r1);
    dcgan_free(r2);
    dcgan_free(pc2);
    dcgan_free(c1p);
    dcgan_free(C);
    dcgan_free(G);
    dcgan_free(w);
    return s;
}

// The Gram matrices of dcgan__fid_gram: both sets centred on set 1's mean (FID
// does not change when both sets move together; centring keeps the traces
// from cancelling). K11, K22, P are allocated here.
static dcgan_status dcgan__fid_grams(double **K11, double **K22, double **P, const double *f1, int64_t n1,
                                     const double *f2, int64_t n2, int dims) {
    double *x1 = (double *)dcgan__alloc((size_t)n1 * dims, sizeof(double));
    double *x2 = (double *)dcgan__alloc((size_t)n2 * dims, sizeof(double));
    double *mean = (double *)dcgan__calloc((size_t)dims, sizeof(double));
    *K11 = (double *)dcgan__alloc((size_t)n1 * (size_t)n1, sizeof(double));
    *K22 = (double *)dcgan__alloc((size_t)n2 * (size_t)n2, sizeof(double));
    *P = (double *)dcgan__alloc((size_t)n1 * (size_t)n2, sizeof(double));
    if (!x1 || !x2 || !mean || !*K11 || !*K22 || !*P) {
        dcgan_free(x1);
        dcgan_free(x2);
        dcgan_free(mean);
        dcgan_free(*K11);
        dcgan_free(*K22);
        dcgan_free(*P);
        *K11 = *K22 = *P = NULL;
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the Gram matrices of %lld and %lld vectors",
                           (long long)n1, (long long)n2);
    }
    for (int64_t i = 0; i < n1; i++)
        for (int k = 0; k < dims; k++) mean[k] += f1[(size_t)i * dims + k];
    for (int k = 0; k < dims; k++) mean[k] /= (double)n1;
    for (int64_t i = 0; i < n1; i++)
        for (int k = 0; k < dims; k++) x1[(size_t)i * dims + k] = f1[(size_t)i * dims + k] - mean[k];
    for (int64_t i = 0; i < n2; i++)
        for (int k = 0; k < dims; k++) x2[(size_t)i * dims + k] = f2[(size_t)i * dims + k] - mean[k];
    dcgan__gram_sym(*K11, x1, n1, dims);
    dcgan__gram_sym(*K22, x2, n2, dims);
    dcgan__gram(*P, x1, n1, x2, n2, dims);
    dcgan_free(x1);
    dcgan_free(x2);
    dcgan_free(mean);
    return DCGAN_OK;
}

// FID through the covariances (the sets materialised with their multiplicities).
static dcgan_status dcgan__fid_cov(double *fid, const double *f1, int64_t n1, const int64_t *idx1,
                                   const double *f2, int64_t n2, const int64_t *idx2, int dims) {
    const double *src[2] = {f1, f2};
    const int64_t *idx[2] = {idx1, idx2}, n[2] = {n1, n2};
    dcgan_fid_stats st[2];
    dcgan_status s = DCGAN_OK;
    memset(st, 0, sizeof st);
    for (int k = 0; k < 2 && s == DCGAN_OK; k++) {
        const double *f = src[k];
        double *copy = NULL;
        if (idx[k]) {
            copy = (double *)dcgan__alloc((size_t)n[k] * dims, sizeof(double));
            if (!copy) {   // (the first set's statistics, if made, are freed below)
                s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld vectors", (long long)n[k]);
                break;
            }
            for (int64_t i = 0; i < n[k]; i++)
                memcpy(copy + (size_t)i * dims, src[k] + (size_t)idx[k][i] * dims, (size_t)dims * sizeof(double));
            f = copy;
        }
        s = dcgan_fid_stats_compute(&st[k], f, n[k], dims);
        dcgan_free(copy);
    }
    if (s == DCGAN_OK) s = dcgan_frechet_distance(fid, &st[0], &st[1], NULL, NULL);
    dcgan_fid_stats_free(&st[0]);
    dcgan_fid_stats_free(&st[1]);
    return s;
}

DCGAN_API dcgan_status dcgan_fid_features(double *fid, const double *f1, int64_t n1, const double *f2,
                                          int64_t n2, int dims) {
    if (n1 < 2 || n2 < 2 || dims < 1)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "need at least 2 vectors per set and dims >= 1, got %lld, %lld, %d",
                           (long long)n1, (long long)n2, dims);
    if ((n1 < n2 ? n1 : n2) > dims) return dcgan__fid_cov(fid, f1, n1, NULL, f2, n2, NULL, dims);
    double *K11, *K22, *P;
    int *c1 = (int *)dcgan__alloc((size_t)n1, sizeof(int)), *c2 = (int *)dcgan__alloc((size_t)n2, sizeof(int));
    dcgan_status s = c1 && c2 ? dcgan__fid_grams(&K11, &K22, &P, f1, n1, f2, n2, dims)
                              : DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld + %lld counts", (long long)n1,
                                            (long long)n2);
    if (s == DCGAN_OK) {
        for (int64_t i = 0; i < n1; i++) c1[i] = 1;
        for (int64_t j = 0; j < n2; j++) c2[j] = 1;
        s = dcgan__fid_gram(fid, K11, K22, P, c1, n1, c2, n2, dims);
        dcgan_free(K11);
        dcgan_free(K22);
        dcgan_free(P);
    }
    dcgan_free(c1);
    dcgan_free(c2);
    return s;
}

// One bootstrap resample: n draws of an index, counted.
static void dcgan__resample(int *count, int64_t *idx, int64_t n, dcgan_rng *rng) {
    memset(count, 0, (size_t)n * sizeof(int));
    for (int64_t i = 0; i < n; i++) {
        const int64_t k = (int64_t)(dcgan_rng_u32(rng) % (uint32_t)n);
        count[k]++;
        idx[i] = k;
    }
}

static dcgan_status dcgan__bootstrap_check(const char *func, int B, int64_t n1, int64_t n2, int dims) {
    if (B < 1 || n1 < 2 || n2 < 2 || dims < 1 || n1 > 65536 || n2 > 65536)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "B = %d resamples of %lld and %lld vectors (dims %d): "
                           "need B >= 1 and 2 to 65536 vectors per set", B, (long long)n1, (long long)n2, dims);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_fid_bootstrap(double *values, int B, const double *f1, int64_t n1,
                                           const double *f2, int64_t n2, int dims, dcgan_rng *rng,
                                           dcgan_progress_fn progress, void *user) {
    dcgan_status s = dcgan__bootstrap_check(__func__, B, n1, n2, dims);
    if (s != DCGAN_OK) return s;
    const int gram = (n1 < n2 ? n1 : n2) <= dims;
    double *K11 = NULL, *K22 = NULL, *P = NULL;
    int *c1 = (int *)dcgan__alloc((size_t)n1, sizeof(int)), *c2 = (int *)dcgan__alloc((size_t)n2, sizeof(int));
    int64_t *i1 = (int64_t *)dcgan__alloc((size_t)n1, sizeof(int64_t));
    int64_t *i2 = (int64_t *)dcgan__alloc((size_t)n2, sizeof(int64_t));
    if (!c1 || !c2 || !i1 || !i2) s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the resample counts");
    else if (gram) s = dcgan__fid_grams(&K11, &K22, &P, f1, n1, f2, n2, dims);
    for (int b = 0; b < B && s == DCGAN_OK; b++) {
        dcgan__resample(c1, i1, n1, rng);
        dcgan__resample(c2, i2, n2, rng);
        s = gram ? dcgan__fid_gram(&values[b], K11, K22, P, c1, n1, c2, n2, dims)
                 : dcgan__fid_cov(&values[b], f1, n1, i1, f2, n2, i2, dims);
        if (progress) progress(user, b + 1, B);
    }
    dcgan_free(K11);
    dcgan_free(K22);
    dcgan_free(P);
    dcgan_free(c1);
    dcgan_free(c2);
    dcgan_free(i1);
    dcgan_free(i2);
    return s;
}

DCGAN_API dcgan_status dcgan_kid_bootstrap(double *values, int B, const double *f1, int64_t n1,
                                           const double *f2, int64_t n2, int dims, dcgan_rng *rng,
                                           dcgan_progress_fn progress, void *user) {
    dcgan_status s = dcgan__bootstrap_check(__func__, B, n1, n2, dims);
    if (s != DCGAN_OK) return s;
    double *K[3] = {(double *)dcgan__alloc((size_t)n1 * (size_t)n1, sizeof(double)),
                    (double *)dcgan__alloc((size_t)n2 * (size_t)n2, sizeof(double)),
                    (double *)dcgan__alloc((size_t)n1 * (size_t)n2, sizeof(double))};
    int *c1 = (int *)dcgan__alloc((size_t)n1, sizeof(int)), *c2 = (int *)dcgan__alloc((size_t)n2, sizeof(int));
    int64_t *i1 = (int64_t *)dcgan__alloc((size_t)n1, sizeof(int64_t));
    int64_t *i2 = (int64_t *)dcgan__alloc((size_t)n2, sizeof(int64_t));
    if (!K[0] || !K[1] || !K[2] || !c1 || !c2 || !i1 || !i2) {
        s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the kernel matrices of %lld and %lld vectors",
                        (long long)n1, (long long)n2);
    } else {
        // the polynomial kernel k(x, y) = (x.y / dims + 1)^3 of every pair, once
        dcgan__gram_sym(K[0], f1, n1, dims);
        dcgan__gram_sym(K[1], f2, n2, dims);
        dcgan__gram(K[2], f1, n1, f2, n2, dims);
        const size_t sizes[3] = {(size_t)n1 * n1, (size_t)n2 * n2, (size_t)n1 * n2};
        for (int m = 0; m < 3; m++)
            for (size_t i = 0; i < sizes[m]; i++) {
                const double t = K[m][i] / dims + 1.0;
                K[m][i] = t * t * t;
            }
    }
    for (int b = 0; b < B && s == DCGAN_OK; b++) {
        dcgan__resample(c1, i1, n1, rng);
        dcgan__resample(c2, i2, n2, rng);
        // pairs of draws that are different vectors: c^T K c - sum_i c_i^2 K_ii, of them
        // n^2 - sum_i c_i^2 (whole numbers, exact in a double)
        double xx = 0.0, yy = 0.0, xy = 0.0, pairs1 = (double)n1 * n1, pairs2 = (double)n2 * n2;
        for (int64_t i = 0; i < n1; i++) {
            if (!c1[i]) continue;
            double row = 0.0;
            for (int64_t j = 0; j < n1; j++) row += c1[j] * K[0][(size_t)i * n1 + j];
            xx += c1[i] * (row - c1[i] * K[0][(size_t)i * n1 + i]);
            pairs1 -= (double)c1[i] * c1[i];
            double cross = 0.0;
            for (int64_t j = 0; j < n2; j++) cross += c2[j] * K[2][(size_t)i * n2 + j];
            xy += c1[i] * cross;
        }
        for (int64_t i = 0; i < n2; i++) {
            if (!c2[i]) continue;
            double row = 0.0;
            for (int64_t j = 0; j < n2; j++) row += c2[j] * K[1][(size_t)i * n2 + j];
            yy += c2[i] * (row - c2[i] * K[1][(size_t)i * n2 + i]);
            pairs2 -= (double)c2[i] * c2[i];
        }
        values[b] = pairs1 > 0.0 && pairs2 > 0.0 ? xx / pairs1 + yy / pairs2 - 2.0 * xy / ((double)n1 * n2) : NAN;
        if (progress) progress(user, b + 1, B);
    }
    for (int m = 0; m < 3; m++) dcgan_free(K[m]);
    dcgan_free(c1);
    dcgan_free(c2);
    dcgan_free(i1);
    dcgan_free(i2);
    return s;
}

static int dcgan__cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

// The q-quantile of sorted v[0..n) with linear interpolation (numpy 'linear').
static double dcgan__quantile_sorted(const double *v, int n, double q) {
    if (n == 0) return NAN;
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

DCGAN_API double dcgan_quantile(double *values, int n, double q) {
    if (n < 1 || isnan(q)) return NAN;   // (a NaN q passes both clamps below)
    qsort(values, (size_t)n, sizeof(double), dcgan__cmp_double);
    return dcgan__quantile_sorted(values, n, q < 0.0 ? 0.0 : q > 1.0 ? 1.0 : q);
}

DCGAN_API dcgan_status dcgan_fid_floor(double *values, int repeats, const double *f, int64_t n,
                                       int64_t m, int dims, dcgan_rng *rng, dcgan_progress_fn progress,
                                       void *user) {
    if (dims < 1 || repeats < 1)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dims %d, repeats %d (both must be at least 1)", dims, repeats);
    if (m < 2 || 2 * m > n)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "two halves of %lld need %lld vectors, the set has %lld",
                           (long long)m, (long long)(2 * (m < 2 ? 2 : m)), (long long)n);
    int64_t *perm = (int64_t *)dcgan__alloc((size_t)n, sizeof(int64_t));
    double *half[2] = {(double *)dcgan__alloc((size_t)m * dims, sizeof(double)),
                       (double *)dcgan__alloc((size_t)m * dims, sizeof(double))};
    dcgan_status s = DCGAN_OK;
    if (!perm || !half[0] || !half[1]) s = DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for two halves of %lld", (long long)m);
    for (int r = 0; r < repeats && s == DCGAN_OK; r++) {
        for (int64_t i = 0; i < n; i++) perm[i] = i;
        for (int64_t i = n - 1; i > 0; i--) {   // Fisher-Yates
            const int64_t j = (int64_t)(dcgan_rng_u32(rng) % (uint32_t)(i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int h = 0; h < 2; h++)
            for (int64_t i = 0; i < m; i++)
                memcpy(half[h] + (size_t)i * dims, f + (size_t)perm[h * m + i] * dims, (size_t)dims * sizeof(double));
        s = dcgan_fid_features(&values[r], half[0], m, half[1], m, dims);
        if (progress && s == DCGAN_OK) progress(user, r + 1, repeats);
    }
    dcgan_free(perm);
    dcgan_free(half[0]);
    dcgan_free(half[1]);
    return s;
}

// The (k+1)-th smallest of row[0..n) (k+1 <= n): insertion into a short sorted list.
static double dcgan__kth_smallest(const double *row, int64_t n, int k) {
    double best[65];
    int have = 0;
    for (int64_t j = 0; j < n; j++) {
        const double v = row[j];
        if (have == k + 1 && v >= best[k]) continue;
        int at = have < k + 1 ? have++ : k;
        while (at > 0 && best[at - 1] > v) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = v;
    }
    return best[k];
}

DCGAN_API dcgan_status dcgan_prdc_compute(dcgan_prdc *out, const double *real, int64_t n_real,
                                          const double *fake, int64_t n_fake, int dims, int k) {
    if (k < 1 || k > 64 || k >= n_real || k >= n_fake || dims < 1)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "k = %d nearest neighbours need more than k vectors per set "
                           "(%lld real, %lld fake) and 1 <= k <= 64", k, (long long)n_real, (long long)n_fake);
    double *rr = (double *)dcgan__alloc((size_t)n_real, sizeof(double));
    double *rf = (double *)dcgan__alloc((size_t)n_fake, sizeof(double));
    double *D = (double *)dcgan__alloc((size_t)n_real * (size_t)n_fake, sizeof(double));
    if (!rr || !rf || !D) {
        dcgan_free(rr); dcgan_free(rf); dcgan_free(D);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld x %lld distances", (long long)n_real,
                           (long long)n_fake);
    }
    // radii (squared: the comparisons are the same): k-th neighbour within each
    // set, from its whole distance matrix
    for (int set = 0; set < 2; set++) {
        const double *x = set ? fake : real;
        const int64_t n = set ? n_fake : n_real;
        double *radius = set ? rf : rr;
        double *within = (double *)dcgan__alloc((size_t)n * (size_t)n, sizeof(double));
        if (!within) {
            dcgan_free(rr); dcgan_free(rf); dcgan_free(D);
            return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld x %lld distances", (long long)n, (long long)n);
        }
        dcgan__sqdist(within, x, n, x, n, dims);
        DCGAN__OMP(omp parallel for schedule(static))
        for (int64_t i = 0; i < n; i++) radius[i] = dcgan__kth_smallest(within + (size_t)i * n, n, k);
        dcgan_free(within);
    }
    dcgan__sqdist(D, real, n_real, fake, n_fake, dims);
    int64_t precise = 0, recalled = 0, covered = 0;
    double dense = 0.0;
    for (int64_t j = 0; j < n_fake; j++) {
        int64_t inside = 0;
        for (int64_t i = 0; i < n_real; i++) inside += D[(size_t)i * n_fake + j] < rr[i];
        precise += inside > 0;
        dense += (double)inside;
    }
    for (int64_t i = 0; i < n_real; i++) {
        const double *d = D + (size_t)i * n_fake;
        int any = 0;
        double nearest = d[0];
        for (int64_t j = 0; j < n_fake; j++) {
            any |= d[j] < rf[j];
            if (d[j] < nearest) nearest = d[j];
        }
        recalled += any;
        covered += nearest < rr[i];
    }
    out->precision = (double)precise / (double)n_fake;
    out->recall = (double)recalled / (double)n_real;
    out->density = dense / ((double)k * (double)n_fake);
    out->coverage = (double)covered / (double)n_real;
    dcgan_free(rr); dcgan_free(rf); dcgan_free(D);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_nearest(int64_t *index, double *dist, const double *query, int64_t nq,
                                     const double *ref, int64_t nr, int dims) {
    if (nq < 1 || nr < 1 || dims < 1)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "%lld queries, %lld references, dims %d: each must be >= 1",
                           (long long)nq, (long long)nr, dims);
    // 256 queries at a time: one block of distances, then each row's smallest
    // (the first on ties: the lower index)
    const int64_t block = nq < 256 ? nq : 256;
    double *D = (double *)dcgan__alloc((size_t)block * (size_t)nr, sizeof(double));
    if (!D) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %lld x %lld distances", (long long)block, (long long)nr);
    for (int64_t q0 = 0; q0 < nq; q0 += block) {
        const int64_t nb = nq - q0 < block ? nq - q0 : block;
        dcgan__sqdist(D, query + (size_t)q0 * dims, nb, ref, nr, dims);
        DCGAN__OMP(omp parallel for schedule(static))
        for (int64_t i = 0; i < nb; i++) {
            const double *row = D + (size_t)i * nr;
            int64_t best = 0;
            for (int64_t j = 1; j < nr; j++)
                if (row[j] < row[best]) best = j;
            index[q0 + i] = best;
            dist[q0 + i] = sqrt(row[best]);
        }
    }
    dcgan_free(D);
    return DCGAN_OK;
}

typedef struct {
    double v;
    int from_a;
} dcgan__ranked;

static int dcgan__cmp_ranked(const void *a, const void *b) {
    const double x = ((const dcgan__ranked *)a)->v, y = ((const dcgan__ranked *)b)->v;
    return x < y ? -1 : x > y ? 1 : 0;
}

DCGAN_API dcgan_status dcgan_mann_whitney(double *u, double *z, const double *a, int64_t na,
                                          const double *b, int64_t nb) {
    if (na < 1 || nb < 1) return DCGAN__FAIL(DCGAN_ERR_SHAPE, "samples of %lld and %lld; both must be >= 1",
                                             (long long)na, (long long)nb);
    const int64_t N = na + nb;
    dcgan__ranked *all = (dcgan__ranked *)dcgan__alloc((size_t)N, sizeof(dcgan__ranked));
    if (!all) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory to rank %lld values", (long long)N);
    for (int64_t i = 0; i < na; i++) all[i].v = a[i], all[i].from_a = 1;
    for (int64_t i = 0; i < nb; i++) all[na + i].v = b[i], all[na + i].from_a = 0;
    qsort(all, (size_t)N, sizeof(dcgan__ranked), dcgan__cmp_ranked);
    double rank_a = 0.0, ties = 0.0;
    for (int64_t i = 0; i < N;) {
        int64_t j = i;
        while (j + 1 < N && all[j + 1].v == all[i].v) j++;
        const double avg = (double)(i + j + 2) / 2.0, t = (double)(j - i + 1);   // ranks i+1 .. j+1
        for (int64_t k = i; k <= j; k++)
            if (all[k].from_a) rank_a += avg;
        ties += t * t * t - t;
        i = j + 1;
    }
    dcgan_free(all);
    *u = rank_a - (double)na * (na + 1) / 2.0;
    const double var = (double)na * nb / 12.0 * ((N + 1) - ties / ((double)N * (N - 1)));
    *z = var > 0.0 ? (*u - (double)na * nb / 2.0) / sqrt(var) : 0.0;
    return DCGAN_OK;
}

// =============================================================================
// Part III: speed
// =============================================================================
// The blocked and vectorised code behind Part I's products and layers and
// Part II's statistics. Each routine here computes what a reference in Part I
// or II defines, and tests/test_core.c, test_layers.c and test_fid.c check it
// against that reference. DCGAN_NO_SIMD leaves out the intrinsics (the
// portable loops remain); DCGAN_NO_AVX512 the AVX-512 kernel only.

// -----------------------------------------------------------------------------
// 15. Speed: the blocked GEMM, implicit GEMM, direct convolution, AVX2/AVX-512

#ifdef DCGAN__HAVE_AVX2_KERNEL
#include <immintrin.h>   // the AVX2 and AVX-512 intrinsics of the kernels below
#endif
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define DCGAN__HAVE_CPUID 1
#include <cpuid.h>   // __get_cpuid, __get_cpuid_count: the CPU's maker and family, AMX (section 15b)
#endif

// --- 15a. Implicit GEMM: the im2col matrix read from the images

// Implicit GEMM. A convolution multiplies by the im2col matrix of its images
// (dcgan__patches, declared with the internals above): entry (r, q), with
// r = (c, kh, kw) a kernel tap and q = (i, oh, ow) an output pixel of image i,
// is img[i][c][oh*S - pt + kh][ow*S - pl + kw], or 0 where that lies in the
// padding. Stored, that matrix is KH*KW/S^2 times the size of the images,
// written once and read back once; dcgan__sgemm_patches instead reads each
// entry straight from the images while packing ("implicit GEMM", Chetlur et
// al. 2014, cuDNN, section 3.2). Its panels hold the same numbers as panels
// packed from the stored matrix, so the products are the same, bit for bit.
//
// An entry's place is the sum of a part from its pixel and a part from its
// tap: image row ih = h(q) + h(r), column iw = w(q) + w(r), and its offset in
// img is off(q) + off(r).
typedef struct {
    int h, w;
    ptrdiff_t off;
} dcgan__patch_part;

static dcgan__patch_part dcgan__pixel_part(const dcgan__patches *P, size_t q) {
    const size_t OHW = (size_t)P->OH * P->OW, i = q / OHW;
    const int oh = (int)(q % OHW / (size_t)P->OW), ow = (int)(q % (size_t)P->OW);
    dcgan__patch_part part;
    part.h = oh * P->S - P->pt;
    part.w = ow * P->S - P->pl;
    part.off = (ptrdiff_t)(i * P->istride) + (ptrdiff_t)part.h * P->W + part.w;
    return part;
}

// The parts of the n pixels q0, q0 + 1, ...: one division, then steps along
// the output rows (16 divisions per panel were a third of the time to pack a
// panel of a 3x3 kernel on one channel).
static void dcgan__pixel_parts(dcgan__patch_part *parts, const dcgan__patches *P, size_t q0, int n) {
    if (n <= 0) return;
    parts[0] = dcgan__pixel_part(P, q0);
    int oh = (parts[0].h + P->pt) / P->S, ow = (parts[0].w + P->pl) / P->S;
    ptrdiff_t image = parts[0].off - ((ptrdiff_t)parts[0].h * P->W + parts[0].w);   // i * istride
    for (int t = 1; t < n; t++) {
        if (++ow == P->OW) {   // the next output row, or the next image's first
            ow = 0;
            if (++oh == P->OH) oh = 0, image += (ptrdiff_t)P->istride;
        }
        dcgan__patch_part *part = &parts[t];
        part->h = oh * P->S - P->pt;
        part->w = ow * P->S - P->pl;
        part->off = image + (ptrdiff_t)part->h * P->W + part->w;
    }
}

static dcgan__patch_part dcgan__tap_part(const dcgan__patches *P, int r) {
    const int c = r / (P->KH * P->KW);
    dcgan__patch_part part;
    part.h = r / P->KW % P->KH;
    part.w = r % P->KW;
    part.off = (ptrdiff_t)((size_t)c * P->cstride) + (ptrdiff_t)part.h * P->W + part.w;
    return part;
}

// The entry whose pixel and tap have parts a and b (in either order).
static float dcgan__patch_value(const dcgan__patches *P, dcgan__patch_part a, dcgan__patch_part b) {
    const int h = a.h + b.h, w = a.w + b.w;
    return (unsigned)h < (unsigned)P->H && (unsigned)w < (unsigned)P->W ? P->img[a.off + b.off] : 0.0f;
}

// The B operand of a product: a stored matrix (op(B) = B, or B^T with trans),
// or, with patches, the im2col matrix of images (op(B) = col, or col^T).
typedef struct {
    int trans;
    const float *data;
    int ld;
    const dcgan__patches *patches;
} dcgan__operand;

// op(B)[k][j], one entry at a time.
static float dcgan__operand_at(const dcgan__operand *b, int k, int j) {
    if (!b->patches) return b->trans ? b->data[(size_t)j * b->ld + k] : b->data[(size_t)k * b->ld + j];
    const dcgan__patch_part tap = dcgan__tap_part(b->patches, b->trans ? j : k);
    return dcgan__patch_value(b->patches, tap, dcgan__pixel_part(b->patches, (size_t)(b->trans ? k : j)));
}

// The reference loop, for any B operand: each entry of C summed in double.
static void dcgan__sgemm_ref_operand(int trans_a, int M, int N, int K, float alpha, const float *A,
                                     int lda, const dcgan__operand *b, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                float a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                acc += (double)a * (double)dcgan__operand_at(b, k, j);
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc) + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

// --- 15b. The blocked GEMM (Goto & van de Geijn) and its micro-kernels

// The fast path, after Goto & van de Geijn, "Anatomy of High-Performance
// Matrix Multiplication" (ACM TOMS 2008): C is cut into blocks; a KC x NC block
// of op(B) is copied ("packed") into NR-column panels, an MC x KC block of op(A)
// into MR-row panels, so that the innermost routine, the micro-kernel, reads
// both contiguously and keeps an MR x NR tile of C in registers for KC steps.
// Transposes are handled while packing, so the kernel sees one layout only.
#define DCGAN__MR 6
#define DCGAN__NR 16
#define DCGAN__KC 256
#define DCGAN__MC 96
#define DCGAN__NC 2048
// bfloat16 products on AMX tiles (section 15b) take deeper slabs and taller
// slices: a tile's 8,192 multiply-adds take about as long as writing it into C
#define DCGAN__AMX_KC 1024
#define DCGAN__AMX_MC 512
#define DCGAN__AMX_K 32   // values of k per tile step

// Writes the finished sums acc (MR x NR, row-major) into the mr x nr corner of
// the C tile at c: C = alpha * acc + beta * C, where beta 0 does not read C
// (NaN there does not leak) and beta 1 adds to it unscaled. The product's first
// block of K passes the caller's beta, the later ones 1, so C is never swept
// separately for beta (Goto & van de Geijn, section 6: C is updated in place).
static void dcgan__tile_write(float *c, int ldc, int mr, int nr, const float *acc, float alpha,
                              float beta) {
    DCGAN__NO_FUSE
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *cij = &c[(size_t)i * ldc + j];
            const float v = alpha * acc[i * DCGAN__NR + j];
            // beta 0: v itself, as a full tile's kernel writes it (0 + v would turn -0 into +0)
            *cij = beta == 0.0f ? v : (beta == 1.0f ? *cij : beta * *cij) + v;
        }
}

// The epilogue of a fused product (dcgan__sgemm_fused): C[i][j] = C[i][j] +
// bias[i] (bias NULL: + 0), then max(., 0) with relu, for rows i0..i0+m and
// columns j0..j0+n - the same sums in the same order as a separate pass.
static void dcgan__gemm_epilogue(float *C, int ldc, int i0, int m, int j0, int n, const float *bias,
                                 int relu) {
    for (int i = i0; i < i0 + m; i++) {
        float *c = &C[(size_t)i * ldc + j0];
        const float b = bias ? bias[i] : 0.0f;
        for (int j = 0; j < n; j++) {
            const float v = c[j] + b;
            c[j] = relu && !(v > 0.0f) ? 0.0f : v;
        }
    }
}

// C tile (mr x nr, at c with row stride ldc) = beta * C + alpha * a * b, where a
// is MR x kc and b is kc x NR, both packed k-major (zero-padded past mr, nr);
// then, where bias (the tile's first row's entry) or relu is given (the last
// block of K of a fused product), the epilogue above on the finished tile.
// The portable version: plain loops over a tile kept in a local array.
static void dcgan__kernel_portable(int kc, const float *a, const float *b, float alpha, float beta,
                                   float *c, int ldc, int mr, int nr, const float *bias, int relu) {
    float acc[DCGAN__MR * DCGAN__NR];
    for (int t = 0; t < DCGAN__MR * DCGAN__NR; t++) acc[t] = 0.0f;
    for (int k = 0; k < kc; k++) {
        const float *bk = b + (size_t)k * DCGAN__NR;
        for (int i = 0; i < DCGAN__MR; i++) {
            const float ai = a[(size_t)k * DCGAN__MR + i];
            for (int j = 0; j < DCGAN__NR; j++) acc[i * DCGAN__NR + j] += ai * bk[j];
        }
    }
    dcgan__tile_write(c, ldc, mr, nr, acc, alpha, beta);
    if (bias || relu) dcgan__gemm_epilogue(c, ldc, 0, mr, 0, nr, bias, relu);
}

// DCGAN_NO_SIMD leaves the intrinsics out: only the portable loops remain
// (one `make test` build uses it, so those loops run on AVX2 machines too).
#ifdef DCGAN__HAVE_AVX2_KERNEL
// The same tile with AVX2 + FMA. Twelve named registers hold the 6 x 16 tile
// (two 8-float halves per row): each k loads 16 values of b, broadcasts 6 of a
// and does 12 fused multiply-adds. Written out by hand so that the compiler
// keeps every accumulator in a register. The tile's rows of C are fetched into
// the cache first (a prefetch, which never faults), so that they arrive while
// the sums run: without it the final read of C waited on memory, 27% of the
// kernel's time in a 1536^3 product (perf annotate, bench/RESULTS.md).
__attribute__((target("avx2,fma")))
static void dcgan__kernel_avx2(int kc, const float *a, const float *b, float alpha, float beta,
                               float *c, int ldc, int mr, int nr, const float *bias, int relu) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int i = 0; i < mr; i++) {   // a row's 16 floats span at most two cache lines
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + DCGAN__NR - 1), _MM_HINT_T0);
    }
    for (int k = 0; k < kc; k++, a += DCGAN__MR, b += DCGAN__NR) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 ai;
        ai = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);
    }
    float acc[DCGAN__MR * DCGAN__NR];
    const __m256 al = _mm256_set1_ps(alpha), be = _mm256_set1_ps(beta);
    __m256 rows[DCGAN__MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (mr == DCGAN__MR && nr == DCGAN__NR) {
        for (int i = 0; i < DCGAN__MR; i++)
            for (int h = 0; h < 2; h++) {
                float *ci = c + (size_t)i * ldc + 8 * h;
                __m256 v;
                if (beta == 0.0f) {
                    v = _mm256_mul_ps(al, rows[i][h]);
                } else {
                    __m256 old = _mm256_loadu_ps(ci);
                    if (beta != 1.0f) old = _mm256_mul_ps(be, old);
                    v = _mm256_fmadd_ps(al, rows[i][h], old);
                }
                // dcgan__gemm_epilogue's operations, in its order: + bias, then
                // max(v, 0), which gives 0 for NaN and -0 as !(v > 0) does
                if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[i]));
                if (relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
                _mm256_storeu_ps(ci, v);
            }
        return;
    }
    for (int i = 0; i < DCGAN__MR; i++) {
        _mm256_storeu_ps(acc + i * DCGAN__NR, rows[i][0]);
        _mm256_storeu_ps(acc + i * DCGAN__NR + 8, rows[i][1]);
    }
    dcgan__tile_write(c, ldc, mr, nr, acc, alpha, beta);
    if (bias || relu) dcgan__gemm_epilogue(c, ldc, 0, mr, 0, nr, bias, relu);
}
#endif

// The same tile with AVX-512F: one 16-float register per row of the tile, so
// each k loads b once, broadcasts 6 values of a and does 6 fused multiply-adds
// (the AVX2 kernel: 2 loads, 6 broadcasts, 12 FMAs). The sums are those of the
// AVX2 kernel, in the same order. DCGAN_NO_AVX512 leaves it out.
#ifdef DCGAN__HAVE_AVX512_KERNEL
__attribute__((target("avx512f"), always_inline))
static inline void dcgan__tile_store_avx512(const __m512 *rows, float *c, int ldc, int mr, int nr, float alpha,
                                            float beta, const float *bias, int relu);

__attribute__((target("avx512f")))
static void dcgan__kernel_avx512(int kc, const float *a, const float *b, float alpha, float beta,
                                 float *c, int ldc, int mr, int nr, const float *bias, int relu) {
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    __m512 c3 = _mm512_setzero_ps(), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + DCGAN__NR - 1), _MM_HINT_T0);
    }
    for (int k = 0; k < kc; k++, a += DCGAN__MR, b += DCGAN__NR) {
        const __m512 bk = _mm512_loadu_ps(b);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), bk, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), bk, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), bk, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), bk, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), bk, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), bk, c5);
    }
    const __m512 rows[DCGAN__MR] = {c0, c1, c2, c3, c4, c5};
    dcgan__tile_store_avx512(rows, c, ldc, mr, nr, alpha, beta, bias, relu);
}

// The end of an AVX-512 kernel: its MR rows of sums written into the C tile
// as the kernels' contract says (beta, alpha, then bias and ReLU). Inlined
// into each kernel: as a call (a stack realigned for the rows, registers
// saved) it cost short products more than their sums - a 6 x 32 tile with K
// = 32 spends about 200 cycles on its FMAs - and the 6 x 32 kernel, two calls
// per tile, was then slower than the 6 x 16 one on them (paired, one thread
// of an Intel Xeon: inlined, the small-data GAN iteration 4.7% faster with
// the 6 x 32 kernel in every product, 0.8% under dcgan__wide_min_k's rule;
// the classifier 1.2%, the DCGAN iteration 1.7%, the generator 2.2%, the
// 6 x 16 kernel alone 1.8% on the small-data iteration; bench/RESULTS.md,
// session 22).
__attribute__((target("avx512f"), always_inline))
static inline void dcgan__tile_store_avx512(const __m512 *rows, float *c, int ldc, int mr, int nr, float alpha,
                                            float beta, const float *bias, int relu) {
    if (mr == DCGAN__MR && nr == DCGAN__NR) {
        const __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
        for (int i = 0; i < DCGAN__MR; i++) {
            float *ci = c + (size_t)i * ldc;
            __m512 v;
            if (beta == 0.0f) {
                v = _mm512_mul_ps(al, rows[i]);
            } else {
                __m512 old = _mm512_loadu_ps(ci);
                if (beta != 1.0f) old = _mm512_mul_ps(be, old);
                v = _mm512_fmadd_ps(al, rows[i], old);
            }
            // the epilogue's operations, in its order: + bias, then v where v > 0,
            // else 0 (so NaN -> 0 and -0 -> 0, as !(v > 0) does)
            if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[i]));
            if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
            _mm512_storeu_ps(ci, v);
        }
        return;
    }
    float acc[DCGAN__MR * DCGAN__NR];
    for (int i = 0; i < DCGAN__MR; i++) _mm512_storeu_ps(acc + i * DCGAN__NR, rows[i]);
    dcgan__tile_write(c, ldc, mr, nr, acc, alpha, beta);
    if (bias || relu) dcgan__gemm_epilogue(c, ldc, 0, mr, 0, nr, bias, relu);
}

// Fetches the two C tiles of a wide kernel (below) into the cache while it
// sums, as the 6 x 16 kernels do for their one: each row's first and last float.
static inline void dcgan__prefetch_two_tiles(const float *c0, const float *c1, int ldc, int mr, int nr1) {
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c0 + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c0 + (size_t)i * ldc + DCGAN__NR - 1), _MM_HINT_T0);
        _mm_prefetch((const char *)(c1 + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c1 + (size_t)i * ldc + nr1 - 1), _MM_HINT_T0);
    }
}

// Two tiles side by side: the MR rows of a against two panels of B, the first
// full (NR columns, at b) and the second nr1 columns wide (at b + NR * kc, the
// next packed panel), written at c0 and c1 (the columns need not be adjacent in
// C: a convolution's output may go on in the next image). 12 sums in registers,
// per k 2 loads of b, 6 broadcasts of a and 12 FMAs.
// Why: a fused multiply-add's result is ready 4 cycles after it starts, and a
// core with two full-width FMA units (many Intel Xeons since Skylake-SP, AMD's
// Zen 5 EPYCs) starts two per cycle, so 8 independent sums must be in flight
// to keep both busy.
// The 6 x 16 kernel has 6: at most 6/8 of the peak (on panels in L1, one core
// of an Intel Xeon: at most 125 GFLOP/s, 71% of the core's 176, and this one up
// to 164, 93%: bench/kernel_tile.c, bench/RESULTS.md session 20); here 12.
// Every entry of C is the same sum over k, in the same
// order, as with the 6 x 16 kernel: the bits do not change, whichever kernel a
// tile takes.
__attribute__((target("avx512f")))
static void dcgan__kernel_avx512_wide(int kc, const float *a, const float *b, float alpha, float beta,
                                      float *c0, float *c1, int ldc, int mr, int nr1, const float *bias,
                                      int relu) {
    const float *b1 = b + (size_t)DCGAN__NR * kc;
    __m512 c00 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps();
    __m512 c01 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c31 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    dcgan__prefetch_two_tiles(c0, c1, ldc, mr, nr1);
    for (int k = 0; k < kc; k++, a += DCGAN__MR, b += DCGAN__NR, b1 += DCGAN__NR) {
        const __m512 bk0 = _mm512_loadu_ps(b), bk1 = _mm512_loadu_ps(b1);
        __m512 ai;
        ai = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(ai, bk0, c00); c01 = _mm512_fmadd_ps(ai, bk1, c01);
        ai = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(ai, bk0, c10); c11 = _mm512_fmadd_ps(ai, bk1, c11);
        ai = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(ai, bk0, c20); c21 = _mm512_fmadd_ps(ai, bk1, c21);
        ai = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(ai, bk0, c30); c31 = _mm512_fmadd_ps(ai, bk1, c31);
        ai = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(ai, bk0, c40); c41 = _mm512_fmadd_ps(ai, bk1, c41);
        ai = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(ai, bk0, c50); c51 = _mm512_fmadd_ps(ai, bk1, c51);
    }
    const __m512 left[DCGAN__MR] = {c00, c10, c20, c30, c40, c50};
    const __m512 right[DCGAN__MR] = {c01, c11, c21, c31, c41, c51};
    dcgan__tile_store_avx512(left, c0, ldc, mr, DCGAN__NR, alpha, beta, bias, relu);
    dcgan__tile_store_avx512(right, c1, ldc, mr, nr1, alpha, beta, bias, relu);
}
#endif

// --- bfloat16 products (dcgan_set_matmul_precision)
//
// bfloat16 is a float32 without the low 16 bits of its significand: the same
// 8-bit exponent, 8 significant bits (about 3 decimal digits). AVX512_BF16's
// VDPBF16PS takes 16 lanes of bfloat16 pairs from each operand and adds each
// lane's two products into a float32 sum (Intel SDM, VDPBF16PS): per
// instruction twice the multiply-adds of a float32 FMA of the same width. A
// product of two bfloat16 is exact in float32, so what is lost is the rounding
// of the operands (and the float32 sums, as ever). The blocked GEMM packs its
// panels in float32 as always, rewrites them as bfloat16 pairs, and runs the
// kernel below on them.

// The bfloat16 nearest to x, ties to even (what VCVTNE2PS2BF16 computes for
// all but float32's subnormals, which it makes 0); NaN stays a quiet NaN.
DCGAN__INTERNAL uint16_t dcgan__bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

// A packed panel (rows values per k, k-major, kc deep: one of dcgan__pack_a's
// MR-row panels or of the NR-column panels of B) rewritten in place as the
// bfloat16 kernel reads it: (kc + 1) / 2 steps of rows 32-bit words, word
// (p, i) holding the bfloat16 of entry (2p, i) in its low half and of entry
// (2p + 1, i) in its high half (0 past kc). Word (p, i) is written after its
// two entries are read, and no entry read later lies at or before it.
DCGAN__INTERNAL void dcgan__panel_to_bf16(float *panel, int rows, int kc) {
    for (int p = 0; p < (kc + 1) / 2; p++)
        for (int i = 0; i < rows; i++) {
            const uint32_t lo = dcgan__bf16_round(panel[(size_t)2 * p * rows + i]);
            const uint32_t hi = 2 * p + 1 < kc ? dcgan__bf16_round(panel[(size_t)(2 * p + 1) * rows + i]) : 0u;
            const uint32_t word = lo | hi << 16;
            memcpy(&panel[(size_t)p * rows + i], &word, sizeof word);
        }
}

#ifdef DCGAN__HAVE_BF16_KERNEL
static int dcgan__have_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}

// dcgan__panel_to_bf16 for a panel of NR = 16 columns, one k pair per step:
// VCVTNE2PS2BF16 rounds rows 2p and 2p + 1 into one vector (row 2p's 16 values
// in its low half), and a permutation interleaves the halves into pairs. The
// same words as the loop's but for float32 subnormals, which the instruction
// makes 0 (see dcgan__bf16_round). VDPBF16PS treats bfloat16 subnormal inputs
// as 0 (Intel SDM, VDPBF16PS), so the products do not change: subnormal rows of
// A times 1e10 came out 0 from either panel (session 24's audit).
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void dcgan__panel16_to_bf16(float *panel, int kc) {
    static const uint16_t pairs[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i order = _mm512_loadu_si512((const void *)pairs);
    for (int p = 0; p < (kc + 1) / 2; p++) {
        const __m512 lo = _mm512_loadu_ps(panel + (size_t)2 * p * 16);
        const __m512 hi = 2 * p + 1 < kc ? _mm512_loadu_ps(panel + (size_t)(2 * p + 1) * 16) : _mm512_setzero_ps();
        const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512((void *)(panel + (size_t)p * 16), _mm512_permutexvar_epi16(order, both));
    }
}

// The kernel's contract (see dcgan__kernel_portable) on panels in bfloat16
// pairs: (kc + 1) / 2 steps, each one VDPBF16PS per row of the tile. Its start
// (six zeroed rows, the C prefetch) repeats dcgan__kernel_avx512's on purpose:
// moved into a shared helper, inlined, the float32 sgemm ran 17% slower
// (bench/RESULTS.md, session 14).
__attribute__((target("avx512f,avx512bf16")))
static void dcgan__kernel_bf16_avx512(int kc, const float *a, const float *b, float alpha, float beta,
                                      float *c, int ldc, int mr, int nr, const float *bias, int relu) {
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    __m512 c3 = _mm512_setzero_ps(), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + DCGAN__NR - 1), _MM_HINT_T0);
    }
    for (int p = 0; p < (kc + 1) / 2; p++, a += DCGAN__MR, b += DCGAN__NR) {
        const __m512bh bp = (__m512bh)_mm512_loadu_ps(b);   // the pairs (k, k + 1) of 16 columns
        c0 = _mm512_dpbf16_ps(c0, (__m512bh)_mm512_set1_ps(a[0]), bp);   // a[i]: row i's pair, as 32 bits
        c1 = _mm512_dpbf16_ps(c1, (__m512bh)_mm512_set1_ps(a[1]), bp);
        c2 = _mm512_dpbf16_ps(c2, (__m512bh)_mm512_set1_ps(a[2]), bp);
        c3 = _mm512_dpbf16_ps(c3, (__m512bh)_mm512_set1_ps(a[3]), bp);
        c4 = _mm512_dpbf16_ps(c4, (__m512bh)_mm512_set1_ps(a[4]), bp);
        c5 = _mm512_dpbf16_ps(c5, (__m512bh)_mm512_set1_ps(a[5]), bp);
    }
    const __m512 rows[DCGAN__MR] = {c0, c1, c2, c3, c4, c5};
    dcgan__tile_store_avx512(rows, c, ldc, mr, nr, alpha, beta, bias, relu);
}

// The same on two panels at once (the contract of dcgan__kernel_avx512_wide,
// and the reason: 12 sums in flight rather than 6), panels in bfloat16 pairs.
// Its zeroed sums repeat the float32 one's on purpose, as above.
__attribute__((target("avx512f,avx512bf16")))
static void dcgan__kernel_bf16_avx512_wide(int kc, const float *a, const float *b, float alpha, float beta,
                                           float *c0, float *c1, int ldc, int mr, int nr1, const float *bias,
                                           int relu) {
    const float *b1 = b + (size_t)DCGAN__NR * kc;   // (a panel keeps its float32 place when rewritten)
    __m512 c00 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps();
    __m512 c01 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c31 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    dcgan__prefetch_two_tiles(c0, c1, ldc, mr, nr1);
    for (int p = 0; p < (kc + 1) / 2; p++, a += DCGAN__MR, b += DCGAN__NR, b1 += DCGAN__NR) {
        const __m512bh bp0 = (__m512bh)_mm512_loadu_ps(b), bp1 = (__m512bh)_mm512_loadu_ps(b1);
        __m512bh ai;
        ai = (__m512bh)_mm512_set1_ps(a[0]);
        c00 = _mm512_dpbf16_ps(c00, ai, bp0), c01 = _mm512_dpbf16_ps(c01, ai, bp1);
        ai = (__m512bh)_mm512_set1_ps(a[1]);
        c10 = _mm512_dpbf16_ps(c10, ai, bp0), c11 = _mm512_dpbf16_ps(c11, ai, bp1);
        ai = (__m512bh)_mm512_set1_ps(a[2]);
        c20 = _mm512_dpbf16_ps(c20, ai, bp0), c21 = _mm512_dpbf16_ps(c21, ai, bp1);
        ai = (__m512bh)_mm512_set1_ps(a[3]);
        c30 = _mm512_dpbf16_ps(c30, ai, bp0), c31 = _mm512_dpbf16_ps(c31, ai, bp1);
        ai = (__m512bh)_mm512_set1_ps(a[4]);
        c40 = _mm512_dpbf16_ps(c40, ai, bp0), c41 = _mm512_dpbf16_ps(c41, ai, bp1);
        ai = (__m512bh)_mm512_set1_ps(a[5]);
        c50 = _mm512_dpbf16_ps(c50, ai, bp0), c51 = _mm512_dpbf16_ps(c51, ai, bp1);
    }
    const __m512 left[DCGAN__MR] = {c00, c10, c20, c30, c40, c50};
    const __m512 right[DCGAN__MR] = {c01, c11, c21, c31, c41, c51};
    dcgan__tile_store_avx512(left, c0, ldc, mr, DCGAN__NR, alpha, beta, bias, relu);
    dcgan__tile_store_avx512(right, c1, ldc, mr, nr1, alpha, beta, bias, relu);
}
#endif

// The bfloat16 kernel where this build and CPU have it, else NULL.
DCGAN__INTERNAL dcgan__kernel_fn dcgan__bf16_kernel(void) {
#ifdef DCGAN__HAVE_BF16_KERNEL
    if (dcgan__have_bf16()) return dcgan__kernel_bf16_avx512;
#endif
    return NULL;
}

// Its two-panel version, where this build and CPU have it, else NULL.
DCGAN__INTERNAL dcgan__kernel2_fn dcgan__bf16_wide_kernel(void) {
#ifdef DCGAN__HAVE_BF16_KERNEL
    if (dcgan__have_bf16()) return dcgan__kernel_bf16_avx512_wide;
#endif
    return NULL;
}

// count panels of rows values per k, kc deep, one after another from base (a
// slice of A or B as the loop nest packs it), rewritten as bfloat16 pairs.
// Only where dcgan__bf16_kernel() is not NULL (the CPU has AVX512_BF16): the
// loop nest asks once per product, not here once per panel.
DCGAN__INTERNAL void dcgan__panels_to_bf16(float *base, int count, int rows, int kc) {
    DCGAN_ASSERT(dcgan__bf16_kernel() != NULL);
    for (int t = 0; t < count; t++) {
        float *panel = base + (size_t)t * rows * kc;
#ifdef DCGAN__HAVE_BF16_KERNEL
        if (rows == 16) {
            dcgan__panel16_to_bf16(panel, kc);
            continue;
        }
#endif
        dcgan__panel_to_bf16(panel, rows, kc);
    }
}

// The process-wide precision of the products (dcgan_set_matmul_precision).
static dcgan_matmul_precision dcgan__matmul_precision = DCGAN_MATMUL_FLOAT32;

DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__amx_tiles = 1;   // (unused without AMX)
#ifdef DCGAN__HAVE_AMX_KERNEL
static int dcgan__amx_lent;   // dcgan_set_matmul_precision got the tiles from Linux

// Whether this CPU has AMX-TILE and AMX-BF16 (CPUID leaf 7, EDX bits 24 and
// 22: Intel SDM vol. 2, CPUID) and Linux lends this process the tiles' 8 KB of
// state, which it does only to a process that asks: arch_prctl(
// ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18), Linux 5.16 and later
// (the kernel's Documentation/arch/x86/xstate.rst). Asked with the syscall
// instruction itself (arch_prctl is call 158 on x86-64): C99's <unistd.h>
// declares no syscall(). Without the permission the first tile instruction
// would kill the process.
static int dcgan__amx_request(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 24)) || !(edx & (1u << 22)))
        return 0;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(158L), "D"(0x1023L), "S"(18L) : "rcx", "r11", "memory");
    return ret == 0;
}

// Whether bfloat16 products take the tiles: where the CPU has them and Linux
// lent them (dcgan_set_matmul_precision asked), unless the tests switched them off.
static int dcgan__amx_on(void) { return dcgan__amx_tiles && dcgan__amx_lent; }
#endif

// (for the tests and bench/bench.c)
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__amx_granted(void) {
#ifdef DCGAN__HAVE_AMX_KERNEL
    return dcgan__amx_lent;
#else
    return 0;
#endif
}

DCGAN_API dcgan_status dcgan_set_matmul_precision(dcgan_matmul_precision precision) {
    if (precision != DCGAN_MATMUL_FLOAT32 && precision != DCGAN_MATMUL_BFLOAT16)
        return DCGAN__FAIL(DCGAN_ERR_UNSUPPORTED, "precision %d is neither DCGAN_MATMUL_FLOAT32 (0) nor "
                           "DCGAN_MATMUL_BFLOAT16 (1)", (int)precision);
    if (precision == DCGAN_MATMUL_BFLOAT16 && !dcgan__bf16_kernel()) {
#ifdef DCGAN__HAVE_BF16_KERNEL
        return DCGAN__FAIL(DCGAN_ERR_UNSUPPORTED, "bfloat16 products need a CPU with AVX512_BF16; this one "
                           "has none (products stay float32)");
#else
        return DCGAN__FAIL(DCGAN_ERR_UNSUPPORTED, "bfloat16 products: this build has no AVX512_BF16 kernel "
                           "(DCGAN_NO_SIMD, DCGAN_NO_AVX512, or a compiler older than GCC 10 / clang 9); "
                           "products stay float32");
#endif
    }
#ifdef DCGAN__HAVE_AMX_KERNEL
    if (precision == DCGAN_MATMUL_BFLOAT16 && !dcgan__amx_lent) dcgan__amx_lent = dcgan__amx_request();
#endif
    dcgan__matmul_precision = precision;
    return DCGAN_OK;
}

DCGAN_API dcgan_matmul_precision dcgan_get_matmul_precision(void) { return dcgan__matmul_precision; }

DCGAN_API int dcgan_matmul_on_amx(void) {
#ifdef DCGAN__HAVE_AMX_KERNEL
    return dcgan__matmul_precision == DCGAN_MATMUL_BFLOAT16 && dcgan__amx_on();
#else
    return 0;
#endif
}

#ifdef DCGAN__HAVE_AVX2_KERNEL
// Whether this CPU can run the AVX2 + FMA versions. Every fast routine asks on
// each call (in its pick function): the answer costs two flag reads.
static int dcgan__have_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

// A kernel by name: "portable", "avx2", "avx512"; NULL where this build or
// this CPU does not have it (the tests run each one that exists).
DCGAN__INTERNAL dcgan__kernel_fn dcgan__kernel_get(const char *name) {
    if (strcmp(name, "portable") == 0) return dcgan__kernel_portable;
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (strcmp(name, "avx2") == 0 && dcgan__have_avx2_fma()) return dcgan__kernel_avx2;
#endif
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (strcmp(name, "avx512") == 0 && dcgan__have_avx2_fma() && __builtin_cpu_supports("avx512f"))
        return dcgan__kernel_avx512;
#endif
    return NULL;
}

// Picks the kernel: AVX-512F where the CPU has it, else AVX2 + FMA, else the loops.
static dcgan__kernel_fn dcgan__pick_kernel(void) {
    dcgan__kernel_fn k = dcgan__kernel_get("avx512");
    if (!k) k = dcgan__kernel_get("avx2");
    return k ? k : dcgan__kernel_portable;
}

// The two-tile kernel (6 x 32), where this build and CPU have AVX-512F.
DCGAN__INTERNAL dcgan__kernel2_fn dcgan__wide_kernel_get(void) {
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (dcgan__kernel_get("avx512")) return dcgan__kernel_avx512_wide;
#endif
    return NULL;
}

// Whether products pair their panels for the two-tile kernel (6 x 32: 12 sums
// in flight, each 16 wide). 2, the default: where a 512-bit FMA issues as fast
// as a 256-bit one (dcgan__zmm_full_width below), that is where the CPU has two
// full-width 512-bit FMA units and only more sums in flight keep them busy.
// Measured to pay on two such CPUs: an Intel Xeon (one thread: the 1536^3
// product 0.0726 -> 0.0541 s, the DCGAN iteration 1.27x faster, the classifier
// step 1.28x, nothing slower: bench/RESULTS.md, session 20) and an AMD EPYC of
// family 26 (Zen 5; session 32). CPUs that run a 512-bit FMA as two 256-bit
// halves (AMD's Zen 4 EPYCs) or have one 512-bit unit keep the 6 x 16 kernel:
// 4 sums in flight (of 2 halves each) already fill them. (Until session 32
// the rule was "every Intel CPU": it left the Zen 5 EPYC on the 6 x 16 kernel,
// at 74% of its FMA peak on panels in L1 against 96% for the 6 x 32 one.)
// 1: wherever the CPU has AVX-512F, 0: never (the tests compare products made
// both ways: the sums are the same, in the same order, either way).
DCGAN__INTERNAL int dcgan__wide_kernels = 2;

// ... and only in products with a K of at least this many values (a product
// whose K is cut among the threads, dcgan__sgemm_ksplit, decides per slab). Products
// with a short K - a transposed convolution's, whose K is its input channels,
// and the input gradient's, whose K is the output channels - mostly write C,
// and there the 6 x 32 kernel was slower than the 6 x 16 one (one thread of an
// Intel Xeon, bench --pair, runs of both in alternation: the small-data GAN
// iteration 4.6% faster with the 6 x 16 kernel where K <= 128 than with the
// 6 x 32 kernel everywhere, the generator 4.3%, the DCGAN iteration 3.5%, the
// classifier and Inception unchanged; bench/RESULTS.md, session 22). Most of
// that was the tile writes' calls (see dcgan__tile_store_avx512); with them
// inlined the rule still made the small-data iteration 2-4% and the
// generator 2.5% faster, and left the DCGAN iteration and the classifier
// within the noise (0.97-1.02).
DCGAN__INTERNAL int dcgan__wide_min_k = 129;

#ifdef DCGAN__HAVE_AVX512_KERNEL
// Whether this core issues a 512-bit FMA as fast as a 256-bit one. No CPUID
// flag tells (AMD's leaf 8000_001A reports FP256 for a 256-bit datapath, but
// nothing for 512 bits, and hypervisors may hide it), so it is measured once,
// the first time a product asks: rounds of 10 independent FMA chains, each in
// a variable of its own so that the compiler keeps it in a register (an array
// stays in memory at -O2, and its loads and stores, not the FMAs, would be
// timed), more than enough to cover the latency (4 cycles x 2 units). The same
// count of instructions runs in ymm and in zmm registers, timed in time-stamp
// counter ticks (a constant rate, whatever the core's clock). Full width: the
// two take about the same ticks; halves, or one 512-bit unit: zmm takes about
// twice as long. The verdict is "full" below 1.5x. The zmm loop runs twice
// untimed first (Intel cores run 512-bit work slowly for some microseconds
// while they power its upper lanes up), then each loop is timed 5 times,
// alternating, and the fastest of each kept: a timer interrupt only makes one
// timing slow; a probe that lands near the border is taken again (up to 3,
// dcgan__zmm_measure). Measured on the Zen 5 EPYC of bench/RESULTS.md session 32.
// Where the CPU's maker and family settle the question, they answer instead
// (dcgan__zmm_halves_known below): on the Zen 4 EPYC of session 43 the probe
// said "full" in 1 of 42 processes of `make bench` (ticks 15860 and 23478
// against 7046 and 14014 in the others: the whole probe ran slowly, the core
// shared with something else), and there the 6 x 32 kernel made the generator
// 10% and the DCGAN iteration 3% slower for that process's whole life.
#define DCGAN__ZMM_ROUNDS 2000

// The loops read their addend from *io and write their result there: volatile
// accesses, which the compiler keeps in order with the counter's readings, so
// the work stays between them.
__attribute__((target("avx2,fma")))
static void dcgan__fma_chains_ymm(volatile float *io) {
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(*io);
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(1.0f), a2 = _mm256_set1_ps(2.0f);
    __m256 a3 = _mm256_set1_ps(3.0f), a4 = _mm256_set1_ps(4.0f), a5 = _mm256_set1_ps(5.0f);
    __m256 a6 = _mm256_set1_ps(6.0f), a7 = _mm256_set1_ps(7.0f), a8 = _mm256_set1_ps(8.0f);
    __m256 a9 = _mm256_set1_ps(9.0f);
    for (int r = 0; r < DCGAN__ZMM_ROUNDS; r++) {
        a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
        a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
        a9 = _mm256_fmadd_ps(a9, b, c);
    }
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    a0 = _mm256_add_ps(a0, _mm256_add_ps(a8, a9));
    float out[8];
    _mm256_storeu_ps(out, a0);
    *io = out[0] * 1e-4f;   // (the sums are used)
}

__attribute__((target("avx512f")))
static void dcgan__fma_chains_zmm(volatile float *io) {
    const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(*io);
    __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(1.0f), a2 = _mm512_set1_ps(2.0f);
    __m512 a3 = _mm512_set1_ps(3.0f), a4 = _mm512_set1_ps(4.0f), a5 = _mm512_set1_ps(5.0f);
    __m512 a6 = _mm512_set1_ps(6.0f), a7 = _mm512_set1_ps(7.0f), a8 = _mm512_set1_ps(8.0f);
    __m512 a9 = _mm512_set1_ps(9.0f);
    for (int r = 0; r < DCGAN__ZMM_ROUNDS; r++) {
        a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c); a2 = _mm512_fmadd_ps(a2, b, c);
        a3 = _mm512_fmadd_ps(a3, b, c); a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c);
        a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c); a8 = _mm512_fmadd_ps(a8, b, c);
        a9 = _mm512_fmadd_ps(a9, b, c);
    }
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    a0 = _mm512_add_ps(a0, _mm512_add_ps(a8, a9));
    float out[16];   // (a store: GCC 12's C++ warns on _mm512_castps512_ps128)
    _mm512_storeu_ps(out, a0);
    *io = out[0] * 1e-4f;
}
#endif

// The fastest of 5 timings of each loop, in ticks (ticks[0] ymm, ticks[1] zmm);
// returns 0, ticks untouched, where this build or CPU has no AVX-512F kernel.
// (__builtin_ia32_rdtsc: the RDTSC instruction, in every GCC and clang that
// builds the kernels; <immintrin.h> declares __rdtsc only since GCC 11.)
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_probe(unsigned long long ticks[2]) {
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (!dcgan__kernel_get("avx512")) return 0;
    volatile float io = 0.5f;
    ticks[0] = ticks[1] = ~0ull;
    dcgan__fma_chains_zmm(&io);
    dcgan__fma_chains_zmm(&io);
    for (int t = 0; t < 5; t++) {
        const unsigned long long t0 = __builtin_ia32_rdtsc();
        dcgan__fma_chains_ymm(&io);
        const unsigned long long t1 = __builtin_ia32_rdtsc();
        dcgan__fma_chains_zmm(&io);
        const unsigned long long t2 = __builtin_ia32_rdtsc();
        if (t1 - t0 < ticks[0]) ticks[0] = t1 - t0;
        if (t2 - t1 < ticks[1]) ticks[1] = t2 - t1;
    }
    return 1;
#else
    (void)ticks;
    return 0;
#endif
}

// 1 where the CPU's maker and family, from CPUID leaf 0 (EBX, EDX, ECX: the
// maker's name) and leaf 1 (EAX: the family, Intel SDM vol. 2A and AMD APM
// vol. 3, CPUID: the base family in bits 8-11, plus the extended family in
// bits 20-27 when the base is 15), say that 512-bit FMAs run as two 256-bit
// halves: AMD's family 25 (19h), whose cores with AVX-512F are all Zen 4,
// which executes a 512-bit instruction on its 256-bit units in two halves
// (AMD's Software Optimization Guide for the Zen 4 microarchitecture,
// publication 57647; measured here: zmm/ymm 1.87-2.22x in 1,900 probes,
// bench/RESULTS.md session 43). 0: not known, the probe decides. (Zen 3, the
// same family, has no AVX-512F and never asks.) Any build: the tests call it.
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_halves_known(unsigned vendor_ebx, unsigned vendor_edx,
                                                             unsigned vendor_ecx, unsigned leaf1_eax) {
    // "AuthenticAMD", four characters per register, the first in the lowest byte
    const int amd = vendor_ebx == 0x68747541u && vendor_edx == 0x69746e65u && vendor_ecx == 0x444d4163u;
    unsigned family = (leaf1_eax >> 8) & 0xFu;
    if (family == 0xFu) family += (leaf1_eax >> 20) & 0xFFu;
    return amd && family == 25;
}

// The verdict on two timings: zmm under 1.5 times ymm's ticks (any build; in
// one without AVX-512F kernels only the tests and bench call it).
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_verdict(unsigned long long ymm_ticks,
                                                        unsigned long long zmm_ticks) {
    return 2 * zmm_ticks < 3 * ymm_ticks;
}

// The timings the verdict rests on, from up to 3 probes (probe: dcgan__zmm_probe,
// or a test's script): a probe whose zmm ticks fall between 1.25 and 1.75 times
// its ymm ticks - neither about 1x (full width) nor about 2x (halves) - is taken
// again; the first probe outside that band is kept, and where all 3 fall inside
// it, the one with the fewest ymm ticks (the least slowed by whatever shared the
// core: the probe that misjudged in session 43 read 1.48x at 2.25 times the
// usual ymm ticks). Returns how many probes ran, 0 where the first returned 0
// (no AVX-512F kernel), ticks then untouched. Any build: the tests call it.
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_measure(int (*probe)(unsigned long long ticks[2]),
                                                        unsigned long long ticks[2]) {
    unsigned long long t[2];
    int runs = 0;
    while (runs < 3 && probe(t)) {
        runs++;
        const int border = 4 * t[1] > 5 * t[0] && 4 * t[1] < 7 * t[0];
        if (runs == 1 || !border || t[0] < ticks[0]) ticks[0] = t[0], ticks[1] = t[1];
        if (!border) break;
    }
    return runs;
}

// dcgan__zmm_halves_known for this CPU (0 where CPUID has no leaf 1, or
// this compiler or CPU has no CPUID: GCC and clang on x86 do).
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_halves_here(void) {
#ifdef DCGAN__HAVE_CPUID
    unsigned max_leaf, ebx, ecx, edx, eax1, unused_b, unused_c, unused_d;
    if (!__get_cpuid(0, &max_leaf, &ebx, &ecx, &edx) || max_leaf < 1 ||
        !__get_cpuid(1, &eax1, &unused_b, &unused_c, &unused_d))
        return 0;
    return dcgan__zmm_halves_known(ebx, edx, ecx, eax1);
#else
    return 0;
#endif
}

// The answer for this process - 2 full width, 1 not, 0 not yet measured - and
// the timings it rests on (for the tests and bench/bench.c; the tests set the
// answer back to 0 to measure again). Read and written with relaxed atomic
// loads and stores (GCC and clang built-ins), so two threads asking first at
// once both measure, and neither reads half a write; they agree but for a
// timing on the border, and either kernel gives the same bits.
DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_answer;
DCGAN__REFERENCE DCGAN__INTERNAL unsigned long long dcgan__zmm_ticks[2];

DCGAN__REFERENCE DCGAN__INTERNAL int dcgan__zmm_full_width(void) {
#ifdef DCGAN__HAVE_AVX512_KERNEL
    int answer = __atomic_load_n(&dcgan__zmm_answer, __ATOMIC_RELAXED);
    if (answer == 0) {
        unsigned long long ticks[2] = {0, 0};
        // the probe runs even where the maker and family answer (bench prints its ticks)
        const int measured = dcgan__zmm_measure(dcgan__zmm_probe, ticks);
        answer = measured && !dcgan__zmm_halves_here() && dcgan__zmm_verdict(ticks[0], ticks[1]) ? 2 : 1;
        __atomic_store_n(&dcgan__zmm_ticks[0], ticks[0], __ATOMIC_RELAXED);
        __atomic_store_n(&dcgan__zmm_ticks[1], ticks[1], __ATOMIC_RELAXED);
        __atomic_store_n(&dcgan__zmm_answer, answer, __ATOMIC_RELAXED);
    }
    return answer == 2;
#else
    return 0;
#endif
}

// bf16: the bfloat16 one (dcgan__bf16_wide_kernel), by the same rule.
static dcgan__kernel2_fn dcgan__pick_wide_kernel(int bf16) {
    if (dcgan__wide_kernels == 0) return NULL;
    dcgan__kernel2_fn wide = bf16 ? dcgan__bf16_wide_kernel() : dcgan__wide_kernel_get();
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (wide && dcgan__wide_kernels == 2 && !dcgan__zmm_full_width()) return NULL;
#endif
    return wide;
}

// A full panel of MR rows of A as they lie (rows[i] is row i's value k0):
// dst[k * MR + i] = rows[i][k], MR streams read side by side.
static void dcgan__pack_rows(float *dst, const float *const *rows, int kc) {
    for (int k = 0; k < kc; k++)
        for (int i = 0; i < DCGAN__MR; i++) *dst++ = rows[i][k];
}

#if defined(DCGAN__HAVE_AVX512_KERNEL) && DCGAN__MR == 6
// The same panel with AVX-512F, 16 values of k at a time: the six rows' 16
// values are loaded into six registers, and the 96 floats they become are six
// registers again, written in order. Float j of output register o is float
// 16o + j of the 96, which is row (16o + j) mod 6's value (16o + j) / 6: each
// output register takes the lanes (16o + j) / 6 of all six rows (VPERMPS with
// one index vector) and keeps, from row i, the lanes whose row is i (a mask).
// (Workloads 0-3.5% faster on an Intel Xeon, the product 1536^3 most; most of
// the packing's time is the first touch of A: bench/RESULTS.md, session 22.)
// The tables, written out (tests/test_layers.c's pack_simd checks them):
// output o's lanes, (16o + j) / 6 for j = 0..15 ...
static const int32_t dcgan__pack_lanes[6][16] = {
    {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2},
    {2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5},
    {5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7},
    {8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10},
    {10, 10, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 13, 13},
    {13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15}};
// ... and for output o and row i, the mask of the lanes j with (16o + j) mod 6 == i
// (bit j: lane j; 48 floats are 8 whole groups of 6, so outputs 3-5 repeat 0-2)
static const __mmask16 dcgan__pack_from[6][6] = {{0x1041, 0x2082, 0x4104, 0x8208, 0x0410, 0x0820},
                                                 {0x4104, 0x8208, 0x0410, 0x0820, 0x1041, 0x2082},
                                                 {0x0410, 0x0820, 0x1041, 0x2082, 0x4104, 0x8208},
                                                 {0x1041, 0x2082, 0x4104, 0x8208, 0x0410, 0x0820},
                                                 {0x4104, 0x8208, 0x0410, 0x0820, 0x1041, 0x2082},
                                                 {0x0410, 0x0820, 0x1041, 0x2082, 0x4104, 0x8208}};

__attribute__((target("avx512f")))
static void dcgan__pack_rows_avx512(float *dst, const float *const *rows, int kc) {
    int k = 0;
    for (; k + 16 <= kc; k += 16, dst += 96) {
        const __m512 r0 = _mm512_loadu_ps(rows[0] + k), r1 = _mm512_loadu_ps(rows[1] + k);
        const __m512 r2 = _mm512_loadu_ps(rows[2] + k), r3 = _mm512_loadu_ps(rows[3] + k);
        const __m512 r4 = _mm512_loadu_ps(rows[4] + k), r5 = _mm512_loadu_ps(rows[5] + k);
        for (int o = 0; o < 6; o++) {
            const __m512i lane = _mm512_loadu_si512(dcgan__pack_lanes[o]);
            const __mmask16 *from = dcgan__pack_from[o];
            __m512 v = _mm512_maskz_permutexvar_ps(from[0], lane, r0);
            v = _mm512_mask_permutexvar_ps(v, from[1], lane, r1);
            v = _mm512_mask_permutexvar_ps(v, from[2], lane, r2);
            v = _mm512_mask_permutexvar_ps(v, from[3], lane, r3);
            v = _mm512_mask_permutexvar_ps(v, from[4], lane, r4);
            v = _mm512_mask_permutexvar_ps(v, from[5], lane, r5);
            _mm512_storeu_ps(dst + 16 * o, v);
        }
    }
    if (k < kc) {   // the last kc mod 16 values: the loop above
        const float *rest[6] = {rows[0] + k, rows[1] + k, rows[2] + k, rows[3] + k, rows[4] + k, rows[5] + k};
        dcgan__pack_rows(dst, rest, kc - k);
    }
}
#endif

// dcgan__pack_simd: 1 (the default) packs full panels of rows of A with
// AVX-512F where the CPU has it, 0 with the loop (tests compare the two).
#if defined(DCGAN__HAVE_AVX512_KERNEL) || defined(DCGAN_TEST_INTERNALS)   // (unused without AVX-512)
DCGAN__INTERNAL int dcgan__pack_simd = 1;
#endif
typedef void (*dcgan__pack_rows_fn)(float *dst, const float *const *rows, int kc);
static dcgan__pack_rows_fn dcgan__pick_pack_rows(void) {
#if defined(DCGAN__HAVE_AVX512_KERNEL) && DCGAN__MR == 6
    if (dcgan__pack_simd && dcgan__kernel_get("avx512")) return dcgan__pack_rows_avx512;
#endif
    return dcgan__pack_rows;
}

// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of op(A) into MR-row panels,
// zero-padding the last panel.
static void dcgan__pack_a(float *base, int trans_a, const float *A, int lda, int i0, int mc,
                          int k0, int kc) {
    const dcgan__pack_rows_fn pack_rows = trans_a ? NULL : dcgan__pick_pack_rows();
    for (int p = 0; p < mc; p += DCGAN__MR) {
        int mr = mc - p < DCGAN__MR ? mc - p : DCGAN__MR;
        float *dst = base + (size_t)p * kc;   // each panel is MR x kc
        if (mr == DCGAN__MR && !trans_a) {   // a full panel of rows of A
            const float *rows[DCGAN__MR];
            for (int i = 0; i < DCGAN__MR; i++) rows[i] = &A[(size_t)(i0 + p + i) * lda + (size_t)k0];
            pack_rows(dst, rows, kc);
            continue;
        }
        if (mr == DCGAN__MR) {
            // op(A) = A^T: the panel's MR values of each k are contiguous in A
            for (int k = 0; k < kc; k++) {
                memcpy(dst, &A[(size_t)(k0 + k) * lda + (size_t)(i0 + p)], DCGAN__MR * sizeof(float));
                dst += DCGAN__MR;
            }
            continue;
        }
        for (int k = 0; k < kc; k++) {
            for (int i = 0; i < DCGAN__MR; i++) {
                float v = 0.0f;
                if (i < mr) {
                    size_t r = (size_t)(i0 + p + i), q = (size_t)(k0 + k);
                    v = trans_a ? A[q * lda + r] : A[r * lda + q];
                }
                *dst++ = v;
            }
        }
    }
}

// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of op(B) into NR-column panels.
// B as stored: each row of the slab goes, NR floats at a time, into every
// panel (reading a panel's NR columns down all kc rows instead touched kc
// cache lines per panel: 1.5x slower where B is wide, bench/RESULTS.md).
// B^T: NR rows of B become a panel's columns, 16 values of each row (a cache
// line) at a time, with the next lines fetched ahead: rows a power of two
// apart share one set of the L1 cache, and the hardware prefetcher does not
// follow 16 of them.
static void dcgan__pack_b(float *base, int trans_b, const float *B, int ldb, int k0, int kc,
                          int j0, int nc) {
    if (!trans_b) {
        for (int k = 0; k < kc; k++) {
            const float *src = &B[(size_t)(k0 + k) * ldb + (size_t)j0];
            float *dst = base + (size_t)k * DCGAN__NR;   // row k of the first panel
            for (int p = 0; p < nc; p += DCGAN__NR, dst += (size_t)DCGAN__NR * kc) {
                if (nc - p >= DCGAN__NR) {
                    memcpy(dst, src + p, DCGAN__NR * sizeof(float));
                    continue;
                }
                for (int j = 0; j < DCGAN__NR; j++) dst[j] = p + j < nc ? src[p + j] : 0.0f;
            }
        }
        return;
    }
    for (int p = 0; p < nc; p += DCGAN__NR) {
        const int nr = nc - p < DCGAN__NR ? nc - p : DCGAN__NR;
        float *dst = base + (size_t)p * kc;   // each panel is kc x NR
        const float *rows[DCGAN__NR];
        for (int j = 0; j < nr; j++) rows[j] = &B[(size_t)(j0 + p + j) * ldb + (size_t)k0];
        for (int kb = 0; kb < kc; kb += 16) {
            const int ke = kc - kb < 16 ? kc : kb + 16;
            for (int j = 0; j < nr; j++) DCGAN__PREFETCH(rows[j] + kb + 64);
            for (int j = 0; j < DCGAN__NR; j++)
                for (int k = kb; k < ke; k++) dst[(size_t)k * DCGAN__NR + j] = j < nr ? rows[j][k] : 0.0f;
        }
    }
}

// One channel plane of col2im at stride 2 (dcgan__col2im_plane_strided, section
// 6) with AVX-512F, the phase rows in registers. There each tap's vector
// addition reloads the phase row that the previous tap of the same phase has
// just stored one float to the side, a load the CPU cannot forward from that
// store and must wait for (perf put two thirds of col2im's time on those
// loads). Here each block of 32 entries of a row is its two phase rows' 16
// entries in two registers (entry 2m + r is entry m of phase row r), each tap
// adds its column entries to the lanes they reach (a masked load and a
// masked addition: lanes it does not reach are left as they are, so a -0
// stays -0 as there), and the block is interleaved back. Every entry gets its
// taps in the order (kh, kw), on top of its first value: the bits of the
// loops (tests/test_layers.c col2im).
//
// Where each tap kw reaches in a block of `width` lanes of the phase rows from
// entry m0: column entry ow lands at iw = 2*ow + kw - pl = 2m + r, m = ow + q,
// so lane l of phase row r[kw] takes column entry ow0[kw] + l, for the lanes
// l in [lo[kw], hi[kw]) where 0 <= ow0 + l < OW (empty: hi <= lo).
#ifdef DCGAN__HAVE_AVX2_KERNEL   // (AVX-512 builds have it too)
static void dcgan__col2im_s2_reach(int KW, int pl, int OW, int m0, int width, int *ow0, int *r, int *lo, int *hi) {
    for (int kw = 0; kw < KW; kw++) {
        const int off = kw - pl;
        r[kw] = off & 1;
        ow0[kw] = m0 - (off - r[kw]) / 2;
        lo[kw] = ow0[kw] >= 0 ? 0 : -ow0[kw];
        hi[kw] = OW - ow0[kw] < width ? OW - ow0[kw] : width;
    }
}
#endif

#ifdef DCGAN__HAVE_AVX512_KERNEL
__attribute__((target("avx512f")))
static void dcgan__col2im_plane_s2_avx512(float *plane, const float *srcc, size_t ld, int H, int W, int KH, int KW,
                                          int pt, int pl, int OH, int OW, int fresh, float init) {
    // lanes of the 32 entries (a, b) = entries 2m + r: phase r's m from (a, b), and back
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int e0 = 0; e0 < W; e0 += 32) {   // entries e0 .. e0 + 31 of each row: m from e0 / 2
        const int n = W - e0 < 32 ? W - e0 : 32, m0 = e0 / 2;
        const __mmask16 in_a = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
        const __mmask16 in_b = (__mmask16)(n >= 32 ? 0xFFFF : n > 16 ? (1u << (n - 16)) - 1 : 0);
        int ow0[DCGAN__COL2IM_TAPS], r[DCGAN__COL2IM_TAPS], lo[DCGAN__COL2IM_TAPS], hi[DCGAN__COL2IM_TAPS];
        dcgan__col2im_s2_reach(KW, pl, OW, m0, 16, ow0, r, lo, hi);
        __mmask16 lanes[DCGAN__COL2IM_TAPS];
        for (int kw = 0; kw < KW; kw++)
            lanes[kw] = (__mmask16)(hi[kw] > lo[kw] ? ((1u << hi[kw]) - 1) & ~((1u << lo[kw]) - 1) : 0);
        for (int ih = 0; ih < H; ih++) {
            float *dst = plane + (size_t)ih * W + e0;
            __m512 p0, p1;   // entries m0 .. m0 + 15 of phase rows 0 and 1
            if (fresh) {
                p0 = p1 = _mm512_set1_ps(init);
            } else {
                const __m512 a = _mm512_maskz_loadu_ps(in_a, dst), b = _mm512_maskz_loadu_ps(in_b, dst + 16);
                p0 = _mm512_permutex2var_ps(a, even, b);
                p1 = _mm512_permutex2var_ps(a, odd, b);
            }
            // the taps kh with ih = oh*2 - pt + kh for some 0 <= oh < OH, in order
            for (int kh = (ih + pt) % 2; kh < KH && kh <= ih + pt; kh += 2) {
                const int oh = (ih + pt - kh) / 2;
                if (oh >= OH) continue;
                const float *rows = srcc + (size_t)kh * KW * ld + (size_t)oh * OW;
                for (int kw = 0; kw < KW; kw++) {
                    if (!lanes[kw]) continue;
                    // (only the lanes' entries are read: row[ow0 + lo .. ow0 + hi - 1]; a
                    // masked-off lane is never accessed, so the address of lane 0 may lie
                    // before the column matrix, as dst + 16 may lie past the plane)
                    const __m512 v = _mm512_maskz_loadu_ps(lanes[kw], rows + (size_t)kw * ld + ow0[kw]);
                    if (r[kw])
                        p1 = _mm512_mask_add_ps(p1, lanes[kw], p1, v);
                    else
                        p0 = _mm512_mask_add_ps(p0, lanes[kw], p0, v);
                }
            }
            _mm512_mask_storeu_ps(dst, in_a, _mm512_permutex2var_ps(p0, first, p1));
            _mm512_mask_storeu_ps(dst + 16, in_b, _mm512_permutex2var_ps(p0, second, p1));
        }
    }
}
#endif

// The same with AVX2: blocks of 16 entries, two phase rows of 8. AVX2 has
// no masks: a masked load (maskload, which reads only the lanes asked for)
// and an addition whose result a blend keeps in those lanes only, where a
// tap reaches only some lanes; plain loads, additions and stores where all
// (a masked store is microcoded on AMD's CPUs: 2.7x slower on a block of 32).
#ifdef DCGAN__HAVE_AVX2_KERNEL
__attribute__((target("avx2")))
static void dcgan__col2im_plane_s2_avx2(float *plane, const float *srcc, size_t ld, int H, int W, int KH, int KW,
                                        int pt, int pl, int OH, int OW, int fresh, float init) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int e0 = 0; e0 < W; e0 += 16) {   // entries e0 .. e0 + 15 of each row: m from e0 / 2
        const int n = W - e0, m0 = e0 / 2;
        // lanes [lo, hi) of 8 as a mask vector (all ones where lo <= l < hi)
#define DCGAN__LANES(lo, hi) \
    _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), lane), _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane))
        const __m256i in_a = DCGAN__LANES(0, n), in_b = DCGAN__LANES(0, n - 8);
        int ow0[DCGAN__COL2IM_TAPS], r[DCGAN__COL2IM_TAPS], lo[DCGAN__COL2IM_TAPS], hi[DCGAN__COL2IM_TAPS];
        dcgan__col2im_s2_reach(KW, pl, OW, m0, 8, ow0, r, lo, hi);
        int any[DCGAN__COL2IM_TAPS], all[DCGAN__COL2IM_TAPS];
        __m256i lanes[DCGAN__COL2IM_TAPS];
        for (int kw = 0; kw < KW; kw++) {
            any[kw] = hi[kw] > lo[kw];
            all[kw] = lo[kw] == 0 && hi[kw] == 8;
            lanes[kw] = DCGAN__LANES(lo[kw], hi[kw]);
        }
#undef DCGAN__LANES
        for (int ih = 0; ih < H; ih++) {
            float *dst = plane + (size_t)ih * W + e0;
            __m256 p0, p1;   // entries m0 .. m0 + 7 of phase rows 0 and 1
            if (fresh) {
                p0 = p1 = _mm256_set1_ps(init);
            } else {   // (a0 a2 b0 b2 | a4 a6 b4 b6) -> (a0 a2 a4 a6 b0 b2 b4 b6), and the odd ones
                const __m256 a = n >= 16 ? _mm256_loadu_ps(dst) : _mm256_maskload_ps(dst, in_a);
                const __m256 b = n >= 16 ? _mm256_loadu_ps(dst + 8) : _mm256_maskload_ps(dst + 8, in_b);
                p0 = _mm256_castpd_ps(_mm256_permute4x64_pd(
                    _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
                p1 = _mm256_castpd_ps(_mm256_permute4x64_pd(
                    _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
            }
            for (int kh = (ih + pt) % 2; kh < KH && kh <= ih + pt; kh += 2) {
                const int oh = (ih + pt - kh) / 2;
                if (oh >= OH) continue;
                const float *rows = srcc + (size_t)kh * KW * ld + (size_t)oh * OW;
                for (int kw = 0; kw < KW; kw++) {
                    if (all[kw]) {
                        const __m256 v = _mm256_loadu_ps(rows + (size_t)kw * ld + ow0[kw]);
                        if (r[kw])
                            p1 = _mm256_add_ps(p1, v);
                        else
                            p0 = _mm256_add_ps(p0, v);
                        continue;
                    }
                    if (!any[kw]) continue;
                    // (masked-off lanes are never accessed, as with AVX-512 above)
                    const __m256 v = _mm256_maskload_ps(rows + (size_t)kw * ld + ow0[kw], lanes[kw]);
                    const __m256 keep = _mm256_castsi256_ps(lanes[kw]);
                    if (r[kw])
                        p1 = _mm256_blendv_ps(p1, _mm256_add_ps(p1, v), keep);
                    else
                        p0 = _mm256_blendv_ps(p0, _mm256_add_ps(p0, v), keep);
                }
            }
            // (p0[0] p1[0] p0[1] p1[1] | p0[4] ..) and (p0[2] .. | p0[6] ..) -> entries 0-7, 8-15
            const __m256 low = _mm256_unpacklo_ps(p0, p1), high = _mm256_unpackhi_ps(p0, p1);
            if (n >= 16) {
                _mm256_storeu_ps(dst, _mm256_permute2f128_ps(low, high, 0x20));
                _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(low, high, 0x31));
            } else {
                _mm256_maskstore_ps(dst, in_a, _mm256_permute2f128_ps(low, high, 0x20));
                _mm256_maskstore_ps(dst + 8, in_b, _mm256_permute2f128_ps(low, high, 0x31));
            }
        }
    }
}
#endif

// The widest of the two the CPU has, within level (2: AVX-512F, 1: AVX2),
// else NULL - but AVX2 for rows of 16 entries plus a multiple of 32, which
// AVX2's blocks of 16 fill and AVX-512's of 32 leave a half-empty last one
// (on session 19's AMD EPYC, which runs a 512-bit operation as two 256-bit
// ones: rows of 16 0.17 ms for 512 channel planes with AVX2, 0.25 with
// AVX-512; rows of 32 0.27 and 0.18; rows of 8 0.26 and 0.26 - one thread,
// bench/RESULTS.md session 19; on session 20's Intel Xeon either choice for
// rows of 16 was within the noise).
static dcgan__col2im_plane_fn dcgan__pick_col2im_s2(int level, int W) {
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (level >= 2 && W % 32 != 16 && dcgan__kernel_get("avx512")) return dcgan__col2im_plane_s2_avx512;
#else
    (void)W;
#endif
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (level >= 1 && dcgan__have_avx2_fma()) return dcgan__col2im_plane_s2_avx2;
#endif
    (void)level;
    return NULL;
}

// One panel row of op(B) = col (trans 0): the entries of tap r at the panel's
// NR pixels, whose parts are cols. The pixels fall into runs along output rows
// (run[j]: the length of the run that starts at j); along a run the entries
// are S apart in one image row, and those inside the image are a range of it.
#ifdef DCGAN__HAVE_AVX512_KERNEL
// One run of a stride-2 panel row with AVX-512F: dst[t] = src[2t] for t in
// [lo, hi) and 0 for the rest of [0, len), len <= 16 - what the scalar loops of
// dcgan__patch_row write, as two masked loads and one permute. The loads touch
// only src[2lo .. 2hi-2], inside the image row (a masked-off lane is never read
// and comes back 0); the permute picks the even lanes of the 32 loaded. The
// scalar loop was a quarter of the time spent packing a classifier step's
// stride-2 convolutions (perf annotate, bench/RESULTS.md).
__attribute__((target("avx512f")))
static void dcgan__run_s2_avx512(float *dst, const float *src, int lo, int hi, int len) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    // window lanes e = 2lo .. 2hi-2 (2hi-1 <= 31 since hi <= 16)
    const uint64_t lanes = hi > lo ? (((uint64_t)1 << (2 * hi - 1)) - 1) & ~(((uint64_t)1 << (2 * lo)) - 1) : 0;
    const __m512 v0 = _mm512_maskz_loadu_ps((__mmask16)(lanes & 0xFFFF), src);
    const __m512 v1 = _mm512_maskz_loadu_ps((__mmask16)(lanes >> 16), src + 16);
    _mm512_mask_storeu_ps(dst, (__mmask16)(((uint32_t)1 << len) - 1), _mm512_permutex2var_ps(v0, even, v1));
}

// The same for stride 1: dst[t] = src[t] for t in [lo, hi), 0 for the rest of
// [0, len), as one masked load (of src[lo .. hi-1] only) and one masked store.
// The scalar and 4-float copies it replaces were two thirds of the time spent
// packing Inception's panels (perf annotate, bench/RESULTS.md): pixels that
// straddle the ends of its 35-, 17- and 8-pixel rows make runs of every length.
__attribute__((target("avx512f")))
static void dcgan__run_s1_avx512(float *dst, const float *src, int lo, int hi, int len) {
    const uint32_t lanes = hi > lo ? (((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1) : 0;
    _mm512_mask_storeu_ps(dst, (__mmask16)(((uint32_t)1 << len) - 1), _mm512_maskz_loadu_ps((__mmask16)lanes, src));
}
#endif

// simd: the CPU runs dcgan__run_s1_avx512 and dcgan__run_s2_avx512 (stride-1
// and stride-2 runs go there).
static void dcgan__patch_row(float *dst, const dcgan__patches *P, const dcgan__patch_part *cols,
                             const int *run, dcgan__patch_part r, int simd) {
    for (int j = 0; j < DCGAN__NR; j += run[j]) {
        const int len = run[j], h = cols[j].h + r.h, w0 = cols[j].w + r.w, S = P->S;
        // entry t of the run lies at image column w0 + t*S: inside for t in [lo, hi)
        int lo = 0, hi = 0;
        if ((unsigned)h < (unsigned)P->H && w0 + (len - 1) * S >= 0 && w0 < P->W) {
            if (S == 1) {   // (no division: most convolutions have stride 1)
                lo = w0 >= 0 ? 0 : -w0;
                hi = P->W - w0;
            } else if (S == 2) {   // shifts of non-negative values (an idiv was 13% of packing)
                lo = w0 >= 0 ? 0 : (-w0 + 1) >> 1;
                hi = ((P->W - 1 - w0) >> 1) + 1;
            } else {
                lo = w0 >= 0 ? 0 : (-w0 + S - 1) / S;
                hi = (P->W - 1 - w0) / S + 1;
            }
            if (hi > len) hi = len;
        }
        const float *src = P->img + cols[j].off + r.off;
#ifdef DCGAN__HAVE_AVX512_KERNEL
        if (S == 1 && simd) {
            dcgan__run_s1_avx512(dst + j, src, lo, hi, len);
            continue;
        }
        if (S == 2 && simd) {
            dcgan__run_s2_avx512(dst + j, src, lo, hi, len);
            continue;
        }
#else
        (void)simd;
#endif
        for (int t = 0; t < lo; t++) dst[j + t] = 0.0f;
        if (S == 1) {   // 4 floats at a time (a fixed-size memcpy: one vector move), then singly
            int t = lo;
            for (; t + 4 <= hi; t += 4) memcpy(dst + j + t, src + t, 4 * sizeof(float));
            for (; t < hi; t++) dst[j + t] = src[t];
        } else {
            for (int t = lo; t < hi; t++) dst[j + t] = src[t * S];
        }
        for (int t = hi; t < len; t++) dst[j + t] = 0.0f;   // (lo <= hi: w grows with t)
    }
}

// A whole panel by gathers (AVX-512F): row k of the panel is the entries of
// the slab's row part rows[k] with the panel's column parts cols[0..NR-1] (a
// tap and NR pixels, or a pixel and NR taps - dcgan__patch_value takes its
// parts in either order), as one masked gather of NR floats: a lane reads
// the image only where its entry lies inside it, and is 0 elsewhere (columns
// past the last have h far out of range). Gathers move about 2.4 floats per
// ns on session 19's AMD EPYC (AVX-512 as two halves), whatever the geometry;
// the loops above move 2.9 along a full run of 16 pixels, but 1.0-1.9 where a
// panel row is made of short runs (outputs of 4 or 8 pixels a row) and 1.2-2.0
// for col^T, whose panel rows are 16 taps of one pixel (bench/RESULTS.md,
// session 19). Every offset must fit in 32 bits (dcgan__patch_slab_of checks).
typedef void (*dcgan__gather_panel_fn)(float *dst, const dcgan__patches *P, const dcgan__patch_part *cols,
                                       const dcgan__patch_part *rows, int kc);
#if defined(DCGAN__HAVE_AVX512_KERNEL) && DCGAN__NR == 16
__attribute__((target("avx512f")))
static void dcgan__gather_panel_avx512(float *dst, const dcgan__patches *P, const dcgan__patch_part *cols,
                                       const dcgan__patch_part *rows, int kc) {
    int32_t h[DCGAN__NR], w[DCGAN__NR], off[DCGAN__NR];
    for (int j = 0; j < DCGAN__NR; j++) h[j] = cols[j].h, w[j] = cols[j].w, off[j] = (int32_t)cols[j].off;
    const __m512i col_h = _mm512_loadu_si512(h), col_w = _mm512_loadu_si512(w), col_off = _mm512_loadu_si512(off);
    const __m512i height = _mm512_set1_epi32(P->H), width = _mm512_set1_epi32(P->W);
    for (int k = 0; k < kc; k++, dst += DCGAN__NR) {
        const dcgan__patch_part r = rows[k];
        // inside: 0 <= h < H and 0 <= w < W, each as one unsigned comparison
        const __mmask16 inside =
            _mm512_cmplt_epu32_mask(_mm512_add_epi32(col_h, _mm512_set1_epi32(r.h)), height) &
            _mm512_cmplt_epu32_mask(_mm512_add_epi32(col_w, _mm512_set1_epi32(r.w)), width);
        const __m512i at = _mm512_add_epi32(col_off, _mm512_set1_epi32((int32_t)r.off));
        _mm512_storeu_ps(dst, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, at, P->img, 4));
    }
}
#endif

// The same with AVX2: two gathers of 8 per row, the lanes inside chosen by
// signed comparisons (AVX2 has no unsigned ones). For AVX2 CPUs, where the
// loops have no vector copy of a stride-2 run either.
#if defined(DCGAN__HAVE_AVX2_KERNEL) && DCGAN__NR == 16
__attribute__((target("avx2")))
static void dcgan__gather_panel_avx2(float *dst, const dcgan__patches *P, const dcgan__patch_part *cols,
                                     const dcgan__patch_part *rows, int kc) {
    int32_t h[DCGAN__NR], w[DCGAN__NR], off[DCGAN__NR];
    for (int j = 0; j < DCGAN__NR; j++) h[j] = cols[j].h, w[j] = cols[j].w, off[j] = (int32_t)cols[j].off;
    const __m256i height = _mm256_set1_epi32(P->H), width = _mm256_set1_epi32(P->W);
    const __m256i minus_one = _mm256_set1_epi32(-1);
    for (int half = 0; half < 2; half++) {   // columns 0-7, then 8-15
        const __m256i col_h = _mm256_loadu_si256((const __m256i *)(h + 8 * half));
        const __m256i col_w = _mm256_loadu_si256((const __m256i *)(w + 8 * half));
        const __m256i col_off = _mm256_loadu_si256((const __m256i *)(off + 8 * half));
        float *d = dst + 8 * half;
        for (int k = 0; k < kc; k++, d += DCGAN__NR) {
            const dcgan__patch_part r = rows[k];
            const __m256i hk = _mm256_add_epi32(col_h, _mm256_set1_epi32(r.h));
            const __m256i wk = _mm256_add_epi32(col_w, _mm256_set1_epi32(r.w));
            // inside: h > -1, H > h, w > -1, W > w (all ones in a lane that is)
            const __m256i inside = _mm256_and_si256(
                _mm256_and_si256(_mm256_cmpgt_epi32(hk, minus_one), _mm256_cmpgt_epi32(height, hk)),
                _mm256_and_si256(_mm256_cmpgt_epi32(wk, minus_one), _mm256_cmpgt_epi32(width, wk)));
            const __m256i at = _mm256_add_epi32(col_off, _mm256_set1_epi32((int32_t)r.off));
            _mm256_storeu_ps(d, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), P->img, at,
                                                         _mm256_castsi256_ps(inside), 4));
        }
    }
}
#endif

// dcgan__gather_patches: 2 (the default) gathers with the widest registers the
// CPU has, 1 with AVX2 at most, 0 never (tests compare the three).
DCGAN__INTERNAL int dcgan__gather_patches = 2;
static dcgan__gather_panel_fn dcgan__pick_gather(int level) {
#if defined(DCGAN__HAVE_AVX512_KERNEL) && DCGAN__NR == 16
    if (level >= 2 && dcgan__kernel_get("avx512")) return dcgan__gather_panel_avx512;
#endif
#if defined(DCGAN__HAVE_AVX2_KERNEL) && DCGAN__NR == 16
    if (level >= 1 && dcgan__have_avx2_fma()) return dcgan__gather_panel_avx2;
#endif
    (void)level;
    return NULL;
}

// 1 where every offset a gather forms, pixel part + tap part, fits in 32 bits
// (|pixel part| <= (g-1)*istride + (OH*S + pt)*W + OW*S + pl, tap part <=
// (C-1)*cstride + KH*W + KW)
DCGAN__INTERNAL int dcgan__gather_fits(const dcgan__patches *P) {
    const double reach = (double)P->g * P->istride + (double)P->C * P->cstride +
                         ((double)P->OH * P->S + P->pt + P->KH + 1) * P->W + (double)P->OW * P->S + P->pl + P->KW;
    return reach < 2147483647.0;
}

// The parts of a slab's rows k0..k0+kc of op(B) = col (taps) or col^T
// (pixels), and the range of their h and w: found once per slab of K and
// handed to every dcgan__pack_patches of that slab.
typedef struct {
    dcgan__patch_part rows[DCGAN__KC];
    int kc, hmin, hmax, wmin, wmax;
    int simd;   // stride 1 or 2 on a CPU with AVX-512F: dcgan__run_s1/s2_avx512 pack the runs
    dcgan__gather_panel_fn gather;   // may pack panels (NULL: the loops only)
} dcgan__patch_slab;

static void dcgan__patch_slab_of(dcgan__patch_slab *slab, int trans, const dcgan__patches *P, int k0, int kc) {
    slab->kc = kc;
    slab->simd = (P->S == 1 || P->S == 2) && dcgan__kernel_get("avx512") != NULL;
    slab->gather = dcgan__gather_fits(P) ? dcgan__pick_gather(dcgan__gather_patches) : NULL;
    if (trans) dcgan__pixel_parts(slab->rows, P, (size_t)k0, kc);
    for (int k = 0; k < kc; k++) {
        if (!trans) slab->rows[k] = dcgan__tap_part(P, k0 + k);
        const dcgan__patch_part r = slab->rows[k];
        if (k == 0 || r.h < slab->hmin) slab->hmin = r.h;
        if (k == 0 || r.h > slab->hmax) slab->hmax = r.h;
        if (k == 0 || r.w < slab->wmin) slab->wmin = r.w;
        if (k == 0 || r.w > slab->wmax) slab->wmax = r.w;
    }
}

// As dcgan__pack_b, for op(B) = col (trans 0: rows are taps, columns pixels)
// or col^T (trans 1: rows are pixels, columns taps) of the images P, on the
// slab's rows; each panel finds the parts of its NR columns. trans 0 copies
// runs of each panel row (dcgan__patch_row), and a panel of NR pixels along
// one output row whose every tap lies inside the image (stride 1) as one
// vector copy per row; trans 1 skips the range checks for the pixels far
// enough from the border that every tap of the panel lies inside the image.
static void dcgan__pack_patches(float *base, int trans, const dcgan__patches *P,
                                const dcgan__patch_slab *slab, int j0, int nc) {
    const dcgan__patch_part *rows = slab->rows;
    const int kc = slab->kc, simd = slab->simd;
    for (int p = 0; p < nc; p += DCGAN__NR) {
        const int nr = nc - p < DCGAN__NR ? nc - p : DCGAN__NR;
        float *dst = base + (size_t)p * kc;
        dcgan__patch_part cols[DCGAN__NR];
        int run[DCGAN__NR];
        int hmin = 0, hmax = 0, wmin = 0, wmax = 0;   // over the panel's nr taps (trans 1)
        if (!trans) dcgan__pixel_parts(cols, P, (size_t)j0 + (size_t)p, nr);
        for (int j = 0; j < DCGAN__NR; j++) {
            if (j >= nr) {   // past the last column: never inside an image, so 0
                cols[j].h = -(1 << 29), cols[j].w = 0, cols[j].off = 0;
                continue;
            }
            if (!trans) continue;
            cols[j] = dcgan__tap_part(P, j0 + p + j);
            if (j == 0 || cols[j].h < hmin) hmin = cols[j].h;
            if (j == 0 || cols[j].h > hmax) hmax = cols[j].h;
            if (j == 0 || cols[j].w < wmin) wmin = cols[j].w;
            if (j == 0 || cols[j].w > wmax) wmax = cols[j].w;
        }
        if (!trans) {
            // runs, found from the end: j continues j + 1's run when both are
            // real pixels of one output row (then j + 1 lies S further along it)
            for (int j = DCGAN__NR - 1; j >= 0; j--)
                run[j] = j + 1 < DCGAN__NR && (j + 1 < nr) == (j < nr) && cols[j + 1].h == cols[j].h &&
                                 cols[j + 1].w == cols[j].w + P->S
                             ? run[j + 1] + 1
                             : 1;
            // (the loops stay faster on one run of NR pixels at stride 1, and at
            // stride 2 where they copy it with AVX-512)
            if (slab->gather && (run[0] < DCGAN__NR || (P->S != 1 && !simd))) {
                slab->gather(dst, P, cols, rows, kc);
                continue;
            }
            if (P->S == 1 && run[0] == DCGAN__NR && cols[0].h + slab->hmin >= 0 &&
                cols[0].h + slab->hmax < P->H && cols[0].w + slab->wmin >= 0 &&
                cols[0].w + DCGAN__NR - 1 + slab->wmax < P->W) {
                // (with dcgan__patch_row's checks on every row, packing took as
                // long as the kernel in Inception's stem; a fixed-size memcpy
                // compiles to a few vector moves)
                const float *src = P->img + cols[0].off;
                for (int k = 0; k < kc; k++, dst += DCGAN__NR)
                    memcpy(dst, src + rows[k].off, DCGAN__NR * sizeof(float));
                continue;
            }
            for (int k = 0; k < kc; k++, dst += DCGAN__NR) dcgan__patch_row(dst, P, cols, run, rows[k], simd);
            continue;
        }
        if (slab->gather) {
            slab->gather(dst, P, cols, rows, kc);
            continue;
        }
        for (int k = 0; k < kc; k++, dst += DCGAN__NR) {
            const dcgan__patch_part r = rows[k];
            if (r.h + hmin >= 0 && r.h + hmax < P->H && r.w + wmin >= 0 && r.w + wmax < P->W) {
                // every real tap inside (the ranges are over them): no checks, 0 past them
                for (int j = 0; j < nr; j++) dst[j] = P->img[cols[j].off + r.off];
                for (int j = nr; j < DCGAN__NR; j++) dst[j] = 0.0f;
            } else {
                for (int j = 0; j < DCGAN__NR; j++) dst[j] = dcgan__patch_value(P, cols[j], r);
            }
        }
    }
}

// slab: the slab's rows when b is patches (unused otherwise).
static void dcgan__pack_operand(float *base, const dcgan__operand *b, const dcgan__patch_slab *slab,
                                int k0, int kc, int j0, int nc) {
    if (b->patches) dcgan__pack_patches(base, b->trans, b->patches, slab, j0, nc);
    else dcgan__pack_b(base, b->trans, b->data, b->ld, k0, kc, j0, nc);
}

// Packing floats for one block of C of m x n: a KC x NC block of op(B) and an
// MC x KC block of op(A), each rounded up to whole panels.
// amx: for dcgan__gemm_block_amx (below), whose panels are deeper and A tiles taller.
static size_t dcgan__pack_floats(int m, int n, int K, int amx) {
    const size_t kc = (size_t)(K < DCGAN__KC ? K : DCGAN__KC);
    const size_t nc = (size_t)(n < DCGAN__NC ? n : DCGAN__NC), mc = (size_t)(m < DCGAN__MC ? m : DCGAN__MC);
    if (amx) {   // two panels of B and a slice of A (in 16-row tiles, pairs of them), kp deep
        const size_t kca = (size_t)(K < DCGAN__AMX_KC ? K : DCGAN__AMX_KC);
        const size_t kp = (kca + DCGAN__AMX_K - 1) / DCGAN__AMX_K * DCGAN__AMX_K;
        const size_t mca = (size_t)(m < DCGAN__AMX_MC ? m : DCGAN__AMX_MC);
        return 2 * 16 * kp + (mca + 31) / 32 * 32 * (kp / 2);
    }
    return ((nc + DCGAN__NR - 1) / DCGAN__NR * DCGAN__NR + (mc + DCGAN__MR - 1) / DCGAN__MR * DCGAN__MR) * kc;
}

// How C lies in memory: a matrix with rows ldc apart (layout NULL), or the
// images of a convolution's output (N, OC, OH, OW): column j = i*OHW + p of C
// is pixel p of image i, so column j of row oc lies at
// C + (j / group) * group_stride + oc * ldc + j % group, with group = ldc =
// OH*OW and group_stride = OC*OH*OW. The product then writes each image's
// output in place, with no gathered copy to scatter (dcgan__sgemm_patches_nchw).
// A panel of NR columns must lie in one image: group is a multiple of NR (the
// two panels of the wide kernel's pair may lie in two images).
typedef struct {
    int group;
    size_t group_stride;
} dcgan__c_layout;

// Where column j of C's row 0 lies.
static float *dcgan__c_column(float *C, const dcgan__c_layout *layout, int j) {
    if (!layout) return C + j;
    return C + (size_t)(j / layout->group) * layout->group_stride + (size_t)(j % layout->group);
}

// The micro-kernel down one packed panel of op(B) (nr <= NR columns, at column
// j of C), or two (nr > NR: the wide kernel, panels at bp and bp + NR * kc),
// for the rows ic..ic+mc of the packed slice of op(A), on the slab pc..pc+kc.
static void dcgan__gemm_panel(dcgan__kernel_fn kernel, dcgan__kernel2_fn wide, const float *ap, const float *bp,
                              int ic, int mc, int j, int nr, int pc, int kc, int K, float alpha, float beta,
                              float *C, int ldc, const dcgan__c_layout *layout, const float *bias, int relu) {
    const int last = pc + kc >= K;   // the last block of K: the kernel finishes the tile
    float *cj = dcgan__c_column(C, layout, j);
    float *cj1 = nr > DCGAN__NR ? dcgan__c_column(C, layout, j + DCGAN__NR) : NULL;
    DCGAN_ASSERT(!cj1 || wide);
    for (int ir = 0; ir < mc; ir += DCGAN__MR) {
        const int mr = mc - ir < DCGAN__MR ? mc - ir : DCGAN__MR;
        const float *tile_bias = last && bias ? bias + ic + ir : NULL;
        const size_t row = (size_t)(ic + ir) * ldc;
        if (cj1)
            wide(kc, ap + (size_t)ir * kc, bp, alpha, pc == 0 ? beta : 1.0f, cj + row, cj1 + row, ldc, mr,
                 nr - DCGAN__NR, tile_bias, last && relu);
        else
            kernel(kc, ap + (size_t)ir * kc, bp, alpha, pc == 0 ? beta : 1.0f, cj + row, ldc, mr, nr, tile_bias,
                   last && relu);
    }
}

#ifdef DCGAN__HAVE_AMX_KERNEL
// --- bfloat16 products on AMX tiles
//
// Intel's AMX (Sapphire Rapids and later Xeons) adds eight tile registers of
// up to 16 rows of 64 bytes and TDPBF16PS, which adds the product of a 16 x 32
// tile of bfloat16 (16 rows of A, 32 values of k in each) and a 16 x 16 tile
// of bfloat16 pairs (16 pairs of k, 16 columns of B in each) into a 16 x 16
// tile of float32 sums: 8,192 multiply-adds in one instruction (Intel SDM
// vol. 1, chapter "Intel AMX"; vol. 2, TDPBF16PS). On the Xeon where
// VDPBF16PS was slower than float32 FMAs (bench/RESULTS.md, session 20) this
// is the bfloat16 path that pays. A tile of B is 16 consecutive pairs of k of
// one 16-column panel in bfloat16 pairs, as the kernels above read it, so B is
// packed as for them and each panel padded with zero pairs to a multiple of 32
// values of k; A is packed in tiles of 16 rows by 32 values of k. The sums:
// each slab of DCGAN__AMX_KC values of k is summed in tiles from 0 and then
// written into C as the kernels write theirs (alpha * sum + beta * C on the
// first slab, C + alpha * sum after, bias and ReLU after the last); the slabs
// are four times the kernels' and TDPBF16PS adds in an order of its own, so
// the numbers are not the VDPBF16PS kernels' bit for bit: they are tested
// against the exact products of the rounded operands (tests/test_layers.c).

// The tile configuration, LDTILECFG's 64 bytes (Intel SDM vol. 2, LDTILECFG):
// palette 1, then each tile's bytes per row and rows. Here all eight tiles are
// 16 rows of 64 bytes. The configuration is the thread's: each thread's block
// loads it and releases the tiles at its end.
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes[16];
    uint8_t rows[16];
} dcgan__amx_config;

// (A constant: GCC 12 drops stores to a local configuration before
// _tile_loadconfig, as if the instruction did not read it, and LDTILECFG then
// faults on the stack's leftovers.)
static const dcgan__amx_config dcgan__amx_tiles_16x64 = {1,
                                                          0,
                                                          {0},
                                                          {64, 64, 64, 64, 64, 64, 64, 64},
                                                          {16, 16, 16, 16, 16, 16, 16, 16}};

__attribute__((target("amx-tile")))
static void dcgan__amx_begin(void) { _tile_loadconfig(&dcgan__amx_tiles_16x64); }

__attribute__((target("amx-tile")))
static void dcgan__amx_end(void) { _tile_release(); }

// Rows i0..i0+m of op(A), values pc..pc+kc of k, as A tiles in bfloat16: row
// tile r (rows i0 + 16r ...), step s (k from pc + 32s) at dst + (r * steps +
// s) * 256 words, 16 rows of 16 words, word q of a row holding the step's
// k = 2q in its low half and 2q + 1 in its high half; zeros past m and past
// kc. Rounded by VCVTNE2PS2BF16, as B's panels are (dcgan__panel16_to_bf16).
// A row of op(A) is a row of A read as it lies, or with trans_a a column of A
// gathered (one thread, a bfloat16 DCGAN iteration 0.514 -> 0.491 s against
// value-by-value copies: bench/RESULTS.md, session 21).
__attribute__((target("avx512f,avx512bf16")))
static void dcgan__pack_a_amx(uint32_t *dst, int trans_a, const float *A, int lda, int i0, int m, int pc, int kc,
                              int rtiles, int steps) {
    float row[DCGAN__AMX_K];
    // transposed A: gathers where 15 * lda floats fit the gather's 32-bit byte offsets
    const int gather = trans_a && (double)lda * 15 * sizeof(float) < 2147483647.0;
    const __m512i apart = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32(gather ? lda : 0));
    for (int r = 0; r < rtiles; r++)
        for (int s = 0; s < steps; s++) {
            uint32_t *tile = dst + ((size_t)r * steps + s) * 256;
            const int left = kc - DCGAN__AMX_K * s;   // values of k in this step (32 but in the last)
            // the masks of the first and last 16 of them, for rows of A read as they lie
            const __mmask16 lo = (__mmask16)(left >= 16 ? 0xffffu : (1u << left) - 1u);
            const __mmask16 hi = (__mmask16)(left >= 32 ? 0xffffu : left > 16 ? (1u << (left - 16)) - 1u : 0u);
            for (int i = 0; i < 16; i++) {
                const int ii = 16 * r + i;
                __m512 first = _mm512_setzero_ps(), second = _mm512_setzero_ps();
                if (ii < m && !trans_a) {
                    const float *src = A + (size_t)(i0 + ii) * lda + (size_t)(pc + DCGAN__AMX_K * s);
                    first = _mm512_maskz_loadu_ps(lo, src);
                    if (hi) second = _mm512_maskz_loadu_ps(hi, src + 16);
                } else if (ii < m && gather) {
                    // a column of A: 16 values lda apart, gathered (offsets 0, lda, ..., 15 lda)
                    const float *src = A + (size_t)(pc + DCGAN__AMX_K * s) * lda + (size_t)(i0 + ii);
                    first = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lo, apart, src, 4);
                    if (hi) second = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), hi, apart, src + (size_t)16 * lda, 4);
                } else if (ii < m) {
                    for (int q = 0; q < DCGAN__AMX_K; q++) {
                        const int k = DCGAN__AMX_K * s + q;
                        row[q] = k < kc ? A[(size_t)(pc + k) * lda + (size_t)(i0 + ii)] : 0.0f;
                    }
                    first = _mm512_loadu_ps(row);
                    second = _mm512_loadu_ps(row + 16);
                }
                // the 32 values in k order, the first 16 in the low half: words of pairs
                _mm512_storeu_si512((void *)(tile + 16 * i), (__m512i)_mm512_cvtne2ps_pbh(second, first));
            }
        }
}

// Columns col..col+nr (nr <= 16) of op(B), values pc..pc+kc of k, as one
// panel of bfloat16 pairs kp / 2 deep (kp: kc rounded up to 32), zero pairs
// past kc: packed as for the VDPBF16PS kernels, DCGAN__KC values of k at a
// time (a slab of patches holds that many: slabs[0], [1], ...), then rounded.
static void dcgan__pack_panel_amx(float *panel, const dcgan__operand *b, const dcgan__patch_slab *slabs, int pc,
                                  int kc, int kp, int col, int nr) {
    for (int off = 0, s = 0; off < kc; off += DCGAN__KC, s++) {
        const int part = kc - off < DCGAN__KC ? kc - off : DCGAN__KC;
        dcgan__pack_operand(panel + (size_t)DCGAN__NR * off, b, &slabs[s], pc + off, part, col, nr);
    }
    dcgan__panels_to_bf16(panel, 1, DCGAN__NR, kc);
    const int pairs = (kc + 1) / 2;
    memset(panel + (size_t)DCGAN__NR * pairs, 0, (size_t)DCGAN__NR * (kp / 2 - pairs) * sizeof(float));
}

// One 16 x 16 tile of sums (out, row-major) into the mr x nr corner of the C
// tile at c, as dcgan__tile_write and then dcgan__gemm_epilogue write theirs
// (alpha * sum, plus C, or beta * C; + bias; ReLU), 16 columns at a time.
__attribute__((target("avx512f")))
static void dcgan__amx_write(const float *out, float *c, int ldc, int mr, int nr, float alpha, float beta,
                             const float *bias, int relu) {
    const __mmask16 cols = (__mmask16)((1u << nr) - 1u);
    const __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        __m512 v = _mm512_mul_ps(al, _mm512_loadu_ps(out + 16 * i));
        if (beta != 0.0f) {
            __m512 old = _mm512_maskz_loadu_ps(cols, ci);
            if (beta != 1.0f) old = _mm512_mul_ps(be, old);
            v = _mm512_add_ps(old, v);
        }
        if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[i]));
        if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
        _mm512_mask_storeu_ps(ci, cols, v);
    }
}

// Up to 2 x 2 tiles of C's sums over steps tile steps: rows from the A tiles
// at a0 and a1 (NULL: one row tile only), columns from the B panels at b0 and
// b1 (NULL: one panel only); tile (row, column) stored at out + 256 * (2 * row
// + column), 16 x 16 row-major. Per step up to 4 loads and 4 TDPBF16PS.
__attribute__((target("amx-tile,amx-bf16")))
static void dcgan__amx_sums(const uint32_t *a0, const uint32_t *a1, const float *b0, const float *b1, int steps,
                            float *out) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int s = 0; s < steps; s++) {
        _tile_loadd(4, a0 + (size_t)256 * s, 64);
        _tile_loadd(6, b0 + (size_t)256 * s, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (b1) {
            _tile_loadd(7, b1 + (size_t)256 * s, 64);
            _tile_dpbf16ps(1, 4, 7);
        }
        if (a1) {
            _tile_loadd(5, a1 + (size_t)256 * s, 64);
            _tile_dpbf16ps(2, 5, 6);
            if (b1) _tile_dpbf16ps(3, 5, 7);
        }
    }
    _tile_stored(0, out, 64);
    if (b1) _tile_stored(1, out + 256, 64);
    if (a1) _tile_stored(2, out + 512, 64);
    if (a1 && b1) _tile_stored(3, out + 768, 64);
}

// dcgan__gemm_block (below) on AMX tiles, for bfloat16 products: for each
// slab of DCGAN__AMX_KC values of k and slice of DCGAN__AMX_MC rows of op(A),
// A packed once; then for each pair of 16-column panels of op(B), packed,
// 32 x 32 of C (2 x 2 tiles) summed at a time down the slab and written into
// C, whose rows are fetched before the sums start (bench/RESULTS.md, session
// 21: the writes had waited on memory). (B is packed once per slice of A:
// once for up to 512 rows.)
static void dcgan__gemm_block_amx(int trans_a, int i0, int m, int j0, int n, int k0, int k1, float alpha,
                                  const float *A, int lda, const dcgan__operand *b, float beta, float *C, int ldc,
                                  const dcgan__c_layout *layout, float *pack, const float *bias, int relu) {
    const int K = k1 - k0;
    const size_t kp_max = (size_t)((K < DCGAN__AMX_KC ? K : DCGAN__AMX_KC) + DCGAN__AMX_K - 1) / DCGAN__AMX_K *
                          DCGAN__AMX_K;
    float *bp = pack;   // two panels, 16 x kp_max floats each
    uint32_t *ap = (uint32_t *)(pack + 2 * 16 * kp_max);
    float out[4 * 256];
    dcgan__patch_slab slabs[DCGAN__AMX_KC / DCGAN__KC];   // the slab's rows, for patches
    dcgan__amx_begin();
    for (int pc = k0; pc < k1; pc += DCGAN__AMX_KC) {
        const int kc = k1 - pc < DCGAN__AMX_KC ? k1 - pc : DCGAN__AMX_KC;
        const int kp = (kc + DCGAN__AMX_K - 1) / DCGAN__AMX_K * DCGAN__AMX_K, steps = kp / DCGAN__AMX_K;
        for (int off = 0, s = 0; b->patches && off < kc; off += DCGAN__KC, s++)
            dcgan__patch_slab_of(&slabs[s], b->trans, b->patches, pc + off,
                                 kc - off < DCGAN__KC ? kc - off : DCGAN__KC);
        const float beta_now = pc == k0 ? beta : 1.0f;
        const int last = pc + kc >= k1;
        for (int ic = i0; ic < i0 + m; ic += DCGAN__AMX_MC) {
            const int mc = i0 + m - ic < DCGAN__AMX_MC ? i0 + m - ic : DCGAN__AMX_MC, rtiles = (mc + 15) / 16;
            dcgan__pack_a_amx(ap, trans_a, A, lda, ic, mc, pc, kc, rtiles, steps);
            for (int jr = j0; jr < j0 + n; jr += 32) {
                const int panels = j0 + n - jr > 16 ? 2 : 1;
                for (int t = 0; t < panels; t++) {
                    const int nr = j0 + n - (jr + 16 * t) < 16 ? j0 + n - (jr + 16 * t) : 16;
                    dcgan__pack_panel_amx(bp + (size_t)t * 16 * kp, b, slabs, pc, kc, kp, jr + 16 * t, nr);
                }
                for (int r = 0; r < rtiles; r += 2) {
                    // the (up to) four C tiles: where they lie, their rows and columns
                    float *c[4];
                    int row[4], mr[4], nr[4];
                    for (int q = 0; q < 4; q++) {
                        const int rr = r + q / 2, tt = q % 2, col = jr + 16 * tt;
                        row[q] = ic + 16 * rr;
                        mr[q] = rr >= rtiles || tt >= panels ? 0 : ic + mc - row[q] < 16 ? ic + mc - row[q] : 16;
                        nr[q] = j0 + n - col < 16 ? j0 + n - col : 16;
                        c[q] = mr[q] ? dcgan__c_column(C, layout, col) + (size_t)row[q] * ldc : NULL;
                        // fetched while the tiles sum: the writes below otherwise wait on memory
                        for (int i = 0; i < mr[q]; i++) {
                            _mm_prefetch((const char *)(c[q] + (size_t)i * ldc), _MM_HINT_T0);
                            _mm_prefetch((const char *)(c[q] + (size_t)i * ldc + nr[q] - 1), _MM_HINT_T0);
                        }
                    }
                    const uint32_t *a0 = ap + (size_t)r * steps * 256;
                    dcgan__amx_sums(a0, r + 1 < rtiles ? a0 + (size_t)steps * 256 : NULL, bp,
                                    panels > 1 ? bp + (size_t)16 * kp : NULL, steps, out);
                    for (int q = 0; q < 4; q++)
                        if (mr[q])
                            dcgan__amx_write(out + 256 * q, c[q], ldc, mr[q], nr[q], alpha, beta_now,
                                             last && bias ? bias + row[q] : NULL, last && relu);
                }
            }
        }
    }
    dcgan__amx_end();
}
#endif

// The Goto loop nest for the block C[i0:i0+m, j0:j0+n] on one thread, with its
// own packing space: for each NC-wide slice and KC-deep slab pack op(B) once,
// and for each MC-tall slice of op(A) pack it and run the micro-kernel over
// every MR x NR tile, which applies beta on the first slab and, with bias or
// relu, the epilogue on the last.
// With m <= MC there is one slice of op(A), so no panel of op(B) is used
// twice: patch panels are then packed right before their tiles, and read back
// from L1 rather than from a block of up to KC x NC floats (2 MB, past L2).
// A stored B keeps the block: one panel's NR columns down kc rows of a wide B
// touch kc pages, and measured slower (small-M products 10-30%).
// The sum runs over k in [k0, k1) only (the whole K but for dcgan__sgemm_ksplit).
// bf16: 1 the kernel reads bfloat16 pairs, so each packed panel is rewritten
// so; 2 the product takes the AMX tiles (dcgan__gemm_block_amx) instead.
// wide (NULL: none): the two-tile kernel, given panels two at a time.
static void dcgan__gemm_block(dcgan__kernel_fn kernel, dcgan__kernel2_fn wide, int bf16, int trans_a, int i0,
                              int m, int j0, int n, int k0, int k1, float alpha, const float *A, int lda,
                              const dcgan__operand *b, float beta, float *C, int ldc,
                              const dcgan__c_layout *layout, float *pack, const float *bias, int relu) {
    const int K = k1 - k0;
    DCGAN_ASSERT(!layout || (K > 0 && alpha != 0.0f));   // dcgan__sgemm_patches_nchw asks for a product
    if (K <= 0 || alpha == 0.0f) {   // no product: C = beta * C
        for (int i = i0; i < i0 + m; i++) {
            float *c = &C[(size_t)i * ldc + j0];
            for (int j = 0; j < n; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];   // NaN in C does not leak
        }
        if (bias || relu) dcgan__gemm_epilogue(C, ldc, i0, m, j0, n, bias, relu);
        return;
    }
#ifdef DCGAN__HAVE_AMX_KERNEL
    if (bf16 == 2) {
        dcgan__gemm_block_amx(trans_a, i0, m, j0, n, k0, k1, alpha, A, lda, b, beta, C, ldc, layout, pack, bias,
                              relu);
        return;
    }
#endif
    const size_t nc_max = (size_t)(n < DCGAN__NC ? n : DCGAN__NC);
    const size_t kc_max = (size_t)(K < DCGAN__KC ? K : DCGAN__KC);
    float *bp = pack, *ap = pack + (nc_max + DCGAN__NR - 1) / DCGAN__NR * DCGAN__NR * kc_max;
    dcgan__patch_slab slab;   // the slab's rows, for patches
    if (K < dcgan__wide_min_k) wide = NULL;   // (see dcgan__wide_min_k)
    const int step = wide ? 2 * DCGAN__NR : DCGAN__NR;   // columns per call of a kernel
    for (int jc = j0; jc < j0 + n; jc += DCGAN__NC) {
        const int nc = j0 + n - jc < DCGAN__NC ? j0 + n - jc : DCGAN__NC;
        for (int pc = k0; pc < k1; pc += DCGAN__KC) {
            const int kc = k1 - pc < DCGAN__KC ? k1 - pc : DCGAN__KC;
            if (b->patches) dcgan__patch_slab_of(&slab, b->trans, b->patches, pc, kc);
            if (m <= DCGAN__MC && b->patches) {   // one slice of op(A): patch panels packed as they are used
                dcgan__pack_a(ap, trans_a, A, lda, i0, m, pc, kc);
                if (bf16) dcgan__panels_to_bf16(ap, (m + DCGAN__MR - 1) / DCGAN__MR, DCGAN__MR, kc);
                for (int jr = 0; jr < nc; jr += step) {
                    const int nr = nc - jr < step ? nc - jr : step;
                    dcgan__pack_operand(bp, b, &slab, pc, kc, jc + jr, nr);
                    if (bf16) dcgan__panels_to_bf16(bp, (nr + DCGAN__NR - 1) / DCGAN__NR, DCGAN__NR, kc);
                    dcgan__gemm_panel(kernel, wide, ap, bp, i0, m, jc + jr, nr, pc - k0, kc, K, alpha, beta, C,
                                      ldc, layout, bias, relu);
                }
                continue;
            }
            dcgan__pack_operand(bp, b, &slab, pc, kc, jc, nc);
            if (bf16) dcgan__panels_to_bf16(bp, (nc + DCGAN__NR - 1) / DCGAN__NR, DCGAN__NR, kc);
            for (int ic = i0; ic < i0 + m; ic += DCGAN__MC) {
                const int mc = i0 + m - ic < DCGAN__MC ? i0 + m - ic : DCGAN__MC;
                dcgan__pack_a(ap, trans_a, A, lda, ic, mc, pc, kc);
                if (bf16) dcgan__panels_to_bf16(ap, (mc + DCGAN__MR - 1) / DCGAN__MR, DCGAN__MR, kc);
                for (int jr = 0; jr < nc; jr += step) {
                    const int nr = nc - jr < step ? nc - jr : step;
                    dcgan__gemm_panel(kernel, wide, ap, bp + (size_t)jr * kc, ic, mc, jc + jr, nr, pc - k0, kc,
                                      K, alpha, beta, C, ldc, layout, bias, relu);
                }
            }
        }
    }
}

// The packing buffer, kept between calls and grown when a product needs more
// (without thread-local storage it cannot be shared safely: freed after each call).
static DCGAN__THREAD_LOCAL float *dcgan__pack_buf;
static DCGAN__THREAD_LOCAL size_t dcgan__pack_cap;

DCGAN_API void dcgan_sgemm_release(void) {
    dcgan_free(dcgan__pack_buf);
    dcgan__pack_buf = NULL;
    dcgan__pack_cap = 0;
}

// The space returned starts on a 64-byte boundary (malloc promises 16), and
// every panel in it is a multiple of 64 bytes long when kc is a multiple of 16:
// the kernel's 32-byte loads of b then never straddle two cache lines, which
// cost 12% of its speed in a test of the kernel alone (bench/RESULTS.md).
#define DCGAN__PACK_ALIGN 64
static float *dcgan__pack_space(size_t count) {
    const size_t pad = DCGAN__PACK_ALIGN / sizeof(float);
    if (count > dcgan__pack_cap) {
        dcgan_sgemm_release();
        dcgan__pack_buf = count > (size_t)-1 - pad ? NULL : (float *)dcgan__alloc(count + pad, sizeof(float));
        dcgan__pack_cap = dcgan__pack_buf ? count : 0;
    }
    if (!dcgan__pack_buf) return NULL;
    const size_t misalign = (size_t)((uintptr_t)dcgan__pack_buf % DCGAN__PACK_ALIGN);
    return dcgan__pack_buf + (misalign ? (DCGAN__PACK_ALIGN - misalign) / sizeof(float) : 0);
}

// A product with a small C and a long K, the shape of a convolution's weight
// gradient (C is OC x C*KH*KW, K runs over every pixel of the batch), cut
// along K rather than C: the slabs of DCGAN__KC (DCGAN__AMX_KC on AMX tiles)
// are shared out among the threads, each slab's product goes to its own part
// of the packing space (beta 0), and then C += part, slab after slab. Those
// are the additions the loop nest above makes with beta 1, in the same order,
// so the bits do not
// change (only alpha 1, beta 1 and no epilogue come here; with beta 0 either
// way of writing a tile stores a slab's sum as it is, -0 included). Cutting C
// instead left one thread idle on
// shapes such as 16 x 9 (the classifier's first layer, two row panels for two
// threads, each packing all of B) and 32 x 144 (9 column panels for two).
// Returns 0 where the shape is not one for it (the caller cuts C).
static int dcgan__sgemm_ksplit(dcgan__kernel_fn kernel, dcgan__kernel2_fn wide, int bf16, int threads,
                               int trans_a, int M, int N, int K, const float *A, int lda, const dcgan__operand *b,
                               float *C, int ldc) {
    const int kc = bf16 == 2 ? DCGAN__AMX_KC : DCGAN__KC;   // the loop nest's slab
    const int slabs = (K + kc - 1) / kc;
    const size_t pad = DCGAN__PACK_ALIGN / sizeof(float);
    const size_t part = ((size_t)M * N + pad - 1) / pad * pad;
    if (threads < 2 || slabs < 4 * threads || N > DCGAN__NC || part * slabs > ((size_t)1 << 21)) return 0;
    // cutting C is as good where it gives every thread several panels
    const int units = N >= M ? (N + DCGAN__NR - 1) / DCGAN__NR : (M + DCGAN__MR - 1) / DCGAN__MR;
    if (units >= 8 * threads) return 0;
    const size_t per_thread = (dcgan__pack_floats(M, N, kc, bf16 == 2) + pad - 1) / pad * pad;
    float *pack = dcgan__pack_space(per_thread * (size_t)threads + part * slabs);
    if (!pack) return 0;
    float *parts = pack + per_thread * (size_t)threads;
    DCGAN__OMP(omp parallel for schedule(dynamic, 1) num_threads(threads))
    for (int sl = 0; sl < slabs; sl++) {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        const int k0 = sl * kc, k1 = K - k0 < kc ? K : k0 + kc;
        dcgan__gemm_block(kernel, wide, bf16, trans_a, 0, M, 0, N, k0, k1, 1.0f, A, lda, b, 0.0f,
                          parts + part * sl, N, NULL, pack + per_thread * (size_t)me, NULL, 0);
    }
    DCGAN__OMP(omp parallel for schedule(static) num_threads(threads))
    for (int i = 0; i < M; i++)
        for (int sl = 0; sl < slabs; sl++) {
            const float *q = parts + part * sl + (size_t)i * N;
            float *c = C + (size_t)i * ldc;
            for (int j = 0; j < N; j++) c[j] = c[j] + q[j];
        }
    return 1;
}

// Small products: at most dcgan__small_product_macs multiply-adds, alpha 1
// (every layer's products), from a stored B, no bias or ReLU, on a CPU with
// AVX2 and FMA: no packing and no threads. The blocked loops took 66, 37 and
// 18 us on the three 65,536 multiply-add products of the classifier's last
// Linear layer (32 x 1 x 2048 forward, 32 x 2048 x 1 and 1 x 2048 x 32
// backward), packing panels made mostly of padding; these loops take 27, 13
// and 7 (bench/RESULTS.md, session 18). The numbers are the blocked loops',
// bit for bit (tests/test_layers.c): per slab of DCGAN__KC values of k, the
// kernels' chain of fused multiply-adds from +0 in k order, the first slab's
// sum s written as s itself, C + s or beta * C + s as beta is 0, 1 or else,
// each later slab's as C + s. (With alpha 1 the kernels' full tiles,
// fma(alpha, s, old), and dcgan__tile_write's edge tiles, old + alpha * s,
// agree; with other alphas they round differently, so those products stay
// with the blocked loops.) Eight sums side by side in one vector: columns j,
// whose values of op(B) lie side by side in a row of B (trans_b 0; 32 at a
// time where there are, four independent chains), or else eight rows i (op(A)'s
// eight values of a k side by side with trans_a, gathered without).
#if defined(DCGAN__HAVE_AVX2_KERNEL) || defined(DCGAN_TEST_INTERNALS)   // (unused without AVX2)
DCGAN__INTERNAL long dcgan__small_product_macs = 1L << 17;
#endif

#ifdef DCGAN__HAVE_AVX2_KERNEL
// op(A)[i][k] and op(B)[k][j] of dcgan_sgemm's arguments
#define DCGAN__OPA(i, k) (trans_a ? A[(size_t)(k) * lda + (i)] : A[(size_t)(i) * lda + (k)])
#define DCGAN__OPB(k, j) (trans_b ? B[(size_t)(j) * ldb + (k)] : B[(size_t)(k) * ldb + (j)])

// C[i][j] from slab s's sum v, as the kernels write a tile: the first slab's
// v alone (beta 0: C is not read), v + C or v + beta * C; later slabs' v + C
#define DCGAN__SMALL_PUT(c, s, v) \
    (*(c) = (s) > 0 || beta == 1.0f ? *(c) + (v) : beta == 0.0f ? (v) : beta * *(c) + (v))

// One entry, one fused multiply-add at a time (fmaf: the kernels' rounding)
__attribute__((target("avx2,fma")))
static void dcgan__small_entry(int trans_a, int trans_b, int i, int j, int K, const float *A, int lda,
                               const float *B, int ldb, float beta, float *C, int ldc) {
    DCGAN__NO_FUSE
    float *c = &C[(size_t)i * ldc + j];
    for (int s = 0; s < K; s += DCGAN__KC) {
        const int ke = K - s < DCGAN__KC ? K : s + DCGAN__KC;
        float acc = 0.0f;
        for (int k = s; k < ke; k++) acc = fmaf(DCGAN__OPA(i, k), DCGAN__OPB(k, j), acc);
        DCGAN__SMALL_PUT(c, s, acc);
    }
}

__attribute__((target("avx2,fma")))
static void dcgan__sgemm_small(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                               const float *B, int ldb, float beta, float *C, int ldc) {
    DCGAN__NO_FUSE
    const __m256 be = _mm256_set1_ps(beta);
    if (!trans_b) {   // columns of a row of C: op(B)[k][j..j+7] are neighbours in row k of B
        for (int i = 0; i < M; i++) {
            int j = 0;
            // 8 x w columns at a time (w = 4, then 1): w independent chains of additions
            for (int w = 4; w >= 1; w -= 3)
                for (; j + 8 * w <= N; j += 8 * w)
                    for (int s = 0; s < K; s += DCGAN__KC) {
                        const int ke = K - s < DCGAN__KC ? K : s + DCGAN__KC;
                        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                                         _mm256_setzero_ps()};
                        for (int k = s; k < ke; k++) {
                            const __m256 a = _mm256_set1_ps(DCGAN__OPA(i, k));
                            const float *bk = B + (size_t)k * ldb + j;
                            acc[0] = _mm256_fmadd_ps(a, _mm256_loadu_ps(bk), acc[0]);
                            if (w == 4) {
                                acc[1] = _mm256_fmadd_ps(a, _mm256_loadu_ps(bk + 8), acc[1]);
                                acc[2] = _mm256_fmadd_ps(a, _mm256_loadu_ps(bk + 16), acc[2]);
                                acc[3] = _mm256_fmadd_ps(a, _mm256_loadu_ps(bk + 24), acc[3]);
                            }
                        }
                        for (int q = 0; q < w; q++) {
                            float *c = &C[(size_t)i * ldc + j + 8 * q];
                            if (s == 0 && beta == 0.0f) {   // the sum itself (a -0 stays -0)
                                _mm256_storeu_ps(c, acc[q]);
                                continue;
                            }
                            const __m256 old = s > 0 || beta == 1.0f ? _mm256_loadu_ps(c)
                                                                     : _mm256_mul_ps(be, _mm256_loadu_ps(c));
                            _mm256_storeu_ps(c, _mm256_add_ps(old, acc[q]));
                        }
                    }
            for (; j < N; j++) dcgan__small_entry(trans_a, trans_b, i, j, K, A, lda, B, ldb, beta, C, ldc);
        }
        return;
    }
    // eight rows of a column of C: op(A)[i..i+7][k] are neighbours with trans_a, else gathered
    const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(lda));
    for (int j = 0; j < N; j++) {
        int i = 0;
        // (8 rows at a time only: 32 rows of a wide A, each read down its k, were
        // 4x slower - rows 8 KB apart compete for the same few cache sets)
        for (; i + 8 <= M; i += 8)
            for (int s = 0; s < K; s += DCGAN__KC) {
                const int ke = K - s < DCGAN__KC ? K : s + DCGAN__KC;
                __m256 acc = _mm256_setzero_ps();
                for (int k = s; k < ke; k++) {
                    const __m256 a = trans_a ? _mm256_loadu_ps(A + (size_t)k * lda + i)
                                             : _mm256_i32gather_ps(A + (size_t)i * lda + k, rows, 4);
                    acc = _mm256_fmadd_ps(a, _mm256_set1_ps(B[(size_t)j * ldb + k]), acc);
                }
                float sum[8];
                _mm256_storeu_ps(sum, acc);
                for (int l = 0; l < 8; l++) {
                    float *c = &C[(size_t)(i + l) * ldc + j];
                    DCGAN__SMALL_PUT(c, s, sum[l]);
                }
            }
        for (; i < M; i++) dcgan__small_entry(trans_a, trans_b, i, j, K, A, lda, B, ldb, beta, C, ldc);
    }
}
#undef DCGAN__OPA
#undef DCGAN__OPB
#undef DCGAN__SMALL_PUT
#endif

// C = alpha * op(A) * op(B) + beta * C for either kind of B operand; with
// bias (may be NULL) or relu, then C[i][j] += bias[i] and with relu
// C = max(C, 0), applied to each tile as its last block of K is written
// rather than in another pass over C (Inception's conv + bias + ReLU).
// Threads: C is cut into chunks of whole column panels (or whole row panels),
// two per thread, handed out as threads become free (these vCPUs sometimes
// pause one core). Each chunk runs the whole loop nest above with its own
// packing space, so one parallel region covers the product with no barrier
// inside. Every chunk packs all of the other operand again, so the cut goes
// across the longer side: cutting columns repeats A's packing, rows B's.
// layout: where C's columns lie (NULL: a plain matrix). Returns 0 only when
// there was no memory for the panels and C has a layout (the plain loop that
// stands in then writes plain matrices only): nothing was written.
static int dcgan__sgemm_run(int trans_a, int M, int N, int K, float alpha, const float *A, int lda,
                            const dcgan__operand *b, float beta, float *C, int ldc,
                            const dcgan__c_layout *layout, const float *bias, int relu) {
    if (M <= 0 || N <= 0) return 1;
    // Asked on every call: the CPU checks read flags libgcc set at start, and
    // whether 512-bit FMAs run at full width is measured once and kept (see
    // dcgan__zmm_full_width).
    const dcgan__kernel_fn bf16 = dcgan__matmul_precision == DCGAN_MATMUL_BFLOAT16 ? dcgan__bf16_kernel() : NULL;
    const dcgan__kernel_fn kernel = bf16 ? bf16 : dcgan__pick_kernel();
    const dcgan__kernel2_fn wide = dcgan__pick_wide_kernel(bf16 != NULL);
    int bf16_level = bf16 != NULL;   // the argument bf16 of dcgan__gemm_block
#ifdef DCGAN__HAVE_AMX_KERNEL
    if (bf16 && dcgan__amx_on()) bf16_level = 2;
#endif
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (!b->patches && !layout && !bias && !relu && !bf16 && K > 0 && alpha == 1.0f &&
        (double)M * N * K <= (double)dcgan__small_product_macs && (!b->trans || trans_a || lda < (1 << 27)) &&
        dcgan__have_avx2_fma()) {   // (the gather's offsets, 7 * lda, are 32-bit)
        dcgan__sgemm_small(trans_a, b->trans, M, N, K, A, lda, b->data, b->ld, beta, C, ldc);
        return 1;
    }
#endif
    int threads = 1;
#ifdef _OPENMP
    if ((double)M * N * (K > 1 ? K : 1) > 2e5) threads = omp_get_max_threads();
#endif
    if (alpha == 1.0f && beta == 1.0f && !bias && !relu && !layout &&
        dcgan__sgemm_ksplit(kernel, wide, bf16_level, threads, trans_a, M, N, K, A, lda, b, C, ldc)) {
#ifdef DCGAN__NO_THREAD_LOCAL
        dcgan_sgemm_release();
#endif
        return 1;
    }
    const int by_cols = N >= M;
    const int unit = by_cols ? DCGAN__NR : DCGAN__MR, len = by_cols ? N : M;
    const int units = (len + unit - 1) / unit;
    // two chunks per thread where each still has 1024 columns (rows), else one
    int chunks = len / (2 * threads) >= 1024 ? 2 * threads : threads;
    if (chunks > units) chunks = units;
    const int chunk_len = (units + chunks - 1) / chunks * unit;   // whole panels per chunk
    chunks = (len + chunk_len - 1) / chunk_len;
    if (threads > chunks) threads = chunks;
    const size_t pad = DCGAN__PACK_ALIGN / sizeof(float);   // each thread's space on a 64-byte boundary
    const size_t per_thread =
        ((by_cols ? dcgan__pack_floats(M, chunk_len, K, bf16_level == 2)
                  : dcgan__pack_floats(chunk_len, N, K, bf16_level == 2)) +
         pad - 1) /
        pad * pad;
    float *pack = dcgan__pack_space(per_thread * (size_t)threads);
    if (!pack) {
        // no memory for the panels: the reference loop needs none
        if (layout) return 0;
        dcgan__sgemm_ref_operand(trans_a, M, N, K, alpha, A, lda, b, beta, C, ldc);
        if (bias || relu) dcgan__gemm_epilogue(C, ldc, 0, M, 0, N, bias, relu);
        return 1;
    }
    DCGAN__OMP(omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1))
    for (int t = 0; t < chunks; t++) {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        const int lo = t * chunk_len, n_t = len - lo < chunk_len ? len - lo : chunk_len;
        float *mine = pack + per_thread * (size_t)me;
        if (by_cols)
            dcgan__gemm_block(kernel, wide, bf16_level, trans_a, 0, M, lo, n_t, 0, K, alpha, A, lda, b, beta, C,
                              ldc, layout, mine, bias, relu);
        else
            dcgan__gemm_block(kernel, wide, bf16_level, trans_a, lo, n_t, 0, N, 0, K, alpha, A, lda, b, beta, C,
                              ldc, layout, mine, bias, relu);
    }
#ifdef DCGAN__NO_THREAD_LOCAL
    dcgan_sgemm_release();
#endif
    return 1;
}

DCGAN_API void dcgan_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    const dcgan__operand b = {trans_b, B, ldb, NULL};
    dcgan__sgemm_run(trans_a, M, N, K, alpha, A, lda, &b, beta, C, ldc, NULL, NULL, 0);
}

// dcgan_sgemm, then bias and ReLU on each finished tile (see dcgan__sgemm_run).
DCGAN__INTERNAL void dcgan__sgemm_fused(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                        const float *A, int lda, const float *B, int ldb, float beta,
                                        float *C, int ldc, const float *bias, int relu) {
    const dcgan__operand b = {trans_b, B, ldb, NULL};
    dcgan__sgemm_run(trans_a, M, N, K, alpha, A, lda, &b, beta, C, ldc, NULL, bias, relu);
}

// C = alpha * op(A) * op(col) + beta * C (+ bias, ReLU as above), where col is
// the im2col matrix of the images P describes, never stored (implicit GEMM):
// op(col) = col, (C*KH*KW) x (g*OH*OW), or with trans_b its transpose.
DCGAN__INTERNAL void dcgan__sgemm_patches(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                          const float *A, int lda, const dcgan__patches *P, float beta,
                                          float *C, int ldc, const float *bias, int relu) {
    const dcgan__operand b = {trans_b, NULL, 0, P};
    dcgan__sgemm_run(trans_a, M, N, K, alpha, A, lda, &b, beta, C, ldc, NULL, bias, relu);
}

// A convolution's output straight from its product: C (N, M, OH, OW) = A *
// col (+ bias[m]) for the g = N images P describes, each image's M x OH*OW
// block written in place (see dcgan__c_layout) - the numbers of
// dcgan__sgemm_patches into a (M, N*OH*OW) matrix scattered into images
// afterwards, bit for bit, without that matrix or that pass. Returns 0, having
// written nothing, where OH*OW is not a multiple of a panel's NR columns or
// there was no memory; the caller then takes that longer way.
DCGAN__INTERNAL int dcgan__sgemm_patches_nchw(int M, int K, const float *A, int lda, const dcgan__patches *P,
                                              float *C, const float *bias) {
    const int OHW = P->OH * P->OW;
    if (OHW <= 0 || OHW % DCGAN__NR != 0 || K <= 0 || (double)P->g * OHW > 2147483647.0) return 0;
    const dcgan__operand b = {0, NULL, 0, P};
    const dcgan__c_layout layout = {OHW, (size_t)M * OHW};
    return dcgan__sgemm_run(0, M, P->g * OHW, K, 1.0f, A, lda, &b, 0.0f, C, OHW, &layout, bias, 0);
}

// --- 15c. Direct convolution (few channels, any stride)

// Direct convolution. The generator's last layer (64 -> 3 channels, K=5,
// 128x128) would otherwise copy every pixel K*K = 25 times into an im2col
// matrix to make only 3 output rows, and a first layer on 1-3 channels (the
// Keras discriminator's at stride 1, the classifier's at stride 2) is no
// better: its products have only C*K*K = 9-75 rows to sum. Here one output
// row is cut into tiles of DCGAN__DIRECT_TW columns; a tile of 3 output
// channels is summed in registers over the taps (c, kh, kw), in the order of
// dcgan_conv2d_forward_ref, from a zero-padded copy of the image, with no
// im2col at all. Output channels go in blocks of DCGAN__DIRECT_OC.
//
// A stride S > 1 becomes stride 1 by cutting the padded image into S*S phase
// planes, P[c][py][px][i][j] = pad[c][S*i + py][S*j + px] (the polyphase
// decomposition of signal processing). Output (oh, ow) reads
//     pad[c][S*oh + kh][S*ow + kw] = P[c][kh % S][kw % S][oh + kh/S][ow + kw/S],
// so for one tap a row of outputs reads a row of one plane, S-apart pixels
// made neighbours: every tap is an offset into the planes, and one tile serves
// every stride. For S = 1 the planes are the padded image itself.
#define DCGAN__DIRECT_OC 3
#define DCGAN__DIRECT_TW 32
#ifndef DCGAN__DIRECT_MAX_C
#define DCGAN__DIRECT_MAX_C 4
#endif

// Where the taps of output (0, 0) read in the phase planes (S*S planes of
// `plane` floats per channel, rows of ld): tap (c, kh, kw) reads
// P[c][kh % S][kw % S][kh / S][kw / S]. K <= 16.
DCGAN__INTERNAL dcgan__taps dcgan__taps_make(int C, int K, int S, size_t plane, size_t ld) {
    dcgan__taps tp;
    tp.C = C, tp.K = K, tp.chan = (size_t)S * S * plane;
    for (int k = 0; k < K && k < 16; k++) {
        tp.kh_off[k] = (size_t)(k % S) * S * plane + (size_t)(k / S) * ld;
        tp.kw_off[k] = (size_t)(k % S) * plane + (size_t)(k / S);
    }
    return tp;
}

static size_t dcgan__tap_offset(const dcgan__taps *tp, int c, int kh, int kw) {
    return (size_t)c * tp->chan + tp->kh_off[kh] + tp->kw_off[kw];
}

// acc[o][j] = sum over the taps t = (c, kh, kw), in order, of w[o][t] * src[offset(t) + j]
// for o < 3, j < 32; w holds exactly 3 output channels (zeros for missing ones).
DCGAN__INTERNAL void dcgan__direct_tile_portable(const float *src, const dcgan__taps *tp, const float *w,
                                                 float *acc) {
    const size_t taps = (size_t)tp->C * tp->K * tp->K;
    for (int t = 0; t < DCGAN__DIRECT_OC * DCGAN__DIRECT_TW; t++) acc[t] = 0.0f;
    for (int c = 0; c < tp->C; c++)
        for (int kh = 0; kh < tp->K; kh++)
            for (int kw = 0; kw < tp->K; kw++) {
                const float *row = src + dcgan__tap_offset(tp, c, kh, kw);
                const size_t t = ((size_t)c * tp->K + kh) * tp->K + kw;
                for (int o = 0; o < DCGAN__DIRECT_OC; o++) {
                    const float wv = w[(size_t)o * taps + t];
                    for (int j = 0; j < DCGAN__DIRECT_TW; j++) acc[o * DCGAN__DIRECT_TW + j] += wv * row[j];
                }
            }
}

#ifdef DCGAN__HAVE_AVX2_KERNEL
// The same tile with AVX2 + FMA: 3 channels x 4 vectors of 8 = 12 accumulators;
// each tap loads 4 input vectors, broadcasts 3 weights, does 12 FMAs.
__attribute__((target("avx2,fma")))
static void dcgan__direct_tile_avx2(const float *src, const dcgan__taps *tp, const float *w, float *acc) {
    const size_t taps = (size_t)tp->C * tp->K * tp->K;
    const int K = tp->K;
    __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a02 = _mm256_setzero_ps(), a03 = _mm256_setzero_ps();
    __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(), a12 = _mm256_setzero_ps(), a13 = _mm256_setzero_ps();
    __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(), a22 = _mm256_setzero_ps(), a23 = _mm256_setzero_ps();
    size_t t = 0;   // the tap's index, (c*K + kh)*K + kw
    for (int c = 0; c < tp->C; c++)
        for (int kh = 0; kh < K; kh++) {
            const float *base = src + (size_t)c * tp->chan + tp->kh_off[kh];
            for (int kw = 0; kw < K; kw++, t++) {
                const float *row = base + tp->kw_off[kw];
                const __m256 x0 = _mm256_loadu_ps(row), x1 = _mm256_loadu_ps(row + 8);
                const __m256 x2 = _mm256_loadu_ps(row + 16), x3 = _mm256_loadu_ps(row + 24);
                __m256 wv = _mm256_broadcast_ss(w + t);
                a00 = _mm256_fmadd_ps(wv, x0, a00); a01 = _mm256_fmadd_ps(wv, x1, a01);
                a02 = _mm256_fmadd_ps(wv, x2, a02); a03 = _mm256_fmadd_ps(wv, x3, a03);
                wv = _mm256_broadcast_ss(w + (size_t)taps + t);
                a10 = _mm256_fmadd_ps(wv, x0, a10); a11 = _mm256_fmadd_ps(wv, x1, a11);
                a12 = _mm256_fmadd_ps(wv, x2, a12); a13 = _mm256_fmadd_ps(wv, x3, a13);
                wv = _mm256_broadcast_ss(w + 2 * (size_t)taps + t);
                a20 = _mm256_fmadd_ps(wv, x0, a20); a21 = _mm256_fmadd_ps(wv, x1, a21);
                a22 = _mm256_fmadd_ps(wv, x2, a22); a23 = _mm256_fmadd_ps(wv, x3, a23);
            }
        }
    _mm256_storeu_ps(acc + 0, a00); _mm256_storeu_ps(acc + 8, a01);
    _mm256_storeu_ps(acc + 16, a02); _mm256_storeu_ps(acc + 24, a03);
    _mm256_storeu_ps(acc + 32, a10); _mm256_storeu_ps(acc + 40, a11);
    _mm256_storeu_ps(acc + 48, a12); _mm256_storeu_ps(acc + 56, a13);
    _mm256_storeu_ps(acc + 64, a20); _mm256_storeu_ps(acc + 72, a21);
    _mm256_storeu_ps(acc + 80, a22); _mm256_storeu_ps(acc + 88, a23);
}
#endif

DCGAN__INTERNAL dcgan__direct_fn dcgan__pick_direct(void) {
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (dcgan__have_avx2_fma()) return dcgan__direct_tile_avx2;
#endif
    return dcgan__direct_tile_portable;
}

// The weight gradient's tile: for 3 output channels a and 3 taps b,
//   g[a*3 + b] = sum over rows r < rows, columns j < cols of
//                d_a[r*cols + j] * src[off[b] + r*ld + j]
// (d_a: one channel of the output gradient, src: the phase planes, ld their
// row length). Each pair is summed by rows, in order.
DCGAN__INTERNAL void dcgan__dw_tile_portable(const float *src, const size_t *off, size_t ld, const float *const *d,
                                             int rows, int cols, float *g) {
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            float s = 0.0f;
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < cols; j++) s += d[a][(size_t)r * cols + j] * src[off[b] + (size_t)r * ld + j];
            g[a * 3 + b] = s;
        }
}

#ifdef DCGAN__HAVE_AVX2_KERNEL
// The same with AVX2 + FMA: 9 accumulators of 8 lanes through all rows (3
// loads of d and 3 of the planes feed 9 FMAs), the columns past the last 8
// in scalar sums, and each accumulator's lanes added pairwise at the end.
__attribute__((target("avx2,fma")))
static void dcgan__dw_tile_avx2(const float *src, const size_t *off, size_t ld, const float *const *d, int rows,
                                int cols, float *g) {
    __m256 s[9];
    float tail[9] = {0.0f}, part[8];
    for (int i = 0; i < 9; i++) s[i] = _mm256_setzero_ps();
    const int vec_end = cols & ~7;
    for (int r = 0; r < rows; r++) {
        const float *x0 = src + off[0] + (size_t)r * ld, *x1 = src + off[1] + (size_t)r * ld;
        const float *x2 = src + off[2] + (size_t)r * ld;
        const float *d0 = d[0] + (size_t)r * cols, *d1 = d[1] + (size_t)r * cols, *d2 = d[2] + (size_t)r * cols;
        for (int j = 0; j < vec_end; j += 8) {
            const __m256 a = _mm256_loadu_ps(x0 + j), b = _mm256_loadu_ps(x1 + j), c = _mm256_loadu_ps(x2 + j);
            __m256 dv = _mm256_loadu_ps(d0 + j);
            s[0] = _mm256_fmadd_ps(dv, a, s[0]); s[1] = _mm256_fmadd_ps(dv, b, s[1]); s[2] = _mm256_fmadd_ps(dv, c, s[2]);
            dv = _mm256_loadu_ps(d1 + j);
            s[3] = _mm256_fmadd_ps(dv, a, s[3]); s[4] = _mm256_fmadd_ps(dv, b, s[4]); s[5] = _mm256_fmadd_ps(dv, c, s[5]);
            dv = _mm256_loadu_ps(d2 + j);
            s[6] = _mm256_fmadd_ps(dv, a, s[6]); s[7] = _mm256_fmadd_ps(dv, b, s[7]); s[8] = _mm256_fmadd_ps(dv, c, s[8]);
        }
        for (int j = vec_end; j < cols; j++)
            for (int i = 0; i < 9; i++) {
                const float *xs = i % 3 == 0 ? x0 : i % 3 == 1 ? x1 : x2, *ds = i / 3 == 0 ? d0 : i / 3 == 1 ? d1 : d2;
                tail[i] += ds[j] * xs[j];
            }
    }
    for (int i = 0; i < 9; i++) {
        _mm256_storeu_ps(part, s[i]);
        g[i] = tail[i] + (((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])));
    }
}
#endif

DCGAN__INTERNAL dcgan__dw_fn dcgan__pick_dw(void) {
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (dcgan__have_avx2_fma()) return dcgan__dw_tile_avx2;
#endif
    return dcgan__dw_tile_portable;
}

// dcgan__adam_range 8 entries at a time, then the loop for the rest. The same
// operations in the same order, and multiplication, addition, division and
// the square root are each correctly rounded, so the bits are the loop's (no
// fused multiply-add). The compiler leaves the loop scalar: sqrtf must set
// errno for a negative v, so it is a call behind a branch. x86-64 only: on
// 32-bit x86 the loop may keep x87's wider intermediates, other bits.
#if defined(DCGAN__HAVE_AVX2_KERNEL) && defined(__x86_64__)
#define DCGAN__HAVE_ADAM_AVX2 1
__attribute__((target("avx2")))
static void dcgan__adam_range_avx2(const dcgan__adam_consts *k, float *params, const float *grads, float *m,
                                   float *v, size_t lo, size_t hi) {
    const __m256 b1 = _mm256_set1_ps(k->b1), b2 = _mm256_set1_ps(k->b2), eps = _mm256_set1_ps(k->eps);
    const __m256 c1 = _mm256_set1_ps(k->one_minus_b1), c2 = _mm256_set1_ps(k->one_minus_b2);
    const __m256 rate = _mm256_set1_ps(k->keras ? k->lr_t : k->step_size);
    const __m256 sqrt_bc2 = _mm256_set1_ps(k->sqrt_bc2);
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
        const __m256 g = _mm256_loadu_ps(grads + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, g));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                        _mm256_mul_ps(_mm256_mul_ps(c2, g), g));
        __m256 root = _mm256_sqrt_ps(vi);
        if (!k->keras) root = _mm256_div_ps(root, sqrt_bc2);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(rate, mi), _mm256_add_ps(root, eps));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(_mm256_loadu_ps(params + i), step));
    }
    dcgan__adam_range(k, params, grads, m, v, i, hi);
}
#endif

DCGAN__INTERNAL dcgan__adam_fn dcgan__pick_adam(void) {
#ifdef DCGAN__HAVE_ADAM_AVX2
    if (dcgan__have_avx2_fma()) return dcgan__adam_range_avx2;
#endif
    return dcgan__adam_range;
}

// The phase planes of a layer's input: S*S planes of Hq x Wq per channel.
typedef struct {
    int S, Hq, Wq;
    size_t plane, per_image;   // floats in one plane, in one image's planes
} dcgan__phases;

static dcgan__phases dcgan__phases_of(const dcgan_conv2d *conv, int H, int W) {
    dcgan__phases p;
    const int Hp = H + conv->pad_top + conv->pad_bottom, Wp = W + conv->pad_left + conv->pad_right;
    p.S = conv->stride;
    p.Hq = (Hp + p.S - 1) / p.S;
    p.Wq = (Wp + p.S - 1) / p.S;
    p.plane = (size_t)p.Hq * p.Wq;
    p.per_image = (size_t)conv->in_channels * p.S * p.S * p.plane;
    return p;
}

// dst = the phase planes of one image img (C, H, W): P[c][py][px][i][j] =
// img[c][S*i + py - pad_top][S*j + px - pad_left], zero outside the image.
static void dcgan__phase_image(float *dst, const float *img, int C, int H, int W, const dcgan_conv2d *conv,
                               const dcgan__phases *p) {
    const int S = p->S;
    for (int c = 0; c < C; c++)
        for (int py = 0; py < S; py++)
            for (int px = 0; px < S; px++) {
                // the plane's columns j0 <= j < j1 fall inside the image
                const int w0 = px - conv->pad_left;   // image column of j = 0
                int j0 = w0 >= 0 ? 0 : (-w0 + S - 1) / S;
                int j1 = W - w0 <= 0 ? 0 : (W - w0 + S - 1) / S;
                if (j1 > p->Wq) j1 = p->Wq;
                if (j0 > j1) j0 = j1;
                for (int i = 0; i < p->Hq; i++) {
                    float *row = dst + ((size_t)(c * S + py) * S + px) * p->plane + (size_t)i * p->Wq;
                    const int h = S * i + py - conv->pad_top;
                    if (h < 0 || h >= H) {
                        memset(row, 0, (size_t)p->Wq * sizeof(float));
                        continue;
                    }
                    const float *src = img + ((size_t)c * H + h) * W;   // column S*j + w0 >= 0 for j >= j0
                    memset(row, 0, (size_t)j0 * sizeof(float));
                    if (S == 1) memcpy(row + j0, src + j0 + w0, (size_t)(j1 - j0) * sizeof(float));
                    else {
                        DCGAN__OMP(omp simd)
                        for (int j = j0; j < j1; j++) row[j] = src[S * j + w0];
                    }
                    memset(row + j1, 0, (size_t)(p->Wq - j1) * sizeof(float));
                }
            }
}

// The taps of a layer's forward and weight gradient, read from its phase planes
static dcgan__taps dcgan__taps_of(const dcgan_conv2d *conv, const dcgan__phases *p) {
    return dcgan__taps_make(conv->in_channels, conv->kernel, p->S, p->plane, (size_t)p->Wq);
}

// Scratch floats of the direct forward: 3 channels of weights per block and a
// tile of slack (fixed), plus each image's phase planes (per image).
static size_t dcgan__direct_blocks(int channels) {
    return (size_t)(channels + DCGAN__DIRECT_OC - 1) / DCGAN__DIRECT_OC;
}

static size_t dcgan__direct_fixed(const dcgan_conv2d *conv) {
    return dcgan__direct_blocks(conv->out_channels) * DCGAN__DIRECT_OC * conv->in_channels * conv->kernel *
               conv->kernel + DCGAN__DIRECT_TW;
}

// When the direct path is used: K <= 16, pads below K (so the stride-1 input
// gradient's frame fits), and, at stride 1, few output or input channels,
// where im2col costs most for the products it feeds. (Measured on 2 AVX2
// cores: 64 -> 3 at 128x128, K=5, stride 1: forward 685 -> 44 ms, backward
// 1598 -> 135 ms for 16 images, before the weight gradient's tile of 3 x 3;
// bench/RESULTS.md, session 16, has the later numbers.) At a larger stride,
// a first layer on few channels whose products would be thin: fewer than 16
// rows to sum (C*K*K), or at most 16 output channels. (On 2 AVX-512 cores,
// 32 images of 64x64: 1 -> 16 channels, K=3, S=2: forward 0.35 -> 0.12 ms,
// weight gradient 1.16 -> 0.20 ms, each a minimum of 30; but 3 -> 64
// channels, K=4, S=2, 64 images: forward 3.3 -> 4.1 ms, so that one, the
// DCGAN discriminator's first layer, stays a GEMM.)
DCGAN__INTERNAL int dcgan__use_direct(const dcgan_conv2d *conv) {
    if (conv->kernel > 16) return 0;   // (dcgan__taps holds 16 offsets per axis)
    if (conv->pad_top >= conv->kernel || conv->pad_left >= conv->kernel || conv->pad_bottom >= conv->kernel ||
        conv->pad_right >= conv->kernel)
        return 0;
    if (conv->stride == 1)
        return conv->out_channels <= DCGAN__DIRECT_MAX_C || conv->in_channels <= DCGAN__DIRECT_MAX_C;
    return conv->in_channels <= DCGAN__DIRECT_MAX_C &&
           (conv->in_channels * conv->kernel * conv->kernel < 16 || conv->out_channels <= 16);
}

// The caller's work when it holds at least need floats; none given: a fresh
// allocation (the caller frees it) of need plus room for up to N - 1 more
// images of per_image floats, within DCGAN__WORK_CAP; too small: NULL, and
// the im2col path is taken. *floats becomes the scratch's size.
static float *dcgan__direct_scratch(float *work, size_t *floats, size_t need, size_t per_image, int N) {
    if (work) return *floats >= need ? work : NULL;
    const size_t room = need < DCGAN__WORK_CAP ? DCGAN__WORK_CAP - need : 0;
    *floats = need + per_image * (size_t)(dcgan__group(per_image, N, room) - 1);
    return (float *)dcgan__alloc(*floats, sizeof(float));
}

// The forward of the direct path: images in groups that fit in buf; each
// group's planes, then its output rows, spread over the threads.
static void dcgan__conv2d_forward_direct(dcgan_tensor out, dcgan_tensor inp, const dcgan_conv2d *conv,
                                         float *buf, size_t buf_floats, dcgan__direct_fn tile, int add) {
    const int C = inp.c, H = inp.h, W = inp.w, OC = conv->out_channels, OH = out.h, OW = out.w;
    const int CKK = C * conv->kernel * conv->kernel, blocks = (int)dcgan__direct_blocks(OC);
    const dcgan__phases p = dcgan__phases_of(conv, H, W);
    const dcgan__taps tp = dcgan__taps_of(conv, &p);
    const size_t fixed = dcgan__direct_fixed(conv), wsize = fixed - DCGAN__DIRECT_TW;
    float *w = buf, *planes = buf + wsize;
    memset(w, 0, wsize * sizeof(float));   // zero channels pad the last block
    memcpy(w, conv->weight, (size_t)OC * CKK * sizeof(float));
    const int group = dcgan__group(p.per_image, inp.n, buf_floats - fixed);
    for (int n0 = 0; n0 < inp.n; n0 += group) {
        const int g = inp.n - n0 < group ? inp.n - n0 : group;
        memset(planes + (size_t)g * p.per_image, 0, DCGAN__DIRECT_TW * sizeof(float));   // the last tile's slack
        DCGAN__OMP(omp parallel)
        {
            DCGAN__OMP(omp for schedule(static))
            for (int i = 0; i < g; i++)
                dcgan__phase_image(planes + (size_t)i * p.per_image, inp.data + (size_t)(n0 + i) * C * H * W, C, H,
                                   W, conv, &p);
            DCGAN__OMP(omp for schedule(static))
            for (int r = 0; r < g * OH; r++) {
                const int i = r / OH, oh = r % OH;
                const float *src = planes + (size_t)i * p.per_image + (size_t)oh * p.Wq;
                float acc[DCGAN__DIRECT_OC * DCGAN__DIRECT_TW];
                for (int bl = 0; bl < blocks; bl++)
                    for (int ow0 = 0; ow0 < OW; ow0 += DCGAN__DIRECT_TW) {
                        const int tw = OW - ow0 < DCGAN__DIRECT_TW ? OW - ow0 : DCGAN__DIRECT_TW;
                        tile(src + ow0, &tp, w + (size_t)bl * DCGAN__DIRECT_OC * CKK, acc);
                        for (int ob = 0; ob < DCGAN__DIRECT_OC && bl * DCGAN__DIRECT_OC + ob < OC; ob++) {
                            const int oc = bl * DCGAN__DIRECT_OC + ob;
                            float *o = out.data + (((size_t)(n0 + i) * OC + oc) * OH + oh) * OW + ow0;
                            const float b = conv->bias ? conv->bias[oc] : 0.0f;
                            if (add) {
                                DCGAN__OMP(omp simd)
                                for (int j = 0; j < tw; j++) o[j] += acc[ob * DCGAN__DIRECT_TW + j];
                            } else {
                                DCGAN__OMP(omp simd)
                                for (int j = 0; j < tw; j++) o[j] = acc[ob * DCGAN__DIRECT_TW + j] + b;
                            }
                        }
                    }
            }
        }
    }
}

// Scratch of the direct backward: the larger of the weight gradient's (one
// image's planes and its OC x C*K*K sums, per image) and, at stride 1 when
// dinp is wanted, the input gradient's (the padded gradient, OC channels of
// (H + K - 1) x (W + K - 1) and a tile of slack, then the flipped weights in
// blocks of 3 channels). *per_image: the weight gradient's floats per image.
static size_t dcgan__direct_back_work(const dcgan_conv2d *conv, int H, int W, int want_dinp, size_t *per_image) {
    const size_t K = (size_t)conv->kernel, C = (size_t)conv->in_channels, OC = (size_t)conv->out_channels;
    *per_image = dcgan__phases_of(conv, H, W).per_image + OC * C * K * K;
    if (conv->stride != 1 || !want_dinp) return *per_image;
    const size_t dx = OC * (H + K - 1) * (W + K - 1) + DCGAN__DIRECT_TW +
                      dcgan__direct_blocks((int)C) * DCGAN__DIRECT_OC * OC * K * K;
    return dx > *per_image ? dx : *per_image;
}

// The backward of the direct path.
//   dweight[o][c][kh][kw] += sum over n, oh, ow of dout[n][o][oh][ow] * P[c][kh%S][kw%S][oh + kh/S][ow + kw/S]
// summed per image in tiles of 3 channels x 3 taps, then over a group's
// images in their order, added to dweight group by group (so the bits do not
// depend on the number of threads; they do on the size of the work buffer,
// which sets the groups). At stride 1
// (the caller leaves larger strides' input gradient to the GEMM):
//   dinp[c][ih][iw] += sum over o, a, b of weight[o][c][K-1-a][K-1-b] * dpad[o][ih + a][iw + b]
// where dpad is dout moved by (K-1-pad_top, K-1-pad_left) in a zero frame: the
// input gradient is itself a stride-1 convolution with flipped weights, so it
// reuses the forward tile (in blocks of 3 input channels).
static void dcgan__conv2d_backward_direct(dcgan_tensor dinp, float *dweight, dcgan_tensor dout, dcgan_tensor inp,
                                          const dcgan_conv2d *conv, float *buf, size_t buf_floats, size_t need,
                                          size_t per_image, dcgan__direct_fn tile, dcgan__dw_fn dw) {
    const int C = inp.c, H = inp.h, W = inp.w, K = conv->kernel, OC = conv->out_channels;
    const int OH = dout.h, OW = dout.w, pt = conv->pad_top, pl = conv->pad_left;
    const int CKK = C * K * K, triples = (CKK + 2) / 3, oblocks = (int)dcgan__direct_blocks(OC);
    const size_t OHW = (size_t)OH * OW;
    if (dweight) {
        const dcgan__phases p = dcgan__phases_of(conv, H, W);
        const dcgan__taps tp = dcgan__taps_of(conv, &p);
        const int group = dcgan__group(per_image, inp.n, buf_floats);
        for (int n0 = 0; n0 < inp.n; n0 += group) {
            const int g = inp.n - n0 < group ? inp.n - n0 : group;
            float *planes = buf, *sums = buf + (size_t)g * p.per_image;   // sums[i][o][t]
            DCGAN__OMP(omp parallel)
            {
                DCGAN__OMP(omp for schedule(static))
                for (int i = 0; i < g; i++)
                    dcgan__phase_image(planes + (size_t)i * p.per_image, inp.data + (size_t)(n0 + i) * C * H * W, C,
                                       H, W, conv, &p);
                DCGAN__OMP(omp for schedule(static))
                for (int item = 0; item < g * oblocks * triples; item++) {
                    const int i = item / (oblocks * triples), o0 = item / triples % oblocks * 3;
                    const int t0 = item % triples * 3;
                    // missing channels and taps of the last blocks repeat the first; their sums are dropped
                    const float *dn = dout.data + ((size_t)(n0 + i) * OC + o0) * OHW;
                    const float *d[3] = {dn, o0 + 1 < OC ? dn + OHW : dn, o0 + 2 < OC ? dn + 2 * OHW : dn};
                    size_t offs[3];
                    for (int b = 0; b < 3; b++) {
                        const int t = t0 + b < CKK ? t0 + b : t0;
                        offs[b] = dcgan__tap_offset(&tp, t / (K * K), t / K % K, t % K);
                    }
                    float gsum[9];
                    dw(planes + (size_t)i * p.per_image, offs, (size_t)p.Wq, d, OH, OW, gsum);
                    for (int a = 0; a < 3 && o0 + a < OC; a++)
                        for (int b = 0; b < 3 && t0 + b < CKK; b++)
                            sums[((size_t)i * OC + o0 + a) * CKK + t0 + b] = gsum[a * 3 + b];
                }
                DCGAN__OMP(omp for schedule(static))
                for (int e = 0; e < OC * CKK; e++) {
                    float s = sums[e];
                    for (int i = 1; i < g; i++) s += sums[(size_t)i * OC * CKK + e];
                    dweight[e] += s;
                }
            }
        }
    }
    if (dinp.data && conv->stride == 1) {
        const int Hd = H + K - 1, Wd = W + K - 1, blocks = (int)dcgan__direct_blocks(C);
        const size_t plane = (size_t)Hd * Wd, wf_size = (size_t)blocks * DCGAN__DIRECT_OC * OC * K * K;
        float *pad = buf, *wf = buf + need - wf_size;
        // the taps of the flipped convolution: OC channels of Hd x Wd, stride 1
        const dcgan__taps tq = dcgan__taps_make(OC, K, 1, plane, (size_t)Wd);
        // flipped weights, as the tile wants them: [c][o][a][b], c padded to blocks of 3
        memset(wf, 0, wf_size * sizeof(float));
        for (int c = 0; c < C; c++)
            for (int o = 0; o < OC; o++)
                for (int a = 0; a < K; a++)
                    for (int b = 0; b < K; b++)
                        wf[(((size_t)c * OC + o) * K + a) * K + b] =
                            conv->weight[((size_t)o * C + c) * K * K + (size_t)(K - 1 - a) * K + (K - 1 - b)];
        for (int n = 0; n < inp.n; n++) {
            const float *dn = dout.data + (size_t)n * OC * OHW;
            // dpad[o][y][x] = dout[o][y - (K-1-pt)][x - (K-1-pl)]; the frame is K-1-pt
            // above, and whatever makes Hd rows below (pads never exceed K-1 here)
            memset(pad, 0, ((size_t)OC * plane + DCGAN__DIRECT_TW) * sizeof(float));
            for (int o = 0; o < OC; o++)
                for (int oh = 0; oh < OH; oh++) {
                    const int y = oh + K - 1 - pt;
                    if (y < 0 || y >= Hd) continue;
                    for (int ow = 0; ow < OW; ow++) {
                        const int x = ow + K - 1 - pl;
                        if (x >= 0 && x < Wd) pad[(size_t)o * plane + (size_t)y * Wd + x] = dn[(size_t)o * OHW + (size_t)oh * OW + ow];
                    }
                }
            DCGAN__OMP(omp parallel for schedule(static))
            for (int ih = 0; ih < H; ih++) {
                float acc[DCGAN__DIRECT_OC * DCGAN__DIRECT_TW];
                for (int bl = 0; bl < blocks; bl++)
                    for (int iw0 = 0; iw0 < W; iw0 += DCGAN__DIRECT_TW) {
                        const int tw = W - iw0 < DCGAN__DIRECT_TW ? W - iw0 : DCGAN__DIRECT_TW;
                        tile(pad + (size_t)ih * Wd + iw0, &tq, wf + (size_t)bl * DCGAN__DIRECT_OC * OC * K * K, acc);
                        for (int cb = 0; cb < DCGAN__DIRECT_OC && bl * DCGAN__DIRECT_OC + cb < C; cb++) {
                            float *row = dinp.data + (((size_t)n * C + bl * DCGAN__DIRECT_OC + cb) * H + ih) * W + iw0;
                            DCGAN__OMP(omp simd)
                            for (int j = 0; j < tw; j++) row[j] += acc[cb * DCGAN__DIRECT_TW + j];
                        }
                    }
            }
        }
    }
}

// The layers' entry points (section 6). Forward: 1 when the direct convolution
// did the work (add: out += the convolution, without bias), 0 when the layer
// should use the GEMM (not its kind of layer, or no memory). Backward: 1 when
// all is done, 2 when the weight and bias gradients are and the input
// gradient is left to the GEMM (stride > 1), 0 when nothing is.
static int dcgan__conv2d_forward_direct_path(dcgan_tensor out, dcgan_tensor inp, const dcgan_conv2d *conv,
                                             float *work, size_t work_floats, int add) {
    if (!dcgan__use_direct(conv)) return 0;
    const size_t per_image = dcgan__phases_of(conv, inp.h, inp.w).per_image;
    size_t floats = work_floats;
    float *scratch = dcgan__direct_scratch(work, &floats, dcgan__direct_fixed(conv) + per_image, per_image, inp.n);
    if (!scratch) return 0;
    dcgan__conv2d_forward_direct(out, inp, conv, scratch, floats, dcgan__pick_direct(), add);
    if (scratch != work) DCGAN_FREE(scratch);
    return 1;
}

static int dcgan__conv2d_backward_direct_path(dcgan_tensor dinp, float *dweight, float *dbias,
                                              dcgan_tensor dout, dcgan_tensor inp, const dcgan_conv2d *conv,
                                              float *work, size_t work_floats) {
    // at a stride above 1 the path has only the weight gradient to give
    if (!dcgan__use_direct(conv) || (conv->stride != 1 && !dweight)) return 0;
    size_t per_image, floats = work_floats;
    const size_t need = dcgan__direct_back_work(conv, inp.h, inp.w, dinp.data != NULL, &per_image);
    float *scratch = dcgan__direct_scratch(work, &floats, need, per_image, inp.n);
    if (!scratch) return 0;
    if (dbias) dcgan__bias_grad(dbias, dout.data, inp.n, conv->out_channels, (size_t)dout.h * dout.w);
    dcgan__conv2d_backward_direct(dinp, dweight, dout, inp, conv, scratch, floats, need, per_image,
                                  dcgan__pick_direct(), dcgan__pick_dw());
    if (scratch != work) DCGAN_FREE(scratch);
    return dinp.data && conv->stride != 1 ? 2 : 1;
}

// --- 15d. FID's Gram products (blocked, AVX2) and eigenvalues (AVX2), section 14b

// The fast route to the same: the rows of a and b are copied in blocks of
// DCGAN__GK dims into panels (DCGAN__GR rows of a, DCGAN__GC rows of b, dim
// by dim), and a tile multiplies one panel of each into a GR x GC block of
// out, as dcgan_sgemm's micro-kernel does (section 15b) but in double. Sums run
// in another order than the reference loops: equal to rounding (tested).
#define DCGAN__GR 4
#define DCGAN__GC 8
#define DCGAN__GK 256

// out[GR x GC block] = (add ? out : 0) + sum over k of a_ik b_jk (dist 0) or of
// (a_ik - b_jk)^2 (dist 1), rows mr, columns nr kept
static void dcgan__gram_tile(int kc, const double *a, const double *b, double *out, int64_t ldo, int mr, int nr,
                             int add, int dist) {
    double acc[DCGAN__GR][DCGAN__GC] = {{0.0}};
    for (int k = 0; k < kc; k++, a += DCGAN__GR, b += DCGAN__GC)
        for (int i = 0; i < DCGAN__GR; i++)
            for (int j = 0; j < DCGAN__GC; j++) {
                const double d = a[i] - b[j];
                acc[i][j] += dist ? d * d : a[i] * b[j];
            }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) out[(size_t)i * ldo + j] = (add ? out[(size_t)i * ldo + j] : 0.0) + acc[i][j];
}


// Rows [r0, r0 + R) of x (n rows of `dims`), dims [k0, k0 + kc), into p[k * R + r]; rows past n are zero.
static void dcgan__gram_pack(double *p, const double *x, int64_t n, int64_t r0, int R, int k0, int kc, int dims) {
    for (int k = 0; k < kc; k++)
        for (int r = 0; r < R; r++) p[k * R + r] = r0 + r < n ? x[(size_t)(r0 + r) * dims + k0 + k] : 0.0;
}

// out as dcgan__pairs_ref gives it (a b^T for dist 0, squared distances for
// dist 1); with lower_only, only the blocks that hold
// entries j <= i are written (for a symmetric product read by its lower
// triangle). Falls back on the reference loops without memory for the panels.
DCGAN__INTERNAL void dcgan__gram_fast(double *out, const double *a, int64_t na, const double *b, int64_t nb, int dims,
                                      int lower_only, int dist, int use_simd) {
    if (dims < 1 || na < 1 || nb < 1) {
        dcgan__pairs_ref(out, a, na, b, nb, dims, dist);
        return;
    }
    void (*tile)(int, const double *, const double *, double *, int64_t, int, int, int, int) = dcgan__gram_tile;
#ifdef DCGAN__HAVE_AVX2_KERNEL
    if (use_simd && dcgan__have_avx2_fma()) tile = dcgan__gram_tile_avx2;
#endif
    (void)use_simd;
    const int64_t pa = (na + DCGAN__GR - 1) / DCGAN__GR, pb = (nb + DCGAN__GC - 1) / DCGAN__GC;
    double *ap = (double *)dcgan__alloc((size_t)pa * DCGAN__GR * DCGAN__GK, sizeof(double));
    double *bp = (double *)dcgan__alloc((size_t)pb * DCGAN__GC * DCGAN__GK, sizeof(double));
    if (!ap || !bp) {
        dcgan_free(ap);
        dcgan_free(bp);
        dcgan__pairs_ref(out, a, na, b, nb, dims, dist);
        return;
    }
    for (int k0 = 0; k0 < dims; k0 += DCGAN__GK) {
        const int kc = dims - k0 < DCGAN__GK ? dims - k0 : DCGAN__GK;
        DCGAN__OMP(omp parallel for schedule(static))
        for (int64_t q = 0; q < pa; q++)
            dcgan__gram_pack(ap + (size_t)q * DCGAN__GR * DCGAN__GK, a, na, q * DCGAN__GR, DCGAN__GR, k0, kc, dims);
        DCGAN__OMP(omp parallel for schedule(static))
        for (int64_t q = 0; q < pb; q++)
            dcgan__gram_pack(bp + (size_t)q * DCGAN__GC * DCGAN__GK, b, nb, q * DCGAN__GC, DCGAN__GC, k0, kc, dims);
        DCGAN__OMP(omp parallel for schedule(dynamic, 1))
        for (int64_t q = 0; q < pa; q++) {
            const int64_t i0 = q * DCGAN__GR;
            const int mr = na - i0 < DCGAN__GR ? (int)(na - i0) : DCGAN__GR;
            for (int64_t r = 0; r < pb; r++) {
                const int64_t j0 = r * DCGAN__GC;
                if (lower_only && j0 > i0 + mr - 1) break;
                const int nr = nb - j0 < DCGAN__GC ? (int)(nb - j0) : DCGAN__GC;
                tile(kc, ap + (size_t)q * DCGAN__GR * DCGAN__GK, bp + (size_t)r * DCGAN__GC * DCGAN__GK,
                     out + (size_t)i0 * nb + j0, nb, mr, nr, k0 > 0, dist);
            }
        }
    }
    dcgan_free(ap);
    dcgan_free(bp);
}

#ifdef DCGAN__HAVE_AVX2_KERNEL
// The same tile with AVX2 + FMA: eight registers hold the 4 x 8 block.
// (dist 1: d = a - b, then d * d added: a subtraction and an FMA per pair)
__attribute__((target("avx2,fma")))
static void dcgan__gram_tile_avx2(int kc, const double *a, const double *b, double *out, int64_t ldo, int mr,
                                  int nr, int add, int dist) {
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd(), c10 = _mm256_setzero_pd();
    __m256d c11 = _mm256_setzero_pd(), c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    if (!dist)
        for (int k = 0; k < kc; k++, a += DCGAN__GR, b += DCGAN__GC) {
            const __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
            __m256d ai;
            ai = _mm256_broadcast_sd(a + 0); c00 = _mm256_fmadd_pd(ai, b0, c00); c01 = _mm256_fmadd_pd(ai, b1, c01);
            ai = _mm256_broadcast_sd(a + 1); c10 = _mm256_fmadd_pd(ai, b0, c10); c11 = _mm256_fmadd_pd(ai, b1, c11);
            ai = _mm256_broadcast_sd(a + 2); c20 = _mm256_fmadd_pd(ai, b0, c20); c21 = _mm256_fmadd_pd(ai, b1, c21);
            ai = _mm256_broadcast_sd(a + 3); c30 = _mm256_fmadd_pd(ai, b0, c30); c31 = _mm256_fmadd_pd(ai, b1, c31);
        }
    else
        for (int k = 0; k < kc; k++, a += DCGAN__GR, b += DCGAN__GC) {
            const __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
            __m256d ai, d0, d1;
#define DCGAN__SQ(r, c0, c1)                                                              \
    ai = _mm256_broadcast_sd(a + r);                                                  \
    d0 = _mm256_sub_pd(ai, b0); d1 = _mm256_sub_pd(ai, b1);                           \
    c0 = _mm256_fmadd_pd(d0, d0, c0); c1 = _mm256_fmadd_pd(d1, d1, c1);
            DCGAN__SQ(0, c00, c01) DCGAN__SQ(1, c10, c11) DCGAN__SQ(2, c20, c21) DCGAN__SQ(3, c30, c31)
#undef DCGAN__SQ
        }
    double acc[DCGAN__GR][DCGAN__GC];
    _mm256_storeu_pd(acc[0], c00); _mm256_storeu_pd(acc[0] + 4, c01);
    _mm256_storeu_pd(acc[1], c10); _mm256_storeu_pd(acc[1] + 4, c11);
    _mm256_storeu_pd(acc[2], c20); _mm256_storeu_pd(acc[2] + 4, c21);
    _mm256_storeu_pd(acc[3], c30); _mm256_storeu_pd(acc[3] + 4, c31);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) out[(size_t)i * ldo + j] = (add ? out[(size_t)i * ldo + j] : 0.0) + acc[i][j];
}
#endif

#ifdef DCGAN__HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma")))
static double dcgan__tridiag_row_avx2(double *row, int i, const double *v, const double *wv, const double *u,
                                      double *pc, double vi, double wi, double ui) {
    const __m256d VI = _mm256_set1_pd(vi), WI = _mm256_set1_pd(wi), UI = _mm256_set1_pd(ui);
    __m256d s = _mm256_setzero_pd();
    int j = 1;
    for (; j + 4 <= i; j += 4) {
        __m256d a = _mm256_loadu_pd(row + j);
        a = _mm256_fnmadd_pd(VI, _mm256_loadu_pd(wv + j), a);
        a = _mm256_fnmadd_pd(WI, _mm256_loadu_pd(v + j), a);
        _mm256_storeu_pd(row + j, a);
        s = _mm256_fmadd_pd(a, _mm256_loadu_pd(u + j - 1), s);
        _mm256_storeu_pd(pc + j - 1, _mm256_fmadd_pd(a, UI, _mm256_loadu_pd(pc + j - 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, s);
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; j < i; j++) {
        const double a0 = row[j] - vi * wv[j] - wi * v[j];
        row[j] = a0;
        sum += a0 * u[j - 1];
        pc[j - 1] += a0 * ui;
    }
    return sum;
}
#endif

// --- 15e. BatchNorm's sums (AVX2), section 6

// The loops of section 6 on 16 values at a time: partials 4k .. 4k+3 are one
// vector of four doubles, and each lane does what the loop does to its
// partial (the floats converted exactly, then the same subtraction,
// multiplications and addition, each correctly rounded, no fused
// multiply-add), so the bits are the loops'. The last n mod 16 values of a
// run (the rest) go through the loops themselves.
#if defined(DCGAN__HAVE_AVX2_KERNEL) && defined(__x86_64__)
#define DCGAN__HAVE_BN_AVX2 1
// The four vectors are named (v0..v3): GCC -O2 keeps an array of vectors in
// memory, and each addition then waited on a store (1.1x slower than the loop).
#define DCGAN__BN_WIDEN(x, lo, hi)                              \
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)); \
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))

// s += x[p] (squares 0) or (x[p] - mean)^2 (squares 1) over the runs: the
// loops of dcgan__bn_add_values and dcgan__bn_add_squares, 16 values at a time
DCGAN__NO_FUSE_FN __attribute__((target("avx2")))
static inline void dcgan__bn_add_avx2(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n,
                                      double mean, int squares) {
    const size_t whole = n - n % DCGAN__BN_PARTS;
    const __m256d m = _mm256_set1_pd(mean);
    __m256d v0 = _mm256_loadu_pd(s->part), v1 = _mm256_loadu_pd(s->part + 4);
    __m256d v2 = _mm256_loadu_pd(s->part + 8), v3 = _mm256_loadu_pd(s->part + 12);
    for (int r = 0; r < runs; r++, x += stride) {
        for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS) {
            const __m256 a = _mm256_loadu_ps(x + p), b = _mm256_loadu_ps(x + p + 8);
            DCGAN__BN_WIDEN(a, a0, a1);
            DCGAN__BN_WIDEN(b, b0, b1);
            if (squares) {
                const __m256d d0 = _mm256_sub_pd(a0, m), d1 = _mm256_sub_pd(a1, m);
                const __m256d d2 = _mm256_sub_pd(b0, m), d3 = _mm256_sub_pd(b1, m);
                v0 = _mm256_add_pd(v0, _mm256_mul_pd(d0, d0)), v1 = _mm256_add_pd(v1, _mm256_mul_pd(d1, d1));
                v2 = _mm256_add_pd(v2, _mm256_mul_pd(d2, d2)), v3 = _mm256_add_pd(v3, _mm256_mul_pd(d3, d3));
            } else {
                v0 = _mm256_add_pd(v0, a0), v1 = _mm256_add_pd(v1, a1);
                v2 = _mm256_add_pd(v2, b0), v3 = _mm256_add_pd(v3, b1);
            }
        }
        // the last n mod 16 values go to the rest alone: the loops' own code
        if (squares) dcgan__bn_add_squares(s, x + whole, 1, 0, n - whole, mean);
        else dcgan__bn_add_values(s, x + whole, 1, 0, n - whole);
    }
    _mm256_storeu_pd(s->part, v0), _mm256_storeu_pd(s->part + 4, v1);
    _mm256_storeu_pd(s->part + 8, v2), _mm256_storeu_pd(s->part + 12, v3);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx2")))
static void dcgan__bn_add_values_avx2(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n) {
    dcgan__bn_add_avx2(s, x, runs, stride, n, 0.0, 0);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx2")))
static void dcgan__bn_add_squares_avx2(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n,
                                       double mean) {
    dcgan__bn_add_avx2(s, x, runs, stride, n, mean, 1);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx2")))
static void dcgan__bn_add_grads_avx2(dcgan__bn_sum *d, dcgan__bn_sum *e, const float *g, const float *x,
                                     size_t n, float mean, float invstd) {
    const size_t whole = n - n % DCGAN__BN_PARTS;
    const __m256 m = _mm256_set1_ps(mean);
    const __m256d is = _mm256_set1_pd(invstd);
    __m256d d0 = _mm256_loadu_pd(d->part), d1 = _mm256_loadu_pd(d->part + 4);
    __m256d d2 = _mm256_loadu_pd(d->part + 8), d3 = _mm256_loadu_pd(d->part + 12);
    __m256d e0 = _mm256_loadu_pd(e->part), e1 = _mm256_loadu_pd(e->part + 4);
    __m256d e2 = _mm256_loadu_pd(e->part + 8), e3 = _mm256_loadu_pd(e->part + 12);
    for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS) {
        const __m256 ga = _mm256_loadu_ps(g + p), gb = _mm256_loadu_ps(g + p + 8);
        const __m256 xa = _mm256_sub_ps(_mm256_loadu_ps(x + p), m);   // x - mean in float
        const __m256 xb = _mm256_sub_ps(_mm256_loadu_ps(x + p + 8), m);
        DCGAN__BN_WIDEN(ga, g0, g1);
        DCGAN__BN_WIDEN(gb, g2, g3);
        DCGAN__BN_WIDEN(xa, x0, x1);
        DCGAN__BN_WIDEN(xb, x2, x3);
        d0 = _mm256_add_pd(d0, g0), d1 = _mm256_add_pd(d1, g1);
        d2 = _mm256_add_pd(d2, g2), d3 = _mm256_add_pd(d3, g3);
        e0 = _mm256_add_pd(e0, _mm256_mul_pd(_mm256_mul_pd(g0, x0), is));
        e1 = _mm256_add_pd(e1, _mm256_mul_pd(_mm256_mul_pd(g1, x1), is));
        e2 = _mm256_add_pd(e2, _mm256_mul_pd(_mm256_mul_pd(g2, x2), is));
        e3 = _mm256_add_pd(e3, _mm256_mul_pd(_mm256_mul_pd(g3, x3), is));
    }
    _mm256_storeu_pd(d->part, d0), _mm256_storeu_pd(d->part + 4, d1);
    _mm256_storeu_pd(d->part + 8, d2), _mm256_storeu_pd(d->part + 12, d3);
    _mm256_storeu_pd(e->part, e0), _mm256_storeu_pd(e->part + 4, e1);
    _mm256_storeu_pd(e->part + 8, e2), _mm256_storeu_pd(e->part + 12, e3);
    dcgan__bn_add_grads(d, e, g + whole, x + whole, n - whole, mean, invstd);   // the rest, by the loops
}
#undef DCGAN__BN_WIDEN
#endif

// The same sums with AVX-512F: partials 8k .. 8k+7 are one vector of eight
// doubles (two vectors for the 16), each lane doing what the loop does to its
// partial, as above: the bits are the loops'. Half the instructions of the
// AVX2 versions: a classifier step about 2% faster (medians of 60-80 pairs), the
// GAN iterations within the noise, on session 42's AMD EPYC with full-width
// AVX-512 (bench/RESULTS.md); not measured where AVX-512 runs as two halves.
#if defined(DCGAN__HAVE_BN_AVX2) && defined(DCGAN__HAVE_AVX512_KERNEL)
#define DCGAN__HAVE_BN_AVX512 1
// 8 floats to 8 doubles (zero-masked with every lane on: g++ 12 takes the plain
// _mm512_cvtps_pd's undefined start vector for a maybe-uninitialized one, a warning)
#define DCGAN__WIDEN8(v) _mm512_maskz_cvtps_pd((__mmask8)0xFF, (v))
DCGAN__NO_FUSE_FN __attribute__((target("avx512f")))
static inline void dcgan__bn_add_avx512(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n,
                                        double mean, int squares) {
    const size_t whole = n - n % DCGAN__BN_PARTS;
    const __m512d m = _mm512_set1_pd(mean);
    __m512d v0 = _mm512_loadu_pd(s->part), v1 = _mm512_loadu_pd(s->part + 8);
    for (int r = 0; r < runs; r++, x += stride) {
        for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS) {
            const __m512d a0 = DCGAN__WIDEN8(_mm256_loadu_ps(x + p));
            const __m512d a1 = DCGAN__WIDEN8(_mm256_loadu_ps(x + p + 8));
            if (squares) {
                const __m512d d0 = _mm512_sub_pd(a0, m), d1 = _mm512_sub_pd(a1, m);
                v0 = _mm512_add_pd(v0, _mm512_mul_pd(d0, d0)), v1 = _mm512_add_pd(v1, _mm512_mul_pd(d1, d1));
            } else {
                v0 = _mm512_add_pd(v0, a0), v1 = _mm512_add_pd(v1, a1);
            }
        }
        // the last n mod 16 values go to the rest alone: the loops' own code
        if (squares) dcgan__bn_add_squares(s, x + whole, 1, 0, n - whole, mean);
        else dcgan__bn_add_values(s, x + whole, 1, 0, n - whole);
    }
    _mm512_storeu_pd(s->part, v0), _mm512_storeu_pd(s->part + 8, v1);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx512f")))
static void dcgan__bn_add_values_avx512(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n) {
    dcgan__bn_add_avx512(s, x, runs, stride, n, 0.0, 0);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx512f")))
static void dcgan__bn_add_squares_avx512(dcgan__bn_sum *s, const float *x, int runs, size_t stride, size_t n,
                                         double mean) {
    dcgan__bn_add_avx512(s, x, runs, stride, n, mean, 1);
}

DCGAN__NO_FUSE_FN __attribute__((target("avx512f")))
static void dcgan__bn_add_grads_avx512(dcgan__bn_sum *d, dcgan__bn_sum *e, const float *g, const float *x,
                                       size_t n, float mean, float invstd) {
    const size_t whole = n - n % DCGAN__BN_PARTS;
    const __m256 m = _mm256_set1_ps(mean);
    const __m512d is = _mm512_set1_pd(invstd);
    __m512d d0 = _mm512_loadu_pd(d->part), d1 = _mm512_loadu_pd(d->part + 8);
    __m512d e0 = _mm512_loadu_pd(e->part), e1 = _mm512_loadu_pd(e->part + 8);
    for (size_t p = 0; p < whole; p += DCGAN__BN_PARTS) {
        const __m512d g0 = DCGAN__WIDEN8(_mm256_loadu_ps(g + p));
        const __m512d g1 = DCGAN__WIDEN8(_mm256_loadu_ps(g + p + 8));
        // x - mean in float, then widened
        const __m512d x0 = DCGAN__WIDEN8(_mm256_sub_ps(_mm256_loadu_ps(x + p), m));
        const __m512d x1 = DCGAN__WIDEN8(_mm256_sub_ps(_mm256_loadu_ps(x + p + 8), m));
        d0 = _mm512_add_pd(d0, g0), d1 = _mm512_add_pd(d1, g1);
        e0 = _mm512_add_pd(e0, _mm512_mul_pd(_mm512_mul_pd(g0, x0), is));
        e1 = _mm512_add_pd(e1, _mm512_mul_pd(_mm512_mul_pd(g1, x1), is));
    }
    _mm512_storeu_pd(d->part, d0), _mm512_storeu_pd(d->part + 8, d1);
    _mm512_storeu_pd(e->part, e0), _mm512_storeu_pd(e->part + 8, e1);
    dcgan__bn_add_grads(d, e, g + whole, x + whole, n - whole, mean, invstd);   // the rest, by the loops
}
#undef DCGAN__WIDEN8
#endif

// dcgan__bn_simd: 2 (the default) BatchNorm's sums with the widest registers
// the CPU has, 1 with AVX2 at most, 0 the loops (tests compare the three; all
// give the same bits).
DCGAN__INTERNAL int dcgan__bn_simd = 2;

// BatchNorm's sums for this CPU: AVX-512F or AVX2 where it has them (within
// dcgan__bn_simd), else the loops.
DCGAN__INTERNAL dcgan__bn_fns dcgan__pick_bn(void) {
    dcgan__bn_fns f = {dcgan__bn_add_values, dcgan__bn_add_squares, dcgan__bn_add_grads};
    (void)dcgan__bn_simd;   // (read below only where there are vector versions)
#ifdef DCGAN__HAVE_BN_AVX512
    if (dcgan__bn_simd >= 2 && dcgan__kernel_get("avx512")) {
        f.values = dcgan__bn_add_values_avx512;
        f.squares = dcgan__bn_add_squares_avx512;
        f.grads = dcgan__bn_add_grads_avx512;
        return f;
    }
#endif
#ifdef DCGAN__HAVE_BN_AVX2
    if (dcgan__bn_simd >= 1 && dcgan__have_avx2_fma()) {
        f.values = dcgan__bn_add_values_avx2;
        f.squares = dcgan__bn_add_squares_avx2;
        f.grads = dcgan__bn_add_grads_avx2;
    }
#endif
    return f;
}

#ifdef __cplusplus
}
#endif

#endif // DCGAN__IMPLEMENTED
#endif // DCGAN_IMPLEMENTATION

// -----------------------------------------------------------------------------
// License
//
// This software is available under two licenses; choose whichever you prefer.
//
// ALTERNATIVE A - MIT License
// Copyright (c) 2026 the dcgan.h authors
// Permission is hereby granted, free of charge, to any person obtaining a copy of
// this software and associated documentation files (the "Software"), to deal in
// the Software without restriction, including without limitation the rights to
// use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
// of the Software, and to permit persons to whom the Software is furnished to do
// so, subject to the following conditions:
// The above copyright notice and this permission notice shall be included in all
// copies or substantial portions of the Software.
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
// IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
// FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
// AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
// LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
// OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
// SOFTWARE.
//
// ALTERNATIVE B - Public Domain (www.unlicense.org)
// This is free and unencumbered software released into the public domain.
// Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
// software, either in source code form or as a compiled binary, for any purpose,
// commercial or non-commercial, and by any means. In jurisdictions that recognize
// copyright laws, the author or authors of this software dedicate any and all
// copyright interest in the software to the public domain. We make this dedication
// for the benefit of the public at large and to the detriment of our heirs and
// successors. We intend this dedication to be an overt act of relinquishment in
// perpetuity of all present and future rights to this software under copyright
// law.
