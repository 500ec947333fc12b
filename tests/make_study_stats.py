#!/usr/bin/python3
# Reference numbers for examples/study_stats.h, computed directly from the
# definitions (not by the header's algorithms):
#   ROC AUC         the O(n^2) pairwise Mann-Whitney sum, ties 1/2
#   DeLong          the O(n^2) structural components of DeLong, DeLong &
#                   Clarke-Pearson (1988): V10, V01 per case, the 2x2 covariance
#                   matrices S10, S01 (numpy.cov), S = S10/m + S01/n;
#                   p = 2 * scipy.stats.norm.sf(|z|)
#   Holm            the step-down rule of Holm (1979) and, separately, the
#                   adjusted p-values max_{j<=i} min(1, (m-j+1) p_(j))
#   bootstrap       on explicit patient draws (made here with numpy): each
#                   resample written out as a list of images (a patient drawn
#                   twice: its images twice), the metrics of both arms on it
#                   and their difference in exact fractions (fractions.Fraction),
#                   the mean over strata exact too, rounded to a double once;
#                   intervals by numpy.percentile (linear);
#                   a stratum that shares draws takes the previous stratum's
#                   list of drawn patients and consumes none; arm A alone
#                   (no arm B): metric(A) itself; the p-value counted from its
#                   definition, min(1, 2 min(#rep <= 0, #rep >= 0) / used)
#   splitmix64      the header's generator, written again, and its draws
# Writes tests/data/study_stats.txt, one array per line: "name count v1 v2 ..."
# (%.17g, "nan" for a skipped resample), read by tests/test_study_stats.c.
# Run: /usr/bin/python3 tests/make_study_stats.py
import os
from fractions import Fraction

import numpy as np
from scipy import stats

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
METRICS = ["auc", "balanced_accuracy", "sensitivity", "specificity", "precision", "f1"]
lines = []


def lines_value(name):
    """An integer array written earlier by put()."""
    for line in lines:
        fields = line.split()
        if fields[0] == name:
            return [int(float(v)) for v in fields[2:]]
    raise KeyError(name)


def put(name, values):
    values = list(np.asarray(values, dtype=float).ravel())
    text = " ".join("nan" if np.isnan(v) else "%.17g" % v for v in values)
    lines.append("%s %d %s" % (name, len(values), text))


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def auc_pairwise(scores, labels):
    pos = [s for s, l in zip(scores, labels) if l == 1]
    neg = [s for s, l in zip(scores, labels) if l == 0]
    return sum(psi(x, y) for x in pos for y in neg) / (len(pos) * len(neg))


def delong_direct(s1, s2, labels):
    labels = np.asarray(labels)
    v10, v01 = [], []
    for s in (np.asarray(s1), np.asarray(s2)):
        X, Y = s[labels == 1], s[labels == 0]
        P = np.array([[psi(x, y) for y in Y] for x in X])   # (m, n)
        v10.append(P.mean(axis=1))                          # V10(X_i)
        v01.append(P.mean(axis=0))                          # V01(Y_j)
    m, n = len(v10[0]), len(v01[0])
    S10, S01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))   # ddof = 1
    S = S10 / m + S01 / n
    auc1, auc2 = v10[0].mean(), v10[1].mean()
    var = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    z = (auc1 - auc2) / np.sqrt(var)
    return [auc1, auc2, S[0, 0], S[1, 1], S[0, 1], auc1 - auc2, var, np.sqrt(var), z,
            2 * stats.norm.sf(abs(z))]


def holm(p, alpha):
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    reject = [0] * m
    for i, k in enumerate(order):           # step down: stop at the first that fails
        if p[k] <= alpha / (m - i):
            reject[k] = 1
        else:
            break
    adjusted = [0.0] * m
    for i, k in enumerate(order):
        adjusted[k] = max(min(1.0, (m - j) * p[order[j]]) for j in range(i + 1))
    return adjusted, reject


def metric(name, scores, labels, threshold):
    """One metric on a list of images (repeats allowed), an exact Fraction; None when
    undefined."""
    if name == "auc":
        pos = [s for s, l in zip(scores, labels) if l == 1]
        neg = [s for s, l in zip(scores, labels) if l == 0]
        twice_wins = sum(2 if x > y else 1 if x == y else 0 for x in pos for y in neg)
        return Fraction(twice_wins, 2 * len(pos) * len(neg))
    tp = sum(1 for s, l in zip(scores, labels) if l == 1 and s >= threshold)
    fn = sum(1 for s, l in zip(scores, labels) if l == 1 and s < threshold)
    fp = sum(1 for s, l in zip(scores, labels) if l == 0 and s >= threshold)
    tn = sum(1 for s, l in zip(scores, labels) if l == 0 and s < threshold)
    sens, spec = Fraction(tp, tp + fn), Fraction(tn, tn + fp)
    if name == "balanced_accuracy":
        return (sens + spec) / 2
    if name == "sensitivity":
        return sens
    if name == "specificity":
        return spec
    if name == "precision":
        return None if tp + fp == 0 else Fraction(tp, tp + fp)
    return Fraction(2 * tp, 2 * tp + fp + fn)


