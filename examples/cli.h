// cli.h - small helpers shared by the example programs: flag parsing, folder
// creation and a progress display. Not part of the library.
#ifndef CLI_H
#define CLI_H
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

// "--name=value" as the two words "--name" "value" (Python's argparse takes
// both forms, and commands are copied from pytorch-fid's documentation: "fid
// --dims=768" was refused as an unknown flag). A program calls it first:
// argv = cli_split_equals(&argc, argv). The new list lives until the program ends.
// The values so split are remembered: cli_flag takes "--out=--kid" as the
// folder "--kid" (it was asked for), and cli_switch refuses "--kid=1" (a flag
// that takes no value; argparse refuses it too).
static char **cli_split_list;          // the list made (kept: the words point into it and argv)
static unsigned char *cli_split_value; // [i]: 1 where word i was the value of a "--name=value"
static int cli_split_count;            // the words in the list
static inline int cli_split_at(int i) { return i >= 0 && i < cli_split_count && cli_split_value[i]; }
static inline char **cli_split_equals(int *argc, char **argv) {
    int extra = 0;
    for (int i = 1; i < *argc; i++) extra += strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') != NULL;
    if (extra == 0) return argv;
    char **out = (char **)malloc(((size_t)*argc + (size_t)extra + 1) * sizeof *out);
    unsigned char *value = (unsigned char *)calloc((size_t)*argc + (size_t)extra + 1, 1);
    if (!out || !value) {
        fprintf(stderr, "%s: no memory for the command line\n", argv[0]);
        exit(1);
    }
    int n = 0;
    out[n++] = argv[0];
    for (int i = 1; i < *argc; i++) {
        char *eq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
        if (!eq) {
            out[n++] = argv[i];
            continue;
        }
        *eq = '\0';   // (argv's strings may be changed: C11 5.1.2.2.1)
        out[n++] = argv[i];
        value[n] = 1;
        out[n++] = eq + 1;
    }
    out[n] = NULL;
    free(cli_split_list);
    free(cli_split_value);
    cli_split_list = out;
    cli_split_value = value;
    cli_split_count = n;
    *argc = n;
    return out;
}

// The program's name in messages: argv[0] without its folder ("fid", not "build/fid").
static inline const char *cli_prog(char **argv) {
    const char *slash = strrchr(argv[0], '/');
    return slash ? slash + 1 : argv[0];
}

// Flag parsing: cli_flag(argc, argv, &i, "--name") is true when argv[i] is the
// flag; it then moves i to the value (exiting with a message if it is missing,
// or if the next word is itself a flag: "--out --kid" took "--kid" as the folder
// and dropped --kid without a word).
static inline int cli_flag(int argc, char **argv, int *i, const char *name) {
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value (see --help)\n", cli_prog(argv), name);
        exit(2);
    }
    if (strncmp(argv[*i + 1], "--", 2) == 0 && !cli_split_at(*i + 1)) {
        fprintf(stderr, "%s: %s needs a value, not the flag '%s' (see --help)\n", cli_prog(argv), name,
                argv[*i + 1]);
        exit(2);
    }
    (*i)++;
    return 1;
}

// A flag that takes no value: 1 when argv[i] is name. "--name=value" exits
// with status 2 after a message (its value was taken as the next word: "fid
// --kid=1 A" ran with A as PATH2 and "1" as PATH1).
static inline int cli_switch(char **argv, int i, const char *name) {
    if (strcmp(argv[i], name) != 0) return 0;
    if (cli_split_at(i + 1)) {
        fprintf(stderr, "%s: %s takes no value, got '%s=%s'\n", cli_prog(argv), name, name, argv[i + 1]);
        exit(2);
    }
    return 1;
}

// An integer flag (what a long holds), or exit with status 2 after the message.
// Leading white space is refused like trailing (strtol would skip it).
static inline long cli_int(const char *prog, const char *flag, const char *text) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || isspace((unsigned char)text[0])) {
        fprintf(stderr, "%s: %s wants an integer, got '%s'\n", prog, flag, text);
        exit(2);
    }
    return v;
}

// An integer flag that must lie in [lo, hi]: a value outside (or past what a
// long holds) is refused with the range named, never truncated. Exits with
// status 2 after the message.
static inline long cli_int_range(const char *prog, const char *flag, const char *text, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || end == text || isspace((unsigned char)text[0])) {
        fprintf(stderr, "%s: %s wants an integer, got '%s'\n", prog, flag, text);
        exit(2);
    }
    if (errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "%s: %s wants an integer from %ld to %ld, got '%s'\n", prog, flag, lo, hi, text);
        exit(2);
    }
    return v;
}

