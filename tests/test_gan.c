// test_gan.c - the three architectures (shapes and the study's parameter
// counts), the training step, safetensors checkpoints (round trip, damaged
// files, wrong shapes) and exact resume.
#include <stdlib.h>
// Every allocation the library makes is counted (the library's allocator hooks),
// to show that training steps after the first allocate nothing; the one whose
// count is fail_alloc_at fails.
static long n_allocs, fail_alloc_at = -1;
static void *counting_malloc(size_t n) { return ++n_allocs == fail_alloc_at ? NULL : malloc(n); }
static void *counting_realloc(void *p, size_t n) { n_allocs++; return realloc(p, n); }
#define DCGAN_MALLOC(sz) counting_malloc(sz)
#define DCGAN_REALLOC(p, sz) counting_realloc(p, sz)
#define DCGAN_FREE(p) free(p)
#define DCGAN_IMPLEMENTATION
#define DCGAN_NO_IMAGES
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"
#include <unistd.h>

static char ckpt[256];

static void small_config(dcgan_gan_config *cfg) {
    dcgan_gan_config_default(cfg);
    cfg->size = 64;
    cfg->channels = 1;
    cfg->width = 1.0f / 32.0f;
    cfg->batch = 4;
    cfg->lr_d = 2e-4;
    cfg->lr_g = 2e-4;
}

// A dataset of n random images in [-1, 1].
static float *random_images(int n, const dcgan_gan_config *cfg, uint64_t seed) {
    size_t count = (size_t)n * cfg->channels * cfg->size * cfg->size;
    float *d = (float *)malloc(count * sizeof(float));
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    dcgan_rng_fill_uniform(&rng, d, count, -1.0f, 1.0f);
    return d;
}

static void test_study_parameter_counts(void) {
    dcgan_gan_config cfg;
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n, c, h, w;
    dcgan_model m;
    dcgan_gan_config_default(&cfg);
    dcgan_gan_specs(&cfg, DCGAN_GENERATOR, specs, &n, &c, &h, &w);
    CHECK(dcgan_model_init(&m, "G.main", specs, n, c, h, w, 1) == DCGAN_OK, "gan_specs/seed G builds");
    // Dense 100->65536, ConvT 1024->512->256->128->64 (K=4), Conv 64->3 (K=5), with biases
    CHECK(m.n_params == 17766019, "gan_specs/seed G has the study's 17,766,019 parameters");
    dcgan_tensor out = dcgan__slot(&m, m.acts, m.n_layers);
    CHECK(out.c == 3 && out.h == 128 && out.w == 128, "gan_specs/seed G makes 3x128x128");
    dcgan_model_free(&m);
    dcgan_gan_specs(&cfg, DCGAN_DISCRIMINATOR, specs, &n, &c, &h, &w);
    CHECK(dcgan_model_init(&m, "D.main", specs, n, c, h, w, 1) == DCGAN_OK, "gan_specs/seed D builds");
    CHECK(m.n_params == 17480321, "gan_specs/seed D has the study's 17,480,321 parameters");
    // Keras 'same' with K=5, S=2 on 128: 1 before, 2 after
    CHECK(m.layers[2].pad_top == 1 && m.layers[2].pad_bottom == 2 && m.layers[2].pad_left == 1 &&
              m.layers[2].pad_right == 2 && m.layers[2].out_h == 64,
          "gan_specs/seed D stride-2 'same' padding is 1 before, 2 after");
    CHECK(memcmp(&m.layers[2].spec, &specs[2], sizeof specs[2]) == 0,
          "gan_specs/the plan leaves the spec as given (derived pads live on the layer)");
    dcgan_model_free(&m);
}

static void test_architectures(void) {
    const int sizes[3] = {64, 128, 256};
    int ok = 1;
    for (int a = 0; a < 3; a++)
        for (int s = 0; s < 3; s++)
            for (int ch = 1; ch <= 3; ch += 2) {
                dcgan_gan_config cfg;
                dcgan_gan gan;
                small_config(&cfg);
                cfg.arch = (dcgan_arch)a;
                cfg.size = sizes[s];
                cfg.channels = ch;
                cfg.batch = 2;
                if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK) {
                    fprintf(stderr, "%s\n", dcgan_last_error());
                    ok = 0;
                    continue;
                }
                dcgan_tensor d = dcgan__slot(&gan.d, gan.d.acts, gan.d.n_layers);
                ok &= d.c * d.h * d.w == 1;
                dcgan_gan_free(&gan);
            }
    CHECK(ok, "gan_init/seed, paper, dcgan at 64, 128, 256 with 1 and 3 channels");
    dcgan_gan_config cfg;
    dcgan_gan gan;
    small_config(&cfg);
    cfg.size = 100;
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "100"),
          "gan_init/size 100 refused");
    CHECK(gan.g.params == NULL, "gan_init/zeroed after failure");
    dcgan_arch arch;
    CHECK(dcgan_arch_parse("dcgan", &arch) == DCGAN_OK && arch == DCGAN_ARCH_DCGAN, "arch_parse/dcgan");
    CHECK(dcgan_arch_parse("wgan", &arch) == DCGAN_ERR_SHAPE, "arch_parse/unknown name");
}

// The architecture table: each row as the header documents it, names that
// parse back, and whole messages for what is not in it.
static void test_arch_table(void) {
    const struct { dcgan_arch arch; const char *name; dcgan_init_mode init; int fakes; } want[3] = {
        {DCGAN_ARCH_SEED, "seed", DCGAN_INIT_KERAS, 0},
        {DCGAN_ARCH_PAPER, "paper", DCGAN_INIT_KERAS, 0},
        {DCGAN_ARCH_DCGAN, "dcgan", DCGAN_INIT_DCGAN, 1}};
    int ok = 1;
    for (int k = 0; k < 3; k++) {
        const dcgan_arch_info *info = dcgan_arch_get(want[k].arch);
        dcgan_arch parsed = DCGAN_ARCH_SEED;
        ok &= info != NULL && info->arch == want[k].arch && strcmp(info->name, want[k].name) == 0 &&
              info->init == want[k].init && info->fakes_in_training == want[k].fakes &&
              info->generator != NULL && info->discriminator != NULL &&
              strcmp(dcgan_arch_name(want[k].arch), want[k].name) == 0 &&
              dcgan_arch_parse(want[k].name, &parsed) == DCGAN_OK && parsed == want[k].arch;
    }
    CHECK(ok, "arch_get/seed, paper, dcgan: name, init, fakes in training, parse back");
    CHECK(dcgan_arch_get((dcgan_arch)3) == NULL && dcgan_arch_get((dcgan_arch)-1) == NULL &&
          strcmp(dcgan_arch_name((dcgan_arch)3), "unknown") == 0, "arch_get/3 and -1 are not architectures");
    dcgan_arch arch;
    CHECK(dcgan_arch_parse("wgan", &arch) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "arch_parse: unknown architecture 'wgan' (seed, paper or dcgan)") == 0,
          "arch_parse/unknown name, whole message");
    dcgan_gan_config cfg;
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n, c, h, w;
    small_config(&cfg);
    cfg.arch = (dcgan_arch)3;
    CHECK(dcgan_gan_specs(&cfg, DCGAN_GENERATOR, specs, &n, &c, &h, &w) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "gan_specs: unknown architecture 3") == 0, "gan_specs/arch 3 refused");
    small_config(&cfg);
    CHECK(dcgan_gan_specs(&cfg, (dcgan_net)2, specs, &n, &c, &h, &w) == DCGAN_ERR_SHAPE &&
          strcmp(dcgan_last_error(), "gan_specs: net 2 is neither DCGAN_GENERATOR nor DCGAN_DISCRIMINATOR") == 0,
          "gan_specs/net 2 refused");
}

