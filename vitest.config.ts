// The one vitest set-up of the workspace. Every package runs it from its own folder
// (`vitest run --config ../../vitest.config.ts`), so `root` is that package.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: process.cwd(),
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers (nats-server, devnet); keep the 2-core CI machine sane.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
