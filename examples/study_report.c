// study_report.c - the learning-curve study's report: reads the scores that
// examples/study.sh leaves and applies the pre-specified statistics of
// examples/study_stats.h to them.
//
// Build: make            Run:
//   build/study_report --study DIR --sizes 10,25,50,100,all --splits 1,2,3 --seeds 1
//       --arms real,oversample,augment,synthetic,synth_augment --control oversample
//       --treatment synthetic --out results.md
//
// It reads DIR/split{S}/n{K}/{ARM}/seed{R}/eval/scores.csv (path,patient,label,
// score,threshold,called[,logit]; fields quoted as RFC 4180 has it),
// DIR/split{S}/n{K}/count.csv (class,patients,images: the rare class first),
// DIR/split{S}/n{K}/c2st/c2st.csv (fold,...,auc,...; may be absent) and
// DIR/provenance.txt (may be absent). A size is reported only when every
// split x seed x arm has its scores.csv; the others are listed as not
// complete. It writes results.md (the tables), results.csv (one row per
// number: kind,size,arm_or_pair,metric,estimate,lo95,hi95,lo90,hi90,p,p_holm,
// verdict) and results.png (ROC AUC and balanced accuracy per arm, and the
// paired differences treatment - control, against the size), and prints
// "wrote results.md, results.csv, results.png (3 sizes complete, 2 not)".
//
// The statistics (fixed before the results are seen):
// - Strata are (split, seed); the seeds of one split score the same test
//   images, so they share the patient draw (study_stratum.shares_draws); when
//   the splits' test sets share patients (by name), all strata draw from their
//   pool instead (study_stratum.pool), a shared patient once per replicate.
//   Every bootstrap resamples patients with B = --bootstrap and seed --seed.
// - Primary: treatment - control in ROC AUC and in balanced accuracy (each arm
//   at its own validation threshold), per complete size: the mean over strata,
//   95% and 90% percentile intervals, the bootstrap p, Holm's adjustment over
//   all primary hypotheses (2 x sizes). The verdict is study_verdict_decide's
//   (margins --margin-auc, --margin-bacc), except that "helps" or "harms" with
//   a Holm-adjusted p above --alpha is reported as inconclusive.
// - Secondary: the same for sensitivity, specificity, precision and F1
//   (margin 0.02), Holm over 4 x sizes.
// - Other comparisons (descriptive, Holm within them, no verdict): treatment -
//   real, control - real, and X - control for every other arm X whose name
//   contains "augment"; in ROC AUC and balanced accuracy.
// - Per arm: the mean over strata of ROC AUC, balanced accuracy, sensitivity
//   and specificity, each with a one-arm bootstrap 95% interval.
// - DeLong's test of treatment vs control AUC per stratum (a second view).
// - The shortcut check: the mean two-sample (c2st) AUC per size and split.
#define _DEFAULT_SOURCE   // strdup, getline
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"
#include "study_stats.h"

#define MAX_LIST 32
#define SECONDARY_MARGIN 0.02

static const char *prog = "study_report";

static void usage(FILE *f) {
    fprintf(f,
            "usage: study_report --study DIR --sizes K1,K2,... --splits S1,S2,... --seeds R1,R2,...\n"
            "                    --arms A1,A2,... --control ARM --treatment ARM --out FILE.md [options]\n"
            "  --study DIR          the study folder (DIR/split{S}/n{K}/{ARM}/seed{R}/eval/scores.csv)\n"
            "  --sizes LIST         size labels, in plotting order (e.g. 10,25,50,100,all)\n"
            "  --splits LIST        split numbers (e.g. 1,2,3)\n"
            "  --seeds LIST         training seed numbers (e.g. 1,2)\n"
            "  --arms LIST          arm names (e.g. real,oversample,augment,synthetic,synth_augment)\n"
            "  --control ARM        the comparison arm of the primary endpoints\n"
            "  --treatment ARM      the arm being tested\n"
            "  --margin-auc D       equivalence margin for ROC AUC (0.01)\n"
            "  --margin-bacc D      equivalence margin for balanced accuracy (0.02)\n"
            "  --bootstrap B        patient-level bootstrap resamples (2000)\n"
            "  --seed N             the bootstrap's seed (1)\n"
            "  --alpha A            family-wise error rate for Holm's adjustment (0.05; the intervals\n"
            "                       stay 95%% and 90%%: alpha gates helps/harms through Holm only)\n"
            "  --rare-label L       the rare class's label in scores.csv: 0 (negative) or 1 (positive) (0);\n"
            "                       the shortcut check follows it: specificity or sensitivity\n"
            "  --other-name NAME    the other class's name, for the test sets' line (\"other-class\")\n"
            "  --out FILE.md        the report; FILE.csv and FILE.png are written beside it\n"
            "  --help               this text\n");
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static char *xstrdup(const char *s) {
    char *p = strdup(s);
    if (!p) die("out of memory");
    return p;
}

// ---------------------------------------------------------------------------
// Settings

typedef struct {
    const char *study, *out;
    char *sizes[MAX_LIST], *arms[MAX_LIST];
    int splits[MAX_LIST], seeds[MAX_LIST];
    int n_sizes, n_arms, n_splits, n_seeds;
    int control, treatment;           // arm indices
    double margin_auc, margin_bacc, alpha;
    int B;
    uint64_t seed;
    int rare_label;                   // the rare class's label in scores.csv: 0 negative, 1 positive
    const char *other_name;           // the other class's name ("other-class" when not given)
} report_config;

// Splits a comma-separated list into at most MAX_LIST copies; returns the count.
static int split_list(char **items, const char *flag, const char *text) {
    char *copy = xstrdup(text), *save = NULL;
    int n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == MAX_LIST) {
            fprintf(stderr, "%s: %s has more than %d items\n", prog, flag, MAX_LIST);
            exit(2);
        }
        items[n++] = xstrdup(t);
    }
    free(copy);
    return n;
}

static int int_list(int *values, const char *flag, const char *text) {
    char *items[MAX_LIST];
    int n = split_list(items, flag, text);
    for (int i = 0; i < n; i++) {
        values[i] = cli_int_as_int(prog, flag, items[i]);
        free(items[i]);
    }
    return n;
}

static int arm_index(const report_config *c, const char *name, const char *flag) {
    for (int a = 0; a < c->n_arms; a++)
        if (strcmp(c->arms[a], name) == 0) return a;
    fprintf(stderr, "%s: %s '%s' is not one of --arms\n", prog, flag, name);
    exit(2);
}

static void parse_args(report_config *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    c->margin_auc = 0.01;
    c->margin_bacc = 0.02;
    c->alpha = 0.05;
    c->B = 2000;
    c->seed = 1;
    c->rare_label = 0;
    c->other_name = "other-class";
    const char *control = NULL, *treatment = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (cli_flag(argc, argv, &i, "--study")) c->study = argv[i];
        else if (cli_flag(argc, argv, &i, "--sizes")) c->n_sizes = split_list(c->sizes, "--sizes", argv[i]);
        else if (cli_flag(argc, argv, &i, "--splits")) c->n_splits = int_list(c->splits, "--splits", argv[i]);
        else if (cli_flag(argc, argv, &i, "--seeds")) c->n_seeds = int_list(c->seeds, "--seeds", argv[i]);
        else if (cli_flag(argc, argv, &i, "--arms")) c->n_arms = split_list(c->arms, "--arms", argv[i]);
        else if (cli_flag(argc, argv, &i, "--control")) control = argv[i];
        else if (cli_flag(argc, argv, &i, "--treatment")) treatment = argv[i];
        else if (cli_flag(argc, argv, &i, "--margin-auc")) c->margin_auc = cli_float(prog, "--margin-auc", argv[i]);
        else if (cli_flag(argc, argv, &i, "--margin-bacc")) c->margin_bacc = cli_float(prog, "--margin-bacc", argv[i]);
        else if (cli_flag(argc, argv, &i, "--bootstrap")) c->B = cli_int_as_int(prog, "--bootstrap", argv[i]);
        else if (cli_flag(argc, argv, &i, "--seed")) c->seed = (uint64_t)cli_int(prog, "--seed", argv[i]);
        else if (cli_flag(argc, argv, &i, "--alpha")) c->alpha = cli_float(prog, "--alpha", argv[i]);
        else if (cli_flag(argc, argv, &i, "--rare-label")) {
            if (strcmp(argv[i], "0") != 0 && strcmp(argv[i], "1") != 0) {
                fprintf(stderr, "%s: --rare-label is 0 or 1, got '%s'\n", prog, argv[i]);
                exit(2);
            }
            c->rare_label = argv[i][0] - '0';
        }
        else if (cli_flag(argc, argv, &i, "--other-name")) c->other_name = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) c->out = argv[i];
        else {
            fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", prog, argv[i]);
            exit(2);
        }
    }
    const char *missing = !c->study ? "--study" : !c->n_sizes ? "--sizes" : !c->n_splits ? "--splits"
                        : !c->n_seeds ? "--seeds" : !c->n_arms ? "--arms" : !control ? "--control"
                        : !treatment ? "--treatment" : !c->out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, "%s: %s is required (see --help)\n", prog, missing);
        exit(2);
    }
    c->control = arm_index(c, control, "--control");
    c->treatment = arm_index(c, treatment, "--treatment");
    if (c->control == c->treatment) {
        fprintf(stderr, "%s: --control and --treatment are both '%s'\n", prog, control);
        exit(2);
    }
    // (an infinite margin was taken: every primary endpoint then came out "equivalent")
    if (c->B < 2 || !(c->margin_auc > 0.0 && isfinite(c->margin_auc)) ||
        !(c->margin_bacc > 0.0 && isfinite(c->margin_bacc)) || !(c->alpha > 0.0 && c->alpha < 1.0)) {
        fprintf(stderr, "%s: needs --bootstrap >= 2, finite margins > 0 and 0 < --alpha < 1\n", prog);
        exit(2);
    }
}

