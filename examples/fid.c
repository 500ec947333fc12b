// fid.c - Frechet Inception Distance like `python -m pytorch_fid`, in C, and
// what it takes to read one: intervals, a floor, precision and recall, and a
// check for copied training images.
//
// Build: make
// Run:   build/fid --dims 768 real_images/ generated_images/
//        build/fid --save-stats real_images/ real_stats.npz
//        build/fid --save-features real_images/ real.npy      (embed once)
//        build/fid --dims 768 --bootstrap 200 --floor --prdc real.npy generated_images/
//        build/fid --dims 768 --nearest train_images/ held_out_real/ generated_images/
// Each PATH is a folder of images (not searched recursively, with a note on the
// images in its sub-folders; bmp jpg jpeg pgm
// png ppm tif tiff webp in any case), a .npz of statistics (mu, sigma) such as
// pytorch-fid's --save-stats writes, or a .npy of features (n, dims) from
// --save-features. Two .npy or .npz PATHs may hold any network's features (such
// as `classify features` writes): without --dims, dims is the first file's.
// Prints "FID:  <value>" first, as pytorch-fid does, then the sample sizes,
// the numerical rank of each covariance and a warning when the sample is too
// small for the dimension; then what was asked for. PATH1 is the real set,
// PATH2 the generated one.
// Weights: --weights FILE, else $DCGAN_INCEPTION_WEIGHTS, else pytorch-fid's
// cache (torch.hub's: $TORCH_HOME/hub, $XDG_CACHE_HOME/torch/hub or
// ~/.cache/torch/hub, then checkpoints/pt_inception-2015-12-05-6726825d.pth).
// pytorch-fid's command lines run as they are: --dims=768, --num-workers N
// (accepted, unused) and --device cuda:0.
#define _DEFAULT_SOURCE   // strdup
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"

static void usage(const char *prog) {
    printf("usage: %s [flags] PATH1 PATH2          FID between two folders, .npy features or .npz\n"
           "       %s --save-stats DIR OUT.npz     write DIR's statistics (never overwrites)\n"
           "       %s --save-features DIR OUT.npy  write DIR's feature vectors (never overwrites)\n"
           "       %s --save-weights OUT.safetensors   convert the .pth weights once\n"
           "  --dims D            64 | 192 | 768 | 2048                  (2048)\n"
           "                      two .npy/.npz PATHs: any (the first file's)\n"
           "  --batch-size B      images per pass through the network,\n"
           "                      at most DCGAN_INCEPTION_BATCH, more is cut to it (8)\n"
           "  --weights FILE      Inception weights (.pth or .safetensors)\n"
           "  --kid               also the Kernel Inception Distance\n"
           "  --kid-subsets N     subsets for KID                        (100)\n"
           "  --kid-subset-size M images per KID subset                  (1000)\n"
           "  --bootstrap B       95%% percentile intervals of FID (and KID with --kid)\n"
           "                      from B resamples of each set with replacement\n"
           "  --floor             FID between two disjoint random halves of PATH1 with as\n"
           "                      many images as PATH2, --floor-repeats times (10): the\n"
           "                      FID of two samples of the same distribution at this size\n"
           "  --floor-repeats R   splits for --floor                     (10)\n"
           "  --prdc              precision, recall (Kynkaanniemi et al. 2019), density and\n"
           "                      coverage (Naeem et al. 2020) of PATH2 against PATH1\n"
           "  --prdc-k K          nearest neighbours for --prdc, 1-64     (3)\n"
           "  --nearest TRAIN     memorisation: each generated image's nearest TRAIN image\n"
           "                      (features and 32x32 pixels); PATH1 must be real images\n"
           "                      NOT in TRAIN (held out). Writes OUT/nearest.csv and\n"
           "                      OUT/nearest.png (closest pairs: generated | training).\n"
           "                      PATH2 and TRAIN may be .npy files of features (classify\n"
           "                      features: nothing downloaded) with the lists of their\n"
           "                      images written beside them (.npy.files)\n"
           "  --out DIR           where --nearest writes                 (nearest)\n"
           "  --threads N         threads (OpenMP builds); 0 = all       (0)\n"
           "                      (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
           "  --device D          cpu | cuda (cuda:0) | auto: where the Frechet distance's matrix\n"
           "                      work runs (features: CPU)              (" CLI_DEFAULT_DEVICE ")\n"
           "  --seed S            KID subsets, bootstrap, floor splits   (1)\n"
           "  --num-workers N     accepted for pytorch-fid's command lines; not used\n"
           "                      (images are decoded on --threads)\n"
           "  --fill-deterministic  TESTS ONLY: weights from the deterministic fill,\n"
           "                      not the real network (numbers mean nothing)\n",
           prog, prog, prog, prog);
}

typedef struct {
    int dims, batch, kid, kid_subsets, kid_size, fill, threads;
    int bootstrap, floor, floor_repeats, prdc, prdc_k;
    long seed;
    const char *weights, *nearest, *out;
    const char *dims_from;   // the .npy file whose width set dims (NULL: --dims or the default)
    int max_images;          // more images in a folder are refused before any is read (0: no limit)
} fid_options;

// One image set as the statistics see it: feature vectors (n, dims), and the
// image files they came from (NULL for a .npy).
typedef struct {
    double *f;
    int n;
    char **paths;
} feature_set;

static void set_free(feature_set *s) {
    free(s->f);
    if (s->paths)
        for (int i = 0; i < s->n; i++) free(s->paths[i]);
    free(s->paths);
    memset(s, 0, sizeof *s);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

// A PATH's kind is its name's: .npy and .npz name files, anything else a folder of
// images. Each is checked before anything runs (a PATH2 that is missing, or a file where a
// folder belongs, was found only after PATH1's features: an hour on a large folder).
static int check_input(const char *path) {
    struct stat sb;
    const int file = ends_with(path, ".npy") || ends_with(path, ".npz");
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "fid: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    if (file && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fid: '%s' is a folder; a name ending in .npy or .npz is read as a file\n", path);
        return 1;
    }
    if (!file && !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fid: '%s' is not a folder; give a folder of images, a .npy of features or a .npz "
                        "of statistics\n", path);
        return 1;
    }
    return 0;
}

