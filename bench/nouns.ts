/**
 * Noun-bank benchmark, onnxruntime-node side: prompts/s of a full-size CLIP ViT-B/32 text tower
 * (random weights) on the same token batches as PyTorch, and the projected time of the whole bank.
 *
 *   /usr/bin/python3 bench/nouns_model.py            # model, batches, PyTorch numbers (/tmp/satc-bench-nouns)
 *   npx tsc -p tsconfig.json && node dist/bench/nouns.js [/tmp/satc-bench-nouns]
 *
 * The session is created with the options ClipEncoder gives transformers.js (all cores = 2 here,
 * one inter-op thread, full graph optimisation). Tokenisation is not included on either side (see
 * nouns_model.py for the token-length model); transformers.js' CLIP tokenizer does ~24k prompts/s
 * here, negligible next to the tower.
 */
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { readNpy } from "../src/features/npy.js";

const dir = process.argv[2] ?? "/tmp/satc-bench-nouns";
const threads = Number(process.env.THREADS ?? 2);
const torchDoc = JSON.parse(await readFile(join(dir, "torch.json"), "utf8")) as {
  batches: number; promptsPerSecondLongest: number; promptsPerSecondPad77: number; bankPrompts: number;
  bankPaddedTokens: number; benchPaddedTokens: number; meanTokens: number; paddedLengths: number[]; loadavg: number[];
};
const session = await ort.InferenceSession.create(join(dir, "model", "onnx", "text_model.onnx"), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
});
const batches = [];
for (let b = 0; b < torchDoc.batches; b++) {
  const ids = await readNpy(join(dir, `batch${b}_ids.npy`));
  const mask = await readNpy(join(dir, `batch${b}_mask.npy`));
  batches.push({
    input_ids: new ort.Tensor("int64", ids.data as BigInt64Array, ids.shape),
    attention_mask: new ort.Tensor("int64", mask.data as BigInt64Array, mask.shape),
  });
}
const load0 = loadavg();
await session.run(batches[0]); // warm-up
const t0 = performance.now();
let prompts = 0;
for (const feeds of batches) {
  const out = await session.run(feeds);
  prompts += out.text_embeds.dims[0];
}
const seconds = (performance.now() - t0) / 1000;
const rate = prompts / seconds;
const tokenRate = torchDoc.benchPaddedTokens / seconds;
const hours = (s: number) => `${(s / 3600).toFixed(2)} h`;
const projected = torchDoc.bankPaddedTokens / tokenRate;
const torchTokenRate = torchDoc.benchPaddedTokens / (prompts / torchDoc.promptsPerSecondLongest);
const result = {
  engine: `onnxruntime-node ${ort.env.versions?.common ?? ""}`.trim(),
  threads,
  batches: batches.length,
  prompts,
  paddedLengths: torchDoc.paddedLengths,
  onnxPromptsPerSecond: +rate.toFixed(1),
  torchPromptsPerSecond: +torchDoc.promptsPerSecondLongest.toFixed(1),
  torchPad77PromptsPerSecond: +torchDoc.promptsPerSecondPad77.toFixed(1),
  speedupOverTorch: +(rate / torchDoc.promptsPerSecondLongest).toFixed(2),
  bankPrompts: torchDoc.bankPrompts,
  meanTokensPerPrompt: +torchDoc.meanTokens.toFixed(2),
  projectedBank: { onnx: hours(projected), torch: hours(torchDoc.bankPaddedTokens / torchTokenRate), torchPad77: hours(torchDoc.bankPrompts / torchDoc.promptsPerSecondPad77) },
  loadavg: { onnx: [...load0.map((v) => +v.toFixed(2))], torch: torchDoc.loadavg.map((v) => +v.toFixed(2)) },
};
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
