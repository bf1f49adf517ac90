/**
 * Semantic analysis of a parsed query: variable scoping (undefined variables, WITH aliasing,
 * RETURN * expansion), variable types (a relationship, path or Boolean reused as a node, and so on),
 * aggregation placement, CREATE/MERGE pattern rules, UNION column agreement, known functions; it
 * yields the result columns, the query kind, and the scope after each clause. Every problem is
 * refused before execution with Neo4j's status for compile-time errors, Statement.SyntaxError.
 */
import type { Clause, Expr, PatternPart, Projection, Query, SingleQuery } from './ast.js';
import { aggregateFunctionNames, collectAggregates, containsAggregate, forEachChild, isAggregateExpr } from './aggregate-slots.js';
import { checkArity } from './functions.js';
import { procedureColumns } from './procedures.js';
import { elementType, mayBeBoolean, mayBeDeleted, staticType, typeNames, typeProblem, type StaticType, type TypeEnv } from './static-types.js';
import { implicitGroupingKey, showKey } from './semantic-aggregation.js';
import { errorAt } from './syntax-error.js';

export interface QueryAnalysis {
  columns: string[];
  updating: boolean;
  /** Variables in scope before each clause (for `*` projections), keyed by the clause object. */
  scopeBefore: Map<Clause, string[]>;
  /** Parameter names referenced anywhere. */
  parameters: Set<string>;
}

class Analyzer implements TypeEnv {
  readonly scopeBefore = new Map<Clause, string[]>();
  /**
   * The type of each variable at its latest binding (bindings always precede uses in scope); a
   * scope that ends (a list comprehension, a subquery) puts back the types it changed.
   */
  varTypes = new Map<string, StaticType>();
  /** The element type of list variables, where known. */
  elemTypes = new Map<string, StaticType>();
  /** Expressions whose value is used as a predicate (WHERE, operands of AND/OR/XOR/NOT, CASE conditions). */
  readonly predicates = new WeakSet<Expr>();
  readonly parameters = new Set<string>();
  updating = false;
  /** How many CALL subqueries enclose the clause being analysed. */
  subqueryDepth = 0;

  constructor(private readonly text: string) {}

  fail(pos: number, message: string): never {
    throw errorAt('SyntaxError', this.text, pos, message);
  }

  /** Neo4j's VariableTypeConflict: a variable used in a pattern as something it is not. */
  expectType(name: string, expected: StaticType, pos: number): void {
    const actual = this.varTypes.get(name) ?? 'any';
    if (actual === 'any' || actual === expected) return;
    this.fail(pos, `Type mismatch: ${name} defined with conflicting type ${typeNames[actual]} (expected ${typeNames[expected]})`);
  }

  varType(name: string): StaticType {
    return this.varTypes.get(name) ?? 'any';
  }

  elementType(name: string): StaticType {
    return this.elemTypes.get(name) ?? 'any';
  }

  typeOf(e: Expr): StaticType {
    return staticType(e, this);
  }

  /** Binds `name` with the type of `value`'s elements (UNWIND, list comprehensions, quantifiers). */
  bindElement(name: string, list: Expr): void {
    const element = elementType(list, this);
    this.varTypes.set(name, element);
    this.elemTypes.delete(name);
  }

  /** Binds `name` to the value of `e` (projections). */
  bindValue(name: string, e: Expr, type = this.typeOf(e)): void {
    this.varTypes.set(name, type);
    const element = elementType(e, this);
    if (element === 'any') this.elemTypes.delete(name);
    else this.elemTypes.set(name, element);
  }

  /** Runs `f` in a scope of its own: the variable types it sets are undone afterwards. */
  scoped<T>(f: () => T): T {
    const types = new Map(this.varTypes);
    const elements = new Map(this.elemTypes);
    try {
      return f();
    } finally {
      this.varTypes = types;
      this.elemTypes = elements;
    }
  }

