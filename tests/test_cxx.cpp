// test_cxx.cpp - dcgan.h compiles and runs as C++ (declarations in extern "C").
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include <cstdio>
#include <cstring>

int main() {
    int passed = 0, failed = 0;
    dcgan_model m;
    dcgan_rng rng;
    dcgan_layer_spec s[] = {dcgan_spec_conv2d_same(2, 3, 2), dcgan_spec_flatten(),
                            dcgan_spec_linear(1)};
    float x[2 * 8 * 8] = {0};
    dcgan_rng_seed(&rng, 1);
    if (dcgan_model_init(&m, "main", s, 3, 1, 8, 8, 2) == DCGAN_OK) passed++; else failed++;
    dcgan_model_init_weights(&m, DCGAN_INIT_PYTORCH, &rng);
    if (dcgan_model_forward(&m, dcgan_tensor_make(x, 2, 1, 8, 8), 0, NULL) == DCGAN_OK) passed++;
    else failed++;
    if (dcgan_model_output(&m).n == 2) passed++; else failed++;
    dcgan_model_free(&m);
    std::printf("test_cxx: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
