/** What a reconciliation pass keeps of what went wrong, for its summary line. */
export interface ProblemTally {
  errors: number;
  /** One line per error and per thing skipped, at most MAX_PROBLEMS. */
  problems: string[];
  /** GitHub asked to slow down: nothing before this (epoch ms), or null. */
  pauseUntil: number | null;
}

/** A summary line stays readable: problems past this many are counted, not listed. */
const MAX_PROBLEMS = 50;

/** Notes a problem; `isError` false for what is only reported (a skipped run, a lease another instance holds). */
export function problem(tally: ProblemTally, line: string, isError = true): void {
  if (isError) tally.errors++;
  if (tally.problems.length < MAX_PROBLEMS) tally.problems.push(line);
}

export function pauseUntil(tally: ProblemTally, until: number): void {
  tally.pauseUntil = Math.max(tally.pauseUntil ?? 0, until);
}

/** A time as the summary lines give it: ISO 8601 to the second. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
