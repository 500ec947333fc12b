#!/usr/bin/python3
# Shows that a dcgan.h generator checkpoint is an ordinary PyTorch state_dict:
# builds the same generator as torch.nn.Sequential, loads the "G.main.*"
# tensors (or, in a checkpoint with an averaged generator, "G_ema.main.*",
# which generate uses) from the safetensors checkpoint (read here with json + numpy, as
# Debian's torch has no safetensors module), runs it on the noise that
# build/generate used, and compares with the images generate computed.
#
#   rm -f /tmp/raw.safetensors   # (--save-raw must name a new file)
#   build/generate --checkpoint CKPT --count 16 --out /tmp/g --save-raw /tmp/raw.safetensors
#   /usr/bin/python3 tests/check_torch_generator.py CKPT /tmp/raw.safetensors
#
# Prints the largest absolute difference and exits 1 if it exceeds 1e-5.
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def filters(base, width):
    # dcgan.h: (int)((float)base * width + 0.5f), at least 1
    return max(1, int(np.float32(base) * np.float32(width) + np.float32(0.5)))


def build_generator(meta):
    arch, size, ch = meta["arch"], int(meta["size"]), int(meta["channels"])
    width, z = float(meta["width"]), int(meta["latent"])
    layers = []
    if arch == "dcgan":
        doublings = {64: 4, 128: 5, 256: 6}[size]
        mult = 1 << (doublings - 1)
        layers += [nn.ConvTranspose2d(z, filters(64 * mult, width), 4, 1, 0, bias=False),
                   nn.BatchNorm2d(filters(64 * mult, width)), nn.ReLU()]
        for _ in range(1, doublings):
            prev, mult = filters(64 * mult, width), mult // 2
            layers += [nn.ConvTranspose2d(prev, filters(64 * mult, width), 4, 2, 1, bias=False),
                       nn.BatchNorm2d(filters(64 * mult, width)), nn.ReLU()]
        layers += [nn.ConvTranspose2d(filters(64 * mult, width), ch, 4, 2, 1, bias=False), nn.Tanh()]
    else:
        b, top = size // 16, filters(1024, width)
        layers += [nn.Linear(z, b * b * top), nn.LeakyReLU(0.2), nn.Unflatten(1, (top, b, b))]
        prev = top
        for base in (512, 256, 128, 64):
            f = filters(base, width)
            if arch == "seed":   # Keras Conv2DTranspose(4, 2, 'same') == padding 1
                layers += [nn.ConvTranspose2d(prev, f, 4, 2, 1)]
            else:                # paper: nearest x2, then a 5x5 'same' convolution
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(prev, f, 5, 1, 2)]
            layers += [nn.LeakyReLU(0.2)]
            prev = f
        layers += [nn.Conv2d(prev, ch, 5, 1, 2), nn.Tanh()]

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(*layers)

        def forward(self, x):
            return self.main(x)
    return Generator(), arch


def main():
    ckpt, raw = sys.argv[1], sys.argv[2]
    tensors, meta = read_safetensors(ckpt)
    g, arch = build_generator(meta)
    prefix = "G_ema." if "G_ema.main.0.weight" in tensors else "G."
    state = {k[len(prefix):]: torch.from_numpy(v.copy()) for k, v in tensors.items()
             if k.startswith(prefix + "main.")}
    missing, unexpected = g.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    g.eval()
    rt, _ = read_safetensors(raw)
    noise = torch.from_numpy(rt["noise"].copy())
    if arch == "dcgan":
        noise = noise.reshape(noise.shape[0], -1, 1, 1)
    with torch.no_grad():
        out = g(noise).numpy()
    diff = float(np.abs(out - rt["images"]).max())
    print("torch %s generator (%s*) vs dcgan.h: %d images %s, largest abs difference %.3g"
          % (arch, prefix, out.shape[0], "x".join(map(str, out.shape[1:])), diff))
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
