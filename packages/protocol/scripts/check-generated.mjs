// Fails when the committed schemas/ or vectors/ differ from what the build generates: regenerates them, then
// asks git whether anything under schemas/ or vectors/ is modified, deleted or untracked.
import { execFileSync } from "node:child_process";
import process from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
execFileSync(process.execPath, [join(pkg, "scripts", "generate-schemas.mjs")], { cwd: pkg, stdio: "inherit" });
const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all", "--", "schemas", "vectors"], { cwd: pkg, encoding: "utf8" });
if (status.trim() !== "") {
  process.stderr.write(
    `check:generated: packages/protocol/schemas or vectors differ from the generated files:\n${status}` +
      "Run `pnpm --filter @session-bot/protocol build` and commit packages/protocol/schemas and vectors.\n",
  );
  process.exit(1);
}
process.stdout.write("check:generated: schemas/ and vectors/ are up to date\n");
