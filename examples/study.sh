#!/usr/bin/env bash
# study.sh - the augmentation study, round two: a learning curve. At how many
# real images of the rare class do GAN-made images of it help a classifier?
#
# Run: make study          the reduced curve: SIZES=10,50 (about 45 minutes on
#                          2 cores with ../shared/data/kermany224)
#      make study-full     the full curve: SIZES=10,25,50,100,all (61-95 minutes;
#                          reuses every step the reduced curve finished)
#      make study DATA=DIR any folder of two class sub-folders (CLASSES=NEG,POS,
#                          RARE=the class the GAN makes, PATIENTS=file,patient CSV)
#      bash examples/study.sh [DATA]   the script itself (DATA as the one
#                          argument or in the environment; --help: this text)
# Without DATA and without ../shared/data/kermany224: built-in phantom X-rays
# (a quick demonstration of the pipeline, not a result). Every image is used
# 64x64 gray (GAN_FLAGS' --size 64 --channels 1 and the classifiers' defaults),
# whatever its size, shape or colour: RGB images lose their colour.
#
# Settings (environment): OUT (study), SIZES (10,50), SPLITS (3), SEEDS (1
# classifier seed per split), CLS_EPOCHS (8), GAN_ITERS (2000), GAN_FLAGS (the
# small-data recipe: DiffAugment + ADA + EMA), CLASSES (NORMAL,PNEUMONIA),
# RARE (the first class of CLASSES), PATIENTS (none: Kermany's file names, any
# other name a patient of its own - give a file,patient CSV where patients have
# several images), B (build), REDO (0). Warnings in the steps' logs (images
# skipped, nearly black or enlarged; too few test patients) are printed once
# each and listed in results.md.
#
# For each split S (patients into train / val / test, 70 / 15 / 15 %, seed S)
# and each size K (the first K patients of the rare class in one random order
# of split S's train patients, so the subsets are nested; the other class whole):
#   gan         the GAN on those K patients' images only
#   generate    as many rare-class images as balance the classes (nK/generated)
#   c2st        can a classifier tell them from held-out real ones? (val + test)
#   classifiers five arms x SEEDS seeds, evaluated on split S's test patients:
#     real           real images only
#     oversample     the rare class drawn again up to the other (the control:
#                    same steps per epoch and class balance as the synthetic arm)
#     augment        oversample + classic augmentation
#     synthetic      real + synthetic rare images (the treatment)
#     synth_augment  real + synthetic + classic augmentation
# then study_report: OUT/results.md, results.png, results.csv (docs/study.md
# gives the pre-specified rule).
#
# Provenance: every step writes OUT/steps/NAME.key (its command's settings and
# the content hashes of its inputs) and, when it finishes, NAME.done (seconds,
# date, machine, the program's hash). A step whose .done matches is skipped; a
# stopped step continues (training resumes exactly); a step whose key differs
# is refused with the difference, or redone with its outputs when REDO=1 (and
# what depends on it is then redone too: its key holds the changed hashes).
set -euo pipefail
# --help: the comment above; settings come from the environment, DATA may be the one argument
case "${1:-}" in
    -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "study: unknown option '$1'; settings come from the environment (--help)" >&2; exit 2 ;;