def stratum_diff(name, st, drawn, alone=False):
    """(0, metric(A) - metric(B)) on the images of the drawn patients, exact, or (1, None): a
    class missing, (2, None): precision undefined for an arm. alone: metric(A) itself."""
    images = [i for p in drawn for i in range(len(st["labels"])) if st["patient"][i] == p]
    labels = [st["labels"][i] for i in images]
    if 0 not in labels or 1 not in labels:
        return 1, None
    a = metric(name, [st["a"][i] for i in images], labels, st["ta"])
    b = Fraction(0) if alone else metric(name, [st["b"][i] for i in images], labels, st["tb"])
    if a is None or b is None:
        return 2, None
    return 0, a - b


def bootstrap(name, strata, draws, B, share=None, alone=False):
    """Replicates, estimate, value_a, value_b, intervals and skip counts on the given draws.
    share[k] = 1: stratum k reuses stratum k-1's drawn patients (and takes none from draws).
    alone: arm A by itself (value_b 0)."""
    share = share or [0] * len(strata)
    reps, skipped = [], [0, 0]
    at = 0
    for _ in range(B):
        diffs, skip, drawn = [], 0, None
        for st, sh in zip(strata, share):
            if not sh:
                drawn = draws[at:at + st["P"]]
                at += st["P"]
            if not skip:   # the first stratum that fails gives the reason
                skip, d = stratum_diff(name, st, drawn, alone)
                diffs.append(d)
        if skip:
            skipped[skip - 1] += 1
            reps.append(np.nan)
        else:
            reps.append(float(sum(diffs, Fraction(0)) / len(diffs)))   # rounded once
    assert at == len(draws)
    everyone = [stratum_diff(name, st, range(st["P"]), alone)[1] for st in strata]
    va = float(sum((metric(name, st["a"], st["labels"], st["ta"]) for st in strata), Fraction(0)) / len(strata))
    vb = 0.0 if alone else float(sum((metric(name, st["b"], st["labels"], st["tb"]) for st in strata),
                                     Fraction(0)) / len(strata))
    ok = np.array([r for r in reps if not np.isnan(r)])
    lo95, hi95 = np.percentile(ok, [2.5, 97.5])
    lo90, hi90 = np.percentile(ok, [5, 95])
    return reps, [float(sum(everyone, Fraction(0)) / len(everyone)), va, vb, lo95, hi95, lo90, hi90, skipped[0], skipped[1]]


def bootstrap_pooled(name, strata, pools, draws, B, n_pool):
    """The pooled bootstrap: each replicate draws n_pool ids from the pool of patients of all
    strata together; each stratum keeps its own patients as often as their pool ids were
    drawn (pools[k][p]: stratum k's patient p's pool id)."""
    reps, skipped, at = [], [0, 0], 0
    for _ in range(B):
        drawn_ids = draws[at:at + n_pool]
        at += n_pool
        diffs, skip = [], 0
        for st, pool in zip(strata, pools):
            drawn = [p for p in range(st["P"]) for _ in range(drawn_ids.count(pool[p]))]
            if not skip:
                skip, d = stratum_diff(name, st, drawn)
                diffs.append(d)
        if skip:
            skipped[skip - 1] += 1
            reps.append(np.nan)
        else:
            reps.append(float(sum(diffs, Fraction(0)) / len(diffs)))
    assert at == len(draws)
    everyone = [stratum_diff(name, st, range(st["P"]))[1] for st in strata]
    va = float(sum((metric(name, st["a"], st["labels"], st["ta"]) for st in strata), Fraction(0)) / len(strata))
    vb = float(sum((metric(name, st["b"], st["labels"], st["tb"]) for st in strata), Fraction(0)) / len(strata))
    ok = np.array([r for r in reps if not np.isnan(r)])
    lo95, hi95 = np.percentile(ok, [2.5, 97.5])
    lo90, hi90 = np.percentile(ok, [5, 95])
    return reps, [float(sum(everyone, Fraction(0)) / len(everyone)), va, vb, lo95, hi95, lo90, hi90,
                  skipped[0], skipped[1]]


def sub_stratum(st, keep):
    """The images of patients `keep` (in that order, renumbered 0..len(keep)-1)."""
    idx = [i for i in range(len(st["patient"])) if st["patient"][i] in keep]
    return {"P": len(keep), "patient": [keep.index(st["patient"][i]) for i in idx],
            "labels": [st["labels"][i] for i in idx], "ta": st["ta"], "tb": st["tb"],
            "a": [st["a"][i] for i in idx], "b": [st["b"][i] for i in idx]}


