import type { IncomingMessage } from "node:http";

/** GitHub caps webhook payloads at 25 MB; anything larger is not a delivery from GitHub. */
export const DEFAULT_BODY_LIMIT = 25 * 1024 * 1024;

/** What a request may carry when a body parser mounted earlier already read its stream. */
export interface ParsedRequestFields {
  /** Set by express.raw(), express.text(), express.json() (parsed), or other parsers. */
  body?: unknown;
  /** Set by Google Cloud Functions, by `keepRawBody`, and by several other hosts: the exact bytes. */
  rawBody?: unknown;
}

export type WebhookIncomingMessage = IncomingMessage & ParsedRequestFields;

export type RawBodyResult =
  | { readonly kind: "ok"; readonly body: Buffer }
  | { readonly kind: "too-large"; readonly limit: number }
  /** A body parser read the stream before us and kept no raw bytes: the signature cannot be checked. */
  | { readonly kind: "consumed" }
  /** The client went away (or the stream failed) before the body was complete. */
  | { readonly kind: "aborted"; readonly message: string };

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/**
 * The body exactly as sent: the signature is an HMAC over these bytes, so a body that was
 * parsed and re-serialised would not verify. Bytes kept by an earlier parser are used as they are.
 */
export function readRawBody(req: WebhookIncomingMessage, limit: number): Promise<RawBodyResult> {
  if (isBytes(req.rawBody)) {
    return Promise.resolve(req.rawBody.byteLength > limit ? { kind: "too-large", limit } : { kind: "ok", body: Buffer.from(req.rawBody) });
  }
  // express.raw() leaves the exact bytes in req.body.
  if (isBytes(req.body)) {
    return Promise.resolve(req.body.byteLength > limit ? { kind: "too-large", limit } : { kind: "ok", body: Buffer.from(req.body) });
  }
  // Someone else read (or is reading) the stream: waiting for "end" would hang forever.
  if (req.readableEnded || req.readableFlowing !== null || req.destroyed) {
    return Promise.resolve({ kind: "consumed" });
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too-large", limit });

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: RawBodyResult): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > limit) {
        // Stop buffering at once: a chunked body with no length must not grow memory without bound.
        chunks.length = 0;
        finish({ kind: "too-large", limit });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: "ok", body: Buffer.concat(chunks, size) });
    const onError = (error: Error): void => finish({ kind: "aborted", message: error.message });
    const onClose = (): void => {
      if (!req.readableEnded) finish({ kind: "aborted", message: "the client closed the connection before sending the whole body" });
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * For hosts that must run `express.json()` before the webhook: keeps the exact bytes so the
 * signature can still be checked. Use as `app.use(express.json({ verify: keepRawBody }))`.
 */
export function keepRawBody(req: IncomingMessage & ParsedRequestFields, _res: unknown, buffer: Buffer): void {
  req.rawBody = buffer;
}
