// Parameter readers for storage-server JSON requests. They follow the storage server's own typing
// rules (what counts as an integer, a timestamp, a namespace...) and its error texts, so a client
// that sends a malformed field gets the same 400 text from the devnet as from mainnet.

/** A malformed request: answered as 400 `invalid request: <message>`. */
export class ParseError extends Error {
  override readonly name = "ParseError";
}

/** JSON params object of a request. */
export type Params = Record<string, unknown>;

/** Namespace bounds (int16). */
export const NAMESPACE_MIN = -32768;
export const NAMESPACE_MAX = 32767;

const bad = (name: string, desc: string): ParseError =>
  new ParseError(`Invalid value given for '${name}': expected ${desc}`);

function present(p: Params, name: string): unknown {
  const v = p[name];
  return v === null ? undefined : v;
}

/** Optional string field. */
export function optString(p: Params, name: string): string | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw bad(name, "string");
  return v;
}

/** Optional boolean field. */
export function optBool(p: Params, name: string): boolean | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw bad(name, "boolean");
  return v;
}

/** Optional integer field (JSON number without a fraction). */
export function optInt(p: Params, name: string): number | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw bad(name, "integer");
  return v;
}

function isTimestampValue(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function checkMs(name: string, v: number): number {
  // Less than a million seconds after the epoch: almost surely seconds, not milliseconds.
  if (v < 1_000_000_000) throw new ParseError(`Invalid timestamp for '${name}': timestamp must be in milliseconds`);
  return v;
}

/** Optional millisecond timestamp (non-negative integer, at least 1e9). */
export function optTimestamp(p: Params, name: string): number | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (!isTimestampValue(v)) throw bad(name, "integer timestamp (in milliseconds)");
  return checkMs(name, v);
}

/** Optional timestamp or array of timestamps. */
export function optTimestampArray(p: Params, name: string): number[] | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (isTimestampValue(v)) return [v];
  if (!Array.isArray(v) || !v.every(isTimestampValue)) throw bad(name, "timestamp array");
  return v;
}

/** Optional string or array of strings. */
export function optStringArray(p: Params, name: string): string[] | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw bad(name, "string array");
  return v;
}

/** Optional 16-bit namespace. */
export function optNamespace(p: Params, name: string): number | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw bad(name, "16-bit integer");
  if (v < NAMESPACE_MIN || v > NAMESPACE_MAX)
    throw new ParseError(`Invalid value given for '${name}': value out of range`);
  return v;
}

/** Optional namespace or the string "all". */
export function optNamespaceOrAll(p: Params, name: string): number | "all" | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isSafeInteger(v)) {
    if (v < NAMESPACE_MIN || v > NAMESPACE_MAX)
      throw new ParseError(`Invalid value given for '${name}': value out of range`);
    return v;
  }
  if (v === "all") return "all";
  throw new ParseError(`Invalid value given for '${name}': expected integer or "all"`);
}

/**
 * Integer given either as a JSON integer or as a stringified integer (backwards compatibility
 * for `timestamp` and `ttl` of `store`).
 */
export function optStringified(p: Params, name: string, unsigned: boolean): number | undefined {
  const v = present(p, name);
  if (typeof v === "string") {
    const re = unsigned ? /^\d+$/ : /^-?\d+$/;
    const n = Number(v);
    if (!re.test(v) || !Number.isSafeInteger(n)) throw new ParseError(`Invalid value given for '${name}': ${JSON.stringify(v)}`);
    return n;
  }
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || (unsigned && v < 0))
    throw bad(name, unsigned ? "positive integer" : "integer");
  return v;
}

/** Throws "Required field 'x' missing" when `v` is undefined. */
export function required<T>(name: string, v: T | undefined): T {
  if (v === undefined) throw new ParseError(`Required field '${name}' missing`);
  return v;
}

/** `pubkey` or its alias `pubKey`, exactly one of them. */
export function pubkeyWithAlias(p: Params): string {
  const a = optString(p, "pubkey");
  const b = optString(p, "pubKey");
  if (a !== undefined && b !== undefined) throw new ParseError("Cannot specify both 'pubkey' and 'pubKey'");
  return required("pubkey", a ?? b);
}

/** A standard or URL-safe base64 string (padding optional). */
export function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(s) && s.replace(/=+$/, "").length % 4 !== 1;
}

/** Decodes standard or URL-safe base64. */
export function fromBase64(s: string): Buffer {
  return Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** A message hash: 43 base64 characters. */
export function isMessageHash(s: string): boolean {
  return s.length === 43 && isBase64(s);
}
