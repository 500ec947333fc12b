// test_small_data.c - training on little data: DiffAugment's transforms
// (finite differences, PyTorch autograd on the same draws, the draws'
// distribution), their place in the GAN step (G's gradient through them),
// ADA's adjustment of p, the averaged generator, and checkpoints that carry
// all of it (exact resume).
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char ckpt[256];

static void small_config(dcgan_gan_config *cfg, dcgan_arch arch) {
    dcgan_gan_config_default(cfg);
    cfg->arch = arch;
    cfg->size = 64;
    cfg->channels = 1;
    cfg->width = 1.0f / 32.0f;
    cfg->batch = 4;
    cfg->lr_d = 2e-4;
    cfg->lr_g = 2e-4;
}

static float *random_floats(size_t n, uint64_t seed) {
    float *d = (float *)malloc(n * sizeof(float));
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    dcgan_rng_fill_uniform(&rng, d, n, -1.0f, 1.0f);
    return d;
}

static void test_policy_names(void) {
    int flags = -1;
    char name[64];
    CHECK(dcgan_diffaug_parse("translation,cutout,color", &flags) == DCGAN_OK &&
          flags == (DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT | DCGAN_AUG_COLOR), "diffaug_parse/all three");
    dcgan_diffaug_name(flags, name, sizeof name);
    CHECK(strcmp(name, "color,translation,cutout") == 0, "diffaug_name/all three in order");
    CHECK(dcgan_diffaug_parse("cutout", &flags) == DCGAN_OK && flags == DCGAN_AUG_CUTOUT, "diffaug_parse/one");
    CHECK(dcgan_diffaug_parse("none", &flags) == DCGAN_OK && flags == 0, "diffaug_parse/none");
    dcgan_diffaug_name(0, name, sizeof name);
    CHECK(strcmp(name, "none") == 0, "diffaug_name/none");
    flags = 5;
    CHECK(dcgan_diffaug_parse("translation,blur", &flags) == DCGAN_ERR_SHAPE && flags == 5,
          "diffaug_parse/unknown word refused, flags unchanged");
    CHECK(strcmp(dcgan_last_error(), "diffaug_parse: unknown augmentation 'blur' in 'translation,blur' "
                 "(color, translation, cutout, comma-separated; or none)") == 0,
          "diffaug_parse/message");
}

// Fills draws by hand from the fixture's rows (b, s, k, tx, ty, x0, y0, x1, y1).
static void draws_from(dcgan_aug_draw *d, const float *rows, int n) {
    for (int i = 0; i < n; i++) {
        const float *r = rows + 9 * i;
        d[i].brightness = r[0];
        d[i].saturation = r[1];
        d[i].contrast = r[2];
        d[i].tx = (int)r[3];
        d[i].ty = (int)r[4];
        d[i].cut_x0 = (int)r[5];
        d[i].cut_y0 = (int)r[6];
        d[i].cut_x1 = (int)r[7];
        d[i].cut_y1 = (int)r[8];
    }
}

static void test_against_pytorch(void) {
    fixture fx;
    const char *cases[2] = {"rgb", "gray"};
    if (!fixture_load(&fx, "tests/data/diffaug.bin")) {
        CHECK(0, "diffaug/fixture tests/data/diffaug.bin loads");
        return;
    }
    for (int k = 0; k < 2; k++) {
        char key[64], label[96];
        snprintf(key, sizeof key, "%s.x", cases[k]);
        fixture_array *x = fixture_get(&fx, key);
        snprintf(key, sizeof key, "%s.draws", cases[k]);
        fixture_array *dr = fixture_get(&fx, key);
        snprintf(key, sizeof key, "%s.out", cases[k]);
        fixture_array *out = fixture_get(&fx, key);
        snprintf(key, sizeof key, "%s.dout", cases[k]);
        fixture_array *dout = fixture_get(&fx, key);
        snprintf(key, sizeof key, "%s.dx", cases[k]);
        fixture_array *dx = fixture_get(&fx, key);
        if (!x || !dr || !out || !dout || !dx) { CHECK(0, "diffaug/fixture arrays"); continue; }
        const int n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
        dcgan_aug_draw draws[8];
        draws_from(draws, dr->data, n);
        float *y = (float *)malloc(x->count * sizeof(float));
        float *g = (float *)calloc(x->count, sizeof(float));
        dcgan_diffaug_forward(y, x->data, draws, n, c, h, w);
        snprintf(label, sizeof label, "diffaug_forward/%s against PyTorch", cases[k]);
        CHECK_CLOSE(out->data, y, x->count, 1e-5, 1e-5, label);
        dcgan_diffaug_backward(g, dout->data, draws, n, c, h, w);
        snprintf(label, sizeof label, "diffaug_backward/%s against PyTorch autograd", cases[k]);
        CHECK_CLOSE(dx->data, g, x->count, 1e-5, 1e-5, label);
        free(y);
        free(g);
    }
    fixture_free(&fx);
}

