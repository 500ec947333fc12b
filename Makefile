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
TEST_FLAGS := $(CFLAGS) -g '-DDCGAN_ASSERT(x)=assert(x)' -include assert.h $(STB_CFLAGS)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TESTS   := test_core test_layers test_model test_images test_gan test_small_data test_fid test_fid_judge test_corpus test_classify test_study_stats \
           test_cuda_checks test_guard_lock
EXAMPLES := train generate phantom fid classify rate
# CPU-only programs (no build/cuda/ twin): the study's report, the teaching example
REPORTS := study_report minimal_gan
B := build
EMU_PROGRAMS = $(addprefix $(B)/emu/,train generate fid)   # (tests/cuda_emu, below)
DEMO := demo
DEMO_FLAGS := --arch dcgan --size 64 --channels 1 --width 0.25 --batch 32 --epochs 100 \
  --lr-d 1e-4 --lr-g 2e-4 --label-smooth 0.1 --adam pytorch --sample-every 10 --ckpt-every 10

.PHONY: study-full all test demo study small-data cuda test-cuda bench-cuda bench bench-memory bench-decode bench-judge fuzz clean help stb

# all: examples and tests for the CPU, warnings on
NOSIMD_TESTS := test_core test_layers
all: stb $(addprefix $(B)/,$(EXAMPLES) $(REPORTS) $(TESTS)) $(addprefix $(B)/san/,$(TESTS)) \
  $(addprefix $(B)/nosimd/,$(NOSIMD_TESTS)) $(B)/test_cxx $(B)/san_omp/test_images $(B)/emu/test_cuda \
  $(EMU_PROGRAMS) $(B)/emu/bench_cuda
	@mkdir -p $(@D)

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

# The test programs: most link one compiled implementation per flavour
# (tests/dcgan_impl.c -> build/obj/{,san/,nosimd/}impl.o); test_gan and
# test_images configure the implementation (allocator, decode hook) and
# compile their own; test_study_stats needs none (examples/study_stats.h is libc only).
OWN_IMPL := test_gan test_images test_study_stats
$(B)/test_study_stats $(B)/san/test_study_stats $(B)/study_report: examples/study_stats.h
LINKED := $(filter-out $(OWN_IMPL),$(TESTS))
# run_guard.h is POSIX (flock, pread, sigaction); a #define in the file comes after the
# -include assert.h below has read the feature macros, so it goes on the command line
$(B)/test_guard_lock $(B)/san/test_guard_lock: TEST_FLAGS += -D_DEFAULT_SOURCE
TEST_DEPS := dcgan.h tests/check.h tests/fixture.h tests/fuzz_targets.h examples/classify_state.h \
  examples/rate_csv.h examples/classify_tools.h tests/cuda_compare.h examples/run_guard.h examples/cli.h

$(B)/obj/impl.o: tests/dcgan_impl.c dcgan.h | stb
	@mkdir -p $(B)/obj
	$(CC) $(TEST_FLAGS) $(OMP) -c $< -o $@

# (-O1: the sanitizers see the same code and it compiles in half the time of -O2)
$(B)/obj/san/impl.o: tests/dcgan_impl.c dcgan.h | stb
	@mkdir -p $(B)/obj/san
	$(CC) $(TEST_FLAGS) -O1 $(SAN) -c $< -o $@

# the portable kernels alone (DCGAN_NO_SIMD): on an AVX2 machine nothing else runs them
$(B)/obj/nosimd/impl.o: tests/dcgan_impl.c dcgan.h | stb
	@mkdir -p $(B)/obj/nosimd
	$(CC) $(TEST_FLAGS) $(OMP) -DDCGAN_NO_SIMD -c $< -o $@

$(addprefix $(B)/,$(LINKED)): $(B)/%: tests/%.c $(B)/obj/impl.o $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) $(OMP) $< $(B)/obj/impl.o -o $@ -lm

$(addprefix $(B)/san/,$(LINKED)): $(B)/san/%: tests/%.c $(B)/obj/san/impl.o $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -O1 $(SAN) $< $(B)/obj/san/impl.o -o $@ -lm

$(addprefix $(B)/nosimd/,$(NOSIMD_TESTS)): $(B)/nosimd/%: tests/%.c $(B)/obj/nosimd/impl.o $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) $(OMP) -DDCGAN_NO_SIMD $< $(B)/obj/nosimd/impl.o -o $@ -lm

