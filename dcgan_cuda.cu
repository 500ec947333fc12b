// dcgan_cuda.cu - GPU twins of dcgan.h's training step and FID matrix work.
//
// Build: nvcc -O2 -arch=sm_90 -DDCGAN_CUDA -c dcgan_cuda.cu, then compile the
// program that defines DCGAN_IMPLEMENTATION with -DDCGAN_CUDA and link both
// with -lcublas -lcusolver -lcudart (`make cuda` does all of it).
//
// Each function mirrors its CPU namesake in dcgan.h (same section order: status
// and memory, random numbers, tensors, GEMM, layers, loss, Adam, models, GAN,
// FID) and takes the same arguments, with pointers into GPU memory (one
// exception: dcgan_bce_with_logits_cuda also returns the accuracy, which
// saves a download). A model's forward and backward passes are not here:
// dcgan.h writes them once and calls these layer twins for a model on the
// GPU; this file keeps the model's device memory (dcgan_model_to_cuda) and
// the GAN's (the GAN step itself is dcgan.h's too). The formulas are the CPU ones; only the order of additions in
// reductions differs, so results agree to float32 rounding, which
// tests/test_cuda.c checks op by op.
//
// Layout conventions (the CPU ones): NCHW, row-major. cuBLAS is column-major,
// so a row-major C = op(A) op(B) is computed as the column-major C^T =
// op(B)^T op(A)^T: the operands swap places and M and N swap (NVIDIA cuBLAS
// documentation, "Column-major storage"; the same trick every row-major
// wrapper uses).
//
// License: see the end of dcgan.h.
#ifndef DCGAN_CUDA
#define DCGAN_CUDA 1
#endif
#include "dcgan.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

// -----------------------------------------------------------------------------
// 1. Status and errors

