/**
 * {@link Network} over the storage-server RPC (docs/session-protocol.md sections 4, 5, 8):
 * seed list -> snode list -> swarm of a pubkey -> `store` / signed `retrieve` (inside `batch`),
 * with 421 swarm moves, 406 clock resync, retries with backoff, unhealthy snodes set aside and a
 * timeout on every request. Snode certificates are self-signed and accepted as Session clients do;
 * seed and file-server trust is configurable (system CAs, a pinned certificate, or none).
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SessionError, isSessionError } from "../errors.js";
import { fromBase64Strict, toBase64, utf8 } from "../encoding.js";
import { childLogger, silentLogger, type Logger } from "../logger.js";
import { getJson, setJson, type Storage } from "../storage/storage.js";
import { NetworkClock } from "./clock.js";
import { httpRequest, type HttpResponse, type TlsTrust } from "./http.js";
import type {
  Network,
  RetrieveRequest,
  RetrieveResult,
  RetrievedMessage,
  StoreRequest,
  StoreResult,
  UploadedFile,
} from "./network.js";

/** A service node as the client knows it. */
export interface Snode {
  /** Ed25519 public key, hex: the snode's identity. */
  pubkeyEd25519: string;
  pubkeyX25519: string;
  ip: string;
  port: number;
}

/** Retry policy of swarm requests. */
export interface RetryOptions {
  /** Attempts per request, across swarm members (default 6). */
  attempts?: number;
  /** First backoff delay (default 250 ms); doubles per attempt, with jitter. */
  baseDelayMs?: number;
  /** Largest backoff delay (default 4,000 ms). */
  maxDelayMs?: number;
}

/** Options of {@link StorageRpcNetwork}. */
export interface StorageRpcNetworkOptions {
  /** Seed node JSON-RPC URLs, e.g. `https://seed1.getsession.org:4443/json_rpc` or a devnet seed. */
  seedUrls: string[];
  /** How to trust the seed's TLS certificate (default: pinned when `seedCertificatePem` is set, else system CAs). */
  seedTrust?: TlsTrust;
  /** Shorthand for `seedTrust: { kind: "pinned", certificatePem }`. */
  seedCertificatePem?: string;
  /** Scheme used to reach snodes (default `https`; the devnet in plain-HTTP mode needs `http`). */
  snodeScheme?: "https" | "http";
  /** File server base URL (default `http://filev2.getsession.org`). */
  fileServerUrl?: string;
  /** TLS trust for an `https` file server (default system CAs). */
  fileServerTrust?: TlsTrust;
  /** Extra origins attachments may be downloaded from (the file server's origin is always allowed). */
  allowedFileOrigins?: string[];
  /** Largest encrypted upload/download in bytes (default 10,000,000). */
  maxFileBytes?: number;
  /** Cache of snode list and swarms (default: memory only). */
  storage?: Storage;
  logger?: Logger;
  /** Timeout of one snode/seed request (default 10,000 ms). */
  requestTimeoutMs?: number;
  /** Timeout of one file upload/download (default 60,000 ms). */
  fileTimeoutMs?: number;
  retry?: RetryOptions;
  /** Consecutive failures after which a snode is set aside (default 3). */
  unhealthyAfterFailures?: number;
  /** How long an unhealthy snode is set aside (default 60,000 ms). */
  unhealthyForMs?: number;
  /** Refresh the snode list after this long (default 1 h). */
  snodeListMaxAgeMs?: number;
  /** Refresh a cached swarm after this long (default 2 h). */
  swarmMaxAgeMs?: number;
  /** Local clock (tests). */
  localNow?: () => number;
}

/** The default public file server. */
export const DEFAULT_FILE_SERVER_URL = "http://filev2.getsession.org";
/** Largest encrypted attachment the clients upload. */
export const MAX_FILE_BYTES = 10_000_000;

const SNODE_LIST_KEY = "network:snodes";
const swarmKey = (pubkey: string): string => `network:swarm:${pubkey}`;
const MAX_RPC_RESPONSE = 16 * 1024 * 1024;

interface CachedList {
  at: number;
  snodes: Snode[];
}

