#!/usr/bin/python3
# The PyTorch side of `make bench`: the same models, batches and steps as
# bench/bench.c, timed the same way. Prints one line per measurement:
#     RESULT <name> <seconds per unit>
# Run with Debian's python3-torch; bench/run.sh sets OMP_WAIT_POLICY=PASSIVE
# and the thread count, and alternates this script with the C side.
import argparse
import copy
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from make_fid_reference import FIDInception  # noqa: E402


def seed_models(size, ch, width):
    f = lambda n: max(1, int(n * width + 0.5))
    b = size // 16
    g = nn.Sequential(nn.Linear(100, b * b * f(1024)), nn.LeakyReLU(0.2), nn.Unflatten(1, (f(1024), b, b)),
                      nn.ConvTranspose2d(f(1024), f(512), 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.ConvTranspose2d(f(512), f(256), 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.ConvTranspose2d(f(256), f(128), 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.ConvTranspose2d(f(128), f(64), 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(f(64), ch, 5, 1, 2), nn.Tanh())
    layers, cin = [], ch
    for k, base in enumerate((64, 128, 256, 512, 1024)):
        if k == 0:
            layers += [nn.Conv2d(cin, f(base), 5, 1, 2)]
        else:   # TensorFlow 'same' for K=5, S=2: 1 before, 2 after
            layers += [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(cin, f(base), 5, 2, 0)]
        layers += [nn.LeakyReLU(0.2)]
        cin = f(base)
    d = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.4), nn.Linear(cin * b * b, 1))
    return g, d


def dcgan_models(size, ch, width):
    f = lambda n: max(1, int(n * width + 0.5))
    g = nn.Sequential(nn.ConvTranspose2d(100, f(512), 4, 1, 0, bias=False), nn.BatchNorm2d(f(512)), nn.ReLU(),
                      nn.ConvTranspose2d(f(512), f(256), 4, 2, 1, bias=False), nn.BatchNorm2d(f(256)), nn.ReLU(),
                      nn.ConvTranspose2d(f(256), f(128), 4, 2, 1, bias=False), nn.BatchNorm2d(f(128)), nn.ReLU(),
                      nn.ConvTranspose2d(f(128), f(64), 4, 2, 1, bias=False), nn.BatchNorm2d(f(64)), nn.ReLU(),
                      nn.ConvTranspose2d(f(64), ch, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(ch, f(64), 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                      nn.Conv2d(f(64), f(128), 4, 2, 1, bias=False), nn.BatchNorm2d(f(128)), nn.LeakyReLU(0.2),
                      nn.Conv2d(f(128), f(256), 4, 2, 1, bias=False), nn.BatchNorm2d(f(256)), nn.LeakyReLU(0.2),
                      nn.Conv2d(f(256), f(512), 4, 2, 1, bias=False), nn.BatchNorm2d(f(512)), nn.LeakyReLU(0.2),
                      nn.Conv2d(f(512), 1, 4, 1, 0, bias=False), nn.Flatten())
    return g, d


def train_iteration(g, d, og, od, data, batch, z_shape, frozen=False):
    """The study's loop: D on batch/2 real, D on batch/2 fake, G on batch through D.
    As users write it (pytorch/examples' dcgan), D's weight gradients are computed in
    the G step and thrown away at D's next zero_grad; frozen=True is the tuned form,
    requires_grad_(False) on D's parameters during the G step (Keras' trainable=False)."""
    half = batch // 2
    bce = F.binary_cross_entropy_with_logits
    real = data[torch.randint(0, data.shape[0], (half,))]
    od.zero_grad()
    bce(d(real), torch.ones(half, 1)).backward()
    od.step()
    with torch.no_grad():
        fake = g(torch.randn(half, *z_shape))
    od.zero_grad()
    bce(d(fake), torch.zeros(half, 1)).backward()
    od.step()
    og.zero_grad()
    if frozen:
        for p in d.parameters():
            p.requires_grad_(False)
    bce(d(g(torch.randn(batch, *z_shape))), torch.ones(batch, 1)).backward()
    if frozen:
        for p in d.parameters():
            p.requires_grad_(True)
    og.step()


def diffaugment(x):
    """DiffAugment color,translation,cutout at p = 1 (Zhao et al. 2020), batched as
    DiffAugment_pytorch.py does: per-image brightness, saturation, contrast; a shift
    of up to 1/8 of the side with zero fill; a zeroed square of half the side."""
    n, c, h, w = x.shape
    x = x + (torch.rand(n, 1, 1, 1) - 0.5)
    m = x.mean(dim=1, keepdim=True)
    x = (x - m) * (torch.rand(n, 1, 1, 1) * 2) + m
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - m) * (torch.rand(n, 1, 1, 1) + 0.5) + m
    s = int(h * 0.125 + 0.5)
    tx = torch.randint(-s, s + 1, (n, 1, 1))
    ty = torch.randint(-s, s + 1, (n, 1, 1))
    bi, yi, xi = torch.meshgrid(torch.arange(n), torch.arange(h), torch.arange(w), indexing="ij")
    yi = (yi + ty + 1).clamp(0, h + 1)
    xi = (xi + tx + 1).clamp(0, w + 1)
    x = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)[bi, yi, xi].permute(0, 3, 1, 2)
    cs = int(h * 0.5 + 0.5)
    cy = torch.randint(0, h + (1 - cs % 2), (n, 1, 1))
    cx = torch.randint(0, w + (1 - cs % 2), (n, 1, 1))
    bi, yi, xi = torch.meshgrid(torch.arange(n), torch.arange(cs), torch.arange(cs), indexing="ij")
    yi = (yi + cy - cs // 2).clamp(0, h - 1)
    xi = (xi + cx - cs // 2).clamp(0, w - 1)
    mask = torch.ones(n, h, w)
    mask[bi, yi, xi] = 0
    return x * mask.unsqueeze(1)


def small_data_iteration(g, d, g_ema, og, od, data, batch):
    """train_iteration with every D input through diffaugment (G's gradient flows
    back through it), label smoothing 0.9, then the EMA of G's weights (beta for a
    1 kimg half-life at batch 32) with BatchNorm statistics copied."""
    half = batch // 2
    bce = F.binary_cross_entropy_with_logits
    real = data[torch.randint(0, data.shape[0], (half,))]
    od.zero_grad()
    bce(d(diffaugment(real)), torch.full((half, 1), 0.9)).backward()
    od.step()
    with torch.no_grad():
        fake = g(torch.randn(half, 100, 1, 1))
    od.zero_grad()
    bce(d(diffaugment(fake)), torch.zeros(half, 1)).backward()
    od.step()
    og.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    bce(d(diffaugment(g(torch.randn(batch, 100, 1, 1)))), torch.ones(batch, 1)).backward()
    for p in d.parameters():
        p.requires_grad_(True)
    og.step()
    beta = 0.5 ** (batch / 1000.0)
    with torch.no_grad():
        for pe, p in zip(g_ema.parameters(), g.parameters()):
            pe.lerp_(p, 1 - beta)
        for be, b in zip(g_ema.buffers(), g.buffers()):
            be.copy_(b)


def classifier_model():
    layers, cin = [], 1
    for k in range(4):
        layers += [nn.Conv2d(cin, 16 << k, 3, 2, 1), nn.BatchNorm2d(16 << k), nn.LeakyReLU(0.2)]
        cin = 16 << k
    return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 4 * 4, 1))


def timed(fn, reps):
    fn()   # warm-up
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--memory", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.memory:
        # the study's setting: seed, 128x128x3, batch 128, 1,341 images in memory, one iteration
        import resource
        g, d = seed_models(128, 3, 1.0)
        og = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.999), eps=1e-7)
        od = torch.optim.Adam(d.parameters(), 2e-5, betas=(0.5, 0.999), eps=1e-7)
        data = torch.rand(1341, 3, 128, 128) * 2 - 1
        t = time.perf_counter()
        train_iteration(g, d, og, od, data, 128, (100,))
        print("MEMORY %.2f GiB (one iteration: %.1f s, ok)"
              % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 ** 2, time.perf_counter() - t))
        return
    benches = []
    # 0. the GEMM alone (torch.mm: OpenBLAS sgemm here)
    ga, gb = torch.rand(1536, 1536), torch.rand(1536, 1536)
    benches.append(("sgemm_1536", lambda: torch.mm(ga, gb), 1))
    # 1. seed at 128x128x1, batch 16 (8 real + 8 fake, 16 for G), or the study's 128 with --full
    batch = 128 if a.full else 16
    g, d = seed_models(128, 1, 1.0)
    og = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.999), eps=1e-7)
    od = torch.optim.Adam(d.parameters(), 2e-5, betas=(0.5, 0.999), eps=1e-7)
    data = torch.rand(64, 1, 128, 128) * 2 - 1
    benches.append(("seed_iteration", lambda: train_iteration(g, d, og, od, data, batch, (100,)), 1))
    benches.append(("seed_iteration_tuned", lambda: train_iteration(g, d, og, od, data, batch, (100,), True), 1))
    # 2. dcgan at 64x64x1, batch 64
    g2, d2 = dcgan_models(64, 1, 1.0)
    og2 = torch.optim.Adam(g2.parameters(), 2e-4, betas=(0.5, 0.999))
    od2 = torch.optim.Adam(d2.parameters(), 2e-4, betas=(0.5, 0.999))
    data2 = torch.rand(64, 1, 64, 64) * 2 - 1
    benches.append(("dcgan_iteration", lambda: train_iteration(g2, d2, og2, od2, data2, 64, (100, 1, 1)), 1))
    benches.append(("dcgan_iteration_tuned",
                    lambda: train_iteration(g2, d2, og2, od2, data2, 64, (100, 1, 1), True), 1))
    # 2b. the study's own workloads: the small-data recipe's iteration (width 1/4, batch 32,
    # DiffAugment, EMA; D frozen in the G step, as dcgan.h does) and a classifier step
    g4, d4 = dcgan_models(64, 1, 0.25)
    g4_ema = copy.deepcopy(g4)
    og4 = torch.optim.Adam(g4.parameters(), 2e-4, betas=(0.5, 0.999))
    od4 = torch.optim.Adam(d4.parameters(), 1e-4, betas=(0.5, 0.999))
    benches.append(("small_data_iteration", lambda: small_data_iteration(g4, d4, g4_ema, og4, od4, data2, 32), 1))
    cnn = classifier_model()
    ocnn = torch.optim.Adam(cnn.parameters(), 1e-3)
    xc = torch.rand(32, 1, 64, 64) * 2 - 1
    yc = (torch.arange(32) % 2).float().unsqueeze(1)

    def classifier_step():
        ocnn.zero_grad()
        F.binary_cross_entropy_with_logits(cnn(xc), yc).backward()
        ocnn.step()
    benches.append(("classifier_step", classifier_step, 1))
    # 3. sampling the seed generator (128x128x3), 16 images at a time
    g3, _ = seed_models(128, 3, 1.0)
    g3.eval()

    def sample():
        with torch.no_grad():
            g3(torch.randn(16, 100))
    benches.append(("generator_image", sample, 16))
    # 4. FID features (2048) for 4 images of 299x299
    net = FIDInception().eval()
    imgs = torch.rand(4, 3, 299, 299)

    def feats():
        with torch.no_grad():
            net.features(imgs)
    benches.append(("inception_image", feats, 4))
    for name, fn, per in benches:
        if a.only and name not in (a.only, a.only + "_tuned"):
            continue
        for t in timed(fn, a.reps):
            print("RESULT %s %.6f" % (name, t / per), flush=True)


if __name__ == "__main__":
    main()