// ---------------------------------------------------------------------------
// Reading the CSV files

// One CSV record into *line (getline's buffer): a line, and the lines after it
// while a quoted field is still open (RFC 4180: a quoted field may hold line
// breaks; classify eval quotes a path or patient that holds one). *line_no: the
// number of the record's first line; *next_line counts the lines read. Returns
// 0 at the end of the file.
static int csv_record(char **line, size_t *cap, FILE *in, int *line_no, int *next_line) {
    if (getline(line, cap, in) < 0) return 0;
    *line_no = ++*next_line;
    char *more = NULL;
    size_t more_cap = 0;
    for (;;) {
        size_t quotes = 0, len = strlen(*line);
        for (const char *c = *line; *c; c++) quotes += *c == '"';
        if (quotes % 2 == 0) break;   // every quote closed ("" inside a field counts two)
        ssize_t got = getline(&more, &more_cap, in);
        if (got < 0) break;           // open at the end of the file: csv_fields refuses it
        ++*next_line;
        if (len + (size_t)got + 1 > *cap) {
            *cap = len + (size_t)got + 1;
            *line = (char *)realloc(*line, *cap);
            if (!*line) die("out of memory reading a CSV record");
        }
        memcpy(*line + len, more, (size_t)got + 1);
    }
    free(more);
    return 1;
}

// One record split at commas, in place (cli_csv_split: RFC 4180): at most cap
// fields; returns how many field[] holds, or -1 for a quote not closed or text
// after a closing quote.
static int csv_fields(char **field, int cap, char *line) {
    const int n = cli_csv_split(line, field, cap);
    return n < cap ? n : cap;
}

static int column_of(char **field, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(field[i], name) == 0) return i;
    return -1;
}

static int parse_double(double *v, const char *text) {
    char *end;
    *v = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*v);
}

// One scores.csv: its rows in file order.
typedef struct {
    char *file;
    int n;
    char **path, **patient;
    int *line;                 // each row's line in the file (a quoted field may hold line breaks)
    int *label;
    double *score;             // P(positive): the threshold metrics (score >= threshold)
    double *rank;              // the logit column when there is one, else score: AUC and DeLong
    double threshold;
} scores_file;

static void scores_free(scores_file *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->path[i]);
        free(f->patient[i]);
    }
    free(f->path);
    free(f->patient);
    free(f->line);
    free(f->label);
    free(f->score);
    free(f->rank);
    free(f->file);
    memset(f, 0, sizeof *f);
}

// Reads file into *f, or exits with a message naming the file and line.
static void scores_read(scores_file *f, const char *file) {
    FILE *in = fopen(file, "r");
    if (!in) die("cannot open %s", file);
    memset(f, 0, sizeof *f);
    f->file = xstrdup(file);
    char *line = NULL, *field[16];
    size_t cap = 0;
    int col[5], rows_cap = 0, line_no = 1, lines_read = 1;
    static const char *names[5] = {"path", "patient", "label", "score", "threshold"};
    if (getline(&line, &cap, in) < 0) die("%s is empty; needs the header path,patient,label,score,threshold,called", file);
    int n_fields = csv_fields(field, 16, line);
    if (n_fields < 0) die("%s line 1: a quote is not closed, or text follows a closing quote", file);
    for (int k = 0; k < 5; k++)
        if ((col[k] = column_of(field, n_fields, names[k])) < 0)
            die("%s line 1: no '%s' column in the header", file, names[k]);
    // logit (optional): ranks the images without the ties float32 probabilities
    // have near 0 and 1 (classify eval writes it since the learning-curve study)
    const int col_logit = column_of(field, n_fields, "logit");
    while (csv_record(&line, &cap, in, &line_no, &lines_read)) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        int n = csv_fields(field, 16, line);
        if (n < 0) die("%s line %d: a quote is not closed, or text follows a closing quote", file, line_no);
        for (int k = 0; k < 5; k++)
            if (col[k] >= n) die("%s line %d: %d fields; the '%s' column is missing", file, line_no, n, names[k]);
        const char *label = field[col[2]];
        if (strcmp(label, "0") != 0 && strcmp(label, "1") != 0)
            die("%s line %d: label is '%s'; labels are 0 (negative) or 1 (positive)", file, line_no, label);
        double score, threshold, logit = 0.0;
        if (col_logit >= 0 && (col_logit >= n || !parse_double(&logit, field[col_logit])))
            die("%s line %d: logit '%s' is not a finite number", file, line_no, col_logit < n ? field[col_logit] : "");
        if (!parse_double(&score, field[col[3]]))
            die("%s line %d: score '%s' is not a finite number", file, line_no, field[col[3]]);
        if (!parse_double(&threshold, field[col[4]]))
            die("%s line %d: threshold '%s' is not a finite number", file, line_no, field[col[4]]);
        if (f->n > 0 && threshold != f->threshold)
            die("%s line %d: threshold %.9g differs from the first row's %.9g; one checkpoint has one threshold",
                file, line_no, threshold, f->threshold);
        if (field[col[1]][0] == '\0') die("%s line %d: the patient is empty", file, line_no);
        if (f->n == rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 256;
            f->path = (char **)realloc(f->path, (size_t)rows_cap * sizeof(char *));
            f->patient = (char **)realloc(f->patient, (size_t)rows_cap * sizeof(char *));
            f->line = (int *)realloc(f->line, (size_t)rows_cap * sizeof(int));
            f->label = (int *)realloc(f->label, (size_t)rows_cap * sizeof(int));
            f->score = (double *)realloc(f->score, (size_t)rows_cap * sizeof(double));
            f->rank = (double *)realloc(f->rank, (size_t)rows_cap * sizeof(double));
            if (!f->path || !f->patient || !f->line || !f->label || !f->score || !f->rank) die("out of memory reading %s", file);
        }
        f->path[f->n] = xstrdup(field[col[0]]);
        f->patient[f->n] = xstrdup(field[col[1]]);
        f->line[f->n] = line_no;
        f->label[f->n] = label[0] - '0';
        f->score[f->n] = score;
        f->rank[f->n] = col_logit >= 0 ? logit : score;
        f->threshold = threshold;
        f->n++;
    }
    free(line);
    fclose(in);
    if (f->n == 0) die("%s has a header but no rows", file);
}

// 1 when DIR/provenance.txt (written by examples/study.sh) lists warnings from the steps' logs.
static int provenance_has_warnings(const char *dir) {
    char path[4200], line[256];
    snprintf(path, sizeof path, "%s/provenance.txt", dir);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strncmp(line, "warnings in the steps' logs", 27) == 0;
    if (f) fclose(f);
    return found;
}

// The patient ids 0..n_patients-1 of a file's rows, in order of first
// appearance; a patient with two labels exits with the file and line.
static int *patient_ids(const scores_file *f, int *n_patients) {
    int *id = (int *)xmalloc((size_t)f->n * sizeof(int));
    int *first = (int *)xmalloc((size_t)f->n * sizeof(int));   // first row of each patient
    int n = 0;
    for (int i = 0; i < f->n; i++) {
        int k = 0;
        while (k < n && strcmp(f->patient[first[k]], f->patient[i]) != 0) k++;
        if (k == n) first[n++] = i;
        else if (f->label[first[k]] != f->label[i])
            die("%s line %d: patient '%s' has label %d here and %d on line %d; a patient has one label",
                f->file, f->line[i], f->patient[i], f->label[i], f->label[first[k]], f->line[first[k]]);
        id[i] = k;
    }
    free(first);
    *n_patients = n;
    return id;
}

