#!/bin/sh
# test_cuda_build.sh - part of `make test`: the GPU build must never rot, so
# where nvcc exists (/usr/local/cuda/bin on these machines, GPU or not) this
# builds dcgan_cuda.cu and the CUDA variants of the programs and tests with
# `make cuda`, and runs test_cuda: on a machine without a GPU it must stop
# cleanly with DCGAN_ERR_CUDA's message and exit 77 (printed as a skip, not
# counted as a pass), never crash (a failure), and so must tests/test_cuda_programs.sh
# (one line naming the reason), so that `make test-cuda` there reports skips.
# Prints "test_cuda_build: N passed, M failed".
B=${B:-build}
passed=0
failed=0
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [ ! -x "$NVCC" ]; then
    echo "test_cuda_build: nvcc not found; the GPU build was not checked"
    echo "test_cuda_build: 0 passed, 0 failed"
    exit 0
fi
if ${MAKE:-make} --no-print-directory cuda B="$B" NVCC="$NVCC" >"$B/cuda_build.log" 2>&1; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "FAIL make cuda:"; tail -20 "$B/cuda_build.log"
fi
if [ -x "$B/cuda/test_cuda" ]; then
    out=$("$B/cuda/test_cuda" 2>&1)
    rc=$?
    if [ $rc -eq 77 ] && printf '%s' "$out" | grep -q "skipped, no usable GPU: cuda_init"; then
        # not a pass: the GPU tests did not run (a crash here would be a failure)
        echo "test_cuda_build: skipped: test_cuda's GPU checks (no GPU here; it stopped cleanly: $out)"
        # the programs' GPU checks stop as cleanly, so `make test-cuda` here says "skipped", not "failed"
        prog_out=$(B=$B C=$B/cuda sh tests/test_cuda_programs.sh 2>&1)
        prog_rc=$?
        if [ $prog_rc -eq 77 ] && [ "$prog_out" = "test_cuda_programs: skipped ($out)" ]; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1)); echo "FAIL test_cuda_programs.sh without a GPU exited $prog_rc:"; printf '%s\n' "$prog_out" | tail -20
        fi
    elif [ $rc -eq 0 ]; then
        passed=$((passed + 1)); printf '%s\n' "$out" | tail -1
    else
        failed=$((failed + 1)); echo "FAIL test_cuda exited $rc:"; printf '%s\n' "$out" | tail -20
    fi
    if "$B/cuda/train" --device cuda --data /nonexistent >/dev/null 2>"$B/cuda_train.err" ||
        ! grep -q "cuda\|scan" "$B/cuda_train.err"; then
        failed=$((failed + 1)); echo "FAIL cuda train --device cuda without data/GPU must fail with a message"
    else
        passed=$((passed + 1))
    fi
fi
echo "test_cuda_build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
