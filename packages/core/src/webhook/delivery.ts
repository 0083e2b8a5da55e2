import { clip } from "../domain/text.js";
import { parseEvent } from "../domain/event.js";
import { verifySignature } from "./signature.js";
import type { RunEvent } from "../domain/types.js";

export type HeaderValue = string | readonly string[] | undefined;

export interface WebhookRequest {
  /** Header names in lower case, as Node's http module gives them. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** The body exactly as received: the signature is computed over these bytes. */
  readonly rawBody: Buffer | Uint8Array | string;
}

/** A delivery read off the wire: a run event to process, or the answer it gets at once. */
export type Intake =
  | { readonly kind: "event"; readonly event: RunEvent }
  | { readonly kind: "answer"; readonly status: number; readonly reason: string };

export function header(headers: Readonly<Record<string, HeaderValue>>, name: string): string | null {
  // An embedder's bug (no headers object at all) must still get a clear answer, not a throw.
  if (typeof headers !== "object" || headers === null) return null;
  const value = headers[name];
  const first = typeof value === "string" ? value : value?.[0];
  return first === undefined || first === "" ? null : first;
}

/** A header we echo in an answer or a log (delivery id, event name): cut like any payload text. */
export function echoedHeader(headers: Readonly<Record<string, HeaderValue>>, name: string): string | null {
  const value = header(headers, name);
  return value === null ? null : clip(value);
}

function toText(rawBody: Buffer | Uint8Array | string): string {
  return typeof rawBody === "string" ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString("utf8");
}

/** Signature (403), JSON (400), payload kind (204): the webhook's own checks, before any state is read. */
export function readDelivery(request: WebhookRequest, secrets: readonly string[], receivedAt: number, handlerId: string): Intake {
  const signature = header(request.headers, "x-hub-signature-256");
  if (!verifySignature(secrets, request.rawBody, signature)) {
    return { kind: "answer", status: 403, reason: signature !== null ? "X-Hub-Signature-256 does not match the body" : "X-Hub-Signature-256 header is missing" };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(toText(request.rawBody));
  } catch {
    return { kind: "answer", status: 400, reason: "body is not valid JSON (set the webhook content type to application/json)" };
  }
  const deliveryId = echoedHeader(request.headers, "x-github-delivery") ?? handlerId;
  const parsed = parseEvent({ eventName: header(request.headers, "x-github-event"), deliveryId, receivedAt, handlerId }, payload);
  if (parsed.kind === "ignored") return { kind: "answer", status: 204, reason: parsed.reason };
  return { kind: "event", event: parsed.event };
}
