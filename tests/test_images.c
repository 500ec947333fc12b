// test_images.c - the image-folder loader on files this test writes (gray,
// RGB, RGBA, corrupt, truncated, empty, not images) and on files PIL wrote
// (tests/data/images: 16-bit PNG, palette PNG, progressive and gray JPEG);
// decoder crashes (a hostile JPEG of tests/stb_crashes/, a child made to
// crash) skipped with a message while the loading goes on; the dataset cache;
// the phantom generator; grids and plots.
// A decoder crash on demand: the child process that decodes a file whose name
// contains "crash_me" dies of SIGSEGV (dcgan.h calls this hook in the child).
#include <signal.h>
#include <stdlib.h>
#include <string.h>
// The library's allocations go through these hooks; the one numbered
// fail_alloc_at fails (-1: none), for the out-of-memory paths of the listing.
static long n_allocs, fail_alloc_at = -1;
// (counted atomically: dcgan_dataset_load allocates on several threads at once)
static void *failing_malloc(size_t n) {
    return __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED) == fail_alloc_at ? NULL : malloc(n);
}
static void *failing_realloc(void *p, size_t n) {
    return __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED) == fail_alloc_at ? NULL : realloc(p, n);
}
#define DCGAN_MALLOC(sz) failing_malloc(sz)
#define DCGAN_REALLOC(p, sz) failing_realloc(p, sz)
#define DCGAN_FREE(p) free(p)
#define DCGAN__CHILD_DECODE_HOOK(path) \
    do { if (strstr((path), "crash_me")) raise(SIGSEGV); } while (0)
// Every fork of a decoder helper is counted, and so are those made while a
// thread of a load runs its on_progress callback, or while a thread other than
// the forking one decodes a file (test_restarts_gated: decode_ms > 0 makes each
// file other than a crash_me take that long more in the program).
static int forks, forks_in_callback, forks_beside_decode, in_callback, in_decode, decode_ms, decode_threads;
static void before_fork(void) {
    __atomic_add_fetch(&forks, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&in_callback, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&forks_in_callback, 1, __ATOMIC_SEQ_CST);
    // (a thread waiting at the gate to fork, this one included, is not decoding: see gate_wait)
    if (__atomic_load_n(&in_decode, __ATOMIC_SEQ_CST) >= 1) __atomic_add_fetch(&forks_beside_decode, 1, __ATOMIC_SEQ_CST);
}
static void load_decode(const char *path, int busy);
static void gate_wait(int waiting) {
    if (waiting) __atomic_sub_fetch(&in_decode, 1, __ATOMIC_SEQ_CST);
    else __atomic_add_fetch(&in_decode, 1, __ATOMIC_SEQ_CST);
}
#define DCGAN__BEFORE_FORK_HOOK() before_fork()
#define DCGAN__LOAD_DECODE_HOOK(path, busy) load_decode(path, busy)
#define DCGAN__GATE_WAIT_HOOK(waiting) gate_wait(waiting)
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "check.h"
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

static void load_decode(const char *path, int busy) {
    if (!busy) {
        __atomic_sub_fetch(&in_decode, 1, __ATOMIC_SEQ_CST);
        return;
    }
    __atomic_add_fetch(&in_decode, 1, __ATOMIC_SEQ_CST);
#ifdef _OPENMP
    const int me = omp_get_thread_num() + 1;   // the threads seen: the highest number + 1
    if (__atomic_load_n(&decode_threads, __ATOMIC_SEQ_CST) < me) __atomic_store_n(&decode_threads, me, __ATOMIC_SEQ_CST);
#else
    (void)decode_threads, (void)gate_wait;   // (used by the OpenMP builds only)
#endif
    if (decode_ms > 0 && !strstr(path, "crash_me")) poll(NULL, 0, decode_ms);
}

static char root[256];

// A fresh scratch folder per run: build/tmp_images_<pid>.
static void make_root(void) {
    snprintf(root, sizeof root, "build/tmp_images_%d", (int)getpid());
    mkdir("build", 0777);
    mkdir(root, 0777);
}

static void path_in(char *out, size_t cap, const char *rel) { snprintf(out, cap, "%s/%s", root, rel); }

static void write_bytes(const char *rel, const void *data, size_t n) {
    char p[512];
    path_in(p, sizeof p, rel);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static int read_bytes(const char *path, unsigned char *out, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(out, 1, n, f);
    fclose(f);
    return got == n;
}

// A W x H image with C channels: pixel (x, y, c) = (x * 7 + y * 13 + c * 50) % 256.
static void pattern(unsigned char *px, int W, int H, int C) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) px[((size_t)y * W + x) * C + c] = (unsigned char)((x * 7 + y * 13 + c * 50) % 256);
}

static int count_skips;
static char last_skip[512];
static void on_skip(void *user, const char *path, const char *reason) {
    (void)user;
    (void)path;
    count_skips++;
    snprintf(last_skip, sizeof last_skip, "%s", reason);
}

static void test_decode_formats(void) {
    dcgan_image_options opt;
    unsigned char px[20 * 12 * 4];
    char p[512];
    float img[3 * 20 * 12];
    dcgan_image_options_default(&opt);
    opt.size = 12;
    opt.resize = DCGAN_RESIZE_NEAREST;
    mkdir(root, 0777);
    // RGB PNG at 12x12: nearest resize to the same size is the identity
    pattern(px, 12, 12, 3);
    path_in(p, sizeof p, "rgb.png");
    stbi_write_png(p, 12, 12, 3, px, 12 * 3);
    opt.channels = 3;
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_OK, "image_load/rgb png");
    int ok = 1;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 144; k++)
            ok &= img[c * 144 + k] == ((float)px[k * 3 + c] - 127.5f) / 127.5f;
    CHECK(ok, "image_load/rgb planar and scaled as (x - 127.5) / 127.5");
    // the same file as gray: ITU-R 601 weights in Pillow's fixed point (its rgb2l)
    opt.channels = 1;
    dcgan_image_load(img, p, &opt);
    ok = 1;
    for (int k = 0; k < 144; k++) {
        unsigned g = (px[k * 3] * 19595u + px[k * 3 + 1] * 38470u + px[k * 3 + 2] * 7471u + 0x8000u) >> 16;
        ok &= img[k] == ((float)g - 127.5f) / 127.5f;
    }
    CHECK(ok, "image_load/rgb to gray like Pillow's convert('L')");
    {   // colours where Pillow and (299 R + 587 G + 114 B + 500) / 1000 part (an audit: 9,040 of
        // 2^24 differ): (0, 0, 250) is 28 in Pillow, 29 by the thousandths; (5, 5, 255) 33 and 34
        unsigned char two[2 * 3] = {0, 0, 250, 5, 5, 255};
        char q[600];
        path_in(q, sizeof q, "pillow_ties.png");
        stbi_write_png(q, 2, 1, 3, two, 2 * 3);
        dcgan_image_options o12 = opt;
        o12.size = 2;
        float g2[4];
        CHECK(dcgan_image_load(g2, q, &o12) == DCGAN_OK && g2[0] == (28.0f - 127.5f) / 127.5f &&
                  g2[1] == (33.0f - 127.5f) / 127.5f,
              "image_load/gray of (0, 0, 250) is 28 and of (5, 5, 255) is 33, as Pillow 13.0.0 gives them");
        remove(q);
    }
    // gray PNG to 3 channels: replicated
    pattern(px, 12, 12, 1);
    path_in(p, sizeof p, "gray.png");
    stbi_write_png(p, 12, 12, 1, px, 12);
    opt.channels = 3;
    dcgan_image_load(img, p, &opt);
    ok = 1;
    for (int k = 0; k < 144; k++) ok &= img[k] == img[144 + k] && img[k] == img[288 + k] &&
                                      img[k] == ((float)px[k] - 127.5f) / 127.5f;
    CHECK(ok, "image_load/gray replicated to RGB");
    // RGBA: alpha dropped
    pattern(px, 12, 12, 4);
    path_in(p, sizeof p, "rgba.png");
    stbi_write_png(p, 12, 12, 4, px, 12 * 4);
    dcgan_image_load(img, p, &opt);
    ok = 1;
    for (int k = 0; k < 144; k++) ok &= img[288 + k] == ((float)px[k * 4 + 2] - 127.5f) / 127.5f;
    CHECK(ok, "image_load/rgba drops alpha");
    // files PIL wrote, against PIL's gray values
    const char *files[] = {"gray16.png", "palette.png", "progressive.jpg", "gray.jpeg"};
    const int tolerance[] = {0, 1, 3, 2};   // JPEG decoders may round a level or two apart
    opt.channels = 1;
    for (int f = 0; f < 4; f++) {
        char img_path[256], gray_path[256], label[96];
        unsigned char expect[24 * 16];
        float got[24 * 16], want[24 * 16];
        dcgan_image_options o2 = opt;
        o2.size = 24;   // the files are 24x16: squashed to 24x24 by nearest
        snprintf(img_path, sizeof img_path, "tests/data/images/%s", files[f]);
        snprintf(gray_path, sizeof gray_path, "tests/data/images/%s.gray", files[f]);
        snprintf(label, sizeof label, "image_load/%s", files[f]);
        if (!CHECK(read_bytes(gray_path, expect, sizeof expect), label)) continue;
        float *big = (float *)malloc(24 * 24 * sizeof(float));
        CHECK(dcgan_image_load(big, img_path, &o2) == DCGAN_OK, label);
        // rows of the 24x24 result map back to source rows floor((y + 0.5) * 16 / 24)
        for (int y = 0; y < 16; y++) {
            int yy = -1;
            for (int t = 0; t < 24; t++)
                if ((int)((t + 0.5) * 16 / 24) == y) { yy = t; break; }
            for (int x = 0; x < 24; x++) {
                got[y * 24 + x] = big[yy * 24 + x] * 127.5f + 127.5f;
                want[y * 24 + x] = expect[y * 24 + x];
            }
        }
        CHECK_CLOSE(want, got, 24 * 16, tolerance[f] + 1e-3, 0, label);
        free(big);
    }
}

