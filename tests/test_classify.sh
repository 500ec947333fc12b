#!/bin/sh
# test_classify.sh - build/classify end to end on phantom X-rays: the split keeps
# patients on one side, a short training run learns (test accuracy well above
# chance), eval writes its files, bad input fails with a message and writes
# nothing, features writes a .npy that build/fid reads, c2st tells phantoms from
# gray squares but not from other phantoms, subset makes nested patient subsets,
# --classes and --patients take any dataset (with whole error messages), and a
# tiny learning-curve study runs every arm, resumes without redoing anything,
# refuses a changed setting and redoes it with REDO=1. Run from the repo root
# after `make` (make test does both).
# Prints "test_classify.sh: N passed, M failed".
B=${B:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_classify.XXXXXX")
. tests/checks.sh

# split: every file once, no patient on two sides (phantoms: one patient per file;
# Kermany-style names are added so that patients have several files)
kermany_phantoms "$B" "$T"
$B/classify split --data "$T/k" --out "$T/split" --val 0.2 --test 0.2 --seed 3 >"$T/split.txt" 2>&1
check "split/runs" test $? -eq 0
check "split/Kermany's names: no warning about patients" sh -c "! grep -q warning '$T/split.txt'"
# names outside Kermany's scheme without --patients: each image is a patient of its own, said
# once (a referee's own dataset, 2-3 images per patient, went 43 of 66 patients on both sides
# of the split without a word)
$B/classify split --data "$T/ph/train" --out "$T/split_own" --val 0.2 --test 0.2 --seed 3 >"$T/split_own.txt" 2>&1
check "split/other names without --patients: a warning counting them, naming the first" grep -qxF \
    "classify split: warning: 180 of 180 image names are not Kermany's (personN_..., IM-NNNN-...), the first '$T/ph/train/NORMAL/NORMAL-0001.png', and no --patients was given: each such image is taken as a patient of its own, so one patient's images can fall on both sides of a split and intervals come out too narrow; give --patients FILE.csv (file,patient) unless every image is a patient of its own" \
    "$T/split_own.txt"
check "split/... once" test "$(grep -c warning "$T/split_own.txt")" -eq 1
# --val 0 makes no val/ folder, and says so (the next step's --val SPLIT/val found nothing: a helper's audit)
$B/classify split --data "$T/k" --out "$T/split_noval" --val 0 --test 0.2 --seed 3 >"$T/split_noval.txt" 2>&1
check "split/--val 0 runs, makes no val/ and says what train does instead" sh -c "test ! -e '$T/split_noval/val' && \
    grep -qxF \"  (--val 0: no val/ folder; classify train without --val holds out --val-fraction of train/'s patients itself)\" '$T/split_noval.txt'"
# --bf16 was listed and taken by split and subset, which run no network (a referee): now theirs is refused,
# and the commands that run one list it
fails_with_line "split/--bf16 is not a split flag" "classify split: unknown flag '--bf16' (see --help)" \
    $B/classify split --data "$T/k" --out "$T/split_bf16" --bf16
fails_with_line "subset/--bf16 is not a subset flag" "classify subset: unknown flag '--bf16' (see --help)" \
    $B/classify subset --data "$T/k" --out "$T/sub_bf16" --sizes 2 --bf16
check "train, eval and c2st list --bf16; split, subset and features do not" sh -c \
    "for c in train eval c2st; do $B/classify \$c --help | grep -q '^  --bf16 ' || exit 1; done;
     for c in split subset features; do $B/classify \$c --help | grep -q -- '--bf16' && exit 1; done; exit 0"
fails_with_line "split/refuses to write over an earlier split" \
    "classify split: '$T/split' already holds a split (train/ exists); remove it or choose another --out" \
    $B/classify split --data "$T/k" --out "$T/split" --seed 4
n_in=$(find "$T/k" -type f | wc -l)
n_out=$(find -L "$T/split" -type f | wc -l)
check "split/every file on exactly one side" test "$n_in" -eq "$n_out"
for s in train val test; do
    ls "$T/split/$s/NORMAL" "$T/split/$s/PNEUMONIA" 2>/dev/null | grep -oE 'IM-[0-9]+|person[0-9]+' | sort -u >"$T/pat_$s.txt"
done
check "split/no patient on two sides" test -z "$(cat "$T"/pat_*.txt | sort | uniq -d)"
check "split/each side has both classes" test -n "$(ls "$T/split/test/NORMAL")" -a -n "$(ls "$T/split/test/PNEUMONIA")"

# train learns: 8 epochs at 32x32 on 180 phantoms, then eval on 80 unseen ones
check "train/runs" $B/classify train --data "$T/ph/train" --out "$T/run" --size 32 --width 8 --epochs 8 --batch 16 --seed 1
for f in checkpoint.safetensors log.csv curves.png; do
    check "train/writes $f" test -s "$T/run/$f"
done
check "train/log has a header and 8 epochs" test "$(wc -l <"$T/run/log.csv")" -eq 9
# a folder holding a finished run is refused before anything is written: log.csv was
# emptied at the start, and a run that then failed (--lr 1e30) left the old checkpoint
# beside a log.csv of its header alone (a helper's audit)
cp "$T/run/log.csv" "$T/run_log_before.csv"
fails_with_line "train/refuses a folder holding a finished run" \
    "classify train: '$T/run' holds a run ($T/run/checkpoint.safetensors); give another --out, or delete that folder to start over" \
    $B/classify train --data "$T/ph/train" --out "$T/run" --size 32 --width 8 --epochs 8 --batch 16 --lr 1e30
check "train/refused: the old log.csv intact" cmp "$T/run_log_before.csv" "$T/run/log.csv"
# nor a folder holding a user's own files named like the run's, with no run in it (a user's
# log.csv was replaced: a helper's audit); a log.csv of the header alone (a run killed in its
# first epoch) is replaced
mkdir -p "$T/mine" && echo "my own curves" >"$T/mine/curves.png"
fails_with_line "train/refuses a folder holding a user's own curves.png" \
    "classify train: '$T/mine' holds curves.png, named as a run's own files (log.csv, curves.png), but no run to continue: a new run would replace them; move them elsewhere or give another --out" \
    $B/classify train --data "$T/ph/train" --out "$T/mine" --size 32 --width 8 --epochs 1 --batch 16
check "train/... the file unchanged, nothing written" \
    sh -c "test \"\$(cat '$T/mine/curves.png')\" = 'my own curves' && test ! -e '$T/mine/log.csv'"
# an earlier run's leftovers (its log.csv begins with the header) are replaced: a run whose
# resume file was deleted as a message advises, or that failed at the end of one epoch, left
# rows and no run, and the next start was refused (a referee's reading)
mkdir -p "$T/leftover" && cp "$T/run/log.csv" "$T/run/curves.png" "$T/leftover/"
check "train/an earlier run's log.csv with rows, and its curves.png: replaced" \
    sh -c "$B/classify train --data '$T/ph/train' --out '$T/leftover' --size 32 --width 8 --epochs 1 --batch 16 >/dev/null 2>&1 && test \$(wc -l <'$T/leftover/log.csv') -eq 2"
mkdir -p "$T/header_only" && head -1 "$T/run/log.csv" >"$T/header_only/log.csv"
check "train/a log.csv of the header alone is replaced" \
    sh -c "$B/classify train --data '$T/ph/train' --out '$T/header_only' --size 32 --width 8 --epochs 1 --batch 16 >/dev/null 2>&1 && test \$(wc -l <'$T/header_only/log.csv') -eq 2"
check "eval/runs" $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/ph/test" --bootstrap 200
for f in metrics.csv scores.csv roc.png; do
    check "eval/writes $f" test -s "$T/run/eval/$f"
done
acc=$(grep '^accuracy,' "$T/run/eval/metrics.csv" | cut -d, -f2)
check "eval/test accuracy well above chance ($acc > 0.8)" awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }'
check "eval/scores.csv has one row per test image" test "$(wc -l <"$T/run/eval/scores.csv")" -eq 81
# eval.txt says what was evaluated; another data folder into the same --out is refused (a
# training set's numbers replaced the test set's without a word: a helper's audit), the same
# one again replaces them (another --bootstrap or --seed too: the same numbers, other intervals)
RT=$(cd "$T" && pwd -P)
check "eval/eval.txt names the checkpoint, the data, the bootstrap and seed" test "$(cat "$T/run/eval/eval.txt")" = \
    "$(printf 'checkpoint %s\ndata %s\nbootstrap 200\nseed 1' "$RT/run/checkpoint.safetensors" "$RT/ph/test")"
cp "$T/run/eval/metrics.csv" "$T/eval_before.csv"
fails_with_line "eval/another data folder into an --out holding an evaluation is refused" \
    "classify eval: '$T/run/eval' holds the evaluation of '$RT/run/checkpoint.safetensors' on '$RT/ph/test' (its eval.txt); this one ('$RT/run/checkpoint.safetensors' on '$RT/ph/train') would replace it: give another --out" \
    $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/ph/train" --bootstrap 200
check "eval/... metrics.csv unchanged" cmp "$T/eval_before.csv" "$T/run/eval/metrics.csv"
fails_with_line "eval/a mistyped --data is said as such, not as another evaluation" \
    "classify eval: '$T/nothere/NORMAL' is not a folder: the data folder needs NORMAL/ and PNEUMONIA/ sub-folders of images (the Kermany layout)" \
    $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/nothere" --bootstrap 200
