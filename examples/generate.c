// generate.c - turns a training checkpoint into synthetic images for data
// augmentation: N PNG files, 8-bit gray or RGB as trained, pixel = (x + 1) *
// 127.5 clamped to [0, 255] (never a per-image min-max stretch), zero-padded
// names (fake_00001.png ...), ready to sit next to the real training images.
// A folder that already holds images (of any name and image type) this run would
// not replace is refused: two runs' images, or generated and real ones, would mix
// in one set. One that holds images of this run's names is refused too, unless
// --replace says to replace them, all of them or none: the images are written into
// a hidden folder (OUT/.generate-PID) and moved into place only when every one is
// there.
// Ctrl-C or SIGTERM stops the run and removes that folder (a second one stops at
// once); a folder left by a run killed outright is named at the next run.
//
// Build: make
// Run:   build/generate --checkpoint out/train/checkpoint.safetensors --count 1000
//                       --out synthetic/NORMAL --seed 1
// Prints the model it loaded and a progress bar.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"
#include <limits.h>
#include <signal.h>

#define MAX_COUNT 100000000   // --count: images in one run
#define MAX_OUT 4000          // --out: characters
#define MAX_PREFIX 200        // --prefix: characters
#define MAX_OUT_PREFIX 4000   // --out and --prefix together: OUT/.generate-PID/PREFIXNNNNN.png.tmp
                              // must stay under the 4096 bytes of a path

static void usage(const char *prog) {
    printf("usage: %s --checkpoint FILE [flags]\n"
           "  --checkpoint FILE   a checkpoint written by train          (required)\n"
           "  --count N           images to write, 1 to 100,000,000       (64)\n"
           "  --out DIR           output folder, at most 4000 characters (out/generated)\n"
           "                      (with --prefix: at most 4000 together)\n"
           "  --seed S            noise seed                             (1)\n"
           "  --batch B           images generated at once, 2 or more (at most\n"
           "                      --count of them are used)                (16)\n"
           "  --prefix P          file name prefix, at most 200 characters, no '/',\n"
           "                      not starting with '.'                  (fake_)\n"
           "  --device D          cpu | cuda | auto                      (" CLI_DEFAULT_DEVICE ")\n"
           "  --threads N         threads (OpenMP builds); 0 = all cores   (0)\n"
           "  --replace           replace the images of an earlier run with this run's names\n"
           "                      (without it, a folder holding one of them is refused)\n"
           "  --save-raw FILE     also write the noise and the float images (before 8-bit\n"
           "                      rounding) to FILE as safetensors 'noise' (N, Z) and\n"
           "                      'images' (N, C, H, W), e.g. to compare with PyTorch;\n"
           "                      a new file in a folder that exists (never overwritten)\n", prog);
}

// The refusal of a checkpoint gan_config_load cannot read. A folder (the run's
// --out given for its checkpoint) is said as such: the reader would try to
// allocate a "file" of 2^63 bytes. A classifier's checkpoint (classify train's)
// is named as one: the library can only say that its format is another.
static void checkpoint_refusal(const char *path) {
    char message[512];   // (the library's messages fit 512 bytes)
    snprintf(message, sizeof message, "%s", dcgan_last_error());   // (the reads below overwrite it)
    struct stat sb;
    dcgan_safetensors st;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "generate: --checkpoint '%s' is a folder; give the checkpoint file in it "
                        "(train writes checkpoint.safetensors)\n", path);
        return;
    }
    if (dcgan_safetensors_read(&st, path) == DCGAN_OK) {
        const char *format = dcgan_safetensors_meta(&st, "format"), *kind = dcgan_safetensors_meta(&st, "kind");
        const int classifier = format && strcmp(format, "dcgan.h model") == 0 && kind &&
                               strcmp(kind, "classifier") == 0;
        dcgan_safetensors_free(&st);
        if (classifier) {
            fprintf(stderr, "generate: '%s' is a classifier checkpoint (from classify train), not a GAN "
                            "checkpoint (from train)\n", path);
            return;
        }
    }
    fprintf(stderr, "generate: %s\n", message);
}

