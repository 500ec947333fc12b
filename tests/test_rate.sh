#!/bin/sh
# test_rate.sh - the real-or-generated rating page and its scoring, end to end on
# phantoms: rate make writes a page with no answer in it (no key entry, no file
# name, nothing fetched from the network); rate score gives the expected
# figures and clear messages for answers that do not fit the key; then, where
# Chromium, chromedriver and selenium exist, tests/test_rate_browser.py drives
# the page in a real browser and rate score reads the file it downloaded (else
# a printed skip). Prints "test_rate: N passed, M failed".
B=${B:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_rate.XXXXXX")
. tests/checks.sh

$B/phantom --out "$T/ph" --normal 12 --pneumonia 12 --val 0 --test 0 --size 96 >/dev/null
$B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 6 --size 128 --seed 3 \
    --out "$T/page" >/dev/null 2>&1
check "rate make/writes rate.html and key.csv" test -s "$T/page/rate.html" -a -s "$T/page/key.csv"
check "rate make/key.csv has a header and 12 rows" test "$(wc -l <"$T/page/key.csv")" -eq 13
check "rate make/the page embeds 12 PNG images" test "$(grep -o 'data:image/png;base64,' "$T/page/rate.html" | wc -l)" -eq 12
# no answer in the page: every id is there, but no truth next to it and no file name
leaks=0
tail -n +2 "$T/page/key.csv" | {
    while IFS=, read -r id truth src; do
        grep -q "$id" "$T/page/rate.html" || leaks=$((leaks + 1))
        grep -qF "$id,$truth" "$T/page/rate.html" && leaks=$((leaks + 1))
        grep -qF "$(basename "$src")" "$T/page/rate.html" && leaks=$((leaks + 1))
        grep -qF "$(dirname "$src")" "$T/page/rate.html" && leaks=$((leaks + 1))
    done
    echo $leaks >"$T/leaks"
}
check "rate make/the page holds every id and no key entry, file or folder name" test "$(cat "$T/leaks")" -eq 0
check "rate make/the page fetches nothing (no http(s) URL, no external script or style)" \
    sh -c "! grep -Eiq 'https?:|(src|href)=.?//|<link|<script[^>]+src' '$T/page/rate.html' && ! grep -Eq '@import|[^A-Za-z]url\\(' '$T/page/rate.html'"
fails_with_line "rate make/never overwrites a key" \
    "rate make: '$T/page/key.csv' exists already (answers may depend on it); not overwriting it" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 6 --out "$T/page"
fails_with_line "rate make/--count larger than a folder says what it needs" \
    "rate make: --count 13 needs 13 images in '$T/ph/train/NORMAL', it has 12" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 13 --out "$T/page2"

# answers made from the key: rater A right on all but the first generated image (called
# "real, a guess"; the others "probably"), rater B says "real, probably" to all
awk -F, 'NR > 1 { a = $2; c = 2; if (a == "fake" && !flipped) { a = "real"; c = 1; flipped = 1 }
                  print "\"Dr A\"," $1 "," a "," c ",1000" }
         BEGIN { print "rater,image,answer,confidence,ms" }' "$T/page/key.csv" >"$T/a.csv"
awk -F, 'NR > 1 { print "B," $1 ",real,2,800" } BEGIN { print "rater,image,answer,confidence,ms" }' \
    "$T/page/key.csv" >"$T/b.csv"
$B/rate score --key "$T/page/key.csv" "$T/a.csv" "$T/b.csv" --out "$T/score" >"$T/score.txt" 2>&1
check "rate score/runs" test $? -eq 0
# A: 11 of 12; Clopper-Pearson [0.615, 0.998] (scipy's beta quantiles); binomtest p = 26/4096;
# 5 of 6 generated found, all 6 real; the ratings (+2 x5, -1 | -2 x6) still rank every
# generated image above every real one: AUC 1
check "rate score/rater A's row: accuracy, exact interval, exact p, sensitivity, specificity, AUC" \
    grep -qxF "Dr A                12     0.917  [0.615, 0.998]    0.00635        0.833        1.000  1.000" "$T/score.txt"