interface Health {
  failures: number;
  asideUntil: number;
}

/** Result of one snode RPC, after the HTTP status was read. */
type RpcOutcome = { code: number; body: unknown; text: string };
/** One store waiting to leave in a `batch` with the other stores of its snode. */
type PendingStore = { params: Record<string, unknown>; resolve: (out: RpcOutcome) => void; reject: (err: unknown) => void };
/** The storage RPC's limit of subrequests in one `batch`. */
const MAX_BATCH_SUBREQUESTS = 20;

/** The storage-server RPC network. */
export class StorageRpcNetwork implements Network {
  readonly clock: NetworkClock;
  readonly #o: Required<Pick<StorageRpcNetworkOptions, "requestTimeoutMs" | "fileTimeoutMs" | "unhealthyAfterFailures" | "unhealthyForMs" | "snodeListMaxAgeMs" | "swarmMaxAgeMs" | "maxFileBytes">>;
  readonly #seedUrls: string[];
  readonly #seedTrust: TlsTrust;
  readonly #snodeScheme: "https" | "http";
  readonly #fileServerUrl: string;
  readonly #fileServerTrust: TlsTrust;
  readonly #allowedOrigins: Set<string>;
  readonly #storage: Storage | undefined;
  readonly #log: Logger;
  readonly #retry: Required<RetryOptions>;
  readonly #localNow: () => number;
  readonly #health = new Map<string, Health>();
  readonly #swarms = new Map<string, CachedList>();
  readonly #abort = new AbortController();
  /** Stores waiting for this turn's flush, per snode (see #storeOn). */
  readonly #pendingStores = new Map<string, { snode: Snode; items: PendingStore[] }>();
  #snodes: CachedList | undefined;
  #snodesLoading: Promise<Snode[]> | undefined;
  #closed = false;

