// run_guard.h - what a long run needs besides the library (POSIX; used by
// train.c and classify.c, which define _DEFAULT_SOURCE before any include):
//   - one run per output folder: an advisory lock on OUT/.lock for the whole run.
//     flock() locks die with the process, so a run killed with kill -9 leaves no
//     stale lock behind; the file keeps the holder's process id for the message.
//   - a run that fails removes the output folder it made, while it is empty.
//   - Ctrl-C and SIGTERM: the first asks the run to stop after the current step
//     (the program checks guard_stop_requested()); a second one stops at once.
//   - an output folder inside a folder of images the run reads is refused
//     (guard_out_in_data).
//   - a new run into a folder that holds files with the names it writes (a
//     user's own log.csv, say, or a run's files without its checkpoint) but no
//     run to continue is refused (guard_files_in_the_way).
#ifndef RUN_GUARD_H
#define RUN_GUARD_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "cli.h"   // cli_unmake

// 1 after the message when out is the folder of images dir (given as flag:
// --data, --val, --extra) or lies inside it, through links too: the run's own
// images (sample grids, plots) would be read as training images by the next run
// on that folder. out need not exist: its longest existing part is resolved and
// the rest appended, "." and ".." taken as they name. 0 otherwise (a dir that
// does not exist is refused where it is read).
static inline int guard_out_in_data(const char *prog, const char *out, const char *dir, const char *flag) {
    char d[PATH_MAX], o[PATH_MAX], part[PATH_MAX], rest[PATH_MAX] = "";
    if (!realpath(dir, d) || strlen(out) >= sizeof part) return 0;
    snprintf(part, sizeof part, "%s", out);
    for (size_t n = strlen(part); n > 1 && part[n - 1] == '/'; n--) part[n - 1] = 0;
    while (!realpath(part, o)) {   // (a part not there yet: its name moves to rest)
        char *slash = strrchr(part, '/');
        const char *name = slash ? slash + 1 : part;
        char joined[PATH_MAX];
        if (snprintf(joined, sizeof joined, "%s%s%s", name, *rest ? "/" : "", rest) >= (int)sizeof joined) return 0;
        memcpy(rest, joined, strlen(joined) + 1);
        if (!slash) snprintf(part, sizeof part, ".");
        else if (slash == part) snprintf(part, sizeof part, "/");
        else *slash = 0;
    }
    for (char *name = strtok(rest, "/"); name; name = strtok(NULL, "/")) {   // the rest, name by name
        if (strcmp(name, ".") == 0) continue;
        if (strcmp(name, "..") == 0) {
            char *up = strrchr(o, '/');
            if (up && up != o) *up = 0;
            else snprintf(o, sizeof o, "/");
        } else if (strlen(o) + 1 + strlen(name) < sizeof o) {
            if (strcmp(o, "/") != 0) strcat(o, "/");
            strcat(o, name);
        }
    }
    const size_t n = strlen(d);
    if (strncmp(o, d, n) != 0 || (o[n] != 0 && o[n] != '/' && strcmp(d, "/") != 0)) return 0;
    fprintf(stderr, "%s: --out '%s' lies inside %s's folder of images '%s': the run's own images (samples, plots) "
                    "would be read as training images; give an --out outside it\n", prog, out, flag, dir);
    return 1;
}

// 1 when file path begins with text (the header line a run writes first).
static inline int guard_file_begins(const char *path, const char *text) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[512];
    const size_t n = strlen(text), got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n < sizeof buf && got >= n && memcmp(buf, text, n) == 0;
}

