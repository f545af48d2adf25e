// Patterns an agent waits for. Every regex runs on RE2 (re2js): matching is linear in the
// input, so a pattern like `(a+)+$` cannot freeze the server or its other sessions.
// Lookaround and backreferences have no linear-time algorithm; such a pattern is refused
// (REGEX_REJECTED) rather than run with unbounded time.
import { RE2JS } from "re2js";
import { PtyError } from "../errors.ts";

export interface Pattern {
  readonly source: string;
  /** "regex", or "substring" after an invalid regex fell back. */
  readonly kind: "regex" | "substring";
  test(line: string): boolean;
  /** Whether any line of a multi-line block may match: a fast pre-check before testing line by line. */
  testBlock(text: string): boolean;
  /**
   * Every match holds one of these strings (from RE2's prefilter): text with none of them cannot
   * match anywhere, which a native substring search finds out. Undefined when the pattern needs no
   * particular text (`\d+`, case-insensitive, or when the prefilter's shape is unknown).
   */
  readonly needs?: readonly string[];
}

export interface CompiledPatterns {
  /** The pattern or list as given (for messages). */
  readonly source: string | readonly string[];
  patterns: Pattern[];
  /** Set when some pattern was not a valid regex and is matched as plain text. */
  warning?: string;
}

const MAX_PATTERN_LENGTH = 4096;

/** What a wait takes: a pattern, a list, or patterns compiled already (so a caller that validated them first does not compile them again). */
export type PatternSource = string | readonly string[] | CompiledPatterns;

export function patternsOf(input: PatternSource): CompiledPatterns {
  return typeof input === "string" || isList(input) ? compilePatterns(input) : input;
}

function isList(input: readonly string[] | CompiledPatterns): input is readonly string[] {
  return Array.isArray(input);
}

/** `first`'s patterns then `second`'s, as one list (matched_index counts on from first's length). */
export function joinPatterns(first: CompiledPatterns, second: CompiledPatterns): CompiledPatterns {
  const list = (source: string | readonly string[]) => (typeof source === "string" ? [source] : source);
  const warning = [first.warning, second.warning].filter(Boolean).join(" ");
  return { source: [...list(first.source), ...list(second.source)], patterns: [...first.patterns, ...second.patterns], ...(warning ? { warning } : {}) };
}

export function compilePatterns(input: string | readonly string[]): CompiledPatterns {
  const sources = typeof input === "string" ? [input] : [...input];
  if (sources.length === 0) throw new PtyError("INVALID_ARGUMENT", "wait_for is an empty list; give a pattern or a list of patterns.");
  const patterns: Pattern[] = [];
  const fallbacks: string[] = [];
  for (const source of sources) {
    if (source.length === 0) throw new PtyError("INVALID_ARGUMENT", "wait_for contains an empty pattern.");
    if (source.length > MAX_PATTERN_LENGTH) throw new PtyError("INVALID_ARGUMENT", `wait_for pattern longer than ${MAX_PATTERN_LENGTH} characters.`);
    const pattern = compileOne(source);
    if (pattern.kind === "substring") fallbacks.push(source);
    patterns.push(pattern);
  }
  const result: CompiledPatterns = { source: input, patterns };
  if (fallbacks.length > 0) {
    result.warning = `Not a valid regular expression, matched as plain text: ${fallbacks.map((s) => JSON.stringify(s)).join(", ")}.`;
  }
  return result;
}

