import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, sweepConfigFromEnv } from "@job-rerunner/core";

describe("sweep configuration from the environment", () => {
  it("defaults: no repositories means no sweep; pending reruns are driven every 5 s either way", () => {
    const none = sweepConfigFromEnv({});
    assert.deepEqual(none, { repos: [], deliveries: false, intervalMs: 0, lookbackMs: 3_600_000, pendingIntervalMs: 5000, horizonMs: 24 * 3_600_000 });
    const some = sweepConfigFromEnv({ SWEEP_REPOS: " octo-org/api , octo-org/web.site,Octo-Org/API " });
    assert.deepEqual(some.repos, [
      { owner: "octo-org", name: "api" },
      { owner: "octo-org", name: "web.site" },
    ]);
    assert.equal(some.intervalMs, 300_000, "300 s once SWEEP_REPOS is set");
  });

  it("with a GitHub App the delivery log is swept every 300 s even with no repository; SWEEP_DELIVERIES=false turns it off; a token has no log", () => {
    const app = sweepConfigFromEnv({}, { app: true });
    assert.deepEqual({ d: app.deliveries, i: app.intervalMs }, { d: true, i: 300_000 });
    const off = sweepConfigFromEnv({ SWEEP_DELIVERIES: "false" }, { app: true });
    assert.deepEqual({ d: off.deliveries, i: off.intervalMs }, { d: false, i: 0 });
    assert.throws(() => sweepConfigFromEnv({ SWEEP_DELIVERIES: "true" }), (e: unknown) => e instanceof ConfigError && /^SWEEP_DELIVERIES needs a GitHub App/.test(e.message));
    assert.throws(() => sweepConfigFromEnv({ SWEEP_DELIVERIES: "sometimes" }, { app: true }), (e: unknown) => e instanceof ConfigError && /^SWEEP_DELIVERIES must be true or false/.test(e.message));
  });

  it("SWEEP_INTERVAL_S=0 turns the server's sweep off; lookback and pending interval are read", () => {
    const c = sweepConfigFromEnv({ SWEEP_REPOS: "o/r", SWEEP_INTERVAL_S: "0", SWEEP_LOOKBACK_H: "720", PENDING_INTERVAL_S: "0", SWEEP_HORIZON_H: "168" });
    assert.deepEqual({ i: c.intervalMs, l: c.lookbackMs, p: c.pendingIntervalMs, h: c.horizonMs }, { i: 0, l: 720 * 3_600_000, p: 0, h: 168 * 3_600_000 });
  });

  it("bad values name the variable and what it expects", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SWEEP_REPOS: "just-a-name" }, /^SWEEP_REPOS must be comma-separated owner\/name pairs.*"just-a-name"/],
      [{ SWEEP_REPOS: "o/r/extra" }, /^SWEEP_REPOS /],
      [{ SWEEP_REPOS: "o/.." }, /^SWEEP_REPOS /],
      [{ SWEEP_LOOKBACK_H: "721" }, /^SWEEP_LOOKBACK_H must be a whole number from 1 to 720/],
      [{ SWEEP_LOOKBACK_H: "0" }, /^SWEEP_LOOKBACK_H /],
      [{ SWEEP_INTERVAL_S: "5m" }, /^SWEEP_INTERVAL_S must be a whole number/],
      [{ PENDING_INTERVAL_S: "-1" }, /^PENDING_INTERVAL_S /],
      [{ SWEEP_HORIZON_H: "0" }, /^SWEEP_HORIZON_H must be a whole number from 1 to 720/],
      [{ SWEEP_HORIZON_H: "721" }, /^SWEEP_HORIZON_H /],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => sweepConfigFromEnv(env), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(env));
    }
  });
});
