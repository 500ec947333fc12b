// test_corpus.c - replays every file of tests/corpus/<target>/ through its
// reader (the seeds of `make fuzz` and every crash it ever found), without
// libFuzzer, so `make test` catches regressions. Each file must return the
// status and message tests/corpus/expected.txt gives it.
#define DCGAN_TEST_INTERNALS  // linked to tests/dcgan_impl.c, the implementation (tests/tests.mk)
#include "../dcgan.h"
#include "check.h"
#include "fuzz_targets.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[256];

// tests/corpus/expected.txt: one line per corpus file, "<target>/<file> ok"
// for the inputs that must load, or "<target>/<file> refused <message>" with
// the reader's whole message (the input's path written as INPUT).
// `build/test_corpus --write-expected` prints the lines for the files as they
// are read now (to review, not to copy blindly).
static int write_expected;

static const char *expected_for(const char *key) {
    static char lines[256][1200];
    static int n = -1;
    if (n < 0) {
        FILE *f = fopen("tests/corpus/expected.txt", "r");
        n = 0;
        while (f && n < 256 && fgets(lines[n], sizeof lines[n], f)) {
            lines[n][strcspn(lines[n], "\n")] = '\0';
            if (lines[n][0] && lines[n][0] != '#') n++;
        }
        if (f) fclose(f);
    }
    const size_t k = strlen(key);
    for (int i = 0; i < n; i++)
        if (strncmp(lines[i], key, k) == 0 && lines[i][k] == ' ') return lines[i] + k + 1;
    return NULL;
}

// Replaces every occurrence of `from` in s (capacity cap) by `to`.
static void replace_all(char *s, size_t cap, const char *from, const char *to) {
    char out[2048];
    size_t o = 0, nf = strlen(from), nt = strlen(to);
    for (const char *p = s; *p && o + 1 < sizeof out;) {
        if (nf && strncmp(p, from, nf) == 0 && o + nt + 1 < sizeof out) {
            memcpy(out + o, to, nt);
            o += nt;
            p += nf;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    if (o >= cap) o = cap - 1;
    memcpy(s, out, o);
    s[o] = '\0';
}

static void test_replay(void) {
    for (int t = 0; t < FUZZ_TARGETS; t++) {
        char dir[128];
        int n = 0, loaded = 0, as_expected = 0;
        snprintf(dir, sizeof dir, "tests/corpus/%s", fuzz_target_names[t]);
        // any file name: list with a wildcard-free scan of the folder
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!CHECK(d != NULL, "corpus/folder exists")) continue;
        while ((e = readdir(d)) != NULL) {
            char path[600], key[400], why[1024], got[1200], input[400];
            struct stat sb;
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 24)) continue;
            FILE *f = fopen(path, "rb");
            unsigned char *buf = (unsigned char *)malloc((size_t)sb.st_size + 1);
            size_t size = f ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
            if (f) fclose(f);
            const int rc = fuzz_one(t, buf, size, scratch, why, sizeof why);
            free(buf);
            snprintf(input, sizeof input, "%s/input.%s", scratch,
                     t == 4 ? "png" : t == 2 ? "npz" : t == 7 ? "npy" : "bin");
            replace_all(why, sizeof why, input, "INPUT");
            replace_all(why, sizeof why, scratch, "SCRATCH");
            snprintf(got, sizeof got, rc ? "refused %s" : "ok", why);
            snprintf(key, sizeof key, "%s/%s", fuzz_target_names[t], e->d_name);
            n++;
            loaded += rc == 0;
            if (write_expected) {
                printf("%s %s\n", key, got);
                continue;
            }
            const char *want = expected_for(key);
            if (!want) {
                fprintf(stderr, "  %s: no line in tests/corpus/expected.txt (it gives: %s)\n", key, got);
            } else if (strcmp(want, got) != 0) {
                fprintf(stderr, "  %s:\n    expected %s\n    got      %s\n", key, want, got);
            } else {
                as_expected++;
            }
        }
        closedir(d);
        char label[160];
        snprintf(label, sizeof label, "corpus/%s: %d files replayed, each as tests/corpus/expected.txt says (%d load)",
                 fuzz_target_names[t], n, loaded);
        CHECK(write_expected || (n > 0 && as_expected == n), label);
    }
}

