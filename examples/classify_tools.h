// classify_tools.h - what the example programs need to ask "do synthetic images
// help a classifier?", beyond the GAN: label-preserving augmentation of the
// training images, a split that keeps every patient on one side, the metrics
// of a binary test with bootstrap intervals, and the statistics of the rating
// page (exact binomial test, Clopper-Pearson interval, Fleiss' kappa).
// classify.c and rate.c use it; the library (dcgan.h) does not.
//
// Include it after dcgan.h (it uses dcgan_rng, dcgan_status and dcgan_quantile).
// Every function is `static inline` (CLF_API): each file that includes it gets
// its own copy, and a program that calls only some compiles without warnings.
// Functions that can fail return a dcgan_status; clf_last_error() then says why
// ("split_by_group: the fractions sum to 0.9, not 1"). Positive class = label 1.
#ifndef CLASSIFY_TOOLS_H
#define CLASSIFY_TOOLS_H
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLF_API static inline

// The message of the last failure in this file's copy of the functions.
static char clf__err_buf[512];
CLF_API const char *clf_last_error(void) { return clf__err_buf; }

// Writes "<function without clf_>: <message>" and returns status.
static inline dcgan_status clf__fail(dcgan_status status, const char *func, const char *fmt, ...) {
    va_list ap;
    if (strncmp(func, "clf_", 4) == 0) func += 4;
    int len = snprintf(clf__err_buf, sizeof clf__err_buf, "%s: ", func);
    va_start(ap, fmt);
    vsnprintf(clf__err_buf + len, sizeof clf__err_buf - (size_t)len, fmt, ap);
    va_end(ap);
    return status;
}
#define CLF__FAIL(status, ...) clf__fail((status), __func__, __VA_ARGS__)

// count * elem_size bytes from malloc, NULL when that overflows size_t.
static inline void *clf__alloc(size_t count, size_t elem_size) {
    if (elem_size != 0 && count > (size_t)-1 / elem_size) return NULL;
    const size_t bytes = count * elem_size;
    return malloc(bytes > 0 ? bytes : 1);
}

// One draw of the classic augmentation. The geometric part maps each output
// pixel back to the source (inverse mapping, bilinear sampling, coordinates
// clamped to the border like Keras ImageDataGenerator's fill_mode='nearest'):
// with c = ((W-1)/2, (H-1)/2) the centre, shift = (shift_x W, shift_y H)
// pixels, (dx, dy) = (dst - c - shift) / zoom and a = rotate_deg in radians,
//   src_x = c_x + cos(a) dx - sin(a) dy,   src_y = c_y + sin(a) dx + cos(a) dy
// so that (y pointing down) a > 0 turns the content counter-clockwise on
// screen: at 90 degrees out[y][x] = inp[x][W-1-y]. Then, per channel,
//   out = mean + contrast * (v - mean) + brightness, clamped to [-1, 1]
// (mean over the channel's pixels, as torchvision's adjust_contrast blends with
// the mean; brightness is added in the [-1, 1] pixel scale).
typedef struct {
    float rotate_deg;         // degrees
    float shift_x, shift_y;   // fractions of W and H
    float zoom;               // > 1 enlarges the content
    float brightness;         // added
    float contrast;           // 1 = unchanged
} clf_augment_params;

// The ranges a draw comes from: rotate U(-r, r), shifts U(-s, s), zoom
// U(1 - z, 1 + z), brightness U(-b, b), contrast U(1 - c, 1 + c).
typedef struct {
    float rotate_deg, shift, zoom, brightness, contrast;
} clf_augment_ranges;

// The "classic" ranges: 10 degrees, 8% shift, 10% zoom, brightness 0.1,
// contrast 10%. No flips: a chest radiograph is not left-right symmetric.
CLF_API void clf_augment_ranges_classic(clf_augment_ranges *r);
// Draws params from r (six uniforms from rng, in the field order above).
CLF_API void clf_augment_draw(clf_augment_params *p, const clf_augment_ranges *r,
                                  dcgan_rng *rng);
// Identity params (no change).
CLF_API void clf_augment_identity(clf_augment_params *p);
// out (C, H, W) = the transform of inp (C, H, W); out and inp must not overlap.
// Meant for zoom > 0 and finite parameters; others (zoom 0, NaN) give
// meaningless pixels but read only inside inp (every source point is clamped
// into the image, NaN to the first row or column).
CLF_API void clf_augment_apply(float *out, const float *inp, int C, int H, int W,
                                   const clf_augment_params *p);

// The patient of a Kermany file name (any folder part is ignored), written to
// out (cap bytes): "person1000" for person1000_bacteria_2931.jpeg, "IM-0115"
// for IM-0115-0001.jpeg and for NORMAL2-IM-0115-0001.jpeg (the two NORMAL
// series are treated as one patient when their numbers agree: a merged group
// can only make a split stricter). Any other name is its own patient: the
// file name without its extension.
CLF_API void clf_patient_id(char *out, size_t cap, const char *path);

