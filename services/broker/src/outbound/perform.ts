// Carries out one validated OutboundAction through the Session client. Pure domain: plain data in,
// a result or a typed error out; no NATS here.
import type { OutboundAction } from "@session-bot/protocol";
import { isSessionError, type AttachmentInfo, type SessionClient, type SessionErrorCode } from "@session-bot/session";
import type { BrokerStore } from "../db/store.js";
import { BrokerError } from "../errors.js";

/** Session error codes worth retrying later (the network, not the request, failed). */
const TRANSIENT: ReadonlySet<SessionErrorCode> = new Set<SessionErrorCode>([
  "SESSION_NETWORK",
  "SESSION_TIMEOUT",
  "SESSION_NO_SNODES",
  "SESSION_CLOCK_SKEW",
  "SESSION_RATE_LIMITED",
  "SESSION_FILE_SERVER",
  "SESSION_CLOSED",
]);

/** What a performed action left behind. */
export interface Performed {
  /** Storage hash of the stored message (null for actions that store nothing, like set_display_name). */
  readonly ref: string | null;
  /** Sent timestamp T of the stored message. */
  readonly timestamp: number | null;
}

export interface PerformDeps {
  readonly client: SessionClient;
  readonly store: BrokerStore;
  readonly maxTextLength: number;
}

/** Converts any error of performing into a BrokerError: `transient` decides nak vs dead letter. */
export function classifyFailure(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (isSessionError(err)) {
    const transient = TRANSIENT.has(err.code);
    return new BrokerError("BROKER_SEND_FAILED", `Session refused or failed: ${err.code}`, { cause: err, transient });
  }
  return new BrokerError("BROKER_SEND_FAILED", "unexpected failure while performing the action", { cause: err, transient: true });
}

function resolveAttachments(store: BrokerStore, ids: readonly string[] | undefined): AttachmentInfo[] {
  if (!ids || ids.length === 0) return [];
  return ids.map((id) => {
    const row = store.getAttachment(id);
    if (!row) throw new BrokerError("BROKER_NOT_FOUND", `unknown attachment id ${id}`);
    return JSON.parse(row.pointer) as AttachmentInfo;
  });
}

/**
 * Performs `action`. Throws BrokerError: `BROKER_BLOCKED`, `BROKER_NOT_FOUND`, `BROKER_ACTION_REJECTED`
 * (permanent), or `BROKER_SEND_FAILED` (transient or not, see `transient`).
 */
export async function performAction(d: PerformDeps, action: OutboundAction): Promise<Performed> {
  if ("conversation" in action && d.store.isBlocked(action.conversation)) {
    throw new BrokerError("BROKER_BLOCKED", "the recipient is blocked");
  }
  try {
    switch (action.action) {
      case "send": {
        if (Array.from(action.text).length > d.maxTextLength) {
          throw new BrokerError("BROKER_ACTION_REJECTED", `text longer than ${d.maxTextLength} characters`);
        }
        const attachments = resolveAttachments(d.store, action.attachments);
        const r = await d.client.sendMessage(action.conversation, {
          ...(action.text !== "" ? { text: action.text } : {}),
          ...(attachments.length > 0 ? { attachments } : {}),
          ...(action.quote ? { quote: action.quote } : {}),
        });
        return { ref: r.hash, timestamp: r.timestamp };
      }
      case "react": {
        const r = action.op === "add" ? await d.client.react(action.conversation, action.target, action.emoji) : await d.client.removeReaction(action.conversation, action.target, action.emoji);
        return { ref: r.hash, timestamp: r.timestamp };
      }
      case "read": {
        const r = await d.client.sendReadReceipt(action.conversation, [...action.timestamps]);
        return { ref: r.hash, timestamp: r.timestamp };
      }
      case "typing": {
        const r = await d.client.sendTyping(action.conversation, action.state === "started");
        return { ref: r.hash, timestamp: r.timestamp };
      }
      case "accept": {
        const r = await d.client.acceptMessageRequest(action.conversation);
        d.store.setApproval(action.conversation, { approved: true });
        return { ref: r.hash, timestamp: r.timestamp };
      }
      case "set_display_name": {
        await d.client.setDisplayName(action.displayName);
        return { ref: null, timestamp: null };
      }
    }
  } catch (err) {
    throw classifyFailure(err);
  }
}
