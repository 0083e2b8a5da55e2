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
/** The runner's log commands, shown as plain text in the evidence. */
const LOG_COMMAND = /^##\[(error|warning|group|endgroup|notice|debug)\]/;
/** The runner's last word on a failed step (also the step's error annotation). */
const STEP_END = /^(?:Error: )?Process completed with exit code \d+\.?$/;
/** Where a step's own output starts: the runner opens a group named after the step. */
const STEP_START = /^Run /;

export interface Line {
  readonly text: string;
  readonly from: "annotations" | "log";
  /** The runner printed it as an error (`##[error]`), or it is an error annotation. */
  readonly error: boolean;
}

/** What the classifier reads, in the order it is searched. */
export interface LinesOfJob {
  /** Every line: the annotations, then the log tail from its end (for user patterns and vetoes). */
  readonly all: readonly Line[];
  /**
   * The lines that ended the failed step, most decisive first: the step's `##[error]` lines from
   * the last, then its other lines from the last, within DECISIVE_WINDOW lines before the runner's
   * "Process completed with exit code N"; then the annotations from the last. When the log has no
   * such line (cut, or not a runner's log), its last DECISIVE_WINDOW lines stand in.
   */
  readonly decisive: readonly Line[];
  /** The log lines `decisive` leaves out (before the step's window, after its end), from the end. */
  readonly outside: readonly Line[];
}

function clean(raw: string): { text: string; command: string | null } {
  const stamped = raw.replace(TIMESTAMP, "");
  const command = LOG_COMMAND.exec(stamped)?.[1] ?? null;
  return { text: stamped.replace(LOG_COMMAND, "").trim().slice(0, MAX_LINE_CHARS), command };
}

/**
 * The lines of a job's facts, every one trimmed of its timestamp and cut to MAX_LINE_CHARS, the
 * log to the policy's tail size: whatever the input, the work is bounded by these caps.
 */
export function linesOf(facts: JobFacts, policy: RerunPolicy): LinesOfJob {
  const annotations: Line[] = [];
  if (facts.annotations.state === "read") {
    for (const message of facts.annotations.value.slice(0, MAX_ANNOTATIONS)) {
      for (const raw of message.slice(0, MAX_LINE_CHARS * 4).split("\n")) {
        const { text } = clean(raw);
        if (text.length > 0 && !STEP_END.test(text)) annotations.push({ text, from: "annotations", error: true });
      }
    }
  }
  const log: Line[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  if (facts.log.state === "read") {
    const value = facts.log.value;
    const tail = value.length > policy.logTailBytes ? value.slice(value.length - policy.logTailBytes) : value;
    const raws = tail.split("\n");
    // A cut tail starts mid-line: that first piece is not a line the tool printed.
    if (tail.length < value.length) raws.shift();
    for (const raw of raws) {
      const { text, command } = clean(raw);
      if (text.length === 0) continue;
      if (command === "group" && STEP_START.test(text)) starts.push(log.length);
      if (STEP_END.test(text)) ends.push(log.length);
      log.push({ text, from: "log", error: command === "error" });
    }
  }
  const fromEnd = [...log].reverse();
  const end = ends.at(-1);
  let decisive: Line[];
  let outside: Line[];
  if (end === undefined) {
    // No step end (a cut log, or not a runner's): its last lines stand in for the step's.
    decisive = fromEnd.slice(0, DECISIVE_WINDOW);
    outside = fromEnd.slice(DECISIVE_WINDOW);
  } else {
    const start = Math.max(end - DECISIVE_WINDOW, ...starts.filter((s) => s < end), 0);
    const step = log.slice(start, end).reverse();
    decisive = [...step.filter((l) => l.error), ...step.filter((l) => !l.error)];
    outside = [...log.slice(end).reverse(), ...log.slice(0, start).reverse()];
  }
  return { all: [...annotations, ...fromEnd], decisive: [...decisive, ...[...annotations].reverse()], outside };
}
