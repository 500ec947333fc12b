// emulation.cpp - the CUDA runtime, cuBLAS and cuSOLVER calls of dcgan_cuda.cu,
// done on the host, so that `make test` can run tests/test_cuda.c against the
// GPU code without a GPU (see cuda_runtime.h for what this can and cannot
// show). "Device" memory is host memory that is tracked: every copy, memset,
// product and eigen-solve checks that its pointers lie inside one allocation,
// and a fresh allocation is filled with 0xff bytes (NaN), as nothing on a GPU
// zeroes it. The products sum over k in reverse, an order other than the CPU
// build's, as a GPU's would be (-DDCGAN_EMU_FUSED: forward with fused
// multiply-adds, a third order; make EMU_ORDER=-DDCGAN_EMU_FUSED). Written for
// dcgan.h (session 37).
#include "cusolverDn.h"
#include "dcgan.h"
#include <map>
#include <stdio.h>

dcgan_emu_dim3 blockIdx, threadIdx, blockDim, gridDim;

// --- device memory

static std::map<const char *, size_t> dcgan_emu_allocations;   // base -> bytes

void dcgan_emu_check_device(const void *p, size_t bytes, const char *what) {
    const char *c = (const char *)p;
    std::map<const char *, size_t>::iterator it = dcgan_emu_allocations.upper_bound(c);
    if (it == dcgan_emu_allocations.begin()) {
        fprintf(stderr, "cuda emulation: %s: %p is not device memory\n", what, p);
        abort();
    }
    --it;
    if (c + bytes > it->first + it->second) {
        fprintf(stderr, "cuda emulation: %s: %zu bytes at %p run past their allocation of %zu bytes\n", what,
                bytes, p, it->second);
        abort();
    }
}

cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int) { return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int) {
    snprintf(prop->name, sizeof prop->name, "host emulation (no GPU)");
    prop->totalGlobalMem = (size_t)80 << 30;
    prop->major = 9;
    prop->minor = 0;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void **ptr, size_t bytes) {
    *ptr = bytes <= ((size_t)1 << 40) ? malloc(bytes) : NULL;   // (a request past 1 TiB fails, as on a GPU)
    if (!*ptr) return cudaErrorMemoryAllocation;
    memset(*ptr, 0xff, bytes);
    dcgan_emu_allocations[(const char *)*ptr] = bytes;
    return cudaSuccess;
}
cudaError_t cudaFree(void *ptr) {
    if (ptr) {
        if (!dcgan_emu_allocations.erase((const char *)ptr)) {
            fprintf(stderr, "cuda emulation: cudaFree of %p, not an allocation\n", ptr);
            abort();
        }
        free(ptr);
    }
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (kind != cudaMemcpyDeviceToHost) dcgan_emu_check_device(dst, bytes, "cudaMemcpy's destination");
    if (kind != cudaMemcpyHostToDevice) dcgan_emu_check_device(src, bytes, "cudaMemcpy's source");
    memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemset(void *ptr, int value, size_t bytes) {
    dcgan_emu_check_device(ptr, bytes, "cudaMemset");
    memset(ptr, value, bytes);
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "out of memory"; }

// --- cuBLAS: column-major C (m x n) = alpha op(A) op(B) + beta C, with cuBLAS's argument checks

cublasStatus_t cublasCreate(cublasHandle_t *handle) {
    *handle = (cublasHandle_t)1;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }

template <class T>
static cublasStatus_t dcgan_emu_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, T alpha,
                                     const T *A, int lda, const T *B, int ldb, T beta, T *C, int ldc) {
    const int rows_a = ta == CUBLAS_OP_N ? m : k, rows_b = tb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (rows_a > 1 ? rows_a : 1) || ldb < (rows_b > 1 ? rows_b : 1) ||
        ldc < (m > 1 ? m : 1)) {
        fprintf(stderr, "cuda emulation: gemm refused m %d n %d k %d lda %d ldb %d ldc %d\n", m, n, k, lda, ldb,
                ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (m && n) dcgan_emu_check_device(C, ((size_t)(n - 1) * ldc + m) * sizeof(T), "gemm's C");
    if (m && k)
        dcgan_emu_check_device(
            A, (ta == CUBLAS_OP_N ? (size_t)(k - 1) * lda + m : (size_t)(m - 1) * lda + k) * sizeof(T), "gemm's A");
    if (n && k)
        dcgan_emu_check_device(
            B, (tb == CUBLAS_OP_N ? (size_t)(n - 1) * ldb + k : (size_t)(k - 1) * ldb + n) * sizeof(T), "gemm's B");
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            T sum = 0;
#ifdef DCGAN_EMU_FUSED   // (another order: k forward, each step one rounding, as an FMA unit's)
            for (int p = 0; p < k; p++) {
                const T a = ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                const T b = tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                sum = (T)fma(a, b, sum);
            }
#else
            for (int p = k - 1; p >= 0; p--) {
                const T a = ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                const T b = tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                sum += a * b;
            }
#endif
            T *c = &C[i + (size_t)j * ldc];
            *c = alpha * sum + (beta == 0 ? 0 : beta * *c);   // beta 0: C is not read (NaN stays out)
        }
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc) {
    return dcgan_emu_gemm<float>(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
}
cublasStatus_t cublasDgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double *alpha, const double *A, int lda, const double *B, int ldb,
                           const double *beta, double *C, int ldc) {
    return dcgan_emu_gemm<double>(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float *alpha, const float *A, int lda, long long stride_a,
                                         const float *B, int ldb, long long stride_b, const float *beta, float *C,
                                         int ldc, long long stride_c, int count) {
    for (int b = 0; b < count; b++) {
        cublasStatus_t s = dcgan_emu_gemm<float>(ta, tb, m, n, k, *alpha, A + b * stride_a, lda, B + b * stride_b,
                                                 ldb, *beta, C + b * stride_c, ldc);
        if (s != CUBLAS_STATUS_SUCCESS) return s;
    }
    return CUBLAS_STATUS_SUCCESS;
}

// --- cuSOLVER: the symmetric eigen-solver, by dcgan.h's own (dcgan_symmetric_eigen)

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t *handle) {
    *handle = (cusolverDnHandle_t)1;
    return CUSOLVER_STATUS_SUCCESS;
}
cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t) { return CUSOLVER_STATUS_SUCCESS; }
cusolverStatus_t cusolverDnDsyevd_bufferSize(cusolverDnHandle_t, cusolverEigMode_t, cublasFillMode_t, int n,
                                             const double *, int, const double *, int *lwork) {
    *lwork = 2 * n * n + 10;
    return CUSOLVER_STATUS_SUCCESS;
}
// Column-major A (n x n, leading dimension lda), only its lower triangle read
// (the fill mode dcgan_cuda.cu gives); eigenvalues ascending into w, the
// eigenvectors over A's columns.
cusolverStatus_t cusolverDnDsyevd(cusolverDnHandle_t, cusolverEigMode_t mode, cublasFillMode_t fill, int n,
                                  double *A, int lda, double *w, double *work, int lwork, int *info) {
    dcgan_emu_check_device(A, (size_t)n * lda * sizeof(double), "syevd's A");
    dcgan_emu_check_device(w, (size_t)n * sizeof(double), "syevd's w");
    dcgan_emu_check_device(work, (size_t)lwork * sizeof(double), "syevd's workspace");
    dcgan_emu_check_device(info, sizeof(int), "syevd's info");
    if (fill != CUBLAS_FILL_MODE_LOWER) {
        fprintf(stderr, "cuda emulation: syevd with the upper triangle is not emulated\n");
        abort();
    }
    double *S = (double *)malloc(sizeof(double) * n * n), *V = (double *)malloc(sizeof(double) * n * n);
    if (!S || !V) abort();
    for (int c = 0; c < n; c++)
        for (int r = c; r < n; r++) S[(size_t)r * n + c] = S[(size_t)c * n + r] = A[r + (size_t)c * lda];
    const dcgan_status st = dcgan_symmetric_eigen(S, n, w, V);
    if (mode == CUSOLVER_EIG_MODE_VECTOR)
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++) A[i + (size_t)j * lda] = V[(size_t)i * n + j];
    *info = st == DCGAN_OK ? 0 : 1;
    free(S);
    free(V);
    return CUSOLVER_STATUS_SUCCESS;
}
