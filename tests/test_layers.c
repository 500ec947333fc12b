// test_layers.c - every layer against PyTorch (tests/data/layers.bin), against
// central finite differences, fast paths against the plain reference loops, and
// the shape errors. Build and run: make test
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static fixture fx;
static dcgan_rng rng;

// Golden fixtures are compared within 1e-5 of the largest reference magnitude.
static double golden_atol(const fixture_array *a) {
    double big = 0.0;
    for (size_t i = 0; i < a->count; i++)
        if (fabs(a->data[i]) > big) big = fabs(a->data[i]);
    return 1e-5 * (big > 1.0 ? big : 1.0);
}

#define GOLDEN(name, actual, label)                                                   \
    do {                                                                              \
        fixture_array *g_ = fixture_get(&fx, name);                                   \
        if (!CHECK(g_ != NULL, label)) break;                                         \
        CHECK_CLOSE(g_->data, (actual), g_->count, golden_atol(g_), 0.0, label);      \
    } while (0)

static float *fdata(const char *name) {
    fixture_array *a = fixture_get(&fx, name);
    return a ? a->data : NULL;
}

static float *zeros(size_t n) { return (float *)calloc(n ? n : 1, sizeof(float)); }

static float *randn(size_t n) {
    float *p = zeros(n);
    dcgan_rng_fill_normal(&rng, p, n, 0.0f, 1.0f);
    return p;
}

// ---------------------------------------------------------------------------
// Finite differences: the loss is L = sum(out * R) for a fixed random R, so
// dL/dout = R and backward(R) must equal the central difference of L.

typedef double (*loss_fn)(void *ctx);

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void gradcheck(const char *label, loss_fn f, void *ctx, float *x, const float *analytic,
                      size_t n, float eps, double atol, double rtol) {
    float *numeric = zeros(n);
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + eps;
        double lp = f(ctx);
        x[i] = keep - eps;
        double lm = f(ctx);
        x[i] = keep;
        numeric[i] = (float)((lp - lm) / (2.0 * (double)eps));
    }
    CHECK_CLOSE(numeric, analytic, n, atol, rtol, label);
    free(numeric);
}

// ---------------------------------------------------------------------------
// Linear

typedef struct {
    dcgan_linear lin;
    dcgan_tensor x, out;
    float *r;
} linear_ctx;

static double linear_loss(void *p) {
    linear_ctx *c = (linear_ctx *)p;
    dcgan_linear_forward(c->out, c->x, &c->lin);
    return dot(c->out.data, c->r, dcgan_tensor_numel(c->out));
}

static void test_linear_golden(void) {
    float out[15], dx[21] = {0}, dw[35] = {0}, db[5] = {0};
    dcgan_linear lin = {fdata("linear.w"), fdata("linear.b"), 7, 5};
    dcgan_tensor x = dcgan_tensor_make(fdata("linear.x"), 3, 7, 1, 1);
    CHECK(dcgan_linear_forward(dcgan_tensor_make(out, 3, 5, 1, 1), x, &lin) == DCGAN_OK,
          "linear_forward/status");
    GOLDEN("linear.out", out, "linear_forward/out");
    CHECK(dcgan_linear_backward(dcgan_tensor_make(dx, 3, 7, 1, 1), dw, db,
                                dcgan_tensor_make(fdata("linear.dout"), 3, 5, 1, 1), x,
                                &lin) == DCGAN_OK, "linear_backward/status");
    GOLDEN("linear.dx", dx, "linear_backward/dinp");
    GOLDEN("linear.dw", dw, "linear_backward/dweight");
    GOLDEN("linear.db", db, "linear_backward/dbias");
}

static void test_linear_gradcheck(void) {
    const int N = 2, IN = 3 * 5 * 7, OUT = 4;
    linear_ctx c;
    float *dx = zeros((size_t)N * IN), *dw = zeros((size_t)OUT * IN), *db = zeros(OUT);
    c.lin.weight = randn((size_t)OUT * IN);
    c.lin.bias = randn(OUT);
    c.lin.in_features = IN;
    c.lin.out_features = OUT;
    c.x = dcgan_tensor_make(randn((size_t)N * IN), N, 3, 5, 7);
    c.out = dcgan_tensor_make(zeros((size_t)N * OUT), N, OUT, 1, 1);
    c.r = randn((size_t)N * OUT);
    dcgan_linear_backward(dcgan_tensor_make(dx, N, 3, 5, 7), dw, db,
                          dcgan_tensor_make(c.r, N, OUT, 1, 1), c.x, &c.lin);
    gradcheck("linear_backward/fd dinp", linear_loss, &c, c.x.data, dx, (size_t)N * IN, 1e-2f, 1e-3, 1e-3);
    gradcheck("linear_backward/fd dweight", linear_loss, &c, c.lin.weight, dw, (size_t)OUT * IN, 1e-2f, 1e-3, 1e-3);
    gradcheck("linear_backward/fd dbias", linear_loss, &c, c.lin.bias, db, OUT, 1e-2f, 1e-3, 1e-3);
    free(dx); free(dw); free(db); free(c.lin.weight); free(c.lin.bias);
    free(c.x.data); free(c.out.data); free(c.r);
}

// ---------------------------------------------------------------------------
// Conv2d

static dcgan_conv2d conv_from_geom(const char *name, int C, int OC) {
    char key[64];
    dcgan_conv2d conv;
    snprintf(key, sizeof key, "%s.geom", name);
    float *g = fdata(key);
    snprintf(key, sizeof key, "%s.w", name);
    conv.weight = fdata(key);
    snprintf(key, sizeof key, "%s.b", name);
    conv.bias = fdata(key);
    conv.in_channels = C;
    conv.out_channels = OC;
    conv.kernel = (int)g[0];
    conv.stride = (int)g[1];
    conv.pad_top = (int)g[2];
    conv.pad_left = (int)g[3];
    conv.pad_bottom = (int)g[4];
    conv.pad_right = (int)g[5];
    return conv;
}

static void conv2d_golden_case(const char *name) {
    char key[64], label[96];
    snprintf(key, sizeof key, "%s.x", name);
    fixture_array *xa = fixture_get(&fx, key);
    snprintf(key, sizeof key, "%s.out", name);
    fixture_array *oa = fixture_get(&fx, key);
    if (!CHECK(xa && oa, "conv2d/fixture present")) return;
    dcgan_conv2d conv = conv_from_geom(name, xa->dims[1], oa->dims[1]);
    dcgan_tensor x = dcgan_tensor_make(xa->data, xa->dims[0], xa->dims[1], xa->dims[2], xa->dims[3]);
    float *out = zeros(oa->count), *dx = zeros(xa->count);
    float *dw = zeros((size_t)conv.out_channels * conv.in_channels * conv.kernel * conv.kernel);
    float *db = zeros((size_t)conv.out_channels);
    dcgan_tensor o = dcgan_tensor_make(out, oa->dims[0], oa->dims[1], oa->dims[2], oa->dims[3]);
    snprintf(label, sizeof label, "conv2d_forward/%s", name);
    CHECK(dcgan_conv2d_forward(o, x, &conv, NULL, 0) == DCGAN_OK, label);
    GOLDEN(oa->name, out, label);
    snprintf(key, sizeof key, "%s.dout", name);
    dcgan_tensor dout = dcgan_tensor_make(fdata(key), o.n, o.c, o.h, o.w);
    CHECK(dcgan_conv2d_backward(dcgan_tensor_make(dx, x.n, x.c, x.h, x.w), dw, db, dout, x,
                                &conv, NULL, 0) == DCGAN_OK, "conv2d_backward/status");
    snprintf(key, sizeof key, "%s.dx", name);
    snprintf(label, sizeof label, "conv2d_backward/%s dinp", name);
    GOLDEN(key, dx, label);
    snprintf(key, sizeof key, "%s.dw", name);
    snprintf(label, sizeof label, "conv2d_backward/%s dweight", name);
    GOLDEN(key, dw, label);
    snprintf(key, sizeof key, "%s.db", name);
    snprintf(label, sizeof label, "conv2d_backward/%s dbias", name);
    GOLDEN(key, db, label);
    free(out); free(dx); free(dw); free(db);
}

static void test_conv2d_golden(void) {
    conv2d_golden_case("conv_a");
    conv2d_golden_case("conv_same");
    conv2d_golden_case("conv_s1");
}

static void test_same_padding(void) {
    int a, b;
    dcgan_same_padding(8, 5, 2, &a, &b);
    CHECK(a == 1 && b == 2, "same_padding/K5 S2 even: 1 before, 2 after");
    dcgan_same_padding(8, 5, 1, &a, &b);
    CHECK(a == 2 && b == 2, "same_padding/K5 S1: 2 and 2");
    dcgan_same_padding(7, 5, 2, &a, &b);
    CHECK(a == 2 && b == 2, "same_padding/K5 S2 odd: 2 and 2");
    CHECK(dcgan_conv_out_size(128, 5, 2, 1, 2) == 64, "conv_out_size/128 -> 64");
    CHECK(dcgan_conv_transpose_out_size(8, 4, 2, 1, 1) == 16, "conv_transpose_out_size/8 -> 16");
    // sizes past INT_MAX and a stride of 0 (a helper's audit: int overflow, then a division by 0)
    CHECK(dcgan_conv_out_size(2147483647, 1, 1, 1, 1) == 0 && dcgan_conv_out_size(2147483647, 3, 1, 1, 1) == 2147483647,
          "conv_out_size/0 when the size would pass INT_MAX, exact at INT_MAX");
    CHECK(dcgan_conv_transpose_out_size(1 << 20, 4, 1 << 12, 0, 0) == 0 &&
              dcgan_conv_transpose_out_size(2, 3, 1 << 30, 1, 1) == 1073741825,
          "conv_transpose_out_size/0 when the size would pass INT_MAX");
    a = b = 7;
    dcgan_same_padding(8, 3, 0, &a, &b);
    CHECK(a == 0 && b == 0 && dcgan_conv_out_size(8, 3, 0, 1, 1) == 0, "same_padding/stride 0: no padding, no division");
    dcgan_same_padding(2147483647, 5, 2, &a, &b);
    CHECK(a == 2 && b == 2, "same_padding/in = INT_MAX: in + S - 1 counted in 64 bits");
    // Pads derived from specs: a 'same' transposed convolution is the adjoint of
    // a 'same' convolution from H*S to H, which pads K - S in all (the formula
    // above with in = H*S), the smaller half first. Each kernel 1..6 and stride
    // 1..3 with K >= S on a 5 x 7 input, 7 of them asymmetric; the output is
    // 5S x 7S. K < S is refused (Keras pads the output there).
    int asymmetric = 0, ok = 1;
    for (int K = 1; K <= 6; K++)
        for (int S = 1; S <= 3; S++) {
            dcgan_layer_spec spec = dcgan_spec_conv_transpose2d_same(2, K, S);
            dcgan_model m;
            const int total = K - S, before = total / 2, after = total - before;
            if (K < S) {
                char want[128];
                snprintf(want, sizeof want, "model_init: layer 0: a 'same' transposed convolution needs kernel >= "
                         "stride (got kernel %d, stride %d)", K, S);
                if (dcgan_model_init(&m, "g", &spec, 1, 3, 5, 7, 1) != DCGAN_ERR_SHAPE ||
                    strcmp(dcgan_last_error(), want) != 0) {
                    fprintf(stderr, "  K %d S %d: not refused as '%s' but '%s'\n", K, S, want, dcgan_last_error());
                    ok = 0;
                }
                continue;
            }
            if (dcgan_model_init(&m, "g", &spec, 1, 3, 5, 7, 1) != DCGAN_OK) {
                fprintf(stderr, "  K %d S %d: %s\n", K, S, dcgan_last_error());
                ok = 0;
                continue;
            }
            const dcgan_layer *got = &m.layers[0];
            if (got->pad_top != before || got->pad_left != before || got->pad_bottom != after ||
                got->pad_right != after || m.layers[0].out_h != 5 * S || m.layers[0].out_w != 7 * S) {
                fprintf(stderr, "  K %d S %d: pads %d %d %d %d, out %dx%d; want %d %d %d %d, %dx%d\n", K, S,
                        got->pad_top, got->pad_left, got->pad_bottom, got->pad_right, m.layers[0].out_h,
                        m.layers[0].out_w, before, before, after, after, 5 * S, 7 * S);
                ok = 0;
            }
            asymmetric += before != after;
            dcgan_model_free(&m);
        }
    CHECK(ok && asymmetric == 7, "conv_transpose2d_same/pads and 5S x 7S output from the spec, K 1-6, S 1-3 "
                                 "(7 of them asymmetric), K < S refused");
}

typedef struct {
    dcgan_conv2d conv;
    dcgan_conv_transpose2d convt;
    dcgan_tensor x, out;
    float *r;
    int transposed;
} conv_ctx;

static double conv_loss(void *p) {
    conv_ctx *c = (conv_ctx *)p;
    if (c->transposed)
        dcgan_conv_transpose2d_forward(c->out, c->x, &c->convt, NULL, 0);
    else
        dcgan_conv2d_forward(c->out, c->x, &c->conv, NULL, 0);
    return dot(c->out.data, c->r, dcgan_tensor_numel(c->out));
}

// Gradient check and fast-vs-reference check of one shape; tag names it in messages.
static void conv_fd_shape(int transposed, const char *tag, int N, int C, int H, int W, int OC, int K, int S,
                          int pt, int pl, int pb, int pr) {
    conv_ctx c;
    memset(&c, 0, sizeof c);
    c.transposed = transposed;
    size_t wcount = (size_t)OC * C * K * K;
    float *wgt = randn(wcount), *bias = randn(OC);
    int OH, OW;
    if (transposed) {
        dcgan_conv_transpose2d t = {wgt, bias, C, OC, K, S, pt, pl, pb, pr};
        c.convt = t;
        OH = dcgan_conv_transpose_out_size(H, K, S, pt, pb);
        OW = dcgan_conv_transpose_out_size(W, K, S, pl, pr);
    } else {
        dcgan_conv2d t = {wgt, bias, C, OC, K, S, pt, pl, pb, pr};
        c.conv = t;
        OH = dcgan_conv_out_size(H, K, S, pt, pb);
        OW = dcgan_conv_out_size(W, K, S, pl, pr);
    }
    c.x = dcgan_tensor_make(randn((size_t)N * C * H * W), N, C, H, W);
    c.out = dcgan_tensor_make(zeros((size_t)N * OC * OH * OW), N, OC, OH, OW);
    c.r = randn((size_t)N * OC * OH * OW);
    size_t nx = (size_t)N * C * H * W;
    float *dx = zeros(nx), *dw = zeros(wcount), *db = zeros(OC);
    float *dx_ref = zeros(nx), *dw_ref = zeros(wcount), *db_ref = zeros(OC);
    float *out_ref = zeros(dcgan_tensor_numel(c.out));
    dcgan_tensor dout = dcgan_tensor_make(c.r, N, OC, OH, OW);
    dcgan_tensor dxt = dcgan_tensor_make(dx, N, C, H, W), dxr = dcgan_tensor_make(dx_ref, N, C, H, W);
    dcgan_tensor oref = dcgan_tensor_make(out_ref, N, OC, OH, OW);
    // dinp starts non-zero: backward must add, not overwrite
    for (size_t i = 0; i < nx; i++) dx[i] = dx_ref[i] = 0.5f;
    if (transposed) {
        dcgan_conv_transpose2d_forward(c.out, c.x, &c.convt, NULL, 0);
        dcgan_conv_transpose2d_forward_ref(oref, c.x, &c.convt);
        dcgan_conv_transpose2d_backward(dxt, dw, db, dout, c.x, &c.convt, NULL, 0);
        dcgan_conv_transpose2d_backward_ref(dxr, dw_ref, db_ref, dout, c.x, &c.convt);
    } else {
        dcgan_conv2d_forward(c.out, c.x, &c.conv, NULL, 0);
        dcgan_conv2d_forward_ref(oref, c.x, &c.conv);
        dcgan_conv2d_backward(dxt, dw, db, dout, c.x, &c.conv, NULL, 0);
        dcgan_conv2d_backward_ref(dxr, dw_ref, db_ref, dout, c.x, &c.conv);
    }
    char nm[64];
    snprintf(nm, sizeof nm, "%s%s", transposed ? "conv_transpose2d" : "conv2d", tag);
    char label[128];
    snprintf(label, sizeof label, "%s_forward/fast vs ref", nm);
    CHECK_CLOSE(out_ref, c.out.data, dcgan_tensor_numel(c.out), 1e-5, 1e-5, label);
    snprintf(label, sizeof label, "%s_backward/fast vs ref dinp", nm);
    CHECK_CLOSE(dx_ref, dx, nx, 1e-5, 1e-5, label);
    snprintf(label, sizeof label, "%s_backward/fast vs ref dweight", nm);
    CHECK_CLOSE(dw_ref, dw, wcount, 1e-5, 1e-5, label);
    snprintf(label, sizeof label, "%s_backward/fast vs ref dbias", nm);
    CHECK_CLOSE(db_ref, db, OC, 1e-5, 1e-5, label);
    for (size_t i = 0; i < nx; i++) dx[i] -= 0.5f;
    snprintf(label, sizeof label, "%s_backward/fd dinp", nm);
    gradcheck(label, conv_loss, &c, c.x.data, dx, nx, 1e-2f, 2e-3, 2e-3);
    snprintf(label, sizeof label, "%s_backward/fd dweight", nm);
    gradcheck(label, conv_loss, &c, wgt, dw, wcount, 1e-2f, 2e-3, 2e-3);
    snprintf(label, sizeof label, "%s_backward/fd dbias", nm);
    gradcheck(label, conv_loss, &c, bias, db, OC, 1e-2f, 2e-3, 2e-3);
    free(wgt); free(bias); free(c.x.data); free(c.out.data); free(c.r);
    free(dx); free(dw); free(db); free(dx_ref); free(dw_ref); free(db_ref); free(out_ref);
}

// N=2, C=3, 5x7, S=2, asymmetric pads.
static void conv_fd_case(int transposed) { conv_fd_shape(transposed, "", 2, 3, 5, 7, 4, 3, 2, 1, 0, 2, 1); }

// With work for only two images at a time (the products then go group by
// group, n0 = 0, 2, 4): the output written into the images in place (OH*OW =
// 16), a whole-image kernel (the Linear route) and OH*OW = 25 (product, then
// scatter), forward bit for bit as with room for the whole batch, and all of
// it against the reference loops.
static void test_conv2d_groups(void) {
    // C, H, OC, K, S, pad
    const int shapes[][6] = {{16, 8, 32, 3, 2, 1}, {16, 4, 7, 4, 1, 0}, {3, 9, 5, 3, 2, 1}};
    const int N = 5;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int C = shapes[s][0], H = shapes[s][1], OC = shapes[s][2], K = shapes[s][3], S = shapes[s][4];
        const int p = shapes[s][5], OH = dcgan_conv_out_size(H, K, S, p, p);
        const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * OC * OH * OH, nw = (size_t)OC * C * K * K;
        float *x = randn(nx), *w = randn(nw), *b = randn((size_t)OC), *dy = randn(ny);
        float *y = zeros(ny), *y_all = zeros(ny), *y_ref = zeros(ny);
        float *dx = zeros(nx), *dx_ref = zeros(nx), *dw = zeros(nw), *dw_ref = zeros(nw);
        float *db = zeros((size_t)OC), *db_ref = zeros((size_t)OC);
        dcgan_conv2d conv = {w, b, C, OC, K, S, p, p, p, p};
        const dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, H), tdy = dcgan_tensor_make(dy, N, OC, OH, OH);
        const size_t wf = 2 * dcgan_conv2d_work_size(&conv, H, H);
        float *work = zeros(wf);
        char label[128];
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d K%d S%d: status", C, H, H, OC, K, S);
        CHECK(dcgan_conv2d_forward(dcgan_tensor_make(y, N, OC, OH, OH), tx, &conv, work, wf) == DCGAN_OK &&
                  dcgan_conv2d_forward(dcgan_tensor_make(y_all, N, OC, OH, OH), tx, &conv, NULL, 0) == DCGAN_OK &&
                  dcgan_conv2d_backward(dcgan_tensor_make(dx, N, C, H, H), dw, db, tdy, tx, &conv, work, wf) ==
                      DCGAN_OK,
              label);
        dcgan_conv2d_forward_ref(dcgan_tensor_make(y_ref, N, OC, OH, OH), tx, &conv);
        dcgan_conv2d_backward_ref(dcgan_tensor_make(dx_ref, N, C, H, H), dw_ref, db_ref, tdy, tx, &conv);
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d: forward as with the whole batch, bit for bit",
                 C, H, H, OC);
        CHECK(memcmp(y, y_all, ny * sizeof(float)) == 0, label);
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d: forward", C, H, H, OC);
        CHECK_CLOSE(y_ref, y, ny, 1e-4, 1e-4, label);
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d: dinp", C, H, H, OC);
        CHECK_CLOSE(dx_ref, dx, nx, 1e-4, 1e-4, label);
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d: dweight", C, H, H, OC);
        CHECK_CLOSE(dw_ref, dw, nw, 1e-3, 1e-4, label);
        snprintf(label, sizeof label, "conv2d groups of 2/C%d %dx%d OC%d: dbias", C, H, H, OC);
        CHECK_CLOSE(db_ref, db, (size_t)OC, 1e-3, 1e-4, label);
        free(x); free(w); free(b); free(dy); free(y); free(y_all); free(y_ref); free(dx); free(dx_ref);
        free(dw); free(dw_ref); free(db); free(db_ref); free(work);
    }
}

