import { createHmac, timingSafeEqual } from "node:crypto";

const PREFIX = "sha256=";
const HEX_DIGEST_LENGTH = 64;

/**
 * Verifies GitHub's `X-Hub-Signature-256` header (`sha256=<hex HMAC of the raw body>`) against one
 * secret or several (the current and the previous one during a rotation). Constant-time compare;
 * `sha1=` signatures are refused. Never throws on bad input: a missing or malformed header is false.
 */
export function verifySignature(
  secretOrSecrets: string | readonly string[],
  rawBody: string | Uint8Array,
  header: string | readonly string[] | null | undefined,
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== "string" || value.length !== PREFIX.length + HEX_DIGEST_LENGTH) return false;
  if (!value.startsWith(PREFIX)) return false;
  // Hex text is compared as bytes: node's hex digest is cheaper than a raw digest plus hex decoding.
  const given = Buffer.from(value.slice(PREFIX.length).toLowerCase(), "latin1");
  const secrets = typeof secretOrSecrets === "string" ? [secretOrSecrets] : secretOrSecrets;
  let ok = false;
  // Every secret is tried, so the time taken does not tell which one matched.
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = Buffer.from(createHmac("sha256", secret).update(rawBody).digest("hex"), "latin1");
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** The `X-Hub-Signature-256` value GitHub would send for this body. */
export function sign(secret: string, rawBody: string | Uint8Array): string {
  return PREFIX + createHmac("sha256", secret).update(rawBody).digest("hex");
}
