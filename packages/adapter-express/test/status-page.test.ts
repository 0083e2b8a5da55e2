// GET /status in a real browser (Chromium driven by playwright-core), after a replay of
// recorded runs over HTTP against the real server (SQLite file store, GitHub = the stand-in).
//
// The browser: CHROMIUM_PATH, which scripts/run-tests.mjs sets (Debian's chromium, or the one in
// @sparticuz/chromium when none is installed: scripts/test-services.mjs). This test does not
// skip: without a browser it fails and says so.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { startFakeGitHub, type FakeGitHub } from "@job-rerunner/testing";
import { startServer, type RunningServer } from "../src/server.js";
import { recordPastDays, replayAttempt, replayRecordedRuns } from "./status-replay.js";
import { BIN, spawnLogged, TSX } from "./support.js";

const SECRET = "status-webhook-secret";
const STATUS_TOKEN = "status-token-for-the-browser-test";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
/** Test artifacts (gitignored); UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/status-page.png. */
const ARTIFACTS = join(ROOT, "artifacts");

/** The server on a SQLite file (GitHub = the stand-in) and a headless Chromium; throws, naming the fix, without a browser. */
async function startStatusServer(gh: FakeGitHub, dir: string, env: Record<string, string>): Promise<RunningServer> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: run the tests with npm test (it finds or unpacks one), or set CHROMIUM_PATH`);
  }
  return startServer(
    { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_status", GITHUB_API_URL: gh.url, STORE: `sqlite:${join(dir, "runs.db")}`, STATUS_TOKEN, LOG_LEVEL: "error", ...env },
    // The replays' refused and failed reruns log errors on purpose: kept out of the test output.
    { port: 0, host: "127.0.0.1", writeLog: () => {} },
  );
}

async function shutDown(browser: Browser | undefined, server: RunningServer | undefined, gh: FakeGitHub | undefined, dir: string | undefined): Promise<void> {
  await browser?.close();
  await server?.close();
  await gh?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // A fresh temporary profile is playwright's default for launch().
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    timeout: 120_000,
  });
}

describe("status page in a real browser", () => {
  let gh: FakeGitHub;
  let server: RunningServer;
  let browser: Browser;
  let dir: string;

  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-status-"));
    // Four earlier flaky runs (days 9 to 26 ago: in the 30-day table and the chart, not the 7-day table).
    await recordPastDays(join(dir, "runs.db"), SECRET, gh, [26, 19, 12, 9], 700);
    server = await startStatusServer(gh, dir, { RUN_ATTEMPTS: "3" });
    await replayRecordedRuns(server.url, SECRET, gh);
    browser = await launchBrowser();
  });
  after(() => shutDown(browser, server, gh, dir));

  it("shows the flaky-job counts, links runs to GitHub, fits a phone, and is saved as a screenshot", async () => {
    const context = await browser.newContext({ httpCredentials: { username: "status", password: STATUS_TOKEN }, viewport: { width: 1200, height: 900 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${server.url}/status`);
      assert.equal(response?.status(), 200);
      const rows = await page.$$eval("#flaky-7 tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
      const row = (job: string) => rows.find((r) => r[2] === job)?.slice(0, 6);
      assert.deepEqual(row("test (ubuntu)"), ["octo-org/octo-repo", "CI", "test (ubuntu)", "4", "3", "1"], JSON.stringify(rows));
      assert.deepEqual(row("lint"), ["octo-org/octo-repo", "CI", "lint", "1", "1", "1"]);
      assert.deepEqual(row("deploy"), ["octo-org/octo-repo", "Deploy", "deploy", "1", "0", "0"]);
      assert.deepEqual(row("smoke"), ["octo-org/octo-repo", "Deploy", "smoke", "1", "0", "0"]);
      assert.equal(rows.length, 4, "build never failed, so it is not listed");
      const rows30 = await page.$$eval("#flaky-30 tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
      assert.equal(rows30.length, 4);
      assert.deepEqual(rows30.find((r) => r[2] === "test (ubuntu)")?.slice(3, 6), ["8", "7", "5"], "the earlier weeks' four flaky runs count over 30 days");
      // The picture: 30 days, 3 bars each, the earlier days' reruns among them, and the figures beside it.
      assert.equal(await page.$$eval("#activity-chart rect > title", (ts) => ts.length), 90);
      const titles = await page.$$eval("#activity-chart rect > title", (ts) => ts.map((t) => t.textContent ?? ""));
      assert.equal(titles.filter((t) => /: 1 failed attempts, 1 re-run, 1 re-run passed$/.test(t)).length, 4 * 3, titles.join("\n"));
      const figure = (id: string) => page.$eval(`#${id} dd`, (dd) => dd.textContent ?? "");
      // Reruns GitHub accepted: 4 earlier, 801, 802 (twice: attempts 1 and 2), 803.
      assert.equal(await figure("reruns-made"), "8");
      assert.equal(await figure("clicks-saved"), "8");

      const links = await page.$$eval("#decisions a", (as) => as.map((a) => a.getAttribute("href") ?? ""));
      assert.ok(links.length >= 8, `decisions link their runs (${links.length})`);
      for (const href of links) assert.match(href, /^https:\/\/github\.com\/octo-org\/octo-repo\/actions\/runs\/(80[1-5]|70[0-3])\/attempts\/[1-3]$/);
      const pending = await page.$$eval("#pending tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
      // A rerun GitHub refused for good (a missing permission) is not pending: it is listed as refused below.
      assert.equal(pending.length, 1, pending.join("\n"));
      assert.ok(pending.some((t) => /#805/.test(t) && /500/.test(t)), pending.join("\n"));
      const refused = await page.$$eval("#refused tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
      assert.ok(refused.some((t) => /#804/.test(t) && /Resource not accessible/.test(t)), refused.join("\n"));
      assert.ok(refused.some((t) => /#802/.test(t) && /RUN_ATTEMPTS=3/.test(t)), refused.join("\n"));
      assert.equal(await page.$$eval("script, link, img", (els) => els.length), 0, "no scripts or external assets");

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, "status-page.png");
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.UPDATE_DOCS_SCREENSHOT === "1") copyFileSync(shot, join(ROOT, "docs", "status-page.png"));

      // A phone: the page itself never scrolls sideways (wide tables scroll in their own box).
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
      assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
      await page.screenshot({ path: join(ARTIFACTS, "status-page-phone.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it("without the token (or with a wrong one) it answers 401 and reveals nothing", async () => {
    const context = await browser.newContext();
    try {
      const response = await context.request.get(`${server.url}/status`);
      assert.equal(response.status(), 401);
      assert.doesNotMatch(await response.text(), /octo-org|octo-repo|test \(ubuntu\)|#80/);
      // A navigation that meets a Basic challenge without credentials is cancelled by a full
      // Chromium (net::ERR_INVALID_AUTH_CREDENTIALS); a headless shell shows the 401 answer.
      const page = await context.newPage();
      const shown = await page.goto(`${server.url}/status`).then(
        async (answer) => ({ status: answer?.status(), text: await page.content() }),
        (error: unknown) => ({ error: String(error) }),
      );
      if ("error" in shown) assert.match(shown.error, /ERR_INVALID_AUTH_CREDENTIALS/, "the browser is refused too");
      else {
        assert.equal(shown.status, 401, "the browser is refused too");
        assert.doesNotMatch(shown.text, /octo-org|octo-repo|test \(ubuntu\)|#80/);
      }
    } finally {
      await context.close();
    }
    const wrongBasic = await fetch(`${server.url}/status`, { headers: { authorization: `Basic ${Buffer.from("status:not-the-token-at-all").toString("base64")}` } });
    assert.equal(wrongBasic.status, 401);
    assert.doesNotMatch(await wrongBasic.text(), /octo-org|octo-repo/);
    const bearer = await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${STATUS_TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.match(await bearer.text(), /octo-org\/octo-repo/);
    const wrongBearer = await fetch(`${server.url}/status`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrongBearer.status, 401);
    assert.equal(wrongBearer.headers.get("www-authenticate"), 'Basic realm="job-rerunner status", charset="UTF-8"');
  });
});

describe("status page without STATUS_TOKEN", () => {
  it("is not served: a JSON 404 that names STATUS_TOKEN as the way to turn it on", async () => {
    const server = await startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "error" }, { port: 0, host: "127.0.0.1" });
    try {
      const response = await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${STATUS_TOKEN}` } });
      assert.equal(response.status, 404);
      const body = (await response.json()) as { status: number; reason: string };
      assert.equal(body.status, 404);
      assert.match(body.reason, /the status page is off: set STATUS_TOKEN \(at least 12 characters/);
    } finally {
      await server.close();
    }
  });

  it("a short STATUS_TOKEN is a configuration error", async () => {
    await assert.rejects(startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", STATUS_TOKEN: "short" }, { port: 0 }), /STATUS_TOKEN/);
  });
});

// The evidence column is the classifier's own, recorded by the engine for a classified failure:
// nothing here builds a history entry by hand.
describe("status page evidence from the rerun policy, in a real browser", () => {
  let gh: FakeGitHub;
  let server: RunningServer;
  let browser: Browser;
  let dir: string;
  const TRANSIENT_LINE = "npm ERR! network read ECONNRESET";
  const GENUINE_LINE = "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal";

  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-evidence-"));
    server = await startStatusServer(gh, dir, { RERUN_WHEN: "transient" });
    gh.rerun("ok");
    for (const runId of [901, 902]) gh.run(runId).status = "completed";
    // 901: the job's log ends with a network error: transient, re-run, and passes on its rerun.
    gh.log(9011, `2024-05-01T12:00:00.0000000Z npm install\n2024-05-01T12:00:01.0000000Z ${TRANSIENT_LINE}\n2024-05-01T12:00:01.5000000Z ##[error]Process completed with exit code 1.\n`);
    await replayAttempt(server.url, SECRET, 901, 1, [{ id: 9011, name: "install", conclusion: "failure" }]);
    await replayAttempt(server.url, SECRET, 901, 2, [{ id: 9012, name: "install", conclusion: "success" }]);
    // 902: an assertion: genuine, not re-run.
    gh.log(9021, `2024-05-01T12:00:00.0000000Z ${GENUINE_LINE}\n2024-05-01T12:00:01.0000000Z ##[error]Process completed with exit code 1.\n`);
    await replayAttempt(server.url, SECRET, 902, 1, [{ id: 9021, name: "unit", conclusion: "failure" }]);
    browser = await launchBrowser();
  });
  after(() => shutDown(browser, server, gh, dir));

  it("the flaky-job table's evidence column shows the line the classifier decided on", async () => {
    assert.equal(gh.calls.filter((c) => c.method === "POST" && /\/actions\/runs\/901\/rerun-failed-jobs$/.test(c.path)).length, 1, "the transient failure was re-run");
    assert.equal(gh.calls.filter((c) => c.method === "POST" && /\/actions\/runs\/902\//.test(c.path)).length, 0, "the genuine one was not");
    const context = await browser.newContext({ httpCredentials: { username: "status", password: STATUS_TOKEN } });
    try {
      const page = await context.newPage();
      assert.equal((await page.goto(`${server.url}/status`))?.status(), 200);
      const rows = await page.$$eval("#flaky-7 tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
      const install = rows.find((r) => r[2] === "install");
      const unit = rows.find((r) => r[2] === "unit");
      assert.deepEqual(install?.slice(0, 6), ["octo-org/octo-repo", "CI", "install", "1", "1", "1"], JSON.stringify(rows));
      assert.equal(install?.[6], `${TRANSIENT_LINE} (1×)`);
      assert.deepEqual(unit?.slice(0, 6), ["octo-org/octo-repo", "CI", "unit", "1", "0", "0"], JSON.stringify(rows));
      assert.equal(unit?.[6], `${GENUINE_LINE} (1×)`);
    } finally {
      await context.close();
    }
  });
});

// The first hour, as README tells it: a DRY_RUN server, `job-rerunner send`, then the page.
describe("a first delivery with job-rerunner send, on the status page in a real browser", () => {
  let gh: FakeGitHub;
  let server: RunningServer;
  let browser: Browser;
  let dir: string;
  let sentOut = "";
  let pastReruns = 0;

  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-send-status-"));
    // Real reruns on earlier days (before DRY_RUN was switched on), so the chart has a month.
    pastReruns = await recordPastDays(join(dir, "runs.db"), SECRET, gh, [20, 13, 6, 2], 760);
    server = await startStatusServer(gh, dir, { DRY_RUN: "true" });
    const send = spawnLogged(process.execPath, ["--conditions=source", "--import", TSX, BIN, "send", `${server.url}/`], { PATH: process.env.PATH ?? "", GITHUB_SIGN_KEY: SECRET }, dir);
    const exit = await send.exited;
    sentOut = send.stdout.join("\n");
    assert.equal(exit.code, 0, send.stderr.join("") + sentOut);
    browser = await launchBrowser();
  });
  after(() => shutDown(browser, server, gh, dir));

  it("send ends in 201 'would re-run'; the page shows it as a dry run, counted apart from reruns, and draws the month", async () => {
    assert.match(sentOut, /-> 201 +.*DRY_RUN, would re-run failed jobs \(GitHub not called\)/);
    assert.equal(pastReruns, 4);
    const context = await browser.newContext({ httpCredentials: { username: "status", password: STATUS_TOKEN }, viewport: { width: 1200, height: 900 } });
    try {
      const page = await context.newPage();
      assert.equal((await page.goto(`${server.url}/status`))?.status(), 200);
      const decisions = await page.$$eval("#decisions tbody tr", (trs) =>
        trs.map((tr) => ({ badge: tr.querySelector(".v")?.textContent ?? "", cls: tr.querySelector(".v")?.className ?? "", text: tr.textContent ?? "" })),
      );
      const dry = decisions.filter((d) => d.badge === "dry run");
      assert.equal(dry.length, 1, JSON.stringify(decisions));
      assert.equal(dry[0]!.cls, "v dry-run");
      assert.match(dry[0]!.text, /Codertocat\/Hello-World/);
      assert.match(dry[0]!.text, /would re-run failed jobs/);
      assert.ok(!decisions.some((d) => d.badge === "rerun" && /Hello-World/.test(d.text)), "the dry run is never shown as a rerun");
      const figure = (id: string) => page.$eval(`#${id} dd`, (dd) => dd.textContent ?? "");
      assert.equal(await figure("reruns-made"), "4", "only the real reruns");
      assert.equal(await figure("dry-runs"), "1");
      assert.equal(await figure("reruns-passed"), "100%");
      const titles = await page.$$eval("#activity-chart rect > title", (ts) => ts.map((t) => t.textContent ?? ""));
      assert.equal(titles.length, 90);
      const today = titles.at(-1) ?? "";
      assert.match(today, /: 1 failed attempts, 0 re-run, 0 re-run passed, 1 dry run$/, "today: the dry run, not a rerun");
      assert.equal(titles.filter((t) => /1 re-run, 1 re-run passed$/.test(t)).length, 4 * 3, "the four earlier days");
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "status-page-first-delivery.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
