// bench.c - the C side of `make bench`: the same four measurements as
// bench/torch_ref.py, one line each:  RESULT <name> <seconds per unit>
// plus  FLOPS <name> <floating-point operations per unit>,  PEAK <GFLOP/s>,
// the machine's float32 FMA peak measured with a small loop on every thread,
// and  KERNEL <GFLOP/s>,  the GEMM's own micro-kernel on panels in L1 (kernel_rate),
// and where the CPU has AVX-512F  ZMM <full width 1/0> <ymm ticks> <zmm ticks> <by maker 1/0>.
// Build and run through `make bench` (bench/run.sh alternates it with PyTorch);
// `--memory` instead prints the peak memory of the study's setting (make bench-memory).
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "../examples/cli.h"
#include "fma_peak.h"
#include <sys/resource.h>

// Forward FLOPs of one sample through a model (multiply-adds count 2).
static double model_flops(const dcgan_model *m) {
    double f = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const dcgan_layer *L = &m->layers[i];
        const double K = L->spec.kernel;
        if (L->spec.kind == DCGAN_LAYER_LINEAR) f += 2.0 * L->in_c * L->in_h * L->in_w * L->out_c;
        if (L->spec.kind == DCGAN_LAYER_CONV2D) f += 2.0 * L->out_c * L->out_h * L->out_w * L->in_c * K * K;
        if (L->spec.kind == DCGAN_LAYER_CONV_TRANSPOSE2D) f += 2.0 * L->in_c * L->in_h * L->in_w * L->out_c * K * K;
    }
    return f;
}

// One training iteration: D forward+backward on batch/2 twice, G forward on
// batch/2, G and D forward+backward on batch; backward counted as 2x forward.
static double iteration_flops(const dcgan_gan *gan) {
    const double fg = model_flops(&gan->g), fd = model_flops(&gan->d), b = gan->cfg.batch;
    return 3 * fd * b / 2 * 2 + fg * b / 2 + 3 * (fg + fd) * b;
}

// The float32 FMA peak of this machine, on every thread: the faster of ymm
// and zmm chains where the CPU has AVX-512 (bench/fma_peak.h).
static double fma_peak(void) {
    double peak = fma_rate(fma_loop, 50000000, FMA_PER_ITER, 1);
#ifdef DCGAN__HAVE_AVX512_KERNEL
    if (dcgan__kernel_get("avx512")) {
        const double zmm = fma_rate(fma_loop_avx512, 25000000, FMA512_PER_ITER, 1);
        if (zmm > peak) peak = zmm;
    }
#endif
    return peak;
}

// The best of three readings of a rate: a vCPU the hypervisor takes away for
// some tens of milliseconds halves a reading and never raises one (session
// 32's EPYC read 240 GFLOP/s, one thread's worth, before 2 of the 3 runs of
// one line). For the peak and the micro-kernel's rate.
static double best_of_three(double (*reading)(void)) {
    double best = 0.0;
    for (int round = 0; round < 3; round++) {
        const double r = reading();
        if (r > best) best = r;
    }
    return best;
}

