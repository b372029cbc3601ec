"""Training memory of MIRNet configs, estimated from the activations autograd keeps for the backward pass.

Runs one forward pass with autograd on a small crop, sums the bytes of every distinct tensor the graph saves
(torch.autograd.graph.saved_tensors_hooks), and scales linearly with batch x pixels (all activations are
per-pixel; only the parameters and Adam's two moments are fixed). Usage:
  /usr/bin/python3 bench/activation_memory.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirnet_torch as mt  # noqa: E402


def saved_bytes(model, side):
    seen, total = set(), [0]

    def pack(t):
        key = (t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage") else t.storage().data_ptr())
        if key not in seen:
            seen.add(key)
            total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(torch.rand(1, 3, side, side))
    return total[0] + 2 * out.numel() * 4


def main():
    torch.manual_seed(0)
    side = 64
    rows = [("paper C=64 3x2", mt.default_config(keras_last_skff=True, keras_softmax_channels=True)),
            ("compact C=16 1x1", mt.default_config(channels=16, rrgs=1, mrbs=1))]
    for name, config in rows:
        model = mt.MIRNet(config)
        params = sum(p.numel() for p in model.parameters())
        per_pixel = saved_bytes(model, side) / (side * side)
        fixed = params * 4 * 4  # weights, gradients, Adam m and v
        print(f"{name}: {params / 1e6:.2f} M parameters, {per_pixel / 1024:.1f} KiB saved activations per pixel")
        for batch, crop in [(4, 128), (8, 128), (4, 256)]:
            act = per_pixel * batch * crop * crop
            print(f"  batch {batch} x {crop}^2: activations {act / 2**30:.2f} GiB + weights/grads/Adam "
                  f"{fixed / 2**30:.2f} GiB = {(act + fixed) / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
