/**
 * `npm run bench -- <name> [args]`: run one benchmark (dist/bench/<name>.js) with its arguments.
 * Each benchmark compares satc with its reference (scikit-learn, faiss or PyTorch through Debian's
 * python3 packages) in one run and says so in its own header comment. Without a name: the list.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith(".js") && f !== "run.js")
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`${name ? `unknown benchmark '${name}'. ` : ""}Usage: npm run bench -- <name> [args]\nBenchmarks: ${names.join(", ")}\n`);
  process.exit(name ? 2 : 0);
}
const r = spawnSync(process.execPath, [join(here, `${name}.js`), ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