  /** Checks an expression whose value is used as a predicate: a WHERE, a CASE condition. */
  predicate(e: Expr, scope: ReadonlySet<string>, projected?: readonly { expr: Expr; name: string }[]): void {
    this.predicates.add(e);
    const t = this.typeOf(e);
    if (!mayBeBoolean(t)) this.fail(e.pos, `Type mismatch: expected Boolean but was ${typeNames[t]}`);
    this.expr(e, scope, false, projected);
  }

  query(q: Query, outer: ReadonlySet<string>): string[] {
    const mixed = q.unionAll.findIndex((all) => all !== q.unionAll[0]);
    if (mixed > 0) this.fail(q.parts[mixed + 1]!.clauses[0]!.pos, 'Invalid combination of UNION and UNION ALL');
    let columns: string[] | null = null;
    for (const part of q.parts) {
      const c = this.singleQuery(part, outer, q.parts.length > 1);
      if (columns && (columns.length !== c.length || columns.some((x, i) => x !== c[i]))) {
        this.fail(part.clauses[0]!.pos, 'All sub queries in an UNION must have the same return column names');
      }
      columns = c;
    }
    return columns ?? [];
  }

  singleQuery(q: SingleQuery, outer: ReadonlySet<string>, inUnion: boolean): string[] {
    let scope = new Set(outer);
    let columns: string[] = [];
    q.clauses.forEach((c, i) => {
      const last = i === q.clauses.length - 1;
      this.scopeBefore.set(c, [...scope]);
      if (c.kind === 'Return' && !last) this.fail(q.clauses[i + 1]!.pos, 'RETURN can only be used at the end of the query');
      const result = this.clause(c, scope);
      scope = result.scope;
      if (c.kind === 'Return') columns = result.columns;
    });
    const last = q.clauses[q.clauses.length - 1]!;
    const endsOk = ['Return', 'Create', 'Merge', 'Set', 'Remove', 'Delete', 'Foreach', 'CallSubquery', 'CallProcedure'].includes(last.kind);
    if (!endsOk || (inUnion && last.kind !== 'Return')) {
      this.fail(last.pos, `Query cannot conclude with ${clauseName(last)} (must be a RETURN clause, an update clause, a unit subquery call, or a procedure call with no YIELD)`);
    }
    if (last.kind === 'CallProcedure' && q.clauses.length === 1) columns = last.yields ? last.yields.map((y) => y.alias) : procedureColumns(last.name) ?? [];
    return columns;
  }

