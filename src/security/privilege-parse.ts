/**
 * Parses the privilege part of GRANT / DENY / REVOKE commands (the text between the verb and
 * TO/FROM, which the Cypher parser keeps as text) into atomic privileges. Pure: names of
 * databases given as `$param` are resolved from the parameters passed in.
 */
import { QuiverError } from '../util/errors.js';
import { labelActions, propertyActions, type PrivilegeSpec } from './privilege-model.js';

type Token = { kind: 'word'; text: string; quoted: boolean } | { kind: 'punct'; text: string } | { kind: 'param'; text: string };

/** Privilege commands are short; anything longer is not one. */
const privilegeTokensMax = 512;

function syntax(text: string, message: string): QuiverError {
  return new QuiverError('SyntaxError', `Invalid privilege '${text}': ${message}`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (out.length > privilegeTokensMax) throw syntax(text, 'too long');
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '`') {
      let name = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntax(text, 'unterminated `name`');
        if (text[i] === '`') {
          if (text[i + 1] === '`') {
            name += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i++];
      }
      out.push({ kind: 'word', text: name, quoted: true });
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!m) throw syntax(text, `unexpected '$' at offset ${i}`);
      out.push({ kind: 'param', text: m[1]! });
      i += m[0].length;
    } else if ('*{}(),'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else {
      const m = /^[A-Za-z0-9_][A-Za-z0-9_.\-]*/.exec(text.slice(i));
      if (!m) throw syntax(text, `unexpected '${c}' at offset ${i}`);
      out.push({ kind: 'word', text: m[0], quoted: false });
      i += m[0].length;
    }
  }
  return out;
}

class Cursor {
  i = 0;
  constructor(
    readonly tokens: Token[],
    readonly text: string,
    readonly params: ReadonlyMap<string, unknown>,
  ) {}
  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }
  isKw(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'word' && !t.quoted && t.text.toUpperCase() === word;
  }
  isPunct(p: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === p;
  }
  acceptKw(...words: string[]): boolean {
    if (!words.every((w, k) => this.isKw(w, k))) return false;
    this.i += words.length;
    return true;
  }
  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.i++;
    return true;
  }
  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw this.fail(`'${p}'`);
  }
  fail(expected: string): QuiverError {
    const t = this.peek();
    const found = t ? `'${t.kind === 'param' ? '$' + t.text : t.text}'` : 'the end';
    return syntax(this.text, `expected ${expected} but found ${found}`);
  }
  /** A name: a word, a `quoted name` or a $parameter holding a string. */
  name(what: string): string {
    const t = this.peek();
    if (!t || t.kind === 'punct') throw this.fail(what);
    this.i++;
    if (t.kind === 'param') {
      const v = this.params.get(t.text);
      if (typeof v !== 'string') throw new QuiverError('ParameterMissing', `Expected parameter(s): ${t.text}`);
      return v;
    }
    return t.text;
  }
  /** `*` (returned as null) or a comma-separated list of names. */
  starOrNames(what: string): string[] | null {
    if (this.acceptPunct('*')) return null;
    const names = [this.name(what)];
    while (this.acceptPunct(',')) names.push(this.name(what));
    return names;
  }
}

/** Singular form of the plural keywords Neo4j accepts (INDEXES, ROLES, PASSWORDS ...). */
function singular(word: string): string {
  const w = word.toUpperCase();
  if (w === 'INDEXES') return 'INDEX';
  if (w === 'ACCESS' || w === 'STATUS' || w === 'DBMS') return w;
  return w.endsWith('S') && w.length > 3 ? w.slice(0, -1) : w;
}

