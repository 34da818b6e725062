// Files in the devnet data dir: the stable config (key seed, base port, certificate) and the
// state file other programs (session-chat, scripts) read to find a running devnet.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DevnetError } from "../errors.js";

/** `<data-dir>/devnet-config.json`: what makes keys and ports stable across restarts. */
export interface DevnetConfigFile {
  readonly seed: string;
  readonly basePort: number;
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** `<data-dir>/devnet.json`: written while the devnet runs, removed when it stops. */
export interface DevnetStateFile {
  readonly seedUrls: readonly string[];
  readonly fileServerUrl: string;
  readonly scheme: "http" | "https";
  readonly seedCertificatePem?: string;
  readonly pid: number;
  readonly startedAt: string;
}

/** Name of the state file inside the data dir. */
export const STATE_FILE = "devnet.json";
/** Name of the config file inside the data dir. */
export const CONFIG_FILE = "devnet-config.json";

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DevnetError("DEVNET_STATE_FILE", `cannot read ${file}`, { cause: err });
  }
}

function writeJson(file: string, value: unknown, mode = 0o644): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
    fs.renameSync(tmp, file);
  } catch (err) {
    throw new DevnetError("DEVNET_STATE_FILE", `cannot write ${file}`, { cause: err });
  }
}

/** Loads the config (creating a random seed on first use); `port` overrides and is saved. */
export function loadOrCreateConfig(dataDir: string, port: number | undefined, defaultPort: number): DevnetConfigFile {
  const file = path.join(dataDir, CONFIG_FILE);
  const raw = readJson(file) as Partial<DevnetConfigFile> | undefined;
  const seed = typeof raw?.seed === "string" && raw.seed.length > 0 ? raw.seed : randomBytes(16).toString("hex");
  const basePort = port ?? (typeof raw?.basePort === "number" ? raw.basePort : defaultPort);
  const cfg: DevnetConfigFile = { seed, basePort, ...(raw?.tls ? { tls: raw.tls } : {}) };
  if (!raw || raw.seed !== cfg.seed || raw.basePort !== cfg.basePort) saveConfig(dataDir, cfg);
  return cfg;
}

/** Saves the config (private: it holds the TLS key). */
export function saveConfig(dataDir: string, cfg: DevnetConfigFile): void {
  writeJson(path.join(dataDir, CONFIG_FILE), cfg, 0o600);
}

/** Writes the state file. */
export function writeState(dataDir: string, state: DevnetStateFile): void {
  writeJson(path.join(dataDir, STATE_FILE), state);
}

/** Removes the state file if it is ours. */
export function removeState(dataDir: string): void {
  const file = path.join(dataDir, STATE_FILE);
  const raw = readJson(file) as Partial<DevnetStateFile> | undefined;
  if (raw?.pid === process.pid) fs.rmSync(file, { force: true });
}

/** Reads a state file (undefined when absent). */
export function readState(file: string): DevnetStateFile | undefined {
  const raw = readJson(file) as Partial<DevnetStateFile> | undefined;
  if (!raw) return undefined;
  if (!Array.isArray(raw.seedUrls) || typeof raw.fileServerUrl !== "string")
    throw new DevnetError("DEVNET_STATE_FILE", `${file} is not a devnet state file`);
  return raw as DevnetStateFile;
}
