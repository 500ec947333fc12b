// classify_state.h - the state of an unfinished `classify train` run, so that
// `classify train --resume` continues it exactly: the resumed run ends with the
// same checkpoint, bit for bit, as a run that was never stopped (same flags,
// same images, same --threads). Used by classify.c and by the fuzz target
// "resume" (tests/fuzz_targets.h), which feeds it hostile files.
//
// The file is safetensors (dcgan_safetensors_write: written to .tmp, renamed):
//   tensors   params, adam_m, adam_v, best_params (n_params each), buffers,
//             best_buffers (n_buffers each, only when n_buffers > 0), history
//             (epochs, 6: train loss, train accuracy, validation loss, accuracy,
//             ROC AUC, seconds), order (the image order of the epoch in
//             progress, as floats: exact for indices below 2^24)
//   metadata  format = "dcgan.h classify resume 2"; the settings that must match
//             on resume (caller's keys, e.g. "batch"); the position (epoch,
//             step, order_drawn), the epoch's running sums, the best epoch so
//             far, the Adam step, the RNG state, and data_fnv1a64, an FNV-1a
//             hash of every tensor byte and then of the position's keys and
//             values as written (so a damaged file is refused: before format
//             2 the hash left the position out, and a changed digit in, say,
//             the RNG state passed the range checks and was loaded).
// Everything is checked before anything is copied: on failure the model and the
// caller's arrays are unchanged and `why` says what is wrong, naming the file.
#ifndef CLASSIFY_STATE_H
#define CLASSIFY_STATE_H
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLASSIFY_STATE_FORMAT "dcgan.h classify resume 2"
#define CLASSIFY_HISTORY_COLS 6

// Where a run stands. An epoch that has not drawn its order yet has
// order_drawn = 0 and step = 0 (the state written at the end of each epoch).
typedef struct {
    int epoch;              // the epoch in progress, 1 = the first
    int step;               // steps of it already taken
    int order_drawn;        // 1: `order` holds this epoch's order
    double loss_sum;        // running sums of the epoch in progress
    long correct, seen;
    double seconds;         // seconds spent in the epoch in progress
    int best_epoch;         // 0: no epoch finished yet
    double best_auc, best_loss;
    long long adam_step;
    dcgan_rng rng;
} classify_position;

// What the file must fit: the model (its shape), the run's length and the
// settings that must be equal on resume (keys and values, at most 16).
typedef struct {
    int epochs, steps, per_epoch, n_train;
    int n_settings;
    const char *const *keys, *const *values;
    const char *const *flags;   // how each setting is spelled for the user ("--batch")
} classify_expect;

// FNV-1a, 64 bits (Fowler, Noll, Vo; offset basis 14695981039346656037,
// prime 1099511628211), over raw bytes.
static uint64_t classify_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

// The position's metadata keys, in the order data_fnv1a64 hashes them (after
// the tensors): each key and its value as written, with their terminating 0s.
#define CLASSIFY_POSITION_KEYS 16
static const char *const classify_position_keys[CLASSIFY_POSITION_KEYS] = {
    "epoch",     "step",      "order_drawn", "loss_sum", "correct", "seen",          "seconds",    "best_epoch",
    "best_auc",  "best_loss", "adam_step",   "rng_state", "rng_inc", "rng_has_spare", "rng_spare", "epochs"};

static uint64_t classify_fnv1a_meta(uint64_t h, const char *key, const char *value) {
    h = classify_fnv1a(h, key, strlen(key) + 1);
    return classify_fnv1a(h, value, strlen(value) + 1);
}

