import path from "node:path";
import { describe, expect, it } from "vitest";
import { isDevnetError } from "../errors.js";
import { parseChatArgs } from "./chat-config.js";
import { defaultDataDir, parseDevnetArgs } from "./config.js";

describe("session-devnet flags", () => {
  it("has defaults and accepts pnpm's leading --", () => {
    const env = { INIT_CWD: "/repo" };
    expect(parseDevnetArgs([], env)).toEqual({
      help: false,
      http: false,
      snodes: 9,
      swarms: 3,
      port: undefined,
      dataDir: path.join("/repo", ".data", "devnet"),
      persist: false,
      rateLimit: false,
      logLevel: "info",
    });
    const c = parseDevnetArgs(["--", "--http", "--snodes", "4", "--swarms", "2", "--port", "0", "--data-dir", "d", "--persist"], env);
    expect(c).toMatchObject({ http: true, snodes: 4, swarms: 2, port: 0, dataDir: "/repo/d", persist: true });
    expect(defaultDataDir({})).toBe(path.join(process.cwd(), ".data", "devnet"));
  });

  it("rejects bad values with DEVNET_BAD_OPTIONS", () => {
    for (const args of [["--snodes", "0"], ["--swarms", "5", "--snodes", "3"], ["--port", "-1"], ["--bogus"], ["--log-level", "loud"], ["x"]]) {
      try {
        parseDevnetArgs(args, {});
        expect.unreachable(args.join(" "));
      } catch (err) {
        expect(isDevnetError(err, "DEVNET_BAD_OPTIONS")).toBe(true);
      }
    }
  });
});

describe("session-chat flags", () => {
  const id = `05${"ab".repeat(32)}`;
  it("takes --seed/--file-server, http scheme from the seed URL", () => {
    const c = parseChatArgs(["--", "--to", id, "--send", "hi", "--seed", "http://127.0.0.1:1/json_rpc", "--file-server", "http://127.0.0.1:2"], { INIT_CWD: "/w" });
    expect(c).toMatchObject({ to: id, send: "hi", expectReply: false, timeoutSeconds: 30, dataDir: "/w/.data/chat", saveDir: "/w/.data/chat/attachments" });
    expect(c.target).toMatchObject({ seedUrls: ["http://127.0.0.1:1/json_rpc"], fileServerUrl: "http://127.0.0.1:2", snodeScheme: "http", insecureSeeds: false });
  });
  it("uses the public network with --mainnet", () => {
    const c = parseChatArgs(["--mainnet", "--to", id], {});
    expect(c.target.seedUrls).toHaveLength(3);
    expect(c.target.snodeScheme).toBe("https");
    expect(c.target.insecureSeeds).toBe(true);
  });
  it("refuses bad ids, a missing --to and a missing --file-server", () => {
    for (const args of [["--to", "05zz", "--mainnet"], ["--send", "x", "--mainnet"], ["--to", id, "--seed", "http://x/json_rpc"], ["--to", id, "--timeout", "0", "--mainnet"]]) {
      expect(() => parseChatArgs(args, {})).toThrow(expect.objectContaining({ code: "DEVNET_BAD_OPTIONS" }));
    }
  });
});
