import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { sign, verifySignature } from "@job-rerunner/core";
import { fmt, median, opsPerSecond } from "./measure.js";

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
  /** Median of the per-round ratios ours/bare (each round measures both back to back). */
  readonly ratio: number;
}

/** `ms` per size and function, cut into short alternating rounds so drift on a shared machine hits both alike. */
export function benchSignature(ms: number, rounds = 10): SignatureFigures[] {
  const figures: SignatureFigures[] = [];
  for (const [size, bytes] of [["1 KB", 1024], ["25 KB", 25 * 1024], ["1 MB", 1024 * 1024]] as const) {
    const body = randomBytes(bytes);
    const header = sign(SECRET, body);
    // Small bodies run in batches, so reading the clock between calls is not part of what is timed.
    const batch = Math.ceil(32 * 1024 / bytes);
    const oursOp = (): number => {
      let ok = 0;
      for (let i = 0; i < batch; i++) if (verifySignature(SECRET, body, header)) ok++;
      return ok;
    };
    const bareOp = (): number => {
      let ok = 0;
      for (let i = 0; i < batch; i++) if (bareVerify(SECRET, body, header)) ok++;
      return ok;
    };
    const ours: number[] = [];
    const bare: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always gets the warmer (or the colder) slot.
      const first = round % 2 === 0;
      const a = first ? opsPerSecond(oursOp, ms / rounds) : 0;
      const b = opsPerSecond(bareOp, ms / rounds);
      const o = first ? a : opsPerSecond(oursOp, ms / rounds);
      ours.push(o);
      bare.push(b);
      ratios.push(o / b);
    }
    figures.push({ size, ours: median(ours), bare: median(bare), ratio: median(ratios) });
  }
  return figures;
}

export function printSignature(figures: SignatureFigures[]): string[] {
  const lines = ["verifySignature vs bare node:crypto HMAC + timingSafeEqual (goal >= 0.95; medians of 10 alternating rounds)"];
  for (const f of figures) {
    lines.push(`  ${f.size.padStart(5)}: ours ${fmt(f.ours).padStart(9)}/s  bare ${fmt(f.bare).padStart(9)}/s  ratio ${f.ratio.toFixed(2)}`);
  }
  return lines;
}