// Every file of a split must hold the same test images in the same order.
static void same_images(const scores_file *f, const scores_file *ref, int split) {
    if (f->n != ref->n)
        die("%s has %d test images, %s has %d; the arms and seeds of split %d must score the same test images",
            f->file, f->n, ref->file, ref->n, split);
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->path[i], ref->path[i]) != 0 || strcmp(f->patient[i], ref->patient[i]) != 0 ||
            f->label[i] != ref->label[i])
            die("%s line %d: image '%s' (patient '%s', label %d), but %s line %d has '%s' (patient '%s', "
                "label %d); the arms and seeds of split %d must score the same test images in the same order",
                f->file, f->line[i], f->path[i], f->patient[i], f->label[i], ref->file, ref->line[i],
                ref->path[i], ref->patient[i], ref->label[i], split);
}

// count.csv's first row (the rare class): its name and images; 0 when absent or unreadable.
static int read_count(const char *file, char *class_name, size_t cap, double *images) {
    FILE *in = fopen(file, "r");
    if (!in) return 0;
    char *line = NULL, *field[16];
    size_t n = 0;
    int ok = 0;
    if (getline(&line, &n, in) >= 0) {
        int k = csv_fields(field, 16, line);
        int c_class = column_of(field, k, "class"), c_images = column_of(field, k, "images");
        if (c_class >= 0 && c_images >= 0 && getline(&line, &n, in) >= 0) {
            k = csv_fields(field, 16, line);
            if (c_class < k && c_images < k && parse_double(images, field[c_images])) {
                snprintf(class_name, cap, "%s", field[c_class]);
                ok = 1;
            }
        }
    }
    free(line);
    fclose(in);
    return ok;
}

// The mean of c2st.csv's auc column; NaN when the file is absent or has no AUC.
static double read_c2st(const char *file) {
    FILE *in = fopen(file, "r");
    if (!in) return NAN;
    char *line = NULL, *field[16];
    size_t n = 0;
    double sum = 0.0;
    int count = 0, col = -1;
    if (getline(&line, &n, in) >= 0) col = column_of(field, csv_fields(field, 16, line), "auc");
    while (col >= 0 && getline(&line, &n, in) >= 0) {
        double v;
        if (col < csv_fields(field, 16, line) && parse_double(&v, field[col])) {
            sum += v;
            count++;
        }
    }
    free(line);
    fclose(in);
    return count ? sum / count : NAN;
}

// ---------------------------------------------------------------------------
// One size: every split x seed x arm

typedef struct {
    int size;                  // index into the config's sizes
    scores_file *files;        // [(split * n_seeds + seed) * n_arms + arm]
    int **patient;             // [split]: patient ids of the split's test images
    int *n_patients;           // [split]
    int **pool;                // [split][patient]: the patient's id among all splits' test patients
    int n_pool;                // patients of all splits' test sets together (by name)
    double rare_images;        // mean over splits of count.csv's rare-class images; NaN if absent
    char rare_class[64];       // count.csv's rare class ("" if absent)
    double *c2st;              // [split]: mean c2st AUC, NaN if absent
} size_data;

static scores_file *file_at(const report_config *c, const size_data *d, int split, int seed, int arm) {
    return &d->files[(split * c->n_seeds + seed) * c->n_arms + arm];
}

static void scores_path(char *buf, size_t cap, const report_config *c, int size, int split, int seed,
                        int arm) {
    snprintf(buf, cap, "%s/split%d/n%s/%s/seed%d/eval/scores.csv", c->study, c->splits[split],
             c->sizes[size], c->arms[arm], c->seeds[seed]);
}

// The first missing scores.csv of a size and how many are missing (0: complete).
static int size_missing(char *first, size_t cap, const report_config *c, int size) {
    int missing = 0;
    char path[4200];
    for (int s = 0; s < c->n_splits; s++)
        for (int r = 0; r < c->n_seeds; r++)
            for (int a = 0; a < c->n_arms; a++) {
                scores_path(path, sizeof path, c, size, s, r, a);
                if (access(path, R_OK) == 0) continue;
                if (missing++ == 0) snprintf(first, cap, "%s", path);
            }
    return missing;
}

static void size_load(size_data *d, const report_config *c, int size) {
    memset(d, 0, sizeof *d);
    d->size = size;
    int n_files = c->n_splits * c->n_seeds * c->n_arms;
    d->files = (scores_file *)xmalloc((size_t)n_files * sizeof(scores_file));
    d->patient = (int **)xmalloc((size_t)c->n_splits * sizeof(int *));
    d->n_patients = (int *)xmalloc((size_t)c->n_splits * sizeof(int));
    d->c2st = (double *)xmalloc((size_t)c->n_splits * sizeof(double));
    char path[4200];
    double rare_sum = 0.0;
    int rare_count = 0;
    for (int s = 0; s < c->n_splits; s++) {
        for (int r = 0; r < c->n_seeds; r++)
            for (int a = 0; a < c->n_arms; a++) {
                scores_file *f = file_at(c, d, s, r, a);
                scores_path(path, sizeof path, c, size, s, r, a);
                scores_read(f, path);
                int n_pat;
                free(patient_ids(f, &n_pat));   // a patient with two labels exits here
                if (r > 0 || a > 0) same_images(f, file_at(c, d, s, 0, 0), c->splits[s]);
            }
        d->patient[s] = patient_ids(file_at(c, d, s, 0, 0), &d->n_patients[s]);
        double images;
        char name[64];
        snprintf(path, sizeof path, "%s/split%d/n%s/count.csv", c->study, c->splits[s], c->sizes[size]);
        if (read_count(path, name, sizeof name, &images)) {
            rare_sum += images;
            rare_count++;
            snprintf(d->rare_class, sizeof d->rare_class, "%s", name);
        }
        snprintf(path, sizeof path, "%s/split%d/n%s/c2st/c2st.csv", c->study, c->splits[s], c->sizes[size]);
        d->c2st[s] = read_c2st(path);
    }
    d->rare_images = rare_count == c->n_splits ? rare_sum / rare_count : NAN;
    // The splits' test patients by name, all together: random splits of one pool share
    // some, and the bootstrap must then draw them once for all splits (study_stratum.pool).
    d->pool = (int **)xmalloc((size_t)c->n_splits * sizeof(int *));
    const char **names = NULL;
    d->n_pool = 0;
    for (int s = 0; s < c->n_splits; s++) {
        const scores_file *f = file_at(c, d, s, 0, 0);
        d->pool[s] = (int *)xmalloc((size_t)d->n_patients[s] * sizeof(int));
        names = (const char **)realloc((void *)names, (size_t)(d->n_pool + d->n_patients[s]) * sizeof *names);
        if (!names) die("out of memory");
        for (int i = 0, next = 0; i < f->n; i++) {
            if (d->patient[s][i] != next) continue;   // (ids are in order of first appearance)
            int k = 0;
            while (k < d->n_pool && strcmp(names[k], f->patient[i]) != 0) k++;
            if (k == d->n_pool) names[d->n_pool++] = f->patient[i];
            d->pool[s][next++] = k;
        }
    }
    free((void *)names);
}

static void size_free(size_data *d, const report_config *c) {
    if (!d->files) return;
    for (int i = 0; i < c->n_splits * c->n_seeds * c->n_arms; i++) scores_free(&d->files[i]);
    for (int s = 0; s < c->n_splits; s++) free(d->patient[s]), free(d->pool[s]);
    free(d->pool);
    free(d->files);
    free(d->patient);
    free(d->n_patients);
    free(d->c2st);
    memset(d, 0, sizeof *d);
}

// ---------------------------------------------------------------------------
// The bootstraps and their rows

typedef enum { KIND_PRIMARY, KIND_SECONDARY, KIND_OTHER, KIND_ARM, KIND_COUNT } row_kind;
static const char *kind_names[KIND_COUNT] = {"primary", "secondary", "other", "arm"};

typedef struct {
    row_kind kind;
    int size;                  // index into the complete sizes
    int arm_a, arm_b;          // arm_b = -1: arm A alone
    study_metric metric;
    int ok;                    // 0: the bootstrap refused; error says why
    char error[320];
    study_bootstrap b;
    double p_holm;             // NaN: not in a Holm family
    int p_holm_bound;          // 1: p_holm is an upper bound (the raw p was 0, i.e. below 2/used)
    double margin;             // 0: no verdict
    char verdict[128];
} result_row;

typedef struct { result_row *rows; int n, cap; } result_list;