check "rate score/rater B's row: 6 of 12, p = 1, sensitivity 0, specificity 1, AUC 0.5" \
    grep -qxF "B                   12     0.500  [0.211, 0.789]          1        0.000        1.000  0.500" "$T/score.txt"
# the pooled row resamples images, not answers (every rater saw the same images: two raters
# with the same answers were counted as twice the evidence - a referee's reading): its p
# against an exact permutation test over all 924 ways to pick the 6 generated of 12 images,
# its interval against a bootstrap over images in Python (stdlib), 200,000 draws
pooled_matches() {   # ANSWERS_FILES... : the pooled row of rate score on them, against Python
    $B/rate score --key "$T/page/key.csv" "$@" --out "$T/pooled_score" >"$T/pooled.txt" 2>&1 &&
    /usr/bin/python3 - "$T/page/key.csv" "$T/pooled.txt" "$@" <<'PYEOF'
import csv, itertools, random, sys
key = list(csv.DictReader(open(sys.argv[1])))
ids = [r["id"] for r in key]
fake = [r["truth"] == "fake" for r in key]
a, c = [0] * len(ids), [0] * len(ids)
for f in sys.argv[3:]:
    for r in csv.DictReader(open(f)):
        i = ids.index(r["image"])
        a[i] += 1
        c[i] += r["answer"] == "fake"
right = lambda gen: sum(c[i] if gen[i] else a[i] - c[i] for i in range(len(ids)))
n, nf, A = len(ids), sum(fake), sum(a)
E = sum(a[i] - c[i] for i in range(n)) + nf / n * sum(2 * c[i] - a[i] for i in range(n))
obs = abs(right(fake) - E)
count = total = 0
for pick in itertools.combinations(range(n), nf):
    gen = [i in pick for i in range(n)]
    count += abs(right(gen) - E) >= obs - 1e-9
    total += 1
p_exact = count / total
rng = random.Random(5)
boot = []
for _ in range(200000):
    draw = [rng.randrange(n) for _ in range(n)]
    s = sum(a[j] for j in draw)
    if s:
        boot.append(sum(c[j] if fake[j] else a[j] - c[j] for j in draw) / s)
boot.sort()
lo, hi = boot[int(0.025 * len(boot) + 0.999999) - 1], boot[int(0.975 * len(boot) + 0.999999) - 1]
row = [l for l in open(sys.argv[2]) if l.startswith("pooled ")][0]
acc, clo, chi, cp = float(row.split()[2]), float(row.split()[3].strip("[,")), float(row.split()[4].strip("]")), float(row.split()[5])
ok = abs(acc - right(fake) / A) < 6e-4 and abs(cp - p_exact) < 0.02 and abs(clo - lo) < 0.045 and abs(chi - hi) < 0.045
print("C: acc %.3f [%.3f, %.3f] p %.4g; Python: acc %.3f [%.3f, %.3f] p %.4g (exact)" % (acc, clo, chi, cp, right(fake) / A, lo, hi, p_exact))
sys.exit(0 if ok else 1)
PYEOF
}
check "rate score/pooled row of A and B: p by permutation of images, interval by a bootstrap over images" \
    pooled_matches "$T/a.csv" "$T/b.csv"
check "rate score/... and a note says so" grep -qxF \
    "(pooled: every rater saw the same images, so its interval and p resample images - a bootstrap over images and a permutation of which are generated, 10000 each - not answers)" \
    "$T/score.txt"
# rater C, 9 of 12 right (5 of 6 generated, 4 of 6 real): p = 0.146 alone; the same answers
# under a second name (C2) read 18 of 24, p = 0.023 "better than guessing" counted as answers
awk -F, 'NR > 1 { a = $2; if (a == "fake" && nf++ == 0) a = "real"; else if (a == "real" && nr++ < 2) a = "fake"
                  print "C," $1 "," a ",2,900" }
         BEGIN { print "rater,image,answer,confidence,ms" }' "$T/page/key.csv" >"$T/c.csv"
sed 's/^C,/C2,/' "$T/c.csv" >"$T/c2.csv"
check "rate score/one rater's answers under two names: the pooled p is that of the images, not of 24 answers" \
    pooled_matches "$T/c.csv" "$T/c2.csv"
