// test_model.c - the sequential container: a model using every layer kind
// against the same torch.nn.Sequential (tests/data/model.bin), state_dict
// names, initialisers, a small training run, and the error paths.
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "fixture.h"

static fixture fx;

// The model of make_reference.py's model_case, layer for layer.
static const dcgan_layer_spec *small_specs(int *count) {
    static dcgan_layer_spec s[12];
    s[0] = dcgan_spec_linear(4 * 3 * 3);
    s[1] = dcgan_spec_leaky_relu(0.2f);
    s[2] = dcgan_spec_reshape(4, 3, 3);
    s[3] = dcgan_spec_conv_transpose2d_same(3, 4, 2);
    s[4] = dcgan_spec_batchnorm2d(1e-5f, 0.1f);
    s[5] = dcgan_spec_relu();
    s[6] = dcgan_spec_upsample(2, DCGAN_UPSAMPLE_BILINEAR);
    s[7] = dcgan_spec_conv2d(2, 3, 2, 1);
    s[8] = dcgan_spec_tanh();
    s[9] = dcgan_spec_flatten();
    s[10] = dcgan_spec_linear(1);
    s[11] = dcgan_spec_sigmoid();
    *count = 12;
    return s;
}

static void test_model_vs_torch(void) {
    dcgan_model m;
    int n_specs;
    const dcgan_layer_spec *specs = small_specs(&n_specs);
    if (!CHECK(dcgan_model_init(&m, "main", specs, n_specs, 6, 1, 1, 8) == DCGAN_OK, "model_init/status"))
        return;
    // copy every named tensor from the fixture, checking names and sizes on the way
    int names_ok = 1;
    for (int i = 0; i < dcgan_model_tensor_count(&m); i++) {
        dcgan_param_info info;
        dcgan_model_tensor_info(&m, i, &info);
        char key[96];
        snprintf(key, sizeof key, "%s", info.name);
        if (info.is_buffer) continue;  // running stats start at 0 and 1 on both sides
        fixture_array *a = fixture_get(&fx, key);
        if (!a || a->count != info.count || a->ndim != info.ndim) {
            names_ok = 0;
            continue;
        }
        for (int d = 0; d < info.ndim; d++) names_ok &= a->dims[d] == info.shape[d];
        memcpy(info.data, a->data, info.count * sizeof(float));
    }
    CHECK(names_ok, "model_tensor_info/names and shapes match torch state_dict");
    CHECK(dcgan_model_tensor_count(&m) == 12, "model_tensor_count/12 named tensors");
    fixture_array *x = fixture_get(&fx, "model.x");
    fixture_array *outa = fixture_get(&fx, "model.out");
    if (!CHECK(x && outa, "model/fixture present")) {
        dcgan_model_free(&m);
        return;
    }
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 1);
    CHECK(dcgan_model_forward(&m, dcgan_tensor_make(x->data, 4, 6, 1, 1), 1, &rng) == DCGAN_OK,
          "model_forward/status");
    dcgan_tensor out = dcgan_model_output(&m);
    CHECK(out.n == 4 && out.c == 1 && out.h == 1 && out.w == 1, "model_output/shape (4,1,1,1)");
    CHECK_CLOSE(outa->data, out.data, outa->count, 1e-5, 1e-4, "model_forward/out vs torch");
    float dx[24] = {0};
    dcgan_model_zero_grad(&m);
    CHECK(dcgan_model_backward(&m, fixture_get(&fx, "model.dout")->data, dx) == DCGAN_OK,
          "model_backward/status");
    CHECK_CLOSE(fixture_get(&fx, "model.dx")->data, dx, 24, 1e-5, 1e-4, "model_backward/dinp vs torch");
    for (int i = 0; i < dcgan_model_tensor_count(&m); i++) {
        dcgan_param_info info;
        char key[96], label[128];
        dcgan_model_tensor_info(&m, i, &info);
        if (info.is_buffer) {
            snprintf(key, sizeof key, "after.%s", info.name);
            snprintf(label, sizeof label, "model_forward/%s updated like torch", info.name);
            CHECK_CLOSE(fixture_get(&fx, key)->data, info.data, info.count, 1e-6, 1e-5, label);
        } else {
            snprintf(key, sizeof key, "grad.%s", info.name);
            snprintf(label, sizeof label, "model_backward/grad %s", info.name);
            CHECK_CLOSE(fixture_get(&fx, key)->data, m.grads + info.offset, info.count, 1e-5, 1e-4,
                        label);
        }
    }
    // the frozen model's backward: the same input gradient, bit for bit, and
    // every parameter gradient left as it was (here: the ones just computed)
    {
        float dx2[24] = {0};
        float *before = (float *)malloc(m.n_params * sizeof(float));
        memcpy(before, m.grads, m.n_params * sizeof(float));
        CHECK(dcgan_model_backward_input(&m, fixture_get(&fx, "model.dout")->data, dx2) == DCGAN_OK &&
                  memcmp(dx, dx2, sizeof dx) == 0,
              "model_backward_input/the same dinp as model_backward");
        CHECK(memcmp(before, m.grads, m.n_params * sizeof(float)) == 0,
              "model_backward_input/parameter gradients untouched");
        CHECK(dcgan_model_backward_input(&m, fixture_get(&fx, "model.dout")->data, NULL) == DCGAN_ERR_SHAPE &&
                  strcmp(dcgan_last_error(), "model_backward_input: model 'main': dinp is NULL (nothing to compute)") == 0,
              "model_backward_input/refuses a NULL dinp with a whole message");
        free(before);
    }
    dcgan_model_free(&m);
    CHECK(m.params == NULL && m.n_layers == 0, "model_free/zeroes the struct");
}

