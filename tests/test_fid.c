// test_fid.c - Inception-V3 features against the same network in PyTorch
// (tests/data/fid.bin, made by tests/make_fid_reference.py with every weight
// filled deterministically on both sides), and the weight loader's key checks.
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"
#include <unistd.h>

// POSIX setenv and unsetenv; -std=c99 headers do not declare them
extern int setenv(const char *name, const char *value, int overwrite);
extern int unsetenv(const char *name);

static fixture fx, fm;
static dcgan_inception net;
static int have_net;

static void test_features_vs_torch(void) {
    const int dims[4] = {64, 192, 768, 2048};
    const char *imgs[2] = {"img_a", "img_b"};
    if (!CHECK(have_net, "inception_init/status")) return;
    CHECK(net.n_convs == 94, "inception_init/94 BasicConv2d layers");
    CHECK(dcgan_inception_fill_deterministic(&net) == DCGAN_OK, "inception_fill_deterministic/status");
    for (int k = 0; k < 2; k++) {
        fixture_array *img = fixture_get(&fx, imgs[k]);
        if (!CHECK(img != NULL, "inception/fixture present")) continue;
        for (int d = 0; d < 4; d++) {
            char key[32], label[80];
            double feat[2048];
            float got[2048];
            snprintf(key, sizeof key, "feat_%c.%d", 'a' + k, dims[d]);
            snprintf(label, sizeof label, "inception_features/%s dims %d vs torch", imgs[k], dims[d]);
            fixture_array *want = fixture_get(&fx, key);
            if (!CHECK(want != NULL && want->count == (size_t)dims[d], label)) continue;
            CHECK(dcgan_inception_features(&net, feat, img->data, 1, img->dims[2], img->dims[3],
                                           dims[d]) == DCGAN_OK, label);
            double big = 0;
            for (int i = 0; i < dims[d]; i++) {
                got[i] = (float)feat[i];
                if (fabs(want->data[i]) > big) big = fabs(want->data[i]);
            }
            // 1e-4 relative to the largest feature
            CHECK_CLOSE(want->data, got, dims[d], 1e-4 * big, 1e-4, label);
        }
    }
    double f[64];
    CHECK(dcgan_inception_features(&net, f, fixture_get(&fx, "img_a")->data, 1, 37, 53, 100) ==
          DCGAN_ERR_SHAPE, "inception_features/dims 100 refused");
}

// Several images of different sizes in one call, in passes of 3 (so 3 + 1):
// each image's features equal those it gets alone, bit for bit (the batch only
// widens the matrix products, whose sums run in the same order), and match torch.
static void test_features_batched(void) {
    if (!CHECK(have_net, "inception_init/status")) return;
    fixture_array *a = fixture_get(&fx, "img_a"), *b = fixture_get(&fx, "img_b");
    fixture_array *want_a = fixture_get(&fx, "feat_a.2048"), *want_b = fixture_get(&fx, "feat_b.2048");
    if (!CHECK(a && b && want_a && want_b, "inception_features_list/fixtures present")) return;
    static double alone[2][2048], got[4][2048];
    const float *images[4] = {a->data, b->data, a->data, b->data};
    const int hs[4] = {a->dims[2], b->dims[2], a->dims[2], b->dims[2]};
    const int ws[4] = {a->dims[3], b->dims[3], a->dims[3], b->dims[3]};
    const int batch = net.batch;
    dcgan_inception_fill_deterministic(&net);
    CHECK(dcgan_inception_features_list(&net, alone[0], images, hs, ws, 1, 2048) == DCGAN_OK &&
          dcgan_inception_features_list(&net, alone[1], images + 1, hs + 1, ws + 1, 1, 2048) == DCGAN_OK,
          "inception_features_list/one image/status");
    net.batch = 3;   // may be lowered after init (the scratch is sized for the larger batch)
    CHECK(dcgan_inception_features_list(&net, got[0], images, hs, ws, 4, 2048) == DCGAN_OK,
          "inception_features_list/4 images of 2 sizes in passes of 3/status");
    // never to 0 (the passes did not advance: a helper's audit), nor above what the scratch holds
    net.batch = 0;
    CHECK(dcgan_inception_features_list(&net, got[0], images, hs, ws, 4, 2048) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "inception_features_list: net->batch is 0; it may be lowered after init "
                                         "to 1 at least, and its scratch holds 8") == 0,
          "inception_features_list/batch 0 is refused (it looped for ever)");
    net.batch = batch + 1;
    CHECK(dcgan_inception_features_list(&net, got[0], images, hs, ws, 4, 2048) == DCGAN_ERR_SHAPE,
          "inception_features_list/a batch above the scratch's is refused");
    net.batch = batch;
    for (int i = 0; i < 4; i++) {
        char label[96];
        snprintf(label, sizeof label, "inception_features_list/image %d in a batch = alone, exactly", i);
        CHECK(memcmp(got[i], alone[i % 2], sizeof got[i]) == 0, label);
        const fixture_array *want = i % 2 ? want_b : want_a;
        float f[2048];
        double big = 0;
        for (int k = 0; k < 2048; k++) {
            f[k] = (float)got[i][k];
            if (fabs(want->data[k]) > big) big = fabs(want->data[k]);
        }
        snprintf(label, sizeof label, "inception_features_list/image %d in a batch vs torch", i);
        CHECK_CLOSE(want->data, f, 2048, 1e-4 * big, 1e-4, label);
    }
    int h0 = 0;
    CHECK(dcgan_inception_features_list(&net, got[0], images, &h0, ws, 1, 2048) == DCGAN_ERR_SHAPE,
          "inception_features_list/height 0 refused");
    // the thread count does not change features (OpenMP builds; others have one thread)
    if (dcgan_set_threads(3) == 3) {
        CHECK(dcgan_inception_features_list(&net, got[0], images, hs, ws, 2, 2048) == DCGAN_OK &&
                  memcmp(got[0], alone[0], sizeof got[0]) == 0 && memcmp(got[1], alone[1], sizeof got[1]) == 0,
              "inception_features_list/3 threads give the features of 2, exactly");
        dcgan_set_threads(0);
    }
}

