import { beforeAll, describe, expect, it } from "vitest";
import { edPkToX, keyPairFromSeed, messageHash, sodiumReady, verifyDetached } from "./crypto.js";

const SESSION_ID = "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69";
const ED_PK = "f661a69453ef81a3b75bfcf954eb1f439d4d74edcab0e72a5c435ee418a907be";
const hello = Buffer.from("hello devnet", "utf8");

beforeAll(sodiumReady);

describe("messageHash (reference 4.10, vectors 1.4)", () => {
  const pk = Buffer.from(SESSION_ID, "hex");
  it("matches the namespace 0, 2 and -10 vectors", () => {
    expect(messageHash(pk, 0, hello)).toBe("pOPnSfY1xEOfrv2W59h2y219z5Tn3Gv3KGUU4fD5w58");
    expect(messageHash(pk, 2, hello)).toBe("bruh2TXaLJgEh75TYTVZEVDc2IWOZDPhoRWvZG2GZUQ");
    expect(messageHash(pk, -10, hello)).toBe("dSXyNCCc3UsjkSyxyjOms0q60HprFoJO/gTsXxLkoLc");
  });
  it("is 43 characters without padding and depends on the prefix byte", () => {
    const h = messageHash(pk, 0, Buffer.alloc(0));
    expect(h).toHaveLength(43);
    const other = Buffer.from(pk);
    other[0] = 0x03;
    expect(messageHash(other, 0, hello)).not.toBe(messageHash(pk, 0, hello));
  });
});

describe("keys (reference 1.3)", () => {
  it("derives the test identity's keys from the padded seed", () => {
    const kp = keyPairFromSeed(Buffer.from("39038c8988db02c1af44e8c847bd9713".padEnd(64, "0"), "hex"));
    expect(Buffer.from(kp.edPk).toString("hex")).toBe(ED_PK);
    expect(`05${Buffer.from(kp.xPk).toString("hex")}`).toBe(SESSION_ID);
    expect(Buffer.from(edPkToX(kp.edPk)!).toString("hex")).toBe(SESSION_ID.slice(2));
  });
  it("verifies the 1.4 retrieve signature and rejects a tampered one", () => {
    const sig = Buffer.from("Bhw0c2bU3HpotGzX/CGgSrhbX5QYQ9pJXx9PM+ziZr2AQ3uIKKCh3t68VIMFwhLhmijwa6qjD+WEod8LWRw/Dw==", "base64");
    const pk = Buffer.from(ED_PK, "hex");
    expect(verifyDetached(sig, "retrieve1700000000000", pk)).toBe(true);
    expect(verifyDetached(sig, "retrieve1700000000001", pk)).toBe(false);
    expect(verifyDetached(sig.subarray(1), "retrieve1700000000000", pk)).toBe(false);
  });
});