// Before a new run (not --resume) writes into folder out, which holds no run to
// continue: 1 after the message when out holds files with the names the run
// writes (patterns, fnmatch(3): "log.csv", "samples_epoch_*.png"), regular
// files or links to them (a folder or a device of those names holds nothing a
// write would lose): the run would replace them, and a user's own files of
// those names would be lost. A log.csv that begins with the run's own `header`
// line is an earlier run's, stopped before it left anything to continue (killed
// in its first epoch; its resume file deleted as a message advises; failed at
// the end of a one-epoch run): then the folder holds that run's leftovers, not
// the user's, and 0 is returned - unless a file named like `kept` (NULL: none)
// is among them: a run that got that far (train: a sample grid) is one a user
// may want (its checkpoint deleted or moved), and 1 is returned after a message
// saying so. 0 too when none is there, or out does not exist. The message names
// the first such file (in name order) and the number of the others.
static inline int guard_files_in_the_way(const char *prog, const char *out, const char *const *patterns,
                                         int n_patterns, const char *header, const char *kept) {
    DIR *d = opendir(out);
    if (!d) return 0;
    char first[256] = "";
    int count = 0, run_log = 0, far = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int ours = 0;
        for (int k = 0; k < n_patterns && !ours; k++) ours = fnmatch(patterns[k], e->d_name, 0) == 0;
        if (!ours) continue;
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;   // (a folder, a link to /dev/full: no data)
        if (strcmp(e->d_name, "log.csv") == 0 && guard_file_begins(path, header)) run_log = 1;
        if (kept && fnmatch(kept, e->d_name, 0) == 0) far = 1;
        if (count++ == 0 || strcmp(e->d_name, first) < 0) snprintf(first, sizeof first, "%s", e->d_name);
    }
    closedir(d);
    if (count == 0 || (run_log && !far)) return 0;
    char others[64] = "", what[512] = "";
    if (count > 1) snprintf(others, sizeof others, " and %d other file%s", count - 1, count == 2 ? "" : "s");
    if (run_log) {
        fprintf(stderr, "%s: '%s' holds an earlier run's %s%s but not its checkpoint (deleted or moved?): a new "
                        "run would replace them; move them elsewhere, delete them, or give another --out\n",
                prog, out, first, others);
        return 1;
    }
    for (int k = 0; k < n_patterns; k++)   // ("log.csv, losses.png, ...": the names the run writes)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", k ? ", " : "", patterns[k]);
    fprintf(stderr, "%s: '%s' holds %s%s, named as a run's own files (%s), but no run to continue: a new run "
                    "would replace them; move them elsewhere or give another --out\n",
            prog, out, first, others, what);
    return 1;
}

// Takes the lock of folder dir (which must exist). Returns the descriptor to
// keep open for the whole run, or -1 after printing why (another run holds it,
// naming its process, or the lock file cannot be made).
static inline int guard_lock_folder(const char *prog, const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = -1;
    // A run that fails removes the lock file while holding it (guard_unmake); a
    // run that opened the file just before then locks a removed file, which
    // guards nothing: it opens the file anew (a few times at most).
    for (int attempt = 0; attempt < 5 && fd < 0; attempt++) {
        fd = open(path, O_RDWR | O_CREAT, 0644);
        if (fd < 0) {
            fprintf(stderr, "%s: cannot create the lock file '%s': %s\n", prog, path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            char holder[32] = "";
            ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            fprintf(stderr, "%s: another run (process %s) is writing to '%s'; wait for it to end or give "
                            "another --out\n", prog, holder[0] ? holder : "?", dir);
            close(fd);
            return -1;
        }
        struct stat held, named;
        if (fstat(fd, &held) != 0 || stat(path, &named) != 0 || held.st_dev != named.st_dev ||
            held.st_ino != named.st_ino) {
            close(fd);   // the file we locked is no longer the one named .lock
            fd = -1;
        }
    }
    if (fd < 0) {
        fprintf(stderr, "%s: the lock file '%s' keeps being removed; is another run failing in a loop?\n", prog,
                path);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        // the lock holds all the same; only the process id in the message is lost
    }
    return fd;
}

// After a run that failed: when the run made folder dir (made is
// cli_missing_part's answer, not ""), removes dir's lock file while still
// holding the lock, closes the lock, then removes dir and each parent up to
// made while they are empty (cli_unmake). (Removed after closing, the file
// could be another run's that took the lock in between.)
static inline void guard_unmake(int lock, const char *dir, const char *made) {
    if (made[0]) {
        char path[4200];
        snprintf(path, sizeof path, "%s/.lock", dir);
        unlink(path);
    }
    if (lock >= 0) close(lock);
    cli_unmake(dir, made);
}

static volatile sig_atomic_t guard_signal = 0;

static void guard_on_signal(int sig) {
    if (guard_signal) {         // the second one: stop now (the last checkpoint is intact)
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    guard_signal = sig;
}

// From now on SIGINT and SIGTERM ask for a stop instead of killing the process.
static inline void guard_catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = guard_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

// The signal that asked for a stop (SIGINT or SIGTERM), or 0.
static inline int guard_stop_requested(void) { return (int)guard_signal; }

#endif
