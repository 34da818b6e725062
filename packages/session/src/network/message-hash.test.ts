import { describe, expect, it } from "vitest";
import { messageHash } from "./message-hash.js";
import { loadSodium } from "../crypto/sodium.js";
import { utf8 } from "../encoding.js";

await loadSodium();
const ID = "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69";

describe("message hash (section 1.4 vectors)", () => {
  it("matches the reference for namespaces 0, 2 and -10", () => {
    expect(messageHash(ID, 0, utf8("hello devnet"))).toBe("pOPnSfY1xEOfrv2W59h2y219z5Tn3Gv3KGUU4fD5w58");
    expect(messageHash(ID, 2, utf8("hello devnet"))).toBe("bruh2TXaLJgEh75TYTVZEVDc2IWOZDPhoRWvZG2GZUQ");
    expect(messageHash(ID, -10, utf8("hello devnet"))).toBe("dSXyNCCc3UsjkSyxyjOms0q60HprFoJO/gTsXxLkoLc");
  });
});