$(addprefix $(B)/,$(OWN_IMPL)): $(B)/%: tests/%.c $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) $(OMP) $< -o $@ -lm

$(addprefix $(B)/san/,$(OWN_IMPL)): $(B)/san/%: tests/%.c $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -O1 $(SAN) $< -o $@ -lm

# the image tests again under ASan+UBSan with OpenMP: dcgan_dataset_load decodes on every
# thread, each with its own decoder helper (the san/ builds above have one thread)
$(B)/san_omp/test_images: tests/test_images.c $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -O1 $(SAN) $(OMP) $< -o $@ -lm

# The GPU code without a GPU (tests/cuda_emu): dcgan_cuda.cu with each kernel launch
# k<<<grid, 256>>>(...) rewritten as dcgan_emu_launch(grid, k, ...), a loop over its blocks
# of one thread after its pointer arguments are checked, compiled as C++;
# the CUDA runtime's, cuBLAS's and cuSOLVER's calls done on the host by
# tests/cuda_emu/emulation.cpp (device pointers checked against their allocations);
# tests/test_cuda.c run against it under ASan+UBSan. No nvcc needed. Shows index
# arithmetic, pointers and the library calls' arguments; races and block sizes need a GPU.
EMU_FLAGS := -O1 -g $(SAN) -DDCGAN_CUDA
EMU_ORDER ?=   # -DDCGAN_EMU_FUSED: the products' sums in another order (tests/cuda_emu/emulation.cpp)
$(B)/emu/dcgan_cuda.cpp: dcgan_cuda.cu Makefile   # (the rewrite is here)
	@mkdir -p $(@D)
	sed 's/\([A-Za-z_][A-Za-z_0-9]*\)<<<\(.*\), *256>>>(/dcgan_emu_launch(\2, \1, /' $< >$@.tmp
	@if grep -n '<<<' $@.tmp; then echo "cuda emulation: a launch above is not k<<<grid, 256>>>(...)"; exit 1; fi
	@mv $@.tmp $@

$(B)/emu/dcgan_cuda.o: $(B)/emu/dcgan_cuda.cpp dcgan.h tests/cuda_emu/cuda_runtime.h tests/cuda_emu/cublas_v2.h \
  tests/cuda_emu/cusolverDn.h
	$(CXX) $(EMU_FLAGS) -Wall -Wextra -Itests/cuda_emu -I. -c $< -o $@

$(B)/emu/emulation.o: tests/cuda_emu/emulation.cpp dcgan.h tests/cuda_emu/cuda_runtime.h tests/cuda_emu/cublas_v2.h \
  tests/cuda_emu/cusolverDn.h
	@mkdir -p $(@D)
	$(CXX) $(EMU_FLAGS) $(EMU_ORDER) -Wall -Wextra -Itests/cuda_emu -I. -c $< -o $@

$(B)/emu/test_cuda: tests/test_cuda.c $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) $(EMU_FLAGS) -c $< -o $(B)/emu/test_cuda.o
	$(CXX) $(SAN) $(B)/emu/test_cuda.o $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o -o $@ -lm

# train, generate and fid against the same emulation (their GPU paths: device choice, the dataset's
# upload, resume), for tests/test_cuda_programs.sh with C=$(B)/emu; -O2, the sanitizers in the
# emulation's objects only (Inception's features run on the CPU, minutes under ASan)
$(EMU_PROGRAMS): $(B)/emu/%: examples/%.c $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o examples/cli.h \
  examples/run_guard.h dcgan.h | stb
	$(CC) $(CFLAGS) -DDCGAN_CUDA $(STB_CFLAGS) -c $< -o $@.o
	$(CXX) $(SAN) $@.o $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o -o $@ -lm
	@rm -f $@.o

# bench_cuda too (tests/test_cuda_programs.sh runs its small-data setting once)
$(B)/emu/bench_cuda: bench/bench_cuda.c $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o examples/cli.h dcgan.h
	$(CC) $(CFLAGS) $(OMP) -DDCGAN_CUDA -c $< -o $@.o
	$(CXX) $(SAN) $(OMP) $@.o $(B)/emu/dcgan_cuda.o $(B)/emu/emulation.o -o $@ -lm
	@rm -f $@.o

