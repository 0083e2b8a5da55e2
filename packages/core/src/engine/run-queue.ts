import type { Config } from "../domain/config.js";
import { decide } from "../domain/machine.js";
import type { Decision, RunEvent, RunRecord } from "../domain/types.js";
import type { Observer } from "../ports/observer.js";
import type { Store, Versioned } from "../ports/store.js";
import { backoff } from "./timing.js";

/** A store call bounded by a deadline (the pipeline's storeCall: a late or failed store throws). */
export type BoundedStoreCall = <T>(work: Promise<T>, deadline: number) => Promise<T>;

export interface RunQueueParts {
  readonly store: Store;
  /** Epoch milliseconds, the deadlines' clock. */
  readonly clock: () => number;
  readonly storeCall: BoundedStoreCall;
  readonly observe: Observer;
  /** Compare-and-set attempts a delivery takes part in before it is given up (answered 503). */
  readonly maxConflicts: number;
}

/** A decision once the record holding it is written, and the record it was decided on. */
export interface Decided {
  readonly decision: Decision;
  /** The run's record before this event (undefined: none). */
  readonly prior: RunRecord | undefined;
}

/** get -> decide -> compare-and-set for one run's event. */
export type DecideAndStore = (key: string, event: RunEvent, config: Config, deadline: number) => Promise<Decided>;

interface Waiting {
  readonly event: RunEvent;
  readonly config: Config;
  readonly deadline: number;
  /** Rounds this delivery took part in whose write another writer won. */
  conflicts: number;
  readonly resolve: (decided: Decided) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The decide stage behind a per-run queue: the deliveries of one run that arrive while its
 * compare-and-set is in flight wait, then are decided together, one after the other in arrival
 * order, each on the record the one before left, and written in ONE compare-and-set. A 256-job
 * matrix finishing at once is then a few writes instead of 256 writers retrying the same row.
 *
 * Exactly what deciding them one at a time would give: `decide` is pure, a batch's decisions
 * are answered only once the record holding all of them is written, and a write lost to another
 * writer (another instance) re-reads the record and decides the whole batch again. Nothing else
 * changes: a delivery still gives up after `maxConflicts` lost writes, and the store calls are
 * bounded by the earliest deadline of the batch (when it passes, the deliveries that still have
 * time go on without the ones that ran out).
 */
export function createRunQueue(parts: RunQueueParts): DecideAndStore {
  const { store, clock, storeCall, observe, maxConflicts } = parts;
  /** Per run: deliveries that arrived since its current round started. */
  const arrived = new Map<string, Waiting[]>();
  /** Runs with a round in flight. */
  const busy = new Set<string>();

  /** One get -> decide each -> put; returns the deliveries to decide again (the write was lost). */
  async function round(key: string, batch: Waiting[], lost: number): Promise<Waiting[]> {
    let deadline = Infinity;
    for (const w of batch) deadline = Math.min(deadline, w.deadline);
    let current: Versioned | undefined;
    const decisions: Decided[] = [];
    let written: boolean;
    try {
      current = await storeCall(store.get(key), deadline);
      let record: RunRecord | undefined = current?.record;
      let changed = false;
      for (const w of batch) {
        const decision = decide(record, w.event, w.config);
        decisions.push({ decision, prior: record });
        if (decision.changed && decision.record !== undefined) {
          record = decision.record;
          changed = true;
        }
      }
      written = !changed || record === undefined || (await storeCall(store.put(key, record, current?.version), deadline));
    } catch (error) {
      // The earliest deadline passed (the store call is bounded by it): only the deliveries out
      // of time fail; the others read again (a write that timed out may still land: the re-read
      // sees it, and their memos answer them). Any other failure fails the whole batch.
      const now = clock();
      const timedOut = now >= deadline;
      const again = timedOut ? batch.filter((w) => w.deadline > now) : [];
      for (const w of batch) if (!again.includes(w)) w.reject(error);
      return again;
    }
    if (written) {
      batch.forEach((w, i) => w.resolve(decisions[i]!));
      return [];
    }
    observe({ type: "store-conflict", operation: "decide" });
    const again: Waiting[] = [];
    for (const w of batch) {
      if (++w.conflicts >= maxConflicts) w.reject(new Error(`gave up after ${maxConflicts} conflicting writes`));
      else again.push(w);
    }
    if (again.length > 0) await backoff(lost);
    return again;
  }

  /** Rounds for one run until nobody waits: the deliveries that arrived meanwhile join the next one. */
  async function drain(key: string): Promise<void> {
    busy.add(key);
    let batch: Waiting[] = [];
    try {
      for (let lost = 0; ; ) {
        const waiting = arrived.get(key);
        if (waiting !== undefined) {
          arrived.delete(key);
          batch = batch.length === 0 ? waiting : batch.concat(waiting);
        }
        if (batch.length === 0) return;
        batch = await round(key, batch, lost);
        lost = batch.length === 0 ? 0 : lost + 1;
      }
    } catch (error) {
      // Not expected (round() settles every delivery it is given); nobody may be left waiting.
      for (const w of batch) w.reject(error);
      throw error;
    } finally {
      busy.delete(key);
    }
  }

  return (key, event, config, deadline) =>
    new Promise<Decided>((resolve, reject) => {
      const waiting = arrived.get(key);
      const entry: Waiting = { event, config, deadline, conflicts: 0, resolve, reject };
      if (waiting === undefined) arrived.set(key, [entry]);
      else waiting.push(entry);
      if (!busy.has(key)) {
        drain(key).catch((error: unknown) => {
          // Not expected (round() settles every delivery it is given); nobody may be left waiting.
          const left = arrived.get(key) ?? [];
          arrived.delete(key);
          for (const w of left) w.reject(error);
        });
      }
    });
}
