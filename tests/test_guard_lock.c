// test_guard_lock.c - guard_lock_folder (examples/run_guard.h), the one-run-per-folder
// lock of train and classify, in the cases tests/test_guard.sh cannot reach from
// outside: a failing run's guard_unmake removes OUT/.lock between another run's
// open and its flock (that run then held a lock on a removed file, which guards
// nothing, so it opens .lock anew), the file removed at every try (refused with a
// message), and a second lock on a held folder (refused, naming the holder).
// flock is wrapped here to remove the file at the moment a race would. Also the
// progress line's rate after a resume (examples/cli.h, which run_guard.h includes):
// it counted the steps of earlier processes as done since this one started.
// (built with -D_DEFAULT_SOURCE, tests/tests.mk says why: run_guard.h is POSIX)
#include "../dcgan.h"
#include "check.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

// The race, played on demand: the next `unlinks` calls of flock first remove
// `victim`, as another run's guard_unmake would between this run's open and flock.
static const char *victim;
static int unlinks, flock_calls;
static int flock_with_race(int fd, int op) {
    flock_calls++;
    if (unlinks > 0) {
        unlinks--;
        unlink(victim);
    }
    return flock(fd, op);
}
#define flock flock_with_race
#include "../examples/run_guard.h"
#undef flock

static char dir[64], lock_path[96];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "%s", "/tmp/dcgan_guard_lock.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "setup: a temporary folder");
    snprintf(lock_path, sizeof lock_path, "%s/.lock", dir);
    victim = lock_path;
}

static void remove_dir(void) {
    unlink(lock_path);
    rmdir(dir);
}

// 1: the descriptor locks the file now named .lock (same device and inode)
static int locks_the_named_file(int fd) {
    struct stat held, named;
    return fd >= 0 && fstat(fd, &held) == 0 && stat(lock_path, &named) == 0 && held.st_dev == named.st_dev &&
           held.st_ino == named.st_ino;
}

// Runs guard_lock_folder with stderr sent to a file; returns its descriptor and
// puts what it printed into msg.
static int lock_capturing(char *msg, size_t cap) {
    char err_path[128];
    snprintf(err_path, sizeof err_path, "%s.err", dir);
    fflush(stderr);
    const int saved = dup(2), err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err, 2);
    const int fd = guard_lock_folder("train", dir);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(err);
    FILE *f = fopen(err_path, "r");
    size_t n = f ? fread(msg, 1, cap - 1, f) : 0;
    msg[n] = '\0';
    if (f) fclose(f);
    unlink(err_path);
    return fd;
}

static void test_plain(void) {
    make_dir();
    char msg[512];
    const int fd = lock_capturing(msg, sizeof msg);
    CHECK(locks_the_named_file(fd), "plain: locked, on the file named .lock");
    CHECK(strcmp(msg, "") == 0, "plain: nothing printed");
    CHECK(flock_calls == 1, "plain: one try");
    char pid[32] = "", want[32];
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    CHECK(strcmp(pid, want) == 0, "plain: the file holds this process's id");
    // a second lock on the held folder (flock locks belong to the open file, so
    // this process's second open conflicts with its first, as another run's would)
    const int again = lock_capturing(msg, sizeof msg);
    char expect[512];
    snprintf(expect, sizeof expect,
             "train: another run (process %ld) is writing to '%s'; wait for it to end or give another --out\n",
             (long)getpid(), dir);
    CHECK(again == -1, "held: a second lock is refused");
    CHECK(strcmp(msg, expect) == 0, "held: the message names the holder's process and the folder");
    if (fd >= 0) close(fd);
    remove_dir();
}

static void test_removed_once(void) {
    make_dir();
    flock_calls = 0;
    unlinks = 1;   // the first try locks a file that is already gone
    char msg[512];
    const int fd = lock_capturing(msg, sizeof msg);
    CHECK(flock_calls == 2, "removed once: a second try");
    CHECK(locks_the_named_file(fd), "removed once: the lock is on the file now named .lock");
    CHECK(strcmp(msg, "") == 0, "removed once: nothing printed");
    // and it guards: a second lock is refused
    const int again = lock_capturing(msg, sizeof msg);
    CHECK(again == -1, "removed once: a second lock on the folder is refused");
    if (fd >= 0) close(fd);
    remove_dir();
}

static void test_removed_always(void) {
    make_dir();
    flock_calls = 0;
    unlinks = 1000;   // removed at every try
    char msg[512], expect[512];
    const int fd = lock_capturing(msg, sizeof msg);
    unlinks = 0;
    snprintf(expect, sizeof expect,
             "train: the lock file '%s' keeps being removed; is another run failing in a loop?\n", lock_path);
    CHECK(fd == -1, "removed always: refused");
    CHECK(flock_calls == 5, "removed always: after five tries");
    CHECK(strcmp(msg, expect) == 0, "removed always: the message names the lock file");
    remove_dir();
}

// A resumed run's rate: 10 steps in this process after 1,000,000 before it, about 20 ms apart
// (at most 10 / 0.02 = 500 steps/s; counting the earlier ones gave over 10^7 / s). The line
// (stderr not a terminal) caught in a file, compared whole with the rate it gives.
static void test_progress_resumed(void) {
    char path[96], line[256] = "", want[256];
    make_dir();
    snprintf(path, sizeof path, "%s/progress.txt", dir);
    fflush(stderr);
    const int keep = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!CHECK(keep >= 0 && fd >= 0 && dup2(fd, 2) == 2, "progress/stderr into a file")) {
        if (keep >= 0) close(keep);
        if (fd >= 0) close(fd);
        remove_dir();
        return;
    }
    cli_progress p;
    cli_progress_start(&p, "train", 1000010);
    p.first = 1000000;
    usleep(20000);
    cli_progress_update(&p, 1000010, "x");
    fflush(stderr);
    const int back = dup2(keep, 2);
    close(keep);
    close(fd);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = '\0';
        fclose(f);
    }
    CHECK(back == 2, "progress/stderr back");
    double rate = -1.0;
    CHECK(sscanf(line, "train 1000010/1000010 (%lf/s", &rate) == 1 && rate > 0.0 && rate <= 500.0,
          "progress/after a resume the rate counts this process's steps only");
    snprintf(want, sizeof want, "train 1000010/1000010 (%.2f/s, ETA 0 s) x\n", rate);
    CHECK(strcmp(line, want) == 0, "progress/... the whole line");
    unlink(path);
    remove_dir();
}

int main(int argc, char **argv) {
    (void)argc;
    static const test_case tests[] = {
        {"plain", test_plain},
        {"removed_once", test_removed_once},
        {"removed_always", test_removed_always},
        {"progress_resumed", test_progress_resumed},
    };
    return check_main(tests, (int)(sizeof tests / sizeof tests[0]), argv[0]);
}
