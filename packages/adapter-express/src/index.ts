export { createWebhookHandler, DEFAULT_HEALTH_TEXT, type WebhookHandler, type WebhookHandlerOptions, type NextFunction } from "./handler.js";
export { readRawBody, keepRawBody, DEFAULT_BODY_LIMIT, type RawBodyResult, type WebhookIncomingMessage, type ParsedRequestFields } from "./raw-body.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export { storeFromSpec, openStore, DEFAULT_STORE, type StoreSpecOptions } from "./store-from-spec.js";
export { PostgresStore, PostgresUnavailable, type PostgresStoreOptions } from "./postgres-store.js";
export { startServer, type ServerOptions, type RunningServer } from "./server.js";
export { createMetrics, type Metrics } from "./metrics.js";
export { createStatusHandler, renderStatusPage, statusPageData, hasToken, type StatusPageData } from "./status-page.js";
