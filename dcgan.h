// dcgan.h - train deep convolutional GANs in plain C, one header, no autograd.
//
// What it is
//   Tensors, layers with hand-written forward and backward passes, Adam, the
//   GAN loss and a sequential model container: everything needed to train the
//   DCGAN of the chest X-ray study (Kermany et al. 2018 data, 128x128 images)
//   on a CPU, written to be read by students. See README.md for the tour.
//
// Creating the implementation
//   In exactly ONE C or C++ file:
//       #define DCGAN_IMPLEMENTATION
//       #include "dcgan.h"
//   Every other file just includes "dcgan.h". Link with -lm.
//
// Quick start: a 2-layer model, one training step
//       dcgan_layer_spec spec[] = {
//           dcgan_spec_linear(16), dcgan_spec_leaky_relu(0.2f), dcgan_spec_linear(1),
//       };
//       dcgan_model d;  dcgan_rng rng;  dcgan_adam opt;
//       dcgan_rng_seed(&rng, 1);
//       if (dcgan_model_init(&d, "main", spec, 3, 1, 8, 8, 64) != DCGAN_OK)
//           fprintf(stderr, "%s\n", dcgan_last_error());
//       dcgan_model_init_weights(&d, DCGAN_INIT_PYTORCH, &rng);
//       dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, 2e-4, 0.5, 0.999);
//       dcgan_model_zero_grad(&d);
//       dcgan_model_forward(&d, images, 1, &rng);             // images: (64,1,8,8)
//       dcgan_bce_with_logits(&loss, dlogits, dcgan_model_output(&d).data, labels, 64);
//       dcgan_model_backward(&d, dlogits, NULL);
//       dcgan_model_adam_step(&d, &opt);
//       dcgan_model_free(&d);
//
// Configuration macros (define before including the implementation)
//   DCGAN_STATIC            make every public function static to this file
//   DCGAN_MALLOC(sz) DCGAN_REALLOC(p,sz) DCGAN_FREE(p)   all three or none
//   DCGAN_ASSERT(x)         internal invariants only, default ((void)0)
//   DCGAN_NO_IMAGES         compile out the image-folder loader (no stb needed)
//   DCGAN_CUDA              declare the _cuda twins in dcgan_cuda.cu
//
// Conventions
//   Dimension letters: N batch, C channels in, OC channels out, H W input
//   height and width, OH OW output height and width, K kernel size, S stride,
//   P padding, Z latent size. Tensors are float32, NCHW, row-major, contiguous.
//   dcgan_tensor is a view: it owns nothing. The caller owns top-level structs;
//   _init fills one in, _free releases it and zeroes it (free on a zeroed
//   struct does nothing). Functions that can fail return dcgan_status; on
//   failure their outputs are unchanged and dcgan_last_error() says why.
//   Backward functions ADD (+=) into every gradient buffer, dinp included.
//
// Contents
//   1. Status and errors      6. Layers: linear, conv2d, conv_transpose2d,
//   2. Memory                    upsample, batchnorm2d, activations, dropout
//   3. Random numbers         7. Loss: binary cross-entropy on logits
//   4. Tensors                8. Optimizer: Adam
//   5. Matrix multiply (GEMM) 9. Models: sequential container
//
// License: see end of file.

#ifndef DCGAN_H_INCLUDED
#define DCGAN_H_INCLUDED

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
    DCGAN_ERR_CUDA      = -6   // a CUDA call or kernel launch failed
} dcgan_status;

// The enum name of a status, e.g. "DCGAN_ERR_SHAPE"; "DCGAN_UNKNOWN" otherwise.
DCGAN_API const char *dcgan_status_name(dcgan_status s);

// The message of the last failure in this thread, e.g.
// "conv2d_forward: inp has C=3, weight expects C=1". "" if nothing failed yet.
DCGAN_API const char *dcgan_last_error(void);

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

// -----------------------------------------------------------------------------
// 5. Matrix multiply (GEMM)
//
// C = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or X^T.
// op(A) is M x K, op(B) is K x N, C is M x N. lda, ldb, ldc are row strides.
// Every matrix product in the library (linear, conv2d, conv_transpose2d, both
// backward products) goes through dcgan_sgemm, so making it faster (or
// swapping in cuBLAS) speeds up everything. beta = 0 overwrites C without
// reading it (NaN in C does not leak through), as BLAS does.

DCGAN_API void dcgan_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc);
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
typedef struct {
    float *weight;     // (OUT, IN)
    float *bias;       // (OUT) or NULL
    int in_features, out_features;
} dcgan_linear;

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
typedef struct {
    float *weight;     // (OC, C, K, K)
    float *bias;       // (OC) or NULL
    int in_channels, out_channels, kernel, stride;
    int pad_top, pad_left, pad_bottom, pad_right;
} dcgan_conv2d;

// Output size of a convolution along one axis.
DCGAN_API int dcgan_conv_out_size(int in, int kernel, int stride, int pad_before, int pad_after);
// TensorFlow/Keras padding='same' for a convolution: out = ceil(in / S),
// total = max((out - 1) * S + K - in, 0), before = total / 2, after = the rest.
DCGAN_API void dcgan_same_padding(int in, int kernel, int stride, int *pad_before,
                                  int *pad_after);
// Scratch floats that dcgan_conv2d_forward/backward need for an HxW input
// (the im2col matrix of one image). Pass work = NULL to let them allocate it.
DCGAN_API size_t dcgan_conv2d_work_size(const dcgan_conv2d *conv, int H, int W);

DCGAN_API dcgan_status dcgan_conv2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_conv2d *conv, float *work);
DCGAN_API dcgan_status dcgan_conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_conv2d *conv, float *work);
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
typedef struct {
    float *weight;     // (C, OC, K, K), PyTorch layout
    float *bias;       // (OC) or NULL
    int in_channels, out_channels, kernel, stride;
    int pad_top, pad_left, pad_bottom, pad_right;
} dcgan_conv_transpose2d;

DCGAN_API int dcgan_conv_transpose_out_size(int in, int kernel, int stride, int pad_before,
                                            int pad_after);
DCGAN_API size_t dcgan_conv_transpose2d_work_size(const dcgan_conv_transpose2d *conv,
                                                  int H, int W);
DCGAN_API dcgan_status dcgan_conv_transpose2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                      const dcgan_conv_transpose2d *conv,
                                                      float *work);
DCGAN_API dcgan_status dcgan_conv_transpose2d_backward(dcgan_tensor dinp, float *dweight,
                                                       float *dbias, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_conv_transpose2d *conv,
                                                       float *work);
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
//             lambda = src - i0. Scales are computed in float, as PyTorch does.
typedef enum { DCGAN_UPSAMPLE_NEAREST = 0, DCGAN_UPSAMPLE_BILINEAR = 1 } dcgan_upsample_mode;

DCGAN_API dcgan_status dcgan_upsample_forward(dcgan_tensor out, dcgan_tensor inp,
                                              dcgan_upsample_mode mode);
DCGAN_API dcgan_status dcgan_upsample_backward(dcgan_tensor dinp, dcgan_tensor dout,
                                               dcgan_upsample_mode mode);

// BatchNorm2d: per channel, y = gamma * (x - mean) / sqrt(var + eps) + beta
// (torch.nn.BatchNorm2d). Training: mean and biased variance over (N,H,W);
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

// Elementwise activations over n floats. Backward takes what it needs:
// LeakyReLU and ReLU the input, Tanh and Sigmoid the output.
DCGAN_API void dcgan_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
DCGAN_API void dcgan_leaky_relu_backward(float *dinp, const float *dout, const float *inp,
                                         size_t n, float slope);
DCGAN_API void dcgan_relu_forward(float *out, const float *inp, size_t n);
DCGAN_API void dcgan_relu_backward(float *dinp, const float *dout, const float *inp, size_t n);
DCGAN_API void dcgan_tanh_forward(float *out, const float *inp, size_t n);
DCGAN_API void dcgan_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
DCGAN_API void dcgan_sigmoid_forward(float *out, const float *inp, size_t n);
DCGAN_API void dcgan_sigmoid_backward(float *dinp, const float *dout, const float *out,
                                      size_t n);

// Dropout(p), inverted (torch.nn.Dropout): in training each value is kept with
// probability 1 - p and scaled by 1 / (1 - p); mask[i] records that factor
// (0 or 1/(1-p)) for backward. In eval, out = inp and mask = 1.
DCGAN_API void dcgan_dropout_forward(float *out, float *mask, const float *inp, size_t n,
                                     float p, int training, dcgan_rng *rng);
