#!/usr/bin/python3
"""Contact sheet of the shipped model (docs/images/contact-sheet.jpg): for every fifth LoL `val` scene (in
name order, not picked by score) input | `default` | ground truth, each scene's PSNR under it; then the
bundled sample, input | `default`. Also rewrites docs/images/coffee-before-after.jpg.
Usage: docs/tools/contact_sheet.py path/to/lowlight [--threads N]
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
VAL = ROOT.parent / "shared/data/lol-v1/val"
CELL = (300, 200)
PAD = 6
LABEL = 16


def enhance(lowlight, src, dst, threads):
    subprocess.run([lowlight, "enhance", str(src), str(dst), "--model", "default", "--overwrite",
                    "--threads", str(threads)], check=True, stdout=subprocess.DEVNULL)
    return Image.open(dst).convert("RGB")


def psnr(a, b):
    a = np.asarray(a, dtype=np.float64) / 255.0
    b = np.asarray(b, dtype=np.float64) / 255.0
    return 10 * np.log10(1.0 / np.mean((a - b) ** 2))


def main():
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    lowlight = args[0]
    names = sorted(p.name for p in (VAL / "low").iterdir())[::5]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            low = Image.open(VAL / "low" / name).convert("RGB")
            high = Image.open(VAL / "high" / name).convert("RGB")
            out = enhance(lowlight, VAL / "low" / name, Path(tmp) / (name + ".png"), threads)
            rows.append(([low, out, high], f"val {name}: {psnr(out, high):.2f} dB"))
        sample = Image.open(ROOT / "samples/coffee-lowlight.png").convert("RGB")
        sample_out = enhance(lowlight, ROOT / "samples/coffee-lowlight.png", Path(tmp) / "coffee.png", threads)
    rows.append(([sample, sample_out], "bundled sample (no ground truth)"))
    width = 3 * CELL[0] + 4 * PAD
    sheet = Image.new("RGB", (width, LABEL + len(rows) * (CELL[1] + LABEL + PAD) + PAD), "white")
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(["input", "default", "ground truth"]):
        draw.text((PAD + col * (CELL[0] + PAD), 2), title, fill="black")
    y = LABEL
    for images, caption in rows:
        for col, img in enumerate(images):
            sheet.paste(img.resize(CELL, Image.LANCZOS), (PAD + col * (CELL[0] + PAD), y))
        draw.text((PAD, y + CELL[1] + 2), caption, fill="black")
        print(caption)
        y += CELL[1] + LABEL + PAD
    sheet.save(ROOT / "docs/images/contact-sheet.jpg", quality=88)
    pair = Image.new("RGB", (2 * sample.width + 8, sample.height), "white")
    pair.paste(sample, (0, 0))
    pair.paste(sample_out, (sample.width + 8, 0))
    pair.save(ROOT / "docs/images/coffee-before-after.jpg", quality=90)
    print("wrote docs/images/contact-sheet.jpg and docs/images/coffee-before-after.jpg")


if __name__ == "__main__":
    main()
