#!/bin/sh
# same_bits.sh REV - is the working tree's dcgan.h bit-identical in behaviour to
# revision REV's? Builds train, fid and classify from both (same flags, this
# machine), then compares the SHA-256 of (for .safetensors files, the tensor bytes only;
# METADATA=1: the whole files): fixed-seed GAN checkpoints (the seed
# architecture; the small-data recipe with DiffAugment, ADA and the averaged G),
# Inception features of the deterministic fill, and a classifier's checkpoint.
# A refactor that moves code must print "same" for every line. Not part of
# make test (it builds twice and trains; about 3 minutes on 2 cores).
#   sh tests/same_bits.sh HEAD        # before committing a restructure
#   KEEP=1 sh tests/same_bits.sh HEAD  # keeps the runs (run_old/, run_new/) to compare by hand
set -e
rev=${1:?usage: same_bits.sh REV}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/same_bits.XXXXXX)
if [ -n "$KEEP" ]; then echo "keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
CC=${CC:-cc}
FLAGS="-std=c99 -O2 -fopenmp $(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)"
mkdir -p "$tmp/old/examples" "$tmp/new/examples"
git -C "$root" archive "$rev" dcgan.h examples | tar -x -C "$tmp/old"
cp "$root/dcgan.h" "$tmp/new/"; cp "$root"/examples/*.c "$root"/examples/*.h "$tmp/new/examples/"
for side in old new; do
    for p in train fid classify phantom; do
        $CC $FLAGS "$tmp/$side/examples/$p.c" -o "$tmp/$side/$p" -lm
    done
done
"$tmp/new/phantom" --out "$tmp/data" --normal 48 --pneumonia 48 --size 64 >/dev/null 2>&1
run() {  # side
    d="$tmp/run_$1"; mkdir -p "$d"; b="$tmp/$1"
    OMP_NUM_THREADS=2 "$b/train" --data "$tmp/data/train" --class NORMAL --out "$d/seed" --arch seed --size 64 \
        --channels 1 --width 0.25 --batch 16 --epochs 2 --sample-every 100 --ckpt-every 100 --seed 7 >/dev/null 2>&1
    OMP_NUM_THREADS=2 "$b/train" --data "$tmp/data/train" --class NORMAL --out "$d/small" --arch dcgan --size 64 \
        --channels 1 --width 0.25 --batch 16 --epochs 3 --sample-every 100 --ckpt-every 100 --seed 7 \
        --diffaugment color,translation,cutout --ada-target 0.6 --ema-kimg 0.05 >/dev/null 2>&1
    OMP_NUM_THREADS=2 "$b/fid" --fill-deterministic --save-features "$tmp/data/train/NORMAL" "$d/features.npy" \
        >/dev/null 2>&1
    OMP_NUM_THREADS=2 "$b/classify" split --data "$tmp/data/train" --out "$d/split" --seed 3 >/dev/null 2>&1
    OMP_NUM_THREADS=2 "$b/classify" train --data "$d/split/train" --val "$d/split/val" --out "$d/clf" --size 64 --epochs 2 --seed 3 --augment classic >/dev/null 2>&1
}
run old; run new
# a .safetensors file by its tensor bytes (after the 8-byte header length and the header):
# the metadata may change with the file's format (GAN checkpoints went to version 2 in
# session 25) while every number stays; the whole file when METADATA=1
digest() {
    case "$1" in
    *.safetensors)
        if [ -n "$METADATA" ]; then sha256sum "$1"; else
            n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
            tail -c +$((n + 9)) "$1" | sha256sum
        fi ;;
    *) sha256sum "$1" ;;
    esac | cut -c1-16
}
status=0
for f in seed/checkpoint.safetensors small/checkpoint.safetensors features.npy clf/checkpoint.safetensors; do
    a=$(digest "$tmp/run_old/$f"); b=$(digest "$tmp/run_new/$f")
    if [ "$a" = "$b" ]; then echo "same       $f  $a"; else echo "DIFFERENT  $f  $a $b"; status=1; fi
done
exit $status
