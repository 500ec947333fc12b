// test_classify.c - the classifier tools of examples/classify_tools.h and the single-model
// checkpoint: ROC AUC against the Mann-Whitney pair count, the ROC curve and
// Youden threshold against brute force, the confusion-matrix ratios on a
// hand-worked case, the bootstrap reproduced from its documented stream, the
// patient ids and the patient split, every augmentation transform against an
// independent reference, and dcgan_model_save / dcgan_model_load with their
// error paths.
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "../examples/classify_tools.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// --- metrics

// AUC by counting pairs: P(score_pos > score_neg) + 0.5 P(equal) (Mann-Whitney U / (P N)).
static double auc_pairs(const float *s, const int *l, int n) {
    double u = 0.0, pairs = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (l[i] == 1 && l[j] == 0) {
                pairs += 1.0;
                u += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    return u / pairs;
}

static void random_scores(float *s, int *l, int n, int levels, uint64_t seed) {
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        l[i] = dcgan_rng_uniform(&rng) < 0.3f ? 0 : 1;
        // positives score a little higher; few levels make many ties
        float x = dcgan_rng_uniform(&rng) + (l[i] ? 0.3f : 0.0f);
        s[i] = floorf(x * levels) / levels;
    }
}

static void test_auc(void) {
    // sklearn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75
    const float s0[4] = {0.1f, 0.4f, 0.35f, 0.8f};
    const int l0[4] = {0, 0, 1, 1};
    CHECK(clf_roc_auc(s0, l0, 4) == 0.75, "roc_auc/sklearn example is 0.75");
    const float s1[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    CHECK(clf_roc_auc(s1, l0, 4) == 0.5, "roc_auc/all tied is 0.5");
    const int l1[4] = {1, 1, 1, 1};
    CHECK(isnan(clf_roc_auc(s0, l1, 4)), "roc_auc/one class only is NaN");
    for (int levels = 3; levels <= 1000; levels *= 10) {
        float s[301];
        int l[301];
        random_scores(s, l, 301, levels, (uint64_t)levels);
        double a = clf_roc_auc(s, l, 301), b = auc_pairs(s, l, 301);
        CHECK(fabs(a - b) < 1e-12, "roc_auc/equals the Mann-Whitney pair count (ties 1/2)");
    }
}

static void test_roc_curve(void) {
    float s[200], fpr[201], tpr[201];
    int l[200], count = 0, pos = 0;
    random_scores(s, l, 200, 20, 5);
    for (int i = 0; i < 200; i++) pos += l[i];
    CHECK(clf_roc_curve(fpr, tpr, &count, s, l, 200) == DCGAN_OK, "roc_curve/ok");
    CHECK(fpr[0] == 0.0f && tpr[0] == 0.0f && fpr[count - 1] == 1.0f && tpr[count - 1] == 1.0f,
          "roc_curve/from (0,0) to (1,1)");
    // each point k >= 1 is "score >= t" for the k-th highest distinct score t
    float distinct[200];
    int nd = 0;
    for (int i = 0; i < 200; i++) {
        int seen = 0;
        for (int k = 0; k < nd; k++) seen |= distinct[k] == s[i];
        if (!seen) distinct[nd++] = s[i];
    }
    CHECK(count == nd + 1, "roc_curve/one point per distinct score plus the origin");
    int ok = 1;
    double area = 0.0;
    for (int k = 1; k < count; k++) {
        float t = -1.0f;   // the k-th highest distinct score
        for (int d = 0; d < nd; d++) {
            int higher = 0;
            for (int e = 0; e < nd; e++) higher += distinct[e] > distinct[d];
            if (higher == k - 1) t = distinct[d];
        }
        int tp = 0, fp = 0;
        for (int i = 0; i < 200; i++)
            if (s[i] >= t) { if (l[i]) tp++; else fp++; }
        ok &= fpr[k] == (float)fp / (float)(200 - pos) && tpr[k] == (float)tp / (float)pos;
        area += 0.5 * ((double)tpr[k] + tpr[k - 1]) * ((double)fpr[k] - fpr[k - 1]);
    }
    CHECK(ok, "roc_curve/every point equals the brute-force rates");
    CHECK(fabs(area - clf_roc_auc(s, l, 200)) < 1e-6, "roc_curve/trapezoid area equals the AUC");
    const int one[3] = {1, 1, 1};
    CHECK(clf_roc_curve(fpr, tpr, &count, s, one, 3) == DCGAN_ERR_SHAPE &&
          strcmp(clf_last_error(), "roc_curve: 3 positives among 3 items: a ROC curve needs both "
                 "classes") == 0, "roc_curve/one class: message");
}

static void test_youden(void) {
    float s[150];
    int l[150], pos = 0;
    random_scores(s, l, 150, 30, 9);
    for (int i = 0; i < 150; i++) pos += l[i];
    double best = -2.0;
    float best_t = 0.0f;
    for (int i = 0; i < 150; i++) {   // every score as a threshold, lowest wins ties
        int tp = 0, tn = 0;
        for (int j = 0; j < 150; j++) {
            if (l[j] && s[j] >= s[i]) tp++;
            if (!l[j] && s[j] < s[i]) tn++;
        }
        double J = (double)tp / pos + (double)tn / (150 - pos) - 1.0;
        if (J > best + 1e-12 || (fabs(J - best) <= 1e-12 && s[i] < best_t)) { best = J; best_t = s[i]; }
    }
    CHECK(clf_threshold_youden(s, l, 150) == best_t, "threshold_youden/equals brute force");
}

static void test_metrics_hand(void) {
    // threshold 0.5: tp = 3 (0.9 0.8 0.6), fn = 1 (0.4), fp = 1 (0.7), tn = 3 (0.1 0.2 0.3)
    const float s[8] = {0.9f, 0.8f, 0.6f, 0.4f, 0.7f, 0.1f, 0.2f, 0.3f};
    const int l[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    clf_binary_metrics m;
    clf_binary_metrics_compute(&m, s, l, 8, 0.5f);
    CHECK(m.tp == 3 && m.fn == 1 && m.fp == 1 && m.tn == 3, "binary_metrics/confusion matrix");
    CHECK(m.accuracy == 0.75 && m.sensitivity == 0.75 && m.specificity == 0.75 &&
          m.balanced_accuracy == 0.75 && m.precision == 0.75 && m.f1 == 0.75,
          "binary_metrics/ratios 6/8, 3/4, 3/4, 3/4, 3/4, 6/8");
    CHECK(m.auc == 14.0 / 16.0, "binary_metrics/auc 14/16 (0.6 and 0.4 lose to the negative 0.7)");
    CHECK(strcmp(clf_binary_metric_name(6), "auc") == 0 && clf_binary_metric_get(&m, 3) == m.specificity,
          "binary_metrics/names and getters");
    clf_binary_metrics_compute(&m, s, l, 8, 2.0f);   // nothing called positive
    CHECK(m.tp == 0 && m.fp == 0 && isnan(m.precision) && m.specificity == 1.0,
          "binary_metrics/zero denominator is NaN");
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_bootstrap(void) {
    float s[120];
    int l[120];
    random_scores(s, l, 120, 50, 11);
    clf_binary_metrics lo, hi, lo2, hi2, point;
    CHECK(clf_binary_metrics_bootstrap(&lo, &hi, s, l, 120, 0.6f, 200, 42, 0.95) == DCGAN_OK,
          "bootstrap/ok");
    CHECK(clf_binary_metrics_bootstrap(&lo2, &hi2, s, l, 120, 0.6f, 200, 42, 0.95) == DCGAN_OK &&
          memcmp(&lo, &lo2, sizeof lo) == 0 && memcmp(&hi, &hi2, sizeof hi) == 0,
          "bootstrap/same seed, same interval");
    clf_binary_metrics_bootstrap(&lo2, &hi2, s, l, 120, 0.6f, 200, 43, 0.95);
    CHECK(lo.auc != lo2.auc || hi.auc != hi2.auc, "bootstrap/another seed, another interval");
    // the documented procedure, written out here: n draws of u32 % n per replicate,
    // numpy-'linear' quantiles at 0.025 and 0.975
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 42);
    static double v[7][200];
    for (int b = 0; b < 200; b++) {
        float rs[120];
        int rl[120];
        for (int i = 0; i < 120; i++) {
            int j = (int)(dcgan_rng_u32(&rng) % 120u);
            rs[i] = s[j];
            rl[i] = l[j];
        }
        clf_binary_metrics m;
        clf_binary_metrics_compute(&m, rs, rl, 120, 0.6f);
        for (int k = 0; k < 7; k++) v[k][b] = clf_binary_metric_get(&m, k);
    }
    int ok = 1;
    for (int k = 0; k < 7; k++) {
        qsort(v[k], 200, sizeof(double), cmp_d);
        double pl = 0.025 * 199, ph = 0.975 * 199;
        int il = (int)pl, ih = (int)ph;
        double ql = v[k][il] + (pl - il) * (v[k][il + 1] - v[k][il]);
        double qh = v[k][ih] + (ph - ih) * (v[k][ih + 1] - v[k][ih]);
        ok &= fabs(clf_binary_metric_get(&lo, k) - ql) < 1e-12 && fabs(clf_binary_metric_get(&hi, k) - qh) < 1e-12;
    }
    CHECK(ok, "bootstrap/equals the procedure written out (every metric, both ends)");
    clf_binary_metrics_compute(&point, s, l, 120, 0.6f);
    CHECK(lo.auc < point.auc && point.auc < hi.auc && lo.accuracy < point.accuracy && point.accuracy < hi.accuracy,
          "bootstrap/interval contains the point estimate");
    CHECK(clf_binary_metrics_bootstrap(&lo, &hi, s, l, 120, 0.6f, 1, 42, 0.95) == DCGAN_ERR_SHAPE &&
          strcmp(clf_last_error(), "binary_metrics_bootstrap: B = 1 resamples of n = 120 items at "
                 "level 0.95 (needs B >= 2, n >= 1, 0 < level < 1)") == 0, "bootstrap/B = 1: message");
}

// The patient bootstrap written out: 200 resamples of n_patients draws of u32 % n_patients
// (PCG32 seeded with seed), each drawn patient's images in image order, the metrics of each at
// threshold 0.6, numpy-'linear' quantiles at 0.025 and 0.975 of the finite values. 1 when lo and
// hi equal them (every metric, both ends, more than 150 replicates used); *longest gets the
// largest resample (at most 61 x 60 images here).
static int patient_bootstrap_written_out(const clf_binary_metrics *lo, const clf_binary_metrics *hi, const float *s,
                                         const int *l, const int *patient, int n, int n_patients, uint64_t seed,
                                         int *longest) {
    static double v[7][200];
    static float rs[61 * 60];
    static int rl[61 * 60];
    int used[7] = {0};
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    *longest = 0;
    for (int b = 0; b < 200; b++) {
        int m = 0;
        for (int d = 0; d < n_patients; d++) {
            const int p = (int)(dcgan_rng_u32(&rng) % (uint32_t)n_patients);
            for (int i = 0; i < n; i++)
                if (patient[i] == p) rs[m] = s[i], rl[m] = l[i], m++;
        }
        if (m > *longest) *longest = m;
        clf_binary_metrics mt;
        clf_binary_metrics_compute(&mt, rs, rl, m, 0.6f);
        for (int k = 0; k < 7; k++)
            if (isfinite(clf_binary_metric_get(&mt, k))) v[k][used[k]++] = clf_binary_metric_get(&mt, k);
    }
    int ok = 1;
    for (int k = 0; k < 7; k++) {
        const int u = used[k];
        qsort(v[k], (size_t)u, sizeof(double), cmp_d);
        double pl = 0.025 * (u - 1), ph = 0.975 * (u - 1);
        int il = (int)pl, ih = (int)ph;
        double ql = v[k][il] + (pl - il) * (v[k][il + 1] - v[k][il]);
        double qh = v[k][ih] + (ph - ih) * (v[k][ih + 1] - v[k][ih]);
        ok &= u > 150 && fabs(clf_binary_metric_get(lo, k) - ql) < 1e-12 &&
              fabs(clf_binary_metric_get(hi, k) - qh) < 1e-12;
    }
    return ok;
}

// The patient-level bootstrap: every image its own patient is the image-level one draw for
// draw; patients of several images follow the procedure written out here (n_patients draws of
// u32 % n_patients, all images of each drawn patient in image order); bad patient maps refused.
static void test_bootstrap_patients(void) {
    float s[120];
    int l[120], own[120], of3[120];
    random_scores(s, l, 120, 50, 11);
    for (int i = 0; i < 120; i++) own[i] = i;
    clf_binary_metrics lo, hi, lo2, hi2;
    CHECK(clf_binary_metrics_bootstrap(&lo, &hi, s, l, 120, 0.6f, 200, 42, 0.95) == DCGAN_OK &&
              clf_binary_metrics_bootstrap_patients(&lo2, &hi2, s, l, own, 120, 120, 0.6f, 200, 42, 0.95) == DCGAN_OK &&
              memcmp(&lo, &lo2, sizeof lo) == 0 && memcmp(&hi, &hi2, sizeof hi) == 0,
          "bootstrap_patients/one image per patient: the image-level bootstrap, bit for bit");
    // 40 patients of 3 images, interleaved (patient of image i: (7 i) % 40), labels by patient
    for (int i = 0; i < 120; i++) {
        of3[i] = (7 * i) % 40;
        l[i] = of3[i] < 15;
    }
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, of3, 120, 40, 0.6f, 200, 42, 0.95) == DCGAN_OK,
          "bootstrap_patients/40 patients of 3 images: ok");
    int longest = 0;
    CHECK(patient_bootstrap_written_out(&lo, &hi, s, l, of3, 120, 40, 42, &longest),
          "bootstrap_patients/40 patients of 3: equals the procedure written out (every metric, both ends)");
    // one patient of 60 images and 60 of one (61 patients): resamples of 60 to 3,660 images,
    // past the n = 120 the buffers start with
    int big[120];
    for (int i = 0; i < 120; i++) big[i] = i % 2 ? 0 : 1 + i / 2;
    for (int i = 0; i < 120; i++) l[i] = big[i] % 3 == 0;   // (patient 0, the large one, is positive)
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, big, 120, 61, 0.6f, 200, 7, 0.95) == DCGAN_OK,
          "bootstrap_patients/one patient of 60 images: ok");
    CHECK(patient_bootstrap_written_out(&lo, &hi, s, l, big, 120, 61, 7, &longest) &&
              longest > 240,   // (some resample drew the large patient 4 or more times)
          "bootstrap_patients/one patient of 60: resamples past n images equal the procedure written out");
    of3[5] = 40;
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, of3, 120, 40, 0.6f, 200, 42, 0.95) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap_patients: image 5's patient is 40, not 0..39") == 0,
          "bootstrap_patients/a patient number out of range: message");
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, of3, 120, 42, 0.6f, 200, 42, 0.95) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap_patients: patient 41 of 42 has no image") == 0,
          "bootstrap_patients/a patient without an image: message");
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, of3, 120, 121, 0.6f, 200, 42, 0.95) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap_patients: 121 patients for 120 images (needs 1 to 120)") == 0,
          "bootstrap_patients/more patients than images: message");
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, NULL, 120, 40, 0.6f, 200, 42, 0.95) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap_patients: patient is NULL") == 0,
          "bootstrap_patients/no patient map: message");
    CHECK(clf_binary_metrics_bootstrap_patients(&lo, &hi, s, l, own, 120, 120, 0.6f, 1, 42, 0.95) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap_patients: B = 1 resamples of n = 120 items at "
                     "level 0.95 (needs B >= 2, n >= 1, 0 < level < 1)") == 0,
          "bootstrap_patients/B = 1: message");
}