// An integer flag kept in an int: a value past what an int holds is refused,
// never wrapped (4294967298 became 2).
static inline int cli_int_as_int(const char *prog, const char *flag, const char *text) {
    return (int)cli_int_range(prog, flag, text, INT_MIN, INT_MAX);
}

// A number flag, or exit with status 2 after the message. Leading white space
// is refused like trailing; "nan" and "inf" are taken (the callers check the range).
static inline double cli_float(const char *prog, const char *flag, const char *text) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || isspace((unsigned char)text[0])) {
        fprintf(stderr, "%s: %s wants a number, got '%s'\n", prog, flag, text);
        exit(2);
    }
    return v;
}

// 1 if name ends in an extension an image reader here or pytorch-fid takes
// (any case): train's and classify's jpg, jpeg, png, bmp, pgm, ppm, tga, and
// fid's tif, tiff, webp.
static inline int cli_is_image_name(const char *name) {
    static const char *const exts[] = {"jpg", "jpeg", "png", "bmp", "pgm", "ppm", "tga", "tif", "tiff", "webp"};
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
        const char *a = dot + 1, *b = exts[k];
        while (*a && *b && tolower((unsigned char)*a) == *b) { a++; b++; }
        if (!*a && !*b) return 1;
    }
    return 0;
}

// Of the image files in folder (cli_is_image_name), the first by name that a
// run writing PREFIX%0*ld.png (width digits) for the numbers
// first..first+count-1 would not replace, into stale; 0 when there is none or
// the folder does not exist yet. (generate and phantom refuse such a folder:
// two runs' images, or generated and real ones, would mix in it, and train,
// fid and classify read every image in a folder.)
static inline int cli_stale_image(char *stale, size_t cap, const char *folder, const char *prefix, long first,
                                  long count, int digits) {
    DIR *d = opendir(folder);
    struct dirent *e;
    const size_t lp = strlen(prefix);
    int found = 0;
    while (d && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (!cli_is_image_name(name)) continue;
        // ours: the name the run writes for the number it holds, that number in first..first+count-1
        const long v = strncmp(name, prefix, lp) == 0 ? strtol(name + lp, NULL, 10) : 0;
        char ours[300];
        snprintf(ours, sizeof ours, "%s%0*ld.png", prefix, digits, v);
        if ((v < first || v - first >= count || strcmp(name, ours) != 0) && (!found || strcmp(name, stale) < 0)) {
            snprintf(stale, cap, "%s", name);
            found = 1;
        }
    }
    if (d) closedir(d);
    return found;
}

// The warning for files a dataset load passed over (dcgan_dataset's unread):
// a folder of DICOM or TIFF images beside a few PNGs would otherwise train on
// the PNGs alone without a word.
static inline void cli_warn_unread(const char *prog, const char *dir, int unread) {
    fprintf(stderr, "%s: warning: %d file%s under '%s' %s not of an image type read here (jpg, jpeg, png, "
                    "bmp, pgm, ppm, tga) and %s not used (convert DICOM, TIFF or WebP images to PNG)\n",
            prog, unread, unread == 1 ? "" : "s", dir, unread == 1 ? "is" : "are", unread == 1 ? "was" : "were");
}

// The warning for nearly black images (dcgan_dataset's dark): a folder of 16-bit
// PNGs holding 12-bit values (DICOM exports, 0..4095) loads as images of 0..16,
// a 16-bit value v being v * 255 / 65535 in 8 bits; training on them learns black.
static inline void cli_warn_dark(const char *prog, const char *dir, int dark, const char *first) {
    fprintf(stderr, "%s: warning: %d image%s under '%s' %s nearly black (no value above 31 of 255), the first "
                    "'%s'; a 16-bit PNG of 12-bit values (a DICOM export) loads so: stretch such images to the "
                    "16-bit range, or window them into 8 bits, first\n",
            prog, dark, dark == 1 ? "" : "s", dir, dark == 1 ? "is" : "are", first);
}

