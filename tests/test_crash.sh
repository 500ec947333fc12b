#!/bin/bash
# test_crash.sh - nothing that happens to the training process may cost a
# finished checkpoint.
#   1. Kill test: `train` is killed with SIGKILL at random moments, KILLS times
#      (default 200); it checkpoints every 2 iterations, so many kills land in a
#      checkpoint write. After every kill the checkpoint on disk must load
#      (`generate` reads it) and the next run continues from it with --resume.
#      At the end one --resume runs to completion and the log has exactly one
#      row per iteration.
#   2. Failing writes: a file-size limit (ulimit -f, the same EFBIG a full disk
#      gives as ENOSPC) and a checkpoint.safetensors.tmp that cannot be created;
#      train must fail with a message naming the file, and leave the previous
#      checkpoint byte for byte as it was.
# Run from the repo root after `make`. Prints "test_crash: N passed, M failed".
B=${B:-build}
KILLS=${KILLS:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_crash.XXXXXX")
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

$B/phantom --out "$T/data" --normal 16 --pneumonia 2 --val 0 --test 0 --size 64 >/dev/null
# 16 images, batch 8: 2 iterations an epoch, a checkpoint every epoch
FLAGS="--data $T/data/train --class NORMAL --arch dcgan --size 64 --channels 1 --width 0.25 --batch 8
       --lr-d 2e-4 --lr-g 2e-4 --adam pytorch --sample-every 1000 --ckpt-every 1 --out $T/run --threads 1"
CK="$T/run/checkpoint.safetensors"

# the checkpoint's iteration, read from the safetensors JSON header
iteration_of() {
    head -c 4096 "$1" | tr ',' '\n' | sed -n 's/.*"iteration":"\([0-9]*\)".*/\1/p'
}

# 1. Kill test
$B/train $FLAGS --epochs 1 >/dev/null 2>&1 || fail "kill/first run"
kills=0
during_write=0
loadable=0
resumed=0
refused=0
last_iter=0
RANDOM=12345
for ((k = 1; k <= KILLS; k++)); do
    $B/train $FLAGS --epochs 1000000 --resume >"$T/train.out" 2>&1 &
    pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % 400 + 20)))"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    kills=$((kills + 1))
    [ -e "$CK.tmp" ] && during_write=$((during_write + 1))
    # a kill during start-up may come before the "resume:" line; what must
    # never appear is a refused checkpoint
    grep -q "^resume: from iteration" "$T/train.out" && resumed=$((resumed + 1))
    if grep -q -- "--resume:" "$T/train.out"; then
        refused=$((refused + 1))
        echo "kill $k: --resume refused the checkpoint:"; cat "$T/train.out"
    fi
    if $B/generate --checkpoint "$CK" --count 1 --out "$T/gen" --replace >/dev/null 2>"$T/gen.err"; then
        it=$(iteration_of "$CK")
        if [ -n "$it" ] && [ "$it" -ge "$last_iter" ]; then
            loadable=$((loadable + 1))
            last_iter=$it
        else
            echo "kill $k: checkpoint iteration '$it' after $last_iter"
        fi
    else
        echo "kill $k: checkpoint does not load:"; cat "$T/gen.err"
    fi
done
echo "test_crash: $kills kills ($during_write during a checkpoint write), $loadable checkpoints loadable," \
     "$resumed runs resumed before being killed, $refused refused; reached iteration $last_iter"
[ "$loadable" -eq "$kills" ] && pass || fail "kill/every checkpoint loads after a kill"
[ "$refused" -eq 0 ] && [ "$resumed" -gt $((kills / 2)) ] && pass || fail "kill/--resume after a kill continues"
[ "$last_iter" -gt 0 ] && pass || fail "kill/training made progress between kills"
final=$((last_iter / 2 + 2))
if $B/train $FLAGS --epochs $final --resume >"$T/train.out" 2>&1; then pass; else fail "kill/final --resume runs to the end"; cat "$T/train.out"; fi
[ "$(iteration_of "$CK")" = "$((final * 2))" ] && pass || fail "kill/final checkpoint at iteration $((final * 2))"
rows=$(($(wc -l <"$T/run/log.csv") - 1))
[ "$rows" -eq $((final * 2)) ] && pass || fail "kill/log.csv has one row per iteration ($rows rows, $((final * 2)) iterations)"
cut -d, -f2 "$T/run/log.csv" | tail -n +2 >"$T/iters.txt"
seq 1 $((final * 2)) | cmp -s - "$T/iters.txt" && pass || fail "kill/log.csv iterations run 1, 2, 3, ... without gaps or repeats"

# 2. Failing writes
cp "$CK" "$T/before.safetensors"
# 2a. a file-size limit far below the checkpoint's size: SIGXFSZ ignored, so
#     write() fails with EFBIG, as on a full disk
#     (above log.csv, whose appends come first since train checks them, and far
#     below the checkpoint: on a faster machine the log outgrew a fixed 64 KiB)
lim=$(( $(wc -c <"$T/run/log.csv") / 1024 + 16 ))
[ "$lim" -lt $(( $(wc -c <"$CK") / 2048 )) ] && pass || fail "write/full: the limit ($lim KiB) is below half the checkpoint"
(ulimit -f "$lim"; trap '' XFSZ; exec $B/train $FLAGS --epochs $((final + 1)) --resume) >"$T/full.out" 2>&1
rc=$?
[ $rc -ne 0 ] && pass || fail "write/full: train exits non-zero"
grep -q "writing '.*checkpoint.safetensors.tmp' failed (disk full" "$T/full.out" && pass ||
    { fail "write/full: message names the file"; cat "$T/full.out"; }
cmp -s "$CK" "$T/before.safetensors" && pass || fail "write/full: previous checkpoint untouched"
[ ! -e "$CK.tmp" ] && pass || fail "write/full: no .tmp left behind"
# 2b. the temporary file cannot be created (a folder in its place; even root
#     cannot open a folder for writing)
mkdir "$CK.tmp"
$B/train $FLAGS --epochs $((final + 1)) --resume >"$T/ro.out" 2>&1
rc=$?
rmdir "$CK.tmp"
[ $rc -ne 0 ] && pass || fail "write/uncreatable: train exits non-zero"
grep -q "cannot create '.*checkpoint.safetensors.tmp'" "$T/ro.out" && pass ||
    { fail "write/uncreatable: message names the file"; cat "$T/ro.out"; }
cmp -s "$CK" "$T/before.safetensors" && pass || fail "write/uncreatable: previous checkpoint untouched"
# 2c. after the failures, the same command succeeds and continues
$B/train $FLAGS --epochs $((final + 1)) --resume >/dev/null 2>&1 && pass || fail "write/resume after the failures"
[ "$(iteration_of "$CK")" = "$(((final + 1) * 2))" ] && pass || fail "write/resumed to the end"
# 2d. fid --save-stats under the same limit leaves no partial .npz
(ulimit -f 4; trap '' XFSZ; exec $B/fid --fill-deterministic --dims 768 --save-stats "$T/data/train/NORMAL" "$T/s.npz") \
    >"$T/npz.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ ! -e "$T/s.npz" ] && [ ! -e "$T/s.npz.tmp" ] && grep -q "s.npz.tmp' failed" "$T/npz.out" && pass ||
    { fail "write/--save-stats on a full disk fails cleanly"; cat "$T/npz.out"; }

rm -rf "$T"
echo "test_crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
