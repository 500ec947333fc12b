#!/bin/sh
# ab.sh WORKLOAD REPS ROUNDS BIN... - alternates bench binaries (built from two
# versions of dcgan.h the same way, e.g. cc -std=c99 -O2 -march=native -fopenmp
# bench/bench.c) ROUNDS times, REPS results of `--only WORKLOAD` each, and prints
# every binary's median and minimum over all its results. The machine's slow and
# fast minutes then fall on both sides. Not part of make test.
#   sh bench/ab.sh classifier_step 10 4 /tmp/old/bench /tmp/new/bench
# A BIN may carry flags of bench, quoted as one argument (one build, two paths):
#   sh bench/ab.sh sgemm_1536 3 4 build/bench "build/bench --bf16 --amx 0" "build/bench --bf16"
# THREADS=1 runs each on one thread (default 2).
w=${1:?usage: ab.sh WORKLOAD REPS ROUNDS BIN...}; reps=$2; rounds=$3; shift 3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
    for b in "$@"; do
        # $b unquoted: a path and its flags (paths with spaces are not supported)
        $b --reps "$reps" --threads "${THREADS:-2}" --only "$w" | grep RESULT |
            awk -v b="$b" '{printf "%s\t%s\n", b, $3}' >>"$out"
    done
done
for b in "$@"; do
    awk -F '\t' -v b="$b" '$1 == b {print $2}' "$out" | sort -n |
        awk -v b="$b" '{a[NR] = $1} END {printf "%-28s median %.6f  min %.6f  (n=%d)\n", b, a[int((NR + 1) / 2)], a[1], NR}'
done