check "rate score/... and no verdict of 'better than guessing'" \
    grep -q "^pooled: 18 of 24 correct; no better than guessing (p >= 0.05)" "$T/pooled.txt"
# names are never cut (at 16 bytes two sites' raters read alike, and a cut fell inside the
# en dash's UTF-8 bytes): the column is as wide as the longest name, counted in characters
sed 's/^C,/"Radiologist 1 \xe2\x80\x93 site A",/' "$T/c.csv" >"$T/site_a.csv"
sed 's/^C,/"Radiologist 1 \xe2\x80\x93 site B",/' "$T/c.csv" >"$T/site_b.csv"
$B/rate score --key "$T/page/key.csv" "$T/site_a.csv" "$T/site_b.csv" --out "$T/sites" >"$T/sites.txt" 2>&1
check "rate score/two long names with a non-ASCII character: whole, the columns aligned" sh -c "
    grep -qxF 'Radiologist 1 $(printf '\342\200\223') site B    12     0.750  [0.428, 0.945]      0.146        0.833        0.667  0.750' '$T/sites.txt' &&
    grep -qxF 'pooled                    24     0.750  [0.500, 1.000]      0.239        0.833        0.667  0.750' '$T/sites.txt'"
check "rate score/Fleiss' kappa between the two" \
    grep -q "^agreement between the 2 raters: Fleiss' kappa -0.[0-9]* over the 12 images all of them answered$" "$T/score.txt"
check "rate score/writes score.png" test -s "$T/score/score.png"
(head -1 "$T/b.csv"; echo "B,notanid,real,2,5") >"$T/unknown.csv"
fails_with_line "rate score/an unknown id is named with its line" \
    "rate score: $T/unknown.csv:2: image 'notanid' is not in the key (answers for another page?)" \
    $B/rate score --key "$T/page/key.csv" "$T/unknown.csv"
# a rater's name quoted with text after the closing quote ('"B"x'): refused by its line, as by
# rate's own reader before cli.h's (shared with classify and study_report) replaced it
(head -1 "$T/b.csv"; sed -n 2p "$T/b.csv" | sed 's/^B,/"B"x,/') >"$T/afterquote.csv"
fails_with_line "rate score/text after a closing quote is refused with its line" \
    "rate score: $T/afterquote.csv:2: expected 'rater,image,real|fake,1..3,ms'" \
    $B/rate score --key "$T/page/key.csv" "$T/afterquote.csv"
(head -3 "$T/b.csv"; sed -n 2p "$T/b.csv") >"$T/dup.csv"
id=$(sed -n 2p "$T/b.csv" | cut -d, -f2)
fails_with_line "rate score/a duplicate answer names both lines" \
    "rate score: $T/dup.csv:4: image '$id' was answered already on line 2" \
    $B/rate score --key "$T/page/key.csv" "$T/dup.csv"
fails_with_line "rate score/the same rater twice is refused" \
    "rate score: '$T/b.csv' and '$T/b.csv' are both from rater 'B': give each rater's file once (two raters who typed one name: change the rater column of one file)" \
    $B/rate score --key "$T/page/key.csv" "$T/b.csv" "$T/b.csv"
fails_with_line "rate score/not an answers file" \
    "rate score: '$T/page/key.csv' is not an answers file from rate.html (its first line is not 'rater,image,answer,confidence,ms')" \
    $B/rate score --key "$T/page/key.csv" "$T/page/key.csv"
head -5 "$T/b.csv" >"$T/part.csv"
$B/rate score --key "$T/page/key.csv" "$T/part.csv" >"$T/part.txt" 2>&1
check "rate score/missing images: a warning, the answered ones scored" \
    grep -q "^rate score: warning: B ($T/part.csv) answered 4 of 12 images (first missing: '[a-z0-9]*'); scoring those 4$" "$T/part.txt"

# a partial file that answered only real images: all right, but nothing was tested (no
# verdict, though 6 of 6 would be p = 0.03)
(head -1 "$T/b.csv"; awk -F, '$2 == "real" { print "B," $1 ",real,2,800" }' "$T/page/key.csv") >"$T/onlyreal.csv"
$B/rate score --key "$T/page/key.csv" "$T/onlyreal.csv" >"$T/onlyreal.txt" 2>&1
check "rate score/answers to real images only: no verdict, the test cannot be made" \
    grep -qxF "B: 6 of 6 correct; the test cannot be made: no generated image was answered" "$T/onlyreal.txt"
