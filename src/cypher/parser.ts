/**
 * The Cypher parser entry point and clause parser: query text in, AST out (pure, no I/O).
 * Schema and administration commands are delegated to parse-command.ts.
 */
import type { Clause, Expr, InTransactions, Projection, ProjectionItem, Query, RemoveItem, SetItem, SingleQuery, SortItem, Statement, YieldItem } from './ast.js';
import { TokenCursor } from './parser-base.js';
import { parseExpression, parseLabelExpression, parsePostfix } from './parse-expression.js';
import { parsePatternList, parsePatternPart } from './parse-pattern.js';
import { isCommandStart, parseCommand } from './parse-command.js';

export function parse(text: string): Statement {
  const p = new TokenCursor(text);
  const statement = isCommandStart(p) ? parseCommand(p) : parseQuery(p);
  p.acceptPunct(';');
  if (!p.atEnd()) throw p.fail('end of input');
  return statement;
}

const clauseStarts = ['MATCH', 'OPTIONAL', 'UNWIND', 'WITH', 'RETURN', 'CREATE', 'MERGE', 'SET', 'REMOVE', 'DELETE', 'DETACH', 'NODETACH', 'FOREACH', 'CALL', 'UNION'];

export function parseQuery(p: TokenCursor): Query {
  const parts: SingleQuery[] = [parseSingleQuery(p)];
  const unionAll: boolean[] = [];
  while (p.acceptKw('UNION')) {
    unionAll.push(p.acceptKw('ALL'));
    if (!unionAll[unionAll.length - 1]) p.acceptKw('DISTINCT');
    parts.push(parseSingleQuery(p));
  }
  return { kind: 'Query', parts, unionAll };
}

function parseSingleQuery(p: TokenCursor): SingleQuery {
  const clauses: Clause[] = [];
  for (;;) {
    const t = p.peek();
    if (t.kind === 'eof' || p.isPunct(';') || p.isPunct('}') || p.isPunct(')') || p.isKw('UNION')) break;
    clauses.push(parseClause(p));
  }
  if (clauses.length === 0) throw p.fail(clauseStarts.filter((c) => c !== 'UNION').map((c) => `'${c}'`).join(', '));
  return { clauses };
}

function parseClause(p: TokenCursor): Clause {
  const t = p.peek();
  const pos = t.pos;
  if (p.acceptKw('OPTIONAL', 'MATCH')) return parseMatch(p, pos, true);
  if (p.acceptKw('MATCH')) return parseMatch(p, pos, false);
  if (p.acceptKw('UNWIND')) {
    const expr = parseExpression(p);
    p.expectKw('AS');
    return { kind: 'Unwind', pos, expr, variable: p.identifier('a variable name') };
  }
  if (p.acceptKw('WITH')) {
    const projection = parseProjection(p, 'WITH');
    const where = p.acceptKw('WHERE') ? parseExpression(p) : null;
    return { kind: 'With', pos, projection, where };
  }
  if (p.acceptKw('RETURN')) return { kind: 'Return', pos, projection: parseProjection(p, 'RETURN') };
  if (p.acceptKw('CREATE')) return { kind: 'Create', pos, patterns: parsePatternList(p) };
  if (p.acceptKw('MERGE')) return parseMerge(p, pos);
  if (p.acceptKw('SET')) return { kind: 'Set', pos, items: parseSetItems(p) };
  if (p.acceptKw('REMOVE')) return { kind: 'Remove', pos, items: parseRemoveItems(p) };
  if (p.acceptKw('DETACH', 'DELETE')) return { kind: 'Delete', pos, detach: true, exprs: parseExpressionList(p) };
  if (p.acceptKw('NODETACH', 'DELETE') || p.acceptKw('DELETE')) return { kind: 'Delete', pos, detach: false, exprs: parseExpressionList(p) };
  if (p.acceptKw('FOREACH')) return parseForeach(p, pos);
  if (p.acceptKw('CALL')) return parseCall(p, pos);
  throw p.fail(clauseStarts.map((c) => `'${c}'`).join(', '));
}

function parseExpressionList(p: TokenCursor) {
  const exprs = [parseExpression(p)];
  while (p.acceptPunct(',')) exprs.push(parseExpression(p));
  return exprs;
}

