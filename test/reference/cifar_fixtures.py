"""Tiny CIFAR python-pickle batches for test/input/cifar.test.ts, written the way the real files are.

    /usr/bin/python3 test/reference/cifar_fixtures.py
writes test/fixtures/encoders/cifar/:
  cifar-10-batches-py/test_batch, batches.meta     (3 images; protocol 2, as pickle.dump of the real dict)
  cifar-100-python/test, meta                       (2 images; fine and coarse labels)
  expected.json: per file, labels and the first image's pixel at (row 1, col 2) as RGB.
Python 3's protocol 2 stores bytes through _codecs.encode (the real files, from Python 2, use
BINSTRING); both are read by src/input/pickle.ts.
"""
import json, os, pickle
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "encoders", "cifar")
rng = np.random.default_rng(3)
exp = {}

def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)

d10 = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
write(f"{OUT}/cifar-10-batches-py/test_batch", {b"batch_label": b"testing batch 1 of 1", b"labels": [3, 0, 9], b"data": d10, b"filenames": [b"a.png", b"b.png", b"c.png"]})
write(f"{OUT}/cifar-10-batches-py/batches.meta", {b"num_cases_per_batch": 3, b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"], b"num_vis": 3072})
img = d10[0].reshape(3, 32, 32).transpose(1, 2, 0)
exp["cifar10"] = {"labels": [3, 0, 9], "pixel_r1_c2": img[1, 2].tolist(), "n": 3}

d100 = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
write(f"{OUT}/cifar-100-python/test", {b"filenames": [b"x.png", b"y.png"], b"batch_label": b"testing batch 1 of 1", b"fine_labels": [49, 33], b"coarse_labels": [10, 10], b"data": d100})
write(f"{OUT}/cifar-100-python/meta", {b"fine_label_names": [f"fine{i}".encode() for i in range(100)], b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]})
img = d100[1].reshape(3, 32, 32).transpose(1, 2, 0)
exp["cifar100"] = {"fine": [49, 33], "coarse": [10, 10], "second_pixel_r1_c2": img[1, 2].tolist(), "n": 2}
json.dump(exp, open(f"{OUT}/expected.json", "w"), indent=1)
print(exp)