const dbmsPhrases: Record<string, string> = {
  'ROLE MANAGEMENT': 'role_management', 'CREATE ROLE': 'create_role', 'DROP ROLE': 'drop_role', 'ASSIGN ROLE': 'assign_role',
  'REMOVE ROLE': 'remove_role', 'SHOW ROLE': 'show_role', 'RENAME ROLE': 'rename_role',
  'USER MANAGEMENT': 'user_management', 'CREATE USER': 'create_user', 'DROP USER': 'drop_user', 'SHOW USER': 'show_user',
  'RENAME USER': 'rename_user', 'ALTER USER': 'alter_user', 'SET PASSWORD': 'set_passwords', 'SET USER STATUS': 'set_user_status',
  'SET USER HOME DATABASE': 'set_user_home_database',
  'DATABASE MANAGEMENT': 'database_management', 'CREATE DATABASE': 'create_database', 'DROP DATABASE': 'drop_database', 'ALTER DATABASE': 'alter_database',
  'PRIVILEGE MANAGEMENT': 'privilege_management', 'SHOW PRIVILEGE': 'show_privilege', 'ASSIGN PRIVILEGE': 'assign_privilege', 'REMOVE PRIVILEGE': 'remove_privilege',
  'ALL': 'dbms_actions', 'ALL PRIVILEGE': 'dbms_actions', 'ALL DBMS PRIVILEGE': 'dbms_actions',
};

const databasePhrases: Record<string, string> = {
  'ACCESS': 'access', 'START': 'start_database', 'STOP': 'stop_database',
  'INDEX': 'index', 'INDEX MANAGEMENT': 'index', 'CREATE INDEX': 'create_index', 'DROP INDEX': 'drop_index', 'SHOW INDEX': 'show_index',
  'CONSTRAINT': 'constraint', 'CONSTRAINT MANAGEMENT': 'constraint', 'CREATE CONSTRAINT': 'create_constraint', 'DROP CONSTRAINT': 'drop_constraint', 'SHOW CONSTRAINT': 'show_constraint',
  'NAME': 'token', 'NAME MANAGEMENT': 'token', 'CREATE NEW LABEL': 'create_label', 'CREATE NEW NODE LABEL': 'create_label',
  'CREATE NEW TYPE': 'create_reltype', 'CREATE NEW RELATIONSHIP TYPE': 'create_reltype', 'CREATE NEW NAME': 'create_propertykey', 'CREATE NEW PROPERTY NAME': 'create_propertykey',
  'TRANSACTION': 'transaction_management', 'TRANSACTION MANAGEMENT': 'transaction_management', 'SHOW TRANSACTION': 'show_transaction', 'TERMINATE TRANSACTION': 'terminate_transaction',
  'ALL': 'database_actions', 'ALL PRIVILEGE': 'database_actions', 'ALL DATABASE PRIVILEGE': 'database_actions',
};

const transactionActions = new Set(['transaction_management', 'show_transaction', 'terminate_transaction']);

export interface ParsedPrivilegeCommand {
  /** For REVOKE: which kind to remove; null removes both. */
  revokeAccess: 'GRANTED' | 'DENIED' | null;
  /** The action named in the command (a compound one stays compound), for messages. */
  action: string;
  privileges: PrivilegeSpec[];
  /** Named databases (not `*` or HOME), to check that they exist. */
  databases: string[];
}

/**
 * Parses `text` (e.g. `TRAVERSE ON GRAPH neo4j NODES A, B`) of a `verb` command. Database names are
 * lowercased, as Neo4j does; labels, types and properties keep their case.
 */
