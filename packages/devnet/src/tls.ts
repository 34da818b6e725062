// One self-signed certificate for every listener of a devnet (clients don't verify snode
// certificates on mainnet either; tests can trust this one explicitly).
import { generate } from "selfsigned";
import type { TlsMaterial } from "./http.js";

/** Generates a self-signed EC P-256 certificate for 127.0.0.1 / localhost, valid ten years. */
export async function generateCertificate(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 24 * 3600_000);
  const pems = await generate([{ name: "commonName", value: "session-devnet" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