DCGAN_API void dcgan_dropout_backward(float *dinp, const float *dout, const float *mask,
                                      size_t n);

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
// One step over n parameters. Scans grads first: on NaN or Inf returns
// DCGAN_ERR_NONFINITE and leaves params, m, v and opt->step unchanged.
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
    DCGAN_LAYER_RESHAPE      // (N, C*H*W) viewed as (N, C, H, W); Flatten is c = -1
} dcgan_layer_kind;

typedef struct {
    dcgan_layer_kind kind;
    int out_channels;        // linear: out features; conv: OC; reshape: C (-1 = flatten)
    int kernel, stride;      // conv, conv_transpose
    int pad_top, pad_left, pad_bottom, pad_right;
    int same;                // conv, conv_transpose: Keras padding='same', pads derived
    int bias;                // linear, conv: has a bias
    int out_h, out_w;        // reshape target; upsample: scale factor in out_h
    dcgan_upsample_mode upsample_mode;
    float alpha;             // leaky_relu slope, dropout p, batchnorm eps
    float momentum;          // batchnorm momentum
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
DCGAN_API dcgan_layer_spec dcgan_spec_reshape(int c, int h, int w);
DCGAN_API dcgan_layer_spec dcgan_spec_flatten(void);

typedef struct {
    dcgan_layer_spec spec;
    int in_c, in_h, in_w;        // per-sample input shape
    int out_c, out_h, out_w;     // per-sample output shape
    size_t weight_offset, weight_count;   // into params/grads (count 0: none)
    size_t bias_offset, bias_count;
    size_t stats_offset;         // batchnorm: running_mean, running_var in buffers
    size_t saved_offset;         // into saved: dropout mask or batchnorm mean/invstd
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
    float *acts;                 // slot 0: input; slot i+1: output of layer i
    float *dacts;                // gradients of the same slots
    size_t *slot_offset;         // n_layers + 2 offsets into acts/dacts
    float *saved;                // dropout masks, batchnorm statistics
    float *work;                 // im2col scratch
    size_t n_work;
} dcgan_model;

// Builds the model for inputs of shape (in_c, in_h, in_w) and batches up to
// max_batch: checks every layer's shape, allocates all memory (zeroed). On
// failure frees everything and leaves *m zeroed.
DCGAN_API dcgan_status dcgan_model_init(dcgan_model *m, const char *prefix,
                                        const dcgan_layer_spec *specs, int n_layers,
                                        int in_c, int in_h, int in_w, int max_batch);
DCGAN_API void dcgan_model_free(dcgan_model *m);

typedef enum {
    DCGAN_INIT_PYTORCH = 0,  // PyTorch defaults: weight, bias U(-1/sqrt(fan_in), +) ; BN 1, 0
    DCGAN_INIT_KERAS   = 1,  // glorot_uniform kernels, zero biases; BN 1, 0
    DCGAN_INIT_DCGAN   = 2   // Radford et al.: weights N(0, 0.02), biases 0; BN gamma N(1, 0.02)
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
// Sets every gradient to zero.
DCGAN_API void dcgan_model_zero_grad(dcgan_model *m);
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

#ifdef __cplusplus
}
#endif

#endif // DCGAN_H_INCLUDED

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

#ifdef __cplusplus
extern "C" {
#endif

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
    }
    return "DCGAN_UNKNOWN";
}

DCGAN_API const char *dcgan_last_error(void) { return dcgan__err_buf; }

// Records "<func without dcgan_ prefix>: <message>" and returns status.
static dcgan_status dcgan__fail(dcgan_status status, const char *func, const char *fmt, ...) {
    va_list ap;
    size_t len;
    if (strncmp(func, "dcgan_", 6) == 0) func += 6;
    snprintf(dcgan__err_buf, sizeof dcgan__err_buf, "%s: ", func);
    len = strlen(dcgan__err_buf);
    va_start(ap, fmt);
    vsnprintf(dcgan__err_buf + len, sizeof dcgan__err_buf - len, fmt, ap);
    va_end(ap);
    return status;
}

#define DCGAN__FAIL(status, ...) dcgan__fail((status), __func__, __VA_ARGS__)

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

DCGAN_API void dcgan_free(void *p) {
    if (p) DCGAN_FREE(p);
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

DCGAN_API float dcgan_rng_uniform(dcgan_rng *rng) {
    return (float)(dcgan_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

DCGAN_API float dcgan_rng_normal(dcgan_rng *rng) {
    const double two_pi = 6.283185307179586476925;
    double u1, u2, r;
    if (rng->has_spare) {
        rng->has_spare = 0;
        return (float)rng->spare;
    }
    u1 = ((double)(dcgan_rng_u32(rng) >> 8) + 1.0) / 16777216.0;  // (0, 1]: log is finite
    u2 = (double)(dcgan_rng_u32(rng) >> 8) / 16777216.0;
    r = sqrt(-2.0 * log(u1));
    rng->spare = r * sin(two_pi * u2);
    rng->has_spare = 1;
    return (float)(r * cos(two_pi * u2));
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

DCGAN_API size_t dcgan_tensor_numel(dcgan_tensor t) {
    if (t.n <= 0 || t.c <= 0 || t.h <= 0 || t.w <= 0) return 0;
    return (size_t)t.n * (size_t)t.c * (size_t)t.h * (size_t)t.w;
}

// 1 if t has exactly shape (n, c, h, w).
static int dcgan__shape_is(dcgan_tensor t, int n, int c, int h, int w) {
    return t.n == n && t.c == c && t.h == h && t.w == w;
}

// -----------------------------------------------------------------------------
// 5. Matrix multiply (GEMM)

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

// Blocking sizes: a KC x NC panel of B (256 x 256 floats = 256 KiB) stays in L2
// while every row of A streams past it.
#define DCGAN__GEMM_KC 256
#define DCGAN__GEMM_NC 256

// The faster path: copy a KC x NC block of op(B) into a contiguous panel, then
// for each row i of C and each k, add a(i,k) * panel row k to C row i. The
// innermost loop runs over contiguous memory, so the compiler vectorises it.
DCGAN_API void dcgan_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    float panel[DCGAN__GEMM_KC * DCGAN__GEMM_NC];
    float arow[DCGAN__GEMM_KC];
    if (M <= 0 || N <= 0) return;
    // C = beta * C first; then the blocks below only accumulate.
    for (int i = 0; i < M; i++) {
        float *c = &C[(size_t)i * ldc];
        if (beta == 0.0f) {
            for (int j = 0; j < N; j++) c[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (int j = 0; j < N; j++) c[j] *= beta;
        }
    }
    if (K <= 0 || alpha == 0.0f) return;
    for (int j0 = 0; j0 < N; j0 += DCGAN__GEMM_NC) {
        int nc = N - j0 < DCGAN__GEMM_NC ? N - j0 : DCGAN__GEMM_NC;
        for (int k0 = 0; k0 < K; k0 += DCGAN__GEMM_KC) {
            int kc = K - k0 < DCGAN__GEMM_KC ? K - k0 : DCGAN__GEMM_KC;
            // panel[k][j] = op(B)[k0 + k][j0 + j]
            for (int k = 0; k < kc; k++) {
                float *p = &panel[(size_t)k * nc];
                if (trans_b) {
                    for (int j = 0; j < nc; j++) p[j] = B[(size_t)(j0 + j) * ldb + (k0 + k)];
                } else {
                    memcpy(p, &B[(size_t)(k0 + k) * ldb + j0], (size_t)nc * sizeof(float));
                }
            }
            for (int i = 0; i < M; i++) {
                float *c = &C[(size_t)i * ldc + j0];
                for (int k = 0; k < kc; k++) {
                    arow[k] = alpha * (trans_a ? A[(size_t)(k0 + k) * lda + i]
                                               : A[(size_t)i * lda + (k0 + k)]);
                }
                for (int k = 0; k < kc; k++) {
                    const float a = arow[k];
                    const float *p = &panel[(size_t)k * nc];
                    if (a == 0.0f) continue;
                    for (int j = 0; j < nc; j++) c[j] += a * p[j];
                }
            }
        }
    }
}

// -----------------------------------------------------------------------------
// 6. Layers

// Linear: (N, IN) -> (N, OUT)

DCGAN_API dcgan_status dcgan_linear_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_linear *lin) {
    // inp: (N, IN)   weight: (OUT, IN)   out: (N, OUT)
    size_t in_size = dcgan_tensor_numel(inp) / (size_t)(inp.n > 0 ? inp.n : 1);
    size_t out_size = dcgan_tensor_numel(out) / (size_t)(out.n > 0 ? out.n : 1);
    if (inp.n <= 0 || in_size != (size_t)lin->in_features)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp has %zu features per sample, layer expects %d",
                           in_size, lin->in_features);
    if (out.n != inp.n || out_size != (size_t)lin->out_features)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE,
                           "out is (%d, %zu), expected (%d, %d) for linear %d -> %d",
                           out.n, out_size, inp.n, lin->out_features, lin->in_features,
                           lin->out_features);
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
    size_t in_size = dcgan_tensor_numel(inp) / (size_t)(inp.n > 0 ? inp.n : 1);
    size_t out_size = dcgan_tensor_numel(dout) / (size_t)(dout.n > 0 ? dout.n : 1);
    int N = inp.n;
    if (N <= 0 || in_size != (size_t)lin->in_features || dout.n != N ||
        out_size != (size_t)lin->out_features)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE,
                           "inp (%d, %zu) and dout (%d, %zu) do not fit linear %d -> %d",
                           inp.n, in_size, dout.n, out_size, lin->in_features,
                           lin->out_features);
    if (dinp.data && dcgan_tensor_numel(dinp) != dcgan_tensor_numel(inp))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp has %zu values, inp has %zu",
                           dcgan_tensor_numel(dinp), dcgan_tensor_numel(inp));
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

