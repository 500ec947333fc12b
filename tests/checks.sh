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
# fails_grep LABEL GREP_FLAGS TEXT COMMAND...: the command must fail and its
# output must satisfy `grep GREP_FLAGS TEXT`
fails_grep() {
    label=$1
    flags=$2
    text=$3
    shift 3
    if "$@" >"$T/out.txt" 2>&1; then
        failed=$((failed + 1)); echo "FAIL $label (it succeeded)"
    elif grep $flags -- "$text" "$T/out.txt"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL $label: no '$text' ($flags) in:"; cat "$T/out.txt"
    fi
}
# fails_with LABEL PATTERN COMMAND...: fails and prints a line matching PATTERN
fails_with() { label=$1; text=$2; shift 2; fails_grep "$label" -q "$text" "$@"; }
# fails_with_line LABEL LINE COMMAND...: fails and prints exactly LINE
fails_with_line() { label=$1; text=$2; shift 2; fails_grep "$label" -qxF "$text" "$@"; }
