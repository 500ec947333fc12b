// test_bn_gnu.c - BatchNorm's sums (dcgan.h sections 6 and 15e) built as a user
// builds without -std=c99: GCC's GNU mode (-std=gnu99) with -march=native, where
// GCC fuses a * b + c into one rounding wherever the target has FMA - in the
// loops, in the AVX2 versions and in the AVX-512F ones, which carry their own
// FMA (session 42: the AVX-512F sums gave other bits than the AVX2 ones in one
// such binary until their definitions switched fusing off). Every level of
// dcgan__bn_simd (the loops, AVX2 at most, the widest) must give the bits of the
// definition, each product rounded on its own (the products here go through a
// volatile, which GCC cannot fuse). Built with its own implementation by
// tests/tests.mk. Prints "test_bn_gnu: N passed, M failed".
#define DCGAN_IMPLEMENTATION
#define DCGAN_TEST_INTERNALS
#define DCGAN_NO_IMAGES
#include "../dcgan.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

// the definition, as the loops' comments give it: value p of a run to partial p mod 16,
// the values after the run's last whole group of 16 to the rest; kind 0 values, 1
// squares of (v - mean), 2 the gradients, 3 g * (v - fmean) * invstd
static void spec(double part[16], double *rest, const float *x, const float *g, int runs, size_t stride,
                 size_t n, int kind, double mean, float fmean, float invstd) {
    for (int r = 0; r < runs; r++)
        for (size_t p = 0; p < n; p++) {
            const float v = x[(size_t)r * stride + p];
            volatile double add = v;
            if (kind == 1) {
                const double d = v - mean;
                add = d * d;
            } else if (kind == 2) {
                add = g[(size_t)r * stride + p];
            } else if (kind == 3) {
                volatile double gx = (double)g[(size_t)r * stride + p] * (float)(v - fmean);
                add = gx * invstd;
            }
            if (p >= n / 16 * 16) *rest += add;
            else part[p % 16] += add;
        }
}

static int same(const dcgan__bn_sum *s, const double part[16], double rest) {
    return memcmp(s->part, part, sizeof s->part) == 0 && memcmp(&s->rest, &rest, sizeof rest) == 0;
}

// every level's sums against the definition, for runs of 0 to 300 values
static void test_levels(void) {
    const size_t stride = 320, lens[8] = {0, 1, 15, 16, 17, 40, 255, 300};
    float *x = (float *)malloc(3 * stride * sizeof(float)), *g = (float *)malloc(3 * stride * sizeof(float));
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 7);
    dcgan_rng_fill_normal(&rng, x, 3 * stride, 0.5f, 2.0f);
    dcgan_rng_fill_normal(&rng, g, 3 * stride, 0.0f, 1.0f);
    const char *names[3] = {"the loops", "AVX2", "AVX-512F"};
    dcgan__bn_fns prev = {NULL, NULL, NULL};
    for (int level = 0; level <= 2; level++) {
        dcgan__bn_simd = level;
        const dcgan__bn_fns f = dcgan__pick_bn();
        dcgan__bn_simd = 2;
        if (level > 0 && f.values == prev.values) {
            printf("test_bn_gnu: skipped: %s (not in this build or not on this CPU)\n", names[level]);
            continue;
        }
        prev = f;
        int ok = 1;
        for (int li = 0; li < 8; li++)
            for (int runs = 1; runs <= 3; runs += 2) {
                const size_t n = lens[li];
                dcgan__bn_sum s0;
                for (int j = 0; j < 16; j++) s0.part[j] = 0.125 * j;
                s0.rest = -1.5;
                for (int kind = 0; kind < 3; kind++) {
                    double part[16], rest = s0.rest, part2[16], rest2 = s0.rest;
                    memcpy(part, s0.part, sizeof part), memcpy(part2, s0.part, sizeof part2);
                    dcgan__bn_sum a = s0, b = s0;
                    if (kind == 0) {
                        spec(part, &rest, x, g, runs, stride, n, 0, 0.0, 0.0f, 0.0f);
                        f.values(&a, x, runs, stride, n);
                    } else if (kind == 1) {
                        spec(part, &rest, x, g, runs, stride, n, 1, 0.3, 0.0f, 0.0f);
                        f.squares(&a, x, runs, stride, n, 0.3);
                    } else {   // one run at a time, as the backward calls it
                        spec(part, &rest, x, g, runs, stride, n, 2, 0.0, 0.25f, 1.7f);
                        spec(part2, &rest2, x, g, runs, stride, n, 3, 0.0, 0.25f, 1.7f);
                        for (int r = 0; r < runs; r++)
                            f.grads(&a, &b, g + (size_t)r * stride, x + (size_t)r * stride, n, 0.25f, 1.7f);
                        ok &= same(&b, part2, rest2);
                    }
                    ok &= same(&a, part, rest);
                }
            }
        char label[96];
        snprintf(label, sizeof label, "batchnorm sums in GNU mode/%s = the definition, bit for bit", names[level]);
        CHECK(ok, label);
    }
    free(x);
    free(g);
}

int main(void) {
    static const test_case tests[] = {{"levels", test_levels}};
    return check_main(tests, 1, "test_bn_gnu");
}
