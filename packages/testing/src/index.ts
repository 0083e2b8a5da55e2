export { storeContract, sampleRecord, sampleHistoryEntry, type StoreContractOptions } from "./store-contract.js";
export {
  startFakeGitHub,
  LOG_FLOOD_BYTES,
  type FakeGitHub,
  type FakeGitHubOptions,
  type FakeRun,
  type RerunBehaviour,
  type ReadBehaviour,
  type CredentialBehaviour,
  type RecordedCall,
  type LogBehaviour,
  type FakeAnnotation,
  type FakeListedJob,
  type FakeListedRun,
} from "./github-server.js";
export { generateAppKeys, type FakeAppOptions, type AppAuthority } from "./github-app.js";
export type { FakeContents } from "./github-contents.js";
export type { FakeHookDeliveries, FakeLoggedDelivery, RecordedAttempt, RedeliverBehaviour } from "./github-deliveries.js";
export { signBody, signedDelivery, type SignedDelivery } from "./deliveries.js";
export { webhookExamples, workflowJobPayload, workflowRunPayload, type RunShape, type ExampleGroup } from "./payloads.js";
export * from "./arbitraries.js";
export { freePort } from "./ports.js";
export { startFakeNotifyEndpoint, type FakeNotifyEndpoint, type NotifyBehaviour } from "./notify-server.js";