// --save-raw names a new file in a folder that exists: 0, or -1 after the
// message. Checked before anything is read or written: an existing file was
// overwritten (the checkpoint itself, given by mistake, was lost), and a
// missing folder failed only after every image was written.
static int raw_path_check(const char *raw) {
    struct stat sb;
    char folder[MAX_OUT + 1];
    const char *slash = strrchr(raw, '/');
    if (strlen(raw) > MAX_OUT) {
        fprintf(stderr, "generate: --save-raw is %zu characters long; at most %d\n", strlen(raw), MAX_OUT);
        return -1;
    }
    if (stat(raw, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) fprintf(stderr, "generate: --save-raw '%s' is a folder; give a file name\n", raw);
        else fprintf(stderr, "generate: --save-raw '%s' exists; generate does not overwrite it: give a new "
                             "name or delete it\n", raw);
        return -1;
    }
    // its folder: what comes before the last '/' ("/" at the root, "." without one)
    if (!slash) snprintf(folder, sizeof folder, ".");
    else if (slash == raw) snprintf(folder, sizeof folder, "/");
    else snprintf(folder, sizeof folder, "%.*s", (int)(slash - raw), raw);
    if (stat(folder, &sb) != 0) {
        fprintf(stderr, "generate: --save-raw '%s': '%s' does not exist\n", raw, folder);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "generate: --save-raw '%s': '%s' is a file, not a folder\n", raw, folder);
        return -1;
    }
    return 0;
}

// The path of image number i (1-based) in folder: PREFIX and i zero-padded to digits.
#define PATH_CAP (MAX_OUT + MAX_PREFIX + 64)
static void image_path(char *path, const char *folder, const char *prefix, int digits, long i) {
    char number[32];
    snprintf(number, sizeof number, "%0*ld", digits > 20 ? 20 : digits, i);
    snprintf(path, PATH_CAP, "%s/%s%s.png", folder, prefix, number);
}

// One pass over out's entries (not a look-up per image): of the names this run
// gives its images, the first there that is a folder (in the folder's order) into
// folder, and the first by name that is not (an earlier run's image) into first;
// "" where there is none.
static void our_names_in(const char *out, const char *prefix, int digits, long count, char *folder, char *first,
                         size_t cap) {
    DIR *d = opendir(out);
    struct dirent *e;
    const size_t lp = strlen(prefix);
    folder[0] = first[0] = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, lp) != 0) continue;
        const long v = strtol(e->d_name + lp, NULL, 10);
        char path[PATH_CAP];
        struct stat sb;
        image_path(path, out, prefix, digits, v);
        if (v < 1 || v > count || strcmp(strrchr(path, '/') + 1, e->d_name) != 0) continue;   // not one of ours
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (!folder[0]) snprintf(folder, cap, "%s", path);
        } else if (!first[0] || strcmp(e->d_name, first) < 0) {
            snprintf(first, cap, "%s", e->d_name);
        }
    }
    if (d) closedir(d);
}

// 1 after the message when one of the names this run gives its images in out
// is a folder (a rename onto it would fail half-way through moving them in),
// else 0; *first as our_names_in gives it.
static int image_name_taken(const char *out, const char *prefix, int digits, long count, char *first,
                            size_t cap) {
    char folder[PATH_CAP];
    our_names_in(out, prefix, digits, count, folder, first, cap < sizeof folder ? cap : sizeof folder);
    if (folder[0]) fprintf(stderr, "generate: '%s' is a folder; no image of this run was put in '%s'\n", folder, out);
    return folder[0] != 0;
}

// 1 after the message when out holds images this run would not replace (two
// runs' images would mix, or generated and real ones; in its sub-folders too), a
// folder named like one of its images, or (without --replace) images of its
// names, else 0.
static int images_in_the_way(const char *out, const char *prefix, int digits, long count, int replace) {
    char stale[300], earlier[PATH_CAP];
    if (cli_stale_image(stale, sizeof stale, out, prefix, 1, count, digits)) {
        fprintf(stderr, "generate: '%s' holds %s, which this run (--count %ld) would not replace: two runs' "
                        "images would mix; give another --out or delete the old images\n", out, stale, count);
        return 1;
    }
    if (image_name_taken(out, prefix, digits, count, earlier, sizeof earlier)) return 1;
    // train and classify read sub-folders too: images there would join this run's
    char **paths = NULL;
    int n = 0;
    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode) && dcgan_list_images(&paths, &n, out) == DCGAN_OK) {
        const size_t lo = strlen(out);
        int below = -1;
        for (int i = 0; i < n && below < 0; i++)
            if (strncmp(paths[i], out, lo) == 0 && strchr(paths[i] + lo + 1, '/')) below = i;
        if (below >= 0)
            fprintf(stderr, "generate: '%s' holds images in its sub-folders ('%s'), which train and classify read "
                            "with it: two runs' images would mix; give another --out\n", out, paths[below]);
        dcgan_paths_free(paths, n);
        if (below >= 0) return 1;
    }
    if (!replace && earlier[0]) {
        fprintf(stderr, "generate: '%s' holds %s of an earlier run; give --replace to replace its images (all "
                        "of them or none), or another --out\n", out, earlier);
        return 1;
    }
    return 0;
}

