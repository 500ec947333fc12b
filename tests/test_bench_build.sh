#!/bin/sh
# test_bench_build.sh - part of `make test`: the benchmark programs are built
# only by `make bench` and bench/avx2_proxy.sh, so a change to dcgan.h's
# internals could break them unseen (session 22 left bench.c naming a switch
# that a build without AVX-512 kernels lacks, and the proxy did not build).
# Each flavour is compiled with -fsyntax-only (every error, no code: seconds):
# bench.c as `make bench` builds it, as the AVX2 proxy builds it
# (x86-64-v3, DCGAN_NO_AVX512) and without SIMD kernels; conv_layer.c.
# Prints "test_bench_build: N passed, M failed".
CC=${CC:-cc}
STB=$(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)
passed=0
failed=0
check() {   # check NAME FLAGS...: compiles with FLAGS, warnings as errors
    name=$1
    shift
    if out=$($CC -std=c99 -Wall -Wextra -Werror -fopenmp $STB -fsyntax-only "$@" 2>&1); then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL test_bench_build/$name: $CC $*"
        printf '%s\n' "$out" | head -20
    fi
}
native=-march=native
case "$(uname -m)" in x86_64 | amd64) ;; *) native= ;; esac
check "bench.c, make bench's flags" $native bench/bench.c
if [ -n "$native" ]; then
    check "bench.c, bench/avx2_proxy.sh's flags" -march=x86-64-v3 -DDCGAN_NO_AVX512 bench/bench.c
fi
check "bench.c without SIMD kernels" -DDCGAN_NO_SIMD bench/bench.c
check "conv_layer.c" $native bench/conv_layer.c
echo "test_bench_build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
