#!/bin/sh
# test_cuda_programs.sh - `make test-cuda`, after test_cuda: the CUDA builds of
# train, generate and fid end to end on the GPU. GPU training matches CPU
# training for a few iterations (losses in log.csv to 1e-3); the FID of two
# folders is the same with the Frechet distance on the GPU and on the CPU
# (1e-5 relative: 24 images at 64 dims are rank-deficient, and one-ulp changes of a
# covariance moved it by 9e-8 relative on the CPU; another eigen-solver rounds
# otherwise). Prints "test_cuda_programs: N passed, M failed".
B=${B:-build}
C=${C:-$B/cuda}   # (C=build/emu: the same programs on the host emulation of the GPU code, tests/cuda_emu)
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_cuda.XXXXXX")
passed=0
failed=0
check() {
    label=$1
    shift
    if "$@" >"$T/out.txt" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $label"; cat "$T/out.txt"; fi
}
$B/phantom --out "$T/data" --normal 24 --pneumonia 24 --val 0 --test 0 --size 64 >/dev/null
FLAGS="--data $T/data/train --class NORMAL --arch dcgan --size 64 --channels 1 --width 0.25 --batch 8 --epochs 2 --lr-d 2e-4 --lr-g 2e-4 --adam pytorch"
check "train --device cuda" $C/train $FLAGS --out "$T/gpu" --device cuda
check "train --device cpu (same binary)" $C/train $FLAGS --out "$T/cpu" --device cpu
check "GPU and CPU losses agree over 6 iterations" python3 - "$T/gpu/log.csv" "$T/cpu/log.csv" <<'PY'
import sys
g = [l.split(",") for l in open(sys.argv[1]).read().split()[1:]]
c = [l.split(",") for l in open(sys.argv[2]).read().split()[1:]]
assert len(g) == len(c) == 6, (len(g), len(c))
worst = max(abs(float(a) - float(b)) for rg, rc in zip(g, c) for a, b in zip(rg[2:5], rc[2:5]))
print("largest loss difference", worst)
assert worst < 1e-3
PY
check "generate --device cuda" $C/generate --checkpoint "$T/gpu/checkpoint.safetensors" --count 20 --out "$T/gen" --device cuda
F="--fill-deterministic --dims 64"
$C/fid $F --device cuda "$T/data/train/NORMAL" "$T/data/train/PNEUMONIA" >"$T/fid_gpu.txt" 2>/dev/null
$C/fid $F --device cpu "$T/data/train/NORMAL" "$T/data/train/PNEUMONIA" >"$T/fid_cpu.txt" 2>/dev/null
check "fid: GPU Frechet distance equals the CPU one to 1e-5" python3 - "$T/fid_gpu.txt" "$T/fid_cpu.txt" <<'PY'
import sys
g, c = [float(open(p).read().split("FID:")[1].split()[0]) for p in sys.argv[1:3]]
print("FID GPU %.12g CPU %.12g" % (g, c))
assert abs(g - c) <= 1e-5 * abs(c)
PY
check "train --device cuda --resume" $C/train $FLAGS --out "$T/gpu" --device cuda --epochs 3 --resume
rm -rf "$T"
echo "test_cuda_programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
