// test_core.c - status and errors, the random stream, binary cross-entropy and
// Adam, against tests/data/loss_adam.bin (written by tests/make_reference.py).
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// POSIX setenv and unsetenv; -std=c99 headers do not declare them (as in test_fid.c)
extern int setenv(const char *name, const char *value, int overwrite);
extern int unsetenv(const char *name);

static fixture fx;

static float *fdata(const char *name) {
    fixture_array *a = fixture_get(&fx, name);
    return a ? a->data : NULL;
}

// ---------------------------------------------------------------------------
// Status and errors

static void test_status(void) {
    CHECK(strcmp(dcgan_status_name(DCGAN_OK), "DCGAN_OK") == 0, "status_name/ok");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_NOMEM), "DCGAN_ERR_NOMEM") == 0, "status_name/nomem");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_IO), "DCGAN_ERR_IO") == 0, "status_name/io");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_FORMAT), "DCGAN_ERR_FORMAT") == 0, "status_name/format");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_NONFINITE), "DCGAN_ERR_NONFINITE") == 0,
          "status_name/nonfinite");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_CUDA), "DCGAN_ERR_CUDA") == 0, "status_name/cuda");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_UNSUPPORTED), "DCGAN_ERR_UNSUPPORTED") == 0, "status_name/unsupported");
}

// A size that overflows size_t is refused with DCGAN_ERR_NOMEM, not wrapped around.
static void test_alloc_overflow(void) {
    dcgan_model m;
    dcgan_layer_spec spec[] = {dcgan_spec_linear(1 << 30), dcgan_spec_linear(1 << 30)};
    dcgan_status st = dcgan_model_init(&m, "main", spec, 2, 1 << 20, 1 << 10, 1 << 10, 1 << 20);
    CHECK(st == DCGAN_ERR_NOMEM, "model_init/absurd size gives DCGAN_ERR_NOMEM");
    CHECK(strstr(dcgan_last_error(), "model_init") != NULL, "model_init/message names function");
    CHECK(m.params == NULL && m.layers == NULL && m.n_layers == 0, "model_init/struct zeroed on failure");
    dcgan_model_free(&m);  // free on a zeroed struct does nothing
    dcgan_model_free(&m);
    CHECK(m.params == NULL && m.layers == NULL && m.n_layers == 0 && m.n_params == 0,
          "model_free/on a zeroed struct (twice) it leaves it zeroed");
}

// ---------------------------------------------------------------------------
// Random numbers: the documented stream, written again in Python

static void test_rng_reference_vector(void) {
    // pcg32_srandom_r(42, 54): the first outputs printed by the PCG reference demo
    const uint32_t expect[6] = {0xa15c02b7u, 0x7b47f409u, 0xba1d3330u,
                                0x83d2f293u, 0xbfa4784bu, 0xcbed606eu};
    dcgan_rng rng;
    int ok = 1;
    dcgan_rng_seed_stream(&rng, 42, 54);
    for (int i = 0; i < 6; i++) ok &= dcgan_rng_u32(&rng) == expect[i];
    CHECK(ok, "rng_u32/matches the pcg32 reference demo");
}

static void test_rng_advance(void) {
    // advance(k) lands where k calls of u32 land, for k across bit patterns
    const uint64_t deltas[] = {0, 1, 2, 3, 7, 64, 1000, 65537, 1234567};
    int ok = 1;
    for (size_t t = 0; t < sizeof deltas / sizeof deltas[0]; t++) {
        dcgan_rng a, b;
        dcgan_rng_seed_stream(&a, 42 + t, 54);
        b = a;
        for (uint64_t k = 0; k < deltas[t]; k++) dcgan_rng_u32(&a);
        dcgan_rng_advance(&b, deltas[t]);
        ok &= a.state == b.state && dcgan_rng_u32(&a) == dcgan_rng_u32(&b);
    }
    CHECK(ok, "rng_advance/equals that many u32 calls");
    // 2^64 steps is the full period: back to the start
    dcgan_rng c, d;
    dcgan_rng_seed(&c, 9);
    d = c;
    dcgan_rng_advance(&d, (uint64_t)1 << 63);
    dcgan_rng_advance(&d, (uint64_t)1 << 63);
    CHECK(c.state == d.state, "rng_advance/2^64 steps is the whole period");
    dcgan_rng_advance(&d, (uint64_t)1 << 63);
    CHECK(c.state != d.state, "rng_advance/2^63 steps is not");
}