# a rater's name of any length is one name (it was cut at 127 bytes, then refused as two raters)
long=$(printf 'Dr %0200d' 7)
sed "s/^B,/$long,/" "$T/b.csv" >"$T/long.csv"
check "rate score/a 203-byte rater name is read whole" \
    sh -c "$B/rate score --key '$T/page/key.csv' '$T/long.csv' | grep -qxF '$long: 6 of 12 correct; no better than guessing (p >= 0.05): no evidence the generated images can be told apart'"
# a byte order mark (Excel's "CSV UTF-8") before the header of either file
printf '\357\273\277' | cat - "$T/a.csv" >"$T/bom.csv"
printf '\357\273\277' | cat - "$T/page/key.csv" >"$T/bomkey.csv"
check "rate score/an answers file that starts with a byte order mark" \
    sh -c "$B/rate score --key '$T/page/key.csv' '$T/bom.csv' --out '$T/s2' | grep -q '^Dr A: 11 of 12 correct; '"
check "rate score/a key.csv that starts with a byte order mark" \
    sh -c "$B/rate score --key '$T/bomkey.csv' '$T/a.csv' --out '$T/s2' | grep -q '^Dr A: 11 of 12 correct; '"
(cat "$T/page/key.csv"; echo) >"$T/blankkey.csv"
check "rate score/a key.csv with a blank last line" \
    sh -c "$B/rate score --key '$T/blankkey.csv' '$T/a.csv' --out '$T/s2' | grep -q '^Dr A: 11 of 12 correct; '"
# a folder or a missing file, as the key or as answers: the file and the reason (a folder
# read as a file with no lines: "has no images", "has no answers")
mkdir -p "$T/adir"
fails_with_line "rate score/a folder as the key is named as unreadable" "rate score: cannot read '$T/adir': Is a directory" \
    $B/rate score --key "$T/adir" "$T/a.csv"
fails_with_line "rate score/a folder as answers is named as unreadable" "rate score: cannot read '$T/adir': Is a directory" \
    $B/rate score --key "$T/page/key.csv" "$T/adir"
fails_with_line "rate score/a missing answers file says why" \
    "rate score: cannot read '$T/nothere.csv': No such file or directory" \
    $B/rate score --key "$T/page/key.csv" "$T/nothere.csv"
# an id twice in the key: named at the first line that repeats one
(head -3 "$T/page/key.csv"; sed -n 2p "$T/page/key.csv"; sed -n 3p "$T/page/key.csv") >"$T/twice.csv"
fails_with_line "rate score/an id twice in the key is named at its second line" \
    "rate score: $T/twice.csv:4: id '$(sed -n 2p "$T/page/key.csv" | cut -d, -f1)' appears twice" \
    $B/rate score --key "$T/twice.csv" "$T/a.csv"
# the largest key rate make writes (--count 100000: 200,000 ids) is read in about a second
# (each line searched the whole key: minutes)
awk 'BEGIN { print "id,truth,source"; for (i = 0; i < 200000; i++) printf "i%09d,%s,x.png\n", i, i % 2 ? "fake" : "real" }' \
    >"$T/bigkey.csv"
awk 'BEGIN { print "rater,image,answer,confidence,ms"; for (i = 0; i < 200000; i++) printf "R,i%09d,real,2,700\n", i }' \
    >"$T/biga.csv"
check "rate score/a key and answers of 200,000 images within 20 s" \
    sh -c "timeout 20 $B/rate score --key '$T/bigkey.csv' '$T/biga.csv' --out '$T/bigscore' | grep -qxF 'R: 100000 of 200000 correct; no better than guessing (p >= 0.05): no evidence the generated images can be told apart'"
: >"$T/notafolder"
fails_with_line "rate score/score.png that cannot be written fails the run" \
    "rate score: could not write '$T/notafolder/score.png'" \
    $B/rate score --key "$T/page/key.csv" "$T/a.csv" --out "$T/notafolder"

