/**
 * Pattern parser: `p = (a:Label {k: v})-[r:T1|T2*1..3 {k: v}]->(b)` and shortestPath(...) parts.
 */
import type { Expr, NodePattern, PatternPart, RelPattern } from './ast.js';
import type { TokenCursor } from './parser-base.js';
import { parseLabelExpression, parseMapLiteral } from './parse-expression.js';

export function parsePatternList(p: TokenCursor): PatternPart[] {
  const parts = [parsePatternPart(p, true)];
  while (p.acceptPunct(',')) parts.push(parsePatternPart(p, true));
  return parts;
}

export function parsePatternPart(p: TokenCursor, allowPathVariable: boolean): PatternPart {
  const pos = p.peek().pos;
  let pathVariable: string | null = null;
  if (allowPathVariable || p.isIdent()) {
    if (p.isIdent() && p.isPunct('=', 1)) {
      pathVariable = p.next().text;
      p.next();
    }
  }
  let shortest: PatternPart['shortest'] = null;
  if ((p.isKw('SHORTESTPATH') || p.isKw('ALLSHORTESTPATHS')) && p.isPunct('(', 1)) {
    shortest = p.isKw('SHORTESTPATH') ? 'shortestPath' : 'allShortestPaths';
    p.next();
    p.next();
  }
  const nodes: NodePattern[] = [parseNodePattern(p)];
  const rels: RelPattern[] = [];
  while (p.isPunct('-') || (p.isPunct('<') && p.isPunct('-', 1))) {
    rels.push(parseRelPattern(p));
    nodes.push(parseNodePattern(p));
  }
  if (shortest) {
    p.expectPunct(')');
    if (rels.length !== 1) throw p.failAt(pos, `${shortest}(...) requires a pattern containing a single relationship`);
  }
  return { pos, pathVariable, shortest, nodes, rels };
}

function parseProperties(p: TokenCursor): Expr | null {
  if (p.isPunct('{')) return parseMapLiteral(p);
  const t = p.peek();
  if (t.kind === 'param') {
    p.next();
    return { kind: 'Param', pos: t.pos, name: t.text };
  }
  return null;
}

export function parseNodePattern(p: TokenCursor): NodePattern {
  const pos = p.expectPunct('(').pos;
  let variable: string | null = null;
  if (p.isIdent()) variable = p.next().text;
  let labels: string[] = [];
  let labelMode: 'all' | 'any' = 'all';
  if (p.isPunct(':')) ({ labels, mode: labelMode } = parseLabelExpression(p, true));
  const properties = parseProperties(p);
  if (!p.isPunct(')')) throw p.fail(labels.length > 0 ? "':', '{' or ')'" : variable === null ? "a variable, ':', '{' or ')'" : "':', '{' or ')'");
  p.next();
  return { pos, variable, labels, labelMode, properties };
}

function parseRelPattern(p: TokenCursor): RelPattern {
  const pos = p.peek().pos;
  const leftArrow = p.acceptPunct('<');
  p.expectPunct('-');
  let variable: string | null = null;
  const types: string[] = [];
  let properties: Expr | null = null;
  let length: RelPattern['length'] = null;
  if (p.acceptPunct('[')) {
    if (p.isIdent()) variable = p.next().text;
    if (p.acceptPunct(':')) {
      types.push(p.identifier('a relationship type'));
      while (p.acceptPunct('|')) {
        p.acceptPunct(':');
        types.push(p.identifier('a relationship type'));
      }
    }
    if (p.acceptPunct('*')) {
      let min: number | null = null;
      let max: number | null = null;
      if (p.peek().kind === 'int') min = Number(p.next().intValue);
      if (p.acceptPunct('..')) {
        if (p.peek().kind === 'int') max = Number(p.next().intValue);
      } else {
        max = min;
      }
      length = { min, max };
    }
    properties = parseProperties(p);
    p.expectPunct(']');
  }
  p.expectPunct('-');
  const rightArrow = p.acceptPunct('>');
  // `<-->` points both ways, which openCypher reads as either way, like `--`.
  const direction = leftArrow === rightArrow ? 'both' : leftArrow ? 'in' : 'out';
  return { pos, variable, types, direction, properties, length };
}
