// train.c - trains the chest X-ray study's DCGAN on a folder of images.
//
// Build: make            Run: build/train --data chest_xray/train --class NORMAL --out runs/normal
// The defaults are the study's (seed architecture, 128x128x3, batch 128, 500
// epochs, D lr 2e-5, G lr 1e-4, beta1 0.5). `make demo` runs a small version on
// the built-in phantom X-rays. It prints the resolved configuration, a progress
// bar (plain lines when not on a terminal) and, in --out, leaves:
//   log.csv                  one row per iteration: losses, accuracies, seconds,
//                            the augmentation's p and ADA's r_t
//   samples_epoch_NNNN.png   real images (left) beside generated ones (right),
//                            from a fixed noise batch
//   losses.png accuracy.png  the curves so far (augment.png: p and r_t, with
//                            --diffaugment)
//   checkpoint.safetensors   G, D, Adam states, RNG, config (every --ckpt-every
//                            epochs and at the end); --resume continues from it
//   dataset_cache.bin        the decoded, resized images (validated before reuse)
// Little data (Zhao et al. 2020; Karras et al. 2020; dcgan.h section 10):
//   build/train ... --diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 1
// D sees every image through DiffAugment, p adapts to keep E[sign(D(real))]
// near 0.6, and samples come from an average of G's weights.
// Ctrl-C (or SIGTERM) stops after the current step with a checkpoint and exit
// status 130 (143); a second Ctrl-C stops at once. A second train on the same
// --out while one runs is refused (a lock on OUT/.lock). A run that would not
// fit in the machine's memory is refused before it allocates, with the numbers.
#define _DEFAULT_SOURCE   // flock, sigaction (run_guard.h)
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"
#include "run_guard.h"
#include <limits.h>

// log.csv's first line (see log_iteration for the rows)
#define TRAIN_LOG_HEADER "epoch,iteration,d_real_loss,d_fake_loss,g_loss,real_acc,fake_acc,seconds,augment_p,ada_rt\n"

// The model and optimizer flags. With --resume the settings come from the
// checkpoint, and each of these given on the command line must equal its value
// there (a different one is refused, never silently dropped).
enum { FL_ARCH, FL_SIZE, FL_CHANNELS, FL_WIDTH, FL_LATENT, FL_BATCH, FL_LR_D, FL_LR_G, FL_BETA1, FL_BETA2,
       FL_ADAM, FL_LABEL_SMOOTH, FL_SEED, FL_DIFFAUGMENT, FL_AUGMENT_P, FL_ADA_TARGET, FL_ADA_KIMG,
       FL_EMA_KIMG, FL_EMA_RAMPUP, FL_COUNT };
static const char *const model_flags[FL_COUNT] = {
    "--arch", "--size", "--channels", "--width", "--latent", "--batch", "--lr-d", "--lr-g", "--beta1", "--beta2",
    "--adam", "--label-smooth", "--seed", "--diffaugment", "--augment-p", "--ada-target", "--ada-kimg",
    "--ema-kimg", "--ema-rampup"};

#define MAX_SAMPLES 1024   // --samples: images in one sample grid

typedef struct {
    dcgan_gan_config gan;
    const char *data, *cls, *out, *device;
    int epochs, sample_every, ckpt_every, resume, use_cache, max_images, n_samples, threads;
    int epochs_given;        // --epochs was on the command line (else --resume takes the run's own)
    int outputs_given;       // bit 0 --sample-every, 1 --ckpt-every, 2 --samples: as epochs_given
    int restore_on_nan, max_restores;  // divergence policy
    double lr_factor;
    dcgan_resize_mode resize;
    unsigned given;          // bit k: model_flags[k] was on the command line
    char data_id[256];       // --data as the checkpoint records it (see data_id)
    long resume_images;      // with --resume: the images the run was trained on (-1: not recorded)
} train_options;

static void usage(const char *prog) {
    printf("usage: %s [flags]\n"
           "  --data DIR          image folder (searched recursively)   (data/phantom/train)\n"
           "  --class NAME        sub-folder of --data to use; '' = all (NORMAL)\n"
           "  --out DIR           where logs, pictures and checkpoints go (out/train)\n"
           "  --arch A            seed | paper | dcgan                  (seed)\n"
           "  --size S            64 | 128 | 256                        (128)\n"
           "  --channels C        1 (gray) | 3 (RGB)                    (3)\n"
           "  --width W           multiplier on every filter count      (1)\n"
           "  --latent Z          noise length                          (100)\n"
           "  --epochs N          epochs; iterations/epoch = floor(images / batch), at least 1  (500)\n"
           "  --batch B           D: B/2 real + B/2 fake; G: B; 2 or more (128)\n"
           "  --lr-d LR           discriminator Adam learning rate      (2e-5)\n"
           "  --lr-g LR           generator Adam learning rate          (1e-4)\n"
           "  --beta1 B --beta2 B Adam betas                            (0.5, 0.999)\n"
           "  --adam MODE         keras | pytorch (eps placement)       (keras)\n"
           "  --label-smooth S    real label 1 - S (one-sided)          (0)\n"
           "  --seed S            random seed; same seed, same result   (1)\n"
           "  --resize MODE       area (antialiased) | nearest (Keras load_img)  (area)\n"
           "  --max-images N      use at most N images (0 = all)        (0)\n"
           "  --samples N         images in each sample grid, at most 1024 (16)\n"
           "  --sample-every K    sample grid and curves every K epochs (10)\n"
           "  --ckpt-every K      checkpoint every K epochs             (10)\n"
           "  --threads N         threads (OpenMP builds); 0 = all cores (0)\n"
           "                      (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
           "  --bf16              the CPU's products in bfloat16 (AVX512_BF16 or AMX CPUs; ~3 digits)\n"
           "  --device D          cpu | cuda | auto (cuda, else cpu)    (" CLI_DEFAULT_DEVICE ")\n"
           "  --resume            continue from OUT/checkpoint.safetensors (without it, a run\n"
           "                      already in OUT is refused rather than overwritten); the model,\n"
           "                      optimizer and little-data settings come from the checkpoint\n"
           "                      (any of them given must equal it), --data, --class,\n"
           "                      --max-images and --resize must be the run's, --epochs larger\n"
           "                      (without --epochs, --sample-every, --ckpt-every or --samples:\n"
           "                      the run's own, as its checkpoint records them)\n"
           "  --on-nan P          when a loss or gradient turns NaN/Inf: stop (keep the last\n"
           "                      checkpoint) | restore (reload it, lower both learning rates) (stop)\n"
           "  --nan-lr-factor F   restore: multiply the learning rates by F   (0.5)\n"
           "  --max-restores N    restore: give up after N restores          (5)\n"
           "  --no-cache          always decode the images again\n"
           "little data (all off by default):\n"
           "  --diffaugment P     DiffAugment policy: color,translation,cutout (any of them) | none\n"
           "  --augment-p P       probability of each transform, without ADA  (1)\n"
           "  --ada-target T      adapt p so that E[sign(D(real))] stays near T (0 = off; ADA: 0.6)\n"
           "  --ada-kimg K        p can cross [0, 1] in K thousand real images (5; with ADA)\n"
           "  --ema-kimg N        samples from an average of G's weights, half-life N thousand\n"
           "                      generated images (0 = off)\n"
           "  --ema-rampup R      half-life at most R times the images so far (0.05; with --ema-kimg;\n"
           "                      0: no ramp-up, the whole half-life from the first step)\n"
           "  (--augment-p, --ada-target and --ada-kimg without a --diffaugment policy, or\n"
           "  --ema-rampup without --ema-kimg, would change nothing and are refused)\n", prog);
}

