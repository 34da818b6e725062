/**
 * Which plugins already succeeded on an event that is being retried, so a retry caused by one
 * failing plugin re-runs only the plugins that failed. Markers live in each plugin's own state
 * bucket under the host-reserved key `_done.<hash of the event id>` (hidden from the plugin's
 * `store.keys()`), are written only when an event fails, and are removed when it finally succeeds
 * or is dead-lettered. A worker crash writes no marker: every plugin then runs again, and the
 * idempotent action ids keep their replies from being duplicated.
 */
import { createHash } from "node:crypto";
import type { KV } from "@nats-io/kv";

/** The marker key of an event. */
export function doneKey(eventId: string): string {
  return `_done.${createHash("sha256").update(eventId).digest("hex").slice(0, 32)}`;
}

/** Reads and writes progress markers. Failures are reported to `onError` and never thrown. */
export class ProgressMarkers {
  constructor(
    private readonly bucketOf: (plugin: string) => KV | undefined,
    private readonly onError: (err: unknown, op: string) => void,
  ) {}

  /** The plugins (among `plugins`) marked done for `eventId`. */
  async done(eventId: string, plugins: readonly string[]): Promise<Set<string>> {
    const key = doneKey(eventId);
    const found = new Set<string>();
    await Promise.all(
      plugins.map(async (p) => {
        try {
          const e = await this.bucketOf(p)?.get(key);
          if (e && e.operation === "PUT") found.add(p);
        } catch (err) {
          this.onError(err, "read");
        }
      }),
    );
    return found;
  }

  /** Marks `plugins` done for `eventId`. */
  async mark(eventId: string, plugins: readonly string[]): Promise<void> {
    const key = doneKey(eventId);
    const at = new TextEncoder().encode(String(Date.now()));
    await Promise.all(
      plugins.map(async (p) => {
        try {
          await this.bucketOf(p)?.put(key, at);
        } catch (err) {
          this.onError(err, "mark");
        }
      }),
    );
  }

  /** Removes the markers of `eventId` from `plugins`. */
  async clear(eventId: string, plugins: readonly string[]): Promise<void> {
    const key = doneKey(eventId);
    await Promise.all(
      plugins.map(async (p) => {
        try {
          await this.bucketOf(p)?.purge(key);
        } catch (err) {
          this.onError(err, "clear");
        }
      }),
    );
  }
}
