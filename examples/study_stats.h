// study_stats.h - the pre-specified statistics for comparing two classifier
// arms (A and B) on the same test images, with patients as the unit:
//
//   study_auc_compute          ROC AUC (Mann-Whitney, ties count 1/2), O(n log n)
//   study_metric_compute       AUC, balanced accuracy, sensitivity, specificity,
//                              precision or F1 of one arm
//   study_delong_compute       DeLong's test of two paired AUCs on the same cases
//   study_bootstrap_compute    patient-level (cluster) bootstrap of a paired
//                              difference metric(A) - metric(B) (or of metric(A)
//                              alone), over one or more strata (splits, seeds),
//                              with 95% and 90% intervals and a bootstrap p-value
//   study_bootstrap_draw       the patient draws that bootstrap makes for a seed
//   study_interval_compute     percentile interval of bootstrap replicates
//   study_t975                 Student's t quantile for a 95% interval
//   study_holm_adjust          Holm's step-down adjusted p-values
//   study_verdict_decide       equivalent / helps / harms / inconclusive
//
// Plain C99, libc and libm only. Every function is `static inline` (STUDY_API):
// each file that includes the header gets its own copy, and a program that
// calls only some of them compiles without "unused function" warnings.
//
// Conventions
// - Labels are 1 (positive) or 0 (negative); anything else is refused.
// - Threshold metrics call an image positive when score >= threshold (as
//   clf_binary_metrics_compute does).
// - Differences are arm A minus arm B. Every metric here is "higher is better",
//   so a positive difference means A is better.
// - Functions that can fail return 0, or -1 with a message in why (a buffer of
//   cap bytes that the caller owns; why = NULL with cap = 0 is allowed). The
//   message names the function and the values involved. On failure every
//   output is left as it was.
// - Nothing here keeps a pointer to the caller's arrays after returning.
#ifndef STUDY_STATS_H
#define STUDY_STATS_H
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUDY_API static inline

// A bootstrap note turns into a warning when more than this share of the
// resamples had to be skipped (a class missing from a draw, or precision
// undefined): the interval then describes an unusual subset of resamples.
#define STUDY_SKIP_WARN_SHARE 0.05

// ---------------------------------------------------------------------------
// Errors and small helpers

static inline int study__fail(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);   // C99: with cap == 0 nothing is written, why may be NULL
    va_end(ap);
    return -1;
}

// Checks one array of n labels and scores (scores2 may be NULL): labels 0 or 1,
// no NaN score, both classes present. where starts the message (the caller's name).
static inline int study__check_cases(const char *where, const double *scores,
                                     const double *scores2, const int *labels, int n, char *why,
                                     size_t cap) {
    if (n < 2 || !scores || !labels)
        return study__fail(why, cap, "%s: %d cases; needs at least 2 (and non-NULL arrays)", where,
                           n);
    int pos = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1)
            return study__fail(why, cap, "%s: labels[%d] is %d; labels are 0 or 1", where, i,
                               labels[i]);
        if (isnan(scores[i]) || (scores2 && isnan(scores2[i])))
            return study__fail(why, cap, "%s: the score of case %d is NaN", where, i);
        pos += labels[i];
    }
    if (pos == 0 || pos == n)
        return study__fail(why, cap, "%s: %d positive cases among %d; needs both classes", where,
                           pos, n);
    return 0;
}

typedef struct { double score; int index; } study__keyed;

static inline int study__keyed_cmp(const void *a, const void *b) {
    const study__keyed *x = (const study__keyed *)a, *y = (const study__keyed *)b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);   // ties by index: qsort is deterministic
}

// order[k] = the case with the k-th smallest score (ascending). -1: no memory.
static inline int study__sort_order(int *order, const double *scores, int n) {
    study__keyed *k = (study__keyed *)malloc((size_t)n * sizeof *k);
    if (!k) return -1;
    for (int i = 0; i < n; i++) {
        k[i].score = scores[i];
        k[i].index = i;
    }
    qsort(k, (size_t)n, sizeof *k, study__keyed_cmp);
    for (int i = 0; i < n; i++) order[i] = k[i].index;
    free(k);
    return 0;
}

// ---------------------------------------------------------------------------
// ROC AUC: the Mann-Whitney statistic
//
// AUC = P(score of a random positive > score of a random negative), ties 1/2:
//   AUC = 1/(P N) sum_i sum_j psi(x_i, y_j),  psi = 1 if x > y, 1/2 if x = y, 0 if x < y
// over positives x_i and negatives y_j (Bamber 1975; Hanley & McNeil 1982).
// Instead of the P*N pairs we walk the cases once in score order, a group of
// tied scores at a time: each positive of a group beats every negative below
// the group and ties half of the group's negatives. O(n log n) for the sort.
//
// weight[i] (NULL: all 1) counts case i that many times; the bootstrap uses it
// for images whose patient was drawn several times (0: not in the draw).
//
// As a fraction of whole numbers (see study__frac below): *twice_wins = 2 sum
// over the groups of pos_group (neg_below + neg_group / 2), *twice_pairs = 2 P N.
static inline void study__auc_counts(double *twice_wins, double *twice_pairs, const int *order,
                                     const double *scores, const int *labels, const double *weight,
                                     int n) {
    double wins = 0.0, neg_below = 0.0, pos_total = 0.0;
    for (int i = 0; i < n;) {
        double pos_group = 0.0, neg_group = 0.0;
        int j = i;
        while (j < n && scores[order[j]] == scores[order[i]]) {   // one group of tied scores
            double w = weight ? weight[order[j]] : 1.0;
            if (labels[order[j]]) pos_group += w;
            else neg_group += w;
            j++;
        }
        wins += pos_group * (2.0 * neg_below + neg_group);
        neg_below += neg_group;
        pos_total += pos_group;
        i = j;
    }
    *twice_wins = wins;
    *twice_pairs = 2.0 * pos_total * neg_below;   // neg_below is now every negative
}

static inline double study__auc_sorted(const int *order, const double *scores, const int *labels,
                                       const double *weight, int n) {
    double twice_wins, twice_pairs;
    study__auc_counts(&twice_wins, &twice_pairs, order, scores, labels, weight, n);
    return twice_wins / twice_pairs;
}

// ROC AUC of scores for labels (n cases). Returns 0 with *auc set, or -1 (a
// class empty, fewer than 2 cases, a label not 0/1, a NaN score, no memory).
STUDY_API int study_auc_compute(double *auc, const double *scores, const int *labels, int n,
                                char *why, size_t cap) {
    if (study__check_cases("study_auc_compute", scores, NULL, labels, n, why, cap)) return -1;
    int *order = (int *)malloc((size_t)n * sizeof(int));
    if (!order || study__sort_order(order, scores, n)) {
        free(order);
        return study__fail(why, cap, "study_auc_compute: out of memory for %d cases", n);
    }
    *auc = study__auc_sorted(order, scores, labels, NULL, n);
    free(order);
    return 0;
}

// ---------------------------------------------------------------------------
// The metrics of one arm

