import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the stand-in incoming webhook answers: 200 "ok" (as Slack does), 500, or never. */
export type NotifyBehaviour = "ok" | "error" | "hang";

export interface FakeNotifyEndpoint {
  /** The URL to use as NOTIFY_URL (a Slack-like path). */
  readonly url: string;
  /** Every request received, whatever was answered. */
  readonly received: { readonly body: string; readonly contentType: string | undefined }[];
  /** The `text` of each message received. */
  texts(): string[];
  behave(behaviour: NotifyBehaviour): void;
  /** Stops, cutting any request held by "hang". */
  close(): Promise<void>;
}

/** A local stand-in for a chat product's incoming webhook (Slack, Mattermost, Teams), over real HTTP. */
export async function startFakeNotifyEndpoint(behaviour: NotifyBehaviour = "ok"): Promise<FakeNotifyEndpoint> {
  let mode = behaviour;
  const received: FakeNotifyEndpoint["received"] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8"), contentType: req.headers["content-type"] });
      if (mode === "hang") return;
      if (mode === "error") {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal_error");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXXXXXX`,
    received,
    texts: () =>
      received.map((r) => {
        const parsed = JSON.parse(r.body) as { text?: unknown };
        return typeof parsed.text === "string" ? parsed.text : "";
      }),
    behave(next) {
      mode = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
