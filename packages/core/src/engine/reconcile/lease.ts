import type { Store } from "../../ports/store.js";

/**
 * Leases in the store: one holder at a time across instances for a piece of reconciliation (a
 * repository's sweep, the delivery-log pass), freed by expiry when its holder dies.
 */
export interface Held {
  readonly key: string;
  readonly holder: string;
  readonly version: string;
}

/** Takes the lease `key` until `now + ms`, or returns null when another holder has it. Expiry frees a dead holder's lease. */
export async function takeLease(store: Store, key: string, holder: string, now: number, ms: number): Promise<Held | null> {
  const doc = await store.getDoc(key);
  if (doc !== undefined) {
    const value = doc.value;
    const other = typeof value === "object" && value !== null && !("holder" in value && value.holder === holder);
    if (other) return null;
  }
  if (!(await store.putDoc(key, { holder, until: now + ms }, doc?.version, now + ms))) return null;
  const written = await store.getDoc(key);
  return written === undefined ? null : { key, holder, version: written.version };
}

/** Extends a held lease; null when it was lost (expired and taken by another sweeper). */
export async function renewLease(store: Store, held: Held, now: number, ms: number): Promise<Held | null> {
  if (!(await store.putDoc(held.key, { holder: held.holder, until: now + ms }, held.version, now + ms))) return null;
  const written = await store.getDoc(held.key);
  return written === undefined ? null : { ...held, version: written.version };
}

/** Gives the lease back (written already expired, so it counts as absent). */
export async function releaseLease(store: Store, held: Held, now: number): Promise<void> {
  await store.putDoc(held.key, { holder: held.holder, until: now }, held.version, now);
}

/** A held lease kept while work goes on: renewed when half of it has passed (or when asked), until lost. */
export interface LeaseKeeper {
  /** True while the lease is held; renews it first when `force` or when half of it has passed. */
  keep(force?: boolean): Promise<boolean>;
  /** Gives it back (when still held); never throws. */
  release(): Promise<void>;
}

export function keepLease(store: Store, held: Held, clock: () => number, ms: number): LeaseKeeper {
  let lease: Held | null = held;
  let renewedAt = clock();
  return {
    async keep(force = false) {
      if (lease === null) return false;
      if (!force && clock() - renewedAt < ms / 2) return true;
      renewedAt = clock();
      lease = await renewLease(store, lease, renewedAt, ms);
      return lease !== null;
    },
    async release() {
      if (lease !== null) await releaseLease(store, lease, clock()).catch(() => undefined);
    },
  };
}
