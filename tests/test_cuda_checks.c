// test_cuda_checks.c - runs in `make test`, no GPU needed. Two things the GPU
// tests rest on, checked on the CPU:
//  1. The shape checks that dcgan_cuda.cu shares with the CPU layers
//     (dcgan_linear_check, dcgan_conv2d_check, dcgan_conv_transpose2d_check)
//     refuse the shapes that used to crash or slip through on the GPU: an
//     empty output, an empty batch, negative pads, a transposed output of the
//     wrong size, a linear dinp of the wrong size; each with its message.
//  2. test_cuda.c's comparisons (tests/cuda_compare.h) can fail: each is run
//     here against a CPU twin with a planted bug (a gradient off by a factor,
//     a learning rate off by a factor, one layer's gradient off, a zeroed bias
//     gradient, a wrong BatchNorm momentum, eps in the wrong place, batch statistics in
//     eval mode, no clamping of negative eigenvalues) and must fail, while the
//     same comparison of the correct twin with itself passes.
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "cuda_compare.h"
#include <string.h>

static const dcgan_tensor none = {NULL, 0, 0, 0, 0};

// Runs fn's checks quietly and returns how many failed; the counters are restored.
static int failures_of(int (*fn)(void *), void *arg) {
    int passed = check_passed, failed = check_failed;
    check_quiet = 1;
    int n = fn(arg);
    check_quiet = 0;
    check_passed = passed;
    check_failed = failed;
    return n;
}

// --- 1. shared shape checks

static void test_shape_checks(void) {
    static float w[4 * 3 * 5 * 5], x[2 * 3 * 4 * 4], y[2 * 4 * 8 * 8];
    dcgan_conv2d conv = {w, NULL, 3, 4, 5, 1, 0, 0, 0, 0};
    // a 4x4 input and a 5x5 kernel without padding: an empty output (the GPU divided by zero)
    dcgan_status st = dcgan_conv2d_check("dcgan_conv2d_forward_cuda", dcgan_tensor_make(y, 2, 4, 1, 1),
                                         dcgan_tensor_make(x, 2, 3, 4, 4), none, 0, &conv);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv2d_forward_cuda: inp 4x4 gives an empty "
                                          "output (K=5, pads 0,0,0,0)") == 0,
          "conv2d_check/empty output: message");
    st = dcgan_conv2d_check("dcgan_conv2d_forward_cuda", dcgan_tensor_make(y, 0, 4, 4, 4),
                            dcgan_tensor_make(x, 0, 3, 4, 4), none, 0, &conv);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv2d_forward_cuda: inp has N=0 C=3, "
                                          "weight expects C=3") == 0,
          "conv2d_check/empty batch: message");
    dcgan_conv2d neg = {w, NULL, 3, 4, 5, 1, -1, 2, 2, 2};
    st = dcgan_conv2d_check("dcgan_conv2d_backward_cuda", dcgan_tensor_make(y, 2, 4, 4, 4),
                            dcgan_tensor_make(x, 2, 3, 4, 4), none, 1, &neg);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv2d_backward_cuda: bad geometry: K=5 S=1 "
                                          "pads -1,2,2,2") == 0,
          "conv2d_check/negative pad: message");
    // the right shapes pass, forward and backward (with and without dinp)
    dcgan_conv2d same = {w, NULL, 3, 4, 5, 1, 2, 2, 2, 2};
    CHECK(dcgan_conv2d_check("f", dcgan_tensor_make(y, 2, 4, 4, 4), dcgan_tensor_make(x, 2, 3, 4, 4), none, 0,
                             &same) == DCGAN_OK &&
          dcgan_conv2d_check("f", dcgan_tensor_make(y, 2, 4, 4, 4), dcgan_tensor_make(x, 2, 3, 4, 4),
                             dcgan_tensor_make(x, 2, 3, 4, 4), 1, &same) == DCGAN_OK,
          "conv2d_check/good shapes pass");
    st = dcgan_conv2d_check("dcgan_conv2d_backward_cuda", dcgan_tensor_make(y, 2, 4, 4, 4),
                            dcgan_tensor_make(x, 2, 3, 4, 4), dcgan_tensor_make(x, 1, 3, 4, 4), 1, &same);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv2d_backward_cuda: dinp is (1,3,4,4), inp is "
                                          "(2,3,4,4)") == 0,
          "conv2d_check/dinp of another shape: message");
    // ConvTranspose2d(K=4, S=2, P=1): 4x4 -> exactly 8x8; the GPU used to accept 9x9 too
    // (the output-padding variant: a convolution of 9x9 with these pads also gives 4x4)
    static float wt[3 * 4 * 4 * 4];
    dcgan_conv_transpose2d ct = {wt, NULL, 3, 4, 4, 2, 1, 1, 1, 1};
    CHECK(dcgan_conv_transpose2d_check("f", dcgan_tensor_make(y, 2, 4, 8, 8), dcgan_tensor_make(x, 2, 3, 4, 4),
                                       none, 0, &ct) == DCGAN_OK,
          "conv_transpose2d_check/8x8 passes");
    st = dcgan_conv_transpose2d_check("dcgan_conv_transpose2d_forward_cuda", dcgan_tensor_make(y, 2, 4, 9, 9),
                                      dcgan_tensor_make(x, 2, 3, 4, 4), none, 0, &ct);
    CHECK(dcgan_conv_out_size(9, 4, 2, 1, 1) == 4, "conv_transpose2d_check/9x9 is a valid adjoint size");
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv_transpose2d_forward_cuda: out is (2,4,9,9), "
                                          "expected (2,4,8,8)") == 0,
          "conv_transpose2d_check/9x9 refused: message");
    // Linear backward: dinp must have inp's size (the GPU wrote past it)
    static float lw[5 * 3], li[2 * 3], lo[2 * 5], ld[7];
    dcgan_linear lin = {lw, NULL, 3, 5};
    st = dcgan_linear_check("dcgan_linear_backward_cuda", dcgan_tensor_make(lo, 2, 5, 1, 1),
                            dcgan_tensor_make(li, 2, 3, 1, 1), dcgan_tensor_make(ld, 1, 7, 1, 1), 1, &lin);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "linear_backward_cuda: dinp has 7 values, inp has 6") == 0,
          "linear_check/dinp of another size: message");
    // the CPU layers use the same checks: same status and text under their own names
    st = dcgan_linear_backward(dcgan_tensor_make(ld, 1, 7, 1, 1), NULL, NULL, dcgan_tensor_make(lo, 2, 5, 1, 1),
                               dcgan_tensor_make(li, 2, 3, 1, 1), &lin);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "linear_backward: dinp has 7 values, inp has 6") == 0,
          "linear_backward/uses the shared check");
    st = dcgan_conv_transpose2d_forward(dcgan_tensor_make(y, 2, 4, 9, 9), dcgan_tensor_make(x, 2, 3, 4, 4), &ct,
                                        NULL, 0);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "conv_transpose2d_forward: out is (2,4,9,9), "
                                          "expected (2,4,8,8)") == 0,
          "conv_transpose2d_forward/uses the shared check");
}

