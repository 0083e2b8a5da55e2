import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { signBody } from "./deliveries.js";

/** One attempt of the stand-in App's delivery log, as `GET /app/hook/deliveries` lists it, with the payload it carried. */
export interface FakeLoggedDelivery {
  readonly id: number;
  readonly guid: string;
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  /** 0: no answer (refused, reset, timed out). */
  readonly statusCode: number;
  readonly event: string;
  readonly action: string | null;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
  /** The body sent (and sent again on redelivery), as JSON text. */
  readonly body: string;
}

export interface RecordedAttempt {
  readonly event: string;
  readonly payload: unknown;
  /** What the endpoint answered; 0 for no answer. */
  readonly statusCode: number;
  /** Default: a new GUID. Give one to add another attempt of the same delivery. */
  readonly guid?: string;
  /** Epoch ms; default now. */
  readonly deliveredAt?: number;
  readonly redelivery?: boolean;
}

/**
 * How the stand-in answers `POST /app/hook/deliveries/{id}/attempts` (a queue, the last one sticks):
 * - ok: 202, then the attempt's payload is sent again, signed, to the target and the answer logged.
 * - accept-and-drop: 202 but nothing is sent and nothing logged (GitHub lost it).
 * - server-error: 502.
 * - rate-limited: 403 secondary rate limit with `Retry-After: 60`.
 * - bad-credentials: 401, as for an App JWT GitHub does not accept.
 */
export type RedeliverBehaviour = "ok" | "accept-and-drop" | "server-error" | "rate-limited" | "bad-credentials";

/**
 * The GitHub App's webhook delivery log: what GitHub recorded of each attempt to deliver an event
 * to the App's webhook URL (3 days), listed newest first with cursor pagination, and redelivered
 * on request by sending the same payload again, signed with the webhook secret.
 */
export interface FakeHookDeliveries {
  /** Where deliveries and redeliveries are sent, and the secret that signs them (null: nowhere, every send gets no answer). */
  target(url: string | null, secret: string): void;
  /** Adds an attempt to the log without sending anything: what GitHub recorded of a delivery made earlier. */
  record(attempt: RecordedAttempt): FakeLoggedDelivery;
  /**
   * Delivers an event now as GitHub does (signed POST to the target, 10 s to answer) and logs the
   * outcome. `lose` logs it lost with that status (0, 502, 503) without sending: the server was
   * down, or a proxy in front of it answered.
   */
  deliver(event: string, payload: unknown, options?: { readonly guid?: string; readonly lose?: number }): Promise<FakeLoggedDelivery>;
  /** The log, oldest first. */
  readonly entries: readonly FakeLoggedDelivery[];
  /** Behaviour of the next redelivery requests. */
  redeliver(...behaviours: RedeliverBehaviour[]): void;
  /** Redelivery requests received (whatever was answered), optionally for one GUID. */
  redeliveryRequests(guid?: string): number;
  /** List requests received. */
  listRequests(): number;
  /** The next `times` list requests after the next `after` answer `status` (0: never answered; 429 with `Retry-After: 60`). */
  failList(status: number, times?: number, after?: number): void;
  /** What `x-ratelimit-remaining` the log's answers report from now on (default 4999). */
  rateLimitRemaining(remaining: number): void;
  /** Resolves when every redelivery sent so far has been answered and logged. */
  settled(): Promise<void>;
}

const LIST_PATH = /^\/app\/hook\/deliveries$/;
const ATTEMPTS_PATH = /^\/app\/hook\/deliveries\/(\d+)\/attempts$/;
const GITHUB_TIMEOUT_MS = 10_000;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

