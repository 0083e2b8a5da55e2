// Starts @firestore-emulator/server (a Node implementation of the Firestore gRPC API) on a free
// port of 127.0.0.1 for the tests, and gives clients and stores connected to it.
import { Firestore } from "@google-cloud/firestore";
import { FirestoreServer } from "@firestore-emulator/server";
export { freePort } from "@job-rerunner/core/testing";
import { freePort } from "@job-rerunner/core/testing";


export interface Emulator {
  /** host:port, as FIRESTORE_EMULATOR_HOST takes it. */
  readonly host: string;
  readonly projectId: string;
  /** A client on the emulator (ssl off, as the client does for FIRESTORE_EMULATOR_HOST). */
  client(): Firestore;
  stop(): Promise<void>;
}

export async function startEmulator(projectId = "job-rerunner-test"): Promise<Emulator> {
  const server = new FirestoreServer();
  const port = await freePort();
  await server.start(port);
  const host = `127.0.0.1:${port}`;
  const clients: Firestore[] = [];
  return {
    host,
    projectId,
    client() {
      const firestore = new Firestore({ projectId, host, ssl: false });
      clients.push(firestore);
      return firestore;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.terminate()));
      server.stop();
    },
  };
}