// One channel takes a loop of its own (dcgan.h: each row as its ranges of
// columns that read a pixel). Here the per-pixel formulas, written again from
// the documentation: the image's and g1's sums in 16 partial sums of double
// (value p of a run to partial p mod 16, a run's last (length mod 16)
// values to a 17th, then added in order), the forward's run the whole image, the
// backward's each row's ranges of read columns. The library must give these
// numbers bit for bit, forward and backward, on 200 random draws of 37 x 29
// images (odd sizes: rows that end off the vector width).
static double sum16(const float *const *runs, const int *lens, int count) {
    double part[16] = {0.0}, rest = 0.0, t = 0.0;
    for (int r = 0; r < count; r++)
        for (int p = 0; p < lens[r]; p++) {
            if (p < lens[r] / 16 * 16) part[p % 16] += runs[r][p];
            else rest += runs[r][p];
        }
    for (int j = 0; j < 16; j++) t += part[j];
    return t + rest;
}

static int reads_pixel(const dcgan_aug_draw *d, int y, int x, int h, int w) {
    const int sy = y + d->ty, sx = x + d->tx;
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) return 0;
    return !(y >= d->cut_y0 && y < d->cut_y1 && x >= d->cut_x0 && x < d->cut_x1);
}

static void test_gray_bits(void) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF   // the formulas as written, as dcgan.h computes them (DCGAN__NO_FUSE)
#endif
    enum { H = 37, W = 29, N = 200 };
    const int all = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    dcgan_aug_draw draws[N];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 5);
    dcgan_diffaug_sample(draws, N, H, W, all, 0.7f, &rng);
    draws[0].tx = W, draws[0].ty = 0;   // shifted wholly out of the frame: all zeros
    float *x = random_floats((size_t)N * H * W, 4), *g = random_floats((size_t)N * H * W, 5);
    float *y = (float *)malloc(sizeof(float) * N * H * W), *dx = random_floats((size_t)N * H * W, 6);
    float *dx_want = (float *)malloc(sizeof(float) * N * H * W);
    memcpy(dx_want, dx, sizeof(float) * N * H * W);
    dcgan_diffaug_forward(y, x, draws, N, 1, H, W);
    dcgan_diffaug_backward(dx, g, draws, N, 1, H, W);
    int fwd_ok = 1, bwd_ok = 1;
    for (int i = 0; i < N; i++) {
        const dcgan_aug_draw *d = &draws[i];
        const float *xi = x + (size_t)i * H * W, *gi = g + (size_t)i * H * W;
        const int whole = H * W;
        const float b = d->brightness, s = d->saturation, k_c = d->contrast;
        const float m = (float)(sum16(&xi, &whole, 1) / (double)(H * W)) + b;
        const float *runs[2 * H];
        int lens[2 * H], count = 0;
        for (int yy = 0; yy < H; yy++)   // each row's read columns, as runs
            for (int xx = 0; xx < W;) {
                if (!reads_pixel(d, yy, xx, H, W)) { xx++; continue; }
                int end = xx;
                while (end < W && reads_pixel(d, yy, end, H, W)) end++;
                runs[count] = gi + (size_t)yy * W + xx, lens[count++] = end - xx;
                xx = end;
            }
        const float spread = (1.0f - k_c) * (float)(sum16(runs, lens, count) / (double)(H * W));
        for (int yy = 0; yy < H; yy++)
            for (int xx = 0; xx < W; xx++) {
                float want = 0.0f;
                if (reads_pixel(d, yy, xx, H, W)) {
                    const float v0 = xi[(yy + d->ty) * W + xx + d->tx] + b, pm = (0.0f + v0) / 1.0f;
                    const float v = (v0 - pm) * s + pm;
                    want = (v - m) * k_c + m;
                }
                fwd_ok &= memcmp(&want, &y[(size_t)i * H * W + yy * W + xx], sizeof want) == 0;
                // input pixel (yy, xx) is read by output pixel (yy - ty, xx - tx)
                const int oy = yy - d->ty, ox = xx - d->tx;
                const int read = oy >= 0 && oy < H && ox >= 0 && ox < W && reads_pixel(d, oy, ox, H, W);
                const float g1 = read ? gi[oy * W + ox] : 0.0f;
                const float g1_sum = 0.0f + g1, g2_sum = k_c * g1_sum + 1.0f * spread, g2 = k_c * g1 + spread;
                float *wd = &dx_want[(size_t)i * H * W + yy * W + xx];
                *wd += s * g2 + (1.0f - s) * g2_sum / 1.0f;
                bwd_ok &= memcmp(wd, &dx[(size_t)i * H * W + yy * W + xx], sizeof *wd) == 0;
            }
    }
    CHECK(fwd_ok, "diffaug_forward/gray: the per-pixel formulas, bit for bit (200 draws, 37 x 29)");
    CHECK(bwd_ok, "diffaug_backward/gray: the per-pixel formulas, bit for bit (200 draws, 37 x 29)");
    free(x), free(g), free(y), free(dx), free(dx_want);
}