// And kernels that cover the whole image (a 1x1 output: the discriminator's
// last layer, which takes the images as a matrix), stride 1 and stride 2 with
// a bottom/right pad never reached, one output channel and several.
static void test_conv2d_gradcheck(void) {
    conv_fd_case(0);
    conv_fd_shape(0, " (whole image, OC 1)", 3, 5, 4, 4, 1, 4, 1, 0, 0, 0, 0);
    conv_fd_shape(0, " (whole image, stride 2)", 2, 3, 4, 4, 6, 4, 2, 0, 0, 1, 1);
}

// ---------------------------------------------------------------------------
// ConvTranspose2d

static void convt_golden_case(const char *name) {
    char key[64], label[96];
    snprintf(key, sizeof key, "%s.x", name);
    fixture_array *xa = fixture_get(&fx, key);
    snprintf(key, sizeof key, "%s.out", name);
    fixture_array *oa = fixture_get(&fx, key);
    if (!CHECK(xa && oa, "conv_transpose2d/fixture present")) return;
    dcgan_conv2d g = conv_from_geom(name, xa->dims[1], oa->dims[1]);
    dcgan_conv_transpose2d conv = {g.weight, g.bias, g.in_channels, g.out_channels, g.kernel,
                                   g.stride, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right};
    dcgan_tensor x = dcgan_tensor_make(xa->data, xa->dims[0], xa->dims[1], xa->dims[2], xa->dims[3]);
    float *out = zeros(oa->count), *dx = zeros(xa->count);
    float *dw = zeros((size_t)conv.out_channels * conv.in_channels * conv.kernel * conv.kernel);
    float *db = zeros((size_t)conv.out_channels);
    dcgan_tensor o = dcgan_tensor_make(out, oa->dims[0], oa->dims[1], oa->dims[2], oa->dims[3]);
    snprintf(label, sizeof label, "conv_transpose2d_forward/%s", name);
    CHECK(dcgan_conv_transpose2d_forward(o, x, &conv, NULL, 0) == DCGAN_OK, label);
    GOLDEN(oa->name, out, label);
    snprintf(key, sizeof key, "%s.dout", name);
    dcgan_tensor dout = dcgan_tensor_make(fdata(key), o.n, o.c, o.h, o.w);
    CHECK(dcgan_conv_transpose2d_backward(dcgan_tensor_make(dx, x.n, x.c, x.h, x.w), dw, db,
                                          dout, x, &conv, NULL, 0) == DCGAN_OK,
          "conv_transpose2d_backward/status");
    snprintf(key, sizeof key, "%s.dx", name);
    snprintf(label, sizeof label, "conv_transpose2d_backward/%s dinp", name);
    GOLDEN(key, dx, label);
    snprintf(key, sizeof key, "%s.dw", name);
    snprintf(label, sizeof label, "conv_transpose2d_backward/%s dweight", name);
    GOLDEN(key, dw, label);
    snprintf(key, sizeof key, "%s.db", name);
    snprintf(label, sizeof label, "conv_transpose2d_backward/%s dbias", name);
    GOLDEN(key, db, label);
    free(out); free(dx); free(dw); free(db);
}

static void test_conv_transpose2d_golden(void) {
    convt_golden_case("convt_keras");
    convt_golden_case("convt_odd");
    convt_golden_case("convt_asym");
    convt_golden_case("convt_skew");
}

static void test_conv_transpose2d_gradcheck(void) { conv_fd_case(1); }

// The transposed convolution's other routes: a 1x1 input with no padding (a
// generator's first layer: one product, no col2im) and few output channels
// (a generator's last layer: the backward is the adjoint convolution's direct
// path). Finite differences and the reference through conv_fd_shape; then
// gradients added to nonzero ones, asked for one at a time, with the caller's
// work of one image or none, against the reference loops.
static void convt_route_case(const char *tag, int N, int C, int H, int W, int OC, int K, int S, int pt, int pl,
                             int pb, int pr) {
    conv_fd_shape(1, tag, N, C, H, W, OC, K, S, pt, pl, pb, pr);
    const int OH = dcgan_conv_transpose_out_size(H, K, S, pt, pb), OW = dcgan_conv_transpose_out_size(W, K, S, pl, pr);
    const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * OC * OH * OW, nw = (size_t)C * OC * K * K;
    float *x = randn(nx), *w = randn(nw), *b = randn((size_t)OC), *dy = randn(ny);
    float *dx0 = randn(nx), *dw0 = randn(nw), *db0 = randn((size_t)OC);
    float *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)OC), *dxr = zeros(nx), *dwr = zeros(nw);
    float *dbr = zeros((size_t)OC);
    dcgan_conv_transpose2d conv = {w, b, C, OC, K, S, pt, pl, pb, pr};
    const dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, W), tdy = dcgan_tensor_make(dy, N, OC, OH, OW);
    memcpy(dxr, dx0, nx * sizeof(float));
    memcpy(dwr, dw0, nw * sizeof(float));
    memcpy(dbr, db0, (size_t)OC * sizeof(float));
    dcgan_conv_transpose2d_backward_ref(dcgan_tensor_make(dxr, N, C, H, W), dwr, dbr, tdy, tx, &conv);
    const size_t wf = dcgan_conv_transpose2d_work_size(&conv, H, W);
    float *work = zeros(wf);
    char label[160];
    for (int own = 0; own < 2; own++)
        for (int which = 0; which < 3; which++) {   // all, dinp only, dweight and dbias only
            memcpy(dx, dx0, nx * sizeof(float));
            memcpy(dw, dw0, nw * sizeof(float));
            memcpy(db, db0, (size_t)OC * sizeof(float));
            snprintf(label, sizeof label, "conv_transpose2d%s/%s work, %s: status", tag, own ? "no" : "one image's",
                     which == 0 ? "all gradients" : which == 1 ? "dinp only" : "dweight and dbias only");
            CHECK(dcgan_conv_transpose2d_backward(dcgan_tensor_make(which == 2 ? NULL : dx, N, C, H, W),
                                                  which == 1 ? NULL : dw, which == 1 ? NULL : db, tdy, tx, &conv,
                                                  own ? NULL : work, own ? 0 : wf) == DCGAN_OK,
                  label);
            CHECK_CLOSE(which == 2 ? dx0 : dxr, dx, nx, 1e-4, 1e-4, label);
            CHECK_CLOSE(which == 1 ? dw0 : dwr, dw, nw, 1e-4, 1e-4, label);
            CHECK_CLOSE(which == 1 ? db0 : dbr, db, (size_t)OC, 1e-4, 1e-4, label);
        }
    free(x); free(w); free(b); free(dy); free(dx0); free(dw0); free(db0); free(dx); free(dw); free(db);
    free(dxr); free(dwr); free(dbr); free(work);
}

static void test_conv_transpose2d_routes(void) {
    convt_route_case("_1x1", 3, 5, 1, 1, 4, 4, 1, 0, 0, 0, 0);          // noise -> 4x4
    convt_route_case("_1x1_s2", 2, 3, 1, 1, 2, 3, 2, 0, 0, 0, 0);
    convt_route_case("_to_gray", 2, 5, 6, 7, 1, 4, 2, 1, 1, 1, 1);      // 5 -> 1 channel, K=4, S=2
    convt_route_case("_to_rgb_s1", 2, 6, 5, 9, 3, 5, 1, 2, 2, 2, 2);    // 6 -> 3 channels, K=5, S=1
    convt_route_case("_to_2_asym", 1, 4, 5, 4, 2, 3, 2, 1, 0, 0, 1);
    {   // the last three take the direct path backward (as the adjoint convolution)
        dcgan_conv2d adj = {NULL, NULL, 1, 5, 4, 2, 1, 1, 1, 1};
        CHECK(dcgan__use_direct(&adj), "conv_transpose2d_to_gray/its adjoint takes the direct path");
    }
    {   // the 1x1 route without a bias, on sums that underflow to -0: +0 in every
        // output, as the reference (0 + x * w) and the col2im route (the plane set
        // to 0, then the sum added) write them
        float x1 = 1e-30f, w4[4] = {-1e-30f, -1e-30f, -1e-30f, -1e-30f}, got[4], want[4];
        const dcgan_conv_transpose2d c1 = {w4, NULL, 1, 1, 2, 2, 0, 0, 0, 0};
        const dcgan_tensor in1 = dcgan_tensor_make(&x1, 1, 1, 1, 1);
        const int ok = dcgan_conv_transpose2d_forward(dcgan_tensor_make(got, 1, 1, 2, 2), in1, &c1, NULL, 0) ==
                           DCGAN_OK &&
                       dcgan_conv_transpose2d_forward_ref(dcgan_tensor_make(want, 1, 1, 2, 2), in1, &c1) == DCGAN_OK;
        CHECK(ok && memcmp(got, want, sizeof got) == 0 && !signbit(got[0]) && !signbit(got[3]) && got[0] == 0.0f,
              "conv_transpose2d_1x1/no bias, sums underflowing to -0: +0 as the reference, bit for bit");
    }
}

// ---------------------------------------------------------------------------
// Upsample

static void upsample_golden_case(const char *name, dcgan_upsample_mode mode) {
    char key[64], label[96];
    snprintf(key, sizeof key, "%s.x", name);
    fixture_array *xa = fixture_get(&fx, key);
    snprintf(key, sizeof key, "%s.out", name);
    fixture_array *oa = fixture_get(&fx, key);
    if (!CHECK(xa && oa, "upsample/fixture present")) return;
    float *out = zeros(oa->count), *dx = zeros(xa->count);
    dcgan_tensor x = dcgan_tensor_make(xa->data, xa->dims[0], xa->dims[1], xa->dims[2], xa->dims[3]);
    dcgan_tensor o = dcgan_tensor_make(out, oa->dims[0], oa->dims[1], oa->dims[2], oa->dims[3]);
    snprintf(label, sizeof label, "upsample_forward/%s", name);
    CHECK(dcgan_upsample_forward(o, x, mode) == DCGAN_OK, label);
    GOLDEN(oa->name, out, label);
    snprintf(key, sizeof key, "%s.dout", name);
    CHECK(dcgan_upsample_backward(dcgan_tensor_make(dx, x.n, x.c, x.h, x.w),
                                  dcgan_tensor_make(fdata(key), o.n, o.c, o.h, o.w), mode) == DCGAN_OK,
          "upsample_backward/status");
    snprintf(key, sizeof key, "%s.dx", name);
    snprintf(label, sizeof label, "upsample_backward/%s", name);
    GOLDEN(key, dx, label);
    free(out); free(dx);
}

static void test_upsample_golden(void) {
    upsample_golden_case("up_nearest2", DCGAN_UPSAMPLE_NEAREST);
    upsample_golden_case("up_bilinear2", DCGAN_UPSAMPLE_BILINEAR);
    upsample_golden_case("up_bilinear_odd", DCGAN_UPSAMPLE_BILINEAR);
    upsample_golden_case("up_nearest_odd", DCGAN_UPSAMPLE_NEAREST);
    upsample_golden_case("up_bilinear_down", DCGAN_UPSAMPLE_BILINEAR);
}

typedef struct {
    dcgan_tensor x, out;
    dcgan_upsample_mode mode;
    float *r;
} up_ctx;

static double upsample_loss(void *p) {
    up_ctx *c = (up_ctx *)p;
    dcgan_upsample_forward(c->out, c->x, c->mode);
    return dot(c->out.data, c->r, dcgan_tensor_numel(c->out));
}

static void test_upsample_gradcheck(void) {
    for (int mode = 0; mode < 2; mode++) {
        up_ctx c;
        c.mode = (dcgan_upsample_mode)mode;
        c.x = dcgan_tensor_make(randn(2 * 3 * 5 * 7), 2, 3, 5, 7);
        c.out = dcgan_tensor_make(zeros(2 * 3 * 10 * 14), 2, 3, 10, 14);
        c.r = randn(2 * 3 * 10 * 14);
        float *dx = zeros(2 * 3 * 5 * 7);
        dcgan_upsample_backward(dcgan_tensor_make(dx, 2, 3, 5, 7),
                                dcgan_tensor_make(c.r, 2, 3, 10, 14), c.mode);
        gradcheck(mode ? "upsample_backward/fd bilinear" : "upsample_backward/fd nearest",
                  upsample_loss, &c, c.x.data, dx, 2 * 3 * 5 * 7, 1e-2f, 1e-3, 1e-3);
        free(c.x.data); free(c.out.data); free(c.r); free(dx);
    }
}

// Nearest copies its source pixel, Inf and NaN too, and no other pixel sees
// them (F.interpolate(mode='nearest') on [[1, inf], [-2, nan]] to 4x4 gives
// each value in a 2x2 block); the bilinear form's weights of 0 (on the same
// pixel) once made the Inf's block NaN: 0 * Inf.
static void test_upsample_nearest_copies(void) {
    float x[4] = {1.0f, INFINITY, -2.0f, NAN}, out[16];
    CHECK(dcgan_upsample_forward(dcgan_tensor_make(out, 1, 1, 4, 4), dcgan_tensor_make(x, 1, 1, 2, 2),
                                 DCGAN_UPSAMPLE_NEAREST) == DCGAN_OK, "upsample_forward/nearest status");
    int right = 0;
    for (int h = 0; h < 4; h++)
        for (int w = 0; w < 4; w++) {
            const float want = x[(h / 2) * 2 + w / 2], got = out[h * 4 + w];
            right += isnan(want) ? isnan(got) : got == want;
        }
    CHECK(right == 16, "upsample_forward/nearest copies Inf and NaN into their own block only");
}

// pytorch-fid's resize to 299x299 from 128x128 and from 800x1000 (inputs made
// from the PCG32 stream on both sides, outputs from F.interpolate)
static void test_resize_to_299(void) {
    fixture rs;
    const char *names[2] = {"resize_128.out", "resize_800x1000.out"};
    const int hw[2][2] = {{128, 128}, {800, 1000}};
    const uint64_t seeds[2] = {21, 22};
    if (!CHECK(fixture_load(&rs, "tests/data/resize.bin"), "upsample/resize fixture present")) return;
    for (int k = 0; k < 2; k++) {
        size_t n = (size_t)hw[k][0] * hw[k][1];
        float *x = zeros(n), *out = zeros(299 * 299);
        dcgan_rng g;
        dcgan_rng_seed(&g, seeds[k]);
        for (size_t i = 0; i < n; i++) x[i] = dcgan_rng_uniform(&g);
        dcgan_upsample_forward(dcgan_tensor_make(out, 1, 1, 299, 299),
                               dcgan_tensor_make(x, 1, 1, hw[k][0], hw[k][1]), DCGAN_UPSAMPLE_BILINEAR);
        fixture_array *want = fixture_get(&rs, names[k]);
        char label[80];
        snprintf(label, sizeof label, "upsample_forward/bilinear %dx%d -> 299x299 vs F.interpolate", hw[k][0], hw[k][1]);
        if (CHECK(want != NULL, label)) CHECK_CLOSE(want->data, out, 299 * 299, 1e-6, 1e-6, label);
        free(x);
        free(out);
    }
    fixture_free(&rs);
}

// ---------------------------------------------------------------------------
// BatchNorm2d

typedef dcgan_status (*bn_forward_fn)(dcgan_tensor, dcgan_tensor, dcgan_batchnorm2d *, int);
typedef dcgan_status (*bn_backward_fn)(dcgan_tensor, float *, float *, dcgan_tensor, dcgan_tensor,
                                       const dcgan_batchnorm2d *);

// backward from the fixture PREFIX.dout into zeroed dx, dg, dbt (360, 4, 4 floats), checked
// against PREFIX.dx, .dgamma and .dbeta; labels "FN/MODE dinp" and so on
static void batchnorm2d_golden_backward(const char *fn, const char *mode, const char *prefix,
                                        bn_backward_fn backward, dcgan_tensor x, const dcgan_batchnorm2d *bn,
                                        float *dx, float *dg, float *dbt) {
    static const char *const part[3][2] = {{"dx", "dinp"}, {"dgamma", "dgamma"}, {"dbeta", "dbeta"}};
    float *got[3] = {dx, dg, dbt};
    char name[32], label[160];
    memset(dx, 0, 360 * sizeof(float));
    memset(dg, 0, 4 * sizeof(float));
    memset(dbt, 0, 4 * sizeof(float));
    snprintf(name, sizeof name, "%s.dout", prefix);
    backward(dcgan_tensor_make(dx, 3, 4, 5, 6), dg, dbt, dcgan_tensor_make(fdata(name), 3, 4, 5, 6), x, bn);
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "%s.%s", prefix, part[k][0]);
        snprintf(label, sizeof label, "%s/%s %s", fn, mode, part[k][1]);
        GOLDEN(name, got[k], label);
    }
}

// PyTorch's numbers, for the library's BatchNorm and for its plain loops (the _ref pair).
static void batchnorm2d_golden_case(const char *fn, bn_forward_fn forward, bn_backward_fn backward) {
    char label[160];
    float rm[4], rv[4], gamma[4], beta[4], smean[4], sinv[4];
    float out[360], dx[360], dg[4], dbt[4];
    memcpy(rm, fdata("bn.rm0"), sizeof rm);
    memcpy(rv, fdata("bn.rv0"), sizeof rv);
    memcpy(gamma, fdata("bn.gamma"), sizeof gamma);
    memcpy(beta, fdata("bn.beta"), sizeof beta);
    dcgan_batchnorm2d bn = {gamma, beta, rm, rv, smean, sinv, 4, 1e-5f, 0.1f, 0};
    dcgan_tensor x = dcgan_tensor_make(fdata("bn.x"), 3, 4, 5, 6);
    dcgan_tensor o = dcgan_tensor_make(out, 3, 4, 5, 6);
    CHECK(forward(o, x, &bn, 1) == DCGAN_OK, (snprintf(label, sizeof label, "%s/status", fn), label));
    GOLDEN("bn.out", out, (snprintf(label, sizeof label, "%s/train out", fn), label));
    GOLDEN("bn.rm1", rm, (snprintf(label, sizeof label, "%s/running_mean", fn), label));
    GOLDEN("bn.rv1", rv, (snprintf(label, sizeof label, "%s/running_var (unbiased)", fn), label));
    batchnorm2d_golden_backward(fn, "train", "bn", backward, x, &bn, dx, dg, dbt);
    // eval: running statistics (already updated, as in the PyTorch script)
    CHECK(forward(o, x, &bn, 0) == DCGAN_OK, (snprintf(label, sizeof label, "%s/eval status", fn), label));
    GOLDEN("bn_eval.out", out, (snprintf(label, sizeof label, "%s/eval out", fn), label));
    GOLDEN("bn.rm1", rm, (snprintf(label, sizeof label, "%s/eval leaves running_mean", fn), label));
    batchnorm2d_golden_backward(fn, "eval", "bn_eval", backward, x, &bn, dx, dg, dbt);
}

static void test_batchnorm2d_golden(void) {
    batchnorm2d_golden_case("batchnorm2d", dcgan_batchnorm2d_forward, dcgan_batchnorm2d_backward);
    batchnorm2d_golden_case("batchnorm2d_ref", dcgan_batchnorm2d_forward_ref, dcgan_batchnorm2d_backward_ref);
}

// The library's BatchNorm against its plain loops, on shapes that reach every
// branch of the fast one: planes shorter than 16 values, not a multiple of 16,
// longer than a backward chunk (256), one image, above the threading cut; both
// modes, gradients added to what dinp held, and dinp NULL (dgamma, dbeta only).
static void test_batchnorm2d_ref(void) {
    const int shapes[][4] = {{1, 2, 1, 3}, {3, 4, 5, 6}, {2, 3, 17, 19}, {4, 8, 16, 16}, {8, 64, 8, 8}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int N = shapes[k][0], C = shapes[k][1], H = shapes[k][2], W = shapes[k][3];
        const size_t n = (size_t)N * C * H * W;
        for (int training = 1; training >= 0; training--) {
            char label[160];
            float *x = randn(n), *dout = randn(n), *gamma = randn((size_t)C), *beta = randn((size_t)C);
            float *stat[2][4], *grad[2][3];   // [fast, ref]: running mean, var, save mean, invstd; dx, dgamma, dbeta
            float *y[2];
            for (int v = 0; v < 2; v++) {
                for (int j = 0; j < 4; j++) stat[v][j] = zeros((size_t)C);
                for (int c = 0; c < C; c++) {
                    stat[v][0][c] = 0.1f * (float)c;   // running statistics as a trained layer has them
                    stat[v][1][c] = 1.0f + 0.05f * (float)c;
                }
                grad[v][0] = zeros(n);
                for (size_t i = 0; i < n; i++) grad[v][0][i] = 0.25f;   // backward adds to this
                grad[v][1] = zeros((size_t)C);
                grad[v][2] = zeros((size_t)C);
                y[v] = zeros(n);
                dcgan_batchnorm2d bn = {gamma, beta, stat[v][0], stat[v][1], stat[v][2], stat[v][3], C, 1e-5f, 0.1f, 0};
                const dcgan_tensor xt = dcgan_tensor_make(x, N, C, H, W), yt = dcgan_tensor_make(y[v], N, C, H, W);
                const dcgan_tensor dt = dcgan_tensor_make(dout, N, C, H, W);
                const dcgan_status f = (v ? dcgan_batchnorm2d_forward_ref : dcgan_batchnorm2d_forward)(yt, xt, &bn, training);
                const dcgan_status b = (v ? dcgan_batchnorm2d_backward_ref : dcgan_batchnorm2d_backward)(
                    dcgan_tensor_make(grad[v][0], N, C, H, W), grad[v][1], grad[v][2], dt, xt, &bn);
                // and once more with no dinp: dgamma and dbeta add a second time
                const dcgan_status b2 = (v ? dcgan_batchnorm2d_backward_ref : dcgan_batchnorm2d_backward)(
                    dcgan_tensor_make(NULL, N, C, H, W), grad[v][1], grad[v][2], dt, xt, &bn);
                snprintf(label, sizeof label, "batchnorm2d%s (%d,%d,%d,%d) %s/status", v ? "_ref" : "", N, C, H, W,
                         training ? "train" : "eval");
                CHECK(f == DCGAN_OK && b == DCGAN_OK && b2 == DCGAN_OK, label);
            }
            const char *names[] = {"out", "running_mean", "running_var", "save_mean", "save_invstd", "dinp", "dgamma",
                                   "dbeta"};
            float *fast[] = {y[0], stat[0][0], stat[0][1], stat[0][2], stat[0][3], grad[0][0], grad[0][1], grad[0][2]};
            float *ref[] = {y[1], stat[1][0], stat[1][1], stat[1][2], stat[1][3], grad[1][0], grad[1][1], grad[1][2]};
            for (int q = 0; q < 8; q++) {
                snprintf(label, sizeof label, "batchnorm2d (%d,%d,%d,%d) %s/%s = the plain loops'", N, C, H, W,
                         training ? "train" : "eval", names[q]);
                // sums of up to 4,096 values: float rounding of the fast one's partials and of dgamma's
                CHECK_CLOSE(ref[q], fast[q], q == 0 || q == 5 ? n : (size_t)C, 1e-4, 1e-5, label);
            }
            free(x); free(dout); free(gamma); free(beta);
            for (int v = 0; v < 2; v++) {
                for (int j = 0; j < 4; j++) free(stat[v][j]);
                for (int j = 0; j < 3; j++) free(grad[v][j]);
                free(y[v]);
            }
        }
    }
}

