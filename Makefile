# dcgan.h - build, test, demo and bench. `make help` lists the targets.
CC      ?= cc
CXX     ?= c++
NVCC    ?= $(or $(shell command -v nvcc 2>/dev/null),/usr/local/cuda/bin/nvcc)
CFLAGS  ?= -std=c99 -O2 -Wall -Wextra -Wpedantic -Wshadow
OMP     ?= -fopenmp
# STB_DIR: where stb_image.h and the others are (Debian's libstb-dev; `make STB_DIR=DIR` for a copy,
# e.g. on a machine without network where apt-get cannot install them)
STB_DIR ?= $(or $(patsubst -I%,%,$(shell pkg-config --cflags stb 2>/dev/null)),/usr/include/stb)
STB_CFLAGS := -isystem $(STB_DIR)
EXAMPLES := train generate phantom fid classify rate
# CPU-only programs (no build/cuda/ twin): the study's report, the teaching example
REPORTS := study_report minimal_gan
B := build
DEMO := demo
DEMO_FLAGS := --arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --epochs 100 \
  --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --sample-every 10 --ckpt-every 10

.PHONY: study-full all test demo study small-data cuda test-cuda bench-cuda bench bench-memory bench-decode bench-judge fuzz clean help stb

# all: examples and tests for the CPU, warnings on (the tests' programs: tests/tests.mk)
all: stb $(addprefix $(B)/,$(EXAMPLES) $(REPORTS))

# stb: make sure Debian's libstb-dev headers are present (installs them if it can)
stb:
	@if [ ! -f $(STB_DIR)/stb_image.h ]; then \
	  if [ "$(STB_DIR)" = /usr/include/stb ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "libstb-dev is missing: installing it"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libstb-dev >/dev/null; \
	  else echo "dcgan: no stb_image.h in $(STB_DIR); run: sudo apt-get install -y libstb-dev (or give make STB_DIR=DIR)"; \
	    exit 1; fi; fi

$(B)/%: examples/%.c examples/cli.h examples/run_guard.h examples/classify_state.h examples/rate_csv.h examples/classify_tools.h dcgan.h | stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(OMP) -I. $(STB_CFLAGS) $< -o $@ -lm

# test: every test program, the README's code blocks, the programs end to end, the GPU code on a
# host emulation and, where nvcc exists, the GPU build (docs/testing.md); last line "N passed,
# M failed". Built with one job per core (a GPU build that fails is counted by
# tests/test_cuda_build.sh); the single-threaded programs run in a second lane (run.sh's "::")
test:
	@$(MAKE) --no-print-directory -k -j$$(nproc) all $(if $(shell command -v $(NVCC) 2>/dev/null),$(CUDA_PROGS)) || true
	@$(MAKE) --no-print-directory all
	@ASAN_OPTIONS=allocator_may_return_null=1 sh tests/run.sh $(addprefix $(B)/,$(TESTS)) \
	  $(addprefix $(B)/nosimd/,$(NOSIMD_TESTS)) $(B)/test_cxx tests/test_readme.sh tests/test_programs.sh tests/test_classify.sh tests/test_guard.sh tests/test_rate.sh tests/test_study_scripts.sh tests/test_bench_build.sh tests/test_mutants.sh tests/test_run.sh \
	  :: $(addprefix $(B)/san/,$(TESTS)) $(B)/san_omp/test_images $(B)/emu/test_cuda tests/test_cuda_emu_programs.sh tests/test_crash.sh tests/test_study_report.sh \
	  tests/test_cuda_build.sh

# demo: phantom X-rays, a small GAN trained on them (minutes), 64 generated PNGs in demo/
# (GOMP_SPINCOUNT=10000 unless a wait policy is set: on a busy machine libgomp's
# default spinning made training several times slower; docs/speed.md)
DEMO_ENV := $(if $(GOMP_SPINCOUNT)$(OMP_WAIT_POLICY),,GOMP_SPINCOUNT=10000)
demo: $(B)/phantom $(B)/train $(B)/generate
	@test -n "$(strip $(DEMO))" || { echo "make demo: DEMO is empty; give a folder (demo)"; exit 2; }
	rm -rf $(DEMO)/phantom $(DEMO)/run $(DEMO)/generated   # (phantom and train refuse to mix with an earlier run)
	$(B)/phantom --out $(DEMO)/phantom --normal 320 --pneumonia 920 --size 128
	$(DEMO_ENV) $(B)/train --data $(DEMO)/phantom/train --class NORMAL --out $(DEMO)/run $(DEMO_FLAGS)
	$(B)/generate --checkpoint $(DEMO)/run/checkpoint.safetensors --count 64 --out $(DEMO)/generated

# study: at how many real NORMAL images do synthetic ones help a pneumonia classifier?
# (examples/study.sh, docs/study.md). `make study`: the reduced learning curve (10 and 50
# patients, 3 splits; about 45 minutes on 2 cores); `make study-full`: 10, 25, 50, 100, all
# (61-95 minutes on 2 cores, reuses the reduced curve's steps). DATA=DIR (../shared/data/kermany224 when
# present, else built-in phantoms), OUT, CLASSES, RARE, PATIENTS; resumable.
STUDY_PROGS := $(B)/phantom $(B)/train $(B)/generate $(B)/classify $(B)/study_report
study: $(STUDY_PROGS)
	B=$(B) bash examples/study.sh
# study-full: the whole learning curve (10, 25, 50, 100, all patients; 61-95 minutes; docs/study.md)
study-full: $(STUDY_PROGS)
	B=$(B) SIZES=10,25,50,100,all bash examples/study.sh

# small-data: does DiffAugment / ADA / an averaged G help a DCGAN on 50 or all train NORMAL X-rays?
# (examples/small_data.sh; DATA=DIR (../shared/data/kermany224), OUT, CLASSES, RARE, PATIENTS;
# about 55-80 minutes on 2 cores; resumable)
small-data: $(B)/train $(B)/generate $(B)/classify $(B)/fid
	B=$(B) bash examples/small_data.sh

# bench: dcgan.h against PyTorch on this machine (needs python3-torch); `make bench FULL=--full` for batch 128
bench: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -march=native $(OMP) $(STB_CFLAGS) bench/bench.c -o $(B)/bench -lm
	sh bench/run.sh $(FULL)

# bench-memory, bench-decode and bench-judge (bench/bench.mk); how the tests are built, and
# `make fuzz` (tests/tests.mk)
include bench/bench.mk tests/tests.mk

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

# clean: remove build outputs
clean:
	rm -rf $(B)

# help: list the targets, each with its whole comment (those of the included files too)
help:
	@awk 'function show(file, line, on, f, n, i) { while ((getline line < file) > 0) { \
	  if (line ~ /^include /) { n = split(line, f, " "); for (i = 2; i <= n; i++) show(f[i]); continue } \
	  if (line ~ /^# [a-z-]+:/) { on = 1; sub(/^# /, "", line); print line; continue } \
	  if (on && line ~ /^#/) { sub(/^# ?/, "    ", line); print line; continue } on = 0 } close(file) } \
	  BEGIN { show("Makefile") }'