// --- patient ids and the split

static void test_patient_id(void) {
    static const char *cases[][2] = {
        {"chest_xray/train/PNEUMONIA/person1000_bacteria_2931.jpeg", "person1000"},
        {"person1000_virus_1681.jpeg", "person1000"},
        {"x/NORMAL/IM-0115-0001.jpeg", "IM-0115"},
        {"NORMAL2-IM-0115-0001.jpeg", "IM-0115"},
        {"NORMAL2-IM-1427-0001.jpeg", "IM-1427"},
        {"/a/b/normal_0007.png", "normal_0007"},
        {"personal.png", "personal"},
        {"IM-.jpeg", "IM-"},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[64];
        clf_patient_id(id, sizeof id, cases[i][0]);
        if (strcmp(id, cases[i][1]) != 0) {
            fprintf(stderr, "patient_id('%s') = '%s', expected '%s'\n", cases[i][0], id, cases[i][1]);
            ok = 0;
        }
    }
    CHECK(ok, "patient_id/Kermany names and others");
}

static void test_split(void) {
    // 600 items of ~300 patients with 1-4 images each, both classes
    enum { N = 600 };
    static char names[N][32];
    const char *groups[N];
    int labels[N], side[N], side2[N];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 3);
    int patient = 0, left = 0, label = 0;
    for (int i = 0; i < N; i++) {
        if (left == 0) {
            patient++;
            left = 1 + (int)(dcgan_rng_u32(&rng) % 4);
            label = dcgan_rng_uniform(&rng) < 0.3f;
        }
        snprintf(names[i], sizeof names[i], "p%d", patient);
        groups[i] = names[i];
        labels[i] = label;
        left--;
    }
    const double fr[3] = {0.7, 0.15, 0.15};
    for (int i = 0; i < N; i++) side[i] = side2[i] = -1;
    CHECK(clf_split_by_group(side, groups, labels, N, fr, 3, 1) == DCGAN_OK, "split_by_group/ok");
    int assigned = 1, same_side = 1, counts[3][2] = {{0}}, total[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        assigned &= side[i] >= 0 && side[i] < 3;
        for (int j = 0; j < N; j++)
            if (strcmp(groups[i], groups[j]) == 0 && side[i] != side[j]) same_side = 0;
        if (side[i] >= 0 && side[i] < 3) counts[side[i]][labels[i]]++;
        total[labels[i]]++;
    }
    CHECK(assigned, "split_by_group/every item on a side");
    CHECK(same_side, "split_by_group/no patient on two sides");
    int near = 1;   // each class's share per side within one largest group (4 items) of the target
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 2; c++) near &= fabs(counts[s][c] - fr[s] * total[c]) <= 4.0;
    CHECK(near, "split_by_group/class counts kept at each side's share");
    clf_split_by_group(side2, groups, labels, N, fr, 3, 1);
    CHECK(memcmp(side, side2, sizeof side) == 0, "split_by_group/same seed, same split");
    clf_split_by_group(side2, groups, labels, N, fr, 3, 2);
    CHECK(memcmp(side, side2, sizeof side) != 0, "split_by_group/another seed, another split");
    const double bad[2] = {0.7, 0.2};
    CHECK(clf_split_by_group(side2, groups, labels, N, bad, 2, 1) == DCGAN_ERR_SHAPE &&
          strcmp(clf_last_error(), "split_by_group: the fractions sum to 0.9, not 1") == 0,
          "split_by_group/fractions not summing to 1: message");
}

