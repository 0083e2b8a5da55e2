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
