// rate_csv.h - the two files `rate score` reads: key.csv (written by rate make)
// and a rater's answers (downloaded from rate.html). Every line is checked
// against the key; problems are reported with the file and the line, never a
// crash. Used by rate.c and by the fuzz target "answers" (tests/fuzz_targets.h).
#ifndef RATE_CSV_H
#define RATE_CSV_H
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"   // cli_csv_split

// 1: the readers say nothing (the fuzz target sets it); 0: problems go to stderr.
static int rate_csv_quiet = 0;
static char rate_csv_last[512];   // the last message, quiet or not (for the tests)

static void rate_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rate_csv_last, sizeof rate_csv_last, fmt, ap);
    va_end(ap);
    rate_csv_last[strcspn(rate_csv_last, "\n")] = '\0';
    if (!rate_csv_quiet) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
}

typedef struct {
    char id[32];
    int fake;           // truth
} key_item;

typedef struct {
    char *name;         // as written in the file, whole (NULL until the first answer)
    const char *file;
    int *answer;        // per key item: -1 none, 0 real, 1 fake
    int *confidence;    // 1..3
    int answered;
} rater;

// Past a UTF-8 byte order mark at the start of a file (Excel writes one when it
// saves a CSV as UTF-8).
static char *skip_bom(char *line) {
    return strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
}

// The key's items sorted by id (ties in key order), for lookups in log n steps: a search
// through the whole key per line took minutes for a key of 200,000 images (--count 100000).
static int key_ptr_cmp(const void *pa, const void *pb) {
    const key_item *a = *(const key_item *const *)pa, *b = *(const key_item *const *)pb;
    const int c = strcmp(a->id, b->id);
    return c ? c : (a > b) - (a < b);
}

// A sorted array of pointers into key (the caller frees it), or NULL when out of memory.
static const key_item **key_sorted(const key_item *key, int n) {
    const key_item **sorted = (const key_item **)malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted) return NULL;
    for (int i = 0; i < n; i++) sorted[i] = &key[i];
    qsort(sorted, (size_t)n, sizeof *sorted, key_ptr_cmp);
    return sorted;
}

// The index in key of id (sorted as key_sorted makes it), or -1.
static int key_find(const key_item *key, const key_item *const *sorted, int n, const char *id) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        const int mid = lo + (hi - lo) / 2, c = strcmp(sorted[mid]->id, id);
        if (c == 0) return (int)(sorted[mid] - key);
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int read_key(const char *path, key_item **out, int *n) {
    FILE *f = fopen(path, "r");
    if (!f) { rate_say("rate score: cannot read '%s': %s\n", path, strerror(errno)); return 1; }
    char line[8192], *field[3];
    int cap = 64, count = 0, lineno = 0;
    key_item *key = (key_item *)malloc((size_t)cap * sizeof(key_item));
    int *line_of = (int *)malloc((size_t)cap * sizeof(int));   // per item: its line in the file
    if (!key || !line_of) { rate_say("rate score: out of memory\n"); fclose(f); free(key); free(line_of); return 1; }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        int nf = cli_csv_split(lineno == 1 ? skip_bom(line) : line, field, 3);
        if (lineno == 1) {
            if (nf < 2 || strcmp(field[0], "id") != 0 || strcmp(field[1], "truth") != 0) {
                rate_say("rate score: '%s' is not a key from rate make (its first line is not 'id,truth,source')\n", path);
                fclose(f); free(key); free(line_of); return 1;
            }
            continue;
        }
        if (nf == 1 && field[0][0] == '\0') continue;   // an empty line
        if (nf < 2 || strlen(field[0]) >= sizeof key->id || (strcmp(field[1], "real") != 0 && strcmp(field[1], "fake") != 0)) {
            rate_say("rate score: %s:%d: expected 'id,real|fake,source'\n", path, lineno);
            fclose(f); free(key); free(line_of); return 1;
        }
        if (count == cap) {
            key_item *more = (key_item *)realloc(key, (size_t)cap * 2 * sizeof(key_item));
            if (more) key = more;
            int *more_lines = more ? (int *)realloc(line_of, (size_t)cap * 2 * sizeof(int)) : NULL;
            if (more_lines) line_of = more_lines;
            if (!more || !more_lines) {
                rate_say("rate score: out of memory reading '%s'\n", path);
                fclose(f); free(key); free(line_of); return 1;
            }
            cap *= 2;
        }
        snprintf(key[count].id, sizeof key[count].id, "%s", field[0]);
        line_of[count] = lineno;
        key[count++].fake = strcmp(field[1], "fake") == 0;
    }
    // fopen takes a folder, and fgets then fails: without this it read as a key with no images
    if (ferror(f)) {
        rate_say("rate score: cannot read '%s': %s\n", path, strerror(errno));
        fclose(f); free(key); free(line_of); return 1;
    }
    fclose(f);
    if (count == 0) { rate_say("rate score: '%s' has no images\n", path); free(key); free(line_of); return 1; }
    // an id twice: named at the first line that repeats an earlier one
    const key_item **sorted = key_sorted(key, count);
    if (!sorted) { rate_say("rate score: out of memory reading '%s'\n", path); free(key); free(line_of); return 1; }
    int again = -1;   // (ties sort in key order: sorted[i] is the later of the two)
    for (int i = 1; i < count; i++) {
        const int at = (int)(sorted[i] - key);
        if (strcmp(sorted[i]->id, sorted[i - 1]->id) == 0 && (again < 0 || at < again)) again = at;
    }
    free(sorted);
    if (again >= 0) {
        rate_say("rate score: %s:%d: id '%s' appears twice\n", path, line_of[again], key[again].id);
        free(key);
        free(line_of);
        return 1;
    }
    free(line_of);
    *out = key;
    *n = count;
    return 0;
}

