// kernel_tile.c - the GEMM micro-kernels alone, on packed panels that stay in
// the L1 cache, one thread: GFLOP/s of the 6 x 16 kernels (AVX2, AVX-512) run
// on two panels and of the 6 x 32 AVX-512 kernel run on both at once (dcgan.h,
// section 15b), and the share of this core's FMA peak each reaches: what a
// kernel can do when memory is not in the way. Whether it pays in whole
// workloads is for `bench --wide-kernels 0|1|2` and bench/ab.sh. Not part of
// make test.
//   cc -std=c99 -O2 -march=native -fopenmp $(pkg-config --cflags stb) bench/kernel_tile.c -o kernel_tile -lm
//   ./kernel_tile [KC]      (KC: the depth of the panels, 256 as the GEMM packs them)
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "../examples/cli.h"
#include "fma_peak.h"

#ifdef DCGAN__HAVE_AVX2_KERNEL
// Seconds for reps tiles of 6 x 32 (two panels of b), with the named 6 x 16
// kernel called on each panel, or with the 6 x 32 kernel (name NULL).
static double time_tiles(const char *name, int kc, long reps, const float *a, const float *b, float *c) {
    dcgan__kernel_fn narrow = name ? dcgan__kernel_get(name) : NULL;
    dcgan__kernel2_fn wide = name ? NULL : dcgan__wide_kernel_get();
    const double t = cli_now();
    for (long r = 0; r < reps; r++) {
        if (wide) {
            wide(kc, a, b, 1.0f, 1.0f, c, c + 32, 64, DCGAN__MR, DCGAN__NR, NULL, 0);
        } else {
            narrow(kc, a, b, 1.0f, 1.0f, c, 64, DCGAN__MR, DCGAN__NR, NULL, 0);
            narrow(kc, a, b + (size_t)DCGAN__NR * kc, 1.0f, 1.0f, c + 32, 64, DCGAN__MR, DCGAN__NR, NULL, 0);
        }
    }
    return cli_now() - t;
}
#endif

int main(int argc, char **argv) {
#ifdef DCGAN__HAVE_AVX2_KERNEL
    const int kc = argc > 1 ? (int)cli_int(argv[0], "KC", argv[1]) : DCGAN__KC;
    if (kc < 1 || kc > 4096 || !dcgan__kernel_get("avx2")) {
        fprintf(stderr, "kernel_tile: %s\n", kc < 1 || kc > 4096 ? "KC must be 1..4096" : "this CPU has no AVX2 + FMA");
        return 1;
    }
    const long reps = 400000000L / ((long)kc * 192);   // about 0.1-0.2 s a measurement
    // on 64-byte boundaries, as the GEMM's packing space is (a load across two
    // cache lines costs the kernels 12% or more)
    float *mem = (float *)calloc((size_t)DCGAN__MR * (kc + 16) + (size_t)2 * DCGAN__NR * kc + DCGAN__MR * 64 + 16,
                               sizeof(float));
    if (!mem) return 1;
    float *a = mem + (64 - (size_t)((uintptr_t)mem % 64)) / sizeof(float) % 16;
    float *b = a + (size_t)DCGAN__MR * ((kc + 15) / 16 * 16);
    float *c = b + (size_t)2 * DCGAN__NR * kc;
    for (int i = 0; i < DCGAN__MR * kc; i++) a[i] = 1e-3f * (float)(i % 7);
    for (int i = 0; i < 2 * DCGAN__NR * kc; i++) b[i] = 1e-3f * (float)(i % 5);
    const double gflop = 2.0 * DCGAN__MR * 2 * DCGAN__NR * kc * (double)reps / 1e9;
    printf("panels %d deep; each round's peaks measured right before it (this machine's speed moves)\n", kc);
    for (int round = 0; round < 3; round++) {
        const double ymm = fma_rate(fma_loop, 40000000, FMA_PER_ITER, 0);   // one core's peaks
        double zmm = 0;
#ifdef DCGAN__HAVE_AVX512_KERNEL
        if (dcgan__kernel_get("avx512")) zmm = fma_rate(fma_loop_avx512, 20000000, FMA512_PER_ITER, 0);
#endif
        printf("peak %.1f ymm, %.1f zmm: ", ymm, zmm);
        const double t2 = time_tiles("avx2", kc, reps, a, b, c);
        printf("6 x 16 AVX2 %6.1f GFLOP/s (%3.0f%% of ymm)", gflop / t2, 100 * gflop / t2 / ymm);
        if (zmm) {
            const double t16 = time_tiles("avx512", kc, reps, a, b, c), t32 = time_tiles(NULL, kc, reps, a, b, c);
            printf("   6 x 16 AVX-512 %6.1f (%3.0f%% of zmm)   6 x 32 AVX-512 %6.1f (%3.0f%%)", gflop / t16,
                   100 * gflop / t16 / zmm, gflop / t32, 100 * gflop / t32 / zmm);
        }
        printf("\n");
    }
    const int sink = c[0] == 42.0f;
    free(mem);
    return sink;
#else
    (void)argc, (void)argv, (void)fma_rate, (void)fma_loop;
    fprintf(stderr, "kernel_tile: this build has no AVX2 kernels\n");
    return 1;
#endif
}
