// phantom.c - writes procedural chest X-ray phantoms as PNG folders in the
// layout of the Kermany et al. 2018 data set:
//     OUT/train/NORMAL/NORMAL-0001.png   OUT/train/PNEUMONIA/PNEUMONIA-0001.png
//     OUT/val/...   OUT/test/...
// Build: make   Run: build/phantom --out data/phantom --normal 400 --pneumonia 1160
// Prints the folders it wrote and the counts.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"

static void usage(const char *prog) {
    printf("usage: %s [flags]\n"
           "  --out DIR         output folder                      (data/phantom)\n"
           "  --normal N        NORMAL images in train/            (400)\n"
           "  --pneumonia N     PNEUMONIA images in train/         (1160)\n"
           "  --test N          images per class in test/          (N/8 of train)\n"
           "  --val N           images per class in val/           (8)\n"
           "  --size S          image side in pixels               (256)\n"
           "  --seed S          random seed                        (1)\n", prog);
}

// Writes count phantoms of one class into dir; returns 0 on success.
static int write_class(const char *dir, const char *cls, int count, int size, int pneumonia,
                       dcgan_rng *rng, unsigned char *pixels) {
    char folder[4096], path[4200];
    snprintf(folder, sizeof folder, "%s/%s", dir, cls);
    if (cli_mkdirs(folder) != 0) {
        fprintf(stderr, "phantom: cannot create folder '%s'\n", folder);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        dcgan_phantom_render(pixels, size, pneumonia, rng);
        snprintf(path, sizeof path, "%s/%s-%04d.png", folder, cls, i + 1);
        if (dcgan_png_write(path, pixels, size, size, 1) != DCGAN_OK) {
            fprintf(stderr, "phantom: %s\n", dcgan_last_error());
            return 1;
        }
    }
    printf("phantom: wrote %4d images to %s\n", count, folder);
    return 0;
}

int main(int argc, char **argv) {
    const char *out = "data/phantom";
    int normal = 400, pneumonia = 1160, test = -1, val = 8, size = 256;
    long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(argv[0]); return 0; }
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--normal")) normal = (int)cli_int(argv[0], "--normal", argv[i]);
        else if (cli_flag(argc, argv, &i, "--pneumonia")) pneumonia = (int)cli_int(argv[0], "--pneumonia", argv[i]);
        else if (cli_flag(argc, argv, &i, "--test")) test = (int)cli_int(argv[0], "--test", argv[i]);
        else if (cli_flag(argc, argv, &i, "--val")) val = (int)cli_int(argv[0], "--val", argv[i]);
        else if (cli_flag(argc, argv, &i, "--size")) size = (int)cli_int(argv[0], "--size", argv[i]);
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int(argv[0], "--seed", argv[i]);
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", argv[0], argv[i]); return 2; }
    }
    if (normal < 0 || pneumonia < 0 || val < 0 || size < 16 || size > 4096) {
        fprintf(stderr, "phantom: counts must be >= 0 and size in 16..4096\n");
        return 2;
    }
    printf("phantom: %d NORMAL + %d PNEUMONIA train images, %dx%d, seed %ld -> %s\n", normal,
           pneumonia, size, size, seed, out);
    unsigned char *pixels = (unsigned char *)malloc((size_t)size * size);
    dcgan_rng rng;
    char dir[4096];
    int rc = 0;
    dcgan_rng_seed(&rng, (uint64_t)seed);
    const char *splits[3] = {"train", "val", "test"};
    for (int s = 0; s < 3 && rc == 0; s++) {
        int n_normal = s == 0 ? normal : s == 1 ? val : (test >= 0 ? test : normal / 8);
        int n_pneu = s == 0 ? pneumonia : s == 1 ? val : (test >= 0 ? test : pneumonia / 8);
        snprintf(dir, sizeof dir, "%s/%s", out, splits[s]);
        rc |= write_class(dir, "NORMAL", n_normal, size, 0, &rng, pixels);
        if (rc == 0) rc |= write_class(dir, "PNEUMONIA", n_pneu, size, 1, &rng, pixels);
    }
    free(pixels);
    return rc;
}