// Files whose headers claim 2^40 elements (4 TiB of float32) while holding a
// few bytes: each reader must refuse them with a message that names the file,
// before allocating anything of that size.
static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static int refused(dcgan_status st, const char *path) {
    return st != DCGAN_OK && st != DCGAN_ERR_NOMEM && strstr(dcgan_last_error(), path) != NULL;
}

static void test_huge_claims(void) {
    char path[400];
    // safetensors: shape 2^20 x 2^20 with matching data offsets
    {
        const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],"
                           "\"data_offsets\":[0,4398046511104]}}";
        unsigned char buf[256];
        size_t n = strlen(json);
        dcgan_safetensors st;
        dcgan_state_dict sd;
        dcgan__put_le(buf, n, 8);
        memcpy(buf + 8, json, n);
        memset(buf + 8 + n, 0, 16);
        snprintf(path, sizeof path, "%s/huge.safetensors", scratch);
        write_bytes(path, buf, 8 + n + 16);
        CHECK(refused(dcgan_safetensors_read(&st, path), path), "huge/safetensors claiming 2^40 floats is refused");
        CHECK(refused(dcgan_state_dict_load(&sd, path), path), "huge/state_dict_load of it is refused");
    }
    // .npz: a stored member whose .npy header says shape (2^40,)
    {
        unsigned char npy[128], zip[512];
        const char *name = "mu.npy";
        const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }";
        size_t hl = 118 - 10, dl = strlen(dict), nl = strlen(name), m = 128, pos = 0;
        dcgan_fid_stats fs;
        memset(npy, ' ', sizeof npy);
        memcpy(npy, "\x93NUMPY\x01\x00", 8);
        dcgan__put_le(npy + 8, hl, 2);
        memcpy(npy + 10, dict, dl);
        npy[10 + hl - 1] = '\n';
        memset(npy + 10 + hl, 0, m - 10 - hl);  // 10 bytes of "data"
        uint32_t crc = dcgan__crc32(0, npy, m);
        memset(zip, 0, sizeof zip);
        dcgan__put_le(zip, 0x04034b50u, 4);
        dcgan__put_le(zip + 4, 20, 2);
        dcgan__put_le(zip + 14, crc, 4);
        dcgan__put_le(zip + 18, m, 4);
        dcgan__put_le(zip + 22, m, 4);
        dcgan__put_le(zip + 26, nl, 2);
        memcpy(zip + 30, name, nl);
        memcpy(zip + 30 + nl, npy, m);
        pos = 30 + nl + m;
        size_t cd = pos;
        dcgan__put_le(zip + pos, 0x02014b50u, 4);
        dcgan__put_le(zip + pos + 4, 20, 2);
        dcgan__put_le(zip + pos + 6, 20, 2);
        dcgan__put_le(zip + pos + 16, crc, 4);
        dcgan__put_le(zip + pos + 20, m, 4);
        dcgan__put_le(zip + pos + 24, m, 4);
        dcgan__put_le(zip + pos + 28, nl, 2);
        memcpy(zip + pos + 46, name, nl);
        pos += 46 + nl;
        dcgan__put_le(zip + pos, 0x06054b50u, 4);
        dcgan__put_le(zip + pos + 8, 1, 2);
        dcgan__put_le(zip + pos + 10, 1, 2);
        dcgan__put_le(zip + pos + 12, pos - cd, 4);
        dcgan__put_le(zip + pos + 16, cd, 4);
        pos += 22;
        snprintf(path, sizeof path, "%s/huge.npz", scratch);
        write_bytes(path, zip, pos);
        CHECK(refused(dcgan_fid_stats_load_npz(&fs, path), path), "huge/.npz claiming 2^40 doubles is refused");
    }
    // dataset cache: 2^40 images of 8x8x1
    {
        unsigned char buf[64];
        const uint64_t head[8] = {DCGAN__CACHE_MAGIC, DCGAN__CACHE_VERSION, 8, 1, DCGAN_RESIZE_AREA,
                                  (uint64_t)1 << 40, (uint64_t)1 << 40, 1};
        dcgan_dataset ds;
        dcgan_image_options opt;
        char dir[400];
        for (int i = 0; i < 8; i++) dcgan__put_le(buf + 8 * i, head[i], 8);
        snprintf(path, sizeof path, "%s/huge_cache.bin", scratch);
        write_bytes(path, buf, sizeof buf);
        dcgan_image_options_default(&opt);
        opt.size = 8;
        opt.channels = 1;
        snprintf(dir, sizeof dir, "%s/empty", scratch);
        dcgan_status st = dcgan_dataset_cache_load(&ds, path, dir, &opt);
        CHECK(st != DCGAN_OK && st != DCGAN_ERR_NOMEM, "huge/dataset cache claiming 2^40 images is refused");
    }
    // a model asking for 2^40 parameters: DCGAN_ERR_NOMEM with a message, no crash
    {
        dcgan_layer_spec spec = dcgan_spec_linear(1 << 20);
        dcgan_model m;
        dcgan_status st = dcgan_model_init(&m, "huge", &spec, 1, 1 << 20, 1, 1, 1);
        if (st == DCGAN_OK) dcgan_model_free(&m);
        CHECK(st == DCGAN_ERR_NOMEM && strstr(dcgan_last_error(), "memory") != NULL,
              "huge/a 2^40-parameter model fails with DCGAN_ERR_NOMEM");
    }
}

