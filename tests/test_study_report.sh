#!/bin/sh
# test_study_report.sh - build/study_report on a small made-up study tree
# (2 sizes x 2 splits x 2 seeds x 3 arms, about 40 test images of 25 patients
# per split, made by a Python generator below): where the treatment's scores
# are the control's, the primary rows say difference 0, intervals [0, 0], p 1,
# "equivalent" (whole lines, the arm values computed again in Python); where
# the treatment separates the classes, it "helps"; a size with a scores.csv
# missing is listed as not complete; bad files (a label 2, a missing column, a
# score that is not a number, a patient with two labels, arms with different
# test images) fail with the whole message naming the file and line; paths
# and patients quoted as RFC 4180 has it (commas, quotes, line breaks) read as
# the plain ones, a message naming a record's first line; and,
# where valgrind is installed, a run without memory errors or leaks.
# Run from the repo root after `make` (make test does both); KEEP=1 keeps the temporary folder.
# Prints "test_study_report.sh: N passed, M failed".
B=${B:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_study_report.XXXXXX")
. tests/checks.sh
R=$B/study_report
S=$T/study

# The tree, and expected.txt: the primary rows of the size where treatment = control.
/usr/bin/python3 - "$S" "$T/expected.txt" <<'EOF'
import math
import os
import random
import sys

study, expected = sys.argv[1], sys.argv[2]
rng = random.Random(7)   # the standard library only: CI's python3 has no numpy
SPLITS, SEEDS, ARMS = (1, 2), (1, 2), ("real", "oversample", "synthetic")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def auc(scores, labels):   # the O(n^2) pair count, ties 1/2
    pos = [s for s, l in zip(scores, labels) if l == 1]
    neg = [s for s, l in zip(scores, labels) if l == 0]
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in pos for y in neg) / (len(pos) * len(neg))


def mean(v):
    return sum(v) / len(v)


def bacc(scores, labels, t):
    sens = mean([s >= t for s, l in zip(scores, labels) if l == 1])
    spec = mean([s < t for s, l in zip(scores, labels) if l == 0])
    return (sens + spec) / 2


# per split: 25 patients (10 negative, 15 positive), 1-2 images each, negatives first
test = {}
for split in SPLITS:
    rows = []
    for p in range(25):
        label = int(p >= 10)
        for k in range(1 + rng.randint(0, 1)):
            cls = "PNEUMONIA" if label else "NORMAL"
            rows.append(("/data/split%d/test/%s/pt%d_%d-%d.png" % (split, cls, split, p, k),
                         "pt%d_%d" % (split, p), label))
    test[split] = rows
values = {}   # (size, split, seed, arm) -> scores as written
for size, better in (("10", False), ("all", True)):
    for split in SPLITS:
        rows = test[split]
        labels = [r[2] for r in rows]
        for seed in SEEDS:
            for arm in ARMS:
                if arm == "synthetic" and not better:
                    scores = values[(size, split, seed, "oversample")]   # the same as the control
                else:
                    sep = 4.0 if arm == "synthetic" else 1.2
                    z = [sep * (l - 0.5) + rng.gauss(0.0, 1.0) for l in labels]
                    scores = [float("%.9g" % (1 / (1 + math.exp(-v)))) for v in z]
                values[(size, split, seed, arm)] = scores
                text = "path,patient,label,score,threshold,called\n" + "".join(
                    "%s,%s,%d,%.9g,0.5,%d\n" % (r[0], r[1], r[2], s, s >= 0.5)
                    for r, s in zip(rows, scores))
                write("%s/split%d/n%s/%s/seed%d/eval/scores.csv" % (study, split, size, arm, seed), text)
        images = {("10", 1): 12, ("10", 2): 14, ("all", 1): 30, ("all", 2): 40}[(size, split)]
        write("%s/split%d/n%s/count.csv" % (study, split, size),
              "class,patients,images\nNORMAL,%s,%d\nPNEUMONIA,50,130\n" % (size, images))
write(study + "/split1/nall/c2st/c2st.csv",
      "fold,n_train_real,n_train_fake,n_test_real,n_test_fake,auc,accuracy\n1,20,20,20,20,0.9,0.8\n"
      "2,20,20,20,20,0.8,0.7\n")
