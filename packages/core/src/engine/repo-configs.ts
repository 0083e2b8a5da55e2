import { LRUCache } from "lru-cache";
import type { Config } from "../domain/config.js";
import type { ContentsClient, FileReadResult } from "../ports/github.js";
import { parseRepoFile, REPO_CONFIG_MAX_BYTES, REPO_CONFIG_PATH } from "../domain/repo-file.js";
import { overlay, type Settings } from "../domain/settings.js";
import type { RunEvent } from "../domain/types.js";

/** What is known of one repository's configuration file. */
type FileState =
  | { readonly kind: "settings"; readonly settings: Settings }
  | { readonly kind: "missing" }
  | { readonly kind: "invalid"; readonly problem: string }
  | { readonly kind: "unavailable"; readonly message: string };

interface Entry {
  readonly state: FileState;
  readonly etag: string | null;
  /** Until then the entry is used without asking GitHub. */
  readonly freshUntil: number;
}

/** The configuration that serves one event, and a note for its answer when a file could not be used. */
export interface ResolvedConfig {
  readonly config: Config;
  readonly note: string | null;
}

export interface RepoConfigs {
  resolve(event: RunEvent, contents: ContentsClient | null, deadline: number): Promise<ResolvedConfig>;
}

/** A file GitHub could not serve is asked for again after this long at most. */
const RETRY_UNAVAILABLE_MS = 30_000;
/** Repositories remembered at most (least recently used dropped first). */
const MAX_REPOSITORIES = 10_000;
/** The most of a delivery's remaining time reading configuration may take: the rerun needs the rest. */
const MAX_READ_MS = 3000;

/**
 * Per-repository configuration, an engine stage: the server's defaults, overlaid by the
 * owner's `.github` repository's `.github/job-rerunner.yml` (organization defaults), overlaid by
 * the repository's own file. Files are cached per repository and revalidated with
 * If-None-Match once they are older than REPO_CONFIG_TTL_S; a missing file is cached like any
 * other answer. A file that cannot be used never stops a delivery: the defaults apply and the
 * answer's note says which file and what is wrong.
 */
export function createRepoConfigs(config: Config, clock: () => number): RepoConfigs {
  const cache = new LRUCache<string, Entry>({ max: MAX_REPOSITORIES });
  const inFlight = new Map<string, Promise<Entry>>();

  function store(key: string, entry: Entry): Entry {
    cache.set(key, entry);
    return entry;
  }

  function next(prior: Entry | undefined, read: FileReadResult, now: number): Entry {
    const fresh = now + config.repoConfigTtlMs;
    switch (read.kind) {
      case "file": {
        const parsed = parseRepoFile(read.text);
        const state: FileState = parsed.ok ? { kind: "settings", settings: parsed.settings } : { kind: "invalid", problem: parsed.problem };
        return { state, etag: read.etag, freshUntil: fresh };
      }
      case "not-modified":
        return prior === undefined ? { state: { kind: "unavailable", message: "304 for a file never read" }, etag: null, freshUntil: now } : { ...prior, freshUntil: fresh };
      case "missing":
        return { state: { kind: "missing" }, etag: read.etag, freshUntil: fresh };
      case "too-large":
        return { state: { kind: "invalid", problem: `${read.size} bytes, larger than ${REPO_CONFIG_MAX_BYTES}` }, etag: null, freshUntil: fresh };
      case "unavailable": {
        const retry = now + Math.min(config.repoConfigTtlMs, RETRY_UNAVAILABLE_MS);
        // What was read before stays in use: GitHub failing for a moment changes no repository's policy.
        if (prior !== undefined && prior.state.kind !== "unavailable") return { ...prior, freshUntil: retry };
        return { state: { kind: "unavailable", message: read.message }, etag: null, freshUntil: retry };
      }
    }
  }

  function load(owner: string, repo: string, contents: ContentsClient, deadline: number): Promise<Entry> {
    const key = `${owner}/${repo}`.toLowerCase();
    const prior = cache.get(key);
    if (prior !== undefined && clock() < prior.freshUntil) return Promise.resolve(prior);
    let pending = inFlight.get(key);
    if (pending === undefined) {
      const budget = Math.floor(Math.max(0, Math.min(MAX_READ_MS, (deadline - clock()) / 3)));
      const etag = prior !== undefined && prior.state.kind !== "unavailable" ? prior.etag : null;
      // An async wrapper, so even a client that throws at once becomes an "unavailable" read.
      const read = async (): Promise<FileReadResult> =>
        contents.readFile({ owner, repo, path: REPO_CONFIG_PATH }, { etag, maxBytes: REPO_CONFIG_MAX_BYTES, signal: AbortSignal.timeout(budget) });
      pending = read()
        .catch((error: unknown): FileReadResult => ({ kind: "unavailable", message: error instanceof Error ? error.message : String(error) }))
        .then((read) => store(key, next(prior, read, clock())))
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  function noteOf(where: string, state: FileState): string | null {
    if (state.kind === "invalid") return `${where} is invalid (${state.problem}): it is ignored and the defaults apply`;
    if (state.kind === "unavailable") return `${where} could not be read (${state.message}): the defaults apply`;
    return null;
  }

  return {
    async resolve(event, contents, deadline) {
      if (contents === null) return { config, note: null };
      const { owner, name } = event.repo;
      const isOrgRepo = name.toLowerCase() === ".github";
      const [org, own] = await Promise.all([
        isOrgRepo ? undefined : load(owner, ".github", contents, deadline),
        load(owner, name, contents, deadline),
      ]);
      const layers: Settings[] = [];
      if (org?.state.kind === "settings") layers.push(org.state.settings);
      if (own.state.kind === "settings") layers.push(own.state.settings);
      const resolved = layers.length === 0 ? config : overlay(config, ...layers);
      // One cause (no token, GitHub down) failing both reads is said once.
      if (org?.state.kind === "unavailable" && own.state.kind === "unavailable" && org.state.message === own.state.message) {
        return { config: resolved, note: `${REPO_CONFIG_PATH} of ${owner}/${name} and ${owner}/.github could not be read (${own.state.message}): the defaults apply` };
      }
      const notes = [
        org === undefined ? null : noteOf(`${owner}/.github:${REPO_CONFIG_PATH}`, org.state),
        noteOf(`${owner}/${name}:${REPO_CONFIG_PATH}`, own.state),
      ].filter((n): n is string => n !== null);
      return { config: resolved, note: notes.length === 0 ? null : notes.join("; ") };
    },
  };
}
