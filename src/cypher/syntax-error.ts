/**
 * Builds syntax and semantic errors in Neo4j's style: the message, then
 * `(line L, column C (offset: O))`, then the offending query line quoted with a caret under the column.
 */
import { QuiverError, type ErrorCode } from '../util/errors.js';

export interface SourcePosition {
  line: number;
  column: number;
  offset: number;
}

/** 1-based line and column of `offset` in `text`. */
export function positionOf(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1, offset };
}

export function formatAt(text: string, offset: number, message: string): string {
  const p = positionOf(text, offset);
  const lineStart = offset - (p.column - 1);
  let lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  const lineText = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  return `${message} (line ${p.line}, column ${p.column} (offset: ${p.offset}))\n"${lineText}"\n${' '.repeat(p.column)}^`;
}

export function syntaxError(text: string, offset: number, message: string): QuiverError {
  return new QuiverError('SyntaxError', formatAt(text, offset, message));
}

export function errorAt(code: ErrorCode, text: string, offset: number, message: string): QuiverError {
  return new QuiverError(code, formatAt(text, offset, message));
}