static void test_train_steps(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats s, first = {0, 0, 0, 0, 0, 0, 0};
    small_config(&cfg);
    float *data = random_images(8, &cfg, 2);
    dcgan_gan_init(&gan, &cfg);
    float g0 = gan.g.params[5], d0 = gan.d.params[5];
    int finite = 1;
    for (int i = 0; i < 6; i++) {
        finite &= dcgan_gan_train_step(&gan, data, 8, &s) == DCGAN_OK;
        finite &= isfinite(s.d_real_loss) && isfinite(s.d_fake_loss) && isfinite(s.g_loss);
        if (i == 0) first = s;
    }
    CHECK(finite, "gan_train_step/6 steps with finite losses");
    CHECK(gan.iteration == 6 && gan.opt_d.step == 12 && gan.opt_g.step == 6,
          "gan_train_step/D takes two Adam steps per iteration, G one");
    CHECK(gan.g.params[5] != g0 && gan.d.params[5] != d0, "gan_train_step/both models move");
    CHECK(s.d_real_loss != first.d_real_loss && s.g_loss != first.g_loss, "gan_train_step/losses change");
    // G's output is in [-1, 1] (tanh) and generation is deterministic in eval mode
    float noise[2 * 100], out1[2 * 64 * 64], out2[2 * 64 * 64];
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 9);
    dcgan_rng_fill_normal(&rng, noise, 200, 0.0f, 1.0f);
    dcgan_gan_generate(&gan, out1, noise, 2);
    dcgan_gan_generate(&gan, out2, noise, 2);
    int bounded = 1;
    for (int k = 0; k < 2 * 64 * 64; k++) bounded &= out1[k] >= -1.0f && out1[k] <= 1.0f;
    CHECK(bounded && memcmp(out1, out2, sizeof out1) == 0, "gan_generate/in [-1,1], deterministic");
    CHECK(dcgan_gan_train_step(&gan, data, 0, &s) == DCGAN_ERR_SHAPE, "gan_train_step/empty dataset");
    dcgan_gan_free(&gan);
    free(data);
}

// A step on images holding NaN fails NONFINITE in its first part (D on real
// images) and changes nothing: weights, Adam moments and steps, BatchNorm
// running statistics (which that part's forward pass had moved) and the random
// stream are as before; the next step on good images runs as if the bad one
// had never been tried. And a running statistic that is NaN is never saved.
static void test_nonfinite_step_changes_nothing(void) {
    dcgan_gan_config cfg;
    dcgan_gan a, b;
    dcgan_gan_stats s;
    small_config(&cfg);
    cfg.arch = DCGAN_ARCH_DCGAN;   // BatchNorm in G and D
    float *data = random_images(8, &cfg, 3);
    const size_t count = (size_t)8 * cfg.channels * cfg.size * cfg.size;
    float *bad = (float *)malloc(count * sizeof(float));
    for (size_t i = 0; i < count; i++) bad[i] = NAN;
    if (!CHECK(dcgan_gan_init(&a, &cfg) == DCGAN_OK && dcgan_gan_init(&b, &cfg) == DCGAN_OK,
               "gan_train_step/NaN: two GANs")) {
        free(data), free(bad);
        return;
    }
    CHECK(a.d.n_buffers > 0 && a.g.n_buffers > 0, "gan_train_step/NaN: both models have running statistics");
    int ok = dcgan_gan_train_step(&a, data, 8, &s) == DCGAN_OK && dcgan_gan_train_step(&b, data, 8, &s) == DCGAN_OK;
    // a: a NaN step between two good ones; b: the good ones only
    const dcgan_status st = dcgan_gan_train_step(&a, bad, 8, &s);
    CHECK(st == DCGAN_ERR_NONFINITE, "gan_train_step/NaN images: DCGAN_ERR_NONFINITE");
    int same = a.iteration == b.iteration && a.opt_d.step == b.opt_d.step && a.opt_g.step == b.opt_g.step &&
               memcmp(&a.rng, &b.rng, sizeof a.rng) == 0;
    for (int k = 0; k < 2; k++) {
        const dcgan_model *p = k ? &a.d : &a.g, *q = k ? &b.d : &b.g;
        same &= memcmp(p->params, q->params, p->n_params * sizeof(float)) == 0 &&
                memcmp(p->adam_m, q->adam_m, p->n_params * sizeof(float)) == 0 &&
                memcmp(p->adam_v, q->adam_v, p->n_params * sizeof(float)) == 0 &&
                memcmp(p->buffers, q->buffers, p->n_buffers * sizeof(float)) == 0;
    }
    CHECK(ok && same, "gan_train_step/NaN images: weights, moments, running statistics and rng unchanged");
    ok = dcgan_gan_train_step(&a, data, 8, &s) == DCGAN_OK && dcgan_gan_train_step(&b, data, 8, &s) == DCGAN_OK;
    CHECK(ok && memcmp(a.g.params, b.g.params, a.g.n_params * sizeof(float)) == 0 &&
              memcmp(a.d.buffers, b.d.buffers, a.d.n_buffers * sizeof(float)) == 0,
          "gan_train_step/NaN images: the next step as if it had never been tried");
    // a NaN running statistic is refused by gan_save, naming the model
    char path[64], want[160];
    snprintf(path, sizeof path, "build/test_gan_nan_%d.safetensors", (int)getpid());
    a.d.buffers[1] = NAN;
    snprintf(want, sizeof want,
             "gan_save: model 'D.main' has a NaN or Inf in its running statistics at 1; '%s' was not written", path);
    CHECK(dcgan_gan_save(&a, path, NULL, NULL, 0) == DCGAN_ERR_NONFINITE && strcmp(dcgan_last_error(), want) == 0 &&
              access(path, F_OK) != 0,
          "gan_save/a NaN running statistic is never written, the model named");
    dcgan_gan_free(&a);
    dcgan_gan_free(&b);
    free(data);
    free(bad);
}