export function createFakeHookDeliveries(appId: number | string): FakeHookDeliveries & {
  /** Serves the log's endpoints; false when the path is not one of them. `authorized` is the JWT check's verdict. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: string, jwtProblem: string | null, json: (status: number, body: unknown, headers?: Record<string, string>) => void): boolean;
  close(): void;
} {
  const entries: FakeLoggedDelivery[] = [];
  let nextId = 90_000_001;
  let targetUrl: string | null = null;
  let secret = "";
  let queue: RedeliverBehaviour[] = ["ok"];
  const redeliveries = new Map<string, number>();
  let lists = 0;
  let listFailure = { status: 0, left: 0, after: 0 };
  let remaining = 4999;
  const inFlight = new Set<Promise<unknown>>();
  const aborts = new AbortController();

  const add = (attempt: Omit<FakeLoggedDelivery, "id">): FakeLoggedDelivery => {
    const entry = { id: nextId++, ...attempt };
    entries.push(entry);
    return entry;
  };
  const fieldsOf = (event: string, body: string) => {
    const payload: unknown = JSON.parse(body);
    const p = isObject(payload) ? payload : {};
    const installation = isObject(p.installation) && typeof p.installation.id === "number" ? p.installation.id : null;
    const repository = isObject(p.repository) && typeof p.repository.id === "number" ? p.repository.id : null;
    return { event, action: typeof p.action === "string" ? p.action : null, installationId: installation, repositoryId: repository };
  };

  /** Sends a body to the target as GitHub's webhook sender does; the status answered, 0 when none. */
  async function send(event: string, guid: string, body: string): Promise<number> {
    if (targetUrl === null) return 0;
    try {
      const response = await fetch(targetUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/fake",
          "x-github-event": event,
          "x-github-delivery": guid,
          "x-github-hook-id": "1",
          "x-github-hook-installation-target-type": "integration",
          "x-github-hook-installation-target-id": String(appId),
          "x-hub-signature-256": signBody(secret, body),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(GITHUB_TIMEOUT_MS), aborts.signal]),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  };

  const listJson = (e: FakeLoggedDelivery): Json => ({
    id: e.id,
    guid: e.guid,
    delivered_at: new Date(e.deliveredAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: e.redelivery,
    duration: 0.05,
    status: e.statusCode === 0 ? "failed to connect to host" : e.statusCode >= 200 && e.statusCode < 300 ? "OK" : `Invalid HTTP Response: ${e.statusCode}`,
    status_code: e.statusCode,
    event: e.event,
    action: e.action,
    installation_id: e.installationId,
    repository_id: e.repositoryId,
    throttled_at: null,
  });

  return {
    get entries() {
      return entries;
    },
    target(url, key) {
      targetUrl = url;
      secret = key;
    },
    record(attempt) {
      const body = JSON.stringify(attempt.payload);
      return add({
        guid: attempt.guid ?? randomUUID(),
        deliveredAt: attempt.deliveredAt ?? Date.now(),
        redelivery: attempt.redelivery ?? false,
        statusCode: attempt.statusCode,
        body,
        ...fieldsOf(attempt.event, body),
      });
    },
    async deliver(event, payload, options = {}) {
      const body = JSON.stringify(payload);
      const guid = options.guid ?? randomUUID();
      const statusCode = options.lose !== undefined ? options.lose : await track(send(event, guid, body));
      return add({ guid, deliveredAt: Date.now(), redelivery: false, statusCode, body, ...fieldsOf(event, body) });
    },
    redeliver(...behaviours) {
      if (behaviours.length === 0) throw new Error("redeliver() needs at least one behaviour");
      queue = [...behaviours];
    },
    redeliveryRequests: (guid) => (guid === undefined ? [...redeliveries.values()].reduce((a, b) => a + b, 0) : (redeliveries.get(guid) ?? 0)),
    listRequests: () => lists,
    failList(status, times = 1, after = 0) {
      listFailure = { status, left: times, after };
    },
    rateLimitRemaining(n) {
      remaining = n;
    },
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    close() {
      aborts.abort();
    },
    handle(req, res, path, url, jwtProblem, json) {
      const rate = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": String(remaining), "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) };
      const list = LIST_PATH.test(path);
      const attempts = ATTEMPTS_PATH.exec(path);
      if (!list && attempts === null) return false;
      if (jwtProblem !== null) {
        json(401, { message: jwtProblem, documentation_url: "https://docs.github.com/rest" });
        return true;
      }
      if (list && req.method === "GET") {
        lists++;
        if (listFailure.left > 0 && listFailure.after-- <= 0) {
          listFailure.left--;
          if (listFailure.status === 0) return true; // never answered; closed with the server
          if (listFailure.status === 429) json(429, { message: "You have exceeded a secondary rate limit." }, { ...rate, "retry-after": "60" });
          else json(listFailure.status, { message: "Server Error" }, rate);
          return true;
        }
        const query = new URL(url, "http://127.0.0.1").searchParams;
        const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
        const cursor = query.get("cursor");
        const below = cursor === null ? Number.POSITIVE_INFINITY : Number(/^v1_(\d+)$/.exec(cursor)?.[1] ?? Number.NaN);
        if (Number.isNaN(below)) {
          json(422, { message: "Invalid cursor", documentation_url: "https://docs.github.com/rest/apps/webhooks" }, rate);
          return true;
        }
        const newestFirst = entries.filter((e) => e.id < below).sort((a, b) => b.id - a.id);
        const page = newestFirst.slice(0, perPage);
        const headers: Record<string, string> = { ...rate };
        if (newestFirst.length > perPage) {
          const q = new URLSearchParams({ per_page: String(perPage), cursor: `v1_${page[page.length - 1]!.id}` });
          headers.link = `<http://${req.headers.host ?? "127.0.0.1"}/app/hook/deliveries?${q.toString()}>; rel="next"`;
        }
        json(200, page.map(listJson), headers);
        return true;
      }
      if (attempts !== null && req.method === "POST") {
        const attempt = entries.find((e) => e.id === Number(attempts[1]));
        if (attempt !== undefined) redeliveries.set(attempt.guid, (redeliveries.get(attempt.guid) ?? 0) + 1);
        const behaviour = queue.length > 1 ? queue.shift()! : queue[0]!;
        if (attempt === undefined) {
          json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook" }, rate);
          return true;
        }
        switch (behaviour) {
          case "server-error":
            json(502, { message: "Server Error" }, rate);
            return true;
          case "bad-credentials":
            json(401, { message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" }, rate);
            return true;
          case "rate-limited":
            json(403, { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, { ...rate, "retry-after": "60" });
            return true;
          case "accept-and-drop":
            json(202, {}, rate);
            return true;
          case "ok":
            json(202, {}, rate);
            void track(
              send(attempt.event, attempt.guid, attempt.body).then((statusCode) => {
                const { id: _redelivered, ...same } = attempt;
                add({ ...same, deliveredAt: Date.now(), redelivery: true, statusCode });
              }),
            );
            return true;
        }
      }
      json(404, { message: "Not Found" }, rate);
      return true;
    },
  };
}