typedef enum {
    STUDY_AUC,                 // ROC AUC (above)
    STUDY_BALANCED_ACCURACY,   // (sensitivity + specificity) / 2
    STUDY_SENSITIVITY,         // tp / (tp + fn)
    STUDY_SPECIFICITY,         // tn / (tn + fp)
    STUDY_PRECISION,           // tp / (tp + fp); undefined when nothing is called positive
    STUDY_F1,                  // 2 tp / (2 tp + fp + fn)
    STUDY_METRIC_COUNT
} study_metric;

// "auc", "balanced_accuracy", "sensitivity", "specificity", "precision", "f1"
// (the names clf_binary_metric_name uses); "?" for anything else.
STUDY_API const char *study_metric_name(study_metric m) {
    static const char *names[STUDY_METRIC_COUNT] = {"auc", "balanced_accuracy", "sensitivity",
                                                    "specificity", "precision", "f1"};
    return m >= 0 && m < STUDY_METRIC_COUNT ? names[m] : "?";
}

// Metrics as fractions of whole numbers
//
// Every weight is a whole number (1, or how many times a patient was drawn),
// so every count below is one, and every metric here is a fraction num / den
// of whole numbers, which a double holds exactly up to 2^53. A metric is then
// one division, correctly rounded, and a difference of two arms or a mean over
// strata is formed from the whole numbers before the one division: a
// difference that is 0 in exact arithmetic comes out 0, and one that is
// exactly d comes out as the double nearest d, as the bootstrap p-value (ties
// with 0 counted on both sides) and the verdicts (ends compared with 0 and +-d)
// need. Subtracting two rounded metrics did not: 3/20 - 2/20 gave
// 0.04999999999999999, and two balanced accuracies that are equal as
// fractions could differ in their last bit. Where a whole number would reach
// 2^53 (a single stratum of tens of millions of images; strata whose
// denominators have no common multiple below 2^53) the value is the rounded
// sum instead, and exact zeros there are not promised.

#define STUDY__EXACT 9007199254740992.0   // 2^53

typedef struct {
    double num, den;   // when exact: the value is num / den, whole numbers, den > 0, |num|, den < 2^53
    double value;      // the value in double arithmetic (num / den when exact)
    int exact;
} study__frac;

static inline study__frac study__frac_make(double num, double den) {
    study__frac f;
    f.num = num;
    f.den = den;
    f.value = num / den;
    f.exact = fabs(num) < STUDY__EXACT && den < STUDY__EXACT;
    return f;
}

// Greatest common divisor of whole numbers below 2^53 (b > 0).
static inline double study__gcd(double a, double b) {
    uint64_t x = (uint64_t)fabs(a), y = (uint64_t)b;
    while (y) {
        uint64_t t = x % y;
        x = y;
        y = t;
    }
    return (double)x;
}

// a + sign b (sign +1 or -1), in lowest terms while every whole number on the
// way stays below 2^53 (a product that reaches 2^53 computes as at least 2^53:
// rounding is monotone and 2^53 is a double), else the rounded sum.
static inline study__frac study__frac_add(study__frac a, study__frac b, double sign) {
    study__frac r;
    r.num = r.den = 0.0;
    r.value = a.value + sign * b.value;
    r.exact = 0;
    if (!a.exact || !b.exact) return r;
    const double g = study__gcd(a.den, b.den), x = a.num * (b.den / g), y = sign * b.num * (a.den / g),
                 den = a.den * (b.den / g);
    if (fabs(x) >= STUDY__EXACT || fabs(y) >= STUDY__EXACT || den >= STUDY__EXACT ||
        fabs(x + y) >= STUDY__EXACT)
        return r;
    const double common = study__gcd(x + y, den);   // gcd(0, den) = den: 0 becomes 0 / 1
    return study__frac_make((x + y) / common, den / common);
}

// f / k for a whole k >= 1: one division where den k stays below 2^53.
static inline double study__frac_mean(study__frac f, int k) {
    if (f.exact && f.den * k < STUDY__EXACT) return f.num / (f.den * k);
    return f.value / k;
}

// One metric of the (weighted) cases as a fraction; both classes must have
// weight. order is the cases sorted by score (only AUC needs it). Returns 0,
// or -1 when the metric is undefined: precision with nothing called positive.
static inline int study__metric_frac(study__frac *f, study_metric m, const int *order,
                                     const double *scores, const int *labels, const double *weight,
                                     int n, double threshold) {
    if (m == STUDY_AUC) {
        double twice_wins, twice_pairs;
        study__auc_counts(&twice_wins, &twice_pairs, order, scores, labels, weight, n);
        *f = study__frac_make(twice_wins, twice_pairs);
        return 0;
    }
    // The confusion matrix at the threshold, each case counted weight[i] times.
    double tp = 0.0, fp = 0.0, tn = 0.0, fn = 0.0;
    for (int i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        int said = scores[i] >= threshold;
        if (labels[i]) { if (said) tp += w; else fn += w; }
        else { if (said) fp += w; else tn += w; }
    }
    const double pos = tp + fn, neg = tn + fp;   // both classes: > 0
    switch (m) {
    case STUDY_BALANCED_ACCURACY:   // (tp / pos + tn / neg) / 2
        *f = study__frac_make(tp * neg + tn * pos, 2.0 * pos * neg);
        return 0;
    case STUDY_SENSITIVITY: *f = study__frac_make(tp, pos); return 0;
    case STUDY_SPECIFICITY: *f = study__frac_make(tn, neg); return 0;
    case STUDY_PRECISION:
        if (tp + fp == 0.0) return -1;
        *f = study__frac_make(tp, tp + fp);
        return 0;
    default: *f = study__frac_make(2.0 * tp, 2.0 * tp + fp + fn); return 0;   // F1; tp + fn > 0
    }
}

// The same as a double: one division, num / den.
static inline int study__metric_sorted(double *value, study_metric m, const int *order,
                                       const double *scores, const int *labels,
                                       const double *weight, int n, double threshold) {
    study__frac f;
    if (study__metric_frac(&f, m, order, scores, labels, weight, n, threshold)) return -1;
    *value = f.value;
    return 0;
}

// One metric of one arm on all n cases, at threshold (ignored for AUC).
// Every metric requires both classes (so that all metrics are computed on the
// same sets of images). Returns 0, or -1: a class empty, a label not 0/1, a NaN
// score, precision with no score >= threshold, an unknown metric, no memory.
STUDY_API int study_metric_compute(double *value, study_metric m, const double *scores,
                                   const int *labels, int n, double threshold, char *why,
                                   size_t cap) {
    if (m < 0 || m >= STUDY_METRIC_COUNT)
        return study__fail(why, cap, "study_metric_compute: unknown metric %d", (int)m);
    if (study__check_cases("study_metric_compute", scores, NULL, labels, n, why, cap)) return -1;
    int *order = (int *)malloc((size_t)n * sizeof(int));
    if (!order || study__sort_order(order, scores, n)) {
        free(order);
        return study__fail(why, cap, "study_metric_compute: out of memory for %d cases", n);
    }
    double v = 0.0;
    int rc = study__metric_sorted(&v, m, order, scores, labels, NULL, n, threshold);
    free(order);
    if (rc)
        return study__fail(why, cap, "study_metric_compute: precision is undefined: no score >= %g",
                           threshold);
    *value = v;
    return 0;
}

