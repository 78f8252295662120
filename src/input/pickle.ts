/**
 * A small Python pickle reader for the CIFAR "python version" batches: a dict of byte strings,
 * lists of ints and one numpy uint8 array, pickled with protocol 2 by Python 2 (byte strings as
 * BINSTRING) or by Python 3 (bytes as `_codecs.encode(str, "latin1")`). It runs no code: globals
 * become plain descriptors, and numpy arrays (`numpy.core.multiarray._reconstruct` + BUILD) become
 * `{ ndarray: true, dtype, shape, data }`.
 */
import { SatcError } from "../errors.js";

export interface PickledArray {
  ndarray: true;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

interface Global {
  global: string;
}
interface Reduced {
  reduce: string;
  args: unknown[];
  state?: unknown;
}

const MARK = Symbol("mark");

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function finish(obj: unknown): unknown {
  if (obj && typeof obj === "object" && "reduce" in obj) {
    const r = obj as Reduced;
    if (r.reduce === "_codecs.encode" && typeof r.args[0] === "string") return latin1(r.args[0]);
    if (/^numpy\.(_)?core\.multiarray\._reconstruct$/.test(r.reduce) && Array.isArray(r.state)) {
      const [, shape, dtype, , raw] = r.state as [number, number[], Reduced, boolean, unknown];
      const dt = String(dtype?.args?.[0] ?? "");
      const bytes = raw instanceof Uint8Array ? raw : typeof raw === "string" ? latin1(raw) : null;
      if (bytes === null) throw new SatcError("pickle: numpy array without raw data");
      return { ndarray: true, dtype: dt, shape: shape.map(Number), data: bytes } satisfies PickledArray;
    }
  }
  return obj;
}

/** Parse pickle bytes into plain values: dict -> Map, list/tuple -> array, str -> string, bytes -> Uint8Array. */
export function readPickle(bytes: Uint8Array, nameForErrors = "pickle"): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const popMark = (): unknown[] => {
    const items = stack;
    stack = marks.pop() ?? [];
    return items;
  };
  const str = (n: number) => {
    const s = bytes.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  const line = () => {
    const end = bytes.indexOf(10, pos);
    const s = dec.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const bin = (s: Uint8Array) => Array.from(s, (c) => String.fromCharCode(c)).join("");
  // Dict keys that are bytes (b"data") become strings, so lookups work by value.
  const key = (k: unknown) => (k instanceof Uint8Array ? bin(k) : k);
  while (pos < bytes.length) {
    const op = bytes[pos++];
    switch (op) {
      case 0x80: pos++; break; // PROTO
      case 0x95: pos += 8; break; // FRAME
      case 0x2e: return stack.pop(); // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(bytes[pos++]); break; // BININT1
      case 0x4d: stack.push(view.getUint16(pos, true)); pos += 2; break; // BININT2
      case 0x4a: stack.push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = bytes[pos++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i]);
        if (n > 0 && bytes[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT
      case 0x55: stack.push(bin(str(bytes[pos++]))); break; // SHORT_BINSTRING (py2 str)
      case 0x54: { const n = view.getInt32(pos, true); pos += 4; stack.push(bin(str(n))); break; } // BINSTRING
      case 0x43: stack.push(str(bytes[pos++]).slice()); break; // SHORT_BINBYTES
      case 0x42: { const n = view.getUint32(pos, true); pos += 4; stack.push(str(n).slice()); break; } // BINBYTES
      case 0x8c: stack.push(dec.decode(str(bytes[pos++]))); break; // SHORT_BINUNICODE
      case 0x58: { const n = view.getUint32(pos, true); pos += 4; stack.push(dec.decode(str(n))); break; } // BINUNICODE
      case 0x71: memo.set(bytes[pos++], stack.at(-1)); break; // BINPUT
      case 0x72: memo.set(view.getUint32(pos, true), stack.at(-1)); pos += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack.at(-1)); break; // MEMOIZE
      case 0x68: stack.push(memo.get(bytes[pos++])); break; // BINGET
      case 0x6a: stack.push(memo.get(view.getUint32(pos, true))); pos += 4; break; // LONG_BINGET
      case 0x61: { const v = stack.pop(); (stack.at(-1) as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack.at(-1) as unknown[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); (stack.at(-1) as Map<unknown, unknown>).set(key(k), v); break; } // SETITEM
      case 0x75: { const items = popMark(); const d = stack.at(-1) as Map<unknown, unknown>; for (let i = 0; i < items.length; i += 2) d.set(key(items[i]), items[i + 1]); break; } // SETITEMS
      case 0x74: { const items = popMark(); stack.push(items); break; } // TUPLE (popMark swaps the stack first)
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x63: { const mod = line(); const name = line(); stack.push({ global: `${mod}.${name}` } satisfies Global); break; } // GLOBAL
      case 0x93: { const name = stack.pop() as string; const mod = stack.pop() as string; stack.push({ global: `${mod}.${name}` } satisfies Global); break; } // STACK_GLOBAL
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const args = stack.pop() as unknown[];
        const fn = stack.pop() as Global;
        stack.push(finish({ reduce: fn.global, args } satisfies Reduced));
        break;
      }
      case 0x62: { // BUILD
        const state = stack.pop();
        const obj = stack.pop() as Reduced;
        obj.state = state;
        stack.push(finish(obj));
        break;
      }
      default:
        throw new SatcError(`${nameForErrors}: unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`, { file: nameForErrors });
    }
  }
  throw new SatcError(`${nameForErrors}: pickle ended without STOP`, { file: nameForErrors });
}
