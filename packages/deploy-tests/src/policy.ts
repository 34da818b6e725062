// Policy checks of rendered Kubernetes objects. Each returns the violations it finds (empty = ok),
// so a test can assert both that the real manifests pass and that a bad object is caught.
import type { K8sObject } from "./k8s.js";

/** One broken rule: which object/container and why. */
export interface Violation {
  readonly rule: string;
  readonly where: string;
  readonly message: string;
}

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}

interface PodSpec {
  containers?: Container[];
  initContainers?: (Container & { restartPolicy?: string })[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

/** A workload's pod template with where it came from. */
export interface PodTemplate {
  readonly owner: K8sObject;
  readonly spec: PodSpec;
  readonly labels: Record<string, string>;
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

/** Pod templates of every workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    let tpl: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined;
    if (WORKLOADS.has(o.kind)) tpl = (o.spec as { template?: typeof tpl } | undefined)?.template;
    else if (o.kind === "CronJob") tpl = (o.spec as { jobTemplate?: { spec?: { template?: typeof tpl } } }).jobTemplate?.spec?.template;
    else if (o.kind === "Pod") tpl = { metadata: o.metadata, spec: o.spec as PodSpec };
    if (tpl?.spec) out.push({ owner: o, spec: tpl.spec, labels: tpl.metadata?.labels ?? {} });
  }
  return out;
}

function where(t: PodTemplate, c: Container): string {
  return `${t.owner.kind}/${t.owner.metadata.name} container ${c.name}`;
}

/** Every image has an explicit tag (or digest) that is not `latest`. */
export function checkImageTags(objects: readonly K8sObject[]): Violation[] {
  const v: Violation[] = [];
  for (const t of podTemplates(objects)) {
    for (const c of [...(t.spec.initContainers ?? []), ...(t.spec.containers ?? [])]) {
      const image = c.image ?? "";
      if (image.includes("@sha256:")) continue;
      const lastPart = image.split("/").pop() ?? "";
      const tag = lastPart.includes(":") ? lastPart.split(":").pop() : undefined;
      if (!tag) v.push({ rule: "image-tag", where: where(t, c), message: `image "${image}" has no tag` });
      else if (tag === "latest") v.push({ rule: "image-tag", where: where(t, c), message: `image "${image}" uses :latest` });
    }
  }
  return v;
}

/** Every container requests and limits cpu and memory. */
export function checkResources(objects: readonly K8sObject[]): Violation[] {
  const v: Violation[] = [];
  for (const t of podTemplates(objects)) {
    for (const c of [...(t.spec.initContainers ?? []), ...(t.spec.containers ?? [])]) {
      for (const kind of ["requests", "limits"] as const) {
        for (const res of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[res] === undefined) {
            v.push({ rule: "resources", where: where(t, c), message: `no ${kind}.${res}` });
          }
        }
      }
    }
  }
  return v;
}

/** Every long-running container has a liveness and a readiness probe. */
export function checkProbes(objects: readonly K8sObject[]): Violation[] {
  const v: Violation[] = [];
  for (const t of podTemplates(objects)) {
    if (t.owner.kind === "Job" || t.owner.kind === "CronJob") continue;
    for (const c of t.spec.containers ?? []) {
      if (!c.livenessProbe) v.push({ rule: "probes", where: where(t, c), message: "no livenessProbe" });
      if (!c.readinessProbe) v.push({ rule: "probes", where: where(t, c), message: "no readinessProbe" });
    }
  }
  return v;
}

/**
 * Every container runs as non-root (runAsNonRoot true and a non-zero uid, pod or container level),
 * cannot escalate privileges, drops all capabilities, and has a read-only root filesystem unless
 * `writableRootAllowed` names it (`<Kind>/<name>/<container>`).
 */
export function checkSecurityContext(objects: readonly K8sObject[], writableRootAllowed: readonly string[] = []): Violation[] {
  const v: Violation[] = [];
  for (const t of podTemplates(objects)) {
    const pod = t.spec.securityContext ?? {};
    for (const c of [...(t.spec.initContainers ?? []), ...(t.spec.containers ?? [])]) {
      const sc = c.securityContext ?? {};
      const w = where(t, c);
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) v.push({ rule: "runAsNonRoot", where: w, message: "runAsNonRoot is not true" });
      const uid = sc.runAsUser ?? pod.runAsUser;
      if (uid === 0) v.push({ rule: "runAsNonRoot", where: w, message: "runs as uid 0" });
      if (sc.allowPrivilegeEscalation !== false) v.push({ rule: "allowPrivilegeEscalation", where: w, message: "allowPrivilegeEscalation is not false" });
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) v.push({ rule: "capabilities", where: w, message: "capabilities do not drop ALL" });
      const id = `${t.owner.kind}/${t.owner.metadata.name}/${c.name}`;
      if (sc.readOnlyRootFilesystem !== true && !writableRootAllowed.includes(id)) {
        v.push({ rule: "readOnlyRootFilesystem", where: w, message: "readOnlyRootFilesystem is not true" });
      }
    }
  }
  return v;
}

/** No Secret carries data in the manifests: secrets are created out of band. */
export function checkNoSecretData(objects: readonly K8sObject[]): Violation[] {
  return objects
    .filter((o) => o.kind === "Secret" && (Object.keys(o.data ?? {}).length > 0 || Object.keys(o.stringData ?? {}).length > 0))
    .map((o) => ({ rule: "no-secret-data", where: `Secret/${o.metadata.name}`, message: "a Secret with data is committed in the manifests" }));
}

/** Every workload is selected by a PodDisruptionBudget, except the kinds/names in `exempt`. */
export function checkDisruptionBudgets(objects: readonly K8sObject[], exempt: readonly string[] = []): Violation[] {
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
  const v: Violation[] = [];
  for (const t of podTemplates(objects)) {
    const id = `${t.owner.kind}/${t.owner.metadata.name}`;
    if (exempt.includes(id)) continue;
    const covered = pdbs.some((p) => {
      const sel = (p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
      return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, val]) => t.labels[k] === val);
    });
    if (!covered) v.push({ rule: "pdb", where: id, message: "no PodDisruptionBudget selects its pods" });
  }
  return v;
}

/** All the above with this repository's exceptions. */
export function checkAll(objects: readonly K8sObject[]): Violation[] {
  return [
    ...checkImageTags(objects),
    ...checkResources(objects),
    ...checkProbes(objects),
    ...checkSecurityContext(objects),
    ...checkNoSecretData(objects),
    // one replica by design: a PDB would only block node drains (docs/deploy.md)
    ...checkDisruptionBudgets(objects, ["StatefulSet/sb-broker"]),
  ];
}