// Conv2d: (N,C,H,W) -> (N,OC,OH,OW)

DCGAN_API int dcgan_conv_out_size(int in, int kernel, int stride, int pad_before,
                                  int pad_after) {
    int span = in + pad_before + pad_after - kernel;
    if (stride <= 0 || span < 0) return 0;
    return span / stride + 1;
}

DCGAN_API void dcgan_same_padding(int in, int kernel, int stride, int *pad_before,
                                  int *pad_after) {
    int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + kernel - in;
    if (total < 0) total = 0;
    *pad_before = total / 2;
    *pad_after = total - total / 2;
}

// Shapes a conv2d sees: checks the input against the layer and returns OH, OW.
static dcgan_status dcgan__conv2d_check(const char *func, dcgan_tensor inp,
                                        const dcgan_conv2d *conv, int *OH, int *OW) {
    if (conv->kernel <= 0 || conv->stride <= 0 || conv->pad_top < 0 || conv->pad_left < 0 ||
        conv->pad_bottom < 0 || conv->pad_right < 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "bad geometry: K=%d S=%d pads %d,%d,%d,%d",
                           conv->kernel, conv->stride, conv->pad_top, conv->pad_left,
                           conv->pad_bottom, conv->pad_right);
    if (inp.n <= 0 || inp.c != conv->in_channels)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp has N=%d C=%d, weight expects C=%d",
                           inp.n, inp.c, conv->in_channels);
    *OH = dcgan_conv_out_size(inp.h, conv->kernel, conv->stride, conv->pad_top,
                              conv->pad_bottom);
    *OW = dcgan_conv_out_size(inp.w, conv->kernel, conv->stride, conv->pad_left,
                              conv->pad_right);
    if (*OH <= 0 || *OW <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp %dx%d is smaller than kernel %d",
                           inp.h, inp.w, conv->kernel);
    return DCGAN_OK;
}

// im2col for one image: col[(c*K + kh)*K + kw][oh*OW + ow] =
// img[c][oh*S - pt + kh][ow*S - pl + kw], zero outside. col is (C*K*K, OH*OW).
static void dcgan__im2col(float *col, const float *img, int C, int H, int W, int K, int S,
                          int pt, int pl, int OH, int OW) {
    for (int c = 0; c < C; c++) {
        for (int kh = 0; kh < K; kh++) {
            for (int kw = 0; kw < K; kw++) {
                float *dst = &col[((size_t)(c * K + kh) * K + kw) * (size_t)OH * OW];
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * S - pt + kh;
                    float *row = &dst[(size_t)oh * OW];
                    if (ih < 0 || ih >= H) {
                        memset(row, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *src = &img[((size_t)c * H + ih) * W];
                    for (int ow = 0; ow < OW; ow++) {
                        int iw = ow * S - pl + kw;
                        row[ow] = (iw >= 0 && iw < W) ? src[iw] : 0.0f;
                    }
                }
            }
        }
    }
}

// col2im: the adjoint of im2col; ADDS every column entry back into img.
static void dcgan__col2im(float *img, const float *col, int C, int H, int W, int K, int S,
                          int pt, int pl, int OH, int OW) {
    for (int c = 0; c < C; c++) {
        for (int kh = 0; kh < K; kh++) {
            for (int kw = 0; kw < K; kw++) {
                const float *srcc = &col[((size_t)(c * K + kh) * K + kw) * (size_t)OH * OW];
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * S - pt + kh;
                    if (ih < 0 || ih >= H) continue;
                    const float *row = &srcc[(size_t)oh * OW];
                    float *dst = &img[((size_t)c * H + ih) * W];
                    for (int ow = 0; ow < OW; ow++) {
                        int iw = ow * S - pl + kw;
                        if (iw >= 0 && iw < W) dst[iw] += row[ow];
                    }
                }
            }
        }
    }
}

DCGAN_API size_t dcgan_conv2d_work_size(const dcgan_conv2d *conv, int H, int W) {
    int OH = dcgan_conv_out_size(H, conv->kernel, conv->stride, conv->pad_top,
                                 conv->pad_bottom);
    int OW = dcgan_conv_out_size(W, conv->kernel, conv->stride, conv->pad_left,
                                 conv->pad_right);
    return (size_t)conv->in_channels * conv->kernel * conv->kernel * (size_t)OH * OW;
}

