#!/bin/sh
# test_guard.sh - the accidents a user makes during a long run, on phantoms:
# Ctrl-C (SIGINT) at random moments of `train` (each time: exit 130, "stopped
# at iteration N; continue with --resume", a checkpoint at iteration N, log.csv
# with exactly rows 1..N; a final --resume finishes with rows 1..total), SIGTERM
# likewise, a second Ctrl-C stopping at once with the checkpoint intact, two runs
# on one --out (the second refused naming the first's process; after kill -9 of
# the first, a new run starts), a run too large for the memory refused with the
# numbers, `classify train` stopped by Ctrl-C / SIGTERM / kill -9 and resumed to the
# same checkpoint as a run never stopped, and a full disk under log.csv (train stops,
# status 1, the checkpoint never past the log), and a failed run removing the
# output folder it made. Prints "test_guard: N passed, M failed".
B=${B:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_guard.XXXXXX")
. tests/checks.sh
# log_iterations LOG: "1..N" when log.csv's rows after the header hold iterations 1, 2, ..., N
# in order (its second column), else "not in order"
log_iterations() {
    awk -F, 'NR > 1 { if ($2 != NR - 1) bad = 1 } END { print (bad || NR < 2) ? "not in order" : "1.." NR - 1 }' "$1"
}

$B/phantom --out "$T/data" --normal 48 --pneumonia 48 --val 0 --test 16 --size 64 >/dev/null
# 6 iterations each: 2,400 in all. A run must outlast the waits below (up to
# 120 rows, then a pause of up to 1.5 s): with 600 iterations (2.5 ms each on
# an Intel Xeon of 2026) the second and third runs had finished before their
# signal came.
EPOCHS=400
TOTAL=$((EPOCHS * 6))
FLAGS="--data $T/data/train --class NORMAL --arch dcgan --size 64 --channels 1 --width 0.0625 --batch 8
--lr-d 2e-4 --lr-g 2e-4 --adam pytorch --sample-every 1000 --ckpt-every 1000 --epochs $EPOCHS"
RUN="$T/run"

# Waits until OUT/log.csv has at least $2 data rows (the run is training), at most 60 s.
wait_rows() {
    i=0
    while [ $i -lt 600 ]; do
        if [ -f "$1/log.csv" ] && [ "$(wc -l <"$1/log.csv")" -gt "$2" ]; then return; fi
        sleep 0.1
        i=$((i + 1))
    done
}
# A pause of 0 to 1.5 s, different each call.
pause() { sleep "$(awk -v s="$1" 'BEGIN { srand(s); printf "%.2f", rand() * 1.5 }')"; }
# The iteration stored in a checkpoint, read by generate ("(iteration N)").
ckpt_iteration() {
    $B/generate --checkpoint "$1" --count 1 --out "$T/gen" --replace 2>/dev/null | sed -n 's/.*(iteration \([0-9]*\)).*/\1/p'
}
# log.csv has exactly the iterations 1..N in order
log_is() {
    awk -F, -v n="$2" 'NR > 1 { if ($2 != NR - 1) bad = 1 } END { exit !(!bad && NR - 1 == n) }' "$1/log.csv"
}

resume=""
for k in 1 2 3; do
    # shellcheck disable=SC2086
    $B/train $FLAGS --out "$RUN" $resume >"$T/out$k.txt" 2>&1 &
    pid=$!
    wait_rows "$RUN" $((k * 40))
    pause $k
    sig=INT
    [ $k -eq 3 ] && sig=TERM
    kill -$sig $pid
    wait $pid
    rc=$?
    want=130
    [ $sig = TERM ] && want=143
    check "train/SIG$sig $k: exit status $want" test $rc -eq $want
    n=$(sed -n 's/^train: stopped at iteration \([0-9]*\); continue with --resume$/\1/p' "$T/out$k.txt")
    check "train/SIG$sig $k: says where it stopped and how to continue" test -n "$n"
    check "train/SIG$sig $k: the checkpoint is at that iteration" test "$(ckpt_iteration "$RUN/checkpoint.safetensors")" = "$n"
    check "train/SIG$sig $k: log.csv has exactly iterations 1..$n" log_is "$RUN" "${n:-0}"
    check "train/SIG$sig $k: no temporary file left" test ! -e "$RUN/checkpoint.safetensors.tmp"
    resume=--resume
done
# shellcheck disable=SC2086
check "train/--resume after the interrupts finishes" $B/train $FLAGS --out "$RUN" --resume
check "train/after the interrupts: log.csv has exactly iterations 1..$TOTAL" log_is "$RUN" "$TOTAL"

# a second Ctrl-C right after the first: stops (status 130) and the checkpoint still loads
# shellcheck disable=SC2086
$B/train $FLAGS --out "$T/twice" >/dev/null 2>&1 &
pid=$!
wait_rows "$T/twice" 20
kill -INT $pid
kill -INT $pid
wait $pid
check "train/two Ctrl-C: exit status 130" test $? -eq 130
check "train/two Ctrl-C: the checkpoint loads" test -n "$(ckpt_iteration "$T/twice/checkpoint.safetensors")"

# two runs on one folder: the second is refused and names the first
# shellcheck disable=SC2086
$B/train $FLAGS --out "$T/shared" >/dev/null 2>&1 &
pid=$!
wait_rows "$T/shared" 5
# shellcheck disable=SC2086
fails_with_line "train/a second run on the same --out is refused, naming the first" \
    "train: another run (process $pid) is writing to '$T/shared'; wait for it to end or give another --out" \
    $B/train $FLAGS --out "$T/shared"
kill -9 $pid
wait $pid 2>/dev/null
# shellcheck disable=SC2086
check "train/after kill -9 of the first, a new run starts and finishes (no stale lock)" \
    $B/train $FLAGS --out "$T/shared" --resume

# a run that cannot fit in memory is refused at once, with the numbers and the flags to change
$B/train --data "$T/data/train" --class NORMAL --out "$T/huge" --arch seed --size 256 --width 4 \
    --batch 100000 --epochs 1 >"$T/huge.txt" 2>&1
check "train/an impossible memory request fails" test $? -ne 0
check "train/an impossible memory request says what it needs, what there is, and what to lower" \
    grep -qE "^train: needs about [0-9.]+ GiB \(models, Adam and activations for a batch of 100000 at 3x256x256, width 4: [0-9.]+ GiB; 48 decoded images: [0-9.]+ GiB\) but this machine has [0-9.]+ GiB available; lower --batch, --width or --size$" "$T/huge.txt"
check "train/an impossible memory request allocates nothing first (no checkpoint)" test ! -e "$T/huge/checkpoint.safetensors"

# a run that fails before it writes anything (a mistyped --data) removes the output folder
# it made, and its parents it made, while they are empty: no empty folder holding only
# .lock is left behind (it was, in the default out/train). A folder that existed stays.
$B/train --data "$T/no_such" --class NORMAL --out "$T/made/a/b" --epochs 1 >/dev/null 2>&1
check "train/a failed run into a new folder: status 1" test $? -eq 1
check "train/... the folders it made are gone (none of $T/made is left)" test ! -e "$T/made"
mkdir -p "$T/kept/sub"
$B/train --data "$T/no_such" --class NORMAL --out "$T/kept/a/" --epochs 1 >/dev/null 2>&1
check "train/a failed run under an existing folder: removes only what it made" \
    test -d "$T/kept/sub" -a ! -e "$T/kept/a"
$B/train --data "$T/no_such" --class NORMAL --out "$T/kept/sub" --epochs 1 >/dev/null 2>&1
check "train/a failed run into an existing folder: the folder stays" test -d "$T/kept/sub"
BIN=$(cd "$B" && pwd)
( cd "$T" && "$BIN/train" --data "$T/no_such" --class NORMAL --epochs 1 >/dev/null 2>&1 )
check "train/a failed run with the default --out (out/train): leaves no out folder" test ! -e "$T/out"
# a path through '..' ends in a folder the run did not make: nothing is removed (new/../kept
# removed the existing, empty 'kept'); a part too long to make no longer stops the removal of
# the new parent before it (newt/xxx... left 'newt')
mkdir "$T/kept_empty"
$B/train --data "$T/no_such" --class NORMAL --out "$T/newp/../kept_empty" --epochs 1 >/dev/null 2>&1
check "train/a failed run into new/../existing: the existing folder stays" test -d "$T/kept_empty"
long=$(printf 'x%.0s' $(seq 300))
$B/train --data "$T/no_such" --class NORMAL --out "$T/newt/$long" --epochs 1 >/dev/null 2>&1
check "train/a failed run whose last part is too long: the new parent goes too" test ! -e "$T/newt"

# classify train: Ctrl-C or SIGTERM stops after the step with OUT/resume.safetensors,
# and --resume continues exactly: the same checkpoint, byte for byte, as a run never
# stopped. Three stops inside epochs (a test hook sends SIGINT after N steps), then one
# SIGTERM at a random moment. Oversampling and augmentation: the order and the RNG matter.
CF="--data $T/data/train --size 32 --width 4 --epochs 30 --batch 8 --threads 1 --augment classic --balance oversample"
# shellcheck disable=SC2086
$B/classify train $CF --out "$T/cls_full" >/dev/null 2>&1
# log.csv has exactly epochs 1..N in order
cls_log_is() {
    awk -F, -v n="$2" 'NR > 1 { if ($1 != NR - 1) bad = 1 } END { exit !(!bad && NR - 1 == n) }' "$1/log.csv"
}
resume=""
for k in 1 2 3; do
    # shellcheck disable=SC2086
    CLASSIFY_TEST_SIGINT_AFTER=$((k * 37)) $B/classify train $CF --out "$T/cls" $resume >"$T/cls$k.txt" 2>&1
    rc=$?
    check "classify train/Ctrl-C $k: exit status 130" test $rc -eq 130
    line=$(sed -n 's/^classify train: stopped at epoch \([0-9]*\), step \([0-9]*\); continue with --resume$/\1 \2/p' "$T/cls$k.txt")
    e=${line% *}
    check "classify train/Ctrl-C $k: says where it stopped and how to continue ($line)" test -n "$line"
    check "classify train/Ctrl-C $k: stopped inside an epoch (step > 0)" test "${line#* }" -gt 0
    check "classify train/Ctrl-C $k: resume.safetensors written, no checkpoint yet" \
        test -f "$T/cls/resume.safetensors" -a ! -e "$T/cls/checkpoint.safetensors"
    check "classify train/Ctrl-C $k: log.csv has exactly epochs 1..$((e - 1))" cls_log_is "$T/cls" $((e - 1))
    resume=--resume
done
# shellcheck disable=SC2086
fails_with_line "classify train/a new run over a stopped one is refused" \
    "classify train: '$T/cls' holds a stopped run ($T/cls/resume.safetensors); continue it with --resume, or delete that file to start over" \
    $B/classify train $CF --out "$T/cls"
# shellcheck disable=SC2086
fails_with_line "classify train/--resume with another flag is refused, naming it" \
    "classify train: --resume: the stopped run in '$T/cls/resume.safetensors' has --width 4, this run --width 8; resume with the same flags" \
    $B/classify train $CF --width 8 --out "$T/cls" --resume
# shellcheck disable=SC2086
check "classify train/--resume after the stops finishes" $B/classify train $CF --out "$T/cls" --resume
check "classify train/after the stops: the checkpoint equals the uninterrupted run's, byte for byte" \
    cmp -s "$T/cls/checkpoint.safetensors" "$T/cls_full/checkpoint.safetensors"
check "classify train/after the stops: log.csv has exactly epochs 1..30" cls_log_is "$T/cls" 30
check "classify train/after the stops: resume.safetensors is gone" test ! -e "$T/cls/resume.safetensors"
# shellcheck disable=SC2086
fails_with_line "classify train/--resume of a finished run says so" \
    "classify train: --resume: the run in '$T/cls' has finished ($T/cls/checkpoint.safetensors); nothing to resume" \
    $B/classify train $CF --out "$T/cls" --resume
# shellcheck disable=SC2086
fails_with_line "classify train/--resume with nothing to resume says so" \
    "classify train: --resume: no stopped run in '$T/none' (no $T/none/resume.safetensors)" \
    $B/classify train $CF --out "$T/none" --resume
check "classify train/after the stops: the checkpoint evaluates" \
    $B/classify eval --checkpoint "$T/cls/checkpoint.safetensors" --data "$T/data/test" --bootstrap 50
# SIGTERM at a random moment of a long run: status 143 and a state to resume from
# shellcheck disable=SC2086
$B/classify train $CF --epochs 2000 --out "$T/clsT" >"$T/clsT.txt" 2>&1 &
pid=$!
wait_rows "$T/clsT" 3
pause 7
kill -TERM $pid
wait $pid
check "classify train/SIGTERM: exit status 143" test $? -eq 143
check "classify train/SIGTERM: says where it stopped" \
    grep -q "^classify train: stopped at epoch [0-9]*, step [0-9]*; continue with --resume$" "$T/clsT.txt"
# a kill -9 loses at most the epoch in progress: the state written after the last finished one resumes
# shellcheck disable=SC2086
$B/classify train $CF --epochs 2000 --out "$T/cls9" >/dev/null 2>&1 &
pid=$!
wait_rows "$T/cls9" 3
kill -9 $pid
wait $pid 2>/dev/null
# shellcheck disable=SC2086
CLASSIFY_TEST_SIGINT_AFTER=1 $B/classify train $CF --epochs 2000 --out "$T/cls9" --resume >"$T/cls9.txt" 2>&1
check "classify train/after kill -9: --resume continues (and stops again on Ctrl-C)" \
    grep -q "^classify train: stopped at epoch [0-9]*, step [0-9]*; continue with --resume$" "$T/cls9.txt"

# log.csv that cannot be written (a full disk: /dev/full): the run stops with the file and
# the reason, status 1, before a checkpoint moves past the rows the log holds (it ended with
# status 0 and an empty log: a helper's audit)
SMALL="--data $T/data/train --class NORMAL --arch dcgan --size 64 --channels 1 --width 0.0625 --batch 8
--lr-d 2e-4 --lr-g 2e-4 --adam pytorch --sample-every 1000 --ckpt-every 1000 --threads 1"
mkdir "$T/full"
ln -s /dev/full "$T/full/log.csv"
# shellcheck disable=SC2086
$B/train $SMALL --out "$T/full" --epochs 2 >"$T/full.txt" 2>&1
rc=$?
check "train/log.csv on a full disk: status 1, the file and the reason" \
    test $rc -eq 1 -a -n "$(grep -xF "train: writing '$T/full/log.csv' failed: No space left on device" "$T/full.txt")"
check "train/... and no checkpoint past the log" test ! -e "$T/full/checkpoint.safetensors"
# ... and when the disk fills in the middle of a run (a file-size limit a little above the log
# of a run resumed; SIGXFSZ ignored, so writes fail with EFBIG): the run stops at the end of
# the epoch whose rows did not fit, status 1, the checkpoint as it was (none is saved past the
# log's rows), and a --resume with room again ends with iterations 1..24 in order (the cut-off
# row dropped)
# shellcheck disable=SC2086
$B/train $SMALL --out "$T/mid" --epochs 2 >/dev/null 2>&1
cp "$T/mid/checkpoint.safetensors" "$T/mid_ckpt"
lim=$(( $(wc -c <"$T/mid/log.csv") / 512 + 2 ))   # (sh's ulimit -f counts 512-byte blocks)
# shellcheck disable=SC2086
(ulimit -f "$lim"; trap '' XFSZ; exec $B/train $SMALL --out "$T/mid" --epochs 400 --resume) >"$T/mid.txt" 2>&1
rc=$?
check "train/log.csv filling up mid-run: status 1, the file and the reason" \
    test $rc -eq 1 -a -n "$(grep -xF "train: writing '$T/mid/log.csv' failed: File too large" "$T/mid.txt")"
check "train/... the checkpoint as it was, the log past it" \
    sh -c "cmp -s '$T/mid_ckpt' '$T/mid/checkpoint.safetensors' && test \$(wc -l <'$T/mid/log.csv') -gt 13"
# shellcheck disable=SC2086
$B/train $SMALL --out "$T/mid" --epochs 4 --resume >/dev/null 2>&1
rc=$?
check "train/... then --resume with room ends with exactly iterations 1..24 in log.csv" \
    test $rc -eq 0 -a "$(log_iterations "$T/mid/log.csv")" = "1..24"
# --resume cuts log.csv back to the checkpoint through log.csv.tmp; when that write fails the
# run stops and both files stay as they were (it warned, went on and appended to a log that
# still held rows past the checkpoint: iterations 13 and 14 twice)
# shellcheck disable=SC2086
$B/train $SMALL --out "$T/cut" --epochs 2 >/dev/null 2>&1
tail -2 "$T/cut/log.csv" | sed -e 's/^2,11,/3,13,/' -e 's/^2,12,/3,14,/' >>"$T/cut/log.csv"
cp "$T/cut/log.csv" "$T/cut_log"
cp "$T/cut/checkpoint.safetensors" "$T/cut_ckpt"
ln -s /dev/full "$T/cut/log.csv.tmp"
# shellcheck disable=SC2086
fails_with_line "train/--resume whose log cannot be cut back stops" \
    "train: rewriting '$T/cut/log.csv' failed: No space left on device; it was left as it was" \
    $B/train $SMALL --out "$T/cut" --epochs 3 --resume
check "train/... log.csv and the checkpoint unchanged" \
    sh -c "cmp -s '$T/cut_log' '$T/cut/log.csv' && cmp -s '$T/cut_ckpt' '$T/cut/checkpoint.safetensors'"
# shellcheck disable=SC2086
$B/train $SMALL --out "$T/cut" --epochs 3 --resume >/dev/null 2>&1
rc=$?
check "train/... and once it can be written, --resume continues with exactly iterations 1..18 in log.csv" \
    test $rc -eq 0 -a "$(log_iterations "$T/cut/log.csv")" = "1..18"

rm -rf "$T"
echo "test_guard: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