static int classify_why(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

// Writes the state. Returns 0, or -1 with the library's message in why.
static int classify_state_save(const char *path, const dcgan_model *m, const classify_position *pos,
                               const float *best_params, const float *best_buffers,
                               const float *history, const int *order, const classify_expect *ex,
                               char *why, size_t cap) {
    float *order_f = (float *)malloc((size_t)(ex->per_epoch > 0 ? ex->per_epoch : 1) * sizeof(float));
    if (!order_f) return classify_why(why, cap, "out of memory writing '%s'", path);
    for (int i = 0; i < ex->per_epoch; i++) order_f[i] = pos->order_drawn ? (float)order[i] : 0.0f;
    dcgan_st_write_tensor t[8];
    int nt = 0;
    const float *one[4] = {m->params, m->adam_m, m->adam_v, best_params};
    const char *one_name[4] = {"params", "adam_m", "adam_v", "best_params"};
    for (int k = 0; k < 4; k++) {
        t[nt].name = one_name[k];
        t[nt].data = one[k];
        t[nt].ndim = 1;
        t[nt++].shape[0] = (int64_t)m->n_params;
    }
    if (m->n_buffers) {
        t[nt].name = "buffers";
        t[nt].data = m->buffers;
        t[nt].ndim = 1;
        t[nt++].shape[0] = (int64_t)m->n_buffers;
        t[nt].name = "best_buffers";
        t[nt].data = best_buffers;
        t[nt].ndim = 1;
        t[nt++].shape[0] = (int64_t)m->n_buffers;
    }
    t[nt].name = "history";
    t[nt].data = history;
    t[nt].ndim = 2;
    t[nt].shape[0] = ex->epochs;
    t[nt++].shape[1] = CLASSIFY_HISTORY_COLS;
    t[nt].name = "order";
    t[nt].data = order_f;
    t[nt].ndim = 1;
    t[nt++].shape[0] = ex->per_epoch;

    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < nt; i++) {
        size_t count = 1;
        for (int k = 0; k < t[i].ndim; k++) count *= (size_t)t[i].shape[k];
        h = classify_fnv1a(h, t[i].data, count * sizeof(float));
    }
    enum { N_FIXED = 2 + CLASSIFY_POSITION_KEYS };
    char v[N_FIXED][64];
    const char *keys[N_FIXED + 16], *vals[N_FIXED + 16], *fixed[N_FIXED] = {"format", "data_fnv1a64"};
    for (int i = 0; i < CLASSIFY_POSITION_KEYS; i++) fixed[2 + i] = classify_position_keys[i];
    snprintf(v[0], 64, "%s", CLASSIFY_STATE_FORMAT);
    snprintf(v[2], 64, "%d", pos->epoch);
    snprintf(v[3], 64, "%d", pos->step);
    snprintf(v[4], 64, "%d", pos->order_drawn);
    snprintf(v[5], 64, "%.17g", pos->loss_sum);
    snprintf(v[6], 64, "%ld", pos->correct);
    snprintf(v[7], 64, "%ld", pos->seen);
    snprintf(v[8], 64, "%.17g", pos->seconds);
    snprintf(v[9], 64, "%d", pos->best_epoch);
    snprintf(v[10], 64, "%.17g", pos->best_auc);
    snprintf(v[11], 64, "%.17g", pos->best_loss);
    snprintf(v[12], 64, "%lld", pos->adam_step);
    snprintf(v[13], 64, "%llu", (unsigned long long)pos->rng.state);
    snprintf(v[14], 64, "%llu", (unsigned long long)pos->rng.inc);
    snprintf(v[15], 64, "%d", pos->rng.has_spare);
    snprintf(v[16], 64, "%.17g", pos->rng.spare);
    snprintf(v[17], 64, "%d", ex->epochs);
    for (int i = 2; i < N_FIXED; i++) h = classify_fnv1a_meta(h, fixed[i], v[i]);
    snprintf(v[1], 64, "%llu", (unsigned long long)h);
    int nm = 0;
    for (int i = 0; i < N_FIXED; i++) {
        keys[nm] = fixed[i];
        vals[nm++] = v[i];
    }
    // a setting named like a fixed key (classify train's "epochs" is also the
    // position's) is written once: the key appeared twice in the header, which
    // JSON leaves undefined and dcgan_safetensors_write may refuse. The loader
    // compares it as a setting all the same (the same key, the same value).
    for (int i = 0; i < ex->n_settings && i < 16; i++) {
        int same = -1;   // the fixed key of that name, if any
        for (int k = 0; k < N_FIXED; k++)
            if (strcmp(ex->keys[i], fixed[k]) == 0) same = k;
        if (same >= 0 && strcmp(ex->values[i], v[same]) == 0) continue;
        if (same >= 0) {
            free(order_f);
            return classify_why(why, cap, "setting '%s' is '%s' but the position's '%s' is '%s'; not writing '%s'",
                                ex->keys[i], ex->values[i], fixed[same], v[same], path);
        }
        keys[nm] = ex->keys[i];
        vals[nm++] = ex->values[i];
    }
    int rc = 0;
    if (dcgan_safetensors_write(path, t, nt, keys, vals, nm) != DCGAN_OK)
        rc = classify_why(why, cap, "%s", dcgan_last_error());
    free(order_f);
    return rc;
}

// Whole-string integer in [lo, hi].
static int classify_parse_ll(const char *s, long long lo, long long hi, long long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int classify_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return -1;
    *out = (uint64_t)v;
    return 0;
}

static int classify_parse_d(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || isnan(v)) return -1;
    *out = v;
    return 0;
}

