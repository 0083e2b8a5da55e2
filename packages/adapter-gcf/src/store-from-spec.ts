import type { Settings } from "@google-cloud/firestore";
import { ConfigError, MemoryStore, parseStoreSpec, shownStore, storeSpecText, type Env, type Store, type StoreSpec } from "@job-rerunner/core";
import { DEFAULT_COLLECTION, FirestoreStore, validateCollection } from "./firestore-store.js";

/** This adapter keeps state in Firestore unless STORE says otherwise: instances come and go. */
export const DEFAULT_STORE = "firestore";

/** Project used with FIRESTORE_EMULATOR_HOST when none is set: the emulator accepts any. */
const EMULATOR_PROJECT = "job-rerunner-local";

/**
 * Opens the store named by STORE (`firestore` by default, or `memory`). Firestore settings come
 * from FIRESTORE_COLLECTION, FIRESTORE_DATABASE and the usual GOOGLE_CLOUD_PROJECT; the client
 * itself honours FIRESTORE_EMULATOR_HOST. Nothing connects until the first request.
 */
export function storeFromSpec(spec: StoreSpec | string | null, env: Env): { store: Store; description: string } {
  // Config.store is parsed already (configFromEnv); a string is STORE's text, parsed the same way.
  const chosen = typeof spec === "string" || spec === null ? parseStoreSpec(spec ?? DEFAULT_STORE) : spec;
  if (chosen.kind === "memory") return { store: new MemoryStore(), description: "memory (state is lost when the instance stops)" };
  if (chosen.kind === "firestore") {
    let collection: string;
    try {
      collection = validateCollection(env.FIRESTORE_COLLECTION?.trim() || DEFAULT_COLLECTION);
    } catch (error) {
      throw new ConfigError("FIRESTORE_COLLECTION", error instanceof Error ? error.message : String(error));
    }
    const settings: Settings = {};
    const projectId = env.GOOGLE_CLOUD_PROJECT?.trim() || env.GCLOUD_PROJECT?.trim() || (env.FIRESTORE_EMULATOR_HOST ? EMULATOR_PROJECT : "");
    if (projectId !== "") settings.projectId = projectId;
    // Said explicitly rather than left to the client's own process.env lookup, so an env given in code is obeyed too.
    if (env.FIRESTORE_EMULATOR_HOST) {
      settings.host = env.FIRESTORE_EMULATOR_HOST;
      settings.ssl = false;
      // Said, so the client does not look for Google credentials (and the metadata server, with a
      // MetadataLookupWarning off Google Cloud) just to learn it.
      settings.universeDomain = "googleapis.com";
    }
    const databaseId = env.FIRESTORE_DATABASE?.trim();
    if (databaseId) settings.databaseId = databaseId;
    const where = env.FIRESTORE_EMULATOR_HOST ? `emulator ${env.FIRESTORE_EMULATOR_HOST}` : `database ${databaseId || "(default)"}`;
    return { store: new FirestoreStore({ settings, collection }), description: `firestore ${where}, collection ${collection}` };
  }
  throw new ConfigError("STORE", `must be "firestore" or "memory" for Cloud Functions (state must outlive instances), got "${shownStore(storeSpecText(chosen))}"`);
}