// Splits n items into n_sides sides so that items of one group (patient) are
// never on two sides, stratified by label: within each label (a group counts
// under the label of its first item), the groups are shuffled with a PCG32
// stream seeded with seed and dealt in that order, each to the side whose
// share (fractions, summing to 1) its items' midpoint falls in. side[i]
// receives 0..n_sides-1. DCGAN_ERR_SHAPE for bad fractions, DCGAN_ERR_NOMEM.
CLF_API dcgan_status clf_split_by_group(int *side, const char *const *groups,
                                            const int *labels, int n, const double *fractions,
                                            int n_sides, uint64_t seed);

// ROC AUC of scores for labels (1 positive, 0 negative): the Mann-Whitney U
// statistic with ties counted one half, computed from average ranks:
// AUC = (R_pos - P (P + 1) / 2) / (P N). NaN when either class is empty or a
// score is NaN (a NaN has no place in the order; +-Inf scores are fine).
CLF_API double clf_roc_auc(const float *scores, const int *labels, int n);

// The ROC curve: sorting by score, one point per distinct score (ties move
// together), from (0, 0) to (1, 1). fpr and tpr need n + 1 entries; *count
// gets the number of points. DCGAN_ERR_SHAPE if a class is empty,
// DCGAN_ERR_NONFINITE if a score is NaN (the outputs unchanged).
CLF_API dcgan_status clf_roc_curve(float *fpr, float *tpr, int *count, const float *scores,
                                       const int *labels, int n);

// The threshold that maximises Youden's J = sensitivity + specificity - 1
// for the rule "score >= threshold is positive" (the lowest such score, J
// compared exactly: J P N = tp N - fp P in whole numbers; 0.5 when a class is
// empty; NaN when a score is NaN).
CLF_API float clf_threshold_youden(const float *scores, const int *labels, int n);

typedef struct {
    int tp, fp, tn, fn;        // at the threshold: score >= threshold is positive
    double accuracy;           // (tp + tn) / n
    double balanced_accuracy;  // (sensitivity + specificity) / 2
    double sensitivity;        // tp / (tp + fn), recall of the positive class
    double specificity;        // tn / (tn + fp)
    double precision;          // tp / (tp + fp)
    double f1;                 // 2 tp / (2 tp + fp + fn)
    double auc;                // clf_roc_auc
} clf_binary_metrics;

// The ratio fields in order (accuracy .. auc), for loops over them.
#define CLF_BINARY_METRIC_COUNT 7
CLF_API const char *clf_binary_metric_name(int k);   // "accuracy", ..., "auc"
CLF_API double clf_binary_metric_get(const clf_binary_metrics *m, int k);

// The metrics at threshold (a ratio with a zero denominator is NaN).
CLF_API void clf_binary_metrics_compute(clf_binary_metrics *m, const float *scores,
                                            const int *labels, int n, float threshold);

// Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13) of every
// metric: B resamples of the n items with replacement (PCG32 seeded with
// seed, n draws of dcgan_rng_u32 % n each), the metrics of each, then the
// (1 - level)/2 and (1 + level)/2 quantiles with linear interpolation between
// order statistics (numpy's default). Replicates where a metric is NaN (a
// class missing) are left out of that metric's quantiles. The tp..fn fields
// of lo and hi are zero. DCGAN_ERR_SHAPE for B < 2 or n < 1, DCGAN_ERR_NONFINITE
// for a NaN score, DCGAN_ERR_NOMEM (lo and hi unchanged on failure).
CLF_API dcgan_status clf_binary_metrics_bootstrap(clf_binary_metrics *lo,
                                                      clf_binary_metrics *hi,
                                                      const float *scores, const int *labels,
                                                      int n, float threshold, int B,
                                                      uint64_t seed, double level);

// The same with the patient as the unit (the cluster bootstrap, Field & Welsh
// 2007; REFERENCE.md section 9): images of one patient are not independent, so
// each resample draws n_patients patients with replacement (n_patients draws
// of dcgan_rng_u32 % n_patients) and keeps every image of each drawn patient,
// in image order (a patient drawn twice counts twice); a resample then holds n
// images on average, not exactly. patient[i] in 0..n_patients-1 is image i's
// patient, and every patient has an image (DCGAN_ERR_SHAPE otherwise). When
// every image is its own patient, numbered in image order (patient[i] = i),
// this is clf_binary_metrics_bootstrap, draw for draw.
CLF_API dcgan_status clf_binary_metrics_bootstrap_patients(clf_binary_metrics *lo,
                                                           clf_binary_metrics *hi,
                                                           const float *scores, const int *labels,
                                                           const int *patient, int n, int n_patients,
                                                           float threshold, int B, uint64_t seed,
                                                           double level);