// A number flag, checked as the checkpoint loader will read it back (dcgan.h,
// dcgan__config_from_meta: finite values only, so NaN and Inf are never in
// range): lo <= v (lo < v with lo_open) and v < hi (v <= hi with hi_closed);
// hi = INFINITY: no upper bound. A float setting is checked as the float it
// becomes (1e39 is Inf there). Exits with status 2 naming the range.
static double number_flag(const char *flag, const char *text, double lo, int lo_open, double hi, int hi_closed,
                          int as_float) {
    double v = cli_float("train", flag, text);
    if (as_float && isfinite(v) && !isfinite((float)v)) {   // (1e39: finite, but not as a float)
        fprintf(stderr, "train: %s is a float setting: '%s' is beyond its largest value, 3.4e38\n", flag, text);
        exit(2);
    }
    if (as_float) v = (double)(float)v;
    int ok = isfinite(v) && (lo_open ? v > lo : v >= lo) && (isinf(hi) || (hi_closed ? v <= hi : v < hi));
    if (ok) return v;
    if (isinf(hi))
        fprintf(stderr, "train: %s wants a finite number %s %g, got '%s'\n", flag, lo_open ? ">" : ">=", lo, text);
    else
        fprintf(stderr, "train: %s wants a number in %c%g, %g%c, got '%s'\n", flag, lo_open ? '(' : '[', lo, hi,
                hi_closed ? ']' : ')', text);
    exit(2);
}

// cli_flag for a model flag: also notes that it was given.
static int model_flag(int argc, char **argv, int *i, int k, train_options *o) {
    if (!cli_flag(argc, argv, i, model_flags[k])) return 0;
    o->given |= 1u << k;
    return 1;
}

// The settings as a whole, once they are final (parse, or --resume after the
// checkpoint's): the model's shape by the library's own rule
// (dcgan_gan_specs: size, channels, width, latent, batch), and little-data
// flags that would change nothing. 0, or 2 after the message.
static int check_settings(const train_options *o) {
    const dcgan_gan_config *c = &o->gan;
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n, ch, h, w;
    if (dcgan_gan_specs(c, DCGAN_GENERATOR, specs, &n, &ch, &h, &w) != DCGAN_OK ||
        dcgan_gan_specs(c, DCGAN_DISCRIMINATOR, specs, &n, &ch, &h, &w) != DCGAN_OK) {
        fprintf(stderr, "train: %s\n", dcgan_last_error());
        return 2;
    }
    // dcgan.h's gan_init refuses ADA without a policy; the other three it drops
    const char *why = NULL;
    if ((o->given >> FL_AUGMENT_P & 1) && !c->augment)
        why = "--augment-p sets the p of the DiffAugment transforms, but no --diffaugment policy is on";
    else if ((o->given >> FL_AUGMENT_P & 1) && c->ada_target > 0.0f)
        why = "--augment-p sets a fixed p, but --ada-target adapts p (ADA starts it at 0); give one of them";
    else if (c->ada_target > 0.0f && !c->augment)
        why = "--ada-target adapts the p of the DiffAugment transforms, but no --diffaugment policy is on";
    else if ((o->given >> FL_ADA_KIMG & 1) && !(c->augment && c->ada_target > 0.0f))
        why = "--ada-kimg sets how fast ADA moves p, but ADA is off (it needs --diffaugment and --ada-target)";
    else if ((o->given >> FL_EMA_RAMPUP & 1) && !(c->ema_kimg > 0.0f))
        why = "--ema-rampup bounds the averaged G's half-life, but averaging is off (it needs --ema-kimg)";
    if (why) {
        fprintf(stderr, "train: %s\n", why);
        return 2;
    }
    return 0;
}

static void parse(train_options *o, int argc, char **argv) {
    const char *p = "train";
    dcgan_gan_config_default(&o->gan);
    o->data = "data/phantom/train";
    o->cls = "NORMAL";
    o->out = "out/train";
    o->device = CLI_DEFAULT_DEVICE;
    o->epochs = 500;
    o->sample_every = o->ckpt_every = 10;
    o->resume = o->epochs_given = o->outputs_given = 0;
    o->use_cache = 1;
    o->max_images = 0;
    o->n_samples = 16;
    o->threads = 0;
    o->resize = DCGAN_RESIZE_AREA;
    o->restore_on_nan = 0;
    o->max_restores = 5;
    o->lr_factor = 0.5;
    o->given = 0;
    o->resume_images = -1;
    // Every value is checked here, before anything is read or written, by the
    // rules the checkpoint loader applies when it reads the value back
    // (dcgan.h, dcgan__config_from_meta: latent and batch at most 1,000,000,
    // learning rates finite and >= 0, betas in [0, 1), labels finite; the
    // little-data settings finite, and gan_init's ranges for them).
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(argv[0]); exit(0); }
        else if (cli_switch(argv, i, "--resume")) o->resume = 1;
        else if (cli_switch(argv, i, "--no-cache")) o->use_cache = 0;
        else if (cli_flag(argc, argv, &i, "--data")) o->data = argv[i];
        else if (cli_flag(argc, argv, &i, "--class")) {
            // "NORMAL/" (a shell's completion) is the class NORMAL: --resume compares the text
            char *c = argv[i];
            size_t n = strlen(c);
            while (n > 1 && c[n - 1] == '/') c[--n] = '\0';
            o->cls = c;
        }
        else if (cli_flag(argc, argv, &i, "--out")) o->out = argv[i];
        else if (cli_flag(argc, argv, &i, "--device")) o->device = argv[i];
        else if (model_flag(argc, argv, &i, FL_ARCH, o)) {
            if (dcgan_arch_parse(argv[i], &o->gan.arch) != DCGAN_OK) {
                fprintf(stderr, "train: %s\n", dcgan_last_error());
                exit(2);
            }
        }
        else if (model_flag(argc, argv, &i, FL_SIZE, o)) o->gan.size = (int)cli_int_range(p, a, argv[i], 64, 256);
        else if (model_flag(argc, argv, &i, FL_CHANNELS, o))
            o->gan.channels = (int)cli_int_range(p, a, argv[i], 1, 3);
        else if (model_flag(argc, argv, &i, FL_WIDTH, o))
            o->gan.width = (float)number_flag(a, argv[i], 0.0, 1, 64.0, 1, 1);
        else if (model_flag(argc, argv, &i, FL_LATENT, o))
            o->gan.latent = (int)cli_int_range(p, a, argv[i], 1, 1000000);
        else if (cli_flag(argc, argv, &i, "--epochs")) {
            o->epochs = (int)cli_int_range(p, a, argv[i], 1, INT_MAX);
            o->epochs_given = 1;
        }
        else if (model_flag(argc, argv, &i, FL_BATCH, o))
            o->gan.batch = (int)cli_int_range(p, a, argv[i], 2, 1000000);
        else if (model_flag(argc, argv, &i, FL_LR_D, o)) o->gan.lr_d = number_flag(a, argv[i], 0.0, 0, INFINITY, 0, 0);
        else if (model_flag(argc, argv, &i, FL_LR_G, o)) o->gan.lr_g = number_flag(a, argv[i], 0.0, 0, INFINITY, 0, 0);
        else if (model_flag(argc, argv, &i, FL_BETA1, o)) o->gan.beta1 = number_flag(a, argv[i], 0.0, 0, 1.0, 0, 0);
        else if (model_flag(argc, argv, &i, FL_BETA2, o)) o->gan.beta2 = number_flag(a, argv[i], 0.0, 0, 1.0, 0, 0);
        else if (model_flag(argc, argv, &i, FL_ADAM, o)) {
            if (strcmp(argv[i], "keras") == 0) o->gan.adam_mode = DCGAN_ADAM_KERAS;
            else if (strcmp(argv[i], "pytorch") == 0) o->gan.adam_mode = DCGAN_ADAM_PYTORCH;
            else { fprintf(stderr, "train: --adam is keras or pytorch\n"); exit(2); }
        }
        else if (model_flag(argc, argv, &i, FL_LABEL_SMOOTH, o))   // real label 1 - S, in (0, 1]
            o->gan.real_label = 1.0f - (float)number_flag(a, argv[i], 0.0, 0, 1.0, 0, 1);
        else if (model_flag(argc, argv, &i, FL_SEED, o))
            o->gan.seed = (uint64_t)cli_int_range(p, a, argv[i], 0, LONG_MAX);
        else if (model_flag(argc, argv, &i, FL_DIFFAUGMENT, o)) {
            if (dcgan_diffaug_parse(argv[i], &o->gan.augment) != DCGAN_OK) {
                fprintf(stderr, "train: --diffaugment: %s\n", dcgan_last_error());
                exit(2);
            }
        }
        else if (model_flag(argc, argv, &i, FL_AUGMENT_P, o))
            o->gan.augment_p = (float)number_flag(a, argv[i], 0.0, 0, 1.0, 1, 1);
        else if (model_flag(argc, argv, &i, FL_ADA_TARGET, o))
            o->gan.ada_target = (float)number_flag(a, argv[i], 0.0, 0, 1.0, 0, 1);
        else if (model_flag(argc, argv, &i, FL_ADA_KIMG, o))
            o->gan.ada_kimg = (float)number_flag(a, argv[i], 0.0, 1, INFINITY, 0, 1);
        else if (model_flag(argc, argv, &i, FL_EMA_KIMG, o))
            o->gan.ema_kimg = (float)number_flag(a, argv[i], 0.0, 0, INFINITY, 0, 1);
        else if (model_flag(argc, argv, &i, FL_EMA_RAMPUP, o))
            o->gan.ema_rampup = (float)number_flag(a, argv[i], 0.0, 0, INFINITY, 0, 1);
        else if (cli_flag(argc, argv, &i, "--resize")) {
            if (strcmp(argv[i], "area") == 0) o->resize = DCGAN_RESIZE_AREA;
            else if (strcmp(argv[i], "nearest") == 0) o->resize = DCGAN_RESIZE_NEAREST;
            else { fprintf(stderr, "train: --resize is area or nearest\n"); exit(2); }
        }
        else if (cli_flag(argc, argv, &i, "--on-nan")) {
            if (strcmp(argv[i], "stop") == 0) o->restore_on_nan = 0;
            else if (strcmp(argv[i], "restore") == 0) o->restore_on_nan = 1;
            else { fprintf(stderr, "train: --on-nan is stop or restore\n"); exit(2); }
        }
        else if (cli_flag(argc, argv, &i, "--nan-lr-factor")) o->lr_factor = number_flag(a, argv[i], 0.0, 1, 1.0, 0, 0);
        else if (cli_flag(argc, argv, &i, "--max-restores"))
            o->max_restores = (int)cli_int_range(p, a, argv[i], 0, 1000000);
        else if (cli_flag(argc, argv, &i, "--max-images"))
            o->max_images = (int)cli_int_range(p, a, argv[i], 0, INT_MAX);
        else if (cli_flag(argc, argv, &i, "--samples")) {
            o->n_samples = (int)cli_int_range(p, a, argv[i], 1, MAX_SAMPLES);
            o->outputs_given |= 4;
        }
        else if (cli_flag(argc, argv, &i, "--threads")) o->threads = (int)cli_int_range(p, a, argv[i], 0, 4096);
        else if (cli_switch(argv, i, "--bf16")) {
            if (dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16) != DCGAN_OK) {
                fprintf(stderr, "train: --bf16: %s\n", dcgan_last_error());
                exit(2);
            }
        }
        else if (cli_flag(argc, argv, &i, "--sample-every")) {
            o->sample_every = (int)cli_int_range(p, a, argv[i], 1, INT_MAX);
            o->outputs_given |= 1;
        } else if (cli_flag(argc, argv, &i, "--ckpt-every")) {
            o->ckpt_every = (int)cli_int_range(p, a, argv[i], 1, INT_MAX);
            o->outputs_given |= 2;
        }
        else { fprintf(stderr, "train: unknown flag '%s' (see --help)\n", a); exit(2); }
    }
    if (strlen(o->out) > 4000) {
        fprintf(stderr, "train: --out is %zu characters long; at most 4000\n", strlen(o->out));
        exit(2);
    }
    char read_dir[4300];   // the folder train reads: --data, or --data/--class
    snprintf(read_dir, sizeof read_dir, "%s%s%s", o->data, o->cls[0] ? "/" : "", o->cls);
    if (cli_device_word(p, o->device) != 0 || cli_out_folder(p, o->out) != 0 ||
        guard_out_in_data(p, o->out, read_dir, o->cls[0] ? "--data/--class" : "--data") != 0)
        exit(2);
    // with --resume the settings are final only after the checkpoint's are read
    if (!o->resume && check_settings(o) != 0) exit(2);
}

