// classify.c - a small CNN that tells NORMAL from PNEUMONIA chest X-rays, and
// the tools of the augmentation study: does adding synthetic NORMAL images help?
//
// Build: make            Run: build/classify train --data DIR --out runs/cls
//   classify split --data DIR --out SPLIT [--val 0.15 --test 0.2 --seed 1]
//       splits a Kermany-layout folder (DIR/NORMAL, DIR/PNEUMONIA) by patient into
//       SPLIT/{train,val,test}/{NORMAL,PNEUMONIA} (symbolic links); prints the counts.
//   classify train --data DIR --out RUN [--val DIR | --val-fraction F] [--extra DIR ...]
//       trains the CNN; RUN gets checkpoint.safetensors (the best epoch on the
//       validation images), log.csv, curves.png; Ctrl-C writes resume.safetensors
//       and --resume continues exactly. The threshold is chosen on the
//       validation images too (Youden's J) and stored in the checkpoint.
//   classify eval --checkpoint RUN/checkpoint.safetensors --data DIR [--out OUT]
//       accuracy, balanced accuracy, sensitivity, specificity, precision, F1, ROC AUC,
//       each with a seeded 95% bootstrap interval (patients resampled); the confusion matrix;
//       OUT/metrics.csv, OUT/scores.csv, OUT/roc.png.
//   classify summarize --runs DIR --arms a,b,c --out results.md
//       mean +- sd of every metric per arm over DIR/<arm>/seed*/eval/metrics.csv,
//       paired differences of the first named arm pair(s), and a bar chart.
//   classify features --checkpoint RUN/checkpoint.safetensors DIR OUT.npy
//       the activations that feed the last Linear layer, for every image under
//       DIR (at the checkpoint's size and channels): a .npy (n, dims) of '<f8'
//       as fid --save-features writes, so `fid --kid --prdc real.npy fake.npy`
//       measures in a feature space learned from radiographs. Never overwrites.
//   classify c2st --real DIR --fake DIR --out OUT [--folds 5 --epochs 8 --max N]
//       classifier two-sample test (Lopez-Paz and Oquab 2017): the same CNN
//       learns real (1) from generated (0) on random halves split by patient (a
//       --fake image by --patients where it lists it, else by its name), ROC AUC
//       on the other halves, per fold; OUT/c2st.csv, and last
//       "c2st: AUC 0.873 +- 0.021 (95% CI 0.847-0.899) over 5 folds; 0.5 = not told apart".
// Labels: PNEUMONIA = 1 (the positive class), NORMAL = 0.
#define _DEFAULT_SOURCE   // strdup, realpath, symlink, flock, sigaction
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"
#include "run_guard.h"

// train's log.csv, its first line (the rows: one per finished epoch)
#define CLASSIFY_LOG_HEADER "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_auc,seconds\n"
#include "classify_state.h"
#include "classify_tools.h"
#include "study_stats.h"
#include <dirent.h>
#include <limits.h>

// The two classes: index 0 is the negative class, 1 the positive one. Kermany's
// NORMAL / PNEUMONIA unless --classes NEG,POS names others (any folder of two
// class sub-folders).
static char class_buf[2][128] = {"NORMAL", "PNEUMONIA"};
static const char *class_names[2] = {class_buf[0], class_buf[1]};

// ---------------------------------------------------------------------------
// Patients: from the file names (clf_patient_id: Kermany's names), or from a
// CSV given with --patients (a header line, then "file,patient" per image, quoted
// as spreadsheets quote them where a name holds a comma or a quote; the
// file is matched by its base name, so links and copies of an image agree;
// a blank at either end of a field outside quotes is refused).

typedef struct { char *file, *patient; } patient_entry;
static patient_entry *patient_table;   // sorted by file; NULL: use the file names
static int n_patient_table;
static char patient_csv[4096];

static int patient_entry_cmp(const void *a, const void *b) {
    return strcmp(((const patient_entry *)a)->file, ((const patient_entry *)b)->file);
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// Reads the CSV; 0, or 1 after a message naming the file and line.
static int patients_load(const char *path, const char *prog) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: --patients '%s': %s\n", prog, path, strerror(errno));
        return 1;
    }
    char line[2048];
    int line_no = 0, cap = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line_no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {   // (its rest was read as the next line)
            fprintf(stderr, "%s: --patients '%s' line %d is longer than %d characters\n", prog, path, line_no,
                    (int)sizeof line - 2);
            rc = 1;
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (line_no == 1 || len == 0) continue;   // the header, blank lines
        char copy[sizeof line], *field[2];
        int quoted[2];
        memcpy(copy, line, len + 1);
        int n = cli_csv_split_quoted(line, field, quoted, 2);
        if (n != 2 || field[0][0] == 0 || field[1][0] == 0) {
            fprintf(stderr, "%s: --patients '%s' line %d: expected 'file,patient'%s, got '%s'\n", prog, path,
                    line_no, n < 0 ? " (a quote not closed, or text after a closing quote)" : "", copy);
            rc = 1;
            break;
        }
        // "a.png, P1": the blank belongs to the field (RFC 4180), so ' P1' and 'P1' on
        // another line would be two patients, one patient's images on both sides of a split
        for (int k = 0; k < 2 && rc == 0; k++) {
            if (quoted[k] || !cli_blank_at_end(field[k])) continue;
            const char *text = field[k] + strspn(field[k], " \t");
            fprintf(stderr, "%s: --patients '%s' line %d: '%s' %s\n", prog, path, line_no, field[k],
                    *text == '"' ? "has a blank before its opening quote; remove it"
                                 : "begins or ends with a blank; remove it, or put the field in double "
                                   "quotes to keep it");
            rc = 1;
        }
        if (rc) break;
        if (n_patient_table == cap) {
            cap = cap ? 2 * cap : 1024;
            patient_entry *t = (patient_entry *)realloc(patient_table, (size_t)cap * sizeof *t);
            if (!t) { fprintf(stderr, "%s: out of memory\n", prog); rc = 1; break; }
            patient_table = t;
        }
        patient_table[n_patient_table].file = strdup(base_name(field[0]));
        patient_table[n_patient_table].patient = strdup(field[1]);
        n_patient_table++;
    }
    fclose(f);
    if (rc == 0 && n_patient_table == 0) {
        fprintf(stderr, "%s: --patients '%s' lists no images (a header line, then 'file,patient')\n", prog, path);
        rc = 1;
    }
    if (rc == 0) {
        qsort(patient_table, (size_t)n_patient_table, sizeof *patient_table, patient_entry_cmp);
        for (int i = 1; i < n_patient_table && rc == 0; i++)
            if (strcmp(patient_table[i].file, patient_table[i - 1].file) == 0 &&
                strcmp(patient_table[i].patient, patient_table[i - 1].patient) != 0) {
                fprintf(stderr, "%s: --patients '%s' gives '%s' two patients: '%s' and '%s' (names are matched "
                                "without their folders, so each image needs a name of its own across the classes: "
                                "rename them, e.g. with the class before the name)\n", prog, path,
                        patient_table[i].file, patient_table[i - 1].patient, patient_table[i].patient);
                rc = 1;
            }
    }
    snprintf(patient_csv, sizeof patient_csv, "%s", path);
    return rc;
}

// The patient of an image: 0, or 1 when a --patients CSV does not list it.
static int patient_of(char *out, size_t cap, const char *path) {
    if (!patient_table) {
        clf_patient_id(out, cap, path);
        return 0;
    }
    patient_entry key = {(char *)base_name(path), NULL};
    patient_entry *e = (patient_entry *)bsearch(&key, patient_table, (size_t)n_patient_table, sizeof key,
                                                patient_entry_cmp);
    if (!e) return 1;
    snprintf(out, cap, "%s", e->patient);
    return 0;
}

// Without --patients, a name outside Kermany's scheme (personN_..., [NORMAL2-]IM-NNNN-...)
// is a patient of its own (clf_patient_id). Where a patient has several images those can
// fall on both sides of a split, and patient-level intervals come out as narrow as
// image-level ones, without a word (a referee's walk-through with a dataset of its own:
// 43 of 66 patients on two sides). Warns once per program run, counting such names among
// the n paths, those of label skip_label left out (generated images are each their own
// patient by design; -1: none left out; labels may then be NULL).
static void warn_own_patients(const char *prog, const char *const *paths, const int *labels, int n,
                              int skip_label) {
    static int warned = 0;
    if (patient_table || warned) return;
    int own = 0, real = 0;
    const char *first = NULL;
    for (int i = 0; i < n; i++) {
        if (skip_label >= 0 && labels[i] == skip_label) continue;
        real++;
        char id[256];
        const char *name = base_name(paths[i]), *dot = strrchr(name, '.');
        const size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
        clf_patient_id(id, sizeof id, paths[i]);
        if (strlen(id) == stem && !own++) first = paths[i];   // (Kermany's ids are shorter than the name)
    }
    if (!own) return;
    warned = 1;
    fprintf(stderr, "%s: warning: %d of %d image names are not Kermany's (personN_..., IM-NNNN-...), the first "
                    "'%s', and no --patients was given: each such image is taken as a patient of its own, so one "
                    "patient's images can fall on both sides of a split and intervals come out too narrow; give "
                    "--patients FILE.csv (file,patient) unless every image is a patient of its own\n",
            prog, own, real, first);
}

// The flags every command takes: --classes NEG,POS and --patients FILE.csv.
// 1 when argv[*i] was one of them (and handled), else 0; exits on bad values.
static int classes_given;   // 1 when --classes was given (eval: else the checkpoint's)

// Sets the two class names from "NEG,POS"; 0, or 1 (unchanged) when v is not two
// different folder names.
static int classes_set(const char *v) {
    const char *comma = strchr(v, ',');
    size_t n0 = comma ? (size_t)(comma - v) : 0, n1 = comma ? strlen(comma + 1) : 0;
    if (!comma || n0 == 0 || n1 == 0 || n0 >= sizeof class_buf[0] || n1 >= sizeof class_buf[1] ||
        strchr(comma + 1, ',') || strchr(v, '/') || strncmp(v, comma + 1, n0 > n1 ? n0 : n1) == 0)
        return 1;
    memcpy(class_buf[0], v, n0);
    class_buf[0][n0] = 0;
    memcpy(class_buf[1], comma + 1, n1 + 1);
    return 0;
}

static int common_flag(int argc, char **argv, int *i, const char *prog) {
    if (cli_flag(argc, argv, i, "--classes")) {
        if (classes_set(argv[*i]) != 0) {
            fprintf(stderr, "%s: --classes wants two different folder names NEG,POS, got '%s'\n", prog, argv[*i]);
            exit(2);
        }
        classes_given = 1;
        return 1;
    }
    if (cli_flag(argc, argv, i, "--patients")) {
        if (patients_load(argv[*i], prog) != 0) exit(1);
        return 1;
    }
    return 0;
}

// --bf16, for the commands that run a network (train, eval, c2st; split and
// subset took it and did nothing; features keeps float32, so that feature sets compare)
static int bf16_flag(char **argv, int i, const char *prog) {
    if (!cli_switch(argv, i, "--bf16")) return 0;
    if (dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16) != DCGAN_OK) {
        fprintf(stderr, "%s: --bf16: %s\n", prog, dcgan_last_error());
        exit(2);
    }
    return 1;
}

#define COMMON_USAGE \
    "  --classes NEG,POS   the two class folders; POS is the positive class (NORMAL,PNEUMONIA)\n" \
    "  --patients FILE     CSV 'file,patient' (header line first): the patient of each image;\n" \
    "                      without it, patients come from Kermany's file names\n"
#define BF16_USAGE "  --bf16              the CPU's products in bfloat16 (AVX512_BF16 or AMX CPUs; ~3 digits)\n"

// ---------------------------------------------------------------------------
// Images of two classes

typedef struct {
    float *data;        // (count, channels, size, size) in [-1, 1]
    int *labels;        // 0 NORMAL, 1 PNEUMONIA
    char **paths;       // source files
    int *synthetic;     // 1 for images from --extra (never used for validation)
    int count, cap, channels, size;
} image_set;

static void set_free(image_set *s) {
    for (int i = 0; i < s->count; i++) free(s->paths[i]);
    free(s->paths);
    free(s->data);
    free(s->labels);
    free(s->synthetic);
    memset(s, 0, sizeof *s);
}

static int set_reserve(image_set *s, int more) {
    if (s->count + more <= s->cap) return 0;
    int cap = s->cap ? s->cap : 256;
    while (cap < s->count + more) cap *= 2;
    size_t image = (size_t)s->channels * s->size * s->size;
    float *d = (float *)realloc(s->data, (size_t)cap * image * sizeof(float));
    if (d) s->data = d;
    int *l = (int *)realloc(s->labels, (size_t)cap * sizeof(int));
    if (l) s->labels = l;
    int *y = (int *)realloc(s->synthetic, (size_t)cap * sizeof(int));
    if (y) s->synthetic = y;
    char **p = (char **)realloc(s->paths, (size_t)cap * sizeof(char *));
    if (p) s->paths = p;
    if (!d || !l || !y || !p) return 1;
    s->cap = cap;
    return 0;
}

static void on_skip(void *user, const char *path, const char *reason) {
    (void)path;
    fprintf(stderr, "%s: skipping an image: %s\n", (const char *)user, reason);
}

// Appends every image under dir (a folder: the caller checks) with the given
// label; *skipped gets the files that could not be decoded. 0, or 1 after
// printing "<prog>: <what>: <why>" ("<prog>: <why>" when what is NULL).
static int set_load_dir(image_set *s, const char *dir, int label, int synthetic, const char *what,
                        const char *prog, int *skipped) {
    dcgan_image_options opt;
    dcgan_dataset ds;
    dcgan_image_options_default(&opt);
    opt.size = s->size;
    opt.channels = s->channels;
    opt.on_skip = on_skip;
    opt.user = (void *)prog;
    if (dcgan_dataset_load(&ds, dir, &opt) != DCGAN_OK) {
        if (what) fprintf(stderr, "%s: %s: %s\n", prog, what, dcgan_last_error());
        else fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        return 1;
    }
    if (set_reserve(s, ds.count) != 0) {
        fprintf(stderr, "%s: no memory for %d more images\n", prog, ds.count);
        dcgan_dataset_free(&ds);
        return 1;
    }
    size_t image = (size_t)s->channels * s->size * s->size;
    memcpy(s->data + (size_t)s->count * image, ds.data, (size_t)ds.count * image * sizeof(float));
    for (int i = 0; i < ds.count; i++) {
        s->labels[s->count + i] = label;
        s->synthetic[s->count + i] = synthetic;
        s->paths[s->count + i] = strdup(ds.paths[i]);
    }
    s->count += ds.count;
    *skipped = ds.skipped;
    cli_warn_dataset(prog, dir, &ds);
    dcgan_dataset_free(&ds);
    return 0;
}

// split and subset list the file names only (no dataset_load): the same
// warning for files of other types beside the images, and for a class folder
// with none, what it does hold.
static void warn_other_files(const char *prog, const char *dir) {
    int n = 0;
    if (dcgan_count_other_files(&n, NULL, 0, dir) == DCGAN_OK && n > 0) cli_warn_unread(prog, dir, n);
}

static void no_images(const char *prog, const char *cls, const char *dir) {
    int n = 0;
    char first[4200];
    if (dcgan_count_other_files(&n, first, sizeof first, dir) == DCGAN_OK && n > 0)
        fprintf(stderr, "%s: class %s: no images in '%s', only %d other file%s, the first '%s' (convert DICOM, TIFF "
                        "or WebP images to PNG)\n", prog, cls, dir, n, n == 1 ? "" : "s", first);
    else
        fprintf(stderr, "%s: class %s: no images in '%s'\n", prog, cls, dir);
}