// Can a rater tell real from generated? Exact tests for k successes in n
// trials (a rater's correct answers, say) and the agreement of several raters.
//
// Binomial probabilities are summed exactly from pmf(i) = C(n, i) p^i (1-p)^(n-i)
// (in logs, through lgamma).
// Two-sided exact binomial test of H0: success probability p0 (0 < p0 < 1):
// the total probability under H0 of every outcome no more likely than k, with
// scipy.stats.binomtest's relative tolerance of 1e-7 on "no more likely".
CLF_API double clf_binomial_test(int k, int n, double p0);
// Clopper-Pearson ("exact") interval of level `level` (0.95) for k of n:
// lo solves P(X >= k | lo) = (1 - level) / 2 (lo = 0 when k = 0), hi solves
// P(X <= k | hi) = (1 - level) / 2 (hi = 1 when k = n); by bisection to 1e-12.
// These equal the beta quantiles B((1-level)/2; k, n-k+1) and B((1+level)/2; k+1, n-k).
CLF_API void clf_clopper_pearson(double *lo, double *hi, int k, int n, double level);
// Fleiss' kappa (Fleiss 1971) for `subjects` items each rated by the same
// number of raters into `categories` classes; counts[i * categories + j] is how
// many raters put item i in class j. P_i = (sum_j n_ij^2 - m) / (m (m - 1)),
// p_j = sum_i n_ij / (subjects m), kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2).
// DCGAN_ERR_SHAPE when a count is negative, items have different numbers of
// raters or fewer than 2, or every rating falls in one class (kappa undefined);
// *kappa is unchanged then.
CLF_API dcgan_status clf_fleiss_kappa(double *kappa, const int *counts, int subjects, int categories);



// =============================================================================
// The functions
// =============================================================================

// --- classic augmentation: affine (inverse mapping, bilinear) + brightness/contrast

CLF_API void clf_augment_ranges_classic(clf_augment_ranges *r) {
    r->rotate_deg = 10.0f;
    r->shift = 0.08f;
    r->zoom = 0.10f;
    r->brightness = 0.10f;
    r->contrast = 0.10f;
}

CLF_API void clf_augment_identity(clf_augment_params *p) {
    p->rotate_deg = 0.0f;
    p->shift_x = p->shift_y = 0.0f;
    p->zoom = 1.0f;
    p->brightness = 0.0f;
    p->contrast = 1.0f;
}

// U(lo, hi) from one uniform draw.
static inline float clf__draw_in(dcgan_rng *rng, float lo, float hi) {
    return lo + (hi - lo) * dcgan_rng_uniform(rng);
}

CLF_API void clf_augment_draw(clf_augment_params *p, const clf_augment_ranges *r,
                                  dcgan_rng *rng) {
    p->rotate_deg = clf__draw_in(rng, -r->rotate_deg, r->rotate_deg);
    p->shift_x = clf__draw_in(rng, -r->shift, r->shift);
    p->shift_y = clf__draw_in(rng, -r->shift, r->shift);
    p->zoom = clf__draw_in(rng, 1.0f - r->zoom, 1.0f + r->zoom);
    p->brightness = clf__draw_in(rng, -r->brightness, r->brightness);
    p->contrast = clf__draw_in(rng, 1.0f - r->contrast, 1.0f + r->contrast);
}

CLF_API void clf_augment_apply(float *out, const float *inp, int C, int H, int W,
                                   const clf_augment_params *p) {
    // src = c + R (dst - c - shift) / zoom in double, R = [cos a, -sin a; sin a, cos a]
    // (y pointing down, so a > 0 turns the content counter-clockwise on screen)
    const double a = (double)p->rotate_deg * 3.14159265358979323846 / 180.0;
    const double ca = cos(a), sa = sin(a), inv_zoom = 1.0 / (double)p->zoom;
    const double cx = 0.5 * (W - 1), cy = 0.5 * (H - 1);
    const double tx = (double)p->shift_x * W, ty = (double)p->shift_y * H;
    const size_t plane = (size_t)H * W;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double dx = (x - cx - tx) * inv_zoom, dy = (y - cy - ty) * inv_zoom;
            double sx = cx + ca * dx - sa * dy, sy = cy + sa * dx + ca * dy;
            // fill_mode='nearest': clamp the source point into the image (written
            // so that NaN, which fails every comparison, lands on 0 too)
            if (!(sx >= 0.0)) sx = 0.0;
            if (sx > W - 1) sx = W - 1;
            if (!(sy >= 0.0)) sy = 0.0;
            if (sy > H - 1) sy = H - 1;
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            int x1 = x0 + 1 < W ? x0 + 1 : x0, y1 = y0 + 1 < H ? y0 + 1 : y0;
            double fx = sx - x0, fy = sy - y0;
            for (int c = 0; c < C; c++) {
                const float *src = inp + (size_t)c * plane;
                double top = (1.0 - fx) * src[(size_t)y0 * W + x0] + fx * src[(size_t)y0 * W + x1];
                double bot = (1.0 - fx) * src[(size_t)y1 * W + x0] + fx * src[(size_t)y1 * W + x1];
                out[(size_t)c * plane + (size_t)y * W + x] = (float)((1.0 - fy) * top + fy * bot);
            }
        }
    }
    if (p->brightness == 0.0f && p->contrast == 1.0f) return;
    for (int c = 0; c < C; c++) {
        float *o = out + (size_t)c * plane;
        double mean = 0.0;
        for (size_t i = 0; i < plane; i++) mean += o[i];
        mean /= (double)plane;
        for (size_t i = 0; i < plane; i++) {
            double v = mean + (double)p->contrast * (o[i] - mean) + (double)p->brightness;
            o[i] = (float)(v < -1.0 ? -1.0 : v > 1.0 ? 1.0 : v);
        }
    }
}

