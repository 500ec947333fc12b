// minimal_gan.c - the smallest complete program that trains a GAN with dcgan.h:
// load a folder of images, train a DCGAN (Radford et al. 2016) on them, and
// write a grid of generated images. Public API only; no error is ignored.
//
//   make build/minimal_gan          (in this repository), or beside a copy of dcgan.h:
//   cc -std=c99 -O2 -fopenmp $(pkg-config --cflags stb) minimal_gan.c -o minimal_gan -lm
//   build/minimal_gan IMAGE_FOLDER [ITERATIONS] [OUT.png]     (1000, samples.png)
// (-fopenmp is optional; the file also compiles as C++.)
//
// On 2 CPU cores an iteration takes about 0.03 s (the default 1000 in about half
// a minute); on chest X-rays lungs and ribs show after a few hundred iterations
// and sharpen for a few thousand.
//
// What one iteration does (dcgan_gan_train_step, dcgan.h section 10):
//   1. D learns:  maximise log D(x) + log(1 - D(G(z)))  on a half batch of real
//      images x and a half batch of generated ones G(z)  (Goodfellow et al. 2014);
//   2. G learns:  maximise log D(G(z))  - the "non-saturating" loss of the same
//      paper: G is trained as if its images were real (label 1), which gives it
//      strong gradients while D still wins easily.
// For small folders (50-200 images) add the DiffAugment / ADA / EMA lines below.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "dcgan.h"   // (the Makefile passes -I. so that this finds the one above examples/)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Prints the library's message and says the program failed.
static int fail(const char *what) {
    fprintf(stderr, "minimal_gan: %s: %s\n", what, dcgan_last_error());
    return 1;
}

// The loader skips files it cannot decode (and counts them): say which.
static void on_skip(void *user, const char *path, const char *reason) {
    (void)user;
    (void)path;   // (the reason names the file)
    fprintf(stderr, "minimal_gan: skipping an image: %s\n", reason);
}

int main(int argc, char **argv) {
    const char *usage = "usage: minimal_gan IMAGE_FOLDER [ITERATIONS] [OUT.png]   (1000, samples.png)\n";
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("%s", usage);   // asked for: on stdout, status 0
        return 0;
    }
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    const char *folder = argv[1], *out_path = argc > 3 ? argv[3] : "samples.png";
    long iterations = 1000;
    if (argc > 2) {   // digits only (strtol would skip leading blanks); *end catches "5x"
        char *end;
        errno = 0;
        iterations = strtol(argv[2], &end, 10);
        if (!isdigit((unsigned char)argv[2][0]) || *end || errno == ERANGE || iterations < 1) {
            fprintf(stderr, "minimal_gan: ITERATIONS must be a positive number, got '%s'\n", argv[2]);
            return 2;   // (ERANGE: past what a long holds)
        }
    }

    dcgan_set_threads(0);   // threads: $DCGAN_THREADS, else $OMP_NUM_THREADS, else all cores

    // 1. The images: every picture under the folder as 64x64 gray in [-1, 1].
    dcgan_image_options opt;
    dcgan_image_options_default(&opt);
    opt.size = 64;
    opt.channels = 1;
    opt.on_skip = on_skip;
    dcgan_dataset data;
    if (dcgan_dataset_load(&data, folder, &opt) != DCGAN_OK) return fail(folder);
    printf("%d images from %s (%d skipped)\n", data.count, folder, data.skipped);

    // 2. The GAN: the DCGAN architecture, a quarter of the filters (fast on a CPU).
    dcgan_gan_config cfg;
    dcgan_gan_config_default(&cfg);
    cfg.arch = DCGAN_ARCH_DCGAN;
    cfg.size = 64;
    cfg.channels = 1;
    cfg.width = 0.25f;
    cfg.batch = 32;
    cfg.lr_d = 1e-4;
    cfg.lr_g = 2e-4;
    cfg.adam_mode = DCGAN_ADAM_PYTORCH;
    cfg.real_label = 0.9f;   // one-sided label smoothing: D aims at 0.9 for real images
    // Little data: augment what D sees, adapt how often, average G's weights.
    // cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    // cfg.ada_target = 0.6f;
    // cfg.ema_kimg = 1.0f;
    dcgan_gan gan;
    if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK) {
        dcgan_dataset_free(&data);
        return fail("gan_init");
    }

    // 3. Training: one call per iteration; the losses tell how the game goes.
    for (long it = 1; it <= iterations; it++) {
        dcgan_gan_stats st;
        memset(&st, 0, sizeof st);   // (the step fills it; zeroed so GCC 12 -O3 sees it set)
        if (dcgan_gan_train_step(&gan, data.data, data.count, &st) != DCGAN_OK) {
            dcgan_gan_free(&gan);
            dcgan_dataset_free(&data);
            return fail("train_step");
        }
        if (it % 50 == 0 || it == iterations)
            printf("iteration %ld: D loss real %.3f fake %.3f, G loss %.3f\n", it, st.d_real_loss,
                   st.d_fake_loss, st.g_loss);
    }

    // 4. Samples: 64 noise vectors through G, laid out 8 x 8, written as a PNG.
    enum { N = 64 };
    float *noise = (float *)malloc((size_t)N * cfg.latent * sizeof(float));   // (casts: C++ needs them)
    float *images = (float *)malloc((size_t)N * 64 * 64 * sizeof(float));
    unsigned char *grid = NULL;
    int grid_w = 0, grid_h = 0, rc = 0;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 7);
    if (!noise || !images) {
        fprintf(stderr, "minimal_gan: out of memory\n");
        rc = 1;
    } else {
        dcgan_rng_fill_normal(&rng, noise, (size_t)N * cfg.latent, 0.0f, 1.0f);
        if (dcgan_gan_generate(&gan, images, noise, N) != DCGAN_OK) rc = fail("generate");
        else if (dcgan_grid_make(&grid, &grid_w, &grid_h, images, N, 1, 64, 64, 8, 2) != DCGAN_OK)
            rc = fail("grid_make");
        else if (dcgan_png_write(out_path, grid, grid_w, grid_h, 1) != DCGAN_OK) rc = fail(out_path);
        else printf("wrote %s\n", out_path);
    }
    dcgan_free(grid);
    free(images);
    free(noise);
    dcgan_gan_free(&gan);
    dcgan_dataset_free(&data);
    return rc;
}