def bootstrap_p(reps):
    """Two-sided percentile-bootstrap p of difference = 0, counted from its definition."""
    ok = [r for r in reps if not np.isnan(r)]
    below = sum(1 for r in ok if r <= 0)
    above = sum(1 for r in ok if r >= 0)
    return min(1.0, 2.0 * min(below, above) / len(ok))


def splitmix64_draws(sizes, B, seed):
    mask = (1 << 64) - 1
    state, out = seed, []
    for _ in range(B):
        for P in sizes:
            for _ in range(P):
                state = (state + 0x9E3779B97F4A7C15) & mask
                z = state
                z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
                z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
                out.append((z ^ (z >> 31)) % P)
    return out


def make_stratum(rng, P, per_patient, positive_patients, mixed, thr_a, thr_b, b_shift):
    """P patients with 1..per_patient images each; patients < positive_patients are positive,
    patient `mixed` has one image of each class; scores on a 0.05 grid (ties)."""
    patient, labels = [], []
    for p in range(P):
        k = int(rng.integers(1, per_patient + 1))
        for j in range(max(k, 2) if p == mixed else k):
            patient.append(p)
            labels.append(j % 2 if p == mixed else int(p < positive_patients))
    labels = np.array(labels)
    effect = rng.normal(0, 0.15, P)[patient]
    a = np.clip(0.35 + 0.3 * labels + effect + rng.normal(0, 0.1, len(labels)), 0, 1)
    b = np.clip(0.35 + 0.25 * labels + effect + rng.normal(0, 0.1, len(labels)) + b_shift, 0, 1)
    return {"P": P, "patient": patient, "labels": list(labels), "ta": thr_a, "tb": thr_b,
            "a": list(np.round(a * 20) / 20), "b": list(np.round(b * 20) / 20)}


def new_seed(rng, st, thr_a, thr_b, b_shift):
    """The same test images (patients, labels) scored by two other models: another
    training seed evaluated on the same split."""
    labels = np.array(st["labels"])
    effect = rng.normal(0, 0.15, st["P"])[st["patient"]]
    a = np.clip(0.35 + 0.3 * labels + effect + rng.normal(0, 0.1, len(labels)), 0, 1)
    b = np.clip(0.35 + 0.25 * labels + effect + rng.normal(0, 0.1, len(labels)) + b_shift, 0, 1)
    return {"P": st["P"], "patient": list(st["patient"]), "labels": list(st["labels"]),
            "ta": thr_a, "tb": thr_b, "a": list(np.round(a * 20) / 20),
            "b": list(np.round(b * 20) / 20)}


def put_stratum(prefix, st):
    put(prefix + "_patient", st["patient"])
    put(prefix + "_labels", st["labels"])
    put(prefix + "_a", st["a"])
    put(prefix + "_b", st["b"])
    put(prefix + "_meta", [st["P"], st["ta"], st["tb"]])