function compileOne(source: string): Pattern {
  let re2: RE2JS | undefined;
  let reason = "";
  try {
    re2 = RE2JS.compile(source);
  } catch (err) {
    re2 = undefined;
    reason = err instanceof Error ? err.message : String(err);
  }
  if (re2) {
    const compiled = re2;
    // ^ and $ at every line boundary, so a block matches wherever one of its lines does.
    const block = RE2JS.compile(source, RE2JS.MULTILINE);
    const needs = requiredStrings(compiled.re2Input.prefilter);
    const starts = anchoredLiteral(source);
    const test = starts === undefined ? (line: string) => compiled.test(line) : (line: string) => line.startsWith(starts);
    return { source, kind: "regex", test, testBlock: (text) => block.test(text), ...(needs ? { needs } : {}) };
  }
  if (isJsRegex(source)) {
    // RE2 caps a repeat count at 1000, nested counts multiplied (re2/parse.cc, RepetitionWalker).
    if (reason.includes("invalid repeat count")) {
      throw new PtyError(
        "REGEX_REJECTED",
        `wait_for ${JSON.stringify(source)} repeats too much for the linear-time matcher: RE2 allows a repeat count of at most 1000, ` +
          "and nested counts multiply ({1000} inside {1000} is 1 000 000). Use smaller counts, or a + or * with a shorter pattern.",
      );
    }
    if (/\(\?<?[=!]|\\[1-9]|\\k</.test(source)) {
      throw new PtyError(
        "REGEX_REJECTED",
        `wait_for ${JSON.stringify(source)} uses lookaround or backreferences, which cannot be matched in linear time. ` +
          "Rewrite it without (?=, (?!, (?<=, (?<! or \\1 (RE2 syntax), or use a list of simpler patterns.",
      );
    }
    throw new PtyError("REGEX_REJECTED", `wait_for ${JSON.stringify(source)} is not supported by the linear-time matcher (RE2 ${reason.replace(/^error parsing regexp: /, "")}). Write it in RE2 syntax.`);
  }
  return { source, kind: "substring", test: (line) => line.includes(source), testBlock: (text) => text.includes(source), needs: [source] };
}

/**
 * The text a `^literal` pattern (a marker, a prompt) matches at the start of a line, when the rest after
 * `^` is a literal that RE2 matches by a plain string search (re2js: prefixComplete, no flags); else
 * undefined. RE2 runs such a pattern through its one-pass engine, ~10x a startsWith on a cold line (M2).
 */
function anchoredLiteral(source: string): string | undefined {
  // No `|` at all: `^a|b` is (^a)|b, and RE2 may fold an alternation into one literal (`a|a`).
  if (!source.startsWith("^") || source.includes("|")) return undefined;
  let rest: RE2JS;
  try {
    rest = RE2JS.compile(source.slice(1));
  } catch {
    return undefined;
  }
  const input = rest.re2Input as { prefix?: unknown; prefixComplete?: unknown; cond?: unknown };
  return input.prefixComplete === true && input.cond === 0 && typeof input.prefix === "string" ? input.prefix : undefined;
}

/** RE2's prefilter (re2js PrefilterTree): EXACT = this string, AND = all subs, OR = one of the subs; null or NONE = no condition. */
interface Prefilter {
  type: number;
  str: string;
  subs: Prefilter[];
}
const EXACT = 1;
const AND = 2;
const OR = 3;
/** A string like this could be text the stripping of escapes left, or decoding made: not searched for. */
const UNSEARCHABLE = /[\x00-\x1f\x7f-\x9f\ufeff\ufffd]/;

/**
 * One set of strings of which every match holds at least one, from the prefilter tree: of an AND the
 * smallest set of one of its parts, of an OR the union of its parts' sets. Undefined when there is
 * none (or the tree is not the shape this knows: re2js internals, checked by matcher.test.ts).
 */
export function requiredStrings(pf: Prefilter | null | undefined): string[] | undefined {
  if (!pf || typeof pf !== "object") return undefined;
  if (pf.type === EXACT) return typeof pf.str === "string" && pf.str.length > 0 && !UNSEARCHABLE.test(pf.str) ? [pf.str] : undefined;
  if (!Array.isArray(pf.subs) || pf.subs.length === 0) return undefined;
  const sets = pf.subs.map(requiredStrings);
  if (pf.type === AND) {
    // The set cheapest to search for and least likely to be there: fewest strings, then the longest shortest string.
    let best: string[] | undefined;
    const shortest = (set: string[]) => Math.min(...set.map((s) => s.length));
    for (const set of sets) if (set && (!best || set.length < best.length || (set.length === best.length && shortest(set) > shortest(best)))) best = set;
    return best;
  }
  if (pf.type === OR) return sets.every((set) => set !== undefined) ? [...new Set(sets.flat())] : undefined;
  return undefined;
}

function isJsRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Index of the first pattern matching `line`, or -1. */
export function firstMatch(patterns: readonly Pattern[], line: string): number {
  for (let i = 0; i < patterns.length; i++) if (patterns[i]!.test(line)) return i;
  return -1;
}