  clause(c: Clause, scope: Set<string>): { scope: Set<string>; columns: string[] } {
    const same = { scope, columns: [] as string[] };
    switch (c.kind) {
      case 'Match': {
        const next = new Set(scope);
        this.patterns(c.patterns, next, 'match');
        if (c.where) this.predicate(c.where, next);
        return { scope: next, columns: [] };
      }
      case 'Unwind': {
        this.expr(c.expr, scope, false);
        const next = new Set(scope);
        this.declare(c.variable, next, c.pos);
        this.bindElement(c.variable, c.expr);
        return { scope: next, columns: [] };
      }
      case 'With': {
        const names = this.projection(c.projection, scope, 'WITH', c.where);
        return { scope: new Set(names), columns: names };
      }
      case 'Return': {
        const names = this.projection(c.projection, scope, 'RETURN');
        return { scope: new Set(names), columns: names };
      }
      case 'Create': {
        this.updating = true;
        const next = new Set(scope);
        for (const part of c.patterns) {
          this.creatable(part, next, 'CREATE');
          this.patterns([part], next, 'create');
        }
        return { scope: next, columns: [] };
      }
      case 'Merge': {
        this.updating = true;
        const next = new Set(scope);
        this.creatable(c.pattern, next, 'MERGE');
        this.patterns([c.pattern], next, 'merge');
        for (const s of [...c.onCreate, ...c.onMatch]) this.setItem(s, next);
        return { scope: next, columns: [] };
      }
      case 'Set':
        this.updating = true;
        for (const s of c.items) this.setItem(s, scope);
        return same;
      case 'Remove':
        this.updating = true;
        for (const r of c.items) {
          if (r.kind === 'RemoveLabels') this.use(r.variable, scope, r.pos);
          else this.expr(r.target, scope, false);
        }
        return same;
      case 'Delete':
        this.updating = true;
        for (const e of c.exprs) {
          if (e.kind === 'HasLabels') this.fail(e.pos, `DELETE removes nodes, relationships and paths, not labels: use REMOVE to remove a label`);
          const t = this.typeOf(e);
          if (!mayBeDeleted(t)) this.fail(e.pos, `Type mismatch: expected Node, Path or Relationship but was ${typeNames[t]}`);
          this.expr(e, scope, false);
        }
        return same;
      case 'Foreach': {
        this.updating = true;
        this.expr(c.list, scope, false);
        this.scoped(() => {
          let inner = new Set(scope);
          inner.add(c.variable);
          this.bindElement(c.variable, c.list);
          for (const ic of c.clauses) {
            if (!['Create', 'Merge', 'Set', 'Remove', 'Delete', 'Foreach'].includes(ic.kind)) this.fail(ic.pos, `Invalid use of ${clauseName(ic)} inside FOREACH`);
            inner = this.clause(ic, inner).scope;
          }
        });
        return same;
      }
      case 'CallSubquery': {
        // CALL (a, b) sees a and b only; CALL (*) and the legacy CALL { } see every outer variable.
        let inner: ReadonlySet<string> = scope;
        if (Array.isArray(c.importing)) {
          for (const v of c.importing) this.use(v, scope, c.pos);
          inner = new Set(c.importing);
        }
        const tx = c.inTransactions;
        if (tx) {
          if (this.subqueryDepth > 0) this.fail(tx.pos, 'CALL { ... } IN TRANSACTIONS nested in another subquery is not supported');
          if (tx.reportStatus !== null && tx.onError === 'FAIL') this.fail(tx.pos, 'REPORT STATUS can only be used when specifying ON ERROR CONTINUE or ON ERROR BREAK');
          // The batch size is evaluated once, before any row exists.
          if (tx.batchSize) this.expr(tx.batchSize, new Set(), false);
          this.updating = true;
        }
        this.subqueryDepth++;
        const cols = this.scoped(() => this.query(c.query, inner));
        this.subqueryDepth--;
        const next = new Set(scope);
        for (const col of cols) {
          if (scope.has(col)) this.fail(c.pos, `Variable \`${col}\` already declared in outer scope`);
          next.add(col);
          this.varTypes.set(col, 'any');
        }
        if (tx?.reportStatus) this.declare(tx.reportStatus, next, tx.pos);
        return { scope: next, columns: [] };
      }
      case 'CallProcedure': {
        const cols = procedureColumns(c.name);
        if (!cols) throw errorAt('ProcedureNotFound', this.text, c.pos, `There is no procedure with the name \`${c.name}\` registered for this database instance. Please ensure you've spelled the procedure name correctly and that the procedure is properly deployed.`);
        for (const a of c.args ?? []) this.expr(a, scope, false);
        const next = new Set(scope);
        for (const y of c.yields ?? cols.map((name) => ({ name, alias: name }))) {
          if (!cols.includes(y.name)) this.fail(c.pos, `Unknown procedure output: \`${y.name}\``);
          this.declare(y.alias, next, c.pos);
          this.varTypes.set(y.alias, 'any');
        }
        if (c.where) this.predicate(c.where, next);
        return { scope: next, columns: [] };
      }
    }
  }

  setItem(s: Clause & { kind: 'Set' } extends { items: (infer I)[] } ? I : never, scope: Set<string>): void {
    if (s.kind === 'SetProperty') {
      this.expr(s.target, scope, false);
      this.expr(s.value, scope, false);
    } else if (s.kind === 'SetAll') {
      this.use(s.variable, scope, s.pos);
      this.expr(s.value, scope, false);
    } else {
      this.use(s.variable, scope, s.pos);
    }
  }