// What the products' micro-kernel makes right now on every thread at once, in
// GFLOP/s: each thread runs the kernel a product of this build and CPU takes
// (the 6 x 32 one where dcgan__pick_wide_kernel gives it, else the 6 x 16 one on
// two panels) over its own packed panels, KC = 256 deep as the GEMM packs them,
// which stay in L1. No product can beat it, so a workload's share of it says
// how much is lost outside the kernel's sums; its share of the FMA peak says
// that as well as how fast the kernel itself ran in this minute, which on the
// Intel Xeon of sessions 20-24 moved between 63% and 97% of the peak within
// minutes (bench/RESULTS.md, session 24). bench/kernel_tile.c times each kernel
// on one thread.
static double kernel_rate(void) {
    const int kc = DCGAN__KC, nr = 2 * DCGAN__NR, ldc = 2 * DCGAN__NR;
    const dcgan__kernel_fn narrow = dcgan__pick_kernel();
    const dcgan__kernel2_fn wide = dcgan__pick_wide_kernel(0);
    const long reps = 100000000L / ((long)kc * DCGAN__MR * nr);   // about 0.05-0.1 s at the peak
    double rate = 0.0;
    int failed = 0;
    DCGAN__OMP(omp parallel reduction(+ : rate) reduction(| : failed))
    {
        const size_t floats = (size_t)DCGAN__MR * kc + (size_t)nr * kc + (size_t)DCGAN__MR * ldc;
        float *mem = (float *)malloc((floats + 16) * sizeof(float));
        if (!mem) {
            failed = 1;
        } else {
            // on a 64-byte boundary, as the GEMM's packing space is (a = 6 x 256 floats keeps b on one)
            float *a = mem + (64 - (size_t)((uintptr_t)mem % 64)) / sizeof(float) % 16;
            float *b = a + (size_t)DCGAN__MR * kc, *c = b + (size_t)nr * kc;
            for (size_t i = 0; i < floats; i++) a[i] = 1e-3f * (float)(i % 7);
            const double t = cli_now();
            for (long r = 0; r < reps; r++) {
                if (wide) {
                    wide(kc, a, b, 1.0f, 1.0f, c, c + DCGAN__NR, ldc, DCGAN__MR, DCGAN__NR, NULL, 0);
                } else {
                    narrow(kc, a, b, 1.0f, 1.0f, c, ldc, DCGAN__MR, DCGAN__NR, NULL, 0);
                    narrow(kc, a, b + (size_t)DCGAN__NR * kc, 1.0f, 1.0f, c + DCGAN__NR, ldc, DCGAN__MR,
                           DCGAN__NR, NULL, 0);
                }
            }
            rate += 2.0 * DCGAN__MR * nr * kc * (double)reps / (cli_now() - t) / 1e9;
            if (c[0] == 42.0f) printf("#\n");   // (the sums are used)
            free(mem);
        }
    }
    return failed ? 0.0 : rate;
}

// --- paired runs (--pair FLAG A B): each rep of a workload is timed twice,
// once with the switch FLAG at level A and once at level B, in the order A B,
// B A, A B, ... so that neither always goes first. The two runs of a pair fall
// within the same second of the machine's speed, which on the Intel Xeon of
// sessions 20-22 swung 2x within minutes (bench/RESULTS.md): the ratio of a
// pair's times is far steadier than the ratio of two processes' medians.
// RESULT lines are tagged name@A, name@B, and each workload ends with
//   PAIRED <name> <A> <B> <median of the pairs' t_B / t_A> <lowest> <highest> <pairs>
#define PAIR_MAX 1000
static int *pair_switch;   // the switch --pair varies (NULL: no pairs)
static int pair_level[2];
static double pair_t[2][PAIR_MAX];

// runs per rep: 2 with --pair
static int pair_runs(void) { return pair_switch ? 2 : 1; }

// which level run r (0, 1, 2, ... of a workload) takes: A B B A A B B A ...
static int pair_which(int r) { return (r & 1) ^ ((r >> 1) & 1); }

// sets the switch for run r (nothing without --pair)
static void pair_set(int r) {
    if (pair_switch) *pair_switch = pair_level[pair_which(r)];
}

