export { storeContract, sampleRecord, sampleHistoryEntry, type StoreContractOptions } from "./store-contract.js";
export { startFakeGitHub, type FakeGitHub, type FakeRun, type RerunBehaviour, type RecordedCall } from "./github-server.js";
export { signBody, signedDelivery, type SignedDelivery } from "./deliveries.js";
export { webhookExamples, workflowJobPayload, workflowRunPayload, type RunShape, type ExampleGroup } from "./payloads.js";
export * from "./arbitraries.js";
export { freePort } from "./ports.js";
export { startFakeNotifyEndpoint, type FakeNotifyEndpoint, type NotifyBehaviour } from "./notify-server.js";