static void test_names(void) {
    dcgan_model m;
    dcgan_layer_spec s[] = {dcgan_spec_conv2d(4, 3, 1, 1), dcgan_spec_batchnorm2d(1e-3f, 0.1f),
                            dcgan_spec_relu()};
    dcgan_param_info info;
    dcgan_model_init(&m, "disc", s, 3, 2, 5, 5, 2);
    const char *expect[] = {"disc.0.weight", "disc.0.bias", "disc.1.weight", "disc.1.bias",
                            "disc.1.running_mean", "disc.1.running_var"};
    int ok = dcgan_model_tensor_count(&m) == 6;
    for (int i = 0; i < 6 && ok; i++) {
        dcgan_model_tensor_info(&m, i, &info);
        ok &= strcmp(info.name, expect[i]) == 0;
    }
    CHECK(ok, "model_tensor_info/state_dict names in order");
    dcgan_model_tensor_info(&m, 0, &info);
    CHECK(info.ndim == 4 && info.shape[0] == 4 && info.shape[1] == 2 && info.shape[2] == 3,
          "model_tensor_info/conv weight shape (OC,C,K,K)");
    CHECK(m.n_params == 4 * 2 * 9 + 4 + 4 + 4, "model_init/parameter count");
    dcgan_param_info kept = info;
    CHECK(dcgan_model_tensor_info(&m, 6, &info) == DCGAN_ERR_SHAPE && strcmp(kept.name, info.name) == 0 &&
              kept.data == info.data && kept.count == info.count && kept.offset == info.offset &&
              kept.ndim == info.ndim && kept.shape[0] == info.shape[0] && kept.is_buffer == info.is_buffer,
          "model_tensor_info/out of range: refused, *info unchanged");
    dcgan_model_free(&m);
}

// Initialisers: bounds and spreads that each rule promises.
static void test_init_modes(void) {
    dcgan_model m;
    dcgan_rng rng;
    dcgan_layer_spec s[] = {dcgan_spec_conv2d(64, 5, 2, 2), dcgan_spec_batchnorm2d(1e-5f, 0.1f),
                            dcgan_spec_conv_transpose2d(32, 4, 2, 1), dcgan_spec_flatten(),
                            dcgan_spec_linear(10)};
    dcgan_rng_seed(&rng, 5);
    dcgan_model_init(&m, "main", s, 5, 16, 8, 8, 2);
    const dcgan_layer *conv = &m.layers[0], *bn = &m.layers[1], *ct = &m.layers[2];
    // Keras: glorot_uniform limit sqrt(6 / (fan_in + fan_out)), zero biases
    dcgan_model_init_weights(&m, DCGAN_INIT_KERAS, &rng);
    float limit = sqrtf(6.0f / (16 * 25 + 64 * 25)), big = 0;
    for (size_t i = 0; i < conv->weight_count; i++)
        if (fabsf(m.params[conv->weight_offset + i]) > big) big = fabsf(m.params[conv->weight_offset + i]);
    CHECK(big <= limit && big > 0.95f * limit, "model_init_weights/keras glorot limit");
    int zero_bias = 1;
    for (size_t i = 0; i < conv->bias_count; i++) zero_bias &= m.params[conv->bias_offset + i] == 0.0f;
    CHECK(zero_bias, "model_init_weights/keras zero bias");
    // PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); ConvTranspose fan_in = OC*K*K
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &rng);
    float bound = 1.0f / sqrtf(32 * 16), bigt = 0;
    for (size_t i = 0; i < ct->weight_count; i++)
        if (fabsf(m.params[ct->weight_offset + i]) > bigt) bigt = fabsf(m.params[ct->weight_offset + i]);
    CHECK(bigt <= bound && bigt > 0.95f * bound, "model_init_weights/pytorch convT bound");
    CHECK(m.params[bn->weight_offset] == 1.0f && m.params[bn->bias_offset] == 0.0f,
          "model_init_weights/pytorch batchnorm 1 and 0");
    // DCGAN: N(0, 0.02) weights, gamma N(1, 0.02)
    dcgan_model_init_weights(&m, DCGAN_INIT_DCGAN, &rng);
    double sq = 0;
    for (size_t i = 0; i < conv->weight_count; i++) sq += (double)m.params[conv->weight_offset + i] * m.params[conv->weight_offset + i];
    double sd = sqrt(sq / (double)conv->weight_count);
    CHECK(fabs(sd - 0.02) < 0.001, "model_init_weights/dcgan std 0.02");
    double gsum = 0;
    for (int i = 0; i < 64; i++) gsum += m.params[bn->weight_offset + i];
    CHECK(fabs(gsum / 64 - 1.0) < 0.01 && m.params[bn->weight_offset] != 1.0f,
          "model_init_weights/dcgan gamma N(1, 0.02)");
    dcgan_model_free(&m);
}