// ---------------------------------------------------------------------------
// DeLong's test: two correlated ROC AUCs on the same cases
//
// DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837-845, section 2.
// For arm r, with positives X_1..X_m and negatives Y_1..Y_n, the structural
// components (placement values) are
//   V10_r(X_i) = 1/n sum_j psi(X_i, Y_j)   (the share of negatives below X_i, ties 1/2)
//   V01_r(Y_j) = 1/m sum_i psi(X_i, Y_j)   (the share of positives above Y_j, ties 1/2)
// and AUC_r = mean_i V10_r(X_i) = mean_j V01_r(Y_j). With S10 and S01 the 2x2
// sample covariance matrices (divisor m - 1 and n - 1) of the V10 over the
// positives and of the V01 over the negatives, the covariance matrix of
// (AUC_1, AUC_2) is S = S10 / m + S01 / n, so
//   var(AUC_1 - AUC_2) = S_11 + S_22 - 2 S_12,  z = (AUC_1 - AUC_2) / sqrt(var)
// and the two-sided p-value is 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2).
//
// Sun & Xu (2014), IEEE Signal Processing Letters 21:1389-1393, compute the
// placement values in O(n log n) from midranks: V10(X_i) = (T_Z(X_i) - T_X(X_i)) / n,
// with T_Z the midrank among all cases and T_X among the positives. The
// difference of the two midranks is just "negatives below + half the tied
// negatives", which the walk over tie groups below counts directly.
//
// We compute var(AUC_1 - AUC_2) as the variance of the differences
// D10 = V10_1 - V10_2 and D01 = V01_1 - V01_2, var(D10) / m + var(D01) / n,
// which equals S_11 + S_22 - 2 S_12 but does not subtract nearly equal numbers.
// The usual reference implementation is pROC's roc.test(method = "delong",
// paired = TRUE) (REFERENCE.md section 9); tests/make_study_stats.py checks
// these numbers against the paper's O(n^2) formulas directly.

typedef struct {
    double auc1, auc2;     // arm 1's and arm 2's AUC
    double var1, var2;     // their variances, S_11 and S_22
    double cov;            // their covariance, S_12
    double diff;           // auc1 - auc2
    double var;            // var(auc1 - auc2) = var1 + var2 - 2 cov
    double se;             // sqrt(var)
    double z;              // diff / se; 0 when var = 0 and diff = 0
    double p;              // two-sided, normal; 1 when var = 0 and diff = 0
    int n_pos, n_neg;      // m and n
} study_delong;

// place[i] = V10(case i) for a positive, V01(case i) for a negative.
static inline void study__placements(double *place, const int *order, const double *scores,
                                     const int *labels, int n, int n_pos, int n_neg) {
    int neg_below = 0, pos_below = 0;
    for (int i = 0; i < n;) {
        int pos_group = 0, neg_group = 0, j = i;
        while (j < n && scores[order[j]] == scores[order[i]]) {
            if (labels[order[j]]) pos_group++;
            else neg_group++;
            j++;
        }
        int pos_above = n_pos - pos_below - pos_group;
        for (int k = i; k < j; k++)
            place[order[k]] = labels[order[k]] ? (neg_below + 0.5 * neg_group) / n_neg
                                               : (pos_above + 0.5 * pos_group) / n_pos;
        neg_below += neg_group;
        pos_below += pos_group;
        i = j;
    }
}

// Sample covariance (divisor count - 1) of x and y over the cases of class cls.
// The values are shifted by the first case's before the two passes, so a
// constant column gives exactly 0 (the degenerate case below depends on it).
static inline double study__class_cov(const double *x, const double *y, const int *labels, int cls,
                                      int n) {
    int first = -1, count = 0;
    double mx = 0.0, my = 0.0, sum = 0.0;
    for (int i = 0; i < n; i++) {
        if (labels[i] != cls) continue;
        if (first < 0) first = i;
        mx += x[i] - x[first];
        my += y[i] - y[first];
        count++;
    }
    mx /= count;
    my /= count;
    for (int i = 0; i < n; i++)
        if (labels[i] == cls) sum += (x[i] - x[first] - mx) * (y[i] - y[first] - my);
    return sum / (count - 1);
}

// DeLong's test of AUC(scores1) = AUC(scores2), both scoring the same n cases
// with labels. Needs at least 2 positives and 2 negatives. When the variance of
// the difference is 0 (e.g. both arms separate the classes perfectly) and the
// difference is 0 too, z = 0 and p = 1; a nonzero difference with variance 0
// has no z test and is refused. Returns 0, or -1 with *out unchanged.
STUDY_API int study_delong_compute(study_delong *out, const double *scores1, const double *scores2,
                                   const int *labels, int n, char *why, size_t cap) {
    const char *fn = "study_delong_compute";
    if (!scores2) return study__fail(why, cap, "%s: scores2 is NULL", fn);
    if (study__check_cases(fn, scores1, scores2, labels, n, why, cap)) return -1;
    int m_pos = 0;
    for (int i = 0; i < n; i++) m_pos += labels[i];
    int n_neg = n - m_pos;
    if (m_pos < 2 || n_neg < 2)
        return study__fail(why, cap, "%s: %d positive and %d negative cases; DeLong's variance needs "
                           "at least 2 of each", fn, m_pos, n_neg);
    int *order = (int *)malloc((size_t)n * sizeof(int));
    double *place1 = (double *)malloc((size_t)n * sizeof(double));
    double *place2 = (double *)malloc((size_t)n * sizeof(double));
    double *d = (double *)malloc((size_t)n * sizeof(double));
    int nomem = !order || !place1 || !place2 || !d;
    if (!nomem) nomem = study__sort_order(order, scores1, n);
    if (!nomem) study__placements(place1, order, scores1, labels, n, m_pos, n_neg);
    if (!nomem) nomem = study__sort_order(order, scores2, n);
    if (nomem) {
        free(order); free(place1); free(place2); free(d);
        return study__fail(why, cap, "%s: out of memory for %d cases", fn, n);
    }
    study__placements(place2, order, scores2, labels, n, m_pos, n_neg);

    study_delong r;
    memset(&r, 0, sizeof r);
    r.n_pos = m_pos;
    r.n_neg = n_neg;
    double sum1 = 0.0, sum2 = 0.0;   // AUC_r = mean of V10_r over the positives
    for (int i = 0; i < n; i++)
        if (labels[i]) { sum1 += place1[i]; sum2 += place2[i]; }
    r.auc1 = sum1 / m_pos;
    r.auc2 = sum2 / m_pos;
    r.diff = r.auc1 - r.auc2;
    // S = S10 / m + S01 / n, entry by entry
    r.var1 = study__class_cov(place1, place1, labels, 1, n) / m_pos +
             study__class_cov(place1, place1, labels, 0, n) / n_neg;
    r.var2 = study__class_cov(place2, place2, labels, 1, n) / m_pos +
             study__class_cov(place2, place2, labels, 0, n) / n_neg;
    r.cov = study__class_cov(place1, place2, labels, 1, n) / m_pos +
            study__class_cov(place1, place2, labels, 0, n) / n_neg;
    for (int i = 0; i < n; i++) d[i] = place1[i] - place2[i];
    r.var = study__class_cov(d, d, labels, 1, n) / m_pos +
            study__class_cov(d, d, labels, 0, n) / n_neg;
    free(order); free(place1); free(place2); free(d);

    if (r.var <= 0.0) {
        if (r.diff != 0.0)
            return study__fail(why, cap, "%s: AUC %.6g vs %.6g: the difference %.6g has variance 0 "
                               "(every case ranks alike in both arms); no z test", fn, r.auc1, r.auc2,
                               r.diff);
        r.var = r.se = r.z = 0.0;
        r.p = 1.0;
    } else {
        r.se = sqrt(r.var);
        r.z = r.diff / r.se;
        r.p = erfc(fabs(r.z) / sqrt(2.0));   // 2 (1 - Phi(|z|)), without cancellation
    }
    *out = r;
    return 0;
}

