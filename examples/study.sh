#!/usr/bin/env bash
# study.sh - the augmentation study, end to end: does adding GAN-made NORMAL
# images to the training set help a pneumonia classifier?
#
# Run: make study                 (built-in phantom X-rays; minutes)
#      make study DATA=DIR        (a Kermany-layout folder: DIR/NORMAL, DIR/PNEUMONIA)
# Settings (environment): OUT (study), SEEDS (3), CLS_EPOCHS (10), GAN_ITERS
# (4000 on real data, 600 on phantoms), GAN_FLAGS (the CPU recipe below), B (build).
#
# Steps, each skipped when its result is already there (so a stopped study
# continues where it was; delete a folder to redo that step):
#   1. classify split: patients into train / val / test (70 / 15 / 15 %), OUT/split
#   2. train: the GAN on the train NORMAL images only, OUT/gan
#   3. generate: as many NORMAL images as balance the train classes, OUT/synthetic/NORMAL
#   4. classify train + eval, SEEDS seeds x five arms, OUT/runs/ARM/seedN:
#        a_real           real images only
#        b_weighted       real, loss weighted by class
#        c_augment        real, classic augmentation
#        d_synthetic      real + synthetic NORMAL
#        e_synth_augment  real + synthetic NORMAL + classic augmentation
#   5. classify summarize: OUT/results.md and OUT/results.png
set -euo pipefail
B=${B:-build}
OUT=${OUT:-study}
SEEDS=${SEEDS:-3}
CLS_EPOCHS=${CLS_EPOCHS:-10}
DATA=${DATA:-${1:-}}
GAN_FLAGS=${GAN_FLAGS:---arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch}
start=$(date +%s)
mkdir -p "$OUT"

if [ -z "$DATA" ]; then
    GAN_ITERS=${GAN_ITERS:-600}
    if [ ! -f "$OUT/phantom/.done" ]; then
        echo "== phantom X-rays (no DATA= given)"
        "$B/phantom" --out "$OUT/phantom" --normal 240 --pneumonia 700 --size 64 --seed 1
        touch "$OUT/phantom/.done"
    fi
    DATA="$OUT/phantom/train"
else
    GAN_ITERS=${GAN_ITERS:-4000}
fi

# 1. split by patient
if [ ! -f "$OUT/split/.done" ]; then
    echo "== 1. split $DATA by patient"
    rm -rf "$OUT/split"
    "$B/classify" split --data "$DATA" --out "$OUT/split" --val 0.15 --test 0.15 --seed 1
    touch "$OUT/split/.done"
fi
count() { find -L "$1" -type f | wc -l; }
n_normal=$(count "$OUT/split/train/NORMAL")
n_pneu=$(count "$OUT/split/train/PNEUMONIA")

# 2. the GAN on the train NORMAL images
per_epoch=$(( n_normal / 32 > 0 ? n_normal / 32 : 1 ))
gan_epochs=$(( (GAN_ITERS + per_epoch - 1) / per_epoch ))
if [ ! -f "$OUT/gan/.done" ]; then
    echo "== 2. GAN on $n_normal train NORMAL images, $gan_epochs epochs"
    resume=""
    [ -f "$OUT/gan/checkpoint.safetensors" ] && resume=--resume
    # shellcheck disable=SC2086
    "$B/train" --data "$OUT/split/train" --class NORMAL --out "$OUT/gan" $GAN_FLAGS \
        --epochs "$gan_epochs" --sample-every 10 --ckpt-every 5 $resume
    touch "$OUT/gan/.done"
fi

# 3. synthetic NORMAL images: enough to balance the classes
n_synth=$(( n_pneu - n_normal ))
if [ ! -f "$OUT/synthetic/.done" ]; then
    echo "== 3. $n_synth synthetic NORMAL images"
    rm -rf "$OUT/synthetic"
    "$B/generate" --checkpoint "$OUT/gan/checkpoint.safetensors" --count "$n_synth" \
        --out "$OUT/synthetic/NORMAL" --seed 7
    touch "$OUT/synthetic/.done"
fi

# 4. the classifiers
arms="a_real b_weighted c_augment d_synthetic e_synth_augment"
flags_for() {
    case "$1" in
        a_real) echo "" ;;
        b_weighted) echo "--balance weight" ;;
        c_augment) echo "--augment classic" ;;
        d_synthetic) echo "--extra NORMAL=$OUT/synthetic/NORMAL" ;;
        e_synth_augment) echo "--extra NORMAL=$OUT/synthetic/NORMAL --augment classic" ;;
    esac
}
for seed in $(seq 1 "$SEEDS"); do
    for arm in $arms; do
        run="$OUT/runs/$arm/seed$seed"
        mkdir -p "$OUT/runs/$arm"
        if [ ! -f "$run/checkpoint.safetensors" ]; then
            echo "== 4. classifier $arm, seed $seed"
            resume=""   # a run stopped by Ctrl-C continues where it stopped
            [ -f "$run/resume.safetensors" ] && resume=--resume
            # shellcheck disable=SC2046
            "$B/classify" train --data "$OUT/split/train" --val "$OUT/split/val" --out "$run" \
                --epochs "$CLS_EPOCHS" --seed "$seed" $(flags_for "$arm") $resume >"$run.log" 2>&1 ||
                { cat "$run.log" >&2; exit 1; }
            tail -1 "$run.log"
        fi
        if [ ! -f "$run/eval/metrics.csv" ]; then
            "$B/classify" eval --checkpoint "$run/checkpoint.safetensors" --data "$OUT/split/test" \
                --seed "$seed" >"$run/eval.log" 2>&1 || { cat "$run/eval.log" >&2; exit 1; }
        fi
    done
done

# 5. the answer
echo "== 5. summary"
"$B/classify" summarize --runs "$OUT/runs" --arms "${arms// /,}" \
    --compare d_synthetic-a_real,d_synthetic-b_weighted,e_synth_augment-c_augment,c_augment-a_real \
    --title "Augmentation study on $DATA" --out "$OUT/results.md"
took=$(( $(date +%s) - start ))
{
    echo
    echo "Data: \`$DATA\` split by patient (\`$OUT/split\`): train $n_normal NORMAL + $n_pneu PNEUMONIA;"
    echo "GAN: \`$GAN_FLAGS\`, $gan_epochs epochs; $n_synth synthetic NORMAL images;"
    echo "classifiers: $CLS_EPOCHS epochs, seeds 1-$SEEDS. Run $(date -u +%Y-%m-%d) on $(nproc) cores;"
    echo "this invocation took $took s (steps already done before it are not counted)."
} >>"$OUT/results.md"
echo "study: done in $took s; see $OUT/results.md"
