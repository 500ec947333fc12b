#!/usr/bin/python3
# Golden numbers for the FID and KID arithmetic, from numpy and scipy exactly as
# pytorch-fid computes them (scipy.linalg.sqrtm route), written to
# tests/data/fid_math.bin. Run: /usr/bin/python3 tests/make_fid_math.py
import os
import sys

import numpy as np
from scipy import linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import save  # noqa: E402


def frechet(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def kid_full(f1, f2):
    """Unbiased MMD^2, polynomial kernel (x.y/d + 1)^3, on the whole sets."""
    d = f1.shape[1]
    kxx = (f1 @ f1.T / d + 1) ** 3
    kyy = (f2 @ f2.T / d + 1) ** 3
    kxy = (f1 @ f2.T / d + 1) ** 3
    m = f1.shape[0]
    return ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()


def main():
    rng = np.random.default_rng(5)
    arrays = []
    cases = [("well", 300, 32, 1.0), ("deficient", 20, 32, 1.0)]
    for name, n, d, shift in cases:
        mix = rng.normal(size=(d, d)).astype(np.float32) * 0.3
        a = (rng.normal(size=(n, d)).astype(np.float32) @ mix + 0.1).astype(np.float32)
        b = (rng.normal(size=(n, d)).astype(np.float32) * 1.3 @ mix + shift * 0.2).astype(np.float32)
        fa, fb = a.astype(np.float64), b.astype(np.float64)
        mu1, mu2 = fa.mean(0), fb.mean(0)
        s1, s2 = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
        fid = frechet(mu1, s1, mu2, s2)
        arrays += [(name + ".a", a), (name + ".b", b), (name + ".fid", np.array([fid])),
                   (name + ".rank", np.array([np.linalg.matrix_rank(s1), np.linalg.matrix_rank(s2)])),
                   (name + ".mu1", mu1), (name + ".sigma1", s1)]
        print(name, "FID", fid, "ranks", np.linalg.matrix_rank(s1), np.linalg.matrix_rank(s2))
    f1 = rng.normal(size=(40, 16)).astype(np.float32)
    f2 = (rng.normal(size=(40, 16)) * 1.2 + 0.3).astype(np.float32)
    kid = kid_full(f1.astype(np.float64), f2.astype(np.float64))
    arrays += [("kid.f1", f1), ("kid.f2", f2), ("kid.value", np.array([kid]))]
    print("KID", kid)
    # a symmetric matrix and its eigenvalues
    m = rng.normal(size=(50, 50))
    sym = ((m + m.T) / 2).astype(np.float32)
    arrays += [("eig.a", sym), ("eig.w", np.linalg.eigvalsh(sym.astype(np.float64)))]
    # statistics files as pytorch-fid writes them (np.savez_compressed) and plain np.savez
    mu = rng.normal(size=8)
    sigma = np.cov(rng.normal(size=(20, 8)), rowvar=False)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    np.savez_compressed(os.path.join(here, "stats8_compressed.npz"), mu=mu, sigma=sigma)
    np.savez(os.path.join(here, "stats8.npz"), mu=mu, sigma=sigma)
    arrays += [("npz.mu", mu), ("npz.sigma", sigma)]
    save("fid_math.bin", arrays)


if __name__ == "__main__":
    main()
