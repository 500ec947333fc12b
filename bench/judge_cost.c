// judge_cost.c - what the statistics of fid's --bootstrap, --floor, --prdc and
// --nearest cost on N + N feature vectors of D dims (default 2000 + 2000 at
// 2048, pytorch-fid's pool features), after the features exist. The vectors
// are random, nonnegative and correlated like Inception's pool features; the
// cost does not depend on the values. `make bench-judge` (N=, D= to change).
#define DCGAN_IMPLEMENTATION
#define DCGAN_NO_IMAGES
#include "../dcgan.h"
#include "../examples/cli.h"

int main(int argc, char **argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 2000, d = argc > 2 ? atoi(argv[2]) : 2048;
    double *f1 = (double *)malloc((size_t)n * d * sizeof(double)), *f2 = (double *)malloc((size_t)n * d * sizeof(double));
    double v[4], boot[11], fid;
    int64_t *idx = (int64_t *)malloc((size_t)n * sizeof(int64_t));
    double *dist = (double *)malloc((size_t)n * sizeof(double));
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 1);
    for (size_t i = 0; i < (size_t)n * d; i++) {
        f1[i] = fabs(dcgan_rng_normal(&rng)) * 0.3;
        f2[i] = fabs(dcgan_rng_normal(&rng)) * 0.33;
    }
    printf("judge_cost: %d + %d vectors of %d dims, %d threads\n", n, n, d, dcgan_set_threads(0));
    double t = cli_now();
    dcgan_fid_stats s1, s2;
    dcgan_fid_stats_compute(&s1, f1, n, d);
    dcgan_fid_stats_compute(&s2, f2, n, d);
    dcgan_frechet_distance(&fid, &s1, &s2, NULL, NULL);
    printf("  FID (covariances + Frechet distance, as pytorch-fid) %8.1f s  (%.6g)\n", cli_now() - t, fid);
    t = cli_now();
    dcgan_fid_features(&fid, f1, n, f2, n, d);
    printf("  FID from features (Gram route)                       %8.1f s  (%.6g)\n", cli_now() - t, fid);
    t = cli_now();
    dcgan_fid_bootstrap(v, 1, f1, n, f2, n, d, &rng, NULL, NULL);
    const double once = cli_now() - t;
    printf("  --bootstrap 1 (FID): Gram matrices + 1 resample      %8.1f s\n", once);
    t = cli_now();
    dcgan_fid_bootstrap(boot, 11, f1, n, f2, n, d, &rng, NULL, NULL);
    const double per = (cli_now() - t - once) / 10.0;
    printf("  each further FID resample                            %8.2f s  (--bootstrap 200: %.0f s)\n", per,
           once + 199.0 * per);
    t = cli_now();
    dcgan_kid_bootstrap(v, 4, f1, n, f2, n, d, &rng, NULL, NULL);
    printf("  --bootstrap 4 (KID)                                  %8.1f s\n", cli_now() - t);
    t = cli_now();
    dcgan_fid_floor(v, 2, f1, n, n / 2, d, &rng, NULL, NULL);
    printf("  --floor, 2 splits into halves of %4d                %8.1f s\n", n / 2, cli_now() - t);
    t = cli_now();
    dcgan_prdc p;
    dcgan_prdc_compute(&p, f1, n, f2, n, d, 3);
    printf("  --prdc (k = 3)                                       %8.1f s\n", cli_now() - t);
    t = cli_now();
    dcgan_nearest(idx, dist, f2, n, f1, n, d);
    printf("  nearest neighbours of %d in %d                     %8.1f s\n", n, n, cli_now() - t);
    return 0;
}
