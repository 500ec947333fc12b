// check.h - the test harness: CHECK, CHECK_CLOSE and a table-driven main.
// Each test file defines `static const test_case tests[]` and calls
// check_main(tests, count, argv[0]); it prints "<file>: N passed, M failed" and
// returns non-zero if any check failed. A check counts once per CHECK call.
#ifndef CHECK_H
#define CHECK_H
#include <math.h>
#include <stdio.h>

static int check_passed, check_failed;
// Set while a test runs checks that are meant to fail (a planted bug): their
// failures are still counted, but not printed.
static int check_quiet;

#define CHECK(cond, label) check_true((cond) ? 1 : 0, #cond, label, __FILE__, __LINE__)
#define CHECK_CLOSE(expected, actual, n, atol, rtol, label) \
    check_close((expected), (actual), (size_t)(n), (atol), (rtol), label, __FILE__, __LINE__)

static inline int check_true(int ok, const char *expr, const char *label, const char *file, int line) {
    if (ok) { check_passed++; return 1; }
    check_failed++;
    if (!check_quiet) fprintf(stderr, "%s:%d: FAIL %s: %s\n", file, line, label, expr);
    return 0;
}

// Passes if |e - a| <= atol + rtol * |e| for every element; NaN always fails.
static inline int check_close(const float *expected, const float *actual, size_t n, double atol,
                       double rtol, const char *label, const char *file, int line) {
    size_t worst = 0;
    double worst_diff = -1.0;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        double e = expected[i], a = actual[i], diff = fabs(e - a);
        if (isnan(e) || isnan(a) || isnan(diff)) diff = INFINITY;
        if (!(diff <= atol + rtol * fabs(e))) ok = 0;
        if (diff > worst_diff) { worst_diff = diff; worst = i; }
    }
    if (ok) { check_passed++; return 1; }
    check_failed++;
    if (!check_quiet)
        fprintf(stderr, "%s:%d: FAIL %s: element %zu of %zu expected %.8g, got %.8g (largest diff %.3g)\n",
                file, line, label, worst, n, expected[worst], actual[worst], worst_diff);
    return 0;
}

typedef struct { const char *name; void (*run)(void); } test_case;

static inline int check_main(const test_case *tests, int count, const char *prog) {
    for (int i = 0; i < count; i++) tests[i].run();
    printf("%s: %d passed, %d failed\n", prog, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}
#endif
