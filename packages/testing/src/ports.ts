import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that was free a moment ago, for a child process that must be told its
 * port (PORT must be 1..65535, so port 0 cannot go through the environment).
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
