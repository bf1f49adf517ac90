/**
 * The Cypher abstract syntax tree produced by the parser and consumed by the semantic check and
 * the planner. Every node carries `pos`, the offset in the query text where it starts, so that
 * errors can point at the source.
 */
import type { Value } from '../values/value.js';

// ---------------------------------------------------------------- expressions

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^'
  | '=' | '<>' | '<' | '>' | '<=' | '>='
  | 'AND' | 'OR' | 'XOR'
  | 'IN' | 'STARTS WITH' | 'ENDS WITH' | 'CONTAINS' | '=~';

export type Expr =
  | { kind: 'Literal'; pos: number; value: Value }
  | { kind: 'Param'; pos: number; name: string }
  | { kind: 'Var'; pos: number; name: string }
  | { kind: 'Prop'; pos: number; target: Expr; key: string }
  | { kind: 'HasLabels'; pos: number; target: Expr; labels: string[]; mode: 'all' | 'any' }
  | { kind: 'ListLit'; pos: number; items: Expr[] }
  | { kind: 'MapLit'; pos: number; entries: [string, Expr][] }
  | { kind: 'Binary'; pos: number; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'Not'; pos: number; operand: Expr }
  | { kind: 'Neg'; pos: number; operand: Expr }
  | { kind: 'IsNull'; pos: number; operand: Expr; negated: boolean }
  | { kind: 'Index'; pos: number; target: Expr; index: Expr }
  | { kind: 'Slice'; pos: number; target: Expr; from: Expr | null; to: Expr | null }
  | { kind: 'Call'; pos: number; name: string; distinct: boolean; args: Expr[] }
  | { kind: 'CountStar'; pos: number }
  | { kind: 'Case'; pos: number; test: Expr | null; whens: [Expr, Expr][]; otherwise: Expr | null }
  | { kind: 'ListComp'; pos: number; variable: string; list: Expr; where: Expr | null; map: Expr | null }
  | { kind: 'Quantifier'; pos: number; quantifier: 'all' | 'any' | 'none' | 'single'; variable: string; list: Expr; where: Expr }
  | { kind: 'Reduce'; pos: number; accumulator: string; init: Expr; variable: string; list: Expr; body: Expr }
  | { kind: 'MapProjection'; pos: number; variable: string; items: MapProjectionItem[] }
  | { kind: 'PatternComp'; pos: number; pattern: PatternPart; where: Expr | null; map: Expr }
  /**
   * `EXISTS { ... }` and `COUNT { ... }` (form 'subquery': a pattern list with WHERE, or a whole
   * query in `query`), `exists((a)-->(b))` (form 'function') and bare pattern predicates
   * `(a)-->(b)` (form 'predicate'); the last two have mode 'exists' and one pattern.
   */
  | { kind: 'Subquery'; pos: number; mode: 'exists' | 'count'; form: 'subquery' | 'function' | 'predicate'; patterns: PatternPart[]; where: Expr | null; query: Query | null };

export type MapProjectionItem =
  | { kind: 'property'; key: string }
  | { kind: 'allProperties' }
  | { kind: 'literal'; key: string; value: Expr }
  | { kind: 'variable'; name: string };

// ---------------------------------------------------------------- patterns

export interface NodePattern {
  pos: number;
  variable: string | null;
  labels: string[];
  /** 'all' for `:A:B` / `:A&B`, 'any' for `:A|B` (MATCH only). */
  labelMode: 'all' | 'any';
  properties: Expr | null;
}

export interface RelPattern {
  pos: number;
  variable: string | null;
  types: string[];
  direction: 'out' | 'in' | 'both';
  properties: Expr | null;
  /** Present for `*`, `*2`, `*1..3`, `*..3`, `*2..`; null bounds are open. */
  length: { min: number | null; max: number | null } | null;
}

export interface PatternPart {
  pos: number;
  pathVariable: string | null;
  shortest: 'shortestPath' | 'allShortestPaths' | null;
  /** nodes.length === rels.length + 1 */
  nodes: NodePattern[];
  rels: RelPattern[];
}

// ---------------------------------------------------------------- clauses

export interface ProjectionItem {
  expr: Expr;
  /** The column name: the alias, or the expression text as written. */
  name: string;
  aliased: boolean;
}

export interface SortItem {
  expr: Expr;
  descending: boolean;
}

export interface Projection {
  distinct: boolean;
  star: boolean;
  items: ProjectionItem[];
  orderBy: SortItem[];
  skip: Expr | null;
  limit: Expr | null;
}

export type SetItem =
  | { kind: 'SetProperty'; pos: number; target: Expr; key: string; value: Expr }
  | { kind: 'SetAll'; pos: number; variable: string; value: Expr; merge: boolean }
  | { kind: 'SetLabels'; pos: number; variable: string; labels: string[] };

