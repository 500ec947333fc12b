// fid.c - Frechet Inception Distance like `python -m pytorch_fid`, in C.
//
// Build: make
// Run:   build/fid --dims 768 real_images/ generated_images/
//        build/fid --save-stats real_images/ real_stats.npz
//        build/fid --dims 768 --kid real_images/ generated_images/
// Each PATH is a folder of images (not searched recursively; bmp jpg jpeg pgm
// png ppm tif tiff webp in any case) or a .npz of statistics (mu, sigma) such
// as pytorch-fid's --save-stats writes. Prints "FID:  <value>" as pytorch-fid
// does, plus the sample size, the numerical rank of each covariance and a
// warning when the sample is too small for the dimension, and KID with --kid.
// Weights: --weights FILE, else $DCGAN_INCEPTION_WEIGHTS, else pytorch-fid's
// cache (~/.cache/torch/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth).
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"

static void usage(const char *prog) {
    printf("usage: %s [flags] PATH1 PATH2          FID between two folders or .npz files\n"
           "       %s --save-stats DIR OUT.npz     write DIR's statistics (never overwrites)\n"
           "       %s --save-weights OUT.safetensors   convert the .pth weights once\n"
           "  --dims D            64 | 192 | 768 | 2048                  (2048)\n"
           "  --batch-size B      images per pass through the network,\n"
           "                      at most DCGAN_INCEPTION_BATCH           (8)\n"
           "  --weights FILE      Inception weights (.pth or .safetensors)\n"
           "  --kid               also the Kernel Inception Distance\n"
           "  --kid-subsets N     subsets for KID                        (100)\n"
           "  --kid-subset-size M images per KID subset                  (1000)\n"
           "  --threads N         threads (OpenMP builds); 0 = all       (0)\n"
           "  --device D          cpu | cuda | auto: where the Frechet distance's matrix\n"
           "                      work runs (features: CPU)              (" CLI_DEFAULT_DEVICE ")\n"
           "  --seed S            KID subset sampling                    (1)\n"
           "  --fill-deterministic  TESTS ONLY: weights from the deterministic fill,\n"
           "                      not the real network (numbers mean nothing)\n", prog, prog, prog);
}

typedef struct {
    int dims, batch, kid, kid_subsets, kid_size, fill, threads;
    long seed;
    const char *weights;
} fid_options;

// Features of every image in dir into *features (count x dims), with a progress bar.
static int folder_features(dcgan_inception *net, const char *dir, const fid_options *o,
                           double **features, int *count) {
    char **paths = NULL;
    int n = 0, used = 0, skipped = 0;
    if (dcgan_list_fid_images(&paths, &n, dir) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "fid: no images in '%s'\n", dir);
        dcgan_paths_free(paths, n);
        return 1;
    }
    *features = (double *)malloc((size_t)n * o->dims * sizeof(double));
    // up to `batch` decoded images go through the network together
    const int batch = o->batch < 1 ? 1 : o->batch > net->batch ? net->batch : o->batch;
    float *imgs[DCGAN_INCEPTION_BATCH];
    int hs[DCGAN_INCEPTION_BATCH], ws[DCGAN_INCEPTION_BATCH];
    int held = 0, failed = !*features;
    if (failed) fprintf(stderr, "fid: no memory for %d x %d features\n", n, o->dims);
    cli_progress prog;
    cli_progress_start(&prog, "features", n);
    for (int i = 0; i < n && !failed; i++) {
        if (dcgan_image_load_rgb01(&imgs[held], &ws[held], &hs[held], paths[i], (size_t)64 << 20) != DCGAN_OK) {
            fprintf(stderr, "\nfid: skipping %s\n", dcgan_last_error());
            skipped++;
        } else {
            held++;
        }
        if (held == batch || (i == n - 1 && held > 0)) {
            if (dcgan_inception_features_list(net, *features + (size_t)used * o->dims,
                                              (const float *const *)imgs, hs, ws, held, o->dims) != DCGAN_OK) {
                fprintf(stderr, "\nfid: %s\n", dcgan_last_error());
                failed = 1;
            }
            used += held;
            while (held > 0) dcgan_free(imgs[--held]);
        }
        cli_progress_update(&prog, i + 1, NULL);
    }
    if (failed) {
        dcgan_paths_free(paths, n);
        return 1;
    }
    dcgan_paths_free(paths, n);
    if (skipped) fprintf(stderr, "fid: %d of %d files in '%s' could not be read\n", skipped, n, dir);
    *count = used;
    return used < 2;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

