/**
 * Thumbnails for the report, made with sharp: one small image per shown member of a cluster, and
 * one atlas (a grid of equal square tiles in a single image) for the points of the map, so that
 * thousands of hover images cost one file and one decode.
 */
import sharp from "sharp";
import type { RawImage } from "../input/dataset.js";

export type ThumbnailFormat = "webp" | "png";

/** MIME type of a thumbnail format. */
export function mimeType(format: ThumbnailFormat): string {
  return format === "webp" ? "image/webp" : "image/png";
}

function fromRaw(image: RawImage): ReturnType<typeof sharp> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

/**
 * Encode `image` fitted inside size x size (never enlarged: a 28 px image stays 28 px; the page
 * scales it up with crisp pixels).
 */
export async function makeThumbnail(image: RawImage, size: number, format: ThumbnailFormat): Promise<Buffer> {
  const s = fromRaw(image).resize(size, size, { fit: "inside", withoutEnlargement: true });
  return format === "webp" ? s.webp({ quality: 80, effort: 2 }).toBuffer() : s.png({ compressionLevel: 9, palette: false }).toBuffer();
}

/** Side of the square tile for images of this size: their longer edge, at most `size`. */
export function tileSide(image: RawImage, size: number): number {
  return Math.max(1, Math.min(size, Math.max(image.width, image.height)));
}

/**
 * RGB pixels (tile, tile, 3) of `image` fitted inside the tile on a white background.
 * Grayscale and alpha are flattened to RGB.
 */
export async function tilePixels(image: RawImage, tile: number): Promise<Uint8Array> {
  const { data, info } = await fromRaw(image)
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .resize(tile, tile, { fit: "contain", background: { r: 255, g: 255, b: 255, alpha: 1 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = tile * tile;
  const out = new Uint8Array(n * 3);
  const c = info.channels;
  for (let p = 0; p < n; p++) {
    if (c >= 3) {
      out[p * 3] = data[p * c];
      out[p * 3 + 1] = data[p * c + 1];
      out[p * 3 + 2] = data[p * c + 2];
    } else {
      out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = data[p * c];
    }
  }
  return out;
}

/** Where tile i sits in an atlas of `columns` tiles per row. */
export interface Atlas {
  bytes: Buffer;
  tile: number;
  columns: number;
  rows: number;
}

/**
 * One image holding `tiles.length` tiles of tile x tile RGB pixels, row-major in a grid of
 * `columns` = ceil(sqrt(count)) columns. Missing tiles (null) stay white.
 */
export async function makeAtlas(tiles: (Uint8Array | null)[], tile: number, format: ThumbnailFormat): Promise<Atlas> {
  const count = Math.max(1, tiles.length);
  const columns = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const width = columns * tile;
  const height = rows * tile;
  const pixels = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach((t, i) => {
    if (t === null) return;
    const x0 = (i % columns) * tile;
    const y0 = Math.floor(i / columns) * tile;
    for (let y = 0; y < tile; y++) {
      pixels.set(t.subarray(y * tile * 3, (y + 1) * tile * 3), ((y0 + y) * width + x0) * 3);
    }
  });
  const s = sharp(pixels, { raw: { width, height, channels: 3 } });
  const bytes = format === "webp" ? await s.webp({ quality: 80, effort: 2 }).toBuffer() : await s.png({ compressionLevel: 9 }).toBuffer();
  return { bytes, tile, columns, rows };
}

/** Run `task` over 0..count-1 with at most `limit` in flight; results in order. */
export async function mapLimit<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}