// Every element of dinp against central differences of <dout, T(x)>, on
// random draws; dinp starts non-zero to show that backward adds.
static void finite_differences(int c, int h, int w, int policy) {
    const int n = 3;
    const size_t count = (size_t)n * c * h * w;
    dcgan_aug_draw draws[3];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 11 + (uint64_t)c);
    dcgan_diffaug_sample(draws, n, h, w, policy, 1.0f, &rng);
    float *x = random_floats(count, 1), *dout = random_floats(count, 2), *start = random_floats(count, 3);
    float *dinp = (float *)malloc(count * sizeof(float)), *y = (float *)malloc(count * sizeof(float));
    float *expect = (float *)malloc(count * sizeof(float));
    memcpy(dinp, start, count * sizeof(float));
    dcgan_diffaug_backward(dinp, dout, draws, n, c, h, w);
    const float eps = 0.25f;   // T is affine in x: the difference is exact up to rounding
    for (size_t j = 0; j < count; j++) {
        double plus = 0.0, minus = 0.0;
        float keep = x[j];
        x[j] = keep + eps;
        dcgan_diffaug_forward(y, x, draws, n, c, h, w);
        for (size_t i = 0; i < count; i++) plus += (double)y[i] * dout[i];
        x[j] = keep - eps;
        dcgan_diffaug_forward(y, x, draws, n, c, h, w);
        for (size_t i = 0; i < count; i++) minus += (double)y[i] * dout[i];
        x[j] = keep;
        expect[j] = start[j] + (float)((plus - minus) / (2.0 * eps));
    }
    char label[96];
    snprintf(label, sizeof label, "diffaug_backward/finite differences C=%d %dx%d policy %d", c, h, w, policy);
    CHECK_CLOSE(expect, dinp, count, 2e-4, 2e-4, label);
    free(x); free(dout); free(start); free(dinp); free(y); free(expect);
}

static void test_finite_differences(void) {
    const int all = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    finite_differences(3, 5, 6, all);
    finite_differences(1, 6, 5, all);
    finite_differences(3, 8, 8, DCGAN_AUG_COLOR);
    finite_differences(2, 8, 7, DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT);
}

