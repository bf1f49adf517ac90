/**
 * Expression parser: openCypher precedence from OR down to atoms, including CASE, list and
 * pattern comprehensions, map projections, quantifiers, EXISTS/COUNT subqueries and pattern predicates.
 */
import type { BinaryOp, Expr, MapProjectionItem } from './ast.js';
import { parseQuery } from './parser.js';
import type { TokenCursor } from './parser-base.js';
import { parsePatternPart, parsePatternList } from './parse-pattern.js';

const int64Max = (1n << 63n) - 1n;

/** Clause keywords that cannot be bare variables (so `WHERE n.x = RETURN n` fails at RETURN). */
const reservedInExpressions = new Set(['MATCH', 'RETURN', 'WITH', 'WHERE', 'CREATE', 'MERGE', 'DELETE', 'DETACH', 'SET', 'REMOVE', 'UNWIND', 'UNION', 'ORDER', 'SKIP', 'LIMIT', 'OPTIONAL', 'FOREACH']);

export function parseExpression(p: TokenCursor): Expr {
  p.enter();
  try {
    return parseOr(p);
  } finally {
    p.leave();
  }
}

function binary(op: BinaryOp, left: Expr, right: Expr): Expr {
  return { kind: 'Binary', pos: left.pos, op, left, right };
}

function parseOr(p: TokenCursor): Expr {
  let e = parseXor(p);
  while (p.acceptKw('OR')) e = binary('OR', e, parseXor(p));
  return e;
}

function parseXor(p: TokenCursor): Expr {
  let e = parseAnd(p);
  while (p.acceptKw('XOR')) e = binary('XOR', e, parseAnd(p));
  return e;
}

function parseAnd(p: TokenCursor): Expr {
  let e = parseNot(p);
  while (p.acceptKw('AND')) e = binary('AND', e, parseNot(p));
  return e;
}

function parseNot(p: TokenCursor): Expr {
  if (p.isKw('NOT')) {
    const pos = p.next().pos;
    p.enter();
    try {
      return { kind: 'Not', pos, operand: parseNot(p) };
    } finally {
      p.leave();
    }
  }
  return parseComparison(p);
}

const comparisonOps = new Map<string, BinaryOp>([['=', '='], ['<>', '<>'], ['!=', '<>'], ['<', '<'], ['>', '>'], ['<=', '<='], ['>=', '>=']]);

function parseComparison(p: TokenCursor): Expr {
  const first = parseStringListNull(p);
  const terms: Expr[] = [first];
  const ops: BinaryOp[] = [];
  for (;;) {
    const t = p.peek();
    const op = t.kind === 'punct' ? comparisonOps.get(t.text) : undefined;
    if (!op) break;
    p.next();
    ops.push(op);
    terms.push(parseStringListNull(p));
  }
  if (ops.length === 0) return first;
  // `a < b < c` means `a < b AND b < c`.
  let result: Expr | null = null;
  for (let i = 0; i < ops.length; i++) {
    const cmp = binary(ops[i]!, terms[i]!, terms[i + 1]!);
    result = result ? binary('AND', result, cmp) : cmp;
  }
  return result!;
}

function parseStringListNull(p: TokenCursor): Expr {
  let e = parseAddSub(p);
  for (;;) {
    if (p.acceptKw('STARTS', 'WITH')) e = binary('STARTS WITH', e, parseAddSub(p));
    else if (p.acceptKw('ENDS', 'WITH')) e = binary('ENDS WITH', e, parseAddSub(p));
    else if (p.acceptKw('CONTAINS')) e = binary('CONTAINS', e, parseAddSub(p));
    else if (p.acceptKw('IN')) e = binary('IN', e, parseAddSub(p));
    else if (p.acceptPunct('=~')) e = binary('=~', e, parseAddSub(p));
    else if (p.acceptKw('IS', 'NULL')) e = { kind: 'IsNull', pos: e.pos, operand: e, negated: false };
    else if (p.acceptKw('IS', 'NOT', 'NULL')) e = { kind: 'IsNull', pos: e.pos, operand: e, negated: true };
    else return e;
  }
}

function parseAddSub(p: TokenCursor): Expr {
  let e = parseMulDiv(p);
  for (;;) {
    if (p.acceptPunct('+')) e = binary('+', e, parseMulDiv(p));
    else if (p.acceptPunct('-')) e = binary('-', e, parseMulDiv(p));
    else return e;
  }
}

function parseMulDiv(p: TokenCursor): Expr {
  let e = parsePower(p);
  for (;;) {
    if (p.acceptPunct('*')) e = binary('*', e, parsePower(p));
    else if (p.acceptPunct('/')) e = binary('/', e, parsePower(p));
    else if (p.acceptPunct('%')) e = binary('%', e, parsePower(p));
    else return e;
  }
}