// A tiny discriminator learns to separate two Gaussian blobs: the loss must fall.
static void test_training_smoke(void) {
    dcgan_model d;
    dcgan_rng rng;
    dcgan_adam opt;
    dcgan_layer_spec s[] = {dcgan_spec_conv2d_same(4, 3, 2), dcgan_spec_leaky_relu(0.2f),
                            dcgan_spec_flatten(), dcgan_spec_dropout(0.2f), dcgan_spec_linear(1)};
    float x[16 * 16], y[16], dl[16], loss = 0, first = 0;
    dcgan_rng_seed(&rng, 11);
    dcgan_model_init(&d, "main", s, 5, 1, 4, 4, 16);
    dcgan_model_init_weights(&d, DCGAN_INIT_KERAS, &rng);
    dcgan_adam_init(&opt, DCGAN_ADAM_KERAS, 1e-2, 0.5, 0.999);
    int finite = 1;
    for (int it = 0; it < 60; it++) {
        for (int n = 0; n < 16; n++) {
            y[n] = (float)(n & 1);
            for (int k = 0; k < 16; k++) x[n * 16 + k] = dcgan_rng_normal(&rng) + (n & 1 ? 1.0f : -1.0f);
        }
        dcgan_model_zero_grad(&d);
        dcgan_model_forward(&d, dcgan_tensor_make(x, 16, 1, 4, 4), 1, &rng);
        finite &= dcgan_bce_with_logits(&loss, dl, dcgan_model_output(&d).data, y, 16) == DCGAN_OK;
        dcgan_model_backward(&d, dl, NULL);
        finite &= dcgan_model_adam_step(&d, &opt) == DCGAN_OK;
        if (it == 0) first = loss;
    }
    CHECK(finite, "training/loss and steps stay finite");
    CHECK(loss < 0.5f * first, "training/loss falls by half in 60 steps");
    dcgan_model_free(&d);
}

static void test_model_errors(void) {
    dcgan_model m;
    dcgan_layer_spec bad[] = {dcgan_spec_conv2d(4, 7, 1, 0)};
    dcgan_status st = dcgan_model_init(&m, "main", bad, 1, 1, 5, 5, 2);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "layer 0"), "model_init/kernel larger than input");
    CHECK(m.layers == NULL, "model_init/zeroed after failure");
    dcgan_layer_spec rs[] = {dcgan_spec_reshape(3, 3, 3)};
    st = dcgan_model_init(&m, "main", rs, 1, 1, 5, 5, 2);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "reshape"), "model_init/bad reshape");
    dcgan_layer_spec ok[] = {dcgan_spec_linear(3), dcgan_spec_dropout(0.5f)};
    dcgan_model_init(&m, "main", ok, 2, 1, 2, 2, 4);
    float x[5 * 4] = {0}, dl[3] = {0};
    CHECK(dcgan_model_backward(&m, dl, NULL) == DCGAN_ERR_SHAPE, "model_backward/before forward");
    st = dcgan_model_forward(&m, dcgan_tensor_make(x, 5, 1, 2, 2), 0, NULL);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "up to 4"), "model_forward/batch too big");
    st = dcgan_model_forward(&m, dcgan_tensor_make(x, 2, 1, 3, 1), 0, NULL);
    CHECK(st == DCGAN_ERR_SHAPE, "model_forward/wrong sample shape");
    st = dcgan_model_forward(&m, dcgan_tensor_make(x, 2, 1, 2, 2), 1, NULL);
    CHECK(st == DCGAN_ERR_SHAPE && strstr(dcgan_last_error(), "rng"), "model_forward/dropout needs rng");
    m.grads[0] = NAN;
    float p0 = m.params[0];
    dcgan_adam opt;
    dcgan_adam_init(&opt, DCGAN_ADAM_PYTORCH, 0.1, 0.5, 0.999);
    st = dcgan_model_adam_step(&m, &opt);
    CHECK(st == DCGAN_ERR_NONFINITE && strstr(dcgan_last_error(), "model 'main'"),
          "model_adam_step/NaN refused with model name");
    char want[256];
    snprintf(want, sizeof want, "model_adam_step: model 'main': adam_step: gradient 0 of %zu is nan "
             "(1 are not finite or above 1e19, where Adam's v overflows); step 1 refused, nothing changed",
             m.n_params);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "model_adam_step/NaN: the whole message, not garbled");
    CHECK(m.params[0] == p0 && m.adam_m[1] == 0.0f, "model_adam_step/params unchanged");
    dcgan_model_free(&m);
}