  creatable(part: PatternPart, scope: ReadonlySet<string>, clause: string): void {
    for (const r of part.rels) {
      if (r.variable && scope.has(r.variable)) this.fail(r.pos, `Variable \`${r.variable}\` already declared`);
      if (r.types.length !== 1) this.fail(r.pos, `Exactly one relationship type must be specified for ${clause}. Did you forget to prefix your relationship type with a ':'?`);
      if (r.length) this.fail(r.pos, `Variable length relationships cannot be used in ${clause}`);
      if (clause === 'CREATE' && r.direction === 'both') this.fail(r.pos, 'Only directed relationships are supported in CREATE');
    }
    if (part.shortest) this.fail(part.pos, `${part.shortest}(...) cannot be used in ${clause}`);
    for (const n of part.nodes) {
      if (n.labelMode === 'any' && n.labels.length > 1) this.fail(n.pos, `Label expressions with '|' cannot be used in ${clause}`);
      if (n.variable && scope.has(n.variable) && (n.labels.length || n.properties)) {
        this.fail(n.pos, `Can't create node \`${n.variable}\` with labels or properties here. The variable is already declared in this context`);
      }
    }
    // A lone bound node would create (or merge) nothing new: `MATCH (a) CREATE (a)`.
    if (part.nodes.length === 1 && part.nodes[0]!.variable && scope.has(part.nodes[0]!.variable)) {
      this.fail(part.pos, `Variable \`${part.nodes[0]!.variable}\` already declared`);
    }
  }

  patterns(parts: PatternPart[], scope: Set<string>, mode: 'match' | 'create' | 'merge'): void {
    // Property maps may refer to variables bound earlier in the same pattern.
    const relsHere = new Set<string>();
    for (const part of parts) {
      for (let i = 0; i < part.nodes.length; i++) {
        const n = part.nodes[i]!;
        if (n.variable) {
          if (scope.has(n.variable)) this.expectType(n.variable, 'node', n.pos);
          else this.varTypes.set(n.variable, 'node');
          scope.add(n.variable);
        }
        if (n.properties) this.patternProperties(n.properties, scope, mode);
        const r = part.rels[i];
        if (r) {
          if (r.variable) {
            if (scope.has(r.variable)) {
              if (!r.length) this.expectType(r.variable, 'relationship', r.pos);
              else if (['node', 'path', 'relationship'].includes(this.varTypes.get(r.variable) ?? 'any')) this.expectType(r.variable, 'relationships', r.pos);
              if (relsHere.has(r.variable)) this.fail(r.pos, `Cannot use the same relationship variable '${r.variable}' for multiple relationships`);
            } else this.varTypes.set(r.variable, r.length ? 'relationships' : 'relationship');
            relsHere.add(r.variable);
            scope.add(r.variable);
          }
          if (r.properties) this.patternProperties(r.properties, scope, mode);
          if (r.length && r.length.min !== null && r.length.max !== null && r.length.min > r.length.max) {
            // Neo4j accepts it and matches nothing; nothing to check.
          }
        }
      }
      if (part.pathVariable) {
        this.declare(part.pathVariable, scope, part.pos);
        this.varTypes.set(part.pathVariable, 'path');
      }
    }
  }

  /** A property map of a pattern: CREATE may take a whole parameter map, MATCH and MERGE may not. */
  patternProperties(e: Expr, scope: ReadonlySet<string>, mode: 'match' | 'create' | 'merge'): void {
    if (e.kind === 'Param' && mode !== 'create') {
      const clause = mode === 'match' ? 'MATCH' : 'MERGE';
      this.fail(e.pos, `Parameter maps cannot be used in \`${clause}\` patterns (use a literal map instead, e.g. \`{id: $${e.name}.id}\`)`);
    }
    this.expr(e, scope, false);
  }

