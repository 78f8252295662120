/** satc's version, from its package.json (one read for the CLI, run records and feature manifests). */
import { createRequire } from "node:module";

export const satcVersion: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