// A folder given where a file is expected: every file reader says so. On Linux a
// folder opens, and its "size" (LONG_MAX) was then asked for as memory: "no
// memory to read 'tests/data' (9223372036854775807 bytes)" (a helper's audit of
// generate, whose --checkpoint took a run's folder).
static void test_folder_is_not_a_file(void) {
    const char *dir = "tests/data";
    char want[300];
    dcgan_safetensors st;
    CHECK(dcgan_safetensors_read(&st, dir) == DCGAN_ERR_IO, "safetensors_read/a folder: IO");
    snprintf(want, sizeof want, "safetensors_read: cannot read '%s': Is a directory", dir);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "safetensors_read/a folder: 'Is a directory', whole message");
    dcgan_state_dict sd;
    CHECK(dcgan_state_dict_load(&sd, dir) == DCGAN_ERR_IO, "state_dict_load/a folder: IO");
    snprintf(want, sizeof want, "state_dict_load: cannot read '%s': Is a directory", dir);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "state_dict_load/a folder: whole message");
    dcgan_fid_stats fs;
    CHECK(dcgan_fid_stats_load_npz(&fs, dir) == DCGAN_ERR_IO, "fid_stats_load_npz/a folder: IO");
    snprintf(want, sizeof want, "fid_stats_load_npz: cannot read '%s': Is a directory", dir);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "fid_stats_load_npz/a folder: whole message");
    double *f = NULL;
    int64_t n = 0;
    int dims = 0;
    CHECK(dcgan_features_load_npy(&f, &n, &dims, dir) == DCGAN_ERR_IO && f == NULL,
          "features_load_npy/a folder: IO, nothing returned");
    snprintf(want, sizeof want, "features_load_npy: cannot read '%s': Is a directory", dir);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "features_load_npy/a folder: whole message");
    // an empty file still reads (as 0 bytes, refused later by each format's own check)
    FILE *e = fopen("build/empty_file_for_test_model", "wb");
    if (e) fclose(e);
    CHECK(dcgan_safetensors_read(&st, "build/empty_file_for_test_model") == DCGAN_ERR_FORMAT,
          "safetensors_read/an empty file: FORMAT, not IO");
    remove("build/empty_file_for_test_model");
}

// A training pass that a later layer refuses changes nothing: the refusal
// comes before any layer runs, so BatchNorm's running statistics (which its
// forward moves in training) stay, and the whole message names the layer.
static void test_forward_refusal_changes_nothing(void) {
    dcgan_layer_spec a[] = {dcgan_spec_conv2d(4, 3, 1, 1), dcgan_spec_batchnorm2d(1e-5f, 0.1f), dcgan_spec_relu(),
                            dcgan_spec_dropout(0.5f)};
    // 4x4 -> 1x1 before the second BatchNorm: one value per channel at batch 1
    dcgan_layer_spec b[] = {dcgan_spec_conv2d(4, 3, 1, 1), dcgan_spec_batchnorm2d(1e-5f, 0.1f), dcgan_spec_relu(),
                            dcgan_spec_conv2d(2, 4, 1, 0), dcgan_spec_batchnorm2d(1e-5f, 0.1f)};
    dcgan_model ma, mb;
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 5);
    float x[2 * 4 * 4], stats[32];
    for (int i = 0; i < 2 * 4 * 4; i++) x[i] = (float)(i % 7) - 3.0f;
    if (!CHECK(dcgan_model_init(&ma, "main", a, 4, 1, 4, 4, 2) == DCGAN_OK &&
                   dcgan_model_init(&mb, "main", b, 5, 1, 4, 4, 2) == DCGAN_OK && ma.n_buffers == 8 &&
                   mb.n_buffers == 12,
               "model_forward/refusals: two models with BatchNorm"))
        return;
    dcgan_model_init_weights(&ma, DCGAN_INIT_PYTORCH, &rng);
    dcgan_model_init_weights(&mb, DCGAN_INIT_PYTORCH, &rng);
    memcpy(stats, ma.buffers, 8 * sizeof(float));
    dcgan_status st = dcgan_model_forward(&ma, dcgan_tensor_make(x, 2, 1, 4, 4), 1, NULL);
    CHECK(st == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), "model_forward: layer 3: dropout in training needs an rng") == 0 &&
              memcmp(stats, ma.buffers, 8 * sizeof(float)) == 0,
          "model_forward/dropout without an rng: refused before BatchNorm's statistics move");
    memcpy(stats, mb.buffers, 12 * sizeof(float));
    st = dcgan_model_forward(&mb, dcgan_tensor_make(x, 1, 1, 4, 4), 1, &rng);
    CHECK(st == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(),
                     "model_forward: layer 4: batchnorm2d in training needs more than 1 value per channel, got 1") == 0 &&
              memcmp(stats, mb.buffers, 12 * sizeof(float)) == 0,
          "model_forward/one value per channel at a later BatchNorm: refused before the first one moves");
    CHECK(dcgan_model_forward(&mb, dcgan_tensor_make(x, 2, 1, 4, 4), 1, &rng) == DCGAN_OK &&
              memcmp(stats, mb.buffers, 12 * sizeof(float)) != 0 &&
              dcgan_model_forward(&mb, dcgan_tensor_make(x, 1, 1, 4, 4), 0, NULL) == DCGAN_OK,
          "model_forward/batch 2 trains (the statistics move); batch 1 evaluates");
    dcgan_model_free(&ma);
    dcgan_model_free(&mb);
}