// One answers file (one rater): every line checked against the key.
static int read_answers(const char *path, const key_item *key, int n_key, rater *r) {
    FILE *f = fopen(path, "r");
    if (!f) { rate_say("rate score: cannot read '%s': %s\n", path, strerror(errno)); return 1; }
    char line[8192], *field[5];
    int lineno = 0, rc = 0;
    int *line_of = (int *)calloc((size_t)n_key, sizeof(int));
    const key_item **sorted = key_sorted(key, n_key);
    r->file = path;
    r->name = NULL;
    r->answer = (int *)malloc((size_t)n_key * sizeof(int));
    r->confidence = (int *)calloc((size_t)n_key, sizeof(int));
    if (!line_of || !sorted || !r->answer || !r->confidence) {
        rate_say("rate score: out of memory\n");
        fclose(f);
        free(line_of);
        free((void *)sorted);
        return 1;
    }
    for (int i = 0; i < n_key; i++) r->answer[i] = -1;
    r->answered = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        int nf = cli_csv_split(lineno == 1 ? skip_bom(line) : line, field, 5);
        if (lineno == 1) {
            if (nf < 4 || strcmp(field[0], "rater") != 0 || strcmp(field[1], "image") != 0 || strcmp(field[2], "answer") != 0) {
                rate_say("rate score: '%s' is not an answers file from rate.html (its first line is not "
                                "'rater,image,answer,confidence,ms')\n", path);
                rc = 1;
            }
            continue;
        }
        if (nf == 1 && field[0][0] == '\0') continue;   // an empty line
        char *end = NULL;
        long conf = nf >= 4 ? strtol(field[3], &end, 10) : 0;
        if (nf < 4 || (strcmp(field[2], "real") != 0 && strcmp(field[2], "fake") != 0) || !end || *end ||
            conf < 1 || conf > 3) {
            rate_say("rate score: %s:%d: expected 'rater,image,real|fake,1..3,ms'\n", path, lineno);
            rc = 1;
            break;
        }
        if (!r->name) {
            size_t len = strlen(field[0]);
            r->name = (char *)malloc(len + 1);
            if (!r->name) { rate_say("rate score: out of memory\n"); rc = 1; break; }
            memcpy(r->name, field[0], len + 1);
        }
        else if (strcmp(r->name, field[0]) != 0) {
            rate_say("rate score: %s:%d: rater '%s', but earlier lines are from '%s'; one file per rater\n",
                    path, lineno, field[0], r->name);
            rc = 1;
            break;
        }
        int at = key_find(key, sorted, n_key, field[1]);
        if (at < 0) {
            rate_say("rate score: %s:%d: image '%s' is not in the key (answers for another page?)\n", path,
                    lineno, field[1]);
            rc = 1;
            break;
        }
        if (line_of[at]) {
            rate_say("rate score: %s:%d: image '%s' was answered already on line %d\n", path, lineno,
                    field[1], line_of[at]);
            rc = 1;
            break;
        }
        line_of[at] = lineno;
        r->answer[at] = strcmp(field[2], "fake") == 0;
        r->confidence[at] = (int)conf;
        r->answered++;
    }
    // a folder, or a read error part-way: not "no answers", nor a partial file scored
    if (rc == 0 && ferror(f)) {
        rate_say("rate score: cannot read '%s': %s\n", path, strerror(errno));
        rc = 1;
    }
    fclose(f);
    free(line_of);
    free((void *)sorted);
    if (rc == 0 && r->answered == 0) {
        rate_say("rate score: '%s' has no answers\n", path);
        rc = 1;
    }
    if (rc == 0 && r->answered < n_key) {
        int first = 0;
        while (r->answer[first] >= 0) first++;
        rate_say("rate score: warning: %s (%s) answered %d of %d images (first missing: '%s'); scoring "
                        "those %d\n", r->name, path, r->answered, n_key, key[first].id, r->answered);
    }
    return rc;
}

static void rater_free(rater *r) {
    free(r->name);
    free(r->answer);
    free(r->confidence);
    r->name = NULL;
    r->answer = r->confidence = NULL;
}
#endif
