#!/usr/bin/python3
# small_data_summary.py - the table of examples/small_data.sh: reads every run
# under OUT/runs/SET/RECIPE/seedN and OUT/reference, prints Markdown.
#
#   /usr/bin/python3 examples/small_data_summary.py OUT [RARE NEG,POS] > OUT/results.md
#
# RARE is the class the GANs learned (NORMAL), NEG,POS the classes of the
# domain classifier (NORMAL,PNEUMONIA).
#
# Per run: the classifier two-sample test (c2st.csv: one AUC per fold), KID,
# precision and recall in the domain classifier's feature space (fid.txt), and
# nearest neighbours: for each generated image the distance to its nearest GAN
# training image, in those features and in 64x64 gray pixels, against the same
# distance for held-out real images (a generated image much closer to a
# training image than real images of other patients ever are is a copy).
# Per recipe: mean over seeds, and a 95% t interval over seeds (seeds are the
# independent repeats: each trains its own GAN and its own two-sample tests).
import csv
import glob
import math
import os
import re
import sys

import numpy as np
from PIL import Image

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
        18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df):
    """The 97.5% point of Student's t: the table's value for the nearest df at or below (a
    slightly wider interval between tabulated values)."""
    return T975[max(k for k in T975 if k <= df)]
RECIPES = [("plain", "plain DCGAN"), ("diffaugment", "DiffAugment (p = 1)"),
           ("ada", "DiffAugment + ADA"), ("ema", "EMA only"), ("full", "DiffAugment + ADA + EMA")]
SETS = [("small", "small"), ("all", "all")]


def read_npy(path):
    return np.load(path).astype(np.float64)


def c2st_auc(run, sub="c2st"):
    rows = list(csv.DictReader(open(os.path.join(run, sub, "c2st.csv"))))
    return float(np.mean([float(r["auc"]) for r in rows])), [float(r["auc"]) for r in rows]


def fid_numbers(run):
    text = open(os.path.join(run, "fid.txt")).read()
    kid = float(re.search(r"^KID:\s+(\S+)", text, re.M).group(1))
    m = re.search(r"^precision: (\S+)\s+recall: (\S+)\s+density: (\S+)\s+coverage: (\S+)", text, re.M)
    return kid, float(m.group(1)), float(m.group(2)), float(m.group(4))


def final_p(run):
    """ADA's p over the last 100 iterations (0 without augmentation)."""
    rows = list(csv.DictReader(open(os.path.join(run, "gan", "log.csv"))))[-100:]
    return float(np.mean([float(r.get("augment_p") or 0.0) for r in rows]))


# The file types train and classify read (dcgan.h's image loader); files of other types are
# not images to them, and files they cannot decode they skip, with a warning: so does this.
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tga")
_skipped = set()


def gray(path, side):
    """The image at path as side x side gray, or None (said once) when it cannot be decoded."""
    try:
        with Image.open(path) as im:
            return im.convert("L").resize((side, side), Image.BILINEAR)
    except (OSError, ValueError, SyntaxError) as e:   # (Pillow's errors for a damaged file)
        if path not in _skipped:
            _skipped.add(path)
            print("small_data_summary: skipping '%s': %s" % (path, e), file=sys.stderr)
        return None


def image_files(folder):
    return sorted(f for f in glob.glob(os.path.join(folder, "*")) if f.lower().endswith(IMAGE_TYPES))


def pixels(folder):
    out = [np.asarray(im, dtype=np.float64).ravel() / 127.5 - 1.0
           for im in (gray(f, 64) for f in image_files(folder)) if im is not None]
    if not out:
        sys.exit("small_data_summary: no image under '%s' could be read" % folder)
    return np.stack(out)


