/**
 * Updating clauses as operators: CREATE, MERGE, SET, REMOVE, DELETE / DETACH DELETE and FOREACH.
 * They run against GraphWrite, count what they change in the statement's stats, and refuse
 * values that cannot be stored as properties.
 */
import type { Expr, PatternPart, RemoveItem, SetItem } from '../ast.js';
import type { GraphWrite } from '../../kernel/api.js';
import { QuiverError } from '../../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, isPropertyValue, type Properties, type PropertyValue, type Value } from '../../values/value.js';
import { loadNode, loadRel, nodeFromRecord, relFromRecord, writerOf, type ExecContext, type Row } from '../context.js';
import { evaluate } from '../evaluate.js';
import { typeName, typeMismatch } from '../value-util.js';
import { slicePause, type Flow } from '../execution-slice.js';
import { type Operator, runPipeline } from './basic.js';
import { evaluatePartProperties, matchPatterns, type PartProperties } from './pattern-match.js';

/** A value as a property value, or null for "remove"; maps and mixed lists are refused. */
export function toStorable(v: Value, key: string): PropertyValue | null {
  if (v === null) return null;
  if (isPropertyValue(v)) {
    if (Array.isArray(v) && v.length > 1) {
      const t = typeName(v[0]!);
      const numeric = (x: Value) => typeof x === 'bigint' || typeof x === 'number';
      if (!v.every((x) => typeName(x) === t || (numeric(x) && numeric(v[0]!)))) {
        throw new QuiverError('TypeError', `Collections containing mixed types can not be stored in properties (property '${key}')`);
      }
    }
    return v;
  }
  if (Array.isArray(v) && v.some((x) => x === null)) throw new QuiverError('TypeError', `Collections containing null values can not be stored in properties (property '${key}')`);
  throw new QuiverError('TypeError', `Property values can only be of primitive types or arrays thereof. Encountered: ${typeName(v)} (property '${key}')`);
}

function propertiesFrom(e: Expr | null, row: Row, ctx: ExecContext, evaluated?: Map<string, Value> | null): Properties {
  const props: Properties = new Map();
  if (!e) return props;
  const v = evaluated !== undefined ? evaluated : evaluate(e, row, ctx);
  if (v === null) return props;
  if (!(v instanceof Map)) throw typeMismatch('a Map of properties', v);
  for (const [k, x] of v) {
    const s = toStorable(x, k);
    if (s !== null) props.set(k, s);
  }
  return props;
}

function createNode(ctx: ExecContext, labels: readonly string[], props: Properties): NodeValue {
  const id = writerOf(ctx).createNode(labels, props);
  ctx.stats.nodesCreated++;
  ctx.stats.labelsAdded += new Set(labels).size;
  ctx.stats.propertiesSet += props.size;
  return nodeFromRecord(loadNode(ctx, id));
}

/**
 * Creates the unbound parts of a pattern in `row` (mutated) and binds their variables.
 * `evaluated`: the part's property maps, already evaluated against `row`.
 */
function createPattern(part: PatternPart, row: Row, ctx: ExecContext, evaluated?: PartProperties): void {
  const nodes: NodeValue[] = part.nodes.map((n, i) => {
    const existing = n.variable ? row.get(n.variable) : undefined;
    if (existing !== undefined) {
      if (!(existing instanceof NodeValue)) throw new QuiverError('SemanticError', `Failed to create relationship, because the variable \`${n.variable}\` is ${existing === null ? 'null' : `a ${typeName(existing)}`}`);
      return existing;
    }
    const created = createNode(ctx, n.labels, propertiesFrom(n.properties, row, ctx, evaluated?.nodes[i]));
    if (n.variable) row.set(n.variable, created);
    return created;
  });
  const rels: RelationshipValue[] = part.rels.map((r, i) => {
    const [a, b] = [nodes[i]!, nodes[i + 1]!];
    const [start, end] = r.direction === 'in' ? [b, a] : [a, b];
    const props = propertiesFrom(r.properties, row, ctx, evaluated?.rels[i]);
    const id = writerOf(ctx).createRelationship(r.types[0]!, start.id, end.id, props);
    ctx.stats.relationshipsCreated++;
    ctx.stats.propertiesSet += props.size;
    const rel = relFromRecord(loadRel(ctx, id));
    if (r.variable) row.set(r.variable, rel);
    return rel;
  });
  if (part.pathVariable) row.set(part.pathVariable, new PathValue(nodes, rels));
}

