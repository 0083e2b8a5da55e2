/**
 * The built-in signatures of failures, as data: families of messages that say a failure came from
 * outside the code under test (transient: a rerun has a fair chance) or from the job itself
 * (genuine: a rerun fails the same way). Each family is built from the structure of the messages
 * many tools print (an HTTP status from a fetch, a connection error, a test runner's summary), not
 * from one tool's wording, and names the public threads where people pasted such messages from
 * real CI runs (`sources`; the corpus in corpus/failures.jsonl holds them with labels).
 *
 * How they are used (classify.ts): a line is matched by the first family, in table order, whose
 * patterns match and whose `unless` does not; a `cause` decides where the step failed (the lines
 * just before `##[error]Process completed with exit code N`, nearest the end first), a
 * `consequence` (a generic symptom such as "the remote end hung up") only when no cause is
 * there; an `anywhere` family (the runner itself failed) decides wherever it appears. Every
 * pattern passes the same safety check as a user's (safe-pattern.ts; a test runs it).
 */

/** Where a family is looked for: the failed step's name, or the lines of the annotations and the log tail. */
export type FactSource = "steps" | "lines";

export interface Signature {
  /** A transient family is reported as `transient:<id>`; a genuine one names the family in the evidence. */
  readonly id: string;
  readonly verdict: "transient" | "genuine";
  readonly description: string;
  readonly lookIn: FactSource;
  /** `cause`: decides where the step failed; `consequence`: only when no cause is found there. */
  readonly strength: "cause" | "consequence";
  /** Decides wherever it appears (annotations or any line of the tail): the runner itself failed. */
  readonly anywhere?: boolean;
  readonly patterns: readonly RegExp[];
  /** A line that also matches one of these is not of this family (a refused connection to the job's own loopback service). */
  readonly unless?: readonly RegExp[];
  /** Public threads where people pasted these messages from real CI runs. */
  readonly sources: readonly string[];
}

/** The job's own machine: a service it was meant to start (127.0.0.0/8, ::1, localhost, 0.0.0.0). */
const LOOPBACK = /\b(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0)\b|(?:^|[^\w:])::1\b|\b0:0:0:0:0:0:0:1\b/i;

/** Statuses that say a server or its CDN failed for now: 500, 502, 503, 504 and Cloudflare's 520-529. */
const SERVER_STATUS = "(?:50[0234]|52\\d)";
/** Statuses that say the request itself is wrong (missing, unauthorised, forbidden, conflicting): a rerun gets the same. */
const CLIENT_STATUS = "(?:40[0-9]|41[0-9]|42[0-8])";

