/**
 * Parser for schema commands (CREATE/DROP/SHOW INDEX and CONSTRAINT) and for administration
 * commands of the system database (databases, users, roles, privileges), which are only parsed
 * into an `AdminCommand` node here; the DBMS executes them.
 */
import type { AdminCommand, Expr, SchemaCommand, ShowModifiers, Statement } from './ast.js';
import type { TokenCursor } from './parser-base.js';
import { parseExpression, parseMapLiteral } from './parse-expression.js';
import { parseProjection, parseYieldItems } from './parser.js';

const indexKinds = ['RANGE', 'BTREE', 'TEXT', 'POINT', 'LOOKUP', 'FULLTEXT', 'VECTOR'];
const adminFirstWords = new Set(['ALTER', 'START', 'STOP', 'GRANT', 'DENY', 'REVOKE', 'RENAME', 'TERMINATE', 'ENABLE', 'DEALLOCATE', 'REALLOCATE', 'DRYRUN']);

export function isCommandStart(p: TokenCursor): boolean {
  if (p.isKw('SHOW') || p.isKw('DROP')) return true;
  if (p.isKw('CREATE')) {
    const t = p.peek(1);
    if (t.kind !== 'ident' || t.quoted) return false;
    const w = t.text.toUpperCase();
    return ['INDEX', 'CONSTRAINT', 'DATABASE', 'COMPOSITE', 'USER', 'ROLE', 'ALIAS', 'OR'].includes(w) || (indexKinds.includes(w) && p.isKw('INDEX', 2));
  }
  const t = p.peek();
  return t.kind === 'ident' && !t.quoted && adminFirstWords.has(t.text.toUpperCase());
}

export function parseCommand(p: TokenCursor): Statement {
  const start = p.peek().pos;
  if (p.isKw('CREATE')) {
    if (p.isKw('INDEX', 1) || (p.isKw('INDEX', 2) && indexKinds.some((k) => p.isKw(k, 1)))) return parseCreateIndex(p);
    if (p.isKw('CONSTRAINT', 1)) return parseCreateConstraint(p);
  }
  if (p.isKws('DROP', 'INDEX')) {
    p.index += 2;
    const name = p.identifier('an index name');
    return { kind: 'DropIndex', pos: start, name, ifExists: p.acceptKw('IF', 'EXISTS') };
  }
  if (p.isKws('DROP', 'CONSTRAINT')) {
    p.index += 2;
    const name = p.identifier('a constraint name');
    return { kind: 'DropConstraint', pos: start, name, ifExists: p.acceptKw('IF', 'EXISTS') };
  }
  if (p.isKw('SHOW')) {
    let k = 1;
    while (p.isKw('ALL', k) || p.isKw('UNIQUE', k) || p.isKw('UNIQUENESS', k) || indexKinds.some((w) => p.isKw(w, k))) k++;
    if (p.isKw('INDEX', k) || p.isKw('INDEXES', k)) {
      p.index += k + 1;
      return { kind: 'ShowIndexes', pos: start, modifiers: parseShowModifiers(p) };
    }
    if (p.isKw('CONSTRAINT', k) || p.isKw('CONSTRAINTS', k)) {
      p.index += k + 1;
      return { kind: 'ShowConstraints', pos: start, modifiers: parseShowModifiers(p) };
    }
  }
  return parseAdmin(p);
}

export function parseShowModifiers(p: TokenCursor): ShowModifiers {
  const m: ShowModifiers = { yields: null, yieldStar: false, where: null, returnProjection: null };
  if (p.acceptKw('YIELD')) {
    if (p.acceptPunct('*')) m.yieldStar = true;
    else m.yields = parseYieldItems(p);
  }
  if (p.acceptKw('WHERE')) m.where = parseExpression(p);
  if (p.acceptKw('RETURN')) m.returnProjection = parseProjection(p, 'RETURN');
  return m;
}

function optionalSchemaName(p: TokenCursor): string | null {
  if (p.isIdent() && !p.isKws('IF', 'NOT', 'EXISTS') && !p.isKw('FOR') && !p.isKw('ON')) return p.next().text;
  return null;
}

/** `(n:Label)` → variable and label; relationship patterns are refused (the kernel indexes nodes only). */
function schemaNodePattern(p: TokenCursor): { variable: string; label: string } {
  if (p.isPunct('(') && p.isPunct(')', 1) && p.isPunct('-', 2)) {
    throw p.failAt(p.peek().pos, 'Relationship property indexes and constraints are not supported: use a node label');
  }
  p.expectPunct('(');
  const variable = p.identifier('a variable name');
  p.expectPunct(':');
  const label = p.identifier('a label name');
  p.expectPunct(')');
  return { variable, label };
}

