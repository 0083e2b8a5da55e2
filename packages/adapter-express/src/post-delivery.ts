// One signed delivery posted to a running job-rerunner, and the answer as a person reads it:
// `job-rerunner send` and `npm run demo` print these.

export interface PostedAnswer {
  readonly status: number;
  readonly reason: string;
}

/** The reason of an answer: the JSON body's, or the header a 204 carries it in (HTTP forbids its body). */
function reasonOf(status: number, headers: Headers, text: string): string {
  if (text === "") return decodeURIComponent(headers.get("x-job-rerunner-reason") ?? "");
  try {
    const body = JSON.parse(text) as { reason?: unknown };
    if (typeof body.reason === "string") return body.reason;
  } catch {
    // Not ours: a proxy's page, another service.
  }
  return `${text.replace(/\s+/g, " ").trim().slice(0, 200)}${status === 404 ? " (is this job-rerunner's webhook URL?)" : ""}`;
}

/** POSTs the delivery; rejects only when nothing answers (fetch's own error). */
export async function postDelivery(url: string | URL, delivery: { readonly headers: Record<string, string>; readonly body: string }, signal?: AbortSignal): Promise<PostedAnswer> {
  const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body, ...(signal === undefined ? {} : { signal }) });
  const text = await response.text();
  return { status: response.status, reason: reasonOf(response.status, response.headers, text) };
}
