/* eslint-disable @typescript-eslint/no-explicit-any -- RPC answers are untyped JSON, checked field by field */
// Test helpers: the reference 1.4 identity signing with libsodium directly, and plain-fetch RPC.
import sodium from "libsodium-wrappers-sumo";

/** Reference 1.4 test identity. */
export const VEC = {
  seed16: "39038c8988db02c1af44e8c847bd9713",
  edPk: "f661a69453ef81a3b75bfcf954eb1f439d4d74edcab0e72a5c435ee418a907be",
  xPk: "4830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69",
  sessionId: "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69",
  hashHelloNs0: "pOPnSfY1xEOfrv2W59h2y219z5Tn3Gv3KGUU4fD5w58",
  hashHelloNs2: "bruh2TXaLJgEh75TYTVZEVDc2IWOZDPhoRWvZG2GZUQ",
  hashHelloNsMinus10: "dSXyNCCc3UsjkSyxyjOms0q60HprFoJO/gTsXxLkoLc",
  retrieveSigNs0: "Bhw0c2bU3HpotGzX/CGgSrhbX5QYQ9pJXx9PM+ziZr2AQ3uIKKCh3t68VIMFwhLhmijwa6qjD+WEod8LWRw/Dw==",
  retrieveSigNs2: "ofiiUG+klLqOainF9X3Pns6JrxqQBtCgDByNAg5RpnJKi7Jo6hgVlfTD0DzwXHL3LDlxrltAdAQjxgeshXfUBg==",
  swarmSpace: 553631452829603413n,
} as const;

/** An identity able to sign storage requests. */
export interface Identity {
  readonly sessionId: string;
  readonly edPkHex: string;
  readonly edSk: Uint8Array;
  sign(message: string): string;
}

/** Builds an identity from a 16- or 32-byte hex seed (16 bytes are zero-padded, reference 1.3). */
export async function identity(seedHex: string): Promise<Identity> {
  await sodium.ready;
  const seed = Buffer.from(seedHex.padEnd(64, "0").slice(0, 64), "hex");
  const kp = sodium.crypto_sign_seed_keypair(seed);
  const x = sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey);
  return {
    sessionId: `05${Buffer.from(x).toString("hex")}`,
    edPkHex: Buffer.from(kp.publicKey).toString("hex"),
    edSk: kp.privateKey,
    sign: (m) => Buffer.from(sodium.crypto_sign_detached(m, kp.privateKey)).toString("base64"),
  };
}

/** The 1.4 test identity. */
export function testIdentity(): Promise<Identity> {
  return identity(VEC.seed16);
}

/** A fresh random identity. */
export async function randomIdentity(): Promise<Identity> {
  await sodium.ready;
  return identity(Buffer.from(sodium.randombytes_buf(16)).toString("hex"));
}

/** Verifies a base64 Ed25519 signature over `message` with a hex public key. */
export async function verify(sigB64: string, message: string, edPkHex: string): Promise<boolean> {
  await sodium.ready;
  return sodium.crypto_sign_verify_detached(Buffer.from(sigB64, "base64"), message, Buffer.from(edPkHex, "hex"));
}

/** A storage RPC answer as the test sees it. */
export interface RpcAnswer {
  status: number;
  contentType: string | null;
  json: any;
  text: string;
}

/** POSTs `{method, params}` to a snode's `/storage_rpc/v1`. */
export async function rpc(snodeUrl: string, method: string, params: unknown, init?: RequestInit): Promise<RpcAnswer> {
  return post(`${snodeUrl}/storage_rpc/v1`, JSON.stringify({ jsonrpc: "2.0", method, params }), init);
}

/** POSTs a raw body and decodes the answer. */
export async function post(url: string, body: string, init?: RequestInit): Promise<RpcAnswer> {
  const res = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json" }, ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), json, text };
}

/** Signed retrieve params for `id`. */
export function signedRetrieve(id: Identity, namespace: number, timestamp: number, extra: Record<string, unknown> = {}) {
  const ns = namespace === 0 ? "" : String(namespace);
  return {
    pubkey: id.sessionId,
    pubkey_ed25519: id.edPkHex,
    namespace,
    timestamp,
    signature: id.sign(`retrieve${ns}${timestamp}`),
    ...extra,
  };
}

/** Unsigned namespace-0 store params. */
export function storeParams(sessionId: string, data: Buffer | string, extra: Record<string, unknown> = {}) {
  return {
    pubkey: sessionId,
    data: Buffer.from(data).toString("base64"),
    ttl: 60_000,
    timestamp: Date.now(),
    ...extra,
  };
}