static void test_rng_python(void) {
    dcgan_rng rng;
    const float *halves = fdata("rng.u32_halves");
    float uni[16], nor[17];
    int ok = 1;
    if (!CHECK(halves != NULL, "rng/fixture present")) return;
    dcgan_rng_seed(&rng, 7);
    for (int i = 0; i < 8; i++) {
        uint32_t v = dcgan_rng_u32(&rng);
        ok &= (float)(v >> 16) == halves[i] && (float)(v & 0xFFFF) == halves[8 + i];
    }
    CHECK(ok, "rng_u32/matches the Python twin");
    for (int i = 0; i < 16; i++) uni[i] = dcgan_rng_uniform(&rng);
    for (int i = 0; i < 17; i++) nor[i] = dcgan_rng_normal(&rng);
    CHECK_CLOSE(fdata("rng.uniform"), uni, 16, 0.0, 0.0, "rng_uniform/exact");
    CHECK_CLOSE(fdata("rng.normal"), nor, 17, 1e-6, 1e-6, "rng_normal/matches Python");
}

static void test_rng_moments(void) {
    dcgan_rng rng;
    double s = 0, sq = 0, u = 0;
    float lo = 1, hi = 0;
    const int n = 200000;
    dcgan_rng_seed(&rng, 3);
    for (int i = 0; i < n; i++) {
        double x = dcgan_rng_normal(&rng);
        float v = dcgan_rng_uniform(&rng);
        s += x;
        sq += x * x;
        u += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    CHECK(fabs(s / n) < 0.01 && fabs(sq / n - 1.0) < 0.015, "rng_normal/mean 0, variance 1");
    CHECK(fabs(u / n - 0.5) < 0.005 && lo >= 0.0f && hi < 1.0f, "rng_uniform/in [0,1), mean 0.5");
    dcgan_rng a, b;
    dcgan_rng_seed(&a, 99);
    dcgan_rng_seed(&b, 99);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= dcgan_rng_normal(&a) == dcgan_rng_normal(&b);
    CHECK(same, "rng_seed/same seed, same stream");
    dcgan_rng_seed(&b, 100);
    CHECK(dcgan_rng_u32(&a) != dcgan_rng_u32(&b), "rng_seed/other seed, other stream");
}

// ---------------------------------------------------------------------------
// Loss: binary cross-entropy on logits

static void test_bce_golden(void) {
    fixture_array *lg = fixture_get(&fx, "bce.logits");
    if (!CHECK(lg != NULL, "bce/fixture present")) return;
    size_t n = lg->count;
    float loss = -1.0f, *dl = (float *)calloc(n, sizeof(float));
    CHECK(dcgan_bce_with_logits(&loss, dl, lg->data, fdata("bce.targets"), n) == DCGAN_OK,
          "bce_with_logits/status with logits of +-100");
    CHECK_CLOSE(fdata("bce.loss"), &loss, 1, 1e-6, 1e-6, "bce_with_logits/loss");
    CHECK_CLOSE(fdata("bce.dlogits"), dl, n, 1e-7, 1e-5, "bce_with_logits/dlogits");
    float acc = dcgan_binary_accuracy(lg->data, fdata("bce.targets"), n);
    CHECK_CLOSE(fdata("bce.acc"), &acc, 1, 1e-6, 0, "binary_accuracy/vs torch");
    free(dl);
}

static void test_bce_errors(void) {
    float x[2] = {1.0f, INFINITY}, y[2] = {1.0f, 0.0f}, loss = 42.0f, dl[2] = {7, 7};
    CHECK(dcgan_bce_with_logits(&loss, dl, x, y, 2) == DCGAN_ERR_NONFINITE,
          "bce_with_logits/inf logit wrong side gives NONFINITE");
    CHECK(loss == 42.0f && dl[0] == 7.0f, "bce_with_logits/outputs untouched on error");
    CHECK(dcgan_bce_with_logits(&loss, dl, x, y, 0) == DCGAN_ERR_SHAPE, "bce_with_logits/n = 0");
}

// ---------------------------------------------------------------------------
// Optimizer: Adam

static void adam_case(dcgan_adam_mode mode, const char *w_key, const char *m_key,
                      const char *v_key, const char *label) {
    fixture_array *w0 = fixture_get(&fx, "adam.w0");
    if (!CHECK(w0 != NULL, "adam/fixture present")) return;
    size_t n = w0->count;
    float *w = (float *)malloc(n * sizeof(float)), *m = (float *)calloc(n, sizeof(float));
    float *v = (float *)calloc(n, sizeof(float));
    dcgan_adam opt;
    char key[32], lab[96];
    memcpy(w, w0->data, n * sizeof(float));
    dcgan_adam_init(&opt, mode, 1e-3, 0.5, 0.999);
    for (int t = 0; t < 5; t++) {
        snprintf(key, sizeof key, "adam.g%d", t);
        CHECK(dcgan_adam_step(&opt, w, fdata(key), m, v, n) == DCGAN_OK, "adam_step/status");
    }
    CHECK(opt.step == 5, "adam_step/counts steps");
    snprintf(lab, sizeof lab, "adam_step/%s params after 5 steps", label);
    CHECK_CLOSE(fdata(w_key), w, n, 1e-6, 1e-6, lab);
    snprintf(lab, sizeof lab, "adam_step/%s first moment", label);
    CHECK_CLOSE(fdata(m_key), m, n, 1e-6, 1e-6, lab);
    snprintf(lab, sizeof lab, "adam_step/%s second moment", label);
    CHECK_CLOSE(fdata(v_key), v, n, 1e-6, 1e-6, lab);
    free(w); free(m); free(v);
}

static void test_adam_golden(void) {
    adam_case(DCGAN_ADAM_PYTORCH, "adam.torch_w", "adam.torch_m", "adam.torch_v", "pytorch");
    adam_case(DCGAN_ADAM_KERAS, "adam.keras_w", "adam.keras_m", "adam.keras_v", "keras");
}

// Gradients near eps (5e-10 to 3e-7), where only the place of eps matters:
// PyTorch's sqrt(v_hat) + 1e-8 against Keras' sqrt(v) + 1e-7, after 4 steps,
// against torch.optim.Adam and the Keras formula (tests/make_adam_eps.py).
static void test_adam_near_eps(void) {
    FILE *f = fopen("tests/data/adam_eps.txt", "r");
    float rows[7][6];
    char name[16];
    int got = 0;
    while (f && got < 7 && fscanf(f, "%15s", name) == 1) {
        for (int i = 0; i < 6; i++)
            if (fscanf(f, "%f", &rows[got][i]) != 1) break;
        got++;
    }
    if (f) fclose(f);
    if (!CHECK(got == 7, "adam near eps/tests/data/adam_eps.txt reads")) return;
    const dcgan_adam_mode modes[2] = {DCGAN_ADAM_PYTORCH, DCGAN_ADAM_KERAS};
    const char *labels[2] = {"adam near eps/pytorch: 4 steps equal torch.optim.Adam",
                             "adam near eps/keras: 4 steps equal the Keras formula"};
    for (int k = 0; k < 2; k++) {
        float w[6], m[6] = {0}, v[6] = {0};
        dcgan_adam opt;
        memcpy(w, rows[0], sizeof w);
        dcgan_adam_init(&opt, modes[k], 1e-3, 0.5, 0.999);
        for (int t = 0; t < 4; t++) dcgan_adam_step(&opt, w, rows[1 + t], m, v, 6);
        CHECK_CLOSE(rows[5 + k], w, 6, 1e-8, 1e-5, labels[k]);
    }
}

static void test_adam_nonfinite(void) {
    float w[4] = {1, 2, 3, 4}, g[4] = {0.1f, 0.2f, 0.3f, 0.4f}, m[4] = {0}, v[4] = {0};
    dcgan_adam opt;
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, 0.1, 0.5, 0.999);
    dcgan_adam_step(&opt, w, g, m, v, 4);
    float w1[4], m1[4], v1[4];
    memcpy(w1, w, sizeof w);
    memcpy(m1, m, sizeof m);
    memcpy(v1, v, sizeof v);
    g[2] = NAN;
    CHECK(dcgan_adam_step(&opt, w, g, m, v, 4) == DCGAN_ERR_NONFINITE, "adam_step/NaN refused");
    CHECK(strstr(dcgan_last_error(), "gradient 2") != NULL, "adam_step/message names the index");
    CHECK(memcmp(w, w1, sizeof w) == 0 && memcmp(m, m1, sizeof m) == 0 &&
          memcmp(v, v1, sizeof v) == 0 && opt.step == 1,
          "adam_step/params, moments, step unchanged after NaN");
    g[2] = -INFINITY;
    CHECK(dcgan_adam_step(&opt, w, g, m, v, 4) == DCGAN_ERR_NONFINITE, "adam_step/Inf refused");
    CHECK(memcmp(w, w1, sizeof w) == 0, "adam_step/params unchanged after Inf");
    // a finite gradient whose square overflows float: v went Inf, the step was taken, and
    // the next checkpoint could not be saved (an audit); 1e19 itself is taken, v finite
    g[2] = -2e19f;
    CHECK(dcgan_adam_step(&opt, w, g, m, v, 4) == DCGAN_ERR_NONFINITE &&
              strcmp(dcgan_last_error(), "adam_step: gradient 2 of 4 is -2e+19 (1 are not finite or above 1e19, "
                                         "where Adam's v overflows); step 2 refused, nothing changed") == 0 &&
              memcmp(w, w1, sizeof w) == 0 && memcmp(v, v1, sizeof v) == 0 && opt.step == 1,
          "adam_step/a gradient of -2e19 is refused, the whole message, nothing changed");
    g[2] = 1e19f;
    CHECK(dcgan_adam_step(&opt, w, g, m, v, 4) == DCGAN_OK && isfinite(v[2]) && isfinite(w[2]) && opt.step == 2,
          "adam_step/a gradient of 1e19 is taken and v stays finite");
}

