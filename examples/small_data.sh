#!/usr/bin/env bash
# small_data.sh - does DiffAugment, ADA's adaptive strength or an averaged G
# make a DCGAN trained on few real X-rays better? Measured with nothing
# downloaded: a classifier two-sample test against real images of other
# patients, and KID / precision / recall / nearest neighbours in the feature
# space of a classifier trained on radiographs.
#
# Run: make small-data                         (../shared/data/kermany224)
#      make small-data DATA=DIR OUT=DIR        any folder of two class sub-folders
#                          (CLASSES=NEG,POS, RARE=the class the GAN makes,
#                          PATIENTS=file,patient CSV, as examples/study.sh)
#      bash examples/small_data.sh             (the script itself; --help: this text)
# Without DATA and without ../shared/data/kermany224: built-in phantom X-rays
# (OUT/phantom; a demonstration of the pipeline, not a result; ITERS 600).
# Settings (environment): ITERS (2000 GAN iterations, the same for every run; 600 on phantoms),
# SEEDS (3), ALONE_SEEDS (2: runs of each technique alone at the small size),
# N_SMALL (50 images), GEN (300 generated images per run; whole numbers, up to
# 1000 seeds and 10^8 images), CLASSES
# (NORMAL,PNEUMONIA), RARE (the first class), PATIENTS (none: Kermany's file
# names give the patients), B (build), PYTHON (/usr/bin/python3, with numpy and
# Pillow: the summary's; checked before anything runs).
#
# Steps (each skipped when its result is there and was made with the same
# settings - a run's settings are kept in its flags.txt and a different one
# redoes the run; so a stopped experiment continues where it was). OUT/split/.done
# holds the content hash of DATA (and CLASSES, RARE and PATIENTS' hash where they
# are not the defaults): an OUT made from other data or classes is refused.
#   1. classify split: patients into train / val / test (70 / 15 / 15 %)
#   2. the GAN training sets: all train RARE images, and the RARE images of
#      randomly drawn train patients until there are N_SMALL (sets/small);
#      held-out real images: the val + test RARE images (other patients)
#   3. a NEG-vs-POS classifier on train (validation: val): its penultimate
#      layer is the feature space (classify features)
#   4. per GAN run (set x recipe x seed): train, generate GEN images, then
#      classify c2st (generated vs held-out real, at 64x64 and at 32x32),
#      features, and fid --kid --prdc on the features
#   5. the same measurements for real train images vs held-out real images
#      (what "indistinguishable" looks like), and the summary OUT/results.md
set -euo pipefail
# --help: the comment above; every setting comes from the environment
case "${1:-}" in
    -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
if [ $# -gt 0 ]; then echo "small_data: takes no arguments ('$1'); settings come from the environment: DATA=DIR OUT=DIR ... (--help)" >&2; exit 2; fi
here=$(dirname "$(readlink -f "$0")")   # this script's folder (links followed)
# phantom_classes and phantom_data: the built-in phantoms when there is no data
# shellcheck source=examples/phantom_data.sh
. "$here/phantom_data.sh"
B=${B:-build}
# libgomp's threads spin between parallel loops (tens of milliseconds on some CPUs) before
# they sleep: on a machine busy with other work that made a classifier step 20x slower
# (bench/RESULTS.md, session 25). A short spin costs nothing measurable on an idle one.
if [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then export GOMP_SPINCOUNT=10000; fi
DATA=${DATA:-}
if [ -z "$DATA" ] && [ -d ../shared/data/kermany224 ]; then DATA=../shared/data/kermany224; fi
OUT=${OUT:-small_data}
if [ -n "$DATA" ]; then ITERS=${ITERS:-2000}; else ITERS=${ITERS:-600}; fi
SEEDS=${SEEDS:-3}
ALONE_SEEDS=${ALONE_SEEDS:-2}
N_SMALL=${N_SMALL:-50}
GEN=${GEN:-300}
CLASSES=${CLASSES:-NORMAL,PNEUMONIA}
RARE=${RARE:-${CLASSES%%,*}}
PATIENTS=${PATIENTS:-}
PYTHON=${PYTHON:-/usr/bin/python3}
NEG=${CLASSES%%,*}
POS=${CLASSES#*,}
# NAME:least:most (GEN: generate's --count at most; no leading zeros: $(( )) reads 010 as octal 8)
for setting in ITERS:1:999999999 SEEDS:1:1000 ALONE_SEEDS:0:1000 N_SMALL:1:999999999 GEN:1:100000000; do
    name=${setting%%:*}
    range=${setting#*:}
    least=${range%:*}
    most=${range#*:}
    value=${!name}
    if [[ ! "$value" =~ ^(0|[1-9][0-9]{0,8})$ ]] || [ "$value" -lt "$least" ] || [ "$value" -gt "$most" ]; then
        echo "small_data: $name=$value is not a whole number from $least to $most (without leading zeros)" >&2
        exit 2
    fi
done
BASE="--arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch"
POLICY="--diffaugment color,translation,cutout"
recipe_flags() {
    case "$1" in
        plain) echo "" ;;
        full) echo "$POLICY --ada-target 0.6 --ema-kimg 1" ;;
        diffaugment) echo "$POLICY" ;;
        ada) echo "$POLICY --ada-target 0.6" ;;
        ema) echo "--ema-kimg 1" ;;
    esac
}
if [ "$RARE" != "$NEG" ] && [ "$RARE" != "$POS" ]; then
    echo "small_data: RARE=$RARE is neither class of CLASSES=$CLASSES" >&2
    exit 2
