# tests/tests.mk - how `make test` builds its programs (included by the Makefile): the tests
# with OpenMP, again under ASan+UBSan, the GEMM and layer tests with the portable kernels only,
# the C++ build, the GPU code on a host emulation; and `make fuzz`. docs/testing.md says what
# each checks.
TEST_FLAGS := $(CFLAGS) -g '-DDCGAN_ASSERT(x)=assert(x)' -include assert.h $(STB_CFLAGS)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TESTS   := test_core test_layers test_model test_images test_gan test_small_data test_fid test_fid_judge test_corpus test_classify test_study_stats \
           test_cuda_checks test_guard_lock
NOSIMD_TESTS := test_core test_layers
EMU_PROGRAMS = $(addprefix $(B)/emu/,train generate fid)   # (tests/cuda_emu, below)
# `make all` builds the tests' programs too
all: $(addprefix $(B)/,$(TESTS)) $(addprefix $(B)/san/,$(TESTS)) $(addprefix $(B)/nosimd/,$(NOSIMD_TESTS)) \
  $(B)/test_cxx $(B)/test_bn_gnu $(B)/san_omp/test_images $(B)/emu/test_cuda $(EMU_PROGRAMS) $(B)/emu/bench_cuda

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

# BatchNorm's sums as a user's plain `cc -O2 -march=native` compiles them: GNU mode, where GCC
# fuses a * b + c wherever the target has FMA (tests/test_bn_gnu.c; the -std=gnu99 after
# TEST_FLAGS' -std=c99 wins)
BN_GNU_MARCH := $(if $(filter x86_64 amd64,$(shell uname -m)),-march=native)
$(B)/test_bn_gnu: tests/test_bn_gnu.c $(TEST_DEPS) | stb
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -std=gnu99 $(BN_GNU_MARCH) $(OMP) $< -o $@ -lm

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
$(B)/emu/dcgan_cuda.cpp: dcgan_cuda.cu tests/tests.mk   # (the rewrite is here)
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