// The float32 tensor `name` of exactly `count` elements (rows x cols when
// cols > 0), or NULL after writing why.
static const float *classify_tensor(const dcgan_safetensors *st, const char *name, int64_t rows,
                                    int64_t cols, const char *path, char *why, size_t cap) {
    const dcgan_st_tensor *t = dcgan_safetensors_find(st, name);
    int ndim = cols > 0 ? 2 : 1;
    if (!t || strcmp(t->dtype, "F32") != 0 || t->ndim != ndim || t->shape[0] != rows ||
        (ndim == 2 && t->shape[1] != cols)) {
        if (cols > 0)
            classify_why(why, cap, "'%s' has no float32 tensor '%s' of shape (%lld, %lld)", path, name,
                         (long long)rows, (long long)cols);
        else
            classify_why(why, cap, "'%s' has no float32 tensor '%s' of %lld values", path, name, (long long)rows);
        return NULL;
    }
    return (const float *)(st->data + t->begin);
}

// Reads a state into the model (params, buffers, Adam moments), the caller's
// best_params/best_buffers, history (ex->epochs x 6), order (ex->per_epoch)
// and *pos. Returns 0, or -1 with why; on failure nothing was changed.
static int classify_state_load(const char *path, dcgan_model *m, classify_position *pos,
                               float *best_params, float *best_buffers, float *history, int *order,
                               const classify_expect *ex, char *why, size_t cap) {
    dcgan_safetensors st;
    if (dcgan_safetensors_read(&st, path) != DCGAN_OK) return classify_why(why, cap, "%s", dcgan_last_error());
    int rc = -1;
    const char *format = dcgan_safetensors_meta(&st, "format");
    classify_position p;
    memset(&p, 0, sizeof p);
    long long ll[10];
    uint64_t hash, rng_state, rng_inc;
    const char *bad = NULL;
    const float *params, *am, *av, *bp, *buf = NULL, *bbuf = NULL, *hist, *ord;
    if (format && strcmp(format, "dcgan.h classify resume") == 0) {
        classify_why(why, cap, "'%s' was written by an older classify train (format '%s', this one reads '%s'); "
                     "delete it and start the run again", path, format, CLASSIFY_STATE_FORMAT);
        goto done;
    }
    if (!format || strcmp(format, CLASSIFY_STATE_FORMAT) != 0) {
        classify_why(why, cap, "'%s' is not a classify train resume file (format '%s', expected '%s')", path,
                     format ? format : "none", CLASSIFY_STATE_FORMAT);
        goto done;
    }
    // the settings first: the most useful message when the user changed a flag
    for (int i = 0; i < ex->n_settings; i++) {
        const char *was = dcgan_safetensors_meta(&st, ex->keys[i]);
        if (!was || strcmp(was, ex->values[i]) != 0) {
            classify_why(why, cap, "the stopped run in '%s' has %s %s, this run %s %s; resume with the same flags",
                         path, ex->flags[i], was ? was : "(missing)", ex->flags[i], ex->values[i]);
            goto done;
        }
    }
    if (classify_parse_ll(dcgan_safetensors_meta(&st, "epochs"), ex->epochs, ex->epochs, &ll[0]))
        bad = "epochs";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "epoch"), 1, ex->epochs, &ll[0]))
        bad = "epoch";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "order_drawn"), 0, 1, &ll[1]))
        bad = "order_drawn";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "step"), 0, ll[1] ? ex->steps - 1 : 0, &ll[2]))
        bad = "step";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "seen"), 0, 1LL << 40, &ll[3]))
        bad = "seen";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "correct"), 0, ll[3], &ll[4]))
        bad = "correct";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "best_epoch"), 0, ll[0] - 1, &ll[5]))
        bad = "best_epoch";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "adam_step"), 0, 1LL << 50, &ll[6]))
        bad = "adam_step";
    else if (classify_parse_ll(dcgan_safetensors_meta(&st, "rng_has_spare"), 0, 1, &ll[7]))
        bad = "rng_has_spare";
    else if (classify_parse_d(dcgan_safetensors_meta(&st, "loss_sum"), &p.loss_sum) || !isfinite(p.loss_sum))
        bad = "loss_sum";
    else if (classify_parse_d(dcgan_safetensors_meta(&st, "seconds"), &p.seconds) || !isfinite(p.seconds))
        bad = "seconds";
    else if (classify_parse_d(dcgan_safetensors_meta(&st, "best_auc"), &p.best_auc) || !isfinite(p.best_auc))
        bad = "best_auc";
    else if (classify_parse_d(dcgan_safetensors_meta(&st, "best_loss"), &p.best_loss))
        bad = "best_loss";
    else if (classify_parse_d(dcgan_safetensors_meta(&st, "rng_spare"), &p.rng.spare) || !isfinite(p.rng.spare))
        bad = "rng_spare";
    else if (classify_parse_u64(dcgan_safetensors_meta(&st, "rng_state"), &rng_state))
        bad = "rng_state";
    else if (classify_parse_u64(dcgan_safetensors_meta(&st, "rng_inc"), &rng_inc) || !(rng_inc & 1))
        bad = "rng_inc";
    else if (classify_parse_u64(dcgan_safetensors_meta(&st, "data_fnv1a64"), &hash))
        bad = "data_fnv1a64";
    if (bad) {
        const char *v = dcgan_safetensors_meta(&st, bad);
        classify_why(why, cap, "'%s': metadata '%s' is %s%s%s", path, bad, v ? "'" : "", v ? v : "missing",
                     v ? "', which does not fit this run" : "");
        goto done;
    }
    int64_t np = (int64_t)m->n_params, nb = (int64_t)m->n_buffers;
    if (!(params = classify_tensor(&st, "params", np, 0, path, why, cap)) ||
        !(am = classify_tensor(&st, "adam_m", np, 0, path, why, cap)) ||
        !(av = classify_tensor(&st, "adam_v", np, 0, path, why, cap)) ||
        !(bp = classify_tensor(&st, "best_params", np, 0, path, why, cap)) ||
        (nb && !(buf = classify_tensor(&st, "buffers", nb, 0, path, why, cap))) ||
        (nb && !(bbuf = classify_tensor(&st, "best_buffers", nb, 0, path, why, cap))) ||
        !(hist = classify_tensor(&st, "history", ex->epochs, CLASSIFY_HISTORY_COLS, path, why, cap)) ||
        !(ord = classify_tensor(&st, "order", ex->per_epoch, 0, path, why, cap)))
        goto done;
    {
        // the checksum, in the order the tensors were written
        const float *in_order[8] = {params, am, av, bp, buf, bbuf, hist, ord};
        size_t counts[8] = {(size_t)np, (size_t)np, (size_t)np, (size_t)np, (size_t)nb, (size_t)nb,
                            (size_t)ex->epochs * CLASSIFY_HISTORY_COLS, (size_t)ex->per_epoch};
        uint64_t h = 14695981039346656037ull;
        for (int i = 0; i < 8; i++)
            if (in_order[i]) h = classify_fnv1a(h, in_order[i], counts[i] * sizeof(float));
        for (int i = 0; i < CLASSIFY_POSITION_KEYS; i++)   // (each is there: parsed above)
            h = classify_fnv1a_meta(h, classify_position_keys[i],
                                    dcgan_safetensors_meta(&st, classify_position_keys[i]));
        if (h != hash) {
            classify_why(why, cap, "'%s' is damaged: its tensors and position do not match their checksum",
                         path);
            goto done;
        }
    }
    if (ll[1])
        for (int i = 0; i < ex->per_epoch; i++)
            if (!(ord[i] >= 0.0f && ord[i] < (float)ex->n_train && ord[i] == floorf(ord[i]))) {
                classify_why(why, cap, "'%s': order[%d] = %g is not an image index below %d", path, i,
                             (double)ord[i], ex->n_train);
                goto done;
            }
    // all checked: copy
    p.epoch = (int)ll[0];
    p.order_drawn = (int)ll[1];
    p.step = (int)ll[2];
    p.seen = (long)ll[3];
    p.correct = (long)ll[4];
    p.best_epoch = (int)ll[5];
    p.adam_step = ll[6];
    p.rng.has_spare = (int)ll[7];
    p.rng.state = rng_state;
    p.rng.inc = rng_inc;
    memcpy(m->params, params, (size_t)np * sizeof(float));
    memcpy(m->adam_m, am, (size_t)np * sizeof(float));
    memcpy(m->adam_v, av, (size_t)np * sizeof(float));
    memcpy(best_params, bp, (size_t)np * sizeof(float));
    if (nb) {
        memcpy(m->buffers, buf, (size_t)nb * sizeof(float));
        memcpy(best_buffers, bbuf, (size_t)nb * sizeof(float));
    }
    memcpy(history, hist, (size_t)ex->epochs * CLASSIFY_HISTORY_COLS * sizeof(float));
    for (int i = 0; i < ex->per_epoch; i++) order[i] = (int)ord[i];
    *pos = p;
    rc = 0;
done:
    dcgan_safetensors_free(&st);
    return rc;
}
#endif
