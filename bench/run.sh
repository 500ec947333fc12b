#!/bin/sh
# run.sh - `make bench`: alternates the C benchmark and the PyTorch reference
# workload by workload, round by round, on the same machine (the two cores
# sometimes deliver only one core's worth for a while, so neither side gets all
# the good minutes), then
# prints medians, ratios, achieved GFLOP/s and the fraction of the measured
# FMA peak. Usage: bench/run.sh [--full] [ROUNDS]   (default 3 rounds x 2 reps)
# PyTorch at its best here: torch.set_num_threads(THREADS), OMP_WAIT_POLICY=PASSIVE,
# Debian's libopenblas0 present. dcgan.h runs as its users run it: libgomp's
# default wait policy (PASSIVE, which sleeps at every barrier, cost its many
# short parallel loops 10-25% on the classifier step: bench/RESULTS.md).
FULL=""
if [ "$1" = "--full" ]; then FULL="--full"; shift; fi
ROUNDS=${1:-3}
THREADS=${THREADS:-$(nproc)}
B=${B:-build}
OUT=$(mktemp)
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "bench: PyTorch is missing; install it: apt-get install -y python3-torch libopenblas0"
    exit 1
fi
# PyTorch's products run on OpenBLAS, whose kernels must be the CPU's best for
# its ratios to mean anything. OpenBLAS 0.3.21 (Debian 12) does not know newer
# CPUs by their model number and falls back to its generic "Prescott" kernels
# (an Intel Xeon of family 6 model 207: PyTorch's 1536^3 sgemm took 0.21 s
# instead of 0.037 s); and an environment may name older kernels
# (OPENBLAS_CORETYPE=Haswell, AVX2, was set on the AVX-512 AMD EPYC of session
# 32: 0.033 s instead of 0.0195 s). Where the kernels in use are Prescott, or
# have no AVX-512 while OpenBLAS's pick by the CPU's features has (its pick for
# a name it does not know: "Cooperlake" on both machines), PyTorch runs with
# that pick, and the line below says so.
openblas_core() {
    OPENBLAS_VERBOSE=2 /usr/bin/python3 -c "import torch; torch.mm(torch.ones(8, 8), torch.ones(8, 8))" 2>&1 |
        sed -n 's/^Core: //p' | head -n 1
}
avx512_core() { case "$1" in SkylakeX|Cooperlake|SapphireRapids) return 0 ;; *) return 1 ;; esac; }
picked=$(openblas_core)
core=$(export OPENBLAS_CORETYPE=by-features; openblas_core)
if [ -n "$core" ] && [ "$core" != "$picked" ] &&
    { [ "$picked" = "Prescott" ] || { avx512_core "$core" && ! avx512_core "$picked"; }; }; then
    echo "bench: OpenBLAS would run its $picked kernels here${OPENBLAS_CORETYPE:+ (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)};" \
         "PyTorch runs with OPENBLAS_CORETYPE=$core, its pick by the CPU's features" >&2
    export OPENBLAS_CORETYPE="$core"
fi
# C and PyTorch alternate workload by workload (this machine's speed moves by up
# to 1.8x over minutes: alternating whole suites let a slow minute fall on one
# side of a ratio), and each C run measures the FMA peak and its GEMM micro-kernel's
# rate on panels in L1 right before its workload, so "% of peak" and "% kernel"
# divide by those of the same minute.
WORKLOADS="sgemm_1536 seed_iteration dcgan_iteration small_data_iteration classifier_step generator_image inception_image"
run_c() {
    env -u OMP_WAIT_POLICY $B/bench --reps 2 --threads "$THREADS" $FULL --only "$1" |
        sed -e 's/^RESULT /C /' -e "s/^PEAK /PEAK $1 /" -e "s/^KERNEL /KERNEL $1 /" >>"$OUT"
}
run_torch() {
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_ref.py --reps 2 --threads "$THREADS" $FULL --only "$1" |
        sed 's/^RESULT /T /' >>"$OUT"
}
for r in $(seq 1 "$ROUNDS"); do
    for w in $WORKLOADS; do
        echo "round $r/$ROUNDS: $w" >&2
        if [ $((r % 2)) -eq 1 ]; then run_c "$w"; run_torch "$w"; else run_torch "$w"; run_c "$w"; fi   # who goes first alternates
    done
done
python3 - "$OUT" "$THREADS" "$ROUNDS" <<'PY'
import statistics, sys
c, t, flops, peaks, kernels, zmm = {}, {}, {}, {}, {}, []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "C": c.setdefault(f[1], []).append(float(f[2]))
    elif f[0] == "T": t.setdefault(f[1], []).append(float(f[2]))
    elif f[0] == "FLOPS": flops[f[1]] = float(f[2])
    elif f[0] == "PEAK": peaks.setdefault(f[1], []).append(float(f[2]))
    elif f[0] == "KERNEL": kernels.setdefault(f[1], []).append(float(f[2]))
    elif f[0] == "ZMM": zmm.append((int(f[1]), int(f[2]), int(f[3]), int(f[4]) if len(f) > 4 else 0))
# a workload whose C or PyTorch run failed (its messages are above) has no results: say so
# rather than print a table without it
names = ("sgemm_1536", "seed_iteration", "dcgan_iteration", "small_data_iteration", "classifier_step",
         "generator_image", "inception_image")
