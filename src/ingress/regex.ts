/**
 * User regexes (use-regex / rewrite-target paths, canary-by-header-pattern) run on V8's
 * linear-time engine, so a pattern like `/(a+)+$` cannot stall the event loop on a
 * crafted request path (ReDoS). That engine has no case-insensitive flag, so case
 * folding is done in the pattern: each ASCII letter becomes a two-case class. A pattern
 * it cannot run in linear time (backreferences, lookaround, nested counted repetition)
 * is rejected with a reason, like any other invalid path.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');

/** Whether this V8 accepts the linear-time `l` flag (checked once). */
export const LINEAR_ENGINE = ((): boolean => {
  try {
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
})();

export class UnsafeRegexError extends Error {}

/** Compiles a user pattern for linear-time matching; throws UnsafeRegexError or SyntaxError. */
export function linearRegExp(source: string, caseInsensitive: boolean): RegExp {
  // Validate with the ordinary engine first: its syntax errors are the clearer message.
  new RegExp(source, caseInsensitive ? 'i' : '');
  if (!LINEAR_ENGINE) {
    if (nestedQuantifier(source)) throw new UnsafeRegexError('nested repetition could take exponential time; rewrite the pattern without a repeated group that itself repeats');
    return new RegExp(source, caseInsensitive ? 'i' : '');
  }
  try {
    return new RegExp(caseInsensitive ? foldCase(source) : source, 'l');
  } catch {
    throw new UnsafeRegexError('cannot be matched in linear time (backreferences, lookaround and nested counted repetition are not supported)');
  }
}

const isLower = (c: string): boolean => c >= 'a' && c <= 'z';
const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';
const other = (c: string): string => (isLower(c) ? c.toUpperCase() : c.toLowerCase());

/** Length of the escape starting at s[i] === '\\' (the whole \u{...}, \p{...}, \k<...>, \xHH, \cX unit). */
function escapeLength(s: string, i: number): number {
  const c = s[i + 1];
  if (c === undefined) return 1;
  if ((c === 'u' || c === 'p' || c === 'P') && s[i + 2] === '{') {
    const end = s.indexOf('}', i + 3);
    return end === -1 ? 2 : end - i + 1;
  }
  if (c === 'k' && s[i + 2] === '<') {
    const end = s.indexOf('>', i + 3);
    return end === -1 ? 2 : end - i + 1;
  }
  if (c === 'u') return 6;
  if (c === 'x') return 4;
  if (c === 'c') return 3;
  return 2;
}

/** The ASCII letter a \xHH or \uHHHH escape stands for, if it is one. */
function escapedLetter(unit: string): string | undefined {
  if (!/^\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})$/.test(unit)) return undefined;
  const c = String.fromCharCode(parseInt(unit.slice(2), 16));
  return isLower(c) || isUpper(c) ? c : undefined;
}

/** Rewrites a pattern so it matches ASCII letters in either case without the `i` flag. */
export function foldCase(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') {
      const n = escapeLength(s, i);
      const letter = escapedLetter(s.slice(i, i + n));
      out += letter ? `[${letter}${other(letter)}]` : s.slice(i, i + n);
      i += n;
    } else if (c === '(' && s.startsWith('(?<', i) && s[i + 3] !== '=' && s[i + 3] !== '!') {
      // a named group: the name is not text to match
      const end = s.indexOf('>', i);
      const stop = end === -1 ? s.length : end + 1;
      out += s.slice(i, stop);
      i = stop;
    } else if (c === '[') {
      const [text, next] = foldClass(s, i);
      out += text;
      i = next;
    } else {
      out += isLower(c) || isUpper(c) ? `[${c}${other(c)}]` : c;
      i++;
    }
  }
  return out;
}

/** A character class from s[start] === '[': each letter and letter range gains its other case. */
function foldClass(s: string, start: number): [string, number] {
  let i = start + 1;
  let body = '';
  let extra = '';
  if (s[i] === '^') {
    body += '^';
    i++;
  }
  while (i < s.length && s[i] !== ']') {
    if (s[i] === '\\') {
      const n = escapeLength(s, i);
      const letter = escapedLetter(s.slice(i, i + n));
      if (letter) extra += other(letter);
      body += s.slice(i, i + n);
      i += n;
      continue;
    }
    const c = s[i]!;
    if (s[i + 1] === '-' && s[i + 2] !== undefined && s[i + 2] !== ']' && s[i + 2] !== '\\') {
      const d = s[i + 2]!;
      body += `${c}-${d}`;
      if ((isLower(c) && isLower(d)) || (isUpper(c) && isUpper(d))) extra += `${other(c)}-${other(d)}`;
      i += 3;
      continue;
    }
    body += c;
    if (isLower(c) || isUpper(c)) extra += other(c);
    i++;
  }
  // the added cases go first: after the body, a trailing '-' would turn them into a range
  return body.startsWith('^') ? [`[^${extra}${body.slice(1)}]`, Math.min(i + 1, s.length)] : [`[${extra}${body}]`, Math.min(i + 1, s.length)];
}

/** Fallback check: a quantified group whose body also repeats, e.g. `(a+)+` or `(\w*)*`. */
function nestedQuantifier(s: string): boolean {
  const stack: boolean[] = [];
  let repeated = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i += escapeLength(s, i) - 1;
      continue;
    }
    if (c === '[') {
      const end = s.indexOf(']', i + 2);
      i = end === -1 ? s.length : end;
      continue;
    }
    if (c === '(') {
      stack.push(repeated);
      repeated = false;
    } else if (c === ')') {
      const inner = repeated;
      repeated = stack.pop() ?? false;
      const q = s[i + 1];
      if (q === '*' || q === '+' || q === '{') {
        if (inner) return true;
        repeated = true;
      }
      if (inner) repeated = true;
    } else if (c === '*' || c === '+' || c === '{') repeated = true;
  }
  return false;
}
