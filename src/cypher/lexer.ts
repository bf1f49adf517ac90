/**
 * The Cypher lexer: turns query text into tokens with their offsets. Keywords are not special
 * here (they are identifiers the parser compares case-insensitively), because Cypher lets most
 * keywords be used as labels, property keys and variables.
 */
import { syntaxError } from './syntax-error.js';

export type TokenKind = 'ident' | 'int' | 'float' | 'string' | 'param' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier name (unquoted), punctuation text, parameter name, or string contents. */
  text: string;
  /** Offset of the first character in the query. */
  pos: number;
  /** Offset just past the last character. */
  end: number;
  /** Backtick-quoted identifier: never a keyword. */
  quoted?: boolean;
  /** For 'int' tokens: the value, unchecked for range (the parser folds unary minus first). */
  intValue?: bigint;
  floatValue?: number;
}

/** Longest first, so that `<=` wins over `<`. */
const punctuation = ['..', '<>', '!=', '<=', '>=', '=~', '+=', '(', ')', '[', ']', '{', '}', ',', '.', ':', '|', ';', '=', '<', '>', '+', '-', '*', '/', '%', '^', '&', '!'];

const identStart = /[\p{L}_]/u;
const identPart = /[\p{L}\p{N}_$]/u;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\u00a0') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw syntaxError(text, i, 'Failed to parse comment. A comment starting with `/*` must also have a closing `*/`.');
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      const [value, end] = readString(text, i);
      tokens.push({ kind: 'string', text: value, pos: start, end });
      i = end;
      continue;
    }
    if (c === '`') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(text, start, 'Failed to parse quoted identifier: missing closing backtick');
        if (text[i] === '`') {
          if (text[i + 1] === '`') {
            value += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: 'ident', text: value, pos: start, end: i, quoted: true });
      continue;
    }
    if (c === '$') {
      i++;
      if (text[i] === '`') {
        const close = text.indexOf('`', i + 1);
        if (close < 0) throw syntaxError(text, i, 'Failed to parse quoted identifier: missing closing backtick');
        tokens.push({ kind: 'param', text: text.slice(i + 1, close), pos: start, end: close + 1 });
        i = close + 1;
        continue;
      }
      const nameStart = i;
      while (i < n && identPart.test(text[i]!)) i++;
      if (i === nameStart) throw syntaxError(text, start, `Invalid input '$': expected a parameter name`);
      tokens.push({ kind: 'param', text: text.slice(nameStart, i), pos: start, end: i });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      const tok = readNumber(text, i);
      tokens.push(tok);
      i = tok.end;
      continue;
    }
    if (identStart.test(c)) {
      while (i < n && identPart.test(text[i]!)) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), pos: start, end: i });
      continue;
    }
    const p = punctuation.find((s) => text.startsWith(s, i));
    if (!p) throw syntaxError(text, i, `Invalid input '${c}': unexpected character`);
    tokens.push({ kind: 'punct', text: p, pos: start, end: i + p.length });
    i += p.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: n, end: n });
  return tokens;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function readNumber(text: string, start: number): Token {
  let i = start;
  const n = text.length;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    i += 2;
    while (i < n && /[0-9a-fA-F_]/.test(text[i]!)) i++;
    return intToken(text, start, i, text.slice(start + 2, i).replace(/_/g, ''), 16);
  }
  if (text[i] === '0' && (text[i + 1] === 'o' || text[i + 1] === 'O')) {
    i += 2;
    while (i < n && /[0-7_]/.test(text[i]!)) i++;
    return intToken(text, start, i, text.slice(start + 2, i).replace(/_/g, ''), 8);
  }
  let isFloat = false;
  while (i < n && (isDigit(text[i]!) || text[i] === '_')) i++;
  // `1..3` is a range in variable-length patterns, not a float.
  if (text[i] === '.' && isDigit(text[i + 1] ?? '')) {
    isFloat = true;
    i++;
    while (i < n && (isDigit(text[i]!) || text[i] === '_')) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1] ?? '') || ((text[i + 1] === '-' || text[i + 1] === '+') && isDigit(text[i + 2] ?? '')))) {
    isFloat = true;
    i += 2;
    while (i < n && isDigit(text[i]!)) i++;
  }
  if (i < n && identStart.test(text[i]!)) {
    throw syntaxError(text, start, `Invalid input '${text.slice(start, i + 1)}': invalid number literal`);
  }
  const digits = text.slice(start, i).replace(/_/g, '');
  if (isFloat) {
    const floatValue = Number(digits);
    if (!Number.isFinite(floatValue)) throw syntaxError(text, start, `Floating point number is too large: ${text.slice(start, i)} is beyond the largest Float, ${Number.MAX_VALUE}`);
    return { kind: 'float', text: digits, pos: start, end: i, floatValue };
  }
  // Legacy octal: a leading zero.
  if (digits.length > 1 && digits[0] === '0') return intToken(text, start, i, digits.slice(1), 8);
  return intToken(text, start, i, digits, 10);
}

function intToken(text: string, start: number, end: number, digits: string, radix: 8 | 10 | 16): Token {
  if (digits === '') throw syntaxError(text, start, `Invalid input '${text.slice(start, end)}': invalid number literal`);
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  let value: bigint;
  try {
    value = BigInt(prefix + digits);
  } catch {
    throw syntaxError(text, start, `Invalid input '${text.slice(start, end)}': invalid number literal`);
  }
  return { kind: 'int', text: text.slice(start, end), pos: start, end, intValue: value };
}

function readString(text: string, start: number): [string, number] {
  const quote = text[start]!;
  let i = start + 1;
  let out = '';
  for (;;) {
    if (i >= text.length) throw syntaxError(text, start, 'Failed to parse string literal. The query must contain an even number of non-escaped quotes.');
    const c = text[i]!;
    if (c === quote) return [out, i + 1];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '\\': out += '\\'; break;
      case "'": out += "'"; break;
      case '"': out += '"'; break;
      case 'u':
      case 'U': {
        const len = e === 'u' ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw syntaxError(text, i, `Invalid input '\\${e}${hex}': invalid unicode escape`);
        const codePoint = parseInt(hex, 16);
        if (codePoint > 0x10ffff) throw syntaxError(text, i, `Invalid input '\\${e}${hex}': not a Unicode code point (above U+10FFFF)`);
        out += String.fromCodePoint(codePoint);
        i += 2 + len;
        continue;
      }
      default:
        // Neo4j keeps unknown escapes literally.
        out += '\\' + (e ?? '');
    }
    i += 2;
  }
}
