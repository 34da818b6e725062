/**
 * Runs plugins' periodic tasks on exactly one worker at a time. Every worker ticks; on each tick
 * it tries to take (or renew) a lease stored in the plugin's own KV bucket under `_lease.<task>`
 * with a compare-and-set on the KV revision, so only the holder runs the task. A worker that dies
 * stops renewing, its lease expires, and another worker takes over. Sends made by tasks carry
 * idempotency keys, so the overlap of a failover never produces a duplicate message.
 */
import type { KV } from "@nats-io/kv";
import { runTask, type RuntimeDeps } from "@session-bot/plugin-sdk/runtime";
import type { AnyPlugin } from "@session-bot/plugin-sdk";
import type { Logger } from "pino";

/** Lease value stored in KV. */
interface Lease {
  owner: string;
  until: number;
}

/** Tries to take or renew the lease; true when this instance holds it afterwards. */
export async function acquireLease(kv: KV, key: string, owner: string, ttlMs: number, now = Date.now()): Promise<boolean> {
  const value = new TextEncoder().encode(JSON.stringify({ owner, until: now + ttlMs } satisfies Lease));
  try {
    const e = await kv.get(key);
    if (!e || e.operation !== "PUT") {
      await kv.create(key, value);
      return true;
    }
    let lease: Lease | undefined;
    try {
      lease = e.json<Lease>();
    } catch {
      lease = undefined;
    }
    if (lease && lease.owner !== owner && lease.until > now) return false;
    await kv.update(key, value, e.revision);
    return true;
  } catch {
    // Lost a compare-and-set race (or KV unavailable): not the holder this tick.
    return false;
  }
}

/** Releases the lease if this instance holds it (on shutdown, so another worker takes over at once). */
export async function releaseLease(kv: KV, key: string, owner: string): Promise<void> {
  try {
    const e = await kv.get(key);
    if (e && e.operation === "PUT" && e.json<Lease>().owner === owner) await kv.delete(key, { previousSeq: e.revision });
  } catch {
    // best effort
  }
}

export interface SchedulerDeps {
  readonly instance: string;
  /** Enabled plugins with their config (read at every tick: live configuration applies). */
  runnable(): Array<{ plugin: AnyPlugin; config: Record<string, unknown> }>;
  bucketOf(plugin: AnyPlugin): KV;
  runtimeFor(plugin: AnyPlugin): RuntimeDeps;
  readonly handlerTimeoutMs: number;
  readonly log: Logger;
  onRun?(plugin: string, task: string, outcome: "ok" | "error" | "timeout", ms: number): void;
}

/** Ticks every task of every loaded plugin that has tasks. */
export class TaskScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly held = new Set<string>();
  private readonly controller = new AbortController();
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Starts ticking the tasks of `plugins` (all loaded ones; disabled ones are skipped per tick). */
  start(plugins: readonly AnyPlugin[]): void {
    for (const plugin of plugins) {
      for (const [name, task] of Object.entries(plugin.tasks ?? {})) {
        let busy = false;
        const timer = setInterval(() => {
          if (busy || this.stopped) return;
          busy = true;
          const p = this.tick(plugin, name, task.everyMs).finally(() => {
            busy = false;
            this.running.delete(p);
          });
          this.running.add(p);
        }, task.everyMs);
        timer.unref();
        this.timers.push(timer);
      }
    }
  }

  private async tick(plugin: AnyPlugin, task: string, everyMs: number): Promise<void> {
    const state = this.deps.runnable().find((r) => r.plugin.name === plugin.name);
    if (!state) return;
    const kv = this.deps.bucketOf(plugin);
    const key = `_lease.${task}`;
    const ttl = Math.max(3 * everyMs, 5_000);
    if (!(await acquireLease(kv, key, this.deps.instance, ttl))) {
      this.held.delete(`${plugin.name}/${task}`);
      return;
    }
    this.held.add(`${plugin.name}/${task}`);
    const started = performance.now();
    try {
      await runTask(plugin, task, String(Math.floor(Date.now() / everyMs)), this.deps.runtimeFor(plugin), {
        config: state.config,
        timeoutMs: Math.min(this.deps.handlerTimeoutMs, ttl),
        signal: this.controller.signal,
      });
      this.deps.onRun?.(plugin.name, task, "ok", performance.now() - started);
    } catch (err) {
      const timeout = (err as { code?: string }).code === "PLUGIN_TIMEOUT";
      this.deps.onRun?.(plugin.name, task, timeout ? "timeout" : "error", performance.now() - started);
      this.deps.log.warn({ err, plugin: plugin.name, task }, "plugin task failed");
    }
  }

  /** Stops ticking, waits for running ticks (up to `graceMs`, then aborts them), releases held leases. */
  async stop(plugins: readonly AnyPlugin[], graceMs: number): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    const all = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.controller.abort(new Error("plugin-host stopping"));
    await all;
    for (const plugin of plugins) {
      for (const task of Object.keys(plugin.tasks ?? {})) {
        if (this.held.has(`${plugin.name}/${task}`)) await releaseLease(this.deps.bucketOf(plugin), `_lease.${task}`, this.deps.instance);
      }
    }
  }
}
