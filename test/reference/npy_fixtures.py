"""Writes small .npy files in every variant satc's reader supports, plus the values numpy reads back.

Run from the repository root with Debian's Python (it has numpy):
    /usr/bin/python3 test/reference/npy_fixtures.py
Output: test/fixtures/npy/*.npy and test/fixtures/npy/expected.json
  expected.json = { file: { "dtype": numpy dtype str, "shape": [...], "values": flat C-order list } }
Files named error-*.npy are not readable by satc on purpose (listed under "errors" with the reason).
numpy version used is recorded in expected.json.
"""
import json
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join("test", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)

expected = {"numpy": np.__version__, "files": {}, "errors": {}}


def save(name, arr, version=None, fortran=False):
    path = os.path.join(OUT, name)
    arr = np.asfortranarray(arr) if fortran else np.ascontiguousarray(arr)
    with open(path, "wb") as f:
        npformat.write_array(f, arr, version=version)
    back = np.load(path)
    return path, back


def record(name, arr, version=None):
    _, back = save(name, arr, version)
    values = back.ravel(order="C").tolist()
    expected["files"][name] = {
        "dtype": back.dtype.str,
        "shape": list(back.shape),
        "values": [v if np.isfinite(v) else repr(v) for v in values],
    }


base = (np.arange(12, dtype=np.float64).reshape(3, 4) * 0.37 - 1.5)

# floats, both byte orders, all three header versions
record("f4-le-v1.npy", base.astype("<f4"))
record("f4-be-v1.npy", base.astype(">f4"))
record("f8-le-v1.npy", base.astype("<f8"))
record("f8-be-v1.npy", base.astype(">f8"))
record("f4-le-v2.npy", base.astype("<f4"), version=(2, 0))
record("f4-le-v3.npy", base.astype("<f4"), version=(3, 0))
record("f8-be-v2.npy", base.astype(">f8"), version=(2, 0))
# shapes: 1-D, 3-D, empty rows, scalar
record("f4-1d.npy", np.array([0.5, -2.25, 3.0, 1e-3], dtype="<f4"))
record("f4-3d.npy", np.arange(24, dtype="<f4").reshape(2, 3, 4) / 7)
record("f4-empty.npy", np.zeros((0, 5), dtype="<f4"))
record("f8-scalar.npy", np.array(2.5, dtype="<f8"))
# integer label files
labels = np.array([3, 0, 2, 2, 1, 9], dtype=np.int64)
record("i4-le.npy", labels.astype("<i4"))
record("i4-be.npy", labels.astype(">i4"))
record("i8-le.npy", labels.astype("<i8"))
record("i8-be.npy", labels.astype(">i8"))
record("u1.npy", labels.astype("u1"))
# non-finite values survive the round trip (expected.json stores them as 'nan' / 'inf' / '-inf')
record("f8-nonfinite.npy", np.array([[1.0, np.nan], [np.inf, -np.inf]], dtype="<f8"))

# the exact bytes np.save writes for float32 and int32 (satc's writer must produce the same)
np.save(os.path.join(OUT, "save-f4.npy"), base.astype("<f4"))
np.save(os.path.join(OUT, "save-i4.npy"), labels.astype("<i4"))
np.save(os.path.join(OUT, "save-f4-3d.npy"), np.arange(24, dtype="<f4").reshape(2, 3, 4) / 7)
expected["saved"] = ["save-f4.npy", "save-i4.npy", "save-f4-3d.npy"]

# not readable by satc
save("error-fortran.npy", base.astype("<f4"), fortran=True)
expected["errors"]["error-fortran.npy"] = "fortran_order"
save("error-complex.npy", np.array([1 + 2j], dtype="<c8"))
expected["errors"]["error-complex.npy"] = "dtype"
save("error-i2.npy", np.array([1, 2], dtype="<i2"))
expected["errors"]["error-i2.npy"] = "dtype"

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print("wrote", len(expected["files"]) + len(expected["saved"]) + len(expected["errors"]), "files to", OUT)
