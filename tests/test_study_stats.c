// test_study_stats.c - examples/study_stats.h: ROC AUC, the metrics at a
// threshold, DeLong's test, Holm's correction and the patient-level bootstrap
// against tests/data/study_stats.txt (tests/make_study_stats.py: the same
// numbers computed from the definitions, O(n^2) pairs, explicit resamples);
// the bootstrap's own random draws against splitmix64 written again in
// Python; strata that share draws (2 splits x 2 seeds), arm A alone and the
// bootstrap p-value against the same script; the bootstrap's coverage and
// width on data whose true difference is 0; the verdict rule case by case; and
// every error path with its whole message.
// Needs no dcgan.h: study_stats.h is libc and libm only.
#include "../examples/study_stats.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// The golden file: one array per line, "name count v1 v2 ..."

typedef struct { char name[64]; int count; double *v; } golden_array;
static golden_array golden[256];
static int n_golden;

static void golden_load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!CHECK(f != NULL, "golden/tests/data/study_stats.txt exists (tests/make_study_stats.py)")) return;
    golden_array g;
    while (n_golden < 256 && fscanf(f, "%63s %d", g.name, &g.count) == 2 && g.count > 0) {
        g.v = (double *)malloc((size_t)g.count * sizeof(double));
        int ok = g.v != NULL;
        for (int i = 0; ok && i < g.count; i++) ok = fscanf(f, "%lf", &g.v[i]) == 1;
        if (!ok) { free(g.v); break; }
        golden[n_golden++] = g;
    }
    fclose(f);
}

// The array called name, which must hold count values (NULL, with a failed check, if not).
static const double *gold(const char *name, int count) {
    for (int i = 0; i < n_golden; i++)
        if (strcmp(golden[i].name, name) == 0 && golden[i].count == count) return golden[i].v;
    fprintf(stderr, "golden: no array '%s' of %d values\n", name, count);
    CHECK(0, "golden/array present");
    return NULL;
}

static int gold_count(const char *name) {
    for (int i = 0; i < n_golden; i++)
        if (strcmp(golden[i].name, name) == 0) return golden[i].count;
    return 0;
}

static int *to_ints(const double *v, int n) {
    int *out = (int *)malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    for (int i = 0; out && i < n; i++) out[i] = (int)v[i];
    return out;
}

// CHECK_CLOSE compares floats; these are doubles: |e - a| <= atol + rtol |e|,
// NaN only where expected is NaN too.
static int close_doubles(const double *e, const double *a, int n, double atol, double rtol,
                         const char *label) {
    int worst = -1;
    for (int i = 0; i < n; i++) {
        int ok = isnan(e[i]) ? isnan(a[i]) : fabs(e[i] - a[i]) <= atol + rtol * fabs(e[i]);
        if (!ok) { worst = i; break; }
    }
    if (worst >= 0)
        fprintf(stderr, "  %s: element %d of %d: expected %.17g, got %.17g\n", label, worst, n,
                e[worst], a[worst]);
    return check_true(worst < 0, "values close", label, __FILE__, __LINE__);
}

// ---------------------------------------------------------------------------
// ROC AUC and the metrics at a threshold

static void test_auc(void) {
    char why[256];
    double auc = -1.0;
    // sklearn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75
    const double s0[4] = {0.1, 0.4, 0.35, 0.8}, tied[4] = {0.5, 0.5, 0.5, 0.5};
    const int l0[4] = {0, 0, 1, 1}, one_class[4] = {1, 1, 1, 1}, bad[4] = {0, 2, 1, 1};
    CHECK(study_auc_compute(&auc, s0, l0, 4, why, sizeof why) == 0 && auc == 0.75,
          "auc_compute/sklearn example is 0.75");
    CHECK(study_auc_compute(&auc, tied, l0, 4, why, sizeof why) == 0 && auc == 0.5,
          "auc_compute/all tied is 0.5");
    const char *names[2] = {"auc_ties", "auc_cont"};
    for (int k = 0; k < 2; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s_labels", names[k]);
        int n = gold_count(key);
        const double *lab = gold(key, n), *want = gold(names[k], 1);
        snprintf(key, sizeof key, "%s_scores", names[k]);
        const double *scores = gold(key, n);
        if (!lab || !want || !scores) return;
        int *labels = to_ints(lab, n);
        CHECK(study_auc_compute(&auc, scores, labels, n, why, sizeof why) == 0,
              "auc_compute/golden case ok");
        close_doubles(want, &auc, 1, 1e-15, 0.0, k == 0 ? "auc_compute/equals the O(n^2) pair count, ties"
                                                        : "auc_compute/equals the O(n^2) pair count");
        free(labels);
    }
    auc = -1.0;
    CHECK(study_auc_compute(&auc, s0, one_class, 4, why, sizeof why) == -1 &&
              strcmp(why, "study_auc_compute: 4 positive cases among 4; needs both classes") == 0 &&
              auc == -1.0,
          "auc_compute/one class is refused, auc unchanged");
    CHECK(study_auc_compute(&auc, s0, bad, 4, why, sizeof why) == -1 &&
              strcmp(why, "study_auc_compute: labels[1] is 2; labels are 0 or 1") == 0,
          "auc_compute/a label that is not 0/1 is refused");
    const double with_nan[4] = {0.1, NAN, 0.3, 0.4};
    CHECK(study_auc_compute(&auc, with_nan, l0, 4, NULL, 0) == -1 && auc == -1.0,
          "auc_compute/a NaN score is refused (why = NULL allowed)");
}

static void test_metrics_hand(void) {
    // threshold 0.5; score == threshold counts as positive:
    //   tp: 0.5 (pos), 0.9 (pos) = 2   fn: 0.2 = 1   fp: 0.5 (neg), 0.7 = 2   tn: 0.1 = 1
    const double s[6] = {0.2, 0.5, 0.5, 0.9, 0.1, 0.7};
    const int l[6] = {1, 1, 0, 1, 0, 0};
    // balanced accuracy, sensitivity, specificity, precision, F1 (AUC: checked below)
    const double want[STUDY_METRIC_COUNT] = {0.0, 0.5, 2.0 / 3.0, 1.0 / 3.0, 0.5, 4.0 / 7.0};
    double got[STUDY_METRIC_COUNT], auc_want = 0.0;
    char why[256];
    int ok = 1;
    for (int m = 0; m < STUDY_METRIC_COUNT; m++)
        ok &= study_metric_compute(&got[m], (study_metric)m, s, l, 6, 0.5, why, sizeof why) == 0;
    ok &= study_auc_compute(&auc_want, s, l, 6, why, sizeof why) == 0;
    CHECK(ok && got[STUDY_AUC] == auc_want, "metric_compute/auc is study_auc_compute");
    close_doubles(want + 1, got + 1, STUDY_METRIC_COUNT - 1, 1e-15, 0.0,
                  "metric_compute/balanced accuracy, sensitivity, specificity, precision, F1 by hand");
    CHECK(strcmp(study_metric_name(STUDY_AUC), "auc") == 0 &&
              strcmp(study_metric_name(STUDY_BALANCED_ACCURACY), "balanced_accuracy") == 0 &&
              strcmp(study_metric_name(STUDY_F1), "f1") == 0 &&
              strcmp(study_metric_name(STUDY_METRIC_COUNT), "?") == 0,
          "metric_name/the names clf_binary_metric_name uses");
    double v = -1.0;
    CHECK(study_metric_compute(&v, STUDY_PRECISION, s, l, 6, 1.0, why, sizeof why) == -1 &&
              strcmp(why, "study_metric_compute: precision is undefined: no score >= 1") == 0 && v == -1.0,
          "metric_compute/precision with nothing called positive is refused");
    CHECK(study_metric_compute(&v, STUDY_F1, s, l, 6, 1.0, why, sizeof why) == 0 && v == 0.0,
          "metric_compute/F1 with nothing called positive is 0");
}

// ---------------------------------------------------------------------------
// DeLong

