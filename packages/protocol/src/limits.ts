/**
 * Limits that are part of the bus contract. Every schema of this package uses these constants,
 * so changing one here changes the generated JSON Schema files too.
 *
 * "Characters" are Unicode code points, as JSON Schema `maxLength` counts them (a UTF-16
 * surrogate pair counts once).
 */

/**
 * Major protocol version carried in the `v` field of every top-level message. Receivers reject
 * any other value with `PROTOCOL_UNSUPPORTED_VERSION`. See PROTOCOL.md "Compatibility".
 */
export const PROTOCOL_VERSION = 1;

/**
 * Maximum text of an outbound `send` action: 2,000 characters, the limit Session clients enforce
 * in their composer for non-Pro accounts (shared docs session-protocol.md §3.7, §11.6: "keep
 * text <= 2,000 chars").
 */
export const MAX_TEXT_LENGTH = 2_000;

/**
 * Maximum text of an inbound `message` event: 10,000 characters. Session Pro senders may send up
 * to 10,000 (session-protocol.md §3.7), and receivers do not enforce any limit, so the broker
 * truncates anything longer before publishing (and never rejects a well-formed message for it).
 */
export const MAX_INBOUND_TEXT_LENGTH = 10_000;

/**
 * Maximum plaintext size of one attachment: 10,000,000 bytes. This is the Session desktop client
 * limit `MAX_ATTACHMENT_FILESIZE_BYTES` on the encrypted upload (session-protocol.md §6.3 "size
 * limit"; the file server's sample config says 6,000,000 and the production value is UNCONFIRMED,
 * §12). Padding (§6.1) is capped at the same 10,000,000, so a plaintext at the limit still uploads.
 */
export const MAX_ATTACHMENT_BYTES = 10_000_000;

/**
 * Maximum attachments in one message (inbound event or outbound `send`): 10. The Session protocol
 * has no count limit; we bound it so one message costs the broker at most
 * 10 × {@link MAX_ATTACHMENT_BYTES} = 100 MB of transfer. On receipt the broker keeps the first 10
 * attachment pointers and drops the rest (it logs and counts the drop).
 */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/**
 * Maximum display name: 100 characters. libsession stores contact names in 100 bytes
 * (`contacts_contact.name[101]`, `CONTACT_MAX_NAME_LENGTH`); the broker truncates names it
 * *sends* to 100 UTF-8 bytes, and inbound names (untrusted) longer than 100 characters are truncated.
 */
export const MAX_DISPLAY_NAME_LENGTH = 100;

/** Maximum attachment file name: 255 characters (the common file-system limit). */
export const MAX_FILE_NAME_LENGTH = 255;

/** Maximum MIME content type: 255 characters (RFC 6838: type and subtype ≤ 127 each). */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/**
 * Maximum emoji of a reaction: 32 characters. An emoji is one grapheme, but ZWJ family sequences
 * and tag flags take up to ~15 code points; 32 leaves room and refuses free text.
 */
export const MAX_EMOJI_LENGTH = 32;

/**
 * Maximum timestamps in one read receipt event / mark-read action: 100. A Session receipt may
 * list many timestamps; the broker splits a longer receipt into several events.
 */
export const MAX_RECEIPT_TIMESTAMPS = 100;

/** Length of a Session ID of a standard account: 66 hex characters (`05` + 32-byte X25519 key). */
export const SESSION_ID_LENGTH = 66;

/** A standard-account Session ID: `05` followed by 64 lowercase hex characters. */
export const SESSION_ID_PATTERN = "^05[0-9a-f]{64}$";

/**
 * Message and action ids (`id`, `causationId`, attachment ids, dead-letter ids): 1–128 characters
 * of `[A-Za-z0-9+/=:._-]`. That fits a Session message hash (43 base64 characters,
 * session-protocol.md §4.10), a UUID, a base64url digest and composite ids such as
 * `<hash>:retry:1`, and is safe as a `Nats-Msg-Id` header value.
 */
export const MAX_ID_LENGTH = 128;

/** Pattern of ids; see {@link MAX_ID_LENGTH}. */
export const ID_PATTERN = "^[A-Za-z0-9+/=:._-]{1,128}$";

/**
 * Bot name (the `<bot>` token of every subject, from `SB_BOT`): 1–32 characters, lowercase
 * letters, digits, `_` and `-`, starting with a letter or digit.
 */
export const BOT_NAME_PATTERN = "^[a-z0-9][a-z0-9_-]{0,31}$";

/** Maximum bot name length (see {@link BOT_NAME_PATTERN}). */
export const MAX_BOT_NAME_LENGTH = 32;

/**
 * Plugin name: 1–32 characters, lowercase letters, digits, `_` and `-`, starting with a letter.
 * Used in KV bucket names (`sb_state_<plugin>`), keys and consumer names, so it is kept safe for
 * all of them.
 */