static void on_skip(void *user, const char *path, const char *reason) {
    (void)user;
    (void)path;
    fprintf(stderr, "train: skipping an image: %s\n", reason);
}

static void on_progress(void *user, int done, int total) {
    cli_progress *p = (cli_progress *)user;
    if (p->total != total) cli_progress_start(p, "decoding", total);
    cli_progress_update(p, done, NULL);
}

// The names of folder's sub-folders (not hidden), in name order, ", " between
// them, into out (cut short with "..." when out is too small); 0 when it has none.
static int sub_folders(char *out, size_t cap, const char *folder) {
    char **names = NULL;
    int n = 0;
    DIR *d = opendir(folder);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[4200];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        char **more = (char **)realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!more || !(more[n] = strdup(e->d_name))) { names = more ? more : names; break; }
        names = more;
        n++;
    }
    if (d) closedir(d);
    if (n > 1) qsort(names, (size_t)n, sizeof *names, cli_string_ptr_cmp);
    out[0] = '\0';
    for (int k = 0; k < n; k++) {
        const size_t used = strlen(out);
        if (used + strlen(names[k]) + 7 >= cap) {   // (room for ", ..." after it)
            snprintf(out + used, cap - used, "%s...", k ? ", " : "");
            break;
        }
        snprintf(out + used, cap - used, "%s%s", k ? ", " : "", names[k]);
    }
    for (int k = 0; k < n; k++) free(names[k]);
    free(names);
    return n > 0;
}

// Loads the dataset, through the cache when it is valid; returns 0 on success.
static int load_data(dcgan_dataset *ds, const train_options *o) {
    char dir[4096], cache[4096];
    dcgan_image_options opt;
    cli_progress prog = {0};
    dcgan_image_options_default(&opt);
    opt.size = o->gan.size;
    opt.channels = o->gan.channels;
    opt.resize = o->resize;
    opt.max_images = o->max_images;
    opt.on_skip = on_skip;
    opt.on_progress = on_progress;
    opt.user = &prog;
    if (o->cls[0]) snprintf(dir, sizeof dir, "%s/%s", o->data, o->cls);
    else snprintf(dir, sizeof dir, "%s", o->data);
    snprintf(cache, sizeof cache, "%s/dataset_cache.bin", o->out);
    if (o->use_cache) {
        dcgan_status st = dcgan_dataset_cache_load(ds, cache, dir, &opt);
        if (st == DCGAN_OK) {
            printf("data: %d images from the cache %s\n", ds->count, cache);
            cli_warn_dataset("train", dir, ds);
            return 0;
        }
        // DCGAN_ERR_IO: there is no cache yet, nothing to say; otherwise say why it is not used
        if (st != DCGAN_ERR_IO) printf("data: not using the cache (%s)\n", dcgan_last_error());
    }
    if (dcgan_dataset_load(ds, dir, &opt) != DCGAN_OK) {
        struct stat sb;
        fprintf(stderr, "train: %s\n", dcgan_last_error());
        char subs[512];
        if (o->cls[0] && stat(dir, &sb) != 0 && stat(o->data, &sb) == 0) {
            if (sub_folders(subs, sizeof subs, o->data))   // (--class '' alone would mix classes: an audit)
                fprintf(stderr, "train: --class %s reads the sub-folder %s, which is not there; %s holds the "
                                "sub-folders %s: give one of them as --class (names are case-sensitive), or "
                                "--class '' for every image under %s, sub-folders included\n",
                        o->cls, dir, o->data, subs, o->data);
            else
                fprintf(stderr, "train: --class %s reads the sub-folder %s; to train on the images in "
                                "%s itself, give --class ''\n", o->cls, dir, o->data);
        }
        return 1;
    }
    printf("data: %d images from %s (%d skipped)\n", ds->count, dir, ds->skipped);
    cli_warn_dataset("train", dir, ds);
    if (o->use_cache && dcgan_dataset_cache_save(ds, cache, &opt) != DCGAN_OK)
        fprintf(stderr, "train: warning: %s\n", dcgan_last_error());
    return 0;
}

// MemAvailable of /proc/meminfo in bytes (Linux), or 0 when it cannot be read.
static size_t available_memory(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kib = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
    fclose(f);
    return (size_t)kib * 1024;
}

