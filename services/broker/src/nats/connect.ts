// Connects to NATS with the configured servers and credentials, reconnecting forever.
import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { BrokerConfig } from "../config.js";
import { BrokerError } from "../errors.js";

/** Opens the broker's NATS connection and logs its status changes. */
export async function connectNats(cfg: BrokerConfig["nats"], log: Logger): Promise<NatsConnection> {
  const auth = cfg.auth;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...cfg.servers],
      name: cfg.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      // Without this, nats.js creates two Errors (stack traces) per request/publish so that a
      // timeout can point at its caller: measurable CPU on a hot path. Errors keep their messages
      // and codes (timeout, no responders, ...); only the caller's frames are missing.
      noAsyncTraces: true,
      ...(auth.kind === "creds" ? { authenticator: credsAuthenticator(new Uint8Array(readFileSync(auth.file))) } : {}),
      ...(auth.kind === "userpass" ? { user: auth.user, pass: auth.password.reveal() } : {}),
      ...(auth.kind === "token" ? { token: auth.token.reveal() } : {}),
    });
  } catch (err) {
    throw new BrokerError("BROKER_NATS_SETUP", `cannot connect to NATS at ${cfg.servers.join(",")}`, { cause: err, transient: true });
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") log.warn({ status: s.type }, "nats connection status");
    }
  })();
  return nc;
}
