#!/usr/bin/python3
# One whole training iteration of each architecture in PyTorch, written from the
# study's description (shared/REFERENCE.md section 1 and dcgan.h section 10),
# not from the C code: D takes an Adam step on batch/2 real images drawn with
# replacement (label real_label), then a separate step on batch/2 generated
# images (label fake_label); then G takes a step through D on `batch` noise
# vectors with label 1 (D's weights stay). The state before the step comes from
# the checkpoints `build/test_gan --dump-step DIR` writes (weights, Adam state,
# the RNG state); the random draws follow dcgan.h's documented stream: PCG32,
# indices u32 % n, normals by Box-Muller (a pending spare first), dropout keeps
# a value when uniform >= p. Writes tests/data/gan_step.bin: per case the three
# losses and every tensor of the checkpoint after the step (parameters,
# BatchNorm statistics, both Adam moments of both models).
# Run: make build/test_gan && /usr/bin/python3 tests/make_gan_step.py
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import Pcg32, save  # noqa: E402

CASES = ["seed", "paper_smooth", "dcgan"]


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    meta = head.pop("__metadata__", {})
    out = {}
    for k, v in head.items():
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"]).copy()
    return out, meta


class Stream:
    """dcgan.h's random stream from a saved state."""

    def __init__(self, meta):
        self.g = Pcg32(0, 0)
        self.g.state = int(meta["rng.state"])
        self.g.inc = int(meta["rng.inc"])
        self.has_spare = int(meta["rng.has_spare"])
        self.spare = struct.unpack("<d", struct.pack("<Q", int(meta["rng.spare_bits"])))[0]

    def u32(self):
        return self.g.u32()

    def uniform(self):
        return np.float32((self.u32() >> 8) * (1.0 / 16777216.0))

    def normal(self):
        if self.has_spare:
            self.has_spare = 0
            return np.float32(self.spare)
        u1 = ((self.u32() >> 8) + 1.0) / 16777216.0
        u2 = (self.u32() >> 8) / 16777216.0
        r = math.sqrt(-2.0 * math.log(u1))
        self.spare = r * math.sin(2 * math.pi * u2)
        self.has_spare = 1
        return np.float32(r * math.cos(2 * math.pi * u2))


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from the stream, element by element."""

    def __init__(self, p, stream):
        super().__init__()
        self.p, self.stream = p, stream

    def forward(self, x):
        if not self.training:
            return x
        p = np.float32(self.p)
        mask = np.array([0.0 if self.stream.uniform() < p else 1.0 / (1.0 - p) for _ in range(x.numel())],
                        dtype=np.float32)
        return x * torch.from_numpy(mask.astype(np.float32)).view_as(x)


class Pad(nn.Module):
    """Keras 'same' padding: total = max((out-1)*s + k - in, 0), before = total // 2."""

    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = k, s

    def forward(self, x):
        n = x.shape[-1]
        out = -(-n // self.s)
        total = max((out - 1) * self.s + self.k - n, 0)
        return F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))


def f(n, width):
    return max(1, int(round(n * width)))


def study_d(c, size, width, stream):
    """The published discriminator: 'same' convs (64 s1, 128/256/512/1024 s2), LeakyReLU 0.2,
    flatten, dropout 0.4, dense 1 (the sigmoid is in the loss)."""
    layers, cin = [], c
    for i, n in enumerate([64, 128, 256, 512, 1024]):
        s = 1 if i == 0 else 2
        layers.append(nn.Sequential(Pad(5, s), nn.Conv2d(cin, f(n, width), 5, s)))
        layers.append(nn.LeakyReLU(0.2))
        cin = f(n, width)
    b = size // 16
    layers += [nn.Flatten(), Dropout(0.4, stream), nn.Linear(cin * b * b, 1)]
    return layers


def build(case, meta):
    size, c, width, z = int(meta["size"]), int(meta["channels"]), float(meta["width"]), int(meta["latent"])
    b = size // 16
    if meta["arch"] in ("seed", "paper"):
        g = [nn.Linear(z, b * b * f(1024, width)), nn.LeakyReLU(0.2), nn.Unflatten(1, (f(1024, width), b, b))]
        cin = f(1024, width)
        for n in [512, 256, 128, 64]:
            if meta["arch"] == "seed":   # Conv2DTranspose(k=4, s=2, 'same') = PyTorch padding 1
                g += [nn.ConvTranspose2d(cin, f(n, width), 4, 2, 1)]
            else:                        # the paper's text: upsample, then a 5x5 'same' conv
                g += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, f(n, width), 5, 1, 2)]
            g += [nn.LeakyReLU(0.2)]
            cin = f(n, width)
        g += [nn.Conv2d(cin, c, 5, 1, 2), nn.Tanh()]
        d = None   # built with the stream below
    else:   # Radford et al. as the PyTorch DCGAN example: no biases, BatchNorm, ReLU / LeakyReLU
        g, cin = [nn.ConvTranspose2d(z, f(512, width), 4, 1, 0, bias=False), nn.BatchNorm2d(f(512, width)), nn.ReLU()], f(512, width)
        for n in [256, 128, 64]:
            g += [nn.ConvTranspose2d(cin, f(n, width), 4, 2, 1, bias=False), nn.BatchNorm2d(f(n, width)), nn.ReLU()]
            cin = f(n, width)
        g += [nn.ConvTranspose2d(cin, c, 4, 2, 1, bias=False), nn.Tanh()]
    return g


def named(seq):
    """(name, tensor) of a Sequential in state_dict order, 'same'-padded convs unwrapped."""
    out = []
    for i, m in enumerate(seq):
        mod = m[1] if isinstance(m, nn.Sequential) else m
        for k, v in list(mod.named_parameters(recurse=False)) + list(mod.named_buffers(recurse=False)):
            if k != "num_batches_tracked":
                out.append(("main.%d.%s" % (i, k), v))
    return out


