// phantom.c - writes procedural chest X-ray phantoms as PNG folders in the
// layout of the Kermany et al. 2018 data set:
//     OUT/train/NORMAL/NORMAL-0001.png   OUT/train/PNEUMONIA/PNEUMONIA-0001.png
//     OUT/val/...   OUT/test/...
// One image is one patient, numbered on through the splits of its class (with
// 40 NORMAL train and 8 val images, val/NORMAL holds NORMAL-0041..0048 and
// test/NORMAL starts at NORMAL-0049), so no patient is in two splits, as in
// the real data set, and the splits can be merged into one folder.
// Build: make   Run: build/phantom --out data/phantom --normal 400 --pneumonia 1160
// Prints the folders it wrote and the counts. A class folder that already holds
// PNG files this run would not replace (a run with larger counts before, or
// other train or val counts, which move the numbers of val and test, or a
// phantom from before the numbering ran on through the splits) is refused
// before anything is written: the old images would mix with the new.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"

#define MAX_COUNT 1000000   // --normal, --pneumonia, --val, --test: images per folder
#define MAX_OUT 4000        // --out: characters (the image paths must fit 4096)

static void usage(const char *prog) {
    printf("usage: %s [flags]\n"
           "  --out DIR         output folder, at most 4000 characters (data/phantom)\n"
           "  --normal N        NORMAL images in train/            (400)\n"
           "  --pneumonia N     PNEUMONIA images in train/         (1160)\n"
           "  --test N          images per class in test/          (1/8 of the class in train,\n"
           "                                                        at least 1 if it has any)\n"
           "  --val N           images per class in val/           (8)\n"
           "  --size S          image side in pixels, 16 to 4096   (256)\n"
           "  --seed S          random seed, 0 or more             (1)\n"
           "  (counts are 0 to 1,000,000)\n", prog);
}

// A folder phantom writes into (OUT/SPLIT or OUT/SPLIT/CLASS): 0 when it is a
// folder or not there yet, -1 after the message when a file stands in its way
// (found only when that split's turn came, after the splits before it were written).
static int folder_check(const char *dir) {
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return 0;
        fprintf(stderr, "phantom: '%s' is a file, not a folder; give another --out or move it\n", dir);
        return -1;
    }
    if (errno == ENOENT) return 0;
    if (errno == ENOTDIR) fprintf(stderr, "phantom: '%s' lies under a file, not a folder; give another --out\n", dir);
    else fprintf(stderr, "phantom: cannot look at '%s': %s\n", dir, strerror(errno));
    return -1;
}