// The pooling fast path against its reference loop, bit for bit, on odd and
// tiny planes (3x3 up to 36x17), every kind, with -0, inf and equal values in.
static void test_pool_fast_vs_ref(void) {
    static const dcgan__pool_kind kinds[3] = {DCGAN__POOL_MAX_S2, DCGAN__POOL_MAX_S1, DCGAN__POOL_AVG_S1};
    // (planes of 1 or 2 pixels a side too: there a stride-2 window never fits, and the
    // fast path once read a row past the plane)
    static const int sizes[][2] = {{3, 3}, {3, 4}, {4, 3}, {5, 5}, {7, 6}, {8, 8}, {17, 17}, {36, 17}, {9, 35},
                                   {2, 5}, {5, 2}, {2, 2}, {1, 4}, {4, 1}};
    const int P = 3;
    float x[3 * 36 * 35], want[3 * 36 * 35], got[3 * 36 * 35];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 99);
    int bad = 0, cases = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int k = 0; k < 3; k++) {
            const int H = sizes[s][0], W = sizes[s][1];
            for (int i = 0; i < P * H * W; i++) {
                float u = dcgan_rng_uniform(&rng);
                x[i] = u < 0.05f ? INFINITY : u < 0.1f ? -0.0f : u < 0.3f ? 0.5f : 4.0f * u - 2.0f;
            }
            int oh1, ow1, oh2, ow2;
            dcgan__inc_pool_ref(want, x, P, H, W, kinds[k], &oh1, &ow1);
            dcgan__inc_pool(got, x, P, H, W, kinds[k], &oh2, &ow2);
            cases++;
            if (oh1 != oh2 || ow1 != ow2 || memcmp(want, got, (size_t)P * oh1 * ow1 * sizeof(float)) != 0) {
                bad++;
                fprintf(stderr, "pool kind %d on %dx%d differs from the reference\n", k, H, W);
            }
        }
    CHECK(cases == 42 && bad == 0, "inception pool/fast path = reference loop, bit for bit, 42 shapes x kinds");
    {   // output sides as PyTorch's max_pool2d(3, 2) and avg_pool2d(3, 1, 1) give them:
        // floor((n + 2p - 3) / s) + 1, none where the stride-2 window does not fit
        int oh = -1, ow = -1, oh2 = -1, ow2 = -1, oh3 = -1, ow3 = -1;
        dcgan__inc_pool(got, x, 1, 2, 5, DCGAN__POOL_MAX_S2, &oh, &ow);
        dcgan__inc_pool(got, x, 1, 4, 3, DCGAN__POOL_MAX_S2, &oh2, &ow2);
        dcgan__inc_pool(got, x, 1, 2, 1, DCGAN__POOL_AVG_S1, &oh3, &ow3);
        CHECK(oh == 0 && ow == 2 && oh2 == 1 && ow2 == 1 && oh3 == 2 && ow3 == 1,
              "inception pool/output sides 2x5 -> 0x2, 4x3 -> 1x1 (stride 2), 2x1 -> 2x1 (stride 1)");
    }
    // windows whose every tap is -0 (never drawn above): the average sums from
    // 0.0f, so it is +0 everywhere, as in the reference and PyTorch's
    // avg_pool2d; the maximum keeps the first tap, -0 (v > m never holds between zeros)
    {
        float z[3 * 9 * 9], zw[3 * 9 * 9], zg[3 * 9 * 9];
        int zbad = 0;
        for (int i = 0; i < 3 * 9 * 9; i++) z[i] = -0.0f;
        for (int k = 0; k < 3; k++) {
            int oh1, ow1, oh2, ow2;
            dcgan__inc_pool_ref(zw, z, 3, 9, 9, kinds[k], &oh1, &ow1);
            dcgan__inc_pool(zg, z, 3, 9, 9, kinds[k], &oh2, &ow2);
            for (int i = 0; i < 3 * oh1 * ow1; i++) {
                const int want_neg = kinds[k] != DCGAN__POOL_AVG_S1;
                if (zg[i] != 0.0f || !signbit(zg[i]) != !want_neg || memcmp(&zg[i], &zw[i], sizeof(float)) != 0)
                    zbad++;
            }
        }
        CHECK(zbad == 0, "inception pool/all -0 planes: average +0, maximum -0, as the reference, every pixel");
    }
    // the reference itself, by hand on the 3x3 plane 1..9: the average counts
    // only the taps inside (avg_pool2d(count_include_pad=False)): a corner
    // averages 4 taps, an edge 6
    const float plane[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float avg[9], mx[9], m2[1];
    int oh, ow;
    dcgan__inc_pool_ref(avg, plane, 1, 3, 3, DCGAN__POOL_AVG_S1, &oh, &ow);
    const float want_avg[9] = {3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f};
    CHECK(oh == 3 && ow == 3 && memcmp(avg, want_avg, sizeof avg) == 0,
          "inception pool/3x3 average over the taps inside: 3, 3.5, 4 / 4.5, 5, 5.5 / 6, 6.5, 7");
    dcgan__inc_pool_ref(mx, plane, 1, 3, 3, DCGAN__POOL_MAX_S1, &oh, &ow);
    const float want_max[9] = {5, 6, 6, 8, 9, 9, 8, 9, 9};
    CHECK(oh == 3 && ow == 3 && memcmp(mx, want_max, sizeof mx) == 0,
          "inception pool/3x3 max, stride 1, padding 1: 5, 6, 6 / 8, 9, 9 / 8, 9, 9");
    dcgan__inc_pool_ref(m2, plane, 1, 3, 3, DCGAN__POOL_MAX_S2, &oh, &ow);
    CHECK(oh == 1 && ow == 1 && m2[0] == 9.0f, "inception pool/3x3 max, stride 2: one output, 9");
}