// Every CUDA, cuBLAS and cuSOLVER call is checked; a failure becomes
// DCGAN_ERR_CUDA with the function, the call and CUDA's own words.
#define DCGAN__CUDA_TRY(call)                                                                   \
    do {                                                                                        \
        cudaError_t e_ = (call);                                                                \
        if (e_ != cudaSuccess)                                                                  \
            return dcgan_error_set(DCGAN_ERR_CUDA, "%s: %s failed: %s", dcgan__short(__func__), \
                                   #call, cudaGetErrorString(e_));                              \
    } while (0)

// cuBLAS and cuSOLVER return a status number of their own type.
#define DCGAN__LIBRARY_TRY(type, success, library, call)                                         \
    do {                                                                                        \
        type e_ = (call);                                                                       \
        if (e_ != success)                                                                      \
            return dcgan_error_set(DCGAN_ERR_CUDA, "%s: %s failed: " library " status %d",      \
                                   dcgan__short(__func__), #call, (int)e_);                     \
    } while (0)
#define DCGAN__CUBLAS_TRY(call) DCGAN__LIBRARY_TRY(cublasStatus_t, CUBLAS_STATUS_SUCCESS, "cuBLAS", call)
#define DCGAN__CUSOLVER_TRY(call) DCGAN__LIBRARY_TRY(cusolverStatus_t, CUSOLVER_STATUS_SUCCESS, "cuSOLVER", call)

// A kernel launch reports its errors (bad configuration, no device) here.
#define DCGAN__LAUNCHED() DCGAN__CUDA_TRY(cudaGetLastError())

#define DCGAN__TRY(expr)                 \
    do {                                 \
        dcgan_status s_ = (expr);        \
        if (s_ != DCGAN_OK) return s_;   \
    } while (0)

// "dcgan_conv2d_forward_cuda" -> "conv2d_forward_cuda", as dcgan.h's messages.
static const char *dcgan__short(const char *func) {
    return strncmp(func, "dcgan_", 6) == 0 ? func + 6 : func;
}

static struct {
    int ready;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    char name[320];
    void *scratch;   // DCGAN__SCRATCH_BYTES of device memory for small results (losses, counts, indices)
} dcgan__gpu;

// The small per-step buffers live in one allocation made at init, so the
// training loop never calls cudaMalloc (which synchronises the device).
#define DCGAN__SCRATCH_BYTES (4096 * sizeof(int))

// -----------------------------------------------------------------------------
// 2. Memory

// The cuBLAS and cuSOLVER handles and the scratch buffer (dcgan_cuda_init undoes them on failure).
static dcgan_status dcgan__init_handles(void) {
    DCGAN__CUBLAS_TRY(cublasCreate(&dcgan__gpu.blas));
    DCGAN__CUSOLVER_TRY(cusolverDnCreate(&dcgan__gpu.solver));
    DCGAN__CUBLAS_TRY(cublasSetMathMode(dcgan__gpu.blas, CUBLAS_DEFAULT_MATH));
    DCGAN__CUDA_TRY(cudaMalloc(&dcgan__gpu.scratch, DCGAN__SCRATCH_BYTES));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_cuda_init(int device) {
    int count = 0;
    cudaDeviceProp prop;
    if (dcgan__gpu.ready) return DCGAN_OK;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return dcgan_error_set(DCGAN_ERR_CUDA, "cuda_init: cudaGetDeviceCount failed: %s (no GPU, "
                               "or a driver older than this CUDA toolkit?)", cudaGetErrorString(e));
    if (count == 0) return dcgan_error_set(DCGAN_ERR_CUDA, "cuda_init: no CUDA device");
    if (device < 0 || device >= count)
        return dcgan_error_set(DCGAN_ERR_CUDA, "cuda_init: device %d asked for, %d present", device, count);
    DCGAN__CUDA_TRY(cudaSetDevice(device));
    DCGAN__CUDA_TRY(cudaGetDeviceProperties(&prop, device));
    // Each step that fails undoes the earlier ones, so a later init starts clean.
    dcgan_status st = dcgan__init_handles();
    if (st != DCGAN_OK) {
        if (dcgan__gpu.scratch) cudaFree(dcgan__gpu.scratch);
        if (dcgan__gpu.solver) cusolverDnDestroy(dcgan__gpu.solver);
        if (dcgan__gpu.blas) cublasDestroy(dcgan__gpu.blas);
        dcgan__gpu.scratch = NULL;
        dcgan__gpu.solver = NULL;
        dcgan__gpu.blas = NULL;
        return st;
    }
    snprintf(dcgan__gpu.name, sizeof dcgan__gpu.name, "%.200s, %.1f GiB, sm_%d%d", prop.name,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), prop.major, prop.minor);
    dcgan__gpu.ready = 1;
    return DCGAN_OK;
}

DCGAN_API const char *dcgan_cuda_device_name(void) { return dcgan__gpu.ready ? dcgan__gpu.name : ""; }

// TF32 tensor cores for float32 products (PyTorch: torch.backends.cuda.matmul.allow_tf32).
DCGAN_API void dcgan_cuda_set_tf32(int on) {
    if (dcgan__gpu.ready)
        cublasSetMathMode(dcgan__gpu.blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
}

DCGAN_API dcgan_status dcgan_cuda_malloc(void **ptr, size_t bytes) {
    *ptr = NULL;
    DCGAN__TRY(dcgan_cuda_init(0));
    cudaError_t e = cudaMalloc(ptr, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        *ptr = NULL;
        cudaGetLastError();   // clear the sticky-free error so later calls work
        return dcgan_error_set(DCGAN_ERR_CUDA, "cuda_malloc: cudaMalloc(%zu bytes = %.2f GiB) failed: %s",
                               bytes, (double)bytes / (1024.0 * 1024.0 * 1024.0), cudaGetErrorString(e));
    }
    return DCGAN_OK;
}

DCGAN_API void dcgan_cuda_free(void *ptr) {
    if (ptr) cudaFree(ptr);
}

DCGAN_API dcgan_status dcgan_cuda_upload(void *dev_dst, const void *host_src, size_t bytes) {
    if (bytes) DCGAN__CUDA_TRY(cudaMemcpy(dev_dst, host_src, bytes, cudaMemcpyHostToDevice));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_cuda_download(void *host_dst, const void *dev_src, size_t bytes) {
    if (bytes) DCGAN__CUDA_TRY(cudaMemcpy(host_dst, dev_src, bytes, cudaMemcpyDeviceToHost));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_cuda_sync(void) {
    DCGAN__CUDA_TRY(cudaDeviceSynchronize());
    DCGAN__CUDA_TRY(cudaGetLastError());
    return DCGAN_OK;
}

// Blocks for a grid-stride loop over n items: enough to fill the GPU, and
// never more than the grid allows.
static unsigned dcgan__blocks(size_t n) {
    size_t b = (n + 255) / 256;
    if (b < 1) b = 1;
    if (b > 65535u * 16u) b = 65535u * 16u;
    return (unsigned)b;
}

#define DCGAN__FOR_EACH(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

// -----------------------------------------------------------------------------
// 3. Random numbers: the PCG32 output function, on the device

__device__ static uint32_t dcgan__pcg_output(uint64_t old) {
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

// The state after `delta` steps from `state` (Brown 1994, as dcgan_rng_advance).
__device__ static uint64_t dcgan__pcg_jump(uint64_t state, uint64_t inc, uint64_t delta) {
    uint64_t mult = 6364136223846793005ULL, plus = inc, acc_mult = 1, acc_plus = 0;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= mult;
            acc_plus = acc_plus * mult + plus;
        }
        plus = (mult + 1) * plus;
        mult *= mult;
        delta >>= 1;
    }
    return acc_mult * state + acc_plus;
}

// -----------------------------------------------------------------------------
// 4. Tensors: zero, copy, add over n floats (the model's passes use them)

__global__ static void dcgan__add_kernel(float *dst, const float *src, size_t n) {
    DCGAN__FOR_EACH(i, n) dst[i] += src[i];
}

DCGAN_API dcgan_status dcgan_vec_zero_cuda(float *x, size_t n) {
    if (n) DCGAN__CUDA_TRY(cudaMemset(x, 0, n * sizeof(float)));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_vec_copy_cuda(float *dst, const float *src, size_t n) {
    if (n && dst != src) DCGAN__CUDA_TRY(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_vec_add_cuda(float *dst, const float *src, size_t n) {
    if (n == 0) return DCGAN_OK;
    dcgan__add_kernel<<<dcgan__blocks(n), 256>>>(dst, src, n);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

__global__ static void dcgan__ema_kernel(float *avg, const float *x, size_t n, float beta) {
    DCGAN__FOR_EACH(i, n) avg[i] = x[i] + (avg[i] - x[i]) * beta;
}

DCGAN_API dcgan_status dcgan_vec_ema_cuda(float *avg, const float *x, size_t n, float beta) {
    if (n == 0) return DCGAN_OK;
    dcgan__ema_kernel<<<dcgan__blocks(n), 256>>>(avg, x, n, beta);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 5. Matrix multiply (GEMM): row-major through column-major cuBLAS

DCGAN_API dcgan_status dcgan_sgemm_cuda(int trans_a, int trans_b, int M, int N, int K,
                                        float alpha, const float *A, int lda, const float *B,
                                        int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return DCGAN_OK;
    DCGAN__TRY(dcgan_cuda_init(0));
    DCGAN__CUBLAS_TRY(cublasSgemm(dcgan__gpu.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A,
                                  lda, &beta, C, ldc));
    return DCGAN_OK;
}

// count row-major products C_i = op(A_i) op(B_i), the operands stride_* floats apart
// (stride 0: the same matrix for all, e.g. the weights).
static dcgan_status dcgan__sgemm_batched(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                         const float *A, int lda, long long stride_a, const float *B,
                                         int ldb, long long stride_b, float beta, float *C, int ldc,
                                         long long stride_c, int count) {
    if (M <= 0 || N <= 0 || count <= 0) return DCGAN_OK;
    DCGAN__TRY(dcgan_cuda_init(0));   // (a conv twin may be the first GPU call: the handle is made there)
    DCGAN__CUBLAS_TRY(cublasSgemmStridedBatched(
        dcgan__gpu.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N,
        M, K, &alpha, B, ldb, stride_b, A, lda, stride_a, &beta, C, ldc, stride_c, count));
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 6. Layers

// No tensor (the dinp of a forward shape check).
static const dcgan_tensor dcgan__none = {NULL, 0, 0, 0, 0};

// Shape checks of the layers without a shared dcgan_*_check (upsample, batchnorm).
static int dcgan__same_shape(dcgan_tensor t, int n, int c, int h, int w) {
    return t.n == n && t.c == c && t.h == h && t.w == w;
}

static dcgan_status dcgan__shape_fail(const char *func, dcgan_tensor a, dcgan_tensor b) {
    return dcgan_error_set(DCGAN_ERR_SHAPE, "%s: shapes (%d,%d,%d,%d) and (%d,%d,%d,%d) do not fit the layer",
                           dcgan__short(func), a.n, a.c, a.h, a.w, b.n, b.c, b.h, b.w);
}

// Adds bias[c] to every value of channel c; x is (N, C, P) with P values per channel.
__global__ static void dcgan__bias_add_kernel(float *x, const float *bias, size_t N, int C, size_t P) {
    DCGAN__FOR_EACH(i, N * C * P) x[i] += bias[(i / P) % C];
}

// dbias[c] += sum over n and p of dout[n][c][p]: one block per channel.
__global__ static void dcgan__bias_grad_kernel(float *dbias, const float *dout, int N, int C, size_t P) {
    __shared__ double part[256];
    const int c = blockIdx.x;
    double s = 0.0;
    for (size_t i = threadIdx.x; i < (size_t)N * P; i += blockDim.x) {
        size_t n = i / P, p = i % P;
        s += dout[(n * C + c) * P + p];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k /= 2) {
        if ((int)threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) dbias[c] += (float)part[0];
}

static dcgan_status dcgan__bias_add(float *x, const float *bias, int N, int C, size_t P) {
    dcgan__bias_add_kernel<<<dcgan__blocks((size_t)N * C * P), 256>>>(x, bias, (size_t)N, C, P);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

static dcgan_status dcgan__bias_grad(float *dbias, const float *dout, int N, int C, size_t P) {
    dcgan__bias_grad_kernel<<<C, 256>>>(dbias, dout, N, C, P);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

// Linear: out (N, OUT) = inp (N, IN) W^T + bias

DCGAN_API dcgan_status dcgan_linear_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                 const dcgan_linear *lin) {
    const int N = inp.n, IN = lin->in_features, OUT = lin->out_features;
    DCGAN__TRY(dcgan_linear_check(__func__, out, inp, dcgan__none, 0, lin));   // the CPU's check
    DCGAN__TRY(dcgan_sgemm_cuda(0, 1, N, OUT, IN, 1.0f, inp.data, IN, lin->weight, IN, 0.0f, out.data, OUT));
    if (lin->bias) DCGAN__TRY(dcgan__bias_add(out.data, lin->bias, N, OUT, 1));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_linear_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                  float *dbias, dcgan_tensor dout,
                                                  dcgan_tensor inp, const dcgan_linear *lin) {
    const int N = inp.n, IN = lin->in_features, OUT = lin->out_features;
    DCGAN__TRY(dcgan_linear_check(__func__, dout, inp, dinp, 1, lin));   // dinp's size too
    // dW (OUT, IN) += dout^T inp;  dbias += column sums;  dinp (N, IN) += dout W
    if (dweight) DCGAN__TRY(dcgan_sgemm_cuda(1, 0, OUT, IN, N, 1.0f, dout.data, OUT, inp.data, IN, 1.0f, dweight, IN));
    if (dbias) DCGAN__TRY(dcgan__bias_grad(dbias, dout.data, N, OUT, 1));
    if (dinp.data) DCGAN__TRY(dcgan_sgemm_cuda(0, 0, N, IN, OUT, 1.0f, dout.data, OUT, lin->weight, IN, 1.0f, dinp.data, IN));
    return DCGAN_OK;
}

// im2col for g images: col[i] (C*K*K, OH*OW) from img[i] (C, H, W), zeros
// outside the image; row (c, kh, kw), column (oh, ow), as on the CPU.
__global__ static void dcgan__im2col_kernel(float *col, const float *img, int g, int C, int H, int W,
                                            int K, int S, int pt, int pl, int OH, int OW) {
    const size_t P = (size_t)OH * OW, rows = (size_t)C * K * K;
    DCGAN__FOR_EACH(i, (size_t)g * rows * P) {
        size_t p = i % P, r = (i / P) % rows, n = i / (P * rows);
        int kw = (int)(r % K), kh = (int)((r / K) % K), c = (int)(r / ((size_t)K * K));
        int oh = (int)(p / OW), ow = (int)(p % OW);
        int h = oh * S - pt + kh, w = ow * S - pl + kw;
        col[i] = h >= 0 && h < H && w >= 0 && w < W ? img[((n * C + c) * H + h) * W + w] : 0.0f;
    }
}

// The adjoint: img[i] (+)= the columns that read each pixel. A gather per
// pixel, so no atomics and a fixed order. accumulate = 0 overwrites img.
__global__ static void dcgan__col2im_kernel(float *img, const float *col, int g, int C, int H, int W,
                                            int K, int S, int pt, int pl, int OH, int OW,
                                            int accumulate) {
    const size_t P = (size_t)OH * OW, rows = (size_t)C * K * K;
    DCGAN__FOR_EACH(i, (size_t)g * C * H * W) {
        int w = (int)(i % W), h = (int)((i / W) % H), c = (int)((i / ((size_t)W * H)) % C);
        size_t n = i / ((size_t)C * H * W);
        float s = 0.0f;
        for (int kh = 0; kh < K; kh++) {
            int t = h + pt - kh;       // = oh * S
            if (t < 0 || t % S != 0 || t / S >= OH) continue;
            for (int kw = 0; kw < K; kw++) {
                int u = w + pl - kw;   // = ow * S
                if (u < 0 || u % S != 0 || u / S >= OW) continue;
                size_t r = ((size_t)c * K + kh) * K + kw;
                s += col[(n * rows + r) * P + (size_t)(t / S) * OW + u / S];
            }
        }
        img[i] = accumulate ? img[i] + s : s;
    }
}

static dcgan_status dcgan__im2col(float *col, const float *img, int g, int C, int H, int W, int K,
                                  int S, int pt, int pl, int OH, int OW) {
    dcgan__im2col_kernel<<<dcgan__blocks((size_t)g * C * K * K * OH * OW), 256>>>(col, img, g, C, H, W,
                                                                                    K, S, pt, pl, OH, OW);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

static dcgan_status dcgan__col2im(float *img, const float *col, int g, int C, int H, int W, int K,
                                  int S, int pt, int pl, int OH, int OW, int accumulate) {
    dcgan__col2im_kernel<<<dcgan__blocks((size_t)g * C * H * W), 256>>>(img, col, g, C, H, W, K, S, pt,
                                                                        pl, OH, OW, accumulate);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

// Images per chunk: as many im2col matrices of `per_image` floats as the work fits.
static dcgan_status dcgan__chunk(const char *func, size_t per_image, size_t work_floats, int N, int *g) {
    if (work_floats < per_image)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "%s: work holds %zu floats, one image needs %zu",
                               dcgan__short(func), work_floats, per_image);
    size_t fit = work_floats / per_image;
    *g = fit < (size_t)N ? (int)fit : N;
    return DCGAN_OK;
}

// Conv2d: out[n] (OC, OH*OW) = W (OC, C*K*K) im2col(inp[n]) + bias
// The shapes are checked by the CPU's own dcgan_conv2d_check: an empty output,
// an empty batch or a negative pad is DCGAN_ERR_SHAPE before any work is cut up.

DCGAN_API dcgan_status dcgan_conv2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                 const dcgan_conv2d *cv, float *work,
                                                 size_t work_floats) {
    const int C = cv->in_channels, OC = cv->out_channels, K = cv->kernel, S = cv->stride;
    DCGAN__TRY(dcgan_conv2d_check(__func__, out, inp, dcgan__none, 0, cv));
    const int rows = C * K * K, P = out.h * out.w;
    const size_t in_size = (size_t)C * inp.h * inp.w, out_size = (size_t)OC * P;
    int g = 1;
    DCGAN__TRY(dcgan__chunk(__func__, (size_t)rows * P, work_floats, inp.n, &g));
    for (int n0 = 0; n0 < inp.n; n0 += g) {
        int gn = inp.n - n0 < g ? inp.n - n0 : g;
        DCGAN__TRY(dcgan__im2col(work, inp.data + n0 * in_size, gn, C, inp.h, inp.w, K, S, cv->pad_top,
                                 cv->pad_left, out.h, out.w));
        DCGAN__TRY(dcgan__sgemm_batched(0, 0, OC, P, rows, 1.0f, cv->weight, rows, 0, work, P,
                                        (long long)rows * P, 0.0f, out.data + n0 * out_size, P,
                                        (long long)out_size, gn));
    }
    if (cv->bias) DCGAN__TRY(dcgan__bias_add(out.data, cv->bias, inp.n, OC, (size_t)P));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv2d_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                  float *dbias, dcgan_tensor dout,
                                                  dcgan_tensor inp, const dcgan_conv2d *cv,
                                                  float *work, size_t work_floats) {
    const int C = cv->in_channels, OC = cv->out_channels, K = cv->kernel, S = cv->stride;
    DCGAN__TRY(dcgan_conv2d_check(__func__, dout, inp, dinp, 1, cv));
    const int rows = C * K * K, P = dout.h * dout.w;
    const size_t in_size = (size_t)C * inp.h * inp.w, out_size = (size_t)OC * P;
    int g = 1;
    DCGAN__TRY(dcgan__chunk(__func__, (size_t)rows * P, work_floats, inp.n, &g));
    if (dbias) DCGAN__TRY(dcgan__bias_grad(dbias, dout.data, inp.n, OC, (size_t)P));
    for (int n0 = 0; n0 < inp.n; n0 += g) {
        int gn = inp.n - n0 < g ? inp.n - n0 : g;
        if (dweight) {
            // dW (OC, rows) += dout[n] (OC, P) col[n]^T, image by image
            DCGAN__TRY(dcgan__im2col(work, inp.data + n0 * in_size, gn, C, inp.h, inp.w, K, S,
                                     cv->pad_top, cv->pad_left, dout.h, dout.w));
            for (int i = 0; i < gn; i++)
                DCGAN__TRY(dcgan_sgemm_cuda(0, 1, OC, rows, P, 1.0f, dout.data + (n0 + i) * out_size, P,
                                            work + (size_t)i * rows * P, P, 1.0f, dweight, rows));
        }
        if (dinp.data) {
            // dcol[n] (rows, P) = W^T dout[n], then added back onto the pixels
            DCGAN__TRY(dcgan__sgemm_batched(1, 0, rows, P, OC, 1.0f, cv->weight, rows, 0,
                                            dout.data + n0 * out_size, P, (long long)out_size, 0.0f,
                                            work, P, (long long)rows * P, gn));
            DCGAN__TRY(dcgan__col2im(dinp.data + n0 * in_size, work, gn, C, inp.h, inp.w, K, S,
                                     cv->pad_top, cv->pad_left, dout.h, dout.w, 1));
        }
    }
    return DCGAN_OK;
}

// ConvTranspose2d: the adjoint of a convolution from out's grid to inp's.
// col[n] (OC*K*K, H*W) = W^T (OC*K*K, C) inp[n] (C, H*W); out[n] = col2im(col[n]).

DCGAN_API dcgan_status dcgan_conv_transpose2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                           const dcgan_conv_transpose2d *cv,
                                                           float *work, size_t work_floats) {
    const int C = cv->in_channels, OC = cv->out_channels, K = cv->kernel, S = cv->stride;
    // exactly the CPU's rule: out = (N, OC, (H-1)S - pads + K, ...), no output-padding variants
    DCGAN__TRY(dcgan_conv_transpose2d_check(__func__, out, inp, dcgan__none, 0, cv));
    const int rows = OC * K * K, P = inp.h * inp.w;
    const size_t in_size = (size_t)C * P, out_size = (size_t)OC * out.h * out.w;
    int g = 1;
    DCGAN__TRY(dcgan__chunk(__func__, (size_t)rows * P, work_floats, inp.n, &g));
    for (int n0 = 0; n0 < inp.n; n0 += g) {
        int gn = inp.n - n0 < g ? inp.n - n0 : g;
        DCGAN__TRY(dcgan__sgemm_batched(1, 0, rows, P, C, 1.0f, cv->weight, rows, 0, inp.data + n0 * in_size,
                                        P, (long long)in_size, 0.0f, work, P, (long long)rows * P, gn));
        DCGAN__TRY(dcgan__col2im(out.data + n0 * out_size, work, gn, OC, out.h, out.w, K, S, cv->pad_top,
                                 cv->pad_left, inp.h, inp.w, 0));
    }
    if (cv->bias) DCGAN__TRY(dcgan__bias_add(out.data, cv->bias, inp.n, OC, (size_t)out.h * out.w));
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_conv_transpose2d_backward_cuda(dcgan_tensor dinp, float *dweight,
                                                            float *dbias, dcgan_tensor dout,
                                                            dcgan_tensor inp,
                                                            const dcgan_conv_transpose2d *cv,
                                                            float *work, size_t work_floats) {
    const int C = cv->in_channels, OC = cv->out_channels, K = cv->kernel, S = cv->stride;
    DCGAN__TRY(dcgan_conv_transpose2d_check(__func__, dout, inp, dinp, 1, cv));
    const int rows = OC * K * K, P = inp.h * inp.w;
    const size_t in_size = (size_t)C * P, out_size = (size_t)OC * dout.h * dout.w;
    int g = 1;
    DCGAN__TRY(dcgan__chunk(__func__, (size_t)rows * P, work_floats, inp.n, &g));
    if (dbias) DCGAN__TRY(dcgan__bias_grad(dbias, dout.data, inp.n, OC, (size_t)dout.h * dout.w));
    for (int n0 = 0; n0 < inp.n; n0 += g) {
        int gn = inp.n - n0 < g ? inp.n - n0 : g;
        // col[n] = im2col(dout[n]) over inp's grid: (rows, P)
        DCGAN__TRY(dcgan__im2col(work, dout.data + n0 * out_size, gn, OC, dout.h, dout.w, K, S,
                                 cv->pad_top, cv->pad_left, inp.h, inp.w));
        if (dweight)   // dW (C, rows) += inp[n] (C, P) col[n]^T
            for (int i = 0; i < gn; i++)
                DCGAN__TRY(dcgan_sgemm_cuda(0, 1, C, rows, P, 1.0f, inp.data + (n0 + i) * in_size, P,
                                            work + (size_t)i * rows * P, P, 1.0f, dweight, rows));
        if (dinp.data)  // dinp[n] (C, P) += W (C, rows) col[n]
            DCGAN__TRY(dcgan__sgemm_batched(0, 0, C, P, rows, 1.0f, cv->weight, rows, 0, work, P,
                                            (long long)rows * P, 1.0f, dinp.data + n0 * in_size, P,
                                            (long long)in_size, gn));
    }
    return DCGAN_OK;
}

// Upsample: the CPU's source coordinates (float scale, double coordinate).
__device__ static void dcgan__resize_coord_dev(int dst, int in, int out, int bilinear, int *i0, int *i1,
                                               float *lambda1) {
    float scale = (float)in / (float)out;
    if (!bilinear) {
        int s = (int)floorf((float)dst * scale);
        *i0 = *i1 = s < in - 1 ? s : in - 1;
        *lambda1 = 0.0f;
        return;
    }
    double src = (double)scale * ((double)dst + 0.5) - 0.5;
    if (src < 0.0) src = 0.0;
    int s = (int)src;
    if (s > in - 1) s = in - 1;
    *i0 = s;
    *i1 = s + 1 < in ? s + 1 : in - 1;
    *lambda1 = (float)(src - (double)s);
}

__global__ static void dcgan__upsample_kernel(float *out, const float *inp, size_t NC, int H, int W,
                                              int OH, int OW, int bilinear) {
    DCGAN__FOR_EACH(i, NC * OH * OW) {
        int ow = (int)(i % OW), oh = (int)((i / OW) % OH);
        size_t nc = i / ((size_t)OW * OH);
        int h0, h1, w0, w1;
        float lh1, lw1;
        dcgan__resize_coord_dev(oh, H, OH, bilinear, &h0, &h1, &lh1);
        dcgan__resize_coord_dev(ow, W, OW, bilinear, &w0, &w1, &lw1);
        const float *src = inp + nc * H * W;
        float lh0 = 1.0f - lh1, lw0 = 1.0f - lw1;
        out[i] = !bilinear ? src[h0 * W + w0]   // a copy, as on the CPU (0 * Inf would be NaN)
                           : lh0 * (lw0 * src[h0 * W + w0] + lw1 * src[h0 * W + w1]) +
                                 lh1 * (lw0 * src[h1 * W + w0] + lw1 * src[h1 * W + w1]);
    }
}

// Backward scatters with atomicAdd: several outputs share a source pixel.
__global__ static void dcgan__upsample_back_kernel(float *dinp, const float *dout, size_t NC, int H, int W,
                                                   int OH, int OW, int bilinear) {
    DCGAN__FOR_EACH(i, NC * OH * OW) {
        int ow = (int)(i % OW), oh = (int)((i / OW) % OH);
        size_t nc = i / ((size_t)OW * OH);
        int h0, h1, w0, w1;
        float lh1, lw1;
        dcgan__resize_coord_dev(oh, H, OH, bilinear, &h0, &h1, &lh1);
        dcgan__resize_coord_dev(ow, W, OW, bilinear, &w0, &w1, &lw1);
        float *dst = dinp + nc * H * W, d = dout[i];
        if (!bilinear) {
            atomicAdd(&dst[h0 * W + w0], d);
            continue;
        }
        float lh0 = 1.0f - lh1, lw0 = 1.0f - lw1;
        atomicAdd(&dst[h0 * W + w0], lh0 * lw0 * d);
        atomicAdd(&dst[h0 * W + w1], lh0 * lw1 * d);
        atomicAdd(&dst[h1 * W + w0], lh1 * lw0 * d);
        atomicAdd(&dst[h1 * W + w1], lh1 * lw1 * d);
    }
}

static int dcgan__resize_ok(dcgan_tensor src, dcgan_tensor dst) {
    return src.n > 0 && src.c > 0 && src.h > 0 && src.w > 0 && dst.n == src.n && dst.c == src.c &&
           dst.h > 0 && dst.w > 0;
}

DCGAN_API dcgan_status dcgan_upsample_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                   dcgan_upsample_mode mode) {
    if (!dcgan__resize_ok(inp, out)) return dcgan__shape_fail(__func__, inp, out);
    size_t NC = (size_t)inp.n * inp.c;
    dcgan__upsample_kernel<<<dcgan__blocks(NC * out.h * out.w), 256>>>(out.data, inp.data, NC, inp.h, inp.w,
                                                                       out.h, out.w, mode == DCGAN_UPSAMPLE_BILINEAR);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_upsample_backward_cuda(dcgan_tensor dinp, dcgan_tensor dout,
                                                    dcgan_upsample_mode mode) {
    if (!dcgan__resize_ok(dinp, dout)) return dcgan__shape_fail(__func__, dinp, dout);
    size_t NC = (size_t)dinp.n * dinp.c;
    dcgan__upsample_back_kernel<<<dcgan__blocks(NC * dout.h * dout.w), 256>>>(
        dinp.data, dout.data, NC, dinp.h, dinp.w, dout.h, dout.w, mode == DCGAN_UPSAMPLE_BILINEAR);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

// BatchNorm2d: one block per channel; sums in double, as on the CPU.
__device__ static double dcgan__block_sum(double v, double *part) {
    part[threadIdx.x] = v;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k /= 2) {
        if ((int)threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    double total = part[0];
    __syncthreads();
    return total;
}

__global__ static void dcgan__bn_forward_kernel(float *out, const float *inp, int N, int C, size_t HW,
                                                const float *gamma, const float *beta, float *running_mean,
                                                float *running_var, float *save_mean, float *save_invstd,
                                                float eps, float momentum, int training) {
    __shared__ double part[256];
    const int c = blockIdx.x;
    const size_t M = (size_t)N * HW;
    double mean, var;
    if (training) {
        double s = 0.0;
        for (size_t i = threadIdx.x; i < M; i += blockDim.x) s += inp[((i / HW) * C + c) * HW + i % HW];
        mean = dcgan__block_sum(s, part) / (double)M;
        double q = 0.0;
        for (size_t i = threadIdx.x; i < M; i += blockDim.x) {
            double d = inp[((i / HW) * C + c) * HW + i % HW] - mean;
            q += d * d;
        }
        double sq = dcgan__block_sum(q, part);
        var = sq / (double)M;
        if (threadIdx.x == 0) {
            running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
            running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * sq / (double)(M - 1));
        }
    } else {
        mean = running_mean[c];
        var = running_var[c];
    }
    const float invstd = (float)(1.0 / sqrt(var + eps));
    if (threadIdx.x == 0) {
        save_mean[c] = (float)mean;
        save_invstd[c] = invstd;
    }
    const float scale = gamma[c] * invstd, shift = beta[c] - (float)mean * scale;
    for (size_t i = threadIdx.x; i < M; i += blockDim.x) {
        size_t k = ((i / HW) * C + c) * HW + i % HW;
        out[k] = inp[k] * scale + shift;
    }
}

__global__ static void dcgan__bn_backward_kernel(float *dinp, float *dgamma, float *dbeta, const float *dout,
                                                 const float *inp, int N, int C, size_t HW,
                                                 const float *gamma, const float *save_mean,
                                                 const float *save_invstd, int training) {
    __shared__ double part[256];
    const int c = blockIdx.x;
    const size_t M = (size_t)N * HW;
    const float mean = save_mean[c], invstd = save_invstd[c];
    double sd = 0.0, sdx = 0.0;
    for (size_t i = threadIdx.x; i < M; i += blockDim.x) {
        size_t k = ((i / HW) * C + c) * HW + i % HW;
        sd += dout[k];
        sdx += (double)dout[k] * (inp[k] - mean) * invstd;
    }
    const double sum_d = dcgan__block_sum(sd, part), sum_dx = dcgan__block_sum(sdx, part);
    if (threadIdx.x == 0) {
        if (dgamma) dgamma[c] += (float)sum_dx;
        if (dbeta) dbeta[c] += (float)sum_d;
    }
    if (!dinp) return;
    const float g = gamma[c] * invstd;
    const float mean_d = (float)(sum_d / (double)M), mean_dx = (float)(sum_dx / (double)M);
    for (size_t i = threadIdx.x; i < M; i += blockDim.x) {
        size_t k = ((i / HW) * C + c) * HW + i % HW;
        if (training) {
            float xhat = (inp[k] - mean) * invstd;
            dinp[k] += g * (dout[k] - mean_d - xhat * mean_dx);
        } else {
            dinp[k] += g * dout[k];
        }
    }
}

DCGAN_API dcgan_status dcgan_batchnorm2d_forward_cuda(dcgan_tensor out, dcgan_tensor inp,
                                                      dcgan_batchnorm2d *bn, int training) {
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__same_shape(out, inp.n, inp.c, inp.h, inp.w))
        return dcgan__shape_fail(__func__, inp, out);
    const size_t HW = (size_t)inp.h * inp.w;
    if (training && (size_t)inp.n * HW < 2)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "batchnorm2d_forward_cuda: training needs more than 1 value per channel");
    dcgan__bn_forward_kernel<<<inp.c, 256>>>(out.data, inp.data, inp.n, inp.c, HW, bn->gamma, bn->beta,
                                             bn->running_mean, bn->running_var, bn->save_mean,
                                             bn->save_invstd, bn->eps, bn->momentum, training);
    DCGAN__LAUNCHED();
    bn->saved_training = training;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_batchnorm2d_backward_cuda(dcgan_tensor dinp, float *dgamma,
                                                       float *dbeta, dcgan_tensor dout,
                                                       dcgan_tensor inp,
                                                       const dcgan_batchnorm2d *bn) {
    if (inp.n <= 0 || inp.c != bn->channels || !dcgan__same_shape(dout, inp.n, inp.c, inp.h, inp.w) ||
        (dinp.data && !dcgan__same_shape(dinp, inp.n, inp.c, inp.h, inp.w)))
        return dcgan__shape_fail(__func__, inp, dout);
    dcgan__bn_backward_kernel<<<inp.c, 256>>>(dinp.data, dgamma, dbeta, dout.data, inp.data, inp.n, inp.c,
                                              (size_t)inp.h * inp.w, bn->gamma, bn->save_mean,
                                              bn->save_invstd, bn->saved_training);
    DCGAN__LAUNCHED();
    return DCGAN_OK;
}

// Activations: the CPU formulas, one thread per value.
__global__ static void dcgan__leaky_kernel(float *out, const float *x, size_t n, float slope) {
    DCGAN__FOR_EACH(i, n) out[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}
__global__ static void dcgan__leaky_back_kernel(float *dx, const float *dy, const float *x, size_t n, float slope) {
    DCGAN__FOR_EACH(i, n) dx[i] += (x[i] > 0.0f ? 1.0f : slope) * dy[i];
}
__global__ static void dcgan__tanh_kernel(float *out, const float *x, size_t n) {
    DCGAN__FOR_EACH(i, n) out[i] = tanhf(x[i]);
}
__global__ static void dcgan__tanh_back_kernel(float *dx, const float *dy, const float *y, size_t n) {
    DCGAN__FOR_EACH(i, n) dx[i] += (1.0f - y[i] * y[i]) * dy[i];
}
__global__ static void dcgan__sigmoid_kernel(float *out, const float *x, size_t n) {
    DCGAN__FOR_EACH(i, n) out[i] = 1.0f / (1.0f + expf(-x[i]));
}
__global__ static void dcgan__sigmoid_back_kernel(float *dx, const float *dy, const float *y, size_t n) {
    DCGAN__FOR_EACH(i, n) dx[i] += y[i] * (1.0f - y[i]) * dy[i];
}

#define DCGAN__LAUNCH_N(kernel, n, ...)                                 \
    do {                                                                \
        if ((n) > 0) kernel<<<dcgan__blocks(n), 256>>>(__VA_ARGS__);    \
        DCGAN__LAUNCHED();                                              \
        return DCGAN_OK;                                                \
    } while (0)

DCGAN_API dcgan_status dcgan_leaky_relu_forward_cuda(float *out, const float *inp, size_t n, float slope) {
    DCGAN__LAUNCH_N(dcgan__leaky_kernel, n, out, inp, n, slope);
}
DCGAN_API dcgan_status dcgan_leaky_relu_backward_cuda(float *dinp, const float *dout, const float *inp,
                                                      size_t n, float slope) {
    DCGAN__LAUNCH_N(dcgan__leaky_back_kernel, n, dinp, dout, inp, n, slope);
}
// ReLU is LeakyReLU with slope 0 (x > 0 ? x : 0 * x = 0, and -0 for negative x; the CPU writes +0).
__global__ static void dcgan__relu_kernel(float *out, const float *x, size_t n) {
    DCGAN__FOR_EACH(i, n) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
__global__ static void dcgan__relu_back_kernel(float *dx, const float *dy, const float *x, size_t n) {
    DCGAN__FOR_EACH(i, n) if (x[i] > 0.0f) dx[i] += dy[i];
}
DCGAN_API dcgan_status dcgan_relu_forward_cuda(float *out, const float *inp, size_t n) {
    DCGAN__LAUNCH_N(dcgan__relu_kernel, n, out, inp, n);
}
DCGAN_API dcgan_status dcgan_relu_backward_cuda(float *dinp, const float *dout, const float *inp, size_t n) {
    DCGAN__LAUNCH_N(dcgan__relu_back_kernel, n, dinp, dout, inp, n);
}
DCGAN_API dcgan_status dcgan_tanh_forward_cuda(float *out, const float *inp, size_t n) {
    DCGAN__LAUNCH_N(dcgan__tanh_kernel, n, out, inp, n);
}
DCGAN_API dcgan_status dcgan_tanh_backward_cuda(float *dinp, const float *dout, const float *out, size_t n) {
    DCGAN__LAUNCH_N(dcgan__tanh_back_kernel, n, dinp, dout, out, n);
}
DCGAN_API dcgan_status dcgan_sigmoid_forward_cuda(float *out, const float *inp, size_t n) {
    DCGAN__LAUNCH_N(dcgan__sigmoid_kernel, n, out, inp, n);
}
DCGAN_API dcgan_status dcgan_sigmoid_backward_cuda(float *dinp, const float *dout, const float *out, size_t n) {
    DCGAN__LAUNCH_N(dcgan__sigmoid_back_kernel, n, dinp, dout, out, n);
}

// Dropout: value i uses the i-th uniform after rng's current state, exactly
// the draw the CPU loop makes for it; then rng jumps n steps ahead on the host.
__global__ static void dcgan__dropout_kernel(float *out, float *mask, const float *x, size_t n, float p,
                                             float keep_scale, uint64_t state, uint64_t inc) {
    DCGAN__FOR_EACH(i, n) {
        uint64_t s = dcgan__pcg_jump(state, inc, i);
        float u = (float)(dcgan__pcg_output(s) >> 8) * (1.0f / 16777216.0f);
        mask[i] = u < p ? 0.0f : keep_scale;
        out[i] = x[i] * mask[i];
    }
}
__global__ static void dcgan__copy_ones_kernel(float *out, float *mask, const float *x, size_t n) {
    DCGAN__FOR_EACH(i, n) {
        out[i] = x[i];
        mask[i] = 1.0f;
    }
}
__global__ static void dcgan__mul_add_kernel(float *dx, const float *dy, const float *mask, size_t n) {
    DCGAN__FOR_EACH(i, n) dx[i] += dy[i] * mask[i];
}

DCGAN_API dcgan_status dcgan_dropout_forward_cuda(float *out, float *mask, const float *inp, size_t n,
                                                  float p, int training, dcgan_rng *rng) {
    if (n == 0) return DCGAN_OK;
    if (!training || p <= 0.0f) {
        dcgan__copy_ones_kernel<<<dcgan__blocks(n), 256>>>(out, mask, inp, n);
        DCGAN__LAUNCHED();
        return DCGAN_OK;
    }
    const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    dcgan__dropout_kernel<<<dcgan__blocks(n), 256>>>(out, mask, inp, n, p, keep_scale, rng->state, rng->inc);
    DCGAN__LAUNCHED();
    dcgan_rng_advance(rng, n);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_dropout_backward_cuda(float *dinp, const float *dout, const float *mask, size_t n) {
    DCGAN__LAUNCH_N(dcgan__mul_add_kernel, n, dinp, dout, mask, n);
}

// Gaussian noise: value i from the uniforms 2i and 2i+1 after rng's state
// (Box-Muller, cosine branch), the draws the CPU loop makes for it; then rng
// jumps 2n steps ahead on the host.
__global__ static void dcgan__gaussian_noise_kernel(float *out, const float *x, size_t n, float stddev,
                                                    uint64_t state, uint64_t inc) {
    DCGAN__FOR_EACH(i, n) {
        const double u1 = ((double)(dcgan__pcg_output(dcgan__pcg_jump(state, inc, 2 * i)) >> 8) + 1.0) / 16777216.0;
        const double u2 = (double)(dcgan__pcg_output(dcgan__pcg_jump(state, inc, 2 * i + 1)) >> 8) / 16777216.0;
        const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
        out[i] = x[i] + stddev * (float)z;
    }
}
DCGAN_API dcgan_status dcgan_gaussian_noise_forward_cuda(float *out, const float *inp, size_t n, float stddev,
                                                         int training, dcgan_rng *rng) {
    if (n == 0) return DCGAN_OK;
    if (!training || stddev == 0.0f) {
        return dcgan_vec_copy_cuda(out, inp, n);
    }
    dcgan__gaussian_noise_kernel<<<dcgan__blocks(n), 256>>>(out, inp, n, stddev, rng->state, rng->inc);
    DCGAN__LAUNCHED();
    dcgan_rng_advance(rng, 2 * (uint64_t)n);
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_gaussian_noise_backward_cuda(float *dinp, const float *dout, size_t n) {
    return dcgan_vec_add_cuda(dinp, dout, n);   // dinp += dout (section 4)
}

// -----------------------------------------------------------------------------
// 7. Loss: binary cross-entropy on logits, one block; loss and accuracy to the host

__global__ static void dcgan__bce_kernel(double *result, const float *x, const float *y, size_t n) {
    __shared__ double part[256];
    double loss = 0.0, right = 0.0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        double xi = x[i];
        loss += (xi > 0.0 ? xi : 0.0) - xi * y[i] + log1p(exp(-fabs(xi)));
        right += (x[i] > 0.0f) == (y[i] >= 0.5f) ? 1.0 : 0.0;
    }
    double total = dcgan__block_sum(loss, part), hits = dcgan__block_sum(right, part);
    if (threadIdx.x == 0) {
        result[0] = total / (double)n;
        result[1] = hits / (double)n;
    }
}

// dlogits = (sigmoid(x) - y) / n, launched only once the loss is known to be finite.
__global__ static void dcgan__bce_grad_kernel(float *dlogits, const float *x, const float *y, size_t n) {
    DCGAN__FOR_EACH(i, n) {
        double xi = x[i];
        double s = xi >= 0.0 ? 1.0 / (1.0 + exp(-xi)) : exp(xi) / (1.0 + exp(xi));
        dlogits[i] = (float)((s - y[i]) / (double)n);
    }
}

DCGAN_API dcgan_status dcgan_bce_with_logits_cuda(float *loss, float *accuracy, float *dlogits,
                                                  const float *logits, const float *targets, size_t n) {
    double host[2];
    if (n == 0) return dcgan_error_set(DCGAN_ERR_SHAPE, "bce_with_logits_cuda: no logits");
    DCGAN__TRY(dcgan_cuda_init(0));
    double *dev = (double *)dcgan__gpu.scratch;
    // Two passes, so that a non-finite loss leaves dlogits untouched (the CPU's contract).
    dcgan__bce_kernel<<<1, 256>>>(dev, logits, targets, n);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaMemcpy(host, dev, sizeof host, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess)
        return dcgan_error_set(DCGAN_ERR_CUDA, "bce_with_logits_cuda: %s", cudaGetErrorString(e));
    if (!isfinite(host[0]))
        return dcgan_error_set(DCGAN_ERR_NONFINITE, "bce_with_logits_cuda: loss is %f (not finite) over %zu logits",
                               host[0], n);
    if (dlogits) {
        dcgan__bce_grad_kernel<<<dcgan__blocks(n), 256>>>(dlogits, logits, targets, n);
        DCGAN__LAUNCHED();
    }
    *loss = (float)host[0];
    if (accuracy) *accuracy = (float)host[1];
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 8. Optimizer: Adam, one kernel over the whole parameter buffer

__global__ static void dcgan__count_nonfinite_kernel(unsigned long long *bad, const float *g, size_t n) {
    DCGAN__FOR_EACH(i, n) if (!(fabsf(g[i]) <= DCGAN_ADAM_MAX_GRAD)) atomicAdd(bad, 1ull);   // (as the CPU's)
}

__global__ static void dcgan__adam_kernel(float *w, const float *g, float *m, float *v, size_t n, float b1,
                                          float b2, float one_minus_b1, float one_minus_b2, float eps,
                                          float step_size, float sqrt_bc2, int keras) {
    DCGAN__FOR_EACH(i, n) {
        float gi = g[i];
        m[i] = b1 * m[i] + one_minus_b1 * gi;
        v[i] = b2 * v[i] + one_minus_b2 * gi * gi;
        if (keras) w[i] -= step_size * m[i] / (sqrtf(v[i]) + eps);
        else w[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + eps);
    }
}

DCGAN_API dcgan_status dcgan_adam_step_cuda(dcgan_adam *opt, float *params, const float *grads, float *m,
                                            float *v, size_t n) {
    unsigned long long bad = 0, *dev_bad;
    DCGAN__TRY(dcgan_cuda_init(0));
    dev_bad = (unsigned long long *)dcgan__gpu.scratch;
    cudaError_t e = cudaMemset(dev_bad, 0, sizeof bad);
    if (e == cudaSuccess && n > 0) {
        dcgan__count_nonfinite_kernel<<<dcgan__blocks(n), 256>>>(dev_bad, grads, n);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpy(&bad, dev_bad, sizeof bad, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) return dcgan_error_set(DCGAN_ERR_CUDA, "adam_step_cuda: %s", cudaGetErrorString(e));
    if (bad)
        return dcgan_error_set(DCGAN_ERR_NONFINITE, "adam_step_cuda: %llu of %zu gradients are NaN, Inf or above 1e19; "
                               "step %lld refused, nothing changed", bad, n, (long long)opt->step + 1);
    // the CPU's constants, formed in double and rounded once (see dcgan_adam)
    const int64_t t = opt->step + 1;
    const double bc1 = 1.0 - pow(opt->beta1, (double)t), bc2 = 1.0 - pow(opt->beta2, (double)t);
    const int keras = opt->mode == DCGAN_ADAM_KERAS;
    const float step_size = keras ? (float)(opt->lr * sqrt(bc2) / bc1) : (float)(opt->lr / bc1);
    if (n > 0) {
        dcgan__adam_kernel<<<dcgan__blocks(n), 256>>>(params, grads, m, v, n, (float)opt->beta1, (float)opt->beta2,
                                                      (float)(1.0 - opt->beta1), (float)(1.0 - opt->beta2),
                                                      (float)opt->eps, step_size, (float)sqrt(bc2), keras);
        DCGAN__LAUNCHED();
    }
    opt->step = t;
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 9. Models on the GPU: the device twins of a model's buffers. The passes
// over them (forward, backward, Adam) are dcgan.h's section 9; its dacts
// are two slot-sized halves here as on the host.

// The largest im2col matrix of one image, over the model's conv layers.
static size_t dcgan__col_per_image(const dcgan_model *m) {
    size_t most = 1;
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        size_t k = (size_t)L->spec.kernel * L->spec.kernel, size = 0;
        if (L->spec.kind == DCGAN_LAYER_CONV2D) size = (size_t)L->in_c * k * L->out_h * L->out_w;
        if (L->spec.kind == DCGAN_LAYER_CONV_TRANSPOSE2D) size = (size_t)L->out_c * k * L->in_h * L->in_w;
        if (size > most) most = size;
    }
    return most;
}

DCGAN_API void dcgan_model_free_cuda(dcgan_model *m) {
    float **bufs[9] = {&m->dev.params, &m->dev.grads, &m->dev.adam_m, &m->dev.adam_v, &m->dev.buffers,
                       &m->dev.acts, &m->dev.dacts, &m->dev.saved, &m->dev.work};
    for (int k = 0; k < 9; k++) {
        dcgan_cuda_free(*bufs[k]);
        *bufs[k] = NULL;
    }
    m->dev.n_work = 0;
    m->on_device = 0;
}

DCGAN_API dcgan_status dcgan_model_to_cuda(dcgan_model *m) {
    const size_t acts = m->slot_offset[m->n_layers + 1], saved = m->n_saved;
    const size_t per_image = dcgan__col_per_image(m);
    // im2col scratch for up to max_batch images, at most 256 Mi floats (1 GiB)
    size_t images = (size_t)256 * 1024 * 1024 / per_image;
    if (images < 1) images = 1;
    if (images > (size_t)m->max_batch) images = (size_t)m->max_batch;
    if (!m->dev.params) {
        struct { float **p; size_t n; } want[9] = {
            {&m->dev.params, m->n_params}, {&m->dev.grads, m->n_params}, {&m->dev.adam_m, m->n_params},
            {&m->dev.adam_v, m->n_params}, {&m->dev.buffers, m->n_buffers}, {&m->dev.acts, acts},
            {&m->dev.dacts, 2 * m->dslot}, {&m->dev.saved, saved}, {&m->dev.work, images * per_image}};
        for (int k = 0; k < 9; k++) {
            dcgan_status st = dcgan_cuda_malloc((void **)want[k].p, (want[k].n ? want[k].n : 1) * sizeof(float));
            if (st != DCGAN_OK) {
                dcgan_model_free_cuda(m);
                return st;
            }
        }
        m->dev.n_work = images * per_image;
    }
    DCGAN__TRY(dcgan_cuda_upload(m->dev.params, m->params, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_upload(m->dev.grads, m->grads, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_upload(m->dev.adam_m, m->adam_m, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_upload(m->dev.adam_v, m->adam_v, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_upload(m->dev.buffers, m->buffers, m->n_buffers * sizeof(float)));
    m->on_device = 1;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_model_from_cuda(dcgan_model *m) {
    if (!m->dev.params) return dcgan_error_set(DCGAN_ERR_CUDA, "model_from_cuda: model '%s' is not on the GPU", m->prefix);
    DCGAN__TRY(dcgan_cuda_download(m->params, m->dev.params, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_download(m->adam_m, m->dev.adam_m, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_download(m->adam_v, m->dev.adam_v, m->n_params * sizeof(float)));
    DCGAN__TRY(dcgan_cuda_download(m->buffers, m->dev.buffers, m->n_buffers * sizeof(float)));
    return DCGAN_OK;
}

// -----------------------------------------------------------------------------
// 10. GAN: DiffAugment, its device memory and dataset, and the twins its step
// needs (the step is written once, in dcgan.h: dcgan__gan_step)

// DiffAugment (dcgan.h section 10, Zhao et al. 2020): one block per image. The
// CPU's per-pixel loops, with the image's sum (the contrast's mean) and the
// backward's sum of the gradient over the pixels that read one taken by the
// block in double, as BatchNorm's.

// Whether output pixel (y, x) reads input pixel (y + ty, x + tx): inside, and not cut out.
__device__ static int dcgan__aug_reads(const dcgan_aug_draw *d, int y, int x, int h, int w) {
    const int sy = y + d->ty, sx = x + d->tx;
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) return 0;
    return !(y >= d->cut_y0 && y < d->cut_y1 && x >= d->cut_x0 && x < d->cut_x1);
}

__global__ static void dcgan__diffaug_kernel(float *out, const float *inp, const dcgan_aug_draw *draws, int c,
                                             int h, int w) {
    __shared__ double part[256];
    const dcgan_aug_draw d = draws[blockIdx.x];
    const size_t plane = (size_t)h * w, image = (size_t)c * plane;
    const float *x = inp + (size_t)blockIdx.x * image;
    float *y_out = out + (size_t)blockIdx.x * image;
    double s = 0.0;
    for (size_t k = threadIdx.x; k < image; k += blockDim.x) s += x[k];
    const float m = (float)(dcgan__block_sum(s, part) / (double)image) + d.brightness;   // mean after brightness
    for (size_t o = threadIdx.x; o < plane; o += blockDim.x) {
        const int y = (int)(o / w), xx = (int)(o % w);
        if (!dcgan__aug_reads(&d, y, xx, h, w)) {
            for (int ch = 0; ch < c; ch++) y_out[ch * plane + o] = 0.0f;
            continue;
        }
        const size_t src = (size_t)(y + d.ty) * w + (xx + d.tx);
        float pixel_mean = 0.0f;
        for (int ch = 0; ch < c; ch++) pixel_mean += x[ch * plane + src] + d.brightness;
        pixel_mean /= (float)c;
        for (int ch = 0; ch < c; ch++) {
            float v = x[ch * plane + src] + d.brightness;              // brightness
            v = (v - pixel_mean) * d.saturation + pixel_mean;          // saturation
            y_out[ch * plane + o] = (v - m) * d.contrast + m;          // contrast
        }
    }
}

__global__ static void dcgan__diffaug_back_kernel(float *dinp, const float *dout, const dcgan_aug_draw *draws,
                                                  int c, int h, int w) {
    __shared__ double part[256];
    const dcgan_aug_draw d = draws[blockIdx.x];
    const size_t plane = (size_t)h * w, image = (size_t)c * plane;
    const float *g = dout + (size_t)blockIdx.x * image;
    float *dx = dinp + (size_t)blockIdx.x * image;
    double sum = 0.0;   // of g1: the gradient at the output pixels that read a pixel
    for (size_t o = threadIdx.x; o < plane; o += blockDim.x)
        if (dcgan__aug_reads(&d, (int)(o / w), (int)(o % w), h, w))
            for (int ch = 0; ch < c; ch++) sum += g[ch * plane + o];
    const float k_c = d.contrast, s = d.saturation;
    const float spread = (1.0f - k_c) * (float)(dcgan__block_sum(sum, part) / (double)image);
    for (size_t src = threadIdx.x; src < plane; src += blockDim.x) {   // one thread per input pixel
        const int y = (int)(src / w) - d.ty, xx = (int)(src % w) - d.tx;   // the output pixel that reads it
        const int read = y >= 0 && y < h && xx >= 0 && xx < w && dcgan__aug_reads(&d, y, xx, h, w);
        const size_t o = read ? (size_t)y * w + xx : 0;
        float g1_sum = 0.0f;
        for (int ch = 0; ch < c; ch++) g1_sum += read ? g[ch * plane + o] : 0.0f;
        const float g2_sum = k_c * g1_sum + (float)c * spread;
        for (int ch = 0; ch < c; ch++) {
            const float g1 = read ? g[ch * plane + o] : 0.0f, g2 = k_c * g1 + spread;
            dx[ch * plane + src] += s * g2 + (1.0f - s) * g2_sum / (float)c;
        }
    }
}

// Both passes: the draws go up into the scratch buffer, as many images' at a time as it holds.
static dcgan_status dcgan__diffaug_run(int backward, float *out, const float *inp, const dcgan_aug_draw *draws,
                                       int n, int c, int h, int w) {
    if (n < 0 || c < 1 || h < 1 || w < 1)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "diffaug_%s_cuda: %d images of %d channels, %dx%d",
                               backward ? "backward" : "forward", n, c, h, w);
    if (n == 0) return DCGAN_OK;
    DCGAN__TRY(dcgan_cuda_init(0));   // the scratch buffer
    const size_t image = (size_t)c * h * w;
    const int run = (int)(DCGAN__SCRATCH_BYTES / sizeof(dcgan_aug_draw));
    dcgan_aug_draw *dev_draws = (dcgan_aug_draw *)dcgan__gpu.scratch;
    for (int i = 0; i < n; i += run) {
        const int k = n - i < run ? n - i : run;
        DCGAN__CUDA_TRY(cudaMemcpy(dev_draws, draws + i, (size_t)k * sizeof(dcgan_aug_draw), cudaMemcpyHostToDevice));
        if (backward)
            dcgan__diffaug_back_kernel<<<k, 256>>>(out + (size_t)i * image, inp + (size_t)i * image, dev_draws, c, h, w);
        else
            dcgan__diffaug_kernel<<<k, 256>>>(out + (size_t)i * image, inp + (size_t)i * image, dev_draws, c, h, w);
        DCGAN__LAUNCHED();
    }
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_diffaug_forward_cuda(float *out, const float *inp, const dcgan_aug_draw *draws,
                                                  int n, int c, int h, int w) {
    return dcgan__diffaug_run(0, out, inp, draws, n, c, h, w);
}

DCGAN_API dcgan_status dcgan_diffaug_backward_cuda(float *dinp, const float *dout,
                                                   const dcgan_aug_draw *draws, int n, int c, int h, int w) {
    return dcgan__diffaug_run(1, dinp, dout, draws, n, c, h, w);
}

DCGAN_API void dcgan_gan_free_cuda(dcgan_gan *gan) {
    float **bufs[10] = {&gan->dev.dataset,    &gan->dev.images,      &gan->dev.noise,      &gan->dev.labels,
                        &gan->dev.dlogits,    &gan->dev.dimages,     &gan->dev.aug_images, &gan->dev.daug_images,
                        &gan->dev.ema_params, &gan->dev.ema_buffers};
    if (!gan->dev.images && !gan->g.dev.params && !gan->d.dev.params) return;
    for (int k = 0; k < 10; k++) {
        dcgan_cuda_free(*bufs[k]);
        *bufs[k] = NULL;
    }
    gan->dev.host_dataset = NULL;
    gan->dev.count = 0;
    dcgan_model_free_cuda(&gan->g);
    dcgan_model_free_cuda(&gan->d);
    gan->on_device = 0;
}

DCGAN_API dcgan_status dcgan_gan_to_cuda(dcgan_gan *gan) {
    const dcgan_gan_config *c = &gan->cfg;
    const size_t image = (size_t)c->channels * c->size * c->size;
    dcgan_status st;
    DCGAN__TRY(dcgan_cuda_init(0));
    const size_t aug = c->augment ? (size_t)c->batch * image : 0;   // (0: not made)
    const size_t ema = gan->ema_params ? gan->g.n_params : 0, ema_stats = gan->ema_params ? gan->g.n_buffers + 1 : 0;
    if (!gan->dev.images) {
        struct { float **p; size_t n; } want[9] = {{&gan->dev.images, (size_t)c->batch * image},
                                                  {&gan->dev.noise, (size_t)c->batch * c->latent},
                                                  {&gan->dev.labels, (size_t)c->batch},
                                                  {&gan->dev.dlogits, (size_t)c->batch},
                                                  {&gan->dev.dimages, (size_t)c->batch * image},
                                                  {&gan->dev.aug_images, aug},
                                                  {&gan->dev.daug_images, aug},
                                                  {&gan->dev.ema_params, ema},
                                                  {&gan->dev.ema_buffers, ema_stats}};
        for (int k = 0; k < 9; k++)
            if (want[k].n && (st = dcgan_cuda_malloc((void **)want[k].p, want[k].n * sizeof(float))) != DCGAN_OK) {
                dcgan_gan_free_cuda(gan);
                return st;
            }
    }
    if ((st = dcgan_model_to_cuda(&gan->g)) != DCGAN_OK || (st = dcgan_model_to_cuda(&gan->d)) != DCGAN_OK ||
        (ema && (st = dcgan_cuda_upload(gan->dev.ema_params, gan->ema_params, ema * sizeof(float))) != DCGAN_OK) ||
        (ema && gan->g.n_buffers &&
         (st = dcgan_cuda_upload(gan->dev.ema_buffers, gan->ema_buffers, gan->g.n_buffers * sizeof(float))) !=
             DCGAN_OK)) {
        dcgan_gan_free_cuda(gan);
        return st;
    }
    gan->on_device = 1;
    return DCGAN_OK;
}

DCGAN_API dcgan_status dcgan_gan_from_cuda(dcgan_gan *gan) {
    DCGAN__TRY(dcgan_model_from_cuda(&gan->g));
    DCGAN__TRY(dcgan_model_from_cuda(&gan->d));
    if (gan->ema_params && gan->dev.ema_params) {   // the averaged G
        DCGAN__TRY(dcgan_cuda_download(gan->ema_params, gan->dev.ema_params, gan->g.n_params * sizeof(float)));
        if (gan->g.n_buffers)
            DCGAN__TRY(dcgan_cuda_download(gan->ema_buffers, gan->dev.ema_buffers, gan->g.n_buffers * sizeof(float)));
    }
    return DCGAN_OK;
}

// dst rows = dataset rows index[0..count) (the half batch of real images).
__global__ static void dcgan__gather_kernel(float *dst, const float *dataset, const int *index, int count,
                                            size_t image) {
    DCGAN__FOR_EACH(i, (size_t)count * image) dst[i] = dataset[(size_t)index[i / image] * image + i % image];
}

__global__ static void dcgan__fill_kernel(float *x, float value, size_t n) {
    DCGAN__FOR_EACH(i, n) x[i] = value;
}

// The dataset goes up once; again only when the caller passes another one.
DCGAN_API void dcgan_gan_invalidate_dataset_cuda(dcgan_gan *gan) {
    gan->dev.host_dataset = NULL;   // the next step uploads again
    gan->dev.count = 0;
}

DCGAN_API dcgan_status dcgan_gan_upload_dataset_cuda(dcgan_gan *gan, const float *dataset, int n_images) {
    const dcgan_gan_config *c = &gan->cfg;
    const size_t bytes = (size_t)n_images * c->channels * c->size * c->size * sizeof(float);
    if (n_images <= 0)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "gan_upload_dataset_cuda: %d images", n_images);
    dcgan_cuda_free(gan->dev.dataset);
    gan->dev.dataset = NULL;
    gan->dev.host_dataset = NULL;
    DCGAN__TRY(dcgan_cuda_malloc((void **)&gan->dev.dataset, bytes));
    DCGAN__TRY(dcgan_cuda_upload(gan->dev.dataset, dataset, bytes));
    gan->dev.host_dataset = dataset;
    gan->dev.count = n_images;
    return DCGAN_OK;
}

// The GAN step itself is written once, in dcgan.h (dcgan__gan_step); it
// reaches the GPU through the model passes' _cuda twins and these two.
DCGAN_API dcgan_status dcgan_vec_fill_cuda(float *x, size_t n, float value) {
    DCGAN__LAUNCH_N(dcgan__fill_kernel, n, x, value, n);
}

// index is on the host: it goes up into the scratch buffer first.
DCGAN_API dcgan_status dcgan_gather_rows_cuda(float *dst, const float *src, const int *index, int count,
                                              size_t row) {
    if (count <= 0) return DCGAN_OK;
    DCGAN__TRY(dcgan_cuda_init(0));   // the scratch buffer
    if ((size_t)count * sizeof(int) > DCGAN__SCRATCH_BYTES)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "gather_rows_cuda: %d rows; at most %d per call", count,
                               (int)(DCGAN__SCRATCH_BYTES / sizeof(int)));
    int *dev_index = (int *)dcgan__gpu.scratch;   // set by dcgan_cuda_init
    DCGAN__CUDA_TRY(cudaMemcpy(dev_index, index, (size_t)count * sizeof(int), cudaMemcpyHostToDevice));
    DCGAN__LAUNCH_N(dcgan__gather_kernel, (size_t)count * row, dst, src, dev_index, count, row);
}

// G's device weights and statistics trade places with the averaged ones (dcgan.h's dcgan__swap_ema).
static void dcgan__swap_ema_cuda(dcgan_gan *gan) {
    float *p = gan->g.dev.params, *b = gan->g.dev.buffers;
    gan->g.dev.params = gan->dev.ema_params;
    gan->dev.ema_params = p;
    if (gan->g.n_buffers) {
        gan->g.dev.buffers = gan->dev.ema_buffers;
        gan->dev.ema_buffers = b;
    }
}

static dcgan_status dcgan__generate_cuda(dcgan_gan *gan, float *out, const float *noise, int n) {
    const dcgan_gan_config *c = &gan->cfg;
    const size_t image = (size_t)c->channels * c->size * c->size;
    for (int i = 0; i < n; i += c->batch) {
        int nb = n - i < c->batch ? n - i : c->batch;
        DCGAN__TRY(dcgan_cuda_upload(gan->dev.noise, noise + (size_t)i * c->latent, (size_t)nb * c->latent * sizeof(float)));
        DCGAN__TRY(dcgan_model_forward_cuda(&gan->g, dcgan_tensor_make(gan->dev.noise, nb, c->latent, 1, 1), 0, NULL));
        DCGAN__TRY(dcgan_cuda_download(out + (size_t)i * image, gan->g.dev.acts + gan->g.slot_offset[gan->g.n_layers],
                                       (size_t)nb * image * sizeof(float)));
    }
    return DCGAN_OK;
}

// With cfg.ema_kimg the images come from the averaged G, as on the CPU.
DCGAN_API dcgan_status dcgan_gan_generate_cuda(dcgan_gan *gan, float *out, const float *noise, int n) {
    if (!gan->on_device) DCGAN__TRY(dcgan_gan_to_cuda(gan));
    const int ema = gan->ema_params && gan->dev.ema_params;
    if (ema) dcgan__swap_ema_cuda(gan);
    dcgan_status st = dcgan__generate_cuda(gan, out, noise, n);
    if (ema) dcgan__swap_ema_cuda(gan);   // G's own weights back for training
    return st;
}

// -----------------------------------------------------------------------------
// 14. FID: the Frechet distance's matrix work in double on the GPU
//
// The CPU algorithm of dcgan_frechet_distance: sqrt(S1) = V diag(sqrt(w1)) V^T
// from the eigen-decomposition of S1 (cusolverDnDsyevd), M = sqrt(S1) S2
// sqrt(S1) (cublasDgemm), tr sqrt(S1 S2) = sum sqrt(eigenvalues of M).

__global__ static void dcgan__scale_columns_kernel(double *T, const double *V, const double *w, int n) {
    DCGAN__FOR_EACH(i, (size_t)n * n) {
        // column-major: element (row, col) at col * n + row
        int col = (int)(i / n);
        T[i] = V[i] * (w[col] > 0.0 ? sqrt(w[col]) : 0.0);
    }
}

__global__ static void dcgan__symmetrize_kernel(double *M, int n) {
    DCGAN__FOR_EACH(i, (size_t)n * n) {
        int r = (int)(i % n), c = (int)(i / n);
        if (r < c) {
            double avg = 0.5 * (M[i] + M[(size_t)r * n + c]);
            M[i] = avg;
            M[(size_t)r * n + c] = avg;
        }
    }
}

// Eigenvalues (ascending) of the symmetric A (n x n, device, overwritten with
// the eigenvectors when vectors = 1) into w (device).
static dcgan_status dcgan__syevd(double *A, double *w, int n, int vectors) {
    int lwork = 0, info = 0, *dev_info = NULL;
    double *work = NULL;
    cusolverEigMode_t mode = vectors ? CUSOLVER_EIG_MODE_VECTOR : CUSOLVER_EIG_MODE_NOVECTOR;
    DCGAN__CUSOLVER_TRY(cusolverDnDsyevd_bufferSize(dcgan__gpu.solver, mode, CUBLAS_FILL_MODE_LOWER, n, A, n, w, &lwork));
    DCGAN__TRY(dcgan_cuda_malloc((void **)&work, (size_t)lwork * sizeof(double)));
    dcgan_status st = dcgan_cuda_malloc((void **)&dev_info, sizeof(int));
    if (st == DCGAN_OK) {
        cusolverStatus_t s = cusolverDnDsyevd(dcgan__gpu.solver, mode, CUBLAS_FILL_MODE_LOWER, n, A, n, w, work, lwork, dev_info);
        if (s != CUSOLVER_STATUS_SUCCESS) st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: cusolverDnDsyevd: status %d", (int)s);
        else if (cudaMemcpy(&info, dev_info, sizeof info, cudaMemcpyDeviceToHost) != cudaSuccess)
            st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: reading syevd's info failed");
        else if (info != 0)
            st = dcgan_error_set(DCGAN_ERR_NONFINITE, "frechet_distance_cuda: the eigen-solver did not converge (info %d)", info);
    }
    dcgan_cuda_free(work);
    dcgan_cuda_free(dev_info);
    return st;
}

DCGAN_API dcgan_status dcgan_frechet_distance_cuda(double *fid, const dcgan_fid_stats *a, const dcgan_fid_stats *b) {
    const int n = a->dims;
    if (a->dims != b->dims || n <= 0)
        return dcgan_error_set(DCGAN_ERR_SHAPE, "frechet_distance_cuda: statistics of %d and %d dims cannot be compared",
                               a->dims, b->dims);
    const size_t nn = (size_t)n * n;
    double *buf = NULL, *w = NULL;
    DCGAN__TRY(dcgan_cuda_init(0));
    DCGAN__TRY(dcgan_cuda_malloc((void **)&buf, (4 * nn + 2 * (size_t)n) * sizeof(double)));
    double *V = buf, *S = V + nn, *T = S + nn, *M = T + nn, *w1 = M + nn, *w2 = w1 + n;
    const double one = 1.0, zero = 0.0;
    dcgan_status st = DCGAN_OK;
    w = (double *)malloc((size_t)n * sizeof(double));
    if (!w) st = dcgan_error_set(DCGAN_ERR_NOMEM, "frechet_distance_cuda: no memory for %d eigenvalues", n);
    // The matrices are symmetric, so row-major and column-major are the same.
    if (st == DCGAN_OK) st = dcgan_cuda_upload(V, a->sigma, nn * sizeof(double));
    if (st == DCGAN_OK) st = dcgan_cuda_upload(S, b->sigma, nn * sizeof(double));
    if (st == DCGAN_OK) st = dcgan__syevd(V, w1, n, 1);   // V: eigenvectors of S1 (columns)
    if (st == DCGAN_OK) {
        dcgan__scale_columns_kernel<<<dcgan__blocks(nn), 256>>>(T, V, w1, n);   // T = V sqrt(W)
        if (cudaGetLastError() != cudaSuccess) st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: kernel launch failed");
    }
    // M = T V^T = sqrt(S1); then T = M S2; then S = T M = sqrt(S1) S2 sqrt(S1)
    if (st == DCGAN_OK && cublasDgemm(dcgan__gpu.blas, CUBLAS_OP_N, CUBLAS_OP_T, n, n, n, &one, T, n, V, n, &zero, M, n) != CUBLAS_STATUS_SUCCESS)
        st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: cublasDgemm failed");
    if (st == DCGAN_OK && cublasDgemm(dcgan__gpu.blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, M, n, S, n, &zero, T, n) != CUBLAS_STATUS_SUCCESS)
        st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: cublasDgemm failed");
    if (st == DCGAN_OK && cublasDgemm(dcgan__gpu.blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, T, n, M, n, &zero, S, n) != CUBLAS_STATUS_SUCCESS)
        st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: cublasDgemm failed");
    if (st == DCGAN_OK) {
        dcgan__symmetrize_kernel<<<dcgan__blocks(nn), 256>>>(S, n);
        if (cudaGetLastError() != cudaSuccess) st = dcgan_error_set(DCGAN_ERR_CUDA, "frechet_distance_cuda: kernel launch failed");
    }
    if (st == DCGAN_OK) st = dcgan__syevd(S, w2, n, 0);
    if (st == DCGAN_OK) st = dcgan_cuda_download(w, w2, (size_t)n * sizeof(double));
    if (st == DCGAN_OK) {
        double diff = 0.0, tr1 = 0.0, tr2 = 0.0, tr_sqrt = 0.0;
        for (int i = 0; i < n; i++) {
            double d = a->mu[i] - b->mu[i];
            diff += d * d;
            tr1 += a->sigma[(size_t)i * n + i];
            tr2 += b->sigma[(size_t)i * n + i];
            tr_sqrt += w[i] > 0.0 ? sqrt(w[i]) : 0.0;
        }
        *fid = diff + tr1 + tr2 - 2.0 * tr_sqrt;
    }
    free(w);
    dcgan_cuda_free(buf);
    return st;
}