// What the D half of a step means, by behaviour: with G frozen (lr_g = 0), D
// trained on bright "real" images and G's samples must end up scoring real
// images above generated ones, in eval mode, on images it never saw.
static void test_frozen_g_d_learns(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    dcgan_gan_stats s;
    small_config(&cfg);
    cfg.lr_g = 0.0;
    cfg.lr_d = 1e-3;
    const size_t image = (size_t)cfg.size * cfg.size;
    float *data = random_images(16, &cfg, 3), *fresh = random_images(4, &cfg, 4);
    for (size_t i = 0; i < 16 * image; i++) data[i] = 0.6f + 0.3f * data[i];   // in [0.3, 0.9]
    for (size_t i = 0; i < 4 * image; i++) fresh[i] = 0.6f + 0.3f * fresh[i];
    dcgan_gan_init(&gan, &cfg);
    float *g0 = (float *)malloc(gan.g.n_params * sizeof(float));
    memcpy(g0, gan.g.params, gan.g.n_params * sizeof(float));
    int ok = 1;
    for (int i = 0; i < 40; i++) ok &= dcgan_gan_train_step(&gan, data, 16, &s) == DCGAN_OK;
    CHECK(ok && memcmp(g0, gan.g.params, gan.g.n_params * sizeof(float)) == 0,
          "frozen G/40 steps with lr_g = 0 leave G's weights as they were");
    float noise[4 * 100], fake[4 * 64 * 64], real_logit = 0.0f, fake_logit = 0.0f;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 12);
    dcgan_rng_fill_normal(&rng, noise, 400, 0.0f, 1.0f);
    dcgan_gan_generate(&gan, fake, noise, 4);
    dcgan_model_forward(&gan.d, dcgan_tensor_make(fresh, 4, 1, 64, 64), 0, &rng);
    for (int i = 0; i < 4; i++) real_logit += dcgan_model_output(&gan.d).data[i] / 4;
    dcgan_model_forward(&gan.d, dcgan_tensor_make(fake, 4, 1, 64, 64), 0, &rng);
    for (int i = 0; i < 4; i++) fake_logit += dcgan_model_output(&gan.d).data[i] / 4;
    char label[160];
    snprintf(label, sizeof label, "frozen G/D scores unseen real images above G's samples (mean logit %.2f vs %.2f)",
             real_logit, fake_logit);
    CHECK(real_logit > fake_logit + 1.0f, label);
    dcgan_gan_free(&gan);
    free(data); free(fresh); free(g0);
}

// Buffers are sized once: after the first step (which sizes the GEMM's kept
// packing buffer), training steps and sampling allocate nothing, for every
// architecture.
static void test_no_allocation_in_loop(void) {
    for (int a = 0; a < 3; a++) {
        dcgan_gan_config cfg;
        dcgan_gan gan;
        dcgan_gan_stats s;
        small_config(&cfg);
        cfg.arch = (dcgan_arch)a;
        cfg.channels = 3;
        float *data = random_images(8, &cfg, 5);
        float noise[4 * 100], *out = (float *)malloc((size_t)4 * 3 * 64 * 64 * sizeof(float));
        if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK) {
            CHECK(0, "gan_init for the allocation count");
            free(data);
            free(out);
            continue;
        }
        memset(noise, 0, sizeof noise);
        int ok = dcgan_gan_train_step(&gan, data, 8, &s) == DCGAN_OK &&
                 dcgan_gan_generate(&gan, out, noise, 4) == DCGAN_OK;
        n_allocs = 0;
        for (int i = 0; i < 3; i++) ok &= dcgan_gan_train_step(&gan, data, 8, &s) == DCGAN_OK;
        ok &= dcgan_gan_generate(&gan, out, noise, 4) == DCGAN_OK;
        char label[96];
        snprintf(label, sizeof label, "gan_train_step/%s: 3 more steps and a sample allocate nothing (%ld)",
                 dcgan_arch_name(cfg.arch), n_allocs);
        CHECK(ok && n_allocs == 0, label);
        dcgan_gan_free(&gan);
        free(data);
        free(out);
    }
}

// Same seed, same data: bit-identical runs.
static void test_determinism(void) {
    dcgan_gan_config cfg;
    dcgan_gan a, b;
    dcgan_gan_stats s;
    small_config(&cfg);
    cfg.arch = DCGAN_ARCH_DCGAN;
    float *data = random_images(8, &cfg, 3);
    dcgan_gan_init(&a, &cfg);
    dcgan_gan_init(&b, &cfg);
    for (int i = 0; i < 3; i++) {
        dcgan_gan_train_step(&a, data, 8, &s);
        dcgan_gan_train_step(&b, data, 8, &s);
    }
    CHECK(memcmp(a.g.params, b.g.params, a.g.n_params * sizeof(float)) == 0 &&
          memcmp(a.d.buffers, b.d.buffers, a.d.n_buffers * sizeof(float)) == 0,
          "gan_train_step/same seed gives bit-identical weights");
    dcgan_gan_free(&a);
    dcgan_gan_free(&b);
    free(data);
}

static int same_state(const dcgan_gan *a, const dcgan_gan *b);

// The thread count changes how work is cut, never a result: three steps on
// 1 thread and on 3 (uneven chunks) give bit-identical models, for every
// architecture. (Builds without OpenMP have one thread only: nothing to compare.)
static void test_threads_do_not_change_results(void) {
    if (dcgan_set_threads(3) != 3) return;
    for (int a = 0; a < 3; a++) {
        dcgan_gan_config cfg;
        dcgan_gan one, three;
        dcgan_gan_stats s;
        small_config(&cfg);
        cfg.arch = (dcgan_arch)a;
        cfg.width = 0.125f;
        cfg.channels = 3;
        float *data = random_images(8, &cfg, 4);
        int ok = dcgan_gan_init(&one, &cfg) == DCGAN_OK;
        ok &= dcgan_gan_init(&three, &cfg) == DCGAN_OK;
        for (int i = 0; ok && i < 3; i++) {
            dcgan_set_threads(1);
            ok &= dcgan_gan_train_step(&one, data, 8, &s) == DCGAN_OK;
            dcgan_set_threads(3);
            ok &= dcgan_gan_train_step(&three, data, 8, &s) == DCGAN_OK;
        }
        char label[96];
        snprintf(label, sizeof label, "gan_train_step/%s: 1 and 3 threads give bit-identical models",
                 dcgan_arch_name(cfg.arch));
        CHECK(ok && same_state(&one, &three), label);
        dcgan_gan_free(&one);
        dcgan_gan_free(&three);
        free(data);
    }
    dcgan_set_threads(0);
}

static int same_state(const dcgan_gan *a, const dcgan_gan *b) {
    return memcmp(a->g.params, b->g.params, a->g.n_params * sizeof(float)) == 0 &&
           memcmp(a->d.params, b->d.params, a->d.n_params * sizeof(float)) == 0 &&
           memcmp(a->g.adam_v, b->g.adam_v, a->g.n_params * sizeof(float)) == 0 &&
           memcmp(a->d.adam_m, b->d.adam_m, a->d.n_params * sizeof(float)) == 0 &&
           memcmp(a->d.buffers, b->d.buffers, a->d.n_buffers * sizeof(float)) == 0 &&
           a->iteration == b->iteration && a->opt_d.step == b->opt_d.step &&
           a->rng.state == b->rng.state && a->rng.has_spare == b->rng.has_spare;
}