// ---------------------------------------------------------------------------
// Percentile interval
//
// The percentile interval (Efron & Tibshirani 1993, ch. 13.3) at level L is
// the (1 - L)/2 and (1 + L)/2 quantiles of the replicates. Quantile q of the
// sorted values v_0..v_{k-1}: with h = (k - 1) q and j = floor(h),
//   v_j + (h - j) (v_{j+1} - v_j)
// (Hyndman & Fan 1996, definition 7; numpy.percentile's default "linear").

static inline int study__double_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// q-quantile of k sorted values (definition 7 above). A position within
// rounding of a whole number is that number: q = 0.5 * (1 - 0.95) is
// 0.025000000000000022 in double, so with k = 1961 the position 49.00000000000004
// gave the next value a weight of 4e-14, and an interval end that is exactly 0
// came out 4e-16 (numpy.percentile: 0).
static inline double study__quantile_sorted(const double *v, int k, double q) {
    double h = (k - 1) * q;
    const double whole = floor(h + 0.5);
    if (fabs(h - whole) <= 1e-9 * k) h = whole;
    int lo = (int)floor(h);
    if (lo >= k - 1) return v[k - 1];
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

// Two-sided 95% Student t quantile t_{0.975, df}: a table for df 1..30, beyond
// it the Cornish-Fisher expansion in 1/df (Abramowitz & Stegun 26.7.5, three
// terms; within 1e-4 of the exact quantile from df 31 on: 2.0395 at df 31,
// 1.9842 at 99). It was 1.96 beyond 30, 4% short at df 31. For classify's
// intervals over seeds and folds and study_report's over splits; df >= 1.
STUDY_API double study_t975(int df) {
    static const double t[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df >= 1 && df <= 30) return t[df - 1];
    const double z = 1.959963984540054, z2 = z * z, v = df;
    const double g1 = (z2 + 1.0) * z / 4.0;
    const double g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    const double g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    return z + g1 / v + g2 / (v * v) + g3 / (v * v * v);
}

// Percentile interval [*lo, *hi] at level (0 < level < 1) of the n values,
// leaving NaN values out (the bootstrap marks skipped resamples with NaN).
// Returns 0, or -1: a bad level, fewer than 2 values that are not NaN, no memory.
STUDY_API int study_interval_compute(double *lo, double *hi, const double *values, int n,
                                     double level, char *why, size_t cap) {
    if (!(level > 0.0 && level < 1.0))
        return study__fail(why, cap, "study_interval_compute: level %g; needs 0 < level < 1", level);
    double *v = (double *)malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!v) return study__fail(why, cap, "study_interval_compute: out of memory for %d values", n);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(values[i])) v[k++] = values[i];
    if (k < 2) {
        free(v);
        return study__fail(why, cap, "study_interval_compute: %d of %d values are not NaN; needs at "
                           "least 2", k, n);
    }
    qsort(v, (size_t)k, sizeof(double), study__double_cmp);
    *lo = study__quantile_sorted(v, k, 0.5 * (1.0 - level));
    *hi = study__quantile_sorted(v, k, 0.5 * (1.0 + level));
    free(v);
    return 0;
}

// ---------------------------------------------------------------------------
// Patient-level (cluster) bootstrap of a paired difference
//
// Images of one patient are not independent, so the patient is the unit that
// is resampled (Field & Welsh 2007, "Bootstrapping clustered data", the
// cluster bootstrap; REFERENCE.md section 9): draw as many patients as the test
// set has, with replacement, keep every image of each drawn patient (a patient
// drawn twice counts twice), and compute metric(A) - metric(B) on that same
// draw, so the pairing of the arms is kept. Repeating it B times gives the
// replicates; the percentile intervals at 95% and 90% come from them.
//
// Several splits or seeds: each is a stratum (its own test set and both arms'
// scores on it). One replicate resamples the patients of every stratum
// independently and averages the per-stratum differences with equal weights,
// so the result is the difference averaged over splits/seeds (each counts
// once, whatever its size), and its interval carries the patient sampling of
// every split. Two cautions: the trained models are held fixed (the spread
// between training runs enters only through the average over the strata
// given), and independent draws assume the strata's test patients differ.
// Strata that share a test set (several training seeds evaluated on one
// split's test images) must share the draw too: drawing them independently
// would treat one set of patients as several and make the interval too narrow.
// A stratum with shares_draws = 1 has exactly the images and patients of the
// stratum before it and reuses that stratum's draw in every replicate (it
// draws no patients of its own): the seeds of a split are averaged within the
// same resample of that split's patients: a patient is one cluster however
// many models scored it (Field & Welsh 2007).
//
// One arm alone: with score_b = NULL in every stratum the bootstrap is of
// metric(A) by itself (the difference against nothing): estimate = value_a,
// value_b = 0, and the intervals are those of arm A's metric averaged over the
// strata (used for per-arm interval bands).
//
// The p-value of H0: difference = 0 inverts the percentile interval (Efron &
// Tibshirani 1993, ch. 15 and 16, on tests and confidence intervals: the
// achieved significance level is about the smallest level whose percentile
// interval excludes 0), two-sided:
//   p = min(1, 2 min(#(rep <= 0), #(rep >= 0)) / used)
// over the used replicates. Its resolution is 2/used; p = 0 means that every
// used replicate lies strictly on one side of 0 (report it as p < 2/used).
// Combine several with study_holm_adjust.
//
// A draw that lacks a class in some stratum is skipped (no AUC, sensitivity or
// specificity there), and so is one where precision is undefined for an arm in
// some stratum (nothing called positive). Skips are counted and reported, and
// the intervals use the remaining replicates.
//
// Strata whose test sets overlap without being equal (random splits of one
// pool of patients: a patient in split 1's test set may be in split 2's too)
// are neither independent nor one: drawn independently, a shared patient would
// count as two, and the interval would be too narrow. Give every stratum a
// pool map instead (pool[p]: patient p's id among the n_pool patients of all
// strata together, 0..n_pool-1, each id used by some stratum, distinct within a
// stratum): each replicate then draws n_pool patients from the pool with
// replacement, once for all strata, and each stratum keeps the images of its
// own patients as often as they were drawn (Field & Welsh 2007 resample the
// cluster, the patient; here one cluster may sit in several strata). A
// stratum's resample then holds n_patients patients on average, not exactly.
// With pool maps, shares_draws must be 0 (seeds on one split's test set simply
// map to the same pool ids).
//
// The random draws: splitmix64 (Steele, Lea & Flood 2014, "Fast splittable
// pseudorandom number generators"; the constants of Vigna's splitmix64.c),
// state = seed, one patient = next() % n_patients (the modulo bias is below
// n_patients / 2^64). Order: for each replicate, for each stratum that does
// not share draws (shares_draws = 0), n_patients draws; a sharing stratum
// consumes none. With pool maps: for each replicate, n_pool draws of pool ids
// (next() % n_pool). study_bootstrap_draw writes exactly these draws; a caller
// (a test) can also pass its own, in the same layout.

