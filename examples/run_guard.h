// run_guard.h - what a long run needs besides the library (POSIX; used by
// train.c and classify.c, which define _DEFAULT_SOURCE before any include):
//   - one run per output folder: an advisory lock on OUT/.lock for the whole run.
//     flock() locks die with the process, so a run killed with kill -9 leaves no
//     stale lock behind; the file keeps the holder's process id for the message.
//   - a run that fails removes the output folder it made, while it is empty.
//   - Ctrl-C and SIGTERM: the first asks the run to stop after the current step
//     (the program checks guard_stop_requested()); a second one stops at once.
#ifndef RUN_GUARD_H
#define RUN_GUARD_H
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

// Takes the lock of folder dir (which must exist). Returns the descriptor to
// keep open for the whole run, or -1 after printing why (another run holds it,
// naming its process, or the lock file cannot be made).
static inline int guard_lock_folder(const char *prog, const char *dir) {
    char path[4200], holder[32] = "";
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot create the lock file '%s': %s\n", prog, path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        fprintf(stderr, "%s: another run (process %s) is writing to '%s'; wait for it to end or give "
                        "another --out\n", prog, holder[0] ? holder : "?", dir);
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        // the lock holds all the same; only the process id in the message is lost
    }
    return fd;
}

// The part of folder dir that does not exist yet, found before the run makes
// it: copies into made the shortest leading part of dir that is missing (dir
// itself, or a parent of it), or "" when dir exists. guard_unmake uses it.
static inline void guard_missing_part(const char *dir, char *made, size_t size) {
    made[0] = '\0';
    size_t len = strlen(dir);
    if (len == 0 || len >= size) return;
    memcpy(made, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (made[i] != '/' && made[i] != '\0') continue;
        char keep = made[i];
        made[i] = '\0';
        if (access(made, F_OK) != 0) return;   // this prefix is missing: the run makes it
        made[i] = keep;
    }
    made[0] = '\0';   // all of dir exists already
}

// After a run that failed: when the run made folder dir (made is
// guard_missing_part's answer, not ""), removes dir's lock file, then dir and
// each parent up to made while they are empty. rmdir refuses a folder that
// holds anything, so nothing a run wrote is removed; a mistyped --data leaves
// no empty output folder behind. Call it after closing the lock.
static inline void guard_unmake(const char *dir, const char *made) {
    if (!made[0]) return;
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    unlink(path);
    size_t stop = strlen(made);
    snprintf(path, sizeof path, "%s", dir);
    for (;;) {
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/') path[--len] = '\0';   // "a/b/" is "a/b"
        if (len < stop || rmdir(path) != 0) return;
        char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) < stop) return;
        *slash = '\0';
    }
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