static void test_decode_errors(void) {
    dcgan_image_options opt;
    char p[512];
    float img[3 * 8 * 8], before[3 * 8 * 8];
    dcgan_image_options_default(&opt);
    opt.size = 8;
    for (int k = 0; k < 3 * 64; k++) img[k] = before[k] = 7.0f;
    write_bytes("noise.png", "this is not a png at all", 24);
    path_in(p, sizeof p, "noise.png");
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_FORMAT, "image_load/garbage gives FORMAT");
    char want[700];
    snprintf(want, sizeof want, "image_load: '%s': unknown image type", p);
    CHECK(strcmp(dcgan_last_error(), want) == 0,
          "image_load/message names the function called and the file (it named decode_rect, a helper)");

    CHECK(memcmp(img, before, sizeof img) == 0, "image_load/output untouched on error");
    // an empty file and a missing one say so (stb: "unknown image type", "can't fopen")
    write_bytes("empty.png", "", 0);
    path_in(p, sizeof p, "empty.png");
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_FORMAT, "image_load/an empty file gives FORMAT");
    snprintf(want, sizeof want, "image_load: '%s': an empty file (0 bytes)", p);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "image_load/an empty file is called one");
    path_in(p, sizeof p, "no_such.png");
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_FORMAT, "image_load/a missing file gives FORMAT");
    snprintf(want, sizeof want, "image_load: '%s': cannot open it: No such file or directory", p);
    CHECK(strcmp(dcgan_last_error(), want) == 0, "image_load/a missing file says why");
    // a valid PNG cut in half
    unsigned char px[64 * 64 * 3], file[20000];
    pattern(px, 64, 64, 3);
    path_in(p, sizeof p, "whole.png");
    stbi_write_png(p, 64, 64, 3, px, 64 * 3);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(file, 1, sizeof file, f) : 0;
    if (f) fclose(f);
    remove(p);
    write_bytes("half.png", file, n / 2);
    path_in(p, sizeof p, "half.png");
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_FORMAT, "image_load/truncated png gives FORMAT");
    // its header reads, the pixels do not: the decoder's refusal, named as the function called
    float *rgb01 = NULL;
    int w01 = 0, h01 = 0;
    snprintf(want, sizeof want, "image_load_rgb01: '%s': %s", p, dcgan_last_error() + strlen("image_load: '") + strlen(p) + 3);
    CHECK(dcgan_image_load_rgb01(&rgb01, &w01, &h01, p, 1 << 20) == DCGAN_ERR_FORMAT && rgb01 == NULL &&
              strcmp(dcgan_last_error(), want) == 0 && strncmp(want, "image_load_rgb01: '", 19) == 0,
          "image_load_rgb01/a truncated png: FORMAT, named as the function called (it named decode_rect)");
    path_in(p, sizeof p, "missing.png");
    CHECK(dcgan_image_load(img, p, &opt) != DCGAN_OK, "image_load/missing file fails");
    // pixel limit: refused before decoding
    pattern(px, 64, 64, 3);
    path_in(p, sizeof p, "big.png");
    stbi_write_png(p, 64, 64, 3, px, 64 * 3);
    opt.max_pixels = 1000;
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "limit"),
          "image_load/above max_pixels refused with a message");
    opt.max_pixels = (size_t)64 << 20;
    opt.channels = 2;
    CHECK(dcgan_image_load(img, p, &opt) == DCGAN_ERR_SHAPE, "image_load/channels 2 refused");
    remove(p);
    path_in(p, sizeof p, "half.png");
    remove(p);
    path_in(p, sizeof p, "noise.png");
    remove(p);
}

static void test_resize(void) {
    dcgan_image_options opt;
    unsigned char px[16 * 16];
    char p[512];
    float img[8 * 8];
    dcgan_image_options_default(&opt);
    opt.size = 8;
    opt.channels = 1;
    // checkerboard of 0 and 255 halved: antialiased -> mid gray; nearest -> pure values
    for (int k = 0; k < 256; k++) px[k] = ((k % 16) + (k / 16)) % 2 ? 255 : 0;
    path_in(p, sizeof p, "checker.png");
    stbi_write_png(p, 16, 16, 1, px, 16);
    dcgan_image_load(img, p, &opt);
    int mid = 1;
    for (int k = 0; k < 64; k++) mid &= fabsf(img[k]) < 0.1f;
    if (!mid) fprintf(stderr, "area resize of a checkerboard: %g %g %g\n", img[0], img[9], img[27]);
    CHECK(mid, "image_load/area resize averages (antialiased)");
    opt.resize = DCGAN_RESIZE_NEAREST;
    dcgan_image_load(img, p, &opt);
    int pure = 1;
    for (int k = 0; k < 64; k++) pure &= fabsf(fabsf(img[k]) - 1.0f) < 1e-6f;
    CHECK(pure, "image_load/nearest resize keeps pixel values");
    remove(p);
}

// A symlink back up the tree (ln -s . loop, ln -s .. up) is skipped: the listing
// has each image once (it failed: "folders nested deeper than 32", an audit).
int symlink(const char *target, const char *linkpath);   // POSIX (make test builds with -std=c99 and
                                                          // -include assert.h: too late for _DEFAULT_SOURCE)
// Nearly black images are counted (dcgan_dataset's dark): a 16-bit PNG of
// 12-bit values (tests/make_images.py: 63..3968, 0..15 in 8 bits) and an 8-bit
// image of 31s are; one of 32s is not; the cache gives the same counts.
static void test_dark_images(void) {
    char dir[512], cache[512];
    unsigned char px[8 * 8], png[4096];
    FILE *f = fopen("tests/data/images/gray12in16.png", "rb");
    size_t n = f ? fread(png, 1, sizeof png, f) : 0;
    if (f) fclose(f);
    if (!CHECK(n > 0, "dataset_load/dark: the 12-bit fixture is there")) return;
    snprintf(dir, sizeof dir, "%s/dark", root);
    mkdir(dir, 0777);
    write_bytes("dark/a_12bit.png", png, n);
    char p[512];
    memset(px, 32, sizeof px);
    path_in(p, sizeof p, "dark/b_32s.png");
    stbi_write_png(p, 8, 8, 1, px, 8);
    memset(px, 31, sizeof px);
    path_in(p, sizeof p, "dark/c_31s.png");
    stbi_write_png(p, 8, 8, 1, px, 8);
    dcgan_image_options opt;
    dcgan_dataset ds, dc;
    dcgan_image_options_default(&opt);
    opt.size = 8;
    opt.channels = 1;
    opt.resize = DCGAN_RESIZE_NEAREST;   // (values as they are: no filter's overshoot)
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.count == 3 && ds.dark == 2 && ds.first_dark == 0,
          "dataset_load/dark: the 12-bit and the 31s image, the first the 12-bit one");
    snprintf(cache, sizeof cache, "%s/dark_cache.bin", root);
    CHECK(dcgan_dataset_cache_save(&ds, cache, &opt) == DCGAN_OK &&
              dcgan_dataset_cache_load(&dc, cache, dir, &opt) == DCGAN_OK && dc.dark == 2 && dc.first_dark == 0,
          "dataset_cache_load/dark: the same count");
    dcgan_dataset_free(&dc);
    dcgan_dataset_free(&ds);
    remove(cache);
    path_in(p, sizeof p, "dark/a_12bit.png");
    remove(p);
    path_in(p, sizeof p, "dark/c_31s.png");
    remove(p);
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.count == 1 && ds.dark == 0 && ds.first_dark == -1,
          "dataset_load/dark: none among images of 32s");
    dcgan_dataset_free(&ds);
}