static void test_checkpoint_roundtrip_and_resume(void) {
    dcgan_gan_config cfg;
    dcgan_gan straight, first, resumed;
    dcgan_gan_stats s;
    small_config(&cfg);
    cfg.arch = DCGAN_ARCH_DCGAN;   // has BatchNorm running statistics to carry over
    float *data = random_images(8, &cfg, 4);
    dcgan_gan_init(&straight, &cfg);
    for (int i = 0; i < 4; i++) dcgan_gan_train_step(&straight, data, 8, &s);
    dcgan_gan_init(&first, &cfg);
    for (int i = 0; i < 2; i++) dcgan_gan_train_step(&first, data, 8, &s);
    const char *k[1] = {"note"}, *v[1] = {"hello \"quoted\"\n"};
    CHECK(dcgan_gan_save(&first, ckpt, k, v, 1) == DCGAN_OK, "gan_save/status");
    dcgan_gan_config back;
    CHECK(dcgan_gan_config_load(&back, ckpt) == DCGAN_OK && back.arch == cfg.arch &&
          back.width == cfg.width && back.lr_d == cfg.lr_d && back.seed == cfg.seed,
          "gan_config_load/configuration round trip");
    cfg.seed = 77;   // a different init: everything must come from the file
    dcgan_gan_init(&resumed, &cfg);
    CHECK(dcgan_gan_load(&resumed, ckpt) == DCGAN_OK, "gan_load/status");
    CHECK(same_state(&first, &resumed), "gan_load/weights, moments, statistics, step and RNG restored");
    dcgan_safetensors st;
    CHECK(dcgan_safetensors_read(&st, ckpt) == DCGAN_OK &&
          strcmp(dcgan_safetensors_meta(&st, "note"), "hello \"quoted\"\n") == 0 &&
          dcgan_safetensors_find(&st, "G.main.0.weight") != NULL &&
          dcgan_safetensors_find(&st, "D.main.3.running_var") != NULL,
          "safetensors_read/metadata escapes and state_dict names");
    dcgan_safetensors_free(&st);
    for (int i = 0; i < 2; i++) dcgan_gan_train_step(&resumed, data, 8, &s);
    CHECK(same_state(&straight, &resumed), "gan_load/2 steps + resume + 2 steps == 4 straight steps");
    dcgan_gan_free(&straight);
    dcgan_gan_free(&first);
    dcgan_gan_free(&resumed);
    free(data);
}

// Reads the whole checkpoint file into memory.
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = (unsigned char *)malloc(*n);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

// 1 if the safetensors file at path has metadata key = value.
static int file_meta_is(const char *path, const char *key, const char *value) {
    dcgan_safetensors st;
    if (dcgan_safetensors_read(&st, path) != DCGAN_OK) return 0;
    const char *v = dcgan_safetensors_meta(&st, key);
    const int same = v && strcmp(v, value) == 0;
    dcgan_safetensors_free(&st);
    return same;
}

// Changes the first digit of metadata entry key's value in a checkpoint file
// (0 -> 1, else one down); 1 if the key was found.
static int bump_meta_digit(const char *path, const char *key) {
    size_t n;
    unsigned char *file = slurp(path, &n);
    char pattern[80];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    int found = 0;
    for (size_t i = 8; file && !found && i + strlen(pattern) < n; i++) {
        if (memcmp(file + i, pattern, strlen(pattern)) != 0) continue;
        unsigned char *d = file + i + strlen(pattern);
        while (*d == '-' || *d == '.') d++;
        *d = *d == '0' ? '1' : (unsigned char)(*d - 1);
        found = 1;
    }
    if (found) spit(path, file, n);
    free(file);
    return found;
}

// Checkpoint version 2: the checksum covers the training state in the metadata
// as well (an audit changed one digit of "iteration" and --resume went on from
// the wrong row); version 1 files still load; out-of-range steps and learning
// rates are refused even with a right checksum; width above 64 is refused.
static void test_checkpoint_version2(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan, loaded;
    char bad[300], want[600];
    dcgan_gan_config_default(&cfg);
    cfg.arch = DCGAN_ARCH_DCGAN;
    cfg.size = 64;
    cfg.channels = 1;
    cfg.width = 0.03125f;
    cfg.latent = 4;
    cfg.batch = 4;
    cfg.adam_mode = DCGAN_ADAM_PYTORCH;
    cfg.lr_d = cfg.lr_g = 2e-4;
    cfg.augment = DCGAN_AUG_COLOR | DCGAN_AUG_TRANSLATION;
    cfg.ada_target = 0.6f;
    cfg.ada_kimg = 0.1f;
    cfg.ema_kimg = 0.01f;
    cfg.seed = 11;
    // tests/data/gan_v1.safetensors: this configuration after 3 steps, written by version 1
    // (session 25, before the change)
    CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_OK && dcgan_gan_load(&gan, "tests/data/gan_v1.safetensors") == DCGAN_OK &&
              gan.iteration == 3 && gan.opt_g.step == 3 && gan.opt_d.step == 6 && gan.ada_count == 6 &&
              gan.rng.state == 18213380235641302961ull,
          "gan_load/a version 1 checkpoint still loads (iteration 3, steps 3 and 6, ADA count 6, the RNG)");
    snprintf(bad, sizeof bad, "%s.v2", ckpt);
    CHECK(dcgan_gan_save(&gan, bad, NULL, NULL, 0) == DCGAN_OK && dcgan_gan_init(&loaded, &cfg) == DCGAN_OK &&
              dcgan_gan_load(&loaded, bad) == DCGAN_OK && loaded.iteration == 3 &&
              memcmp(loaded.g.params, gan.g.params, gan.g.n_params * sizeof(float)) == 0 &&
              file_meta_is(bad, "version", "2"),
          "gan_save/writes version 2, which loads back");
    // one digit of the training state changed: refused as damaged, the GAN unchanged
    static const char *const keys[5] = {"iteration", "D.adam.lr", "rng.state", "ema_kimg", "seed"};
    int refused = 0;
    for (int k = 0; k < 5; k++) {
        dcgan_gan_save(&gan, bad, NULL, NULL, 0);
        const int found = bump_meta_digit(bad, keys[k]);
        snprintf(want, sizeof want, "gan_load: '%s': the tensor data and training state do not match their "
                 "checksum (the file is damaged)", bad);
        const int ok = found && dcgan_gan_load(&loaded, bad) == DCGAN_ERR_FORMAT &&
                       strcmp(dcgan_last_error(), want) == 0 && loaded.iteration == 3;
        if (!ok) fprintf(stderr, "  %s: %s\n", keys[k], found ? dcgan_last_error() : "not found");
        refused += ok;
    }
    CHECK(refused == 5, "gan_load/one digit of iteration, D.adam.lr, rng.state, ema_kimg or seed: damaged");
    // right checksums, values out of range (gan_save writes whatever the struct holds)
    snprintf(want, sizeof want, "gan_load: '%s': training state in the metadata is missing or malformed", bad);
    int bounded = 1;
    for (int k = 0; k < 4; k++) {
        dcgan_gan odd = gan;   // (a shallow copy: only the numbers below differ)
        if (k == 0) odd.iteration = ((int64_t)1 << 62) + 1;
        if (k == 1) odd.opt_g.step = INT64_MAX;   // Adam's next step, step + 1, would overflow
        if (k == 2) odd.opt_d.step = ((int64_t)1 << 62) + 1;
        if (k == 3) odd.opt_d.lr = -2e-4;
        bounded &= dcgan_gan_save(&odd, bad, NULL, NULL, 0) == DCGAN_OK && dcgan_gan_load(&loaded, bad) ==
                   DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0 && loaded.iteration == 3;
    }
    CHECK(bounded, "gan_load/an iteration or Adam step past 2^62, or a negative learning rate: refused");
    {
        // a version 2 file without the little-data entries (augment ... ada.rt), as version 1
        // files from before them are: those load with the settings off; this one must not
        dcgan_gan_save(&gan, bad, NULL, NULL, 0);
        dcgan_safetensors st;
        int ok = dcgan_safetensors_read(&st, bad) == DCGAN_OK;
        dcgan_st_write_tensor *t = (dcgan_st_write_tensor *)calloc((size_t)st.n_tensors, sizeof *t);
        float *copy = (float *)malloc((size_t)st.data_size);
        const char *kept_keys[64], *vals[64];
        int nk = 0;
        for (int i = 0; ok && i < st.n_meta; i++)
            if (!strstr(" augment augment_p ada_target ada_kimg ema_kimg ema_rampup ada.p ada.signs ada.count "
                        "ada.rt ", st.meta_keys[i]))
                kept_keys[nk] = st.meta_keys[i], vals[nk++] = st.meta_values[i];
        if (ok) memcpy(copy, st.data, (size_t)st.data_size);   // (little-endian floats, as written)
        for (int i = 0; ok && i < st.n_tensors; i++) {
            t[i].name = st.tensors[i].name;
            t[i].data = copy + st.tensors[i].begin / 4;
            t[i].ndim = st.tensors[i].ndim;
            memcpy(t[i].shape, st.tensors[i].shape, sizeof t[i].shape);
        }
        ok = ok && nk == st.n_meta - 10 && dcgan_safetensors_write(bad, t, st.n_tensors, kept_keys, vals, nk) == DCGAN_OK;
        snprintf(want, sizeof want, "gan_load: '%s': metadata 'augment' is missing", bad);
        CHECK(ok && dcgan_gan_load(&loaded, bad) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
              "gan_load/a version 2 file without the little-data entries: the first one named");
        dcgan_safetensors_free(&st);
        free(t);
        free(copy);
    }
    remove(bad);   // (the .v2 files were left in build/, one per run)
    dcgan_gan_free(&loaded);
    dcgan_gan_free(&gan);
    // width: 1024 x width filters must stay an int
    dcgan_layer_spec specs[DCGAN_MAX_SPECS];
    int n_specs, c, h, w;
    cfg.width = 1e9f;
    CHECK(dcgan_gan_specs(&cfg, DCGAN_GENERATOR, specs, &n_specs, &c, &h, &w) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "gan_specs: width 1e+09 is more than 64") == 0,
          "gan_specs/width 1e9 is refused (it overflowed the filter count)");
}