export function parsePrivilege(verb: 'GRANT' | 'DENY' | 'REVOKE', text: string, params: ReadonlyMap<string, unknown> = new Map()): ParsedPrivilegeCommand {
  const c = new Cursor(tokenize(text), text, params);
  let revokeAccess: ParsedPrivilegeCommand['revokeAccess'] = null;
  if (verb === 'REVOKE') {
    if (c.acceptKw('GRANT')) revokeAccess = 'GRANTED';
    else if (c.acceptKw('DENY')) revokeAccess = 'DENIED';
  }
  if (c.isKw('IMMUTABLE')) throw new QuiverError('SemanticError', 'IMMUTABLE privileges are not supported by Quiver');
  // The privilege words run up to the top-level ON (property lists in braces may hold any name).
  let on = -1;
  for (let k = c.i, depth = 0; k < c.tokens.length; k++) {
    const t = c.tokens[k]!;
    if (t.kind === 'punct' && t.text === '{') depth++;
    else if (t.kind === 'punct' && t.text === '}') depth--;
    else if (depth === 0 && t.kind === 'word' && !t.quoted && t.text.toUpperCase() === 'ON') {
      on = k;
      break;
    }
  }
  if (on < 0) throw syntax(text, "expected 'ON'");
  const after = c.tokens[on + 1];
  const afterWord = after?.kind === 'word' && !after.quoted ? after.text.toUpperCase() : '';
  const next = c.tokens[on + 2];
  const nextWord = next?.kind === 'word' && !next.quoted ? next.text.toUpperCase() : '';
  const scope =
    afterWord === 'DBMS' ? 'dbms'
    : afterWord === 'DATABASE' || afterWord === 'DATABASES' || (afterWord === 'HOME' && nextWord === 'DATABASE') ? 'database'
    : afterWord === 'GRAPH' || afterWord === 'GRAPHS' || (afterWord === 'HOME' && nextWord === 'GRAPH') ? 'graph'
    : null;
  if (!scope) throw syntax(text, "expected 'DBMS', 'DATABASE', 'HOME DATABASE', 'GRAPH' or 'HOME GRAPH' after 'ON'");
  const parsed = scope === 'graph' ? parseGraphPrivilege(c, on) : parseNamedPrivilege(c, on, scope);
  if (!c.atEnd()) throw c.fail('the end of the privilege');
  if (verb === 'DENY' && parsed.action === 'merge') {
    throw new QuiverError('SemanticError', '`DENY MERGE` is not supported: use `DENY SET PROPERTY` and `DENY CREATE` instead');
  }
  // Denying MATCH on some properties only denies reading them; the elements stay traversable.
  if (verb === 'DENY' && parsed.action === 'match') {
    for (const p of parsed.privileges) if (p.resource !== 'all_properties') p.action = 'read';
  }
  return { revokeAccess, ...parsed };
}

function parseNamedPrivilege(c: Cursor, on: number, scope: 'dbms' | 'database'): Omit<ParsedPrivilegeCommand, 'revokeAccess'> {
  const words: string[] = [];
  let usersAll = false;
  while (c.i < on) {
    const t = c.peek()!;
    if (t.kind === 'punct' && t.text === '(') {
      // TRANSACTION MANAGEMENT (*): only all users are supported.
      c.i++;
      if (!c.acceptPunct('*')) throw new QuiverError('SemanticError', `Invalid privilege '${c.text}': only transactions of all users, (*), are supported`);
      c.expectPunct(')');
      usersAll = true;
      continue;
    }
    if (t.kind !== 'word' || t.quoted) throw c.fail('a privilege keyword');
    words.push(singular(t.text));
    c.i++;
  }
  const phrase = words.join(' ');
  const action = (scope === 'dbms' ? dbmsPhrases : databasePhrases)[phrase];
  if (!action) throw syntax(c.text, `'${phrase}' is not a ${scope === 'dbms' ? 'DBMS' : 'database'} privilege`);
  if (usersAll && !transactionActions.has(action)) throw syntax(c.text, `'(*)' only follows a TRANSACTION privilege`);
  c.i = on + 1;
  if (scope === 'dbms') {
    c.acceptKw('DBMS');
    return { action, privileges: [{ action, resource: 'database', graph: '*', segment: 'database' }], databases: [] };
  }
  const graphs = parseTargets(c, 'DATABASE');
  const segment = transactionActions.has(action) ? 'USER(*)' : 'database';
  return {
    action,
    privileges: graphs.map((graph) => ({ action, resource: 'database', graph, segment })),
    databases: graphs.filter((g) => g !== '*' && g !== 'HOME'),
  };
}

/** `HOME DATABASE`, `DATABASE[S] *` or `DATABASE[S] a, b` (and the same for GRAPH). */
function parseTargets(c: Cursor, kind: 'DATABASE' | 'GRAPH'): string[] {
  if (c.acceptKw('HOME', kind)) return ['HOME'];
  if (!c.acceptKw(kind) && !c.acceptKw(`${kind}S`)) throw c.fail(`'${kind}'`);
  const names = c.starOrNames(`a ${kind.toLowerCase()} name`);
  return names === null ? ['*'] : [...new Set(names.map((n) => n.toLowerCase()))];
}