typedef struct {
    int n;                       // images in this stratum's test set
    int n_patients;              // patients: ids 0..n_patients-1, each with at least one image
    const int *labels;           // (n) 1 positive, 0 negative
    const int *patient;          // (n) the patient of each image
    const double *score_a;       // (n) arm A's scores
    const double *score_b;       // (n) arm B's scores; NULL in every stratum: arm A alone
    double threshold_a;          // threshold metrics: arm A calls score_a >= threshold_a positive
    double threshold_b;          // and arm B score_b >= threshold_b
    int shares_draws;            // 1: the same images and patients as the stratum before
                                 // (n, n_patients, patient, labels equal); reuses its draw
    const int *pool;             // (n_patients) or NULL: each patient's id in one pool of
                                 // patients that every stratum draws from together (below)
} study_stratum;

typedef struct {
    study_metric metric;
    double estimate;             // on all images: mean over strata of metric(A) - metric(B)
    double value_a, value_b;     // mean over strata of metric(A), of metric(B) (0: arm A alone)
    double lo95, hi95;           // percentile interval of the difference at 95%
    double lo90, hi90;           // and at 90% (for study_verdict_decide)
    double p;                    // bootstrap p of difference = 0 (above); resolution 2 / used
    int resamples;               // B
    int used;                    // replicates in the intervals: B minus the skipped
    int skipped_class;           // skipped: a class missing from some stratum's draw
    int skipped_undefined;       // skipped: precision undefined for an arm in some stratum
    int too_many_skipped;        // 1: more than STUDY_SKIP_WARN_SHARE of B skipped
    char note[200];              // "" when nothing was skipped, else a sentence on the skips
} study_bootstrap;

// splitmix64: next output of the stream; advances *state.
static inline uint64_t study__splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// The number of pool ids, 1 + the largest id of the strata's pool maps (0:
// none; strata[0] decides whether the strata are pooled).
static inline int study__pool_size(const study_stratum *strata, int n_strata) {
    int n_pool = 0;
    for (int s = 0; strata[0].pool && s < n_strata; s++)
        for (int p = 0; strata[s].pool && p < strata[s].n_patients; p++)
            if (strata[s].pool[p] >= n_pool)   // (INT_MAX + 1 would overflow: kept, then refused)
                n_pool = strata[s].pool[p] == INT_MAX ? INT_MAX : strata[s].pool[p] + 1;
    return n_pool;
}

// Writes the patient draws that study_bootstrap_compute makes for seed: B
// replicates, each n_patients draws of stratum 0, then of stratum 1, ...,
// leaving out the strata with shares_draws = 1 (they reuse the draw before).
// draws needs B * (sum of n_patients over the strata that do not share) ints;
// with pool maps, B * n_pool ints (n_pool draws of pool ids per replicate).
// Checks nothing: every stratum must have n_patients >= 1 (study_bootstrap_compute
// checks that, and the pool maps).
STUDY_API void study_bootstrap_draw(int *draws, const study_stratum *strata, int n_strata, int B,
                                    uint64_t seed) {
    uint64_t state = seed;
    size_t at = 0;
    const int n_pool = study__pool_size(strata, n_strata);
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < n_pool; k++) draws[at++] = (int)(study__splitmix64(&state) % (uint64_t)n_pool);
        for (int s = 0; n_pool == 0 && s < n_strata; s++)
            for (int k = 0; !strata[s].shares_draws && k < strata[s].n_patients; k++)
                draws[at++] = (int)(study__splitmix64(&state) % (uint64_t)strata[s].n_patients);
    }
}

// The pool maps (see above): all strata have one or none; with them, no stratum
// shares draws, every id is in 0..n_pool-1, distinct within a stratum, and used
// by some stratum. Returns 0, or -1 with the message in why.
static inline int study__check_pool(const study_stratum *strata, int n_strata, int n_pool, char *why,
                                    size_t cap) {
    const char *fn = "study_bootstrap_compute";
    if (n_pool == 0) {
        for (int s = 0; s < n_strata; s++)
            if (strata[s].pool)
                return study__fail(why, cap, "%s: stratum %d has a pool map and stratum 0 has none; give "
                                   "every stratum one or none", fn, s);
        return 0;
    }
    long long patients = 0;   // every id is used, so none can reach the patients of all strata
    for (int s = 0; s < n_strata; s++) patients += strata[s].n_patients;
    for (int s = 0; n_pool > patients && s < n_strata; s++)
        for (int p = 0; strata[s].pool && p < strata[s].n_patients; p++)
            if (strata[s].pool[p] >= patients)
                return study__fail(why, cap, "%s: stratum %d: pool[%d] is %d, beyond the %lld patients of all "
                                   "strata", fn, s, p, strata[s].pool[p], patients);
    int *seen = (int *)calloc((size_t)n_pool, sizeof(int)), *mark = (int *)calloc((size_t)n_pool, sizeof(int));
    int rc = !seen || !mark ? study__fail(why, cap, "%s: out of memory", fn) : 0;
    for (int s = 0; rc == 0 && s < n_strata; s++) {
        const study_stratum *st = &strata[s];
        if (!st->pool)
            rc = study__fail(why, cap, "%s: stratum 0 has a pool map and stratum %d has none; give every "
                             "stratum one or none", fn, s);
        else if (st->shares_draws)
            rc = study__fail(why, cap, "%s: stratum %d shares draws and has a pool map; with pool maps "
                             "the strata share through the pool (shares_draws 0)", fn, s);
        for (int p = 0; rc == 0 && p < st->n_patients; p++) {
            const int id = st->pool[p];
            if (id < 0)
                rc = study__fail(why, cap, "%s: stratum %d: pool[%d] is %d, below 0", fn, s, p, id);
            else if (mark[id] == s + 1)
                rc = study__fail(why, cap, "%s: stratum %d: patients %d and another have the same pool id "
                                 "%d; a stratum's patients are distinct", fn, s, p, id);
            else
                mark[id] = s + 1, seen[id] = 1;
        }
    }
    for (int id = 0; rc == 0 && id < n_pool; id++)
        if (!seen[id])
            rc = study__fail(why, cap, "%s: pool id %d is no stratum's patient (ids are 0..%d, the largest "
                             "used)", fn, id, n_pool - 1);
    free(seen);
    free(mark);
    return rc;
}

// What one stratum needs during the bootstrap.
typedef struct {
    int *order_a, *order_b;      // (n) images sorted by score_a, by score_b (NULL: no arm B)
    int *drawn;                  // (n_patients) times each patient is in the current draw
    double *weight;              // (n) times each image is in it: drawn[patient[i]]
} study__stratum_work;

