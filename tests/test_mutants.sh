#!/bin/sh
# test_mutants.sh - every planted bug of tests/mutants.py still applies: its exact text occurs
# once in its file (17 of 55 had silently stopped applying when their code moved). The
# mutants themselves are run by hand (about 20 minutes): /usr/bin/python3 tests/mutants.py
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_mutants.XXXXXX")
. tests/checks.sh
if command -v python3 >/dev/null 2>&1; then
    python3 tests/mutants.py --check >"$T/out.txt" 2>&1
    check "mutants/every mutant's text occurs once (mutants.py --check)" test $? -eq 0
    [ "$failed" -eq 0 ] || cat "$T/out.txt"
else
    echo "test_mutants: skipped: no python3"
fi
rm -rf "$T"
echo "test_mutants: $passed passed, $failed failed"
