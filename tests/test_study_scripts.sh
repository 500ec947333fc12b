#!/bin/sh
# test_study_scripts.sh - examples/study.sh and examples/small_data.sh on tiny
# Kermany-named phantoms (1 split, size 3, 5 GAN iterations, 1 classifier
# epoch; seconds per study): a study killed during or after a step and run
# again ends with the scores of an unbroken run; a step killed after writing
# some output and then asked with other settings is refused; REDO=1 after the
# data changed in the other class only, or with RARE naming the other class,
# finishes (a step whose outputs a redone step removed runs again; the
# held-out images follow RARE); sizes that need no synthetic images, OUT inside
# DATA and an empty class folder are refused with the whole message before a
# GAN trains; results.md's git line says the commit at the start and the one
# at the report when the repository moved during the run; small_data.sh
# refuses an OUT made from other data and does not reuse a fid.txt that fid
# left half-written; both scripts pass shellcheck where it is installed;
# --help prints their comment and other arguments are refused before a run.
# Run from the repo root after `make` (B=DIR for another build); KEEP=1 keeps
# the temporary folder. Prints "test_study_scripts.sh: N passed, M failed".
B=${B:-build}
case "$B" in /*) ;; *) B=$PWD/$B ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_study_scripts.XXXXXX")
. tests/checks.sh

kermany_phantoms "$B" "$T"
# $T/st OUT [DATA]: the tiny study (settings from the environment: SIZES, GAN_ITERS, RARE,
# REDO; PROGS: the programs' folder, SCRIPT: the study script)
cat >"$T/st" <<EOF
#!/bin/sh
DATA=\${2:-$T/k} OUT=\$1 SIZES=\${SIZES:-3} SPLITS=1 SEEDS=1 CLS_EPOCHS=1 GAN_ITERS=\${GAN_ITERS:-5} \\
    B=\${PROGS:-$B} exec bash "\${SCRIPT:-examples/study.sh}"
EOF
chmod +x "$T/st"
st() { "$T/st" "$@"; }
# scores OUT: what the study computed, paths left out (they name OUT)
scores() {
    for f in "$1"/split1/n3/*/seed1/eval/scores.csv "$1"/split1/n3/c2st/c2st.csv; do
        echo "${f#"$1"} $(sed "s#$1#OUT#g" "$f" | sha256sum | cut -c1-16)"
    done
    find "$1/split1/n3/generated" -type f -exec sha256sum {} + | sed "s#$1#OUT#" | sort
}

st "$T/s" >"$T/s.txt" 2>&1
check "study/runs" test $? -eq 0
scores "$T/s" >"$T/s.scores"
check "study/every arm scored" test "$(grep -c scores.csv "$T/s.scores")" -eq 5
# the steps' warnings reach the terminal, each distinct line once, and results.md (they stayed
# in the steps' logs: a referee's study on nearly black images ended "equivalent"); here the
# 32x32 phantoms are enlarged to 64 and the test set has few patients
check "study/a GAN step's warning on the terminal, with the step" \
    grep -q "^study: split1.n3.gan: train: warning: [0-9]* images under '$T/s/split1/n3/train/NORMAL' are smaller than 64x64 and were enlarged to it" "$T/s.txt"
check "study/... eval's few-patients warning once, though every arm's eval gave it" \
    test "$(grep -c 'classify eval: warning: the test images are of' "$T/s.txt")" -eq 1
check "study/... and results.md points to them and lists them" sh -c "
    grep -q '^\*\*The steps. logs hold warnings\*\*' '$T/s/results.md' &&
    grep -q '^- split1.n3.[a-z_]*.seed1.eval: classify eval: warning: the test images are of' '$T/s/results.md'"

# killed (SIGKILL, the script with it) during or right after a program, then run
# again: the same scores as the unbroken run. kb/PROG runs the real one; the
# one named by KILL_AT (classify: with its command) is killed once.
mkdir -p "$T/kb"
cat >"$T/killer.sh" <<EOF
#!/bin/sh
prog=\$(basename "\$0")
what=\$prog
[ "\$prog" = classify ] && what="\$prog \$1"
if [ "\$what" = "\$KILL_AT" ] && [ ! -e "\$KILL_FLAG" ]; then
    touch "\$KILL_FLAG"
    if [ "\$KILL_MODE" = after ]; then "$B/\$prog" "\$@"; kill -9 \$PPID; exit 137; fi
    "$B/\$prog" "\$@" & pid=\$!
    sleep "\$KILL_SECS"
    kill -9 \$pid \$PPID
    exit 137