static int is_folder(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

// --extra is for generated images: one of them that is also a real training or
// validation image (the same file: --extra split/val/NORMAL, or the training folder
// again) would count twice, or put validation images into training. 1 (with the
// message) when one is, or when memory runs out.
static int extra_is_real(const image_set *train, const image_set *val, const char *prog) {
    char **real = (char **)malloc((size_t)(train->count + val->count + 1) * sizeof(char *));
    char **extra = (char **)malloc((size_t)(train->count + 1) * sizeof(char *));
    int n_real = 0, n_extra = 0, n_train_real, twin = -1;
    if (!real || !extra) {
        free(real);
        free(extra);
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    for (int i = 0; i < train->count; i++)
        if (train->synthetic[i]) extra[n_extra++] = train->paths[i];
        else real[n_real++] = train->paths[i];
    n_train_real = n_real;
    for (int i = 0; i < val->count; i++) real[n_real++] = val->paths[i];
    const int hit = cli_shared_file(real, n_real, extra, n_extra, &twin);
    if (hit == -2) fprintf(stderr, "%s: out of memory\n", prog);
    else if (hit >= 0)
        fprintf(stderr, "%s: --extra image '%s' is the %s image '%s' (one file); --extra takes generated "
                        "images only\n", prog, extra[hit], twin < n_train_real ? "training" : "validation",
                real[twin]);
    free(real);
    free(extra);
    return hit != -1;
}

// 1 after the message when class folder dir is not a folder.
static int class_folder_missing(const char *dir, const char *prog) {
    if (is_folder(dir)) return 0;
    fprintf(stderr, "%s: '%s' is not a folder: the data folder needs %s/ and %s/ "
                    "sub-folders of images (the Kermany layout)\n", prog, dir, class_names[0], class_names[1]);
    return 1;
}

// 1 after the message when DIR/NORMAL or DIR/PNEUMONIA is not a folder: looked at before
// any image is decoded (a missing second class, or a missing --val, was found only after
// every image of the first had been read: a helper's audit).
static int kermany_missing(const char *dir, const char *prog) {
    char sub[4200];
    for (int c = 0; c < 2; c++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, class_names[c]);
        if (class_folder_missing(sub, prog)) return 1;
    }
    return 0;
}

// Appends every image under dir with the given label; 0 on success.
static int set_add_folder(image_set *s, const char *dir, int label, int synthetic, const char *prog) {
    if (class_folder_missing(dir, prog)) return 1;
    char what[32];
    int before = s->count, skipped = 0;
    snprintf(what, sizeof what, "class %s", class_names[label]);
    if (set_load_dir(s, dir, label, synthetic, what, prog, &skipped) != 0) return 1;
    printf("data: %d %s%s images from %s (%d skipped)\n", s->count - before, synthetic ? "synthetic " : "",
           class_names[label], dir, skipped);
    return 0;
}

// DIR/NORMAL and DIR/PNEUMONIA; both classes must have images.
static int set_add_kermany(image_set *s, const char *dir, const char *prog) {
    char sub[4200];
    if (kermany_missing(dir, prog)) return 1;
    for (int c = 0; c < 2; c++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, class_names[c]);
        if (set_add_folder(s, sub, c, 0, prog) != 0) return 1;
    }
    return 0;
}

// The items of src with keep[i] != 0 (or all when keep is NULL) appended to dst.
static int set_take(image_set *dst, const image_set *src, const int *keep) {
    size_t image = (size_t)src->channels * src->size * src->size;
    for (int i = 0; i < src->count; i++) {
        if (keep && !keep[i]) continue;
        if (set_reserve(dst, 1) != 0) return 1;
        memcpy(dst->data + (size_t)dst->count * image, src->data + (size_t)i * image, image * sizeof(float));
        dst->labels[dst->count] = src->labels[i];
        dst->synthetic[dst->count] = src->synthetic[i];
        dst->paths[dst->count] = strdup(src->paths[i]);
        dst->count++;
    }
    return 0;
}

// (label, base name) pairs in order, for first_repeat.
typedef struct { const char *name; int label, index; } named_item;

static int named_item_cmp(const void *pa, const void *pb) {
    const named_item *a = (const named_item *)pa, *b = (const named_item *)pb;
    if (a->label != b->label) return a->label - b->label;
    const int c = strcmp(a->name, b->name);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

// Sorts v[0..m) and finds the first two items of one label and one name: 1 with
// their indices in *a and *b (a before b in the list), else 0.
static int first_repeat(named_item *v, int m, int *a, int *b) {
    qsort(v, (size_t)m, sizeof *v, named_item_cmp);
    for (int i = 1; i < m; i++)
        if (v[i].label == v[i - 1].label && strcmp(v[i].name, v[i - 1].name) == 0) {
            *a = v[i - 1].index;
            *b = v[i].index;
            return 1;
        }
    return 0;
}

// Patients are found by file name (clf_patient_id, or the --patients CSV's file
// column): two images of one label with one name in two folders (pat0/img0.png,
// pat1/img0.png) would be one patient, on one side of a split, drawn together
// by a bootstrap. 1 (with the message) when a name repeats within a label,
// among the items patient_ids_of is not lenient with (generated images, each its
// own name's, may repeat names from two generate runs in two folders).
static int names_repeat(const image_set *s, const char *prog, int lenient, int lenient_label) {
    named_item *v = (named_item *)malloc((size_t)(s->count > 0 ? s->count : 1) * sizeof *v);
    if (!v) { fprintf(stderr, "%s: out of memory\n", prog); return 1; }
    int m = 0;
    for (int i = 0; i < s->count; i++) {
        const int label = s->labels ? s->labels[i] : 0;
        if (lenient || (lenient_label >= 0 && label == lenient_label)) continue;
        v[m++] = (named_item){base_name(s->paths[i]), label, i};
    }
    int a, b;
    const int rc = first_repeat(v, m, &a, &b);
    if (rc)
        fprintf(stderr, "%s: '%s' and '%s' have one file name, and patients are told apart by file name "
                        "(Kermany's names, else each name is a patient; --patients lists names too): two "
                        "patients would count as one. Give each image a name of its own (e.g. pat1_img0.png) "
                        "and, for patients of several images, a --patients CSV\n",
                prog, s->paths[a], s->paths[b]);
    free(v);
    return rc;
}

// Patient ids of every item (for clf_split_by_group).
// NULL after a message when memory runs out, two images of one label share a
// file name (names_repeat) or the --patients CSV misses an image. lenient: an image the CSV does not list is its name's patient
// (clf_patient_id), not an error: c2st's --fake images, generated ones being
// in no CSV and real ones given as --fake (small_data.sh's real-vs-real
// reference) being found there; lenient_label: only the items of that label
// are lenient (-1: none; c2st's test half holds real and generated images).
static char **patient_ids_of(const image_set *s, const char *prog, int lenient, int lenient_label) {
    if (names_repeat(s, prog, lenient, lenient_label)) return NULL;
    if (!lenient)   // the real images' names (generated ones are each their own patient)
        warn_own_patients(prog, (const char *const *)s->paths, s->labels, s->count, lenient_label);
    char **ids = (char **)calloc((size_t)s->count + 1, sizeof(char *));
    if (!ids) { fprintf(stderr, "%s: out of memory\n", prog); return NULL; }
    for (int i = 0; i < s->count; i++) {
        char buf[256];
        const int listed = patient_of(buf, sizeof buf, s->paths[i]) == 0;
        if (!listed && (lenient || (lenient_label >= 0 && s->labels[i] == lenient_label)))   // (labels may be NULL)
            clf_patient_id(buf, sizeof buf, s->paths[i]);
        else if (!listed) {
            fprintf(stderr, "%s: image '%s' has no patient in --patients '%s'\n", prog, s->paths[i],
                    patient_csv);
            for (int k = 0; k < i; k++) free(ids[k]);
            free(ids);
            return NULL;
        }
        ids[i] = strdup(buf);
    }
    return ids;
}

static char **patient_ids(const image_set *s, const char *prog, int lenient) {
    return patient_ids_of(s, prog, lenient, -1);
}

typedef struct {
    const char *id;
    int label, index;
} id_at;

static int id_at_cmp(const void *pa, const void *pb) {
    const id_at *a = (const id_at *)pa, *b = (const id_at *)pb;
    const int c = strcmp(a->id, b->id);
    if (c) return c;
    if (a->label != b->label) return a->label - b->label;
    return (a->index > b->index) - (a->index < b->index);
}

// Numbers the patients of ids (one per image) 0, 1, ... in the order of their first
// image, so that images that are each their own patient are numbered 0..n-1 in image
// order; returns how many patients, or -1 when memory runs out. One id in both classes
// is two patients: names outside Kermany's scheme are their own patient's id, and
// NORMAL/001.png and PNEUMONIA/001.png are two people (real patients have one class).
static int patient_numbers(int *number, char *const *ids, const int *labels, int n) {
    id_at *sorted = (id_at *)malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted) return -1;
    for (int i = 0; i < n; i++) sorted[i] = (id_at){ids[i], labels[i], i};
    qsort(sorted, (size_t)n, sizeof *sorted, id_at_cmp);
    for (int a = 0, b; a < n; a = b)   // a run of one id and class: number[] holds its first image for now
        for (b = a; b < n && strcmp(sorted[b].id, sorted[a].id) == 0 && sorted[b].label == sorted[a].label; b++)
            number[sorted[b].index] = sorted[a].index;
    int patients = 0;
    for (int i = 0; i < n; i++)   // (a first image comes before the others of its patient)
        number[i] = number[i] == i ? patients++ : number[number[i]];
    free(sorted);
    return patients;
}

static void ids_free(char **ids, int n) {
    for (int i = 0; ids && i < n; i++) free(ids[i]);
    free(ids);
}

// split and subset link each image under its file name: two images of one class with
// the same name (in two sub-folders) would share one link, and one would be lost. 1
// (with the message) when two names repeat, 0 otherwise or without memory to look.
static int duplicate_names(char *const *paths, int n, const char *class_name, const char *prog) {
    named_item *v = (named_item *)malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return 0;
    for (int i = 0; i < n; i++) v[i] = (named_item){base_name(paths[i]), 0, i};
    int a, b;
    const int dup = first_repeat(v, n, &a, &b);
    if (dup)
        fprintf(stderr, "%s: class %s has two images named '%s' ('%s' and '%s'); the images are linked "
                        "by name, so rename one\n", prog, class_name, base_name(paths[a]), paths[a], paths[b]);
    free(v);
    return dup;
}

// How many different patients are among ids[i] with group[i] == which (group
// NULL: all n); -1 when memory runs out. Sorted, so O(n log n).
static int count_distinct(char *const *ids, const int *group, int which, int n) {
    const char **v = (const char **)malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return -1;
    int m = 0, distinct = 0;
    for (int i = 0; i < n; i++)
        if (!group || group[i] == which) v[m++] = ids[i];
    qsort(v, (size_t)m, sizeof *v, cli_string_ptr_cmp);
    for (int i = 0; i < m; i++) distinct += i == 0 || strcmp(v[i], v[i - 1]) != 0;
    free(v);
    return distinct;
}

// ---------------------------------------------------------------------------
// The CNN: four stride-2 3x3 convolutions (width, 2, 4, 8 x width filters),
// each + BatchNorm + LeakyReLU(0.2), then Dropout(0.3) and one logit.

#define N_LAYERS 15

static void classifier_specs(dcgan_layer_spec *spec, int width) {
    int k = 0;
    for (int b = 0; b < 4; b++) {
        spec[k++] = dcgan_spec_conv2d(width << b, 3, 2, 1);
        spec[k++] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
        spec[k++] = dcgan_spec_leaky_relu(0.2f);
    }
    spec[k++] = dcgan_spec_flatten();
    spec[k++] = dcgan_spec_dropout(0.3f);
    spec[k++] = dcgan_spec_linear(1);
}

static int classifier_init(dcgan_model *m, int channels, int size, int width, int batch) {
    dcgan_layer_spec spec[N_LAYERS];
    classifier_specs(spec, width);
    return dcgan_model_init(m, "cnn", spec, N_LAYERS, channels, size, size, batch) != DCGAN_OK;
}

static float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

// P(PNEUMONIA) for every image of s, in eval mode.
// prob[i] = sigmoid(logit) of every image; logit (NULL: not wanted) gets the
// logits themselves (they keep the order that float probabilities lose near 1).
static int predict_logits(dcgan_model *m, const image_set *s, float *prob, float *logit) {
    size_t image = (size_t)s->channels * s->size * s->size;
    for (int i = 0; i < s->count; i += m->max_batch) {
        int n = s->count - i < m->max_batch ? s->count - i : m->max_batch;
        dcgan_tensor x = dcgan_tensor_make(s->data + (size_t)i * image, n, s->channels, s->size, s->size);
        if (dcgan_model_forward(m, x, 0, NULL) != DCGAN_OK) return 1;
        dcgan_tensor out = dcgan_model_output(m);
        for (int k = 0; k < n; k++) {
            prob[i + k] = sigmoidf_(out.data[k]);
            if (logit) logit[i + k] = out.data[k];
        }
    }
    return 0;
}

static int predict(dcgan_model *m, const image_set *s, float *prob) { return predict_logits(m, s, prob, NULL); }

// Mean binary cross-entropy of probabilities (clipped like Keras, eps 1e-7).
static double mean_bce(const float *prob, const int *labels, int n) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        double p = prob[i] < 1e-7f ? 1e-7 : prob[i] > 1.0f - 1e-7f ? 1.0 - 1e-7 : prob[i];
        sum -= labels[i] ? log(p) : log(1.0 - p);
    }
    return n ? sum / n : 0.0;
}

// Scratch of one training step: the batch's images, targets and loss gradients.
typedef struct {
    float *x;          // (batch, channels, size, size)
    float *targets;    // (batch)
    float *dlogits;    // (batch)
} step_buffers;

static void step_buffers_free(step_buffers *b) {
    free(b->x);
    free(b->targets);
    free(b->dlogits);
    memset(b, 0, sizeof *b);
}

// 0, or 1 (nothing left allocated) without memory.
static int step_buffers_init(step_buffers *b, int batch, size_t image) {
    b->x = (float *)malloc((size_t)batch * image * sizeof(float));
    b->targets = (float *)malloc((size_t)batch * sizeof(float));
    b->dlogits = (float *)malloc((size_t)batch * sizeof(float));
    if (b->x && b->targets && b->dlogits) return 0;
    step_buffers_free(b);
    return 1;
}

// One Adam step on the n images idx[0..n) of s: the batch (augmented with
// draws from rng when ranges is not NULL), forward in training mode, BCE with
// class weights w_class, backward, Adam. Adds the batch's weighted mean loss
// times n to *loss_sum and its correct calls (logit >= 0 is class 1) to
// *correct. 0, or 1 with the library's message in dcgan_last_error().
static int train_step(dcgan_model *m, dcgan_adam *opt, dcgan_rng *rng, const image_set *s, const int *idx,
                      int n, const double *w_class, const clf_augment_ranges *ranges, step_buffers *buf,
                      double *loss_sum, long *correct) {
    const size_t image = (size_t)s->channels * s->size * s->size;
    double wsum = 0.0;
    for (int b = 0; b < n; b++) {
        const float *src = s->data + (size_t)idx[b] * image;
        if (ranges) {
            clf_augment_params p;
            clf_augment_draw(&p, ranges, rng);
            clf_augment_apply(buf->x + (size_t)b * image, src, s->channels, s->size, s->size, &p);
        } else {
            memcpy(buf->x + (size_t)b * image, src, image * sizeof(float));
        }
        buf->targets[b] = (float)s->labels[idx[b]];
        wsum += w_class[s->labels[idx[b]]];
    }
    float loss;
    dcgan_model_zero_grad(m);
    dcgan_tensor x = dcgan_tensor_make(buf->x, n, s->channels, s->size, s->size);
    if (dcgan_model_forward(m, x, 1, rng) != DCGAN_OK ||
        dcgan_bce_with_logits(&loss, buf->dlogits, dcgan_model_output(m).data, buf->targets,
                              (size_t)n) != DCGAN_OK)
        return 1;
    // class weights: the loss is sum_i w_i l_i / sum_i w_i, so the
    // mean-loss gradient (sigmoid - y) / n becomes (sigmoid - y) w_i / sum w
    const float *logits = dcgan_model_output(m).data;
    double wloss = 0.0;
    for (int b = 0; b < n; b++) {
        double w = w_class[(int)buf->targets[b]];
        buf->dlogits[b] = (float)(buf->dlogits[b] * n * w / wsum);
        float z = logits[b];
        wloss += w * (fmax(z, 0.0) - z * buf->targets[b] + log1p(exp(-fabs(z))));
        *correct += (z >= 0.0f) == (buf->targets[b] > 0.5f);
    }
    *loss_sum += wloss / wsum * n;
    if (dcgan_model_backward(m, buf->dlogits, NULL) != DCGAN_OK || dcgan_model_adam_step(m, opt) != DCGAN_OK)
        return 1;
    return 0;
}

// ---------------------------------------------------------------------------
// classify split