DCGAN_API dcgan_status dcgan_conv2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                            const dcgan_conv2d *conv, float *work) {
    // inp: (N,C,H,W)   weight: (OC, C*K*K)   col: (C*K*K, OH*OW)   out: (N,OC,OH,OW)
    int OH, OW;
    dcgan_status st = dcgan__conv2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(out, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "out is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           out.n, out.c, out.h, out.w, inp.n, conv->out_channels, OH, OW);
    float *col = work;
    if (!col) {
        col = (float *)dcgan__alloc(dcgan_conv2d_work_size(conv, inp.h, inp.w), sizeof(float));
        if (!col) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the im2col buffer");
    }
    const int CKK = conv->in_channels * conv->kernel * conv->kernel;
    const size_t OHW = (size_t)OH * OW;
    for (int n = 0; n < inp.n; n++) {
        const float *img = &inp.data[(size_t)n * inp.c * inp.h * inp.w];
        float *o = &out.data[(size_t)n * conv->out_channels * OHW];
        dcgan__im2col(col, img, inp.c, inp.h, inp.w, conv->kernel, conv->stride,
                      conv->pad_top, conv->pad_left, OH, OW);
        // out[n] = weight * col
        dcgan_sgemm(0, 0, conv->out_channels, (int)OHW, CKK, 1.0f, conv->weight, CKK, col,
                    (int)OHW, 0.0f, o, (int)OHW);
        if (conv->bias) {
            for (int oc = 0; oc < conv->out_channels; oc++)
                for (size_t p = 0; p < OHW; p++) o[(size_t)oc * OHW + p] += conv->bias[oc];
        }
    }
    if (!work) DCGAN_FREE(col);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv2d_backward(dcgan_tensor dinp, float *dweight, float *dbias,
                                             dcgan_tensor dout, dcgan_tensor inp,
                                             const dcgan_conv2d *conv, float *work) {
    // dout: (N,OC,OH,OW)   dweight: (OC, C*K*K)   dinp: (N,C,H,W)
    int OH, OW;
    dcgan_status st = dcgan__conv2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(dout, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dout is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           dout.n, dout.c, dout.h, dout.w, inp.n, conv->out_channels, OH, OW);
    if (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp is (%d,%d,%d,%d), inp is (%d,%d,%d,%d)",
                           dinp.n, dinp.c, dinp.h, dinp.w, inp.n, inp.c, inp.h, inp.w);
    float *col = work;
    if (!col) {
        col = (float *)dcgan__alloc(dcgan_conv2d_work_size(conv, inp.h, inp.w), sizeof(float));
        if (!col) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the im2col buffer");
    }
    const int CKK = conv->in_channels * conv->kernel * conv->kernel;
    const size_t OHW = (size_t)OH * OW;
    for (int n = 0; n < inp.n; n++) {
        const float *img = &inp.data[(size_t)n * inp.c * inp.h * inp.w];
        const float *d = &dout.data[(size_t)n * conv->out_channels * OHW];
        if (dbias) {
            for (int oc = 0; oc < conv->out_channels; oc++) {
                float s = 0.0f;
                for (size_t p = 0; p < OHW; p++) s += d[(size_t)oc * OHW + p];
                dbias[oc] += s;
            }
        }
        if (dweight) {
            // dweight += dout[n] * col^T
            dcgan__im2col(col, img, inp.c, inp.h, inp.w, conv->kernel, conv->stride,
                          conv->pad_top, conv->pad_left, OH, OW);
            dcgan_sgemm(0, 1, conv->out_channels, CKK, (int)OHW, 1.0f, d, (int)OHW, col,
                        (int)OHW, 1.0f, dweight, CKK);
        }
        if (dinp.data) {
            // dcol = weight^T * dout[n], then scattered back into dinp[n]
            dcgan_sgemm(1, 0, CKK, (int)OHW, conv->out_channels, 1.0f, conv->weight, CKK, d,
                        (int)OHW, 0.0f, col, (int)OHW);
            dcgan__col2im(&dinp.data[(size_t)n * inp.c * inp.h * inp.w], col, inp.c, inp.h,
                          inp.w, conv->kernel, conv->stride, conv->pad_top, conv->pad_left,
                          OH, OW);
        }
    }
    if (!work) DCGAN_FREE(col);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                const dcgan_conv2d *conv) {
    int OH, OW;
    dcgan_status st = dcgan__conv2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(out, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "out is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           out.n, out.c, out.h, out.w, inp.n, conv->out_channels, OH, OW);
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
    int OH, OW;
    dcgan_status st = dcgan__conv2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(dout, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dout is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           dout.n, dout.c, dout.h, dout.w, inp.n, conv->out_channels, OH, OW);
    if (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp is (%d,%d,%d,%d), inp is (%d,%d,%d,%d)",
                           dinp.n, dinp.c, dinp.h, dinp.w, inp.n, inp.c, inp.h, inp.w);
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

// ConvTranspose2d: (N,C,H,W) -> (N,OC,OH,OW)

DCGAN_API int dcgan_conv_transpose_out_size(int in, int kernel, int stride, int pad_before,
                                            int pad_after) {
    int out = (in - 1) * stride - pad_before - pad_after + kernel;
    return out > 0 ? out : 0;
}

static dcgan_status dcgan__conv_transpose2d_check(const char *func, dcgan_tensor inp,
                                                  const dcgan_conv_transpose2d *conv,
                                                  int *OH, int *OW) {
    if (conv->kernel <= 0 || conv->stride <= 0 || conv->pad_top < 0 || conv->pad_left < 0 ||
        conv->pad_bottom < 0 || conv->pad_right < 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "bad geometry: K=%d S=%d pads %d,%d,%d,%d",
                           conv->kernel, conv->stride, conv->pad_top, conv->pad_left,
                           conv->pad_bottom, conv->pad_right);
    if (inp.n <= 0 || inp.c != conv->in_channels)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "inp has N=%d C=%d, weight expects C=%d",
                           inp.n, inp.c, conv->in_channels);
    *OH = dcgan_conv_transpose_out_size(inp.h, conv->kernel, conv->stride, conv->pad_top,
                                        conv->pad_bottom);
    *OW = dcgan_conv_transpose_out_size(inp.w, conv->kernel, conv->stride, conv->pad_left,
                                        conv->pad_right);
    if (*OH <= 0 || *OW <= 0)
        return dcgan__fail(DCGAN_ERR_SHAPE, func, "padding crops away the whole %dx%d output",
                           inp.h, inp.w);
    return DCGAN_OK;
}

DCGAN_API size_t dcgan_conv_transpose2d_work_size(const dcgan_conv_transpose2d *conv,
                                                  int H, int W) {
    return (size_t)conv->out_channels * conv->kernel * conv->kernel * (size_t)H * W;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                      const dcgan_conv_transpose2d *conv,
                                                      float *work) {
    // inp: (N,C,H,W)   weight: (C, OC*K*K)   col: (OC*K*K, H*W)   out: (N,OC,OH,OW)
    // The output plays the role of a conv2d input and inp that of its output.
    int OH, OW;
    dcgan_status st = dcgan__conv_transpose2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(out, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "out is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           out.n, out.c, out.h, out.w, inp.n, conv->out_channels, OH, OW);
    float *col = work;
    if (!col) {
        col = (float *)dcgan__alloc(dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w),
                                    sizeof(float));
        if (!col) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the col buffer");
    }
    const int OCKK = conv->out_channels * conv->kernel * conv->kernel;
    const int HW = inp.h * inp.w;
    const size_t OHW = (size_t)OH * OW;
    for (int n = 0; n < inp.n; n++) {
        float *o = &out.data[(size_t)n * conv->out_channels * OHW];
        // col = weight^T * inp[n]
        dcgan_sgemm(1, 0, OCKK, HW, conv->in_channels, 1.0f, conv->weight, OCKK,
                    &inp.data[(size_t)n * inp.c * HW], HW, 0.0f, col, HW);
        for (int oc = 0; oc < conv->out_channels; oc++) {
            float b = conv->bias ? conv->bias[oc] : 0.0f;
            for (size_t p = 0; p < OHW; p++) o[(size_t)oc * OHW + p] = b;
        }
        dcgan__col2im(o, col, conv->out_channels, OH, OW, conv->kernel, conv->stride,
                      conv->pad_top, conv->pad_left, inp.h, inp.w);
    }
    if (!work) DCGAN_FREE(col);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_backward(dcgan_tensor dinp, float *dweight,
                                                       float *dbias, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_conv_transpose2d *conv,
                                                       float *work) {
    // dout: (N,OC,OH,OW) -> col (OC*K*K, H*W)   dinp[n] += weight * col
    // dweight (C, OC*K*K) += inp[n] * col^T
    int OH, OW;
    dcgan_status st = dcgan__conv_transpose2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(dout, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dout is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           dout.n, dout.c, dout.h, dout.w, inp.n, conv->out_channels, OH, OW);
    if (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp is (%d,%d,%d,%d), inp is (%d,%d,%d,%d)",
                           dinp.n, dinp.c, dinp.h, dinp.w, inp.n, inp.c, inp.h, inp.w);
    float *col = work;
    if (!col) {
        col = (float *)dcgan__alloc(dcgan_conv_transpose2d_work_size(conv, inp.h, inp.w),
                                    sizeof(float));
        if (!col) return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the col buffer");
    }
    const int OCKK = conv->out_channels * conv->kernel * conv->kernel;
    const int HW = inp.h * inp.w;
    const size_t OHW = (size_t)OH * OW;
    for (int n = 0; n < inp.n; n++) {
        const float *d = &dout.data[(size_t)n * conv->out_channels * OHW];
        if (dbias) {
            for (int oc = 0; oc < conv->out_channels; oc++) {
                float s = 0.0f;
                for (size_t p = 0; p < OHW; p++) s += d[(size_t)oc * OHW + p];
                dbias[oc] += s;
            }
        }
        if (!dweight && !dinp.data) continue;
        dcgan__im2col(col, d, conv->out_channels, OH, OW, conv->kernel, conv->stride,
                      conv->pad_top, conv->pad_left, inp.h, inp.w);
        if (dinp.data)
            dcgan_sgemm(0, 0, conv->in_channels, HW, OCKK, 1.0f, conv->weight, OCKK, col, HW,
                        1.0f, &dinp.data[(size_t)n * inp.c * HW], HW);
        if (dweight)
            dcgan_sgemm(0, 1, conv->in_channels, OCKK, HW, 1.0f,
                        &inp.data[(size_t)n * inp.c * HW], HW, col, HW, 1.0f, dweight, OCKK);
    }
    if (!work) DCGAN_FREE(col);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_forward_ref(dcgan_tensor out, dcgan_tensor inp,
                                                          const dcgan_conv_transpose2d *conv) {
    int OH, OW;
    dcgan_status st = dcgan__conv_transpose2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(out, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "out is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           out.n, out.c, out.h, out.w, inp.n, conv->out_channels, OH, OW);
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
    int OH, OW;
    dcgan_status st = dcgan__conv_transpose2d_check(__func__, inp, conv, &OH, &OW);
    if (st != DCGAN_OK) return st;
    if (!dcgan__shape_is(dout, inp.n, conv->out_channels, OH, OW))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dout is (%d,%d,%d,%d), expected (%d,%d,%d,%d)",
                           dout.n, dout.c, dout.h, dout.w, inp.n, conv->out_channels, OH, OW);
    if (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp is (%d,%d,%d,%d), inp is (%d,%d,%d,%d)",
                           dinp.n, dinp.c, dinp.h, dinp.w, inp.n, inp.c, inp.h, inp.w);
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

// Upsample: (N,C,H,W) -> (N,C,OH,OW)

// Source coordinates for one output axis, as PyTorch computes them.
// nearest: i0 = i1 = floor(dst * scale); bilinear: see the section comment.
static void dcgan__resize_coord(int dst, int in, int out, dcgan_upsample_mode mode, int *i0,
                                int *i1, float *lambda1) {
    float scale = (float)in / (float)out;
    if (mode == DCGAN_UPSAMPLE_NEAREST) {
        int s = (int)floorf((float)dst * scale);
        *i0 = *i1 = s < in - 1 ? s : in - 1;
        *lambda1 = 0.0f;
        return;
    }
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int s = (int)src;                       // floor, since src >= 0
    if (s > in - 1) s = in - 1;
    *i0 = s;
    *i1 = s + 1 < in ? s + 1 : in - 1;
    *lambda1 = src - (float)s;
}

DCGAN_API dcgan_status dcgan_upsample_forward(dcgan_tensor out, dcgan_tensor inp,
                                              dcgan_upsample_mode mode) {
    // inp: (N,C,H,W)   out: (N,C,OH,OW)
    if (inp.n <= 0 || inp.c <= 0 || inp.h <= 0 || inp.w <= 0 || out.n != inp.n ||
        out.c != inp.c || out.h <= 0 || out.w <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d) and out (%d,%d,%d,%d) differ in N or C",
                           inp.n, inp.c, inp.h, inp.w, out.n, out.c, out.h, out.w);
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
                float v = lh0 * (lw0 * src[h0 * inp.w + w0] + lw1 * src[h0 * inp.w + w1]) +
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
    if (dinp.n <= 0 || dinp.c <= 0 || dinp.h <= 0 || dinp.w <= 0 || dout.n != dinp.n ||
        dout.c != dinp.c || dout.h <= 0 || dout.w <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "dinp (%d,%d,%d,%d) and dout (%d,%d,%d,%d) differ in N or C",
                           dinp.n, dinp.c, dinp.h, dinp.w, dout.n, dout.c, dout.h, dout.w);
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

// BatchNorm2d: (N,C,H,W) -> (N,C,H,W)

DCGAN_API dcgan_status dcgan_batchnorm2d_forward(dcgan_tensor out, dcgan_tensor inp,
                                                 dcgan_batchnorm2d *bn, int training) {
    // per channel c: statistics over the M = N*H*W values inp[:, c, :, :]
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(out, inp.n, inp.c, inp.h, inp.w))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), out (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, out.n, out.c, out.h, out.w, bn->channels);
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)inp.n * HW;
    if (training && M < 2)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "training needs more than 1 value per channel, got %zu", M);
    for (int c = 0; c < inp.c; c++) {
        double mean, var;
        if (training) {
            double sum = 0.0, sq = 0.0;
            for (int n = 0; n < inp.n; n++) {
                const float *x = &inp.data[((size_t)n * inp.c + c) * HW];
                for (size_t p = 0; p < HW; p++) sum += x[p];
            }
            mean = sum / (double)M;
            for (int n = 0; n < inp.n; n++) {
                const float *x = &inp.data[((size_t)n * inp.c + c) * HW];
                for (size_t p = 0; p < HW; p++) sq += (x[p] - mean) * (x[p] - mean);
            }
            var = sq / (double)M;  // biased, used to normalise
            bn->running_mean[c] = (float)((1.0 - bn->momentum) * bn->running_mean[c] +
                                          bn->momentum * mean);
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
            const float *x = &inp.data[((size_t)n * inp.c + c) * HW];
            float *y = &out.data[((size_t)n * inp.c + c) * HW];
            for (size_t p = 0; p < HW; p++) y[p] = x[p] * scale + shift;
        }
    }
    bn->saved_training = training;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_batchnorm2d_backward(dcgan_tensor dinp, float *dgamma,
                                                  float *dbeta, dcgan_tensor dout,
                                                  dcgan_tensor inp,
                                                  const dcgan_batchnorm2d *bn) {
    // xhat = (x - mean) * invstd;  dgamma += sum dout * xhat;  dbeta += sum dout
    // training: dx = gamma * invstd / M * (M * dout - sum dout - xhat * sum dout * xhat)
    // eval:     dx = gamma * invstd * dout
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__shape_is(dout, inp.n, inp.c, inp.h, inp.w) ||
        (dinp.data && !dcgan__shape_is(dinp, inp.n, inp.c, inp.h, inp.w)))
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp (%d,%d,%d,%d), dout (%d,%d,%d,%d), layer has C=%d",
                           inp.n, inp.c, inp.h, inp.w, dout.n, dout.c, dout.h, dout.w,
                           bn->channels);
    const size_t HW = (size_t)inp.h * inp.w, M = (size_t)inp.n * HW;
    for (int c = 0; c < inp.c; c++) {
        const float mean = bn->save_mean[c], invstd = bn->save_invstd[c];
        double sum_d = 0.0, sum_dx = 0.0;
        for (int n = 0; n < inp.n; n++) {
            const float *x = &inp.data[((size_t)n * inp.c + c) * HW];
            const float *d = &dout.data[((size_t)n * inp.c + c) * HW];
            for (size_t p = 0; p < HW; p++) {
                sum_d += d[p];
                sum_dx += (double)d[p] * (x[p] - mean) * invstd;
            }
        }
        if (dgamma) dgamma[c] += (float)sum_dx;
        if (dbeta) dbeta[c] += (float)sum_d;
        if (!dinp.data) continue;
        const float g = bn->gamma[c] * invstd;
        const float mean_d = (float)(sum_d / (double)M), mean_dx = (float)(sum_dx / (double)M);
        for (int n = 0; n < inp.n; n++) {
            const float *x = &inp.data[((size_t)n * inp.c + c) * HW];
            const float *d = &dout.data[((size_t)n * inp.c + c) * HW];
            float *dx = &dinp.data[((size_t)n * inp.c + c) * HW];
            for (size_t p = 0; p < HW; p++) {
                if (bn->saved_training) {
                    float xhat = (x[p] - mean) * invstd;
                    dx[p] += g * (d[p] - mean_d - xhat * mean_dx);
                } else {
                    dx[p] += g * d[p];
                }
            }
        }
    }
    return DCGAN_OK;
}

// Activations

// LeakyReLU: out = x > 0 ? x : slope * x                     (torch.nn.LeakyReLU)
DCGAN_API void dcgan_leaky_relu_forward(float *out, const float *inp, size_t n, float slope) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}

