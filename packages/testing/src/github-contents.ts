import { createHash } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";

/** Files served by the stand-in's contents API, from each repository's default branch. */
export interface FakeContents {
  /** Sets (or with null removes) a file; its ETag changes with its text. */
  set(owner: string, repo: string, path: string, text: string | null): void;
  /** Answer every contents request with this status (a GitHub outage) until called with null. */
  failWith(status: number | null): void;
  /** Contents requests for a file so far, and how many were answered 304. */
  requests(owner: string, repo: string, path: string): { readonly total: number; readonly notModified: number };
  /** Serves `GET /repos/{o}/{r}/contents/{path}`; false for any other call. */
  handle(method: string, path: string, ifNoneMatch: IncomingHttpHeaders["if-none-match"], res: ServerResponse): boolean;
}

const CONTENTS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/;

function keyOf(owner: string, repo: string, path: string): string {
  return `${owner.toLowerCase()}/${repo.toLowerCase()}:${path}`;
}

export function createFakeContents(): FakeContents {
  const files = new Map<string, string>();
  const counts = new Map<string, { total: number; notModified: number }>();
  let failure: number | null = null;
  return {
    failWith(status) {
      failure = status;
    },
    set(owner, repo, path, text) {
      if (text === null) files.delete(keyOf(owner, repo, path));
      else files.set(keyOf(owner, repo, path), text);
    },
    requests(owner, repo, path) {
      return counts.get(keyOf(owner, repo, path)) ?? { total: 0, notModified: 0 };
    },
    handle(method, path, ifNoneMatch, res) {
      const match = CONTENTS_PATH.exec(path);
      if (method !== "GET" || match === null) return false;
      const [owner, repo, filePath] = [match[1]!, match[2]!, match[3]!].map(decodeURIComponent) as [string, string, string];
      const key = keyOf(owner, repo, filePath);
      const count = counts.get(key) ?? { total: 0, notModified: 0 };
      counts.set(key, count);
      count.total += 1;
      if (failure !== null) {
        const body = JSON.stringify({ message: "Server Error" });
        res.writeHead(failure, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
        res.end(body);
        return true;
      }
      const text = files.get(key);
      if (text === undefined) {
        const body = JSON.stringify({ message: "Not Found", documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content", status: "404" });
        res.writeHead(404, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
        res.end(body);
        return true;
      }
      const sha = createHash("sha1").update(`blob ${Buffer.byteLength(text)}\0${text}`).digest("hex");
      const etag = `"${sha}"`;
      if (typeof ifNoneMatch === "string" && ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
        count.notModified += 1;
        res.writeHead(304, { etag });
        res.end();
        return true;
      }
      // GitHub wraps the base64 content at 60 characters.
      const content = (Buffer.from(text, "utf8").toString("base64").match(/.{1,60}/g) ?? []).join("\n");
      const name = filePath.slice(filePath.lastIndexOf("/") + 1);
      const body = JSON.stringify({ type: "file", encoding: "base64", size: Buffer.byteLength(text), name, path: filePath, content, sha });
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), etag });
      res.end(body);
      return true;
    },
  };
}
