#!/bin/sh
# test_cuda_emu_programs.sh - tests/test_cuda_programs.sh (train, generate and fid
# on the GPU against the CPU, end to end) on the host emulation of the GPU code
# (tests/cuda_emu; tests/tests.mk builds build/emu/{train,generate,fid}): the
# programs' GPU paths - device choice, the dataset's upload, resume - with no GPU.
C=${B:-build}/emu exec sh tests/test_cuda_programs.sh
