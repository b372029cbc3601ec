"""Python PyTorch eager side of `lowlight bench`: a server that the C++ benchmark drives over stdin/stdout.

It loads the same safetensors file into bench/mirnet_torch.py's module and does the same work as the C++
Enhancer: the same tile layout and blending weights (a port of core/src/tiles.cpp), the model under
torch.inference_mode(), clamping to [0,1]. Timing happens here, around the work only, so pipe traffic and
interpreter start-up are not counted. One command per line in, one JSON object per line out:
  image PATH WIDTH HEIGHT TILE OVERLAP MULTIPLE  raw float32 HWC RGB input; tile plan as the Enhancer's
  enhance                                        -> {"seconds": s, "rss_peak_mib": m}
  save PATH                                      last output as raw float32 HWC RGB
  train BATCH CROP                               set up a training step (Charbonnier, Adam), as lowlight-train
  step                                           -> {"seconds": s}
  quit
Usage: /usr/bin/python3 bench/infer_torch.py --weights W --threads N [--nchw] [--device cuda]
"""
import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirnet_torch as mt  # noqa: E402

DEAD_FRACTION = 0.25  # core/src/tiles.cpp kDeadFraction


def layout(length, tile, overlap, multiple):
    if length <= tile:
        return [(0, length)]
    step = tile - overlap
    count = 1 + (length - tile + step - 1) // step
    needed = (length + (count - 1) * overlap + count - 1) // count + multiple
    tile = min(tile, (needed + multiple - 1) // multiple * multiple)
    spans = []
    for i in range(count):
        ideal = i * (length - tile) / (count - 1)
        start = int(math.floor(ideal + 0.5)) // multiple * multiple  # lround for non-negative values
        spans.append([start, min(tile, length - start)])
    spans[-1][1] = length - spans[-1][0]
    unique = []
    for s in spans:
        if unique and unique[-1][0] == s[0]:
            unique.pop()
        unique.append(s)
    return [tuple(s) for s in unique]


def ramp(t):
    return 0.0 if t <= 0 else 1.0 if t >= 1 else 0.5 - 0.5 * math.cos(math.pi * t)


def fade(p, width):
    if width <= 0:
        return 1.0
    dead = DEAD_FRACTION * width
    return ramp((p + 0.5 - dead) / (width - 2.0 * dead))


def blend_weights(spans, length):
    raw, total = [], [0.0] * length
    for i, (start, size) in enumerate(spans):
        left = spans[i - 1][0] + spans[i - 1][1] - start if i > 0 else 0
        right = start + size - spans[i + 1][0] if i + 1 < len(spans) else 0
        w = [max(1e-9, fade(p, left) * fade(size - 1 - p, right)) for p in range(size)]
        for p in range(size):
            total[start + p] += w[p]
        raw.append(w)
    return [torch.tensor([w[p] / total[start + p] for p in range(size)], dtype=torch.float32)
            for (start, size), w in zip(spans, raw)]


def rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def rss_peak_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class Server:
    def __init__(self, args):
        self.model = mt.load_model(args.weights)
        self.fmt = torch.contiguous_format if args.nchw else torch.channels_last
        self.device = torch.device(args.device)
        if self.device.type == "cuda":
            self.fmt = torch.contiguous_format  # as the C++ Enhancer on CUDA
        self.dtype = DTYPES[args.precision]
        self.model = self.model.to(self.device, self.dtype, memory_format=self.fmt)
        # Training: bf16 autocast whenever inference is not fp32, as the C++ side and lowlight-train (which never
        # trains in fp16: it would need loss scaling).
        self.autocast = args.precision != "fp32"
        self.image = self.output = None

    def set_image(self, path, width, height, tile, overlap, multiple):
        with open(path, "rb") as f:
            data = bytearray(f.read())
        if len(data) != width * height * 3 * 4:
            raise ValueError(f"{path}: expected {width * height * 12} bytes, found {len(data)}")
        hwc = torch.frombuffer(data, dtype=torch.float32).reshape(height, width, 3)
        self.image = hwc.permute(2, 0, 1).unsqueeze(0)  # 1 x 3 x H x W view, channels-last strides
        ov = min(overlap, tile - 1)
        self.ys, self.xs = layout(height, tile, ov, multiple), layout(width, tile, ov, multiple)
        self.wy, self.wx = blend_weights(self.ys, height), blend_weights(self.xs, width)
        return {}

    def enhance(self):
        rss_reset()
        start = time.perf_counter()
        with torch.inference_mode():
            _, _, H, W = self.image.shape
            acc = torch.zeros(1, 3, H, W).contiguous(memory_format=torch.channels_last)
            for (y0, h), wy in zip(self.ys, self.wy):
                for (x0, w), wx in zip(self.xs, self.wx):
                    tile = self.image[:, :, y0:y0 + h, x0:x0 + w].to(self.device, self.dtype)
                    out = self.model(tile.contiguous(memory_format=self.fmt)).float().cpu()
                    acc[:, :, y0:y0 + h, x0:x0 + w] += out * (wy[:, None] * wx[None, :])
            self.output = acc.clamp_(0, 1)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "rss_peak_mib": rss_peak_mib()}

    def save(self, path):
        hwc = self.output[0].permute(1, 2, 0).contiguous()
        with open(path, "wb") as f:
            f.write(hwc.numpy().tobytes() if hasattr(hwc, "numpy") else bytes(hwc.untyped_storage()))
        return {}

    def setup_train(self, batch, crop):
        torch.manual_seed(1)
        self.train_model = mt.load_model(self.args_weights).train().to(self.device, memory_format=self.fmt)
        self.opt = torch.optim.Adam(self.train_model.parameters(), lr=1e-4, eps=1e-7)  # as lowlight-train (Keras epsilon)
        self.low = torch.rand(batch, 3, crop, crop).to(self.device).contiguous(memory_format=self.fmt)
        self.high = (self.low * 2).clamp(0, 1).contiguous(memory_format=self.fmt)
        return {}

    def step(self):
        start = time.perf_counter()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.train_model(self.low)
        d = out.float() - self.high
        loss = torch.sqrt(d * d + 1e-6).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        loss = loss.item()  # waits for the device
        return {"seconds": time.perf_counter() - start, "loss": loss}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--nchw", action="store_true")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32", choices=sorted(DTYPES))
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    server = Server(args)
    server.args_weights = args.weights
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "layout": "nchw" if args.nchw else "channels-last"})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            cmd = words[0]
            if cmd == "quit":
                break
            if cmd == "image":
                reply(server.set_image(words[1], *map(int, words[2:7])))
            elif cmd == "enhance":
                reply(server.enhance())
            elif cmd == "save":
                reply(server.save(words[1]))
            elif cmd == "train":
                reply(server.setup_train(int(words[1]), int(words[2])))
            elif cmd == "step":
                reply(server.step())
            else:
                reply({"error": f"unknown command {cmd}"})
        except Exception as e:  # reported to the C++ side, which stops with the message
            reply({"error": f"{type(e).__name__}: {e}"})


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
