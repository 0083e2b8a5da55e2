import type { LinePattern } from "../linear-pattern.js";
import { clip } from "../text.js";
import type { Fetched, JobClass, JobFacts } from "./facts.js";
import { linesOf, type Line } from "./lines.js";
import type { RerunPolicy } from "./policy.js";
import { SIGNATURES, type Signature } from "./signatures.js";
import { failedStepOf } from "./steps.js";

/** Evidence is cut to this many characters: it goes into answers, logs and the record. */
export const MAX_EVIDENCE_CHARS = 200;
/** How far back the decision history is read for a job's reruns (GitHub re-runs nothing older). */
export const FLAKY_WINDOW_DAYS = 30;

/** Families to look for in lines, with one pattern that any of their patterns matching implies. */
interface FamilySet {
  readonly families: readonly Signature[];
  /** All the families' patterns as one alternation per case mode: most lines match none, and one test rules a line out. */
  readonly any: readonly RegExp[];
}

function familySet(families: readonly Signature[]): FamilySet {
  const patterns = families.flatMap((s) => s.patterns);
  const union = (ignoreCase: boolean): RegExp[] => {
    const sources = patterns.filter((p) => p.flags.includes("i") === ignoreCase).map((p) => `(?:${p.source})`);
    return sources.length === 0 ? [] : [new RegExp(sources.join("|"), ignoreCase ? "i" : "")];
  };
  return { families, any: [...union(false), ...union(true)] };
}

const STEP_SIGNATURES = SIGNATURES.filter((s) => s.lookIn === "steps");
const ANYWHERE = familySet(SIGNATURES.filter((s) => s.lookIn === "lines" && s.anywhere === true));
const CAUSES = familySet(SIGNATURES.filter((s) => s.lookIn === "lines" && s.anywhere !== true && s.strength === "cause"));
/** The transient causes, for a line a tool printed while retrying (RETRYING). */
const RETRIED_CAUSES = familySet(SIGNATURES.filter((s) => s.lookIn === "lines" && s.anywhere !== true && s.strength === "cause" && s.verdict === "transient"));
const CONSEQUENCES = familySet(SIGNATURES.filter((s) => s.lookIn === "lines" && s.anywhere !== true && s.strength === "consequence"));

/** Evidence as the record keeps it: one line's worth, cut like every echoed text. */
const evidence = (text: string): string => clip(text, MAX_EVIDENCE_CHARS);

/**
 * A tool retrying says what went wrong the time before, not what ended the step: such a line
 * decides only as a symptom, when no cause does ("npm WARN retry will retry, error on last
 * attempt: ...", "Retrying (Retry(total=4...)) after connection broken by ...", "warning: spurious
 * network error (2 tries remaining)", "Attempt 1 failed", "Waiting 10 seconds before trying again").
 */
const RETRYING = /\b(?:will retry|retrying|retry in \d|tries remaining|back(?:ing)? off|attempt \d+ (?:of \d+ )?failed|before trying again|before retry)\b/i;

function matches(signature: Signature, line: Line): boolean {
  if (!signature.patterns.some((p) => p.test(line.text))) return false;
  // An exception may show on a neighbouring line (psql names the host on the line after the refusal).
  const unless = signature.unless ?? [];
  return !unless.some((p) => [line.text, line.previous, line.next].some((text) => text !== null && p.test(text)));
}

/** The family (the first in table order) that matches a line, if any. */
function signatureOf(set: FamilySet, line: Line): Signature | undefined {
  if (!set.any.some((p) => p.test(line.text))) return undefined;
  return set.families.find((s) => matches(s, line));
}

/** The first line, in the given order, that one of the families matches, and which family. */
function firstSignature(lines: readonly Line[], set: FamilySet): { line: Line; signature: Signature } | undefined {
  for (const line of lines) {
    const signature = signatureOf(set, line);
    if (signature !== undefined) return { line, signature };
  }
  return undefined;
}

function firstMatch(lines: readonly Line[], patterns: readonly LinePattern[]): Line | undefined {
  if (patterns.length === 0) return undefined;
  return lines.find((line) => patterns.some((p) => p.test(line.text)));
}

function unreadWhy(name: string, fact: Fetched<unknown>): string | null {
  return fact.state === "unknown" ? `${name} could not be read (${fact.why})` : null;
}

function fromSignature(signature: Signature, text: string): JobClass {
  return signature.verdict === "transient"
    ? { class: `transient:${signature.id}`, evidence: evidence(text) }
    : { class: "not-transient", evidence: evidence(text), signature: signature.id };
}

/**
 * The class the facts show, before the job's history is asked (see classifyJob). The order: the
 * user's vetoes; a failure of the runner itself (anywhere); then the error that ended the failed
 * step (lines.ts: the lines just before the runner's "Process completed with exit code N",
 * nearest the end first, the step's `##[error]` lines before its others, then the failure-level
 * annotations), where the first line that a RERUN_PATTERN, a transient family or a genuine family
 * matches decides — a tool's retry lines excepted, so a download retried and recovered earlier
 * cannot make a later assertion transient — and a RERUN_PATTERN elsewhere in the tail outranks a
 * built-in genuine family; then a failure in "Set up job"; generic symptoms of a broken transfer;
 * a retried failure the step never got past; RERUN_PATTERNS anywhere in the tail.
 */