// Images with a side shorter than the size they load at are counted
// (dcgan_dataset's enlarged), the first with its own size; the cache gives the
// same counts (read from the files' headers, not from the cache).
static void test_enlarged_images(void) {
    char dir[512], cache[512], p[512];
    unsigned char px[10 * 10];
    memset(px, 100, sizeof px);
    snprintf(dir, sizeof dir, "%s/enlarged", root);
    mkdir(dir, 0777);
    path_in(p, sizeof p, "enlarged/a_8x8.png");
    stbi_write_png(p, 8, 8, 1, px, 8);
    path_in(p, sizeof p, "enlarged/b_6x10.png");
    stbi_write_png(p, 6, 10, 1, px, 6);
    path_in(p, sizeof p, "enlarged/c_10x10.png");
    stbi_write_png(p, 10, 10, 1, px, 10);
    dcgan_image_options opt;
    dcgan_dataset ds, dc;
    dcgan_image_options_default(&opt);
    opt.channels = 1;
    opt.size = 8;   // b is 6 wide
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.count == 3 && ds.enlarged == 1 &&
              ds.first_enlarged == 1 && ds.first_enlarged_w == 6 && ds.first_enlarged_h == 10,
          "dataset_load/enlarged: at 8, the 6x10 image, its size");
    dcgan_dataset_free(&ds);
    opt.size = 10;   // a and b
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.enlarged == 2 && ds.first_enlarged == 0 &&
              ds.first_enlarged_w == 8 && ds.first_enlarged_h == 8,
          "dataset_load/enlarged: at 10, two, the first the 8x8 image");
    snprintf(cache, sizeof cache, "%s/enlarged_cache.bin", root);
    CHECK(dcgan_dataset_cache_save(&ds, cache, &opt) == DCGAN_OK &&
              dcgan_dataset_cache_load(&dc, cache, dir, &opt) == DCGAN_OK && dc.enlarged == 2 &&
              dc.first_enlarged == 0 && dc.first_enlarged_w == 8 && dc.first_enlarged_h == 8,
          "dataset_cache_load/enlarged: the same count and first");
    dcgan_dataset_free(&dc);
    dcgan_dataset_free(&ds);
    remove(cache);
    opt.size = 6;   // none
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.enlarged == 0 && ds.first_enlarged == -1 &&
              ds.first_enlarged_w == 0 && ds.first_enlarged_h == 0,
          "dataset_load/enlarged: none at 6");
    dcgan_dataset_free(&ds);
}

static void test_symlink_loop(void) {
    char dir[512], p[512], sub[512];
    unsigned char px[4 * 4 * 3] = {0};
    snprintf(dir, sizeof dir, "%s/loopset", root);
    snprintf(sub, sizeof sub, "%s/loopset/sub", root);
    mkdir(dir, 0777);
    mkdir(sub, 0777);
    path_in(p, sizeof p, "loopset/a.png");
    stbi_write_png(p, 4, 4, 3, px, 12);
    path_in(p, sizeof p, "loopset/sub/b.png");
    stbi_write_png(p, 4, 4, 3, px, 12);
    path_in(p, sizeof p, "loopset/loop");
    const int made = symlink(".", p) == 0;
    path_in(p, sizeof p, "loopset/sub/up");
    const int made2 = symlink("..", p) == 0;
    char **paths = NULL;
    int count = 0;
    char want_a[600], want_b[600];
    snprintf(want_a, sizeof want_a, "%s/a.png", dir);
    snprintf(want_b, sizeof want_b, "%s/sub/b.png", dir);
    CHECK(made && made2 && dcgan_list_images(&paths, &count, dir) == DCGAN_OK && count == 2 &&
              strcmp(paths[0], want_a) == 0 && strcmp(paths[1], want_b) == 0,
          "list_images/symlinks back up the tree are skipped: a.png and sub/b.png, once each");
    dcgan_paths_free(paths, count);
    // a folder linked under a second name, a symlink and a hard link to a listed
    // file: each file once, under its first name in sorted order (the folder was
    // listed twice, so a dataset held its images twice)
    path_in(p, sizeof p, "loopset/zz_sub_again");
    int more = symlink("sub", p) == 0;
    path_in(p, sizeof p, "loopset/0_link_to_a.png");
    more &= symlink("a.png", p) == 0;
    char hard[512];
    path_in(hard, sizeof hard, "loopset/sub/hard_b.png");
    more &= link(want_b, hard) == 0;
    char want_link[600];
    snprintf(want_link, sizeof want_link, "%s/0_link_to_a.png", dir);
    CHECK(more && dcgan_list_images(&paths, &count, dir) == DCGAN_OK && count == 2 &&
              strcmp(paths[0], want_link) == 0 && strcmp(paths[1], want_b) == 0,
          "list_images/a file reached under several names is listed once, by its first name in sorted order");
    dcgan_paths_free(paths, count);
    CHECK(dcgan_list_fid_images(&paths, &count, sub) == DCGAN_OK && count == 2,
          "list_fid_images/... while fid's listing keeps both names of a hard link, as pytorch-fid's glob does");
    dcgan_paths_free(paths, count);
    // a refusal names the function called (it named the internal scan)
    char missing[600], want[700];
    snprintf(missing, sizeof missing, "%s/no_such_folder", dir);
    snprintf(want, sizeof want, "list_fid_images: cannot open folder '%s': No such file or directory", missing);
    CHECK(dcgan_list_fid_images(&paths, &count, missing) == DCGAN_ERR_IO && strcmp(dcgan_last_error(), want) == 0,
          "list_fid_images/a missing folder: the message names list_fid_images");
    want[0] = '\0';
    snprintf(want, sizeof want, "list_images: cannot open folder '%s': No such file or directory", missing);
    CHECK(dcgan_list_images(&paths, &count, missing) == DCGAN_ERR_IO && strcmp(dcgan_last_error(), want) == 0,
          "list_images/... and list_images");
}

