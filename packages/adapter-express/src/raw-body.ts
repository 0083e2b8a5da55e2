import type { IncomingMessage } from "node:http";

/** GitHub caps webhook payloads at 25 MB; anything larger is not a delivery from GitHub. */
export const DEFAULT_BODY_LIMIT = 25 * 1024 * 1024;

/** What a request may carry when a body parser mounted earlier already read its stream. */
export interface ParsedRequestFields {
  /** Set by express.raw(), express.text(), express.json() (parsed), or other parsers. */
  body?: unknown;
  /** Set by Google Cloud Functions, by `keepRawBody`, and by several other hosts: the exact bytes (or their text). */
  rawBody?: unknown;
  /** body-parser 1.x (Express 4) sets this when it takes the stream; 2.x does not. */
  _body?: unknown;
}

export type WebhookIncomingMessage = IncomingMessage & ParsedRequestFields;

export type RawBodyResult =
  | { readonly kind: "ok"; readonly body: Buffer }
  | { readonly kind: "too-large"; readonly limit: number }
  /** A body parser read the stream before us and kept no raw bytes: the signature cannot be checked. */
  | { readonly kind: "consumed" }
  /** The client went away (or the stream failed) before the body was complete. */
  | { readonly kind: "aborted"; readonly message: string };

function kept(bytes: Uint8Array, limit: number): RawBodyResult {
  return bytes.byteLength > limit ? { kind: "too-large", limit } : { kind: "ok", body: Buffer.from(bytes) };
}

/**
 * The body exactly as sent: the signature is an HMAC over these bytes, so a body that was
 * parsed and re-serialised would not verify. Bytes kept by an earlier parser are used as they are.
 */
export function readRawBody(req: WebhookIncomingMessage, limit: number): Promise<RawBodyResult> {
  if (req.rawBody instanceof Uint8Array) return Promise.resolve(kept(req.rawBody, limit));
  // Some hosts keep the text rather than the bytes; GitHub sends UTF-8, so encoding it back is exact.
  if (typeof req.rawBody === "string") return Promise.resolve(kept(Buffer.from(req.rawBody, "utf8"), limit));
  // express.raw() leaves the exact bytes in req.body.
  if (req.body instanceof Uint8Array) return Promise.resolve(kept(req.body, limit));
  // No chunk ever left the stream, yet it ended: the body was empty (express.json() "reads" an
  // empty body this way), so its bytes are known and the signature check can answer.
  if (req.readableEnded && !req.readableDidRead) return Promise.resolve({ kind: "ok", body: Buffer.alloc(0) });
  // Bytes left the stream to someone else: waiting for "end" would hang or see half a body.
  if (req.readableDidRead || req._body === true) return Promise.resolve({ kind: "consumed" });
  if (req.destroyed) return Promise.resolve({ kind: "aborted", message: "the request stream was closed before its body was read" });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too-large", limit });

  return new Promise((resolve) => {
    const read = new BodyRead(limit, resolve);
    // Listeners are not removed once settled: the request ends soon after, and a settled read
    // ignores what comes (the rest of an oversized body, the "close" after "end").
    req.on("data", (chunk: Buffer) => read.data(chunk));
    req.on("end", () => read.end());
    req.on("error", (error: Error) => read.finish({ kind: "aborted", message: error.message }));
    req.on("close", () => {
      if (!req.readableEnded) read.finish({ kind: "aborted", message: "the client closed the connection before sending the whole body" });
    });
    // A middleware may have paused the stream without reading it; a "data" listener alone
    // would not restart a paused stream.
    req.resume();
  });
}

/** One body being read: its chunks so far, settled at most once. (A class, so a delivery creates no named closures.) */
class BodyRead {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #settled = false;
  readonly #limit: number;
  readonly #resolve: (result: RawBodyResult) => void;

  constructor(limit: number, resolve: (result: RawBodyResult) => void) {
    this.#limit = limit;
    this.#resolve = resolve;
  }

  data(chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.byteLength;
    if (this.#size > this.#limit) {
      // Stop buffering at once: a chunked body with no length must not grow memory without bound.
      this.#chunks.length = 0;
      this.finish({ kind: "too-large", limit: this.#limit });
      return;
    }
    this.#chunks.push(chunk);
  }

  end(): void {
    // Settled already (too large: the chunks were dropped): nothing is joined.
    if (!this.#settled) this.finish({ kind: "ok", body: Buffer.concat(this.#chunks, this.#size) });
  }

  finish(result: RawBodyResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(result);
  }
}

/**
 * For hosts that must run `express.json()` before the webhook: keeps the exact bytes so the
 * signature can still be checked. Use as `app.use(express.json({ verify: keepRawBody }))`.
 */
export function keepRawBody(req: IncomingMessage & ParsedRequestFields, _res: unknown, buffer: Buffer): void {
  req.rawBody = buffer;
}
