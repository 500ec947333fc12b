#!/bin/sh
# test_run.sh - part of `make test`: tests/run.sh, the script that adds up every
# test program's count, on made-up programs: counts added, a program without a
# count or with a non-zero status counted as one failure, status 77 without a
# count (or with "0 passed, 0 failed") a failure, and with RUN_SKIP_OK set (make
# test-cuda) printed as a skip and counted in a "K skipped" line, never as a
# pass; the exit status. Prints "test_run: N passed, M failed".
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_test_run.XXXXXX")
passed=0
failed=0
prog() {   # prog NAME STATUS [LINE]: a program that prints LINE and exits with STATUS
    printf '#!/bin/sh\n%s\nexit %s\n' "${3:+echo \"$3\"}" "$2" >"$T/$1"
    chmod +x "$T/$1"
}
expect() {   # expect LABEL WANT_STATUS WANT_OUTPUT PROGRAM...: run.sh's whole output and status
    label=$1 want_rc=$2 want=$3
    shift 3
    got=$(cd "$T" && sh "$OLDPWD/tests/run.sh" "$@" 2>&1)
    rc=$?
    if [ "$got" = "$want" ] && [ "$rc" -eq "$want_rc" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s: status %s (want %s), output:\n%s\nwant:\n%s\n' "$label" "$rc" "$want_rc" "$got" "$want"
    fi
}
prog good 0 "good: 3 passed, 0 failed"
prog bad 1 "bad: 2 passed, 1 failed"
prog skip 77 "skip: skipped, no usable GPU"
prog skip0 77 "skip0: 0 passed, 0 failed"
prog half 77 "half: 1 passed, 0 failed"
prog silent 0 "nothing counted"
prog crash 3 "crash: 4 passed, 0 failed"
expect "passes add up" 0 "good: 3 passed, 0 failed
good: 3 passed, 0 failed
6 passed, 0 failed" ./good ./good
expect "failures add up" 1 "good: 3 passed, 0 failed
bad: 2 passed, 1 failed
5 passed, 1 failed" ./good ./bad
expect "status 77 without a count is a failure (make test's programs never skip)" 1 "good: 3 passed, 0 failed
skip: skipped, no usable GPU
./skip: exited with status 77 and printed no count
3 passed, 1 failed" ./good ./skip
expect "status 77 with 0 passed, 0 failed is a failure" 1 "skip0: 0 passed, 0 failed
./skip0: exited with status 77
0 passed, 1 failed" ./skip0
RUN_SKIP_OK=1
export RUN_SKIP_OK
expect "RUN_SKIP_OK: status 77 without a count is a skip" 0 "good: 3 passed, 0 failed
skip: skipped, no usable GPU
./skip: skipped (exit status 77)
1 skipped (not counted as passes)
3 passed, 0 failed" ./good ./skip
expect "RUN_SKIP_OK: status 77 with 0 passed, 0 failed is a skip" 0 "skip0: 0 passed, 0 failed
./skip0: skipped (exit status 77)
1 skipped (not counted as passes)
0 passed, 0 failed" ./skip0
expect "RUN_SKIP_OK: status 77 after passes is a failure" 1 "half: 1 passed, 0 failed
./half: exited with status 77
1 passed, 1 failed" ./half
expect "no count is a failure" 1 "nothing counted
./silent: exited with status 0 and printed no count
0 passed, 1 failed" ./silent
expect "a non-zero status is a failure" 1 "crash: 4 passed, 0 failed
./crash: exited with status 3
4 passed, 1 failed" ./crash
expect "RUN_SKIP_OK: two lanes" 1 "good: 3 passed, 0 failed
skip: skipped, no usable GPU
./skip: skipped (exit status 77)
bad: 2 passed, 1 failed
1 skipped (not counted as passes)
5 passed, 1 failed" ./good ./skip :: ./bad
rm -rf "$T"
echo "test_run: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