write(study + "/provenance.txt", "commit 0123abc\nmade by tests/test_study_report.sh\n")

# the mean over the 4 strata, summed as study_bootstrap_compute sums it
strata = [(split, seed) for split in SPLITS for seed in SEEDS]
lab = {split: [r[2] for r in test[split]] for split in SPLITS}
a = sum(auc(values[("10", s, r, "oversample")], lab[s]) / 4 for s, r in strata)
b = sum(bacc(values[("10", s, r, "oversample")], lab[s], 0.5) / 4 for s, r in strata)
# the test sets' line: images and patients per class and split (the rare class NORMAL, label 0)
parts = []
for split in SPLITS:
    n = [sum(1 for r in test[split] if r[2] == l) for l in (0, 1)]
    p = [len({r[1] for r in test[split] if r[2] == l}) for l in (0, 1)]
    parts.append(" split %d: %d NORMAL images of %d patients, %d PNEUMONIA images of %d patients" % (split, n[0], p[0], n[1], p[1]))
with open(expected + ".testsets", "w") as f:
    f.write("Test sets (the first complete size's scores.csv; every size of a split scores the same images):" +
            ";".join(parts) + ". **With fewer than 20 patients of a class, the patient-level intervals below are too "
            "narrow to trust** (few clusters: Cameron, Gelbach and Miller 2008).\n")
with open(expected, "w") as f:
    for name, v in (("ROC AUC", a), ("balanced accuracy", b)):
        f.write("| 10 | 13.0 | %s | %.4f | %.4f | +0.0000 | [+0.0000, +0.0000] | [+0.0000, +0.0000] | "
                "1.0000 | 1.0000 | equivalent |\n" % (name, v, v))
EOF

ARGS="--study $S --splits 1,2 --seeds 1,2 --arms real,oversample,synthetic --control oversample --treatment synthetic --bootstrap 200 --seed 3"
check "help/prints the usage" $R --help
check "runs" $R $ARGS --sizes 10,all --other-name PNEUMONIA --out "$T/r.md"
for f in r.md r.csv r.png; do
    check "writes $f" test -s "$T/$f"
done
# how many test images and patients of each class every interval rests on, and a warning
# below 20 patients (a referee's study gave "harms, Holm p < 0.0011" from 2 rare patients and
# never said so); a pointer to the steps' warnings only where provenance.txt lists some
check "the test sets: images and patients per class and split, and the few-patients warning" \
    grep -qxF "$(cat "$T/expected.txt.testsets")" "$T/r.md"
check "no warnings in provenance.txt: no pointer to them" sh -c "! grep -q 'logs hold warnings' '$T/r.md'"
cp "$S/provenance.txt" "$T/provenance.keep"
printf "warnings in the steps' logs (each once, with one step that gave it):\n- split1.n10.gan: train: warning: x\n" \
    >>"$S/provenance.txt"
$R $ARGS --sizes 10,all --out "$T/rw.md" >/dev/null 2>&1
check "warnings in provenance.txt: a pointer near the top, the list under Provenance" sh -c "
    grep -qxF \"**The steps' logs hold warnings** (images skipped, nearly black or enlarged; too few test patients): they are listed at the end, under Provenance.\" '$T/rw.md' &&
    grep -qxF -- '- split1.n10.gan: train: warning: x' '$T/rw.md'"
cp "$T/provenance.keep" "$S/provenance.txt"
check "without --other-name the test sets' line says 'other-class'" \
    grep -q '^Test sets .*: split 1: [0-9]* NORMAL images of 10 patients, [0-9]* other-class images of 15 patients;' "$T/rw.md"
while IFS= read -r line; do
    check "identical arms: the whole primary row: $line" grep -qxF "$line" "$T/r.md"
done <"$T/expected.txt"
check "identical arms: every secondary row is 0, [0, 0], p 1, equivalent" test \
    "$(grep -cE '^\| 10 \| 13\.0 \| (sensitivity|specificity|precision|F1) \| [0-9.]+ \| [0-9.]+ \| \+0\.0000 \| \[\+0\.0000, \+0\.0000\] \| \[\+0\.0000, \+0\.0000\] \| 1\.0000 \| 1\.0000 \| equivalent \|$' "$T/r.md")" -eq 4
