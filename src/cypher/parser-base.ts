/**
 * The token cursor shared by the clause, pattern, expression and command parsers: lookahead,
 * case-insensitive keyword matching, and Neo4j-style "Invalid input" errors at the right offset.
 */
import type { QuiverError } from '../util/errors.js';
import { parseDepthMax } from './limits.js';
import { tokenize, type Token } from './lexer.js';
import { syntaxError } from './syntax-error.js';

export class TokenCursor {
  readonly tokens: Token[];
  index = 0;
  private depth = 0;

  constructor(readonly text: string) {
    this.tokens = tokenize(text);
  }

  peek(k = 0): Token {
    return this.tokens[Math.min(this.index + k, this.tokens.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return t;
  }

  /** The token just consumed. */
  previous(): Token {
    return this.tokens[Math.max(0, this.index - 1)]!;
  }

  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  isKw(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && !t.quoted && t.text.toUpperCase() === word;
  }

  /** True when the next tokens are the keywords `words`, in order. */
  isKws(...words: string[]): boolean {
    return words.every((w, i) => this.isKw(w, i));
  }

  acceptKw(...words: string[]): boolean {
    if (!this.isKws(...words)) return false;
    this.index += words.length;
    return true;
  }

  expectKw(...words: string[]): void {
    for (const w of words) {
      if (!this.isKw(w)) throw this.fail(`'${w}'`);
      this.next();
    }
  }

  isPunct(s: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === s;
  }

  acceptPunct(s: string): boolean {
    if (!this.isPunct(s)) return false;
    this.next();
    return true;
  }

  expectPunct(s: string): Token {
    if (!this.isPunct(s)) throw this.fail(`'${s}'`);
    return this.next();
  }

  /** An identifier (label, key, variable, name); keywords are allowed unless listed in `reserved`. */
  identifier(what: string, reserved?: ReadonlySet<string>): string {
    const t = this.peek();
    if (t.kind !== 'ident' || (!t.quoted && reserved?.has(t.text.toUpperCase()))) throw this.fail(what);
    this.next();
    return t.text;
  }

  isIdent(k = 0): boolean {
    return this.peek(k).kind === 'ident';
  }

  /** `Invalid input 'X': expected <expected>` at the current token. */
  fail(expected: string, at: Token = this.peek()): QuiverError {
    if (at.kind === 'eof') return syntaxError(this.text, at.pos, `Invalid input '': expected ${expected}`);
    return syntaxError(this.text, at.pos, `Invalid input '${this.text.slice(at.pos, at.end)}': expected ${expected}`);
  }

  failAt(pos: number, message: string): QuiverError {
    return syntaxError(this.text, pos, message);
  }

  /** Guards recursion on nested input. */
  enter(): void {
    if (++this.depth > parseDepthMax) throw this.failAt(this.peek().pos, `Query nested too deeply (more than ${parseDepthMax} levels)`);
  }

  leave(): void {
    this.depth--;
  }

  /** Runs `f`; on a syntax error restores the cursor and returns undefined (for ambiguous prefixes). */
  attempt<T>(f: () => T): T | undefined {
    const saved = this.index;
    const savedDepth = this.depth;
    try {
      return f();
    } catch (e) {
      this.index = saved;
      this.depth = savedDepth;
      if ((e as QuiverError).code === 'SyntaxError') return undefined;
      throw e;
    }
  }
}