  /**
   * The projected names. ORDER BY and the WHERE of a WITH see what ORDER BY sees in openCypher: the
   * projected names and, unless the projection aggregates or is DISTINCT, the variables before it
   * (`MATCH (a) WITH a.name AS name WHERE a.age > 3`); after DISTINCT or an aggregation they may
   * still repeat a projected expression (`WITH DISTINCT a.name AS name WHERE a.name = 'B'`).
   */
  projection(p: Projection, scope: Set<string>, clause: 'WITH' | 'RETURN', where: Expr | null = null): string[] {
    const names: string[] = [];
    if (p.star) {
      const visible = [...scope].filter((v) => !v.startsWith('\u0000')).sort();
      // `WITH *` with nothing in scope passes the rows on (`MATCH () CREATE () WITH * CREATE ()`);
      // `RETURN *` would return rows without columns, which Neo4j refuses.
      if (clause === 'RETURN' && visible.length === 0 && p.items.length === 0) this.fail(0, 'RETURN * is not allowed when there are no variables in scope');
      names.push(...visible);
    }
    const hasAggregate = p.items.some((i) => containsAggregate(i.expr));
    const itemTypes = p.items.map((item) => this.typeOf(item.expr));
    for (const item of p.items) {
      this.expr(item.expr, scope, true);
      if (clause === 'WITH' && !item.aliased && item.expr.kind !== 'Var') this.fail(item.expr.pos, 'Expression in WITH must be aliased (use AS)');
      if (names.includes(item.name)) this.fail(item.expr.pos, `Multiple result columns with the same name are not supported`);
      names.push(item.name);
    }
    p.items.forEach((item, i) => this.bindValue(item.name, item.expr, itemTypes[i]!));
    const after = new Set(names);
    const orderScope = p.distinct || hasAggregate ? after : new Set([...scope, ...after]);
    for (const s of p.orderBy) this.expr(s.expr, orderScope, hasAggregate, p.items);
    if (hasAggregate) {
      const keys = p.items.filter((i) => !containsAggregate(i.expr)).map((i) => i.expr);
      const aggregating = [
        ...p.items.filter((i) => containsAggregate(i.expr)).map((i) => ({ expr: i.expr, visible: new Set<string>() })),
        // ORDER BY may also use the projected names (`ORDER BY cnt`).
        ...p.orderBy.filter((s) => containsAggregate(s.expr)).map((s) => ({ expr: s.expr, visible: after })),
      ];
      for (const { expr, visible } of aggregating) {
        const implicit = implicitGroupingKey(expr, keys, visible);
        if (implicit) {
          this.fail(implicit.pos, `Aggregation column contains implicit grouping expressions. For example, in 'RETURN n.a, n.a + n.b + count(*)' the aggregation expression 'n.a + n.b + count(*)' includes the implicit grouping key 'n.b'. It may be possible to rewrite the query by extracting these grouping/aggregation expressions into a preceding WITH clause. Illegal expression(s): ${showKey(implicit)}`);
        }
      }
    }
    if (where) this.predicate(where, orderScope, p.items);
    for (const e of [p.skip, p.limit]) if (e) this.expr(e, new Set(), false);
    return names;
  }

  declare(name: string, scope: Set<string>, pos: number): void {
    if (scope.has(name)) this.fail(pos, `Variable \`${name}\` already declared`);
    scope.add(name);
  }

  use(name: string, scope: ReadonlySet<string>, pos: number): void {
    if (!scope.has(name)) this.fail(pos, `Variable \`${name}\` not defined`);
  }

