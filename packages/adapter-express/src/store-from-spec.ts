import { ConfigError, MemoryStore, parseStoreSpec, type Store, type StoreSpec } from "@job-rerunner/core";
import { PostgresStore, PostgresUnavailable } from "./postgres-store.js";
import { SqliteStore } from "./sqlite-store.js";

/** Where the server keeps state when STORE is not set: a file under ./data, created on first start. */
export const DEFAULT_STORE = "sqlite:./data/job-rerunner.sqlite";

export interface StoreSpecOptions {
  /** A failure the store met in the background (a dropped idle connection, a failed sweep). */
  readonly onBackgroundError?: (message: string) => void;
}

/**
 * Opens the store named by STORE (`memory`, `sqlite:PATH`, `postgres://...`; null means the
 * SQLite default). A PostgreSQL store connects on first use: `openStore` waits for that.
 */
export function storeFromSpec(spec: StoreSpec | string | null, options: StoreSpecOptions = {}): { store: Store; description: string } {
  // Config.store is parsed already (configFromEnv); a string is STORE's text, parsed the same way.
  const chosen = typeof spec === "string" || spec === null ? parseStoreSpec(spec ?? DEFAULT_STORE) : spec;
  switch (chosen.kind) {
    case "memory":
      return { store: new MemoryStore(), description: "memory (state is lost on restart)" };
    case "firestore":
      throw new ConfigError("STORE", `cannot be "firestore" here: Firestore is only supported by @job-rerunner/adapter-gcf; use "memory", "sqlite:PATH" or "postgres://..."`);
    case "sqlite": {
      let store: SqliteStore;
      try {
        store = new SqliteStore(chosen.path);
      } catch (error) {
        throw new ConfigError("STORE", `could not open the SQLite file "${chosen.path}": ${error instanceof Error ? error.message : String(error)}`);
      }
      return { store, description: `sqlite:${store.path}` };
    }
    case "postgres": {
      let store: PostgresStore;
      try {
        store = new PostgresStore(chosen.url, options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError });
      } catch (error) {
        // The message never repeats the URL: it may hold a password.
        throw new ConfigError("STORE", error instanceof PostgresUnavailable ? error.message : "is not a usable PostgreSQL URL");
      }
      return { store, description: `postgres://${store.target}${store.schema === undefined ? "" : ` schema ${store.schema}`}` };
    }
  }
}

/**
 * storeFromSpec, then waits until the store answers (PostgreSQL: connected, tables ready), so a
 * server starts only with a store it can use. A store that cannot be opened is a ConfigError
 * naming STORE and, for PostgreSQL, the host, database and user (never the password).
 */
export async function openStore(spec: StoreSpec | string | null, options: StoreSpecOptions = {}): Promise<{ store: Store; description: string }> {
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