// classify train's resume file (examples/classify_state.h): a round trip, the
// seed of the fuzz corpus, and each way a file is refused, with the whole
// message and the model unchanged.
static int resume_fill(dcgan_model *m, classify_position *pos, float *bp, float *bb, float *hist, int *order) {
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 7);
    dcgan_rng_fill_normal(&rng, m->params, m->n_params, 0.0f, 1.0f);
    dcgan_rng_fill_normal(&rng, m->adam_m, m->n_params, 0.0f, 1.0f);
    dcgan_rng_fill_uniform(&rng, m->adam_v, m->n_params, 0.0f, 1.0f);
    dcgan_rng_fill_uniform(&rng, m->buffers, m->n_buffers, 0.5f, 1.0f);
    dcgan_rng_fill_normal(&rng, bp, m->n_params, 0.0f, 1.0f);
    dcgan_rng_fill_uniform(&rng, bb, m->n_buffers, 0.5f, 1.0f);
    dcgan_rng_fill_uniform(&rng, hist, 3 * CLASSIFY_HISTORY_COLS, 0.0f, 1.0f);
    for (int i = 0; i < 4; i++) order[i] = 3 - i;
    memset(pos, 0, sizeof *pos);
    pos->epoch = 2;
    pos->step = 1;
    pos->order_drawn = 1;
    pos->loss_sum = 1.0 / 3.0;
    pos->correct = 1;
    pos->seen = 2;
    pos->seconds = 0.125;
    pos->best_epoch = 1;
    pos->best_auc = 0.75;
    pos->best_loss = 0.6931471805599453;
    pos->adam_step = 3;
    if (!rng.has_spare) dcgan_rng_normal(&rng);   // leave a Box-Muller spare waiting
    pos->rng = rng;
    return 0;
}

