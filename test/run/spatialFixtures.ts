/**
 * Fixtures for runs with ResNet-50 spatial nodes: a tiny ResNet in writeTinyResnet's layout
 * (test/encoders/tinyModels.ts) whose ONNX graph patchifies 224 px with one 32x32 stride-32 Conv,
 * so the map is 7x7 like ResNet-50's (writeTinyResnet's own 56x56 grid would make 3,136 nodes per
 * image and a 3,136-wide position one-hot for the GAT), and a folder of two classes of images.
 */
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { buildModel } from "../../src/onnx/graph.js";
import { Random } from "../../src/util/random.js";
import { writeTinyResnet } from "../encoders/tinyModels.js";

export const RESNET = "Xenova/resnet-50";
export const CLIP = "Xenova/clip-vit-base-patch32";

/** writeTinyResnet's layout with a 7x7 map of `channels` channels: Conv 32x32 stride 32 -> Relu -> GAP -> Gemm. */
export async function writeTinyResnet7x7(dir: string, channels = 8): Promise<void> {
  await writeTinyResnet(dir);
  const rng = new Random(21);
  const w = Float32Array.from({ length: channels * 3 * 32 * 32 }, () => rng.normal() * 0.05);
  const model = buildModel({
    name: "main_graph",
    opset: 17,
    inputs: [{ name: "pixel_values", type: "float", shape: ["batch_size", "num_channels", "height", "width"] }],
    outputs: [{ name: "logits", type: "float", shape: ["batch_size", 3] }],
    initializers: [
      { name: "conv.weight", type: "float", dims: [channels, 3, 32, 32], data: w },
      { name: "fc.weight", type: "float", dims: [3, channels], data: Float32Array.from({ length: 3 * channels }, () => rng.normal()) },
      { name: "fc.bias", type: "float", dims: [3], data: new Float32Array(3) },
    ],
    nodes: [
      { op: "Conv", inputs: ["pixel_values", "conv.weight"], outputs: ["c"], attributes: { kernel_shape: [32, 32], strides: [32, 32] } },
      { op: "Relu", inputs: ["c"], outputs: ["/resnet/encoder/stages.3/relu"] },
      { op: "GlobalAveragePool", inputs: ["/resnet/encoder/stages.3/relu"], outputs: ["pool"] },
      { op: "Flatten", inputs: ["pool"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "Gemm", inputs: ["flat", "fc.weight", "fc.bias"], outputs: ["logits"], attributes: { transB: 1 } },
    ],
  });
  await writeFile(join(dir, "onnx/model.onnx"), model);
}

/** Two classes of 28 images (the heads mine 50 neighbours: n > 50): reddish stripes and bluish checks. */
export async function photos(dir: string): Promise<string> {
  for (const [cls, rgb] of [["red", [220, 40, 30]], ["blue", [30, 60, 210]]] as const) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 28; i++) {
      const w = 40 + (i % 7) * 4, h = 36;
      const data = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) {
        const x = p % w, y = Math.floor(p / w);
        const pattern = cls === "red" ? ((x >> 2) & 1) * 60 : (((x >> 3) + (y >> 3)) & 1) * 60;
        for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, rgb[c] + pattern - 30 + ((p * 7 + i * 13 + c * 5) % 17)));
      }
      await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, cls, `p${i}.png`));
    }
  }
  return dir;
}