static void test_load_checks(void) {
    dcgan_named_tensor t[3];
    float w[32 * 27] = {0};
    memset(t, 0, sizeof t);
    snprintf(t[0].name, sizeof t[0].name, "Conv2d_1a_3x3.conv.weight");
    t[0].ndim = 4;
    t[0].shape[0] = 32; t[0].shape[1] = 3; t[0].shape[2] = 3; t[0].shape[3] = 3;
    t[0].data = w;
    snprintf(t[1].name, sizeof t[1].name, "Mixed_9z.conv.weight");
    t[1].ndim = 1;
    t[1].shape[0] = 1;
    t[1].data = w;
    float before = net.params[0];
    dcgan_status st = dcgan_inception_load_tensors(&net, t, 2);
    CHECK(st == DCGAN_ERR_FORMAT, "inception_load_tensors/incomplete state_dict refused");
    CHECK(strstr(dcgan_last_error(), "missing 'Conv2d_1a_3x3.bn.weight'") != NULL &&
          strstr(dcgan_last_error(), "unexpected 'Mixed_9z.conv.weight'") != NULL,
          "inception_load_tensors/lists missing and unexpected keys");
    t[0].shape[1] = 4;
    st = dcgan_inception_load_tensors(&net, t, 1);
    CHECK(st == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "Conv2d_1a_3x3.conv.weight"),
          "inception_load_tensors/wrong shape names the key");
    CHECK(net.params[0] == before, "inception_load_tensors/weights unchanged on failure");
}

// float32 fixture rows -> doubles
static double *to_double(const fixture_array *a) {
    double *d = (double *)malloc(a->count * sizeof(double));
    for (size_t i = 0; i < a->count; i++) d[i] = a->data[i];
    return d;
}

