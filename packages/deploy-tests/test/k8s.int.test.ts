// Renders every overlay with kustomize and checks the result: official Kubernetes schemas (strict),
// the KEDA ScaledObject schema, and this deployment's policies.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkAll,
  describeRule,
  egressFor,
  kustomizeBuild,
  podTemplates,
  reachesInternet,
  repoRoot,
  validateScaledObject,
  validateWithSchemas,
  type K8sObject,
} from "../src/index.js";

const root = repoRoot();
// The oldest Kubernetes minor the manifests must work on, and the newest the package knows.
const KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"];
const overlays = ["dev", "prod"] as const;
const rendered = Object.fromEntries(overlays.map((o) => [o, kustomizeBuild(join(root, "k8s", "overlays", o))])) as Record<
  (typeof overlays)[number],
  K8sObject[]
>;
const find = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podLabels = (objs: K8sObject[], kind: string, name: string) => podTemplates(objs).find((t) => t.owner.kind === kind && t.owner.metadata.name === name)!.labels;

describe.each(overlays)("overlay %s", (overlay) => {
  const objects = rendered[overlay];

  it("renders the whole stack", () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const expected of [
      "StatefulSet/sb-nats",
      "PodDisruptionBudget/sb-nats",
      "StatefulSet/sb-broker",
      "Deployment/sb-plugin-host",
      "PodDisruptionBudget/sb-plugin-host",
      "Deployment/sb-gateway",
      "Service/sb-gateway",
      "Ingress/sb-gateway",
      "NetworkPolicy/default-deny",
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(KUBERNETES_VERSIONS)("validates against the Kubernetes %s schemas (strict)", (version) => {
    const report = validateWithSchemas(objects, version);
    expect(report.errors).toEqual([]);
    const crds = objects.filter((o) => !o.apiVersion.includes("k8s.io") && o.apiVersion.includes("."));
    expect(report.passed).toBe(objects.length - crds.length);
    expect(report.unknownKinds.sort()).toEqual(crds.map((o) => o.kind).sort());
  });

  it("custom resources validate against their schemas", () => {
    for (const o of objects.filter((x) => x.kind === "ScaledObject")) expect(validateScaledObject(o)).toEqual([]);
    expect(objects.filter((o) => !["v1", "apps/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1", "keda.sh/v1alpha1"].includes(o.apiVersion))).toEqual([]);
  });

  it("passes the policies: pinned images, resources, probes, non-root, read-only root, PDBs, no secret data", () => {
    expect(checkAll(objects)).toEqual([]);
  });

  it("every object is namespaced into the overlay's namespace", () => {
    const ns = find(objects, "Namespace", overlay === "dev" ? "session-bot-dev" : "session-bot");
    expect(ns).toBeDefined();
    for (const o of objects.filter((x) => x.kind !== "Namespace")) expect(o.metadata.namespace).toBe(ns!.metadata.name);
  });

  it("the broker is a one-replica StatefulSet with a volume claim", () => {
    const sts = find(objects, "StatefulSet", "sb-broker")!;
    const spec = sts.spec as { replicas: number; volumeClaimTemplates: { metadata: { name: string } }[] };
    expect(spec.replicas).toBe(1);
    expect(spec.volumeClaimTemplates.map((v) => v.metadata.name)).toEqual(["data"]);
  });

  it("NATS is a 3-node cluster whose PDB keeps the JetStream quorum", () => {
    expect((find(objects, "StatefulSet", "sb-nats")!.spec as { replicas: number }).replicas).toBe(3);
    expect((find(objects, "PodDisruptionBudget", "sb-nats")!.spec as { maxUnavailable: number }).maxUnavailable).toBe(1);
    const conf = Object.entries(objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("sb-nats-config"))!.data!);
    const natsConf = conf.find(([k]) => k === "nats.conf")![1];
    expect(natsConf).toMatch(/routes: \[\s*nats:\/\/sb-nats-0\.sb-nats-headless:6222\s*nats:\/\/sb-nats-1\.sb-nats-headless:6222\s*nats:\/\/sb-nats-2\.sb-nats-headless:6222/);
    // the cluster is served the very permission file that deploy-tests loads into nats-server
    expect(conf.find(([k]) => k === "auth.conf")![1]).toBe(readFileSync(join(root, "deploy", "nats", "auth.conf"), "utf8"));
  });

  it("plugin-host reaches only NATS (and DNS)", () => {
    const { isolated, rules } = egressFor(objects, podLabels(objects, "Deployment", "sb-plugin-host"));
    expect(isolated).toBe(true);
    expect(rules.flatMap(describeRule).sort()).toEqual([
      "ns kubernetes.io/metadata.name=kube-system pod k8s-app=kube-dns 53/UDP,53/TCP",
      "pod app.kubernetes.io/name=sb-nats 4222/TCP",
    ]);
  });

  it("only the broker may reach the internet", () => {
    for (const t of podTemplates(objects)) {
      const { isolated, rules } = egressFor(objects, t.labels);
      expect(isolated, `${t.owner.metadata.name} has no egress policy`).toBe(true);
      const internet = rules.some(reachesInternet);
      const isBroker = t.owner.metadata.name === "sb-broker";
      // dev: the broker's only Session network is the devnet sidecar in its own pod
      expect(internet, t.owner.metadata.name).toBe(isBroker && overlay === "prod");
    }
  });

  it("secrets are mounted from Secrets the operator creates, never from the environment in clear", () => {
    for (const t of podTemplates(objects)) {
      for (const c of t.spec.containers ?? []) {
        const env = (c as { env?: { name: string; value?: string }[] }).env ?? [];
        for (const e of env) expect(/PASSWORD$|TOKEN$|TOKENS$|MNEMONIC$/.test(e.name) && e.value !== undefined, `${c.name} ${e.name}`).toBe(false);
      }
    }
  });
});

describe("overlay differences", () => {
  const env = (objs: K8sObject[]) =>
    Object.fromEntries(
      (
        (find(objs, "StatefulSet", "sb-broker")!.spec as { template: { spec: { containers: { name: string; env: { name: string; value?: string }[] }[] } } }).template.spec.containers.find(
          (c) => c.name === "broker",
        )!.env
      ).map((e) => [e.name, e.value]),
    );

  it("dev runs the devnet beside the broker, with a development identity", () => {
    const e = env(rendered.dev);
    expect(e.SESSION_NETWORK).toBe("devnet");
    expect(e.SESSION_SEED_URLS).toBe("http://127.0.0.1:22100/json_rpc");
    expect(e.BROKER_DEV_IDENTITY).toBe("1");
    expect(e.SESSION_MNEMONIC_FILE).toBeUndefined();
    const containers = (find(rendered.dev, "StatefulSet", "sb-broker")!.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers;
    expect(containers.map((c) => c.name)).toEqual(["broker", "devnet"]);
  });

  it("prod points to mainnet with the mnemonic Secret and scales workers with KEDA on consumer lag", () => {
    const e = env(rendered.prod);
    expect(e.SESSION_NETWORK).toBe("mainnet");
    expect(e.SESSION_MNEMONIC_FILE).toBe("/var/run/secrets/session-bot/identity/mnemonic");
    expect(e.BROKER_DEV_IDENTITY).toBeUndefined();
    expect(find(rendered.prod, "HorizontalPodAutoscaler", "sb-plugin-host")).toBeUndefined();
    const so = find(rendered.prod, "ScaledObject", "sb-plugin-host")!;
    const triggers = (so.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers;
    const lag = triggers.filter((t) => t.type === "nats-jetstream");
    // one trigger per partition consumer (SB_PARTITIONS default 16)
    expect(lag.map((t) => t.metadata.consumer)).toEqual(Array.from({ length: 16 }, (_, p) => `sb_host_bot_p${p}`));
    expect(new Set(lag.map((t) => t.metadata.stream))).toEqual(new Set(["SB_INBOUND"]));
    expect(find(rendered.dev, "HorizontalPodAutoscaler", "sb-plugin-host")).toBeDefined();
  });

  it("prod images come from a registry at a release version; dev uses the local dev tag", () => {
    const images = (objs: K8sObject[]) => podTemplates(objs).flatMap((t) => (t.spec.containers ?? []).map((c) => c.image!));
    expect(images(rendered.prod).filter((i) => i.includes("session-bot/"))).toEqual(
      expect.arrayContaining(["registry.example.com/session-bot/broker:0.1.0", "registry.example.com/session-bot/plugin-host:0.1.0"]),
    );
    expect(images(rendered.dev)).toContain("session-bot/devnet:dev");
  });
});

describe("the checks can fail", () => {
  it("a rendered object that breaks the schema is reported by kubernetes-validate", () => {
    const bad = structuredClone(find(rendered.prod, "Deployment", "sb-gateway")!);
    (bad.spec as Record<string, unknown>).replicas = "two";
    (bad.spec as Record<string, unknown>).unknownField = true;
    const report = validateWithSchemas([bad], "1.37.0");
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(/deployment\/sb-gateway/);
  });

  it("a ScaledObject with a typo is refused", () => {
    const so = structuredClone(find(rendered.prod, "ScaledObject", "sb-plugin-host")!);
    (so.spec as Record<string, unknown>).maxReplicas = 3;
    expect(validateScaledObject(so).join()).toMatch(/additional properties/);
  });
});