def main():
    rng = np.random.default_rng(20240601)

    # AUC: with many ties (a 0.1 grid), and continuous
    labels = rng.integers(0, 2, 40)
    scores = np.round(np.clip(0.4 + 0.2 * labels + rng.normal(0, 0.2, 40), 0, 1), 1)
    put("auc_ties_labels", labels)
    put("auc_ties_scores", scores)
    put("auc_ties", [auc_pairwise(scores, labels)])
    labels = rng.integers(0, 2, 101)
    scores = rng.normal(0, 1, 101) + 0.8 * labels
    put("auc_cont_labels", labels)
    put("auc_cont_scores", scores)
    put("auc_cont", [auc_pairwise(scores, labels)])

    # DeLong: correlated arms, with ties (a 0.1 grid) and continuous
    for name, n, grid in (("delong_ties", 60, 10.0), ("delong_cont", 150, 0.0)):
        labels = rng.integers(0, 2, n)
        common = rng.normal(0, 1, n)
        s1 = common + 1.0 * labels + rng.normal(0, 0.7, n)
        s2 = common + 0.6 * labels + rng.normal(0, 0.7, n)
        if grid:
            s1, s2 = np.round(s1 * grid) / grid, np.round(s2 * grid) / grid
        put(name + "_labels", labels)
        put(name + "_s1", s1)
        put(name + "_s2", s2)
        put(name, delong_direct(s1, s2, labels))

    # Holm: ties, a p-value that caps at 1, a step-down that stops early
    p = [0.01, 0.04, 0.03, 0.005, 0.04, 0.5, 0.2, 0.0125]
    adjusted, reject = holm(p, 0.05)
    put("holm_p", p)
    put("holm_adjusted", adjusted)
    put("holm_reject", reject)

    # Cluster bootstrap on explicit draws. Stratum 0: 14 patients, 1-4 images each, one
    # patient with both classes; arm B's threshold is high, so some draws leave B
    # nothing called positive (precision undefined). Stratum 1: 5 patients, one of
    # them positive, so some draws miss a class.
    s0 = make_stratum(rng, 14, 4, 6, 9, 0.5, 0.8, 0.0)
    s1 = make_stratum(rng, 5, 3, 1, -1, 0.55, 0.5, 0.05)
    put_stratum("s0", s0)
    put_stratum("s1", s1)
    for tag, strata, B in (("one", [s0], 50), ("two", [s0, s1], 40)):
        per = sum(st["P"] for st in strata)
        draws = []
        for _ in range(B):
            for st in strata:
                draws += list(rng.integers(0, st["P"], st["P"]))
        put(tag + "_draws", draws)
        for name in METRICS:
            reps, summary = bootstrap(name, strata, draws, B)
            put("%s_%s_reps" % (tag, name), reps)
            put("%s_%s" % (tag, name), summary)
        assert len(draws) == B * per
        for name in METRICS:   # the p-values of the same replicates
            reps, _ = bootstrap(name, strata, draws, B)
            put("%s_%s_p" % (tag, name), [bootstrap_p(reps)])

    # Arm A alone (no arm B) on the two strata and their draws: metric(A) by itself.
    B = 40
    draws = lines_value("two_draws")
    for name in METRICS:
        reps, summary = bootstrap(name, [s0, s1], draws, B, alone=True)
        put("alone_%s_reps" % name, reps)
        put("alone_%s" % name, summary + [bootstrap_p(reps)])

    # splitmix64: the draws study_bootstrap_draw makes for seed 20240601, strata of 14 and 5
    put("splitmix_draws", splitmix64_draws([14, 5], 3, 20240601))

    # Shared draws: 2 splits x 2 seeds; the two seeds of a split score the same test
    # images, so the second reuses the first's draw. Split 1: 12 patients, one with both
    # classes; split 2: 9 patients, 3 of them positive (some draws miss a class).
    # Draws: per replicate, 12 for split 1, then 9 for split 2.
    h0 = make_stratum(rng, 12, 3, 5, 4, 0.5, 0.6, 0.0)
    h1 = new_seed(rng, h0, 0.45, 0.55, 0.03)
    h2 = make_stratum(rng, 9, 3, 3, -1, 0.55, 0.5, 0.05)
    h3 = new_seed(rng, h2, 0.5, 0.5, 0.0)
    shared, share, B = [h0, h1, h2, h3], [0, 1, 0, 1], 40
    for k, st in enumerate(shared):
        put_stratum("h%d" % k, st)
    draws = []
    for _ in range(B):
        for st in (h0, h2):
            draws += list(rng.integers(0, st["P"], st["P"]))
    put("shared_draws", draws)
    for name in METRICS:
        reps, summary = bootstrap(name, shared, draws, B, share)
        put("shared_%s_reps" % name, reps)
        put("shared_%s" % name, summary + [bootstrap_p(reps)])
    # and arm A alone on the shared strata
    reps, summary = bootstrap("auc", shared, draws, B, share, alone=True)
    put("shared_alone_auc_reps", reps)
    put("shared_alone_auc", summary + [bootstrap_p(reps)])
    # the built-in draws with sharing: splitmix64 over the non-sharing strata only
    put("splitmix_shared_draws", splitmix64_draws([12, 9], 3, 20240601))

    # Pooled strata: two random splits of one pool of 10 patients whose test sets overlap
    # (patients 4, 5, 6 in both), each scored by its own models; 40 replicates, each 10
    # draws of pool ids. Split A holds pool patients 0..6, split B 4..9.
    base = make_stratum(rng, 10, 3, 5, -1, 0.5, 0.55, 0.03)
    pa = sub_stratum(base, list(range(0, 7)))
    pb = sub_stratum(new_seed(rng, base, 0.45, 0.5, 0.0), list(range(4, 10)))
    pools = [list(range(0, 7)), list(range(4, 10))]
    put_stratum("pa", pa)
    put_stratum("pb", pb)
    put("pa_pool", pools[0])
    put("pb_pool", pools[1])
    B = 40
    draws = list(rng.integers(0, 10, B * 10))
    put("pooled_draws", draws)
    for name in METRICS:
        reps, summary = bootstrap_pooled(name, [pa, pb], pools, draws, B, 10)
        put("pooled_%s_reps" % name, reps)
        put("pooled_%s" % name, summary + [bootstrap_p(reps)])
    put("splitmix_pooled_draws", splitmix64_draws([10], 3, 20240601))

    with open(os.path.join(HERE, "study_stats.txt"), "w") as out:
        out.write("\n".join(lines) + "\n")
    print("wrote tests/data/study_stats.txt (%d arrays)" % len(lines))


if __name__ == "__main__":
    main()
