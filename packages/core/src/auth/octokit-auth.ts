import { createCallbackAuth } from "@octokit/auth-callback";

/** A function giving the token for the next request (an installation token, renewed as it expires). */
export type TokenSource = () => Promise<string>;

/** The Octokit constructor options for a fixed token, a token source, or no authentication. */
export function octokitAuth(token: string | TokenSource | null):
  | { auth: string }
  | { authStrategy: typeof createCallbackAuth; auth: { callback: TokenSource } }
  | Record<string, never> {
  if (token === null) return {};
  if (typeof token === "string") return { auth: token };
  return { authStrategy: createCallbackAuth, auth: { callback: token } };
}
