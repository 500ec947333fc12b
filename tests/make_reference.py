#!/usr/bin/python3
# Writes the golden fixtures in tests/data/*.bin from PyTorch, the reference
# implementation. Run it with Debian's python (it needs python3-torch):
#
#     /usr/bin/python3 tests/make_reference.py
#
# The fixtures are committed, so the tests (and CI) never need torch.
#
# File format (little-endian), read by tests/fixture.h:
#     u32 magic 0x54474344 ("DCGT"), u32 version 1, u32 array count, then per array:
#     u32 name length, name bytes (no NUL), u32 ndim, u32 dims[ndim], float32 data
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = 0x54474344
VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def save(name, arrays):
    """arrays: list of (name, tensor or ndarray)."""
    path = os.path.join(DATA, name)
    with open(path, "wb") as f:
        f.write(struct.pack("<III", MAGIC, VERSION, len(arrays)))
        for key, value in arrays:
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            value = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
            shape = value.shape if value.ndim > 0 else (1,)
            f.write(struct.pack("<I", len(key)) + key.encode())
            f.write(struct.pack("<I", len(shape)) + struct.pack("<%dI" % len(shape), *shape))
            f.write(value.tobytes())
    print("wrote %s (%d bytes)" % (os.path.relpath(path), os.path.getsize(path)))


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def layer_case(prefix, module_fn, x, params):
    """Runs forward and backward with a random upstream gradient; returns arrays."""
    x = x.clone().requires_grad_(True)
    for p in params:
        p.requires_grad_(True)
    out = module_fn(x)
    dout = rand(*out.shape)
    out.backward(dout)
    arrays = [(prefix + ".x", x), (prefix + ".out", out), (prefix + ".dout", dout),
              (prefix + ".dx", x.grad)]
    return arrays


def linear_cases():
    torch.manual_seed(1)
    arrays = []
    x, w, b = rand(3, 7), rand(5, 7), rand(5)
    w.requires_grad_(True)
    b.requires_grad_(True)
    arrays += layer_case("linear", lambda t: F.linear(t, w, b), x, [w, b])
    arrays += [("linear.w", w), ("linear.b", b), ("linear.dw", w.grad), ("linear.db", b.grad)]
    return arrays


def conv_cases():
    """Conv2d with symmetric and asymmetric padding (F.pad + conv2d)."""
    torch.manual_seed(2)
    arrays = []
    # name, N, C, H, W, OC, K, S, (top, left, bottom, right)
    cases = [
        ("conv_a", 2, 3, 5, 7, 4, 3, 2, (1, 0, 2, 1)),     # odd shape, asymmetric
        ("conv_same", 2, 3, 8, 8, 4, 5, 2, (1, 1, 2, 2)),  # Keras 'same', K=5, S=2
        ("conv_s1", 2, 2, 6, 5, 3, 5, 1, (2, 2, 2, 2)),    # Keras 'same', K=5, S=1
    ]
    for name, n, c, h, wd, oc, k, s, (pt, pl, pb, pr) in cases:
        x, w, b = rand(n, c, h, wd), rand(oc, c, k, k), rand(oc)
        w.requires_grad_(True)
        b.requires_grad_(True)
        fn = lambda t: F.conv2d(F.pad(t, (pl, pr, pt, pb)), w, b, stride=s)
        arrays += layer_case(name, fn, x, [w, b])
        arrays += [(name + ".w", w), (name + ".b", b), (name + ".dw", w.grad),
                   (name + ".db", b.grad),
                   (name + ".geom", np.array([k, s, pt, pl, pb, pr], dtype=np.float32))]
    return arrays


def conv_transpose_cases():
    """ConvTranspose2d; asymmetric padding is a crop of the padding-0 output."""
    torch.manual_seed(3)
    arrays = []
    cases = [
        ("convt_keras", 2, 3, 4, 5, 2, 4, 2, (1, 1, 1, 1)),  # Keras Conv2DTranspose(4, 2, 'same')
        ("convt_odd", 2, 3, 3, 4, 4, 3, 2, (0, 0, 0, 0)),
        ("convt_asym", 1, 2, 4, 3, 3, 5, 2, (1, 1, 2, 2)),   # Keras 'same' with K=5
        ("convt_skew", 1, 2, 3, 4, 3, 3, 2, (0, 2, 1, 0)),   # top != left, bottom != right
    ]
    for name, n, c, h, wd, oc, k, s, (pt, pl, pb, pr) in cases:
        x, w, b = rand(n, c, h, wd), rand(c, oc, k, k), rand(oc)
        w.requires_grad_(True)
        b.requires_grad_(True)

        def fn(t, w=w, b=b, s=s, pt=pt, pl=pl, pb=pb, pr=pr):
            full = F.conv_transpose2d(t, w, b, stride=s)
            return full[:, :, pt:full.shape[2] - pb, pl:full.shape[3] - pr]
        arrays += layer_case(name, fn, x, [w, b])
        arrays += [(name + ".w", w), (name + ".b", b), (name + ".dw", w.grad),
                   (name + ".db", b.grad),
                   (name + ".geom", np.array([k, s, pt, pl, pb, pr], dtype=np.float32))]
    # The Keras case must equal PyTorch's own padding=1 module.
    return arrays