check "identical arms: the CSV row" grep -qxF "primary,10,synthetic - oversample,auc,0,0,0,0,0,1,1,equivalent" "$T/r.csv"
check "clearly better: ROC AUC helps" grep -qE '^\| all \| 35\.0 \| ROC AUC \| .* \| helps( by more than the margin)? \|$' "$T/r.md"
check "clearly better: balanced accuracy helps" grep -qE '^\| all \| 35\.0 \| balanced accuracy \| .* \| helps( by more than the margin)? \|$' "$T/r.md"
check "other comparisons: synthetic - real and oversample - real" test \
    "$(grep -cE '^\| (10|all) \| [0-9.]+ \| (synthetic - real|oversample - real) \|' "$T/r.md")" -eq 8
check "per arm: a row per size and arm" test "$(grep -cE '^\| (10|all) \| (real|oversample|synthetic) \| [0-9]' "$T/r.md")" -eq 6
check "DeLong: identical arms, difference 0, p 1" grep -qE '^\| 10 \| 1 \| 1 \| ([0-9.]+) \| \1 \| \+0\.0000 \| 0\.000 \| 1\.0000 \|$' "$T/r.md"
check "shortcut: c2st mean over folds, '-' where absent, the specificity difference and the flag" grep -qE '^\| all \| 0\.8500 \| - \| [+-][0-9.]+ \[[+-][0-9.]+, [+-][0-9.]+\] \| (yes|no) \|$' "$T/r.md"
check "shortcut: identical arms, no flag" grep -qxF "| 10 | - | - | +0.0000 [+0.0000, +0.0000] | no |" "$T/r.md"
# the shortcut column is the rare class's own metric: specificity when it is the negative class
# (the default), sensitivity with --rare-label 1 (an audit: it was specificity either way)
shortcut_is() {   # shortcut_is FILE METRIC: the 'all' row's shortcut cell = that secondary row's
    python3 - "$1" "$2" <<'PYEOF'
import sys
rows = [l.rstrip("\n").split(" | ") for l in open(sys.argv[1]) if l.startswith("| all |")]
sec = [r for r in rows if len(r) > 7 and r[2] == sys.argv[2]]
cut = [r for r in rows if len(r) == 5]
sys.exit(0 if sec and cut and cut[0][3] == "%s %s" % (sec[0][5], sec[0][6]) else 1)
PYEOF
}
check "shortcut: rare class negative (default): the specificity difference" shortcut_is "$T/r.md" specificity
check "shortcut: ... and the text says so" grep -qF "the specificity difference (real NORMAL test images called negative; NORMAL is the negative class here)" "$T/r.md"
check "runs with --rare-label 1" $R $ARGS --sizes 10,all --rare-label 1 --out "$T/r1.md"
check "shortcut: rare class positive: the sensitivity difference" shortcut_is "$T/r1.md" sensitivity
check "shortcut: ... and the text and the flag's rule say so" sh -c "grep -qF 'the sensitivity difference (real NORMAL test images called positive; NORMAL is the positive class here)' '$T/r1.md' && grep -qF 'yes when the sensitivity difference' '$T/r1.md'"
# splits whose test sets share patients (split 2's first 5 patients renamed to split 1's, the
# same labels): the bootstrap draws the pooled patients once per replicate; the AUC row at
# size all against Python's pooled bootstrap written out (splitmix64 over the pool)
cp -r "$S" "$T/pooled"
for f in "$T"/pooled/split2/n*/*/seed*/eval/scores.csv; do
    sed -i -E 's/,pt2_([0-4]),/,pt1_\1,/' "$f"
done
check "pooled: runs" $R $ARGS --study "$T/pooled" --sizes 10,all --out "$T/pooled.md"
check "pooled: the method says so" grep -qF "The splits' test sets share patients (random splits of one pool; up to 5 shared at a size), so at 2 of 2 sizes" "$T/pooled.md"
check "pooled: not said when the splits share none" sh -c "! grep -qF 'share patients' '$T/r.md'"
python3 - "$T/pooled" >"$T/pooled_row.txt" <<'PYEOF'
import sys
study, B, seed = sys.argv[1], 200, 3
def rows(split, arm, r):
    lines = open("%s/split%d/nall/%s/seed%d/eval/scores.csv" % (study, split, arm, r)).read().split("\n")[1:]
    return [(f[1], int(f[2]), float(f[3])) for f in (l.split(",") for l in lines if l)]
