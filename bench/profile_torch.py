"""Where inference time goes: torch autograd profiler on bench/mirnet_torch.py's equivalent model.

Also lists every op whose output silently left channels-last (a layout conversion the next conv pays for).
Usage: /usr/bin/python3 bench/profile_torch.py [--channels 16 --rrgs 1 --mrbs 1] [--size 600x400] [--threads 2]
       [--precision fp32|bf16|fp16] [--device cuda]   (CUDA: kernel times, dense NCHW as the C++ engine uses)
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirnet_torch as mt  # noqa: E402


def layout_report(model, x):
    """Names of modules whose 4-D output is not channels-last contiguous (given channels-last input)."""
    bad = []

    def hook(name):
        def f(_, __, out):
            if isinstance(out, torch.Tensor) and out.dim() == 4 and out.size(1) > 1 and \
                    not out.is_contiguous(memory_format=torch.channels_last):
                bad.append(name)
        return f

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
    with torch.inference_mode():
        model(x)
    for h in handles:
        h.remove()
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--rrgs", type=int, default=1)
    ap.add_argument("--mrbs", type=int, default=1)
    ap.add_argument("--size", default="600x400")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=25)
    ap.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    w, h = map(int, a.size.split("x"))
    model = mt.MIRNet(mt.default_config(channels=a.channels, rrgs=a.rrgs, mrbs=a.mrbs)).eval()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[a.precision]
    cuda = a.device.startswith("cuda")
    fmt = torch.contiguous_format if cuda else torch.channels_last
    model = model.to(a.device, dtype, memory_format=fmt)
    x = (torch.rand(1, 3, h, w) * 0.3).to(a.device, dtype).contiguous(memory_format=fmt)
    if not cuda:
        bad = layout_report(model, x)
        print("modules whose output left channels-last:", ", ".join(bad) if bad else "none")
    else:
        torch.backends.cudnn.benchmark = True  # as the C++ engine
    with torch.inference_mode():
        model(x)  # warm-up (and cuDNN's autotuning)
        activities = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
        with torch.profiler.profile(activities=activities) as prof:
            model(x)
            if cuda:
                torch.cuda.synchronize()
    table = prof.key_averages()
    if not cuda:
        print(table.table(sort_by="self_cpu_time_total", row_limit=a.rows))
        return
    for key in ("self_device_time_total", "self_cuda_time_total"):  # the name changed in torch 2.4
        try:
            print(table.table(sort_by=key, row_limit=a.rows))
            return
        except (AttributeError, KeyError):
            continue


if __name__ == "__main__":
    main()