// --- augmentation

static void fill_random(float *x, size_t n, uint64_t seed) {
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    dcgan_rng_fill_uniform(&rng, x, n, -1.0f, 1.0f);
}

static void test_augment_geometry(void) {
    enum { C = 2, H = 9, W = 12 };
    float in[C * H * W], out[C * H * W], want[C * H * W];
    clf_augment_params p;
    fill_random(in, sizeof in / sizeof in[0], 1);
    clf_augment_identity(&p);
    clf_augment_apply(out, in, C, H, W, &p);
    CHECK(memcmp(in, out, sizeof in) == 0, "augment/identity leaves the image bit for bit");
    // a shift of exactly 3 pixels right and 2 down, borders clamped (fill_mode='nearest')
    p.shift_x = 3.0f / W;
    p.shift_y = 2.0f / H;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sx = x - 3 < 0 ? 0 : x - 3, sy = y - 2 < 0 ? 0 : y - 2;
                want[(c * H + y) * W + x] = in[(c * H + sy) * W + sx];
            }
    clf_augment_apply(out, in, C, H, W, &p);
    CHECK_CLOSE(want, out, C * H * W, 1e-6, 0.0, "augment/integer shift moves pixels, edges clamped");
    // 90 degrees on a square image: content turns counter-clockwise on screen,
    // out[y][x] = in[x][S-1-y] (the pixel right of centre moves to above it)
    enum { S = 7 };
    float sq[S * S], sq_out[S * S], sq_want[S * S];
    fill_random(sq, S * S, 2);
    clf_augment_identity(&p);
    p.rotate_deg = 90.0f;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) sq_want[y * S + x] = sq[x * S + (S - 1 - y)];
    clf_augment_apply(sq_out, sq, 1, S, S, &p);
    CHECK_CLOSE(sq_want, sq_out, S * S, 1e-5, 0.0, "augment/90 degrees is the index rotation");
    // rotation + zoom + shift on a linear ramp: bilinear sampling is exact for
    // a linear function, so inside the image out = ramp(src(x, y)) analytically
    enum { R = 32 };
    static float ramp[R * R], ramp_out[R * R];
    const double a = 0.013, b = -0.021, k = 0.1;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < R; x++) ramp[y * R + x] = (float)(a * x + b * y + k);
    p.rotate_deg = 7.0f;
    p.zoom = 1.08f;
    p.shift_x = 0.05f;
    p.shift_y = -0.03f;
    clf_augment_apply(ramp_out, ramp, 1, R, R, &p);
    double th = 7.0 * 3.14159265358979323846 / 180.0, c0 = 0.5 * (R - 1), worst = 0.0;
    int inside = 0;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < R; x++) {
            double dx = (x - c0 - 0.05 * R) / 1.08, dy = (y - c0 + 0.03 * R) / 1.08;
            double sx = c0 + cos(th) * dx - sin(th) * dy, sy = c0 + sin(th) * dx + cos(th) * dy;
            if (sx < 0 || sy < 0 || sx > R - 1 || sy > R - 1) continue;
            inside++;
            double e = fabs(ramp_out[y * R + x] - (a * sx + b * sy + k));
            if (e > worst) worst = e;
        }
    CHECK(inside > R * R / 2 && worst < 1e-5, "augment/rotate+zoom+shift of a ramp equals the ramp at src");
}

