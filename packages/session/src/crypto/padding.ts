/**
 * Message padding of serialized `Content` (docs/session-protocol.md 2.1): one 0x80 byte, then
 * zeros up to a 160-byte boundary. We send the libsession (2025+) variant; unpadding accepts both
 * the legacy JS and the libsession variants.
 */

/** Padding block size. */
export const PADDING_BLOCK = 160;

/** Pads with 0x80 then zeros to the next multiple of 160 (a full extra block when already aligned). */
export function padMessage(plaintext: Uint8Array): Uint8Array {
  const withMarker = plaintext.length + 1;
  const total = withMarker + (PADDING_BLOCK - (withMarker % PADDING_BLOCK));
  const out = new Uint8Array(total);
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

/**
 * Removes the padding: skips trailing zeros; the byte before them must be 0x80. Data whose last
 * non-zero byte is not 0x80 is returned unchanged (treated as unpadded, as the reference clients do).
 */
export function unpadMessage(padded: Uint8Array): Uint8Array {
  for (let i = padded.length - 1; i >= 0; i--) {
    const b = padded[i];
    if (b === 0x00) continue;
    return b === 0x80 ? padded.subarray(0, i) : padded;
  }
  return padded;
}
