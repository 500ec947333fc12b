#!/usr/bin/python3
# The PyTorch side of `make bench-cuda`: the seed model at 128x128x3, batch 128,
# the study's loop (bench/torch_ref.py's train_iteration) on the GPU, eager mode,
# timed per iteration after warm-up with torch.cuda.synchronize(). Prints
#     RESULT seed_iteration_b128 <seconds>
# Usage: torch_cuda.py [--reps N] [--tf32]
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import seed_models  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--tf32", action="store_true")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    dev = torch.device("cuda")
    print("DEVICE %s; torch %s; TF32 %s" % (torch.cuda.get_device_name(0), torch.__version__, "on" if a.tf32 else "off"))
    torch.manual_seed(1)
    g, d = seed_models(128, 3, 1.0)
    g, d = g.to(dev), d.to(dev)
    og = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.999), eps=1e-7)
    od = torch.optim.Adam(d.parameters(), 2e-5, betas=(0.5, 0.999), eps=1e-7)
    data = torch.rand(1341, 3, 128, 128, device=dev) * 2 - 1
    batch, half = 128, 64
    ones_h, zeros_h = torch.ones(half, 1, device=dev), torch.zeros(half, 1, device=dev)
    ones_b = torch.ones(batch, 1, device=dev)

    def step():
        real = data[torch.randint(0, data.shape[0], (half,), device=dev)]
        od.zero_grad()
        F.binary_cross_entropy_with_logits(d(real), ones_h).backward()
        od.step()
        with torch.no_grad():
            fake = g(torch.randn(half, 100, device=dev))
        od.zero_grad()
        F.binary_cross_entropy_with_logits(d(fake), zeros_h).backward()
        od.step()
        og.zero_grad()
        F.binary_cross_entropy_with_logits(d(g(torch.randn(batch, 100, device=dev))), ones_b).backward()
        og.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    for _ in range(a.reps):
        t = time.perf_counter()
        step()
        torch.cuda.synchronize()
        print("RESULT seed_iteration_b128 %.6f" % (time.perf_counter() - t), flush=True)


if __name__ == "__main__":
    main()
