#!/usr/bin/python3
# Runs pytorch-fid's pipeline in Python on two image folders with the
# deterministically filled Inception of tests/make_fid_reference.py (pytorch-fid
# itself and its weights are not available here): sorted glob, PIL
# convert('RGB') / 255, batches of 50, the FID network, np.cov, scipy sqrtm.
# Prints "FID:  <value>" for comparison with
#   build/fid --fill-deterministic --dims D DIR1 DIR2
# Usage: /usr/bin/python3 tests/check_fid_pipeline.py D DIR1 DIR2
import os
import pathlib
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fid_math import frechet  # noqa: E402
from make_fid_reference import filled_model  # noqa: E402

EXTS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp"}


def activations(net, folder, dims):
    files = sorted(f for f in pathlib.Path(folder).glob("*.*") if f.suffix[1:].lower() in EXTS)
    feats = []
    for i in range(0, len(files), 50):
        batch = [np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255 for f in files[i:i + 50]]
        for img in batch:   # pytorch-fid batches equal sizes; ours may differ, so one at a time
            x = torch.from_numpy(img.transpose(2, 0, 1)[None].copy())
            with torch.no_grad():
                feats.append(net.features(x)[dims].numpy()[0])
    return np.array(feats, dtype=np.float64)


def main():
    dims, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    torch.set_num_threads(2)
    net = filled_model()
    fa, fb = activations(net, a, dims), activations(net, b, dims)
    fid = frechet(fa.mean(0), np.cov(fa, rowvar=False), fb.mean(0), np.cov(fb, rowvar=False))
    print("FID:  %.10g" % fid)


if __name__ == "__main__":
    main()
