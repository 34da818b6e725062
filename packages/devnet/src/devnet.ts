// startDevnet(): the seed node, N snodes on their own ports, the file server, faults and storage.
import { randomBytes } from "node:crypto";
import { pino, type Logger } from "pino";
import { sodiumReady } from "./crypto.js";
import { DevnetError } from "./errors.js";
import { Faults } from "./faults.js";
import { fileServerHandler, type FileServerOptions } from "./file-server.js";
import { adminHandler } from "./admin.js";
import { BodyTooLarge, listen, readBody, sendJson, sendText, sleep, type ListenEvents, type Listener, type TlsMaterial } from "./http.js";
import { RateLimiter } from "./rate-limit.js";
import { seedJsonRpc, serviceNodeStatesOf } from "./seed.js";
import { snodeHandler } from "./snode-handler.js";
import { StorageRpc } from "./storage-rpc.js";
import { DevnetStore } from "./store.js";
import { generateCertificate } from "./tls.js";
import { Topology, type SnodeIdentity } from "./topology.js";

/** Options of {@link startDevnet}. */
export interface DevnetOptions {
  /** Plain HTTP everywhere (tests). Default false: HTTPS with a self-signed certificate made at start. */
  readonly http?: boolean;
  /** Number of snodes (default 9). */
  readonly snodeCount?: number;
  /** Number of swarms (default 3); snode i joins swarm i mod swarmCount. */
  readonly swarmCount?: number;
  /** Seed of the snode keys: same seed, same keys and swarms. Default: random. */
  readonly seed?: string;
  /**
   * First port: seed = basePort, file server = basePort + 1, snode i = basePort + 2 + i.
   * Default: every listener on a free port chosen by the OS.
   */
  readonly basePort?: number;
  /** IPv4 loopback address to bind (default "127.0.0.1"). */
  readonly host?: string;
  /** SQLite file for messages and files; default in memory. */
  readonly dataFile?: string;
  /** Logger (default: silent). */
  readonly logger?: Logger;
  /** File-server limits. */
  readonly fileServer?: FileServerOptions;
  /** Certificate to use instead of generating one (HTTPS only). */
  readonly tls?: TlsMaterial;
  /**
   * Mainnet's per-client rate limit on every snode (`true`: 600 burst, 300/s, then 429; or your own
   * numbers). Default off: all devnet clients share 127.0.0.1.
   */
  readonly rateLimit?: boolean | { readonly burst: number; readonly perSecond: number };
  /** How often expired messages and files are purged (ms, default 10,000). */
  readonly purgeIntervalMs?: number;
}

/** A snode as clients see it. */
export interface DevnetSnode {
  readonly index: number;
  readonly pubkeyEd25519: string;
  readonly pubkeyX25519: string;
  /** Base URL, e.g. `https://127.0.0.1:22102`; RPC at `url + "/storage_rpc/v1"`. */
  readonly url: string;
  readonly port: number;
  /** Swarm id as a decimal uint64. */
  readonly swarmId: string;
}

/** A swarm and its members. */
export interface DevnetSwarm {
  /** Decimal uint64. */
  readonly swarmId: string;
  readonly snodes: readonly DevnetSnode[];
}

/** A message as stored, for test assertions. */
export interface DevnetMessage {
  readonly hash: string;
  readonly namespace: number;
  readonly timestamp: number;
  readonly expiry: number;
  /** Base64 of the stored bytes, as `retrieve` returns it. */
  readonly data: string;
}