  /** Checks an expression; `aggregates` tells whether aggregation functions may appear. */
  expr(e: Expr, scope: ReadonlySet<string>, aggregates: boolean, projected?: readonly { expr: Expr; name: string }[]): void {
    if (projected && projected.some((i) => sameExpression(i.expr, e))) return;
    // Operands and arguments whose type is known to be one the operator or function refuses
    // (`RETURN 123 AND true`, `labels(p)` of a path) are refused before execution, as Neo4j's type
    // checker does; unknown types are checked at run time.
    const problem = typeProblem(e, this);
    if (problem) this.fail(problem.pos, problem.message);
    if ((e.kind === 'Binary' && (e.op === 'AND' || e.op === 'OR' || e.op === 'XOR')) || e.kind === 'Not') {
      for (const operand of e.kind === 'Not' ? [e.operand] : [e.left, e.right]) this.predicates.add(operand);
    }
    if (e.kind === 'Case' && e.test === null) for (const [when] of e.whens) this.predicates.add(when);
    switch (e.kind) {
      case 'Var':
        return this.use(e.name, scope, e.pos);
      case 'Param':
        this.parameters.add(e.name);
        return;
      case 'Call': {
        const arity = checkArity(e.name, e.args.length);
        if (arity && !aggregateFunctionNames.has(e.name.toLowerCase())) this.fail(e.pos, arity);
        if (e.name.toLowerCase() === 'range') {
          // Neo4j refuses these when it runs them, as an ArgumentError; seen here, they are refused earlier with the same status.
          const bad = e.args.find((a) => !['integer', 'any'].includes(this.typeOf(a)));
          if (bad) throw errorAt('ArgumentError', this.text, bad.pos, `Invalid argument for range(): expected an Integer but was ${typeNames[this.typeOf(bad)]}`);
        }
        break;
      }
      case 'ListComp':
      case 'Quantifier': {
        this.expr(e.list, scope, aggregates, projected);
        const inner = new Set(scope).add(e.variable);
        this.scoped(() => {
          this.bindElement(e.variable, e.list);
          if (e.where) this.predicate(e.where, inner);
          if (e.kind === 'ListComp' && e.map) this.expr(e.map, inner, false);
        });
        return;
      }
      case 'Reduce': {
        this.expr(e.init, scope, aggregates, projected);
        this.expr(e.list, scope, aggregates, projected);
        this.scoped(() => {
          this.varTypes.set(e.accumulator, 'any');
          this.bindElement(e.variable, e.list);
          this.expr(e.body, new Set(scope).add(e.accumulator).add(e.variable), false);
        });
        return;
      }
      case 'MapProjection':
        this.use(e.variable, scope, e.pos);
        for (const i of e.items) {
          if (i.kind === 'variable') this.use(i.name, scope, e.pos);
          if (i.kind === 'literal') this.expr(i.value, scope, aggregates, projected);
        }
        return;
      case 'PatternComp':
        return this.scoped(() => {
          const inner = new Set(scope);
          this.patterns([e.pattern], inner, 'match');
          if (e.where) this.predicate(e.where, inner);
          this.expr(e.map, inner, false);
        });
      case 'Subquery':
        return this.subqueryExpression(e, scope);
      default:
        break;
    }
    if (isAggregateExpr(e)) {
      if (!aggregates) this.fail(e.pos, `Invalid use of aggregating function ${e.kind === 'CountStar' ? 'count(*)' : `${e.name}(...)`} in this context`);
      for (const a of e.kind === 'Call' ? e.args : []) {
        if (collectAggregates(a).length) this.fail(a.pos, 'Can\'t use aggregate functions inside of aggregate functions.');
        const random = findCall(a, nonDeterministicFunctions);
        if (random) this.fail(random.pos, 'Can\'t use non-deterministic (random) functions inside of aggregate functions.');
        this.expr(a, scope, false);
      }
      return;
    }
    forEachChild(e, (c) => this.expr(c, scope, aggregates, projected));
  }

