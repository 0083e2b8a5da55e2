import { globToPattern } from "./glob.js";

/**
 * Decides whether a branch is selected by REPO_BRANCHES; keeps its source patterns for logs.
 * No patterns (REPO_BRANCHES unset) selects the repository's default branch.
 */
export interface BranchMatcher {
  readonly patterns: readonly string[];
  matches(branch: string | null, defaultBranch?: string | null): boolean;
}

/** REPO_BRANCHES unset: the branch the repository itself calls its default. */
export const DEFAULT_BRANCH_ONLY: BranchMatcher = {
  patterns: [],
  matches(branch, defaultBranch) {
    return branch !== null && defaultBranch !== undefined && defaultBranch !== null && branch === defaultBranch;
  },
};

/** Why a failed run's branch is not re-run, or null when it is selected. */
export function branchRefusal(matcher: BranchMatcher, branch: string | null, defaultBranch: string | null): string | null {
  if (matcher.matches(branch, defaultBranch)) return null;
  const on = branch === null ? "(unknown)" : `"${branch}"`;
  if (matcher.patterns.length > 0) return `failed on branch ${on}, not in REPO_BRANCHES (${matcher.patterns.join(",")})`;
  if (defaultBranch === null) {
    return `failed on branch ${on}, but the payload names no repository default branch, which REPO_BRANCHES (unset) selects`;
  }
  return `failed on branch ${on}, not the repository's default branch "${defaultBranch}" (REPO_BRANCHES unset)`;
}

export function compileBranchPatterns(patterns: readonly string[]): BranchMatcher {
  if (patterns.length === 0) return DEFAULT_BRANCH_ONLY;
  const matchAll = patterns.includes("*") || patterns.includes("**");
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const globs = patterns.filter((p) => /[*?]/.test(p)).map((p) => globToPattern(p, { pathSegments: true }));
  return {
    patterns: [...patterns],
    matches(branch) {
      if (matchAll) return true;
      if (branch === null) return false;
      return exact.has(branch) || globs.some((g) => g.test(branch));
    },
  };
}
