# examples/cuda.mk - the GPU build (included by the Makefile)

# cuda: the GPU build: dcgan_cuda.cu (nvcc) + CUDA variants of the examples, tests and bench in
# build/cuda/ (CUDA_ARCH to change the target GPU; default sm_90 code plus PTX for newer cards).
# -fmad=false: no a*b+c contracted into one rounding, so the kernels round like the CPU build
# (ISO C mode, no contraction) and test_cuda can compare elementwise ops with zero tolerance.
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
CUDA_LIBS := -lcublas -lcusolver -lcudart -lgomp -lm
CUDA_PROGS := $(addprefix $(B)/cuda/,$(EXAMPLES) test_cuda bench_cuda)
cuda: stb
	@command -v $(NVCC) >/dev/null || { echo "cuda: $(NVCC) not found (the CUDA toolkit: /usr/local/cuda/bin)"; exit 1; }
	@$(MAKE) --no-print-directory $(CUDA_PROGS)

$(B)/cuda/dcgan_cuda.o: dcgan_cuda.cu dcgan.h
	@mkdir -p $(B)/cuda
	$(NVCC) -O2 -fmad=false $(CUDA_ARCH) -DDCGAN_CUDA -Xcompiler -Wall -c $< -o $@

$(B)/cuda/%.o: examples/%.c examples/cli.h examples/run_guard.h examples/classify_state.h examples/rate_csv.h \
  examples/classify_tools.h dcgan.h | stb
	@mkdir -p $(B)/cuda
	$(CC) $(CFLAGS) $(OMP) -DDCGAN_CUDA $(STB_CFLAGS) -c $< -o $@

$(B)/cuda/test_cuda.o: tests/test_cuda.c tests/check.h tests/cuda_compare.h dcgan.h
	@mkdir -p $(B)/cuda
	$(CC) $(TEST_FLAGS) -DDCGAN_CUDA -c $< -o $@

$(B)/cuda/bench_cuda.o: bench/bench_cuda.c examples/cli.h dcgan.h
	@mkdir -p $(B)/cuda
	$(CC) $(CFLAGS) $(OMP) -DDCGAN_CUDA -c $< -o $@

$(B)/cuda/%: $(B)/cuda/%.o $(B)/cuda/dcgan_cuda.o
	$(NVCC) $(CUDA_ARCH) $^ -o $@ $(CUDA_LIBS)

# test-cuda: on a machine with an NVIDIA GPU: every GPU op against its CPU twin, whole
# iterations GPU vs CPU, the Frechet distance, then train/generate/fid end to end on the GPU
# (without a usable GPU both say why and are counted as skipped, not passed)
test-cuda: cuda $(B)/phantom
	@RUN_SKIP_OK=1 B=$(B) sh tests/run.sh $(B)/cuda/test_cuda tests/test_cuda_programs.sh

# bench-cuda: the study's seed iteration (128x128x3, batch 128) on the GPU against PyTorch eager,
# and the small-data recipe (64x64 gray, batch 32, DiffAugment + ADA + EMA) on the GPU against the CPU
bench-cuda: cuda
	sh bench/run_cuda.sh