// --- patient split

CLF_API void clf_patient_id(char *out, size_t cap, const char *path) {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t len = strlen(name);
    const char *dot = strrchr(name, '.');
    if (dot && dot != name) len = (size_t)(dot - name);
    if (cap == 0) return;
    // personN_...: the patient is "personN"
    if (strncmp(name, "person", 6) == 0 && name[6] >= '0' && name[6] <= '9') {
        size_t k = 6;
        while (k < len && name[k] >= '0' && name[k] <= '9') k++;
        snprintf(out, cap, "%.*s", (int)k, name);
        return;
    }
    // [NORMAL2-]IM-NNNN-MMMM: the patient is "IM-NNNN"
    const char *im = strncmp(name, "NORMAL2-", 8) == 0 ? name + 8 : name;
    if (strncmp(im, "IM-", 3) == 0 && im[3] >= '0' && im[3] <= '9') {
        size_t k = 3;
        while (im + k < name + len && im[k] >= '0' && im[k] <= '9') k++;
        snprintf(out, cap, "%.*s", (int)k, im);
        return;
    }
    snprintf(out, cap, "%.*s", (int)len, name);
}

// (name, index) pairs sorted by name, then index: qsort without global state.
typedef struct {
    const char *name;
    int index;
} clf__named_index;

static inline int clf__cmp_named_index(const void *a, const void *b) {
    const clf__named_index *x = (const clf__named_index *)a, *y = (const clf__named_index *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

CLF_API dcgan_status clf_split_by_group(int *side, const char *const *groups,
                                            const int *labels, int n, const double *fractions,
                                            int n_sides, uint64_t seed) {
    double total = 0.0;
    if (n < 0 || n_sides < 1 || n_sides > 16)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "n = %d items into %d sides (1 to 16)", n, n_sides);
    for (int s = 0; s < n_sides; s++) {
        if (!(fractions[s] >= 0.0))
            return CLF__FAIL(DCGAN_ERR_SHAPE, "fraction %d is %g; fractions must be >= 0", s, fractions[s]);
        total += fractions[s];
    }
    if (fabs(total - 1.0) > 1e-6)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "the fractions sum to %g, not 1", total);
    if (n == 0) return DCGAN_OK;
    clf__named_index *pairs = (clf__named_index *)clf__alloc((size_t)n, sizeof(*pairs));
    int *order = (int *)clf__alloc((size_t)n, sizeof(int));
    int *start = (int *)clf__alloc((size_t)n + 1, sizeof(int));   // group g: order[start[g]..start[g+1])
    int *perm = (int *)clf__alloc((size_t)n, sizeof(int));
    if (!pairs || !order || !start || !perm) {
        free(pairs);
        free(order);
        free(start);
        free(perm);
        return CLF__FAIL(DCGAN_ERR_NOMEM, "no memory for %d items", n);
    }
    // Items sorted by group name (ties by index): each group is one run.
    for (int i = 0; i < n; i++) {
        pairs[i].name = groups[i];
        pairs[i].index = i;
    }
    qsort(pairs, (size_t)n, sizeof(*pairs), clf__cmp_named_index);
    for (int i = 0; i < n; i++) order[i] = pairs[i].index;
    free(pairs);
    int n_groups = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || strcmp(groups[order[i]], groups[order[i - 1]]) != 0) start[n_groups++] = i;
    start[n_groups] = n;
    // Within each label, in order of the labels' first appearance: shuffle its groups
    // (Fisher-Yates, one stream for the whole split) and deal them out by cumulative share.
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    int done_labels = 0, seen[64];
    for (int g0 = 0; g0 < n_groups; g0++) {
        int label = labels[order[start[g0]]], known = 0;
        for (int k = 0; k < done_labels; k++) known |= seen[k] == label;
        if (known) continue;
        if (done_labels < 64) seen[done_labels++] = label;
        int m = 0, items = 0;
        for (int g = 0; g < n_groups; g++)
            if (labels[order[start[g]]] == label) {
                perm[m++] = g;
                items += start[g + 1] - start[g];
            }
        for (int i = m - 1; i > 0; i--) {
            int j = (int)(dcgan_rng_u32(&rng) % (uint32_t)(i + 1));
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int before = 0;
        for (int k = 0; k < m; k++) {
            int g = perm[k], size = start[g + 1] - start[g];
            double mid = (before + 0.5 * size) / items, edge = 0.0;
            int s = 0;
            for (s = 0; s < n_sides - 1; s++) {
                edge += fractions[s];
                if (mid < edge) break;
            }
            for (int i = start[g]; i < start[g + 1]; i++) side[order[i]] = s;
            before += size;
        }
    }
    free(order);
    free(start);
    free(perm);
    return DCGAN_OK;
}