static void test_augment_intensity(void) {
    enum { C = 3, H = 5, W = 6 };
    float in[C * H * W], out[C * H * W], want[C * H * W];
    clf_augment_params p;
    fill_random(in, C * H * W, 4);
    clf_augment_identity(&p);
    p.brightness = 0.3f;
    p.contrast = 1.4f;
    for (int c = 0; c < C; c++) {   // per channel: mean + 1.4 (v - mean) + 0.3, clamped
        double mean = 0.0;
        for (int i = 0; i < H * W; i++) mean += in[c * H * W + i];
        mean /= H * W;
        for (int i = 0; i < H * W; i++) {
            double v = mean + 1.4 * (in[c * H * W + i] - mean) + 0.3;
            want[c * H * W + i] = (float)(v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v);
        }
    }
    clf_augment_apply(out, in, C, H, W, &p);
    CHECK_CLOSE(want, out, C * H * W, 1e-6, 0.0, "augment/brightness and contrast per channel, clamped");
    int clamped = 0;
    for (int i = 0; i < C * H * W; i++) clamped += out[i] == 1.0f;
    CHECK(clamped > 0, "augment/the case reaches the clamp");
    // draws: inside the ranges, reproducible, six uniforms in field order
    clf_augment_ranges r;
    clf_augment_ranges_classic(&r);
    CHECK(r.rotate_deg == 10.0f && r.shift == 0.08f && r.zoom == 0.1f && r.brightness == 0.1f &&
          r.contrast == 0.1f, "augment/classic ranges");
    dcgan_rng g1, g2;
    dcgan_rng_seed(&g1, 5);
    dcgan_rng_seed(&g2, 5);
    int inside = 1;
    for (int t = 0; t < 1000; t++) {
        clf_augment_draw(&p, &r, &g1);
        inside &= fabsf(p.rotate_deg) <= 10.0f && fabsf(p.shift_x) <= 0.08f && fabsf(p.shift_y) <= 0.08f &&
                  p.zoom >= 0.9f && p.zoom <= 1.1f && fabsf(p.brightness) <= 0.1f &&
                  p.contrast >= 0.9f && p.contrast <= 1.1f;
    }
    CHECK(inside, "augment/1000 draws inside the ranges");
    dcgan_rng_seed(&g1, 5);
    clf_augment_draw(&p, &r, &g1);
    float u0 = dcgan_rng_uniform(&g2);
    CHECK(p.rotate_deg == -10.0f + 20.0f * u0, "augment/first draw is the rotation");
    for (int k = 0; k < 5; k++) dcgan_rng_uniform(&g2);
    CHECK(g1.state == g2.state, "augment/a draw takes six uniforms");
}

