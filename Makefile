# dcgan.h - build, test, demo and bench. `make help` lists the targets.
CC      ?= cc
CXX     ?= c++
NVCC    ?= nvcc
CFLAGS  ?= -std=c99 -O2 -Wall -Wextra -Wpedantic
STB_CFLAGS := $(patsubst -I%,-isystem %,$(or $(shell pkg-config --cflags stb 2>/dev/null),-I/usr/include/stb))
TEST_FLAGS := $(CFLAGS) -g '-DDCGAN_ASSERT(x)=assert(x)' -include assert.h $(STB_CFLAGS)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TESTS   := test_core test_layers test_model
EXAMPLES := train generate phantom
B := build

.PHONY: all test demo cuda bench clean help stb

# all: examples and tests for the CPU, warnings on
all: stb $(addprefix $(B)/,$(TESTS)) $(addprefix $(B)/san/,$(TESTS)) $(B)/test_cxx

# stb: make sure Debian's libstb-dev headers are present (installs them if it can)
stb:
	@if [ ! -f /usr/include/stb/stb_image.h ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "libstb-dev is missing: installing it"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libstb-dev >/dev/null; \
	  else echo "dcgan: stb headers missing; run: sudo apt-get install -y libstb-dev"; exit 1; fi; fi

$(B)/test_%: tests/test_%.c dcgan.h tests/check.h tests/fixture.h
	@mkdir -p $(B)
	$(CC) $(TEST_FLAGS) $< -o $@ -lm

$(B)/san/test_%: tests/test_%.c dcgan.h tests/check.h tests/fixture.h
	@mkdir -p $(B)/san
	$(CC) $(TEST_FLAGS) $(SAN) $< -o $@ -lm

$(B)/test_cxx: tests/test_cxx.cpp dcgan.h
	@mkdir -p $(B)
	$(CXX) -O1 -Wall -Wextra -Werror $(STB_CFLAGS) $< -o $@

# test: every CPU test, again under ASan+UBSan, plus the C++ build; last line "N passed, M failed"
test: all
	@ASAN_OPTIONS=allocator_may_return_null=1 sh tests/run.sh $(addprefix $(B)/,$(TESTS)) $(addprefix $(B)/san/,$(TESTS)) $(B)/test_cxx

# clean: remove build outputs
clean:
	rm -rf $(B)

# help: list the targets
help:
	@grep -E '^# [a-z-]+:' Makefile | sed 's/^# //'
