#!/bin/sh
# gpu_first_run.sh - the GPU checks in one run on a lent GPU machine: the card,
# the CUDA build, `make test-cuda`, then one round of `make bench-cuda`; every
# log under OUT (default $OUT, else gpu_run), the summary on stdout.
# Usage, from the repository root: sh bench/gpu_first_run.sh [OUT]
# A machine without network may lack Debian's stb headers: carry a copy in .stb/
# (git-ignored), made here with
#     mkdir -p .stb && cp /usr/include/stb/stb_image*.h .stb/
# and this script builds with make STB_DIR=.stb where /usr/include/stb has none.
OUT=${1:-${OUT:-gpu_run}}
mkdir -p "$OUT" || exit 1
STB=""
[ -f /usr/include/stb/stb_image.h ] || STB="STB_DIR=$PWD/.stb"
{ date -u; nvidia-smi; command -v nvcc >/dev/null && nvcc --version; } >"$OUT/card.txt" 2>&1
grep -m1 -i 'NVIDIA H\|NVIDIA A\|Tesla\|GeForce' "$OUT/card.txt"
start=$(date +%s)
# shellcheck disable=SC2086  # STB is one word or none
if ! make -j"$(nproc)" $STB cuda build/phantom >"$OUT/build.log" 2>&1; then
    echo "gpu_first_run: the CUDA build failed ($OUT/build.log):"
    tail -20 "$OUT/build.log"
    exit 1
fi
echo "gpu_first_run: built in $(($(date +%s) - start)) s"
# shellcheck disable=SC2086
# (DCGAN_CMP_VERBOSE: test_cuda prints every whole-vector comparison's value, passed or not,
# so that the first run records how far inside its limits a real GPU is)
DCGAN_CMP_VERBOSE=1 make $STB test-cuda >"$OUT/test_cuda.log" 2>&1
status=$?
echo "gpu_first_run: make test-cuda: status $status"
if grep -q 'skipped (exit status 77)' "$OUT/test_cuda.log"; then   # (no usable GPU: nothing verified)
    echo "gpu_first_run: the GPU tests were skipped, nothing ran on a GPU:"
    grep -m1 'no usable GPU' "$OUT/test_cuda.log"
    status=77
fi
grep -E 'passed, [0-9]+ failed|FAIL|skipped' "$OUT/test_cuda.log" | head -40
echo "gpu_first_run: the five largest whole-vector values (value, limit, check):"
sed -n 's/.*(relative L2 \([^,]*\), at most \([^)]*\)).*/\1 \2 &/p' "$OUT/test_cuda.log" | sort -g | tail -5
B=build sh bench/run_cuda.sh 1 >"$OUT/bench_cuda.log" 2>&1
bench=$?
echo "gpu_first_run: bench-cuda (one round): status $bench"
cat "$OUT/bench_cuda.log"
echo "gpu_first_run: $(($(date +%s) - start)) s in all"
[ "$status" -eq 0 ] && [ "$bench" -eq 0 ]
