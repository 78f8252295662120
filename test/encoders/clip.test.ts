/**
 * CLIP through transformers.js on a tiny model in the real Xenova/clip-vit-base-patch32 layout
 * (test/encoders/tinyModels.ts), offline. Expected values are computed here in plain JS from the
 * same weights: image_embeds = channel means of the normalised pixels x W; text_embeds = sum of the
 * token embeddings of the unpadded tokens. Tolerance 1e-4 (float32 sums in a different order).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RawImage } from "../../src/input/dataset.js";
import { ClipEncoder, clipPreprocessSpec, CLIP_MAX_TOKENS } from "../../src/encoders/clip.js";
import { preprocessPixels, toTensor } from "../../src/encoders/preprocess.js";
import { SatcError } from "../../src/errors.js";
import { bytesToUnicode, writeTinyClip, type TinyClip } from "./tinyModels.js";

const ID = "Xenova/clip-vit-base-patch32";

function image(w: number, h: number, seed: number, channels: 1 | 3 | 4 = 3): RawImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i) % 13)) % 256;
  return { data, width: w, height: h, channels };
}

function expectedImageEmbeds(tiny: TinyClip, images: RawImage[]): number[][] {
  const spec = clipPreprocessSpec({ size: { shortest_edge: tiny.shortestEdge }, crop_size: { height: tiny.cropSize, width: tiny.cropSize }, resample: 3 });
  return images.map((im) => {
    const t = toTensor([preprocessPixels(im, spec)], spec.mean, spec.std);
    const plane = tiny.cropSize * tiny.cropSize;
    const means = [0, 1, 2].map((c) => t.subarray(c * plane, (c + 1) * plane).reduce((a, b) => a + b, 0) / plane);
    return Array.from({ length: tiny.projection }, (_, j) => means.reduce((s, m, c) => s + m * tiny.visionW[c * tiny.projection + j], 0));
  });
}

/** Token ids of a lower-case word made only of merged pieces or single letters, as CLIP's BPE gives them. */
function expectedIds(tiny: TinyClip, words: string[]): number[] {
  const sym = bytesToUnicode();
  const ids = [tiny.bos];
  for (const w of words) {
    const known = tiny.vocab.get(`${w}</w>`);
    if (known !== undefined) ids.push(known);
    else {
      const chars = [...w].map((ch) => sym[ch.charCodeAt(0)]);
      chars.forEach((c, i) => ids.push(tiny.vocab.get(i === chars.length - 1 ? `${c}</w>` : c)!));
    }
  }
  ids.push(tiny.eos);
  return ids;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test("CLIP from a model folder: image_embeds (B, P) and text_embeds (B, P) equal the JS reference", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-clip-"));
  const tiny = await writeTinyClip(join(root, ID));
  const clip = await ClipEncoder.load({ modelDir: root, threads: 1 });
  try {
    assert.equal(clip.resolved.source, "model-dir");
    const images = [image(40, 50, 1), image(33, 32, 2, 1), image(64, 48, 3, 4)];
    const embeds = await clip.encodeImages(images);
    assert.deepEqual([embeds.rows, embeds.cols], [3, tiny.projection]);
    const want = expectedImageEmbeds(tiny, images);
    want.forEach((row, i) => close(embeds.data.subarray(i * tiny.projection, (i + 1) * tiny.projection), row, 1e-4, `image ${i}`));

    const texts = ["A photo of  a CAT.", "dog"];
    const tok = clip.tokenize(texts);
    const ids0 = expectedIds(tiny, ["a", "photo", "of", "a", "cat"]);
    // "." is its own pre-token: byte symbol with the word-end suffix.
    ids0.splice(ids0.length - 1, 0, tiny.vocab.get(".</w>")!);
    assert.deepEqual(tok.inputIds[0], ids0);
    assert.deepEqual(tok.inputIds[1].slice(0, 3), expectedIds(tiny, ["dog"]));
    assert.deepEqual(tok.attentionMask[1], [1, 1, 1, ...new Array(ids0.length - 3).fill(0)]);

    const textEmbeds = await clip.encodeTexts(texts);
    assert.deepEqual([textEmbeds.rows, textEmbeds.cols], [2, tiny.projection]);
    [ids0, expectedIds(tiny, ["dog"])].forEach((ids, r) => {
      const want = Array.from({ length: tiny.projection }, (_, j) => ids.reduce((s, id) => s + tiny.textE[id * tiny.projection + j], 0));
      close(textEmbeds.data.subarray(r * tiny.projection, (r + 1) * tiny.projection), want, 1e-4, `text ${r}`);
    });

    const records = await clip.records();
    assert.deepEqual(records.map((r) => r.file), ["onnx/vision_model.onnx", "onnx/text_model.onnx"]);
    assert.ok(records.every((r) => r.id === ID && /^[0-9a-f]{64}$/.test(r.sha256)));
  } finally {
    await clip.dispose();
    await rm(root, { recursive: true });
  }
});

test("CLIP tokenisation truncates at 77 tokens and keeps <|endoftext|> last", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-clip-"));
  const tiny = await writeTinyClip(join(root, ID));
  const clip = await ClipEncoder.load({ modelDir: root, threads: 1, parts: ["text"] });
  try {
    const long = Array.from({ length: 120 }, () => "cat").join(" ");
    const tok = clip.tokenize([long, "dog"]);
    assert.equal(tok.inputIds[0].length, CLIP_MAX_TOKENS);
    assert.equal(tok.inputIds[0][0], tiny.bos);
    assert.equal(tok.inputIds[0][CLIP_MAX_TOKENS - 1], tiny.eos);
    assert.ok(tok.inputIds[0].slice(1, CLIP_MAX_TOKENS - 1).every((id) => id === tiny.vocab.get("cat</w>")));
    const e = await clip.encodeTexts([long]);
    assert.equal(e.rows, 1);
    await assert.rejects(clip.encodeImages([image(40, 40, 1)]), /without its vision tower/);
  } finally {
    await clip.dispose();
    await rm(root, { recursive: true });
  }
});

test("CLIP dtype picks the variant file; a missing variant offline names the exact file to add", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-clip-"));
  await writeTinyClip(join(root, ID), { suffix: "_quantized" });
  const clip = await ClipEncoder.load({ modelDir: root, threads: 1, dtype: "q8", parts: ["vision"] });
  assert.deepEqual((await clip.records()).map((r) => r.file), ["onnx/vision_model_quantized.onnx"]);
  const e = await clip.encodeImages([image(40, 40, 1)]);
  assert.equal(e.rows, 1);
  await clip.dispose();
  await assert.rejects(ClipEncoder.load({ modelDir: root, parts: ["vision"] }), (err: unknown) => {
    assert.ok(err instanceof SatcError);
    assert.ok(err.message.includes(join(root, ID, "onnx/vision_model.onnx")), err.message);
    return true;
  });
  await assert.rejects(ClipEncoder.load({ modelDir: root, dtype: "fp64" }), /fp32, fp16, q8/);
  await rm(root, { recursive: true });
});