// Before anything large is allocated: the models, the batch and the decoded
// images against the memory the machine has. 0 if it fits (or cannot be told).
static int check_memory(const train_options *o) {
    const double GiB = 1024.0 * 1024.0 * 1024.0;
    char dir[4096];
    char **paths = NULL;
    int count = 0;
    size_t model = 0, have = available_memory();
    if (have == 0 || dcgan_gan_bytes(&model, &o->gan) != DCGAN_OK) return 0;   // init will say why
    if (o->cls[0]) snprintf(dir, sizeof dir, "%s/%s", o->data, o->cls);
    else snprintf(dir, sizeof dir, "%s", o->data);
    if (dcgan_list_images(&paths, &count, dir) != DCGAN_OK) count = 0;   // loading will say why
    dcgan_paths_free(paths, count);
    if (o->max_images > 0 && count > o->max_images) count = o->max_images;
    const dcgan_gan_config *c = &o->gan;
    size_t data = (size_t)count * c->channels * c->size * c->size * sizeof(float);
    if (model + data <= have) return 0;
    fprintf(stderr, "train: needs about %.2f GiB (models, Adam and activations for a batch of %d at "
                    "%dx%dx%d, width %g: %.2f GiB; %d decoded images: %.2f GiB) but this machine has "
                    "%.2f GiB available; lower --batch, --width or --size\n",
            (double)(model + data) / GiB, c->batch, c->channels, c->size, c->size, (double)c->width,
            (double)model / GiB, count, (double)data / GiB, (double)have / GiB);
    return 1;
}

// Per-iteration history, for the CSV and the curves.
typedef struct {
    float *d_real, *d_fake, *g, *acc_real, *acc_fake, *p, *rt;
    long n, cap;
} history;

static void history_free(history *h) {
    free(h->d_real); free(h->d_fake); free(h->g); free(h->acc_real); free(h->acc_fake);
    free(h->p); free(h->rt);
    memset(h, 0, sizeof *h);
}

static int history_push(history *h, const dcgan_gan_stats *s) {
    if (h->n == h->cap) {
        long cap = h->cap ? h->cap * 2 : 1024;
        float **cols[7] = {&h->d_real, &h->d_fake, &h->g, &h->acc_real, &h->acc_fake, &h->p, &h->rt};
        for (int k = 0; k < 7; k++) {
            float *p = (float *)realloc(*cols[k], (size_t)cap * sizeof(float));
            if (!p) return 1;
            *cols[k] = p;
        }
        h->cap = cap;
    }
    h->d_real[h->n] = s->d_real_loss;
    h->d_fake[h->n] = s->d_fake_loss;
    h->g[h->n] = s->g_loss;
    h->acc_real[h->n] = s->real_acc;
    h->acc_fake[h->n] = s->fake_acc;
    h->p[h->n] = s->augment_p;
    h->rt[h->n] = s->ada_rt;
    h->n++;
    return 0;
}

// On --resume (and a restore): reads back the rows of log.csv up to iteration
// `iterations` and, when the file holds more (rows past the checkpoint, or an
// unreadable or cut-off row), rewrites it with exactly those, so the log
// continues where the checkpoint is. By the iteration column, not by counting
// rows: a log that starts later (it was deleted once) kept rows past the
// checkpoint. The rewrite goes to log.csv.tmp, is checked, flushed to the disk
// and renamed over log.csv, like every other file train writes. 0, or 1 after
// "rewriting '...' failed: why" (log.csv is then as it was).
static int history_reload(history *h, const char *csv, long iterations) {
    FILE *f = fopen(csv, "r");
    char line[512], header[512] = "";
    char tmp[4300];
    long keep = 0;   // bytes of the file that stay: the header and the rows kept
    int cut = 0;
    if (!f) return 0;
    if (fgets(header, sizeof header, f)) keep = (long)strlen(header);
    while (fgets(line, sizeof line, f)) {
        dcgan_gan_stats s = {0, 0, 0, 0, 0, 0, 0};
        long epoch, it;
        double secs;
        // logs written before the p and r_t columns have 8 fields; a row without
        // its line break was cut off by a kill
        if (sscanf(line, "%ld,%ld,%f,%f,%f,%f,%f,%lf,%f,%f", &epoch, &it, &s.d_real_loss, &s.d_fake_loss,
                   &s.g_loss, &s.real_acc, &s.fake_acc, &secs, &s.augment_p, &s.ada_rt) < 8 ||
            it > iterations || line[strlen(line) - 1] != '\n') {
            cut = 1;
            break;
        }
        history_push(h, &s);
        keep += (long)strlen(line);
    }
    int err = ferror(f) ? errno : 0;
    if (!cut || err) {
        fclose(f);
        if (!err) return 0;   // nothing past the checkpoint: the file stays as it is
        fprintf(stderr, "train: reading '%s' failed: %s\n", csv, strerror(err));
        return 1;
    }
    // copy the first `keep` bytes to log.csv.tmp
    snprintf(tmp, sizeof tmp, "%s.tmp", csv);
    FILE *w = fopen(tmp, "w");
    if (!w) {
        fprintf(stderr, "train: rewriting '%s' failed: cannot create '%s': %s\n", csv, tmp, strerror(errno));
        fclose(f);
        return 1;
    }
    rewind(f);
    int ok = 1;
    for (long left = keep; ok && left > 0;) {
        size_t n = fread(line, 1, left < (long)sizeof line ? (size_t)left : sizeof line, f);
        ok = n > 0 && fwrite(line, 1, n, w) == n;
        left -= (long)n;
    }
    if (!ok) err = (ferror(f) || ferror(w)) ? errno : EIO;
    if (ok && (fflush(w) != 0 || fsync(fileno(w)) != 0)) {
        ok = 0;
        err = errno;
    }
    if (fclose(w) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    fclose(f);
    if (ok && rename(tmp, csv) != 0) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        remove(tmp);
        fprintf(stderr, "train: rewriting '%s' failed: %s; it was left as it was\n", csv, strerror(err));
        return 1;
    }
    return 0;
}

// Draws losses.png and accuracy.png from the history.
static void write_curves(const history *h, const char *out, long iters_per_epoch, int augmented) {
    const int W = 800, H = 420;
    unsigned char *rgb = (unsigned char *)malloc((size_t)W * H * 3);
    char path[4200];
    if (!rgb || h->n == 0) { free(rgb); return; }
    dcgan_plot_series loss[3] = {{"D loss real", h->d_real, {31, 119, 180}},
                                 {"D loss fake", h->d_fake, {255, 127, 14}},
                                 {"G loss", h->g, {44, 160, 44}}};
    dcgan_plot_draw(rgb, W, H, "GAN losses (BCE)", "epoch", loss, 3, (size_t)h->n,
                    1.0f / (float)iters_per_epoch);
    snprintf(path, sizeof path, "%s/losses.png", out);
    if (dcgan_png_write(path, rgb, W, H, 3) != DCGAN_OK) fprintf(stderr, "train: %s\n", dcgan_last_error());
    dcgan_plot_series acc[2] = {{"D accuracy real", h->acc_real, {31, 119, 180}},
                                {"D accuracy fake", h->acc_fake, {255, 127, 14}}};
    dcgan_plot_draw(rgb, W, H, "Discriminator accuracy", "epoch", acc, 2, (size_t)h->n,
                    1.0f / (float)iters_per_epoch);
    snprintf(path, sizeof path, "%s/accuracy.png", out);
    if (dcgan_png_write(path, rgb, W, H, 3) != DCGAN_OK) fprintf(stderr, "train: %s\n", dcgan_last_error());
    if (augmented) {
        dcgan_plot_series ada[2] = {{"augmentation p", h->p, {214, 39, 40}},
                                    {"r_t (mean sign of D on reals)", h->rt, {148, 103, 189}}};
        dcgan_plot_draw(rgb, W, H, "Augmentation strength (ADA)", "epoch", ada, 2, (size_t)h->n,
                        1.0f / (float)iters_per_epoch);
        snprintf(path, sizeof path, "%s/augment.png", out);
        if (dcgan_png_write(path, rgb, W, H, 3) != DCGAN_OK) fprintf(stderr, "train: %s\n", dcgan_last_error());
    }
    free(rgb);
}

