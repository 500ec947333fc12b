// fixture.h - reads the golden files that tests/make_reference.py writes.
// Format (little-endian): u32 magic "DCGT", u32 version 1, u32 count, then per
// array: u32 name length, name, u32 ndim, u32 dims[ndim], float32 data.
#ifndef FIXTURE_H
#define FIXTURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[96];
    int ndim, dims[4];
    size_t count;
    float *data;
} fixture_array;

typedef struct { int count; fixture_array *arrays; } fixture;

static int fixture__u32(FILE *f, uint32_t *v) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) return 0;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

// Loads path into fx; prints why and returns 0 on any problem.
static int fixture_load(fixture *fx, const char *path) {
    FILE *f = fopen(path, "rb");
    uint32_t magic, version, count;
    memset(fx, 0, sizeof *fx);
    if (!f) { fprintf(stderr, "fixture: cannot open %s\n", path); return 0; }
    if (!fixture__u32(f, &magic) || !fixture__u32(f, &version) || !fixture__u32(f, &count) ||
        magic != 0x54474344u || version != 1 || count > 10000) {
        fprintf(stderr, "fixture: %s is not a version-1 DCGT file\n", path);
        fclose(f);
        return 0;
    }
    fx->arrays = (fixture_array *)calloc(count, sizeof(fixture_array));
    fx->count = (int)count;
    for (uint32_t i = 0; i < count; i++) {
        fixture_array *a = &fx->arrays[i];
        uint32_t len, ndim, d;
        if (!fixture__u32(f, &len) || len >= sizeof a->name || fread(a->name, 1, len, f) != len ||
            !fixture__u32(f, &ndim) || ndim > 4) goto bad;
        a->ndim = (int)ndim;
        a->count = 1;
        for (uint32_t k = 0; k < ndim; k++) {
            if (!fixture__u32(f, &d)) goto bad;
            a->dims[k] = (int)d;
            a->count *= d;
        }
        a->data = (float *)malloc(a->count * sizeof(float) + 1);
        if (fread(a->data, sizeof(float), a->count, f) != a->count) goto bad;
    }
    fclose(f);
    return 1;
bad:
    fprintf(stderr, "fixture: %s is truncated or malformed\n", path);
    fclose(f);
    return 0;
}

// The array called name, or NULL (and a message) if there is none.
static fixture_array *fixture_get(fixture *fx, const char *name) {
    for (int i = 0; i < fx->count; i++)
        if (strcmp(fx->arrays[i].name, name) == 0) return &fx->arrays[i];
    fprintf(stderr, "fixture: no array named '%s'\n", name);
    return NULL;
}

static void fixture_free(fixture *fx) {
    for (int i = 0; i < fx->count; i++) free(fx->arrays[i].data);
    free(fx->arrays);
    memset(fx, 0, sizeof *fx);
}
#endif