static void test_folder(void) {
    char dir[512], p[512];
    unsigned char px[10 * 10 * 3];
    dcgan_image_options opt;
    dcgan_dataset ds;
    snprintf(dir, sizeof dir, "%s/set", root);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/set/sub", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/set/empty", root);
    mkdir(p, 0777);
    pattern(px, 10, 10, 3);
    const char *names[] = {"set/b.PNG", "set/a.png", "set/sub/c.Png"};
    for (int i = 0; i < 3; i++) {   // three different images
        unsigned char mine[sizeof px];
        for (size_t k = 0; k < sizeof px; k++) mine[k] = (unsigned char)(px[k] + 85 * i);
        path_in(p, sizeof p, names[i]);
        stbi_write_png(p, 10, 10, i == 2 ? 1 : 3, mine, 10 * (i == 2 ? 1 : 3));
    }
    {
        // a JPEG that PIL wrote (stb's JPEG writer trips UBSan inside stb itself)
        unsigned char jpg[4096];
        FILE *f = fopen("tests/data/images/gray.jpeg", "rb");
        size_t n = f ? fread(jpg, 1, sizeof jpg, f) : 0;
        if (f) fclose(f);
        write_bytes("set/d.jpg", jpg, n);
    }
    write_bytes("set/notes.txt", "not an image", 12);
    write_bytes("set/broken.jpeg", "\xff\xd8\xff garbage", 11);
    write_bytes("set/zero.bmp", "", 0);
    dcgan_image_options_default(&opt);
    opt.size = 16;
    opt.on_skip = on_skip;
    count_skips = 0;
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK, "dataset_load/status");
    CHECK(ds.count == 4 && ds.skipped == 2 && count_skips == 2 && ds.listed == 6 && ds.unread == 1,
          "dataset_load/4 used, 2 skipped, txt not listed but counted as unread");
    CHECK(strstr(last_skip, "zero.bmp") || strstr(last_skip, "broken.jpeg"), "dataset_load/skip names the file");
    int sorted = ds.count == 4 && strstr(ds.paths[0], "a.png") && strstr(ds.paths[1], "b.PNG") &&
                 strstr(ds.paths[2], "d.jpg") && strstr(ds.paths[3], "sub/c.Png");
    CHECK(sorted, "dataset_load/sorted, recursive, any-case extensions");
    // each loaded image is its own file's pixels: a direct decode of ds.paths[i]
    // (broken.jpeg sits between b.PNG and d.jpg, so a skip that shifted the
    // images would put the wrong pixels under a name)
    int same = ds.count == 4;
    for (int i = 0; i < ds.count && same; i++) {
        float one[3 * 16 * 16];
        same = dcgan_image_load(one, ds.paths[i], &opt) == DCGAN_OK &&
               memcmp(one, ds.data + (size_t)i * 3 * 16 * 16, sizeof one) == 0;
    }
    CHECK(same, "dataset_load/image i equals a direct decode of paths[i], past a corrupt file in the middle");
    int differ = ds.count == 4;
    for (int i = 0; i + 1 < ds.count && differ; i++)
        differ = memcmp(ds.data + (size_t)i * 3 * 16 * 16, ds.data + (size_t)(i + 1) * 3 * 16 * 16,
                        3 * 16 * 16 * sizeof(float)) != 0;
    CHECK(differ, "dataset_load/the four images differ (so a shifted one would show)");
    // the cache: valid, then stale after a file changes, and damaged when cut short
    char cache[512];
    path_in(cache, sizeof cache, "cache.bin");
    CHECK(dcgan_dataset_cache_save(&ds, cache, &opt) == DCGAN_OK, "dataset_cache_save/status");
    dcgan_dataset c2;
    CHECK(dcgan_dataset_cache_load(&c2, cache, dir, &opt) == DCGAN_OK, "dataset_cache_load/valid cache");
    CHECK(c2.count == 4 && memcmp(c2.data, ds.data, 4 * 3 * 16 * 16 * sizeof(float)) == 0 &&
          strcmp(c2.paths[3], ds.paths[3]) == 0, "dataset_cache_load/same images and paths");
    dcgan_dataset_free(&c2);
    {   // max_images below the listing: the first two files, from the cache as from
        // the folder (the listing's other names were once left unfreed: the
        // sanitizer build's leak check sees them)
        dcgan_image_options o2 = opt;
        o2.max_images = 2;
        char cache2[512];
        path_in(cache2, sizeof cache2, "cache2.bin");
        dcgan_dataset d2, c3;
        CHECK(dcgan_dataset_load(&d2, dir, &o2) == DCGAN_OK && d2.count == 2 &&
                  dcgan_dataset_cache_save(&d2, cache2, &o2) == DCGAN_OK &&
                  dcgan_dataset_cache_load(&c3, cache2, dir, &o2) == DCGAN_OK && c3.count == 2 &&
                  memcmp(c3.data, d2.data, 2 * 3 * 16 * 16 * sizeof(float)) == 0 &&
                  strcmp(c3.paths[1], d2.paths[1]) == 0,
              "dataset_cache_load/max_images 2: the folder's first two images, from the cache too");
        dcgan_dataset_free(&c3);
        // the same cache with max_images 3: the third file was never in it (it was reused)
        dcgan_image_options o3 = opt;
        o3.max_images = 3;
        char want[1200];
        snprintf(want, sizeof want, "dataset_cache_load: '%s' is stale: the image files under '%s' are not those "
                 "it was made from (2 then, 3 now, or one added, removed or rewritten)", cache2, dir);
        CHECK(dcgan_dataset_cache_load(&c3, cache2, dir, &o3) == DCGAN_ERR_FORMAT &&
                  strcmp(dcgan_last_error(), want) == 0,
              "dataset_cache_load/made with max_images 2, asked with 3: stale (an audit: it was reused)");
        dcgan_dataset_free(&d2);
        remove(cache2);
    }
    {   // a file added to the folder (6 listed: 4 used, 2 skipped): stale, whole message;
        // removed again: valid again
        char added[600];
        path_in(added, sizeof added, "set/zz_new.png");
        const unsigned char blank[4 * 4 * 3] = {0};
        dcgan_dataset c4;
        char want[1200];
        snprintf(want, sizeof want, "dataset_cache_load: '%s' is stale: the image files under '%s' are not those "
                 "it was made from (6 then, 7 now, or one added, removed or rewritten)", cache, dir);
        CHECK(stbi_write_png(added, 4, 4, 3, blank, 12) != 0 &&
                  dcgan_dataset_cache_load(&c4, cache, dir, &opt) == DCGAN_ERR_FORMAT &&
                  strcmp(dcgan_last_error(), want) == 0 && c4.data == NULL,
              "dataset_cache_load/a new image file in the folder: stale (an audit: it was ignored)");
        remove(added);
        CHECK(dcgan_dataset_cache_load(&c4, cache, dir, &opt) == DCGAN_OK && c4.count == 4,
              "dataset_cache_load/... removed again: the cache is valid again");
        dcgan_dataset_free(&c4);
    }
    dcgan_image_options o1 = opt;
    o1.size = 8;
    CHECK(dcgan_dataset_cache_load(&c2, cache, dir, &o1) == DCGAN_ERR_FORMAT, "dataset_cache_load/other size is stale");
    struct utimbuf times = {1000000000, 1000000000};
    path_in(p, sizeof p, "set/a.png");
    utime(p, &times);
    CHECK(dcgan_dataset_cache_load(&c2, cache, dir, &opt) == DCGAN_ERR_FORMAT &&
          strstr(dcgan_last_error(), "a.png"), "dataset_cache_load/changed file is stale, named");
    dcgan_dataset_cache_save(&ds, cache, &opt);
    {
        // cut the last 100 bytes off the cache
        static unsigned char whole[1 << 16];
        FILE *f = fopen(cache, "rb");
        size_t len = f ? fread(whole, 1, sizeof whole, f) : 0;
        if (f) fclose(f);
        f = fopen(cache, "wb");
        if (f) {
            fwrite(whole, 1, len > 100 ? len - 100 : 0, f);
            fclose(f);
        }
    }
    CHECK(dcgan_dataset_cache_load(&c2, cache, dir, &opt) == DCGAN_ERR_FORMAT && c2.data == NULL,
          "dataset_cache_load/truncated cache is refused");
    dcgan_dataset_free(&ds);
    // an empty folder and a folder with nothing readable
    snprintf(p, sizeof p, "%s/set/empty", root);
    CHECK(dcgan_dataset_load(&ds, p, &opt) == DCGAN_ERR_FORMAT && strstr(dcgan_last_error(), "empty"),
          "dataset_load/empty folder is an error naming it");
    snprintf(p, sizeof p, "%s/nowhere", root);
    CHECK(dcgan_dataset_load(&ds, p, &opt) == DCGAN_ERR_IO, "dataset_load/missing folder is IO");
    // a folder of files of other types (DICOM, TIFF, WebP): the message counts
    // them and names the first in sorted order, wherever the scan met it
    snprintf(p, sizeof p, "%s/others", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/others/sub", root);
    mkdir(p, 0777);
    write_bytes("others/b.dcm", "DICM", 4);
    write_bytes("others/sub/a.webp", "RIFF", 4);
    write_bytes("others/a.tif", "II*", 3);
    write_bytes("others/.hidden.png", "x", 1);   // hidden: neither listed nor counted
    {   // sub reached a second time through a link: its file counted once (it was twice)
        char link[4200];
        snprintf(link, sizeof link, "%s/others/link", root);
        CHECK(symlink("sub", link) == 0, "dataset_load/others: a second link to sub/");
    }
    snprintf(p, sizeof p, "%s/others", root);
    char want[5000];
    snprintf(want, sizeof want, "dataset_load: no image files (jpg, jpeg, png, bmp, pgm, ppm, tga) under '%s', "
             "only 3 other files, the first '%s/a.tif' (convert DICOM, TIFF or WebP images to PNG)", p, p);
    CHECK(dcgan_dataset_load(&ds, p, &opt) == DCGAN_ERR_FORMAT && strcmp(dcgan_last_error(), want) == 0 &&
          ds.data == NULL, "dataset_load/a folder of other files: counted, the first named");
    // the same count on its own (classify split and subset list names only)
    int others = -1;
    char first[4200], cut[8], expect[4200];
    snprintf(expect, sizeof expect, "%s/a.tif", p);
    CHECK(dcgan_count_other_files(&others, first, sizeof first, p) == DCGAN_OK && others == 3 &&
              strcmp(first, expect) == 0,
          "count_other_files/3 files, the first in sorted order");
    CHECK(dcgan_count_other_files(&others, cut, sizeof cut, p) == DCGAN_OK && others == 3 &&
              strncmp(cut, expect, 7) == 0 && cut[7] == 0,
          "count_other_files/the first name cut to its buffer");
    snprintf(p, sizeof p, "%s/set", root);
    snprintf(expect, sizeof expect, "%s/notes.txt", p);
    CHECK(dcgan_count_other_files(&others, first, sizeof first, p) == DCGAN_OK && others == 1 &&
              strcmp(first, expect) == 0,
          "count_other_files/beside images: the one text file");
    // a second name of an image (a link under another extension, a hard link) is read, not other
    write_bytes("set/sub/c.Png.orig", "", 0);   // (a plain file first, replaced by the link)
    snprintf(p, sizeof p, "%s/set/sub/c.Png.orig", root);
    remove(p);
    CHECK(symlink("c.Png", p) == 0, "count_other_files/a link to an image under another name");
    snprintf(expect, sizeof expect, "%s/set/a.png", root);
    snprintf(first, sizeof first, "%s/set/a.png.bak", root);
    CHECK(link(expect, first) == 0, "count_other_files/a hard link to an image under another name");
    snprintf(p, sizeof p, "%s/set", root);
    snprintf(expect, sizeof expect, "%s/notes.txt", p);
    CHECK(dcgan_count_other_files(&others, first, sizeof first, p) == DCGAN_OK && others == 1 &&
              strcmp(first, expect) == 0,
          "count_other_files/an image's other names are not counted");
    // short of memory at each allocation in turn: the exact count, or DCGAN_ERR_NOMEM with the
    // outputs as they were (a failed comparison of the files dropped an image's pointer that
    // the listing still held: freed twice, and an other file lost)
    char twin[4200];   // an image under two image names: kept twice when memory is short
    snprintf(twin, sizeof twin, "%s/a2.png", p);
    snprintf(first, sizeof first, "%s/a.png", p);
    CHECK(link(first, twin) == 0, "count_other_files/a second image name of a.png");
    int exact = 0, refused = 0, wrong = 0;
    for (long k = 1; k < 200; k++) {
        others = 7;
        snprintf(first, sizeof first, "before");
        n_allocs = 0, fail_alloc_at = k;
        const dcgan_status st = dcgan_count_other_files(&others, first, sizeof first, p);
        fail_alloc_at = -1;
        if (st == DCGAN_OK && others == 1 && strcmp(first, expect) == 0) exact++;
        else if (st == DCGAN_ERR_NOMEM && others == 7 && strcmp(first, "before") == 0) refused++;
        else wrong++;
        if (n_allocs < k) break;   // (every allocation has failed once)
    }
    CHECK(wrong == 0 && refused > 3 && exact >= 1,
          "count_other_files/short of memory at each allocation: exact, or refused with the outputs kept");
    snprintf(p, sizeof p, "%s/nowhere", root);
    others = 7;
    snprintf(first, sizeof first, "before");
    snprintf(expect, sizeof expect, "count_other_files: cannot open folder '%s': No such file or directory", p);
    CHECK(dcgan_count_other_files(&others, first, sizeof first, p) == DCGAN_ERR_IO && others == 7 &&
              strcmp(first, "before") == 0 && strcmp(dcgan_last_error(), expect) == 0,
          "count_other_files/a missing folder is IO, in its own name, the outputs as they were");
}