fi
# the summary, the last step, needs numpy and Pillow: found out now, not after the runs
if ! "$PYTHON" -c 'import numpy, PIL.Image' >/dev/null 2>&1; then
    echo "small_data: PYTHON=$PYTHON cannot import numpy and PIL (Pillow), which the summary needs; on Debian: apt-get install python3-numpy python3-pil" >&2
    exit 1
fi
if [ -z "$DATA" ]; then   # built-in phantoms: NORMAL and PNEUMONIA, one patient each
    phantom_data small_data
    PHANTOMS=1
fi
classes=(--classes "$CLASSES")
if [ -n "$PATIENTS" ]; then
    [ -f "$PATIENTS" ] || { echo "small_data: PATIENTS=$PATIENTS is not a file" >&2; exit 2; }
    classes+=(--patients "$PATIENTS")
fi
if [ ! -d "$DATA/$NEG" ] || [ ! -d "$DATA/$POS" ]; then
    echo "small_data: $DATA has no $NEG/ and $POS/ folders (CLASSES=$CLASSES; DATA=DIR)" >&2
    exit 1
fi
# OUT inside DATA: DATA's content hash would take in the experiment's own files
case "$(readlink -m "$OUT")/" in "$(readlink -f "$DATA")"/*)
    echo "small_data: OUT=$OUT is inside DATA=$DATA; give an OUT outside the data folder" >&2
    exit 2
    ;;
esac
# the content hash of DATA: every file under it by name and SHA-256, sorted; 16 hex digits
data_hash=$( (cd "$DATA" && find -L . -type f ! -name '.*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
    sha256sum | cut -c1-16)
# what OUT/split/.done records: the data, and the classes and patients where they are not
# Kermany's defaults (so that an OUT of the defaults made before they were settings stays valid)
data_key="data $data_hash"
if [ "$CLASSES" != NORMAL,PNEUMONIA ] || [ "$RARE" != NORMAL ] || [ -n "$PATIENTS" ]; then
    patients_hash=none
    [ -n "$PATIENTS" ] && patients_hash=$(sha256sum <"$PATIENTS" | cut -c1-16)
    data_key="$data_key classes $CLASSES rare $RARE patients $patients_hash"
fi
if [ -s "$OUT/split/.done" ] && [ "$(cat "$OUT/split/.done")" != "$data_key" ]; then
    echo "small_data: $OUT was made from other data ($(cat "$OUT/split/.done"); DATA=$DATA is" \
        "$data_key); use another OUT, or delete $OUT to start over" >&2
    exit 1
fi
start=$(date +%s)
mkdir -p "$OUT"
log() { echo "== $(date -u +%H:%M:%S) $*"; }
# surface LOG: the warnings in a program's log (images skipped, nearly black or enlarged) go to
# the terminal, each distinct line once per run, and into OUT/warnings.txt, which results.md
# lists: the logs alone hid them (examples/study.sh, a referee's walk-through)
declare -A WARNED
surface() {
    local line
    while IFS= read -r line; do
        [ -n "${WARNED[$line]:-}" ] && continue
        WARNED[$line]=1
        echo "small_data: $line" >&2
        grep -qxF -- "$line" "$OUT/warnings.txt" 2>/dev/null || echo "$line" >>"$OUT/warnings.txt"
    done < <(grep -h -e ': warning: ' -e ': skipping an image: ' "$1" 2>/dev/null | LC_ALL=C sort -u)
}

# 1. split by patient
if [ ! -f "$OUT/split/.done" ]; then
    log "1. split $DATA by patient"
    rm -rf "$OUT/split" "$OUT/warnings.txt"   # (new data: the old runs' warnings go with them)
    "$B/classify" split --data "$DATA" --out "$OUT/split" --val 0.15 --test 0.15 --seed 1 "${classes[@]}" \
        2>"$OUT/split.log" || { cat "$OUT/split.log" >&2; exit 1; }
    surface "$OUT/split.log"
    echo "$data_key" >"$OUT/split/.done"
elif [ ! -s "$OUT/split/.done" ]; then
    # made before the data's hash was recorded: assumed to be DATA, and recorded from now on
    echo "small_data: note: $OUT/split does not record its data; taking it to be DATA=$DATA"
    echo "$data_key" >"$OUT/split/.done"
fi

# 2. the sets (symbolic links to the split's links)
link_all() { for f in "$1"/*; do ln -s "$(readlink -f "$f")" "$2/"; done; }
if [ ! -f "$OUT/sets/.done" ] || [ "$(cat "$OUT/sets/.done")" != "$N_SMALL" ]; then
    log "2. GAN training sets (all, $N_SMALL images) and held-out real images"
    # what was made from an earlier small set goes with it
    rm -rf "$OUT/sets" "$OUT/small.npy" "$OUT/small.npy.source" "$OUT/runs/small"
    mkdir -p "$OUT/sets/all/$RARE" "$OUT/sets/small/$RARE" "$OUT/sets/heldout"
    link_all "$OUT/split/train/$RARE" "$OUT/sets/all/$RARE"
    link_all "$OUT/split/val/$RARE" "$OUT/sets/heldout"
    link_all "$OUT/split/test/$RARE" "$OUT/sets/heldout"
    # each train RARE image's patient ("patient<TAB>file"): from PATIENTS (by file name), or
    # from Kermany's names as classify split reads them (IM-0115-0001.jpeg and
    # IM-0115-0001-0002.jpeg -> IM-0115; NORMAL2-IM-1234-0001.jpeg -> IM-1234); the patients in a
    # seeded random order; whole patients are taken until there are N_SMALL images (until
    # session 30 the names lost only their last number, "IM-0115-0001" and "IM-0115" were two
    # patients whose images a glob mixed, and N_SMALL=400 stopped on a link made twice)
    # (names and ids as bytes, in the C locale: a name that is not UTF-8 matched no sed rule)
    if [ -n "$(find "$OUT/split/train/$RARE" -mindepth 1 -maxdepth 1 \( -name $'*\t*' -o -name $'*\n*' -o \
        -name $'*\r*' \))" ]; then
        echo "small_data: a file name under $OUT/split/train/$RARE holds a tab or a line break; rename it" >&2
        exit 1
    fi
    find "$OUT/split/train/$RARE" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort >"$OUT/sets/files.txt"
    if [ -n "$PATIENTS" ]; then
        # (a CSV as classify reads it: the header line skipped, fields in double quotes or not)
        "$PYTHON" -c '
import csv, os, sys
raw = dict(encoding="utf-8", errors="surrogateescape")
who = {}
with open(sys.argv[1], newline="", **raw) as f:
    for row in list(csv.reader(f))[1:]:
        if len(row) < 2: continue
        if any(c in row[1] for c in "\t\r\n"):
            sys.exit("small_data: patient %r in %s holds a tab or a line break; change it" % (row[1], sys.argv[1]))
        who[os.path.basename(row[0])] = row[1]
out = open(sys.stdout.fileno(), "w", closefd=False, **raw)
for name in open(sys.argv[2], newline="", **raw).read().split("\n")[:-1]:
    out.write("%s\t%s\n" % (who[name], name))   # (split refused a file the CSV does not list)
out.flush()
' "$PATIENTS" "$OUT/sets/files.txt" >"$OUT/sets/file_patients.txt"
    else
        # (classify's rule, clf_patient_id: personN_virus_K.jpeg -> personN; a name of neither
        # form is its own patient, its extension dropped)
        LC_ALL=C sed -E 's/^(person[0-9]+).*$/\1\t&/; t; s/^(NORMAL2-)?(IM-[0-9]+).*$/\2\t&/; t
                s/^(.+)\.[^.]*$/\1\t&/; t; s/^.*$/&\t&/' "$OUT/sets/files.txt" >"$OUT/sets/file_patients.txt"
    fi
    cut -f1 "$OUT/sets/file_patients.txt" | LC_ALL=C sort -u | shuf --random-source=<(yes 28) >"$OUT/sets/patients.txt"
    n=0
    # (IFS= keeps an id's blanks: classify keeps them, and the file lines below hold them)
    while IFS= read -r patient && [ "$n" -lt "$N_SMALL" ]; do
        while IFS=$'\t' read -r p f; do
            [ "$p" = "$patient" ] || continue
            ln -s "$(readlink -f "$OUT/split/train/$RARE/$f")" "$OUT/sets/small/$RARE/"
            n=$((n + 1))
        done <"$OUT/sets/file_patients.txt"
    done <"$OUT/sets/patients.txt"
    if [ "$n" -eq 0 ]; then   # (not recorded as done: a rerun tries again)
        echo "small_data: the small set is empty: no train $RARE image matched its patient" >&2
        exit 1
    fi
    echo "$N_SMALL" >"$OUT/sets/.done"
fi
count() { find -L "$1" -type f | wc -l; }
echo "sets: all $(count "$OUT/sets/all/$RARE"), small $(count "$OUT/sets/small/$RARE") train $RARE" \
     "images; held out $(count "$OUT/sets/heldout") $RARE images of other patients"

# 3. the feature space: a NEG-vs-POS classifier on the train patients
if [ ! -f "$OUT/domain/checkpoint.safetensors" ]; then
    log "3. the domain classifier (features for KID, precision/recall, nearest neighbours)"
    resume=""
    [ -f "$OUT/domain/resume.safetensors" ] && resume=--resume   # (stopped earlier: continue it)
    "$B/classify" train --data "$OUT/split/train" --val "$OUT/split/val" --out "$OUT/domain" \
        --epochs 10 --seed 1 "${classes[@]}" $resume >>"$OUT/domain.log" 2>&1 || { tail -5 "$OUT/domain.log" >&2; exit 1; }
    tail -1 "$OUT/domain.log"
    surface "$OUT/domain.log"
fi
features() {   # features DIR OUT.npy: once
    [ -f "$2" ] || "$B/classify" features --checkpoint "$OUT/domain/checkpoint.safetensors" "$1" "$2" \
        >/dev/null
}
features "$OUT/sets/heldout" "$OUT/heldout.npy"
features "$OUT/sets/all/$RARE" "$OUT/all.npy"
features "$OUT/sets/small/$RARE" "$OUT/small.npy"

# fid on feature files: FID, KID with 95% bootstrap intervals, precision/recall
FID=("$B/fid" --kid --kid-subsets 100 --kid-subset-size 100 --bootstrap 200 --prdc --seed 1)
measure() {   # measure FAKE_DIR FAKE.npy RUN_DIR
    if [ ! -f "$3/c2st/c2st.csv" ]; then
        rm -rf "$3/c2st"
        "$B/classify" c2st --real "$OUT/sets/heldout" --fake "$1" --out "$3/c2st" --folds 3 \
            --epochs 8 --seed 1 "${classes[@]}" >"$3/c2st.txt" 2>"$3/c2st.err" || { cat "$3/c2st.err" >&2; exit 1; }
        surface "$3/c2st.err"
    fi
    # the same test on images shrunk to 32x32: is the difference only in the finest texture?
    if [ ! -f "$3/c2st32/c2st.csv" ]; then
        rm -rf "$3/c2st32"
        "$B/classify" c2st --real "$OUT/sets/heldout" --fake "$1" --out "$3/c2st32" --folds 3 \
            --epochs 8 --size 32 --seed 1 "${classes[@]}" >"$3/c2st32.txt" 2>"$3/c2st32.err" ||
            { cat "$3/c2st32.err" >&2; exit 1; }
        surface "$3/c2st32.err"
    fi
    features "$1" "$2"
    # through a .tmp file: a fid that fails after its first lines leaves no fid.txt to be reused
    if [ ! -s "$3/fid.txt" ]; then
        "${FID[@]}" "$OUT/heldout.npy" "$2" >"$3/fid.txt.tmp" 2>"$3/fid.err" || { cat "$3/fid.err" >&2; exit 1; }
        mv "$3/fid.txt.tmp" "$3/fid.txt"
    fi
}

# 5a. the reference: real train images against held-out real images
mkdir -p "$OUT/reference"
measure "$OUT/sets/all/$RARE" "$OUT/all.npy" "$OUT/reference"

# 4. the GAN runs
gan_run() {   # gan_run SET RECIPE SEED
    local set=$1 recipe=$2 seed=$3
    local run="$OUT/runs/$set/$recipe/seed$seed"
    local n ipe epochs every flags
    n=$(count "$OUT/sets/$set/$RARE")
    ipe=$(( n / 32 > 0 ? n / 32 : 1 ))
    epochs=$(( (ITERS + ipe - 1) / ipe ))
    every=$(( 300 / ipe > 0 ? 300 / ipe : 1 ))
    flags="$BASE $(recipe_flags "$recipe") --seed $seed --epochs $epochs"
    if [ -f "$run/flags.txt" ] && [ "$(cat "$run/flags.txt")" != "$flags" ]; then
        echo "small_data: $run was made with other settings; redoing it"
        rm -rf "$run"
    fi
    mkdir -p "$run"
    echo "$flags" >"$run/flags.txt"
    if [ ! -f "$run/.trained" ]; then
        log "4. GAN $set ($n images) $recipe seed $seed: $epochs epochs ($((epochs * ipe)) iterations)"
        local resume=""
        [ -f "$run/gan/checkpoint.safetensors" ] && resume=--resume
        local t0
        t0=$(date +%s)
        # shellcheck disable=SC2086
        "$B/train" --data "$OUT/sets/$set" --class "$RARE" --out "$run/gan" $flags \
            --sample-every "$epochs" --ckpt-every "$every" $resume >>"$run/train.log" 2>&1 ||
            { tail -5 "$run/train.log" >&2; exit 1; }
        surface "$run/train.log"
        echo "$(( $(date +%s) - t0 ))" >"$run/train_seconds.txt"
        touch "$run/.trained"
    fi
    # the generated images, and what was measured on them, for this GEN
    if [ ! -f "$run/gen/.done" ] || [ "$(cat "$run/gen/.done")" != "$GEN" ]; then
        rm -rf "$run/gen" "$run/gen.npy" "$run/gen.npy.source" "$run/c2st" "$run/c2st32" "$run/fid.txt"
        "$B/generate" --checkpoint "$run/gan/checkpoint.safetensors" --count "$GEN" --out "$run/gen" \
            --seed 7 >/dev/null
        echo "$GEN" >"$run/gen/.done"
    fi
    measure "$run/gen" "$run/gen.npy" "$run"
    echo "   $(tail -1 "$run/c2st.txt")"
}
for seed in $(seq 1 "$SEEDS"); do
    for set in small all; do
        for recipe in plain full; do gan_run "$set" "$recipe" "$seed"; done
    done
done
for seed in $(seq 1 "$ALONE_SEEDS"); do
    for recipe in diffaugment ada ema; do gan_run small "$recipe" "$seed"; done
done

# 5b. the summary
log "5. summary"
"$PYTHON" "$here/small_data_summary.py" "$OUT" "$RARE" "$CLASSES" >"$OUT/results.md.tmp"
took=$(( $(date +%s) - start ))
if [ -n "${PHANTOMS:-}" ]; then phantom_note "$OUT/results.md.tmp"; fi
{
    echo
    echo "Data: \`$DATA\` (content hash $data_hash; classes $CLASSES, the GAN's $RARE; patients ${PATIENTS:-from the file names}) split by patient; GAN: \`$BASE\` + the recipe, $ITERS iterations;"
    echo "$GEN generated images per run; run $(date -u +%Y-%m-%d) on $(nproc) cores"
    echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); this invocation took $took s."
    if [ -s "$OUT/warnings.txt" ]; then
        echo
        echo "**Warnings in the programs' logs** (each once):"
        echo
        sed 's/^/- /' "$OUT/warnings.txt"
    fi
} >>"$OUT/results.md.tmp"
mv "$OUT/results.md.tmp" "$OUT/results.md"
echo "small_data: done in $took s; see $OUT/results.md"