static inline int study__check_stratum(const study_stratum *s, int k, study_metric m, char *why,
                                       size_t cap) {
    const char *fn = "study_bootstrap_compute";
    if (s->n < 2 || s->n_patients < 1 || !s->labels || !s->patient || !s->score_a)
        return study__fail(why, cap, "%s: stratum %d has %d images of %d patients; needs at least 2 "
                           "images, 1 patient and non-NULL arrays", fn, k, s->n, s->n_patients);
    char where[64];
    snprintf(where, sizeof where, "%s: stratum %d", fn, k);
    if (study__check_cases(where, s->score_a, s->score_b, s->labels, s->n, why, cap)) return -1;
    int *images = (int *)calloc((size_t)s->n_patients, sizeof(int));
    if (!images) return study__fail(why, cap, "%s: out of memory", fn);
    for (int i = 0; i < s->n; i++) {
        if (s->patient[i] < 0 || s->patient[i] >= s->n_patients) {
            int p = s->patient[i];
            free(images);
            return study__fail(why, cap, "%s: stratum %d: patient[%d] is %d, outside 0..%d", fn, k, i,
                               p, s->n_patients - 1);
        }
        images[s->patient[i]]++;
    }
    for (int p = 0; p < s->n_patients; p++)
        if (images[p] == 0) {
            free(images);
            return study__fail(why, cap, "%s: stratum %d: patient %d has no images (ids are 0..%d)",
                               fn, k, p, s->n_patients - 1);
        }
    free(images);
    if (m == STUDY_PRECISION) {
        int said_a = 0, said_b = 0;
        for (int i = 0; i < s->n; i++) {
            said_a += s->score_a[i] >= s->threshold_a;
            said_b += !s->score_b || s->score_b[i] >= s->threshold_b;   // no arm B: never undefined
        }
        if (said_a == 0 || said_b == 0)
            return study__fail(why, cap, "%s: stratum %d: precision is undefined for arm %c: no "
                               "score >= its threshold %g", fn, k, said_a == 0 ? 'A' : 'B',
                               said_a == 0 ? s->threshold_a : s->threshold_b);
    }
    return 0;
}

// metric(A) - metric(B) of one stratum under the weights in w (NULL: all 1),
// as a fraction. Returns 0, 1: a class has no weight, 2: precision undefined
// for an arm.
static inline int study__stratum_diff(study__frac *diff, const study_stratum *s,
                                      const study__stratum_work *w, const double *weight,
                                      study_metric m) {
    double pos = 0.0, neg = 0.0;
    for (int i = 0; i < s->n; i++) {
        double c = weight ? weight[i] : 1.0;
        if (s->labels[i]) pos += c;
        else neg += c;
    }
    if (pos == 0.0 || neg == 0.0) return 1;
    study__frac a, b = study__frac_make(0.0, 1.0);   // no arm B: the difference against nothing is metric(A)
    if (study__metric_frac(&a, m, w->order_a, s->score_a, s->labels, weight, s->n, s->threshold_a) ||
        (s->score_b &&
         study__metric_frac(&b, m, w->order_b, s->score_b, s->labels, weight, s->n, s->threshold_b)))
        return 2;
    *diff = study__frac_add(a, b, -1.0);
    return 0;
}

// Stratum k (k >= 1 when it shares) against the stratum before it: shares_draws is
// 0 or 1, and a sharing stratum has the same images, patients and labels; arm B is
// given in every stratum or in none. Returns 0, or -1 with the message in why.
static inline int study__check_sharing(const study_stratum *strata, int k, char *why, size_t cap) {
    const char *fn = "study_bootstrap_compute";
    const study_stratum *s = &strata[k], *prev = k > 0 ? &strata[k - 1] : NULL;
    if (s->shares_draws != 0 && s->shares_draws != 1)
        return study__fail(why, cap, "%s: stratum %d has shares_draws = %d; it is 0 or 1", fn, k,
                           s->shares_draws);
    if (prev && (s->score_b == NULL) != (prev->score_b == NULL))
        return study__fail(why, cap, "%s: stratum %d %s score_b and stratum %d %s; arm A alone needs "
                           "score_b = NULL in every stratum", fn, k, s->score_b ? "has" : "has no",
                           k - 1, prev->score_b ? "has" : "has none");
    if (!s->shares_draws) return 0;
    if (!prev)
        return study__fail(why, cap, "%s: stratum 0 has shares_draws = 1; there is no stratum "
                           "before it to share with", fn);
    if (s->n != prev->n || s->n_patients != prev->n_patients)
        return study__fail(why, cap, "%s: stratum %d shares draws with stratum %d but has %d images "
                           "of %d patients, stratum %d has %d of %d; sharing strata need the same "
                           "test images", fn, k, k - 1, s->n, s->n_patients, k - 1, prev->n,
                           prev->n_patients);
    for (int i = 0; i < s->n; i++) {
        if (s->patient[i] != prev->patient[i])
            return study__fail(why, cap, "%s: stratum %d shares draws with stratum %d but patient[%d] "
                               "is %d there and %d in stratum %d; sharing strata need the same "
                               "patients", fn, k, k - 1, i, s->patient[i], prev->patient[i], k - 1);
        if (s->labels[i] != prev->labels[i])
            return study__fail(why, cap, "%s: stratum %d shares draws with stratum %d but labels[%d] "
                               "is %d there and %d in stratum %d; sharing strata need the same "
                               "test images", fn, k, k - 1, i, s->labels[i], prev->labels[i], k - 1);
    }
    return 0;
}

static inline void study__work_free(study__stratum_work *w, int n_strata) {
    if (!w) return;
    for (int s = 0; s < n_strata; s++) {
        free(w[s].order_a);
        free(w[s].order_b);
        free(w[s].drawn);
        free(w[s].weight);
    }
    free(w);
}