DCGAN_API void dcgan_leaky_relu_backward(float *dinp, const float *dout, const float *inp,
                                         size_t n, float slope) {
    for (size_t i = 0; i < n; i++) {
        float local_grad = inp[i] > 0.0f ? 1.0f : slope;
        dinp[i] += local_grad * dout[i];
    }
}

// ReLU: out = max(x, 0)                                      (torch.nn.ReLU)
DCGAN_API void dcgan_relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

DCGAN_API void dcgan_relu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (inp[i] > 0.0f) dinp[i] += dout[i];
}

// Tanh: out = tanh(x); d/dx = 1 - out^2                      (torch.nn.Tanh)
DCGAN_API void dcgan_tanh_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = tanhf(inp[i]);
}

DCGAN_API void dcgan_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += (1.0f - out[i] * out[i]) * dout[i];
}

// Sigmoid: out = 1 / (1 + exp(-x)); d/dx = out (1 - out)     (torch.nn.Sigmoid)
// Written in two branches so exp never overflows.
DCGAN_API void dcgan_sigmoid_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

DCGAN_API void dcgan_sigmoid_backward(float *dinp, const float *dout, const float *out,
                                      size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] * (1.0f - out[i]) * dout[i];
}

// Dropout

DCGAN_API void dcgan_dropout_forward(float *out, float *mask, const float *inp, size_t n,
                                     float p, int training, dcgan_rng *rng) {
    if (!training || p <= 0.0f) {
        for (size_t i = 0; i < n; i++) {
            out[i] = inp[i];
            mask[i] = 1.0f;
        }
        return;
    }
    const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (size_t i = 0; i < n; i++) {
        mask[i] = dcgan_rng_uniform(rng) < p ? 0.0f : keep_scale;
        out[i] = inp[i] * mask[i];
    }
}

DCGAN_API void dcgan_dropout_backward(float *dinp, const float *dout, const float *mask,
                                      size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * mask[i];
}

// -----------------------------------------------------------------------------
// 7. Loss: binary cross-entropy on logits

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
        return DCGAN__FAIL(DCGAN_ERR_NONFINITE, "loss is %f over %zu logits", total, n);
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

