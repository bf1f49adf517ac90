/**
 * Pattern matching against the kernel: for each pattern part pick an anchor node (bound variable,
 * index seek, index range, label scan, or all nodes), then expand relationship by relationship in
 * both directions. Relationships are unique within one MATCH; variable-length expansion never
 * reuses a relationship. Every candidate from the kernel is re-checked against the pattern.
 * The MATCH operator's matching may pause between candidates and relationships (execution-slice.ts);
 * matching inside expressions and MERGE runs to the end.
 */
import type { Expr, NodePattern, PatternPart, RelPattern } from '../ast.js';
import type { Direction, NodeRecord, RangeBounds, RelRecord } from '../../kernel/api.js';
import { QuiverError } from '../../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, isPropertyValue, type Value } from '../../values/value.js';
import { equals } from '../compare.js';
import { loadNode, loadRel, nodeFromRecord, relFromRecord, type ExecContext, type Row } from '../context.js';
import { evaluate } from '../evaluate.js';
import { slicePause, type Flow, type SlicePause } from '../execution-slice.js';
import { varLengthDepthMax } from '../limits.js';
import { typeMismatch } from '../value-util.js';

/** Predicates from WHERE that may drive an index: `v.key = expr` or range bounds on `v.key`. */
export interface PropertyHint {
  variable: string;
  key: string;
  eq?: Expr;
  lower?: { expr: Expr; inclusive: boolean };
  upper?: { expr: Expr; inclusive: boolean };
}

/** The hint key for `id(n) = x` / `elementId(n) = x` (a NUL cannot start a property key in a query). */
export const idHintKey = '\u0000id';

export type AnchorSource =
  | { kind: 'bound' }
  | { kind: 'byId'; value: Expr }
  | { kind: 'seek'; label: string; key: string; value: Expr }
  | { kind: 'range'; label: string; key: string; hint: PropertyHint }
  | { kind: 'labelScan'; label: string }
  | { kind: 'allNodes' };

export interface Anchor {
  index: number;
  source: AnchorSource;
}

export interface AnchorEnvironment {
  isBound(variable: string): boolean;
  hasIndex(label: string, key: string): boolean;
  labelCount(label: string): number;
}

/** Picks where a part starts: bound node, then index seek, then index range, then the smallest label. */
export function chooseAnchor(part: PatternPart, env: AnchorEnvironment, hints: readonly PropertyHint[]): Anchor {
  const nodes = part.nodes;
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.variable && env.isBound(nodes[i]!.variable!)) return { index: i, source: { kind: 'bound' } };
  for (let i = 0; i < nodes.length; i++) {
    const h = hints.find((x) => x.key === idHintKey && x.variable === nodes[i]!.variable && x.eq);
    if (h) return { index: i, source: { kind: 'byId', value: h.eq! } };
  }
  if (part.shortest) return { index: 0, source: nodes[0]!.labels.length ? { kind: 'labelScan', label: nodes[0]!.labels[0]! } : { kind: 'allNodes' } };
  let best: Anchor | null = null;
  let bestCount = Infinity;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.labelMode !== 'all' || n.labels.length === 0) continue;
    for (const label of n.labels) {
      if (n.properties?.kind === 'MapLit') {
        for (const [key, value] of n.properties.entries) if (env.hasIndex(label, key)) return { index: i, source: { kind: 'seek', label, key, value } };
      }
      for (const h of hints) {
        if (h.key === idHintKey || h.variable !== n.variable || !env.hasIndex(label, h.key)) continue;
        if (h.eq) return { index: i, source: { kind: 'seek', label, key: h.key, value: h.eq } };
        if (!best || best.source.kind !== 'range') best = { index: i, source: { kind: 'range', label, key: h.key, hint: h } };
      }
      if (best?.source.kind === 'range') continue;
      const count = env.labelCount(label);
      if (count < bestCount) {
        bestCount = count;
        best = { index: i, source: { kind: 'labelScan', label } };
      }
    }
  }
  return best ?? { index: 0, source: { kind: 'allNodes' } };
}

export function describeAnchor(part: PatternPart, a: Anchor): string {
  const v = part.nodes[a.index]!.variable ?? `anon_${a.index}`;
  switch (a.source.kind) {
    case 'bound': return `Argument(${v})`;
    case 'byId': return `NodeByIdSeek(${v})`;
    case 'seek': return `NodeIndexSeek(${v}:${a.source.label} {${a.source.key}})`;
    case 'range': return `NodeIndexSeekByRange(${v}:${a.source.label}.${a.source.key})`;
    case 'labelScan': return `NodeByLabelScan(${v}:${a.source.label})`;
    case 'allNodes': return `AllNodesScan(${v})`;
  }
}

