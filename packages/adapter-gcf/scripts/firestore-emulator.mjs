#!/usr/bin/env node
// A local Firestore for `npm run start:gcf`: @firestore-emulator/server (a Node implementation of
// the Firestore gRPC API; the official emulator needs Java and gcloud). In-memory: state lasts
// until it stops. Then: FIRESTORE_EMULATOR_HOST=127.0.0.1:8181 npm run start:gcf
//
//   npm run firestore-emulator -w @job-rerunner/adapter-gcf      (port: FIRESTORE_EMULATOR_PORT, default 8181)
import { createRequire } from "node:module";
import { FirestoreServer } from "@firestore-emulator/server";
// The same fixes as the tests' emulator: update-time preconditions enforced, as on real Firestore.
import { enforceUpdateTimePreconditions } from "../test/emulator.ts";

const raw = process.env.FIRESTORE_EMULATOR_PORT ?? "8181";
const port = Number(raw);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`firestore-emulator: FIRESTORE_EMULATOR_PORT must be a port number, got "${raw}"\n`);
  process.exit(1);
}
const server = new FirestoreServer();
enforceUpdateTimePreconditions(server.state);
// FirestoreServer.start() binds every interface; a local emulator with no authentication must
// not be reachable from the network, so bind loopback only, with the gRPC copy the server uses.
const grpc = createRequire(createRequire(import.meta.url).resolve("@firestore-emulator/server"))("@grpc/grpc-js");
try {
  await new Promise((resolve, reject) =>
    server.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
  );
} catch (error) {
  process.stderr.write(`firestore-emulator: cannot listen on ${port}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.stdout.write(`Firestore emulator listening on 127.0.0.1:${port}; use FIRESTORE_EMULATOR_HOST=127.0.0.1:${port}\n`);
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