// The state of a parameter vector after a few Adam steps: parameters, moments,
// gradients of mixed sizes (some near eps, some zero, some large).
static void adam_state(float *w, float *g, float *m, float *v, size_t n, uint64_t seed) {
    dcgan_rng r;
    dcgan_rng_seed(&r, seed);
    dcgan_rng_fill_uniform(&r, w, n, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&r, g, n, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&r, m, n, -0.1f, 0.1f);
    dcgan_rng_fill_uniform(&r, v, n, 0.0f, 0.01f);
    const float scale[5] = {1.0f, 1e-3f, 3e-8f, 0.0f, 50.0f};
    for (size_t i = 0; i < n; i++) {
        g[i] *= scale[i % 5];
        if (i % 7 == 0) m[i] = v[i] = 0.0f;   // a first step
    }
}

// The Adam update of this CPU (dcgan__pick_adam: 8 entries at a time where
// the CPU has AVX2) against the loop, bit for bit: both formulas, a range
// that starts off the vector grid and ends in a tail; and dcgan_adam_step,
// which cuts [0, n) into 16 parts on the threads, against the loop over all.
static void test_adam_vector(void) {
    const size_t n = 70003;   // past the threading cut (65,536); 16 parts of 4,375 and a tail
    float *w = (float *)malloc(4 * n * sizeof(float)), *g = w + n, *m = g + n, *v = m + n;
    float *w2 = (float *)malloc(3 * n * sizeof(float)), *m2 = w2 + n, *v2 = m2 + n;
    if (!CHECK(w && w2, "adam vector/memory")) { free(w); free(w2); return; }
    const dcgan_adam_mode modes[2] = {DCGAN_ADAM_PYTORCH, DCGAN_ADAM_KERAS};
    const char *names[2] = {"pytorch", "keras"};
    const dcgan__adam_fn fast = dcgan__pick_adam();
    char label[128];
    for (int k = 0; k < 2; k++) {
        // dcgan_adam_step (step 3) against the loop with the constants it uses
        dcgan_adam opt;
        dcgan_adam_init(&opt, modes[k], 2e-4, 0.5, 0.999);
        opt.step = 2;
        adam_state(w, g, m, v, n, 11 + (uint64_t)k);
        memcpy(w2, w, n * sizeof(float)), memcpy(m2, m, n * sizeof(float)), memcpy(v2, v, n * sizeof(float));
        dcgan__adam_consts c;
        const double bc1 = 1.0 - pow(0.5, 3.0), bc2 = 1.0 - pow(0.999, 3.0);
        c.keras = k == 1, c.b1 = 0.5f, c.b2 = 0.999f, c.eps = (float)opt.eps;
        c.one_minus_b1 = 0.5f, c.one_minus_b2 = (float)(1.0 - 0.999);
        c.lr_t = (float)(2e-4 * sqrt(bc2) / bc1), c.step_size = (float)(2e-4 / bc1), c.sqrt_bc2 = (float)sqrt(bc2);
        dcgan__adam_range(&c, w2, g, m2, v2, 0, n);
        CHECK(dcgan_adam_step(&opt, w, g, m, v, n) == DCGAN_OK && opt.step == 3, "adam vector/adam_step status");
        snprintf(label, sizeof label, "adam vector/%s: adam_step over 16 parts = the loop over all, bit for bit",
                 names[k]);
        CHECK(memcmp(w, w2, n * sizeof(float)) == 0 && memcmp(m, m2, n * sizeof(float)) == 0 &&
              memcmp(v, v2, n * sizeof(float)) == 0, label);
        if (fast == dcgan__adam_range) continue;
        // the vector update on [5, n - 2) against the loop on the same range
        adam_state(w, g, m, v, n, 21 + (uint64_t)k);
        memcpy(w2, w, n * sizeof(float)), memcpy(m2, m, n * sizeof(float)), memcpy(v2, v, n * sizeof(float));
        fast(&c, w, g, m, v, 5, n - 2);
        dcgan__adam_range(&c, w2, g, m2, v2, 5, n - 2);
        snprintf(label, sizeof label, "adam vector/%s: 8 at a time = the loop, bit for bit", names[k]);
        CHECK(memcmp(w, w2, n * sizeof(float)) == 0 && memcmp(m, m2, n * sizeof(float)) == 0 &&
              memcmp(v, v2, n * sizeof(float)) == 0, label);
    }
    if (fast == dcgan__adam_range)
        printf("test_core: skipped: vector Adam (no AVX2 in this build or on this CPU)\n");
    free(w);
    free(w2);
}