check "eval/the same evaluation again (the folder spelled otherwise) is done" \
    $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/ph/./test/" --bootstrap 200
check "eval/... the same numbers" cmp "$T/eval_before.csv" "$T/run/eval/metrics.csv"
check "train/--augment classic --balance oversample runs" $B/classify train --data "$T/ph/train" \
    --out "$T/run2" --size 32 --width 4 --epochs 1 --batch 16 --augment classic --balance oversample
check "train/--balance weight --extra runs" $B/classify train --data "$T/ph/train" --out "$T/run3" \
    --size 32 --width 4 --epochs 1 --batch 16 --balance weight --extra "NORMAL=$T/ph/test/NORMAL"

# a curves.png that cannot be written (a folder of that name) fails the run and keeps the
# checkpoint, the one a run that could write it makes; the scoring of the best epoch, when
# it fails (a test hook: no input makes a forward fail that passed every epoch), writes no
# checkpoint. Both printed or ignored the failure and exited 0 (a helper's audit)
check "train/a plain run of width 4" $B/classify train --data "$T/ph/train" --out "$T/w4" --size 32 --width 4 \
    --epochs 1 --batch 16
mkdir -p "$T/nocurves/curves.png"
N=$T/nocurves
fails_with_line "train/curves.png cannot be written: status 1, what was written" \
    "classify train: png_write: cannot rename '$N/curves.png.tmp' to '$N/curves.png'; '$N/curves.png' was left as it was; wrote $N/checkpoint.safetensors and $N/log.csv, not $N/curves.png" \
    $B/classify train --data "$T/ph/train" --out "$N" --size 32 --width 4 --epochs 1 --batch 16
check "train/curves.png cannot be written: the checkpoint whole" cmp "$T/w4/checkpoint.safetensors" \
    "$N/checkpoint.safetensors"
fails_with_line "train/the best epoch cannot be scored: status 1, no checkpoint" \
    "classify train: scoring the validation images at the best epoch (1): failed (CLASSIFY_TEST_FAIL_BEST_PREDICT); no checkpoint written" \
    env CLASSIFY_TEST_FAIL_BEST_PREDICT=1 $B/classify train --data "$T/ph/train" --out "$T/nopredict" --size 32 \
    --width 4 --epochs 1 --batch 16
check "train/the best epoch cannot be scored: no checkpoint" test ! -e "$T/nopredict/checkpoint.safetensors"