// Metadata a reader could not take back is refused before anything is written
// (a 300-byte value made a checkpoint that gan_load refused; a 17th extra entry
// was dropped without a word), and the file there stays as it was.
static void test_unreadable_metadata_refused(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    size_t n0, n1;
    char want[1200];
    small_config(&cfg);
    dcgan_gan_init(&gan, &cfg);
    CHECK(dcgan_gan_save(&gan, ckpt, NULL, NULL, 0) == DCGAN_OK, "gan_save/a plain checkpoint");
    unsigned char *before = slurp(ckpt, &n0);
    char long_value[301];
    memset(long_value, 'v', 300);
    long_value[300] = '\0';
    const char *keys[17] = {"note", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13",
                            "k14", "k15", "k16"};
    const char *values[17] = {long_value, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
                              "15", "16"};
    snprintf(want, sizeof want, "safetensors_write: '%s': metadata 'note' is 4 bytes long with a value of 300 "
             "(keys below 64 and values below 256 can be read back)", ckpt);
    CHECK(dcgan_gan_save(&gan, ckpt, keys, values, 1) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
          "gan_save/a 300-byte metadata value is refused, the file and the limit named");
    snprintf(want, sizeof want, "gan_save: 17 extra metadata entries; '%s' was not written (0 to 16 can be added)",
             ckpt);
    values[0] = "short";
    CHECK(dcgan_gan_save(&gan, ckpt, keys, values, 17) == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), want) == 0,
          "gan_save/17 extra entries are refused (they were cut to 16)");
    unsigned char *after = slurp(ckpt, &n1);
    CHECK(n0 == n1 && memcmp(before, after, n0) == 0, "gan_save/after the refusals the checkpoint is unchanged");
    free(after);
    CHECK(dcgan_gan_save(&gan, ckpt, keys, values, 16) == DCGAN_OK && dcgan_gan_load(&gan, ckpt) == DCGAN_OK,
          "gan_save/16 extra entries are written and the file loads");
    dcgan_safetensors st;
    CHECK(dcgan_safetensors_read(&st, ckpt) == DCGAN_OK && strcmp(dcgan_safetensors_meta(&st, "k15"), "15") == 0,
          "gan_save/... the 16th extra entry is there");
    dcgan_safetensors_free(&st);
    // a tensor name of 128 bytes
    char name[129];
    memset(name, 'n', 128);
    name[128] = '\0';
    float one = 1.0f;
    dcgan_st_write_tensor t = {name, &one, 1, {1}};
    snprintf(want, sizeof want, "safetensors_write: '%s': tensor name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...'"
             " is 128 bytes (below 128 can be read back)", ckpt);
    CHECK(dcgan_safetensors_write(ckpt, &t, 1, NULL, NULL, 0) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0, "safetensors_write/a 128-byte tensor name is refused");
    // a key or a name twice: a reader would find one of the two (a helper's audit: model_save with the
    // caller's "format" wrote it beside the library's, and the caller's could never be read back)
    const char *twice[2] = {"format", "format"}, *vals[2] = {"dcgan.h-model-1", "mine"};
    snprintf(want, sizeof want, "safetensors_write: '%s': metadata key 'format' is given twice (entries 0 and 1); "
             "nothing was written", ckpt);
    CHECK(dcgan_safetensors_write(ckpt, &t, 0, twice, vals, 2) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0, "safetensors_write/a metadata key given twice is refused");
    snprintf(want, sizeof want, "safetensors_write: '%s': metadata key 'seed' is given twice (entries 15 and 36); "
             "nothing was written", ckpt);
    const char *seed_key[1] = {"seed"}, *seed_value[1] = {"7"};
    CHECK(dcgan_gan_save(&gan, ckpt, seed_key, seed_value, 1) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
          "gan_save/an extra key the checkpoint itself writes ('seed') is refused");
    float two[2] = {1.0f, 2.0f};
    dcgan_st_write_tensor pair[2] = {{"w", &two[0], 1, {1}}, {"w", &two[1], 1, {1}}};
    snprintf(want, sizeof want, "safetensors_write: '%s': tensor name 'w' is given twice (tensors 0 and 1); "
             "nothing was written", ckpt);
    CHECK(dcgan_safetensors_write(ckpt, pair, 2, NULL, NULL, 0) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0, "safetensors_write/a tensor name given twice is refused");
    dcgan_st_write_tensor meta_named = {"__metadata__", &two[0], 1, {1}};
    snprintf(want, sizeof want, "safetensors_write: '%s': tensor 0 is named '__metadata__', the name the header's "
             "metadata takes; nothing was written", ckpt);
    CHECK(dcgan_safetensors_write(ckpt, &meta_named, 1, NULL, NULL, 0) == DCGAN_ERR_FORMAT &&
              strcmp(dcgan_last_error(), want) == 0,
          "safetensors_write/a tensor named __metadata__ is refused (the file was written, then refused on load)");
    after = slurp(ckpt, &n1);
    unsigned char *saved16 = after;
    CHECK(dcgan_gan_load(&gan, ckpt) == DCGAN_OK, "safetensors_write/after these refusals the checkpoint still loads");
    free(saved16);
    float img[1];
    CHECK(dcgan_gan_generate(&gan, img, img, -5) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "gan_generate: n = -5 images") == 0,
          "gan_generate/a negative count is refused (it returned OK)");
    free(before);
    dcgan_gan_free(&gan);
}