// --- metrics: ROC AUC (Mann-Whitney), ROC curve, threshold, confusion-matrix ratios

typedef struct {
    float score;
    int index;
} clf__scored_index;

static inline int clf__cmp_scored_index(const void *a, const void *b) {
    const clf__scored_index *x = (const clf__scored_index *)a, *y = (const clf__scored_index *)b;
    if (x->score != y->score) return (x->score > y->score) - (x->score < y->score);
    return (x->index > y->index) - (x->index < y->index);
}

// Indices 0..n-1 sorted by ascending score (a new array, or NULL without memory).
static inline int *clf__argsort_scores(const float *scores, int n) {
    clf__scored_index *pairs = (clf__scored_index *)clf__alloc((size_t)(n > 0 ? n : 1), sizeof(*pairs));
    int *idx = (int *)clf__alloc((size_t)(n > 0 ? n : 1), sizeof(int));
    if (!pairs || !idx) {
        free(pairs);
        free(idx);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        pairs[i].score = scores[i];
        pairs[i].index = i;
    }
    qsort(pairs, (size_t)n, sizeof(*pairs), clf__cmp_scored_index);
    for (int i = 0; i < n; i++) idx[i] = pairs[i].index;
    free(pairs);
    return idx;
}

// AUC from indices already sorted by score: ties get their average rank.
static inline double clf__auc_sorted(const int *idx, const float *scores, const int *labels, int n) {
    double rank_sum = 0.0, pos = 0.0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && scores[idx[j]] == scores[idx[i]]) j++;
        double avg_rank = 0.5 * (double)(i + 1 + j);   // ranks i+1 .. j
        for (int k = i; k < j; k++)
            if (labels[idx[k]]) { rank_sum += avg_rank; pos += 1.0; }
        i = j;
    }
    double neg = n - pos;
    if (pos == 0.0 || neg == 0.0) return NAN;
    return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

// The index of the first NaN score, or -1. The sorts and tie walks below need
// scores that compare equal to themselves: a NaN never did, and a tie walk
// that starts on one never moved (an endless loop, or writes past fpr/tpr).
static inline int clf__first_nan(const float *scores, int n) {
    for (int i = 0; i < n; i++)
        if (isnan(scores[i])) return i;
    return -1;
}

CLF_API double clf_roc_auc(const float *scores, const int *labels, int n) {
    if (clf__first_nan(scores, n) >= 0) return NAN;
    int *idx = clf__argsort_scores(scores, n);
    if (!idx) return NAN;
    double auc = clf__auc_sorted(idx, scores, labels, n);
    free(idx);
    return auc;
}

CLF_API dcgan_status clf_roc_curve(float *fpr, float *tpr, int *count, const float *scores,
                                       const int *labels, int n) {
    int pos = 0;
    for (int i = 0; i < n; i++) pos += labels[i] != 0;
    if (pos == 0 || pos == n)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "%d positives among %d items: a ROC curve needs both classes",
                           pos, n);
    const int bad = clf__first_nan(scores, n);
    if (bad >= 0) return CLF__FAIL(DCGAN_ERR_NONFINITE, "score %d of %d is NaN", bad, n);
    int *idx = clf__argsort_scores(scores, n);
    if (!idx) return CLF__FAIL(DCGAN_ERR_NOMEM, "no memory for %d scores", n);
    // Lower the threshold from above the highest score: each distinct score adds a point.
    int tp = 0, fp = 0, k = 0;
    fpr[k] = 0.0f;
    tpr[k++] = 0.0f;
    for (int i = n - 1; i >= 0;) {
        int j = i;
        while (j >= 0 && scores[idx[j]] == scores[idx[i]]) {
            if (labels[idx[j]]) tp++; else fp++;
            j--;
        }
        fpr[k] = (float)fp / (float)(n - pos);
        tpr[k++] = (float)tp / (float)pos;
        i = j;
    }
    *count = k;
    free(idx);
    return DCGAN_OK;
}