// --- single-model checkpoints

static int small_model(dcgan_model *m, int width) {
    dcgan_layer_spec s[6] = {dcgan_spec_conv2d(width, 3, 2, 1), dcgan_spec_batchnorm2d(1e-5f, 0.1f),
                             dcgan_spec_leaky_relu(0.2f), dcgan_spec_flatten(), dcgan_spec_dropout(0.3f),
                             dcgan_spec_linear(1)};
    if (dcgan_model_init(m, "cnn", s, 6, 1, 8, 8, 4) != DCGAN_OK) return 1;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, (uint64_t)width);
    dcgan_model_init_weights(m, DCGAN_INIT_PYTORCH, &rng);
    return 0;
}

static void test_model_checkpoint(void) {
    char path[256], gan_path[256], bad_path[256];
    snprintf(path, sizeof path, "/tmp/dcgan_cls_%ld_m.safetensors", (long)getpid());
    snprintf(gan_path, sizeof gan_path, "/tmp/dcgan_cls_%ld_gan.safetensors", (long)getpid());
    snprintf(bad_path, sizeof bad_path, "/tmp/dcgan_cls_%ld_bad.safetensors", (long)getpid());
    dcgan_model a, b, c;
    CHECK(small_model(&a, 4) == 0 && small_model(&b, 4) == 0 && small_model(&c, 5) == 0, "model_save/models");
    // running statistics move with a training forward
    float x[4 * 64];
    fill_random(x, 4 * 64, 8);
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 1);
    dcgan_model_forward(&a, dcgan_tensor_make(x, 4, 1, 8, 8), 1, &rng);
    const char *keys[2] = {"kind", "threshold"}, *vals[2] = {"classifier", "0.25"};
    CHECK(dcgan_model_save(&a, path, keys, vals, 2) == DCGAN_OK, "model_save/ok");
    CHECK(access(path, F_OK) == 0, "model_save/the file is there");
    CHECK(dcgan_model_load(&b, path) == DCGAN_OK, "model_load/ok");
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(float)) == 0 &&
          memcmp(a.buffers, b.buffers, a.n_buffers * sizeof(float)) == 0,
          "model_load/parameters and BatchNorm statistics equal");
    dcgan_model_forward(&a, dcgan_tensor_make(x, 4, 1, 8, 8), 0, NULL);
    dcgan_model_forward(&b, dcgan_tensor_make(x, 4, 1, 8, 8), 0, NULL);
    CHECK_CLOSE(dcgan_model_output(&a).data, dcgan_model_output(&b).data, 4, 0.0, 0.0,
                "model_load/same outputs in eval mode");
    dcgan_safetensors st;
    CHECK(dcgan_safetensors_read(&st, path) == DCGAN_OK &&
          strcmp(dcgan_safetensors_meta(&st, "kind"), "classifier") == 0 &&
          strcmp(dcgan_safetensors_meta(&st, "format"), "dcgan.h model") == 0,
          "model_save/metadata kept");
    dcgan_safetensors_free(&st);
    // a different width: refused by shape, model unchanged
    float *before = (float *)malloc(c.n_params * sizeof(float));
    memcpy(before, c.params, c.n_params * sizeof(float));
    char want[512];
    snprintf(want, sizeof want, "model_load: '%s': tensor 'cnn.0.weight' is F32 [4, 1, 3, 3], "
             "the model needs F32 [5, 1, 3, 3]", path);
    CHECK(dcgan_model_load(&c, path) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
          "model_load/other width: whole message");
    CHECK(memcmp(before, c.params, c.n_params * sizeof(float)) == 0, "model_load/failed load changes nothing");
    // a GAN checkpoint
    const float one = 1.0f;
    dcgan_st_write_tensor t = {"G.main.0.weight", &one, 1, {1}};
    const char *gk[1] = {"format"}, *gv[1] = {"dcgan.h checkpoint"};
    dcgan_safetensors_write(gan_path, &t, 1, gk, gv, 1);
    snprintf(want, sizeof want, "model_load: '%s' is a GAN checkpoint (generator and discriminator), "
             "not a single model", gan_path);
    CHECK(dcgan_model_load(&c, gan_path) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
          "model_load/GAN checkpoint: whole message");
    // one flipped byte in the tensor data
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *bytes = (unsigned char *)malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size, "model_load/read back");
    fclose(f);
    bytes[size - 3] ^= 0x10;
    f = fopen(bad_path, "wb");
    fwrite(bytes, 1, (size_t)size, f);
    fclose(f);
    free(bytes);
    memcpy(before, b.params, b.n_params * sizeof(float));
    snprintf(want, sizeof want, "model_load: '%s': the tensor data does not match its checksum "
             "(the file is damaged)", bad_path);
    CHECK(dcgan_model_load(&b, bad_path) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
          "model_load/damaged: whole message");
    CHECK(memcmp(before, b.params, b.n_params * sizeof(float)) == 0, "model_load/damaged changes nothing");
    // NaN: nothing written
    a.params[3] = NAN;
    remove(path);
    CHECK(dcgan_model_save(&a, path, NULL, NULL, 0) == DCGAN_ERR_NONFINITE && access(path, F_OK) != 0,
          "model_save/NaN: refused, no file");
    free(before);
    remove(gan_path);
    remove(bad_path);
    dcgan_model_free(&a);
    dcgan_model_free(&b);
    dcgan_model_free(&c);
}