# bad input: a message, a non-zero status, nothing written
mkdir -p "$T/empty/NORMAL" "$T/empty/PNEUMONIA" "$T/one/PNEUMONIA"
cp "$T"/ph/train/PNEUMONIA/*.png "$T/empty/PNEUMONIA/"
cp "$T"/ph/train/PNEUMONIA/*.png "$T/one/PNEUMONIA/"
fails_with_line "train/empty class" "classify train: class NORMAL: dataset_load: no image files (jpg, jpeg, png, bmp, pgm, ppm, tga) under '$T/empty/NORMAL'" \
    $B/classify train --data "$T/empty" --out "$T/bad1" --size 32
check "train/empty class: nothing written, not even the folder" test ! -e "$T/bad1"
fails_with_line "train/one class only" "classify train: '$T/one/NORMAL' is not a folder: the data folder needs NORMAL/ and PNEUMONIA/ sub-folders of images (the Kermany layout)" \
    $B/classify train --data "$T/one" --out "$T/bad2" --size 32
# a missing second class or --val folder is found before any image is decoded (they were
# found after every image of --data had been read: a helper's audit)
mkdir -p "$T/first_only" && cp "$T"/ph/train/NORMAL/*.png "$T/first_only/"
mkdir -p "$T/first_only_set/NORMAL" && mv "$T"/first_only/*.png "$T/first_only_set/NORMAL/"
fails_with_line "train/the second class missing" "classify train: '$T/first_only_set/PNEUMONIA' is not a folder: the data folder needs NORMAL/ and PNEUMONIA/ sub-folders of images (the Kermany layout)" \
    $B/classify train --data "$T/first_only_set" --out "$T/bad2" --size 32
check "train/... said before any image is read" sh -c "! grep -q '^data:' '$T/out.txt'"
fails_with_line "train/a missing --val" "classify train: '$T/noval/NORMAL' is not a folder: the data folder needs NORMAL/ and PNEUMONIA/ sub-folders of images (the Kermany layout)" \
    $B/classify train --data "$T/ph/train" --val "$T/noval" --out "$T/bad2" --size 32
check "train/... said before any image is read" sh -c "! grep -q '^data:' '$T/out.txt'"
fails_with_line "eval/the second class missing" "classify eval: '$T/first_only_set/PNEUMONIA' is not a folder: the data folder needs NORMAL/ and PNEUMONIA/ sub-folders of images (the Kermany layout)" \
    $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/first_only_set" --out "$T/bad_eval"
check "eval/... said before any image is read" sh -c "! grep -q '^data:' '$T/out.txt'"
printf 'not a jpeg' >"$T/ph/train/NORMAL/broken.jpg"
printf 'DICM' >"$T/ph/train/PNEUMONIA/scan.dcm"
$B/classify train --data "$T/ph/train" --out "$T/run4" --size 32 --width 4 --epochs 1 --batch 16 >"$T/out.txt" 2>&1
rc=$?
rm "$T/ph/train/PNEUMONIA/scan.dcm"
check "train/an unreadable file is skipped and the run finishes" test "$rc" -eq 0
check "train/the skipped file is named" grep -q "skipping.*broken.jpg" "$T/out.txt"
check "train/a file of another type is not read, with a warning" grep -qxF \
    "classify train: warning: 1 file under '$T/ph/train/PNEUMONIA' is not of an image type read here (jpg, jpeg, png, bmp, pgm, ppm, tga) and was not used (convert DICOM, TIFF or WebP images to PNG)" "$T/out.txt"
$B/train --data "$T/ph/train" --class NORMAL --out "$T/gan" --arch dcgan --size 64 --channels 1 --width 0.0625 \
    --batch 8 --epochs 1 --max-images 16 >/dev/null 2>&1
# images smaller than --size are named, per class folder, the first with its own size (32x32
# phantoms at 64: they were enlarged without a word)
$B/classify train --data "$T/ph/train" --out "$T/enlarged" --size 64 --width 4 --epochs 1 --batch 16 >"$T/enl.txt" 2>&1
first=$(LC_ALL=C ls "$T/ph/train/NORMAL" | head -1)
check "train/images smaller than --size are named" grep -qxF \
    "classify train: warning: 60 images under '$T/ph/train/NORMAL' are smaller than 64x64 and were enlarged to it, the first '$T/ph/train/NORMAL/$first' (32x32): the model sees the enlargement's blur, no detail beyond their own size" \
    "$T/enl.txt"
fails_with_line "eval/a GAN checkpoint" "classify eval: '$T/gan/checkpoint.safetensors' is a GAN checkpoint (from train), not a classifier (from classify train)" \
    $B/classify eval --checkpoint "$T/gan/checkpoint.safetensors" --data "$T/ph/test"
check "eval/a GAN checkpoint: nothing written" test ! -e "$T/gan/eval"
fails_with_line "eval/no such checkpoint" "classify eval: safetensors_read: cannot open '$T/none.safetensors': No such file or directory" \
    $B/classify eval --checkpoint "$T/none.safetensors" --data "$T/ph/test"
fails_with_line "train/unknown flag" "classify train: unknown flag '--bogus' (see --help)" \
    $B/classify train --bogus

# features: the input of the last Linear layer (8 x width x (size/16)^2 = 256
# values at --size 32 --width 8) for each image, as a .npy that build/fid reads
C="$T/run/checkpoint.safetensors"
# eval's intervals resample patients (Kermany's names: 3 images per NORMAL patient, 2 per
# PNEUMONIA one here, 82 patients), not images (too narrow where a patient has several); the
# same images in the same order, each under a name of its own (180 patients): the same values,
# other intervals (the image-level bootstrap drew the same intervals for both)
# renamed SRC DST [own]: copies SRC/{NORMAL,PNEUMONIA}/*.png, in order, to DST/CLASS/ as
# 001.png, 002.png, ... (with own: CLASS-own001.png, ...)
renamed() {
    for c in NORMAL PNEUMONIA; do
        mkdir -p "$2/$c"
        i=0
        for f in "$1/$c"/*.png; do
            i=$((i + 1))
            cp "$f" "$2/$c/${3:+$c-own}$(printf %03d $i).png"
        done
    done
}
$B/classify eval --checkpoint "$C" --data "$T/k" --bootstrap 200 --out "$T/k_eval" >"$T/k_eval.txt" 2>&1
check "eval/Kermany names: the bootstrap draws the 82 patients" \
    grep -qxF "  metric              value   95% interval (bootstrap of the 82 patients, 200 resamples, seed 1)" "$T/k_eval.txt"
check "eval/Kermany names: 21 NORMAL and 61 PNEUMONIA patients, no warning" \
    test -z "$(grep warning "$T/k_eval.txt")"
# few patients in a class: a warning (the patient bootstrap's intervals are too narrow then)
mkdir -p "$T/k_few/NORMAL" "$T/k_few/PNEUMONIA"
cp "$T"/k/NORMAL/IM-100[0-5]-*.png "$T/k_few/NORMAL/"
cp "$T"/k/PNEUMONIA/*.png "$T/k_few/PNEUMONIA/"
$B/classify eval --checkpoint "$C" --data "$T/k_few" --bootstrap 200 --out "$T/k_few_eval" >"$T/k_few.txt" 2>&1
check "eval/6 NORMAL patients: a warning" grep -qxF \
    "classify eval: warning: the test images are of 6 NORMAL and 61 PNEUMONIA patients; with fewer than 20 in a class the 95% intervals below are too narrow (they resample patients)" \
    "$T/k_few.txt"
check "eval/6 NORMAL patients: the metrics still written" test -s "$T/k_few_eval/metrics.csv"
renamed "$T/k" "$T/k_own" own
$B/classify eval --checkpoint "$C" --data "$T/k_own" --bootstrap 200 --out "$T/k_own_eval" >"$T/k_own_eval.txt" 2>&1
check "eval/a name per image: 180 patients" \
    grep -qxF "  metric              value   95% interval (bootstrap of the 180 patients, 200 resamples, seed 1)" "$T/k_own_eval.txt"
check "eval/a name per image: the same values" \
    test "$(cut -d, -f2 "$T/k_eval/metrics.csv")" = "$(cut -d, -f2 "$T/k_own_eval/metrics.csv")"
check "eval/a name per image: other intervals" \
    test "$(cut -d, -f3,4 "$T/k_eval/metrics.csv")" != "$(cut -d, -f3,4 "$T/k_own_eval/metrics.csv")"
# one numbering in both class folders (NORMAL/001.png, PNEUMONIA/001.png): two people, not one
# patient with an image of each class (it drew 40 "patients" of 80 images, each resample
# exactly balanced): 80 patients, the intervals of the same images under phantom names
renamed "$T/ph/test" "$T/same_names"
$B/classify eval --checkpoint "$C" --data "$T/same_names" --bootstrap 200 --out "$T/same_names_eval" >"$T/same_names.txt" 2>&1
check "eval/one numbering in both classes: 80 patients" \
    grep -qxF "  metric              value   95% interval (bootstrap of the 80 patients, 200 resamples, seed 1)" "$T/same_names.txt"
check "eval/one numbering in both classes: the intervals of the phantom names" \
    cmp "$T/same_names_eval/metrics.csv" "$T/run/eval/metrics.csv"
check "features/runs" $B/classify features --checkpoint "$C" "$T/ph/test/NORMAL" "$T/f1.npy"
check "features/a second set" $B/classify features --checkpoint "$C" "$T/ph/test/PNEUMONIA" "$T/f2.npy"
check "features/the .npy holds 40 images x 256 dims" grep -aqF "{'descr': '<f8', 'fortran_order': False, 'shape': (40, 256), }" "$T/f1.npy"
check "features/OUT.npy.files lists the 40 images in row order, by full path" test "$(cat "$T/f1.npy.files")" = \
    "$(cd "$T/ph/test/NORMAL" && for f in $(ls | LC_ALL=C sort); do echo "$(pwd -P)/$f"; done)"
# the memorisation check with nothing downloaded: fid --nearest on three such files
$B/classify features --checkpoint "$C" "$T/ph/train/NORMAL" "$T/f_train.npy" >/dev/null 2>&1
$B/fid --nearest "$T/f_train.npy" --out "$T/f_nn" "$T/f2.npy" "$T/f1.npy" >"$T/f_nn.txt" 2>&1
check "features/fid --nearest on classify features: the copying test and both files" sh -c "
    grep -qE '^nearest: data-copying test .*: Z = -?[0-9.]+\$' '$T/f_nn.txt' &&
    test \$(wc -l <'$T/f_nn/nearest.csv') -eq 41 && test -s '$T/f_nn/nearest.png'"
$B/fid --kid --kid-subset-size 20 --prdc "$T/f1.npy" "$T/f2.npy" >"$T/fid.txt" 2>&1
check "features/fid reads two of them (256 dims, not Inception's)" test $? -eq 0
check "features/fid prints the FID line" grep -qE '^FID:  [0-9]' "$T/fid.txt"
check "features/fid prints KID" grep -q '^KID:  ' "$T/fid.txt"
# each .npy says what made it (OUT.npy.source); fid refuses two networks' features (a KID of
# 1.68 for 0.24 without a word: a helper's audit), and a folder's (Inception) beside a .npy's
check "features/f1.npy.source names the checkpoint by its hash" \
    grep -qxE "classify checkpoint [0-9a-f]{16} \($(cd "$T" && pwd -P)/run/checkpoint.safetensors\)" "$T/f1.npy.source"
$B/classify features --checkpoint "$T/run2/checkpoint.safetensors" "$T/ph/test/NORMAL" "$T/g2.npy" >/dev/null &&
    $B/classify features --checkpoint "$T/run3/checkpoint.safetensors" "$T/ph/test/PNEUMONIA" "$T/g3.npy" >/dev/null
fails_with_line "features/fid refuses two networks' features" \
    "fid: '$T/g2.npy' holds features of $(cat "$T/g2.npy.source"), '$T/g3.npy' holds features of $(cat "$T/g3.npy.source"): distances between two networks' features mean nothing; embed both sets with one" \
    $B/fid --kid "$T/g2.npy" "$T/g3.npy"
fails_with_line "features/fid refuses a classifier's features beside a folder's (Inception)" \
    "fid: '$T/f1.npy' holds features of $(cat "$T/f1.npy.source"), '$T/ph/test/NORMAL' is an image folder, which fid embeds with inception with --fill-deterministic test weights: distances between two networks' features mean nothing; embed both sets with one (a folder with that classifier: classify features --checkpoint FILE DIR OUT.npy)" \
    $B/fid --fill-deterministic "$T/f1.npy" "$T/ph/test/NORMAL"
fails_with_line "features/never overwrites" "classify features: '$T/f1.npy' exists already; not overwriting it" \
    $B/classify features --checkpoint "$C" "$T/ph/test/PNEUMONIA" "$T/f1.npy"
fails_with_line "features/an OUT not named .npy is refused (fid took it for a folder)" \
    "classify features: OUT '$T/f3' must end in .npy: fid tells a file of features from an image folder by that name" \
    $B/classify features --checkpoint "$C" "$T/ph/test/PNEUMONIA" "$T/f3"
check "features/... nothing written" test ! -e "$T/f3"
fails_with_line "features/not a folder" "classify features: '$T/nope' is not a folder of images" \
    $B/classify features --checkpoint "$C" "$T/nope" "$T/f3.npy"
check "features/bad input: nothing written" test ! -e "$T/f3.npy"
# a classifier whose last layer takes more than 65,536 values (--width 129 at size 128:
# 8 x 129 x 8^2 = 66,048) is refused before any image is computed, with the largest width
# that fits (it computed every image, then the .npy writer refused)
$B/phantom --out "$T/ph128" --normal 4 --pneumonia 4 --val 0 --test 2 --size 128 >/dev/null
$B/classify train --data "$T/ph128/train" --size 128 --width 129 --epochs 1 --batch 4 --threads 1 \
    --out "$T/wide" >/dev/null 2>&1
fails_with_line "features/more dims than a features file holds: refused, naming the largest width" \
    "classify features: '$T/wide/checkpoint.safetensors' gives 66048 values per image; a features file holds at most 65536 (dims = 8 x width x (size/16)^2: a classifier of --width 128 or less at size 128)" \
    $B/classify features --checkpoint "$T/wide/checkpoint.safetensors" "$T/ph128/test/NORMAL" "$T/f4.npy"
check "features/... nothing written" test ! -e "$T/f4.npy"

# flags are range-checked before anything is read: an int flag past what an int holds
# was cast (--epochs 4294967297 trained 1 epoch, --bootstrap 4294967297 failed in the
# bootstrap after the images were read, --threads 99999999999 made libgomp abort) and
# --lr inf trained to a NaN; each is refused with the range, nothing written (a helper's audit)
fails_with_line "train/--epochs past an int" "classify train: --epochs wants an integer from 1 to 1000000, got '4294967297'" \
    $B/classify train --data "$T/ph/train" --out "$T/bad_flag" --size 32 --epochs 4294967297
fails_with_line "train/--size past an int" "classify train: --size wants an integer from 32 to 128, got '4294967328'" \
    $B/classify train --data "$T/ph/train" --out "$T/bad_flag" --size 4294967328
fails_with_line "train/--lr inf" "classify train: --size 32|64|128, --channels 1|3, --width 1..256, --epochs >= 1, --batch >= 2, --lr > 0 and finite, 0 < --val-fraction < 1" \
    $B/classify train --data "$T/ph/train" --out "$T/bad_flag" --size 32 --lr inf
fails_with_line "eval/--bootstrap past an int" "classify eval: --bootstrap wants an integer from 2 to 1000000, got '4294967297'" \
    $B/classify eval --checkpoint "$C" --data "$T/ph/test" --out "$T/bad_flag" --bootstrap 4294967297
fails_with_line "features/--threads past an int" "classify features: --threads wants an integer from 0 to 4096, got '99999999999'" \
    $B/classify features --checkpoint "$C" --threads 99999999999 "$T/ph/test" "$T/bad_flag.npy"
check "bad flags: nothing written" test ! -e "$T/bad_flag" -a ! -e "$T/bad_flag.npy"

# the resume file names each metadata key once: "epochs" was written twice (as a
# setting and as the position's key), a header that JSON leaves undefined and that a
# stricter safetensors writer refuses (a helper's audit); --resume still compares it
CLASSIFY_TEST_SIGINT_AFTER=2 $B/classify train --data "$T/ph/train" --out "$T/stop" --size 32 --width 4 \
    --epochs 2 --batch 16 >/dev/null 2>&1
check "train/stopped: status 130" test $? -eq 130
check "train/stopped: resume.safetensors names each metadata key once" python3 -c '
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
pairs = json.loads(b[8:8 + n], object_pairs_hook=lambda p: p)
meta = [k for k, v in pairs if k == "__metadata__"]
keys = [k for k, v in dict(pairs)["__metadata__"]]
sys.exit(not (meta and "epochs" in keys and len(keys) == len(set(keys))))
' "$T/stop/resume.safetensors"
fails_with_line "train/--resume with other --epochs names the flag" \
    "classify train: --resume: the stopped run in '$T/stop/resume.safetensors' has --epochs 2, this run --epochs 3; resume with the same flags" \
    $B/classify train --data "$T/ph/train" --out "$T/stop" --size 32 --width 4 --epochs 3 --batch 16 --resume
check "train/--resume finishes" $B/classify train --data "$T/ph/train" --out "$T/stop" --size 32 --width 4 \
    --epochs 2 --batch 16 --resume

# eval's ROC AUC is the network's: the logits x 1000 (the same order) give the same AUC
# and interval; from float32 probabilities, which round to exactly 0 or 1 there, the
# ties counted one half (0.775 against 0.9175 on a small run: a helper's audit)
python3 - "$C" "$T/x1000.safetensors" 1000 <<'PYEOF'
# the last Linear layer's weight and bias times K (so the logits times K), checksum redone
import array, json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:])
for name in ('cnn.14.weight', 'cnn.14.bias'):
    s, e = h[name]['data_offsets']
    a = array.array('f')
    a.frombytes(bytes(data[s:e]))
    data[s:e] = array.array('f', [x * float(sys.argv[3]) for x in a]).tobytes()
v = 14695981039346656037
for c in data:
    v = ((v ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
h['__metadata__']['data_fnv1a64'] = str(v)
j = json.dumps(h, separators=(',', ':')).encode()
j += b' ' * (-len(j) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(j)) + j + bytes(data))
PYEOF
check "eval/logits x 1000: evaluates" $B/classify eval --checkpoint "$T/x1000.safetensors" --data "$T/ph/test" \
    --bootstrap 200 --out "$T/x1000_eval"
check "eval/logits x 1000: scores saturate (a score of exactly 1)" grep -q ',1,0.[0-9]*,1,' "$T/x1000_eval/scores.csv"
check "eval/logits x 1000: the same ROC AUC and interval" \
    test "$(grep '^auc,' "$T/x1000_eval/metrics.csv")" = "$(grep '^auc,' "$T/run/eval/metrics.csv")"

# scores.csv quotes a path (or patient) that holds a comma, as RFC 4180 has it: a
# folder named 't,x' gave rows of 8 fields under a header of 7 (a helper's audit)
mkdir -p "$T/t,x"
cp -r "$T/ph/test/NORMAL" "$T/ph/test/PNEUMONIA" "$T/t,x/"
check "eval/a folder with a comma: evaluates" $B/classify eval --checkpoint "$C" --data "$T/t,x" --bootstrap 20 \
    --out "$T/comma_eval"
check "eval/a folder with a comma: the path quoted, every row 7 fields" python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
ok = len(rows) == 81 and all(len(r) == 7 for r in rows)
sys.exit(not (ok and rows[1][:3] == [sys.argv[2] + "/t,x/NORMAL/NORMAL-0061.png", "NORMAL-0061", "0"]))
' "$T/comma_eval/scores.csv" "$T"

# summarize: every arm of --arms (a ninth was dropped without a word), arm names with '-'
# in --compare (refused), every seed (only the first 32 were read) and the t quantile past
# 30 degrees of freedom (1.96: 4% short at 31); a bad --compare is refused before the
# table is printed (a helper's audit). Arms a and b over 33 seeds: b - a is +0.1 on the 17
# odd seeds, -0.1 on the 16 even ones: mean 0.1/33, sd 0.1015, t(0.975, 32) = 2.0369
for s in $(seq 1 33); do
    for arm in a b no-aug; do
        v=0.5
        [ $arm = b ] && v=$([ $((s % 2)) = 1 ] && echo 0.6 || echo 0.4)
        mkdir -p "$T/sum/$arm/seed$s/eval"
        { echo "metric,value,lo,hi"
          for m in accuracy balanced_accuracy sensitivity specificity precision f1 auc; do echo "$m,$v,$v,$v"; done
        } >"$T/sum/$arm/seed$s/eval/metrics.csv"
    done
done
check "summarize/33 seeds, --compare b-a" $B/classify summarize --runs "$T/sum" --arms a,b --compare b-a --out "$T/sum/r.md"
d="+0.003 [-0.033, +0.039] |"
check "summarize/every seed and the t quantile of 32 df" \
    test "$(grep '^| b - a |' "$T/sum/r.md")" = "| b - a | $d $d $d $d $d $d $d"
# the positive class named by --classes, as eval used it (it always said PNEUMONIA: a helper's audit)
seeds33=$(seq -s ', ' 1 33)
check "summarize/without --classes: PNEUMONIA positive" \
    grep -qxF "Test-set metrics, mean +- sd over 33 seeds ($seeds33). Positive class: PNEUMONIA." "$T/sum/r.md"
check "summarize/--classes healthy,sick" $B/classify summarize --runs "$T/sum" --arms a,b --classes healthy,sick \
    --out "$T/sum/classes.md"
check "summarize/--classes healthy,sick: sick positive" \
    grep -qxF "Test-set metrics, mean +- sd over 33 seeds ($seeds33). Positive class: sick." "$T/sum/classes.md"
fails_with_line "summarize/--classes with one name: refused" \
    "classify summarize: --classes wants two different folder names NEG,POS, got 'sick'" \
    $B/classify summarize --runs "$T/sum" --arms a,b --classes sick --out "$T/sum/one_class.md"
check "summarize/an arm name with '-' in --compare" $B/classify summarize --runs "$T/sum" --arms no-aug,b \
    --compare no-aug-b --out "$T/sum/hyphen.md"
check "summarize/... its row" grep -q '^| no-aug - b | -0.003 ' "$T/sum/hyphen.md"
fails_with_line "summarize/9 arms: refused" \
    "classify summarize: --arms wants 1 to 8 comma-separated folder names (each 1 to 63 characters), got 'a,b,a,b,a,b,a,b,a'" \
    $B/classify summarize --runs "$T/sum" --arms a,b,a,b,a,b,a,b,a --out "$T/sum/nine.md"
fails_with_line "summarize/--compare of an arm not given: refused" \
    "classify summarize: --compare 'b-c' is not X-Y of two arms in --arms" \
    $B/classify summarize --runs "$T/sum" --arms a,b --compare b-c --out "$T/sum/bad.md"
check "summarize/--compare refused before the table" test "$(wc -l <"$T/out.txt")" -eq 1
check "summarize/refused: nothing written" test ! -e "$T/sum/nine.md" -a ! -e "$T/sum/bad.md" -a ! -e "$T/sum/bad.md.tmp" \
    -a ! -e "$T/sum/one_class.md"

# c2st: phantoms against flat gray squares of 40 brightnesses are told apart;
# two disjoint phantom sets of one kind much less (seeded: the same each time)
mkdir -p "$T/gray" "$T/c2_empty" "$T/c2_three"
for i in $(seq 1 40); do
    { printf 'P5\n32 32\n255\n'; head -c 1024 /dev/zero | tr '\0' "\\$(printf %03o $((60 + 3 * i)))"; } >"$T/gray/gray_$i.pgm"
done
cp "$T/gray/gray_1.pgm" "$T/gray/gray_2.pgm" "$T/gray/gray_3.pgm" "$T/c2_three/"
$B/phantom --out "$T/ph2" --normal 40 --pneumonia 0 --val 0 --test 0 --size 32 --seed 2 >/dev/null
c2st_flags="--size 32 --width 8 --folds 2 --epochs 2 --batch 8 --seed 1"
c2st_auc() { sed -n 's/^c2st: AUC \([0-9.]*\) .*/\1/p' "$1"; }
$B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray" --out "$T/c2_sep" $c2st_flags >"$T/c2_sep.txt" 2>"$T/c2_sep.err"
check "c2st/runs" test $? -eq 0
sep=$(c2st_auc "$T/c2_sep.txt")
check "c2st/phantoms vs gray squares: AUC $sep > 0.9" awk -v a="$sep" 'BEGIN { exit !(a > 0.9) }'
tail -n 1 "$T/c2_sep.txt" >"$T/c2_last.txt"
check "c2st/the last line: AUC mean +- sd (95% CI lo-hi) over K folds" grep -qE \
    '^c2st: AUC [01][.][0-9]{3} [+]- [01][.][0-9]{3} [(]95% CI [01][.][0-9]{3}-[01][.][0-9]{3}[)] over 2 folds; 0[.]5 = not told apart$' \
    "$T/c2_last.txt"