// The warning for images smaller than the size they are loaded at
// (dcgan_dataset's enlarged): enlarged, they hold no more detail than their own
// size, and a model trained on them learns the enlargement's blur.
static inline void cli_warn_enlarged(const char *prog, const char *dir, int n, int size, const char *first, int w,
                                     int h) {
    fprintf(stderr, "%s: warning: %d image%s under '%s' %s smaller than %dx%d and %s enlarged to it, the first "
                    "'%s' (%dx%d): the model sees the enlargement's blur, no detail beyond %s own size\n",
            prog, n, n == 1 ? "" : "s", dir, n == 1 ? "is" : "are", size, size, n == 1 ? "was" : "were", first, w,
            h, n == 1 ? "its" : "their");
}

#ifndef DCGAN_NO_IMAGES   // (dcgan_dataset: a build without images has none)
// The three warnings above for a dataset loaded from folder dir (from the files
// or from a cache), each where it applies.
static inline void cli_warn_dataset(const char *prog, const char *dir, const dcgan_dataset *ds) {
    if (ds->unread > 0) cli_warn_unread(prog, dir, ds->unread);
    if (ds->dark > 0) cli_warn_dark(prog, dir, ds->dark, ds->paths[ds->first_dark]);
    if (ds->enlarged > 0)
        cli_warn_enlarged(prog, dir, ds->enlarged, ds->size, ds->paths[ds->first_enlarged], ds->first_enlarged_w,
                          ds->first_enlarged_h);
}
#endif