// Statistics of a path: a .npz is read, a folder goes through the network.
// With features != NULL the feature vectors are kept too (for KID).
static int path_stats(dcgan_inception *net, const char *path, const fid_options *o,
                      dcgan_fid_stats *st, double **features, int *count) {
    if (ends_with(path, ".npz")) {
        if (dcgan_fid_stats_load_npz(st, path) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            return 1;
        }
        if (st->dims != o->dims) {
            fprintf(stderr, "fid: '%s' holds %d-dim statistics, --dims is %d\n", path, st->dims, o->dims);
            return 1;
        }
        *count = 0;
        return 0;
    }
    double *f = NULL;
    if (folder_features(net, path, o, &f, count) != 0) {
        free(f);
        return 1;
    }
    if (dcgan_fid_stats_compute(st, f, *count, o->dims) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        free(f);
        return 1;
    }
    if (features) *features = f;
    else free(f);
    return 0;
}

static int load_network(dcgan_inception *net, const fid_options *o) {
    if (dcgan_inception_init(net) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        return 1;
    }
    dcgan_status st = o->fill ? dcgan_inception_fill_deterministic(net) : dcgan_inception_load(net, o->weights);
    if (st != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        return 1;
    }
    if (o->fill) fprintf(stderr, "fid: WARNING: test weights (--fill-deterministic), not Inception\n");
    return 0;
}

int main(int argc, char **argv) {
    fid_options o = {2048, DCGAN_INCEPTION_BATCH, 0, 100, 1000, 0, 0, 1, NULL};
    const char *save_stats = NULL, *save_weights = NULL, *paths[2] = {NULL, NULL};
    const char *device = CLI_DEFAULT_DEVICE;
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(argv[0]); return 0; }
        else if (strcmp(a, "--kid") == 0) o.kid = 1;
        else if (strcmp(a, "--fill-deterministic") == 0) o.fill = 1;
        else if (strcmp(a, "--save-stats") == 0) save_stats = "yes";
        else if (cli_flag(argc, argv, &i, "--dims")) o.dims = (int)cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--batch-size")) o.batch = (int)cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--weights")) o.weights = argv[i];
        else if (cli_flag(argc, argv, &i, "--kid-subsets")) o.kid_subsets = (int)cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--kid-subset-size")) o.kid_size = (int)cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--threads")) o.threads = (int)cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--device")) device = argv[i];
        else if (cli_flag(argc, argv, &i, "--seed")) o.seed = cli_int(argv[0], a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--save-weights")) save_weights = argv[i];
        else if (a[0] == '-' && a[1] == '-') { fprintf(stderr, "fid: unknown flag '%s' (see --help)\n", a); return 2; }
        else if (n_paths < 2) paths[n_paths++] = a;
        else { fprintf(stderr, "fid: too many paths (see --help)\n"); return 2; }
    }
    if (o.dims != 64 && o.dims != 192 && o.dims != 768 && o.dims != 2048) {
        fprintf(stderr, "fid: --dims must be 64, 192, 768 or 2048\n");
        return 2;
    }
    dcgan_set_threads(o.threads);
    if (save_weights) {
        char found[1024];
        dcgan_state_dict sd;
        const char *from = o.weights;
        if (!from && dcgan_inception_find_weights(found, sizeof found) == DCGAN_OK) from = found;
        if (!from || dcgan_state_dict_load(&sd, from) != DCGAN_OK || dcgan_state_dict_save(&sd, save_weights) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            return 1;
        }
        printf("fid: wrote %d tensors from %s to %s\n", sd.n, from, save_weights);
        dcgan_state_dict_free(&sd);
        return 0;
    }
    if (n_paths != 2) {
        fprintf(stderr, "fid: need two paths (see --help)\n");
        return 2;
    }
    dcgan_inception net;
    dcgan_fid_stats s1, s2;
    double *f1 = NULL, *f2 = NULL;
    int c1 = 0, c2 = 0, rc = 1;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    if (save_stats) {
        FILE *exists = fopen(paths[1], "rb");
        if (exists) {
            fclose(exists);
            fprintf(stderr, "fid: '%s' exists already; not overwriting it\n", paths[1]);
            return 1;
        }
        if (load_network(&net, &o) != 0 || path_stats(&net, paths[0], &o, &s1, NULL, &c1) != 0) goto done;
        if (dcgan_fid_stats_save_npz(&s1, paths[1]) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            goto done;
        }
        printf("fid: statistics of %d images (%d dims) saved to %s\n", c1, o.dims, paths[1]);
        rc = 0;
        goto done;
    }
    if ((!ends_with(paths[0], ".npz") || !ends_with(paths[1], ".npz")) && load_network(&net, &o) != 0) goto done;
    if (path_stats(&net, paths[0], &o, &s1, o.kid ? &f1 : NULL, &c1) != 0 ||
        path_stats(&net, paths[1], &o, &s2, o.kid ? &f2 : NULL, &c2) != 0)
        goto done;
    double fid;
    int r1 = -1, r2 = -1, gpu = cli_device("fid", device);
    dcgan_status fst = DCGAN_ERR_SHAPE;
    if (gpu < 0) goto done;