static void test_phantom(void) {
    const int S = 64;
    unsigned char a[64 * 64], b[64 * 64];
    dcgan_rng r1, r2;
    dcgan_rng_seed(&r1, 3);
    dcgan_rng_seed(&r2, 3);
    dcgan_phantom_render(a, S, 0, &r1);
    dcgan_phantom_render(b, S, 0, &r2);
    CHECK(memcmp(a, b, sizeof a) == 0, "phantom_render/same seed, same image");
    dcgan_phantom_render(b, S, 0, &r2);
    CHECK(memcmp(a, b, sizeof a) != 0, "phantom_render/next image differs");
    // anatomy: lungs (left and right of centre, mid height) darker than the spine
    double lung = 0, spine = 0, outside = 0;
    double lung_n = 0, lung_p = 0;
    for (int y = 24; y < 36; y++) {
        for (int x = 14; x < 20; x++) lung += a[y * S + x] + a[y * S + (S - 1 - x)];
        for (int x = 31; x < 33; x++) spine += a[y * S + x];
        outside += a[y * S + 0];
    }
    CHECK(lung / 144 + 40 < spine / 24, "phantom_render/lungs darker than the spine");
    CHECK(outside / 12 < lung / 144, "phantom_render/air outside the body darkest");
    // pneumonia raises lung density on average
    for (int k = 0; k < 20; k++) {
        dcgan_phantom_render(a, S, 0, &r1);
        dcgan_phantom_render(b, S, 1, &r1);
        for (int y = 20; y < 40; y++)
            for (int x = 12; x < 22; x++) {
                lung_n += a[y * S + x] + a[y * S + S - 1 - x];
                lung_p += b[y * S + x] + b[y * S + S - 1 - x];
            }
    }
    CHECK(lung_p > lung_n * 1.03, "phantom_render/pneumonia opacities brighten the lungs");
}

// The black pixels of a 300 x 200 plot where a legend row "rising" (36 pixels
// wide, 7 high, 6 pixels inside the plot's corner) would sit: ink[0] in the top
// right corner, ink[1] in the bottom right. The plot spans x 62..284, y 34..160.
static void legend_ink(const unsigned char *rgb, int ink[2]) {
    for (int box = 0; box < 2; box++) {
        ink[box] = 0;
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 36; c++) {
                int py = box == 0 ? 34 + 6 + r : 160 - 6 - 7 + r, px = 284 - 6 - 36 + c;
                const unsigned char *q = rgb + ((size_t)py * 300 + px) * 3;
                ink[box] += q[0] == 0 && q[1] == 0 && q[2] == 0;
            }
    }
}