export const SIGNATURES: readonly Signature[] = [
  // ----------------------------------------------------------------------------------------
  // The runner itself: decides wherever it appears.
  {
    id: "runner-lost",
    verdict: "transient",
    description: "the runner was shut down, lost, deprovisioned, or failed while running the job",
    lookIn: "lines",
    strength: "cause",
    anywhere: true,
    patterns: [
      /The runner has received a shutdown signal/i,
      /lost communication with the server/i,
      /The hosted runner encountered an error while running your job/i,
      /An error occurred while provisioning resources/i,
      /Received request to deprovision/i,
      /Runner connect error/i,
      /A session for this runner already exists/i,
    ],
    sources: [
      "https://github.com/actions/runner/issues/2427",
      "https://github.com/actions/runner-images/issues/6709",
      "https://github.com/int128/datadog-actions-metrics/pull/528",
      "https://github.com/DeterminateSystems/magic-nix-cache-action/issues/23",
      "https://github.com/actions/runner/issues/3823",
    ],
  },
  {
    id: "not-picked-up",
    verdict: "transient",
    description: "the job was never picked up by a runner",
    lookIn: "lines",
    strength: "cause",
    anywhere: true,
    patterns: [/was not acquired by Runner/i, /^Internal server error\. Correlation ID:/i, /waiting for a hosted runner to come online/i],
    sources: [
      "https://github.com/actions/runner/issues/2252",
    ],
  },
  {
    id: "setup-job",
    verdict: "transient",
    description: 'the job failed in the runner\'s "Set up job" step (runner, image or action download), before any of its own steps ran',
    lookIn: "steps",
    strength: "cause",
    patterns: [/^Set up job$/],
    sources: ["https://docs.github.com/en/actions/monitoring-and-troubleshooting-workflows/using-workflow-run-logs"],
  },
  {
    id: "disk-full",
    verdict: "transient",
    description: "the runner ran out of disk space",
    lookIn: "lines",
    strength: "cause",
    anywhere: true,
    patterns: [/No space left on device/i, /\bENOSPC\b/, /You are running out of disk space/i],
    // The inotify watch limit says ENOSPC too, but it is a setting that fails every time.
    unless: [/file watchers|inotify/i],
    sources: [
      "https://github.com/actions/runner/issues/1807",
      "https://github.com/actions/runner-images/issues/1860",
    ],
  },

  // ----------------------------------------------------------------------------------------
  // Genuine families that look like infrastructure: before the transient ones they resemble.
  {
    id: "loopback-refused",
    verdict: "genuine",
    description: "a connection to the job's own machine (localhost, 127.0.0.0/8, ::1) was refused: a service the job meant to start is not there",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /(?:ECONNREFUSED|Connection refused|ERR_CONNECTION_REFUSED|Cannot connect to|connect ECONN\w+)[^\n]{0,200}?(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1\b|0:0:0:0:0:0:0:1|0\.0\.0\.0)/i,
      /(?:localhost|127\.0\.0\.1)[^\n]{0,120}?(?:ECONNREFUSED|Connection refused|ERR_CONNECTION_REFUSED)/i,
      /"address":\s*"(?:::1|127\.0\.0\.1)"/,
    ],
    sources: [
      "https://github.com/scala-garden/dbuild/issues/28",
      "https://github.com/cypress-io/cypress/issues/17755",
      "https://github.com/bahmutov/start-server-and-test/issues/287",
      "https://github.com/microsoft/playwright/issues/15749",
      "https://github.com/pgjdbc/r2dbc-postgresql/issues/430",
    ],
  },
  {
    id: "git-protocol",
    verdict: "genuine",
    description: "a git:// URL for github.com (a submodule, a dependency): GitHub turned the unauthenticated git protocol (port 9418) off in 2022, so it can only time out",
    lookIn: "lines",
    strength: "cause",
    anywhere: true,
    patterns: [/\bgit:\/\/github\.com\//i, /unauthenticated git protocol on port 9418 is no longer supported/i],
    // The usual workaround names git:// too, to rewrite it.
    unless: [/insteadOf|git config/i],
    sources: [
      "https://github.com/jmodares/UB-ANC-Emulator/issues/5",
      "https://github.com/br0ns/PreML/issues/3",
    ],
  },

  // ----------------------------------------------------------------------------------------
  // A rate limit first: GitHub answers a used-up limit with a 403 that says so.
  {
    id: "rate-limit",
    verdict: "transient",
    description: "a rate limit: GitHub's API (primary or secondary), Docker Hub's pulls, a registry's or a service's 429",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /API rate limit exceeded/i,
      /secondary rate limit/i,
      /RateLimitExceeded/,
      /Request quota exhausted/i,
      /\btoomanyrequests\b/i,
      /\bToo Many Requests\b/i,
      /\bcode E429\b/,
      /\bRate limit reached\b/i,
      /\b(?:status|status code|HTTP|HTTP error|ERROR|error code|responded with|returned error)[:= ]{0,3}\(?429\b/i,
      /\b429 -/,
    ],
    sources: [
      "https://github.com/extractions/setup-crate/issues/1",
      "https://github.com/jiro4989/setup-nim-action/issues/296",
      "https://github.com/arduino/actions/issues/65",
      "https://github.com/actions/setup-go/issues/16",
      "https://github.com/actions/setup-python/issues/184",
    ],
  },
  // ----------------------------------------------------------------------------------------
  // Genuine: the job's own request, code, tests or workflow. Before the transient families: on one
  // line that says both ("AssertionError: expected 200, got 500"), the job's own verdict is the cause.
  {
    id: "client-error",
    verdict: "genuine",
    description: "a request the server refused as wrong (400, 401, 403, 404, 409, 422: missing, unauthorised, forbidden, conflicting): a rerun gets the same answer",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      new RegExp(`\\b(?:status|status code|HTTP|HTTP error|error code|responded with|returned error|Return code is|code E)[:= ]{0,3}\\(?${CLIENT_STATUS}\\b`, "i"),
      new RegExp(`\\bHTTP\\/\\d(?:\\.\\d)? ${CLIENT_STATUS}\\b`),
      /\b(?:400 +Bad Request|401 +Unauthorized|403 +Forbidden|404 +Not Found|409 +Conflict|410 +Gone|422 +Unprocessable)/i,
      new RegExp(`\\b${CLIENT_STATUS} - [{'"]`),
      /\bcode (?:E40[134]|ENEEDAUTH)\b/,
      /\bUnable to authenticate\b/i,
      /\bAccess denied to\b/i,
    ],
    sources: [
      "https://github.com/Tarsnap/libcperciva/pull/347",
      "https://github.com/Netflix/lemur/pull/3976",
      "https://github.com/actions/runner-images/issues/3433",
      "https://github.com/naverMeet/nekoray/issues/37",
      "https://github.com/github-community-projects/issue-metrics/issues/246",
    ],
  },
  {
    id: "not-found",
    verdict: "genuine",
    description: "a package, version, action, ref or submodule commit that does not exist",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /\bis not in (?:this|the npm) registry\b/,
      /\bNo matching (?:version|distribution) found\b/i,
      /\bCould not find artifact\b/,
      /\bUnable to find package\b/,
      /\bNU110[12]\b/,
      /\bUnable to resolve action\b/,
      /\bRepository not found\b/i,
      /\brepository '[^']{1,200}' not found\b/,
      /\bcouldn't find remote ref\b/,
      /\bdid not match any file\(s\) known to git\b/,
      /\breference is not a tree\b/,
      /\bnot our ref\b/,
      /\bunable to find version\b/i,
    ],
    sources: [
      "https://github.com/helaili/jekyll-action/issues/104",
      "https://github.com/axel-op/dart-package-analyzer/issues/20",
      "https://github.com/upptime/upptime/issues/559",
      "https://github.com/ytanikin/pr-conventional-commits/issues/29",
      "https://github.com/guilouro/multiple-repositories-dispatch/issues/5",
    ],
  },
  {
    id: "lockfile",
    verdict: "genuine",
    description: "the lockfile does not match the manifest (npm ci, yarn --frozen-lockfile, pnpm, bundler, cargo --locked)",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /\bcan only install packages when your package\.json and package-lock\.json\b/,
      /\bOUTDATED_LOCKFILE\b/,
      /\bYour lockfile needs to be updated\b/i,
      /\bCannot (?:install|perform a frozen installation)\b.{0,80}\blockfile\b/i,
      /\block ?file .{0,60}(?:needs to be updated|not up to date|out of date)\b/i,
    ],
    sources: [
      "https://github.com/looker-open-source/look-at-me-sideways/issues/34",
      "https://github.com/ourongxing/chatgpt-vercel/issues/19",
      "https://github.com/hyoban/rss-to-bot/issues/2",
      "https://github.com/owncloud/ocis/issues/6384",
      "https://github.com/meduzen/datetime-attribute/pull/80",
    ],
  },
  {
    id: "workflow",
    verdict: "genuine",
    description: "the workflow or an action's metadata is invalid",
    lookIn: "lines",
    strength: "cause",
    patterns: [/\bInvalid workflow file\b/, /\bUnrecognized named-value\b/, /\bThe template is not valid\b/, /\berror in your yaml syntax\b/i],
    sources: [
      "https://github.com/mindersec/minder-rules-and-profiles/pull/205",
      "https://github.com/devstream-io/devstream/issues/305",
      "https://github.com/mdn/workflows/issues/39",
      "https://github.com/PavanMudigonda/html-reporter-github-pages/issues/55",
      "https://github.com/dtolnay/install/pull/28",
    ],
  },
  {
    id: "compile",
    verdict: "genuine",
    description: "a compiler or type checker refused the code (tsc, rustc, javac, go, C#)",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /\berror TS\d{3,5}\b/,
      /^TS\d{4}: /,
      /\berror\[E\d{4}\]/,
      /\bcould not compile `/,
      /\bcannot find symbol\b/,
      /\.go:\d+: undefined: /,
      /\.go:\d+:\d+: undefined: /,
      /\bCOMPILATION ERROR\b/,
      /\berror CS\d{4}\b/,
      /\bsymbol: +(?:class|method|variable)\b/,
    ],
    sources: [
      "https://github.com/xssnick/TON-Torrent/issues/18",
      "https://github.com/oxen-io/session-desktop/issues/1900",
      "https://github.com/angular/angular/issues/24015",
      "https://github.com/hastic-zzz/hastic-server/issues/944",
      "https://github.com/bugzmanov/bookokrat/issues/190",
    ],
  },
  {
    id: "tests",
    verdict: "genuine",
    description: "a test failed (an assertion, a panic, a test runner's failure summary)",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /\bAssertionError\b/,
      /\bexpect\(received\)/,
      /^\s*Received: /,
      /\bassertion failed\b/i,
      /\bassertion `[^`]{1,80}` failed\b/,
      /\bpanicked at\b/,
      /\btest result: FAILED\b/,
      /\bTests run: \d+, Failures: [1-9]/,
      /\bTests?: +\d+ failed\b/,
      /^\s*\d+ failing\s*$/,
      /^FAILED \S+::/,
      /^--- FAIL: /,
      /^FAIL\b(?!.*\[setup failed\])/,
      /^\s*Tests\s+\d+ failed\b/,
      /^FAILURES!$/,
      /\bTests: \d+, Assertions: \d+, Failures: [1-9]/,
      /\bTests: \d+, Assertions: \d+, Errors: \d+, Failures: [1-9]/,
      /\b\d+ examples?, [1-9]\d* failures?\b/,
      /\bFailed!\s+- Failed:\s+[1-9]/,
      /\bExecuted \d+ of \d+ .{0,80}\(\d+ FAILED\)/,
      /\bExecuted \d+ out of \d+ tests?: .{0,80}\d+ fails?\b/,
      /\bThere (?:was|were) \d+ failures?\b/,
      /\bFailed tests:/,
      /\bsurefire-reports\b/,
      /\.\.\. FAILED\s*$/,
    ],
    sources: [
      "https://github.com/JeanPaiva42/jest-an-issue/issues/49",
      "https://github.com/postlight/ci-failed-test-reporter/pull/3",
      "https://github.com/Miserlou/Loop/issues/72",
      "https://github.com/wchang22/LuminS/issues/21",
      "https://github.com/facebookincubator/below/issues/8232",
    ],
  },
  {
    id: "lint",
    verdict: "genuine",
    description: "a linter or formatter found problems (eslint, ruff, black, clippy)",
    lookIn: "lines",
    strength: "cause",
    patterns: [/\b\d+ problems? \(\d+ errors?/, /^Found \d+ errors?\.?\s*$/, /\bwould reformat\b/, /\bfiles? would be reformatted\b/],
    sources: [
      "https://github.com/CatalysmsServerManager/7-days-to-die-server-manager/pull/144",
      "https://github.com/eslint/eslint/issues/10004",
      "https://github.com/MatthewFilipovich/torchoptics/pull/62",
      "https://github.com/nardew/talipp/issues/158",
    ],
  },

  // ----------------------------------------------------------------------------------------
  // Transient: rate limits, server errors, the network, truncated transfers.
  {
    id: "registry",
    verdict: "transient",
    description: "a registry, CDN or hosted service answered a server error (500, 502, 503, 504, Cloudflare 520-529) to a fetch, download, pull or push",
    lookIn: "lines",
    strength: "cause",
    unless: [LOOPBACK],
    patterns: [
      new RegExp(`\\b${SERVER_STATUS} +(?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Server Error|Origin|Web Server|Connection Timed Out|A Timeout Occurred|SSL Handshake Failed|Invalid SSL|between bytes timeout)`, "i"),
      new RegExp(`\\b(?:status|status code|HTTP|HTTP error|error code|responded with|returned error|Return code is|response|got)[:= ]{0,3}\\(?${SERVER_STATUS}\\b`, "i"),
      new RegExp(`\\bHTTP\\/\\d(?:\\.\\d)? ${SERVER_STATUS}\\b`),
      new RegExp(`\\bcode E${SERVER_STATUS}\\b`),
      new RegExp(`\\b${SERVER_STATUS} (?:response|-)`, "i"),
      /\bremote: Internal Server Error\b/i,
    ],
    sources: [
      "https://github.com/npm/npm/issues/20904",
      "https://github.com/npm/registry-issue-archive/issues/388",
      "https://github.com/npm/cli/issues/1302",
      "https://github.com/open-sauced/pizza-cli/issues/46",
      "https://github.com/mikaelbr/node-notifier/issues/443",
    ],
  },
  {
    id: "network",
    verdict: "transient",
    description: "a network failure: a connection reset, refused or timed out (to another host), a name that did not resolve, a TLS handshake that did not finish",
    lookIn: "lines",
    strength: "cause",
    unless: [LOOPBACK],
    patterns: [
      /\b(?:ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ESOCKETTIMEDOUT|ENETUNREACH|EHOSTUNREACH|ECONNABORTED|ERR_SOCKET_TIMEOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)\b/,
      /getaddrinfo (?:ENOTFOUND|EAI_AGAIN)/,
      /\bsocket hang up\b/i,
      /\bConnection (?:reset|refused|timed out|aborted)\b/i,
      /\b(?:Operation|Read|Connect|request|SSL connection) timed? ?out\b/i,
      /\bTemporary failure (?:in name resolution|resolving)\b/i,
      /Could not resolve host/i,
      /\bFailed to connect to\b/i,
      /\bjava\.net\.(?:ConnectException|SocketTimeoutException|SocketException|UnknownHostException|NoRouteToHostException)\b/,
      /\bUnknown ?Host(?:Error|Exception)?\b/i,
      /\bSocket timeout\b/i,
      /\bconnResetException\b/,
      /Could(?: not|n't) connect to (?:server|\S+)/i,
      /\bUnable to connect to\b/i,
      /TLS handshake timeout/i,
      /\bi\/o timeout\b/,
      /\bnetwork timeout\b/i,
      /\bClient\.Timeout exceeded\b/,
      /\bNet::(?:OpenTimeout|ReadTimeout)\b/,
      /\b(?:Read|Connect)TimeoutError\b/,
      /\bMax retries exceeded\b/i,
      /\bConnection broken\b/i,
      /\bcurl error (?:6|7|28|35|52|56)\b/,
      /\bcurl: \((?:6|7|28|35|52|56)\)/,
      /\bRPC failed; curl (?:18|52|55|56|92)\b/,
      /\bspurious network error\b/i,
      /\bSSL connect error\b/i,
      /\bGnuTLS recv error\b/,
      /\bClient network socket disconnected\b/i,
      /\bstream error[:;] .{0,80}INTERNAL_ERROR\b/,
      /\bnetwork (?:aborted|request to .{0,200} failed)/i,
      /\bInvalid response body while trying to fetch\b/,
      /\bNU1301\b/,
      /\bRequest timeout\b/i,
      /\berror sending request\b/i,
    ],
    sources: [
      "https://github.com/actions/runner-images/issues/3737",
      "https://github.com/npm/cli/issues/8015",
      "https://github.com/docker/github-builder/pull/190",
      "https://github.com/keymanapp/keyman/issues/10350",
      "https://github.com/ScottLogic/BitFlux/issues/771",
    ],
  },
  {
    id: "truncated",
    verdict: "transient",
    description: "a download cut short or corrupted on the way: an unexpected end of file, a partial transfer, a mirror's hash mismatch",
    lookIn: "lines",
    strength: "cause",
    patterns: [
      /\bunexpected EOF\b/i,
      /\bunexpected end of file\b/i,
      /\bHash Sum mismatch\b/i,
      /\bTransferred a partial file\b/i,
      /\bbytes of body are still expected\b/,
      /https?:\/\/\S+"?: EOF\s*$/,
    ],
    // A parser's or a shell's "unexpected end of file" is the code's.
    unless: [/syntax ?error|while parsing|JSON input/i],
    sources: [
      "https://github.com/sigstore/scaffolding/issues/1970",
      "https://github.com/r-lib/actions/issues/51",
      "https://github.com/DynamoRIO/dynamorio/issues/5851",
      "https://github.com/zulip/zulip/issues/305",
      "https://github.com/docker-library/official-images/issues/3703",
    ],
  },

  // ----------------------------------------------------------------------------------------
  // Consequences: generic symptoms of a broken transfer, decisive only when no cause is found.
  {
    id: "download",
    verdict: "transient",
    description: "a tool, a dependency or a toolchain (setup-* actions, Homebrew, Maven, Gradle, uv) could not be downloaded, and no cause says it is missing",
    lookIn: "lines",
    strength: "consequence",
    unless: [LOOPBACK],
    patterns: [
      /\bCould not (?:GET|HEAD) '/,
      /\bCould not transfer artifact\b/,
      /\bFailed to download (?:resource|distribution|archive)\b/i,
      /\bDownload failed: https?:/,
      /\b(?:Could not load|Unable to (?:download|get)) (?:the )?manifest\b/i,
    ],
    sources: [
      "https://github.com/gradle/gradle/issues/39083",
      "https://github.com/actions/setup-java/issues/645",
    ],
  },
  {
    id: "network",
    verdict: "transient",
    description: "a transfer broke off (git's symptoms of a dropped connection; a tool giving up after its retries)",
    lookIn: "lines",
    strength: "consequence",
    unless: [LOOPBACK],
    patterns: [
      /the remote end hung up unexpectedly/i,
      /\bearly EOF\b/,
      /unexpected disconnect while reading sideband packet/,
      /\bindex-pack failed\b/,
      /There appears to be trouble with your network connection/i,
      /This is a problem related to network connectivity/i,
      /\bfailed after \d+ (?:retries|attempts)\b/i,
      /after connection broken by\b/,
    ],
    sources: [
      "https://github.com/pypa/pip/issues/9489",
      "https://github.com/pypi/warehouse/issues/3708",
      "https://github.com/pypi/warehouse/issues/10523",
      "https://github.com/actions/download-artifact/issues/343",
      "https://github.com/13rac1/block-fixup-merge-action/pull/10",
    ],
  },
];