def adam_step(params, state, lr, b1, b2, mode):
    """One Adam step, as REFERENCE.md section 2 (Keras) or 3 (PyTorch) states it, in float32."""
    state["t"] += 1
    t = state["t"]
    for i, p in enumerate(params):
        g = p.grad
        m, v = state["m"][i], state["v"][i]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        with torch.no_grad():
            if mode == "keras":
                lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p.sub_(lr_t * m / (v.sqrt() + 1e-7))
            else:
                p.sub_(lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + 1e-8))


def run_case(case, tmp):
    st, meta = read_safetensors(os.path.join(tmp, "step_%s.safetensors" % case))
    size, c, z, batch = int(meta["size"]), int(meta["channels"]), int(meta["latent"]), int(meta["batch"])
    data = torch.from_numpy(np.fromfile(os.path.join(tmp, "step_%s.raw" % case), dtype=np.float32)).view(-1, c, size, size)
    stream = Stream(meta)
    G = nn.Sequential(*build(case, meta))
    if meta["arch"] == "dcgan":
        w = float(meta["width"])
        dl, cin = [nn.Conv2d(c, f(64, w), 4, 2, 1, bias=False), nn.LeakyReLU(0.2)], f(64, w)
        for n in [128, 256, 512]:
            dl += [nn.Conv2d(cin, f(n, w), 4, 2, 1, bias=False), nn.BatchNorm2d(f(n, w)), nn.LeakyReLU(0.2)]
            cin = f(n, w)
        dl += [nn.Conv2d(cin, 1, 4, 1, 0, bias=False)]
        D = nn.Sequential(*dl)
    else:
        D = nn.Sequential(*study_d(c, size, float(meta["width"]), stream))
    # the weights and Adam state before the step
    models = {"G": G, "D": D}
    opt = {}
    for p, mdl in models.items():
        for name, t in named(mdl):
            with torch.no_grad():
                t.copy_(torch.from_numpy(st["%s.%s" % (p, name)]))
        params = [t for name, t in named(mdl) if "running" not in name]
        m = torch.from_numpy(st["%s.adam.exp_avg" % p])
        v = torch.from_numpy(st["%s.adam.exp_avg_sq" % p])
        ms, vs, at = [], [], 0
        for q in params:
            ms.append(m[at:at + q.numel()].view_as(q).clone())
            vs.append(v[at:at + q.numel()].view_as(q).clone())
            at += q.numel()
        assert at == m.numel(), "the parameter order differs from the checkpoint's"
        opt[p] = {"params": params, "m": ms, "v": vs, "t": int(meta["%s.adam.step" % p]),
                  "lr": float(meta["%s.adam.lr" % p])}
    b1, b2, mode = float(meta["beta1"]), float(meta["beta2"]), meta["adam_mode"]
    real_label, fake_label = float(meta["real_label"]), float(meta["fake_label"])
    bce = nn.BCEWithLogitsLoss()
    half = batch // 2

    def d_step(x, label):
        D.train()
        for q in D.parameters():
            q.grad = None
        out = D(x).view(-1)
        loss = bce(out, torch.full_like(out, np.float32(label)))
        loss.backward()
        adam_step(opt["D"]["params"], opt["D"], opt["D"]["lr"], b1, b2, mode)
        return loss.item()

    # 1. D on real images drawn with replacement
    idx = [stream.u32() % data.shape[0] for _ in range(half)]
    loss_real = d_step(data[idx], real_label)
    # 2. D on generated images (G as Keras' predict: eval mode, except the DCGAN's BatchNorm trains)
    noise = torch.tensor([stream.normal() for _ in range(half * z)], dtype=torch.float32)
    G.train(meta["arch"] == "dcgan")
    shape = (half, z, 1, 1) if meta["arch"] == "dcgan" else (half, z)
    with torch.no_grad():
        fake = G(noise.view(shape))
    loss_fake = d_step(fake, fake_label)
    # 3. G through D with label 1 (never the smoothed real label); D's weights do not move
    noise = torch.tensor([stream.normal() for _ in range(batch * z)], dtype=torch.float32)
    G.train()
    D.train()
    for q in G.parameters():
        q.grad = None
    for q in D.parameters():
        q.requires_grad_(False)
    shape = (batch, z, 1, 1) if meta["arch"] == "dcgan" else (batch, z)
    out = D(G(noise.view(shape))).view(-1)
    loss_g = bce(out, torch.ones_like(out))
    loss_g.backward()
    adam_step(opt["G"]["params"], opt["G"], opt["G"]["lr"], b1, b2, mode)
    arrays = [(case + ".losses", np.array([loss_real, loss_fake, loss_g.item()], dtype=np.float32))]
    for p, mdl in models.items():
        for name, t in named(mdl):
            arrays.append(("%s.%s.%s" % (case, p, name), t.detach().numpy().copy()))
        arrays.append(("%s.%s.adam.exp_avg" % (case, p), torch.cat([m.flatten() for m in opt[p]["m"]]).numpy()))
        arrays.append(("%s.%s.adam.exp_avg_sq" % (case, p), torch.cat([v.flatten() for v in opt[p]["v"]]).numpy()))
    print(case, "losses", loss_real, loss_fake, loss_g.item())
    return arrays


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    exe = os.environ.get("TEST_GAN", os.path.join(here, "..", "build", "test_gan"))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "--dump-step", tmp], check=True)
        arrays = []
        for case in CASES:
            arrays += run_case(case, tmp)
    save("gan_step.bin", arrays)


if __name__ == "__main__":
    main()