typedef struct {
    dcgan_batchnorm2d bn;
    dcgan_tensor x, out;
    float *r;
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = (bn_ctx *)p;
    float rm[3], rv[3];
    dcgan_batchnorm2d b = c->bn;
    b.running_mean = rm;
    b.running_var = rv;
    dcgan_batchnorm2d_forward(c->out, c->x, &b, 1);
    return dot(c->out.data, c->r, dcgan_tensor_numel(c->out));
}

static void test_batchnorm2d_gradcheck(void) {
    const int N = 2, C = 3, H = 5, W = 7;
    const size_t n = (size_t)N * C * H * W;
    float gamma[3] = {1.2f, -0.7f, 0.9f}, beta[3] = {0.1f, 0.2f, -0.3f};
    float rm[3] = {0}, rv[3] = {1, 1, 1}, sm[3], si[3], dg[3] = {0}, dbt[3] = {0};
    bn_ctx c;
    dcgan_batchnorm2d bn = {gamma, beta, rm, rv, sm, si, C, 1e-5f, 0.1f, 0};
    c.bn = bn;
    c.x = dcgan_tensor_make(randn(n), N, C, H, W);
    c.out = dcgan_tensor_make(zeros(n), N, C, H, W);
    c.r = randn(n);
    float *dx = zeros(n);
    dcgan_batchnorm2d_forward(c.out, c.x, &c.bn, 1);
    dcgan_batchnorm2d_backward(dcgan_tensor_make(dx, N, C, H, W), dg, dbt,
                               dcgan_tensor_make(c.r, N, C, H, W), c.x, &c.bn);
    gradcheck("batchnorm2d_backward/fd dinp", bn_loss, &c, c.x.data, dx, n, 1e-2f, 3e-3, 3e-3);
    gradcheck("batchnorm2d_backward/fd dgamma", bn_loss, &c, gamma, dg, C, 1e-2f, 3e-3, 3e-3);
    gradcheck("batchnorm2d_backward/fd dbeta", bn_loss, &c, beta, dbt, C, 1e-2f, 3e-3, 3e-3);
    free(c.x.data); free(c.out.data); free(c.r); free(dx);
}

// BatchNorm's sums (dcgan.h section 6): the value at position p of a run goes
// to partial p mod 16 unless it lies past the run's last whole 16, then to
// `rest`; the total adds the partials in order, rest last. This builds that
// order from the definition, value by value, and asks the loops for the same
// bits; then the CPU's versions (AVX2) against the loops, bit for bit; then
// BatchNorm itself on 1 and on 3 threads, above its threading cut.
static void bn_sum_spec(double part[16], double *rest, const float *x, const float *g, int runs, size_t stride,
                        size_t n, int kind, double mean, float fmean, float invstd) {
    for (int r = 0; r < runs; r++)
        for (size_t p = 0; p < n; p++) {
            const float v = x[(size_t)r * stride + p];
            double add = v;                                           // kind 0: values
            if (kind == 1) add = (v - mean) * (v - mean);             // kind 1: squares
            if (kind == 2) add = g[(size_t)r * stride + p];           // kind 2: the gradients' sum...
            if (kind == 3) add = (double)g[(size_t)r * stride + p] * (v - fmean) * invstd;   // ...and xhat's
            if (p >= n / 16 * 16) *rest += add;
            else part[p % 16] += add;
        }
}

static int bn_sum_equal(const dcgan__bn_sum *s, const double part[16], double rest) {
    return memcmp(s->part, part, 16 * sizeof(double)) == 0 && memcmp(&s->rest, &rest, sizeof(double)) == 0;
}

// The convolutions' bias gradient: each image's plane summed in order, then
// added to dbias image by image (the loop below), bit for bit, for batches that
// fill the eight side-by-side sums, leave a rest, or are all rest; on 1 and 2
// threads (the threads own whole channels).
static void test_bias_grad(void) {
    const int batches[] = {1, 7, 8, 9, 16, 19, 32};
    int same = 1;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
        for (int threads = 1; threads <= 2; threads++) {
            const int N = batches[b], OC = 5;
            const size_t OHW = 1031;   // (batches of 16 and more pass the threads' threshold)
            float *dout = (float *)malloc((size_t)N * OC * OHW * sizeof(float));
            float db[5], want[5];
            dcgan_rng_fill_normal(&rng, dout, (size_t)N * OC * OHW, 0.0f, 1.0f);
            for (int oc = 0; oc < OC; oc++) db[oc] = want[oc] = 0.25f * (float)oc - 0.5f;   // it adds
            for (int oc = 0; oc < OC; oc++)
                for (int n = 0; n < N; n++) {
                    float sum = 0.0f;
                    for (size_t p = 0; p < OHW; p++) sum += dout[((size_t)n * OC + oc) * OHW + p];
                    want[oc] += sum;
                }
            dcgan_set_threads(threads);
            dcgan__bias_grad(db, dout, N, OC, OHW);
            same &= memcmp(db, want, sizeof db) == 0;
            free(dout);
        }
    dcgan_set_threads(0);
    CHECK(same, "bias_grad/the one-image loop's bits (batches 1, 7, 8, 9, 16, 19, 32 of 5 planes of 1031; 1 and 2 threads)");
}

static void test_batchnorm2d_sums(void) {
    const size_t lens[7] = {0, 1, 15, 16, 17, 40, 256};
    const size_t stride = 300;
    float *x = randn(3 * stride), *g = randn(3 * stride);
    // level 1: AVX2 at most; 2: AVX-512F where the CPU has it (dcgan__bn_simd)
    dcgan__bn_simd = 1;
    const dcgan__bn_fns avx2 = dcgan__pick_bn();
    dcgan__bn_simd = 2;
    const dcgan__bn_fns widest = dcgan__pick_bn();
    for (int level = 1; level <= 2; level++) {
        const dcgan__bn_fns fast = level == 1 ? avx2 : widest;
        const int have_fast = fast.values != (level == 1 ? dcgan__bn_add_values : avx2.values);
        int spec_ok = 1, fast_ok = 1;
        for (int li = 0; li < 7; li++)
            for (int runs = 1; runs <= 3; runs += 2) {
                const size_t n = lens[li];
                const double mean = 0.3;
                const float fmean = 0.25f, invstd = 1.7f;
                // start from non-zero partials: the loops add onto what is there
                dcgan__bn_sum s0;
                for (int j = 0; j < 16; j++) s0.part[j] = 0.125 * j;
                s0.rest = -1.5;
                double part[16], rest, part2[16], rest2;
                dcgan__bn_sum a = s0, b = s0, c = s0, d = s0;
                for (int kind = 0; kind < 3; kind++) {
                    memcpy(part, s0.part, sizeof part), rest = s0.rest;
                    memcpy(part2, s0.part, sizeof part2), rest2 = s0.rest;
                    a = b = c = d = s0;
                    if (kind == 0) {
                        bn_sum_spec(part, &rest, x, g, runs, stride, n, 0, 0, 0, 0);
                        dcgan__bn_add_values(&a, x, runs, stride, n);
                        fast.values(&b, x, runs, stride, n);
                    } else if (kind == 1) {
                        bn_sum_spec(part, &rest, x, g, runs, stride, n, 1, mean, 0, 0);
                        dcgan__bn_add_squares(&a, x, runs, stride, n, mean);
                        fast.squares(&b, x, runs, stride, n, mean);
                    } else {   // one run at a time, as the backward calls it
                        bn_sum_spec(part, &rest, x, g, runs, stride, n, 2, 0, fmean, invstd);
                        bn_sum_spec(part2, &rest2, x, g, runs, stride, n, 3, 0, fmean, invstd);
                        for (int r = 0; r < runs; r++) {
                            const float *gr = g + (size_t)r * stride, *xr = x + (size_t)r * stride;
                            dcgan__bn_add_grads(&a, &c, gr, xr, n, fmean, invstd);
                            fast.grads(&b, &d, gr, xr, n, fmean, invstd);
                        }
                        spec_ok &= bn_sum_equal(&c, part2, rest2);
                        fast_ok &= memcmp(&c, &d, sizeof c) == 0;
                    }
                    spec_ok &= bn_sum_equal(&a, part, rest);
                    fast_ok &= memcmp(&a, &b, sizeof a) == 0;
                }
            }
        if (level == 1)
            CHECK(spec_ok, "batchnorm2d sums/the loops add in the order of the definition, bit for bit");
        if (level == 1 && have_fast)
            CHECK(fast_ok, "batchnorm2d sums/this CPU's version (AVX2) = the loops, bit for bit");
        else if (level == 1)
            printf("test_layers: skipped: BatchNorm's vector sums (no AVX2 in this build or on this CPU)\n");
        else if (have_fast)
            CHECK(fast_ok, "batchnorm2d sums/this CPU's version (AVX-512F) = the loops, bit for bit");
        else
            printf("test_layers: skipped: BatchNorm's AVX-512F sums "
                   "(no AVX-512F in this build or on this CPU)\n");
    }
    dcgan__bn_sum t;
    for (int j = 0; j < 16; j++) t.part[j] = 1.0 / (j + 1);
    t.rest = 1e-3;
    double want = 0.0;
    for (int j = 0; j < 16; j++) want += 1.0 / (j + 1);
    want += 1e-3;
    CHECK(dcgan__bn_total(&t) == want, "batchnorm2d sums/the total adds the partials in order, rest last");
    free(x);
    free(g);
#ifdef _OPENMP
    // 16 channels of 32 x 32 in 4 images: 65,536 values, above the threading cut
    const int N = 4, C = 16, H = 32;
    const size_t n = (size_t)N * C * H * H;
    float *in = randn(n), *dout = randn(n), *out1 = zeros(n), *out3 = zeros(n), *dx1 = zeros(n), *dx3 = zeros(n);
    float *p = zeros(16 * (size_t)C);
    for (int k = 0; k < C; k++) in[(size_t)k * H * H] += 3.0f, p[k] = 1.0f + 0.1f * k, p[C + k] = 0.05f * k;
    float *dg1 = p + 6 * C, *db1 = p + 7 * C, *dg3 = p + 8 * C, *db3 = p + 9 * C;
    int same = 1;
    for (int threads = 1; threads <= 3; threads += 2) {
        if (dcgan_set_threads(threads) != threads) {
            printf("test_layers: skipped: BatchNorm on 3 threads (this build has fewer)\n");
            same = -1;
            break;
        }
        for (int k = 0; k < C; k++) p[2 * C + k] = 0.0f, p[3 * C + k] = 1.0f;   // running stats
        dcgan_batchnorm2d bn = {p, p + C, p + 2 * C, p + 3 * C, p + 4 * C, p + 5 * C, C, 1e-5f, 0.1f, 0};
        dcgan_batchnorm2d_forward(dcgan_tensor_make(threads == 1 ? out1 : out3, N, C, H, H),
                                  dcgan_tensor_make(in, N, C, H, H), &bn, 1);
        dcgan_batchnorm2d_backward(dcgan_tensor_make(threads == 1 ? dx1 : dx3, N, C, H, H),
                                   threads == 1 ? dg1 : dg3, threads == 1 ? db1 : db3,
                                   dcgan_tensor_make(dout, N, C, H, H), dcgan_tensor_make(in, N, C, H, H), &bn);
    }
    dcgan_set_threads(0);
    if (same == 1)
        CHECK(memcmp(out1, out3, n * sizeof(float)) == 0 && memcmp(dx1, dx3, n * sizeof(float)) == 0 &&
                  memcmp(dg1, dg3, C * sizeof(float)) == 0 && memcmp(db1, db3, C * sizeof(float)) == 0,
              "batchnorm2d/1 and 3 threads give the same output and gradients, bit for bit");
    free(in), free(dout), free(out1), free(out3), free(dx1), free(dx3), free(p);
#endif
}

// ---------------------------------------------------------------------------
// Activations

static void test_activations_golden(void) {
    const char *names[] = {"leaky_relu", "relu", "tanh", "sigmoid"};
    for (int k = 0; k < 4; k++) {
        char key[64], label[96];
        snprintf(key, sizeof key, "%s.x", names[k]);
        fixture_array *xa = fixture_get(&fx, key);
        if (!CHECK(xa != NULL, "activations/fixture present")) continue;
        size_t n = xa->count;
        float *out = zeros(n), *dx = zeros(n);
        snprintf(key, sizeof key, "%s.dout", names[k]);
        const float *dout = fdata(key);
        switch (k) {
        case 0:
            dcgan_leaky_relu_forward(out, xa->data, n, 0.2f);
            dcgan_leaky_relu_backward(dx, dout, xa->data, n, 0.2f);
            break;
        case 1:
            dcgan_relu_forward(out, xa->data, n);
            dcgan_relu_backward(dx, dout, xa->data, n);
            break;
        case 2:
            dcgan_tanh_forward(out, xa->data, n);
            dcgan_tanh_backward(dx, dout, out, n);
            break;
        default:
            dcgan_sigmoid_forward(out, xa->data, n);
            dcgan_sigmoid_backward(dx, dout, out, n);
            break;
        }
        snprintf(key, sizeof key, "%s.out", names[k]);
        snprintf(label, sizeof label, "%s_forward/out", names[k]);
        GOLDEN(key, out, label);
        snprintf(key, sizeof key, "%s.dx", names[k]);
        snprintf(label, sizeof label, "%s_backward/dinp", names[k]);
        GOLDEN(key, dx, label);
        free(out); free(dx);
    }
}

// The activations on the values a choice by mask could get wrong: -0 and +0,
// NaN, infinities, the smallest subnormals, against the formulas written as
// `x > 0 ? a : b` in the test, bit for bit; the lengths leave vector tails, and
// 70,001 runs on the threads.
static void test_activations_special_values(void) {
    const float special[10] = {-0.0f, 0.0f, NAN, -NAN, INFINITY, -INFINITY, 1e-45f, -1e-45f, -3.5f, 2.25f};
    const size_t lengths[3] = {10, 37, 70001};
    for (int L = 0; L < 3; L++) {
        const size_t n = lengths[L];
        float *x = zeros(n), *d = zeros(n), *out = zeros(n), *want = zeros(n), *dx = zeros(n), *dwant = zeros(n);
        for (size_t i = 0; i < n; i++) {
            x[i] = special[i % 10];
            d[i] = special[(i / 10 + 3 * i) % 10];
            if (isnan(d[i])) d[i] = -0.0f;   // NaN + NaN: which one comes out depends on the operand order
            dx[i] = dwant[i] = special[(i + 7) % 10];
        }
        dcgan_leaky_relu_forward(out, x, n, 0.2f);
        for (size_t i = 0; i < n; i++) want[i] = x[i] > 0.0f ? x[i] : 0.2f * x[i];
        char label[96];
        snprintf(label, sizeof label, "activations/special values: leaky_relu_forward, n = %zu", n);
        CHECK(memcmp(out, want, n * sizeof(float)) == 0, label);
        dcgan_relu_backward(dx, d, x, n);
        for (size_t i = 0; i < n; i++) dwant[i] = x[i] > 0.0f ? dwant[i] + d[i] : dwant[i];
        snprintf(label, sizeof label, "activations/special values: relu_backward, n = %zu", n);
        CHECK(memcmp(dx, dwant, n * sizeof(float)) == 0, label);
        free(x); free(d); free(out); free(want); free(dx); free(dwant);
    }
}

typedef struct {
    int kind;
    float *x, *out, *r;
    size_t n;
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = (act_ctx *)p;
    if (c->kind == 0) dcgan_leaky_relu_forward(c->out, c->x, c->n, 0.2f);
    if (c->kind == 1) dcgan_relu_forward(c->out, c->x, c->n);
    if (c->kind == 2) dcgan_tanh_forward(c->out, c->x, c->n);
    if (c->kind == 3) dcgan_sigmoid_forward(c->out, c->x, c->n);
    return dot(c->out, c->r, c->n);
}

// Tanh (dcgan.h computes it in double and rounds once): over every 997th
// float of either sign, within 1 ulp of (float)tanh((double)x) and nearly
// always equal to it; the loop's vector body and its scalar remainder give the
// same bits; and the special values.
static int32_t float_bits(float f) {
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i;
}

static void test_tanh_accuracy(void) {
    const uint32_t step = 997, count = 0x7f800000u / step + 1;
    float *x = (float *)malloc(2 * (size_t)count * sizeof(float)), *y = (float *)malloc(2 * (size_t)count * sizeof(float));
    if (!CHECK(x && y, "tanh accuracy/memory")) { free(x); free(y); return; }
    for (uint32_t k = 0; k < count; k++) {
        const uint32_t b = k * step;   // 0 .. 0x7f800000 - 1: +0 up to the largest finite floats
        memcpy(&x[2 * k], &b, sizeof b);
        x[2 * k + 1] = -x[2 * k];
    }
    const size_t n = 2 * (size_t)count;
    dcgan_tanh_forward(y, x, n);
    size_t exact = 0, within1 = 0, same_scalar = 0;
    for (size_t i = 0; i < n; i++) {
        const float want = (float)tanh((double)x[i]);
        const long d = labs((long)float_bits(y[i]) - (long)float_bits(want));
        exact += d == 0;
        within1 += d <= 1;
        if (i % 101 == 0) {   // one value alone: the scalar remainder of the loop
            float one;
            dcgan_tanh_forward(&one, &x[i], 1);
            same_scalar += float_bits(one) == float_bits(y[i]);
        }
    }
    CHECK(within1 == n, "tanh accuracy/every value within 1 ulp of (float)tanh((double)x)");
    CHECK(exact * 10000 >= n * 9999, "tanh accuracy/at least 99.99% of the values equal to (float)tanh((double)x)");
    CHECK(same_scalar == (n + 100) / 101, "tanh accuracy/one value alone gives the vector loop's bits");
    const float inf = INFINITY;
    const float special[9] = {0.0f, -0.0f, inf, -inf, 20.0f, -25.0f, 1e-30f, 1.4e-45f, NAN};
    const float expect[9] = {0.0f, -0.0f, 1.0f, -1.0f, 1.0f, -1.0f, 1e-30f, 1.4e-45f, NAN};
    float got[9];
    dcgan_tanh_forward(got, special, 9);
    int ok = 1;
    for (int i = 0; i < 8; i++) ok &= float_bits(got[i]) == float_bits(expect[i]);
    ok &= got[8] != got[8];
    CHECK(ok, "tanh accuracy/0, -0, +-inf, +-20 and more, tiny and subnormal values, NaN");
    free(x);
    free(y);
}

static void test_activations_gradcheck(void) {
    const char *labels[] = {"leaky_relu_backward/fd", "relu_backward/fd", "tanh_backward/fd",
                            "sigmoid_backward/fd"};
    for (int k = 0; k < 4; k++) {
        act_ctx c = {k, randn(70), zeros(70), randn(70), 70};
        float *dx = zeros(70);
        // keep inputs away from the kink at 0, where the derivative jumps
        for (size_t i = 0; i < c.n; i++)
            if (fabsf(c.x[i]) < 0.05f) c.x[i] = c.x[i] < 0 ? -0.1f : 0.1f;
        act_loss(&c);
        if (k == 0) dcgan_leaky_relu_backward(dx, c.r, c.x, c.n, 0.2f);
        if (k == 1) dcgan_relu_backward(dx, c.r, c.x, c.n);
        if (k == 2) dcgan_tanh_backward(dx, c.r, c.out, c.n);
        if (k == 3) dcgan_sigmoid_backward(dx, c.r, c.out, c.n);
        gradcheck(labels[k], act_loss, &c, c.x, dx, c.n, 1e-3f, 2e-3, 2e-3);
        free(c.x); free(c.out); free(c.r); free(dx);
    }
}

// ---------------------------------------------------------------------------
// Dropout

