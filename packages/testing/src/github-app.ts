import { generateKeyPairSync, verify, type KeyObject } from "node:crypto";

export interface FakeAppOptions {
  readonly id: number | string;
  /** The App's public key: the JWT on token requests must verify against it (RS256). */
  readonly publicKey: KeyObject | string;
  /** Lifetime of an issued installation token (GitHub: one hour). */
  readonly tokenTtlMs?: number;
  /**
   * Clock for token expiry (default Date.now), so a test can let tokens expire without waiting.
   * The JWT's own iat/exp are checked against the real time, as the App signs them with it.
   */
  readonly clock?: () => number;
  /** Installation id -> the account it is installed on; when given, other ids 404 and a token only serves its account. */
  readonly installations?: Readonly<Record<number, string>>;
  /** The App's permissions, as `GET /app` and its installation tokens report them (default: what app.yml asks). */
  readonly permissions?: Readonly<Record<string, string>>;
}

/** A key pair as GitHub hands out an App's: the private key as PKCS#1 PEM, the public one as SPKI PEM. */
export function generateAppKeys(): { readonly privateKey: string; readonly publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}

/** What app.yml asks for (`default_permissions`). */
export const APP_YML_PERMISSIONS: Readonly<Record<string, string>> = { actions: "write", checks: "read", contents: "read", metadata: "read" };

export interface IssuedFakeToken {
  readonly installationId: number;
  readonly expiresAt: number;
}

/** The App side of the stand-in: issues installation tokens and checks every call's token. */
export interface AppAuthority {
  /** Token requests received (whatever was answered), optionally for one installation. */
  tokenRequests(installationId?: number): number;
  /** The installation a token was issued to, or undefined for any other token. */
  installationOf(token: string | null): number | undefined;
  /** Answers token requests and refuses calls without a live installation token; false lets the call through. */
  handle(method: string, path: string, token: string | null, answer: (status: number, body: unknown) => void): boolean;
  /** Why a token is not the App's own JWT, as GitHub words it; null when it is. */
  jwtProblem(token: string | null): string | null;
  /** Changes the App's permissions from now on (undefined: back to the start's); GitHub reports them on `GET /app`. */
  setPermissions(permissions?: Readonly<Record<string, string>>): void;
}

const TOKEN_PATH = /^\/app\/installations\/(\d+)\/access_tokens$/;
const REPO_INSTALLATION_PATH = /^\/repos\/([^/]+)\/([^/]+)\/installation$/;
const REPO_PATH = /^\/repos\/([^/]+)\//;

function base64urlJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Why a JWT is not the App's, as GitHub words it, or null when it is. */
function jwtProblem(jwt: string | null, options: FakeAppOptions): string | null {
  if (jwt === null) return "A JSON web token could not be decoded";
  const parts = jwt.split(".");
  if (parts.length !== 3) return "A JSON web token could not be decoded";
  const [head, body, signature] = parts as [string, string, string];
  const header = base64urlJson(head);
  const claims = base64urlJson(body);
  if (header === null || claims === null || header.alg !== "RS256") return "A JSON web token could not be decoded";
  const valid = verify("sha256", Buffer.from(`${head}.${body}`), options.publicKey, Buffer.from(signature, "base64url"));
  if (!valid) return "A JSON web token could not be decoded";
  const now = Math.floor(Date.now() / 1000);
  if (String(claims.iss) !== String(options.id)) return "'Issuer' claim ('iss') must be an Integer";
  if (typeof claims.exp !== "number" || claims.exp <= now) return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  if (claims.exp - now > 600) return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof claims.iat !== "number" || claims.iat > now + 60) return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  return null;
}

export function createAppAuthority(options: FakeAppOptions): AppAuthority {
  const clock = options.clock ?? Date.now;
  const ttl = options.tokenTtlMs ?? 3_600_000;
  const issued = new Map<string, IssuedFakeToken>();
  const requests = new Map<number, number>();
  let serial = 0;
  let permissions = options.permissions ?? APP_YML_PERMISSIONS;
  return {
    jwtProblem: (token) => jwtProblem(token, options),
    setPermissions(next) {
      permissions = next ?? options.permissions ?? APP_YML_PERMISSIONS;
    },
    tokenRequests(installationId) {
      if (installationId !== undefined) return requests.get(installationId) ?? 0;
      let total = 0;
      for (const n of requests.values()) total += n;
      return total;
    },
    installationOf(token) {
      return token === null ? undefined : issued.get(token)?.installationId;
    },
    handle(method, path, token, answer) {
      const tokenPath = TOKEN_PATH.exec(path);
      if (tokenPath !== null) {
        const installationId = Number(tokenPath[1]);
        requests.set(installationId, (requests.get(installationId) ?? 0) + 1);
        if (method !== "POST") answer(404, { message: "Not Found" });
        else {
          const problem = jwtProblem(token, options);
          if (problem !== null) answer(401, { message: problem, documentation_url: "https://docs.github.com/rest" });
          else if (options.installations !== undefined && options.installations[installationId] === undefined) answer(404, { message: "Not Found" });
          else {
            serial += 1;
            const token = `ghs_fake${installationId}x${serial}`;
            const expiresAt = clock() + ttl;
            issued.set(token, { installationId, expiresAt });
            answer(201, {
              token,
              expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
              permissions: { ...permissions },
              repository_selection: "all",
            });
          }
        }
        return true;
      }
      if (path === "/app" && method === "GET") {
        // `GET /app`, as the App: what the credential check at start asks.
        const problem = jwtProblem(token, options);
        if (problem !== null) answer(401, { message: problem, documentation_url: "https://docs.github.com/rest" });
        else
          answer(200, {
            id: options.id,
            slug: "job-rerunner-test",
            name: "job-rerunner (test)",
            permissions: { ...permissions },
            events: ["workflow_job", "workflow_run"],
          });
        return true;
      }
      const repoInstallation = REPO_INSTALLATION_PATH.exec(path);
      if (repoInstallation !== null && method === "GET") {
        // `GET /repos/{owner}/{repo}/installation`, authenticated as the App (its JWT).
        const problem = jwtProblem(token, options);
        const owner = decodeURIComponent(repoInstallation[1]!).toLowerCase();
        const found = Object.entries(options.installations ?? {}).find(([, account]) => account.toLowerCase() === owner);
        if (problem !== null) answer(401, { message: problem, documentation_url: "https://docs.github.com/rest" });
        else if (found === undefined) answer(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app" });
        else answer(200, { id: Number(found[0]), account: { login: found[1] }, app_id: options.id });
        return true;
      }
      const grant = token === null ? undefined : issued.get(token);
      if (grant === undefined || grant.expiresAt <= clock()) {
        answer(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
        return true;
      }
      const owner = REPO_PATH.exec(path)?.[1];
      const account = options.installations?.[grant.installationId];
      if (owner !== undefined && account !== undefined && decodeURIComponent(owner).toLowerCase() !== account.toLowerCase()) {
        // GitHub answers 404 for a repository the installation cannot see.
        answer(404, { message: "Not Found" });
        return true;
      }
      return false;
    },
  };
}
