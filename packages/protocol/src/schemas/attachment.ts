/** Attachment descriptor and the broker's `attachments.get` / `attachments.put` payloads. */
import { Type, type Static } from "@sinclair/typebox";
import { MAX_ATTACHMENT_BYTES, MAX_CONTENT_TYPE_LENGTH, MAX_FILE_NAME_LENGTH, SHA256_HEX_PATTERN } from "../limits.js";
import { defineCodec } from "../validation.js";
import { id, versionField } from "./common.js";

/**
 * Describes one attachment the broker knows. The bytes never ride on the bus inside an event:
 * fetch them with `attachments.get` (broker request/reply framed by the chunker).
 */
export const AttachmentDescriptorSchema = Type.Object(
  {
    id: id("Broker-assigned attachment id: pass it to attachments.get, or to a send action."),
    fileName: Type.Optional(Type.String({ maxLength: MAX_FILE_NAME_LENGTH, description: "File name as given by the sender (untrusted; may be absent)." })),
    contentType: Type.String({
      minLength: 1,
      maxLength: MAX_CONTENT_TYPE_LENGTH,
      description: "MIME type as given by the sender (untrusted); application/octet-stream when unknown.",
    }),
    size: Type.Integer({ minimum: 0, maximum: MAX_ATTACHMENT_BYTES, description: "Plaintext size in bytes (for inbound attachments: as declared by the sender until fetched)." }),
    sha256: Type.Optional(
      Type.String({ pattern: SHA256_HEX_PATTERN, description: "Lowercase hex SHA-256 of the plaintext, when the broker has the bytes (always after put)." }),
    ),
  },
  { title: "AttachmentDescriptor", description: "Metadata of one attachment held by the broker." },
);
/** Metadata of one attachment held by the broker. */
export type AttachmentDescriptor = Static<typeof AttachmentDescriptorSchema>;

/** Request body of `sb.broker.<bot>.attachments.get`: which attachment to stream back. */
export const AttachmentGetRequestSchema = Type.Object(
  {
    v: versionField(),
    attachmentId: id("The AttachmentDescriptor.id to fetch."),
  },
  { title: "AttachmentGetRequest", description: "Asks the broker for the bytes of one attachment (reply streamed by the chunker)." },
);
/** Request body of `attachments.get`. */
export type AttachmentGetRequest = Static<typeof AttachmentGetRequestSchema>;

/** Metadata that opens an `sb.broker.<bot>.attachments.put` upload; the bytes follow through the chunker. */
export const AttachmentPutRequestSchema = Type.Object(
  {
    v: versionField(),
    fileName: Type.Optional(Type.String({ maxLength: MAX_FILE_NAME_LENGTH, description: "File name shown to the recipient." })),
    contentType: Type.String({ minLength: 1, maxLength: MAX_CONTENT_TYPE_LENGTH, description: "MIME type." }),
    size: Type.Integer({ minimum: 0, maximum: MAX_ATTACHMENT_BYTES, description: "Exact byte count that will be uploaded." }),
    sha256: Type.Optional(Type.String({ pattern: SHA256_HEX_PATTERN, description: "Optional lowercase hex SHA-256; the broker rejects a mismatch." })),
  },
  { title: "AttachmentPutRequest", description: "Metadata of an attachment a plugin hands to the broker for a later send." },
);
/** Request metadata of `attachments.put`. */
export type AttachmentPutRequest = Static<typeof AttachmentPutRequestSchema>;

/** Success reply of `attachments.get` (before the bytes) and `attachments.put` (after them). */
export const AttachmentReplySchema = Type.Object(
  {
    v: versionField(),
    attachment: AttachmentDescriptorSchema,
  },
  { title: "AttachmentReply", description: "The descriptor of the fetched or stored attachment. Failures answer an ErrorReply instead." },
);
/** Success reply of the attachment endpoints. */
export type AttachmentReply = Static<typeof AttachmentReplySchema>;

const descriptorCodec = defineCodec("AttachmentDescriptor", AttachmentDescriptorSchema, { versioned: false });
const getCodec = defineCodec("AttachmentGetRequest", AttachmentGetRequestSchema);
const putCodec = defineCodec("AttachmentPutRequest", AttachmentPutRequestSchema);
const replyCodec = defineCodec("AttachmentReply", AttachmentReplySchema);

/** Returns the value typed as {@link AttachmentDescriptor} or throws `ProtocolError`. */
export const parseAttachmentDescriptor = descriptorCodec.parse;
/** Type guard for {@link AttachmentDescriptor}. */
export const isAttachmentDescriptor = descriptorCodec.is;

/** Returns the value typed as {@link AttachmentGetRequest} or throws `ProtocolError`. */
export const parseAttachmentGetRequest = getCodec.parse;
/** Type guard for {@link AttachmentGetRequest}. */
export const isAttachmentGetRequest = getCodec.is;
/** UTF-8 JSON → {@link AttachmentGetRequest}, or throws `ProtocolError`. */
export const decodeAttachmentGetRequest = getCodec.decode;
/** {@link AttachmentGetRequest} → UTF-8 JSON (validated first). */
export const encodeAttachmentGetRequest = getCodec.encode;

/** Returns the value typed as {@link AttachmentPutRequest} or throws `ProtocolError`. */
export const parseAttachmentPutRequest = putCodec.parse;
/** Type guard for {@link AttachmentPutRequest}. */
export const isAttachmentPutRequest = putCodec.is;
/** UTF-8 JSON → {@link AttachmentPutRequest}, or throws `ProtocolError`. */
export const decodeAttachmentPutRequest = putCodec.decode;
/** {@link AttachmentPutRequest} → UTF-8 JSON (validated first). */
export const encodeAttachmentPutRequest = putCodec.encode;

/** Returns the value typed as {@link AttachmentReply} or throws `ProtocolError`. */
export const parseAttachmentReply = replyCodec.parse;
/** Type guard for {@link AttachmentReply}. */
export const isAttachmentReply = replyCodec.is;
/** UTF-8 JSON → {@link AttachmentReply}, or throws `ProtocolError`. */
export const decodeAttachmentReply = replyCodec.decode;
/** {@link AttachmentReply} → UTF-8 JSON (validated first). */
export const encodeAttachmentReply = replyCodec.encode;

/** Codecs of this module, for the schema registry. */
export const attachmentCodecs = { descriptorCodec, getCodec, putCodec, replyCodec };