static void test_draws(void) {
    enum { N = 20000 };
    const int all = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    dcgan_aug_draw *d = (dcgan_aug_draw *)malloc(N * sizeof *d);
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 5);
    // p = 0: every transform is the identity
    dcgan_diffaug_sample(d, N, 64, 48, all, 0.0f, &rng);
    int identity = 1;
    for (int i = 0; i < N; i++)
        identity &= d[i].brightness == 0.0f && d[i].saturation == 1.0f && d[i].contrast == 1.0f &&
                    d[i].tx == 0 && d[i].ty == 0 && d[i].cut_x0 == d[i].cut_x1 * 0 && d[i].cut_x1 == 0;
    CHECK(identity, "diffaug_sample/p = 0 draws identities only");
    // no pixels: identities, the rng untouched (a helper's audit: w = -1 divided by 0 in the cutout draw)
    dcgan_rng before = rng;
    dcgan_diffaug_sample(d, 3, 64, -1, all, 1.0f, &rng);
    CHECK(memcmp(&before, &rng, sizeof rng) == 0 && d[2].tx == 0 && d[2].cut_x1 == 0 && d[2].contrast == 1.0f,
          "diffaug_sample/a side below 1: identities, no draw");
    // p = 1 on 64 rows x 48 columns: shifts within s = 8 (rows) and 6 (columns), every value
    // taken; brightness in [-0.5, 0.5), saturation in [0, 2), contrast in [0.5, 1.5); the
    // cutout 32 x 24 wherever it lies inside
    dcgan_diffaug_sample(d, N, 64, 48, all, 1.0f, &rng);
    int seen_x[13] = {0}, seen_y[17] = {0}, ranges = 1, cut = 1, inside = 0;
    for (int i = 0; i < N; i++) {
        ranges &= d[i].tx >= -6 && d[i].tx <= 6 && d[i].ty >= -8 && d[i].ty <= 8 &&
                  d[i].brightness >= -0.5f && d[i].brightness < 0.5f && d[i].saturation >= 0.0f &&
                  d[i].saturation < 2.0f && d[i].contrast >= 0.5f && d[i].contrast < 1.5f;
        if (d[i].tx >= -6 && d[i].tx <= 6) seen_x[d[i].tx + 6] = 1;
        if (d[i].ty >= -8 && d[i].ty <= 8) seen_y[d[i].ty + 8] = 1;
        if (d[i].cut_x0 > 0 && d[i].cut_x1 < 48 && d[i].cut_y0 > 0 && d[i].cut_y1 < 64) {
            inside++;
            cut &= d[i].cut_x1 - d[i].cut_x0 == 24 && d[i].cut_y1 - d[i].cut_y0 == 32;
        }
        cut &= d[i].cut_x0 >= 0 && d[i].cut_x1 <= 48 && d[i].cut_x1 - d[i].cut_x0 >= 12 &&
               d[i].cut_y0 >= 0 && d[i].cut_y1 <= 64 && d[i].cut_y1 - d[i].cut_y0 >= 16;
    }
    int all_x = 1, all_y = 1;
    for (int k = 0; k < 13; k++) all_x &= seen_x[k];
    for (int k = 0; k < 17; k++) all_y &= seen_y[k];
    CHECK(ranges && all_x && all_y, "diffaug_sample/p = 1 values in their ranges, every shift drawn");
    CHECK(cut && inside > N / 8, "diffaug_sample/cutout is half the side, clipped at the border");
    // p = 0.3: each transform applied to 30% of the images (binomial sd 0.0032)
    dcgan_diffaug_sample(d, N, 64, 64, all, 0.3f, &rng);
    int n_b = 0, n_t = 0, n_c = 0;
    for (int i = 0; i < N; i++) {
        n_b += d[i].brightness != 0.0f;
        n_t += d[i].tx != 0 || d[i].ty != 0;
        n_c += d[i].cut_x1 > d[i].cut_x0;
    }
    // a shift can be drawn as (0, 0): 1 in 17 * 17 of the applied ones
    double fb = n_b / (double)N, ft = n_t / (double)N / (1.0 - 1.0 / 289.0), fc = n_c / (double)N;
    CHECK(fabs(fb - 0.3) < 0.02 && fabs(ft - 0.3) < 0.02 && fabs(fc - 0.3) < 0.02,
          "diffaug_sample/p = 0.3 applies each transform to 30% of the images");
    free(d);
}

