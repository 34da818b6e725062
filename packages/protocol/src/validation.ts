/**
 * The package's one AJV instance and the codec factory every message module uses.
 *
 * Validators are compiled lazily, once per schema, on first use; nothing is compiled per message.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { ProtocolError, type ProtocolProblem } from "./errors.js";
import { MAX_BUS_MESSAGE_BYTES, MAX_JSON_DEPTH, PROTOCOL_VERSION } from "./limits.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * The single AJV instance of the workspace's protocol layer. Options:
 * `allErrors` (report every problem), `strict` (reject sloppy schemas at compile time),
 * `discriminator` (fast, precise errors for `kind` / `action` unions), no coercion, no defaults
 * (validation never mutates the value). Formats from ajv-formats are registered.
 *
 * Services may compile their own config schemas with it (`ajv.compile(schema)` once at start).
 */
export const ajv: Ajv = new Ajv({
  allErrors: true,
  strict: true,
  discriminator: true,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
});
addFormats(ajv);

/** Most problems kept on one {@link ProtocolError} (a hostile value could produce thousands). */
export const MAX_REPORTED_PROBLEMS = 50;

/** Typed validate/parse/encode/decode functions for one message schema. */
export interface Codec<S extends TSchema> {
  /** The message name, e.g. `"InboundEvent"`. */
  readonly name: string;
  /** The TypeBox (= JSON Schema) schema. */
  readonly schema: S;
  /** The problems of `value` against the schema (empty when valid). Never throws. */
  readonly check: (value: unknown) => readonly ProtocolProblem[];
  /** Type guard: true when `value` is a valid message. Never throws. */
  readonly is: (value: unknown) => value is Static<S>;
  /** Returns `value` typed, or throws {@link ProtocolError}. The value is not copied or changed. */
  readonly parse: (value: unknown) => Static<S>;
  /** UTF-8 JSON bytes (or string) → validated message; throws {@link ProtocolError}. */
  readonly decode: (bytes: Uint8Array | string) => Static<S>;
  /** Validates, then serialises to UTF-8 JSON bytes; throws {@link ProtocolError}. */
  readonly encode: (value: Static<S>) => Uint8Array;
}

/** A codec of any message (for lists of codecs: `encode` then accepts nothing without a cast). */
export type AnyCodec = Omit<Codec<TSchema>, "encode"> & { readonly encode: (value: never) => Uint8Array };

/** Options of {@link defineCodec}. */
export interface CodecOptions {
  /** For a discriminated union: the tag property and the values it may take. */
  readonly tag?: { readonly property: string; readonly values: readonly string[] };
  /** Whether the message carries `v` (a top-level message). Default true. */
  readonly versioned?: boolean;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

function toProblem(error: ErrorObject): ProtocolProblem {
  const message = error.message ?? "is invalid";
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    if (missing !== undefined) {
      return { instancePath: `${error.instancePath}/${escapePointerToken(missing)}`, message: "is required", keyword: "required" };
    }
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    if (extra !== undefined) {
      return { instancePath: `${error.instancePath}/${escapePointerToken(extra)}`, message: "is not allowed", keyword: error.keyword };
    }
  }
  if (error.keyword === "discriminator") {
    const tag = (error.params as { tag?: string }).tag;
    if (tag !== undefined) {
      return { instancePath: `${error.instancePath}/${escapePointerToken(tag)}`, message, keyword: error.keyword };
    }
  }
  return { instancePath: error.instancePath, message, keyword: error.keyword };
}

/**
 * The problems of the last failed call of an AJV validate function, as {@link ProtocolProblem}s
 * (pointers to missing properties, duplicates removed, at most {@link MAX_REPORTED_PROBLEMS}).
 */