static void test_plot_bars(void) {
    enum { W = 300, H = 200 };
    static unsigned char rgb[W * H * 3];
    const float y0[2] = {0.5f, NAN}, y1[2] = {0.9f, 0.2f}, err[4] = {0.1f, 0.0f, 0.05f, 0.02f};
    const char *groups[2] = {"a", "b"};
    dcgan_plot_series s[2] = {{"one", y0, {255, 0, 0}}, {"two", y1, {0, 0, 255}}};
    dcgan_plot_bars(rgb, W, H, "bars", groups, 2, s, 2, err, 0.0f, 1.0f);
    int red = 0, blue = 0;
    for (int i = 0; i < W * H; i++) {
        red += rgb[3 * i] == 255 && rgb[3 * i + 1] == 0 && rgb[3 * i + 2] == 0;
        blue += rgb[3 * i] == 0 && rgb[3 * i + 1] == 0 && rgb[3 * i + 2] == 255;
    }
    // bar heights 0.5 and 0.9 + 0.2 of the plot height for blue; red has one bar (NaN left out)
    CHECK(red > 0 && blue > red, "plot_bars/draws the bars, more blue than red");
}

// The rating statistics against scipy (tests/make_rating_reference.py ->
// tests/data/rating.txt: binomtest p-values and Clopper-Pearson intervals as
// beta quantiles), and Fleiss' kappa against a hand-worked example.
static void test_rating_stats(void) {
    FILE *f = fopen("tests/data/rating.txt", "r");
    int k, n, cases = 0, p_ok = 0, ci_ok = 0;
    double p0, p, lo, hi;
    if (!CHECK(f != NULL, "rating/tests/data/rating.txt exists")) return;
    while (fscanf(f, "%d %d %lf %lf %lf %lf", &k, &n, &p0, &p, &lo, &hi) == 6) {
        double got_p = clf_binomial_test(k, n, p0), got_lo, got_hi;
        clf_clopper_pearson(&got_lo, &got_hi, k, n, 0.95);
        cases++;
        if (fabs(got_p - p) <= 1e-12 + 1e-9 * p) p_ok++;
        else fprintf(stderr, "  binomial_test(%d, %d, %g) = %.17g, scipy %.17g\n", k, n, p0, got_p, p);
        if (fabs(got_lo - lo) <= 1e-10 && fabs(got_hi - hi) <= 1e-10) ci_ok++;
        else fprintf(stderr, "  clopper_pearson(%d, %d) = [%.17g, %.17g], scipy [%.17g, %.17g]\n", k, n, got_lo,
                     got_hi, lo, hi);
    }
    fclose(f);
    CHECK(cases == 13 && p_ok == cases, "rating/binomial_test equals scipy.stats.binomtest on 13 cases (edges, p0 != 0.5)");
    CHECK(cases == 13 && ci_ok == cases, "rating/clopper_pearson equals scipy's beta quantiles to 1e-10 on 13 cases");
    CHECK(isnan(clf_binomial_test(3, 2, 0.5)) && isnan(clf_binomial_test(1, 2, 1.0)),
          "rating/binomial_test: k > n or p0 = 1 give NaN");
    // Fleiss' kappa, worked by hand: 10 items, 14 raters each, 5 classes;
    // mean P_i = 0.37802, sum p_j^2 = 0.21276, kappa = 0.16526 / 0.78724 = 0.20993
    const int counts[50] = {0, 0, 0, 0, 14, 0, 2, 6, 4, 2, 0, 0, 3, 5, 6, 0, 3, 9, 2, 0, 2, 2, 8, 1, 1,
                            7, 7, 0, 0, 0, 3, 2, 6, 3, 0, 2, 5, 3, 2, 2, 6, 5, 2, 1, 0, 0, 2, 2, 3, 7};
    double kappa = 0.0;
    CHECK(clf_fleiss_kappa(&kappa, counts, 10, 5) == DCGAN_OK && fabs(kappa - 0.20993070442195522) < 1e-12,
          "rating/fleiss_kappa of the worked example is 0.20993");
    // perfect agreement on two classes: kappa 1; one class only: undefined
    const int agree[6] = {3, 0, 0, 3, 3, 0}, one[4] = {2, 0, 2, 0}, uneven[4] = {2, 0, 1, 0};
    CHECK(clf_fleiss_kappa(&kappa, agree, 3, 2) == DCGAN_OK && kappa == 1.0, "rating/fleiss_kappa: full agreement is 1");
    CHECK(clf_fleiss_kappa(&kappa, one, 2, 2) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "fleiss_kappa: every rating is in one class: kappa is undefined") == 0,
          "rating/fleiss_kappa: one class only is refused with the reason");
    CHECK(clf_fleiss_kappa(&kappa, uneven, 2, 2) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "fleiss_kappa: item 1 has 1 rating, item 0 has 2; every item needs the "
                                         "same number of raters") == 0,
          "rating/fleiss_kappa: items with different rater counts are refused");
    // an audit's cases: a negative count gave kappa 1 ("perfect agreement"); one rater per
    // item said "item 0 has 1 ratings, item 0 has 1"
    const int negative[6] = {2, -1, 1, 0, 1, 1}, single[4] = {1, 0, 0, 1};
    kappa = 7.0;
    CHECK(clf_fleiss_kappa(&kappa, negative, 2, 3) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "fleiss_kappa: item 0, class 1: -1 ratings; a count cannot be negative") ==
                  0 &&
              kappa == 7.0,
          "rating/fleiss_kappa: a negative count is refused, naming item and class; kappa unchanged");
    CHECK(clf_fleiss_kappa(&kappa, single, 2, 2) == DCGAN_ERR_SHAPE &&
              strcmp(clf_last_error(), "fleiss_kappa: item 0 has 1 rating; kappa needs at least 2 raters per "
                                       "item") == 0,
          "rating/fleiss_kappa: one rater per item: its own message");
}

