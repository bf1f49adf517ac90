/**
 * Cypher strings seen as sequences of Unicode code points, as Neo4j sees them: every length and
 * offset a string function takes or returns counts code points, so a character outside the Basic
 * Multilingual Plane (two UTF-16 code units in a JavaScript string) counts once and is never cut
 * in half. Pure functions; a lone surrogate counts as one code point, as in Java.
 */

const surrogate = /[\uD800-\uDFFF]/;

/** Code units taken by the code point that starts at `offset`. */
function widthAt(s: string, offset: number): number {
  return s.codePointAt(offset)! > 0xffff ? 2 : 1;
}

/** The number of code points in `s`. */
export function codePointCount(s: string): number {
  if (!surrogate.test(s)) return s.length;
  let count = 0;
  for (let i = 0; i < s.length; i += widthAt(s, i)) count++;
  return count;
}

/** The UTF-16 offset of code point number `index` (the string's length when past the end). */
function offsetOfCodePoint(s: string, index: number): number {
  let offset = 0;
  for (let n = 0; n < index && offset < s.length; n++) offset += widthAt(s, offset);
  return offset;
}

/**
 * Code points `[start, start + length)` of `s`, clamped to the string (Neo4j's substring); without
 * a length, to the end. `start` and `length` must not be negative (the caller says why to the user).
 */
export function codePointSubstring(s: string, start: number, length?: number): string {
  if (!surrogate.test(s)) return length === undefined ? s.slice(start) : s.slice(start, start + length);
  const from = offsetOfCodePoint(s, start);
  if (length === undefined) return s.slice(from);
  let to = from;
  for (let n = 0; n < length && to < s.length; n++) to += widthAt(s, to);
  return s.slice(from, to);
}

/** The last `length` code points of `s` (all of it when shorter). */
export function codePointRight(s: string, length: number): string {
  const count = codePointCount(s);
  return length >= count ? s : codePointSubstring(s, count - length);
}

/** `s` with its code points in reverse order. */
export function reverseCodePoints(s: string): string {
  return Array.from(s).reverse().join('');
}

/**
 * Java's `String.replace(find, replacement)` without splitting a surrogate pair: an empty `find`
 * matches before every code point and at the end (`replace('ab', '', '-')` is `'-a-b-'`).
 */
export function replaceAll(s: string, find: string, replacement: string): string {
  if (find !== '') return s.split(find).join(replacement);
  return s === '' ? replacement : replacement + Array.from(s).join(replacement) + replacement;
}

/**
 * Java's `Character.isWhitespace`, which Neo4j's trim functions use: space, line and paragraph
 * separators except the no-break spaces (U+00A0, U+2007, U+202F), and the ASCII controls
 * U+0009–U+000D and U+001C–U+001F. JavaScript's `trim()` differs: it also removes the no-break
 * spaces and U+FEFF and keeps U+001C–U+001F.
 */
export function isJavaWhitespace(codePoint: number): boolean {
  if (codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d) || (codePoint >= 0x1c && codePoint <= 0x1f)) return true;
  if (codePoint < 0x1680) return false;
  return (
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a && codePoint !== 0x2007) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}

export type TrimSide = 'both' | 'leading' | 'trailing';

/**
 * `s` without the leading and/or trailing code points that are Java whitespace, or, given
 * `trimCharacters`, that occur in that string (each of its code points is removed; an empty string
 * removes nothing), as Neo4j's trim, ltrim, rtrim and btrim do.
 */
export function trimCodePoints(s: string, side: TrimSide, trimCharacters?: string): string {
  let removable: (codePoint: number) => boolean = isJavaWhitespace;
  if (trimCharacters !== undefined) {
    const set = new Set(Array.from(trimCharacters, (c) => c.codePointAt(0)!));
    removable = (codePoint) => set.has(codePoint);
  }
  let start = 0;
  let end = s.length;
  if (side !== 'trailing') {
    while (start < end && removable(s.codePointAt(start)!)) start += widthAt(s, start);
  }
  if (side !== 'leading') {
    while (end > start) {
      const low = s.charCodeAt(end - 1);
      const pair = low >= 0xdc00 && low <= 0xdfff && end - 2 >= start && widthAt(s, end - 2) === 2;
      const width = pair ? 2 : 1;
      if (!removable(s.codePointAt(end - width)!)) break;
      end -= width;
    }
  }
  return s.slice(start, end);
}

/** A string for a message, cut to at most `codePointsMax` code points with an ellipsis. */
export function truncateCodePoints(s: string, codePointsMax: number): string {
  return codePointCount(s) > codePointsMax ? codePointSubstring(s, 0, codePointsMax) + '…' : s;
}