// --- 2. the comparisons can fail

// A small discriminator, trained 3 steps on fixed data; with BatchNorm of the
// given momentum when momentum > 0 (without it, no gradient is near zero: a
// conv bias before BatchNorm gets none, and there Adam's eps is not negligible);
// grad_factor scales the loss gradient and lr_factor the learning rate (planted
// bugs when != 1); *start gets a copy of the parameters before training (free it).
static int train_small(dcgan_model *m, float momentum, float grad_factor, float lr_factor, float **start) {
    dcgan_layer_spec s[5] = {dcgan_spec_conv2d(4, 3, 2, 1), dcgan_spec_batchnorm2d(1e-5f, momentum),
                             dcgan_spec_leaky_relu(0.2f), dcgan_spec_flatten(), dcgan_spec_linear(1)};
    if (momentum <= 0.0f) {   // drop the BatchNorm layer
        s[1] = s[2];
        s[2] = s[3];
        s[3] = s[4];
    }
    if (dcgan_model_init(m, "d", s, momentum > 0.0f ? 5 : 4, 1, 8, 8, 6) != DCGAN_OK) return 1;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 5);
    dcgan_model_init_weights(m, DCGAN_INIT_DCGAN, &rng);
    if (!(*start = (float *)malloc(m->n_params * sizeof(float)))) return 1;
    memcpy(*start, m->params, m->n_params * sizeof(float));
    dcgan_adam opt;
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, 1e-3 * lr_factor, 0.5, 0.999);
    float x[6 * 64], y[6], dl[6], loss;
    for (int t = 0; t < 3; t++) {
        dcgan_rng_fill_normal(&rng, x, 6 * 64, 0.0f, 1.0f);
        for (int i = 0; i < 6; i++) y[i] = (float)(i % 2);
        dcgan_model_zero_grad(m);
        if (dcgan_model_forward(m, dcgan_tensor_make(x, 6, 1, 8, 8), 1, &rng) != DCGAN_OK) return 1;
        dcgan_bce_with_logits(&loss, dl, dcgan_model_output(m).data, y, 6);
        for (int i = 0; i < 6; i++) dl[i] *= grad_factor;
        dcgan_model_backward(m, dl, NULL);
        dcgan_model_adam_step(m, &opt);
    }
    return 0;
}