// A model with a Gaussian noise layer: refused with a negative stddev (the
// whole message), needs an rng in training, the identity in eval, no
// parameters or checkpoint tensors; in place after a convolution (and tanh after it), and the
// model's input gradient through it is that of the model without it.
static void test_gaussian_noise_layer(void) {
    dcgan_model m;
    dcgan_layer_spec bad[] = {dcgan_spec_linear(2), dcgan_spec_gaussian_noise(-0.1f)};
    CHECK(dcgan_model_init(&m, "main", bad, 2, 1, 2, 2, 2) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_init: layer 1: gaussian_noise stddev=-0.1 is not finite and >= 0") == 0,
          "gaussian_noise_layer/negative stddev: the whole message");
    dcgan_layer_spec s[] = {dcgan_spec_conv2d(3, 3, 1, 1), dcgan_spec_gaussian_noise(0.2f), dcgan_spec_tanh(),
                            dcgan_spec_flatten(), dcgan_spec_linear(1)};
    dcgan_layer_spec plain[] = {dcgan_spec_conv2d(3, 3, 1, 1), dcgan_spec_tanh(), dcgan_spec_flatten(),
                                dcgan_spec_linear(1)};
    dcgan_model q;
    dcgan_rng r1, r2;
    dcgan_rng_seed(&r1, 5);
    dcgan_rng_seed(&r2, 5);
    int ok = dcgan_model_init(&m, "main", s, 5, 2, 4, 4, 3) == DCGAN_OK &&
             dcgan_model_init(&q, "main", plain, 4, 2, 4, 4, 3) == DCGAN_OK;
    CHECK(ok, "gaussian_noise_layer/builds");
    if (!ok) return;
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &r1);
    dcgan_model_init_weights(&q, DCGAN_INIT_PYTORCH, &r2);
    CHECK(m.n_params == q.n_params && memcmp(m.params, q.params, m.n_params * sizeof(float)) == 0 &&
              dcgan_model_tensor_count(&m) == dcgan_model_tensor_count(&q),
          "gaussian_noise_layer/no parameters, no checkpoint tensors, the same initial weights");
    CHECK(m.slot_offset[2] == m.slot_offset[1] && m.slot_offset[3] == m.slot_offset[2],
          "gaussian_noise_layer/in place after a conv, and tanh in place after it (its backward reads neither)");
    float x[3 * 2 * 4 * 4], dl[3] = {0.3f, -0.2f, 0.5f}, gm[3 * 2 * 4 * 4] = {0}, gq[3 * 2 * 4 * 4] = {0};
    for (int i = 0; i < 3 * 2 * 4 * 4; i++) x[i] = (float)((i * 7919) % 61) / 30.0f - 1.0f;
    dcgan_status st = dcgan_model_forward(&m, dcgan_tensor_make(x, 3, 2, 4, 4), 1, NULL);
    CHECK(st == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_forward: layer 1: gaussian_noise in training needs an rng") == 0,
          "gaussian_noise_layer/training without an rng: the whole message");
    dcgan_model_forward(&m, dcgan_tensor_make(x, 3, 2, 4, 4), 0, NULL);
    dcgan_model_forward(&q, dcgan_tensor_make(x, 3, 2, 4, 4), 0, NULL);
    CHECK(memcmp(dcgan_model_output(&m).data, dcgan_model_output(&q).data, 3 * sizeof(float)) == 0,
          "gaussian_noise_layer/eval: the model without it, bit for bit");
    dcgan_model_forward(&m, dcgan_tensor_make(x, 3, 2, 4, 4), 1, &r1);
    CHECK(memcmp(dcgan_model_output(&m).data, dcgan_model_output(&q).data, 3 * sizeof(float)) != 0,
          "gaussian_noise_layer/training: the noise changes the output");
    dcgan_model_forward(&m, dcgan_tensor_make(x, 3, 2, 4, 4), 0, NULL);
    dcgan_model_backward(&m, dl, gm);
    dcgan_model_backward(&q, dl, gq);
    CHECK(memcmp(gm, gq, sizeof gm) == 0 && memcmp(m.grads, q.grads, m.n_params * sizeof(float)) == 0,
          "gaussian_noise_layer/backward: the gradients of the model without it, bit for bit");
    dcgan_model_free(&m);
    dcgan_model_free(&q);
}

// Which layers share their input's slot (dcgan__in_place): in the small model
// (whose outputs and gradients test_model_vs_torch checks) leaky after linear,
// both reshapes, relu after BatchNorm, tanh after conv, sigmoid after linear;
// never the first layer, an activation after a reshape or another activation,
// dropout, or LeakyReLU with a negative slope.
static void test_in_place_slots(void) {
    int count;
    const dcgan_layer_spec *s = small_specs(&count);
    dcgan_model m;
    // slot i + 1 (layer i's output) shares slot i's memory where shared[i] is 1
    const int shared[12] = {0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1};
    int ok = dcgan_model_init(&m, "main", s, count, 6, 1, 1, 3) == DCGAN_OK;
    for (int i = 0; ok && i < count; i++)
        ok = (m.slot_offset[i + 1] == m.slot_offset[i]) == shared[i];
    dcgan_model_free(&m);
    CHECK(ok, "in_place/small model: leaky, reshapes, relu, tanh, sigmoid share their input's slot");
    dcgan_layer_spec t[6] = {dcgan_spec_relu(), dcgan_spec_conv2d(2, 3, 1, 1), dcgan_spec_leaky_relu(-0.5f),
                             dcgan_spec_tanh(), dcgan_spec_flatten(), dcgan_spec_dropout(0.5f)};
    ok = dcgan_model_init(&m, "main", t, 6, 1, 4, 4, 2) == DCGAN_OK;
    for (int i = 0; ok && i < 6; i++)
        ok = (m.slot_offset[i + 1] == m.slot_offset[i]) == (i == 4);   // only the flatten
    CHECK(ok, "in_place/not: first layer, negative slope, after an activation, dropout");
    dcgan_model_free(&m);
}