function parsePower(p: TokenCursor): Expr {
  let e = parseUnary(p);
  while (p.acceptPunct('^')) e = binary('^', e, parseUnary(p));
  return e;
}

function parseUnary(p: TokenCursor): Expr {
  if (p.isPunct('-')) {
    const pos = p.next().pos;
    const t = p.peek();
    // Fold `-<integer>` so that -9223372036854775808 is representable.
    if (t.kind === 'int' && !isPostfixStart(p, 1)) {
      p.next();
      const v = -t.intValue!;
      if (v < -int64Max - 1n) throw p.failAt(t.pos, `integer is too large: ${p.text.slice(pos, t.end)}`);
      return { kind: 'Literal', pos, value: v };
    }
    p.enter();
    try {
      return { kind: 'Neg', pos, operand: parseUnary(p) };
    } finally {
      p.leave();
    }
  }
  if (p.acceptPunct('+')) return parseUnary(p);
  return parsePostfix(p);
}

function isPostfixStart(p: TokenCursor, k: number): boolean {
  return p.isPunct('.', k) || p.isPunct('[', k);
}

/** An atom with property lookups, indexes and label checks (SET/REMOVE targets). */
export function parsePostfix(p: TokenCursor): Expr {
  let e = parseAtom(p);
  for (;;) {
    if (p.isPunct('.') && p.isIdent(1)) {
      p.next();
      e = { kind: 'Prop', pos: e.pos, target: e, key: p.next().text };
    } else if (p.isPunct('[')) {
      p.next();
      if (p.acceptPunct('..')) {
        const to = p.isPunct(']') ? null : parseExpression(p);
        p.expectPunct(']');
        e = { kind: 'Slice', pos: e.pos, target: e, from: null, to };
        continue;
      }
      const index = parseExpression(p);
      if (p.acceptPunct('..')) {
        const to = p.isPunct(']') ? null : parseExpression(p);
        p.expectPunct(']');
        e = { kind: 'Slice', pos: e.pos, target: e, from: index, to };
        continue;
      }
      p.expectPunct(']');
      e = { kind: 'Index', pos: e.pos, target: e, index };
    } else if (p.isPunct(':') && p.isIdent(1)) {
      const { labels, mode } = parseLabelExpression(p, true);
      e = { kind: 'HasLabels', pos: e.pos, target: e, labels, mode };
    } else {
      return e;
    }
  }
}

/** `:A:B`, `:A&B` (all) or `:A|B` (any), starting at the first `:`. */
export function parseLabelExpression(p: TokenCursor, allowAny: boolean): { labels: string[]; mode: 'all' | 'any' } {
  p.expectPunct(':');
  const labels = [p.identifier('a label name')];
  let mode: 'all' | 'any' = 'all';
  for (;;) {
    if (p.isPunct(':') && p.isIdent(1) && mode === 'all') {
      p.next();
      labels.push(p.next().text);
    } else if (p.isPunct('&') && p.isIdent(1) && mode === 'all') {
      p.next();
      labels.push(p.next().text);
    } else if (allowAny && p.isPunct('|') && p.isIdent(1) && (labels.length === 1 || mode === 'any')) {
      p.next();
      mode = 'any';
      labels.push(p.next().text);
    } else {
      return { labels, mode };
    }
  }
}

function parseAtom(p: TokenCursor): Expr {
  const t = p.peek();
  switch (t.kind) {
    case 'int':
      p.next();
      if (t.intValue! > int64Max) throw p.failAt(t.pos, `integer is too large: ${t.text}`);
      return { kind: 'Literal', pos: t.pos, value: t.intValue! };
    case 'float':
      p.next();
      return { kind: 'Literal', pos: t.pos, value: t.floatValue! };
    case 'string':
      p.next();
      return { kind: 'Literal', pos: t.pos, value: t.text };
    case 'param':
      p.next();
      return { kind: 'Param', pos: t.pos, name: t.text };
    case 'punct':
      if (t.text === '[') return parseBracket(p);
      if (t.text === '{') return parseMapLiteral(p);
      if (t.text === '(') return parseParenthesised(p);
      throw p.fail('an expression');
    case 'ident':
      return parseIdentAtom(p);
    default:
      throw p.fail('an expression');
  }
}

export function parseMapLiteral(p: TokenCursor): Expr {
  const pos = p.expectPunct('{').pos;
  const entries: [string, Expr][] = [];
  if (!p.acceptPunct('}')) {
    do {
      const key = p.identifier('a map key');
      p.expectPunct(':');
      entries.push([key, parseExpression(p)]);
    } while (p.acceptPunct(','));
    p.expectPunct('}');
  }
  return { kind: 'MapLit', pos, entries };
}

