#!/bin/sh
# test_cuda_programs.sh - `make test-cuda`, after test_cuda: the CUDA builds of
# train, generate and fid end to end on the GPU. GPU training matches CPU
# training for a few iterations (losses in log.csv to 1e-3; with the small-data
# recipe 1e-3 while ADA's p is 0 and 3e-2 after, p exactly; the averaged G's images
# to 1e-4); the FID of two
# folders is the same with the Frechet distance on the GPU and on the CPU
# (1e-5 relative: 24 images at 64 dims are rank-deficient, and one-ulp changes of a
# covariance moved it by 9e-8 relative on the CPU; another eigen-solver rounds
# otherwise). Prints "test_cuda_programs: N passed, M failed".
B=${B:-build}
C=${C:-$B/cuda}   # (C=build/emu: the same programs on the host emulation of the GPU code, tests/cuda_emu)
# without a usable GPU nothing here can run: say so and exit 77, which tests/run.sh prints as a skip
# (test_cuda --probe exits 77 then; any other failure of the probe is a failure)
probe=$($C/test_cuda --probe 2>&1)
case $? in
    0) ;;
    77) echo "test_cuda_programs: skipped ($probe)"; exit 77 ;;
    *) printf 'FAIL %s --probe:\n%s\ntest_cuda_programs: 0 passed, 1 failed\n' "$C/test_cuda" "$probe"; exit 1 ;;
esac
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
# the small-data recipe: DiffAugment's whole policy, ADA (p moves at the 4th iteration: 16 real
# images / 50) and the averaged G (half-life 10 images), GPU against CPU. Its losses to 1e-3 while
# p is 0 (iterations 1-3), then to 3e-2: on the host emulation the gap grew 1.7e-5, 2.7e-4 (4th),
# 1.3e-3, 2.3e-3 (6th) with cuBLAS's sums reversed and stayed below 1e-6 with them fused (the same
# kernels otherwise; session 38); a GPU's own exp, tanh and cuBLAS algorithms start it further
LITTLE="--diffaugment color,translation,cutout --ada-target 0.6 --ada-kimg 0.05 --ema-kimg 0.01 --ema-rampup 0"
check "train --device cuda, small-data recipe" $C/train $FLAGS $LITTLE --out "$T/gpu_little" --device cuda
check "train --device cpu, small-data recipe" $C/train $FLAGS $LITTLE --out "$T/cpu_little" --device cpu
check "small-data recipe: GPU and CPU losses and ADA's p agree over 6 iterations" python3 - \
    "$T/gpu_little/log.csv" "$T/cpu_little/log.csv" <<'PY'
import sys
g = [l.split(",") for l in open(sys.argv[1]).read().split()[1:]]
c = [l.split(",") for l in open(sys.argv[2]).read().split()[1:]]
assert len(g) == len(c) == 6, (len(g), len(c))
gaps = [max(abs(float(a) - float(b)) for a, b in zip(rg[2:5], rc[2:5])) for rg, rc in zip(g, c)]
print("loss differences by iteration", gaps, "p", [r[8] for r in g], [r[8] for r in c])
assert max(gaps[:3]) < 1e-3 and max(gaps) < 3e-2
assert [r[8:10] for r in g] == [r[8:10] for r in c]
assert float(g[-1][8]) != 0.0 or float(g[-1][9]) != 0.0   # ADA looked at D(real) at the 4th iteration
PY
check "train --device cuda --resume, small-data recipe (p and r_t carried on; the average: test_cuda)" \
    $C/train $FLAGS $LITTLE --out "$T/gpu_little" --device cuda --epochs 3 --resume
check "the resumed small-data run: 9 iterations, p and r_t carried on" python3 - "$T/gpu_little/log.csv" <<'PY'
import sys
rows = [l.split(",") for l in open(sys.argv[1]).read().split()[1:]]
assert len(rows) == 9, len(rows)
assert rows[6][8] == rows[5][8] and rows[6][9] == rows[5][9], (rows[5], rows[6])   # no adjustment at 7
PY
G_LITTLE="--checkpoint $T/gpu_little/checkpoint.safetensors --count 6 --batch 6"
check "generate --device cuda from the averaged G" $C/generate $G_LITTLE --out "$T/gen_gpu" --device cuda \
    --save-raw "$T/gen_gpu.safetensors"
check "generate --device cpu from the same checkpoint" $C/generate $G_LITTLE --out "$T/gen_cpu" --device cpu \
    --save-raw "$T/gen_cpu.safetensors"
check "the averaged G's images: GPU as CPU (relative L2 below 1e-4)" python3 - \
    "$T/gen_gpu.safetensors" "$T/gen_cpu.safetensors" <<'PY'
import json, struct, sys
def images(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n])["images"]
    a, b = meta["data_offsets"]
    data = raw[8 + n + a:8 + n + b]
    return struct.unpack("<%df" % (len(data) // 4), data)
g, c = images(sys.argv[1]), images(sys.argv[2])
err = sum((x - y) ** 2 for x, y in zip(g, c)) ** 0.5 / sum(y * y for y in c) ** 0.5
print("relative L2", err)
assert len(g) == len(c) == 6 * 64 * 64 and err < 1e-4
PY
# bench_cuda's small-data setting, once (its seed setting is minutes on the emulation)
check "bench_cuda --only small: the recipe's iteration timed on the GPU and on the CPU" sh -c \
    "$C/bench_cuda --reps 1 --only small >'$T/bench.txt' && grep -c '^RESULT small_data_iteration_[gc]pu [0-9.]*\$' '$T/bench.txt' | grep -qx 2"
rm -rf "$T"
echo "test_cuda_programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