export type RemoveItem =
  | { kind: 'RemoveProperty'; pos: number; target: Expr; key: string }
  | { kind: 'RemoveLabels'; pos: number; variable: string; labels: string[] };

export type Clause =
  | { kind: 'Match'; pos: number; optional: boolean; patterns: PatternPart[]; where: Expr | null }
  | { kind: 'Unwind'; pos: number; expr: Expr; variable: string }
  | { kind: 'With'; pos: number; projection: Projection; where: Expr | null }
  | { kind: 'Return'; pos: number; projection: Projection }
  | { kind: 'Create'; pos: number; patterns: PatternPart[] }
  | { kind: 'Merge'; pos: number; pattern: PatternPart; onCreate: SetItem[]; onMatch: SetItem[] }
  | { kind: 'Set'; pos: number; items: SetItem[] }
  | { kind: 'Remove'; pos: number; items: RemoveItem[] }
  | { kind: 'Delete'; pos: number; detach: boolean; exprs: Expr[] }
  | { kind: 'Foreach'; pos: number; variable: string; list: Expr; clauses: Clause[] }
  | {
      kind: 'CallSubquery';
      pos: number;
      query: Query;
      /** `CALL (a, b) { }` imports a and b, `CALL (*)` everything, `CALL ()` nothing; null: the legacy form, which sees every outer variable. */
      importing: string[] | '*' | null;
      inTransactions: InTransactions | null;
    }
  | { kind: 'CallProcedure'; pos: number; name: string; args: Expr[] | null; yields: YieldItem[] | null; where: Expr | null };

/** `IN TRANSACTIONS [OF n ROWS] [ON ERROR CONTINUE|BREAK|FAIL] [REPORT STATUS AS v]` after a CALL subquery. */
export interface InTransactions {
  pos: number;
  /** Rows per inner transaction; null: the default (`inTransactionsBatchRowsDefault`). */
  batchSize: Expr | null;
  onError: 'FAIL' | 'CONTINUE' | 'BREAK';
  /** The variable bound to each row's status map, or null. */
  reportStatus: string | null;
}

export interface YieldItem {
  name: string;
  alias: string;
}

export interface SingleQuery {
  clauses: Clause[];
}

export interface Query {
  kind: 'Query';
  parts: SingleQuery[];
  /** unionAll[i] joins parts[i] and parts[i + 1]. */
  unionAll: boolean[];
}

// ---------------------------------------------------------------- schema and admin

export interface ShowModifiers {
  yields: YieldItem[] | null;
  /** `YIELD *` */
  yieldStar: boolean;
  where: Expr | null;
  /** Optional RETURN after YIELD. */
  returnProjection: Projection | null;
}

export type SchemaCommand =
  | { kind: 'CreateIndex'; pos: number; name: string | null; ifNotExists: boolean; variable: string; label: string; properties: string[] }
  | { kind: 'DropIndex'; pos: number; name: string; ifExists: boolean }
  | { kind: 'CreateConstraint'; pos: number; name: string | null; ifNotExists: boolean; variable: string; label: string; properties: string[]; constraint: 'UNIQUE' }
  | { kind: 'DropConstraint'; pos: number; name: string; ifExists: boolean }
  | { kind: 'ShowIndexes'; pos: number; modifiers: ShowModifiers }
  | { kind: 'ShowConstraints'; pos: number; modifiers: ShowModifiers };

/**
 * A command for the system database (users, roles, databases, privileges). Only parsed here; the
 * DBMS executes it. `action` is the normalised command words, e.g. 'CREATE USER', 'SHOW DATABASES'.
 */
export interface AdminCommand {
  kind: 'AdminCommand';
  pos: number;
  action: string;
  /** The entity the command is about (database, user, role), a name or a parameter. */
  target: string | { param: string } | null;
  ifExists: boolean;
  ifNotExists: boolean;
  orReplace: boolean;
  /** Named arguments: 'password' (Expr), 'changeRequired' (boolean), 'status' ('ACTIVE'|'SUSPENDED'),
   * 'homeDatabase', 'roles' (string[]), 'users' (string[]), 'wait' (boolean), 'options' (Expr),
   * 'privilege' (the privilege text for GRANT/DENY/REVOKE), 'transactionIds' (Expr[] of SHOW and
   * TERMINATE TRANSACTIONS, each a string or a list of strings). */
  args: Map<string, unknown>;
  modifiers: ShowModifiers | null;
  /** The command text as written. */
  text: string;
}

export type Statement = Query | SchemaCommand | AdminCommand;