// Writes count phantoms of one class into dir, numbered from first; returns 0 on success.
static int write_class(const char *dir, const char *cls, int first, int count, int size, int pneumonia,
                       dcgan_rng *rng, unsigned char *pixels) {
    char folder[4096], path[4200];
    snprintf(folder, sizeof folder, "%s/%s", dir, cls);
    if (cli_mkdirs(folder) != 0) {
        fprintf(stderr, "phantom: cannot create folder '%s'\n", folder);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        dcgan_phantom_render(pixels, size, pneumonia, rng);
        snprintf(path, sizeof path, "%s/%s-%04d.png", folder, cls, first + i);
        if (dcgan_png_write(path, pixels, size, size, 1) != DCGAN_OK) {
            fprintf(stderr, "phantom: %s\n", dcgan_last_error());
            return 1;
        }
    }
    printf("phantom: wrote %4d images to %s\n", count, folder);
    return 0;
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    const char *out = "data/phantom";
    int normal = 400, pneumonia = 1160, test = -1, val = 8, size = 256;
    long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(argv[0]); return 0; }
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--normal"))
            normal = (int)cli_int_range("phantom", a, argv[i], 0, MAX_COUNT);
        else if (cli_flag(argc, argv, &i, "--pneumonia"))
            pneumonia = (int)cli_int_range("phantom", a, argv[i], 0, MAX_COUNT);
        else if (cli_flag(argc, argv, &i, "--test"))
            test = (int)cli_int_range("phantom", a, argv[i], 0, MAX_COUNT);
        else if (cli_flag(argc, argv, &i, "--val"))
            val = (int)cli_int_range("phantom", a, argv[i], 0, MAX_COUNT);
        else if (cli_flag(argc, argv, &i, "--size"))
            size = (int)cli_int_range("phantom", a, argv[i], 16, 4096);
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int_range("phantom", a, argv[i], 0, LONG_MAX);
        else { fprintf(stderr, "phantom: unknown flag '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (strlen(out) > MAX_OUT) {
        fprintf(stderr, "phantom: --out is %zu characters long; at most %d\n", strlen(out),
                MAX_OUT);
        return 2;
    }
    if (cli_out_folder("phantom", out) != 0) return 2;
    if (normal == 0 && pneumonia == 0 && val == 0 && test <= 0) {   // (it wrote six empty folders, status 0)
        fprintf(stderr, "phantom: --normal, --pneumonia, --val and --test are all 0: nothing to write\n");
        return 2;
    }
    // the counts of the six folders: train (the flags), val, test (unless --test, 1/8 of
    // train, at least one image for a class with any: --normal 7 left test/NORMAL empty)
    const char *splits[3] = {"train", "val", "test"};
    int counts[3][2] = {{normal, pneumonia}, {val, val}, {test, test}};
    if (test < 0) {
        counts[2][0] = normal > 0 && normal < 8 ? 1 : normal / 8;
        counts[2][1] = pneumonia > 0 && pneumonia < 8 ? 1 : pneumonia / 8;
    }
    int first[3][2];   // each class numbered on through train, val, test: one patient per image
    for (int k = 0; k < 2; k++) {
        first[0][k] = 1;
        first[1][k] = 1 + counts[0][k];
        first[2][k] = 1 + counts[0][k] + counts[1][k];
    }
    // every folder checked before the first image is written
    char dir[4200], stale[300];
    for (int s = 0; s < 3; s++) {
        snprintf(dir, sizeof dir, "%s/%s", out, splits[s]);
        if (folder_check(dir) != 0) return 1;
        for (int k = 0; k < 2; k++) {
            const char *cls = k == 0 ? "NORMAL" : "PNEUMONIA";
            snprintf(dir, sizeof dir, "%s/%s/%s", out, splits[s], cls);
            if (folder_check(dir) != 0) return 1;
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s-", cls);   // (the images are CLS-%04d.png)
            if (cli_stale_image(stale, sizeof stale, dir, prefix, first[s][k], counts[s][k], 4)) {
                char names[100] = "";   // (val and test are numbered on from train: other counts move them)
                if (counts[s][k] > 0)
                    snprintf(names, sizeof names, ", %s%04d.png to %s%04d.png", prefix, first[s][k], prefix,
                             first[s][k] + counts[s][k] - 1);
                fprintf(stderr, "phantom: '%s' holds %s, which this run (%d images there%s) would not "
                                "replace: two runs' images would mix; give another --out or delete "
                                "the old images\n", dir, stale, counts[s][k], names);
                return 1;
            }
        }
    }
    printf("phantom: %d NORMAL + %d PNEUMONIA train images, %dx%d, seed %ld -> %s\n", normal,
           pneumonia, size, size, seed, out);
    fflush(stdout);   // (before any message on stderr)
    unsigned char *pixels = (unsigned char *)malloc((size_t)size * size);
    if (!pixels) {
        fprintf(stderr, "phantom: no memory for a %dx%d image\n", size, size);
        return 1;
    }
    dcgan_rng rng;
    int rc = 0;
    dcgan_rng_seed(&rng, (uint64_t)seed);
    for (int s = 0; s < 3 && rc == 0; s++) {
        snprintf(dir, sizeof dir, "%s/%s", out, splits[s]);
        rc |= write_class(dir, "NORMAL", first[s][0], counts[s][0], size, 0, &rng, pixels);
        if (rc == 0) rc |= write_class(dir, "PNEUMONIA", first[s][1], counts[s][1], size, 1, &rng, pixels);
    }
    free(pixels);
    return rc;
}
