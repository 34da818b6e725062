import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Identity } from "./identity.js";
import { isSessionId, sessionIdToX25519 } from "./session-id.js";
import { isSessionError } from "../errors.js";
import { toBase64, toHex, utf8 } from "../encoding.js";

const MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

describe("Identity (section 1.4 vectors)", () => {
  it("derives the reference keys and Session ID from the mnemonic", async () => {
    const id = await Identity.fromMnemonic(MNEMONIC);
    expect(toHex(id.publicKeys.ed25519)).toBe("f661a69453ef81a3b75bfcf954eb1f439d4d74edcab0e72a5c435ee418a907be");
    expect(toHex(id.publicKeys.x25519)).toBe("4830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69");
    expect(id.sessionId).toBe("054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69");
    expect(id.mnemonic()).toBe(MNEMONIC);
  });
  it("gives the same identity from the 16-byte seed and from the zero-padded 32-byte seed", async () => {
    const a = await Identity.fromSeed("39038c8988db02c1af44e8c847bd9713");
    const b = await Identity.fromSeed("39038c8988db02c1af44e8c847bd9713" + "0".repeat(32));
    expect(a.sessionId).toBe(b.sessionId);
    expect(() => b.mnemonic()).toThrow(/32-byte seed/);
  });
  it("signs the reference retrieve strings deterministically", async () => {
    const id = await Identity.fromMnemonic(MNEMONIC);
    expect(toBase64(id.sign(utf8("retrieve1700000000000")))).toBe(
      "Bhw0c2bU3HpotGzX/CGgSrhbX5QYQ9pJXx9PM+ziZr2AQ3uIKKCh3t68VIMFwhLhmijwa6qjD+WEod8LWRw/Dw==",
    );
    expect(toBase64(id.sign(utf8("retrieve21700000000000")))).toBe(
      "ofiiUG+klLqOainF9X3Pns6JrxqQBtCgDByNAg5RpnJKi7Jo6hgVlfTD0DzwXHL3LDlxrltAdAQjxgeshXfUBg==",
    );
  });
  it("generates new identities with a working recovery password", async () => {
    const a = await Identity.generate();
    const b = await Identity.generate();
    expect(isSessionId(a.sessionId)).toBe(true);
    expect(a.sessionId).not.toBe(b.sessionId);
    expect((await Identity.fromMnemonic(a.mnemonic())).sessionId).toBe(a.sessionId);
  });
  it("never shows secrets in JSON or inspect", async () => {
    const id = await Identity.fromMnemonic(MNEMONIC);
    const shown = JSON.stringify(id) + inspect(id, { showHidden: true, depth: 5 });
    expect(shown).toContain(id.sessionId);
    expect(shown).not.toContain("puffin");
    expect(shown).not.toContain("39038c89");
  });
  it("rejects bad seeds and Session IDs with typed errors", async () => {
    await expect(Identity.fromSeed("1234")).rejects.toSatisfy((e) => isSessionError(e, "SESSION_INVALID_SEED"));
    await expect(Identity.fromMnemonic("one two")).rejects.toSatisfy((e) => isSessionError(e, "SESSION_INVALID_MNEMONIC"));
    expect(() => sessionIdToX25519("06" + "00".repeat(32))).toThrow(expect.objectContaining({ code: "SESSION_INVALID_SESSION_ID" }));
    expect(() => sessionIdToX25519("05abc")).toThrow(expect.objectContaining({ code: "SESSION_INVALID_SESSION_ID" }));
  });
});