static void test_dropout(void) {
    const size_t n = 20000;
    float *x = randn(n), *out = zeros(n), *mask = zeros(n), *dx = zeros(n), *r = randn(n);
    size_t kept = 0;
    int scaled_ok = 1, draws_ok = 1;
    dcgan_rng copy = rng;
    dcgan_dropout_forward(out, mask, x, n, 0.4f, 1, &rng);
    for (size_t i = 0; i < n; i++) {
        // value i is dropped where uniform draw i after the generator's state is below p
        // (the 16 parts that the threads take each start from a moved-ahead copy)
        if ((mask[i] == 0.0f) != (dcgan_rng_uniform(&copy) < 0.4f)) draws_ok = 0;
        if (mask[i] != 0.0f) {
            kept++;
            if (fabsf(out[i] - x[i] / 0.6f) > 1e-6f * (1 + fabsf(x[i]))) scaled_ok = 0;
        } else if (out[i] != 0.0f) {
            scaled_ok = 0;
        }
    }
    // kept ~ Binomial(20000, 0.6): mean 12000, sd 69
    CHECK(kept > 11600 && kept < 12400, "dropout_forward/keep rate 0.6");
    CHECK(scaled_ok, "dropout_forward/kept values scaled by 1/(1-p), dropped are 0");
    CHECK(draws_ok, "dropout_forward/value i dropped where uniform draw i < p");
    CHECK(copy.state == rng.state, "dropout_forward/the generator moved on by n draws");
    dcgan_dropout_backward(dx, r, mask, n);
    int grad_ok = 1;
    for (size_t i = 0; i < n; i++)
        if (dx[i] != r[i] * mask[i]) grad_ok = 0;
    CHECK(grad_ok, "dropout_backward/dinp = dout * mask");
    dcgan_dropout_forward(out, mask, x, n, 0.4f, 0, &rng);
    CHECK(memcmp(out, x, n * sizeof(float)) == 0, "dropout_forward/eval is identity");
    free(x); free(out); free(mask); free(dx); free(r);
}

// Gaussian noise: the draws are Box-Muller's cosine branch on the uniforms
// 2i, 2i+1 (recomputed here from a copy of the generator), the mean and
// spread of out - inp, eval and stddev 0 are the identity, backward adds dout.
static void test_gaussian_noise(void) {
    const size_t n = 20000;
    float *x = randn(n), *out = zeros(n), *dx = randn(n), *dx0 = zeros(n), *r = randn(n);
    dcgan_rng copy = rng;
    CHECK(dcgan_gaussian_noise_forward(out, x, n, 0.5f, 1, &rng) == DCGAN_OK, "gaussian_noise_forward/ok");
    int draws_ok = 1;
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double u1 = ((double)(dcgan_rng_u32(&copy) >> 8) + 1.0) / 16777216.0;
        const double u2 = (double)(dcgan_rng_u32(&copy) >> 8) / 16777216.0;
        const float z = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2));
        if (out[i] != x[i] + 0.5f * z) draws_ok = 0;
        sum += out[i] - x[i];
        sq += (double)(out[i] - x[i]) * (out[i] - x[i]);
    }
    CHECK(draws_ok, "gaussian_noise_forward/out = inp + stddev * z_i, z_i from the uniforms 2i and 2i+1");
    CHECK(copy.state == rng.state, "gaussian_noise_forward/the generator moved on by 2n draws");
    // the mean of 20,000 draws of N(0, 0.25) has sd 0.0035; the sd's sd is about 0.0025
    const double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    CHECK(fabs(mean) < 0.015 && fabs(sd - 0.5) < 0.01, "gaussian_noise_forward/noise mean 0, sd 0.5");
    memcpy(dx0, dx, n * sizeof(float));
    CHECK(dcgan_gaussian_noise_backward(dx, r, n) == DCGAN_OK, "gaussian_noise_backward/ok");
    int grad_ok = 1;
    for (size_t i = 0; i < n; i++)
        if (dx[i] != dx0[i] + r[i]) grad_ok = 0;
    CHECK(grad_ok, "gaussian_noise_backward/dinp += dout");
    const uint64_t before = rng.state;
    dcgan_gaussian_noise_forward(out, x, n, 0.5f, 0, &rng);
    CHECK(memcmp(out, x, n * sizeof(float)) == 0 && rng.state == before,
          "gaussian_noise_forward/eval is the identity and draws nothing");
    dcgan_gaussian_noise_forward(out, x, n, 0.0f, 1, NULL);
    CHECK(memcmp(out, x, n * sizeof(float)) == 0, "gaussian_noise_forward/stddev 0 is the identity");
    free(x); free(out); free(dx); free(dx0); free(r);
}

// ---------------------------------------------------------------------------
// A model's convolutions set their input gradient instead of adding into it
// (dcgan__conv2d_backward and dcgan__conv_transpose2d_backward with set_dinp
// 1, so that the model need not zero it first): on a dinp full of NaN they
// must give what the API's adding pass gives on zeros - conv2d bit for bit
// (col2im sets each plane to 0 and adds on top, in the same order), the
// transposed one equal in value (its product is written in place: a sum of
// -0 stays -0 where 0 + -0 gave +0). Each path: the products with col2im
// (stride 2), the direct convolution (1-3 channels, stride 1 and 2), the
// Linear-shaped layer (kernel = image), the transposed product written in
// place (H*W a multiple of 16) or scattered (not), its direct path (3 output
// channels), and its Linear-shaped case. Weight and bias gradients the same.
static void test_conv_backward_set_dinp(void) {
    // transposed, N, C, H, OC, K, S, pad
    const int cases[][8] = {{0, 3, 16, 12, 8, 3, 2, 1}, {0, 2, 1, 9, 4, 3, 1, 1},  {0, 2, 3, 10, 5, 3, 2, 1},
                            {0, 3, 8, 4, 1, 4, 1, 0},   {1, 2, 8, 4, 6, 4, 2, 1},  {1, 2, 6, 3, 5, 4, 2, 1},
                            {1, 2, 8, 8, 3, 4, 2, 1},   {1, 3, 16, 1, 8, 4, 1, 0}};
    int same[2] = {1, 1}, grads_same = 1, nan_free = 1, adds = 1;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int *c = cases[s];
        const int T = c[0], N = c[1], C = c[2], H = c[3], OC = c[4], K = c[5], S = c[6], P = c[7];
        const int OH = T ? dcgan_conv_transpose_out_size(H, K, S, P, P) : dcgan_conv_out_size(H, K, S, P, P);
        const size_t nx = (size_t)N * C * H * H, nw = (size_t)OC * C * K * K;
        dcgan_conv2d conv = {randn(nw), randn(OC), C, OC, K, S, P, P, P, P};
        const dcgan_tensor x = dcgan_tensor_make(randn(nx), N, C, H, H);
        const dcgan_tensor dout = dcgan_tensor_make(randn((size_t)N * OC * OH * OH), N, OC, OH, OH);
        float *dx_add = zeros(nx), *dx_set = zeros(nx), *dw[2] = {zeros(nw), zeros(nw)};
        float *db[2] = {zeros(OC), zeros(OC)};
        for (size_t i = 0; i < nx; i++) dx_set[i] = NAN;
        const dcgan_tensor ta = dcgan_tensor_make(dx_add, N, C, H, H), ts = dcgan_tensor_make(dx_set, N, C, H, H);
        // scratch for one image: the products then go image by image (groups of 1)
        const size_t one = T ? dcgan_conv_transpose2d_work_size(&conv, H, H) : dcgan_conv2d_work_size(&conv, H, H);
        float *work = zeros(one), *dx_groups = zeros(nx), *gw = zeros(nw), *gb = zeros(OC);
        for (size_t i = 0; i < nx; i++) dx_groups[i] = NAN;
        const dcgan_tensor tg = dcgan_tensor_make(dx_groups, N, C, H, H);
        if (T) {
            dcgan_conv_transpose2d_backward(ta, dw[0], db[0], dout, x, &conv, NULL, 0);
            dcgan__conv_transpose2d_backward(ts, dw[1], db[1], dout, x, &conv, NULL, 0, 1);
            dcgan__conv_transpose2d_backward(tg, gw, gb, dout, x, &conv, work, one, 1);
            for (size_t i = 0; i < nx; i++) same[1] &= dx_set[i] == dx_add[i] && dx_groups[i] == dx_add[i];
            // and the API still adds: on 0.5, each path adds its whole sum once
            float *dx_half = zeros(nx), *scratch_w = zeros(nw), *scratch_b = zeros(OC);
            for (size_t i = 0; i < nx; i++) dx_half[i] = 0.5f;
            dcgan_conv_transpose2d_backward(dcgan_tensor_make(dx_half, N, C, H, H), scratch_w, scratch_b, dout, x,
                                            &conv, NULL, 0);
            for (size_t i = 0; i < nx; i++) adds &= dx_half[i] == 0.5f + dx_add[i];
            free(dx_half), free(scratch_w), free(scratch_b);
        } else {
            dcgan_conv2d_backward(ta, dw[0], db[0], dout, x, &conv, NULL, 0);
            dcgan__conv2d_backward(ts, dw[1], db[1], dout, x, &conv, NULL, 0, 1);
            dcgan__conv2d_backward(tg, gw, gb, dout, x, &conv, work, one, 1);
            same[0] &= memcmp(dx_set, dx_add, nx * sizeof(float)) == 0 &&
                       memcmp(dx_groups, dx_add, nx * sizeof(float)) == 0;
        }
        free(work), free(dx_groups), free(gw), free(gb);
        for (size_t i = 0; i < nx; i++) nan_free &= !isnan(dx_add[i]);
        grads_same &= memcmp(dw[0], dw[1], nw * sizeof(float)) == 0 && memcmp(db[0], db[1], OC * sizeof(float)) == 0;
        free(conv.weight), free(conv.bias), free(x.data), free(dout.data), free(dx_add), free(dx_set);
        free(dw[0]), free(dw[1]), free(db[0]), free(db[1]);
    }
    CHECK(nan_free, "conv backward set_dinp/the adding passes' gradients are finite");
    CHECK(same[0], "conv backward set_dinp/conv2d: dinp set over NaN equals dinp added to zeros, bit for bit (4 paths, whole batch and image by image)");
    CHECK(same[1], "conv backward set_dinp/conv_transpose2d: dinp set over NaN equals dinp added to zeros (4 paths, whole batch and image by image)");
    CHECK(grads_same, "conv backward set_dinp/weight and bias gradients unchanged, bit for bit");
    CHECK(adds, "conv backward set_dinp/dcgan_conv_transpose2d_backward still adds into dinp (4 paths)");
}

// GEMM: the fast routine against the plain loop on odd shapes and transposes

// Small products (dcgan.h section 15b: no packing, at most
// dcgan__small_product_macs multiply-adds) against the blocked loops, bit for
// bit, for alpha 1 and beta 0 or 1 (every layer's products): the last
// Linear layer's three shapes, several slabs of k, rows and columns past the
// vectors' eight, every transpose. The blocked run: the cut set to 0.
static void test_sgemm_small(void) {
    if (!dcgan__kernel_get("avx2")) {
        printf("test_layers: skipped: small products (no AVX2 + FMA in this build or on this CPU)\n");
        return;
    }
    const int shapes[][3] = {{32, 1, 2048}, {32, 2048, 1}, {1, 2048, 32}, {7, 13, 600}, {9, 40, 300},
                             {33, 17, 5}, {1, 1, 1}, {8, 37, 257}};
    int same = 1, used = 1;
    const long cut = dcgan__small_product_macs;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        used &= (long)M * N * K <= cut;
        for (int t = 0; t < 12; t++) {
            const int ta = t & 1, tb = (t >> 1) & 1;
            const float beta = (t >> 2) == 0 ? 0.0f : (t >> 2) == 1 ? 1.0f : 0.5f;
            const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
            float *A = randn((size_t)(ta ? K : M) * lda), *B = randn((size_t)(tb ? N : K) * ldb);
            float *C = randn((size_t)M * ldc), *C2 = zeros((size_t)M * ldc);
            memcpy(C2, C, (size_t)M * ldc * sizeof(float));
            dcgan_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
            dcgan__small_product_macs = 0;
            dcgan_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C2, ldc);
            dcgan__small_product_macs = cut;
            same &= memcmp(C, C2, (size_t)M * ldc * sizeof(float)) == 0;
            free(A), free(B), free(C), free(C2);
        }
    }
    CHECK(used, "sgemm small/every shape here is small enough for the small-product loop");
    CHECK(same, "sgemm small/the blocked loops' numbers, bit for bit (8 shapes, transposes, beta 0, 1, 0.5)");
    // sums that underflow to -0 (1e-30 * -1e-30), beta 0: both write -0, in
    // full 6 x 16 tiles of the blocked loops and at their edges alike
    int minus_zero = 1;
    same = 1;
    for (int t = 0; t < 4; t++) {
        const int ta = t & 1, tb = t >> 1, M = 13, N = 35, K = 3;
        float *A = zeros((size_t)M * K), *B = zeros((size_t)K * N), *C = randn((size_t)M * N), *C2 = randn((size_t)M * N);
        for (int k = 0; k < M * K; k++) A[k] = 1e-30f;
        for (int k = 0; k < K * N; k++) B[k] = -1e-30f;
        dcgan_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C, N);
        dcgan__small_product_macs = 0;
        dcgan_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N);
        dcgan__small_product_macs = cut;
        same &= memcmp(C, C2, (size_t)M * N * sizeof(float)) == 0;
        for (int k = 0; k < M * N; k++) minus_zero &= C[k] == 0.0f && signbit(C[k]) && signbit(C2[k]);
        free(A), free(B), free(C), free(C2);
    }
    CHECK(same && minus_zero, "sgemm small/sums that underflow to -0 stay -0 in both loops, beta 0");
}

static void test_sgemm_shapes(void) {
    const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {1, 33, 2}, {31, 29, 300},
                             {64, 65, 257}, {5, 300, 3}, {130, 7, 513}};
    int all_ok = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                float *A = randn((size_t)(ta ? K : M) * lda), *B = randn((size_t)(tb ? N : K) * ldb);
                float *C = randn((size_t)M * ldc), *Cref = zeros((size_t)M * ldc);
                memcpy(Cref, C, (size_t)M * ldc * sizeof(float));
                float beta = (s % 3 == 0) ? 0.0f : (s % 3 == 1 ? 1.0f : 0.5f);
                dcgan_sgemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, C, ldc);
                dcgan_sgemm_ref(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, Cref, ldc);
                char label[96];
                snprintf(label, sizeof label, "sgemm/M=%d N=%d K=%d ta=%d tb=%d", M, N, K, ta, tb);
                all_ok &= CHECK_CLOSE(Cref, C, (size_t)M * ldc, 1e-4 * sqrt((double)K), 1e-5, label);
                free(A); free(B); free(C); free(Cref);
            }
    }
    // Edges of the tiles with nothing around them: M a multiple of the 6-row
    // micro-tile, N of the 16-column one (or one past it), K across the packing
    // depth, and every matrix allocated exactly (lda, ldb, ldc == their widths),
    // so the sanitizer build sees any read or write past an edge.
    // (the last two end in a tile 12 and 9 columns wide: a write of the whole
    // 16-wide tile there lands past the row, past the allocation at the last one)
    const int edges[][3] = {{6, 16, 1}, {12, 32, 4}, {18, 17, 256}, {24, 16, 300}, {6, 1, 7}, {36, 48, 65},
                            {12, 28, 5}, {6, 25, 3}};
    for (size_t s = 0; s < sizeof edges / sizeof edges[0]; s++) {
        int M = edges[s][0], N = edges[s][1], K = edges[s][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
                float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *C = randn((size_t)M * N);
                float *Cref = zeros((size_t)M * N);
                memcpy(Cref, C, (size_t)M * N * sizeof(float));
                const float beta = s % 2 ? 1.0f : 0.0f;
                dcgan_sgemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, C, ldc);
                dcgan_sgemm_ref(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, Cref, ldc);
                char label[112];
                snprintf(label, sizeof label, "sgemm/exact allocations, M=%d N=%d K=%d ta=%d tb=%d", M, N, K, ta, tb);
                CHECK_CLOSE(Cref, C, (size_t)M * N, 1e-4 * sqrt((double)K), 1e-5, label);
                free(A); free(B); free(C); free(Cref);
            }
    }
    // beta = 0 must not read C: NaN in C does not leak
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {NAN, NAN, NAN, NAN};
    dcgan_sgemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK_CLOSE(A, C, 4, 0, 0, "sgemm/beta=0 ignores NaN in C");
    (void)all_ok;
}

// Each micro-kernel this build and this CPU have, against the portable one on
// the same packed panels: full and partial tiles, beta 0 / 1 / 0.5, bias and
// ReLU (a NaN row made 0), C's untouched entries past the tile kept. The SIMD
// kernels fuse multiply and add, the portable one rounds twice: close, not equal.
static void test_gemm_kernels(void) {
    const char *names[2] = {"avx2", "avx512"};
    enum { MR = 6, NR = 16, LDC = 20 };
    for (int n = 0; n < 2; n++) {
        dcgan__kernel_fn kernel = dcgan__kernel_get(names[n]);
        if (!kernel) {
            printf("test_layers: skipped: the %s GEMM kernel (not in this build or not on this CPU)\n", names[n]);
            continue;
        }
        const int tiles[][2] = {{6, 16}, {5, 16}, {6, 9}, {1, 1}, {3, 12}};
        const float betas[3] = {0.0f, 1.0f, 0.5f};
        int ok = 1;
        for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
            for (int bi = 0; bi < 3; bi++)
                for (int mode = 0; mode < 2; mode++) {
                    const int mr = tiles[t][0], nr = tiles[t][1], kc = 37;
                    float *a = randn((size_t)kc * MR), *b = randn((size_t)kc * NR), *bias = randn(MR);
                    float *c = randn((size_t)MR * LDC), *want = zeros((size_t)MR * LDC);
                    if (mode) a[0] = NAN;   // row 0 of the tile is NaN; ReLU makes it 0
                    memcpy(want, c, (size_t)MR * LDC * sizeof(float));
                    dcgan__kernel_get("portable")(kc, a, b, 0.75f, betas[bi], want, LDC, mr, nr,
                                                 mode ? bias : NULL, mode);
                    kernel(kc, a, b, 0.75f, betas[bi], c, LDC, mr, nr, mode ? bias : NULL, mode);
                    for (int i = 0; i < MR; i++)
                        for (int j = 0; j < LDC; j++) {
                            float w = want[i * LDC + j], g = c[i * LDC + j];
                            int same = (isnan(w) && isnan(g)) || fabsf(w - g) <= 1e-4f * (1.0f + fabsf(w));
                            if (!same) ok = 0;
                        }
                    free(a); free(b); free(bias); free(c); free(want);
                }
        char label[96];
        snprintf(label, sizeof label, "gemm_kernel/%s against the portable kernel", names[n]);
        CHECK(ok, label);
    }
}

// The two-tile kernel (6 x 32: two packed panels of B, written at two places
// of C) against the 6 x 16 AVX-512 kernel run on each panel: the same sums in
// the same order, so equal bit for bit, with full and partial tiles, beta 0 /
// 1 / 0.5, bias and ReLU (a NaN row made 0), and C's entries past each tile
// kept. Then whole products with the kernel (dcgan__wide_kernels 1) against
// products without it (0), bit for bit: plain and transposed operands, a
// single panel left at the end, several slices of 2048 columns and of 96 rows
// and slabs of 256, products with bias and ReLU, patches (both operand forms),
// outputs written into images of 16 columns (the two panels of a pair in two
// images), and K cut among the threads; on one thread and on two (the cut of
// C into chunks, and whether K is cut, depend on it). The small-product loop is
// switched off: it would take the smallest shapes both times. All of it with
// the kernel in every product (dcgan__wide_min_k 0) and as products run by
// default, the kernel only where K is 129 or more (the shapes have K on both
// sides).
static int wide_products_on_threads(void);

static int wide_products_equal(void) {
    const int saved_wide = dcgan__wide_kernels, saved_min_k = dcgan__wide_min_k;
    const long saved_small = dcgan__small_product_macs;
    dcgan__small_product_macs = 0;
    int same = 1;
    const int min_k[2] = {0, saved_min_k};
    for (int q = 0; q < 2; q++) {
        dcgan__wide_min_k = min_k[q];
#ifdef _OPENMP
        const int saved_threads = omp_get_max_threads();
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            same &= wide_products_on_threads();
        }
        omp_set_num_threads(saved_threads);
#else
        same &= wide_products_on_threads();
#endif
    }
    dcgan__small_product_macs = saved_small;
    dcgan__wide_kernels = saved_wide;
    dcgan__wide_min_k = saved_min_k;
    return same;
}