export function problemsOf(validate: ValidateFunction): ProtocolProblem[] {
  const problems = (validate.errors ?? []).map(toProblem);
  // The discriminator repeats what `type`/`required`/`enum` already said about the tag.
  const deduped = problems.filter((p) => p.keyword !== "discriminator" || !problems.some((q) => q !== p && q.instancePath === p.instancePath));
  return deduped.slice(0, MAX_REPORTED_PROBLEMS);
}

function summarize(name: string, problems: readonly ProtocolProblem[]): string {
  const shown = problems.slice(0, 3).map((p) => `${p.instancePath === "" ? "(root)" : p.instancePath} ${p.message}`);
  const more = problems.length > 3 ? ` (+${problems.length - 3} more)` : "";
  return `invalid ${name}: ${shown.join("; ")}${more}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const textEncoder = new TextEncoder();

/** At most this many `{` and `[` characters in a text means it cannot nest deeper than that. */
function fewOpenings(text: string, max: number): boolean {
  let n = 0;
  // indexOf is native and fast; a normal message has a handful of brackets, so this is the common path.
  for (let i = text.indexOf("{"); i !== -1; i = text.indexOf("{", i + 1)) if (++n > max) return false;
  for (let i = text.indexOf("["); i !== -1; i = text.indexOf("[", i + 1)) if (++n > max) return false;
  return true;
}

/**
 * True when the JSON `text` nests objects and arrays more than `max` levels deep. Brackets inside
 * strings do not count (escaped quotes are handled). Only meaningful for valid JSON: on malformed
 * text it may answer either way, and JSON.parse reports the malformation.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (fewOpenings(text, max)) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Jump to the closing quote: the next `"` not preceded by an odd number of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return false; // unterminated string: not JSON
        let b = i - 1;
        while (text.charCodeAt(b) === 0x5c /* \ */) b--;
        if ((i - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/**
 * Serialises a value to JSON text for the bus, or throws: `PROTOCOL_TOO_LARGE` when it nests deeper
 * than {@link MAX_JSON_DEPTH} (or is too large for `JSON.stringify` at all), `PROTOCOL_INVALID`
 * when it is not JSON-serialisable (a BigInt, a cycle). Internal: the codecs and envelopes use it.
 */
export function stringifyJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    // RangeError: the stack ran out on a deeply nested value (or the string would exceed V8's maximum).
    if (cause instanceof RangeError) {
      throw new ProtocolError("PROTOCOL_TOO_LARGE", `${what} is nested deeper than ${MAX_JSON_DEPTH} levels or too large to serialise`, {
        cause,
        problems: [{ instancePath: "", message: `nests deeper than ${MAX_JSON_DEPTH} levels`, keyword: "maxDepth" }],
      });
    }
    // A BigInt or a cycle in a field the schema does not know (extra fields are allowed).
    throw new ProtocolError("PROTOCOL_INVALID", `${what} is not JSON-serialisable`, { cause, problems: [{ instancePath: "", message: "is not JSON-serialisable" }] });
  }
  if (json === undefined) {
    throw new ProtocolError("PROTOCOL_INVALID", `${what} is not JSON-serialisable`, { problems: [{ instancePath: "", message: "is not JSON-serialisable" }] });
  }
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) throw tooDeep(what);
  return json;
}

function tooDeep(what: string): ProtocolError {
  return new ProtocolError("PROTOCOL_TOO_LARGE", `${what} nests deeper than ${MAX_JSON_DEPTH} levels`, {
    problems: [{ instancePath: "", message: `nests deeper than ${MAX_JSON_DEPTH} levels`, keyword: "maxDepth" }],
  });
}

/**
 * Parses UTF-8 JSON bytes into a plain JSON value, enforcing {@link MAX_BUS_MESSAGE_BYTES} and
 * {@link MAX_JSON_DEPTH}. Throws `PROTOCOL_TOO_LARGE` or `PROTOCOL_BAD_JSON`.
 */
export function decodeJson(bytes: Uint8Array | string, what = "message"): unknown {
  let text: string;
  if (typeof bytes === "string") {
    // A string's UTF-8 size is at least its length and at most 3× it; measure only when needed.
    if (bytes.length > MAX_BUS_MESSAGE_BYTES || (bytes.length * 3 > MAX_BUS_MESSAGE_BYTES && textEncoder.encode(bytes).byteLength > MAX_BUS_MESSAGE_BYTES)) {
      throw new ProtocolError("PROTOCOL_TOO_LARGE", `${what} exceeds ${MAX_BUS_MESSAGE_BYTES} bytes`);
    }
    text = bytes;
  } else {
    if (!(bytes instanceof Uint8Array)) {
      throw new ProtocolError("PROTOCOL_BAD_JSON", `${what} must be a Uint8Array or a string`);
    }
    if (bytes.byteLength > MAX_BUS_MESSAGE_BYTES) {
      throw new ProtocolError("PROTOCOL_TOO_LARGE", `${what} is ${bytes.byteLength} bytes, over ${MAX_BUS_MESSAGE_BYTES}`);
    }
    try {
      text = textDecoder.decode(bytes);
    } catch (cause) {
      throw new ProtocolError("PROTOCOL_BAD_JSON", `${what} is not valid UTF-8`, { cause });
    }
  }
  // Checked on the text, before parsing: cheap (a native scan for brackets on normal messages), and a
  // hostile 500,000-level document is refused without building it.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw tooDeep(what);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ProtocolError("PROTOCOL_BAD_JSON", `${what} is not valid JSON`, { cause });
  }
}

/**
 * Builds the codec of one message schema. Internal: each message module calls it once at load;
 * the AJV validator itself is compiled on first use.
 */
export function defineCodec<S extends TSchema>(name: string, schema: S, options: CodecOptions = {}): Codec<S> {
  const versioned = options.versioned ?? true;
  const tag = options.tag;
  let compiled: ValidateFunction | undefined;
  const validator = (): ValidateFunction => (compiled ??= ajv.compile(schema));

  const check = (value: unknown): readonly ProtocolProblem[] => {
    const validate = validator();
    return validate(value) ? [] : problemsOf(validate);
  };

  const is = (value: unknown): value is Static<S> => validator()(value);

  const parse = (value: unknown): Static<S> => {
    if (versioned && isPlainObject(value)) {
      const v = value["v"];
      if (typeof v === "number" && Number.isInteger(v) && v !== PROTOCOL_VERSION) {
        throw new ProtocolError("PROTOCOL_UNSUPPORTED_VERSION", `${name} has protocol version ${v}; this receiver speaks ${PROTOCOL_VERSION}`, {
          problems: [{ instancePath: "/v", message: `must be ${PROTOCOL_VERSION}`, keyword: "const" }],
        });
      }
    }
    if (tag !== undefined && isPlainObject(value)) {
      const t = value[tag.property];
      if (typeof t === "string" && !tag.values.includes(t)) {
        throw new ProtocolError("PROTOCOL_UNKNOWN_KIND", `${name} has an unknown ${tag.property}`, {
          problems: [{ instancePath: `/${escapePointerToken(tag.property)}`, message: `must be one of: ${tag.values.join(", ")}`, keyword: "discriminator" }],
        });
      }
    }
    const problems = check(value);
    if (problems.length > 0) throw new ProtocolError("PROTOCOL_INVALID", summarize(name, problems), { problems });
    return value;
  };

  const decode = (bytes: Uint8Array | string): Static<S> => parse(decodeJson(bytes, name));

  const encode = (value: Static<S>): Uint8Array => {
    parse(value);
    const out = textEncoder.encode(stringifyJson(value, name));
    if (out.byteLength > MAX_BUS_MESSAGE_BYTES) {
      throw new ProtocolError("PROTOCOL_TOO_LARGE", `${name} encodes to ${out.byteLength} bytes, over ${MAX_BUS_MESSAGE_BYTES}`);
    }
    return out;
  };

  return { name, schema, check, is, parse, decode, encode };
}
