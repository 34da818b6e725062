// Resolves the bot's mnemonic: from configuration, or (development only, by explicit switch) from a
// file in the data directory, created on first start.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Identity, isSessionError } from "@session-bot/session";
import type { Logger } from "pino";
import type { IdentitySource } from "../config.js";
import { BrokerError } from "../errors.js";

/**
 * Returns the bot's {@link Identity}. For `dev-file`, reads the file or creates a new identity in
 * it (mode 0600) and logs a loud warning with the file path (never the words).
 */
export async function resolveIdentity(source: IdentitySource, log: Logger): Promise<Identity> {
  let words: string;
  if (source.kind === "mnemonic") {
    words = source.mnemonic.reveal();
  } else if (existsSync(source.file)) {
    words = readFileSync(source.file, "utf8").trim();
    log.warn({ file: source.file }, "DEVELOPMENT IDENTITY in use (BROKER_DEV_IDENTITY=1): do not run a real bot like this");
  } else {
    const identity = await Identity.generate();
    mkdirSync(dirname(source.file), { recursive: true });
    writeFileSync(source.file, identity.mnemonic() + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(source.file, 0o600);
    log.warn(
      { file: source.file, sessionId: identity.sessionId },
      "CREATED A NEW DEVELOPMENT IDENTITY (BROKER_DEV_IDENTITY=1); its recovery password is in the file: keep it secret, back it up, or set SESSION_MNEMONIC_FILE",
    );
    return identity;
  }
  try {
    return await Identity.fromMnemonic(words);
  } catch (err) {
    const code = isSessionError(err) ? err.code : "unknown";
    // The session package never puts words in its messages; we still only pass the code.
    throw new BrokerError("BROKER_IDENTITY_INVALID", `the configured mnemonic is not a valid Session recovery password (${code})`);
  }
}