static int cmd_split(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *prog = "classify split";
    double val = 0.15, test = 0.2;
    long seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: classify split --data DIR --out DIR [flags]\n"
                   "  --data DIR     Kermany layout: DIR/NORMAL, DIR/PNEUMONIA (required)\n"
                   "  --out DIR      gets train/, val/, test/ with NORMAL/ and PNEUMONIA/ (links)\n"
                   "  --val F        share of images for validation, patients kept whole (0.15)\n"
                   "  --test F       share of images for the test, patients kept whole   (0.2)\n"
                   "  --seed S       split seed                            (1)\n"
                   COMMON_USAGE);
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--data")) data = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--val")) val = cli_float(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--test")) test = cli_float(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int(prog, a, argv[i]);
        else if (common_flag(argc, argv, &i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!data || !out || !(val >= 0 && test > 0 && val + test < 1)) {
        fprintf(stderr, "%s: needs --data and --out, 0 <= --val, 0 < --test, --val + --test < 1\n", prog);
        return 2;
    }
    // An old split left in place would keep its links: a patient could end up on two sides.
    for (int k = 0; k < 3; k++) {
        static const char *side_names[3] = {"train", "val", "test"};
        char dir[4200];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/%s", out, side_names[k]);
        if (stat(dir, &sb) == 0) {
            fprintf(stderr, "%s: '%s' already holds a split (%s/ exists); remove it or choose another --out\n",
                    prog, out, side_names[k]);
            return 1;
        }
    }
    // Only the file names are needed: list both classes.
    char **paths[2] = {NULL, NULL};
    int counts[2] = {0, 0};
    for (int c = 0; c < 2; c++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", data, class_names[c]);
        const dcgan_status listed = dcgan_list_images(&paths[c], &counts[c], dir);
        if (listed != DCGAN_OK || counts[c] == 0 || duplicate_names(paths[c], counts[c], class_names[c], prog)) {
            if (listed != DCGAN_OK) fprintf(stderr, "%s: class %s: %s\n", prog, class_names[c], dcgan_last_error());
            else if (counts[c] == 0) no_images(prog, class_names[c], dir);
            dcgan_paths_free(paths[0], counts[0]);
            dcgan_paths_free(paths[1], counts[1]);
            return 1;
        }
        warn_other_files(prog, dir);
    }
    int n = counts[0] + counts[1], missing = 0;
    char **ids = (char **)calloc((size_t)n, sizeof(char *));
    int *labels = (int *)calloc((size_t)n, sizeof(int)), *side = (int *)calloc((size_t)n, sizeof(int));
    const char **files = (const char **)calloc((size_t)n, sizeof(char *));
    for (int c = 0, k = 0; c < 2; c++)
        for (int i = 0; i < counts[c]; i++, k++) {
            char buf[256] = "";
            if (patient_of(buf, sizeof buf, paths[c][i]) != 0 && ++missing <= 3)   // (a few, not thousands)
                fprintf(stderr, "%s: image '%s' has no patient in --patients '%s'\n", prog, paths[c][i],
                        patient_csv);
            ids[k] = strdup(buf);
            labels[k] = c;
            files[k] = paths[c][i];
        }
    warn_own_patients(prog, files, NULL, n, -1);
    double fr[3] = {1.0 - val - test, val, test};
    const char *sides[3] = {"train", "val", "test"};
    if (missing > 3) fprintf(stderr, "%s: ... and %d more of the %d images\n", prog, missing - 3, n);
    if (missing == n)   // none at all: most likely the names are written otherwise
        fprintf(stderr, "%s: --patients '%s' lists none of them; its names are matched whole, extension "
                        "included, without folders: it lists '%s', for one\n", prog, patient_csv,
                patient_table[0].file);
    int rc = missing > 0;
    // A patient in both classes cannot be split by class: say which.
    for (int k = 0; rc == 0 && k < counts[0]; k++)
        for (int j = counts[0]; j < n && rc == 0; j++)
            if (strcmp(ids[k], ids[j]) == 0) {
                fprintf(stderr, "%s: patient '%s' has images in both classes ('%s' and '%s')\n", prog, ids[k],
                        files[k], files[j]);
                rc = 1;
            }
    if (rc == 0 &&
        clf_split_by_group(side, (const char *const *)ids, labels, n, fr, 3, (uint64_t)seed) != DCGAN_OK) {
        fprintf(stderr, "%s: %s\n", prog, clf_last_error());
        rc = 1;
    }
    int table[3][2] = {{0}};
    for (int k = 0; rc == 0 && k < n; k++) table[side[k]][labels[k]]++;
    for (int c = 0; rc == 0 && c < 2; c++)
        for (int sd = 0; sd < 3; sd++)
            if (fr[sd] > 0 && table[sd][c] == 0) {
                int np = count_distinct(ids, labels, c, n);   // this class's patients
                fprintf(stderr, "%s: class %s has %d patient%s: too few for train, val and test shares "
                                "%.2f / %.2f / %.2f (%s gets none)\n", prog, class_names[c], np, np == 1 ? "" : "s",
                        fr[0], fr[1], fr[2], sides[sd]);
                rc = 1;
                break;
            }
    memset(table, 0, sizeof table);
    for (int k = 0; rc == 0 && k < n; k++) {
        char dir[4200], link[4600], target[PATH_MAX];
        const char *name = strrchr(files[k], '/');
        name = name ? name + 1 : files[k];
        snprintf(dir, sizeof dir, "%s/%s/%s", out, sides[side[k]], class_names[labels[k]]);
        snprintf(link, sizeof link, "%s/%s", dir, name);
        if (!realpath(files[k], target) || cli_mkdirs(dir) != 0 || symlink(target, link) != 0) {
            fprintf(stderr, "%s: cannot link '%s' to '%s': %s\n", prog, link, files[k], strerror(errno));
            rc = 1;
        }
        table[side[k]][labels[k]]++;
    }
    if (rc == 0) {
        int patients[3];   // a patient is on one side only
        for (int sd = 0; sd < 3; sd++) patients[sd] = count_distinct(ids, side, sd, n);
        printf("split by patient (seed %ld) into %s:\n  side   %7s %10s  patients\n", seed, out, class_names[0],
               class_names[1]);
        for (int s = 0; s < 3; s++)
            printf("  %-6s %7d %10d %9d\n", sides[s], table[s][0], table[s][1], patients[s]);
        if (val == 0)   // (no val/ folder was made: a --val naming it would find nothing)
            printf("  (--val 0: no val/ folder; classify train without --val holds out --val-fraction of "
                   "train/'s patients itself)\n");
    }
    ids_free(ids, n);
    free(labels);
    free(side);
    free(files);
    dcgan_paths_free(paths[0], counts[0]);
    dcgan_paths_free(paths[1], counts[1]);
    return rc;
}

// ---------------------------------------------------------------------------
// classify subset: nested training sets of the rare class for a learning curve

// One random order of the rare class's patients (PCG32 from seed, Fisher-Yates
// over the patients in order of their first sorted file); size K takes the
// first K patients of that order, so every subset holds the smaller ones. The
// other class is linked whole.
static int cmd_subset(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *sizes = NULL, *rare = NULL, *prog = "classify subset";
    long seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: classify subset --data DIR --out DIR --sizes 10,25,all [flags]\n"
                   "  --data DIR     training images: DIR/NEG and DIR/POS (e.g. SPLIT/train) (required)\n"
                   "  --out DIR      gets nK/train/{NEG,POS} (links) and nK/count.csv per size (required)\n"
                   "  --sizes LIST   numbers of patients of the rare class; 'all' = every one (required)\n"
                   "  --rare NAME    the class that is subsampled                (the negative class)\n"
                   "  --seed S       the order in which patients are taken       (1)\n"
                   COMMON_USAGE
                   "Subsets are nested: size K holds the first K patients of one random order.\n");
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--data")) data = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--sizes")) sizes = argv[i];
        else if (cli_flag(argc, argv, &i, "--rare")) rare = argv[i];
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int(prog, a, argv[i]);
        else if (common_flag(argc, argv, &i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!data || !out || !sizes) {
        fprintf(stderr, "%s: needs --data, --out and --sizes (see --help)\n", prog);
        return 2;
    }
    int rc_class = rare ? -1 : 0;
    for (int c = 0; c < 2 && rare; c++)
        if (strcmp(rare, class_names[c]) == 0) rc_class = c;
    if (rc_class < 0) {
        fprintf(stderr, "%s: --rare '%s' is neither class (%s, %s)\n", prog, rare, class_names[0], class_names[1]);
        return 2;
    }
    // The sizes: positive integers or 'all'.
    long want[32];
    char label[32][16];
    int n_sizes = 0;
    for (const char *p = sizes; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[16];
        if (len == 0 || len >= sizeof item || n_sizes == 32) {
            fprintf(stderr, "%s: --sizes wants up to 32 comma-separated sizes, got '%s'\n", prog, sizes);
            return 2;
        }
        memcpy(item, p, len);
        item[len] = 0;
        if (strcmp(item, "all") == 0) want[n_sizes] = -1;
        else {
            char *end;
            want[n_sizes] = strtol(item, &end, 10);
            if (*end || want[n_sizes] < 1) {
                fprintf(stderr, "%s: --sizes: '%s' is not a positive number of patients or 'all'\n", prog, item);
                return 2;
            }
        }
        snprintf(label[n_sizes], sizeof label[n_sizes], "%s", item);
        for (int j = 0; j < n_sizes; j++)
            if (strcmp(label[j], item) == 0) {
                fprintf(stderr, "%s: --sizes: '%s' is given twice\n", prog, item);
                return 2;
            }
        n_sizes++;
        p += len + (comma ? 1 : 0);
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", data, class_names[rc_class]);
    char **paths = NULL;
    int count = 0;
    const dcgan_status listed = dcgan_list_images(&paths, &count, dir);
    if (listed != DCGAN_OK || count == 0 || duplicate_names(paths, count, class_names[rc_class], prog)) {
        if (listed != DCGAN_OK) fprintf(stderr, "%s: class %s: %s\n", prog, class_names[rc_class], dcgan_last_error());
        else if (count == 0) no_images(prog, class_names[rc_class], dir);
        dcgan_paths_free(paths, count);
        return 1;
    }
    warn_other_files(prog, dir);
    // patient index of every file, patients in order of first appearance
    char **ids = (char **)calloc((size_t)count, sizeof(char *));
    int *patient = (int *)malloc((size_t)count * sizeof(int)), *order = (int *)malloc((size_t)count * sizeof(int));
    int n_patients = 0, rc = !ids || !patient || !order;
    if (rc) fprintf(stderr, "%s: out of memory\n", prog);
    for (int i = 0; rc == 0 && i < count; i++) {
        char buf[256] = "";
        if (patient_of(buf, sizeof buf, paths[i]) != 0) {
            fprintf(stderr, "%s: image '%s' has no patient in --patients '%s'\n", prog, paths[i], patient_csv);
            rc = 1;
            break;
        }
        patient[i] = -1;
        for (int j = 0; j < n_patients && patient[i] < 0; j++)
            if (strcmp(ids[j], buf) == 0) patient[i] = j;
        if (patient[i] < 0) {
            ids[n_patients] = strdup(buf);
            patient[i] = n_patients++;
        }
    }
    for (int k = 0; rc == 0 && k < n_sizes; k++)
        if (want[k] > n_patients) {
            fprintf(stderr, "%s: class %s in '%s' has %d patients; size %ld needs %ld\n", prog,
                    class_names[rc_class], data, n_patients, want[k], want[k]);
            rc = 1;
        }
    for (int k = 0; rc == 0 && k < n_sizes; k++) {
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/n%s/train", out, label[k]);
        if (stat(dir, &sb) == 0) {
            fprintf(stderr, "%s: '%s' already exists; remove it or choose another --out\n", prog, dir);
            rc = 1;
        }
    }
    if (rc == 0) {
        dcgan_rng rng;
        dcgan_rng_seed(&rng, (uint64_t)seed);
        for (int i = 0; i < n_patients; i++) order[i] = i;
        for (int i = n_patients - 1; i > 0; i--) {
            int j = (int)(dcgan_rng_u32(&rng) % (uint32_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    int *rank = (int *)malloc((size_t)(n_patients > 0 ? n_patients : 1) * sizeof(int));   // patient -> place in order
    if (!rank && rc == 0) { fprintf(stderr, "%s: out of memory\n", prog); rc = 1; }
    for (int i = 0; rc == 0 && i < n_patients; i++) rank[order[i]] = i;
    char other_dir[4200], other_target[PATH_MAX];
    snprintf(other_dir, sizeof other_dir, "%s/%s", data, class_names[1 - rc_class]);
    if (rc == 0 && (!is_folder(other_dir) || !realpath(other_dir, other_target))) {
        fprintf(stderr, "%s: '%s' is not a folder (the other class)\n", prog, other_dir);
        rc = 1;
    }
    // the other class, linked whole into every size: its images and patients, once
    int other_images = 0, other_patients = 0;
    char **op = NULL;
    if (rc == 0 && dcgan_list_images(&op, &other_images, other_target) != DCGAN_OK) {
        fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        rc = 1;
    }
    if (rc == 0) {
        image_set other_set = {0};   // only paths: patient_ids reads nothing else
        other_set.paths = op;
        other_set.count = other_images;
        char **other_ids = patient_ids(&other_set, prog, 0);
        other_patients = other_ids ? count_distinct(other_ids, NULL, 0, other_images) : -1;
        ids_free(other_ids, other_images);
        rc = other_patients < 0;
    }
    dcgan_paths_free(op, other_images);
    for (int k = 0; rc == 0 && k < n_sizes; k++) {
        long take = want[k] < 0 ? n_patients : want[k];
        int images = 0;
        char link[4600], target[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/n%s/train/%s", out, label[k], class_names[rc_class]);
        if (cli_mkdirs(dir) != 0) { fprintf(stderr, "%s: cannot create '%s'\n", prog, dir); rc = 1; break; }
        for (int i = 0; rc == 0 && i < count; i++) {
            if (rank[patient[i]] >= take) continue;
            snprintf(link, sizeof link, "%s/%s", dir, base_name(paths[i]));
            if (!realpath(paths[i], target) || symlink(target, link) != 0) {
                fprintf(stderr, "%s: cannot link '%s' to '%s': %s\n", prog, link, paths[i], strerror(errno));
                rc = 1;
            }
            images++;
        }
        snprintf(link, sizeof link, "%s/n%s/train/%s", out, label[k], class_names[1 - rc_class]);
        if (rc == 0 && symlink(other_target, link) != 0) {
            fprintf(stderr, "%s: cannot link '%s' to '%s': %s\n", prog, link, other_target, strerror(errno));
            rc = 1;
        }
        // count.csv: the rare class first
        snprintf(link, sizeof link, "%s/n%s/count.csv", out, label[k]);
        FILE *f = rc ? NULL : fopen(link, "w");
        if (f) fprintf(f, "class,patients,images\n%s,%ld,%d\n%s,%d,%d\n", class_names[rc_class], take, images,
                       class_names[1 - rc_class], other_patients, other_images);
        if (rc == 0 && (!f || fclose(f) != 0)) { fprintf(stderr, "%s: cannot write '%s'\n", prog, link); rc = 1; }
        if (rc == 0)
            printf("subset n%s: %ld of %d %s patients (%d images) + all %d %s images -> %s/n%s/train\n", label[k],
                   take, n_patients, class_names[rc_class], images, other_images, class_names[1 - rc_class], out,
                   label[k]);
    }
    for (int i = 0; ids && i < n_patients; i++) free(ids[i]);
    free(ids);
    free(patient);
    free(order);
    free(rank);
    dcgan_paths_free(paths, count);
    return rc;
}

// ---------------------------------------------------------------------------
// classify train

typedef struct {
    const char *data, *val, *out;
    const char *extra[8];
    int extra_label[8], n_extra;
    int balance;          // 0 none, 1 weight, 2 oversample
    int augment;          // 0 none, 1 classic
    int size, channels, width, epochs, batch, threads, resume;
    double lr, val_fraction;
    long seed, split_seed;
} train_options;

static void train_usage(void) {
    printf("usage: classify train --data DIR --out DIR [flags]\n"
           "  --data DIR          training images: DIR/NORMAL, DIR/PNEUMONIA    (required)\n"
           "  --out DIR           checkpoint, log.csv, curves.png              (required)\n"
           "  --val DIR           validation images (Kermany layout); without it --val-fraction\n"
           "                      of --data's patients is held out\n"
           "  --val-fraction F    share of patients held out for validation    (0.15)\n"
           "  --split-seed S      seed of that split                           (1)\n"
           "  --extra [CLASS=]DIR more training images for CLASS (the negative class unless given),\n"
           "                      synthetic ones; never used for validation (up to 8)\n"
           "  --balance MODE      none | weight (loss weights n/(2 n_class)) | oversample\n"
           "                      (the smaller class drawn again up to the larger) (none)\n"
           "  --augment MODE      none | classic (rotation, shift, zoom, brightness, contrast;\n"
           "                      no flips)                                    (none)\n"
           "  --size S            image side: 32 | 64 | 128                    (64)\n"
           "  --channels C        1 gray | 3 RGB                               (1)\n"
           "  --width W           filters of the first convolution, 1 to 256   (16)\n"
           "  --epochs N          epochs                                       (15)\n"
           "  --batch B           batch size                                   (32)\n"
           "  --lr LR             Adam learning rate (PyTorch Adam, betas 0.9 0.999) (1e-3)\n"
           "  --seed S            weights, order, augmentation, dropout        (1)\n"
           "  --threads N         threads; 0 = all cores                       (0)\n"
           "                      (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
           "  --resume            continue the run stopped in --out (same flags and images)\n"
           COMMON_USAGE BF16_USAGE
           "Ctrl-C (or SIGTERM) stops after the current step and writes OUT/resume.safetensors\n"
           "(also written after every epoch); --resume continues from it exactly. The\n"
           "checkpoint holds the epoch with the best validation ROC AUC (ties: the\n"
           "lower validation loss) and the threshold that maximises Youden's J on the\n"
           "validation images at that epoch.\n");
}

static int parse_train(train_options *o, int argc, char **argv) {
    const char *prog = "classify train";
    memset(o, 0, sizeof *o);
    o->size = 64;
    o->channels = 1;
    o->width = 16;
    o->epochs = 15;
    o->batch = 32;
    o->lr = 1e-3;
    o->val_fraction = 0.15;
    o->seed = o->split_seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) { train_usage(); exit(0); }
        else if (cli_switch(argv, i, "--resume")) o->resume = 1;
        else if (cli_flag(argc, argv, &i, "--data")) o->data = argv[i];
        else if (cli_flag(argc, argv, &i, "--val")) o->val = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) o->out = argv[i];
        else if (cli_flag(argc, argv, &i, "--extra")) {
            if (o->n_extra == 8) { fprintf(stderr, "%s: at most 8 --extra folders\n", prog); return 2; }
            o->extra[o->n_extra] = argv[i];   // CLASS= is read after every flag (--classes may follow)
            o->extra_label[o->n_extra++] = 0;
        }
        else if (cli_flag(argc, argv, &i, "--balance")) {
            if (strcmp(argv[i], "none") == 0) o->balance = 0;
            else if (strcmp(argv[i], "weight") == 0) o->balance = 1;
            else if (strcmp(argv[i], "oversample") == 0) o->balance = 2;
            else { fprintf(stderr, "%s: --balance is none, weight or oversample\n", prog); return 2; }
        }
        else if (cli_flag(argc, argv, &i, "--augment")) {
            if (strcmp(argv[i], "none") == 0) o->augment = 0;
            else if (strcmp(argv[i], "classic") == 0) o->augment = 1;
            else { fprintf(stderr, "%s: --augment is none or classic\n", prog); return 2; }
        }
        // int flags: range-checked as long, never cast first (--epochs 4294967297 was 1 epoch)
        else if (cli_flag(argc, argv, &i, "--size")) o->size = (int)cli_int_range(prog, a, argv[i], 32, 128);
        else if (cli_flag(argc, argv, &i, "--channels")) o->channels = (int)cli_int_range(prog, a, argv[i], 1, 3);
        else if (cli_flag(argc, argv, &i, "--width")) o->width = (int)cli_int_range(prog, a, argv[i], 1, 256);
        else if (cli_flag(argc, argv, &i, "--epochs")) o->epochs = (int)cli_int_range(prog, a, argv[i], 1, 1000000);
        else if (cli_flag(argc, argv, &i, "--batch")) o->batch = (int)cli_int_range(prog, a, argv[i], 2, 1000000);
        else if (cli_flag(argc, argv, &i, "--threads")) o->threads = (int)cli_int_range(prog, a, argv[i], 0, 4096);
        else if (cli_flag(argc, argv, &i, "--lr")) o->lr = cli_float(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--val-fraction")) o->val_fraction = cli_float(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--seed")) o->seed = cli_int(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--split-seed")) o->split_seed = cli_int(prog, a, argv[i]);
        else if (common_flag(argc, argv, &i, prog) || bf16_flag(argv, i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!o->data || !o->out) { fprintf(stderr, "%s: --data and --out are required (see --help)\n", prog); return 2; }
    for (int c = 0; c < 2; c++) {   // the folders of images train reads (--extra's below)
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/%s", o->data, class_names[c]);
        if (guard_out_in_data(prog, o->out, dir, "--data")) return 2;
        snprintf(dir, sizeof dir, "%s/%s", o->val ? o->val : "", class_names[c]);
        if (o->val && guard_out_in_data(prog, o->out, dir, "--val")) return 2;
    }
    for (int e = 0; e < o->n_extra; e++) {   // [CLASS=]DIR; without CLASS= the negative class
        const char *v = o->extra[e], *eq = strchr(v, '=');
        if (!eq || memchr(v, '/', (size_t)(eq - v))) continue;   // no CLASS= (a path may hold '=')
        int label = -1;
        for (int c = 0; c < 2; c++)
            if ((size_t)(eq - v) == strlen(class_names[c]) && strncmp(v, class_names[c], (size_t)(eq - v)) == 0)
                label = c;
        if (label < 0) {
            fprintf(stderr, "%s: --extra '%s': '%.*s' is neither class (%s, %s)\n", prog, v, (int)(eq - v), v,
                    class_names[0], class_names[1]);
            return 2;
        }
        o->extra[e] = eq + 1;
        o->extra_label[e] = label;
    }
    for (int e = 0; e < o->n_extra; e++)   // (the run's curves.png was a "generated" image next time)
        if (guard_out_in_data(prog, o->out, o->extra[e], "--extra")) return 2;
    if ((o->size != 32 && o->size != 64 && o->size != 128) || (o->channels != 1 && o->channels != 3) ||
        o->width < 1 || o->width > 256 || o->epochs < 1 || o->batch < 2 || !(o->lr > 0 && isfinite(o->lr)) ||
        !(o->val_fraction > 0 && o->val_fraction < 1)) {
        fprintf(stderr, "%s: --size 32|64|128, --channels 1|3, --width 1..256, --epochs >= 1, --batch >= 2, "
                        "--lr > 0 and finite, 0 < --val-fraction < 1\n", prog);
        return 2;
    }
    return 0;
}

// curves.png from the finished rows of history (epochs x 6, log.csv's columns).
// 0, or 1 with the reason in why.
static int write_train_curves(const char *out, const float *hist, int n, char *why, size_t why_cap) {
    const int W = 800, H = 420;
    unsigned char *rgb = (unsigned char *)malloc((size_t)W * H * 3 * 2);
    float *col = (float *)malloc((size_t)(n > 0 ? n : 1) * 5 * sizeof(float));
    if (!rgb || !col) {
        snprintf(why, why_cap, "curves.png: out of memory");
        free(rgb);
        free(col);
        return 1;
    }
    for (int k = 0; k < 5; k++)
        for (int e = 0; e < n; e++) col[(size_t)k * n + e] = hist[(size_t)e * CLASSIFY_HISTORY_COLS + k];
    dcgan_plot_series loss[2] = {{"train loss", col, {31, 119, 180}},
                                 {"validation loss", col + 2 * n, {255, 127, 14}}};
    dcgan_plot_series acc[3] = {{"train accuracy", col + n, {31, 119, 180}},
                                {"validation accuracy", col + 3 * n, {255, 127, 14}},
                                {"validation ROC AUC", col + 4 * n, {44, 160, 44}}};
    // two plots stacked: losses above, accuracy and AUC below; x = epoch (1 = first)
    dcgan_plot_draw(rgb, W, H, "Classifier loss (BCE)", "epoch (0 = the first)", loss, 2, (size_t)n, 1.0f);
    dcgan_plot_draw(rgb + (size_t)W * H * 3, W, H, "Accuracy and ROC AUC", "epoch (0 = the first)", acc, 3,
                    (size_t)n, 1.0f);
    char path[4200];
    snprintf(path, sizeof path, "%s/curves.png", out);
    const int rc = dcgan_png_write(path, rgb, W, 2 * H, 3) != DCGAN_OK;
    if (rc) snprintf(why, why_cap, "%s", dcgan_last_error());
    free(rgb);
    free(col);
    return rc;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

// FNV-1a over the pixels and labels of a set (what --resume checks the images by).
static uint64_t set_hash(uint64_t h, const image_set *s) {
    size_t image = (size_t)s->channels * s->size * s->size;
    h = classify_fnv1a(h, s->data, (size_t)s->count * image * sizeof(float));
    return classify_fnv1a(h, s->labels, (size_t)s->count * sizeof(int));
}

// Writes the resume state (with the optimiser's step and the RNG as they are now);
// 0, or 1 after printing why.
static int save_resume(const char *path, const dcgan_model *m, classify_position *pos, const dcgan_adam *opt,
                       const dcgan_rng *rng, const float *best_params, const float *best_buffers,
                       const float *hist, const int *order, const classify_expect *ex) {
    char why[4600];
    pos->adam_step = opt->step;
    pos->rng = *rng;
    if (classify_state_save(path, m, pos, best_params, best_buffers, hist, order, ex, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "\nclassify train: %s\n", why);
    return 1;
}

static int cmd_train(int argc, char **argv) {
    train_options o;
    const char *prog = "classify train";
    int rc = parse_train(&o, argc, argv);
    if (rc) return rc;
    char csv[4200], ckpt[4200], state_path[4200];
    snprintf(csv, sizeof csv, "%s/log.csv", o.out);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", o.out);
    snprintf(state_path, sizeof state_path, "%s/resume.safetensors", o.out);
    // a stopped run is never overwritten by accident, and --resume needs one
    if (!o.resume && file_exists(state_path)) {
        fprintf(stderr, "%s: '%s' holds a stopped run (%s); continue it with --resume, or delete that file "
                        "to start over\n", prog, o.out, state_path);
        return 1;
    }
    // nor a finished one, nor train's GAN run (any checkpoint): log.csv was emptied at the
    // start, so a new run that then failed left the old checkpoint beside an empty log
    if (!o.resume && file_exists(ckpt)) {
        fprintf(stderr, "%s: '%s' holds a run (%s); give another --out, or delete that folder "
                        "to start over\n", prog, o.out, ckpt);
        return 1;
    }
    // nor a user's own files named like the run's (beside a log.csv that begins with this
    // program's header line they are an earlier run's leftovers - killed in its first epoch,
    // its resume file deleted, failed at the end of a one-epoch run - and are replaced)
    static const char *const ours[] = {"log.csv", "curves.png"};
    if (!o.resume && guard_files_in_the_way(prog, o.out, ours, 2, CLASSIFY_LOG_HEADER, NULL))
        return 1;
    if (o.resume && !file_exists(state_path)) {
        if (file_exists(ckpt))
            fprintf(stderr, "%s: --resume: the run in '%s' has finished (%s); nothing to resume\n", prog, o.out, ckpt);
        else
            fprintf(stderr, "%s: --resume: no stopped run in '%s' (no %s)\n", prog, o.out, state_path);
        return 1;
    }
    int threads = dcgan_set_threads(o.threads);
    printf("config: %d thread%s, %dx%dx%d, width %d, epochs %d, batch %d, lr %g, balance %s, "
           "augment %s, seed %ld\n", threads, threads == 1 ? "" : "s", o.channels, o.size, o.size,
           o.width, o.epochs, o.batch, o.lr, o.balance == 0 ? "none" : o.balance == 1 ? "weight" : "oversample",
           o.augment ? "classic" : "none", o.seed);
    image_set all = {0}, train = {0}, val = {0};
    all.channels = train.channels = val.channels = o.channels;
    all.size = train.size = val.size = o.size;
    if (o.val && kermany_missing(o.val, prog)) return 1;   // (--data's: set_add_kermany, before decoding)
    for (int e = 0; e < o.n_extra; e++)
        if (!is_folder(o.extra[e])) {   // (set_add_folder's message is about --data's class folders)
            fprintf(stderr, "%s: --extra '%s' is not a folder (it takes a folder of generated %s images)\n", prog,
                    o.extra[e], class_names[o.extra_label[e]]);
            return 1;
        }
    if (set_add_kermany(&all, o.data, prog) != 0) { set_free(&all); return 1; }
    if (o.val) {
        if (set_add_kermany(&val, o.val, prog) != 0 || set_take(&train, &all, NULL) != 0) rc = 1;
    } else {
        // hold out val_fraction of the patients, stratified by class
        char **ids = patient_ids(&all, prog, 0);
        int *side = (int *)calloc((size_t)all.count, sizeof(int)), *keep = (int *)calloc((size_t)all.count, sizeof(int));
        double fr[2] = {1.0 - o.val_fraction, o.val_fraction};
        if (!ids || !side || !keep) {
            if (ids) fprintf(stderr, "%s: out of memory\n", prog);
            rc = 1;
        } else if (clf_split_by_group(side, (const char *const *)ids, all.labels, all.count, fr, 2,
                                        (uint64_t)o.split_seed) != DCGAN_OK) {
            fprintf(stderr, "%s: %s\n", prog, clf_last_error());
            rc = 1;
        } else {
            for (int i = 0; i < all.count; i++) keep[i] = side[i] == 0;
            if (set_take(&train, &all, keep) != 0) rc = 1;
            for (int i = 0; i < all.count; i++) keep[i] = side[i] == 1;
            if (set_take(&val, &all, keep) != 0) rc = 1;
        }
        ids_free(ids, all.count);
        free(side);
        free(keep);
    }
    set_free(&all);
    for (int e = 0; rc == 0 && e < o.n_extra; e++)
        if (set_add_folder(&train, o.extra[e], o.extra_label[e], 1, prog) != 0) rc = 1;
    if (rc == 0 && o.n_extra > 0 && extra_is_real(&train, &val, prog)) rc = 1;
    int n_class[2] = {0, 0}, v_class[2] = {0, 0};
    for (int i = 0; i < train.count; i++) n_class[train.labels[i]]++;
    for (int i = 0; i < val.count; i++) v_class[val.labels[i]]++;
    if (rc == 0 && (n_class[0] == 0 || n_class[1] == 0 || v_class[0] == 0 || v_class[1] == 0)) {
        fprintf(stderr, "%s: training has %d %s / %d %s and validation %d / %d images; "
                        "each needs both classes\n", prog, n_class[0], class_names[0], n_class[1], class_names[1],
                v_class[0], v_class[1]);
        rc = 1;
    }
    if (rc == 0 && cli_mkdirs(o.out) != 0) {   // only now, so bad input leaves nothing behind
        fprintf(stderr, "%s: cannot create '%s'\n", prog, o.out);
        rc = 1;
    }
    const int lock = rc ? -1 : guard_lock_folder(prog, o.out);   // one run per folder
    if (lock < 0) rc = 1;
    if (rc) { set_free(&train); set_free(&val); return rc; }
    printf("train: %d %s + %d %s; validation: %d %s + %d %s\n", n_class[0], class_names[0], n_class[1],
           class_names[1], v_class[0], class_names[0], v_class[1], class_names[1]);

    dcgan_model m;
    dcgan_adam opt;
    dcgan_rng rng;
    if (classifier_init(&m, o.channels, o.size, o.width, o.batch) != 0) {
        fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        set_free(&train);
        set_free(&val);
        close(lock);
        return 1;
    }
    dcgan_rng_seed(&rng, (uint64_t)o.seed);
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &rng);
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, o.lr, 0.9, 0.999);
    printf("model: %zu parameters\n", m.n_params);

    // The order of one epoch: every index once, or (oversample) the smaller
    // class drawn with replacement until it matches the larger.
    int big = n_class[0] > n_class[1] ? 0 : 1;
    int per_epoch = o.balance == 2 ? 2 * n_class[big] : train.count;
    int *order = (int *)malloc((size_t)per_epoch * sizeof(int));
    int *by_class[2] = {(int *)malloc((size_t)n_class[0] * sizeof(int)), (int *)malloc((size_t)n_class[1] * sizeof(int))};
    size_t image = (size_t)o.channels * o.size * o.size;
    step_buffers buf = {NULL, NULL, NULL};
    int buf_failed = step_buffers_init(&buf, o.batch, image);
    float *prob = (float *)malloc((size_t)val.count * sizeof(float));
    float *val_logit = (float *)malloc((size_t)val.count * sizeof(float));   // the AUC's order (see eval)
    float *best_params = (float *)malloc(m.n_params * sizeof(float));
    float *best_buffers = (float *)malloc((m.n_buffers ? m.n_buffers : 1) * sizeof(float));
    float *hist = (float *)calloc((size_t)o.epochs * CLASSIFY_HISTORY_COLS, sizeof(float));
    if (!order || !by_class[0] || !by_class[1] || buf_failed || !prob || !val_logit ||
        !best_params || !best_buffers || !hist) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    for (int i = 0, k0 = 0, k1 = 0; i < train.count; i++) {
        if (train.labels[i]) by_class[1][k1++] = i; else by_class[0][k0++] = i;
    }
    double w_class[2] = {1.0, 1.0};
    if (o.balance == 1)
        for (int c = 0; c < 2; c++) w_class[c] = (double)train.count / (2.0 * n_class[c]);
    clf_augment_ranges ranges;
    clf_augment_ranges_classic(&ranges);
    const int steps = per_epoch / o.batch > 0 ? per_epoch / o.batch : 1;

    // What --resume must find unchanged: every flag that changes the result
    // (--threads may change the last bits, so it is not held to) and the images.
    char sv[11][96];
    snprintf(sv[0], 96, "%d", o.size);
    snprintf(sv[1], 96, "%d", o.channels);
    snprintf(sv[2], 96, "%d", o.width);
    snprintf(sv[3], 96, "%d", o.epochs);
    snprintf(sv[4], 96, "%d", o.batch);
    snprintf(sv[5], 96, "%.17g", o.lr);
    snprintf(sv[6], 96, "%s", o.balance == 0 ? "none" : o.balance == 1 ? "weight" : "oversample");
    snprintf(sv[7], 96, "%s", o.augment ? "classic" : "none");
    snprintf(sv[8], 96, "%ld", o.seed);
    snprintf(sv[9], 96, "%ld/%.17g", o.split_seed, o.val ? 0.0 : o.val_fraction);
    snprintf(sv[10], 96, "%d train + %d validation images, FNV-1a %016llx", train.count, val.count,
             (unsigned long long)set_hash(set_hash(14695981039346656037ull, &train), &val));
    const char *s_keys[11] = {"size", "channels", "width", "epochs", "batch", "lr", "balance", "augment",
                              "seed", "split", "images"};
    const char *s_flags[11] = {"--size", "--channels", "--width", "--epochs", "--batch", "--lr", "--balance",
                               "--augment", "--seed", "--split-seed/--val-fraction",
                               "(images from --data, --val, --extra)"};
    const char *s_vals[11];
    for (int i = 0; i < 11; i++) s_vals[i] = sv[i];
    classify_expect ex = {o.epochs, steps, per_epoch, train.count, 11, s_keys, s_vals, s_flags};
    char why[4600];

    classify_position pos;
    memset(&pos, 0, sizeof pos);
    pos.epoch = 1;
    pos.best_auc = -1.0;
    pos.best_loss = INFINITY;
    if (o.resume) {
        if (classify_state_load(state_path, &m, &pos, best_params, best_buffers, hist, order, &ex, why,
                                sizeof why) != 0) {
            fprintf(stderr, "%s: --resume: %s\n", prog, why);
            return 1;
        }
        opt.step = pos.adam_step;
        rng = pos.rng;
        printf("resume: epoch %d, step %d of %d (best epoch so far: %d)\n", pos.epoch, pos.step, steps,
               pos.best_epoch);
    }
    // log.csv: the finished epochs (all of them again after --resume, so the rows are continuous)
    FILE *log = fopen(csv, "w");
    if (!log) { fprintf(stderr, "%s: cannot write '%s'\n", prog, csv); return 1; }
    fputs(CLASSIFY_LOG_HEADER, log);
    for (int e = 1; e < pos.epoch; e++) {
        const float *r = hist + (size_t)(e - 1) * CLASSIFY_HISTORY_COLS;
        fprintf(log, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f\n", e, r[0], r[1], r[2], r[3], r[4], r[5]);
    }
    fflush(log);

    cli_progress bar;
    cli_progress_start(&bar, "classify", (long)steps * o.epochs);
    bar.first = (long)(pos.epoch - 1) * steps + pos.step;   // (after --resume: the rate is this process's)
    int stopped = 0;
    // for tests: CLASSIFY_TEST_SIGINT_AFTER=N sends this process SIGINT after N steps
    const char *hook = getenv("CLASSIFY_TEST_SIGINT_AFTER");
    long hook_steps = hook ? atol(hook) : 0, steps_here = 0;
    guard_catch_signals();   // Ctrl-C / SIGTERM: stop after the step, write the state, exit 130 / 143
    for (int epoch = pos.epoch; epoch <= o.epochs && rc == 0 && !stopped; epoch++) {
        double t0 = cli_now() - pos.seconds;
        if (!pos.order_drawn) {
            if (o.balance == 2) {
                int k = 0, small = 1 - big;
                for (int i = 0; i < n_class[big]; i++) order[k++] = by_class[big][i];
                for (int i = 0; i < n_class[big]; i++)
                    order[k++] = by_class[small][dcgan_rng_u32(&rng) % (uint32_t)n_class[small]];
            } else {
                for (int i = 0; i < train.count; i++) order[i] = i;
            }
            for (int i = per_epoch - 1; i > 0; i--) {   // Fisher-Yates
                int j = (int)(dcgan_rng_u32(&rng) % (uint32_t)(i + 1)), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            pos.order_drawn = 1;
        }
        for (int s = pos.step; s < steps && rc == 0; s++) {
            if (guard_stop_requested()) {
                stopped = 1;
                break;
            }
            int n = o.batch <= per_epoch ? o.batch : per_epoch;
            if (train_step(&m, &opt, &rng, &train, order + (size_t)s * o.batch, n, w_class,
                           o.augment ? &ranges : NULL, &buf, &pos.loss_sum, &pos.correct) != 0) {
                fprintf(stderr, "\n%s: epoch %d: %s\n", prog, epoch, dcgan_last_error());
                rc = 1;
                break;
            }
            pos.seen += n;
            pos.step = s + 1;
            if (++steps_here == hook_steps) raise(SIGINT);
            char extra[64];
            snprintf(extra, sizeof extra, "epoch %d loss %.3f", epoch, pos.loss_sum / (double)pos.seen);
            cli_progress_update(&bar, (long)(epoch - 1) * steps + s + 1, extra);
        }
        if (rc) break;
        pos.epoch = epoch;
        pos.seconds = cli_now() - t0;
        if (stopped) break;
        if (predict_logits(&m, &val, prob, val_logit) != 0) {
            fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
            rc = 1;
            break;
        }
        double vloss = mean_bce(prob, val.labels, val.count);
        double vauc = clf_roc_auc(val_logit, val.labels, val.count);
        clf_binary_metrics vm;
        clf_binary_metrics_compute(&vm, prob, val.labels, val.count, 0.5f);
        float *row = hist + (size_t)(epoch - 1) * CLASSIFY_HISTORY_COLS;
        row[0] = (float)(pos.loss_sum / (double)pos.seen);
        row[1] = (float)pos.correct / (float)pos.seen;
        row[2] = (float)vloss;
        row[3] = (float)vm.accuracy;
        row[4] = (float)vauc;
        row[5] = (float)(cli_now() - t0);
        fprintf(log, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f\n", epoch, row[0], row[1], row[2], row[3], row[4], row[5]);
        fflush(log);
        if (vauc > pos.best_auc || (vauc == pos.best_auc && vloss < pos.best_loss)) {
            pos.best_auc = vauc;
            pos.best_loss = vloss;
            pos.best_epoch = epoch;
            memcpy(best_params, m.params, m.n_params * sizeof(float));
            if (m.n_buffers) memcpy(best_buffers, m.buffers, m.n_buffers * sizeof(float));
        }
        // the next epoch, not begun: written after every epoch, so a kill -9 loses at most one
        pos.epoch = epoch + 1;
        pos.step = 0;
        pos.order_drawn = 0;
        pos.loss_sum = 0.0;
        pos.correct = pos.seen = 0;
        pos.seconds = 0.0;
        if (epoch < o.epochs &&
            save_resume(state_path, &m, &pos, &opt, &rng, best_params, best_buffers, hist, order, &ex) != 0)
            rc = 1;
    }
    fclose(log);
    if (rc == 0 && stopped) {
        if (save_resume(state_path, &m, &pos, &opt, &rng, best_params, best_buffers, hist, order, &ex) != 0) {
            rc = 1;
        } else {
            fprintf(stderr, "\n%s: stopped at epoch %d, step %d; continue with --resume\n", prog, pos.epoch,
                    pos.step);
            rc = 128 + guard_stop_requested();
        }
    } else if (rc == 0) {
        // back to the best epoch; the threshold comes from its validation scores (prob held
        // the last epoch's, so an unchecked failure here gave the checkpoint their threshold).
        // For tests: CLASSIFY_TEST_FAIL_BEST_PREDICT=1 makes this prediction fail.
        memcpy(m.params, best_params, m.n_params * sizeof(float));
        if (m.n_buffers) memcpy(m.buffers, best_buffers, m.n_buffers * sizeof(float));
        const int fail_hook = getenv("CLASSIFY_TEST_FAIL_BEST_PREDICT") != NULL;
        if (fail_hook || predict(&m, &val, prob) != 0) {
            fprintf(stderr, "%s: scoring the validation images at the best epoch (%d): %s; no checkpoint "
                            "written\n", prog, pos.best_epoch,
                    fail_hook ? "failed (CLASSIFY_TEST_FAIL_BEST_PREDICT)" : dcgan_last_error());
            rc = 1;
        }
    }
    if (rc == 0 && !stopped) {
        float thr = clf_threshold_youden(prob, val.labels, val.count);
        char v_size[16], v_ch[16], v_w[16], v_thr[32], v_ep[16], v_auc[32], v_seed[32], v_classes[260];
        snprintf(v_size, sizeof v_size, "%d", o.size);
        snprintf(v_ch, sizeof v_ch, "%d", o.channels);
        snprintf(v_w, sizeof v_w, "%d", o.width);
        snprintf(v_thr, sizeof v_thr, "%.9g", (double)thr);
        snprintf(v_ep, sizeof v_ep, "%d", pos.best_epoch);
        snprintf(v_auc, sizeof v_auc, "%.6f", pos.best_auc);
        snprintf(v_seed, sizeof v_seed, "%ld", o.seed);
        snprintf(v_classes, sizeof v_classes, "%s,%s", class_names[0], class_names[1]);
        const char *keys[9] = {"kind", "size", "channels", "width", "threshold", "best_epoch", "val_auc", "seed",
                               "classes"};
        const char *vals[9] = {"classifier", v_size, v_ch, v_w, v_thr, v_ep, v_auc, v_seed, v_classes};
        if (dcgan_model_save(&m, ckpt, keys, vals, 9) != DCGAN_OK) {
            fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
            rc = 1;
        } else {
            if (file_exists(state_path) && remove(state_path) != 0)
                fprintf(stderr, "%s: warning: could not remove '%s'\n", prog, state_path);
            // the plot last: a plot that cannot be written fails the run but keeps the checkpoint
            if (write_train_curves(o.out, hist, o.epochs, why, sizeof why) != 0) {
                fprintf(stderr, "%s: %s; wrote %s and %s, not %s/curves.png\n", prog, why, ckpt, csv, o.out);
                rc = 1;
            } else {
                printf("train: best epoch %d (validation ROC AUC %.4f), threshold %.4f; wrote %s, %s, "
                       "%s/curves.png\n", pos.best_epoch, pos.best_auc, (double)thr, ckpt, csv, o.out);
            }
        }
    }
    free(hist);
    free(order);
    free(by_class[0]);
    free(by_class[1]);
    step_buffers_free(&buf);
    free(prob);
    free(val_logit);
    free(best_params);
    free(best_buffers);
    dcgan_model_free(&m);
    set_free(&train);
    set_free(&val);
    close(lock);
    return rc;
}

// ---------------------------------------------------------------------------
// A classifier checkpoint

// Builds *m (batches up to 64) from a checkpoint of classify train, after its
// metadata say it is one; *size, *channels: the images it takes; *thr: its
// threshold; classes (cap bytes, may be NULL): its "NEG,POS", "" when the
// checkpoint is older than that record. 0, or 1 after printing why (*m is then zeroed).
static int classifier_load(dcgan_model *m, int *size, int *channels, float *thr, char *classes, size_t cap,
                           const char *ckpt, const char *prog) {
    memset(m, 0, sizeof *m);
    // What kind of file is it? Read the metadata before building anything.
    dcgan_safetensors st;
    if (dcgan_safetensors_read(&st, ckpt) != DCGAN_OK) {
        fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        return 1;
    }
    const char *kind = dcgan_safetensors_meta(&st, "kind"), *format = dcgan_safetensors_meta(&st, "format");
    int width = 0;
    int ok = kind && strcmp(kind, "classifier") == 0;
    if (ok) {
        const char *v;
        *size = (v = dcgan_safetensors_meta(&st, "size")) ? atoi(v) : 0;
        *channels = (v = dcgan_safetensors_meta(&st, "channels")) ? atoi(v) : 0;
        width = (v = dcgan_safetensors_meta(&st, "width")) ? atoi(v) : 0;
        *thr = (v = dcgan_safetensors_meta(&st, "threshold")) ? (float)atof(v) : NAN;
        ok = (*size == 32 || *size == 64 || *size == 128) && (*channels == 1 || *channels == 3) &&
             width >= 1 && width <= 256 && isfinite(*thr);
        if (classes) snprintf(classes, cap, "%s", (v = dcgan_safetensors_meta(&st, "classes")) ? v : "");
    }
    if (!ok) {
        if (format && strcmp(format, "dcgan.h checkpoint") == 0)
            fprintf(stderr, "%s: '%s' is a GAN checkpoint (from train), not a classifier (from "
                            "classify train)\n", prog, ckpt);
        else
            fprintf(stderr, "%s: '%s' is not a classifier checkpoint from classify train (metadata "
                            "'kind' is %s, or its size/channels/width/threshold are missing)\n",
                    prog, ckpt, kind ? kind : "missing");
        dcgan_safetensors_free(&st);
        return 1;
    }
    dcgan_safetensors_free(&st);
    if (classifier_init(m, *channels, *size, width, 64) != 0 || dcgan_model_load(m, ckpt) != DCGAN_OK) {
        fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        dcgan_model_free(m);
        return 1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
// classify eval

// eval.txt beside metrics.csv says what was evaluated: "checkpoint PATH" and
// "data PATH" (resolved), then "bootstrap B" and "seed S". A folder whose
// eval.txt names another checkpoint or data folder is refused: metrics.csv alone
// does not say whether it holds a test set's numbers or a training set's, and
// one would replace the other without a word. (Another --bootstrap or --seed of
// the same evaluation replaces it: the same numbers, other intervals.)
static void eval_inputs(char *ck, char *dt, size_t cap, const char *ckpt, const char *data) {
    char r[PATH_MAX];
    snprintf(ck, cap, "%s", realpath(ckpt, r) ? r : ckpt);
    snprintf(dt, cap, "%s", realpath(data, r) ? r : data);
}

// 1 after the message when out_dir/eval.txt records other inputs, else 0 (and 0
// when either input is missing: the loaders say so, in their own words).
static int eval_record_differs(const char *out_dir, const char *ckpt, const char *data, const char *prog) {
    char path[4300], line[PATH_MAX + 32], ck[PATH_MAX], dt[PATH_MAX], was[2][PATH_MAX + 32] = {"", ""};
    if (!realpath(ckpt, ck) || !realpath(data, dt)) return 0;
    snprintf(path, sizeof path, "%s/eval.txt", out_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "checkpoint ", 11) == 0) snprintf(was[0], sizeof was[0], "%s", line + 11);
        else if (strncmp(line, "data ", 5) == 0) snprintf(was[1], sizeof was[1], "%s", line + 5);
    }
    fclose(f);
    if (strcmp(was[0], ck) == 0 && strcmp(was[1], dt) == 0) return 0;
    fprintf(stderr, "%s: '%s' holds the evaluation of '%s' on '%s' (its eval.txt); this one ('%s' on '%s') would "
                    "replace it: give another --out\n", prog, out_dir, was[0], was[1], ck, dt);
    return 1;
}

// Writes out_dir/eval.txt (via .tmp); 0, or 1 after the message.
static int eval_record_write(const char *out_dir, const char *ckpt, const char *data, long boot, long seed,
                             const char *prog) {
    char path[4300], tmp[4400], ck[PATH_MAX], dt[PATH_MAX];
    eval_inputs(ck, dt, sizeof ck, ckpt, data);
    snprintf(path, sizeof path, "%s/eval.txt", out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f) fprintf(f, "checkpoint %s\ndata %s\nbootstrap %ld\nseed %ld\n", ck, dt, boot, seed);
    if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: cannot write '%s'\n", prog, path);
        remove(tmp);
        return 1;
    }
    return 0;
}

// eval warns below this many test patients in a class (its intervals come
// from a bootstrap over patients)
#define EVAL_FEW_PATIENTS 20

static int cmd_eval(int argc, char **argv) {
    const char *prog = "classify eval", *ckpt = NULL, *data = NULL, *out = NULL;
    long seed = 1, boot = 1000, threads = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: classify eval --checkpoint FILE --data DIR [flags]\n"
                   "  --checkpoint FILE  written by classify train                  (required)\n"
                   "  --data DIR         test images: DIR/NORMAL, DIR/PNEUMONIA     (required)\n"
                   "  --out DIR          metrics.csv, scores.csv, roc.png, eval.txt (what was evaluated)\n"
                   "                     (the checkpoint's folder/eval; one holding another\n"
                   "                     checkpoint's or data folder's evaluation is refused)\n"
                   "  --bootstrap B      resamples of the patients, 2..1000000      (1000)\n"
                   "  --seed S           bootstrap seed                             (1)\n"
                   "  --threads N        threads; 0 = all cores                     (0)\n"
                   "                     (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
                   COMMON_USAGE BF16_USAGE
                   "Without --classes, eval takes the classes the checkpoint was trained with; other\n"
                   "ones are refused. (A checkpoint from a build before that record: NORMAL,PNEUMONIA\n"
                   "without --classes, and --classes taken as given.)\n");
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--checkpoint")) ckpt = argv[i];
        else if (cli_flag(argc, argv, &i, "--data")) data = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (cli_flag(argc, argv, &i, "--bootstrap")) boot = cli_int_range(prog, a, argv[i], 2, 1000000);
        else if (cli_flag(argc, argv, &i, "--seed")) seed = cli_int(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--threads")) threads = cli_int_range(prog, a, argv[i], 0, 4096);
        else if (common_flag(argc, argv, &i, prog) || bf16_flag(argv, i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!ckpt || !data || boot < 2) {
        fprintf(stderr, "%s: --checkpoint and --data are required, --bootstrap >= 2 (see --help)\n", prog);
        return 2;
    }
    dcgan_set_threads((int)threads);
    char out_dir[4200];
    if (out) snprintf(out_dir, sizeof out_dir, "%s", out);
    else {
        const char *slash = strrchr(ckpt, '/');
        if (slash) snprintf(out_dir, sizeof out_dir, "%.*s/eval", (int)(slash - ckpt), ckpt);
        else snprintf(out_dir, sizeof out_dir, "eval");
    }
    if (eval_record_differs(out_dir, ckpt, data, prog)) return 1;
    dcgan_model m;
    int size = 0, channels = 0;
    float thr = 0.5f;
    char classes[512];
    if (classifier_load(&m, &size, &channels, &thr, classes, sizeof classes, ckpt, prog) != 0) return 1;
    // The classes it was trained on, in their order: another order turns every label,
    // and so every metric, over (AUC 0.3 for 0.7), and other names are other classes.
    char given[260];
    snprintf(given, sizeof given, "%s,%s", class_names[0], class_names[1]);
    if (classes[0] && !classes_given && classes_set(classes) != 0) {
        fprintf(stderr, "%s: '%s' records classes '%s', not two folder names NEG,POS\n", prog, ckpt, classes);
        dcgan_model_free(&m);
        return 1;
    }
    if (classes[0] && classes_given && strcmp(classes, given) != 0) {
        fprintf(stderr, "%s: '%s' was trained with --classes %s, not %s (the second class is the positive "
                        "one); give --classes %s, or leave it out\n", prog, ckpt, classes, given, classes);
        dcgan_model_free(&m);
        return 1;
    }
    image_set test = {0};
    test.channels = channels;
    test.size = size;
    // the patients of scores.csv, before anything is written (a --patients CSV may miss an image)
    char **patients = NULL;
    if (set_add_kermany(&test, data, prog) != 0 || (patients = patient_ids(&test, prog, 0)) == NULL) {
        dcgan_model_free(&m);
        set_free(&test);
        return 1;
    }
    float *prob = (float *)malloc((size_t)test.count * sizeof(float));
    float *logit = (float *)malloc((size_t)test.count * sizeof(float));
    float *fpr = (float *)malloc(((size_t)test.count + 1) * sizeof(float));
    float *tpr = (float *)malloc(((size_t)test.count + 1) * sizeof(float));
    int *patient = (int *)malloc((size_t)(test.count > 0 ? test.count : 1) * sizeof(int));
    int rc = 0, n_patients = patient ? patient_numbers(patient, patients, test.labels, test.count) : -1;
    if (!prob || !logit || !fpr || !tpr || n_patients < 0 || predict_logits(&m, &test, prob, logit) != 0) {
        fprintf(stderr, "%s: %s\n", prog,
                prob && logit && fpr && tpr && n_patients >= 0 ? dcgan_last_error() : "out of memory");
        rc = 1;
    }
    // The threshold metrics from the scores (called = score >= threshold, as in
    // scores.csv); the ROC AUC from the logits: float32 rounds sigmoid(logit) to
    // exactly 0 or 1 beyond |logit| ~ 17, and those ties would count one half
    // (logits x 1000 gave AUC 0.775 instead of the network's 0.9175). The
    // bootstrap of the logits, seeded alike, draws the same resamples. The bootstrap
    // draws patients (Kermany's file names, or --patients), each with all its images:
    // an image-level one makes the intervals too narrow where patients have several.
    clf_binary_metrics mm, lo, hi, lo_logit, hi_logit;
    if (rc == 0) {
        clf_binary_metrics_compute(&mm, prob, test.labels, test.count, thr);
        mm.auc = clf_roc_auc(logit, test.labels, test.count);
        if (clf_binary_metrics_bootstrap_patients(&lo, &hi, prob, test.labels, patient, test.count, n_patients,
                                                  thr, (int)boot, (uint64_t)seed, 0.95) != DCGAN_OK ||
            clf_binary_metrics_bootstrap_patients(&lo_logit, &hi_logit, logit, test.labels, patient, test.count,
                                                  n_patients, 0.0f, (int)boot, (uint64_t)seed, 0.95) != DCGAN_OK) {
            fprintf(stderr, "%s: %s\n", prog, clf_last_error());
            rc = 1;
        } else {
            lo.auc = lo_logit.auc;
            hi.auc = hi_logit.auc;
        }
    }
    if (rc == 0 && cli_mkdirs(out_dir) != 0) {
        fprintf(stderr, "%s: cannot create '%s'\n", prog, out_dir);
        rc = 1;
    }
    if (rc == 0) {
        // Few patients make the intervals too narrow: a bootstrap over clusters
        // needs many of them (Cameron, Gelbach and Miller 2008, on few clusters).
        int per_class[2] = {0, 0};
        for (int i = 0, seen = 0; i < test.count; i++)   // (a patient's first image: numbered next)
            if (patient[i] == seen) per_class[test.labels[i]]++, seen++;
        if (per_class[0] < EVAL_FEW_PATIENTS || per_class[1] < EVAL_FEW_PATIENTS)
            fprintf(stderr, "%s: warning: the test images are of %d %s and %d %s patients; with fewer than %d "
                            "in a class the 95%% intervals below are too narrow (they resample patients)\n",
                    prog, per_class[0], class_names[0], per_class[1], class_names[1], EVAL_FEW_PATIENTS);
        printf("%s on %s: %d images (%d %s, %d %s), threshold %.4f\n", ckpt, data, test.count, mm.tn + mm.fp,
               class_names[0], mm.tp + mm.fn, class_names[1], (double)thr);
        printf("  metric              value   95%% interval (bootstrap of the %d patients, %ld resamples, seed %ld)\n",
               n_patients, boot, seed);
        char path[4300], tmp[4400];
        snprintf(path, sizeof path, "%s/metrics.csv", out_dir);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f) fprintf(f, "metric,value,lo,hi\n");
        for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) {
            printf("  %-18s %7.4f   [%.4f, %.4f]\n", clf_binary_metric_name(k), clf_binary_metric_get(&mm, k),
                   clf_binary_metric_get(&lo, k), clf_binary_metric_get(&hi, k));
            if (f) fprintf(f, "%s,%.6f,%.6f,%.6f\n", clf_binary_metric_name(k), clf_binary_metric_get(&mm, k),
                           clf_binary_metric_get(&lo, k), clf_binary_metric_get(&hi, k));
        }
        char called[2][160];
        for (int c = 0; c < 2; c++) snprintf(called[c], sizeof called[c], "called %s", class_names[c]);
        printf("  confusion matrix %17s %17s\n    %-14s %16d %17d\n    %-14s %16d %17d\n", called[0], called[1],
               class_names[0], mm.tn, mm.fp, class_names[1], mm.fn, mm.tp);
        if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
            fprintf(stderr, "%s: cannot write '%s'\n", prog, path);
            rc = 1;
        }
        snprintf(path, sizeof path, "%s/scores.csv", out_dir);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "w");
        if (f) {
            // label and called: 1 = the positive class (class_names[1]); score = P(positive),
            // called = score >= threshold (the checkpoint's decision); logit: the network's
            // output, in the same order as score but without float32's ties near 0 and 1
            fprintf(f, "path,patient,label,score,threshold,called,logit\n");
            // path and patient quoted as RFC 4180 has it when they hold a comma or a quote
            for (int i = 0; i < test.count; i++) {
                cli_csv_field(f, test.paths[i]);
                fputc(',', f);
                cli_csv_field(f, patients[i]);
                fprintf(f, ",%d,%.9g,%.9g,%d,%.9g\n", test.labels[i], (double)prob[i], (double)thr,
                        prob[i] >= thr, (double)logit[i]);
            }
        }
        if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
            fprintf(stderr, "%s: cannot write '%s'\n", prog, path);
            rc = 1;
        }
        // ROC curve: TPR as a step function of FPR sampled at 0, 0.01, ..., 1
        int count = 0;
        if (rc == 0 && clf_roc_curve(fpr, tpr, &count, logit, test.labels, test.count) == DCGAN_OK) {
            float curve[101], diag[101];
            for (int g = 0; g <= 100; g++) {
                float x = g / 100.0f, best = 0.0f;
                for (int k = 0; k < count; k++)
                    if (fpr[k] <= x + 1e-6f && tpr[k] > best) best = tpr[k];
                curve[g] = best;
                diag[g] = x;
            }
            char label[64];
            snprintf(label, sizeof label, "ROC, AUC %.3f", mm.auc);
            dcgan_plot_series s[2] = {{label, curve, {31, 119, 180}}, {"chance", diag, {160, 160, 160}}};
            unsigned char *rgb = (unsigned char *)malloc(560 * 560 * 3);
            if (rgb) {
                dcgan_plot_draw(rgb, 560, 560, "ROC: true positive rate", "false positive rate", s, 2, 101, 0.01f);
                snprintf(path, sizeof path, "%s/roc.png", out_dir);
                if (dcgan_png_write(path, rgb, 560, 560, 3) != DCGAN_OK) {
                    fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
                    rc = 1;
                }
                free(rgb);
            }
        }
        if (rc == 0) rc = eval_record_write(out_dir, ckpt, data, boot, seed, prog);
        if (rc == 0) printf("wrote %s/metrics.csv, scores.csv, roc.png, eval.txt\n", out_dir);
    }
    ids_free(patients, test.count);
    free(prob);
    free(logit);
    free(fpr);
    free(tpr);
    free(patient);
    set_free(&test);
    dcgan_model_free(&m);
    return rc;
}

// ---------------------------------------------------------------------------
// classify summarize

#define MAX_ARMS 8
#define MAX_SEEDS 1000   // summarize looks for seed1 .. seed1000

// The arms named by X-Y of --compare (arm names may hold '-': every split is
// tried). 1 with *xa, *ya set when exactly one split names two arms, else 0.
static int compare_pair(const char *pair, char arms[][64], int n_arms, int *xa, int *ya) {
    int found = 0;
    for (const char *dash = strchr(pair, '-'); dash; dash = strchr(dash + 1, '-')) {
        int x = -1, y = -1;
        for (int a = 0; a < n_arms; a++) {
            if (strlen(arms[a]) == (size_t)(dash - pair) && strncmp(arms[a], pair, (size_t)(dash - pair)) == 0)
                x = a;
            if (strcmp(arms[a], dash + 1) == 0) y = a;
        }
        if (x >= 0 && y >= 0) {
            *xa = x;
            *ya = y;
            found++;
        }
    }
    return found == 1;
}

// Reads metrics.csv's values into v[CLF_BINARY_METRIC_COUNT]; 0 on success.
static int read_metrics(const char *path, double *v) {
    FILE *f = fopen(path, "r");
    char line[256];
    int found = 0;
    if (!f) return 1;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        double x, lo, hi;
        if (sscanf(line, "%63[^,],%lf,%lf,%lf", name, &x, &lo, &hi) != 4) continue;
        for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++)
            if (strcmp(name, clf_binary_metric_name(k)) == 0) { v[k] = x; found |= 1 << k; }
    }
    fclose(f);
    return found == (1 << CLF_BINARY_METRIC_COUNT) - 1 ? 0 : 1;
}

static void mean_sd(const double *x, int n, double *mean, double *sd) {
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = n ? s / n : NAN;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : NAN;
}

static int cmd_summarize(int argc, char **argv) {
    const char *prog = "classify summarize", *runs = NULL, *arms_arg = NULL, *out = NULL, *title = NULL;
    const char *compare = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: classify summarize --runs DIR --arms a,b,... --out FILE.md [flags]\n"
                   "  --runs DIR        holds ARM/seedN/eval/metrics.csv, N = 1..1000 (required)\n"
                   "  --arms LIST       arm folder names, in table order, up to 8       (required)\n"
                   "  --compare LIST    paired differences X-Y, e.g. d-a,d-b             (none)\n"
                   "  --title TEXT      heading of the report                          (Results)\n"
                   "  --classes NEG,POS the class names eval used; POS is the positive class\n"
                   "                    (NORMAL,PNEUMONIA)\n"
                   "  --out FILE.md     the report; FILE.png gets the bar chart         (required)\n");
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--runs")) runs = argv[i];
        else if (cli_flag(argc, argv, &i, "--arms")) arms_arg = argv[i];
        else if (cli_flag(argc, argv, &i, "--compare")) compare = argv[i];
        else if (cli_flag(argc, argv, &i, "--title")) title = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (strcmp(a, "--classes") == 0 && common_flag(argc, argv, &i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!runs || !arms_arg || !out) {
        fprintf(stderr, "%s: --runs, --arms and --out are required (see --help)\n", prog);
        return 2;
    }
    // the arms, all of them (a ninth was dropped without a word), then every
    // --compare pair, before anything is read or written
    char arms[MAX_ARMS][64];
    int n_arms = 0;
    for (const char *p = arms_arg;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof arms[0] || n_arms == MAX_ARMS) {
            fprintf(stderr, "%s: --arms wants 1 to %d comma-separated folder names (each 1 to %d characters), "
                            "got '%s'\n", prog, MAX_ARMS, (int)sizeof arms[0] - 1, arms_arg);
            return 2;
        }
        snprintf(arms[n_arms++], sizeof arms[0], "%.*s", (int)len, p);
        p += len;
        if (*p == 0) break;
    }
    for (const char *p = compare ? compare : ""; *p;) {
        size_t len = strcspn(p, ",");
        char pair[130];
        int xa, ya;
        snprintf(pair, sizeof pair, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        if (!compare_pair(pair, arms, n_arms, &xa, &ya)) {
            fprintf(stderr, "%s: --compare '%s' is not X-Y of two arms in --arms\n", prog, pair);
            return 2;
        }
    }
    // values[arm][seed][metric]; seeds are the seedN folders present in every arm
    static double values[MAX_ARMS][MAX_SEEDS][CLF_BINARY_METRIC_COUNT];
    int seeds[MAX_SEEDS], n_seeds = 0;
    for (int s = 1; s <= MAX_SEEDS; s++) {
        int all = 1;
        for (int a = 0; a < n_arms && all; a++) {
            char path[4300];
            snprintf(path, sizeof path, "%s/%s/seed%d/eval/metrics.csv", runs, arms[a], s);
            all = read_metrics(path, values[a][n_seeds]) == 0;
        }
        if (all) seeds[n_seeds++] = s;
    }
    if (n_seeds == 0) {
        fprintf(stderr, "%s: no seed has a complete set of %s/<arm>/seedN/eval/metrics.csv for the arms %s\n",
                prog, runs, arms_arg);
        return 1;
    }
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    if (!f) { fprintf(stderr, "%s: cannot write '%s'\n", prog, tmp); return 1; }
    fprintf(f, "# %s\n\nTest-set metrics, %s over %d seed%s (", title ? title : "Results",
            n_seeds > 1 ? "mean +- sd" : "one run", n_seeds, n_seeds == 1 ? "" : "s");
    for (int s = 0; s < n_seeds; s++) fprintf(f, "%s%d", s ? ", " : "", seeds[s]);
    fprintf(f, "). Positive class: %s.\n\n| arm |", class_names[1]);
    for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) fprintf(f, " %s |", clf_binary_metric_name(k));
    fprintf(f, "\n|---|");
    for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) fprintf(f, "---|");
    fprintf(f, "\n");
    printf("%-28s", "arm");
    for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) printf(" %17s", clf_binary_metric_name(k));
    printf("\n");
    float bars[4][MAX_ARMS], errs[4 * MAX_ARMS];
    const int bar_metric[4] = {6, 1, 2, 3};   // auc, balanced accuracy, sensitivity, specificity
    for (int a = 0; a < n_arms; a++) {
        fprintf(f, "| %s |", arms[a]);
        printf("%-28s", arms[a]);
        for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) {
            double x[MAX_SEEDS], mean, sd;
            for (int s = 0; s < n_seeds; s++) x[s] = values[a][s][k];
            mean_sd(x, n_seeds, &mean, &sd);
            if (n_seeds > 1) {
                fprintf(f, " %.3f +- %.3f |", mean, sd);
                printf("   %.3f +- %.3f ", mean, sd);
            } else {
                fprintf(f, " %.3f |", mean);
                printf(" %17.3f", mean);
            }
            for (int b = 0; b < 4; b++)
                if (bar_metric[b] == k) {
                    bars[b][a] = (float)mean;
                    errs[b * n_arms + a] = (float)(n_seeds > 1 ? sd : 0.0);
                }
        }
        fprintf(f, "\n");
        printf("\n");
    }
    if (compare && *compare) {
        fprintf(f, "\nPaired differences (same seed, same split and test set): mean and 95%% interval "
                   "mean +- t(0.975, n-1) sd / sqrt(n) over the %d seeds.\n\n| difference |", n_seeds);
        for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) fprintf(f, " %s |", clf_binary_metric_name(k));
        fprintf(f, "\n|---|");
        for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) fprintf(f, "---|");
        fprintf(f, "\n");
        for (const char *p = compare; *p;) {
            size_t len = strcspn(p, ",");
            char pair[130];
            snprintf(pair, sizeof pair, "%.*s", (int)len, p);
            p += len + (p[len] == ',');
            int xa = 0, ya = 0;
            compare_pair(pair, arms, n_arms, &xa, &ya);   // checked before anything was read
            fprintf(f, "| %s - %s |", arms[xa], arms[ya]);
            printf("%s - %s:", arms[xa], arms[ya]);
            for (int k = 0; k < CLF_BINARY_METRIC_COUNT; k++) {
                double d[MAX_SEEDS], mean, sd;
                for (int s = 0; s < n_seeds; s++) d[s] = values[xa][s][k] - values[ya][s][k];
                mean_sd(d, n_seeds, &mean, &sd);
                double half = n_seeds > 1 ? study_t975(n_seeds - 1) * sd / sqrt((double)n_seeds) : NAN;
                if (n_seeds > 1) {
                    fprintf(f, " %+.3f [%+.3f, %+.3f] |", mean, mean - half, mean + half);
                    printf(" %s %+.3f [%+.3f, %+.3f]", clf_binary_metric_name(k), mean, mean - half,
                           mean + half);
                } else {   // one seed: no interval
                    fprintf(f, " %+.3f |", mean);
                    printf(" %s %+.3f", clf_binary_metric_name(k), mean);
                }
            }
            fprintf(f, "\n");
            printf("\n");
        }
    }
    char png[4300];
    snprintf(png, sizeof png, "%.*s.png", (int)(strlen(out) > 3 && strcmp(out + strlen(out) - 3, ".md") == 0
                                                 ? strlen(out) - 3 : strlen(out)), out);
    const char *png_name = strrchr(png, '/');
    fprintf(f, "\n![mean test metrics per arm, error bars one sd over seeds](%s)\n", png_name ? png_name + 1 : png);
    int rc = 0;
    if (fclose(f) != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "%s: cannot write '%s'\n", prog, out);
        rc = 1;
    }
    const int W = 900, H = 480;
    unsigned char *rgb = (unsigned char *)malloc((size_t)W * H * 3);
    if (rgb) {
        const char *labels[MAX_ARMS];
        for (int a = 0; a < n_arms; a++) labels[a] = arms[a];
        char sens[160], spec[160];   // sensitivity: of the positive class; specificity: of the negative
        snprintf(sens, sizeof sens, "sensitivity (%s)", class_names[1]);
        snprintf(spec, sizeof spec, "specificity (%s)", class_names[0]);
        dcgan_plot_series s[4] = {{"ROC AUC", bars[0], {31, 119, 180}},
                                  {"balanced accuracy", bars[1], {255, 127, 14}},
                                  {sens, bars[2], {44, 160, 44}},
                                  {spec, bars[3], {214, 39, 40}}};
        // the axis starts a little below the lowest bar (whole 0.05 steps), so
        // differences of a few hundredths stay visible
        float low = 1.0f;
        for (int b = 0; b < 4; b++)
            for (int a = 0; a < n_arms; a++)
                if (isfinite(bars[b][a]) && bars[b][a] - errs[b * n_arms + a] < low)
                    low = bars[b][a] - errs[b * n_arms + a];
        float y_min = floorf(low * 20.0f) / 20.0f - 0.05f;
        if (y_min < 0.0f) y_min = 0.0f;
        dcgan_plot_bars(rgb, W, H, "Test metrics per arm (mean, +- 1 sd)", labels, n_arms, s, 4, errs, y_min, 1.0f);
        if (dcgan_png_write(png, rgb, W, H, 3) != DCGAN_OK) {
            fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
            rc = 1;
        }
        free(rgb);
    }
    if (rc == 0) printf("wrote %s and %s\n", out, png);
    return rc;
}

