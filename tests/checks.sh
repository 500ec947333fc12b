# checks.sh - the counting helpers of the shell tests, sourced by each of them
# after it sets T (its temporary folder). Each script ends with
#   echo "NAME: $passed passed, $failed failed"
passed=0
failed=0
# check LABEL COMMAND...: passes when the command succeeds
check() {
    label=$1
    shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $label"; fi
}
# fails_with LABEL PATTERN COMMAND...: the command must fail and print a line matching PATTERN (grep)
fails_with() {
    label=$1
    text=$2
    shift 2
    if "$@" >"$T/out.txt" 2>&1; then
        failed=$((failed + 1)); echo "FAIL $label (it succeeded)"
    elif grep -q "$text" "$T/out.txt"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL $label: no '$text' in:"; cat "$T/out.txt"
    fi
}
# fails_with_line LABEL LINE COMMAND...: the command must fail and print exactly LINE
fails_with_line() {
    label=$1
    text=$2
    shift 2
    if "$@" >"$T/out.txt" 2>&1; then
        failed=$((failed + 1)); echo "FAIL $label (it succeeded)"
    elif grep -qxF "$text" "$T/out.txt"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL $label: no line '$text' in:"; cat "$T/out.txt"
    fi
}
