import { createHmac, randomUUID } from "node:crypto";

/** `X-Hub-Signature-256` for a body, as GitHub computes it. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface SignedDelivery {
  readonly headers: Record<string, string>;
  readonly rawBody: string;
}

/** A delivery as GitHub would send it: JSON body, event name, delivery id and signature headers. */
export function signedDelivery(
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): SignedDelivery {
  const rawBody = JSON.stringify(payload);
  return {
    rawBody,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/test",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signBody(secret, rawBody),
    },
  };
}
