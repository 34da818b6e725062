/**
 * Registers the worker with the NATS services API (`$SRV.PING|INFO|STATS.sb-plugin-host`), metadata
 * `bot` and `instance`; the `stats` endpoint's stats data is protocol's WorkerStats (in-flight count
 * and per-plugin handled / errors / average latency).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm, type Service } from "@nats-io/services";
import { PLUGIN_HOST_ENDPOINTS, PLUGIN_HOST_SERVICE, parseWorkerStats, pluginHostQueueGroup, pluginHostSubject, type WorkerStats } from "@session-bot/protocol";

export async function registerService(
  nc: NatsConnection,
  opts: { bot: string; instance: string; version: string; plugins: readonly string[] },
  stats: () => WorkerStats,
): Promise<Service> {
  // @nats-io/services 3.0.0-25 pins an older @nats-io/nats-core: the connection is the same at run
  // time, only the declared types differ.
  const svc = await new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]).add({
    name: PLUGIN_HOST_SERVICE,
    version: opts.version,
    description: "session_bot plugin worker",
    metadata: { bot: opts.bot, instance: opts.instance, plugins: opts.plugins.join(",") },
    queue: pluginHostQueueGroup(opts.bot),
    statsHandler: () => Promise.resolve(parseWorkerStats(stats())),
  });
  // `sb.plugin-host.<bot>.stats` (queue group: one worker answers): protocol's WorkerStats.
  svc.addEndpoint(PLUGIN_HOST_ENDPOINTS.stats, {
    subject: pluginHostSubject(opts.bot, PLUGIN_HOST_ENDPOINTS.stats),
    handler: (err, msg) => {
      if (err) return;
      msg.respond(JSON.stringify(stats()));
    },
  });
  return svc;
}
