# phantom_data.sh - sourced by examples/study.sh and examples/small_data.sh (not run on
# its own): their data when DATA= is not given and ../shared/data/kermany224 is not there,
# the built-in phantom X-rays of examples/phantom.c (a demonstration of the pipeline, not
# a result). Uses OUT, B, CLASSES and PATIENTS; NAME is the script's name for messages.
# shellcheck shell=bash

# phantom_classes NAME: the phantoms are NORMAL and PNEUMONIA; other CLASSES need data
# (refused before anything is written)
phantom_classes() {
    if [ "$CLASSES" != NORMAL,PNEUMONIA ]; then
        echo "$1: CLASSES=$CLASSES needs DATA=DIR (the built-in phantoms are NORMAL and PNEUMONIA)" >&2
        exit 2
    fi
}

# phantom_data NAME: 240 NORMAL and 700 PNEUMONIA phantoms in OUT/phantom (made once;
# OUT/phantom/.done says they are complete), then DATA=OUT/phantom/train and, unless
# PATIENTS was given, PATIENTS=OUT/phantom/patients.csv: one phantom is one patient
# (phantom.c), said in a patients CSV, as for a dataset of one's own, so that classify
# does not warn that the names are not Kermany's
phantom_data() {
    phantom_classes "$1"
    if [ ! -f "$OUT/phantom/.done" ]; then
        echo "== $(date -u +%H:%M:%S) phantom X-rays (no DATA= given and no ../shared/data/kermany224)"
        rm -rf "$OUT/phantom"
        mkdir -p "$OUT"
        "$B/phantom" --out "$OUT/phantom" --normal 240 --pneumonia 700 --size 64 --seed 1 >"$OUT/phantom.log" 2>&1 ||
            { cat "$OUT/phantom.log" >&2; echo "$1: the phantoms could not be made (above)" >&2; exit 1; }
        touch "$OUT/phantom/.done"
    fi
    DATA="$OUT/phantom/train"
    if [ -z "$PATIENTS" ]; then
        PATIENTS="$OUT/phantom/patients.csv"
        if [ ! -f "$PATIENTS" ]; then
            if ! { echo "file,patient"; for f in "$DATA"/*/*.png; do n=$(basename "$f"); echo "$n,${n%.png}"; done; } \
                >"$PATIENTS.tmp" || ! mv "$PATIENTS.tmp" "$PATIENTS"; then
                echo "$1: cannot write $PATIENTS" >&2
                exit 1
            fi
        fi
    fi
}

# phantom_note FILE: says under FILE's first line (its title), before any number, that the
# data were the phantoms
phantom_note() {
    { head -n 1 "$1"; echo
        echo "**Built-in phantom X-rays** (no DATA= and no ../shared/data/kermany224): a demonstration of the pipeline, not a result."
        tail -n +2 "$1"; } >"$1.note" && mv "$1.note" "$1"
}