// Real images (left) beside G's images from the fixed noise (right).
static void write_samples(dcgan_gan *gan, const dcgan_dataset *ds, const float *noise, int n,
                          const char *out, int epoch) {
    const dcgan_gan_config *c = &gan->cfg;
    const size_t image = (size_t)c->channels * c->size * c->size;
    float *fake = (float *)malloc((size_t)n * image * sizeof(float));
    unsigned char *real_grid = NULL, *fake_grid = NULL;
    int rw, rh, fw, fh, cols = n >= 16 ? 4 : n;
    char path[4200];
    if (!fake) {   // (dcgan_last_error would name an older, unrelated failure)
        fprintf(stderr, "train: samples: no memory for %d images of %zu floats\n", n, image);
        return;
    }
    if (dcgan_gan_generate(gan, fake, noise, n) != DCGAN_OK ||
        dcgan_grid_make(&real_grid, &rw, &rh, ds->data, n < ds->count ? n : ds->count, c->channels,
                        c->size, c->size, cols, 2) != DCGAN_OK ||
        dcgan_grid_make(&fake_grid, &fw, &fh, fake, n, c->channels, c->size, c->size, cols, 2) != DCGAN_OK) {
        fprintf(stderr, "train: samples: %s\n", dcgan_last_error());
    } else {
        const int gap = 12, C = c->channels, W = rw + gap + fw, H = rh > fh ? rh : fh;
        unsigned char *pic = (unsigned char *)malloc((size_t)W * H * C);
        if (!pic) fprintf(stderr, "train: samples: no memory for a %dx%d picture\n", W, H);
        if (pic) {
            memset(pic, 255, (size_t)W * H * C);
            for (int y = 0; y < rh; y++) memcpy(pic + (size_t)y * W * C, real_grid + (size_t)y * rw * C, (size_t)rw * C);
            for (int y = 0; y < fh; y++)
                memcpy(pic + ((size_t)y * W + rw + gap) * C, fake_grid + (size_t)y * fw * C, (size_t)fw * C);
            snprintf(path, sizeof path, "%s/samples_epoch_%04d.png", out, epoch);
            if (dcgan_png_write(path, pic, W, H, C) != DCGAN_OK) fprintf(stderr, "train: %s\n", dcgan_last_error());
            free(pic);
        }
    }
    dcgan_free(real_grid);
    dcgan_free(fake_grid);
    free(fake);
}

// The settings, as the run will use them (after --resume read them from the checkpoint).
static void print_config(const train_options *o, int threads) {
    const dcgan_gan_config *c = &o->gan;
    printf("config: %d thread%s, arch %s, %dx%dx%d, width %g, Z %d, batch %d, epochs %d, lr D %g G %g, "
           "betas %g %g, Adam %s, real label %g, seed %llu\n", threads, threads == 1 ? "" : "s",
           dcgan_arch_name(c->arch), c->size,
           c->size, c->channels, (double)c->width, c->latent, c->batch, o->epochs, c->lr_d, c->lr_g,
           c->beta1, c->beta2, c->adam_mode == DCGAN_ADAM_KERAS ? "keras" : "pytorch",
           (double)c->real_label, (unsigned long long)c->seed);
    if (dcgan_get_matmul_precision() == DCGAN_MATMUL_BFLOAT16)
        printf("products: bfloat16 on the CPU (--bf16%s)\n", dcgan_matmul_on_amx() ? ", AMX tiles" : "");
    char policy[64];
    dcgan_diffaug_name(c->augment, policy, sizeof policy);
    printf("little data: DiffAugment %s, p %s, EMA %s\n", policy,
           !c->augment ? "-" : c->ada_target > 0.0f ? "adaptive (ADA)" : "fixed",
           c->ema_kimg > 0.0f ? "on" : "off");
    if (c->augment && c->ada_target > 0.0f)
        printf("  ADA: target r_t %g, p moves at most 1 per %g thousand real images, every %d "
               "iterations\n", (double)c->ada_target, (double)c->ada_kimg, DCGAN_ADA_INTERVAL);
    else if (c->augment)
        printf("  p %g for every transform\n", (double)c->augment_p);
    if (c->ema_kimg > 0.0f)
        printf("  EMA: half-life %g thousand generated images (at most %g of the images so far)\n",
               (double)c->ema_kimg, (double)c->ema_rampup);
}

// Everything one training run holds.
typedef struct {
    train_options o;
    dcgan_dataset ds;
    dcgan_gan gan;
    history hist;
    char ckpt[4200], csv[4200];
    FILE *log;                   // OUT/log.csv, appended to every iteration
    long ipe, total;             // iterations per epoch, in all
    float *sample_noise;         // the fixed noise of the sample grids
    int restores;                // "restore" divergence policy: restores so far
    int log_errno;               // the first failed write of log.csv (0: none)
} train_run;

// Text a checkpoint's metadata can hold (a value is at most 255 bytes): text
// itself, or, when longer, "fnv1a64:" and its FNV-1a hash.
static void meta_text(char *out, size_t cap, const char *text) {
    if (strlen(text) < cap && strlen(text) <= 255) {
        snprintf(out, cap, "%s", text);
        return;
    }
    snprintf(out, cap, "fnv1a64:%016llx", (unsigned long long)cli_fnv1a64(CLI_FNV_OFFSET, text, strlen(text)));
}

// The images a run trains on, as the checkpoint records them: a fingerprint
// (FNV-1a) of the image files listed in the folder train reads (--data, or
// --data/--class), by file name and size, in the listing's sorted order. The
// same files moved, renamed above or named through a link give the same
// fingerprint; another folder, or one with a file more, less or changed in
// size, another. No path goes into the checkpoint. (A folder that cannot be
// listed: "unlisted"; the load that follows says why.)
static void data_id(char *id, size_t cap, const train_options *o) {
    char dir[4096];
    if (o->cls[0]) snprintf(dir, sizeof dir, "%s/%s", o->data, o->cls);
    else snprintf(dir, sizeof dir, "%s", o->data);
    char **paths = NULL;
    int count = 0;
    if (dcgan_list_images(&paths, &count, dir) != DCGAN_OK) {
        snprintf(id, cap, "unlisted");
        return;
    }
    uint64_t h = CLI_FNV_OFFSET;
    for (int i = 0; i < count; i++) {
        const char *slash = strrchr(paths[i], '/');
        const char *name = slash ? slash + 1 : paths[i];
        struct stat sb;
        char size[32];
        snprintf(size, sizeof size, "%lld", stat(paths[i], &sb) == 0 ? (long long)sb.st_size : -1LL);
        h = cli_fnv1a64(h, name, strlen(name) + 1);
        h = cli_fnv1a64(h, size, strlen(size) + 1);
    }
    dcgan_paths_free(paths, count);
    snprintf(id, cap, "%d files, names and sizes fnv1a64:%016llx", count, (unsigned long long)h);
}

// Writes the checkpoint (path.tmp, then rename); 0 on success. Besides the
// library's metadata it records the epochs done and the data the run trains
// on (a fingerprint of --data's image files, --class, --max-images, --resize, the image count),
// which --resume compares, and the run's --epochs, --sample-every, --ckpt-every and --samples,
// which --resume takes where they are not given again. (These extra keys are not covered by the
// checkpoint's checksum: dcgan.h hashes only its own keys.)
static int save_checkpoint(const train_run *r, long epoch) {
    char ep[32], target[32], cls[256], max_images[32], images[32], every[3][32];
    snprintf(ep, sizeof ep, "%ld", epoch);
    snprintf(target, sizeof target, "%d", r->o.epochs);
    snprintf(every[0], sizeof every[0], "%d", r->o.sample_every);
    snprintf(every[1], sizeof every[1], "%d", r->o.ckpt_every);
    snprintf(every[2], sizeof every[2], "%d", r->o.n_samples);
    meta_text(cls, sizeof cls, r->o.cls);
    snprintf(max_images, sizeof max_images, "%d", r->o.max_images);
    snprintf(images, sizeof images, "%d", r->ds.count);
    const char *keys[10] = {"epoch",  "data",   "class",        "max_images", "resize",
                            "images", "epochs", "sample_every", "ckpt_every", "samples"};
    const char *vals[10] = {ep,     r->o.data_id, cls,      max_images, r->o.resize == DCGAN_RESIZE_NEAREST ? "nearest" : "area",
                            images, target,       every[0], every[1],   every[2]};
    if (dcgan_gan_save(&r->gan, r->ckpt, keys, vals, 10) != DCGAN_OK) {
        fprintf(stderr, "\ntrain: %s\n", dcgan_last_error());
        return 1;
    }
    return 0;
}