// BatchNorm and the ReLU or LeakyReLU after it run as one pass in a model
// (dcgan__bn_act_fused). The same layers cut into three models, where no
// BatchNorm has its activation in the same model, run them one by one: the
// outputs, running statistics and gradients must be the same bits, in
// training and in eval, with and without parameter gradients.
static void test_bn_act_fused(void) {
    const dcgan_layer_spec whole[9] = {dcgan_spec_conv2d(4, 3, 1, 1), dcgan_spec_batchnorm2d(1e-5f, 0.1f),
                                       dcgan_spec_leaky_relu(0.2f), dcgan_spec_conv2d(3, 3, 2, 1),
                                       dcgan_spec_batchnorm2d(1e-5f, 0.1f), dcgan_spec_relu(),
                                       dcgan_spec_flatten(), dcgan_spec_linear(2), dcgan_spec_tanh()};
    const int cut[4] = {0, 2, 5, 9};   // parts: layers 0-1, 2-4, 5-8
    dcgan_model m, part[3];
    dcgan_rng r;
    dcgan_rng_seed(&r, 11);
    const int N = 3, C = 2, H = 6, W = 6;
    int ok = dcgan_model_init(&m, "main", whole, 9, C, H, W, N) == DCGAN_OK;
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &r);
    int in_c = C, in_h = H, in_w = W;
    for (int k = 0; k < 3; k++) {
        ok = ok && dcgan_model_init(&part[k], "main", whole + cut[k], cut[k + 1] - cut[k], in_c, in_h, in_w, N) ==
                       DCGAN_OK;
        if (!ok) break;
        for (int i = cut[k]; i < cut[k + 1]; i++) {   // the whole model's weights and statistics
            const dcgan_layer *A = &m.layers[i], *B = &part[k].layers[i - cut[k]];
            memcpy(part[k].params + B->weight_offset, m.params + A->weight_offset, A->weight_count * sizeof(float));
            memcpy(part[k].params + B->bias_offset, m.params + A->bias_offset, A->bias_count * sizeof(float));
            memcpy(part[k].buffers + B->stats_offset, m.buffers + A->stats_offset, A->stats_count * sizeof(float));
        }
        const dcgan_layer *last = &m.layers[cut[k + 1] - 1];
        in_c = last->out_c, in_h = last->out_h, in_w = last->out_w;
    }
    if (!CHECK(ok, "bn_act_fused/init")) return;
    float x[3 * 2 * 6 * 6], dl[3 * 2], dx_m[3 * 2 * 6 * 6], dx_p[3 * 2 * 6 * 6];
    float d1[3 * 4 * 6 * 6], d2[3 * 3 * 3 * 3];
    dcgan_rng_fill_uniform(&r, x, sizeof x / sizeof x[0], -1.0f, 1.0f);
    dcgan_rng_fill_uniform(&r, dl, sizeof dl / sizeof dl[0], -1.0f, 1.0f);
    for (int mode = 0; mode < 3; mode++) {   // 0: training, 1: eval, 2: training without parameter gradients
        const int training = mode != 1;
        memset(dx_m, 0, sizeof dx_m), memset(dx_p, 0, sizeof dx_p), memset(d1, 0, sizeof d1),
            memset(d2, 0, sizeof d2);
        dcgan_model_zero_grad(&m);
        for (int k = 0; k < 3; k++) dcgan_model_zero_grad(&part[k]);
        ok = dcgan_model_forward(&m, dcgan_tensor_make(x, N, C, H, W), training, &r) == DCGAN_OK &&
             dcgan_model_forward(&part[0], dcgan_tensor_make(x, N, C, H, W), training, &r) == DCGAN_OK &&
             dcgan_model_forward(&part[1], dcgan_model_output(&part[0]), training, &r) == DCGAN_OK &&
             dcgan_model_forward(&part[2], dcgan_model_output(&part[1]), training, &r) == DCGAN_OK;
        if (mode == 2)
            ok = ok && dcgan_model_backward_input(&m, dl, dx_m) == DCGAN_OK &&
                 dcgan_model_backward_input(&part[2], dl, d2) == DCGAN_OK &&
                 dcgan_model_backward_input(&part[1], d2, d1) == DCGAN_OK &&
                 dcgan_model_backward_input(&part[0], d1, dx_p) == DCGAN_OK;
        else
            ok = ok && dcgan_model_backward(&m, dl, dx_m) == DCGAN_OK &&
                 dcgan_model_backward(&part[2], dl, d2) == DCGAN_OK &&
                 dcgan_model_backward(&part[1], d2, d1) == DCGAN_OK &&
                 dcgan_model_backward(&part[0], d1, dx_p) == DCGAN_OK;
        int same = ok && memcmp(dcgan_model_output(&m).data, dcgan_model_output(&part[2]).data,
                                (size_t)N * 2 * sizeof(float)) == 0 &&
                   memcmp(dx_m, dx_p, sizeof dx_m) == 0;
        for (int k = 0; same && k < 3; k++)
            for (int i = cut[k]; same && i < cut[k + 1]; i++) {
                const dcgan_layer *A = &m.layers[i], *B = &part[k].layers[i - cut[k]];
                same = memcmp(part[k].grads + B->weight_offset, m.grads + A->weight_offset,
                              A->weight_count * sizeof(float)) == 0 &&
                       memcmp(part[k].grads + B->bias_offset, m.grads + A->bias_offset,
                              A->bias_count * sizeof(float)) == 0 &&
                       memcmp(part[k].buffers + B->stats_offset, m.buffers + A->stats_offset,
                              A->stats_count * sizeof(float)) == 0;
            }
        static const char *labels[3] = {"bn_act_fused/training: the layers one by one, bit for bit",
                                        "bn_act_fused/eval: the layers one by one, bit for bit",
                                        "bn_act_fused/input gradient only: the layers one by one, bit for bit"};
        CHECK(same, labels[mode]);
    }
    // the gradients were not all zero (a pass that wrote nothing would compare equal)
    double norm = 0.0;
    for (size_t i = 0; i < sizeof dx_m / sizeof dx_m[0]; i++) norm += fabs(dx_m[i]);
    CHECK(norm > 1e-3, "bn_act_fused/the input gradient is not zero");
    dcgan_model_free(&m);
    for (int k = 0; k < 3; k++) dcgan_model_free(&part[k]);
}