/** Schema facts read once per statement: they only steer the anchor choice, results never depend on them. */
const statementSchema = new WeakMap<ExecContext, { indexed: Set<string>; labelCounts: Map<string, number> }>();

export function runtimeEnvironment(row: Row, ctx: ExecContext): AnchorEnvironment {
  let schema = statementSchema.get(ctx);
  if (!schema) {
    schema = { indexed: new Set(ctx.graph.indexes().map((i) => `${i.label}\u0000${i.property}`)), labelCounts: new Map() };
    statementSchema.set(ctx, schema);
  }
  const { indexed, labelCounts } = schema;
  return {
    isBound: (v) => row.has(v),
    hasIndex: (label, key) => indexed.has(`${label}\u0000${key}`),
    labelCount: (label) => {
      let n = labelCounts.get(label);
      if (n === undefined) labelCounts.set(label, (n = ctx.graph.countNodes(label)));
      return n;
    },
  };
}

/**
 * The property maps of one part's nodes and relationships, evaluated (null: the element has none).
 * A caller that needs them too (MERGE checks them for nulls and creates with them) evaluates once.
 */
export interface PartProperties {
  nodes: (Map<string, Value> | null)[];
  rels: (Map<string, Value> | null)[];
}

/** Evaluates the property maps of `part` against `row`. */
export function evaluatePartProperties(part: PatternPart, row: Row, ctx: ExecContext): PartProperties {
  return {
    nodes: part.nodes.map((n) => (n.properties ? asPropertyMap(evaluate(n.properties, row, ctx), 'node') : null)),
    rels: part.rels.map((r) => (r.properties ? asPropertyMap(evaluate(r.properties, row, ctx), 'relationship') : null)),
  };
}

/**
 * All extensions of `row` matching every part (relationship-unique across parts). Lazy; never
 * pauses. `evaluated` gives the parts' property maps already evaluated against `row`.
 */
export function matchPatterns(parts: readonly PatternPart[], row: Row, ctx: ExecContext, hints: readonly PropertyHint[] = [], evaluated?: readonly PartProperties[]): Generator<Row> {
  // Without pausing no slicePause is ever yielded.
  return matchFlow(parts, row, ctx, hints, false, evaluated) as Generator<Row>;
}

/** Like matchPatterns, with pauses between candidates when the statement's slice is used up. */
export function matchPatternsSliced(parts: readonly PatternPart[], row: Row, ctx: ExecContext, hints: readonly PropertyHint[] = []): Generator<Flow> {
  return matchFlow(parts, row, ctx, hints, true);
}

function* matchFlow(parts: readonly PatternPart[], row: Row, ctx: ExecContext, hints: readonly PropertyHint[], pausable: boolean, evaluated?: readonly PartProperties[]): Generator<Flow> {
  const env = runtimeEnvironment(row, ctx);
  const working = new Map(row);
  const used = new Set<number>();
  yield* matchFrom(0);

  function* matchFrom(partIndex: number): Generator<Flow> {
    if (partIndex === parts.length) {
      yield new Map(working);
      return;
    }
    const part = parts[partIndex]!;
    const anchor = chooseAnchor(part, { ...env, isBound: (v) => working.has(v) }, hints);
    for (const step of new PartMatcher(part, anchor, working, used, ctx, pausable, evaluated?.[partIndex]).run()) {
      if (step === slicePause) yield step;
      else yield* matchFrom(partIndex + 1);
    }
  }
}

/** What a part matcher yields: `undefined` once per match, or a pause to pass on. */
type MatchStep = undefined | SlicePause;

function relDirection(p: RelPattern, reversed: boolean): Direction {
  if (p.direction === 'both') return 'both';
  if (!reversed) return p.direction;
  return p.direction === 'out' ? 'in' : 'out';
}

function asPropertyMap(v: Value, what: string): Map<string, Value> {
  if (v instanceof Map) return v;
  if (v === null) return new Map();
  throw typeMismatch(`a Map for ${what} properties`, v);
}

/** Matches one part into `working` (mutating it, undoing on backtrack); yields once per match. */
class PartMatcher {
  private readonly nodeIds: (number | undefined)[];
  private readonly relIds: number[][];
  private readonly nodeProps: (Map<string, Value> | null)[];
  private readonly relProps: (Map<string, Value> | null)[];

