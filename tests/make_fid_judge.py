#!/usr/bin/python3
# Reference numbers for section 14g of dcgan.h (what an FID means), computed
# with numpy and scipy, independently of the C code: FID as pytorch-fid computes
# it (scipy.linalg.sqrtm) and exactly (an SVD, see fid_exact), KID on whole sets, bootstrap resamples and floor
# halves drawn with the same PCG32 stream the library documents, precision /
# recall / density / coverage as the authors' `prdc` package defines them, brute
# force nearest neighbours, scipy's Mann-Whitney U, numpy's percentile, and two
# .npy feature files written by numpy.save. Writes tests/data/fid_judge.txt
# ("name rows cols values...", %.17g) and tests/data/features_*.npy.
# Run: /usr/bin/python3 tests/make_fid_judge.py
import os

import numpy as np
from scipy import linalg, stats

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
M64 = (1 << 64) - 1


class Pcg32:
    """pcg32_srandom_r(init, seq) and pcg32_random_r, as dcgan.h section 3 states them."""

    def __init__(self, init, seq):
        self.state = 0
        self.inc = ((seq << 1) | 1) & M64
        self.u32()
        self.state = (self.state + init) & M64
        self.u32()

    def u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & M64
        x = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        r = old >> 59
        return ((x >> r) | (x << ((-r) & 31))) & 0xFFFFFFFF


