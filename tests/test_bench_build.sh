#!/bin/sh
# test_bench_build.sh - part of `make test`: the benchmark programs are built
# only by `make bench` and its kin, so a change to dcgan.h's internals could
# break them unseen (session 22 left bench.c naming a switch that a build
# without AVX-512 kernels lacks, and bench/avx2_proxy.sh did not build). Each
# is compiled to an object at -O0 with warnings as errors (-O0: seconds, not
# the optimiser's minutes; an object rather than -fsyntax-only, which misses
# an AVX-512 intrinsic inlined into an AVX2-only build): bench.c as `make
# bench` builds it, as the AVX2 proxy builds it (x86-64-v3, DCGAN_NO_AVX512)
# and without SIMD kernels; the other bench/*.c programs as their comments
# build them. Not linked. Last, the implementation itself (tests/dcgan_impl.c)
# with -Wshadow -Wpedantic too, in the same three flavours: a user who builds
# with stricter warnings than the Makefile's gets none from dcgan.h (-Wshadow
# found two in the AVX2 col2im); and examples/minimal_gan.c at -O3. Prints
# "test_bench_build: N passed, M failed".
CC=${CC:-cc}
OMP=${OMP--fopenmp}
# stb's headers as the Makefile includes them: as system headers, whose own warnings do not count
STB=$(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)
STB=$(printf '%s\n' "$STB" | sed 's/-I/-isystem /g')
passed=0
failed=0
check() {   # check FILE FLAGS...
    file=$1
    shift
    if out=$($CC -std=c99 -Wall -Wextra -Werror $OMP $STB -O0 "$@" -c "$file" -o /dev/null 2>&1); then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL test_bench_build: $CC $* $file"
        printf '%s\n' "$out" | head -20
    fi
}
native=-march=native
case "$(uname -m)" in x86_64 | amd64) ;; *) native= ;; esac
check bench/bench.c $native
if [ -n "$native" ]; then check bench/bench.c -march=x86-64-v3 -DDCGAN_NO_AVX512; fi
check bench/bench.c -DDCGAN_NO_SIMD
for f in conv_layer kernel_tile batchnorm decode_cost judge_cost; do check "bench/$f.c" $native; done
STRICT="-Wshadow -Wpedantic"
check tests/dcgan_impl.c $native $STRICT
if [ -n "$native" ]; then check tests/dcgan_impl.c -march=x86-64-v3 -DDCGAN_NO_AVX512 $STRICT; fi
check tests/dcgan_impl.c -DDCGAN_NO_SIMD $STRICT
# The short teaching example, and with it the whole implementation, at -O3 (the last -O wins):
# there GCC 12 follows values across calls and warned twice on ones it could not see set
# (dcgan_gan_bytes' shape, minimal_gan's losses; session 32). About 15 s.
check examples/minimal_gan.c -O3 -I.
echo "test_bench_build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