  constructor(
    private readonly part: PatternPart,
    private readonly anchor: Anchor,
    private readonly working: Row,
    private readonly used: Set<number>,
    private readonly ctx: ExecContext,
    private readonly pausable: boolean,
    evaluated?: PartProperties,
  ) {
    this.nodeIds = new Array(part.nodes.length).fill(undefined);
    this.relIds = part.rels.map(() => []);
    const props = evaluated ?? evaluatePartProperties(part, working, ctx);
    this.nodeProps = props.nodes;
    this.relProps = props.rels;
  }

  /** Whether to pause now: only where every frame above can pass a pause on. */
  private pauseDue(): boolean {
    return this.pausable && this.ctx.slice.due();
  }

  *run(): Generator<MatchStep> {
    for (const id of this.anchorCandidates()) {
      if (this.pauseDue()) yield slicePause;
      yield* this.visitNode(this.anchor.index, id, () => this.expandStep(0));
    }
  }

  private steps(): { rel: number; from: number; to: number; reversed: boolean }[] {
    const s: { rel: number; from: number; to: number; reversed: boolean }[] = [];
    for (let i = this.anchor.index; i < this.part.rels.length; i++) s.push({ rel: i, from: i, to: i + 1, reversed: false });
    for (let i = this.anchor.index - 1; i >= 0; i--) s.push({ rel: i, from: i + 1, to: i, reversed: true });
    return s;
  }

  private cachedSteps: ReturnType<PartMatcher['steps']> | null = null;

  private *anchorCandidates(): Iterable<number> {
    const node = this.part.nodes[this.anchor.index]!;
    const src = this.anchor.source;
    const graph = this.ctx.graph;
    switch (src.kind) {
      case 'bound': {
        const v = this.working.get(node.variable!) ?? null;
        if (v === null) return;
        if (!(v instanceof NodeValue)) throw typeMismatch(`Node for variable \`${node.variable}\``, v);
        yield v.id;
        return;
      }
      case 'byId': {
        const value = evaluate(src.value, this.working, this.ctx);
        const id = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
        if (Number.isSafeInteger(id) && id >= 0) yield id;
        return;
      }
      case 'seek': {
        const value = evaluate(src.value, this.working, this.ctx);
        if (value === null) return;
        const ids = isPropertyValue(value) ? graph.indexSeek(src.label, src.key, value) : undefined;
        yield* ids ?? graph.nodeIdsByLabel(src.label);
        return;
      }
      case 'range': {
        const bounds: RangeBounds = {};
        const h = src.hint;
        for (const side of ['lower', 'upper'] as const) {
          const b = h[side];
          if (!b) continue;
          const v = evaluate(b.expr, this.working, this.ctx);
          if (v === null) return; // comparison with null is never true
          if (!isPropertyValue(v) || Array.isArray(v)) {
            yield* graph.nodeIdsByLabel(src.label);
            return;
          }
          bounds[side] = { value: v, inclusive: b.inclusive };
        }
        yield* graph.indexRange(src.label, src.key, bounds) ?? graph.nodeIdsByLabel(src.label);
        return;
      }
      case 'labelScan':
        yield* graph.nodeIdsByLabel(src.label);
        return;
      case 'allNodes':
        yield* graph.allNodeIds();
        return;
    }
  }

  /** Binds pattern node `index` to node `id` if it fits, runs `k`, then undoes the binding. */
  private *visitNode(index: number, id: number, k: () => Generator<MatchStep>): Generator<MatchStep> {
    const pattern = this.part.nodes[index]!;
    const previous = this.nodeIds[index];
    if (previous !== undefined && previous !== id) return;
    const variable = pattern.variable;
    let boundHere = false;
    if (variable) {
      const existing = this.working.get(variable);
      if (existing !== undefined) {
        if (existing === null) return;
        if (!(existing instanceof NodeValue)) throw typeMismatch(`Node for variable \`${variable}\``, existing);
        if (existing.id !== id) return;
        if (!this.nodeFits(pattern, index, loadNode(this.ctx, id))) return;
      } else {
        const rec = this.ctx.graph.getNode(id);
        if (!rec || !this.nodeFits(pattern, index, rec)) return;
        this.working.set(variable, nodeFromRecord(rec));
        boundHere = true;
      }
    } else {
      const rec = this.ctx.graph.getNode(id);
      if (!rec || !this.nodeFits(pattern, index, rec)) return;
    }
    this.nodeIds[index] = id;
    try {
      yield* k();
    } finally {
      this.nodeIds[index] = previous;
      if (boundHere) this.working.delete(variable!);
    }
  }