static void test_damaged_checkpoints(void) {
    dcgan_gan_config cfg;
    dcgan_gan gan;
    char bad[300];
    size_t n;
    small_config(&cfg);
    dcgan_gan_init(&gan, &cfg);
    dcgan_gan_save(&gan, ckpt, NULL, NULL, 0);
    unsigned char *file = slurp(ckpt, &n);
    float *g_before = (float *)malloc(gan.g.n_params * sizeof(float));
    memcpy(g_before, gan.g.params, gan.g.n_params * sizeof(float));
    dcgan_rng before_rng = gan.rng;
    snprintf(bad, sizeof bad, "%s.bad", ckpt);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | file[k];
    // truncated at many points: header length, inside the JSON, inside the data
    const size_t cuts[] = {0, 4, 8, 20, (size_t)hlen / 2, (size_t)hlen + 8, n / 2, n - 1};
    int all_format = 1;
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        spit(bad, file, cuts[c]);
        dcgan_status st = dcgan_gan_load(&gan, bad);
        all_format &= st == DCGAN_ERR_FORMAT;
        if (st != DCGAN_ERR_FORMAT) fprintf(stderr, "cut at %zu: %s\n", cuts[c], dcgan_last_error());
    }
    CHECK(all_format, "gan_load/truncated files give DCGAN_ERR_FORMAT");
    // not a checkpoint at all (a text file): said so, not as a header length that does not fit
    // (it puzzled a user: a helper's audit); and by the .pth reader as neither of its formats
    {
        static const char text[] = "This is a text file, not a checkpoint.\n";
        char want[700];
        spit(bad, (const unsigned char *)text, sizeof text - 1);
        dcgan_safetensors st;
        snprintf(want, sizeof want, "safetensors_read: '%s' is not a safetensors file (its first 8 bytes, read as "
                 "the header length, say %llu)", bad, 0x2073692073696854ULL);   // ("This is " little-endian)
        CHECK(dcgan_safetensors_read(&st, bad) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
              "safetensors_read/a text file: not a safetensors file, with what its first 8 bytes say");
        dcgan_state_dict sd;
        snprintf(want, sizeof want, "state_dict_load: '%s' is neither a PyTorch file (a zip, or the legacy pickle) "
                 "nor a safetensors file", bad);
        CHECK(dcgan_state_dict_load(&sd, bad) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
              "state_dict_load/a text file: neither a PyTorch file nor a safetensors file");
        snprintf(want, sizeof want, "safetensors_read: cannot open '%s.none': No such file or directory", bad);
        char none[320];
        snprintf(none, sizeof none, "%s.none", bad);
        CHECK(dcgan_safetensors_read(&st, none) == DCGAN_ERR_IO && strcmp(dcgan_last_error(), want) == 0,
              "safetensors_read/a missing file: cannot open it, and why");
    }
    // one flipped bit in the weights, in the header, in the length
    const size_t flips[] = {n - 3, 8 + (size_t)hlen + 100, 30, 3};
    int flips_ok = 1;
    for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
        file[flips[f]] ^= 0x10;
        spit(bad, file, n);
        dcgan_status st = dcgan_gan_load(&gan, bad);
        flips_ok &= st == DCGAN_ERR_FORMAT || st == DCGAN_ERR_SHAPE;
        if (st == DCGAN_OK) fprintf(stderr, "flip at %zu was not caught\n", flips[f]);
        file[flips[f]] ^= 0x10;
    }
    CHECK(flips_ok, "gan_load/flipped bits are caught (checksum, JSON, length)");
    CHECK(memcmp(g_before, gan.g.params, gan.g.n_params * sizeof(float)) == 0 &&
          gan.rng.state == before_rng.state && gan.iteration == 0,
          "gan_load/the model is unchanged after every refused file");
    // a checkpoint of another width: DCGAN_ERR_SHAPE naming both
    dcgan_gan other;
    dcgan_gan_config c2 = cfg;
    c2.width = 1.0f / 16.0f;
    dcgan_gan_init(&other, &c2);
    CHECK(dcgan_gan_load(&other, ckpt) == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "width"),
          "gan_load/model of another width refused");
    dcgan_gan_free(&other);
    // right metadata, a tensor of the wrong shape
    {
        dcgan_st_write_tensor t[1];
        float w[3] = {0};
        t[0].name = "G.main.0.weight";
        t[0].data = w;
        t[0].ndim = 1;
        t[0].shape[0] = 3;
        const char *keys[] = {"format", "version", "arch", "size", "channels", "width", "latent",
                              "batch", "lr_d", "lr_g", "beta1", "beta2", "adam_mode", "real_label",
                              "fake_label", "seed", "iteration", "G.adam.step", "D.adam.step",
                              "G.adam.lr", "D.adam.lr", "rng.state", "rng.inc", "rng.has_spare",
                              "rng.spare_bits", "data_fnv1a64"};
        char width[32];
        snprintf(width, sizeof width, "%.9g", (double)cfg.width);
        const char *vals[] = {"dcgan.h checkpoint", "1", "seed", "64", "1", width, "100", "4",
                              "0.0002", "0.0002", "0.5", "0.999", "keras", "1", "0", "1", "0", "0",
                              "0", "0.0002", "0.0002", "1", "1", "0", "0", "0"};
        dcgan_safetensors_write(bad, t, 1, keys, vals, 26);
        CHECK(dcgan_gan_load(&gan, bad) == DCGAN_ERR_FORMAT, "gan_load/wrong tensor shape or checksum refused");
    }
    // a safetensors file that is not a checkpoint
    {
        dcgan_st_write_tensor t[1];
        float w[2] = {1, 2};
        t[0].name = "x";
        t[0].data = w;
        t[0].ndim = 1;
        t[0].shape[0] = 2;
        dcgan_safetensors_write(bad, t, 1, NULL, NULL, 0);
        CHECK(dcgan_gan_load(&gan, bad) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "not a dcgan.h"),
              "gan_load/plain safetensors refused with a reason");
        dcgan_safetensors st;
        CHECK(dcgan_safetensors_read(&st, bad) == DCGAN_OK && st.n_tensors == 1 &&
              st.data_size == 8, "safetensors_read/a plain file reads");
        dcgan_safetensors_free(&st);
    }
    // one model saved on its own (model_save, as classify train writes its CNN): named as such
    // (it said "not a dcgan.h checkpoint (metadata 'format' is dcgan.h model)")
    {
        char want[700];
        CHECK(dcgan_model_save(&gan.d, bad, NULL, NULL, 0) == DCGAN_OK, "model_save/D alone");
        snprintf(want, sizeof want, "gan_load: '%s' holds one model (model_save, as classify train writes), not a "
                 "GAN checkpoint (gan_save, as train writes)", bad);
        CHECK(dcgan_gan_load(&gan, bad) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0,
              "gan_load/a model_save file: named as one model, whole message");
    }
    CHECK(dcgan_gan_load(&gan, "no/such/file.safetensors") == DCGAN_ERR_IO, "gan_load/missing file is IO");
    // a failed save leaves the old checkpoint whole
    CHECK(dcgan_gan_save(&gan, "no/such/dir/ckpt.safetensors", NULL, NULL, 0) == DCGAN_ERR_IO,
          "gan_save/unwritable folder gives IO");
    float keep = gan.g.params[3];
    gan.g.params[3] = NAN;
    CHECK(dcgan_gan_save(&gan, ckpt, NULL, NULL, 0) == DCGAN_ERR_NONFINITE &&
          strstr(dcgan_last_error(), "G.main"), "gan_save/a NaN weight is never written");
    gan.g.params[3] = keep;
    size_t n2;
    unsigned char *again = slurp(ckpt, &n2);
    CHECK(n2 == n && memcmp(again, file, n) == 0, "gan_save/failed saves leave the checkpoint intact");
    remove(bad);
    free(again);
    free(file);
    free(g_before);
    dcgan_gan_free(&gan);
}