static int wide_products_on_threads(void) {
    int same = 1;
    // M, N, K, trans_a, trans_b, beta x 2
    const int shapes[][6] = {{7, 33, 300, 0, 0, 0},  {96, 2100, 40, 0, 1, 2}, {13, 16, 5, 1, 0, 1},
                             {6, 31, 257, 1, 1, 2},  {200, 50, 520, 0, 0, 1}, {5, 80, 3, 0, 1, 0},
                             {100, 2081, 9, 1, 0, 0}, {32, 144, 4096, 0, 1, 2}, {32, 144, 4100, 0, 1, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        const float beta = 0.5f * (float)shapes[s][5];
        float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *bias = randn((size_t)M);
        float *c[2], *f[2];
        c[0] = randn((size_t)M * N);
        c[1] = zeros((size_t)M * N);
        memcpy(c[1], c[0], (size_t)M * N * sizeof(float));
        for (int w = 0; w < 2; w++) {
            dcgan__wide_kernels = w;
            f[w] = zeros((size_t)M * N);
            dcgan_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, c[w], N);
            dcgan__sgemm_fused(ta, tb, M, N, K, 0.75f, A, ta ? M : K, B, tb ? K : N, 0.0f, f[w], N, bias, 1);
        }
        same &= memcmp(c[0], c[1], (size_t)M * N * sizeof(float)) == 0;
        same &= memcmp(f[0], f[1], (size_t)M * N * sizeof(float)) == 0;
        free(A); free(B); free(bias); free(c[0]); free(c[1]); free(f[0]); free(f[1]);
    }
    // patches: C, H, W, K, S, pad, g, M (OH*OW = 16 and 64: panels in one image each; M past
    // one slice of 96 rows: the patches packed as a whole block)
    const int convs[][8] = {{3, 8, 8, 3, 2, 1, 5, 16}, {16, 16, 16, 4, 2, 1, 3, 40}, {2, 9, 9, 3, 1, 1, 2, 5},
                            {3, 8, 8, 3, 2, 1, 5, 100}};
    for (size_t s = 0; s < sizeof convs / sizeof convs[0]; s++) {
        const int *v = convs[s];
        const int C = v[0], H = v[1], W = v[2], KK = v[3], S = v[4], pad = v[5], g = v[6], M = v[7];
        const int OH = (H + 2 * pad - KK) / S + 1, OW = (W + 2 * pad - KK) / S + 1, rows = C * KK * KK;
        const size_t N = (size_t)g * OH * OW;
        float *img = randn((size_t)g * C * H * W), *A = randn((size_t)M * (rows > (int)N ? rows : (int)N));
        float *bias = randn((size_t)M), *out[2][3];
        const dcgan__patches P = {img, (size_t)C * H * W, (size_t)H * W, g, C, H, W, KK, KK, S, pad, pad, OH, OW};
        for (int w = 0; w < 2; w++) {
            dcgan__wide_kernels = w;
            for (int q = 0; q < 3; q++) out[w][q] = zeros((size_t)M * (N > (size_t)rows ? N : (size_t)rows));
            dcgan__sgemm_patches(0, 0, M, (int)N, rows, 1.0f, A, rows, &P, 0.0f, out[w][0], (int)N, bias, 1);
            dcgan__sgemm_patches(0, 1, M, rows, (int)N, 1.0f, A, (int)N, &P, 0.0f, out[w][1], rows, NULL, 0);
            if (!dcgan__sgemm_patches_nchw(M, rows, A, rows, &P, out[w][2], bias))
                memset(out[w][2], 0, (size_t)M * N * sizeof(float));   // (declined both times: OH*OW % 16)
        }
        for (int q = 0; q < 3; q++) {
            same &= memcmp(out[0][q], out[1][q], (size_t)M * (N > (size_t)rows ? N : (size_t)rows) * sizeof(float)) == 0;
            free(out[0][q]); free(out[1][q]);
        }
        free(img); free(A); free(bias);
    }
    return same;
}

// A's full panels packed with AVX-512F (dcgan__pack_simd 1, 16 values of k
// at a time by permutes) hold what the loop packs, so every product is the
// same bit for bit with either: row-major A whose rows are longer than K
// (lda > K), K past one slab of 256 and not a multiple of 16 (the one-by-one
// tail), M not a multiple of 6 (a last panel the loop packs), M past one
// slice of 96 rows, transposed A (never the AVX-512 path), fused bias + ReLU,
// a K cut among threads, and convolutions (patches), on 1 and 2 threads.
static int pack_products_same(void) {
    int same = 1;
    // M, N, K, trans_a, extra columns of A, beta x 2
    const int shapes[][6] = {{6, 16, 16, 0, 0, 0},   {12, 40, 300, 0, 5, 2},  {7, 33, 37, 0, 0, 1},
                             {12, 33, 37, 0, 0, 1},   // (the tail of A's last row ends the allocation)
                             {100, 70, 513, 0, 3, 0}, {30, 20, 15, 0, 1, 2},  {18, 50, 280, 1, 0, 2},
                             {32, 144, 4100, 0, 0, 2}, {200, 2100, 64, 0, 7, 0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3];
        const int lda = (ta ? M : K) + shapes[s][4];
        const float beta = 0.5f * (float)shapes[s][5];
        float *A = randn((size_t)(ta ? K : M) * lda), *B = randn((size_t)K * N), *bias = randn((size_t)M);
        float *c[2], *f[2];
        c[0] = randn((size_t)M * N);
        c[1] = zeros((size_t)M * N);
        memcpy(c[1], c[0], (size_t)M * N * sizeof(float));
        // the packing space first filled with NaN panels of the same shape (by the
        // loop), so that a float the AVX-512 packing leaves unwritten shows
        float *nan_a = zeros((size_t)(ta ? K : M) * lda), *scratch = zeros((size_t)M * N);
        for (size_t q = 0; q < (size_t)(ta ? K : M) * lda; q++) nan_a[q] = NAN;
        for (int p = 1; p >= 0; p--) {
            f[p] = zeros((size_t)M * N);
            dcgan__pack_simd = 0;
            dcgan_sgemm(ta, 0, M, N, K, 1.0f, nan_a, lda, B, N, 0.0f, scratch, N);
            dcgan__pack_simd = p;
            dcgan_sgemm(ta, 0, M, N, K, 1.0f, A, lda, B, N, beta, c[p], N);
            dcgan__pack_simd = 0;
            dcgan_sgemm(ta, 0, M, N, K, 1.0f, nan_a, lda, B, N, 0.0f, scratch, N);
            dcgan__pack_simd = p;
            dcgan__sgemm_fused(ta, 0, M, N, K, 0.75f, A, lda, B, N, 0.0f, f[p], N, bias, 1);
        }
        same &= memcmp(c[0], c[1], (size_t)M * N * sizeof(float)) == 0;
        same &= memcmp(f[0], f[1], (size_t)M * N * sizeof(float)) == 0;
        free(A); free(B); free(bias); free(c[0]); free(c[1]); free(f[0]); free(f[1]); free(nan_a); free(scratch);
    }
    // a convolution's forward product (A: the weights) and its weight gradient (A: the output gradient)
    const int C = 5, H = 20, W = 20, KK = 3, S = 2, pad = 1, g = 3, M = 20;
    const int OH = (H + 2 * pad - KK) / S + 1, OW = (W + 2 * pad - KK) / S + 1, rows = C * KK * KK;
    const size_t N = (size_t)g * OH * OW;
    float *img = randn((size_t)g * C * H * W), *A = randn((size_t)M * N), *out[2][2];
    const dcgan__patches P = {img, (size_t)C * H * W, (size_t)H * W, g, C, H, W, KK, KK, S, pad, pad, OH, OW};
    for (int p = 0; p < 2; p++) {
        dcgan__pack_simd = p;
        out[p][0] = zeros((size_t)M * N);
        out[p][1] = zeros((size_t)M * rows);
        dcgan__sgemm_patches(0, 0, M, (int)N, rows, 1.0f, A, rows, &P, 0.0f, out[p][0], (int)N, NULL, 0);
        dcgan__sgemm_patches(0, 1, M, rows, (int)N, 1.0f, A, (int)N, &P, 0.0f, out[p][1], rows, NULL, 0);
    }
    same &= memcmp(out[0][0], out[1][0], (size_t)M * N * sizeof(float)) == 0;
    same &= memcmp(out[0][1], out[1][1], (size_t)M * rows * sizeof(float)) == 0;
    for (int p = 0; p < 2; p++) { free(out[p][0]); free(out[p][1]); }
    free(img); free(A);
    return same;
}

// ---------------------------------------------------------------------------
// Products into columns for col2im run over runs of images (dcgan__col_run):
// the rule's numbers, and the same bits as the whole group at once, for a
// transposed convolution's forward and a convolution's backward (the API's
// adding dinp and the model's set one, with dweight and dbias), where the
// runs are uneven (5 images in runs of 2: 2, 2, 1) and one image each, or
// just small enough for the small-product loop (2^17 multiply-adds) where the
// whole group is not, on 1 and 2 threads; and the run results close to the
// reference loops.
static void test_col_runs(void) {
    const int saved = dcgan__col_chunk;
    // the rule: runs of at most dcgan__col_chunk floats, but at least 512 columns
    dcgan__col_chunk = 1 << 20;
    CHECK(dcgan__col_run((size_t)2048 * 1024, 1024, 16) == 1 && dcgan__col_run((size_t)1024 * 256, 256, 64) == 4 &&
              dcgan__col_run((size_t)4096 * 16, 16, 64) == 32 && dcgan__col_run((size_t)8192 * 64, 64, 16) == 8 &&
              dcgan__col_run((size_t)8192 * 64, 64, 5) == 5 && dcgan__col_run(64, 1, 1000) == 1000,
          "col runs/4 MiB of columns, at least 512 columns, at most the group (6 shapes)");
    dcgan__col_chunk = 0;
    CHECK(dcgan__col_run((size_t)2048 * 1024, 1024, 16) == 16, "col runs/dcgan__col_chunk 0: the whole group");
    // transposed, N, C, H, OC, K, S, pad; chunk (floats) and the run it gives
    const int cases[][10] = {{1, 5, 4, 16, 5, 4, 2, 1, 2 * 5 * 16 * 256, 2},
                             {0, 5, 5, 32, 4, 4, 2, 1, 2 * 5 * 16 * 256, 2},
                             {0, 3, 3, 64, 6, 4, 2, 1, 1, 1},
                             {1, 3, 4, 32, 3, 5, 2, 2, 1, 1},
                             {1, 4, 4, 16, 4, 4, 2, 1, 32768, 2},
                             {0, 4, 8, 32, 8, 2, 2, 0, 16384, 2}};
    int runs_ok = 1, same = 1, close = 1, ok = 1;
    for (int threads = 1; threads <= 2; threads++) {
        dcgan_set_threads(threads);
        for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
            const int *c = cases[s];
            const int T = c[0], N = c[1], C = c[2], H = c[3], OC = c[4], K = c[5], S = c[6], P = c[7];
            const int OH = T ? dcgan_conv_transpose_out_size(H, K, S, P, P) : dcgan_conv_out_size(H, K, S, P, P);
            const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * OC * OH * OH, nw = (size_t)OC * C * K * K;
            dcgan__col_chunk = c[8];
            runs_ok &= T ? dcgan__col_run((size_t)OC * K * K * H * H, (size_t)H * H, N) == c[9]
                         : dcgan__col_run((size_t)C * K * K * OH * OH, (size_t)OH * OH, N) == c[9];
            dcgan_conv2d conv = {randn(nw), randn(OC), C, OC, K, S, P, P, P, P};
            const dcgan_tensor x = dcgan_tensor_make(randn(nx), N, C, H, H);
            const dcgan_tensor dy = dcgan_tensor_make(randn(ny), N, OC, OH, OH);
            float *y[2], *dx_add[2], *dx_set[2], *dw[2], *db[2];
            for (int q = 0; q < 2; q++) {   // q 0: the whole group; 1: runs
                dcgan__col_chunk = q ? c[8] : 0;
                y[q] = zeros(ny), dx_add[q] = zeros(nx), dx_set[q] = zeros(nx), dw[q] = zeros(nw), db[q] = zeros(OC);
                for (size_t i = 0; i < nx; i++) dx_add[q][i] = 0.5f, dx_set[q][i] = NAN;
                const dcgan_tensor ta = dcgan_tensor_make(dx_add[q], N, C, H, H);
                const dcgan_tensor ts = dcgan_tensor_make(dx_set[q], N, C, H, H);
                if (T) {
                    ok &= dcgan_conv_transpose2d_forward(dcgan_tensor_make(y[q], N, OC, OH, OH), x, &conv, NULL,
                                                         0) == DCGAN_OK;
                } else {
                    ok &= dcgan_conv2d_backward(ta, dw[q], db[q], dy, x, &conv, NULL, 0) == DCGAN_OK;
                    ok &= dcgan__conv2d_backward(ts, NULL, NULL, dy, x, &conv, NULL, 0, 1) == DCGAN_OK;
                    for (size_t i = 0; i < nx; i++) ok &= !isnan(dx_set[q][i]);   // every entry set
                }
            }
            if (T) {
                same &= memcmp(y[0], y[1], ny * sizeof(float)) == 0;
                float *ref = zeros(ny);
                dcgan_conv_transpose2d_forward_ref(dcgan_tensor_make(ref, N, OC, OH, OH), x, &conv);
                for (size_t i = 0; i < ny; i++) close &= fabsf(ref[i] - y[1][i]) <= 1e-5f + 1e-5f * fabsf(ref[i]);
                free(ref);
            } else {
                same &= memcmp(dx_add[0], dx_add[1], nx * sizeof(float)) == 0 &&
                        memcmp(dx_set[0], dx_set[1], nx * sizeof(float)) == 0 &&
                        memcmp(dw[0], dw[1], nw * sizeof(float)) == 0 && memcmp(db[0], db[1], OC * sizeof(float)) == 0;
                float *ref = zeros(nx), *rw = zeros(nw), *rb = zeros(OC);
                for (size_t i = 0; i < nx; i++) ref[i] = 0.5f;
                dcgan_conv2d_backward_ref(dcgan_tensor_make(ref, N, C, H, H), rw, rb, dy, x, &conv);
                for (size_t i = 0; i < nx; i++) close &= fabsf(ref[i] - dx_add[1][i]) <= 1e-5f + 1e-5f * fabsf(ref[i]);
                free(ref), free(rw), free(rb);
            }
            for (int q = 0; q < 2; q++) free(y[q]), free(dx_add[q]), free(dx_set[q]), free(dw[q]), free(db[q]);
            free(conv.weight), free(conv.bias), free(x.data), free(dy.data);
        }
    }
    dcgan_set_threads(0);
    dcgan__col_chunk = saved;
    CHECK(ok, "col runs/every call returns DCGAN_OK and sets every entry of a NaN-filled dinp");
    CHECK(runs_ok, "col runs/the test's shapes run in 2, 2, 1 images, in single images and in pairs");
    CHECK(same, "col runs/transposed forward, conv2d dinp (added and set), dweight, dbias: the bits of the whole group (6 shapes, 1 and 2 threads)");
    CHECK(close, "col runs/within 1e-5 of the reference loops");
}

static void test_pack_simd(void) {
    if (!dcgan__kernel_get("avx512")) {
        printf("test_layers: skipped: A packed with AVX-512 (no AVX-512F kernel in this build or on this CPU)\n");
        return;
    }
    const long saved_macs = dcgan__small_product_macs;
    const int saved_pack = dcgan__pack_simd;
    dcgan__small_product_macs = 0;   // every product through the blocked loops, where A is packed
    int same = 1;
    for (int threads = 1; threads <= 2; threads++) {
        dcgan_set_threads(threads);
        same &= pack_products_same();
    }
    dcgan_set_threads(0);
    dcgan__small_product_macs = saved_macs;
    dcgan__pack_simd = saved_pack;
    CHECK(same, "pack_simd/products with A packed by AVX-512 permutes equal those packed by the loop, bit for bit "
                "(plain, fused, transposed A, K cut, patches; 1 and 2 threads)");
}

// Whether 512-bit FMAs run at full width (dcgan__zmm_full_width, which gives
// products the 6 x 32 kernel by default): the verdict on two timings is "full"
// below 1.5 times the ymm loop's ticks; the answer kept is 0 until measured,
// then the verdict on the timings it keeps, and stays. Each timing is at least
// one tick per 10 FMAs (20,000 FMAs a loop: no core does 10 a tick), so loops
// the compiler dropped would fail. Without AVX-512F: no timing, not full.
static void test_zmm_probe(void) {
    CHECK(dcgan__zmm_verdict(1000, 1000) == 1 && dcgan__zmm_verdict(1000, 1499) == 1 &&
              dcgan__zmm_verdict(1000, 1500) == 0 && dcgan__zmm_verdict(1000, 2000) == 0 &&
              dcgan__zmm_verdict(1000, 500) == 1 && dcgan__zmm_verdict(0, 0) == 0,
          "zmm_verdict/full below 1.5 times the ymm ticks (of 1000: 1000 and 1499 full, 1500 not)");
    unsigned long long ticks[2] = {0, 0};
    const int saved = dcgan__zmm_answer;
    dcgan__zmm_answer = 0;   // measure again
    const int full = dcgan__zmm_full_width();
    if (!dcgan__zmm_probe(ticks)) {
        CHECK(ticks[0] == 0 && ticks[1] == 0 && full == 0, "zmm_probe/no AVX-512F: no timing, not full width");
        printf("test_layers: skipped: timing 512-bit FMAs (no AVX-512F kernel in this build or on this CPU)\n");
        dcgan__zmm_answer = saved;
        return;
    }
    const unsigned long long ymm = dcgan__zmm_ticks[0], zmm = dcgan__zmm_ticks[1];
    printf("test_layers: note: 512-bit FMAs %s here (ymm %llu ticks, zmm %llu: %.2fx; again: %.2fx)\n",
           full ? "at full width" : "at half width or on one unit", ymm, zmm, (double)zmm / (double)ymm,
           (double)ticks[1] / (double)ticks[0]);
    CHECK(dcgan__zmm_answer == (full ? 2 : 1) && full == (!dcgan__zmm_halves_here() && dcgan__zmm_verdict(ymm, zmm)) &&
              dcgan__zmm_full_width() == full,
          "zmm_probe/the answer kept is the verdict on its own timings (not full where CPUID says halves), and stays");
    CHECK(ymm >= 2000 && zmm >= 2000 && ticks[0] >= 2000 && ticks[1] >= 2000,
          "zmm_probe/each timing of 20,000 FMAs takes at least 2,000 ticks (the loops ran)");
    dcgan__zmm_answer = saved;
}

// A scripted probe for dcgan__zmm_measure: each call hands out the next pair of
// ticks (ymm, zmm) of script; a pair of zeros stands for "no AVX-512F" (returns 0).
static const unsigned long long (*zmm_script)[2];
static int zmm_script_calls;
static int scripted_probe(unsigned long long ticks[2]) {
    const unsigned long long *t = zmm_script[zmm_script_calls++];
    if (t[0] == 0 && t[1] == 0) return 0;
    ticks[0] = t[0], ticks[1] = t[1];
    return 1;
}

// Which probe dcgan__zmm_measure keeps: the first outside 1.25-1.75x, else the
// fewest ymm ticks of 3; no more than 3 probes.
static void test_zmm_measure(void) {
    static const struct {
        unsigned long long script[4][2];
        int runs;
        unsigned long long ymm, zmm;
        const char *what;
    } cases[] = {
        {{{7046, 14014}, {1, 1}, {1, 1}, {1, 1}}, 1, 7046, 14014, "a clear 1.99x: one probe"},
        {{{7000, 7300}, {1, 1}, {1, 1}, {1, 1}}, 1, 7000, 7300, "a clear 1.04x: one probe"},
        {{{15860, 23478}, {7046, 14014}, {1, 1}, {1, 1}}, 2, 7046, 14014, "session 43's 1.48x, then a clear 1.99x"},
        {{{9000, 13000}, {9500, 9600}, {1, 1}, {1, 1}}, 2, 9500, 9600, "1.44x, then a clear 1.01x (more ymm ticks: still kept)"},
        {{{15000, 22000}, {12000, 19000}, {14000, 20000}, {7000, 14000}}, 3, 12000, 19000,
         "three in the band: the fewest ymm ticks, and no fourth probe"},
        {{{8000, 10001}, {1, 1}, {1, 1}, {1, 1}}, 2, 1, 1, "1.250125x is in the band: probed again"},
        {{{8000, 10000}, {1, 1}, {1, 1}, {1, 1}}, 1, 8000, 10000, "exactly 1.25x is not"},
        {{{8000, 14000}, {1, 1}, {1, 1}, {1, 1}}, 1, 8000, 14000, "exactly 1.75x is not"},
        {{{0, 0}, {7046, 14014}, {1, 1}, {1, 1}}, 0, 5, 6, "no AVX-512F: 0, the ticks untouched"},
        {{{15860, 23478}, {0, 0}, {1, 1}, {1, 1}}, 1, 15860, 23478, "a probe that stops: the one before kept"},
    };
    int all = 1;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned long long ticks[2] = {5, 6};
        zmm_script = cases[c].script;
        zmm_script_calls = 0;
        const int runs = dcgan__zmm_measure(scripted_probe, ticks);
        const int ok = runs == cases[c].runs && ticks[0] == cases[c].ymm && ticks[1] == cases[c].zmm;
        if (!ok)
            printf("test_layers: zmm_measure case %zu (%s): %d probes, ticks %llu %llu\n", c, cases[c].what, runs,
                   ticks[0], ticks[1]);
        all &= ok;
    }
    CHECK(all, "zmm_measure/the first probe outside 1.25-1.75x, else the fewest ymm ticks of 3 (10 scripts)");
}

// The CPU's maker and family as /proc/cpuinfo gives them ("vendor_id", "cpu family");
// 0 where it cannot be read.
static int cpuinfo_maker_family(char *vendor, size_t size, int *family) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    int got = 0;
    while (got != 3 && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        if (strncmp(line, "vendor_id", 9) == 0 && !(got & 1)) {
            snprintf(vendor, size, "%s", colon + 2);
            vendor[strcspn(vendor, "\n")] = '\0';
            got |= 1;
        } else if (strncmp(line, "cpu family", 10) == 0 && !(got & 2)) {
            *family = atoi(colon + 1);
            got |= 2;
        }
    }
    fclose(f);
    return got == 3;
}

