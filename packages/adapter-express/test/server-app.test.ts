// The server as `npm start` runs it, configured as a GitHub App: the key from a file (the way
// a mounted secret arrives), deliveries over real HTTP, the stand-in GitHub issuing tokens.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateAppKeys, signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { deliver, spawnBin, startBin, type RunningBin } from "./support.js";

const SECRET = "app-e2e-secret";
const APP_ID = 909;
const keys = generateAppKeys();

describe("server e2e as a GitHub App", () => {
  let gh: FakeGitHub;
  let server: RunningBin;
  let cwd: string;

  before(async () => {
    gh = await startFakeGitHub({ app: { id: APP_ID, publicKey: keys.publicKey, installations: { 31: "octo-org" } } });
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-app-"));
    writeFileSync(join(cwd, "app.pem"), keys.privateKey);
    server = await startBin(
      {
        GITHUB_SIGN_KEY: SECRET,
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_APP_PRIVATE_KEY_FILE: join(cwd, "app.pem"),
        GITHUB_API_URL: gh.url,
        ALLOWED_OWNERS: "octo-org",
        STORE: "memory",
      },
      cwd,
    );
  });
  after(async () => {
    await server?.stop();
    await gh?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("re-runs with the installation's token, honours the repository's file, refuses strangers", async () => {
    gh.files.set("octo-org", "octo-repo", ".github/job-rerunner.yml", "branches: [master, develop]\n");
    const failed = (runId: number, shape: { branch?: string; owner?: string; installationId?: number }) =>
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure", installationId: 31, ...shape }));
    const develop = await deliver(server.url, failed(8101, { branch: "develop" }));
    assert.equal(develop.status, 201, develop.body.reason);
    const post = gh.calls.find((c) => c.method === "POST" && c.path.endsWith("/runs/8101/rerun-failed-jobs"))!;
    assert.equal(gh.app!.installationOf(post.token), 31);
    const stranger = await deliver(server.url, failed(8102, { owner: "stranger" }));
    assert.equal(stranger.status, 204);
    assert.match(stranger.body.reason, /owner not allowed/);
    const noInstallation = await deliver(
      server.url,
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId: 8103, action: "completed", conclusion: "failure" })),
    );
    assert.equal(noInstallation.status, 204);
    assert.match(noInstallation.body.reason, /no installation/);
    assert.ok(!server.stdout.join("\n").includes("PRIVATE KEY"), "the key is never logged");
  });
});

describe("startup with a bad App configuration", () => {
  const cases: { name: string; env: Record<string, string>; says: RegExp }[] = [
    { name: "an App id without a key", env: { GITHUB_APP_ID: "5" }, says: /GITHUB_APP_PRIVATE_KEY/ },
    { name: "a token and an App", env: { GITHUB_APP_ID: "5", GITHUB_APP_PRIVATE_KEY: keys.privateKey, GITHUB_TOKEN: "ghp_x" }, says: /GITHUB_TOKEN and GITHUB_APP_ID/ },
    { name: "a key that is not a key", env: { GITHUB_APP_ID: "5", GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nc2VjcmV0LXN0dWZm\\n-----END RSA PRIVATE KEY-----" }, says: /not an RSA private key/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 1, one line naming the variables, never the key`, async () => {
      const cwd = mkdtempSync(join(tmpdir(), "job-rerunner-app-bad-"));
      try {
        const child = spawnBin({ GITHUB_SIGN_KEY: SECRET, PORT: "0", ...c.env }, cwd);
        const exit = await child.exited;
        assert.equal(exit.code, 1);
        const lines = child.stderr.join("").split("\n").filter((l) => l.length > 0);
        assert.equal(lines.length, 1, child.stderr.join(""));
        assert.match(lines[0]!, c.says);
        assert.doesNotMatch(lines[0]!, /c2VjcmV0LXN0dWZm|MII/);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
});