// The cluster bootstrap of metric(A) - metric(B) over n_strata strata (one
// stratum: a single test set), or of metric(A) alone when every stratum has
// score_b = NULL. A stratum with shares_draws = 1 reuses the draw of the
// stratum before it (see above). B >= 2 replicates; draws = NULL draws the
// patients with splitmix64 from seed (see above), otherwise draws holds
// n_draws = B * (sum of n_patients over the strata that do not share) patient
// ids in the same order and seed is not used. replicates (NULL, or B doubles)
// receives each replicate's difference in drawing order, NaN for a skipped
// one. Fills *out, p included; its note says how many replicates were skipped
// and why, starting with "warning:" when more than STUDY_SKIP_WARN_SHARE were.
// Returns 0, or -1 with *out and replicates unchanged: a bad stratum (a class
// missing, a patient id out of range or without images, a label not 0/1, a NaN
// score, precision undefined on all images), stratum 0 sharing draws, a
// sharing stratum whose images, patients or labels differ from the one before,
// score_b NULL in some strata only, B < 2, a draws array of the wrong size or
// with an id out of range, fewer than 2 replicates left, no memory.
STUDY_API int study_bootstrap_compute(study_bootstrap *out, double *replicates,
                                      const study_stratum *strata, int n_strata, study_metric metric,
                                      int B, uint64_t seed, const int *draws, size_t n_draws,
                                      char *why, size_t cap) {
    const char *fn = "study_bootstrap_compute";
    if (metric < 0 || metric >= STUDY_METRIC_COUNT)
        return study__fail(why, cap, "%s: unknown metric %d", fn, (int)metric);
    if (n_strata < 1 || !strata)
        return study__fail(why, cap, "%s: %d strata; needs at least 1", fn, n_strata);
    if (B < 2) return study__fail(why, cap, "%s: B = %d resamples; needs at least 2", fn, B);
    size_t per_draw = 0;   // patients drawn per replicate
    for (int s = 0; s < n_strata; s++) {
        if (study__check_stratum(&strata[s], s, metric, why, cap)) return -1;
        if (study__check_sharing(strata, s, why, cap)) return -1;
        if (!strata[s].shares_draws) per_draw += (size_t)strata[s].n_patients;
    }
    const int n_pool = study__pool_size(strata, n_strata);
    if (study__check_pool(strata, n_strata, n_pool, why, cap)) return -1;
    if (n_pool) per_draw = (size_t)n_pool;
    if (draws) {
        if (n_draws != (size_t)B * per_draw)
            return study__fail(why, cap, "%s: n_draws is %zu; B = %d resamples of %zu patients "
                               "need %zu", fn, n_draws, B, per_draw, (size_t)B * per_draw);
        size_t at = 0;
        for (size_t i = 0; n_pool && i < n_draws; i++)
            if (draws[i] < 0 || draws[i] >= n_pool)
                return study__fail(why, cap, "%s: draws[%zu] is %d, not a pool id (0..%d)", fn, i, draws[i],
                                   n_pool - 1);
        for (int b = 0; n_pool == 0 && b < B; b++)
            for (int s = 0; s < n_strata; s++)
                for (int k = 0; !strata[s].shares_draws && k < strata[s].n_patients; k++, at++)
                    if (draws[at] < 0 || draws[at] >= strata[s].n_patients)
                        return study__fail(why, cap, "%s: draws[%zu] is %d, not a patient of "
                                           "stratum %d (0..%d)", fn, at, draws[at], s,
                                           strata[s].n_patients - 1);
    }

    study__stratum_work *w = (study__stratum_work *)calloc((size_t)n_strata, sizeof *w);
    double *rep = (double *)malloc((size_t)B * sizeof(double));
    int *pooled = n_pool ? (int *)malloc((size_t)n_pool * sizeof(int)) : NULL;   // times each pool id is drawn
    int nomem = !w || !rep || (n_pool && !pooled);
    for (int s = 0; s < n_strata && !nomem; s++) {
        const study_stratum *st = &strata[s];
        w[s].order_a = (int *)malloc((size_t)st->n * sizeof(int));
        w[s].order_b = st->score_b ? (int *)malloc((size_t)st->n * sizeof(int)) : NULL;
        w[s].drawn = (int *)malloc((size_t)st->n_patients * sizeof(int));
        w[s].weight = (double *)malloc((size_t)st->n * sizeof(double));
        nomem = !w[s].order_a || (st->score_b && !w[s].order_b) || !w[s].drawn || !w[s].weight ||
                study__sort_order(w[s].order_a, st->score_a, st->n) ||
                (st->score_b && study__sort_order(w[s].order_b, st->score_b, st->n));
    }
    if (nomem) {
        study__work_free(w, w ? n_strata : 0);
        free(rep);
        free(pooled);
        return study__fail(why, cap, "%s: out of memory", fn);
    }

    study_bootstrap r;
    memset(&r, 0, sizeof r);
    r.metric = metric;
    r.resamples = B;
    // The estimate: every image once; the means as fractions (above).
    const study__frac zero = study__frac_make(0.0, 1.0);
    study__frac sum_a = zero, sum_b = zero, sum_diff = zero;
    for (int s = 0; s < n_strata; s++) {
        const study_stratum *st = &strata[s];
        study__frac a = zero, b = zero;   // both defined: study__check_stratum checked classes and precision
        study__metric_frac(&a, metric, w[s].order_a, st->score_a, st->labels, NULL, st->n, st->threshold_a);
        if (st->score_b)
            study__metric_frac(&b, metric, w[s].order_b, st->score_b, st->labels, NULL, st->n,
                               st->threshold_b);
        sum_a = study__frac_add(sum_a, a, 1.0);
        sum_b = study__frac_add(sum_b, b, 1.0);
        sum_diff = study__frac_add(sum_diff, study__frac_add(a, b, -1.0), 1.0);
    }
    r.value_a = study__frac_mean(sum_a, n_strata);
    r.value_b = study__frac_mean(sum_b, n_strata);
    r.estimate = study__frac_mean(sum_diff, n_strata);

    // The replicates.
    uint64_t state = seed;
    size_t at = 0;
    for (int b = 0; b < B; b++) {
        study__frac sum = zero;
        int skip = 0;   // 1: a class missing, 2: precision undefined (the first reason met)
        if (n_pool) {   // one draw of the pool for every stratum
            memset(pooled, 0, (size_t)n_pool * sizeof(int));
            for (int k = 0; k < n_pool; k++)
                pooled[draws ? draws[at++] : (int)(study__splitmix64(&state) % (uint64_t)n_pool)]++;
        }
        for (int s = 0; s < n_strata; s++) {
            const study_stratum *st = &strata[s];
            if (n_pool) {
                for (int p = 0; p < st->n_patients; p++) w[s].drawn[p] = pooled[st->pool[p]];
            } else if (st->shares_draws) {   // the same patients as stratum s - 1, drawn just before
                memcpy(w[s].drawn, w[s - 1].drawn, (size_t)st->n_patients * sizeof(int));
            } else {
                memset(w[s].drawn, 0, (size_t)st->n_patients * sizeof(int));
                for (int k = 0; k < st->n_patients; k++) {
                    int p = draws ? draws[at++]
                                  : (int)(study__splitmix64(&state) % (uint64_t)st->n_patients);
                    w[s].drawn[p]++;
                }
            }
            // Every stratum draws its patients even after a skip, so the stream stays aligned.
            if (skip) continue;
            for (int i = 0; i < st->n; i++) w[s].weight[i] = (double)w[s].drawn[st->patient[i]];
            study__frac diff = zero;
            skip = study__stratum_diff(&diff, st, &w[s], w[s].weight, metric);
            if (!skip) sum = study__frac_add(sum, diff, 1.0);
        }
        if (skip == 1) r.skipped_class++;
        if (skip == 2) r.skipped_undefined++;
        rep[b] = skip ? NAN : study__frac_mean(sum, n_strata);
    }
    study__work_free(w, n_strata);
    free(pooled);

    r.used = B - r.skipped_class - r.skipped_undefined;
    if (r.used < 2) {
        free(rep);
        return study__fail(why, cap, "%s: only %d of %d resamples had both classes in every stratum "
                           "(and precision defined); needs at least 2", fn, r.used, B);
    }
    char dummy[8];   // cannot fail: level valid, at least 2 values, memory for a copy
    if (study_interval_compute(&r.lo95, &r.hi95, rep, B, 0.95, dummy, sizeof dummy) ||
        study_interval_compute(&r.lo90, &r.hi90, rep, B, 0.90, dummy, sizeof dummy)) {
        free(rep);
        return study__fail(why, cap, "%s: out of memory", fn);
    }
    // The bootstrap p-value (above): replicates on either side of 0, ties counted on both.
    int at_most_0 = 0, at_least_0 = 0;
    for (int b = 0; b < B; b++) {
        if (isnan(rep[b])) continue;
        at_most_0 += rep[b] <= 0.0;
        at_least_0 += rep[b] >= 0.0;
    }
    r.p = 2.0 * (at_most_0 < at_least_0 ? at_most_0 : at_least_0) / r.used;
    if (r.p > 1.0) r.p = 1.0;
    int skipped = B - r.used;
    r.too_many_skipped = skipped > STUDY_SKIP_WARN_SHARE * B;
    if (r.too_many_skipped)
        snprintf(r.note, sizeof r.note, "warning: %d of %d resamples (%.1f%%) skipped, more than "
                 "%g%%: %d missed a class in a stratum, %d had precision undefined", skipped, B,
                 100.0 * skipped / B, 100.0 * STUDY_SKIP_WARN_SHARE, r.skipped_class,
                 r.skipped_undefined);
    else if (skipped > 0)
        snprintf(r.note, sizeof r.note, "%d of %d resamples (%.1f%%) skipped: %d missed a class in "
                 "a stratum, %d had precision undefined", skipped, B, 100.0 * skipped / B,
                 r.skipped_class, r.skipped_undefined);
    if (replicates) memcpy(replicates, rep, (size_t)B * sizeof(double));
    free(rep);
    *out = r;
    return 0;
}

