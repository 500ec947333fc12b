#!/usr/bin/python3
# Writes the image files that tests/test_images.c decodes, in formats our own
# writer cannot produce: 16-bit PNG, palette PNG, progressive and grayscale
# JPEG. Run with Debian's python (python3-pil): /usr/bin/python3 tests/make_images.py
# Each image is 24x16; the expected 8-bit gray values (PIL's own decoding and
# conversion) go beside it as <name>.gray, raw bytes, row-major.
import os

import numpy as np
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "images")
W, H = 24, 16


def ramp():
    y, x = np.mgrid[0:H, 0:W]
    return x, y


def save(img, name, gray=None, **kw):
    """gray None: the expected values are PIL's decoding of the written file."""
    path = os.path.join(HERE, name)
    img.save(path, **kw)
    if gray is None:
        gray = np.asarray(Image.open(path).convert("L"))
    np.asarray(gray, dtype=np.uint8).tofile(path + ".gray")
    print("wrote", os.path.relpath(path), os.path.getsize(path), "bytes")


def main():
    os.makedirs(HERE, exist_ok=True)
    x, y = ramp()
    # 16-bit grayscale PNG: expected 8-bit value round(v * 255 / 65535)
    v16 = (x * 2700 + y * 300 + 17).astype(np.uint16)
    img = Image.fromarray(v16.astype(np.uint16), mode="I;16")
    save(img, "gray16.png", (v16.astype(np.uint32) * 255 + 32767) // 65535)
    # 12-bit values (0..4095, a DICOM export's range) in a 16-bit PNG: in 8 bits they
    # are 0..16, an image that loads nearly black (dcgan_dataset's dark)
    v12 = (x * 160 + y * 15 + 63).astype(np.uint16)
    img = Image.fromarray(v12, mode="I;16")
    save(img, "gray12in16.png", (v12.astype(np.uint32) * 255 + 32767) // 65535)
    # palette PNG: 4 colours; gray by ITU-R 601 (PIL convert('L'))
    pal = Image.new("P", (W, H))
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 200] + [0] * (256 * 3 - 12))
    idx = ((x // 6 + y // 4) % 4).astype(np.uint8)
    pal.putdata(idx.flatten().tolist())
    save(pal, "palette.png", np.asarray(pal.convert("L")))
    # progressive JPEG (RGB) and a baseline grayscale JPEG; decoders may differ by a level or two
    rgb = np.stack([x * 10, y * 15, (x + y) * 6], axis=-1).astype(np.uint8)
    img = Image.fromarray(rgb, mode="RGB")
    save(img, "progressive.jpg", progressive=True, quality=95)
    g = Image.fromarray((x * 10 + y * 2).astype(np.uint8), mode="L")
    save(g, "gray.jpeg", quality=95)


if __name__ == "__main__":
    main()
