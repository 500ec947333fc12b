#!/bin/sh
# run.sh - runs the test programs given on the command line, adds up their
# "N passed, M failed" lines and prints the total as the last line. A program
# that crashes or prints no count counts as one failure. With RUN_SKIP_OK set
# (make test-cuda: no GPU here), one that exits with status 77 and prints no
# count (or "0 passed, 0 failed") was skipped: it is printed as a skip, counted
# in a "K skipped" line, never as a pass; without it (make test, whose programs
# never skip) that is a failure. Exit 1 on any failure.
# Programs after a "::" run at the same time as those before it (a second
# lane: make test puts the single-threaded ones there, the sanitizer builds
# and the kill test, so both cores stay busy); each program's output is
# printed whole, in the order given.
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_run.XXXXXX")
lane() {   # lane FIRST_INDEX PROGRAM...: runs them one after another
    i=$1
    shift
    for prog in "$@"; do
        "$prog" >"$T/$i.out" 2>&1
        echo $? >"$T/$i.rc"
        i=$((i + 1))
    done
}
n=0
first=""
for arg in "$@"; do
    if [ "$arg" = "::" ]; then first=$n; continue; fi
    n=$((n + 1))
    eval "prog_$n=\$arg"
done
if [ -n "$first" ]; then
    # the second lane: programs first+1..n, in the background
    set --
    k=$((first + 1))
    while [ $k -le $n ]; do eval "set -- \"\$@\" \"\$prog_$k\""; k=$((k + 1)); done
    lane $((first + 1)) "$@" &
    bg=$!
    set --
    k=1
    while [ $k -le "$first" ]; do eval "set -- \"\$@\" \"\$prog_$k\""; k=$((k + 1)); done
    lane 1 "$@"
    wait $bg
else
    set --
    k=1
    while [ $k -le $n ]; do eval "set -- \"\$@\" \"\$prog_$k\""; k=$((k + 1)); done
    lane 1 "$@"
fi
passed=0
failed=0
skipped=0
k=1
while [ $k -le $n ]; do
    eval "prog=\$prog_$k"
    rc=$(cat "$T/$k.rc" 2>/dev/null || echo 1)
    out=$(cat "$T/$k.out" 2>/dev/null)
    k=$((k + 1))
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -n "$RUN_SKIP_OK" ] && [ "$rc" -eq 77 ] &&
        { [ -z "$line" ] || printf '%s\n' "$line" | grep -qE '(^|[^0-9])0 passed, 0 failed'; }; then
        echo "$prog: skipped (exit status 77)"
        skipped=$((skipped + 1))
        continue
    fi
    if [ -z "$line" ]; then
        echo "$prog: exited with status $rc and printed no count"
        failed=$((failed + 1))
        continue
    fi
    p=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$prog: exited with status $rc"
        failed=$((failed + 1))
    fi
done
rm -rf "$T"
[ "$skipped" -eq 0 ] || echo "$skipped skipped (not counted as passes)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
