// decode_cost.c - what decoding in a child process costs (dcgan_set_isolated_decoding),
// and what decoding on every thread gains (dcgan_dataset_load, one helper per thread).
// Makes N full-size JPEG radiographs (each image of SRC resized to W x H, by default the
// size of a Kermany original) in OUT, then loads the folder at 128x128 three times each
// way, alternating: the isolation on and off, on 1 thread and on all; prints the medians.
//   make bench-decode SRC=../shared/data/kermany224/NORMAL    (N=1000 W=1500 H=1800)
//   build/decode_cost SRC OUT N 224 224                       (the study's 224x224 copies)
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "../examples/cli.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR OUT_DIR [N W H]\n", argv[0]);
        return 2;
    }
    const char *src = argv[1], *out = argv[2];
    int n = argc > 3 ? atoi(argv[3]) : 1000, W = argc > 4 ? atoi(argv[4]) : 1500, H = argc > 5 ? atoi(argv[5]) : 1800;
    char **paths = NULL;
    int count = 0;
    if (dcgan_list_images(&paths, &count, src) != DCGAN_OK || count == 0) {
        fprintf(stderr, "decode_cost: no images in '%s'\n", src);
        return 1;
    }
    cli_mkdirs(out);
    unsigned char *big = (unsigned char *)malloc((size_t)W * H);
    for (int i = 0; i < n; i++) {
        char dst[4200];
        snprintf(dst, sizeof dst, "%s/xray_%04d.jpg", out, i);
        struct stat sb;
        if (stat(dst, &sb) == 0) continue;   // made by an earlier run
        int w, h, c;
        unsigned char *img = stbi_load(paths[i % count], &w, &h, &c, 1);
        if (!img) continue;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) big[(size_t)y * W + x] = img[(size_t)(y * h / H) * w + x * w / W];
        stbi_write_jpg(dst, W, H, 1, big, 90);
        stbi_image_free(img);
    }
    free(big);
    dcgan_paths_free(paths, count);
    dcgan_image_options opt;
    dcgan_image_options_default(&opt);
    opt.size = 128;
    opt.channels = 1;
    const int all = dcgan_set_threads(0);
    double t[2][2][3];   // [threads all][isolation][rep]
    for (int rep = 0; rep < 3; rep++)
        for (int many = 0; many < 2; many++)
            for (int iso = 1; iso >= 0; iso--) {
                dcgan_dataset ds;
                dcgan_set_threads(many ? all : 1);
                dcgan_set_isolated_decoding(iso);
                double t0 = cli_now();
                if (dcgan_dataset_load(&ds, out, &opt) != DCGAN_OK) {
                    fprintf(stderr, "decode_cost: %s\n", dcgan_last_error());
                    return 1;
                }
                t[many][iso][rep] = cli_now() - t0;
                if (rep == 0 && many == 0 && iso == 1) printf("%d images of %dx%d in %s\n", ds.count, W, H, out);
                dcgan_dataset_free(&ds);
            }
    for (int many = 0; many < 2; many++) {
        qsort(t[many][0], 3, sizeof(double), cmp_double);
        qsort(t[many][1], 3, sizeof(double), cmp_double);
        printf("decode + resize to 128x128 on %d thread%s, median of 3: in-process %.2f s, child processes "
               "%.2f s (%+.1f%%, %+.3f ms per image)\n", many ? all : 1, many && all > 1 ? "s" : "", t[many][0][1],
               t[many][1][1], 100.0 * (t[many][1][1] / t[many][0][1] - 1.0), 1000.0 * (t[many][1][1] - t[many][0][1]) / n);
    }
    printf("all %d threads against 1: %.2fx (child processes), %.2fx (in-process)\n", all, t[0][1][1] / t[1][1][1],
           t[0][0][1] / t[1][0][1]);
    return 0;
}
