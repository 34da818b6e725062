// Run-time fault injection per snode (or the seed / file server): the misbehaviours a client
// must survive on mainnet, on demand.
import { DevnetError } from "./errors.js";

/** The kinds of fault that can be injected. */
export const FAULT_KINDS = ["421-once", "500", "429", "latency", "drop", "clock-offset"] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault to inject. */
export interface Fault {
  readonly kind: FaultKind;
  /** `latency`: added delay; `clock-offset`: offset added to the snode's clock (may be negative). */
  readonly ms?: number;
  /**
   * How many requests it affects before it wears off. Default 1 for `421-once`, unlimited for
   * the others (until `clear()`). Ignored for `clock-offset`, which stays until cleared.
   */
  readonly count?: number;
}

/** A fault as it stands, for listing. */
export interface ActiveFault {
  readonly target: string;
  readonly kind: FaultKind;
  readonly ms?: number;
  /** Requests left; undefined = unlimited. */
  readonly remaining?: number;
}

/** What the HTTP layer does with one request. */
export interface FaultPlan {
  readonly delayMs: number;
  readonly drop: boolean;
  /** 500 or 429 when one of those faults fired. */
  readonly status?: 500 | 429;
  readonly clockOffsetMs: number;
}

interface Entry {
  kind: FaultKind;
  ms: number;
  remaining: number | undefined;
}

/** Where faults apply; `resolve` maps a user-facing target to a key. */
export type TargetResolver = (target: number | string) => string | undefined;

/** Fault registry of a devnet (`net.faults`). */
export class Faults {
  private readonly byTarget = new Map<string, Entry[]>();

  /** @internal */
  constructor(private readonly resolve: TargetResolver) {}

  /**
   * Injects a fault. `target`: snode index, snode Ed25519 public key hex, `"seed"` or
   * `"file-server"`. Throws DEVNET_UNKNOWN_TARGET / DEVNET_BAD_FAULT.
   */
  inject(target: number | string, fault: Fault): void {
    const key = this.resolve(target);
    if (key === undefined) throw new DevnetError("DEVNET_UNKNOWN_TARGET", `unknown fault target ${String(target)}`);
    const f = fault as Partial<Fault> | undefined;
    if (!f || typeof f !== "object" || !FAULT_KINDS.includes(f.kind as FaultKind))
      throw new DevnetError("DEVNET_BAD_FAULT", `fault kind must be one of ${FAULT_KINDS.join(", ")}`);
    const kind = f.kind as FaultKind;
    if ((kind === "latency" || kind === "clock-offset") && (typeof f.ms !== "number" || !Number.isFinite(f.ms)))
      throw new DevnetError("DEVNET_BAD_FAULT", `fault ${kind} needs a numeric ms`);
    if (kind === "latency" && (f.ms ?? 0) < 0) throw new DevnetError("DEVNET_BAD_FAULT", "latency ms must be >= 0");
    if (f.count !== undefined && (!Number.isInteger(f.count) || f.count < 1))
      throw new DevnetError("DEVNET_BAD_FAULT", "count must be a positive integer");
    const remaining = kind === "clock-offset" ? undefined : (f.count ?? (kind === "421-once" ? 1 : undefined));
    const list = this.byTarget.get(key) ?? [];
    // A new clock offset replaces the previous one rather than adding to it.
    const kept = kind === "clock-offset" ? list.filter((e) => e.kind !== "clock-offset") : list;
    kept.push({ kind, ms: f.ms ?? 0, remaining });
    this.byTarget.set(key, kept);
  }

  /** Removes every fault (of one target when given). */
  clear(target?: number | string): void {
    if (target === undefined) {
      this.byTarget.clear();
      return;
    }
    const key = this.resolve(target);
    if (key === undefined) throw new DevnetError("DEVNET_UNKNOWN_TARGET", `unknown fault target ${String(target)}`);
    this.byTarget.delete(key);
  }

  /** The faults in force. */
  list(): ActiveFault[] {
    const out: ActiveFault[] = [];
    for (const [target, entries] of this.byTarget)
      for (const e of entries)
        out.push({
          target,
          kind: e.kind,
          ...(e.kind === "latency" || e.kind === "clock-offset" ? { ms: e.ms } : {}),
          ...(e.remaining !== undefined ? { remaining: e.remaining } : {}),
        });
    return out;
  }

  /** The clock offset of a target (ms), without consuming anything. */
  clockOffset(key: string): number {
    return this.byTarget.get(key)?.find((e) => e.kind === "clock-offset")?.ms ?? 0;
  }

  /**
   * @internal Consumes one `421-once` of `key`, if any: called when a request that names a pubkey
   * reaches the swarm check, so that requests without one (info, get_swarm) don't use it up.
   */
  takeMisdirect(key: string): boolean {
    const entries = this.byTarget.get(key);
    const e = entries?.find((x) => x.kind === "421-once");
    if (!entries || !e) return false;
    if (e.remaining !== undefined) e.remaining -= 1;
    const left = entries.filter((x) => x.remaining === undefined || x.remaining > 0);
    if (left.length > 0) this.byTarget.set(key, left);
    else this.byTarget.delete(key);
    return true;
  }

  /** @internal Consumes the faults (other than `421-once`) that apply to one incoming request of `key`. */
  take(key: string): FaultPlan {
    const entries = this.byTarget.get(key);
    const plan = { delayMs: 0, drop: false, status: undefined as 500 | 429 | undefined, clockOffsetMs: 0 };
    if (!entries || entries.length === 0) return plan;
    for (const e of entries) {
      switch (e.kind) {
        case "clock-offset":
          plan.clockOffsetMs = e.ms;
          continue;
        case "latency":
          plan.delayMs += e.ms;
          break;
        case "drop":
          plan.drop = true;
          break;
        case "500":
        case "429":
          if (plan.status !== undefined) continue; // only the first status fault fires (and is used up)
          plan.status = e.kind === "500" ? 500 : 429;
          break;
        case "421-once":
          continue; // consumed by takeMisdirect(), only by requests that name a pubkey
      }
      if (e.remaining !== undefined) e.remaining -= 1;
    }
    const left = entries.filter((e) => e.remaining === undefined || e.remaining > 0);
    if (left.length > 0) this.byTarget.set(key, left);
    else this.byTarget.delete(key);
    return plan;
  }
}