// Where --save-stats or --save-features writes, checked before the features are computed
// (a missing folder was found after them): the name says what it holds, as fid reads names
// (a .npz named out.txt was then read as a folder), it does not exist yet, and its folder does.
static int check_output(const char *dst, const char *ext) {
    struct stat sb;
    if (!ends_with(dst, ext)) {
        fprintf(stderr, "fid: '%s' must end in %s (fid reads a file by its name)\n", dst, ext);
        return 1;
    }
    if (stat(dst, &sb) == 0) {
        fprintf(stderr, "fid: '%s' exists already; not overwriting it\n", dst);
        return 1;
    }
    char dir[4096];
    const char *slash = strrchr(dst, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dst) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - dst), dst);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fid: cannot write '%s': '%s' is not a folder\n", dst, dir);
        return 1;
    }
    return 0;
}

// The folders images_below has looked in (device and inode), so that a folder
// reached under two names (a link beside it, or back up) is counted once.
#define SEEN_FOLDERS 4096
typedef struct {
    dev_t dev[SEEN_FOLDERS];
    ino_t ino[SEEN_FOLDERS];
    int n;
} seen_folders;

// How many images dir's sub-folders hold, by fid's own file types (those
// dcgan_list_fid_images takes): fid reads dir itself only, as pytorch-fid does,
// and says so rather than leave them out without a word. Sub-folders are
// searched 8 deep, each folder once (seen: the folders looked in, dir's own
// included; past 4096 folders the rest are not counted). 0 when there are none
// or they cannot be listed.
static int images_below(const char *dir, int depth, seen_folders *seen) {
    struct stat sb;
    if (depth >= 8 || seen->n == SEEN_FOLDERS || stat(dir, &sb) != 0) return 0;
    for (int k = 0; k < seen->n; k++)
        if (seen->dev[k] == sb.st_dev && seen->ino[k] == sb.st_ino) return 0;
    seen->dev[seen->n] = sb.st_dev, seen->ino[seen->n] = sb.st_ino, seen->n++;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int below = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        if (e->d_name[0] == '.' || snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub ||
            stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;   // (hidden, too long, or not a folder)
        int seen_before = 0;
        for (int k = 0; k < seen->n && !seen_before; k++)
            seen_before = seen->dev[k] == sb.st_dev && seen->ino[k] == sb.st_ino;
        if (seen_before) continue;
        char **paths = NULL;
        int n = 0;
        if (dcgan_list_fid_images(&paths, &n, sub) == DCGAN_OK) {
            below += n;
            dcgan_paths_free(paths, n);
        }
        below += images_below(sub, depth + 1, seen);
    }
    closedir(d);
    return below;
}

// The regular files directly in dir (hidden ones not), each file once however
// many names it has there (links), and the first name; for the message of a
// folder that holds no images, only other files.
typedef struct {
    dev_t dev;
    ino_t ino;
} file_key;

static int file_key_cmp(const void *a, const void *b) {
    const file_key *x = (const file_key *)a, *y = (const file_key *)b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return (x->ino > y->ino) - (x->ino < y->ino);
}

static int files_in(const char *dir, char *first, size_t cap) {
    DIR *d = opendir(dir);
    struct dirent *e;
    file_key *keys = NULL;
    int n = 0, room = 0, fresh = 0, exact = 1;   // (exact 0: no memory to tell links apart)
    first[0] = '\0';
    while (d && (e = readdir(d)) != NULL) {
        char path[4300];
        struct stat sb;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (exact && n == room) {
            file_key *more = (file_key *)realloc(keys, (size_t)(room = room ? 2 * room : 64) * sizeof *keys);
            if (more) keys = more;
            else exact = 0;   // (every name counted from now on)
        }
        if (exact) keys[n].dev = sb.st_dev, keys[n].ino = sb.st_ino;
        if (n++ == 0 || strcmp(e->d_name, first) < 0) snprintf(first, cap, "%s", e->d_name);
    }
    if (d) closedir(d);
    if (!exact) {
        free(keys);
        return n;
    }
    if (n > 0) qsort(keys, (size_t)n, sizeof *keys, file_key_cmp);
    for (int i = 0; i < n; i++) fresh += i == 0 || file_key_cmp(&keys[i], &keys[i - 1]) != 0;
    free(keys);
    return fresh;
}

// 1 after a message when OUT/nearest.csv or OUT/nearest.png is something a file cannot
// replace (a folder): --nearest would find it only after every set's features; or
// when either is there (an earlier run's).
static int nearest_names_taken(const char *out) {
    for (int k = 0; k < 2; k++) {
        char dst[4300];
        struct stat sb;
        snprintf(dst, sizeof dst, "%s/nearest.%s", out, k == 0 ? "csv" : "png");
        if (stat(dst, &sb) == 0 && !S_ISREG(sb.st_mode)) {
            fprintf(stderr, "fid: '%s' is not a file; nearest.csv and nearest.png are left as they were\n", dst);
            return 1;
        }
    }
    for (int k = 0; k < 2; k++) {   // (an earlier run's pairs were replaced without a word: a helper's audit)
        char dst[4300];
        snprintf(dst, sizeof dst, "%s/nearest.%s", out, k == 0 ? "csv" : "png");
        if (access(dst, F_OK) == 0) {
            fprintf(stderr, "fid: '%s' holds an earlier run's %s; give another --out, or delete it\n", out, dst);
            return 1;
        }
    }
    return 0;
}

