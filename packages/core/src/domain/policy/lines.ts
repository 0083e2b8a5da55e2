import type { RerunPolicy } from "./policy.js";
import type { JobFacts } from "./facts.js";

/** Each line is cut to this many characters before any pattern runs on it (bounds the work). */
export const MAX_LINE_CHARS = 1024;
/** Annotations read per job (GitHub returns up to 50 per page; the runner adds a handful). */
export const MAX_ANNOTATIONS = 50;
/** Lines before the step's end that are searched for the error that ended it. */
export const DECISIVE_WINDOW = 80;

/** Each log line starts with the runner's timestamp: "2024-05-01T12:00:00.1234567Z ". */
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /;
/** The runner's log commands, shown as plain text in the evidence (an annotation's level is written the same way). */
const LOG_COMMAND = /^##\[(error|warning|group|endgroup|notice|debug)\]/;
/** The runner's last word on a failed step (also the step's error annotation). */
const STEP_END = /^(?:Error: )?Process completed with exit code \d+\.?$/;
/** Where a step's own output starts: the runner opens a group named after the step. */
const STEP_START = /^Run /;
/** Where the job's own steps are over and the runner cleans up after them (post steps, orphan processes). */
const POST_JOB = /^Post job cleanup\.?$/;

export interface Line {
  readonly text: string;
  /** The runner printed it as an error (`##[error]`), or it is a failure-level annotation. */
  readonly error: boolean;
  /** The lines printed just before and after it (a tool may name the host on one line and the error on the next). */
  readonly previous: string | null;
  readonly next: string | null;
}

/** What the classifier reads, in the order it is searched. */
export interface LinesOfJob {
  /** Every line: the annotations, then the log tail from its end (for the runner's own failures, user patterns and vetoes). */
  readonly all: readonly Line[];
  /**
   * The lines that ended the failed step, most decisive first: within DECISIVE_WINDOW lines
   * before the runner's first "Process completed with exit code N" in the tail (the step that
   * failed the job; a later one is an `if: always()` step), back to the step's `##[group]Run`,
   * its `##[error]` lines from the last, then its other lines from the last; then the windows of
   * later failed steps the same way; then the failure-level annotations from the last. When the
   * log has no such line (an action that failed, a cut log), its last DECISIVE_WINDOW lines
   * before "Post job cleanup." stand in.
   */
  readonly decisive: readonly Line[];
  /** The log lines `decisive` leaves out, from the end. */
  readonly outside: readonly Line[];
}

function clean(raw: string): { text: string; command: string | null } {
  const stamped = raw.replace(TIMESTAMP, "");
  const command = LOG_COMMAND.exec(stamped)?.[1] ?? null;
  return { text: stamped.replace(LOG_COMMAND, "").trim().slice(0, MAX_LINE_CHARS), command };
}

/** A step's lines in the order they decide: its `##[error]` lines from the last, then the rest from the last. */
function byWeight(lines: readonly Line[]): Line[] {
  const fromEnd = [...lines].reverse();
  return [...fromEnd.filter((l) => l.error), ...fromEnd.filter((l) => !l.error)];
}

/**
 * The lines of a job's facts, every one trimmed of its timestamp and cut to MAX_LINE_CHARS, the
 * log to the policy's tail size: whatever the input, the work is bounded by these caps.
 */
export function linesOf(facts: JobFacts, policy: RerunPolicy): LinesOfJob {
  const annotations: Line[] = [];
  if (facts.annotations.state === "read") {
    for (const message of facts.annotations.value.slice(0, MAX_ANNOTATIONS)) {
      for (const raw of message.slice(0, MAX_LINE_CHARS * 4).split(/\r?\n/)) {
        const { text, command } = clean(raw);
        // A warning or notice annotation (written `##[warning]...` by the facts client) is context, not the step's error.
        if (text.length > 0 && !STEP_END.test(text)) annotations.push({ text, error: command === null || command === "error", previous: null, next: null });
      }
    }
  }
  const printed: { text: string; command: string | null }[] = [];
  if (facts.log.state === "read") {
    const value = facts.log.value;
    const tail = value.length > policy.logTailBytes ? value.slice(value.length - policy.logTailBytes) : value;
    const raws = tail.split(/\r?\n/);
    // A cut tail starts mid-line: that first piece is not a line the tool printed.
    if (tail.length < value.length) raws.shift();
    for (const raw of raws) {
      const cleaned = clean(raw);
      if (cleaned.text.length > 0) printed.push(cleaned);
    }
  }
  const log: Line[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let postJob: number | undefined;
  printed.forEach(({ text, command }, i) => {
    if (command === "group" && STEP_START.test(text)) starts.push(i);
    if (STEP_END.test(text)) ends.push(i);
    if (postJob === undefined && POST_JOB.test(text)) postJob = i;
    log.push({ text, error: command === "error", previous: printed[i - 1]?.text ?? null, next: printed[i + 1]?.text ?? null });
  });
  const windowBefore = (end: number): [number, number] => [Math.max(end - DECISIVE_WINDOW, ...starts.filter((s) => s < end), 0), end];
  const windows: [number, number][] = ends.length > 0 ? ends.map(windowBefore) : [[Math.max(0, (postJob ?? log.length) - DECISIVE_WINDOW), postJob ?? log.length]];
  const inWindow = new Set<number>();
  const decisive: Line[] = [];
  for (const [from, to] of windows) {
    const fresh: Line[] = [];
    for (let i = from; i < to; i++) {
      if (inWindow.has(i)) continue;
      inWindow.add(i);
      fresh.push(log[i]!);
    }
    decisive.push(...byWeight(fresh));
  }
  decisive.push(...[...annotations].reverse().filter((l) => l.error));
  const outside = log.filter((_, i) => !inWindow.has(i)).reverse();
  return { all: [...annotations, ...[...log].reverse()], decisive, outside };
}