static void test_safetensors_hostile_headers(void) {
    // hand-written headers that must each be refused with DCGAN_ERR_FORMAT
    const char *headers[] = {
        "{",                                                                    // unterminated
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",       // size mismatch
        "{\"a\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}",       // unknown dtype
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",       // gap at 0
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",        // overlap
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999,99999999999,99999999999],\"data_offsets\":[0,4]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x",     // trailing
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}",                               // no offsets
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",      // negative
    };
    char path[300];
    snprintf(path, sizeof path, "%s.hdr", ckpt);
    int ok = 1;
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        unsigned char buf[512];
        size_t len = strlen(headers[i]);
        for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)len >> (8 * k));
        memcpy(buf + 8, headers[i], len);
        memset(buf + 8 + len, 0, 4);
        spit(path, buf, 8 + len + 4);
        dcgan_safetensors st;
        dcgan_status s = dcgan_safetensors_read(&st, path);
        if (s != DCGAN_ERR_FORMAT) {
            fprintf(stderr, "header %zu: status %d\n", i, (int)s);
            ok = 0;
            dcgan_safetensors_free(&st);
        }
    }
    CHECK(ok, "safetensors_read/hostile headers refused with DCGAN_ERR_FORMAT");
    CHECK(strstr(dcgan_last_error(), "header byte") != NULL || strstr(dcgan_last_error(), ".hdr"),
          "safetensors_read/message names the file or the byte");
    remove(path);
}

// --- One whole iteration against PyTorch (tests/make_gan_step.py, written from
// the study's description: D on real images with the real label, D on generated
// images with the fake label, G through D with label 1, each model its own
// Adam). The script reads the state before the step from the checkpoints that
// `test_gan --dump-step DIR` writes (weights, RNG, Adam), replays the documented
// random draws, and stores every parameter, both Adam moments (m holds the
// gradients), BatchNorm statistics and the three losses after the step.
#define STEP_CASES 3
static const char *step_case_names[STEP_CASES] = {"seed", "paper_smooth", "dcgan"};

// The three cases: each architecture once; "paper_smooth" trains D with the
// real label 0.9 (one-sided smoothing), which must not reach G's target.
static void step_case(int k, dcgan_gan_config *cfg) {
    dcgan_gan_config_default(cfg);
    cfg->size = 64;
    cfg->channels = 1;
    cfg->width = 1.0f / 32.0f;
    cfg->latent = 16;
    cfg->batch = 6;
    cfg->seed = 20 + (uint64_t)k;
    if (k == 1) {
        cfg->arch = DCGAN_ARCH_PAPER;
        cfg->real_label = 0.9f;
    }
    if (k == 2) {
        cfg->arch = DCGAN_ARCH_DCGAN;
        cfg->width = 1.0f / 16.0f;
        cfg->adam_mode = DCGAN_ADAM_PYTORCH;
        cfg->lr_d = cfg->lr_g = 2e-4;
    }
}

// Writes DIR/step_<case>.safetensors (before the step) and DIR/step_<case>.raw
// (the dataset: 5 images, float32) for the reference script.
static int dump_step_inputs(const char *dir) {
    for (int k = 0; k < STEP_CASES; k++) {
        dcgan_gan_config cfg;
        dcgan_gan gan;
        char path[512];
        step_case(k, &cfg);
        float *data = random_images(5, &cfg, 11);
        if (dcgan_gan_init(&gan, &cfg) != DCGAN_OK) return 1;
        snprintf(path, sizeof path, "%s/step_%s.safetensors", dir, step_case_names[k]);
        if (dcgan_gan_save(&gan, path, NULL, NULL, 0) != DCGAN_OK) return 1;
        snprintf(path, sizeof path, "%s/step_%s.raw", dir, step_case_names[k]);
        FILE *f = fopen(path, "wb");
        size_t count = (size_t)5 * cfg.channels * cfg.size * cfg.size;
        if (!f || fwrite(data, sizeof(float), count, f) != count) return 1;
        fclose(f);
        free(data);
        dcgan_gan_free(&gan);
    }
    return 0;
}

static void test_step_against_pytorch(void) {
    fixture fx;
    if (!CHECK(fixture_load(&fx, "tests/data/gan_step.bin"), "gan_step/tests/data/gan_step.bin loads")) return;
    for (int k = 0; k < STEP_CASES; k++) {
        dcgan_gan_config cfg;
        dcgan_gan gan;
        dcgan_gan_stats st;
        char name[160], label[200];
        step_case(k, &cfg);
        float *data = random_images(5, &cfg, 11);
        dcgan_gan_init(&gan, &cfg);
        CHECK(dcgan_gan_train_step(&gan, data, 5, &st) == DCGAN_OK, "gan_step/one iteration runs");
        dcgan_gan_save(&gan, ckpt, NULL, NULL, 0);
        dcgan_safetensors sf;
        if (!CHECK(dcgan_safetensors_read(&sf, ckpt) == DCGAN_OK, "gan_step/the checkpoint reads")) continue;
        // the losses
        snprintf(name, sizeof name, "%s.losses", step_case_names[k]);
        fixture_array *want = fixture_get(&fx, name);
        const float got[3] = {st.d_real_loss, st.d_fake_loss, st.g_loss};
        snprintf(label, sizeof label, "gan_step/%s: D-real, D-fake and G losses equal PyTorch's", step_case_names[k]);
        CHECK(want && want->count == 3 && CHECK_CLOSE(want->data, got, 3, 1e-6, 1e-5, label), label);
        // every tensor of the checkpoint: parameters, Adam m and v of both models, BatchNorm statistics
        int compared = 0, matched = 0;
        for (int t = 0; t < sf.n_tensors; t++) {
            const dcgan_st_tensor *ten = &sf.tensors[t];
            snprintf(name, sizeof name, "%s.%s", step_case_names[k], ten->name);
            want = fixture_get(&fx, name);
            if (!want) continue;
            compared++;
            size_t count = (size_t)(ten->end - ten->begin) / sizeof(float);
            // second moments are squares of gradients: looser absolute floor
            const int is_v = strstr(ten->name, "adam_v") != NULL || strstr(ten->name, ".v.") != NULL;
            snprintf(label, sizeof label, "gan_step/%s: %s after the step equals PyTorch's", step_case_names[k],
                     ten->name);
            if (want->count == count &&
                check_close(want->data, (const float *)(sf.data + ten->begin), count, is_v ? 1e-12 : 1e-6, 1e-4,
                            label, __FILE__, __LINE__))
                matched++;
        }
        snprintf(label, sizeof label, "gan_step/%s: every checkpoint tensor has a reference (%d compared)",
                 step_case_names[k], compared);
        CHECK(compared == sf.n_tensors && compared > 0, label);
        dcgan_safetensors_free(&sf);
        dcgan_gan_free(&gan);
        free(data);
    }
    fixture_free(&fx);
}

