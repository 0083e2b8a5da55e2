import { classifies, type RerunPolicy } from "./policy.js";
import type { JobClass } from "./facts.js";
import { clip } from "../text.js";

/** A failed job of the attempt, as the record holds it. */
export interface FailedJob {
  readonly name: string;
  /** Absent when the job was never classified (the policy did not need it, or no facts came). */
  readonly verdict?: JobClass | undefined;
}

export interface AttemptVerdict {
  readonly rerun: boolean;
  /** Names the failed jobs, their class and evidence: "job "e2e" lost its runner (...): transient". */
  readonly explanation: string;
}

/** Jobs named in one explanation; the rest are counted. Keeps answers and memos small. */
export const MAX_JOBS_EXPLAINED = 5;
/** An explanation is cut to this many characters (it goes into every answer of the attempt). */
export const MAX_EXPLANATION_CHARS = 900;

/** How a transient class reads in an explanation. */
const PHRASES: Readonly<Record<string, string>> = {
  "runner-lost": "lost its runner",
  "not-picked-up": "was never picked up by a runner",
  "setup-job": "failed while its runner set up the job",
  network: "hit a network failure",
  registry: "got a server error from a registry or service",
  "rate-limit": "hit a rate limit",
  truncated: "got a truncated download",
  "disk-full": "ran out of disk space",
  pattern: "matched RERUN_PATTERNS",
  "flaky-history": "is flaky",
};

/** How a genuine family (signatures.ts) reads in an explanation. */
const GENUINE_PHRASES: Readonly<Record<string, string>> = {
  "loopback-refused": "could not reach its own service",
  "git-protocol": "used the git:// protocol GitHub turned off",
  "client-error": "was refused a request",
  "not-found": "asked for something that does not exist",
  lockfile: "has a lockfile out of date",
  workflow: "has an invalid workflow",
  compile: "does not compile",
  tests: "failed a test",
  lint: "failed a lint check",
};

function quote(text: string): string {
  return `"${clip(text, 160)}"`;
}

/** One failed job in words. */
export function describeJob(job: FailedJob): string {
  const name = `job ${quote(job.name)}`;
  const v = job.verdict;
  if (v === undefined) return `${name} failed`;
  if (v.vetoed === "NO_RERUN_PATTERNS") return `${name} matched NO_RERUN_PATTERNS (${quote(v.evidence)}): not transient`;
  if (v.vetoed === "NO_RERUN_STEPS") return `${name} failed in ${v.evidence} (NO_RERUN_STEPS): not transient`;
  if (v.class === "unknown") return `${name}: unknown (${v.evidence})`;
  if (v.class === "not-transient") {
    const phrase = v.signature === undefined ? undefined : GENUINE_PHRASES[v.signature];
    return phrase === undefined ? `${name} ${v.evidence}: not transient` : `${name} ${phrase} (${quote(v.evidence)}): not transient`;
  }
  const id = v.class.slice("transient:".length);
  return `${name} ${PHRASES[id] ?? `is ${v.class}`} (${v.class === "transient:setup-job" ? v.evidence : quote(v.evidence)}): transient`;
}

function counts(job: FailedJob, policy: RerunPolicy): boolean {
  const v = job.verdict;
  if (v?.vetoed !== undefined) return false;
  if (policy.when === "failure") return true;
  if (v === undefined || v.class === "unknown") return policy.rerunUnknown;
  return v.class.startsWith("transient:");
}

function explain(jobs: readonly FailedJob[], suffix = ""): string {
  const shown = jobs.slice(0, MAX_JOBS_EXPLAINED).map(describeJob);
  const more = jobs.length - shown.length;
  const text = more > 0 ? `${shown.join("; ")}; and ${more} more failed job${more === 1 ? "" : "s"}` : shown.join("; ");
  return clip(text, MAX_EXPLANATION_CHARS - suffix.length) + suffix;
}

/**
 * Whether a finished, failed attempt is re-run under the policy, from the failed jobs the record
 * holds (pure). `failedJobsKnown` is false when the attempt failed but none of its failed jobs is
 * known (their webhooks were lost and they could not be listed): that is `unknown`.
 */
export function judgeAttempt(failed: readonly FailedJob[], policy: RerunPolicy): AttemptVerdict {
  if (policy.maxFailedJobs > 0 && failed.length > policy.maxFailedJobs) {
    return {
      rerun: false,
      explanation: `${failed.length} jobs failed, more than MAX_FAILED_JOBS=${policy.maxFailedJobs}: a widespread failure is not a flaky one`,
    };
  }
  if (failed.length === 0) {
    if (policy.when === "failure") return { rerun: true, explanation: "" };
    return {
      rerun: policy.rerunUnknown,
      explanation: `its failed jobs are not known: unknown (RERUN_UNKNOWN=${policy.rerunUnknown})`,
    };
  }
  if (!classifies(policy)) return { rerun: true, explanation: explain(failed) };
  const blocking = failed.filter((j) => !counts(j, policy));
  if (blocking.length > 0) {
    const mode = policy.when === "transient" ? " (RERUN_WHEN=transient)" : "";
    const unknownNote = blocking.some((j) => j.verdict === undefined || j.verdict.class === "unknown") ? " (RERUN_UNKNOWN=false)" : "";
    return { rerun: false, explanation: explain(blocking, `${mode}${unknownNote}`) };
  }
  return { rerun: true, explanation: explain(failed) };
}