// log.csv is written through a buffer: a failed write shows at the next flush
// (or in ferror). Flushes it (and closes it when closing); 0, or 1 after
// "writing 'OUT/log.csv' failed: why".
static int log_check(train_run *r, int closing) {
    if (fflush(r->log) != 0 && !r->log_errno) r->log_errno = errno;
    if (ferror(r->log) && !r->log_errno) r->log_errno = EIO;
    if (closing) {
        if (fclose(r->log) != 0 && !r->log_errno) r->log_errno = errno;
        r->log = NULL;
    }
    if (!r->log_errno) return 0;
    fprintf(stderr, "\ntrain: writing '%s' failed: %s\n", r->csv, strerror(r->log_errno));
    return 1;
}

// A setting of model_flags[k] in two configurations: equal or not, and as
// text for a message (exact: every digit).
static int setting_equal(const dcgan_gan_config *a, const dcgan_gan_config *b, int k) {
    switch (k) {
    case FL_ARCH: return a->arch == b->arch;
    case FL_SIZE: return a->size == b->size;
    case FL_CHANNELS: return a->channels == b->channels;
    case FL_WIDTH: return a->width == b->width;
    case FL_LATENT: return a->latent == b->latent;
    case FL_BATCH: return a->batch == b->batch;
    case FL_LR_D: return a->lr_d == b->lr_d;
    case FL_LR_G: return a->lr_g == b->lr_g;
    case FL_BETA1: return a->beta1 == b->beta1;
    case FL_BETA2: return a->beta2 == b->beta2;
    case FL_ADAM: return a->adam_mode == b->adam_mode;
    case FL_LABEL_SMOOTH: return a->real_label == b->real_label;
    case FL_SEED: return a->seed == b->seed;
    case FL_DIFFAUGMENT: return a->augment == b->augment;
    case FL_AUGMENT_P: return a->augment_p == b->augment_p;
    case FL_ADA_TARGET: return a->ada_target == b->ada_target;
    case FL_ADA_KIMG: return a->ada_kimg == b->ada_kimg;
    case FL_EMA_KIMG: return a->ema_kimg == b->ema_kimg;
    case FL_EMA_RAMPUP: return a->ema_rampup == b->ema_rampup;
    }
    return 1;
}

static void setting_text(char *out, size_t cap, const dcgan_gan_config *c, int k, int exact) {
    const int f = exact ? 9 : 6, d = exact ? 17 : 6;   // digits of a float, of a double
    switch (k) {
    case FL_ARCH: snprintf(out, cap, "%s", dcgan_arch_name(c->arch)); break;
    case FL_SIZE: snprintf(out, cap, "%d", c->size); break;
    case FL_CHANNELS: snprintf(out, cap, "%d", c->channels); break;
    case FL_WIDTH: snprintf(out, cap, "%.*g", f, (double)c->width); break;
    case FL_LATENT: snprintf(out, cap, "%d", c->latent); break;
    case FL_BATCH: snprintf(out, cap, "%d", c->batch); break;
    case FL_LR_D: snprintf(out, cap, "%.*g", d, c->lr_d); break;
    case FL_LR_G: snprintf(out, cap, "%.*g", d, c->lr_g); break;
    case FL_BETA1: snprintf(out, cap, "%.*g", d, c->beta1); break;
    case FL_BETA2: snprintf(out, cap, "%.*g", d, c->beta2); break;
    case FL_ADAM: snprintf(out, cap, "%s", c->adam_mode == DCGAN_ADAM_KERAS ? "keras" : "pytorch"); break;
    case FL_LABEL_SMOOTH: snprintf(out, cap, "%.*g", f, (double)(1.0f - c->real_label)); break;
    case FL_SEED: snprintf(out, cap, "%llu", (unsigned long long)c->seed); break;
    case FL_DIFFAUGMENT: dcgan_diffaug_name(c->augment, out, cap); break;
    case FL_AUGMENT_P: snprintf(out, cap, "%.*g", f, (double)c->augment_p); break;
    case FL_ADA_TARGET: snprintf(out, cap, "%.*g", f, (double)c->ada_target); break;
    case FL_ADA_KIMG: snprintf(out, cap, "%.*g", f, (double)c->ada_kimg); break;
    case FL_EMA_KIMG: snprintf(out, cap, "%.*g", f, (double)c->ema_kimg); break;
    case FL_EMA_RAMPUP: snprintf(out, cap, "%.*g", f, (double)c->ema_rampup); break;
    }
}

// --resume: the settings come from the checkpoint. Each model or optimizer
// flag given on the command line must equal the checkpoint's, and the data
// flags (--data by its files' names and sizes, --class, --max-images, --resize) the ones
// the run was trained with, as its checkpoint recorded them (a checkpoint
// from before they were recorded: not checked, with a warning); --epochs must
// be more than the epochs done. The image count is compared after loading
// (run_start). 0, 1 when the checkpoint cannot be read, 2 after a refusal.
static int resume_settings(train_options *o, const char *ckpt) {
    dcgan_gan_config saved;
    dcgan_safetensors st;
    char was[300], now[300];
    const char *what = NULL;   // the flag that differs
    if (dcgan_gan_config_load(&saved, ckpt) != DCGAN_OK || dcgan_safetensors_read(&st, ckpt) != DCGAN_OK) {
        fprintf(stderr, "train: --resume: %s\n", dcgan_last_error());
        return 1;
    }
    for (int k = 0; k < FL_COUNT && !what; k++) {
        if (!(o->given >> k & 1) || setting_equal(&o->gan, &saved, k)) continue;
        what = model_flags[k];
        setting_text(was, sizeof was, &saved, k, 0);
        setting_text(now, sizeof now, &o->gan, k, 0);
        if (strcmp(was, now) == 0) {   // apart only past the sixth digit
            setting_text(was, sizeof was, &saved, k, 1);
            setting_text(now, sizeof now, &o->gan, k, 1);
        }
    }
    const char *data = dcgan_safetensors_meta(&st, "data"), *v;
    if (!what && !data) {
        fprintf(stderr, "train: warning: %s does not record the data it was trained on (an older train "
                        "wrote it): --data, --class, --max-images, --resize and the image count are not checked\n",
                ckpt);
    } else if (!what) {
        char cls[256];
        meta_text(cls, sizeof cls, o->cls);
        if ((v = dcgan_safetensors_meta(&st, "class")) != NULL && strcmp(v, cls) != 0) {
            what = "--class";
            snprintf(was, sizeof was, "'%s'", v);
            snprintf(now, sizeof now, "'%s'", cls);
        } else if ((v = dcgan_safetensors_meta(&st, "max_images")) != NULL && atol(v) != o->max_images) {
            what = "--max-images";
            snprintf(was, sizeof was, "%s", v);
            snprintf(now, sizeof now, "%d", o->max_images);
        } else if ((v = dcgan_safetensors_meta(&st, "resize")) != NULL &&
                   strcmp(v, o->resize == DCGAN_RESIZE_NEAREST ? "nearest" : "area") != 0) {
            what = "--resize";
            snprintf(was, sizeof was, "%s", v);
            snprintf(now, sizeof now, "%s", o->resize == DCGAN_RESIZE_NEAREST ? "nearest" : "area");
        } else if (strcmp(data, o->data_id) != 0) {
            fprintf(stderr, "train: --resume: the run in '%s' was trained on other images (%s); --data here "
                            "lists %s; resume with the same images (every file counts, one the run skipped "
                            "as undecodable too: put back any removed since)\n", o->out, data, o->data_id);
            dcgan_safetensors_free(&st);
            return 2;
        }
        if ((v = dcgan_safetensors_meta(&st, "images")) != NULL) o->resume_images = atol(v);
    }
    if (what) {
        fprintf(stderr, "train: --resume: the run in '%s' has %s %s, this run %s %s; resume with the same "
                        "flags\n", o->out, what, was, what, now);
        dcgan_safetensors_free(&st);
        return 2;
    }
    // without --epochs, the run's own target (a checkpoint from before it was
    // recorded: the default, as before)
    char *end;
    if (!o->epochs_given && (v = dcgan_safetensors_meta(&st, "epochs")) != NULL) {
        const long target = strtol(v, &end, 10);
        if (*v && !*end && target >= 1 && target <= INT_MAX) o->epochs = (int)target;
    }
    // likewise how often it sampled and saved, and its grid's size (older checkpoints: the defaults)
    static const char *const output_keys[3] = {"sample_every", "ckpt_every", "samples"};
    int *const outputs[3] = {&o->sample_every, &o->ckpt_every, &o->n_samples};
    for (int k = 0; k < 3; k++)
        if (!(o->outputs_given >> k & 1) && (v = dcgan_safetensors_meta(&st, output_keys[k])) != NULL) {
            const long n = strtol(v, &end, 10);
            if (*v && !*end && n >= 1 && n <= (k == 2 ? MAX_SAMPLES : INT_MAX)) *outputs[k] = (int)n;
        }
    // the epochs done, as the checkpoint's "epoch" records them (run_start checks
    // again from the iteration, for a checkpoint without it)
    long done = (v = dcgan_safetensors_meta(&st, "epoch")) != NULL ? strtol(v, &end, 10) : -1;
    const int known = v && *v && !*end;
    dcgan_safetensors_free(&st);
    if (known && done > o->epochs) {
        fprintf(stderr, "train: the run in '%s' has already done %ld epochs (> --epochs %d); give a larger "
                        "--epochs\n", o->out, done, o->epochs);
        return 2;
    }
    // exactly the epochs asked for: nothing to do, and a script that reruns a
    // finished step (stopped before it noted so) goes on
    if (known && done == o->epochs) {
        printf("train: the run in '%s' has already done its %ld epochs; nothing to do\n", o->out, done);
        return 3;
    }
    o->gan = saved;
    return check_settings(o);
}

