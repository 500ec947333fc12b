#!/bin/sh
# arm_time.sh REV [DATA] - the time of one study arm, revision REV's dcgan.h
# against the working tree's, same settings, same machine, alternated twice:
# the GAN at the study's CPU recipe (examples/study.sh GAN_FLAGS, ARM_ITERS
# iterations, default 2000) on 50 NORMAL patients' images, then one classifier
# training (8 epochs, oversampled) on one patient-level split. Not part of make
# test (about 3 minutes a round). DATA: ../shared/data/kermany224 (else
# phantoms). ROUNDS (default 3) rounds; the order of the two sides alternates
# (old first in odd rounds, new first in even ones), so a slow stretch of the
# machine falls on both; the last lines give each side's median and the
# ratio of the medians, old / new.
set -e
rev=${1:?usage: arm_time.sh REV [DATA]}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${2:-$root/../shared/data/kermany224}
iters=${ARM_ITERS:-2000}
tmp=$(mktemp -d /tmp/arm_time.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
FLAGS="-std=c99 -O2 -fopenmp $(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)"
mkdir -p "$tmp/old/examples" "$tmp/new/examples"
git -C "$root" archive "$rev" dcgan.h examples | tar -x -C "$tmp/old"
cp "$root/dcgan.h" "$tmp/new/"; cp "$root"/examples/*.c "$root"/examples/*.h "$tmp/new/examples/"
for side in old new; do
    for p in train classify phantom; do cc $FLAGS "$tmp/$side/examples/$p.c" -o "$tmp/$side/$p" -lm; done
done
if [ ! -d "$data/NORMAL" ]; then
    "$tmp/new/phantom" --out "$tmp/phantom" --normal 300 --pneumonia 900 --size 128 >/dev/null
    data="$tmp/phantom/train"
fi
"$tmp/new/classify" split --data "$data" --out "$tmp/split" --seed 1 >/dev/null
"$tmp/new/classify" subset --data "$tmp/split/train" --out "$tmp/sub" --sizes 50 --rare NORMAL --seed 1 >/dev/null
sub=$(ls -d "$tmp"/sub/*/train | head -1)
batch=32
n=$(ls "$sub/NORMAL" | wc -l)
epochs=$(( (iters * batch + n - 1) / n ))
GAN_FLAGS="--arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 1"
echo "arm: GAN $epochs epochs of $n images (~$iters iterations), then classify train 8 epochs; $(nproc) threads; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
rounds=${ROUNDS:-3}
: > "$tmp/times"
round=1
while [ "$round" -le "$rounds" ]; do
    if [ $((round % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for side in $order; do
        rm -rf "$tmp/run"
        t0=$(date +%s.%N)
        "$tmp/$side/train" --data "$sub" --class NORMAL --out "$tmp/run/gan" $GAN_FLAGS --seed 1 --epochs "$epochs" \
            --sample-every "$epochs" --ckpt-every "$epochs" >/dev/null 2>&1
        t1=$(date +%s.%N)
        "$tmp/$side/classify" train --data "$sub" --val "$tmp/split/val" --out "$tmp/run/clf" --epochs 8 \
            --balance oversample --seed 1 >/dev/null 2>&1
        t2=$(date +%s.%N)
        gan=$(echo "$t1 - $t0" | bc); clf=$(echo "$t2 - $t1" | bc); arm=$(echo "$t2 - $t0" | bc)
        echo "$side $gan $clf $arm" >> "$tmp/times"
        echo "round $round $side ($( [ $side = old ] && echo "$rev" || echo "working tree")): GAN $gan s, classifier $clf s, arm $arm s"
    done
    round=$((round + 1))
done
# median of column $2 of side $1's lines
median() {
    awk -v side="$1" -v col="$2" '$1 == side { print $col }' "$tmp/times" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for part in "GAN 2" "classifier 3" "arm 4"; do
    name=${part% *}; col=${part#* }
    old=$(median old "$col"); new=$(median new "$col")
    echo "median over $rounds rounds: $name old $old s, new $new s, old / new $(echo "scale=3; $old / $new" | bc)"
done