// ---------------------------------------------------------------------------
// classify features

// The activations that feed the last layer (the Linear one) for every image of
// s, in eval mode (Dropout passes them through): f (s->count, dims) in double,
// as the .npy writer takes them. 0, or 1 with the library's message.
static int penultimate_features(dcgan_model *m, const image_set *s, double *f, int dims) {
    const size_t image = (size_t)s->channels * s->size * s->size;
    const int slot = m->n_layers - 1;   // slot i + 1 holds the output of layer i = n_layers - 2
    for (int i = 0; i < s->count; i += m->max_batch) {
        int n = s->count - i < m->max_batch ? s->count - i : m->max_batch;
        dcgan_tensor x = dcgan_tensor_make(s->data + (size_t)i * image, n, s->channels, s->size, s->size);
        if (dcgan_model_forward(m, x, 0, NULL) != DCGAN_OK) return 1;
        const float *act = m->acts + m->slot_offset[slot];   // (n, dims)
        for (size_t k = 0; k < (size_t)n * dims; k++) f[(size_t)i * dims + k] = act[k];
    }
    return 0;
}

static int cmd_features(int argc, char **argv) {
    const char *prog = "classify features", *ckpt = NULL, *paths[2] = {NULL, NULL};
    long threads = 0;
    int n_paths = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: classify features --checkpoint FILE DIR OUT.npy\n"
                   "  --checkpoint FILE  written by classify train                  (required)\n"
                   "  DIR                images (sub-folders too), read at the checkpoint's size and\n"
                   "                     channels; rows follow the sorted file names\n"
                   "  OUT.npy            (n, dims) of '<f8', the input of the last Linear layer\n"
                   "                     (dims = 8 x width x (size/16)^2); never overwritten; beside\n"
                   "                     it OUT.npy.source (the network) and OUT.npy.files (the\n"
                   "                     images, one a row, for fid --nearest)\n"
                   "  --threads N        threads; 0 = all cores                     (0)\n"
                   "                     (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
                   "Then: build/fid --kid --prdc real.npy generated.npy, and for copies of training\n"
                   "images: build/fid --nearest train.npy held_out_real.npy generated.npy\n");
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--checkpoint")) ckpt = argv[i];
        else if (cli_flag(argc, argv, &i, "--threads")) threads = cli_int_range(prog, a, argv[i], 0, 4096);
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a);
            return 2;
        } else if (n_paths < 2) paths[n_paths++] = a;
        else { fprintf(stderr, "%s: too many paths (see --help)\n", prog); return 2; }
    }
    if (!ckpt || n_paths != 2) {
        fprintf(stderr, "%s: needs --checkpoint FILE, an image folder and OUT.npy (see --help)\n", prog);
        return 2;
    }
    const char *dir = paths[0], *out = paths[1];
    const size_t out_len = strlen(out);
    if (out_len < 5 || strcmp(out + out_len - 4, ".npy") != 0) {   // (fid then took it for a folder)
        fprintf(stderr, "%s: OUT '%s' must end in .npy: fid tells a file of features from an image folder "
                        "by that name\n", prog, out);
        return 2;
    }
    if (file_exists(out)) {
        fprintf(stderr, "%s: '%s' exists already; not overwriting it\n", prog, out);
        return 1;
    }
    if (!is_folder(dir)) {
        fprintf(stderr, "%s: '%s' is not a folder of images\n", prog, dir);
        return 1;
    }
    dcgan_set_threads((int)threads);
    dcgan_model m;
    image_set s = {0};
    int skipped = 0;
    float thr;
    if (classifier_load(&m, &s.size, &s.channels, &thr, NULL, 0, ckpt, prog) != 0) return 1;
    if (set_load_dir(&s, dir, 0, 0, NULL, prog, &skipped) != 0) {
        dcgan_model_free(&m);
        set_free(&s);
        return 1;
    }
    const dcgan_layer *last = &m.layers[m.n_layers - 2];
    const int dims = last->out_c * last->out_h * last->out_w;
    // the .npy writer's bounds, checked before any image is computed
    const int max_rows = 65536, max_dims = 65536;
    if (s.count > max_rows || dims > max_dims) {
        if (dims > max_dims)
            fprintf(stderr, "%s: '%s' gives %d values per image; a features file holds at most %d (dims = 8 x "
                            "width x (size/16)^2: a classifier of --width %d or less at size %d)\n",
                    prog, ckpt, dims, max_dims, max_dims / (8 * (s.size / 16) * (s.size / 16)), s.size);
        else
            fprintf(stderr, "%s: '%s' holds %d images; a features file holds at most %d\n", prog, dir, s.count,
                    max_rows);
        set_free(&s);
        dcgan_model_free(&m);
        return 1;
    }
    double *f = (double *)malloc((size_t)s.count * dims * sizeof(double));
    int rc = 0;
    if (!f) {
        fprintf(stderr, "%s: no memory for %d x %d features\n", prog, s.count, dims);
        rc = 1;
    } else if (penultimate_features(&m, &s, f, dims) != 0 ||
               dcgan_features_save_npy(out, f, s.count, dims) != DCGAN_OK) {
        fprintf(stderr, "%s: %s\n", prog, dcgan_last_error());
        rc = 1;
    } else {
        printf("features: %d images from %s (%d skipped), %dx%dx%d, %d dims each (the input of %s's last "
               "layer) saved to %s\n", s.count, dir, skipped, s.channels, s.size, s.size, dims, ckpt, out);
        char source[4200], full[PATH_MAX];
        uint64_t h = CLI_FNV_OFFSET;
        if (cli_fnv1a64_file(&h, ckpt)) {   // (fid refuses two files of two networks' features)
            snprintf(source, sizeof source, "classify checkpoint %016llx (%s)", (unsigned long long)h,
                     realpath(ckpt, full) ? full : ckpt);
            cli_source_write(prog, out, source);
        }
        cli_files_write(prog, out, s.paths, s.count);   // (the images, for fid --nearest)
    }
    free(f);
    set_free(&s);
    dcgan_model_free(&m);
    return rc;
}