typedef struct {
    const dcgan_model *ref, *got;
    const float *start;
} model_pair;

// compare_model_state's failed checks, counted (run quietly by failures_of)
static int run_compare_model(void *arg) {
    model_pair *p = (model_pair *)arg;
    const int mask = compare_model_state(p->ref, p->got, p->start, "planted");
    return (mask & 1) + (mask >> 1 & 1) + (mask >> 2 & 1) + (mask >> 3 & 1);
}

// Which of compare_model_state's four checks fail (its bits), quietly.
static int failing_parts(const dcgan_model *ref, const dcgan_model *got, const float *start) {
    int passed = check_passed, failed = check_failed;
    check_quiet = 1;
    const int mask = compare_model_state(ref, got, start, "x");
    check_quiet = 0;
    check_passed = passed;
    check_failed = failed;
    return mask;
}

static void test_model_state_can_fail(void) {
    dcgan_model ref, same, scaled, fast, ref_bn, momentum;
    float *start[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int ok = train_small(&ref, 0.0f, 1.0f, 1.0f, &start[0]) == 0 && train_small(&same, 0.0f, 1.0f, 1.0f, &start[1]) == 0 &&
             train_small(&scaled, 0.0f, 2.0f, 1.0f, &start[2]) == 0 && train_small(&fast, 0.0f, 1.0f, 2.0f, &start[3]) == 0 &&
             train_small(&ref_bn, 0.1f, 1.0f, 1.0f, &start[4]) == 0 && train_small(&momentum, 0.2f, 1.0f, 1.0f, &start[5]) == 0;
    CHECK(ok, "compare_model_state/models train");
    model_pair p = {&ref, &same, start[0]};
    CHECK(failures_of(run_compare_model, &p) == 0, "compare_model_state/the correct twin passes");
    // gradients x2: Adam is scale-free, so the parameters still agree; the moments do not
    CHECK(failing_parts(&ref, &scaled, start[0]) == (2 | 4), "compare_model_state/gradient x2: parameters pass, "
                                                            "both moments fail");
    p.got = &scaled;
    CHECK(failures_of(run_compare_model, &p) == 2, "compare_model_state/gradient x2 is caught");
    // the learning rate x2: the parameters move twice as far (the moments do not see it)
    CHECK(failing_parts(&ref, &fast, start[0]) == 1, "compare_model_state/learning rate x2: the parameters fail");
    // BatchNorm momentum 0.2 instead of 0.1: the running statistics fail
    CHECK((failing_parts(&ref_bn, &momentum, start[4]) & 8) != 0, "compare_model_state/wrong momentum: statistics fail");
    dcgan_model_free(&ref_bn);
    dcgan_model_free(&ref);
    dcgan_model_free(&same);
    dcgan_model_free(&scaled);
    dcgan_model_free(&fast);
    dcgan_model_free(&momentum);
    for (int k = 0; k < 6; k++) free(start[k]);
}

typedef struct {
    const dcgan_model *ref;
    const float *got;
} grads_pair;

static int run_compare_grads(void *arg) {
    grads_pair *p = (grads_pair *)arg;
    return compare_model_grads(p->ref, p->got, "planted");
}

// compare_model_grads: the same gradients pass; one layer's weight gradient
// x1.2, or its bias gradient zeroed, fails that one check; the whole gradient's
// 1e-3 noise (what summation orders give, and more) passes.
static void test_model_grads_can_fail(void) {
    dcgan_model m;
    float *start = NULL;
    if (!CHECK(train_small(&m, 0.1f, 1.0f, 1.0f, &start) == 0, "compare_model_grads/model trains")) return;
    float *got = (float *)malloc(m.n_params * sizeof(float));
    memcpy(got, m.grads, m.n_params * sizeof(float));
    grads_pair p = {&m, got};
    CHECK(failures_of(run_compare_grads, &p) == 0, "compare_model_grads/the same gradients pass");
    const dcgan_layer *conv = &m.layers[0];
    for (size_t i = 0; i < conv->weight_count; i++) got[conv->weight_offset + i] *= 1.2f;
    CHECK(failures_of(run_compare_grads, &p) == 1, "compare_model_grads/one layer's weights x1.2: caught");
    memcpy(got, m.grads, m.n_params * sizeof(float));
    const dcgan_layer *lin = &m.layers[m.n_layers - 1];
    for (size_t i = 0; i < lin->bias_count; i++) got[lin->bias_offset + i] = 0.0f;
    CHECK(failures_of(run_compare_grads, &p) == 1, "compare_model_grads/the last bias gradient zeroed: caught");
    for (size_t i = 0; i < m.n_params; i++) got[i] = m.grads[i] * (1.0f + (i % 2 ? 1e-3f : -1e-3f));
    CHECK(failures_of(run_compare_grads, &p) == 0, "compare_model_grads/1e-3 relative noise passes");
    free(got);
    free(start);
    dcgan_model_free(&m);
}

typedef struct {
    const float *ref, *got;
    size_t n;
} span;

static int run_close(void *arg) {
    span *s = (span *)arg;
    return !CHECK_CLOSE(s->ref, s->got, s->n, 1e-6, 1e-6, "adam params");
}

static void test_adam_eps_can_fail(void) {
    enum { P = 400 };
    static float w0[P], g[P], m0[P], v0[P], wa[P], ma[P], va[P], wb[P], mb[P], vb[P];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 9);
    adam_case_fill(w0, g, m0, v0, P, &rng);
    // PyTorch mode, and the planted bug: eps on the uncorrected sqrt(v) (Keras's
    // placement) with PyTorch's eps, so that only the placement differs
    dcgan_adam a, b;
    dcgan_adam_init(&a, DCGAN_ADAM_PYTORCH, 1e-3, 0.5, 0.999);
    dcgan_adam_init(&b, DCGAN_ADAM_KERAS, 1e-3, 0.5, 0.999);
    b.eps = a.eps;
    a.step = b.step = 4;
    memcpy(wa, w0, sizeof w0); memcpy(ma, m0, sizeof m0); memcpy(va, v0, sizeof v0);
    memcpy(wb, w0, sizeof w0); memcpy(mb, m0, sizeof m0); memcpy(vb, v0, sizeof v0);
    for (int t = 0; t < 3; t++) {
        dcgan_adam_step(&a, wa, g, ma, va, P);
        dcgan_adam_step(&b, wb, g, mb, vb, P);
    }
    span big = {wa, wb, P / 2}, tiny = {wa + P / 2, wb + P / 2, P / 2};
    CHECK(failures_of(run_close, &big) == 0, "adam eps placement/invisible where v is near 1");
    CHECK(failures_of(run_close, &tiny) == 1, "adam eps placement/caught where v is tiny");
}