// Ctrl-C or SIGTERM: the run stops after the image in progress and removes its
// hidden folder; a second signal stops at once (the default action).
static volatile sig_atomic_t stop_signal = 0;
static void on_stop(int sig) {
    stop_signal = sig;
    signal(sig, SIG_DFL);
}

// Names (on stderr) the hidden folders in out that earlier runs left when they
// were killed outright: their images never reached out, and they can be deleted.
static void name_leftovers(const char *out) {
    DIR *d = opendir(out);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".generate-", 10) == 0)
            fprintf(stderr, "generate: note: '%s/%s' was left by a run that was killed; its images never "
                            "reached '%s' (delete that folder)\n", out, e->d_name, out);
    if (d) closedir(d);
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    const char *checkpoint = NULL, *out = "out/generated", *prefix = "fake_", *raw = NULL;
    const char *device = CLI_DEFAULT_DEVICE;
    int digits = 5, replace = 0;
    long count = 64, seed = 1, batch = 16, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(argv[0]); return 0; }
        else if (cli_flag(argc, argv, &i, "--checkpoint")) checkpoint = argv[i];
        else if (cli_flag(argc, argv, &i, "--count")) count = cli_int_range("generate", a, argv[i], 1, MAX_COUNT);
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int_range("generate", a, argv[i], 0, LONG_MAX);
        else if (cli_flag(argc, argv, &i, "--batch")) batch = cli_int_range("generate", a, argv[i], 2, 1000000);
        else if (cli_flag(argc, argv, &i, "--prefix")) prefix = argv[i];
        else if (cli_flag(argc, argv, &i, "--device")) device = argv[i];
        else if (cli_flag(argc, argv, &i, "--save-raw")) raw = argv[i];
        else if (cli_switch(argv, i, "--replace")) replace = 1;
        else if (cli_flag(argc, argv, &i, "--threads")) threads = cli_int_range("generate", a, argv[i], 0, 4096);
        else { fprintf(stderr, "generate: unknown flag '%s' (see --help)\n", a); return 2; }
    }
    if (!checkpoint) {
        fprintf(stderr, "generate: need --checkpoint FILE (see --help)\n");
        return 2;
    }
    if (strlen(out) > MAX_OUT || strlen(prefix) > MAX_PREFIX) {
        const int is_out = strlen(out) > MAX_OUT;
        fprintf(stderr, "generate: %s is %zu characters long; at most %d\n", is_out ? "--out" : "--prefix",
                strlen(is_out ? out : prefix), is_out ? MAX_OUT : MAX_PREFIX);
        return 2;
    }
    // a '/' put the images outside --out (where the check for an earlier run's images
    // did not look); a leading '.' made hidden files, which every image loader skips
    if (strchr(prefix, '/') || prefix[0] == '.') {
        fprintf(stderr, "generate: --prefix '%s' %s; give a plain file name prefix\n", prefix,
                strchr(prefix, '/') ? "holds a '/'" : "starts with '.' (hidden files, which image loaders skip)");
        return 2;
    }
    if (strlen(out) + strlen(prefix) > MAX_OUT_PREFIX) {
        fprintf(stderr, "generate: --out and --prefix are %zu characters together; at most %d\n",
                strlen(out) + strlen(prefix), MAX_OUT_PREFIX);
        return 2;
    }
    // the device word, --out and --save-raw before the checkpoint is read
    if (cli_device_word("generate", device) != 0 || cli_out_folder("generate", out) != 0 ||
        (raw && raw_path_check(raw) != 0))
        return 2;
    // the model's batch: no more than the images asked for (at least 2, what the model needs)
    if (batch > count) batch = count < 2 ? 2 : count;
    dcgan_gan_config cfg;
    dcgan_gan gan;
    if (dcgan_gan_config_load(&cfg, checkpoint) != DCGAN_OK) {
        checkpoint_refusal(checkpoint);
        return 1;
    }
    cfg.batch = (int)batch;   // memory for generation only; the weights do not depend on it
    dcgan_set_threads((int)threads);   // 0: $DCGAN_THREADS, else $OMP_NUM_THREADS (at most 4096), else all cores
    if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK || dcgan_gan_load(&gan, checkpoint) != DCGAN_OK) {
        fprintf(stderr, "generate: %s\n", dcgan_last_error());
        dcgan_gan_free(&gan);
        return 1;
    }
    int gpu = cli_device("generate", device);
