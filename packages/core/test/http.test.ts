import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHttpResponse, type ResponseBody } from "@job-rerunner/core";

function reasonHeader(reason: string): string {
  const body: ResponseBody = { status: 202, action: "none", reason, delivery: "d", run: null };
  return toHttpResponse({ status: 202, body }).headers["x-job-rerunner-reason"] ?? assert.fail("no reason header");
}

describe("toHttpResponse", () => {
  it("puts the reason in a header that is visible ASCII and decodes back, whatever a job or branch is called", () => {
    for (const reason of ['job "100% coverage" failed', "branch «release/é»", "job 🎉 done", "tab\there", "%E0%A4%A"]) {
      const header = reasonHeader(reason);
      assert.match(header, /^[\x20-\x7e]*$/);
      assert.equal(decodeURIComponent(header), reason);
    }
  });

  it("never throws on a lone surrogate (JSON may carry one) and never cuts an escape in half", () => {
    assert.equal(decodeURIComponent(reasonHeader("job \ud800 x")), "job \ufffd x");
    const long = "é".repeat(2000);
    const header = reasonHeader(long);
    assert.ok(header.length <= 1024 && header.length > 1000, `${header.length} bytes`);
    assert.match(decodeURIComponent(header), /^é+$/);
    assert.equal(reasonHeader("x".repeat(5000)).length, 1024);
  });

  it("sends no body on 204 but keeps the decision in headers", () => {
    const http = toHttpResponse({ status: 204, body: { status: 204, action: "none", reason: "ping", delivery: null, run: null } });
    assert.equal(http.body, undefined);
    assert.equal(http.headers["x-job-rerunner-reason"], "ping");
  });
});