// prints run r's time (seconds per unit) and keeps it for pair_summary
static void result(const char *name, int r, double seconds) {
    if (!pair_switch) {
        printf("RESULT %s %.6f\n", name, seconds);
    } else {
        printf("RESULT %s@%d %.6f\n", name, pair_level[pair_which(r)], seconds);
        if (r / 2 < PAIR_MAX) pair_t[pair_which(r)][r / 2] = seconds;
    }
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// the PAIRED line of a workload timed in reps pairs
static void pair_summary(const char *name, int reps) {
    if (!pair_switch || reps <= 0) return;
    const int n = reps < PAIR_MAX ? reps : PAIR_MAX;
    double ratio[PAIR_MAX];
    for (int i = 0; i < n; i++) ratio[i] = pair_t[1][i] / pair_t[0][i];
    qsort(ratio, (size_t)n, sizeof(double), cmp_double);
    const double median = n % 2 ? ratio[n / 2] : 0.5 * (ratio[n / 2 - 1] + ratio[n / 2]);
    printf("PAIRED %s %d %d %.4f %.4f %.4f %d\n", name, pair_level[0], pair_level[1], median, ratio[0],
           ratio[n - 1], n);
    fflush(stdout);
}

typedef struct { dcgan_gan gan; float *data; int n; } train_bench;

// The GAN of cfg and 64 random gray images of its size.
static int train_init(train_bench *b, const dcgan_gan_config *cfg) {
    if (dcgan_gan_init(&b->gan, cfg) != DCGAN_OK) return 1;
    const size_t pixels = (size_t)cfg->size * cfg->size;
    b->n = 64;
    b->data = (float *)malloc((size_t)b->n * pixels * sizeof(float));
    dcgan_rng r;
    dcgan_rng_seed(&r, 3);
    dcgan_rng_fill_uniform(&r, b->data, (size_t)b->n * pixels, -1.0f, 1.0f);
    return 0;
}

// The study's gray training settings for arch at size and batch.
static dcgan_gan_config train_config(dcgan_arch arch, int size, int batch) {
    dcgan_gan_config cfg;
    dcgan_gan_config_default(&cfg);
    cfg.arch = arch;
    cfg.size = size;
    cfg.channels = 1;
    cfg.batch = batch;
    if (arch == DCGAN_ARCH_DCGAN) {
        cfg.lr_d = cfg.lr_g = 2e-4;
        cfg.adam_mode = DCGAN_ADAM_PYTORCH;
    }
    return cfg;
}

// Times `reps` training iterations (after one warm-up) and prints them.
static int time_training(const char *name, const dcgan_gan_config *cfg, int reps) {
    train_bench b;
    dcgan_gan_stats st;
    if (train_init(&b, cfg)) {
        fprintf(stderr, "%s\n", dcgan_last_error());
        return 1;
    }
    printf("FLOPS %s %.4g\n", name, iteration_flops(&b.gan));
    dcgan_gan_train_step(&b.gan, b.data, b.n, &st);
    for (int r = 0; r < reps * pair_runs(); r++) {
        pair_set(r);
        double t = cli_now();
        dcgan_gan_train_step(&b.gan, b.data, b.n, &st);
        result(name, r, cli_now() - t);
    }
    pair_summary(name, reps);
    dcgan_gan_free(&b.gan);
    free(b.data);
    return 0;
}

// The small-data recipe's iteration (docs/small_data.md, the learning-curve
// study's GAN): dcgan at 64x64x1, width 1/4, batch 32, DiffAugment
// color,translation,cutout at p = 1 and an averaged G (EMA).
static int time_small_data(int reps) {
    dcgan_gan_config cfg = train_config(DCGAN_ARCH_DCGAN, 64, 32);
    cfg.width = 0.25f;
    cfg.lr_d = 1e-4;
    cfg.real_label = 0.9f;
    cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    cfg.ema_kimg = 1.0f;
    return time_training("small_data_iteration", &cfg, reps);
}

// The study's classifier (examples/classify.c): four stride-2 3x3 convolutions
// (16, 32, 64, 128) + BatchNorm + LeakyReLU(0.2), dropout 0.3, one logit; 64x64
// gray, batch 32, BCE on logits, PyTorch Adam 1e-3. One training step per
// result (an epoch of the study's arms is 119 of them).
static int time_classifier(int reps) {
    dcgan_layer_spec spec[15];
    int k = 0;
    for (int blk = 0; blk < 4; blk++) {
        spec[k++] = dcgan_spec_conv2d(16 << blk, 3, 2, 1);
        spec[k++] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
        spec[k++] = dcgan_spec_leaky_relu(0.2f);
    }
    spec[k++] = dcgan_spec_flatten();
    spec[k++] = dcgan_spec_dropout(0.3f);
    spec[k++] = dcgan_spec_linear(1);
    dcgan_model m;
    dcgan_adam opt;
    dcgan_rng r;
    dcgan_rng_seed(&r, 4);
    if (dcgan_model_init(&m, "cnn", spec, k, 1, 64, 64, 32) != DCGAN_OK) {
        fprintf(stderr, "%s\n", dcgan_last_error());
        return 1;
    }
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &r);
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, 1e-3, 0.9, 0.999);
    float *x = (float *)malloc((size_t)32 * 64 * 64 * sizeof(float)), y[32], dl[32], loss;
    dcgan_rng_fill_uniform(&r, x, (size_t)32 * 64 * 64, -1.0f, 1.0f);
    for (int i = 0; i < 32; i++) y[i] = (float)(i & 1);
    printf("FLOPS classifier_step %.4g\n", 3.0 * model_flops(&m) * 32);
    for (int rep = -1; rep < reps * pair_runs(); rep++) {   // rep -1: warm-up
        if (rep >= 0) pair_set(rep);
        double t = cli_now();
        dcgan_model_zero_grad(&m);
        if (dcgan_model_forward(&m, dcgan_tensor_make(x, 32, 1, 64, 64), 1, &r) != DCGAN_OK ||
            dcgan_bce_with_logits(&loss, dl, dcgan_model_output(&m).data, y, 32) != DCGAN_OK ||
            dcgan_model_backward(&m, dl, NULL) != DCGAN_OK || dcgan_model_adam_step(&m, &opt) != DCGAN_OK) {
            fprintf(stderr, "%s\n", dcgan_last_error());
            return 1;
        }
        if (rep >= 0) result("classifier_step", rep, cli_now() - t);
    }
    pair_summary("classifier_step", reps);
    free(x);
    dcgan_model_free(&m);
    return 0;
}