// dcgan_model_bytes adds up exactly what dcgan_model_init allocates.
static void test_model_bytes(void) {
    int count;
    const dcgan_layer_spec *s = small_specs(&count);
    dcgan_model m;
    size_t bytes = 0;
    CHECK(dcgan_model_init(&m, "main", s, count, 3, 2, 2, 5) == DCGAN_OK &&
          dcgan_model_bytes(&bytes, s, count, 3, 2, 2, 5) == DCGAN_OK, "model_bytes/ok");
    size_t floats = 4 * m.n_params + m.n_buffers + m.slot_offset[m.n_layers + 1] + 2 * m.dslot +
                    m.n_saved + m.n_work;
    size_t want = floats * sizeof(float) + (size_t)count * sizeof(dcgan_layer) +
                  ((size_t)count + 2) * sizeof(size_t);
    CHECK(bytes == want, "model_bytes/equals the buffers of an initialised model");
    dcgan_gan_config cfg;
    dcgan_gan_config_default(&cfg);   // the study's setting: 3.78 GiB (6.80 before activations in
                                      // place and G and D sharing their gradient scratch)
    CHECK(dcgan_gan_bytes(&bytes, &cfg) == DCGAN_OK && bytes > ((size_t)7 << 29) && bytes < ((size_t)4 << 30),
          "gan_bytes/the study's setting needs 3.5 to 4 GiB");
    // a small GAN: gan_bytes adds up what gan_init allocates, G and D sharing one dacts
    dcgan_gan gan;
    cfg.size = 64;
    cfg.channels = 1;
    cfg.width = 0.0625f;
    cfg.batch = 4;
    if (CHECK(dcgan_gan_init(&gan, &cfg) == DCGAN_OK && dcgan_gan_bytes(&bytes, &cfg) == DCGAN_OK,
              "gan_bytes/small GAN ok")) {
        const dcgan_model *ms[2] = {&gan.g, &gan.d};
        // the batch buffers, and the step's copy of both models' running statistics (+1)
        size_t f = (size_t)cfg.batch * ((size_t)cfg.latent + 2 * 64 * 64 + 2) + gan.g.n_buffers + gan.d.n_buffers + 1,
               other = (size_t)cfg.batch * sizeof(int);   // real_index
        for (int k = 0; k < 2; k++) {
            const dcgan_model *q = ms[k];
            f += 4 * q->n_params + q->n_buffers + q->slot_offset[q->n_layers + 1] + q->n_saved + q->n_work +
                 (q->dacts_borrowed ? 0 : q->n_dacts);
            other += (size_t)q->n_layers * sizeof(dcgan_layer) + ((size_t)q->n_layers + 2) * sizeof(size_t);
        }
        const size_t most = gan.g.dslot > gan.d.dslot ? gan.g.dslot : gan.d.dslot;
        CHECK(bytes == f * sizeof(float) + other, "gan_bytes/equals the buffers of an initialised GAN");
        CHECK(gan.d.dacts == gan.g.dacts && gan.d.dacts_borrowed && !gan.g.dacts_borrowed &&
              gan.g.n_dacts == 2 * most, "gan_init/D borrows G's dacts, sized for the larger");
        CHECK(dcgan_model_share_dacts(&gan.g, &gan.d) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_share_dacts: models 'G.main' and 'D.main': one of them "
                     "already shares its dacts (or they are the same model)") == 0,
              "model_share_dacts/twice refused, whole message");
        dcgan_gan_free(&gan);
    }
    CHECK(dcgan_model_bytes(&bytes, s, count, 3, 2, 2, 0) == DCGAN_ERR_SHAPE, "model_bytes/bad batch refused");
    dcgan_model_free(&m);
}

