/** Decides whether a branch is selected by REPO_BRANCHES; keeps its source patterns for logs. */
export interface BranchMatcher {
  readonly patterns: readonly string[];
  matches(branch: string | null): boolean;
}

function globToRegExp(pattern: string): RegExp {
  // `*` matches within one path segment, `**` across segments, as in Actions' branch filters.
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else if (ch === "?") {
      source += "[^/]";
    } else {
      source += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

export function compileBranchPatterns(patterns: readonly string[]): BranchMatcher {
  const matchAll = patterns.includes("*") || patterns.includes("**");
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const globs = patterns.filter((p) => /[*?]/.test(p)).map(globToRegExp);
  return {
    patterns: [...patterns],
    matches(branch) {
      if (matchAll) return true;
      if (branch === null) return false;
      return exact.has(branch) || globs.some((g) => g.test(branch));
    },
  };
}