function parseParenthesised(p: TokenCursor): Expr {
  const start = p.peek().pos;
  // A pattern predicate such as `(a)-[:KNOWS]->(b)` needs at least one relationship.
  const pattern = p.attempt(() => {
    const part = parsePatternPart(p, false);
    if (part.rels.length === 0) throw p.fail('a relationship pattern');
    return part;
  });
  if (pattern) return { kind: 'Subquery', pos: start, mode: 'exists', form: 'predicate', patterns: [pattern], where: null, query: null };
  p.expectPunct('(');
  const e = parseExpression(p);
  p.expectPunct(')');
  return e;
}

function parseBracket(p: TokenCursor): Expr {
  const pos = p.expectPunct('[').pos;
  // List comprehension: [x IN list WHERE pred | expr]
  if (p.isIdent() && p.isKw('IN', 1)) {
    const variable = p.next().text;
    p.next();
    const list = parseExpression(p);
    const where = p.acceptKw('WHERE') ? parseExpression(p) : null;
    const map = p.acceptPunct('|') ? parseExpression(p) : null;
    p.expectPunct(']');
    return { kind: 'ListComp', pos, variable, list, where, map };
  }
  // Pattern comprehension: [(a)-->(b) WHERE pred | expr]
  if (p.isPunct('(') || (p.isIdent() && p.isPunct('=', 1))) {
    const comp = p.attempt((): Expr => {
      const pattern = parsePatternPart(p, false);
      if (pattern.rels.length === 0) throw p.fail('a relationship pattern');
      const where = p.acceptKw('WHERE') ? parseExpression(p) : null;
      p.expectPunct('|');
      const map = parseExpression(p);
      p.expectPunct(']');
      return { kind: 'PatternComp', pos, pattern, where, map };
    });
    if (comp) return comp;
  }
  const items: Expr[] = [];
  if (!p.acceptPunct(']')) {
    do items.push(parseExpression(p));
    while (p.acceptPunct(','));
    p.expectPunct(']');
  }
  return { kind: 'ListLit', pos, items };
}

function parseIdentAtom(p: TokenCursor): Expr {
  const t = p.peek();
  const upper = t.quoted ? '' : t.text.toUpperCase();
  if (upper === 'TRUE') return (p.next(), { kind: 'Literal', pos: t.pos, value: true });
  if (upper === 'FALSE') return (p.next(), { kind: 'Literal', pos: t.pos, value: false });
  if (upper === 'NULL') return (p.next(), { kind: 'Literal', pos: t.pos, value: null });
  if (upper === 'CASE') return parseCase(p);
  if (reservedInExpressions.has(upper) && !p.isPunct('(', 1)) throw p.fail('an expression');
  if ((upper === 'EXISTS' || upper === 'COUNT') && p.isPunct('{', 1)) return parseSubquery(p, upper === 'EXISTS' ? 'exists' : 'count');
  if (upper === 'COUNT' && p.isPunct('(', 1) && p.isPunct('*', 2) && p.isPunct(')', 3)) {
    p.index += 4;
    return { kind: 'CountStar', pos: t.pos };
  }
  if (['ALL', 'ANY', 'NONE', 'SINGLE'].includes(upper) && p.isPunct('(', 1) && p.isIdent(2) && p.isKw('IN', 3)) {
    p.index += 2;
    const variable = p.next().text;
    p.next();
    const list = parseExpression(p);
    p.expectKw('WHERE');
    const where = parseExpression(p);
    p.expectPunct(')');
    return { kind: 'Quantifier', pos: t.pos, quantifier: upper.toLowerCase() as 'all', variable, list, where };
  }
  if (upper === 'REDUCE' && p.isPunct('(', 1)) return parseReduce(p);
  if (upper === 'TRIM' && p.isPunct('(', 1)) {
    const call = parseTrimFrom(p);
    if (call) return call;
  }
  if (upper === 'EXISTS' && p.isPunct('(', 1)) {
    // exists((a)-->(b)) is a pattern predicate; exists(n.prop) is the property check.
    p.index += 2;
    const arg = parseExpression(p);
    p.expectPunct(')');
    if (arg.kind === 'Subquery' && arg.form === 'predicate') return { ...arg, form: 'function' };
    return { kind: 'IsNull', pos: t.pos, operand: arg, negated: true };
  }
  // Function call: name or namespace.name followed by '('.
  let k = 1;
  while (p.isPunct('.', k) && p.isIdent(k + 1)) k += 2;
  if (p.isPunct('(', k)) {
    const parts: string[] = [];
    for (let i = 0; i < k; i += 2) parts.push(p.peek(i).text);
    p.index += k + 1;
    const distinct = p.acceptKw('DISTINCT');
    const args: Expr[] = [];
    if (!p.acceptPunct(')')) {
      do args.push(parseExpression(p));
      while (p.acceptPunct(','));
      p.expectPunct(')');
    }
    return { kind: 'Call', pos: t.pos, name: parts.join('.'), distinct, args };
  }
  p.next();
  if (p.isPunct('{')) return parseMapProjection(p, t.text, t.pos);
  return { kind: 'Var', pos: t.pos, name: t.text };
}