// FNV-1a, 64 bits (Fowler, Noll, Vo), over n bytes, continuing from h (start
// at CLI_FNV_OFFSET): a fingerprint, not a cryptographic hash.
#define CLI_FNV_OFFSET 14695981039346656037ULL
static inline uint64_t cli_fnv1a64(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

// 1 when s begins or ends with a blank (a space or a tab).
static inline int cli_blank_at_end(const char *s) {
    const size_t len = strlen(s);
    return len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t');
}

// A CSV field as RFC 4180 has it: quoted (quotes doubled) when it holds a comma,
// a quote or a line break (a file name may hold any of them), or begins or ends
// with a blank (which classify's --patients reader refuses outside quotes).
static inline void cli_csv_field(FILE *f, const char *s) {
    if (!cli_blank_at_end(s) && !strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

// One CSV record split at its commas, in place, as RFC 4180 has it: a field in
// quotes may hold commas, line breaks and quotes (doubled: ""), and the quotes
// are taken off; a line break at the end of line is dropped. field[] gets the
// first cap fields. Returns how many fields the record holds (more than cap
// when it has more), or -1 when a quote is not closed or text follows a
// closing quote ("a"b), which a CSV writer never writes. quoted (NULL: not
// wanted) gets, for each of the first cap fields, 1 when it was in quotes.
static inline int cli_csv_split_quoted(char *line, char **field, int *quoted, int cap) {
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w = p;   // the field is written back from start; w is its end
        const int was_quoted = *p == '"';
        if (was_quoted) {
            for (p++;; p++) {
                if (*p == '\0') return -1;                  // not closed
                if (*p == '"' && p[1] != '"') break;        // the closing quote
                if (*p == '"') p++;                         // "" is one quote
                *w++ = *p;
            }
            p++;
            if (*p != ',' && *p != '\0') return -1;        // text after the closing quote
        } else {
            while (*p != ',' && *p != '\0') *w++ = *p++;
        }
        const char end = *p;
        *w = '\0';
        if (n < cap) field[n] = start;
        if (n < cap && quoted) quoted[n] = was_quoted;
        n++;
        if (end == '\0') return n;
        p++;
    }
}

// cli_csv_split_quoted without the flags.
static inline int cli_csv_split(char *line, char **field, int cap) {
    return cli_csv_split_quoted(line, field, NULL, cap);
}

// mkdir -p; returns 0 on success, -1 (errno set) on failure, a path that names
// a file included (mkdir's EEXIST took it for a folder).
static inline int cli_mkdirs(const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = len ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char keep = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            buf[i] = keep;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

// The part of folder dir that does not exist yet, found before a program makes
// it: copies into made the shortest leading part of dir that is missing (dir
// itself, or a parent of it), or "" when dir exists. cli_unmake uses it. A dir
// with a "." or ".." part gets "" too (nothing is removed for it): in
// new/../old, "new" is made but the path's end is the existing "old".
static inline void cli_missing_part(const char *dir, char *made, size_t size) {
    made[0] = '\0';
    size_t len = strlen(dir);
    if (len == 0 || len >= size) return;
    for (const char *p = dir; *p; p++)
        if (p[0] == '.' && (p == dir || p[-1] == '/') &&
            (p[1] == '/' || p[1] == '\0' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0'))))
            return;
    memcpy(made, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (made[i] != '/' && made[i] != '\0') continue;
        char keep = made[i];
        made[i] = '\0';
        if (access(made, F_OK) != 0) return;   // this prefix is missing: the program makes it
        made[i] = keep;
    }
    made[0] = '\0';   // all of dir exists already
}

// One writer at a time in folder dir: an advisory lock (flock) on the folder
// itself, held until the descriptor is closed or the process ends. Returns the
// descriptor to close at the end; -1 with no lock (a file system without locks,
// or a folder that cannot be opened: the caller goes on unlocked); -2 when
// another process holds the lock.
static inline int cli_lock_folder(const char *dir) {
    int fd = open(dir, O_RDONLY);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int busy = errno == EWOULDBLOCK;
        close(fd);
        return busy ? -2 : -1;
    }
    return fd;
}

// After a run that failed: when it made folder dir (made is cli_missing_part's
// answer, not ""), removes dir and each parent up to made while they are empty.
// rmdir refuses a folder that holds anything, so nothing a run wrote is
// removed; a mistyped input leaves no empty output folder behind.
static inline void cli_unmake(const char *dir, const char *made) {
    if (!made[0]) return;
    char path[4200];
    size_t stop = strlen(made);
    snprintf(path, sizeof path, "%s", dir);
    for (;;) {
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/') path[--len] = '\0';   // "a/b/" is "a/b"
        // (a part too long, or never made when mkdir failed below it: go on to its parent)
        if (len < stop || (rmdir(path) != 0 && errno != ENOENT && errno != ENAMETOOLONG)) return;
        char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) < stop) return;
        *slash = '\0';
    }
}

static inline double cli_now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

// qsort's comparison of two strings held by pointer (an array of char *).
static inline int cli_string_ptr_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// Progress: on a terminal a bar redrawn in place with rate and ETA; otherwise
// a plain line every `every` steps (and at the end).
// The rate counts the steps of this process only: a resumed run sets `first`
// to the steps done before it (it counted them too, as if done since the start).
typedef struct {
    const char *what;
    long total, first;
    double start, last_print;
    int tty;
} cli_progress;

static inline void cli_progress_start(cli_progress *p, const char *what, long total) {
    p->what = what;
    p->total = total;
    p->first = 0;
    p->start = p->last_print = cli_now();
    p->tty = isatty(2);
}

static inline void cli_progress_update(cli_progress *p, long done, const char *extra) {
    double now = cli_now(), elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)(done - p->first) / elapsed : 0.0;
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0.0;
    int finished = done >= p->total;
    if (p->tty) {
        if (!finished && now - p->last_print < 0.1) return;
        char bar[31];
        int fill = p->total > 0 ? (int)(30.0 * (double)done / (double)p->total) : 30;
        for (int k = 0; k < 30; k++) bar[k] = k < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %ld/%ld %.2f/s ETA %02d:%02d:%02d %s\033[K", p->what, bar, done,
                p->total, rate, (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60,
                extra ? extra : "");
        if (finished) fputc('\n', stderr);
    } else {
        if (!finished && now - p->last_print < 10.0) return;
        fprintf(stderr, "%s %ld/%ld (%.2f/s, ETA %.0f s) %s\n", p->what, done, p->total, rate, eta,
                extra ? extra : "");
    }
    p->last_print = now;
}
// --device for the example programs. CUDA builds (make cuda): "cuda" (their
// default) runs on the GPU and fails with the CUDA message when there is none;
// "auto" falls back to the CPU and says so; "cpu" stays on the CPU. CPU builds
// accept only "cpu". Returns 1 when the GPU is to be used, 0 for the CPU, -1
// (after printing why) when the program must stop.
#ifdef DCGAN_CUDA
#define CLI_DEFAULT_DEVICE "cuda"
#else
#define CLI_DEFAULT_DEVICE "cpu"
#endif
// cli_device_word checks the word alone, before anything is loaded: 0 when
// this build can take it, -1 after printing why not.
// "cuda:0" (PyTorch's name of the first GPU) is "cuda".
static inline int cli_device_word(const char *prog, const char *device) {
    const int cuda = strcmp(device, "cuda") == 0 || strcmp(device, "cuda:0") == 0;
    if (strncmp(device, "cuda:", 5) == 0 && !cuda) {
        const char *k = device + 5;
        int digits = *k != '\0';
        for (; *k; k++) digits &= isdigit((unsigned char)*k) != 0;
        if (digits)
            fprintf(stderr, "%s: --device %s: the programs use the first GPU, cuda or cuda:0 "
                    "(CUDA_VISIBLE_DEVICES=%s picks that one)\n", prog, device, device + 5);
        else
            fprintf(stderr, "%s: --device is cpu, cuda or auto, not '%s'\n", prog, device);
        return -1;
    }
    if (strcmp(device, "cpu") != 0 && !cuda && strcmp(device, "auto") != 0) {
        fprintf(stderr, "%s: --device is cpu, cuda or auto, not '%s'\n", prog, device);
        return -1;
    }
#ifndef DCGAN_CUDA
    if (cuda) {
        fprintf(stderr, "%s: built without CUDA; build with `make cuda` for --device cuda\n", prog);
        return -1;
    }
#endif
    return 0;
}

static inline int cli_device(const char *prog, const char *device) {
    if (cli_device_word(prog, device) != 0) return -1;
    if (strcmp(device, "cpu") == 0) return 0;
#ifdef DCGAN_CUDA
    if (dcgan_cuda_init(0) == DCGAN_OK) {
        printf("%s: on the GPU: %s\n", prog, dcgan_cuda_device_name());
        return 1;
    }
    if (strcmp(device, "auto") == 0) {
        printf("%s: no usable GPU (%s); running on the CPU\n", prog, dcgan_last_error());
        return 0;
    }
    fprintf(stderr, "%s: %s (use --device auto to fall back to the CPU)\n", prog, dcgan_last_error());
    return -1;
#else
    return 0;   // "auto" without CUDA ("cuda" was refused above)
#endif
}

// An --out folder: refused (-1, after the message) when the path names
// something that is not a folder, or lies under a file (FILE/sub), before
// anything is loaded or written.
static inline int cli_out_folder(const char *prog, const char *path) {
    struct stat sb;
    if (!*path) {   // ("--out=$UNSET": phantom wrote its folders under /)
        fprintf(stderr, "%s: --out is empty; give a folder\n", prog);
        return -1;
    }
    if (stat(path, &sb) != 0) {
        if (errno != ENOTDIR) return 0;   // (not there yet: made later)
        fprintf(stderr, "%s: --out '%s' lies under a file, not a folder; give a folder\n", prog, path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "%s: --out '%s' is a file, not a folder; give a folder\n", prog, path);
        return -1;
    }
    return 0;
}

typedef struct {
    uint64_t dev, ino;
    int index;   // into the list it came from
} cli_file_id;

static inline int cli_file_id_cmp(const void *pa, const void *pb) {
    const cli_file_id *a = (const cli_file_id *)pa, *b = (const cli_file_id *)pb;
    if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
    return a->ino < b->ino ? -1 : a->ino > b->ino;
}

// Files by device and inode: one file under two names (a link, a folder given
// twice) is found; a copy is not. The first of fake (in list order) that is
// also one of real, as its index, with the index of its twin in real in *twin;
// -1 when there is none, -2 when out of memory.
static inline int cli_shared_file(char *const *real, int n_real, char *const *fake, int n_fake, int *twin) {
    cli_file_id *ids = (cli_file_id *)malloc((size_t)(n_real > 0 ? n_real : 1) * sizeof(cli_file_id));
    int m = 0, found = -1;
    struct stat sb;
    if (!ids) return -2;
    for (int i = 0; i < n_real; i++)
        if (stat(real[i], &sb) == 0) ids[m++] = (cli_file_id){(uint64_t)sb.st_dev, (uint64_t)sb.st_ino, i};
    qsort(ids, (size_t)m, sizeof *ids, cli_file_id_cmp);
    for (int i = 0; i < n_fake && found < 0; i++) {
        if (stat(fake[i], &sb) != 0) continue;
        const cli_file_id want = {(uint64_t)sb.st_dev, (uint64_t)sb.st_ino, 0};
        const cli_file_id *hit = (const cli_file_id *)bsearch(&want, ids, (size_t)m, sizeof *ids, cli_file_id_cmp);
        if (hit) {
            found = i;
            *twin = hit->index;
        }
    }
    free(ids);
    return found;
}

// Where a .npy of features came from: OUT.npy.source beside it, one line, the
// network that made them ("classify checkpoint HASH (PATH)", "inception", ...).
// fid compares two files' lines up to " (": distances between the features of
// two networks mean nothing. 0, or 1 after a warning on stderr (the features
// are written; only the note of their source is missing).
static inline int cli_source_write(const char *prog, const char *npy, const char *source) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s.source", npy);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f) fprintf(f, "%s\n", source);
    if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: warning: cannot write '%s' (the note of what made the features)\n", prog, path);
        remove(tmp);
        return 1;
    }
    return 0;
}

