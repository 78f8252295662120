/**
 * Image preprocessing for the pretrained encoders, written to give the same 8-bit pixels as the
 * Python pipelines the models were trained and evaluated with (PIL + torchvision for ResNet-50 in
 * TAC's code, PIL inside Hugging Face's CLIPImageProcessor for CLIP):
 *
 * - `resizeImage` is Pillow's resampling (Resample.c) in JavaScript: separable, antialiased
 *   (the kernel widens by the downscale factor), 22-bit fixed-point coefficients, horizontal pass
 *   then vertical pass with 8-bit rounding in between. Results match `PIL.Image.resize` to within
 *   one 8-bit level (see test/encoders/preprocess.test.ts and test/reference/preprocess_reference.py).
 * - sizes: shorter side to `size`, longer side `int(size * long / short)` (torchvision and HF alike).
 * - centre crop: torchvision rounds the offset (`int(round((h - crop) / 2))`, Python's
 *   round-half-even), HF's CLIP processor floors it; both are offered.
 *
 * Tensors are NCHW float32: (pixel / 255 - mean[c]) / std[c].
 */
import sharp, { type Metadata } from "sharp";
import type { RawImage } from "../input/dataset.js";
import { SatcError, UsageError, expected } from "../errors.js";

export type ResampleFilter = "bilinear" | "bicubic";

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** How one image becomes a (3, crop, crop) tensor. */
export interface PreprocessSpec {
  /** "shorter": shorter side to `size`, aspect kept; "square": both sides to `size`. */
  resize: "shorter" | "square";
  size: number;
  /** Centre crop side, or null for none (then every image must come out the same size). */
  crop: number | null;
  /** "round": torchvision's CenterCrop; "floor": Hugging Face's image processors. */
  cropRounding: "round" | "floor";
  filter: ResampleFilter;
  mean: readonly number[];
  std: readonly number[];
}

/**
 * ResNet-50 preprocessing variants:
 * - "shorter" (default): shorter side to 224, centre crop 224 (torchvision Resize(224)+CenterCrop(224)).
 * - "imagenet": shorter side to 256, centre crop 224 (TAC on ImageNet subsets).
 * - "squash": resize to 224x224 (TAC on CIFAR and STL-10, whose images are square).
 * All bilinear (torchvision's default) with ImageNet mean and std.
 */
