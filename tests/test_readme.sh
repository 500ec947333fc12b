#!/bin/sh
# test_readme.sh - every C code block of README.md and docs/*.md, and the quick
# start on the first screen of dcgan.h, compiles (C99, -Wall -Wextra -Werror), so the examples
# people copy cannot rot; README's count of the quick start's lines and its list of the
# Makefile's targets are those of dcgan.h and `make help`. A block with its own #include is compiled as a file;
# any other block as the body of main(). Prints "test_readme: N passed, M failed".
CC=${CC:-cc}
STB=$(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_readme.XXXXXX")
passed=0
failed=0
# the ```c blocks, one file each: block_README_1.c, block_library_1.c, ...
for md in README.md docs/*.md; do
    awk -v dir="$T" -v name="$(basename "$md" .md)" \
        '/^```c$/ { n++; f = dir "/block_" name "_" n ".c"; inside = 1; next }
         /^```$/ { inside = 0; next }
         inside { print > f }' "$md"
done
# the header's quick start: the indented lines between "Quick start" and "Lower level"
sed -n '/^\/\/ Quick start/,/^\/\/   Lower level/p' dcgan.h | sed -n 's|^//       ||p' >"$T/block_quickstart.c"
for b in "$T"/block_*.c; do
    name=$(basename "$b" .c)
    extra=""
    grep -q "DCGAN_CUDA\|_cuda(" "$b" && extra="-DDCGAN_CUDA"
    if grep -q "#include" "$b"; then
        { cat "$b"; echo "int main(void) { return 0; }"; } >"$T/$name.prog.c"
    else
        { echo "#include <stdio.h>"; echo "#include \"dcgan.h\""; echo "int main(void) {";
          cat "$b"; echo "return 0;"; echo "}"; } >"$T/$name.prog.c"
    fi
    if $CC -std=c99 -Wall -Wextra -Werror -I. $STB $extra -c "$T/$name.prog.c" -o "$T/$name.o" 2>"$T/$name.err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL README/dcgan.h code block $name does not compile:"; head -20 "$T/$name.err"
    fi
done
# the numbers README.md gives about them: the quick start's lines of code (comment-only lines
# not counted), and the Makefile's targets, exactly those `make help` lists, in its order
code_lines=$(grep -cv '^ *//' "$T/block_quickstart.c")
for md in README.md docs/library.md; do
    said=$(grep -o 'checkpoint, [0-9]* lines)' "$md" | grep -o '[0-9]*')
    if [ "$said" = "$code_lines" ]; then passed=$((passed + 1))
    else failed=$((failed + 1)); echo "FAIL $md says the quick start has '$said' lines; it has $code_lines"; fi
done
listed=$(grep '^| `Makefile` |' README.md | sed 's/(.*//' | grep -o '`[a-z-]*`' | tr -d '`' | tr '\n' ' ')
helped=$(make -s --no-print-directory help | grep -o '^[a-z-]*:' | tr -d ':' | tr '\n' ' ')
if [ -n "$helped" ] && [ "$listed" = "$helped" ]; then passed=$((passed + 1))
else failed=$((failed + 1)); echo "FAIL README.md's Makefile row lists '$listed'; make help lists '$helped'"; fi
# The teaching example as a course vendors it: dcgan.h and minimal_gan.c side by side, built
# with the line in the example's own opening comment (warnings as errors), also without OpenMP
# and SIMD and as C++, then run for two iterations.
mkdir "$T/course" && cp dcgan.h examples/minimal_gan.c "$T/course/"
line=$(sed -n 's|^//   cc \(.*\)$|\1|p' examples/minimal_gan.c)
stbflags=$(pkg-config --cflags stb 2>/dev/null)
case "$line" in
    "-std=c99 -O2 -fopenmp \$(pkg-config --cflags stb) minimal_gan.c -o minimal_gan -lm")
        passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); echo "FAIL minimal_gan.c's build line is '$line'" ;;
esac
vendored() {   # vendored NAME COMPILER FLAGS...: builds $T/course/NAME from minimal_gan.c
    name=$1; shift
    if (cd "$T/course" && "$@" -Wall -Wextra -Werror minimal_gan.c -o "$name" -lm) >"$T/course/$name.err" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL the vendored minimal_gan.c does not build: $*"; head -20 "$T/course/$name.err"
    fi
}
vendored mg_omp $CC -std=c99 -O2 -fopenmp $stbflags
vendored mg_plain $CC -std=c99 -O2 -DDCGAN_NO_SIMD $stbflags
CXX=${CXX:-c++}
if command -v "$CXX" >/dev/null; then
    vendored mg_cxx "$CXX" -x c++ -std=c++11 -O2 $(printf '%s\n' "$stbflags" | sed 's/-I/-isystem /g')
else
    echo "test_readme: skipped: the vendored example as C++ (no $CXX)"
fi
if [ -x "$T/course/mg_omp" ] && "$T/course/mg_omp" tests/data/images 2 "$T/course/s.png" >"$T/course/run.out" 2>&1 &&
    [ "$(tail -n 1 "$T/course/run.out")" = "wrote $T/course/s.png" ]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "FAIL the vendored minimal_gan did not run:"; head -5 "$T/course/run.out"
fi
count=$(ls "$T"/block_*.c | wc -l)
if [ "$count" -lt 4 ]; then failed=$((failed + 1)); echo "FAIL found only $count code blocks"; fi
rm -rf "$T"
echo "test_readme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
