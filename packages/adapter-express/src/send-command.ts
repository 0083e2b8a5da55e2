// `job-rerunner send [URL]` / `npm run send -- [URL]`: a first delivery in one command. Signs one
// failed run's deliveries with GITHUB_SIGN_KEY, posts them to a running server, prints each answer.
import type { Env } from "@job-rerunner/core";
import { exampleRun } from "./example-run.js";
import { postDelivery, type PostedAnswer } from "./post-delivery.js";

export interface SendCommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly clock?: () => number;
}

export const SEND_USAGE = `Usage: job-rerunner send [URL]

Signs and posts one failed run's deliveries to a running job-rerunner (a job queued, the same
job failed, the run completed with a failure), as GitHub would, and prints each answer.
The payloads are real ones GitHub sent (@octokit/webhooks-examples) with a new run id, on the
repository's default branch.

  URL              where the server takes webhooks (default http://127.0.0.1:$PORT/, PORT 5000)
  GITHUB_SIGN_KEY  the server's webhook secret (required): a wrong one is answered 403

Exit codes: 0 when the last answer is a 2xx; 1 when it is not, or nothing answers;
2 on a bad argument. Try it: GITHUB_SIGN_KEY=s DRY_RUN=true npm start, then
GITHUB_SIGN_KEY=s npm run send (201: it would re-run).
`;

/** Returns the exit code. */
export async function runSendCommand(args: readonly string[], env: Env, io: SendCommandIo): Promise<number> {
  if (args.length > 1) {
    io.err(`send takes one URL at most, got ${args.length} arguments (see job-rerunner send --help)`);
    return 2;
  }
  const port = env.PORT?.trim() || "5000";
  const given = args[0] ?? `http://127.0.0.1:${port}/`;
  let url: URL;
  try {
    url = new URL(given);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    io.err(`"${given}" is not an http:// or https:// URL (see job-rerunner send --help)`);
    return 2;
  }
  const secret = env.GITHUB_SIGN_KEY ?? "";
  if (secret.trim() === "") {
    io.err("GITHUB_SIGN_KEY is not set: it must be the server's webhook secret, which signs the deliveries");
    return 1;
  }
  const now = (io.clock ?? Date.now)();
  const deliveries = exampleRun(secret, { runId: now, jobId: now + 1, now });
  io.out(`Sending run ${now}'s deliveries to ${url.href}`);
  let last = 0;
  for (const [i, delivery] of deliveries.entries()) {
    let answer: PostedAnswer;
    try {
      answer = await postDelivery(url, delivery, AbortSignal.timeout(15_000));
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      io.err(`nothing answered at ${url.href} (${cause}): start the server first (GITHUB_SIGN_KEY=... DRY_RUN=true npm start), or give its URL`);
      return 1;
    }
    last = answer.status;
    io.out(`${i + 1}. ${delivery.label.padEnd(48)} -> ${answer.status}  ${answer.reason}`);
  }
  if (last === 401 || last === 403) io.err("the server refused the signature: GITHUB_SIGN_KEY must be the secret the server was started with");
  return last >= 200 && last < 300 ? 0 : 1;
}