def upsample_cases():
    torch.manual_seed(4)
    arrays = []
    cases = [
        ("up_nearest2", "nearest", 2, 3, 4, 5, 8, 10),
        ("up_bilinear2", "bilinear", 2, 3, 4, 5, 8, 10),
        ("up_bilinear_odd", "bilinear", 1, 2, 5, 7, 11, 13),
        ("up_nearest_odd", "nearest", 1, 2, 5, 7, 11, 13),
        ("up_bilinear_down", "bilinear", 1, 1, 9, 8, 4, 3),
    ]
    for name, mode, n, c, h, w, oh, ow in cases:
        x = rand(n, c, h, w)
        if mode == "bilinear":
            fn = lambda t, oh=oh, ow=ow: F.interpolate(t, size=(oh, ow), mode="bilinear",
                                                       align_corners=False)
        else:
            fn = lambda t, oh=oh, ow=ow: F.interpolate(t, size=(oh, ow), mode="nearest")
        arrays += layer_case(name, fn, x, [])
    return arrays


def batchnorm_cases():
    torch.manual_seed(5)
    arrays = []
    bn = nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(rand(4))
        bn.bias.copy_(rand(4))
        bn.running_mean.copy_(rand(4) * 0.1)
        bn.running_var.copy_(torch.rand(4) + 0.5)
    arrays += [("bn.gamma", bn.weight.detach().clone()), ("bn.beta", bn.bias.detach().clone()),
               ("bn.rm0", bn.running_mean.clone()), ("bn.rv0", bn.running_var.clone())]
    bn.train()
    x = rand(3, 4, 5, 6) * 2 + 1
    arrays += layer_case("bn", bn, x, [])
    arrays += [("bn.dgamma", bn.weight.grad), ("bn.dbeta", bn.bias.grad),
               ("bn.rm1", bn.running_mean), ("bn.rv1", bn.running_var)]
    bn.weight.grad = None
    bn.bias.grad = None
    bn.eval()
    arrays += layer_case("bn_eval", bn, x, [])
    arrays += [("bn_eval.dgamma", bn.weight.grad), ("bn_eval.dbeta", bn.bias.grad)]
    return arrays


def activation_cases():
    torch.manual_seed(6)
    arrays = []
    x = rand(2, 3, 4, 5) * 3
    x[0, 0, 0, :] = torch.tensor([0.0, 50.0, -50.0, 1e-3, -1e-3])
    for name, fn in [("leaky_relu", lambda t: F.leaky_relu(t, 0.2)), ("relu", F.relu),
                     ("tanh", torch.tanh), ("sigmoid", torch.sigmoid)]:
        arrays += layer_case(name, fn, x, [])
    return arrays


def bce_cases():
    torch.manual_seed(7)
    logits = torch.cat([torch.tensor([100.0, -100.0, 0.0, 30.0, -30.0, 1e-4]), rand(10) * 4])
    targets = torch.cat([torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0, 0.9]), torch.rand(10)])
    targets[6:9] = torch.tensor([1.0, 0.0, 0.9])
    logits.requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="mean")
    loss.backward()
    acc = ((logits > 0) == (targets >= 0.5)).float().mean()
    return [("bce.logits", logits), ("bce.targets", targets), ("bce.loss", loss.reshape(1)),
            ("bce.dlogits", logits.grad), ("bce.acc", acc.reshape(1))]


def keras_adam(w, grads, lr, b1, b2, eps):
    """tf.keras.optimizers.Adam in float32, as written in REFERENCE.md section 2."""
    w = w.astype(np.float32).copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = (np.float32(b1) * m + np.float32(1 - b1) * g).astype(np.float32)
        v = (np.float32(b2) * v + np.float32(1 - b2) * g * g).astype(np.float32)
        lr_t = np.float32(lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        w = (w - lr_t * m / (np.sqrt(v) + np.float32(eps))).astype(np.float32)
    return w, m, v


def adam_cases():
    torch.manual_seed(8)
    arrays = []
    w0 = rand(37)
    grads = [rand(37) * (0.1 + i) for i in range(5)]
    grads[2][3] = 0.0
    arrays += [("adam.w0", w0)] + [("adam.g%d" % i, g) for i, g in enumerate(grads)]
    lr, b1, b2 = 1e-3, 0.5, 0.999
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=lr, betas=(b1, b2), eps=1e-8)
    for g in grads:
        opt.zero_grad()
        p.grad = g.clone()
        opt.step()
    st = opt.state[p]
    arrays += [("adam.torch_w", p), ("adam.torch_m", st["exp_avg"]),
               ("adam.torch_v", st["exp_avg_sq"])]
    kw, km, kv = keras_adam(w0.numpy(), [g.numpy() for g in grads], lr, b1, b2, 1e-7)
    arrays += [("adam.keras_w", kw), ("adam.keras_m", km), ("adam.keras_v", kv)]
    return arrays