static void test_delong_golden(void) {
    const char *names[2] = {"delong_ties", "delong_cont"};
    char why[256];
    for (int k = 0; k < 2; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s_labels", names[k]);
        int n = gold_count(key);
        const double *lab = gold(key, n), *want = gold(names[k], 10);
        snprintf(key, sizeof key, "%s_s1", names[k]);
        const double *s1 = gold(key, n);
        snprintf(key, sizeof key, "%s_s2", names[k]);
        const double *s2 = gold(key, n);
        if (!lab || !want || !s1 || !s2) return;
        int *labels = to_ints(lab, n);
        study_delong d;
        CHECK(study_delong_compute(&d, s1, s2, labels, n, why, sizeof why) == 0, "delong_compute/golden ok");
        const double got[10] = {d.auc1, d.auc2, d.var1, d.var2, d.cov, d.diff, d.var, d.se, d.z, d.p};
        close_doubles(want, got, 10, 1e-15, 1e-12,
                      k == 0 ? "delong_compute/AUCs, S, var, z, p equal the 1988 O(n^2) formulas, ties"
                             : "delong_compute/AUCs, S, var, z, p equal the 1988 O(n^2) formulas");
        CHECK(fabs(d.var - (d.var1 + d.var2 - 2.0 * d.cov)) <= 1e-15,
              "delong_compute/var = var1 + var2 - 2 cov");
        study_delong swapped;
        CHECK(study_delong_compute(&swapped, s2, s1, labels, n, why, sizeof why) == 0 &&
                  swapped.z == -d.z && swapped.p == d.p,
              "delong_compute/swapping the arms negates z, keeps p");
        free(labels);
    }
}

static void test_delong_degenerate(void) {
    char why[256];
    const int l[6] = {0, 0, 0, 1, 1, 1};
    const double perfect[6] = {0.1, 0.2, 0.3, 0.7, 0.8, 0.9}, perfect2[6] = {0.0, 0.1, 0.1, 0.5, 0.6, 0.6};
    const double flat[6] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    study_delong d;
    CHECK(study_delong_compute(&d, perfect, perfect2, l, 6, why, sizeof why) == 0 && d.auc1 == 1.0 &&
              d.auc2 == 1.0 && d.var == 0.0 && d.z == 0.0 && d.p == 1.0,
          "delong_compute/both arms perfect: var 0, z 0, p 1, no NaN");
    CHECK(study_delong_compute(&d, flat, flat, l, 6, why, sizeof why) == 0 && d.auc1 == 0.5 && d.p == 1.0 &&
              d.se == 0.0,
          "delong_compute/identical arms (all tied): p 1");
    study_delong before;
    memset(&before, 0x5a, sizeof before);
    d = before;
    CHECK(study_delong_compute(&d, perfect, flat, l, 6, why, sizeof why) == -1 &&
              strcmp(why, "study_delong_compute: AUC 1 vs 0.5: the difference 0.5 has variance 0 (every "
                          "case ranks alike in both arms); no z test") == 0 &&
              memcmp(&d, &before, sizeof d) == 0,
          "delong_compute/a difference with variance 0 is refused, out unchanged");
    const int one_pos[4] = {0, 0, 0, 1};
    CHECK(study_delong_compute(&d, perfect, perfect2, one_pos, 4, why, sizeof why) == -1 &&
              strcmp(why, "study_delong_compute: 1 positive and 3 negative cases; DeLong's variance needs "
                          "at least 2 of each") == 0,
          "delong_compute/one positive case is refused");
    const int all_neg[4] = {0, 0, 0, 0};
    CHECK(study_delong_compute(&d, perfect, perfect2, all_neg, 4, why, sizeof why) == -1 &&
              strcmp(why, "study_delong_compute: 0 positive cases among 4; needs both classes") == 0,
          "delong_compute/one class is refused");
}

// ---------------------------------------------------------------------------
// Holm

static void test_holm(void) {
    char why[256];
    const double *p = gold("holm_p", 8), *adj_want = gold("holm_adjusted", 8);
    const double *rej_want = gold("holm_reject", 8);
    if (!p || !adj_want || !rej_want) return;
    double adj[8];
    int rej[8], same = 1;
    CHECK(study_holm_adjust(adj, rej, p, 8, 0.05, why, sizeof why) == 0, "holm_adjust/ok");
    close_doubles(adj_want, adj, 8, 1e-15, 0.0,
                  "holm_adjust/adjusted p-values by the definition (ties, cap at 1)");
    for (int i = 0; i < 8; i++) same &= rej[i] == (int)rej_want[i];
    CHECK(same, "holm_adjust/rejects as the step-down rule does");
    // by hand: 0.01 <= 0.05/3, 0.02 <= 0.05/2, 0.03 <= 0.05: all rejected; adjusted 0.03, 0.04, 0.04
    const double q[3] = {0.03, 0.01, 0.02}, q_adj[3] = {0.04, 0.03, 0.04};
    CHECK(study_holm_adjust(adj, rej, q, 3, 0.05, why, sizeof why) == 0 && rej[0] && rej[1] && rej[2],
          "holm_adjust/three rejections by hand");
    close_doubles(q_adj, adj, 3, 1e-15, 0.0, "holm_adjust/adjusted by hand, caller's order");
    const double bad[2] = {0.01, 1.5};
    adj[0] = -1.0;
    CHECK(study_holm_adjust(adj, rej, bad, 2, 0.05, why, sizeof why) == -1 &&
              strcmp(why, "study_holm_adjust: p[1] is 1.5; p-values are in [0, 1]") == 0 && adj[0] == -1.0,
          "holm_adjust/a p-value above 1 is refused, outputs unchanged");
    CHECK(study_holm_adjust(adj, rej, q, 3, 0.0, why, sizeof why) == -1 &&
              strcmp(why, "study_holm_adjust: alpha 0; needs 0 < alpha < 1") == 0,
          "holm_adjust/alpha 0 is refused");
}

// ---------------------------------------------------------------------------
// Percentile interval and the verdict

static void test_interval(void) {
    char why[256];
    const double v[6] = {5.0, NAN, 1.0, 3.0, 2.0, 4.0};
    double lo = 0.0, hi = 0.0;
    // 5 values: q = 0.25 -> h = 1 -> 2; q = 0.75 -> 4; q = 0.05 -> h = 0.2 -> 1.2; q = 0.95 -> 4.8
    CHECK(study_interval_compute(&lo, &hi, v, 6, 0.5, why, sizeof why) == 0 && lo == 2.0 && hi == 4.0,
          "interval_compute/50% of 1..5 is [2, 4], NaN left out");
    CHECK(study_interval_compute(&lo, &hi, v, 6, 0.9, why, sizeof why) == 0 && fabs(lo - 1.2) < 1e-15 &&
              fabs(hi - 4.8) < 1e-15,
          "interval_compute/90% interpolates like numpy.percentile");
    {   // 1961 values, the first 50 of them 0: the 2.5% position (1960 * 0.025 = 49 in
        // exact arithmetic) is a whole number, and the end is 0 exactly, as
        // numpy.percentile gives (q = 0.5 * (1 - 0.95) rounds to 0.025000000000000022)
        static double w[1961];
        for (int i = 0; i < 1961; i++) w[i] = i < 50 ? 0.0 : 0.01;
        CHECK(study_interval_compute(&lo, &hi, w, 1961, 0.95, why, sizeof why) == 0 && lo == 0.0 && hi == 0.01,
              "interval_compute/an end at a whole position is that value exactly (0, not 4e-16)");
    }
    CHECK(study_interval_compute(&lo, &hi, v, 2, 0.9, why, sizeof why) == -1 &&
              strcmp(why, "study_interval_compute: 1 of 2 values are not NaN; needs at least 2") == 0,
          "interval_compute/fewer than 2 values is refused");
    CHECK(study_interval_compute(&lo, &hi, v, 6, 1.0, why, sizeof why) == -1 &&
              strcmp(why, "study_interval_compute: level 1; needs 0 < level < 1") == 0,
          "interval_compute/level 1 is refused");
}