CLF_API float clf_threshold_youden(const float *scores, const int *labels, int n) {
    int pos = 0;
    for (int i = 0; i < n; i++) pos += labels[i] != 0;
    if (pos == 0 || pos == n) return 0.5f;
    if (clf__first_nan(scores, n) >= 0) return NAN;
    int *idx = clf__argsort_scores(scores, n);
    if (!idx) return 0.5f;
    // Threshold at scores[idx[i]]: everything from i up is called positive.
    // J = tp / P - fp / N, so J P N = tp N - fp P: whole numbers, compared
    // exactly (in double, two thresholds with equal J could round apart, and
    // the higher one won: 89 of 20,000 random tied cases in an audit).
    int tp = 0, fp = 0;
    const long long P = pos, N = n - pos;
    long long best = 0;
    int have = 0;
    float best_t = 0.5f;
    for (int i = n - 1; i >= 0;) {
        int j = i;
        while (j >= 0 && scores[idx[j]] == scores[idx[i]]) {
            if (labels[idx[j]]) tp++; else fp++;
            j--;
        }
        const long long J = tp * N - fp * P;
        if (!have || J >= best) { best = J; best_t = scores[idx[i]]; have = 1; }   // >=: the lowest such score
        i = j;
    }
    free(idx);
    return best_t;
}

static inline double clf__ratio(double a, double b) { return b > 0.0 ? a / b : NAN; }

// Metrics from the four counts plus a given AUC.
static inline void clf__metrics_from_counts(clf_binary_metrics *m, int tp, int fp, int tn, int fn,
                                       double auc) {
    m->tp = tp;
    m->fp = fp;
    m->tn = tn;
    m->fn = fn;
    m->accuracy = clf__ratio(tp + tn, tp + fp + tn + fn);
    m->sensitivity = clf__ratio(tp, tp + fn);
    m->specificity = clf__ratio(tn, tn + fp);
    m->balanced_accuracy = 0.5 * (m->sensitivity + m->specificity);
    m->precision = clf__ratio(tp, tp + fp);
    m->f1 = clf__ratio(2.0 * tp, 2.0 * tp + fp + fn);
    m->auc = auc;
}

CLF_API const char *clf_binary_metric_name(int k) {
    static const char *const names[CLF_BINARY_METRIC_COUNT] = {
        "accuracy", "balanced_accuracy", "sensitivity", "specificity", "precision", "f1", "auc"};
    return k >= 0 && k < CLF_BINARY_METRIC_COUNT ? names[k] : "?";
}

CLF_API double clf_binary_metric_get(const clf_binary_metrics *m, int k) {
    switch (k) {
    case 0: return m->accuracy;
    case 1: return m->balanced_accuracy;
    case 2: return m->sensitivity;
    case 3: return m->specificity;
    case 4: return m->precision;
    case 5: return m->f1;
    case 6: return m->auc;
    default: return NAN;
    }
}

static inline void clf__binary_metric_set(clf_binary_metrics *m, int k, double v) {
    switch (k) {
    case 0: m->accuracy = v; break;
    case 1: m->balanced_accuracy = v; break;
    case 2: m->sensitivity = v; break;
    case 3: m->specificity = v; break;
    case 4: m->precision = v; break;
    case 5: m->f1 = v; break;
    default: m->auc = v; break;
    }
}

CLF_API void clf_binary_metrics_compute(clf_binary_metrics *m, const float *scores,
                                            const int *labels, int n, float threshold) {
    int tp = 0, fp = 0, tn = 0, fn = 0;
    for (int i = 0; i < n; i++) {
        int said = scores[i] >= threshold;
        if (labels[i]) { if (said) tp++; else fn++; }
        else { if (said) fp++; else tn++; }
    }
    clf__metrics_from_counts(m, tp, fp, tn, fn, clf_roc_auc(scores, labels, n));
}

