#!/usr/bin/python3
# Golden data for the Inception-V3 / FID tests, from PyTorch:
#   tests/data/fid.bin   features at all four --dims for fixed images, with
#                        every weight filled deterministically (see
#                        dcgan_inception_fill_deterministic in dcgan.h)
#   tests/data/pth/      small state_dicts with Inception key names saved by
#                        torch.save in the legacy and the zip format
# With --full DIR it also writes the full filled state_dict in both formats to
# DIR (95 MB each; made at test time, never committed).
# Run with Debian's python: /usr/bin/python3 tests/make_fid_reference.py
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import Pcg32, save  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def fnv1a64(text):
    h = 14695981039346656037
    for b in text.encode():
        h ^= b
        h = (h * 1099511628211) & ((1 << 64) - 1)
    return h


def fill(name, shape):
    """The deterministic fill of dcgan.h: PCG32 seeded with FNV-1a-64(name)."""
    g = Pcg32(fnv1a64(name), fnv1a64(name))
    n = int(np.prod(shape))
    u = np.array([(g.u32() >> 8) for _ in range(n)], dtype=np.float64) * (1.0 / 16777216.0)
    u = u.astype(np.float32)
    if name.startswith("fc."):
        v = np.float32(0.02) * (u - np.float32(0.5))
    elif name.endswith("conv.weight"):
        fan_in = shape[1] * shape[2] * shape[3]
        v = (np.float32(2) * u - np.float32(1)) * np.float32(np.sqrt(np.float32(6.0) / np.float32(fan_in)))
    elif name.endswith("bn.weight") or name.endswith("bn.running_var"):
        v = np.float32(0.5) + u
    else:
        v = np.float32(0.2) * (u - np.float32(0.5))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FIDInceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, 2)], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, 2)], 1)


class FIDInceptionE(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.max_pool:   # pytorch-fid's Mixed_7c patch
            bp = F.max_pool2d(x, 3, 1, 1)
        else:
            bp = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


class FIDInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, 32)
        self.Mixed_5c = FIDInceptionA(256, 64)
        self.Mixed_5d = FIDInceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, 128)
        self.Mixed_6c = FIDInceptionC(768, 160)
        self.Mixed_6d = FIDInceptionC(768, 160)
        self.Mixed_6e = FIDInceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, False)
        self.Mixed_7c = FIDInceptionE(2048, True)
        self.fc = nn.Linear(2048, 1008)

    def features(self, x):
        """pytorch-fid's InceptionV3.forward for all four blocks."""
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        out = {}
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, 2)
        out[64] = x.mean((2, 3))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, 2)
        out[192] = x.mean((2, 3))
        for m in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b,
                  self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = m(x)
        out[768] = x.mean((2, 3))
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        out[2048] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return out


def filled_model():
    net = FIDInception().eval()
    sd = net.state_dict()
    for k in sd:
        if k.endswith("num_batches_tracked"):
            continue
        sd[k] = fill(k, tuple(sd[k].shape))
    net.load_state_dict(sd)
    return net


def test_images():
    g = Pcg32(11, 11)
    a = np.array([g.uniform() for _ in range(3 * 37 * 53)], dtype=np.float32).reshape(1, 3, 37, 53)
    y, x = np.mgrid[0:64, 0:64]
    b = np.stack([x / 63.0, y / 63.0, (x * y) / 3969.0]).astype(np.float32)[None]
    return a, b


def main():
    torch.set_num_threads(2)
    net = filled_model()
    a, b = test_images()
    arrays = [("img_a", a), ("img_b", b)]
    with torch.no_grad():
        fa = net.features(torch.from_numpy(a))
        fb = net.features(torch.from_numpy(b))
    for d in (64, 192, 768, 2048):
        arrays += [("feat_a.%d" % d, fa[d].numpy()), ("feat_b.%d" % d, fb[d].numpy())]
    save("fid.bin", arrays)
    # small state_dicts with Inception names, both torch formats
    os.makedirs(os.path.join(HERE, "data", "pth"), exist_ok=True)
    # a real state_dict() export (an OrderedDict with _metadata, which pickles
    # with SETITEM, SETITEMS and BUILD), of the first BasicConv2d only
    small = net.Conv2d_1a_3x3.state_dict(prefix="Conv2d_1a_3x3.")
    for fmt, zipped in (("legacy", False), ("zip", True)):
        path = os.path.join(HERE, "data", "pth", "small_%s.pth" % fmt)
        torch.save(small, path, _use_new_zipfile_serialization=zipped)
        print("wrote", os.path.relpath(path), os.path.getsize(path), "bytes")
    if len(sys.argv) > 2 and sys.argv[1] == "--full":
        for fmt, zipped in (("legacy", False), ("zip", True)):
            path = os.path.join(sys.argv[2], "inception_filled_%s.pth" % fmt)
            torch.save(net.state_dict(), path, _use_new_zipfile_serialization=zipped)
            print("wrote", path)


if __name__ == "__main__":
    main()
