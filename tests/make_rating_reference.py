#!/usr/bin/python3
# Reference numbers for the rating statistics of examples/classify_tools.h, from scipy:
# the exact two-sided binomial test (scipy.stats.binomtest) and the
# Clopper-Pearson interval as beta quantiles (scipy.stats.beta.ppf), for
# counts k of n including the edges. Writes tests/data/rating.txt, one line
# per case: "k n p0 pvalue lo hi" (%.17g). Run: /usr/bin/python3 tests/make_rating_reference.py
import os

from scipy import stats

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def main():
    cases = [(27, 40, 0.5), (0, 10, 0.5), (10, 10, 0.5), (1, 1, 0.5), (0, 1, 0.5), (5, 10, 0.5),
             (3, 20, 0.5), (61, 100, 0.5), (500, 1000, 0.5), (530, 1000, 0.5), (7, 30, 0.3),
             (2, 9, 0.7), (112, 200, 0.5)]
    with open(os.path.join(HERE, "rating.txt"), "w") as out:
        for k, n, p0 in cases:
            p = stats.binomtest(k, n, p0).pvalue
            lo = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
            hi = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
            out.write("%d %d %.17g %.17g %.17g %.17g\n" % (k, n, p0, p, lo, hi))
    print("wrote tests/data/rating.txt (%d cases)" % len(cases))


if __name__ == "__main__":
    main()
