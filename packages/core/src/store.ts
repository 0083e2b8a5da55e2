import type { RunRecord } from "./types.js";

export interface Versioned {
  readonly record: RunRecord;
  /** Opaque version token; pass it back to `put` to write only if nobody wrote in between. */
  readonly version: string;
}

/**
 * Where run records live. `put` is a compare-and-set: it writes only when the stored version is
 * still `expectedVersion` (`undefined`: only when no live record exists) and says whether it did.
 * A record whose `expiresAt` has passed counts as absent.
 */
export interface Store {
  get(key: string): Promise<Versioned | undefined>;
  put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean>;
  close?(): Promise<void>;
}

/** The record key: repository id and run id, safe as a Firestore document id or a file name. */
export function recordKey(repoId: number, runId: number): string {
  return `r${repoId}-${runId}`;
}

/**
 * In-process store for tests and a single process. Expired records are dropped. Records are kept
 * as JSON text, as the SQLite and Firestore stores keep them: every `get` parses a fresh copy, so
 * callers can never alias what is stored. (JSON text is 1.1-1.9x cheaper per delivery than
 * structuredClone in and out, and smaller than the object graph: see BENCHMARKS.md.)
 */
export class MemoryStore implements Store {
  readonly #rows = new Map<string, { json: string; expiresAt: number; version: number }>();
  readonly #now: () => number;
  #version = 0;
  #writesSinceSweep = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#rows.size;
  }

  async get(key: string): Promise<Versioned | undefined> {
    const row = this.#rows.get(key);
    if (row === undefined) return undefined;
    if (row.expiresAt <= this.#now()) {
      this.#rows.delete(key);
      return undefined;
    }
    return { record: JSON.parse(row.json) as RunRecord, version: String(row.version) };
  }

  async put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean> {
    const row = this.#rows.get(key);
    const live = row !== undefined && row.expiresAt > this.#now() ? row : undefined;
    if (expectedVersion === undefined ? live !== undefined : live === undefined || String(live.version) !== expectedVersion) {
      return false;
    }
    this.#rows.set(key, { json: JSON.stringify(record), expiresAt: record.expiresAt, version: ++this.#version });
    if (++this.#writesSinceSweep >= 1024) this.sweep();
    return true;
  }

  /** Drops every expired record (also done every 1024 writes, so memory stays bounded). */
  sweep(): number {
    this.#writesSinceSweep = 0;
    const now = this.#now();
    let dropped = 0;
    for (const [key, row] of this.#rows) {
      if (row.expiresAt <= now) {
        this.#rows.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    this.#rows.clear();
  }
}
