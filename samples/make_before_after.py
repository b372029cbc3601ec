"""Side-by-side sheet for the README: the bundled low-light sample and the default model's output.

    build/cli/lowlight enhance samples/coffee-lowlight.png /tmp/coffee-enhanced.png --model default
    /usr/bin/python3 samples/make_before_after.py samples/coffee-lowlight.png /tmp/coffee-enhanced.png \
        docs/images/coffee-before-after.jpg

Needs python3-pil (Debian); never used at run time.
"""
import sys

from PIL import Image


def main():
    before_path, after_path, out_path = sys.argv[1:4]
    before, after = Image.open(before_path).convert("RGB"), Image.open(after_path).convert("RGB")
    if before.size != after.size:
        sys.exit(f"sizes differ: {before.size} vs {after.size}")
    gap = 8
    sheet = Image.new("RGB", (2 * before.width + gap, before.height), "white")
    sheet.paste(before, (0, 0))
    sheet.paste(after, (before.width + gap, 0))
    sheet.save(out_path, quality=90)


if __name__ == "__main__":
    main()
