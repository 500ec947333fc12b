#!/usr/bin/env bash
# bf16_train.sh - does training with --bf16 (the CPU's products in bfloat16)
# give the same models as float32? SEEDS seeds of each (2), so that the difference
# between precisions can be read against the difference between seeds:
#   1. the small-data GAN (the README recipe, 2,000 iterations on the 50-image
#      set of make small-data), its samples measured as make small-data does
#      (KID, precision, coverage in the domain classifier's features, against
#      held-out NORMAL images of other patients);
#   2. classify train (8 epochs) on the patient-level train split: the best
#      validation ROC AUC.
# Needs the output of make small-data (its split, sets and domain classifier:
# SRC, default small_data) and a CPU with AVX512_BF16. Resumable: finished
# runs are kept in OUT (default bf16_train). Not part of make test (~12 min).
set -euo pipefail
B=${B:-build}
SRC=${SRC:-small_data}
OUT=${OUT:-bf16_train}
ITERS=${ITERS:-2000}
SEEDS=${SEEDS:-2}
if [ ! -f "$SRC/domain/checkpoint.safetensors" ] || [ ! -f "$SRC/heldout.npy" ]; then
    echo "bf16_train: $SRC has no domain classifier or held-out features: run make small-data first" >&2
    exit 1
fi
make -s "$B/train" "$B/generate" "$B/classify" "$B/fid"
mkdir -p "$OUT"
RECIPE="--arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 1"
n=$(find -L "$SRC/sets/small/NORMAL" -type f | wc -l)
ipe=$(( n / 32 > 0 ? n / 32 : 1 ))
epochs=$(( (ITERS + ipe - 1) / ipe ))
flag() { [ "$1" = bfloat16 ] && echo --bf16 || true; }
for prec in float32 bfloat16; do
    for seed in $(seq 1 "$SEEDS"); do
        run="$OUT/gan_${prec}_seed$seed"
        if [ ! -s "$run/fid.txt" ]; then
            rm -rf "$run"; mkdir -p "$run"
            t0=$(date +%s.%N)
            # shellcheck disable=SC2046,SC2086
            "$B/train" --data "$SRC/sets/small" --class NORMAL --out "$run/gan" $RECIPE --seed "$seed" \
                --epochs "$epochs" --sample-every "$epochs" --ckpt-every "$epochs" $(flag "$prec") >"$run/train.log" 2>&1
            echo "$(echo "$(date +%s.%N) - $t0" | bc)" >"$run/seconds.txt"
            "$B/generate" --checkpoint "$run/gan/checkpoint.safetensors" --count 300 --out "$run/gen" --seed 7 >/dev/null
            "$B/classify" features --checkpoint "$SRC/domain/checkpoint.safetensors" "$run/gen" "$run/gen.npy" >/dev/null
            "$B/fid" --kid --kid-subsets 100 --kid-subset-size 100 --prdc --seed 1 "$SRC/heldout.npy" "$run/gen.npy" \
                >"$run/fid.txt"
        fi
        echo "GAN $prec seed $seed: $(cat "$run/seconds.txt") s; $(tr '\n' ' ' <"$run/fid.txt")"
    done
done
for prec in float32 bfloat16; do
    for seed in $(seq 1 "$SEEDS"); do
        run="$OUT/clf_${prec}_seed$seed"
        if [ ! -s "$run/done.txt" ]; then
            rm -rf "$run"; mkdir -p "$run"
            t0=$(date +%s.%N)
            # shellcheck disable=SC2046
            "$B/classify" train --data "$SRC/split/train" --val "$SRC/split/val" --out "$run/clf" --epochs 8 \
                --seed "$seed" $(flag "$prec") >"$run/train.log" 2>&1
            echo "$(echo "$(date +%s.%N) - $t0" | bc) s; $(grep 'best epoch' "$run/train.log")" >"$run/done.txt"
        fi
        echo "classifier $prec seed $seed: $(cat "$run/done.txt")"
    done
done
