// The Kubernetes NATS configuration (k8s/base/nats/nats.conf + auth.conf, unchanged) forms a
// 3-node JetStream cluster: three nats:2.12 containers whose DNS names are those of the
// StatefulSet's pods behind the headless Service. A stream with 3 replicas keeps accepting
// writes with one node down (what the PodDisruptionBudget allows), and the compose config is valid.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/index.js";

const root = repoRoot();
const id = randomBytes(4).toString("hex");
const network = `sb-nats-test-${id}`;
const names = [0, 1, 2].map((i) => `sb-nats-test-${id}-${i}`);
const PASSWORD = "cluster-test-password";
const docker = (args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
let nc: NatsConnection;

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out: ${what}${last ? ` (${last.message})` : ""}`);
}

beforeAll(async () => {
  docker(["network", "create", network]);
  for (const [i, name] of names.entries()) {
    docker([
      "run", "-d", "--name", name, "--network", network,
      "--network-alias", `sb-nats-${i}.sb-nats-headless`,
      "-e", `POD_NAME=sb-nats-${i}`,
      "-e", `NATS_BROKER_PASSWORD=${PASSWORD}`, "-e", "NATS_PLUGIN_HOST_PASSWORD=x", "-e", "NATS_GATEWAY_PASSWORD=y",
      "-v", `${join(root, "k8s", "base", "nats")}:/etc/nats:ro`,
      "--tmpfs", "/data", "--tmpfs", "/var/run/nats",
      "-p", "127.0.0.1::4222",
      "nats:2.12", "--config", "/etc/nats/nats.conf",
    ]);
  }
  const port = docker(["port", names[0]!, "4222/tcp"]).split("\n")[0]!.split(":").pop()!;
  nc = await until("node 0 accepts the broker", 30_000, () => connect({ servers: `nats://127.0.0.1:${port}`, user: "broker", pass: PASSWORD, reconnect: false }));
}, 120_000);

afterAll(async () => {
  // containers first: a hanging close must not leave them running
  for (const n of names) {
    try {
      docker(["rm", "-f", n]);
    } catch {
      /* already gone */
    }
  }
  try {
    docker(["network", "rm", network]);
  } catch {
    /* already gone */
  }
  await Promise.race([nc?.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
});

describe("k8s NATS configuration", () => {
  it("forms a 3-node JetStream cluster and replicates a stream 3 times", async () => {
    const jsm = await until("JetStream meta leader elected", 60_000, async () => jetstreamManager(nc));
    const info = await until("replicated stream created", 60_000, async () =>
      jsm.streams.add({ name: "SB_INBOUND", subjects: ["sb.in.>"], num_replicas: 3 }),
    );
    expect(info.cluster?.name).toBe("sb-nats");
    const full = await until("3 current replicas", 60_000, async () => {
      const i = await jsm.streams.info("SB_INBOUND");
      return (i.cluster?.replicas ?? []).filter((r) => r.current).length === 2 ? i : undefined;
    });
    expect([full.cluster!.leader, ...full.cluster!.replicas!.map((r) => r.name)].sort()).toEqual(["sb-nats-0", "sb-nats-1", "sb-nats-2"]);
  });

  it("keeps accepting writes with one node down (the PDB's maxUnavailable: 1)", async () => {
    docker(["kill", names[2]!]);
    const js = jetstream(nc);
    const ack = await until("publish with 2 of 3 nodes", 60_000, async () => js.publish("sb.in.bot.0.message", new TextEncoder().encode("x"), { timeout: 5000 }));
    expect(ack.stream).toBe("SB_INBOUND");
  });
});