// ---------------------------------------------------------------------------
// classify c2st: the classifier two-sample test (Lopez-Paz and Oquab 2017,
// "Revisiting Classifier Two-Sample Tests", ICLR). If a classifier trained on
// half of each set tells the other halves apart no better than chance (ROC AUC
// 0.5), the generated images are indistinguishable from the real ones to it -
// to this classifier: a small CNN trained for a few epochs may miss a difference
// a better one would find, so 0.5 is "not told apart", not "the same".

typedef struct {
    const char *real, *fake, *out;
    int folds, epochs, size, channels, width, batch, max, threads;
    double lr;
    long seed;
} c2st_options;

typedef struct {
    int train_real, train_fake, test_real, test_fake;
    double auc, accuracy, seconds;
    double auc_lo, auc_hi;    // bootstrap interval of the AUC (first fold only)
    int test_patients[2];     // the test half's patients: [0] generated, [1] real (first fold only)
} c2st_fold_result;

static void c2st_usage(void) {
    printf("usage: classify c2st --real DIR --fake DIR --out DIR [flags]\n"
           "  --real DIR     real images (sub-folders too); label 1            (required)\n"
           "  --fake DIR     generated images; label 0                         (required)\n"
           "  --out DIR      gets c2st.csv, one row per fold                    (required)\n"
           "  --folds K      repeats, each with new random halves (2..100)      (5)\n"
           "  --epochs N     epochs of training per fold                        (8)\n"
           "  --max N        at most N (>= 2) images of each set in each half;\n"
           "                 0 = all                                            (0)\n"
           "  --size S       image side: 32 | 64 | 128                          (64)\n"
           "  --channels C   1 gray | 3 RGB                                     (1)\n"
           "  --width W      filters of the first convolution (as train)        (16)\n"
           "  --batch B      batch size                                         (32)\n"
           "  --lr LR        Adam learning rate (PyTorch Adam, betas 0.9 0.999) (1e-3)\n"
           "  --seed S       fold k draws its halves, weights, order and dropout\n"
           "                 from PCG32 seeded with S * 1000 + k                 (1)\n"
           "  --threads N    threads; 0 = all cores                             (0)\n"
           "                 (with $DCGAN_THREADS or $OMP_NUM_THREADS set, 0 = that many)\n"
           "Each fold splits each set 50/50 at random by patient (from --patients, else\n"
           "from Kermany's file names, other names one patient each; a --fake image that\n"
           "--patients does not list by its name), cuts the halves to equal counts (the\n"
           "smaller set's, or --max), trains the CNN of classify train on the first halves\n"
           "and scores the second: ROC AUC, and accuracy at p = 0.5. Prints each fold, a 95%%\n"
           "bootstrap interval of the first fold's AUC (its test half resampled by patient,\n"
           "as the halves were drawn), and the mean +- sd over folds with a t interval for\n"
           "the mean. The folds reuse the same images, so that interval shows the spread\n"
           "over splits and training runs; the bootstrap one shows how far one split's AUC\n"
           "could move with other images.\n"
           COMMON_USAGE BF16_USAGE);
}

