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

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {{"replay", test_replay}};
    char empty[300];
    snprintf(scratch, sizeof scratch, "build/corpus_%d", (int)getpid());
    mkdir("build", 0777);
    mkdir(scratch, 0777);
    snprintf(empty, sizeof empty, "%s/empty", scratch);
    mkdir(empty, 0777);
    int rc = check_main(tests, 1, argv[0]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}
