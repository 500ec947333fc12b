// test_corpus.c - replays every file of tests/corpus/<target>/ through its
// reader (the seeds of `make fuzz` and every crash it ever found), without
// libFuzzer, so `make test` catches regressions. A check per file: it returned.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "check.h"
#include "fuzz_targets.h"
#include <sys/stat.h>
#include <unistd.h>

static char scratch[256];

static void test_replay(void) {
    for (int t = 0; t < FUZZ_TARGETS; t++) {
        char dir[128];
        char **paths;
        int n = 0, done = 0;
        snprintf(dir, sizeof dir, "tests/corpus/%s", fuzz_target_names[t]);
        // any file name: list with a wildcard-free scan of the folder
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!CHECK(d != NULL, "corpus/folder exists")) continue;
        paths = NULL;
        while ((e = readdir(d)) != NULL) {
            char path[600];
            struct stat sb;
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 24)) continue;
            FILE *f = fopen(path, "rb");
            unsigned char *buf = (unsigned char *)malloc((size_t)sb.st_size + 1);
            size_t got = f ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
            if (f) fclose(f);
            fuzz_one(t, buf, got, scratch);
            free(buf);
            n++;
            done++;
        }
        closedir(d);
        (void)paths;
        char label[96];
        snprintf(label, sizeof label, "corpus/%s: %d files replayed without a crash", fuzz_target_names[t], done);
        CHECK(n > 0, label);
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
        unsigned char buf[48];
        const uint64_t head[6] = {DCGAN__CACHE_MAGIC, DCGAN__CACHE_VERSION, 8, 1, DCGAN_RESIZE_AREA,
                                  (uint64_t)1 << 40};
        dcgan_dataset ds;
        dcgan_image_options opt;
        char dir[400];
        for (int i = 0; i < 6; i++) dcgan__put_le(buf + 8 * i, head[i], 8);
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

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {{"replay", test_replay}, {"huge claims", test_huge_claims}};
    char empty[300];
    snprintf(scratch, sizeof scratch, "build/corpus_%d", (int)getpid());
    mkdir("build", 0777);
    mkdir(scratch, 0777);
    snprintf(empty, sizeof empty, "%s/empty", scratch);
    mkdir(empty, 0777);
    int rc = check_main(tests, 2, argv[0]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}