// With lr_g = 0 G's weights do not move, so after a step G(z) of the step's
// noise can be made again. The step's dLoss/dG(z) (gan.dimages) must equal
// the chain put together here from the parts tested above and in test_gan:
// T(G(z)) with the step's draws -> D -> BCE(., 1) -> D's input gradient ->
// DiffAugment's backward; and differ from the gradient without T.
static void test_g_gradient_through_augment(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats s;
    small_config(&cfg, DCGAN_ARCH_DCGAN);   // no dropout: D's forward is repeatable
    cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    cfg.lr_g = 0.0;
    float *data = random_floats((size_t)8 * 64 * 64, 4);
    if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK || dcgan_gan_train_step(&gan, data, 8, &s) != DCGAN_OK) {
        CHECK(0, "gan_train_step/augmented step runs");
        free(data);
        return;
    }
    const int nb = cfg.batch;
    const size_t count = (size_t)nb * 64 * 64;
    float *fake = (float *)malloc(count * sizeof(float)), *aug = (float *)malloc(count * sizeof(float));
    float *daug = (float *)calloc(count, sizeof(float)), *want = (float *)calloc(count, sizeof(float));
    float *plain = (float *)calloc(count, sizeof(float));
    float labels[4] = {1, 1, 1, 1}, dl[4], loss;
    dcgan_model_forward(&gan.g, dcgan_tensor_make(gan.noise, nb, cfg.latent, 1, 1), 1, &gan.rng);
    memcpy(fake, dcgan_model_output(&gan.g).data, count * sizeof(float));
    dcgan_diffaug_forward(aug, fake, gan.aug_draws, nb, 1, 64, 64);
    dcgan_model_forward(&gan.d, dcgan_tensor_make(aug, nb, 1, 64, 64), 1, &gan.rng);
    dcgan_bce_with_logits(&loss, dl, dcgan_model_output(&gan.d).data, labels, (size_t)nb);
    CHECK(loss == s.g_loss, "gan_train_step/G's loss is BCE(D(T(G(z))), 1) with the step's draws");
    dcgan_model_backward_input(&gan.d, dl, daug);
    dcgan_diffaug_backward(want, daug, gan.aug_draws, nb, 1, 64, 64);
    CHECK_CLOSE(want, gan.dimages, count, 1e-7, 1e-5, "gan_train_step/G's gradient flows back through DiffAugment");
    dcgan_model_forward(&gan.d, dcgan_tensor_make(fake, nb, 1, 64, 64), 1, &gan.rng);
    dcgan_bce_with_logits(&loss, dl, dcgan_model_output(&gan.d).data, labels, (size_t)nb);
    dcgan_model_backward_input(&gan.d, dl, plain);
    double differ = 0.0;
    for (size_t j = 0; j < count; j++) differ += fabs(plain[j] - gan.dimages[j]);
    CHECK(differ > 1e-3, "gan_train_step/the gradient without T is another one");
    dcgan_gan_free(&gan);
    free(fake); free(aug); free(daug); free(want); free(plain); free(data);
}

// A D whose last bias is +100 (or -100) and which never moves (lr_d = 0) calls
// every real image real (fake): r_t = +1 (-1), so p rises by the images of an
// interval / (ada_kimg * 1000) every DCGAN_ADA_INTERVAL iterations (stays at 0).
static void test_ada(void) {
    for (int sign = 1; sign >= -1; sign -= 2) {
        dcgan_gan_config cfg;
        dcgan_gan gan;
        dcgan_gan_stats s;
        small_config(&cfg, DCGAN_ARCH_SEED);
        cfg.augment = DCGAN_AUG_TRANSLATION;
        cfg.ada_target = 0.6f;
        cfg.ada_kimg = 0.032f;   // 2 real images an iteration: 8 an interval, p += 0.25
        cfg.lr_d = 0.0;
        float *data = random_floats((size_t)8 * 64 * 64, 4);
        dcgan_gan_init(&gan, &cfg);
        CHECK(gan.augment_p == 0.0f, "gan_init/ADA starts at p = 0");
        const dcgan_layer *last = &gan.d.layers[gan.d.n_layers - 1];
        gan.d.params[last->bias_offset] = 100.0f * (float)sign;
        float p_seen[8];
        for (int i = 0; i < 8; i++) {
            dcgan_gan_train_step(&gan, data, 8, &s);
            p_seen[i] = s.augment_p;
        }
        if (sign > 0) {
            CHECK(p_seen[2] == 0.0f && p_seen[3] == 0.25f && p_seen[6] == 0.25f && p_seen[7] == 0.5f &&
                  s.ada_rt == 1.0f, "gan_train_step/ADA raises p when D calls every real image real");
        } else {
            CHECK(p_seen[3] == 0.0f && p_seen[7] == 0.0f && s.ada_rt == -1.0f,
                  "gan_train_step/ADA keeps p at 0 when r_t is below the target");
        }
        dcgan_gan_free(&gan);
        free(data);
    }
    // without ADA nothing resets its counters, so they are not counted at all
    // (they would reach the checkpoint's bound of 1e9 real images in a long run)
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats s;
    small_config(&cfg, DCGAN_ARCH_SEED);
    cfg.augment = DCGAN_AUG_TRANSLATION;
    float *data = random_floats((size_t)8 * 64 * 64, 4);
    dcgan_gan_init(&gan, &cfg);
    for (int i = 0; i < 5; i++) dcgan_gan_train_step(&gan, data, 8, &s);
    CHECK(gan.iteration == 5 && gan.ada_count == 0 && gan.ada_signs == 0 && s.ada_rt == 0.0f,
          "gan_train_step/without ADA its counters stay 0");
    dcgan_gan_free(&gan);
    free(data);
}

