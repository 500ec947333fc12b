// cuda_runtime.h - a stand-in for the CUDA runtime's header, for the host
// emulation of dcgan_cuda.cu (tests/cuda_emu/emulation.cpp, `make test`):
// the declarations dcgan_cuda.cu uses, and what makes its kernels plain C++.
// A kernel launch `k<<<grid, 256>>>(args)` is rewritten (tests/tests.mk, sed) as
// `dcgan_emu_launch(grid, k, args)`: every pointer argument is checked to lie in
// device memory, then the kernel runs once per block, one after another, each
// block of ONE thread (blockDim.x = 1). Grid-stride loops and the shared-memory
// reductions then cover every element in one thread, so index arithmetic, the
// pointers given to kernels, the runtime and the libraries, and the
// cuBLAS/cuSOLVER arguments are checked; races, block sizes and the real
// libraries are not (only a GPU shows those).
#ifndef DCGAN_EMU_CUDA_RUNTIME_H
#define DCGAN_EMU_CUDA_RUNTIME_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor;
};
struct dcgan_emu_dim3 {
    unsigned x, y, z;
};
extern dcgan_emu_dim3 blockIdx, threadIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __shared__ static
#define __syncthreads() ((void)0)

// Aborts, naming what, unless [p, p + bytes) lies inside one device allocation.
void dcgan_emu_check_device(const void *p, size_t bytes, const char *what);

// A kernel's argument: a pointer (NULL is an absent optional buffer) must point
// into device memory; other arguments are values.
template <class T> inline void dcgan_emu_check_argument(T *p) {
    if (p) dcgan_emu_check_device(p, 1, "a kernel's pointer argument");
}
template <class T> inline void dcgan_emu_check_argument(const T &) {}

template <class Kernel, class... Args> inline void dcgan_emu_launch(size_t grid, Kernel kernel, Args... args) {
    int checked[] = {0, (dcgan_emu_check_argument(args), 0)...};
    (void)checked;
    for (gridDim.x = (unsigned)grid, blockDim.x = 1, threadIdx.x = 0, blockIdx.x = 0; blockIdx.x < gridDim.x;
         blockIdx.x++)
        kernel(args...);
}

static inline float atomicAdd(float *p, float v) {
    float old = *p;
    *p += v;
    return old;
}
static inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) {
    unsigned long long old = *p;
    *p += v;
    return old;
}

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaMalloc(void **ptr, size_t bytes);
template <class T> cudaError_t cudaMalloc(T **ptr, size_t bytes) { return cudaMalloc((void **)ptr, bytes); }
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemset(void *ptr, int value, size_t bytes);
cudaError_t cudaGetLastError(void);
cudaError_t cudaDeviceSynchronize(void);
const char *cudaGetErrorString(cudaError_t e);
#endif
