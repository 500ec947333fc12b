// batchnorm.c - the time of BatchNorm2d's forward (training) and backward at
// the classifier's four shapes (32 images; 16 x 32x32, 32 x 16x16, 64 x 8x8,
// 128 x 4x4): the minimum over REPS calls of each. To compare two versions of
// dcgan.h, build this file against each and alternate the binaries.
//   cc -std=c99 -O2 -march=native -fopenmp $(pkg-config --cflags stb) bench/batchnorm.c -o batchnorm -lm
//   OMP_NUM_THREADS=2 ./batchnorm [REPS]
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "../examples/cli.h"

int main(int argc, char **argv) {
    const int shapes[4][2] = {{16, 32}, {32, 16}, {64, 8}, {128, 4}};   // channels, side
    const int N = 32, reps = argc > 1 ? atoi(argv[1]) : 200;
    if (reps < 1) {
        fprintf(stderr, "usage: batchnorm [REPS >= 1]\n");
        return 2;
    }
    double total_f = 0.0, total_b = 0.0;
    for (int s = 0; s < 4; s++) {
        const int C = shapes[s][0], H = shapes[s][1];
        const size_t n = (size_t)N * C * H * H;
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        float *dy = malloc(n * sizeof(float)), *dx = malloc(n * sizeof(float));
        float *p = calloc(8 * (size_t)C, sizeof(float));   // gamma, beta, running, saved, gradients
        if (!x || !y || !dy || !dx || !p) {
            fprintf(stderr, "batchnorm: out of memory\n");
            return 1;
        }
        dcgan_rng r;
        dcgan_rng_seed(&r, 1);
        dcgan_rng_fill_uniform(&r, x, n, -1.0f, 2.0f);
        dcgan_rng_fill_uniform(&r, dy, n, -1.0f, 1.0f);
        for (int c = 0; c < C; c++) p[c] = 1.0f, p[3 * C + c] = 1.0f;
        dcgan_batchnorm2d bn = {p, p + C, p + 2 * C, p + 3 * C, p + 4 * C, p + 5 * C, C, 1e-5f, 0.1f, 0};
        const dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, H), ty = dcgan_tensor_make(y, N, C, H, H);
        const dcgan_tensor tdy = dcgan_tensor_make(dy, N, C, H, H), tdx = dcgan_tensor_make(dx, N, C, H, H);
        double best_f = 1e30, best_b = 1e30;
        for (int k = 0; k < reps; k++) {
            double t = cli_now();
            dcgan_batchnorm2d_forward(ty, tx, &bn, 1);
            t = cli_now() - t;
            if (t < best_f) best_f = t;
            t = cli_now();
            dcgan_batchnorm2d_backward(tdx, p + 6 * C, p + 7 * C, tdy, tx, &bn);
            t = cli_now() - t;
            if (t < best_b) best_b = t;
        }
        printf("N%d C%d H%d: forward %.1f us, backward %.1f us\n", N, C, H, best_f * 1e6, best_b * 1e6);
        total_f += best_f;
        total_b += best_b;
        free(x), free(y), free(dy), free(dx), free(p);
    }
    printf("all four: forward %.1f us, backward %.1f us\n", total_f * 1e6, total_b * 1e6);
    return 0;
}
