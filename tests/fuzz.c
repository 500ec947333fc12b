// fuzz.c - libFuzzer driver for one reader, chosen at build time:
//   clang -fsanitize=fuzzer,address,undefined -DFUZZ_TARGET=1 tests/fuzz.c
// (0 safetensors, 1 pth, 2 npz, 3 cache, 4 image, 5 model, 6 resume, 7 npy, 8 answers). `make fuzz` builds all nine
// and runs each from its seed corpus in tests/corpus/<name>/.
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "fuzz_targets.h"
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[256] = "";
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dcgan_fuzz_%d", (int)getpid());
        mkdir(dir, 0777);
        char empty[300];
        snprintf(empty, sizeof empty, "%s/empty", dir);
        mkdir(empty, 0777);
    }
    char why[1024];
    fuzz_one(FUZZ_TARGET, data, size, dir, why, sizeof why);
    return 0;
}
