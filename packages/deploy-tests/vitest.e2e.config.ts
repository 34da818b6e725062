// The compose end-to-end run (docker images, the whole stack, the devnet): minutes, not seconds,
// so it is not part of `test`. Run it with `pnpm --filter @session-bot/deploy-tests test:e2e`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: process.cwd(),
    include: ["e2e/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 20 * 60_000,
    hookTimeout: 30 * 60_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