static int run_bn_eval(void *arg) {
    span *s = (span *)arg;
    return !CHECK_CLOSE(s->ref, s->got, s->n, 1e-5, 1e-4, "batchnorm eval output");
}

static void test_bn_eval_can_fail(void) {
    enum { N = 3, C = 4, H = 5, W = 3, NV = N * C * H * W };
    static float x[NV], y_eval[NV], y_eval2[NV], y_bug[NV], par[4 * C], save[2 * C];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 4);
    dcgan_rng_fill_uniform(&rng, x, NV, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&rng, par, 4 * C, -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&rng, save, 2 * C, -1.0f, 1.0f);   // initialised, as test_cuda now uploads it
    for (int c = 0; c < C; c++) par[3 * C + c] = 0.5f + par[3 * C + c] * par[3 * C + c];
    dcgan_batchnorm2d bn = {par, par + C, par + 2 * C, par + 3 * C, save, save + C, C, 1e-5f, 0.1f, 0};
    dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, W);
    dcgan_batchnorm2d_forward(dcgan_tensor_make(y_eval, N, C, H, W), tx, &bn, 0);
    dcgan_batchnorm2d_forward(dcgan_tensor_make(y_eval2, N, C, H, W), tx, &bn, 0);
    // the planted bug: eval mode normalising with the batch's statistics
    float keep[4 * C];
    memcpy(keep, par, sizeof keep);
    dcgan_batchnorm2d_forward(dcgan_tensor_make(y_bug, N, C, H, W), tx, &bn, 1);
    memcpy(par, keep, sizeof keep);
    span good = {y_eval, y_eval2, NV}, bad = {y_eval, y_bug, NV};
    CHECK(failures_of(run_bn_eval, &good) == 0, "batchnorm eval/the correct twin passes");
    CHECK(failures_of(run_bn_eval, &bad) == 1, "batchnorm eval/batch statistics in eval are caught");
}