class Keep(nn.Module):
    """Reshape as a module so that it takes an index in nn.Sequential."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def model_case():
    """A small sequential model using every layer kind; weights are stored by
    state_dict name so the C test can load them into its own container."""
    torch.manual_seed(9)
    main = nn.Sequential(
        nn.Linear(6, 4 * 3 * 3),          # 0
        nn.LeakyReLU(0.2),                # 1
        Keep(4, 3, 3),                    # 2
        nn.ConvTranspose2d(4, 3, 4, 2, 1),  # 3  -> 6x6
        nn.BatchNorm2d(3),                # 4
        nn.ReLU(),                        # 5
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),  # 6 -> 12x12
        nn.Conv2d(3, 2, 3, 2, 1),         # 7  -> 6x6
        nn.Tanh(),                        # 8
        nn.Flatten(),                     # 9
        nn.Linear(72, 1),                 # 10
        nn.Sigmoid(),                     # 11
    )
    main.train()
    x = rand(4, 6)
    x.requires_grad_(True)
    out = main(x)
    dout = rand(*out.shape)
    out.backward(dout)
    arrays = [("model.x", x), ("model.out", out), ("model.dout", dout), ("model.dx", x.grad)]
    for name, p in main.named_parameters():
        arrays += [("main." + name, p.detach()), ("grad.main." + name, p.grad)]
    for name, b in main.named_buffers():
        if "num_batches" not in name:
            arrays += [("after.main." + name, b)]
    return arrays


class Pcg32:
    """The generator of dcgan.h section 3, written out again in Python."""
    MASK = (1 << 64) - 1

    def __init__(self, initstate, initseq):
        self.state = 0
        self.inc = ((initseq << 1) | 1) & self.MASK
        self.u32()
        self.state = (self.state + initstate) & self.MASK
        self.u32()
        self.spare = None

    def u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & self.MASK
        x = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        r = old >> 59
        return ((x >> r) | (x << ((32 - r) & 31))) & 0xFFFFFFFF

    def uniform(self):
        return (self.u32() >> 8) * (1.0 / 16777216.0)

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1 = ((self.u32() >> 8) + 1.0) / 16777216.0
        u2 = (self.u32() >> 8) / 16777216.0
        r = np.sqrt(-2.0 * np.log(u1))
        self.spare = r * np.sin(2 * np.pi * u2)
        return r * np.cos(2 * np.pi * u2)


def rng_cases():
    g = Pcg32(7, 7)
    u32 = [g.u32() for _ in range(8)]
    # float32 holds 24 bits exactly; store the raw words as two 16-bit halves
    halves = [v >> 16 for v in u32] + [v & 0xFFFF for v in u32]
    uni = [g.uniform() for _ in range(16)]
    nor = [g.normal() for _ in range(17)]
    return [("rng.u32_halves", np.array(halves, dtype=np.float32)),
            ("rng.uniform", np.array(uni)), ("rng.normal", np.array(nor))]


def resize_cases():
    """Bilinear resizes to 299x299 as pytorch-fid does them (F.interpolate,
    align_corners=False, no antialias), on inputs both sides make from Pcg32."""
    arrays = []
    for name, h, w, seed in (("resize_128", 128, 128, 21), ("resize_800x1000", 800, 1000, 22)):
        g = Pcg32(seed, seed)
        x = np.array([(g.u32() >> 8) for _ in range(h * w)], dtype=np.float64) * (1.0 / 16777216.0)
        x = torch.from_numpy(x.astype(np.float32).reshape(1, 1, h, w))
        out = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        arrays += [(name + ".out", out)]
    return arrays


def main():
    os.makedirs(DATA, exist_ok=True)
    torch.set_num_threads(1)
    save("layers.bin", linear_cases() + conv_cases() + conv_transpose_cases() +
         upsample_cases() + batchnorm_cases() + activation_cases())
    save("loss_adam.bin", bce_cases() + adam_cases() + rng_cases())
    save("resize.bin", resize_cases())
    save("model.bin", model_case())


if __name__ == "__main__":
    main()