static int parse_c2st(c2st_options *o, int argc, char **argv) {
    const char *prog = "classify c2st";
    memset(o, 0, sizeof *o);
    o->folds = 5;
    o->epochs = 8;
    o->size = 64;
    o->channels = 1;
    o->width = 16;
    o->batch = 32;
    o->lr = 1e-3;
    o->seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) { c2st_usage(); exit(0); }
        else if (cli_flag(argc, argv, &i, "--real")) o->real = argv[i];
        else if (cli_flag(argc, argv, &i, "--fake")) o->fake = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) o->out = argv[i];
        // int flags: range-checked as long, never cast first (--folds 4294967298 was 2 folds)
        else if (cli_flag(argc, argv, &i, "--folds")) o->folds = (int)cli_int_range(prog, a, argv[i], 2, 100);
        else if (cli_flag(argc, argv, &i, "--epochs")) o->epochs = (int)cli_int_range(prog, a, argv[i], 1, 1000000);
        else if (cli_flag(argc, argv, &i, "--max")) o->max = (int)cli_int_range(prog, a, argv[i], 0, INT_MAX);
        else if (cli_flag(argc, argv, &i, "--size")) o->size = (int)cli_int_range(prog, a, argv[i], 32, 128);
        else if (cli_flag(argc, argv, &i, "--channels")) o->channels = (int)cli_int_range(prog, a, argv[i], 1, 3);
        else if (cli_flag(argc, argv, &i, "--width")) o->width = (int)cli_int_range(prog, a, argv[i], 1, 256);
        else if (cli_flag(argc, argv, &i, "--batch")) o->batch = (int)cli_int_range(prog, a, argv[i], 2, 1000000);
        else if (cli_flag(argc, argv, &i, "--lr")) o->lr = cli_float(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--seed")) o->seed = cli_int(prog, a, argv[i]);
        else if (cli_flag(argc, argv, &i, "--threads")) o->threads = (int)cli_int_range(prog, a, argv[i], 0, 4096);
        else if (common_flag(argc, argv, &i, prog) || bf16_flag(argv, i, prog)) continue;
        else { fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", prog, a); return 2; }
    }
    if (!o->real || !o->fake || !o->out) {
        fprintf(stderr, "%s: --real, --fake and --out are required (see --help)\n", prog);
        return 2;
    }
    if (o->folds < 2 || o->folds > 100 || o->epochs < 1 || o->max < 0 || o->max == 1 ||
        (o->size != 32 && o->size != 64 && o->size != 128) || (o->channels != 1 && o->channels != 3) ||
        o->width < 1 || o->width > 256 || o->batch < 2 || !(o->lr > 0 && isfinite(o->lr))) {
        fprintf(stderr, "%s: --folds 2..100, --epochs >= 1, --max 0 or >= 2, --size 32|64|128, "
                        "--channels 1|3, --width 1..256, --batch >= 2, --lr > 0 and finite\n", prog);
        return 2;
    }
    return 0;
}

