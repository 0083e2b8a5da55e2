import { describe, InstallationTokenError } from "./errors.js";
import type { ContentsClient } from "../ports/github.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";

function etagOf(headers: Record<string, string | number | undefined>): string | null {
  const etag = headers.etag;
  return typeof etag === "string" && etag.length > 0 ? etag : null;
}

/** `GET /repos/{owner}/{repo}/contents/{path}` (JSON with base64 content: its `size` is checked before decoding). */
export function createOctokitContents(options: OctokitOptions): ContentsClient {
  const octokit = createOctokit(options);
  return {
    async readFile(file, { etag, maxBytes, signal }) {
      try {
        const response = await octokit.rest.repos.getContent({
          owner: file.owner,
          repo: file.repo,
          path: file.path,
          headers: etag === null ? {} : { "if-none-match": etag },
          request: { signal },
        });
        const data: unknown = response.data;
        if (typeof data !== "object" || data === null || Array.isArray(data) || (data as { type?: unknown }).type !== "file") {
          return { kind: "unavailable", message: `${file.path} is not a file` };
        }
        const { size, content, encoding } = data as { size?: unknown; content?: unknown; encoding?: unknown };
        if (typeof size === "number" && size > maxBytes) return { kind: "too-large", size };
        if (typeof content !== "string" || encoding !== "base64") return { kind: "unavailable", message: `${file.path} came without base64 content` };
        const bytes = Buffer.from(content, "base64");
        if (bytes.length > maxBytes) return { kind: "too-large", size: bytes.length };
        return { kind: "file", text: bytes.toString("utf8"), etag: etagOf(response.headers) };
      } catch (error) {
        if (error instanceof InstallationTokenError) return { kind: "unavailable", message: error.message };
        const { status, message, headers } = describe(error);
        if (status === 304) return { kind: "not-modified" };
        if (status === 404) return { kind: "missing", etag: etagOf(headers) };
        return { kind: "unavailable", message: status === null ? `no answer from GitHub: ${message}` : `${status}: ${message}` };
      }
    },
  };
}
