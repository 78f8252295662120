import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { AddressInfo } from "node:net";
import { MODELS, filesFor, onnxFile, registeredModel, checkDtype } from "../../src/models/registry.js";
import { fileSha256, modelRecord, resolveModelFiles } from "../../src/models/resolve.js";
import { SatcError, UsageError } from "../../src/errors.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "satc-models-"));
}

async function put(root: string, rel: string, body: string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), body);
}

/** A stand-in for the hub: serves `<id>/resolve/<rev>/<file>` from a map; `cut` files stop half-way. */
async function hub(files: Map<string, string>, cut = new Set<string>()): Promise<{ server: Server; host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? "");
    requests.push(url);
    const body = files.get(url);
    if (body === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    if (cut.has(url)) {
      res.writeHead(200, { "content-length": String(body.length) });
      res.write(body.slice(0, 3));
      res.destroy();
      return;
    }
    res.writeHead(200, { "content-length": String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

test("registry: files for each part follow the transformers.js layout and dtype suffixes", () => {
  const clip = registeredModel("clip");
  assert.equal(clip.id, "Xenova/clip-vit-base-patch32");
  assert.match(clip.revision, /^[0-9a-f]{40}$/);
  assert.deepEqual(filesFor(clip, ["vision"]), ["config.json", "preprocessor_config.json", "onnx/vision_model.onnx"]);
  assert.deepEqual(filesFor(clip, ["vision", "text"], "q8"), [
    "config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "onnx/vision_model_quantized.onnx",
    "onnx/text_model_quantized.onnx",
  ]);
  assert.equal(onnxFile(MODELS.resnet50, "classifier", "fp16"), "onnx/model_fp16.onnx");
  assert.throws(() => registeredModel("vgg"), (e: unknown) => e instanceof UsageError && /'vgg'/.test(e.message) && /clip, resnet50/.test(e.message));
  assert.throws(() => checkDtype("fp64"), /fp32, fp16, q8/);
  assert.throws(() => onnxFile(clip, "classifier"), /vision, text/);
});

test("modelDir: nested <dir>/<id>/ and flat <dir>/ layouts; missing files are listed with where to put them", async () => {
  const root = await tempDir();
  const id = "Xenova/resnet-50";
  const files = filesFor(MODELS.resnet50, ["classifier"]);
  for (const f of files) await put(join(root, "nested", id), f, `content of ${f}`);
  const nested = await resolveModelFiles(id, "abc", files, { modelDir: join(root, "nested") });
  assert.equal(nested.dir, join(root, "nested", id));
  assert.equal(nested.source, "model-dir");

  for (const f of files) await put(join(root, "flat"), f, `content of ${f}`);
  const flat = await resolveModelFiles(id, "abc", files, { modelDir: join(root, "flat") });
  assert.equal(flat.dir, join(root, "flat"));

  await put(join(root, "partial", id), "config.json", "{}");
  await assert.rejects(resolveModelFiles(id, "abc", files, { modelDir: join(root, "partial") }), (e: unknown) => {
    assert.ok(e instanceof SatcError);
    assert.match(e.message, /2 file\(s\) missing/);
    assert.ok(e.message.includes(join(root, "partial", id, "preprocessor_config.json")), e.message);
    assert.ok(e.message.includes(join(root, "partial", id, "onnx/model.onnx")), e.message);
    assert.ok(e.message.includes(`https://huggingface.co/${id}/resolve/abc/onnx/model.onnx`), e.message);
    assert.ok(!e.message.includes(join(root, "partial", id, "config.json") + "\n"), "config.json is present and must not be listed");
    return true;
  });
  await rm(root, { recursive: true });
});

test("offline with an empty cache: the error names each file and its place in the cache; nothing is fetched", async () => {
  const root = await tempDir();
  const files = filesFor(MODELS.clip, ["vision"]);
  const server = await hub(new Map());
  await assert.rejects(
    resolveModelFiles("Xenova/clip-vit-base-patch32", "rev1", files, { cacheDir: root, offline: true, remoteHost: server.host }),
    (e: unknown) => e instanceof SatcError && e.message.includes(join(root, "models", "Xenova/clip-vit-base-patch32", "rev1", "onnx/vision_model.onnx")) && /offline/.test(e.message),
  );
  assert.equal(server.requests.length, 0);
  server.server.close();
  await rm(root, { recursive: true });
});

test("download once into the cache, then reuse it; records carry id, revision and the file's sha256", async () => {
  const root = await tempDir();
  const id = "Xenova/resnet-50";
  const files = filesFor(MODELS.resnet50, ["classifier"]);
  const served = new Map(files.map((f) => [`/${id}/resolve/r2/${f}`, `bytes of ${f}`]));
  const server = await hub(served);
  const events: string[] = [];
  const first = await resolveModelFiles(id, "r2", files, { cacheDir: root, remoteHost: server.host, onProgress: (e) => events.push(e.file) });
  assert.equal(first.source, "download");
  assert.equal(first.dir, join(root, "models", id, "r2"));
  assert.equal(server.requests.length, 3);
  assert.ok(events.includes("onnx/model.onnx"));
  assert.equal(await readFile(join(first.dir, "onnx/model.onnx"), "utf8"), "bytes of onnx/model.onnx");

  const second = await resolveModelFiles(id, "r2", files, { cacheDir: root, remoteHost: server.host });
  assert.equal(second.source, "cache");
  assert.equal(server.requests.length, 3, "a cached model is not fetched again");

  const record = await modelRecord(second, "onnx/model.onnx");
  const expectedHash = createHash("sha256").update("bytes of onnx/model.onnx").digest("hex");
  assert.deepEqual(record, { id, revision: "r2", file: "onnx/model.onnx", sha256: expectedHash });
  assert.equal(await fileSha256(join(first.dir, "config.json")), createHash("sha256").update("bytes of config.json").digest("hex"));
  server.server.close();
  await rm(root, { recursive: true });
});

test("an interrupted download leaves no file in the cache and says how far it got", async () => {
  const root = await tempDir();
  const id = "Xenova/resnet-50";
  const url = `/${id}/resolve/r3/config.json`;
  const server = await hub(new Map([[url, "0123456789"]]), new Set([url]));
  await assert.rejects(resolveModelFiles(id, "r3", ["config.json"], { cacheDir: root, remoteHost: server.host }), (e: unknown) => e instanceof Error);
  const left = await readdir(join(root, "models", id, "r3")).catch(() => []);
  assert.deepEqual(left, []);
  server.server.close();

  const gone = await hub(new Map());
  await assert.rejects(resolveModelFiles(id, "r3", ["config.json"], { cacheDir: root, remoteHost: gone.host }), /HTTP 404/);
  gone.server.close();
  await rm(root, { recursive: true });
});
