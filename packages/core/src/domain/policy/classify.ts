import { clip } from "../text.js";
import type { RerunPolicy } from "./policy.js";
import type { Fetched, JobClass, JobFacts } from "./facts.js";
import { failedStepOf } from "./steps.js";
import type { LinePattern } from "../linear-pattern.js";
import { TRANSIENT_CLASSES } from "./transient-classes.js";

/** Evidence is cut to this many characters: it goes into answers, logs and the record. */
export const MAX_EVIDENCE_CHARS = 200;
/** Each line is cut to this many characters before any pattern runs on it (bounds the work). */
export const MAX_LINE_CHARS = 1024;
/** Annotations read per job (GitHub returns up to 50 per page; the runner adds a handful). */
export const MAX_ANNOTATIONS = 50;

/** Each log line starts with the runner's timestamp: "2024-05-01T12:00:00.1234567Z ". */
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /;
/** The runner's log commands, shown as plain text in the evidence. */
const LOG_COMMAND = /^##\[(?:error|warning|group|endgroup|notice|debug)\]/;

const STEP_CLASSES = TRANSIENT_CLASSES.filter((c) => c.lookIn.includes("steps"));
const TEXT_CLASSES = TRANSIENT_CLASSES.filter((c) => c.lookIn.includes("annotations") || c.lookIn.includes("log"));

/** Evidence as the record keeps it: one line's worth, cut like every echoed text. */
const evidence = (text: string): string => clip(text, MAX_EVIDENCE_CHARS);

interface Line {
  readonly text: string;
  readonly from: "annotations" | "log";
}

/**
 * The lines the patterns run on: annotations first, then the log tail from its end (the error is
 * usually last), every line trimmed of its timestamp and cut to MAX_LINE_CHARS, the log to the
 * policy's tail size. Whatever the input, the work is bounded by these caps.
 */
function linesOf(facts: JobFacts, policy: RerunPolicy): Line[] {
  const lines: Line[] = [];
  const add = (raw: string, from: Line["from"]) => {
    const text = raw.replace(TIMESTAMP, "").replace(LOG_COMMAND, "").trim().slice(0, MAX_LINE_CHARS);
    if (text.length > 0) lines.push({ text, from });
  };
  if (facts.annotations.state === "read") {
    for (const message of facts.annotations.value.slice(0, MAX_ANNOTATIONS)) {
      for (const line of message.slice(0, MAX_LINE_CHARS * 4).split("\n")) add(line, "annotations");
    }
  }
  if (facts.log.state === "read") {
    const log = facts.log.value;
    const tail = log.length > policy.logTailBytes ? log.slice(log.length - policy.logTailBytes) : log;
    const logLines = tail.split("\n");
    // A cut tail starts mid-line: that first piece is not a line the tool printed.
    if (tail.length < log.length) logLines.shift();
    for (let i = logLines.length - 1; i >= 0; i--) add(logLines[i]!, "log");
  }
  return lines;
}

function firstMatch(lines: readonly Line[], patterns: readonly LinePattern[], from?: Line["from"]): Line | undefined {
  for (const line of lines) {
    if (from !== undefined && line.from !== from) continue;
    for (const pattern of patterns) if (pattern.test(line.text)) return line;
  }
  return undefined;
}

function unreadWhy(name: string, fact: Fetched<unknown>): string | null {
  return fact.state === "unknown" ? `${name} could not be read (${fact.why})` : null;
}

/**
 * Classifies one failed job from its facts, under a policy. Pure and total: the same facts and
 * policy always give the same class, it never throws, and its work is bounded by the policy's
 * tail size, MAX_LINE_CHARS and the patterns' safety check.
 *
 * Order: NO_RERUN_PATTERNS win over everything; then NO_RERUN_STEPS on the failed step; a failure
 * in "Set up job"; the built-in classes; RERUN_PATTERNS. A job with a fact that could not be read
 * and no decisive match is `unknown`; otherwise `not-transient`.
 */
export function classifyJob(facts: JobFacts, policy: RerunPolicy): JobClass {
  const lines = linesOf(facts, policy);
  const veto = firstMatch(lines, policy.noRerunPatterns);
  if (veto !== undefined) return { class: "not-transient", evidence: evidence(veto.text), vetoed: "NO_RERUN_PATTERNS" };

  const failedStep = failedStepOf(facts.steps);
  if (failedStep !== undefined && policy.noRerunStepMatchers.some((m) => m.test(failedStep.name))) {
    return { class: "not-transient", evidence: evidence(`step "${failedStep.name}"`), vetoed: "NO_RERUN_STEPS" };
  }

  const unread = [unreadWhy("annotations", facts.annotations), unreadWhy("log", facts.log)].filter((w): w is string => w !== null);
  // A NO_RERUN pattern could be in what was not read: then a transient signature is not decisive.
  const decisive = unread.length === 0 || policy.noRerunPatterns.length === 0;

  if (failedStep !== undefined) {
    const stepClass = STEP_CLASSES.find((c) => c.patterns.some((p) => p.test(failedStep.name)));
    if (stepClass !== undefined && decisive) {
      return { class: `transient:${stepClass.id}`, evidence: evidence(`step "${failedStep.name}"`) };
    }
  }
  for (const from of ["annotations", "log"] as const) {
    for (const c of TEXT_CLASSES) {
      if (!c.lookIn.includes(from)) continue;
      const hit = firstMatch(lines, c.patterns, from);
      if (hit !== undefined && decisive) return { class: `transient:${c.id}`, evidence: evidence(hit.text) };
    }
  }
  const user = firstMatch(lines, policy.rerunPatterns);
  if (user !== undefined && decisive) return { class: "transient:pattern", evidence: evidence(user.text) };

  if (unread.length > 0) return { class: "unknown", evidence: evidence(unread.join("; ")) };
  const where = failedStep !== undefined ? `failed in step "${failedStep.name}"` : "failed";
  const looked = facts.annotations.state === "read" || facts.log.state === "read";
  return { class: "not-transient", evidence: evidence(looked ? `${where}, no transient signature in its annotations or log` : where) };
}
