import { describe, expect, it } from "vitest";
import type { K8sObject } from "./k8s.js";
import { describeRule, egressFor, reachesInternet } from "./network-policy.js";

const np = (name: string, spec: Record<string, unknown>): K8sObject => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name }, spec });

describe("egressFor", () => {
  const objects = [
    np("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    np("nats", {
      podSelector: { matchLabels: { nats: "yes" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { app: "nats" } } }], ports: [{ protocol: "TCP", port: 4222 }] }],
    }),
    np("web", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] }),
    np("ingress-only", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], egress: [{}] }),
  ];

  it("unions the egress of every Egress policy selecting the pod", () => {
    const r = egressFor(objects, { nats: "yes", app: "web" });
    expect(r.isolated).toBe(true);
    expect(r.rules.flatMap(describeRule)).toEqual(["pod app=nats 4222/TCP", "ip 0.0.0.0/0 all ports"]);
    expect(r.rules.some(reachesInternet)).toBe(true);
  });

  it("a pod only under default-deny gets nothing", () => {
    expect(egressFor(objects, { app: "other" })).toEqual({ isolated: true, rules: [] });
  });

  it("without any Egress policy a pod is not isolated", () => {
    expect(egressFor([objects[3]!], { app: "web" }).isolated).toBe(false);
  });

  it("a rule without peers reaches anywhere", () => {
    expect(reachesInternet({ ports: [{ port: 53 }] })).toBe(true);
  });
});
