// The implementation of dcgan.h (and stb's), compiled once per build flavour
// (plain, ASan + UBSan, DCGAN_NO_SIMD) and linked into the test programs, so
// that `make test` does not compile the whole library once per test file.
// DCGAN_TEST_INTERNALS makes the few internals the tests check against their
// references (dcgan.h, "Internals ...") ordinary functions. Tests that
// configure the implementation themselves include it on their own:
// test_gan (a counting allocator, DCGAN_NO_IMAGES), test_images (a decode
// hook that crashes the helper process), test_cxx (a C++ compiler), and every
// example program (one file each, as a user builds them).
#define DCGAN_IMPLEMENTATION
#define DCGAN_TEST_INTERNALS
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