names = []   # pool ids: names in order of first appearance, split 1 then split 2
for split in (1, 2):
    for name, _, _ in rows(split, "oversample", 1):
        if name not in names:
            names.append(name)
def auc(data, w):   # weighted pair count, ties 1/2
    pos = [(s, w[n]) for n, l, s in data if l == 1]
    neg = [(s, w[n]) for n, l, s in data if l == 0]
    num = sum(a * b * (1.0 if x > y else 0.5 if x == y else 0.0) for x, a in pos for y, b in neg)
    den = sum(a for _, a in pos) * sum(b for _, b in neg)
    return None if den == 0 else num / den
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & (2**64 - 1)
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return state, z ^ (z >> 31)
strata = [(s, r) for s in (1, 2) for r in (1, 2)]
def diff(w):
    d = []
    for s, r in strata:
        a, b = auc(rows(s, "synthetic", r), w), auc(rows(s, "oversample", r), w)
        if a is None or b is None:
            return None
        d.append(a - b)
    return sum(d) / len(d)
state, reps = seed, []
for _ in range(B):
    count = dict.fromkeys(names, 0)
    for _ in range(len(names)):
        state, z = splitmix(state)
        count[names[z % len(names)]] += 1
    v = diff(count)
    if v is not None:
        reps.append(v)
reps.sort()
def q(p):   # numpy.percentile's linear rule
    h = (len(reps) - 1) * p
    lo = int(h)
    return reps[lo] if lo + 1 >= len(reps) else reps[lo] + (h - lo) * (reps[lo + 1] - reps[lo])
est = diff(dict.fromkeys(names, 1))
print("%+.4f | [%+.4f, %+.4f]" % (est, q(0.025), q(0.975)))
PYEOF
check "pooled: the AUC row at size all equals Python's pooled bootstrap ($(cat "$T/pooled_row.txt"))" \
    grep -qF "| ROC AUC | " "$T/pooled.md"
want_row=$(cat "$T/pooled_row.txt")
check "pooled: ... estimate and 95% interval" sh -c "grep -E '^\| all \| [0-9.]+ \| ROC AUC \|' '$T/pooled.md' | grep -qF '$want_row'"
fails_with_line "--rare-label 2 is refused" "study_report: --rare-label is 0 or 1, got '2'" $R $ARGS --sizes 10 --rare-label 2 --out "$T/r2.md"
# an int past an int is refused (--seeds 4294967297 wrapped to seed 1): a helper's audit of cli.h
fails_with_line "--seeds past an int is refused" \
    "study_report: --seeds wants an integer from -2147483648 to 2147483647, got '4294967297'" \
    $R $ARGS --sizes 10 --seeds 1,4294967297 --out "$T/r3.md"
# an infinite margin is refused (--margin-auc inf was taken, and every primary verdict read "equivalent")
fails_with_line "--margin-auc inf is refused" \
    "study_report: needs --bootstrap >= 2, finite margins > 0 and 0 < --alpha < 1" \
    $R $ARGS --sizes 10 --margin-auc inf --out "$T/r4.md"
# the probe never touches a file that is there (a first version opened and removed OUT.md.tmp, here
# in a run that then stopped with nothing to report: a referee)
echo "my notes" >"$T/keep.md.tmp"
echo "my notes" >"$T/keep2.md.probe"
$R $ARGS --sizes 25 --out "$T/keep.md" >/dev/null 2>&1
$R $ARGS --sizes 25 --out "$T/keep2.md" >/dev/null 2>&1
check "a run that writes nothing leaves OUT.md.tmp and OUT.md.probe as they were" \
    sh -c "grep -qxF 'my notes' '$T/keep.md.tmp' && grep -qxF 'my notes' '$T/keep2.md.probe'"
# an --out in a missing folder failed after every bootstrap, with no reason (a referee)
$R $ARGS --sizes 10 --out "$T/no_such/r.md" >"$T/nofolder.out" 2>"$T/nofolder.err"
check "an --out in a missing folder is refused before the bootstraps, the reason named" \
    test $? -eq 1 -a "$(cat "$T/nofolder.err")" = "study_report: cannot write $T/no_such/r.md.probe: No such file or directory" \
    -a -z "$(grep bootstraps "$T/nofolder.out")"
