/** Longest payload text echoed in a reason or a log line (a job, workflow or branch name). */
export const ECHO_LIMIT = 200;

/**
 * Text from a delivery cut to at most `limit` characters, the cut marked with "…": a signed
 * payload can carry a 2 MB name, and echoing it whole would make every answer and log line as
 * big. Never splits a surrogate pair, so the result stays valid UTF-16.
 */
export function clip(text: string, limit: number = ECHO_LIMIT): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * A malformed payload or listed value as a reason shows it: its type and a clipped preview, never the value
 * serialised whole. A listing can carry 200,000 nested arrays (JSON.stringify and String overflow
 * the stack), a 2 MB string, or a number past 2^53 (a BigInt, which JSON.stringify refuses).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (typeof value === "string") return `string ${JSON.stringify(clip(value))}${value.length > ECHO_LIMIT ? ` of ${value.length} characters` : ""}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value === "bigint") return `number ${clip(value.toString())}`;
  if (Array.isArray(value)) return `array of ${value.length} ${value.length === 1 ? "item" : "items"}`;
  if (typeof value === "object") {
    const keys = Object.keys(value);
    return `object with ${keys.length} ${keys.length === 1 ? "key" : "keys"}`;
  }
  return typeof value;
}

/** Comma-separated text as its items: trimmed, empty ones dropped (`"a, b,,c"` is a, b, c). */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