static void test_eigen(void) {
    fixture_array *a = fixture_get(&fm, "eig.a"), *w = fixture_get(&fm, "eig.w");
    if (!CHECK(a && w, "symmetric_eigen/fixture present")) return;
    const int n = a->dims[0];
    double *A = to_double(a), *A0 = to_double(a), *V = (double *)malloc(sizeof(double) * n * n);
    double *vals = (double *)malloc(sizeof(double) * n);
    float got[64];
    CHECK(dcgan_symmetric_eigen(A, n, vals, V) == DCGAN_OK, "symmetric_eigen/status");
    for (int i = 0; i < n; i++) got[i] = (float)vals[i];
    CHECK_CLOSE(w->data, got, n, 1e-5, 1e-5, "symmetric_eigen/eigenvalues vs numpy eigvalsh");
    // V diag(w) V^T rebuilds A, and V is orthonormal
    double worst = 0, worst_orth = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, o = 0;
            for (int k = 0; k < n; k++) {
                s += V[i * n + k] * vals[k] * V[j * n + k];
                o += V[k * n + i] * V[k * n + j];
            }
            if (fabs(s - A0[i * n + j]) > worst) worst = fabs(s - A0[i * n + j]);
            if (fabs(o - (i == j)) > worst_orth) worst_orth = fabs(o - (i == j));
        }
    CHECK(worst < 1e-10 && worst_orth < 1e-10, "symmetric_eigen/V diag(w) V^T == A, V orthonormal");
    // a NaN: refused in the name of the function called (it named the internal tridiagonal_ql)
    double bad[9] = {1, NAN, 0, NAN, 2, 0, 0, 0, 1}, bad_w[3], bad_v[9];
    CHECK(dcgan_symmetric_eigen(bad, 3, bad_w, bad_v) == DCGAN_ERR_NONFINITE &&
              strcmp(dcgan_last_error(), "symmetric_eigen: eigen-decomposition of 3 x 3 did not converge (NaN or Inf "
                                         "in the matrix?)") == 0,
          "symmetric_eigen/a NaN: the message names symmetric_eigen");
    // the values-only route, from the lower triangle alone
    memcpy(A, A0, sizeof(double) * n * n);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) A[i * n + j] = NAN;
    CHECK(dcgan_symmetric_eigenvalues(A, n, vals) == DCGAN_OK, "symmetric_eigenvalues/status");
    for (int i = 0; i < n; i++) got[i] = (float)vals[i];
    CHECK_CLOSE(w->data, got, n, 1e-5, 1e-5, "symmetric_eigenvalues/eigenvalues vs numpy eigvalsh");
    free(A); free(A0); free(V); free(vals);
}

static void fid_case(const char *name, double rtol) {
    char ka[32], kb[32], kf[32], kr[32], label[96];
    snprintf(ka, sizeof ka, "%s.a", name);
    snprintf(kb, sizeof kb, "%s.b", name);
    snprintf(kf, sizeof kf, "%s.fid", name);
    snprintf(kr, sizeof kr, "%s.rank", name);
    fixture_array *a = fixture_get(&fm, ka), *b = fixture_get(&fm, kb);
    if (!CHECK(a && b, "frechet_distance/fixture present")) return;
    double *fa = to_double(a), *fb = to_double(b), fid = -1;
    dcgan_fid_stats sa, sb;
    int r1 = -1, r2 = -1;
    dcgan_fid_stats_compute(&sa, fa, a->dims[0], a->dims[1]);
    dcgan_fid_stats_compute(&sb, fb, b->dims[0], b->dims[1]);
    snprintf(label, sizeof label, "fid_stats_compute/%s mean and N-1 covariance vs numpy", name);
    if (strcmp(name, "well") == 0) {
        float mu[32], sig[32 * 32];
        for (int i = 0; i < 32; i++) mu[i] = (float)sa.mu[i];
        for (int i = 0; i < 32 * 32; i++) sig[i] = (float)sa.sigma[i];
        CHECK_CLOSE(fixture_get(&fm, "well.mu1")->data, mu, 32, 1e-6, 1e-5, label);
        CHECK_CLOSE(fixture_get(&fm, "well.sigma1")->data, sig, 32 * 32, 1e-6, 1e-5, label);
    }
    snprintf(label, sizeof label, "frechet_distance/%s vs scipy sqrtm", name);
    CHECK(dcgan_frechet_distance(&fid, &sa, &sb, &r1, &r2) == DCGAN_OK && isfinite(fid), label);
    float got = (float)fid;
    CHECK_CLOSE(fixture_get(&fm, kf)->data, &got, 1, 0, rtol, label);
    snprintf(label, sizeof label, "frechet_distance/%s numerical ranks", name);
    const float *rank = fixture_get(&fm, kr)->data;
    CHECK(r1 == (int)rank[0] && r2 == (int)rank[1], label);
    dcgan_fid_stats_free(&sa);
    dcgan_fid_stats_free(&sb);
    free(fa);
    free(fb);
}

static void test_frechet(void) {
    fid_case("well", 1e-6);
    // rank-deficient: scipy's sqrtm of a singular product is itself approximate
    fid_case("deficient", 1e-4);
    // identical statistics: 0 (up to rounding), never NaN
    fixture_array *a = fixture_get(&fm, "deficient.a");
    double *fa = to_double(a), fid = -1;
    dcgan_fid_stats s;
    dcgan_fid_stats_compute(&s, fa, a->dims[0], a->dims[1]);
    double trace = 0;
    for (int i = 0; i < s.dims; i++) trace += s.sigma[i * s.dims + i];
    CHECK(dcgan_frechet_distance(&fid, &s, &s, NULL, NULL) == DCGAN_OK && fabs(fid) < 1e-7 * trace,
          "frechet_distance/same singular statistics give 0");
    if (fabs(fid) >= 1e-7 * trace) fprintf(stderr, "FID of identical statistics: %g (trace %g)\n", fid, trace);
    dcgan_fid_stats t = s;
    t.dims = 3;
    CHECK(dcgan_frechet_distance(&fid, &s, &t, NULL, NULL) == DCGAN_ERR_SHAPE, "frechet_distance/dims differ");
    dcgan_fid_stats_free(&s);
    CHECK(dcgan_fid_stats_compute(&s, fa, 1, 4) == DCGAN_ERR_SHAPE, "fid_stats_compute/one sample refused");
    free(fa);
}