// The Frechet distance written out (Dowson & Landau 1982): tr sqrt(S1 S2) as
// the sum of sqrt of the eigenvalues of sqrt(S1) S2 sqrt(S1), negative ones
// clamped to 0 when clamp is set (the planted bug leaves them).
static double frechet_reference(const dcgan_fid_stats *a, const dcgan_fid_stats *b, int clamp) {
    const int d = a->dims;
    double *A = (double *)malloc((size_t)d * d * sizeof(double)), *V = (double *)malloc((size_t)d * d * sizeof(double));
    double *w = (double *)malloc((size_t)d * sizeof(double)), *R = (double *)calloc((size_t)d * d, sizeof(double));
    double *T = (double *)calloc((size_t)d * d, sizeof(double));
    memcpy(A, a->sigma, (size_t)d * d * sizeof(double));
    dcgan_symmetric_eigen(A, d, w, V);
    for (int i = 0; i < d; i++)   // R = V diag(sqrt(max(w, 0))) V^T = sqrt(S1)
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < d; k++) s += V[i * d + k] * sqrt(w[k] > 0.0 ? w[k] : 0.0) * V[j * d + k];
            R[i * d + j] = s;
        }
    for (int i = 0; i < d; i++)   // T = R S2 R
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < d; k++)
                for (int l = 0; l < d; l++) s += R[i * d + k] * b->sigma[k * d + l] * R[l * d + j];
            T[i * d + j] = s;
        }
    dcgan_symmetric_eigen(T, d, w, V);
    double tr = 0.0, dist = 0.0;
    for (int i = 0; i < d; i++) tr += clamp ? sqrt(w[i] > 0.0 ? w[i] : 0.0) : sqrt(w[i]);
    for (int i = 0; i < d; i++) {
        double dm = a->mu[i] - b->mu[i];
        dist += dm * dm + a->sigma[i * d + i] + b->sigma[i * d + i];
    }
    free(A); free(V); free(w); free(R); free(T);
    return dist - 2.0 * tr;
}

static void test_frechet_rank_deficient(void) {
    // n < dims (the study's case: 1,000 images at 2048 dims): singular covariances
    enum { D = 24, NN = 10 };
    static double f1[NN * D], f2[NN * D];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 12);
    for (int i = 0; i < NN * D; i++) {
        f1[i] = dcgan_rng_normal(&rng);
        f2[i] = 0.8 * dcgan_rng_normal(&rng) + 0.1;
    }
    dcgan_fid_stats a, b;
    double lib = -1.0;
    CHECK(dcgan_fid_stats_compute(&a, f1, NN, D) == DCGAN_OK && dcgan_fid_stats_compute(&b, f2, NN, D) == DCGAN_OK,
          "frechet n < dims/statistics");
    CHECK(dcgan_frechet_distance(&lib, &a, &b, NULL, NULL) == DCGAN_OK && isfinite(lib), "frechet n < dims/finite");
    double good = frechet_reference(&a, &b, 1), bug = frechet_reference(&a, &b, 0);
    CHECK(fabs(lib - good) <= 1e-6 * fabs(good), "frechet n < dims/equals the written-out distance (clamped)");
    CHECK(!(fabs(lib - bug) <= 1e-6 * fabs(good)), "frechet n < dims/without clamping it differs (caught)");
    dcgan_fid_stats_free(&a);
    dcgan_fid_stats_free(&b);
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"shape_checks", test_shape_checks},
        {"model_state_can_fail", test_model_state_can_fail},
        {"model_grads_can_fail", test_model_grads_can_fail},
        {"adam_eps_can_fail", test_adam_eps_can_fail},
        {"bn_eval_can_fail", test_bn_eval_can_fail},
        {"frechet_rank_deficient", test_frechet_rank_deficient},
    };
    return check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
}