  private nodeFits(p: NodePattern, index: number, rec: NodeRecord): boolean {
    if (p.labels.length) {
      if (p.labelMode === 'all' ? !p.labels.every((l) => rec.labels.includes(l)) : !p.labels.some((l) => rec.labels.includes(l))) return false;
    }
    return propsFit(this.nodeProps[index]!, rec.properties);
  }

  private *expandStep(stepIndex: number): Generator<MatchStep> {
    const steps = (this.cachedSteps ??= this.steps());
    if (stepIndex === steps.length) {
      yield* this.finishPart();
      return;
    }
    const step = steps[stepIndex]!;
    const relPattern = this.part.rels[step.rel]!;
    const fromId = this.nodeIds[step.from]!;
    const next = () => this.expandStep(stepIndex + 1);
    if (relPattern.length || this.part.shortest) yield* this.expandVariable(step, relPattern, fromId, next);
    else yield* this.expandSingle(step, relPattern, fromId, next);
  }

  private *expandSingle(step: { rel: number; from: number; to: number; reversed: boolean }, p: RelPattern, fromId: number, k: () => Generator<MatchStep>): Generator<MatchStep> {
    const dir = relDirection(p, step.reversed);
    const boundRel = p.variable ? this.working.get(p.variable) : undefined;
    const seen = dir === 'both' ? new Set<number>() : null;
    for (const adj of this.ctx.graph.relationshipsOf(fromId, dir, p.types)) {
      if (this.pauseDue()) yield slicePause;
      if (this.used.has(adj.relId)) continue;
      if (seen) {
        if (seen.has(adj.relId)) continue;
        seen.add(adj.relId);
      }
      if (boundRel !== undefined) {
        if (boundRel === null || !(boundRel instanceof RelationshipValue) || boundRel.id !== adj.relId) continue;
      }
      let relValue: RelationshipValue | null = null;
      if (this.relProps[step.rel] || (p.variable && boundRel === undefined)) {
        const rec = this.ctx.graph.getRelationship(adj.relId);
        if (!rec || !propsFit(this.relProps[step.rel]!, rec.properties)) continue;
        relValue = relFromRecord(rec);
      }
      this.used.add(adj.relId);
      this.relIds[step.rel] = [adj.relId];
      if (relValue && p.variable && boundRel === undefined) this.working.set(p.variable, relValue);
      try {
        yield* this.visitNode(step.to, adj.otherId, k);
      } finally {
        this.used.delete(adj.relId);
        this.relIds[step.rel] = [];
        if (relValue && p.variable && boundRel === undefined) this.working.delete(p.variable);
      }
    }
  }

  private *expandVariable(step: { rel: number; from: number; to: number; reversed: boolean }, p: RelPattern, fromId: number, k: () => Generator<MatchStep>): Generator<MatchStep> {
    const bound = p.variable ? this.working.get(p.variable) : undefined;
    if (bound !== undefined && !this.part.shortest) {
      yield* this.followBound(step, p, fromId, bound, k);
      return;
    }
    const dir = relDirection(p, step.reversed);
    const min = p.length?.min ?? 1;
    const max = Math.min(p.length ? (p.length.max ?? varLengthDepthMax) : 1, varLengthDepthMax);
    const props = this.relProps[step.rel];
    const path: number[] = [];
    const self = this;
    let found = false;

    function* bindAndContinue(targetId: number): Generator<MatchStep> {
      const ids = step.reversed ? [...path].reverse() : [...path];
      const value: Value = ids.map((id) => relFromRecord(loadRel(self.ctx, id)));
      self.relIds[step.rel] = ids;
      const variable = p.variable;
      const existing = variable ? self.working.get(variable) : undefined;
      if (variable && existing !== undefined && equals(existing, value) !== true) return;
      if (variable && existing === undefined) self.working.set(variable, value);
      try {
        for (const s of self.visitNode(step.to, targetId, k)) {
          if (s !== slicePause) found = true;
          yield s;
        }
      } finally {
        self.relIds[step.rel] = [];
        if (variable && existing === undefined) self.working.delete(variable);
      }
    }

    function* dfs(nodeId: number, depth: number, exactDepth: number | null): Generator<MatchStep> {
      if (depth >= min && (exactDepth === null || depth === exactDepth)) yield* bindAndContinue(nodeId);
      if (depth >= max || (exactDepth !== null && depth >= exactDepth)) return;
      const seen = dir === 'both' ? new Set<number>() : null;
      for (const adj of self.ctx.graph.relationshipsOf(nodeId, dir, p.types)) {
        if (self.pauseDue()) yield slicePause;
        if (self.used.has(adj.relId)) continue;
        if (seen) {
          if (seen.has(adj.relId)) continue;
          seen.add(adj.relId);
        }
        if (props) {
          const rec = self.ctx.graph.getRelationship(adj.relId);
          if (!rec || !propsFit(props, rec.properties)) continue;
        }
        self.used.add(adj.relId);
        path.push(adj.relId);
        try {
          yield* dfs(adj.otherId, depth + 1, exactDepth);
        } finally {
          path.pop();
          self.used.delete(adj.relId);
        }
      }
    }

    if (!this.part.shortest) {
      yield* dfs(fromId, 0, null);
      return;
    }
    // shortestPath: iterative deepening, stopping at the first depth that matches.
    for (let depth = min; depth <= max; depth++) {
      found = false;
      for (const s of dfs(fromId, 0, depth)) {
        yield s;
        if (s !== slicePause && this.part.shortest === 'shortestPath') return;
      }
      if (found) return;
      if (depth > 0 && !this.reachable(fromId, dir, p.types, depth)) return;
    }
  }