// Every image under dir with the given label; flag ("--real") names it in messages.
static int c2st_load(image_set *s, const char *dir, int label, const char *flag, const char *prog) {
    int skipped = 0;
    if (!is_folder(dir)) {
        fprintf(stderr, "%s: %s '%s' is not a folder\n", prog, flag, dir);
        return 1;
    }
    if (set_load_dir(s, dir, label, 0, flag, prog, &skipped) != 0) return 1;
    if (s->count < 4) {
        fprintf(stderr, "%s: %s '%s' has %d usable image%s; at least 4 are needed (2 in each half)\n", prog,
                flag, dir, s->count, s->count == 1 ? "" : "s");
        return 1;
    }
    printf("data: %s %s: %d images (%d skipped)\n", flag, dir, s->count, skipped);
    return 0;
}

// side[i] = 0 or 1: two random halves of s, a patient's images on one side
// (clf_patient_id: names that are not Kermany's are one patient each).
static int c2st_halves(int *side, const image_set *s, uint64_t seed, int generated) {
    char **ids = patient_ids(s, "classify c2st", generated);
    const double fr[2] = {0.5, 0.5};
    if (!ids) return 2;   // patient_ids said why
    int rc = clf_split_by_group(side, (const char *const *)ids, s->labels, s->count, fr, 2, seed) != DCGAN_OK;
    ids_free(ids, s->count);
    return rc;
}