# flags out of range are refused, not wrapped into an int (4294967297 was --count 1)
fails_with_line "rate make/--count beyond int is refused" "rate make: --count wants an integer from 1 to 100000, got '4294967297'" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 4294967297 --out "$T/big"
fails_with_line "rate make/--size beyond int is refused" "rate make: --size wants an integer from 16 to 2048, got '4294967424'" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 2 --size 4294967424 --out "$T/big2"
# an --out that is a file is refused naming the reason (cli_mkdirs took the file for a folder:
# "mkdir -p" said yes, and the page failed later): a helper's audit of cli.h
echo x >"$T/a_file"
fails_with_line "rate make/an --out that is a file is refused" "rate make: cannot create '$T/a_file': Not a directory" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 2 --out "$T/a_file"

# the ids and the page's token come from the files shown (and the seed): the same
# files give the same page; one image changed, and no id or token is shared
mkdir -p "$T/r1" "$T/r2" "$T/f1"
for i in 1 2 3; do
    cp "$T/ph/train/NORMAL/NORMAL-000$i.png" "$T/r1/$i.png"
    cp "$T/ph/train/NORMAL/NORMAL-000$i.png" "$T/r2/$i.png"
    cp "$T/ph/train/PNEUMONIA/PNEUMONIA-000$i.png" "$T/f1/$i.png"
done
cp "$T/ph/train/NORMAL/NORMAL-0004.png" "$T/r2/3.png"
for p in A A2; do $B/rate make --real "$T/r1" --fake "$T/f1" --count 3 --size 32 --out "$T/id$p" >/dev/null 2>&1; done
# the page's side: by default the smallest among the chosen images (96x96 real, 48x48
# "generated": 48), so that no image is enlarged - at 512 every generated image of a small
# GAN was enlarged and every real one reduced, and a rater could tell them apart by the blur
# alone (a referee's reading); a --size that enlarges some is warned about, naming the first
mkdir -p "$T/f48"
/usr/bin/python3 -c "
import struct, zlib, sys
for i in range(1, 4):
    raw = b''.join(b'\\x00' + bytes((x * 5 + y * 3 + i * 40) % 256 for x in range(48)) for y in range(48))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 48, 48, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    open('$T/f48/%d.png' % i, 'wb').write(png)
"
$B/rate make --real "$T/r1" --fake "$T/f48" --count 3 --out "$T/auto" >"$T/auto.out" 2>"$T/auto.err"
check "rate make/without --size: the smallest side among the images (48), said, and no warning" \
    sh -c "test \"\$(cat '$T/auto.out')\" = \"rate make: 3 real + 3 generated images of 48x48; send $T/auto/rate.html, keep $T/auto/key.csv\" && ! grep -q warning '$T/auto.err'"
check "rate make/... every image on the page is 48x48" /usr/bin/python3 -c "
import base64, re, struct, sys
pngs = [base64.b64decode(b) for b in re.findall(r'base64,([A-Za-z0-9+/=]+)', open('$T/auto/rate.html').read())]
sys.exit(not (len(pngs) == 6 and all(struct.unpack('>II', p[16:24]) == (48, 48) for p in pngs)))"
$B/rate make --real "$T/r1" --fake "$T/f48" --count 3 --size 96 --out "$T/big96" >/dev/null 2>"$T/big96.err"
first48=$(ls "$T/f48" | head -1)
check "rate make/a --size that enlarges images: a warning naming the first and the size that would not" \
    grep -qxF "rate make: warning: 0 real and 3 generated images have a side shorter than 96 and are enlarged on the page, the first '$T/f48/$first48' (48x48): a rater may tell the kinds apart by the enlargement's blur, not by what the generator made; --size 48 (the smallest side among them) enlarges none" "$T/big96.err"
$B/rate make --real "$T/r2" --fake "$T/f1" --count 3 --size 32 --out "$T/idB" >/dev/null 2>&1
check "rate make/the same files and seed: the same page and key" \
    sh -c "cmp '$T/idA/key.csv' '$T/idA2/key.csv' && cmp '$T/idA/rate.html' '$T/idA2/rate.html'"
