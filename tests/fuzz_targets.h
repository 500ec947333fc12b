// fuzz_targets.h - feeds untrusted bytes to each reader of dcgan.h. Used by the
// libFuzzer driver (tests/fuzz.c, `make fuzz`) and by the corpus replay that
// `make test` runs (tests/test_corpus.c). The readers take paths, so the bytes
// go through a scratch file. Every call must return (any status), never crash.
#ifndef FUZZ_TARGETS_H
#define FUZZ_TARGETS_H
#include <stdio.h>
#include <string.h>
#include "../examples/classify_state.h"
#include "../examples/rate_csv.h"

static const char *const fuzz_target_names[] = {"safetensors", "pth", "npz", "cache", "image", "model", "resume", "npy", "answers"};
#define FUZZ_TARGETS 9

// The model that target 5 loads files into: a tiny classifier of the shape
// examples/classify.c builds (conv, BatchNorm, LeakyReLU, flatten, linear).
static dcgan_model *fuzz_model(void) {
    static dcgan_model m;
    static int ready = 0;
    if (!ready) {
        dcgan_layer_spec s[5] = {dcgan_spec_conv2d(2, 3, 2, 1), dcgan_spec_batchnorm2d(1e-5f, 0.1f),
                                 dcgan_spec_leaky_relu(0.2f), dcgan_spec_flatten(), dcgan_spec_linear(1)};
        if (dcgan_model_init(&m, "cnn", s, 5, 1, 8, 8, 2) != DCGAN_OK) return NULL;
        ready = 1;
    }
    return &m;
}

// What target 6 expects of a classify train resume file: fuzz_model(), 3
// epochs of 2 steps over 4 images, and one setting, batch = 2.
static const char *const fuzz_resume_keys[1] = {"batch"}, *const fuzz_resume_values[1] = {"2"},
                         *const fuzz_resume_flags[1] = {"--batch"};
static const classify_expect fuzz_resume_expect = {3, 2, 4, 4, 1, fuzz_resume_keys, fuzz_resume_values,
                                                   fuzz_resume_flags};

// Loads a resume file into fuzz_model() and scratch arrays; 0 when it loaded.
// why gets the message otherwise.
static int fuzz_resume_load(const char *path, classify_position *pos, char *why, size_t cap) {
    dcgan_model *m = fuzz_model();
    if (!m) return -1;
    float *bp = (float *)malloc(m->n_params * sizeof(float)), *bb = (float *)malloc(m->n_buffers * sizeof(float));
    float hist[3 * CLASSIFY_HISTORY_COLS];
    int order[4];
    int rc = bp && bb ? classify_state_load(path, m, pos, bp, bb, hist, order, &fuzz_resume_expect, why, cap) : -1;
    free(bp);
    free(bb);
    return rc;
}

static int fuzz_write(const char *path, const unsigned char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    fclose(f);
    return w == n;
}

// Notes the first reader's status and message; whether it loaded.
static int fuzz_first(dcgan_status st, int *rc, char *why, size_t cap) {
    *rc = st != DCGAN_OK;
    snprintf(why, cap, "%s", *rc ? dcgan_last_error() : "");
    return !*rc;
}

// Runs one input through reader `target` (an index into fuzz_target_names).
// Returns 0 when the target's first reader accepted the input, else 1 with
// that reader's message in why; the other readers only have to return.
static int fuzz_one(int target, const unsigned char *data, size_t n, const char *scratch_dir, char *why,
                    size_t why_cap) {
    char path[512];
    int rc = 1;
    snprintf(path, sizeof path, "%s/input.%s", scratch_dir,
             target == 4 ? "png" : target == 2 ? "npz" : target == 7 ? "npy" : "bin");
    why[0] = '\0';
    if (!fuzz_write(path, data, n)) {
        snprintf(why, why_cap, "cannot write %s", path);
        return 1;
    }
#define FUZZ_FIRST(st) fuzz_first((st), &rc, why, why_cap)
    switch (target) {
    case 0: {   // safetensors, then as a state_dict
        dcgan_safetensors st;
        dcgan_state_dict sd;
        if (FUZZ_FIRST(dcgan_safetensors_read(&st, path))) dcgan_safetensors_free(&st);
        if (dcgan_state_dict_load(&sd, path) == DCGAN_OK) dcgan_state_dict_free(&sd);
        break;
    }
    case 1: {   // torch.save, legacy or zip
        dcgan_state_dict sd;
        if (FUZZ_FIRST(dcgan_state_dict_load(&sd, path))) dcgan_state_dict_free(&sd);
        break;
    }
    case 2: {   // pytorch-fid statistics
        dcgan_fid_stats st;
        if (FUZZ_FIRST(dcgan_fid_stats_load_npz(&st, path))) dcgan_fid_stats_free(&st);
        break;
    }
    case 3: {   // the dataset cache, against an empty folder
        dcgan_dataset ds;
        dcgan_image_options opt;
        char dir[512];
        dcgan_image_options_default(&opt);
        opt.size = 8;
        opt.channels = 1;
        snprintf(dir, sizeof dir, "%s/empty", scratch_dir);
        if (FUZZ_FIRST(dcgan_dataset_cache_load(&ds, path, dir, &opt))) dcgan_dataset_free(&ds);
        break;
    }
    case 5: {   // a single-model checkpoint (dcgan_model_save's format), into fuzz_model()
        dcgan_model *m = fuzz_model();
        if (m) FUZZ_FIRST(dcgan_model_load(m, path));
        break;
    }
    case 6: {   // a classify train resume file (examples/classify_state.h), into fuzz_model()
        classify_position pos;
        rc = fuzz_resume_load(path, &pos, why, why_cap) != 0;
        break;
    }
    case 7: {   // a feature file (dcgan_features_load_npy)
        double *f = NULL;
        int64_t rows;
        int dims;
        if (FUZZ_FIRST(dcgan_features_load_npy(&f, &rows, &dims, path))) dcgan_free(f);
        break;
    }
    case 8: {   // rate score's files: the bytes as a rater's answers to a fixed key, then as a key
        static const key_item key[3] = {{"aaaaaaaaaa", 0}, {"bbbbbbbbbb", 1}, {"cccccccccc", 1}};
        rater r;
        key_item *k = NULL;
        int nk = 0;
        memset(&r, 0, sizeof r);
        rate_csv_quiet = 1;
        rc = read_answers(path, key, 3, &r) != 0;
        if (rc) snprintf(why, why_cap, "%s", rate_csv_last);
        rater_free(&r);
        if (read_key(path, &k, &nk) == 0) free(k);
        break;
    }
    default: {  // the image wrapper: size limit, channel conversion, resize
        // JPEGs too: Debian's stb_image crashes inside its progressive-JPEG decoder
        // on some inputs (tests/stb_crashes/), but files are decoded in a child
        // process (dcgan_set_isolated_decoding), so such a crash is a refused file.
        // (libFuzzer does not see the child's coverage.)
        dcgan_image_options opt;
        float out[3 * 16 * 16], *rgb = NULL;
        int w, h;
        dcgan_image_options_default(&opt);
        opt.size = 16;
        opt.max_pixels = 1 << 20;
        FUZZ_FIRST(dcgan_image_load(out, path, &opt));
        opt.channels = 1;
        opt.resize = DCGAN_RESIZE_NEAREST;
        dcgan_image_load(out, path, &opt);
        if (dcgan_image_load_rgb01(&rgb, &w, &h, path, 1 << 20) == DCGAN_OK) dcgan_free(rgb);
        break;
    }
    }
#undef FUZZ_FIRST
    return rc;
}
#endif
