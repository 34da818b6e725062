import { describe, expect, it } from "vitest";
import { findSecrets } from "./secrets.js";

const MNEMONIC = "ability able about above absent absorb abstract absurd abuse access accident account accuse";
const TOKEN = "q3Z9mXv7yP0bL2kR8sT4wU6eH1jN5cAd";
const secrets = { mnemonic: MNEMONIC, token: TOKEN };

describe("findSecrets", () => {
  it("passes clean logs, including ones that mention single words of the mnemonic", () => {
    const logs = new Map([
      ["broker", '{"level":30,"msg":"broker started","sessionId":"05ab"}\n{"msg":"about to poll"}'],
      ["gateway", '{"req":{"url":"/admin/bot","headers":{"authorization":"[redacted]"}}}'],
    ]);
    expect(findSecrets(logs, secrets)).toEqual([]);
  });

  it("finds each secret verbatim, JSON-escaped, base64, hex and as a word list", () => {
    const cases: [string, string][] = [
      [`{"msg":"config","mnemonic":"${MNEMONIC}"}`, "verbatim"],
      [`authorization: Bearer ${TOKEN}`, "verbatim"],
      [JSON.stringify({ words: MNEMONIC.split(" ") }), "words as a JSON list"],
      [`{"seed":"${Buffer.from(MNEMONIC).toString("base64")}"}`, "base64"],
      [`token=${Buffer.from(TOKEN).toString("hex")}`, "hex"],
      [MNEMONIC.split(" ").join("\n"), "words one per line"],
      [JSON.stringify({ m: MNEMONIC.split(" ").join("\n") }), "words with escaped newlines"],
    ];
    for (const [line, form] of cases) {
      const leaks = findSecrets(new Map([["svc", `before\n${line}\nafter`]]), secrets);
      expect(leaks.map((l) => l.form), line).toContain(form);
      expect(leaks.every((l) => l.log === "svc")).toBe(true);
    }
  });

  it("refuses a secret too short to search for", () => {
    expect(() => findSecrets(new Map(), { pin: "1234" })).toThrow(/too short/);
  });
});