export class Create implements Operator {
  constructor(private readonly patterns: readonly PatternPart[]) {}
  describe(): string {
    return 'Create';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const out = new Map(row);
      for (const part of this.patterns) createPattern(part, out, ctx);
      yield out;
    }
  }
}

export class Merge implements Operator {
  constructor(private readonly pattern: PatternPart, private readonly onCreate: readonly SetItem[], private readonly onMatch: readonly SetItem[]) {}
  describe(): string {
    return 'Merge';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const evaluated = evaluatePartProperties(this.pattern, row, ctx);
      this.checkNoNulls(row, evaluated);
      const matches = [...matchPatterns([this.pattern], row, ctx, [], [evaluated])];
      if (matches.length > 0) {
        for (const m of matches) {
          applySetItems(this.onMatch, m, ctx);
          yield m;
        }
        continue;
      }
      const out = new Map(row);
      createPattern(this.pattern, out, ctx, evaluated);
      applySetItems(this.onCreate, out, ctx);
      yield out;
    }
  }

  private checkNoNulls(row: Row, evaluated: PartProperties): void {
    for (const [maps, what] of [[evaluated.nodes, 'node'], [evaluated.rels, 'relationship']] as const) {
      for (const v of maps) {
        if (!v) continue;
        for (const [k, x] of v) {
          if (x === null) throw new QuiverError('SemanticError', `Cannot merge the following ${what} because of null property value for '${k}'`);
        }
      }
    }
    for (const n of this.pattern.nodes) {
      if (n.variable && row.has(n.variable) && row.get(n.variable) === null) {
        throw new QuiverError('SemanticError', `Failed to create relationship, because the variable \`${n.variable}\` is null`);
      }
    }
  }
}

function entityOf(v: Value, what: string): NodeValue | RelationshipValue | null {
  if (v === null) return null;
  if (v instanceof NodeValue || v instanceof RelationshipValue) return v;
  throw typeMismatch(`a Node or Relationship for ${what}`, v);
}

function setProperty(w: GraphWrite, target: NodeValue | RelationshipValue, key: string, value: PropertyValue | null): void {
  if (target instanceof NodeValue) w.setNodeProperty(target.id, key, value);
  else w.setRelationshipProperty(target.id, key, value);
}

function currentProperties(ctx: ExecContext, target: NodeValue | RelationshipValue): ReadonlyMap<string, PropertyValue> {
  return target instanceof NodeValue ? loadNode(ctx, target.id).properties : loadRel(ctx, target.id).properties;
}

export function applySetItems(items: readonly SetItem[], row: Row, ctx: ExecContext): void {
  for (const item of items) {
    const w = writerOf(ctx);
    switch (item.kind) {
      case 'SetProperty': {
        const target = entityOf(evaluate(item.target, row, ctx), 'SET');
        if (!target) break;
        const value = toStorable(evaluate(item.value, row, ctx), item.key);
        currentProperties(ctx, target); // fails on deleted entities
        setProperty(w, target, item.key, value);
        ctx.stats.propertiesSet++;
        break;
      }
      case 'SetAll': {
        const target = entityOf(row.get(item.variable) ?? null, 'SET');
        if (!target) break;
        let source = evaluate(item.value, row, ctx);
        if (source instanceof NodeValue || source instanceof RelationshipValue) source = new Map(currentProperties(ctx, source));
        if (source === null) source = new Map();
        if (!(source instanceof Map)) throw typeMismatch('a Map, Node or Relationship for SET', source);
        const before = currentProperties(ctx, target);
        if (item.merge) {
          for (const [k, v] of source) {
            setProperty(w, target, k, toStorable(v, k));
            ctx.stats.propertiesSet++;
          }
        } else {
          const props: Properties = new Map();
          for (const [k, v] of source) {
            const s = toStorable(v, k);
            if (s !== null) props.set(k, s);
          }
          if (target instanceof NodeValue) w.replaceNodeProperties(target.id, props);
          else w.replaceRelationshipProperties(target.id, props);
          ctx.stats.propertiesSet += props.size + [...before.keys()].filter((k) => !props.has(k)).length;
        }
        break;
      }
      case 'SetLabels': {
        const target = row.get(item.variable) ?? null;
        if (target === null) break;
        if (!(target instanceof NodeValue)) throw typeMismatch('a Node for SET labels', target);
        const present = loadNode(ctx, target.id).labels;
        const added = [...new Set(item.labels)].filter((l) => !present.includes(l));
        if (added.length) w.addLabels(target.id, added);
        ctx.stats.labelsAdded += added.length;
        break;
      }
    }
  }
}

