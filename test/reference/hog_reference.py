"""Reference values for the pixels encoder's "gradients" patch cells (test/encoders/pixels.test.ts),
in float64 numpy, written independently of satc's loop (whole-array operations instead of a loop
over pixels).

Run:  /usr/bin/python3 test/reference/hog_reference.py
Writes test/fixtures/encoders/hog/cases.json: for each case the 8-bit image (size*size*channels,
interleaved), its options and the expected (grid*grid, bins) descriptor.

Recipe (satc's gradientHistograms): values /255; central differences inside the image, 0 on the
border (rows grow downwards, as skimage.feature.hog); with colour the channel of largest magnitude
per pixel; unsigned orientation in [0, pi); bin i centred on (i + 0.5) pi / bins, votes split
linearly between the two nearest centres (circularly); sum per cell; square root; one L2
normalisation over the whole image.
"""
import gzip
import json
import os

import numpy as np


def hog_cells(pixels, size, channels, grid, bins):
    im = pixels.reshape(size, size, channels).astype(np.float64) / 255
    gx = np.zeros_like(im)
    gy = np.zeros_like(im)
    gx[:, 1:-1, :] = im[:, 2:, :] - im[:, :-2, :]
    gy[1:-1, :, :] = im[2:, :, :] - im[:-2, :, :]
    mag2 = gx ** 2 + gy ** 2
    pick = np.argmax(mag2, axis=2)  # first channel on ties, as satc keeps the earlier one
    rows, cols = np.indices((size, size))
    gx, gy = gx[rows, cols, pick], gy[rows, cols, pick]
    mag = np.hypot(gx, gy)
    theta = np.mod(np.arctan2(gy, gx), np.pi)
    u = theta / np.pi * bins - 0.5
    lower = np.floor(u)
    w = u - lower
    b0 = np.mod(lower, bins).astype(int)
    b1 = np.mod(lower + 1, bins).astype(int)
    cell = size // grid
    index = (rows // cell) * grid + cols // cell
    out = np.zeros((grid * grid, bins))
    np.add.at(out, (index.ravel(), b0.ravel()), (mag * (1 - w)).ravel())
    np.add.at(out, (index.ravel(), b1.ravel()), (mag * w).ravel())
    out = np.sqrt(out)
    norm = np.linalg.norm(out)
    return out / norm if norm > 0 else out


rng = np.random.default_rng(20261204)
cases = []


def add(name, pixels, size, channels, grid, bins):
    pixels = np.asarray(pixels, dtype=np.uint8).ravel()
    cases.append({
        "name": name, "size": size, "color": "gray" if channels == 1 else "rgb", "grid": grid, "bins": bins,
        "pixels": pixels.tolist(), "expected": hog_cells(pixels, size, channels, grid, bins).ravel().tolist(),
    })


add("random gray 12x12, grid 3, 9 bins", rng.integers(0, 256, 144), 12, 1, 3, 9)
add("random gray 12x12, grid 2, 4 bins", rng.integers(0, 256, 144), 12, 1, 2, 4)
add("random rgb 8x8, grid 2, 9 bins", rng.integers(0, 256, 8 * 8 * 3), 8, 3, 2, 9)
yy, xx = np.indices((16, 16))
add("disc 16x16, grid 4, 8 bins", np.where((yy - 7.5) ** 2 + (xx - 7.5) ** 2 < 30, 230, 20), 16, 1, 4, 8)
add("flat 8x8, grid 2, 9 bins", np.full(64, 77), 8, 1, 2, 9)
images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
with gzip.open(images) as f:
    fashion = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
for i in range(3):
    add("fashion-mnist test image %d, grid 7, 9 bins" % i, fashion[i], 28, 1, 7, 9)

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "encoders", "hog", "cases.json")
with open(out, "w") as f:
    json.dump({"generator": "test/reference/hog_reference.py", "cases": cases}, f)
print("wrote %d cases to %s" % (len(cases), out))
