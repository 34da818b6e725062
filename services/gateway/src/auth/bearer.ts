/**
 * Bearer-token check for the admin API. Tokens are compared in constant time: both sides are
 * hashed to fixed-length digests first (so the length of a token does not leak either), and
 * every configured token is compared on every request (no early exit).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { GatewayError } from "../errors.js";

/**
 * Checks an `Authorization` header value against the configured tokens and returns who it is:
 * `gateway:token-<n>` (n = 1-based position of the token in the configuration), never the token.
 */
export type TokenVerifier = (authorization: string | undefined) => string;

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Builds a verifier over `tokens`; it throws `AUTH_MISSING` or `AUTH_INVALID` (never echoing the token). */
export function createTokenVerifier(tokens: readonly string[]): TokenVerifier {
  if (tokens.length === 0) throw new TypeError("at least one admin token is required");
  const digests = tokens.map(digest);
  return (authorization) => {
    if (authorization === undefined || authorization.trim() === "") {
      throw new GatewayError("AUTH_MISSING", "send an admin token as 'Authorization: Bearer <token>'");
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new GatewayError("AUTH_INVALID", "the Authorization header is not a bearer token");
    const presented = digest(match[1]);
    let matched = 0;
    digests.forEach((d, i) => {
      // No early exit: every token is compared on every request.
      if (timingSafeEqual(presented, d) && matched === 0) matched = i + 1;
    });
    if (matched === 0) throw new GatewayError("AUTH_INVALID", "the admin token is not valid");
    return `gateway:token-${matched}`;
  };
}
