// fma_peak.h - the float32 FMA peak, measured: independent chains of fused
// multiply-adds, 2 FLOPs each, in ymm (AVX2) registers, in zmm (AVX-512)
// registers, or (without AVX2) plain floats. Shared by bench/bench.c and
// bench/kernel_tile.c; include it after dcgan.h (its DCGAN__HAVE_* macros) and
// examples/cli.h (cli_now).
#ifndef FMA_PEAK_H
#define FMA_PEAK_H

#ifdef DCGAN__HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma")))
static float fma_loop(long iters) {
    __m256 a[10], b = _mm256_set1_ps(1.000001f), c = _mm256_set1_ps(0.999999f);
    for (int k = 0; k < 10; k++) a[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
        a[0] = _mm256_fmadd_ps(a[0], b, c); a[1] = _mm256_fmadd_ps(a[1], b, c);
        a[2] = _mm256_fmadd_ps(a[2], b, c); a[3] = _mm256_fmadd_ps(a[3], b, c);
        a[4] = _mm256_fmadd_ps(a[4], b, c); a[5] = _mm256_fmadd_ps(a[5], b, c);
        a[6] = _mm256_fmadd_ps(a[6], b, c); a[7] = _mm256_fmadd_ps(a[7], b, c);
        a[8] = _mm256_fmadd_ps(a[8], b, c); a[9] = _mm256_fmadd_ps(a[9], b, c);
    }
    float out[8], sum = 0;
    for (int k = 1; k < 10; k++) a[0] = _mm256_add_ps(a[0], a[k]);
    _mm256_storeu_ps(out, a[0]);
    for (int k = 0; k < 8; k++) sum += out[k];
    return sum;
}
#define FMA_PER_ITER (10 * 8)
#else
static float fma_loop(long iters) {
    float a[16], sum = 0;
    for (int k = 0; k < 16; k++) a[k] = (float)k;
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 16; k++) a[k] = a[k] * 1.000001f + 0.999999f;
    for (int k = 0; k < 16; k++) sum += a[k];
    return sum;
}
#define FMA_PER_ITER 16
#endif

// With AVX-512: the same chains in zmm registers. CPUs that run a zmm FMA as
// two 256-bit halves (AMD Zen 4) reach the same peak either way; an Intel Xeon
// with two full-width FMA units reaches twice the ymm rate (session 20's Xeon:
// 171 GFLOP/s in ymm, while dcgan.h's sgemm ran at 207), so a peak is the
// faster of the two loops.
#ifdef DCGAN__HAVE_AVX512_KERNEL
__attribute__((target("avx512f")))
static float fma_loop_avx512(long iters) {
    __m512 a[10], b = _mm512_set1_ps(1.000001f), c = _mm512_set1_ps(0.999999f);
    for (int k = 0; k < 10; k++) a[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
        a[0] = _mm512_fmadd_ps(a[0], b, c); a[1] = _mm512_fmadd_ps(a[1], b, c);
        a[2] = _mm512_fmadd_ps(a[2], b, c); a[3] = _mm512_fmadd_ps(a[3], b, c);
        a[4] = _mm512_fmadd_ps(a[4], b, c); a[5] = _mm512_fmadd_ps(a[5], b, c);
        a[6] = _mm512_fmadd_ps(a[6], b, c); a[7] = _mm512_fmadd_ps(a[7], b, c);
        a[8] = _mm512_fmadd_ps(a[8], b, c); a[9] = _mm512_fmadd_ps(a[9], b, c);
    }
    for (int k = 1; k < 10; k++) a[0] = _mm512_add_ps(a[0], a[k]);
    return _mm512_reduce_add_ps(a[0]);
}
#define FMA512_PER_ITER (10 * 16)
#endif

// GFLOP/s of iters rounds of loop, fma_per_iter lanes of FMA each: on every
// thread (all_threads 1) or on the caller's alone (0).
static double fma_rate(float (*loop)(long), long iters, int fma_per_iter, int all_threads) {
    int threads = 1;
    float sink = 0;
    double t = cli_now();
    if (all_threads) {
        DCGAN__OMP(omp parallel reduction(+ : sink))
        sink += loop(iters);
#ifdef _OPENMP
        threads = omp_get_max_threads();
#endif
    } else {
        sink = loop(iters);
    }
    t = cli_now() - t;
    if (sink == 42.0f) printf("#\n");
    return 2.0 * fma_per_iter * (double)iters * threads / t / 1e9;
}

#endif
