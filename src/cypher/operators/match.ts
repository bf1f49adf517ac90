/**
 * MATCH and OPTIONAL MATCH as an operator: pattern matching per input row, then the WHERE filter
 * (always re-applied, even when it also drove an index seek). OPTIONAL MATCH yields the input row
 * with the new variables set to null when nothing matches.
 */
import type { GraphRead } from '../../kernel/api.js';
import type { Expr, PatternPart } from '../ast.js';
import type { ExecContext } from '../context.js';
import { evaluate } from '../evaluate.js';
import type { Operator } from './basic.js';
import { slicePause, type Flow } from '../execution-slice.js';
import { chooseAnchor, describeAnchor, matchPatternsSliced, type PropertyHint } from './pattern-match.js';

export class Match implements Operator {
  constructor(
    private readonly patterns: readonly PatternPart[],
    private readonly where: Expr | null,
    private readonly optional: boolean,
    private readonly hints: readonly PropertyHint[],
    /** Variables bound before this clause (to describe the plan without a row). */
    private readonly boundBefore: readonly string[],
    /** Variables this clause introduces (set to null by OPTIONAL MATCH on no match). */
    private readonly introduced: readonly string[],
  ) {}

  describe(graph: GraphRead): string {
    const indexed = new Set(graph.indexes().map((i) => `${i.label}\u0000${i.property}`));
    const bound = new Set(this.boundBefore);
    const parts = this.patterns.map((part) => {
      const anchor = chooseAnchor(part, { isBound: (v) => bound.has(v), hasIndex: (l, k) => indexed.has(`${l}\u0000${k}`), labelCount: (l) => graph.countNodes(l) }, this.hints);
      for (const n of part.nodes) if (n.variable) bound.add(n.variable);
      const expands = part.rels.map((r) => (r.length ? 'VarLengthExpand' : 'Expand')).join(', ');
      return describeAnchor(part, anchor) + (expands ? `, ${expands}` : '');
    });
    return `${this.optional ? 'OptionalMatch' : 'Match'}(${parts.join('; ')})${this.where ? ', Filter' : ''}`;
  }

  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      let matched = false;
      for (const out of matchPatternsSliced(this.patterns, row, ctx, this.hints)) {
        if (out === slicePause) {
          yield out;
          continue;
        }
        if (this.where && evaluate(this.where, out, ctx) !== true) continue;
        matched = true;
        yield out;
      }
      if (!matched && this.optional) {
        const out = new Map(row);
        for (const v of this.introduced) if (!out.has(v)) out.set(v, null);
        yield out;
      }
    }
  }
}