def nearest(a, b):
    """Distance from each row of a to its nearest row of b."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2.min(1), 0.0))


def mean_ci(values):
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    half = t975(len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return float(v.mean()), half


def fmt(values, digits=3):
    m, h = mean_ci(values)
    if math.isnan(h):
        return "%.*f" % (digits, m)
    return "%.*f +- %.*f" % (digits, m, digits, h)


def grid(folder, n=16, cols=4, side=64, gap=2):
    """The first n images of a folder as a cols-wide grid (gray)."""
    ims = [im for im in (gray(f, side) for f in image_files(folder)) if im is not None][:n]
    rows = max((len(ims) + cols - 1) // cols, 1)
    g = Image.new("L", (cols * side + (cols - 1) * gap, rows * side + (rows - 1) * gap), 255)
    for i, im in enumerate(ims):
        g.paste(im, ((i % cols) * (side + gap), (i // cols) * (side + gap)))
    return g


def write_samples(out, path, rare):
    """Real training images beside seed 1's generated ones, plain and full, for each set."""
    from PIL import ImageDraw
    cells = []
    for s, s_name in SETS:
        real = os.path.join(out, "sets", s, rare)
        n = len(image_files(real))
        row = [("%d real training images%s" % (n, " (the first 16)" if n > 16 else ""), real)]
        for r, r_name in (("plain", "plain DCGAN, seed 1"), ("full", "DiffAugment + ADA + EMA, seed 1")):
            row.append((r_name, os.path.join(out, "runs", s, r, "seed1", "gen")))
        cells.append(row)
    pics = [[grid(folder) for _, folder in row] for row in cells]
    # cells as large as the largest grid (a small set of under 13 images has fewer rows than the
    # generated grids beside it, which ran into the next row's titles and off the bottom)
    w = max(p.size[0] for row in pics for p in row)
    h = max(p.size[1] for row in pics for p in row)
    pad, title = 16, 18
    canvas = Image.new("L", (3 * w + 4 * pad, 2 * (h + title) + 3 * pad), 255)
    draw = ImageDraw.Draw(canvas)
    for i, row in enumerate(cells):
        for j, (label, _) in enumerate(row):
            x, y = pad + j * (w + pad), pad + i * (h + title + pad)
            draw.text((x, y), label, fill=0)
            canvas.paste(pics[i][j], (x, y + title))
    canvas.save(path)


