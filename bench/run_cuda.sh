#!/bin/sh
# run_cuda.sh - `make bench-cuda` on a machine with an NVIDIA GPU and PyTorch
# (CUDA build): the study's seed iteration at batch 128 in dcgan.h and in
# PyTorch eager, alternated for ROUNDS rounds, TF32 off on both sides and then
# on on both; medians, the ratio, and the projected time of the study's 500
# epochs on 1,341 images (floor(1341/128) = 10 iterations an epoch). Then
# README's small-data recipe (64x64 gray, batch 32, DiffAugment + ADA + EMA) on
# the GPU against this machine's CPU (no PyTorch twin: it has no DiffAugment).
ROUNDS=${1:-3}
B=${B:-build}
OUT=$(mktemp)
RUN=$(mktemp)
fid=""   # the Frechet distance once (it runs partly on the CPU: tens of seconds)
for tf in "" "--tf32"; do
    for r in $(seq 1 "$ROUNDS"); do
        # (a pipe's status is sed's: the program's output goes through a file, so a failure stops the bench)
        if ! $B/cuda/bench_cuda --reps 10 $tf $fid >"$RUN"; then
            echo "bench-cuda: $B/cuda/bench_cuda --reps 10 $tf $fid failed" >&2
            rm -f "$OUT" "$RUN"
            exit 1
        fi
        fid="--no-fid"
        sed "s/^RESULT /C$tf /" "$RUN" >>"$OUT"
        if python3 bench/torch_cuda.py --reps 10 $tf >"$RUN"; then sed "s/^RESULT /T$tf /" "$RUN" >>"$OUT"
        else echo "bench-cuda: PyTorch (CUDA) failed" >&2; fi
    done
done
rm -f "$RUN"
grep -h "^DEVICE\|^FID2048" "$OUT" | sort -u
python3 - "$OUT" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 3 and f[0][0] in "CT":
        runs.setdefault((f[0], f[1]), []).append(float(f[2]))
print("%-34s %12s %12s %8s %14s" % ("benchmark", "dcgan.h s", "PyTorch s", "ratio", "500 epochs"))
for tf in ("", "--tf32"):
    c, t = runs.get(("C" + tf, "seed_iteration_b128")), runs.get(("T" + tf, "seed_iteration_b128"))
    if not c: continue
    mc = statistics.median(c)
    mt = statistics.median(t) if t else float("nan")
    print("%-34s %12.4f %12.4f %7.2fx %12.1f min" % ("seed 128x128x3 b128, TF32 " + ("on" if tf else "off"),
          mc, mt, mt / mc, 5000 * mc / 60))
for tf in ("", "--tf32"):
    g, c = runs.get(("C" + tf, "small_data_iteration_gpu")), runs.get(("C" + tf, "small_data_iteration_cpu"))
    if not g or not c: continue
    mg, mc = statistics.median(g), statistics.median(c)
    print("%-34s %12.4f %12s %7.2fx %12.1f min   (CPU %.4f s)" % ("small-data 64x64 b32 GPU, TF32 " + ("on" if tf else "off"),
          mg, "-", mc / mg, 3480 * mg / 60, mc))
for k in ("frechet2048_gpu", "frechet2048_cpu"):
    v = runs.get(("C", k))
    if v: print("%-34s %12.4f" % (k, statistics.median(v)))
PY
rm -f "$OUT"