static void test_kid(void) {
    fixture_array *a = fixture_get(&fm, "kid.f1"), *b = fixture_get(&fm, "kid.f2");
    if (!CHECK(a && b, "kid/fixture present")) return;
    double *f1 = to_double(a), *f2 = to_double(b), mean, sd;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 1);
    // subsets of the full size are permutations: every subset gives numpy's value
    CHECK(dcgan_kid(&mean, &sd, f1, 40, f2, 40, 16, 3, 1000, &rng) == DCGAN_OK, "kid/status");
    float got = (float)mean;
    CHECK_CLOSE(fixture_get(&fm, "kid.value")->data, &got, 1, 0, 1e-6, "kid/unbiased MMD^2 vs numpy");
    CHECK(sd < 1e-12, "kid/identical subsets have no spread");
    CHECK(dcgan_kid(&mean, &sd, f1, 40, f2, 40, 16, 20, 10, &rng) == DCGAN_OK && sd > 0,
          "kid/random subsets of 10 vary");
    free(f1);
    free(f2);
}

static void test_npz(void) {
    const char *files[2] = {"tests/data/stats8_compressed.npz", "tests/data/stats8.npz"};
    fixture_array *mu = fixture_get(&fm, "npz.mu"), *sigma = fixture_get(&fm, "npz.sigma");
    if (!CHECK(mu && sigma, "npz/fixture present")) return;
    for (int f = 0; f < 2; f++) {
        dcgan_fid_stats st;
        char label[96];
        float m[8], s[64];
        snprintf(label, sizeof label, "fid_stats_load_npz/%s (numpy wrote it)", files[f] + 11);
        if (!CHECK(dcgan_fid_stats_load_npz(&st, files[f]) == DCGAN_OK && st.dims == 8, label)) {
            fprintf(stderr, "%s\n", dcgan_last_error());
            continue;
        }
        for (int i = 0; i < 8; i++) m[i] = (float)st.mu[i];
        for (int i = 0; i < 64; i++) s[i] = (float)st.sigma[i];
        CHECK_CLOSE(mu->data, m, 8, 0, 0, label);
        CHECK_CLOSE(sigma->data, s, 64, 0, 0, label);
        // our writer, read back by our reader (numpy reading it: tests/test_programs.sh notes)
        dcgan_fid_stats back;
        memset(&back, 0, sizeof back);
        char npz[64];
        snprintf(npz, sizeof npz, "build/test_fid_stats_%d.npz", (int)getpid());
        CHECK(dcgan_fid_stats_save_npz(&st, npz) == DCGAN_OK && dcgan_fid_stats_load_npz(&back, npz) == DCGAN_OK &&
              memcmp(back.sigma, st.sigma, 64 * sizeof(double)) == 0 && memcmp(back.mu, st.mu, 8 * sizeof(double)) == 0,
              "fid_stats_save_npz/round trip is exact");
        dcgan_fid_stats_free(&back);
        dcgan_fid_stats_free(&st);
        remove(npz);
        // empty statistics: refused, nothing written (a helper's audit: written, then refused on load)
        char want[200];
        snprintf(want, sizeof want, "fid_stats_save_npz: '%s': statistics of 0 dims without mu or sigma; nothing "
                 "was written", npz);
        CHECK(dcgan_fid_stats_save_npz(&st, npz) == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), want) == 0 &&
                  access(npz, F_OK) != 0,
              "fid_stats_save_npz/zeroed statistics are refused");
    }
    // NaN or Inf in mu or sigma: refused naming the file (it gave "FID:  nan", or an eigen-solver
    // failure that named no file)
    double mu2[2] = {0.0, 1.0}, sigma2[4] = {1.0, 0.0, 0.0, INFINITY};
    dcgan_fid_stats bad = {2, 0, mu2, sigma2}, got;
    char npz[64], want[400];
    snprintf(npz, sizeof npz, "build/test_fid_nan_%d.npz", (int)getpid());
    for (int m = 0; m < 2; m++) {
        if (m) mu2[1] = NAN, sigma2[3] = 1.0;
        snprintf(want, sizeof want, "fid_stats_load_npz: '%s': %s has a NaN or Inf (element %d)", npz,
                 m ? "mu" : "sigma", m ? 1 : 3);
        CHECK(dcgan_fid_stats_save_npz(&bad, npz) == DCGAN_OK && dcgan_fid_stats_load_npz(&got, npz) == DCGAN_ERR_FORMAT &&
                  strcmp(dcgan_last_error(), want) == 0 && got.mu == NULL && got.sigma == NULL && got.dims == 0,
              m ? "fid_stats_load_npz/a NaN in mu is refused, naming the file"
                : "fid_stats_load_npz/an Inf in sigma is refused, naming the file");
    }
    // sigma must be a covariance: dcgan_frechet_distance reads its lower triangle only, so
    // one that is not symmetric gave another FID than pytorch-fid's without a word; rounding
    // (1e-12 of the largest entry) passes, a pair 1e-3 apart does not, nor a negative variance
    double mu3[3] = {0.0, 0.0, 0.0}, sigma3[9] = {2.0, 0.5, 0.1, 0.5, 1.0, 0.2, 0.1, 0.2, 3.0};
    dcgan_fid_stats sym = {3, 0, mu3, sigma3};
    sigma3[5] = 0.2 + 3e-12;   // sigma[1][2] against sigma[2][1]
    CHECK(dcgan_fid_stats_save_npz(&sym, npz) == DCGAN_OK && dcgan_fid_stats_load_npz(&got, npz) == DCGAN_OK &&
              got.sigma[5] == sigma3[5],
          "fid_stats_load_npz/a sigma symmetric but for rounding is read as it is");
    dcgan_fid_stats_free(&got);
    sigma3[5] = 0.203;
    snprintf(want, sizeof want, "fid_stats_load_npz: '%s': sigma is not symmetric: sigma[2][1] = 0.20000000000000001 "
             "but sigma[1][2] = 0.20300000000000001 (a covariance is symmetric)", npz);
    CHECK(dcgan_fid_stats_save_npz(&sym, npz) == DCGAN_OK && dcgan_fid_stats_load_npz(&got, npz) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0 && got.sigma == NULL,
          "fid_stats_load_npz/a sigma that is not symmetric is refused, naming the pair");
    sigma3[5] = 0.2;
    sigma3[4] = -1.0;
    snprintf(want, sizeof want, "fid_stats_load_npz: '%s': sigma is not a covariance: its diagonal element 1 is -1 "
             "(a variance, >= 0)", npz);
    CHECK(dcgan_fid_stats_save_npz(&sym, npz) == DCGAN_OK && dcgan_fid_stats_load_npz(&got, npz) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0 && got.sigma == NULL,
          "fid_stats_load_npz/a negative variance is refused");
    remove(npz);
    dcgan_fid_stats st;
    CHECK(dcgan_fid_stats_load_npz(&st, "tests/data/pth/small_zip.pth") == DCGAN_ERR_FORMAT &&
          strstr(dcgan_last_error(), "mu.npy"), "fid_stats_load_npz/a zip without mu.npy is refused");
}