function parseMatch(p: TokenCursor, pos: number, optional: boolean): Clause {
  const patterns = parsePatternList(p);
  const where = p.acceptKw('WHERE') ? parseExpression(p) : null;
  return { kind: 'Match', pos, optional, patterns, where };
}

function parseMerge(p: TokenCursor, pos: number): Clause {
  const pattern = parsePatternPart(p, true);
  const onCreate: SetItem[] = [];
  const onMatch: SetItem[] = [];
  for (;;) {
    if (p.acceptKw('ON', 'CREATE', 'SET')) onCreate.push(...parseSetItems(p));
    else if (p.acceptKw('ON', 'MATCH', 'SET')) onMatch.push(...parseSetItems(p));
    else break;
  }
  return { kind: 'Merge', pos, pattern, onCreate, onMatch };
}

function parseForeach(p: TokenCursor, pos: number): Clause {
  p.expectPunct('(');
  const variable = p.identifier('a variable name');
  p.expectKw('IN');
  const list = parseExpression(p);
  p.expectPunct('|');
  const clauses: Clause[] = [];
  while (!p.isPunct(')')) {
    if (p.atEnd()) throw p.fail("')'");
    clauses.push(parseClause(p));
  }
  p.next();
  return { kind: 'Foreach', pos, variable, list, clauses };
}

function parseCall(p: TokenCursor, pos: number): Clause {
  // CALL (a, b) { ... }, CALL (*) { ... }, CALL () { ... }: the variable scope clause of Neo4j 5.23.
  let importing: string[] | '*' | null = null;
  if (p.isPunct('(')) {
    p.next();
    if (p.acceptPunct('*')) importing = '*';
    else {
      importing = [];
      if (!p.isPunct(')')) {
        do importing.push(p.identifier('a variable'));
        while (p.acceptPunct(','));
      }
    }
    p.expectPunct(')');
    if (!p.isPunct('{')) throw p.fail("'{'");
  }
  if (p.acceptPunct('{')) {
    const query = parseQuery(p);
    p.expectPunct('}');
    const inTransactions = p.isKw('IN') ? parseInTransactions(p) : null;
    return { kind: 'CallSubquery', pos, query, importing, inTransactions };
  }
  const nameParts = [p.identifier('a procedure name')];
  while (p.acceptPunct('.')) nameParts.push(p.identifier('a procedure name'));
  let args: Expr[] | null = null;
  if (p.acceptPunct('(')) {
    args = [];
    if (!p.acceptPunct(')')) {
      args = parseExpressionList(p);
      p.expectPunct(')');
    }
  }
  let yields: YieldItem[] | null = null;
  let where: Expr | null = null;
  if (p.acceptKw('YIELD')) {
    if (p.acceptPunct('*')) {
      yields = null;
    } else {
      yields = parseYieldItems(p);
      where = p.acceptKw('WHERE') ? parseExpression(p) : null;
    }
  }
  return { kind: 'CallProcedure', pos, name: nameParts.join('.'), args, yields, where };
}

/** `IN TRANSACTIONS` and its options, each at most once and in any order (as Neo4j accepts them). */
function parseInTransactions(p: TokenCursor): InTransactions {
  const pos = p.next().pos;
  if (!p.isKw('TRANSACTIONS')) {
    const concurrent = p.isKw('CONCURRENT') || p.isKw('CONCURRENT', 1);
    if (concurrent) throw p.failAt(p.peek().pos, 'CALL { ... } IN CONCURRENT TRANSACTIONS is not supported: Quiver has one writer per database, so batches commit one after another (use IN TRANSACTIONS)');
    throw p.fail("'TRANSACTIONS'");
  }
  p.next();
  const spec: InTransactions = { pos, batchSize: null, onError: 'FAIL', reportStatus: null };
  const seen = new Set<string>();
  const once = (option: string, at: number) => {
    if (seen.has(option)) throw p.failAt(at, `Duplicate ${option} option in CALL { ... } IN TRANSACTIONS`);
    seen.add(option);
  };
  for (;;) {
    const at = p.peek().pos;
    if (p.acceptKw('OF')) {
      once('OF ... ROWS', at);
      spec.batchSize = parseExpression(p);
      if (!p.acceptKw('ROWS') && !p.acceptKw('ROW')) throw p.fail("'ROWS'");
    } else if (p.acceptKw('ON', 'ERROR')) {
      once('ON ERROR', at);
      if (p.acceptKw('CONTINUE')) spec.onError = 'CONTINUE';
      else if (p.acceptKw('BREAK')) spec.onError = 'BREAK';
      else if (p.acceptKw('FAIL')) spec.onError = 'FAIL';
      else throw p.fail("'CONTINUE', 'BREAK' or 'FAIL'");
    } else if (p.acceptKw('REPORT', 'STATUS', 'AS')) {
      once('REPORT STATUS', at);
      spec.reportStatus = p.identifier('a variable');
    } else {
      return spec;
    }
  }
}

