// Static checks of the deployment files that no tool validates for us.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { effectiveInstructions, parseDockerfile, repoRoot } from "../src/index.js";

const root = repoRoot();
const read = (p: string) => readFileSync(join(root, p), "utf8");
const TARGETS = ["broker", "plugin-host", "gateway", "devnet"] as const;

describe("NATS permission file", () => {
  it("k8s ships a byte-identical copy of deploy/nats/auth.conf (run deploy/sync-k8s-nats.sh)", () => {
    expect(read("k8s/base/nats/auth.conf")).toBe(read("deploy/nats/auth.conf"));
  });

  it("holds no password: each one is an environment reference", () => {
    const passwords = [...read("deploy/nats/auth.conf").matchAll(/^\s*password:\s*(\S+)/gm)].map((m) => m[1]);
    expect(passwords).toEqual(["$NATS_BROKER_PASSWORD", "$NATS_PLUGIN_HOST_PASSWORD", "$NATS_GATEWAY_PASSWORD"]);
  });
});

describe(".dockerignore", () => {
  const lines = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  it.each([".env", "deploy/secrets", "**/node_modules", "**/dist", ".git", "**/*.creds"])("excludes %s", (pattern) => {
    expect(lines).toContain(pattern);
  });
  it("keeps .env.example (documentation) but never re-includes a secret", () => {
    expect(lines.filter((l) => l.startsWith("!"))).toEqual(["!.env.example"]);
  });
});

describe("Dockerfile", () => {
  const { stages, globalArgs, comments } = parseDockerfile(read("Dockerfile"));

  it("builds from node:24-bookworm-slim, with no syntax directive (no registry to fetch a frontend from)", () => {
    expect(globalArgs).toContain("NODE_IMAGE=node:24-bookworm-slim");
    expect(stages.filter((s) => !stages.some((p) => p.name === s.base)).map((s) => s.base)).toEqual(["${NODE_IMAGE}", "${NODE_IMAGE}"]);
    expect(comments.some((c) => /^#\s*syntax=/i.test(c))).toBe(false);
  });

  it("installs with a cache mount, builds the native addon in the build stage only, deploys production dependencies", () => {
    const build = effectiveInstructions(stages, "build").map((i) => `${i.keyword} ${i.args}`);
    expect(build.some((l) => /--mount=type=cache,id=session-bot-pnpm-store/.test(l) && /pnpm install --frozen-lockfile/.test(l))).toBe(true);
    expect(build.some((l) => /apt-get install .*python3 make g\+\+/.test(l))).toBe(true);
    expect(build.some((l) => /deploy --prod/.test(l))).toBe(true);
    const runtime = effectiveInstructions(stages, "runtime").map((i) => `${i.keyword} ${i.args}`);
    expect(runtime.some((l) => /g\+\+|python3/.test(l))).toBe(false);
  });

  it.each(TARGETS)("target %s: non-root, tini as PID 1, HEALTHCHECK, OCI labels, only its own files", (target) => {
    const ins = effectiveInstructions(stages, target);
    const last = (k: string) => ins.filter((i) => i.keyword === k).pop()?.args ?? "";
    expect(last("USER")).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(last("ENTRYPOINT")).toBe('["/usr/bin/tini", "--"]');
    const labels = ins.filter((i) => i.keyword === "LABEL").map((i) => i.args).join(" ");
    for (const l of ["title", "description", "version", "revision", "source", "licenses", "created"]) {
      expect(labels).toContain(`org.opencontainers.image.${l}=`);
    }
    const copies = ins.filter((i) => i.keyword === "COPY" && i.args.includes("--from=build"));
    expect(copies.map((c) => c.args)).toEqual([`--from=build --chown=0:0 /out/${target} /app`]);
    expect(last("HEALTHCHECK")).toMatch(/healthcheck\.mjs/);
  });

  it("no secret is baked in: no ENV or ARG names a password, token or mnemonic", () => {
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.keyword === "ENV" || x.keyword === "ARG")) {
        expect(i.args).not.toMatch(/PASSWORD|TOKEN|MNEMONIC/i);
      }
    }
  });
});