// Which CPUs the maker and family settle as running 512-bit FMAs in halves:
// AMD's family 25 only, from CPUID's registers as the manuals lay them out.
static void test_zmm_halves_known(void) {
    const unsigned auth = 0x68747541u, enti = 0x69746e65u, camd = 0x444d4163u;   // "Auth" "enti" "cAMD"
    const unsigned genu = 0x756e6547u, inei = 0x49656e69u, ntel = 0x6c65746eu;   // "Genu" "ineI" "ntel"
    // leaf 1's EAX: stepping 3:0, model 7:4, family 11:8, extended model 19:16, extended family 27:20
    const unsigned zen4 = (0xAu << 20) | (0x1u << 16) | (0xFu << 8) | (0x1u << 4);   // family 15 + 10 = 25, model 17
    const unsigned zen5 = (0xBu << 20) | (0x0u << 16) | (0xFu << 8) | (0x2u << 4);   // 15 + 11 = 26
    const unsigned zen2 = (0x8u << 20) | (0x3u << 16) | (0xFu << 8) | (0x1u << 4);   // 15 + 8 = 23
    const unsigned xeon = (0x0u << 20) | (0x8u << 16) | (0x6u << 8) | (0xFu << 4);   // family 6, model 143
    const unsigned base9 = (0x10u << 20) | (0x9u << 8);   // base 9: the extended family (16) is not added
    CHECK(dcgan__zmm_halves_known(auth, enti, camd, zen4) == 1 && dcgan__zmm_halves_known(auth, enti, camd, zen5) == 0 &&
              dcgan__zmm_halves_known(auth, enti, camd, zen2) == 0 &&
              dcgan__zmm_halves_known(genu, inei, ntel, xeon) == 0 &&
              dcgan__zmm_halves_known(genu, inei, ntel, zen4) == 0 &&
              dcgan__zmm_halves_known(auth, enti, camd, base9) == 0 &&
              dcgan__zmm_halves_known(auth, camd, enti, zen4) == 0 && dcgan__zmm_halves_known(0, 0, 0, zen4) == 0,
          "zmm_halves_known/AMD family 25 (15 + 10) only: not 26, 23, Intel, a base family of 9, nor a misread name");
    char vendor[64];
    int family = -1;
    if (!cpuinfo_maker_family(vendor, sizeof vendor, &family)) {
        printf("test_layers: skipped: the maker and family of this CPU by /proc/cpuinfo (not readable here)\n");
        return;
    }
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    const int want = strcmp(vendor, "AuthenticAMD") == 0 && family == 25;
#else
    const int want = 0;   // (no CPUID here: not known)
#endif
    CHECK(dcgan__zmm_halves_here() == want, "zmm_halves_here/as /proc/cpuinfo's vendor_id and cpu family say");
    printf("test_layers: note: this CPU is %s family %d: 512-bit FMAs in halves by its maker and family: %s\n",
           vendor, family, want ? "yes" : "not known (the probe decides)");
}

static void test_wide_kernel(void) {
    dcgan__kernel2_fn wide = dcgan__wide_kernel_get();
    dcgan__kernel_fn narrow = dcgan__kernel_get("avx512");
    if (!wide || !narrow) {
        printf("test_layers: skipped: the 6 x 32 AVX-512 kernel (no AVX-512F kernel in this build or on this CPU)\n");
        return;
    }
    enum { MR = 6, NR = 16, LDC = 20 };
    const int tiles[][2] = {{6, 16}, {5, 16}, {6, 9}, {1, 1}, {3, 12}, {6, 1}};
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    int ok = 1;
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
        for (int bi = 0; bi < 3; bi++)
            for (int mode = 0; mode < 2; mode++) {
                const int mr = tiles[t][0], nr1 = tiles[t][1], kc = 37;
                float *a = randn((size_t)kc * MR), *b = randn((size_t)kc * 2 * NR), *bias = randn(MR);
                float *c0 = randn((size_t)MR * LDC), *c1 = randn((size_t)MR * LDC);
                float *w0 = zeros((size_t)MR * LDC), *w1 = zeros((size_t)MR * LDC);
                if (mode) a[0] = NAN;   // row 0 of both tiles is NaN; ReLU makes it 0
                memcpy(w0, c0, (size_t)MR * LDC * sizeof(float));
                memcpy(w1, c1, (size_t)MR * LDC * sizeof(float));
                narrow(kc, a, b, 0.75f, betas[bi], w0, LDC, mr, NR, mode ? bias : NULL, mode);
                narrow(kc, a, b + (size_t)NR * kc, 0.75f, betas[bi], w1, LDC, mr, nr1, mode ? bias : NULL, mode);
                wide(kc, a, b, 0.75f, betas[bi], c0, c1, LDC, mr, nr1, mode ? bias : NULL, mode);
                ok &= memcmp(w0, c0, (size_t)MR * LDC * sizeof(float)) == 0;
                ok &= memcmp(w1, c1, (size_t)MR * LDC * sizeof(float)) == 0;
                free(a); free(b); free(bias); free(c0); free(c1); free(w0); free(w1);
            }
    CHECK(ok, "gemm_kernel/the 6 x 32 kernel equals the 6 x 16 kernel on each of its two panels, bit for bit");
    CHECK(wide_products_equal(), "sgemm/products with the 6 x 32 kernel equal those without it, bit for bit");
    // the bfloat16 pair: the same tiles on panels in bfloat16 pairs, and products in bfloat16
    dcgan__kernel2_fn wide16 = dcgan__bf16_wide_kernel();
    dcgan__kernel_fn narrow16 = dcgan__bf16_kernel();
    if (!wide16 || !narrow16) {
        printf("test_layers: skipped: the 6 x 32 bfloat16 kernel (no AVX512_BF16 kernel in this build or on this CPU)\n");
        return;
    }
    ok = 1;
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
        for (int mode = 0; mode < 2; mode++) {
            const int mr = tiles[t][0], nr1 = tiles[t][1], kc = 37;
            float *a = randn((size_t)kc * MR), *b = randn((size_t)kc * 2 * NR), *bias = randn(MR);
            float *c0 = randn((size_t)MR * LDC), *c1 = randn((size_t)MR * LDC);
            float *w0 = zeros((size_t)MR * LDC), *w1 = zeros((size_t)MR * LDC);
            if (mode) a[0] = NAN;
            dcgan__panel_to_bf16(a, MR, kc);
            dcgan__panel_to_bf16(b, NR, kc);
            dcgan__panel_to_bf16(b + (size_t)NR * kc, NR, kc);
            memcpy(w0, c0, (size_t)MR * LDC * sizeof(float));
            memcpy(w1, c1, (size_t)MR * LDC * sizeof(float));
            const float beta = betas[t % 3];   // 0, 1, 0.5 in turn
            narrow16(kc, a, b, 0.75f, beta, w0, LDC, mr, NR, mode ? bias : NULL, mode);
            narrow16(kc, a, b + (size_t)NR * kc, 0.75f, beta, w1, LDC, mr, nr1, mode ? bias : NULL, mode);
            wide16(kc, a, b, 0.75f, beta, c0, c1, LDC, mr, nr1, mode ? bias : NULL, mode);
            ok &= memcmp(w0, c0, (size_t)MR * LDC * sizeof(float)) == 0;
            ok &= memcmp(w1, c1, (size_t)MR * LDC * sizeof(float)) == 0;
            free(a); free(b); free(bias); free(c0); free(c1); free(w0); free(w1);
        }
    CHECK(ok, "gemm_kernel/the 6 x 32 bfloat16 kernel equals the 6 x 16 one on each of its two panels, bit for bit");
    dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16);
    const int saved_amx = dcgan__amx_tiles;
    dcgan__amx_tiles = 0;   // the VDPBF16PS kernels (AMX tiles would take every product)
    const int same16 = wide_products_equal();
    dcgan__amx_tiles = saved_amx;
    dcgan_set_matmul_precision(DCGAN_MATMUL_FLOAT32);
    CHECK(same16, "sgemm/bfloat16 products with the 6 x 32 kernel equal those without it, bit for bit");
}

// bfloat16 products (dcgan_set_matmul_precision): the rounding (ties to even,
// NaN kept, overflow to Inf), the pair layout of packed panels (the AVX-512
// rewrite of 16-column panels equals the portable one bit for bit), products
// through the loop nest's routes - plain, transposed, K odd, K cut among the
// threads (dcgan__sgemm_ksplit: beta 1, long K), several slabs of K, edges -
// against the product in double of the operands rounded to bfloat16, and the
// implicit GEMM of a convolution against the product by the written im2col
// matrix, bit for bit. Where this build or CPU has no kernel, the refusal.
static float bf16_value(float x) {
    const uint32_t u = (uint32_t)dcgan__bf16_round(x) << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// bfloat16 products of random operands against the exact products of the
// operands rounded to bfloat16 (float32 sums: within 2e-6 sqrt(K) of the sum of
// magnitudes), and unlike the float32 products: partial tiles, transposes,
// beta 0 / 0.5 / 1, several slabs and slices (on AMX tiles too: K past 1024
// with each beta, M past 512), a 1 x 1 x 1 product.
static void bf16_products(int *close_out, int *rounded_out) {
    // M, N, K, trans_a, trans_b, beta
    const int shapes[][6] = {{7, 17, 5, 0, 0, 0},   {64, 65, 257, 1, 0, 2}, {130, 7, 513, 0, 1, 1},
                             {16, 9, 2600, 0, 1, 1}, {6, 2100, 31, 1, 1, 0}, {1, 1, 1, 0, 0, 0},
                             {33, 48, 64, 0, 0, 2},  {40, 50, 2100, 0, 0, 2}, {20, 33, 1500, 1, 0, 0},
                             {600, 700, 100, 0, 1, 2}};
    int close = 1, rounded = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        const float beta = shapes[s][5] == 2 ? 0.5f : (float)shapes[s][5];
        float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *C = randn((size_t)M * N);
        double *ref = (double *)calloc((size_t)M * N, sizeof(double)), *mag = (double *)calloc((size_t)M * N, sizeof(double));
        double *exact = (double *)calloc((size_t)M * N, sizeof(double));
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                const size_t q = (size_t)i * N + j;
                ref[q] = exact[q] = beta == 0.0f ? 0.0 : (double)beta * C[q];
                mag[q] = fabs(ref[q]);
                for (int k = 0; k < K; k++) {
                    const float a = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                    const float b = tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                    ref[q] += 0.75 * (double)bf16_value(a) * bf16_value(b);
                    mag[q] += 0.75 * fabs((double)bf16_value(a) * bf16_value(b));
                    exact[q] += 0.75 * (double)a * b;
                }
            }
        dcgan_sgemm(ta, tb, M, N, K, 0.75f, A, ta ? M : K, B, tb ? K : N, beta, C, N);
        for (size_t q = 0; q < (size_t)M * N; q++) {
            close &= fabs(C[q] - ref[q]) <= 2e-6 * sqrt((double)K) * mag[q] + 1e-30;
            rounded |= fabs(C[q] - exact[q]) > 1e-4 * mag[q];
        }
        free(A), free(B), free(C), free(ref), free(mag), free(exact);
    }
    *close_out = close;
    *rounded_out = rounded;
}

// bfloat16 products on AMX tiles, where every path sums each slab of k the same
// way, so bit for bit: bias and ReLU fused into the product equal the product
// and then that pass (partial tiles, two slabs of 1024, B transposed: the
// epilogue on the last slab only); a convolution's output written into its
// images (2 x 2 tiles across three images) equals the product into a matrix,
// scattered, plus bias; K cut among two threads (9 slabs) equals one thread.
static int amx_products_agree(void) {
    int same = 1;
    {
        const int M = 40, N = 70, K = 1100;
        float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *bias = randn((size_t)M);
        float *c0 = zeros((size_t)M * N), *c1 = zeros((size_t)M * N);
        dcgan_sgemm(0, 1, M, N, K, 0.75f, A, K, B, K, 0.0f, c0, N);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                const float v = c0[(size_t)i * N + j] + bias[i];
                c0[(size_t)i * N + j] = !(v > 0.0f) ? 0.0f : v;
            }
        dcgan__sgemm_fused(0, 1, M, N, K, 0.75f, A, K, B, K, 0.0f, c1, N, bias, 1);
        same &= memcmp(c0, c1, (size_t)M * N * sizeof(float)) == 0;
        free(A), free(B), free(bias), free(c0), free(c1);
    }
    {
        const int C = 3, H = 8, W = 8, KK = 3, S = 2, pad = 1, g = 3, M = 20, OH = 4, OW = 4, rows = C * KK * KK;
        const size_t OHW = (size_t)OH * OW, N = (size_t)g * OHW;
        float *img = randn((size_t)g * C * H * W), *A = randn((size_t)M * rows), *bias = randn((size_t)M);
        float *prod = zeros((size_t)M * N), *want = zeros((size_t)M * N), *got = randn((size_t)M * N);
        const dcgan__patches P = {img, (size_t)C * H * W, (size_t)H * W, g, C, H, W, KK, KK, S, pad, pad, OH, OW};
        dcgan__sgemm_patches(0, 0, M, (int)N, rows, 1.0f, A, rows, &P, 0.0f, prod, (int)N, NULL, 0);
        for (int i = 0; i < g; i++)
            for (int m = 0; m < M; m++)
                for (size_t q = 0; q < OHW; q++)
                    want[((size_t)i * M + m) * OHW + q] = prod[(size_t)m * N + i * OHW + q] + bias[m];
        same &= dcgan__sgemm_patches_nchw(M, rows, A, rows, &P, got, bias) &&
                memcmp(want, got, (size_t)M * N * sizeof(float)) == 0;
        free(img), free(A), free(bias), free(prod), free(want), free(got);
    }
#ifdef _OPENMP
    {
        const int M = 16, N = 9, K = 9000, saved = omp_get_max_threads();   // 9 slabs: cut on 2 threads
        float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *c[2];
        c[0] = randn((size_t)M * N);
        c[1] = zeros((size_t)M * N);
        memcpy(c[1], c[0], (size_t)M * N * sizeof(float));
        for (int t = 0; t < 2; t++) {
            omp_set_num_threads(t + 1);
            dcgan_sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 1.0f, c[t], N);
        }
        omp_set_num_threads(saved);
        same &= memcmp(c[0], c[1], (size_t)M * N * sizeof(float)) == 0;
        free(A), free(B), free(c[0]), free(c[1]);
    }
#endif
    return same;
}

static void test_sgemm_bf16(void) {
    // 1, a tie to even (down), a tie to even (up), just past a tie, -1, the largest
    // float (rounds to Inf), Inf, a quiet NaN, a negative signalling NaN, the smallest subnormal
    const uint32_t in[10] = {0x3f800000u, 0x3f808000u, 0x3f818000u, 0x3f808001u, 0xbf800000u,
                             0x7f7fffffu, 0x7f800000u, 0x7fc00001u, 0xff800001u, 0x00000001u};
    const uint16_t want[10] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xbf80, 0x7f80, 0x7f80, 0x7fc0, 0xffc0, 0x0000};
    int round_ok = 1;
    for (int t = 0; t < 10; t++) {
        float x;
        memcpy(&x, &in[t], sizeof x);
        round_ok &= dcgan__bf16_round(x) == want[t];
    }
    CHECK(round_ok, "bf16/rounding: ties to even, NaN stays NaN, the largest float to Inf");
    // a 6-row panel 5 deep: word (p, i) = bf16(entry 2p, i) | bf16(entry 2p + 1, i) << 16, 0 past kc
    float panel[30];
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 6; i++) panel[k * 6 + i] = (float)(k * 10 + i + 1);
    dcgan__panel_to_bf16(panel, 6, 5);
    int layout_ok = 1;
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < 6; i++) {
            uint32_t w;
            memcpy(&w, &panel[p * 6 + i], sizeof w);
            const uint32_t lo = dcgan__bf16_round((float)(2 * p * 10 + i + 1));
            const uint32_t hi = p < 2 ? dcgan__bf16_round((float)((2 * p + 1) * 10 + i + 1)) : 0u;
            layout_ok &= w == (lo | hi << 16);
        }
    CHECK(layout_ok, "bf16/panel layout: pairs (2p, 2p + 1) in one word, 0 past an odd depth");
    if (!dcgan__bf16_kernel()) {
        const dcgan_status st = dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16);
#ifdef DCGAN_NO_SIMD
        const char *msg = "set_matmul_precision: bfloat16 products: this build has no AVX512_BF16 kernel "
                          "(DCGAN_NO_SIMD, DCGAN_NO_AVX512, or a compiler older than GCC 10 / clang 9); "
                          "products stay float32";
#else
        const char *msg = "set_matmul_precision: bfloat16 products need a CPU with AVX512_BF16; this one has "
                          "none (products stay float32)";
#endif
        CHECK(st == DCGAN_ERR_UNSUPPORTED && strcmp(dcgan_last_error(), msg) == 0 &&
                  dcgan_get_matmul_precision() == DCGAN_MATMUL_FLOAT32,
              "bf16/refused where there is no kernel, with the reason; float32 stays");
        printf("test_layers: skipped: bfloat16 products (no AVX512_BF16 kernel in this build or on this CPU)\n");
        return;
    }
    // 16-column panels: the AVX-512 rewrite equals the portable loop, bit for bit, on
    // normal floats (randn's; a float32 subnormal becomes 0 there and is rounded by
    // the loop: see dcgan__bf16_round)
    int vec_ok = 1;
    for (int kc = 1; kc <= 257; kc += 64) {
        float *p1 = randn((size_t)16 * kc), *p2 = zeros((size_t)16 * kc);
        memcpy(p2, p1, (size_t)16 * kc * sizeof(float));
        dcgan__panels_to_bf16(p1, 1, 16, kc);
        dcgan__panel_to_bf16(p2, 16, kc);
        vec_ok &= memcmp(p1, p2, (size_t)16 * ((kc + 1) / 2) * sizeof(float)) == 0;
        free(p1), free(p2);
    }
    CHECK(vec_ok, "bf16/16-column panels of normal floats: the AVX-512 rewrite equals the portable loop");
    CHECK(dcgan_set_matmul_precision((dcgan_matmul_precision)7) == DCGAN_ERR_UNSUPPORTED &&
              strcmp(dcgan_last_error(), "set_matmul_precision: precision 7 is neither DCGAN_MATMUL_FLOAT32 (0) "
                                         "nor DCGAN_MATMUL_BFLOAT16 (1)") == 0,
          "bf16/an unknown precision is refused, named");
    CHECK(dcgan_set_matmul_precision(DCGAN_MATMUL_BFLOAT16) == DCGAN_OK &&
              dcgan_get_matmul_precision() == DCGAN_MATMUL_BFLOAT16, "bf16/set");
    int close, rounded;
    const int saved_amx = dcgan__amx_tiles;
    dcgan__amx_tiles = 0;
    bf16_products(&close, &rounded);
    CHECK(close, "bf16/products equal those of the operands rounded to bfloat16 (float32 sums)");
    CHECK(rounded, "bf16/and differ from the float32 products (the operands were rounded)");
    // a convolution's implicit GEMM (3 channels, 3x3, stride 2, 2 images) against the written im2col
    const int C = 3, H = 9, W = 11, g = 2, OH = 5, OW = 6, M = 10, rows = C * 9;
    const size_t N = (size_t)g * OH * OW;
    float *img = randn((size_t)g * C * H * W), *col = zeros((size_t)rows * N), *A = randn((size_t)M * rows);
    float *c1 = zeros((size_t)M * N), *c2 = zeros((size_t)M * N);
    const dcgan__patches P = {img, (size_t)C * H * W, (size_t)H * W, g, C, H, W, 3, 3, 2, 1, 1, OH, OW};
    dcgan__im2col(col, N, &P);
    dcgan_sgemm(0, 0, M, (int)N, rows, 1.0f, A, rows, col, (int)N, 0.0f, c1, (int)N);
    dcgan__sgemm_patches(0, 0, M, (int)N, rows, 1.0f, A, rows, &P, 0.0f, c2, (int)N, NULL, 0);
    CHECK(memcmp(c1, c2, (size_t)M * N * sizeof(float)) == 0,
          "bf16/implicit GEMM equals the product by the written im2col matrix, bit for bit");
    free(img), free(col), free(A), free(c1), free(c2);
    // the same on AMX tiles, where the CPU has them and Linux lent them
    if (!dcgan__amx_granted()) {
        printf("test_layers: skipped: bfloat16 products on AMX tiles (no AMX-BF16 in this build or on this CPU, "
               "or Linux did not lend the tiles)\n");
    } else {
        const int off = dcgan_matmul_on_amx();   // (dcgan__amx_tiles is 0 here)
        dcgan__amx_tiles = 1;
        CHECK(!off && dcgan_matmul_on_amx() == 1, "bf16/AMX tiles: dcgan_matmul_on_amx says which path runs");
        bf16_products(&close, &rounded);
        CHECK(close, "bf16/AMX tiles: products equal those of the operands rounded to bfloat16 (float32 sums)");
        CHECK(rounded, "bf16/AMX tiles: and differ from the float32 products");
        CHECK(amx_products_agree(), "bf16/AMX tiles: fused bias + ReLU, outputs written into images, K cut among "
                                    "threads: each equals the plain product's path, bit for bit");
    }
    dcgan__amx_tiles = saved_amx;
    CHECK(dcgan_set_matmul_precision(DCGAN_MATMUL_FLOAT32) == DCGAN_OK &&
              dcgan_get_matmul_precision() == DCGAN_MATMUL_FLOAT32 && !dcgan_matmul_on_amx(),
          "bf16/back to float32 (and off the AMX tiles)");
}