// ---------------------------------------------------------------------------
// Holm's step-down correction
//
// Holm (1979), "A simple sequentially rejective multiple test procedure",
// Scand. J. Statist. 6:65-70: order the m p-values ascending, p_(1) <= ... <= p_(m);
// reject H_(1), H_(2), ... while p_(i) <= alpha / (m - i + 1), and stop at the
// first that fails. The same decisions come from the adjusted p-values
//   adj_(i) = max over j <= i of min(1, (m - j + 1) p_(j)),
// rejecting where adj <= alpha (Wright 1992, "Adjusted p-values for
// simultaneous inference"); the running max makes them monotone.

// adjusted[i] and reject[i] (either may be NULL) for the m p-values p, in the
// caller's order. Returns 0, or -1 with the outputs unchanged: m < 1, a
// p-value outside [0, 1] or NaN, alpha outside (0, 1), no memory.
STUDY_API int study_holm_adjust(double *adjusted, int *reject, const double *p, int m, double alpha,
                                char *why, size_t cap) {
    if (m < 1 || !p)
        return study__fail(why, cap, "study_holm_adjust: %d p-values; needs at least 1", m);
    if (!(alpha > 0.0 && alpha < 1.0))
        return study__fail(why, cap, "study_holm_adjust: alpha %g; needs 0 < alpha < 1", alpha);
    for (int i = 0; i < m; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return study__fail(why, cap, "study_holm_adjust: p[%d] is %g; p-values are in [0, 1]", i,
                               p[i]);
    int *order = (int *)malloc((size_t)m * sizeof(int));
    double *adj = (double *)malloc((size_t)m * sizeof(double));
    if (!order || !adj || study__sort_order(order, p, m)) {
        free(order);
        free(adj);
        return study__fail(why, cap, "study_holm_adjust: out of memory for %d p-values", m);
    }
    double running = 0.0;
    for (int i = 0; i < m; i++) {   // i = 0 is p_(1): multiplier m - i
        double a = (m - i) * p[order[i]];
        if (a > 1.0) a = 1.0;
        if (a > running) running = a;
        adj[order[i]] = running;
    }
    for (int i = 0; i < m; i++) {
        if (adjusted) adjusted[i] = adj[i];
        if (reject) reject[i] = adj[i] <= alpha;
    }
    free(order);
    free(adj);
    return 0;
}

// ---------------------------------------------------------------------------
// The verdict on a difference A - B, with a margin d > 0
//
// Two one-sided tests at alpha = 0.05 (Schuirmann 1987) written as an
// interval: A and B are equivalent within d when the whole 90% interval lies
// inside (-d, d) (REFERENCE.md section 9). Otherwise the 95% interval decides
// the direction. The rule, applied in this order:
//   equivalent                     -d < lo90 and hi90 < d
//   helps by more than the margin  lo95 > d
//   helps                          lo95 > 0
//   harms by more than the margin  hi95 < -d
//   harms                          hi95 < 0
//   inconclusive                   anything else (an interval that holds 0 and
//                                  reaches past a margin)
// Equivalence comes first: a difference that is surely positive but surely
// smaller than d is "equivalent" (it does not matter at the margin chosen).
// Every comparison is strict: an interval end exactly at 0 or d does not count
// as beyond it.

typedef enum {
    STUDY_EQUIVALENT,
    STUDY_HELPS,
    STUDY_HELPS_BEYOND_MARGIN,
    STUDY_HARMS,
    STUDY_HARMS_BEYOND_MARGIN,
    STUDY_INCONCLUSIVE,
    STUDY_VERDICT_INVALID        // NaN, lo > hi, the 90% interval not inside the 95%, or d <= 0
} study_verdict;

// "equivalent", "helps", "helps by more than the margin", "harms", "harms by
// more than the margin", "inconclusive", "invalid input".
STUDY_API const char *study_verdict_name(study_verdict v) {
    switch (v) {
    case STUDY_EQUIVALENT: return "equivalent";
    case STUDY_HELPS: return "helps";
    case STUDY_HELPS_BEYOND_MARGIN: return "helps by more than the margin";
    case STUDY_HARMS: return "harms";
    case STUDY_HARMS_BEYOND_MARGIN: return "harms by more than the margin";
    case STUDY_INCONCLUSIVE: return "inconclusive";
    default: return "invalid input";
    }
}

// The verdict for the 90% interval [lo90, hi90] and the 95% interval
// [lo95, hi95] of a difference, margin d; STUDY_VERDICT_INVALID when an end is
// NaN, lo > hi, the 90% interval is not inside the 95% one, or d <= 0.
// Every comparison is strict, and an end within STUDY_VERDICT_TOL of 0, d or -d
// counts as on it: the metrics are fractions of counts, and a difference of two
// of them that is exactly 0.05 in exact arithmetic (3/20 - 2/20) is
// 0.04999999999999999 when computed by subtracting the two rounded metrics,
// which a plain comparison with d = 0.05 would call inside the margin.
// study_bootstrap_compute forms each replicate from whole numbers (see
// "Metrics as fractions of whole numbers"), but an interval end that
// interpolates between two replicates, or ends a caller computed otherwise,
// can still land a hair off.
#define STUDY_VERDICT_TOL 1e-12
STUDY_API study_verdict study_verdict_decide(double lo90, double hi90, double lo95, double hi95,
                                             double d) {
    const double t = STUDY_VERDICT_TOL;
    if (!(lo95 <= lo90 && lo90 <= hi90 && hi90 <= hi95 && d > 0.0)) return STUDY_VERDICT_INVALID;
    if (-d + t < lo90 && hi90 < d - t) return STUDY_EQUIVALENT;
    if (lo95 > d + t) return STUDY_HELPS_BEYOND_MARGIN;
    if (lo95 > t) return STUDY_HELPS;
    if (hi95 < -d - t) return STUDY_HARMS_BEYOND_MARGIN;
    if (hi95 < -t) return STUDY_HARMS;
    return STUDY_INCONCLUSIVE;
}
#endif