// The average, recomputed here in double from G's weights after every step.
static void test_ema(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats s;
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.ema_kimg = 0.01f;   // half-life 10 images
    cfg.ema_rampup = 0.5f;  // ... at most half the images of the steps before: 0, 2, 4, 6, 8, then 10
    float *data = random_floats((size_t)8 * 64 * 64, 4);
    dcgan_gan_init(&gan, &cfg);
    const size_t np = gan.g.n_params;
    double *avg = (double *)malloc(np * sizeof(double));
    float *got = (float *)malloc(np * sizeof(float)), *want = (float *)malloc(np * sizeof(float));
    for (size_t i = 0; i < np; i++) avg[i] = gan.g.params[i];
    CHECK(memcmp(gan.ema_params, gan.g.params, np * sizeof(float)) == 0, "gan_init/the average starts at G");
    for (int it = 1; it <= 6; it++) {
        dcgan_gan_train_step(&gan, data, 8, &s);
        // StyleGAN2-ADA's training_loop.py: ema_nimg = min(ema_kimg * 1000, cur_nimg *
        // ema_rampup), cur_nimg the images before this step; beta = 0.5 ** (batch /
        // max(ema_nimg, 1e-8)), so the first step's average is G itself
        double half_life = 10.0 < 0.5 * 4 * (it - 1) ? 10.0 : 0.5 * 4 * (it - 1);
        double beta = pow(0.5, 4.0 / (half_life > 1e-8 ? half_life : 1e-8));
        if (it == 1) {
            size_t same = 0;
            for (size_t i = 0; i < np; i++) same += gan.ema_params[i] == gan.g.params[i];
            CHECK(beta == 0.0 && same == np, "gan_train_step/after the first step the average is G itself");
        }
        for (size_t i = 0; i < np; i++) avg[i] = beta * avg[i] + (1.0 - beta) * gan.g.params[i];
    }
    for (size_t i = 0; i < np; i++) want[i] = (float)avg[i];
    memcpy(got, gan.ema_params, np * sizeof(float));
    CHECK_CLOSE(want, got, np, 1e-6, 1e-4, "gan_train_step/EMA of G's weights with the rampup");
    CHECK(gan.ema_buffers != NULL && gan.g.n_buffers > 0 &&
          memcmp(gan.ema_buffers, gan.g.buffers, gan.g.n_buffers * sizeof(float)) == 0,
          "gan_train_step/EMA copies BatchNorm's running statistics");
    // generate runs the averaged weights: the same as G with the average put in
    float z[2 * 100], a[2 * 64 * 64], b[2 * 64 * 64];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 9);
    dcgan_rng_fill_normal(&rng, z, 200, 0.0f, 1.0f);
    float *own = (float *)malloc(np * sizeof(float));
    memcpy(own, gan.g.params, np * sizeof(float));
    CHECK(dcgan_gan_generate(&gan, a, z, 2) == DCGAN_OK &&
          memcmp(own, gan.g.params, np * sizeof(float)) == 0, "gan_generate/G's own weights back after");
    memcpy(gan.g.params, gan.ema_params, np * sizeof(float));
    dcgan_model_forward(&gan.g, dcgan_tensor_make(z, 2, 100, 1, 1), 0, NULL);
    memcpy(b, dcgan_model_output(&gan.g).data, sizeof b);
    CHECK(memcmp(a, b, sizeof a) == 0, "gan_generate/uses the averaged G");
    free(own);
    dcgan_gan_free(&gan);
    free(avg); free(got); free(want); free(data);
}

static int same_state(const dcgan_gan *a, const dcgan_gan *b) {
    return memcmp(a->g.params, b->g.params, a->g.n_params * sizeof(float)) == 0 &&
           memcmp(a->d.params, b->d.params, a->d.n_params * sizeof(float)) == 0 &&
           memcmp(a->ema_params, b->ema_params, a->g.n_params * sizeof(float)) == 0 &&
           memcmp(a->ema_buffers, b->ema_buffers, a->g.n_buffers * sizeof(float)) == 0 &&
           a->augment_p == b->augment_p && a->ada_signs == b->ada_signs &&
           a->ada_count == b->ada_count && a->ada_rt == b->ada_rt && a->iteration == b->iteration &&
           a->rng.state == b->rng.state;
}