check "c2st/c2st.csv has the header" test "$(head -n 1 "$T/c2_sep/c2st.csv")" = \
    "fold,n_train_real,n_train_fake,n_test_real,n_test_fake,auc,accuracy"
check "c2st/c2st.csv has a row per fold" test "$(wc -l <"$T/c2_sep/c2st.csv")" -eq 3
cp "$T/c2_sep/c2st.csv" "$T/c2_sep_before.csv"
fails_with_line "c2st/a second test into an --out holding one is refused" \
    "classify c2st: '$T/c2_sep' holds an earlier test ($T/c2_sep/c2st.csv); give another --out, or delete it to test again" \
    $B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray" --out "$T/c2_sep" $c2st_flags
check "c2st/... c2st.csv unchanged" cmp "$T/c2_sep_before.csv" "$T/c2_sep/c2st.csv"
# generated images of two runs in two folders may share names (each is its own patient): taken
mkdir -p "$T/gray_two/run1" && cp "$T/gray/"*.pgm "$T/gray_two/" && cp "$T/gray/"*.pgm "$T/gray_two/run1/"
check "c2st/--fake images of two runs with the same names are taken" \
    $B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray_two" --out "$T/c2_two" $c2st_flags
check "c2st/balanced halves: 20 + 20 to train, 20 + 20 to test" grep -q '^1,20,20,20,20,' "$T/c2_sep/c2st.csv"
check "c2st/a progress line per fold on stderr" grep -q '^c2st fold 2/2 ' "$T/c2_sep.err"
check "c2st/fold 1's bootstrap: names of no patient scheme are one patient each" grep -qE \
    '^fold 1: AUC [01][.][0-9]{3}, 95% bootstrap interval [01][.][0-9]{3}-[01][.][0-9]{3} [(]1000 resamples of its test half by patient: 20 real images of 20, 20 generated of 20[)]$' \
    "$T/c2_sep.txt"
