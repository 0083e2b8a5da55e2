// Hostile requests against the real server (a child process, as `npm start` runs it): unsigned
// uploads are refused from their headers, without reading (or keeping) their bodies; megabyte
// names give small answers and small log lines.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signedDelivery, workflowJobPayload } from "@job-rerunner/testing";
import { startBin, waitFor, type RunningBin } from "./support.js";

const SECRET = "hostile-requests-secret";
const MB = 1024 * 1024;

/** Resident memory of a process in bytes (Linux /proc). */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

interface UploadEnd {
  readonly status: number | null;
  readonly body: string;
  readonly headers: IncomingMessage["headers"];
  /** EPIPE or ECONNRESET: the server closed the connection while the body was still being sent. */
  readonly error: string | null;
}

/**
 * POSTs `size` bytes with no signature header, chunk by chunk with backpressure. The server may
 * answer and close before the body is sent: the write then fails with EPIPE or ECONNRESET, which
 * is an expected end here, not a failure.
 */
function unsignedUpload(url: string, size: number, chunk: Buffer, sendBody = true): Promise<UploadEnd> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let headers: IncomingMessage["headers"] = {};
    let body = "";
    let settled = false;
    const end = (error: string | null): void => {
      if (settled) return;
      settled = true;
      resolve({ status, body, headers, error });
    };
    const req = request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(size), "x-github-event": "workflow_job", "x-github-delivery": "unsigned-upload" },
    });
    req.on("response", (res) => {
      status = res.statusCode ?? null;
      headers = res.headers;
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => end(null));
      res.on("error", (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
    });
    req.on("error", (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
    req.flushHeaders();
    if (!sendBody) return;
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !req.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      if (sent >= size && !req.destroyed) req.end();
    };
    pump();
  });
}

describe("hostile requests against the real server", () => {
  let dir: string;
  let server: RunningBin;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "jr-hostile-"));
    server = await startBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory" }, dir);
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an unsigned request is answered 403 from its headers, before any of its body is sent", { timeout: 120_000 }, async () => {
    let ended: UploadEnd | undefined;
    // 24 MB announced, none sent: a server that waited for the body would never answer.
    const upload = unsignedUpload(server.url, 24 * MB, Buffer.alloc(0), false).then((e) => (ended = e));
    await waitFor(() => ended !== undefined, "the 403 to an unsigned request whose body was never sent", 60_000);
    await upload;
    assert.equal(ended!.status, 403);
    assert.equal(ended!.headers.connection, "close");
    assert.deepEqual(JSON.parse(ended!.body), {
      status: 403,
      action: "none",
      reason: "X-Hub-Signature-256 header is missing",
      delivery: "unsigned-upload",
      run: null,
    });
    await waitFor(() => server.logs().some((l) => l.msg === "delivery" && l.delivery === "unsigned-upload" && l.status === 403), "the 403 log line");
  });

  it(
    "8 concurrent unsigned 24 MB uploads keep the server's memory within 50 MB of idle",
    { timeout: 300_000, skip: process.platform !== "linux" && "reads the server's memory from /proc" },
    async () => {
      const pid = server.process.pid!;
      // Settle first: one answered delivery of each kind, so lazily loaded code is already in.
      await unsignedUpload(server.url, 1024, Buffer.alloc(1024, 0x20));
      const warm = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 1, jobId: 1, action: "queued" }));
      assert.equal((await fetch(server.url, { method: "POST", headers: warm.headers, body: warm.rawBody })).status, 202);
      await new Promise((r) => setTimeout(r, 500));
      const idle = rssOf(pid);
      let peak = idle;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssOf(pid));
        } catch {
          // The server exited: the assertions below say so.
        }
      }, 10);
      const chunk = Buffer.alloc(MB, 0x7b);
      let ends: UploadEnd[];
      try {
        ends = await Promise.all(Array.from({ length: 8 }, () => unsignedUpload(server.url, 24 * MB, chunk)));
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, rssOf(pid));
      for (const end of ends) {
        // Either the 403 arrived, or the close it came with cut the upload first.
        assert.ok(end.status === 403 || end.error === "EPIPE" || end.error === "ECONNRESET", JSON.stringify({ ...end, headers: undefined }));
      }
      assert.ok(peak - idle < 50 * MB, `RSS grew by ${((peak - idle) / MB).toFixed(1)} MB (idle ${(idle / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB)`);
      // Still serving.
      assert.equal((await fetch(server.url)).status, 200);
    },
  );

  it("a 2 MB job name: the response body and the log line stay small", { timeout: 120_000 }, async () => {
    const name = "n".repeat(2 * MB);
    const delivery = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 4242, jobId: 1, action: "queued", jobName: name }), "huge-job-name");
    const response = await fetch(server.url, { method: "POST", headers: delivery.headers, body: delivery.rawBody });
    const text = await response.text();
    assert.equal(response.status, 202);
    assert.ok(text.length < 4096, `response body ${text.length} bytes`);
    assert.match(JSON.parse(text).reason, /^job "n{199}…" is queued/);
    await waitFor(() => server.stdout.some((l) => l.includes('"huge-job-name"')), "the delivery's log line");
    const line = server.stdout.find((l) => l.includes('"huge-job-name"'))!;
    assert.ok(line.length < 4096, `log line ${line.length} bytes`);
    assert.match(line, /"job":"n{199}…"/);
  });
});