  /**
   * `[rs*]` with `rs` already bound to a list of relationships: the one walk along exactly those
   * relationships, in the list's order, if each one fits the pattern (types, properties,
   * direction, length bounds) and is not used elsewhere in the MATCH.
   */
  private *followBound(step: { rel: number; from: number; to: number; reversed: boolean }, p: RelPattern, fromId: number, bound: Value, k: () => Generator<MatchStep>): Generator<MatchStep> {
    if (!Array.isArray(bound) || !bound.every((r) => r instanceof RelationshipValue)) return;
    const ids = (bound as RelationshipValue[]).map((r) => r.id);
    const min = p.length?.min ?? 1;
    const max = p.length?.max ?? Infinity;
    if (ids.length < min || ids.length > max || new Set(ids).size !== ids.length) return;
    const dir = relDirection(p, step.reversed);
    const props = this.relProps[step.rel];
    let current = fromId;
    for (const id of step.reversed ? [...ids].reverse() : ids) {
      const rec = this.ctx.graph.getRelationship(id);
      if (!rec || this.used.has(id) || (p.types.length > 0 && !p.types.includes(rec.type))) return;
      if (props && !propsFit(props, rec.properties)) return;
      if ((dir === 'out' || dir === 'both') && rec.startId === current) current = rec.endId;
      else if ((dir === 'in' || dir === 'both') && rec.endId === current) current = rec.startId;
      else return;
    }
    for (const id of ids) this.used.add(id);
    this.relIds[step.rel] = ids;
    try {
      yield* this.visitNode(step.to, current, k);
    } finally {
      this.relIds[step.rel] = [];
      for (const id of ids) this.used.delete(id);
    }
  }

  /** Whether any walk of `depth` hops exists (stops the deepening on finite components). */
  private reachable(fromId: number, dir: Direction, types: readonly string[], depth: number): boolean {
    let frontier = new Set([fromId]);
    const visited = new Set([fromId]);
    for (let d = 0; d < depth && frontier.size; d++) {
      const next = new Set<number>();
      for (const id of frontier) for (const adj of this.ctx.graph.relationshipsOf(id, dir, types)) if (!visited.has(adj.otherId)) (next.add(adj.otherId), visited.add(adj.otherId));
      frontier = next;
    }
    return frontier.size > 0;
  }

  private *finishPart(): Generator<MatchStep> {
    const pv = this.part.pathVariable;
    if (!pv) {
      yield;
      return;
    }
    const nodes: NodeValue[] = [nodeFromRecord(loadNode(this.ctx, this.nodeIds[0]!))];
    const rels: RelationshipValue[] = [];
    let current = this.nodeIds[0]!;
    for (let i = 0; i < this.part.rels.length; i++) {
      for (const relId of this.relIds[i]!) {
        const rec: RelRecord = loadRel(this.ctx, relId);
        rels.push(relFromRecord(rec));
        current = rec.startId === current ? rec.endId : rec.startId;
        nodes.push(nodeFromRecord(loadNode(this.ctx, current)));
      }
    }
    if (this.working.has(pv)) throw new QuiverError('SemanticError', `Variable \`${pv}\` already declared`);
    this.working.set(pv, new PathValue(nodes, rels));
    try {
      yield;
    } finally {
      this.working.delete(pv);
    }
  }
}

function propsFit(expected: Map<string, Value> | null, actual: Map<string, Value> | ReadonlyMap<string, unknown>): boolean {
  if (!expected) return true;
  for (const [k, v] of expected) {
    const a = actual.get(k) as Value | undefined;
    if (a === undefined || equals(a, v) !== true) return false;
  }
  return true;
}