static void test_verdict(void) {
    const double d = 0.05;
    struct { double lo90, hi90, lo95, hi95; study_verdict want; const char *label; } c[] = {
        {-0.01, 0.02, -0.02, 0.03, STUDY_EQUIVALENT, "verdict_decide/90% inside (-d, d): equivalent"},
        {-0.04, 0.04, -0.06, 0.06, STUDY_EQUIVALENT, "verdict_decide/the 90% interval decides, not the 95%"},
        {0.01, 0.03, 0.005, 0.035, STUDY_EQUIVALENT,
         "verdict_decide/above 0 but inside the margin: equivalent comes first"},
        {0.02, 0.08, 0.01, 0.09, STUDY_HELPS, "verdict_decide/95% above 0, crosses d: helps"},
        {0.07, 0.11, 0.06, 0.12, STUDY_HELPS_BEYOND_MARGIN, "verdict_decide/95% above d: helps beyond"},
        {-0.08, -0.02, -0.09, -0.01, STUDY_HARMS, "verdict_decide/95% below 0: harms"},
        {-0.11, -0.07, -0.12, -0.06, STUDY_HARMS_BEYOND_MARGIN, "verdict_decide/95% below -d: harms beyond"},
        {-0.01, 0.07, -0.02, 0.08, STUDY_INCONCLUSIVE, "verdict_decide/holds 0 and reaches past d"},
        {0.01, 0.07, 0.0, 0.08, STUDY_INCONCLUSIVE, "verdict_decide/lo95 exactly 0 is not above 0"},
        {-0.01, 0.05, -0.02, 0.06, STUDY_INCONCLUSIVE, "verdict_decide/hi90 exactly d is not inside"},
        {0.06, 0.07, 0.05, 0.08, STUDY_HELPS, "verdict_decide/lo95 exactly d: helps, not beyond"},
        // ends that are 0 or d in exact arithmetic, as double rounds differences of
        // fractions: 3/20 - 2/20 = 0.04999999999999999, and its mirror images
        {3.0 / 20 - 2.0 / 20, 3.0 / 20 - 2.0 / 20, 3.0 / 20 - 2.0 / 20, 3.0 / 20 - 2.0 / 20, STUDY_HELPS,
         "verdict_decide/every end 3/20 - 2/20 (d in exact arithmetic): helps, not equivalent"},
        {-0.01, 0.04999999999999999, -0.02, 0.06, STUDY_INCONCLUSIVE,
         "verdict_decide/hi90 a rounding below d is not inside the margin"},
        {0.01, 0.07, 4.263e-16, 0.08, STUDY_INCONCLUSIVE, "verdict_decide/lo95 a rounding above 0 is not above 0"},
        {-0.07, -0.01, -0.08, -4.263e-16, STUDY_INCONCLUSIVE,
         "verdict_decide/hi95 a rounding below 0 is not below 0"},
        {NAN, 0.02, -0.02, 0.03, STUDY_VERDICT_INVALID, "verdict_decide/NaN is invalid"},
        {0.02, -0.01, -0.02, 0.03, STUDY_VERDICT_INVALID, "verdict_decide/lo > hi is invalid"},
        {-0.03, 0.02, -0.02, 0.03, STUDY_VERDICT_INVALID, "verdict_decide/90% not inside 95% is invalid"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        CHECK(study_verdict_decide(c[i].lo90, c[i].hi90, c[i].lo95, c[i].hi95, d) == c[i].want, c[i].label);
    CHECK(study_verdict_decide(-0.01, 0.02, -0.02, 0.03, 0.0) == STUDY_VERDICT_INVALID,
          "verdict_decide/d = 0 is invalid");
    // balanced accuracy's margin 0.02, and a lo95 that is 1/50 exactly but a rounding above it
    CHECK(study_verdict_decide(0.021, 0.05, 0.020000000000000018, 0.06, 0.02) == STUDY_HELPS,
          "verdict_decide/lo95 a rounding above d = 0.02: helps, not beyond the margin");
    CHECK(strcmp(study_verdict_name(STUDY_EQUIVALENT), "equivalent") == 0 &&
              strcmp(study_verdict_name(STUDY_HELPS), "helps") == 0 &&
              strcmp(study_verdict_name(STUDY_HELPS_BEYOND_MARGIN), "helps by more than the margin") == 0 &&
              strcmp(study_verdict_name(STUDY_HARMS), "harms") == 0 &&
              strcmp(study_verdict_name(STUDY_HARMS_BEYOND_MARGIN), "harms by more than the margin") == 0 &&
              strcmp(study_verdict_name(STUDY_INCONCLUSIVE), "inconclusive") == 0 &&
              strcmp(study_verdict_name(STUDY_VERDICT_INVALID), "invalid input") == 0,
          "verdict_name/every name");
}

// ---------------------------------------------------------------------------
// The cluster bootstrap

// The strata s0 and s1 of the golden file (their arrays stay in the golden table).
typedef struct { study_stratum st; int *labels, *patient; } owned_stratum;

static int load_stratum(owned_stratum *o, const char *prefix) {
    char key[64];
    snprintf(key, sizeof key, "%s_labels", prefix);
    int n = gold_count(key);
    const double *lab = gold(key, n), *meta;
    memset(o, 0, sizeof *o);
    snprintf(key, sizeof key, "%s_patient", prefix);
    const double *pat = gold(key, n);
    snprintf(key, sizeof key, "%s_a", prefix);
    o->st.score_a = gold(key, n);
    snprintf(key, sizeof key, "%s_b", prefix);
    o->st.score_b = gold(key, n);
    snprintf(key, sizeof key, "%s_meta", prefix);
    meta = gold(key, 3);
    if (!lab || !pat || !meta || !o->st.score_a || !o->st.score_b) return 0;
    o->labels = to_ints(lab, n);
    o->patient = to_ints(pat, n);
    o->st.n = n;
    o->st.labels = o->labels;
    o->st.patient = o->patient;
    o->st.n_patients = (int)meta[0];
    o->st.threshold_a = meta[1];
    o->st.threshold_b = meta[2];
    return 1;
}

// The bootstrap on the Python script's explicit draws, every metric, one and two strata.
static void test_bootstrap_exact(void) {
    owned_stratum o[2];
    if (!load_stratum(&o[0], "s0") || !load_stratum(&o[1], "s1")) return;
    study_stratum strata[2] = {o[0].st, o[1].st};
    char why[256], key[64];
    const char *tags[2] = {"one", "two"};
    for (int t = 0; t < 2; t++) {
        int n_strata = t + 1, per = 0;
        for (int s = 0; s < n_strata; s++) per += strata[s].n_patients;
        snprintf(key, sizeof key, "%s_draws", tags[t]);
        int n_draws = gold_count(key), B = n_draws / per;
        int *draws = to_ints(gold(key, n_draws), n_draws);
        double *reps = (double *)malloc((size_t)B * sizeof(double));
        int all_ok = 1, counts_ok = 1;
        for (int m = 0; m < STUDY_METRIC_COUNT; m++) {
            char label[160];
            snprintf(key, sizeof key, "%s_%s_reps", tags[t], study_metric_name((study_metric)m));
            const double *want_reps = gold(key, B);
            snprintf(key, sizeof key, "%s_%s", tags[t], study_metric_name((study_metric)m));
            const double *want = gold(key, 9);
            study_bootstrap r;
            if (!want_reps || !want ||
                study_bootstrap_compute(&r, reps, strata, n_strata, (study_metric)m, B, 0, draws,
                                        (size_t)n_draws, why, sizeof why) != 0) {
                all_ok = 0;
                fprintf(stderr, "  %s: %s\n", key, why);
                continue;
            }
            snprintf(label, sizeof label, "bootstrap_compute/%s strata, %s: replicates on the same draws",
                     tags[t], study_metric_name((study_metric)m));
            close_doubles(want_reps, reps, B, 1e-14, 0.0, label);
            const double got[7] = {r.estimate, r.value_a, r.value_b, r.lo95, r.hi95, r.lo90, r.hi90};
            snprintf(label, sizeof label, "bootstrap_compute/%s strata, %s: estimate, both arms, 95%% and "
                     "90%% intervals", tags[t], study_metric_name((study_metric)m));
            close_doubles(want, got, 7, 1e-14, 0.0, label);
            counts_ok &= r.skipped_class == (int)want[7] && r.skipped_undefined == (int)want[8] &&
                         r.used == B - r.skipped_class - r.skipped_undefined && r.resamples == B &&
                         r.metric == (study_metric)m;
        }
        CHECK(all_ok, "bootstrap_compute/every metric runs on the explicit draws");
        CHECK(counts_ok, t == 0 ? "bootstrap_compute/skip counts (precision undefined) as Python counts"
                                : "bootstrap_compute/skip counts (a class missing first) as Python counts");
        free(draws);
        free(reps);
    }
    // The note on the skips, whole, and the warning flag: two strata, AUC: 17 of 40 skipped.
    int n_draws = gold_count("two_draws");
    int *draws = to_ints(gold("two_draws", n_draws), n_draws);
    study_bootstrap r;
    CHECK(study_bootstrap_compute(&r, NULL, strata, 2, STUDY_AUC, 40, 0, draws, (size_t)n_draws, why,
                                  sizeof why) == 0 &&
              r.too_many_skipped &&
              strcmp(r.note, "warning: 17 of 40 resamples (42.5%) skipped, more than 5%: 17 missed a class "
                             "in a stratum, 0 had precision undefined") == 0,
          "bootstrap_compute/more than 5% skipped: the note is a warning");
    free(draws);
    for (int s = 0; s < 2; s++) {
        free(o[s].labels);
        free(o[s].patient);
    }
}

// A small stratum: patients 0 and 1 positive (one image and two), 2 and 3
// negative (two and one); scores with a tie between the arms' orders.
static const int tiny_labels[6] = {1, 1, 1, 0, 0, 0}, tiny_patient[6] = {0, 1, 1, 2, 2, 3};
static const double tiny_a[6] = {0.9, 0.6, 0.4, 0.4, 0.3, 0.1}, tiny_b[6] = {0.7, 0.5, 0.5, 0.6, 0.2, 0.2};

static study_stratum tiny_stratum(void) {
    study_stratum s = {6, 4, tiny_labels, tiny_patient, tiny_a, tiny_b, 0.5, 0.5, 0, NULL};
    return s;
}

// Hand-made draws: every replicate draws each patient once (the full set),
// except one that draws only the positives: 1 of 30 skipped, a plain note.
static void test_bootstrap_few_skipped(void) {
    study_stratum s = tiny_stratum();
    int draws[30 * 4];
    for (int b = 0; b < 30; b++)
        for (int k = 0; k < 4; k++) draws[4 * b + k] = b == 7 ? k / 2 : k;
    double reps[30];
    char why[256];
    study_bootstrap r;
    CHECK(study_bootstrap_compute(&r, reps, &s, 1, STUDY_AUC, 30, 0, draws, 120, why, sizeof why) == 0,
          "bootstrap_compute/hand-made draws ok");
    // AUC(A): positives 0.9, 0.6, 0.4 vs negatives 0.4, 0.3, 0.1: 8.5 of 9; AUC(B): 0.7, 0.5, 0.5
    // vs 0.6, 0.2, 0.2: 7 of 9; difference 1.5 / 9
    CHECK(fabs(r.estimate - 1.5 / 9.0) < 1e-15 && r.lo95 == r.estimate && r.hi90 == r.estimate &&
              isnan(reps[7]) && reps[0] == r.estimate,
          "bootstrap_compute/every draw the full set: the interval is the estimate, the skip is NaN");
    CHECK(r.skipped_class == 1 && r.used == 29 && !r.too_many_skipped &&
              strcmp(r.note, "1 of 30 resamples (3.3%) skipped: 1 missed a class in a stratum, 0 had "
                             "precision undefined") == 0,
          "bootstrap_compute/one skip in 30: counted, a plain note");
    // the same stratum three times, the same draws in each: the average of three equal
    // differences; the skip in stratum 0 must not stop strata 1 and 2 from taking their draws
    study_stratum three[3] = {s, s, s};
    int draws3[30 * 12];
    for (int b = 0; b < 30; b++)
        for (int k = 0; k < 12; k++) draws3[12 * b + k] = draws[4 * b + k % 4];
    double reps3[30];
    study_bootstrap r3;
    CHECK(study_bootstrap_compute(&r3, reps3, three, 3, STUDY_AUC, 30, 0, draws3, 360, why,
                                  sizeof why) == 0 &&
              fabs(r3.estimate - r.estimate) < 1e-15 && r3.skipped_class == 1 &&
              fabs(reps3[8] - reps[8]) < 1e-15,
          "bootstrap_compute/three equal strata average to the one, draws stay aligned after a skip");
    // A patient drawn twice counts twice: draws {0, 1, 1, 3}: arm A's positives 0.9, 0.6, 0.4,
    // 0.6, 0.4 (sensitivity 3/5, not 2/3), arm B's 0.7, 0.5, 0.5, 0.5, 0.5 (5/5)
    int twice[2 * 4] = {0, 1, 1, 3, 0, 1, 1, 3};
    CHECK(study_bootstrap_compute(&r, reps, &s, 1, STUDY_SENSITIVITY, 2, 0, twice, 8, why, sizeof why) == 0 &&
              fabs(reps[0] - (0.6 - 1.0)) < 1e-15 && r.note[0] == '\0',
          "bootstrap_compute/a patient drawn twice counts twice, no note without skips");
}

// Differences formed from whole numbers: one stratum per case, every image its
// own patient, scores 0 or 1 at threshold 0.5 (positive images: tp of them
// scored 1; negative images: tn of them scored 0). n_pos + n_neg <= 24.
typedef struct {
    int labels[24], patient[24];
    double a[24], b[24];
} exact_case;

static study_stratum exact_stratum(exact_case *c, int n_pos, int n_neg, int tp_a, int tn_a, int tp_b,
                                   int tn_b) {
    for (int i = 0; i < n_pos + n_neg; i++) {
        const int pos = i < n_pos, k = pos ? i : i - n_pos;
        c->labels[i] = pos;
        c->patient[i] = i;
        c->a[i] = pos ? (k < tp_a) : (k >= tn_a);
        c->b[i] = pos ? (k < tp_b) : (k >= tn_b);
    }
    study_stratum s = {n_pos + n_neg, n_pos + n_neg, c->labels, c->patient, c->a, c->b, 0.5, 0.5, 0, NULL};
    return s;
}

// B = 4 replicates that each draw every patient of every stratum once: each
// replicate is the estimate.
static int exact_run(study_bootstrap *r, double reps[4], const study_stratum *strata, int n_strata,
                     study_metric m) {
    int draws[4 * 3 * 24], at = 0;
    for (int b = 0; b < 4; b++)
        for (int s = 0; s < n_strata; s++)
            for (int k = 0; k < strata[s].n_patients; k++) draws[at++] = k;
    char why[256];
    return study_bootstrap_compute(r, reps, strata, n_strata, m, 4, 0, draws, (size_t)at, why, sizeof why) == 0;
}

static void test_bootstrap_fractions(void) {
    exact_case c[3];
    study_bootstrap r;
    double reps[4];
    // Balanced accuracy, 2 positives and 6 negatives: A (0/2 + 5/6) / 2 and B (1/2 + 2/6) / 2
    // are both 5/12; as 0.5 * (sensitivity + specificity) in double they differ by 5.6e-17.
    study_stratum s = exact_stratum(&c[0], 2, 6, 0, 5, 1, 2);
    CHECK(exact_run(&r, reps, &s, 1, STUDY_BALANCED_ACCURACY) && r.estimate == 0.0 && reps[0] == 0.0 &&
              reps[3] == 0.0 && r.lo95 == 0.0 && r.hi95 == 0.0 && r.p == 1.0 &&
              r.value_a == 5.0 / 12.0 && r.value_b == 5.0 / 12.0,
          "bootstrap_compute/equal balanced accuracies (5/12 both) differ by exactly 0: p = 1");
    // Sensitivity 3/20 - 2/20 is 1/20: the double nearest 0.05 (subtracted: 0.04999999999999999).
    s = exact_stratum(&c[0], 20, 2, 3, 2, 2, 2);
    CHECK(exact_run(&r, reps, &s, 1, STUDY_SENSITIVITY) && r.estimate == 0.05 && reps[2] == 0.05 &&
              r.lo90 == 0.05 && r.hi90 == 0.05 && r.p == 0.0,
          "bootstrap_compute/sensitivity 3/20 - 2/20 is the double 0.05");
    // Three strata with differences 1/2, 1/3 and -5/6 (sensitivity; denominators 2, 3, 6):
    // their mean is 0 (summed in double: -3.7e-17).
    study_stratum three[3] = {exact_stratum(&c[0], 2, 1, 1, 1, 0, 1), exact_stratum(&c[1], 3, 1, 1, 1, 0, 1),
                              exact_stratum(&c[2], 6, 1, 0, 1, 5, 1)};
    CHECK(exact_run(&r, reps, three, 3, STUDY_SENSITIVITY) && r.estimate == 0.0 && reps[1] == 0.0 &&
              r.p == 1.0,
          "bootstrap_compute/differences 1/2 + 1/3 - 5/6 over three strata: exactly 0, p = 1");
    // The fractions themselves: lowest terms, and the rounded sum past 2^53.
    study__frac f = study__frac_add(study__frac_make(1.0, 3.0), study__frac_make(1.0, 6.0), 1.0);
    CHECK(f.exact && f.num == 1.0 && f.den == 2.0 && f.value == 0.5, "frac_add/1/3 + 1/6 = 1/2");
    f = study__frac_add(study__frac_make(3.0, 20.0), study__frac_make(2.0, 20.0), -1.0);
    CHECK(f.exact && f.num == 1.0 && f.den == 20.0 && f.value == 0.05, "frac_add/3/20 - 2/20 = 1/20");
    f = study__frac_add(study__frac_make(2.0, 4.0), study__frac_make(1.0, 2.0), -1.0);
    CHECK(f.exact && f.num == 0.0 && f.den == 1.0 && f.value == 0.0, "frac_add/2/4 - 1/2 = 0/1");
    const study__frac big = study__frac_make(1.0, 94906267.0), other = study__frac_make(1.0, 94906269.0);
    f = study__frac_add(big, other, 1.0);   // their product is 2^53 + 450946831
    CHECK(!f.exact && f.value == 1.0 / 94906267.0 + 1.0 / 94906269.0,
          "frac_add/denominators whose product reaches 2^53: the rounded sum, marked inexact");
    CHECK(study__frac_mean(study__frac_make(1.0, 3.0), 3) == 1.0 / 9.0 &&
              study__frac_mean(f, 2) == f.value / 2.0,
          "frac_mean/one division while exact, else the rounded value divided");
}

// The built-in draws are splitmix64's, as Python computes them, and
// draws = NULL gives exactly what passing study_bootstrap_draw's draws gives.
static void test_bootstrap_rng(void) {
    owned_stratum o[2];
    if (!load_stratum(&o[0], "s0") || !load_stratum(&o[1], "s1")) return;
    study_stratum strata[2] = {o[0].st, o[1].st};
    const double *want = gold("splitmix_draws", 3 * 19);
    int draws[3 * 19], same = want != NULL;
    study_bootstrap_draw(draws, strata, 2, 3, 20240601);
    for (int i = 0; same && i < 3 * 19; i++) same = draws[i] == (int)want[i];
    CHECK(same, "bootstrap_draw/splitmix64 draws equal Python's (seed 20240601, strata of 14 and 5)");

    enum { B = 200 };
    int *many = (int *)malloc((size_t)B * 19 * sizeof(int));
    double r1[B], r2[B], r3[B];
    char why[256];
    study_bootstrap a, b, c;
    study_bootstrap_draw(many, strata, 2, B, 7);
    int ok = study_bootstrap_compute(&a, r1, strata, 2, STUDY_F1, B, 7, NULL, 0, why, sizeof why) == 0 &&
             study_bootstrap_compute(&b, r2, strata, 2, STUDY_F1, B, 0, many, (size_t)B * 19, why,
                                     sizeof why) == 0 &&
             study_bootstrap_compute(&c, r3, strata, 2, STUDY_F1, B, 8, NULL, 0, why, sizeof why) == 0;
    CHECK(ok && memcmp(r1, r2, sizeof r1) == 0 && a.lo95 == b.lo95 && a.hi90 == b.hi90,
          "bootstrap_compute/draws = NULL equals the draws of study_bootstrap_draw, bit for bit");
    CHECK(ok && memcmp(r1, r3, sizeof r1) != 0, "bootstrap_compute/another seed, other replicates");
    free(many);
    for (int s = 0; s < 2; s++) {
        free(o[s].labels);
        free(o[s].patient);
    }
}

// Every refusal: the whole message, and out and replicates unchanged.
static void test_bootstrap_errors(void) {
    study_stratum s = tiny_stratum();
    study_bootstrap r, before;
    memset(&before, 0x5a, sizeof before);
    double reps[4] = {-1.0, -1.0, -1.0, -1.0};
    char why[256];
    int draws[4 * 4] = {0};
    const char *want[] = {
        "study_bootstrap_compute: stratum 1: 0 positive cases among 3; needs both classes",
        "study_bootstrap_compute: stratum 0: patient[2] is 4, outside 0..3",
        "study_bootstrap_compute: stratum 0: patient 4 has no images (ids are 0..4)",
        "study_bootstrap_compute: n_draws is 15; B = 4 resamples of 4 patients need 16",
        "study_bootstrap_compute: draws[5] is 4, not a patient of stratum 0 (0..3)",
        "study_bootstrap_compute: B = 1 resamples; needs at least 2",
        "study_bootstrap_compute: stratum 0: precision is undefined for arm B: no score >= its threshold 0.95",
        "study_bootstrap_compute: stratum 0: labels[3] is 2; labels are 0 or 1",
        "study_bootstrap_compute: only 1 of 4 resamples had both classes in every stratum (and precision "
        "defined); needs at least 2",
    };
    const char *labels[] = {"bootstrap_compute/a stratum with one class is refused",
                            "bootstrap_compute/a patient id out of range is refused",
                            "bootstrap_compute/a patient without images is refused",
                            "bootstrap_compute/draws of the wrong size are refused",
                            "bootstrap_compute/a drawn id out of range is refused",
                            "bootstrap_compute/B = 1 is refused",
                            "bootstrap_compute/precision undefined on all images is refused",
                            "bootstrap_compute/a label that is not 0/1 is refused",
                            "bootstrap_compute/fewer than 2 usable resamples is refused"};
    for (int k = 0; k < 9; k++) {
        study_stratum st[2] = {s, s};
        int n_strata = 1, B = 4, bad_patient[6] = {0, 1, 4, 2, 2, 3}, bad_label[6] = {1, 1, 1, 2, 0, 0};
        const int negatives_only[3] = {0, 0, 0}, pat3[3] = {0, 1, 2};
        size_t n_draws = 16;
        for (int i = 0; i < 16; i++) draws[i] = i % 4;
        switch (k) {
        case 0: st[1].n = 3; st[1].n_patients = 3; st[1].labels = negatives_only; st[1].patient = pat3;
                n_strata = 2; n_draws = 4 * 7; break;
        case 1: st[0].patient = bad_patient; break;
        case 2: st[0].n_patients = 5; n_draws = 20; break;
        case 3: n_draws = 15; break;
        case 4: draws[5] = 4; break;
        case 5: B = 1; n_draws = 4; break;
        case 6: st[0].threshold_b = 0.95; break;
        case 7: st[0].labels = bad_label; break;
        default: for (int i = 4; i < 16; i++) draws[i] = i % 2; break;   // 3 of 4 draw positives only
        }
        int *d = k == 0 ? NULL : draws;
        r = before;
        int rc = study_bootstrap_compute(&r, reps, st, n_strata, k == 6 ? STUDY_PRECISION : STUDY_AUC, B, 1,
                                         d, d ? n_draws : 0, why, sizeof why);
        if (rc != -1 || strcmp(why, want[k]) != 0)
            fprintf(stderr, "  case %d: rc %d, '%s'\n", k, rc, why);
        CHECK(rc == -1 && strcmp(why, want[k]) == 0 && memcmp(&r, &before, sizeof r) == 0 &&
                  reps[0] == -1.0 && reps[3] == -1.0,
              labels[k]);
    }
}

// The p-values of the explicit-draw replicates above, and two by hand.
static void test_bootstrap_p(void) {
    owned_stratum o[2];
    if (!load_stratum(&o[0], "s0") || !load_stratum(&o[1], "s1")) return;
    study_stratum strata[2] = {o[0].st, o[1].st};
    char why[256], key[64];
    const char *tags[2] = {"one", "two"};
    for (int t = 0; t < 2; t++) {
        snprintf(key, sizeof key, "%s_draws", tags[t]);
        int n_draws = gold_count(key), per = t == 0 ? 14 : 19, B = n_draws / per;
        int *draws = to_ints(gold(key, n_draws), n_draws), all_ok = 1;
        for (int m = 0; m < STUDY_METRIC_COUNT; m++) {
            snprintf(key, sizeof key, "%s_%s_p", tags[t], study_metric_name((study_metric)m));
            const double *want = gold(key, 1);
            study_bootstrap r;
            all_ok &= want && study_bootstrap_compute(&r, NULL, strata, t + 1, (study_metric)m, B, 0, draws,
                                                      (size_t)n_draws, why, sizeof why) == 0 &&
                      fabs(r.p - want[0]) < 1e-15;
        }
        CHECK(all_ok, t == 0 ? "bootstrap_compute/p = min(1, 2 min(#<=0, #>=0) / used), one stratum"
                             : "bootstrap_compute/p = min(1, 2 min(#<=0, #>=0) / used), skips left out");
        free(draws);
    }
    // every draw the full set: every replicate is the estimate 1.5/9 > 0, so p = 0;
    // arm B = arm A: every replicate is 0, on both sides, so p = 1
    study_stratum s = tiny_stratum();
    int draws[30 * 4];
    for (int b = 0; b < 30; b++)
        for (int k = 0; k < 4; k++) draws[4 * b + k] = k;
    study_bootstrap r;
    CHECK(study_bootstrap_compute(&r, NULL, &s, 1, STUDY_AUC, 30, 0, draws, 120, why, sizeof why) == 0 &&
              r.p == 0.0,
          "bootstrap_compute/every replicate above 0: p = 0");
    s.score_b = s.score_a;
    CHECK(study_bootstrap_compute(&r, NULL, &s, 1, STUDY_AUC, 30, 0, draws, 120, why, sizeof why) == 0 &&
              r.p == 1.0 && r.estimate == 0.0 && r.lo95 == 0.0 && r.hi95 == 0.0,
          "bootstrap_compute/identical arms: every replicate 0, p = 1, interval [0, 0]");
    for (int s2 = 0; s2 < 2; s2++) {
        free(o[s2].labels);
        free(o[s2].patient);
    }
}

// Compares one bootstrap with the golden "<key>_reps" (B values) and "<key>" (estimate,
// value_a, value_b, lo95, hi95, lo90, hi90, skipped_class, skipped_undefined, p).
static int bootstrap_matches(const char *key, const study_stratum *strata, int n_strata, study_metric m,
                             const int *draws, int n_draws, int B) {
    char name[96], why[256];
    snprintf(name, sizeof name, "%s_reps", key);
    const double *want_reps = gold(name, B), *want = gold(key, 10);
    double *reps = (double *)malloc((size_t)B * sizeof(double));
    study_bootstrap r;
    int ok = want_reps && want && reps &&
             study_bootstrap_compute(&r, reps, strata, n_strata, m, B, 0, draws, (size_t)n_draws, why,
                                     sizeof why) == 0;
    if (!ok) {
        fprintf(stderr, "  %s: %s\n", key, why);
        free(reps);
        return 0;
    }
    snprintf(name, sizeof name, "bootstrap_compute/%s: replicates on the same draws", key);
    ok &= close_doubles(want_reps, reps, B, 1e-14, 0.0, name);
    const double got[7] = {r.estimate, r.value_a, r.value_b, r.lo95, r.hi95, r.lo90, r.hi90};
    snprintf(name, sizeof name, "bootstrap_compute/%s: estimate, both arms, intervals", key);
    ok &= close_doubles(want, got, 7, 1e-14, 0.0, name);
    ok &= r.skipped_class == (int)want[7] && r.skipped_undefined == (int)want[8] &&
          fabs(r.p - want[9]) < 1e-15;
    free(reps);
    return ok;
}

// Pooled strata (pool maps): two splits of one pool of 10 patients whose test sets overlap
// (pool patients 4, 5, 6 in both), against Python on its explicit draws of pool ids; the
// built-in draws; one split's seeds pooled equal them sharing draws; the maps' errors.
static void test_bootstrap_pooled(void) {
    owned_stratum o[2];
    if (!load_stratum(&o[0], "pa") || !load_stratum(&o[1], "pb")) return;
    const double *pa = gold("pa_pool", 7), *pb = gold("pb_pool", 6);
    if (!pa || !pb) return;
    int *pool_a = to_ints(pa, 7), *pool_b = to_ints(pb, 6);
    study_stratum strata[2] = {o[0].st, o[1].st};
    strata[0].pool = pool_a;
    strata[1].pool = pool_b;
    int n_draws = gold_count("pooled_draws"), ok = 1;
    int *draws = to_ints(gold("pooled_draws", n_draws), n_draws);
    CHECK(n_draws == 40 * 10, "bootstrap_compute/pooled: 40 replicates of 10 pool ids");
    for (int m = 0; m < STUDY_METRIC_COUNT; m++) {
        char key[64];
        snprintf(key, sizeof key, "pooled_%s", study_metric_name((study_metric)m));
        ok &= bootstrap_matches(key, strata, 2, (study_metric)m, draws, n_draws, 40);
    }
    CHECK(ok, "bootstrap_compute/pooled: every metric as Python's (overlapping test sets drawn once)");
    const double *want = gold("splitmix_pooled_draws", 3 * 10);
    int mine[3 * 10], same = want != NULL;
    study_bootstrap_draw(mine, strata, 2, 3, 20240601);
    for (int i = 0; same && i < 3 * 10; i++) same = mine[i] == (int)want[i];
    CHECK(same, "bootstrap_draw/pooled: 10 draws of pool ids per replicate (splitmix64 over 10)");
    enum { B = 100 };
    double r1[B], r2[B];
    study_bootstrap a, b;
    char why[256];
    // one split's two seeds: pooled (the same pool ids) or sharing draws, the same numbers
    study_stratum shared[2] = {o[0].st, o[0].st}, pooled[2] = {o[0].st, o[0].st};
    shared[1].shares_draws = 1;
    pooled[0].pool = pooled[1].pool = pool_a;   // ids 0..6: the identity
    CHECK(study_bootstrap_compute(&a, r1, shared, 2, STUDY_AUC, B, 5, NULL, 0, why, sizeof why) == 0 &&
              study_bootstrap_compute(&b, r2, pooled, 2, STUDY_AUC, B, 5, NULL, 0, why, sizeof why) == 0 &&
              memcmp(r1, r2, sizeof r1) == 0 && a.p == b.p,
          "bootstrap_compute/pooled: one split's seeds pooled equal them sharing draws, bit for bit");
    // the maps' errors, whole messages, outputs unchanged
    study_bootstrap keep;
    memset(&keep, 0x3c, sizeof keep);
    b = keep;
    static const char *const msg[6] = {
        "study_bootstrap_compute: stratum 0 has a pool map and stratum 1 has none; give every stratum one or none",
        "study_bootstrap_compute: stratum 1 has a pool map and stratum 0 has none; give every stratum one or none",
        "study_bootstrap_compute: stratum 1: patients 1 and another have the same pool id 4; a stratum's patients "
        "are distinct",
        "study_bootstrap_compute: pool id 7 is no stratum's patient (ids are 0..10, the largest used)",
        "study_bootstrap_compute: stratum 1 shares draws and has a pool map; with pool maps the strata share "
        "through the pool (shares_draws 0)",
        "study_bootstrap_compute: stratum 1: pool[5] is 2147483647, beyond the 13 patients of all strata"};
    int twice[6] = {4, 4, 6, 7, 8, 9}, gap[6] = {4, 5, 6, 8, 9, 10}, huge[6] = {4, 5, 6, 7, 8, INT_MAX},
        errors_ok = 1;
    for (int e = 0; e < 6; e++) {
        study_stratum t[2] = {strata[0], strata[1]};
        if (e == 0) t[1].pool = NULL;
        if (e == 1) t[0].pool = NULL;
        if (e == 2) t[1].pool = twice;
        if (e == 3) t[1].pool = gap;
        if (e == 4) t[1] = strata[0], t[1].shares_draws = 1;   // (the same images: sharing itself is fine)
        if (e == 5) t[1].pool = huge;   // (INT_MAX + 1 overflowed int while the pool was sized)
        const int rc = study_bootstrap_compute(&b, NULL, t, 2, STUDY_AUC, 10, 1, NULL, 0, why, sizeof why);
        const int this_ok = rc == -1 && strcmp(why, msg[e]) == 0 && memcmp(&b, &keep, sizeof b) == 0;
        if (!this_ok) fprintf(stderr, "  pool error %d: %s\n", e, why);
        errors_ok &= this_ok;
    }
    CHECK(errors_ok, "bootstrap_compute/pooled: maps in some strata only, repeated ids, an unused id, sharing, "
                     "an id of INT_MAX");
    int bad_draw[40 * 10];
    memcpy(bad_draw, draws, sizeof bad_draw);
    bad_draw[13] = 10;
    CHECK(study_bootstrap_compute(&b, NULL, strata, 2, STUDY_AUC, 40, 0, bad_draw, 400, why, sizeof why) == -1 &&
              strcmp(why, "study_bootstrap_compute: draws[13] is 10, not a pool id (0..9)") == 0,
          "bootstrap_compute/pooled: a drawn id outside the pool");
    free(draws);
    free(pool_a);
    free(pool_b);
    for (int s = 0; s < 2; s++) {
        free(o[s].labels);
        free(o[s].patient);
    }
}

// Arm A alone (score_b = NULL): metric(A) by itself, on the two strata's draws.
static void test_bootstrap_alone(void) {
    owned_stratum o[2];
    if (!load_stratum(&o[0], "s0") || !load_stratum(&o[1], "s1")) return;
    study_stratum strata[2] = {o[0].st, o[1].st};
    strata[0].score_b = strata[1].score_b = NULL;
    int n_draws = gold_count("two_draws");
    int *draws = to_ints(gold("two_draws", n_draws), n_draws), ok = 1;
    char key[64], why[256];
    for (int m = 0; m < STUDY_METRIC_COUNT; m++) {
        snprintf(key, sizeof key, "alone_%s", study_metric_name((study_metric)m));
        ok &= bootstrap_matches(key, strata, 2, (study_metric)m, draws, n_draws, 40);
    }
    CHECK(ok, "bootstrap_compute/arm A alone: replicates, estimate, intervals, skips, p as Python's");
    study_bootstrap r;
    CHECK(study_bootstrap_compute(&r, NULL, strata, 2, STUDY_F1, 40, 0, draws, (size_t)n_draws, why,
                                  sizeof why) == 0 &&
              r.estimate == r.value_a && r.value_b == 0.0,
          "bootstrap_compute/arm A alone: estimate = value_a, value_b = 0");
    free(draws);
    for (int s = 0; s < 2; s++) {
        free(o[s].labels);
        free(o[s].patient);
    }
}

// 2 splits x 2 seeds, the second seed of each split sharing the first's draw.
static void test_bootstrap_shared(void) {
    owned_stratum o[4];
    const char *names[4] = {"h0", "h1", "h2", "h3"};
    for (int s = 0; s < 4; s++)
        if (!load_stratum(&o[s], names[s])) return;
    study_stratum strata[4] = {o[0].st, o[1].st, o[2].st, o[3].st};
    strata[1].shares_draws = strata[3].shares_draws = 1;
    int n_draws = gold_count("shared_draws"), ok = 1;
    int *draws = to_ints(gold("shared_draws", n_draws), n_draws);
    char key[64], why[256];
    CHECK(n_draws == 40 * (12 + 9), "bootstrap_compute/shared: 40 replicates of 12 + 9 patients");
    for (int m = 0; m < STUDY_METRIC_COUNT; m++) {
        snprintf(key, sizeof key, "shared_%s", study_metric_name((study_metric)m));
        ok &= bootstrap_matches(key, strata, 4, (study_metric)m, draws, n_draws, 40);
    }
    CHECK(ok, "bootstrap_compute/shared draws: every metric as Python's (seeds of a split on one draw)");
    study_stratum alone[4];
    for (int s = 0; s < 4; s++) {
        alone[s] = strata[s];
        alone[s].score_b = NULL;
    }
    CHECK(bootstrap_matches("shared_alone_auc", alone, 4, STUDY_AUC, draws, n_draws, 40),
          "bootstrap_compute/shared draws, arm A alone: as Python's");
    // the built-in draws skip the sharing strata
    const double *want = gold("splitmix_shared_draws", 3 * 21);
    int mine[3 * 21], same = want != NULL;
    study_bootstrap_draw(mine, strata, 4, 3, 20240601);
    for (int i = 0; same && i < 3 * 21; i++) same = mine[i] == (int)want[i];
    CHECK(same, "bootstrap_draw/sharing strata consume no draws (splitmix64 over 12 and 9 patients)");
    enum { B = 100 };
    int *many = (int *)malloc((size_t)B * 21 * sizeof(int));
    double r1[B], r2[B];
    study_bootstrap a, b;
    study_bootstrap_draw(many, strata, 4, B, 5);
    CHECK(study_bootstrap_compute(&a, r1, strata, 4, STUDY_AUC, B, 5, NULL, 0, why, sizeof why) == 0 &&
              study_bootstrap_compute(&b, r2, strata, 4, STUDY_AUC, B, 0, many, (size_t)B * 21, why,
                                      sizeof why) == 0 &&
              memcmp(r1, r2, sizeof r1) == 0 && a.p == b.p,
          "bootstrap_compute/shared: draws = NULL equals study_bootstrap_draw's draws, bit for bit");
    // the same stratum twice, sharing: each replicate equals the one stratum's
    study_stratum twice[2] = {strata[0], strata[0]};
    twice[1].shares_draws = 1;
    double r3[B];
    CHECK(study_bootstrap_compute(&a, r1, twice, 2, STUDY_SENSITIVITY, B, 9, NULL, 0, why, sizeof why) == 0 &&
              study_bootstrap_compute(&b, r3, twice, 1, STUDY_SENSITIVITY, B, 9, NULL, 0, why, sizeof why) == 0 &&
              a.lo95 == b.lo95 && a.hi90 == b.hi90 && a.p == b.p && fabs(r1[3] - r3[3]) < 1e-15,
          "bootstrap_compute/a stratum sharing with its copy: the one stratum's replicates");
    free(many);
    free(draws);
    for (int s = 0; s < 4; s++) {
        free(o[s].labels);
        free(o[s].patient);
    }
}

// The refusals of sharing and of arm A alone: whole messages, outputs unchanged.
static void test_bootstrap_shared_errors(void) {
    study_stratum s = tiny_stratum();
    study_bootstrap r, before;
    memset(&before, 0x5a, sizeof before);
    double reps[4] = {-1.0, -1.0, -1.0, -1.0};
    char why[320];
    int draws[4 * 4];
    for (int i = 0; i < 16; i++) draws[i] = i % 4;
    const int other_patient[6] = {0, 1, 2, 2, 2, 3}, other_labels[6] = {1, 1, 0, 1, 0, 0};
    const int pat5[5] = {0, 1, 1, 2, 3}, lab5[5] = {1, 1, 1, 0, 0}, five_patients[6] = {0, 1, 4, 2, 2, 3};
    const char *want[] = {
        "study_bootstrap_compute: stratum 0 has shares_draws = 1; there is no stratum before it to share with",
        "study_bootstrap_compute: stratum 1 shares draws with stratum 0 but has 5 images of 4 patients, "
        "stratum 0 has 6 of 4; sharing strata need the same test images",
        "study_bootstrap_compute: stratum 1 shares draws with stratum 0 but has 6 images of 5 patients, "
        "stratum 0 has 6 of 4; sharing strata need the same test images",
        "study_bootstrap_compute: stratum 1 shares draws with stratum 0 but patient[2] is 2 there and 1 in "
        "stratum 0; sharing strata need the same patients",
        "study_bootstrap_compute: stratum 1 shares draws with stratum 0 but labels[2] is 0 there and 1 in "
        "stratum 0; sharing strata need the same test images",
        "study_bootstrap_compute: stratum 1 has score_b and stratum 0 has none; arm A alone needs score_b = "
        "NULL in every stratum",
        "study_bootstrap_compute: stratum 1 has shares_draws = 2; it is 0 or 1",
        "study_bootstrap_compute: n_draws is 32; B = 4 resamples of 4 patients need 16",
    };
    const char *labels[] = {"bootstrap_compute/stratum 0 sharing draws is refused",
                            "bootstrap_compute/sharing with a different n is refused",
                            "bootstrap_compute/sharing with a different n_patients is refused",
                            "bootstrap_compute/sharing with other patients is refused",
                            "bootstrap_compute/sharing with other labels is refused",
                            "bootstrap_compute/score_b NULL in some strata only is refused",
                            "bootstrap_compute/shares_draws 2 is refused",
                            "bootstrap_compute/a sharing stratum's draws counted are refused"};
    for (int k = 0; k < 8; k++) {
        study_stratum st[2] = {s, s};
        st[1].shares_draws = 1;
        int n_strata = 2;
        size_t n_draws = 16;
        switch (k) {
        case 0: st[0].shares_draws = 1; n_strata = 1; break;
        case 1: st[1].n = 5; st[1].patient = pat5; st[1].labels = lab5; break;
        case 2: st[1].patient = five_patients; st[1].n_patients = 5; break;
        case 3: st[1].patient = other_patient; break;
        case 4: st[1].labels = other_labels; break;
        case 5: st[0].score_b = NULL; st[1].shares_draws = 0; n_draws = 32; break;
        case 6: st[1].shares_draws = 2; break;
        default: n_draws = 32; break;   // 2 x 16 as if the sharing stratum drew its own
        }
        r = before;
        int rc = study_bootstrap_compute(&r, reps, st, n_strata, STUDY_AUC, 4, 1, draws, n_draws, why,
                                         sizeof why);
        if (rc != -1 || strcmp(why, want[k]) != 0) fprintf(stderr, "  case %d: rc %d, '%s'\n", k, rc, why);
        CHECK(rc == -1 && strcmp(why, want[k]) == 0 && memcmp(&r, &before, sizeof r) == 0 &&
                  reps[0] == -1.0 && reps[3] == -1.0,
              labels[k]);
    }
}

// ---------------------------------------------------------------------------
// The bootstrap's statistical properties, on data whose true paired difference is 0

static uint64_t test_rng_state;
static double test_uniform(void) {   // (0, 1)
    return ((double)(study__splitmix64(&test_rng_state) >> 11) + 0.5) / 9007199254740992.0;
}
static double test_normal(void) {    // Box-Muller
    return sqrt(-2.0 * log(test_uniform())) * cos(6.283185307179586 * test_uniform());
}

// P patients, 1..3 images each, half of them positive; both arms score
// label + patient effect + their own noise, so neither arm is better.
typedef struct { int n, labels[600], patient[600]; double a[600], b[600]; } null_data;

static void null_make(null_data *d, int P) {
    d->n = 0;
    for (int p = 0; p < P; p++) {
        int label = p % 2, images = 1 + (int)(3.0 * test_uniform());
        double effect = test_normal();
        for (int k = 0; k < images; k++, d->n++) {
            d->labels[d->n] = label;
            d->patient[d->n] = p;
            d->a[d->n] = 1.0 * label + effect + 0.7 * test_normal();
            d->b[d->n] = 1.0 * label + effect + 0.7 * test_normal();
        }
    }
}

static void test_bootstrap_null(void) {
    static null_data d;
    char why[256];
    int covered = 0, runs = 0, ok = 1;
    double width[2] = {0.0, 0.0};
    const int patients[2] = {40, 160};
    test_rng_state = 12345;
    for (int size = 0; size < 2; size++)
        for (int rep = 0; rep < 30; rep++) {
            null_make(&d, patients[size]);
            study_stratum s = {d.n, patients[size], d.labels, d.patient, d.a, d.b, 0.5, 0.5, 0, NULL};
            study_bootstrap r;
            ok &= study_bootstrap_compute(&r, NULL, &s, 1, STUDY_AUC, 400, (uint64_t)rep + 1, NULL, 0, why,
                                          sizeof why) == 0;
            if (size == 0) {
                covered += r.lo95 <= 0.0 && 0.0 <= r.hi95;
                runs++;
            }
            width[size] += (r.hi95 - r.lo95) / 30.0;
        }
    double ratio = width[0] / width[1];
    printf("  null data: 95%% interval covers 0 in %d of %d; mean width %.4f (40 patients), %.4f (160), "
           "ratio %.2f (1/sqrt: 2)\n", covered, runs, width[0], width[1], ratio);
    CHECK(ok, "bootstrap_compute/null data runs");
    CHECK(covered >= 25, "bootstrap_compute/true difference 0: the 95% interval covers it in >= 25 of 30");
    CHECK(ratio > 1.6 && ratio < 2.5, "bootstrap_compute/4x the patients: the interval about half as wide");
}

int main(int argc, char **argv) {
    (void)argc;
    golden_load("tests/data/study_stats.txt");
    static const test_case tests[] = {
        {"auc", test_auc},
        {"metrics_hand", test_metrics_hand},
        {"delong_golden", test_delong_golden},
        {"delong_degenerate", test_delong_degenerate},
        {"holm", test_holm},
        {"interval", test_interval},
        {"verdict", test_verdict},
        {"bootstrap_exact", test_bootstrap_exact},
        {"bootstrap_few_skipped", test_bootstrap_few_skipped},
        {"bootstrap_fractions", test_bootstrap_fractions},
        {"bootstrap_rng", test_bootstrap_rng},
        {"bootstrap_errors", test_bootstrap_errors},
        {"bootstrap_p", test_bootstrap_p},
        {"bootstrap_alone", test_bootstrap_alone},
        {"bootstrap_shared", test_bootstrap_shared},
        {"bootstrap_pooled", test_bootstrap_pooled},
        {"bootstrap_shared_errors", test_bootstrap_shared_errors},
        {"bootstrap_null", test_bootstrap_null},
    };
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    for (int i = 0; i < n_golden; i++) free(golden[i].v);
    return rc;
}
