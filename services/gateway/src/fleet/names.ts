/**
 * NATS names the gateway uses.
 *
 * TODO(protocol): replace with the name builders of `@session-bot/protocol` as soon as it exports
 * them (subjects, streams, KV buckets, service names); these follow docs/decisions.md and
 * architecture.md to the letter meanwhile.
 */
import { BOT_NAME_PATTERN } from "../config.js";

const BOT = new RegExp(BOT_NAME_PATTERN);
const ENDPOINT = /^[a-z][a-z-]*(\.[a-z][a-z-]*)?$/;

/** Endpoints the broker serves under `sb.broker.<bot>.<endpoint>`. */
export type BrokerEndpoint =
  | "info"
  | "conversations"
  | "messages"
  | "send"
  | "block"
  | "unblock"
  | "profile"
  | "dead-letters.list"
  | "dead-letters.retry";

export const BROKER_SERVICE = "sb-broker";
export const PLUGIN_HOST_SERVICE = "sb-plugin-host";
export const PLUGINS_BUCKET = "sb_plugins";
export const MANIFESTS_BUCKET = "sb_plugin_manifests";
export const STREAMS = ["SB_INBOUND", "SB_OUTBOUND", "SB_DEAD"] as const;

/** `sb.broker.<bot>.<endpoint>`; throws on a token that would change the subject's shape. */
export function brokerSubject(bot: string, endpoint: BrokerEndpoint): string {
  if (!BOT.test(bot)) throw new TypeError(`invalid bot name`);
  if (!ENDPOINT.test(endpoint)) throw new TypeError(`invalid broker endpoint`);
  return `sb.broker.${bot}.${endpoint}`;
}

/** `$SRV.<verb>.<service>`: the services-API discovery subjects. */
export function serviceDiscoverySubject(verb: "PING" | "INFO" | "STATS", service: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(service)) throw new TypeError(`invalid service name`);
  return `$SRV.${verb}.${service}`;
}
