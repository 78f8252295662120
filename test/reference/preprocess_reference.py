"""Reference pixels for satc's image decoding and resizing (test/encoders/preprocess.test.ts).

Run with Debian's python3 (Pillow 9.4, numpy, torchvision 0.14):
    /usr/bin/python3 test/reference/preprocess_reference.py
It writes small test images in the formats satc must read (grayscale PNG, RGBA PNG, CMYK JPEG,
16-bit RGB PNG, 16-bit grayscale PNG, EXIF-rotated JPEG, plain RGB JPEG) into
test/fixtures/encoders/preprocess/, then records for each:
  decoded  = ImageOps.exif_transpose(Image.open(f)).convert("RGB")          (uint8 HxWx3)
  tv       = torchvision CenterCrop(28)(Resize(32)(decoded))               (bilinear, antialiased)
  bicubic  = decoded.resize((40, 30), Image.BICUBIC)
  up       = decoded.resize((70, 53), Image.BILINEAR)                     (upsampling)
as base64 of the raw bytes, in expected.json.
"""
import base64, json, os, struct, zlib
import numpy as np
from PIL import Image, ImageOps
import torchvision.transforms as T

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "encoders", "preprocess")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)

def smooth(h, w, c):
    """A smooth random image (so resampling differences show as small errors, not noise)."""
    y, x = np.mgrid[0:h, 0:w]
    chans = []
    for k in range(c):
        a, b, p = rng.uniform(0.05, 0.3, 3)
        v = 127.5 + 90 * np.sin(a * x + p * 7) * np.cos(b * y) + rng.normal(0, 12, (h, w))
        chans.append(v)
    return np.clip(np.stack(chans, -1), 0, 255)

def png16(path, arr16):
    """Write a 16-bit RGB or gray PNG by hand (PIL cannot save 16-bit RGB)."""
    h, w = arr16.shape[:2]
    c = 1 if arr16.ndim == 2 else arr16.shape[2]
    color = 0 if c == 1 else 2
    raw = b"".join(b"\x00" + arr16[y].astype(">u2").tobytes() for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

files = {}
Image.fromarray(smooth(45, 60, 1)[..., 0].astype(np.uint8), "L").save(f"{OUT}/gray.png"); files["gray.png"] = None
rgba = np.concatenate([smooth(50, 41, 3), rng.uniform(0, 255, (50, 41, 1))], -1).astype(np.uint8)
Image.fromarray(rgba, "RGBA").save(f"{OUT}/rgba.png"); files["rgba.png"] = None
cmyk = smooth(40, 56, 4).astype(np.uint8)
Image.fromarray(cmyk, "CMYK").save(f"{OUT}/cmyk.jpg", quality=95); files["cmyk.jpg"] = None
png16(f"{OUT}/rgb16.png", (smooth(36, 48, 3) * 257).astype(np.uint16)); files["rgb16.png"] = None
png16(f"{OUT}/gray16.png", (smooth(36, 48, 1)[..., 0] * 257).astype(np.uint16)); files["gray16.png"] = "PIL clips 16-bit gray to 255 when converting to RGB; satc keeps the high byte"
exif_img = Image.fromarray(smooth(30, 64, 3).astype(np.uint8), "RGB")
exif = Image.Exif(); exif[0x0112] = 6  # orientation: rotate 90 CW to display
exif_img.save(f"{OUT}/exif6.jpg", quality=95, exif=exif.tobytes()); files["exif6.jpg"] = None
Image.fromarray(smooth(47, 63, 3).astype(np.uint8), "RGB").save(f"{OUT}/rgb.jpg", quality=90); files["rgb.jpg"] = None

def b64(img):
    a = np.asarray(img, dtype=np.uint8)
    return {"width": img.size[0], "height": img.size[1], "data": base64.b64encode(a.tobytes()).decode()}

tv = T.Compose([T.Resize(32), T.CenterCrop(28)])
expected = {}
for name, note in files.items():
    im = Image.open(f"{OUT}/{name}")
    mode = im.mode
    dec = ImageOps.exif_transpose(im).convert("RGB")
    expected[name] = {
        "mode": mode,
        "note": note,
        "decoded": b64(dec),
        "tv": b64(tv(dec)),
        "bicubic": b64(dec.resize((40, 30), Image.BICUBIC)),
        "up": b64(dec.resize((70, 53), Image.BILINEAR)),
    }
    if mode in ("I", "I;16"):  # what satc does instead of PIL's clipping: keep the high byte
        high = (np.asarray(im, dtype=np.int64) >> 8).astype(np.uint8)
        expected[name]["highByte"] = b64(Image.fromarray(high, "L").convert("RGB"))
json.dump(expected, open(f"{OUT}/expected.json", "w"), indent=1)
print({k: v["mode"] for k, v in expected.items()})