// Both bootstraps: patient NULL makes each image its own patient (n_patients = n).
static dcgan_status clf__metrics_bootstrap(const char *fn, clf_binary_metrics *lo, clf_binary_metrics *hi,
                                           const float *scores, const int *labels, const int *patient,
                                           int n, int n_patients, float threshold, int B, uint64_t seed,
                                           double level) {
    if (B < 2 || n < 1 || !(level > 0.0 && level < 1.0))
        return clf__fail(DCGAN_ERR_SHAPE, fn, "B = %d resamples of n = %d items at level %g "
                         "(needs B >= 2, n >= 1, 0 < level < 1)", B, n, level);
    if (patient && (n_patients < 1 || n_patients > n))
        return clf__fail(DCGAN_ERR_SHAPE, fn, "%d patients for %d images (needs 1 to %d)", n_patients, n, n);
    const int bad = clf__first_nan(scores, n);
    if (bad >= 0) return clf__fail(DCGAN_ERR_NONFINITE, fn, "score %d of %d is NaN", bad, n);
    const int P = patient ? n_patients : n, K = CLF_BINARY_METRIC_COUNT;
    int cap = n;   // a resample's images: n on average, more or fewer; grown when a draw needs it
    int *first = (int *)calloc((size_t)P + 1, sizeof(int));   // patient p's images: member[first[p] ..
    int *next = (int *)clf__alloc((size_t)P, sizeof(int));    //                      first[p + 1] - 1]
    int *member = (int *)clf__alloc((size_t)n, sizeof(int));
    double *values = (double *)clf__alloc((size_t)K * (size_t)B, sizeof(double));
    float *s = (float *)clf__alloc((size_t)cap, sizeof(float));
    int *l = (int *)clf__alloc((size_t)cap, sizeof(int));
    int *count = (int *)calloc((size_t)K, sizeof(int));
    dcgan_status st = DCGAN_OK;
    if (!first || !next || !member || !values || !s || !l || !count) {
        st = clf__fail(DCGAN_ERR_NOMEM, fn, "no memory for %d resamples of %d items", B, n);
        goto done;
    }
    for (int i = 0; i < n; i++) {   // each patient's images, in image order
        const int p = patient ? patient[i] : i;
        if (p < 0 || p >= P) {
            st = clf__fail(DCGAN_ERR_SHAPE, fn, "image %d's patient is %d, not 0..%d", i, p, P - 1);
            goto done;
        }
        first[p + 1]++;
    }
    for (int p = 0; p < P; p++) {
        if (first[p + 1] == 0) {
            st = clf__fail(DCGAN_ERR_SHAPE, fn, "patient %d of %d has no image", p, P);
            goto done;
        }
        first[p + 1] += first[p];
    }
    memcpy(next, first, (size_t)P * sizeof(int));
    for (int i = 0; i < n; i++) member[next[patient ? patient[i] : i]++] = i;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    for (int b = 0; b < B; b++) {
        int m = 0;   // images in this resample
        for (int d = 0; d < P; d++) {
            const int p = (int)(dcgan_rng_u32(&rng) % (uint32_t)P), size = first[p + 1] - first[p];
            if (size > cap - m) {   // (int: a resample past 2^31 images is refused)
                const int more = size > cap ? size : cap;
                float *s2 = more <= INT_MAX - cap ? (float *)realloc(s, ((size_t)cap + more) * sizeof(float)) : NULL;
                if (s2) s = s2;
                int *l2 = s2 ? (int *)realloc(l, ((size_t)cap + more) * sizeof(int)) : NULL;
                if (l2) l = l2;
                if (!s2 || !l2) {
                    st = clf__fail(DCGAN_ERR_NOMEM, fn, "no memory for a resample of more than %d images", cap);
                    goto done;
                }
                cap += more;
            }
            for (int k = first[p]; k < first[p + 1]; k++) {
                s[m] = scores[member[k]];
                l[m] = labels[member[k]];
                m++;
            }
        }
        clf_binary_metrics mt;
        clf_binary_metrics_compute(&mt, s, l, m, threshold);
        for (int k = 0; k < K; k++) {
            double v = clf_binary_metric_get(&mt, k);
            if (isfinite(v)) values[(size_t)k * B + count[k]++] = v;
        }
    }
    memset(lo, 0, sizeof *lo);
    memset(hi, 0, sizeof *hi);
    for (int k = 0; k < K; k++) {
        double *v = values + (size_t)k * B;
        clf__binary_metric_set(lo, k, dcgan_quantile(v, count[k], 0.5 * (1.0 - level)));
        clf__binary_metric_set(hi, k, dcgan_quantile(v, count[k], 0.5 * (1.0 + level)));
    }
done:
    free(first);
    free(next);
    free(member);
    free(values);
    free(s);
    free(l);
    free(count);
    return st;
}

CLF_API dcgan_status clf_binary_metrics_bootstrap(clf_binary_metrics *lo,
                                                      clf_binary_metrics *hi,
                                                      const float *scores, const int *labels,
                                                      int n, float threshold, int B,
                                                      uint64_t seed, double level) {
    return clf__metrics_bootstrap("binary_metrics_bootstrap", lo, hi, scores, labels, NULL, n, n, threshold, B,
                                  seed, level);
}