// dcgan_vec_zero / _copy / _add / _ema against the loops they stand for, on a length
// past the threading cut (65,536), with dst == src for copy.
static void test_vec(void) {
    const size_t n = 70001;
    float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
    int ok = a && b;
    for (size_t i = 0; ok && i < n; i++) {
        a[i] = (float)i * 0.5f;
        b[i] = 3.0f - (float)(i % 7);
    }
    ok = ok && dcgan_vec_add(a, b, n) == DCGAN_OK;
    for (size_t i = 0; ok && i < n; i++) ok = a[i] == (float)i * 0.5f + (3.0f - (float)(i % 7));
    CHECK(ok, "vec_add/a += b over 70,001 floats");
    ok = ok && dcgan_vec_copy(a, b, n) == DCGAN_OK && memcmp(a, b, n * sizeof(float)) == 0 &&
         dcgan_vec_copy(a, a, n) == DCGAN_OK && memcmp(a, b, n * sizeof(float)) == 0;
    CHECK(ok, "vec_copy/a = b, and a = a leaves it");
    ok = ok && dcgan_vec_zero(a, n - 1) == DCGAN_OK;
    for (size_t i = 0; ok && i + 1 < n; i++) ok = a[i] == 0.0f;
    CHECK(ok && a[n - 1] == b[n - 1], "vec_zero/the first n floats and no more");
    // the averaged G's update: avg = x + (avg - x) * beta, in float; beta 0 gives x, 1 keeps avg
    for (size_t i = 0; ok && i < n; i++) a[i] = 1.0f + (float)(i % 5);
    ok = ok && dcgan_vec_ema(a, b, n, 0.25f) == DCGAN_OK;
    for (size_t i = 0; ok && i < n; i++) ok = a[i] == b[i] + (1.0f + (float)(i % 5) - b[i]) * 0.25f;
    CHECK(ok, "vec_ema/avg = x + (avg - x) * 0.25 over 70,001 floats");
    ok = ok && dcgan_vec_ema(a, b, n, 0.0f) == DCGAN_OK && memcmp(a, b, n * sizeof(float)) == 0;
    CHECK(ok, "vec_ema/beta 0: the average becomes x");
    free(a);
    free(b);
}

