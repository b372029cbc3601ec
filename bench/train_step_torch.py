"""One MIRNet training step (batch x crop^2, Charbonnier, Adam) in Python PyTorch eager; prints steps/s.

Same network as lowlight-train (bench/mirnet_torch.py mirrors core/src/model.cpp). Usage:
  /usr/bin/python3 bench/train_step_torch.py --channels 16 --rrgs 1 --mrbs 1 --steps 10 --threads 2 [--nchw]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirnet_torch as mt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--rrgs", type=int, default=3)
    ap.add_argument("--mrbs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (after --warmup untimed ones)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nchw", action="store_true", help="plain NCHW instead of channels-last")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = mt.MIRNet(mt.default_config(channels=a.channels, rrgs=a.rrgs, mrbs=a.mrbs)).train()
    fmt = torch.contiguous_format if a.nchw else torch.channels_last
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
    low = torch.rand(a.batch, 3, a.crop, a.crop).contiguous(memory_format=fmt)
    high = (low * 2).clamp(0, 1).contiguous(memory_format=fmt)

    def step():
        loss = torch.sqrt((model(low) - high) ** 2 + 1e-6).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(f"python eager {'nchw' if a.nchw else 'channels-last'} C={a.channels} {a.rrgs}x{a.mrbs} "
          f"batch {a.batch} x {a.crop}^2: {a.steps / seconds:.4f} steps/s ({seconds / a.steps:.3f} s/step, "
          f"{a.steps} steps, torch {torch.__version__}, {a.threads} threads)")


if __name__ == "__main__":
    main()
