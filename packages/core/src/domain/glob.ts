import { linearPattern, type LinePattern } from "./linear-pattern.js";

const SPECIAL = /[.+?^${}()|[\]\\]/g;

/**
 * A glob as a pattern matched by RE2 (`*` runs would backtrack in JavaScript's engine:
 * `*a*a*a*b` on a long name). Two dialects:
 * - branches (`pathSegments`): `*` within one path segment, `**` across segments, `?` one
 *   character, as in Actions' branch filters;
 * - step names: `*` any run of characters, everything else literal.
 */
export function globToPattern(glob: string, options: { readonly pathSegments: boolean; readonly ignoreCase?: boolean }): LinePattern {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*") {
      if (!options.pathSegments) {
        source += ".*";
      } else if (glob[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else if (ch === "?" && options.pathSegments) {
      source += "[^/]";
    } else {
      source += ch.replace(SPECIAL, "\\$&");
    }
  }
  return linearPattern(`^${source}$`, options.ignoreCase === true ? "i" : "");
}