// Every field of the RNG survives a checkpoint, a pending Box-Muller value
// included: the next normal draw after loading is the one the saved run would
// have made.
static void test_checkpoint_rng_spare(void) {
    dcgan_gan_config cfg;
    dcgan_gan a, b;
    small_config(&cfg);
    dcgan_gan_init(&a, &cfg);
    if (!a.rng.has_spare) dcgan_rng_normal(&a.rng);   // leave a spare waiting
    const dcgan_rng saved = a.rng;
    CHECK(saved.has_spare == 1 && dcgan_gan_save(&a, ckpt, NULL, NULL, 0) == DCGAN_OK, "rng spare/saved with a spare");
    cfg.seed = 99;
    dcgan_gan_init(&b, &cfg);
    if (b.rng.has_spare) dcgan_rng_normal(&b.rng);    // the loading gan has none: the file must bring it
    CHECK(dcgan_gan_load(&b, ckpt) == DCGAN_OK && b.rng.state == saved.state && b.rng.inc == saved.inc &&
              b.rng.has_spare == 1 && b.rng.spare == saved.spare,
          "rng spare/state, stream, pending flag and value all restored");
    CHECK(dcgan_rng_normal(&b.rng) == dcgan_rng_normal(&a.rng) && dcgan_rng_normal(&b.rng) == dcgan_rng_normal(&a.rng),
          "rng spare/the next normal draws equal the saved run's");
    dcgan_gan_free(&a);
    dcgan_gan_free(&b);
}

// A stride-2 convolution on one channel takes the direct path for its weight
// gradient and the GEMM for its input gradient. Without work, both allocate:
// the GEMM's scratch first, so when it fails nothing has been added yet; when
// the direct path's fails, the GEMM does everything.
static float *normal_floats(size_t n, uint64_t seed) {
    float *p = (float *)malloc(n * sizeof(float));
    dcgan_rng rng;
    dcgan_rng_seed(&rng, seed);
    dcgan_rng_fill_normal(&rng, p, n, 0.0f, 1.0f);
    return p;
}

static void test_direct_conv_allocation_failure(void) {
    const int N = 2, C = 1, OC = 4, H = 10, K = 3, OH = 5;
    float *x = normal_floats((size_t)N * C * H * H, 1), *w = normal_floats((size_t)OC * C * K * K, 2);
    float *dy = normal_floats((size_t)N * OC * OH * OH, 3), *dx = normal_floats((size_t)N * C * H * H, 4);
    float *dx0 = (float *)malloc((size_t)N * C * H * H * sizeof(float));
    float *dxr = (float *)malloc((size_t)N * C * H * H * sizeof(float));
    float dw[36], dw0[36], dwr[36], db[4] = {1, 2, 3, 4}, db0[4], dbr[4];
    for (int i = 0; i < 36; i++) dw[i] = (float)i / 7.0f;
    memcpy(dx0, dx, (size_t)N * C * H * H * sizeof(float));
    memcpy(dw0, dw, sizeof dw);
    memcpy(db0, db, sizeof db);
    memcpy(dxr, dx, (size_t)N * C * H * H * sizeof(float));
    memcpy(dwr, dw, sizeof dw);
    memcpy(dbr, db, sizeof db);
    dcgan_conv2d conv = {w, NULL, C, OC, K, 2, 1, 1, 1, 1};
    const dcgan_tensor tx = dcgan_tensor_make(x, N, C, H, H), tdy = dcgan_tensor_make(dy, N, OC, OH, OH);
    dcgan_conv2d_backward_ref(dcgan_tensor_make(dxr, N, C, H, H), dwr, dbr, tdy, tx, &conv);
    n_allocs = 0;
    fail_alloc_at = 1;   // the GEMM's scratch
    dcgan_status st = dcgan_conv2d_backward(dcgan_tensor_make(dx, N, C, H, H), dw, db, tdy, tx, &conv, NULL, 0);
    CHECK(st == DCGAN_ERR_NOMEM, "direct conv/a failed allocation gives DCGAN_ERR_NOMEM");
    CHECK(strcmp(dcgan_last_error(), "conv2d_backward: no memory for the im2col buffer") == 0,
          "direct conv/the message names the function and the buffer");
    CHECK(memcmp(dx, dx0, (size_t)N * C * H * H * sizeof(float)) == 0 && memcmp(dw, dw0, sizeof dw) == 0 &&
              memcmp(db, db0, sizeof db) == 0,
          "direct conv/after the failure dinp, dweight and dbias are untouched");
    n_allocs = 0;
    fail_alloc_at = 2;   // the direct path's scratch: the GEMM does all three
    st = dcgan_conv2d_backward(dcgan_tensor_make(dx, N, C, H, H), dw, db, tdy, tx, &conv, NULL, 0);
    fail_alloc_at = -1;
    CHECK(st == DCGAN_OK, "direct conv/without the direct path's scratch the GEMM does the work");
    CHECK_CLOSE(dxr, dx, (size_t)N * C * H * H, 1e-4, 1e-4, "direct conv/dinp (GEMM) equals the reference");
    CHECK_CLOSE(dwr, dw, 36, 1e-4, 1e-4, "direct conv/dweight (GEMM) equals the reference");
    CHECK_CLOSE(dbr, db, 4, 1e-4, 1e-4, "direct conv/dbias (GEMM) equals the reference");
    free(x); free(w); free(dy); free(dx); free(dx0); free(dxr);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--dump-step") == 0) return dump_step_inputs(argv[2]);
    static const test_case tests[] = {
        {"study_parameter_counts", test_study_parameter_counts},
        {"architectures", test_architectures},
        {"arch_table", test_arch_table},
        {"train_steps", test_train_steps},
        {"nonfinite_step_changes_nothing", test_nonfinite_step_changes_nothing},
        {"frozen_g_d_learns", test_frozen_g_d_learns},
        {"no_allocation_in_loop", test_no_allocation_in_loop},
        {"determinism", test_determinism},
        {"threads_do_not_change_results", test_threads_do_not_change_results},
        {"checkpoint_roundtrip_and_resume", test_checkpoint_roundtrip_and_resume},
        {"damaged_checkpoints", test_damaged_checkpoints},
        {"unreadable_metadata_refused", test_unreadable_metadata_refused},
        {"checkpoint_version2", test_checkpoint_version2},
        {"safetensors_hostile_headers", test_safetensors_hostile_headers},
        {"step_against_pytorch", test_step_against_pytorch},
        {"checkpoint_rng_spare", test_checkpoint_rng_spare},
        {"direct_conv_allocation_failure", test_direct_conv_allocation_failure},
    };
    snprintf(ckpt, sizeof ckpt, "build/test_gan_%d.safetensors", (int)getpid());
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    remove(ckpt);
    return rc;
}
