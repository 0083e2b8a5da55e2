import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AppCredentials } from "../domain/config.js";
import { ConfigError } from "./config-error.js";
import { textFromEnv as set, type Env } from "./primitives.js";

/** Secrets managers often store a PEM on one line with `\n` escapes: accept both. */
function unescapePem(text: string): string {
  return text.includes("\\n") ? text.replace(/\\n/g, "\n") : text;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unreadable";
    throw new ConfigError("GITHUB_APP_PRIVATE_KEY_FILE", `could not be read (${code}): give the path of the App's .pem file`);
  }
}

/**
 * The GitHub App's credentials from GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (or _FILE), or
 * null when no App is configured. The key is checked here, so a bad one stops startup, and no
 * message ever quotes it.
 */
export function appFromEnv(env: Env): AppCredentials | null {
  const appId = set(env, "GITHUB_APP_ID");
  const keyText = set(env, "GITHUB_APP_PRIVATE_KEY");
  const keyFile = set(env, "GITHUB_APP_PRIVATE_KEY_FILE");
  if (appId === undefined && keyText === undefined && keyFile === undefined) return null;
  if (appId === undefined) {
    throw new ConfigError("GITHUB_APP_ID", "is required with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE (the App ID from the App's settings page)");
  }
  if (!/^\d+$/.test(appId)) throw new ConfigError("GITHUB_APP_ID", `must be the App's numeric ID, got "${appId.slice(0, 40)}"`);
  if (keyText !== undefined && keyFile !== undefined) {
    throw new ConfigError("GITHUB_APP_PRIVATE_KEY", "and GITHUB_APP_PRIVATE_KEY_FILE are both set: give the key one way");
  }
  if (keyText === undefined && keyFile === undefined) {
    throw new ConfigError("GITHUB_APP_PRIVATE_KEY", "(or GITHUB_APP_PRIVATE_KEY_FILE) is required with GITHUB_APP_ID: the App's private key (.pem)");
  }
  const variable = keyText !== undefined ? "GITHUB_APP_PRIVATE_KEY" : "GITHUB_APP_PRIVATE_KEY_FILE";
  const privateKey = unescapePem(keyText ?? readKeyFile(keyFile!)).trim();
  try {
    const key = createPrivateKey(privateKey);
    if (key.asymmetricKeyType !== "rsa") throw new Error("not RSA");
  } catch {
    throw new ConfigError(variable, "is not an RSA private key in PEM form (the .pem file GitHub generates for the App)");
  }
  return { appId, privateKey };
}