// Peak memory of the study's exact setting: seed, 128x128x3, batch 128, a
// 1,341-image dataset in memory, one training iteration; prints
// MEMORY <peak resident GiB> (getrusage's ru_maxrss, the whole process).
static int peak_memory(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats st;
    dcgan_gan_config_default(&cfg);
    const int n = 1341;
    const size_t count = (size_t)n * 3 * 128 * 128;
    float *data = (float *)malloc(count * sizeof(float));
    if (!data || dcgan_gan_init(&gan, &cfg) != DCGAN_OK) {
        fprintf(stderr, "bench --memory: %s\n", data ? dcgan_last_error() : "no memory for the dataset");
        free(data);
        return 1;
    }
    dcgan_rng r;
    dcgan_rng_seed(&r, 3);
    dcgan_rng_fill_uniform(&r, data, count, -1.0f, 1.0f);
    double t = cli_now();
    dcgan_status s = dcgan_gan_train_step(&gan, data, n, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("MEMORY %.2f GiB (one iteration: %.1f s, %s)\n", (double)ru.ru_maxrss / (1024.0 * 1024.0),
           cli_now() - t, s == DCGAN_OK ? "ok" : dcgan_last_error());   // ru_maxrss is in KiB on Linux
    dcgan_gan_free(&gan);
    free(data);
    return s != DCGAN_OK;
}

// The error of a product in each precision against one in double: sgemm
// 1536 (uniform [-1, 1] operands, K = 1536) and a classifier-shaped product
// (16 x 32768 x 9). Prints, per precision, the largest error over the largest
// |C| and the root-mean-square error over the RMS of C: float32, bfloat16 with
// the VDPBF16PS kernels, and bfloat16 on AMX tiles where the CPU has them.
static void product_error(const char *name, int M, int N, int K) {
    float *a = (float *)malloc((size_t)M * K * sizeof(float)), *b = (float *)malloc((size_t)K * N * sizeof(float));
    float *c = (float *)malloc((size_t)M * N * sizeof(float));
    double *ref = (double *)calloc((size_t)M * N, sizeof(double));
    dcgan_rng r;
    dcgan_rng_seed(&r, 9);
    dcgan_rng_fill_uniform(&r, a, (size_t)M * K, -1, 1);
    dcgan_rng_fill_uniform(&r, b, (size_t)K * N, -1, 1);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++) ref[(size_t)i * N + j] += (double)a[(size_t)i * K + k] * b[(size_t)k * N + j];
    double big = 0.0, ss = 0.0;
    for (size_t q = 0; q < (size_t)M * N; q++) big = fmax(big, fabs(ref[q])), ss += ref[q] * ref[q];
    const int saved_amx = dcgan__amx_tiles;
    for (int prec = 0; prec < 3; prec++) {
        if (dcgan_set_matmul_precision(prec ? DCGAN_MATMUL_BFLOAT16 : DCGAN_MATMUL_FLOAT32) != DCGAN_OK) {
            if (prec == 1) printf("ACCURACY %s bfloat16 skipped: %s\n", name, dcgan_last_error());
            continue;
        }
        if (prec == 2 && !dcgan__amx_granted()) {
            printf("ACCURACY %s bfloat16_amx skipped: no AMX tiles here\n", name);
            continue;
        }
        dcgan__amx_tiles = prec == 2;
        dcgan_sgemm(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
        dcgan__amx_tiles = saved_amx;
        double worst = 0.0, se = 0.0;
        for (size_t q = 0; q < (size_t)M * N; q++) {
            const double e = fabs((double)c[q] - ref[q]);
            worst = fmax(worst, e), se += e * e;
        }
        printf("ACCURACY %s %s max_error/max %.3g rms_error/rms %.3g\n", name,
               prec == 2 ? "bfloat16_amx" : prec ? "bfloat16" : "float32", worst / big, sqrt(se / ss));
    }
    dcgan_set_matmul_precision(DCGAN_MATMUL_FLOAT32);
    free(a), free(b), free(c), free(ref);
}

static int bf16_accuracy(void) {
    product_error("sgemm_1536", 1536, 1536, 1536);
    product_error("classifier_layer1_16x32768x9", 16, 32768, 9);
    product_error("classifier_layer4_128x512x576", 128, 512, 576);
    return 0;
}

// A switch's level, 0 to top (cli_int's message and exit otherwise).
static int switch_level(const char *prog, const char *flag, const char *value, int top) {
    const long v = cli_int(prog, flag, value);
    if (v < 0 || v > top) {
        fprintf(stderr, "%s: %s takes 0 to %d, not %ld\n", prog, flag, top, v);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv) {
    int reps = 3, full = 0;
    const char *only = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0) full = 1;
        else if (cli_flag(argc, argv, &i, "--reps")) reps = (int)cli_int(argv[0], "--reps", argv[i]);
        else if (cli_flag(argc, argv, &i, "--threads")) dcgan_set_threads((int)cli_int(argv[0], "--threads", argv[i]));
        else if (cli_flag(argc, argv, &i, "--only")) only = argv[i];
        // A/B of a CPU path in one build (dcgan.h's switches, section 15b and 6): the 6 x 32 kernel
        // (2 where it pays, the default; 1 on any AVX-512F CPU; 0 never), gathered panels of patches
        // and col2im's phase rows in registers (2 AVX-512 or AVX2, the default; 1 AVX2; 0 the loops)
        else if (cli_flag(argc, argv, &i, "--wide-kernels"))
            dcgan__wide_kernels = switch_level(argv[0], "--wide-kernels", argv[i], 2);
        // the 6 x 32 kernel only in products whose K is at least this long (0-100000, default 129)
        else if (cli_flag(argc, argv, &i, "--wide-min-k"))
            dcgan__wide_min_k = switch_level(argv[0], "--wide-min-k", argv[i], 100000);
        // A's full panels packed with AVX-512 (1, the default) or by the loop (0); not in a
        // build without AVX-512 kernels (bench/avx2_proxy.sh's), which has no such switch
#ifdef DCGAN__HAVE_AVX512_KERNEL
        else if (cli_flag(argc, argv, &i, "--pack"))
            dcgan__pack_simd = switch_level(argv[0], "--pack", argv[i], 1);
#endif
        else if (cli_flag(argc, argv, &i, "--gather"))
            dcgan__gather_patches = switch_level(argv[0], "--gather", argv[i], 2);
        else if (cli_flag(argc, argv, &i, "--col2im"))
            dcgan__col2im_simd = switch_level(argv[0], "--col2im", argv[i], 2);
        // BatchNorm's sums: 2 AVX-512F or AVX2 (the default), 1 AVX2 at most, 0 the loops
        else if (cli_flag(argc, argv, &i, "--bn"))
            dcgan__bn_simd = switch_level(argv[0], "--bn", argv[i], 2);
        // products into columns for col2im in runs of at most this many floats (0-67108864,
        // default 1048576; 0: a whole group of images at once)
        else if (cli_flag(argc, argv, &i, "--col-chunk"))
            dcgan__col_chunk = switch_level(argv[0], "--col-chunk", argv[i], 1 << 26);
        // with --bf16: 1 the AMX tiles where the CPU has them (the default), 0 the VDPBF16PS kernels
        else if (cli_flag(argc, argv, &i, "--amx"))
            dcgan__amx_tiles = switch_level(argv[0], "--amx", argv[i], 1);
        // --pair FLAG A B: each rep timed at both levels of one of the switches above
        // (its name without dashes), in alternation (see pair_set)
        else if (strcmp(argv[i], "--pair") == 0 && i + 3 < argc) {
            const char *flag = argv[i + 1];
            int top = 2;
            if (strcmp(flag, "wide-kernels") == 0) pair_switch = &dcgan__wide_kernels;
            else if (strcmp(flag, "gather") == 0) pair_switch = &dcgan__gather_patches;
            else if (strcmp(flag, "col2im") == 0) pair_switch = &dcgan__col2im_simd;
            else if (strcmp(flag, "bn") == 0) pair_switch = &dcgan__bn_simd;
            else if (strcmp(flag, "amx") == 0) { pair_switch = &dcgan__amx_tiles; top = 1; }
#ifdef DCGAN__HAVE_AVX512_KERNEL
            else if (strcmp(flag, "pack") == 0) { pair_switch = &dcgan__pack_simd; top = 1; }
#endif
            else if (strcmp(flag, "wide-min-k") == 0) { pair_switch = &dcgan__wide_min_k; top = 100000; }
            else if (strcmp(flag, "col-chunk") == 0) { pair_switch = &dcgan__col_chunk; top = 1 << 26; }
            else {
                fprintf(stderr, "%s: --pair takes wide-kernels, wide-min-k, gather, col2im, bn, col-chunk, amx or pack "
                        "(pack: builds with AVX-512 kernels), not %s\n", argv[0], flag);
                return 2;
            }
            pair_level[0] = switch_level(argv[0], "--pair", argv[i + 2], top);
            pair_level[1] = switch_level(argv[0], "--pair", argv[i + 3], top);
            i += 3;
        }
        else if (strcmp(argv[i], "--memory") == 0) return peak_memory();
        else if (strcmp(argv[i], "--bf16-accuracy") == 0) return bf16_accuracy();
        else if (strcmp(argv[i], "--bf16") == 0) {   // every product in bfloat16 (dcgan_set_matmul_precision)
            if (dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16) != DCGAN_OK) {
                fprintf(stderr, "bench --bf16: %s\n", dcgan_last_error());
                return 1;
            }
        }
        else { fprintf(stderr, "bench: unknown flag %s\n", argv[i]); return 2; }
    }
    printf("PEAK %.1f\n", best_of_three(fma_peak));
    printf("KERNEL %.1f\n", best_of_three(kernel_rate));
    // whether 512-bit FMAs run at full width here (the 6 x 32 kernel where K >= 129), the
    // timings, in ticks, that answer rests on, and 1 where the CPU's maker and family
    // answered instead (they say halves: dcgan__zmm_halves_known)
    const int zmm_full = dcgan__zmm_full_width();
    if (dcgan__zmm_ticks[0])
        printf("ZMM %d %llu %llu %d\n", zmm_full, dcgan__zmm_ticks[0], dcgan__zmm_ticks[1], dcgan__zmm_halves_here());
    // 0. the GEMM alone: 1536 x 1536 x 1536, row-major, no transposes
    if (!*only || strcmp(only, "sgemm_1536") == 0) {
        const int n = 1536;
        float *a = (float *)malloc((size_t)n * n * sizeof(float)), *b = (float *)malloc((size_t)n * n * sizeof(float));
        float *c = (float *)malloc((size_t)n * n * sizeof(float));
        dcgan_rng r;
        dcgan_rng_seed(&r, 5);
        dcgan_rng_fill_uniform(&r, a, (size_t)n * n, -1, 1);
        dcgan_rng_fill_uniform(&r, b, (size_t)n * n, -1, 1);
        printf("FLOPS sgemm_1536 %.4g\n", 2.0 * n * n * n);
        dcgan_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        for (int k = 0; k < reps * pair_runs(); k++) {
            pair_set(k);
            double t = cli_now();
            dcgan_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            result("sgemm_1536", k, cli_now() - t);
        }
        pair_summary("sgemm_1536", reps);
        free(a);
        free(b);
        free(c);
    }
    // 1. seed iteration at 128x128x1; 2. dcgan iteration at 64x64x1, batch 64
    dcgan_gan_config seed = train_config(DCGAN_ARCH_SEED, 128, full ? 128 : 16);
    dcgan_gan_config dcgan = train_config(DCGAN_ARCH_DCGAN, 64, 64);
    if ((!*only || strcmp(only, "seed_iteration") == 0) && time_training("seed_iteration", &seed, reps) != 0)
        return 1;
    if ((!*only || strcmp(only, "dcgan_iteration") == 0) && time_training("dcgan_iteration", &dcgan, reps) != 0)
        return 1;
    // 2b. the study's own workloads: the small-data GAN iteration, a classifier step
    if ((!*only || strcmp(only, "small_data_iteration") == 0) && time_small_data(reps) != 0) return 1;
    if ((!*only || strcmp(only, "classifier_step") == 0) && time_classifier(reps) != 0) return 1;
    // 3. seed generator sampling at 128x128x3, 16 at a time
    if (!*only || strcmp(only, "generator_image") == 0) {
        dcgan_gan_config cfg;
        dcgan_gan gan;
        dcgan_gan_config_default(&cfg);
        cfg.batch = 16;
        if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK) { fprintf(stderr, "%s\n", dcgan_last_error()); return 1; }
        float *noise = (float *)malloc(16 * 100 * sizeof(float)), *out = (float *)malloc((size_t)16 * 3 * 128 * 128 * sizeof(float));
        dcgan_rng_fill_normal(&gan.rng, noise, 1600, 0, 1);
        printf("FLOPS generator_image %.4g\n", model_flops(&gan.g));
        dcgan_gan_generate(&gan, out, noise, 16);
        for (int r = 0; r < reps * pair_runs(); r++) {
            pair_set(r);
            double t = cli_now();
            dcgan_gan_generate(&gan, out, noise, 16);
            result("generator_image", r, (cli_now() - t) / 16);
        }
        pair_summary("generator_image", reps);
        free(noise);
        free(out);
        dcgan_gan_free(&gan);
    }
    // 4. Inception-V3 2048-d features of 299x299 images
    if (!*only || strcmp(only, "inception_image") == 0) {
        dcgan_inception net;
        if (dcgan_inception_init(&net) != DCGAN_OK || dcgan_inception_fill_deterministic(&net) != DCGAN_OK) {
            fprintf(stderr, "%s\n", dcgan_last_error());
            return 1;
        }
        float *imgs = (float *)malloc((size_t)4 * 3 * 299 * 299 * sizeof(float));
        double feats[4 * 2048];
        for (size_t k = 0; k < (size_t)4 * 3 * 299 * 299; k++) imgs[k] = (float)(k % 255) / 255.0f;
        const double flops = 11.4e9;   // 2 x 5.7 G multiply-adds (Szegedy et al. 2016, Inception-V3)
        printf("FLOPS inception_image %.4g\n", flops);
        // warm-up: the timed call itself, as torch_ref.py's timed() does (one
        // image left the 4-image buffers' first-touch page faults to the first rep)
        dcgan_inception_features(&net, feats, imgs, 4, 299, 299, 2048);
        for (int r = 0; r < reps * pair_runs(); r++) {
            pair_set(r);
            double t = cli_now();
            dcgan_inception_features(&net, feats, imgs, 4, 299, 299, 2048);
            result("inception_image", r, (cli_now() - t) / 4);
        }
        pair_summary("inception_image", reps);
        free(imgs);
        dcgan_inception_free(&net);
    }
    return 0;
}
