#!/usr/bin/env python3
"""Paired per-image comparison of two `lowlight eval --json` results (same image set).

    lowlight eval --low V/low --high V/high --model default --precision fp32 --json > a.json
    lowlight eval --low V/low --high V/high --weights B.safetensors --precision fp32 --json > b.json
    /usr/bin/python3 docs/tools/paired_eval.py a.json b.json

Prints, per metric, the means of A and B, the mean per-image difference B - A with its standard error
(sample standard deviation of the differences / sqrt(n)) and on how many images B is better. Reporting only.
"""
import json
import math
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    ia = {i["name"]: i for i in a["images"]}
    ib = {i["name"]: i for i in b["images"]}
    names = sorted(set(ia) & set(ib))
    if len(names) < 2 or len(names) != len(ia) or len(names) != len(ib):
        sys.exit("paired_eval: the two results must score the same images (A %d, B %d, shared %d)"
                 % (len(ia), len(ib), len(names)))
    print("%d images; A = %s; B = %s" % (len(names), a.get("weights") or a.get("method"), b.get("weights") or b.get("method")))
    print("%-18s %9s %9s %12s %8s %9s %9s" % ("metric", "A", "B", "B - A", "SE", "B better", "B worst"))
    for metric in ("psnr", "ssim", "psnr_gt_mean"):
        d = [ib[n][metric] - ia[n][metric] for n in names]
        mean = sum(d) / len(d)
        se = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1) / len(d))
        ma = sum(ia[n][metric] for n in names) / len(names)
        mb = sum(ib[n][metric] for n in names) / len(names)
        print("%-18s %9.4f %9.4f %+12.4f %8.4f %6d/%d %9.4f" % (metric, ma, mb, mean, se, sum(x > 0 for x in d),
                                                               len(d), min(ib[n][metric] for n in names)))


if __name__ == "__main__":
    main()