CLF_API dcgan_status clf_binary_metrics_bootstrap_patients(clf_binary_metrics *lo,
                                                           clf_binary_metrics *hi,
                                                           const float *scores, const int *labels,
                                                           const int *patient, int n, int n_patients,
                                                           float threshold, int B, uint64_t seed,
                                                           double level) {
    if (!patient) return clf__fail(DCGAN_ERR_SHAPE, "binary_metrics_bootstrap_patients", "patient is NULL");
    return clf__metrics_bootstrap("binary_metrics_bootstrap_patients", lo, hi, scores, labels, patient, n,
                                  n_patients, threshold, B, seed, level);
}

// --- can a rater tell real from generated? exact binomial statistics, Fleiss' kappa

static inline double clf__binom_pmf(int i, int n, double p) {
    if (p <= 0.0) return i == 0 ? 1.0 : 0.0;
    if (p >= 1.0) return i == n ? 1.0 : 0.0;
    return exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) + i * log(p) + (n - i) * log1p(-p));
}

CLF_API double clf_binomial_test(int k, int n, double p0) {
    if (n < 1 || k < 0 || k > n || !(p0 > 0.0 && p0 < 1.0)) return NAN;
    const double d = clf__binom_pmf(k, n, p0) * (1.0 + 1e-7);
    double p = 0.0;
    for (int i = 0; i <= n; i++) {
        const double q = clf__binom_pmf(i, n, p0);
        if (q <= d) p += q;
    }
    return p < 1.0 ? p : 1.0;
}

// P(X >= k) (upper = 1) or P(X <= k) (upper = 0) for X ~ Binomial(n, p)
static inline double clf__binom_tail(int k, int n, double p, int upper) {
    double s = 0.0;
    for (int i = upper ? k : 0; i <= (upper ? n : k); i++) s += clf__binom_pmf(i, n, p);
    return s;
}

CLF_API void clf_clopper_pearson(double *lo, double *hi, int k, int n, double level) {
    const double a = (1.0 - level) / 2.0;
    *lo = 0.0;
    *hi = 1.0;
    if (n < 1 || k < 0 || k > n) {
        *lo = *hi = NAN;
        return;
    }
    // P(X >= k | p) grows with p: the lower bound is where it reaches a
    if (k > 0) {
        double l = 0.0, h = 1.0;
        for (int it = 0; it < 200 && h - l > 1e-13; it++) {
            const double m = 0.5 * (l + h);
            if (clf__binom_tail(k, n, m, 1) < a) l = m; else h = m;
        }
        *lo = 0.5 * (l + h);
    }
    // P(X <= k | p) falls with p: the upper bound is where it drops to a
    if (k < n) {
        double l = 0.0, h = 1.0;
        for (int it = 0; it < 200 && h - l > 1e-13; it++) {
            const double m = 0.5 * (l + h);
            if (clf__binom_tail(k, n, m, 0) > a) l = m; else h = m;
        }
        *hi = 0.5 * (l + h);
    }
}

CLF_API dcgan_status clf_fleiss_kappa(double *kappa, const int *counts, int subjects, int categories) {
    if (subjects < 1 || categories < 2)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "%d items in %d classes; need >= 1 item and >= 2 classes",
                           subjects, categories);
    for (int i = 0; i < subjects; i++)
        for (int j = 0; j < categories; j++)
            if (counts[(size_t)i * categories + j] < 0)
                return CLF__FAIL(DCGAN_ERR_SHAPE, "item %d, class %d: %d ratings; a count cannot be negative", i,
                                 j, counts[(size_t)i * categories + j]);
    int m = 0;
    for (int j = 0; j < categories; j++) m += counts[j];
    if (m < 2)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "item 0 has %d rating%s; kappa needs at least 2 raters per item", m,
                         m == 1 ? "" : "s");
    double mean_p = 0.0, pe = 0.0;
    for (int i = 0; i < subjects; i++) {
        int raters = 0;
        double sq = 0.0;
        for (int j = 0; j < categories; j++) {
            raters += counts[(size_t)i * categories + j];
            sq += (double)counts[(size_t)i * categories + j] * counts[(size_t)i * categories + j];
        }
        if (raters != m)
            return CLF__FAIL(DCGAN_ERR_SHAPE, "item %d has %d rating%s, item 0 has %d; every item needs the "
                               "same number of raters", i, raters, raters == 1 ? "" : "s", m);
        mean_p += (sq - m) / ((double)m * (m - 1));
    }
    mean_p /= subjects;
    for (int j = 0; j < categories; j++) {
        double pj = 0.0;
        for (int i = 0; i < subjects; i++) pj += counts[(size_t)i * categories + j];
        pj /= (double)subjects * m;
        pe += pj * pj;
    }
    if (pe >= 1.0)
        return CLF__FAIL(DCGAN_ERR_SHAPE, "every rating is in one class: kappa is undefined");
    *kappa = (mean_p - pe) / (1.0 - pe);
    return DCGAN_OK;
}

#endif // CLASSIFY_TOOLS_H