static void test_grid_plot(void) {
    float img[2 * 1 * 2 * 2] = {-2.0f, -1.0f, 0.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    unsigned char u8[4];
    dcgan_image_to_u8(u8, img, 1, 2, 2);
    CHECK(u8[0] == 0 && u8[1] == 0 && u8[2] == 128 && u8[3] == 255, "image_to_u8/clamped (x + 1) * 127.5");
    unsigned char *grid;
    int gw, gh;
    CHECK(dcgan_grid_make(&grid, &gw, &gh, img, 2, 1, 2, 2, 2, 1) == DCGAN_OK && gw == 7 && gh == 4,
          "grid_make/2 images in 2 columns with 1-pixel padding is 7x4");
    CHECK(grid[1 * 7 + 1] == 0 && grid[1 * 7 + 4] == 255 && grid[0] == 128, "grid_make/tiles and border");
    dcgan_free(grid);
    CHECK(dcgan_grid_make(&grid, &gw, &gh, img, 0, 1, 2, 2, 2, 1) == DCGAN_ERR_SHAPE, "grid_make/no images");
    // the plot: ink of the series colour appears, and the font glyphs are 5x7
    float y[50];
    for (int i = 0; i < 50; i++) y[i] = sinf((float)i * 0.2f);
    dcgan_plot_series s = {"sine", y, {200, 10, 20}};
    unsigned char *rgb = (unsigned char *)malloc(300 * 200 * 3);
    dcgan_plot_draw(rgb, 300, 200, "Title", "epoch", &s, 1, 50, 0.1f);
    int red = 0, black = 0;
    for (int k = 0; k < 300 * 200; k++) {
        red += rgb[k * 3] == 200 && rgb[k * 3 + 1] == 10;
        black += rgb[k * 3] == 0 && rgb[k * 3 + 1] == 0 && rgb[k * 3 + 2] == 0;
    }
    CHECK(red > 100 && black > 300, "plot_draw/series, axes and text are drawn");
    // the legend goes to the corner its box covers least: a rising line under a
    // flat unlabelled one at the top leaves only the bottom right empty; a falling
    // line leaves the top right empty. The plot spans x 62..284, y 34..160; the
    // legend's text "rising" is black, 36 pixels wide, its row 7 high, 6 pixels
    // inside the corner.
    float top_line[50];
    for (int i = 0; i < 50; i++) top_line[i] = 47.0f;   // drawn at y 42
    for (int dir = 0; dir < 2; dir++) {
        for (int i = 0; i < 50; i++) y[i] = dir == 0 ? (float)i : (float)(49 - i);
        dcgan_plot_series line[2] = {{"rising", y, {200, 10, 20}}, {"", top_line, {10, 10, 200}}};
        dcgan_plot_draw(rgb, 300, 200, "Title", "epoch", line, dir == 0 ? 2 : 1, 50, 0.1f);
        int ink[2];
        legend_ink(rgb, ink);
        CHECK(dir == 0 ? ink[0] == 0 && ink[1] > 20 : ink[0] > 20 && ink[1] == 0,
              dir == 0 ? "plot_draw/legend: a rising line puts it in the empty bottom right"
                       : "plot_draw/legend: a falling line keeps it in the top right");
    }
    // a line along the top edge (an accuracy that reaches 1 and stays) is inside the
    // legend's margin in both top corners: the legend goes to the bottom right, not
    // right under the line (its box alone, rows 40-46, held none of the line's pixels)
    {
        for (int i = 0; i < 50; i++) y[i] = i == 0 ? 0.0f : 1.0f;
        dcgan_plot_series line = {"rising", y, {200, 10, 20}};
        dcgan_plot_draw(rgb, 300, 200, "Title", "epoch", &line, 1, 50, 0.1f);
        int ink[2];
        legend_ink(rgb, ink);
        CHECK(ink[0] == 0 && ink[1] > 20, "plot_draw/legend: a line along the top edge sends it to the bottom right");
    }
    int glyphs_ok = 1;
    for (size_t i = 0; i < sizeof dcgan__font / sizeof dcgan__font[0]; i++)
        glyphs_ok &= strlen(dcgan__font[i].rows) == 35;
    CHECK(glyphs_ok, "plot font/every glyph is 7 rows of 5");
    // categories: 2 points centred in their halves of the 222-pixel-wide plot
    // (x = 62 + round(222 / 4) = 118 and 62 + round(3 * 222 / 4) = 229), a 5x5
    // mark on each, a tick under each; the horizontal line between is 1 pixel tall
    float flat[2] = {0.5f, 0.5f};
    dcgan_plot_series f = {"flat", flat, {200, 10, 20}};
    const char *ticks[2] = {"10", "all"};
    dcgan_plot_draw_categories(rgb, 300, 200, "Curve", "patients", ticks, &f, 1, 2);
    int col[6] = {116, 118, 120, 121, 229, 231}, reds[6];
    for (int k = 0; k < 6; k++) {
        reds[k] = 0;
        for (int row = 0; row < 200; row++)
            reds[k] += rgb[(row * 300 + col[k]) * 3] == 200 && rgb[(row * 300 + col[k]) * 3 + 1] == 10;
    }
    CHECK(reds[0] == 5 && reds[1] == 5 && reds[2] == 5 && reds[3] == 1 && reds[4] == 5 && reds[5] == 5,
          "plot_draw_categories/5x5 marks at the category centres, a 1-pixel line between");
    const unsigned char *tick = rgb + ((size_t)(34 + 126 + 2) * 300 + 118) * 3;
    CHECK(tick[0] == 0 && tick[1] == 0 && tick[2] == 0, "plot_draw_categories/a tick under the first category");
    free(rgb);
    char p[512];
    path_in(p, sizeof p, "no/such/dir/x.png");
    CHECK(dcgan_png_write(p, u8, 2, 2, 1) == DCGAN_ERR_IO, "png_write/unwritable path gives IO");
}

// What a helper's audit of the public API found in the picture helpers: stb
// read past the pixels for a PNG 0 wide and past its tables for 5 channels
// (png_write now refuses both, and a 0-high one, writing nothing); a NaN pixel
// was cast to unsigned char (undefined; now 0); grid_make's int sides wrapped
// to a small buffer; plot_draw with x_scale 0 never returned; plot_bars read a
// NULL legend label.
static void test_picture_helper_bounds(void) {
    unsigned char px[64] = {0};
    char p[512], want[700];
    path_in(p, sizeof p, "bounds.png");
    remove(p);
    const int shapes[4][3] = {{0, 4, 3}, {4, 4, 5}, {4, 0, 3}, {-2, 4, 3}};
    int ok = 1;
    for (int k = 0; k < 4; k++) {
        snprintf(want, sizeof want, "png_write: '%s': a PNG of %dx%d with %d channels (need sides > 0, 1-4 channels, "
                 "(w * channels + 1) * h below 2^31)", p, shapes[k][0], shapes[k][1], shapes[k][2]);
        ok &= dcgan_png_write(p, px, shapes[k][0], shapes[k][1], shapes[k][2]) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), want) == 0 && access(p, F_OK) != 0;
    }
    CHECK(ok, "png_write/0 wide, 5 channels, 0 high, -2 wide: refused with the shape named, no file");
    // stb counts the filtered image, (w * channels + 1) * h, in an int: 65535 x 65537 gray wrapped to
    // 65536 bytes and stb wrote past them (a referee's reading); refused before a pixel is read
    snprintf(want, sizeof want, "png_write: '%s': a PNG of 65535x65537 with 1 channels (need sides > 0, 1-4 "
             "channels, (w * channels + 1) * h below 2^31)", p);
    CHECK(dcgan_png_write(p, px, 65535, 65537, 1) == DCGAN_ERR_SHAPE && strcmp(dcgan_last_error(), want) == 0 &&
              access(p, F_OK) != 0,
          "png_write/an image whose filtered bytes pass INT_MAX is refused");
    CHECK(dcgan_png_write(p, px, 4, 4, 2) == DCGAN_OK && access(p, F_OK) == 0, "png_write/gray + alpha is written");
    remove(p);
    const float nan_pixel[2] = {NAN, 0.0f};
    unsigned char u8[2] = {7, 7};
    dcgan_image_to_u8(u8, nan_pixel, 1, 1, 2);
    CHECK(u8[0] == 0 && u8[1] == 128, "image_to_u8/a NaN pixel is 0");
    static float tall[1];
    unsigned char *grid = NULL;
    int gw = -1, gh = -1;
    CHECK(dcgan_grid_make(&grid, &gw, &gh, tall, 4, 1, 1, 1 << 30, 4, 2) == DCGAN_ERR_SHAPE &&
              strcmp(dcgan_last_error(), "grid_make: a grid of 4294967306x5 pixels (4 images of 1x1073741824 in 4 "
                                         "columns, pad 2) has a side above INT_MAX") == 0 &&
              grid == NULL && gw == -1,
          "grid_make/sides past INT_MAX are refused (they wrapped to a small buffer)");
    float y[3] = {1.0f, 2.0f, 3.0f};
    unsigned char *rgb = (unsigned char *)malloc(200 * 150 * 3);
    dcgan_plot_series s = {NULL, y, {200, 10, 20}};
    dcgan_plot_draw(rgb, 200, 150, "t", "x", &s, 1, 3, 0.0f);
    dcgan_plot_draw(rgb, 200, 150, "t", "x", &s, 1, 3, -1.0f);
    dcgan_plot_draw(rgb, 200, 150, "t", "x", &s, 1, 3, NAN);
    int red = 0;
    for (int k = 0; k < 200 * 150; k++) red += rgb[k * 3] == 200 && rgb[k * 3 + 1] == 10;
    CHECK(red > 0, "plot_draw/x_scale 0, -1 and NaN return (0 looped for ever) and draw the series");
    const char *groups[1] = {"g"};
    dcgan_plot_bars(rgb, 200, 150, "bars", groups, 1, &s, 1, NULL, 0.0f, 4.0f);
    red = 0;
    for (int k = 0; k < 200 * 150; k++) red += rgb[k * 3] == 200 && rgb[k * 3 + 1] == 10;
    CHECK(red > 100, "plot_bars/a series with a NULL label is drawn, its swatch without text");
    free(rgb);
}

static void test_decoder_crash(void) {
#if (defined(__unix__) || defined(__APPLE__)) && !defined(DCGAN_NO_FORK)
    fprintf(stderr, "test_images: a decoder crash report below, if any, is a child process crashing "
                    "on purpose\n");
    // a folder of 3 good images and one whose decoder dies: 3 loaded, 1 skipped, named
    unsigned char px[8 * 8];
    char p[700], dir[512], want1[900], want2[900];
    for (int i = 0; i < 64; i++) px[i] = (unsigned char)(i * 4);
    path_in(dir, sizeof dir, "crashdir");
    mkdir(dir, 0777);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s_%d.png", dir, i == 2 ? "crash_me" : "good", i);
        stbi_write_png(p, 8, 8, 1, px, 8);
    }
    dcgan_image_options opt;
    dcgan_dataset ds;
    dcgan_image_options_default(&opt);
    opt.size = 8;
    opt.channels = 1;
    opt.on_skip = on_skip;
    count_skips = 0;
    CHECK(dcgan_dataset_load(&ds, dir, &opt) == DCGAN_OK && ds.count == 3 && ds.skipped == 1 && count_skips == 1,
          "decoder crash/3 images loaded, the crashing one skipped");
    // killed by the signal; under AddressSanitizer its handler ends the child with status 1 instead
    snprintf(p, sizeof p, "%s/crash_me_2.png", dir);
    snprintf(want1, sizeof want1, "dataset_load: '%s': the image decoder crashed on it (signal 11); "
             "the file is skipped", p);
    snprintf(want2, sizeof want2, "dataset_load: '%s': the decoder process ended without an answer", p);
    CHECK(strcmp(last_skip, want1) == 0 || strcmp(last_skip, want2) == 0,
          "decoder crash/the whole message names the file");
    if (strcmp(last_skip, want1) != 0 && strcmp(last_skip, want2) != 0) fprintf(stderr, "got: %s\n", last_skip);
    dcgan_dataset_free(&ds);
    // the inputs that crash Debian's stb_image (tests/stb_crashes/): each one is an
    // unreadable file, and this process goes on (it used to die here under ASan)
    static const char *hostile[2] = {"tests/stb_crashes/progressive_jpeg_2.jpg",
                                     "tests/stb_crashes/progressive_jpeg_huff_decode.jpg"};
    for (int i = 0; i < 2; i++) {
        float out[16 * 16];
        dcgan_image_options_default(&opt);
        opt.size = 16;
        opt.channels = 1;
        CHECK(dcgan_image_load(out, hostile[i], &opt) == DCGAN_ERR_FORMAT &&
              strstr(dcgan_last_error(), hostile[i]) != NULL,
              "decoder crash/a hostile JPEG is refused with its name, the process lives");
    }