function parseProperties(c: Cursor): string[] | null {
  c.expectPunct('{');
  const names = c.starOrNames('a property name');
  c.expectPunct('}');
  return names;
}

function parseGraphPrivilege(c: Cursor, on: number): Omit<ParsedPrivilegeCommand, 'revokeAccess'> {
  let action: string;
  let props: string[] | null | undefined;
  let labels: string[] | null | undefined;
  if (c.acceptKw('TRAVERSE')) action = 'traverse';
  else if (c.acceptKw('READ')) action = 'read';
  else if (c.acceptKw('MATCH')) action = 'match';
  else if (c.acceptKw('MERGE')) action = 'merge';
  else if (c.acceptKw('WRITE')) action = 'write';
  else if (c.acceptKw('CREATE')) action = 'create_element';
  else if (c.acceptKw('DELETE')) action = 'delete_element';
  else if (c.acceptKw('SET', 'LABEL')) action = 'set_label';
  else if (c.acceptKw('REMOVE', 'LABEL')) action = 'remove_label';
  else if (c.acceptKw('SET', 'PROPERTY')) action = 'set_property';
  else if (c.acceptKw('ALL')) {
    action = 'graph_actions';
    c.acceptKw('GRAPH');
    c.acceptKw('PRIVILEGES');
  } else throw c.fail('a graph privilege (TRAVERSE, READ, MATCH, WRITE, CREATE, DELETE, MERGE, SET LABEL, REMOVE LABEL, SET PROPERTY, ALL GRAPH PRIVILEGES)');
  if (propertyActions.has(action)) props = parseProperties(c);
  if (labelActions.has(action)) labels = c.starOrNames('a label');
  if (c.i !== on) throw c.fail("'ON'");
  c.i = on + 1;
  const graphs = parseTargets(c, 'GRAPH');
  // The entity part: NODES / RELATIONSHIPS / ELEMENTS, then `*` or names; default ELEMENTS *.
  let segments: string[] = ['NODE(*)', 'RELATIONSHIP(*)'];
  const entityKw = ['NODE', 'NODES', 'RELATIONSHIP', 'RELATIONSHIPS', 'ELEMENT', 'ELEMENTS'].find((w) => c.isKw(w));
  if (entityKw) {
    c.i++;
    const names = c.starOrNames(entityKw.startsWith('REL') ? 'a relationship type' : 'a label');
    const list = names ?? ['*'];
    const kinds = entityKw.startsWith('NODE') ? ['NODE'] : entityKw.startsWith('REL') ? ['RELATIONSHIP'] : ['NODE', 'RELATIONSHIP'];
    segments = kinds.flatMap((k) => list.map((n) => `${k}(${n})`));
    const unscoped = action === 'write' || action === 'graph_actions' || labelActions.has(action);
    if (unscoped && (names !== null || entityKw.startsWith('NODE') || entityKw.startsWith('REL'))) {
      throw new QuiverError('SemanticError', `Invalid privilege '${c.text}': ${actionWords(action)} cannot be restricted to labels or relationship types`);
    }
  }
  if (labelActions.has(action)) segments = ['NODE(*)'];
  const resources =
    props !== undefined ? (props === null ? ['all_properties'] : props.map((p) => `property(${p})`))
    : labels !== undefined ? (labels === null ? ['all_labels'] : labels.map((l) => `label(${l})`))
    : ['graph'];
  const privileges: PrivilegeSpec[] = [];
  for (const graph of graphs) for (const segment of segments) for (const resource of resources) privileges.push({ action, resource, graph, segment });
  return { action, privileges, databases: graphs.filter((g) => g !== '*' && g !== 'HOME') };
}

function actionWords(action: string): string {
  return action === 'graph_actions' ? 'ALL GRAPH PRIVILEGES' : action.replace(/_/g, ' ').toUpperCase();
}