static void test_resume_file(void) {
    dcgan_model *m = fuzz_model();
    if (!CHECK(m != NULL, "resume/the model builds")) return;
    size_t np = m->n_params, nb = m->n_buffers;
    float *bp = (float *)malloc(np * sizeof(float)), *bb = (float *)malloc(nb * sizeof(float));
    float *keep = (float *)malloc(np * sizeof(float)), hist[3 * CLASSIFY_HISTORY_COLS], hist2[3 * CLASSIFY_HISTORY_COLS];
    float *p0 = (float *)malloc(np * sizeof(float)), *m0 = (float *)malloc(np * sizeof(float));
    float *v0 = (float *)malloc(np * sizeof(float)), *bp0 = (float *)malloc(np * sizeof(float));
    int order[4], order2[4];
    classify_position pos, pos2;
    char path[400], why[1024], want[1200];
    resume_fill(m, &pos, bp, bb, hist, order);
    memcpy(p0, m->params, np * sizeof(float));
    memcpy(m0, m->adam_m, np * sizeof(float));
    memcpy(v0, m->adam_v, np * sizeof(float));
    memcpy(bp0, bp, np * sizeof(float));
    snprintf(path, sizeof path, "%s/resume.safetensors", scratch);
    CHECK(classify_state_save(path, m, &pos, bp, bb, hist, order, &fuzz_resume_expect, why, sizeof why) == 0,
          "resume/save");
    // scramble everything, then load it back
    memset(m->params, 0, np * sizeof(float));
    memset(m->adam_m, 0, np * sizeof(float));
    memset(m->adam_v, 0, np * sizeof(float));
    memset(bp, 0, np * sizeof(float));
    memset(&pos2, 0xff, sizeof pos2);
    CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == 0, "resume/the file loads");
    CHECK(memcmp(m->params, p0, np * sizeof(float)) == 0 && memcmp(m->adam_m, m0, np * sizeof(float)) == 0 &&
          memcmp(m->adam_v, v0, np * sizeof(float)) == 0, "resume/params and both Adam moments round-trip");
    CHECK(pos2.epoch == 2 && pos2.step == 1 && pos2.order_drawn == 1 && pos2.loss_sum == 1.0 / 3.0 &&
          pos2.correct == 1 && pos2.seen == 2 && pos2.seconds == 0.125 && pos2.best_epoch == 1 &&
          pos2.best_auc == 0.75 && pos2.best_loss == 0.6931471805599453 && pos2.adam_step == 3,
          "resume/the position round-trips exactly (doubles too)");
    CHECK(pos2.rng.state == pos.rng.state && pos2.rng.inc == pos.rng.inc && pos2.rng.has_spare == 1 &&
          pos2.rng.spare == pos.rng.spare, "resume/the RNG state round-trips, Box-Muller spare included");
    {
        // the caller's arrays: load into fresh ones through the same function
        float *bp2 = (float *)malloc(np * sizeof(float)), *bb2 = (float *)malloc(nb * sizeof(float));
        CHECK(classify_state_load(path, m, &pos2, bp2, bb2, hist2, order2, &fuzz_resume_expect, why,
                                  sizeof why) == 0 &&
              memcmp(bp2, bp0, np * sizeof(float)) == 0 && memcmp(bb2, bb, nb * sizeof(float)) == 0 &&
              memcmp(hist2, hist, sizeof hist) == 0 && memcmp(order2, order, sizeof order) == 0,
              "resume/best params, best buffers, history and order round-trip");
        free(bp2);
        free(bb2);
    }
    CHECK(fuzz_resume_load("tests/corpus/resume/seed.safetensors", &pos2, why, sizeof why) == 0,
          "resume/the fuzz seed tests/corpus/resume/seed.safetensors is a valid file");

    // refusals: each leaves the model as it was
    memcpy(keep, m->params, np * sizeof(float));
    {
        // one flipped bit in the tensor bytes
        FILE *f = fopen(path, "r+b");
        unsigned char b8[8], c;
        uint64_t hl = 0;
        if (f && fread(b8, 1, 8, f) == 8) {
            for (int k = 7; k >= 0; k--) hl = hl * 256 + b8[k];
            fseek(f, (long)(8 + hl + 20), SEEK_SET);
            if (fread(&c, 1, 1, f) == 1) {
                c ^= 0x10;
                fseek(f, (long)(8 + hl + 20), SEEK_SET);
                fwrite(&c, 1, 1, f);
            }
        }
        if (f) fclose(f);
        snprintf(want, sizeof want, "'%s' is damaged: its tensors and position do not match their checksum",
                 path);
        CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0 &&
                  memcmp(m->params, keep, np * sizeof(float)) == 0,
              "resume/a flipped bit: 'is damaged', model unchanged");
    }
    {
        // one digit of the position changed, each value still in range: the RNG state's
        // last digit, the step, the Adam step, the best AUC (an audit's cases)
        static const char *const key[4] = {"rng_state", "step", "adam_step", "best_auc"};
        static const char *const from[4] = {"\"rng_state\":\"", "\"step\":\"1", "\"adam_step\":\"3",
                                            "\"best_auc\":\"0.75"};
        int refused = 0;
        for (int c = 0; c < 4; c++) {
            resume_fill(m, &pos, bp, bb, hist, order);
            classify_state_save(path, m, &pos, bp, bb, hist, order, &fuzz_resume_expect, why, sizeof why);
            FILE *f = fopen(path, "r+b");
            char head[4096];
            size_t got = f ? fread(head, 1, sizeof head, f) : 0;
            char *at = got > 8 ? strstr(head + 8, from[c]) : NULL;   // (the header is JSON text)
            if (at && f) {
                char *digit = at + strlen(from[c]);
                if (c == 0)
                    while (digit[1] != '"') digit++;   // the last digit of the state
                else
                    digit--;                           // the last digit of the value above
                *digit = *digit == '0' ? '1' : (char)(*digit - 1);   // 1 -> 0, 3 -> 2, 0.75 -> 0.74
                fseek(f, (long)(digit - head), SEEK_SET);
                fwrite(digit, 1, 1, f);
            }
            if (f) fclose(f);
            memcpy(keep, m->params, np * sizeof(float));
            snprintf(want, sizeof want, "'%s' is damaged: its tensors and position do not match their "
                                        "checksum", path);
            const int ok = at && fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0 &&
                           memcmp(m->params, keep, np * sizeof(float)) == 0;
            if (!ok) fprintf(stderr, "  %s: %s\n", key[c], at ? why : "not found in the header");
            refused += ok;
        }
        CHECK(refused == 4, "resume/one digit of rng_state, step, adam_step or best_auc changed: 'is damaged'");
    }
    {
        // a file of format 1 (before the position was hashed): told to start again
        resume_fill(m, &pos, bp, bb, hist, order);
        classify_state_save(path, m, &pos, bp, bb, hist, order, &fuzz_resume_expect, why, sizeof why);
        FILE *f = fopen(path, "r+b");
        char head[4096];
        size_t got = f ? fread(head, 1, sizeof head - 1, f) : 0;
        head[got] = 0;
        char *at = got > 8 ? strstr(head + 8, "\"dcgan.h classify resume 2\"") : NULL;
        if (at && f) {   // the same length: the JSON string shorter, then two spaces
            memcpy(at, "\"dcgan.h classify resume\"  ", 27);
            fseek(f, (long)(at - head), SEEK_SET);
            fwrite(at, 1, 27, f);
        }
        if (f) fclose(f);
        snprintf(want, sizeof want, "'%s' was written by an older classify train (format 'dcgan.h classify "
                                    "resume', this one reads 'dcgan.h classify resume 2'); delete it and start "
                                    "the run again", path);
        CHECK(at && fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0,
              "resume/a format 1 file: written by an older classify train, start again");
    }
    {
        // a different --batch
        const char *vals[1] = {"4"};
        classify_expect ex = fuzz_resume_expect;
        resume_fill(m, &pos, bp, bb, hist, order);
        memcpy(keep, m->params, np * sizeof(float));
        ex.values = vals;
        classify_state_save(path, m, &pos, bp, bb, hist, order, &ex, why, sizeof why);
        snprintf(want, sizeof want,
                 "the stopped run in '%s' has --batch 4, this run --batch 2; resume with the same flags", path);
        CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0,
              "resume/another --batch: names the flag and both values");
    }
    {
        // a step past the end of the epoch
        pos.step = 2;
        classify_state_save(path, m, &pos, bp, bb, hist, order, &fuzz_resume_expect, why, sizeof why);
        snprintf(want, sizeof want, "'%s': metadata 'step' is '2', which does not fit this run", path);
        CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0,
              "resume/step 2 of 2 steps: refused, naming the field");
        pos.step = 1;
    }
    {
        // an image index out of range (the checksum is right: written that way)
        order[2] = 4;
        classify_state_save(path, m, &pos, bp, bb, hist, order, &fuzz_resume_expect, why, sizeof why);
        snprintf(want, sizeof want, "'%s': order[2] = 4 is not an image index below 4", path);
        CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0,
              "resume/an image index out of range: refused");
        order[2] = 1;
    }
    {
        // a classifier checkpoint given as a resume file
        const char *k[1] = {"kind"}, *v[1] = {"classifier"};
        dcgan_model_save(m, path, k, v, 1);
        snprintf(want, sizeof want, "'%s' is not a classify train resume file (format 'dcgan.h model', "
                                    "expected 'dcgan.h classify resume 2')", path);
        CHECK(fuzz_resume_load(path, &pos2, why, sizeof why) == -1 && strcmp(why, want) == 0 &&
                  memcmp(m->params, keep, np * sizeof(float)) == 0,
              "resume/a model checkpoint: refused by format, model unchanged");
    }
    free(bp);
    free(bb);
    free(keep);
    free(p0);
    free(m0);
    free(v0);
    free(bp0);
}

int main(int argc, char **argv) {
    static const test_case tests[] = {{"replay", test_replay}, {"huge claims", test_huge_claims},
                                       {"resume file", test_resume_file}};
    char empty[300];
    snprintf(scratch, sizeof scratch, "build/corpus_%d", (int)getpid());
    mkdir("build", 0777);
    mkdir(scratch, 0777);
    snprintf(empty, sizeof empty, "%s/empty", scratch);
    mkdir(empty, 0777);
    write_expected = argc > 1 && strcmp(argv[1], "--write-expected") == 0;
    int rc = write_expected ? (test_replay(), 0) : check_main(tests, 3, argv[0]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}