DCGAN_API dcgan_status dcgan_adam_step(dcgan_adam *opt, float *params, const float *grads,
                                       float *m, float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(grads[i]))
            return DCGAN__FAIL(DCGAN_ERR_NONFINITE,
                               "gradient %zu of %zu is %f; step %lld refused, nothing changed",
                               i, n, (double)grads[i], (long long)opt->step + 1);
    }
    const int64_t t = opt->step + 1;
    const float b1 = (float)opt->beta1, b2 = (float)opt->beta2, eps = (float)opt->eps;
    const float one_minus_b1 = (float)(1.0 - opt->beta1), one_minus_b2 = (float)(1.0 - opt->beta2);
    const double bc1 = 1.0 - pow(opt->beta1, (double)t);
    const double bc2 = 1.0 - pow(opt->beta2, (double)t);
    if (opt->mode == DCGAN_ADAM_KERAS) {
        const float lr_t = (float)(opt->lr * sqrt(bc2) / bc1);
        for (size_t i = 0; i < n; i++) {
            float g = grads[i];
            m[i] = b1 * m[i] + one_minus_b1 * g;
            v[i] = b2 * v[i] + one_minus_b2 * g * g;
            params[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
        }
    } else {
        // torch.optim.Adam: step_size = lr / bc1; denom = sqrt(v) / sqrt(bc2) + eps
        const float step_size = (float)(opt->lr / bc1);
        const float sqrt_bc2 = (float)sqrt(bc2);
        for (size_t i = 0; i < n; i++) {
            float g = grads[i];
            m[i] = b1 * m[i] + one_minus_b1 * g;
            v[i] = b2 * v[i] + one_minus_b2 * g * g;
            params[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + eps);
        }
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
    s.out_h = scale;
    s.upsample_mode = mode;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_batchnorm2d(float eps, float momentum) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_BATCHNORM2D);
    s.alpha = eps;
    s.momentum = momentum;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_leaky_relu(float slope) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_LEAKY_RELU);
    s.alpha = slope;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_relu(void) { return dcgan__spec(DCGAN_LAYER_RELU); }
DCGAN_API dcgan_layer_spec dcgan_spec_tanh(void) { return dcgan__spec(DCGAN_LAYER_TANH); }
DCGAN_API dcgan_layer_spec dcgan_spec_sigmoid(void) { return dcgan__spec(DCGAN_LAYER_SIGMOID); }

DCGAN_API dcgan_layer_spec dcgan_spec_dropout(float p) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_DROPOUT);
    s.alpha = p;
    return s;
}

DCGAN_API dcgan_layer_spec dcgan_spec_reshape(int c, int h, int w) {
    dcgan_layer_spec s = dcgan__spec(DCGAN_LAYER_RESHAPE);
    s.out_channels = c;
    s.out_h = h;
    s.out_w = w;
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
    c.pad_top = L->spec.pad_top;
    c.pad_left = L->spec.pad_left;
    c.pad_bottom = L->spec.pad_bottom;
    c.pad_right = L->spec.pad_right;
    return c;
}

static dcgan_conv_transpose2d dcgan__layer_conv_transpose2d(const dcgan_layer *L, float *base) {
    dcgan_conv2d c = dcgan__layer_conv2d(L, base);
    dcgan_conv_transpose2d t;
    t.weight = c.weight;
    t.bias = c.bias;
    t.in_channels = c.in_channels;
    t.out_channels = c.out_channels;
    t.kernel = c.kernel;
    t.stride = c.stride;
    t.pad_top = c.pad_top;
    t.pad_left = c.pad_left;
    t.pad_bottom = c.pad_bottom;
    t.pad_right = c.pad_right;
    return t;
}

static dcgan_linear dcgan__layer_linear(const dcgan_layer *L, float *base) {
    dcgan_linear lin;
    lin.weight = base + L->weight_offset;
    lin.bias = L->bias_count ? base + L->bias_offset : NULL;
    lin.in_features = L->in_c * L->in_h * L->in_w;
    lin.out_features = L->out_c;
    return lin;
}

static dcgan_batchnorm2d dcgan__layer_batchnorm2d(const dcgan_model *m, const dcgan_layer *L) {
    dcgan_batchnorm2d bn;
    bn.gamma = m->params + L->weight_offset;
    bn.beta = m->params + L->bias_offset;
    bn.running_mean = m->buffers + L->stats_offset;
    bn.running_var = m->buffers + L->stats_offset + (size_t)L->in_c;
    bn.save_mean = m->saved + L->saved_offset;
    bn.save_invstd = m->saved + L->saved_offset + (size_t)L->in_c;
    bn.channels = L->in_c;
    bn.eps = L->spec.alpha;
    bn.momentum = L->spec.momentum;
    bn.saved_training = L->saved_training;
    return bn;
}

// Works out one layer's output shape and sizes from its input shape.
// Adds its parameter, buffer, saved and scratch needs to the running totals.
static dcgan_status dcgan__layer_plan(dcgan_layer *L, int index, size_t *n_params,
                                      size_t *n_buffers, size_t *n_saved_per_sample,
                                      size_t *n_saved_fixed, size_t *n_work) {
    dcgan_layer_spec *s = &L->spec;
    const int C = L->in_c, H = L->in_h, W = L->in_w;
    L->out_c = C;
    L->out_h = H;
    L->out_w = W;
    switch (s->kind) {
    case DCGAN_LAYER_LINEAR:
        if (s->out_channels <= 0)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: linear needs out_features > 0", index);
        L->out_c = s->out_channels;
        L->out_h = L->out_w = 1;
        L->weight_count = (size_t)s->out_channels * C * H * W;
        L->bias_count = s->bias ? (size_t)s->out_channels : 0;
        break;
    case DCGAN_LAYER_CONV2D:
    case DCGAN_LAYER_CONV_TRANSPOSE2D: {
        int transposed = s->kind == DCGAN_LAYER_CONV_TRANSPOSE2D;
        if (s->out_channels <= 0 || s->kernel <= 0 || s->stride <= 0)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: conv needs OC, K, S > 0 (got %d, %d, %d)",
                               index, s->out_channels, s->kernel, s->stride);
        if (s->same && !transposed) {
            dcgan_same_padding(H, s->kernel, s->stride, &s->pad_top, &s->pad_bottom);
            dcgan_same_padding(W, s->kernel, s->stride, &s->pad_left, &s->pad_right);
        } else if (s->same) {
            // the adjoint of a 'same' conv from (H*S) to H: crop what that conv padded
            dcgan_same_padding(H * s->stride, s->kernel, s->stride, &s->pad_top, &s->pad_bottom);
            dcgan_same_padding(W * s->stride, s->kernel, s->stride, &s->pad_left, &s->pad_right);
        }
        L->out_c = s->out_channels;
        if (transposed) {
            L->out_h = dcgan_conv_transpose_out_size(H, s->kernel, s->stride, s->pad_top, s->pad_bottom);
            L->out_w = dcgan_conv_transpose_out_size(W, s->kernel, s->stride, s->pad_left, s->pad_right);
        } else {
            L->out_h = dcgan_conv_out_size(H, s->kernel, s->stride, s->pad_top, s->pad_bottom);
            L->out_w = dcgan_conv_out_size(W, s->kernel, s->stride, s->pad_left, s->pad_right);
        }
        if (L->out_h <= 0 || L->out_w <= 0)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: input %dx%d gives an empty output",
                               index, H, W);
        L->weight_count = (size_t)s->out_channels * C * s->kernel * s->kernel;
        L->bias_count = s->bias ? (size_t)s->out_channels : 0;
        size_t work = transposed ? (size_t)s->out_channels * s->kernel * s->kernel * H * W
                                 : (size_t)C * s->kernel * s->kernel * L->out_h * L->out_w;
        if (work > *n_work) *n_work = work;
        break;
    }
    case DCGAN_LAYER_UPSAMPLE:
        if (s->out_h <= 0)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: upsample scale must be > 0", index);
        L->out_h = H * s->out_h;
        L->out_w = W * s->out_h;
        break;
    case DCGAN_LAYER_BATCHNORM2D:
        L->weight_count = L->bias_count = (size_t)C;
        L->stats_offset = *n_buffers;
        *n_buffers += 2 * (size_t)C;
        L->saved_offset = *n_saved_fixed;
        *n_saved_fixed += 2 * (size_t)C;
        break;
    case DCGAN_LAYER_DROPOUT:
        if (s->alpha < 0.0f || s->alpha >= 1.0f)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: dropout p=%g is not in [0, 1)",
                               index, (double)s->alpha);
        L->saved_offset = *n_saved_per_sample;
        *n_saved_per_sample += (size_t)C * H * W;
        break;
    case DCGAN_LAYER_RESHAPE: {
        size_t in_size = (size_t)C * H * W;
        if (s->out_channels == -1) {
            L->out_c = (int)in_size;
            L->out_h = L->out_w = 1;
        } else {
            L->out_c = s->out_channels;
            L->out_h = s->out_h;
            L->out_w = s->out_w;
        }
        if (L->out_c <= 0 || L->out_h <= 0 || L->out_w <= 0 ||
            (size_t)L->out_c * L->out_h * L->out_w != in_size)
            return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: cannot reshape %dx%dx%d to %dx%dx%d",
                               index, C, H, W, L->out_c, L->out_h, L->out_w);
        break;
    }
    case DCGAN_LAYER_LEAKY_RELU:
    case DCGAN_LAYER_RELU:
    case DCGAN_LAYER_TANH:
    case DCGAN_LAYER_SIGMOID:
        break;
    default:
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: unknown layer kind %d", index, (int)s->kind);
    }
    L->weight_offset = *n_params;
    *n_params += L->weight_count;
    L->bias_offset = *n_params;
    *n_params += L->bias_count;
    return DCGAN_OK;
}