#else
    printf("skip: decoder crashes (a build that decodes in the process: a crash would end it)\n");
#endif
}

// The decoder helper is forked from the program: it must not keep the program's
// descriptors open, or a lock the program holds (train's OUT/.lock) outlives
// the program when it is killed, until the helper notices, and blocks the next
// run. Linux: /proc/<helper>/fd lists what the helper holds.
static void test_helper_descriptors(void) {
#if defined(__linux__) && !defined(DCGAN_NO_FORK)
    char p[700], img[700], fdpath[128];
    unsigned char px[64];
    float out[64];
    dcgan_image_options opt;
    memset(px, 128, sizeof px);
    path_in(p, sizeof p, "held.lock");
    path_in(img, sizeof img, "helper_fd.png");
    stbi_write_png(img, 8, 8, 1, px, 8);
    FILE *held = fopen(p, "w");
    dcgan__helper_stop(0);   // the next decode starts a helper while `held` is open
    dcgan_image_options_default(&opt);
    opt.size = 8;
    opt.channels = 1;
    CHECK(held && dcgan_image_load(out, img, &opt) == DCGAN_OK && dcgan__helpers[0].pid > 0,
          "decoder helper/started for a decode");
    snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", dcgan__helpers[0].pid, held ? fileno(held) : -1);
    CHECK(access(fdpath, F_OK) != 0,
          "decoder helper/holds none of the program's descriptors (a lock dies with the program)");
    if (held) fclose(held);
#else
    printf("skip: decoder helper descriptors (Linux with fork only)\n");
#endif
}

// dcgan_dataset_load decodes on every thread, each with its own decoder helper,
// and hands on the results in the files' order: on 1 and on 4 threads the same
// images bit for bit, the same paths, and the same calls of on_skip and
// on_progress in the same order (a file the decoder crashes on, a broken one
// and an empty one among 60 images), with the helpers and in the process. On 4
// threads its helpers are slots claimed for it, one per thread that decodes,
// each mapping its own memory only, all stopped when the load ends; the
// program's own (slot 0) is not used. A callback may load another folder (a
// lock held around the whole load made that hang).
#if defined(_OPENMP) && (defined(__unix__) || defined(__APPLE__)) && !defined(DCGAN_NO_FORK)
typedef struct {
    char log[64 * 1024];
    size_t used;
    const char *nested_dir;   // on_progress loads this folder at file 5 (NULL: not)
    int nested_count;         // what that load gave: images, or -1 when it failed
    int look;                 // 1: on_progress looks at the helpers at file 40
    int live, own_memory_only;   // what it saw: helpers in slots above 0; 1 if each maps only its own
} call_log;

static void log_skip(void *user, const char *path, const char *reason) {
    call_log *l = (call_log *)user;
    int n = snprintf(l->log + l->used, sizeof l->log - l->used, "skip %s: %s\n", path, reason);
    if (n > 0 && (size_t)n < sizeof l->log - l->used) l->used += (size_t)n;
}

// The helpers in slots above 0 now, and whether each maps its own slot's memory
// and no other's (Linux: one /dev/zero mapping in /proc/<helper>/maps, at its
// slot's address; it used to hold every slot started before it).
static void look_at_helpers(call_log *l) {
    l->live = 0;
    l->own_memory_only = 1;
    for (int slot = 1; slot < DCGAN__HELPER_SLOTS; slot++) {
        if (dcgan__helpers[slot].pid <= 0) continue;
        l->live++;
#ifdef __linux__
        char maps[64], line[512];
        int shared = 0, own = 0;
        snprintf(maps, sizeof maps, "/proc/%d/maps", dcgan__helpers[slot].pid);
        FILE *f = fopen(maps, "r");
        while (f && fgets(line, sizeof line, f)) {
            unsigned long at = 0;
            if (!strstr(line, "/dev/zero")) continue;
            shared++;
            const unsigned long mine = (unsigned long)(uintptr_t)dcgan__helpers[slot].shared;
            own += sscanf(line, "%lx-", &at) == 1 && at == mine;
        }
        if (f) fclose(f);
        l->own_memory_only &= shared == 1 && own == 1;
#endif
    }
}

static void log_progress(void *user, int done, int total) {
    call_log *l = (call_log *)user;
    int n = snprintf(l->log + l->used, sizeof l->log - l->used, "%d/%d\n", done, total);
    if (n > 0 && (size_t)n < sizeof l->log - l->used) l->used += (size_t)n;
    if (l->look && done == 40) look_at_helpers(l);
    if (l->nested_dir && done == 5) {
        dcgan_image_options opt;
        dcgan_dataset ds;
        dcgan_image_options_default(&opt);
        opt.size = 8;
        opt.channels = 1;
        l->nested_count = dcgan_dataset_load(&ds, l->nested_dir, &opt) == DCGAN_OK ? ds.count : -1;
        dcgan_dataset_free(&ds);
    }
}

// 1 if the progress lines of log are 1/62 .. 62/62 in order, with a skip line
// right before the progress line of each of the `skips` files skipped: file 1
// (crash_me_17.png, when it is skipped), 32 (img_30b.jpeg) and 48 (img_45b.bmp).
static int in_files_order(const call_log *log, int skips_wanted) {
    int next = 1, in_order = 1, skips = 0;
    for (const char *line = log->log; line < log->log + log->used; line = strchr(line, '\n') + 1) {
        char want[32];
        snprintf(want, sizeof want, "%d/62\n", next);
        if (strncmp(line, "skip ", 5) == 0) {
            skips++;
            in_order &= (next == 1 && strstr(line, "crash_me_17")) ||
                        (next == 32 && strstr(line, "img_30b.jpeg")) || (next == 48 && strstr(line, "img_45b.bmp"));
        } else {
            in_order &= strncmp(line, want, strlen(want)) == 0;
            next++;
        }
    }
    return in_order && next == 63 && skips == skips_wanted;
}

static int same_load(const dcgan_dataset *a, const dcgan_dataset *b, const call_log *la, const call_log *lb) {
    int same = a->count == b->count && a->skipped == b->skipped &&
               memcmp(a->data, b->data, (size_t)a->count * 64 * sizeof(float)) == 0 && la->used > 0 &&
               la->used == lb->used && memcmp(la->log, lb->log, la->used) == 0;
    for (int i = 0; same && i < a->count; i++) same = strcmp(a->paths[i], b->paths[i]) == 0;
    return same;
}

static void say_crashes_on_purpose(void) {
    fprintf(stderr, "test_images: decoder crash reports below, if any, are child processes crashing "
                    "on purpose\n");
}

