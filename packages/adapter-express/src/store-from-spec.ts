import { ConfigError, MemoryStore, type Store } from "@job-rerunner/core";
import { SqliteStore } from "./sqlite-store.js";

/** Where the server keeps state when STORE is not set: a file under ./data, created on first start. */
export const DEFAULT_STORE = "sqlite:./data/job-rerunner.sqlite";

/** Opens the store named by STORE (`memory`, `sqlite:PATH`; null means the SQLite default). */
export function storeFromSpec(spec: string | null): { store: Store; description: string } {
  const chosen = spec ?? DEFAULT_STORE;
  if (chosen === "memory") return { store: new MemoryStore(), description: "memory (state is lost on restart)" };
  if (chosen === "firestore") {
    throw new ConfigError("STORE", `cannot be "firestore" here: Firestore is only supported by @job-rerunner/adapter-gcf; use "memory" or "sqlite:PATH"`);
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
  throw new ConfigError("STORE", `must be "memory", "sqlite:PATH" or "firestore", got "${chosen}"`);
}
