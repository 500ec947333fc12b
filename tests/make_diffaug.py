#!/usr/bin/python3
# Writes tests/data/diffaug.bin: DiffAugment's forward pass and its gradient
# from PyTorch autograd, on fixed draws, for tests/test_small_data.c.
#
#     /usr/bin/python3 tests/make_diffaug.py
#
# The transforms follow DiffAugment_pytorch.py (Zhao et al. 2020) written out
# with explicit draws instead of torch.rand, so that C can use the same ones:
#   brightness x + b; saturation (x - mean_c) * s + mean_c; contrast
#   (x - mean_chw) * k + mean_chw; translation out[y][x] = in[y + ty][x + tx]
#   (zero outside); cutout: the rectangle [y0, y1) x [x0, x1) set to 0.
# Draws per image (one row of "draws"): b, s, k, tx, ty, x0, y0, x1, y1.
# File format: tests/make_reference.py's (magic "DCGT", arrays by name).
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import save  # noqa: E402


def augment(x, draws):
    n, c, h, w = x.shape
    outs = []
    for i in range(n):
        b, s, k, tx, ty, x0, y0, x1, y1 = draws[i].tolist()
        v = x[i:i + 1] + b
        m = v.mean(dim=1, keepdim=True)
        v = (v - m) * s + m
        m = v.mean(dim=[1, 2, 3], keepdim=True)
        v = (v - m) * k + m
        # translation as DiffAugment_pytorch.py does it: pad by one zero pixel, gather
        tx, ty = int(tx), int(ty)
        ys = (torch.arange(h) + ty + 1).clamp(0, h + 1)
        xs = (torch.arange(w) + tx + 1).clamp(0, w + 1)
        padded = torch.nn.functional.pad(v, [1, 1, 1, 1])
        v = padded[:, :, ys][:, :, :, xs]
        mask = torch.ones(1, 1, h, w)
        mask[:, :, int(y0):int(y1), int(x0):int(x1)] = 0
        outs.append(v * mask)
    return torch.cat(outs)


def case(prefix, n, c, h, w, draws):
    x = torch.randn(n, c, h, w, requires_grad=True)
    out = augment(x, torch.tensor(draws, dtype=torch.float64))
    dout = torch.randn_like(out)
    out.backward(dout)
    return [(prefix + ".x", x), (prefix + ".draws", torch.tensor(draws)), (prefix + ".out", out),
            (prefix + ".dout", dout), (prefix + ".dx", x.grad)]


def main():
    torch.manual_seed(28)
    # RGB, 7 x 9 (not square: rows and columns must not be swapped); every kind of draw,
    # shifts that reach the border (s = int(9/8 + 0.5) = 1 ... pushed further to 3 here)
    rgb = [[0.3, 1.4, 0.7, 1, -2, 2, 1, 6, 5],
           [-0.45, 0.2, 1.3, -3, 1, 0, 0, 0, 0],
           [0.0, 1.0, 1.0, 0, 0, 5, 4, 9, 7],
           [0.1, 0.0, 0.5, 2, 2, 0, 0, 3, 2]]
    gray = [[0.25, 1.0, 1.45, -1, 1, 1, 2, 4, 6],
            [-0.2, 1.0, 0.6, 0, -1, 0, 0, 0, 0]]
    arrays = case("rgb", 4, 3, 7, 9, rgb) + case("gray", 2, 1, 8, 8, gray)
    save("diffaug.bin", arrays)


if __name__ == "__main__":
    main()
