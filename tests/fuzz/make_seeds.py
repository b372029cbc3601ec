#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/*): tiny synthetic files in every layout the readers
take, and a few hostile ones. Run from anywhere with /usr/bin/python3 (PIL); the output is committed.
Safetensors seeds are the fixtures in tests/fixtures/safetensors plus the small weight-like files here."""
import io
import json
import os
import struct
import zlib

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def out(kind, name, data):
    with open(os.path.join(HERE, "corpus", kind, name), "wb") as f:
        f.write(data)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient(mode, size=(8, 6)):
    image = Image.new(mode, size)
    bands = len(image.getbands())
    pixels = []
    for y in range(size[1]):
        for x in range(size[0]):
            values = tuple((x * 31 + y * 17 + 40 * b) % 256 for b in range(bands))
            pixels.append(values if bands > 1 else values[0])
    image.putdata(pixels)
    return image


def images():
    out("image", "gray.png", encoded(gradient("L"), "PNG"))
    out("image", "gray-alpha.png", encoded(gradient("LA"), "PNG"))
    out("image", "rgb.png", encoded(gradient("RGB"), "PNG"))
    out("image", "rgba.png", encoded(gradient("RGBA"), "PNG"))
    out("image", "gray16.png", encoded(gradient("L").convert("I;16"), "PNG"))
    out("image", "palette.png", encoded(gradient("RGB").convert("P"), "PNG"))
    out("image", "baseline.jpg", encoded(gradient("RGB"), "JPEG", quality=90))
    out("image", "progressive.jpg", encoded(gradient("RGB"), "JPEG", progressive=True))
    out("image", "gray.jpg", encoded(gradient("L"), "JPEG"))
    out("image", "rgb.tif", encoded(gradient("RGB"), "TIFF"))
    out("image", "gray-alpha.tif", encoded(gradient("LA"), "TIFF"))
    out("image", "deflate.tif", encoded(gradient("RGBA"), "TIFF", compression="tiff_adobe_deflate"))
    pages = io.BytesIO()
    gradient("RGB").save(pages, "TIFF", save_all=True, append_images=[gradient("RGB")])
    out("image", "two-pages.tif", pages.getvalue())
    out("image", "lossless.webp", encoded(gradient("RGBA"), "WEBP", lossless=True))
    out("image", "lossy.webp", encoded(gradient("RGB"), "WEBP", quality=80))
    jpeg = encoded(gradient("RGB"), "JPEG")
    out("image", "truncated.jpg", jpeg[: len(jpeg) // 2])
    png = encoded(gradient("RGB"), "PNG")
    out("image", "truncated.png", png[: len(png) // 2])
    # A decompression bomb's header: 16000x16000 declared in a few bytes.
    ihdr = struct.pack(">IIBBBBB", 16000, 16000, 8, 2, 0, 0, 0)
    out("image", "bomb-header.png", b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0" * 4 +
        struct.pack(">I", 0) + b"IEND" + b"\xaeB`\x82")


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def metadata():
    # EXIF orientation 6 and an ICC profile in each format's place for them; hostile lengths.
    exif = Image.Exif()
    exif[271], exif[274] = "seed", 6
    icc = bytes(range(256)) * 2
    for ext, fmt, options in (("jpg", "JPEG", {}), ("png", "PNG", {}), ("webp", "WEBP", {"lossless": True}),
                              ("tif", "TIFF", {})):
        out("image", "exif-icc." + ext, encoded(gradient("RGB"), fmt, exif=exif, icc_profile=icc, **options))
    # An iCCP chunk that inflates to 32 MB.
    png = encoded(gradient("RGB"), "PNG")
    bomb = png_chunk(b"iCCP", b"bomb\0\0" + zlib.compress(b"\0" * (32 << 20), 9))
    out("image", "icc-bomb.png", png[:33] + bomb + png[33:])
    # EXIF claiming 65535 entries and an ICC part numbered 3 of 2.
    tiff = b"II*\0" + struct.pack("<IH", 8, 0xFFFF) + struct.pack("<HHIHH", 274, 3, 1, 6, 0)
    app1 = b"\xff\xe1" + struct.pack(">H", 8 + len(tiff)) + b"Exif\0\0" + tiff
    app2 = b"\xff\xe2" + struct.pack(">H", 16 + len(icc)) + b"ICC_PROFILE\0\x03\x02" + icc
    jpeg = encoded(gradient("RGB"), "JPEG")
    out("image", "exif-hostile.jpg", jpeg[:2] + app1 + app2 + jpeg[2:])


def safetensors_file(tensors, metadata=None):
    header, data = {}, b""
    for name, (shape, values) in tensors.items():
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def weights():
    config = {"channels": 4, "rrgs": 1, "mrbs": 1, "streams": 3}
    out("safetensors", "lowlight-header.safetensors",
        safetensors_file({"conv_in.weight": ([4, 3, 3, 3], [0.01] * 108)},
                         {"format": "lowlight-mirnet", "format_version": "1", "config": json.dumps(config)}))


def engine():
    # Geometry and settings bytes (see fuzz_engine.cpp), then pixels.
    out("engine", "rgb-u8", bytes([15, 11, 2, 0, 0, 0x00, 0x00]) + bytes(range(256)) * 2)
    out("engine", "rgba-u16-tiled", bytes([70, 50, 3, 1, 1, 0x15, 0x03]) + bytes(range(255, -1, -1)) * 4)
    out("engine", "gray-alpha-f32-exposure", bytes([9, 40, 1, 2, 2, 0x66, 0x05]) + b"\x00\x00\xc0\x7f" * 64)
    out("engine", "in-place-cancel", bytes([40, 40, 3, 0, 0, 0x81, 0x18]) + bytes(range(0, 256, 3)) * 8)


if __name__ == "__main__":
    images()
    metadata()
    weights()
    engine()