esac
if [ $# -gt 1 ]; then echo "study: one argument at most, DATA; settings come from the environment (--help)" >&2; exit 2; fi
# phantom_classes and phantom_data: the built-in phantoms when there is no data
# shellcheck source=examples/phantom_data.sh
. "$(dirname "$(readlink -f "$0")")/phantom_data.sh"
B=${B:-build}
# libgomp's threads spin between parallel loops (tens of milliseconds on some CPUs) before
# they sleep: on a machine busy with other work that made a classifier step 20x slower
# (bench/RESULTS.md, session 25). A short spin costs nothing measurable on an idle one.
if [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then export GOMP_SPINCOUNT=10000; fi
OUT=${OUT:-study}
SIZES=${SIZES:-10,50}
SPLITS=${SPLITS:-3}
SEEDS=${SEEDS:-1}
CLS_EPOCHS=${CLS_EPOCHS:-8}
CLASSES=${CLASSES:-NORMAL,PNEUMONIA}
RARE=${RARE:-${CLASSES%%,*}}
PATIENTS=${PATIENTS:-}
REDO=${REDO:-0}
GAN_FLAGS=${GAN_FLAGS:---arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 1}
ARMS="real oversample augment synthetic synth_augment"
NEG=${CLASSES%%,*}
POS=${CLASSES#*,}
if [ "$RARE" = "$NEG" ]; then OTHER=$POS; elif [ "$RARE" = "$POS" ]; then OTHER=$NEG; else
    echo "study: RARE=$RARE is neither class of CLASSES=$CLASSES" >&2
    exit 2
fi
if [ -n "$PATIENTS" ] && [ ! -f "$PATIENTS" ]; then echo "study: PATIENTS=$PATIENTS is not a file" >&2; exit 2; fi
DATA=${DATA:-${1:-}}
if [ -z "$DATA" ] && [ -d ../shared/data/kermany224/NORMAL ]; then DATA=../shared/data/kermany224; fi
if [ -z "$DATA" ]; then phantom_classes study; fi   # the built-in phantoms (below)
if [ -n "$DATA" ]; then   # refused before anything is written
    for c in "$NEG" "$POS"; do
        [ -d "$DATA/$c" ] || { echo "study: $DATA has no $c/ folder (CLASSES=$CLASSES)" >&2; exit 1; }
    done
    # OUT inside DATA: the data's content hash would take in the study's own files and
    # change with every step (the next run would refuse the split as made from other data)
    data_abs=$(readlink -f "$DATA")
    out_abs=$(readlink -m "$OUT")
    case "$out_abs/" in "$data_abs"/*)
        echo "study: OUT=$OUT is inside DATA=$DATA; give an OUT outside the data folder" >&2
        exit 2
        ;;
    esac
fi
# the repository's commit when this invocation started (results.md says if it moved during the run)
here=$(dirname "$(readlink -f "$0")")
git_at() { git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'; }
git_start=$(git_at)
start=$(date +%s)
mkdir -p "$OUT/steps"
log() { echo "== $(date -u +%H:%M:%S) $*"; }

if [ -z "$DATA" ]; then
    GAN_ITERS=${GAN_ITERS:-600}
    phantom_data study
    PHANTOMS=1
else
    GAN_ITERS=${GAN_ITERS:-2000}
fi
common=(--classes "$CLASSES")
if [ -n "$PATIENTS" ]; then common+=(--patients "$PATIENTS"); fi

# ---------------------------------------------------------------------------
# Provenance

# The content hash of a folder: every file under it (links followed) by name
# and SHA-256, in sorted order; of a file: its SHA-256. 16 hex digits.
hash_dir() {
    (cd "$1" && find -L . -type f ! -name '.*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
        sha256sum | cut -c1-16
}
hash_file() { sha256sum "$1" | cut -c1-16; }
# PROGRAM_HASH[program]: its hash, taken once per run (every step's .done names it);
# remember_hash fills it in this shell (not in a $(...) subshell, where it would be lost)
declare -A PROGRAM_HASH
remember_hash() { [ -n "${PROGRAM_HASH[$1]:-}" ] || PROGRAM_HASH[$1]=$(hash_file "$1"); }
count() { find -L "$1" -type f ! -name '.*' | wc -l; }

# need NAME KEY OUTPUT...: 0 when the step must run (now or to continue), 1
# when it is done with this key and its outputs are there. A different key:
# refuse, or with REDO=1 remove the step's outputs and run it again; a step
# that left no output behind (it failed before writing any) starts with the new
# key. A done step whose outputs are gone (a step it depends on was redone and
# removed them) runs again.
need() {
    local name=$1 key=$2
    shift 2
    local k="$OUT/steps/$name.key" d="$OUT/steps/$name.done" out any=0 all=1
    for out in "$@"; do
        if [ -e "$out" ]; then any=1; else all=0; fi
    done
    if [ -f "$k" ] && [ "$(cat "$k")" != "$(printf '%s\n' "$key")" ]; then
        if [ ! -f "$d" ] && [ "$any" = 0 ]; then
            log "start $name again with its new settings (it stopped before writing anything)"
        elif [ "$REDO" != 1 ]; then
            {
                echo "study: step $name was made with other inputs or settings:"
                diff <(cat "$k") <(printf '%s\n' "$key") | sed 's/^/    /' || true
                echo "study: stopping, nothing changed; use another OUT, or REDO=1 to redo this step and"
                echo "       everything that depends on it"
            } >&2
            exit 1
        else
            log "redo $name: its inputs or settings changed"
            rm -rf "$d" "$@"
        fi
    elif [ -f "$d" ] && [ -f "$k" ] && [ "$all" = 0 ]; then
        log "redo $name: its outputs are gone"
        rm -rf "$d" "$@"
    fi
    [ -f "$d" ] && [ -f "$k" ] && return 1
    printf '%s\n' "$key" >"$k.tmp"
    mv "$k.tmp" "$k"
    return 0
}
# surface_warnings NAME LOG: the warnings in a step's log (images skipped, nearly black or
# enlarged; too few test patients) go to the terminal, each distinct line once per run, and
# into OUT/steps/NAME.warnings, which results.md's provenance lists. The logs alone hid them:
# a referee's study on 12-bit PNGs, black to every classifier, ended "equivalent".
declare -A WARNED
surface_warnings() {
    local w="$OUT/steps/$1.warnings" line
    { grep -h -e ': warning: ' -e ': skipping an image: ' "$2" 2>/dev/null || true; } | LC_ALL=C sort -u >"$w.tmp"
    mv "$w.tmp" "$w"
    [ -s "$w" ] || { rm -f "$w"; return 0; }
    while IFS= read -r line; do
        [ -n "${WARNED[$line]:-}" ] && continue
        WARNED[$line]=1
        echo "study: $1: $line" >&2
    done <"$w"
}
# done_step NAME SECONDS PROGRAM: the step finished.
done_step() {
    remember_hash "$3"
    printf 'took %s s, finished %s, %s cores (%s), %s sha256 %s\n' "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$(basename "$3")" \
        "${PROGRAM_HASH[$3]}" >"$OUT/steps/$1.done"
}

data_hash=$(hash_dir "$DATA")
# RARE is the first class of CLASSES unless given: a study left to that default on a folder
# whose first class is the larger one studied synthetic images of the common class, without
# a word (a referee's walk-through)
n_rare_all=$(count "$DATA/$RARE")
n_other_all=$(count "$DATA/$OTHER")
if [ "$n_rare_all" -gt "$n_other_all" ]; then
    echo "study: warning: RARE=$RARE has more files in $DATA ($n_rare_all) than $OTHER ($n_other_all): the" \
        "study asks what synthetic images of the smaller class add (RARE is the first class of CLASSES" \
        "unless given: RARE=$OTHER?)" >&2
fi
patients_hash=none
[ -n "$PATIENTS" ] && patients_hash=$(hash_file "$PATIENTS")
IFS=, read -r -a sizes <<<"$SIZES"

# the hashes of each split's folders, taken once when the split is in place
declare -a TRAIN_RARE_HASH VAL_HASH TEST_HASH HELDOUT_HASH
split_hashes() {   # sets train_rare_hash val_hash test_hash heldout_hash for split $s
    train_rare_hash=${TRAIN_RARE_HASH[$s]}
    val_hash=${VAL_HASH[$s]}
    test_hash=${TEST_HASH[$s]}
    heldout_hash=${HELDOUT_HASH[$s]}
}

for s in $(seq 1 "$SPLITS"); do
    sp="$OUT/split$s"
    # 1. the split by patient
    key="classify split --val 0.15 --test 0.15 --seed $s --classes $CLASSES
data $DATA: $data_hash
patients: $patients_hash"
    if need "split$s" "$key" "$sp"; then
        log "split $s: $DATA by patient"
        rm -rf "$sp"
        t0=$(date +%s)
        "$B/classify" split --data "$DATA" --out "$sp" --val 0.15 --test 0.15 --seed "$s" "${common[@]}" \
            2>"$OUT/steps/split$s.log" || { cat "$OUT/steps/split$s.log" >&2; exit 1; }
        surface_warnings "split$s" "$OUT/steps/split$s.log"
        done_step "split$s" $(( $(date +%s) - t0 )) "$B/classify"
    fi
    # the held-out real rare images (validation and test patients; no GAN sees them);
    # made again when RARE names another class
    if [ ! -f "$sp/heldout/.done" ] || [ ! -d "$sp/heldout/$RARE" ]; then
        rm -rf "$sp/heldout"
        mkdir -p "$sp/heldout/$RARE"
        for f in "$sp/val/$RARE"/* "$sp/test/$RARE"/*; do ln -s "$(readlink -f "$f")" "$sp/heldout/$RARE/"; done
        touch "$sp/heldout/.done"
    fi
    TRAIN_RARE_HASH[s]=$(hash_dir "$sp/train/$RARE")
    VAL_HASH[s]=$(hash_dir "$sp/val")
    TEST_HASH[s]=$(hash_dir "$sp/test")
    HELDOUT_HASH[s]=$(hash_dir "$sp/heldout")
done

# 2. the nested subsets, every size of every split before any GAN: a size the data
# cannot give, or one that needs no synthetic images, stops the study before hours of work
for K in "${sizes[@]}"; do
    for s in $(seq 1 "$SPLITS"); do
        sp="$OUT/split$s"
        split_hashes
        run="$sp/n$K"
        name="split$s.n$K"
        key="classify subset --sizes $K --rare $RARE --seed $s
train $RARE: $train_rare_hash"
        if need "$name.subset" "$key" "$run"; then
            rm -rf "$run/train" "$run/count.csv"
            "$B/classify" subset --data "$sp/train" --out "$sp" --sizes "$K" --rare "$RARE" --seed "$s" \
                "${common[@]}"
            done_step "$name.subset" 0 "$B/classify"
        fi
        n_rare=$(count "$run/train/$RARE")
        n_other=$(count "$run/train/$OTHER")
        if [ "$n_other" -le "$n_rare" ]; then
            echo "study: split $s, size $K: the subset has $n_rare $RARE images and $n_other $OTHER images;" \
                "no synthetic $RARE images are needed to balance the classes (the study asks what they" \
                "add where $RARE is the smaller class): give smaller SIZES, or RARE=$OTHER" >&2
            exit 1
        fi
    done
done

# Sizes outermost: a stopped curve has its first sizes complete on every split.
for K in "${sizes[@]}"; do
    for s in $(seq 1 "$SPLITS"); do
        sp="$OUT/split$s"
        split_hashes
        run="$sp/n$K"
        name="split$s.n$K"
        subset_hash=$(hash_dir "$run/train")
        n_rare=$(count "$run/train/$RARE")
        n_other=$(count "$run/train/$OTHER")

        # 3. the GAN on this subset only
        ipe=$(( n_rare / 32 > 0 ? n_rare / 32 : 1 ))
        epochs=$(( (GAN_ITERS + ipe - 1) / ipe ))
        every=$(( 250 / ipe > 0 ? 250 / ipe : 1 ))
        gflags="$GAN_FLAGS --seed $s --epochs $epochs"
        key="train $gflags
subset $RARE: $(hash_dir "$run/train/$RARE")"
        if need "$name.gan" "$key" "$run/gan"; then
            log "split $s, $K patients ($n_rare $RARE images): GAN, $epochs epochs ($((epochs * ipe)) iterations)"
            resume=""
            [ -f "$run/gan/checkpoint.safetensors" ] && resume=--resume
            t0=$(date +%s)
            mkdir -p "$run/gan"
            # shellcheck disable=SC2086
            "$B/train" --data "$run/train" --class "$RARE" --out "$run/gan" $gflags --sample-every "$epochs" \
                --ckpt-every "$every" $resume >>"$run/gan/train.log" 2>&1 || { tail -5 "$run/gan/train.log" >&2; exit 1; }
            surface_warnings "$name.gan" "$run/gan/train.log"
            done_step "$name.gan" $(( $(date +%s) - t0 )) "$B/train"
        fi
        gan_hash=$(hash_file "$run/gan/checkpoint.safetensors")

        # 4. synthetic images: as many as balance the classes
        n_synth=$(( n_other - n_rare ))
        key="generate --count $n_synth --seed 7
gan: $gan_hash"
        if need "$name.generate" "$key" "$run/generated"; then
            rm -rf "$run/generated"
            t0=$(date +%s)
            "$B/generate" --checkpoint "$run/gan/checkpoint.safetensors" --count "$n_synth" \
                --out "$run/generated/$RARE" --seed 7 >/dev/null
            done_step "$name.generate" $(( $(date +%s) - t0 )) "$B/generate"
        fi
        synth_hash=$(hash_dir "$run/generated")

        # 5. the shortcut check: synthetic vs held-out real
        key="classify c2st --folds 3 --epochs 8 --seed 1
real: $heldout_hash
fake: $synth_hash"
        if need "$name.c2st" "$key" "$run/c2st"; then
            rm -rf "$run/c2st"
            t0=$(date +%s)
            mkdir -p "$run/c2st"
            "$B/classify" c2st --real "$sp/heldout/$RARE" --fake "$run/generated/$RARE" --out "$run/c2st" \
                --folds 3 --epochs 8 --seed 1 "${common[@]}" >"$run/c2st/c2st.txt" 2>&1 ||
                { tail -5 "$run/c2st/c2st.txt" >&2; exit 1; }
            log "split $s, $K patients: $(tail -1 "$run/c2st/c2st.txt")"
            surface_warnings "$name.c2st" "$run/c2st/c2st.txt"
            done_step "$name.c2st" $(( $(date +%s) - t0 )) "$B/classify"
        fi

        # 6. the classifiers
        for seed in $(seq 1 "$SEEDS"); do
            for arm in $ARMS; do
                case $arm in
                    real) flags=() ; inputs="" ;;
                    oversample) flags=(--balance oversample) ; inputs="" ;;
                    augment) flags=(--balance oversample --augment classic) ; inputs="" ;;
                    synthetic) flags=(--extra "$RARE=$run/generated/$RARE") ; inputs="synthetic: $synth_hash" ;;
                    synth_augment) flags=(--extra "$RARE=$run/generated/$RARE" --augment classic)
                                   inputs="synthetic: $synth_hash" ;;
                esac
                r="$run/$arm/seed$seed"
                key="classify train ${flags[*]} --epochs $CLS_EPOCHS --seed $seed --classes $CLASSES
train: $subset_hash
val: $val_hash
$inputs"
                if need "$name.$arm.seed$seed" "$key" "$r"; then
                    log "split $s, $K patients: classifier $arm, seed $seed"
                    # a run stopped by Ctrl-C continues where it stopped; anything else in the
                    # step's own folder (a run killed after classify train finished, before the
                    # step was marked done: classify train refuses a folder holding a run) goes
                    resume=""
                    if [ -f "$r/resume.safetensors" ]; then resume=--resume; else rm -rf "$r"; fi
                    mkdir -p "$r"
                    t0=$(date +%s)
                    "$B/classify" train --data "$run/train" --val "$sp/val" --out "$r" --epochs "$CLS_EPOCHS" \
                        --seed "$seed" "${flags[@]}" "${common[@]}" $resume >>"$r/train.log" 2>&1 ||
                        { tail -5 "$r/train.log" >&2; exit 1; }
                    surface_warnings "$name.$arm.seed$seed" "$r/train.log"
                    done_step "$name.$arm.seed$seed" $(( $(date +%s) - t0 )) "$B/classify"
                fi
                key="classify eval --seed $seed --classes $CLASSES
checkpoint: $(hash_file "$r/checkpoint.safetensors")
test: $test_hash
scores.csv: with the logit column"
                if need "$name.$arm.seed$seed.eval" "$key" "$r/eval"; then
                    rm -rf "$r/eval"
                    "$B/classify" eval --checkpoint "$r/checkpoint.safetensors" --data "$sp/test" --out "$r/eval" \
                        --seed "$seed" "${common[@]}" >"$r/eval.log" 2>&1 || { cat "$r/eval.log" >&2; exit 1; }
                    surface_warnings "$name.$arm.seed$seed.eval" "$r/eval.log"
                    done_step "$name.$arm.seed$seed.eval" 0 "$B/classify"
                    echo "   $arm seed $seed: $(grep -E '^(auc|balanced_accuracy|specificity),' "$r/eval/metrics.csv" |
                        cut -d, -f1,2 | tr '\n' ' ')"
                fi
            done
        done
    done
done

# Steps made by another build of a program are kept (a rebuild that changes
# nothing must not retrain a curve), but said: their .done names the hash.
other_builds=0
for d in "$OUT"/steps/*.done; do
    prog=$(sed -n 's/.*, \([a-z_]*\) sha256 \([0-9a-f]*\)$/\1 \2/p' "$d")
    [ -n "$prog" ] || continue
    # shellcheck disable=SC2086   # (two words: the program and its hash)
    set -- $prog
    [ -x "$B/$1" ] || continue
    remember_hash "$B/$1"
    [ "${PROGRAM_HASH[$B/$1]}" != "$2" ] && other_builds=$((other_builds + 1))
done
if [ "$other_builds" -gt 0 ]; then
    echo "study: note: $other_builds finished steps were made by other builds of the programs than those in $B"
    echo "       (kept: their inputs and settings match; each .done in $OUT/steps names its build's hash)"
fi

# 7. the answer
log "report"
{
    # the commit at the start of this invocation (not necessarily what the programs were built
    # from: each step below names its program's sha256), and whether the repository moved since
    git_end=$(git_at)
    git_note="git $git_start (repository HEAD when this invocation started"
    [ "$git_end" != "$git_start" ] && git_note="$git_note; $git_end when the report was made"
    git -C "$here" diff --quiet HEAD 2>/dev/null || git_note="$git_note; uncommitted changes at report time"
    echo "Made by examples/study.sh from $DATA (content hash $data_hash), $git_note)"
    echo "settings: SIZES=$SIZES SPLITS=$SPLITS SEEDS=$SEEDS CLS_EPOCHS=$CLS_EPOCHS GAN_ITERS=$GAN_ITERS CLASSES=$CLASSES RARE=$RARE PATIENTS=${PATIENTS:-none}"
    echo "GAN_FLAGS: $GAN_FLAGS"
    echo "steps (OUT/steps/NAME.key holds each step's settings and input hashes):"
    for d in "$OUT"/steps/*.done; do
        n=$(basename "$d" .done)
        echo "- $n: $(head -1 "$OUT/steps/$n.key"); key $(sha256sum <"$OUT/steps/$n.key" | cut -c1-12); $(cat "$d")"
    done
    if compgen -G "$OUT/steps/*.warnings" >/dev/null; then
        echo "warnings in the steps' logs (each once, with one step that gave it):"
        for w in "$OUT"/steps/*.warnings; do sed "s|^|- $(basename "$w" .warnings): |" "$w"; done |
            awk '{ text = substr($0, index($0, ": ") + 2) } !seen[text]++'
    fi
} >"$OUT/provenance.txt"
seeds_list=$(seq -s, 1 "$SEEDS")
splits_list=$(seq -s, 1 "$SPLITS")
rare_label=0   # classify's --classes NEG,POS: the rare class's label is 1 when it is POS
[ "$RARE" = "${CLASSES#*,}" ] && rare_label=1
"$B/study_report" --study "$OUT" --sizes "$SIZES" --splits "$splits_list" --seeds "$seeds_list" \
    --arms "${ARMS// /,}" --control oversample --treatment synthetic --rare-label "$rare_label" --other-name "$OTHER" \
    --out "$OUT/results.md"
if [ -n "${PHANTOMS:-}" ]; then phantom_note "$OUT/results.md"; fi
echo "study: done in $(( $(date +%s) - start )) s (steps done before this invocation not counted); see $OUT/results.md"