export class SetClause implements Operator {
  constructor(private readonly items: readonly SetItem[]) {}
  describe(): string {
    return 'SetProperties';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      applySetItems(this.items, row, ctx);
      yield row;
    }
  }
}

export class Remove implements Operator {
  constructor(private readonly items: readonly RemoveItem[]) {}
  describe(): string {
    return 'Remove';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      for (const item of this.items) {
        const w = writerOf(ctx);
        if (item.kind === 'RemoveProperty') {
          const target = entityOf(evaluate(item.target, row, ctx), 'REMOVE');
          if (!target) continue;
          if (currentProperties(ctx, target).has(item.key)) {
            setProperty(w, target, item.key, null);
            ctx.stats.propertiesSet++;
          }
        } else {
          const target = row.get(item.variable) ?? null;
          if (target === null) continue;
          if (!(target instanceof NodeValue)) throw typeMismatch('a Node for REMOVE labels', target);
          const present = loadNode(ctx, target.id).labels;
          const removed = [...new Set(item.labels)].filter((l) => present.includes(l));
          if (removed.length) w.removeLabels(target.id, removed);
          ctx.stats.labelsRemoved += removed.length;
        }
      }
      yield row;
    }
  }
}

/**
 * DELETE consumes all its input first: relationships are deleted as they come, nodes at the end
 * of the clause, so that `MATCH (n)-[r]-() DELETE r, n` works whatever the row order.
 */
export class Delete implements Operator {
  constructor(private readonly exprs: readonly Expr[], private readonly detach: boolean) {}
  describe(): string {
    return this.detach ? 'DetachDelete' : 'Delete';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const rows: Row[] = [];
    for (const row of input) {
      if (row === slicePause) yield row;
      else rows.push(row);
    }
    const nodes: number[] = [];
    for (const row of rows) {
      if (ctx.slice.due()) yield slicePause;
      for (const e of this.exprs) {
        const v = evaluate(e, row, ctx);
        if (v === null) continue;
        if (v instanceof NodeValue) nodes.push(v.id);
        else if (v instanceof RelationshipValue) this.deleteRel(v.id, ctx);
        else if (v instanceof PathValue) {
          for (const r of v.relationships) this.deleteRel(r.id, ctx);
          for (const n of v.nodes) nodes.push(n.id);
        } else throw typeMismatch('a Node, Relationship or Path for DELETE', v);
      }
    }
    for (const id of nodes) {
      if (ctx.slice.due()) yield slicePause;
      this.deleteNode(id, ctx);
    }
    yield* rows;
  }

  private deleteRel(id: number, ctx: ExecContext): void {
    if (ctx.deletedRels.has(id) || !ctx.graph.getRelationship(id)) return;
    writerOf(ctx).deleteRelationship(id);
    ctx.deletedRels.add(id);
    ctx.stats.relationshipsDeleted++;
  }

  private deleteNode(id: number, ctx: ExecContext): void {
    if (ctx.deletedNodes.has(id) || !ctx.graph.getNode(id)) return;
    const rels = new Set<number>();
    for (const adj of ctx.graph.relationshipsOf(id, 'both')) rels.add(adj.relId);
    if (rels.size > 0 && !this.detach) {
      throw new QuiverError('NodeHasRelationships', `Cannot delete node<${id}>, because it still has relationships. To delete this node, you must first delete its relationships.`);
    }
    for (const r of rels) this.deleteRel(r, ctx);
    writerOf(ctx).deleteNode(id, this.detach);
    ctx.deletedNodes.add(id);
    ctx.stats.nodesDeleted++;
  }
}

export class Foreach implements Operator {
  constructor(private readonly variable: string, private readonly list: Expr, private readonly body: readonly Operator[]) {}
  describe(): string {
    return `Foreach(${this.variable})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const list = evaluate(this.list, row, ctx);
      if (list !== null) {
        if (!Array.isArray(list)) throw typeMismatch('a List for FOREACH', list);
        for (const item of list) {
          for (const out of runPipeline(this.body, [new Map(row).set(this.variable, item)], ctx, true)) {
            // rows are discarded (FOREACH exists for its writes); pauses go on
            if (out === slicePause) yield out;
          }
        }
      }
      yield row;
    }
  }
}
