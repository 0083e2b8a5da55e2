import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  dailyActivity,
  flakyJobs,
  runAttemptUrl,
  webUrl,
  type Activity,
  type Config,
  type FlakyJob,
  type HistoryEntry,
  type Logger,
  type RunRecord,
  type Store,
} from "@job-rerunner/core";

const DAY = 86_400_000;
/** Decisions listed on the page. */
const RECENT = 100;
/** Entries read for the 30-day table: bounded, so a busy installation still gets a quick page. */
const HISTORY_READ_LIMIT = 20_000;
const PENDING_LIMIT = 50;

export interface StatusPageData {
  readonly now: number;
  readonly web: string;
  readonly recent: readonly HistoryEntry[];
  readonly pending: readonly RunRecord[];
  readonly refused: readonly HistoryEntry[];
  readonly flaky7: readonly FlakyJob[];
  readonly flaky30: readonly FlakyJob[];
  /** The last 30 days per day: the chart and the headline figures. */
  readonly activity: Activity;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

function runLink(web: string, owner: string, repo: string, runId: number, attempt: number): string {
  const href = runAttemptUrl(web, owner, repo, runId, attempt);
  return `<a href="${escape(href)}" rel="noreferrer">#${runId}</a>`;
}

function table(caption: string, head: readonly string[], rows: readonly string[][], empty: string, id: string): string {
  const body =
    rows.length === 0
      ? `<tr><td colspan="${head.length}" class="empty">${escape(empty)}</td></tr>`
      : rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  return `<section><h2>${escape(caption)}</h2><div class="scroll"><table id="${id}"><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>
${body}
</tbody></table></div></section>`;
}

/** The chart's series, drawn in this order within each day. */
const SERIES = [
  { field: "failedAttempts", label: "failed attempts", color: "#c0392b" },
  { field: "reruns", label: "re-run", color: "#2f6fbf" },
  { field: "rerunsPassed", label: "re-run passed", color: "#2a9d4b" },
] as const;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The last 30 days as an inline SVG bar chart (no script, no external asset): per day a bar for
 * failed attempts, reruns and reruns that passed, each with a title naming its figures.
 */
export function activityChart(activity: Activity): string {
  const width = 600;
  const height = 160;
  const top = 14;
  const bottom = 18;
  const left = 28;
  const plot = height - top - bottom;
  const slot = (width - left) / activity.days.length;
  const bar = Math.max(1, (slot - 2) / SERIES.length);
  const max = Math.max(1, ...activity.days.map((d) => d.failedAttempts));
  const bars = activity.days.flatMap((d, i) => {
    const title = `${day(d.dayStart)}: ${d.failedAttempts} failed attempts, ${d.reruns} re-run, ${d.rerunsPassed} re-run passed${d.dryRuns > 0 ? `, ${d.dryRuns} dry run` : ""}`;
    return SERIES.map((series, k) => {
      const h = (d[series.field] / max) * plot;
      const x = left + i * slot + 1 + k * bar;
      return `<rect x="${x.toFixed(1)}" y="${(top + plot - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${series.color}"><title>${escape(title)}</title></rect>`;
    });
  });
  const first = activity.days[0];
  const last = activity.days[activity.days.length - 1];
  const legend = SERIES.map((series, k) => `<rect x="${left + k * 130}" y="2" width="9" height="9" fill="${series.color}"/><text x="${left + 13 + k * 130}" y="10">${series.label}</text>`).join("");
  return `<svg id="activity-chart" role="img" aria-labelledby="activity-title" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet" font-size="10" fill="currentColor">
<title id="activity-title">Last 30 days: ${activity.failedAttempts} failed attempts, ${activity.reruns} re-run, ${activity.rerunsPassed} of them passed</title>
${legend}
<line x1="${left}" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="currentColor" stroke-opacity=".4"/>
<text x="${left - 4}" y="${top + 8}" text-anchor="end">${max}</text><text x="${left - 4}" y="${top + plot}" text-anchor="end">0</text>
${bars.join("\n")}
<text x="${left}" y="${height - 4}">${first === undefined ? "" : day(first.dayStart)}</text><text x="${width}" y="${height - 4}" text-anchor="end">${last === undefined ? "" : day(last.dayStart)}</text>
</svg>`;
}

/** The figures beside the chart, for whoever decides whether the tool earns its place. */
function headline(activity: Activity): string {
  const share = activity.reruns === 0 ? "–" : `${Math.round((activity.rerunsPassed / activity.reruns) * 100)}%`;
  const figures = [
    { id: "reruns-made", value: String(activity.reruns), label: "reruns made" },
    { id: "reruns-passed", value: share, label: `passed after the rerun (${activity.rerunsPassed} of ${activity.reruns})` },
    { id: "clicks-saved", value: String(activity.reruns), label: "\u201cRe-run failed jobs\u201d clicks saved" },
    { id: "failed-attempts", value: String(activity.failedAttempts), label: "failed attempts seen" },
    ...(activity.dryRuns > 0 ? [{ id: "dry-runs", value: String(activity.dryRuns), label: "dry-run decisions (would re-run; GitHub not called)" }] : []),
  ];
  return `<dl class="figures">${figures.map((f) => `<div id="${f.id}"><dt>${escape(f.label)}</dt><dd>${escape(f.value)}</dd></div>`).join("")}</dl>`;
}

/** A decision's verdict as a badge: a dry run says so, never "rerun". */
function badge(verdict: HistoryEntry["verdict"]): string {
  return `<span class="v ${escape(verdict)}">${escape(verdict === "dry-run" ? "dry run" : verdict)}</span>`;
}

function flakyTable(caption: string, rows: readonly FlakyJob[], id: string): string {
  return table(
    caption,
    ["Repository", "Workflow", "Job", "Failed", "Re-run", "Re-run passed", "Most common evidence"],
    rows.map((r) => [
      escape(r.repo),
      escape(r.workflow),
      escape(r.job),
      String(r.failures),
      String(r.reruns),
      String(r.rerunsPassed),
      r.evidence === null ? "" : `<code>${escape(r.evidence)}</code> (${r.evidenceCount}×)`,
    ]),
    "No failed jobs in this period.",
    id,
  );
}

/** The status page as one self-contained HTML document (no scripts, no external assets). */
export function renderStatusPage(data: StatusPageData): string {
  const { web } = data;
  const recent = table(
    `Last ${RECENT} decisions`,
    ["Time", "Repository", "Workflow", "Run", "Attempt", "Status", "Verdict", "Reason"],
    data.recent.map((e) => [
      escape(time(e.at)),
      escape(`${e.repo.owner}/${e.repo.name}`),
      escape(e.workflow ?? "(unnamed)"),
      runLink(web, e.repo.owner, e.repo.name, e.runId, e.attempt),
      String(e.attempt),
      String(e.status),
      badge(e.verdict),
      escape(e.reason),
    ]),
    "No decisions recorded yet.",
    "decisions",
  );
  const pending = table(
    "Pending reruns",
    ["Repository", "Workflow", "Run", "Attempt", "Calls", "Last error"],
    data.pending.map((r) => [
      escape(`${r.repo.owner}/${r.repo.name}`),
      escape(r.workflowName ?? "(unnamed)"),
      runLink(web, r.repo.owner, r.repo.name, r.runId, r.attempt),
      String(r.attempt),
      r.rerun.state === "pending" ? String(r.rerun.calls) : "",
      r.rerun.state === "pending" ? escape(r.rerun.lastError ?? "") : "",
    ]),
    "No rerun is pending.",
    "pending",
  );
  const refused = table(
    "Refused and given-up reruns",
    ["Time", "Repository", "Workflow", "Run", "Attempt", "Last error"],
    data.refused.map((e) => [
      escape(time(e.at)),
      escape(`${e.repo.owner}/${e.repo.name}`),
      escape(e.workflow ?? "(unnamed)"),
      runLink(web, e.repo.owner, e.repo.name, e.runId, e.attempt),
      String(e.attempt),
      escape(e.reason),
    ]),
    "Nothing refused or given up on in the last 30 days.",
    "refused",
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>job-rerunner status</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.4; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
  th { white-space: nowrap; }
  td:nth-child(n+4) { font-variant-numeric: tabular-nums; }
  .empty { color: #888; font-style: italic; }
  code { font-size: .85em; word-break: break-word; }
  .v { padding: 0 .35rem; border-radius: .3rem; white-space: nowrap; }
  .rerun, .passed { background: #2a72; } .gave-up, .refused { background: #d332; } .pending { background: #fa02; }
  .dry-run { background: #8883; border: 1px dashed #888; }
  .overview { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
  .overview svg { flex: 2 1 22rem; max-width: 100%; height: auto; }
  .figures { flex: 1 1 12rem; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .5rem; }
  .figures div { border: 1px solid #8884; border-radius: .4rem; padding: .4rem .6rem; }
  .figures dt { font-size: .8rem; color: #888; }
  .figures dd { margin: 0; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
  footer { color: #888; font-size: .8rem; margin-top: 2rem; }
</style>
</head>
<body>
<h1>job-rerunner</h1>
<p>Generated ${escape(time(data.now))}. Read-only: this page shows what was decided and changes nothing.</p>
<section><h2>Last 30 days</h2><div class="overview">${activityChart(data.activity)}${headline(data.activity)}</div></section>
${flakyTable("Flaky jobs, last 7 days", data.flaky7, "flaky-7")}
${flakyTable("Flaky jobs, last 30 days", data.flaky30, "flaky-30")}
${pending}
${refused}
${recent}
<footer>Re-run passed: the job passed in the attempt after its rerun. Evidence comes from the rerun policy, when one classes failures. A dry run (DRY_RUN) decides and records and never re-runs anything: it is never counted as a rerun.</footer>
</body>
</html>
`;
}

/** Reads what the page shows from the store (pure reads). */
export async function statusPageData(store: Store, config: Config, now: number): Promise<StatusPageData> {
  const month = await store.listHistory(now - 30 * DAY, HISTORY_READ_LIMIT);
  const keys = await store.listPending(Number.MAX_SAFE_INTEGER, PENDING_LIMIT);
  const pending: RunRecord[] = [];
  for (const key of keys) {
    const got = await store.get(key);
    if (got !== undefined && got.record.rerun.state === "pending") pending.push(got.record);
  }
  return {
    now,
    web: webUrl(config.githubApiUrl),
    recent: month.slice(0, RECENT),
    pending,
    refused: month.filter((e) => e.verdict === "refused" || e.verdict === "gave-up").slice(0, RECENT),
    flaky7: flakyJobs(month, now - 7 * DAY),
    flaky30: flakyJobs(month, now - 30 * DAY),
    activity: dailyActivity(month, now, 30),
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether the request carries the token: `Authorization: Bearer TOKEN`, or HTTP Basic with the
 * token as the password (any user name). Compared in constant time.
 */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== "string") return false;
  let given: string | undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (bearer !== null) given = bearer[1]!.trim();
  else if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    given = colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/** GET /status: 401 without the token (a fixed body that names nothing), the page with it. */
export function createStatusHandler(options: { store: Store; config: Config; token: string; logger: Logger; clock?: () => number }) {
  const clock = options.clock ?? Date.now;
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (!hasToken(req, options.token)) {
      res.writeHead(401, {
        "www-authenticate": 'Basic realm="job-rerunner status", charset="UTF-8"',
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end("401: the status page needs STATUS_TOKEN (as the HTTP Basic password, or Authorization: Bearer)\n");
      return;
    }
    statusPageData(options.store, options.config, clock()).then(
      (data) => {
        const html = renderStatusPage(data);
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "content-length": String(Buffer.byteLength(html)),
          "cache-control": "no-store",
          "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        });
        res.end(req.method === "HEAD" ? undefined : html);
      },
      (error: unknown) => {
        options.logger({ level: "error", msg: "status page failed", error: error instanceof Error ? error.message : String(error) });
        if (res.headersSent) return;
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end("503: the store could not be read; try again\n");
      },
    );
  };
}