// dcgan_set_threads(0) reads $DCGAN_THREADS, else $OMP_NUM_THREADS (its first number),
// else all cores, each at most DCGAN_MAX_THREADS: atoi wrapped 4294967297 to 1 and took
// 2147483648 as nothing, and 100000 crashed inside OpenMP. Setting a count starts no
// thread (the next parallel region would), so 4096 is only asked for, never made here.
static void test_set_threads(void) {
#ifndef _OPENMP
    printf("test_core: skipped: dcgan_set_threads (built without OpenMP: one thread)\n");
#else
    const char *names[2] = {"DCGAN_THREADS", "OMP_NUM_THREADS"};
    char saved[2][256];   // ("" for unset; a longer value is not restored whole: tests set none)
    for (int k = 0; k < 2; k++) snprintf(saved[k], sizeof saved[k], "%s", getenv(names[k]) ? getenv(names[k]) : "");
    const int cores = omp_get_num_procs();
    const struct {
        const char *dcgan, *omp;   // NULL: unset
        int want;                  // -1: all cores
    } cases[] = {
        {"3", "5", 3}, {NULL, "5", 5}, {"x", "5,2", 5}, {"-2", NULL, -1}, {"0", "0", -1}, {NULL, NULL, -1},
        {"100000", NULL, DCGAN_MAX_THREADS}, {"4294967297", "5", DCGAN_MAX_THREADS},
        {"2147483648", "5", DCGAN_MAX_THREADS}, {NULL, "99999999999999999999", DCGAN_MAX_THREADS},
        {NULL, "-99999999999999999999", -1}, {"4096", NULL, 4096}, {"4097", NULL, DCGAN_MAX_THREADS},
    };
    int ok = 1;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *value[2] = {cases[c].dcgan, cases[c].omp};
        for (int k = 0; k < 2; k++) {
            if (value[k]) setenv(names[k], value[k], 1);
            else unsetenv(names[k]);
        }
        const int got = dcgan_set_threads(0), want = cases[c].want < 0 ? cores : cases[c].want;
        if (got != want || omp_get_max_threads() != want) {
            printf("  DCGAN_THREADS=%s OMP_NUM_THREADS=%s: %d threads, want %d\n", value[0] ? value[0] : "(unset)",
                   value[1] ? value[1] : "(unset)", got, want);
            ok = 0;
        }
    }
    CHECK(ok, "set_threads/$DCGAN_THREADS, else $OMP_NUM_THREADS, else all cores; at most 4096");
    CHECK(dcgan_set_threads(100000) == DCGAN_MAX_THREADS && omp_get_max_threads() == DCGAN_MAX_THREADS,
          "set_threads/100000 asked for: 4096");
    for (int k = 0; k < 2; k++) {
        if (saved[k][0]) setenv(names[k], saved[k], 1);
        else unsetenv(names[k]);
    }
    dcgan_set_threads(0);
#endif
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"status", test_status},
        {"set_threads", test_set_threads},
        {"alloc_overflow", test_alloc_overflow},
        {"rng_reference_vector", test_rng_reference_vector},
        {"rng_advance", test_rng_advance},
        {"rng_python", test_rng_python},
        {"rng_moments", test_rng_moments},
        {"bce_golden", test_bce_golden},
        {"bce_errors", test_bce_errors},
        {"adam_golden", test_adam_golden},
        {"adam_near_eps", test_adam_near_eps},
        {"adam_nonfinite", test_adam_nonfinite},
        {"adam_vector", test_adam_vector},
        {"vec", test_vec},
    };
    if (!fixture_load(&fx, "tests/data/loss_adam.bin")) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    fixture_free(&fx);
    return rc;
}