// Features of every image in dir, with a progress bar; the files used are kept.
static int folder_features(dcgan_inception *net, const char *dir, const fid_options *o, feature_set *out) {
    char **paths = NULL;
    int n = 0, used = 0, skipped = 0;
    if (dcgan_list_fid_images(&paths, &n, dir) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        return 1;
    }
    seen_folders *seen = (seen_folders *)calloc(1, sizeof *seen);
    const int below = seen ? images_below(dir, 0, seen) : 0;
    free(seen);
    if (n == 0) {
        if (below > 0)
            fprintf(stderr, "fid: no images in '%s'; its sub-folders hold %d, which fid does not search (as "
                            "pytorch-fid does not): give the folder that holds them\n", dir, below);
        else {
            char first[300];
            const int others = files_in(dir, first, sizeof first);
            if (others > 0)
                fprintf(stderr, "fid: no images in '%s' (bmp jpg jpeg pgm png ppm tif tiff webp), only %d other "
                                "file%s, the first '%s' (convert DICOM images to PNG)\n", dir, others,
                        others == 1 ? "" : "s", first);
            else
                fprintf(stderr, "fid: no images in '%s'\n", dir);
        }
        dcgan_paths_free(paths, n);
        return 1;
    }
    if (below > 0)
        fprintf(stderr, "fid: note: '%s': %d image%s in its sub-folders not used (fid reads one folder, as "
                        "pytorch-fid does)\n", dir, below, below == 1 ? "" : "s");
    if (o->max_images > 0 && n > o->max_images) {   // (found now, not after an hour of Inception)
        fprintf(stderr, "fid: '%s' holds %d images; a features file holds at most %d (save smaller folders "
                        "one by one, or --save-stats)\n", dir, n, o->max_images);
        dcgan_paths_free(paths, n);
        return 1;
    }
    double *features = (double *)malloc((size_t)n * o->dims * sizeof(double));
    char **kept = (char **)calloc((size_t)n, sizeof(char *));
    // up to `batch` decoded images go through the network together
    const int batch = o->batch < 1 ? 1 : o->batch > net->batch ? net->batch : o->batch;
    float *imgs[DCGAN_INCEPTION_BATCH];
    int hs[DCGAN_INCEPTION_BATCH], ws[DCGAN_INCEPTION_BATCH];
    int held = 0, failed = !features || !kept;
    if (failed) fprintf(stderr, "fid: no memory for %d x %d features\n", n, o->dims);
    cli_progress prog;
    cli_progress_start(&prog, "features", n);
    for (int i = 0; i < n && !failed; i++) {
        if (dcgan_image_load_rgb01(&imgs[held], &ws[held], &hs[held], paths[i], (size_t)64 << 20) != DCGAN_OK) {
            fprintf(stderr, "\nfid: skipping an image: %s\n", dcgan_last_error());
            skipped++;
        } else {
            kept[used + held] = strdup(paths[i]);
            held++;
        }
        if (held == batch || (i == n - 1 && held > 0)) {
            if (dcgan_inception_features_list(net, features + (size_t)used * o->dims,
                                              (const float *const *)imgs, hs, ws, held, o->dims) != DCGAN_OK) {
                fprintf(stderr, "\nfid: %s\n", dcgan_last_error());
                failed = 1;
            }
            used += held;
            while (held > 0) dcgan_free(imgs[--held]);
        }
        cli_progress_update(&prog, i + 1, NULL);
    }
    dcgan_paths_free(paths, n);
    out->f = features;
    out->paths = kept;
    out->n = used;
    if (failed) {
        set_free(out);
        return 1;
    }
    if (skipped) fprintf(stderr, "fid: %d of %d files in '%s' could not be read\n", skipped, n, dir);
    if (used < 2) {
        fprintf(stderr, "fid: '%s' has %d readable image%s; at least 2 are needed\n", dir, used, used == 1 ? "" : "s");
        set_free(out);
        return 1;
    }
    return 0;
}

// Features of a path: a .npy is read (and must have --dims columns), a folder
// goes through the network (net is loaded on first use).
static int path_features(dcgan_inception *net, int *net_ready, const char *path, const fid_options *o,
                         feature_set *out);

static int load_network(dcgan_inception *net, const fid_options *o) {
    if (dcgan_inception_init(net) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        return 1;
    }
    dcgan_status st = o->fill ? dcgan_inception_fill_deterministic(net) : dcgan_inception_load(net, o->weights);
    if (st != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        if (!o->weights)   // (the route with nothing downloaded went unmentioned: a referee)
            fprintf(stderr, "fid: without them: features of a classifier trained here, 'classify features', "
                            "and fid --kid --prdc on the two .npy files (docs/small_data.md)\n");
        return 1;
    }
    if (o->fill) fprintf(stderr, "fid: WARNING: test weights (--fill-deterministic), not Inception\n");
    return 0;
}

static int path_features(dcgan_inception *net, int *net_ready, const char *path, const fid_options *o,
                         feature_set *out) {
    memset(out, 0, sizeof *out);
    if (ends_with(path, ".npy")) {
        int64_t n;
        int dims;
        if (dcgan_features_load_npy(&out->f, &n, &dims, path) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            return 1;
        }
        out->n = (int)n;
        if (dims != o->dims) {
            if (o->dims_from)   // (the user gave no --dims: the first file's width is the one to name)
                fprintf(stderr, "fid: '%s' holds %d-dim features, '%s' %d-dim ones\n", path, dims, o->dims_from,
                        o->dims);
            else
                fprintf(stderr, "fid: '%s' holds %d-dim features, --dims is %d\n", path, dims, o->dims);
            set_free(out);
            return 1;
        }
        if (n < 2) {
            fprintf(stderr, "fid: '%s' holds %lld feature vector; at least 2 are needed\n", path, (long long)n);
            set_free(out);
            return 1;
        }
        return 0;
    }
    if (!*net_ready) {
        if (load_network(net, o) != 0) return 1;
        *net_ready = 1;
    }
    return folder_features(net, path, o, out);
}

static void on_progress(void *user, int done, int total) {
    (void)total;
    cli_progress_update((cli_progress *)user, done, NULL);
}

