// The labelled corpus of real CI failure excerpts (corpus/failures.jsonl) and how the classifier
// fares on it: shared by `npm run score` (scripts/score.ts) and the floor test (corpus.test.ts).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { classifyJob, compilePolicy, type JobClass, type JobFacts } from "@job-rerunner/core";
import { judgeAttempt } from "../src/domain/policy/verdict.js";

export const CORPUS_PATH = fileURLToPath(new URL("../../../corpus/failures.jsonl", import.meta.url));

export interface Excerpt {
  readonly id: string;
  readonly label: "transient" | "genuine" | "ambiguous";
  readonly family: string;
  readonly excerpt: string;
  readonly source: string;
  readonly note: string;
}

export interface Scored extends Excerpt {
  readonly verdict: JobClass;
  readonly rerun: boolean;
}

export function readCorpus(path: string = CORPUS_PATH): Excerpt[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Excerpt);
}

/**
 * An excerpt as the engine would read it: the failed step's log tail (each line stamped as the
 * runner stamps it), ending with the runner's "Process completed with exit code 1." unless the
 * excerpt already ends the step itself; no annotations.
 */
export function factsOf(excerpt: Excerpt): JobFacts {
  const lines = excerpt.excerpt.split("\n");
  const ended = lines.some((l) => /Process completed with exit code \d+/.test(l));
  const log = [...lines, ...(ended ? [] : ["##[error]Process completed with exit code 1."])].map((l) => `2024-05-01T12:00:00.0000000Z ${l}`).join("\n");
  return {
    id: 1,
    name: excerpt.id,
    status: "completed",
    conclusion: "failure",
    steps: [
      { name: "Set up job", conclusion: "success" },
      { name: "Run the step", conclusion: "failure" },
    ],
    annotations: { state: "read", value: [] },
    log: { state: "read", value: `${log}\n` },
  };
}

/** RERUN_WHEN=transient with no user patterns: what the corpus figures are about. */
export const TRANSIENT_POLICY = compilePolicy({ when: "transient" });

export function score(corpus: readonly Excerpt[] = readCorpus()): Scored[] {
  return corpus.map((excerpt) => {
    const verdict = classifyJob(factsOf(excerpt), TRANSIENT_POLICY);
    return { ...excerpt, verdict, rerun: judgeAttempt([{ name: excerpt.id, verdict }], TRANSIENT_POLICY).rerun };
  });
}

export interface Share {
  readonly rerun: number;
  readonly total: number;
}

export function share(scored: readonly Scored[], label: Excerpt["label"]): Share {
  const of = scored.filter((s) => s.label === label);
  return { rerun: of.filter((s) => s.rerun).length, total: of.length };
}