# real images under Kermany names, three per patient: fold 1's interval draws patients (it drew
# images, too narrow where a patient has several)
mkdir -p "$T/c2_k"
i=0
for f in "$T"/ph/test/NORMAL/*.png; do i=$((i + 1)); cp "$f" "$T/c2_k/IM-$((2000 + i / 3))-000$((i % 3)).png"; done
$B/classify c2st --real "$T/c2_k" --fake "$T/gray" --out "$T/c2_k_out" $c2st_flags >"$T/c2_k.txt" 2>&1
kp=$(sed -n 's/^fold 1: .* by patient: 20 real images of \([0-9]*\), 20 generated of 20)$/\1/p' "$T/c2_k.txt")
check "c2st/fold 1's bootstrap: 20 real test images of $kp patients (7 to 19: three images each, cut to 20)" \
    test -n "$kp" -a "${kp:-0}" -ge 7 -a "${kp:-0}" -le 19
$B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/ph2/train/NORMAL" --out "$T/c2_same" $c2st_flags >"$T/c2_same.txt" 2>&1
same=$(c2st_auc "$T/c2_same.txt")
check "c2st/two phantom sets of one kind: AUC $same < 0.8 and < $sep" \
    awk -v a="$same" -v b="$sep" 'BEGIN { exit !(a != "" && a < 0.8 && a < b) }'
$B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/ph2/train/NORMAL" --out "$T/c2_again" $c2st_flags >/dev/null 2>&1
check "c2st/the same seed gives the same folds" cmp "$T/c2_same/c2st.csv" "$T/c2_again/c2st.csv"
# one folder on both sides: AUC 0.18 "significant", an artefact (a referee); refused, nothing made
g1=$(cd "$T/gray" && ls | LC_ALL=C sort | head -n 1)
fails_with_line "c2st/the same images as --real and --fake are refused" \
    "classify c2st: --fake image '$T/./gray/$g1' is the --real image '$T/gray/$g1' (one file); the test needs two sets of different images" \
    $B/classify c2st --real "$T/gray" --fake "$T/./gray" --out "$T/c2_twice" $c2st_flags
check "c2st/... nothing made" test ! -e "$T/c2_twice"
# stopped during its folds: the folder it made goes again, and the stop is said (it left an empty
# --out and no word; a referee); the process still ends by the signal
timeout --preserve-status -s TERM 3 $B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray" --out "$T/c2_stop/deep" \
    --size 32 --width 8 --folds 2 --epochs 20000 --batch 8 >/dev/null 2>"$T/c2_stop.err"
check "c2st/stopped by SIGTERM: status 143" test $? -eq 143
check "c2st/... the stop said" grep -qxF "classify c2st: stopped; no c2st.csv written (the folds printed above are all it finished)" "$T/c2_stop.err"
check "c2st/... the folders it made for --out are gone" test ! -e "$T/c2_stop"
fails_with_line "c2st/missing folder" "classify c2st: --real '$T/nope' is not a folder" \
    $B/classify c2st --real "$T/nope" --fake "$T/gray" --out "$T/c2_bad"
fails_with_line "c2st/empty folder" "classify c2st: --fake: dataset_load: no image files (jpg, jpeg, png, bmp, pgm, ppm, tga) under '$T/c2_empty'" \
    $B/classify c2st --real "$T/gray" --fake "$T/c2_empty" --out "$T/c2_bad"
fails_with_line "c2st/too few images" "classify c2st: --fake '$T/c2_three' has 3 usable images; at least 4 are needed (2 in each half)" \
    $B/classify c2st --real "$T/gray" --fake "$T/c2_three" --out "$T/c2_bad"
# int flags range-checked before anything is read, never cast to int first (--folds
# 4294967298 ran 2 folds, --epochs 4294967297 one epoch, --threads 99999999999 made libgomp
# abort) and --lr inf refused (it failed in fold 1 on a NaN loss): a helper's audit
c2b() { $B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray" --out "$T/c2_bad" "$@"; }
fails_with_line "c2st/--folds past an int" "classify c2st: --folds wants an integer from 2 to 100, got '4294967298'" \
    c2b --folds 4294967298
fails_with_line "c2st/--epochs past an int" \
    "classify c2st: --epochs wants an integer from 1 to 1000000, got '4294967297'" c2b --epochs 4294967297
fails_with_line "c2st/--threads past an int" \
    "classify c2st: --threads wants an integer from 0 to 4096, got '99999999999'" c2b --threads 99999999999
fails_with_line "c2st/--max past an int" \
    "classify c2st: --max wants an integer from 0 to 2147483647, got '4294967298'" c2b --max 4294967298
fails_with_line "c2st/--size past an int" "classify c2st: --size wants an integer from 32 to 128, got '4294967328'" \
    c2b --size 4294967328
fails_with_line "c2st/--lr inf" \
    "classify c2st: --folds 2..100, --epochs >= 1, --max 0 or >= 2, --size 32|64|128, --channels 1|3, --width 1..256, --batch >= 2, --lr > 0 and finite" \
    c2b --lr inf
check "c2st/bad input: nothing written" test ! -e "$T/c2_bad"
# the AUC from the logits, as eval's: --lr 1 drives them far past |logit| 17, where the
# float32 probabilities are all exactly 1 and tie (AUC 0.500 from them; a helper's audit)
$B/classify c2st --real "$T/ph/test/NORMAL" --fake "$T/gray" --out "$T/c2_big" $c2st_flags --lr 1 \
    >"$T/c2_big.txt" 2>&1
big=$(c2st_auc "$T/c2_big.txt")
check "c2st/saturated logits (--lr 1): phantoms vs gray squares still told apart: AUC $big > 0.9" \
    awk -v a="$big" 'BEGIN { exit !(a > 0.9) }'
# a fold that cannot be made (4 real images of one patient: no patient may sit in both halves)
# fails after the folder was made: the folder goes again (it stayed, empty: a helper's audit)
mkdir -p "$T/c2_onepat"
for f in $(ls "$T/ph/test/NORMAL" | head -4); do cp "$T/ph/test/NORMAL/$f" "$T/c2_onepat/IM-0001-$f"; done
$B/classify c2st --real "$T/c2_onepat" --fake "$T/gray" --out "$T/c2_fold" $c2st_flags >/dev/null 2>"$T/c2_fold.err"
check "c2st/a fold that cannot be made: fails, and leaves no folder" sh -c "test $? -ne 0 && test ! -e '$T/c2_fold' && grep -q 'the halves hold' '$T/c2_fold.err'"

# subset: nested patient subsets of the rare class, the other class whole
check "subset/runs" $B/classify subset --data "$T/split/train" --out "$T/sub" --sizes 2,4,all --seed 5
fails_with_line "subset/a size given twice is refused before anything is written" \
    "classify subset: --sizes: '2' is given twice" $B/classify subset --data "$T/split/train" --out "$T/sub_twice" --sizes 2,4,2
check "subset/... nothing written" test ! -e "$T/sub_twice"
mkdir -p "$T/emptyclass/NORMAL" "$T/emptyclass/PNEUMONIA"
fails_with_line "subset/an empty class folder names it" \
    "classify subset: class NORMAL: no images in '$T/emptyclass/NORMAL'" \
    $B/classify subset --data "$T/emptyclass" --out "$T/sub_empty" --sizes 2
# two images of one class with one name (in two sub-folders): split and subset link by name,
# and one image was lost while the table still counted it (a helper's audit)
cp -r "$T/k" "$T/kdup"
mkdir -p "$T/kdup/NORMAL/sub"
first=$(ls "$T/kdup/NORMAL" | grep png | head -1)
cp "$T/kdup/NORMAL/$first" "$T/kdup/NORMAL/sub/$first"
fails_with_line "split/two images of one class with one name are refused, both named" \
    "classify split: class NORMAL has two images named '$first' ('$T/kdup/NORMAL/$first' and '$T/kdup/NORMAL/sub/$first'); the images are linked by name, so rename one" \
    $B/classify split --data "$T/kdup" --out "$T/split_dup"
check "split/... nothing written" test ! -e "$T/split_dup"
# patients are told apart by file name, so train's --val-fraction split and eval refuse the
# same two images rather than count them as one patient (a helper's audit: with one folder
# per patient and names img0..img4, every patient had images in training and validation)
dup_line="'$T/kdup/NORMAL/$first' and '$T/kdup/NORMAL/sub/$first' have one file name, and patients are told apart by file name (Kermany's names, else each name is a patient; --patients lists names too): two patients would count as one. Give each image a name of its own (e.g. pat1_img0.png) and, for patients of several images, a --patients CSV"
fails_with_line "train/two images of one class with one name are refused (its validation split)" \
    "classify train: $dup_line" $B/classify train --data "$T/kdup" --out "$T/train_dup" --size 32 --epochs 1
check "train/... nothing written" test ! -e "$T/train_dup"
fails_with_line "eval/two images of one class with one name are refused (its bootstrap of patients)" \
    "classify eval: $dup_line" \
    $B/classify eval --checkpoint "$T/run/checkpoint.safetensors" --data "$T/kdup" --out "$T/eval_dup"
check "eval/... nothing written" test ! -e "$T/eval_dup"
# an --out inside --data is refused (curves.png in a class folder was a training image next time)
fails_with_line "train/an --out inside --data's class folders is refused" \
    "classify train: --out '$T/split/train/NORMAL/run' lies inside --data's folder of images '$T/split/train/NORMAL': the run's own images (samples, plots) would be read as training images; give an --out outside it" \
    $B/classify train --data "$T/split/train" --val "$T/split/val" --out "$T/split/train/NORMAL/run" --size 32 --epochs 1
check "train/... nothing written" test ! -e "$T/split/train/NORMAL/run"
fails_with_line "train/... and inside --val's" \
    "classify train: --out '$T/split/val/PNEUMONIA/run' lies inside --val's folder of images '$T/split/val/PNEUMONIA': the run's own images (samples, plots) would be read as training images; give an --out outside it" \
    $B/classify train --data "$T/split/train" --val "$T/split/val" --out "$T/split/val/PNEUMONIA/run" --size 32 --epochs 1
mkdir -p "$T/syn_extra" && cp "$T/gray/"*.pgm "$T/syn_extra/"
fails_with_line "train/... and inside an --extra folder" \
    "classify train: --out '$T/syn_extra/run' lies inside --extra's folder of images '$T/syn_extra': the run's own images (samples, plots) would be read as training images; give an --out outside it" \
    $B/classify train --data "$T/split/train" --val "$T/split/val" --out "$T/syn_extra/run" --size 32 --epochs 1 \
    --extra NORMAL="$T/syn_extra"
check "train/... nothing written" test ! -e "$T/syn_extra/run" -a ! -e "$T/split/val/PNEUMONIA/run"
# train_refused LABEL LINE OUT ARGS...: classify train on the split with ARGS fails, printing
# exactly LINE, and writes nothing at OUT
train_refused() {
    label=$1; line=$2; out=$3; shift 3
    fails_with_line "$label" "$line" $B/classify train --data "$T/split/train" --val "$T/split/val" --out "$out" \
        --size 32 --epochs 1 "$@"
    check "train/... nothing written" test ! -e "$out"
}
train_refused "train/--extra naming no folder says so (not the class folders' layout)" \
    "classify train: --extra '$T/nothere' is not a folder (it takes a folder of generated NORMAL images)" \
    "$T/extra_none" --extra NORMAL="$T/nothere"
# --extra is for generated images: a real validation or training image there is refused
vfirst=$(LC_ALL=C ls "$T/split/val/NORMAL" | head -1)
train_refused "train/--extra naming the validation folder is refused" \
    "classify train: --extra image '$T/split/val/NORMAL/$vfirst' is the validation image '$T/split/val/NORMAL/$vfirst' (one file); --extra takes generated images only" \
    "$T/extra_val" --extra NORMAL="$T/split/val/NORMAL"
tfirst=$(LC_ALL=C ls "$T/split/train/PNEUMONIA" | head -1)
train_refused "train/--extra naming a training folder is refused" \
    "classify train: --extra image '$T/split/train/PNEUMONIA/$tfirst' is the training image '$T/split/train/PNEUMONIA/$tfirst' (one file); --extra takes generated images only" \
    "$T/extra_train" --extra PNEUMONIA="$T/split/train/PNEUMONIA"
fails_with_line "split/an empty class folder names it" "classify split: class NORMAL: no images in '$T/emptyclass/NORMAL'" \
    $B/classify split --data "$T/emptyclass" --out "$T/split_empty"
ls "$T/sub/n2/train/NORMAL" | grep -oE 'IM-[0-9]+' | sort -u >"$T/sub2.txt"
ls "$T/sub/n4/train/NORMAL" | grep -oE 'IM-[0-9]+' | sort -u >"$T/sub4.txt"
check "subset/size 2 holds 2 patients" test "$(wc -l <"$T/sub2.txt")" -eq 2
check "subset/size 4 holds 4 patients" test "$(wc -l <"$T/sub4.txt")" -eq 4
check "subset/nested: size 2's patients are in size 4" test -z "$(comm -23 "$T/sub2.txt" "$T/sub4.txt")"
check "subset/all: every train NORMAL image" test "$(ls "$T/sub/nall/train/NORMAL" | wc -l)" -eq "$(ls "$T/split/train/NORMAL" | wc -l)"
check "subset/the other class whole" test "$(ls -L "$T/sub/n2/train/PNEUMONIA" | wc -l)" -eq "$(ls "$T/split/train/PNEUMONIA" | wc -l)"
n2=$(ls "$T/sub/n2/train/NORMAL" | wc -l)
n_pn=$(ls "$T/split/train/PNEUMONIA" | wc -l)
p_pn=$(ls "$T/split/train/PNEUMONIA" | grep -oE 'person[0-9]+' | sort -u | wc -l)
check "subset/count.csv" test "$(cat "$T/sub/n2/count.csv")" = "$(printf 'class,patients,images\nNORMAL,2,%d\nPNEUMONIA,%d,%d' "$n2" "$p_pn" "$n_pn")"
check "subset/the same seed, the same patients" $B/classify subset --data "$T/split/train" --out "$T/sub_again" --sizes 2 --seed 5
check "subset/the same seed, the same files" test "$(ls "$T/sub/n2/train/NORMAL")" = "$(ls "$T/sub_again/n2/train/NORMAL")"
n_np=$(ls "$T/split/train/NORMAL" | grep -oE 'IM-[0-9]+' | sort -u | wc -l)
fails_with_line "subset/a size larger than the class" \
    "classify subset: class NORMAL in '$T/split/train' has $n_np patients; size 999 needs 999" \
    $B/classify subset --data "$T/split/train" --out "$T/sub_bad" --sizes 999
fails_with_line "subset/refuses to write over a subset" \
    "classify subset: '$T/sub/n2/train' already exists; remove it or choose another --out" \
    $B/classify subset --data "$T/split/train" --out "$T/sub" --sizes 2
fails_with_line "subset/--rare names a class" "classify subset: --rare 'COVID' is neither class (NORMAL, PNEUMONIA)" \
    $B/classify subset --data "$T/split/train" --out "$T/sub_bad" --sizes 2 --rare COVID
fails_with_line "subset/bad size" "classify subset: --sizes: 'ten' is not a positive number of patients or 'all'" \
    $B/classify subset --data "$T/split/train" --out "$T/sub_bad" --sizes 2,ten
check "subset/bad input: nothing written" test ! -e "$T/sub_bad"

# any dataset: other class names (--classes) and patients from a CSV (--patients)
mkdir -p "$T/any/healthy" "$T/any/sick"
echo "file,patient" >"$T/any/patients.csv"
i=0
for f in "$T"/ph/train/NORMAL/*.png; do
    i=$((i + 1)); cp "$f" "$T/any/healthy/scan$i.png"; echo "scan$i.png,h$((i / 2))" >>"$T/any/patients.csv"
done
for f in "$T"/ph/train/PNEUMONIA/*.png; do
    i=$((i + 1)); cp "$f" "$T/any/sick/scan$i.png"; echo "scan$i.png,s$((i / 3))" >>"$T/any/patients.csv"
done
# split lists names only: files of other types beside the images get the same warning as a
# load's, and a class of nothing else says what it holds (it said "no images")
mkdir -p "$T/dcm/NORMAL" "$T/dcm/PNEUMONIA"
cp "$T"/k/NORMAL/*.png "$T/dcm/NORMAL/"
cp "$T"/k/PNEUMONIA/*.png "$T/dcm/PNEUMONIA/"
printf 'DICM' >"$T/dcm/NORMAL/scan 1.dcm"
$B/classify split --data "$T/dcm" --out "$T/dcm_split" --seed 1 >"$T/dcm_split.txt" 2>&1
check "split/a DICOM beside the images: split, with a warning" grep -qxF \
    "classify split: warning: 1 file under '$T/dcm/NORMAL' is not of an image type read here (jpg, jpeg, png, bmp, pgm, ppm, tga) and was not used (convert DICOM, TIFF or WebP images to PNG)" \
    "$T/dcm_split.txt"
rm "$T"/dcm/NORMAL/*.png
fails_with_line "split/a class of DICOMs only: what it holds" \
    "classify split: class NORMAL: no images in '$T/dcm/NORMAL', only 1 other file, the first '$T/dcm/NORMAL/scan 1.dcm' (convert DICOM, TIFF or WebP images to PNG)" \
    $B/classify split --data "$T/dcm" --out "$T/dcm_split2" --seed 1
# a CSV naming one file name in two folders (each class numbering its own files): one name, two
# patients - refused, saying that names are matched without their folders (it only said "two
# patients", which the CSV did not seem to say: a referee's walk-through)
printf 'file,patient\nhealthy/img_0.png,H1\nsick/img_0.png,S1\n' >"$T/two_folders.csv"
fails_with_line "any/one file name in two folders of a CSV: refused, saying names lose their folders" \
    "classify split: --patients '$T/two_folders.csv' gives 'img_0.png' two patients: 'H1' and 'S1' (names are matched without their folders, so each image needs a name of its own across the classes: rename them, e.g. with the class before the name)" \
    $B/classify split --data "$T/any" --out "$T/any_split_tf" --classes healthy,sick --patients "$T/two_folders.csv" --seed 2
$B/classify split --data "$T/any" --out "$T/any_split" --classes healthy,sick --patients "$T/any/patients.csv" \
    --seed 2 >"$T/any_split.txt" 2>&1
check "any/split with --classes and --patients" test $? -eq 0
check "any/... no warning about patients (the CSV gives them)" sh -c "! grep -q warning '$T/any_split.txt'"
for s in train val test; do
    (cd "$T/any_split/$s" && ls healthy sick | grep scan) | sed 's/^/,/; s/$/,/' >"$T/any_$s.txt"
    grep -F -f "$T/any_$s.txt" "$T/any/patients.csv" | cut -d, -f2 | sort -u >"$T/any_pat_$s.txt"
done
check "any/no CSV patient on two sides" test -z "$(cat "$T"/any_pat_*.txt | sort | uniq -d)"
check "any/train with the class names" $B/classify train --data "$T/any_split/train" --val "$T/any_split/val" \
    --out "$T/any_run" --size 32 --width 4 --epochs 1 --batch 16 --classes healthy,sick \
    --patients "$T/any/patients.csv" --extra "healthy=$T/ph/test/NORMAL"
check "any/eval with the class names" $B/classify eval --checkpoint "$T/any_run/checkpoint.safetensors" \
    --data "$T/any_split/test" --classes healthy,sick --patients "$T/any/patients.csv" --bootstrap 50
check "any/scores.csv: header" test "$(head -n 1 "$T/any_run/eval/scores.csv")" = "path,patient,label,score,threshold,called,logit"
row=$(grep -m1 '/healthy/scan3.png,' "$T/any_run/eval/scores.csv" || grep -m1 '/healthy/' "$T/any_run/eval/scores.csv")
f=$(basename "$(echo "$row" | cut -d, -f1)")
check "any/scores.csv: the CSV's patient and label 0 for healthy" \
    test "$(echo "$row" | cut -d, -f2,3)" = "$(grep "^$f," "$T/any/patients.csv" | cut -d, -f2),0"
check "any/scores.csv: score = sigmoid(logit) and called = score >= threshold on every row" awk -F, \
    'NR > 1 { s = 1 / (1 + exp(-$7)); d = s - $4; if (d < 0) d = -d; if (d > 1e-6 || ($4 >= $5) != $6) bad++ } END { exit bad > 0 || NR < 3 }' \
    "$T/any_run/eval/scores.csv"
# eval with the classes in the other order turned every label over (AUC 1 - AUC) without
# a word; the checkpoint records its classes: another order is refused, none given takes them
fails_with_line "any/eval: the classes in the other order are refused" \
    "classify eval: '$T/any_run/checkpoint.safetensors' was trained with --classes healthy,sick, not sick,healthy (the second class is the positive one); give --classes healthy,sick, or leave it out" \
    $B/classify eval --checkpoint "$T/any_run/checkpoint.safetensors" --data "$T/any_split/test" \
    --classes sick,healthy --patients "$T/any/patients.csv" --bootstrap 50 --out "$T/any_swapped"
check "any/eval: the other order refused: nothing written" test ! -e "$T/any_swapped"
check "any/eval without --classes runs" $B/classify eval --checkpoint "$T/any_run/checkpoint.safetensors" \
    --data "$T/any_split/test" --patients "$T/any/patients.csv" --bootstrap 50 --out "$T/any_default"
check "any/eval without --classes: the checkpoint's classes, the same scores" \
    cmp "$T/any_run/eval/scores.csv" "$T/any_default/scores.csv"
cp -r "$T/any" "$T/any_bad"
rm "$T/any_bad/patients.csv"
head -n 5 "$T/any/patients.csv" >"$T/any_bad/short.csv"
fails_with_line "any/an image the CSV does not list" \
    "classify split: image '$T/any_bad/healthy/scan10.png' has no patient in --patients '$T/any_bad/short.csv'" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/short.csv"
# a CSV that lists no image (names without their extension): every image had a line
# (thousands, on a real dataset) and nothing said why; now 3, a count, and what it lists
sed 's/^\(scan[0-9]*\)\.png,/\1,/' "$T/any/patients.csv" >"$T/any_bad/noext.csv"
n_any=$(find "$T/any_bad/healthy" "$T/any_bad/sick" -name '*.png' | wc -l)
fails_with_line "any/a CSV that lists no image: says what it lists" \
    "classify split: --patients '$T/any_bad/noext.csv' lists none of them; its names are matched whole, extension included, without folders: it lists 'scan1', for one" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/noext.csv"
check "any/a CSV that lists no image: 3 images named" test "$(grep -c 'has no patient in' "$T/out.txt")" -eq 3
check "any/a CSV that lists no image: how many more" \
    grep -qxF "classify split: ... and $((n_any - 3)) more of the $n_any images" "$T/out.txt"
first_test=$(ls "$T/any_split/test/healthy" | head -n 1)
grep -v "^$first_test," "$T/any/patients.csv" >"$T/any_bad/no_test.csv"
fails_with_line "any/eval: a test image the CSV does not list" \
    "classify eval: image '$T/any_split/test/healthy/$first_test' has no patient in --patients '$T/any_bad/no_test.csv'" \
    $B/classify eval --checkpoint "$T/any_run/checkpoint.safetensors" --data "$T/any_split/test" \
    --classes healthy,sick --patients "$T/any_bad/no_test.csv" --out "$T/any_bad_eval"
check "any/eval refused: nothing written" test ! -e "$T/any_bad_eval"
sed 's/^scan1\.png,h0$/scan1.png,s20/' "$T/any/patients.csv" >"$T/any_bad/two.csv"
fails_with_line "any/a patient in both classes" \
    "classify split: patient 's20' has images in both classes ('$T/any_bad/healthy/scan1.png' and '$T/any_bad/sick/scan61.png')" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/two.csv"
sed 's/^\(scan[0-9]*\.png\),h[0-9]*$/\1,h0/' "$T/any/patients.csv" >"$T/any_bad/one.csv"
fails_with_line "any/a class with too few patients" \
    "classify split: class healthy has 1 patient: too few for train, val and test shares 0.65 / 0.15 / 0.20 (val gets none)" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/one.csv"
printf 'file,patient\nscan1.png\n' >"$T/any_bad/broken.csv"
fails_with_line "any/a CSV line without a patient" \
    "classify split: --patients '$T/any_bad/broken.csv' line 2: expected 'file,patient', got 'scan1.png'" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/broken.csv"
# a CSV as spreadsheets write it: every field in double quotes, a name with a comma and a
# quote in it ("" inside the quotes); the quotes were read as part of the names, so every
# image "had no patient", and a name with a comma could not be given at all
mkdir -p "$T/any_quoted"
cp -r "$T/any/healthy" "$T/any/sick" "$T/any_quoted/"
mv "$T/any_quoted/healthy/scan2.png" "$T/any_quoted/healthy/scan \"2\", left.png"
sed 's/^\(scan[0-9]*\.png\),\(.*\)$/"\1","\2"/; s/^"scan2\.png"/"scan ""2"", left.png"/' "$T/any/patients.csv" \
    >"$T/any_quoted/patients.csv"
check "any/a quoted CSV: split runs" $B/classify split --data "$T/any_quoted" --out "$T/any_quoted_split" \
    --classes healthy,sick --patients "$T/any_quoted/patients.csv" --seed 2
check "any/a quoted CSV: the name with a comma beside its patient's other image" \
    test -n "$(find "$T/any_quoted_split" -name scan3.png -printf '%h')" -a \
    "$(find "$T/any_quoted_split" -name 'scan "2", left.png' -printf '%h')" = \
    "$(find "$T/any_quoted_split" -name scan3.png -printf '%h')"
printf 'file,patient\n"scan1.png,h0\n' >"$T/any_bad/unclosed.csv"
fails_with_line "any/a CSV quote not closed" \
    "classify split: --patients '$T/any_bad/unclosed.csv' line 2: expected 'file,patient' (a quote not closed, or text after a closing quote), got '\"scan1.png,h0'" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/unclosed.csv"
# "scan1.png, h0": the blank is part of the field, so ' h0' and another line's 'h0' were two
# patients and one patient's images could land on both sides; in quotes it is kept
sed 's/^scan1\.png,h0$/scan1.png, h0/' "$T/any/patients.csv" >"$T/any_bad/blank.csv"
fails_with_line "any/a CSV field with a blank outside quotes" \
    "classify split: --patients '$T/any_bad/blank.csv' line 2: ' h0' begins or ends with a blank; remove it, or put the field in double quotes to keep it" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/blank.csv"
printf 'file,patient\nscan1.png\t,h0\n' >"$T/any_bad/tab.csv"
fails_with_line "any/a CSV file name ending in a tab" \
    "classify split: --patients '$T/any_bad/tab.csv' line 2: 'scan1.png$(printf '\t')' begins or ends with a blank; remove it, or put the field in double quotes to keep it" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/tab.csv"
printf 'file,patient\nscan1.png, "h0"\n' >"$T/any_bad/before_quote.csv"
fails_with_line "any/a CSV blank before an opening quote" \
    "classify split: --patients '$T/any_bad/before_quote.csv' line 2: ' \"h0\"' has a blank before its opening quote; remove it" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/before_quote.csv"
mkdir -p "$T/any_blank"
cp -r "$T/any/healthy" "$T/any/sick" "$T/any_blank/"
sed '2,$s/^\(.*\),\(.*\)$/\1," \2"/' "$T/any/patients.csv" >"$T/any_blank/patients.csv"
check "any/a quoted id with a blank: split runs" $B/classify split --data "$T/any_blank" --out "$T/any_blank_split" \
    --classes healthy,sick --patients "$T/any_blank/patients.csv" --seed 2
# and eval's scores.csv writes such an id in quotes, so that the file reads back as --patients
check "any/a quoted id with a blank: eval runs" $B/classify eval --checkpoint "$T/any_run/checkpoint.safetensors" \
    --data "$T/any_blank_split/test" --classes healthy,sick --patients "$T/any_blank/patients.csv" --bootstrap 20 \
    --out "$T/any_blank_eval"
check "any/a quoted id with a blank: quoted in scores.csv, blank kept" python3 -c '
import csv, sys
text = open(sys.argv[1]).read().splitlines()
rows = list(csv.reader(text))
ok = len(rows) > 2 and all(r[1][0] == " " and (",\"" + r[1] + "\",") in line for r, line in zip(rows[1:], text[1:]))
sys.exit(not ok)
' "$T/any_blank_eval/scores.csv"
# a line past the reader's 2046 characters: its rest was read as the next line, and the
# message named line 3 for a long line 2
python3 -c 'import sys; open(sys.argv[1], "w").write("file,patient\n" + "x" * 3000 + ".png,p1\nscan1.png,h0\n")' \
    "$T/any_bad/long.csv"
fails_with_line "any/a CSV line too long is named by its own number" \
    "classify split: --patients '$T/any_bad/long.csv' line 2 is longer than 2046 characters" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy,sick --patients "$T/any_bad/long.csv"
fails_with_line "any/--classes needs two names" \
    "classify split: --classes wants two different folder names NEG,POS, got 'healthy'" \
    $B/classify split --data "$T/any_bad" --out "$T/any_bad_split" --classes healthy
fails_with_line "any/--extra names a class" "classify train: --extra 'ill=$T/ph/test/NORMAL': 'ill' is neither class (healthy, sick)" \
    $B/classify train --data "$T/any_split/train" --out "$T/any_bad_split" --classes healthy,sick --extra "ill=$T/ph/test/NORMAL"
check "any/bad input: nothing written" test ! -e "$T/any_bad_split"

# the learning-curve study on Kermany-named phantoms: 2 sizes x 2 splits, every
# arm, the report; a second run redoes nothing; a changed setting is refused
# with the difference and changes nothing; REDO=1 redoes that step
st() { DATA="$T/k" OUT="$T/study" SIZES=${SIZES:-3,6} SPLITS=2 SEEDS=1 CLS_EPOCHS=${CLS_EPOCHS:-1} GAN_ITERS=10 B=$B bash examples/study.sh; }
st >"$T/study1.txt" 2>&1
check "study/runs" test $? -eq 0
check "study/results.md: 2 primary rows per size" test "$(grep -cE '^\| (3|6) \| [0-9.]+ \| (ROC AUC|balanced accuracy) \|' "$T/study/results.md")" -ge 4
check "study/results.png" test -s "$T/study/results.png"
check "study/results.csv" test -s "$T/study/results.csv"
check "study/provenance: every step listed" test "$(grep -cE '^- split[^ ]*: .*; key [0-9a-f]{12}; took ' "$T/study/results.md")" -eq "$(ls "$T/study/steps" | grep -c '\.done$')"
check "study/a GAN per split and size" test "$(ls -d "$T"/study/split*/n*/gan | wc -l)" -eq 4
check "study/20 classifier runs evaluated" test "$(ls "$T"/study/split*/n*/*/seed1/eval/scores.csv | wc -l)" -eq 20
st >"$T/study2.txt" 2>&1
check "study/resumes: second run succeeds" test $? -eq 0
check "study/resumes: nothing redone" test -z "$(grep -E '^== .*(GAN|classifier|split [0-9]:)' "$T/study2.txt")"
cp "$T/study/steps/split1.n3.real.seed1.key" "$T/key_before"
CLS_EPOCHS=2 st >"$T/study3.txt" 2>&1
check "study/a changed setting is refused" test $? -ne 0
check "study/the refusal names the step" grep -qxF "study: step split1.n3.real.seed1 was made with other inputs or settings:" "$T/study3.txt"
check "study/the refusal shows the difference" grep -qxF "    > classify train  --epochs 2 --seed 1 --classes NORMAL,PNEUMONIA" "$T/study3.txt"
check "study/refused: the step's key unchanged" cmp "$T/key_before" "$T/study/steps/split1.n3.real.seed1.key"
SIZES=3 CLS_EPOCHS=2 REDO=1 st >"$T/study4.txt" 2>&1
check "study/REDO=1 redoes the changed steps" grep -q "redo split1.n3.real.seed1: its inputs or settings changed" "$T/study4.txt"
check "study/REDO=1: the GAN is kept" test -z "$(grep -E 'GAN, ' "$T/study4.txt")"

