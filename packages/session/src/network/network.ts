/**
 * The injectable network. {@link StorageRpcNetwork} speaks the storage-server RPC to a Session
 * network given by its seed node(s); tests or other transports can implement this interface.
 */

/** What signs authenticated storage requests: an {@link Identity} satisfies it. */
export interface RequestSigner {
  /** Hex Ed25519 public key (64 characters). */
  readonly ed25519PublicKeyHex: string;
  /** Detached Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** One `store` of a message on the swarm of `pubkey`. */
export interface StoreRequest {
  /** Recipient Session ID (66 hex). */
  pubkey: string;
  /** Namespace; only 0 (the public 1:1 inbox) is stored unsigned. */
  namespace: number;
  /** The payload (for 1:1 messages: the WebSocketMessage bytes). */
  data: Uint8Array;
  /** Time to live in ms (10 s .. 14 days for namespace 0). */
  ttlMs: number;
}

/** Result of a `store`. */
export interface StoreResult {
  /** The message hash (43 base64 chars), as the swarm reports it. */
  hash: string;
  /** Ed25519 key (hex) of the snode that accepted the request. */
  snode: string;
}

/** One signed `retrieve` of the own swarm. */
export interface RetrieveRequest {
  /** Own Session ID. */
  pubkey: string;
  namespace: number;
  signer: RequestSigner;
  /** Last hash already seen per snode (Ed25519 hex -> hash): the poll cursor. */
  lastHashes: Readonly<Record<string, string>>;
  /** Preferred snode (keeps `last_hash` meaningful between polls); another is used if it is unhealthy. */
  preferredSnode?: string;
  signal?: AbortSignal;
}

/** One message as retrieved. */
export interface RetrievedMessage {
  hash: string;
  /** Store timestamp (ms). */
  timestamp: number;
  /** Expiry (ms). */
  expiration: number;
  /** Decoded payload, or null when the server sent something that is not base64. */
  data: Uint8Array | null;
}

/** Result of a `retrieve`. */
export interface RetrieveResult {
  /** Ed25519 key (hex) of the snode that answered: its `last_hash` is the new cursor entry. */
  snode: string;
  messages: RetrievedMessage[];
  /** The snode has more messages: retrieve again. */
  more: boolean;
}

/** A file uploaded to the file server. */
export interface UploadedFile {
  /** File id (numeric string or 44-char base64url). */
  id: string;
  /** Full download URL (what goes into `AttachmentPointer.url`). */
  url: string;
  /** Expiry in Unix seconds, when the server said. */
  expires?: number;
}

/** The network a {@link SessionClient} uses. */
export interface Network {
  /** Network time in ms (local clock corrected by the offset learned from snodes). */
  now(): number;
  store(request: StoreRequest): Promise<StoreResult>;
  retrieve(request: RetrieveRequest): Promise<RetrieveResult>;
  /** Uploads an (already encrypted) blob to the file server. */
  uploadFile(data: Uint8Array, options?: { signal?: AbortSignal }): Promise<UploadedFile>;
  /** Downloads a blob; the URL must belong to an allowed file server. */
  downloadFile(url: string, options?: { maxBytes?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  /** Releases resources (timers, sockets). */
  close(): Promise<void>;
}