// The images behind a .npy of features, one per row: OUT.npy.files beside it,
// one path a line in row order (relative ones prefixed with the working folder), so that
// fid --nearest can load and show the images themselves. 0, or 1 after a
// warning (the features are written either way; a name holding a line break
// cannot be listed).
static inline int cli_files_write(const char *prog, const char *npy, char *const *paths, int n) {
    char path[4200], tmp[4300], cwd[4096] = "";
    snprintf(path, sizeof path, "%s.files", npy);
    if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;   // (then relative names are written as they are)
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    for (int i = 0; i < n; i++)
        if (strpbrk(paths[i], "\r\n")) {
            fprintf(stderr, "%s: warning: '%s' is not written: the image name '%s' holds a line break\n", prog,
                    path, paths[i]);
            remove(path);   // (an older list would name other images)
            return 1;
        }
    FILE *f = fopen(tmp, "w");
    for (int i = 0; f && i < n; i++) {   // made absolute: the list still serves from another folder
        const int as_is = paths[i][0] == '/' || !cwd[0];
        fprintf(f, "%s%s%s\n", as_is ? "" : cwd, as_is ? "" : "/", paths[i]);
    }
    if (!f || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: warning: cannot write '%s' (the list of the features' images)\n", prog, path);
        remove(tmp);
        return 1;
    }
    return 0;
}

// 1 after a message when the list of cli_files_write beside npy cannot be
// read; 0 when it can.
static inline int cli_files_missing(const char *prog, const char *npy) {
    char path[4200];
    snprintf(path, sizeof path, "%s.files", npy);
    if (access(path, R_OK) == 0) return 0;
    fprintf(stderr, "%s: '%s' has no list of its images (%s: %s); --nearest needs them, as written beside "
                    "the features by classify features and fid --save-features\n", prog, npy, path, strerror(errno));
    return 1;
}

// The list of cli_files_write for a .npy of `rows` rows: *out gets rows
// malloc'd paths (in a malloc'd array). 0; or 1 after a message naming the
// file (missing, unreadable, or not one line a row).
static inline int cli_files_read(const char *prog, const char *npy, int rows, char ***out) {
    char path[4200], line[4096 + 2];
    snprintf(path, sizeof path, "%s.files", npy);
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return cli_files_missing(prog, npy);
    char **p = (char **)calloc((size_t)(rows > 0 ? rows : 1), sizeof(char *));
    int n = 0, bad = !p;
    while (!bad && fgets(line, sizeof line, f)) {
        const size_t len = strcspn(line, "\n");
        if (line[len] != '\n' || n == rows) bad = 1;   // a line too long, or more lines than rows
        else {
            line[len] = 0;
            if ((p[n] = (char *)malloc(len + 1)) == NULL) bad = 1;   // (strdup is not C99)
            else memcpy(p[n++], line, len + 1);
        }
    }
    bad = bad || ferror(f) || n != rows;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: '%s' does not list one image for each of the %d rows of '%s' (%d lines read)\n",
                prog, path, rows, npy, n);
        for (int i = 0; p && i < n; i++) free(p[i]);
        free(p);
        return 1;
    }
    *out = p;
    return 0;
}

// The source line of npy (cli_source_write) into buf; 0 when there is none.
static inline int cli_source_read(const char *npy, char *buf, size_t cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s.source", npy);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    const int got = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (got) buf[strcspn(buf, "\n")] = 0;
    return got && buf[0];
}

// FNV-1a (cli_fnv1a64) continued over a file's bytes; 1, or 0 (h as it was) when
// the file cannot be read.
static inline int cli_fnv1a64_file(uint64_t *h, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char buf[65536];
    size_t got;
    uint64_t v = *h;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) v = cli_fnv1a64(v, buf, got);
    const int ok = !ferror(f);
    fclose(f);
    if (ok) *h = v;
    return ok;
}

#endif
