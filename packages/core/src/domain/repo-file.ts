import { parseDocument } from "yaml";
import { settingsFromFile, type Settings } from "./settings.js";
import { clip } from "./text.js";

/** The repository configuration file, read from the default branch. */
export const REPO_CONFIG_PATH = ".github/job-rerunner.yml";
/** Larger files are refused unread: a settings file is a few hundred bytes. */
export const REPO_CONFIG_MAX_BYTES = 64 * 1024;
/** Aliases a file may expand: enough for shared lists, far too few for a "billion laughs". */
const MAX_ALIAS_COUNT = 20;

export type RepoFileResult = { readonly ok: true; readonly settings: Settings } | { readonly ok: false; readonly problem: string };

/**
 * Parses and validates a configuration file's text. Pure; never throws: a problem names the
 * field (or the line) and what is wrong, in one short line.
 */
export function parseRepoFile(text: string): RepoFileResult {
  if (new TextEncoder().encode(text).byteLength > REPO_CONFIG_MAX_BYTES) {
    return { ok: false, problem: `larger than ${REPO_CONFIG_MAX_BYTES} bytes` };
  }
  let document: unknown;
  try {
    const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const error = parsed.errors[0];
    if (error !== undefined) {
      const where = error.linePos?.[0] === undefined ? "" : ` at line ${error.linePos[0].line}`;
      return { ok: false, problem: `not valid YAML${where}: ${error.code}` };
    }
    document = parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // toJS throws when the aliases expand past the limit.
    return { ok: false, problem: `not usable YAML: ${error instanceof Error ? clip(error.message.split("\n")[0]!, 120) : String(error)}` };
  }
  const result = settingsFromFile(document);
  if (result.ok) return { ok: true, settings: result.settings };
  return { ok: false, problem: `${result.problem.field}: ${result.problem.message}` };
}