export function parseYieldItems(p: TokenCursor): YieldItem[] {
  const items: YieldItem[] = [];
  do {
    const name = p.identifier('a column name');
    const alias = p.acceptKw('AS') ? p.identifier('a variable name') : name;
    items.push({ name, alias });
  } while (p.acceptPunct(','));
  return items;
}

function parseSetItems(p: TokenCursor): SetItem[] {
  const items: SetItem[] = [];
  do items.push(parseSetItem(p));
  while (p.acceptPunct(','));
  return items;
}

function parseSetItem(p: TokenCursor): SetItem {
  const pos = p.peek().pos;
  if (p.isIdent() && p.isPunct(':', 1)) {
    const variable = p.next().text;
    return { kind: 'SetLabels', pos, variable, labels: parseLabelExpression(p, false).labels };
  }
  if (p.isIdent() && (p.isPunct('=', 1) || p.isPunct('+=', 1))) {
    const variable = p.next().text;
    const merge = p.next().text === '+=';
    return { kind: 'SetAll', pos, variable, value: parseExpression(p), merge };
  }
  const target = parsePropertyTarget(p);
  p.expectPunct('=');
  return { kind: 'SetProperty', pos, target: target.target, key: target.key, value: parseExpression(p) };
}

/** `a.b.c` → target `a.b`, key `c`; also `(expr).key`. */
function parsePropertyTarget(p: TokenCursor) {
  const e = parsePostfix(p);
  if (e.kind !== 'Prop') throw p.failAt(e.pos, `Invalid input: expected a property such as 'n.name'`);
  return { target: e.target, key: e.key };
}

function parseRemoveItems(p: TokenCursor): RemoveItem[] {
  const items: RemoveItem[] = [];
  do {
    const pos = p.peek().pos;
    if (p.isIdent() && p.isPunct(':', 1)) {
      const variable = p.next().text;
      items.push({ kind: 'RemoveLabels', pos, variable, labels: parseLabelExpression(p, false).labels });
    } else {
      const { target, key } = parsePropertyTarget(p);
      items.push({ kind: 'RemoveProperty', pos, target, key });
    }
  } while (p.acceptPunct(','));
  return items;
}

export function parseProjection(p: TokenCursor, clause: 'WITH' | 'RETURN'): Projection {
  const distinct = p.acceptKw('DISTINCT');
  let star = false;
  const items: ProjectionItem[] = [];
  if (p.acceptPunct('*')) {
    star = true;
    if (!p.acceptPunct(',')) return parseProjectionTail(p, { distinct, star, items });
  }
  do {
    const start = p.peek().pos;
    const expr = parseExpression(p);
    const end = p.previous().end;
    if (p.acceptKw('AS')) items.push({ expr, name: p.identifier('a variable name'), aliased: true });
    else items.push({ expr, name: p.text.slice(start, end), aliased: false });
  } while (p.acceptPunct(','));
  void clause;
  return parseProjectionTail(p, { distinct, star, items });
}

function parseProjectionTail(p: TokenCursor, head: Pick<Projection, 'distinct' | 'star' | 'items'>): Projection {
  const orderBy: SortItem[] = [];
  if (p.acceptKw('ORDER', 'BY')) {
    do {
      const expr = parseExpression(p);
      let descending = false;
      if (p.acceptKw('DESC') || p.acceptKw('DESCENDING')) descending = true;
      else if (p.acceptKw('ASC') || p.acceptKw('ASCENDING')) descending = false;
      orderBy.push({ expr, descending });
    } while (p.acceptPunct(','));
  }
  const skip = p.acceptKw('SKIP') || p.acceptKw('OFFSET') ? parseExpression(p) : null;
  const limit = p.acceptKw('LIMIT') ? parseExpression(p) : null;
  return { ...head, orderBy, skip, limit };
}
