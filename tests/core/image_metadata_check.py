#!/usr/bin/env python3
"""Pillow's side of tests/core/image_metadata_test.cpp, an EXIF and ICC reader and writer independent of ours.

  make DIR   writes oN.{png,jpg,webp,tif} for EXIF orientations N = 1..8 (Make, an EXIF directory with
             DateTimeOriginal, the ICC profile of icc.bin), and for each oN.FMT.rgb: the pixels as Pillow shows
             them, upright ("W H\\n", then RGB bytes).
  check DIR  reads every out_*.{png,jpg,webp,tif} that the C++ test wrote from those: Orientation 1 (or none),
             Make and DateTimeOriginal kept, the same ICC bytes, the upright size and, lossless, the pixels.
Run with /usr/bin/python3 (PIL). Prints "ok N" (files checked) or one line per problem, exit 1."""
import os
import sys

from PIL import Image, ImageOps

FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tif": "TIFF"}
MAKE = "LowlightCam"
TAKEN = "2024:01:02 03:04:05"


def fake_icc():
    """A profile header as libpng checks it (length, 'acsp', RGB, PCS XYZ, no tags), then filler bytes."""
    body = bytearray(128 + 4 + 60)
    body[0:4] = len(body).to_bytes(4, "big")
    body[8:12] = bytes([2, 0x10, 0, 0])
    body[12:16], body[16:20], body[20:24], body[36:40] = b"mntr", b"RGB ", b"XYZ ", b"acsp"
    body[68:80] = bytes.fromhex("0000f6d6000100000000d32d")  # the D50 illuminant
    for i in range(132, len(body)):
        body[i] = (i * 37) % 256
    return bytes(body)


def pattern():
    """48x32 in 8x8 blocks of distinct colours: every turn and flip gives other pixels, even through JPEG."""
    image = Image.new("RGB", (48, 32))
    image.putdata([((x // 8) * 40 + 20, (y // 8) * 60 + 15, ((x // 8) * 3 + (y // 8) * 5) % 8 * 30)
                   for y in range(32) for x in range(48)])
    return image


def exif(orientation):
    data = Image.Exif()
    data[271] = MAKE
    data[274] = orientation
    data[0x8769] = {36867: TAKEN}
    loaded = Image.Exif()  # Pillow's TIFF writer wants one read from bytes
    loaded.load(data.tobytes())
    return loaded


def upright(path):
    image = Image.open(path)
    if image.format == "TIFF":
        image.load()  # Pillow turns a TIFF as its Orientation says while loading it
        return image.convert("RGB")
    return ImageOps.exif_transpose(image).convert("RGB")


def make(folder):
    icc = fake_icc()
    with open(os.path.join(folder, "icc.bin"), "wb") as f:
        f.write(icc)
    for ext, fmt in FORMATS.items():
        for orientation in range(1, 9):
            path = os.path.join(folder, "o%d.%s" % (orientation, ext))
            options = {"lossless": True} if fmt == "WEBP" else {"quality": 95} if fmt == "JPEG" else {}
            pattern().save(path, fmt, exif=exif(orientation), icc_profile=icc, **options)
            shown = upright(path)
            with open(path + ".rgb", "wb") as f:
                f.write(b"%d %d\n" % shown.size + shown.tobytes())
    print("ok")


def check(folder):
    icc = fake_icc()
    problems, checked = [], 0
    for name in sorted(os.listdir(folder)):
        ext = name.rsplit(".", 1)[-1]
        if not name.startswith("out_") or ext not in FORMATS:
            continue
        checked += 1
        image = Image.open(os.path.join(folder, name))
        data = image.getexif()
        if data.get(274, 1) != 1:
            problems.append("%s: Orientation %s, not 1" % (name, data.get(274)))
        if data.get(271) != MAKE:
            problems.append("%s: Make %r, not %r" % (name, data.get(271), MAKE))
        if data.get_ifd(0x8769).get(36867) != TAKEN:
            problems.append("%s: DateTimeOriginal %r" % (name, data.get_ifd(0x8769).get(36867)))
        if image.info.get("icc_profile") != icc:
            problems.append("%s: ICC profile %r" % (name, (image.info.get("icc_profile") or b"")[:16]))
        # out_<source>.<ext>: the source's upright pixels, written by us with Orientation 1.
        source = os.path.join(folder, name[4:].rsplit(".", 1)[0])
        with open(source + ".rgb", "rb") as f:
            size_line, pixels = f.read().split(b"\n", 1)
        size = tuple(int(v) for v in size_line.split())
        shown = upright(os.path.join(folder, name))
        if shown.size != size:
            problems.append("%s: shown %s, expected %s" % (name, shown.size, size))
        elif ext != "jpg" and not source.endswith(".jpg") and shown.tobytes() != pixels:
            problems.append("%s: pixels differ from the upright source" % name)
    print("\n".join(problems) if problems else "ok %d" % checked)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    sys.exit(make(sys.argv[2]) if sys.argv[1] == "make" else check(sys.argv[2]))