function parseCase(p: TokenCursor): Expr {
  const pos = p.next().pos;
  const test = p.isKw('WHEN') ? null : parseExpression(p);
  const whens: [Expr, Expr][] = [];
  while (p.acceptKw('WHEN')) {
    const when = parseExpression(p);
    p.expectKw('THEN');
    whens.push([when, parseExpression(p)]);
  }
  if (whens.length === 0) throw p.fail("'WHEN'");
  const otherwise = p.acceptKw('ELSE') ? parseExpression(p) : null;
  p.expectKw('END');
  return { kind: 'Case', pos, test, whens, otherwise };
}

const trimSides = new Map([['BOTH', 'btrim'], ['LEADING', 'ltrim'], ['TRAILING', 'rtrim']]);

/**
 * `trim([LEADING | TRAILING | BOTH] [trimCharacterString] FROM source)`, Neo4j's SQL-style form,
 * as a call of btrim/ltrim/rtrim(source[, trimCharacterString]). Returns null (consuming nothing)
 * for a plain `trim(source)` call, which the ordinary function-call path parses.
 */
function parseTrimFrom(p: TokenCursor): Expr | null {
  const start = p.index;
  const pos = p.peek().pos;
  p.index += 2;
  let name = 'btrim';
  const sideWord = p.peek().quoted ? undefined : trimSides.get(p.peek().text.toUpperCase());
  // A side word followed by ')' or an operator is a variable called `both` etc., not the keyword.
  const sideGiven = sideWord !== undefined && !p.isPunct(')', 1) && !p.isPunct(',', 1) && !p.isPunct('.', 1);
  if (sideGiven) {
    name = sideWord;
    p.index++;
  }
  if (sideGiven && p.acceptKw('FROM')) {
    const source = parseExpression(p);
    p.expectPunct(')');
    return { kind: 'Call', pos, name, distinct: false, args: [source] };
  }
  const first = parseExpression(p);
  if (p.acceptKw('FROM')) {
    const source = parseExpression(p);
    p.expectPunct(')');
    return { kind: 'Call', pos, name, distinct: false, args: [source, first] };
  }
  if (sideGiven) throw p.fail("'FROM'");
  p.index = start;
  return null;
}

function parseReduce(p: TokenCursor): Expr {
  const pos = p.next().pos;
  p.expectPunct('(');
  const accumulator = p.identifier('an accumulator variable');
  p.expectPunct('=');
  const init = parseExpression(p);
  p.expectPunct(',');
  const variable = p.identifier('a variable');
  p.expectKw('IN');
  const list = parseExpression(p);
  p.expectPunct('|');
  const body = parseExpression(p);
  p.expectPunct(')');
  return { kind: 'Reduce', pos, accumulator, init, variable, list, body };
}

/** `EXISTS { [MATCH] pattern, ... [WHERE ...] }` or `EXISTS { a whole query }`; COUNT likewise. */
function parseSubquery(p: TokenCursor, mode: 'exists' | 'count'): Expr {
  const pos = p.next().pos;
  p.expectPunct('{');
  const short = p.attempt((): Expr => {
    p.acceptKw('MATCH');
    const patterns = parsePatternList(p);
    const where = p.acceptKw('WHERE') ? parseExpression(p) : null;
    p.expectPunct('}');
    return { kind: 'Subquery', pos, mode, form: 'subquery', patterns, where, query: null };
  });
  if (short) return short;
  const query = parseQuery(p);
  p.expectPunct('}');
  return { kind: 'Subquery', pos, mode, form: 'subquery', patterns: [], where: null, query };
}

function parseMapProjection(p: TokenCursor, variable: string, pos: number): Expr {
  p.expectPunct('{');
  const items: MapProjectionItem[] = [];
  if (!p.acceptPunct('}')) {
    do {
      if (p.acceptPunct('.')) {
        if (p.acceptPunct('*')) items.push({ kind: 'allProperties' });
        else items.push({ kind: 'property', key: p.identifier('a property key') });
      } else if (p.isIdent() && p.isPunct(':', 1)) {
        const key = p.next().text;
        p.next();
        items.push({ kind: 'literal', key, value: parseExpression(p) });
      } else {
        items.push({ kind: 'variable', name: p.identifier('a map projection item') });
      }
    } while (p.acceptPunct(','));
    p.expectPunct('}');
  }
  return { kind: 'MapProjection', pos, variable, items };
}
