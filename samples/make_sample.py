#!/usr/bin/python3
"""Makes samples/coffee-lowlight.png, the project's bundled low-light sample.

Source: scikit-image's data/coffee.png ("No copyright restrictions. CC0 by the photographer (Rachel
Michetti)", courtesy of Pikolo Espresso Bar), from Debian's python3-skimage package. The photo is darkened
the way low-light captures look: exposure cut to 5 %, a slight gamma, and seeded shot/read noise.
Usage: make_sample.py SOURCE_PNG OUT_PNG
"""
import sys

import numpy as np
from PIL import Image

src, out = sys.argv[1], sys.argv[2]
rgb = np.asarray(Image.open(src).convert("RGB"), dtype=np.float64) / 255.0
linear = rgb ** 2.2
dark = linear * 0.05
rng = np.random.default_rng(2026)
photons = 800.0
noisy = rng.poisson(dark * photons) / photons + rng.normal(0.0, 0.002, dark.shape)
low = np.clip(noisy, 0, 1) ** (1 / 2.2)
Image.fromarray(np.round(low * 255).astype(np.uint8)).save(out, optimize=True)