tail -n +2 "$T/idA/key.csv" | cut -d, -f1 | sort >"$T/idsA"
tail -n +2 "$T/idB/key.csv" | cut -d, -f1 | sort >"$T/idsB"
check "rate make/one image changed (same seed, same folder sizes): no id in common" \
    test "$(wc -l <"$T/idsA")" -eq 6 -a "$(wc -l <"$T/idsB")" -eq 6 -a -z "$(comm -12 "$T/idsA" "$T/idsB")"
check "rate make/one image changed: another page token (where the browser keeps the answers)" \
    test -n "$(grep "^const PAGE = " "$T/idA/rate.html")" -a \
         "$(grep "^const PAGE = " "$T/idA/rate.html")" != "$(grep "^const PAGE = " "$T/idB/rate.html")"
awk -F, 'NR > 1 { print "C," $1 "," $2 ",3,900" } BEGIN { print "rater,image,answer,confidence,ms" }' \
    "$T/idA/key.csv" >"$T/c.csv"
fails_with_line "rate score/answers to one page against the other page's key are refused" \
    "rate score: $T/c.csv:2: image '$(sed -n 2p "$T/c.csv" | cut -d, -f2)' is not in the key (answers for another page?)" \
    $B/rate score --key "$T/idB/key.csv" "$T/c.csv"

# file names with a comma or a quote are quoted in key.csv (RFC 4180); a line break is refused
mkdir -p "$T/rq"
cp "$T/r1/1.png" "$T/rq/a,1.png"
cp "$T/r1/2.png" "$T/rq/b\"2.png"
cp "$T/r1/3.png" "$T/rq/c.png"
$B/rate make --real "$T/rq" --fake "$T/f1" --count 3 --size 32 --out "$T/quoted" >/dev/null 2>&1
check "rate make/a name with a comma is quoted in key.csv" grep -qF ",real,\"$T/rq/a,1.png\"" "$T/quoted/key.csv"
check "rate make/a name with a quote is quoted, the quote doubled" grep -qF ",real,\"$T/rq/b\"\"2.png\"" "$T/quoted/key.csv"
check "rate make/every row of that key.csv has 3 fields" \
    /usr/bin/python3 -c "import csv, sys; sys.exit(any(len(r) != 3 for r in csv.reader(open('$T/quoted/key.csv'))))"
awk 'NR > 1 { split($0, f, ","); print "D," f[1] ",real,1,700" } BEGIN { print "rater,image,answer,confidence,ms" }' \
    "$T/quoted/key.csv" >"$T/d.csv"
check "rate score/reads the quoted key" \
    sh -c "$B/rate score --key '$T/quoted/key.csv' '$T/d.csv' | grep -q '^D: 3 of 6 correct; '"
mkdir -p "$T/rn"
cp "$T/r1/"*.png "$T/rn/"
cp "$T/r1/1.png" "$T/rn/$(printf 'x\ny.png')"
fails_with_line "rate make/a file name with a line break is refused" \
    "rate make: a file name in '$T/rn' holds a line break, which key.csv cannot hold; rename it: '$T/rn/x\ny.png'" \
    $B/rate make --real "$T/rn" --fake "$T/f1" --count 3 --out "$T/nl"
check "rate make/... and writes nothing" test ! -e "$T/nl/key.csv" -a ! -e "$T/nl/rate.html"

# one file as real and as generated (the same folder twice, or a link to a real image
# among the generated ones) is refused: the page showed it under both truths
fails_with_line "rate make/the same folder as --real and --fake is refused" \
    "rate make: '$T/r1/1.png' (--fake) is the file '$T/r1/1.png' (--real); a real image cannot be a generated one" \
    $B/rate make --real "$T/r1" --fake "$T/r1" --count 3 --out "$T/same"
mkdir -p "$T/fl"
cp "$T/f1/"*.png "$T/fl/"
ln -s "$T/r1/2.png" "$T/fl/4.png"
fails_with_line "rate make/a link to a real image among the generated ones is refused" \
    "rate make: '$T/fl/4.png' (--fake) is the file '$T/r1/2.png' (--real); a real image cannot be a generated one" \
    $B/rate make --real "$T/r1" --fake "$T/fl" --count 3 --out "$T/same2"
check "rate make/... and writes nothing" test ! -e "$T/same" -a ! -e "$T/same2"