static int count_side(const int *side, int n, int which) {
    int k = 0;
    for (int i = 0; i < n; i++) k += side[i] == which;
    return k;
}

// keep[i] = 1 for k items drawn at random from those with side[i] == which, else 0.
static int c2st_pick(int *keep, const int *side, int n, int which, int k, dcgan_rng *rng) {
    int *idx = (int *)malloc((size_t)n * sizeof(int)), m = 0;
    if (!idx) return 1;
    for (int i = 0; i < n; i++) {
        keep[i] = 0;
        if (side[i] == which) idx[m++] = i;
    }
    for (int i = 0; i < k && i < m; i++) {   // the first k of a Fisher-Yates shuffle
        int j = i + (int)(dcgan_rng_u32(rng) % (uint32_t)(m - i)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        keep[idx[i]] = 1;
    }
    free(idx);
    return 0;
}

// A new CNN trained on s for o->epochs epochs (every image once per epoch in
// a new order, the last partial batch dropped), weights from rng. 0, or 1
// after printing why.
static int c2st_train(dcgan_model *m, const image_set *s, const c2st_options *o, dcgan_rng *rng,
                      const char *what) {
    const char *prog = "classify c2st";
    const double w_class[2] = {1.0, 1.0};
    const size_t image = (size_t)s->channels * s->size * s->size;
    dcgan_adam opt;
    step_buffers buf = {NULL, NULL, NULL};
    int *order = (int *)malloc((size_t)s->count * sizeof(int));
    if (!order || step_buffers_init(&buf, o->batch, image) != 0 ||
        classifier_init(m, o->channels, o->size, o->width, o->batch) != 0) {
        fprintf(stderr, "%s: %s\n", prog, order && buf.x ? dcgan_last_error() : "out of memory");
        free(order);
        step_buffers_free(&buf);
        return 1;
    }
    dcgan_model_init_weights(m, DCGAN_INIT_PYTORCH, rng);
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, o->lr, 0.9, 0.999);
    const int n = o->batch <= s->count ? o->batch : s->count, steps = s->count / n;
    cli_progress bar;
    cli_progress_start(&bar, what, (long)steps * o->epochs);
    int rc = 0;
    for (int epoch = 1; epoch <= o->epochs && rc == 0; epoch++) {
        double loss_sum = 0.0;
        long correct = 0;
        for (int i = 0; i < s->count; i++) order[i] = i;
        for (int i = s->count - 1; i > 0; i--) {   // Fisher-Yates
            int j = (int)(dcgan_rng_u32(rng) % (uint32_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < steps; k++) {
            if (train_step(m, &opt, rng, s, order + (size_t)k * n, n, w_class, NULL, &buf, &loss_sum,
                           &correct) != 0) {
                fprintf(stderr, "\n%s: %s, epoch %d: %s\n", prog, what, epoch, dcgan_last_error());
                rc = 1;
                break;
            }
            char extra[64];
            snprintf(extra, sizeof extra, "epoch %d loss %.3f", epoch, loss_sum / ((double)(k + 1) * n));
            cli_progress_update(&bar, (long)(epoch - 1) * steps + k + 1, extra);
        }
    }
    free(order);
    step_buffers_free(&buf);
    return rc;
}

// One fold: random halves, equal counts, training, scores. 0, or 1 after printing why.
static int c2st_fold(c2st_fold_result *r, const image_set *real, const image_set *fake, const c2st_options *o,
                     int fold) {
    const char *prog = "classify c2st";
    double t0 = cli_now();
    dcgan_rng rng;
    dcgan_rng_seed(&rng, (uint64_t)o->seed * 1000u + (uint64_t)fold);
    int *side_r = (int *)malloc((size_t)real->count * sizeof(int));
    int *keep_r = (int *)malloc((size_t)real->count * sizeof(int));
    int *side_f = (int *)malloc((size_t)fake->count * sizeof(int));
    int *keep_f = (int *)malloc((size_t)fake->count * sizeof(int));
    image_set train = {0}, test = {0};
    train.channels = test.channels = o->channels;
    train.size = test.size = o->size;
    dcgan_model m;
    memset(&m, 0, sizeof m);
    float *prob = NULL, *logit = NULL;
    int rc = 1;
    if (!side_r || !keep_r || !side_f || !keep_f) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    uint64_t seed_r = dcgan_rng_u32(&rng), seed_f = dcgan_rng_u32(&rng);
    int halves_rc = c2st_halves(side_r, real, seed_r, 0);
    if (halves_rc == 0) halves_rc = c2st_halves(side_f, fake, seed_f, 1);
    if (halves_rc != 0) {
        if (halves_rc == 1) fprintf(stderr, "%s: %s\n", prog, clf_last_error());
        goto done;
    }
    int halves[2][2];   // [set: 0 generated, 1 real][half: 0 train, 1 test]
    for (int h = 0; h < 2; h++) {
        halves[0][h] = count_side(side_f, fake->count, h);
        halves[1][h] = count_side(side_r, real->count, h);
    }
    int cut[2];
    for (int h = 0; h < 2; h++) {
        cut[h] = halves[0][h] < halves[1][h] ? halves[0][h] : halves[1][h];
        if (o->max > 0 && cut[h] > o->max) cut[h] = o->max;
    }
    if (cut[0] < 2 || cut[1] < 2) {
        fprintf(stderr, "%s: fold %d: the halves hold %d and %d real and %d and %d generated images; each "
                        "needs 2 or more (too few patients?)\n",
                prog, fold + 1, halves[1][0], halves[1][1], halves[0][0], halves[0][1]);
        goto done;
    }
    for (int h = 0; h < 2; h++) {
        image_set *dst = h == 0 ? &train : &test;
        if (c2st_pick(keep_r, side_r, real->count, h, cut[h], &rng) != 0 || set_take(dst, real, keep_r) != 0 ||
            c2st_pick(keep_f, side_f, fake->count, h, cut[h], &rng) != 0 || set_take(dst, fake, keep_f) != 0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            goto done;
        }
    }
    char what[48];
    snprintf(what, sizeof what, "c2st fold %d/%d", fold + 1, o->folds);
    if (c2st_train(&m, &train, o, &rng, what) != 0) goto done;
    prob = (float *)malloc((size_t)test.count * sizeof(float));
    logit = (float *)malloc((size_t)test.count * sizeof(float));
    if (!prob || !logit || predict_logits(&m, &test, prob, logit) != 0) {
        fprintf(stderr, "%s: %s\n", prog, prob && logit ? dcgan_last_error() : "out of memory");
        goto done;
    }
    // accuracy from the scores at p = 0.5; the ROC AUC and its interval from the logits,
    // as eval: float32 rounds sigmoid(logit) to exactly 0 or 1 beyond |logit| ~ 17, and
    // those ties would count one half
    clf_binary_metrics mm, lo, hi;
    clf_binary_metrics_compute(&mm, prob, test.labels, test.count, 0.5f);
    mm.auc = clf_roc_auc(logit, test.labels, test.count);
    r->auc_lo = r->auc_hi = NAN;
    r->test_patients[0] = r->test_patients[1] = 0;
    if (fold == 0) {
        // the cluster bootstrap (as eval's): a patient's test images are drawn
        // together, patients as the halves drew them (the --fake images' from
        // --patients where it lists them, else from their names: a generated image
        // is its own unless Kermany-named); one id on both sides is two patients
        char **ids = patient_ids_of(&test, prog, 0, 0);
        int *patient = (int *)malloc((size_t)test.count * sizeof(int));
        const int n_patients = ids && patient ? patient_numbers(patient, ids, test.labels, test.count) : -1;
        ids_free(ids, ids ? test.count : 0);
        if (!ids) {   // (patient_ids_of said why)
            free(patient);
            goto done;
        }
        if (n_patients < 0 ||
            clf_binary_metrics_bootstrap_patients(&lo, &hi, logit, test.labels, patient, test.count, n_patients,
                                                  0.0f, 1000, (uint64_t)o->seed, 0.95) != DCGAN_OK) {
            fprintf(stderr, "%s: %s\n", prog, n_patients < 0 ? "out of memory" : clf_last_error());
            free(patient);
            goto done;
        }
        for (int i = 0; i < test.count; i++)   // (a patient's first image: numbered after those before)
            if (patient[i] == r->test_patients[0] + r->test_patients[1]) r->test_patients[test.labels[i]]++;
        free(patient);
        r->auc_lo = lo.auc;
        r->auc_hi = hi.auc;
    }
    r->train_real = r->train_fake = cut[0];
    r->test_real = r->test_fake = cut[1];
    r->auc = mm.auc;
    r->accuracy = mm.accuracy;
    r->seconds = cli_now() - t0;
    rc = 0;
done:
    free(side_r);
    free(keep_r);
    free(side_f);
    free(keep_f);
    free(prob);
    free(logit);
    set_free(&train);
    set_free(&test);
    dcgan_model_free(&m);
    return rc;
}

// OUT/c2st.csv, one row per fold (through a .tmp file and a rename).
static int c2st_write_csv(const char *out, const c2st_fold_result *r, int folds) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/c2st.csv", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "fold,n_train_real,n_train_fake,n_test_real,n_test_fake,auc,accuracy\n");
        for (int k = 0; k < folds; k++)
            fprintf(f, "%d,%d,%d,%d,%d,%.6f,%.6f\n", k + 1, r[k].train_real, r[k].train_fake, r[k].test_real,
                    r[k].test_fake, r[k].auc, r[k].accuracy);
    }
    if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "classify c2st: cannot write '%s'\n", path);
        remove(tmp);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

// Ctrl-C or SIGTERM during c2st's folds: the folders it made for --out (still empty: c2st.csv
// comes at the end) go again, as after a failed fold, the stop is said, and the process ends by
// the signal as before. It left an empty folder and no word (a referee). Only async-signal-safe
// calls: rmdir, write, signal, raise; so the folders (--out up to cli_missing_part's answer,
// deepest first) are listed before the folds.
#define C2ST_MADE_MAX 16
static char c2st_made[C2ST_MADE_MAX][4300];
static int c2st_n_made;
static void c2st_on_signal(int sig) {
    static const char said[] = "\nclassify c2st: stopped; no c2st.csv written (the folds printed above are all "
                               "it finished)\n";
    for (int k = 0; k < c2st_n_made; k++) rmdir(c2st_made[k]);   // (only empty ones go)
    ssize_t w = write(2, said, sizeof said - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int cmd_c2st(int argc, char **argv) {
    const char *prog = "classify c2st";
    c2st_options o;
    int rc = parse_c2st(&o, argc, argv);
    if (rc) return rc;
    char earlier[4300];   // (an earlier test's result was replaced without a word: a helper's audit)
    snprintf(earlier, sizeof earlier, "%s/c2st.csv", o.out);
    if (file_exists(earlier)) {
        fprintf(stderr, "%s: '%s' holds an earlier test (%s); give another --out, or delete it to test again\n",
                prog, o.out, earlier);
        return 1;
    }
    int threads = dcgan_set_threads(o.threads);
    image_set real = {0}, fake = {0};
    real.channels = fake.channels = o.channels;
    real.size = fake.size = o.size;
    if (c2st_load(&real, o.real, 1, "--real", prog) != 0 || c2st_load(&fake, o.fake, 0, "--fake", prog) != 0) {
        set_free(&real);
        set_free(&fake);
        return 1;
    }
    // one file on both sides (the same folder twice, a link): the classifier learns to tell them
    // apart by fold membership, and "AUC 0.18, 95% CI 0.11-0.25" read as a finding (a referee)
    int twin = -1;
    const int shared = cli_shared_file(real.paths, real.count, fake.paths, fake.count, &twin);
    if (shared != -1) {
        if (shared == -2) fprintf(stderr, "%s: out of memory\n", prog);
        else
            fprintf(stderr, "%s: --fake image '%s' is the --real image '%s' (one file); the test needs two sets of "
                            "different images\n", prog, fake.paths[shared], real.paths[twin]);
        set_free(&real);
        set_free(&fake);
        return 1;
    }
    char made[4300], up[4300];
    cli_missing_part(o.out, made, sizeof made);   // (what cli_unmake removes after a failed fold)
    snprintf(up, sizeof up, "%s", o.out);
    for (c2st_n_made = 0; made[0] && c2st_n_made < C2ST_MADE_MAX;) {   // the same folders, for a stop
        size_t len = strlen(up);
        while (len > 1 && up[len - 1] == '/') up[--len] = 0;
        if (len < strlen(made)) break;
        snprintf(c2st_made[c2st_n_made++], sizeof c2st_made[0], "%s", up);
        char *slash = strrchr(up, '/');
        if (!slash) break;
        *slash = 0;
    }
    signal(SIGINT, c2st_on_signal);
    signal(SIGTERM, c2st_on_signal);
    if (cli_mkdirs(o.out) != 0) {   // only now, so bad input leaves nothing behind
        fprintf(stderr, "%s: cannot create '%s'\n", prog, o.out);
        set_free(&real);
        set_free(&fake);
        return 1;
    }
    printf("config: %d thread%s, %dx%dx%d, width %d, %d folds, %d epochs, batch %d, lr %g, max %d, seed %ld\n",
           threads, threads == 1 ? "" : "s", o.channels, o.size, o.size, o.width, o.folds, o.epochs, o.batch,
           o.lr, o.max, o.seed);
    c2st_fold_result r[100];
    double auc[100], acc[100];
    for (int k = 0; k < o.folds && rc == 0; k++) {
        rc = c2st_fold(&r[k], &real, &fake, &o, k);
        if (rc) break;
        auc[k] = r[k].auc;
        acc[k] = r[k].accuracy;
        printf("fold %d/%d: train %d real + %d generated, test %d + %d: AUC %.3f, accuracy %.3f (%.1f s)\n",
               k + 1, o.folds, r[k].train_real, r[k].train_fake, r[k].test_real, r[k].test_fake, r[k].auc,
               r[k].accuracy, r[k].seconds);
    }
    set_free(&real);
    set_free(&fake);
    if (rc) {   // a fold could not be made: the folder made above goes again (rmdir: only if empty)
        cli_unmake(o.out, made);
        return 1;
    }
    signal(SIGINT, SIG_DFL);   // (the folds are done: from here a stop is the default one)
    signal(SIGTERM, SIG_DFL);
    if (c2st_write_csv(o.out, r, o.folds) != 0) return 1;
    double mean, sd, acc_mean, acc_sd;
    mean_sd(auc, o.folds, &mean, &sd);
    mean_sd(acc, o.folds, &acc_mean, &acc_sd);
    // 95% t interval of the mean over folds, clipped to [0, 1] where AUC lives
    double half = study_t975(o.folds - 1) * sd / sqrt((double)o.folds);
    double lo = mean - half < 0.0 ? 0.0 : mean - half, hi = mean + half > 1.0 ? 1.0 : mean + half;
    printf("fold 1: AUC %.3f, 95%% bootstrap interval %.3f-%.3f (1000 resamples of its test half by patient: "
           "%d real images of %d, %d generated of %d)\n", r[0].auc, r[0].auc_lo, r[0].auc_hi, r[0].test_real,
           r[0].test_patients[1], r[0].test_fake, r[0].test_patients[0]);
    printf("accuracy %.3f +- %.3f over %d folds\n", acc_mean, acc_sd, o.folds);
    printf("c2st: AUC %.3f +- %.3f (95%% CI %.3f-%.3f) over %d folds; 0.5 = not told apart\n", mean, sd,
           lo, hi, o.folds);
    return 0;
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: classify split|subset|train|eval|summarize|features|c2st [flags]\n"
               "       (classify COMMAND --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "split") == 0) return cmd_split(argc, argv);
    if (strcmp(argv[1], "subset") == 0) return cmd_subset(argc, argv);
    if (strcmp(argv[1], "train") == 0) return cmd_train(argc, argv);
    if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc, argv);
    if (strcmp(argv[1], "summarize") == 0) return cmd_summarize(argc, argv);
    if (strcmp(argv[1], "features") == 0) return cmd_features(argc, argv);
    if (strcmp(argv[1], "c2st") == 0) return cmd_c2st(argc, argv);
    fprintf(stderr, "classify: unknown command '%s' (split, subset, train, eval, summarize, features, c2st)\n",
            argv[1]);
    return 2;
}
