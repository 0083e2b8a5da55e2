import { ConfigError, MemoryStore, shownStore, type Store } from "@job-rerunner/core";
import { PostgresStore, PostgresUnavailable } from "./postgres-store.js";
import { SqliteStore } from "./sqlite-store.js";

/** Where the server keeps state when STORE is not set: a file under ./data, created on first start. */
export const DEFAULT_STORE = "sqlite:./data/job-rerunner.sqlite";

export interface StoreSpecOptions {
  /** A failure the store met in the background (a dropped idle connection, a failed sweep). */
  readonly onBackgroundError?: (message: string) => void;
}

const POSTGRES = /^postgres(ql)?:\/\//;

/**
 * Opens the store named by STORE (`memory`, `sqlite:PATH`, `postgres://...`; null means the
 * SQLite default). A PostgreSQL store connects on first use: `openStore` waits for that.
 */
export function storeFromSpec(spec: string | null, options: StoreSpecOptions = {}): { store: Store; description: string } {
  const chosen = spec ?? DEFAULT_STORE;
  if (chosen === "memory") return { store: new MemoryStore(), description: "memory (state is lost on restart)" };
  if (chosen === "firestore") {
    throw new ConfigError("STORE", `cannot be "firestore" here: Firestore is only supported by @job-rerunner/adapter-gcf; use "memory", "sqlite:PATH" or "postgres://..."`);
  }
  if (chosen.startsWith("sqlite:")) {
    const path = chosen.slice("sqlite:".length);
    let store: SqliteStore;
    try {
      store = new SqliteStore(path);
    } catch (error) {
      throw new ConfigError("STORE", `could not open the SQLite file "${path}": ${error instanceof Error ? error.message : String(error)}`);
    }
    return { store, description: `sqlite:${store.path}` };
  }
  if (POSTGRES.test(chosen)) {
    let store: PostgresStore;
    try {
      store = new PostgresStore(chosen, options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError });
    } catch (error) {
      // The message never repeats the URL: it may hold a password.
      throw new ConfigError("STORE", error instanceof PostgresUnavailable ? error.message : "is not a usable PostgreSQL URL");
    }
    return { store, description: `postgres://${store.target}${store.schema === undefined ? "" : ` schema ${store.schema}`}` };
  }
  throw new ConfigError("STORE", `must be "memory", "sqlite:PATH", "postgres://..." or "firestore", got "${shownStore(chosen)}"`);
}

/**
 * storeFromSpec, then waits until the store answers (PostgreSQL: connected, tables ready), so a
 * server starts only with a store it can use. A store that cannot be opened is a ConfigError
 * naming STORE and, for PostgreSQL, the host, database and user (never the password).
 */
export async function openStore(spec: string | null, options: StoreSpecOptions = {}): Promise<{ store: Store; description: string }> {
  const opened = storeFromSpec(spec, options);
  if (opened.store instanceof PostgresStore) {
    try {
      await opened.store.ready();
    } catch (error) {
      await opened.store.close();
      throw new ConfigError("STORE", `could not be opened: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return opened;
}