// 3 steps, save, load into a GAN made from another seed, 3 steps == 6 straight
// (ADA's counters are mid-interval at the save); the averaged G is in the file
// under PyTorch names; the settings come back from the metadata.
static void test_checkpoint_resume(void) {
    dcgan_gan_config cfg, back;
    dcgan_gan straight, first, resumed;
    dcgan_gan_stats s;
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION | DCGAN_AUG_CUTOUT;
    cfg.ada_target = 0.6f;
    cfg.ada_kimg = 0.05f;
    cfg.ema_kimg = 0.02f;
    float *data = random_floats((size_t)8 * 64 * 64, 4);
    dcgan_gan_init(&straight, &cfg);
    for (int i = 0; i < 6; i++) dcgan_gan_train_step(&straight, data, 8, &s);
    dcgan_gan_init(&first, &cfg);
    for (int i = 0; i < 3; i++) dcgan_gan_train_step(&first, data, 8, &s);
    CHECK(first.ada_count == 6 && dcgan_gan_save(&first, ckpt, NULL, NULL, 0) == DCGAN_OK,
          "gan_save/mid-interval ADA state written");
    CHECK(dcgan_gan_config_load(&back, ckpt) == DCGAN_OK && back.augment == cfg.augment &&
          back.augment_p == cfg.augment_p && back.ada_target == cfg.ada_target &&
          back.ada_kimg == cfg.ada_kimg && back.ema_kimg == cfg.ema_kimg &&
          back.ema_rampup == cfg.ema_rampup, "gan_config_load/augmentation and EMA settings");
    back.seed = 77;
    dcgan_gan_init(&resumed, &back);
    CHECK(dcgan_gan_load(&resumed, ckpt) == DCGAN_OK && same_state(&first, &resumed),
          "gan_load/p, ADA counters, the averaged G and the RNG restored");
    for (int i = 0; i < 3; i++) dcgan_gan_train_step(&resumed, data, 8, &s);
    CHECK(same_state(&straight, &resumed), "gan_load/3 steps + resume + 3 steps == 6 straight (augmented, EMA)");
    dcgan_safetensors st;
    CHECK(dcgan_safetensors_read(&st, ckpt) == DCGAN_OK && dcgan_safetensors_find(&st, "G_ema.main.0.weight") &&
          dcgan_safetensors_find(&st, "G_ema.main.1.running_mean") &&
          strcmp(dcgan_safetensors_meta(&st, "augment"), "color,translation,cutout") == 0,
          "gan_save/averaged G under G_ema.main.*, the policy in the metadata");
    dcgan_safetensors_free(&st);
    // a GAN with an average cannot load a file without one
    dcgan_gan plain;
    dcgan_gan_config pc;
    small_config(&pc, DCGAN_ARCH_DCGAN);
    dcgan_gan_init(&plain, &pc);
    dcgan_gan_save(&plain, ckpt, NULL, NULL, 0);
    float keep = resumed.ema_params[0];
    char want[512];
    snprintf(want, sizeof want, "gan_load: '%s' has no tensor 'G_ema.main.0.weight'", ckpt);
    dcgan_status ls = dcgan_gan_load(&resumed, ckpt);
    CHECK(ls == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0 &&
          resumed.ema_params[0] == keep, "gan_load/no averaged G in the file: refused, nothing changed");
    dcgan_gan_free(&plain);
    dcgan_gan_free(&straight);
    dcgan_gan_free(&first);
    dcgan_gan_free(&resumed);
    free(data);
}

