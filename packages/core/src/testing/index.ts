export { storeContract, sampleRecord, type StoreContractOptions } from "./store-contract.js";
export {
  startFakeGitHub,
  LOG_FLOOD_BYTES,
  type FakeGitHub,
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
export { signBody, signedDelivery, type SignedDelivery } from "./deliveries.js";
export { webhookExamples, workflowJobPayload, workflowRunPayload, type RunShape, type ExampleGroup } from "./payloads.js";
export * from "./arbitraries.js";
export { freePort } from "./ports.js";
