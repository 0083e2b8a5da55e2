import type { ResponseBody, WebhookResponse } from "./answer.js";

/** A response ready for any host to write: status, headers and the body text (none on 204). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

const HEADER_TEXT_LIMIT = 1024;
/** Visible ASCII but "%", which would make a literal "%" undecodable. */
const SENT_AS_IS = "[\\x20-\\x24\\x26-\\x7e]";
const ALL_AS_IS = new RegExp(`^${SENT_AS_IS}*$`);
const ONE_AS_IS = new RegExp(`^${SENT_AS_IS}$`, "u");

/**
 * Header values must be visible ASCII: anything else (a branch or job name) and "%" itself are
 * percent-encoded, so decodeURIComponent always gives the reason back. At most 1024 bytes are sent
 * and no escape is split; a lone surrogate (possible in JSON strings) becomes U+FFFD, since
 * encodeURIComponent throws on it.
 */
function headerSafe(text: string): string {
  if (text.length <= HEADER_TEXT_LIMIT && ALL_AS_IS.test(text)) return text;
  let out = "";
  // Code point by code point, so the limit applies to what is sent (an "é" takes 6 bytes, "%C3%A9").
  for (const c of text.replace(/[\ud800-\udfff]/gu, "\ufffd")) {
    const piece = ONE_AS_IS.test(c) ? c : encodeURIComponent(c);
    if (out.length + piece.length > HEADER_TEXT_LIMIT) break;
    out += piece;
  }
  return out;
}

/**
 * Serializes an answer the same way on every host. HTTP forbids a body on 204 (Node drops it),
 * so the decision also travels in X-Job-Rerunner-* headers, which GitHub's "Recent Deliveries"
 * page shows as well.
 */
export function toHttpResponse(response: WebhookResponse | { status: number; body: ResponseBody }, extraHeaders: Readonly<Record<string, string>> = {}): HttpResponse {
  const { status, body } = response;
  const headers: Record<string, string> = {
    "cache-control": "no-store",
    "x-job-rerunner-action": body.action,
    "x-job-rerunner-reason": headerSafe(body.reason),
    ...extraHeaders,
  };
  if (status === 204) return { status, headers, body: undefined };
  const text = JSON.stringify(body);
  headers["content-type"] = "application/json; charset=utf-8";
  headers["content-length"] = String(Buffer.byteLength(text));
  return { status, headers, body: text };
}

/** The text a GET on the webhook path answers. */
export const HEALTH_TEXT = "job-rerunner is running: POST GitHub webhook deliveries here\n";
