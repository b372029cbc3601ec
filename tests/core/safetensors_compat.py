#!/usr/bin/python3
"""Independent safetensors reader applying the reference crate's rules, loading into torch.

The `safetensors` Python package is not installable here, so this stands in for it: it follows
huggingface/safetensors (safetensors/src/tensor.rs: SafeTensors::read_metadata, Metadata::validate,
serde types of TensorInfo) so that a file it accepts is one the official package accepts.

usage: safetensors_compat.py FILE [--expect-arange] [--rewrite OUT]
       safetensors_compat.py --each FILE...   (one "FILE: ok ..." or "FILE: error: ..." line each)
  --expect-arange  every tensor must equal (arange(numel) * 0.5 - 3).reshape(shape) in its dtype
  --rewrite OUT    write the loaded tensors back the way the reference writer lays them out
Exit 0 and "ok ..." on success; exit 1 and "error: <ReferenceErrorName>: detail" on rejection.
"""
import json
import struct
import sys

import torch

MAX_HEADER_SIZE = 100_000_000  # reference MAX_HEADER_SIZE
USIZE_MAX = 2**64 - 1
# Reference Dtype enum, in declaration order (the writer sorts by it, descending), with item sizes.
DTYPES = [("BOOL", 1), ("U8", 1), ("I8", 1), ("F8_E5M2", 1), ("F8_E4M3", 1), ("I16", 2), ("U16", 2),
          ("F16", 2), ("BF16", 2), ("I32", 4), ("U32", 4), ("F32", 4), ("F64", 8), ("I64", 8), ("U64", 8)]
DTYPE_SIZE = dict(DTYPES)
DTYPE_RANK = {name: i for i, (name, _) in enumerate(DTYPES)}
TORCH_DTYPES = {"BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16,
                "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32, "F32": torch.float32,
                "F64": torch.float64, "I64": torch.int64}


class Rejected(Exception):
    pass


def reject(rule, detail):
    raise Rejected(f"{rule}: {detail}")


def is_usize(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= USIZE_MAX


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        reject("InvalidHeaderDeserialization", "duplicate key")
    return dict(pairs)


def no_constants(name):
    reject("InvalidHeaderDeserialization", f"{name} is not JSON")


def parse_header(buffer):
    if len(buffer) < 8:
        reject("HeaderTooSmall", f"{len(buffer)} bytes")
    (n,) = struct.unpack("<Q", buffer[:8])
    if n > MAX_HEADER_SIZE:
        reject("HeaderTooLarge", str(n))
    if n + 8 > len(buffer):
        reject("InvalidHeaderLength", f"{n} + 8 > {len(buffer)}")
    try:
        text = buffer[8:8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        reject("InvalidHeader", str(e))
    if not text.startswith("{"):
        reject("InvalidHeaderStart", repr(text[:8]))
    try:
        header = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except (ValueError, RecursionError) as e:
        reject("InvalidHeaderDeserialization", str(e))
    return n, header


def check_types(header):
    """What serde's derive(Deserialize) enforces for HashMetadata / TensorInfo."""
    if not isinstance(header, dict):
        reject("InvalidHeaderDeserialization", "not an object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            reject("InvalidHeaderDeserialization", "__metadata__ must map strings to strings")
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            reject("InvalidHeaderDeserialization", f"{name}: incomplete entry")
        if info["dtype"] not in DTYPE_SIZE:
            reject("InvalidHeaderDeserialization", f"{name}: unknown dtype {info['dtype']!r}")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list) or not all(is_usize(d) for d in shape):
            reject("InvalidHeaderDeserialization", f"{name}: bad shape")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(is_usize(o) for o in offsets):
            reject("InvalidHeaderDeserialization", f"{name}: bad data_offsets")
    return metadata or {}, header


def validate(tensors, n, file_size):
    """Metadata::validate: sorted by offsets, contiguous from 0, sizes match, covering the buffer."""
    ordered = sorted(tensors.items(), key=lambda item: tuple(item[1]["data_offsets"]))
    start = 0
    for name, info in ordered:
        s, e = info["data_offsets"]
        if s != start or e < s:
            reject("InvalidOffset", name)
        start = e
        count = 1
        for d in info["shape"]:
            count *= d
            if count > USIZE_MAX:
                reject("ValidationOverflow", name)
        nbytes = count * DTYPE_SIZE[info["dtype"]]
        if nbytes > USIZE_MAX:
            reject("ValidationOverflow", name)
        if e - s != nbytes:
            reject("TensorInvalidInfo", name)
    if start + 8 + n != file_size:
        reject("MetadataIncompleteBuffer", f"{start} + 8 + {n} != {file_size}")
    return ordered


def load(buffer, n, ordered):
    data = buffer[8 + n:]
    out = {}
    for name, info in ordered:
        if info["dtype"] not in TORCH_DTYPES:
            reject("Unsupported", f"{name}: {info['dtype']} has no torch dtype here")
        s, e = info["data_offsets"]
        dtype = TORCH_DTYPES[info["dtype"]]
        if e == s:
            tensor = torch.empty(info["shape"], dtype=dtype)
        else:
            tensor = torch.frombuffer(bytearray(data[s:e]), dtype=dtype).reshape(info["shape"])
        out[name] = (info["dtype"], tensor)
    return out


def serialize(tensors, metadata):
    """Reference prepare(): sort by dtype descending then name, __metadata__ first, space padding."""
    items = sorted(tensors.items(), key=lambda item: (-DTYPE_RANK[item[1][0]], item[0]))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name, (dtype, tensor) in items:
        blob = tensor.contiguous().numpy().tobytes() if tensor.numel() else b""
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def check_arange(tensors):
    for name, (_, tensor) in tensors.items():
        expected = (torch.arange(tensor.numel(), dtype=torch.float64) * 0.5 - 3).reshape(tensor.shape)
        if not torch.equal(tensor, expected.to(tensor.dtype)):
            raise SystemExit(f"error: values of {name} differ from the expected arange")


def read(path):
    with open(path, "rb") as f:
        buffer = f.read()
    n, header = parse_header(buffer)
    metadata, entries = check_types(header)
    return metadata, load(buffer, n, validate(entries, n, len(buffer)))


def main(argv):
    if argv and argv[0] == "--each":
        for path in argv[1:]:
            try:
                metadata, tensors = read(path)
                print(f"{path}: ok {len(tensors)} tensors, {len(metadata)} metadata keys")
            except Rejected as e:
                print(f"{path}: error: {e}")
        return 0
    if not argv or argv[0].startswith("-"):
        raise SystemExit(__doc__)
    try:
        metadata, tensors = read(argv[0])
    except Rejected as e:
        print(f"error: {e}")
        return 1
    if "--expect-arange" in argv:
        check_arange(tensors)
    if "--rewrite" in argv:
        with open(argv[argv.index("--rewrite") + 1], "wb") as f:
            f.write(serialize(tensors, metadata))
    print(f"ok {len(tensors)} tensors, {len(metadata)} metadata keys")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