missing = ["%s (%s)" % (n, side) for n in names for side, got in (("dcgan.h", c), ("PyTorch", t)) if n not in got]
if missing or not peaks:
    print("bench: no results for " + (", ".join(missing) or "the FMA peak") + "; see the messages above")
    sys.exit(1)
peak = statistics.median([p for v in peaks.values() for p in v])
# PyTorch on Debian's reference BLAS (libopenblas0 missing) is 20-50x slower at a plain product:
# every ratio would then flatter dcgan.h, so the run is refused rather than reported
if "sgemm_1536" in c and "sgemm_1536" in t:
    slow = statistics.median(t["sgemm_1536"]) / statistics.median(c["sgemm_1536"])
    if slow > 5:
        print("bench: PyTorch's 1536^3 sgemm took %.1fx dcgan.h's: its BLAS is not OpenBLAS "
              "(apt-get install -y libopenblas0); no ratios reported" % slow)
        sys.exit(1)
print("threads %s; PyTorch with torch.set_num_threads(%s), OMP_WAIT_POLICY=PASSIVE; dcgan.h with libgomp's "
      "default policy; medians of %d/%d runs"
      % (sys.argv[2], sys.argv[2], len(next(iter(c.values()))), len(next(iter(t.values())))))
print("measured float32 FMA peak: %.1f GFLOP/s (median; each line's %% of peak uses the peaks measured "
      "right before its own runs)" % peak)
if kernels:
    print("the GEMM's micro-kernel on panels in L1: %.1f GFLOP/s (median), %.0f%% of the peak; \"%% kernel\" "
          "divides by the rate measured right before each line's runs"
          % (statistics.median([k for v in kernels.values() for k in v]),
             100 * statistics.median([k for v in kernels.values() for k in v]) / peak))
if zmm:   # dcgan.h's measurement of whether 512-bit FMAs run at full width (the 6 x 32 kernel)
    full = sum(z[0] for z in zmm)
    print("512-bit FMAs at full width in %d of %d C runs (zmm/ymm ticks %.2f-%.2fx%s): products with K >= 129 "
          "took the %s kernel" % (full, len(zmm), min(z[2] / z[1] for z in zmm), max(z[2] / z[1] for z in zmm),
                                  "; in halves by the CPU's maker and family" if all(z[3] for z in zmm) else "",
                                  "6 x 32" if full == len(zmm) else "6 x 16" if full == 0 else "6 x 32 or 6 x 16"))
print("%-18s %12s %12s %8s %10s %7s %9s   %s" % ("benchmark", "dcgan.h s", "PyTorch s", "ratio", "GFLOP/s",
                                               "% peak", "% kernel", "ratio by round"))
# each round's ratio (its C runs against its PyTorch runs, taken minutes apart from the other
# rounds'): how far the median ratio could move with the machine's minute
rounds = int(sys.argv[3])
def by_round(v):
    n = len(v) // rounds
    return [statistics.median(v[r * n:(r + 1) * n]) for r in range(rounds)] if n else [statistics.median(v)]
def round_ratios(name, best):
    tc = by_round(c[name])
    tt = by_round(t[name])
    if best and name + "_tuned" in t:
        tt = [min(a, b) for a, b in zip(tt, by_round(t[name + "_tuned"]))]
    return [b / a for a, b in zip(tc, tt)]
worst, worst_tuned, worst_name = None, None, None
for name in names:
    mc, mt = statistics.median(c[name]), statistics.median(t[name])
    ratio = mt / mc
    gf = flops.get(name, 0) / mc / 1e9
    if name != "sgemm_1536":   # the GEMM line is judged by % of peak, not against OpenBLAS
        worst = ratio if worst is None else min(worst, ratio)
        # against PyTorch at its best: the faster of it and its tuned twin (D frozen in the G step)
        best = min(mt, statistics.median(t[name + "_tuned"])) / mc if name + "_tuned" in t else ratio
        if worst_tuned is None or best < worst_tuned: worst_tuned, worst_name = best, name
    own_peak = statistics.median(peaks.get(name, [peak]))
    own_kernel = statistics.median(kernels[name]) if kernels.get(name) else 0.0
    rr = round_ratios(name, 0)
    print("%-18s %12.4f %12.4f %7.2fx %10.1f %6.0f%% %8s   %.2f-%.2fx" % (
        name, mc, mt, ratio, gf, 100 * gf / own_peak, "%.0f%%" % (100 * gf / own_kernel) if own_kernel else "-",
        min(rr), max(rr)))
    if name + "_tuned" in t:   # PyTorch with D frozen in the G step (requires_grad_(False))
        mtt = statistics.median(t[name + "_tuned"])
        print("%-18s %12s %12.4f %7.2fx   (PyTorch tuned: D frozen in the G step)" % ("", "", mtt, mtt / mc))
print("slowest ratio vs PyTorch: %.2fx" % worst)
rr = round_ratios(worst_name, 1)
print("slowest ratio vs PyTorch at its best (the faster of it and its tuned twin): %.2fx (%s; its rounds "
      "%.2f-%.2fx)" % (worst_tuned, worst_name, min(rr), max(rr)))
PY
status=$?   # the summary's refusals (no OpenBLAS, missing results) make make bench fail
cp "$OUT" "$B/bench_raw.txt" 2>/dev/null   # every run's own lines (PEAK, KERNEL, ZMM, C, T), to look into a median
rm -f "$OUT"
exit $status
