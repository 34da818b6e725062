/** Placeholder until the package lands. */
export const PACKAGE = "devnet";