static void test_bad_settings(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    size_t bytes;
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.ada_target = 0.6f;
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE && gan.g.params == NULL &&
          strcmp(dcgan_last_error(), "gan_init: ada_target 0.6 adapts the augmentation's p, but augment "
                 "is 0 (no policy)") == 0, "gan_init/ADA without a policy refused");
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.augment = DCGAN_AUG_CUTOUT;
    cfg.augment_p = 1.5f;
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "gan_init: augment_p 1.5 must be in [0, 1], ada_target 0 in [0, 1), "
                 "ada_kimg 5 > 0, ema_kimg 0 and ema_rampup 0.05 >= 0 (all finite)") == 0, "gan_init/p out of range refused");
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.ema_kimg = INFINITY;   // (took and saved, then the checkpoint did not load)
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "gan_init: augment_p 1 must be in [0, 1], ada_target 0 in [0, 1), "
                 "ada_kimg 5 > 0, ema_kimg inf and ema_rampup 0.05 >= 0 (all finite)") == 0,
          "gan_init/an infinite ema_kimg refused");
    // the optimiser's and the targets' settings: what a checkpoint may hold
    static const struct { double lr_d, lr_g, b1, b2; float real, fake; int latent; const char *want; } bad[] = {
        {-1e-4, 2e-4, 0.5, 0.999, 1.0f, 0.0f, 100, "gan_init: lr_d -0.0001 and lr_g 0.0002 must be finite and >= 0"},
        {1e-4, NAN, 0.5, 0.999, 1.0f, 0.0f, 100, "gan_init: lr_d 0.0001 and lr_g nan must be finite and >= 0"},
        {1e-4, INFINITY, 0.5, 0.999, 1.0f, 0.0f, 100, "gan_init: lr_d 0.0001 and lr_g inf must be finite and >= 0"},
        {1e-4, 2e-4, 1.0, 0.999, 1.0f, 0.0f, 100, "gan_init: beta1 1 and beta2 0.999 must be in [0, 1)"},
        {1e-4, 2e-4, -0.5, 0.999, 1.0f, 0.0f, 100, "gan_init: beta1 -0.5 and beta2 0.999 must be in [0, 1)"},
        {1e-4, 2e-4, 0.5, NAN, 1.0f, 0.0f, 100, "gan_init: beta1 0.5 and beta2 nan must be in [0, 1)"},
        {1e-4, 2e-4, 0.5, 0.999, NAN, 0.0f, 100, "gan_init: real_label nan and fake_label 0 must be in [0, 1]"},
        {1e-4, 2e-4, 0.5, 0.999, 1.0f, -0.1f, 100,
         "gan_init: real_label 1 and fake_label -0.1 must be in [0, 1]"},
        {1e-4, 2e-4, 0.5, 0.999, 1.0f, 0.0f, 1000001, "gan_init: latent 1000001 and batch 4 must be at most 1,000,000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        small_config(&cfg, DCGAN_ARCH_DCGAN);
        cfg.lr_d = bad[i].lr_d, cfg.lr_g = bad[i].lr_g, cfg.beta1 = bad[i].b1, cfg.beta2 = bad[i].b2;
        cfg.real_label = bad[i].real, cfg.fake_label = bad[i].fake, cfg.latent = bad[i].latent;
        char label[160];
        snprintf(label, sizeof label, "gan_init/refused: %s", bad[i].want);
        CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE && gan.g.params == NULL &&
              strcmp(dcgan_last_error(), bad[i].want) == 0, label);
    }
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    cfg.augment = 64;
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "gan_init: augment 0x40 has bits other than DCGAN_AUG_COLOR, "
                 "_TRANSLATION and _CUTOUT") == 0, "gan_init/unknown policy bits refused");
    // gan_bytes counts the augmented batch and the average
    small_config(&cfg, DCGAN_ARCH_DCGAN);
    size_t plain, more;
    dcgan_gan_bytes(&plain, &cfg);
    cfg.augment = DCGAN_AUG_COLOR;
    cfg.ema_kimg = 1.0f;
    dcgan_gan_bytes(&more, &cfg);
    dcgan_gan_init(&gan, &cfg);
    bytes = (size_t)cfg.batch * (2 * 64 * 64 * sizeof(float) + sizeof(dcgan_aug_draw)) +
            (gan.g.n_params + gan.g.n_buffers) * sizeof(float);
    CHECK(more - plain == bytes, "gan_bytes/augmented batch and averaged G counted");
    dcgan_gan_free(&gan);
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"policy_names", test_policy_names},
        {"against_pytorch", test_against_pytorch},
        {"finite_differences", test_finite_differences},
        {"gray_bits", test_gray_bits},
        {"draws", test_draws},
        {"g_gradient_through_augment", test_g_gradient_through_augment},
        {"ada", test_ada},
        {"ema", test_ema},
        {"checkpoint_resume", test_checkpoint_resume},
        {"bad_settings", test_bad_settings},
    };
    snprintf(ckpt, sizeof ckpt, "build/test_small_data_%d.safetensors", (int)getpid());
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    remove(ckpt);
    return rc;
}
