import { linearPattern, type LinePattern } from "../linear-pattern.js";
import retModule, { types, type Token, type Tokens } from "ret";
import safeRegex from "safe-regex2";

// ret is CommonJS whose module.exports is the tokenizer itself; its types describe an ES default.
const tokenize: (source: string) => Tokens =
  typeof retModule === "function" ? (retModule as (source: string) => Tokens) : (retModule as unknown as { default: (source: string) => Tokens }).default;

/** A pattern longer than this is refused: patterns name a message, they are not programs. */
export const MAX_PATTERN_LENGTH = 500;
/** Patterns per list (RERUN_PATTERNS, NO_RERUN_PATTERNS): the classifier tries each on every line. */
export const MAX_PATTERNS = 100;

function children(token: Tokens): Token[] {
  const out: Token[] = [];
  if ("stack" in token && token.stack !== undefined) out.push(...token.stack);
  if ("options" in token && token.options !== undefined) for (const o of token.options) out.push(...o);
  if (token.type === types.REPETITION) out.push(token.value);
  return out;
}

/**
 * Constructs safe-regex2 (star height above 1, as in `(a+)+`) does not see, but which backtrack
 * exponentially or are not regular: a repeated group with alternatives (`(a|a)*`) and
 * back-references.
 */
function slowConstruct(token: Tokens, repeated: boolean): string | null {
  if (token.type === types.REFERENCE) return "a back-reference";
  if (repeated && "options" in token && token.options !== undefined && token.options.length > 1) {
    return "alternatives (|) inside a repeated group";
  }
  const inside = repeated || (token.type === types.REPETITION && (token.max === Infinity || token.max === null || token.max > 1));
  for (const child of children(token)) {
    const found = slowConstruct(child, inside);
    if (found !== null) return found;
  }
  return null;
}

export type { LinePattern };

/** A user pattern with what matching it costs per character of a line (see `weightOf`). */
export interface WeightedPattern extends LinePattern {
  readonly weight: number;
}

/**
 * One pattern's weight at most, and all of one list's: RE2's time is linear in the line, times
 * the size of the pattern's program, which a counted repeat multiplies (`[ab]{1000}` is a
 * thousand states). These caps keep one failed job's classification (a 64 KiB tail and its
 * annotations, every line tried by every pattern) well inside a delivery's deadline.
 */
export const MAX_PATTERN_WEIGHT = 200;
export const MAX_LIST_WEIGHT = 5000;

/** The program size RE2 builds for a pattern, roughly: 1 a character or class, a repeat {n,m} m times its body. */
function weightOf(token: Tokens): number {
  if (token.type === types.REPETITION) {
    const times = token.max === Infinity || token.max === null ? token.min : token.max;
    return weightOf(token.value) * Math.max(times, 1);
  }
  if ("options" in token && token.options !== undefined) return token.options.reduce((sum, o) => sum + o.reduce((s, t) => s + weightOf(t), 0), 0);
  if ("stack" in token && token.stack !== undefined) return token.stack.reduce((sum, t) => sum + weightOf(t), 0);
  return 1;
}

function patternWeight(body: string): number {
  try {
    return weightOf(tokenize(body));
  } catch {
    // Syntax ret does not know (named groups, \p{...}): its length, a fair bound without counted repeats.
    return body.length;
  }
}

/** `(?=`, `(?!`, `(?<=`, `(?<!` not itself escaped. */
const LOOK_AROUND = /(?:^|[^\\])(?:\\\\)*\(\?<?[=!]/;

/** `\k<name>` not itself escaped: an odd run of backslashes before the k. */
const NAMED_BACK_REFERENCE = /(?:^|[^\\])(?:\\\\)*\\k</;


/**
 * Compiles one user pattern (JavaScript syntax; case-sensitive, or written `/.../i` for flags),
 * or says why it is refused: invalid, too long, a shape that backtracks catastrophically in
 * JavaScript's engine, or syntax that is not regular (look-around, back-references).
 *
 * The pattern is matched by RE2 (re2js), whose time is linear in the line's length whatever the
 * pattern: the shape check cannot see every slow pattern (`a*a*a*a*b` is polynomial, not
 * nested), and a pattern in a repository's file must never hold the server. The global and
 * sticky flags are never allowed, and the matcher is a closure, so matching keeps no state.
 */
export function compileSafePattern(source: string): WeightedPattern | string {
  let body = source;
  let flags = "";
  const literal = /^\/(.+)\/([a-z]*)$/s.exec(source);
  if (literal !== null) {
    body = literal[1]!;
    flags = literal[2]!;
    if (!/^[imsu]*$/.test(flags)) return `only the flags i, m, s and u are allowed, got "${flags}"`;
  }
  if (body.length === 0) return "is empty";
  if (body.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  let compiled: RegExp;
  try {
    compiled = new RegExp(body, flags);
  } catch (error) {
    return `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`;
  }
  if (LOOK_AROUND.test(body)) return "uses look-around ((?=, (?!, (?<=, (?<!), which RE2 cannot match in linear time";
  const unsafe = checkPatternSafety(compiled);
  if (unsafe !== null) return unsafe;
  // A named back-reference (ret does not parse it, and RE2's translation would drop its backslash).
  if (NAMED_BACK_REFERENCE.test(body)) return "could be catastrophically slow (a back-reference)";
  const weight = patternWeight(body);
  if (weight > MAX_PATTERN_WEIGHT) return `is too heavy to run on every log line (weight ${weight}, at most ${MAX_PATTERN_WEIGHT}: a repeat {n} counts its body n times)`;
  try {
    const linear = linearPattern(body, flags);
    return { source: compiled.source, flags: compiled.flags, test: linear.test, weight };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `cannot be matched in linear time by RE2 (${why}); RE2 has no look-around or back-references, repeats at most {1000}`;
  }
}

/** Why a compiled pattern could be catastrophically slow, or null when it is safe to run. */
export function checkPatternSafety(pattern: RegExp): string | null {
  if (!safeRegex(pattern, { limit: 25 })) {
    return "could be catastrophically slow (a repeated group that itself repeats, like (a+)+, or more than 25 repetitions)";
  }
  let tree: Tokens;
  try {
    tree = tokenize(pattern.source);
  } catch {
    // ret does not know every modern syntax (named groups, \p{...}); V8 accepted it and
    // safe-regex2 found no nested repetition, which is the shape that matters most.
    return null;
  }
  const found = slowConstruct(tree, false);
  return found === null ? null : `could be catastrophically slow (${found})`;
}