// --nearest: generated (PATH2) and held-out real (PATH1) against the training set
static int nearest_report(const fid_options *o, const feature_set *real, feature_set *gen, const char *gen_path,
                          dcgan_inception *net, int *net_ready) {
    feature_set train;
    printf("nearest: training images %s\n", o->nearest);
    if (path_features(net, net_ready, o->nearest, o, &train) != 0) return 1;
    // features from .npy files: their images from the lists written beside them (main checked they exist)
    if ((!gen->paths && cli_files_read("fid", gen_path, gen->n, &gen->paths) != 0) ||
        (!train.paths && cli_files_read("fid", o->nearest, train.n, &train.paths) != 0)) {
        set_free(&train);
        return 1;
    }
    int rc = 1;
    const int ng = gen->n, nr = real->n, nt = train.n, px = 32 * 32;
    int64_t *gi = (int64_t *)malloc((size_t)ng * sizeof(int64_t)), *ri = (int64_t *)malloc((size_t)nr * sizeof(int64_t));
    int64_t *pi = (int64_t *)malloc((size_t)ng * sizeof(int64_t));
    double *gd = (double *)malloc((size_t)ng * sizeof(double)), *rd = (double *)malloc((size_t)nr * sizeof(double));
    double *pd = (double *)malloc((size_t)ng * sizeof(double));
    double *gpx = (double *)malloc((size_t)ng * px * sizeof(double)), *tpx = (double *)malloc((size_t)nt * px * sizeof(double));
    float *one = (float *)malloc((size_t)px * sizeof(float));
    int *order = (int *)malloc((size_t)ng * sizeof(int));
    if (!gi || !ri || !pi || !gd || !rd || !pd || !gpx || !tpx || !one || !order) {
        fprintf(stderr, "fid: no memory for --nearest\n");
        goto done;
    }
    if (dcgan_nearest(gi, gd, gen->f, ng, train.f, nt, o->dims) != DCGAN_OK ||
        dcgan_nearest(ri, rd, real->f, nr, train.f, nt, o->dims) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        goto done;
    }
    // pixel space: 32x32 gray in [-1, 1]
    dcgan_image_options io;
    dcgan_image_options_default(&io);
    io.size = 32;
    io.channels = 1;
    const feature_set *sets[2] = {gen, &train};
    double *pix[2] = {gpx, tpx};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sets[s]->n; i++) {
            if (dcgan_image_load(one, sets[s]->paths[i], &io) != DCGAN_OK) {
                fprintf(stderr, "fid: %s\n", dcgan_last_error());
                goto done;
            }
            for (int k = 0; k < px; k++) pix[s][(size_t)i * px + k] = one[k];
        }
    if (dcgan_nearest(pi, pd, gpx, ng, tpx, nt, px) != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        goto done;
    }
    // the generated images, closest first
    for (int i = 0; i < ng; i++) order[i] = i;
    for (int i = 1; i < ng; i++)
        for (int j = i; j > 0 && gd[order[j]] < gd[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    // nearest.csv and nearest.png are written under .tmp names and renamed when both are
    // written: a run that fails leaves an earlier run's pair as it was (the csv was
    // overwritten, then the png failed, and the folder held this run's csv beside the last
    // run's png)
    char csv_path[4200], csv_tmp[4200], png_path[4200], png_tmp[4200];
    if (cli_mkdirs(o->out) != 0) {
        fprintf(stderr, "fid: cannot create '%s'\n", o->out);
        goto done;
    }
    snprintf(csv_path, sizeof csv_path, "%s/nearest.csv", o->out);
    snprintf(csv_tmp, sizeof csv_tmp, "%s/nearest.csv.tmp", o->out);
    snprintf(png_path, sizeof png_path, "%s/nearest.png", o->out);
    snprintf(png_tmp, sizeof png_tmp, "%s/nearest.png.tmp", o->out);
    FILE *csv = fopen(csv_tmp, "w");
    if (!csv) {
        fprintf(stderr, "fid: cannot write '%s'\n", csv_tmp);
        goto done;
    }
    fprintf(csv, "generated,nearest_train_features,feature_distance,nearest_train_pixels,pixel_distance\n");
    for (int k = 0; k < ng; k++) {
        int i = order[k];
        cli_csv_field(csv, gen->paths[i]);
        fputc(',', csv);
        cli_csv_field(csv, train.paths[gi[i]]);
        fprintf(csv, ",%.9g,", gd[i]);
        cli_csv_field(csv, train.paths[pi[i]]);
        fprintf(csv, ",%.9g\n", pd[i]);
    }
    const int csv_failed = ferror(csv);
    if (fclose(csv) != 0 || csv_failed) {
        fprintf(stderr, "fid: cannot write '%s'\n", csv_tmp);
        remove(csv_tmp);
        goto done;
    }
    // the closest pairs, two per row: generated | nearest training image (features)
    {
        const int pairs = ng < 16 ? ng : 16, side = 64;
        float *tiles = (float *)malloc((size_t)pairs * 2 * 3 * side * side * sizeof(float));
        unsigned char *grid = NULL;
        int gw, gh;
        io.size = side;
        io.channels = 3;
        int ok = tiles != NULL;
        for (int k = 0; ok && k < pairs; k++) {
            int i = order[k];
            ok = dcgan_image_load(tiles + (size_t)(2 * k) * 3 * side * side, gen->paths[i], &io) == DCGAN_OK &&
                 dcgan_image_load(tiles + (size_t)(2 * k + 1) * 3 * side * side, train.paths[gi[i]], &io) == DCGAN_OK;
        }
        if (!ok || dcgan_grid_make(&grid, &gw, &gh, tiles, 2 * pairs, 3, side, side, 4, 2) != DCGAN_OK ||
            dcgan_png_write(png_tmp, grid, gw, gh, 3) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            free(tiles);
            dcgan_free(grid);
            remove(csv_tmp);
            goto done;
        }
        free(tiles);
        dcgan_free(grid);
    }
    // both files are written: the pair is replaced now, csv first, after checking that
    // neither name is taken by something a file cannot replace (a folder)
    if (nearest_names_taken(o->out)) {   // (checked before the features too; this is the last look)
        remove(csv_tmp);
        remove(png_tmp);
        goto done;
    }
    if (rename(csv_tmp, csv_path) != 0) {
        fprintf(stderr, "fid: cannot rename '%s' to '%s': %s (nearest.csv and nearest.png are left as they "
                        "were)\n", csv_tmp, csv_path, strerror(errno));
        remove(csv_tmp);
        remove(png_tmp);
        goto done;
    }
    if (rename(png_tmp, png_path) != 0) {
        fprintf(stderr, "fid: cannot rename '%s' to '%s': %s (nearest.csv is this run's, nearest.png is not)\n",
                png_tmp, png_path, strerror(errno));
        remove(png_tmp);
        goto done;
    }
    {
        double u, z, med_g, med_r, med_p;
        double *tmp = (double *)malloc((size_t)(ng > nr ? ng : nr) * sizeof(double));
        if (!tmp || dcgan_mann_whitney(&u, &z, gd, ng, rd, nr) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", tmp ? dcgan_last_error() : "no memory");
            free(tmp);
            goto done;
        }
        memcpy(tmp, gd, (size_t)ng * sizeof(double));
        med_g = dcgan_quantile(tmp, ng, 0.5);
        memcpy(tmp, rd, (size_t)nr * sizeof(double));
        med_r = dcgan_quantile(tmp, nr, 0.5);
        memcpy(tmp, pd, (size_t)ng * sizeof(double));
        med_p = dcgan_quantile(tmp, ng, 0.5);
        free(tmp);
        int zero = 0;
        for (int i = 0; i < nr; i++) zero += rd[i] == 0.0;
        printf("nearest: median distance to the nearest training image (features): generated %.6g, held-out "
               "real %.6g; closest generated pair %.6g\n", med_g, med_r, gd[order[0]]);
        printf("nearest: median distance in 32x32 pixels: generated %.6g\n", med_p);
        printf("nearest: data-copying test (Meehan et al. 2020, Mann-Whitney Z_U of generated vs held-out "
               "distances): Z = %.3f\n", z);
        if (zero * 2 > nr)
            printf("nearest: warning: %d of %d images of %s are in the training set; the test needs held-out "
                   "real images\n", zero, nr, "PATH1");
        else if (z < -3.0)
            printf("nearest: Z < -3: generated images sit closer to the training images than held-out real "
                   "ones do: likely copies; look at %s/nearest.png\n", o->out);
        else if (z > 3.0)
            printf("nearest: Z > 3: generated images sit farther from the training images than held-out real "
                   "ones do: no sign of copying (they may underfit)\n");
        else
            printf("nearest: |Z| <= 3: no evidence of copying\n");
        printf("nearest: wrote %s/nearest.csv and %s/nearest.png (closest pairs: generated | training)\n",
               o->out, o->out);
    }
    rc = 0;
done:
    free(gi); free(ri); free(pi); free(gd); free(rd); free(pd); free(gpx); free(tpx); free(one); free(order);
    set_free(&train);
    return rc;
}

// The network a folder's features come from here (cli_source_write's line):
// Inception, or the test weights of --fill-deterministic. (Not the width: one
// network at two --dims is told by the dims check, in its own words.)
static void folder_source(char *buf, size_t cap, const fid_options *o) {
    snprintf(buf, cap, "%s", o->fill ? "inception with --fill-deterministic test weights" : "inception");
}

// What made a path's features: a folder's from folder_source, a .npy's from its
// .source file, a .npz's is not known (pytorch-fid's statistics hold no note).
static int path_source(char *buf, size_t cap, const char *path, const fid_options *o) {
    if (ends_with(path, ".npz")) return 0;
    if (!ends_with(path, ".npy")) {
        folder_source(buf, cap, o);
        return 1;
    }
    return cli_source_read(path, buf, cap);
}

// 1 after the message when both paths' sources are known and differ (up to " (":
// a checkpoint's hash, not the path it was read from): distances between two
// networks' features mean nothing (a helper's audit: KID 1.68 against 0.24).
static int sources_differ(const char *const *paths, const fid_options *o) {
    char a[4200], b[4200];
    if (!path_source(a, sizeof a, paths[0], o) || !path_source(b, sizeof b, paths[1], o)) return 0;
    const size_t na = strcspn(a, "("), nb = strcspn(b, "(");
    if (na == nb && strncmp(a, b, na) == 0) return 0;
    // (a folder is embedded here with Inception: say so - "'DIR' of inception" read as a claim about
    // what DIR holds, a referee - and where the other side is a classifier's, how to embed the folder
    // with it)
    const int folder[2] = {!ends_with(paths[0], ".npy"), !ends_with(paths[1], ".npy")};
    const int classifier = strncmp(folder[0] ? b : a, "classify checkpoint", 19) == 0;
    fprintf(stderr, "fid: '%s' %s %s, '%s' %s %s: distances between two networks' features mean nothing; embed "
                    "both sets with one%s\n", paths[0], folder[0] ? "is an image folder, which fid embeds with" :
                    "holds features of", a, paths[1], folder[1] ? "is an image folder, which fid embeds with" :
                    "holds features of", b, (folder[0] || folder[1]) && classifier ? " (a folder with that "
                    "classifier: classify features --checkpoint FILE DIR OUT.npy)" : "");
    return 1;
}

static int save_one(dcgan_inception *net, int *net_ready, const fid_options *o, const char *src,
                    const char *dst, int stats) {
    if (check_output(dst, stats ? ".npz" : ".npy") != 0) return 1;
    if (ends_with(src, ".npz") || (stats == 0 && ends_with(src, ".npy"))) {
        fprintf(stderr, "fid: '%s' is not an image folder\n", src);
        return 1;
    }
    if (check_input(src) != 0) return 1;
    feature_set s;
    fid_options limited = *o;
    if (!stats) limited.max_images = 65536;   // dcgan_features_save_npy's bound on rows
    if (path_features(net, net_ready, src, &limited, &s) != 0) return 1;
    int rc = 1;
    if (stats) {
        dcgan_fid_stats st;
        if (dcgan_fid_stats_compute(&st, s.f, s.n, o->dims) == DCGAN_OK && dcgan_fid_stats_save_npz(&st, dst) == DCGAN_OK) {
            printf("fid: statistics of %d images (%d dims) saved to %s\n", s.n, o->dims, dst);
            rc = 0;
        } else {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
        }
        dcgan_fid_stats_free(&st);
    } else if (dcgan_features_save_npy(dst, s.f, s.n, o->dims) == DCGAN_OK) {
        printf("fid: features of %d images (%d dims) saved to %s\n", s.n, o->dims, dst);
        char source[64];
        folder_source(source, sizeof source, o);
        cli_source_write("fid", dst, source);
        cli_files_write("fid", dst, s.paths, s.n);   // (the images, for --nearest)
        rc = 0;
    } else {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
    }
    set_free(&s);
    return rc;
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    fid_options o = {2048, DCGAN_INCEPTION_BATCH, 0, 100, 1000, 0, 0, 0, 0, 10, 0, 3, 1, NULL, NULL, "nearest", NULL, 0};
    int kid_size_given = 0;   // (the KID note names the default as such)
    const char *save_weights = NULL, *paths[2] = {NULL, NULL};
    const char *device = CLI_DEFAULT_DEVICE;
    int n_paths = 0, save_stats = 0, save_features = 0, dims_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(argv[0]); return 0; }
        else if (cli_switch(argv, i, "--kid")) o.kid = 1;
        else if (cli_switch(argv, i, "--floor")) o.floor = 1;
        else if (cli_switch(argv, i, "--prdc")) o.prdc = 1;
        else if (cli_switch(argv, i, "--fill-deterministic")) o.fill = 1;
        else if (cli_switch(argv, i, "--save-stats")) save_stats = 1;
        else if (cli_switch(argv, i, "--save-features")) save_features = 1;
        else if (cli_flag(argc, argv, &i, "--dims")) { o.dims = cli_int_as_int("fid", a, argv[i]); dims_given = 1; }
        else if (cli_flag(argc, argv, &i, "--batch-size")) o.batch = (int)cli_int_range("fid", a, argv[i], 1, INT_MAX);
        else if (cli_flag(argc, argv, &i, "--weights")) o.weights = argv[i];
        else if (cli_flag(argc, argv, &i, "--kid-subsets")) o.kid_subsets = cli_int_as_int("fid", a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--kid-subset-size")) {
            o.kid_size = cli_int_as_int("fid", a, argv[i]);
            kid_size_given = 1;
        }
        else if (cli_flag(argc, argv, &i, "--bootstrap")) o.bootstrap = cli_int_as_int("fid", a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--floor-repeats")) o.floor_repeats = cli_int_as_int("fid", a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--prdc-k")) o.prdc_k = cli_int_as_int("fid", a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--nearest")) o.nearest = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) o.out = argv[i];
        else if (cli_flag(argc, argv, &i, "--threads")) o.threads = (int)cli_int_range("fid", a, argv[i], 0, 4096);   // (100000: SIGSEGV in OpenMP)
        else if (cli_flag(argc, argv, &i, "--device")) device = argv[i];
        else if (cli_flag(argc, argv, &i, "--seed")) o.seed = cli_int("fid", a, argv[i]);
        // pytorch-fid's data-loader processes: accepted so that its command lines run here
        // (images are decoded on --threads), checked, not used
        else if (cli_flag(argc, argv, &i, "--num-workers")) (void)cli_int_range("fid", a, argv[i], 0, INT_MAX);
        else if (cli_flag(argc, argv, &i, "--save-weights")) save_weights = argv[i];
        else if (a[0] == '-' && a[1] == '-') { fprintf(stderr, "fid: unknown flag '%s' (see --help)\n", a); return 2; }
        else if (n_paths < 2) paths[n_paths++] = a;
        else { fprintf(stderr, "fid: too many paths (see --help)\n"); return 2; }
    }
    // two files (.npy features, .npz statistics) need no network: their vectors may come from any,
    // and without --dims dims is the first file's, as pytorch-fid takes two .npz whatever their
    // dims (two 768-dim .npz were refused: "--dims is 2048")
    // (feature files only, --nearest's TRAIN too: the first file's width is --dims)
    const int files_only = n_paths == 2 && !save_stats && !save_features && !save_weights &&
                           (!o.nearest || ends_with(o.nearest, ".npy")) &&
                           (ends_with(paths[0], ".npy") || ends_with(paths[0], ".npz")) &&
                           (ends_with(paths[1], ".npy") || ends_with(paths[1], ".npz"));
    if (files_only && !dims_given) {
        o.dims_from = paths[0];
        if (ends_with(paths[0], ".npy")) {
            double *f = NULL;
            int64_t n;
            if (dcgan_features_load_npy(&f, &n, &o.dims, paths[0]) != DCGAN_OK) {
                fprintf(stderr, "fid: %s\n", dcgan_last_error());
                return 1;
            }
            dcgan_free(f);
        } else {
            dcgan_fid_stats st;
            if (dcgan_fid_stats_load_npz(&st, paths[0]) != DCGAN_OK) {
                fprintf(stderr, "fid: %s\n", dcgan_last_error());
                return 1;
            }
            o.dims = st.dims;
            dcgan_fid_stats_free(&st);
        }
    }
    if (!files_only && o.dims != 64 && o.dims != 192 && o.dims != 768 && o.dims != 2048) {
        fprintf(stderr, "fid: --dims must be 64, 192, 768 or 2048\n");
        return 2;
    }
    // each flag named with the value given (one line listed all four: a referee)
    const char *bad = NULL, *want = NULL;
    int given = 0;
    if (o.bootstrap < 0 || o.bootstrap == 1) bad = "--bootstrap", want = "0 (none) or 2 or more", given = o.bootstrap;
    else if (o.floor_repeats < 1) bad = "--floor-repeats", want = "1 or more", given = o.floor_repeats;
    else if (o.prdc_k < 1 || o.prdc_k > 64) bad = "--prdc-k", want = "1 to 64", given = o.prdc_k;
    else if (o.kid_subsets < 1) bad = "--kid-subsets", want = "1 or more", given = o.kid_subsets;
    else if (o.kid_size < 2) bad = "--kid-subset-size", want = "2 or more", given = o.kid_size;   // (-5 was taken)
    if (bad) {
        fprintf(stderr, "fid: %s wants %s, got %d\n", bad, want, given);
        return 2;
    }
    // the device before the minutes of features (a typo, or a CUDA build's missing GPU, was found
    // only after them)
    const int gpu = cli_device("fid", device);
    if (gpu < 0) return 2;
    // (a file was found only after the features; without --nearest nothing is written there, and a
    // file called 'nearest' in the working folder made every run fail)
    if (o.nearest && cli_out_folder("fid", o.out) != 0) return 2;
    if (o.nearest && nearest_names_taken(o.out)) return 1;
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
    int net_ready = 0;
    memset(&net, 0, sizeof net);
    if (save_stats || save_features) {
        int rc = save_one(&net, &net_ready, &o, paths[0], paths[1], save_stats);
        dcgan_inception_free(&net);
        return rc;
    }
    for (int k = 0; k < 2; k++)
        if (check_input(paths[k]) != 0) return 1;
    if (sources_differ(paths, &o)) return 1;
    if (o.nearest) {   // (a file that cannot serve was refused after every set's features)
        const char *const pair[2] = {paths[1], o.nearest};
        const char *stats = ends_with(o.nearest, ".npz") ? o.nearest : ends_with(paths[1], ".npz") ? paths[1] : NULL;
        if (stats) {
            fprintf(stderr, "fid: --nearest needs the images of PATH2 and TRAIN (their pixels and file names): "
                            "give their folders, or .npy files of features with their lists; '%s' holds only "
                            "statistics\n", stats);
            return 1;
        }
        if (check_input(o.nearest) != 0 || sources_differ(pair, &o)) return 1;
        for (int k = 0; k < 2; k++)   // a .npy's list of images, looked for now rather than after the features
            if (ends_with(pair[k], ".npy") && cli_files_missing("fid", pair[k])) return 1;
    }
    const int need_features = o.kid || o.bootstrap || o.floor || o.prdc || o.nearest;
    for (int k = 0; k < 2; k++)
        if (need_features && ends_with(paths[k], ".npz")) {
            fprintf(stderr, "fid: %s needs feature vectors, and '%s' holds only statistics; give the image "
                            "folder or a .npy from --save-features\n",
                    o.kid ? "--kid" : o.bootstrap ? "--bootstrap" : o.floor ? "--floor" : o.prdc ? "--prdc" : "--nearest",
                    paths[k]);
            return 1;
        }
    dcgan_fid_stats s[2];
    feature_set fs[2];
    int counts[2] = {0, 0}, rc = 1;
    memset(s, 0, sizeof s);
    memset(fs, 0, sizeof fs);
    for (int k = 0; k < 2; k++) {
        if (ends_with(paths[k], ".npz")) {
            if (dcgan_fid_stats_load_npz(&s[k], paths[k]) != DCGAN_OK) {
                fprintf(stderr, "fid: %s\n", dcgan_last_error());
                goto done;
            }
            if (s[k].dims != o.dims) {
                if (o.dims_from)   // (no --dims: name the first file, as for .npy)
                    fprintf(stderr, "fid: '%s' holds %d-dim statistics, '%s' %d-dim ones\n", paths[k], s[k].dims,
                            o.dims_from, o.dims);
                else
                    fprintf(stderr, "fid: '%s' holds %d-dim statistics, --dims is %d\n", paths[k], s[k].dims, o.dims);
                goto done;
            }
            continue;
        }
        if (path_features(&net, &net_ready, paths[k], &o, &fs[k]) != 0) goto done;
        counts[k] = fs[k].n;
        if (dcgan_fid_stats_compute(&s[k], fs[k].f, fs[k].n, o.dims) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            goto done;
        }
    }
    // sizes the extra statistics need, before any of them runs
    if (o.floor && counts[0] < 2 * counts[1]) {
        fprintf(stderr, "fid: --floor needs two disjoint halves of %s with %d images each (as many as %s): "
                        "%d images, it has %d\n", paths[0], counts[1], paths[1], 2 * counts[1], counts[0]);
        goto done;
    }
    if (o.prdc && (counts[0] <= o.prdc_k || counts[1] <= o.prdc_k)) {
        fprintf(stderr, "fid: --prdc with k = %d needs more than %d images in each set (%d and %d)\n", o.prdc_k,
                o.prdc_k, counts[0], counts[1]);
        goto done;
    }
    double fid;
    int r1 = -1, r2 = -1;
    dcgan_status fst = DCGAN_ERR_SHAPE;
