import type { HistoryEntry } from "../domain/history.js";
import { pendingUntil } from "../domain/record.js";
import { MemoryHistory } from "./memory-history.js";
import type { JsonValue, RunRecord } from "../domain/types.js";
import type { Store, Versioned, VersionedDoc } from "../ports/store.js";

/**
 * In-process store for tests and a single process. Expired records are dropped. Records are kept
 * as JSON text, as the SQLite and Firestore stores keep them: every `get` parses a fresh copy, so
 * callers can never alias what is stored. (JSON text is 1.1-1.9x cheaper per delivery than
 * structuredClone in and out, and smaller than the object graph: see BENCHMARKS.md.)
 */
export class MemoryStore implements Store {
  readonly #rows = new Map<string, { json: string; expiresAt: number; version: number; pendingUntil: number | null }>();
  readonly #docs = new Map<string, { json: string; expiresAt: number; version: number }>();
  readonly #now: () => number;
  readonly #history: MemoryHistory;
  #version = 0;
  #writesSinceSweep = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#history = new MemoryHistory();
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
    this.#rows.set(key, { json: JSON.stringify(record), expiresAt: record.expiresAt, version: ++this.#version, pendingUntil: pendingUntil(record) });
    if (++this.#writesSinceSweep >= 1024) this.sweep();
    return true;
  }

  async getDoc(key: string): Promise<VersionedDoc | undefined> {
    const row = this.#docs.get(key);
    if (row === undefined || row.expiresAt <= this.#now()) return undefined;
    return { value: JSON.parse(row.json) as JsonValue, version: String(row.version) };
  }

  async putDoc(key: string, value: JsonValue, expectedVersion: string | undefined, expiresAt: number): Promise<boolean> {
    const row = this.#docs.get(key);
    const live = row !== undefined && row.expiresAt > this.#now() ? row : undefined;
    if (expectedVersion === undefined ? live !== undefined : live === undefined || String(live.version) !== expectedVersion) {
      return false;
    }
    this.#docs.set(key, { json: JSON.stringify(value), expiresAt, version: ++this.#version });
    return true;
  }

  async listPending(now: number, limit: number): Promise<string[]> {
    const due: { key: string; until: number }[] = [];
    for (const [key, row] of this.#rows) {
      if (row.expiresAt > this.#now() && row.pendingUntil !== null && row.pendingUntil <= now) due.push({ key, until: row.pendingUntil });
    }
    return due
      .sort((a, b) => a.until - b.until)
      .slice(0, Math.max(0, limit))
      .map((d) => d.key);
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    this.#history.append(entry);
    if (++this.#writesSinceSweep >= 1024) this.sweep();
  }

  async listHistory(since: number, limit: number): Promise<HistoryEntry[]> {
    return this.#history.list(since, limit, this.#now());
  }

  /** Drops every expired record (also done every 1024 writes, so memory stays bounded). */
  sweep(): number {
    this.#writesSinceSweep = 0;
    const now = this.#now();
    let dropped = 0;
    for (const rows of [this.#rows, this.#docs]) {
      for (const [key, row] of rows) {
        if (row.expiresAt <= now) {
          rows.delete(key);
          dropped++;
        }
      }
    }
    return dropped + this.#history.sweep(now);
  }

  async close(): Promise<void> {
    this.#rows.clear();
    this.#docs.clear();
    this.#history.clear();
  }
}