/** A running devnet. */
export interface Devnet {
  /** Seed `json_rpc` URLs (one seed node). */
  readonly seedUrls: readonly string[];
  /** File-server base URL (no trailing slash). */
  readonly fileServerUrl: string;
  /** The self-signed certificate every listener presents (HTTPS mode only). */
  readonly seedCertificatePem?: string;
  /** "http" or "https". */
  readonly scheme: "http" | "https";
  /** Snodes, with their current swarm (a fresh array after {@link Devnet.moveSnode}). */
  readonly snodes: readonly DevnetSnode[];
  readonly swarms: readonly DevnetSwarm[];
  /** Run-time fault injection. */
  readonly faults: Faults;
  /**
   * Moves a snode (index or Ed25519 hex) to another existing swarm (decimal id), for good: a swarm
   * membership change. Clients with the old membership cached get 421s from it for the pubkeys of
   * its old swarm, with the new membership. Refused (DEVNET_BAD_OPTIONS) if it would empty a swarm.
   */
  moveSnode(target: number | string, swarmId: string): void;
  /** The swarm responsible for a Session ID (66 hex), by the storage server's rule. */
  swarmFor(sessionId: string): DevnetSwarm;
  /** Unexpired messages stored for a Session ID (all namespaces unless given); DEVNET_STOPPED after stop. */
  messages(sessionId: string, namespace?: number): DevnetMessage[];
  /** Requests received per snode index since start (faulted ones included). */
  requestCounts(): number[];
  /**
   * Requests (on any listener) whose client closed the connection before its body ended, since
   * start: logged at debug ("client went away mid-request"), not as failures.
   */
  clientAborts(): number;
  /** Purges expired messages and files now (it also runs on a timer). */
  purgeExpired(): { messages: number; files: number };
  /** Stops every listener and closes the database. Idempotent. */
  stop(): Promise<void>;
}

const silent = pino({ level: "silent" });

function validate(o: DevnetOptions): { snodeCount: number; swarmCount: number; host: string } {
  const snodeCount = o.snodeCount ?? 9;
  const swarmCount = o.swarmCount ?? 3;
  if (!Number.isInteger(snodeCount) || snodeCount < 1 || snodeCount > 200)
    throw new DevnetError("DEVNET_BAD_OPTIONS", "snodeCount must be an integer in 1..200");
  if (!Number.isInteger(swarmCount) || swarmCount < 1 || swarmCount > snodeCount)
    throw new DevnetError("DEVNET_BAD_OPTIONS", "swarmCount must be an integer in 1..snodeCount");
  if (o.basePort !== undefined && (!Number.isInteger(o.basePort) || o.basePort < 1 || o.basePort + 2 + snodeCount > 65535))
    throw new DevnetError("DEVNET_BAD_OPTIONS", "basePort must leave room for seed, file server and snodes below 65536");
  const host = o.host === undefined || o.host === "localhost" ? "127.0.0.1" : o.host;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    throw new DevnetError("DEVNET_BAD_OPTIONS", "host must be an IPv4 loopback address (127.x.x.x)");
  return { snodeCount, swarmCount, host };
}