check "provenance: copied verbatim" grep -qxF "made by tests/test_study_report.sh" "$T/r.md"

# a size with one scores.csv missing is listed, not reported
cp -r "$S/split1/n10" "$S/split1/n25"
cp -r "$S/split2/n10" "$S/split2/n25"
rm "$S/split2/n25/synthetic/seed2/eval/scores.csv"
check "incomplete size: runs" $R $ARGS --sizes 10,25,all --out "$T/r2.md"
check "incomplete size: listed with the missing file" grep -qxF -e \
    "- 25: not complete (missing: $S/split2/n25/synthetic/seed2/eval/scores.csv)" "$T/r2.md"
check "incomplete size: no row" test -z "$(grep -E '^\| 25 \|' "$T/r2.md")"
fails_with_line "incomplete size: none complete is an error" \
    "study_report: no size is complete (every size misses a scores.csv); nothing to report" \
    $R $ARGS --sizes 25 --out "$T/r3.md"

bad() {   # bad NAME FILE AWK_PROGRAM: a copy of the tree with FILE rewritten by awk
    rm -rf "$T/$1"
    cp -r "$S" "$T/$1"
    awk -F, -v OFS=, "$3" "$S/$2" >"$T/$1/$2"
}
F=split1/n10/real/seed1/eval/scores.csv
# Holm's family is the one asked for: size 25 asked for and incomplete counts
# (2 primary hypotheses per size: 6, not the 4 of the complete sizes)
check "incomplete size: counted in Holm's family" grep -qF "Holm-adjusted over the 6 primary hypotheses" "$T/r2.md"
check "complete sizes: Holm's family of 4" grep -qF "Holm-adjusted over the 4 primary hypotheses" "$T/r.md"
check "between splits: identical arms give 0 per split, 0 mean, [0, 0]" \
    grep -qxF "| 10 | ROC AUC | +0.0000 | +0.0000 | +0.0000 | [+0.0000, +0.0000] |" "$T/r.md"
check "between splits: a CSV row per size and primary metric" test "$(grep -c '^between_splits,' "$T/r.csv")" -eq 4
check "choices: a row per size, split and seed with each arm's threshold" \
    test "$(grep -cE '^\| (10|all) \| [12] \| [12] \| -, 0\.5 \| -, 0\.5 \| -, 0\.5 \|$' "$T/r.md")" -eq 8

# copy_scores SRC DST <<PY: copies the study tree SRC to DST and rewrites every
# scores.csv in it with the Python on stdin, which defines rewrite(text) -> new text
copy_scores() {
    /usr/bin/python3 -c '
import os, shutil, sys
exec(sys.stdin.read())
shutil.copytree(sys.argv[1], sys.argv[2])
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        if f == "scores.csv":
            p = os.path.join(root, f)
            text = open(p, newline="").read()
            open(p, "w", newline="").write(rewrite(text))
' "$1" "$2"
}

# the logit column ranks the images when it is there: probabilities that tie at
# 1 (float32 saturation) but logits that do not give the logits' AUC
copy_scores "$S" "$T/logit" <<'EOF2'
def rewrite(text):
    lines = text.splitlines()
    out = [lines[0] + ",logit"]
    for k, line in enumerate(lines[1:]):
        path, patient, label, score, thr, called = line.split(",")
        logit = (k if label == "1" else -k) + 20.0   # every score rounds to 1, the logits order by label
        out.append("%s,%s,%s,1,0.5,1,%.9g" % (path, patient, label, logit))
    return "\n".join(out) + "\n"
EOF2
check "logit: runs" $R $ARGS --study "$T/logit" --sizes 10 --out "$T/lg.md"
check "logit: AUC from the logits (1.0), not the tied scores (0.5)" \
    grep -qE '^\| 10 \| real \| 1\.0000 \[1\.0000, 1\.0000\] \| 0\.5000 ' "$T/lg.md"
bad badlogit $F 'NR == 1 { $0 = $0 ",logit" } NR > 1 { $0 = $0 ",x" } 1'
fails_with_line "bad file: a logit that is not a number" \
    "study_report: $T/badlogit/$F line 2: logit 'x' is not a finite number" \
    $R $ARGS --study "$T/badlogit" --sizes 10 --out "$T/bad.md"