// The fused product (Inception's conv + bias + ReLU) equals dcgan_sgemm followed
// by the separate pass it replaces, bit for bit: on tile edges, across the
// packing depth (K > 256, so tiles are written more than once), with bias and
// ReLU, bias alone, ReLU alone; threads split by columns and by rows. With
// ReLU, row 0 of A holds a NaN: that row of C is NaN, which ReLU makes 0 (the
// kernel applies the epilogue to whole tiles in registers, the loop to edges).
static void test_sgemm_fused(void) {
    const int shapes[][3] = {{6, 16, 1}, {7, 17, 300}, {64, 65, 257}, {130, 7, 513}, {5, 2000, 40}, {300, 9, 20}};
    int ok = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int mode = 0; mode < 3; mode++) {
            const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *bias = randn((size_t)M);
            float *C = zeros((size_t)M * N), *want = zeros((size_t)M * N);
            const float *b = mode == 2 ? NULL : bias;
            const int relu = mode != 1;
            if (relu) A[0] = NAN;
            dcgan_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, want, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    float v = want[(size_t)i * N + j] + (b ? b[i] : 0.0f);
                    want[(size_t)i * N + j] = relu ? (v > 0.0f ? v : 0.0f) : v;
                }
            dcgan__sgemm_fused(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, b, relu);
            ok &= memcmp(C, want, (size_t)M * N * sizeof(float)) == 0;
            free(A); free(B); free(bias); free(C); free(want);
        }
    CHECK(ok, "sgemm_fused/bias + ReLU on each finished tile equals the separate pass, bit for bit");
}

// Implicit GEMM. dcgan__im2col writes the matrix out; each entry is checked
// against the formula, one loop per index. Then dcgan__sgemm_patches, which
// reads the entries from the images while packing, must give what
// dcgan_sgemm gives with the written matrix, bit for bit (the panels hold the
// same numbers), as col and as col^T, with bias + ReLU too. Shapes: strides
// 1-3, padding wider than the kernel, rectangular kernels (Inception's 1x7 and
// 7x1), images narrower than a panel, several images side by side, a (C, NB,
// H, W) layout, K, N past the packing blocks (256 rows, 2048 columns), M on
// both sides of one slice of A (96 rows), and images wide enough for panels
// whose every tap lies inside (their rows are copied whole). The products run
// with panels packed by the loops only (gather 0), and where the CPU has them
// gathered with AVX2 (1) and with AVX-512F (2, the default) where that is faster.
// Images are allocated exactly, so the sanitizer build sees any read past them.
static void sgemm_patches_cases(int gather) {
    dcgan__gather_patches = gather;
    // C, H, W, KH, KW, S, pt, pl, g, layout (0 NCHW, 1 (C, NB, H, W)), M
    const int cases[][11] = {{1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1},    {3, 8, 8, 4, 4, 2, 1, 1, 2, 0, 7},
                             {2, 5, 7, 3, 3, 1, 1, 1, 3, 1, 13},   {4, 17, 17, 1, 7, 1, 0, 3, 2, 1, 19},
                             {4, 17, 17, 7, 1, 1, 3, 0, 1, 0, 6},  {1, 3, 2, 5, 5, 1, 4, 4, 2, 0, 3},
                             {30, 9, 11, 3, 3, 1, 1, 1, 2, 0, 40}, {3, 33, 35, 3, 3, 2, 0, 0, 1, 0, 32},
                             {5, 31, 29, 5, 5, 3, 2, 2, 3, 0, 100}, {2, 40, 40, 4, 4, 2, 1, 1, 6, 1, 11},
                             {40, 12, 40, 3, 3, 1, 1, 1, 2, 1, 20}, {29, 7, 45, 3, 3, 1, 0, 0, 2, 0, 110}};
    int im2col_ok = 1, ok[2] = {1, 1}, fused_ok = 1;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int *c = cases[s];
        const int C = c[0], H = c[1], W = c[2], KH = c[3], KW = c[4], S = c[5], pt = c[6], pl = c[7];
        const int g = c[8], nb_layout = c[9], M = c[10];
        const int OH = (H + 2 * pt - KH) / S + 1, OW = (W + 2 * pl - KW) / S + 1;
        const size_t HW = (size_t)H * W, OHW = (size_t)OH * OW, N = (size_t)g * OHW;
        const int rows = C * KH * KW;
        const size_t istride = nb_layout ? HW : (size_t)C * HW, cstride = nb_layout ? (size_t)g * HW : HW;
        float *img = randn((size_t)g * C * HW), *col = zeros((size_t)rows * N);
        const dcgan__patches P = {img, istride, cstride, g, C, H, W, KH, KW, S, pt, pl, OH, OW};
        dcgan__im2col(col, N, &P);
        for (int i = 0; i < g; i++)
            for (int ch = 0; ch < C; ch++)
                for (int kh = 0; kh < KH; kh++)
                    for (int kw = 0; kw < KW; kw++)
                        for (int oh = 0; oh < OH; oh++)
                            for (int ow = 0; ow < OW; ow++) {
                                const int ih = oh * S - pt + kh, iw = ow * S - pl + kw;
                                const float want = ih < 0 || ih >= H || iw < 0 || iw >= W
                                                       ? 0.0f
                                                       : img[i * istride + ch * cstride + (size_t)ih * W + iw];
                                const size_t r = ((size_t)ch * KH + kh) * KW + kw, q = i * OHW + (size_t)oh * OW + ow;
                                im2col_ok &= col[r * N + q] == want;
                            }
        // col: (rows x N), A (M x rows); col^T: A2 (M x N) times col^T (N x rows)
        for (int trans = 0; trans < 2; trans++) {
            const int K = trans ? (int)N : rows, n = trans ? rows : (int)N;
            float *A = randn((size_t)M * K), *want = randn((size_t)M * n), *got = zeros((size_t)M * n);
            memcpy(got, want, (size_t)M * n * sizeof(float));
            const float beta = trans ? 0.5f : 0.0f;   // and NaN-free beta = 0: C is not read
            dcgan_sgemm(0, trans, M, n, K, 0.75f, A, K, col, (int)N, beta, want, n);
            dcgan__sgemm_patches(0, trans, M, n, K, 0.75f, A, K, &P, beta, got, n, NULL, 0);
            ok[trans] &= memcmp(want, got, (size_t)M * n * sizeof(float)) == 0;
            if (!trans) {   // Inception's use: bias + ReLU on the finished tiles
                float *bias = randn((size_t)M);
                dcgan__sgemm_fused(0, 0, M, n, K, 1.0f, A, K, col, (int)N, 0.0f, want, n, bias, 1);
                dcgan__sgemm_patches(0, 0, M, n, K, 1.0f, A, K, &P, 0.0f, got, n, bias, 1);
                fused_ok &= memcmp(want, got, (size_t)M * n * sizeof(float)) == 0;
                free(bias);
            }
            free(A); free(want); free(got);
        }
        free(img); free(col);
    }
    dcgan__gather_patches = 2;
    if (gather) {
        const char *how = gather == 1 ? "panels gathered with AVX2" : "panels gathered";
        char label[160];
        snprintf(label, sizeof label, "sgemm_patches/A * col, %s, equals A * the written col, bit for bit", how);
        CHECK(ok[0], label);
        snprintf(label, sizeof label, "sgemm_patches/A * col^T, %s, equals A * the written col^T, bit for bit", how);
        CHECK(ok[1], label);
        snprintf(label, sizeof label, "sgemm_patches/%s, with bias + ReLU, equals sgemm_fused with the written col, bit for bit", how);
        CHECK(fused_ok, label);
        return;
    }
    CHECK(im2col_ok, "im2col/every entry is its image pixel, or 0 in the padding");
    CHECK(ok[0], "sgemm_patches/A * col read from the images equals A * the written col, bit for bit");
    CHECK(ok[1], "sgemm_patches/A * col^T read from the images equals A * the written col^T, bit for bit");
    CHECK(fused_ok, "sgemm_patches/with bias + ReLU equals sgemm_fused with the written col, bit for bit");
}

static void test_sgemm_patches(void) {
    {   // gathers only where every offset fits in 32 bits (no images needed to ask)
        dcgan__patches P = {NULL, (size_t)16 * 64 * 64, (size_t)64 * 64, 32, 16, 64, 64, 3, 3, 2, 1, 1, 32, 32};
        const int small = dcgan__gather_fits(&P);
        P.g = 32768;   // 2^15 images of 2^16 floats: offsets up to 2^31
        const int images = dcgan__gather_fits(&P);
        P.g = 1, P.istride = (size_t)64 * 64;   // (C, NB, H, W): 16 channels 2^27 floats apart
        P.cstride = (size_t)1 << 27;
        const int channels = dcgan__gather_fits(&P);
        CHECK(small && !images && !channels, "sgemm_patches/gathers are refused where an offset passes 2^31 - 1");
    }
    sgemm_patches_cases(0);
    if (dcgan__kernel_get("avx2"))
        sgemm_patches_cases(1);
    else
        printf("test_layers: skipped: panels of patches gathered with AVX2 (no AVX2 in this build or on this CPU)\n");
    if (dcgan__kernel_get("avx512"))
        sgemm_patches_cases(2);
    else
        printf("test_layers: skipped: panels of patches gathered with AVX-512 (no AVX-512F kernel in this build or on this CPU)\n");
}

// A convolution's product written into its output images in place
// (dcgan__sgemm_patches_nchw) equals the product into a matrix, then each
// image's columns copied out with the bias added, bit for bit: panels of 16
// columns inside one image (OH*OW = 16, 64, 1024), several images, more than
// one slice of 2048 columns, with and without bias. Where OH*OW is not a
// multiple of 16 it declines (returns 0) and leaves C as it was.
static void test_sgemm_patches_nchw(void) {
    // C, H, W, K, S, pad, g, M
    const int cases[][8] = {{1, 64, 64, 3, 2, 1, 5, 16}, {16, 32, 32, 3, 2, 1, 3, 32}, {64, 8, 8, 3, 2, 1, 7, 128},
                            {3, 16, 16, 4, 2, 1, 4, 7}, {2, 9, 9, 3, 1, 1, 2, 5}};
    int ok = 1, declined = 1;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int *c = cases[s];
        const int C = c[0], H = c[1], W = c[2], K = c[3], S = c[4], pad = c[5], g = c[6], M = c[7];
        const int OH = (H + 2 * pad - K) / S + 1, OW = (W + 2 * pad - K) / S + 1, rows = C * K * K;
        const size_t OHW = (size_t)OH * OW, N = (size_t)g * OHW;
        float *img = randn((size_t)g * C * H * W), *A = randn((size_t)M * rows), *bias = randn((size_t)M);
        float *prod = zeros((size_t)M * N), *want = zeros((size_t)M * N), *got = randn((size_t)M * N);
        const dcgan__patches P = {img, (size_t)C * H * W, (size_t)H * W, g, C, H, W, K, K, S, pad, pad, OH, OW};
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            dcgan__sgemm_patches(0, 0, M, (int)N, rows, 1.0f, A, rows, &P, 0.0f, prod, (int)N, NULL, 0);
            for (int i = 0; i < g; i++)
                for (int m = 0; m < M; m++)
                    for (size_t q = 0; q < OHW; q++) {
                        const float v = prod[(size_t)m * N + i * OHW + q];
                        want[((size_t)i * M + m) * OHW + q] = with_bias ? v + bias[m] : v;
                    }
            float *before = zeros((size_t)M * N);
            memcpy(before, got, (size_t)M * N * sizeof(float));
            const int done = dcgan__sgemm_patches_nchw(M, rows, A, rows, &P, got, with_bias ? bias : NULL);
            if (OHW % 16 == 0) ok &= done && memcmp(want, got, (size_t)M * N * sizeof(float)) == 0;
            else declined &= !done && memcmp(before, got, (size_t)M * N * sizeof(float)) == 0;
            free(before);
        }
        free(img); free(A); free(bias); free(prod); free(want); free(got);
    }
    CHECK(ok, "sgemm_patches_nchw/the product written into the images equals product + scatter + bias, bit for bit");
    CHECK(declined, "sgemm_patches_nchw/OH*OW not a multiple of 16: declined, C untouched");
}

// A product with a small C and a long K (a weight gradient) is cut along K on
// two threads or more (dcgan__sgemm_ksplit): its C must be the one-thread C bit
// for bit, since the slabs' sums are added into C in the one-thread order.
// Stored B as op(B) = B and B^T, B read from images (col^T, the convolution's
// weight gradient), K a multiple of the 256-deep slab and not, C not zero
// first (beta 1 adds), and against the plain loop.
static void test_sgemm_ksplit(void) {
#ifndef _OPENMP
    printf("test_layers: skipped: sgemm cut along K (built without OpenMP: one thread)\n");
#else
    // M, N, K, trans_b, from images (1: col^T of 1-channel 64x64 images, 3x3 stride 2)
    const int cases[][5] = {{16, 9, 32768, 1, 1}, {32, 144, 8192, 1, 0}, {7, 20, 2100, 0, 0},
                            {13, 40, 2305, 1, 0}, {1, 3, 4099, 0, 0}};
    const int saved = omp_get_max_threads();
    int same = 1, close = 1;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int M = cases[s][0], N = cases[s][1], K = cases[s][2], tb = cases[s][3], from_images = cases[s][4];
        float *A = randn((size_t)M * K), *B = randn((size_t)K * N), *C0 = randn((size_t)M * N);
        float *one = zeros((size_t)M * N), *two = zeros((size_t)M * N), *ref = zeros((size_t)M * N);
        float *img = randn((size_t)32 * 64 * 64);
        const dcgan__patches P = {img, 64 * 64, 64 * 64, 32, 1, 64, 64, 3, 3, 2, 1, 1, 32, 32};
        for (int threads = 1; threads <= 2; threads++) {
            float *C = threads == 1 ? one : two;
            memcpy(C, C0, (size_t)M * N * sizeof(float));
            omp_set_num_threads(threads);
            if (from_images) dcgan__sgemm_patches(0, 1, M, N, K, 1.0f, A, K, &P, 1.0f, C, N, NULL, 0);
            else dcgan_sgemm(0, tb, M, N, K, 1.0f, A, K, B, tb ? K : N, 1.0f, C, N);
        }
        omp_set_num_threads(saved);
        same &= memcmp(one, two, (size_t)M * N * sizeof(float)) == 0;
        memcpy(ref, C0, (size_t)M * N * sizeof(float));
        if (from_images) {
            float *col = zeros((size_t)9 * K);
            dcgan__im2col(col, (size_t)K, &P);
            dcgan_sgemm_ref(0, 1, M, N, K, 1.0f, A, K, col, K, 1.0f, ref, N);
            free(col);
        } else {
            dcgan_sgemm_ref(0, tb, M, N, K, 1.0f, A, K, B, tb ? K : N, 1.0f, ref, N);
        }
        char label[96];
        snprintf(label, sizeof label, "sgemm cut along K/M=%d N=%d K=%d against the plain loop", M, N, K);
        close &= CHECK_CLOSE(ref, two, (size_t)M * N, 1e-4 * sqrt((double)K), 1e-5, label);
        free(A); free(B); free(C0); free(one); free(two); free(ref); free(img);
    }
    CHECK(same, "sgemm cut along K/two threads give the one-thread C, bit for bit");
    (void)close;
#endif
}

// ---------------------------------------------------------------------------
// The direct convolution (few channels: the generator's last layer at stride
// 1, a first layer on 1-3 channels at stride 2 or 3) against the seven-loop
// reference, forward and all gradients, through the public functions: with
// the caller's work of dcgan_conv2d_work_size floats (one image of the GEMM:
// 1-15 images of the direct path, so in some cases the images go in groups,
// and in the last one the forward is too small for it and takes the GEMM)
// and without work (always the direct path); and its AVX2 tiles against the
// portable ones.

static void direct_case(int N, int C, int OC, int H, int W, int K, int S, int pt, int pl, int pb, int pr, int bias,
                        int want_dinp) {
    const int OH = dcgan_conv_out_size(H, K, S, pt, pb), OW = dcgan_conv_out_size(W, K, S, pl, pr);
    const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * OC * OH * OW, nw = (size_t)OC * C * K * K;
    float *x = randn(nx), *w = randn(nw), *b = randn((size_t)OC), *dy = randn(ny);
    float *y = zeros(ny), *yr = zeros(ny), *dx0 = randn(nx), *dxr = zeros(nx), *dw0 = randn(nw), *dwr = zeros(nw);
    float *db0 = randn((size_t)OC), *dbr = zeros((size_t)OC), *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)OC);
    memcpy(dxr, dx0, nx * sizeof(float));
    memcpy(dwr, dw0, nw * sizeof(float));
    memcpy(dbr, db0, (size_t)OC * sizeof(float));
    dcgan_conv2d conv = {w, bias ? b : NULL, C, OC, K, S, pt, pl, pb, pr};
    dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, W);
    const size_t wf = dcgan_conv2d_work_size(&conv, H, W);
    float *work = zeros(wf);
    char label[160];
    snprintf(label, sizeof label, "conv2d direct/N%d C%d OC%d %dx%d K%d S%d pads %d,%d,%d,%d", N, C, OC, H, W, K, S,
             pt, pl, pb, pr);
    CHECK(dcgan__use_direct(&conv), "conv2d direct/the case takes the direct path");
    dcgan_conv2d_forward_ref(dcgan_tensor_make(yr, N, OC, OH, OW), tx, &conv);
    dcgan_conv2d_backward_ref(dcgan_tensor_make(want_dinp ? dxr : NULL, N, C, H, W), dwr, bias ? dbr : NULL,
                              dcgan_tensor_make(dy, N, OC, OH, OW), tx, &conv);
    for (int own = 0; own < 2; own++) {
        CHECK(dcgan_conv2d_forward(dcgan_tensor_make(y, N, OC, OH, OW), tx, &conv, own ? NULL : work, own ? 0 : wf) == DCGAN_OK,
              "conv2d direct/forward status");
        CHECK_CLOSE(yr, y, ny, 1e-4, 1e-4, label);
        memcpy(dx, dx0, nx * sizeof(float));
        memcpy(dw, dw0, nw * sizeof(float));
        memcpy(db, db0, (size_t)OC * sizeof(float));
        CHECK(dcgan_conv2d_backward(dcgan_tensor_make(want_dinp ? dx : NULL, N, C, H, W), dw, bias ? db : NULL,
                                    dcgan_tensor_make(dy, N, OC, OH, OW), tx, &conv, own ? NULL : work,
                                    own ? 0 : wf) == DCGAN_OK,
              "conv2d direct/backward status");
        CHECK_CLOSE(dxr, dx, nx, 1e-4, 1e-4, "conv2d direct/dinp equals the reference (untouched when not asked)");
        CHECK_CLOSE(dwr, dw, nw, 1e-3, 1e-4, "conv2d direct/dweight equals the reference");
        CHECK_CLOSE(dbr, db, (size_t)OC, 1e-3, 1e-4, "conv2d direct/dbias equals the reference");
    }
    free(x); free(w); free(b); free(dy); free(y); free(yr); free(dx0); free(dxr); free(dw0); free(dwr);
    free(db0); free(dbr); free(dx); free(dw); free(db); free(work);
}

// col2im's entries, one tap at a time: each entry of img receives its column
// entries in the order of the taps (kh, then kw), on top of its first value,
// which dcgan__col2im promises whichever of its loops runs. So the bits must be
// these, not merely close.
static void col2im_loop(float *img, const float *col, size_t ld, int g, int C, int H, int W, int KH, int KW,
                        int S, int pt, int pl, int OH, int OW, int fresh, const float *bias) {
    for (int i = 0; i < g; i++)
        for (int c = 0; c < C; c++) {
            float *plane = img + ((size_t)i * C + c) * H * W;
            if (fresh)
                for (int p = 0; p < H * W; p++) plane[p] = bias ? bias[c] : 0.0f;
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    for (int oh = 0; oh < OH; oh++)
                        for (int ow = 0; ow < OW; ow++) {
                            const int ih = oh * S - pt + kh, iw = ow * S - pl + kw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            plane[ih * W + iw] += col[((size_t)(c * KH + kh) * KW + kw) * ld + (size_t)i * OH * OW +
                                                      (size_t)oh * OW + ow];
                        }
        }
}

// the labels of dcgan__col2im_simd's levels 0, 1, 2
static const char *const col2im_level_names[3] = {", the loops", ", AVX2 registers", ""};

// g images of C x H x W, kernel K, stride S, pads top/left/bottom/right; fresh:
// the planes start at bias (a transposed convolution's forward), else at what
// img holds (random: a gradient added to)
static void col2im_case(int g, int C, int H, int W, int K, int S, int pt, int pl, int pb, int pr, int fresh) {
    const int OH = (H + pt + pb - K) / S + 1, OW = (W + pl + pr - K) / S + 1;
    const size_t ld = (size_t)g * OH * OW, n = (size_t)g * C * H * W;
    float *col = randn((size_t)C * K * K * ld), *img = randn(n), *want = (float *)malloc(n * sizeof(float));
    float *bias = randn((size_t)C);
    memcpy(want, img, n * sizeof(float));
    col2im_loop(want, col, ld, g, C, H, W, K, K, S, pt, pl, OH, OW, fresh, fresh ? bias : NULL);
    dcgan__col2im(img, col, ld, g, C, H, W, K, K, S, pt, pl, OH, OW, fresh, fresh ? bias : NULL);
    char label[200];
    snprintf(label, sizeof label, "col2im/g=%d C=%d %dx%d K=%d S=%d pads %d %d %d %d %s%s: the bits of the tap-order loop",
             g, C, H, W, K, S, pt, pl, pb, pr, fresh ? "fresh" : "added",
             col2im_level_names[dcgan__col2im_simd]);
    CHECK(memcmp(want, img, n * sizeof(float)) == 0, label);
    free(col), free(img), free(want), free(bias);
}