function propertyList(p: TokenCursor, variable: string): string[] {
  const one = (): string => {
    const v = p.peek();
    const name = p.identifier('a variable name');
    if (name !== variable) throw p.failAt(v.pos, `Variable \`${name}\` not defined`);
    p.expectPunct('.');
    return p.identifier('a property key');
  };
  if (p.acceptPunct('(')) {
    const props = [one()];
    while (p.acceptPunct(',')) props.push(one());
    p.expectPunct(')');
    return props;
  }
  return [one()];
}

function skipOptions(p: TokenCursor): void {
  if (p.acceptKw('OPTIONS')) parseMapLiteral(p);
}

function parseCreateIndex(p: TokenCursor): SchemaCommand {
  const pos = p.next().pos;
  if (indexKinds.some((k) => p.isKw(k))) {
    const kind = p.next();
    if (!['RANGE', 'BTREE'].includes(kind.text.toUpperCase())) throw p.failAt(kind.pos, `${kind.text.toUpperCase()} indexes are not supported: only range indexes`);
  }
  p.expectKw('INDEX');
  // Legacy form: CREATE INDEX ON :Label(prop)
  if (p.isKw('ON') && p.isPunct(':', 1)) {
    p.index += 2;
    const label = p.identifier('a label name');
    p.expectPunct('(');
    const property = p.identifier('a property key');
    p.expectPunct(')');
    return { kind: 'CreateIndex', pos, name: null, ifNotExists: false, variable: 'n', label, properties: [property] };
  }
  const name = optionalSchemaName(p);
  const ifNotExists = p.acceptKw('IF', 'NOT', 'EXISTS');
  p.expectKw('FOR');
  const { variable, label } = schemaNodePattern(p);
  p.expectKw('ON');
  const properties = propertyList(p, variable);
  skipOptions(p);
  return { kind: 'CreateIndex', pos, name, ifNotExists, variable, label, properties };
}

function parseCreateConstraint(p: TokenCursor): SchemaCommand {
  const pos = p.next().pos;
  p.expectKw('CONSTRAINT');
  const name = optionalSchemaName(p);
  const ifNotExists = p.acceptKw('IF', 'NOT', 'EXISTS');
  if (!p.acceptKw('FOR')) p.expectKw('ON');
  const { variable, label } = schemaNodePattern(p);
  if (!p.acceptKw('REQUIRE')) p.expectKw('ASSERT');
  const properties = propertyList(p, variable);
  const isPos = p.peek().pos;
  p.expectKw('IS');
  if (!p.acceptKw('UNIQUE')) {
    throw p.failAt(isPos, 'Only uniqueness constraints (IS UNIQUE) are supported');
  }
  skipOptions(p);
  return { kind: 'CreateConstraint', pos, name, ifNotExists, variable, label, properties, constraint: 'UNIQUE' };
}

// ---------------------------------------------------------------- administration commands

function parseName(p: TokenCursor): string | { param: string } {
  const t = p.peek();
  if (t.kind === 'param') {
    p.next();
    return { param: t.text };
  }
  if (t.kind === 'string') {
    p.next();
    return t.text;
  }
  let name = p.identifier('a name');
  while (p.isPunct('.') && p.isIdent(1)) {
    p.next();
    name += '.' + p.next().text;
  }
  return name;
}

function parseNameList(p: TokenCursor): string[] {
  const names: string[] = [];
  do {
    const n = parseName(p);
    names.push(typeof n === 'string' ? n : `$${n.param}`);
  } while (p.acceptPunct(','));
  return names;
}

const showWords = new Set(['DATABASE', 'DATABASES', 'DEFAULT', 'HOME', 'USERS', 'USER', 'CURRENT', 'ROLES', 'ROLE', 'ALL', 'POPULATED', 'WITH', 'PRIVILEGES', 'PRIVILEGE', 'SERVERS', 'SERVER', 'ALIASES', 'ALIAS', 'PROCEDURES', 'FUNCTIONS', 'TRANSACTIONS', 'TRANSACTION', 'SETTINGS', 'SETTING', 'AS', 'COMMANDS', 'REVOKE', 'BUILT', 'IN', 'EXECUTABLE', 'BY', 'FOR', 'SUPPORTED']);