static result_row *row_add(result_list *l) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->rows = (result_row *)realloc(l->rows, (size_t)l->cap * sizeof(result_row));
        if (!l->rows) die("out of memory");
    }
    result_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    r->p_holm = NAN;
    return r;
}

// The strata of one size for arms a and b (b = -1: arm A alone): one per
// (split, seed); the seeds after the first of a split share its draw, and when
// the splits' test sets share patients every stratum draws from their pool
// instead (the seeds of a split then map to the same pool ids).
// AUC ranks by the logit (rank), the threshold metrics use score and threshold.
// 1 when some test patient is in two splits' test sets.
static int pooled(const report_config *c, const size_data *d) {
    int sum = 0;
    for (int s = 0; s < c->n_splits; s++) sum += d->n_patients[s];
    return d->n_pool < sum;
}

static study_stratum *strata_make(const report_config *c, const size_data *d, int a, int b, study_metric m) {
    study_stratum *st = (study_stratum *)xmalloc((size_t)c->n_splits * c->n_seeds * sizeof *st);
    for (int s = 0; s < c->n_splits; s++)
        for (int r = 0; r < c->n_seeds; r++) {
            const scores_file *fa = file_at(c, d, s, r, a), *fb = b >= 0 ? file_at(c, d, s, r, b) : NULL;
            study_stratum *t = &st[s * c->n_seeds + r];
            memset(t, 0, sizeof *t);
            t->n = fa->n;
            t->n_patients = d->n_patients[s];
            t->labels = fa->label;
            t->patient = d->patient[s];
            t->score_a = m == STUDY_AUC ? fa->rank : fa->score;
            t->threshold_a = fa->threshold;
            t->score_b = fb ? (m == STUDY_AUC ? fb->rank : fb->score) : NULL;
            t->threshold_b = fb ? fb->threshold : 0.0;
            t->shares_draws = r > 0;
            if (pooled(c, d)) t->shares_draws = 0, t->pool = d->pool[s];
        }
    return st;
}

static void row_bootstrap(result_list *l, const report_config *c, const size_data *d, int size_index,
                          row_kind kind, int a, int b, study_metric m, double margin) {
    result_row *r = row_add(l);
    r->kind = kind;
    r->size = size_index;
    r->arm_a = a;
    r->arm_b = b;
    r->metric = m;
    r->margin = margin;
    study_stratum *st = strata_make(c, d, a, b, m);
    r->ok = study_bootstrap_compute(&r->b, NULL, st, c->n_splits * c->n_seeds, m, c->B, c->seed, NULL, 0,
                                    r->error, sizeof r->error) == 0;
    free(st);
    if (!r->ok) fprintf(stderr, "%s: size %s: %s\n", prog, c->sizes[d->size], r->error);
}

// Holm over the rows of one kind that have a p-value, plus `absent` more
// hypotheses counted with p = 1 (the sizes asked for that are not complete,
// and rows whose bootstrap refused: the family is the one pre-specified, not
// the one that happened to finish); then the verdicts.
static void holm_and_verdicts(result_list *l, row_kind kind, double alpha, int absent) {
    int refused = 0;
    for (int i = 0; i < l->n; i++) refused += l->rows[i].kind == kind && !l->rows[i].ok;
    absent += refused;
    double *p = (double *)xmalloc((size_t)(l->n + absent + 1) * sizeof(double)), *adj;
    int *which = (int *)xmalloc((size_t)(l->n + 1) * sizeof(int)), m = 0;
    for (int i = 0; i < l->n; i++)
        if (l->rows[i].kind == kind && l->rows[i].ok) {
            which[m] = i;
            // a bootstrap p of 0 means p < 2/used: Holm gets that bound (as 0 it read "Holm p < 0.04"
            // where m x 0.04 = 0.16 was all the data could say; a referee), and the adjusted p is
            // printed as a bound too
            p[m++] = l->rows[i].b.p > 0.0 ? l->rows[i].b.p : 2.0 / l->rows[i].b.used;
        }
    for (int k = 0; k < absent; k++) p[m + k] = 1.0;
    adj = (double *)xmalloc((size_t)(m + absent + 1) * sizeof(double));
    char why[256];
    if (m > 0 && study_holm_adjust(adj, NULL, p, m + absent, alpha, why, sizeof why) != 0) die("%s", why);
    for (int k = 0; k < m; k++) {
        result_row *r = &l->rows[which[k]];
        r->p_holm = adj[k];
        r->p_holm_bound = r->b.p == 0.0;
        if (r->margin <= 0.0) continue;
        if (r->b.too_many_skipped) {   // (a verdict was given, and only a note said the bootstrap was degenerate)
            snprintf(r->verdict, sizeof r->verdict, "not assessable (%d of %d resamples skipped)",
                     r->b.resamples - r->b.used, r->b.resamples);
            continue;
        }
        study_verdict v = study_verdict_decide(r->b.lo90, r->b.hi90, r->b.lo95, r->b.hi95, r->margin);
        int directional = v == STUDY_HELPS || v == STUDY_HELPS_BEYOND_MARGIN || v == STUDY_HARMS ||
                          v == STUDY_HARMS_BEYOND_MARGIN;
        if (directional && r->p_holm > alpha)
            snprintf(r->verdict, sizeof r->verdict, "inconclusive (intervals: %s; Holm p > %g)",
                     study_verdict_name(v), alpha);
        else snprintf(r->verdict, sizeof r->verdict, "%s", study_verdict_name(v));
    }
    free(p);
    free(which);
    free(adj);
}

// The other comparisons: treatment - real, control - real, and X - control for
// every other arm X whose name contains "augment"; each pair once, never the
// primary one. pairs holds 2 ints per pair; returns the count.
static int other_pairs(int *pairs, const report_config *c) {
    int n = 0, real = -1;
    for (int a = 0; a < c->n_arms; a++)
        if (strcmp(c->arms[a], "real") == 0) real = a;
    int cand[2 * (MAX_LIST + 2)], k = 0;
    if (real >= 0) {
        cand[k++] = c->treatment; cand[k++] = real;
        cand[k++] = c->control; cand[k++] = real;
    }
    for (int a = 0; a < c->n_arms; a++)
        if (a != c->control && strstr(c->arms[a], "augment")) {
            cand[k++] = a;
            cand[k++] = c->control;
        }
    for (int i = 0; i < k; i += 2) {
        int x = cand[i], y = cand[i + 1], dup = x == y || (x == c->treatment && y == c->control);
        for (int j = 0; j < n && !dup; j++) dup = pairs[2 * j] == x && pairs[2 * j + 1] == y;
        if (dup) continue;
        pairs[2 * n] = x;
        pairs[2 * n + 1] = y;
        n++;
    }
    return n;
}

// ---------------------------------------------------------------------------
// Formatting

static const char *metric_title(study_metric m) {
    static const char *t[STUDY_METRIC_COUNT] = {"ROC AUC", "balanced accuracy", "sensitivity",
                                                "specificity", "precision", "F1"};
    return m >= 0 && m < STUDY_METRIC_COUNT ? t[m] : "?";
}

static const char *fmt_value(char *buf, double v) {   // 0.1234
    if (isnan(v)) return "-";
    snprintf(buf, 32, "%.4f", v + 0.0);   // + 0.0: no "-0.0000"; buf holds 32
    return buf;
}

static const char *fmt_diff(char *buf, double v) {    // +0.1234
    if (isnan(v)) return "-";
    snprintf(buf, 32, "%+.4f", v + 0.0);
    return buf;
}

// buf holds 96 chars
static const char *fmt_interval(char *buf, double lo, double hi, int signed_) {
    char a[32], b[32];
    snprintf(buf, 96, "[%s, %s]", signed_ ? fmt_diff(a, lo) : fmt_value(a, lo),
            signed_ ? fmt_diff(b, hi) : fmt_value(b, hi));
    return buf;
}

// p with its resolution: 0 is written "< 2/used".
static const char *fmt_p(char *buf, double p, int used) {
    if (isnan(p)) return "-";
    if (p == 0.0) snprintf(buf, 32, "< %.2g", 2.0 / used);
    else snprintf(buf, 32, "%.4f", p);
    return buf;
}

// Holm's p, "<= bound" where it was computed from a p of 0 (its bound 2/used).
static const char *fmt_holm(char *buf, const result_row *r) {
    if (isnan(r->p_holm)) return "-";
    if (r->p_holm_bound) snprintf(buf, 32, "<= %.2g", r->p_holm);
    else snprintf(buf, 32, "%.4f", r->p_holm);
    return buf;
}

static void pair_name(char *buf, size_t cap, const report_config *c, const result_row *r) {
    if (r->arm_b < 0) snprintf(buf, cap, "%s", c->arms[r->arm_a]);
    else snprintf(buf, cap, "%s - %s", c->arms[r->arm_a], c->arms[r->arm_b]);
}