// The values the deterministic fill gives the tensor called name (count values).
static void expected_fill(float *out, const char *name, size_t count, int fan_in) {
    dcgan_rng rng;
    dcgan_rng_seed(&rng, dcgan__fnv1a64_str(name));
    for (size_t k = 0; k < count; k++) {
        float u = dcgan_rng_uniform(&rng);
        if (strstr(name, "conv.weight")) out[k] = (2.0f * u - 1.0f) * sqrtf(6.0f / (float)fan_in);
        else if (strstr(name, "bn.weight") || strstr(name, "running_var")) out[k] = 0.5f + u;
        else out[k] = 0.2f * (u - 0.5f);
    }
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc(*n + 1);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static void test_pth_reader(void) {
    const char *files[2] = {"tests/data/pth/small_legacy.pth", "tests/data/pth/small_zip.pth"};
    const char *parts[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"};
    for (int f = 0; f < 2; f++) {
        dcgan_state_dict sd;
        char label[96];
        snprintf(label, sizeof label, "state_dict_load/%s", files[f] + 15);
        if (!CHECK(dcgan_state_dict_load(&sd, files[f]) == DCGAN_OK, label)) {
            fprintf(stderr, "%s\n", dcgan_last_error());
            continue;
        }
        CHECK(sd.n == 5 && sd.skipped == 1, "state_dict_load/5 float tensors, num_batches_tracked skipped");
        for (int i = 0; i < sd.n && i < 5; i++) {
            char name[64];
            float want[32 * 27];
            snprintf(name, sizeof name, "Conv2d_1a_3x3.%s", parts[i]);
            size_t count = i == 0 ? 32 * 27 : 32;
            expected_fill(want, name, count, 27);
            snprintf(label, sizeof label, "state_dict_load/%s %s", f ? "zip" : "legacy", name);
            CHECK(strcmp(sd.tensors[i].name, name) == 0 && sd.tensors[i].shape[0] == 32 &&
                  (i > 0 || (sd.tensors[i].ndim == 4 && sd.tensors[i].shape[3] == 3)), label);
            CHECK_CLOSE(want, sd.tensors[i].data, count, 0, 0, label);
        }
        // re-saved as safetensors, it reads back the same
        char out[64];
        snprintf(out, sizeof out, "build/test_fid_%d_%d.safetensors", (int)getpid(), f);
        dcgan_state_dict back = {0, NULL, NULL, 0};
        CHECK(dcgan_state_dict_save(&sd, out) == DCGAN_OK && dcgan_state_dict_load(&back, out) == DCGAN_OK &&
              back.n == 5 && memcmp(back.tensors[0].data, sd.tensors[0].data, 32 * 27 * 4) == 0,
              "state_dict_save/safetensors round trip");
        dcgan_state_dict_free(&back);
        remove(out);
        dcgan_state_dict_free(&sd);
    }
}

static void test_pth_corrupt(void) {
    const char *files[2] = {"tests/data/pth/small_legacy.pth", "tests/data/pth/small_zip.pth"};
    char bad[64];
    snprintf(bad, sizeof bad, "build/test_fid_bad_%d.pth", (int)getpid());
    for (int f = 0; f < 2; f++) {
        size_t n;
        unsigned char *data = slurp(files[f], &n);
        if (!CHECK(data != NULL, "pth/fixture present")) continue;
        int all = 1;
        const size_t cuts[] = {0, 1, 2, 10, 40, n / 3, n / 2, n - 9, n - 1};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            dcgan_state_dict sd;
            spit(bad, data, cuts[c]);
            dcgan_status st = dcgan_state_dict_load(&sd, bad);
            if (st == DCGAN_OK) { all = 0; fprintf(stderr, "cut at %zu loaded\n", cuts[c]); dcgan_state_dict_free(&sd); }
        }
        CHECK(all, f ? "state_dict_load/truncated zip files fail" : "state_dict_load/truncated legacy files fail");
        // an opcode the reader does not allow, in place of the first BINPUT after the dict
        unsigned char *p = f ? NULL : (unsigned char *)memchr(data + 40, 'q', n - 40);
        if (!f && p) {
            dcgan_state_dict sd;
            unsigned char keep = *p;
            *p = 0xFF;
            spit(bad, data, n);
            CHECK(dcgan_state_dict_load(&sd, bad) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "opcode 0xff") &&
                  strstr(dcgan_last_error(), "pickle byte"), "state_dict_load/unknown opcode named with its offset");
            *p = keep;
        }
        // a global that is not allowed (same length, so every offset stays valid)
        unsigned char *g = NULL;
        for (size_t i = 0; i + 23 < n; i++)
            if (memcmp(data + i, "collections\nOrderedDict", 23) == 0) { g = data + i; break; }
        if (CHECK(g != NULL, "pth/OrderedDict global present")) {
            dcgan_state_dict sd;
            memcpy(g, "builtins\nevalXXXXXXXXXX", 23);
            spit(bad, data, n);
            CHECK(dcgan_state_dict_load(&sd, bad) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "builtins.eval"),
                  "state_dict_load/a global like builtins.eval is refused");
            memcpy(g, "collections\nOrderedDict", 23);
        }
        if (!f) {
            // the element count of the first storage made absurd
            dcgan_state_dict sd;
            for (size_t i = 0; i + 8 <= n; i++) {
                if (dcgan__le(data + i, 8) == 32 * 27) {
                    unsigned char keep[8];
                    memcpy(keep, data + i, 8);
                    memset(data + i, 0x7F, 8);
                    spit(bad, data, n);
                    CHECK(dcgan_state_dict_load(&sd, bad) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "claims"),
                          "state_dict_load/storage claiming 2^63 elements fails with a message");
                    memcpy(data + i, keep, 8);
                    break;
                }
            }
        }
        free(data);
    }
    remove(bad);
    char path[1100];
    setenv("DCGAN_INCEPTION_WEIGHTS", "build/no_such_weights.pth", 1);
    setenv("TORCH_HOME", "build/no_torch_home", 1);
    dcgan_status st = dcgan_inception_find_weights(path, sizeof path);
    CHECK(st == DCGAN_ERR_IO && strstr(dcgan_last_error(), "build/no_such_weights.pth") &&
          strstr(dcgan_last_error(), "build/no_torch_home/hub/checkpoints/pt_inception") &&
          strstr(dcgan_last_error(), "README"), "inception_find_weights/says where it looked and where to read");
    setenv("DCGAN_INCEPTION_WEIGHTS", "tests/data/pth/small_zip.pth", 1);
    CHECK(dcgan_inception_find_weights(path, sizeof path) == DCGAN_OK && strcmp(path, "tests/data/pth/small_zip.pth") == 0,
          "inception_find_weights/$DCGAN_INCEPTION_WEIGHTS first");
    char small[8] = "unset";
    CHECK(dcgan_inception_find_weights(small, sizeof small) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "inception_find_weights: the weights' path 'tests/data/pth/small_zip.pth' is "
                                         "29 bytes, out holds 8") == 0 && strcmp(small, "unset") == 0,
          "inception_find_weights/a path longer than out is refused (it was cut and returned OK)");
    {   // torch.hub's cache when TORCH_HOME is not set and XDG_CACHE_HOME is: $XDG_CACHE_HOME/torch/hub
        // (a user's pytorch-fid run put the weights there; they were not found: the docs referee)
        char xdg[64], file[200], want[1200], home[1024] = "";
        const int had_home = getenv("HOME") && strlen(getenv("HOME")) < sizeof home;
        if (had_home) snprintf(home, sizeof home, "%s", getenv("HOME"));
        snprintf(xdg, sizeof xdg, "build/test_fid_xdg_%d", (int)getpid());
        snprintf(file, sizeof file, "%s/torch/hub/checkpoints/%s", xdg, DCGAN_INCEPTION_FILE);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/torch/hub/checkpoints && : > %s", xdg, file);
        const int made = system(cmd) == 0;
        unsetenv("DCGAN_INCEPTION_WEIGHTS");
        setenv("TORCH_HOME", "build/no_torch_home", 1);
        setenv("XDG_CACHE_HOME", xdg, 1);
        setenv("HOME", "build/no_home", 1);
        snprintf(want, sizeof want, "inception_find_weights: no Inception weights at "
                 "build/no_torch_home/hub/checkpoints/%s, %s, build/no_home/.cache/torch/hub/checkpoints/%s "
                 "(set DCGAN_INCEPTION_WEIGHTS or download %s, see README 'Real Inception weights')",
                 DCGAN_INCEPTION_FILE, file, DCGAN_INCEPTION_FILE, DCGAN_INCEPTION_FILE);
        // TORCH_HOME first (its folder is empty here), then XDG_CACHE_HOME's
        CHECK(made && dcgan_inception_find_weights(path, sizeof path) == DCGAN_OK && strcmp(path, file) == 0,
              "inception_find_weights/$XDG_CACHE_HOME/torch/hub/checkpoints after $TORCH_HOME's");
        remove(file);
        CHECK(dcgan_inception_find_weights(path, sizeof path) == DCGAN_ERR_IO && strcmp(dcgan_last_error(), want) == 0,
              "inception_find_weights/the message lists the four places it looked, in order");
        snprintf(cmd, sizeof cmd, "rm -rf %s", xdg);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", xdg);
        unsetenv("XDG_CACHE_HOME");
        if (had_home) setenv("HOME", home, 1);
        setenv("DCGAN_INCEPTION_WEIGHTS", "tests/data/pth/small_zip.pth", 1);
    }
    CHECK(dcgan_inception_load(&net, NULL) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "missing"),
          "inception_load/a partial state_dict is refused, listing missing keys");
}

