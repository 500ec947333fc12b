# dcgan.h - build, test, demo and bench. `make help` lists the targets; after `test` they are in
# examples/examples.mk (demo, study, small-data), bench/bench.mk, tests/tests.mk and examples/cuda.mk.
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
	  $(addprefix $(B)/nosimd/,$(NOSIMD_TESTS)) $(B)/test_cxx $(B)/test_bn_gnu tests/test_readme.sh tests/test_programs.sh tests/test_classify.sh tests/test_guard.sh tests/test_rate.sh tests/test_study_scripts.sh tests/test_bench_build.sh tests/test_mutants.sh tests/test_run.sh \
	  :: $(addprefix $(B)/san/,$(TESTS)) $(B)/san_omp/test_images $(B)/emu/test_cuda tests/test_cuda_emu_programs.sh tests/test_crash.sh tests/test_study_report.sh \
	  tests/test_cuda_build.sh

include examples/examples.mk bench/bench.mk tests/tests.mk examples/cuda.mk

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
