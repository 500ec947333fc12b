// bench_cuda.c - the GPU side of `make bench-cuda`: the study's exact setting
// (seed architecture, 128x128x3, batch 128: D on 64 real + 64 fake, G on 128)
// timed per training iteration; README's small-data recipe (the DCGAN at 64x64
// gray, width 1/4, batch 32, with DiffAugment, ADA and the averaged G) per
// iteration on the GPU and on this machine's CPU; and the Frechet distance at
// 2048 dims. Prints
//     RESULT <name> <seconds>        (bench/run_cuda.sh pairs the seed iteration with PyTorch)
// Usage: bench_cuda [--reps N] [--tf32] [--no-fid] [--only seed|small]
//   (--no-fid: the iterations only; --only: one of the two settings, and no FID)
#define DCGAN_IMPLEMENTATION
#define DCGAN_NO_IMAGES
#include "../dcgan.h"
#include "../examples/cli.h"

// reps training iterations of cfg on n random images, on the GPU or the CPU, each
// timed alone after two untimed ones (the dataset's upload); RESULT name seconds.
static int time_iterations(const dcgan_gan_config *cfg, int n, int gpu, int reps, const char *name) {
    dcgan_gan gan;
    dcgan_gan_stats st;
    const size_t image = (size_t)cfg->channels * cfg->size * cfg->size;
    float *data = (float *)malloc((size_t)n * image * sizeof(float));
    if (!data) {
        fprintf(stderr, "bench_cuda: no memory for %d images\n", n);
        return 1;
    }
    dcgan_rng r;
    dcgan_rng_seed(&r, 3);
    dcgan_rng_fill_uniform(&r, data, (size_t)n * image, -1.0f, 1.0f);
    memset(&gan, 0, sizeof gan);
    int ok = dcgan_gan_init(&gan, cfg) == DCGAN_OK && (!gpu || dcgan_gan_to_cuda(&gan) == DCGAN_OK);
    for (int w = 0; ok && w < 2; w++) ok = dcgan_gan_train_step(&gan, data, n, &st) == DCGAN_OK;
    ok = ok && (!gpu || dcgan_cuda_sync() == DCGAN_OK);
    for (int k = 0; ok && k < reps; k++) {
        double t = cli_now();
        ok = dcgan_gan_train_step(&gan, data, n, &st) == DCGAN_OK && (!gpu || dcgan_cuda_sync() == DCGAN_OK);
        if (ok) printf("RESULT %s %.6f\n", name, cli_now() - t);
        fflush(stdout);
    }
    if (!ok) fprintf(stderr, "bench_cuda: %s: %s\n", name, dcgan_last_error());
    dcgan_gan_free(&gan);
    free(data);
    return !ok;
}

int main(int argc, char **argv) {
    int reps = 10, tf32 = 0, fid = 1;
    const char *only = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tf32") == 0) tf32 = 1;
        else if (strcmp(argv[i], "--no-fid") == 0) fid = 0;
        else if (cli_flag(argc, argv, &i, "--reps")) reps = (int)cli_int(argv[0], "--reps", argv[i]);
        else if (cli_flag(argc, argv, &i, "--only")) {
            only = argv[i];
            if (strcmp(only, "seed") != 0 && strcmp(only, "small") != 0) {
                fprintf(stderr, "bench_cuda: --only takes seed or small, not %s\n", only);
                return 2;
            }
            fid = 0;
        }
        else { fprintf(stderr, "bench_cuda: unknown flag %s\n", argv[i]); return 2; }
    }
    if (dcgan_cuda_init(0) != DCGAN_OK) {
        fprintf(stderr, "bench_cuda: %s\n", dcgan_last_error());
        return 1;
    }
    dcgan_cuda_set_tf32(tf32);
    int cpu_threads = 1;
#ifdef _OPENMP
    cpu_threads = omp_get_max_threads();
#endif
    printf("DEVICE %s; TF32 %s; CPU threads %d\n", dcgan_cuda_device_name(), tf32 ? "on" : "off", cpu_threads);
    dcgan_gan_config cfg;
    dcgan_gan_config_default(&cfg);   // the study: seed, 128x128x3, batch 128
    // (1,341: the NORMAL class of Kermany et al.)
    if (strcmp(only, "small") != 0 && time_iterations(&cfg, 1341, 1, reps, "seed_iteration_b128") != 0) return 1;
    if (strcmp(only, "seed") != 0) {   // README's CPU recipe with the small-data techniques, on 100 images
        cfg.arch = DCGAN_ARCH_DCGAN;
        cfg.size = 64;
        cfg.channels = 1;
        cfg.width = 0.25f;
        cfg.batch = 32;
        cfg.lr_d = 1e-4;
        cfg.lr_g = 2e-4;
        cfg.adam_mode = DCGAN_ADAM_PYTORCH;
        cfg.real_label = 0.9f;
        cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
        cfg.ada_target = 0.6f;
        cfg.ema_kimg = 1.0f;
        if (time_iterations(&cfg, 100, 1, reps, "small_data_iteration_gpu") != 0 ||
            time_iterations(&cfg, 100, 0, reps, "small_data_iteration_cpu") != 0)
            return 1;
    }
    if (!fid) return 0;
    dcgan_rng r;
    dcgan_rng_seed(&r, 3);
    // Frechet distance at 2048 dims, GPU and CPU
    const int dims = 2048, count = 4096;
    double *f = (double *)malloc((size_t)count * dims * sizeof(double));
    if (!f) {
        fprintf(stderr, "bench_cuda: no memory for %d x %d features\n", count, dims);
        return 1;
    }
    dcgan_fid_stats a, b;
    for (size_t i = 0; i < (size_t)count * dims; i++) f[i] = dcgan_rng_normal(&r);
    dcgan_fid_stats_compute(&a, f, count / 2, dims);
    dcgan_fid_stats_compute(&b, f + (size_t)count / 2 * dims, count / 2, dims);
    double gpu = 0, cpu = 0, t = cli_now();
    if (dcgan_frechet_distance_cuda(&gpu, &a, &b) != DCGAN_OK) {   // (a RESULT line and status 0 were printed)
        fprintf(stderr, "bench_cuda: %s\n", dcgan_last_error());
        return 1;
    }
    printf("RESULT frechet2048_gpu %.6f\n", cli_now() - t);
    t = cli_now();
    dcgan_frechet_distance(&cpu, &a, &b, NULL, NULL);
    printf("RESULT frechet2048_cpu %.6f\n", cli_now() - t);
    printf("FID2048 gpu %.12g cpu %.12g relative difference %.3g\n", gpu, cpu, fabs(gpu - cpu) / fabs(cpu));
    free(f);
    dcgan_fid_stats_free(&a);
    dcgan_fid_stats_free(&b);
    return 0;
}
