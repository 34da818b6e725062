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

/** Resolves once libsodium is ready; cheap after the first call. */
export function loadSodium(): Promise<Sodium> {
  loaded ??= lib.ready.then(() => {
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
