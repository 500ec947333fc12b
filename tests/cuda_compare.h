// cuda_compare.h - the comparisons test_cuda.c makes between a GPU run and its
// CPU twin, and the inputs they run on, kept in one place so that
// tests/test_cuda_checks.c can show on the CPU (no GPU needed) that each one
// fails when the twin it compares against carries a planted bug. Include after
// dcgan.h and check.h.
#ifndef CUDA_COMPARE_H
#define CUDA_COMPARE_H
#include <stdio.h>
#include <stdlib.h>

// Largest |x| of n values (0 for none).
static inline double cmp_max_abs(const float *x, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m) m = fabs((double)x[i]);
    return m;
}

// got against ref within 1% relative, plus 1e-3 of ref's largest magnitude
// absolute (elements near zero differ by summation order, not by bugs).
static inline int cmp_buffer(const float *ref, const float *got, size_t n, const char *label) {
    return CHECK_CLOSE(ref, got, n, 1e-3 * cmp_max_abs(ref, n) + 1e-30, 1e-2, label);
}

// Everything a training step leaves in a model, not only its parameters:
// Adam's first step moves every weight by about lr * sign(g) and later steps
// are scale-free, so a gradient off by a constant factor leaves the parameters
// as they should be; the second moment v sees the factor squared, and the
// BatchNorm running statistics see a wrong momentum or batch statistic.
// Returns the number of failed checks.
static inline int compare_model_state(const dcgan_model *ref, const dcgan_model *got, const char *name) {
    char label[192];
    int before = check_failed;
    snprintf(label, sizeof label, "%s: parameters", name);
    CHECK_CLOSE(ref->params, got->params, ref->n_params, 1e-4, 1e-3, label);
    snprintf(label, sizeof label, "%s: Adam first moments", name);
    cmp_buffer(ref->adam_m, got->adam_m, ref->n_params, label);
    snprintf(label, sizeof label, "%s: Adam second moments", name);
    cmp_buffer(ref->adam_v, got->adam_v, ref->n_params, label);
    if (ref->n_buffers) {
        snprintf(label, sizeof label, "%s: BatchNorm running statistics", name);
        cmp_buffer(ref->buffers, got->buffers, ref->n_buffers, label);
    }
    return check_failed - before;
}

// Adam inputs (p values, p even) where the place of eps matters: the first half
// has v near 1 and gradients near 1, where eps (1e-8) is invisible; the second
// half has v near 1e-17 and gradients near 1e-9, so sqrt(v) is comparable to
// eps and putting eps on the corrected or the uncorrected sqrt(v) (PyTorch
// and Keras modes) moves the weights differently.
static inline void adam_case_fill(float *w, float *g, float *m, float *v, size_t p, dcgan_rng *rng) {
    for (size_t i = 0; i < p; i++) {
        int tiny = i >= p / 2;
        w[i] = dcgan_rng_uniform(rng) - 0.5f;
        g[i] = (dcgan_rng_uniform(rng) - 0.5f) * (tiny ? 2e-9f : 2.0f);
        m[i] = (dcgan_rng_uniform(rng) - 0.5f) * (tiny ? 1e-9f : 1.0f);
        float u = dcgan_rng_uniform(rng) + 0.5f;
        v[i] = tiny ? u * 1e-17f : u;
    }
}

#endif
