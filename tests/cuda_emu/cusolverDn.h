// cusolverDn.h - a stand-in for cuSOLVER's header: the symmetric eigen-solver
// dcgan_cuda.cu uses, done by dcgan.h's own in tests/cuda_emu/emulation.cpp.
#ifndef DCGAN_EMU_CUSOLVERDN_H
#define DCGAN_EMU_CUSOLVERDN_H
#include "cublas_v2.h"
typedef struct dcgan_emu_solver *cusolverDnHandle_t;
typedef int cusolverStatus_t;
enum { CUSOLVER_STATUS_SUCCESS = 0 };
typedef enum { CUSOLVER_EIG_MODE_NOVECTOR, CUSOLVER_EIG_MODE_VECTOR } cusolverEigMode_t;
cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t *handle);
cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle);
cusolverStatus_t cusolverDnDsyevd_bufferSize(cusolverDnHandle_t handle, cusolverEigMode_t mode,
                                             cublasFillMode_t fill, int n, const double *A, int lda,
                                             const double *w, int *lwork);
cusolverStatus_t cusolverDnDsyevd(cusolverDnHandle_t handle, cusolverEigMode_t mode, cublasFillMode_t fill, int n,
                                  double *A, int lda, double *w, double *work, int lwork, int *info);
#endif