// The data, the GAN (from the checkpoint with --resume), log.csv and the
// sample noise. 0, or 1 after a message (2: a --resume refused); what was
// made is freed by run_free.
static int run_start(train_run *r) {
    const dcgan_gan_config *c = &r->o.gan;
    const int gpu = cli_device("train", r->o.device);   // before the minutes of decoding
    if (gpu < 0 || (!gpu && check_memory(&r->o) != 0) || load_data(&r->ds, &r->o) != 0) return 1;
    if (r->o.resume_images >= 0 && r->ds.count != r->o.resume_images) {
        fprintf(stderr, "train: --resume: the run in '%s' was trained on %ld images, this run has %d; resume "
                        "with the same images\n", r->o.out, r->o.resume_images, r->ds.count);
        return 2;
    }
    if (dcgan_gan_init(&r->gan, &r->o.gan) != DCGAN_OK) {
        fprintf(stderr, "train: %s\n", dcgan_last_error());
        return 1;
    }
    printf("model: G %zu parameters, D %zu parameters\n", r->gan.g.n_params, r->gan.d.n_params);
#ifdef DCGAN_CUDA
    if (gpu && dcgan_gan_to_cuda(&r->gan) != DCGAN_OK) {
        fprintf(stderr, "train: %s\n", dcgan_last_error());
        return 1;
    }
#endif
    r->ipe = r->ds.count / c->batch > 0 ? r->ds.count / c->batch : 1;
    r->total = r->ipe * r->o.epochs;
    if (r->o.resume) {
        if (dcgan_gan_load(&r->gan, r->ckpt) != DCGAN_OK) {
            fprintf(stderr, "train: --resume: %s\n", dcgan_last_error());
            return 1;
        }
        if (r->gan.iteration > r->total) {   // (a checkpoint without "epoch": see resume_settings)
            fprintf(stderr, "train: the run in '%s' has already done %lld epochs (> --epochs %d); give a larger "
                            "--epochs\n", r->o.out, (long long)(r->gan.iteration / r->ipe), r->o.epochs);
            return 2;
        }
        if (r->gan.iteration == r->total) {
            printf("train: the run in '%s' has already done its %d epochs; nothing to do\n", r->o.out, r->o.epochs);
            return 3;
        }
        // the log continues where the checkpoint is, or the run stops here
        if (history_reload(&r->hist, r->csv, (long)r->gan.iteration) != 0) return 1;
        printf("resume: from iteration %lld (epoch %lld), learning rates D %g G %g\n",
               (long long)r->gan.iteration, (long long)(r->gan.iteration / r->ipe), r->gan.opt_d.lr,
               r->gan.opt_g.lr);
    }
    // a resumed run whose log.csv is gone (or empty) starts a new one, header first
    FILE *old = r->o.resume ? fopen(r->csv, "r") : NULL;
    const int had_log = old && fgetc(old) != EOF;
    if (old) fclose(old);
    if (r->o.resume && !had_log)
        fprintf(stderr, "train: warning: %s was missing; it starts again at iteration %lld\n", r->csv,
                (long long)r->gan.iteration + 1);
    r->log = fopen(r->csv, r->o.resume ? "a" : "w");
    if (!r->log) {
        fprintf(stderr, "train: cannot write '%s'\n", r->csv);
        return 1;
    }
    if (!had_log) fputs(TRAIN_LOG_HEADER, r->log);
    if (log_check(r, 0) != 0) return 1;
    if (!r->o.resume) {
        // the untrained state, so that --resume and --on-nan restore always
        // have a checkpoint to go back to
        if (save_checkpoint(r, 0) != 0) return 1;
    }
    // The fixed noise of the sample grids has its own stream, so sampling never
    // changes the training run.
    r->sample_noise = (float *)malloc((size_t)r->o.n_samples * c->latent * sizeof(float));
    if (!r->sample_noise) {
        fprintf(stderr, "train: out of memory for the sample noise\n");
        return 1;
    }
    dcgan_rng sample_rng;
    dcgan_rng_seed_stream(&sample_rng, c->seed, 0x5A3D1E);
    dcgan_rng_fill_normal(&sample_rng, r->sample_noise, (size_t)r->o.n_samples * c->latent, 0.0f, 1.0f);
    printf("train: %d images, %ld iteration%s per epoch, %ld in all\n", r->ds.count, r->ipe, r->ipe == 1 ? "" : "s",
           r->total);
    // few images make short epochs: the README's recipe (120 epochs) on 80 images is 240
    // iterations, and a researcher took the blur after them for the GAN failing (a referee)
    if (r->total < 1000)
        printf("train: note: %ld iteration%s in all, few for a GAN (docs/small_data.md's runs took 2,000, the "
               "README's recipe 3,480); --epochs %ld gives %ld here\n", r->total, r->total == 1 ? "" : "s",
               (2000 + r->ipe - 1) / r->ipe, (2000 + r->ipe - 1) / r->ipe * r->ipe);
    // the plain DCGAN on few images (a researcher's 50-200 of a rare class): the little-data
    // flags are off by default (the defaults reproduce the reference study's DCGAN), so a run
    // that names none of them is told what they did on real X-rays; a resumed run was told
    // when it began
    const unsigned little = 1u << FL_DIFFAUGMENT | 1u << FL_AUGMENT_P | 1u << FL_ADA_TARGET |
                            1u << FL_ADA_KIMG | 1u << FL_EMA_KIMG | 1u << FL_EMA_RAMPUP;
    if (!r->o.resume && r->ds.count < 1000 && !(r->o.given & little))
        printf("train: note: %d images and no little-data flag; on 51 and 657 X-rays DiffAugment + ADA + EMA "
               "(--diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 1) made samples closer to "
               "real ones (KID 2.4x and 1.8x lower, docs/small_data.md)\n", r->ds.count);
    return 0;
}

static void run_free(train_run *r) {
    if (r->log) fclose(r->log);
    free(r->sample_noise);
    history_free(&r->hist);
    dcgan_gan_free(&r->gan);
    dcgan_dataset_free(&r->ds);
}

// Divergence policy "restore": back to the last checkpoint (which holds no NaN:
// dcgan_gan_save refuses them), with lower learning rates; the log is cut back
// to the checkpoint's iteration. 0, or 1 when that fails.
static int restore_after_nan(train_run *r) {
    long long bad = (long long)r->gan.iteration + 1;
    double lr_d = r->gan.opt_d.lr * r->o.lr_factor, lr_g = r->gan.opt_g.lr * r->o.lr_factor;
    fprintf(stderr, "\ntrain: iteration %lld: %s\n", bad, dcgan_last_error());
    if (dcgan_gan_load(&r->gan, r->ckpt) != DCGAN_OK) {
        fprintf(stderr, "train: cannot restore: %s\n", dcgan_last_error());
        return 1;
    }
    r->gan.opt_d.lr = lr_d;
    r->gan.opt_g.lr = lr_g;
    r->restores++;
    fprintf(stderr, "train: restored %s (iteration %lld); learning rates now D %g G %g "
                    "(restore %d of %d)\n", r->ckpt, (long long)r->gan.iteration, lr_d, lr_g,
            r->restores, r->o.max_restores);
    if (log_check(r, 1) != 0) return 1;
    r->hist.n = 0;
    if (history_reload(&r->hist, r->csv, (long)r->gan.iteration) != 0) return 1;
    if ((r->log = fopen(r->csv, "a")) == NULL) {
        fprintf(stderr, "train: cannot write '%s'\n", r->csv);
        return 1;
    }
    return 0;
}