def frechet(a, b):
    """pytorch-fid's calculate_frechet_distance on np.cov statistics."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def fid_exact(a, b):
    """The same distance without a matrix square root of rounding noise: with
    centred rows X1, X2, tr sqrt(S1 S2) is the sum of the singular values of
    X1 X2^T / sqrt((n1-1)(n2-1)) (numpy.linalg.svd). pytorch-fid's sqrtm route
    agrees to ~1e-8 relative; on rank-deficient covariances (n < dims) sqrtm's
    error is that large because it takes square roots of zero eigenvalues."""
    x1, x2 = a - a.mean(0), b - b.mean(0)
    diff = a.mean(0) - b.mean(0)
    sv = np.linalg.svd(x1 @ x2.T / np.sqrt((len(a) - 1) * (len(b) - 1)), compute_uv=False)
    return diff.dot(diff) + (x1 ** 2).sum() / (len(a) - 1) + (x2 ** 2).sum() / (len(b) - 1) - 2 * sv.sum()


def kid_full(a, b):
    """Unbiased MMD^2, kernel (x.y/d + 1)^3, over all pairs of positions."""
    d = a.shape[1]
    kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
    m, n = len(a), len(b)
    return (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()


def kid_resampled(a, b, i1, i2):
    """KID on resamples (indices i1, i2): within each set the mean of k over the pairs of draws
    that are different vectors (a vector drawn twice is not paired with itself)."""
    d = a.shape[1]
    A, B = a[i1], b[i2]
    out = -2 * ((A @ B.T / d + 1) ** 3).mean()
    for X, idx in ((A, np.array(i1)), (B, np.array(i2))):
        other = ~np.equal.outer(idx, idx)
        if not other.any():
            return float("nan")
        out += ((X @ X.T / d + 1) ** 3)[other].sum() / other.sum()
    return out


def bootstrap_kid(a, b, reps, seed):
    g = Pcg32(seed, seed)
    out = []
    for _ in range(reps):
        i1 = [g.u32() % len(a) for _ in range(len(a))]
        i2 = [g.u32() % len(b) for _ in range(len(b))]
        out.append(kid_resampled(a, b, i1, i2))
    return np.array(out)


def bootstrap(stat, a, b, reps, seed):
    g = Pcg32(seed, seed)
    out = []
    for _ in range(reps):
        i1 = [g.u32() % len(a) for _ in range(len(a))]
        i2 = [g.u32() % len(b) for _ in range(len(b))]
        out.append(stat(a[i1], b[i2]))
    return np.array(out)


def kid_subsets(a, b, subsets, size, seed):
    """dcgan_kid: per subset, a partial Fisher-Yates shuffle of each set's
    indices (set 1, then set 2) from the PCG32 stream, the unbiased MMD^2 of
    the first m = min(n1, n2, size) of each; then the mean and numpy's std
    (ddof 0, as the KID reference code reports it)."""
    g = Pcg32(seed, seed)
    m = min(len(a), len(b), size)
    values = []
    for _ in range(subsets):
        picks = []
        for f in (a, b):
            perm = list(range(len(f)))
            for i in range(m):
                j = i + g.u32() % (len(f) - i)
                perm[i], perm[j] = perm[j], perm[i]
            picks.append(f[perm[:m]])
        values.append(kid_full(picks[0], picks[1]))
    return np.array([np.mean(values), np.std(values)])


def floor(f, m, repeats, seed):
    g = Pcg32(seed, seed)
    out = []
    for _ in range(repeats):
        perm = list(range(len(f)))
        for i in range(len(f) - 1, 0, -1):
            j = g.u32() % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        out.append(fid_exact(f[perm[:m]], f[perm[m:2 * m]]))
    return np.array(out)


def dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def prdc(real, fake, k):
    """The definitions of the prdc package (Naeem et al. 2020), strict '<'."""
    rr = np.partition(dist(real, real), k, axis=-1)[:, k]
    rf = np.partition(dist(fake, fake), k, axis=-1)[:, k]
    d = dist(real, fake)
    precision = (d < rr[:, None]).any(axis=0).mean()
    recall = (d < rf[None, :]).any(axis=1).mean()
    density = (1.0 / k) * (d < rr[:, None]).sum(axis=0).mean()
    coverage = (d.min(axis=1) < rr).mean()
    return np.array([precision, recall, density, coverage])


def main():
    rng = np.random.default_rng(11)
    rows = []

    def put(name, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows.append("%s %d %d %s" % (name, x.shape[0], x.shape[1], " ".join("%.17g" % v for v in x.ravel())))

    # FID and the bootstrap: n > dims (covariance route) and n < dims (Gram route)
    mix = rng.normal(size=(8, 8)) * 0.5
    cov_a = rng.normal(size=(40, 8)) @ mix + 0.2
    cov_b = rng.normal(size=(36, 8)) * 1.2 @ mix + 0.5
    gram_a = rng.normal(size=(10, 16)) + 0.3
    gram_b = rng.normal(size=(12, 16)) * 0.8
    for name, a, b in (("cov", cov_a, cov_b), ("gram", gram_a, gram_b)):
        put(name + ".a", a)
        put(name + ".b", b)
        put(name + ".fid", [fid_exact(a, b)])
        put(name + ".fid_sqrtm", [frechet(a, b)])
        put(name + ".fid_boot", bootstrap(fid_exact, a, b, 12, 3))
        put(name + ".kid_boot", bootstrap_kid(a, b, 12, 4))
    # KID over random subsets: the mean and the spread (ddof 0)
    put("kid.subsets", kid_subsets(cov_a, cov_b, 6, 20, 5))
    # the floor: halves of one set
    fl = rng.normal(size=(30, 6))
    put("floor.f", fl)
    put("floor.m15", floor(fl, 15, 5, 6))
    put("floor.m10", floor(fl, 10, 4, 7))
    # precision/recall/density/coverage on small integers: duplicates and exact ties
    real = rng.integers(0, 4, size=(25, 3)).astype(np.float64)
    fake = rng.integers(0, 5, size=(20, 3)).astype(np.float64)
    fake[:4] = real[:4]   # some fakes equal reals
    put("prdc.real", real)
    put("prdc.fake", fake)
    put("prdc.k3", prdc(real, fake, 3))
    put("prdc.k5", prdc(real, fake, 5))
    # nearest neighbours with ties (the lower index wins, like numpy.argmin)
    q = rng.integers(0, 4, size=(15, 3)).astype(np.float64)
    ref = rng.integers(0, 4, size=(20, 3)).astype(np.float64)
    d = dist(q, ref)
    put("nn.q", q)
    put("nn.ref", ref)
    put("nn.index", d.argmin(axis=1))
    put("nn.dist", d.min(axis=1))
    # Mann-Whitney U with ties; scipy's asymptotic two-sided p without continuity correction
    a = rng.integers(0, 10, size=30).astype(np.float64)
    b = rng.integers(2, 13, size=25).astype(np.float64)
    res = stats.mannwhitneyu(a, b, use_continuity=False, alternative="two-sided", method="asymptotic")
    put("mw.a", a)
    put("mw.b", b)
    put("mw.u_p", [res.statistic, res.pvalue])
    # percentiles (numpy's default 'linear')
    v = rng.normal(size=17)
    put("q.values", v)
    put("q.p", [np.percentile(v, 2.5), np.percentile(v, 50), np.percentile(v, 97.5)])
    # feature files as numpy.save writes them
    f = rng.normal(size=(5, 3))
    np.save(os.path.join(HERE, "features_5x3.npy"), f)
    np.save(os.path.join(HERE, "features_5x3_f4.npy"), f.astype(np.float32))
    put("npy.f", f)
    put("npy.f4", f.astype(np.float32).astype(np.float64))
    with open(os.path.join(HERE, "fid_judge.txt"), "w") as out:
        out.write("\n".join(rows) + "\n")
    print("wrote tests/data/fid_judge.txt (%d arrays) and tests/data/features_5x3*.npy" % len(rows))


if __name__ == "__main__":
    main()
