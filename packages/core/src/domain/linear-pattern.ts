import { RE2JS } from "re2js";

/** A compiled pattern as the classifier and the branch and step globs use it; a built-in RegExp is one too. */
export interface LinePattern {
  /** As JavaScript writes it (`RegExp.prototype.source`). */
  readonly source: string;
  readonly flags: string;
  test(line: string): boolean;
}

const RE2_FLAGS: Readonly<Record<string, number>> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0 };

/**
 * Compiles a pattern for RE2 (re2js), whose matching time is linear in the text whatever the
 * pattern: for anything a user or a repository file writes (patterns, branch and step globs),
 * which must never hold the server. JavaScript-only spellings (\u00e9, \u{...}, \cJ, [^],
 * (?<name>)) are translated first. Throws RE2's own error for syntax it cannot run.
 */
export function linearPattern(source: string, flags = ""): LinePattern {
  const program = RE2JS.compile(RE2JS.translateRegExp(source), [...flags].reduce((all, f) => all | (RE2_FLAGS[f] ?? 0), 0));
  // A closure, not a property: a frozen policy never reaches the matcher's own state.
  return { source, flags, test: (line) => program.test(line) };
}
