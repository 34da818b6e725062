import { execFileSync } from "node:child_process";
import { repoRoot } from "./paths.js";

/** The part of `docker compose config --format json` the checks read. */
export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  profiles?: string[];
  environment?: Record<string, string | null>;
  secrets?: { source: string; target?: string }[];
  ports?: { target: number; published?: string; host_ip?: string }[];
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  deploy?: { replicas?: number };
  container_name?: string;
  network_mode?: string;
  read_only?: boolean;
  user?: string;
}
export interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

/**
 * `docker compose config` of the repository's docker-compose.yaml with `envFile`: validates the
 * file (throws with compose's message) and returns the resolved model.
 */
export function composeConfig(envFile: string, profiles: readonly string[] = []): ComposeConfig {
  const args = ["compose", "--project-directory", repoRoot(), "--env-file", envFile];
  for (const p of profiles) args.push("--profile", p);
  args.push("config", "--format", "json");
  // Only what docker itself needs from this process: the result depends on `envFile` alone (a
  // variable of the caller's environment would override the file). COMPOSE_PROFILES is the
  // caller's list, not the env file's.
  const env: Record<string, string> = { COMPOSE_PROFILES: profiles.join(",") };
  for (const k of ["PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT"]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  const out = execFileSync("docker", args, { cwd: repoRoot(), encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out) as ComposeConfig;
}
