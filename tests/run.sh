#!/bin/sh
# run.sh - runs each test program given on the command line, adds up their
# "N passed, M failed" lines and prints the total as the last line. A program
# that crashes or prints no count counts as one failure. Exit 1 on any failure.
passed=0
failed=0
for prog in "$@"; do
    out=$("$prog" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