DCGAN_API void dcgan_model_free(dcgan_model *m) {
    dcgan_free(m->layers);
    dcgan_free(m->params);
    dcgan_free(m->grads);
    dcgan_free(m->adam_m);
    dcgan_free(m->adam_v);
    dcgan_free(m->buffers);
    dcgan_free(m->acts);
    dcgan_free(m->dacts);
    dcgan_free(m->slot_offset);
    dcgan_free(m->saved);
    dcgan_free(m->work);
    memset(m, 0, sizeof *m);
}

DCGAN_API dcgan_status dcgan_model_init(dcgan_model *m, const char *prefix,
                                        const dcgan_layer_spec *specs, int n_layers,
                                        int in_c, int in_h, int in_w, int max_batch) {
    dcgan_model tmp;
    size_t n_saved_per_sample = 0, n_saved_fixed = 0, act_total = 0;
    memset(&tmp, 0, sizeof tmp);
    memset(m, 0, sizeof *m);
    if (n_layers <= 0 || in_c <= 0 || in_h <= 0 || in_w <= 0 || max_batch <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "need layers and a positive input shape and batch, "
                           "got %d layers, input %dx%dx%d, batch %d",
                           n_layers, in_c, in_h, in_w, max_batch);
    snprintf(tmp.prefix, sizeof tmp.prefix, "%s", prefix ? prefix : "main");
    tmp.n_layers = n_layers;
    tmp.in_c = in_c;
    tmp.in_h = in_h;
    tmp.in_w = in_w;
    tmp.max_batch = max_batch;
    tmp.layers = (dcgan_layer *)dcgan__calloc((size_t)n_layers, sizeof(dcgan_layer));
    tmp.slot_offset = (size_t *)dcgan__calloc((size_t)n_layers + 2, sizeof(size_t));
    if (!tmp.layers || !tmp.slot_offset) {
        dcgan_model_free(&tmp);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for %d layers", n_layers);
    }
    int c = in_c, h = in_h, w = in_w;
    tmp.slot_offset[0] = 0;
    act_total = (size_t)max_batch * c * h * w;
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp.layers[i];
        L->spec = specs[i];
        L->in_c = c;
        L->in_h = h;
        L->in_w = w;
        dcgan_status st = dcgan__layer_plan(L, i, &tmp.n_params, &tmp.n_buffers,
                                            &n_saved_per_sample, &n_saved_fixed, &tmp.n_work);
        if (st != DCGAN_OK) {
            dcgan_model_free(&tmp);
            return st;
        }
        c = L->out_c;
        h = L->out_h;
        w = L->out_w;
        tmp.slot_offset[i + 1] = act_total;
        act_total += (size_t)max_batch * c * h * w;
    }
    tmp.slot_offset[n_layers + 1] = act_total;
    // Dropout masks scale with the batch; batchnorm statistics do not.
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp.layers[i];
        if (L->spec.kind == DCGAN_LAYER_DROPOUT)
            L->saved_offset = n_saved_fixed + L->saved_offset * (size_t)max_batch;
    }
    size_t n_saved = n_saved_fixed + n_saved_per_sample * (size_t)max_batch;
    tmp.params = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.grads = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.adam_m = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.adam_v = (float *)dcgan__calloc(tmp.n_params, sizeof(float));
    tmp.buffers = (float *)dcgan__calloc(tmp.n_buffers, sizeof(float));
    tmp.acts = (float *)dcgan__calloc(act_total, sizeof(float));
    tmp.dacts = (float *)dcgan__calloc(act_total, sizeof(float));
    tmp.saved = (float *)dcgan__calloc(n_saved, sizeof(float));
    tmp.work = (float *)dcgan__calloc(tmp.n_work, sizeof(float));
    if (!tmp.params || !tmp.grads || !tmp.adam_m || !tmp.adam_v || !tmp.buffers || !tmp.acts ||
        !tmp.dacts || !tmp.saved || !tmp.work) {
        size_t total = 4 * tmp.n_params + 2 * act_total + n_saved + tmp.n_work;
        dcgan_model_free(&tmp);
        return DCGAN__FAIL(DCGAN_ERR_NOMEM, "no memory for the model (%zu MiB)",
                           total * sizeof(float) >> 20);
    }
    for (int i = 0; i < n_layers; i++) {
        dcgan_layer *L = &tmp.layers[i];
        if (L->spec.kind == DCGAN_LAYER_BATCHNORM2D)
            for (int k = 0; k < L->in_c; k++) tmp.buffers[L->stats_offset + (size_t)L->in_c + k] = 1.0f;
    }
    *m = tmp;
    return DCGAN_OK;
}

// Fills n values from U(-bound, bound).
static void dcgan__fill_uniform(dcgan_rng *rng, float *p, size_t n, float bound) {
    dcgan_rng_fill_uniform(rng, p, n, -bound, bound);
}