function classifyFacts(facts: JobFacts, policy: RerunPolicy): JobClass {
  const lines = linesOf(facts, policy);
  const veto = firstMatch(lines.all, policy.noRerunPatterns);
  if (veto !== undefined) return { class: "not-transient", evidence: evidence(veto.text), vetoed: "NO_RERUN_PATTERNS" };

  const failedStep = failedStepOf(facts.steps);
  if (failedStep !== undefined && policy.noRerunStepMatchers.some((m) => m.test(failedStep.name))) {
    return { class: "not-transient", evidence: evidence(`step "${failedStep.name}"`), vetoed: "NO_RERUN_STEPS" };
  }

  const unread = [unreadWhy("annotations", facts.annotations), unreadWhy("log", facts.log)].filter((w): w is string => w !== null);
  // A NO_RERUN pattern could be in what was not read: then a transient signature is not decisive.
  const decisive = unread.length === 0 || policy.noRerunPatterns.length === 0;
  const decided = (found: JobClass): JobClass | undefined => (found.class.startsWith("transient:") && !decisive ? undefined : found);

  // The runner itself failed, or a git:// URL: wherever it shows.
  const runner = firstSignature(lines.all, ANYWHERE);
  const runnerClass = runner === undefined ? undefined : decided(fromSignature(runner.signature, runner.line.text));
  if (runnerClass !== undefined) return runnerClass;

  // The error that ended the failed step: the first line a user pattern or a family matches.
  let cause: JobClass | undefined;
  for (const line of lines.decisive) {
    if (policy.rerunPatterns.some((p) => p.test(line.text))) {
      cause = { class: "transient:pattern", evidence: evidence(line.text) };
      break;
    }
    if (RETRYING.test(line.text)) continue;
    const signature = signatureOf(CAUSES, line);
    if (signature !== undefined) {
      cause = fromSignature(signature, line.text);
      break;
    }
  }
  // The user's RERUN_PATTERNS anywhere in the tail know better than a built-in genuine family.
  const user = firstMatch(lines.outside, policy.rerunPatterns);
  if (cause?.signature !== undefined && user !== undefined) cause = { class: "transient:pattern", evidence: evidence(user.text) };
  if (cause !== undefined) return decided(cause) ?? unknownOrNot(facts, unread, failedStep?.name);

  // "Set up job" failed and nothing in its log says why (a missing action would have): the runner's.
  if (failedStep !== undefined && decisive) {
    const stepFamily = STEP_SIGNATURES.find((s) => s.patterns.some((p) => p.test(failedStep.name)));
    if (stepFamily !== undefined) return fromSignature(stepFamily, `step "${failedStep.name}"`);
  }
  const symptom = firstSignature(lines.decisive, CONSEQUENCES);
  if (symptom !== undefined && decisive) return fromSignature(symptom.signature, symptom.line.text);
  // A retried failure that the step never got past: the retry says what it was.
  const retried = firstSignature(lines.decisive.filter((l) => RETRYING.test(l.text)), RETRIED_CAUSES);
  if (retried !== undefined && decisive) return fromSignature(retried.signature, retried.line.text);
  if (user !== undefined && decisive) return { class: "transient:pattern", evidence: evidence(user.text) };
  return unknownOrNot(facts, unread, failedStep?.name);
}

/** Nothing decided: `unknown` when a fact could not be read, else not transient, saying where it failed. */
function unknownOrNot(facts: JobFacts, unread: readonly string[], failedStep: string | undefined): JobClass {
  if (unread.length > 0) return { class: "unknown", evidence: evidence(unread.join("; ")) };
  const where = failedStep !== undefined ? `failed in step "${failedStep}"` : "failed";
  const looked = facts.annotations.state === "read" || facts.log.state === "read";
  return { class: "not-transient", evidence: evidence(looked ? `${where}, no transient signature in its annotations or log` : where) };
}

/**
 * Classifies one failed job from its facts, under a policy. Pure and total: the same facts and
 * policy always give the same class, it never throws, and its work is bounded by the policy's
 * tail size, MAX_LINE_CHARS and the patterns' safety check.
 *
 * A job with no transient signature — a genuine-looking failure too, since flaky tests fail
 * exactly that way — counts as `transient:flaky-history` when its history says it failed and
 * then passed on the next attempt of the same run at least RERUN_FLAKY_AFTER times in the last
 * FLAKY_WINDOW_DAYS days; only the user's NO_RERUN_PATTERNS / NO_RERUN_STEPS veto that.
 */
export function classifyJob(facts: JobFacts, policy: RerunPolicy): JobClass {
  const found = classifyFacts(facts, policy);
  const history = facts.history;
  if (found.class.startsWith("transient:") || found.vetoed !== undefined || history === undefined) return found;
  // A NO_RERUN pattern could be in what was not read: the history cannot outrank a veto nobody could check.
  if (found.class === "unknown" && policy.noRerunPatterns.length > 0) return found;
  if (policy.flakyAfter === 0 || history.rerunsPassed < policy.flakyAfter) return found;
  const times = (n: number): string => (n === 1 ? "1 time" : `${n} times`);
  return {
    class: "transient:flaky-history",
    evidence: evidence(`passed on rerun ${history.rerunsPassed} of ${times(history.failures)} in ${FLAKY_WINDOW_DAYS} days`),
  };
}
