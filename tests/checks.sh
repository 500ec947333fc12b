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
# kermany_phantoms B DIR: phantom X-rays (60 NORMAL, 120 PNEUMONIA of 32x32, and a test
# split) made by B/phantom in DIR/ph, copied into DIR/k/{NORMAL,PNEUMONIA} under Kermany
# file names, so that patients have several files (IM-NNNN-000K: three per NORMAL patient,
# personN_bacteria_K: two per PNEUMONIA patient)
kermany_phantoms() {
    "$1/phantom" --out "$2/ph" --normal 60 --pneumonia 120 --val 0 --test 40 --size 32 >/dev/null
    mkdir -p "$2/k/NORMAL" "$2/k/PNEUMONIA"
    i=0
    for f in "$2"/ph/train/NORMAL/*.png; do
        i=$((i + 1)); cp "$f" "$2/k/NORMAL/IM-$((1000 + i / 3))-000$((i % 3)).png"
    done
    i=0
    for f in "$2"/ph/train/PNEUMONIA/*.png; do
        i=$((i + 1)); cp "$f" "$2/k/PNEUMONIA/person$((i / 2))_bacteria_$i.png"
    done
}
# fails_with LABEL PATTERN COMMAND...: fails and prints a line matching PATTERN
fails_with() { label=$1; text=$2; shift 2; fails_grep "$label" -q "$text" "$@"; }
# fails_with_line LABEL LINE COMMAND...: fails and prints exactly LINE
fails_with_line() { label=$1; text=$2; shift 2; fails_grep "$label" -qxF "$text" "$@"; }