# the study on any dataset: other class names, the rare class named, patients from a CSV
DATA="$T/any" CLASSES=healthy,sick RARE=healthy PATIENTS="$T/any/patients.csv" OUT="$T/study_any" SIZES=3 \
    SPLITS=1 SEEDS=1 CLS_EPOCHS=1 GAN_ITERS=5 B=$B bash examples/study.sh >"$T/study_any.txt" 2>&1
check "study/any dataset: runs" test $? -eq 0
check "study/any dataset: the GAN made the rare class" test -n "$(ls "$T/study_any/split1/n3/generated/healthy")"
check "study/any dataset: the report names the rare class" grep -qF "real healthy images in the training subset" "$T/study_any/results.md"
check "study/any dataset: the CSV's patients in scores.csv" grep -qE ',h[0-9]+,0,' "$T/study_any/split1/n3/real/seed1/eval/scores.csv"
RARE=ill DATA="$T/any" CLASSES=healthy,sick OUT="$T/study_bad" B=$B bash examples/study.sh >"$T/study_bad.txt" 2>&1
check "study/RARE must be a class: refused" test $? -ne 0
check "study/RARE must be a class: the message" grep -qxF "study: RARE=ill is neither class of CLASSES=healthy,sick" "$T/study_bad.txt"
check "study/RARE must be a class: nothing written" test ! -e "$T/study_bad"

# the real images of this workplace, when they are there: the patient split of
# kermany224 (file names only, seconds); a clone elsewhere skips it
REAL=${KERMANY224:-../shared/data/kermany224}
if [ -d "$REAL/NORMAL" ] && [ -d "$REAL/PNEUMONIA" ]; then
    check "split/kermany224 runs" $B/classify split --data "$REAL" --out "$T/real" --val 0.15 --test 0.15
    for s in train val test; do
        ls "$T/real/$s/NORMAL" "$T/real/$s/PNEUMONIA" | grep -oE '^(NORMAL2-)?IM-[0-9]+|^person[0-9]+' |
            sed 's/^NORMAL2-//' | sort -u >"$T/real_$s.txt"
    done
    check "split/kermany224: no patient on two sides" test -z "$(cat "$T"/real_*.txt | sort | uniq -d)"
    check "split/kermany224: all 3,650 files placed" test "$(find -L "$T/real" -type f | wc -l)" -eq 3650
else
    echo "test_classify.sh: skipped: the kermany224 split checks ($REAL not found; set KERMANY224=DIR)"
fi

rm -rf "$T"
echo "test_classify.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