$(B)/test_cxx: tests/test_cxx.cpp dcgan.h | stb
	@mkdir -p $(B)
	$(CXX) -O1 -Wall -Wextra -Werror $(STB_CFLAGS) $< -o $@

# test: every CPU test (OpenMP), again single-threaded under ASan+UBSan (the image tests also
# with OpenMP), the GEMM and layer tests
# with the portable kernels only (DCGAN_NO_SIMD), the C++ build, the README code blocks, the
# programs end to end, the kill / failing-write test (KILLS=200), Ctrl-C / two runs on one folder
# (tests/test_guard.sh), the rating page in headless Chromium where it is installed
# (tests/test_rate.sh), the GPU tests and programs on a host emulation of the GPU code (tests/cuda_emu)
# and, where nvcc exists, the GPU build (compiled and linked; run only where a GPU is);
# last line "N passed, M failed"
# (built with one job per core, the GPU programs too where nvcc is - a GPU build that fails
# is counted by tests/test_cuda_build.sh, a CPU one stops here; the single-threaded
# programs - sanitizer builds, the kill test - run in a second lane beside the others:
# tests/run.sh's "::")
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

# bench-memory: peak resident memory of the study's setting (seed 128x128x3, batch 128, 1,341
# images, one iteration), dcgan.h and PyTorch (several minutes: a full-size iteration each)
bench-memory: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -march=native $(OMP) $(STB_CFLAGS) bench/bench.c -o $(B)/bench -lm
	@echo "peak RSS, GiB (seed 128x128x3, batch 128, 1,341 images, one iteration):"
	@printf "  dcgan.h  "; $(B)/bench --memory | sed 's/^MEMORY //'
	@printf "  PyTorch  "; OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_ref.py --memory --threads $$(nproc) | sed 's/^MEMORY //'

# bench-decode: the cost of decoding each image in a child process, on N full-size JPEGs
# made from the images of SRC (default 1,000 of 1500x1800, written to build/decode_bench)
SRC ?= ../shared/data/kermany224/NORMAL
bench-decode: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(OMP) $(STB_CFLAGS) bench/decode_cost.c -o $(B)/decode_cost -lm
	$(B)/decode_cost $(SRC) $(B)/decode_bench

# bench-judge: what fid --bootstrap/--floor/--prdc/--nearest cost on N + N features of D dims
N ?= 2000
D ?= 2048
bench-judge:
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(OMP) bench/judge_cost.c -o $(B)/judge_cost -lm
	$(B)/judge_cost $(N) $(D)

# fuzz: libFuzzer on every reader of untrusted bytes, FUZZ_SECONDS each (clang), from tests/corpus/
FUZZ_SECONDS ?= 60
fuzz: stb
	@mkdir -p $(B)/fuzz
	@for t in 0:safetensors 1:pth 2:npz 3:cache 4:image 5:model 6:resume 7:npy 8:answers; do n=$${t%%:*}; name=$${t#*:}; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -fsanitize-ignorelist=tests/fuzz_ignore.txt -DFUZZ_TARGET=$$n $(STB_CFLAGS) tests/fuzz.c \
	    -o $(B)/fuzz/$$name -lm || exit 1; mkdir -p $(B)/fuzz/corpus_$$name; \
	  $(B)/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -artifact_prefix=$(B)/fuzz/$$name- $(B)/fuzz/corpus_$$name tests/corpus/$$name \
	    >$(B)/fuzz/$$name.log 2>&1; rc=$$?; printf '%s: ' $$name; \
	  grep -E "DONE|ERROR|SUMMARY" $(B)/fuzz/$$name.log | tail -3; [ $$rc = 0 ] || exit 1; done

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
test-cuda: cuda $(B)/phantom
	@B=$(B) sh tests/run.sh $(B)/cuda/test_cuda tests/test_cuda_programs.sh

# bench-cuda: the study's seed iteration (128x128x3, batch 128) on the GPU against PyTorch eager,
# and the small-data recipe (64x64 gray, batch 32, DiffAugment + ADA + EMA) on the GPU against the CPU
bench-cuda: cuda
	sh bench/run_cuda.sh

# clean: remove build outputs
clean:
	rm -rf $(B)

# help: list the targets, each with its whole comment
help:
	@awk '/^# [a-z-]+:/ { on = 1; sub(/^# /, ""); print; next } on && /^#/ { sub(/^# ?/, "    "); print; next } { on = 0 }' Makefile