// One finished iteration: its line in log.csv, the curves' history, the progress line.
static void log_iteration(train_run *r, const dcgan_gan_stats *s, double seconds, cli_progress *prog) {
    long it = (long)r->gan.iteration, epoch = (it - 1) / r->ipe + 1;
    if (fprintf(r->log, "%ld,%ld,%.6f,%.6f,%.6f,%.4f,%.4f,%.4f,%.6f,%.4f\n", epoch, it, s->d_real_loss,
                s->d_fake_loss, s->g_loss, s->real_acc, s->fake_acc, seconds, s->augment_p, s->ada_rt) < 0 &&
        !r->log_errno)
        r->log_errno = errno;   // (log_check reports it at the end of the epoch)
    history_push(&r->hist, s);
    char extra[96];
    if (r->o.gan.augment)
        snprintf(extra, sizeof extra, "epoch %ld  D %.3f/%.3f  G %.3f  p %.3f r_t %.2f", epoch,
                 s->d_real_loss, s->d_fake_loss, s->g_loss, s->augment_p, s->ada_rt);
    else
        snprintf(extra, sizeof extra, "epoch %ld  D %.3f/%.3f  G %.3f", epoch, s->d_real_loss,
                 s->d_fake_loss, s->g_loss);
    cli_progress_update(prog, it, extra);
}

// At the end of an epoch: samples and curves every --sample-every epochs, a
// checkpoint every --ckpt-every (and both at the end). 0, or 1 when log.csv
// or the checkpoint cannot be written (a log that failed stops the run before
// the checkpoint moves past the rows it holds).
static int end_of_epoch(train_run *r) {
    long it = (long)r->gan.iteration, epoch = it / r->ipe;
    if (log_check(r, 0) != 0) return 1;
    if (epoch % r->o.sample_every == 0 || it == r->total) {
        write_samples(&r->gan, &r->ds, r->sample_noise, r->o.n_samples, r->o.out, (int)epoch);
        write_curves(&r->hist, r->o.out, r->ipe, r->o.gan.augment != 0);
    }
    if ((epoch % r->o.ckpt_every == 0 || it == r->total) && save_checkpoint(r, epoch) != 0)
        return 1;
    return 0;
}

// The training loop: 0 when done, 128 + signal after Ctrl-C (with a
// checkpoint), 1 after an error that stopped it.
static int run_train(train_run *r) {
    cli_progress prog;
    cli_progress_start(&prog, "train", r->total);
    prog.first = (long)r->gan.iteration;   // (after --resume: the rate is this process's)
    guard_catch_signals();   // Ctrl-C / SIGTERM: stop after the step, with a checkpoint
    while (r->gan.iteration < r->total) {
        if (guard_stop_requested()) {
            long done = (long)r->gan.iteration;
            if (log_check(r, 0) != 0) return 1;
            if (save_checkpoint(r, done / r->ipe) == 0)
                fprintf(stderr, "\ntrain: stopped at iteration %ld; continue with --resume\n", done);
            return 128 + guard_stop_requested();
        }
        double t0 = cli_now();
        dcgan_gan_stats s;
        dcgan_status st = dcgan_gan_train_step(&r->gan, r->ds.data, r->ds.count, &s);
        if (st == DCGAN_ERR_NONFINITE && r->o.restore_on_nan && r->restores < r->o.max_restores) {
            if (restore_after_nan(r) != 0) return 1;
            continue;
        }
        if (st != DCGAN_OK) {
            char why[96] = "";
            if (st == DCGAN_ERR_NONFINITE && r->o.restore_on_nan)
                snprintf(why, sizeof why, " after %d restore%s (--max-restores %d)", r->restores,
                         r->restores == 1 ? "" : "s", r->o.max_restores);
            fprintf(stderr, "\ntrain: iteration %lld: %s; stopping%s, the last checkpoint is kept\n",
                    (long long)r->gan.iteration + 1, dcgan_last_error(), why);
            return 1;
        }
        log_iteration(r, &s, cli_now() - t0, &prog);
        if (r->gan.iteration % r->ipe == 0 && end_of_epoch(r) != 0) return 1;
    }
    return 0;
}

// The end of a run: closes its lock; when the run failed, first removes the
// lock file and then the output folder it made while that folder is empty
// (run_guard.h).
static int finish(int rc, int lock, const char *out, const char *made) {
    if (rc != 0) guard_unmake(lock, out, made);
    else if (lock >= 0) close(lock);
    return rc;
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    static train_run r;   // zeroed
    static char made[4096];   // the part of --out this run makes ("" when it exists)
    setvbuf(stdout, NULL, _IOLBF, 0);   // line-buffered: a log piped to a file is complete up to a crash
    // 1. the flags, and the output folder (one run per folder while this process lives)
    parse(&r.o, argc, argv);
    data_id(r.o.data_id, sizeof r.o.data_id, &r.o);
    cli_missing_part(r.o.out, made, sizeof made);
    if (cli_mkdirs(r.o.out) != 0) {
        fprintf(stderr, "train: cannot create '%s'\n", r.o.out);
        return finish(1, -1, r.o.out, made);
    }
    const int lock = guard_lock_folder("train", r.o.out);
    if (lock < 0) return 1;
    snprintf(r.ckpt, sizeof r.ckpt, "%s/checkpoint.safetensors", r.o.out);
    snprintf(r.csv, sizeof r.csv, "%s/log.csv", r.o.out);
    // a run in OUT is continued, never overwritten by accident (a new run would
    // replace its checkpoint and log.csv before its first step)
    if (!r.o.resume && access(r.ckpt, F_OK) == 0) {
        fprintf(stderr, "train: '%s' holds a run (%s); continue it with --resume (a larger --epochs "
                        "trains it longer), or give another --out, or delete that folder to start over\n",
                r.o.out, r.ckpt);
        return finish(1, lock, r.o.out, made);
    }
    // nor a user's own files named like the run's (beside a log.csv that begins with
    // train's header line they are an earlier run's leftovers, and are replaced - unless
    // that run got as far as a sample grid: a run saves its untrained state first, so its
    // checkpoint was deleted or moved, and a new run would replace its log and curves and
    // leave its grids among the new ones: a helper's audit)
    static const char *const ours[] = {"log.csv", "losses.png", "accuracy.png", "augment.png",
                                       "samples_epoch_*.png"};
    if (!r.o.resume &&
        guard_files_in_the_way("train", r.o.out, ours, 5, TRAIN_LOG_HEADER, "samples_epoch_*.png"))
        return finish(1, lock, r.o.out, made);
    // 2. with --resume the settings come from the checkpoint (the flags given must agree)
    if (r.o.resume && access(r.ckpt, F_OK) != 0) {   // (said as "cannot open" it read as a broken file)
        fprintf(stderr, "train: --resume: '%s' has no checkpoint.safetensors to continue from; put it back "
                        "if it was moved, or leave out --resume to start a new run there\n", r.o.out);
        return finish(1, lock, r.o.out, made);
    }
    if (r.o.resume) {
        int rc = resume_settings(&r.o, r.ckpt);
        if (rc != 0) return finish(rc == 3 ? 0 : rc, lock, r.o.out, made);   // 3: already done
    }
    print_config(&r.o, dcgan_set_threads(r.o.threads));
    // 3. data, GAN, log; 4. train; 5. done
    int rc = run_start(&r);
    if (rc == 3) {   // already done (found from the iteration): nothing to do
        run_free(&r);
        return finish(0, lock, r.o.out, made);
    }
    if (rc == 0) rc = run_train(&r);
    if (rc == 0 && log_check(&r, 1) != 0) rc = 1;
    if (rc == 0) printf("train: done; %s, %s/losses.png and samples in %s\n", r.ckpt, r.o.out, r.o.out);
    run_free(&r);
    return finish(rc, lock, r.o.out, made);
}
