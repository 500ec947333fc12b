#!/bin/sh
# avx2_proxy.sh - `make bench` as an AVX2-only CPU would run it, on a CPU that
# also has AVX-512: dcgan.h built for x86-64-v3 (AVX2 + FMA, no AVX-512 anywhere:
# -DDCGAN_NO_AVX512 drops its AVX-512 kernels, -march=x86-64-v3 the compiler's
# own), PyTorch held to AVX2 (ATEN_CPU_CAPABILITY=avx2 for its own kernels,
# ONEDNN_MAX_CPU_ISA=AVX2 for oneDNN's convolutions, OPENBLAS_CORETYPE=Haswell
# for OpenBLAS's products). A proxy, not an AVX2-only machine: the caches,
# clocks and cores stay this CPU's. Usage: sh bench/avx2_proxy.sh [ROUNDS]
set -e
B=${B:-build}/avx2
mkdir -p "$B"
cc -std=c99 -O2 -Wall -march=x86-64-v3 -DDCGAN_NO_AVX512 -fopenmp \
   $(pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb) bench/bench.c -o "$B/bench" -lm
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell \
    B="$B" sh bench/run.sh "$@"