  /**
   * `EXISTS { ... }` and `COUNT { ... }` may bind new variables; a pattern predicate (`WHERE
   * (a)-->(b)`, `exists((a)-->(b))`) only tests bound ones, and a bare one is a predicate only: as a
   * value (`RETURN (a)-->()`, `size((a)-->())`) Neo4j wants a pattern comprehension instead.
   */
  subqueryExpression(e: Expr & { kind: 'Subquery' }, scope: ReadonlySet<string>): void {
    if (e.form === 'predicate' && !this.predicates.has(e)) {
      this.fail(e.pos, 'A pattern expression should only be used in order to test the existence of a pattern. It should therefore only be used in contexts that evaluate to a boolean, e.g. inside the function exists() or in a WHERE-clause. No other uses are allowed, instead they should be replaced by a pattern comprehension.');
    }
    if (e.form !== 'subquery') {
      for (const part of e.patterns) {
        // In the order written: (node)-[rel]-(node)...
        const bound = part.nodes.flatMap((n, i) => [n, ...(part.rels[i] ? [part.rels[i]!] : [])]).map((x) => ({ pos: x.pos, name: x.variable }));
        const introduced = bound.find((x) => x.name !== null && !scope.has(x.name));
        if (introduced) this.fail(introduced.pos, `PatternExpressions are not allowed to introduce new variables: '${introduced.name}'.`);
      }
    }
    const update = e.query?.parts.flatMap((part) => part.clauses).find(clauseWrites);
    if (update) this.fail(update.pos, `An ${e.mode === 'exists' ? 'EXISTS' : 'COUNT'} subquery cannot contain any updates: ${clauseName(update)} is not allowed here`);
    this.scoped(() => {
      if (e.query) {
        this.subqueryDepth++;
        this.query(e.query, scope);
        this.subqueryDepth--;
        return;
      }
      const inner = new Set(scope);
      this.patterns(e.patterns, inner, 'match');
      if (e.where) this.predicate(e.where, inner);
    });
  }
}

/** Functions whose result differs from call to call: aggregating over them means nothing. */
const nonDeterministicFunctions = new Set(['rand', 'randomuuid']);

/** The first call in `e` of one of `names` (lower-case), or null. */
function findCall(e: Expr, names: ReadonlySet<string>): Expr | null {
  if (e.kind === 'Call' && names.has(e.name.toLowerCase())) return e;
  let found: Expr | null = null;
  forEachChild(e, (c) => {
    found ??= findCall(c, names);
  });
  return found;
}

function clauseName(c: Clause): string {
  switch (c.kind) {
    case 'Match': return c.optional ? 'OPTIONAL MATCH' : 'MATCH';
    case 'CallSubquery': return 'CALL { ... }';
    case 'CallProcedure': return 'CALL';
    default: return c.kind.toUpperCase();
  }
}

/** Structural equality of expressions, ignoring positions (ORDER BY n.name after RETURN n.name). */
export function sameExpression(a: Expr, b: Expr): boolean {
  return exprKey(a) === exprKey(b);
}

export function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : typeof v === 'bigint' ? `${v}n` : v));
}

/** Whether a clause changes the graph (a CALL subquery when any clause inside it does). */
function clauseWrites(c: Clause): boolean {
  if (c.kind === 'CallSubquery') return c.query.parts.some((p) => p.clauses.some(clauseWrites));
  return ['Create', 'Merge', 'Set', 'Remove', 'Delete', 'Foreach'].includes(c.kind);
}

/**
 * Where CALL { ... } IN TRANSACTIONS may stand: once, in a query without UNION, with every update
 * inside it. The outer query runs in a read snapshot while each batch takes the database's single
 * writer slot for its own transaction (docs/cypher.md), so an update outside would have no
 * transaction to run in.
 */
function checkInTransactions(q: Query, a: Analyzer): void {
  const calls = q.parts.flatMap((p) => p.clauses).filter((c) => c.kind === 'CallSubquery' && c.inTransactions !== null);
  if (calls.length === 0) return;
  if (q.parts.length > 1) a.fail(calls[0]!.pos, 'CALL { ... } IN TRANSACTIONS in a UNION is not supported');
  if (calls.length > 1) a.fail(calls[1]!.pos, 'Only one CALL { ... } IN TRANSACTIONS per query is supported');
  for (const c of q.parts[0]!.clauses) {
    if (c !== calls[0] && clauseWrites(c)) {
      a.fail(c.pos, `${clauseName(c)} outside CALL { ... } IN TRANSACTIONS is not supported: the outer query only reads while each batch writes in its own transaction; move the update into the subquery`);
    }
  }
}

export function analyzeQuery(q: Query, text: string): QueryAnalysis {
  const a = new Analyzer(text);
  checkInTransactions(q, a);
  const columns = a.query(q, new Set());
  return { columns, updating: a.updating, scopeBefore: a.scopeBefore, parameters: a.parameters };
}