# paths and patients quoted as RFC 4180 has it (classify eval quotes a field holding a comma,
# a quote or a line break): the reader split at every comma and took '"p""pt1_0"' for a
# label (a helper's audit). Every path given a comma, quotes and a line break, every
# patient a comma and a quote: the same report as the plain tree
copy_scores "$S" "$T/quoted" <<'EOF3'
import csv, io
def rewrite(text):
    rows = list(csv.reader(io.StringIO(text)))
    for r in rows[1:]:
        r[0] = r[0].replace("/data/", '/da,ta/"q"\nx/')
        r[1] = 'p,"' + r[1]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
EOF3
check "quoted fields: the files hold them" grep -qF '"/da,ta/""q""' "$T/quoted/$F"
check "quoted fields: runs" $R $ARGS --study "$T/quoted" --sizes 10,all --out "$T/quoted.md"
check "quoted fields: the tables of the plain tree" test "$(grep '^|' "$T/quoted.md")" = "$(grep '^|' "$T/r.md")"
check "quoted fields: the CSV of the plain tree" cmp "$T/quoted.csv" "$T/r.csv"
# a message names the record's first line: each row of this file spans two lines
rm -rf "$T/qbad"
cp -r "$T/quoted" "$T/qbad"
awk 'NR == 9 { sub(/,0,/, ",2,") } 1' "$T/quoted/$F" >"$T/qbad/$F"
fails_with_line "quoted fields: a label 2 on the fourth row, named by its first line" \
    "study_report: $T/qbad/$F line 8: label is '2'; labels are 0 (negative) or 1 (positive)" \
    $R $ARGS --study "$T/qbad" --sizes 10 --out "$T/bad.md"

# bad files: the whole message, naming the file and line; nothing written
bad label2 $F 'NR == 5 { $3 = 2 } 1'
fails_with_line "bad file: a label 2" \
    "study_report: $T/label2/$F line 5: label is '2'; labels are 0 (negative) or 1 (positive)" \
    $R $ARGS --study "$T/label2" --sizes 10 --out "$T/bad.md"
check "bad file: nothing written" test ! -e "$T/bad.md"
bad column $F 'NR == 1 { $4 = "prob" } 1'
fails_with_line "bad file: no score column" \
    "study_report: $T/column/$F line 1: no 'score' column in the header" \
    $R $ARGS --study "$T/column" --sizes 10 --out "$T/bad.md"
bad nan $F 'NR == 3 { $4 = "abc" } 1'
fails_with_line "bad file: a score that is not a number" \
    "study_report: $T/nan/$F line 3: score 'abc' is not a finite number" \
    $R $ARGS --study "$T/nan" --sizes 10 --out "$T/bad.md"
# text after a closing quote ("a"b): refused by the record's line (it was read as "ab"); a quote
# left open at the end of the file: refused (it took the rest of the file as one field)
bad afterquote $F 'NR == 4 { $2 = "\"p\"x" } 1'
fails_with_line "bad file: text after a closing quote" \
    "study_report: $T/afterquote/$F line 4: a quote is not closed, or text follows a closing quote" \
    $R $ARGS --study "$T/afterquote" --sizes 10 --out "$T/bad.md"
last_f=$(wc -l <"$S/$F")
bad openquote $F "NR == $last_f { \$2 = \"\\\"p\" } 1"
fails_with_line "bad file: a quote open at the end of the file" \
    "study_report: $T/openquote/$F line $last_f: a quote is not closed, or text follows a closing quote" \
    $R $ARGS --study "$T/openquote" --sizes 10 --out "$T/bad.md"
F2=split1/n10/oversample/seed2/eval/scores.csv
last=$(wc -l <"$S/$F2")
first_patient=$(awk -F, 'NR == 2 { print $2 }' "$S/$F2")
bad twolabels $F2 "NR == $last { \$2 = \"$first_patient\" } 1"
fails_with_line "bad file: a patient with two labels" \
    "study_report: $T/twolabels/$F2 line $last: patient '$first_patient' has label 1 here and 0 on line 2; a patient has one label" \
    $R $ARGS --study "$T/twolabels" --sizes 10 --out "$T/bad.md"
