import { describe, expect, it } from "vitest";
import type { K8sObject } from "./k8s.js";
import { checkAll, checkDisruptionBudgets, checkImageTags, checkNoSecretData, checkProbes, checkResources, checkSecurityContext } from "./policy.js";

// A compliant Deployment; each test breaks one thing and expects exactly that rule to fire.
function deployment(mutate: (c: Record<string, unknown>, pod: Record<string, unknown>) => void = () => {}): K8sObject {
  const container: Record<string, unknown> = {
    name: "app",
    image: "registry.example.com/app:1.2.3",
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "1", memory: "64Mi" } },
    livenessProbe: { httpGet: { path: "/healthz", port: 80 } },
    readinessProbe: { httpGet: { path: "/readyz", port: 80 } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
  };
  const pod: Record<string, unknown> = { securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [container] };
  mutate(container, pod);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "app" },
    spec: { template: { metadata: { labels: { app: "x" } }, spec: pod } },
  };
}
const pdb: K8sObject = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "app" }, spec: { selector: { matchLabels: { app: "x" } } } };

describe("policy checks", () => {
  it("accept a compliant workload", () => {
    expect(checkAll([deployment(), pdb])).toEqual([]);
  });

  it.each([
    ["no tag", "registry.example.com/app"],
    [":latest", "registry.example.com/app:latest"],
    ["registry port but no tag", "localhost:5000/app"],
  ])("image-tag refuses an image with %s", (_what, image) => {
    const v = checkImageTags([deployment((c) => (c.image = image))]);
    expect(v.map((x) => x.rule)).toEqual(["image-tag"]);
  });

  it("image-tag accepts a digest", () => {
    expect(checkImageTags([deployment((c) => (c.image = "app@sha256:" + "a".repeat(64)))])).toEqual([]);
  });

  it("resources: a missing memory limit is reported", () => {
    const v = checkResources([deployment((c) => (c.resources = { requests: { cpu: "1", memory: "1Mi" }, limits: { cpu: "1" } }))]);
    expect(v).toEqual([expect.objectContaining({ rule: "resources", message: "no limits.memory" })]);
  });

  it("probes: a container without readiness probe is reported", () => {
    const v = checkProbes([deployment((c) => delete c.readinessProbe)]);
    expect(v).toEqual([expect.objectContaining({ rule: "probes", message: "no readinessProbe" })]);
  });

  it("security: root, privilege escalation, capabilities and writable root are each reported", () => {
    expect(checkSecurityContext([deployment((_c, p) => (p.securityContext = {}))]).map((x) => x.rule)).toEqual(["runAsNonRoot"]);
    expect(checkSecurityContext([deployment((_c, p) => (p.securityContext = { runAsNonRoot: true, runAsUser: 0 }))]).map((x) => x.rule)).toEqual([
      "runAsNonRoot",
    ]);
    const sc = (c: Record<string, unknown>) => c.securityContext as Record<string, unknown>;
    expect(checkSecurityContext([deployment((c) => (sc(c).allowPrivilegeEscalation = true))]).map((x) => x.rule)).toEqual(["allowPrivilegeEscalation"]);
    expect(checkSecurityContext([deployment((c) => (sc(c).capabilities = { drop: ["NET_RAW"] }))]).map((x) => x.rule)).toEqual(["capabilities"]);
    expect(checkSecurityContext([deployment((c) => delete sc(c).readOnlyRootFilesystem)]).map((x) => x.rule)).toEqual(["readOnlyRootFilesystem"]);
    expect(checkSecurityContext([deployment((c) => delete sc(c).readOnlyRootFilesystem)], ["Deployment/app/app"])).toEqual([]);
  });

  it("a Secret with data in the manifests is reported", () => {
    const secret: K8sObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { mnemonic: "eA==" } };
    expect(checkNoSecretData([secret]).map((x) => x.rule)).toEqual(["no-secret-data"]);
  });

  it("a workload without a PodDisruptionBudget is reported unless exempt", () => {
    expect(checkDisruptionBudgets([deployment()]).map((x) => x.rule)).toEqual(["pdb"]);
    expect(checkDisruptionBudgets([deployment()], ["Deployment/app"])).toEqual([]);
  });
});
