/**
 * `@session-bot/fuzz`: the budget, mutators and checks shared by the fuzz suites in `test/`.
 * See README.md for what is fuzzed and how to run longer.
 */
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { setWatchdogSeed, watch } from "./watchdog.js";

export { STALL_MS, startWatchdog, stopWatchdog, watch } from "./watchdog.js";
export { recordingLogger } from "./recording-logger.js";

/** `SB_FUZZ_RUNS` multiplies every property's `numRuns` (default 1; e.g. `SB_FUZZ_RUNS=20`). */
export function runMultiplier(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SB_FUZZ_RUNS;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`SB_FUZZ_RUNS must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** The number of runs of a property whose CI budget is `base` runs. */
export function fuzzRuns(base: number, env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Math.round(base * runMultiplier(env)));
}

/**
 * fast-check parameters: `numRuns` from the budget and a seed — `SB_FUZZ_SEED` to replay a
 * reported failure, else a fresh one, recorded so that the hang watchdog can print it.
 */
export function fuzzParams<T>(base: number, env: NodeJS.ProcessEnv = process.env): fc.Parameters<T> {
  const given = env.SB_FUZZ_SEED;
  const seed = given !== undefined && given !== "" ? Number(given) : (Date.now() ^ Math.floor(Math.random() * 0x7fff_ffff)) | 0;
  if (!Number.isInteger(seed)) throw new Error(`SB_FUZZ_SEED must be an integer, got ${JSON.stringify(given)}`);
  setWatchdogSeed(seed);
  return { numRuns: fuzzRuns(base, env), seed };
}

/** How a package's typed error is recognised: by shape and by `code`, never by `instanceof`. */
export interface TypedErrorSpec {
  /** The error class name (`SessionError`, `ChunkError`, `ProtocolError`). */
  readonly name: string;
  /** The codes allowed for this target. */
  readonly codes: readonly string[];
}

/** Why `err` is not an allowed typed error, or undefined when it is one. */
export function typedErrorProblem(err: unknown, spec: TypedErrorSpec): string | undefined {
  if (typeof err !== "object" || err === null) return `threw a non-object: ${String(err)}`;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  if (e.name !== spec.name) return `threw ${String(e.name)} (${String(e.message)}), not ${spec.name}`;
  if (typeof e.code !== "string" || !spec.codes.includes(e.code)) return `threw ${spec.name} with unexpected code ${String(e.code)}: ${String(e.message)}`;
  return undefined;
}

/** Outcome of one call under fuzzing. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/**
 * Calls `fn`; a return is fine, a throw must be a typed error of `spec`, anything else fails the
 * property with a message that names the error.
 */
export function expectTyped<T>(spec: TypedErrorSpec, fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    const problem = typedErrorProblem(err, spec);
    if (problem !== undefined) throw new Error(problem, { cause: err });
    return { ok: false, code: (err as { code: string }).code, message: (err as Error).message };
  }
}

/** {@link expectTyped} for async functions. */
export async function expectTypedAsync<T>(spec: TypedErrorSpec, fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const problem = typedErrorProblem(err, spec);
    if (problem !== undefined) throw new Error(problem, { cause: err });
    return { ok: false, code: (err as { code: string }).code, message: (err as Error).message };
  }
}

/** Rejects with a clear message when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bounds one synchronous call: a case that takes longer than `ms` (default 5 s, far above any sane
 * parse) fails the property as a hang; one that never returns is caught by the watchdog
 * (`watchdog.ts`), which kills the process after {@link STALL_MS} and prints the seed to replay.
 */
export function bounded<T>(what: string, fn: () => T, ms = 5_000): T {
  const start = performance.now();
  const out = watch(what, fn);
  const took = performance.now() - start;
  if (took > ms) throw new Error(`${what}: one case took ${Math.round(took)} ms (> ${ms} ms, treated as a hang)`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte mutations

/** One edit of a byte string; positions are taken modulo the length at the time of the edit. */
export type ByteEdit =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number }
  | { op: "truncate"; at: number }
  | { op: "duplicate"; at: number; length: number }
  | { op: "boundary"; at: number; width: 1 | 2 | 4 | 8; value: "zero" | "max" | "high" };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({
    op: fc.constant("boundary" as const),
    at: fc.nat(),
    width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    value: fc.constantFrom("zero" as const, "max" as const, "high" as const),
  }),
);

/** Applies edits in order; never mutates `input`. */
export function applyEdits(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  for (const e of edits) {
    const n = b.length;
    const at = n === 0 ? 0 : e.at % n;
    switch (e.op) {
      case "flip":
        if (n > 0) b[at] = b[at]! ^ (1 << e.bit);
        break;
      case "set":
        if (n > 0) b[at] = e.value;
        break;
      case "insert":
        b = concat(b.subarray(0, at), e.bytes, b.subarray(at));
        break;
      case "delete":
        b = concat(b.subarray(0, at), b.subarray(Math.min(n, at + e.length)));
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "duplicate":
        b = concat(b.subarray(0, at + Math.min(e.length, n - at)), b.subarray(at));
        break;
      case "boundary": {
        const fill = e.value === "zero" ? 0x00 : 0xff;
        for (let i = 0; i < e.width && at + i < n; i++) b[at + i] = e.value === "high" && i > 0 ? 0x00 : fill;
        if (e.value === "high" && n > 0) b[at] = 0x80;
        break;
      }
    }
  }
  return b;
}

/** Mutations of `valid`: 1..4 edits each. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(byteEdit, { minLength: 1, maxLength: 4 })).map(([v, edits]) => applyEdits(v, edits));
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON mutations

/** Values that tend to break validators and the code behind them. */
export const NASTY_JSON_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  -0,
  0.5,
  1e308,
  -1e308,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
  "",
  " ",
  "\u0000",
  "\ud800",
  "🙂".repeat(3),
  "a".repeat(70_000),
  "__proto__",
  [],
  {},
  [[[[[]]]]],
  { __proto__: null },
  { constructor: { prototype: {} } },
  // Nesting at and past the protocol's MAX_JSON_DEPTH (64; decodeX and encodeX refuse deeper), and
  // deep enough to reach recursive code while shallow enough for JSON.stringify.
  JSON.parse("[".repeat(63) + "]".repeat(63)) as unknown,
  JSON.parse("[".repeat(64) + "]".repeat(64)) as unknown,
  JSON.parse("[".repeat(500) + "]".repeat(500)) as unknown,
  JSON.parse('{"a":'.repeat(500) + "{}" + "}".repeat(500)) as unknown,
];

/** A fresh deep copy of a JSON value (shared constants must never be edited in place). */
function cloneJson(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** One of {@link NASTY_JSON_VALUES}, as a fresh copy. */
export const nastyJsonValue: fc.Arbitrary<unknown> = fc.constantFrom(...NASTY_JSON_VALUES).map(cloneJson);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(nastyJsonValue, fc.jsonValue({ maxDepth: 3 }));

/** One edit of a JSON tree at a path given as indices (resolved modulo the keys found). */
type JsonEdit =
  | { op: "replace"; path: number[]; value: unknown }
  | { op: "delete"; path: number[] }
  | { op: "add"; path: number[]; key: string; value: unknown }
  | { op: "wrap"; path: number[] };

const jsonKey = fc.oneof(fc.constantFrom("__proto__", "constructor", "v", "kind", "id", "op", "method", "params", ""), fc.string({ maxLength: 8 }));
const path = fc.array(fc.nat(), { maxLength: 5 });
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ op: fc.constant("replace" as const), path, value: nastyValue }),
  fc.record({ op: fc.constant("delete" as const), path }),
  fc.record({ op: fc.constant("add" as const), path, key: jsonKey, value: nastyValue }),
  fc.record({ op: fc.constant("wrap" as const), path }),
);

function childKeys(v: unknown): (string | number)[] {
  if (Array.isArray(v)) return v.map((_, i) => i);
  if (typeof v === "object" && v !== null) return Object.keys(v);
  return [];
}

function editAt(root: unknown, e: JsonEdit): unknown {
  // Walk down as far as the path goes; edit the child reached (or the root).
  let parent: unknown = undefined;
  let key: string | number | undefined;
  let node = root;
  for (const step of e.path) {
    const keys = childKeys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  const set = (value: unknown): unknown => {
    if (parent === undefined || key === undefined) return value;
    defineValue(parent as Record<string | number, unknown>, key, value);
    return root;
  };
  switch (e.op) {
    case "replace":
      return set(e.value);
    case "wrap":
      return set([node]);
    case "delete":
      if (parent === undefined || key === undefined) return undefined;
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, unknown>)[key];
      return root;
    case "add":
      if (typeof node === "object" && node !== null && !Array.isArray(node)) {
        defineValue(node as Record<string, unknown>, e.key, e.value);
        return root;
      }
      if (Array.isArray(node)) {
        node.push(e.value);
        return root;
      }
      return set({ [e.key]: e.value });
  }
}

/** Sets an own property even for `__proto__` (as `JSON.parse` would). */
function defineValue(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Mutations of a JSON value: 1..3 edits applied to a deep copy. */
export function mutatedJson(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.array(jsonEdit, { minLength: 1, maxLength: 3 })).map(([v, edits]) => {
    let out: unknown = cloneJson(v);
    for (const e of edits) out = editAt(out, e);
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Memory

let fullGc: (() => void) | undefined;

/** Heap in use now, after a full GC (exposed through V8's flag at first use). */
export function heapUsed(): number {
  if (fullGc === undefined) {
    v8.setFlagsFromString("--expose-gc");
    fullGc = vm.runInNewContext("gc") as () => void;
  }
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** Loose bound on heap growth across a whole suite (default 256 MiB); no timing involved. */
export const HEAP_GROWTH_LIMIT = 256 * 1024 * 1024;