F3=split2/n10/synthetic/seed1/eval/scores.csv
REF=split2/n10/real/seed1/eval/scores.csv
bad images $F3 'NR == 7 { $1 = "/elsewhere/x.png" } 1'
ref=$(awk -F, 'NR == 7 { printf "%s (patient '"'"'%s'"'"', label %s)", "'"'"'" $1 "'"'"'", $2, $3 }' "$S/$REF")
mine=$(awk -F, 'NR == 7 { printf "(patient '"'"'%s'"'"', label %s)", $2, $3 }' "$S/$REF")
fails_with_line "bad file: arms with different test images" \
    "study_report: $T/images/$F3 line 7: image '/elsewhere/x.png' $mine, but $T/images/$REF line 7 has $ref; the arms and seeds of split 2 must score the same test images in the same order" \
    $R $ARGS --study "$T/images" --sizes 10 --out "$T/bad.md"
fails_with_line "flags: an unknown treatment" "study_report: --treatment 'x' is not one of --arms" \
    $R $ARGS --treatment x --sizes 10 --out "$T/bad.md"

# a bootstrap p of 0 means p < 2/used: Holm takes that bound, not 0 (at B = 50 and 4 hypotheses
# the 'all' rows read "Holm p < 0.04, helps by more than the margin" where 4 x 0.04 = 0.16 is all
# the data say; a referee)
$R $ARGS --bootstrap 50 --sizes 10,all --out "$T/b50.md" >/dev/null 2>&1
check "Holm: p 0 at B = 50 enters as 0.04; Holm p <= 0.16, the helps demoted" grep -qE \
    '^\| all \| [0-9.]+ \| ROC AUC \| .* \| < 0\.04 \| <= 0\.16 \| inconclusive \(intervals: helps by more than the margin; Holm p > 0\.05\) \|$' "$T/b50.md"
# one split numbered 2, whose test set has one NORMAL patient of 3 images: the test sets' line names
# split 2 (it said "split 1", the position), and a row whose bootstrap skipped more than 5% of its
# resamples (those that drew no NORMAL patient) gets no verdict (it said "helps"; a referee)
/usr/bin/python3 - "$T/one" <<'PYEOF'
import os, random, sys
study = sys.argv[1]
rng = random.Random(5)
rows = [("/d/NORMAL/n_%d.png" % k, "n", 0) for k in range(3)] + \
       [("/d/PNEUMONIA/p%d.png" % k, "p%d" % k, 1) for k in range(12)]
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
for arm, sep in (("real", 0.5), ("oversample", 0.5), ("synthetic", 3.0)):
    text = "path,patient,label,score,threshold,called\n"
    for path, pid, label in rows:
        sc = 1 / (1 + 2.718281828 ** -(sep * (label - 0.5) + rng.gauss(0, 1)))
        text += "%s,%s,%d,%.9g,0.5,%d\n" % (path, pid, label, sc, sc >= 0.5)
    write("%s/split2/n10/%s/seed1/eval/scores.csv" % (study, arm), text)
write(study + "/split2/n10/count.csv", "class,patients,images\nNORMAL,10,13\nPNEUMONIA,50,130\n")
write(study + "/provenance.txt", "made by tests/test_study_report.sh\n")
PYEOF
$R --study "$T/one" --splits 2 --seeds 1 --arms real,oversample,synthetic --control oversample \
    --treatment synthetic --bootstrap 200 --seed 3 --sizes 10 --out "$T/one.md" >/dev/null 2>&1
check "one split numbered 2: the test sets' line says split 2" \
    grep -q '^Test sets .*: split 2: 3 NORMAL images of 1 patients, 12 other-class images of 12 patients\.' "$T/one.md"
check "... and the rows whose bootstrap skipped too many resamples are not assessable" grep -qE \
    '^\| 10 \| 13\.0 \| ROC AUC \| .* \| not assessable \([0-9]+ of 200 resamples skipped\) \|$' "$T/one.md"

if command -v valgrind >/dev/null 2>&1; then
    check "valgrind: no memory errors, no leaks" valgrind -q --error-exitcode=9 --leak-check=full \
        --errors-for-leak-kinds=definite $R $ARGS --bootstrap 20 --sizes 10,25,all --out "$T/v.md"
else
    echo "test_study_report.sh: skipped: valgrind (not installed)"
fi

[ -n "$KEEP" ] || rm -rf "$T"
echo "test_study_report.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
