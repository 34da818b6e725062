import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { toolPaths } from "./paths.js";

/** One rendered Kubernetes object (only the fields the checks read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

/** `kustomize build <dir>`, parsed. Throws with kustomize's message when it fails. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const out = execFileSync(toolPaths().kustomize, ["build", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseYamlStream(out);
}

/** Parses a multi-document YAML stream; throws on the first syntax error. */
export function parseYamlStream(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** Result of validating objects against the official Kubernetes JSON schemas. */
export interface SchemaReport {
  /** Objects that failed, with the validator's message. */
  readonly errors: string[];
  /** `<kind>` of objects the schemas do not know (CRDs: checked separately). */
  readonly unknownKinds: string[];
  /** Number of objects that passed. */
  readonly passed: number;
}

/**
 * Validates objects with kubernetes-validate (the official schemas of `kubernetesVersion`, strict:
 * unknown fields are errors).
 */
export function validateWithSchemas(objects: readonly K8sObject[], kubernetesVersion: string): SchemaReport {
  const dir = mkdtempSync(join(tmpdir(), "sb-k8s-validate-"));
  try {
    const file = join(dir, "objects.yaml");
    writeFileSync(file, objects.map((o) => JSON.stringify(o)).join("\n---\n"));
    let output: string;
    try {
      output = execFileSync(toolPaths().kubernetesValidate, ["--strict", "-k", kubernetesVersion, file], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      output = `${e.stdout ?? ""}\n${e.stderr ?? ""}`;
    }
    const errors: string[] = [];
    const unknownKinds: string[] = [];
    let passed = 0;
    for (const line of output.split("\n")) {
      if (/^INFO .* passed for resource /.test(line)) passed++;
      else if (/^WARN .*Couldn't find schema for kind (\S+)/.test(line)) unknownKinds.push(/kind (\S+)/.exec(line)![1]!);
      else if (/^(ERROR|CRITICAL)/.test(line)) errors.push(line);
    }
    if (passed + unknownKinds.length + errors.length === 0) errors.push(`kubernetes-validate printed nothing useful:\n${output}`);
    return { errors, unknownKinds, passed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