// A markdown table of difference rows of one kind: primary and secondary show
// control then treatment with a verdict; the other comparisons name the pair.
// The sentence under a table when Holm turned interval verdicts of this kind into "inconclusive".
static void note_demoted(FILE *md, const result_list *l, row_kind kind, double alpha) {
    int demoted = 0;
    for (int i = 0; i < l->n; i++)
        demoted += l->rows[i].kind == kind && strstr(l->rows[i].verdict, "Holm p >") != NULL;
    if (demoted)
        fprintf(md, "%d verdict%s the intervals alone would call helps or harms %s reported as inconclusive: "
                "the Holm-adjusted p is above alpha = %g.\n\n", demoted, demoted > 1 ? "s" : "",
                demoted > 1 ? "are" : "is", alpha);
}

static void table_differences(FILE *md, const report_config *c, const result_list *l, row_kind kind,
                              char *const *size_label, const double *rare_images) {
    char b1[96], b2[96], b3[96], b4[96], b5[96], b6[96], b7[96], b8[96], name[160];
    int other = kind == KIND_OTHER;
    if (other)
        fprintf(md, "| size | real rare images | A - B | metric | B | A | difference | 95%% interval | "
                "90%% interval | p | Holm p |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    else
        fprintf(md, "| size | real rare images | metric | %s (control) | %s (treatment) | difference | "
                "95%% interval | 90%% interval | p | Holm p | verdict |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|\n", c->arms[c->control], c->arms[c->treatment]);
    for (int i = 0; i < l->n; i++) {
        const result_row *r = &l->rows[i];
        if (r->kind != kind) continue;
        pair_name(name, sizeof name, c, r);
        const char *rare = isnan(rare_images[r->size]) ? "-" : (sprintf(b1, "%.1f", rare_images[r->size]), b1);
        fprintf(md, "| %s | %s |", size_label[r->size], rare);
        if (other) fprintf(md, " %s |", name);
        fprintf(md, " %s |", metric_title(r->metric));
        if (!r->ok) {
            fprintf(md, " not computed: %s |\n", r->error);
            continue;
        }
        fprintf(md, " %s | %s | %s | %s | %s | %s | %s |", fmt_value(b2, r->b.value_b),
                fmt_value(b3, r->b.value_a), fmt_diff(b4, r->b.estimate),
                fmt_interval(b5, r->b.lo95, r->b.hi95, 1), fmt_interval(b6, r->b.lo90, r->b.hi90, 1),
                fmt_p(b7, r->b.p, r->b.used), fmt_holm(b8, r));
        if (!other) fprintf(md, " %s |", r->verdict);
        fprintf(md, "\n");
    }
    fprintf(md, "\n");
}

static void csv_number(FILE *f, double v);

// The between-split view of a primary difference: per split the difference on
// all its test images (mean over seeds), then the mean over splits with a t
// interval over splits (df = splits - 1). Unlike the bootstrap, this spread
// includes what differs between training runs (the patients drawn, the GAN, the
// classifier's initialisation); with 3 splits it is wide.
static void table_between_splits(FILE *md, FILE *csv, const report_config *c, const size_data *data, int n_done,
                                 char *const *size_label) {
    fprintf(md, "## Between splits\n\n%s - %s per split (each the difference on all of that split's test "
            "images, mean over seeds), their mean, and the 95%% t interval over splits (df = %d): a view that "
            "includes the variation between training runs, which the bootstrap intervals above do not.\n\n| size "
            "| metric |", c->arms[c->treatment], c->arms[c->control], c->n_splits - 1);
    for (int sp = 0; sp < c->n_splits; sp++) fprintf(md, " split %d |", c->splits[sp]);
    fprintf(md, " mean | 95%% t interval |\n|---|---|");
    for (int sp = 0; sp < c->n_splits; sp++) fprintf(md, "---|");
    fprintf(md, "---|---|\n");
    const study_metric primary[2] = {STUDY_AUC, STUDY_BALANCED_ACCURACY};
    for (int k = 0; k < n_done; k++)
        for (int m = 0; m < 2; m++) {
            double diff[MAX_LIST], sum = 0.0, ss = 0.0;
            int ok = 1;
            fprintf(md, "| %s | %s |", size_label[k], m == 0 ? "ROC AUC" : "balanced accuracy");
            for (int sp = 0; sp < c->n_splits; sp++) {
                diff[sp] = 0.0;
                for (int r = 0; r < c->n_seeds; r++) {
                    const scores_file *ft = file_at(c, &data[k], sp, r, c->treatment);
                    const scores_file *fc = file_at(c, &data[k], sp, r, c->control);
                    double vt = 0.0, vc = 0.0;
                    char why[320];
                    if (study_metric_compute(&vt, primary[m], m == 0 ? ft->rank : ft->score, ft->label, ft->n,
                                             ft->threshold, why, sizeof why) != 0 ||
                        study_metric_compute(&vc, primary[m], m == 0 ? fc->rank : fc->score, fc->label, fc->n,
                                             fc->threshold, why, sizeof why) != 0)
                        ok = 0;
                    else diff[sp] += (vt - vc) / c->n_seeds;
                }
                char b[32];
                fprintf(md, " %s |", ok ? fmt_diff(b, diff[sp]) : "-");
                sum += diff[sp];
            }
            double mean = sum / c->n_splits;
            for (int sp = 0; sp < c->n_splits; sp++) ss += (diff[sp] - mean) * (diff[sp] - mean);
            char b1[32], b2[96];
            if (!ok) { fprintf(md, " - | - |\n"); continue; }
            if (c->n_splits < 2) { fprintf(md, " %s | - |\n", fmt_diff(b1, mean)); continue; }
            double half = study_t975(c->n_splits - 1) * sqrt(ss / (c->n_splits - 1)) / sqrt((double)c->n_splits);
            fprintf(md, " %s | %s |\n", fmt_diff(b1, mean), fmt_interval(b2, mean - half, mean + half, 1));
            fprintf(csv, "between_splits,%s,%s - %s,%s", size_label[k], c->arms[c->treatment], c->arms[c->control],
                    study_metric_name(primary[m]));
            csv_number(csv, mean);
            csv_number(csv, mean - half);
            csv_number(csv, mean + half);
            fprintf(csv, ",,,,,\n");
        }
    fprintf(md, "\n");
}

// The epoch each run kept and its threshold, from RUN/train.log's last line
// "train: best epoch E (validation ROC AUC A), threshold T; ...".
static void table_choices(FILE *md, const report_config *c, const size_data *data, int n_done,
                          char *const *size_label, const int *size_index) {
    fprintf(md, "## Epochs and thresholds chosen on validation\n\nEach run keeps the epoch with the best "
            "validation ROC AUC (ties: the lower validation loss) and the threshold that maximises Youden's J on "
            "the validation images at that epoch: \"epoch, threshold\" per run (\"-\": no train.log).\n\n"
            "| size | split | seed |");
    for (int a = 0; a < c->n_arms; a++) fprintf(md, " %s |", c->arms[a]);
    fprintf(md, "\n|---|---|---|");
    for (int a = 0; a < c->n_arms; a++) fprintf(md, "---|");
    fprintf(md, "\n");
    for (int k = 0; k < n_done; k++)
        for (int sp = 0; sp < c->n_splits; sp++)
            for (int r = 0; r < c->n_seeds; r++) {
                fprintf(md, "| %s | %d | %d |", size_label[k], c->splits[sp], c->seeds[r]);
                for (int a = 0; a < c->n_arms; a++) {
                    char path[4300], line[1024];
                    int epoch = -1;
                    snprintf(path, sizeof path, "%s/split%d/n%s/%s/seed%d/train.log", c->study, c->splits[sp],
                             c->sizes[size_index[k]], c->arms[a], c->seeds[r]);
                    FILE *in = fopen(path, "r");
                    while (in && fgets(line, sizeof line, in)) {
                        const char *at = strstr(line, "train: best epoch ");
                        if (at) sscanf(at, "train: best epoch %d", &epoch);
                    }
                    if (in) fclose(in);
                    const scores_file *f = file_at(c, &data[k], sp, r, a);
                    if (epoch >= 0) fprintf(md, " %d, %.4g |", epoch, f->threshold);
                    else fprintf(md, " -, %.4g |", f->threshold);
                }
                fprintf(md, "\n");
            }
    fprintf(md, "\n");
}

static void csv_number(FILE *f, double v) {
    if (isnan(v)) fprintf(f, ",");
    else fprintf(f, ",%.9g", v + 0.0);
}

// ---------------------------------------------------------------------------
// The picture: ROC AUC per arm, balanced accuracy per arm, the paired differences

static const unsigned char palette[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                             {148, 103, 189}, {140, 86, 75}, {227, 119, 194},
                                             {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

static dcgan_plot_series series(const char *label, const float *y, const unsigned char *rgb, int light) {
    dcgan_plot_series s;
    s.label = label;
    s.y = y;
    for (int k = 0; k < 3; k++) s.rgb[k] = (unsigned char)(light ? rgb[k] + (255 - rgb[k]) * 11 / 20 : rgb[k]);
    return s;
}

// values[(arm * n + size) * 3 + {0 value, 1 lo95, 2 hi95}] of one metric's arm rows
static void arm_panel(unsigned char *rgb, int W, int H, const report_config *c, const result_list *l,
                      study_metric m, int n, const char *title, const char *x_label,
                      const char *const *ticks) {
    float *y = (float *)xmalloc((size_t)c->n_arms * 3 * n * sizeof(float));
    for (size_t i = 0; i < (size_t)c->n_arms * 3 * n; i++) y[i] = NAN;
    for (int i = 0; i < l->n; i++) {
        const result_row *r = &l->rows[i];
        if (r->kind != KIND_ARM || r->metric != m || !r->ok) continue;
        float *v = y + (size_t)r->arm_a * 3 * n;
        v[r->size] = (float)r->b.estimate;
        v[n + r->size] = (float)r->b.lo95;
        v[2 * n + r->size] = (float)r->b.hi95;
    }
    dcgan_plot_series s[3 * MAX_LIST];
    int k = 0;
    for (int a = 0; a < c->n_arms; a++) s[k++] = series(c->arms[a], y + (size_t)a * 3 * n, palette[a % 10], 0);
    for (int a = 0; a < c->n_arms; a++)
        for (int e = 1; e <= 2; e++)
            s[k++] = series(a == 0 && e == 1 ? "light: 95% intervals" : "", y + ((size_t)a * 3 + e) * n,
                            palette[a % 10], 1);
    dcgan_plot_draw_categories(rgb, W, H, title, x_label, ticks, s, k, (size_t)n);
    free(y);
}

static void write_png(const char *path, const report_config *c, const result_list *l, int n,
                      const char *x_label, const char *const *ticks) {
    const int W = 900, H = 400;
    unsigned char *rgb = (unsigned char *)xmalloc((size_t)W * H * 3 * 3);
    arm_panel(rgb, W, H, c, l, STUDY_AUC, n, "ROC AUC per arm", x_label, ticks);
    arm_panel(rgb + (size_t)W * H * 3, W, H, c, l, STUDY_BALANCED_ACCURACY, n, "Balanced accuracy per arm",
              x_label, ticks);
    // the differences treatment - control with their 95% intervals and the margins
    float *y = (float *)xmalloc((size_t)11 * n * sizeof(float));
    for (size_t i = 0; i < (size_t)11 * n; i++) y[i] = NAN;
    for (int i = 0; i < l->n; i++) {
        const result_row *r = &l->rows[i];
        if (r->kind != KIND_PRIMARY || !r->ok) continue;
        int o = r->metric == STUDY_AUC ? 0 : 3;
        y[(size_t)o * n + r->size] = (float)r->b.estimate;
        y[(size_t)(o + 1) * n + r->size] = (float)r->b.lo95;
        y[(size_t)(o + 2) * n + r->size] = (float)r->b.hi95;
    }
    for (int k = 0; k < n; k++) {
        y[6 * n + k] = (float)c->margin_auc;
        y[7 * n + k] = (float)-c->margin_auc;
        y[8 * n + k] = (float)c->margin_bacc;
        y[9 * n + k] = (float)-c->margin_bacc;
        y[10 * n + k] = 0.0f;
    }
    static const unsigned char grey[3] = {120, 120, 120}, black[3] = {0, 0, 0};
    char m_auc[64], m_bacc[64], title[160];
    snprintf(m_auc, sizeof m_auc, "+-%g margin AUC", c->margin_auc);
    snprintf(m_bacc, sizeof m_bacc, "+-%g margin bal. acc.", c->margin_bacc);
    snprintf(title, sizeof title, "%s - %s (paired)", c->arms[c->treatment], c->arms[c->control]);
    dcgan_plot_series s[11] = {
        series("ROC AUC difference", y, palette[0], 0),
        series("balanced accuracy difference", y + 3 * n, palette[1], 0),
        series("light: 95% intervals", y + n, palette[0], 1),
        series("", y + 2 * n, palette[0], 1),
        series("", y + 4 * n, palette[1], 1),
        series("", y + 5 * n, palette[1], 1),
        series(m_auc, y + 6 * n, grey, 0),
        series("", y + 7 * n, grey, 0),
        series(m_bacc, y + 8 * n, grey, 1),
        series("", y + 9 * n, grey, 1),
        series("0", y + 10 * n, black, 0),
    };
    dcgan_plot_draw_categories(rgb + (size_t)W * H * 3 * 2, W, H, title, x_label, ticks, s, 11, (size_t)n);
    if (dcgan_png_write(path, rgb, W, 3 * H, 3) != DCGAN_OK) die("%s", dcgan_last_error());
    free(y);
    free(rgb);
}

// ---------------------------------------------------------------------------

// path with ".md" replaced by ext (or ext appended)
static char *beside(const char *path, const char *ext) {
    size_t len = strlen(path);
    if (len > 3 && strcmp(path + len - 3, ".md") == 0) len -= 3;
    char *out = (char *)xmalloc(len + strlen(ext) + 1);
    memcpy(out, path, len);
    strcpy(out + len, ext);
    return out;
}

static void close_or_die(FILE *f, const char *tmp, const char *path) {
    if (ferror(f) | fclose(f)) die("writing %s failed", tmp);
    if (rename(tmp, path) != 0) die("cannot rename %s to %s", tmp, path);
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    report_config c;
    parse_args(&c, argc, argv);
    {   // the report's folder before the bootstraps' minutes (a missing one was found after them, no
        // reason given): a probe file made new ("x": never one that is there, a user's or a running
        // report's) and removed
        char *probe = beside(c.out, ".md.probe");
        FILE *pf = fopen(probe, "wx");
        if (!pf && errno != EEXIST) die("cannot write %s: %s", probe, strerror(errno));
        if (pf) {
            fclose(pf);
            remove(probe);
        }
        free(probe);
    }
    printf("study_report: %s, %d sizes x %d splits x %d seeds x %d arms; %s - %s; B = %d, seed %llu, "
           "alpha %g, margins AUC %g, balanced accuracy %g\n", c.study, c.n_sizes, c.n_splits, c.n_seeds,
           c.n_arms, c.arms[c.treatment], c.arms[c.control], c.B, (unsigned long long)c.seed, c.alpha,
           c.margin_auc, c.margin_bacc);

    // Which sizes are complete; load them (bad files exit here).
    size_data *data = (size_data *)xmalloc((size_t)c.n_sizes * sizeof(size_data));
    char *size_label[MAX_LIST], missing[MAX_LIST][4300];
    int size_index[MAX_LIST];   // complete size k is c.sizes[size_index[k]]
    double rare_images[MAX_LIST];
    int n_done = 0, n_missing[MAX_LIST];
    for (int k = 0; k < c.n_sizes; k++) {
        n_missing[k] = size_missing(missing[k], sizeof missing[k], &c, k);
        if (n_missing[k]) {
            printf("size %s: not complete (missing: %s%s)\n", c.sizes[k], missing[k],
                   n_missing[k] > 1 ? " and others" : "");
            continue;
        }
        size_load(&data[n_done], &c, k);
        size_label[n_done] = c.sizes[k];
        size_index[n_done] = k;
        rare_images[n_done] = data[n_done].rare_images;
        n_done++;
    }
    if (n_done == 0) die("no size is complete (every size misses a scores.csv); nothing to report");

    // The bootstraps.
    const study_metric primary[2] = {STUDY_AUC, STUDY_BALANCED_ACCURACY};
    const study_metric secondary[4] = {STUDY_SENSITIVITY, STUDY_SPECIFICITY, STUDY_PRECISION, STUDY_F1};
    const study_metric per_arm[4] = {STUDY_AUC, STUDY_BALANCED_ACCURACY, STUDY_SENSITIVITY, STUDY_SPECIFICITY};
    int pairs[2 * (MAX_LIST + 2)], n_pairs = other_pairs(pairs, &c);
    result_list l = {NULL, 0, 0};
    for (int k = 0; k < n_done; k++) {
        const size_data *d = &data[k];
        printf("size %s: bootstraps (B = %d)\n", size_label[k], c.B);
        fflush(stdout);
        for (int m = 0; m < 2; m++)
            row_bootstrap(&l, &c, d, k, KIND_PRIMARY, c.treatment, c.control, primary[m],
                          m == 0 ? c.margin_auc : c.margin_bacc);
        for (int m = 0; m < 4; m++)
            row_bootstrap(&l, &c, d, k, KIND_SECONDARY, c.treatment, c.control, secondary[m], SECONDARY_MARGIN);
        for (int p = 0; p < n_pairs; p++)
            for (int m = 0; m < 2; m++)
                row_bootstrap(&l, &c, d, k, KIND_OTHER, pairs[2 * p], pairs[2 * p + 1], primary[m], 0.0);
        for (int a = 0; a < c.n_arms; a++)
            for (int m = 0; m < 4; m++) row_bootstrap(&l, &c, d, k, KIND_ARM, a, -1, per_arm[m], 0.0);
    }
    const int n_absent = c.n_sizes - n_done;   // sizes asked for, not complete: p = 1 in Holm
    holm_and_verdicts(&l, KIND_PRIMARY, c.alpha, 2 * n_absent);
    holm_and_verdicts(&l, KIND_SECONDARY, c.alpha, 4 * n_absent);
    holm_and_verdicts(&l, KIND_OTHER, c.alpha, 2 * n_pairs * n_absent);

    // The report.
    char *csv_path = beside(c.out, ".csv"), *png_path = beside(c.out, ".png");
    char *md_tmp = beside(c.out, ".md.tmp"), *csv_tmp = beside(c.out, ".csv.tmp");
    FILE *md = fopen(md_tmp, "w");
    if (!md) die("cannot write %s: %s", md_tmp, strerror(errno));
    FILE *csv = fopen(csv_tmp, "w");
    if (!csv) die("cannot write %s: %s", csv_tmp, strerror(errno));
    fprintf(csv, "kind,size,arm_or_pair,metric,estimate,lo95,hi95,lo90,hi90,p,p_holm,verdict\n");
    const char *rare = data[0].rare_class[0] ? data[0].rare_class : "rare-class";
    const char *T = c.arms[c.treatment], *C = c.arms[c.control];
    fprintf(md, "# Learning-curve study: %s against %s\n\n", T, C);
    int n_pooled = 0, shared_most = 0;   // sizes whose splits share test patients; the most shared
    for (int k = 0; k < n_done; k++) {
        int sum = 0;
        for (int s = 0; s < c.n_splits; s++) sum += data[k].n_patients[s];
        n_pooled += pooled(&c, &data[k]);
        if (sum - data[k].n_pool > shared_most) shared_most = sum - data[k].n_pool;
    }
    fprintf(md, "Method (pre-specified). Every complete size (%d of %d) is analysed on %d splits x %d seeds; "
            "each (split, seed) is a stratum and the seeds of a split share the patient draw, since they "
            "score the same test images. Differences are treatment - control (%s - %s), averaged over the "
            "strata with equal weights; the 95%% and 90%% percentile intervals and the two-sided bootstrap p "
            "(p = min(1, 2 min(#rep <= 0, #rep >= 0) / used)) come from a patient-level bootstrap with "
            "B = %d resamples (seed %llu). Primary endpoints: ROC AUC and balanced accuracy (each arm at its "
            "own validation threshold), Holm-adjusted over the %d primary hypotheses (2 per size asked for; "
            "a size not complete counts with p = 1) at alpha = %g. AUC ranks the images by their logits. "
            "Verdict: equivalent when the 90%% interval lies inside (-d, d); otherwise helps (harms) when the "
            "95%% interval lies above (below) 0, \"by more than the margin\" when it lies beyond d (-d); "
            "otherwise inconclusive; margins d = %g (AUC) and %g (balanced accuracy). A helps or harms "
            "whose Holm-adjusted p exceeds alpha is reported as inconclusive; \"equivalent\" is each endpoint's "
            "own test at 5%% (two one-sided tests), not adjusted for the number of endpoints; a bootstrap p of "
            "0 enters Holm as its bound 2 / used, and a row whose bootstrap skipped more than %g%% of its "
            "resamples is \"not assessable\". Secondary endpoints "
            "(sensitivity, specificity, precision, F1; d = %g) follow the same rule with Holm over their "
            "%d hypotheses. The other comparisons are descriptive (Holm within them, no verdict). "
            "DeLong's test per stratum (image-level: it treats images as independent) is a second view of "
            "the AUC difference, without a verdict. The intervals resample test patients for fixed trained "
            "models: they do not include the variation between training runs, which the between-split table "
            "shows.\n\n",
            n_done, c.n_sizes, c.n_splits, c.n_seeds, T, C, c.B, (unsigned long long)c.seed, 2 * c.n_sizes,
            c.alpha, c.margin_auc, c.margin_bacc, 100.0 * STUDY_SKIP_WARN_SHARE, SECONDARY_MARGIN, 4 * c.n_sizes);
    if (n_pooled)   // (study_stratum.pool in examples/study_stats.h)
        fprintf(md, "The splits' test sets share patients (random splits of one pool; up to %d shared at a size), "
                "so at %d of %d sizes each replicate draws all splits' test patients together, once, and every "
                "stratum keeps its own patients as often as they were drawn: a shared patient is one cluster, "
                "not one per split.\n\n", shared_most, n_pooled, n_done);
    int any_missing = 0;
    for (int k = 0; k < c.n_sizes; k++) any_missing |= n_missing[k] > 0;
    if (any_missing) {
        fprintf(md, "Sizes not reported:\n\n");
        for (int k = 0; k < c.n_sizes; k++)
            if (n_missing[k])
                fprintf(md, "- %s: not complete (missing: %s%s)\n", c.sizes[k], missing[k],
                        n_missing[k] > 1 ? " and others" : "");
        fprintf(md, "\n");
    }
    // The test sets every interval rests on: images and patients of each class per split (a
    // referee's study reported "harms, Holm p < 0.0011" from 2 rare-class test patients, and
    // results.md never said how few there were; classify eval's warning stayed in its log)
    fprintf(md, "Test sets (the first complete size's scores.csv; every size of a split scores the same images):");
    int few = 0;
    for (int s = 0; s < c.n_splits && n_done > 0; s++) {
        const scores_file *f = file_at(&c, &data[0], s, 0, 0);
        const int *pid = data[0].patient[s];
        int images[2] = {0, 0}, patients[2] = {0, 0}, seen = 0;
        for (int i = 0; i < f->n; i++) {
            images[f->label[i]]++;
            if (pid[i] == seen) patients[f->label[i]]++, seen++;   // (ids number first appearances)
        }
        const int r = c.rare_label;
        fprintf(md, "%s split %d: %d %s images of %d patients, %d %s images of %d patients", s ? ";" : "", c.splits[s],
                images[r], rare, patients[r], images[1 - r], c.other_name, patients[1 - r]);
        few |= patients[0] < 20 || patients[1] < 20;
    }
    fprintf(md, ".%s\n\n", few ? " **With fewer than 20 patients of a class, the patient-level intervals below are "
                                  "too narrow to trust** (few clusters: Cameron, Gelbach and Miller 2008)." : "");
    if (provenance_has_warnings(c.study))
        fprintf(md, "**The steps' logs hold warnings** (images skipped, nearly black or enlarged; too few test "
                    "patients): they are listed at the end, under Provenance.\n\n");
    fprintf(md, "## Primary endpoints\n\nDifference = %s - %s; real rare images: the mean over splits of the "
            "real %s images in the training subset (count.csv).\n\n", T, C, rare);
    table_differences(md, &c, &l, KIND_PRIMARY, size_label, rare_images);
    note_demoted(md, &l, KIND_PRIMARY, c.alpha);
    table_between_splits(md, csv, &c, data, n_done, size_label);
    fprintf(md, "## Secondary endpoints\n\nDifference = %s - %s; margin %g.\n\n", T, C, SECONDARY_MARGIN);
    table_differences(md, &c, &l, KIND_SECONDARY, size_label, rare_images);
    note_demoted(md, &l, KIND_SECONDARY, c.alpha);
    fprintf(md, "## Other comparisons\n\nDescriptive: intervals and bootstrap p, Holm within these "
            "comparisons, no verdicts.\n\n");
    if (n_pairs) table_differences(md, &c, &l, KIND_OTHER, size_label, rare_images);
    else fprintf(md, "(none: no arm named real, and no other arm whose name contains augment)\n\n");

    fprintf(md, "## Per arm\n\nThe mean over strata, with a one-arm patient-level bootstrap 95%% interval. "
            "Specificity is the share of the real negative test images called negative.\n\n");
    fprintf(md, "| size | arm | ROC AUC | balanced accuracy | sensitivity | specificity |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < n_done; k++)
        for (int a = 0; a < c.n_arms; a++) {
            fprintf(md, "| %s | %s |", size_label[k], c.arms[a]);
            for (int m = 0; m < 4; m++)
                for (int i = 0; i < l.n; i++) {
                    const result_row *r = &l.rows[i];
                    if (r->kind != KIND_ARM || r->size != k || r->arm_a != a || r->metric != per_arm[m]) continue;
                    char b1[96], b2[96];
                    if (r->ok) fprintf(md, " %s %s |", fmt_value(b1, r->b.estimate),
                                       fmt_interval(b2, r->b.lo95, r->b.hi95, 0));
                    else fprintf(md, " - |");
                }
            fprintf(md, "\n");
        }
    fprintf(md, "\n");

    // CSV rows of the bootstraps (then DeLong and c2st below)
    for (int i = 0; i < l.n; i++) {
        const result_row *r = &l.rows[i];
        char name[160];
        pair_name(name, sizeof name, &c, r);
        fprintf(csv, "%s,%s,%s,%s", kind_names[r->kind], size_label[r->size], name, study_metric_name(r->metric));
        if (!r->ok) {
            fprintf(csv, ",,,,,,,,not computed\n");
            continue;
        }
        csv_number(csv, r->b.estimate);
        csv_number(csv, r->b.lo95);
        csv_number(csv, r->b.hi95);
        csv_number(csv, r->b.lo90);
        csv_number(csv, r->b.hi90);
        csv_number(csv, r->kind == KIND_ARM ? NAN : r->b.p);
        csv_number(csv, r->p_holm);
        fprintf(csv, ",%s\n", r->verdict);
    }
    table_choices(md, &c, data, n_done, size_label, size_index);
    // DeLong per stratum, and its CSV rows
    fprintf(md, "## DeLong's test per stratum\n\n%s vs %s, paired AUCs on the same test images (DeLong, DeLong "
            "& Clarke-Pearson 1988); image-level (it treats the images of one patient as independent, so its "
            "p-values are too small where patients have several images); a second view, no verdict.\n\n", T, C);
    fprintf(md, "| size | split | seed | AUC %s | AUC %s | difference | z | p |\n|---|---|---|---|---|---|---|---|\n",
            T, C);
    for (int k = 0; k < n_done; k++)
        for (int s = 0; s < c.n_splits; s++)
            for (int r = 0; r < c.n_seeds; r++) {
                const scores_file *ft = file_at(&c, &data[k], s, r, c.treatment);
                const scores_file *fc = file_at(&c, &data[k], s, r, c.control);
                study_delong dl;
                memset(&dl, 0, sizeof dl);
                char why[320], b1[96], b2[96], b3[96];
                if (study_delong_compute(&dl, ft->rank, fc->rank, ft->label, ft->n, why, sizeof why) != 0) {
                    fprintf(md, "| %s | %d | %d | not computed: %s |\n", size_label[k], c.splits[s], c.seeds[r], why);
                    continue;
                }
                fprintf(md, "| %s | %d | %d | %s | %s | %s | %.3f | %.4f |\n", size_label[k], c.splits[s],
                        c.seeds[r], fmt_value(b1, dl.auc1), fmt_value(b2, dl.auc2), fmt_diff(b3, dl.diff),
                        dl.z + 0.0, dl.p);
                fprintf(csv, "delong,%s,%s - %s split %d seed %d,auc", size_label[k], T, C, c.splits[s], c.seeds[r]);
                csv_number(csv, dl.diff);
                fprintf(csv, ",,,,");
                csv_number(csv, dl.p);
                fprintf(csv, ",,\n");
            }
    // the rare class's own share called right: specificity when it is the negative class,
    // sensitivity when it is the positive one (--rare-label)
    const study_metric own = c.rare_label ? STUDY_SENSITIVITY : STUDY_SPECIFICITY;
    const char *own_name = c.rare_label ? "sensitivity" : "specificity";
    const char *side = c.rare_label ? "positive" : "negative", *other = c.rare_label ? "negative" : "positive";
    fprintf(md, "\n## Shortcut check\n\nThe two-sample test (c2st): the mean AUC over folds of a classifier "
            "telling real from generated %s images (0.5: this classifier did not tell them apart, which is not "
            "sameness; \"-\": not run), per split; and "
            "the %s difference (real %s test images called %s; %s is the %s class "
            "here).\n\n| size |", rare, own_name, rare, side, rare, side);
    for (int s = 0; s < c.n_splits; s++) fprintf(md, " c2st split %d |", c.splits[s]);
    fprintf(md, " %s %s - %s (95%% interval) | shortcut flag |\n|---|", own_name, T, C);
    for (int s = 0; s < c.n_splits; s++) fprintf(md, "---|");
    fprintf(md, "---|---|\n");
    for (int k = 0; k < n_done; k++) {
        fprintf(md, "| %s |", size_label[k]);
        for (int s = 0; s < c.n_splits; s++) {
            char b1[96];
            fprintf(md, " %s |", fmt_value(b1, data[k].c2st[s]));
            if (!isnan(data[k].c2st[s])) {
                fprintf(csv, "c2st,%s,split %d,auc", size_label[k], c.splits[s]);
                csv_number(csv, data[k].c2st[s]);
                fprintf(csv, ",,,,,,,\n");
            }
        }
        // the pre-specified flag: the rare class's own metric's difference, 95% interval below 0
        const result_row *spec = NULL;
        for (int i = 0; i < l.n; i++)
            if (l.rows[i].kind == KIND_SECONDARY && l.rows[i].size == k && l.rows[i].metric == own)
                spec = &l.rows[i];
        char b1[32], b2[96];
        if (spec && spec->ok)
            fprintf(md, " %s %s | %s |\n", fmt_diff(b1, spec->b.estimate),
                    fmt_interval(b2, spec->b.lo95, spec->b.hi95, 1), spec->b.hi95 < 0.0 ? "yes" : "no");
        else fprintf(md, " - | - |\n");
    }
    fprintf(md, "\nShortcut flag (pre-specified): yes when the %s difference's 95%% interval lies below "
            "0, i.e. real %s test images are called %s more often by %s than by %s.\n", own_name, rare, other, T,
            C);

    fprintf(md, "\n## Bootstrap notes\n\n");
    int notes = 0;
    for (int i = 0; i < l.n; i++) {
        const result_row *r = &l.rows[i];
        char name[160];
        pair_name(name, sizeof name, &c, r);
        if (!r->ok || r->b.note[0])
            fprintf(md, "- size %s, %s, %s, %s: %s\n", size_label[r->size], kind_names[r->kind], name,
                    study_metric_name(r->metric), r->ok ? r->b.note : r->error), notes++;
    }
    if (!notes) fprintf(md, "No resample was skipped.\n");

    fprintf(md, "\n## Provenance\n\n");
    char prov_path[4200];
    snprintf(prov_path, sizeof prov_path, "%s/provenance.txt", c.study);
    FILE *prov = fopen(prov_path, "r");
    if (prov) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        while ((got = getline(&line, &cap, prov)) >= 0) fwrite(line, 1, (size_t)got, md);
        free(line);
        fclose(prov);
    } else fprintf(md, "(no %s)\n", prov_path);

    close_or_die(md, md_tmp, c.out);
    close_or_die(csv, csv_tmp, csv_path);

    // x: one tick per size, "K (mean real images)"
    char x_label[200], tick_text[MAX_LIST][48];
    const char *ticks[MAX_LIST];
    snprintf(x_label, sizeof x_label, "real %s patients in training (mean real images over splits)", rare);
    for (int k = 0; k < n_done; k++) {
        if (isnan(rare_images[k])) snprintf(tick_text[k], sizeof tick_text[k], "%s", size_label[k]);
        else snprintf(tick_text[k], sizeof tick_text[k], "%s (%.0f)", size_label[k], rare_images[k]);
        ticks[k] = tick_text[k];
    }
    write_png(png_path, &c, &l, n_done, x_label, ticks);
    printf("wrote %s, %s, %s (%d sizes complete, %d not)\n", c.out, csv_path, png_path, n_done,
           c.n_sizes - n_done);

    for (int k = 0; k < n_done; k++) size_free(&data[k], &c);
    free(data);
    free(l.rows);
    free(csv_path);
    free(png_path);
    free(md_tmp);
    free(csv_tmp);
    for (int k = 0; k < c.n_sizes; k++) free(c.sizes[k]);
    for (int a = 0; a < c.n_arms; a++) free(c.arms[a]);
    return 0;
}
