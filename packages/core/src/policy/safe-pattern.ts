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

/**
 * Compiles one user pattern (JavaScript syntax; case-sensitive, or written `/.../i` for flags),
 * or says why it is refused: invalid, too long, or a shape that can backtrack catastrophically.
 * Returns the compiled RegExp or the reason as a string. The global and sticky flags are never
 * allowed: a compiled pattern keeps no state between tests (`lastIndex`), so matching stays pure.
 */
export function compileSafePattern(source: string): RegExp | string {
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
  return checkPatternSafety(compiled) ?? compiled;
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
