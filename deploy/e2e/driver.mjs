// A scripted Session user for the compose end-to-end run. It runs inside the devnet image (which
// ships @session-bot/session) in the broker's network namespace, where the devnet listens.
//
//   node driver.mjs ping              send "/ping", wait for the bot's answer
//   node driver.mjs burst <count>     log "burst started", send "/echo e2e-<run>-<i>" <count> times,
//                                     GAP_MS apart (a steady stream that lasts a few seconds), then
//                                     collect answers until each has one and QUIET_S more seconds
//                                     passed without any
//
// Prints one JSON line with the result on stdout; logs go to stderr. Exit 0 = the run completed
// (the caller judges the counts), 1 = it could not run.
// Environment: DEVNET_STATE (devnet.json), BOT_MNEMONIC_FILE (the broker's development identity),
// TIMEOUT_S (default 180), QUIET_S (default 15), GAP_MS (default 100).
import { readFileSync } from "node:fs";
import { Identity, SessionClient, StorageRpcNetwork } from "@session-bot/session";

const [mode = "ping", countArg = "50"] = process.argv.slice(2);
const timeoutMs = Number(process.env.TIMEOUT_S ?? 180) * 1000;
const quietMs = Number(process.env.QUIET_S ?? 15) * 1000;
const log = (msg, extra = {}) => process.stderr.write(JSON.stringify({ t: new Date().toISOString(), msg, ...extra }) + "\n");

const state = JSON.parse(readFileSync(process.env.DEVNET_STATE ?? "/devnet/devnet.json", "utf8"));
const network = new StorageRpcNetwork({ seedUrls: state.seedUrls, snodeScheme: state.scheme, fileServerUrl: state.fileServerUrl });
const botMnemonic = readFileSync(process.env.BOT_MNEMONIC_FILE ?? "/broker/dev-identity.mnemonic", "utf8").trim();
const bot = await SessionClient.create({ mnemonic: botMnemonic, network: new StorageRpcNetwork({ seedUrls: state.seedUrls, snodeScheme: state.scheme }) });
const botId = bot.sessionId;
const user = await SessionClient.create({ identity: await Identity.generate(), network, displayName: "e2e" });
log("driver ready", { user: user.sessionId, bot: botId, mode });

const replies = [];
user.on("message", (m) => {
  if (m.sender !== botId) return;
  replies.push(m.text);
  // progress for the caller (the e2e test kills a worker on the first answer of a burst)
  log("reply", { n: replies.length });
});
user.startPolling();
const deadline = Date.now() + timeoutMs;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let result;
try {
  if (mode === "ping") {
    await user.sendText(botId, "/ping");
    while (replies.length === 0 && Date.now() < deadline) await sleep(250);
    result = { mode, replies };
  } else if (mode === "burst") {
    const count = Number(countArg);
    const run = Date.now().toString(36);
    const gapMs = Number(process.env.GAP_MS ?? 100);
    const tokens = Array.from({ length: count }, (_, i) => `e2e-${run}-${i}`);
    log("burst started", { count, gapMs });
    for (const t of tokens) {
      await user.sendText(botId, `/echo ${t}`);
      await sleep(gapMs);
    }
    const sentAt = Date.now();
    const before = replies.length;
    let lastReplyAt = sentAt;
    user.on("message", (m) => {
      if (m.sender === botId) lastReplyAt = Date.now();
    });
    log("sent", { count });
    const counts = () => Object.fromEntries(tokens.map((t) => [t, replies.filter((r) => r.split(/\s+/).includes(t)).length]));
    let lastLen = -1;
    let lastChange = Date.now();
    for (;;) {
      if (replies.length !== lastLen) {
        lastLen = replies.length;
        lastChange = Date.now();
      }
      const c = counts();
      const allAnswered = Object.values(c).every((n) => n >= 1);
      if ((allAnswered && Date.now() - lastChange >= quietMs) || Date.now() > deadline) break;
      await sleep(500);
    }
    result = {
      mode,
      sent: count,
      counts: counts(),
      otherReplies: replies.slice(before).filter((r) => !tokens.some((t) => r.includes(t))).length,
      lastReplyAfterSendMs: lastReplyAt - sentAt,
    };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await user.stopPolling();
  await network.close?.();
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