#ifdef DCGAN_CUDA
    if (gpu) fst = dcgan_frechet_distance_cuda(&fid, &s1, &s2);   // ranks: CPU only
#endif
    if (!gpu) fst = dcgan_frechet_distance(&fid, &s1, &s2, &r1, &r2);
    if (fst != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        goto done;
    }
    printf("FID:  %.10g\n", fid);
    const int counts[2] = {c1, c2}, ranks[2] = {r1, r2};
    for (int k = 0; k < 2; k++) {
        if (ranks[k] >= 0)
            printf("  %s: %s%d images, covariance rank %d of %d\n", paths[k], counts[k] ? "" : "(statistics) ",
                   counts[k], ranks[k], o.dims);
        else
            printf("  %s: %s%d images, %d dims\n", paths[k], counts[k] ? "" : "(statistics) ", counts[k], o.dims);
        if (counts[k] && counts[k] <= o.dims)
            printf("  warning: %d images <= %d dims: the covariance is rank-deficient and FID is biased "
                   "upwards; compare only at equal N, or use --kid (unbiased)\n", counts[k], o.dims);
    }
    if (o.kid) {
        if (!f1 || !f2) {
            fprintf(stderr, "fid: --kid needs image folders, not .npz statistics\n");
            goto done;
        }
        double mean, sd;
        dcgan_rng rng;
        dcgan_rng_seed(&rng, (uint64_t)o.seed);
        if (dcgan_kid(&mean, &sd, f1, c1, f2, c2, o.dims, o.kid_subsets, o.kid_size, &rng) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            goto done;
        }
        printf("KID:  %.6g +- %.6g (%d subsets of %d)\n", mean, sd, o.kid_subsets,
               c1 < c2 ? (c1 < o.kid_size ? c1 : o.kid_size) : (c2 < o.kid_size ? c2 : o.kid_size));
    }
    rc = 0;
done:
    free(f1);
    free(f2);
    dcgan_fid_stats_free(&s1);
    dcgan_fid_stats_free(&s2);
    dcgan_inception_free(&net);
    return rc;
}