// Every case with the loops, and where the CPU has them with the phase rows
// in AVX2 and in AVX-512 registers at stride 2.
static void col2im_cases(void) {
    col2im_case(2, 3, 8, 8, 3, 2, 1, 1, 1, 1, 0);      // the classifier's layers
    col2im_case(2, 2, 9, 11, 3, 2, 1, 1, 1, 1, 0);     // odd sides at stride 2
    col2im_case(3, 2, 16, 16, 4, 2, 1, 1, 1, 1, 1);    // a generator's layer, from its bias
    col2im_case(1, 3, 17, 13, 4, 2, 1, 1, 1, 1, 1);    // the same, odd sides
    col2im_case(1, 2, 10, 14, 5, 3, 2, 1, 2, 2, 0);    // stride 3: the general phase loops
    col2im_case(1, 2, 11, 16, 3, 3, 0, 0, 1, 2, 1);
    col2im_case(1, 1, 7, 9, 1, 2, 0, 0, 0, 0, 0);      // kernel below the stride: some entries get nothing
    col2im_case(2, 2, 9, 10, 3, 2, 0, 1, 1, 0, 0);     // TensorFlow's 'same' and the other way round
    col2im_case(1, 2, 6, 7, 4, 2, 3, 3, 3, 3, 0);      // pads of K-1: taps far outside the image
    col2im_case(2, 3, 12, 12, 3, 1, 1, 1, 1, 1, 0);    // stride 1
    col2im_case(1, 1, 3, 1100, 3, 2, 1, 1, 1, 1, 0);   // phase rows wider than DCGAN__COL2IM_ROW
    col2im_case(1, 1, 20, 20, 17, 2, 8, 8, 8, 8, 1);   // a kernel wider than DCGAN__COL2IM_TAPS
    col2im_case(40, 3, 16, 16, 3, 2, 1, 1, 1, 1, 0);   // enough work for the threads
    col2im_case(2, 2, 5, 33, 4, 2, 1, 1, 1, 1, 1);     // rows of 33 and 70: two and three blocks of 32
    col2im_case(1, 2, 4, 70, 3, 2, 1, 1, 1, 1, 0);
    col2im_case(1, 1, 9, 2, 5, 2, 2, 2, 2, 2, 0);      // rows of 2, a kernel wider than the row
    col2im_case(1, 2, 6, 9, 2, 2, 3, 3, 3, 3, 0);      // pads above the kernel: taps reach no entry at the ends
    col2im_case(1, 1, 7, 9, 1, 2, 1, 1, 1, 1, 0);
    // every entry -0 and every column entry -0: -0 + -0 = -0 where a tap lands,
    // and an entry no tap reaches (kernel 1 < stride 2) must stay -0 too;
    // kernel 3: lanes past a tap's reach at the ends of rows of 40
    int minus = 1;
    for (int K = 1; K <= 3; K += 2) {
        const int g = 1, C = 2, H = 9, W = 40, P = K / 2, OH = (H + 2 * P - K) / 2 + 1, OW = (W + 2 * P - K) / 2 + 1;
        const size_t ld = (size_t)OH * OW, n = (size_t)g * C * H * W;
        float *col = zeros((size_t)C * K * K * ld), *img = zeros(n), *want = zeros(n);
        for (size_t i = 0; i < (size_t)C * K * K * ld; i++) col[i] = -0.0f;
        for (size_t i = 0; i < n; i++) img[i] = want[i] = -0.0f;
        col2im_loop(want, col, ld, g, C, H, W, K, K, 2, P, P, OH, OW, 0, NULL);
        dcgan__col2im(img, col, ld, g, C, H, W, K, K, 2, P, P, OH, OW, 0, NULL);
        for (size_t i = 0; i < n; i++) minus &= img[i] == 0.0f && signbit(img[i]);
        minus &= memcmp(want, img, n * sizeof(float)) == 0;
        free(col), free(img), free(want);
    }
    char label[160];
    snprintf(label, sizeof label, "col2im/-0 stays -0, where taps land and where none does (K 1 and 3)%s",
             col2im_level_names[dcgan__col2im_simd]);
    CHECK(minus, label);
}

static void test_col2im(void) {
    // 2: the phase rows in AVX-512 registers (or AVX2, where the CPU has no
    // AVX-512F), 1: in AVX2 registers, 0: the loops
    dcgan__col2im_simd = 0;
    col2im_cases();
    if (dcgan__kernel_get("avx2")) {
        dcgan__col2im_simd = 1;
        col2im_cases();
    } else {
        printf("test_layers: skipped: col2im's phase rows in AVX2 registers (no AVX2 in this build or on this CPU)\n");
    }
    if (dcgan__kernel_get("avx512")) {
        dcgan__col2im_simd = 2;
        col2im_cases();
    } else {
        printf("test_layers: skipped: col2im's phase rows in AVX-512 registers (no AVX-512F kernel in this build or on this CPU)\n");
    }
    dcgan__col2im_simd = 2;
}

static void test_conv2d_direct(void) {
    direct_case(2, 5, 3, 9, 37, 5, 1, 2, 2, 2, 2, 1, 1);     // 'same' K=5, a row of 37 = 32 + 5
    direct_case(3, 4, 1, 6, 8, 3, 1, 0, 0, 0, 0, 0, 1);      // valid, gray output
    direct_case(1, 7, 2, 11, 70, 4, 1, 1, 2, 2, 1, 1, 1);    // asymmetric pads, even kernel
    direct_case(2, 3, 3, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1);      // 1x1
    direct_case(1, 2, 3, 4, 3, 5, 1, 4, 4, 4, 4, 1, 1);      // pads of K-1: output larger than input
    direct_case(2, 3, 7, 6, 40, 5, 1, 2, 2, 2, 2, 1, 1);     // few inputs, many outputs (D's first layer)
    direct_case(1, 2, 4, 5, 33, 3, 1, 1, 0, 1, 2, 0, 0);
    // stride 2 and 3: the classifier's first layer (1 -> 16, K=3, pad 1), odd
    // sizes, TensorFlow's 'same' (pads 0 before, 1 after), rows past one tile
    direct_case(3, 1, 16, 12, 12, 3, 2, 1, 1, 1, 1, 1, 0);
    direct_case(2, 1, 5, 13, 71, 3, 2, 1, 1, 1, 1, 1, 1);
    direct_case(2, 3, 16, 11, 9, 4, 2, 1, 2, 2, 1, 0, 1);
    direct_case(3, 2, 4, 9, 10, 3, 2, 0, 0, 1, 1, 1, 1);
    direct_case(2, 1, 7, 14, 40, 5, 3, 2, 1, 2, 0, 1, 1);
    direct_case(1, 1, 2, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1);      // pads of K-1 at stride 2
    direct_case(2, 1, 32, 10, 12, 3, 2, 1, 1, 1, 1, 1, 1);   // C*K*K < 16 with many outputs
    direct_case(2, 4, 6, 9, 9, 3, 2, 1, 1, 1, 1, 1, 1);      // C = DCGAN__DIRECT_MAX_C
    direct_case(2, 2, 3, 7, 9, 1, 2, 0, 0, 0, 0, 1, 1);      // stride above the kernel
    direct_case(1, 1, 4, 11, 8, 2, 3, 1, 0, 0, 1, 1, 1);
    {   // stride 2 without dweight: the direct path has nothing to give, the GEMM does dinp and dbias
        const int N = 2, C = 1, OC = 5, H = 9, K = 3, OH = 5;
        float *x = randn((size_t)N * C * H * H), *w = randn((size_t)OC * C * K * K), *dy = randn((size_t)N * OC * OH * OH);
        float *dx = zeros((size_t)N * C * H * H), *dxr = zeros((size_t)N * C * H * H), db[5] = {0}, dbr[5] = {0};
        dcgan_conv2d conv = {w, NULL, C, OC, K, 2, 1, 1, 1, 1};
        dcgan_conv2d_backward_ref(dcgan_tensor_make(dxr, N, C, H, H), NULL, dbr, dcgan_tensor_make(dy, N, OC, OH, OH),
                                  dcgan_tensor_make(x, N, C, H, H), &conv);
        CHECK(dcgan_conv2d_backward(dcgan_tensor_make(dx, N, C, H, H), NULL, db, dcgan_tensor_make(dy, N, OC, OH, OH),
                                    dcgan_tensor_make(x, N, C, H, H), &conv, NULL, 0) == DCGAN_OK,
              "conv2d direct/backward status (no dweight)");
        CHECK_CLOSE(dxr, dx, (size_t)N * C * H * H, 1e-4, 1e-4, "conv2d direct/dinp without dweight equals the reference");
        CHECK_CLOSE(dbr, db, (size_t)OC, 1e-4, 1e-4, "conv2d direct/dbias without dweight equals the reference");
        free(x); free(w); free(dy); free(dx); free(dxr);
    }
#ifdef _OPENMP
    {   // the weight gradient is summed per image, then over the images in order: one thread or two, the same bits
        const int N = 5, C = 1, OC = 16, H = 30, K = 3, OH = 15, saved = omp_get_max_threads();
        float *x = randn((size_t)N * C * H * H), *w = randn((size_t)OC * C * K * K), *dy = randn((size_t)N * OC * OH * OH);
        float dw[2][16 * 9], *dw0 = randn((size_t)OC * C * K * K);   // (added to: a sum of sums)
        dcgan_conv2d conv = {w, NULL, C, OC, K, 2, 1, 1, 1, 1};
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            memcpy(dw[threads - 1], dw0, sizeof dw[0]);
            CHECK(dcgan_conv2d_backward(dcgan_tensor_make(NULL, N, C, H, H), dw[threads - 1], NULL,
                                        dcgan_tensor_make(dy, N, OC, OH, OH), dcgan_tensor_make(x, N, C, H, H), &conv,
                                        NULL, 0) == DCGAN_OK,
                  "conv2d direct/backward status (threads)");
        }
        omp_set_num_threads(saved);
        CHECK(memcmp(dw[0], dw[1], sizeof dw[0]) == 0, "conv2d direct/two threads give the one-thread dweight, bit for bit");
        free(x); free(w); free(dy); free(dw0);
    }
#else
    printf("test_layers: skipped: direct dweight with one and two threads (built without OpenMP)\n");
#endif
    // a first layer with more channels stays a GEMM
    {
        dcgan_conv2d conv = {NULL, NULL, 3, 64, 4, 2, 1, 1, 1, 1};
        CHECK(!dcgan__use_direct(&conv), "conv2d direct/3 -> 64 channels, K=4, S=2 is a GEMM");
    }
    // the SIMD tiles against the portable ones on the same padded data
    const int C = 6, K = 5, Wp = 80, Hp = 9;
    const size_t plane = (size_t)Hp * Wp;
    float *src = randn((size_t)C * plane + 64), *w = randn((size_t)3 * C * K * K);
    float a1[3 * 32], a2[3 * 32], g1[9], g2[9];
    for (int S = 1; S <= 2; S++) {   // planes of 9 x 80 or, at stride 2, four of 9 x 20 per channel
        const dcgan__taps tp = dcgan__taps_make(C, K, S, plane / (S * S), (size_t)Wp / (S * S));
        dcgan__direct_tile_portable(src + 7, &tp, w, a1);
        dcgan__pick_direct()(src + 7, &tp, w, a2);
        CHECK_CLOSE(a1, a2, 3 * 32, 1e-4, 1e-4, "conv2d direct/run-time tile equals the portable tile");
    }
    const float *d[3] = {src + 100, src + 900, src + 1700};
    const size_t off3[3] = {3, 81, 166};
    dcgan__dw_tile_portable(src, off3, 80, d, 7, 21, g1);   // 21 columns: two vectors and a tail of 5
    dcgan__pick_dw()(src, off3, 80, d, 7, 21, g2);
    CHECK_CLOSE(g1, g2, 9, 1e-4, 1e-4, "conv2d direct/run-time weight-gradient tile equals the portable one");
    free(src);
    free(w);
}

// ---------------------------------------------------------------------------
// Errors: wrong shapes fail with DCGAN_ERR_SHAPE, a message, untouched outputs

static void test_shape_errors(void) {
    float wgt[4 * 3 * 9] = {0}, x[2 * 2 * 5 * 5] = {0}, out[2 * 4 * 5 * 5], before[2 * 4 * 5 * 5];
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) out[i] = before[i] = (float)i;
    dcgan_conv2d conv = {wgt, NULL, 3, 4, 3, 1, 1, 1, 1, 1};
    dcgan_status st = dcgan_conv2d_forward(dcgan_tensor_make(out, 2, 4, 5, 5),
                                           dcgan_tensor_make(x, 2, 2, 5, 5), &conv, NULL, 0);
    CHECK(st == DCGAN_ERR_SHAPE, "conv2d_forward/wrong C gives DCGAN_ERR_SHAPE");
    CHECK(strstr(dcgan_last_error(), "conv2d_forward") != NULL &&
          strstr(dcgan_last_error(), "C=2") != NULL && strstr(dcgan_last_error(), "C=3") != NULL,
          "conv2d_forward/message names the layer and both sizes");
    CHECK(memcmp(out, before, sizeof out) == 0, "conv2d_forward/out untouched on error");
    st = dcgan_conv2d_forward(dcgan_tensor_make(out, 2, 4, 4, 5),
                              dcgan_tensor_make(x, 2, 3, 5, 5), &conv, NULL, 0);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "expected (2,4,5,5)") != NULL,
          "conv2d_forward/wrong out shape is named");
    dcgan_conv_transpose2d ct = {wgt, NULL, 3, 4, 3, 2, 0, 0, 0, 0};
    st = dcgan_conv_transpose2d_backward(dcgan_tensor_make(NULL, 0, 0, 0, 0), wgt, NULL,
                                         dcgan_tensor_make(out, 2, 4, 5, 5),
                                         dcgan_tensor_make(x, 2, 3, 2, 3), &ct, NULL, 0);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "conv_transpose2d_backward"),
          "conv_transpose2d_backward/wrong dout shape");
    dcgan_linear lin = {wgt, NULL, 7, 3};
    st = dcgan_linear_forward(dcgan_tensor_make(out, 2, 3, 1, 1), dcgan_tensor_make(x, 2, 6, 1, 1), &lin);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "linear_forward") &&
          strstr(dcgan_last_error(), "6 features"), "linear_forward/wrong in_features");
    CHECK(memcmp(out, before, sizeof out) == 0, "linear_forward/out untouched on error");
    st = dcgan_upsample_forward(dcgan_tensor_make(out, 2, 3, 4, 4), dcgan_tensor_make(x, 2, 2, 2, 2),
                                DCGAN_UPSAMPLE_NEAREST);
    CHECK(st == DCGAN_ERR_SHAPE, "upsample_forward/channel mismatch");
    float g[3] = {1, 1, 1}, b[3] = {0}, sm[3], si[3], rm[3] = {0}, rv[3] = {1, 1, 1};
    dcgan_batchnorm2d bn = {g, b, rm, rv, sm, si, 3, 1e-5f, 0.1f, 0};
    st = dcgan_batchnorm2d_forward(dcgan_tensor_make(out, 2, 2, 5, 5), dcgan_tensor_make(x, 2, 2, 5, 5), &bn, 1);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "C=3"), "batchnorm2d_forward/wrong C");
    CHECK(memcmp(out, before, sizeof out) == 0 && rm[0] == 0.0f, "batchnorm2d_forward/untouched on error");
    CHECK(strcmp(dcgan_status_name(DCGAN_ERR_SHAPE), "DCGAN_ERR_SHAPE") == 0, "status_name/shape");
    CHECK(strcmp(dcgan_status_name((dcgan_status)42), "DCGAN_UNKNOWN") == 0, "status_name/unknown");
}

// A caller's work shorter than _work_size, and inputs with no pixels: refused
// before anything is written (a helper's audit: the work was written past its
// end, heap-buffer-overflow in dcgan__gather; a 0x0 input passed with a 1x1 output).
static void test_conv_bad_work_and_empty_input(void) {
    enum { N = 2, C = 16, H = 8, W = 8, OC = 16, K = 3 };
    static float inp[N * C * H * W], out[N * OC * H * W], dinp[N * C * H * W], weight[OC * C * K * K],
        dweight[OC * C * K * K];
    float work[16];
    for (int i = 0; i < N * OC * H * W; i++) out[i] = 1.5f;
    dcgan_conv2d conv = {weight, NULL, C, OC, K, 1, 1, 1, 1, 1};
    const dcgan_tensor x = dcgan_tensor_make(inp, N, C, H, W), y = dcgan_tensor_make(out, N, OC, H, W);
    CHECK(dcgan_conv2d_work_size(&conv, H, W) == 10240 && dcgan_conv_transpose2d_work_size(&conv, H, W) == 10240,
          "conv_work/this shape needs 10240 floats per image either way");
    CHECK(dcgan_conv2d_forward(y, x, &conv, work, 16) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv2d_forward: work has 16 floats, this input needs at least 10240 "
                                         "(dcgan_conv2d_work_size)") == 0 && out[0] == 1.5f,
          "conv_work/conv2d_forward refuses a short work, out untouched");
    CHECK(dcgan_conv2d_backward(dcgan_tensor_make(dinp, N, C, H, W), dweight, NULL, y, x, &conv, work, 16) ==
                  DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv2d_backward: work has 16 floats, this input needs at least 10240 "
                                         "(dcgan_conv2d_work_size)") == 0,
          "conv_work/conv2d_backward refuses it");
    CHECK(dcgan_conv_transpose2d_forward(y, x, &conv, work, 16) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv_transpose2d_forward: work has 16 floats, this input needs at least "
                                         "10240 (dcgan_conv_transpose2d_work_size)") == 0 && out[0] == 1.5f,
          "conv_work/conv_transpose2d_forward refuses it, out untouched");
    CHECK(dcgan_conv_transpose2d_backward(dcgan_tensor_make(dinp, N, C, H, W), dweight, NULL, y, x, &conv, work, 16) ==
                  DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv_transpose2d_backward: work has 16 floats, this input needs at least "
                                         "10240 (dcgan_conv_transpose2d_work_size)") == 0,
          "conv_work/conv_transpose2d_backward refuses it");
    CHECK(dcgan_conv2d_forward(y, x, &conv, NULL, 16) == DCGAN_OK, "conv_work/NULL work: the function allocates");
    dcgan_conv2d one = {weight, NULL, 1, 1, 1, 1, 2, 2, 2, 2};
    CHECK(dcgan_conv2d_forward(dcgan_tensor_make(out, 1, 1, 5, 5), dcgan_tensor_make(inp, 1, 1, 0, 0), &one, NULL,
                               0) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv2d_forward: inp is 0x0, an image needs H, W > 0") == 0,
          "conv_empty/a 0x0 input is refused (its padding made a 1x1 output)");
    CHECK(dcgan_conv_transpose2d_forward(dcgan_tensor_make(out, 1, 1, 1, 1), dcgan_tensor_make(inp, 1, 1, -2, -2),
                                         &one, NULL, 0) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "conv_transpose2d_forward: inp is -2x-2, an image needs H, W > 0") == 0,
          "conv_empty/a negative input side is refused by the transposed convolution");
    CHECK(dcgan_upsample_forward(dcgan_tensor_make(out, 1, 1, 0, 8), dcgan_tensor_make(inp, 1, 1, 4, 4),
                                 DCGAN_UPSAMPLE_NEAREST) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "upsample_forward: (1,1,4,4) and (1,1,0,8): every size must be positive") == 0,
          "upsample/an empty output is named as such (it said the two differ in N or C)");
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"linear_golden", test_linear_golden},
        {"linear_gradcheck", test_linear_gradcheck},
        {"same_padding", test_same_padding},
        {"conv_bad_work_and_empty_input", test_conv_bad_work_and_empty_input},
        {"conv2d_golden", test_conv2d_golden},
        {"conv2d_gradcheck", test_conv2d_gradcheck},
        {"conv_transpose2d_golden", test_conv_transpose2d_golden},
        {"conv_transpose2d_gradcheck", test_conv_transpose2d_gradcheck},
        {"conv_transpose2d_routes", test_conv_transpose2d_routes},
        {"upsample_golden", test_upsample_golden},
        {"upsample_gradcheck", test_upsample_gradcheck},
        {"upsample_nearest_copies", test_upsample_nearest_copies},
        {"resize_to_299", test_resize_to_299},
        {"batchnorm2d_golden", test_batchnorm2d_golden},
        {"batchnorm2d_ref", test_batchnorm2d_ref},
        {"batchnorm2d_gradcheck", test_batchnorm2d_gradcheck},
        {"batchnorm2d_sums", test_batchnorm2d_sums},
        {"bias_grad", test_bias_grad},
        {"activations_golden", test_activations_golden},
        {"activations_special_values", test_activations_special_values},
        {"activations_gradcheck", test_activations_gradcheck},
        {"tanh_accuracy", test_tanh_accuracy},
        {"dropout", test_dropout},
        {"gaussian_noise", test_gaussian_noise},
        {"gemm_kernels", test_gemm_kernels},
        {"zmm_probe", test_zmm_probe},
        {"zmm_halves_known", test_zmm_halves_known},
        {"zmm_measure", test_zmm_measure},
        {"wide_kernel", test_wide_kernel},
        {"pack_simd", test_pack_simd},
        {"col_runs", test_col_runs},
        {"sgemm_shapes", test_sgemm_shapes},
        {"sgemm_small", test_sgemm_small},
        {"sgemm_fused", test_sgemm_fused},
        {"sgemm_patches", test_sgemm_patches},
        {"sgemm_ksplit", test_sgemm_ksplit},
        {"sgemm_bf16", test_sgemm_bf16},
        {"sgemm_patches_nchw", test_sgemm_patches_nchw},
        {"conv2d_groups", test_conv2d_groups},
        {"conv2d_direct", test_conv2d_direct},
        {"col2im", test_col2im},
        {"conv_backward_set_dinp", test_conv_backward_set_dinp},
        {"shape_errors", test_shape_errors},
    };
    dcgan_rng_seed(&rng, 1234);
    if (!fixture_load(&fx, "tests/data/layers.bin")) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    fixture_free(&fx);
    return rc;
}
