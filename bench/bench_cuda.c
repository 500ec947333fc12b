// bench_cuda.c - the GPU side of `make bench-cuda`: the study's exact setting
// (seed architecture, 128x128x3, batch 128: D on 64 real + 64 fake, G on 128)
// timed per training iteration, and the Frechet distance at 2048 dims. Prints
//     RESULT <name> <seconds>        (bench/run_cuda.sh pairs it with PyTorch)
// Usage: bench_cuda [--reps N] [--tf32] [--no-fid]   (--no-fid: the iterations only)
#define DCGAN_IMPLEMENTATION
#define DCGAN_NO_IMAGES
#include "../dcgan.h"
#include "../examples/cli.h"

int main(int argc, char **argv) {
    int reps = 10, tf32 = 0, fid = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tf32") == 0) tf32 = 1;
        else if (strcmp(argv[i], "--no-fid") == 0) fid = 0;
        else if (cli_flag(argc, argv, &i, "--reps")) reps = (int)cli_int(argv[0], "--reps", argv[i]);
        else { fprintf(stderr, "bench_cuda: unknown flag %s\n", argv[i]); return 2; }
    }
    if (dcgan_cuda_init(0) != DCGAN_OK) {
        fprintf(stderr, "bench_cuda: %s\n", dcgan_last_error());
        return 1;
    }
    dcgan_cuda_set_tf32(tf32);
    printf("DEVICE %s; TF32 %s\n", dcgan_cuda_device_name(), tf32 ? "on" : "off");
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats st;
    dcgan_gan_config_default(&cfg);   // the study: seed, 128x128x3, batch 128
    const int n = 1341;               // the NORMAL class of Kermany et al.
    const size_t image = (size_t)cfg.channels * cfg.size * cfg.size;
    float *data = (float *)malloc((size_t)n * image * sizeof(float));
    if (!data) {
        fprintf(stderr, "bench_cuda: no memory for %d images\n", n);
        return 1;
    }
    dcgan_rng r;
    dcgan_rng_seed(&r, 3);
    dcgan_rng_fill_uniform(&r, data, (size_t)n * image, -1.0f, 1.0f);
    if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK || dcgan_gan_to_cuda(&gan) != DCGAN_OK) {
        fprintf(stderr, "bench_cuda: %s\n", dcgan_last_error());
        return 1;
    }
    for (int w = 0; w < 2; w++) dcgan_gan_train_step(&gan, data, n, &st);   // warm-up, dataset upload
    dcgan_cuda_sync();
    for (int k = 0; k < reps; k++) {
        double t = cli_now();
        if (dcgan_gan_train_step(&gan, data, n, &st) != DCGAN_OK || dcgan_cuda_sync() != DCGAN_OK) {
            fprintf(stderr, "bench_cuda: %s\n", dcgan_last_error());
            return 1;
        }
        printf("RESULT seed_iteration_b128 %.6f\n", cli_now() - t);
        fflush(stdout);
    }
    dcgan_gan_free(&gan);
    free(data);
    if (!fid) return 0;
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