export const PLUGIN_NAME_PATTERN = "^[a-z][a-z0-9_-]{0,31}$";

/** Maximum plugin name length (see {@link PLUGIN_NAME_PATTERN}). */
export const MAX_PLUGIN_NAME_LENGTH = 32;

/**
 * Command name (typed by users as `/<name>`): 1–32 characters, lowercase letters, digits, `_` and
 * `-`, starting with a letter.
 */
export const COMMAND_NAME_PATTERN = "^[a-z][a-z0-9_-]{0,31}$";

/** Maximum command name length (see {@link COMMAND_NAME_PATTERN}). */
export const MAX_COMMAND_NAME_LENGTH = 32;

/** Maximum commands declared by one plugin manifest. */
export const MAX_COMMANDS_PER_PLUGIN = 64;

/** Maximum description (plugin or command) length: 500 characters. */
export const MAX_DESCRIPTION_LENGTH = 500;

/** Maximum command usage string length: 200 characters. */
export const MAX_USAGE_LENGTH = 200;

/** Maximum plugin version string length (semantic version). */
export const MAX_VERSION_LENGTH = 64;

/**
 * Semantic version (semver 2.0.0) pattern used for plugin versions: `MAJOR.MINOR.PATCH` with an
 * optional pre-release and build suffix.
 */
export const SEMVER_PATTERN =
  "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$";

/** Error codes in `ErrorReply.code` and `DeadLetter.reason.code`: UPPER_SNAKE, 1–64 characters. */
export const ERROR_CODE_PATTERN = "^[A-Z][A-Z0-9_]{0,63}$";

/** Maximum error message length in `ErrorReply` / `DeadLetter`: 1,000 characters. */
export const MAX_ERROR_MESSAGE_LENGTH = 1_000;

/** Maximum free-text "who" in `updatedBy` fields: 128 characters. */
export const MAX_ACTOR_LENGTH = 128;

/**
 * Maximum bytes of one bus message handled by `decodeX` / produced by `encodeX`: 1 MiB, the
 * default NATS `max_payload`. Larger payloads (attachments) travel through the chunker.
 */
export const MAX_BUS_MESSAGE_BYTES = 1_048_576;

/**
 * Maximum nesting of objects and arrays in one bus message: 64 levels (the message itself is level
 * 1, so `{"a":{"b":[]}}` has 3). `decodeX` refuses deeper JSON and `encodeX` refuses deeper values,
 * both with `PROTOCOL_TOO_LARGE`, so whatever decodes can be encoded again (`JSON.stringify`
 * exhausts the stack on a few thousand levels; `JSON.parse` does not) and recursive validators in
 * other languages (Python's recursion limit is 1,000 frames) stay far from their limits. Real
 * messages nest fewer than 10 levels; plugin configs, the deepest, rarely more than 5.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest JSON body a dead letter carries parsed (`payload.encoding: "json"`): 60 levels, four
 * fewer than {@link MAX_JSON_DEPTH}, because the body sits two levels down in a `DeadLetter` and
 * four in a `DeadLetterPage`. A deeper body is kept as base64 (see `deadLetterPayload`), so every
 * dead letter can be encoded and listed.
 */
export const MAX_DEAD_LETTER_JSON_DEPTH = MAX_JSON_DEPTH - 4;

/**
 * Deepest plugin config `assertPluginConfig` accepts: 32 levels (the config object is level 1). A
 * config sits one level down in a `PluginConfigRecord` and three in a `PluginStatusList`, so this
 * leaves room, and no sensible config comes near it.
 */
export const MAX_PLUGIN_CONFIG_DEPTH = 32;

/**
 * Maximum base64 characters of a dead letter's copied payload: 524,288 (384 KiB of bytes), so a
 * dead letter with its metadata always fits in one bus message; longer payloads are cut and
 * flagged `payload.truncated: true`.
 */
export const MAX_DEAD_LETTER_PAYLOAD_LENGTH = 524_288;

/** Number of inbound partitions when not configured (see `partitionOf`). */
export const DEFAULT_PARTITIONS = 16;

/** Maximum number of inbound partitions. */
export const MAX_PARTITIONS = 1_024;

/** Maximum `limit` of a paged admin request. */
export const MAX_PAGE_LIMIT = 200;

/** Default `limit` of a paged admin request. */
export const DEFAULT_PAGE_LIMIT = 50;

/** Maximum length of an opaque paging cursor: 512 characters. */
export const MAX_CURSOR_LENGTH = 512;

/** Maximum hex SHA-256 length (exactly 64 lowercase hex characters). */
export const SHA256_HEX_PATTERN = "^[0-9a-f]{64}$";

/** Largest integer a timestamp / counter may hold (2^53 − 1, exact in every JSON parser of note). */
export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