// With DCGAN_FULL_PTH_DIR set (tests/check_full_pth.sh does that after torch
// wrote the full filled state_dict in both formats), both files load and give
// the features of the deterministic fill.
static void test_full_pth(void) {
    const char *dir = getenv("DCGAN_FULL_PTH_DIR");
    if (!dir) {
        printf("skip: inception_load/the full 95 MB .pth files (tests/check_full_pth.sh, needs python3-torch)\n");
        return;
    }
    const char *names[2] = {"inception_filled_legacy.pth", "inception_filled_zip.pth"};
    fixture_array *img = fixture_get(&fx, "img_b");
    double ref[2048], got[2048];
    dcgan_inception_fill_deterministic(&net);
    dcgan_inception_features(&net, ref, img->data, 1, 64, 64, 2048);
    for (int k = 0; k < 2; k++) {
        char path[1024], label[96];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        snprintf(label, sizeof label, "inception_load/full %s", names[k]);
        if (!CHECK(dcgan_inception_load(&net, path) == DCGAN_OK, label)) {
            fprintf(stderr, "%s\n", dcgan_last_error());
            continue;
        }
        dcgan_inception_features(&net, got, img->data, 1, 64, 64, 2048);
        int same = memcmp(ref, got, sizeof ref) == 0;
        snprintf(label, sizeof label, "inception_load/full %s gives the fill's features exactly", names[k]);
        CHECK(same, label);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"features_vs_torch", test_features_vs_torch},
        {"features_batched", test_features_batched},
        {"pool_fast_vs_ref", test_pool_fast_vs_ref},
        {"load_checks", test_load_checks},
        {"eigen", test_eigen},
        {"frechet", test_frechet},
        {"kid", test_kid},
        {"npz", test_npz},
        {"pth_reader", test_pth_reader},
        {"pth_corrupt", test_pth_corrupt},
        {"full_pth", test_full_pth},
    };
    if (!fixture_load(&fx, "tests/data/fid.bin") || !fixture_load(&fm, "tests/data/fid_math.bin")) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    have_net = dcgan_inception_init(&net) == DCGAN_OK;
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    dcgan_inception_free(&net);
    fixture_free(&fx);
    fixture_free(&fm);
    return rc;
}