#ifdef DCGAN_CUDA
    if (gpu > 0 && dcgan_gan_to_cuda(&gan) != DCGAN_OK) {
        fprintf(stderr, "generate: %s\n", dcgan_last_error());
        gpu = -1;
    }
#endif
    if (gpu < 0) {
        dcgan_gan_free(&gan);
        return 1;
    }
    for (long c = count; c >= 100000; c /= 10) digits++;
    if (images_in_the_way(out, prefix, digits, count, replace)) {   // (before any image is made)
        dcgan_gan_free(&gan);
        return 1;
    }
    printf("generate: %s model %dx%dx%d (iteration %lld) -> %ld images in %s, seed %ld%s\n",
           dcgan_arch_name(cfg.arch), cfg.size, cfg.size, cfg.channels, (long long)gan.iteration,
           count, out, seed, gan.cfg.ema_kimg > 0.0f ? "; the averaged G" : "");
    fflush(stdout);   // (before the progress bar and any message on stderr)
    const size_t image = (size_t)cfg.channels * cfg.size * cfg.size;
    // with --save-raw every batch is kept; otherwise one batch is reused
    const size_t keep = raw ? (size_t)count : (size_t)batch;
    float *all_noise = (float *)malloc(keep * cfg.latent * sizeof(float));
    float *all_images = (float *)malloc(keep * image * sizeof(float));
    unsigned char *pixels = (unsigned char *)malloc(image);
    if (!all_noise || !all_images || !pixels) {   // (before the folder is made: nothing left behind)
        fprintf(stderr, "generate: no memory for %zu images of %zu floats%s\n", keep, image,
                raw ? " (--save-raw keeps every image in memory)" : "");
        free(all_noise);
        free(all_images);
        free(pixels);
        dcgan_gan_free(&gan);
        return 1;
    }
    // The images go to a hidden folder inside --out and are moved into place only
    // when every one of them (and --save-raw) is written: a run that fails part-way
    // (a full disk) leaves the folder as it was, never this run's first images
    // beside the rest of an earlier run's. (Image loaders skip hidden folders; a run
    // killed outright leaves OUT/.generate-PID behind: named at the next run.)
    char stage[MAX_OUT + 32], made[MAX_OUT + 1];
    cli_missing_part(out, made, sizeof made);   // (a run that fails removes the folders it made)
    const char *not_made = cli_mkdirs(out) != 0 ? out : NULL;
    // One generate at a time in a folder: a second run, with another --count, passed
    // the check above before the first had put its images in place, and the two mixed.
    // The lock (on the folder, released when the process ends) is taken, then the
    // check is made again. Where the file system has no locks, the run goes on without.
    int out_fd = not_made ? -1 : cli_lock_folder(out);
    int refused = out_fd == -2;
    if (refused) fprintf(stderr, "generate: another generate is writing into '%s'; wait for it to finish\n", out);
    if (!not_made && !refused) refused = images_in_the_way(out, prefix, digits, count, replace);
    if (!not_made && !refused) {
        name_leftovers(out);   // (under the lock: another run's stage is not one)
        // the process id, and a number after it where a killed run left that name
        // (process ids repeat, in a container every time)
        for (int k = 1; !not_made; k++) {
            if (k == 1) snprintf(stage, sizeof stage, "%s/.generate-%ld", out, (long)getpid());
            else snprintf(stage, sizeof stage, "%s/.generate-%ld-%d", out, (long)getpid(), k);
            if (mkdir(stage, 0777) == 0) break;
            if (errno != EEXIST || k == 100) not_made = stage;
        }
    }
    if (not_made || refused) {
        if (not_made) fprintf(stderr, "generate: cannot create '%s': %s\n", not_made, strerror(errno));
        cli_unmake(out, made);
        if (out_fd >= 0) close(out_fd);
        free(all_noise);
        free(all_images);
        free(pixels);
        dcgan_gan_free(&gan);
        return 1;
    }
    dcgan_rng rng;
    dcgan_rng_seed(&rng, (uint64_t)seed);
    cli_progress prog;
    cli_progress_start(&prog, "generate", count);
    int rc = 0, raw_written = 0;
    long done = 0;   // images written into stage
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    while (done < count && rc == 0) {
        int nb = (int)(count - done < batch ? count - done : batch);
        float *noise = all_noise + (raw ? (size_t)done * cfg.latent : 0);
        float *images = all_images + (raw ? (size_t)done * image : 0);
        dcgan_rng_fill_normal(&rng, noise, (size_t)nb * cfg.latent, 0.0f, 1.0f);
        if (dcgan_gan_generate(&gan, images, noise, nb) != DCGAN_OK) {
            fprintf(stderr, "generate: %s\n", dcgan_last_error());
            rc = 1;
            break;
        }
        for (int k = 0; k < nb; k++) {
            char path[PATH_CAP];
            dcgan_image_to_u8(pixels, images + (size_t)k * image, cfg.channels, cfg.size, cfg.size);
            image_path(path, stage, prefix, digits, done + 1);
            if (dcgan_png_write(path, pixels, cfg.size, cfg.size, cfg.channels) != DCGAN_OK) {
                fprintf(stderr, "generate: %s\n", dcgan_last_error());
                rc = 1;
                break;
            }
            done++;
            if (stop_signal) {
                fprintf(stderr, "\ngenerate: stopped after %ld of %ld images; none of them was put in '%s'\n",
                        done, count, out);
                rc = 128 + stop_signal;
                break;
            }
        }
        cli_progress_update(&prog, done, NULL);
    }
    if (rc == 0 && raw) {
        dcgan_st_write_tensor t[2] = {{"noise", all_noise, 2, {count, cfg.latent}},
                                      {"images", all_images, 4, {count, cfg.channels, cfg.size, cfg.size}}};
        if (dcgan_safetensors_write(raw, t, 2, NULL, NULL, 0) != DCGAN_OK) {
            fprintf(stderr, "generate: %s\n", dcgan_last_error());
            rc = 1;
        } else {
            raw_written = 1;
        }
    }
    // every image written: into place, after checking again that no name is taken
    // by a folder (one made while this run generated)
    char ignored[PATH_CAP];
    if (rc == 0 && image_name_taken(out, prefix, digits, count, ignored, sizeof ignored)) rc = 1;
    for (long i = 1; rc == 0 && i <= count; i++) {
        char from[PATH_CAP], to[PATH_CAP];
        image_path(from, stage, prefix, digits, i);
        image_path(to, out, prefix, digits, i);
        if (rename(from, to) != 0) {
            fprintf(stderr, "generate: cannot move '%s' to '%s': %s (images 1 to %ld of this run are in "
                            "place)\n", from, to, strerror(errno), i - 1);
            rc = 1;
        }
    }
    if (rc != 0) {   // what this run wrote goes; what was there stays
        if (raw_written) remove(raw);   // (a new file: checked before the checkpoint was read)
        for (long i = 1; i <= done; i++) {
            char path[PATH_CAP];
            image_path(path, stage, prefix, digits, i);
            remove(path);
        }
    }
    rmdir(stage);
    if (rc != 0) cli_unmake(out, made);   // --out, when this run made it and it is empty
    if (out_fd >= 0) close(out_fd);       // (and the lock with it)
    if (rc == 0 && raw) printf("generate: noise and float images in %s\n", raw);
    if (rc == 0) printf("generate: %ld images in %s\n", count, out);
    free(all_noise);
    free(all_images);
    free(pixels);
    dcgan_gan_free(&gan);
    return rc;
}
