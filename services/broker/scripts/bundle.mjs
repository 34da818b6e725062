// Builds the runnable service, dist/main.js, as one ESM bundle (after `tsc` has written dist/).
//
// Why: resolving the broker's dependency graph at run time is most of its start-up and memory.
// Node's ESM resolver reads a package's package.json for each module it loads from it, and
// drizzle-orm's is 179 KB with 447 export conditions: `import("drizzle-orm/sqlite-core")` alone
// took a bare Node.js 24 to ~240 MB RSS and 355 ms; the same modules bundled, ~50 MB and 9 ms.
// The library entry (dist/index.js, for tests and embedding) stays tsc's per-file output.
//
// External (loaded from node_modules at run time): better-sqlite3, a native addon. pino is
// bundled: the broker logs to stdout without transports, so no worker thread needs its files.
// The drizzle migrations are files read at run time: see MIGRATIONS_FOLDER (src/db/database.ts),
// which finds services/broker/drizzle from both dist/main.js and the per-file layout.
import { build } from "esbuild";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

await build({
  absWorkingDir: root,
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  external: ["better-sqlite3"],
  // Bundled CommonJS packages (fastify, pino, prom-client, ...) call require() for Node's
  // built-ins and use __filename/__dirname; give the ESM bundle real ones.
  banner: {
    js: [
      'import { createRequire as __sbCreateRequire } from "node:module";',
      'import { fileURLToPath as __sbFileURLToPath } from "node:url";',
      'import { dirname as __sbDirname } from "node:path";',
      "const require = __sbCreateRequire(import.meta.url);",
      "const __filename = __sbFileURLToPath(import.meta.url);",
      "const __dirname = __sbDirname(__filename);",
    ].join("\n"),
  },
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning",
});