def main():
    out = sys.argv[1]
    rare = sys.argv[2] if len(sys.argv) > 2 else "NORMAL"
    neg, pos = (sys.argv[3] if len(sys.argv) > 3 else "NORMAL,PNEUMONIA").split(",")
    write_samples(out, os.path.join(out, "samples.png"), rare)
    held_f = read_npy(os.path.join(out, "heldout.npy"))
    held_p = pixels(os.path.join(out, "sets", "heldout"))
    train_f = {s: read_npy(os.path.join(out, s + ".npy")) for s, _ in SETS}
    train_p = {s: pixels(os.path.join(out, "sets", s, rare)) for s, _ in SETS}
    # held-out real images: their nearest training image (what "not a copy" looks like)
    ref_nn = {s: (nearest(held_f, train_f[s]), nearest(held_p, train_p[s])) for s, _ in SETS}
    print("# Small-data GAN experiment")
    print()
    print("Two-sample AUC: a CNN tells generated from held-out real %s images (0.5 = it cannot)," % rare)
    print("on 64x64 images and (AUC 32) on the same images shrunk to 32x32;")
    print("mean over seeds +- the half-width of a 95% t interval over seeds (each seed: its own GAN")
    print("and 3 random 50/50 folds). KID, precision, recall (Kynkaanniemi et al. 2019) and coverage (Naeem et al. 2020) in the feature space of a")
    print("%s-vs-%s classifier trained on the train patients. NN: median distance of a" % (neg, pos))
    print("generated image to its nearest GAN training image divided by the same median for held-out")
    print("real images (features / 64x64 pixels); copies: share of generated images closer to a")
    print("training image (in pixels) than the closest held-out real image is; p: ADA's p at the end.")
    print()
    ref = os.path.join(out, "reference")
    if os.path.exists(os.path.join(ref, "c2st", "c2st.csv")):
        auc, folds = c2st_auc(ref)
        kid, prec, rec, cov = fid_numbers(ref)
        print("Reference, real train vs held-out real images: AUC %.3f (folds %s), KID %.4f, "
              "precision %.3f, recall %.3f, coverage %.3f." % (auc, ", ".join("%.3f" % f for f in folds),
                                                           kid, prec, rec, cov))
        if os.path.exists(os.path.join(ref, "c2st32", "c2st.csv")):
            print("At 32x32: AUC %.3f." % c2st_auc(ref, "c2st32")[0])
        print()
    print("| GAN images | recipe | seeds | two-sample AUC | AUC 32 | KID (features) | precision | recall | coverage | NN features | NN pixels | copies | p |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s, s_name in SETS:
        n_train = len(train_p[s])
        for r, r_name in RECIPES:
            runs = sorted(glob.glob(os.path.join(out, "runs", s, r, "seed*")))
            runs = [x for x in runs if os.path.exists(os.path.join(x, "fid.txt")) and
                    os.path.exists(os.path.join(x, "c2st", "c2st.csv"))]
            if not runs:
                continue
            aucs, a32, kids, precs, recs, covs, nnf, nnp, copies, ps = [], [], [], [], [], [], [], [], [], []
            for run in runs:
                aucs.append(c2st_auc(run)[0])
                if os.path.exists(os.path.join(run, "c2st32", "c2st.csv")):
                    a32.append(c2st_auc(run, "c2st32")[0])
                ps.append(final_p(run))
                k, p, rr, cv = fid_numbers(run)
                covs.append(cv)
                kids.append(k)
                precs.append(p)
                recs.append(rr)
                gf = read_npy(os.path.join(run, "gen.npy"))
                gp = pixels(os.path.join(run, "gen"))
                nnf.append(np.median(nearest(gf, train_f[s])) / np.median(ref_nn[s][0]))
                d = nearest(gp, train_p[s])
                nnp.append(np.median(d) / np.median(ref_nn[s][1]))
                copies.append(float((d < ref_nn[s][1].min()).mean()))
            print("| %s (%d) | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                s_name, n_train, r_name, len(runs), fmt(aucs), fmt(a32) if a32 else "-", fmt(kids, 4),
                fmt(precs), fmt(recs), fmt(covs), fmt(nnf, 2), fmt(nnp, 2), fmt(copies, 3), fmt(ps, 2)))
    print()
    print("Paired by seed (the same seed's noise, data order and initial weights), DiffAugment + ADA +")
    print("EMA minus the plain DCGAN, mean +- 95% t half-width over seeds:")
    print()
    for s, s_name in SETS:
        pairs = []
        for run in sorted(glob.glob(os.path.join(out, "runs", s, "full", "seed*"))):
            other = os.path.join(out, "runs", s, "plain", os.path.basename(run))
            if all(os.path.exists(os.path.join(x, "fid.txt")) for x in (run, other)):
                pairs.append((fid_numbers(run), fid_numbers(other)))
        if len(pairs) < 2:   # (no interval from one pair)
            print("- %s: %d seed%s with both recipes; an interval needs SEEDS=2 or more"
                  % (s_name, len(pairs), "" if len(pairs) == 1 else "s"))
            continue
        kid = [a[0] - b[0] for a, b in pairs]
        prec = [a[1] - b[1] for a, b in pairs]
        cov = [a[3] - b[3] for a, b in pairs]
        better = sum(a[0] < b[0] for a, b in pairs)
        print("- %s: KID %s, precision %s, coverage %s (%d seeds; lower KID with the recipe in %d of %d)"
              % (s_name, fmt(kid, 4), fmt(prec), fmt(cov), len(pairs), better, len(pairs)))
    print()
    print("Per run (two-sample AUC per fold; GAN training seconds):")
    print()
    for run in sorted(glob.glob(os.path.join(out, "runs", "*", "*", "seed*"))):
        if not os.path.exists(os.path.join(run, "c2st", "c2st.csv")):
            continue
        secs = open(os.path.join(run, "train_seconds.txt")).read().strip() \
            if os.path.exists(os.path.join(run, "train_seconds.txt")) else "?"
        print("- `%s`: AUC folds %s; %s s" % (os.path.relpath(run, out),
                                            ", ".join("%.3f" % f for f in c2st_auc(run)[1]), secs))


if __name__ == "__main__":
    main()