DCGAN_API void dcgan_model_init_weights(dcgan_model *m, dcgan_init_mode mode, dcgan_rng *rng) {
    memset(m->grads, 0, m->n_params * sizeof(float));
    memset(m->adam_m, 0, m->n_params * sizeof(float));
    memset(m->adam_v, 0, m->n_params * sizeof(float));
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        float *wgt = m->params + L->weight_offset;
        float *bias = m->params + L->bias_offset;
        const int K = L->spec.kernel;
        float fan_in = 0.0f, fan_out = 0.0f;
        switch (L->spec.kind) {
        case DCGAN_LAYER_LINEAR:
            fan_in = (float)L->in_c * L->in_h * L->in_w;
            fan_out = (float)L->out_c;
            break;
        case DCGAN_LAYER_CONV2D:
            fan_in = (float)L->in_c * K * K;
            fan_out = (float)L->out_c * K * K;
            break;
        case DCGAN_LAYER_CONV_TRANSPOSE2D:
            // torch computes fans from weight (C, OC, K, K): fan_in = dim 1 * K * K
            fan_in = (float)L->out_c * K * K;
            fan_out = (float)L->in_c * K * K;
            break;
        case DCGAN_LAYER_BATCHNORM2D:
            // torch.nn.BatchNorm2d.reset_parameters: weight 1, bias 0; DCGAN: N(1, 0.02)
            for (int k = 0; k < L->in_c; k++) {
                wgt[k] = mode == DCGAN_INIT_DCGAN ? 1.0f + 0.02f * dcgan_rng_normal(rng) : 1.0f;
                bias[k] = 0.0f;
                m->buffers[L->stats_offset + k] = 0.0f;
                m->buffers[L->stats_offset + (size_t)L->in_c + k] = 1.0f;
            }
            continue;
        default:
            continue;
        }
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

DCGAN_API dcgan_status dcgan_model_forward(dcgan_model *m, dcgan_tensor inp, int training,
                                           dcgan_rng *rng) {
    if (inp.n <= 0 || inp.n > m->max_batch || inp.c * inp.h * inp.w != m->in_c * m->in_h * m->in_w)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "inp is (%d,%d,%d,%d), model '%s' takes up to %d x (%d,%d,%d)",
                           inp.n, inp.c, inp.h, inp.w, m->prefix, m->max_batch, m->in_c, m->in_h,
                           m->in_w);
    m->batch = inp.n;
    memcpy(m->acts, inp.data, dcgan_tensor_numel(inp) * sizeof(float));
    for (int i = 0; i < m->n_layers; i++) {
        dcgan_layer *L = &m->layers[i];
        dcgan_tensor x = dcgan__slot(m, m->acts, i), y = dcgan__slot(m, m->acts, i + 1);
        size_t count = dcgan_tensor_numel(x);
        dcgan_status st = DCGAN_OK;
        switch (L->spec.kind) {
        case DCGAN_LAYER_LINEAR: {
            dcgan_linear lin = dcgan__layer_linear(L, m->params);
            st = dcgan_linear_forward(y, x, &lin);
            break;
        }
        case DCGAN_LAYER_CONV2D: {
            dcgan_conv2d conv = dcgan__layer_conv2d(L, m->params);
            st = dcgan_conv2d_forward(y, x, &conv, m->work);
            break;
        }
        case DCGAN_LAYER_CONV_TRANSPOSE2D: {
            dcgan_conv_transpose2d conv = dcgan__layer_conv_transpose2d(L, m->params);
            st = dcgan_conv_transpose2d_forward(y, x, &conv, m->work);
            break;
        }
        case DCGAN_LAYER_UPSAMPLE:
            st = dcgan_upsample_forward(y, x, L->spec.upsample_mode);
            break;
        case DCGAN_LAYER_BATCHNORM2D: {
            dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(m, L);
            st = dcgan_batchnorm2d_forward(y, x, &bn, training);
            L->saved_training = bn.saved_training;
            break;
        }
        case DCGAN_LAYER_LEAKY_RELU:
            dcgan_leaky_relu_forward(y.data, x.data, count, L->spec.alpha);
            break;
        case DCGAN_LAYER_RELU:
            dcgan_relu_forward(y.data, x.data, count);
            break;
        case DCGAN_LAYER_TANH:
            dcgan_tanh_forward(y.data, x.data, count);
            break;
        case DCGAN_LAYER_SIGMOID:
            dcgan_sigmoid_forward(y.data, x.data, count);
            break;
        case DCGAN_LAYER_DROPOUT:
            if (training && L->spec.alpha > 0.0f && !rng)
                return DCGAN__FAIL(DCGAN_ERR_SHAPE, "layer %d: dropout in training needs an rng", i);
            dcgan_dropout_forward(y.data, m->saved + L->saved_offset, x.data, count,
                                  L->spec.alpha, training, rng);
            break;
        case DCGAN_LAYER_RESHAPE:
            memcpy(y.data, x.data, count * sizeof(float));
            break;
        }
        if (st != DCGAN_OK) return st;
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_tensor dcgan_model_output(const dcgan_model *m) {
    return dcgan__slot(m, m->acts, m->n_layers);
}

DCGAN_API dcgan_status dcgan_model_backward(dcgan_model *m, const float *dout, float *dinp) {
    if (m->batch <= 0)
        return DCGAN__FAIL(DCGAN_ERR_SHAPE, "model '%s': backward before any forward", m->prefix);
    const dcgan_tensor out = dcgan_model_output(m);
    memset(m->dacts, 0, m->slot_offset[m->n_layers] * sizeof(float));
    memcpy(m->dacts + m->slot_offset[m->n_layers], dout, dcgan_tensor_numel(out) * sizeof(float));
    for (int i = m->n_layers - 1; i >= 0; i--) {
        dcgan_layer *L = &m->layers[i];
        dcgan_tensor x = dcgan__slot(m, m->acts, i), y = dcgan__slot(m, m->acts, i + 1);
        dcgan_tensor dy = dcgan__slot(m, m->dacts, i + 1), dx = dcgan__slot(m, m->dacts, i);
        size_t count = dcgan_tensor_numel(x);
        dcgan_status st = DCGAN_OK;
        if (i == 0 && !dinp) dx.data = NULL;   // nobody wants the input gradient
        switch (L->spec.kind) {
        case DCGAN_LAYER_LINEAR: {
            dcgan_linear lin = dcgan__layer_linear(L, m->params);
            st = dcgan_linear_backward(dx, m->grads + L->weight_offset,
                                       L->bias_count ? m->grads + L->bias_offset : NULL, dy, x,
                                       &lin);
            break;
        }
        case DCGAN_LAYER_CONV2D: {
            dcgan_conv2d conv = dcgan__layer_conv2d(L, m->params);
            st = dcgan_conv2d_backward(dx, m->grads + L->weight_offset,
                                       L->bias_count ? m->grads + L->bias_offset : NULL, dy, x,
                                       &conv, m->work);
            break;
        }
        case DCGAN_LAYER_CONV_TRANSPOSE2D: {
            dcgan_conv_transpose2d conv = dcgan__layer_conv_transpose2d(L, m->params);
            st = dcgan_conv_transpose2d_backward(dx, m->grads + L->weight_offset,
                                                 L->bias_count ? m->grads + L->bias_offset : NULL,
                                                 dy, x, &conv, m->work);
            break;
        }
        case DCGAN_LAYER_UPSAMPLE:
            if (dx.data) st = dcgan_upsample_backward(dx, dy, L->spec.upsample_mode);
            break;
        case DCGAN_LAYER_BATCHNORM2D: {
            dcgan_batchnorm2d bn = dcgan__layer_batchnorm2d(m, L);
            st = dcgan_batchnorm2d_backward(dx, m->grads + L->weight_offset,
                                            m->grads + L->bias_offset, dy, x, &bn);
            break;
        }
        case DCGAN_LAYER_LEAKY_RELU:
            if (dx.data) dcgan_leaky_relu_backward(dx.data, dy.data, x.data, count, L->spec.alpha);
            break;
        case DCGAN_LAYER_RELU:
            if (dx.data) dcgan_relu_backward(dx.data, dy.data, x.data, count);
            break;
        case DCGAN_LAYER_TANH:
            if (dx.data) dcgan_tanh_backward(dx.data, dy.data, y.data, count);
            break;
        case DCGAN_LAYER_SIGMOID:
            if (dx.data) dcgan_sigmoid_backward(dx.data, dy.data, y.data, count);
            break;
        case DCGAN_LAYER_DROPOUT:
            if (dx.data) dcgan_dropout_backward(dx.data, dy.data, m->saved + L->saved_offset, count);
            break;
        case DCGAN_LAYER_RESHAPE:
            if (dx.data)
                for (size_t k = 0; k < count; k++) dx.data[k] += dy.data[k];
            break;
        }
        if (st != DCGAN_OK) return st;
    }
    if (dinp) {
        size_t count = (size_t)m->batch * m->in_c * m->in_h * m->in_w;
        for (size_t k = 0; k < count; k++) dinp[k] += m->dacts[k];
    }
    return DCGAN_OK;
}

DCGAN_API void dcgan_model_zero_grad(dcgan_model *m) {
    memset(m->grads, 0, m->n_params * sizeof(float));
}

DCGAN_API dcgan_status dcgan_model_adam_step(dcgan_model *m, dcgan_adam *opt) {
    dcgan_status st = dcgan_adam_step(opt, m->params, m->grads, m->adam_m, m->adam_v, m->n_params);
    if (st != DCGAN_OK)
        return DCGAN__FAIL(st, "model '%s': %s", m->prefix, dcgan_last_error());
    return DCGAN_OK;
}

DCGAN_API int dcgan_model_tensor_count(const dcgan_model *m) {
    int count = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        count += (L->weight_count > 0) + (L->bias_count > 0);
        if (L->spec.kind == DCGAN_LAYER_BATCHNORM2D) count += 2;
    }
    return count;
}

DCGAN_API dcgan_status dcgan_model_tensor_info(const dcgan_model *m, int index,
                                               dcgan_param_info *info) {
    int k = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        const int K = L->spec.kernel;
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
            } else if (part >= 2 && L->spec.kind == DCGAN_LAYER_BATCHNORM2D) {
                suffix = part == 2 ? "running_mean" : "running_var";
                info->is_buffer = 1;
                info->offset = L->stats_offset + (part == 3 ? (size_t)L->in_c : 0);
                info->count = (size_t)L->in_c;
            }
            if (!suffix) continue;
            if (k++ != index) continue;
            snprintf(info->name, sizeof info->name, "%s.%d.%s", m->prefix, i, suffix);
            info->data = (info->is_buffer ? m->buffers : m->params) + info->offset;
            info->ndim = 1;
            info->shape[0] = (int)info->count;
            if (part == 0 && L->spec.kind == DCGAN_LAYER_LINEAR) {
                info->ndim = 2;
                info->shape[0] = L->out_c;
                info->shape[1] = L->in_c * L->in_h * L->in_w;
            } else if (part == 0 && L->spec.kind == DCGAN_LAYER_CONV2D) {
                info->ndim = 4;
                info->shape[0] = L->out_c;
                info->shape[1] = L->in_c;
                info->shape[2] = info->shape[3] = K;
            } else if (part == 0 && L->spec.kind == DCGAN_LAYER_CONV_TRANSPOSE2D) {
                info->ndim = 4;
                info->shape[0] = L->in_c;
                info->shape[1] = L->out_c;
                info->shape[2] = info->shape[3] = K;
            }
            return DCGAN_OK;
        }
    }
    return DCGAN__FAIL(DCGAN_ERR_SHAPE, "tensor %d does not exist, model '%s' has %d", index,
                       m->prefix, k);
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
