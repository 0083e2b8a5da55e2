// The handler inside Express apps arranged the ways host apps really are (body parsers before
// or after it, a raw parser, no framework at all), over real sockets on 127.0.0.1.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import express4 from "express4";
import { configFromEnv, createRerunner, MemoryStore, silentLogger, type Rerunner } from "@job-rerunner/core";
import { signedDelivery, workflowJobPayload, webhookExamples } from "@job-rerunner/testing";
import { createWebhookHandler, keepRawBody } from "@job-rerunner/adapter-express";
import { deliver } from "./support.js";

const SECRET = "handler-secret";
let nextRun = 93_000;

function rerunner(): Rerunner {
  return createRerunner({ config: configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true" }), store: new MemoryStore(), logger: silentLogger });
}

function queued() {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: nextRun++, jobId: 1, action: "queued" }));
}

const servers: Server[] = [];
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** An Express 5 app with `middleware` mounted before the webhook at /hook; answers the hook's URL. */
async function hookBehind(middleware: express.RequestHandler): Promise<string> {
  const app = express();
  app.use(middleware);
  app.use("/hook", createWebhookHandler({ rerunner: rerunner() }));
  return `${await listen(app)}/hook`;
}

/**
 * Sends a body in chunks with no Content-Length (chunked encoding), as a client may. It carries a
 * signature header (a request without one is refused before its body is read).
 */
function postChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "transfer-encoding": "chunked", "x-hub-signature-256": `sha256=${"0".repeat(64)}` };
    const req = request(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may close the connection after answering 413, while chunks are still going out.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("createWebhookHandler in Express 5", () => {
  it("mounted before a global express.json(): deliveries verify and the app's own JSON routes still parse", async () => {
    const app = express();
    app.use("/github/webhook", createWebhookHandler({ rerunner: rerunner() }));
    app.use(express.json());
    app.post("/api/echo", (req, res) => {
      res.json({ got: req.body as unknown });
    });
    const url = await listen(app);
    const answer = await deliver(`${url}/github/webhook`, queued());
    assert.equal(answer.status, 202, answer.body.reason);
    const echo = await fetch(`${url}/api/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
    assert.deepEqual(await echo.json(), { got: { a: 1 } });
  });

  it("after express.json() kept the raw bytes with keepRawBody: deliveries verify", async () => {
    const app = express();
    app.use(express.json({ verify: keepRawBody, limit: "25mb" }));
    app.use("/github/webhook", createWebhookHandler({ rerunner: rerunner() }));
    const url = await listen(app);
    const answer = await deliver(`${url}/github/webhook`, queued());
    assert.equal(answer.status, 202, answer.body.reason);
  });

  it("after a plain express.json(): a clear 500 explaining the mount order, never a hang or a wrong 403", async () => {
    const app = express();
    app.use(express.json());
    app.use("/github/webhook", createWebhookHandler({ rerunner: rerunner() }));
    const url = await listen(app);
    const answer = await deliver(`${url}/github/webhook`, queued());
    assert.equal(answer.status, 500);
    assert.match(answer.body.reason, /body parser.*before the webhook handler.*keepRawBody/);
  });

  it("after a middleware that only paused the stream: the body is still read, not called consumed", async () => {
    const url = await hookBehind((req, _res, next) => {
      req.pause();
      next();
    });
    const answer = await deliver(url, queued());
    assert.equal(answer.status, 202, answer.body.reason);
  });

  it("an empty POST behind a global express.json(): 403 for the missing signature, not a 500", async () => {
    const answer = await deliver(await hookBehind(express.json()), { headers: { "content-type": "application/json" }, rawBody: "" });
    assert.equal(answer.status, 403);
    assert.match(answer.body.reason, /X-Hub-Signature-256 header is missing/);
  });

  it("after a body parser that kept the text in req.rawBody: deliveries verify", async () => {
    const url = await hookBehind((req, _res, next) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (text += chunk));
      req.on("end", () => {
        Object.assign(req, { rawBody: text });
        next();
      });
    });
    const answer = await deliver(url, queued());
    assert.equal(answer.status, 202, answer.body.reason);
  });

  it("after express.text(): the clear 500, since text is not the bytes GitHub signed", async () => {
    const answer = await deliver(await hookBehind(express.text({ type: "*/*" })), queued());
    assert.equal(answer.status, 500);
    assert.match(answer.body.reason, /body parser/);
  });

  it("after express.raw(): the exact bytes in req.body are used", async () => {
    const app = express();
    app.use(express.raw({ type: "*/*", limit: "25mb" }));
    app.post("/hook", createWebhookHandler({ rerunner: rerunner() }));
    const url = await listen(app);
    assert.equal((await deliver(`${url}/hook`, queued())).status, 202);
  });

  it("GET and HEAD answer the health text, other methods 405", async () => {
    const app = express();
    app.use("/github/webhook", createWebhookHandler({ rerunner: rerunner(), healthText: "up\n" }));
    const url = await listen(app);
    const get = await fetch(`${url}/github/webhook`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), "up\n");
    const head = await fetch(`${url}/github/webhook`, { method: "HEAD" });
    assert.equal(head.status, 200);
    const put = await fetch(`${url}/github/webhook`, { method: "PUT", body: "x" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
  });

  it("204 answers carry the decision in headers, since HTTP allows them no body", async () => {
    const app = express();
    app.use(createWebhookHandler({ rerunner: rerunner() }));
    const url = await listen(app);
    const ping = webhookExamples("ping")[0];
    const response = await fetch(url, { method: "POST", ...toInit(signedDelivery(SECRET, "ping", ping)) });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("x-job-rerunner-action"), "none");
    assert.match(response.headers.get("x-job-rerunner-reason") ?? "", /ping/);
  });
});

describe("createWebhookHandler in Express 4", () => {
  it("mounted before express.json(): deliveries verify", async () => {
    const app = express4();
    app.use("/github/webhook", createWebhookHandler({ rerunner: rerunner() }));
    app.use(express4.json());
    const url = await listen(app);
    const answer = await deliver(`${url}/github/webhook`, queued());
    assert.equal(answer.status, 202, answer.body.reason);
    assert.equal((await fetch(`${url}/github/webhook`)).status, 200);
  });

  it("after express.json({ verify: keepRawBody }): deliveries verify; after a plain express.json(): the clear 500", async () => {
    const kept = express4();
    kept.use(express4.json({ verify: keepRawBody }));
    kept.use("/hook", createWebhookHandler({ rerunner: rerunner() }));
    assert.equal((await deliver(`${await listen(kept)}/hook`, queued())).status, 202);
    const plain = express4();
    plain.use(express4.json());
    plain.use("/hook", createWebhookHandler({ rerunner: rerunner() }));
    const answer = await deliver(`${await listen(plain)}/hook`, queued());
    assert.equal(answer.status, 500);
    assert.match(answer.body.reason, /body parser/);
  });

  it("an empty POST behind express.json() (body-parser 1.x sets req._body): 403 for the missing signature, not a 500", async () => {
    const app = express4();
    app.use(express4.json());
    app.use("/hook", createWebhookHandler({ rerunner: rerunner() }));
    const answer = await deliver(`${await listen(app)}/hook`, { headers: { "content-type": "application/json" }, rawBody: "" });
    assert.equal(answer.status, 403, answer.body.reason);
  });
});

function toInit(d: { headers: Record<string, string>; rawBody: string }): { headers: Record<string, string>; body: string } {
  return { headers: d.headers, body: d.rawBody };
}

describe("body limit", () => {
  it("413 as soon as Content-Length says the body is over the limit", async () => {
    const url = await listen(createWebhookHandler({ rerunner: rerunner(), limit: 1024 }));
    const delivery = signedDelivery(SECRET, "ping", { zen: "x".repeat(2000) });
    const answer = await deliver(url, delivery);
    assert.equal(answer.status, 413);
    assert.match(answer.body.reason, /1024-byte limit/);
  });

  it("413 for a chunked body that grows past the limit, and the server keeps serving", async () => {
    const url = await listen(createWebhookHandler({ rerunner: rerunner(), limit: 1024 }));
    const answer = await postChunked(url, Array.from({ length: 64 }, () => Buffer.alloc(512, 32)));
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body).status, 413);
    // A small delivery (under the 1 KB limit) on a new connection still gets through.
    assert.equal((await deliver(url, signedDelivery(SECRET, "ping", { zen: "small" }))).status, 204);
  });

  it("a body exactly at the limit is read", async () => {
    const delivery = queued();
    const url = await listen(createWebhookHandler({ rerunner: rerunner(), limit: Buffer.byteLength(delivery.rawBody) }));
    assert.equal((await deliver(url, delivery)).status, 202);
  });

  it("refuses a limit that is not a positive whole number", () => {
    assert.throws(() => createWebhookHandler({ rerunner: rerunner(), limit: 0 }), RangeError);
    assert.throws(() => createWebhookHandler({ rerunner: rerunner(), limit: 1.5 }), RangeError);
  });
});

describe("without a framework", () => {
  it("works as a plain node:http handler", async () => {
    const url = await listen(createWebhookHandler({ rerunner: rerunner() }));
    assert.equal((await deliver(url, queued())).status, 202);
  });

  it("a client that goes away mid-body leaves the server serving", async () => {
    const url = await listen(createWebhookHandler({ rerunner: rerunner() }));
    await new Promise<void>((resolve) => {
      const req = request(url, { method: "POST", headers: { "content-length": "100000" } });
      req.on("error", () => resolve());
      req.write("{\"partial\":");
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    assert.equal((await deliver(url, queued())).status, 202);
  });
});
