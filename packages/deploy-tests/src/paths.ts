import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder holding pnpm-workspace.yaml), found from this file's location. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = resolve(dir, "..");
    if (up === dir) throw new Error("repository root (pnpm-workspace.yaml) not found");
    dir = up;
  }
}

/** Where scripts/tools.sh installs kustomize and kubernetes-validate (`$SB_TOOLS`, default ~/.cache/session-bot). */
export function toolPaths(): { kustomize: string; kubernetesValidate: string } {
  const tools = process.env.SB_TOOLS ?? join(homedir(), ".cache", "session-bot");
  return {
    kustomize: join(tools, "bin", "kustomize"),
    kubernetesValidate: join(tools, "venv-k8s", "bin", "kubernetes-validate"),
  };
}