/** Starts a local Session network. Throws a {@link DevnetError} when it cannot. */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const { snodeCount, swarmCount, host } = validate(options);
  await sodiumReady();
  const log = options.logger ?? silent;
  const seed = options.seed ?? randomBytes(16).toString("hex");
  const topo = new Topology(seed, snodeCount, swarmCount);
  const store = new DevnetStore(options.dataFile);
  const scheme = options.http ? "http" : "https";
  const listeners: Listener[] = [];
  const ports = new Map<SnodeIdentity, number>();
  const requestCounts = new Array<number>(snodeCount).fill(0);
  let purgeTimer: NodeJS.Timeout | undefined;

  const faultTarget = (target: number | string): string | undefined => {
    if (typeof target === "number") return topo.snodes[target]?.pubkeyEd25519;
    if (target === "seed" || target === "file-server") return target;
    if (/^\d+$/.test(target)) return topo.snodes[Number(target)]?.pubkeyEd25519;
    return topo.byPubkey(target)?.pubkeyEd25519;
  };
  const faults = new Faults(faultTarget);

  const serviceNodeStates = (fields?: Record<string, unknown>): Record<string, unknown> =>
    serviceNodeStatesOf(topo, host, (sn) => ports.get(sn) ?? 0, fields);

  const rpc = new StorageRpc(topo, store, (sn) => ports.get(sn) ?? 0, () => serviceNodeStates());
  const onError = (err: unknown): void => log.error({ err }, "devnet request failed");
  let clientAborts = 0;
  // A client that goes away, or sends bytes that are not HTTP, is the client's business: debug only.
  const listenEvents = (component: string): ListenEvents => ({
    clientGone: (err) => {
      clientAborts += 1;
      log.debug({ component, reason: err.message }, "client went away mid-request");
    },
    clientError: (err, status) => log.debug({ component, code: err.code, status }, "malformed request refused"),
  });

  const cleanup = async (): Promise<void> => {
    if (purgeTimer) clearInterval(purgeTimer);
    purgeTimer = undefined;
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    store.close();
  };

  try {
    const tls = options.http ? undefined : (options.tls ?? (await generateCertificate()));

    // Snodes first, so their ports are known before the seed can be asked for them.
    const rl = options.rateLimit;
    for (const sn of topo.snodes) {
      const port = options.basePort === undefined ? 0 : options.basePort + 2 + sn.index;
      const listener = await listen(
        host,
        port,
        tls,
        snodeHandler({
          snode: sn,
          faults,
          rpc,
          limiter: rl === true ? new RateLimiter() : rl ? new RateLimiter(rl.burst, rl.perSecond) : undefined,
          log: log.child({ component: "snode", snode: sn.index }),
          onRequest: () => (requestCounts[sn.index]! += 1),
        }),
        onError,
        listenEvents("snode"),
      );
      listeners.push(listener);
      ports.set(sn, listener.port);
    }

    const fsLog = log.child({ component: "file-server" });
    const fsHandler = fileServerHandler(store, () => Date.now() + faults.clockOffset("file-server"), options.fileServer ?? {}, fsLog);
    const fsListener = await listen(
      host,
      options.basePort === undefined ? 0 : options.basePort + 1,
      tls,
      async (req, res) => {
        const plan = faults.take("file-server");
        if (plan.delayMs > 0) await sleep(plan.delayMs);
        if (plan.drop) return void req.socket.destroy();
        if (plan.status) return sendJson(res, plan.status, { status_code: plan.status });
        await fsHandler(req, res);
      },
      onError,
      listenEvents("file-server"),
    );
    listeners.push(fsListener);

    const base = (port: number): string => `${scheme}://${host}:${port}`;
    const snodeView = (sn: SnodeIdentity): DevnetSnode => ({
      index: sn.index,
      pubkeyEd25519: sn.pubkeyEd25519,
      pubkeyX25519: sn.pubkeyX25519,
      url: base(ports.get(sn)!),
      port: ports.get(sn)!,
      swarmId: sn.swarmId.toString(),
    });
    // Views are rebuilt after a membership change (moveSnode).
    let snodes: DevnetSnode[] = [];
    let swarms: DevnetSwarm[] = [];
    const rebuildViews = (): void => {
      snodes = topo.snodes.map(snodeView);
      swarms = topo.swarmIds.map((id) => ({
        swarmId: id.toString(),
        snodes: topo.membersOf(id).map((m) => snodes[m.index]!),
      }));
    };
    rebuildViews();
    const moveSnode = (target: number | string, swarmId: string): void => {
      const key = faultTarget(target);
      const sn = key ? topo.byPubkey(key) : undefined;
      if (!sn) throw new DevnetError("DEVNET_UNKNOWN_TARGET", `unknown snode ${String(target)}`);
      let id: bigint;
      try {
        id = BigInt(swarmId);
      } catch {
        throw new DevnetError("DEVNET_BAD_OPTIONS", `swarm id must be a decimal uint64: ${swarmId}`);
      }
      if (!topo.swarmIds.includes(id)) throw new DevnetError("DEVNET_BAD_OPTIONS", `no swarm ${swarmId}`);
      if (!topo.move(sn, id)) throw new DevnetError("DEVNET_BAD_OPTIONS", `moving snode ${sn.index} would leave its swarm empty`);
      rebuildViews();
      log.info({ snode: sn.index, swarmId }, "snode moved to another swarm");
    };

    const seedLog = log.child({ component: "seed" });
    const admin = adminHandler(faults, () => info(), moveSnode);
    const seedListener = await listen(
      host,
      options.basePort ?? 0,
      tls,
      async (req, res) => {
        const path = new URL(req.url ?? "/", "http://devnet").pathname;
        if (path.startsWith("/_devnet/")) return admin(req, res, path);
        const plan = faults.take("seed");
        if (plan.delayMs > 0) await sleep(plan.delayMs);
        if (plan.drop) return void req.socket.destroy();
        if (plan.status) return sendText(res, plan.status, plan.status === 500 ? "Internal Server Error" : "Too Many Requests");
        if (path !== "/json_rpc") return sendText(res, 404, "Not Found");
        if (req.method !== "POST") return sendText(res, 405, "Method Not Allowed");
        let body: Buffer;
        try {
          body = await readBody(req, 1_000_000);
        } catch (err) {
          if (err instanceof BodyTooLarge) return sendText(res, 413, "Request body too large");
          throw err;
        }
        sendJson(res, 200, seedJsonRpc(body.toString("utf8"), serviceNodeStates));
        seedLog.debug("seed json_rpc");
      },
      onError,
      listenEvents("seed"),
    );
    listeners.push(seedListener);

    const info = (): Record<string, unknown> => ({
      seedUrls: [`${base(seedListener.port)}/json_rpc`],
      fileServerUrl: base(fsListener.port),
      scheme,
      snodes,
      swarms,
    });

    const purge = (): { messages: number; files: number } => store.purge(Date.now());
    purgeTimer = setInterval(() => {
      try {
        const n = purge();
        if (n.messages + n.files > 0) log.debug(n, "purged expired rows");
      } catch (err) {
        log.error({ err }, "purge failed");
      }
    }, options.purgeIntervalMs ?? 10_000);
    purgeTimer.unref();

    let stopped = false;
    const seedUrl = `${base(seedListener.port)}/json_rpc`;
    log.info({ seedUrl, fileServerUrl: base(fsListener.port), snodes: snodeCount, swarms: swarmCount, scheme }, "devnet started");
    return {
      seedUrls: [seedUrl],
      fileServerUrl: base(fsListener.port),
      ...(tls ? { seedCertificatePem: tls.cert } : {}),
      scheme,
      get snodes() {
        return snodes;
      },
      get swarms() {
        return swarms;
      },
      faults,
      moveSnode,
      swarmFor(sessionId: string): DevnetSwarm {
        if (!/^(05|03)[0-9a-fA-F]{64}$/.test(sessionId))
          throw new DevnetError("DEVNET_BAD_OPTIONS", "swarmFor: expected a 66-hex Session ID");
        const id = topo.swarmIdFor(sessionId).toString();
        return swarms.find((s) => s.swarmId === id)!;
      },
      messages(sessionId: string, namespace?: number): DevnetMessage[] {
        if (stopped) throw new DevnetError("DEVNET_STOPPED", "the devnet is stopped");
        return store.messagesOf(sessionId.toLowerCase(), Date.now(), namespace).map((m) => ({
          hash: m.hash,
          namespace: m.namespace,
          timestamp: m.timestamp,
          expiry: m.expiry,
          data: m.data.toString("base64"),
        }));
      },
      requestCounts: () => [...requestCounts],
      clientAborts: () => clientAborts,
      purgeExpired: () => {
        if (stopped) throw new DevnetError("DEVNET_STOPPED", "the devnet is stopped");
        return purge();
      },
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await cleanup();
        log.info("devnet stopped");
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