fi
exec "$B/\$prog" "\$@"
EOF
chmod +x "$T/killer.sh"
for p in phantom train generate classify study_report; do ln -s "$T/killer.sh" "$T/kb/$p"; done
n=0
for case in "classify split:after:0" "train:during:0.2" "train:after:0" "generate:during:0.05" \
            "classify c2st:during:0.5" "classify train:during:0.5" "classify train:after:0" \
            "classify eval:after:0"; do
    n=$((n + 1))
    at=${case%%:*}; rest=${case#*:}; mode=${rest%%:*}; secs=${rest#*:}
    env KILL_AT="$at" KILL_MODE="$mode" KILL_SECS="$secs" KILL_FLAG="$T/kill$n.flag" PROGS="$T/kb" \
        "$T/st" "$T/kill$n" >"$T/kill$n.1.txt" 2>&1
    check "killed $mode $at: the study stopped" test $? -ne 0 -a -e "$T/kill$n.flag"
    env PROGS="$T/kb" "$T/st" "$T/kill$n" >"$T/kill$n.2.txt" 2>&1
    check "killed $mode $at: the rerun finishes" test $? -eq 0
    scores "$T/kill$n" >"$T/kill$n.scores"
    check "killed $mode $at: the scores of the unbroken run" cmp "$T/s.scores" "$T/kill$n.scores"
done

# a GAN stopped with a checkpoint written, then asked for with other settings: refused
env GAN_ITERS=300 KILL_AT=train KILL_MODE=during KILL_SECS=3 KILL_FLAG="$T/gan.flag" PROGS="$T/kb" \
    "$T/st" "$T/gan" >/dev/null 2>&1
check "stopped GAN: a checkpoint was written" test -e "$T/gan/split1/n3/gan/checkpoint.safetensors"
fails_with_line "stopped GAN, other GAN_ITERS: refused" \
    "study: step split1.n3.gan was made with other inputs or settings:" env GAN_ITERS=6 "$T/st" "$T/gan"
check "stopped GAN, other GAN_ITERS: the checkpoint kept" \
    test -e "$T/gan/split1/n3/gan/checkpoint.safetensors"

# REDO=1 after the data changed in the other class only: the split is redone (and its
# folder with everything under it removed); the rare subset is the same, so the later
# steps' keys match, but their outputs are gone: they run again (it stopped with
# "cd: .../split1/n3/train: No such file or directory" and stayed stuck)
cp -r "$T/k" "$T/k2"
st "$T/other" "$T/k2" >/dev/null 2>&1
cp "$T/k2/PNEUMONIA/person1_bacteria_2.png" "$T/k2/PNEUMONIA/person99_bacteria_999.png"
fails_with_line "other class changed: refused without REDO" \
    "study: step split1 was made with other inputs or settings:" st "$T/other" "$T/k2"
env REDO=1 "$T/st" "$T/other" "$T/k2" >"$T/other.txt" 2>&1
check "other class changed, REDO=1: finishes" test $? -eq 0
check "other class changed, REDO=1: the GAN runs again, its outputs gone" \
    grep -qF "redo split1.n3.gan: its outputs are gone" "$T/other.txt"
check "other class changed, REDO=1: every arm scored" \
    test "$(ls "$T"/other/split1/n3/*/seed1/eval/scores.csv | wc -l)" -eq 5
st "$T/other" "$T/k2" >"$T/other2.txt" 2>&1
check "other class changed, REDO=1, run again: nothing redone" \
    sh -c "! grep -qE '^== .*(redo|GAN|classifier)' '$T/other2.txt'"

# RARE naming the other class, REDO=1: the held-out real images are made for it (c2st
# was given the old class's folder: "--real '.../heldout/PNEUMONIA' is not a folder")
cp -r "$T/s" "$T/rare"
env RARE=PNEUMONIA REDO=1 "$T/st" "$T/rare" >"$T/rare.txt" 2>&1
check "RARE changed, REDO=1: finishes" test $? -eq 0
n_pn=$(find -L "$T/k/PNEUMONIA" -type f ! -name '.*' | wc -l)
n_no=$(find -L "$T/k/NORMAL" -type f ! -name '.*' | wc -l)
check "RARE the larger class in DATA: a warning (the default, the first of CLASSES, studied the common class silently)" \
    grep -qxF "study: warning: RARE=PNEUMONIA has more files in $T/k ($n_pn) than NORMAL ($n_no): the study asks what synthetic images of the smaller class add (RARE is the first class of CLASSES unless given: RARE=NORMAL?)" "$T/rare.txt"
check "RARE changed, REDO=1: the held-out images are PNEUMONIA's" \
    test -d "$T/rare/split1/heldout/PNEUMONIA" -a ! -e "$T/rare/split1/heldout/NORMAL"

# a size whose rare class is not the smaller one: refused before any GAN trains (it
# trained the GANs of every smaller size, then this one's, then generate refused --count -40)
fails_with_line "no synthetic images needed: refused" \
    "study: split 1, size all: the subset has 83 PNEUMONIA images and 43 NORMAL images; no synthetic PNEUMONIA images are needed to balance the classes (the study asks what they add where PNEUMONIA is the smaller class): give smaller SIZES, or RARE=NORMAL" \
    env RARE=PNEUMONIA SIZES=3,all "$T/st" "$T/big"
check "no synthetic images needed: no GAN trained" test -z "$(ls -d "$T"/big/split1/n*/gan 2>/dev/null)"

# OUT inside DATA: refused, nothing written (the data's hash took in the study's own
# files: the second run refused the split as made from other data)
cp -r "$T/k" "$T/kin"
fails_with_line "OUT inside DATA: refused" \
    "study: OUT=$T/kin/study is inside DATA=$T/kin; give an OUT outside the data folder" st "$T/kin/study" "$T/kin"
check "OUT inside DATA: nothing written" test ! -e "$T/kin/study"

# a class folder with no images: classify split says so; with images added, the study
# runs without REDO=1 (the split had never written anything)
mkdir -p "$T/empty/NORMAL"
cp -r "$T/k/PNEUMONIA" "$T/empty/"
fails_with_line "empty class folder: refused" "classify split: class NORMAL: no images in '$T/empty/NORMAL'" \
    st "$T/e" "$T/empty"
cp "$T"/k/NORMAL/* "$T/empty/NORMAL/"
st "$T/e" "$T/empty" >"$T/e.txt" 2>&1
check "empty class folder filled: the study runs without REDO=1" test $? -eq 0

# provenance: the commit at the start, and the one at the report when a commit came
# in between (results.md named only the later one, as if the programs came from it)
mkdir -p "$T/repo/examples" "$T/gb"
cp examples/study.sh examples/phantom_data.sh "$T/repo/examples/"
git -C "$T/repo" init -q
git -C "$T/repo" -c user.name=t -c user.email=t@t add examples/study.sh examples/phantom_data.sh
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm first
first=$(git -C "$T/repo" rev-parse --short HEAD)
for p in phantom train classify study_report; do ln -s "$B/$p" "$T/gb/$p"; done
printf '#!/bin/sh\ngit -C "%s" -c user.name=t -c user.email=t@t commit -q --allow-empty -m during\nexec "%s" "$@"\n' \
    "$T/repo" "$B/generate" >"$T/gb/generate"
chmod +x "$T/gb/generate"
env SCRIPT="$T/repo/examples/study.sh" PROGS="$T/gb" "$T/st" "$T/git" >/dev/null 2>&1
second=$(git -C "$T/repo" rev-parse --short HEAD)
check "provenance: the start's commit and the report's" grep -qF \
    "git $first (repository HEAD when this invocation started; $second when the report was made)" \
    "$T/git/results.md"

if command -v shellcheck >/dev/null 2>&1; then
    check "shellcheck: study.sh, small_data.sh and phantom_data.sh" shellcheck -x examples/study.sh examples/small_data.sh \
        examples/phantom_data.sh
else
    echo "test_study_scripts.sh: skipped: shellcheck (not installed)"
fi

# small_data.sh: a fid that fails after printing its first line leaves no fid.txt that a
# rerun would take as done (the summary then died on the missing precision line)
sd() { DATA=$1 OUT=$2 ITERS=5 SEEDS=1 ALONE_SEEDS=0 N_SMALL=${SD_N:-10} GEN=30 B=$SD_B bash examples/small_data.sh; }
mkdir -p "$T/fb"
for p in train generate classify; do ln -s "$B/$p" "$T/fb/$p"; done
printf '#!/bin/sh\necho "FID:  1"\nexit 1\n' >"$T/fb/fid"
chmod +x "$T/fb/fid"
SD_B=$T/fb
sd "$T/k" "$T/sd" >/dev/null 2>&1
check "small_data: a failing fid stops it" test $? -ne 0
SD_B=$B
sd "$T/k" "$T/sd" >"$T/sd.txt" 2>&1
check "small_data: the rerun finishes" test $? -eq 0
check "small_data: the reference's precision and recall" grep -qE "^Reference, .*precision [0-9.]+, recall" \
    "$T/sd/results.md"
# samples.png: six cells the size of the largest grid, 4 x 4 of 64 px (the small set's 10 images
# made its grids 3 rows high, and the 4-row generated grids ran into the titles and off the bottom)
check "small_data: samples.png holds six whole 4 x 4 grids (850 x 608)" test \
    "$(/usr/bin/python3 -c "from PIL import Image; print('%d x %d' % Image.open('$T/sd/samples.png').size)")" = "850 x 608"
# the programs' warnings (here: 32x32 phantoms enlarged to 64) reach results.md, also those of
# the first, failed invocation's steps, which the rerun did not repeat (they stayed in the logs)
check "small_data: the programs' warnings listed in results.md" sh -c "
    grep -qxF '**Warnings in the programs'\'' logs** (each once):' '$T/sd/results.md' &&
    grep -q \"^- classify train: warning: [0-9]* images under '$T/sd/split/train/NORMAL' are smaller than 64x64\" '$T/sd/results.md'"
# other data in the same OUT: refused, nothing changed (it reused the split of the old data
# and wrote the new DATA into results.md)
cp -r "$T/k" "$T/k3"
rm "$T/k3/NORMAL/IM-1001-0000.png"
cp "$T/sd/results.md" "$T/sd_results.md"
fails_with "small_data: other data: refused" "^small_data: $T/sd was made from other data (data [0-9a-f]*; DATA=$T/k3 is data [0-9a-f]*); use another OUT, or delete $T/sd to start over\$" \
    sd "$T/k3" "$T/sd"
check "small_data: other data: results.md unchanged" cmp "$T/sd/results.md" "$T/sd_results.md"
fails_with_line "small_data: OUT inside DATA: refused" \
    "small_data: OUT=$T/k3/sd is inside DATA=$T/k3; give an OUT outside the data folder" sd "$T/k3" "$T/k3/sd"
# a damaged image in the rare class: every program skips it with a warning, and the summary,
# the last step, died on it with a traceback (Pillow: "image file is truncated"; a referee)
cp -r "$T/k" "$T/kbad"
head -c 300 "$(find -L "$T/k/NORMAL" -name '*.png' | sort | head -n 1)" >"$T/kbad/NORMAL/IM-0999-0001.png"
sd "$T/kbad" "$T/sdbad" >"$T/sdbad.txt" 2>&1
check "small_data: a damaged rare-class image: it finishes" test $? -eq 0
check "small_data: ... the summary says it skips that file" grep -qE \
    "^small_data_summary: skipping '$T/sdbad/sets/(heldout|all/NORMAL|small/NORMAL)/IM-0999-0001.png': " "$T/sdbad.txt"
check "small_data: ... and writes results.md" test -s "$T/sdbad/results.md"
fails_with_line "small_data: a Python without numpy or Pillow: refused before anything is made" \
    "small_data: PYTHON=/bin/false cannot import numpy and PIL (Pillow), which the summary needs; on Debian: apt-get install python3-numpy python3-pil" \
    env PYTHON=/bin/false DATA="$T/k" OUT="$T/sd_nopy" B="$B" bash examples/small_data.sh
check "small_data: ... nothing made" test ! -e "$T/sd_nopy"
# no DATA and no ../shared/data/kermany224 (run from a folder without it): built-in phantoms,
# said so in results.md; CLASSES other than the phantoms' refused before anything is made
mkdir -p "$T/nodata/here"
here=$PWD
B_ABS=$(cd "$B" && pwd)
(cd "$T/nodata/here" && DATA='' OUT="$T/sdp" ITERS=5 SEEDS=1 ALONE_SEEDS=0 N_SMALL=10 GEN=30 B="$B_ABS" \
    bash "$here/examples/small_data.sh") >"$T/sdp.txt" 2>&1
check "small_data: no DATA, no kermany224: it finishes on phantoms" test $? -eq 0
check "small_data: ... made them in OUT/phantom, one patient each" sh -c "
    test -f '$T/sdp/phantom/.done' && test \"\$(wc -l <'$T/sdp/phantom/patients.csv')\" -eq 941"
check "small_data: ... results.md says so under its title" test "$(sed -n 3p "$T/sdp/results.md")" = \
    "**Built-in phantom X-rays** (no DATA= and no ../shared/data/kermany224): a demonstration of the pipeline, not a result."
check "small_data: ... one seed: no interval, said so" grep -qxF -e \
    "- small: 1 seed with both recipes; an interval needs SEEDS=2 or more" "$T/sdp/results.md"
check "small_data: ... and names the phantoms as the data" grep -q "^Data: \`$T/sdp/phantom/train\` (content hash" \
    "$T/sdp/results.md"
fails_with_line "small_data: no DATA, CLASSES not the phantoms': refused" \
    "small_data: CLASSES=A,B needs DATA=DIR (the built-in phantoms are NORMAL and PNEUMONIA)" \
    sh -c "cd '$T/nodata/here' && DATA= CLASSES=A,B OUT='$T/sdp2' B='$B_ABS' bash '$here/examples/small_data.sh'"
check "small_data: ... nothing made" test ! -e "$T/sdp2"
# study.sh the same way (examples/phantom_data.sh serves both): phantoms, one patient each,
# given to every step as the patients CSV, and said under results.md's title
(cd "$T/nodata/here" && DATA='' OUT="$T/stp" SIZES=3 SPLITS=1 SEEDS=1 CLS_EPOCHS=1 GAN_ITERS=5 B="$B_ABS" \
    bash "$here/examples/study.sh") >"$T/stp.txt" 2>&1
check "study: no DATA, no kermany224: it finishes on phantoms" test $? -eq 0
check "study: ... made them in OUT/phantom, one patient each" sh -c "
    test -f '$T/stp/phantom/.done' && test \"\$(wc -l <'$T/stp/phantom/patients.csv')\" -eq 941"
check "study: ... the split read that patients CSV" grep -qxF \
    "patients: $(sha256sum "$T/stp/phantom/patients.csv" | cut -c1-16)" "$T/stp/steps/split1.key"
check "study: ... results.md says so under its title" test "$(sed -n 3p "$T/stp/results.md")" = \
    "**Built-in phantom X-rays** (no DATA= and no ../shared/data/kermany224): a demonstration of the pipeline, not a result."
made="Made by examples/study.sh from $T/stp/phantom/train (content hash $(sed -n 's/^data .*: //p' "$T/stp/steps/split1.key")), git "
check "study: ... and names the phantoms as the data" test "$(grep '^Made by' "$T/stp/results.md" | cut -c1-${#made})" = "$made"
fails_with_line "study: no DATA, CLASSES not the phantoms': refused" \
    "study: CLASSES=A,B needs DATA=DIR (the built-in phantoms are NORMAL and PNEUMONIA)" \
    sh -c "cd '$T/nodata/here' && DATA= CLASSES=A,B OUT='$T/stp2' B='$B_ABS' bash '$here/examples/study.sh'"
check "study: ... nothing made" test ! -e "$T/stp2"
# phantom.c failing (here a stand-in that says why and exits 3): its message, then the script's
mkdir -p "$T/nophantom"
printf '#!/bin/sh\necho "phantom: cannot write here" >&2\nexit 3\n' >"$T/nophantom/phantom"
chmod +x "$T/nophantom/phantom"
for s in study small_data; do
    (cd "$T/nodata/here" && DATA='' OUT="$T/np_$s" B="$T/nophantom" bash "$here/examples/$s.sh") >"$T/np_$s.txt" 2>&1
    check "$s: phantom failing: status 1" test $? -eq 1
    check "$s: ... its message, then the script's" test "$(grep -v '^== ' "$T/np_$s.txt")" = "phantom: cannot write here
$s: the phantoms could not be made (above)"
    check "$s: ... and no phantoms marked made" test ! -e "$T/np_$s/phantom/.done"
done

# small_data.sh's small set on Kermany names as classify split reads them: IM-1005-0001.png,
# IM-1005-0001-0002.png and NORMAL2-IM-1005-0001.png are one patient (the names lost their
# last number: three patients, whose images a glob mixed, and N_SMALL past half the images
# stopped on a link made twice). The run stops at the domain classifier (B/classify fails for
# anything but split): the sets are made by then.
mkdir -p "$T/k4" "$T/sb"
cp -r "$T/k/." "$T/k4/"
for f in "$T"/k4/NORMAL/IM-*-0001.png; do
    b=$(basename "$f" .png); cp "$f" "$T/k4/NORMAL/$b-0002.png"; cp "$f" "$T/k4/NORMAL/NORMAL2-$b.png"
done
printf '#!/bin/sh\n[ "$1" = split ] && exec "%s/classify" "$@"\nexit 1\n' "$B" >"$T/sb/classify"
chmod +x "$T/sb/classify"
SD_B=$T/sb
for n in 8 1000; do
    SD_N=$n
    sd "$T/k4" "$T/sd_k4_$n" >"$T/sd_k4_$n.txt" 2>&1
    check "small_data: Kermany names, N_SMALL=$n: the sets are made" grep -q '^sets: all ' "$T/sd_k4_$n.txt"
    # the patients of the small set, and every train image of theirs
    ls "$T/sd_k4_$n/sets/small/NORMAL" | sed -E 's/^(NORMAL2-)?(IM-[0-9]+)-.*$/\2/' | sort -u >"$T/k4_pat.txt"
    ls "$T/sd_k4_$n/split/train/NORMAL" | grep -E "^(NORMAL2-)?($(paste -sd'|' "$T/k4_pat.txt"))-" >"$T/k4_want.txt"
    check "small_data: Kermany names, N_SMALL=$n: whole patients ($(wc -l <"$T/k4_pat.txt") of them)" \
        test "$(ls "$T/sd_k4_$n/sets/small/NORMAL")" = "$(cat "$T/k4_want.txt")" -a -s "$T/k4_pat.txt"
done
check "small_data: Kermany names, N_SMALL=1000: every train NORMAL image" \
    test "$(ls "$T/sd_k4_1000/sets/small/NORMAL")" = "$(ls "$T/sd_k4_1000/split/train/NORMAL")"
# names that are not UTF-8 and patient ids with a blank in front (kept in quotes), from a
# CSV: the small set is whole patients (the sed rules matched no such name and the whole train
# folder was linked in; the blank was lost in one read and kept in the other, no file matched,
# and the empty set was recorded as done); a name with a tab is refused
mkdir -p "$T/odd/ok" "$T/odd/ill"
echo "file,patient" >"$T/odd/patients.csv"
i=0
for f in "$T"/k/NORMAL/*.png "$T"/k/PNEUMONIA/*.png; do
    i=$((i + 1)); c=ill; [ $i -gt 60 ] && c=ok
    name=$(printf 'scan\351%d.png' $i)
    cp "$f" "$T/odd/$c/$name"; printf '"%s"," %s%d"\n' "$name" $c $((i / 4)) >>"$T/odd/patients.csv"
done
SD_N=10
CLASSES=ok,ill RARE=ill PATIENTS=$T/odd/patients.csv sd "$T/odd" "$T/sd_odd" >"$T/sd_odd.txt" 2>&1
check "small_data: names not UTF-8, ids with a blank: the sets are made" grep -q '^sets: all ' "$T/sd_odd.txt"
check "small_data: ... every train file has its id, blank kept" \
    test "$(LC_ALL=C grep -c "^ ill[0-9]*$(printf '\t')scan" "$T/sd_odd/sets/file_patients.txt")" -eq \
    "$(ls "$T/sd_odd/split/train/ill" | wc -l)"
# whole patients: every file of a patient with a file in the small set is in it
LC_ALL=C ls "$T/sd_odd/sets/small/ill" >"$T/odd_small.txt"
check "small_data: ... the small set is whole patients, 10 images or more" \
    env LC_ALL=C awk -F '\t' 'NR == FNR { small[$0] = 1; n++; next } { of[$1] = of[$1] " " $2; if ($2 in small) p[$1] = 1 }
        END { for (k in p) { c = split(of[k], a, " "); for (i = 1; i <= c; i++) if (!(a[i] in small)) exit 1; m += c }
              exit !(m == n && n >= 10) }' "$T/odd_small.txt" "$T/sd_odd/sets/file_patients.txt"
cp -r "$T/k" "$T/tab"
mv "$T/tab/NORMAL/IM-1003-0000.png" "$T/tab/NORMAL/IM-1003-0000$(printf '\t')x.png"
fails_with_line "small_data: a file name with a tab is refused" \
    "small_data: a file name under $T/sd_tab/split/train/NORMAL holds a tab or a line break; rename it" \
    sd "$T/tab" "$T/sd_tab"
# a patient id with a tab (classify takes it, quoted) split the file lines at the wrong place:
# dangling links counted as the small set, recorded as done
sed "s/,\" ill1\"\$/,\"ill$(printf '\t')1\"/" "$T/odd/patients.csv" >"$T/odd/tab.csv"
fails_with_line "small_data: a patient id with a tab is refused" \
    "small_data: patient 'ill\\t1' in $T/odd/tab.csv holds a tab or a line break; change it" \
    env CLASSES=ok,ill RARE=ill PATIENTS="$T/odd/tab.csv" DATA="$T/odd" OUT="$T/sd_tabid" ITERS=5 SEEDS=1 \
    ALONE_SEEDS=0 N_SMALL=10 GEN=30 B="$SD_B" bash examples/small_data.sh
check "small_data: ... and the small set is not recorded as done" test ! -e "$T/sd_tabid/sets/.done"
fails_with_line "small_data: N_SMALL=0 is refused before anything is made" \
    "small_data: N_SMALL=0 is not a whole number from 1 to 999999999 (without leading zeros)" \
    env DATA="$T/k" OUT="$T/sd_zero" N_SMALL=0 B="$SD_B" bash examples/small_data.sh
check "small_data: ... nothing made" test ! -e "$T/sd_zero"
SD_B=$B
SD_N=

# small_data.sh on any dataset: other class names, the GAN's class the second of them (POS),
# patients from a CSV (quoted names with spaces, four images each): the small set is whole
# patients, the report names the classes; then another RARE in that OUT is refused
mkdir -p "$T/any/ok" "$T/any/ill"
echo "file,patient" >"$T/any/patients.csv"
i=0
for f in "$T"/k/NORMAL/*.png; do
    i=$((i + 1)); cp "$f" "$T/any/ill/scan $i.png"; echo "\"scan $i.png\",i$((i / 4))" >>"$T/any/patients.csv"
done
for f in "$T"/k/PNEUMONIA/*.png; do
    i=$((i + 1)); cp "$f" "$T/any/ok/scan $i.png"; echo "\"scan $i.png\",o$((i / 4))" >>"$T/any/patients.csv"
done
sda() { CLASSES=ok,ill RARE=$1 PATIENTS=$T/any/patients.csv sd "$T/any" "$T/sd_any"; }
sda ill >"$T/sd_any.txt" 2>&1
check "small_data: any dataset: runs" test $? -eq 0
# (the patients' images in the CSV, each patient's in train or not at all: the split is by patient)
ls "$T/sd_any/sets/small/ill" | sed 's/^/"/; s/$/",/' >"$T/sd_any_small.txt"
grep -F -f "$T/sd_any_small.txt" "$T/any/patients.csv" | cut -d, -f2 | sort -u | sed 's/^/,/; s/$/$/' >"$T/sd_any_pat.txt"
check "small_data: any dataset: the small set is whole patients of the CSV, 10 images or more" \
    test "$(grep -c -f "$T/sd_any_pat.txt" "$T/any/patients.csv") $(wc -l <"$T/sd_any_small.txt")" = \
    "$(wc -l <"$T/sd_any_small.txt") $(wc -l <"$T/sd_any_small.txt")" -a "$(wc -l <"$T/sd_any_small.txt")" -ge 10
n_real=$(sed -n 's/^fold 1: .* by patient: \([0-9]*\) real images of \([0-9]*\),.*/\1 \2/p' "$T/sd_any/reference/c2st.txt")
check "small_data: any dataset: the two-sample test's real images by the CSV's patients ($n_real)" \
    test -n "$n_real" -a "${n_real% *}" -gt "${n_real#* }"
# the reference's --fake images are real ones (the train set): grouped by the CSV too
n_ref=$(sed -n 's/^fold 1: .*, \([0-9]*\) generated of \([0-9]*\))$/\1 \2/p' "$T/sd_any/reference/c2st.txt")
check "small_data: any dataset: the reference's real-as-generated images by the CSV's patients ($n_ref)" \
    test -n "$n_ref" -a "${n_ref% *}" -gt "${n_ref#* }"
check "small_data: any dataset: the report names the GAN's class" \
    grep -qF "Two-sample AUC: a CNN tells generated from held-out real ill images (0.5 = it cannot)," "$T/sd_any/results.md"
check "small_data: any dataset: ... and the domain classifier's classes" \
    grep -qF "ok-vs-ill classifier trained on the train patients." "$T/sd_any/results.md"
check "small_data: any dataset: the small set's GAN learned its ill images" \
    grep -qxF "data: $(wc -l <"$T/sd_any_small.txt") images from $T/sd_any/sets/small/ill (0 skipped)" \
    "$T/sd_any/runs/small/plain/seed1/train.log"
fails_with "small_data: any dataset: another RARE in the same OUT is refused" \
    "^small_data: $T/sd_any was made from other data (data [0-9a-f]* classes ok,ill rare ill patients [0-9a-f]*; DATA=$T/any is data [0-9a-f]* classes ok,ill rare ok patients [0-9a-f]*); use another OUT, or delete $T/sd_any to start over\$" \
    sda ok
fails_with_line "small_data: RARE must be a class" "small_data: RARE=sick is neither class of CLASSES=ok,ill" sda sick

# arguments: --help printed the start of a run ("== 1. split ...") and made ./small_data, and
# study.sh took --help for DATA ("study: --help has no NORMAL/ folder"); now --help prints the
# script's own comment, anything else is refused before a run starts (run in an empty folder:
# nothing may appear there)
mkdir "$T/cwd"
R=$PWD
for s in study small_data; do
    (cd "$T/cwd" && bash "$R/examples/$s.sh" --help) >"$T/$s.help" 2>&1
    check "$s.sh --help: status 0" test $? -eq 0
    check "$s.sh --help: the script's comment, from its first line to its last" \
        test "$(sed -n '1p;$p' "$T/$s.help")" = "$(sed -n '2,/^[^#]/s/^# \{0,1\}//p' "examples/$s.sh" | sed -n '1p;$p')"
    check "$s.sh --help: starts with its name" grep -q "^$s.sh - " "$T/$s.help"
done
fails_with_line "small_data.sh: an argument is refused" \
    "small_data: takes no arguments ('x'); settings come from the environment: DATA=DIR OUT=DIR ... (--help)" \
    sh -c "cd '$T/cwd' && exec bash '$R/examples/small_data.sh' x"
fails_with_line "study.sh: an unknown option is refused" \
    "study: unknown option '--sizes'; settings come from the environment (--help)" \
    sh -c "cd '$T/cwd' && exec bash '$R/examples/study.sh' --sizes"
fails_with_line "study.sh: two arguments are refused" \
    "study: one argument at most, DATA; settings come from the environment (--help)" \
    sh -c "cd '$T/cwd' && exec bash '$R/examples/study.sh' a b"
check "study.sh, small_data.sh: --help and refused arguments wrote nothing" test -z "$(ls -A "$T/cwd")"

[ -n "$KEEP" ] || rm -rf "$T"
echo "test_study_scripts.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