#ifdef DCGAN_CUDA
    if (gpu) fst = dcgan_frechet_distance_cuda(&fid, &s[0], &s[1]);   // ranks: CPU only
#endif
    if (!gpu) fst = dcgan_frechet_distance(&fid, &s[0], &s[1], &r1, &r2);
    if (fst != DCGAN_OK) {
        fprintf(stderr, "fid: %s\n", dcgan_last_error());
        goto done;
    }
    printf("FID:  %.10g\n", fid);
    const int ranks[2] = {r1, r2};
    for (int k = 0; k < 2; k++) {
        // an .npz holds mu and sigma only (pytorch-fid's format): its count is unknown ("0 images" was printed)
        char images[64];
        if (counts[k]) snprintf(images, sizeof images, "%d images", counts[k]);
        else snprintf(images, sizeof images, "statistics (its image count is not stored)");
        if (ranks[k] >= 0)
            printf("  %s: %s, covariance rank %d of %d\n", paths[k], images, ranks[k], o.dims);
        else
            printf("  %s: %s, %d dims\n", paths[k], images, o.dims);
        if (counts[k] && counts[k] <= o.dims)
            printf("  warning: %d images <= %d dims: the covariance is rank-deficient and FID is biased "
                   "upwards; compare only at equal N, or use --kid (unbiased)\n", counts[k], o.dims);
    }
    const double *f1 = fs[0].f, *f2 = fs[1].f;
    const int c1 = counts[0], c2 = counts[1];
    dcgan_rng rng;
    if (o.kid) {
        double mean, sd;
        dcgan_rng_seed(&rng, (uint64_t)o.seed);
        if (dcgan_kid(&mean, &sd, f1, c1, f2, c2, o.dims, o.kid_subsets, o.kid_size, &rng) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            goto done;
        }
        const int smaller = c1 < c2 ? c1 : c2, size = smaller < o.kid_size ? smaller : o.kid_size;
        if (o.kid_size > smaller)   // (the library takes min(n1, n2, size); said, not done in silence)
            fprintf(stderr, "fid: note: --kid-subset-size %d%s is more than the smaller set's %d: subsets of %d\n",
                    o.kid_size, kid_size_given ? "" : " (the default)", smaller, size);
        if (size == c1 && size == c2)   // every subset is both sets whole: the +- would read 0 (1e-14)
            printf("KID:  %.6g (%d subset%s of %d: each holds both sets whole, so no spread; --bootstrap for an "
                   "interval)\n", mean, o.kid_subsets, o.kid_subsets == 1 ? "" : "s", size);
        else
            printf("KID:  %.6g +- %.6g (%d subset%s of %d)\n", mean, sd, o.kid_subsets,
                   o.kid_subsets == 1 ? "" : "s", size);
    }
    if (o.bootstrap) {
        double *v = (double *)malloc((size_t)o.bootstrap * sizeof(double));
        cli_progress bar;
        if (!v) {
            fprintf(stderr, "fid: no memory for --bootstrap %d\n", o.bootstrap);
            goto done;
        }
        for (int which = 0; which < 1 + o.kid; which++) {
            dcgan_rng_seed(&rng, (uint64_t)o.seed);
            cli_progress_start(&bar, which ? "bootstrap KID" : "bootstrap FID", o.bootstrap);
            dcgan_status bs = which ? dcgan_kid_bootstrap(v, o.bootstrap, f1, c1, f2, c2, o.dims, &rng, on_progress, &bar)
                                    : dcgan_fid_bootstrap(v, o.bootstrap, f1, c1, f2, c2, o.dims, &rng, on_progress, &bar);
            if (bs != DCGAN_OK) {
                fprintf(stderr, "fid: %s\n", dcgan_last_error());
                free(v);
                goto done;
            }
            int used = 0;   // KID is NaN for a resample that drew one vector only (tiny sets): left out
            for (int b = 0; b < o.bootstrap; b++)
                if (!isnan(v[b])) v[used++] = v[b];
            if (used < 2) {   // (it printed "KID 95% interval: [nan, nan]" with status 0)
                fprintf(stderr, "fid: --bootstrap: %d of %d %s resamples drew a single vector of a set (%d and %d "
                                "vectors); too few are left for an interval: give larger sets or a larger "
                                "--bootstrap\n", o.bootstrap - used, o.bootstrap, which ? "KID" : "FID", c1, c2);
                free(v);
                goto done;
            }
            char left_out[80] = "";
            if (used < o.bootstrap)
                snprintf(left_out, sizeof left_out, ", %d left out (a set drawn as one vector)", o.bootstrap - used);
            double lo = dcgan_quantile(v, used, 0.025), hi = dcgan_quantile(v, used, 0.975);
            printf("%s 95%% interval: [%.6g, %.6g] (percentile bootstrap, %d resamples of each set%s, seed %ld%s)\n",
                   which ? "KID" : "FID", lo, hi, o.bootstrap, left_out, o.seed, which ? "; KID of the whole sets" : "");
        }
        free(v);
    }
    if (o.floor) {
        double *v = (double *)malloc((size_t)o.floor_repeats * sizeof(double));
        cli_progress bar;
        if (!v) {
            fprintf(stderr, "fid: no memory for --floor-repeats %d\n", o.floor_repeats);
            goto done;
        }
        dcgan_rng_seed(&rng, (uint64_t)o.seed);
        cli_progress_start(&bar, "floor", o.floor_repeats);
        if (dcgan_fid_floor(v, o.floor_repeats, f1, c1, c2, o.dims, &rng, on_progress, &bar) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            free(v);
            goto done;
        }
        double sum = 0.0;
        for (int r = 0; r < o.floor_repeats; r++) sum += v[r];
        const double mean = sum / o.floor_repeats, lo = dcgan_quantile(v, o.floor_repeats, 0.0),
                     hi = dcgan_quantile(v, o.floor_repeats, 1.0);
        printf("floor: FID between two disjoint halves of %s, %d images each: mean %.6g, range [%.6g, %.6g] "
               "over %d splits\n", paths[0], c2, mean, lo, hi, o.floor_repeats);
        printf("floor: this FID is %.3g x the floor's mean; %s\n", mean > 0 ? fid / mean : INFINITY,
               // (below the range it said "within the floor's range"; a set as good as the real one
               // lands there, as its FID is against all of PATH1, the floor's against halves)
               fid < lo ? "below the floor's range: indistinguishable from real at this size"
               : fid <= hi ? "within the floor's range: indistinguishable from real at this size"
                           : "above the floor's range: distinguishable from real at this size");
        free(v);
    }
    if (o.prdc) {
        dcgan_prdc p;
        if (dcgan_prdc_compute(&p, f1, c1, f2, c2, o.dims, o.prdc_k) != DCGAN_OK) {
            fprintf(stderr, "fid: %s\n", dcgan_last_error());
            goto done;
        }
        printf("precision: %.4f  recall: %.4f  density: %.4f  coverage: %.4f  (k = %d; real %s, generated %s)\n",
               p.precision, p.recall, p.density, p.coverage, o.prdc_k, paths[0], paths[1]);
    }
    if (o.nearest && nearest_report(&o, &fs[0], &fs[1], paths[1], &net, &net_ready) != 0) goto done;
    rc = 0;
done:
    set_free(&fs[0]);
    set_free(&fs[1]);
    dcgan_fid_stats_free(&s[0]);
    dcgan_fid_stats_free(&s[1]);
    dcgan_inception_free(&net);
    return rc;
}
