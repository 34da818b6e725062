// JSON schema of the KEDA ScaledObject fields this deployment uses (keda.sh/v1alpha1, from the
// KEDA CRD), strict: the official Kubernetes schemas do not cover CRDs.
import { Ajv } from "ajv";

const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

/** Schema of a `keda.sh/v1alpha1` ScaledObject (subset, no unknown fields). */
export const SCALED_OBJECT_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  additionalProperties: false,
  properties: {
    apiVersion: { const: "keda.sh/v1alpha1" },
    kind: { const: "ScaledObject" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string", minLength: 1 }, namespace: { type: "string" }, labels: stringMap, annotations: stringMap },
      additionalProperties: false,
    },
    spec: {
      type: "object",
      required: ["scaleTargetRef", "triggers"],
      additionalProperties: false,
      properties: {
        scaleTargetRef: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: { apiVersion: { type: "string" }, kind: { type: "string" }, name: { type: "string" }, envSourceContainerName: { type: "string" } },
        },
        pollingInterval: { type: "integer", minimum: 1 },
        cooldownPeriod: { type: "integer", minimum: 0 },
        idleReplicaCount: { type: "integer", minimum: 0 },
        minReplicaCount: { type: "integer", minimum: 0 },
        maxReplicaCount: { type: "integer", minimum: 1 },
        advanced: {
          type: "object",
          additionalProperties: false,
          properties: {
            restoreToOriginalReplicaCount: { type: "boolean" },
            horizontalPodAutoscalerConfig: {
              type: "object",
              additionalProperties: false,
              properties: { name: { type: "string" }, behavior: { type: "object" } },
            },
          },
        },
        triggers: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            required: ["type", "metadata"],
            additionalProperties: false,
            properties: {
              type: { type: "string", minLength: 1 },
              name: { type: "string" },
              metadata: stringMap,
              metricType: { enum: ["AverageValue", "Value", "Utilization"] },
              useCachedMetrics: { type: "boolean" },
              authenticationRef: { type: "object" },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(SCALED_OBJECT_SCHEMA);

/** Schema errors of a ScaledObject (empty when valid), plus the nats-jetstream trigger's required metadata. */
export function validateScaledObject(obj: unknown): string[] {
  const errors: string[] = [];
  if (!validate(obj)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`));
  const triggers = (obj as { spec?: { triggers?: { type?: string; metadata?: Record<string, string> }[] } }).spec?.triggers ?? [];
  for (const [i, t] of triggers.entries()) {
    if (t.type !== "nats-jetstream") continue;
    for (const key of ["natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"]) {
      if (!t.metadata?.[key]) errors.push(`/spec/triggers/${i}/metadata missing ${key}`);
    }
  }
  return errors;
}
