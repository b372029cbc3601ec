#!/usr/bin/python3
"""Contact sheet of tile borders (docs/images/tile-seams.jpg) and the PSNR of tiled against one-tile output.

Enlarges the bundled sample to 2000x1500, enhances it with `lowlight enhance` in one tile, with automatic tiles
and with 256-pixel tiles, prints each tiled result's PSNR against the one-tile result, and shows the regions
where 256-pixel tiles differ most (the worst places, not chosen ones): one tile | 256-pixel tiles | difference
x20. Usage: docs/tools/seam_sheet.py path/to/lowlight [out.jpg] [--threads N]
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
SIZE = (2000, 1500)
CROP = 200
GAIN = 20


def enhance(lowlight, src, dst, tile, threads):
    cmd = [lowlight, "enhance", str(src), str(dst), "--model", "default", "--precision", "fp32", "--overwrite",
           "--threads", str(threads)]
    if tile:
        cmd += ["--tile", str(tile)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return np.asarray(Image.open(dst).convert("RGB"), dtype=np.float64) / 255.0


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def worst_regions(diff, count):
    """Top-left corners of `count` non-overlapping CROP x CROP windows with the largest mean difference."""
    h, w = diff.shape
    step = CROP // 4
    scores = [(diff[y:y + CROP, x:x + CROP].mean(), y, x)
              for y in range(0, h - CROP + 1, step) for x in range(0, w - CROP + 1, step)]
    chosen = []
    for score, y, x in sorted(scores, reverse=True):
        if all(abs(y - cy) >= CROP or abs(x - cx) >= CROP for _, cy, cx in chosen):
            chosen.append((score, y, x))
        if len(chosen) == count:
            break
    return chosen


def main():
    args = [a for a in sys.argv[1:]]
    threads = 2
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i:i + 2]
    lowlight = args[0]
    out = Path(args[1]) if len(args) > 1 else ROOT / "docs/images/tile-seams.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "big.png"
        Image.open(ROOT / "samples/coffee-lowlight.png").convert("RGB").resize(SIZE, Image.BICUBIC).save(src)
        one = enhance(lowlight, src, tmp / "one.png", 2048, threads)
        auto = enhance(lowlight, src, tmp / "auto.png", 0, threads)
        small = enhance(lowlight, src, tmp / "t256.png", 256, threads)
    print(f"{SIZE[0]}x{SIZE[1]}, default, fp32: automatic tiles {psnr(auto, one):.2f} dB, "
          f"256-pixel tiles {psnr(small, one):.2f} dB against one tile (8-bit PNG outputs)")
    diff = np.abs(small - one).max(axis=2)
    regions = worst_regions(diff, 3)
    pad = 8
    sheet = Image.new("RGB", (3 * CROP + 4 * pad, len(regions) * (CROP + pad) + pad + 20), "white")
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(["one tile", "256-px tiles", f"difference x{GAIN}"]):
        draw.text((pad + col * (CROP + pad), 4), title, fill="black")
    for row, (_, y, x) in enumerate(regions):
        a = one[y:y + CROP, x:x + CROP]
        b = small[y:y + CROP, x:x + CROP]
        d = np.clip(np.abs(a - b) * GAIN, 0, 1)
        for col, img in enumerate([a, b, d]):
            tile = Image.fromarray((img * 255 + 0.5).astype(np.uint8))
            sheet.paste(tile, (pad + col * (CROP + pad), 20 + pad + row * (CROP + pad)))
        print(f"region at x={x}, y={y}: {psnr(b, a):.2f} dB, max difference {np.abs(a - b).max() * 255:.0f}/255")
    sheet.save(out, quality=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
