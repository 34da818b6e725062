// The `/storage_rpc/v1` methods of a storage server (reference section 4), written from the
// reference and the storage server's documented behaviour: parse first (400 on any malformed
// field, for a whole batch at once), then the swarm check (421), then clock and signature checks.
import { edPkToX, messageHash, signDetached, verifyDetached } from "./crypto.js";
import {
  ParseError,
  fromBase64,
  isBase64,
  isMessageHash,
  optBool,
  optInt,
  optNamespace,
  optNamespaceOrAll,
  optString,
  optStringArray,
  optStringified,
  optTimestamp,
  optTimestampArray,
  pubkeyWithAlias,
  required,
  type Params,
} from "./rpc-params.js";
import type { DevnetStore } from "./store.js";
import type { SnodeIdentity, Topology } from "./topology.js";

/** Protocol constants (reference 4.11). */
export const LIMITS = {
  maxMessageBytes: 76_800,
  ttlMinMs: 10_000,
  ttlMaxPublicMs: 14 * 24 * 3600_000,
  ttlMaxPrivateMs: 30 * 24 * 3600_000,
  storeToleranceMs: 10_000,
  signatureToleranceMs: 60_000,
  retrieveMaxBytes: 7_800_000,
  batchMax: 20,
} as const;

/** Hard-fork version reported in `hf`. */
export const HARD_FORK: readonly [number, number] = [19, 3];
/** Storage-server version reported by `info`. */
export const SERVER_VERSION: readonly [number, number, number] = [2, 10, 0];

/** What one RPC call answers: JSON (success, 421) or plain text (errors). */
export interface RpcResult {
  readonly status: number;
  readonly json?: Record<string, unknown>;
  readonly text?: string;
}

/** Per-request context: which snode answers, its clock, and injected faults. */
export interface RpcContext {
  readonly snode: SnodeIdentity;
  /** The snode's clock (ms), including any injected offset. */
  readonly now: number;
  /**
   * Asked (once per request, when a pubkey reaches the swarm check) whether an injected "421 once"
   * applies: then answer as if this snode were not in the pubkey's swarm.
   */
  readonly misdirect: () => boolean;
}

/** Where a snode listens, for swarm JSON. */
export type PortOf = (snode: SnodeIdentity) => number;

type Exec = (ctx: RpcContext) => RpcResult;
type Loader = (params: Params) => Exec;

interface UserPubkey {
  readonly hex: string;
  readonly type: number;
  readonly raw: Buffer;
  readonly bytes33: Buffer;
}

const PUBKEY_RE = /^(05|03)[0-9a-fA-F]{64}$/;

function parsePubkey(s: string, message: string): UserPubkey {
  if (!PUBKEY_RE.test(s)) throw new ParseError(message);
  const hex = s.toLowerCase();
  const bytes33 = Buffer.from(hex, "hex");
  return { hex, type: bytes33[0]!, raw: bytes33.subarray(1), bytes33 };
}

const PK_MSG = "Pubkey must be 66 hex digits (33 bytes) long";

interface SignedFields {
  readonly pubkey: UserPubkey;
  readonly pubkeyEd25519: Buffer | undefined;
  readonly signature: Buffer;
}

function parseSignature(pubkey: UserPubkey, pkEd: string | undefined, sig: string | undefined): SignedFields {
  const s = required("signature", sig);
  let ed: Buffer | undefined;
  if (pkEd !== undefined) {
    if (pubkey.type !== 5) throw new ParseError("pubkey_ed25519 is only permitted for 05[...] pubkeys");
    if (pkEd.length !== 64) throw new ParseError("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey");
    if (!/^[0-9a-fA-F]{64}$/.test(pkEd)) throw new ParseError("invalid pubkey_ed25519: value is not hex");
    ed = Buffer.from(pkEd, "hex");
  }
  if (!isBase64(s) || !(s.length === 86 || (s.length === 88 && s.endsWith("=="))))
    throw new ParseError("invalid signature: expected base64 encoded Ed25519 signature");
  return { pubkey, pubkeyEd25519: ed, signature: fromBase64(s) };
}

function rejectSubaccount(p: Params): void {
  if (optString(p, "subaccount")) throw new ParseError("subaccount authentication is not supported by the devnet");
}

