// conv_layer.c - the time of one convolution layer, forward and backward, as a
// model runs it (a work buffer of as many GEMM images as fit in 64 MiB): the
// minimum over REPS calls of each, and GFLOP/s. To compare two versions of
// dcgan.h, build this file against each and alternate the binaries.
//   cc -std=c99 -O2 -march=native -fopenmp $(pkg-config --cflags stb) bench/conv_layer.c -o conv_layer -lm
//   OMP_NUM_THREADS=2 ./conv_layer [T] N C H OC K S PAD [DINP] [REPS]
// e.g. the classifier's first layer: ./conv_layer 32 1 64 16 3 2 1 0
// (T: a transposed convolution, H its input side; DINP 0: no input gradient,
// as for a first layer; 1, the default: with it.)
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "../examples/cli.h"

int main(int argc, char **argv) {
    const int transposed = argc > 1 && strcmp(argv[1], "T") == 0;
    argc -= transposed;
    argv += transposed;
    if (argc < 8) {
        fprintf(stderr, "usage: conv_layer [T] N C H OC K S PAD [DINP] [REPS]\n");
        return 2;
    }
    const int N = atoi(argv[1]), C = atoi(argv[2]), H = atoi(argv[3]), OC = atoi(argv[4]), K = atoi(argv[5]);
    const int S = atoi(argv[6]), P = atoi(argv[7]), want_dinp = argc > 8 ? atoi(argv[8]) : 1;
    const int reps = argc > 9 ? atoi(argv[9]) : 30;
    const int OH = transposed ? dcgan_conv_transpose_out_size(H, K, S, P, P) : dcgan_conv_out_size(H, K, S, P, P);
    if (N < 1 || C < 1 || H < 1 || OC < 1 || K < 1 || S < 1 || P < 0 || OH < 1 || reps < 1) {
        fprintf(stderr, "conv_layer: sizes must be positive and give a non-empty output\n");
        return 2;
    }
    dcgan_conv2d conv = {NULL, NULL, C, OC, K, S, P, P, P, P};
    const size_t per_image =
        transposed ? dcgan_conv_transpose2d_work_size(&conv, H, H) : dcgan_conv2d_work_size(&conv, H, H);
    size_t group = ((size_t)16 << 20) / per_image;
    if (group < 1) group = 1;
    if (group > (size_t)N) group = (size_t)N;
    const size_t n_work = per_image * group, nw = (size_t)OC * C * K * K;
    const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * OC * OH * OH;
    float *work = malloc(n_work * sizeof(float)), *dw = calloc(nw, sizeof(float)), *db = calloc(OC, sizeof(float));
    float *x = malloc(nx * sizeof(float)), *y = malloc(ny * sizeof(float)), *dx = malloc(nx * sizeof(float));
    float *dy = malloc(ny * sizeof(float));
    conv.weight = malloc(nw * sizeof(float));
    conv.bias = malloc(OC * sizeof(float));
    if (!work || !dw || !db || !x || !y || !dx || !dy || !conv.weight || !conv.bias) {
        fprintf(stderr, "conv_layer: out of memory\n");
        return 1;
    }
    dcgan_rng r;
    dcgan_rng_seed(&r, 1);
    dcgan_rng_fill_uniform(&r, x, nx, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&r, dy, ny, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&r, conv.weight, nw, -0.1f, 0.1f);
    dcgan_rng_fill_uniform(&r, conv.bias, OC, -0.1f, 0.1f);
    const dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, H), ty = dcgan_tensor_make(y, N, OC, OH, OH);
    const dcgan_tensor tdx = dcgan_tensor_make(want_dinp ? dx : NULL, N, C, H, H);
    const dcgan_tensor tdy = dcgan_tensor_make(dy, N, OC, OH, OH);
    double best_f = 1e30, best_b = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double t = cli_now();
        if ((transposed ? dcgan_conv_transpose2d_forward(ty, tx, &conv, work, n_work)
                        : dcgan_conv2d_forward(ty, tx, &conv, work, n_work)) != DCGAN_OK)
            break;
        t = cli_now() - t;
        if (t < best_f) best_f = t;
        t = cli_now();
        if ((transposed ? dcgan_conv_transpose2d_backward(tdx, dw, db, tdy, tx, &conv, work, n_work)
                        : dcgan_conv2d_backward(tdx, dw, db, tdy, tx, &conv, work, n_work)) != DCGAN_OK)
            break;
        t = cli_now() - t;
        if (t < best_b) best_b = t;
    }
    if (best_b == 1e30) {
        fprintf(stderr, "conv_layer: %s\n", dcgan_last_error());
        return 1;
    }
    // one product's worth: each output pixel's taps (conv), or each input pixel's (transposed)
    const double flops = 2.0 * N * OC * C * K * K * (transposed ? (double)H * H : (double)OH * OH);
    printf("%sN%d C%d H%d OC%d K%d S%d pad %d: forward %.3f ms (%.0f GFLOP/s), backward%s %.3f ms (%.0f GFLOP/s)\n",
           transposed ? "transposed " : "", N, C, H, OC, K, S, P, best_f * 1e3, flops / best_f / 1e9,
           want_dinp ? "" : " (no dinp)",
           best_b * 1e3, (want_dinp ? 2 : 1) * flops / best_b / 1e9);
    return 0;
}