# .tif/.tiff/.webp files (listed for FID) cannot be decoded: left out with a note
mkdir -p "$T/rw"
cp "$T/r1/"*.png "$T/rw/"
for e in tif TIFF webp; do echo "not decodable" >"$T/rw/x.$e"; done
$B/rate make --real "$T/rw" --fake "$T/f1" --count 3 --size 32 --out "$T/webp" >"$T/webp.txt" 2>&1
check "rate make/.tif, .tiff and .webp files are skipped with a note" \
    sh -c "test $? -eq 0 && grep -qxF \"rate make: skipping 3 .tif/.tiff/.webp files in '$T/rw' (cannot be decoded)\" '$T/webp.txt' && test -s '$T/webp/key.csv'"

# a run cut off half-way (here: a 10 KB file size limit kills it while it writes the page)
# leaves no key.csv behind to block the next run ("; true" keeps the subshell waiting, so
# its "File size limit exceeded" goes to /dev/null)
(sh -c 'ulimit -f 20; exec "$@"' sh $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" \
    --count 6 --size 128 --out "$T/cut"; true) >/dev/null 2>&1
check "rate make/(setup) the run was cut off" test -e "$T/cut/rate.html.tmp" -a ! -e "$T/cut/rate.html"
check "rate make/a run cut off leaves no key.csv" test ! -e "$T/cut/key.csv"
check "rate make/the next run in that folder goes ahead" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 6 --size 128 --out "$T/cut"
check "rate make/... and leaves no temporary file" test ! -e "$T/cut/rate.html.tmp" -a ! -e "$T/cut/key.csv.tmp"

# two runs into one folder at once (the first stopped while it writes): the second is
# refused; it used to truncate the first's .tmp files and publish them, and the first then
# wrote its own page and key into them (the second said "send rate.html" for the first's page)
mkdir -p "$T/two"
$B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 4 --size 1024 --out "$T/two" \
    >"$T/two.txt" 2>&1 &
first=$!
i=0
while [ ! -e "$T/two/rate.html.tmp" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
kill -STOP $first
fails_with_line "rate make/a second run into a folder another run is writing is refused" \
    "rate make: another rate make is writing into '$T/two'; wait for it to finish" \
    $B/rate make --real "$T/ph/train/NORMAL" --fake "$T/ph/train/PNEUMONIA" --count 4 --size 32 --seed 2 --out "$T/two"
kill -CONT $first
wait $first
check "rate make/... the first run finishes" test $? -eq 0
check "rate make/... with a page holding each id of its key" \
    sh -c "test \$(tail -n +2 '$T/two/key.csv' | grep -c '^[a-z0-9]*,') -eq 8 && for id in \$(tail -n +2 '$T/two/key.csv' | cut -d, -f1); do grep -q \"{id: '\$id'\" '$T/two/rate.html' || exit 1; done"

# in a real browser
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c "import selenium" 2>/dev/null; then
    mkdir -p "$T/downloads"
    /usr/bin/python3 tests/test_rate_browser.py "$T/page" "$T/downloads" "$B/rate_page.png" >"$T/browser.txt" 2>&1
    rc=$?
    if [ $rc -eq 3 ]; then
        echo "skip: test_rate: the browser test ($(head -1 "$T/browser.txt"))"
    else
        grep "^FAIL" "$T/browser.txt"
        line=$(grep "^BROWSER " "$T/browser.txt")
        [ -z "$line" ] && { cat "$T/browser.txt"; failed=$((failed + 1)); }
        p=$(echo "$line" | sed -n 's/.*passed=\([0-9]*\).*/\1/p')
        f=$(echo "$line" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
        k=$(echo "$line" | sed -n 's/.*correct=\([0-9]*\).*/\1/p')
        passed=$((passed + ${p:-0}))
        failed=$((failed + ${f:-0}))
        check "rate score/on the browser's download: $k of 12 correct, as answered" \
            sh -c "$B/rate score --key '$T/page/key.csv' '$T/downloads/answers-Dr_Test.csv' | grep -q '^Dr Test: $k of 12 correct; '"
    fi
else
    echo "skip: test_rate: the browser test (needs chromium, chromium-driver and python3-selenium)"
fi
rm -rf "$T"
echo "test_rate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