function parseAdmin(p: TokenCursor): AdminCommand {
  const start = p.peek().pos;
  const cmd: AdminCommand = { kind: 'AdminCommand', pos: start, action: '', target: null, ifExists: false, ifNotExists: false, orReplace: false, args: new Map(), modifiers: null, text: '' };
  const words: string[] = [];
  const first = p.identifier('a command').toUpperCase();
  words.push(first);
  const finish = (): AdminCommand => {
    cmd.action = words.join(' ');
    cmd.text = p.text.slice(start, p.previous().end);
    return cmd;
  };
  const word = (): string => {
    const w = p.identifier('a command keyword').toUpperCase();
    words.push(w);
    return w;
  };
  switch (first) {
    case 'SHOW': {
      if (p.isKw('TRANSACTION') || p.isKw('TRANSACTIONS')) {
        word();
        if (!p.atEnd() && !p.isKw('YIELD') && !p.isKw('WHERE') && !p.isKw('RETURN') && !p.isPunct(';')) cmd.args.set('transactionIds', parseTransactionIds(p));
        cmd.modifiers = parseShowModifiers(p);
        return finish();
      }
      while (!p.atEnd() && !p.isKw('YIELD') && !p.isKw('WHERE') && !p.isKw('RETURN') && !p.isPunct(';')) {
        const t = p.peek();
        if (t.kind === 'ident' && !t.quoted && showWords.has(t.text.toUpperCase())) {
          words.push(p.next().text.toUpperCase());
        } else if (cmd.target === null) {
          cmd.target = parseName(p);
        } else {
          throw p.fail("'YIELD', 'WHERE', 'RETURN' or end of input");
        }
      }
      cmd.modifiers = parseShowModifiers(p);
      return finish();
    }
    case 'CREATE': {
      if (p.acceptKw('OR', 'REPLACE')) cmd.orReplace = true;
      let what = word();
      if (what === 'COMPOSITE') what = word();
      cmd.target = parseName(p);
      cmd.ifNotExists = p.acceptKw('IF', 'NOT', 'EXISTS');
      if (what === 'USER') parseUserSettings(p, cmd);
      else if (what === 'ROLE' && p.acceptKw('AS', 'COPY', 'OF')) cmd.args.set('copyOf', parseName(p));
      else if (what === 'ALIAS') {
        p.expectKw('FOR', 'DATABASE');
        cmd.args.set('database', parseName(p));
      }
      parseDatabaseTail(p, cmd);
      return finish();
    }
    case 'DROP': {
      let what = word();
      if (what === 'COMPOSITE') what = word();
      cmd.target = parseName(p);
      cmd.ifExists = p.acceptKw('IF', 'EXISTS');
      if (what === 'ALIAS') p.acceptKw('FOR', 'DATABASE');
      if (p.acceptKw('DUMP', 'DATA')) cmd.args.set('dumpData', true);
      else if (p.acceptKw('DESTROY', 'DATA')) cmd.args.set('dumpData', false);
      parseDatabaseTail(p, cmd);
      return finish();
    }
    case 'START':
    case 'STOP':
      word();
      cmd.target = parseName(p);
      parseDatabaseTail(p, cmd);
      return finish();
    case 'ALTER': {
      if (p.acceptKw('CURRENT', 'USER', 'SET', 'PASSWORD', 'FROM')) {
        words.push('CURRENT', 'USER', 'SET', 'PASSWORD');
        cmd.args.set('oldPassword', parseExpression(p));
        p.expectKw('TO');
        cmd.args.set('password', parseExpression(p));
        return finish();
      }
      const what = word();
      cmd.target = parseName(p);
      cmd.ifExists = p.acceptKw('IF', 'EXISTS');
      if (what === 'USER') parseUserSettings(p, cmd);
      else if (what === 'DATABASE') {
        while (p.acceptKw('SET')) {
          if (p.acceptKw('ACCESS', 'READ')) cmd.args.set('access', p.acceptKw('ONLY') ? 'READ ONLY' : (p.expectKw('WRITE'), 'READ WRITE'));
          else if (p.acceptKw('OPTION')) cmd.args.set(p.identifier('an option name'), parseExpression(p));
          else throw p.fail("'ACCESS' or 'OPTION'");
        }
        parseDatabaseTail(p, cmd);
      }
      return finish();
    }
    case 'RENAME':
      word();
      cmd.target = parseName(p);
      cmd.ifExists = p.acceptKw('IF', 'EXISTS');
      p.expectKw('TO');
      cmd.args.set('newName', parseName(p));
      return finish();
    case 'GRANT':
    case 'DENY':
    case 'REVOKE': {
      // `GRANT ROLE r TO u` grants a role; `GRANT ROLE MANAGEMENT ON DBMS TO r` is a privilege.
      if ((p.isKw('ROLE') || p.isKw('ROLES')) && first !== 'DENY' && !p.isKw('MANAGEMENT', 1)) {
        p.next();
        words.push('ROLE');
        cmd.args.set('roles', parseNameList(p));
        p.expectKw(first === 'GRANT' ? 'TO' : 'FROM');
        cmd.args.set('users', parseNameList(p));
        return finish();
      }
      // A privilege: keep its text; the roles follow the last TO/FROM.
      const privStart = p.peek().pos;
      while (!p.atEnd() && !p.isKw('TO') && !(first === 'REVOKE' && p.isKw('FROM')) && !p.isPunct(';')) p.next();
      cmd.args.set('privilege', p.text.slice(privStart, p.previous().end).trim());
      if (!p.acceptKw('TO')) p.expectKw('FROM');
      cmd.args.set('roles', parseNameList(p));
      return finish();
    }
    case 'TERMINATE': {
      const what = word();
      if (what !== 'TRANSACTION' && what !== 'TRANSACTIONS') throw p.failAt(p.previous().pos, `Invalid input '${p.previous().text}': expected 'TRANSACTION' or 'TRANSACTIONS'`);
      cmd.args.set('transactionIds', parseTransactionIds(p));
      // Neo4j 5 filters and projects the outcome only after a YIELD (TERMINATE has no default-column WHERE).
      if (p.isKw('WHERE') || p.isKw('RETURN')) throw p.fail("'YIELD' (TERMINATE TRANSACTIONS takes WHERE and RETURN only after YIELD), ',' or end of input");
      if (p.isKw('YIELD')) cmd.modifiers = parseShowModifiers(p);
      return finish();
    }
    default: {
      // Server management: keep the words and the rest as text.
      while (!p.atEnd() && !p.isPunct(';')) p.next();
      return finish();
    }
  }
}

