// The classifier as it was before the decisive-error search (commit a8fd955), kept only as the
// baseline `npm run bench` measures the current classifyJob against, in the same run: its
// built-in table and its first-match scan of every line of the tail. Not used by the product.
import type { Fetched, JobClass, JobFacts, RerunPolicy, StepFact } from "@job-rerunner/core";

type LinePattern = { test(line: string): boolean };

const MAX_EVIDENCE_CHARS = 200;
const MAX_LINE_CHARS = 1024;
const MAX_ANNOTATIONS = 50;
const FAILED_STEP = new Set(["failure", "timed_out", "cancelled"]);
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /;
const LOG_COMMAND = /^##\[(?:error|warning|group|endgroup|notice|debug)\]/;

interface TransientClass {
  readonly id: string;
  readonly description: string;
  readonly lookIn: readonly ("steps" | "annotations" | "log")[];
  readonly patterns: readonly RegExp[];
  readonly source: string;
}
const TRANSIENT_CLASSES: readonly TransientClass[] = [
  {
    id: "runner-lost",
    description: "the runner was shut down, lost, or failed while running the job",
    lookIn: ["annotations", "log"],
    patterns: [
      // actions/runner prints this when the runner process is stopped mid-job (SIGTERM/SIGINT on the
      // service, a scaled-down or pre-empted machine); GitHub shows it as the job's error annotation.
      /The runner has received a shutdown signal/i,
      // GitHub's annotation when the runner stops reporting: "The self-hosted runner: NAME lost
      // communication with the server. Verify the machine is running and has a healthy network
      // connection..." (also "The hosted runner: NAME lost communication with the server.").
      /lost communication with the server/i,
      // GitHub's annotation for a hosted runner failure: "The hosted runner encountered an error
      // while running your job. (Error Type: Failure)."
      /The hosted runner encountered an error while running your job/i,
    ],
    source:
      "GitHub Actions runner and service messages (github.com/actions/runner; the error annotations GitHub shows on the job, quoted in actions/runner issues and GitHub Community discussions)",
  },
  {
    id: "not-picked-up",
    description: "the job was never picked up by a runner",
    lookIn: ["annotations", "log"],
    patterns: [
      // GitHub's annotation: "The job was not acquired by Runner of type hosted even after multiple
      // attempts" (GitHub Community discussions on hosted runner outages).
      /was not acquired by Runner/i,
      // The same outage as GitHub words it on some jobs: "Internal server error. Correlation ID: ...".
      /^Internal server error\. Correlation ID:/i,
    ],
    source: "GitHub Actions service annotations (GitHub Community discussions on jobs not acquired during hosted runner incidents)",
  },
  {
    id: "setup-job",
    description: 'the job failed in the runner\'s "Set up job" step (runner, image or action download), before any of its own steps ran',
    lookIn: ["steps"],
    patterns: [/^Set up job$/],
    source: 'GitHub Actions: "Set up job" is the first step the runner adds to every job (docs.github.com, workflow run logs)',
  },
  {
    id: "network",
    description: "a network failure: connection reset, refused or timed out, DNS, TLS handshake, an interrupted git transfer",
    lookIn: ["annotations", "log"],
    patterns: [
      // Node.js system errors (nodejs.org/api/errors.html, "Common system errors"), as npm, yarn,
      // pnpm and actions print them: "npm ERR! code ECONNRESET", "Error: connect ECONNREFUSED
      // 127.0.0.1:443", "npm error network read ETIMEDOUT", "getaddrinfo EAI_AGAIN registry.npmjs.org".
      /\b(?:ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ESOCKETTIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/,
      /getaddrinfo ENOTFOUND/,
      // Node.js http: "Error: socket hang up".
      /\bsocket hang up\b/i,
      // strerror texts as curl, git, apt and pip print them: "Connection reset by peer",
      // "Connection timed out", "Temporary failure in name resolution" (glibc, EAI_AGAIN).
      /Connection reset by peer/i,
      /Connection timed out/i,
      /Temporary failure in name resolution/i,
      // curl (libcurl error 6 and 7) via git: "fatal: unable to access 'https://github.com/o/r/':
      // Could not resolve host: github.com", "Failed to connect to github.com port 443".
      /Could not resolve host/i,
      /Failed to connect to \S+ port \d+/i,
      // Go's net/http transport, printed by docker, containerd and Go modules:
      // "net/http: TLS handshake timeout", "dial tcp ...: i/o timeout".
      /TLS handshake timeout/i,
      /dial tcp .{0,200}: i\/o timeout/i,
      // git over HTTP: "error: RPC failed; curl 56 GnuTLS recv error (-9)", "fatal: early EOF",
      // "fatal: the remote end hung up unexpectedly" (git-scm.com; GitHub Docs troubleshooting).
      /\bRPC failed\b/,
      /\bearly EOF\b/,
      /the remote end hung up unexpectedly/i,
    ],
    source:
      "Node.js system error codes (nodejs.org/api/errors.html) as npm/yarn print them; curl and git error texts (curl.se/libcurl/c/libcurl-errors.html, git-scm.com); Go net/http as docker prints it",
  },
  {
    id: "registry",
    description: "a package or container registry answered 429, 502, 503 or 504",
    lookIn: ["annotations", "log"],
    patterns: [
      // npm's error codes for HTTP statuses: "npm ERR! code E503", "npm error code E429".
      /\bcode E(?:429|502|503|504)\b/,
      // The reason phrases as npm ("npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/x"),
      // pip ("HTTP error 503 while getting"), docker ("received unexpected HTTP status: 503 Service
      // Unavailable"), Maven and Gradle ("Received status code 502 from server: Bad Gateway") print them.
      /\b429 Too Many Requests\b/i,
      /\b502 Bad Gateway\b/i,
      /\b503 Service Unavailable\b/i,
      /\b504 Gateway Time-?out\b/i,
      /status code:? (?:429|502|503|504)\b/i,
      /HTTP error (?:429|502|503|504)\b/i,
      /received unexpected HTTP status: (?:429|502|503|504)\b/i,
      // Docker Hub: "toomanyrequests: You have reached your pull rate limit."
      /toomanyrequests: You have reached your pull rate limit/i,
    ],
    source:
      "npm CLI error codes (docs.npmjs.com/common-errors), pip, docker/containerd and Docker Hub rate-limit messages (docs.docker.com/docker-hub/download-rate-limit), Maven/Gradle transfer errors",
  },
  {
    id: "disk-full",
    description: "the runner ran out of disk space",
    lookIn: ["annotations", "log"],
    patterns: [
      // The runner's own failure: "System.IO.IOException: No space left on device : '/home/runner/
      // runners/2.x/_diag/Worker_....log'"; libc's strerror(ENOSPC) as every tool prints it.
      /No space left on device/i,
      // Node.js: "ENOSPC: no space left on device, write".
      /\bENOSPC\b/,
      // GitHub's annotation: "You are running out of disk space. The runner will stop working when
      // the machine runs out of disk space."
      /You are running out of disk space/i,
    ],
    source:
      'actions/runner ("System.IO.IOException: No space left on device", reported in actions/runner issues) and GitHub\'s low-disk annotation; libc strerror(ENOSPC)',
  },
];
const STEP_CLASSES = TRANSIENT_CLASSES.filter((c) => c.lookIn.includes("steps"));
const TEXT_CLASSES = TRANSIENT_CLASSES.filter((c) => c.lookIn.includes("annotations") || c.lookIn.includes("log"));

function clip(text: string, max = MAX_EVIDENCE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

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

function failedStepOf(steps: readonly StepFact[]): StepFact | undefined {
  return steps.find((s) => FAILED_STEP.has(s.conclusion ?? ""));
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
export function previousClassifyJob(facts: JobFacts, policy: RerunPolicy): JobClass {
  const lines = linesOf(facts, policy);
  const veto = firstMatch(lines, policy.noRerunPatterns);
  if (veto !== undefined) return { class: "not-transient", evidence: clip(veto.text), vetoed: "NO_RERUN_PATTERNS" };

  const failedStep = failedStepOf(facts.steps);
  if (failedStep !== undefined && policy.noRerunStepMatchers.some((m) => m.test(failedStep.name))) {
    return { class: "not-transient", evidence: clip(`step "${failedStep.name}"`), vetoed: "NO_RERUN_STEPS" };
  }

  const unread = [unreadWhy("annotations", facts.annotations), unreadWhy("log", facts.log)].filter((w): w is string => w !== null);
  // A NO_RERUN pattern could be in what was not read: then a transient signature is not decisive.
  const decisive = unread.length === 0 || policy.noRerunPatterns.length === 0;

  if (failedStep !== undefined) {
    const stepClass = STEP_CLASSES.find((c) => c.patterns.some((p) => p.test(failedStep.name)));
    if (stepClass !== undefined && decisive) {
      return { class: `transient:${stepClass.id}`, evidence: clip(`step "${failedStep.name}"`) };
    }
  }
  for (const from of ["annotations", "log"] as const) {
    for (const c of TEXT_CLASSES) {
      if (!c.lookIn.includes(from)) continue;
      const hit = firstMatch(lines, c.patterns, from);
      if (hit !== undefined && decisive) return { class: `transient:${c.id}`, evidence: clip(hit.text) };
    }
  }
  const user = firstMatch(lines, policy.rerunPatterns);
  if (user !== undefined && decisive) return { class: "transient:pattern", evidence: clip(user.text) };

  if (unread.length > 0) return { class: "unknown", evidence: clip(unread.join("; ")) };
  const where = failedStep !== undefined ? `failed in step "${failedStep.name}"` : "failed";
  const looked = facts.annotations.state === "read" || facts.log.state === "read";
  return { class: "not-transient", evidence: clip(looked ? `${where}, no transient signature in its annotations or log` : where) };
}
