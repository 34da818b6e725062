// The CLIs' configuration: flags and the few environment facts they need, parsed once here.
import path from "node:path";
import { parseArgs } from "node:util";
import { DevnetError } from "../errors.js";

/** Default base port of the `session-devnet` CLI (seed; file server +1; snodes +2..). */
export const DEFAULT_BASE_PORT = 22100;

/** Parsed `session-devnet` flags. */
export interface DevnetCliConfig {
  readonly help: boolean;
  readonly http: boolean;
  readonly snodes: number;
  readonly swarms: number;
  /** undefined = the saved one, else DEFAULT_BASE_PORT; 0 = OS-chosen ports. */
  readonly port: number | undefined;
  readonly dataDir: string;
  readonly persist: boolean;
  readonly rateLimit: boolean;
  readonly logLevel: string;
}

/**
 * The directory relative paths are taken from: pnpm runs package scripts inside the package, so
 * prefer the directory the user typed the command in (INIT_CWD) over the process's cwd.
 */
export function invocationDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD && path.isAbsolute(env.INIT_CWD) ? env.INIT_CWD : process.cwd();
}

/** The default devnet data dir: `<invocation dir>/.data/devnet`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(invocationDir(env), ".data", "devnet");
}

/**
 * Drops the leading `--` separators pnpm passes through (`pnpm devnet -- --http` runs the script
 * with `-- --http`), which would otherwise end option parsing.
 */
export function stripSeparators(argv: readonly string[]): string[] {
  let i = 0;
  while (argv[i] === "--") i++;
  return argv.slice(i);
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < min || n > max)
    throw new DevnetError("DEVNET_BAD_OPTIONS", `--${name} must be an integer in ${min}..${max}`);
  return n;
}

/** Parses `session-devnet` arguments (without node and the script). */
export function parseDevnetArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DevnetCliConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: stripSeparators(argv),
      options: {
        help: { type: "boolean", short: "h" },
        http: { type: "boolean" },
        snodes: { type: "string" },
        swarms: { type: "string" },
        port: { type: "string" },
        "data-dir": { type: "string" },
        persist: { type: "boolean" },
        "rate-limit": { type: "boolean" },
        "log-level": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DevnetError("DEVNET_BAD_OPTIONS", err instanceof Error ? err.message : String(err), { cause: err });
  }
  const snodes = intFlag("snodes", values.snodes, 1, 200) ?? 9;
  const swarms = intFlag("swarms", values.swarms, 1, 200) ?? 3;
  if (swarms > snodes) throw new DevnetError("DEVNET_BAD_OPTIONS", "--swarms cannot exceed --snodes");
  const logLevel = values["log-level"] ?? "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel))
    throw new DevnetError("DEVNET_BAD_OPTIONS", "--log-level must be fatal|error|warn|info|debug|trace|silent");
  const dataDir = values["data-dir"] ? path.resolve(invocationDir(env), values["data-dir"]) : defaultDataDir(env);
  return {
    help: values.help ?? false,
    http: values.http ?? false,
    snodes,
    swarms,
    port: intFlag("port", values.port, 0, 65_000),
    dataDir,
    persist: values.persist ?? false,
    rateLimit: values["rate-limit"] ?? false,
    logLevel,
  };
}

/** `session-devnet --help` text. */
export const DEVNET_USAGE = `Usage: session-devnet [options]

Runs a local Session network (seed node, snodes, file server) in the foreground.

  --http             plain HTTP instead of HTTPS with a self-signed certificate
  --snodes <n>       number of snodes (default 9)
  --swarms <n>       number of swarms (default 3)
  --port <n>         base port: seed n, file server n+1, snode i n+2+i (default ${DEFAULT_BASE_PORT}
                     or the saved one; 0 = free ports)
  --data-dir <dir>   keys/ports config, state file and SQLite (default ./.data/devnet)
  --persist          keep messages and files in <data-dir>/devnet.sqlite
  --rate-limit       mainnet's per-client limit on snodes (600 burst, 300/s, then 429)
  --log-level <lvl>  pino level (default info); logs go to stderr
  -h, --help         this help
`;
