export { repoRoot, toolPaths } from "./paths.js";
export { kustomizeBuild, parseYamlStream, validateWithSchemas, type K8sObject, type SchemaReport } from "./k8s.js";
export {
  checkAll,
  checkDisruptionBudgets,
  checkImageTags,
  checkNoSecretData,
  checkProbes,
  checkResources,
  checkSecurityContext,
  podTemplates,
  type PodTemplate,
  type Violation,
} from "./policy.js";
export { describeRule, egressFor, reachesInternet, type EgressRule, type Peer } from "./network-policy.js";
export { SCALED_OBJECT_SCHEMA, validateScaledObject } from "./keda.js";
export { composeConfig, type ComposeConfig, type ComposeService } from "./compose.js";
export { effectiveInstructions, parseDockerfile, type Stage } from "./dockerfile.js";