// NaN scores (a broken model's outputs) and exact ties of Youden's J: an
// audit's cases. A NaN never equals itself, so the tie walks never moved past
// one: clf_roc_auc, clf_threshold_youden and the bootstrap never returned, and
// clf_roc_curve wrote past fpr and tpr.
static void test_nan_and_ties(void) {
    const float s[3] = {0.2f, NAN, 0.7f};
    const int l[3] = {0, 1, 1};
    CHECK(isnan(clf_roc_auc(s, l, 3)), "nan/roc_auc of scores with a NaN is NaN");
    float fpr[4] = {9, 9, 9, 9}, tpr[4] = {9, 9, 9, 9};
    int count = -1;
    CHECK(clf_roc_curve(fpr, tpr, &count, s, l, 3) == DCGAN_ERR_NONFINITE &&
              strcmp(clf_last_error(), "roc_curve: score 1 of 3 is NaN") == 0 && count == -1 && fpr[0] == 9.0f &&
              tpr[3] == 9.0f,
          "nan/roc_curve refuses a NaN score, naming it; outputs unchanged");
    CHECK(isnan(clf_threshold_youden(s, l, 3)), "nan/threshold_youden of scores with a NaN is NaN");
    clf_binary_metrics lo, hi;
    memset(&lo, 0x5a, sizeof lo);
    hi = lo;
    const clf_binary_metrics keep = lo;
    CHECK(clf_binary_metrics_bootstrap(&lo, &hi, s, l, 3, 0.5f, 10, 1, 0.95) == DCGAN_ERR_NONFINITE &&
              strcmp(clf_last_error(), "binary_metrics_bootstrap: score 1 of 3 is NaN") == 0 &&
              memcmp(&lo, &keep, sizeof lo) == 0 && memcmp(&hi, &keep, sizeof hi) == 0,
          "nan/binary_metrics_bootstrap refuses a NaN score; lo and hi unchanged");
    // thresholds 0.4 and 0.2 both give J = 1/6 exactly (tp 1 of 6, fp 0 of 2; tp 5, fp 1), but
    // as doubles 0.16666666666666674 and 0.16666666666666652: the lowest such score is 0.2
    const float t[8] = {0.4f, 0.3f, 0.1f, 0.2f, 0.3f, 0.1f, 0.1f, 0.2f};
    const int tl[8] = {1, 1, 1, 1, 0, 1, 0, 1};
    CHECK(clf_threshold_youden(t, tl, 8) == 0.2f, "youden/an exact tie of J: the lowest score, 0.2");
    // zoom 0 (or a NaN parameter) made the source point NaN, which passed the clamps and
    // read far outside the image; now every source point is clamped into it
    float in[2 * 3 * 3], out[2 * 3 * 3];
    for (int i = 0; i < 18; i++) in[i] = 0.1f * (float)i - 0.8f;
    clf_augment_params p;
    clf_augment_identity(&p);
    p.zoom = 0.0f;
    clf_augment_apply(out, in, 2, 3, 3, &p);
    int corner = 1;
    for (int i = 0; i < 18; i++) corner &= out[i] == in[i < 9 ? 0 : 9];
    clf_augment_identity(&p);
    p.rotate_deg = NAN;
    clf_augment_apply(out, in, 2, 3, 3, &p);
    for (int i = 0; i < 18; i++) corner &= out[i] == in[i < 9 ? 0 : 9];
    CHECK(corner, "augment/zoom 0 or a NaN rotation: every pixel from the clamped point (0, 0), inside the image");
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"auc", test_auc},
        {"roc_curve", test_roc_curve},
        {"youden", test_youden},
        {"nan_and_ties", test_nan_and_ties},
        {"metrics_hand", test_metrics_hand},
        {"bootstrap", test_bootstrap},
        {"bootstrap_patients", test_bootstrap_patients},
        {"patient_id", test_patient_id},
        {"split", test_split},
        {"augment_geometry", test_augment_geometry},
        {"augment_intensity", test_augment_intensity},
        {"model_checkpoint", test_model_checkpoint},
        {"rating_stats", test_rating_stats},
        {"plot_bars", test_plot_bars},
    };
    return check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
}