// Shapes whose sizes pass what an int or a size_t holds are refused by the
// plan, whole messages (a helper's audit of the public API: an upsample's
// activations wrapped to 0 floats, model_init said OK and the forward pass
// wrote past its buffer; 2^60 weights were counted as 64 GiB), and so is an
// input whose int product of sides wraps onto the model's.
static void test_sizes_past_int_and_size_t(void) {
    dcgan_model m;
    size_t bytes = 12345;
    dcgan_layer_spec up[] = {dcgan_spec_upsample(1 << 24, DCGAN_UPSAMPLE_NEAREST)};
    const char *want_up = "model_bytes: layer 0 (output 65536x16777216x16777216, batch 1): the model's buffers up to "
                          "here need more than 2.88e+17 floats";
    CHECK(dcgan_model_bytes(&bytes, up, 1, 65536, 1, 1, 1) == DCGAN_ERR_NOMEM && bytes == 12345 &&
              strcmp(dcgan_last_error(), want_up) == 0,
          "sizes/model_bytes: activations past size_t are refused, bytes untouched");
    CHECK(dcgan_model_init(&m, "main", up, 1, 65536, 1, 1, 1) == DCGAN_ERR_NOMEM &&
              strcmp(dcgan_last_error(), "model_init: layer 0 (output 65536x16777216x16777216, batch 1): the model's "
                                         "buffers up to here need more than 2.88e+17 floats") == 0 && m.layers == NULL,
          "sizes/model_init: the same refusal, nothing allocated");
    dcgan_layer_spec wide[] = {dcgan_spec_linear(1 << 30), dcgan_spec_linear(1 << 30)};
    CHECK(dcgan_model_bytes(&bytes, wide, 2, 1, 1, 1, 1) == DCGAN_ERR_NOMEM &&
              strcmp(dcgan_last_error(), "model_bytes: layer 1 (output 1073741824x1x1, batch 1): the model's "
                                         "buffers up to here need more than 2.88e+17 floats") == 0,
          "sizes/2^60 weights are refused (were counted as 64 GiB)");
    CHECK(dcgan_model_bytes(&bytes, wide, 1, 1 << 30, 1 << 30, 1 << 30, 1) == DCGAN_ERR_NOMEM &&
              strcmp(dcgan_last_error(), "model_bytes: the input (1073741824x1073741824x1073741824, batch 1) needs "
                                         "more than 2.88e+17 floats") == 0,
          "sizes/an input past size_t is refused before a plan multiplies its sides");
    dcgan_layer_spec big_up[] = {dcgan_spec_upsample(1 << 30, DCGAN_UPSAMPLE_NEAREST)};
    CHECK(dcgan_model_init(&m, "main", big_up, 1, 1, 4, 4, 1) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_init: layer 0: upsample by 1073741824 makes 4x4 a side above "
                                         "INT_MAX") == 0,
          "sizes/an upsample past INT_MAX per side");
    dcgan_layer_spec flat[] = {dcgan_spec_flatten()};
    CHECK(dcgan_model_bytes(&bytes, flat, 1, 1, 65536, 65536, 1) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_bytes: layer 0: flatten makes 4294967296 features of 1x65536x65536, "
                                         "more than INT_MAX") == 0,
          "sizes/a flatten past INT_MAX features");
    dcgan_layer_spec padded = dcgan_spec_conv2d(1, 1, 1, 1 << 30);
    CHECK(dcgan_model_bytes(&bytes, &padded, 1, 1, 4, 4, 1) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_bytes: layer 0: input 4x4 gives an output of 2147483652x2147483652, "
                                         "a side above INT_MAX") == 0,
          "sizes/a convolution whose padded side passes INT_MAX");
    dcgan_layer_spec small[] = {dcgan_spec_flatten(), dcgan_spec_linear(1)};
    static float x[48];
    if (dcgan_model_init(&m, "m", small, 2, 3, 4, 4, 1) != DCGAN_OK) {
        CHECK(0, "sizes/a small model builds");
        return;
    }
    CHECK(dcgan_model_forward(&m, dcgan_tensor_make(x, 1, 3, 4, (1 << 30) + 4), 0, NULL) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "model_forward: inp is (1,3,4,1073741828), model 'm' takes up to 1 x "
                                         "(3,4,4)") == 0,
          "sizes/model_forward: an input whose int product wraps to 48 is refused");
    CHECK(dcgan_model_forward(&m, dcgan_tensor_make(x, 1, 103, 97841738, 1830451976), 0, NULL) == DCGAN_ERR_SHAPE,
          "sizes/model_forward: an input whose size_t product wraps to 2^64 + 48 is refused too");
    CHECK(dcgan_model_forward(&m, dcgan_tensor_make(x, 1, 1, 48, 1), 0, NULL) == DCGAN_OK,
          "sizes/model_forward: any (C, H, W) with 48 values per image still passes");
    dcgan_model_free(&m);
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"model_vs_torch", test_model_vs_torch},
        {"names", test_names},
        {"init_modes", test_init_modes},
        {"training_smoke", test_training_smoke},
        {"model_errors", test_model_errors},
        {"folder_is_not_a_file", test_folder_is_not_a_file},
        {"forward_refusal_changes_nothing", test_forward_refusal_changes_nothing},
        {"model_bytes", test_model_bytes},
        {"sizes_past_int_and_size_t", test_sizes_past_int_and_size_t},
        {"in_place_slots", test_in_place_slots},
        {"gaussian_noise_layer", test_gaussian_noise_layer},
        {"bn_act_fused", test_bn_act_fused},
    };
    if (!fixture_load(&fx, "tests/data/model.bin")) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    fixture_free(&fx);
    return rc;
}
