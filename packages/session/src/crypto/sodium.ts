/**
 * libsodium loader. The WebAssembly module initialises asynchronously once per process; every
 * public entry point that needs it awaits {@link loadSodium} first, and synchronous helpers call
 * {@link sodium} afterwards.
 */
import lib from "libsodium-wrappers-sumo";

/** The libsodium API object. */
export type Sodium = typeof lib;

let loaded: Promise<Sodium> | undefined;
let instance: Sodium | undefined;

/**
 * Random 32-bit words for libsodium, read from the system CSPRNG (`crypto.getRandomValues`) 1,024
 * words at a time. libsodium's WebAssembly build asks its host for randomness four bytes per call,
 * and libsodium-wrappers answers each call with its own `getRandomValues` of one word: 64 calls
 * (about 130 µs) to seal one message. Words handed out are zeroed in the pool.
 */
export function pooledRandomWord(): number {
  if (poolPos === pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolPos = 0;
  }
  const v = pool[poolPos]!;
  pool[poolPos++] = 0;
  return v >>> 0;
}
const pool = new Uint32Array(1024);
let poolPos = pool.length;

/** Resolves once libsodium is ready; cheap after the first call. */
export function loadSodium(): Promise<Sodium> {
  loaded ??= lib.ready.then(() => {
    // The module reads `getRandomValue` at each call: answer from the pool (see pooledRandomWord).
    const mod = (lib as unknown as { libsodium?: { getRandomValue?: unknown } }).libsodium;
    if (mod !== undefined && typeof mod.getRandomValue === "function") mod.getRandomValue = pooledRandomWord;
    instance = lib;
    return lib;
  });
  return loaded;
}

/** The ready libsodium; throws when {@link loadSodium} has not completed (a programming error). */
export function sodium(): Sodium {
  if (instance === undefined) throw new Error("libsodium is not initialised: await loadSodium() first");
  return instance;
}