/**
 * The transaction ids of SHOW and TERMINATE TRANSACTIONS, as Neo4j 5 takes them: two or more
 * comma-separated string literals, or one expression (usually a $parameter) that the command
 * evaluates to a string or a list of strings.
 */
function parseTransactionIds(p: TokenCursor): Expr[] {
  const first = p.peek();
  if (first.kind !== 'string' || !p.isPunct(',', 1)) return [parseExpression(p)];
  const ids: Expr[] = [];
  do {
    const t = p.peek();
    if (t.kind !== 'string') throw p.fail("a quoted transaction id (a list of ids holds string literals only; pass a list parameter instead)");
    p.next();
    ids.push({ kind: 'Literal', pos: t.pos, value: t.text });
  } while (p.acceptPunct(','));
  return ids;
}

function parseUserSettings(p: TokenCursor, cmd: AdminCommand): void {
  for (;;) {
    if (p.acceptKw('SET')) {
      p.acceptKw('PLAINTEXT');
      if (p.acceptKw('ENCRYPTED')) cmd.args.set('encrypted', true);
      if (p.acceptKw('PASSWORD')) {
        if (!p.isKw('CHANGE')) cmd.args.set('password', parseExpression(p));
        if (p.acceptKw('CHANGE', 'NOT', 'REQUIRED')) cmd.args.set('changeRequired', false);
        else if (p.acceptKw('CHANGE', 'REQUIRED')) cmd.args.set('changeRequired', true);
      } else if (p.acceptKw('STATUS')) {
        cmd.args.set('status', p.acceptKw('ACTIVE') ? 'ACTIVE' : (p.expectKw('SUSPENDED'), 'SUSPENDED'));
      } else if (p.acceptKw('HOME', 'DATABASE')) {
        cmd.args.set('homeDatabase', parseName(p));
      } else {
        throw p.fail("'PASSWORD', 'STATUS' or 'HOME DATABASE'");
      }
    } else if (p.acceptKw('REMOVE', 'HOME', 'DATABASE')) {
      cmd.args.set('homeDatabase', null);
    } else {
      return;
    }
  }
}

function parseDatabaseTail(p: TokenCursor, cmd: AdminCommand): void {
  for (;;) {
    if (p.acceptKw('OPTIONS')) cmd.args.set('options', parseMapLiteral(p));
    else if (p.acceptKw('TOPOLOGY')) {
      while (p.peek().kind === 'int' || p.isKw('PRIMARY') || p.isKw('PRIMARIES') || p.isKw('SECONDARY') || p.isKw('SECONDARIES')) p.next();
    } else if (p.acceptKw('NOWAIT')) cmd.args.set('wait', false);
    else if (p.acceptKw('WAIT')) {
      cmd.args.set('wait', true);
      if (p.peek().kind === 'int') {
        cmd.args.set('waitSeconds', Number(p.next().intValue));
        if (!p.acceptKw('SEC')) if (!p.acceptKw('SECOND')) p.acceptKw('SECONDS');
      }
    } else return;
  }
}
