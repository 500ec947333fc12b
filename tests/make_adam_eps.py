#!/usr/bin/python3
# Adam on gradients near eps, where the two modes differ only in where eps sits:
# PyTorch divides by sqrt(v_hat) + 1e-8 (torch.optim.Adam itself), Keras by
# sqrt(v) + 1e-7 with lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) (the formula of
# shared/REFERENCE.md section 2, in float32 numpy). Four steps from w0 with
# gradients from 5e-10 to 3e-7. Writes tests/data/adam_eps.txt: lines
# "name v1 v2 ..." (%.9g). Run: /usr/bin/python3 tests/make_adam_eps.py
import os

import numpy as np
import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
W0 = np.array([0.5, -0.3, 0.1, 0.2, -0.05, 0.0], dtype=np.float32)
GRADS = np.array([[1e-9, -3e-8, 1e-7, 5e-10, -2e-9, 3e-7],
                  [-2e-9, -1e-8, 2e-7, 1e-9, 4e-9, -1e-7],
                  [3e-9, 2e-8, -5e-8, -7e-10, 1e-8, 2e-7],
                  [1e-9, -4e-8, 1e-7, 2e-9, -3e-9, 1e-7]], dtype=np.float32)
LR, B1, B2 = 1e-3, 0.5, 0.999


def torch_adam():
    w = torch.nn.Parameter(torch.from_numpy(W0.copy()))
    opt = torch.optim.Adam([w], lr=LR, betas=(B1, B2))
    for g in GRADS:
        w.grad = torch.from_numpy(g.copy())
        opt.step()
    return w.detach().numpy()


def keras_adam():
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, 1):
        m = np.float32(B1) * m + np.float32(1 - B1) * g
        v = np.float32(B2) * v + np.float32(1 - B2) * g * g
        lr_t = np.float32(LR * np.sqrt(1 - B2 ** t) / (1 - B1 ** t))
        w = w - lr_t * m / (np.sqrt(v) + np.float32(1e-7))
    return w


def main():
    rows = [("w0", W0)] + [("g%d" % i, g) for i, g in enumerate(GRADS)] + \
           [("torch_w", torch_adam()), ("keras_w", keras_adam())]
    with open(os.path.join(HERE, "adam_eps.txt"), "w") as f:
        for name, a in rows:
            f.write(name + " " + " ".join("%.9g" % x for x in a) + "\n")
    print("wrote tests/data/adam_eps.txt")


if __name__ == "__main__":
    main()
