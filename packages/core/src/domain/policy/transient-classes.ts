/**
 * The built-in transient classes, active under RERUN_WHEN=transient: failures that come from
 * outside the code under test (a lost runner, a job never picked up, the network or a registry,
 * a full disk), so a rerun has a fair chance to pass. Kept as data: adding a class is adding a
 * row, with the public source its messages come from, and a test with a real message.
 *
 * Patterns are matched one line at a time (annotations, then the log tail from its end), each
 * line capped at MAX_LINE_CHARS; every pattern here passes the same safety check as user patterns
 * (see safe-pattern.ts and the test that runs it on this table).
 */

/** Where a class is looked for: the failed step's name, the check-run annotations, the log tail. */
export type FactSource = "steps" | "annotations" | "log";

export interface TransientClass {
  /** The class is reported as `transient:<id>`. */
  readonly id: string;
  readonly description: string;
  readonly lookIn: readonly FactSource[];
  /** For `steps`: matched against the failed step's name; otherwise against each line. */
  readonly patterns: readonly RegExp[];
  /** Where these messages come from (who prints them), so a reader can check them. */
  readonly source: string;
}

export const TRANSIENT_CLASSES: readonly TransientClass[] = [
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