  constructor(options: StorageRpcNetworkOptions) {
    if (options.seedUrls.length === 0) throw new SessionError("SESSION_INVALID_ARGUMENT", "at least one seed URL is needed");
    for (const u of options.seedUrls) assertUrl(u, "seed URL");
    this.#seedUrls = [...options.seedUrls];
    this.#seedTrust =
      options.seedTrust ??
      (options.seedCertificatePem === undefined ? { kind: "system" } : { kind: "pinned", certificatePem: options.seedCertificatePem });
    this.#snodeScheme = options.snodeScheme ?? "https";
    this.#fileServerUrl = (options.fileServerUrl ?? DEFAULT_FILE_SERVER_URL).replace(/\/+$/, "");
    assertUrl(this.#fileServerUrl, "file server URL");
    this.#fileServerTrust = options.fileServerTrust ?? { kind: "system" };
    this.#allowedOrigins = new Set([new URL(this.#fileServerUrl).origin, ...(options.allowedFileOrigins ?? []).map((o) => new URL(o).origin)]);
    this.#storage = options.storage;
    this.#log = childLogger(options.logger ?? silentLogger, { component: "session-network" });
    this.#retry = { attempts: options.retry?.attempts ?? 6, baseDelayMs: options.retry?.baseDelayMs ?? 250, maxDelayMs: options.retry?.maxDelayMs ?? 4_000 };
    this.#localNow = options.localNow ?? Date.now;
    this.clock = new NetworkClock({ localNow: this.#localNow });
    this.#o = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      fileTimeoutMs: options.fileTimeoutMs ?? 60_000,
      unhealthyAfterFailures: options.unhealthyAfterFailures ?? 3,
      unhealthyForMs: options.unhealthyForMs ?? 60_000,
      snodeListMaxAgeMs: options.snodeListMaxAgeMs ?? 3_600_000,
      swarmMaxAgeMs: options.swarmMaxAgeMs ?? 7_200_000,
      maxFileBytes: options.maxFileBytes ?? MAX_FILE_BYTES,
    };
  }

  /** The file server this network uploads to. */
  get fileServerUrl(): string {
    return this.#fileServerUrl;
  }

  now(): number {
    return this.clock.now();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await Promise.resolve();
  }

  // ---------------------------------------------------------------- snode list and swarms

  /** All known snodes (from a seed node; cached). */
  async getSnodes(forceRefresh = false): Promise<Snode[]> {
    const now = this.#localNow();
    if (!forceRefresh && this.#snodes !== undefined && now - this.#snodes.at < this.#o.snodeListMaxAgeMs) return this.#snodes.snodes;
    if (!forceRefresh && this.#snodes === undefined && this.#storage !== undefined) {
      const cached = await getJson<CachedList>(this.#storage, SNODE_LIST_KEY);
      if (cached !== undefined && Array.isArray(cached.snodes) && cached.snodes.length > 0 && now - cached.at < this.#o.snodeListMaxAgeMs) {
        this.#snodes = cached;
        return cached.snodes;
      }
    }
    this.#snodesLoading ??= this.#loadSnodesFromSeeds().finally(() => {
      this.#snodesLoading = undefined;
    });
    return this.#snodesLoading;
  }

  async #loadSnodesFromSeeds(): Promise<Snode[]> {
    const seeds = shuffle([...this.#seedUrls]);
    let lastError: unknown;
    for (const seed of seeds) {
      try {
        const snodes = await this.#fetchSeed(seed);
        const entry = { at: this.#localNow(), snodes };
        this.#snodes = entry;
        if (this.#storage !== undefined) await setJson(this.#storage, SNODE_LIST_KEY, entry);
        this.#log.info({ seed, snodes: snodes.length }, "snode list loaded");
        return snodes;
      } catch (err) {
        lastError = err;
        this.#log.warn({ seed, err }, "seed node failed");
      }
    }
    if (this.#snodes !== undefined) return this.#snodes.snodes; // stale beats nothing
    throw new SessionError("SESSION_NO_SNODES", "no seed node answered with a snode list", { cause: lastError });
  }

  async #fetchSeed(seedUrl: string): Promise<Snode[]> {
    const res = await httpRequest({
      method: "POST",
      url: seedUrl,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "get_n_service_nodes",
        params: {
          active_only: true,
          fields: { public_ip: true, storage_port: true, pubkey_x25519: true, pubkey_ed25519: true, requested_unlock_height: true, height: true },
        },
      }),
      timeoutMs: this.#o.requestTimeoutMs,
      trust: this.#seedTrust,
      maxResponseBytes: MAX_RPC_RESPONSE,
      signal: this.#abort.signal,
    });
    if (res.status !== 200) throw new SessionError("SESSION_RPC_REJECTED", `seed answered HTTP ${res.status}`, { details: { status: res.status } });
    const json = parseJson(res.body.toString("utf8"));
    const states = (json as { result?: { service_node_states?: unknown } } | undefined)?.result?.service_node_states;
    if (!Array.isArray(states)) throw new SessionError("SESSION_MALFORMED", "seed answer has no service_node_states");
    const snodes: Snode[] = [];
    for (const s of states as Record<string, unknown>[]) {
      const snode = toSnode(s.public_ip, s.storage_port, s.pubkey_ed25519, s.pubkey_x25519);
      if (snode !== null) snodes.push(snode);
    }
    if (snodes.length === 0) throw new SessionError("SESSION_NO_SNODES", "seed returned no usable snode");
    return snodes;
  }

  /** The swarm (snodes) holding `pubkey`'s messages (cached; refreshed on age or 421). */
  async getSwarm(pubkey: string, forceRefresh = false): Promise<Snode[]> {
    const now = this.#localNow();
    let cached = this.#swarms.get(pubkey);
    if (cached === undefined && this.#storage !== undefined) {
      const stored = await getJson<CachedList>(this.#storage, swarmKey(pubkey));
      if (stored !== undefined && Array.isArray(stored.snodes)) {
        cached = stored;
        this.#swarms.set(pubkey, stored);
      }
    }
    if (!forceRefresh && cached !== undefined && cached.snodes.length > 0 && now - cached.at < this.#o.swarmMaxAgeMs) return cached.snodes;
    const snodes = await this.getSnodes();
    let lastError: unknown;
    for (const snode of shuffle(this.#healthyFirst(snodes)).slice(0, 4)) {
      try {
        const out = await this.#rpc(snode, "get_swarm", { pubkey });
        if (out.code !== 200) {
          lastError = new SessionError("SESSION_RPC_REJECTED", `get_swarm answered ${out.code}`, { details: { status: out.code, snode: snode.pubkeyEd25519 } });
          continue;
        }
        const swarm = parseSwarm(out.body);
        if (swarm.length === 0) {
          lastError = new SessionError("SESSION_MALFORMED", "get_swarm returned no snodes");
          continue;
        }
        await this.#setSwarm(pubkey, swarm);
        return swarm;
      } catch (err) {
        lastError = err;
        this.#markFailure(snode, err);
      }
    }
    if (cached !== undefined && cached.snodes.length > 0) return cached.snodes;
    throw new SessionError("SESSION_NO_SNODES", "could not look up the swarm", { cause: lastError });
  }

  async #setSwarm(pubkey: string, snodes: Snode[]): Promise<void> {
    const entry = { at: this.#localNow(), snodes };
    this.#swarms.set(pubkey, entry);
    if (this.#storage !== undefined) await setJson(this.#storage, swarmKey(pubkey), entry);
  }

  // ---------------------------------------------------------------- store / retrieve

  async store(request: StoreRequest): Promise<StoreResult> {
    if (request.data.length > 76_800) {
      throw new SessionError("SESSION_PAYLOAD_TOO_LARGE", "a stored message is at most 76,800 bytes", { details: { limit: 76_800, actual: request.data.length } });
    }
    if (request.namespace % 10 !== 0) throw new SessionError("SESSION_UNSUPPORTED", "signed (private namespace) stores are not supported");
    const data = toBase64(request.data);
    return this.#withSwarm(request.pubkey, { signal: undefined }, async (snode) => {
      const params: Record<string, unknown> = {
        pubkey: request.pubkey,
        data,
        timestamp: this.clock.now(snode.pubkeyEd25519),
        ttl: request.ttlMs,
      };
      if (request.namespace !== 0) params.namespace = request.namespace;
      const out = await this.#storeOn(snode, params);
      if (out.code !== 200) return out;
      const hash = (out.body as { hash?: unknown } | undefined)?.hash;
      if (typeof hash !== "string" || hash.length !== 43) throw new SessionError("SESSION_MALFORMED", "store answer has no hash", { details: { snode: snode.pubkeyEd25519 } });
      return { value: { hash, snode: snode.pubkeyEd25519 } };
    });
  }

  async retrieve(request: RetrieveRequest): Promise<RetrieveResult> {
    return this.#withSwarm(request.pubkey, { preferred: request.preferredSnode, signal: request.signal }, async (snode) => {
      const timestamp = this.clock.now(snode.pubkeyEd25519);
      const ns = request.namespace === 0 ? "" : String(request.namespace);
      const signature = toBase64(request.signer.sign(utf8(`retrieve${ns}${timestamp}`)));
      const params: Record<string, unknown> = {
        pubkey: request.pubkey,
        pubkey_ed25519: request.signer.ed25519PublicKeyHex,
        timestamp,
        signature,
        last_hash: request.lastHashes[snode.pubkeyEd25519] ?? "",
        max_size: -2,
      };
      if (request.namespace !== 0) params.namespace = request.namespace;
      // Through `batch`, as the official clients poll; sub-results carry their own status.
      const outer = await this.#rpc(snode, "batch", { requests: [{ method: "retrieve", params }] }, request.signal);
      if (outer.code !== 200) return outer;
      const first = (outer.body as { results?: unknown } | undefined)?.results;
      const sub = Array.isArray(first) ? (first[0] as { code?: unknown; body?: unknown } | undefined) : undefined;
      if (sub === undefined || typeof sub.code !== "number") throw new SessionError("SESSION_MALFORMED", "batch answer has no results", { details: { snode: snode.pubkeyEd25519 } });
      const inner: RpcOutcome = { code: sub.code, body: sub.body, text: typeof sub.body === "string" ? sub.body : "" };
      if (inner.code !== 200) return inner;
      this.clock.observe((sub.body as { t?: unknown } | undefined)?.t, snode.pubkeyEd25519);
      return { value: { snode: snode.pubkeyEd25519, ...parseRetrieve(sub.body) } };
    });
  }

  /**
   * Runs `attempt` against members of `pubkey`'s swarm until one succeeds: 421 replaces the swarm,
   * 406 resyncs the clock with that snode and retries once, 429/5xx/timeouts back off and move to
   * another member, 4xx (other) fail at once.
   */
  async #withSwarm<T>(
    pubkey: string,
    opts: { preferred?: string | undefined; signal: AbortSignal | undefined },
    attempt: (snode: Snode) => Promise<{ value: T } | RpcOutcome>,
  ): Promise<T> {
    let lastError: unknown;
    let clockRetries = 0;
    let forceRefresh = false;
    const tried = new Set<string>();
    for (let i = 0; i < this.#retry.attempts; i++) {
      this.#checkOpen(opts.signal);
      let swarm = await this.getSwarm(pubkey, forceRefresh);
      forceRefresh = false;
      if (swarm.length === 0) swarm = await this.getSwarm(pubkey, true);
      const snode = this.#pick(swarm, opts.preferred, tried);
      tried.add(snode.pubkeyEd25519);
      let out: { value: T } | RpcOutcome;
      try {
        out = await attempt(snode);
      } catch (err) {
        if (isSessionError(err) && (err.code === "SESSION_CLOSED" || err.code === "SESSION_INVALID_ARGUMENT")) throw err;
        lastError = err;
        this.#markFailure(snode, err);
        await this.#backoff(i, opts.signal);
        continue;
      }
      if ("value" in out) {
        this.#markSuccess(snode);
        return out.value;
      }
      const details = { status: out.code, snode: snode.pubkeyEd25519 };
      switch (true) {
        case out.code === 421: {
          const moved = parseSwarm(out.body);
          if (moved.length > 0) {
            this.#log.info({ pubkey: pubkey.slice(0, 10), snode: snode.pubkeyEd25519 }, "421: swarm moved, using the new swarm");
            await this.#setSwarm(pubkey, moved);
          } else {
            await this.#setSwarm(pubkey, swarm.filter((s) => s.pubkeyEd25519 !== snode.pubkeyEd25519));
            forceRefresh = swarm.length <= 1;
          }
          opts.preferred = undefined;
          lastError = new SessionError("SESSION_RPC_REJECTED", "snode is not in the swarm (421)", { details });
          continue;
        }
        case out.code === 406 || out.code === 425: {
          lastError = new SessionError("SESSION_CLOCK_SKEW", `snode refused our timestamp (${out.code}): ${out.text.slice(0, 120)}`, { details });
          if (clockRetries >= 1) throw lastError;
          clockRetries++;
          await this.#resyncClock(snode);
          tried.delete(snode.pubkeyEd25519);
          opts.preferred = snode.pubkeyEd25519;
          continue;
        }
        case out.code === 429:
          lastError = new SessionError("SESSION_RATE_LIMITED", "snode rate-limited us (429)", { details });
          this.#markFailure(snode, lastError);
          await this.#backoff(i, opts.signal);
          continue;
        case out.code >= 500 || out.code === 0:
          lastError = new SessionError("SESSION_NETWORK", `snode failed with HTTP ${out.code}`, { details });
          this.#markFailure(snode, lastError);
          await this.#backoff(i, opts.signal);
          continue;
        default:
          throw new SessionError("SESSION_RPC_REJECTED", `snode refused the request (${out.code}): ${out.text.slice(0, 200)}`, { details });
      }
    }
    if (isSessionError(lastError)) throw lastError;
    throw new SessionError("SESSION_NETWORK", "request failed on every attempt", { cause: lastError });
  }

  async #resyncClock(snode: Snode): Promise<void> {
    try {
      const before = this.#localNow();
      const out = await this.#rpc(snode, "info", {}, undefined, false);
      const t = (out.body as { t?: unknown; timestamp?: unknown } | undefined)?.t ?? (out.body as { timestamp?: unknown } | undefined)?.timestamp;
      if (typeof t === "number") {
        const localAt = before + Math.round((this.#localNow() - before) / 2);
        this.clock.setSnodeOffset(snode.pubkeyEd25519, t, localAt);
        this.#log.info({ snode: snode.pubkeyEd25519, offsetMs: localAt - t }, "406: clock resynchronised with snode");
      }
    } catch (err) {
      this.#log.warn({ snode: snode.pubkeyEd25519, err }, "clock resync failed");
    }
  }

  /**
   * Sends one store to `snode`. Stores that pick the same snode in the same event-loop turn leave
   * together in one `batch` (up to 20 subrequests, as the official clients do), so a bot answering
   * many users at once makes one HTTP request per snode instead of one per message; a store alone
   * in its turn is a plain `store`. Each store gets its own sub-result, so 421, 406 and the other
   * statuses are handled per store by #withSwarm exactly as for a single store; a failed batch
   * request fails every store in it (each then retries on its own schedule).
   */
  #storeOn(snode: Snode, params: Record<string, unknown>): Promise<RpcOutcome> {
    return new Promise<RpcOutcome>((resolve, reject) => {
      let group = this.#pendingStores.get(snode.pubkeyEd25519);
      if (group === undefined) {
        group = { snode, items: [] };
        this.#pendingStores.set(snode.pubkeyEd25519, group);
        setImmediate(() => this.#flushStores(snode.pubkeyEd25519));
      }
      group.items.push({ params, resolve, reject });
      if (group.items.length >= MAX_BATCH_SUBREQUESTS) this.#flushStores(snode.pubkeyEd25519);
    });
  }

  #flushStores(key: string): void {
    const group = this.#pendingStores.get(key);
    if (group === undefined) return;
    this.#pendingStores.delete(key);
    const { snode, items } = group;
    if (items.length === 1) {
      const [one] = items as [PendingStore];
      this.#rpc(snode, "store", one.params).then(one.resolve, one.reject);
      return;
    }
    this.#rpc(snode, "batch", { requests: items.map((i) => ({ method: "store", params: i.params })) }).then(
      (outer) => {
        if (outer.code !== 200) {
          for (const i of items) i.resolve(outer);
          return;
        }
        const results = (outer.body as { results?: unknown } | undefined)?.results;
        items.forEach((item, n) => {
          const sub = Array.isArray(results) ? (results[n] as { code?: unknown; body?: unknown } | undefined) : undefined;
          if (sub === undefined || typeof sub.code !== "number") {
            item.reject(new SessionError("SESSION_MALFORMED", "batch answer has no result for a store", { details: { snode: snode.pubkeyEd25519 } }));
            return;
          }
          if (sub.code === 200) this.clock.observe((sub.body as { t?: unknown } | undefined)?.t, snode.pubkeyEd25519);
          item.resolve({ code: sub.code, body: sub.body, text: typeof sub.body === "string" ? sub.body : JSON.stringify(sub.body ?? "") });
        });
      },
      (err: unknown) => {
        for (const i of items) i.reject(err);
      },
    );
  }

  /** One JSON RPC to a snode; a non-JSON body is kept as text. Observes `t` of 200 answers. */
  async #rpc(snode: Snode, method: string, params: Record<string, unknown>, signal?: AbortSignal, observeClock = true): Promise<RpcOutcome> {
    const url = `${this.#snodeScheme}://${snode.ip}:${snode.port}/storage_rpc/v1`;
    const localAt = this.#localNow();
    const res: HttpResponse = await httpRequest({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method, params }),
      timeoutMs: this.#o.requestTimeoutMs,
      trust: { kind: "insecure" },
      maxResponseBytes: MAX_RPC_RESPONSE,
      signal: signal === undefined ? this.#abort.signal : AbortSignal.any([signal, this.#abort.signal]),
    });
    const text = res.body.toString("utf8");
    const body = parseJson(text);
    if (res.status === 200 && observeClock) this.clock.observe((body as { t?: unknown } | undefined)?.t, snode.pubkeyEd25519, localAt + Math.round((this.#localNow() - localAt) / 2));
    return { code: res.status, body: body ?? text, text };
  }

  // ---------------------------------------------------------------- health

  #healthy(snode: Snode): boolean {
    const h = this.#health.get(snode.pubkeyEd25519);
    return h === undefined || h.asideUntil <= this.#localNow();
  }

  #healthyFirst(snodes: Snode[]): Snode[] {
    const healthy = snodes.filter((s) => this.#healthy(s));
    return healthy.length > 0 ? healthy : snodes;
  }

  #pick(swarm: Snode[], preferred: string | undefined, tried: Set<string>): Snode {
    const usable = this.#healthyFirst(swarm);
    const fresh = usable.filter((s) => !tried.has(s.pubkeyEd25519));
    const pool = fresh.length > 0 ? fresh : usable;
    const pref = preferred === undefined ? undefined : pool.find((s) => s.pubkeyEd25519 === preferred);
    return pref ?? (pool[randomInt(pool.length)] as Snode);
  }

  #markFailure(snode: Snode, err: unknown): void {
    const h = this.#health.get(snode.pubkeyEd25519) ?? { failures: 0, asideUntil: 0 };
    h.failures++;
    if (h.failures >= this.#o.unhealthyAfterFailures) {
      h.asideUntil = this.#localNow() + this.#o.unhealthyForMs;
      h.failures = 0;
      this.#log.warn({ snode: snode.pubkeyEd25519, forMs: this.#o.unhealthyForMs }, "snode set aside as unhealthy");
    }
    this.#health.set(snode.pubkeyEd25519, h);
    this.#log.debug({ snode: snode.pubkeyEd25519, err }, "snode request failed");
  }

  #markSuccess(snode: Snode): void {
    this.#health.delete(snode.pubkeyEd25519);
  }

  /** Ed25519 keys of the snodes currently set aside (diagnostics, tests). */
  unhealthySnodes(): string[] {
    return [...this.#health.entries()].filter(([, h]) => h.asideUntil > this.#localNow()).map(([k]) => k);
  }

  async #backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
    const exp = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
    const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
    try {
      await sleep(delay, undefined, { signal: signal === undefined ? this.#abort.signal : AbortSignal.any([signal, this.#abort.signal]) });
    } catch {
      throw new SessionError("SESSION_CLOSED", "request aborted");
    }
  }

  #checkOpen(signal: AbortSignal | undefined): void {
    if (this.#closed) throw new SessionError("SESSION_CLOSED", "network is closed");
    if (signal?.aborted === true) throw new SessionError("SESSION_CLOSED", "request aborted");
  }

  // ---------------------------------------------------------------- file server

  async uploadFile(data: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<UploadedFile> {
    if (data.length > this.#o.maxFileBytes) {
      throw new SessionError("SESSION_ATTACHMENT_TOO_LARGE", `an upload is at most ${this.#o.maxFileBytes} bytes`, { details: { limit: this.#o.maxFileBytes, actual: data.length } });
    }
    this.#checkOpen(options.signal);
    const res = await httpRequest({
      method: "POST",
      url: `${this.#fileServerUrl}/file`,
      headers: { "content-type": "application/octet-stream" },
      body: data,
      timeoutMs: this.#o.fileTimeoutMs,
      trust: this.#fileServerTrust,
      maxResponseBytes: 64 * 1024,
      signal: options.signal === undefined ? this.#abort.signal : AbortSignal.any([options.signal, this.#abort.signal]),
    });
    if (res.status === 413) throw new SessionError("SESSION_ATTACHMENT_TOO_LARGE", "the file server refused the upload as too large (413)", { details: { status: 413, actual: data.length } });
    if (res.status !== 200 && res.status !== 201) throw new SessionError("SESSION_FILE_SERVER", `file server answered HTTP ${res.status} to an upload`, { details: { status: res.status } });
    const json = parseJson(res.body.toString("utf8")) as { id?: unknown; expires?: unknown } | undefined;
    const id = typeof json?.id === "number" ? String(json.id) : json?.id;
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new SessionError("SESSION_FILE_SERVER", "file server upload answer has no valid id");
    const file: UploadedFile = { id, url: `${this.#fileServerUrl}/file/${id}` };
    if (typeof json?.expires === "number") file.expires = json.expires;
    return file;
  }

  async downloadFile(url: string, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Uint8Array> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new SessionError("SESSION_ATTACHMENT_URL_NOT_ALLOWED", "attachment URL is not a URL", { cause });
    }
    if (!this.#allowedOrigins.has(parsed.origin) || !/^\/file\/[A-Za-z0-9_-]{1,64}$/.test(parsed.pathname)) {
      throw new SessionError("SESSION_ATTACHMENT_URL_NOT_ALLOWED", `attachment URL is not on an allowed file server (${parsed.origin})`);
    }
    this.#checkOpen(options.signal);
    const max = Math.min(options.maxBytes ?? this.#o.maxFileBytes, this.#o.maxFileBytes);
    parsed.hash = "";
    let res: HttpResponse;
    try {
      res = await httpRequest({
        method: "GET",
        url: parsed.toString(),
        timeoutMs: this.#o.fileTimeoutMs,
        trust: this.#fileServerTrust,
        maxResponseBytes: max,
        signal: options.signal === undefined ? this.#abort.signal : AbortSignal.any([options.signal, this.#abort.signal]),
      });
    } catch (err) {
      if (isSessionError(err, "SESSION_NETWORK") && err.details.limit !== undefined) {
        throw new SessionError("SESSION_ATTACHMENT_TOO_LARGE", `attachment is larger than ${max} bytes`, { cause: err, details: { limit: max } });
      }
      throw err;
    }
    if (res.status !== 200) throw new SessionError("SESSION_FILE_SERVER", `file server answered HTTP ${res.status} to a download`, { details: { status: res.status } });
    return new Uint8Array(res.body);
  }
}

// ------------------------------------------------------------------ parsing helpers

function assertUrl(value: string, what: string): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch (cause) {
    throw new SessionError("SESSION_INVALID_ARGUMENT", `${what} is not a URL`, { cause });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new SessionError("SESSION_INVALID_ARGUMENT", `${what} must be http(s)`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toSnode(ip: unknown, port: unknown, ed: unknown, x: unknown): Snode | null {
  const p = typeof port === "string" ? Number(port) : port;
  if (typeof ip !== "string" || ip === "" || ip === "0.0.0.0") return null;
  if (typeof p !== "number" || !Number.isInteger(p) || p <= 0 || p > 65535) return null;
  if (typeof ed !== "string" || !/^[0-9a-f]{64}$/i.test(ed)) return null;
  return { ip, port: p, pubkeyEd25519: ed.toLowerCase(), pubkeyX25519: typeof x === "string" ? x.toLowerCase() : "" };
}

/** Snodes of a `get_swarm` answer or a 421 body. */
export function parseSwarm(body: unknown): Snode[] {
  const list = (body as { snodes?: unknown } | undefined)?.snodes;
  if (!Array.isArray(list)) return [];
  const out: Snode[] = [];
  for (const s of list as unknown[]) {
    // A hostile or broken snode may list anything: only objects can describe a snode.
    if (s === null || typeof s !== "object") continue;
    const r = s as Record<string, unknown>;
    const snode = toSnode(r.ip, r.port_https ?? r.port, r.pubkey_ed25519, r.pubkey_x25519);
    if (snode !== null) out.push(snode);
  }
  return out;
}

function parseRetrieve(body: unknown): { messages: RetrievedMessage[]; more: boolean } {
  const b = body as { messages?: unknown; more?: unknown } | undefined;
  if (!Array.isArray(b?.messages)) throw new SessionError("SESSION_MALFORMED", "retrieve answer has no messages array");
  const messages: RetrievedMessage[] = [];
  for (const item of b.messages as unknown[]) {
    if (item === null || typeof item !== "object") continue;
    const m = item as Record<string, unknown>;
    if (typeof m.hash !== "string" || m.hash.length === 0) continue;
    const data = typeof m.data === "string" ? fromBase64Strict(m.data) : null;
    messages.push({
      hash: m.hash,
      timestamp: typeof m.timestamp === "number" ? m.timestamp : 0,
      expiration: typeof m.expiration === "number" ? m.expiration : typeof m.expiry === "number" ? m.expiry : 0,
      data,
    });
  }
  return { messages, more: b.more === true };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