static void test_parallel_load(void) {
    say_crashes_on_purpose();
    char dir[512], p[1200];
    path_in(dir, sizeof dir, "many");
    mkdir(dir, 0777);
    for (int i = 0; i < 60; i++) {   // each image its own: (x * 7 + y * 13 + i * 29) % 256
        unsigned char px[12 * 9];
        for (int k = 0; k < 12 * 9; k++) px[k] = (unsigned char)((k % 12) * 7 + (k / 12) * 13 + i * 29);
        snprintf(p, sizeof p, "%s/%s_%02d.png", dir, i == 17 ? "crash_me" : "img", i);
        stbi_write_png(p, 12, 9, 1, px, 12);
    }
    write_bytes("many/img_30b.jpeg", "\xff\xd8\xff garbage", 11);
    write_bytes("many/img_45b.bmp", "", 0);
    char nested[512];   // 4 images for a callback to load
    path_in(nested, sizeof nested, "nested");
    mkdir(nested, 0777);
    for (int i = 0; i < 4; i++) {
        unsigned char px[8 * 8];
        memset(px, 40 * i, sizeof px);
        snprintf(p, sizeof p, "%s/n%d.png", nested, i);
        stbi_write_png(p, 8, 8, 1, px, 8);
    }
    // runs: helpers on 1 thread, on 4, on 4 with a nested load; in the process on 1, on 4
    enum { RUNS = 5 };
    static call_log logs[RUNS];
    dcgan_dataset ds[RUNS];
    dcgan_status st[RUNS];
    int slot0_before = 0, slot0_after = 0, left_after = 0;
    const int dynamic = omp_get_dynamic();
    omp_set_dynamic(0);   // (OMP_DYNAMIC=true may give a load fewer threads than asked for)
    for (int run = 0; run < RUNS; run++) {
        dcgan_image_options opt;
        dcgan_image_options_default(&opt);
        opt.size = 8;
        opt.channels = 1;
        opt.on_skip = log_skip;
        opt.on_progress = log_progress;
        opt.user = &logs[run];
        logs[run].used = 0;
        logs[run].nested_count = -2;
        logs[run].nested_dir = run == 2 ? nested : NULL;
        logs[run].look = run == 1;
        dcgan_set_isolated_decoding(run < 3);
        dcgan_set_threads(run == 0 || run == 3 ? 1 : 4);
        slot0_before = run == 1 ? dcgan__helpers[0].pid : slot0_before;
        st[run] = dcgan_dataset_load(&ds[run], dir, &opt);
        if (run == 1) {
            call_log after;
            look_at_helpers(&after);
            left_after = after.live;
            slot0_after = dcgan__helpers[0].pid;
        }
    }
    dcgan_set_isolated_decoding(1);
    dcgan_set_threads(0);
    omp_set_dynamic(dynamic);
    CHECK(st[0] == DCGAN_OK && st[1] == DCGAN_OK && ds[0].count == 59 && ds[0].skipped == 3 &&
              same_load(&ds[0], &ds[1], &logs[0], &logs[1]) && in_files_order(&logs[1], 3),
          "dataset_load/on 4 threads: the images, paths and callbacks (in the files' order) of 1 thread");
    snprintf(p, sizeof p, "skip %s/crash_me_17.png: dataset_load: '%s/crash_me_17.png': ", dir, dir);
    CHECK(strstr(logs[1].log, p) != NULL, "dataset_load/on 4 threads: the crashing file is skipped, named");
    if (omp_get_thread_limit() >= 2) {
        CHECK(logs[1].live >= 2 && slot0_after == slot0_before && left_after == 0,
              "dataset_load/on 4 threads: helpers in slots 1, 2, ... (not the program's), stopped at its end");
        if (logs[1].live < 2 || left_after != 0)
            fprintf(stderr, "helpers during the load: %d, after it: %d\n", logs[1].live, left_after);
    } else {
        printf("skip: dataset_load's helpers on several threads (OMP_THREAD_LIMIT below 2)\n");
    }
#ifdef __linux__
    CHECK(logs[1].own_memory_only, "dataset_load/each decoder helper maps its own slot's memory, no other's");
#endif
    CHECK(st[2] == DCGAN_OK && same_load(&ds[1], &ds[2], &logs[1], &logs[2]) && logs[2].nested_count == 4,
          "dataset_load/a callback loads another folder (4 images) during a load on 4 threads");
    // in the process the decoder does not crash on crash_me: 60 images, 2 skipped
    CHECK(st[3] == DCGAN_OK && st[4] == DCGAN_OK && ds[3].count == 60 && ds[3].skipped == 2 &&
              same_load(&ds[3], &ds[4], &logs[3], &logs[4]) && in_files_order(&logs[4], 2),
          "dataset_load/in the process, on 4 threads: the images, paths and callbacks of 1 thread");
    if (!same_load(&ds[0], &ds[1], &logs[0], &logs[1]))
        fprintf(stderr, "1 thread:\n%.2000s\n4 threads:\n%.2000s\n", logs[0].log, logs[1].log);
    for (int run = 0; run < RUNS; run++) dcgan_dataset_free(&ds[run]);
}

// A helper that crashed is started again by the thread that used it, in the
// loop, while the other threads decode and run callbacks: that fork must wait
// until none of them is busy (see dcgan__fork_gate; a fork beside a thread
// holding the allocator's lock can hang the child for ever). Here a third of
// the files crash their helper, and on_progress and each other file's decoding
// take 5 and 3 ms more, so a fork that did not wait for either would fall
// inside one most of the time.
static void slow_progress(void *user, int done, int total) {
    (void)user, (void)done, (void)total;
    __atomic_store_n(&in_callback, 1, __ATOMIC_SEQ_CST);
    poll(NULL, 0, 5);   // (5 ms)
    __atomic_store_n(&in_callback, 0, __ATOMIC_SEQ_CST);
}

static void test_restarts_gated(void) {
    say_crashes_on_purpose();
    char dir[512], p[1200];
    path_in(dir, sizeof dir, "restarts");
    mkdir(dir, 0777);
    for (int i = 0; i < 30; i++) {
        unsigned char px[8 * 8];
        memset(px, 8 * i, sizeof px);
        snprintf(p, sizeof p, "%s/%s_%02d.png", dir, i % 3 == 1 ? "crash_me" : "img", i);
        stbi_write_png(p, 8, 8, 1, px, 8);
    }
    if (omp_get_thread_limit() < 2) {
        printf("skip: helpers started again on several threads (OMP_THREAD_LIMIT below 2)\n");
        return;
    }
    const int dynamic = omp_get_dynamic();
    omp_set_dynamic(0);
    dcgan_set_threads(4);
    dcgan_image_options opt;
    dcgan_image_options_default(&opt);
    opt.size = 8;
    opt.channels = 1;
    opt.on_progress = slow_progress;
    dcgan_dataset ds;
    forks = forks_in_callback = forks_beside_decode = decode_threads = 0;
    decode_ms = 3;
    const dcgan_status st = dcgan_dataset_load(&ds, dir, &opt);
    decode_ms = 0;
    dcgan_set_threads(0);
    omp_set_dynamic(dynamic);
    int right = st == DCGAN_OK && ds.count == 20 && ds.skipped == 10;
    for (int i = 0; right && i < 20; i++) right = ds.data[(size_t)i * 64] == ((float)(8 * (i / 2 * 3 + i % 2 * 2)) - 127.5f) / 127.5f;
    CHECK(right, "dataset_load/on 4 threads, helpers crashing on 10 of 30 files: the 20 others, in order");
    if (st == DCGAN_OK) dcgan_dataset_free(&ds);
    if (decode_threads < 2) {   // (OMP_MAX_ACTIVE_LEVELS=0, say: one thread, the program's helper)
        printf("skip: helpers started again on several threads (the load ran on %d)\n", decode_threads);
        return;
    }
    // 4 helpers forked before the threads start, and at least 6 again in the loop
    // (each crash ends a helper; at most one per thread is not needed again)
    CHECK(forks >= 10 && forks_in_callback == 0,
          "dataset_load/a helper started again in the loop waits for the callbacks running");
    CHECK(forks >= 10 && forks_beside_decode == 0,
          "dataset_load/a helper started again in the loop waits for the other threads' decoding");
    if (forks < 10 || forks_in_callback != 0 || forks_beside_decode != 0)
        fprintf(stderr, "forks: %d, of them during a callback: %d, beside decoding: %d (threads: %d)\n", forks,
                forks_in_callback, forks_beside_decode, decode_threads);
}
#else
static void test_parallel_load(void) {
    printf("skip: dataset_load on several threads (a build with OpenMP and decoder helpers only)\n");
}

static void test_restarts_gated(void) {
    printf("skip: helpers started again on several threads (a build with OpenMP and decoder helpers only)\n");
}
#endif

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"decode_formats", test_decode_formats},
        {"decode_errors", test_decode_errors},
        {"resize", test_resize},
        {"folder", test_folder},
        {"dark_images", test_dark_images},
        {"enlarged_images", test_enlarged_images},
        {"symlink_loop", test_symlink_loop},
        {"phantom", test_phantom},
        {"grid_plot", test_grid_plot},
        {"picture_helper_bounds", test_picture_helper_bounds},
        {"decoder_crash", test_decoder_crash},
        {"helper_descriptors", test_helper_descriptors},
        {"parallel_load", test_parallel_load},
        {"restarts_gated", test_restarts_gated},
    };
    make_root();
    int rc = check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return rc;
}
