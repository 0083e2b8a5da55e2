import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { sign, verifySignature } from "@job-rerunner/core";
import { fmt, opsPerSecond, ratio } from "./measure.js";

const SECRET = "bench-secret-0123456789";

/** The floor: a bare node:crypto HMAC and timingSafeEqual over the same bytes. */
function bareVerify(secret: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(body).digest("hex"));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface SignatureFigures {
  readonly size: string;
  readonly ours: number;
  readonly bare: number;
}

export function benchSignature(ms: number): SignatureFigures[] {
  const figures: SignatureFigures[] = [];
  for (const [size, bytes] of [["1 KB", 1024], ["25 KB", 25 * 1024], ["1 MB", 1024 * 1024]] as const) {
    const body = randomBytes(bytes);
    const header = sign(SECRET, body);
    // Interleave the two so drift on a shared machine hits both alike.
    let ours = 0;
    let bare = 0;
    for (let round = 0; round < 3; round++) {
      ours += opsPerSecond(() => (verifySignature(SECRET, body, header) ? 1 : 0), ms / 3);
      bare += opsPerSecond(() => (bareVerify(SECRET, body, header) ? 1 : 0), ms / 3);
    }
    figures.push({ size, ours: ours / 3, bare: bare / 3 });
  }
  return figures;
}

export function printSignature(figures: SignatureFigures[]): string[] {
  const lines = ["verifySignature vs bare node:crypto HMAC + timingSafeEqual (goal >= 0.95)"];
  for (const f of figures) {
    lines.push(`  ${f.size.padStart(5)}: ours ${fmt(f.ours).padStart(9)}/s  bare ${fmt(f.bare).padStart(9)}/s  ratio ${ratio(f.ours, f.bare)}`);
  }
  return lines;
}