export const RESNET_PREPROCESS = Object.freeze({
  shorter: { resize: "shorter", size: 224, crop: 224, cropRounding: "round", filter: "bilinear", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  imagenet: { resize: "shorter", size: 256, crop: 224, cropRounding: "round", filter: "bilinear", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  squash: { resize: "square", size: 224, crop: null, cropRounding: "round", filter: "bilinear", mean: IMAGENET_MEAN, std: IMAGENET_STD },
} satisfies Record<string, PreprocessSpec>);
export type ResnetPreprocess = keyof typeof RESNET_PREPROCESS;

export function resnetPreprocess(name: string): PreprocessSpec {
  if (!Object.hasOwn(RESNET_PREPROCESS, name)) throw new UsageError(expected(`one of ${Object.keys(RESNET_PREPROCESS).join(", ")}`, "preprocess", name));
  return RESNET_PREPROCESS[name as ResnetPreprocess];
}

/** Output size when the shorter side becomes `size`: [width, height]. */
export function shorterSideSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/** 8-bit RGB from 1, 3 or 4 channels: gray is repeated, alpha dropped (PIL's convert("RGB")). */
export function toRgb(image: RawImage): RawImage {
  if (image.channels === 3) return image;
  const n = image.width * image.height;
  const out = new Uint8Array(n * 3);
  const c = image.channels;
  for (let i = 0; i < n; i++) {
    if (c === 1) {
      const v = image.data[i];
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    } else {
      out[3 * i] = image.data[c * i];
      out[3 * i + 1] = image.data[c * i + 1];
      out[3 * i + 2] = image.data[c * i + 2];
    }
  }
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function bilinear(x: number): number {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
}

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const FILTERS = { bilinear: { fn: bilinear, support: 1 }, bicubic: { fn: bicubic, support: 2 } };

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output index, first input index and integer weights. */
function coefficients(inSize: number, outSize: number, filter: ResampleFilter): { bounds: Int32Array; weights: Float64Array; ksize: number } {
  const { fn, support: baseSupport } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      // C's (int)(0.5 + w * ONE) for w >= 0 and (int)(-0.5 + w * ONE) for w < 0: truncation toward zero.
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { bounds, weights, ksize };
}

function clip8(ss: number): number {
  const v = Math.floor(ss / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resize 8-bit interleaved pixels like Pillow's `Image.resize((width, height), filter)`.
 * (height, width, channels) -> (newHeight, newWidth, channels).
 */
export function resizeImage(image: RawImage, width: number, height: number, filter: ResampleFilter): RawImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SatcError(`cannot resize an image to ${width}x${height}`);
  }
  const c = image.channels;
  let src = image.data;
  let w = image.width;
  const h = image.height;
  if (width !== w) {
    const { bounds, weights, ksize } = coefficients(w, width, filter);
    const out = new Uint8Array(width * h * c);
    for (let y = 0; y < h; y++) {
      const rowIn = y * w * c;
      const rowOut = y * width * c;
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[2 * xx];
        const xmax = bounds[2 * xx + 1];
        const kOff = xx * ksize;
        for (let ch = 0; ch < c; ch++) {
          let ss = ONE / 2;
          for (let x = 0; x < xmax; x++) ss += src[rowIn + (x + xmin) * c + ch] * weights[kOff + x];
          out[rowOut + xx * c + ch] = clip8(ss);
        }
      }
    }
    src = out;
    w = width;
  }
  if (height !== h) {
    const { bounds, weights, ksize } = coefficients(h, height, filter);
    const out = new Uint8Array(w * height * c);
    const stride = w * c;
    for (let yy = 0; yy < height; yy++) {
      const ymin = bounds[2 * yy];
      const ymax = bounds[2 * yy + 1];
      const kOff = yy * ksize;
      for (let i = 0; i < stride; i++) {
        let ss = ONE / 2;
        for (let y = 0; y < ymax; y++) ss += src[(y + ymin) * stride + i] * weights[kOff + y];
        out[yy * stride + i] = clip8(ss);
      }
    }
    src = out;
  }
  return { data: src === image.data ? image.data : src, width, height, channels: c };
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Centre crop to size x size (the image must be at least that large). */
export function centerCrop(image: RawImage, size: number, rounding: "round" | "floor" = "round"): RawImage {
  if (image.width < size || image.height < size) throw new SatcError(`cannot centre-crop ${size}x${size} from a ${image.width}x${image.height} image`);
  const off = (d: number) => (rounding === "round" ? roundHalfEven(d / 2) : Math.floor(d / 2));
  const top = off(image.height - size);
  const left = off(image.width - size);
  const c = image.channels;
  const out = new Uint8Array(size * size * c);
  for (let y = 0; y < size; y++) {
    const from = ((y + top) * image.width + left) * c;
    out.set(image.data.subarray(from, from + size * c), y * size * c);
  }
  return { data: out, width: size, height: size, channels: c };
}

/** Decoded image -> 8-bit RGB at the model's input size, before normalisation. */
export function preprocessPixels(image: RawImage, spec: PreprocessSpec): RawImage {
  let img = toRgb(image);
  const [w, h] = spec.resize === "shorter" ? shorterSideSize(img.width, img.height, spec.size) : [spec.size, spec.size];
  img = resizeImage(img, w, h, spec.filter);
  if (spec.crop !== null) img = centerCrop(img, spec.crop, spec.cropRounding);
  return img;
}

/**
 * Write 8-bit RGB images of one size into an NCHW float32 tensor, (n, 3, height, width):
 * value = (pixel / 255 - mean[c]) / std[c].
 */
export function toTensor(images: RawImage[], mean: readonly number[], std: readonly number[], out?: Float32Array): Float32Array {
  if (images.length === 0) return out ?? new Float32Array(0);
  const { width, height } = images[0];
  const plane = width * height;
  const data = out ?? new Float32Array(images.length * 3 * plane);
  images.forEach((img, b) => {
    if (img.width !== width || img.height !== height || img.channels !== 3) {
      throw new SatcError(`image ${b} of the batch is ${img.width}x${img.height}x${img.channels}, expected ${width}x${height}x3`);
    }
    for (let ch = 0; ch < 3; ch++) {
      const scale = 1 / (255 * std[ch]);
      const shift = mean[ch] / std[ch];
      const o = (b * 3 + ch) * plane;
      for (let i = 0; i < plane; i++) data[o + i] = img.data[3 * i + ch] * scale - shift;
    }
  });
  return data;
}

/** Preprocess a batch into one NCHW tensor with its dims. */
export function preprocessBatch(images: RawImage[], spec: PreprocessSpec): { data: Float32Array; dims: [number, number, number, number] } {
  const ready = images.map((im) => preprocessPixels(im, spec));
  const h = ready[0]?.height ?? spec.crop ?? spec.size;
  const w = ready[0]?.width ?? spec.crop ?? spec.size;
  return { data: toTensor(ready, spec.mean, spec.std), dims: [images.length, 3, h, w] };
}

/**
 * Decode an image file's bytes to 8-bit RGB the way PIL's `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`
 * does: EXIF orientation applied, alpha dropped (not composited), gray repeated, 16-bit reduced to
 * its high byte, CMYK converted with PIL's plain formula (see cmykToRgb), not colour-managed.
 * One deliberate difference: PIL clips 16-bit grayscale to 255 when converting to RGB (almost every
 * pixel turns white); satc keeps the high byte, as PIL itself does for 16-bit RGB.
 * Checked bit-exact against Pillow 9.4 (test/reference/preprocess_reference.py).
 */
export async function decodeImage(bytes: Uint8Array, nameForErrors = "image"): Promise<RawImage> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (cause) {
    throw new SatcError(`cannot read ${nameForErrors}: ${(cause as Error).message}`, { file: nameForErrors, cause });
  }
  if (meta.space === "cmyk") {
    const { data, info } = await sharp(bytes).rotate().pipelineColourspace("cmyk").toColourspace("cmyk").raw().toBuffer({ resolveWithObject: true });
    return cmykToRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height);
  }
  const { data, info } = await sharp(bytes).rotate().toColourspace("srgb").removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new SatcError(`decoding ${nameForErrors} gave ${info.channels} channels, expected 3`, { file: nameForErrors });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

/** PIL's cmyk2rgb: nk = 255 - K; R = nk - C * nk / 255 (rounded as PIL's MULDIV255). */
export function cmykToRgb(cmyk: Uint8Array, width: number, height: number): RawImage {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const muldiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return (t + (t >> 8)) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[4 * i + 3];
    for (let ch = 0; ch < 3; ch++) {
      const v = nk - muldiv255(cmyk[4 * i + ch], nk);
      out[3 * i + ch] = v < 0 ? 0 : v;
    }
  }
  return { data: out, width, height, channels: 3 };
}
