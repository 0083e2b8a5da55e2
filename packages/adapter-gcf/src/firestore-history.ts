import { randomUUID } from "node:crypto";
import { Timestamp, type CollectionReference, type QueryDocumentSnapshot } from "@google-cloud/firestore";
import { historyRow, MAX_HISTORY_PER_RUN, type HistoryEntry } from "@job-rerunner/core";

/** One history entry as stored: the entry as JSON text, with the fields queries and TTL use. */
interface HistoryDocument {
  readonly run: string;
  readonly at: number;
  /** A Timestamp, so the collection's TTL policy on `expiresAt` deletes old entries. */
  readonly expiresAt: Timestamp;
  readonly entry: string;
}

/**
 * FirestoreStore's decision history, in its own collection (`<collection>-history`), shaped as
 * every store's is (`append`, `list(since, limit, now)`); expired entries are deleted by the
 * collection's TTL policy on `expiresAt`, so there is no sweep. Queries use single-field indexes
 * only (`at`, `run`), which Firestore creates by itself: no index to deploy.
 */
export class FirestoreHistory {
  readonly #collection: CollectionReference;

  constructor(collection: CollectionReference) {
    this.#collection = collection;
  }

  async append(entry: HistoryEntry): Promise<void> {
    const row = historyRow(entry);
    const run = row.run;
    const document: HistoryDocument = { run, at: row.at, expiresAt: Timestamp.fromMillis(row.expiresAt), entry: row.json };
    await this.#collection.doc(`${run}-${entry.at}-${randomUUID().slice(0, 8)}`).create(document);
    // The cap: a run has at most a few dozen entries, so reading them all is cheap.
    const all = await this.#collection.where("run", "==", run).get();
    if (all.size <= MAX_HISTORY_PER_RUN) return;
    const oldest = all.docs
      .map((d) => ({ ref: d.ref, at: Number((d.data() as Partial<HistoryDocument>).at ?? 0), id: d.id }))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
      .slice(0, all.size - MAX_HISTORY_PER_RUN);
    const batch = this.#collection.firestore.batch();
    for (const d of oldest) batch.delete(d.ref);
    await batch.commit();
  }

  async list(since: number, limit: number, now: number): Promise<HistoryEntry[]> {
    const wanted = Math.max(0, Math.floor(limit));
    const live: { at: number; id: string; entry: HistoryEntry }[] = [];
    const seen = new Set<string>();
    const take = (docs: readonly QueryDocumentSnapshot[]): void => {
      for (const doc of docs) {
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        const data = doc.data() as Partial<HistoryDocument>;
        // The TTL policy deletes within a day or so, not at once: an expired entry is skipped here.
        if (!(data.expiresAt instanceof Timestamp) || data.expiresAt.toMillis() <= now || typeof data.entry !== "string") continue;
        try {
          live.push({ at: Number(data.at), id: doc.id, entry: JSON.parse(data.entry) as HistoryEntry });
        } catch {
          // Not written by us: skipped, like an unreadable run record.
        }
      }
    };
    // Pages by the `at` value (not by cursor), taking every entry of the page's oldest `at` so
    // equal times are never split between pages: read on past expired entries until enough.
    let before = Number.POSITIVE_INFINITY;
    while (live.length < wanted) {
      const want = wanted - live.length;
      let query = this.#collection.where("at", ">=", since);
      if (before !== Number.POSITIVE_INFINITY) query = query.where("at", "<", before);
      const page = await query.orderBy("at", "desc").limit(want).get();
      take(page.docs);
      const last = page.docs.at(-1);
      if (last === undefined || page.size < want) break;
      before = Number((last.data() as Partial<HistoryDocument>).at);
      take((await this.#collection.where("at", "==", before).get()).docs);
    }
    return live
      .sort((a, b) => b.at - a.at || b.id.localeCompare(a.id))
      .slice(0, wanted)
      .map((e) => e.entry);
  }
}
