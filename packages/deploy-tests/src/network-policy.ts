// A small NetworkPolicy evaluator: which egress a pod (by its labels) is allowed, following the
// Kubernetes semantics (policies are additive; a pod selected by an Egress policy may only send
// what one of the selecting policies allows).
import type { K8sObject } from "./k8s.js";

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
/** One `to` peer of an egress rule. */
export interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
/** One egress rule: peers (empty = anywhere) and ports (empty = all). */
export interface EgressRule {
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string }[];
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  egress?: EgressRule[];
}

function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  if (sel.matchExpressions && sel.matchExpressions.length > 0) throw new Error("matchExpressions are not evaluated by this checker");
  return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * Egress allowed to a pod with `labels`: `isolated` false means no Egress policy selects it (all
 * egress allowed); otherwise `rules` is the union of the selecting policies' egress rules.
 */
export function egressFor(objects: readonly K8sObject[], labels: Record<string, string>): { isolated: boolean; rules: EgressRule[] } {
  let isolated = false;
  const rules: EgressRule[] = [];
  for (const o of objects) {
    if (o.kind !== "NetworkPolicy") continue;
    const spec = o.spec as unknown as NetworkPolicySpec;
    if (!selects(spec.podSelector, labels)) continue;
    const types = spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
    if (!types.includes("Egress")) continue;
    isolated = true;
    rules.push(...(spec.egress ?? []));
  }
  return { isolated, rules };
}

/** A readable form of one allowed destination, e.g. `pod app.kubernetes.io/name=sb-nats :4222/TCP`. */
export function describeRule(rule: EgressRule): string[] {
  const ports = (rule.ports ?? []).map((p) => `${p.port ?? "*"}/${p.protocol ?? "TCP"}`).join(",") || "all ports";
  const peers = rule.to && rule.to.length > 0 ? rule.to : [{} as Peer];
  return peers.map((p) => {
    const parts: string[] = [];
    if (p.ipBlock) parts.push(`ip ${p.ipBlock.cidr}${p.ipBlock.except ? ` except ${p.ipBlock.except.join(",")}` : ""}`);
    if (p.namespaceSelector) parts.push(`ns ${fmt(p.namespaceSelector)}`);
    if (p.podSelector) parts.push(`pod ${fmt(p.podSelector)}`);
    if (parts.length === 0) parts.push("anywhere");
    return `${parts.join(" ")} ${ports}`;
  });
}

function fmt(sel: LabelSelector): string {
  const entries = Object.entries(sel.matchLabels ?? {});
  return entries.length === 0 ? "{}" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** True when a rule lets traffic leave the cluster (an ipBlock, or a rule without peers). */
export function reachesInternet(rule: EgressRule): boolean {
  if (!rule.to || rule.to.length === 0) return true;
  return rule.to.some((p) => p.ipBlock !== undefined);
}