/** Verifies a request signature the way the storage server does for 05 and 03 ids. */
function verifyRequest(f: SignedFields, message: string): boolean {
  let pk: Uint8Array = f.pubkey.raw;
  if (f.pubkey.type === 5 && f.pubkeyEd25519) {
    const x = edPkToX(f.pubkeyEd25519);
    if (!x || !Buffer.from(x).equals(f.pubkey.raw)) return false;
    pk = f.pubkeyEd25519;
  }
  return verifyDetached(f.signature, message, pk);
}

const nsText = (ns: number): string => (ns === 0 ? "" : String(ns));
const isPublicInbox = (ns: number): boolean => ns % 10 === 0;
const isPublicOutbox = (ns: number): boolean => ns < 0 && ns % 20 === -1;
const isNoAuthRetrieve = (ns: number): boolean => ns === -10 || isPublicOutbox(ns);

const text = (status: number, t: string): RpcResult => ({ status, text: t });

const Z_BASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769";

function zBase32(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += Z_BASE32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += Z_BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/** The storage RPC of the whole virtual network; each call says which snode answers. */
export class StorageRpc {
  private readonly methods: Record<string, Loader>;

  constructor(
    private readonly topo: Topology,
    private readonly store: DevnetStore,
    private readonly portOf: PortOf,
    private readonly serviceNodeStates: () => Record<string, unknown>,
  ) {
    this.methods = {
      info: () => (ctx) => this.ok(ctx, { version: SERVER_VERSION, timestamp: ctx.now }),
      get_swarm: (p) => this.loadGetSwarm(p),
      get_snodes_for_pubkey: (p) => this.loadGetSwarm(p),
      store: (p) => this.loadStore(p),
      retrieve: (p) => this.loadRetrieve(p),
      delete: (p) => this.loadDelete(p),
      delete_all: (p) => this.loadDeleteAll(p),
      delete_before: (p) => this.loadDeleteBefore(p),
      expire: (p) => this.loadExpire(p),
      expire_all: (p) => this.loadExpireAll(p),
      get_expiries: (p) => this.loadGetExpiries(p),
      oxend_request: (p) => this.loadOxend(p),
      batch: (p) => this.loadBatch(p, false),
      sequence: (p) => this.loadBatch(p, true),
    };
  }

  /** Handles a raw `/storage_rpc/v1` body. */
  handleBody(body: string, ctx: RpcContext): RpcResult {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return text(400, "invalid json");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return text(400, "invalid json: no `method` field");
    const req = parsed as Record<string, unknown>;
    if (typeof req.method !== "string") return text(400, "invalid json: no `method` field");
    const params = req.params;
    if (typeof params !== "object" || params === null || Array.isArray(params)) return text(400, "invalid json: no `params` field");
    return this.handle(req.method, params as Params, ctx);
  }

  /** Handles one method call with its params object. */
  handle(method: string, params: Params, ctx: RpcContext): RpcResult {
    const loader = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (!loader) return text(400, `no method ${method}`);
    let exec: Exec;
    try {
      exec = loader(params);
    } catch (err) {
      if (err instanceof ParseError) return text(400, `invalid request: ${err.message}`);
      throw err;
    }
    return exec(ctx);
  }

  /** The swarm JSON (reference 4.3) of a swarm. */
  swarmJson(swarmId: bigint, exclude?: SnodeIdentity): Record<string, unknown> {
    let members = this.topo.membersOf(swarmId);
    if (exclude && members.length > 1) members = members.filter((m) => m !== exclude);
    return {
      snodes: members.map((sn) => {
        const port = this.portOf(sn);
        return {
          address: `${zBase32(sn.keys.edPk)}.snode`,
          pubkey_legacy: sn.pubkeyEd25519,
          pubkey_x25519: sn.pubkeyX25519,
          pubkey_ed25519: sn.pubkeyEd25519,
          port: String(port),
          port_https: port,
          port_omq: port,
          port_quic: port,
          ip: "127.0.0.1",
        };
      }),
      swarm: swarmId.toString(16),
    };
  }

  private ok(ctx: RpcContext, body: Record<string, unknown>, status = 200): RpcResult {
    return { status, json: { ...body, t: ctx.now, hf: HARD_FORK } };
  }

  /** 421 with the right swarm when `ctx.snode` is not (or pretends not to be) in the pubkey's swarm. */
  private wrongSwarm(pubkey: UserPubkey, ctx: RpcContext): RpcResult | undefined {
    const swarmId = this.topo.swarmIdFor(pubkey.raw);
    if (ctx.misdirect()) return this.ok(ctx, this.swarmJson(swarmId, ctx.snode), 421);
    if (ctx.snode.swarmId !== swarmId) return this.ok(ctx, this.swarmJson(swarmId), 421);
    return undefined;
  }

  private loadGetSwarm(p: Params): Exec {
    const pubkey = parsePubkey(pubkeyWithAlias(p), "Pubkey must be 66 hex digits/33 bytes long");
    return (ctx) => this.ok(ctx, this.swarmJson(this.topo.swarmIdFor(pubkey.raw)));
  }

  private loadStore(p: Params): Exec {
    const data = optString(p, "data");
    const expiryAbs = optTimestamp(p, "expiry");
    const namespace = optNamespace(p, "namespace") ?? 0;
    const pkEd = optString(p, "pubkey_ed25519");
    const sigTs = optTimestamp(p, "sig_timestamp");
    const sig = optString(p, "signature");
    rejectSubaccount(p);
    const timestamp = required("timestamp", optStringified(p, "timestamp", false));
    const ttl = optStringified(p, "ttl", true);
    if (expiryAbs !== undefined && ttl !== undefined) throw new ParseError("Cannot specify both 'expiry' and 'ttl'");
    if (expiryAbs === undefined && ttl === undefined) throw new ParseError("Required field 'expiry' or 'ttl' missing");
    const expiry = expiryAbs ?? timestamp + ttl!;
    const pubkey = parsePubkey(pubkeyWithAlias(p), PK_MSG);
    const signed = sig !== undefined ? parseSignature(pubkey, pkEd, sig) : undefined;
    const b64 = required("data", data);
    if (!isBase64(b64)) throw new ParseError("Invalid 'data' value: not base64 encoded");
    if (b64.length > (LIMITS.maxMessageBytes / 3) * 4)
      throw new ParseError(`Message body exceeds maximum allowed length of ${LIMITS.maxMessageBytes} bytes`);
    const bytes = fromBase64(b64);

    return (ctx) => {
      const wrong = this.wrongSwarm(pubkey, ctx);
      if (wrong) return wrong;
      const publicIn = isPublicInbox(namespace);
      const ttlMs = expiry - timestamp;
      if (ttlMs < LIMITS.ttlMinMs || ttlMs > (publicIn ? LIMITS.ttlMaxPublicMs : LIMITS.ttlMaxPrivateMs))
        return text(403, "Provided expiry/TTL is not valid.");
      if (timestamp > ctx.now + LIMITS.storeToleranceMs || expiry < ctx.now - LIMITS.storeToleranceMs)
        return text(406, "Timestamp error: check your clock");
      if (!publicIn) {
        if (!signed) return text(401, `store: signature required to store to namespace ${namespace}`);
        const sts = sigTs ?? timestamp;
        if (Math.abs(sts - ctx.now) > LIMITS.signatureToleranceMs)
          return text(406, "store signature timestamp too far from current time");
        if (!verifyRequest(signed, `store${nsText(namespace)}${sts}`))
          return text(401, "store signature verification failed");
      }
      const hash = messageHash(pubkey.bytes33, namespace, bytes);
      const outcome = this.store.store({ hash, pubkey: pubkey.hex, namespace, timestamp, expiry, data: bytes });
      const swarm: Record<string, unknown> = {};
      for (const member of this.topo.membersOf(ctx.snode.swarmId)) {
        const entry: Record<string, unknown> = {
          hash,
          signature: Buffer.from(signDetached(hash, member.keys.edSk)).toString("base64"),
          expiry: outcome.expiry,
        };
        if (!outcome.isNew) entry.already = true;
        if (member === ctx.snode) entry.t = ctx.now;
        swarm[member.pubkeyEd25519] = entry;
      }
      return this.ok(ctx, { swarm, hash });
    };
  }

  private loadRetrieve(p: Params): Exec {
    const lastHashAlt = optString(p, "lastHash");
    let lastHash = optString(p, "last_hash");
    const maxCount = optInt(p, "max_count");
    const maxSizeIn = optInt(p, "max_size");
    const nsGiven = optNamespace(p, "namespace");
    const pkEd = optString(p, "pubkey_ed25519");
    optBool(p, "reverse_direction");
    const sig = optString(p, "signature");
    rejectSubaccount(p);
    const ts = optTimestamp(p, "timestamp");
    const pubkey = parsePubkey(pubkeyWithAlias(p), PK_MSG);
    const namespace = nsGiven ?? 0;
    let signed: SignedFields | undefined;
    let timestamp = 0;
    if (pkEd !== undefined || sig !== undefined || ts !== undefined || (nsGiven !== undefined && !isNoAuthRetrieve(nsGiven))) {
      signed = parseSignature(pubkey, pkEd, sig);
      timestamp = required("timestamp", ts);
    }
    if (lastHash !== undefined && lastHashAlt !== undefined) throw new ParseError("Cannot specify both 'last_hash' and 'lastHash'");
    lastHash ??= lastHashAlt;
    if (lastHash === "") lastHash = undefined;
    if (lastHash !== undefined) {
      if (lastHash.length !== 43) throw new ParseError("Invalid last_hash: expected base64 (43 chars)");
      if (!isBase64(lastHash)) throw new ParseError("Invalid last_hash: not base64");
    }

    return (ctx) => {
      const wrong = this.wrongSwarm(pubkey, ctx);
      if (wrong) return wrong;
      if (!isNoAuthRetrieve(namespace) && !signed) return text(401, "retrieve: request signature required");
      if (signed) {
        if (Math.abs(timestamp - ctx.now) > LIMITS.signatureToleranceMs)
          return text(406, "retrieve timestamp too far from current time");
        if (!verifyRequest(signed, `retrieve${nsText(namespace)}${timestamp}`))
          return text(401, "retrieve signature verification failed");
      }
      const count = maxCount && maxCount > 0 ? maxCount : undefined;
      let size = maxSizeIn === 0 ? undefined : maxSizeIn;
      if (count === undefined && size === undefined) size = -5;
      if (size !== undefined && size < 0) size = Math.floor(LIMITS.retrieveMaxBytes / -size);
      else if (size === undefined || size > LIMITS.retrieveMaxBytes) size = LIMITS.retrieveMaxBytes;
      const { messages, more } = this.store.retrieve(pubkey.hex, namespace, lastHash, ctx.now, count, size);
      return this.ok(ctx, {
        messages: messages.map((m) => ({
          hash: m.hash,
          timestamp: m.timestamp,
          expiration: m.expiry,
          data: m.data.toString("base64"),
        })),
        more,
      });
    };
  }

  private signedCommon(p: Params): SignedFields {
    const pubkey = parsePubkey(required("pubkey", optString(p, "pubkey")), PK_MSG);
    const f = parseSignature(pubkey, optString(p, "pubkey_ed25519"), optString(p, "signature"));
    rejectSubaccount(p);
    return f;
  }

  private hashList(p: Params): string[] {
    const messages = required("messages", optStringArray(p, "messages"));
    if (messages.length === 0) throw new ParseError("messages does not contain any message hashes");
    for (const m of messages) if (!isMessageHash(m)) throw new ParseError(`invalid message hash: ${m}`);
    return messages;
  }

  /** Each member's share of a swarm-wide result, signed by that member. */
  private perMember(ctx: RpcContext, build: (member: SnodeIdentity) => Record<string, unknown>): Record<string, unknown> {
    const swarm: Record<string, unknown> = {};
    for (const member of this.topo.membersOf(ctx.snode.swarmId)) swarm[member.pubkeyEd25519] = build(member);
    return swarm;
  }

  private loadDelete(p: Params): Exec {
    optStringArray(p, "messages");
    const requiredFlag = optBool(p, "required") ?? false;
    const f = this.signedCommon(p);
    const messages = this.hashList(p);
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      if (!verifyRequest(f, `delete${messages.join("")}`)) return text(401, "delete_msgs signature verification failed");
      const deleted = this.store.deleteHashes(f.pubkey.hex, messages, ctx.now).sort();
      const toSign = f.pubkey.hex + messages.join("") + deleted.join("");
      const swarm = this.perMember(ctx, (m) => ({
        deleted,
        signature: Buffer.from(signDetached(toSign, m.keys.edSk)).toString("base64"),
      }));
      return this.ok(ctx, { swarm }, requiredFlag && deleted.length === 0 ? 404 : 200);
    };
  }

  private loadDeleteAll(p: Params): Exec {
    const namespace = optNamespaceOrAll(p, "namespace") ?? 0;
    const f = this.signedCommon(p);
    const timestamp = required("timestamp", optTimestamp(p, "timestamp"));
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      if (Math.abs(timestamp - ctx.now) > LIMITS.signatureToleranceMs)
        return text(406, "delete_all timestamp too far from current time");
      const nsSig = namespace === "all" ? "all" : nsText(namespace);
      if (!verifyRequest(f, `delete_all${nsSig}${timestamp}`)) return text(401, "delete_all signature verification failed");
      const pairs = this.store.deleteAll(f.pubkey.hex, namespace, ctx.now);
      return this.bulkResult(ctx, "deleted", namespace, pairs, f.pubkey.hex + String(timestamp));
    };
  }

  /** Result of an action on many messages, in one namespace (sorted list) or all (by namespace). */
  private bulkResult(
    ctx: RpcContext,
    key: string,
    namespace: number | "all",
    pairs: Array<[number, string]>,
    signPrefix: string,
  ): RpcResult {
    const sorted = [...pairs].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const hashes = sorted.map((x) => x[1]);
    let value: unknown = hashes;
    if (namespace === "all") {
      const byNs: Record<string, string[]> = {};
      for (const [ns, h] of sorted) (byNs[String(ns)] ??= []).push(h);
      value = byNs;
    }
    const toSign = signPrefix + hashes.join("");
    const swarm = this.perMember(ctx, (m) => ({
      [key]: value,
      signature: Buffer.from(signDetached(toSign, m.keys.edSk)).toString("base64"),
    }));
    return this.ok(ctx, { swarm });
  }

  private loadDeleteBefore(p: Params): Exec {
    const before = required("before", optTimestamp(p, "before"));
    const namespace = optNamespaceOrAll(p, "namespace") ?? 0;
    const f = this.signedCommon(p);
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      if (before > ctx.now + 60_000) return text(401, "delete_before timestamp too far in the future");
      const nsSig = namespace === "all" ? "all" : nsText(namespace);
      if (!verifyRequest(f, `delete_before${nsSig}${before}`)) return text(401, "delete_before signature verification failed");
      const pairs = this.store.deleteBefore(f.pubkey.hex, namespace, before, ctx.now);
      return this.bulkResult(ctx, "deleted", namespace, pairs, f.pubkey.hex + String(before));
    };
  }

  private loadExpireAll(p: Params): Exec {
    const expiry = required("expiry", optTimestamp(p, "expiry"));
    const namespace = optNamespaceOrAll(p, "namespace") ?? 0;
    const f = this.signedCommon(p);
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      if (expiry < ctx.now - LIMITS.signatureToleranceMs) return text(406, "expire_all timestamp should be >= current time");
      const nsSig = namespace === "all" ? "all" : nsText(namespace);
      if (!verifyRequest(f, `expire_all${nsSig}${expiry}`)) return text(401, "expire_all signature verification failed");
      const pairs = this.store.shortenAll(f.pubkey.hex, namespace, expiry, ctx.now);
      return this.bulkResult(ctx, "updated", namespace, pairs, f.pubkey.hex + String(expiry));
    };
  }

  private loadExpire(p: Params): Exec {
    const expiryReq = optTimestampArray(p, "expiry");
    const extend = optBool(p, "extend") ?? false;
    optStringArray(p, "messages");
    const f = this.signedCommon(p);
    const shorten = optBool(p, "shorten") ?? false;
    const expiries = required("expiry", expiryReq);
    if (expiries.length === 0) throw new ParseError("'expiry' does not contain any expiration timestamps");
    if (shorten && extend) throw new ParseError("cannot specify both 'shorten' and 'extend'");
    const messages = this.hashList(p);
    if (expiries.length > 1 && expiries.length !== messages.length)
      throw new ParseError("'expiry' must be a single expiry, or the same length as 'messages'");
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      const applied: number[] = [];
      for (const e of expiries) {
        if (e < ctx.now - 60_000) return text(401, "expire: timestamp should be >= current time");
        applied.push(Math.min(ctx.now + LIMITS.ttlMaxPrivateMs, e));
      }
      const mode = shorten ? "shorten" : extend ? "extend" : "";
      if (!verifyRequest(f, `expire${mode}${expiries.join("")}${messages.join("")}`))
        return text(401, "expire: signature verification failed");
      const updated = this.store
        .updateExpiry(f.pubkey.hex, messages, applied, mode === "" ? "set" : mode, ctx.now)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const updatedHashes = updated.map((u) => u[0]);
      let unchanged: Array<[string, number]> = [];
      if (mode !== "") {
        const done = new Set(updatedHashes);
        unchanged = [...this.store.expiries(f.pubkey.hex, messages.filter((m) => !done.has(m)), ctx.now)].sort((a, b) =>
          a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
        );
      }
      const signedExp = expiries.length > 1 ? updated.map((u) => u[1]) : [applied[0]!];
      const toSign =
        f.pubkey.hex +
        signedExp.join("") +
        messages.join("") +
        updatedHashes.join("") +
        unchanged.map(([h, e]) => `${h}${e}`).join("");
      const swarm = this.perMember(ctx, (m) => {
        const entry: Record<string, unknown> = {
          expiry: expiries.length > 1 ? signedExp : signedExp[0],
          updated: updatedHashes,
        };
        if (mode !== "") entry.unchanged = Object.fromEntries(unchanged);
        entry.signature = Buffer.from(signDetached(toSign, m.keys.edSk)).toString("base64");
        return entry;
      });
      return this.ok(ctx, { swarm });
    };
  }

  private loadGetExpiries(p: Params): Exec {
    optStringArray(p, "messages");
    const f = this.signedCommon(p);
    const timestamp = required("timestamp", optTimestamp(p, "timestamp"));
    const messages = required("messages", optStringArray(p, "messages"));
    if (messages.length === 0) throw new ParseError("messages does not contain any message hashes");
    return (ctx) => {
      const wrong = this.wrongSwarm(f.pubkey, ctx);
      if (wrong) return wrong;
      if (Math.abs(timestamp - ctx.now) > LIMITS.signatureToleranceMs)
        return text(406, "get_expiries timestamp too far from current time");
      if (!verifyRequest(f, `get_expiries${timestamp}${messages.join("")}`))
        return text(401, "get_expiries signature verification failed");
      // The storage server answers get_expiries without `t`/`hf`.
      return { status: 200, json: { expiries: Object.fromEntries(this.store.expiries(f.pubkey.hex, messages, ctx.now)) } };
    };
  }

  private loadOxend(p: Params): Exec {
    const endpoint = required("endpoint", optString(p, "endpoint"));
    if (endpoint !== "get_service_nodes" && endpoint !== "ons_resolve")
      throw new ParseError(`Invalid oxend endpoint '${endpoint}'`);
    return (ctx) => {
      if (endpoint === "ons_resolve") return text(400, "ons_resolve is not available on the devnet");
      return this.ok(ctx, { result: this.serviceNodeStates() });
    };
  }

  private loadBatch(p: Params, sequence: boolean): Exec {
    const reqs = p.requests;
    if (!Array.isArray(reqs) || reqs.length === 0) throw new ParseError('Invalid batch request: no valid "requests" field');
    if (reqs.length > LIMITS.batchMax) throw new ParseError("Invalid batch request: subrequest limit exceeded");
    const execs: Exec[] = [];
    for (const r of reqs as unknown[]) {
      if (typeof r !== "object" || r === null || Array.isArray(r))
        throw new ParseError("Invalid batch request: requests must be objects");
      const { method, params } = r as Record<string, unknown>;
      if (typeof method !== "string" || typeof params !== "object" || params === null || Array.isArray(params))
        throw new ParseError("Invalid batch request: subrequests must have method/params keys");
      const loader = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
      if (!loader) throw new ParseError(`Invalid batch subrequest: invalid method "${method}"`);
      if (method === "batch" || method === "sequence")
        throw new ParseError("Invalid batch subrequest: subrequests may not contain meta-requests");
      execs.push(loader(params as Params));
    }
    return (ctx) => {
      const results: Array<{ code: number; body: unknown }> = [];
      for (const exec of execs) {
        const r = exec(ctx);
        results.push({ code: r.status, body: r.json ?? r.text ?? "" });
        if (sequence && (r.status < 200 || r.status > 299)) break;
      }
      return { status: 200, json: { results } };
    };
  }
}
